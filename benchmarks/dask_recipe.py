"""The README's memory-tight Dask recipe, run end to end (issue 17).

Two worker processes of 2 GB each (``LocalCluster(n_workers=2, threads_per_worker=1,
memory_limit="2GB")``) reduce generated long microdata (``--units`` units x 200 draws; the
default 1,000,000 units is 2e8 rows) to the ``(n_units, 99)`` quantile matrix with
:func:`r3d.quantiles_from_dask`. The data are a Dask DataFrame built lazily from a seed
(``dask.dataframe.from_map``): input partition ``i`` holds global rows
``i * 2e6 ... (i + 1) * 2e6 - 1``, row ``r`` belongs to unit ``r % n_units``, so every unit
has rows in every partition and the shuffle by unit moves all rows.

Printed: wall time and CPU time (this process and the workers), the peak resident memory
of each worker process (sampled every 0.2 s), worker restarts, and the exactness check
against the in-memory path: ``Distributions.from_long`` on the rows of a subsample of units
(every ``--check-every``-th unit, default 50), and with ``--full-check`` all units through
``Distributions.from_arrays`` on the ``(n_units, 200)`` array (the same quantile routine).
Results must be bit-identical (``numpy.testing.assert_array_equal``).

Run (from the repository root)::

    python benchmarks/dask_recipe.py --units 250000 --full-check   # 5e7 rows
    python benchmarks/dask_recipe.py                               # 2e8 rows

No worker process outlives the script (the cluster is closed in a ``finally``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import threading
import time

import numpy as np
import pandas as pd

K = 200  # draws per unit
ROWS_PER_INPUT_PARTITION = 2_000_000  # 48 MB of three 8-byte columns

# The recipe (README, "Memory-tight workers"); set before the cluster starts so that the
# worker processes inherit it.
RECIPE = {
    # spill managed data to disk early, pause new tasks well before the limit
    "distributed.worker.memory.target": 0.6,
    "distributed.worker.memory.spill": 0.7,
    "distributed.worker.memory.pause": 0.8,
    "distributed.worker.memory.terminate": 0.95,
    # the P2P shuffle's send buffer is 1 GiB per worker by default: half of a 2 GB worker,
    # and invisible to the spill thresholds (it is "unmanaged" memory)
    "distributed.p2p.comm.buffer": "128MiB",
    "distributed.p2p.storage.buffer": "64MiB",
    # glibc returns freed memory to the OS (distributed's default; stated for clarity)
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": 65536,
    # the shuffle's Arrow buffers through malloc too: Arrow's own allocator keeps freed
    # memory (worker RSS stayed near 0.5 GB after the run instead of 0.25 GB)
    "distributed.nanny.pre-spawn-environ.ARROW_DEFAULT_MEMORY_POOL": "system",
}


def running_of(unit: np.ndarray) -> np.ndarray:
    """The running variable of each unit, in [-1, 1): a fixed hash of the unit id."""
    return ((unit * 2654435761) % 2**32) / 2**31 - 1.0


def make_partition(i: int, n_units: int, seed: int) -> pd.DataFrame:
    """Input partition ``i``: rows ``i * R ... (i + 1) * R - 1`` (R rows per partition)."""
    r = np.arange(i * ROWS_PER_INPUT_PARTITION, (i + 1) * ROWS_PER_INPUT_PARTITION)
    unit = r % n_units
    x = running_of(unit)
    rng = np.random.default_rng([seed, i])
    y = rng.standard_normal(r.size) + (x >= 0) + 0.5 * x
    return pd.DataFrame({"unit": unit, "y": y, "x": x})


class MemoryWatch:
    """Peak RSS and CPU time of this process's child processes (the workers), sampled."""

    def __init__(self, interval: float = 0.2) -> None:
        import psutil

        self._me = psutil.Process()
        self.peak: dict[int, int] = {}
        self.cpu: dict[int, float] = {}
        self.cmd: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)

    def _run(self, interval: float) -> None:
        import psutil

        while not self._stop.is_set():
            for child in self._me.children(recursive=True):
                try:
                    rss = child.memory_info().rss
                    t = child.cpu_times()
                    if child.pid not in self.cmd:
                        self.cmd[child.pid] = " ".join(child.cmdline())
                except psutil.Error:
                    continue
                self.peak[child.pid] = max(self.peak.get(child.pid, 0), rss)
                self.cpu[child.pid] = t.user + t.system
            self._stop.wait(interval)

    def __enter__(self) -> MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def worker_deaths_plugin() -> object:
    """A scheduler plugin counting workers removed (died, killed, restarted)."""
    from distributed.diagnostics.plugin import SchedulerPlugin

    class WorkerDeaths(SchedulerPlugin):
        name = "count-worker-deaths"

        def __init__(self) -> None:
            self.removed: list[str] = []

        def remove_worker(self, scheduler: object, worker: str, **kwargs: object) -> None:
            self.removed.append(worker)

    return WorkerDeaths()


def main(
    n_units: int,
    seed: int,
    check_every: int,
    full_check: bool,
    rpp: int | None,
    recipe: dict[str, object],
) -> None:
    import dask
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    from r3d import Distributions, quantiles_from_dask

    n_rows = n_units * K
    if n_rows % ROWS_PER_INPUT_PARTITION:
        raise SystemExit(f"units x {K} must be a multiple of {ROWS_PER_INPUT_PARTITION:,d}")
    n_parts = n_rows // ROWS_PER_INPUT_PARTITION
    spill = tempfile.mkdtemp(prefix="dask-recipe-", dir=os.environ.get("DASK_RECIPE_DIR"))
    print(
        f"{n_rows:,d} rows ({n_units:,d} units x {K}), {n_parts} input partitions of "
        f"{ROWS_PER_INPUT_PARTITION:,d} rows; 2 workers x 1 thread x 2 GB; spill dir {spill}",
        flush=True,
    )
    dask.config.set(recipe)
    print(f"worker config: {recipe}", flush=True)
    cluster = client = None
    try:
        cluster = LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            memory_limit="2GB",
            local_directory=spill,
            dashboard_address=None,
        )
        client = Client(cluster)
        deaths = worker_deaths_plugin()
        cluster.scheduler.add_plugin(deaths)  # in-process scheduler of the LocalCluster
        ddf = dd.from_map(make_partition, range(n_parts), n_units=n_units, seed=seed)
        with MemoryWatch() as watch:
            t0, c0 = time.perf_counter(), time.process_time()
            qf = quantiles_from_dask(
                ddf, unit="unit", outcome="y", running="x", rows_per_partition=rpp
            )
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        n_deaths = len(deaths.removed)  # type: ignore[attr-defined]  # before closing
        # worker processes: the nannies' children (not multiprocessing's resource tracker)
        worker_pids = [p for p in watch.peak if "resource_tracker" not in watch.cmd[p]]
        peaks = sorted((watch.peak[p] for p in worker_pids), reverse=True)
        workers_cpu = sum(watch.cpu[p] for p in worker_pids)
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
        shutil.rmtree(spill, ignore_errors=True)  # the shuffle's files (GBs at 2e8 rows)
    print(
        f"quantiles_from_dask: {wall:.1f} s wall, {cpu:.1f} s CPU in this process, "
        f"{workers_cpu:.1f} s CPU in the workers (machine shared: wall times are noisy)"
    )
    print(
        "peak RSS per worker process: "
        + ", ".join(f"{p / 1e9:.2f} GB" for p in peaks)
        + f" (limit 2.00 GB); worker processes seen: {len(peaks)}, "
        f"workers removed during the run (deaths/restarts): {n_deaths}"
    )
    print(f"result: {qf.n_units:,d} units x {qf.matrix.shape[1]} quantiles", flush=True)

    # exactness against the in-memory path
    assert np.array_equal(qf.unit_ids, np.arange(n_units))
    np.testing.assert_array_equal(qf.running, running_of(np.arange(n_units)))
    pick = np.arange(0, n_units, check_every)
    rows = []
    for i in range(n_parts):
        part = make_partition(i, n_units, seed)
        rows.append(part[part["unit"].to_numpy() % check_every == 0])
    sample = pd.concat(rows, ignore_index=True)
    mem = Distributions.from_long(sample, unit="unit", outcome="y", running="x")
    np.testing.assert_array_equal(mem.unit_ids, pick)
    np.testing.assert_array_equal(qf.matrix[pick], mem.quantiles(qf.grid))
    print(
        f"exact: {pick.size:,d} units ({len(sample):,d} rows) bit-identical to "
        "Distributions.from_long",
        flush=True,
    )
    if full_check:
        y = np.empty((n_units, K))
        for i in range(n_parts):
            part = make_partition(i, n_units, seed)
            r = np.arange(i * ROWS_PER_INPUT_PARTITION, (i + 1) * ROWS_PER_INPUT_PARTITION)
            y[r % n_units, r // n_units] = part["y"].to_numpy()
        full = Distributions.from_arrays(y).quantiles(qf.grid)
        np.testing.assert_array_equal(qf.matrix, full)
        print(f"exact: all {n_units:,d} units bit-identical to Distributions.from_arrays")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--units", type=int, default=1_000_000, help="units (x 200 rows each)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--check-every", type=int, default=50, help="subsample step of units")
    ap.add_argument("--full-check", action="store_true", help="compare every unit too")
    ap.add_argument("--rows-per-partition", type=int, default=None, help="after the shuffle")
    ap.add_argument(
        "--default-p2p-buffers",
        action="store_true",
        help="leave distributed's P2P buffers at their defaults (for comparison)",
    )
    a = ap.parse_args()
    recipe = {k: v for k, v in RECIPE.items() if not (a.default_p2p_buffers and ".p2p." in k)}
    main(a.units, a.seed, a.check_every, a.full_check, a.rows_per_partition, recipe)
