"""Results of an R3D fit: the effect curve, its bands and tests, summary and plots.

:class:`R3DResults` is what :meth:`r3d.R3D.fit` leaves in ``results_``: the point estimate
and the :class:`estkit.BootstrapInference` that owns the bootstrap draws, so bands and tests
at any level are computed on demand from the stored draws (a 90% band after a 95% fit needs
no refit). The estimator's fitted attributes (``tau_``, ``band_``, ...) are views of it.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Literal, cast

import numpy as np
import pandas as pd

from estkit import (
    BootstrapInference,
    DegenerateDataWarning,
    ResultsBase,
    SummaryParts,
    TestResult,
    check_alpha,
    check_bool,
    check_int,
    check_option,
    make_summary,
)
from estkit import density_test as _density_test
from estkit._kernels import get_kernel
from estkit._plotting import get_axes, plot_band
from r3d._debias import DebiasedCore
from r3d._estimate import R3DCore
from r3d._inference import NULLS, BootstrapDraws, gini_test
from r3d._rdplot import RDKernel, rdplot

__all__ = ["R3DResults"]

TestName = Literal["nullity", "homogeneity", "gini"]
BandKind = Literal["uniform", "pointwise"]


class R3DResults(ResultsBase):
    """Results of :meth:`r3d.R3D.fit` (``R3D().fit(...).results_``).

    Holds the estimate and the bootstrap inference object; every band and test is read off
    the stored draws, at the fitted ``alpha`` or any other.

    Parameters
    ----------
    core : r3d._estimate.R3DCore
        The point estimate and its linear representation.
    inference : estkit.BootstrapInference or None
        The multiplier bootstrap (None with ``n_bootstrap=0``); with ``debiased``, the
        bootstrap of the bias-corrected scores, centred at the bias-corrected estimate.
    alpha : float
        Fitted significance level (``band``, ``critical_value``, ``pointwise_band``).
    studentize : bool
        Studentised uniform band.
    **facts
        Description of the fit: ``compat``, ``x``, ``Q``, ``unit_ids``, ``n_below``,
        ``n_above``, ``n_dropped``, ``n_clusters``, ``weighted`` (``method``, ``kernel``,
        ``p`` and ``cutoff`` are read off ``core``).
    debiased : r3d._debias.DebiasedCore, optional
        The robust bias-corrected estimate (``bias_correction="robust"``): bands and tests
        are then about it, ``tau`` stays the conventional estimate.

    Examples
    --------
    >>> from r3d import R3D
    >>> from r3d.simulate import simulate_dgp1
    >>> sim = simulate_dgp1(n=300, n_draws=30, delta=2.0, rng=0)
    >>> res = R3D(quantiles=[0.25, 0.5, 0.75], n_bootstrap=200, random_state=0).fit(
    ...     sim.x, sim.y
    ... ).results_
    >>> res.conf_int(alpha=0.10).columns.tolist()
    ['lower', 'upper']
    >>> bool(res.test("nullity").pvalue < 0.05)
    True
    """

    def __init__(
        self,
        core: R3DCore,
        inference: BootstrapInference | None,
        *,
        alpha: float,
        studentize: bool,
        compat: Any,
        x: np.ndarray,
        Q: np.ndarray,
        unit_ids: Any,
        n_below: int,
        n_above: int,
        n_dropped: int,
        n_clusters: int | None,
        weighted: bool,
        debiased: DebiasedCore | None = None,
    ) -> None:
        self._core = core
        self._inference = inference
        # the boundary-curve processes (Gini test) exist for the conventional bootstrap only
        self._draws = (
            None
            if inference is None or debiased is not None
            else BootstrapDraws.of(core, inference)
        )
        self.bias_correction = None if debiased is None else "robust"
        self._tau_bc = None if debiased is None else debiased.tau.copy()
        self._b = None if debiased is None else np.asarray(debiased.bias_bandwidth, float).copy()
        self.alpha = alpha
        self.studentized = bool(studentize) and inference is not None
        self.compat = compat
        self.rules = core.rules
        self.method = core.method
        self.kernel = cast(RDKernel, core.kernel)  # R3D's door allows only these kernels
        self.p = core.p
        self.cutoff = core.cutoff
        self.fuzzy = bool(core.fuzzy)
        self._q = core.q
        self._tau = core.tau.copy()
        self._h = np.asarray(core.bandwidth, dtype=float).copy()
        self.bandwidth_treatment = core.bandwidth_treatment if self.fuzzy else None
        self.first_stage = core.first_stage if self.fuzzy else None
        self._plus = core.plus.copy()
        self._minus = core.minus.copy()
        deg = core.degenerate
        self.degenerate = np.zeros(self._q.size, bool) if deg is None else np.asarray(deg, bool)
        self._x, self._Q = x, Q
        self.unit_ids = pd.Index(unit_ids, name="unit")
        self.n_units = int(x.size)
        self.n_below, self.n_above = n_below, n_above
        self.n_dropped = n_dropped
        self.n_clusters = n_clusters
        self.n_bootstrap = 0 if inference is None else inference.n_bootstrap
        self._weighted = weighted
        self._band = None if inference is None else self.conf_int()
        self._pointwise = None if inference is None else self.conf_int(kind="pointwise")
        self._freeze()

    # ------------------------------------------------------------------ quantities
    @property
    def quantiles(self) -> pd.Index:
        """Grid of quantile levels (``quantile``)."""
        return pd.Index(self._q, name="quantile")

    @property
    def tau(self) -> pd.Series:
        """Estimated effect curve ``tau(q)``."""
        return pd.Series(self._tau, index=self.quantiles, name="tau")

    @property
    def tau_bias_corrected(self) -> pd.Series | None:
        """Robust bias-corrected effect curve, the centre of the band (None without bias
        correction)."""
        if self._tau_bc is None:
            return None
        return pd.Series(self._tau_bc, index=self.quantiles, name="tau_bias_corrected")

    @property
    def bias_bandwidth(self) -> pd.Series | None:
        """Bias bandwidth ``b`` per quantile level (None without bias correction)."""
        if self._b is None:
            return None
        return pd.Series(self._b, index=self.quantiles, name="bias_bandwidth")

    @property
    def bandwidth(self) -> pd.Series:
        """Outcome bandwidth per quantile level."""
        return pd.Series(self._h, index=self.quantiles, name="bandwidth")

    @property
    def quantile_function_plus(self) -> pd.Series:
        """Monotone boundary quantile curve above the cutoff."""
        return pd.Series(self._plus, index=self.quantiles, name="plus")

    @property
    def quantile_function_minus(self) -> pd.Series:
        """Monotone boundary quantile curve below the cutoff."""
        return pd.Series(self._minus, index=self.quantiles, name="minus")

    @property
    def std_errors(self) -> pd.Series | None:
        """Bootstrap standard deviation of ``tau(q)`` (of the bias-corrected estimate under
        ``bias_correction="robust"``; None without draws)."""
        se = self._standard_errors()
        return None if se is None else pd.Series(se, index=self.quantiles, name="std err")

    @property
    def band(self) -> pd.DataFrame | None:
        """Uniform ``1 - alpha`` band at the fitted ``alpha`` (None without draws)."""
        return None if self._band is None else self._band.copy()

    @property
    def pointwise_band(self) -> pd.DataFrame | None:
        """Pointwise ``1 - alpha`` intervals at the fitted ``alpha`` (None without draws)."""
        return None if self._pointwise is None else self._pointwise.copy()

    @property
    def critical_value(self) -> float | None:
        """Critical value of the uniform band at the fitted ``alpha``."""
        if self._inference is None:
            return None
        return float(self._inference.band(self.alpha, studentize=self.studentized).critical_value)

    @property
    def inference(self) -> BootstrapInference | None:
        """The :class:`estkit.BootstrapInference` that owns the bootstrap draws."""
        return self._inference

    def conf_int(self, alpha: float | None = None, *, kind: BandKind = "uniform") -> pd.DataFrame:
        """Confidence band at level ``1 - alpha``, from the stored bootstrap draws.

        Parameters
        ----------
        alpha : float, optional
            Significance level; default the fitted ``alpha``. Any level is computed on
            demand from the same draws: ``conf_int(0.10)`` after a 95% fit equals the band
            of a refit with ``alpha=0.10`` exactly.
        kind : {"uniform", "pointwise"}, default "uniform"
            The uniform band (studentised if the fit was) or pointwise intervals. Under
            ``bias_correction="robust"`` both are centred at the bias-corrected estimate
            and use the robust (bias-corrected) bootstrap draws.

        Returns
        -------
        pandas.DataFrame
            Columns ``lower``, ``upper``, indexed by quantile.
        """
        alpha = self.alpha if alpha is None else check_alpha(alpha)
        kind = check_option(kind, "kind", BandKind)
        if self._inference is None:
            raise ValueError("No bootstrap draws: refit with n_bootstrap > 0 (or multipliers).")
        if kind == "pointwise":
            b = self._inference.pointwise(alpha)
        else:
            b = self._inference.band(alpha, studentize=self.studentized)
        return b.to_frame(self.quantiles)

    def test(
        self,
        kind: TestName = "nullity",
        quantile_range: tuple[float, float] | None = None,
        *,
        alpha: float | None = None,
    ) -> TestResult:
        """Test a hypothesis about the effect curve over a range of quantiles.

        Parameters
        ----------
        kind : {"nullity", "homogeneity", "gini"}
            ``"nullity"``: no effect at any quantile of the range; ``"homogeneity"``: a
            constant effect over the range; ``"gini"``: equal Gini coefficients of the
            boundary distributions above and below the cutoff (whole grid; not with
            ``bias_correction="robust"``, whose nullity and homogeneity tests are about
            the bias-corrected estimate).
        quantile_range : (float, float), optional
            Range of quantile levels; default the whole grid.
        alpha : float, optional
            Level of the critical value; default the fitted ``alpha`` (no refit needed:
            the stored bootstrap draws are reused).

        Returns
        -------
        estkit.TestResult
            With ``statistic``, ``critical_value`` (at ``alpha``) and ``pvalue``.
        """
        kind = check_option(kind, "kind", TestName)
        alpha = self.alpha if alpha is None else check_alpha(alpha)
        if self._inference is None:
            raise ValueError("No bootstrap draws: refit with n_bootstrap > 0 (or multipliers).")
        q = self._q
        if kind == "gini":
            if self._draws is None:
                raise ValueError(
                    "The Gini test is not available with bias_correction='robust' (its draws "
                    "are those of the conventional boundary curves): refit with "
                    "bias_correction=None for it."
                )
            if quantile_range is not None:
                raise ValueError(
                    "`quantile_range` does not apply to the Gini test, which compares the whole "
                    "boundary distributions."
                )
            if min(self._plus.min(), self._minus.min()) < 0:
                raise ValueError(
                    "The Gini test needs non-negative outcomes (incomes, wages): a boundary "
                    "quantile function takes negative values."
                )
            if max(self._plus.max(), self._minus.max()) <= 0:
                # R3D returns NA (with a warning) for a non-positive mean; never 0
                raise ValueError(
                    "The Gini test is undefined: a boundary quantile function has a "
                    "non-positive mean (all outcomes zero near the cutoff)."
                )
        if quantile_range is None:
            rng_ = (float(q[0]), float(q[-1]))
        else:
            if isinstance(quantile_range, str | bytes) or not hasattr(quantile_range, "__len__"):
                raise TypeError(
                    f"`quantile_range` must be a pair (low, high); got {quantile_range!r}."
                )
            if len(quantile_range) != 2:
                raise ValueError("`quantile_range` must be a pair (low, high).")
            try:
                lo, hi = sorted(float(v) for v in quantile_range)
            except (TypeError, ValueError):
                raise TypeError(
                    f"`quantile_range` must be a pair of numbers; got {quantile_range!r}."
                ) from None
            if not (np.isfinite(lo) and np.isfinite(hi)):
                raise ValueError(f"`quantile_range` must be finite; got {quantile_range!r}.")
            # R3D selects q >= lo & q <= hi exactly; the default tolerates rounding such
            # as 0.1 * 3 (one grid point is not lost to the last bit)
            tol = self.rules.range_tol
            inside = (q >= lo - tol) & (q <= hi + tol)
            if inside.sum() < (1 if kind == "nullity" else 2):
                raise ValueError(
                    f"`quantile_range` ({lo:g}, {hi:g}) holds {int(inside.sum())} grid point(s); "
                    "widen it or refine `quantiles`."
                )
            # the grid points actually tested (tolerant to rounding such as 0.1 * 3)
            rng_ = (float(q[inside][0]), float(q[inside][-1]))
        if kind == "gini":
            assert self._draws is not None
            return gini_test(
                self._core,
                self._inference,
                self._draws.nu_plus,
                self._draws.nu_minus,
                alpha=alpha,
            )
        return self._inference.sup_test(kind, rng_, alpha=alpha, null=NULLS[kind])

    # ------------------------------------------------------------------ presentation
    @property
    def effect(self) -> pd.DataFrame:
        """Effect curve with its band and boundary curves, indexed by quantile."""
        df = pd.DataFrame(
            {
                "tau": self._tau,
                "plus": self._plus,
                "minus": self._minus,
                "bandwidth": self._h,
            },
            index=self.quantiles,
        )
        if self._tau_bc is not None:
            df.insert(1, "tau_bias_corrected", self._tau_bc)
            df["bias_bandwidth"] = self._b
        if self.band is not None:
            df = df.join(self.band)
        return df

    def density_test(self, **kwargs: Any) -> Any:
        """Manipulation test of the running variable of the fitted units at the cutoff.

        Runs :func:`estkit.density_test` (Cattaneo, Jansson and Ma 2020, rddensity's
        defaults) on the running variable of the units used in the fit (after any
        ``missing="drop"``), at ``cutoff_``.

        Parameters
        ----------
        **kwargs
            Passed to :func:`estkit.density_test`: ``p``, ``kernel``, ``bandwidth``,
            ``alpha`` (its defaults otherwise; not the estimator's ``p`` or kernel, which
            describe the outcome fits).

        Returns
        -------
        estkit.DensityTestResults
            With ``statistic``, ``pvalue``, ``bandwidth``, ``density``, ``n_eff``,
            ``summary()`` and ``plot()``.
        """
        allowed = {"p", "kernel", "bandwidth", "alpha"}
        unknown = sorted(set(kwargs) - allowed)
        if unknown:
            raise TypeError(
                f"R3D.density_test() got unexpected argument(s) {unknown}; it accepts "
                f"{sorted(allowed)} (passed to estkit.density_test)."
            )
        return _density_test(self._x, self.cutoff, **kwargs)

    def _units_in_window(self) -> tuple[np.ndarray, np.ndarray]:
        """Units with positive kernel weight below / above the cutoff, per quantile."""
        kern = get_kernel(self.kernel)
        u = (self._x[:, None] - self.cutoff) / self._h[None, :]
        inside = kern(u) > 0
        below = self._x < self.cutoff
        return inside[below].sum(axis=0), inside[~below].sum(axis=0)

    def _standard_errors(self) -> np.ndarray | None:
        """Bootstrap standard deviation of tau at each quantile (None without draws)."""
        if self._inference is None:
            return None
        return self._inference.std_errors()

    def _band_name(self) -> str:
        """E.g. '95% uniform band (constant width)'; '' without a band."""
        if self.band is None:
            return ""
        kind = "studentised" if self.studentized else "constant width"
        if self.bias_correction is not None:
            kind = "robust bias-corrected, " + kind
        return f"{100 * (1 - self.alpha):g}% uniform band ({kind})"

    def _outcome_digits(self) -> int:
        """Decimals that match the outcome's magnitude (3 significant digits of the SEs)."""
        se = self._standard_errors()
        ref = np.abs(se) if se is not None else np.array([])
        ref = ref[np.isfinite(ref) & (ref > 0)]
        if ref.size == 0:
            curves = np.abs(np.r_[self._plus, self._minus])
            ref = curves[np.isfinite(curves) & (curves > 0)]
        if ref.size == 0:
            return 4
        mag = int(np.floor(np.log10(float(np.median(ref)))))
        return int(np.clip(2 - mag, 0, 8))

    def summary(
        self,
        digits: int | None = None,
        *,
        quantiles: Sequence[float] = (0.1, 0.25, 0.5, 0.75, 0.9),
    ) -> Any:
        """statsmodels-style summary: design, sample, bandwidths, effects, tests.

        Parameters
        ----------
        digits : int, optional
            Decimal places of numbers in outcome units (effects, standard errors, bands);
            ``None`` rounds them to the outcome's magnitude (three significant digits of
            the typical standard error). Bandwidths show four significant digits and
            p-values three decimals.
        quantiles : sequence of float, keyword-only
            Quantile levels shown in the effect table (nearest grid points).

        Returns
        -------
        statsmodels.iolib.summary.Summary
            ``str()`` for text, ``.as_html()``, ``.as_latex()``.

        Notes
        -----
        The effect table has, per selected quantile: ``tau``, its bootstrap standard error
        (the standard deviation of the multiplier-bootstrap draws of tau at that q), the
        pointwise ``1 - alpha`` interval, the uniform band, the bandwidth and the units
        inside it below and above the cutoff (positive kernel weight). Under
        ``bias_correction="robust"`` it adds ``tau bc`` (the bias-corrected estimate) beside
        ``tau``; the standard errors, intervals, band and tests are then those of ``tau bc``,
        and the header gives the bias bandwidth and names the band "robust bias-corrected".
        """
        if digits is None:
            digits = self._outcome_digits()
        else:
            digits = check_int(digits, "digits", minimum=0)

        def num(v: Any) -> str:
            if v is None or not np.isfinite(v):
                return "-"
            return f"{float(v):,.{digits}f}"

        def bw(v: float) -> str:
            return f"{v:.4g}"

        q = self._q
        pick = sorted({int(np.argmin(np.abs(q - v))) for v in _levels(quantiles, "quantiles")})
        se = self._standard_errors()
        n_lo, n_hi = self._units_in_window()
        cols: dict[str, list[str]] = {"tau": [num(self._tau[j]) for j in pick]}
        if self._tau_bc is not None:
            cols["tau bc"] = [num(self._tau_bc[j]) for j in pick]
        if se is not None:
            cols["std err"] = [num(se[j]) for j in pick]
        if self.pointwise_band is not None:
            cols["pw lower"] = [num(self.pointwise_band["lower"].iloc[j]) for j in pick]
            cols["pw upper"] = [num(self.pointwise_band["upper"].iloc[j]) for j in pick]
        if self.band is not None:
            cols["band lower"] = [num(self.band["lower"].iloc[j]) for j in pick]
            cols["band upper"] = [num(self.band["upper"].iloc[j]) for j in pick]
        cols["bandwidth"] = [bw(self._h[j]) for j in pick]
        cols["n in h below"] = [f"{int(n_lo[j]):,}" for j in pick]
        cols["n in h above"] = [f"{int(n_hi[j]):,}" for j in pick]
        table = pd.DataFrame(cols, index=[f"q={q[j]:g}" for j in pick])
        avg = pd.DataFrame(
            {"mean of tau(q)": [num(float(np.mean(self._tau)))]}, index=[f"{q.size} grid points"]
        )
        level = f"{100 * (1 - self.alpha):g}%"
        band_txt = "no band: n_bootstrap=0"
        if self.band is not None:
            kind_txt = "studentised uniform band" if self.studentized else "uniform band"
            if self.bias_correction is not None:
                kind_txt = "robust bias-corrected " + kind_txt
            band_txt = f"{level} {kind_txt}; pointwise {level} intervals"
        tables: list[tuple[str | None, pd.DataFrame]] = [
            (f"Effect at selected quantiles ({band_txt})", table),
            ("Average effect over the grid points", avg),
        ]
        if self._inference is not None:
            rows = {}
            for kind in ("nullity", "homogeneity", "gini"):
                try:
                    t = self.test(kind)
                except ValueError:  # Gini of negative outcomes (or robust draws): none
                    continue
                fmt = num if kind != "gini" else (lambda v: f"{v:.4g}")
                rows[kind] = [fmt(t.statistic), fmt(t.critical_value), f"{t.pvalue:.3f}"]
            tables.append(
                (
                    "Tests over the whole grid",
                    pd.DataFrame(rows, index=["statistic", "critical value", "p-value"]).T,
                )
            )

        def span(v: np.ndarray, f: Any) -> str:
            lo_, hi_ = float(np.min(v)), float(np.max(v))
            return f(lo_) if lo_ == hi_ else f"{f(lo_)} - {f(hi_)}"

        h = self._h
        header: list[tuple[str, Any]] = [
            ("Design", "fuzzy" if self.fuzzy else "sharp"),
            ("Method", self.method),
            ("Kernel", self.kernel),
            ("Order p", self.p),
            ("Cutoff", f"{self.cutoff:g}"),
            ("Quantiles", f"{q.size} in [{q[0]:g}, {q[-1]:g}]"),
            ("Units", self.n_units),
            ("Below / above", f"{self.n_below} / {self.n_above}"),
            ("Bandwidth", span(h, bw)),
        ]
        if self._b is not None:
            header += [
                ("Bias correction", f"robust (order {self.p + 1} bias fit)"),
                ("Bias bandwidth", span(self._b, bw)),
            ]
        header += [
            (
                "In bandwidth b/a",
                f"{span(n_lo, lambda v: f'{int(v):,}')} / {span(n_hi, lambda v: f'{int(v):,}')}",
            ),
            ("Bootstrap B", self.n_bootstrap),
            ("Mode", self.rules.name),
            ("Weights", "yes (within units)" if getattr(self, "_weighted", False) else "no"),
            ("Clusters", "none" if self.n_clusters is None else f"{self.n_clusters:,}"),
        ]
        if self.band is not None:
            half = 0.5 * (self.band["upper"] - self.band["lower"]).to_numpy()
            live = ~self.degenerate
            header.append(("Band", f"{level} uniform, " + self._band_name().split("(")[1][:-1]))
            if self.studentized:
                header.append(("Crit. value (sup-t)", f"{self.critical_value:.4g}"))
            header.append(
                ("Band half-width", span(half[live] if live.any() else half, num) + " (y units)")
            )
        if self.fuzzy:
            header += [
                ("First stage", self.first_stage),
                ("Treatment bw", self.bandwidth_treatment),
            ]
        notes = []
        if self.n_dropped:
            notes.append(
                f"{self.n_dropped} unit(s) dropped for a missing running variable, treatment or "
                "cluster (missing='drop')."
            )
        if self.degenerate.any():
            notes.append(
                f"No variation across units at {_list_levels(q[self.degenerate])} (constant "
                "or top-coded outcomes): tau is exactly 0 with a zero-width band there, and "
                "these points are left out of the band's and the tests' sup statistics."
            )
        notes.append(
            "tau(q) is the local average quantile treatment effect at the cutoff"
            + (" (divided by the first-stage jump)." if self.fuzzy else ".")
        )
        if self._tau_bc is not None:
            notes.append(
                "tau bc: robust bias-corrected tau(q) (bias estimated by a local polynomial of "
                f"order {self.p + 1} with the bias bandwidth, subtracted); the std err, "
                "intervals, band and tests are those of tau bc (robust bootstrap of its "
                "influence scores) and are centred at it, not at tau."
            )
        if self._inference is not None:
            notes.append(
                "std err: bootstrap standard deviation of tau(q); pw lower/upper: pointwise "
                "intervals (each q alone); band lower/upper: the uniform band (all q at once)"
                + (
                    ", whose half-width is the critical value times each q's std err."
                    if self.studentized
                    else ", of constant half-width (the critical value, in outcome units)."
                )
            )
        parts = SummaryParts(
            title="Distributional regression discontinuity (R3D)",
            header=header,
            tables=tables,
            notes=notes,
        )
        return make_summary(parts, digits=4)

    def plot(
        self,
        ax: Any = None,
        *,
        relative: bool = False,
        caption: bool = False,
        legend_loc: str = "best",
        **kwargs: Any,
    ) -> Any:
        """Plot the effect curve with its uniform band; return the matplotlib Axes.

        Under ``bias_correction="robust"`` the curve drawn is the bias-corrected estimate,
        the centre of the robust band.

        Parameters
        ----------
        ax : matplotlib Axes, optional
        relative : bool, default False
            Show ``100 * tau(q) / Q_-(q)``: the effect (and band) in percent of the
            control-side (below-cutoff) boundary quantile ``quantile_function_minus_``.
            Quantile levels where that quantile is zero are left blank.
        caption : bool, default False
            Write the sample size, the bandwidth(s), the order and kernel and the number of
            clusters under the axes.
        legend_loc : str, default "best"
            Legend position (matplotlib's ``loc``); the legend is drawn without a frame
            and, with ``"outside"``, to the right of the axes.
        **kwargs
            ``xlabel``, ``ylabel``, ``label``, ``band_label``, ``title``, ``color``,
            ``zero_line`` (see :func:`estkit._plotting.plot_band`).

        Returns
        -------
        matplotlib.axes.Axes
            The axes drawn on.
        """
        relative = check_bool(relative, "relative")
        caption = check_bool(caption, "caption")
        if not isinstance(legend_loc, str):
            raise TypeError(f"`legend_loc` must be a string such as 'best'; got {legend_loc!r}.")
        # the band's centre: the bias-corrected curve under bias_correction="robust"
        tau = self._tau if self._tau_bc is None else self._tau_bc
        lo = hi = None
        if self.band is not None:
            lo, hi = self.band["lower"].to_numpy(), self.band["upper"].to_numpy()
        if relative:
            tau = self._relative(tau)
            lo, hi = (None if v is None else self._relative(v) for v in (lo, hi))
        kwargs.setdefault("xlabel", "quantile level q")
        kwargs.setdefault(
            "ylabel",
            "effect, % of the below-cutoff quantile" if relative else "treatment effect tau(q)",
        )
        kwargs.setdefault("label", "tau(q)" if self._tau_bc is None else "tau(q), bias-corrected")
        kwargs.setdefault("band_label", self._band_name() or "uniform band")
        ax = plot_band(self._q, tau, lo, hi, ax=ax, **kwargs)
        ax.yaxis.set_major_formatter(_thousands("{:,.0f}%" if relative else "{:,.6g}"))
        if legend_loc == "outside":
            ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        else:
            ax.legend(frameon=False, loc=legend_loc, fontsize="small")
        if caption:
            h = self._h
            htxt = f"{h[0]:.3g}" if np.ptp(h) == 0 else f"{h.min():.3g}-{h.max():.3g}"
            cl = "" if self.n_clusters is None else f", {self.n_clusters:,} clusters"
            ax.annotate(
                f"n = {self.n_units:,} ({self.n_below:,} below, {self.n_above:,} above), "
                f"h = {htxt}, p = {self.p}, {self.kernel} kernel, {self.method}{cl}, "
                f"B = {self.n_bootstrap:,}",
                xy=(0, 0),
                xycoords="axes fraction",
                xytext=(0, -40),
                textcoords="offset points",
                va="top",
                fontsize="small",
                color="0.3",
            )
        return ax

    def _relative(self, values: np.ndarray) -> np.ndarray:
        """``100 * values / Q_-(q)`` (NaN where the below-cutoff quantile is zero)."""
        base = self._minus
        out = np.full(base.shape, np.nan)
        ok = base != 0
        out[ok] = 100.0 * np.asarray(values, dtype=float)[ok] / base[ok]
        return out

    def plot_rd(
        self,
        quantiles: Sequence[float] = (0.1, 0.5, 0.9),
        n_bins: int | tuple[int, int] | None = None,
        ax: Any = None,
        *,
        global_fit: bool = False,
        global_order: int = 4,
        alpha: float | None = None,
    ) -> Any:
        """RD plot of the unit quantiles at selected levels, following rdplot.

        For each selected quantile level ``q`` (nearest grid point), the unit quantiles
        ``Q_i(q)`` are drawn against the running variable with :func:`r3d.rdplot`: bin
        means with confidence intervals in evenly spaced bins (IMSE-optimal numbers by
        default, rdplot's ``"es"`` rule, or ``n_bins``), and the local polynomial fits of
        order ``p_`` with the fitted kernel and that quantile's bandwidth
        ``bandwidth_[q]``, drawn inside the shaded bandwidth window. Several levels share
        the axes, one colour each.

        The fits' ends at the cutoff are the local polynomial boundary estimates at ``q``
        before monotonisation. For ``method="simple"`` these are ``quantile_function_plus_``
        and ``quantile_function_minus_`` at ``q`` whenever the rearrangement leaves the
        boundary curves unchanged there (always, when the per-quantile estimates are
        already increasing in ``q``), so the jump between the open circles is ``tau(q)``.
        For ``method="frechet"`` the drawn ends are the per-quantile local polynomial fits
        with the common bandwidth, i.e. the boundary curves *before* their isotonic
        projection onto increasing functions; ``tau(q)`` is the jump of the projected
        curves and differs from the drawn jump where the projection is active. In fuzzy
        designs the plot shows the outcome's jump (the reduced form), not ``tau(q)``.

        Parameters
        ----------
        quantiles : sequence of float, default (0.1, 0.5, 0.9)
        n_bins : int or (int, int), optional
            Bins below and above; ``None``: rdplot's IMSE-optimal evenly spaced numbers.
        ax : matplotlib Axes, optional
        global_fit : bool, default False
            Also draw a global polynomial of order ``global_order`` per side, dashed and
            labelled "global fit (not the estimate)".
        global_order : int, default 4
        alpha : float, optional
            Level of the bin confidence intervals; default the estimator's ``alpha_``.

        Returns
        -------
        matplotlib Axes
        """
        levels = _levels(quantiles, "quantiles")
        global_fit = check_bool(global_fit, "global_fit")
        alpha = self.alpha if alpha is None else check_alpha(alpha)
        ax = get_axes(ax, figsize=(7.0, 4.5))
        x, Q, q, c = self._x, self._Q, self._q, self.cutoff
        several = len(levels) > 1
        for k, level in enumerate(levels):
            j = int(np.argmin(np.abs(q - level)))
            n_lines, n_patches = len(ax.lines), len(ax.patches)
            with warnings.catch_warnings():
                if self.degenerate[j]:  # said at fit time; the flat fits show it
                    warnings.simplefilter("ignore", DegenerateDataWarning)
                rdplot(
                    x,
                    Q[:, j],
                    c,
                    p=self.p,
                    kernel=self.kernel,
                    bandwidth=float(self._h[j]),
                    n_bins=n_bins,
                    alpha=alpha,
                    ax=ax,
                    global_fit=global_fit,
                    global_order=global_order,
                )
            tag = f"q = {q[j]:g}: "
            col = f"C{k}"
            for patch in ax.patches[n_patches:]:  # the shaded bandwidth window
                patch.set_label(tag + patch.get_label())
                if several:
                    patch.set_facecolor(col)
            for artist in ax.lines[n_lines:]:
                lab = artist.get_label()
                if lab and not lab.startswith("_"):
                    artist.set_label(tag + lab)
                if not several:
                    continue
                if artist.get_linestyle() == "--":
                    continue  # the global fit stays grey
                elif artist.get_marker() == "o" and artist.get_markerfacecolor() == "white":
                    artist.set_markeredgecolor(col)
                else:
                    artist.set_color(col)
        ax.set_ylabel("unit quantile Q_i(q)")
        ax.yaxis.set_major_formatter(_thousands())
        if several:  # one entry per artist and level: beside the axes, out of the data
            ax.legend(frameon=False, fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1))
        else:
            ax.legend(frameon=False, fontsize="small")
        return ax


def _thousands(fmt: str = "{:,.6g}") -> Any:
    """Tick formatter with thousands separators (12,345; with ``%`` for percentages)."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: fmt.format(v))


def _levels(values: Any, name: str) -> np.ndarray:
    """Quantile levels chosen for display: numbers in (0, 1)."""
    if isinstance(values, str | bytes):
        raise TypeError(f"`{name}` must be quantile levels in (0, 1); got {values!r}.")
    try:
        v = np.atleast_1d(np.asarray(values, dtype=float)).reshape(-1)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be quantile levels in (0, 1); got {values!r}.") from None
    if v.size == 0 or not np.all(np.isfinite(v)) or np.any(v <= 0) or np.any(v >= 1):
        raise ValueError(f"`{name}` must be non-empty levels inside (0, 1); got {values!r}.")
    return v


def _list_levels(levels: np.ndarray, limit: int = 8) -> str:
    shown = ", ".join(f"{v:g}" for v in levels[:limit])
    return "q = " + shown + (f", ... ({levels.size} in all)" if levels.size > limit else "")
