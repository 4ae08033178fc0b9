"""Input checks at the door of causalminimax's public entry points (one place per concept).

Every ``fit(X, y, environment)`` of the package goes through :func:`fit_inputs`: pandas
objects are paired by label (:func:`estkit.align_by_label`), numpy inputs by position; values
are converted to float (nullable dtypes included, their missing values refused), checked for
NaN/inf and for magnitudes that squared-error risks cannot hold in floating point. The
enumeration limit ``max_subsets`` and the ``n_jobs`` option are checked here as well.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from estkit import (
    DegenerateDataWarning,
    EstkitWarning,
    align_by_label,
    check_1d,
    check_consistent_length,
    check_int,
    negligible_variation,
)
from estkit._validation import check_real

__all__ = [
    "DEFAULT_MAX_SUBSETS",
    "ScoreByLabelMixin",
    "check_frame",
    "check_max_subsets",
    "check_mutable_varies",
    "check_n_jobs",
    "check_real",
    "check_unique_columns",
    "feature_names",
    "fit_inputs",
    "node_list",
    "reworded_warnings",
    "warn_if_constant_target",
]

#: Default limit on the number of stable subsets any exponential enumeration may visit
#: (equivalence classes explored, class members listed, subsets fitted or tested).
DEFAULT_MAX_SUBSETS = 2**16

# Squared errors of values beyond these magnitudes overflow or underflow double precision
# (1e100 squared is 1e200; 1e-100 squared is 1e-200, still a normal number).
_MAX_MAGNITUDE = 1e100
_MIN_MAGNITUDE = 1e-100


def check_max_subsets(value: Any) -> int:
    """The enumeration limit: a positive integer."""
    return check_int(value, "max_subsets", minimum=1)


def check_n_jobs(value: Any) -> int | None:
    """``None`` or a non-zero integer (joblib convention; ``-1`` uses every core)."""
    if value is None:
        return None
    n = check_int(value, "n_jobs")
    if n == 0:
        raise ValueError("`n_jobs` must be None, a positive integer or -1 (every core); got 0.")
    return n


def _check_magnitude(arr: np.ndarray, name: str) -> None:
    """Refuse values whose squares overflow or underflow (risks would be inf or 0)."""
    if arr.size == 0:
        return
    mags = np.max(np.abs(arr), axis=0) if arr.ndim == 2 else np.array([np.max(np.abs(arr))])
    big = mags > _MAX_MAGNITUDE
    small = (mags > 0) & (mags < _MIN_MAGNITUDE)
    if big.any() or small.any():
        k = int(np.flatnonzero(big | small)[0])
        raise ValueError(
            f"`{name}` has values of magnitude {mags[k]:.3g}: squared errors of such values "
            f"overflow or underflow double precision (usable magnitudes are between "
            f"{_MIN_MAGNITUDE:g} and {_MAX_MAGNITUDE:g}). Rescale it, e.g. divide by its "
            "standard deviation (the selected subset does not depend on the units)."
        )


def check_frame(
    X: Any,
    columns: Iterable[Hashable] | None = None,
    *,
    exact: bool = False,
    name: str = "X",
    what: str = "graph variables",
) -> pd.DataFrame:
    """Check a covariate DataFrame and return the needed columns as float64.

    Parameters
    ----------
    X : pandas.DataFrame
    columns : iterable, optional
        Columns that must be present (default: all, in ``X``'s order).
    exact : bool, default False
        Refuse columns of ``X`` outside ``columns``.
    name : str
        Argument name used in the messages.
    what : str
        What the needed columns are (used in the messages).
    """
    if not isinstance(X, pd.DataFrame):
        raise TypeError(
            f"`{name}` must be a pandas DataFrame with named columns; got {type(X).__name__}. "
            f"Wrap arrays with pd.DataFrame({name}, columns=[...])."
        )
    check_unique_columns(X, name)
    needed = list(X.columns) if columns is None else list(columns)
    missing = [c for c in needed if c not in X.columns]
    if missing:
        raise ValueError(
            f"`{name}` lacks the {what} {missing}; its columns must be named as the graph's "
            "nodes (rename the columns or fix the graph)."
        )
    if exact:
        keep = set(needed)
        extra = [c for c in X.columns if c not in keep]
        if extra:
            raise ValueError(
                f"`{name}` has columns {extra} that are not nodes of `graph`; drop them or add "
                "them to the graph."
            )
    sub = X[needed]
    bad = [c for c in needed if not _numeric(sub[c])]
    if bad:
        raise TypeError(
            f"`{name}` columns {bad} are not numeric; encode them as numbers or drop them."
        )
    arr = (
        np.column_stack([sub[c].to_numpy(dtype=float, na_value=np.nan) for c in needed])
        if needed
        else np.zeros((len(sub), 0))
    )
    if arr.size and not np.all(np.isfinite(arr)):
        cols = [needed[k] for k in np.flatnonzero(~np.isfinite(arr).all(axis=0))]
        raise ValueError(
            f"`{name}` has missing or non-finite values (NaN, inf) in columns {cols}; drop or "
            "impute them."
        )
    _check_magnitude(arr, name)
    return pd.DataFrame(arr, index=sub.index, columns=sub.columns)


def node_list(value: Any) -> list[Any]:
    """A node name or an iterable of them, as a list (a string is one name, not characters)."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        return [value]
    return list(value)


def check_unique_columns(frame: pd.DataFrame, name: str) -> None:
    """Refuse a DataFrame with duplicated column names (columns are read by name)."""
    if not frame.columns.is_unique:
        dup = frame.columns[frame.columns.duplicated()].tolist()
        raise ValueError(f"`{name}` has duplicated column names {dup}; rename them.")


def _numeric(col: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype)


def _vector(y: Any, name: str) -> np.ndarray:
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise ValueError(f"`{name}` must be one-dimensional; got a DataFrame of {y.shape}.")
        y = y.iloc[:, 0]
    if isinstance(y, pd.Series):
        if not _numeric(y):
            raise TypeError(f"`{name}` must be numeric; got dtype {y.dtype}.")
        y = y.to_numpy(dtype=float, na_value=np.nan)
    elif isinstance(y, str | bytes) or np.ndim(y) == 0:
        raise TypeError(f"`{name}` must be array-like of numbers, one per row; got {y!r}.")
    out = check_1d(y, name)
    _check_magnitude(out, name)
    return out


def _labels(environment: Any, *, min_envs: int, min_rows: int) -> np.ndarray:
    if isinstance(environment, str | bytes) or np.ndim(environment) == 0:
        raise TypeError(
            "`environment` must hold one environment label per row (array-like); "
            f"got {environment!r}."
        )
    env = environment.to_numpy() if isinstance(environment, pd.Series) else np.asarray(environment)
    if env.ndim != 1:
        raise ValueError(f"`environment` must be one-dimensional; got shape {env.shape}.")
    if pd.isna(pd.Series(env, dtype=object)).any():
        raise ValueError("`environment` has missing labels; drop those rows.")
    counts = pd.Series(env, dtype=object).value_counts()
    if len(counts) < min_envs:
        has = "a single value" if len(counts) == 1 else f"{len(counts)} distinct values"
        raise ValueError(
            f"`environment` has {has}: the method needs at least two distinct training "
            "environments (the mutable mechanisms must vary)."
        )
    few = counts[counts < min_rows]
    if len(few):
        raise ValueError(
            f"`environment` {few.index[0]!r} has {int(few.iloc[0])} row(s); every environment "
            f"needs at least {min_rows} rows here. Drop it or merge it with another one."
        )
    return env


def fit_inputs(
    X: Any,
    y: Any,
    environment: Any = None,
    *,
    columns: Iterable[Hashable] | None = None,
    exact: bool = False,
    require_environment: bool = True,
    min_envs: int = 2,
    min_rows_per_env: int = 1,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray | None]:
    """Validate and pair ``X``, ``y`` and ``environment`` (pandas by label, numpy by position).

    Returns the float DataFrame of the needed columns, ``y`` as a float array and the
    environment labels (or None when not given and not required), all in ``X``'s row order.
    """
    if environment is None and require_environment:
        raise ValueError(
            "`environment` is required: pass the training environment label of each row "
            "(fit(X, y, environment=e))."
        )
    if environment is not None and (
        isinstance(environment, str | bytes) or np.ndim(environment) == 0
    ):
        raise TypeError(
            "`environment` must hold one environment label per row (array-like); "
            f"got {environment!r}."
        )
    aligned, _ = align_by_label({"X": X, "y": y, "environment": environment})
    Xf = check_frame(aligned["X"], columns, exact=exact)
    yv = _vector(aligned["y"], "y")
    env = None
    if aligned["environment"] is not None:
        check_consistent_length(X=Xf, y=yv, environment=np.asarray(aligned["environment"]))
        env = _labels(aligned["environment"], min_envs=min_envs, min_rows=min_rows_per_env)
    check_consistent_length(X=Xf, y=yv)
    return Xf, yv, env


def feature_names(columns: Iterable[Hashable]) -> np.ndarray:
    """``feature_names_in_`` of a fitted estimator: the column names as strings."""
    return np.asarray([str(c) for c in columns], dtype=object)


def check_mutable_varies(X: pd.DataFrame, mutable: Iterable[Hashable]) -> None:
    """Refuse constant mutable columns (the intervention scale is their standard deviation)."""
    flat = [m for m in mutable if np.ptp(X[m].to_numpy()) == 0]
    if flat:
        raise ValueError(
            f"`X` columns {flat} are mutable but constant: the intervention bound is in units "
            "of their standard deviation, which is zero. Drop them from the graph (and `X`) or "
            "check the data."
        )


def warn_if_constant_target(y: np.ndarray, what: str) -> bool:
    """Warn (DegenerateDataWarning) and return True when ``y`` has no real variation."""
    if bool(negligible_variation(y, axis=None)):
        warnings.warn(
            f"`y` is constant (its spread is rounding residue): {what}",
            DegenerateDataWarning,
            stacklevel=3,
        )
        return True
    return False


@contextmanager
def reworded_warnings(context: str) -> Iterator[None]:
    """Re-emit the warnings raised inside the block in our words.

    scikit-learn's ConvergenceWarning and numpy's floating-point RuntimeWarnings become one
    :class:`estkit.EstkitWarning` each, saying where they arose and what to do; other warnings
    pass through unchanged.
    """
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    conv = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    numeric = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    for w in caught:
        if w not in conv and w not in numeric:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if conv:
        warnings.warn(
            f"The `estimator` did not converge in {len(conv)} fit(s) while {context} "
            f"(scikit-learn said: {str(conv[0].message)[:160]}). Raise its iteration limit "
            "(e.g. max_iter) or standardise the data; the estimates may be inaccurate.",
            EstkitWarning,
            stacklevel=3,
        )
    if numeric:
        warnings.warn(
            f"{len(numeric)} floating-point warning(s) while {context} (first: "
            f"{str(numeric[0].message)[:120]}); the results may be inaccurate. Check the "
            "scale of the data (rescale variables of extreme magnitude).",
            EstkitWarning,
            stacklevel=3,
        )


class ScoreByLabelMixin:
    """``score(X, y)``: R² with ``y`` paired to ``X``'s rows by label when both are pandas."""

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Coefficient of determination of ``predict(X)`` against ``y`` (paired by label).

        Parameters
        ----------
        X : pandas.DataFrame
        y : array-like of shape (n,)
            pandas objects are paired with ``X`` by index label, arrays by position.
        sample_weight : array-like of shape (n,), optional
            Paired like ``y``.

        Returns
        -------
        float
        """
        from sklearn.metrics import r2_score

        aligned, _ = align_by_label({"X": X, "y": y, "sample_weight": sample_weight})
        yv = _vector(aligned["y"], "y")
        pred = self.predict(aligned["X"])  # type: ignore[attr-defined]
        check_consistent_length(X=pred, y=yv)
        w = aligned["sample_weight"]
        if w is not None:
            w = check_1d(np.asarray(w, dtype=float), "sample_weight")
            check_consistent_length(y=yv, sample_weight=w)
        return float(r2_score(yv, pred, sample_weight=w))
