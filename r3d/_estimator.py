"""The public R3D estimator (scikit-learn style) on top of the pure cores.

``r3d._estimate`` computes the point estimate and the per-unit pieces of its linear
representation; ``r3d._inference`` turns multiplier draws into bands and tests; this
module validates input, builds the quantile matrix, runs both and presents the results.
"""

from __future__ import annotations

import dataclasses
import functools
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Concatenate, Literal, ParamSpec, TypeVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from estkit import (
    DegenerateDataWarning,
    EstkitWarning,
    MultiplierKind,
    align_by_label,
    check_alpha,
    check_bool,
    check_int,
    check_option,
    check_random_state,
    negligible_variation,
)
from estkit._bandwidth import _select
from estkit._kernels import Kernel, get_kernel
from estkit._validation import check_bandwidth, check_grid, check_scalar, holds_bool
from r3d._data import Distributions, QuantileFunctions, _unit_labels
from r3d._debias import DebiasedCore, debiased_inference, estimate_r3d_robust, select_bias_bandwidth
from r3d._estimate import _estimate
from r3d._inference import Multipliers, bootstrap_inference, r3d_rules
from r3d._prepared import R3DSample
from r3d._results import R3DResults, _list_levels
from r3d._rules import R3D_28744DB, R3DRules, resolve_rules

__all__ = ["R3D", "SingleDrawWarning"]

Method = Literal["simple", "frechet"]
Compat = Literal["R"]
Missing = Literal["raise", "drop"]
BiasCorrection = Literal["robust"]

DEFAULT_GRID = np.round(np.arange(1, 100) / 100.0, 2)

_P = ParamSpec("_P")
_T = TypeVar("_T")


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


def _delegate(
    method: Callable[Concatenate[R3DResults, _P], _T],
) -> Callable[Concatenate[R3D, _P], _T]:
    """The estimator's method that calls ``method`` on the fitted ``results_``: the same
    name, signature and docstring (written once, in :class:`R3DResults`);
    ``NotFittedError`` before ``fit``."""

    @functools.wraps(method)
    def delegated(self: R3D, /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        return method(self._results(), *args, **kwargs)

    delegated.__module__ = __name__
    delegated.__qualname__ = f"R3D.{method.__name__}"
    return delegated


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
        First-stage bandwidth for fuzzy designs; ``None`` selects it. A one-element
        sequence is read as its value, as for ``bandwidth``.
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
        deviation) instead of a constant-width band. The default stays the paper's
        constant-width band on the Monte Carlo evidence (``docs/validity.md``, "Robust
        bias-corrected and studentised bands"), no band reaches 0.95 +- 0.01 uniform coverage
        in every cell (n = 200, 500, 1000; sharp and fuzzy; with and without clusters). The
        constant-width and studentised bands are inside that window in 16 and 17 of 24
        cells; the studentised band is 5-13% narrower and fixes the constant band's
        over-coverage in small fuzzy samples, but all its misses are under-coverage, larger
        in small sharp samples (down to 0.90 against 0.93). The robust bias-corrected bands
        (``bias_correction="robust"``) are 35-52% wider and cover less (0.89-0.95).
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
    bias_correction : {None, "robust"}, default None
        ``"robust"``: robust bias-corrected inference, the distributional analogue of
        Calonico, Cattaneo and Titiunik (2014): the effect is estimated at order ``p`` with
        the bandwidth ``h`` (as without bias correction), its leading bias is estimated
        from a local polynomial of order ``p + 1`` with the bias bandwidth ``b`` and
        subtracted, and the band, pointwise intervals and tests come from the multiplier
        bootstrap of the bias-corrected estimator's influence scores (so their variance
        includes that of the bias estimate). ``tau_`` stays the conventional estimate (as
        rdrobust reports the conventional point estimate beside the robust interval);
        ``tau_bias_corrected_`` is the centre of the band. ``R3D(p=1,
        bias_correction="robust")`` is CCT's local linear procedure quantile by quantile.
        Not with ``compat="R"`` (R3D 0.1.0 has no bias correction). The Gini test is not
        available with it (its draws are those of the conventional boundary curves).
    bias_bandwidth : float or array-like of shape (m,), optional
        Bias bandwidth ``b`` (``bias_correction="robust"`` only); ``None`` selects it with
        rdrobust's "mserd" rule (MSE-optimal for the ``(p+1)``-th derivative jump, with its
        regularisation) per quantile for ``"simple"`` and integrated over the grid (one
        ``b``) for ``"frechet"``, on the quantile columns the bandwidth selector uses. In
        fuzzy designs the first stage's ``b`` is always selected the same way from the
        treatment.

    Attributes
    ----------
    quantiles_ : ndarray of shape (m,)
        Grid of quantile levels used.
    tau_ : ndarray of shape (m,)
        Estimated effect curve (conventional, also under ``bias_correction="robust"``).
    tau_bias_corrected_ : ndarray of shape (m,) or None
        Robust bias-corrected effect curve, the centre of the band (None without bias
        correction).
    bias_bandwidth_ : ndarray of shape (m,) or None
        Bias bandwidth ``b`` per quantile (None without bias correction).
    bandwidth_ : ndarray of shape (m,)
        Outcome bandwidth per quantile (constant for ``"frechet"``).
    bandwidth_treatment_ : float or None
        First-stage bandwidth (fuzzy designs).
    first_stage_ : float or None
        Jump in the treatment probability at the cutoff (fuzzy designs).
    quantile_function_plus_, quantile_function_minus_ : ndarray of shape (m,)
        Monotone boundary quantile curves above and below the cutoff.
    band_ : DataFrame
        Uniform band, indexed by quantile, columns ``"lower"``, ``"upper"`` (centred at
        ``tau_bias_corrected_`` under ``bias_correction="robust"``).
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
    results_ : r3d.R3DResults
        The fit's results object; the attributes above are views of it. Its
        ``conf_int(alpha=...)`` and ``test(..., alpha=...)`` reuse the stored bootstrap
        draws (a 90% band after a 95% fit needs no refit).

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

    Robust bias-corrected band (CCT's local linear procedure, quantile by quantile):

    >>> rob = R3D(p=1, bias_correction="robust", quantiles=[0.25, 0.5, 0.75],
    ...           n_bootstrap=200, random_state=0).fit(sim.x, sim.y)
    >>> rob.bias_bandwidth_.shape, bool(np.all(rob.band_["lower"] < rob.tau_bias_corrected_))
    ((3,), True)
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
        bias_correction: BiasCorrection | None = None,
        bias_bandwidth: Any = None,
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
        self.bias_correction = bias_correction
        self.bias_bandwidth = bias_bandwidth

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
        container carries is a ``ValueError``. numpy inputs are paired by position. The
        index of the first pandas input labels the units (``unit_ids_``): a label in it twice,
        or a missing one, is a ``ValueError`` (reset the index, or pass numpy arrays).

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
        n_bootstrap = check_int(self.n_bootstrap, "n_bootstrap", minimum=0)
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
        if multipliers is None and 0 < n_bootstrap < 1.0 / alpha:
            raise ValueError(
                f"`n_bootstrap` = {n_bootstrap} is too small for alpha = {alpha:g}: the band's "
                f"critical value needs at least {int(np.ceil(1 / alpha))} draws (use 2000+)."
            )
        bias_correction = None
        if self.bias_correction is not None:
            bias_correction = check_option(self.bias_correction, "bias_correction", BiasCorrection)
            if rules is R3D_28744DB:
                raise ValueError(
                    "`bias_correction='robust'` is not available with compat='R': the R package "
                    "R3D 0.1.0 has no bias correction. Use compat=None (the paper's rules) for "
                    "robust bias-corrected inference, or bias_correction=None to reproduce R."
                )
        elif self.bias_bandwidth is not None:
            raise ValueError(
                "`bias_bandwidth` is only used with bias_correction='robust'; set "
                "bias_correction='robust' or leave bias_bandwidth=None."
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
        b_arg = None
        if bias_correction is not None and self.bias_bandwidth is not None:
            b_arg = check_bandwidth(self.bias_bandwidth, sample.q.size, "bias_bandwidth")
        # the names the rest of fit reads
        xv, Q, grid, tv, cl = sample.x, sample.Q, sample.q, sample.T, sample.cluster
        ids, n_dropped, degenerate = sample.unit_ids, sample.n_dropped, sample.degenerate
        below, above = sample.n_below, sample.n_above
        xi = None
        if multipliers is not None:
            xi = _check_multipliers(multipliers, ids, n_dropped, alpha)
        for side, mask in (("below", xv < cutoff), ("at or above", xv >= cutoff)):
            xs = xv[mask]
            # exact below p + 1 (the first thousand values decide a large side unsorted)
            n_distinct = int(np.unique(xs[:1000]).size)
            if n_distinct < p + 1 and xs.size > 1000:
                n_distinct = int(np.unique(xs).size)
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
        if h_den is not None:  # estimate_r3d's rule: a one-element sequence is its value
            h_den = check_scalar(h_den, "bandwidth_treatment", positive=True)
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

        debiased = None
        if bias_correction is not None:
            debiased = _robust_core(
                sample,
                core,
                method=method,
                p=p,
                kernel=kernel,
                rules=rules,
                b=b_arg,
                memory_budget=budget,
            )
        inference = None
        if xi is not None or n_bootstrap > 0:
            mult = (
                Multipliers(xi=xi)
                if xi is not None
                else Multipliers(
                    n_bootstrap=n_bootstrap,
                    kind=mult_kind,
                    cluster=cl,
                    rng=check_random_state(self.random_state),
                    progress=progress,
                    n_jobs=self.n_jobs,
                )
            )
            if debiased is None:
                inference = bootstrap_inference(core, mult, memory_budget=budget)
            else:
                inference = debiased_inference(
                    debiased, mult, rules=r3d_rules(rules), memory_budget=budget
                )
        results = R3DResults(
            core,
            inference,
            debiased=debiased,
            alpha=alpha,
            studentize=studentize,
            compat=compat,
            x=xv,
            Q=Q,
            unit_ids=ids,
            n_below=below,
            n_above=above,
            n_dropped=n_dropped,
            n_clusters=sample.n_clusters,
            weighted=getattr(self, "_weighted", False),
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
        self._set_results(results)
        self.rules_ = rules
        return self

    def _set_results(self, res: R3DResults) -> None:
        """``results_`` and the fitted attributes, views of it."""
        self.results_ = res
        self._core, self._draws, self._x, self._Q = res._core, res._draws, res._x, res._Q
        self.method_, self.kernel_, self.alpha_, self.p_ = res.method, res.kernel, res.alpha, res.p
        self.cutoff_, self.studentized_, self.compat_ = res.cutoff, res.studentized, res.compat
        self.fuzzy_, self.quantiles_, self.tau_ = res.fuzzy, res._q, res._tau
        self.bandwidth_ = res._h
        self.bandwidth_treatment_, self.first_stage_ = res.bandwidth_treatment, res.first_stage
        self.quantile_function_plus_ = res._plus
        self.quantile_function_minus_ = res._minus
        self.degenerate_, self.n_units_, self.unit_ids_ = res.degenerate, res.n_units, res.unit_ids
        self.n_below_, self.n_above_, self.n_dropped_ = res.n_below, res.n_above, res.n_dropped
        self.n_clusters_, self.n_bootstrap_ = res.n_clusters, res.n_bootstrap
        self.pointwise_band_, self.band_ = res.pointwise_band, res.band
        self.critical_value_ = res.critical_value
        self.bias_correction_ = res.bias_correction
        self.tau_bias_corrected_ = res._tau_bc
        self.bias_bandwidth_ = res._b

    def _bandwidth_arg(self, m: int) -> Any:
        if self.bandwidth is None:
            return None
        bw = self.bandwidth
        refusal = TypeError(
            f"`bandwidth` must be a number or one number per quantile; got {bw!r} "
            "(bandwidths are selected automatically when bandwidth=None)."
        )
        if isinstance(bw, str | bytes) or holds_bool(bw):  # True is no bandwidth of 1
            raise refusal
        try:
            h = np.asarray(bw, dtype=float)
        except (TypeError, ValueError):
            raise refusal from None
        if h.ndim > 1 or (h.ndim == 1 and h.size not in (1, m)):
            raise ValueError(
                f"`bandwidth` must be a scalar or one value per quantile ({m}); "
                f"got shape {h.shape}."
            )
        if not np.all(np.isfinite(h)) or np.any(h <= 0):
            raise ValueError(f"`bandwidth` must be finite and positive; got {self.bandwidth!r}.")
        return float(h.ravel()[0]) if h.size == 1 else h

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
            inputs = {
                "x": x,
                "y": y,
                "treatment": treatment,
                "weights": weights,
                "cluster": cluster,
            }
            aligned, index = align_by_label(inputs)
            x, y, treatment = aligned["x"], aligned["y"], aligned["treatment"]
            weights, cluster = aligned["weights"], aligned["cluster"]
            if isinstance(y, pd.Series):
                y = list(y.to_numpy()) if y.dtype == object else y.to_numpy(dtype=float)
            if isinstance(weights, pd.Series):
                weights = list(weights.to_numpy())
            carried = Distributions.from_arrays(y, weights)
            if index is not None and len(index) == carried.n_units:  # else: `x` refused below
                # the first pandas input's labels name the units
                first = next(
                    k for k, v in inputs.items() if isinstance(v, pd.Series | pd.DataFrame)
                )
                labels = _unit_labels(
                    np.asarray(index),
                    carried.n_units,
                    f"The index of `{first}` (it labels the units)",
                    f"reset the index of every pandas input, e.g. {first}.reset_index(drop=True), "
                    "or df.reset_index(drop=True) before taking the columns; or pass numpy arrays",
                )
                carried = dataclasses.replace(carried, unit_ids=labels)
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

    # ------------------------------------------------------------------ inference, presentation
    # owned by the fitted ``results_``: same signatures and docstrings (r3d/_results.py)
    test = _delegate(R3DResults.test)
    density_test = _delegate(R3DResults.density_test)
    plot = _delegate(R3DResults.plot)
    plot_rd = _delegate(R3DResults.plot_rd)

    @property
    def effect_(self) -> pd.DataFrame:
        """Effect curve with its band and boundary curves, indexed by quantile."""
        return self._results().effect

    def summary(
        self, quantiles: Sequence[float] = (0.1, 0.25, 0.5, 0.75, 0.9), digits: int | None = None
    ) -> Any:
        """statsmodels-style summary: design, sample, bandwidths, effects, tests.

        Parameters
        ----------
        quantiles : sequence of float, default (0.1, 0.25, 0.5, 0.75, 0.9)
            Quantile levels shown in the effect table (nearest grid points).
        digits : int, optional
            Decimal places of numbers in outcome units; ``None`` rounds them to the
            outcome's magnitude.

        Returns
        -------
        statsmodels.iolib.summary.Summary
            ``str()`` for text, ``.as_html()``, ``.as_latex()``; see
            :meth:`r3d.R3DResults.summary`.
        """
        return self._results().summary(digits, quantiles=quantiles)

    def _results(self) -> R3DResults:
        check_is_fitted(self, "results_")
        return self.results_


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


def _robust_core(
    sample: R3DSample,
    core: Any,
    *,
    method: str,
    p: int,
    kernel: str,
    rules: R3DRules,
    b: np.ndarray | None,
    memory_budget: int | None,
) -> DebiasedCore:
    """The robust bias-corrected estimate at the conventional fit's bandwidths ``h``.

    ``b`` given (one per quantile) or selected by rdrobust's mserd rule (``"mse"`` per
    quantile for ``"simple"``, ``"imse"`` over the grid for ``"frechet"``) on the columns
    the bandwidth selector uses (the non-degenerate ones; degenerate points take the median
    selected ``b``, or ``h`` when every point is degenerate). The first stage of a fuzzy
    design keeps the conventional fit's ``h`` and gets its own selected ``b``. Residuals:
    HC2 under rules with ``hc2`` (the paper's), raw (HC0) otherwise.
    """
    x, q, T, deg = sample.x, sample.q, sample.T, sample.degenerate
    m = q.size
    vce = "hc2" if rules.hc2 else "hc0"
    codes = sample.cluster  # integer codes, factorised once at the door
    h = np.broadcast_to(np.asarray(core.bandwidth, dtype=float), (m,)).copy()
    sel_kw: dict[str, Any] = dict(cutoff=sample.cutoff, p=p, kernel=kernel, cluster=codes)
    bT = None
    live = ~deg
    if b is None and live.any():
        Qs = sample.Q if sample.Q_bandwidth is None else sample.Q_bandwidth
        crit: Literal["mse", "imse"] = "mse" if method == "simple" else "imse"
        sel = select_bias_bandwidth(x, Qs[:, live], q[live], criterion=crit, T=T, **sel_kw)
        b = np.full(m, float(np.median(sel.b)))
        b[live] = sel.b
        bT = sel.b_treatment
    elif b is None:
        b = h.copy()
    if T is not None and bT is None:
        bT = float(select_bias_bandwidth(x, T[:, None], None, criterion="mse", **sel_kw).b[0])
    return estimate_r3d_robust(
        x,
        sample.Q,
        q,
        bandwidth=h,
        bias_bandwidth=b,
        cutoff=sample.cutoff,
        T=T,
        bandwidth_treatment=None if T is None else core.bandwidth_treatment,
        bias_bandwidth_treatment=bT,
        cluster=codes,
        method=method,  # type: ignore[arg-type]
        p=p,
        kernel=kernel,  # type: ignore[arg-type]
        vce=vce,  # type: ignore[arg-type]
        degenerate=deg,
        memory_budget=memory_budget,
    )
