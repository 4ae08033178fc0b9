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

from dataclasses import dataclass
from typing import Literal

import numpy as np

from estkit._kernels import Kernel, get_kernel
from estkit.exceptions import EstimationError

__all__ = ["LocpolyFit", "Side", "locpoly_boundary", "polynomial_basis"]

Side = Literal["plus", "minus"]

# reciprocal condition number below which a Gram matrix is treated as singular
_RCOND_TOL = 1e-13


@dataclass(frozen=True)
class LocpolyFit:
    """Result of :func:`locpoly_boundary` (all arrays are read-only views of fresh arrays).

    Attributes
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

    @property
    def intercept(self) -> np.ndarray:
        """Boundary intercepts ``coef[0]`` (shape ``(m,)``)."""
        return self.coef[0]


def polynomial_basis(u: np.ndarray, p: int) -> np.ndarray:
    """Stack ``u**0, ..., u**p`` along a new last axis.

    Powers are built by repeated multiplication (as the reference Fortran does), which
    keeps the basis bit-for-bit reproducible.

    Examples
    --------
    >>> polynomial_basis(np.array([2.0, 3.0]), 2).tolist()
    [[1.0, 2.0, 4.0], [1.0, 3.0, 9.0]]
    """
    u = np.asarray(u, dtype=float)
    out = np.empty((*u.shape, p + 1))
    out[..., 0] = 1.0
    for k in range(1, p + 1):
        out[..., k] = out[..., k - 1] * u
    return out


def _side_mask(xc: np.ndarray, side: str) -> np.ndarray:
    if side == "plus":
        return xc >= 0.0
    if side == "minus":
        return xc < 0.0
    raise ValueError(f"`side` must be one of 'plus', 'minus'; got {side!r}.")


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
        Bandwidth, common or per column; must be positive and finite.
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

    Returns
    -------
    LocpolyFit
        Coefficients, intercept weights, fitted values, residuals and leverages.

    Raises
    ------
    estkit.exceptions.EstimationError
        (a ``ValueError``) when a window holds fewer than ``p + 1`` distinct points or
        its Gram matrix is numerically singular; the message reports the number of units
        in the window on each side, the bandwidth and the column.

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
    xv = np.asarray(x, dtype=float)
    if xv.ndim != 1:
        raise ValueError(f"`x` must be one-dimensional; got shape {xv.shape}.")
    Ym = np.asarray(Y, dtype=float)
    if Ym.ndim == 1:
        Ym = Ym[:, None]
    if Ym.ndim != 2 or Ym.shape[0] != xv.shape[0]:
        raise ValueError(f"`Y` must have shape (n, m) with n = {xv.shape[0]}; got {Ym.shape}.")
    n, m = Ym.shape
    p = int(p)
    if p < 0:
        raise ValueError(f"`p` must be >= 0; got {p}.")
    hv = np.asarray(h, dtype=float)
    if hv.ndim == 0:
        hv = np.full(m, float(hv))
    if hv.shape != (m,):
        raise ValueError(f"`h` must be a scalar or have shape ({m},); got {hv.shape}.")
    if not np.all(np.isfinite(hv)) or np.any(hv <= 0):
        raise ValueError("`h` must be positive and finite.")
    kern = get_kernel(kernel)
    xc = xv - float(cutoff)
    on_side = _side_mask(xc, side)
    if weights is not None:
        wt = np.asarray(weights, dtype=float)
        if wt.shape != (n,) or np.any(wt < 0) or not np.all(np.isfinite(wt)):
            raise ValueError(f"`weights` must be non-negative and finite with shape ({n},).")
    else:
        wt = None

    common_h = bool(np.all(hv == hv[0]))
    hcols = hv[:1] if common_h else hv
    U = xc[:, None] / hcols[None, :]  # (n, k) with k = 1 or m
    Kw = kern(U)
    Kw = np.where(on_side[:, None], Kw, 0.0)
    if wt is not None:
        Kw = Kw * wt[:, None]
    R = polynomial_basis(U, p)  # (n, k, p+1)
    G = np.einsum("ik,ika,ikb->kab", Kw, R, R)  # (k, p+1, p+1)
    inw = Kw > 0
    _check_windows(G, inw, xc, hcols, p, side, common_h, m)
    Ginv = np.linalg.inv(G)
    if common_h:
        coef = Ginv[0] @ (R[:, 0, :] * Kw[:, :1]).T @ Ym  # (p+1, m)
        row0 = Ginv[0, 0]  # (p+1,)
        w1 = Kw[:, 0] * (R[:, 0, :] @ row0)
        Wint = np.repeat(w1[:, None], m, axis=1)
        fitted = R[:, 0, :] @ coef
        lev1 = Kw[:, 0] * np.einsum("ia,ab,ib->i", R[:, 0, :], Ginv[0], R[:, 0, :])
        lev = np.repeat(lev1[:, None], m, axis=1)
        inwin = np.repeat(inw, m, axis=1)
        Kfull = np.repeat(Kw, m, axis=1)
    else:
        rhs = np.einsum("ij,ija->ja", Kw * Ym, R)  # (m, p+1)
        coef = np.einsum("jab,jb->aj", Ginv, rhs)
        Wint = Kw * np.einsum("ija,ja->ij", R, Ginv[:, 0, :])
        fitted = np.einsum("ija,aj->ij", R, coef)
        lev = Kw * np.einsum("ija,jab,ijb->ij", R, Ginv, R)
        inwin = inw
        Kfull = Kw
    fitted = np.where(inwin, fitted, 0.0)
    resid = np.where(inwin, Ym - fitted, 0.0)
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
    )


def _check_windows(
    G: np.ndarray,
    inw: np.ndarray,
    xc: np.ndarray,
    hcols: np.ndarray,
    p: int,
    side: str,
    common_h: bool,
    m: int,
) -> None:
    """Raise an informative EstimationError for under-identified or singular windows."""
    # distinct design points per window (p + 1 are needed to identify a degree-p fit)
    bad: int | None = None
    reason = ""
    for j in range(G.shape[0]):
        pts = xc[inw[:, j]]
        if np.unique(pts).size < p + 1:
            bad, reason = j, f"fewer than p + 1 = {p + 1} distinct running-variable values"
            break
        d = np.sqrt(np.abs(np.diag(G[j])))
        if np.any(d == 0):
            bad, reason = j, "a zero column in the design"
            break
        Gs = G[j] / np.outer(d, d)
        if 1.0 / np.linalg.cond(Gs) < _RCOND_TOL:
            bad, reason = j, "a numerically singular Gram matrix"
            break
    if bad is None:
        return
    hj = float(hcols[bad])
    n_plus = int(np.sum((xc >= 0) & (np.abs(xc) <= hj)))
    n_minus = int(np.sum((xc < 0) & (np.abs(xc) <= hj)))
    col = "all columns" if common_h and m > 1 else f"column {bad}"
    raise EstimationError(
        f"Local polynomial of order p = {p} on the {side} side is not identified with "
        f"bandwidth h = {hj:.6g} ({col}): the kernel window |x - cutoff| <= h holds "
        f"{n_plus} unit(s) at or above the cutoff and {n_minus} below it ({reason}). "
        f"Use a larger bandwidth or a lower polynomial order."
    )
