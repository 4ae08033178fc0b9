"""Speed and memory of r3d on this machine (issue: speed and scale).

Run: ``python benchmarks/bench_r3d.py [--quick]``. Prints, with the machine's core count
and library versions:

1. Case "1e6": 5,000 units x 200 draws, 19 quantiles 0.05..0.95, data-driven bandwidths,
   p = 2, B = 200 with the band and both tests, quantiles from raw microdata included;
   median of 5 runs, both methods (target <= 0.15 s).
2. 1e7 rows (50,000 units x 200 draws): time (target <= 1.5 s) and peak memory of the fit
   relative to the input's size (target < 3x), measured with tracemalloc.
3. Bootstrap: 100,000 units, 99 quantiles, B = 5,000 (target <= 15 s, < 2 GiB peak).
4. Scaling: time per 1e6 rows at 1e5, 1e6, 1e7 rows.
5. The alternative a Python user has today: a loop of rdrobust calls over the 19 quantile
   columns (pointwise only, no uniform band) on the same quantile matrix; ratio (target
   >= 5x). Skipped when rdrobust is missing (GPL: an oracle, never a dependency; to run
   this case, use a separate virtual environment with this project and rdrobust installed).
6. Scale: ``R3D(n_bootstrap=200).fit`` on 250,000 and 1,000,000 units x 99 quantiles
   (a QuantileFunctions matrix, as from ``quantiles_from_dask``): wall and CPU time (target
   <= 10 s at 1e6 on 2 cores) and peak traced memory relative to the matrix (target <= 3x).
7. Long format: ``Distributions.from_long`` + quantiles on 1e7 shuffled rows against the
   2-D array path (``from_arrays`` + quantiles) on the same rows (target <= 2x; 5e7 rows
   <= 5 s with ``--long-rows 5e7``). From about a million rows ``from_long`` splits its
   row passes among threads (the cores, at most 4; the 2-D path is single-threaded), so
   its wall time, not its CPU time, is the one to hold against the target.
8. Dask (``--dask``; optional extra): ``quantiles_from_dask`` on 5e7 rows with the threaded
   scheduler (``--dask-rows`` for another size). The memory-tight cluster recipe (2 workers
   x 2 GB, 5e7 and 2e8 rows, peak worker memory, restarts, exactness) is
   ``benchmarks/dask_recipe.py``.

Every time is printed as wall and CPU (``time.process_time``, all threads) seconds: on a
shared machine the wall time depends on the load.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import time
import tracemalloc
import warnings

import numpy as np

import r3d
from r3d import R3D, Distributions, QuantileFunctions

GRID = np.round(np.arange(0.05, 0.96, 0.05), 2)


def microdata(n_units: int, n_draws: int, seed: int = 0) -> Distributions:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, n_units)
    scale = np.abs(1 + 0.3 * rng.standard_normal(n_units))
    vals = (5 + x + 2 * (x >= 0))[:, None] + scale[:, None] * rng.standard_normal(
        (n_units, n_draws)
    )
    return Distributions(vals.ravel(), np.arange(n_units + 1) * n_draws, running=x)


def full_fit(data, method: str, n_boot: int = 200, grid=GRID, seed: int = 0) -> R3D:
    est = R3D(method=method, quantiles=grid, n_bootstrap=n_boot, random_state=seed).fit(y=data)
    est.test("nullity")
    est.test("homogeneity")
    return est


def timed(f, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def peak_memory(f) -> tuple[float, int]:
    tracemalloc.start()
    t = time.perf_counter()
    f()
    elapsed = time.perf_counter() - t
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return elapsed, peak


def header() -> None:
    import pandas
    import scipy

    print("r3d benchmark")
    py = platform.python_version()
    print(f"  machine: {platform.machine()}, {os.cpu_count()} cores, Python {py}")
    print(
        f"  numpy {np.__version__}, scipy {scipy.__version__}, pandas {pandas.__version__}, "
        f"r3d {r3d.__version__}"
    )
    try:
        from threadpoolctl import threadpool_info

        blas = [f"{i['internal_api']} ({i['num_threads']} threads)" for i in threadpool_info()]
        print(f"  BLAS: {', '.join(blas)}")
    except ImportError:  # pragma: no cover
        pass


def cpu_timed(f) -> tuple[object, float, float]:
    t, c = time.perf_counter(), time.process_time()
    out = f()
    return out, time.perf_counter() - t, time.process_time() - c


def quantile_matrix(n: int, seed: int = 2) -> QuantileFunctions:
    """n units x 99 quantiles of normal outcomes with a jump of 2 at the cutoff."""
    from scipy.stats import norm

    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, n)
    g99 = np.arange(1, 100) / 100
    Q = (5 + x + 2 * (x >= 0))[:, None] + norm.ppf(g99)[None, :] * np.abs(
        1 + 0.2 * rng.standard_normal((n, 1))
    )
    return QuantileFunctions(Q, g99, running=x)


def scale_fits(sizes: list[int]) -> None:
    print("\n6. Scale: R3D(n_bootstrap=200).fit on n units x 99 quantiles (frechet)")
    for n in sizes:
        qf = quantile_matrix(n)
        size = qf.matrix.nbytes
        gc.collect()
        # time without tracemalloc (it traces every allocation, under the GIL, and slows the
        # threaded passes), then the peak memory in a second, traced fit
        est, el, cpu = cpu_timed(lambda qf=qf: R3D(n_bootstrap=200, random_state=0).fit(y=qf))
        del est
        gc.collect()
        tracemalloc.start()
        est = R3D(n_bootstrap=200, random_state=0).fit(y=qf)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(
            f"   {n:>9,d} units: {el:6.2f} s wall, {cpu:6.2f} s CPU; peak traced memory "
            f"{peak / 2**20:,.0f} MiB = {peak / size:.2f} x the matrix ({size / 2**20:,.0f} MiB; "
            f"target <= 3x{', <= 10 s' if n >= 10**6 else ''}); tau(0.5) = "
            f"{est.tau_[49]:.4f}; load average {os.getloadavg()[0]:.2f}"  # type: ignore[attr-defined]
        )
        del qf, est
        gc.collect()


def long_format(n_rows: int, k: int = 200, repeats: int = 3) -> None:
    """Case 7: the same rows, float64 outcomes and 99-level grid through both paths.

    Both paths end in the same quantile routine (which sorts every unit's sample); the
    long path adds grouping the shuffled rows by unit and checking that the running
    variable is constant within unit. Each path runs once to warm up, then ``repeats``
    times; medians of wall and CPU time are compared (on a shared machine the CPU times
    are the steadier measure).
    """
    import pandas as pd

    from r3d._data import _n_threads

    print(f"\n7. Long format: {n_rows:,d} rows ({n_rows // k:,d} units x {k} draws), 99 quantiles")
    n = n_rows // k
    rng = np.random.default_rng(5)
    vals = rng.standard_normal((n, k))
    x = rng.uniform(-1, 1, n)
    g99 = np.arange(1, 100) / 100

    def median_times(f) -> tuple[object, float, float]:
        out, runs = f(), []  # warm-up run
        for _ in range(repeats):
            out, wall, cpu = cpu_timed(f)
            runs.append((wall, cpu))
        return out, statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)

    Q2, w2, c2 = median_times(lambda v=vals: Distributions.from_arrays(v, running=x).quantiles(g99))
    order = rng.permutation(n * k)
    df = pd.DataFrame(
        {
            "unit": np.repeat(np.arange(n) * 3 + 11, k)[order],
            "y": vals.ravel()[order],
            "x": np.repeat(x, k)[order],
        }
    )
    del vals, order
    d, wl, cl = median_times(
        lambda f=df: Distributions.from_long(f, unit="unit", outcome="y", running="x")
    )
    del df
    Ql, wq, cq = median_times(lambda: d.quantiles(g99))  # type: ignore[attr-defined]
    same = np.array_equal(Ql, Q2)  # type: ignore[arg-type]
    print(
        f"   2-D array path (from_arrays + quantiles): {w2:.2f} s wall, {c2:.2f} s CPU "
        f"(median of {repeats} after a warm-up)"
    )
    print(
        f"   from_long (shuffled rows, {_n_threads()} threads): {wl:.2f} s wall, {cl:.2f} s "
        f"CPU; + quantiles "
        f"{wq:.2f} s wall, {cq:.2f} s CPU; quantiles identical to the 2-D path: {same}"
    )
    print(
        f"   ratio long / 2-D: {(wl + wq) / w2:.2f}x wall, {(cl + cq) / c2:.2f}x CPU "
        f"(target <= 2x; total {wl + wq:.2f} s); load average "
        f"{os.getloadavg()[0]:.2f}"  # type: ignore[attr-defined]
    )


def dask_run(n_rows: int, k: int = 200) -> None:
    try:
        import dask
        import dask.dataframe as dd
        import pandas as pd
    except ImportError:
        print("\n8. Dask not installed (pip install '.[dask]'): skipped")
        return
    from r3d import quantiles_from_dask

    n_parts = max(1, n_rows // 2_000_000)
    rows = n_rows // n_parts
    n_units = max(1, n_rows // k)

    def part(i: int) -> pd.DataFrame:
        rng = np.random.default_rng(i)
        unit = rng.integers(0, n_units, rows)
        xu = ((unit * 2654435761) % 2**32) / 2**31 - 1.0  # running variable fixed per unit
        return pd.DataFrame({"unit": unit, "y": rng.standard_normal(rows) + (xu >= 0), "x": xu})

    ddf = dd.from_map(part, list(range(n_parts)))
    print(f"\n8. Dask: quantiles_from_dask on {n_parts * rows:,d} rows ({n_parts} partitions)")
    with dask.config.set(scheduler="threads"):
        qf, el, cpu = cpu_timed(
            lambda: quantiles_from_dask(ddf, unit="unit", outcome="y", running="x")
        )
    print(
        f"   threaded scheduler: {el:.1f} s wall, {cpu:.1f} s CPU (this process); "
        f"{qf.n_units:,d} units x 99 quantiles"  # type: ignore[attr-defined]
    )


def main(
    quick: bool = False,
    scale_units: str = "250000,1000000",
    long_rows: float = 1e7,
    dask: bool = False,
    dask_rows: float = 5e7,
    cases: str = "1,2,3,4,5,6,7,8",
) -> None:
    header()
    run = {int(c) for c in cases.split(",") if c}
    if run & {1, 2, 3, 4, 5}:
        classic(quick, run)
    if 6 in run:
        sizes = [int(float(v)) for v in scale_units.split(",") if v]
        scale_fits([max(1, v // 20) for v in sizes] if quick else sizes)
    if 7 in run:
        long_format(int(long_rows // 10) if quick else int(long_rows))
    if dask and 8 in run:
        dask_run(int(dask_rows // 10) if quick else int(dask_rows))


def classic(quick: bool, run: set[int]) -> None:
    print("\n1. Case '1e6': 5,000 units x 200 draws, 19 quantiles, B = 200, band + 2 tests")
    d6 = microdata(5_000, 200)
    for method in ("frechet", "simple"):
        full_fit(d6, method)  # warm-up
        t = timed(lambda m=method: full_fit(d6, m))
        print(f"   {method:8s} median of 5: {t:.3f} s   (target <= 0.150 s)")

    print("\n2. 1e7 rows: 50,000 units x 200 draws")
    n7 = 10_000 if quick else 50_000
    d7 = microdata(n7, 200, seed=1)
    for method in ("frechet", "simple"):
        el, peak = peak_memory(lambda m=method: full_fit(d7, m))
        ratio = peak / d7.values.nbytes
        print(
            f"   {method:8s} {el:.3f} s (target <= 1.5 s); peak traced memory "
            f"{peak / 2**20:.0f} MiB = {ratio:.2f} x input {d7.values.nbytes / 2**20:.0f} MiB "
            "(target < 3x)"
        )

    rng = np.random.default_rng(4)
    sizes = rng.integers(100, 301, n7)
    xr = rng.uniform(-1, 1, n7)
    vals = np.repeat(5 + xr + 2 * (xr >= 0), sizes) + rng.standard_normal(int(sizes.sum()))
    dr = Distributions(vals, np.concatenate([[0], np.cumsum(sizes)]), running=xr)
    for method in ("frechet", "simple"):
        el, peak = peak_memory(lambda m=method: full_fit(dr, m))
        print(
            f"   {method:8s} ragged units (100-300 draws, {dr.n_obs:,} rows): {el:.3f} s; peak "
            f"{peak / 2**20:.0f} MiB = {peak / dr.values.nbytes:.2f} x input"
        )

    print("\n3. Bootstrap: 100,000 units, 99 quantiles, B = 5,000 (from a quantile matrix)")
    nb = 20_000 if quick else 100_000
    rng = np.random.default_rng(2)
    xb = rng.uniform(-1, 1, nb)
    g99 = np.arange(1, 100) / 100
    from scipy.stats import norm

    Qb = (5 + xb + 2 * (xb >= 0))[:, None] + norm.ppf(g99)[None, :] * np.abs(
        1 + 0.2 * rng.standard_normal((nb, 1))
    )
    qf = QuantileFunctions(Qb, g99, running=xb)
    el, peak = peak_memory(lambda: full_fit(qf, "frechet", n_boot=5_000, grid=None))
    print(
        f"   frechet {el:.2f} s (target <= 15 s); peak traced memory {peak / 2**30:.2f} GiB "
        "(target < 2 GiB)"
    )

    print("\n4. Cost per 1e6 rows (frechet, B = 200)")
    sizes = [(500, 200), (5_000, 200)] + ([] if quick else [(50_000, 200)])
    for n_units, k in sizes:
        d = microdata(n_units, k, seed=3)
        t = timed(lambda d=d: full_fit(d, "frechet"), repeats=3)
        rows = n_units * k
        print(f"   {rows:>10,d} rows: {t:.3f} s  = {t / rows * 1e6:.3f} s per 1e6 rows")

    if 5 in run:
        rdrobust_loop(d6)


def rdrobust_loop(d6: Distributions) -> None:
    print("\n5. rdrobust loop over the 19 quantile columns (same quantile matrix as case 1e6)")
    try:
        from rdrobust import rdrobust
    except ImportError:
        print("   rdrobust not installed (an oracle, not a dependency): skipped")
        return
    Q = d6.quantiles(GRID)
    x = d6.running

    def loop() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for j in range(Q.shape[1]):
                rdrobust(Q[:, j], x, c=0.0, p=2, kernel="tri", bwselect="mserd")

    t_rd = timed(loop, repeats=3)
    qf6 = QuantileFunctions(Q, GRID, running=x)
    t_ours = timed(lambda: full_fit(qf6, "simple"), repeats=5)
    print(f"   rdrobust loop (pointwise, no band): {t_rd:.3f} s")
    print(f"   R3D simple (+ uniform band, B = 200, 2 tests): {t_ours:.3f} s")
    print(f"   ratio: {t_rd / t_ours:.1f}x faster (target >= 5x)")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes for a smoke run")
    ap.add_argument(
        "--scale-units", default="250000,1000000", help="units of the scale fits (case 6)"
    )
    ap.add_argument("--long-rows", type=float, default=1e7, help="rows of case 7")
    ap.add_argument("--dask", action="store_true", help="run the Dask case (8)")
    ap.add_argument("--dask-rows", type=float, default=5e7, help="rows of the Dask case")
    ap.add_argument("--cases", default="1,2,3,4,5,6,7,8", help="cases to run, e.g. 6,7")
    main(**vars(ap.parse_args()))
