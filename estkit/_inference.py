"""One inference object: bootstrap draws of an estimate and everything built on them.

:class:`BootstrapInference` holds an estimate over a grid (or a scalar) and its bootstrap
draws, computed once (lazily, on first use) from influence scores and multipliers, or given
as replicates of a nonparametric (pairs) bootstrap. Uniform bands, pointwise intervals,
percentile / studentised intervals, sup tests and p-values are all read off the same draws,
so a band at another level needs no new draws. The critical-value rules are data
(:class:`BootstrapRules`), not branches in the callers. The pure cores stay in
:mod:`estkit._bootstrap` (same numbers, bit for bit).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from estkit._bootstrap import (
    CriticalValueRule,
    MultiplierKind,
    band_scale,
    bootstrap_pvalue,
    multiplier_process,
    order_statistic_critical_value,
    percentile_interval,
    studentized_interval,
    sup_statistics,
)
from estkit._random import RandomStateLike
from estkit._validation import (
    _as_float_array,
    check_alpha,
    check_bool,
    check_finite,
    check_option,
)
from estkit.results import TestResult

__all__ = ["BootstrapInference", "BootstrapRules", "ConfidenceBand", "SupStatistic"]

SupStatistic = Literal["nullity", "homogeneity"]
IntervalKind = Literal["percentile", "basic", "studentized"]

_NULLS = {
    "nullity": "the estimand is 0 at every grid point of the range",
    "homogeneity": "the estimand is constant over the range",
}


@dataclass(frozen=True)
class BootstrapRules:
    """How critical values and p-values are read off bootstrap statistics.

    Parameters
    ----------
    band : {"inverse_cdf", "ceil", "linear"}, default "inverse_cdf"
        Order-statistic rule of band and pointwise critical values (see
        :func:`estkit.order_statistic_critical_value`); R3D 28744db uses ``"ceil"``.
    test : {"inverse_cdf", "ceil", "linear"}, default "inverse_cdf"
        Rule of the critical values of tests; R3D 28744db uses ``"linear"`` (type 7).
    plus_one : bool, default True
        p-values ``(1 + #{T* >= T}) / (B + 1)``; False gives the plain share ``#/B``
        (R3D 28744db).

    Examples
    --------
    >>> BootstrapRules(band="ceil", test="linear", plus_one=False).band
    'ceil'
    """

    band: CriticalValueRule = "inverse_cdf"
    test: CriticalValueRule = "inverse_cdf"
    plus_one: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "band", check_option(self.band, "band", CriticalValueRule))
        object.__setattr__(self, "test", check_option(self.test, "test", CriticalValueRule))
        object.__setattr__(self, "plus_one", check_bool(self.plus_one, "plus_one"))


@dataclass(frozen=True, eq=False)
class ConfidenceBand:
    """Confidence limits over a grid: a uniform band or pointwise intervals.

    Parameters
    ----------
    lower, upper : numpy.ndarray of shape (m,) (0-d for a scalar estimate)
        The limits.
    critical_value : float or numpy.ndarray
        One critical value (uniform band) or one per grid point (pointwise); NaN for
        percentile-type intervals, which have none.
    alpha : float
        Significance level: ``1 - alpha`` coverage.
    kind : str
        ``"uniform"``, ``"pointwise"``, ``"percentile"``, ``"basic"`` or ``"studentized"``.
    scale : numpy.ndarray or None
        Pointwise scale of a uniform band (ones for constant width).
    sup_statistics : numpy.ndarray or None
        The ``(B,)`` bootstrap sup statistics behind a uniform band's critical value.

    Examples
    --------
    >>> b = ConfidenceBand(np.array([-1.0]), np.array([1.0]), 1.0, 0.05, "uniform")
    >>> b.to_frame(pd.Index([0.5], name="quantile"))
              lower  upper
    quantile
    0.5        -1.0    1.0
    """

    lower: np.ndarray
    upper: np.ndarray
    critical_value: float | np.ndarray
    alpha: float
    kind: str
    scale: np.ndarray | None = field(default=None, compare=False)
    sup_statistics: np.ndarray | None = field(default=None, compare=False)

    @property
    def crit(self) -> float | np.ndarray:
        """Alias of ``critical_value`` (the name of r3d's reference-port code)."""
        return self.critical_value

    def to_frame(self, index: Any = None) -> pd.DataFrame:
        """The limits as a DataFrame with columns ``lower`` and ``upper``.

        Parameters
        ----------
        index : array-like or pandas.Index, optional
            Row index (e.g. the quantile levels); default ``0 .. m - 1``.

        Returns
        -------
        pandas.DataFrame
            One row per grid point (one row for a scalar estimate), columns ``lower`` and
            ``upper``.
        """
        return pd.DataFrame(
            {"lower": np.atleast_1d(self.lower), "upper": np.atleast_1d(self.upper)}, index=index
        )


class BootstrapInference:
    """Bootstrap draws of an estimate, and the bands, intervals and tests built on them.

    Built either from influence scores (multiplier bootstrap: the draws
    ``T*_b = sum_i xi_ib s_i`` of :func:`estkit.multiplier_process`, computed once, on first
    use) or, with :meth:`from_replicates`, from the replicates of a pairs / nonparametric
    bootstrap, or, with :meth:`from_draws`, from draws computed elsewhere. Results at any
    level come from the same stored draws, so ``band(0.10)`` after ``band(0.05)`` needs no
    new draws and equals a fresh object's ``band(0.10)`` exactly.

    Parameters
    ----------
    estimate : array-like of shape (m,)
        The estimate over the grid.
    scores : array-like of shape (n, k), or ScoreBlocks
        Per-unit influence scores; ``k = m`` unless ``transform`` maps the ``(B, k)``
        process to the ``(B, m)`` draws of the estimate.
    n_bootstrap : int, optional
        Number of draws; required unless ``multipliers`` is given.
    multipliers : array-like of shape (n, B), optional
        Caller-supplied multipliers (deterministic draws); not with ``cluster``.
    cluster : array-like of shape (n,), optional
        Cluster labels: one multiplier per cluster.
    kind : {"gaussian", "rademacher", "mammen"}, default "gaussian"
        Multiplier distribution.
    rng : None, int, SeedSequence or Generator
        Seed or generator of the multipliers.
    grid : array-like of shape (m,), optional
        Index of the grid (e.g. quantile levels), used by ``quantile_range``; default
        ``0 .. m - 1``.
    transform : callable, optional
        ``transform(process) -> draws`` for estimates that are smooth functions of several
        linear statistics (e.g. a ratio in a fuzzy RD design).
    degenerate : array-like of bool, shape (m,), optional
        Grid points without variation: zero-width band there, and left out of every sup
        statistic.
    rules : BootstrapRules, optional
        Critical-value and p-value rules (default: inverse empirical CDF, ``+1`` p-values).
    block_size, n_jobs, progress, memory_budget
        Passed to :func:`estkit.multiplier_process` (never change the draws).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> scores = rng.standard_normal((200, 5)) / 200
    >>> inf = BootstrapInference(np.zeros(5), scores, n_bootstrap=199, rng=1)
    >>> band = inf.band(0.05)
    >>> band.kind, band.lower.shape, bool(band.critical_value > 0)
    ('uniform', (5,), True)
    >>> inf.sup_test("nullity").pvalue <= 1.0
    True

    A pairs bootstrap's replicates (e.g. from :func:`estkit.pairs_bootstrap`):

    >>> reps = np.arange(1.0, 100.0)
    >>> lo, hi = BootstrapInference.from_replicates(50.0, reps).interval(0.1)
    >>> float(lo), float(hi)
    (5.9, 94.1)
    """

    def __init__(
        self,
        estimate: Any,
        scores: Any = None,
        *,
        n_bootstrap: int | None = None,
        multipliers: Any = None,
        cluster: Any = None,
        kind: MultiplierKind = "gaussian",
        rng: RandomStateLike = None,
        grid: Any = None,
        transform: Callable[[np.ndarray], np.ndarray] | None = None,
        degenerate: Any = None,
        rules: BootstrapRules | None = None,
        block_size: int | None = None,
        n_jobs: int | None = None,
        progress: bool | None = None,
        memory_budget: int | None = None,
    ) -> None:
        est = _as_float_array(estimate, "estimate")
        check_finite(est, "estimate")
        self._scalar = est.ndim == 0
        self.estimate = np.atleast_1d(est)
        if self.estimate.ndim != 1:
            raise ValueError(
                f"`estimate` must be a scalar or one-dimensional (m,); got shape {est.shape}."
            )
        m = self.estimate.size
        self.grid = np.arange(m, dtype=float) if grid is None else _as_float_array(grid, "grid")
        if self.grid.shape != (m,):
            raise ValueError(
                f"`grid` must have shape ({m},) like `estimate`; got {self.grid.shape}."
            )
        deg = np.zeros(m, dtype=bool) if degenerate is None else np.asarray(degenerate, bool)
        if deg.shape != (m,):
            raise ValueError(f"`degenerate` must have one flag per grid point ({m}).")
        self.degenerate = deg
        if rules is not None and not isinstance(rules, BootstrapRules):
            raise TypeError(f"`rules` must be a BootstrapRules; got {type(rules).__name__}.")
        self.rules = BootstrapRules() if rules is None else rules
        self._scores = scores
        self._process_kw = {
            "n_bootstrap": n_bootstrap,
            "kind": kind,
            "cluster": cluster,
            "multipliers": multipliers,
            "rng": rng,
            "block_size": block_size,
            "progress": progress,
            "n_jobs": n_jobs,
            "memory_budget": memory_budget,
        }
        self._transform = transform
        self.method = "multiplier bootstrap"
        self._process: np.ndarray | None = None
        self._draws: np.ndarray | None = None
        self._replicates: np.ndarray | None = None
        self._std_error: np.ndarray | None = None
        self._replicate_std_errors: np.ndarray | None = None
        self._sup: dict[tuple[Any, ...], tuple[float, np.ndarray]] = {}
        self._band_sup: dict[bool, tuple[np.ndarray, np.ndarray]] = {}
        self._bands: dict[tuple[Any, ...], ConfidenceBand] = {}

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_draws(
        cls,
        estimate: Any,
        draws: Any,
        *,
        grid: Any = None,
        degenerate: Any = None,
        rules: BootstrapRules | None = None,
    ) -> BootstrapInference:
        """Inference from centred bootstrap draws ``(B, m)`` of ``estimate - truth``.

        Parameters
        ----------
        estimate : float or array-like of shape (m,)
            The estimate over the grid.
        draws : array-like of shape (B, m), or (B,) for a scalar estimate
            Centred bootstrap draws, one row per draw.
        grid, degenerate, rules
            As in the class.

        Returns
        -------
        BootstrapInference
            Uses ``draws`` as given (no multipliers, no ``transform``).

        Raises
        ------
        ValueError
            If ``draws`` is not ``(B, m)`` with ``B >= 1``.

        Examples
        --------
        >>> d = np.random.default_rng(0).standard_normal((99, 3))
        >>> inf = BootstrapInference.from_draws(np.ones(3), d)
        >>> inf.n_bootstrap
        99
        """
        out = cls(estimate, grid=grid, degenerate=degenerate, rules=rules)
        d = _as_float_array(draws, "draws")
        if d.ndim == 1 and out.estimate.size == 1:
            d = d[:, None]
        if d.ndim != 2 or d.shape[1] != out.estimate.size or d.shape[0] == 0:
            raise ValueError(
                f"`draws` must have shape (B, {out.estimate.size}) (one row per draw); got "
                f"{d.shape}."
            )
        out._process = out._draws = d
        out.method = "bootstrap"
        return out

    @classmethod
    def from_replicates(
        cls,
        estimate: Any,
        replicates: Any,
        *,
        std_error: Any = None,
        replicate_std_errors: Any = None,
        grid: Any = None,
        rules: BootstrapRules | None = None,
    ) -> BootstrapInference:
        """Inference from the replicates of a pairs / nonparametric bootstrap.

        Parameters
        ----------
        estimate : float or array-like of shape (m,)
            The estimate on the original data.
        replicates : array-like of shape (B,) or (B, m)
            The estimate on each resample (e.g. ``estkit.pairs_bootstrap``'s output).
        std_error : float or array-like of shape (m,), optional
            Standard error of the estimate; needed (with ``replicate_std_errors``) for
            ``interval(kind="studentized")``.
        replicate_std_errors : array-like of shape (B,) or (B, m), optional
            The standard error computed on each resample (bootstrap-t).
        grid, rules
            As in the class.

        Returns
        -------
        BootstrapInference
            Its draws are ``replicates - estimate``; :meth:`interval` gives percentile,
            basic and studentised intervals; :meth:`band` and :meth:`sup_test` work too.

        Examples
        --------
        >>> x = np.arange(20.0)
        >>> from estkit import pairs_bootstrap
        >>> reps = pairs_bootstrap(lambda idx: x[idx].mean(), 20, 99, rng=0)
        >>> inf = BootstrapInference.from_replicates(x.mean(), reps)
        >>> lo, hi = inf.interval(0.05)
        >>> bool(lo < x.mean() < hi)
        True
        """
        reps = _as_float_array(replicates, "replicates")
        if reps.ndim not in (1, 2) or reps.shape[0] == 0:
            raise ValueError(
                f"`replicates` must have shape (B,) or (B, m) (one row per draw); got {reps.shape}."
            )
        check_finite(reps, "replicates")
        est = _as_float_array(estimate, "estimate")
        check_finite(est, "estimate")
        d = (reps[:, None] if reps.ndim == 1 else reps) - np.atleast_1d(est)[None, :]
        out = cls.from_draws(est, d, grid=grid, rules=rules)
        out._scalar = est.ndim == 0 and reps.ndim == 1
        out._replicates = reps
        out.method = "pairs bootstrap"
        if std_error is not None:
            out._std_error = _as_float_array(std_error, "std_error")
        if replicate_std_errors is not None:
            rse = _as_float_array(replicate_std_errors, "replicate_std_errors")
            if rse.shape != reps.shape:
                raise ValueError(
                    f"`replicate_std_errors` must have the shape of `replicates` {reps.shape}; "
                    f"got {rse.shape}."
                )
            if not np.all(rse > 0):
                raise ValueError("`replicate_std_errors` must be positive.")
            out._replicate_std_errors = rse
        return out

    # ------------------------------------------------------------------ the draws
    @property
    def process(self) -> np.ndarray:
        """The multiplier process ``(B, k)`` before ``transform`` (computed once)."""
        if self._process is None:
            if self._scores is None:
                raise ValueError("No scores and no draws: pass `scores` or use from_draws().")
            self._process = multiplier_process(self._scores, **self._process_kw)
            # the draws are all that is needed from now on: free the (n, k) scores
            self._scores, self._process_kw = None, {}
        return self._process

    @property
    def draws(self) -> np.ndarray:
        """Centred bootstrap draws ``(B, m)`` of ``estimate - truth`` (computed once)."""
        if self._draws is None:
            proc = self.process
            self._draws = proc if self._transform is None else self._transform(proc)
        return self._draws

    @property
    def n_bootstrap(self) -> int:
        """Number of bootstrap draws ``B``."""
        return int(self.draws.shape[0])

    def std_errors(self) -> np.ndarray:
        """Bootstrap standard deviation of the estimate at each grid point (``ddof=1``).

        Returns
        -------
        numpy.ndarray of shape (m,)
            Standard deviation of :attr:`draws` over the draws, per grid point.
        """
        return np.std(self.draws, axis=0, ddof=1)

    # ------------------------------------------------------------------ bands
    def band(
        self,
        alpha: float = 0.05,
        *,
        studentize: bool = False,
        rule: CriticalValueRule | None = None,
    ) -> ConfidenceBand:
        """Uniform (sup-t) band ``estimate -/+ c * scale`` at level ``1 - alpha``.

        Same numbers as :func:`estkit.uniform_band` on the draws of the non-degenerate
        grid points; degenerate points get the estimate itself as both limits. The sup
        statistics are computed once per ``studentize`` and reused at every level.

        Parameters
        ----------
        alpha : float, default 0.05
            Significance level.
        studentize : bool, default False
            Scale by the bootstrap standard deviation (width varies along the grid).
        rule : {"inverse_cdf", "ceil", "linear"}, optional
            Order-statistic rule; default ``rules.band``.

        Returns
        -------
        ConfidenceBand
            ``kind="uniform"``, with ``critical_value``, ``scale`` and ``sup_statistics``.
        """
        alpha = check_alpha(alpha)
        studentize = check_bool(studentize, "studentize")
        rule = self.rules.band if rule is None else check_option(rule, "rule", CriticalValueRule)
        key = ("band", alpha, studentize, rule)
        if key not in self._bands:
            self._bands[key] = self._band(alpha, studentize, rule)
        return self._bands[key]

    def _band(self, alpha: float, studentize: bool, rule: CriticalValueRule) -> ConfidenceBand:
        est, live = self.estimate, ~self.degenerate
        lo, hi, scale = est.copy(), est.copy(), np.ones(est.size)
        if not live.any():
            stats = np.zeros(self.n_bootstrap)
            return ConfidenceBand(lo, hi, 0.0, alpha, "uniform", scale, stats)
        sc, stats = self._sup_stats(studentize)
        cv = order_statistic_critical_value(stats, alpha, rule)
        lo[live], hi[live] = est[live] - cv * sc, est[live] + cv * sc
        scale[live] = sc
        return ConfidenceBand(lo, hi, cv, alpha, "uniform", scale, stats)

    def _sup_stats(self, studentize: bool) -> tuple[np.ndarray, np.ndarray]:
        """Scale and sup statistics of the live grid points (computed once each)."""
        if studentize not in self._band_sup:
            # the whole array when every point is live: a column copy can change the last
            # bit of the standard deviations (numpy's reductions depend on alignment)
            d = self.draws[:, ~self.degenerate] if self.degenerate.any() else self.draws
            scale = band_scale(d, studentize)
            self._band_sup[studentize] = (scale, sup_statistics(d, scale=scale))
        return self._band_sup[studentize]

    def pointwise(
        self, alpha: float = 0.05, *, rule: CriticalValueRule | None = None
    ) -> ConfidenceBand:
        """Pointwise intervals ``estimate -/+ c(q)``, ``c(q)`` a quantile of ``|draws(q)|``.

        Each grid point gets its own ``1 - alpha`` critical value (rule ``rules.band``
        unless ``rule`` is given); the intervals cover each point separately, not jointly.

        Parameters
        ----------
        alpha : float, default 0.05
            Significance level.
        rule : {"inverse_cdf", "ceil", "linear"}, optional
            Order-statistic rule; default ``rules.band``.

        Returns
        -------
        ConfidenceBand
            ``kind="pointwise"``, ``critical_value`` of shape (m,).
        """
        alpha = check_alpha(alpha)
        rule = self.rules.band if rule is None else check_option(rule, "rule", CriticalValueRule)
        key = ("pointwise", alpha, rule)
        if key not in self._bands:
            absd = np.abs(self.draws)
            c = np.array(
                [
                    order_statistic_critical_value(absd[:, j], alpha, rule)
                    for j in range(absd.shape[1])
                ]
            )
            self._bands[key] = ConfidenceBand(
                self.estimate - c, self.estimate + c, c, alpha, "pointwise"
            )
        return self._bands[key]

    def interval(
        self, alpha: float = 0.05, *, kind: IntervalKind = "percentile"
    ) -> tuple[np.ndarray, np.ndarray]:
        """Percentile, basic or studentised (bootstrap-t) intervals from replicates.

        Only for objects built by :meth:`from_replicates`; the numbers are those of
        :func:`estkit.percentile_interval` (``"percentile"``, ``"basic"``) and
        :func:`estkit.studentized_interval` (``"studentized"``, with the t-draws
        ``(replicate - estimate) / replicate_std_error``).

        Parameters
        ----------
        alpha : float, default 0.05
            Significance level: ``1 - alpha`` coverage at each grid point.
        kind : {"percentile", "basic", "studentized"}, default "percentile"
            Interval type; ``"studentized"`` needs ``std_error`` and
            ``replicate_std_errors`` in :meth:`from_replicates`.

        Returns
        -------
        lower, upper : numpy.ndarray
            Shape (m,), or 0-d for a scalar estimate with ``(B,)`` replicates.

        Raises
        ------
        ValueError
            If the object was not built by :meth:`from_replicates`, or ``kind="studentized"``
            without the standard errors.
        """
        kind = check_option(kind, "kind", IntervalKind)
        if self._replicates is None:
            raise ValueError(
                "interval() needs bootstrap `replicates`: build the object with "
                "BootstrapInference.from_replicates(estimate, replicates); for multiplier "
                "draws use pointwise() or band()."
            )
        est = self.estimate[0] if self._scalar else self.estimate
        if kind != "studentized":
            return percentile_interval(est, self._replicates, alpha, kind=kind)
        if self._std_error is None or self._replicate_std_errors is None:
            raise ValueError(
                "kind='studentized' needs `std_error` and `replicate_std_errors` in "
                "from_replicates()."
            )
        t = (self._replicates - est) / self._replicate_std_errors
        return studentized_interval(est, self._std_error, t, alpha)

    # ------------------------------------------------------------------ tests
    def _live_range(self, quantile_range: Any) -> tuple[np.ndarray, tuple[float, float]]:
        """Non-degenerate grid points inside ``quantile_range`` (closed), and the range."""
        g = self.grid
        if quantile_range is None:
            lo, hi = float(g.min()), float(g.max())
            idx = np.ones(g.size, dtype=bool)
        else:
            lo, hi = sorted(float(v) for v in quantile_range)
            idx = (g >= lo) & (g <= hi)
            if not idx.any():
                raise ValueError(
                    f"`quantile_range`: no grid point lies in [{lo}, {hi}]; widen the range."
                )
        return idx & ~self.degenerate, (lo, hi)

    def sup_statistics(
        self, statistic: SupStatistic = "nullity", quantile_range: Any = None
    ) -> tuple[float, np.ndarray]:
        """Observed sup statistic and its ``(B,)`` bootstrap draws over a range.

        ``"nullity"``: ``max |estimate|`` against ``max |draws|``; ``"homogeneity"``:
        ``max |estimate - mean|`` against ``max |draws - row mean|`` (each draw centred at
        its own mean over the range). Degenerate points are left out; a range of only
        degenerate points gives 0 and zero draws. Computed once per range.

        Parameters
        ----------
        statistic : {"nullity", "homogeneity"}, default "nullity"
            Which sup statistic.
        quantile_range : pair of float, optional
            Closed range of :attr:`grid` values to take the sup over; default the whole grid.

        Returns
        -------
        statistic : float
            The observed sup statistic.
        null_distribution : numpy.ndarray of shape (B,)
            Its bootstrap draws.

        Raises
        ------
        ValueError
            If no grid point lies in ``quantile_range``.
        """
        statistic = check_option(statistic, "statistic", SupStatistic)
        idx, _ = self._live_range(quantile_range)
        key = (statistic, idx.tobytes())
        if key not in self._sup:
            if not idx.any():
                self._sup[key] = (0.0, np.zeros(self.n_bootstrap))
            else:
                tr, gr = self.estimate[idx], self.draws[:, idx]
                if statistic == "nullity":
                    obs, boot = float(np.max(np.abs(tr))), np.max(np.abs(gr), axis=1)
                else:
                    obs = float(np.max(np.abs(tr - tr.mean())))
                    boot = np.max(np.abs(gr - gr.mean(axis=1, keepdims=True)), axis=1)
                self._sup[key] = (obs, boot)
        return self._sup[key]

    def sup_test(
        self,
        statistic: SupStatistic = "nullity",
        quantile_range: Any = None,
        *,
        alpha: float = 0.05,
        null: str | None = None,
        label: str = "",
    ) -> TestResult:
        """Sup test of nullity or homogeneity over ``quantile_range`` (default: whole grid).

        The critical value follows ``rules.test`` and the p-value ``rules.plus_one``
        (:func:`estkit.order_statistic_critical_value`, :func:`estkit.bootstrap_pvalue`).
        A range with only degenerate points gives statistic 0, critical value 0, p-value 1.

        Parameters
        ----------
        statistic : {"nullity", "homogeneity"}, default "nullity"
            Which sup statistic (see :meth:`sup_statistics`).
        quantile_range : pair of float, optional
            Closed range of :attr:`grid` values tested; default the whole grid.
        alpha : float, default 0.05
            Significance level of the critical value.
        null : str, optional
            The null hypothesis in words; default a description of ``statistic``.
        label : str, default ""
            Display label of the result (``statistic`` if empty).

        Returns
        -------
        estkit.TestResult
            Statistic, critical value, p-value, the range and the ``(B,)`` null distribution.
        """
        statistic = check_option(statistic, "statistic", SupStatistic)
        alpha = check_alpha(alpha)
        live, rng = self._live_range(quantile_range)
        obs, boot = self.sup_statistics(statistic, quantile_range)
        null = _NULLS[statistic] if null is None else null
        if not live.any():
            return self._result(statistic, 0.0, 0.0, 1.0, alpha, null, rng, label, boot)
        return self.bootstrap_test(
            statistic, obs, boot, alpha=alpha, null=null, quantile_range=rng, label=label
        )

    def pvalue(self, statistic: SupStatistic = "nullity", quantile_range: Any = None) -> float:
        """p-value of :meth:`sup_test` (no critical value, so no minimum number of draws).

        Parameters
        ----------
        statistic : {"nullity", "homogeneity"}, default "nullity"
            Which sup statistic (see :meth:`sup_statistics`).
        quantile_range : pair of float, optional
            Closed range of :attr:`grid` values tested; default the whole grid.

        Returns
        -------
        float
            The p-value under ``rules.plus_one``; 1.0 if the range holds only degenerate
            points.
        """
        if not self._live_range(quantile_range)[0].any():
            return 1.0
        obs, boot = self.sup_statistics(statistic, quantile_range)
        return bootstrap_pvalue(obs, boot, plus_one=self.rules.plus_one)

    def bootstrap_test(
        self,
        name: str,
        statistic: float,
        null_distribution: Any,
        *,
        alpha: float = 0.05,
        null: str = "",
        quantile_range: tuple[float, float] | None = None,
        label: str = "",
        details: dict[str, Any] | None = None,
    ) -> TestResult:
        """Any scalar statistic against its bootstrap null distribution, with ``rules``.

        For statistics the object does not know (e.g. R3D's Gini test): the critical value
        is the ``rules.test`` order statistic of ``null_distribution`` and the p-value
        follows ``rules.plus_one``.

        Parameters
        ----------
        name : str
            Test name (``TestResult.name``).
        statistic : float
            The observed statistic.
        null_distribution : array-like of shape (B,)
            Its bootstrap draws under the null.
        alpha : float, default 0.05
            Significance level of the critical value.
        null : str, default ""
            The null hypothesis in words.
        quantile_range : pair of float, optional
            Range the statistic refers to, reported in the result.
        label : str, default ""
            Display label of the result (``name`` if empty).
        details : dict, optional
            Test-specific values stored in ``TestResult.details``.

        Returns
        -------
        estkit.TestResult
            With ``method`` naming the bootstrap and ``B``.
        """
        alpha = check_alpha(alpha)
        boot = _as_float_array(null_distribution, "null_distribution")
        crit = order_statistic_critical_value(boot, alpha, self.rules.test)
        pv = bootstrap_pvalue(statistic, boot, plus_one=self.rules.plus_one)
        return self._result(
            name, statistic, crit, pv, alpha, null, quantile_range, label, boot, details
        )

    def _result(
        self,
        name: str,
        statistic: float,
        crit: float,
        pvalue: float,
        alpha: float,
        null: str,
        quantile_range: tuple[float, float] | None,
        label: str,
        boot: np.ndarray,
        details: dict[str, Any] | None = None,
    ) -> TestResult:
        return TestResult(
            name=name,
            statistic=float(statistic),
            critical_value=float(crit),
            pvalue=float(pvalue),
            alpha=alpha,
            null=null,
            quantile_range=quantile_range,
            method=f"{self.method}, B={self.n_bootstrap}",
            label=label,
            null_distribution=boot,
            details={} if details is None else details,
        )

    def __repr__(self) -> str:
        b = "not drawn yet" if self._draws is None else f"B={self._draws.shape[0]}"
        return f"<BootstrapInference m={self.estimate.size}, {b}>"
