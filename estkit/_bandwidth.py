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

The variants of the selector are data, not branches: a :class:`SelectorRules` (frozen
dataclass of generic parameters) says which constants, pilot fits, bias and variance
terms and thresholds are used; :mod:`r3d._rules` holds the instance that reproduces the R
package R3D (``r3d_bwselect``) number for number. The selector is generic: a scalar RD
uses ``Y`` with one column; a fuzzy RD also passes ``T``, which goes through the same
steps as each outcome column.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from math import factorial
from typing import Literal

import numpy as np

from estkit import _parallel
from estkit._kernels import Kernel, get_kernel
from estkit._locpoly import (
    _center_scale,
    _locpoly,
    check_running_and_outcomes,
    polynomial_basis,
)
from estkit._monotone import trapezoid_weights
from estkit._parallel import both_sides, memory_budget_bytes
from estkit._validation import (
    align_by_label,
    check_1d,
    check_bool,
    check_grid,
    check_int,
    check_option,
    check_real,
    check_scalar,
)
from estkit._windowed import (
    SortedSide,
    WindowedSummary,
    _chunks,
    _slices,
    check_windows,
    fit_summaries,
    prepare_side,
)
from estkit.exceptions import EstimationError, EstkitWarning

__all__ = [
    "BandwidthSelection",
    "KernelConstants",
    "SelectorRules",
    "density_at_cutoff",
    "kernel_constants",
    "rule_of_thumb_bandwidth",
    "select_bandwidth",
]

Criterion = Literal["mse", "imse"]

#: |x - cutoff| range handled without rescaling (paper mode rescales outside it, exactly)
_X_RANGE = (2.0**-20, 2.0**20)
#: range in which unscaled arithmetic stays finite (rules without rescaling refuse outside it)
_X_RANGE_UNSCALED = (1e-30, 1e30)

#: Weight of the bias variance in the regularised selector (Imbens-Kalyanaraman; rdrobust)
_REGULARIZATION = 3.0


@dataclass(frozen=True)
class SelectorRules:
    """Which variant of the three-step selector to run (a frozen dataclass).

    Every field is a generic choice of the algorithm; the defaults are the paper's selector
    (Van Dijcke 2025, Appendix; Calonico, Cattaneo and Titiunik 2014) without
    regularisation. Variants are made with :func:`dataclasses.replace`.

    Parameters
    ----------
    constants : {"exact", "riemann"}, default "exact"
        Kernel constants as exact integrals, or Riemann sums on 1,000 points of [-1, 1]
        (see :func:`kernel_constants`).
    pilot_fit : {"ols", "aliased"}, default "ols"
        Step-1 global polynomials: plain least squares (a side needs ``s + 2`` distinct
        values), or R's ``lm`` behaviour: an unidentified top power is aliased (derivative
        0) and a residual variance below machine epsilon is replaced by 1.
    step2_kernel : str, optional
        Kernel of the step-2 local fits; ``None`` (default) is the requested kernel.
    bias : {"derivative", "coefficient"}, default "derivative"
        Step-3 bias term: the ``(s+1)``-th derivative of an order-``(s+1)`` step-2 fit times
        the kernel constant ``e0' Gamma^-1 Lambda``, or the order-``s`` coefficient of an
        order-``s`` fit on the scaled basis divided by ``(s+1)!`` (no kernel constant).
    variance : {"kernel_weighted", "positive_weights"}, default "kernel_weighted"
        Step-2 variance term: the kernel-weighted mean of squared residuals over the window
        times ``e0' Gamma^-1 Psi Gamma^-1 e0 / f``, or the mean weighted by the positive
        intercept weights only (no kernel constant; ``1 / f`` applied in step 3).
    integration : {"trapezoid", "mean_step"}, default "trapezoid"
        IMSE integration weights over the grid ``q``: trapezoid rule, or a constant mean
        grid step.
    absolute_tol : float, default 0.0
        A bias term at or below this (its square for per-column terms) falls back to the
        rule of thumb; 0 only rejects zero or non-finite terms (unit-free).
    regularize : bool, default False
        Add ``3 (Var B+ + Var B-)`` to the squared bias difference (Imbens-Kalyanaraman
        2012; rdrobust's ``scaleregul``).
    rescale : bool, default True
        Work on centred, scaled outcomes and a running variable rescaled to order one
        (equivariant); ``False`` keeps the data's units (centred outcomes only).
    guards : bool, default True
        Refuse sides with too few units, detect a pilot fit that interpolates its window
        (zero residual variance) and warn when a bandwidth falls back to the rule of thumb.

    Examples
    --------
    >>> import dataclasses
    >>> dataclasses.replace(SelectorRules(), regularize=True).regularize
    True
    """

    constants: Literal["exact", "riemann"] = "exact"
    pilot_fit: Literal["ols", "aliased"] = "ols"
    step2_kernel: str | None = None
    bias: Literal["derivative", "coefficient"] = "derivative"
    variance: Literal["kernel_weighted", "positive_weights"] = "kernel_weighted"
    integration: Literal["trapezoid", "mean_step"] = "trapezoid"
    absolute_tol: float = 0.0
    regularize: bool = False
    rescale: bool = True
    guards: bool = True

    def __post_init__(self) -> None:
        check_option(self.constants, "constants", ("exact", "riemann"))
        check_option(self.pilot_fit, "pilot_fit", ("ols", "aliased"))
        if self.step2_kernel is not None:
            get_kernel(self.step2_kernel)
        check_option(self.bias, "bias", ("derivative", "coefficient"))
        check_option(self.variance, "variance", ("kernel_weighted", "positive_weights"))
        check_option(self.integration, "integration", ("trapezoid", "mean_step"))
        if check_real(self.absolute_tol, "absolute_tol") < 0:
            raise ValueError(f"`absolute_tol` must be >= 0; got {self.absolute_tol!r}.")
        for name in ("regularize", "rescale", "guards"):
            check_bool(getattr(self, name), name)


#: The paper's selector without regularisation (``select_bandwidth``'s default).
DEFAULT_RULES = SelectorRules()


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
        Step-2 bias terms. ``rules.bias="derivative"``: ``e0' Gamma^-1 Lambda m^(s+1) / (s+1)!``
        with the ``(s+1)``-th derivative of an order-``(s+1)`` pilot fit;
        ``"coefficient"``: ``alpha[s] / (s+1)!`` (order-``s`` coefficient on the scaled
        basis).
    V_plus, V_minus : ndarray, shape (m,)
        Step-2 variance terms. ``rules.variance="kernel_weighted"``: ``sigma^2 e0' Gamma^-1 Psi
        Gamma^-1 e0 / f`` (paper's ``V``); ``"positive_weights"``: the intercept-weighted
        residual variance (without kernel constants and without ``1/f``).
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
    rules : SelectorRules
        The variant of the selector that was run.
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
    rules: SelectorRules
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
        Silverman's bandwidth ``1.06 * sd(x) * n^(-1/5)`` (``sd`` with ``n - 1``):
        :func:`rule_of_thumb_bandwidth` of order 2.

    Raises
    ------
    ValueError
        If ``x`` has no spread (a zero bandwidth).

    Examples
    --------
    >>> x = np.linspace(-1, 1, 201)
    >>> f, b = density_at_cutoff(x, 0.0, "uniform")
    >>> round(f, 2)
    0.5
    """
    return _density(_running(x, cutoff), get_kernel(kernel))


def _density(xc: np.ndarray, k: Kernel) -> tuple[float, float]:
    """Trusted core of :func:`density_at_cutoff` (``xc = x - cutoff``, checked)."""
    # Silverman's bandwidth
    b = _rule_of_thumb(xc, 2, "cannot estimate its density", finite=True)
    return float(np.mean(k(xc / b)) / b), b


def _running(x: object, cutoff: object, *, min_length: int = 2) -> np.ndarray:
    """Door check of a running variable: finite, 1-D, ``min_length`` units; returns
    ``x - cutoff``."""
    return _offset(check_1d(x, "x", min_length=min_length), check_scalar(cutoff, "cutoff"))


def _offset(xv: np.ndarray, c: float) -> np.ndarray:
    """``x - cutoff`` of a checked running variable, refusing an overflow."""
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
    return _rule_of_thumb(_running(x, cutoff), check_int(order, "order", minimum=0))


def _rule_of_thumb(
    xc: np.ndarray, order: int, purpose: str = "no rule-of-thumb bandwidth", *, finite: bool = False
) -> float:
    """Trusted core of :func:`rule_of_thumb_bandwidth` (``xc = x - cutoff``, checked); a
    ValueError naming ``purpose`` when the bandwidth is not positive (or, with ``finite``,
    not finite)."""
    h = 1.06 * _sd(xc) * xc.size ** (-1.0 / (2 * order + 1))
    if not h > 0 or (finite and not np.isfinite(h)):
        raise ValueError(f"`x` (the running variable) has no spread; {purpose}.")
    return h


def kernel_constants(
    kernel: str | Kernel, s: int, *, constants: Literal["exact", "riemann"] = "exact"
) -> KernelConstants:
    """Kernel constants ``Gamma, Lambda, Psi`` of an order-``s`` boundary fit, per side.

    Parameters
    ----------
    kernel : str or Kernel
        Kernel name or object.
    s : int
        Polynomial order of the boundary fit (>= 0).
    constants : {"exact", "riemann"}, default "exact"
        ``"exact"``: exact integrals (closed-form kernel moments). ``"riemann"``: the
        Riemann sum (R3D's) on ``seq(-1, 1, length.out = 1000)`` with weight ``2/1000``
        per point, the plus side being the grid points ``>= 0`` and the minus side those ``< 0``.

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
    constants = check_option(constants, "constants", ("exact", "riemann"))
    e0 = np.zeros(s + 1)
    e0[0] = 1.0
    if constants == "riemann":
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
        sides: tuple[tuple[Literal["plus", "minus"], float, float], ...] = (
            ("plus", 0.0, np.inf),
            ("minus", -np.inf, 0.0),
        )
        for side, lo, hi in sides:
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


def _global_poly_aliased(
    xc: np.ndarray, Y: np.ndarray, degree: int
) -> tuple[np.ndarray, np.ndarray]:
    """Global polynomial as R's ``lm(Y ~ poly(X, degree, raw = TRUE))`` (R3D 28744db's
    ``fit_global_poly``; ``SelectorRules(pilot_fit="aliased")``).

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


def _integration_weights(q: np.ndarray | None, m: int, integration: str) -> np.ndarray:
    """IMSE weights over the grid: trapezoid rule, or the mean grid step everywhere."""
    if integration == "trapezoid" and q is not None:
        return trapezoid_weights(q)
    dq = 1.0 if q is None or m < 2 else (np.max(q) - np.min(q)) / (m - 1)
    return np.full(m, dq)


# --------------------------------------------------------------------------------------
# the pipeline: steps 1-3 applied to a block of columns (outcome quantiles or treatment)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    """What every step of one selection shares (built once by :func:`_select`)."""

    xw: np.ndarray  # running variable in working units
    cw: float  # cutoff in working units
    xc: np.ndarray  # xw - cw
    plus: np.ndarray
    minus: np.ndarray
    s: int
    n: int
    kern: Kernel
    kc: KernelConstants
    f: float
    rot: float  # rule-of-thumb bandwidth (working units)
    x_unit: float
    rules: SelectorRules
    # windowed Step-2 fits (compact kernels): each side sorted once, on first use (or
    # given by the caller, see :func:`_select`'s ``sides``)
    sides: dict[str, SortedSide] = field(default_factory=dict)
    # bytes of temporaries of the Step-2 fits (both sides together)
    budget: int = 64 * 2**20

    @property
    def step2_kernel(self) -> Kernel:
        """Kernel of the Step-2 fits (``rules.step2_kernel`` or the final kernel)."""
        k = self.rules.step2_kernel
        return self.kern if k is None else get_kernel(k)

    def sorted_sides(self) -> dict[str, SortedSide] | None:
        """Both sides prepared for windowed Step-2 fits; ``None`` for the Gaussian kernel
        (which keeps :func:`estkit._locpoly._locpoly`)."""
        kern = self.step2_kernel
        if not kern.compact:
            return None
        if not self.sides:
            for side in ("plus", "minus"):
                self.sides[side] = prepare_side(self.xw, self.cw, side, kern, self.step2_order)
        return self.sides

    @property
    def step2_order(self) -> int:
        # paper: the step-3 bias needs the (s+1)-th derivative, which an order-s fit does
        # not identify, so the step-2 fit has order s + 1; "coefficient": order s
        return self.s if self.rules.bias == "coefficient" else self.s + 1

    @property
    def tol(self) -> tuple[float, float]:
        """Thresholds on the integrated and the per-column squared bias term."""
        t = self.rules.absolute_tol
        return t, t * t

    def warn(self, message: str) -> None:
        """Warn (``rules.guards`` only) that a bandwidth fell back to the rule of thumb."""
        if self.rules.guards:
            rot = f"the rule of thumb h = {self.rot * self.x_unit:.4g}."
            warnings.warn(message.format(rot=rot), EstkitWarning, stacklevel=6)


def _pilot_terms(ctx: _Context, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Step 1: global polynomials of degree s + 1 per side -> pilot constants C, C'."""
    fit = _global_poly if ctx.rules.pilot_fit == "ols" else _global_poly_aliased
    d_p, v_p = fit(ctx.xc[ctx.plus], Z[ctx.plus], ctx.s + 1)
    d_m, v_m = fit(ctx.xc[ctx.minus], Z[ctx.minus], ctx.s + 1)
    kc, fs = ctx.kc, factorial(ctx.s + 1)
    C = kc.bias_plus * d_p / fs - kc.bias_minus * d_m / fs
    Cp = (v_p * kc.var_plus + v_m * kc.var_minus) / ctx.f
    return C, Cp


def _pilot_moments(
    ctx: _Context, Z: np.ndarray, want_var: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Step 1 for ``pilot_fit="ols"`` in two passes over ``Z`` (no per-side copies):
    :func:`_pilot_terms`' ``C, C'`` and (``want_var``) the columns' variance (``ddof=0``).

    The global polynomials of both sides come from one product of ``Z`` with the QR factors
    of the two side bases (zero on the other side's rows); the residual variances and the
    columns' variances from sums and sums of squares accumulated over blocks of rows
    (``(S2 - S1^2 / n) / (n - ddof)``: the residuals of a fit with an intercept and the
    centred columns have means at rounding level, so this loses nothing to cancellation).
    """
    deg, n = ctx.s + 1, Z.shape[0]
    k = deg + 1
    X = polynomial_basis(ctx.xc, deg)
    qfull = np.zeros((n, 2 * k))
    rmats = []
    for j, mask in enumerate((ctx.plus, ctx.minus)):
        # Householder QR, as R's lm()
        qmat, rmat = np.linalg.qr(X[mask])
        qfull[mask, j * k : (j + 1) * k] = qmat
        rmats.append(rmat)
    del qmat
    qty = qfull.T @ Z  # (2k, m)
    # the two sides' bases side by side, each zero on the other side's rows: one product
    # gives every unit its own side's fitted values (the other side's terms are exact
    # zeros; OpenBLAS: the two products and the selection bit for bit, ~4x faster)
    X2 = qfull
    X2[:] = 0.0
    X2[ctx.plus, :k] = X[ctx.plus]
    X2[ctx.minus, k:] = X[ctx.minus]
    del X, qfull
    coef_p = np.linalg.solve(rmats[0], qty[:k])
    coef_m = np.linalg.solve(rmats[1], qty[k:])
    coef_both = np.concatenate([coef_p, coef_m])  # (2k, m)
    m = Z.shape[1]
    s1 = np.zeros((2, m))
    s2 = np.zeros((2, m))
    z1, z2 = np.zeros(m), np.zeros(m)
    sides = np.stack([ctx.plus, ctx.minus]).astype(float)  # (2, n)
    step = max(256, min(n, 2**21 // max(m, 1)))  # rows per block (~16 MiB temporaries)

    def block(r: slice) -> tuple[np.ndarray, ...]:
        """The sums of one block of rows (s1, s2 and, with ``want_var``, z1, z2)."""
        Zb = Z[r]
        R = X2[r] @ coef_both
        np.subtract(Zb, R, out=R)
        p1 = sides[:, r] @ R
        np.square(R, out=R)
        p2 = sides[:, r] @ R
        if not want_var:
            return p1, p2
        q1 = np.ones(Zb.shape[0]) @ Zb
        np.square(Zb, out=R)
        return p1, p2, q1, np.ones(Zb.shape[0]) @ R

    # under a one-thread BLAS limit (r3d's fit), the blocks' sums run in two threads (two
    # halves of the rows) and are added in row order as the serial loop adds them: the same
    # sums bit for bit (otherwise serial: the products' rounding may depend on the BLAS
    # threads, which the workers would change)
    rows = _slices(n, step)
    if len(rows) > 1 and _parallel.blas_limited():
        half = (len(rows) + 1) // 2
        lo_parts, hi_parts = both_sides(
            lambda: [block(r) for r in rows[:half]], lambda: [block(r) for r in rows[half:]]
        )
        parts = [*lo_parts, *hi_parts]
    else:
        parts = [block(r) for r in rows]
    for part in parts:
        s1 += part[0]
        s2 += part[1]
        if want_var:
            z1 += part[2]
            z2 += part[3]
    ns = np.array([ctx.plus.sum(), ctx.minus.sum()], dtype=float)[:, None]
    v = (s2 - s1 * s1 / ns) / (ns - 1)
    fs = factorial(deg)
    d_p, d_m = coef_p[deg] * fs, coef_m[deg] * fs
    kc = ctx.kc
    C = kc.bias_plus * d_p / fs - kc.bias_minus * d_m / fs
    Cp = (v[0] * kc.var_plus + v[1] * kc.var_minus) / ctx.f
    var_z = (z2 - z1 * z1 / n) / n if want_var else None
    return C, Cp, var_z


def _pilot_h(
    ctx: _Context, C: np.ndarray, Cp: np.ndarray, wq: np.ndarray | None, what: str
) -> np.ndarray:
    """Step 1: pilot bandwidths (one per column; integrated when ``wq`` is given)."""
    tol_a, tol_b = ctx.tol
    if wq is not None:
        A = np.sum(C**2 * wq)
        h0 = _final_h(np.sum(Cp * wq), A, ctx.s, ctx.n)
        h0v = np.full(C.size, h0 if A > tol_a else np.nan)
    else:
        h0v = np.where(C**2 > tol_b, _final_h(Cp, C**2, ctx.s, ctx.n), np.nan)
    bad = ~np.isfinite(h0v) | (h0v <= 0)
    if bad.any():
        ctx.warn(
            f"Bandwidth selection ({what}): the pilot bias term vanishes for "
            f"{int(bad.sum())} column(s); the pilot uses {{rot}}"
        )
    return np.where(bad, ctx.rot, h0v)


def _pilot_error(ctx: _Context, exc: EstimationError) -> EstimationError:
    """The Step-2 window error, worded for the selector."""
    units = "" if ctx.x_unit == 1.0 else f" (x rescaled internally by 1/{ctx.x_unit:.6g})"
    return EstimationError(
        f"Bandwidth selection failed at its automatically chosen pilot bandwidth"
        f"{units}: {exc} Too few units lie near the cutoff for a data-driven "
        "bandwidth; pass `bandwidth` explicitly."
    )


def _step2_check(
    ctx: _Context,
    sides: dict[str, SortedSide],
    h0: np.ndarray,
    order: int,
    min_units: int | None,
) -> None:
    """The Step-2 windows of both sides (plus first), as ``_locpoly`` checks them."""
    try:
        check_windows(sides["plus"], sides["minus"], h0, order, ctx.cw, min_units)
        check_windows(sides["minus"], sides["plus"], h0, order, ctx.cw, min_units)
    except EstimationError as exc:
        raise _pilot_error(ctx, exc) from None


def _step2(ctx: _Context, Z: np.ndarray, h0: np.ndarray) -> tuple[np.ndarray, ...]:
    """Step 2: bias and variance terms from local fits of ``ctx.step2_order`` at the pilot
    bandwidths.

    Returns ``B+, B-, V+, V-`` and the sampling variances of ``B+`` and ``B-`` (HC0
    sandwich of the derivative's equivalent-kernel weights; zero for the "coefficient"
    bias term).
    """
    rules, kc, s, order = ctx.rules, ctx.kc, ctx.s, ctx.step2_order
    min_units = order + 2 if rules.guards else None
    sides = ctx.sorted_sides()
    coefficient = rules.bias == "coefficient"
    summaries: tuple[WindowedSummary, WindowedSummary] | None = None
    if sides is not None:
        _step2_check(ctx, sides, h0, order, min_units)
        var_rows = () if coefficient else (s + 1,)
        # the core's temporaries run to about twice its budget, two sides at once
        b4 = max(ctx.budget // 4, 16 * 2**20)
        # the positive-weight variance only where the rules use it (a pass fewer)
        wsums = rules.variance == "positive_weights"

        def summarise(side: SortedSide) -> WindowedSummary:
            return fit_summaries(
                side, Z, h0, order, var_rows=var_rows, memory_budget=b4, positive_weight_sums=wsums
            )

        summaries = both_sides(lambda: summarise(sides["plus"]), lambda: summarise(sides["minus"]))
    out = []
    for j, (side, bconst, vconst) in enumerate(
        (("plus", kc.bias_plus, kc.var_plus), ("minus", kc.bias_minus, kc.var_minus))
    ):
        if summaries is not None:
            sm = summaries[j]
            coef, coef_var = sm.coef, sm.coef_variance
            if rules.variance == "positive_weights":
                V = sm.positive_weight_resid_var
            else:
                V = sm.kernel_resid_var * vconst / ctx.f
        else:
            try:
                fit = _locpoly(
                    ctx.xw, Z, ctx.cw, h0, order, ctx.step2_kernel, side, min_units=min_units
                )
            except EstimationError as exc:
                raise _pilot_error(ctx, exc) from None
            coef, coef_var = fit.coef, fit.coef_variance
            if rules.variance == "positive_weights":
                # mean of squared residuals weighted by the positive intercept weights only
                w = np.where(fit.weights > 0, fit.weights, 0.0)
                V = np.sum(w * fit.resid**2, axis=0) / np.sum(w, axis=0)
            else:
                kw = fit.kernel_weights
                sig2 = np.sum(kw * fit.resid**2, axis=0) / np.sum(kw, axis=0)
                V = sig2 * vconst / ctx.f
        if coefficient:
            # order-s coefficient on the scaled basis / (s+1)!, no kernel constant
            B = coef[s] / factorial(s + 1)
            varB = np.zeros_like(B)
        else:
            # (s+1)-th derivative of the order-(s+1) fit, times the kernel constant
            deriv = factorial(s + 1) * coef[s + 1] / h0 ** (s + 1)
            B = bconst * deriv / factorial(s + 1)
            varB = bconst**2 * coef_var[s + 1] / h0 ** (2 * (s + 1))
        out.append((B, V, varB))
    (Bp, Vp, vBp), (Bm, Vm, vBm) = out
    return Bp, Bm, Vp, Vm, vBp, vBm


def _step3(
    ctx: _Context,
    terms: tuple[np.ndarray, ...],
    wq: np.ndarray | None,
    var_scale: np.ndarray | None,
    what: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Step 3: final bandwidths (and the columns that fell back to the rule of thumb).

    ``var_scale`` (paper guards only) is the variance scale below which the pilot fit's
    residual variance counts as zero (the pilot interpolated its window); ``None`` skips
    that check.
    """
    Bp, Bm, Vp, Vm, vBp, vBm = terms
    rules, f, s, n = ctx.rules, ctx.f, ctx.s, ctx.n
    tol_a, tol_b = ctx.tol
    m = Bp.size
    reg = _REGULARIZATION * (vBp + vBm) if rules.regularize else 0.0
    per_f = rules.variance == "positive_weights"  # that variance term has no 1/f yet
    degenerate = np.zeros(m, dtype=bool)
    if wq is not None:
        A = np.sum(((Bp - Bm) ** 2 + reg) * wq)
        Vs = np.sum((Vp + Vm) / f * wq) if per_f else np.sum((Vp + Vm) * wq)
        if var_scale is not None:  # IMSE: only the integrated variance must be non-degenerate
            V_int = np.sum((Vp + Vm) * wq)
            degenerate = np.full(m, V_int <= 1e-10 * np.sum(var_scale * wq))
        hh = _final_h(Vs, A, s, n) if A > tol_a and not degenerate.any() else np.nan
        h = np.full(m, hh)
    else:
        if var_scale is not None:
            degenerate = (Vp + Vm) <= 1e-10 * np.where(var_scale > 0, var_scale, 1.0)
        bd2 = (Bp - Bm) ** 2 + reg
        num = (Vp + Vm) / f if per_f else Vp + Vm
        h = np.where((bd2 > tol_b) & ~degenerate, _final_h(num, bd2, s, n), np.nan)
    fallback = ~np.isfinite(h) | (h <= 0)
    if fallback.any():
        why = (
            "the residual variance of the pilot fit is zero (too few units near the cutoff)"
            if degenerate.any()
            else "the estimated bias difference vanishes"
        )
        k = int(fallback.sum())
        ctx.warn(f"Bandwidth selection{what}: {why} for {k} column(s); using {{rot}}")
    return np.where(fallback, ctx.rot, h), fallback


def _columns(
    ctx: _Context,
    Z: np.ndarray,
    wq: np.ndarray | None,
    *,
    what: str,
    guard_variance: bool,
    blocks: list[slice],
) -> tuple[np.ndarray, ...]:
    """Steps 1-3 for a block of columns ``Z`` (working units): ``h, h0, B+, B-, V+, V-,
    fallback``. ``wq`` given: one integrated (IMSE) bandwidth for all columns."""
    guard = guard_variance and ctx.rules.guards
    var_z = None
    if ctx.rules.pilot_fit == "ols":
        C, Cp, var_z = _pilot_moments(ctx, Z, guard)
    else:
        C, Cp = (
            np.concatenate(v)
            for v in zip(*(_pilot_terms(ctx, Z[:, c]) for c in blocks), strict=True)
        )
    h0 = _pilot_h(ctx, C, Cp, wq, what)
    if ctx.sorted_sides() is not None:  # the windowed fits stream over columns themselves
        blocks = [slice(0, Z.shape[1])]
    terms = tuple(
        np.concatenate(v) for v in zip(*(_step2(ctx, Z[:, c], h0[c]) for c in blocks), strict=True)
    )
    var_scale = None
    if guard:
        if var_z is None:
            var_z = np.concatenate([_column_var(Z[:, c]) for c in blocks])
        var_scale = var_z * (ctx.kc.var_plus + ctx.kc.var_minus) / ctx.f
    label = "" if what == "outcome" else f" ({what})"
    h, fallback = _step3(ctx, terms, wq, var_scale, label)
    return (h, h0, *terms[:4], fallback)


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
    rules: SelectorRules = DEFAULT_RULES,
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
        Treatment for a fuzzy design; a separate (scalar) treatment bandwidth is selected
        by the same steps.
    q : array_like, shape (m,), optional
        Grid of the columns (quantile levels), used by ``criterion="imse"`` for the
        integration weights.
    coverage_correction : bool, default False
        Multiply the bandwidths by ``n^(-s/((2s+3)(s+3)))`` (coverage-error rule of thumb).
    rules : SelectorRules, default SelectorRules()
        The variant of the selector (see :class:`SelectorRules`): the default is the
        paper's selector without regularisation; ``SelectorRules(regularize=True)`` adds
        the Imbens-Kalyanaraman regulariser; r3d's ``R3D_28744DB.selector`` reproduces the
        R package R3D's ``r3d_bwselect``.
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
        distinct running-variable values for the pilot polynomial (``guards``) or a pilot
        window cannot identify the Step-2 fit. A TypeError for non-numeric arguments.

    Notes
    -----
    pandas inputs (``x``, ``Y``, ``T``) are paired by label (:func:`estkit.align_by_label`).
    With ``rules.rescale`` (the default) the selection is equivariant: it runs on centred
    outcome columns and on outcomes and a running variable rescaled to order one, so
    ``Y + 1e12``, ``1e300 * Y`` or ``1e-300 * x`` give the same bandwidths (scaled with
    ``x``) up to the representation of the data. Without it (R3D's arithmetic) the
    absolute thresholds are not scale-free.

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
    if not isinstance(rules, SelectorRules):
        raise TypeError(f"`rules` must be an estkit.SelectorRules; got {rules!r}.")
    n, m = Ym.shape
    kern = get_kernel(kernel)
    xc = _offset(xv, cutoff)
    Tv = None
    if aligned["T"] is not None:
        Tv = check_1d(aligned["T"], "T")
        if Tv.size != n:
            raise ValueError(f"`T` must have length {n} (one value per unit); got {Tv.size}.")
    if q is not None:
        q = check_grid(q, "q", size=m, unit_interval=False)
    return _select(
        xv,
        xc,
        Ym,
        cutoff,
        criterion=criterion,
        s=s,
        p=p,
        kern=kern,
        T=Tv,
        q=q,
        coverage_correction=coverage_correction,
        rules=rules,
        memory_budget=memory_budget,
    )


def _select(
    xv: np.ndarray,
    xc: np.ndarray,
    Ym: np.ndarray,
    cutoff: float,
    *,
    criterion: str,
    s: int,
    p: int,
    kern: Kernel,
    T: np.ndarray | None,
    q: np.ndarray | None,
    coverage_correction: bool,
    rules: SelectorRules,
    memory_budget: int | None,
    sides: dict[str, SortedSide] | None = None,
) -> BandwidthSelection:
    """Trusted core of :func:`select_bandwidth` (inputs checked; ``xc = xv - cutoff``).

    ``sides``: both sides of ``xv`` at ``cutoff`` already prepared by the caller
    (:func:`estkit._windowed.prepare_side`, no weights); they serve the Step-2 fits when
    their kernel is the Step-2 kernel, their order suffices and ``x`` needs no rescaling
    (otherwise the selector prepares its own).
    """
    n, m = Ym.shape
    plus, minus = xc >= 0, xc < 0
    if not plus.any() or not minus.any():
        raise ValueError(
            f"The running variable `x` has no data on one side of the cutoff = {cutoff:g} "
            f"({int(plus.sum())} unit(s) at or above, {int(minus.sum())} below); check `cutoff`."
        )
    if rules.guards:
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
    # the selector is equivariant in the outcome's level and (rescale) its scale: work on
    # centred, scaled columns so that Y + 1e12 or 1e300 * Y select the same bandwidth
    Ym, _, y_scale = _center_scale(Ym)
    if not rules.rescale:  # absolute thresholds: keep the outcome's units
        Ym, y_scale = Ym * y_scale, 1.0
    t_scale = 1.0
    Tv = None
    if T is not None:
        Tc, _, t_scale = _center_scale(T[:, None])
        Tv = Tc[:, 0]
        if not rules.rescale:
            Tv, t_scale = Tv * t_scale, 1.0
    # the selector is equivariant in the running variable's scale too (h(a x) = a h(x)):
    # an extreme scale is brought to order one by a power of two (an exact rescaling) and
    # the results are mapped back; without rescaling the unscaled arithmetic and absolute
    # thresholds are kept, so scales at which that arithmetic over- or underflows are refused
    span = float(np.max(np.abs(xc)))
    x_unit, xw, cw = 1.0, xv, cutoff
    lo, hi = _X_RANGE if rules.rescale else _X_RANGE_UNSCALED
    if not lo <= span <= hi:
        if not rules.rescale:
            raise ValueError(
                f"`x` lies up to {span:.3g} from the cutoff: rules without rescaling (R3D's "
                f"unscaled arithmetic) over- or underflow outside [{lo:.3g}, {hi:.3g}]. "
                "Rescale `x` and `cutoff` (bandwidths scale with them) or use rescaling rules."
            )
        x_unit = float(2.0 ** np.round(np.log2(span)))
        xw, cw = xc / x_unit, 0.0
        xc = xw
    f, b = _density(xw - cw, kern)
    rot = _rule_of_thumb(xw - cw, s)
    ctx = _Context(
        xw=xw,
        cw=cw,
        xc=xc,
        plus=plus,
        minus=minus,
        s=s,
        n=n,
        kern=kern,
        kc=kernel_constants(kern, s, constants=rules.constants),
        f=f,
        rot=rot,
        x_unit=x_unit,
        rules=rules,
        budget=memory_budget_bytes(memory_budget, n, m),
    )
    if (
        sides is not None
        and x_unit == 1.0
        and ctx.step2_kernel.compact
        and all(v.serves(ctx.step2_kernel, ctx.step2_order) for v in sides.values())
    ):
        ctx.sides.update(sides)
    imse = criterion == "imse"
    wq = _integration_weights(q, m, rules.integration) if imse else None
    # column blocks whose step-1/2 temporaries (~10 (n,) arrays a column) fit the budget
    blocks = _chunks(m, n, ctx.budget, 10)
    h, h0, Bp, Bm, Vp, Vm, fallback = _columns(
        ctx, Ym, wq, what="outcome", guard_variance=True, blocks=blocks
    )
    tr: dict[str, float | None] = dict.fromkeys(("h", "pilot", "Bp", "Bm", "Vp", "Vm"))
    with np.errstate(over="ignore", under="ignore"):  # beyond the float range: inf or 0
        y2, t2 = np.float64(y_scale) ** 2, np.float64(t_scale) ** 2
        # working units back to the data's: B ~ Y / x^(s+1), V ~ Y^2 x
        xb, xvar = np.float64(x_unit) ** -(s + 1), np.float64(x_unit)
        y_scale, t_scale, y2, t2 = y_scale * xb, t_scale * xb, y2 * xvar, t2 * xvar
    if Tv is not None:
        th, th0, tBp, tBm, tVp, tVm, _ = _columns(
            ctx, Tv[:, None], None, what="treatment", guard_variance=False, blocks=[slice(0, 1)]
        )
        tr = {
            "h": float(th[0]) * x_unit,
            "pilot": float(th0[0]) * x_unit,
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
        rules=rules,
        coverage_correction=bool(coverage_correction),
        h_treatment=tr["h"],
        pilot_h_treatment=tr["pilot"],
        B_plus_treatment=tr["Bp"],
        B_minus_treatment=tr["Bm"],
        V_plus_treatment=tr["Vp"],
        V_minus_treatment=tr["Vm"],
        fallback=fallback,
    )
