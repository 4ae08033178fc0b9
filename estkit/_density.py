"""Manipulation (density discontinuity) test at a cutoff.

The local polynomial density estimator of Cattaneo, Jansson and Ma (2020, "Simple local
polynomial density estimators", JASA 115(531)) and the discontinuity test of Cattaneo,
Jansson and Ma (2018, Stata Journal; 2020) as the reference implementation rddensity 3.0
computes it with its defaults: unrestricted fit (separate polynomials on each side),
"comb" bandwidth selection and jackknife standard errors.

Method. Sort the running variable and let ``F_i = (i - 1) / (n - 1)`` be the empirical
distribution function at the i-th order statistic (tied values all take the value of the
last member of their group). On each side of the cutoff, a weighted least-squares
polynomial of order ``q = p + 1`` in ``(x - c) / h`` fitted to ``F`` with kernel weights
``K((x - c) / h) / h`` estimates the distribution function near ``c``; its slope
coefficient divided by ``h`` is the one-sided density. The jackknife variance of a
coefficient is ``sum_i psi_i^2`` with ``psi_i = sum_{k > i} omega_k / (n - 1)``
(``omega`` its equivalent-kernel weights, sums taken over the window, mass-point groups
sharing the value of their first member). The test statistic is
``(f_+ - f_-) / sqrt(V(f_+) + V(f_-) - 2 C(f_+, f_-))``.

Bandwidths (rddensity's ``rdbwdensity``): pilot bandwidths from a Gaussian reference,
an order ``p + 2`` fit estimating the ``(p + 1)``-th derivative of ``F`` (the bias) and an
order ``p`` fit estimating the jackknife variance give the MSE-optimal bandwidths of the
left density, the right density, their difference and their sum,
``h = (V / (2 p B^2 n))^(1 / (2p + 1))``, regularised to hold at least ``20 + p + 1``
observations (and unique values) on each side. "comb" takes, on each side, the median of
that side's bandwidth, the difference's and the sum's.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from math import sqrt
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.polynomial import hermite_e
from scipy import stats

from estkit._kernels import get_kernel
from estkit._locpoly import polynomial_basis
from estkit._rd import _scaled_sides
from estkit._validation import check_1d, check_alpha, check_int, check_option, check_real
from estkit.exceptions import EstimationError, EstkitWarning
from estkit.results import ResultsBase, SummaryParts

__all__ = ["DensityTestResults", "density_test"]

DensityKernel = Literal["triangular", "epanechnikov", "uniform"]

# Constants of the Gaussian-reference pilot bandwidths for p = 1..7, as published in
# rddensity 3.0 (rdbwdensity): Cb for the order p + 2 (bias) pilot, Cc for the order p
# (variance) pilot.
_PILOT_CB = (
    25884.444444494150957,
    3430865.4551236177795,
    845007948.04262602329,
    330631733667.03808594,
    187774809656037.3125,
    145729502641999264.0,
    146013502974449876992.0,
)
_PILOT_CC = (
    4.8000000000000246914,
    548.57142857155463389,
    100800.00000020420703,
    29558225.458100609481,
    12896196859.612621307,
    7890871468221.609375,
    6467911284037581.0,
)


@dataclass(frozen=True)
class _SideFit:
    """Both one-sided CDF fits at one pair of bandwidths."""

    coef_left: np.ndarray  # coefficients on the unscaled basis (x - c)^k
    coef_right: np.ndarray
    var_left: float  # jackknife variance of the slope (density) coefficient
    var_right: float
    cov: float
    n_left: int  # rows in the window
    n_right: int


def _cdf_weights(
    xw: np.ndarray, h: float, order: int, kernel: str
) -> tuple[np.ndarray, np.ndarray]:
    """Equivalent-kernel weights of every coefficient of a local CDF fit.

    Returns ``omega`` (r, order + 1) with ``coef_k = sum_i omega_ik F_i / h^k`` and the
    scaled basis.
    """
    u = xw / h
    R = polynomial_basis(u, order)
    Kw = get_kernel(kernel)(u) / h
    G = (R * Kw[:, None]).T @ R
    try:
        Ginv = np.linalg.inv(G)
    except np.linalg.LinAlgError:
        Ginv = np.full_like(G, np.nan)
    return (R * Kw[:, None]) @ Ginv, R


def _fit_sides(
    xs: np.ndarray,
    F: np.ndarray,
    hl: float,
    hr: float,
    order: int,
    kernel: str,
    mass_points: bool,
) -> _SideFit:
    """Fit the CDF on each side of 0 (``xs`` sorted, centred at the cutoff)."""
    n = xs.size
    lo = int(np.searchsorted(xs, -hl, side="left"))
    mid = int(np.searchsorted(xs, 0.0, side="left"))
    hi = int(np.searchsorted(xs, hr, side="right"))
    xw = xs[lo:hi]
    Fw = F[lo:hi]
    nl, nr = mid - lo, hi - mid
    for side, cnt in (("below", nl), ("at or above", nr)):
        if cnt < order + 1:
            raise EstimationError(
                f"The density fit of order {order} needs at least {order + 1} units "
                f"{side} the cutoff within the bandwidth; found {cnt}. "
                "Use a larger `bandwidth` or a smaller `p`."
            )
    om_l, _ = _cdf_weights(xw[:nl], hl, order, kernel)
    om_r, _ = _cdf_weights(xw[nl:], hr, order, kernel)
    scale_l = hl ** np.arange(order + 1)
    scale_r = hr ** np.arange(order + 1)
    coef_l = (om_l.T @ Fw[:nl]) / scale_l
    coef_r = (om_r.T @ Fw[nl:]) / scale_r
    # jackknife: psi_i = sum_{k > i} omega_k / (n - 1), slope coefficient (density)
    w_l = np.zeros(xw.size)
    w_l[:nl] = om_l[:, 1] / hl
    w_r = np.zeros(xw.size)
    w_r[nl:] = om_r[:, 1] / hr
    psi_l = _strict_tail_sums(w_l) / (n - 1)
    psi_r = _strict_tail_sums(w_r) / (n - 1)
    if mass_points:
        first = np.r_[True, xw[1:] != xw[:-1]]
        grp = np.cumsum(first) - 1
        starts = np.flatnonzero(first)
        psi_l = psi_l[starts][grp]
        psi_r = psi_r[starts][grp]
    return _SideFit(
        coef_left=coef_l,
        coef_right=coef_r,
        var_left=float(psi_l @ psi_l),
        var_right=float(psi_r @ psi_r),
        cov=float(psi_l @ psi_r),
        n_left=nl,
        n_right=nr,
    )


def _strict_tail_sums(w: np.ndarray) -> np.ndarray:
    """``out[i] = sum_{k > i} w[k]``."""
    tail = np.cumsum(w[::-1])[::-1]
    return np.r_[tail[1:], 0.0]


def _ecdf(xs: np.ndarray) -> tuple[np.ndarray, bool]:
    """``(i - 1) / (n - 1)`` at the sorted sample, ties at the value of their last member."""
    n = xs.size
    F = np.arange(n) / (n - 1)
    last = np.r_[xs[1:] != xs[:-1], True]
    mass = not bool(last.all())
    if mass:
        grp_last = np.flatnonzero(last)
        counts = np.diff(np.r_[-1, grp_last])
        F = np.repeat(F[grp_last], counts)
    return F, mass


def _bias_constant(p: int, kernel: str) -> float:
    """``e_1' S^{-1} C`` of the one-sided order-p fit (S, C: kernel moment matrices)."""
    k = get_kernel(kernel)
    S = k.moment_matrix(p, side="plus")
    C = np.array([k.moment(j + p + 1, lower=0.0, upper=1.0) for j in range(p + 1)])
    return float(np.linalg.solve(S, C)[1])


def _kth_abs(values: np.ndarray, k: int) -> float:
    """k-th smallest absolute value (1-based, clipped to the count)."""
    a = np.sort(np.abs(values))
    return float(a[min(k, a.size) - 1])


def _select_bandwidths(
    xs: np.ndarray, F: np.ndarray, p: int, kernel: str, mass: bool
) -> dict[str, float]:
    """MSE-optimal bandwidths (left, right, diff, sum), regularised as rdbwdensity."""
    n = xs.size
    uniq = np.unique(xs)
    left, right = xs[xs < 0], xs[xs >= 0]
    uleft, uright = uniq[uniq < 0], uniq[uniq >= 0]
    mu, sd = float(np.mean(xs)), float(np.std(xs, ddof=1))
    z = mu / sd
    phi = float(stats.norm.pdf(z))

    def herm(k: int) -> float:
        return float(hermite_e.hermeval(z, np.eye(k + 1)[k]))

    with np.errstate(divide="ignore", over="ignore"):
        fb = 1.0 / (herm(p + 2) ** 2 * phi)
        fc = 1.0 / (herm(p) ** 2 * phi)
        bn = ((2 * p + 1) / 4 * fb * _PILOT_CB[p - 1] / n) ** (1 / (2 * p + 5)) * sd
        cn = (1 / (2 * p) * fc * _PILOT_CC[p - 1] / n) ** (1 / (2 * p + 1)) * sd
    n_min = 20 + p + 1
    max_abs = float(np.max(np.abs(uniq)))
    bn = max(
        min(bn, max_abs),
        _kth_abs(left, n_min + 2),
        _kth_abs(right, n_min + 2),
        _kth_abs(uleft, n_min + 2),
        _kth_abs(uright, n_min + 2),
    )
    cn = max(
        min(cn, max_abs),
        _kth_abs(left, n_min),
        _kth_abs(right, n_min),
        _kth_abs(uleft, n_min),
        _kth_abs(uright, n_min),
    )
    fb_fit = _fit_sides(xs, F, bn, bn, p + 2, kernel, mass)
    fc_fit = _fit_sides(xs, F, cn, cn, p, kernel, mass)
    var = {
        "left": fc_fit.var_left,
        "right": fc_fit.var_right,
        "diff": fc_fit.var_left + fc_fit.var_right - 2 * fc_fit.cov,
        "sum": fc_fit.var_left + fc_fit.var_right + 2 * fc_fit.cov,
    }
    bc = _bias_constant(p, kernel)
    bl = fb_fit.coef_left[p + 1] * bc * (-1) ** p
    br = fb_fit.coef_right[p + 1] * bc
    bias = {"left": bl, "right": br, "diff": br - bl, "sum": br + bl}
    out = {}
    for key in var:
        v = n * cn * var[key]
        b2 = bias[key] ** 2
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            h = (v / (2 * p) / b2 / n) ** (1 / (2 * p + 1)) if v >= 0 else 0.0
        out[key] = 0.0 if np.isnan(h) else float(h)
    range_l, range_r = abs(float(uniq[0])), float(uniq[-1])
    out["left"] = min(out["left"], range_l)
    out["right"] = min(out["right"], range_r)
    out["diff"] = min(out["diff"], max(range_l, range_r))
    out["sum"] = min(out["sum"], max(range_l, range_r))
    hl_min = max(_kth_abs(left, n_min), _kth_abs(uleft, n_min))
    hr_min = max(_kth_abs(right, n_min), _kth_abs(uright, n_min))
    out["left"] = max(out["left"], hl_min)
    out["right"] = max(out["right"], hr_min)
    out["diff"] = max(out["diff"], hl_min, hr_min)
    out["sum"] = max(out["sum"], hl_min, hr_min)
    return out


@dataclass(frozen=True, repr=False)
class DensityTestResults(ResultsBase):
    """Result of :func:`density_test` (Cattaneo, Jansson and Ma manipulation test).

    A frozen dataclass whose constructor arguments are stored as attributes of the same
    names; ``difference``, ``reject``, ``to_frame()``, ``density_curve()`` and ``plot()``
    derive from them.

    Parameters
    ----------
    statistic : float
        ``(f_+ - f_-) / se``, robust bias-corrected (fits of order ``p + 1``), jackknife se.
    pvalue : float
        Two-sided normal p-value.
    bandwidth : tuple of float
        ``(h_left, h_right)``.
    density : tuple of float
        Estimated densities just below and just above the cutoff.
    std_error : tuple of float
        Jackknife standard errors of the two densities.
    std_error_diff : float
        Standard error of the difference ``f_+ - f_-``.
    n_eff : tuple of int
        Units inside the bandwidth on each side.
    n : tuple of int
        Units on each side.
    p : int
        Order the bandwidths are optimal for (the estimates use ``p + 1``).
    kernel : str
        Kernel name.
    cutoff : float
        The cutoff.
    alpha : float
        Level of the pointwise intervals of :meth:`density_curve` and :meth:`plot`.
    bandwidth_method : str
        ``"comb (MSE-optimal)"`` or ``"fixed"``.
    mass_points : bool
        Whether mass points (repeated values) were detected in the running variable.
    _x : numpy.ndarray
        Internal: the sorted running variable (for :meth:`plot`).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> res = density_test(rng.uniform(-1, 1, 500), bandwidth=0.5)
    >>> res.bandwidth, res.n, res.bandwidth_method
    ((0.5, 0.5), (259, 241), 'fixed')
    >>> list(res.to_frame().index)
    ['left', 'right']
    """

    statistic: float
    pvalue: float
    bandwidth: tuple[float, float]
    density: tuple[float, float]
    std_error: tuple[float, float]
    std_error_diff: float
    n_eff: tuple[int, int]
    n: tuple[int, int]
    p: int
    kernel: str
    cutoff: float
    alpha: float
    bandwidth_method: str
    mass_points: bool
    _x: np.ndarray  # sorted running variable (for plot)

    @property
    def difference(self) -> float:
        """``f_+ - f_-``."""
        return self.density[1] - self.density[0]

    @property
    def reject(self) -> bool:
        """Whether no manipulation (continuity of the density) is rejected at ``alpha``."""
        return bool(self.pvalue <= self.alpha)

    def to_frame(self) -> pd.DataFrame:
        """Per-side table: units, units in the window, bandwidth, density, standard error.

        Returns
        -------
        pandas.DataFrame
            Rows ``left`` and ``right`` (index ``side``), columns ``n``, ``n_eff``,
            ``bandwidth``, ``density`` and ``std_error``.
        """
        return pd.DataFrame(
            {
                "n": list(self.n),
                "n_eff": list(self.n_eff),
                "bandwidth": list(self.bandwidth),
                "density": list(self.density),
                "std_error": list(self.std_error),
            },
            index=pd.Index(["left", "right"], name="side"),
        )

    def _summary_parts(self) -> SummaryParts:
        sides = pd.DataFrame(
            {
                "Left of c": [self.n[0], self.n_eff[0], self.bandwidth[0], self.density[0]],
                "Right of c": [self.n[1], self.n_eff[1], self.bandwidth[1], self.density[1]],
            },
            index=["Number of obs", "Eff. number of obs", "Bandwidth", "Density"],
            dtype=object,
        )
        test = pd.DataFrame(
            {
                "f+ - f-": [self.difference],
                "Std. Err.": [self.std_error_diff],
                "T": [self.statistic],
                "P>|T|": [self.pvalue],
            },
            index=["Robust"],
        )
        notes = [
            f"Local polynomial density estimates of order q = {self.p + 1} (bias-corrected "
            f"for order p = {self.p}), unrestricted fit, jackknife standard errors "
            "(Cattaneo, Jansson and Ma 2020)."
        ]
        if self.mass_points:
            notes.append(
                "The running variable has repeated values (mass points); the distribution "
                "function and the jackknife treat tied units as one group, as rddensity does."
            )
        return SummaryParts(
            title="Manipulation test: density discontinuity at the cutoff",
            header=[
                ("Cutoff", self.cutoff),
                ("Kernel", self.kernel),
                ("Order p", self.p),
                ("Bandwidth", self.bandwidth_method),
                ("Number of obs", int(sum(self.n))),
                ("Alpha", self.alpha),
            ],
            tables=[(None, sides), (None, test)],
            notes=notes,
        )

    def density_curve(self, side: Literal["left", "right"], n_points: int = 30) -> pd.DataFrame:
        """Local polynomial density estimates with pointwise intervals on one side.

        The estimator of the test (order ``p + 1``, the side's bandwidth, jackknife
        standard errors) evaluated on ``n_points`` points of the side within twice the
        bandwidth of the cutoff, using that side's units only.

        Parameters
        ----------
        side : {"left", "right"}
            Side of the cutoff.
        n_points : int, default 30
            Number of evaluation points, evenly spaced from the cutoff to
            ``min(2 * bandwidth, farthest unit of the side)``.

        Returns
        -------
        pandas.DataFrame
            Columns ``x``, ``density`` and the pointwise ``1 - alpha`` limits ``lower`` and
            ``upper``; NaN where fewer than ``p + 3`` units lie within the bandwidth.

        Raises
        ------
        ValueError
            If ``side`` is not ``"left"`` or ``"right"``.
        """
        side = check_option(side, "side", ("left", "right"))
        xs = self._x - self.cutoff
        n = xs.size
        F, _ = _ecdf(xs)
        h = self.bandwidth[0] if side == "left" else self.bandwidth[1]
        on = xs < 0 if side == "left" else xs >= 0
        xside, Fside = xs[on], F[on]
        reach = min(2 * h, float(np.max(np.abs(xside))))
        grid = (
            np.linspace(-reach, 0.0, n_points)
            if side == "left"
            else np.linspace(0.0, reach, n_points)
        )
        crit = float(stats.norm.ppf(1 - self.alpha / 2))
        order = self.p + 1
        est = np.full(n_points, np.nan)
        se = np.full(n_points, np.nan)
        for j, g in enumerate(grid):
            inw = np.abs(xside - g) <= h
            if inw.sum() < order + 2:
                continue
            om, _ = _cdf_weights(xside[inw] - g, h, order, self.kernel)
            est[j] = float(om[:, 1] @ Fside[inw]) / h
            psi = _strict_tail_sums(om[:, 1] / h) / (n - 1)
            se[j] = sqrt(float(psi @ psi))
        return pd.DataFrame(
            {
                "x": grid + self.cutoff,
                "density": est,
                "lower": est - crit * se,
                "upper": est + crit * se,
            }
        )

    def plot(self, ax: Any = None, *, n_points: int = 30, bins: int | None = None) -> Any:
        """Histogram of the running variable with the density estimates on each side.

        Draws a density-scaled histogram split at the cutoff, the local polynomial
        density estimates on each side with pointwise ``1 - alpha`` intervals (see
        :meth:`density_curve`), and the two boundary estimates; returns the Axes.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw on; default a new figure.
        n_points : int, default 30
            Evaluation points of each side's density curve.
        bins : int, optional
            Approximate number of histogram bins (the edges are aligned at the cutoff);
            default ``sqrt(n)`` clipped to [10, 50].

        Returns
        -------
        matplotlib.axes.Axes
            The Axes drawn on.
        """
        from estkit._plotting import get_axes

        ax = get_axes(ax)
        x = self._x
        nb = bins if bins is not None else int(min(50, max(10, np.sqrt(x.size))))
        c = self.cutoff
        lo, hi = float(x.min()), float(x.max())
        width = (hi - lo) / nb
        edges_l = np.arange(c, lo - width, -width)[::-1] if lo < c else np.array([c])
        edges_r = np.arange(c, hi + width, width)
        edges = np.unique(np.r_[edges_l, edges_r])
        ax.hist(x, bins=edges, density=True, color="0.85", edgecolor="white", label="histogram")
        sides: tuple[tuple[Literal["left", "right"], str], ...] = (("left", "C0"), ("right", "C1"))
        for side, color in sides:
            cur = self.density_curve(side, n_points=n_points)
            ax.fill_between(
                cur["x"], cur["lower"], cur["upper"], color=color, alpha=0.25, linewidth=0
            )
            ax.plot(cur["x"], cur["density"], color=color, lw=2, label=f"density ({side})")
        ax.plot([c, c], list(self.density), "ko", ms=4)
        ax.axvline(c, color="0.3", lw=0.8, ls="--")
        ax.set_xlabel("running variable")
        ax.set_ylabel("density")
        ax.set_title(f"Density test: T = {self.statistic:.2f}, p = {self.pvalue:.3f}")
        ax.legend(frameon=False)
        return ax


def density_test(
    x: Any,
    cutoff: float = 0.0,
    *,
    p: int = 2,
    kernel: DensityKernel = "triangular",
    bandwidth: float | tuple[float, float] | None = None,
    alpha: float = 0.05,
) -> DensityTestResults:
    """Test for a discontinuity of the running variable's density at the cutoff.

    The manipulation test of Cattaneo, Jansson and Ma (2020) with the defaults of
    rddensity 3.0: local polynomial density estimates on each side (order ``p + 1``
    fits of the empirical distribution function, bias-corrected for bandwidths that are
    MSE-optimal at order ``p``), jackknife standard errors, and "comb" bandwidths.

    Parameters
    ----------
    x : array-like of shape (n,)
        Running variable (finite values).
    cutoff : float, default 0
        Must lie inside the range of ``x``.
    p : int, default 2
        Order of the local polynomial the bandwidth is optimal for (1 to 7); the
        estimates use order ``p + 1``.
    kernel : {"triangular", "epanechnikov", "uniform"}
    bandwidth : float or (float, float), optional
        Fixed bandwidth for both sides, or ``(left, right)``; ``None`` selects them
        ("comb": per side, the median of the side's, the difference's and the sum's
        MSE-optimal bandwidths).
    alpha : float, default 0.05
        Level of the intervals drawn by :meth:`DensityTestResults.plot`.

    Returns
    -------
    DensityTestResults
        Test statistic, p-value, bandwidths and the densities on each side.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> res = density_test(rng.normal(size=2000))
    >>> res.pvalue > 0.05
    True
    >>> [round(d, 1) for d in res.density]
    [0.4, 0.4]
    """
    xv = check_1d(x, "x")
    p = check_int(p, "p", minimum=1, maximum=7)
    kernel = check_option(kernel, "kernel", DensityKernel)
    alpha = check_alpha(alpha)
    c = check_real(cutoff, "cutoff")
    if bandwidth is None:
        hpair = None
    else:
        hpair = _check_bandwidth_pair(bandwidth)
    # equivariant in the scale of x: work with |x - c| <= 1, scale bandwidths and densities
    # back (no overflow or underflow at extreme magnitudes)
    xs, x_scale, nl = _scaled_sides(np.sort(xv) - c, c, xv, "the density test")
    n = xs.size
    nr = n - nl
    n_unique_l = np.unique(xs[:nl]).size
    n_unique_r = np.unique(xs[nl:]).size
    need = p + 2
    if n_unique_l < need or n_unique_r < need:
        raise ValueError(
            f"`x` has {n_unique_l} distinct value(s) below the cutoff and {n_unique_r} at or "
            f"above; the order-{p + 1} density fit needs at least {need} on each side."
        )
    if not np.max(np.abs(xs)) > 0 or np.ptp(xs) <= 64 * np.finfo(float).eps * np.max(np.abs(xs)):
        raise ValueError("`x` has no variation; the density test is undefined.")
    F, mass = _ecdf(xs)
    if hpair is None:
        sel = _select_bandwidths(xs, F, p, kernel, mass)
        hl = float(np.median([sel["left"], sel["diff"], sel["sum"]]))
        hr = float(np.median([sel["right"], sel["diff"], sel["sum"]]))
        how = "comb (MSE-optimal)"
    else:
        hl, hr = hpair[0] / x_scale, hpair[1] / x_scale
        how = "fixed"
    fit = _fit_sides(xs, F, hl, hr, p + 1, kernel, mass)
    fl, fr = float(fit.coef_left[1]), float(fit.coef_right[1])
    vdiff = fit.var_left + fit.var_right - 2 * fit.cov
    se_l, se_r = sqrt(max(fit.var_left, 0.0)), sqrt(max(fit.var_right, 0.0))
    if not (np.isfinite(vdiff) and vdiff > 0):
        raise EstimationError(
            "The jackknife variance of the density difference is not positive: too few "
            "distinct values of `x` near the cutoff; use a larger `bandwidth`."
        )
    se_diff = sqrt(vdiff)
    stat = (fr - fl) / se_diff
    # back to the scale of x
    fl, fr, se_l, se_r = fl / x_scale, fr / x_scale, se_l / x_scale, se_r / x_scale
    se_diff /= x_scale
    hl, hr = hl * x_scale, hr * x_scale
    if mass:
        warnings.warn(
            f"`x` has repeated values ({n - np.unique(xs).size} duplicate(s)): the running "
            "variable has mass points; the density estimates and the jackknife treat tied "
            "units as one group (as rddensity does).",
            EstkitWarning,
            stacklevel=2,
        )
    return DensityTestResults(
        statistic=float(stat),
        pvalue=float(2 * stats.norm.sf(abs(stat))),
        bandwidth=(hl, hr),
        density=(fl, fr),
        std_error=(se_l, se_r),
        std_error_diff=se_diff,
        n_eff=(fit.n_left, fit.n_right),
        n=(nl, nr),
        p=p,
        kernel=kernel,
        cutoff=c,
        alpha=alpha,
        bandwidth_method=how,
        mass_points=mass,
        _x=np.sort(xv),
    )


def _check_bandwidth_pair(bandwidth: Any) -> tuple[float, float]:
    if isinstance(bandwidth, bool | str):
        raise TypeError(f"`bandwidth` must be a positive number or a pair; got {bandwidth!r}.")
    try:
        arr = np.asarray(bandwidth, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise TypeError(
            f"`bandwidth` must be a positive number or a (left, right) pair; got {bandwidth!r}."
        ) from None
    if arr.size not in (1, 2) or not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(
            "`bandwidth` must be a finite positive number or a (left, right) pair of them; "
            f"got {bandwidth!r}."
        )
    return (float(arr[0]), float(arr[-1]))
