"""Quantiles of a distribution known only through bracket (grouped) counts.

Tabulations such as the ACS income tables report how many units fall in each of a few
brackets ``[b_0, b_1), [b_1, b_2), ..., [b_{K-1}, b_K)``, where the last bracket is usually
open (``b_K = inf``). This module turns such counts into a quantile function.

Method
------
Let ``n_k`` be the count of bracket ``k``, ``N = sum n_k`` and ``F_k = (n_0 + ... + n_{k-1}) / N``
the share below ``b_k`` (``F_0 = 0``, ``F_K = 1``).

* **Closed brackets**: units are spread uniformly within their bracket, so the CDF is
  piecewise linear through the points ``(b_k, F_k)`` and, for ``F_k < q <= F_{k+1}``,

  ``Q(q) = b_k + (q - F_k) / (F_{k+1} - F_k) * (b_{k+1} - b_k)``.

* **Open top bracket** ``[b_{K-1}, inf)``: a Pareto tail ``P(X > x) = S_{K-1} (b_{K-1}/x)^alpha``
  for ``x >= b_{K-1}``, where ``S_k = 1 - F_k`` is the share at or above ``b_k``. The index is
  fitted from the two top brackets by requiring the Pareto survival function to pass through
  both ``(b_{K-2}, S_{K-2})`` and ``(b_{K-1}, S_{K-1})``:

  ``alpha = log(S_{K-2} / S_{K-1}) / log(b_{K-1} / b_{K-2})``,

  and, for ``q > F_{K-1}``, ``Q(q) = b_{K-1} (S_{K-1} / (1 - q))^(1 / alpha)``.
  The fitted index is floored at ``min_alpha`` (it is 0 when the second-highest bracket is
  empty and would put the whole top bracket at infinity).

* **Optionally also the second-highest bracket** (``pareto_brackets=2``): the fitted Pareto
  law passes through both of its edges, so it can replace the uniform spread inside
  ``[b_{K-2}, b_{K-1})`` as well, ``Q(q) = b_{K-2} (S_{K-2} / (1 - q))^(1 / alpha)`` for
  ``F_{K-2} < q <= F_{K-1}``. Bracket counts are reproduced exactly either way; income
  densities decrease steeply at the top, where the uniform spread overstates quantiles. (If
  the index was floored the law misses ``(b_{K-1}, S_{K-1})``, and that bracket stays linear.)

The resulting quantile function is continuous and non-decreasing in ``q``. With
``pareto_brackets=2`` it is exact when the data are uniform within each bracket below
``b_{K-2}`` and Pareto above ``b_{K-2}``; with ``pareto_brackets=1``, when they are uniform
within every closed bracket and Pareto above ``b_{K-1}`` with the two-bracket index.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["bracket_cdf", "bracket_quantiles", "pareto_alpha"]


def _floats(value: ArrayLike, name: str) -> np.ndarray:
    if isinstance(value, str | bytes):
        raise TypeError(f"`{name}` must be numbers; got {value!r}")
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be numbers; got {value!r}") from None


def _check_min_alpha(min_alpha: float) -> float:
    a = float(_floats(min_alpha, "min_alpha"))
    if not (np.isfinite(a) and a > 0):
        raise ValueError(f"`min_alpha` must be a finite positive Pareto index; got {min_alpha!r}")
    return a


def _validate(counts: ArrayLike, bounds: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    c = _floats(counts, "counts")
    b = _floats(bounds, "bounds")
    if b.ndim != 1 or b.size < 2:
        raise ValueError("bounds must be a 1-d array of at least two bracket edges")
    if c.ndim == 0 or c.shape[-1] != b.size - 1:
        raise ValueError(
            f"counts must have last dimension len(bounds) - 1 = {b.size - 1}, got {c.shape}"
        )
    if not np.all(np.isfinite(b[:-1])) or np.isnan(b[-1]):
        raise ValueError("only the last bound may be infinite")
    if np.any(np.diff(b) <= 0):
        raise ValueError("bounds must be strictly increasing")
    if np.any(c < 0) or np.any(~np.isfinite(c)):
        raise ValueError("counts must be finite and non-negative")
    return c, b


def _shares_below(c: np.ndarray) -> np.ndarray:
    """``F`` of shape ``(..., K + 1)``: share below each bound (NaN where the total is 0)."""
    total = c.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        cum = np.cumsum(c, axis=-1) / total
    cum[..., -1] = np.where(total[..., 0] > 0, 1.0, np.nan)  # exact 1, no rounding drift
    zeros = np.zeros((*c.shape[:-1], 1))
    return np.concatenate([np.where(total > 0, zeros, np.nan), cum], axis=-1)


def pareto_alpha(counts: ArrayLike, bounds: ArrayLike, *, min_alpha: float = 1.0) -> np.ndarray:
    """Pareto index of the open top bracket, fitted from the two top brackets.

    Parameters
    ----------
    counts : array_like, shape (..., K)
        Non-negative bracket counts (any leading dimensions, e.g. one row per state).
    bounds : array_like, shape (K + 1,)
        Strictly increasing bracket edges; ``bounds[-1]`` is ``inf`` for an open top bracket.
        ``bounds[-3]`` must be positive.
    min_alpha : float, default 1.0
        Floor applied to the fitted index.

    Returns
    -------
    numpy.ndarray, shape (...)
        ``max(min_alpha, log(S_{K-2} / S_{K-1}) / log(b_{K-1} / b_{K-2}))``, where ``S_k`` is
        the share of counts at or above ``bounds[k]``; NaN where the top bracket is empty or
        the total is 0.

    Examples
    --------
    Counts drawn exactly from a Pareto distribution with index 2 above 100:

    >>> bounds = [0.0, 100.0, 200.0, float("inf")]
    >>> pareto_alpha([0.0, 75.0, 25.0], bounds)
    array(2.)
    """
    c, b = _validate(counts, bounds)
    min_alpha = _check_min_alpha(min_alpha)
    if c.shape[-1] < 2:
        raise ValueError("a Pareto tail needs at least two brackets")
    if b[-3] <= 0:
        raise ValueError("the second-highest bracket must start above 0 for a Pareto fit")
    s_low = c[..., -2] + c[..., -1]
    s_top = c[..., -1]
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = np.log(s_low / s_top) / np.log(b[-2] / b[-3])
    alpha = np.where(s_top > 0, np.maximum(alpha, min_alpha), np.nan)
    return alpha


def _check_pareto_brackets(pareto_brackets: int) -> None:
    if pareto_brackets not in (1, 2):
        raise ValueError(f"pareto_brackets must be 1 or 2, got {pareto_brackets!r}")


def _law_inputs(
    counts: ArrayLike,
    bounds: ArrayLike,
    points: ArrayLike,
    name: str,
    pareto_brackets: int,
    min_alpha: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Checked counts, bounds and 1-d evaluation points (argument ``name``) of a bracket law."""
    c, b = _validate(counts, bounds)
    _check_pareto_brackets(pareto_brackets)
    _check_min_alpha(min_alpha)
    pts = _floats(points, name)
    if pts.ndim != 1:
        raise ValueError(f"`{name}` must be 1-d")
    return c, b, pts


def bracket_quantiles(
    counts: ArrayLike,
    bounds: ArrayLike,
    probs: ArrayLike,
    *,
    pareto_brackets: int = 1,
    min_alpha: float = 1.0,
) -> np.ndarray:
    """Quantile function from bracket counts: linear within brackets, Pareto in the open top.

    Parameters
    ----------
    counts : array_like, shape (..., K)
        Non-negative bracket counts; leading dimensions are independent distributions.
    bounds : array_like, shape (K + 1,)
        Strictly increasing bracket edges. If ``bounds[-1]`` is ``inf`` the top bracket is open
        and gets a Pareto tail fitted from the two top brackets (see the module docstring);
        otherwise every bracket is closed and interpolated linearly.
    probs : array_like, shape (m,)
        Probability levels, each strictly between 0 and 1.
    pareto_brackets : {1, 2}, default 1
        Number of top brackets following the fitted Pareto law (only with an open top
        bracket): 1, the open bracket only; 2, also the second-highest bracket.
    min_alpha : float, default 1.0
        Floor on the fitted Pareto index.

    Returns
    -------
    numpy.ndarray, shape (..., m)
        Quantiles; NaN for rows whose counts sum to 0.

    Examples
    --------
    Ten units in each of the brackets [0, 10), [10, 20), [20, 40):

    >>> bracket_quantiles([10, 10, 10], [0, 10, 20, 40], [0.25, 0.5, 0.9])
    array([ 7.5, 15. , 34. ])

    With an open top bracket, quantiles above its lower edge follow the Pareto tail
    (here ``alpha = log(2) / log(2) = 1``, so ``Q(0.9) = 200 * 0.25 / 0.1``):

    >>> bounds = [0, 100, 200, float("inf")]
    >>> bracket_quantiles([50, 25, 25], bounds, [0.5, 0.6, 0.9])
    array([100., 140., 500.])
    >>> bracket_quantiles([50, 25, 25], bounds, [0.5, 0.6, 0.9], pareto_brackets=2)
    array([100., 125., 500.])
    """
    c, b, q = _law_inputs(counts, bounds, probs, "probs", pareto_brackets, min_alpha)
    if np.any(~(q > 0) | ~(q < 1)):
        raise ValueError("probs must lie strictly between 0 and 1")
    n_br = b.size - 1
    open_top = bool(np.isinf(b[-1]))

    shares = _shares_below(c)  # (..., K + 1)
    # bracket index k with F_k < q <= F_{k+1}: number of upper edges whose share is below q
    k = (shares[..., None, 1:] < q[:, None]).sum(axis=-1)  # (..., m)
    k = np.minimum(k, n_br - 1)  # only reached through NaN rows
    f_lo = np.take_along_axis(shares, k, axis=-1)
    f_hi = np.take_along_axis(shares, k + 1, axis=-1)
    lo = b[k]
    hi = b[k + 1]
    width = f_hi - f_lo
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        frac = np.where(width > 0, (q - f_lo) / width, 1.0)
        out = lo + frac * (hi - lo)
        if open_top:
            alpha = pareto_alpha(c, b, min_alpha=min_alpha)
            a = alpha[..., None]
            s_top = 1.0 - shares[..., -2:-1]
            out = np.where(k == n_br - 1, b[-2] * (s_top / (1.0 - q)) ** (1.0 / a), out)
            if pareto_brackets == 2:
                s_pen = 1.0 - shares[..., -3:-2]
                use = (k == n_br - 2) & _law_fits(c, b, alpha)[..., None]
                out = np.where(use, b[-3] * (s_pen / (1.0 - q)) ** (1.0 / a), out)
    total = c.sum(axis=-1)
    return np.where((total > 0)[..., None], out, np.nan)


def _law_fits(c: np.ndarray, b: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Whether the (possibly floored) index still passes through both top-bracket edges."""
    s_low = c[..., -2] + c[..., -1]
    s_top = c[..., -1]
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = np.log(s_low / s_top) / np.log(b[-2] / b[-3])
    return np.isfinite(alpha) & np.isclose(alpha, raw, rtol=1e-12, atol=0.0)


def bracket_cdf(
    x: ArrayLike,
    counts: ArrayLike,
    bounds: ArrayLike,
    *,
    pareto_brackets: int = 1,
    min_alpha: float = 1.0,
) -> np.ndarray:
    """CDF implied by :func:`bracket_quantiles` (its inverse on the support).

    Parameters
    ----------
    x : array_like, shape (m,)
        Points at which to evaluate the CDF.
    counts : array_like, shape (..., K)
        Non-negative bracket counts.
    bounds : array_like, shape (K + 1,)
        Strictly increasing bracket edges, ``bounds[-1]`` possibly ``inf``.
    pareto_brackets : {1, 2}, default 1
        As in :func:`bracket_quantiles`.
    min_alpha : float, default 1.0
        Floor on the fitted Pareto index.

    Returns
    -------
    numpy.ndarray, shape (..., m)
        ``F(x)``: 0 below ``bounds[0]``, piecewise linear on closed brackets, Pareto on an open
        top bracket, 1 above a closed top.

    Examples
    --------
    >>> bracket_cdf([5.0, 15.0, 30.0], [10, 10, 10], [0, 10, 20, 40])
    array([0.16666667, 0.5       , 0.83333333])
    """
    c, b, xs = _law_inputs(counts, bounds, x, "x", pareto_brackets, min_alpha)
    if np.isnan(xs).any():
        raise ValueError("`x` must not contain NaN (the CDF is evaluated at each point)")
    shares = _shares_below(c)
    n_br = b.size - 1
    open_top = bool(np.isinf(b[-1]))
    k = np.clip(np.searchsorted(b, xs, side="right") - 1, 0, n_br - 1)  # (m,)
    f_lo = shares[..., k]
    f_hi = shares[..., k + 1]
    lo = b[k]
    hi = b[k + 1]
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        frac = np.clip((xs - lo) / (hi - lo), 0.0, 1.0)
        out = f_lo + frac * (f_hi - f_lo)
        if open_top:
            alpha = pareto_alpha(c, b, min_alpha=min_alpha)
            a = alpha[..., None]
            s_top = 1.0 - shares[..., -2:-1]
            tail = 1.0 - s_top * (b[-2] / np.maximum(xs, b[-2])) ** a
            out = np.where(k == n_br - 1, np.where(s_top > 0, tail, 1.0), out)
            if pareto_brackets == 2:
                s_pen = 1.0 - shares[..., -3:-2]
                pen = 1.0 - s_pen * (b[-3] / np.maximum(xs, b[-3])) ** a
                use = (k == n_br - 2) & _law_fits(c, b, alpha)[..., None]
                out = np.where(use, pen, out)
    out = np.where(xs < b[0], 0.0, out)
    return np.where(np.isnan(shares[..., :1]), np.nan, out)
