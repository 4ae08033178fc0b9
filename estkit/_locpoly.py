"""One-sided (boundary) local polynomial regression, batched over many outcome columns.

This is the numerical core shared by every regression-discontinuity estimator in the
package. For a cutoff ``c``, a bandwidth ``h_j`` per outcome column ``j`` and a side
(``"plus"``: ``x >= c``; ``"minus"``: ``x < c``) it solves, for every column at once,

.. math::

    \\hat\\alpha_j = \\arg\\min_a \\sum_i \\delta_i K(u_{ij}) (Y_{ij} - a' r_p(u_{ij}))^2,
    \\qquad u_{ij} = (x_i - c) / h_j,

with ``r_p(u) = (1, u, ..., u^p)`` (the *scaled* basis) and ``delta_i`` the side
indicator. It returns the coefficients, the equivalent-kernel intercept weights
``w_ij = K(u_ij) e_1'(X'WX)^{-1} r_p(u_ij)`` (so that ``alpha_0j = sum_i w_ij Y_ij``), the
fitted values, residuals and leverages of every unit inside the window.

Everything is vectorised with numpy: the Gram matrices of all columns are built with one
``einsum`` and solved with one batched ``numpy.linalg.solve``. When every column shares
one bandwidth the Gram matrix is built and factorised once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from estkit._kernels import Kernel, get_kernel
from estkit._parallel import both_sides
from estkit._validation import (
    NEGLIGIBLE_RTOL,
    _as_float_array,
    align_by_label,
    check_1d,
    check_bandwidth,
    check_finite,
    check_int,
    check_option,
    check_scalar,
)
from estkit.exceptions import EstimationError

__all__ = ["LocpolyFit", "Side", "locpoly_boundary", "polynomial_basis"]

Side = Literal["plus", "minus"]

# reciprocal condition number below which a Gram matrix is treated as singular
_RCOND_TOL = 1e-13


@dataclass(frozen=True)
class LocpolyFit:
    """Result of :func:`locpoly_boundary` (all arrays are read-only views of fresh arrays).

    A frozen dataclass whose constructor arguments are stored as attributes of the same
    names; ``intercept`` is ``coef[0]``.

    Parameters
    ----------
    coef : ndarray, shape (p + 1, m)
        Coefficients on the scaled basis ``(1, u, ..., u^p)``, ``u = (x - c) / h``; row 0
        is the boundary intercept (the estimate of ``E[Y | X = c^{+/-}]``). The derivative
        of order ``k`` at the cutoff is ``k! * coef[k] / h**k``.
    weights : ndarray, shape (n, m)
        Equivalent-kernel intercept weights; zero off-side and outside the window. Each
        column sums to one and ``coef[0] == weights.T @ Y`` column by column.
    fitted : ndarray, shape (n, m)
        ``r_p(u_i)' coef`` for units inside the window on the fitted side, zero elsewhere.
    resid : ndarray, shape (n, m)
        ``Y - fitted`` inside the window, zero elsewhere.
    leverage : ndarray, shape (n, m)
        Diagonal of the weighted hat matrix, ``K(u_i) r_p(u_i)'(X'WX)^{-1} r_p(u_i)``, inside
        the window (zero elsewhere); ``resid / sqrt(1 - leverage)`` is the usual HC2-type
        rescaled residual.
    in_window : ndarray of bool, shape (n, m)
        Units on the fitted side with ``K(u) > 0``.
    kernel_weights : ndarray, shape (n, m)
        ``K(u_ij)`` on the fitted side, zero elsewhere.
    n_eff : ndarray of int, shape (m,)
        Number of units inside the window per column.
    h : ndarray, shape (m,)
        Bandwidth used per column.
    p : int
        Polynomial order.
    side : {"plus", "minus"}
        Fitted side.
    cutoff : float
        The cutoff ``c``.
    kernel : str
        Kernel name.
    coef_variance : ndarray, shape (p + 1, m)
        Heteroskedasticity-robust (HC0 sandwich) variance of every coefficient,
        ``sum_i omega_ki^2 e_i^2`` with ``omega_k`` the equivalent-kernel weights of
        ``coef[k]``.

    Examples
    --------
    >>> x = np.linspace(0.0, 1.0, 11)
    >>> fit = locpoly_boundary(x, 2.0 + 3.0 * x, 0.0, 0.5, 1, "uniform", "plus")
    >>> fit.coef.shape, int(fit.n_eff[0]), round(float(fit.intercept[0]), 10)
    ((2, 1), 6, 2.0)
    """

    coef: np.ndarray
    weights: np.ndarray
    fitted: np.ndarray
    resid: np.ndarray
    leverage: np.ndarray
    in_window: np.ndarray
    kernel_weights: np.ndarray
    n_eff: np.ndarray
    h: np.ndarray
    p: int
    side: str
    cutoff: float
    kernel: str
    coef_variance: np.ndarray

    @property
    def intercept(self) -> np.ndarray:
        """Boundary intercepts ``coef[0]`` (shape ``(m,)``)."""
        return self.coef[0]


def polynomial_basis(u: np.ndarray, p: int) -> np.ndarray:
    """Stack ``u**0, ..., u**p`` along a new last axis.

    Powers are built by repeated multiplication (as the reference Fortran does), which
    keeps the basis bit-for-bit reproducible.

    Parameters
    ----------
    u : array-like
        Points (finite), any shape.
    p : int
        Highest power (>= 0).

    Returns
    -------
    numpy.ndarray of shape ``u.shape + (p + 1,)``
        ``out[..., k] = u**k``.

    Examples
    --------
    >>> polynomial_basis(np.array([2.0, 3.0]), 2).tolist()
    [[1.0, 2.0, 4.0], [1.0, 3.0, 9.0]]
    """
    u = _as_float_array(u, "u")
    check_finite(u, "u")
    p = check_int(p, "p", minimum=0)
    out = np.empty((*u.shape, p + 1))
    out[..., 0] = 1.0
    for k in range(1, p + 1):
        out[..., k] = out[..., k - 1] * u
    return out


def _side_mask(xc: np.ndarray, side: str) -> np.ndarray:
    return xc >= 0.0 if side == "plus" else xc < 0.0


def check_running_and_outcomes(
    x: object, Y: object, *, weights: object = None, y_name: str = "Y"
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Door check shared by the local polynomial and bandwidth entry points.

    pandas inputs are aligned by label (:func:`estkit.align_by_label`); ``x`` becomes a
    finite 1-D array, ``Y`` a finite (n, m) array (a 1-D ``Y`` is one column) and
    ``weights`` a finite non-negative 1-D array with at least one positive entry.
    """
    aligned, _ = align_by_label({"x": x, y_name: Y, "weights": weights})
    xv = check_1d(aligned["x"], "x")
    Ym = _as_float_array(aligned[y_name], y_name)
    if Ym.ndim == 1:
        Ym = Ym[:, None]
    if Ym.ndim != 2 or Ym.shape[0] != xv.shape[0] or Ym.shape[1] == 0:
        raise ValueError(
            f"`{y_name}` must have shape (n, m) with n = {xv.shape[0]} (one row per unit of "
            f"`x`); got {Ym.shape}."
        )
    check_finite(Ym, y_name)
    wt = None
    if aligned["weights"] is not None:
        wt = check_1d(aligned["weights"], "weights")
        if wt.shape != xv.shape or np.any(wt < 0) or not np.any(wt > 0):
            raise ValueError(
                f"`weights` must be non-negative and finite with shape ({xv.shape[0]},), with "
                "at least one positive weight."
            )
    return xv, Ym, wt


def _center_scale(Y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Centre every column at its mean and divide by one common scale.

    Local polynomial coefficients are equivariant (``fit(a Y + c) = a fit(Y) + c e0``), so
    the fit runs on ``(Y - c) / a`` and is mapped back: a level of ``1e12`` or a scale of
    ``1e300`` costs no more precision than the data's own representation.

    A large float64 matrix (r3d's n x m quantile matrices) has its extremes and its
    centring/scaling pass split into two halves of rows run in two threads (NumPy
    releases the GIL in both): extremes are exact and the pass is elementwise, so the
    values are the serial ones bit for bit; the column means stay one serial reduction.
    """
    if Y.shape[0] == 0:
        return Y, np.zeros(Y.shape[1]), 1.0
    n = Y.shape[0]
    split = n > 1 and Y.size >= _THREADED_SIZE and Y.dtype == np.float64 and Y.flags.c_contiguous
    halves = (slice(0, n // 2), slice(n // 2, n))

    def over_rows(work: Callable[[slice], Any]) -> list[Any]:
        if not split:
            return [work(slice(None))]
        return list(both_sides(lambda: work(halves[0]), lambda: work(halves[1])))

    # column extremes once (no |Y| temporaries: r3d passes n x m quantile matrices)
    ext = over_rows(lambda r: (Y[r].max(axis=0), Y[r].min(axis=0)))
    hi, lo = ext[0]
    for h1, l1 in ext[1:]:
        hi, lo = np.maximum(hi, h1), np.minimum(lo, l1)  # NaN propagates as in max/min
    pre = float(max(np.abs(hi).max(), np.abs(lo).max()))
    if pre > 1e300:  # sums of values near the float limit would overflow: scale first
        Y, hi, lo = Y / pre, hi / pre, lo / pre
    else:
        pre = 1.0
    c = Y.mean(axis=0)
    flat, a = _flat_and_spread(hi, lo, c)
    any_flat = bool(flat.any())
    scale = a != 0.0 and bool(np.isfinite(a))
    Z = np.empty(Y.shape, dtype=np.result_type(Y, c))  # the dtype of Y - c

    def centre(r: slice) -> None:
        zr = Z[r]
        np.subtract(Y[r], c, out=zr)
        if any_flat:
            zr[:, flat] = 0.0
        if scale:
            zr /= a

    over_rows(centre)
    return (Z, c * pre, a * pre) if scale else (Z, c * pre, pre)


#: elements of Y from which :func:`_center_scale` splits its passes over two threads
_THREADED_SIZE = 2**22


def _flat_and_spread(hi: np.ndarray, lo: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, float]:
    """From the column extremes and means: the columns constant up to rounding residue (no
    variation: centred to exactly zero; the rule of estkit.negligible_variation, on the
    extremes) and the common spread ``a`` (0 when every column is flat)."""
    flat = _flat_columns(hi, lo)
    a = float(np.max(np.maximum(hi - c, c - lo), initial=0.0))
    return flat, 0.0 if flat.all() else a


def _flat_columns(hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """Columns whose extremes differ by rounding residue only (estkit.negligible_variation)."""
    return (hi - lo) <= NEGLIGIBLE_RTOL * np.maximum(np.abs(hi), np.abs(lo))


def locpoly_boundary(
    x: np.ndarray,
    Y: np.ndarray,
    cutoff: float,
    h: float | np.ndarray,
    p: int,
    kernel: str | Kernel,
    side: Side,
    *,
    weights: np.ndarray | None = None,
    min_units: int | None = None,
) -> LocpolyFit:
    """Fit one-sided local polynomials of order ``p`` at the cutoff, for many columns at once.

    Parameters
    ----------
    x : array_like, shape (n,)
        Running variable.
    Y : array_like, shape (n,) or (n, m)
        Outcomes; one column per outcome (e.g. per quantile level).
    cutoff : float
        Cutoff ``c``. ``side="plus"`` uses ``x >= c``; ``side="minus"`` uses ``x < c``.
    h : float or array_like, shape (m,)
        Bandwidth, common or per column; must be positive and finite (a length-1 sequence
        is read as the common bandwidth).
    p : int
        Polynomial order (``p >= 0``).
    kernel : str or Kernel
        Kernel name (``"triangular"``, ``"epanechnikov"``, ``"uniform"``, ``"gaussian"``)
        or a :class:`estkit._kernels.Kernel`. Compact kernels include the boundary
        ``|u| = 1``, where the triangular and Epanechnikov kernels are zero anyway.
    side : {"plus", "minus"}
        Side of the cutoff to fit.
    weights : array_like, shape (n,), optional
        Non-negative unit weights multiplying the kernel weights (e.g. sampling weights).
    min_units : int, optional
        Minimum number of units with positive kernel weight required in every window
        (default ``p + 1``, the identification minimum; pass ``p + 2`` to also require a
        residual degree of freedom).

    Returns
    -------
    LocpolyFit
        Coefficients, intercept weights, fitted values, residuals and leverages.

    Raises
    ------
    estkit.exceptions.EstimationError
        (a ``ValueError``) when a window holds fewer than ``p + 1`` distinct points or
        its Gram matrix is numerically singular; the message reports the number of units
        in the window on each side, the number of distinct running-variable values on the
        fitted side, the cutoff, the bandwidth and the column.
    ValueError, TypeError
        For NaN/inf or non-numeric data, mismatched lengths, pandas inputs with different
        labels (pandas inputs with the same labels are paired by label), or invalid
        options; the message names the argument.

    Notes
    -----
    The fit runs on centred, rescaled outcome columns and normalised weights and is mapped
    back (the coefficients are equivariant), so ``Y + 1e12``, ``1e300 * Y`` or weights of
    ``1e307`` cost no precision beyond the data's own representation. Columns that are
    constant up to rounding residue (:func:`estkit.negligible_variation`) are fitted
    exactly: intercept at their mean, all other coefficients zero.

    Examples
    --------
    A quadratic is reproduced exactly by a local quadratic fit:

    >>> x = np.linspace(-1, 1, 41)
    >>> y = 1.0 + 2.0 * x - 3.0 * x**2
    >>> fit = locpoly_boundary(x, y, 0.0, 0.5, 2, "triangular", "plus")
    >>> np.round(fit.coef[:, 0], 10).tolist()  # (1, 2h, -3h^2) on the scaled basis
    [1.0, 1.0, -0.75]
    >>> round(float(fit.weights.sum()), 12)
    1.0
    """
    xv, Ym, wt = check_running_and_outcomes(x, Y, weights=weights)
    cutoff = check_scalar(cutoff, "cutoff")
    p = check_int(p, "p", minimum=0)
    hv = check_bandwidth(h, Ym.shape[1], "h")
    side = check_option(side, "side", Side)
    if min_units is not None:
        min_units = check_int(min_units, "min_units", minimum=1)
    if not np.all(np.isfinite(xv - cutoff)):
        raise ValueError(
            "`x` - `cutoff` overflows (values near the float limit); rescale `x` and `cutoff`."
        )
    return _locpoly(
        xv, Ym, cutoff, hv, p, get_kernel(kernel), side, weights=wt, min_units=min_units
    )


def _locpoly(
    xv: np.ndarray,
    Ym: np.ndarray,
    cutoff: float,
    hv: np.ndarray,
    p: int,
    kern: Kernel,
    side: str,
    *,
    weights: np.ndarray | None = None,
    min_units: int | None = None,
) -> LocpolyFit:
    """Trusted core of :func:`locpoly_boundary`: ``xv`` finite (n,), ``Ym`` finite (n, m),
    ``hv`` positive (m,), ``xv - cutoff`` finite; nothing is re-checked."""
    n, m = Ym.shape
    wt = weights
    if wt is not None:
        wt = wt / wt.max()  # the fit is invariant to a common factor: no overflow at 1e307
    xc = xv - cutoff
    on_side = _side_mask(xc, side)

    common_h = bool(np.all(hv == hv[0]))
    hcols = hv[:1] if common_h else hv
    # only units on this side and inside the widest window can get weight
    rows = on_side & (np.abs(xc) <= hcols.max()) if kern.compact else on_side.copy()
    if wt is not None:
        rows &= wt > 0
    ridx = np.flatnonzero(rows)
    U = xc[ridx, None] / hcols[None, :]  # (r, k)
    Kw = kern(U)
    if wt is not None:
        Kw = Kw * wt[ridx, None]
    inw = Kw > 0
    # Gram matrices from the 2p + 1 kernel-weighted power sums, one (p+1)x(p+1) per column
    powers = [np.ones_like(U)]
    for _ in range(2 * p):
        powers.append(powers[-1] * U)
    S = np.stack([np.sum(Kw * pw, axis=0) for pw in powers])  # (2p+1, k)
    hankel = np.add.outer(np.arange(p + 1), np.arange(p + 1))
    G = np.moveaxis(S[hankel], -1, 0)  # (k, p+1, p+1)
    _check_windows(G, inw, xc[ridx], hcols, p, side, common_h, m, xc, min_units, cutoff)
    Ginv = np.linalg.inv(G)
    Ys, y_center, y_scale = _center_scale(Ym[ridx])
    if common_h:
        KR = Kw[:, 0, None] * np.stack([pw[:, 0] for pw in powers[: p + 1]], axis=1)  # (r, p+1)
        coef = Ginv[0] @ (KR.T @ Ys)  # (p+1, m)
        omega = KR @ Ginv[0].T  # (r, p+1): equivalent-kernel weights of every coefficient
        w_r = omega[:, :1]
        lev_r = (Kw[:, 0] * _poly_eval(_antidiagonal_sums(Ginv[0]), U[:, 0]))[:, None]
        fit_r = _poly_eval(coef, U[:, 0][:, None])  # (r, m)
    else:
        rhs = np.stack([np.sum(Kw * Ys * pw, axis=0) for pw in powers[: p + 1]])  # (p+1, m)
        coef = np.einsum("jab,bj->aj", Ginv, rhs)
        w_r = Kw * _poly_eval(Ginv[:, 0, :].T, U)
        lev_r = Kw * _poly_eval(_antidiagonal_sums(Ginv), U)
        fit_r = _poly_eval(coef, U)
    inw_r = np.broadcast_to(inw, (ridx.size, m))
    res_r = np.where(inw_r, Ys - fit_r, 0.0)
    e2 = res_r**2
    if common_h:
        coef_var = (omega**2).T @ e2  # (p+1, m)
    else:
        coef_var = np.stack(
            [np.sum((Kw * _poly_eval(Ginv[:, a, :].T, U)) ** 2 * e2, axis=0) for a in range(p + 1)]
        )
    # back to the units of Y: coefficients are equivariant, the intercept carries the level
    with np.errstate(over="ignore", invalid="ignore"):  # beyond the float range: infinite
        coef = coef * y_scale
        coef[0] += y_center
        coef_var = coef_var * np.float64(y_scale) ** 2
        fit_r = fit_r * y_scale + y_center
        res_r = res_r * y_scale
    # quantities that do not vary over columns (common bandwidth) are read-only broadcast
    # views of one (n, 1) column: (n, m) semantics without (n, m) memory
    Wint = _scatter(ridx, w_r, n, m)
    lev = _scatter(ridx, lev_r, n, m)
    Kfull = _scatter(ridx, Kw, n, m)
    inwin = _scatter(ridx, inw, n, m, dtype=bool)
    fitted = _scatter(ridx, np.where(inw_r, fit_r, 0.0), n, m)
    resid = _scatter(ridx, res_r, n, m)
    return LocpolyFit(
        coef=coef,
        weights=Wint,
        fitted=fitted,
        resid=resid,
        leverage=lev,
        in_window=inwin,
        kernel_weights=Kfull,
        n_eff=inwin.sum(axis=0).astype(int),
        h=hv.copy(),
        p=p,
        side=side,
        cutoff=float(cutoff),
        kernel=kern.name,
        coef_variance=coef_var,
    )


def _scatter(ridx: np.ndarray, vals: np.ndarray, n: int, m: int, dtype: type = float) -> np.ndarray:
    """(n, m) array with ``vals`` in rows ``ridx`` and zeros elsewhere; a one-column
    ``vals`` gives a read-only broadcast view instead of m copies."""
    out: np.ndarray = np.zeros((n, vals.shape[1]), dtype=dtype)
    out[ridx] = vals
    return out if vals.shape[1] == m else np.broadcast_to(out, (n, m))


def _poly_eval(c: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Horner evaluation of ``sum_a c[a] u^a``; ``c`` is (d+1,) or (d+1, k) against u (r, k)."""
    out = np.zeros(np.broadcast_shapes(u.shape, c.shape[1:]))
    for a in range(c.shape[0] - 1, -1, -1):
        out = out * u + c[a]
    return out


def _antidiagonal_sums(A: np.ndarray) -> np.ndarray:
    """``c[r] = sum_{a+b=r} A[..., a, b]``: coefficients of ``r(u)' A r(u)`` in powers of u.

    Returns shape (2p+1,) for one matrix, or (2p+1, k) for a stack of k matrices.
    """
    p1 = A.shape[-1]
    idx = np.add.outer(np.arange(p1), np.arange(p1))
    out = np.zeros((2 * p1 - 1, *A.shape[:-2]))
    for r in range(2 * p1 - 1):
        mask = idx == r
        out[r] = A[..., mask].sum(axis=-1)
    return out


def _check_windows(
    G: np.ndarray,
    inw: np.ndarray,
    xr: np.ndarray,
    hcols: np.ndarray,
    p: int,
    side: str,
    common_h: bool,
    m: int,
    xc: np.ndarray,
    min_units: int | None,
    cutoff: float,
) -> None:
    """Raise an informative EstimationError for under-identified or singular windows."""
    # distinct design points per window (p + 1 are needed to identify a degree-p fit)
    bad: int | None = None
    reason = ""
    counts = inw.sum(axis=0)
    need = p + 1 if min_units is None else int(min_units)
    d = np.sqrt(np.abs(np.diagonal(G, axis1=1, axis2=2)))  # (k, p+1)
    with np.errstate(divide="ignore", invalid="ignore"):
        Gs = G / (d[:, :, None] * d[:, None, :])
        rcond = 1.0 / np.linalg.cond(np.where(np.isfinite(Gs), Gs, 0.0))
    # the scaled design (1, u, ..., u^p) underflows when every |u| in the window is tiny,
    # i.e. the bandwidth is absurdly large for the spread of x (e.g. h = 1 for x ~ 1e-200)
    with np.errstate(divide="ignore"):
        umax = np.max(np.where(inw, np.abs(xr[:, None] / hcols[None, :]), 0.0), axis=0, initial=0)
        tiny = 2 * max(p, 1) * np.log2(np.where(umax > 0, umax, 1.0)) < -960
    for j in range(G.shape[0]):
        if counts[j] < need:
            bad, reason = j, f"fewer than {need} units in the window"
            break
        if tiny[j]:
            bad = j
            reason = (
                f"the bandwidth is {1 / umax[j]:.3g} times the largest |x - cutoff| in the "
                "window, too large for the scale of `x`: choose `h` on the scale of x"
            )
            break
        # tied running-variable values only matter for small windows
        if counts[j] < 50 * (p + 1) and np.unique(xr[inw[:, j]]).size < p + 1:
            bad, reason = j, f"fewer than p + 1 = {p + 1} distinct running-variable values"
            break
        if np.any(d[j] == 0):
            bad, reason = j, "a zero column in the design"
            break
        if not rcond[j] >= _RCOND_TOL:
            bad, reason = j, "a numerically singular Gram matrix"
            break
    if bad is None:
        return
    hj = float(hcols[bad])
    n_plus = int(np.sum((xc >= 0) & (np.abs(xc) <= hj)))
    n_minus = int(np.sum((xc < 0) & (np.abs(xc) <= hj)))
    n_distinct = int(np.unique(xr[inw[:, bad]]).size)
    col = "all columns" if common_h and m > 1 else f"column {bad}"
    where = "at or above" if side == "plus" else "below"
    raise EstimationError(
        f"Local polynomial of order p = {p} on the {side} side cannot be estimated with "
        f"bandwidth h = {hj:.6g} ({col}): the kernel window |x - cutoff| <= h holds "
        f"{n_plus} unit(s) at or above the cutoff and {n_minus} below it ({reason}); the "
        f"units {where} the cutoff = {cutoff:.6g} in the window take {n_distinct} distinct "
        f"running-variable value(s). Use a larger bandwidth or a lower polynomial order."
    )
