"""Input validation shared by every estimator: one place for clear, actionable errors."""

from __future__ import annotations

import numbers
from typing import Any, get_args

import numpy as np

__all__ = [
    "check_1d",
    "check_2d",
    "check_alpha",
    "check_consistent_length",
    "check_finite",
    "check_int",
    "check_option",
    "check_positive",
    "literal_values",
]


def literal_values(literal: Any) -> tuple[Any, ...]:
    """Return the allowed values of a ``typing.Literal`` alias (or pass a tuple through)."""
    vals = get_args(literal)
    return tuple(vals) if vals else tuple(literal)


def check_option(value: Any, name: str, allowed: Any) -> Any:
    """Check that ``value`` is one of the ``allowed`` options (a ``Literal`` alias or tuple).

    String options are matched case-insensitively and returned in canonical form.

    Examples
    --------
    >>> from typing import Literal
    >>> check_option("Triangular", "kernel", Literal["triangular", "uniform"])
    'triangular'
    >>> check_option("box", "kernel", ("triangular", "uniform"))
    Traceback (most recent call last):
    ...
    ValueError: `kernel` must be one of 'triangular', 'uniform'; got 'box'.
    """
    options = literal_values(allowed)
    if isinstance(value, str):
        low = value.lower()
        for opt in options:
            if isinstance(opt, str) and opt.lower() == low:
                return opt
    elif value in options:
        return value
    shown = ", ".join(repr(o) for o in options)
    raise ValueError(f"`{name}` must be one of {shown}; got {value!r}.")


def check_finite(a: np.ndarray, name: str, *, allow_nan: bool = False) -> np.ndarray:
    """Raise a ValueError naming ``name`` if ``a`` holds NaN or infinite values."""
    if a.dtype.kind in "fc":
        bad = ~np.isfinite(a)
        if allow_nan:
            bad &= ~np.isnan(a)
        if bad.any():
            idx = np.flatnonzero(bad.ravel())
            what = "NaN" if np.isnan(a.ravel()[idx[0]]) else "infinite"
            raise ValueError(
                f"`{name}` contains {idx.size} non-finite value(s) ({what} at flat position "
                f"{int(idx[0])}); drop or impute them before fitting."
            )
    return a


def _as_float_array(a: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(a, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"`{name}` must be numeric array-like; could not convert: {exc}") from None
    return arr


def check_1d(
    a: Any,
    name: str,
    *,
    allow_nan: bool = False,
    min_length: int = 1,
    dtype: Any = float,
) -> np.ndarray:
    """Convert ``a`` to a 1-D array, checking shape, length and finiteness.

    A column vector of shape (n, 1) is accepted and flattened.

    Examples
    --------
    >>> check_1d([1, 2, 3], "x")
    array([1., 2., 3.])
    >>> check_1d([[1, 2], [3, 4]], "x")
    Traceback (most recent call last):
    ...
    ValueError: `x` must be one-dimensional; got shape (2, 2).
    """
    arr = _as_float_array(a, name) if dtype is float else np.asarray(a, dtype=dtype)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"`{name}` must be one-dimensional; got shape {arr.shape}.")
    if arr.shape[0] < min_length:
        raise ValueError(f"`{name}` needs at least {min_length} element(s); got {arr.shape[0]}.")
    if dtype is float:
        check_finite(arr, name, allow_nan=allow_nan)
    return arr


def check_2d(
    a: Any, name: str, *, allow_nan: bool = False, n_rows: int | None = None
) -> np.ndarray:
    """Convert ``a`` to a 2-D float array (a 1-D input becomes one column)."""
    arr = _as_float_array(a, name)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"`{name}` must be two-dimensional (n, m); got shape {arr.shape}.")
    if n_rows is not None and arr.shape[0] != n_rows:
        raise ValueError(
            f"`{name}` has {arr.shape[0]} rows but {n_rows} were expected (one per unit)."
        )
    check_finite(arr, name, allow_nan=allow_nan)
    return arr


def check_consistent_length(**arrays: Any) -> int:
    """Check that all given (non-None) arrays have the same first dimension; return it."""
    lengths = {k: len(v) for k, v in arrays.items() if v is not None}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"`{k}` has {n}" for k, n in lengths.items())
        raise ValueError(f"Inconsistent numbers of units: {shown}. They must match.")
    return next(iter(lengths.values())) if lengths else 0


def check_alpha(alpha: Any, name: str = "alpha") -> float:
    """Check a significance level in (0, 1) (``alpha=0.05`` gives 95% confidence).

    Examples
    --------
    >>> check_alpha(0.1)
    0.1
    >>> check_alpha(95)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: `alpha` is a significance level in (0, 1), e.g. alpha=0.05 ...; got 95.
    """
    if not isinstance(alpha, numbers.Real) or isinstance(alpha, bool) or not 0 < alpha < 1:
        raise ValueError(
            f"`{name}` is a significance level in (0, 1), e.g. alpha=0.05 for 95% confidence; "
            f"got {alpha!r}."
        )
    return float(alpha)


def check_int(value: Any, name: str, *, minimum: int | None = None) -> int:
    """Check an integer parameter (booleans rejected) with an optional lower bound."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"`{name}` must be an integer; got {value!r}.")
    if minimum is not None and value < minimum:
        raise ValueError(f"`{name}` must be >= {minimum}; got {value}.")
    return int(value)


def check_positive(value: Any, name: str) -> np.ndarray:
    """Check that a scalar or array is finite and strictly positive; return it as an array."""
    arr = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(f"`{name}` must be finite and strictly positive; got {value!r}.")
    return arr
