"""The paper's evaluation protocol: environment splits, standardisation, max test MSE."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from causalminimax._door import check_frame, node_list
from causalminimax._estimator import CausalMinimaxRegressor
from causalminimax._risk import _residue_sd, predict_from

__all__ = ["in_raw_units", "max_test_mse", "standardize_split", "subset_max_test_mse"]


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
    if data[env_col].isna().any():
        raise ValueError(
            f"`data`'s environment column {env_col!r} has missing labels (NaN/None); give every "
            "row an environment or drop those rows."
        )
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
    cols = _columns(columns)
    if env_col in cols:
        raise ValueError(f"`columns` contains the environment column {env_col!r}.")
    check_frame(data, cols, name="data", what="columns")

    def std(frame: pd.DataFrame, ref: pd.DataFrame) -> pd.DataFrame:
        out = frame.copy()
        mean, sd = _moments(ref, cols)
        out[cols] = (frame[cols] - mean) / sd
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
    tests, ys = _test_frames(tests, target)
    # one prediction on the stacked environments (per-call overhead dominates small frames)
    stacked = tests[0] if len(tests) == 1 else pd.concat(tests, ignore_index=True)
    return _worst_mse(predict(stacked), ys, tests)


def subset_max_test_mse(
    est: Any, tests: Sequence[pd.DataFrame], target: Hashable | None = None
) -> pd.Series:
    """Maximum test MSE of the stable predictor of every searched representative.

    The value for a subset ``s`` equals ``max_test_mse(lambda d: est.predict_subset(d, s),
    tests, est.graph_.target)`` (the same predictions, to the last digit); the test
    environments are checked and stacked once for all subsets instead of once per subset.

    Parameters
    ----------
    est : CausalMinimaxRegressor
        A fitted estimator.
    tests : sequence of pandas.DataFrame, or a DataFrame
        As in :func:`max_test_mse`; they hold the stable and mutable variables.
    target : hashable, optional
        The response column: the fitted target ``est.graph_.target`` (the default); another
        column is refused.

    Returns
    -------
    pandas.Series
        Indexed like ``est.worst_case_risk_`` (one value per representative).

    Examples
    --------
    >>> from causalminimax import CausalMinimaxRegressor, InterventionModel
    >>> from causalminimax.datasets import simulate_paper, simulation_graph
    >>> df = simulate_paper(n_per_env=30, environments=range(1, 7), rng=0)
    >>> tr, te = standardize_split(df, [1, 2, 3, 4], ["Y", *df.columns.drop(["Y", "E"])])
    >>> est = CausalMinimaxRegressor(graph=simulation_graph(), n_do_samples=300,
    ...     intervention_model=InterventionModel(n_restarts=1, n_iter=1, n_eval=50),
    ...     random_state=0).fit(tr.drop(columns=["Y", "E"]), tr["Y"], environment=tr["E"])
    >>> obs = subset_max_test_mse(est, te)
    >>> s = est.selected_subset_
    >>> bool(obs[s] == max_test_mse(lambda d: est.predict_subset(d, s), te))
    True
    """
    if not isinstance(est, CausalMinimaxRegressor):
        raise TypeError(
            f"`est` must be a fitted CausalMinimaxRegressor; got {type(est).__name__} (for "
            "another predictor use max_test_mse(est.predict, tests))."
        )
    check_is_fitted(est, "stable_predictors_")
    fitted = est.graph_.target
    if target is None:
        target = fitted
    elif target != fitted:
        raise ValueError(
            f"`target` {target!r} is not the target {fitted!r} that `est` was fitted to predict; "
            "omit `target` (or pass that column)."
        )
    tests, ys = _test_frames(tests, target)
    mutable = tuple(est.graph_.mutable)
    needed = list(dict.fromkeys(c for s in est.representatives_ for c in (*s, *mutable)))
    # each environment checked on its own (a column missing from one of them is named there)
    arr = np.vstack(
        [
            check_frame(
                t, needed, name=f"tests[{k}]", what="stable and mutable variables"
            ).to_numpy(dtype=float)
            for k, t in enumerate(tests)
        ]
    )
    values = {c: arr[:, j] for j, c in enumerate(needed)}
    out = [
        _worst_mse(
            predict_from(est.stable_predictors_[s], values, s + mutable, len(arr)), ys, tests
        )
        for s in est.representatives_
    ]
    return pd.Series(out, index=est.worst_case_risk_.index, name="max_test_mse")


def in_raw_units(
    predict: Callable[[pd.DataFrame], np.ndarray],
    reference: pd.DataFrame,
    columns: Sequence[Hashable],
    target: Hashable = "Y",
) -> Callable[[pd.DataFrame], np.ndarray]:
    """A predictor fitted on standardised training data, as a predictor in raw units.

    ``predict`` was fitted on the training rows standardised with their pooled means and
    standard deviations (the training frame of :func:`standardize_split`); the returned
    function standardises the covariates of a raw frame with those same statistics of
    ``reference`` (the raw training rows), predicts and maps the prediction back to the raw
    units of ``target``. For a method whose fit is equivariant under this affine change of
    units (all of this package's estimators are, with their default models; not an
    intervention model with ``standardize=True``, which scores z-scored samples and so expects
    standardised training data), this is the method fitted on the raw training rows, to
    rounding.

    Parameters
    ----------
    predict : callable
        ``predict(frame) -> array`` of a model fitted on the standardised training rows.
    reference : pandas.DataFrame
        The raw training rows (the rows :func:`standardize_split` standardised).
    columns : sequence
        The standardised columns (the response and the covariates), as passed to
        :func:`standardize_split`.
    target : hashable, default "Y"
        The response, one of ``columns``.

    Returns
    -------
    callable
        ``raw_predict(frame) -> ndarray`` on raw frames holding the covariates ``predict``
        reads.

    Examples
    --------
    >>> df = pd.DataFrame({"E": [1, 1, 2, 2], "x": [0.0, 2, 4, 6], "Y": [1.0, 5, 9, 13]})
    >>> tr, _ = standardize_split(df, [1, 2], ["Y", "x"])
    >>> slope = float((tr["Y"] @ tr["x"]) / (tr["x"] @ tr["x"]))  # OLS in standardised units
    >>> raw = in_raw_units(lambda d: slope * d["x"].to_numpy(), df, ["Y", "x"])
    >>> raw(pd.DataFrame({"x": [1.0, 10.0]})).round(6).tolist()
    [3.0, 21.0]
    """
    if not callable(predict):
        raise TypeError(f"`predict` must be callable (e.g. est.predict); got {predict!r}.")
    if not isinstance(reference, pd.DataFrame):
        raise TypeError(f"`reference` must be a pandas DataFrame; got {type(reference).__name__}.")
    cols = _columns(columns)
    if target not in cols:
        raise ValueError(f"`target` {target!r} is not one of `columns` {cols}.")
    ref = check_frame(reference, cols, name="reference", what="columns")
    if len(ref) == 0:
        raise ValueError("`reference` has no rows: pass the raw training rows.")
    mean, sd = _moments(ref, cols)
    features = [c for c in cols if c != target]

    def raw_predict(frame: pd.DataFrame) -> np.ndarray:
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(
                f"`frame` must be a pandas DataFrame of raw rows; got {type(frame).__name__}."
            )
        present = [c for c in features if c in frame.columns]
        z = frame.copy()
        x = check_frame(frame, present, name="frame", what="covariates")
        z[present] = (x - mean[present]) / sd[present]
        pred = _as_predictions(predict(z))
        if pred.shape != (len(frame),):
            raise ValueError(
                f"`predict` returned an array of shape {pred.shape} for the {len(frame)} rows "
                "of `frame`; it must return one prediction per row."
            )
        if not np.all(np.isfinite(pred)):
            raise ValueError("`predict` returned non-finite predictions on `frame`.")
        return mean[target] + sd[target] * pred

    return raw_predict


def _moments(ref: pd.DataFrame, cols: list[Any]) -> tuple[pd.Series, pd.Series]:
    """Means and standard deviations (ddof 0; a constant column's is taken as 1, also when
    rounding leaves it a residue: :func:`causalminimax._risk._residue_sd`)."""
    sd = ref[cols].std(ddof=0)
    return ref[cols].mean(), sd.mask(_residue_sd(sd, ref[cols].abs().max()), 1.0)


def _test_frames(tests: Any, target: Hashable) -> tuple[list[pd.DataFrame], list[pd.Series]]:
    """The checked test frames and their responses."""
    if isinstance(tests, pd.DataFrame):
        tests = [tests]
    if isinstance(tests, str | bytes) or not isinstance(tests, Iterable):
        raise TypeError(
            "`tests` must be a DataFrame or a sequence of DataFrames (one per test "
            f"environment); got {type(tests).__name__}."
        )
    tests = list(tests)
    if not tests:
        raise ValueError("`tests` is empty: pass at least one test environment's DataFrame.")
    ys = []
    for k, t in enumerate(tests):
        if not isinstance(t, pd.DataFrame):
            raise TypeError(f"`tests[{k}]` must be a pandas DataFrame; got {type(t).__name__}.")
        if len(t) == 0:
            raise ValueError(f"`tests[{k}]` has no rows: drop empty test environments.")
        ys.append(check_frame(t, [target], name=f"tests[{k}]", what="target column")[target])
    return tests, ys


def _as_predictions(prediction: Any) -> np.ndarray:
    """``predict``'s output as a float array (an error naming ``predict`` if it is not numeric)."""
    try:
        return np.asarray(prediction, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            "`predict` must return numeric predictions (one float per row); got values that "
            f"are not numbers ({exc})."
        ) from None


def _worst_mse(prediction: Any, ys: list[pd.Series], tests: list[pd.DataFrame]) -> float:
    """Largest per-environment mean squared error of the stacked ``prediction``."""
    pred = _as_predictions(prediction).ravel()
    n = sum(len(t) for t in tests)
    if pred.shape != (n,):
        raise ValueError(
            f"`predict` returned {pred.size} values for the {n} rows of the "
            f"{len(tests)} test environments."
        )
    if not np.all(np.isfinite(pred)):
        raise ValueError("`predict` returned non-finite predictions on the test environments.")
    parts = np.split(pred, np.cumsum([len(t) for t in tests])[:-1])
    return max(float(np.mean((y.to_numpy() - p) ** 2)) for y, p in zip(ys, parts, strict=True))


def _columns(columns: Any) -> list[Any]:
    """The ``columns`` argument as a list: one name (a string) or a sequence of distinct
    names."""
    if columns is None or not (isinstance(columns, str) or isinstance(columns, Iterable)):
        raise TypeError(
            "`columns` must be a column name or a sequence of column names (the response and "
            f"the covariates); got {type(columns).__name__}."
        )
    cols = node_list(columns)
    dup = [c for c in dict.fromkeys(cols) if cols.count(c) > 1]
    if dup:
        raise ValueError(f"`columns` names {dup} more than once; give each column once.")
    return cols


def _labels(values: Any, name: str) -> list[Any]:
    """Environment labels: a single label (string or scalar) or an iterable of them."""
    out = node_list(values)
    if not out:
        raise ValueError(f"`{name}` is empty.")
    return out
