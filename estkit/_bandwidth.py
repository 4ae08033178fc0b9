"""Plug-in (I)MSE-optimal bandwidths for boundary local polynomials at a cutoff.

Implements the three-step selector of Van Dijcke, "Regression Discontinuity Design with
Distribution-Valued Outcomes", Appendix "Bandwidth Selection" (itself following Chiang,
Hsu and Sasaki 2019, Supplement F, and Calonico, Cattaneo and Titiunik 2014, Remark 7):
the bandwidth is MSE-optimal for a local polynomial of order ``s`` and is then used with
order ``p > s``, which builds in the bias correction.

Step 1
    Density of the running variable at the cutoff, ``f = mean(K((x - c) / b)) / b`` with
    ``b = 1.06 sd(x) n^(-1/5)``; global polynomials of degree ``s + 1`` on each side give
    preliminary ``(s+1)``-th derivatives and residual variances, which yield pilot
    bandwidths through the bias/variance constants
    ``B = e0' Gamma^-1 Lambda m^(s+1) / (s+1)!`` and ``V = sigma^2 e0' Gamma^-1 Psi
    Gamma^-1 e0 / f``.
Step 2
    Local polynomial fits at the pilot bandwidths estimate the bias and variance terms.
Step 3
    ``h = ((V+ + V-) / (2 (s+1) (B+ - B-)^2))^(1/(2s+3)) n^(-1/(2s+3))`` per column
    (``criterion="mse"``) or with the column-integrated bias and variance
    (``criterion="imse"``, one bandwidth for all columns). Optionally the
    coverage-error rule of thumb of Calonico, Cattaneo and Farrell multiplies the
    bandwidth by ``n^(-s / ((2s+3)(s+3)))``.

``compat=True`` reproduces the R package R3D (``r3d_bwselect``) number for number,
including its departures from the paper (see :func:`select_bandwidth`). The selector is
generic: a scalar RD uses ``Y`` with one column; a fuzzy RD also passes ``T``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from math import factorial
from typing import Literal

import numpy as np

from estkit._kernels import Kernel, get_kernel
from estkit._locpoly import (
    _center_scale,
    check_running_and_outcomes,
    locpoly_boundary,
    polynomial_basis,
)
from estkit._validation import (
    _as_float_array,
    align_by_label,
    check_1d,
    check_bool,
    check_finite,
    check_int,
    check_option,
    check_scalar,
)
from estkit.exceptions import EstimationError, EstkitWarning

__all__ = [
    "BandwidthSelection",
    "KernelConstants",
    "density_at_cutoff",
    "kernel_constants",
    "rule_of_thumb_bandwidth",
    "select_bandwidth",
]

Criterion = Literal["mse", "imse"]

#: |x - cutoff| range handled without rescaling (paper mode rescales outside it, exactly)
_X_RANGE = (2.0**-20, 2.0**20)
#: range in which R3D's unscaled arithmetic stays finite (compat mode refuses outside it)
_X_RANGE_COMPAT = (1e-30, 1e30)

#: Weight of the bias variance in the regularised selector (Imbens-Kalyanaraman; rdrobust)
_REGULARIZATION = 3.0


@dataclass(frozen=True)
class KernelConstants:
    """One-sided kernel constants of an order-``s`` boundary fit.

    Built by :func:`kernel_constants`; a frozen dataclass whose constructor arguments are
    stored as attributes of the same names.

    Parameters
    ----------
    gamma_plus, gamma_minus : ndarray, shape (s+1, s+1)
        ``int_{R+/-} K(u) r_s(u) r_s(u)' du``.
    lambda_plus, lambda_minus : ndarray, shape (s+1,)
        ``int_{R+/-} u^(s+1) r_s(u) K(u) du``.
    psi_plus, psi_minus : ndarray, shape (s+1, s+1)
        ``int_{R+/-} K(u)^2 r_s(u) r_s(u)' du``.
    bias_plus, bias_minus : float
        ``e0' Gamma^-1 Lambda`` (the bias constant without the derivative and ``(s+1)!``).
    var_plus, var_minus : float
        ``e0' Gamma^-1 Psi Gamma^-1 e0``.

    Examples
    --------
    >>> kc = kernel_constants("uniform", 0)
    >>> kc.gamma_plus, kc.bias_plus, kc.var_plus
    (array([[0.5]]), 0.5, 1.0)
    """

    gamma_plus: np.ndarray
    gamma_minus: np.ndarray
    lambda_plus: np.ndarray
    lambda_minus: np.ndarray
    psi_plus: np.ndarray
    psi_minus: np.ndarray
    bias_plus: float
    bias_minus: float
    var_plus: float
    var_minus: float


@dataclass(frozen=True)
class BandwidthSelection:
    """Output of :func:`select_bandwidth`.

    A frozen dataclass whose constructor arguments are stored as attributes of the same
    names.

    Parameters
    ----------
    h : ndarray, shape (m,)
        Final bandwidth per column (all equal for ``criterion="imse"``), after the
        optional coverage-error adjustment.
    pilot_h : ndarray, shape (m,)
        Pilot bandwidths of Step 1.
    B_plus, B_minus : ndarray, shape (m,)
        Step-2 bias terms. Default mode: ``e0' Gamma^-1 Lambda m^(s+1) / (s+1)!`` with the
        ``(s+1)``-th derivative of an order-``(s+1)`` pilot fit. ``compat=True``: R3D's
        ``alpha[s] / (s+1)!`` (order-``s`` coefficient on the scaled basis).
    V_plus, V_minus : ndarray, shape (m,)
        Step-2 variance terms. Default mode: ``sigma^2 e0' Gamma^-1 Psi Gamma^-1 e0 / f``
        (paper's ``V``). ``compat=True``: R3D's intercept-weighted residual variance
        (without kernel constants and without ``1/f``).
    density : float
        ``f_X`` at the cutoff.
    density_bandwidth : float
        ``1.06 sd(x) n^(-1/5)``.
    criterion : {"mse", "imse"}
        Bandwidth criterion used.
    s, p : int
        Pilot order and final order.
    kernel : str
        Kernel name.
    compat : bool
        Whether R3D's compatibility formulas were used.
    coverage_correction : bool
        Whether the coverage-error adjustment was applied to ``h``.
    h_treatment, pilot_h_treatment : float or None
        Fuzzy designs: bandwidth and pilot bandwidth of the treatment (first-stage)
        regression.
    B_plus_treatment, B_minus_treatment, V_plus_treatment, V_minus_treatment : float or None
        Treatment bias and variance terms (same conventions as for the outcome).
    fallback : ndarray of bool, shape (m,), optional
        Columns whose final bandwidth fell back to the rule of thumb.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.uniform(-1, 1, 200)
    >>> y = x + (x >= 0) + rng.normal(0, 0.3, 200)
    >>> sel = select_bandwidth(x, y)
    >>> sel.h.shape, sel.criterion, sel.kernel, sel.h_treatment is None
    ((1,), 'mse', 'triangular', True)
    """

    h: np.ndarray
    pilot_h: np.ndarray
    B_plus: np.ndarray
    B_minus: np.ndarray
    V_plus: np.ndarray
    V_minus: np.ndarray
    density: float
    density_bandwidth: float
    criterion: str
    s: int
    p: int
    kernel: str
    compat: bool
    coverage_correction: bool
    h_treatment: float | None = None
    pilot_h_treatment: float | None = None
    B_plus_treatment: float | None = None
    B_minus_treatment: float | None = None
    V_plus_treatment: float | None = None
    V_minus_treatment: float | None = None
    fallback: np.ndarray | None = None


# --------------------------------------------------------------------------------------
# building blocks
# --------------------------------------------------------------------------------------


def density_at_cutoff(x: np.ndarray, cutoff: float, kernel: str | Kernel) -> tuple[float, float]:
    """Kernel density of ``x`` at the cutoff with Silverman's bandwidth.

    Parameters
    ----------
    x : array-like of shape (n,)
        Running variable (finite, at least two units).
    cutoff : float
        Point at which the density is estimated.
    kernel : str or Kernel
        Kernel name (see :func:`estkit.kernel_names`) or a :class:`estkit.Kernel`.

    Returns
    -------
    f : float
        ``mean(K((x - cutoff) / b)) / b``, the density estimate.
    b : float
        The bandwidth ``1.06 * sd(x) * n^(-1/5)`` (``sd`` with ``n - 1``).

    Raises
    ------
    ValueError
        If ``x`` has no spread.

    Examples
    --------
    >>> x = np.linspace(-1, 1, 201)
    >>> f, b = density_at_cutoff(x, 0.0, "uniform")
    >>> round(f, 2)
    0.5
    """
    xc = _running(x, cutoff)
    k = get_kernel(kernel)
    b = 1.06 * _sd(xc) * xc.size ** (-0.2)
    if not np.isfinite(b) or b <= 0:
        raise ValueError("`x` (the running variable) has no spread; cannot estimate its density.")
    return float(np.mean(k(xc / b)) / b), b


def _running(x: object, cutoff: object, *, min_length: int = 2) -> np.ndarray:
    """Door check of a running variable: finite, 1-D, ``min_length`` units; returns
    ``x - cutoff``."""
    xv = check_1d(x, "x", min_length=min_length)
    c = check_scalar(cutoff, "cutoff")
    xc = xv - c
    if not np.all(np.isfinite(xc)):
        raise ValueError(
            "`x` - `cutoff` overflows (values near the float limit); rescale `x` and `cutoff`."
        )
    return xc


def _sd(v: np.ndarray) -> float:
    """Sample standard deviation (``n - 1``) without overflow or underflow of the squares."""
    a = float(np.max(np.abs(v)))
    if a == 0.0:
        return 0.0
    return float(np.std(v / a, ddof=1)) * a


def rule_of_thumb_bandwidth(x: np.ndarray, cutoff: float = 0.0, order: int = 1) -> float:
    """Rule-of-thumb bandwidth ``1.06 sd(x) n^(-1/(2 order + 1))``.

    This is R3D's fallback when a bias estimate vanishes (``order = s``).

    Parameters
    ----------
    x : array-like of shape (n,)
        Running variable (finite, at least two units).
    cutoff : float, default 0.0
        Cutoff; ``x - cutoff`` is used (the standard deviation does not depend on it).
    order : int, default 1
        Order in the exponent ``-1 / (2 order + 1)``.

    Returns
    -------
    float
        The bandwidth (``sd`` with ``n - 1``).

    Raises
    ------
    ValueError
        If ``x`` has no spread.

    Examples
    --------
    >>> round(rule_of_thumb_bandwidth(np.array([-1.0, 0.0, 1.0]), order=2), 6)
    0.850906
    """
    xc = _running(x, cutoff)
    order = check_int(order, "order", minimum=0)
    h = 1.06 * _sd(xc) * xc.size ** (-1.0 / (2 * order + 1))
    if not h > 0:
        raise ValueError("`x` (the running variable) has no spread; no rule-of-thumb bandwidth.")
    return h


def kernel_constants(kernel: str | Kernel, s: int, *, compat: bool = False) -> KernelConstants:
    """Kernel constants ``Gamma, Lambda, Psi`` of an order-``s`` boundary fit, per side.

    Parameters
    ----------
    kernel : str or Kernel
        Kernel name or object.
    s : int
        Polynomial order of the boundary fit (>= 0).
    compat : bool, default False
        ``False``: exact integrals (closed-form kernel moments). ``True``: R3D's Riemann
        sum on ``seq(-1, 1, length.out = 1000)`` with weight ``2/1000`` per point, the
        plus side being the grid points ``>= 0`` and the minus side those ``< 0``.

    Returns
    -------
    KernelConstants
        The constants of both sides.

    Examples
    --------
    >>> kc = kernel_constants("triangular", 1)
    >>> round(float(kc.gamma_plus[0, 0]), 12)
    0.5
    """
    k = get_kernel(kernel)
    s = check_int(s, "s", minimum=0)
    compat = check_bool(compat, "compat")
    e0 = np.zeros(s + 1)
    e0[0] = 1.0
    if compat:
        grid = np.linspace(-1.0, 1.0, 1000)
        dw = 2.0 / grid.size
        parts = {}
        for side, sel in (("plus", grid >= 0), ("minus", grid < 0)):
            u = grid[sel]
            kv = k(u)
            r = polynomial_basis(u, s)
            gam = np.einsum("i,ia,ib->ab", kv * dw, r, r)
            lam = np.einsum("i,ia->a", u ** (s + 1) * kv * dw, r)
            psi = np.einsum("i,ia,ib->ab", kv**2 * dw, r, r)
            parts[side] = (gam, lam, psi)
    else:
        parts = {}
        for side, lo, hi in (("plus", 0.0, np.inf), ("minus", -np.inf, 0.0)):
            gam = k.moment_matrix(s, side=side)
            lam = np.array([k.moment(s + 1 + j, lower=lo, upper=hi) for j in range(s + 1)])
            psi = k.moment_matrix(s, power=2, side=side)
            parts[side] = (gam, lam, psi)
    out = {}
    for side, (gam, lam, psi) in parts.items():
        gi = np.linalg.inv(gam)
        out[side] = (gam, lam, psi, float(e0 @ gi @ lam), float(e0 @ gi @ psi @ gi @ e0))
    return KernelConstants(
        gamma_plus=out["plus"][0],
        gamma_minus=out["minus"][0],
        lambda_plus=out["plus"][1],
        lambda_minus=out["minus"][1],
        psi_plus=out["plus"][2],
        psi_minus=out["minus"][2],
        bias_plus=out["plus"][3],
        bias_minus=out["minus"][3],
        var_plus=out["plus"][4],
        var_minus=out["minus"][4],
    )


def _global_poly(xc: np.ndarray, Y: np.ndarray, degree: int) -> tuple[np.ndarray, np.ndarray]:
    """OLS of every column of ``Y`` on ``(1, x, ..., x^degree)``.

    Returns the ``degree``-th derivative ``degree! * coef[degree]`` and the sample variance
    (``n - 1`` divisor, as R's ``var(resid(lm(...)))``) of the residuals, per column.
    """
    X = polynomial_basis(xc, degree)
    # Householder QR, as R's lm(); LAPACK's SVD-based lstsq is ~20x slower here
    qmat, rmat = np.linalg.qr(X)
    coef = np.linalg.solve(rmat, qmat.T @ Y)  # (deg+1)^2 system; scipy's wrapper costs ms
    resid = Y - X @ coef
    return coef[degree] * factorial(degree), _column_var(resid, ddof=1)


def _column_var(Y: np.ndarray, ddof: int = 0) -> np.ndarray:
    """``np.var(Y, axis=0, ddof=ddof)`` of a tall, narrow block of columns, with the two
    column sums as matrix-vector products (about twice as fast as NumPy's strided
    reductions, and summed blockwise, so no less accurate)."""
    n = Y.shape[0]
    one = np.ones(n)
    dev = Y - (one @ Y) / n
    np.square(dev, out=dev)
    return (one @ dev) / (n - ddof)


def _global_poly_r(xc: np.ndarray, Y: np.ndarray, degree: int) -> tuple[np.ndarray, np.ndarray]:
    """R3D's ``fit_global_poly`` (28744db): ``lm(Y ~ poly(X, degree, raw = TRUE))``.

    With fewer than ``degree + 1`` distinct values of ``x``, R's pivoting QR aliases the
    top power (its coefficient is NA, so the derivative is 0) and the fit of the remaining
    powers interpolates the mean of ``Y`` at every distinct ``x``. A residual variance that
    is NA or below machine epsilon is replaced by 1.
    """
    k = np.unique(xc).size
    if k > degree:
        d, v = _global_poly(xc, Y, degree)
    else:
        _, inv = np.unique(xc, return_inverse=True)
        inv = inv.ravel()
        means = np.zeros((k, Y.shape[1]))
        np.add.at(means, inv, Y)
        means /= np.bincount(inv, minlength=k)[:, None]
        resid = Y - means[inv]
        d = np.zeros(Y.shape[1])
        v = np.var(resid, axis=0, ddof=1) if xc.size > 1 else np.full(Y.shape[1], np.nan)
    return d, np.where(v >= np.finfo(float).eps, v, 1.0)  # NaN compares False -> 1


def _final_h(num: np.ndarray, den: np.ndarray, s: int, n: int) -> np.ndarray:
    """``(num / (2 (s+1) den))^(1/(2s+3)) n^(-1/(2s+3))`` (NaN where undefined)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = num / (2.0 * (s + 1) * den)
        return ratio ** (1.0 / (2 * s + 3)) * float(n) ** (-1.0 / (2 * s + 3))


def _integration_weights(q: np.ndarray | None, m: int, compat: bool) -> np.ndarray:
    if compat or q is None or m < 2:
        dq = 1.0 if q is None or m < 2 else (np.max(q) - np.min(q)) / (m - 1)
        return np.full(m, dq)
    qv = np.asarray(q, dtype=float)
    w = np.zeros(m)
    d = np.diff(qv)
    w[:-1] += d / 2
    w[1:] += d / 2
    return w


# --------------------------------------------------------------------------------------
# main entry point
# --------------------------------------------------------------------------------------


def select_bandwidth(
    x: np.ndarray,
    Y: np.ndarray,
    cutoff: float = 0.0,
    *,
    criterion: Criterion = "mse",
    s: int = 1,
    p: int = 2,
    kernel: str | Kernel = "triangular",
    T: np.ndarray | None = None,
    q: np.ndarray | None = None,
    coverage_correction: bool = False,
    compat: bool = False,
    regularize: bool = False,
    memory_budget: int | None = None,
) -> BandwidthSelection:
    """Three-step plug-in bandwidth for boundary local polynomials at a cutoff.

    Parameters
    ----------
    x : array_like, shape (n,)
        Running variable.
    Y : array_like, shape (n,) or (n, m)
        Outcome columns (e.g. unit quantile functions on a grid); a scalar RD passes one
        column.
    cutoff : float, default 0
        The cutoff.
    criterion : {"mse", "imse"}, default "mse"
        ``"mse"``: one bandwidth per column. ``"imse"``: one bandwidth minimising the
        integrated MSE over the columns (``q`` gives the integration grid).
    s : int, default 1
        Order the bandwidth is MSE-optimal for (pilot order).
    p : int, default 2
        Order of the final local polynomial (recorded; the bandwidth depends on ``s``).
    kernel : str or Kernel, default "triangular"
        Kernel of the final estimator (density and kernel constants).
    T : array_like, shape (n,), optional
        Treatment for a fuzzy design; a separate (scalar) treatment bandwidth is selected.
    q : array_like, shape (m,), optional
        Grid of the columns (quantile levels), used by ``criterion="imse"`` for the
        integration weights (trapezoid rule; R3D: a constant ``dq``).
    coverage_correction : bool, default False
        Multiply the bandwidths by ``n^(-s/((2s+3)(s+3)))`` (coverage-error rule of thumb).
    compat : bool, default False
        Reproduce R3D's ``r3d_bwselect``: (1) the Step-2 fits always use the triangular
        kernel, while the density and kernel constants use ``kernel``; (2) the kernel
        constants are Riemann sums (see :func:`kernel_constants`); (3) the Step-3 bias
        term is the order-``s`` coefficient on the scaled basis divided by ``(s+1)!``,
        and the kernel constants are dropped in Step 3; (4) the Step-2 variance is the
        intercept-weighted mean of squared residuals over units with a *positive*
        intercept weight (negative-weight units dropped); (5) IMSE integrals are sums
        times the mean grid step; (6) the global pilot fits follow R3D 28744db's
        ``fit_global_poly``: a residual variance below machine epsilon (or NA) is replaced
        by 1 (e.g. the treatment below the cutoff under one-sided non-compliance), and a
        side with at most ``s + 1`` distinct values of ``x`` gets R's aliased fit
        (derivative 0, residuals about the mean at each value). The default follows the
        paper: exact constants, a Step-2 fit of order ``s + 1`` with the requested kernel
        estimates the ``(s+1)``-th derivative, kernel-weighted residual variances over
        every unit in the window.

    regularize : bool, default False
        Regularise the Step-3 bias term by its own sampling variance, as in
        Imbens-Kalyanaraman (2012) and Calonico-Cattaneo-Titiunik (2014):
        ``(B+ - B-)^2`` becomes ``(B+ - B-)^2 + 3 (Var B+ + Var B-)``. Without it the
        selector returns noise (huge bandwidths) when the true bias difference is zero,
        e.g. when the curvature is continuous at the cutoff. Paper mode only.
    memory_budget : int, optional
        Bytes of temporary arrays: the pilot fits run over blocks of columns of ``Y``
        sized to it (default: the size of ``Y``, at least 64 MiB). The bandwidths do
        not depend on it beyond floating-point rounding.

    Returns
    -------
    BandwidthSelection
        Final and pilot bandwidths with the bias and variance terms behind them.

    Raises
    ------
    ValueError
        For invalid inputs (NaN/inf, lengths, non-bool options, unknown names) or when one
        side of the cutoff is empty; an ``EstimationError`` when a side has too few
        distinct running-variable values for the pilot polynomial (paper mode) or a pilot
        window cannot identify the Step-2 fit. A TypeError for non-numeric arguments.

    Notes
    -----
    pandas inputs (``x``, ``Y``, ``T``) are paired by label (:func:`estkit.align_by_label`).
    The selection is equivariant: it runs on centred outcome columns (and, in paper mode,
    on outcomes and a running variable rescaled to order one), so ``Y + 1e12``,
    ``1e300 * Y`` or ``1e-300 * x`` give the same bandwidths (scaled with ``x``) up to
    the representation of the data. compat mode keeps R3D's unscaled arithmetic and its
    absolute thresholds, which are not scale-free.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.uniform(-1, 1, 500)
    >>> y = 1 + x + 0.5 * x**2 + 2 * (x >= 0) + rng.normal(0, 0.3, 500)
    >>> sel = select_bandwidth(x, y, kernel="triangular")
    >>> bool(0.05 < sel.h[0] < 2.0)
    True
    """
    aligned, _ = align_by_label({"x": x, "Y": Y, "T": T})
    xv, Ym, _ = check_running_and_outcomes(aligned["x"], aligned["Y"])
    cutoff = check_scalar(cutoff, "cutoff")
    criterion = check_option(criterion, "criterion", Criterion)
    s = check_int(s, "s", minimum=0)
    p = check_int(p, "p", minimum=0)
    coverage_correction = check_bool(coverage_correction, "coverage_correction")
    compat = check_bool(compat, "compat")
    regularize = check_bool(regularize, "regularize")
    if regularize and compat:
        raise ValueError("`regularize=True` is not part of R3D's selector; use compat=False.")
    n, m = Ym.shape
    kern = get_kernel(kernel)
    xc = _running(xv, cutoff, min_length=1)
    plus, minus = xc >= 0, xc < 0
    if not plus.any() or not minus.any():
        raise ValueError(
            f"The running variable `x` has no data on one side of the cutoff = {cutoff:g} "
            f"({int(plus.sum())} unit(s) at or above, {int(minus.sum())} below); check `cutoff`."
        )
    Tv = None
    if aligned["T"] is not None:
        Tv = check_1d(aligned["T"], "T")
        if Tv.size != n:
            raise ValueError(f"`T` must have length {n} (one value per unit); got {Tv.size}.")
    if q is not None:
        qv = _as_float_array(q, "q")
        if qv.shape != (m,) or np.any(np.diff(qv) <= 0):
            raise ValueError(
                f"`q` must be a strictly increasing grid with one point per column of `Y` "
                f"({m}); got shape {qv.shape}."
            )
        check_finite(qv, "q")
        q = qv

    if not compat:
        need = s + 3  # a degree-(s+1) global polynomial per side, plus a residual
        if plus.sum() < need or minus.sum() < need:
            raise ValueError(
                f"Bandwidth selection needs at least {need} units on each side of the cutoff "
                f"({int(plus.sum())} at or above, {int(minus.sum())} below); check `cutoff` "
                "or pass a bandwidth."
            )
        for side, mask, where in (("plus", plus, "at or above"), ("minus", minus, "below")):
            k = int(np.unique(xc[mask]).size)
            if k < s + 2:
                raise EstimationError(
                    f"Bandwidth selection: the {int(mask.sum())} unit(s) {where} the cutoff = "
                    f"{cutoff:g} ({side} side) take only {k} distinct running-variable "
                    f"value(s); the pilot polynomial of degree s + 1 = {s + 1} needs {s + 2}. "
                    "Pass a bandwidth explicitly, or check `x` and `cutoff`."
                )
    # the selector is equivariant in the outcome's level and (paper mode) its scale: work on
    # centred, scaled columns so that Y + 1e12 or 1e300 * Y select the same bandwidth
    Ym, _, y_scale = _center_scale(Ym)
    if compat:  # R3D's thresholds are absolute: keep the outcome's units
        Ym, y_scale = Ym * y_scale, 1.0
    t_scale = 1.0
    if Tv is not None:
        Tc, _, t_scale = _center_scale(Tv[:, None])
        Tv = Tc[:, 0]
        if compat:
            Tv, t_scale = Tv * t_scale, 1.0
    # the selector is equivariant in the running variable's scale too (h(a x) = a h(x)). Paper
    # mode brings an extreme scale to order one by a power of two (an exact rescaling) and
    # maps the results back; compat mode keeps R3D's unscaled arithmetic and absolute
    # thresholds, so it refuses scales at which that arithmetic over- or underflows.
    span = float(np.max(np.abs(xc)))
    x_unit, xw, cw = 1.0, xv, cutoff
    lo, hi = _X_RANGE_COMPAT if compat else _X_RANGE
    if not lo <= span <= hi:
        if compat:
            raise ValueError(
                f"`x` lies up to {span:.3g} from the cutoff: compat=True follows R3D's unscaled "
                f"arithmetic, which over- or underflows outside [{lo:.3g}, {hi:.3g}]. Rescale "
                "`x` and `cutoff` (bandwidths scale with them) or use compat=False."
            )
        x_unit = float(2.0 ** np.round(np.log2(span)))
        xw, cw = xc / x_unit, 0.0
        xc = xw
    f, b = density_at_cutoff(xw, cw, kern)
    kc = kernel_constants(kern, s, compat=compat)
    rot = rule_of_thumb_bandwidth(xw, cw, order=s)
    rot_shown = rot * x_unit
    wq = _integration_weights(q, m, compat)
    fs = factorial(s + 1)

    # ---- Step 1: global polynomials and pilot bandwidths --------------------------
    def pilot_terms(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if compat:
            d_p, v_p = _global_poly_r(xc[plus], Z[plus], s + 1)
            d_m, v_m = _global_poly_r(xc[minus], Z[minus], s + 1)
        else:
            d_p, v_p = _global_poly(xc[plus], Z[plus], s + 1)
            d_m, v_m = _global_poly(xc[minus], Z[minus], s + 1)
        C = kc.bias_plus * d_p / fs - kc.bias_minus * d_m / fs
        Cp = (v_p * kc.var_plus + v_m * kc.var_minus) / f
        return C, Cp

    # order of the Step-2 fit (R3D: s; paper: the Step-3 bias needs the (s+1)-th
    # derivative, which an order-s fit does not identify, so the Step-2 fit has order s + 1).
    # The pilot bandwidth is the MSE-optimal one of the order-s estimator in both modes: its
    # constants (C, C') are order-s constants, and only the order-s rate 1/(2s+3) makes the
    # result scale with the running variable (h(c x) = c h(x)).
    s2 = s if compat else s + 1
    # R3D's absolute thresholds; the paper mode only rejects non-finite or zero terms, so
    # that the selection does not depend on the units of x or Y
    tol_a, tol_b = (1e-14, 1e-28) if compat else (0.0, 0.0)

    def pilot_h(C: np.ndarray, Cp: np.ndarray, imse: bool, what: str) -> np.ndarray:
        if imse:
            A = np.sum(C**2 * wq)
            Bv = np.sum(Cp * wq)
            ok = A > tol_a
            h0 = _final_h(Bv, A, s, n)
            h0v = np.full(C.size, h0 if ok else np.nan)
        else:
            ok = C**2 > tol_b
            h0v = np.where(ok, _final_h(Cp, C**2, s, n), np.nan)
        bad = ~np.isfinite(h0v) | (h0v <= 0)
        if bad.any() and not compat:
            warnings.warn(
                f"Bandwidth selection ({what}): the pilot bias term vanishes for "
                f"{int(bad.sum())} column(s); the pilot uses the rule of thumb "
                f"h = {rot_shown:.4g}.",
                EstkitWarning,
                stacklevel=3,
            )
        return np.where(bad, rot, h0v)

    imse = criterion == "imse"
    # every column's pilot terms and Step-2 fit are separate: run them over blocks of
    # columns so temporaries stay within the memory budget
    budget = max(64 * 2**20, 8 * n * m) if memory_budget is None else int(memory_budget)
    step = max(1, min(m, budget // (8 * 10 * max(n, 1))))  # ~10 (n,) arrays a column
    blocks = [slice(a, min(a + step, m)) for a in range(0, m, step)]
    C, Cp = (np.concatenate(v) for v in zip(*(pilot_terms(Ym[:, c]) for c in blocks), strict=True))
    h0 = pilot_h(C, Cp, imse, "outcome")

    # ---- Step 2: local fits at the pilot bandwidths ------------------------------
    fit_kernel = "triangular" if compat else kern
    Bp, Bm, Vp, Vm, vBp, vBm = (
        np.concatenate(v)
        for v in zip(
            *(
                _step2(xw, Ym[:, c], cw, h0[c], s2, fit_kernel, kc, f, compat, x_unit)
                for c in blocks
            ),
            strict=True,
        )
    )
    reg = _REGULARIZATION * (vBp + vBm) if regularize else 0.0
    # a residual variance that is zero up to rounding means the pilot fit interpolated its
    # window (too few units near the cutoff): the MSE formula would return h ~ 0
    if compat:
        degenerate = np.zeros(m, dtype=bool)
    else:
        var_y = np.concatenate([_column_var(Ym[:, c]) for c in blocks])
        scale = var_y * (kc.var_plus + kc.var_minus) / f
        degenerate = (Vp + Vm) <= 1e-10 * np.where(scale > 0, scale, 1.0)

    # ---- Step 3: final bandwidths ------------------------------------------------
    if imse:
        A = np.sum(((Bp - Bm) ** 2 + reg) * wq)
        Vs = np.sum((Vp + Vm) / f * wq) if compat else np.sum((Vp + Vm) * wq)
        if not compat:  # IMSE: only the integrated variance must be non-degenerate
            V_int = np.sum((Vp + Vm) * wq)
            degenerate = np.full(m, V_int <= 1e-10 * np.sum(scale * wq))
        hh = _final_h(Vs, A, s, n) if A > tol_a and not degenerate.any() else np.nan
        h = np.full(m, hh)
    else:
        bd2 = (Bp - Bm) ** 2 + reg
        num = (Vp + Vm) / f if compat else Vp + Vm
        h = np.where((bd2 > tol_b) & ~degenerate, _final_h(num, bd2, s, n), np.nan)
    fallback = ~np.isfinite(h) | (h <= 0)
    h = np.where(fallback, rot, h)
    if fallback.any() and not compat:
        why = (
            "the residual variance of the pilot fit is zero (too few units near the cutoff)"
            if degenerate.any()
            else "the estimated bias difference vanishes"
        )
        warnings.warn(
            f"Bandwidth selection: {why} for {int(fallback.sum())} column(s); using the "
            f"rule of thumb h = {rot_shown:.4g}.",
            EstkitWarning,
            stacklevel=2,
        )

    # ---- treatment (fuzzy) ---------------------------------------------------------
    with np.errstate(over="ignore", under="ignore"):  # beyond the float range: inf or 0
        y2, t2 = np.float64(y_scale) ** 2, np.float64(t_scale) ** 2
        # paper-mode units: B ~ Y / x^(s+1), V ~ Y^2 x (compat: x_unit is 1)
        xb, xvar = np.float64(x_unit) ** -(s + 1), np.float64(x_unit)
        y_scale, t_scale, y2, t2 = y_scale * xb, t_scale * xb, y2 * xvar, t2 * xvar
    tr: dict[str, float | None] = dict.fromkeys(("h", "pilot", "Bp", "Bm", "Vp", "Vm"))
    if Tv is not None:
        Ct, Cpt = pilot_terms(Tv[:, None])
        h0t = pilot_h(Ct, Cpt, False, "treatment")
        tBp, tBm, tVp, tVm, tvBp, tvBm = _step2(
            xw, Tv[:, None], cw, h0t, s2, fit_kernel, kc, f, compat, x_unit
        )
        bdt2 = (tBp - tBm) ** 2 + (_REGULARIZATION * (tvBp + tvBm) if regularize else 0.0)
        numt = (tVp + tVm) / f if compat else tVp + tVm
        ht = np.where(bdt2 > tol_b, _final_h(numt, bdt2, s, n), np.nan)
        t_bad = ~np.isfinite(ht) | (ht <= 0)
        if t_bad.any() and not compat:
            warnings.warn(
                "Bandwidth selection (treatment): the estimated bias difference vanishes; "
                f"using the rule of thumb h = {rot_shown:.4g}.",
                EstkitWarning,
                stacklevel=2,
            )
        ht = np.where(t_bad, rot, ht)
        tr = {
            "h": float(ht[0]) * x_unit,
            "pilot": float(h0t[0]) * x_unit,
            "Bp": float(tBp[0]) * t_scale,
            "Bm": float(tBm[0]) * t_scale,
            "Vp": float(tVp[0] * t2),
            "Vm": float(tVm[0] * t2),
        }

    if coverage_correction:
        adj = float(n) ** (-s / ((2 * s + 3) * (s + 3)))
        h = h * adj
        if tr["h"] is not None:
            tr["h"] = float(tr["h"]) * adj

    return BandwidthSelection(
        h=h * x_unit,
        pilot_h=h0 * x_unit,
        B_plus=Bp * y_scale,
        B_minus=Bm * y_scale,
        V_plus=Vp * y2,
        V_minus=Vm * y2,
        density=f / x_unit,
        density_bandwidth=b * x_unit,
        criterion=criterion,
        s=s,
        p=p,
        kernel=kern.name,
        compat=bool(compat),
        coverage_correction=bool(coverage_correction),
        h_treatment=tr["h"],
        pilot_h_treatment=tr["pilot"],
        B_plus_treatment=tr["Bp"],
        B_minus_treatment=tr["Bm"],
        V_plus_treatment=tr["Vp"],
        V_minus_treatment=tr["Vm"],
        fallback=fallback,
    )


def _step2(
    xv: np.ndarray,
    Z: np.ndarray,
    cutoff: float,
    h0: np.ndarray,
    order: int,
    fit_kernel: str | Kernel,
    kc: KernelConstants,
    f: float,
    compat: bool,
    x_unit: float = 1.0,
) -> tuple[np.ndarray, ...]:
    """Bias and variance terms from local fits of ``order`` at the pilot bandwidths.

    Returns ``B+, B-, V+, V-`` and the sampling variances of ``B+`` and ``B-`` (HC0
    sandwich of the derivative's equivalent-kernel weights; zero in compat mode).
    """
    out = []
    for side, bconst, vconst in (
        ("plus", kc.bias_plus, kc.var_plus),
        ("minus", kc.bias_minus, kc.var_minus),
    ):
        try:
            fit = locpoly_boundary(
                xv, Z, cutoff, h0, order, fit_kernel, side, min_units=None if compat else order + 2
            )
        except EstimationError as exc:
            units = "" if x_unit == 1.0 else f" (x rescaled internally by 1/{x_unit:.6g})"
            raise EstimationError(
                f"Bandwidth selection failed at its automatically chosen pilot bandwidth"
                f"{units}: {exc} Too few units lie near the cutoff for a data-driven "
                "bandwidth; pass `bandwidth` explicitly."
            ) from None
        s = order if compat else order - 1
        if compat:
            # R3D: order-s coefficient on the scaled basis / (s+1)!; variance weighted by
            # the positive intercept weights only
            B = fit.coef[s] / factorial(s + 1)
            w = np.where(fit.weights > 0, fit.weights, 0.0)
            V = np.sum(w * fit.resid**2, axis=0) / np.sum(w, axis=0)
            varB = np.zeros_like(B)
        else:
            # paper: (s+1)-th derivative of the order-(s+1) fit; kernel-weighted variance
            deriv = factorial(s + 1) * fit.coef[s + 1] / h0 ** (s + 1)
            B = bconst * deriv / factorial(s + 1)
            varB = bconst**2 * fit.coef_variance[s + 1] / h0 ** (2 * (s + 1))
            kw = fit.kernel_weights
            sig2 = np.sum(kw * fit.resid**2, axis=0) / np.sum(kw, axis=0)
            V = sig2 * vconst / f
        out.append((B, V, varB))
    (Bp, Vp, vBp), (Bm, Vm, vBm) = out
    return Bp, Bm, Vp, Vm, vBp, vBm
