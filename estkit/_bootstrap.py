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
releases the GIL while filling arrays); Gaussian and Mammen multipliers are drawn draw by
draw by a pool of threads that also multiply the finished blocks (:func:`_streamed_process`). The
multipliers do not depend on the block size or the number of threads:
``multiplier_process(s, B, rng=0)`` and ``draw_multipliers(n, B, rng=0)`` use the same
multipliers for every ``block_size`` (results agree up to floating-point summation order).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from math import ceil, sqrt
from typing import Any, Literal

import numpy as np

from estkit._deprecation import renamed_arguments
from estkit._parallel import (
    _progress,
    _want_progress,
    available_cores,
    blas_single_thread,
    thread_map,
)
from estkit._random import RandomStateLike, check_random_state, spawn
from estkit._validation import (
    _as_float_array,
    align_by_label,
    check_alpha,
    check_bool,
    check_callable,
    check_finite,
    check_int,
    check_n_draws,
    check_n_jobs,
    check_option,
    check_optional_bool,
    check_scalar,
)
from estkit.exceptions import EstimationError

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
    """Threads for drawing multipliers: the cores this process may run on (at most 8)."""
    return min(available_cores(), 8)


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
        if kind == "gaussian":  # straight into the block (no temporary, no copy)
            g.standard_normal(out=out[start : start + size])
        else:
            out[start : start + size] = _draw(g, kind, (size, n))

    thread_map(work, jobs, _n_threads())
    return out


def _streams(gen: np.random.Generator, n_bootstrap: int) -> list[np.random.Generator]:
    return gen.spawn(-(-n_bootstrap // _CHUNK))


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


def _draws_matrix(a: Any, name: str, *, min_rows: int = 1) -> np.ndarray:
    """Door check of a (B, m) array of bootstrap draws: 2-D, non-empty, finite."""
    d = _as_float_array(a, name)
    if d.ndim != 2:
        raise ValueError(
            f"`{name}` must be a (B, m) array of bootstrap draws (one row per draw); got shape "
            f"{d.shape}."
        )
    if d.shape[0] < min_rows or d.shape[1] == 0:
        raise ValueError(f"`{name}` is empty (shape {d.shape}); no bootstrap draws to use.")
    _finite_draws(d, name)
    return d


def _finite_draws(d: np.ndarray, name: str) -> None:
    """A NaN or infinite draw has no place in an order statistic: refuse it, with the fix."""
    bad = ~np.isfinite(d)
    if bad.any():
        rows = np.flatnonzero(bad.reshape(d.shape[0], -1).any(axis=1)) if d.ndim else [0]
        raise ValueError(
            f"`{name}` contains non-finite values (NaN or infinite) in {len(rows)} bootstrap "
            f"draw(s), the first at row {int(rows[0])}; a bootstrap distribution with undefined "
            "draws has no valid critical value or p-value. Find why those draws are undefined "
            "(e.g. a degenerate resample) instead of passing them on."
        )


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


@renamed_arguments({"n_boot": "n_bootstrap"})
def draw_multipliers(
    n: int,
    n_bootstrap: int,
    kind: MultiplierKind = "gaussian",
    *,
    cluster: Any = None,
    rng: RandomStateLike = None,
) -> np.ndarray:
    """Draw an ``(n, n_bootstrap)`` multiplier matrix (units in rows, draws in columns).

    Parameters
    ----------
    n : int
        Number of units.
    n_bootstrap : int
        Number of bootstrap draws ``B``.
    kind : {"gaussian", "rademacher", "mammen"}
        Multiplier distribution (mean 0, variance 1).
    cluster : array-like of shape (n,), optional
        Cluster labels; units in one cluster share a multiplier.
    rng : None, int, SeedSequence or Generator
        Seed or generator (see :func:`estkit.check_random_state`).

    Returns
    -------
    numpy.ndarray of shape (n, n_bootstrap)
        Multipliers, one row per unit and one column per draw; rows of units in the same
        cluster are equal.

    Examples
    --------
    >>> xi = draw_multipliers(4, 3, "rademacher", cluster=[0, 0, 1, 1], rng=1)
    >>> xi.shape, bool((xi[0] == xi[1]).all())
    ((4, 3), True)
    """
    n = check_int(n, "n", minimum=1)
    n_bootstrap = check_int(n_bootstrap, "n_bootstrap", minimum=1)
    kind = check_option(kind, "kind", MultiplierKind)
    streams = _streams(check_random_state(rng, "rng"), n_bootstrap)
    if cluster is None:
        return _draw_chunks(streams, 0, n_bootstrap, kind, n).T
    codes, g = cluster_codes(cluster, n)
    return _draw_chunks(streams, 0, n_bootstrap, kind, g).T[codes]


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
    if _is_dense(sb):
        return xi_t @ sb.blocks[0][2]
    out = np.zeros((xi_t.shape[0], sb.n_columns))
    for rows, cols, vals in sb.blocks:
        # (m, r) @ (r, b) keeps the product's threads busy on the long dimension (the
        # (b, r) @ (r, m) form of a few draws stalls multithreaded BLAS on a loaded machine)
        out[:, cols] += (vals.T @ xi_t[:, rows].T).T
    return out


def _is_dense(sb: ScoreBlocks) -> bool:
    """Whether ``sb`` is one block covering every row and column (a dense score matrix)."""
    return len(sb.blocks) == 1 and _is_full(sb.blocks[0][0]) and _is_full(sb.blocks[0][1])


_SMALL_PRODUCT = 2**22  # b * r * m of a block product


def _product(xs: np.ndarray, vals: np.ndarray) -> np.ndarray:
    """``xs @ vals`` of a ``(b, r)`` block of multipliers and an ``(r, m)`` score block, for
    a one-thread BLAS (:func:`_streamed_process`).

    Large products run as ``(b, r) @ (r, m)``, a third faster there than the
    ``(m, r) @ (r, b)`` form of :func:`_apply`, with the same bits (OpenBLAS).
    Small ones (``b r m <= 2**22``, cheap either way) keep that form: OpenBLAS's small-matrix
    kernels (``b r m <= 1e6``) give the two forms different last bits.
    """
    if xs.shape[0] * xs.shape[1] * vals.shape[1] <= _SMALL_PRODUCT:
        return (vals.T @ xs.T).T
    return xs @ vals


def _fill(rng: np.random.Generator, kind: str, out: np.ndarray) -> None:
    """Fill ``out`` with multipliers of ``kind`` as :func:`_draw` would draw them.

    Only for the kinds whose generator consumes its stream value by value (``"gaussian"``,
    ``"mammen"``): filling a stream's ``(b, n)`` draws row by row then gives the same
    numbers as one ``_draw(rng, kind, (b, n))`` call. (Rademacher draws are not: NumPy's
    bounded integers are generated from 32-bit words split per call.)
    """
    if kind == "gaussian":
        rng.standard_normal(out=out)
        return
    rng.random(out=out)
    s5 = sqrt(5.0)
    lo, hi = -(s5 - 1.0) / 2.0, (s5 + 1.0) / 2.0
    out[...] = np.where(out < (s5 + 1.0) / (2.0 * s5), lo, hi)


def _is_full(rows: Any) -> bool:
    return isinstance(rows, slice) and rows == slice(None)


def _row_pick(rows: Any) -> slice | np.ndarray:
    """A block's rows as a slice or an index array (a boolean mask becomes its indices)."""
    if isinstance(rows, slice):
        return rows
    r = np.asarray(rows)
    return np.flatnonzero(r) if r.dtype.kind == "b" else r


def _disjoint_columns(sb: ScoreBlocks) -> bool:
    """Whether no two score blocks of ``sb`` share a column."""
    seen = np.zeros(sb.n_columns, dtype=bool)
    for _, cols, _ in sb.blocks:
        if seen[cols].any():
            return False
        seen[cols] = True
    return True


def _streamed_jobs(n_bootstrap: int, step: int) -> list[list[tuple[int, int]]]:
    """Blocks ``(first draw, size)`` of each random stream (64 draws), at most ``step``
    draws each (three where ``step`` is smaller) and never a single draw where the stream
    has more (a one-column product runs through another BLAS routine, with another
    summation order)."""
    jobs = []
    for a in range(0, n_bootstrap, _CHUNK):
        size = min(_CHUNK, n_bootstrap - a)
        k = max(1, min(-(-size // max(2, step)), size // 2))  # pieces of 2 draws or more
        cuts = [a + (size * i) // k for i in range(k + 1)]
        jobs.append([(cuts[i], cuts[i + 1] - cuts[i]) for i in range(k)])
    return jobs


def _streamed_process(
    streams: list[np.random.Generator],
    n_bootstrap: int,
    kind: str,
    sb: ScoreBlocks,
    memory_budget: int | None,
    block_size: int | None,
    show: bool,
) -> np.ndarray:
    """``multiplier_process``'s draws with generation, row selection and products shared by
    one pool of threads (one per core, each under a one-thread BLAS).

    Each worker takes the next task: the product of a drawn block with one score block
    if one is waiting (it frees memory), else the next block of draws of a random stream
    (64 draws each) that no other worker is drawing, the stream with the most draws left
    first (the short last stream ends the run). A block is drawn draw by draw: each
    draw's ``n`` multipliers go to the worker's ``(n,)`` buffer from which only the rows
    of the non-zero score blocks are kept, so no ``(b, n)`` block of multipliers is ever
    held; its products are GEMMs (:func:`_product`), one task per score block (so a
    worker with nothing left to draw shares the last products; blocks that share a column
    are one task, in block order). The multipliers are those
    of :func:`_draw_chunks` for ``"gaussian"`` and ``"mammen"`` (see :func:`_fill`) and
    the products those of :func:`_apply`, so the draws equal the block-by-block path's up
    to the BLAS's summation order (blocks of at least two draws: see
    :func:`_streamed_jobs`). Memory: at most one block of selected multipliers and one
    ``(n,)`` buffer per worker (a block is drawn only when no product is waiting; the
    blocks are reused), within ``memory_budget``: blocks are sized for two workers (the
    same blocks, hence the same last bits, on every machine), more workers run where the
    budget holds their blocks.
    """
    import threading

    n = sb.n_units
    dense = _is_dense(sb)
    picks = [_row_pick(r) for r, _, _ in sb.blocks]
    widths = [len(range(n)[r]) if isinstance(r, slice) else len(r) for r in picks]
    budget = _MEM_BUDGET_BYTES if memory_budget is None else int(memory_budget)
    per_draw = 8 * max(1, sum(widths))  # bytes of one draw's selected multipliers
    # blocks sized for two workers whatever the number of cores, so the products (and
    # their last bits) are the same on every machine; more workers where memory allows
    step = max(2, (budget - 2 * 8 * n) // (2 * per_draw))
    if block_size is not None:
        step = min(step, block_size)
    for r in picks:  # "wrap" below must never wrap: the block path's IndexError here
        if not isinstance(r, slice) and r.size and (r.min() < -n or r.max() >= n):
            raise IndexError(f"score block rows out of range for {n} units")
    # the products of one block of draws run in parallel, one task per score block, when
    # the blocks' columns are disjoint; blocks sharing a column add into the same cells,
    # so they run in one task, in block order (no lost update, the same sums every run)
    groups = (
        [[k] for k in range(len(picks))] if _disjoint_columns(sb) else [list(range(len(picks)))]
    )
    to_draw = [list(stream) for stream in _streamed_jobs(n_bootstrap, step)]
    fit = budget // (min(step, _CHUNK) * per_draw + 8 * n)
    n_workers = max(1, min(_n_threads(), sum(len(j) for j in to_draw), max(2, fit)))
    busy = [False] * len(to_draw)  # a stream is drawn by one worker at a time
    rows_max = max(b for stream in to_draw for _, b in stream)
    spare: list[list[np.ndarray]] = []  # blocks of selected multipliers, reused
    products: list[tuple[int, int, list[np.ndarray], list[int]]] = []  # (first, b, block, ks)
    left = {}  # first draw of a block -> its products not yet done
    cond = threading.Condition()
    failed: list[BaseException] = []
    done = [0]
    result = np.zeros((n_bootstrap, sb.n_columns))

    def next_task() -> tuple[str, Any] | None:
        with cond:
            while not failed:
                if products:
                    return "multiply", products.pop(0)
                free = [c for c, j in enumerate(to_draw) if j and not busy[c]]
                if free:
                    c = max(free, key=lambda c: (sum(b for _, b in to_draw[c]), -c))
                    busy[c] = True
                    # a free block exists: at most one block per worker is ever in use
                    block = spare.pop() if spare else [np.empty((rows_max, w)) for w in widths]
                    return "draw", (c, *to_draw[c].pop(0), block)
                if not any(busy):
                    return None
                cond.wait()
            return None

    def draw(
        g: np.random.Generator, b: int, block: list[np.ndarray], buf: np.ndarray | None
    ) -> None:
        """Draws of one block into ``block``'s first ``b`` rows."""
        sel = [a[:b] for a in block]  # C-contiguous views
        for d in range(b):
            if failed:  # another worker failed or the caller was interrupted
                break
            if dense:
                _fill(g, kind, sel[0][d])
                continue
            assert buf is not None
            _fill(g, kind, buf)
            for rows, out in zip(picks, sel, strict=True):
                if isinstance(rows, slice):
                    out[d] = buf[rows]
                else:  # valid indices: "wrap" skips the check's buffered copy
                    np.take(buf, rows, out=out[d], mode="wrap")

    def work() -> None:
        buf = None if dense else np.empty(n)
        try:
            while (task := next_task()) is not None:
                what, job = task
                if what == "draw":
                    c, first, b, block = job
                    draw(streams[c], b, block, buf)
                    with cond:
                        busy[c] = False
                        left[first] = len(groups)
                        products.extend((first, b, block, ks) for ks in groups)
                        cond.notify_all()
                    continue
                first, b, block, ks = job
                for k in ks:
                    _, cols, vals = sb.blocks[k]
                    if dense:
                        result[first : first + b] = block[k][:b] @ vals
                    else:
                        result[first : first + b, cols] += _product(block[k][:b], vals)
                with cond:
                    left[first] -= 1
                    if left[first] == 0:  # the block is free for the next draws
                        spare.append(block)
                        done[0] += b
                        if show:
                            _progress(done[0], n_bootstrap, "bootstrap")
        except BaseException as exc:  # handed to the calling thread, raised there
            with cond:
                failed.append(exc)
                cond.notify_all()

    # the workers keep the cores busy: a multi-threaded BLAS would only compete
    with blas_single_thread(), ThreadPoolExecutor(max_workers=n_workers) as pool:
        try:
            for f in [pool.submit(work) for _ in range(n_workers)]:
                f.result()
        except BaseException as exc:  # e.g. KeyboardInterrupt: the workers stop too
            with cond:
                failed.append(exc)
                cond.notify_all()
            raise
    if failed:
        raise failed[0]
    return result


def _block_size(
    n: int,
    n_bootstrap: int,
    block_size: int | None,
    memory_budget: int | None = None,
    copies: int = 1,
) -> int:
    if block_size is not None:
        return max(1, min(int(block_size), n_bootstrap))
    if memory_budget is None:  # 256 MiB per block of multipliers
        return max(1, min(n_bootstrap, _MEM_BUDGET_BYTES // (8 * max(n, 1))))
    return max(1, min(n_bootstrap, int(memory_budget) // (8 * max(n, 1) * copies)))


@renamed_arguments({"n_boot": "n_bootstrap"})
def multiplier_process(
    scores: np.ndarray | ScoreBlocks,
    n_bootstrap: int | None = None,
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
    n_bootstrap : int, optional
        Number of draws; required unless ``multipliers`` is given.
    kind : {"gaussian", "rademacher", "mammen"}, default "gaussian"
        Multiplier distribution (mean 0, variance 1).
    cluster : array-like of shape (n,), optional
        Cluster labels: scores are summed within clusters and one multiplier is drawn per
        cluster. Refused with ``multipliers`` (pass a matrix with equal rows instead).
    multipliers : ndarray of shape (n, B), optional
        Caller-supplied multipliers for deterministic results (``kind`` and ``rng`` are then
        unused).
    rng : None, int, SeedSequence or Generator
        Seed or generator (see :func:`estkit.check_random_state`).
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
    numpy.ndarray
        The draws, shape ``(B, m)``, or the concatenated reducer outputs.

    Examples
    --------
    >>> s = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 1.0]])
    >>> xi = np.array([[1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])
    >>> multiplier_process(s, multipliers=xi)
    array([[ 2., -1.],
           [-2.,  2.]])
    """
    if isinstance(scores, ScoreBlocks):  # internal callers: already validated blocks
        sb = scores
    else:
        aligned, _ = align_by_label(
            {"scores": scores, "cluster": cluster, "multipliers": multipliers}
        )
        scores, cluster, multipliers = aligned["scores"], aligned["cluster"], aligned["multipliers"]
        scores = _as_float_array(scores, "scores")
        if scores.ndim == 1:
            scores = scores[:, None]
        if scores.ndim != 2 or scores.shape[0] == 0:
            raise ValueError(
                f"`scores` must be an (n_units, m) array with at least one unit; got shape "
                f"{scores.shape}."
            )
        check_finite(scores, "scores")
        sb = _as_blocks(scores)
    if cluster is not None and hasattr(cluster, "to_numpy"):
        cluster = cluster.to_numpy()
    n = sb.n_units
    if block_size is not None:
        block_size = check_int(block_size, "block_size", minimum=1)
    if memory_budget is not None:
        memory_budget = check_int(memory_budget, "memory_budget", minimum=1)
    if reducer is not None:
        check_callable(reducer, "reducer")
    progress = check_optional_bool(progress, "progress")
    n_jobs = check_n_jobs(n_jobs)
    out: list[np.ndarray] = []
    if multipliers is not None:
        if cluster is not None:
            raise ValueError(
                "`cluster` and `multipliers` were both given: caller-supplied multipliers are "
                "used as they are, so `cluster` would be ignored. Pass one multiplier matrix "
                "with equal rows within each cluster, or `cluster` with `n_bootstrap`."
            )
        xi = _as_float_array(multipliers, "multipliers")
        if xi.ndim != 2 or xi.shape[0] != n or xi.shape[1] == 0:
            raise ValueError(
                f"`multipliers` must have shape (n_units, B) = ({n}, B); got {xi.shape}."
            )
        if n_bootstrap is not None and check_int(n_bootstrap, "n_bootstrap") != xi.shape[1]:
            raise ValueError(
                f"`n_bootstrap` = {n_bootstrap} conflicts with the {xi.shape[1]} columns of "
                "`multipliers`; pass one of them."
            )
        if not np.all(np.isfinite(xi)):
            raise ValueError("`multipliers` contains non-finite values.")
        bs = _block_size(n, xi.shape[1], block_size, memory_budget, 2)
        for start in range(0, xi.shape[1], bs):
            blk = _apply(xi[:, start : start + bs].T, sb)
            out.append(reducer(blk) if reducer else blk)
        return np.concatenate(out, axis=0)
    if n_bootstrap is None:
        raise ValueError(
            "Pass `n_bootstrap` (number of bootstrap draws) or a `multipliers` matrix."
        )
    n_bootstrap = check_int(n_bootstrap, "n_bootstrap", minimum=1)
    kind = check_option(kind, "kind", MultiplierKind)
    streams = _streams(check_random_state(rng, "rng"), n_bootstrap)
    if cluster is not None:
        codes, g = cluster_codes(cluster, n)
        sb = _cluster_blocks(sb, codes, g)
        n = g
    bs = _block_size(n, n_bootstrap, block_size, memory_budget, 2)
    if n_jobs not in (None, 1):
        from joblib import Parallel, delayed

        bs = max(_CHUNK, bs - bs % _CHUNK)  # blocks own whole streams, so order is free

        def one(start: int) -> np.ndarray:
            b = min(bs, n_bootstrap - start)
            blk = _apply(_draw_chunks(streams, start, b, kind, n), sb)
            return reducer(blk) if reducer else blk

        verbose = 5 if _want_progress(progress) else 0
        parts = Parallel(n_jobs=n_jobs, verbose=verbose)(
            delayed(one)(start) for start in range(0, n_bootstrap, bs)
        )
        return np.concatenate(parts, axis=0)
    show = _want_progress(progress) and n_bootstrap > bs
    # the streamed path on one core too (one worker; as fast as the blocks there): the
    # same draws bit for bit on every machine
    if reducer is None and kind != "rademacher" and sb.blocks:
        return _streamed_process(streams, n_bootstrap, kind, sb, memory_budget, block_size, show)
    for start in range(0, n_bootstrap, bs):
        b = min(bs, n_bootstrap - start)
        blk = _apply(_draw_chunks(streams, start, b, kind, n), sb)
        out.append(reducer(blk) if reducer else blk)
        if show:
            _progress(start + b, n_bootstrap, "bootstrap")
    return np.concatenate(out, axis=0)


def sup_statistics(
    draws: np.ndarray, *, center: np.ndarray | None = None, scale: np.ndarray | None = None
) -> np.ndarray:
    """Per-draw sup-norm ``max_j |draws_bj - center_j| / scale_j`` of an ``(B, m)`` array.

    ``draws`` must be finite (a NaN draw is refused: it would silently drop out of the
    maximum or poison it); ``center`` is finite and ``scale`` finite and strictly positive,
    each of shape ``(m,)`` (or scalar).

    Parameters
    ----------
    draws : array-like of shape (B, m)
        Bootstrap draws, one row per draw.
    center : array-like of shape (m,) or scalar, optional
        Subtracted from every draw before the absolute value; None means no centring.
    scale : array-like of shape (m,) or scalar, optional
        Divides each grid point; None means no scaling.

    Returns
    -------
    numpy.ndarray of shape (B,)
        The sup statistic of each draw.

    Raises
    ------
    ValueError
        If ``draws`` is not 2-D or holds non-finite values, ``center``/``scale`` have the
        wrong shape, ``scale`` is not strictly positive, or a statistic overflows.

    Examples
    --------
    >>> sup_statistics(np.array([[1.0, -3.0], [0.5, 0.25]]), scale=np.array([1.0, 2.0]))
    array([1.5, 0.5])
    """
    d = _draws_matrix(draws, "draws")
    m = d.shape[1]
    if center is not None:
        c = _grid_vector(center, "center", m)
        d = d - c
    d = np.abs(d)
    if scale is not None:
        sc = _grid_vector(scale, "scale", m)
        if np.any(sc <= 0):
            raise ValueError("`scale` must be strictly positive at every grid point.")
        with np.errstate(over="ignore"):
            d = d / sc
    out = d.max(axis=1)
    if not np.all(np.isfinite(out)):
        raise ValueError(
            "The sup statistics overflow the float range (|draws - center| / `scale` "
            "> 1.8e308); rescale `draws`, `center` and `scale` by a common factor."
        )
    return out


def _grid_vector(a: Any, name: str, m: int) -> np.ndarray:
    """A finite scalar or length-``m`` vector over the grid (door check)."""
    v = _as_float_array(a, name)
    if v.ndim > 1 or (v.ndim == 1 and v.shape[0] != m):
        raise ValueError(f"`{name}` must be a scalar or have shape ({m},); got {v.shape}.")
    check_finite(v, name)
    return v


CriticalValueRule = Literal["inverse_cdf", "ceil", "linear"]


def order_statistic_critical_value(
    stats: np.ndarray, alpha: float, rule: CriticalValueRule = "inverse_cdf"
) -> float:
    """(1 - alpha) critical value of ``B`` bootstrap statistics.

    Parameters
    ----------
    stats : array-like of shape (B,)
        Bootstrap statistics, one per draw (finite).
    alpha : float
        Significance level in (0, 1).
    rule : {"inverse_cdf", "ceil", "linear"}, default "inverse_cdf"
        Order-statistic rule (see Notes).

    Returns
    -------
    float
        The critical value.

    Raises
    ------
    ValueError
        If ``stats`` is empty, not 1-D, non-finite, or has fewer draws than ``alpha`` needs.

    Notes
    -----
    The rules:

    ``"inverse_cdf"`` (default)
        The ``ceil((1 - alpha) B)``-th order statistic: the inverse of the bootstrap
        distribution function at ``1 - alpha``.
    ``"ceil"``
        The ``ceil((1 - alpha)(B + 1))``-th order statistic (R3D's band rule).
    ``"linear"``
        The type-7 sample quantile (NumPy's default), as in R's ``quantile``.

    Every rule needs ``(B + 1) alpha >= 1`` (e.g. 19 draws for ``alpha=0.05``): with fewer
    draws the level cannot be resolved (the largest draw would stand in for the critical
    value; R3D returns NA), so a ValueError says the minimum. NaN or infinite statistics
    are refused.

    Examples
    --------
    >>> s = np.arange(1.0, 101.0)
    >>> [order_statistic_critical_value(s, 0.05, r) for r in ("inverse_cdf", "ceil", "linear")]
    [95.0, 96.0, 95.05]
    """
    alpha = check_alpha(alpha)
    rule = check_option(rule, "rule", CriticalValueRule)
    s = _as_float_array(stats, "stats")
    if s.ndim != 1:
        raise ValueError(f"`stats` must be one-dimensional (one per draw); got shape {s.shape}.")
    if s.size == 0:
        raise ValueError("No bootstrap statistics: `stats` is empty.")
    _finite_draws(s, "stats")
    check_n_draws(s.size, alpha, "stats")
    s = np.sort(s)
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
        The estimate on the grid (finite).
    draws : ndarray of shape (B, m)
        Bootstrap draws of ``estimate - truth`` (centred processes).
    alpha : float, default 0.05
        Significance level: a ``1 - alpha`` band.
    studentize : bool, default False
        Scale each grid point by its bootstrap standard deviation (band width varies along
        the grid) instead of a constant-width band.
    rule : {"inverse_cdf", "ceil", "linear"}, default "inverse_cdf"
        Order-statistic rule for the critical value (see
        :func:`order_statistic_critical_value`).

    Returns
    -------
    lower, upper : ndarray of shape (m,)
        Band limits ``estimate -/+ critical_value * scale``.
    critical_value : float
        The ``1 - alpha`` critical value of the sup statistics.
    scale : ndarray of shape (m,)
        Pointwise scale used (ones for a constant-width band).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> draws = rng.standard_normal((200, 3))
    >>> lower, upper, cv, scale = uniform_band(np.zeros(3), draws, alpha=0.1)
    >>> round(cv, 3), scale
    (2.0, array([1., 1., 1.]))
    >>> bool(np.allclose(upper, cv)), bool(np.allclose(lower, -cv))
    (True, True)
    """
    alpha = check_alpha(alpha)
    studentize = check_bool(studentize, "studentize")
    rule = check_option(rule, "rule", CriticalValueRule)
    est = _as_float_array(estimate, "estimate")
    if est.ndim != 1:
        raise ValueError(f"`estimate` must be one-dimensional (m,); got shape {est.shape}.")
    check_finite(est, "estimate")
    d = _draws_matrix(draws, "draws")
    if d.shape[1] != est.size:
        raise ValueError(
            f"`draws` has {d.shape[1]} column(s) but `estimate` has {est.size} grid point(s); "
            "they must match."
        )
    check_n_draws(d.shape[0], alpha, "draws")
    scale = band_scale(d, studentize)
    stats = sup_statistics(d, scale=scale)
    cv = order_statistic_critical_value(stats, alpha, rule)
    return est - cv * scale, est + cv * scale, cv, scale


def band_scale(draws: np.ndarray, studentize: bool) -> np.ndarray:
    """Pointwise scale of a uniform band: ones, or the bootstrap standard deviation.

    Pure core of :func:`uniform_band` (trusts a finite ``(B, m)`` array). The standard
    deviation is computed on draws scaled to ``[-1, 1]`` per column (no overflow of the
    squares at 1e300, no underflow to zero at 1e-300); a zero deviation becomes the
    smallest positive float so the scale stays strictly positive.
    """
    if not studentize:
        return np.ones(draws.shape[1])
    amax = np.abs(draws).max(axis=0)
    unit = np.where(amax > 0, amax, 1.0)
    scale = (draws / unit).std(axis=0, ddof=1) * unit
    return np.where(scale > 0, scale, np.finfo(float).tiny)


def bootstrap_pvalue(observed: float, stats: np.ndarray, *, plus_one: bool = True) -> float:
    """Bootstrap p-value ``P*(T* >= T)``.

    With ``plus_one=True`` (default) the p-value is ``(1 + #{T*_b >= T}) / (B + 1)``, which is
    never zero and is exact-size for exchangeable draws; ``plus_one=False`` gives the plain
    share ``#{T*_b >= T} / B``. A NaN (or infinite) observed statistic or draw is refused
    with a ValueError: no comparison with NaN is true, so it would read as maximal
    significance.

    Parameters
    ----------
    observed : float
        The statistic on the original data ``T``.
    stats : array-like of shape (B,)
        Bootstrap statistics ``T*_b`` (finite).
    plus_one : bool, default True
        Add one to numerator and denominator (see above).

    Returns
    -------
    float
        The p-value, in ``(0, 1]`` with ``plus_one=True`` and ``[0, 1]`` otherwise.

    Examples
    --------
    >>> bootstrap_pvalue(2.0, np.array([0.5, 1.0, 2.5, 3.0]))
    0.6
    """
    observed = check_scalar(observed, "observed")
    plus_one = check_bool(plus_one, "plus_one")
    s = _as_float_array(stats, "stats")
    if s.ndim != 1 or s.size == 0:
        raise ValueError(
            f"`stats` must be a non-empty one-dimensional array (one per draw); got shape "
            f"{s.shape}."
        )
    _finite_draws(s, "stats")
    k = int(np.count_nonzero(s >= observed))
    return (1 + k) / (s.size + 1) if plus_one else k / s.size


def percentile_interval(
    estimate: np.ndarray, draws: np.ndarray, alpha: float = 0.05, *, kind: str = "percentile"
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise percentile (``kind="percentile"``) or basic (``"basic"``) intervals.

    ``draws`` are bootstrap replicates of the estimate itself, shape ``(B, m)`` or ``(B,)``.
    The percentile interval is the ``alpha / 2`` and ``1 - alpha / 2`` sample quantiles
    (type 7) of the replicates; the basic interval reflects them about the estimate,
    ``(2 estimate - q_hi, 2 estimate - q_lo)``.

    Parameters
    ----------
    estimate : array-like of shape (m,) or scalar
        The estimate on the original data (shape of one replicate).
    draws : array-like of shape (B, m) or (B,)
        Bootstrap replicates of the estimate; finite, with ``(B + 1) alpha >= 1``.
    alpha : float, default 0.05
        Significance level: ``1 - alpha`` intervals.
    kind : {"percentile", "basic"}, default "percentile"
        Interval type.

    Returns
    -------
    lower, upper : numpy.ndarray of shape (m,) (0-d for ``(B,)`` draws)
        Interval bounds at each grid point.

    Examples
    --------
    >>> reps = np.arange(1.0, 100.0)
    >>> lo, hi = percentile_interval(50.0, reps, alpha=0.1)
    >>> float(lo), float(hi)
    (5.9, 94.1)
    >>> lo, hi = percentile_interval(40.0, reps, alpha=0.1, kind="basic")
    >>> float(lo), float(hi)
    (-14.1, 74.1)
    """
    alpha = check_alpha(alpha)
    kind = check_option(kind, "kind", ("percentile", "basic"))
    d = _replicates(draws, "draws", alpha)
    est = _estimate_like(estimate, "estimate", d.shape[1:])
    lo, hi = np.quantile(d, [alpha / 2.0, 1.0 - alpha / 2.0], axis=0)
    if kind == "percentile":
        return lo, hi
    return 2.0 * est - hi, 2.0 * est - lo


def _replicates(a: Any, name: str, alpha: float) -> np.ndarray:
    """Door check of bootstrap replicates, shape (B,) or (B, m): finite, enough draws."""
    d = _as_float_array(a, name)
    if d.ndim not in (1, 2) or d.shape[0] == 0 or (d.ndim == 2 and d.shape[1] == 0):
        raise ValueError(
            f"`{name}` must be a non-empty array of shape (B,) or (B, m) (one row per draw); "
            f"got shape {d.shape}."
        )
    _finite_draws(d, name)
    check_n_draws(d.shape[0], alpha, name)
    return d


def _estimate_like(a: Any, name: str, shape: tuple[int, ...]) -> np.ndarray:
    v = _as_float_array(a, name)
    if v.shape != shape and not (v.size == 1 and shape in ((), (1,))):
        raise ValueError(
            f"`{name}` must have shape {shape} to match the bootstrap draws; got {v.shape}."
        )
    check_finite(v, name)
    return v


def studentized_interval(
    estimate: np.ndarray,
    std_error: np.ndarray,
    t_draws: np.ndarray,
    alpha: float = 0.05,
) -> tuple[np.ndarray, np.ndarray]:
    """Bootstrap-t intervals from draws of ``(theta*_b - theta_hat) / se*_b``.

    The interval is ``(estimate - q_hi * std_error, estimate - q_lo * std_error)`` with
    ``q_lo, q_hi`` the ``alpha / 2`` and ``1 - alpha / 2`` sample quantiles of the t-draws.

    Parameters
    ----------
    estimate : array-like of shape (m,) or scalar
        The estimate on the original data.
    std_error : array-like of shape (m,) or scalar
        Its standard error (non-negative).
    t_draws : array-like of shape (B, m) or (B,)
        Bootstrap t-statistics; finite, with ``(B + 1) alpha >= 1``.
    alpha : float, default 0.05
        Significance level: ``1 - alpha`` intervals.

    Returns
    -------
    lower, upper : numpy.ndarray of shape (m,) (0-d for ``(B,)`` draws)
        Interval bounds.

    Examples
    --------
    >>> t = np.linspace(-2.0, 3.0, 101)
    >>> lo, hi = studentized_interval(1.0, 0.5, t, alpha=0.1)
    >>> float(lo), float(hi)
    (-0.375, 1.875)
    """
    alpha = check_alpha(alpha)
    t = _replicates(t_draws, "t_draws", alpha)
    est = _estimate_like(estimate, "estimate", t.shape[1:])
    se = _estimate_like(std_error, "std_error", t.shape[1:])
    if np.any(se < 0):
        raise ValueError("`std_error` must be non-negative.")
    q_lo, q_hi = np.quantile(t, [alpha / 2.0, 1.0 - alpha / 2.0], axis=0)
    with np.errstate(over="ignore", invalid="ignore"):
        lo, hi = est - q_hi * se, est - q_lo * se
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        raise ValueError(
            "The interval bounds overflow the float range; rescale `estimate` and `std_error` "
            "by a common factor."
        )
    return lo, hi


@renamed_arguments({"n_boot": "n_bootstrap"})
def bootstrap_indices(
    n: int, n_bootstrap: int, *, cluster: Any = None, rng: RandomStateLike = None
) -> Iterator[np.ndarray]:
    """Yield ``n_bootstrap`` resampling index arrays (pairs bootstrap, or whole clusters).

    Without ``cluster`` each array holds ``n`` indices drawn with replacement from
    ``0..n-1``; with ``cluster`` the ``G`` clusters are drawn with replacement and the indices
    of all units of each drawn cluster are concatenated (so lengths vary).

    Parameters
    ----------
    n : int
        Number of units.
    n_bootstrap : int
        Number of resamples.
    cluster : array-like of shape (n,), optional
        Cluster labels; whole clusters are resampled.
    rng : None, int, SeedSequence or Generator
        Seed or generator (see :func:`estkit.check_random_state`).

    Returns
    -------
    iterator of numpy.ndarray of int
        One index array per resample.

    Examples
    --------
    >>> len([idx for idx in bootstrap_indices(3, 2, rng=0)])
    2
    """
    n = check_int(n, "n", minimum=1)
    n_bootstrap = check_int(n_bootstrap, "n_bootstrap", minimum=1)
    gen = check_random_state(rng, "rng")
    codes = None if cluster is None else cluster_codes(cluster, n)
    return _indices(n, n_bootstrap, codes, gen)


def _indices(
    n: int, n_bootstrap: int, codes: tuple[np.ndarray, int] | None, gen: np.random.Generator
) -> Iterator[np.ndarray]:
    if codes is None:
        for _ in range(n_bootstrap):
            yield gen.integers(0, n, size=n)
        return
    labels, g = codes
    members = np.split(
        np.argsort(labels, kind="stable"), np.cumsum(np.bincount(labels, minlength=g))[:-1]
    )
    for _ in range(n_bootstrap):
        pick = gen.integers(0, g, size=g)
        yield np.concatenate([members[c] for c in pick])


@renamed_arguments({"n_boot": "n_bootstrap"})
def pairs_bootstrap(
    statistic: Callable[[np.ndarray], Any],
    n: int,
    n_bootstrap: int,
    *,
    cluster: Any = None,
    rng: RandomStateLike = None,
    n_jobs: int | None = None,
) -> list[Any]:
    """Nonparametric (pairs or cluster) bootstrap of ``statistic(indices)``.

    ``statistic`` receives an index array into the ``n`` original units and returns any
    value. With ``n_jobs`` the replications run in parallel through joblib; each draw has
    its own random stream, so results do not depend on ``n_jobs``.

    Parameters
    ----------
    statistic : callable
        ``statistic(indices) -> value``; numeric values must be finite.
    n : int
        Number of units.
    n_bootstrap : int
        Number of bootstrap replications.
    cluster : array-like of shape (n,), optional
        Cluster labels; whole clusters are resampled.
    rng : None, int, SeedSequence or Generator
        Seed or generator (see :func:`estkit.check_random_state`).
    n_jobs : int, optional
        joblib workers (``-1``: all cores); None or 1 runs serially.

    Returns
    -------
    list
        The ``n_bootstrap`` values returned by ``statistic``, in draw order.

    Raises
    ------
    EstimationError
        If a numeric replicate is NaN or infinite.

    Examples
    --------
    >>> x = np.arange(10.0)
    >>> reps = pairs_bootstrap(lambda idx: x[idx].mean(), 10, 5, rng=0)
    >>> len(reps)
    5
    """
    check_callable(statistic, "statistic")
    n = check_int(n, "n", minimum=1)
    n_bootstrap = check_int(n_bootstrap, "n_bootstrap", minimum=1)
    n_jobs = check_n_jobs(n_jobs)
    codes = None if cluster is None else cluster_codes(cluster, n)
    streams = spawn(rng, n_bootstrap, "rng")

    def one(g: np.random.Generator) -> Any:
        return statistic(next(_indices(n, 1, codes, g)))

    if n_jobs is None or n_jobs == 1:
        reps = [one(g) for g in streams]
    else:
        from joblib import Parallel, delayed

        reps = list(Parallel(n_jobs=n_jobs)(delayed(one)(g) for g in streams))
    _check_replicates(reps)
    return reps


def _check_replicates(reps: list[Any]) -> None:
    """Refuse numeric replicates that are NaN/infinite (they look like valid draws later)."""
    bad = []
    for b, r in enumerate(reps):
        try:
            v = np.asarray(r, dtype=float)
        except (TypeError, ValueError):
            continue  # not numeric: the caller's own objects
        if not np.all(np.isfinite(v)):
            bad.append(b)
    if bad:
        raise EstimationError(
            f"`statistic` returned a non-finite value (NaN or infinite) in {len(bad)} of "
            f"{len(reps)} bootstrap draw(s), the first at draw {bad[0]}; percentile intervals "
            "and p-values from such draws would be wrong. Make `statistic` defined on every "
            "resample (e.g. guard degenerate resamples) before bootstrapping."
        )
