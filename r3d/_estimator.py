"""The public R3D estimator (scikit-learn style) on top of the pure cores.

``r3d._estimate`` computes the point estimate and the per-unit pieces of its linear
representation; ``r3d._inference`` turns multiplier draws into bands and tests; this
module validates input, builds the quantile matrix, runs both and presents the results.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from estkit import (
    DegenerateDataWarning,
    EstkitWarning,
    MultiplierKind,
    SummaryParts,
    TestResult,
    align_by_label,
    check_alpha,
    check_bool,
    check_int,
    check_option,
    check_random_state,
    make_summary,
    negligible_variation,
)
from estkit import density_test as _density_test
from estkit._bandwidth import _select
from estkit._kernels import Kernel, get_kernel
from estkit._plotting import get_axes, plot_band
from estkit._validation import check_grid
from r3d._data import Distributions, QuantileFunctions
from r3d._estimate import _estimate
from r3d._inference import (
    BootstrapDraws,
    bootstrap_draws,
    pointwise_band,
    run_tests,
    uniform_band,
)
from r3d._prepared import R3DSample
from r3d._rdplot import rdplot
from r3d._rules import R3D_28744DB, R3DRules, resolve_rules

__all__ = ["R3D", "SingleDrawWarning"]

Method = Literal["simple", "frechet"]
Compat = Literal["R"]
TestName = Literal["nullity", "homogeneity", "gini"]
Missing = Literal["raise", "drop"]

DEFAULT_GRID = np.round(np.arange(1, 100) / 100.0, 2)


class SingleDrawWarning(EstkitWarning):
    """Warned by :meth:`R3D.fit` when every unit of ``y`` has a single outcome draw.

    Such data are probably individuals passed as units: group them with
    :meth:`r3d.Distributions.from_long`.

    Parameters
    ----------
    message : str
        The warning text (set by :meth:`R3D.fit`).

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from r3d import R3D, SingleDrawWarning
    >>> rng = np.random.default_rng(0)
    >>> x = rng.uniform(-1, 1, 200)
    >>> y = (x + rng.normal(size=200))[:, None]  # one draw per "unit"
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     est = R3D(quantiles=[0.5], n_bootstrap=0).fit(x, y)
    >>> [w.category.__name__ for w in caught]
    ['SingleDrawWarning']
    """


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
    kernel : {"triangular", "epanechnikov", "uniform"}, optional
        Kernel. ``None`` (default) is the rules' default: triangular (the paper's choice),
        or Epanechnikov (the R package's default) under ``compat="R"``; an explicit kernel
        is always kept. ``kernel_`` holds the kernel used.
    quantiles : array-like, optional
        Quantile levels in (0, 1); ``None`` is 0.01, 0.02, ..., 0.99. Ignored for a
        :class:`~r3d.QuantileFunctions` input, which carries its own grid.
    cutoff : float, default 0.0
        Units with ``x >= cutoff`` are above the cutoff (treated in sharp designs).
        pandas inputs of ``fit`` are paired by index label, numpy inputs by position.
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
    compat : {None, "R"} or r3d.R3DRules, default None
        ``"R"`` reproduces the R package R3D 0.1.0 exactly, departures from the paper
        included (see Notes; the rules :data:`r3d.R3D_28744DB`). ``None`` follows the paper
        (:data:`r3d.PAPER`). A :class:`r3d.R3DRules` (e.g.
        ``dataclasses.replace(r3d.PAPER, hc2=False)``) runs that variant, for studies.
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
    degenerate_ : ndarray of bool, shape (m,)
        Quantile levels at which every unit has the same quantile (constant or top-coded
        outcomes): ``tau`` is exactly 0 there with a zero-width band, the points are left out
        of the sup statistics of the band and the tests, and a
        :class:`estkit.DegenerateDataWarning` names them.
    unit_ids_ : pandas.Index
        Labels of the units used (the container's ``unit_ids``, the index of pandas inputs,
        or positions), after dropping missing ones.
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
    test range                  q in [lo, hi] up to 1e-12      exact ``q >= lo & q <= hi``
    Gini test draws             centred, ``|D_b - D|``         ``|D_b|``; critical value
                                                               the type-7 quantile of
                                                               ``|D_b|`` (R3D 28744db)
    outcome scale               each column centred and        centred (R's absolute
                                scaled inside the shared       thresholds stay in the
                                local polynomial engine        outcome's own units)
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
        *,
        method: Method = "frechet",
        p: int = 2,
        kernel: str | None = None,
        quantiles: Any = None,
        cutoff: float = 0.0,
        bandwidth: Any = None,
        bandwidth_treatment: float | None = None,
        pilot_order: int = 1,
        coverage_correction: bool = False,
        n_bootstrap: int = 2000,
        alpha: float = 0.05,
        compat: Compat | R3DRules | None = None,
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
            tests); rows follow the units kept for estimation (a DataFrame is matched by
            unit label). Not together with ``cluster``: pass cluster-level multipliers.

        Pandas inputs are paired by index label (``estkit.align_by_label``); with a
        ``Distributions`` or ``QuantileFunctions`` ``y`` they are aligned to its
        ``unit_ids``, and an ``x``, ``treatment`` or ``cluster`` that contradicts the one the
        container carries is a ``ValueError``. numpy inputs are paired by position.

        Returns
        -------
        self : R3D
        """
        method = check_option(self.method, "method", Method)
        rules = resolve_rules(self.compat)
        compat = "R" if rules is R3D_28744DB and self.compat is not None else self.compat
        kernel = rules.kernel if self.kernel is None else self.kernel
        kernel = check_option(kernel, "kernel", Literal["triangular", "epanechnikov", "uniform"])
        p = check_int(self.p, "p", minimum=0)
        s = check_int(self.pilot_order, "pilot_order", minimum=0)
        n_boot = check_int(self.n_bootstrap, "n_bootstrap", minimum=0)
        alpha = check_alpha(self.alpha)
        missing = check_option(self.missing, "missing", Missing)
        mult_kind = check_option(self.multiplier, "multiplier", MultiplierKind)
        studentize = check_bool(self.studentize, "studentize")
        coverage_correction = check_bool(self.coverage_correction, "coverage_correction")
        progress = None if self.progress is None else check_bool(self.progress, "progress")
        cutoff = _as_float(self.cutoff, "cutoff")
        if self.n_jobs is not None and check_int(self.n_jobs, "n_jobs") == 0:
            raise ValueError("`n_jobs` must be a positive number of workers, -1 (all) or None.")
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
        if multipliers is not None and cluster is not None:
            raise ValueError(
                "`cluster` and `multipliers` were both given, but given multipliers are used as "
                "they are (clusters would be ignored): pass cluster-level multipliers (one "
                "shared draw for the units of a cluster) without `cluster`, or `cluster` "
                "without `multipliers`."
            )

        self._single_draw_message: str | None = None
        sample = self._prepare(x, y, treatment, weights, cluster, missing, rules, cutoff)
        # the names the rest of fit reads
        xv, Q, grid, tv, cl = sample.x, sample.Q, sample.q, sample.T, sample.cluster
        ids, n_dropped, degenerate = sample.unit_ids, sample.n_dropped, sample.degenerate
        below, above = sample.n_below, sample.n_above
        xi = None
        if multipliers is not None:
            xi = _check_multipliers(multipliers, ids, n_dropped, alpha)
        for side, mask in (("below", xv < cutoff), ("at or above", xv >= cutoff)):
            n_distinct = int(np.unique(xv[mask]).size)
            # fewer units than p + 2 are explained by the selector / the local fit
            if n_distinct < p + 1 and (n_distinct <= 1 or mask.sum() >= p + 2):
                raise ValueError(
                    f"`x`: the {int(mask.sum())} unit(s) {side} the cutoff {cutoff:g} take "
                    f"{n_distinct} distinct value(s); a local polynomial of order p = {p} needs "
                    f"at least p + 1 = {p + 1} distinct values of the running variable on each "
                    "side (lower `p`, check `cutoff`, or add units)."
                )
        first_stage_tol = 1e-8
        if tv is not None:
            if bool(negligible_variation(tv, axis=None)):
                raise ValueError(
                    "`treatment` is constant; a fuzzy design needs treatment variation (for a "
                    "sharp design, leave `treatment=None`)."
                )
            first_stage_tol = 1e-8 * float(np.ptp(tv))

        h_den = self.bandwidth_treatment
        if h_den is not None:
            h_den = _as_float(h_den, "bandwidth_treatment")
            if h_den <= 0:
                raise ValueError(f"`bandwidth_treatment` must be positive; got {h_den!r}.")
        h_num = self._bandwidth_arg(grid.size)
        kern = get_kernel(kernel)
        if degenerate.any() and (h_num is None or (tv is not None and h_den is None)):
            # select on the grid points with real variation only (a constant column has no
            # bias or variance to trade off)
            h_sel, h_den_sel = _select_on_live(
                sample,
                method=method,
                s=s,
                p=p,
                kern=kern,
                fuzzy=tv is not None and h_den is None,
                coverage_correction=coverage_correction,
                rules=rules,
            )
            h_num = h_sel if h_num is None else h_num
            h_den = h_den_sel if h_den is None else h_den
        core = _estimate(
            sample,
            method=method,
            p=p,
            kern=kern,
            h=None if h_num is None else np.broadcast_to(h_num, grid.shape).astype(float),
            h_den=h_den if tv is not None else None,
            coverage_correction=coverage_correction,
            s=s,
            rules=rules,
            first_stage_tol=first_stage_tol,
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
                    progress=progress,
                    n_jobs=self.n_jobs,
                    memory_budget=budget,
                )
            ub = uniform_band(core, draws, alpha, studentize=studentize)
            band = (ub.lower, ub.upper, ub.crit)
            pw_lo, pw_hi, _ = pointwise_band(core, draws, alpha)
            pointwise = pd.DataFrame(
                {"lower": pw_lo, "upper": pw_hi}, index=pd.Index(grid, name="quantile")
            )
        if self._single_draw_message:
            warnings.warn(self._single_draw_message, SingleDrawWarning, stacklevel=2)
        if degenerate.any():
            where = _list_levels(grid[degenerate])
            warnings.warn(
                f"R3D: at {int(degenerate.sum())} of {grid.size} quantile level(s) ({where}) "
                "every unit has the same quantile (constant or top-coded outcomes). No effect "
                "can be measured there: tau is exactly 0 with a zero-width band, and these "
                "points are left out of the band's and the tests' sup statistics.",
                DegenerateDataWarning,
                stacklevel=2,
            )

        self._core = core
        self._draws = draws
        self.method_ = method
        self.kernel_ = kernel
        self.alpha_ = alpha
        self.p_ = p
        self.cutoff_ = cutoff
        self.studentized_ = studentize and draws is not None
        self.compat_ = compat
        self.rules_ = rules
        self.fuzzy_ = tv is not None
        self.quantiles_ = grid
        self.tau_ = core.tau.copy()
        self.bandwidth_ = np.asarray(core.bandwidth, dtype=float).copy()
        self.bandwidth_treatment_ = core.bandwidth_treatment if self.fuzzy_ else None
        self.first_stage_ = core.first_stage if self.fuzzy_ else None
        self.quantile_function_plus_ = core.plus.copy()
        self.quantile_function_minus_ = core.minus.copy()
        self.degenerate_ = degenerate
        self.n_units_ = int(xv.size)
        self.unit_ids_ = pd.Index(ids, name="unit")
        self.n_below_, self.n_above_ = below, above
        self.n_dropped_ = n_dropped
        self.n_clusters_ = None if cl is None else int(pd.factorize(cl)[1].size)
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
        return check_grid(self.quantiles, "quantiles")

    def _prepare(
        self,
        x: Any,
        y: Any,
        treatment: Any,
        weights: Any,
        cluster: Any,
        missing: str,
        rules: R3DRules,
        cutoff: float,
    ) -> R3DSample:
        """The door: every input of ``fit`` checked once, the unit quantiles computed once,
        returned as the prepared sample the cores trust."""
        if y is None:
            raise ValueError(
                "`y` is required: pass one outcome sample per unit (sequence of 1-D arrays), a "
                "Distributions or a QuantileFunctions object."
            )
        if isinstance(y, Mapping):
            raise TypeError(
                "`y` is a mapping: pass the unit samples as a sequence in the order of `x` "
                "(e.g. list(d.values())) or build r3d.Distributions.from_long(...)."
            )
        if isinstance(y, pd.DataFrame):
            raise TypeError(
                "`y` is a DataFrame: build the outcome container with "
                "r3d.Distributions.from_long(df, unit=..., outcome=..., running=...)."
            )
        Q = None
        if isinstance(y, QuantileFunctions | Distributions):
            if weights is not None:
                raise ValueError(
                    "`weights` cannot be passed with a Distributions or QuantileFunctions `y`: "
                    "put the weights inside the Distributions object (weights are not defined "
                    "for precomputed quantiles)."
                )
            carried: Any = y
            x, treatment, cluster = _align_to_units(
                y.unit_ids, {"x": x, "treatment": treatment, "cluster": cluster}
            )
            if isinstance(y, QuantileFunctions):
                grid = y.grid
                if self.quantiles is not None:
                    asked = self._grid()
                    same = asked.shape == grid.shape
                    same = same and np.allclose(asked, grid, rtol=0, atol=1e-12)
                    if not same:
                        raise ValueError(
                            "`quantiles` conflicts with the grid of the QuantileFunctions `y` "
                            f"({grid.size} levels in [{grid[0]:g}, {grid[-1]:g}]): precomputed "
                            "quantiles fix the grid; leave quantiles=None or rebuild `y` on "
                            "the grid you want."
                        )
                Q = y.matrix
            else:
                grid = self._grid()
            ids = np.asarray(y.unit_ids)
        else:
            aligned, index = align_by_label(
                {"x": x, "y": y, "treatment": treatment, "weights": weights, "cluster": cluster}
            )
            x, y, treatment = aligned["x"], aligned["y"], aligned["treatment"]
            weights, cluster = aligned["weights"], aligned["cluster"]
            if isinstance(y, pd.Series):
                y = list(y.to_numpy()) if y.dtype == object else y.to_numpy(dtype=float)
            if isinstance(weights, pd.Series):
                weights = list(weights.to_numpy())
            carried = Distributions.from_arrays(y, weights)
            if index is not None:
                carried = dataclasses.replace(carried, unit_ids=np.asarray(index))
            if carried.n_units > 1 and np.all(carried.sizes == 1):
                self._single_draw_message = (
                    f"`y` has a single outcome draw for each of its {carried.n_units} units, "
                    "so every row is treated as its own distribution. If the rows are "
                    "individuals grouped in units (states, schools, ...), build "
                    "r3d.Distributions.from_long(df, unit=..., outcome=..., running=...) "
                    "and fit on it."
                )
            grid = self._grid()
            ids = np.asarray(carried.unit_ids)
        n = carried.n_units
        self._weighted = getattr(carried, "weights", None) is not None
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
            if not keep.any():
                raise ValueError(f"{what} is missing for every unit: nothing left to fit.")
            xv = xv[keep]
            tv = None if tv is None else tv[keep]
            cl = None if cl is None else cl[keep]
            ids = ids[keep]
            if Q is not None:
                Q = Q[keep]
            else:
                carried = carried.subset(keep)
        Q_bw = None
        if Q is None:
            carried = _normalise_weights(carried)
            hmisc = rules.weighted_quantiles == "hmisc"
            qmethod = "hmisc" if (hmisc and carried.weights is not None) else "linear"
            with np.errstate(all="ignore"):
                Q = carried.quantiles(grid, method=qmethod)
            if not np.all(np.isfinite(Q)):
                raise ValueError(
                    "`y`: the unit quantiles are not finite (outcomes too large to interpolate "
                    "between, e.g. beyond 1e307); rescale the outcomes."
                )
            if rules.select_on_unweighted and carried.weights is not None:
                # R3D selects bandwidths on the unweighted quantiles (weights reach its
                # selector only through `...`, where they are ignored)
                Q_bw = Distributions(carried.values, carried.offsets).quantiles(grid)
        return R3DSample.from_checked(
            xv,
            Q,
            grid,
            cutoff,
            T=tv,
            Q_bandwidth=Q_bw,
            cluster=cl,
            unit_ids=ids,
            n_dropped=n_dropped,
            # grid points where every unit carries the same quantile (constant or top-coded
            # outcomes) cannot show an effect: exactly zero, zero width, out of the sup
            # statistics
            degenerate=np.asarray(negligible_variation(Q, axis=0), dtype=bool),
        )

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
            if max(self.quantile_function_plus_.max(), self.quantile_function_minus_.max()) <= 0:
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
            tol = 0.0 if self.compat_ == "R" else 1e-12
            inside = (q >= lo - tol) & (q <= hi + tol)
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
        check_is_fitted(self, "tau_")
        allowed = {"p", "kernel", "bandwidth", "alpha"}
        unknown = sorted(set(kwargs) - allowed)
        if unknown:
            raise TypeError(
                f"R3D.density_test() got unexpected argument(s) {unknown}; it accepts "
                f"{sorted(allowed)} (passed to estkit.density_test)."
            )
        return _density_test(self._x, self.cutoff_, **kwargs)

    def _units_in_window(self) -> tuple[np.ndarray, np.ndarray]:
        """Units with positive kernel weight below / above the cutoff, per quantile."""
        kern = get_kernel(self.kernel_)
        u = (self._x[:, None] - self.cutoff_) / self.bandwidth_[None, :]
        inside = kern(u) > 0
        below = self._x < self.cutoff_
        return inside[below].sum(axis=0), inside[~below].sum(axis=0)

    def _standard_errors(self) -> np.ndarray | None:
        """Bootstrap standard deviation of tau at each quantile (None without draws)."""
        if self._draws is None:
            return None
        return np.std(self._draws.tau, axis=0, ddof=1)

    def _band_name(self) -> str:
        """E.g. '95% uniform band (constant width)'; '' without a band."""
        if self.band_ is None:
            return ""
        kind = "studentised" if self.studentized_ else "constant width"
        return f"{100 * (1 - self.alpha_):g}% uniform band ({kind})"

    def _outcome_digits(self) -> int:
        """Decimals that match the outcome's magnitude (3 significant digits of the SEs)."""
        se = self._standard_errors()
        ref = np.abs(se) if se is not None else np.array([])
        ref = ref[np.isfinite(ref) & (ref > 0)]
        if ref.size == 0:
            curves = np.abs(np.r_[self.quantile_function_plus_, self.quantile_function_minus_])
            ref = curves[np.isfinite(curves) & (curves > 0)]
        if ref.size == 0:
            return 4
        mag = int(np.floor(np.log10(float(np.median(ref)))))
        return int(np.clip(2 - mag, 0, 8))

    def summary(
        self, quantiles: Sequence[float] = (0.1, 0.25, 0.5, 0.75, 0.9), digits: int | None = None
    ):
        """statsmodels-style summary: design, sample, bandwidths, effects, tests.

        Parameters
        ----------
        quantiles : sequence of float
            Quantile levels shown in the effect table (nearest grid points).
        digits : int, optional
            Decimal places of numbers in outcome units (effects, standard errors, bands);
            ``None`` rounds them to the outcome's magnitude (three significant digits of
            the typical standard error). Bandwidths show four significant digits and
            p-values three decimals.

        Notes
        -----
        The effect table has, per selected quantile: ``tau``, its bootstrap standard error
        (the standard deviation of the multiplier-bootstrap draws of tau at that q), the
        pointwise ``1 - alpha`` interval, the uniform band, the bandwidth and the units
        inside it below and above the cutoff (positive kernel weight).
        """
        check_is_fitted(self, "tau_")
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

        q = self.quantiles_
        pick = sorted({int(np.argmin(np.abs(q - v))) for v in _levels(quantiles, "quantiles")})
        se = self._standard_errors()
        n_lo, n_hi = self._units_in_window()
        cols: dict[str, list[str]] = {"tau": [num(self.tau_[j]) for j in pick]}
        if se is not None:
            cols["std err"] = [num(se[j]) for j in pick]
        if self.pointwise_band_ is not None:
            cols["pw lower"] = [num(self.pointwise_band_["lower"].iloc[j]) for j in pick]
            cols["pw upper"] = [num(self.pointwise_band_["upper"].iloc[j]) for j in pick]
        if self.band_ is not None:
            cols["band lower"] = [num(self.band_["lower"].iloc[j]) for j in pick]
            cols["band upper"] = [num(self.band_["upper"].iloc[j]) for j in pick]
        cols["bandwidth"] = [bw(self.bandwidth_[j]) for j in pick]
        cols["n in h below"] = [f"{int(n_lo[j]):,}" for j in pick]
        cols["n in h above"] = [f"{int(n_hi[j]):,}" for j in pick]
        table = pd.DataFrame(cols, index=[f"q={q[j]:g}" for j in pick])
        avg = pd.DataFrame(
            {"mean of tau(q)": [num(float(np.mean(self.tau_)))]}, index=[f"{q.size} grid points"]
        )
        level = f"{100 * (1 - self.alpha_):g}%"
        band_txt = "no band: n_bootstrap=0"
        if self.band_ is not None:
            kind_txt = "studentised uniform band" if self.studentized_ else "uniform band"
            band_txt = f"{level} {kind_txt}; pointwise {level} intervals"
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

        h = self.bandwidth_
        header: list[tuple[str, Any]] = [
            ("Design", "fuzzy" if self.fuzzy_ else "sharp"),
            ("Method", self.method_),
            ("Kernel", self.kernel_),
            ("Order p", self.p_),
            ("Cutoff", f"{self.cutoff_:g}"),
            ("Quantiles", f"{q.size} in [{q[0]:g}, {q[-1]:g}]"),
            ("Units", self.n_units_),
            ("Below / above", f"{self.n_below_} / {self.n_above_}"),
            ("Bandwidth", span(h, bw)),
            (
                "In bandwidth b/a",
                f"{span(n_lo, lambda v: f'{int(v):,}')} / {span(n_hi, lambda v: f'{int(v):,}')}",
            ),
            ("Bootstrap B", self.n_bootstrap_),
            ("Mode", "R3D 0.1.0 (compat)" if self.compat_ == "R" else "paper"),
            ("Weights", "yes (within units)" if getattr(self, "_weighted", False) else "no"),
            ("Clusters", "none" if self.n_clusters_ is None else f"{self.n_clusters_:,}"),
        ]
        if self.band_ is not None:
            half = 0.5 * (self.band_["upper"] - self.band_["lower"]).to_numpy()
            live = ~self.degenerate_
            header.append(("Band", f"{level} uniform, " + self._band_name().split("(")[1][:-1]))
            if self.studentized_:
                header.append(("Crit. value (sup-t)", f"{self.critical_value_:.4g}"))
            header.append(
                ("Band half-width", span(half[live] if live.any() else half, num) + " (y units)")
            )
        if self.fuzzy_:
            header += [
                ("First stage", self.first_stage_),
                ("Treatment bw", self.bandwidth_treatment_),
            ]
        notes = []
        if self.n_dropped_:
            notes.append(
                f"{self.n_dropped_} unit(s) dropped for a missing running variable, treatment or "
                "cluster (missing='drop')."
            )
        if self.degenerate_.any():
            notes.append(
                f"No variation across units at {_list_levels(q[self.degenerate_])} (constant "
                "or top-coded outcomes): tau is exactly 0 with a zero-width band there, and "
                "these points are left out of the band's and the tests' sup statistics."
            )
        notes.append(
            "tau(q) is the local average quantile treatment effect at the cutoff"
            + (" (divided by the first-stage jump)." if self.fuzzy_ else ".")
        )
        if self._draws is not None:
            notes.append(
                "std err: bootstrap standard deviation of tau(q); pw lower/upper: pointwise "
                "intervals (each q alone); band lower/upper: the uniform band (all q at once)"
                + (
                    ", whose half-width is the critical value times each q's std err."
                    if self.studentized_
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
        """
        check_is_fitted(self, "tau_")
        relative = check_bool(relative, "relative")
        caption = check_bool(caption, "caption")
        if not isinstance(legend_loc, str):
            raise TypeError(f"`legend_loc` must be a string such as 'best'; got {legend_loc!r}.")
        tau = self.tau_
        lo = hi = None
        if self.band_ is not None:
            lo, hi = self.band_["lower"].to_numpy(), self.band_["upper"].to_numpy()
        if relative:
            tau, lo, hi = (None if v is None else self._relative(v) for v in (tau, lo, hi))
        kwargs.setdefault("xlabel", "quantile level q")
        kwargs.setdefault(
            "ylabel",
            "effect, % of the below-cutoff quantile" if relative else "treatment effect tau(q)",
        )
        kwargs.setdefault("label", "tau(q)")
        kwargs.setdefault("band_label", self._band_name() or "uniform band")
        ax = plot_band(self.quantiles_, tau, lo, hi, ax=ax, **kwargs)
        ax.yaxis.set_major_formatter(_thousands("{:,.0f}%" if relative else "{:,.6g}"))
        if legend_loc == "outside":
            ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        else:
            ax.legend(frameon=False, loc=legend_loc, fontsize="small")
        if caption:
            h = self.bandwidth_
            htxt = f"{h[0]:.3g}" if np.ptp(h) == 0 else f"{h.min():.3g}-{h.max():.3g}"
            cl = "" if self.n_clusters_ is None else f", {self.n_clusters_:,} clusters"
            ax.annotate(
                f"n = {self.n_units_:,} ({self.n_below_:,} below, {self.n_above_:,} above), "
                f"h = {htxt}, p = {self.p_}, {self.kernel_} kernel, {self.method_}{cl}, "
                f"B = {self.n_bootstrap_:,}",
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
        base = self.quantile_function_minus_
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
        check_is_fitted(self, "tau_")
        levels = _levels(quantiles, "quantiles")
        global_fit = check_bool(global_fit, "global_fit")
        alpha = self.alpha_ if alpha is None else check_alpha(alpha)
        ax = get_axes(ax, figsize=(7.0, 4.5))
        x, Q, q, c = self._x, self._Q, self.quantiles_, self.cutoff_
        several = len(levels) > 1
        for k, level in enumerate(levels):
            j = int(np.argmin(np.abs(q - level)))
            n_lines, n_patches = len(ax.lines), len(ax.patches)
            with warnings.catch_warnings():
                if self.degenerate_[j]:  # said at fit time; the flat fits show it
                    warnings.simplefilter("ignore", DegenerateDataWarning)
                rdplot(
                    x,
                    Q[:, j],
                    c,
                    p=self.p_,
                    kernel=self.kernel_,
                    bandwidth=float(self.bandwidth_[j]),
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


def _as_float(value: Any, name: str) -> float:
    if isinstance(value, str | bytes | bool | np.bool_):
        raise TypeError(f"`{name}` must be a number; got {value!r}.")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be a number; got {value!r}.") from None
    if not np.isfinite(out):
        raise ValueError(f"`{name}` must be a finite number; got {value!r}.")
    return out


def _check_multipliers(
    multipliers: Any, ids: np.ndarray, n_dropped: int, alpha: float
) -> np.ndarray:
    """Caller-supplied multipliers: a numeric (n_units, B) array, enough draws for alpha.

    A pandas DataFrame is matched to the units by its index labels (all units, or the units
    kept after dropping missing ones); an array is positional (rows = units kept).
    """
    n = ids.size
    if isinstance(multipliers, pd.Series | pd.DataFrame):
        lab = multipliers.index
        keep = pd.Index(ids)
        if not lab.is_unique or not keep.isin(lab).all():
            raise ValueError(
                "`multipliers` is a pandas object whose index labels do not cover the unit ids "
                f"of the fit ({int((~keep.isin(lab)).sum())} unit(s) missing): index its rows by "
                "unit id, or pass a numpy array with one row per unit in the order of `y`."
            )
        if lab.size not in (n, n + n_dropped):
            raise ValueError(
                f"`multipliers` has {lab.size} labelled rows for {n} units: give one row per unit."
            )
        multipliers = multipliers.loc[keep]
        if isinstance(multipliers, pd.Series):
            multipliers = multipliers.to_frame()
        multipliers = multipliers.to_numpy()
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


def _align_to_units(unit_ids: Any, inputs: dict[str, Any]) -> list[Any]:
    """Reorder pandas inputs to a container's unit ids (numpy inputs stay positional)."""
    ref = pd.Series(np.zeros(len(unit_ids)), index=pd.Index(unit_ids))
    out = []
    for name, value in inputs.items():
        if isinstance(value, pd.Series | pd.DataFrame):
            try:
                aligned, _ = align_by_label({"y": ref, name: value})
            except ValueError:
                raise ValueError(
                    f"`{name}` is a pandas object whose index labels are not the unit ids of "
                    f"`y` ({len(value)} labels against {len(unit_ids)} units, "
                    f"{int((~value.index.isin(ref.index)).sum())} not among them): index "
                    f"`{name}` by unit id, or pass a numpy array in the order of `y`."
                ) from None
            value = aligned[name]
        out.append(value)
    return out


def _as_array(given: Any, name: str, *, numeric: bool) -> np.ndarray:
    """One value per unit as a numpy array (numeric: float, NaN for missing)."""
    if isinstance(given, pd.DataFrame):
        if given.shape[1] != 1:
            raise ValueError(f"`{name}` must be one-dimensional; got a DataFrame {given.shape}.")
        given = given.iloc[:, 0]
    if isinstance(given, str | bytes):
        raise TypeError(f"`{name}` must be an array with one value per unit; got {given!r}.")
    if not numeric:
        arr = given.to_numpy() if isinstance(given, pd.Series) else np.asarray(given)
        if arr.ndim != 1:
            raise ValueError(f"`{name}` must be one-dimensional (one label per unit).")
        return arr
    if isinstance(given, pd.Series | pd.Index):
        ser = pd.Series(given)
        if ser.dtype == object or pd.api.types.is_string_dtype(ser.dtype):
            arr = ser.to_numpy(dtype=object)
        else:
            try:
                return _numeric_1d(ser.to_numpy(dtype=float, na_value=np.nan), name)
            except (TypeError, ValueError):
                raise TypeError(f"`{name}` must be numeric, one value per unit.") from None
    else:
        arr = np.asarray(given)
    if arr.dtype.kind in "USa" or (
        arr.dtype == object and any(isinstance(v, str | bytes) for v in arr.ravel())
    ):
        raise TypeError(
            f"`{name}` must be numeric, one value per unit; got text values (convert them "
            "with pd.to_numeric or float first)."
        )
    if arr.dtype == object:
        miss = pd.isna(arr)
        arr = np.where(miss, np.nan, arr)
    try:
        arr = arr.astype(float)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be numeric, one value per unit.") from None
    return _numeric_1d(arr, name)


def _numeric_1d(arr: np.ndarray, name: str) -> np.ndarray:
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"`{name}` must be one-dimensional; got shape {arr.shape}.")
    return arr


def _per_unit(given: Any, carried: Any, name: str, n: int, *, numeric: bool) -> np.ndarray | None:
    if given is None:
        return carried
    arr = _as_array(given, name, numeric=numeric)
    if arr.shape[0] != n:
        raise ValueError(
            f"`{name}` has {arr.shape[0]} values but `y` has {n} units; give one per unit, in "
            "the same order."
        )
    if carried is not None:
        a = pd.Series(arr, dtype=float if numeric else object)
        b = pd.Series(np.asarray(carried), dtype=float if numeric else object)
        differ = ~((a == b) | (a.isna() & b.isna()))
        if differ.any():
            label = {"x": "running variable", "treatment": "treatment", "cluster": "cluster"}
            attr = {"x": "running", "treatment": "treatment", "cluster": "cluster"}[name]
            raise ValueError(
                f"`{name}` conflicts with the {label[name]} stored in `y` (`y.{attr}`): they "
                f"differ for {int(differ.sum())} of {n} unit(s). Pass {name}=None to use the "
                f"stored one, or rebuild `y` without `{attr}`."
            )
    return arr


def _normalise_weights(d: Distributions) -> Distributions:
    """Divide each unit's weights by their maximum (weighted quantiles do not change, and
    weights near the overflow threshold no longer overflow in cumulative sums)."""
    if d.weights is None:
        return d
    top = np.maximum.reduceat(d.weights, d.offsets[:-1])
    w = d.weights / np.repeat(top, d.sizes)
    return dataclasses.replace(d, weights=w)


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


def _select_on_live(
    sample: R3DSample,
    *,
    method: str,
    s: int,
    p: int,
    kern: Kernel,
    fuzzy: bool,
    coverage_correction: bool,
    rules: R3DRules,
) -> tuple[np.ndarray, float | None]:
    """Bandwidths selected on the non-degenerate grid points (degenerate points, where the
    effect is exactly zero whatever the bandwidth, reuse the median selected one; with no
    such point, the whole support)."""
    x, c, grid, live = sample.x, sample.cutoff, sample.q, ~sample.degenerate
    Q = sample.Q if sample.Q_bandwidth is None else sample.Q_bandwidth
    T = sample.T if fuzzy else None
    xc = x - c
    kw: dict[str, Any] = dict(
        s=s, p=p, kern=kern, coverage_correction=coverage_correction, rules=rules.selector
    )
    if live.any():
        crit = "mse" if method == "simple" else "imse"
        sel = _select(
            x, xc, Q[:, live], c, criterion=crit, T=T, q=grid[live], **kw, memory_budget=None
        )
        h = np.full(grid.size, float(np.median(sel.h)))
        h[live] = sel.h
        return h, None if T is None else float(sel.h_treatment)  # type: ignore[arg-type]
    h = np.full(grid.size, 1.01 * float(np.max(np.abs(xc))))
    if T is None:
        return h, None
    sel = _select(x, xc, T[:, None], c, criterion="mse", T=None, q=None, **kw, memory_budget=None)
    return h, float(sel.h[0])


def _list_levels(levels: np.ndarray, limit: int = 8) -> str:
    shown = ", ".join(f"{v:g}" for v in levels[:limit])
    return "q = " + shown + (f", ... ({levels.size} in all)" if levels.size > limit else "")
