"""Monotone projections of curves: isotonic regression (PAVA) and monotone rearrangement.

* :func:`isotonic_regression` is the (weighted) L2 projection of a sequence onto the cone
  of non-decreasing sequences, computed by the pool-adjacent-violators algorithm. With
  unit weights it equals R's ``stats::isoreg(x, y)$yf`` for sorted ``x``.
* :func:`rearrange` is the increasing rearrangement of Chernozhukov, Fernandez-Val and
  Galichon (2009, 2010). ``method="sort"`` is the exact rearrangement of the values on an
  equally spaced grid (sorting). ``method="R"`` reproduces the CRAN package
  ``Rearrangement::rearrangement(list(q), y)`` used by R3D: the curve is linearly
  interpolated on ``n + 1`` equally spaced points of the normalised grid, and the result
  is the type-7 sample quantile of those values evaluated at the normalised grid points.

Both functions operate on the last axis and accept batches (any leading shape).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from estkit._validation import _as_float_array, check_finite, check_int, check_option

__all__ = ["is_nondecreasing", "isotonic_regression", "rearrange", "trapezoid_weights"]


def is_nondecreasing(y: np.ndarray) -> np.ndarray:
    """Whether each row (last axis) of ``y`` is non-decreasing.

    Parameters
    ----------
    y : array-like of shape (..., k)
        Curves along the last axis (finite; at least one axis).

    Returns
    -------
    numpy.ndarray of bool of shape ``y.shape[:-1]``
        True where consecutive values never decrease (always True when ``k < 2``).

    Examples
    --------
    >>> is_nondecreasing(np.array([[1, 2, 2], [2, 1, 3]])).tolist()
    [True, False]
    """
    y = _curves(y, "y")
    if y.shape[-1] < 2:
        return np.ones(y.shape[:-1], dtype=bool)
    return np.all(np.diff(y, axis=-1) >= 0, axis=-1)


def _curves(y: object, name: str) -> np.ndarray:
    """Door check of the monotone helpers: a finite float array with at least one axis."""
    arr = _as_float_array(y, name)
    if arr.ndim == 0:
        raise ValueError(f"`{name}` must be a sequence (curves along the last axis); got a scalar.")
    check_finite(arr, name)
    return arr


def _pava_1d(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted PAVA for one sequence (stack of blocks: value, weight, length)."""
    vals: list[float] = []
    wts: list[float] = []
    lens: list[int] = []
    for yi, wi in zip(y.tolist(), w.tolist(), strict=True):
        v, ww, ln = yi, wi, 1
        while vals and vals[-1] > v:
            pv, pw, pl = vals.pop(), wts.pop(), lens.pop()
            tot = pw + ww
            # convex combination: no overflow for values near the float limits
            v = pv * (pw / tot) + v * (ww / tot) if tot > 0 else 0.5 * pv + 0.5 * v
            ww, ln = tot, ln + pl
        vals.append(v)
        wts.append(ww)
        lens.append(ln)
    return np.repeat(np.asarray(vals), np.asarray(lens))


def isotonic_regression(y: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Non-decreasing least-squares fit along the last axis (pool-adjacent-violators).

    Parameters
    ----------
    y : array_like, shape (..., m)
        Sequences to project; each is treated as ordered along the last axis.
    weights : array_like, shape (m,) or (..., m), optional
        Positive weights of the squared errors (default: equal weights). For a
        quantile grid, weights proportional to the grid spacing approximate the
        L2([a, b]) projection of a curve.

    Returns
    -------
    ndarray
        The projections, same shape as ``y``. Rows that are already monotone are returned
        unchanged (bit for bit).

    Examples
    --------
    >>> isotonic_regression(np.array([1.0, 3.0, 2.0, 4.0, 5.0])).tolist()
    [1.0, 2.5, 2.5, 4.0, 5.0]
    >>> isotonic_regression(np.array([[5.0, 3, 4, 1, 2, 6]])).round(6).tolist()
    [[3.0, 3.0, 3.0, 3.0, 3.0, 6.0]]
    """
    ya = _curves(y, "y")
    if weights is None:
        wa = None
    else:
        wa = _as_float_array(weights, "weights")
        try:
            wa = np.broadcast_to(wa, ya.shape)
        except ValueError:
            raise ValueError(
                f"`weights` must have shape ({ya.shape[-1]},) or {ya.shape} to match `y`; "
                f"got {wa.shape}."
            ) from None
        if np.any(np.isnan(wa)) or not np.all(np.isfinite(wa)) or np.any(wa <= 0):
            raise ValueError("`weights` must be positive and finite.")
        # PAVA is invariant to a common factor of the weights: normalise so that weighted
        # sums cannot overflow (weights of 1e307) or underflow
        wa = wa / wa.max(axis=-1, keepdims=True)
    out = ya.copy()
    if ya.shape[-1] < 2:
        return out
    flat = out.reshape(-1, ya.shape[-1])
    wflat = None if wa is None else wa.reshape(-1, ya.shape[-1])
    todo = np.flatnonzero(~is_nondecreasing(flat))
    ones = np.ones(ya.shape[-1])
    for r in todo:
        flat[r] = _pava_1d(flat[r], ones if wflat is None else wflat[r])
    return out


def _quantile_type7_sorted(s: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """R's type-7 quantile of rows of ``s`` (sorted along the last axis) at ``probs``."""
    k = s.shape[-1]
    index = (k - 1) * probs
    lo = np.floor(index).astype(int)
    hi = np.minimum(lo + 1, k - 1)
    frac = index - lo
    qlo = np.take(s, lo, axis=-1)
    qhi = np.take(s, hi, axis=-1)
    return np.where(frac > 0, (1.0 - frac) * qlo + frac * qhi, qlo)


def rearrange(
    y: np.ndarray,
    grid: np.ndarray | None = None,
    *,
    method: Literal["sort", "R"] = "sort",
    n_points: int = 1000,
) -> np.ndarray:
    """Increasing rearrangement of curves along the last axis.

    Parameters
    ----------
    y : array_like, shape (..., m)
        Curve values on ``grid``.
    grid : array_like, shape (m,), optional
        Increasing evaluation points (needed for ``method="R"``; default ``0..m-1``).
    method : {"sort", "R"}, default "sort"
        ``"sort"``: the exact rearrangement of the values (sorting), which is the
        rearrangement of the step function on an equally spaced grid.
        ``"R"``: reproduce ``Rearrangement::rearrangement(list(grid), y, n = n_points)``
        (linear interpolation on ``n_points + 1`` equally spaced points of the grid
        normalised to ``[0, 1]``, then the type-7 sample quantile at the normalised grid).
    n_points : int, default 1000
        ``n`` of the R package (only for ``method="R"``).

    Returns
    -------
    ndarray
        Non-decreasing curves of the same shape.

    Examples
    --------
    >>> rearrange(np.array([1.0, 3.0, 2.0])).tolist()
    [1.0, 2.0, 3.0]
    >>> np.round(rearrange(np.array([0.0, 1.0, 2.0]), np.array([0.1, 0.2, 0.3]), method="R"), 12)
    array([0., 1., 2.])
    """
    ya = _curves(y, "y")
    method = check_option(method, "method", ("sort", "R"))
    n_points = check_int(n_points, "n_points", minimum=1)
    m = ya.shape[-1]
    g = np.arange(m, dtype=float) if grid is None else _curves(grid, "grid")
    if g.shape != (m,) or np.any(np.diff(g) <= 0):
        raise ValueError(
            f"`grid` must be strictly increasing with one point per value ({m}); got shape "
            f"{g.shape}."
        )
    if method == "sort":
        return np.sort(ya, axis=-1)
    if m < 2:
        return ya.copy()
    nx = (g - g[0]) / (g[-1] - g[0])
    uus = np.arange(n_points + 1, dtype=float) / n_points
    flat = ya.reshape(-1, m)
    # piecewise-linear interpolation of every row at the fine grid
    j = np.clip(np.searchsorted(nx, uus, side="right") - 1, 0, m - 2)
    t = (uus - nx[j]) / (nx[j + 1] - nx[j])
    vals = flat[:, j] + t * (flat[:, j + 1] - flat[:, j])
    vals.sort(axis=-1)
    out = _quantile_type7_sorted(vals, nx)
    return out.reshape(ya.shape)


def trapezoid_weights(q: np.ndarray) -> np.ndarray:
    """Trapezoid-rule weights of a grid (integrals over it; L2 projections on it).

    One point gets weight 1.

    Parameters
    ----------
    q : ndarray, shape (m,)
        Increasing grid (trusted: callers check it at their door).

    Returns
    -------
    ndarray, shape (m,)
        ``w_j = (q_{j+1} - q_{j-1}) / 2`` inside, half a step at the ends.

    Examples
    --------
    >>> trapezoid_weights(np.array([0.1, 0.2, 0.4])).round(3).tolist()
    [0.05, 0.15, 0.1]
    """
    qv = np.asarray(q, dtype=float)
    if qv.size < 2:
        return np.ones_like(qv)
    w = np.zeros_like(qv)
    d = np.diff(qv)
    w[:-1] += d / 2
    w[1:] += d / 2
    return w
