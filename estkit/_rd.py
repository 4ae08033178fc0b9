"""Scalar regression discontinuity by local polynomials with robust bias-corrected inference.

A small rdrobust-style tool beside the distributional estimators. It follows Calonico,
Cattaneo and Titiunik (2014, Econometrica; CCT) and the reference implementation rdrobust
2.1.1: the conventional estimate is the difference of one-sided local polynomial intercepts
of order ``p`` with bandwidth ``h``; the bias of each intercept is estimated with a local
polynomial of order ``q = p + 1`` and bandwidth ``b`` and subtracted; the robust standard
error accounts for the variability of that bias estimate. Fuzzy designs divide by the
first-stage jump (delta method), covariate adjustment follows Calonico, Cattaneo, Farrell
and Titiunik (2019, ReStat), and ``bandwidth=None`` selects rdrobust's default "mserd" pair
``(h, b)`` (CCT's MSE-optimal bandwidths with the regularisation term, one common
bandwidth on both sides).

Every one-sided estimate is a weighted sum of the outcomes, ``sum_i a_i D_i``, with
equivalent-kernel weights ``a`` (conventional) and ``a^bc`` (bias-corrected:
``e_0' G_p^{-1} (R_p W_h - (h/b)^{p+1} m L')``, where ``m`` are the weights of the
``(p+1)``-th coefficient of the order-q fit and ``L = R_p' W_h u^{p+1}``). Variances are
``sum_i a_i^2 r_i^2`` with residuals ``r`` of the chosen kind (nearest-neighbour or
HC0-HC3), or the cluster sum ``w sum_g (sum_{i in g} a_i r_i)^2`` with rdrobust's CR1
factor ``w = (n - 1)/(n - k) * G/(G - 1)`` computed per side.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from math import sqrt
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import linalg, stats

from estkit._bootstrap import cluster_codes
from estkit._docstrings import doc_filler
from estkit._kernels import get_kernel
from estkit._validation import (
    align_by_label,
    check_1d,
    check_2d,
    check_alpha,
    check_consistent_length,
    check_int,
    check_option,
    check_real,
    negligible_variation,
)
from estkit.exceptions import DegenerateDataWarning, EstimationError, EstkitWarning
from estkit.results import ResultsBase, SummaryParts

__all__ = ["ScalarRDResults", "local_polynomial_rd"]

VCE = Literal["nn", "hc0", "hc1", "hc2", "hc3"]
RDKernel = Literal["triangular", "epanechnikov", "uniform"]

_NN_MATCH = 3  # rdrobust's default number of nearest neighbours
_SQRT_EPS = sqrt(np.finfo(float).eps)
# kernel constants of the pilot bandwidth (rdrobust: C_c)
_PILOT_CONST = {"triangular": 2.576, "epanechnikov": 2.34, "uniform": 1.843}
_MASS_SHARE = 0.2  # share of repeated values (per side) that flags mass points (rdrobust)
_MASS_BWCHECK = 10  # unique values the pilot bandwidth must hold under mass points

# the fit the examples of the results object start from (one place)
_fill_doc = doc_filler(
    {
        "example_fit": (
            ">>> rng = np.random.default_rng(0)\n"
            ">>> x = rng.uniform(-1, 1, 500)\n"
            ">>> y = x + 0.5 * (x >= 0) + rng.normal(0, 0.3, 500)\n"
            ">>> res = local_polynomial_rd(x, y, bandwidth=0.5)"
        )
    }
)


@_fill_doc
@dataclass(frozen=True, repr=False)
class ScalarRDResults(ResultsBase):
    """Result of :func:`local_polynomial_rd`.

    A frozen dataclass whose constructor arguments are stored as attributes of the same
    names; ``table`` and ``summary()`` present them.

    Parameters
    ----------
    estimate, std_error, zstat, pvalue : float
        Conventional estimate and inference (order ``p``, bandwidth ``h``).
    conf_int : tuple of float
        Conventional interval.
    bandwidth : float
        The bandwidth ``h``.
    n_below, n_above : int
        Units on each side.
    n_eff_below, n_eff_above : int
        Units on each side inside the window ``h``.
    intercept_below, intercept_above : float
        Boundary estimates (of the outcome; of the covariate-adjusted outcome with
        covariates; of the outcome, not the ratio, in a fuzzy design).
    p : int
        Order of the local polynomial.
    kernel : str
        Kernel name.
    alpha : float
        Significance level of the intervals.
    cutoff : float
        The cutoff.
    n_clusters : int or None, default None
        Number of clusters with clustered standard errors.
    estimate_bias_corrected : float, default NaN
        Estimate minus the estimated leading bias (order ``q = p + 1``, bandwidth ``b``).
    std_error_robust, zstat_robust, pvalue_robust : float, default NaN
        Robust bias-corrected inference (CCT 2014).
    conf_int_robust : tuple of float, default (NaN, NaN)
        Robust bias-corrected interval, centred at ``estimate_bias_corrected``.
    bias_bandwidth : float, default NaN
        The bias bandwidth ``b``.
    vce : str, default "hc0"
        Variance estimator (``"nn"``, ``"hc0"``, ..., ``"hc3"``).
    bandwidth_method : str, default "manual"
        How the bandwidths were chosen.
    fuzzy : bool, default False
        Whether the design is fuzzy (the estimate is a ratio of jumps).
    first_stage : float or None, default None
        Conventional first-stage jump of a fuzzy design.
    n_covariates : int, default 0
        Number of covariates used for adjustment.
    mass_points : bool, default False
        Whether mass points (repeated values) were detected in the running variable.
    degenerate : bool, default False
        The outcome has no real variation: every estimate is exactly zero.

    Notes
    -----
    The NaN defaults of the bias-corrected and robust quantities mark quantities that were
    not computed.

    Examples
    --------
    %(example_fit)s
    >>> res.bandwidth, res.n_below + res.n_above, res.kernel, res.bandwidth_method
    (0.5, 500, 'triangular', 'manual')
    >>> round(res.estimate, 2)
    0.56
    >>> list(res.table.columns)
    ['Coef.', 'Std. Err.', 'z', 'P>|z|', '95% lower', '95% upper']
    """

    estimate: float
    std_error: float
    zstat: float
    pvalue: float
    conf_int: tuple[float, float]
    bandwidth: float
    n_below: int
    n_above: int
    n_eff_below: int
    n_eff_above: int
    intercept_below: float
    intercept_above: float
    p: int
    kernel: str
    alpha: float
    cutoff: float
    n_clusters: int | None = None
    estimate_bias_corrected: float = np.nan
    std_error_robust: float = np.nan
    zstat_robust: float = np.nan
    pvalue_robust: float = np.nan
    conf_int_robust: tuple[float, float] = (np.nan, np.nan)
    bias_bandwidth: float = np.nan
    vce: str = "nn"
    bandwidth_method: str = "manual"
    fuzzy: bool = False
    first_stage: float | None = None
    n_covariates: int = 0
    mass_points: bool = False
    degenerate: bool = False

    @_fill_doc
    def interval(
        self, alpha: float | None = None, *, kind: str = "conventional"
    ) -> tuple[float, float]:
        """``1 - alpha`` interval at any level, from the stored estimate and standard error.

        ``kind="conventional"``: ``estimate -/+ z * std_error`` (``conf_int`` at the fitted
        ``alpha``); ``"robust"``: ``estimate_bias_corrected -/+ z * std_error_robust``
        (``conf_int_robust``). Equals a refit with that ``alpha`` exactly.

        Parameters
        ----------
        alpha : float, optional
            Significance level; default the ``alpha`` of the fit.
        kind : {"conventional", "robust"}, default "conventional"
            Conventional interval around the estimate, or the robust bias-corrected one.

        Returns
        -------
        lower, upper : float
            The interval limits.

        Examples
        --------
        %(example_fit)s
        >>> res.interval() == res.conf_int
        True
        """
        alpha = self.alpha if alpha is None else check_alpha(alpha)
        kind = check_option(kind, "kind", ("conventional", "robust"))
        if kind == "robust":
            return _normal_interval(self.estimate_bias_corrected, self.std_error_robust, alpha)
        return _normal_interval(self.estimate, self.std_error, alpha)

    @property
    def table(self) -> pd.DataFrame:
        """rdrobust's three rows: Conventional, Bias-corrected, Robust."""
        bc = self.estimate_bias_corrected
        se_bc = self.std_error
        bc_lo, bc_hi = _normal_interval(bc, se_bc, self.alpha)
        if se_bc > 0:
            z_bc = bc / se_bc
            p_bc = float(2 * stats.norm.sf(abs(z_bc)))
        else:
            z_bc, p_bc = 0.0, 1.0
        level = f"{100 * (1 - self.alpha):g}%"
        return pd.DataFrame(
            {
                "Coef.": [self.estimate, bc, bc],
                "Std. Err.": [self.std_error, se_bc, self.std_error_robust],
                "z": [self.zstat, z_bc, self.zstat_robust],
                "P>|z|": [self.pvalue, p_bc, self.pvalue_robust],
                f"{level} lower": [self.conf_int[0], bc_lo, self.conf_int_robust[0]],
                f"{level} upper": [self.conf_int[1], bc_hi, self.conf_int_robust[1]],
            },
            index=["Conventional", "Bias-corrected", "Robust"],
        )

    def _summary_parts(self) -> SummaryParts:
        sides = pd.DataFrame(
            {
                "Left": [self.n_below, self.n_eff_below, self.intercept_below],
                "Right": [self.n_above, self.n_eff_above, self.intercept_above],
            },
            index=["Number of obs", "Eff. number of obs", "Boundary estimate"],
            dtype=object,
        )
        header = [
            ("Cutoff", self.cutoff),
            ("Kernel", self.kernel),
            ("Order p", self.p),
            ("Order q (bias)", self.p + 1),
            ("Bandwidth h", self.bandwidth),
            ("Bandwidth b", self.bias_bandwidth),
            ("Bandwidth choice", self.bandwidth_method),
            ("VCE", self.vce if self.n_clusters is None else "CR1 (clustered)"),
        ]
        if self.n_clusters is not None:
            header.append(("Clusters", self.n_clusters))
        if self.fuzzy:
            header.append(("First stage", self.first_stage))
        if self.n_covariates:
            header.append(("Covariates", self.n_covariates))
        design = "Fuzzy" if self.fuzzy else "Sharp"
        notes = [
            "Conventional: order-p estimate, conventional s.e.; Bias-corrected: bias "
            "estimated at order q = p + 1 with bandwidth b and removed, conventional s.e.; "
            "Robust: bias-corrected estimate with the robust s.e. of Calonico, Cattaneo and "
            "Titiunik (2014). The conventional interval is not valid at an MSE-optimal h; "
            "report the robust one."
        ]
        if self.mass_points:
            notes.append(
                "The running variable has mass points (many repeated values near the "
                "cutoff); the pilot bandwidth was enlarged as rdrobust does, but the "
                "estimand extrapolates between the support points."
            )
        if self.degenerate:
            notes.append(
                "The outcome has no real variation (constant up to rounding): every "
                "estimate is exactly zero with zero width."
            )
        return SummaryParts(
            title=f"{design} RD: local polynomial estimate",
            header=header,
            tables=[(None, sides), (None, self.table)],
            notes=notes,
        )


# ----------------------------------------------------------------------------- helpers


def _vander(u: np.ndarray, p: int) -> np.ndarray:
    out = np.empty((u.size, p + 1))
    out[:, 0] = 1.0
    for k in range(1, p + 1):
        out[:, k] = out[:, k - 1] * u
    return out


def _kweights(x: np.ndarray, h: float, kernel: str) -> np.ndarray:
    """``K(x / h) / h`` (x already centred at the cutoff)."""
    return get_kernel(kernel)(x / h) / h


def _spd_inverse(G: np.ndarray) -> np.ndarray:
    try:
        cf = linalg.cho_factor(G, lower=True)
        return linalg.cho_solve(cf, np.eye(G.shape[0]))
    except linalg.LinAlgError:
        return np.linalg.pinv(G)


def _groups(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start index and size of each run of equal values in sorted ``x``."""
    new = np.r_[True, x[1:] != x[:-1]]
    starts = np.flatnonzero(new)
    sizes = np.diff(np.r_[starts, x.size])
    return starts, sizes


def _nn_residuals(x: np.ndarray, D: np.ndarray, matches: int) -> np.ndarray:
    """Nearest-neighbour residuals (Abadie-Imbens type, as in rdrobust's vce="nn").

    For each unit, the nearest ``matches`` other units (whole groups of tied ``x``; both
    sides when equidistant) give ``sqrt(J/(J+1)) (D_i - mean of the J neighbours)``.
    ``x`` must be sorted. The neighbourhoods of all groups grow together, one step at a
    time (at most ``matches`` steps).
    """
    n = x.size
    starts, sizes = _groups(x)
    ng = starts.size
    vals = x[starts]
    cap = min(matches, n - 1)
    lo = np.arange(ng)
    hi = np.arange(ng)
    count = sizes - 1
    while True:
        idx = np.flatnonzero(count < cap)
        if idx.size == 0:
            break
        lo_i, hi_i = lo[idx], hi[idx]
        no_left = lo_i == 0
        no_right = hi_i == ng - 1
        dl = vals[idx] - vals[np.maximum(lo_i - 1, 0)]
        dr = vals[np.minimum(hi_i + 1, ng - 1)] - vals[idx]
        both = ~no_left & ~no_right
        tol = np.maximum(dl, dr) * _SQRT_EPS
        farther_left = both & (dl - dr > tol)
        farther_right = both & (dr - dl > tol)
        tie = both & ~farther_left & ~farther_right
        go_right = no_left | farther_left | tie
        go_left = (~no_left & no_right) | farther_right | tie
        r_idx = idx[go_right]
        hi[r_idx] += 1
        count[r_idx] += sizes[hi[r_idx]]
        l_idx = idx[go_left]
        lo[l_idx] -= 1
        count[l_idx] += sizes[lo[l_idx]]
    first = starts[lo]
    last = starts[hi] + sizes[hi]
    J = (last - first - 1).astype(float)
    csum = np.vstack([np.zeros((1, D.shape[1])), np.cumsum(D, axis=0)])
    unit_group = np.repeat(np.arange(ng), sizes)
    total = (csum[last] - csum[first])[unit_group]
    Ju = J[unit_group][:, None]
    return np.sqrt(Ju / (Ju + 1)) * (D - (total - D) / Ju)


def _residuals(
    x: np.ndarray,
    D: np.ndarray,
    fitted: np.ndarray | None,
    lev: np.ndarray | None,
    vce: str,
    dof_k: int,
    clustered: bool,
) -> np.ndarray:
    """Residual matrix for the variance (one column per column of ``D``)."""
    if vce == "nn":
        return _nn_residuals(x, D, _NN_MATCH)
    e = D - fitted
    n = x.size
    if vce == "hc0" or (vce == "hc1" and clustered):
        return e
    if vce == "hc1":
        return sqrt(n / (n - dof_k)) * e if n > dof_k else np.full_like(e, np.nan)
    assert lev is not None  # hc2 / hc3 pass the leverages
    if vce == "hc2":
        return e * np.sqrt(1.0 / np.maximum(1.0 - lev, 1e-8))[:, None]
    return e * (1.0 / np.maximum(1.0 - lev, 1e-8))[:, None]  # hc3


def _variance(a: np.ndarray, r: np.ndarray, codes: np.ndarray | None, dof_k: int) -> float:
    """``sum (a r)^2`` or rdrobust's CR1 cluster sum (per side)."""
    score = a * r
    if codes is None:
        return float(score @ score)
    n = a.size
    used, inv = np.unique(codes, return_inverse=True)
    g = used.size
    if g < 2 or n <= dof_k:
        return np.nan
    sums = np.bincount(inv, weights=score, minlength=g)
    w = ((n - 1) / (n - dof_k)) * (g / (g - 1))
    return float(w * (sums @ sums))


@dataclass
class _Side:
    """Data on one side of the cutoff, sorted by x, centred at the cutoff."""

    x: np.ndarray
    D: np.ndarray  # columns: y, [t], [z...]
    codes: np.ndarray | None
    fw: np.ndarray | None  # unit weights


def _partial_out(
    sides: list[tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]], dT: int
) -> np.ndarray:
    """CCFT (2019) covariate coefficients ``gamma`` (dZ, 1 + dT) from both sides.

    Each side gives ``(R W, G^{-1}, Z W, D)`` over its window.
    """
    ZWZ = 0.0
    ZWY = 0.0
    ny = 1 + dT
    for RW, Ginv, ZW, D in sides:
        assert ZW is not None  # covariates given
        U = RW.T @ D
        ZWD = ZW.T @ D
        UiGU = U[:, ny:].T @ Ginv @ U
        ZWZ = ZWZ + ZWD[:, ny:] - UiGU[:, ny:]
        ZWY = ZWY + ZWD[:, :ny] - UiGU[:, :ny]
    return np.linalg.pinv(ZWZ) @ ZWY


def _combination(
    gamma: np.ndarray | None, dT: int, beta_y: float | None = None, beta_t: float | None = None
) -> np.ndarray:
    """Weights ``s`` of the linear combination of the D columns estimated."""
    if dT == 0:
        return np.r_[1.0, -gamma[:, 0]] if gamma is not None else np.array([1.0])
    assert beta_y is not None and beta_t is not None  # fuzzy: both first-stage pieces
    s = np.array([1.0 / beta_t, -beta_y / beta_t**2])
    if gamma is not None:
        s = np.r_[s, -(1.0 / beta_t) * gamma[:, 0] + (beta_y / beta_t**2) * gamma[:, 1]]
    return s


# ----------------------------------------------------------------- bandwidth selection


def _window_fit(side: _Side, h: float, order: int, kernel: str) -> tuple[np.ndarray, ...] | None:
    """Kernel-weighted polynomial fit of order ``order`` on one side's window of bandwidth
    ``h``: ``(in-window mask, x, D, weights, R, R * w, (R'WR)^-1, coefficients)``, or None
    when the window has too few distinct running-variable values."""
    w = _kweights(side.x, h, kernel)
    if side.fw is not None:
        w = w * side.fw
    ind = w > 0
    ex, eD, ew = side.x[ind], side.D[ind], w[ind]
    if np.unique(ex).size < order + 1:
        return None
    R = _vander(ex, order)
    RW = R * ew[:, None]
    Ginv = _spd_inverse(R.T @ RW)
    return ind, ex, eD, ew, R, RW, Ginv, Ginv @ (RW.T @ eD)


def _bw_terms(
    side: _Side,
    o: int,
    nu: int,
    o_B: int,
    h_V: float,
    h_B: float,
    scale: float,
    vce: str,
    kernel: str,
    dT: int,
    dZ: int,
    cache: dict,
) -> tuple[float, float, float]:
    """Variance, bias and regularisation terms of one side (rdrobust's ``rdrobust_bw``)."""
    clustered = side.codes is not None
    key = (o, nu)
    if key in cache:
        V_V, BConst, s = cache[key]
    else:
        fit = _window_fit(side, h_V, o, kernel)
        if fit is None:
            return np.nan, np.nan, np.nan
        ind, ex, eD, ew, R, RW, Ginv, beta = fit
        gamma = None
        if dZ:
            gamma = _partial_out([(RW, Ginv, eD[:, 1 + dT :] * ew[:, None], eD)], dT)
        if dT:
            fac = float(np.prod(np.arange(1, nu + 1)))
            if gamma is None:
                ty, tt = fac * beta[nu, 0], fac * beta[nu, 1]
            else:
                s_t = np.r_[1.0, -gamma[:, 1]]
                ty = fac * float(np.r_[1.0, -gamma[:, 0]] @ np.r_[beta[nu, 0], beta[nu, 2:]])
                tt = fac * float(s_t @ np.r_[beta[nu, 1], beta[nu, 2:]])
            s = _combination(gamma, dT, ty, tt)
        else:
            s = _combination(gamma, 0)
        lev = None
        if vce in ("hc2", "hc3"):
            lev = np.sum((R @ Ginv) * RW, axis=1)
        res = _residuals(ex, eD, R @ beta, lev, vce, o + 1, clustered)
        a = (RW @ Ginv)[:, nu]
        codes = None if side.codes is None else side.codes[ind]
        V_V = _variance(a, res @ s, codes, o + 1)
        v = RW.T @ (ex / h_V) ** (o + 1)
        BConst = float((h_V ** np.arange(o + 1) * (Ginv @ v))[nu])
        cache[key] = (V_V, BConst, s)
    if not np.isfinite(V_V) or not (np.isfinite(h_B) and h_B > 0):
        return np.nan, np.nan, np.nan
    fit = _window_fit(side, h_B, o_B, kernel)
    if fit is None:
        return np.nan, np.nan, np.nan
    ind, ex, eD, _, R, RW, Ginv, beta = fit
    reg = 0.0
    if scale > 0:
        lev = np.sum((R @ Ginv) * RW, axis=1) if vce in ("hc2", "hc3") else None
        res = _residuals(ex, eD, R @ beta, lev, vce, o_B + 1, clustered)
        codes = None if side.codes is None else side.codes[ind]
        V_B = _variance((RW @ Ginv)[:, -1], res @ s, codes, o_B + 1)
        reg = 3 * BConst**2 * V_B
    B = sqrt(2 * (o + 1 - nu)) * BConst * float(s @ beta[-1, :])
    V = (2 * nu + 1) * h_V ** (2 * nu + 1) * V_V
    R_ = scale * 2 * (o + 1 - nu) * reg
    return V, B, R_


def _quantile_type2(x: np.ndarray, prob: float) -> float:
    xs = np.sort(x)
    n = xs.size
    hpos = n * prob
    j = int(np.floor(hpos))
    if hpos == j:
        return 0.5 * (xs[j - 1] + xs[j])
    return float(xs[j])


def _select_mserd(
    left: _Side,
    right: _Side,
    p: int,
    kernel: str,
    vce: str,
    dT: int,
    dZ: int,
    bwcheck: int | None,
    y_shift: float,
) -> tuple[float, float]:
    """rdrobust's "mserd" pair (h, b), on data standardised as rdrobust does (stdvars)."""
    q = p + 1
    xall = np.r_[left.x, right.x]
    n_unique = np.unique(left.x).size + np.unique(right.x).size
    x_sd = float(np.std(xall, ddof=1))
    # rdrobust standardises the raw outcome, y / sd(y). Here ``D[:, 0] = (y - loc) / scale``,
    # so y / sd(y) = D / sd(D) + (loc / scale) / sd(D), with ``y_shift = loc / scale``. Only
    # a fuzzy selector depends on the outcome's level (through the one-sided intercepts in
    # its delta-method weights); sharp designs pass 0 and avoid the cancellation.
    y_sd = float(np.std(np.r_[left.D[:, 0], right.D[:, 0]], ddof=1))
    if not y_sd > 0:
        y_sd = 1.0
    iqr = _quantile_type2(xall, 0.75) - _quantile_type2(xall, 0.25)
    bw_p = min(1.0, (iqr / x_sd) / 1.349)
    sides = []
    for sd in (left, right):
        D = sd.D.copy()
        D[:, 0] = D[:, 0] / y_sd + y_shift / y_sd
        sides.append(_Side(x=sd.x / x_sd, D=D, codes=sd.codes, fw=sd.fw))
    sl, sr = sides
    c_bw = _PILOT_CONST[kernel] * bw_p * n_unique ** (-1 / 5)
    bw_max_l = abs(float(sl.x.min()))
    bw_max_r = abs(float(sr.x.max()))
    bw_max = max(bw_max_l, bw_max_r)
    c_bw = min(c_bw, bw_max)
    bw_min = 0.0
    if bwcheck is not None:
        ul = np.sort(np.unique(sl.x))[::-1]
        ur = np.unique(sr.x)
        bw_min = max(
            abs(ul[min(bwcheck, ul.size) - 1]) * (1 + _SQRT_EPS),
            abs(ur[min(bwcheck, ur.size) - 1]) * (1 + _SQRT_EPS),
        )
        c_bw = max(c_bw, bw_min)
    cl: dict = {}
    cr: dict = {}

    def terms(o, nu, o_B, h_B, scale):
        a = _bw_terms(sl, o, nu, o_B, c_bw, h_B[0], scale, vce, kernel, dT, dZ, cl)
        b = _bw_terms(sr, o, nu, o_B, c_bw, h_B[1], scale, vce, kernel, dT, dZ, cr)
        return a, b

    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        rng_l = bw_max_l * (1 + _SQRT_EPS)
        rng_r = bw_max_r * (1 + _SQRT_EPS)
        dl, dr = terms(q + 1, q + 1, q + 2, (rng_l, rng_r), 0.0)
        d_bw = ((dl[0] + dr[0]) / (dr[1] - dl[1]) ** 2) ** (1 / (2 * (q + 1) + 3))
        d_bw = min(d_bw, bw_max)
        if bwcheck is not None:
            d_bw = max(d_bw, bw_min)
        bl, br = terms(q, p + 1, q + 1, (d_bw, d_bw), 1.0)
        b_bw = ((bl[0] + br[0]) / ((br[1] - bl[1]) ** 2 + (br[2] + bl[2]))) ** (1 / (2 * q + 3))
        b_bw = min(b_bw, bw_max)
        hl, hr = terms(p, 0, q, (b_bw, b_bw), 1.0)
        h_bw = ((hl[0] + hr[0]) / ((hr[1] - hl[1]) ** 2 + (hr[2] + hl[2]))) ** (1 / (2 * p + 3))
        h_bw = min(h_bw, bw_max)
    h, b = x_sd * h_bw, x_sd * b_bw
    if not (np.isfinite(h) and h > 0 and np.isfinite(b) and b > 0):
        raise EstimationError(
            "The MSE-optimal bandwidth cannot be computed: too little variation in `x` or "
            "`y` near the cutoff (e.g. few distinct running-variable values). Pass "
            "`bandwidth=` explicitly."
        )
    return float(h), float(b)


# ------------------------------------------------------------------------- estimation


@dataclass
class _SideFit:
    a_cl: np.ndarray  # conventional intercept weights over the window
    a_bc: np.ndarray  # bias-corrected intercept weights
    beta_cl: np.ndarray  # intercepts of every D column (conventional)
    beta_bc: np.ndarray
    res_h: np.ndarray
    res_b: np.ndarray
    codes: np.ndarray | None
    n_h: int
    RW_p: np.ndarray
    Ginv_p: np.ndarray
    ZW: np.ndarray | None
    eD: np.ndarray
    fit_resid: np.ndarray  # y (and t) minus the order-p fit, units inside h


def _fit_side(
    side: _Side, h: float, b: float, p: int, kernel: str, vce: str, dT: int, dZ: int
) -> _SideFit:
    q = p + 1
    w_h = _kweights(side.x, h, kernel)
    w_b = _kweights(side.x, b, kernel)
    if side.fw is not None:
        w_h, w_b = w_h * side.fw, w_b * side.fw
    ind = (w_h > 0) if h > b else (w_b > 0)
    ex, eD = side.x[ind], side.D[ind]
    Wh, Wb = w_h[ind], w_b[ind]
    uh = ex / h
    R_p = _vander(uh, p)
    R_q = _vander(ex / b, q)
    RW_p = R_p * Wh[:, None]
    RW_q = R_q * Wb[:, None]
    Ginv_p = _spd_inverse(R_p.T @ RW_p)
    Ginv_q = _spd_inverse(R_q.T @ RW_q)
    L = RW_p.T @ uh ** (p + 1)  # (p+1,)
    m = RW_q @ Ginv_q[p + 1, :]  # weights of the (p+1)-th coefficient (scaled by b^(p+1))
    Q = RW_p - (h / b) ** (p + 1) * m[:, None] * L[None, :]
    a_cl = RW_p @ Ginv_p[0, :]
    a_bc = Q @ Ginv_p[0, :]
    beta_p = Ginv_p @ (RW_p.T @ eD)
    beta_q = Ginv_q @ (RW_q.T @ eD)
    clustered = side.codes is not None
    if vce == "nn":
        res_h = res_b = _nn_residuals(ex, eD, _NN_MATCH)
    else:
        lev_p = lev_q = None
        if vce in ("hc2", "hc3"):
            lev_p = np.sum((R_p @ Ginv_p) * RW_p, axis=1)
            lev_q = np.sum((R_q @ Ginv_q) * RW_q, axis=1)
            if max(lev_p.max(), lev_q.max()) >= 1 - 1e-8:
                raise EstimationError(
                    f"vce={vce!r} is undefined here: a unit has leverage 1 (the local "
                    "polynomial passes through it exactly, too few units in the window). Use "
                    "a larger `bandwidth`/`bias_bandwidth` or vce='hc1'/'nn'."
                )
        res_h = _residuals(ex, eD, R_p @ beta_p, lev_p, vce, p + 1, clustered)
        res_b = _residuals(ex, eD, R_q @ beta_q, lev_q, vce, q + 1, clustered)
    return _SideFit(
        a_cl=a_cl,
        a_bc=a_bc,
        beta_cl=a_cl @ eD,
        beta_bc=a_bc @ eD,
        res_h=res_h,
        res_b=res_b,
        codes=None if side.codes is None else side.codes[ind],
        n_h=int(np.sum(w_h > 0)),
        RW_p=RW_p,
        Ginv_p=Ginv_p,
        ZW=eD[:, 1 + dT :] * Wh[:, None] if dZ else None,
        eD=eD,
        fit_resid=(eD[:, : 1 + dT] - R_p @ beta_p[:, : 1 + dT])[Wh > 0],
    )


def local_polynomial_rd(
    x: Any,
    y: Any,
    cutoff: float = 0.0,
    *,
    p: int = 1,
    kernel: RDKernel = "triangular",
    bandwidth: float | None = None,
    bias_bandwidth: float | None = None,
    vce: VCE = "nn",
    treatment: Any = None,
    covariates: Any = None,
    weights: Any = None,
    cluster: Any = None,
    alpha: float = 0.05,
) -> ScalarRDResults:
    """RD estimate at the cutoff by local polynomials, with robust bias-corrected inference.

    Sharp: ``E[y | x = c+] - E[y | x = c-]``; fuzzy (``treatment=``): that jump divided by
    the jump of ``E[treatment | x]``. Numbers follow rdrobust 2.1.1 (``rdrobust(y, x, c,
    p=p, kernel=kernel, h=, b=, vce=, fuzzy=, covs=, cluster=, weights=)``).

    Parameters
    ----------
    x, y : array-like of shape (n,)
        Running variable and outcome (finite).
    cutoff : float, default 0
        Units with ``x >= cutoff`` are treated (above).
    p : int, default 1
        Order of the local polynomial (1 = local linear); the bias is estimated at order
        ``p + 1``.
    kernel : {"triangular", "epanechnikov", "uniform"}
    bandwidth : float, optional
        Main bandwidth ``h`` (both sides). ``None``: rdrobust's default "mserd" pair
        ``(h, b)``, MSE-optimal for the RD estimate (CCT 2014 with regularisation).
    bias_bandwidth : float, optional
        Bias bandwidth ``b``. Defaults to the selected ``b`` when ``bandwidth`` is
        ``None``, and to ``b = h`` when ``bandwidth`` is given (rdrobust's rule).
    vce : {"nn", "hc0", "hc1", "hc2", "hc3"}, default "nn"
        Residuals of the variance: ``"nn"`` nearest-neighbour with 3 neighbours
        (rdrobust's default), or the HC0-HC3 plug-in residuals (``"hc0"`` was the
        default before the unreleased changes of the changelog). With ``cluster``,
        ``"nn"``, ``"hc0"`` and ``"hc1"`` all give rdrobust's CR1 variance (per side,
        ``(n-1)/(n-k) * G/(G-1)``); CR2/CR3 (``"hc2"``/``"hc3"`` with clusters) are not
        implemented.
    treatment : array-like of shape (n,), optional
        Treatment take-up for a fuzzy design.
    covariates : array-like of shape (n, k), optional
        Pre-determined covariates for covariate-adjusted estimation (Calonico, Cattaneo,
        Farrell and Titiunik 2019); collinear columns are dropped.
    weights : array-like of shape (n,), optional
        Non-negative unit weights multiplying the kernel weights.
    cluster : array-like of shape (n,), optional
        Cluster labels for cluster-robust standard errors.
    alpha : float, default 0.05
        Significance level of the intervals (``1 - alpha`` confidence).

    Returns
    -------
    ScalarRDResults
        Conventional and robust bias-corrected estimates and inference.

    Notes
    -----
    Mass points: when at least 20% of the units on a side share their running-variable
    value with another unit, a warning says so and (as rdrobust's ``masspoints="adjust"``)
    the pilot bandwidth of the selector is enlarged to hold at least 10 distinct values on
    each side; the pilot rate always uses the number of distinct values.
    Degenerate data: an outcome with no real variation (constant up to rounding) gives an
    exactly zero estimate with zero standard errors, ``p = 1`` and a
    :class:`~estkit.DegenerateDataWarning`.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.uniform(-1, 1, 2000)
    >>> y = 1 + x + 0.5 * (x >= 0) + rng.normal(0, 0.3, 2000)
    >>> res = local_polynomial_rd(x, y)
    >>> bool(abs(res.estimate_bias_corrected - 0.5) < 3 * res.std_error_robust)
    True
    >>> list(res.table.index)
    ['Conventional', 'Bias-corrected', 'Robust']
    """
    # ---- door: alignment, conversion, options
    aligned, _ = align_by_label(
        {
            "x": x,
            "y": y,
            "treatment": treatment,
            "weights": weights,
            "cluster": cluster,
            "covariates": covariates,
        }
    )
    xv = check_1d(aligned["x"], "x")
    yv = check_1d(aligned["y"], "y")
    tv = None if treatment is None else check_1d(aligned["treatment"], "treatment")
    fw = None if weights is None else check_1d(aligned["weights"], "weights")
    Z = None if covariates is None else check_2d(aligned["covariates"], "covariates")
    check_consistent_length(
        x=xv,
        y=yv,
        treatment=tv,
        weights=fw,
        cluster=None if cluster is None else np.asarray(aligned["cluster"]).reshape(-1),
        covariates=Z,
    )
    p = check_int(p, "p", minimum=0, maximum=10)
    kernel = check_option(kernel, "kernel", RDKernel)
    vce = check_option(vce, "vce", VCE)
    alpha = check_alpha(alpha)
    c = check_real(cutoff, "cutoff")
    h_user = None if bandwidth is None else _check_bw(bandwidth, "bandwidth")
    b_user = None if bias_bandwidth is None else _check_bw(bias_bandwidth, "bias_bandwidth")
    if fw is not None and np.any(fw < 0):
        raise ValueError("`weights` must be non-negative.")
    if fw is not None and not (np.any(fw[xv < c] > 0) and np.any(fw[xv >= c] > 0)):
        raise ValueError("`weights` must be positive for some units on each side of the cutoff.")
    codes = None
    n_cl = None
    if cluster is not None:
        if vce in ("hc2", "hc3"):
            raise ValueError(
                f"`vce={vce!r}` with `cluster` would need the CR2/CR3 cluster variances, "
                "which are not implemented; use vce='hc1' (rdrobust's CR1, the default "
                "with clusters)."
            )
        codes, n_cl = cluster_codes(aligned["cluster"], xv.size)
        if n_cl < 2:
            raise ValueError("`cluster` has a single cluster; cluster-robust errors need >= 2.")
    # ---- sides
    order = np.argsort(xv, kind="stable")
    xs, x_scale, n_l = _scaled_sides(xv[order] - c, c, xv, "an RD estimate")
    n_r = xs.size - n_l
    below = xs < 0
    q = p + 1
    m_l = np.unique(xs[below]).size
    m_r = np.unique(xs[~below]).size
    if min(m_l, m_r) < q + 1:
        raise ValueError(
            f"`x` has {m_l} distinct value(s) below the cutoff and {m_r} at or above; the "
            f"bias-correction fit of order q = p + 1 = {q} needs at least {q + 1} on each side."
        )
    degenerate = bool(negligible_variation(yv, axis=None))
    dT = 0 if tv is None else 1
    if tv is not None:
        ts = tv[order]
        if negligible_variation(ts, axis=None) or (
            negligible_variation(ts[below], axis=None)
            and negligible_variation(ts[~below], axis=None)
            and abs(ts[below].mean() - ts[~below].mean()) < _SQRT_EPS
        ):
            raise ValueError(
                "`treatment` has no jump at the cutoff (it does not vary): the fuzzy RD "
                "estimand is not identified. Drop `treatment=` for a sharp design."
            )
    dZ = 0
    if Z is not None:
        Z = _drop_collinear(Z)
        dZ = Z.shape[1]
    # centre and scale the outcome (the estimator is equivariant): no cancellation
    y_loc = float(np.median(yv))
    y_scale = float(np.max(np.abs(yv - y_loc)))
    if not y_scale > 0 or degenerate:
        y_scale = 1.0
    cols = [(yv[order] - y_loc) / y_scale]
    if tv is not None:
        cols.append(tv[order])
    D = np.column_stack(cols + ([Z[order]] if Z is not None else []))
    cs = None if codes is None else codes[order]
    fws = None if fw is None else fw[order]
    left = _Side(
        x=xs[below],
        D=D[below],
        codes=None if cs is None else cs[below],
        fw=None if fws is None else fws[below],
    )
    right = _Side(
        x=xs[~below],
        D=D[~below],
        codes=None if cs is None else cs[~below],
        fw=None if fws is None else fws[~below],
    )
    mass = (1 - m_l / n_l) >= _MASS_SHARE or (1 - m_r / n_r) >= _MASS_SHARE
    if mass:
        warnings.warn(
            f"Mass points in the running variable: {m_l} distinct values among {n_l} units "
            f"below the cutoff and {m_r} among {n_r} at or above. A discrete running "
            "variable means the estimate extrapolates between support points; as rdrobust "
            f"(masspoints='adjust') the pilot bandwidth is enlarged to hold >= "
            f"{_MASS_BWCHECK} distinct values per side.",
            EstkitWarning,
            stacklevel=2,
        )
    vce_eff = "hc1" if codes is not None else vce
    # ---- bandwidths
    how = "manual"
    if h_user is not None:
        h = h_user / x_scale
        b = b_user / x_scale if b_user is not None else h
    elif degenerate:
        h = b = float(max(-xs[0], xs[-1]))
        how = "none (outcome has no variation)"
    elif n_l + n_r < 20:
        h = float(max(-xs[0], xs[-1]))
        b = b_user / x_scale if b_user is not None else h
        how = "range (fewer than 20 units)"
        warnings.warn(
            "Fewer than 20 units: the bandwidth is not selected; h is the largest distance "
            "from the cutoff (as rdrobust).",
            EstkitWarning,
            stacklevel=2,
        )
    else:
        sharp_bw = tv is not None and (np.var(left.D[:, 1]) == 0 or np.var(right.D[:, 1]) == 0)
        bwcheck = _MASS_BWCHECK if mass else None
        if sharp_bw:
            keep = [0, *range(2, D.shape[1])]
            sl = _Side(left.x, left.D[:, keep], left.codes, left.fw)
            sr = _Side(right.x, right.D[:, keep], right.codes, right.fw)
            h, b = _select_mserd(sl, sr, p, kernel, vce_eff, 0, dZ, bwcheck, 0.0)
        else:
            h, b = _select_mserd(
                left, right, p, kernel, vce_eff, dT, dZ, bwcheck, y_loc / y_scale if dT else 0.0
            )
        if b_user is not None:
            b = b_user / x_scale
        how = "mserd (MSE-optimal)"
    # ---- fits
    fits = []
    for sd, name in ((left, "below"), (right, "at or above")):
        wh = _kweights(sd.x, h, kernel) * (1.0 if sd.fw is None else sd.fw)
        wb = _kweights(sd.x, b, kernel) * (1.0 if sd.fw is None else sd.fw)
        uh, ub = np.unique(sd.x[wh > 0]).size, np.unique(sd.x[wb > 0]).size
        if uh < p + 1 or ub < q + 1:
            raise EstimationError(
                f"Too few distinct values of `x` {name} the cutoff inside the bandwidths "
                f"(h = {h * x_scale:.6g}: {uh}, needs {p + 1}; b = {b * x_scale:.6g}: {ub}, "
                f"needs {q + 1}). "
                "Use a larger `bandwidth`/`bias_bandwidth` or a smaller `p`."
            )
        fits.append(_fit_side(sd, h, b, p, kernel, vce_eff, dT, dZ))
    fl, fr = fits
    gamma = None
    if dZ:
        gamma = _partial_out([(f.RW_p, f.Ginv_p, f.ZW, f.eD) for f in fits], dT)
    bl_cl, br_cl = fl.beta_cl, fr.beta_cl
    bl_bc, br_bc = fl.beta_bc, fr.beta_bc
    if dT == 0:
        s = _combination(gamma, 0)
        tau_cl = float(s @ (br_cl - bl_cl))
        tau_bc = float(s @ (br_bc - bl_bc))
        int_l, int_r = float(s @ bl_cl), float(s @ br_cl)
        first = None
    else:
        sy = np.r_[1.0, -gamma[:, 0]] if gamma is not None else np.array([1.0])
        st = np.r_[1.0, -gamma[:, 1]] if gamma is not None else np.array([1.0])

        def comb(beta, k, sv):
            return float(sv @ np.r_[beta[k], beta[2:]])

        ty_cl = comb(br_cl, 0, sy) - comb(bl_cl, 0, sy)
        tt_cl = comb(br_cl, 1, st) - comb(bl_cl, 1, st)
        ty_bc = comb(br_bc, 0, sy) - comb(bl_bc, 0, sy)
        tt_bc = comb(br_bc, 1, st) - comb(bl_bc, 1, st)
        if not abs(tt_cl) > 0:
            raise EstimationError("The estimated first stage is zero; the fuzzy RD is undefined.")
        tau_cl = ty_cl / tt_cl
        sd_ = np.array([1.0 / tt_cl, -ty_cl / tt_cl**2])
        tau_bc = tau_cl - float(sd_ @ np.array([ty_cl - ty_bc, tt_cl - tt_bc]))
        s = _combination(gamma, 1, ty_cl, tt_cl)
        int_l, int_r = comb(bl_cl, 0, sy), comb(br_cl, 0, sy)
        first = float(tt_cl)
    var_cl = sum(_variance(f.a_cl, f.res_h @ s, f.codes, p + 1) for f in fits)
    var_rb = sum(_variance(f.a_bc, f.res_b @ s, f.codes, q + 1) for f in fits)
    # back to the outcome's scale (the ratio of a fuzzy design scales with y too)
    tau_cl *= y_scale
    tau_bc *= y_scale
    se_cl = sqrt(var_cl) * y_scale if var_cl >= 0 else np.nan
    se_rb = sqrt(var_rb) * y_scale if var_rb >= 0 else np.nan
    int_l = int_l * y_scale + y_loc
    int_r = int_r * y_scale + y_loc
    # an outcome that is an exact order-p polynomial of x on each side has no noise: its
    # standard errors are rounding residue, never evidence (issue 11)
    tiny = 64 * np.finfo(float).eps
    exact = not degenerate and all(
        np.max(np.abs(f.fit_resid[:, 0])) <= tiny * (abs(y_loc) + y_scale) / y_scale
        and (
            dT == 0 or tv is None or np.max(np.abs(f.fit_resid[:, 1])) <= tiny * np.max(np.abs(tv))
        )
        for f in fits
    )
    if exact:
        jump = (
            abs(tau_cl) <= tiny * (abs(y_loc) + y_scale)
            if dT == 0
            else (abs(ty_cl) <= tiny * (abs(y_loc) + y_scale) / y_scale)
        )
        tau_cl = 0.0 if jump else tau_cl
        tau_bc = tau_cl
        se_cl = se_rb = 0.0
        warnings.warn(
            "`y` is an exact polynomial of order p in `x` on each side of the cutoff (no "
            "noise): the standard errors are zero"
            + (
                " and there is no jump: the effect is exactly 0."
                if jump
                else f"; the estimate {tau_cl:.6g} is exact."
            ),
            DegenerateDataWarning,
            stacklevel=2,
        )
    if degenerate:
        warnings.warn(
            "`y` has no real variation (it is constant up to rounding): the RD effect is "
            "reported as exactly 0 with zero standard errors and p = 1.",
            DegenerateDataWarning,
            stacklevel=2,
        )
        tau_cl = tau_bc = se_cl = se_rb = 0.0
        int_l = int_r = float(yv[0])
    elif not exact and not (np.isfinite(se_cl) and se_cl > 0 and np.isfinite(se_rb) and se_rb > 0):
        raise EstimationError(
            "The standard error is zero or undefined: the local polynomial fits the data in "
            "the window exactly (too few distinct units or clusters near the cutoff); widen "
            "`bandwidth`."
        )
    return ScalarRDResults(
        **_normal_inference(_CONVENTIONAL, tau_cl, se_cl, alpha),
        **_normal_inference(_ROBUST, tau_bc, se_rb, alpha),
        bandwidth=float(h * x_scale),
        n_below=n_l,
        n_above=n_r,
        n_eff_below=fl.n_h,
        n_eff_above=fr.n_h,
        intercept_below=int_l,
        intercept_above=int_r,
        p=p,
        kernel=kernel,
        alpha=alpha,
        cutoff=c,
        n_clusters=n_cl,
        bias_bandwidth=float(b * x_scale),
        vce=vce,
        bandwidth_method=how,
        fuzzy=tv is not None,
        first_stage=first,
        n_covariates=dZ,
        mass_points=bool(mass),
        degenerate=degenerate or exact,
    )


# ScalarRDResults' fields of the conventional and of the robust bias-corrected inference
_CONVENTIONAL = ("estimate", "std_error", "zstat", "pvalue", "conf_int")
_ROBUST = (
    "estimate_bias_corrected",
    "std_error_robust",
    "zstat_robust",
    "pvalue_robust",
    "conf_int_robust",
)


def _normal_inference(
    fields: tuple[str, ...], est: float, se: float, alpha: float
) -> dict[str, Any]:
    """``fields`` (estimate, standard error, z, p-value, interval) of a normal estimate."""
    z, p = _z_and_p(est, se)
    return dict(zip(fields, (est, se, z, p, _normal_interval(est, se, alpha)), strict=True))


def _normal_interval(est: float, se: float, alpha: float) -> tuple[float, float]:
    """``est -/+ z_{1 - alpha/2} se`` (the fit's intervals and :meth:`ScalarRDResults.interval`)."""
    crit = float(stats.norm.ppf(1 - alpha / 2))
    return (est - crit * se, est + crit * se)


def _z_and_p(est: float, se: float) -> tuple[float, float]:
    if se == 0.0:  # degenerate: exact zero, or an exact (noise-free) jump
        return (0.0, 1.0) if est == 0.0 else (float(np.copysign(np.inf, est)), 0.0)
    z = est / se
    return float(z), float(2 * stats.norm.sf(abs(z)))


def _scaled_sides(
    xs: np.ndarray, cutoff: float, x: np.ndarray, purpose: str
) -> tuple[np.ndarray, float, int]:
    """Sorted ``x - cutoff`` checked for units on both sides and rescaled to ``|x - c| <= 1``.

    RD estimators are equivariant in the scale of the running variable: working on the unit
    scale (bandwidths and densities scaled back by the caller) avoids overflow and underflow
    at extreme magnitudes. Returns ``(xs / x_scale, x_scale, number of units below)``.
    """
    n_below = int(np.searchsorted(xs, 0.0, side="left"))
    if n_below == 0 or n_below == xs.size:
        side = "below" if n_below == 0 else "at or above"
        raise ValueError(
            f"`x` has no units {side} the cutoff {cutoff:g} (range [{x.min():g}, {x.max():g}]); "
            f"{purpose} needs units on both sides: check `cutoff`."
        )
    x_scale = float(np.max(np.abs(xs)))
    if not (np.isfinite(x_scale) and x_scale > 0):
        raise ValueError(
            f"`x` must vary around the cutoff with finite distances; got max |x - cutoff| = "
            f"{x_scale!r}."
        )
    return xs / x_scale, x_scale, n_below


def _check_bw(value: Any, name: str) -> float:
    if isinstance(value, bool | str):
        raise TypeError(f"`{name}` must be a positive number; got {value!r}.")
    arr = np.asarray(value, dtype=object)
    if arr.ndim > 0:
        if arr.size != 1:
            raise ValueError(f"`{name}` must be a single positive number; got {value!r}.")
        value = arr.reshape(-1)[0]
    try:
        h = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be a positive number; got {value!r}.") from None
    if not np.isfinite(h) or h <= 0:
        raise ValueError(f"`{name}` must be finite and positive; got {value!r}.")
    return h


def _drop_collinear(Z: np.ndarray, tol: float = 1e-5) -> np.ndarray:
    """Drop collinear covariate columns (pivoted QR, as rdrobust's covs_drop)."""
    r = np.linalg.qr(Z, mode="r")
    if np.all(np.abs(np.diagonal(r)) > tol):
        return Z
    _, r, piv = linalg.qr(Z, mode="economic", pivoting=True)
    keep = np.sort(piv[np.abs(np.diagonal(r)) > tol])
    return Z[:, keep]
