"""Speed of the windowed boundary local polynomial core (estkit._windowed) against
``locpoly_boundary`` as the selector's Step 2 and the R3D side fits call it today.

Run: ``python benchmarks/bench_windowed.py [--n 1e6] [--skip-locpoly | --all-locpoly]``.
Data: benchmark case 6 of ``bench_r3d.py`` (``quantile_matrix``: n units x 99 quantiles).
For per-column bandwidths (the ``"simple"`` method) and one common bandwidth (``"frechet"``), p = 2
and 3, both sides, it times (wall and CPU = ``time.process_time``, all threads):

1. Step 2 of the selector: ``locpoly_boundary`` over blocks of columns plus the sums
   ``_step2`` forms from its (n, m) outputs (coef, HC0 variance of one coefficient,
   ``sum(K e^2) / sum(K)``) against ``prepare_side`` + ``fit_summaries``;
2. the side fits: ``locpoly_boundary`` over blocks of columns plus the assembly of
   ``_fit_sides`` (fitted values, weights, leverages, supports) against ``fit_into``
   writing into preallocated arrays;

and prints the ratios, then an estimate of ``select_bandwidth`` Step 2 + ``_fit_sides``
with the core wired in (both sides; Step 2 at p = s + 1 = 2, side fits at p = 2, plus the
residual pass ``_fit_sides`` keeps). The machine's load is printed: on a shared machine
the wall times depend on it, the CPU times less so.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from scipy.stats import norm

from estkit._locpoly import locpoly_boundary
from estkit._windowed import fit_into, fit_summaries, prepare_side

KERNEL = "epanechnikov"


def quantile_matrix(n: int, seed: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """x and the n x 99 quantile matrix of ``bench_r3d.quantile_matrix``."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, n)
    g99 = np.arange(1, 100) / 100
    Q = (5 + x + 2 * (x >= 0))[:, None] + norm.ppf(g99)[None, :] * np.abs(
        1 + 0.2 * rng.standard_normal((n, 1))
    )
    return x, Q


def timed(f):
    t, c = time.perf_counter(), time.process_time()
    out = f()
    return out, time.perf_counter() - t, time.process_time() - c


def blocks(n: int, m: int, per_col: int) -> list[slice]:
    """Column blocks of the consumers' default memory budget (the matrix size)."""
    budget = max(64 * 2**20, 8 * n * m)
    step = max(1, min(m, budget // (8 * per_col * n)))
    return [slice(a, min(a + step, m)) for a in range(0, m, step)]


def step2_locpoly(x, Q, h, p, side):
    n, m = Q.shape
    for c in blocks(n, m, 10):
        fit = locpoly_boundary(x, Q[:, c], 0.0, h[c], p, KERNEL, side, min_units=p + 1)
        _ = fit.coef[p], fit.coef_variance[p]
        kw = fit.kernel_weights
        _ = np.sum(kw * fit.resid**2, axis=0) / np.sum(kw, axis=0)


def sides_locpoly(x, Q, h, p, side, fitted):
    n, m = Q.shape
    common = bool(np.all(h == h[0]))
    if not common:
        wts, lev, sup = np.empty((n, m)), np.empty((n, m)), np.empty((n, m), dtype=bool)
    for c in blocks(n, m, 12):
        fit = locpoly_boundary(x, Q[:, c], 0.0, h[c], p, KERNEL, side, min_units=p + 2)
        fitted[:, c] += np.where(fit.in_window, fit.fitted, 0.0)
        if common:
            _ = fit.weights[:, :1].copy(), fit.in_window[:, :1].copy()
            _ = np.where(fit.in_window[:, :1], fit.leverage[:, :1], 0.0)
        else:
            wts[:, c], sup[:, c] = fit.weights, fit.in_window
            lev[:, c] = np.where(fit.in_window, fit.leverage, 0.0)


def sides_windowed(ps, Q, h, p, fitted):
    n, m = Q.shape
    k = 1 if np.all(h == h[0]) else m
    wts, lev, sup = np.zeros((n, k)), np.zeros((n, k)), np.zeros((n, k), dtype=bool)
    fit_into(ps, Q, h, p, fitted_out=fitted, weights_out=wts, leverage_out=lev, support_out=sup)
    return wts, lev, sup


def residual_pass(Q, fitted, sup, lev):
    """The part of _fit_sides that stays: resid = (Q - fitted) / sqrt(1 - lev) on the
    support, over row blocks."""
    n, m = Q.shape
    step = max(1, max(64 * 2**20, 8 * n * m) // (8 * 6 * m))
    for a in range(0, n, step):
        r = slice(a, min(a + step, n))
        e = np.where(sup[r], Q[r] - fitted[r], 0.0)
        fitted[r] = e / np.sqrt(np.clip(1.0 - lev[r], 1e-12, None))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=float, default=1e6)
    ap.add_argument("--skip-locpoly", action="store_true", help="time the new core only")
    ap.add_argument(
        "--all-locpoly",
        action="store_true",
        help="time locpoly_boundary in every case (default: p = 2, plus side only; the minus "
        "side is its mirror image and p = 3 costs about the same)",
    )
    args = ap.parse_args()
    n = int(args.n)
    x, Q = quantile_matrix(n)
    m = Q.shape[1]
    print(
        f"windowed core vs locpoly_boundary: {n:,d} units x {m} quantiles, kernel {KERNEL}; "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start"
    )
    print("   (times: wall / CPU seconds; ratio = locpoly / windowed, wall and CPU)")
    hs = {"per-column h": np.linspace(0.25, 0.45, m), "common h": np.full(m, 0.35)}
    totals = {}
    for hname, h in hs.items():
        for p in (2, 3):
            for side in ("plus", "minus"):
                ps, tp, cp = timed(lambda p=p, side=side: prepare_side(x, 0.0, side, KERNEL, p))
                _, t1, c1 = timed(lambda ps=ps, h=h, p=p: fit_summaries(ps, Q, h, p, var_rows=(p,)))
                fitted = np.zeros((n, m))
                _, t2, c2 = timed(lambda ps=ps, h=h, p=p, f=fitted: sides_windowed(ps, Q, h, p, f))
                del fitted
                line = (
                    f"   {hname:12s} p={p} {side:5s}: prepare {tp:5.2f}/{cp:5.2f}  "
                    f"step2 {t1:5.2f}/{c1:5.2f}  side fit {t2:5.2f}/{c2:5.2f}"
                )
                if not args.skip_locpoly and (args.all_locpoly or (p == 2 and side == "plus")):
                    _, l1, lc1 = timed(lambda h=h, p=p, side=side: step2_locpoly(x, Q, h, p, side))
                    fitted = np.zeros((n, m))
                    _, l2, lc2 = timed(
                        lambda h=h, p=p, side=side, f=fitted: sides_locpoly(x, Q, h, p, side, f)
                    )
                    del fitted
                    line += (
                        f" | locpoly step2 {l1:6.2f}/{lc1:6.2f} ({l1 / (tp + t1):5.1f}x/"
                        f"{lc1 / (cp + c1):5.1f}x)  side fit {l2:6.2f}/{lc2:6.2f} "
                        f"({l2 / (tp + t2):5.1f}x/{lc2 / (cp + c2):5.1f}x)"
                    )
                print(line, flush=True)
                if p == 2:
                    totals[(hname, side)] = (tp + t1 + t2, cp + c1 + c2)
    print("\nEstimate with the core wired in (Step 2 of select_bandwidth + _fit_sides, p = 2):")
    for hname, h in hs.items():
        wall = sum(totals[(hname, s)][0] for s in ("plus", "minus"))
        cpu = sum(totals[(hname, s)][1] for s in ("plus", "minus"))
        fitted = np.zeros((n, m))
        sup = np.zeros((n, 1 if hname == "common h" else m), dtype=bool)
        lev = np.zeros(sup.shape)
        for side in ("plus", "minus"):
            ps = prepare_side(x, 0.0, side, KERNEL, 2)
            _, lev_s, sup_s = sides_windowed(ps, Q, h, 2, fitted)
            sup |= sup_s
            lev += lev_s
        _, tr, cr = timed(lambda f=fitted, s=sup, v=lev: residual_pass(Q, f, s, v))
        del fitted
        print(
            f"   {hname:12s}: prepare + step2 + side fits {wall:5.2f} s wall / {cpu:5.2f} s "
            f"CPU, + residual pass {tr:5.2f} / {cr:5.2f} = {wall + tr:5.2f} / {cpu + cr:5.2f} s"
        )
    print(f"   load average at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
