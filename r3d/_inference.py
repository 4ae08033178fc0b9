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
from typing import Any

import numpy as np

from estkit import (
    EstkitWarning,
    MultiplierKind,
    RandomStateLike,
    bootstrap_pvalue,
    multiplier_process,
    order_statistic_critical_value,
    sup_statistics,
)
from estkit import uniform_band as shared_uniform_band
from estkit._bootstrap import ScoreBlocks
from r3d._estimate import R3DCore, default_memory_budget

__all__ = [
    "BootstrapDraws",
    "BootstrapTest",
    "UniformBand",
    "bootstrap_draws",
    "expand_test_ranges",
    "gini_from_quantile",
    "pointwise_band",
    "run_tests",
    "uniform_band",
]


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


@dataclass(frozen=True)
class UniformBand:
    """Uniform confidence band ``tau(q) +/- crit`` (constant width).

    Attributes
    ----------
    lower, upper : ndarray, shape (m,)
    crit : float
        Critical value (a quantile of the bootstrap sup-statistics).
    sup_stats : ndarray, shape (B,)
        ``max_q |G_b(q)|`` per draw.
    alpha : float
    """

    lower: np.ndarray
    upper: np.ndarray
    crit: float
    sup_stats: np.ndarray
    alpha: float


@dataclass(frozen=True)
class BootstrapTest:
    """One hypothesis test.

    Attributes
    ----------
    test : str
        ``"nullity"``, ``"homogeneity"`` or ``"gini"``.
    q_range : tuple of float
        Quantile range tested (``(min q, max q)`` of the grid for ``"gini"``).
    label : str
        R3D's label, e.g. ``"nullity:[0.05, 0.95]"``.
    statistic : float
    crit : float
        Critical value at level ``alpha``.
    p_value : float
    boot_stats : ndarray, shape (B,)
        Bootstrap statistics the statistic is compared with.
    extra : dict
        Test-specific values (Gini coefficients above/below for ``"gini"``).
    """

    test: str
    q_range: tuple[float, float]
    label: str
    statistic: float
    crit: float
    p_value: float
    boot_stats: np.ndarray
    extra: dict


def bootstrap_draws(
    core: R3DCore,
    xi: np.ndarray | None = None,
    *,
    n_boot: int | None = None,
    kind: MultiplierKind = "gaussian",
    cluster: Any = None,
    rng: RandomStateLike = None,
    block_size: int | None = None,
    progress: bool | None = None,
    n_jobs: int | None = None,
    memory_budget: int | None = None,
) -> BootstrapDraws:
    """Bootstrap processes from given multipliers ``xi`` or from ``n_boot`` fresh draws.

    Parameters
    ----------
    core : R3DCore
        Output of :func:`r3d._estimate.estimate_r3d`.
    xi : array_like, shape (n, B), optional
        Multipliers (rows = units, columns = draws), e.g. i.i.d. N(0, 1).
    n_boot : int, optional
        Number of draws when ``xi`` is not given; multipliers are then generated block by
        block (never an ``n x B`` matrix at once) by :func:`estkit.multiplier_process`.
    kind, cluster, rng
        Multiplier distribution, cluster labels (one shared multiplier per cluster) and
        random generator, as in :func:`estkit.draw_multipliers`.
    block_size : int, optional
        Draws per block.
    progress : bool, optional
        Progress line for large ``n_boot`` (default: only in an interactive terminal).
    n_jobs : int, optional
        Blocks of draws in parallel through joblib (see :func:`estkit.multiplier_process`).
    memory_budget : int, optional
        Bytes of temporary arrays (blocks of multipliers, blocks of score rows; half of it
        for the multipliers); default the size of the ``(n, m)`` residual matrix, at
        least 64 MiB. Never changes the multipliers.

    Returns
    -------
    BootstrapDraws
    """
    m = core.q.size
    if memory_budget is None:
        memory_budget = default_memory_budget(core.n, m)
    # the score blocks take up to one (n, m) matrix: half the budget for multipliers
    memory_budget = max(1, memory_budget // 2)
    scores = _score_blocks(core, memory_budget)
    if xi is not None:
        X = np.asarray(xi, dtype=float)
        if X.ndim == 1:
            X = X[:, None]
        proc = multiplier_process(
            scores, multipliers=X, block_size=block_size, memory_budget=memory_budget
        )
    else:
        proc = multiplier_process(
            scores,
            n_boot,
            kind,
            cluster=cluster,
            rng=rng,
            block_size=block_size,
            progress=progress,
            n_jobs=n_jobs,
            memory_budget=memory_budget,
        )
    nu_p, nu_m = proc[:, :m], proc[:, m : 2 * m]
    nu_T = proc[:, 2 * m] if core.fuzzy else None
    G = nu_p - nu_m
    if core.fuzzy:
        D = float(core.first_stage)  # type: ignore[arg-type]
        G = (D * G - core.numerator[None, :] * nu_T[:, None]) / D**2  # type: ignore[index]
    deg = _degenerate(core)
    if deg.any():
        # no real variation at these grid points: the processes are exactly zero there
        nu_p, nu_m, G = nu_p.copy(), nu_m.copy(), G.copy()
        nu_p[:, deg] = nu_m[:, deg] = G[:, deg] = 0.0
    return BootstrapDraws(tau=G, nu_plus=nu_p, nu_minus=nu_m, nu_treatment=nu_T)


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
    for a in range(0, rows.size, step):
        r = rows[a : a + step]
        np.multiply(base[r], resid[r], out=vals[a : a + r.size])
    return rows, cols, vals


def _score_blocks(core: R3DCore, memory_budget: int | None) -> ScoreBlocks:
    """The bootstrap scores ``[w_+ e, w_- e, w_T e_T]`` as their non-zero blocks: each unit
    scores on its own side of the cutoff only, so memory is one ``(n, m)`` matrix at most
    (no ``(n, 2m + 1)`` dense matrix)."""
    m = core.q.size
    blocks = [
        _rows_block(core.weights_plus, core.resid, slice(0, m), memory_budget),
        _rows_block(core.weights_minus, core.resid, slice(m, 2 * m), memory_budget),
    ]
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


def _band_rule(compat: bool) -> str:
    """R3D's band uses the ceil((1-alpha)(B+1))-th order statistic; the default the
    inverse empirical CDF (the ceil((1-alpha)B)-th)."""
    return "ceil" if compat else "inverse_cdf"


def uniform_band(
    core: R3DCore,
    draws: BootstrapDraws,
    alpha: float = 0.05,
    *,
    compat: bool | None = None,
    studentize: bool = False,
) -> UniformBand:
    """Uniform band ``tau +/- c s(q)`` from the bootstrap sup-statistics of ``G_b``.

    ``s(q) = 1`` (constant width, the paper's and R3D's band) or, with ``studentize=True``,
    the bootstrap standard deviation at ``q``. ``compat=True`` (default: ``core.compat``)
    uses R3D's rule ``c =`` the ``ceil((1 - alpha)(B + 1))``-th order statistic (capped at
    ``B``; R returns NA there); the default uses the ``(1 - alpha)`` empirical quantile
    (``ceil((1 - alpha) B)``-th order statistic). Computed by :func:`estkit.uniform_band`.
    """
    cm = core.compat if compat is None else bool(compat)
    deg = _degenerate(core)
    if not deg.any():
        lo, hi, c, scale = shared_uniform_band(
            core.tau, draws.tau, alpha, studentize=studentize, rule=_band_rule(cm)
        )
        sup = sup_statistics(draws.tau, scale=scale)
        return UniformBand(lower=lo, upper=hi, crit=c, sup_stats=sup, alpha=alpha)
    # degenerate grid points: band exactly [0, 0], left out of the sup statistics
    lo, hi = np.zeros(core.q.size), np.zeros(core.q.size)
    live = ~deg
    if not live.any():
        B = draws.tau.shape[0]
        return UniformBand(lower=lo, upper=hi, crit=0.0, sup_stats=np.zeros(B), alpha=alpha)
    lo_l, hi_l, c, scale = shared_uniform_band(
        core.tau[live], draws.tau[:, live], alpha, studentize=studentize, rule=_band_rule(cm)
    )
    lo[live], hi[live] = lo_l, hi_l
    sup = sup_statistics(draws.tau[:, live], scale=scale)
    return UniformBand(lower=lo, upper=hi, crit=c, sup_stats=sup, alpha=alpha)


def pointwise_band(
    core: R3DCore, draws: BootstrapDraws, alpha: float = 0.05, *, compat: bool | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pointwise intervals ``tau(q) +/- c(q)``, ``c(q)`` a quantile of ``|G_b(q)|``.

    Each quantile level gets its own critical value: the ``(1 - alpha)`` quantile of the
    bootstrap draws ``|G_b(q)|`` at that level, with the same order-statistic rule as
    :func:`uniform_band` (``compat`` defaults to ``core.compat``). The intervals cover
    ``tau(q)`` at each ``q`` separately, not jointly; they are never wider than the
    uniform band.

    Returns
    -------
    lower, upper, crit : ndarray, shape (m,)
    """
    if not 0 < alpha < 1:
        raise ValueError(f"`alpha` must lie in (0, 1); got {alpha}.")
    cm = core.compat if compat is None else bool(compat)
    rule = _band_rule(cm)
    absd = np.abs(draws.tau)
    c = np.array(
        [order_statistic_critical_value(absd[:, j], alpha, rule) for j in range(absd.shape[1])]
    )
    return core.tau - c, core.tau + c, c


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


def run_tests(
    core: R3DCore,
    draws: BootstrapDraws,
    tests: Sequence[str] = ("nullity", "homogeneity"),
    *,
    test_ranges: Sequence[Sequence[float]] | None = None,
    alpha: float = 0.05,
    compat: bool | None = None,
) -> list[BootstrapTest]:
    """Nullity, homogeneity and Gini-equality tests from the bootstrap draws.

    * nullity on ``[a, b]``: ``S = max |tau(q)|``, draws ``max |G_b(q)|``;
    * homogeneity: ``S = max |tau(q) - mean tau|``, draws ``max |G_b(q) - mean G_b|``
      (each draw centred at its own mean over the tested grid points);
    * gini: ``S = |Gini(m_+) - Gini(m_-)|`` on the full grid.

    ``compat=True`` (default ``core.compat``) follows R3D 28744db: critical value = type-7
    ``(1 - alpha)`` quantile of the draws, p-value = share of draws ``>= S`` (no +1), and
    the Gini draws are ``Gini(m_+ + nu_+) - Gini(m_- + nu_-)`` compared in absolute value
    with ``S`` *without* centring (their critical value is the type-7 quantile of
    ``|D_b|``). The default uses the inverse-empirical-CDF quantile, the p-value
    ``(1 + #{draws >= S}) / (B + 1)``, and centres the Gini draws at the estimate
    (``|D_b - D_hat|``), which is the bootstrap distribution of ``|D_hat - D|`` under the
    null. Draws whose Gini is undefined (a bootstrap curve with non-positive mean) are left
    out, as R's ``na.rm = TRUE`` does, with a warning giving their count.

    Grid points flagged in ``core.degenerate`` (no real variation) are left out of the sup
    statistics of the nullity and homogeneity tests; a range with no other point gives the
    statistic 0 and p-value 1.
    """
    cm = core.compat if compat is None else bool(compat)
    q = core.q
    G = draws.tau
    deg = _degenerate(core)
    out: list[BootstrapTest] = []

    def crit_p(stat: float, boot: np.ndarray) -> tuple[float, float]:
        # R3D: type-7 quantile and the plain share of draws >= stat; default: inverse
        # empirical CDF and the (1 + #) / (B + 1) p-value
        rule = "linear" if cm else "inverse_cdf"
        crit = order_statistic_critical_value(boot, alpha, rule)
        return crit, bootstrap_pvalue(stat, boot, plus_one=not cm)

    ranges = expand_test_ranges(q, test_ranges)
    for t in tests:
        if t == "none":
            continue
        if t == "gini":
            ga = float(gini_from_quantile(q, core.plus))
            gb = float(gini_from_quantile(q, core.minus))
            if not (np.isfinite(ga) and np.isfinite(gb)):
                raise ValueError(
                    "The Gini test is undefined here: a boundary quantile function has a "
                    "non-positive mean (the Gini coefficient needs a positive mean outcome)."
                )
            diff = ga - gb
            bd = gini_from_quantile(q, core.plus[None, :] + draws.nu_plus) - gini_from_quantile(
                q, core.minus[None, :] + draws.nu_minus
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
            stat = abs(diff)
            if cm:
                # R3D 28744db: type-7 quantile of |D_b| (draws not centred)
                boot = np.abs(bd)
                crit = order_statistic_critical_value(boot, alpha, "linear")
                pv = bootstrap_pvalue(stat, boot, plus_one=False)
            else:
                boot = np.abs(bd - diff)
                crit, pv = crit_p(stat, boot)
            out.append(
                BootstrapTest(
                    "gini",
                    (float(q.min()), float(q.max())),
                    "gini:full_sample",
                    stat,
                    crit,
                    pv,
                    boot,
                    {"gini_above": ga, "gini_below": gb, "gini_diff": diff},
                )
            )
            continue
        if t not in ("nullity", "homogeneity"):
            raise ValueError(f"Unknown test {t!r}; use 'nullity', 'homogeneity' or 'gini'.")
        for lo, hi in ranges:
            idx = (q >= lo) & (q <= hi)
            if not idx.any():
                raise ValueError(f"No quantile of the grid lies in the test range [{lo}, {hi}].")
            idx &= ~deg
            tr, Gr = core.tau[idx], G[:, idx]
            if not idx.any():  # only degenerate points: no effect can be measured
                boot = np.zeros(G.shape[0])
                out.append(
                    BootstrapTest(t, (lo, hi), f"{t}:[{lo:.2f}, {hi:.2f}]", 0.0, 0.0, 1.0, boot, {})
                )
                continue
            if t == "nullity":
                stat = float(np.max(np.abs(tr)))
                boot = np.max(np.abs(Gr), axis=1)
            else:
                stat = float(np.max(np.abs(tr - tr.mean())))
                boot = np.max(np.abs(Gr - Gr.mean(axis=1, keepdims=True)), axis=1)
            crit, pv = crit_p(stat, boot)
            out.append(
                BootstrapTest(t, (lo, hi), f"{t}:[{lo:.2f}, {hi:.2f}]", stat, crit, pv, boot, {})
            )
    return out
