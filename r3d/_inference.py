"""Multiplier-bootstrap inference for R3D: uniform bands and nullity/homogeneity/Gini tests.

For draw ``b`` with i.i.d. multipliers ``xi_{ib}`` the bootstrap process on the scale of
``tau`` is

    nu_+(q) = sum_i xi_ib w_+(i, q) e(i, q),    nu_-(q) = sum_i xi_ib w_-(i, q) e(i, q)
    G_b(q)  = nu_+(q) - nu_-(q)                                         (sharp)
    G_b(q)  = (D G_b(q) - (m_+(q) - m_-(q)) (nu_T+ - nu_T-)) / D^2        (fuzzy)

with ``w_+/-`` the intercept weights, ``e`` the residuals of :class:`r3d._estimate.R3DCore`,
``D`` the first-stage jump and ``nu_T`` the analogous sums of the treatment residuals.
The intercept weights already carry the ``1 / (n h f_X(0))`` scaling of the paper's
``e0' Gamma^-1 r_p K / (sqrt(nh) f)`` so no further scaling is needed (this is R3D's
``scaling = 1`` and the finite-sample version of the paper's process).

The draws are computed as matrix products ``xi.T @ A`` with ``A`` of shape ``(n, m)``,
processed in blocks of draws, so no ``B x n x m`` array is ever formed.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from estkit import (
    BootstrapInference,
    BootstrapRules,
    ConfidenceBand,
    EstkitWarning,
    MultiplierKind,
    RandomStateLike,
    TestResult,
)
from estkit._bootstrap import ScoreBlocks
from estkit._inference import SupStatistic
from estkit._parallel import both_sides, memory_budget_bytes
from estkit._windowed import _slices
from r3d._estimate import R3DCore
from r3d._rules import R3DRules

__all__ = [
    "BootstrapDraws",
    "Multipliers",
    "bootstrap_draws",
    "bootstrap_inference",
    "expand_test_ranges",
    "gini_from_quantile",
    "gini_test",
    "pointwise_band",
    "r3d_rules",
    "run_tests",
    "uniform_band",
]

NULLS = {
    "nullity": "tau(q) = 0 for every q in the range",
    "homogeneity": "tau(q) is constant over the range",
    "gini": "Gini above = Gini below the cutoff",
}


def r3d_rules(rules: R3DRules) -> BootstrapRules:
    """The critical-value and p-value rules of an :class:`r3d.R3DRules` (its ``band_rule``,
    ``test_rule`` and ``pvalue_plus_one`` rows) as :class:`estkit.BootstrapRules`."""
    return BootstrapRules(
        band=rules.band_rule, test=rules.test_rule, plus_one=rules.pvalue_plus_one
    )


@dataclass(frozen=True)
class BootstrapDraws:
    """Bootstrap processes, one row per draw.

    Attributes
    ----------
    tau : ndarray, shape (B, m)
        Draws of the (sharp or fuzzy) treatment-effect process.
    nu_plus, nu_minus : ndarray, shape (B, m)
        Draws of the two boundary-curve processes (outcome residuals only).
    nu_treatment : ndarray, shape (B,), or None
        Draws of ``nu_T+ - nu_T-`` (fuzzy designs).
    """

    tau: np.ndarray
    nu_plus: np.ndarray
    nu_minus: np.ndarray
    nu_treatment: np.ndarray | None

    @classmethod
    def of(cls, core: R3DCore, inference: BootstrapInference) -> BootstrapDraws:
        """The R3D processes held by an inference object of :func:`bootstrap_inference`."""
        m = core.q.size
        proc = inference.process
        nu_p, nu_m = proc[:, :m], proc[:, m : 2 * m]
        deg = _degenerate(core)
        if deg.any():
            nu_p, nu_m = nu_p.copy(), nu_m.copy()
            nu_p[:, deg] = nu_m[:, deg] = 0.0
        nu_T = proc[:, 2 * m] if core.fuzzy else None
        return cls(tau=inference.draws, nu_plus=nu_p, nu_minus=nu_m, nu_treatment=nu_T)


def _tau_process(core: R3DCore, proc: np.ndarray) -> np.ndarray:
    """``G_b`` from the ``(B, 2m [+ 1])`` process ``[nu_+, nu_-, nu_T]`` (delta method)."""
    m = core.q.size
    G = proc[:, :m] - proc[:, m : 2 * m]
    if core.fuzzy:
        assert core.first_stage is not None  # fuzzy designs carry their first stage
        D = float(core.first_stage)
        G = (D * G - core.numerator[None, :] * proc[:, 2 * m][:, None]) / D**2
    deg = _degenerate(core)
    if deg.any():
        # no real variation at these grid points: the processes are exactly zero there
        G = G.copy()
        G[:, deg] = 0.0
    return G


@dataclass(frozen=True, eq=False)
class Multipliers:
    """Where R3D's bootstrap multipliers come from: a given ``(n, B)`` matrix ``xi``, or
    ``n_bootstrap`` drawn ones (``kind``, ``cluster``, ``rng``, ``progress``, ``n_jobs`` as
    in :func:`estkit.multiplier_process`).

    One options object for the conventional (:func:`bootstrap_inference`) and the
    bias-corrected (:func:`r3d._debias.debiased_inference`) bootstrap, so that both draw
    the same multipliers for a seed.

    Attributes
    ----------
    xi : array_like, shape (n, B) or (n,), optional
        Multipliers (rows = units, columns = draws), e.g. i.i.d. N(0, 1); when given, the
        other fields are not used.
    n_bootstrap : int, optional
        Number of draws when ``xi`` is not given; multipliers are then generated block by
        block (never an ``n x B`` matrix at once).
    kind, cluster, rng
        Multiplier distribution, cluster labels (one shared multiplier per cluster) and
        random generator, as in :func:`estkit.draw_multipliers`.
    progress : bool, optional
        Progress line for large ``n_bootstrap`` (default: only in an interactive terminal).
    n_jobs : int, optional
        Blocks of draws in parallel through joblib.
    """

    xi: Any = None
    n_bootstrap: int | None = None
    kind: MultiplierKind = "gaussian"
    cluster: Any = None
    rng: RandomStateLike = None
    progress: bool | None = None
    n_jobs: int | None = None

    @classmethod
    def of(cls, multipliers: Multipliers | np.ndarray | None) -> Multipliers:
        """``multipliers`` itself, or a given ``(n, B)`` matrix (or ``None``) as ``xi``."""
        return multipliers if isinstance(multipliers, Multipliers) else cls(xi=multipliers)

    def options(self) -> dict[str, Any]:
        """Keyword arguments of :class:`estkit.BootstrapInference` for these multipliers."""
        if self.xi is not None:
            X = np.asarray(self.xi, dtype=float)
            return {"multipliers": X[:, None] if X.ndim == 1 else X}
        return {
            "n_bootstrap": self.n_bootstrap,
            "kind": self.kind,
            "cluster": self.cluster,
            "rng": self.rng,
            "progress": self.progress,
            "n_jobs": self.n_jobs,
        }


def bootstrap_inference(
    core: R3DCore,
    multipliers: Multipliers | np.ndarray | None = None,
    *,
    block_size: int | None = None,
    memory_budget: int | None = None,
) -> BootstrapInference:
    """The R3D multiplier bootstrap as an :class:`estkit.BootstrapInference`.

    Parameters
    ----------
    core : R3DCore
        Output of :func:`r3d._estimate.estimate_r3d`.
    multipliers : Multipliers or array_like of shape (n, B), optional
        The multipliers (:class:`Multipliers`); a matrix (rows = units, columns = draws,
        e.g. i.i.d. N(0, 1)) stands for ``Multipliers(xi=matrix)``.
    block_size : int, optional
        Draws per block.
    memory_budget : int, optional
        Bytes of temporary arrays (blocks of multipliers, blocks of score rows; half of it
        for the multipliers); default the size of the ``(n, m)`` residual matrix, at
        least 64 MiB. Never changes the multipliers.

    Returns
    -------
    estkit.BootstrapInference
        Its ``draws`` are the ``(B, m)`` draws ``G_b`` of the effect process, its
        ``process`` the ``(B, 2m [+ 1])`` draws ``[nu_+, nu_-, nu_T]`` (computed once,
        on first use); degenerate grid points are flagged.
    """
    m = core.q.size
    if memory_budget is None:
        memory_budget = memory_budget_bytes(None, core.n, m)
    # the score blocks take up to one (n, m) matrix: half the budget for multipliers
    memory_budget = max(1, memory_budget // 2)
    scores = _score_blocks(core, memory_budget)
    kw = Multipliers.of(multipliers).options()
    kw.update(block_size=block_size, memory_budget=memory_budget)
    return BootstrapInference(
        core.tau,
        scores,
        grid=core.q,
        transform=partial(_tau_process, core),
        degenerate=_degenerate(core),
        rules=r3d_rules(core.rules),
        **kw,
    )


def bootstrap_draws(
    core: R3DCore, multipliers: Multipliers | np.ndarray | None = None, **kwargs: Any
) -> BootstrapDraws:
    """The processes of :func:`bootstrap_inference` (same arguments) as BootstrapDraws."""
    return BootstrapDraws.of(core, bootstrap_inference(core, multipliers, **kwargs))


def _degenerate(core: R3DCore) -> np.ndarray:
    """Boolean mask of the grid points without real variation (all False if none given)."""
    if core.degenerate is None:
        return np.zeros(core.q.size, dtype=bool)
    return np.asarray(core.degenerate, dtype=bool)


def _rows_block(
    w: np.ndarray, resid: np.ndarray, cols: slice, memory_budget: int | None
) -> tuple[np.ndarray, slice, np.ndarray]:
    """Non-zero rows of ``w * resid`` (weights zero off one side of the cutoff) as one
    compact block, filled in row chunks so no dense product is ever formed."""
    # a weight column shared by all quantiles is a broadcast view: test one column
    base = w[:, :1] if w.strides[1] == 0 else w
    rows = np.flatnonzero((base != 0).any(axis=1))
    m = resid.shape[1]
    vals = np.empty((rows.size, m))
    budget = 64 * 2**20 if memory_budget is None else int(memory_budget)
    step = max(1, budget // (8 * 3 * m))
    for block in _slices(rows.size, step):
        r, out = rows[block], vals[block]
        np.take(resid, r, axis=0, out=out, mode="wrap")  # valid rows: no buffered copy
        out *= base[r]
    return rows, cols, vals


def _score_blocks(core: R3DCore, memory_budget: int | None) -> ScoreBlocks:
    """The bootstrap scores ``[w_+ e, w_- e, w_T e_T]`` as their non-zero blocks: each unit
    scores on its own side of the cutoff only, so memory is one ``(n, m)`` matrix at most
    (no ``(n, 2m + 1)`` dense matrix)."""
    m = core.q.size
    # the two sides touch disjoint rows: built in two threads (estkit._parallel.both_sides)
    blocks = list(
        both_sides(
            lambda: _rows_block(core.weights_plus, core.resid, slice(0, m), memory_budget),
            lambda: _rows_block(core.weights_minus, core.resid, slice(m, 2 * m), memory_budget),
        )
    )
    n_cols = 2 * m
    if core.fuzzy:
        assert core.resid_treatment is not None and core.weights_treatment_plus is not None
        assert core.weights_treatment_minus is not None and core.first_stage is not None
        wt = core.weights_treatment_plus - core.weights_treatment_minus
        sT = wt * core.resid_treatment
        rows = np.flatnonzero(sT != 0)
        blocks.append((rows, slice(2 * m, 2 * m + 1), sT[rows, None]))
        n_cols += 1
    return ScoreBlocks(core.n, n_cols, [b for b in blocks if b[0].size])


def _from_draws(core: R3DCore, draws: BootstrapDraws) -> BootstrapInference:
    """An inference object over given draws (the reference-port functions below)."""
    return BootstrapInference.from_draws(
        core.tau, draws.tau, grid=core.q, degenerate=_degenerate(core), rules=r3d_rules(core.rules)
    )


def uniform_band(
    core: R3DCore,
    draws: BootstrapDraws,
    alpha: float = 0.05,
    *,
    studentize: bool = False,
) -> ConfidenceBand:
    """Uniform band ``tau +/- c s(q)`` from the bootstrap sup-statistics of ``G_b``.

    ``s(q) = 1`` (constant width, the paper's and R3D's band) or, with ``studentize=True``,
    the bootstrap standard deviation at ``q``. Under ``core.rules.band_rule == "ceil"``
    (R3D 28744db) it uses R3D's rule ``c =`` the ``ceil((1 - alpha)(B + 1))``-th order
    statistic (capped at ``B``; R returns NA there); the default uses the ``(1 - alpha)``
    empirical quantile (``ceil((1 - alpha) B)``-th order statistic). Computed by
    :meth:`estkit.BootstrapInference.band`.
    """
    return _from_draws(core, draws).band(alpha, studentize=studentize)


def pointwise_band(
    core: R3DCore, draws: BootstrapDraws, alpha: float = 0.05
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pointwise intervals ``tau(q) +/- c(q)``, ``c(q)`` a quantile of ``|G_b(q)|``.

    Each quantile level gets its own critical value, with the same order-statistic rule as
    :func:`uniform_band` (:meth:`estkit.BootstrapInference.pointwise`).

    Returns
    -------
    lower, upper, crit : ndarray, shape (m,)
    """
    pw = _from_draws(core, draws).pointwise(alpha)
    return pw.lower, pw.upper, np.asarray(pw.critical_value)


def expand_test_ranges(
    q: np.ndarray, test_ranges: Sequence[Sequence[float]] | None
) -> list[tuple[float, float]]:
    """R3D's range handling: ``None`` -> the grid's range; a vector of k > 2 points -> the
    k - 1 consecutive pairs.

    Examples
    --------
    >>> expand_test_ranges(np.array([0.1, 0.5, 0.9]), [[0.25, 0.5, 0.75]])
    [(0.25, 0.5), (0.5, 0.75)]
    """
    qv = np.asarray(q, dtype=float)
    if test_ranges is None:
        return [(float(qv.min()), float(qv.max()))]
    out: list[tuple[float, float]] = []
    for r in test_ranges:
        rv = sorted(float(v) for v in r)
        if len(rv) < 2:
            raise ValueError("Each test range needs at least two points.")
        out.extend((rv[i], rv[i + 1]) for i in range(len(rv) - 1))
    return out


def gini_from_quantile(q: np.ndarray, qf: np.ndarray) -> np.ndarray:
    """Gini coefficient of a distribution from its quantile function on a grid (as R3D).

    The grid is extended to 0 and 1 by constant extrapolation, the mean and the Lorenz
    curve are computed by the trapezoid rule, ``G = 1 - 2 * area(Lorenz)``, clipped to
    ``[0, 1]``. The Gini coefficient of a distribution with a non-positive mean is
    undefined: NaN there (R3D returns ``NA`` with a warning; callers decide what to say).
    Works on batches (last axis).

    Examples
    --------
    >>> q = np.arange(1, 100) / 100
    >>> round(float(gini_from_quantile(q, q)), 6)
    0.333102
    """
    qv = np.asarray(q, dtype=float)
    F = np.asarray(qf, dtype=float)
    order = np.argsort(qv, kind="stable")
    qv, F = qv[order], F[..., order]
    if qv[0] > 0:
        qv = np.concatenate([[0.0], qv])
        F = np.concatenate([F[..., :1], F], axis=-1)
    if qv[-1] < 1:
        qv = np.concatenate([qv, [1.0]])
        F = np.concatenate([F, F[..., -1:]], axis=-1)
    dp = np.diff(qv)
    seg = 0.5 * (F[..., 1:] + F[..., :-1]) * dp
    # sequential (left-to-right) sums, as R3D's loops, so a constant curve gives exactly 0
    mean = np.cumsum(seg, axis=-1)[..., -1]
    with np.errstate(divide="ignore", invalid="ignore"):
        lor = np.concatenate(
            [np.zeros((*F.shape[:-1], 1)), np.cumsum(seg, axis=-1) / mean[..., None]], axis=-1
        )
        area = np.cumsum(0.5 * (lor[..., 1:] + lor[..., :-1]) * dp, axis=-1)[..., -1]
    with np.errstate(invalid="ignore"):
        g = np.clip(1.0 - 2.0 * area, 0.0, 1.0)
    return np.where(mean > 0, g, np.nan)


def gini_test(
    core: R3DCore,
    inference: BootstrapInference,
    nu_plus: np.ndarray,
    nu_minus: np.ndarray,
    *,
    alpha: float = 0.05,
) -> TestResult:
    """Test of equal Gini coefficients of the two boundary distributions (whole grid).

    ``S = |Gini(m_+) - Gini(m_-)|``; the draws are ``D_b = Gini(m_+ + nu_+) -
    Gini(m_- + nu_-)``, centred at the estimate (``|D_b - D_hat|``, the paper's;
    ``rules.gini_centred``) or, under R3D 28744db's rules, not centred (``|D_b|``).
    Critical value and p-value follow the inference object's rules. Draws with an
    undefined Gini are left out with a warning.
    """
    q = core.q
    ga = float(gini_from_quantile(q, core.plus))
    gb = float(gini_from_quantile(q, core.minus))
    if not (np.isfinite(ga) and np.isfinite(gb)):
        raise ValueError(
            "The Gini test is undefined here: a boundary quantile function has a "
            "non-positive mean (the Gini coefficient needs a positive mean outcome)."
        )
    diff = ga - gb
    bd = gini_from_quantile(q, core.plus[None, :] + nu_plus) - gini_from_quantile(
        q, core.minus[None, :] + nu_minus
    )
    undefined = ~np.isfinite(bd)
    if undefined.all():
        raise ValueError(
            "The Gini test is undefined here: every bootstrap draw of a boundary "
            "quantile function has a non-positive mean."
        )
    if undefined.any():
        warnings.warn(
            f"Gini test: {int(undefined.sum())} of {bd.size} bootstrap draws have a "
            "boundary quantile function with non-positive mean (Gini undefined); they "
            "are left out of the critical value and the p-value.",
            EstkitWarning,
            stacklevel=3,
        )
        bd = bd[~undefined]
    boot = np.abs(bd - diff) if core.rules.gini_centred else np.abs(bd)
    return inference.bootstrap_test(
        "gini",
        abs(diff),
        boot,
        alpha=alpha,
        null=NULLS["gini"],
        quantile_range=(float(q.min()), float(q.max())),
        label="gini:full_sample",
        details={"gini_above": ga, "gini_below": gb, "gini_diff": diff},
    )


def run_tests(
    core: R3DCore,
    draws: BootstrapDraws,
    tests: Sequence[str] = ("nullity", "homogeneity"),
    *,
    test_ranges: Sequence[Sequence[float]] | None = None,
    alpha: float = 0.05,
    inference: BootstrapInference | None = None,
) -> list[TestResult]:
    """Nullity, homogeneity and Gini-equality tests from the bootstrap draws.

    * nullity on ``[a, b]``: ``S = max |tau(q)|``, draws ``max |G_b(q)|``;
    * homogeneity: ``S = max |tau(q) - mean tau|``, draws ``max |G_b(q) - mean G_b|``
      (each draw centred at its own mean over the tested grid points);
    * gini: ``S = |Gini(m_+) - Gini(m_-)|`` on the full grid.

    ``core.rules`` decides the rules; R3D 28744db's (:data:`r3d.R3D_28744DB`): critical
    value = type-7 ``(1 - alpha)`` quantile of the draws, p-value = share of draws
    ``>= S`` (no +1), and the Gini draws are ``Gini(m_+ + nu_+) - Gini(m_- + nu_-)``
    compared in absolute value with ``S`` *without* centring (their critical value is the
    type-7 quantile of ``|D_b|``). The default uses the inverse-empirical-CDF quantile, the p-value
    ``(1 + #{draws >= S}) / (B + 1)``, and centres the Gini draws at the estimate
    (``|D_b - D_hat|``), which is the bootstrap distribution of ``|D_hat - D|`` under the
    null. Draws whose Gini is undefined (a bootstrap curve with non-positive mean) are left
    out, as R's ``na.rm = TRUE`` does, with a warning giving their count.

    Grid points flagged in ``core.degenerate`` (no real variation) are left out of the sup
    statistics of the nullity and homogeneity tests; a range with no other point gives the
    statistic 0 and p-value 1.
    """
    inf = _from_draws(core, draws) if inference is None else inference
    out: list[TestResult] = []
    ranges = expand_test_ranges(core.q, test_ranges)
    for t in tests:
        if t == "none":
            continue
        if t == "gini":
            out.append(gini_test(core, inf, draws.nu_plus, draws.nu_minus, alpha=alpha))
            continue
        if t not in ("nullity", "homogeneity"):
            raise ValueError(f"Unknown test {t!r}; use 'nullity', 'homogeneity' or 'gini'.")
        stat: SupStatistic = "nullity" if t == "nullity" else "homogeneity"
        for lo, hi in ranges:
            out.append(
                inf.sup_test(
                    stat, (lo, hi), alpha=alpha, null=NULLS[t], label=f"{t}:[{lo:.2f}, {hi:.2f}]"
                )
            )
    return out
