"""Input validation shared by every estimator: one place for clear, actionable errors."""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from math import ceil
from typing import Any, get_args

import numpy as np
import pandas as pd

__all__ = [
    "align_by_label",
    "check_1d",
    "check_2d",
    "check_alpha",
    "check_bandwidth",
    "check_bool",
    "check_callable",
    "check_consistent_length",
    "check_finite",
    "check_grid",
    "check_int",
    "check_n_draws",
    "check_n_jobs",
    "check_option",
    "check_optional_bool",
    "check_positive",
    "check_real",
    "check_scalar",
    "check_sides",
    "holds_bool",
    "literal_values",
    "negligible_variation",
]


def literal_values(literal: Any) -> tuple[Any, ...]:
    """Return the allowed values of a ``typing.Literal`` alias (or pass a tuple through)."""
    vals = get_args(literal)
    return tuple(vals) if vals else tuple(literal)


def check_option(value: Any, name: str, allowed: Any) -> Any:
    """Check that ``value`` is one of the ``allowed`` options (a ``Literal`` alias or tuple).

    String options are matched case-insensitively and returned in canonical form. A boolean
    never matches a non-boolean option (``True`` is not the option ``1``).

    Parameters
    ----------
    value : object
        The value passed by the user.
    name : str
        Argument name, used in the error message.
    allowed : typing.Literal alias or tuple
        The allowed options.

    Returns
    -------
    object
        The matching option as spelled in ``allowed``.

    Raises
    ------
    ValueError
        If ``value`` is none of the options; the message lists them.

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
    elif not isinstance(value, np.ndarray | list | dict | set | pd.Series | pd.DataFrame):
        for opt in options:
            if isinstance(value, bool | np.bool_) != isinstance(opt, bool):
                continue  # True is not the option 1 (nor the reverse)
            if not isinstance(opt, str) and opt == value:
                return opt
    shown = ", ".join(repr(o) for o in options)
    raise ValueError(f"`{name}` must be one of {shown}; got {value!r}.")


def check_finite(a: np.ndarray, name: str, *, allow_nan: bool = False) -> np.ndarray:
    """Raise a ValueError naming ``name`` if ``a`` holds NaN or infinite values.

    Parameters
    ----------
    a : array-like
        Values to check; object arrays are converted to float first (``pd.NA`` becomes NaN).
    name : str
        Argument name, used in the error message.
    allow_nan : bool, default False
        If True, NaN passes and only infinite values are refused.

    Returns
    -------
    numpy.ndarray
        ``a`` as an array (unchanged values).

    Raises
    ------
    ValueError
        If a non-finite value is found; the message gives their count and the first position.

    Examples
    --------
    >>> check_finite([1.0, 2.0], "y")
    array([1., 2.])
    >>> check_finite([1.0, float("nan")], "y")
    Traceback (most recent call last):
    ...
    ValueError: `y` contains 1 non-finite value(s) (NaN at flat position 1); drop or impute ...
    >>> check_finite([1.0, float("nan")], "y", allow_nan=True)
    array([ 1., nan])
    """
    a = np.asarray(a)
    if a.dtype == object:
        a = _as_float_array(a, name)
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
    """``a`` as a float array; nullable pandas values (``pd.NA``) become NaN."""
    if a is None:
        raise TypeError(f"`{name}` is None; pass numeric array-like data.")
    if isinstance(a, pd.Series | pd.DataFrame | pd.Index):
        try:
            return a.to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"`{name}` must be numeric array-like; could not convert: {exc}"
            ) from None
    if isinstance(a, str | bytes):
        raise TypeError(f"`{name}` must be numeric array-like; got the string {a!r}.")
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

    Parameters
    ----------
    a : array-like
        Input values (list, numpy array or pandas object; ``pd.NA`` becomes NaN).
    name : str
        Argument name, used in error messages.
    allow_nan : bool, default False
        If True, NaN passes the finiteness check (only with ``dtype=float``).
    min_length : int, default 1
        Minimum number of elements.
    dtype : type, default float
        Target dtype; the finiteness check runs only for ``float``.

    Returns
    -------
    numpy.ndarray of shape (n,)
        The converted array.

    Raises
    ------
    TypeError
        If ``a`` cannot be converted to numbers (e.g. a string or None).
    ValueError
        If ``a`` is not 1-D (or (n, 1)), is too short, or holds non-finite values.

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
    """Convert ``a`` to a 2-D float array (a 1-D input becomes one column).

    Parameters
    ----------
    a : array-like
        Input values (list, numpy array or pandas object).
    name : str
        Argument name, used in error messages.
    allow_nan : bool, default False
        If True, NaN passes the finiteness check.
    n_rows : int or None, default None
        Required number of rows (one per unit); None skips the check.

    Returns
    -------
    numpy.ndarray of shape (n, m)
        The converted array.

    Raises
    ------
    TypeError
        If ``a`` cannot be converted to numbers.
    ValueError
        If ``a`` has more than two dimensions, the wrong number of rows, or non-finite values.

    Examples
    --------
    >>> check_2d([1, 2], "y")
    array([[1.],
           [2.]])
    >>> check_2d([[1, 2], [3, 4]], "y", n_rows=3)
    Traceback (most recent call last):
    ...
    ValueError: `y` has 2 rows but 3 were expected (one per unit).
    """
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
    """Check that all given (non-None) arrays have the same first dimension; return it.

    Parameters
    ----------
    **arrays : array-like or None
        Arrays keyed by argument name; None values are skipped.

    Returns
    -------
    int
        The common first dimension (0 when every array is None or none is given).

    Raises
    ------
    TypeError
        If a value is a scalar (it has no first dimension).
    ValueError
        If the first dimensions differ; the message lists each argument's length.

    Examples
    --------
    >>> check_consistent_length(x=[1, 2, 3], y=[[1], [2], [3]], weights=None)
    3
    >>> check_consistent_length(x=[1, 2, 3], y=[1, 2])
    Traceback (most recent call last):
    ...
    ValueError: Inconsistent numbers of units: `x` has 3, `y` has 2. They must match.
    """
    lengths = {}
    for k, v in arrays.items():
        if v is None:
            continue
        shape = np.shape(v)
        if not shape:
            raise TypeError(f"`{k}` must be array-like with one entry per unit; got {v!r}.")
        lengths[k] = shape[0]
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"`{k}` has {n}" for k, n in lengths.items())
        raise ValueError(f"Inconsistent numbers of units: {shown}. They must match.")
    return next(iter(lengths.values())) if lengths else 0


def check_alpha(alpha: Any, name: str = "alpha") -> float:
    """Check a significance level in (0, 1) (``alpha=0.05`` gives 95% confidence).

    Parameters
    ----------
    alpha : object
        The value to check; a real number strictly between 0 and 1 (booleans are refused).
    name : str, default "alpha"
        Argument name, used in the error message.

    Returns
    -------
    float
        ``alpha`` as a float.

    Raises
    ------
    ValueError
        If ``alpha`` is not a real number in (0, 1).

    Examples
    --------
    >>> check_alpha(0.1)
    0.1
    >>> check_alpha(95)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: `alpha` is a significance level in (0, 1), e.g. alpha=0.05 ...; got 95.
    """
    if not isinstance(alpha, numbers.Real) or isinstance(alpha, bool) or not 0 < float(alpha) < 1:
        raise ValueError(
            f"`{name}` is a significance level in (0, 1), e.g. alpha=0.05 for 95% confidence; "
            f"got {alpha!r}."
        )
    return float(alpha)


def check_int(
    value: Any, name: str, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """Check an integer parameter (booleans rejected) with optional bounds.

    Parameters
    ----------
    value : object
        The value to check; any ``numbers.Integral`` except bool (numpy integers pass).
    name : str
        Argument name, used in error messages.
    minimum : int or None, default None
        Smallest allowed value; None means no bound.
    maximum : int or None, default None
        Largest allowed value; None means no bound.

    Returns
    -------
    int
        ``value`` as a Python int.

    Raises
    ------
    TypeError
        If ``value`` is not an integer (floats such as ``2.0`` and booleans included).
        Also if ``minimum`` or ``maximum`` is not an integer or None.
    ValueError
        If ``value`` is below ``minimum`` or above ``maximum`` (the message of the latter
        names both bounds), or if ``minimum`` exceeds ``maximum``.

    Examples
    --------
    >>> check_int(5, "n_draws", minimum=1)
    5
    >>> check_int(2.0, "n_draws")
    Traceback (most recent call last):
    ...
    TypeError: `n_draws` must be an integer; got 2.0.
    >>> check_int(0, "n_draws", minimum=1)
    Traceback (most recent call last):
    ...
    ValueError: `n_draws` must be >= 1; got 0.
    >>> check_int(11, "p", minimum=0, maximum=10)
    Traceback (most recent call last):
    ...
    ValueError: `p` must be between 0 and 10; got 11.
    """
    for bound, label in ((minimum, "minimum"), (maximum, "maximum")):
        if bound is not None and (
            not isinstance(bound, numbers.Integral) or isinstance(bound, bool)
        ):
            raise TypeError(f"`{label}` of check_int must be an integer or None; got {bound!r}.")
    if minimum is not None and maximum is not None and minimum > maximum:
        raise ValueError(
            f"check_int: `minimum` ({minimum}) exceeds `maximum` ({maximum}) for `{name}`."
        )
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"`{name}` must be an integer; got {value!r}.")
    number = int(value)
    if minimum is not None and number < minimum:
        raise ValueError(f"`{name}` must be >= {minimum}; got {value}.")
    if maximum is not None and number > maximum:
        bounds = f"<= {maximum}" if minimum is None else f"between {minimum} and {maximum}"
        raise ValueError(f"`{name}` must be {bounds}; got {value}.")
    return number


def check_positive(value: Any, name: str) -> np.ndarray:
    """Check that a scalar or array is finite and strictly positive; return it as an array.

    Parameters
    ----------
    value : scalar or array-like
        The value(s) to check; booleans are refused.
    name : str
        Argument name, used in error messages.

    Returns
    -------
    numpy.ndarray
        ``value`` as a float array (0-d for a scalar).

    Raises
    ------
    TypeError
        If ``value`` is a boolean or not numeric.
    ValueError
        If ``value`` is empty, or any entry is non-finite or not strictly positive.

    Examples
    --------
    >>> check_positive(0.5, "bandwidth")
    array(0.5)
    >>> check_positive([1.0, 0.0], "bandwidth")
    Traceback (most recent call last):
    ...
    ValueError: `bandwidth` must be finite and strictly positive; got [1.0, 0.0].
    """
    if isinstance(value, bool | np.bool_):
        raise TypeError(f"`{name}` must be a positive number; got {value!r}.")
    arr = _as_float_array(value, name)
    if arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(f"`{name}` must be finite and strictly positive; got {value!r}.")
    return arr


def check_bool(value: Any, name: str) -> bool:
    """Check a boolean option: only ``True``/``False`` (or numpy bools) are accepted.

    Strings such as ``"no"`` or ``"False"`` and integers are refused instead of being read by
    their truth value.

    Parameters
    ----------
    value : object
        The value to check.
    name : str
        Argument name, used in the error message.

    Returns
    -------
    bool
        ``value`` as a Python bool.

    Raises
    ------
    TypeError
        If ``value`` is not a Python or numpy bool.

    Examples
    --------
    >>> check_bool(True, "studentize")
    True
    >>> check_bool("no", "studentize")
    Traceback (most recent call last):
    ...
    TypeError: `studentize` must be True or False; got 'no'.
    """
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"`{name}` must be True or False; got {value!r}.")
    return bool(value)


def align_by_label(
    inputs: Mapping[str, Any],
) -> tuple[dict[str, Any], pd.Index | None]:
    """Pair the rows of several inputs: pandas objects by label, numpy arrays by position.

    The first pandas object (Series or DataFrame, in the mapping's order) sets the order. Every
    other pandas object is reordered to its labels when it carries the same set of labels, and
    refused with a ValueError naming both arguments otherwise. Non-pandas inputs (numpy
    arrays, lists, ``None``) are returned unchanged: they are paired by position.

    Parameters
    ----------
    inputs : mapping of str to object
        Argument name -> value, in the order of the public signature.

    Returns
    -------
    aligned : dict
        The same keys; pandas values reordered to the reference labels.
    index : pandas.Index or None
        The reference labels, or None when no input is a pandas object.

    Examples
    --------
    >>> import pandas as pd
    >>> x = pd.Series([0.1, -0.2, 0.3], index=["a", "b", "c"])
    >>> d = pd.Series([1, 0, 1], index=["c", "b", "a"])
    >>> out, index = align_by_label({"x": x, "treatment": d})
    >>> out["treatment"].tolist(), list(index)
    ([1, 0, 1], ['a', 'b', 'c'])
    >>> align_by_label({"x": x, "treatment": d.set_axis(["a", "b", "z"])})
    Traceback (most recent call last):
    ...
    ValueError: `treatment` and `x` are pandas objects with different index labels ...
    """
    aligned = dict(inputs)
    ref_name: str | None = None
    ref: pd.Index | None = None
    for name, value in inputs.items():
        if not isinstance(value, pd.Series | pd.DataFrame):
            continue
        if ref is None:
            ref_name, ref = name, value.index
            continue
        idx = value.index
        if idx.equals(ref):
            continue
        same_set = (
            len(idx) == len(ref) and idx.is_unique and ref.is_unique and bool(idx.isin(ref).all())
        )
        if not same_set:
            if len(idx) != len(ref):
                why = f"{len(idx)} labels against {len(ref)}"
            elif not (idx.is_unique and ref.is_unique):
                why = "duplicate labels make the pairing ambiguous"
            else:
                missing = int((~idx.isin(ref)).sum())
                why = f"{missing} label(s) of `{name}` are not in `{ref_name}`"
            raise ValueError(
                f"`{name}` and `{ref_name}` are pandas objects with different index labels "
                f"({why}). Select matching rows (e.g. `{name}.loc[{ref_name}.index]`) or pass "
                "numpy arrays to pair rows by position."
            )
        aligned[name] = value.loc[ref]
    return aligned, ref


#: default relative tolerance of :func:`negligible_variation` (64 machine epsilons)
NEGLIGIBLE_RTOL = 64 * np.finfo(float).eps


def negligible_variation(
    values: Any, *, axis: int | None = 0, rtol: float = NEGLIGIBLE_RTOL
) -> Any:
    """Flag slices whose spread is rounding residue relative to their own magnitude.

    A slice (a column with the default ``axis=0``) is degenerate when
    ``max - min <= rtol * max(|values|)``: every unit carries the same value up to a few
    units in the last place, so no estimate computed from it can be an effect. Estimators
    report such points as exactly zero effect with zero width, and warn
    (:class:`estkit.exceptions.DegenerateDataWarning`).

    Parameters
    ----------
    values : array-like
        Outcomes, e.g. an (n_units, n_quantiles) matrix. NaN entries are ignored.
    axis : int or None, default 0
        Axis along which the spread is measured (None: the whole array).
    rtol : float, default 64 * machine epsilon
        Relative tolerance, in units of the slice's largest magnitude.

    Returns
    -------
    numpy.ndarray of bool (or bool)
        True where the variation is not real.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([[7.3, 1.0], [7.3, 2.0], [7.3 + 1e-15, 3.0]])
    >>> negligible_variation(y)
    array([ True, False])
    """
    v = _as_float_array(values, "values")
    if v.size == 0:
        raise ValueError("`values` is empty; nothing to check for variation.")
    # fast path (two passes, no temporaries): max and min propagate NaN and reach +-inf, so
    # finite extremes mean finite, NaN-free values and the same answer as below
    big, small = v.max(axis=axis), v.min(axis=axis)
    if np.all(np.isfinite(big)) and np.all(np.isfinite(small)):
        return (big - small) <= rtol * np.maximum(np.abs(big), np.abs(small))
    if np.isinf(v).any():
        raise ValueError("`values` contains infinite values; their variation is undefined.")
    # an all-NaN slice carries no variation: its spread is NaN and compares False, so mark it
    # degenerate explicitly (and keep numpy's all-NaN warning from reaching users)
    filled = np.where(np.isnan(v), 0.0, v)
    has = ~np.isnan(v)
    any_value = has.any(axis=axis)
    big = np.where(has, filled, -np.inf).max(axis=axis)
    small = np.where(has, filled, np.inf).min(axis=axis)
    with np.errstate(invalid="ignore"):
        spread = np.where(any_value, big - small, 0.0)
    scale = np.abs(filled).max(axis=axis)
    return spread <= rtol * scale


def check_optional_bool(value: Any, name: str) -> bool | None:
    """Like :func:`check_bool`, but ``None`` (meaning "automatic") passes through."""
    return None if value is None else check_bool(value, name)


def check_scalar(
    value: Any,
    name: str,
    *,
    positive: bool = False,
    nonnegative: bool = False,
    finite: bool = True,
    sequence: bool = True,
) -> float:
    """Check a real scalar (a length-1 sequence or 1-D array is read as its element unless
    ``sequence=False``, which refuses every sequence and array of dimension >= 1; nested
    sequences and arrays of dimension >= 2 are refused).

    Strings, booleans and ``None`` are refused with a TypeError; NaN, infinite (unless
    ``finite=False``), non-positive (``positive=True``) or negative (``nonnegative=True``)
    values with a ValueError; every message names ``name``.

    Examples
    --------
    >>> check_scalar([0.5], "bandwidth", positive=True)
    0.5
    >>> check_scalar("0.5", "bandwidth")
    Traceback (most recent call last):
    ...
    TypeError: `bandwidth` must be a real number; got '0.5'.
    """
    v = value
    if isinstance(
        v, list | tuple | np.ndarray | pd.Series | pd.Index | pd.api.extensions.ExtensionArray
    ):
        if not sequence and not (isinstance(v, np.ndarray) and v.ndim == 0):
            raise TypeError(f"`{name}` must be a real number; got {value!r}.")
        arr = np.asarray(v, dtype=object)
        if arr.ndim > 1:  # [[0.5]] is a table, not a number (as for R3D's `bandwidth`)
            raise ValueError(
                f"`{name}` must be a single number or a one-element 1-D sequence; got shape "
                f"{arr.shape}."
            )
        arr = arr.ravel()
        if arr.size != 1:
            raise ValueError(
                f"`{name}` must be a single number; got {arr.size} values. Pass one value."
            )
        v = arr[0]
    if isinstance(v, bool | np.bool_) or not isinstance(v, numbers.Real):
        raise TypeError(f"`{name}` must be a real number; got {value!r}.")
    x = float(v)
    if np.isnan(x) or (finite and not np.isfinite(x)):
        raise ValueError(f"`{name}` must be a finite number; got {value!r}.")
    if positive and not x > 0:
        raise ValueError(f"`{name}` must be strictly positive; got {value!r}.")
    if nonnegative and not x >= 0:
        raise ValueError(f"`{name}` must be non-negative; got {value!r}.")
    return x


def check_n_jobs(n_jobs: Any, name: str = "n_jobs") -> int | None:
    """Check a joblib ``n_jobs`` option: None, a positive integer, or a negative one (-1: all
    cores); 0 is refused."""
    if n_jobs is None:
        return None
    n_jobs = check_int(n_jobs, name)
    if n_jobs == 0:
        raise ValueError(
            f"`{name}` must be None, a positive number of workers or -1 (all cores); got 0."
        )
    return n_jobs


def check_callable(value: Any, name: str) -> Any:
    """Check that ``value`` is callable (a TypeError naming ``name`` otherwise)."""
    if not callable(value):
        raise TypeError(f"`{name}` must be callable; got {type(value).__name__}.")
    return value


def min_draws(alpha: float) -> int:
    """Smallest number of bootstrap draws ``B`` with ``(B + 1) alpha >= 1``.

    Fewer draws cannot resolve a level-``alpha`` tail: the critical value would be the
    largest draw (or, for ``B = 1``, an interval of zero width) whatever the data.

    Examples
    --------
    >>> min_draws(0.05), min_draws(0.1), min_draws(0.5)
    (19, 9, 1)
    """
    return max(1, ceil((1.0 - alpha) / alpha - 1e-9))


def check_n_draws(n_draws: int, alpha: float, name: str = "draws") -> int:
    """Refuse fewer bootstrap draws than a level-``alpha`` critical value needs.

    Raises a ValueError naming ``name``, the minimum number of draws for ``alpha`` and the
    fix (more draws or a larger ``alpha``).
    """
    need = min_draws(alpha)
    if n_draws < need:
        raise ValueError(
            f"`{name}` holds {n_draws} bootstrap draw(s), too few for alpha = {alpha:g}: a "
            f"level-alpha critical value needs at least {need} draws ((B + 1) * alpha >= 1). "
            "Use more bootstrap draws or a larger alpha."
        )
    return n_draws


def holds_bool(a: Any) -> bool:
    """Whether ``a`` is a boolean or an array-like holding one (``True`` is no number of 1).

    Examples
    --------
    >>> holds_bool(True), holds_bool([0.5, True]), holds_bool(np.array([1.0])), holds_bool("a")
    (True, True, False, False)
    """
    if isinstance(a, bool | np.bool_):
        return True
    if isinstance(a, str | bytes) or a is None:
        return False
    try:  # a list keeps its elements' types (numpy would read [0.5, True] as floats)
        arr = np.asarray(a, dtype=object if isinstance(a, list | tuple) else None)
    except (TypeError, ValueError):
        return False
    if arr.dtype.kind == "b":
        return True
    return arr.dtype == object and any(isinstance(v, bool | np.bool_) for v in arr.ravel())


def check_bandwidth(h: Any, m: int, name: str = "bandwidth") -> np.ndarray:
    """Door check of a bandwidth argument: a positive finite scalar (a length-1 sequence
    counts as a scalar) or one per column; returns an array of shape ``(m,)``.

    Examples
    --------
    >>> check_bandwidth([0.5], 3)
    array([0.5, 0.5, 0.5])
    >>> check_bandwidth("0.5", 3)
    Traceback (most recent call last):
    ...
    TypeError: `bandwidth` must be a positive number or one positive number per column; got '0.5'.
    """
    if isinstance(h, str | bytes) or h is None or holds_bool(h):
        raise TypeError(
            f"`{name}` must be a positive number or one positive number per column; got {h!r}."
        )
    hv = _as_float_array(h, name)
    if hv.size == 1:
        # a Python float: a refusal reads "got 0.0", not "got np.float64(0.0)"
        hv = np.full(m, check_scalar(hv.ravel()[0].item(), name, positive=True))
    if hv.shape != (m,):
        raise ValueError(f"`{name}` must be a scalar or have shape ({m},); got {hv.shape}.")
    if not np.all(np.isfinite(hv)) or np.any(hv <= 0):
        raise ValueError(f"`{name}` must be positive and finite.")
    return hv


def check_real(value: Any, name: str, *, positive: bool = False) -> float:
    """A finite real number given as a scalar (booleans, strings, None and arrays refused).

    :func:`check_scalar` without its unwrapping of length-1 sequences (one rule for real
    numbers).

    Parameters
    ----------
    value : object
        The value to check.
    name : str
        Argument name used in the error messages.
    positive : bool, default False
        Also require ``value > 0``.

    Returns
    -------
    float

    Examples
    --------
    >>> check_real(2, "cutoff")
    2.0
    >>> check_real(True, "cutoff")
    Traceback (most recent call last):
    ...
    TypeError: `cutoff` must be a real number; got True.
    >>> check_real(0.0, "bound", positive=True)
    Traceback (most recent call last):
    ...
    ValueError: `bound` must be strictly positive; got 0.0.
    """
    return check_scalar(value, name, positive=positive, sequence=False)


def check_grid(
    q: Any, name: str = "quantiles", *, size: int | None = None, unit_interval: bool = True
) -> np.ndarray:
    """A grid of levels: a non-empty, finite, strictly increasing 1-D float array.

    The one check of quantile grids (estimator parameters, containers, cores' doors).

    Parameters
    ----------
    q : array-like
        The grid.
    name : str, default "quantiles"
        Argument name used in the messages.
    size : int, optional
        Required number of points (e.g. one per column of an outcome matrix).
    unit_interval : bool, default True
        Require every point strictly inside (0, 1) (quantile levels).

    Returns
    -------
    ndarray, shape (m,)

    Raises
    ------
    TypeError
        For strings or non-numeric values.
    ValueError
        For an empty or multi-dimensional grid, points outside (0, 1), non-finite,
        unsorted or repeated points, or a wrong number of points.

    Examples
    --------
    >>> check_grid([0.25, 0.5, 0.75]).tolist()
    [0.25, 0.5, 0.75]
    >>> check_grid([0.5, 1.5])
    Traceback (most recent call last):
    ...
    ValueError: `quantiles` must lie strictly inside (0, 1); got [0.5, 1.5]. Use e.g. ...
    """
    where = "in (0, 1)" if unit_interval else "(real numbers)"
    if isinstance(q, str | bytes):
        raise TypeError(
            f"`{name}` must be numbers {where}; got {q!r}. Use e.g. {name}=np.arange(1, 100) / 100."
        )
    try:
        g = np.atleast_1d(np.asarray(q, dtype=float))
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be numbers {where}; got {q!r}.") from None
    if g.ndim != 1 or g.size == 0:
        raise ValueError(f"`{name}` must be a non-empty 1-D array of levels {where}.")
    if not np.all(np.isfinite(g)) or (unit_interval and (np.any(g <= 0) or np.any(g >= 1))):
        what = "lie strictly inside (0, 1)" if unit_interval else "be finite"
        raise ValueError(
            f"`{name}` must {what}; got [{np.min(g):g}, {np.max(g):g}]. Use e.g. "
            f"{name}=np.arange(1, 100) / 100."
        )
    if np.any(np.diff(g) <= 0):
        raise ValueError(f"`{name}` must be strictly increasing without duplicates.")
    if size is not None and g.size != size:
        raise ValueError(
            f"`{name}` must have one point per column of the outcome matrix ({size}); got {g.size}."
        )
    return g


def check_sides(
    x: np.ndarray,
    cutoff: float,
    purpose: str,
    *,
    span: tuple[float, float] = (0.0, np.inf),
) -> tuple[int, float]:
    """A running variable with units on both sides of the cutoff at usable distances.

    The one check of a running variable's sides (``x >= cutoff`` is above) shared by the
    RD estimators.

    Parameters
    ----------
    x : ndarray, shape (n,)
        Finite running variable (already checked).
    cutoff : float
        The cutoff.
    purpose : str
        What needs the units, for the messages (e.g. ``"an RD estimate"``).
    span : (float, float), default (0, inf)
        Open interval that ``max |x - cutoff|`` must lie in.

    Returns
    -------
    n_below : int
        Units below the cutoff.
    distance : float
        ``max |x - cutoff|``.

    Examples
    --------
    >>> check_sides(np.array([-1.0, 0.5, 2.0]), 0.0, "R3D")
    (1, 2.0)
    >>> check_sides(np.array([1.0, 2.0]), 0.0, "R3D")
    Traceback (most recent call last):
    ...
    ValueError: `x`: no unit lies below the cutoff 0 (range of x: [1, 2]); R3D needs units ...
    """
    n_below = int(np.count_nonzero(x < cutoff))
    if n_below == 0 or n_below == x.size:
        side = "below" if n_below == 0 else "above"
        raise ValueError(
            f"`x`: no unit lies {side} the cutoff {cutoff:g} (range of x: [{x.min():g}, "
            f"{x.max():g}]); {purpose} needs units on both sides: check `cutoff` and the "
            "running variable."
        )
    with np.errstate(over="ignore"):
        dist = float(np.max(np.abs(x - cutoff)))
    lo, hi = span
    if not (np.isfinite(dist) and lo < dist < hi):
        raise ValueError(
            f"`x` must vary around the cutoff with finite distances; got max |x - cutoff| = "
            f"{dist!r} ({purpose} needs it in ({lo:g}, {hi:g})): rescale the running variable "
            "(e.g. to thousands or to a share)."
        )
    return n_below, dist
