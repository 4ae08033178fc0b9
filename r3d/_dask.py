"""Out-of-core unit quantile functions with Dask.

Microdata too large for memory (hundreds of millions of rows) are reduced to the small
``(n_units, m)`` quantile matrix on a Dask cluster: the rows are shuffled so that each
unit's observations sit in one partition, then every partition computes its units'
quantiles with the same vectorised routine as the in-memory path
(:func:`r3d._quantiles.segment_quantiles`). Quantiles are exact, and identical to the
in-memory result, because each unit's quantiles depend only on its own sorted sample.
Everything after the reduction (bandwidths, fits, bootstrap) is small and local.

Dask is an optional dependency: ``pip install "estkit[dask]"``. On one machine the
default threaded scheduler is the fastest choice (no inter-process transfer); to use a
real cluster, create a client first (``dask.distributed.Client("tcp://scheduler:8786")``):
Dask then runs the reduction there, partitions are sized from the workers' memory limit
and the progress bar follows the cluster.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
from collections import deque
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from estkit import check_option
from estkit._parallel import _want_progress
from estkit._validation import check_grid, check_optional_bool
from r3d._data import (
    QuantileFunctions,
    _constant_per_unit,
    _group_long,
    _last_rows,
    _raise_long_format_error,
    _unit_codes,
    _unit_column,
)
from r3d._quantiles import QuantileMethod, segment_quantiles

__all__ = ["quantiles_from_dask"]

# loggers whose per-shuffle chatter (P2P shuffle started / deactivated) floods the output
_NOISY_LOGGERS = ("distributed.shuffle", "distributed.shuffle._scheduler_plugin")
# share of a worker's memory limit that one shuffled partition may take. Measured on one
# partition (tracemalloc): the quantile step peaks at 3.3x the partition's bytes at 2e6
# rows, 2.5x at 5.2e6 rows (unit codes, the rows grouped by unit, one sorted block of at
# most 4M values), plus the partition itself as Arrow and pandas while the shuffle hands
# it over: about 5x in all, so 1/16 keeps a partition's work under a third of the limit
# (the rest: the worker itself, about 0.25 GB, and the shuffle's send/receive buffers)
_PARTITION_SHARE = 1 / 16
_BYTES_PER_OBJECT = 64  # rough size of a Python object (string ids) in a pandas column


@contextlib.contextmanager
def _quiet_shuffle_logs() -> Iterator[None]:
    """Raise distributed's shuffle loggers to ERROR in this process for one call."""
    loggers = [logging.getLogger(name) for name in _NOISY_LOGGERS]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _active_client() -> Any:
    """The current ``distributed.Client``, or None (no client, or distributed missing)."""
    try:
        from distributed import get_client
    except ImportError:  # pragma: no cover - distributed is part of the dask extra
        return None
    try:
        return get_client()
    except ValueError:
        return None


def _worker_memory_limit(client: Any) -> int | None:
    """Smallest memory limit of the client's workers in bytes (None if unlimited/unknown)."""
    if client is None:
        return None
    limits = [w.get("memory_limit") for w in client.scheduler_info()["workers"].values()]
    limits = [int(v) for v in limits if v]
    return min(limits) if limits else None


def _row_bytes(data: Any, cols: list[str]) -> int:
    return int(
        sum(
            data[c].dtype.itemsize if data[c].dtype.kind in "biufcmM" else _BYTES_PER_OBJECT
            for c in cols
        )
    )


def _n_partitions(
    data: Any, cols: list[str], rows_per_partition: int | None, memory_limit: int | None
) -> int | None:
    """Output partitions of the shuffle: from ``rows_per_partition``, or from the workers'
    memory limit (each partition at most 1/16 of it); None keeps Dask's choice."""
    if rows_per_partition is None and memory_limit is None:
        return None
    n_rows = len(data)  # one pass over the partitions (Parquet: from the metadata)
    if rows_per_partition is None:
        budget = max(1, int(memory_limit * _PARTITION_SHARE))  # type: ignore[operator]
        rows_per_partition = max(1, budget // max(1, _row_bytes(data, cols)))
    return max(data.npartitions, math.ceil(n_rows / rows_per_partition))


def _partition_quantiles(
    part: pd.DataFrame,
    unit: str,
    outcome: str,
    weight: str | None,
    per_unit: list[str],
    q: np.ndarray,
    method: str,
) -> pd.DataFrame:
    """Quantiles of every unit of one partition (all rows of a unit are in the partition)."""
    qcols = [f"q{j}" for j in range(q.size)]
    if len(part) == 0:
        return pd.DataFrame(
            {**{c: pd.Series(dtype=float) for c in qcols}, **{c: pd.Series() for c in per_unit}}
        )
    # the in-memory long-format path's grouping, constancy check and quantiles
    codes, ids = _unit_codes(_unit_column(part, unit))
    offsets, values, w = _group_long(part, codes, ids.size, outcome, weight)
    if not np.all(np.isfinite(values)) or (
        w is not None and not (np.all(np.isfinite(w)) and np.all(w >= 0))
    ):  # from_long's words for bad outcomes or weights (the column, the unit, the fix)
        _raise_long_format_error(None, values, offsets, w, ids, outcome, weight)
    try:
        Q = segment_quantiles(values, offsets, q, w, method)  # type: ignore[arg-type]
    except ValueError as err:  # a unit of zero total weight: from_long's words for it
        _raise_long_format_error(err, values, offsets, w, ids, outcome, weight)
        raise
    out = pd.DataFrame(Q, columns=qcols, index=pd.Index(ids, name=unit))
    rep = _last_rows(codes, ids.size) if per_unit else None  # every unit's last row, once
    for col in per_unit:
        out[col] = _constant_per_unit(part[col], codes, ids.size, col, rep)
    return out


def quantiles_from_dask(
    data: Any,
    *,
    unit: str,
    outcome: str,
    quantiles: Any = None,
    weight: str | None = None,
    running: str | None = None,
    treatment: str | None = None,
    cluster: str | None = None,
    method: QuantileMethod = "linear",
    progress: bool | None = None,
    rows_per_partition: int | None = None,
) -> QuantileFunctions:
    """Reduce long microdata held by Dask (or in Parquet files) to unit quantile functions.

    Parameters
    ----------
    data : dask.dataframe.DataFrame, str or os.PathLike
        One row per observation; a path is read with ``dask.dataframe.read_parquet``
        (a directory of Parquet files or a glob).
    unit, outcome : str
        Columns of the unit id and the outcome.
    quantiles : array-like, optional
        Levels in (0, 1); default 0.01, ..., 0.99.
    weight : str, optional
        Column of sampling weights.
    running, treatment, cluster : str, optional
        Per-unit columns (constant within unit) carried into the result.
    method : {"linear", "hmisc"}
        Weighted-quantile definition (see :mod:`r3d._quantiles`).
    progress : bool, optional
        Show a progress bar (default: only in an interactive terminal): the cluster's
        (``distributed.progress``) when a ``distributed.Client`` is active, the local
        scheduler's otherwise.
    rows_per_partition : int, optional
        Rows per partition after the shuffle by unit. Default: under a
        ``distributed.Client``, sized so that one partition takes at most 1/16 of the
        smallest worker memory limit (the shuffle and the per-partition quantiles hold a
        few copies of it); without a client, Dask's own choice. A unit's rows always stay
        in one partition.

    Returns
    -------
    QuantileFunctions
        Units ordered by id, with ``unit_ids`` the unit column's labels;
        ``R3D().fit(y=result)`` fits directly when ``running`` is given.

    Notes
    -----
    On one machine, call it without a client: the threaded scheduler avoids moving the
    rows between processes. On a cluster whose workers have little memory, set the
    workers' spill thresholds (``distributed.worker.memory.target/spill/pause``), shrink
    the P2P shuffle's buffers (``distributed.p2p.comm.buffer``, 1 GiB by default, is not
    spillable), keep input partitions near 50 MB and let this function size the
    shuffled partitions from the memory limit: the README's recipe reduces 2e8 rows
    (1,000,000 units x 200 draws) on two 2 GB workers (``benchmarks/dask_recipe.py``).
    The partitions' quantiles are fetched one partition at a time and stacked here, never
    concatenated on a worker, so this process needs room for about twice the
    ``(n_units, m)`` result. distributed's per-shuffle log lines are silenced during the
    call (in this process).

    Examples
    --------
    >>> import dask.dataframe as dd  # doctest: +SKIP
    >>> ddf = dd.read_parquet("microdata/")  # doctest: +SKIP
    >>> qf = quantiles_from_dask(
    ...     ddf, unit="firm", outcome="wage", running="score"
    ... )  # doctest: +SKIP
    >>> R3D().fit(y=qf)  # doctest: +SKIP
    """
    try:
        import dask
        import dask.dataframe as dd
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError("quantiles_from_dask needs Dask: pip install 'estkit[dask]'.") from exc
    method = check_option(method, "method", QuantileMethod)
    from r3d._estimator import DEFAULT_GRID

    q = DEFAULT_GRID.copy() if quantiles is None else check_grid(quantiles, "quantiles")
    if isinstance(data, str | os.PathLike):
        data = dd.read_parquet(data)
    if not isinstance(data, dd.DataFrame):
        raise TypeError("`data` must be a dask DataFrame or a path to Parquet files.")
    per_unit = [c for c in (running, treatment, cluster) if c is not None]
    cols = [unit, outcome, *([weight] if weight else []), *per_unit]
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise ValueError(f"Columns {missing} not found; available: {list(data.columns)}.")
    if rows_per_partition is not None:
        from estkit import check_int

        rows_per_partition = check_int(rows_per_partition, "rows_per_partition", minimum=1)
    client = _active_client()
    n_out = _n_partitions(data, cols, rows_per_partition, _worker_memory_limit(client))
    # all rows of a unit in one partition, then one vectorised pass per partition
    shuffled = data[cols].shuffle(on=unit, npartitions=n_out)
    qcols = [f"q{j}" for j in range(q.size)]
    meta = pd.DataFrame(
        {**{c: pd.Series(dtype=float) for c in qcols}, **{c: data[c].dtype for c in per_unit}}
    )
    meta.index = pd.Index([], name=unit, dtype=data[unit].dtype)
    reduced = shuffled.map_partitions(
        _partition_quantiles, unit, outcome, weight, per_unit, q, method, meta=meta
    )
    show = _want_progress(check_optional_bool(progress, "progress"))
    # one delayed object per partition, gathered here: ``reduced.compute()`` would first
    # concatenate every partition in one task on one worker (the whole quantile matrix
    # twice in that worker's memory: 1.6 GB at 1e6 units, fatal on 2 GB workers)
    parts = reduced.to_delayed()
    with dask.config.set({"dataframe.convert-string": False}), _quiet_shuffle_logs():
        if client is not None:
            frames = _gather_partitions(client, parts, show)
        elif show:
            from dask.diagnostics import ProgressBar

            with ProgressBar():
                frames = list(dask.compute(*parts))
        else:
            frames = list(dask.compute(*parts))
    return _assemble(frames, q, unit, running, treatment, cluster)


def _gather_partitions(client: Any, parts: list[Any], show: bool) -> list[pd.DataFrame | None]:
    """Compute the partitions on the cluster and fetch each one as soon as it is done, so
    that the workers drop it (they never hold more than the partitions in flight)."""
    from distributed import as_completed

    futures = client.compute(parts)
    if show:
        from distributed import progress as cluster_progress

        cluster_progress(futures)
    index = {f.key: i for i, f in enumerate(futures)}
    frames: list[pd.DataFrame | None] = [None] * len(futures)
    for future, frame in as_completed(futures, with_results=True):
        frames[index[future.key]] = frame
        future.release()
    return frames


def _assemble(
    frames: list[pd.DataFrame | None],
    q: np.ndarray,
    unit: str,
    running: str | None,
    treatment: str | None,
    cluster: str | None,
) -> QuantileFunctions:
    """Stack the partitions' quantiles in unit-id order, one partition at a time (the
    caller holds the partitions and the result, never a concatenated copy besides).

    Empties ``frames`` (the caller's list) and drops each partition once copied.
    """
    qcols = [f"q{j}" for j in range(q.size)]
    # empty partitions carry no dtype information
    queue = deque(f for f in frames if f is not None and len(f))
    frames.clear()
    if not queue:
        raise ValueError("`data` has no rows: pass at least one observation.")
    ids = np.concatenate([f.index.to_numpy() for f in queue])
    order = np.argsort(ids, kind="stable")
    ids = ids[order]
    if ids.size > 1 and np.any(ids[1:] == ids[:-1]):
        raise RuntimeError("Dask shuffle left a unit split across partitions.")  # defensive
    rank = np.empty(order.size, dtype=np.intp)
    rank[order] = np.arange(order.size)
    matrix = np.empty((ids.size, q.size))
    per_unit: dict[str, list[np.ndarray]] = {
        c: [] for c in (running, treatment, cluster) if c is not None
    }
    start = 0
    while queue:
        frame = queue.popleft()  # the last reference: freed once copied
        stop = start + len(frame)
        matrix[rank[start:stop]] = frame[qcols].to_numpy(dtype=float)
        for c, cols in per_unit.items():
            cols.append(frame[c].to_numpy())
        del frame
        start = stop
    extra = {c: np.concatenate(v)[order] if v else np.array([]) for c, v in per_unit.items()}
    return QuantileFunctions(
        matrix,
        q,
        running=None if running is None else extra[running].astype(float),
        treatment=None if treatment is None else extra[treatment].astype(float),
        cluster=None if cluster is None else extra[cluster],
        unit_ids=ids,
    )
