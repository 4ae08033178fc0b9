"""Bootstrap engines: multiplier (wild/score), pairs and cluster bootstrap, and the
interval, band and p-value rules built on their draws.

Multiplier bootstrap of a linear statistic
------------------------------------------
For an estimator with (approximate) linear representation
``theta_hat - theta = sum_i s_i`` with per-unit score rows ``s_i`` (an ``(n, m)`` matrix
over an index grid of size ``m``), the bootstrap process is
``T*_b = sum_i xi_ib s_i`` with i.i.d. mean-zero, unit-variance multipliers ``xi``.
It is one matrix product per block of draws, ``(B_blk, n) @ (n, m)``: memory is
``O(B_blk * n + B * m)``, never ``B * n * m``. With clusters, scores are first summed
within cluster and one multiplier is drawn per cluster.

Scores that vanish on whole blocks of units (each unit of an RD design scores on one side
of the cutoff only) are multiplied on their non-zero rows only.

Multipliers come in chunks of 64 draws, each chunk from its own independent stream
spawned from ``rng`` (``Generator.spawn``). Chunks are generated in parallel threads (NumPy
releases the GIL while filling arrays), and the multipliers do not depend on the block
size or the number of threads: ``multiplier_process(s, B, rng=0)`` and
``draw_multipliers(n, B, rng=0)`` use the same multipliers for every ``block_size``
(results agree up to floating-point summation order).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from math import ceil, sqrt
from typing import Any, Literal

import numpy as np

from estkit._parallel import _progress, _want_progress
from estkit._random import RandomStateLike, check_random_state, spawn
from estkit._validation import check_alpha, check_int, check_option

__all__ = [
    "CriticalValueRule",
    "MultiplierKind",
    "bootstrap_indices",
    "bootstrap_pvalue",
    "cluster_codes",
    "draw_multipliers",
    "multiplier_process",
    "order_statistic_critical_value",
    "pairs_bootstrap",
    "percentile_interval",
    "studentized_interval",
    "sup_statistics",
    "uniform_band",
]

MultiplierKind = Literal["gaussian", "rademacher", "mammen"]

_MEM_BUDGET_BYTES = 256 * 2**20  # per block of multipliers
_CHUNK = 64  # draws per independent random stream


def _n_threads() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def _draw_chunks(
    streams: list[np.random.Generator], first: int, b: int, kind: str, n: int
) -> np.ndarray:
    """Draws ``first .. first + b - 1`` as a (b, n) array.

    Draw ``d`` comes from stream ``d // 64``; each stream is consumed in order, so blocks
    must be requested in increasing order of ``first`` (as the callers do).
    """
    out = np.empty((b, n))
    jobs = []
    a = first
    while a < first + b:
        end = min((a // _CHUNK + 1) * _CHUNK, first + b)
        jobs.append((streams[a // _CHUNK], a - first, end - a))
        a = end

    def work(job: tuple[np.random.Generator, int, int]) -> None:
        g, start, size = job
        out[start : start + size] = _draw(g, kind, (size, n))

    if len(jobs) == 1 or _n_threads() == 1:
        for job in jobs:
            work(job)
    else:
        with ThreadPoolExecutor(max_workers=min(_n_threads(), len(jobs))) as ex:
            list(ex.map(work, jobs))
    return out


def _streams(gen: np.random.Generator, n_boot: int) -> list[np.random.Generator]:
    return gen.spawn(-(-n_boot // _CHUNK))


def cluster_codes(cluster: Any, n: int) -> tuple[np.ndarray, int]:
    """Integer codes ``0..G-1`` for cluster labels of any hashable type, and ``G``.

    Labels are compared as they are (``1`` and ``"1"`` are different clusters); missing
    labels (None, NaN) raise a ValueError naming ``cluster``.
    """
    import pandas as pd

    arr = np.asarray(cluster, dtype=object) if not isinstance(cluster, np.ndarray) else cluster
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(
            f"`cluster` must be one label per unit (length {n}); got shape {np.shape(arr)}."
        )
    codes, uniques = pd.factorize(pd.Series(arr, dtype=object), sort=False)
    if np.any(codes < 0):
        raise ValueError(
            f"`cluster` is missing (None/NaN) for {int(np.sum(codes < 0))} unit(s); give every "
            "unit a cluster."
        )
    return codes.astype(np.intp), len(uniques)


def _draw(rng: np.random.Generator, kind: str, shape: tuple[int, int]) -> np.ndarray:
    if kind == "gaussian":
        return rng.standard_normal(shape)
    if kind == "rademacher":
        return rng.integers(0, 2, size=shape, dtype=np.int8).astype(float) * 2.0 - 1.0
    # Mammen's two-point distribution: mean 0, variance 1, third moment 1
    s5 = sqrt(5.0)
    lo, hi = -(s5 - 1.0) / 2.0, (s5 + 1.0) / 2.0
    p_lo = (s5 + 1.0) / (2.0 * s5)
    return np.where(rng.random(shape) < p_lo, lo, hi)


def draw_multipliers(
    n: int,
    n_boot: int,
    kind: MultiplierKind = "gaussian",
    *,
    cluster: Any = None,
    rng: RandomStateLike = None,
) -> np.ndarray:
    """Draw an ``(n, n_boot)`` multiplier matrix (units in rows, draws in columns).

    Parameters
    ----------
    n : int
        Number of units.
    n_boot : int
        Number of bootstrap draws ``B``.
    kind : {"gaussian", "rademacher", "mammen"}
        Multiplier distribution (mean 0, variance 1).
    cluster : array-like of shape (n,), optional
        Cluster labels; units in one cluster share a multiplier.
    rng : None, int, SeedSequence or Generator

    Examples
    --------
    >>> xi = draw_multipliers(4, 3, "rademacher", cluster=[0, 0, 1, 1], rng=1)
    >>> xi.shape, bool((xi[0] == xi[1]).all())
    ((4, 3), True)
    """
    n = check_int(n, "n", minimum=1)
    n_boot = check_int(n_boot, "n_boot", minimum=1)
    kind = check_option(kind, "kind", MultiplierKind)
    streams = _streams(check_random_state(rng, "rng"), n_boot)
    if cluster is None:
        return _draw_chunks(streams, 0, n_boot, kind, n).T
    codes, g = cluster_codes(cluster, n)
    return _draw_chunks(streams, 0, n_boot, kind, g).T[codes]


@dataclass(frozen=True)
class ScoreBlocks:
    """A block-sparse ``(n_units, n_columns)`` score matrix held as its non-zero blocks.

    Block ``(rows, cols, values)`` puts ``values`` (shape ``(len(rows), len(cols))``) at
    rows ``rows`` and columns ``cols`` (index arrays or slices); blocks with overlapping
    cells add up. :func:`multiplier_process` accepts it in place of a dense matrix, so a
    caller whose units score on disjoint column groups (the two sides of an RD cutoff)
    never forms the dense matrix: memory is the number of non-zero cells.
    """

    n_units: int
    n_columns: int
    blocks: Sequence[tuple[Any, Any, np.ndarray]]


def _support_groups(scores: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """Group the columns of ``scores`` by their set of non-zero rows.

    Returns ``[(rows, cols), ...]`` when multiplying only the non-zero rows saves at least
    a fifth of the work (e.g. R3D's two sides of the cutoff: each unit scores on one side
    only), else None (one dense product).
    """
    n, m = scores.shape
    if m < 2 or n < 64:
        return None
    nz = scores != 0
    packed = np.packbits(nz, axis=0)  # (ceil(n / 8), m): one byte string per column
    _, first, inverse = np.unique(packed, axis=1, return_index=True, return_inverse=True)
    groups = []
    work = 0
    for g in range(first.size):
        cols = np.flatnonzero(inverse.ravel() == g)
        rows = np.flatnonzero(nz[:, cols[0]])
        groups.append((rows, cols))
        work += rows.size * cols.size
    return groups if work <= 0.8 * n * m else None


def _as_blocks(scores: np.ndarray | ScoreBlocks) -> ScoreBlocks:
    """Dense scores as one block, or as their non-zero column groups (extracted once)."""
    if isinstance(scores, ScoreBlocks):
        return scores
    n, m = scores.shape
    groups = _support_groups(scores)
    if groups is None:
        return ScoreBlocks(n, m, [(slice(None), slice(None), scores)])
    blocks = [(r, c, scores[np.ix_(r, c)]) for r, c in groups if r.size]
    return ScoreBlocks(n, m, blocks)


def _cluster_blocks(sb: ScoreBlocks, codes: np.ndarray, g: int) -> ScoreBlocks:
    """Scores summed within clusters (rows become cluster codes), block by block."""
    out = []
    for rows, cols, vals in sb.blocks:
        c = codes[rows]
        members, inv = np.unique(c, return_inverse=True)
        agg = np.zeros((members.size, vals.shape[1]))
        np.add.at(agg, inv.ravel(), vals)
        out.append((members, cols, agg))
    return ScoreBlocks(g, sb.n_columns, out)


def _apply(xi_t: np.ndarray, sb: ScoreBlocks) -> np.ndarray:
    """``xi_t @ scores`` for a (b, n) block of multipliers, block by non-zero block."""
    blocks = sb.blocks
    if len(blocks) == 1 and isinstance(blocks[0][0], slice) and blocks[0][0] == slice(None):
        rows, cols, vals = blocks[0]
        if isinstance(cols, slice) and cols == slice(None):
            return xi_t @ vals
    out = np.zeros((xi_t.shape[0], sb.n_columns))
    for rows, cols, vals in blocks:
        # (m, r) @ (r, b) keeps the product's threads busy on the long dimension (the
        # (b, r) @ (r, m) form of a few draws stalls multithreaded BLAS on a loaded machine)
        out[:, cols] += (vals.T @ xi_t[:, rows].T).T
    return out


def _block_size(
    n: int,
    n_boot: int,
    block_size: int | None,
    memory_budget: int | None = None,
    copies: int = 1,
) -> int:
    if block_size is not None:
        return max(1, min(int(block_size), n_boot))
    if memory_budget is None:  # 256 MiB per block of multipliers
        return max(1, min(n_boot, _MEM_BUDGET_BYTES // (8 * max(n, 1))))
    return max(1, min(n_boot, int(memory_budget) // (8 * max(n, 1) * copies)))


def multiplier_process(
    scores: np.ndarray | ScoreBlocks,
    n_boot: int | None = None,
    kind: MultiplierKind = "gaussian",
    *,
    cluster: Any = None,
    multipliers: np.ndarray | None = None,
    rng: RandomStateLike = None,
    block_size: int | None = None,
    reducer: Callable[[np.ndarray], np.ndarray] | None = None,
    progress: bool | None = None,
    n_jobs: int | None = None,
    memory_budget: int | None = None,
) -> np.ndarray:
    """Bootstrap draws ``T*_b = sum_i xi_ib s_i`` of a linear statistic, computed in blocks.

    Parameters
    ----------
    scores : ndarray of shape (n, m), or ScoreBlocks
        Per-unit score (influence) rows, dense or as their non-zero blocks
        (:class:`ScoreBlocks`, which avoids forming a mostly-zero dense matrix).
    n_boot : int, optional
        Number of draws; required unless ``multipliers`` is given.
    kind : {"gaussian", "rademacher", "mammen"}
    cluster : array-like of shape (n,), optional
        Cluster labels: scores are summed within clusters and one multiplier is drawn per
        cluster. Ignored when ``multipliers`` is given (pass a matrix with equal rows).
    multipliers : ndarray of shape (n, B), optional
        Caller-supplied multipliers for deterministic results.
    rng : None, int, SeedSequence or Generator
    block_size : int, optional
        Draws per block; by default as many as fit in ``memory_budget``.
    reducer : callable, optional
        Applied to each ``(B_blk, m)`` block (e.g. a sup-norm); its outputs are
        concatenated, so only the reduced draws are kept in memory.
    progress : bool, optional
        Progress line over blocks on stderr; default only in an interactive terminal
        (never under pytest or CI).
    n_jobs : int, optional
        Run blocks of generated draws in parallel with joblib (``-1``: all cores); with a
        ``joblib.parallel_backend("dask")`` context they run on a Dask cluster. Results are
        identical to the serial run (each block owns whole random streams).
    memory_budget : int, optional
        Bytes of multipliers held at once (a block of draws and its row selections);
        default: blocks of 256 MiB. It sets the number of draws per block, never the
        draws themselves.

    Returns
    -------
    ndarray of shape (B, m), or the concatenated reducer outputs.

    Examples
    --------
    >>> s = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 1.0]])
    >>> xi = np.array([[1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])
    >>> multiplier_process(s, multipliers=xi)
    array([[ 2., -1.],
           [-2.,  2.]])
    """
    if isinstance(scores, ScoreBlocks):
        sb = scores
    else:
        dense = np.asarray(scores, dtype=float)
        if dense.ndim == 1:
            dense = dense[:, None]
        sb = _as_blocks(dense)
    n = sb.n_units
    out: list[np.ndarray] = []
    if multipliers is not None:
        xi = np.asarray(multipliers, dtype=float)
        if xi.ndim != 2 or xi.shape[0] != n:
            raise ValueError(
                f"`multipliers` must have shape (n_units, B) = ({n}, B); got {xi.shape}."
            )
        if not np.all(np.isfinite(xi)):
            raise ValueError("`multipliers` contains non-finite values.")
        bs = _block_size(n, xi.shape[1], block_size, memory_budget, 2)
        for start in range(0, xi.shape[1], bs):
            blk = _apply(xi[:, start : start + bs].T, sb)
            out.append(reducer(blk) if reducer else blk)
        return np.concatenate(out, axis=0)
    if n_boot is None:
        raise ValueError("Pass `n_boot` (number of bootstrap draws) or a `multipliers` matrix.")
    n_boot = check_int(n_boot, "n_boot", minimum=1)
    kind = check_option(kind, "kind", MultiplierKind)
    streams = _streams(check_random_state(rng, "rng"), n_boot)
    if cluster is not None:
        codes, g = cluster_codes(cluster, n)
        sb = _cluster_blocks(sb, codes, g)
        n = g
    bs = _block_size(n, n_boot, block_size, memory_budget, 2)
    if n_jobs not in (None, 1):
        from joblib import Parallel, delayed

        bs = max(_CHUNK, bs - bs % _CHUNK)  # blocks own whole streams, so order is free

        def one(start: int) -> np.ndarray:
            b = min(bs, n_boot - start)
            blk = _apply(_draw_chunks(streams, start, b, kind, n), sb)
            return reducer(blk) if reducer else blk

        verbose = 5 if _want_progress(progress) else 0
        parts = Parallel(n_jobs=n_jobs, verbose=verbose)(
            delayed(one)(start) for start in range(0, n_boot, bs)
        )
        return np.concatenate(parts, axis=0)
    show = _want_progress(progress) and n_boot > bs
    for start in range(0, n_boot, bs):
        b = min(bs, n_boot - start)
        blk = _apply(_draw_chunks(streams, start, b, kind, n), sb)
        out.append(reducer(blk) if reducer else blk)
        if show:
            _progress(start + b, n_boot, "bootstrap")
    return np.concatenate(out, axis=0)


def sup_statistics(
    draws: np.ndarray, *, center: np.ndarray | None = None, scale: np.ndarray | None = None
) -> np.ndarray:
    """Per-draw sup-norm ``max_j |draws_bj - center_j| / scale_j`` of an ``(B, m)`` array."""
    d = np.asarray(draws, dtype=float)
    if center is not None:
        d = d - center
    d = np.abs(d)
    if scale is not None:
        d = d / np.asarray(scale, dtype=float)
    return d.max(axis=1)


CriticalValueRule = Literal["inverse_cdf", "ceil", "linear"]


def order_statistic_critical_value(
    stats: np.ndarray, alpha: float, rule: CriticalValueRule = "inverse_cdf"
) -> float:
    """(1 - alpha) critical value of ``B`` bootstrap statistics.

    Rules
    -----
    ``"inverse_cdf"`` (default)
        The ``ceil((1 - alpha) B)``-th order statistic: the inverse of the bootstrap
        distribution function at ``1 - alpha``.
    ``"ceil"``
        The ``ceil((1 - alpha)(B + 1))``-th order statistic, capped at ``B`` (R3D's band
        rule; returns the largest statistic when ``B`` is too small for the level).
    ``"linear"``
        The type-7 sample quantile (NumPy's default), as in R's ``quantile``.

    Examples
    --------
    >>> s = np.arange(1.0, 101.0)
    >>> [order_statistic_critical_value(s, 0.05, r) for r in ("inverse_cdf", "ceil", "linear")]
    [95.0, 96.0, 95.05]
    """
    alpha = check_alpha(alpha)
    rule = check_option(rule, "rule", CriticalValueRule)
    s = np.sort(np.asarray(stats, dtype=float))
    if s.size == 0:
        raise ValueError("No bootstrap statistics: `stats` is empty.")
    if rule == "linear":
        return float(np.quantile(s, 1.0 - alpha))
    b = s.size + 1 if rule == "ceil" else s.size
    # the tiny offset keeps (1 - alpha) B = 95.0 from rounding up to 96 in floating point
    k = min(max(ceil((1.0 - alpha) * b - 1e-9), 1), s.size)
    return float(s[k - 1])


def uniform_band(
    estimate: np.ndarray,
    draws: np.ndarray,
    alpha: float = 0.05,
    *,
    studentize: bool = False,
    rule: CriticalValueRule = "inverse_cdf",
) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """Uniform (sup-t) confidence band over a grid from multiplier-bootstrap draws.

    Parameters
    ----------
    estimate : ndarray of shape (m,)
    draws : ndarray of shape (B, m)
        Bootstrap draws of ``estimate - truth`` (centred processes).
    alpha : float
    studentize : bool
        Scale each grid point by its bootstrap standard deviation (band width varies along
        the grid) instead of a constant-width band.
    rule : {"inverse_cdf", "ceil", "linear"}
        Order-statistic rule for the critical value (see
        :func:`order_statistic_critical_value`).

    Returns
    -------
    lower, upper : ndarray of shape (m,)
    critical_value : float
    scale : ndarray of shape (m,)
        Pointwise scale used (ones for a constant-width band).
    """
    est = np.asarray(estimate, dtype=float)
    d = np.asarray(draws, dtype=float)
    scale = np.ones_like(est)
    if studentize:
        scale = d.std(axis=0, ddof=1)
        scale = np.where(scale > 0, scale, np.finfo(float).tiny)
    stats = sup_statistics(d, scale=scale)
    cv = order_statistic_critical_value(stats, alpha, rule)
    return est - cv * scale, est + cv * scale, cv, scale


def bootstrap_pvalue(observed: float, stats: np.ndarray, *, plus_one: bool = True) -> float:
    """Bootstrap p-value ``P*(T* >= T)``.

    With ``plus_one=True`` (default) the p-value is ``(1 + #{T*_b >= T}) / (B + 1)``, which is
    never zero and is exact-size for exchangeable draws; ``plus_one=False`` gives the plain
    share ``#{T*_b >= T} / B``.
    """
    s = np.asarray(stats, dtype=float)
    k = int(np.count_nonzero(s >= observed))
    return (1 + k) / (s.size + 1) if plus_one else k / s.size


def percentile_interval(
    estimate: np.ndarray, draws: np.ndarray, alpha: float = 0.05, *, kind: str = "percentile"
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise percentile (``kind="percentile"``) or basic (``"basic"``) intervals.

    ``draws`` are bootstrap replicates of the estimate itself, shape ``(B, m)`` or ``(B,)``.
    """
    alpha = check_alpha(alpha)
    d = np.asarray(draws, dtype=float)
    lo, hi = np.quantile(d, [alpha / 2.0, 1.0 - alpha / 2.0], axis=0)
    if kind == "percentile":
        return lo, hi
    if kind == "basic":
        est = np.asarray(estimate, dtype=float)
        return 2.0 * est - hi, 2.0 * est - lo
    raise ValueError(f"`kind` must be 'percentile' or 'basic'; got {kind!r}.")


def studentized_interval(
    estimate: np.ndarray,
    std_error: np.ndarray,
    t_draws: np.ndarray,
    alpha: float = 0.05,
) -> tuple[np.ndarray, np.ndarray]:
    """Bootstrap-t intervals from draws of ``(theta*_b - theta_hat) / se*_b``."""
    alpha = check_alpha(alpha)
    q_lo, q_hi = np.quantile(
        np.asarray(t_draws, dtype=float), [alpha / 2.0, 1.0 - alpha / 2.0], axis=0
    )
    est, se = np.asarray(estimate, dtype=float), np.asarray(std_error, dtype=float)
    return est - q_hi * se, est - q_lo * se


def bootstrap_indices(
    n: int, n_boot: int, *, cluster: Any = None, rng: RandomStateLike = None
) -> Iterator[np.ndarray]:
    """Yield ``n_boot`` resampling index arrays (pairs bootstrap, or whole clusters)."""
    gen = check_random_state(rng, "rng")
    if cluster is None:
        for _ in range(n_boot):
            yield gen.integers(0, n, size=n)
        return
    codes, g = cluster_codes(cluster, n)
    members = np.split(
        np.argsort(codes, kind="stable"), np.cumsum(np.bincount(codes, minlength=g))[:-1]
    )
    for _ in range(n_boot):
        pick = gen.integers(0, g, size=g)
        yield np.concatenate([members[c] for c in pick])


def pairs_bootstrap(
    statistic: Callable[[np.ndarray], Any],
    n: int,
    n_boot: int,
    *,
    cluster: Any = None,
    rng: RandomStateLike = None,
    n_jobs: int | None = None,
) -> list[Any]:
    """Nonparametric (pairs or cluster) bootstrap of ``statistic(indices)``.

    ``statistic`` receives an index array into the ``n`` original units and returns any
    value. With ``n_jobs`` the replications run in parallel through joblib; each draw has
    its own random stream, so results do not depend on ``n_jobs``.

    Examples
    --------
    >>> x = np.arange(10.0)
    >>> reps = pairs_bootstrap(lambda idx: x[idx].mean(), 10, 5, rng=0)
    >>> len(reps)
    5
    """
    n = check_int(n, "n", minimum=1)
    n_boot = check_int(n_boot, "n_boot", minimum=1)
    streams = spawn(rng, n_boot, "rng")

    def one(g: np.random.Generator) -> Any:
        return statistic(next(bootstrap_indices(n, 1, cluster=cluster, rng=g)))

    if n_jobs is None or n_jobs == 1:
        return [one(g) for g in streams]
    from joblib import Parallel, delayed

    return list(Parallel(n_jobs=n_jobs)(delayed(one)(g) for g in streams))
