"""The public R3D estimator (scikit-learn style) on top of the pure cores.

``r3d._estimate`` computes the point estimate and the per-unit pieces of its linear
representation; ``r3d._inference`` turns multiplier draws into bands and tests; this
module validates input, builds the quantile matrix, runs both and presents the results.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from estkit import (
    MultiplierKind,
    SummaryParts,
    TestResult,
    check_alpha,
    check_int,
    check_option,
    check_random_state,
    make_summary,
)
from estkit._plotting import get_axes, plot_band
from r3d._data import Distributions, QuantileFunctions
from r3d._estimate import estimate_r3d
from r3d._inference import (
    BootstrapDraws,
    bootstrap_draws,
    pointwise_band,
    run_tests,
    uniform_band,
)

__all__ = ["R3D"]

Method = Literal["simple", "frechet"]
Compat = Literal["R"]
TestName = Literal["nullity", "homogeneity", "gini"]
Missing = Literal["raise", "drop"]

DEFAULT_GRID = np.round(np.arange(1, 100) / 100.0, 2)


class _DefaultKernel(str):
    """The kernel left at its default: ``"triangular"``, or R3D's Epanechnikov default
    under ``compat="R"``. Equal to the string ``"triangular"`` in every other respect."""

    __slots__ = ()


DEFAULT_KERNEL = _DefaultKernel("triangular")

_NULLS = {
    "nullity": "tau(q) = 0 for every q in the range",
    "homogeneity": "tau(q) is constant over the range",
    "gini": "Gini above = Gini below the cutoff",
}


class R3D(BaseEstimator):
    """Regression discontinuity with distribution-valued outcomes (Van Dijcke 2025).

    Every unit ``i`` has a running variable ``x_i`` and a sample of outcomes (its
    microdata). The estimand is the local average quantile treatment effect at the cutoff,
    ``tau(q) = E[Q_i(q) | x = c+] - E[Q_i(q) | x = c-]`` (divided by the first-stage jump
    in fuzzy designs), estimated on a grid of quantile levels with a uniform confidence band
    from a multiplier bootstrap over units.

    Parameters
    ----------
    method : {"frechet", "simple"}, default "frechet"
        ``"frechet"``: local Fréchet regression in 2-Wasserstein space (one IMSE-optimal
        bandwidth; boundary curves projected on non-decreasing functions by isotonic L2
        regression). ``"simple"``: local polynomial per quantile (per-quantile MSE-optimal
        bandwidths; boundary curves made monotone by rearrangement).
    p : int, default 2
        Order of the local polynomial.
    kernel : {"triangular", "epanechnikov", "uniform"}, default "triangular"
        Kernel. The default is triangular (the paper's choice); left at its default under
        ``compat="R"`` it means the R package's own default, Epanechnikov (an explicitly
        passed ``kernel="triangular"`` is kept). ``kernel_`` holds the kernel used.
    quantiles : array-like, optional
        Quantile levels in (0, 1); ``None`` is 0.01, 0.02, ..., 0.99. Ignored for a
        :class:`~r3d.QuantileFunctions` input, which carries its own grid.
    cutoff : float, default 0.0
        Units with ``x >= cutoff`` are above the cutoff (treated in sharp designs).
    bandwidth : float or array-like of shape (m,), optional
        Outcome bandwidth(s); ``None`` selects them (MSE per quantile for ``"simple"``,
        IMSE for ``"frechet"``) with the three-step plug-in selector.
    bandwidth_treatment : float, optional
        First-stage bandwidth for fuzzy designs; ``None`` selects it.
    pilot_order : int, default 1
        Order ``s`` of the pilot fits in the bandwidth selector: the selected bandwidth is
        MSE-optimal for an order-``s`` fit and is used with the order-``p`` fit, so
        ``pilot_order < p`` (the default 1 < 2) leaves the smoothing bias negligible
        relative to the band, as in the paper; ``pilot_order >= p`` gives MSE-optimal but
        biased estimates.
    coverage_correction : bool, default False
        Shrink selected bandwidths by the Calonico-Cattaneo-Farrell coverage-error
        rule-of-thumb factor.
    n_bootstrap : int, default 2000
        Multiplier-bootstrap draws (0 skips inference).
    alpha : float, default 0.05
        Significance level: the band has uniform coverage ``1 - alpha``.
    compat : {None, "R"}, default None
        ``"R"`` reproduces the R package R3D 0.1.0 exactly, departures from the paper
        included (see Notes). ``None`` follows the paper.
    random_state : None, int, SeedSequence or Generator
        Seeds the bootstrap multipliers.
    studentize : bool, default False
        Studentised band (width proportional to each quantile's bootstrap standard
        deviation) instead of a constant-width band.
    multiplier : {"gaussian", "rademacher", "mammen"}, default "gaussian"
        Distribution of the bootstrap multipliers.
    missing : {"raise", "drop"}, default "raise"
        What to do with units whose running variable (or treatment) is missing: raise, or
        drop them (the count is reported in the summary as ``n_dropped_``).
    progress : bool, optional
        Progress line during a long bootstrap; default only in an interactive terminal
        (silent in scripts run by CI and in tests).
    n_jobs : int, optional
        Run bootstrap blocks in parallel through joblib (``-1``: all cores; inside
        ``joblib.parallel_backend("dask")`` on a Dask cluster). Results do not depend on it.
        On one machine the default already uses every core (threaded random-number
        generation and multithreaded BLAS).
    memory_budget : int, optional
        Bytes of temporary arrays in the fit: bandwidth selection, local fits and
        bootstrap run over blocks of quantile columns, units and draws sized to it, so the
        fit's memory stays a small multiple of the quantile matrix (default: the size of
        the matrix, at least 64 MiB). Results do not depend on it beyond floating-point
        rounding.

    Attributes
    ----------
    quantiles_ : ndarray of shape (m,)
        Grid of quantile levels used.
    tau_ : ndarray of shape (m,)
        Estimated effect curve.
    bandwidth_ : ndarray of shape (m,)
        Outcome bandwidth per quantile (constant for ``"frechet"``).
    bandwidth_treatment_ : float or None
        First-stage bandwidth (fuzzy designs).
    first_stage_ : float or None
        Jump in the treatment probability at the cutoff (fuzzy designs).
    quantile_function_plus_, quantile_function_minus_ : ndarray of shape (m,)
        Monotone boundary quantile curves above and below the cutoff.
    band_ : DataFrame
        Uniform band, indexed by quantile, columns ``"lower"``, ``"upper"``.
    critical_value_ : float
        Critical value of the uniform band.
    pointwise_band_ : DataFrame
        Pointwise ``1 - alpha`` intervals, indexed by quantile, columns ``"lower"``,
        ``"upper"``: ``tau(q) +/- c(q)`` with ``c(q)`` the ``(1 - alpha)`` bootstrap quantile
        of ``|G_b(q)|`` at that level alone (same order-statistic rule as the band). Each
        covers ``tau(q)`` at its own ``q``; use ``band_`` for statements about the whole curve.
    kernel_ : str
        Kernel used.
    n_units_ : int
        Units used; ``n_below_``, ``n_above_`` on each side; ``n_dropped_`` dropped.
    fuzzy_ : bool
        Whether a treatment vector was given.

    Notes
    -----
    Differences between the default (paper) mode and ``compat="R"`` (R3D 0.1.0). Two rows
    go beyond the paper and come from the Monte Carlo study (``docs/validity.md``): the
    selector regularisation (Imbens-Kalyanaraman / rdrobust's ``scaleregul``; without it
    the selected bandwidth is erratic when the bias difference at the cutoff is zero and
    the bands under-cover) and the HC2 residual scaling (raw residuals understate the
    variance near the cutoff).

    ==========================  =============================  ===========================
    piece                       default (paper)                ``compat="R"``
    ==========================  =============================  ===========================
    kernel default              triangular                     Epanechnikov
    bootstrap residuals         every unit in the kernel       units with a negative
                                window                         intercept weight dropped
    residual scaling            ``e / sqrt(1 - h_ii)`` (HC2,   raw residuals
                                ``h_ii`` the unit's leverage)
    selector pilot fits         requested kernel               always triangular
    selector bias term          (s+1)-th derivative with       order-s scaled coefficient,
                                kernel constants               constants dropped
    selector regularisation     ``3 Var(B_hat)`` added to the  none
                                squared bias difference
    fuzzy first-stage           treatment fit's own window     outcome window and weights
    residuals                   and weights                    of the first quantile
    "simple" monotonisation     sorting (rearrangement)        ``Rearrangement`` package
    "frechet" projection        grid-spacing weighted PAVA     unweighted PAVA
    band critical value         (1 - alpha) quantile           ceil((1-alpha)(B+1))-th
                                                               order statistic
    test p-value                (1 + #{T* >= T}) / (B + 1)     #{T* >= T} / B
    weighted quantiles          weighted type 7                ``Hmisc::wtd.quantile``
    ==========================  =============================  ===========================

    The estimator follows the scikit-learn contract (``get_params``, ``set_params``,
    ``clone``; ``random_state`` seeds the bootstrap), but its ``fit(x, y)`` takes a
    running variable and distribution-valued outcomes rather than a feature matrix and a
    target vector, and it has no ``predict``; so scikit-learn's generic estimator checks
    (which feed 2-D ``X`` and 1-D ``y`` and call ``predict``/``score``) do not apply.

    Examples
    --------
    >>> from r3d import R3D
    >>> from r3d.simulate import simulate_dgp1
    >>> sim = simulate_dgp1(n=300, n_draws=30, delta=2.0, rng=0)
    >>> est = R3D(quantiles=[0.25, 0.5, 0.75], n_bootstrap=200, random_state=0)
    >>> est = est.fit(sim.x, sim.y)
    >>> est.tau_.round(1).tolist()  # doctest: +SKIP
    [2.0, 2.1, 2.1]
    >>> bool(est.test("nullity").pvalue < 0.05)
    True
    """

    def __init__(
        self,
        method: Method = "frechet",
        p: int = 2,
        kernel: str = DEFAULT_KERNEL,
        quantiles: Any = None,
        cutoff: float = 0.0,
        bandwidth: Any = None,
        bandwidth_treatment: float | None = None,
        pilot_order: int = 1,
        coverage_correction: bool = False,
        n_bootstrap: int = 2000,
        alpha: float = 0.05,
        compat: Compat | None = None,
        random_state: Any = None,
        studentize: bool = False,
        multiplier: MultiplierKind = "gaussian",
        missing: Missing = "raise",
        progress: bool | None = None,
        n_jobs: int | None = None,
        memory_budget: int | None = None,
    ) -> None:
        self.method = method
        self.p = p
        self.kernel = kernel
        self.quantiles = quantiles
        self.cutoff = cutoff
        self.bandwidth = bandwidth
        self.bandwidth_treatment = bandwidth_treatment
        self.pilot_order = pilot_order
        self.coverage_correction = coverage_correction
        self.n_bootstrap = n_bootstrap
        self.alpha = alpha
        self.compat = compat
        self.random_state = random_state
        self.studentize = studentize
        self.multiplier = multiplier
        self.missing = missing
        self.progress = progress
        self.n_jobs = n_jobs
        self.memory_budget = memory_budget

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        x: Any = None,
        y: Any = None,
        treatment: Any = None,
        weights: Any = None,
        cluster: Any = None,
        multipliers: Any = None,
    ) -> R3D:
        """Estimate the effect curve and, unless ``n_bootstrap=0``, its uniform band.

        Parameters
        ----------
        x : array-like of shape (n,), optional
            Running variable, one value per unit. May be omitted when ``y`` carries it
            (``Distributions(..., running=...)``).
        y : sequence of 1-D arrays, 2-D array, Distributions or QuantileFunctions
            Each unit's outcome sample: a sequence of 1-D arrays in the order of ``x``, a
            2-D array (one row of draws per unit), a :class:`~r3d.Distributions`
            (e.g. from ``Distributions.from_long``), or a
            :class:`~r3d.QuantileFunctions` of precomputed quantiles.
        treatment : array-like of shape (n,), optional
            Treatment received; giving it makes the design fuzzy.
        weights : sequence of 1-D arrays, optional
            Sampling weights of the observations, matching ``y``.
        cluster : array-like of shape (n,), optional
            Cluster labels: units of one cluster share a bootstrap multiplier.
        multipliers : array-like of shape (n, B), optional
            Bootstrap multipliers to use instead of random draws (deterministic bands and
            tests); rows follow the units kept for estimation.

        Returns
        -------
        self : R3D
        """
        method = check_option(self.method, "method", Method)
        compat = None if self.compat is None else check_option(self.compat, "compat", Compat)
        is_r = compat == "R"
        kernel = self.kernel
        if kernel is None or isinstance(kernel, _DefaultKernel):
            kernel = "epanechnikov" if is_r else "triangular"
        kernel = check_option(kernel, "kernel", Literal["triangular", "epanechnikov", "uniform"])
        p = check_int(self.p, "p", minimum=0)
        s = check_int(self.pilot_order, "pilot_order", minimum=0)
        n_boot = check_int(self.n_bootstrap, "n_bootstrap", minimum=0)
        alpha = check_alpha(self.alpha)
        missing = check_option(self.missing, "missing", Missing)
        mult_kind = check_option(self.multiplier, "multiplier", MultiplierKind)
        cutoff = _as_float(self.cutoff, "cutoff")
        budget = (
            None
            if self.memory_budget is None
            else check_int(self.memory_budget, "memory_budget", minimum=1)
        )
        if multipliers is None and 0 < n_boot < 1.0 / alpha:
            raise ValueError(
                f"`n_bootstrap` = {n_boot} is too small for alpha = {alpha:g}: the band's "
                f"critical value needs at least {int(np.ceil(1 / alpha))} draws (use 2000+)."
            )

        xv, Q, grid, tv, cl, n_dropped, Q_bw = self._prepare(
            x, y, treatment, weights, cluster, missing, is_r
        )
        xi = None
        if multipliers is not None:
            xi = _check_multipliers(multipliers, xv.size, n_dropped, alpha)
        if cl is not None and xi is None:
            n_cl = int(pd.factorize(cl)[1].size)
            if n_cl < 2:
                raise ValueError(
                    "`cluster` has a single cluster: the cluster bootstrap needs at least two "
                    "(leave cluster=None for independent units)."
                )
        below, above = int(np.sum(xv < cutoff)), int(np.sum(xv >= cutoff))
        if below == 0 or above == 0:
            side = "below" if below == 0 else "above"
            raise ValueError(
                f"`x`: no unit lies {side} the cutoff {cutoff:g} (range of x: "
                f"[{xv.min():g}, {xv.max():g}]); check `cutoff` and the running variable."
            )
        if tv is not None and np.ptp(tv) == 0:
            raise ValueError(
                "`treatment` is constant; a fuzzy design needs treatment variation (for a "
                "sharp design, leave `treatment=None`)."
            )

        core = estimate_r3d(
            xv,
            Q,
            grid,
            cutoff=cutoff,
            T=tv,
            method=method,
            p=p,
            kernel=kernel,
            bandwidth=self._bandwidth_arg(grid.size),
            bandwidth_treatment=self.bandwidth_treatment,
            coverage_correction=bool(self.coverage_correction),
            s=s,
            compat=is_r,
            Q_bandwidth=Q_bw,
            memory_budget=budget,
        )

        draws: BootstrapDraws | None = None
        band = None
        pointwise = None
        if xi is not None or n_boot > 0:
            if xi is not None:
                draws = bootstrap_draws(core, xi, memory_budget=budget)
            else:
                rng = check_random_state(self.random_state)
                draws = bootstrap_draws(
                    core,
                    n_boot=n_boot,
                    kind=mult_kind,
                    cluster=cl,
                    rng=rng,
                    progress=self.progress,
                    n_jobs=self.n_jobs,
                    memory_budget=budget,
                )
            ub = uniform_band(core, draws, alpha, studentize=bool(self.studentize))
            band = (ub.lower, ub.upper, ub.crit)
            pw_lo, pw_hi, _ = pointwise_band(core, draws, alpha)
            pointwise = pd.DataFrame(
                {"lower": pw_lo, "upper": pw_hi}, index=pd.Index(grid, name="quantile")
            )

        self._core = core
        self._draws = draws
        self.method_ = method
        self.kernel_ = kernel
        self.alpha_ = alpha
        self.p_ = p
        self.cutoff_ = cutoff
        self.studentized_ = bool(self.studentize) and draws is not None
        self.compat_ = compat
        self.fuzzy_ = tv is not None
        self.quantiles_ = grid
        self.tau_ = core.tau.copy()
        self.bandwidth_ = np.asarray(core.bandwidth, dtype=float).copy()
        self.bandwidth_treatment_ = core.bandwidth_treatment if self.fuzzy_ else None
        self.first_stage_ = core.first_stage if self.fuzzy_ else None
        self.quantile_function_plus_ = core.plus.copy()
        self.quantile_function_minus_ = core.minus.copy()
        self.n_units_ = int(xv.size)
        self.n_below_, self.n_above_ = below, above
        self.n_dropped_ = n_dropped
        # clusters enter only through generated multipliers
        self.n_clusters_ = None if cl is None or xi is not None else int(pd.factorize(cl)[1].size)
        self.n_bootstrap_ = 0 if draws is None else int(draws.tau.shape[0])
        self._x, self._Q = xv, Q
        self.pointwise_band_ = pointwise
        if band is None:
            self.band_ = None
            self.critical_value_ = None
        else:
            lo, hi, cv = band
            idx = pd.Index(grid, name="quantile")
            self.band_ = pd.DataFrame({"lower": lo, "upper": hi}, index=idx)
            self.critical_value_ = float(cv)
        return self

    def _bandwidth_arg(self, m: int) -> Any:
        if self.bandwidth is None:
            return None
        if isinstance(self.bandwidth, str):
            raise TypeError(
                f"`bandwidth` must be a number or one number per quantile; got "
                f"{self.bandwidth!r} (bandwidths are selected automatically when "
                "bandwidth=None)."
            )
        h = np.asarray(self.bandwidth, dtype=float)
        if h.ndim > 1 or (h.ndim == 1 and h.size not in (1, m)):
            raise ValueError(
                f"`bandwidth` must be a scalar or one value per quantile ({m}); "
                f"got shape {h.shape}."
            )
        if not np.all(np.isfinite(h)) or np.any(h <= 0):
            raise ValueError(f"`bandwidth` must be finite and positive; got {self.bandwidth!r}.")
        return float(h) if h.ndim == 0 or h.size == 1 else h

    def _grid(self) -> np.ndarray:
        if self.quantiles is None:
            return DEFAULT_GRID.copy()
        g = np.atleast_1d(np.asarray(self.quantiles, dtype=float))
        if g.ndim != 1 or g.size == 0:
            raise ValueError("`quantiles` must be a non-empty 1-D array of levels in (0, 1).")
        if not np.all(np.isfinite(g)) or np.any(g <= 0) or np.any(g >= 1):
            raise ValueError(
                f"`quantiles` must lie strictly inside (0, 1); got [{g.min():g}, {g.max():g}]. "
                "Use e.g. quantiles=np.arange(1, 100) / 100."
            )
        if np.any(np.diff(g) <= 0):
            raise ValueError("`quantiles` must be strictly increasing without duplicates.")
        return g

    def _prepare(self, x, y, treatment, weights, cluster, missing, is_r):
        if y is None:
            raise ValueError(
                "`y` is required: pass one outcome sample per unit (sequence of 1-D arrays), a "
                "Distributions or a QuantileFunctions object."
            )
        if isinstance(y, QuantileFunctions):
            if weights is not None:
                raise ValueError("`weights` cannot be used with precomputed QuantileFunctions.")
            grid = y.grid
            Q = y.matrix
            carried = y
        else:
            if isinstance(y, Distributions):
                dist = y
                if weights is not None:
                    raise ValueError("`weights`: pass weights inside the Distributions object.")
            elif isinstance(y, pd.DataFrame):
                raise TypeError(
                    "`y` is a DataFrame: build the outcome container with "
                    "r3d.Distributions.from_long(df, unit=..., outcome=..., running=...)."
                )
            else:
                dist = Distributions.from_arrays(y, weights)
            grid = self._grid()
            carried = dist
            Q = None
        n = carried.n_units
        xv = _per_unit(x, carried.running, "x", n, numeric=True)
        if xv is not None and missing == "raise" and not np.all(np.isfinite(xv)):
            bad_x = int(np.sum(~np.isfinite(xv)))
            raise ValueError(
                f"`x` is missing or non-finite for {bad_x} unit(s); remove them or pass "
                "missing='drop' to drop them (the count is reported)."
            )
        if xv is None:
            raise ValueError("`x` (the running variable) is required, one value per unit.")
        tv = _per_unit(treatment, carried.treatment, "treatment", n, numeric=True)
        cl = _per_unit(cluster, carried.cluster, "cluster", n, numeric=False)
        bad = ~np.isfinite(xv)
        if tv is not None:
            bad |= ~np.isfinite(tv)
        if cl is not None:
            cl_missing = pd.isna(pd.Series(cl, dtype=object)).to_numpy()
            if cl_missing.any() and missing == "raise":
                raise ValueError(
                    f"`cluster` is missing for {int(cl_missing.sum())} unit(s); give every unit a "
                    "cluster or pass missing='drop'."
                )
            bad |= cl_missing
        n_dropped = int(bad.sum())
        if n_dropped:
            what = "`x`" if tv is None else "`x` or `treatment`"
            if cl is not None:
                what += " (or `cluster`)"
            if missing == "raise":
                raise ValueError(
                    f"{what} is missing or non-finite for {n_dropped} unit(s); remove them or "
                    "pass missing='drop' to drop them (the count is reported)."
                )
            keep = ~bad
            xv = xv[keep]
            tv = None if tv is None else tv[keep]
            cl = None if cl is None else cl[keep]
            if Q is not None:
                Q = Q[keep]
            else:
                carried = carried.subset(keep)
        Q_bw = None
        if Q is None:
            qmethod = "hmisc" if (is_r and carried.weights is not None) else "linear"
            Q = carried.quantiles(grid, method=qmethod)
            if is_r and carried.weights is not None:
                # R3D selects bandwidths on the unweighted quantiles (weights reach its
                # selector only through `...`, where they are ignored)
                Q_bw = Distributions(carried.values, carried.offsets).quantiles(grid)
        return xv, Q, grid, tv, cl, n_dropped, Q_bw

    # ------------------------------------------------------------------ inference
    def test(
        self, kind: TestName = "nullity", quantile_range: tuple[float, float] | None = None
    ) -> TestResult:
        """Test a hypothesis about the effect curve over a range of quantiles.

        Parameters
        ----------
        kind : {"nullity", "homogeneity", "gini"}
            ``"nullity"``: no effect at any quantile of the range; ``"homogeneity"``: a
            constant effect over the range; ``"gini"``: equal Gini coefficients of the
            boundary distributions above and below the cutoff (whole grid).
        quantile_range : (float, float), optional
            Range of quantile levels; default the whole grid.

        Returns
        -------
        estkit.TestResult
            With ``statistic``, ``critical_value`` (at the estimator's ``alpha``) and
            ``pvalue``.
        """
        check_is_fitted(self, "tau_")
        kind = check_option(kind, "kind", TestName)
        if self._draws is None:
            raise ValueError("No bootstrap draws: refit with n_bootstrap > 0 (or multipliers).")
        q = self.quantiles_
        if kind == "gini":
            if quantile_range is not None:
                raise ValueError(
                    "`quantile_range` does not apply to the Gini test, which compares the whole "
                    "boundary distributions."
                )
            if min(self.quantile_function_plus_.min(), self.quantile_function_minus_.min()) < 0:
                raise ValueError(
                    "The Gini test needs non-negative outcomes (incomes, wages): a boundary "
                    "quantile function takes negative values."
                )
        if quantile_range is None:
            rng_ = (float(q[0]), float(q[-1]))
        else:
            if len(quantile_range) != 2:
                raise ValueError("`quantile_range` must be a pair (low, high).")
            lo, hi = sorted(float(v) for v in quantile_range)
            inside = (q >= lo - 1e-12) & (q <= hi + 1e-12)
            if inside.sum() < (1 if kind == "nullity" else 2):
                raise ValueError(
                    f"`quantile_range` ({lo:g}, {hi:g}) holds {int(inside.sum())} grid point(s); "
                    "widen it or refine `quantiles`."
                )
            # the grid points actually tested (tolerant to rounding such as 0.1 * 3)
            rng_ = (float(q[inside][0]), float(q[inside][-1]))
        out = run_tests(
            self._core,
            self._draws,
            [kind],
            test_ranges=None if kind == "gini" else [list(rng_)],
            alpha=self.alpha_,
        )[0]
        return TestResult(
            name=kind,
            statistic=float(out.statistic),
            critical_value=float(out.crit),
            pvalue=float(out.p_value),
            alpha=self.alpha_,
            null=_NULLS[kind],
            quantile_range=tuple(out.q_range),
            method=f"multiplier bootstrap, B={self.n_bootstrap_}",
        )

    # ------------------------------------------------------------------ presentation
    @property
    def effect_(self) -> pd.DataFrame:
        """Effect curve with its band and boundary curves, indexed by quantile."""
        check_is_fitted(self, "tau_")
        df = pd.DataFrame(
            {
                "tau": self.tau_,
                "plus": self.quantile_function_plus_,
                "minus": self.quantile_function_minus_,
                "bandwidth": self.bandwidth_,
            },
            index=pd.Index(self.quantiles_, name="quantile"),
        )
        if self.band_ is not None:
            df = df.join(self.band_)
        return df

    def summary(self, quantiles: Sequence[float] = (0.1, 0.25, 0.5, 0.75, 0.9), digits: int = 4):
        """statsmodels-style summary: design, sample, bandwidths, effects, tests.

        Parameters
        ----------
        quantiles : sequence of float
            Quantile levels shown in the effect table (nearest grid points).
        digits : int
            Decimal places.
        """
        check_is_fitted(self, "tau_")
        q = self.quantiles_
        pick = sorted({int(np.argmin(np.abs(q - v))) for v in quantiles})
        eff = self.effect_.iloc[pick]
        cols = {"tau": eff["tau"].to_numpy(), "bandwidth": eff["bandwidth"].to_numpy()}
        if self.band_ is not None:
            cols["lower"] = eff["lower"].to_numpy()
            cols["upper"] = eff["upper"].to_numpy()
        table = pd.DataFrame(cols, index=[f"q={v:g}" for v in eff.index])
        avg = pd.DataFrame(
            {"mean of tau(q)": [float(np.mean(self.tau_))]}, index=[f"{q.size} grid points"]
        )
        band_txt = "no band: n_bootstrap=0"
        if self.band_ is not None:
            kind_txt = "studentised uniform band" if self.studentized_ else "uniform band"
            band_txt = f"{100 * (1 - self.alpha_):g}% {kind_txt}"
        tables: list[tuple[str | None, pd.DataFrame]] = [
            (f"Effect at selected quantiles ({band_txt})", table),
            ("Average effect over the grid points", avg),
        ]
        if self._draws is not None:
            rows = {}
            for kind in ("nullity", "homogeneity", "gini"):
                try:
                    t = self.test(kind)
                except ValueError:  # Gini of negative outcomes is not defined
                    continue
                rows[kind] = [t.statistic, t.critical_value, t.pvalue]
            tables.append(
                (
                    "Tests over the whole grid",
                    pd.DataFrame(rows, index=["statistic", "critical value", "p-value"]).T,
                )
            )
        h = self.bandwidth_
        header: list[tuple[str, Any]] = [
            ("Design", "fuzzy" if self.fuzzy_ else "sharp"),
            ("Method", self.method_),
            ("Kernel", self.kernel_),
            ("Order p", self.p_),
            ("Cutoff", self.cutoff_),
            ("Quantiles", f"{q.size} in [{q[0]:g}, {q[-1]:g}]"),
            ("Units", self.n_units_),
            ("Below / above", f"{self.n_below_} / {self.n_above_}"),
            ("Bandwidth", f"{h.min():.4g}" if np.ptp(h) == 0 else f"{h.min():.4g} - {h.max():.4g}"),
            ("Bootstrap B", self.n_bootstrap_),
            ("Mode", "R3D 0.1.0 (compat)" if self.compat_ == "R" else "paper"),
            (
                "Crit. value (sup-t)" if self.studentized_ else "Critical value",
                self.critical_value_,
            ),
        ]
        if self.fuzzy_:
            header += [
                ("First stage", self.first_stage_),
                ("Treatment bw", self.bandwidth_treatment_),
            ]
        if self.n_clusters_ is not None:
            header.append(("Clusters", self.n_clusters_))
        notes = []
        if self.n_dropped_:
            notes.append(
                f"{self.n_dropped_} unit(s) dropped for a missing running variable, treatment or "
                "cluster (missing='drop')."
            )
        notes.append(
            "tau(q) is the local average quantile treatment effect at the cutoff"
            + (" (divided by the first-stage jump)." if self.fuzzy_ else ".")
        )
        parts = SummaryParts(
            title="Distributional regression discontinuity (R3D)",
            header=header,
            tables=tables,
            notes=notes,
        )
        return make_summary(parts, digits=digits)

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Plot the effect curve with its uniform band; return the matplotlib Axes."""
        check_is_fitted(self, "tau_")
        lo = hi = None
        if self.band_ is not None:
            lo, hi = self.band_["lower"].to_numpy(), self.band_["upper"].to_numpy()
        kwargs.setdefault("xlabel", "quantile level q")
        kwargs.setdefault("ylabel", "treatment effect tau(q)")
        kwargs.setdefault("label", "tau(q)")
        kwargs.setdefault("band_label", f"{100 * (1 - self.alpha_):g}% uniform band")
        return plot_band(self.quantiles_, self.tau_, lo, hi, ax=ax, **kwargs)

    def plot_rd(
        self,
        quantiles: Sequence[float] = (0.1, 0.5, 0.9),
        n_bins: int = 20,
        ax: Any = None,
    ) -> Any:
        """Binned RD plot of unit quantiles against the running variable.

        For each selected quantile level, unit quantiles are averaged in ``n_bins``
        equal-width bins per side and shown as dots, with the global polynomial fit of
        order ``p`` on each side as lines and the boundary estimates as open circles.
        """
        check_is_fitted(self, "tau_")
        n_bins = check_int(n_bins, "n_bins", minimum=1)
        ax = get_axes(ax, figsize=(7.0, 4.5))
        x, Q, q, c = self._x, self._Q, self.quantiles_, self.cutoff_
        for k, level in enumerate(quantiles):
            j = int(np.argmin(np.abs(q - level)))
            col = f"C{k}"
            for side, mask in (("minus", x < c), ("plus", x >= c)):
                xs, ys = x[mask], Q[mask, j]
                edges = np.linspace(xs.min(), xs.max(), n_bins + 1)
                b = np.clip(np.searchsorted(edges, xs, side="right") - 1, 0, n_bins - 1)
                cnt = np.bincount(b, minlength=n_bins)
                ok = cnt > 0
                mx = np.bincount(b, xs, n_bins)[ok] / cnt[ok]
                my = np.bincount(b, ys, n_bins)[ok] / cnt[ok]
                ax.plot(mx, my, "o", ms=3.5, color=col, alpha=0.8)
                deg = min(self.p_, max(xs.size - 1, 0))
                coef = np.polynomial.polynomial.polyfit(xs - c, ys, deg)
                grid = np.linspace(xs.min(), xs.max(), 100)
                ax.plot(grid, np.polynomial.polynomial.polyval(grid - c, coef), color=col, lw=1.5)
                bnd = (
                    self.quantile_function_plus_
                    if side == "plus"
                    else self.quantile_function_minus_
                )
                ax.plot([c], [bnd[j]], "o", mfc="white", mec=col, ms=7)
            ax.plot([], [], "o-", color=col, label=f"q = {q[j]:g}")
        ax.axvline(c, color="0.3", lw=0.8, ls="--")
        ax.set_xlabel("running variable")
        ax.set_ylabel("unit quantile")
        ax.legend(frameon=False)
        return ax


def _as_float(value: Any, name: str) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be a number; got {value!r}.") from None
    if not np.isfinite(out):
        raise ValueError(f"`{name}` must be a finite number; got {value!r}.")
    return out


def _check_multipliers(multipliers: Any, n: int, n_dropped: int, alpha: float) -> np.ndarray:
    """Caller-supplied multipliers: a numeric (n_units, B) array, enough draws for alpha."""
    xi = np.asarray(multipliers)
    if xi.dtype == bool or xi.dtype.kind not in "iuf":
        raise TypeError(
            "`multipliers` must be a numeric (n_units, B) array of mean-zero, unit-variance "
            f"draws; got dtype {xi.dtype}."
        )
    if xi.ndim != 2 or xi.shape[0] != n:
        extra = f" ({n_dropped} unit(s) were dropped as missing)" if n_dropped else ""
        raise ValueError(
            f"`multipliers` must have shape (n_units, B) = ({n}, B) with one row per unit "
            f"used{extra}; got shape {xi.shape}."
        )
    if xi.shape[1] < 1.0 / alpha:
        raise ValueError(
            f"`multipliers` has {xi.shape[1]} draws; at least {int(np.ceil(1 / alpha))} are "
            f"needed for alpha = {alpha:g}."
        )
    xi = xi.astype(float)
    if not np.all(np.isfinite(xi)):
        raise ValueError("`multipliers` contains non-finite values.")
    return xi


def _per_unit(given: Any, carried: Any, name: str, n: int, *, numeric: bool) -> np.ndarray | None:
    if given is None:
        return carried
    if numeric:
        arr = np.asarray(given)
        if arr.dtype.kind not in "biuf":
            try:
                arr = arr.astype(float)
            except (TypeError, ValueError):
                raise TypeError(f"`{name}` must be numeric, one value per unit.") from None
        arr = arr.astype(float)
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        if arr.ndim != 1:
            raise ValueError(f"`{name}` must be one-dimensional; got shape {arr.shape}.")
    else:
        arr = np.asarray(given)
        if arr.ndim != 1:
            raise ValueError(f"`{name}` must be one-dimensional (one label per unit).")
    if arr.shape[0] != n:
        raise ValueError(
            f"`{name}` has {arr.shape[0]} values but `y` has {n} units; give one per unit, in "
            "the same order."
        )
    return arr
