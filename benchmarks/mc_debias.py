"""Monte Carlo: uniform coverage of the default, studentised and robust bias-corrected bands.

Issue 13 ("Debiased distributional inference"): compare, on the paper's designs
(``r3d.simulate``, as ``docs/validity.md``), the uniform coverage of

``default``
    today's R3D band: constant width, critical value from the multiplier bootstrap;
``student``
    today's R3D band with ``studentize=True`` (width proportional to the bootstrap SD);
``robust``, ``robust-const``
    the robust bias-corrected band: the effect of :func:`r3d._debias.estimate_r3d_robust`
    (order ``--robust-p`` at the main bandwidth, bias from order ``p + 1`` at rdrobust's
    "mserd" bias bandwidth) with a multiplier bootstrap of its influence scores, through
    :func:`estkit.uniform_band`, studentised (the analogue of CCT's robust t-interval;
    ``robust``) and constant width (``robust-const``).

Every replication draws ``n`` units with 50 outcome draws each, estimates at the nine
deciles and uses one Gaussian multiplier matrix (B = ``--n-bootstrap``) for all bands (a
paired comparison). Cells: DGP x design (sharp / fuzzy) x clustering x n.

* fuzzy: the treatment is ``Bernoulli(0.1 + 0.8 1{x >= 0})`` (first stage 0.8), the
  outcome is the DGP's with ``delta = 0`` plus ``--delta`` times the treatment (DGP 1:
  the true effect is ``--delta`` at every quantile);
* clustered: units are grouped at random into clusters of ``--cluster-size`` units that
  share a location shock ``N(0, --cluster-sd^2)`` (mean zero, so the true effect is
  unchanged); every band then uses one multiplier per cluster (R3D's cluster bootstrap,
  passed to ``R3D.fit`` as cluster-level multipliers).

The robust band's main bandwidth ``h`` is R3D's own selected bandwidth (``--robust-h r3d``,
the default: MSE-optimal for the local linear fit, pilot order 1, so ``--robust-p 1`` is
exactly CCT's procedure) or rdrobust's mserd ``h`` (``--robust-h mserd``); ``b`` is
rdrobust's mserd bias bandwidth per quantile (``simple``) or integrated over the grid
(``frechet``), or ``b = h`` (``--robust-b h``; CCT's rho = 1: with ``--robust-p 1`` and
``--vce hc2`` this reproduces R3D's own ``p = 2`` estimate and scores exactly, see
``tests/r3d/test_debias.py``). With ``--robust-h r3d`` in a fuzzy design the treatment
regression uses R3D's first-stage bandwidth and the selector's first-stage ``b``. With the
defaults (``--robust-p 1 --robust-h r3d --robust-b mserd --vce hc2``) the two robust bands
are those of ``R3D(p=1, bias_correction="robust", studentize=True / False)`` (R3D's
bandwidth does not depend on ``p``; ``tests/r3d/test_robust.py`` checks the estimator
against this construction).

Usage (the pilot of the issue; the full study drops ``--n``, ``--design`` and
``--cluster`` restrictions and raises ``--reps``)::

    python benchmarks/mc_debias.py --reps 100 --n 200 500 --design sharp --cluster no \
        --dgp dgp1 --n-jobs 1

Prints one row per cell and band (uniform coverage with its Monte Carlo SE, mean
half-width of the band, mean seconds per replication) and writes the per-replication
records to ``--out`` (CSV) when given.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from estkit import KernelName, uniform_band  # noqa: E402
from r3d import R3D, QuantileFunctions  # noqa: E402
from r3d._debias import estimate_r3d_robust, select_bias_bandwidth  # noqa: E402
from r3d.simulate import dgp2_effect, simulate_dgp1, simulate_dgp2  # noqa: E402

DECILES = np.round(np.arange(1, 10) / 10.0, 2)
BANDS = ("default", "student", "robust", "robust-const")


@cache
def _truth(dgp: str, delta: float, delta_lambda: float) -> tuple[float, ...]:
    """True effect at the deciles (DGP 2's exact curve costs a second: computed once)."""
    if dgp == "dgp1":
        return tuple(np.full(DECILES.size, float(delta)))
    return tuple(np.asarray(dgp2_effect(DECILES, delta, delta_lambda), dtype=float))


def _sample(dgp: str, n: int, fuzzy: bool, clustered: bool, args, seed) -> dict:
    """One simulated sample: x, the quantile matrix, treatment, cluster codes, truth."""
    s_dgp, s_t, s_cl = seed.spawn(3)
    delta = 0.0 if fuzzy else args.delta
    if dgp == "dgp1":
        sim = simulate_dgp1(n, args.n_draws, delta, rng=np.random.default_rng(s_dgp))
    else:
        sim = simulate_dgp2(
            n, args.n_draws, delta, args.delta_lambda, rng=np.random.default_rng(s_dgp)
        )
    x = np.asarray(sim.x, dtype=float)
    d = sim.y
    Y = np.asarray(d.values, dtype=float).reshape(n, args.n_draws).copy()
    true = np.array(_truth(dgp, delta, args.delta_lambda if dgp == "dgp2" else 0.0))
    T = None
    if fuzzy:
        g = np.random.default_rng(s_t)
        T = (g.random(n) < 0.1 + 0.8 * (x >= 0)).astype(float)
        Y += args.delta * T[:, None]
        true = np.full(DECILES.size, float(args.delta))
    codes = None
    if clustered:
        g = np.random.default_rng(s_cl)
        n_cl = max(2, n // args.cluster_size)
        codes = g.permutation(np.arange(n) % n_cl)
        Y += g.normal(0.0, args.cluster_sd, n_cl)[codes][:, None]
    Q = np.quantile(Y, DECILES, axis=1, method="linear").T
    return {"x": x, "Q": Q, "T": T, "codes": codes, "true": true}


def _multipliers(n: int, codes, B: int, seed) -> np.ndarray:
    g = np.random.default_rng(seed)
    if codes is None:
        return g.standard_normal((n, B))
    return g.standard_normal((int(codes.max()) + 1, B))[codes]


def _per_quantile(tau: np.ndarray, sd: np.ndarray | None) -> dict:
    """Per-decile estimate and bootstrap SD (for the SD ratio of the summary)."""
    out = {f"tau_{j}": float(t) for j, t in enumerate(tau)}
    if sd is not None:
        out.update({f"sd_{j}": float(v) for j, v in enumerate(sd)})
    return out


def one_replication(task: dict) -> list[dict]:
    """All bands on one sample; one record per band."""
    args = task["args"]
    smp = _sample(task["dgp"], task["n"], task["fuzzy"], task["clustered"], args, task["seed"])
    x, Q, T, codes, true = smp["x"], smp["Q"], smp["T"], smp["codes"], smp["true"]
    xi = _multipliers(x.size, codes, args.n_bootstrap, task["boot_seed"])
    base = {
        "dgp": task["dgp"],
        "design": "fuzzy" if task["fuzzy"] else "sharp",
        "cluster": "yes" if task["clustered"] else "no",
        "n": task["n"],
        "rep": task["rep"],
    }
    out = []
    qf = QuantileFunctions(Q, DECILES)
    h_r3d = hT_r3d = None
    for band, stud in (("default", False), ("student", True)):
        t0 = time.perf_counter()
        rec = dict(base, band=band)
        try:
            kw = {} if args.kernel is None else {"kernel": args.kernel}
            est = R3D(
                method=args.method,
                n_bootstrap=args.n_bootstrap,
                studentize=stud,
                alpha=args.alpha,
                **kw,
            ).fit(x, qf, treatment=T, multipliers=xi)
            band_df = est.band_
            assert band_df is not None
            lo, hi = band_df["lower"].to_numpy(), band_df["upper"].to_numpy()
            h_r3d, hT_r3d = est.bandwidth_, est.bandwidth_treatment_
            cv = float(est.critical_value_ or 0.0)
            rec.update(
                ok=True,
                covered=bool(np.all((lo <= true) & (true <= hi))),
                half_width=float(np.mean(hi - lo) / 2),
                bandwidth=float(np.mean(est.bandwidth_)),
                **_per_quantile(est.tau_, (hi - lo) / (2 * cv) if stud and cv > 0 else None),
            )
        except (ValueError, np.linalg.LinAlgError) as exc:
            rec.update(ok=False, error=f"{type(exc).__name__}: {exc}")
        rec["seconds"] = time.perf_counter() - t0
        out.append(rec)
    # robust bias-corrected band
    t0 = time.perf_counter()
    recs = [dict(base, band="robust"), dict(base, band="robust-const")]
    try:
        p = args.robust_p
        kern: KernelName = args.kernel or "triangular"
        sel = select_bias_bandwidth(
            x,
            Q,
            DECILES,
            p=p,
            kernel=kern,
            criterion="imse" if args.method == "frechet" else "mse",
            T=T,
            cluster=codes,
        )
        if args.robust_h == "r3d" and h_r3d is not None:
            h = h_r3d
            hT = hT_r3d
        else:
            h, hT = sel.h, sel.h_treatment
        if args.robust_b == "h":  # rho = h / b = 1
            b, bT = h, hT
        else:
            b, bT = sel.b, sel.b_treatment
        core = estimate_r3d_robust(
            x,
            Q,
            DECILES,
            bandwidth=h,
            bias_bandwidth=b,
            T=T,
            bandwidth_treatment=hT,
            bias_bandwidth_treatment=bT,
            method=args.method,
            p=p,
            kernel=kern,
            vce=args.vce,
        )
        draws = xi.T @ core.scores
        for rec, stud in zip(recs, (True, False), strict=True):
            lo, hi, _, _ = uniform_band(core.tau, draws, args.alpha, studentize=stud)
            boot_sd = draws.std(axis=0, ddof=1)
            rec.update(
                ok=True,
                covered=bool(np.all((lo <= true) & (true <= hi))),
                half_width=float(np.mean(hi - lo) / 2),
                bandwidth=float(np.mean(h)),
                bias_bandwidth=float(np.mean(b)),
                se_mean=float(np.mean(core.std_error)),
                **_per_quantile(core.tau, boot_sd),
            )
    except (ValueError, np.linalg.LinAlgError) as exc:
        for rec in recs:
            rec.update(ok=False, error=f"{type(exc).__name__}: {exc}")
    dt = time.perf_counter() - t0
    for rec in recs:
        rec["seconds"] = dt / 2
    out.extend(recs)
    return out


def run(args) -> pd.DataFrame:
    tasks = []
    root = np.random.SeedSequence(args.seed)
    cells = [
        (dgp, design, cl, n)
        for dgp in args.dgp
        for design in args.design
        for cl in args.cluster
        for n in args.n
    ]
    cell_seeds = root.spawn(len(cells))
    for (dgp, design, cl, n), cs in zip(cells, cell_seeds, strict=True):
        for r, rs in enumerate(cs.spawn(args.reps)):
            s_data, s_boot = rs.spawn(2)
            tasks.append(
                {
                    "args": args,
                    "dgp": dgp,
                    "fuzzy": design == "fuzzy",
                    "clustered": cl == "yes",
                    "n": n,
                    "rep": r,
                    "seed": s_data,
                    "boot_seed": s_boot,
                }
            )
    t0 = time.perf_counter()
    c0 = time.process_time()
    res = Parallel(n_jobs=args.n_jobs)(delayed(one_replication)(t) for t in tasks)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    df = pd.DataFrame([r for rs in res for r in rs])
    n_reps = len(tasks)
    print(
        f"{n_reps} replications in {wall:.1f} s wall ({wall / n_reps:.2f} s per replication; "
        f"parent CPU {cpu:.1f} s{'' if args.n_jobs == 1 else ', workers not counted'}); "
        f"python {platform.python_version()}, {platform.machine()}",
        flush=True,
    )
    return df


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    ok = df[df["ok"]]
    g = ok.groupby(["dgp", "design", "cluster", "n", "band"], sort=False)
    tab = g.agg(
        reps=("covered", "size"),
        coverage=("covered", "mean"),
        half_width=("half_width", "mean"),
        bandwidth=("bandwidth", "mean"),
        bias_bandwidth=("bias_bandwidth", "mean"),
        seconds=("seconds", "mean"),
    )
    tab["coverage_se"] = np.sqrt(tab["coverage"] * (1 - tab["coverage"]) / tab["reps"])
    # bootstrap SD over the Monte Carlo SD of the estimate, averaged over the deciles (the
    # constant-width R3D band does not expose its SD: see its studentised twin)
    taus = [c for c in ok.columns if c.startswith("tau_")]
    sds = [c.replace("tau_", "sd_") for c in taus]
    if taus and all(c in ok.columns for c in sds):
        mc_sd = g[taus].std().to_numpy()
        boot = g[sds].mean().to_numpy()
        tab["sd_ratio"] = np.mean(boot / mc_sd, axis=1)
        tab["mc_sd"] = mc_sd.mean(axis=1)
    failed = df[~df["ok"]].groupby(["dgp", "design", "cluster", "n", "band"]).size()
    tab["failed"] = failed.reindex(tab.index).fillna(0).astype(int)
    cols = ["reps", "failed", "coverage", "coverage_se", "half_width", "bandwidth"]
    extra = [c for c in ("sd_ratio", "mc_sd") if c in tab.columns]
    return tab[[*cols, "bias_bandwidth", *extra, "seconds"]]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=500)
    ap.add_argument("--n", type=int, nargs="+", default=[200, 500, 1000])
    ap.add_argument("--dgp", nargs="+", default=["dgp1", "dgp2"], choices=["dgp1", "dgp2"])
    ap.add_argument("--design", nargs="+", default=["sharp", "fuzzy"], choices=["sharp", "fuzzy"])
    ap.add_argument("--cluster", nargs="+", default=["no", "yes"], choices=["no", "yes"])
    ap.add_argument("--method", default="frechet", choices=["simple", "frechet"])
    ap.add_argument("--kernel", default=None, help="R3D's default (triangular) when omitted")
    ap.add_argument("--robust-p", type=int, default=1)
    ap.add_argument("--robust-h", default="r3d", choices=["r3d", "mserd"])
    ap.add_argument(
        "--robust-b",
        default="mserd",
        choices=["mserd", "h"],
        help="bias bandwidth: rdrobust's mserd b, or b = h (rho = 1)",
    )
    ap.add_argument("--vce", default="hc2", choices=["hc0", "hc1", "hc2", "hc3"])
    ap.add_argument("--delta", type=float, default=0.0)
    ap.add_argument("--delta-lambda", type=float, default=0.0)
    ap.add_argument("--n-draws", type=int, default=50)
    ap.add_argument("--cluster-size", type=int, default=5)
    ap.add_argument("--cluster-sd", type=float, default=1.0)
    ap.add_argument("--n-bootstrap", type=int, default=1000)
    ap.add_argument("--alpha", type=float, default=0.05)
    ap.add_argument("--n-jobs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=20251301)
    ap.add_argument("--out", type=Path, default=None, help="CSV of per-replication records")
    args = ap.parse_args(argv)
    df = run(args)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        df.to_csv(args.out, index=False)
    with pd.option_context("display.width", 160, "display.max_rows", 500):
        print(summarise(df).round(4).to_string())


if __name__ == "__main__":
    main()
