"""The paper's evaluation protocol: environment splits, standardisation, max test MSE."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

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
    train_envs : iterable
        Training environment labels.
    columns : sequence
        Columns to standardise (the response and the covariates).
    env_col : hashable, default "E"
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
    train_envs = list(train_envs)
    is_train = data[env_col].isin(train_envs)
    if not is_train.any():
        raise ValueError("`train_envs` matches no rows of `data`.")
    if test_envs is None:
        test_envs = [e for e in pd.unique(data[env_col]) if e not in set(train_envs)]
    cols = list(columns)

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

    Examples
    --------
    >>> te = [pd.DataFrame({"Y": [0.0, 1.0]}), pd.DataFrame({"Y": [2.0, 2.0]})]
    >>> max_test_mse(lambda d: np.zeros(len(d)), te)
    4.0
    """
    return float(max(np.mean((t[target].to_numpy() - predict(t)) ** 2) for t in tests))
