"""The paper's evaluation protocol: environment splits, standardisation, max test MSE."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from causalminimax._door import check_frame, node_list

__all__ = ["max_test_mse", "standardize_split"]


def standardize_split(
    data: pd.DataFrame,
    train_envs: Iterable[Any],
    columns: Sequence[Hashable],
    env_col: Hashable = "E",
    test_envs: Iterable[Any] | None = None,
) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """Split by environment and standardise as in the paper.

    The training rows (pooled over ``train_envs``) are standardised with the pooled training
    means and standard deviations; each test environment is standardised with its own.

    Parameters
    ----------
    data : pandas.DataFrame
        All rows, with an environment column.
    train_envs : iterable
        Training environment labels.
    columns : sequence
        Columns to standardise (the response and the covariates).
    env_col : hashable, default "E"
        Name of the environment column.
    test_envs : iterable, optional
        Test environments; default all others.

    Returns
    -------
    (pandas.DataFrame, list of pandas.DataFrame)
        Standardised training data and one standardised frame per test environment.

    Examples
    --------
    >>> df = pd.DataFrame({"E": [1, 1, 2, 2, 3, 3], "Y": [0.0, 2.0, 1.0, 3.0, 5.0, 9.0]})
    >>> tr, te = standardize_split(df, [1, 2], ["Y"])
    >>> tr["Y"].round(3).tolist(), te[0]["Y"].tolist()
    ([-1.342, 0.447, -0.447, 1.342], [-1.0, 1.0])
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"`data` must be a pandas DataFrame; got {type(data).__name__}.")
    if env_col not in data.columns:
        raise ValueError(f"`env_col` {env_col!r} is not a column of `data`.")
    train_envs = _labels(train_envs, "train_envs")
    is_train = data[env_col].isin(train_envs)
    if not is_train.any():
        raise ValueError("`train_envs` matches no rows of `data`.")
    if test_envs is None:
        test_envs = [e for e in pd.unique(data[env_col]) if e not in set(train_envs)]
    else:
        test_envs = _labels(test_envs, "test_envs")
        both = [e for e in test_envs if e in set(train_envs)]
        if both:
            raise ValueError(
                f"`test_envs` {both} are also training environments; a test environment must "
                "be unseen in training."
            )
        absent = [e for e in test_envs if not (data[env_col] == e).any()]
        if absent:
            raise ValueError(f"`test_envs` {absent} match no rows of `data`.")
    cols = [columns] if isinstance(columns, str) else list(columns)
    if env_col in cols:
        raise ValueError(f"`columns` contains the environment column {env_col!r}.")
    check_frame(data, cols, name="data", what="columns")

    def std(frame: pd.DataFrame, ref: pd.DataFrame) -> pd.DataFrame:
        out = frame.copy()
        sd = ref[cols].std(ddof=0).replace(0.0, 1.0)
        out[cols] = (frame[cols] - ref[cols].mean()) / sd
        return out

    train = data.loc[is_train]
    tests = []
    for e in test_envs:
        te = data.loc[data[env_col] == e]
        tests.append(std(te, te))
    return std(train, train).reset_index(drop=True), [t.reset_index(drop=True) for t in tests]


def max_test_mse(
    predict: Callable[[pd.DataFrame], np.ndarray],
    tests: Sequence[pd.DataFrame],
    target: Hashable = "Y",
) -> float:
    """Largest mean squared error of ``predict`` over the test environments.

    Parameters
    ----------
    predict : callable
        ``predict(frame) -> array`` of one finite prediction per row (e.g. ``est.predict``).
        Called once, on the test environments stacked in order (row ``i`` of the result
        must depend on row ``i`` of the frame only, as for every fitted predictor).
    tests : sequence of pandas.DataFrame, or a DataFrame
        One frame per test environment, each holding ``target`` and the predictors.
    target : hashable, default "Y"
        The response column.

    Returns
    -------
    float
        ``max_k mean((y_k - predict(tests[k]))**2)``.

    Examples
    --------
    >>> te = [pd.DataFrame({"Y": [0.0, 1.0]}), pd.DataFrame({"Y": [2.0, 2.0]})]
    >>> max_test_mse(lambda d: np.zeros(len(d)), te)
    4.0
    """
    if not callable(predict):
        raise TypeError(f"`predict` must be callable (e.g. est.predict); got {predict!r}.")
    if isinstance(tests, pd.DataFrame):
        tests = [tests]
    tests = list(tests)
    if not tests:
        raise ValueError("`tests` is empty: pass at least one test environment's DataFrame.")
    ys = []
    for k, t in enumerate(tests):
        if not isinstance(t, pd.DataFrame):
            raise TypeError(f"`tests[{k}]` must be a pandas DataFrame; got {type(t).__name__}.")
        ys.append(check_frame(t, [target], name=f"tests[{k}]", what="target column")[target])
    # one prediction on the stacked environments (per-call overhead dominates small frames)
    stacked = tests[0] if len(tests) == 1 else pd.concat(tests, ignore_index=True)
    pred = np.asarray(predict(stacked), dtype=float).ravel()
    if pred.shape != (len(stacked),):
        raise ValueError(
            f"`predict` returned {pred.size} values for the {len(stacked)} rows of the "
            f"{len(tests)} test environments."
        )
    if not np.all(np.isfinite(pred)):
        raise ValueError("`predict` returned non-finite predictions on the test environments.")
    parts = np.split(pred, np.cumsum([len(t) for t in tests])[:-1])
    return max(float(np.mean((y.to_numpy() - p) ** 2)) for y, p in zip(ys, parts, strict=True))


def _labels(values: Any, name: str) -> list[Any]:
    """Environment labels: a single label (string or scalar) or an iterable of them."""
    out = node_list(values)
    if not out:
        raise ValueError(f"`{name}` is empty.")
    return out
