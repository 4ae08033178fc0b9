"""Regenerate the Monte Carlo validity study: docs/validity.md and docs/validity/*.png.

One command reproduces everything (about 30 minutes on 2 cores with the defaults)::

    python benchmarks/run_validity.py --n-jobs 2

Stages (each writes its raw tables to docs/validity/data/*.csv, so the report can be
rebuilt from them with ``--stages report``):

``target``
    n = 500 units, 50 draws, nine deciles, B = 1000; ``--reps`` replications (2000) of
    DGP 1 (no effect), DGP 2 (no effect) and DGP 2 with a shape effect
    (delta_lambda = 0.5); both methods; the default mode, the R package (``compat="R"``)
    and the ablations between them.
``grid``
    n = 200 and 1000 (``--reps-grid`` replications, 500), default mode and ``compat="R"``.
``power``
    Nullity-test rejection rates as the location effect delta grows (``--reps-power``
    replications per point, 500), both DGPs, both modes.
``oracle``
    DGP 1 at fixed bandwidths (``--reps-oracle`` replications, 500): the bootstrap's
    variance estimate without bandwidth-selection noise.
``report``
    Figures and the markdown page. Sections of the page written by hand (between the
    markers :data:`KEEP_BEGIN` and :data:`KEEP_END`, e.g. the robust-band study of
    ``benchmarks/mc_debias.py``) are kept: the report re-emits them before its footer.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "validity"
DATA = OUT / "data"
PAGE = ROOT / "docs" / "validity.md"
#: markers around a hand-written section of the page, which a rerun of the report keeps
KEEP_BEGIN = "<!-- written by hand, kept by benchmarks/run_validity.py: begin -->"
KEEP_END = "<!-- written by hand, kept by benchmarks/run_validity.py: end -->"

ABLATION = ("paper", "paper-reg", "paper-lev", "R", "R+window", "R+window+lev")  # labels
MODES = ("paper", "R")
TARGET_CELLS = [
    ("dgp1", {"delta": 0.0}, "DGP 1, delta = 0"),
    ("dgp2", {"delta": 0.0, "delta_lambda": 0.0}, "DGP 2, delta = 0"),
    ("dgp2", {"delta": 0.0, "delta_lambda": 0.5}, "DGP 2, delta_lambda = 0.5"),
]
ORACLE_H = [0.6, 1.0]
POWER_DELTAS = {
    # DGP 2's units differ far more (mu_i ~ U(-5, 5) + 2X), so its effects must be larger
    "dgp1": [0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5],
    "dgp2": [0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0],
}
MODE_NAMES = {
    "paper": "default",
    "paper-reg": "default, paper's selector unregularised",
    "paper-lev": "default without leverage correction",
    "R": 'compat="R" (R3D 0.1.0)',
    "R+window": 'compat="R" + window residuals',
    "R+window+lev": 'compat="R" + window residuals + leverage correction',
}


def _save(res, name: str) -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    res.table.reset_index().to_csv(DATA / f"{name}_table.csv", index=False)
    res.per_quantile.reset_index().to_csv(DATA / f"{name}_per_quantile.csv", index=False)
    print(f"[{name}] {res.elapsed:.0f} s", flush=True)
    print(res.table.round(3).to_string(), flush=True)


def stage_target(args) -> None:
    from r3d.monte_carlo import ABLATION as MC_ABLATION
    from r3d.monte_carlo import monte_carlo

    for k, (dgp, kw, _) in enumerate(TARGET_CELLS):
        res = monte_carlo(
            dgp,
            n=500,
            n_reps=args.reps,
            n_bootstrap=1000,
            modes={k: MC_ABLATION[k] for k in ABLATION},
            rng=20250 + k,
            n_jobs=args.n_jobs,
            **kw,
        )
        _save(res, f"target_{k}")


def stage_grid(args) -> None:
    from r3d.monte_carlo import monte_carlo

    for k, (dgp, kw, _) in enumerate(TARGET_CELLS):
        if k == 1:
            continue  # DGP 2 without effect: covered at n = 500 by the target stage
        res = monte_carlo(
            dgp,
            n=[200, 1000],
            n_reps=args.reps_grid,
            n_bootstrap=1000,
            modes=MODES,
            rng=30250 + k,
            n_jobs=args.n_jobs,
            **kw,
        )
        _save(res, f"grid_{k}")


def stage_power(args) -> None:
    from r3d.monte_carlo import monte_carlo

    for dgp in ("dgp1", "dgp2"):
        res = monte_carlo(
            dgp,
            n=500,
            delta=POWER_DELTAS[dgp],
            n_reps=args.reps_power,
            n_bootstrap=1000,
            modes=MODES,
            rng=40250 if dgp == "dgp1" else 40251,
            n_jobs=args.n_jobs,
        )
        _save(res, f"power_{dgp}")


def stage_oracle(args) -> None:
    """DGP 1 at fixed (oracle) bandwidths: separates bandwidth-selection noise from the
    bootstrap's variance estimate."""
    from r3d.monte_carlo import ABLATION as MC_ABLATION
    from r3d.monte_carlo import monte_carlo

    for k, h in enumerate(ORACLE_H):
        res = monte_carlo(
            "dgp1",
            n=500,
            n_reps=args.reps_oracle,
            n_bootstrap=1000,
            modes={k: MC_ABLATION[k] for k in ("paper", "paper-lev")},
            estimator_params={"bandwidth": h},
            rng=50250 + k,
            n_jobs=args.n_jobs,
        )
        _save(res, f"oracle_{k}")


# --------------------------------------------------------------------------- report
def _read(name: str, kind: str = "table") -> pd.DataFrame | None:
    path = DATA / f"{name}_{kind}.csv"
    return pd.read_csv(path) if path.exists() else None


def _fmt(v: float, se: float | None = None) -> str:
    return f"{v:.3f}" if se is None else f"{v:.3f} ({se:.3f})"


def _md(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(lines)


def _target_table(tab: pd.DataFrame, label: str, modes=ABLATION) -> pd.DataFrame:
    rows = []
    for method in ("frechet", "simple"):
        for mode in modes:
            r = tab[(tab["method"] == method) & (tab["mode"] == mode)]
            if r.empty:
                continue
            r = r.iloc[0]
            rows.append(
                {
                    "design": label,
                    "method": method,
                    "mode": MODE_NAMES.get(mode, mode),
                    "reps": int(r["reps"]),
                    "uniform cov.": _fmt(r["uniform_coverage"], r["uniform_coverage_se"]),
                    "pointwise cov.": _fmt(r["pointwise_coverage"]),
                    "reject nullity": _fmt(r["reject_nullity"], r["reject_nullity_se"]),
                    "reject homog.": _fmt(r["reject_homogeneity"], r["reject_homogeneity_se"]),
                    "boot SD / SD": _fmt(r["sd_ratio"]),
                    "mean abs. bias": _fmt(r["mean_abs_bias"]),
                    "SD": _fmt(r["sd"]),
                    "mean h": _fmt(r["bandwidth"]),
                }
            )
    return pd.DataFrame(rows)


#: line style (colour, line style, marker) of each (method, mode) in the figures
STYLE = {
    ("frechet", "paper"): ("C0", "-", "o"),
    ("simple", "paper"): ("C1", "-", "s"),
    ("frechet", "R"): ("C0", "--", "o"),
    ("simple", "R"): ("C1", "--", "s"),
}


def _styled(tab: pd.DataFrame, sort_by: str | None = None):
    """``(rows, line keywords, label)`` of each (method, mode) of :data:`STYLE` in ``tab``
    (rows sorted by ``sort_by``); the pairs without rows are left out."""
    for (method, mode), (color, ls, marker) in STYLE.items():
        rows = tab[(tab["method"] == method) & (tab["mode"] == mode)]
        if rows.empty:
            continue
        if sort_by is not None:
            rows = rows.sort_values(sort_by)
        yield rows, {"color": color, "ls": ls, "marker": marker}, f"{method}, {MODE_NAMES[mode]}"


def _figures(targets, grids, powers) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = []
    # power curves
    avail = [(d, p) for d, p in powers if p is not None]
    if avail:
        fig, axes = plt.subplots(1, len(avail), figsize=(5.2 * len(avail), 3.8), squeeze=False)
        for ax, (dgp, tab) in zip(axes[0], avail, strict=True):
            for r, kw, label in _styled(tab, "delta"):
                ax.plot(r["delta"], r["reject_nullity"], ms=4, label=label, **kw)
            ax.axhline(0.05, color="0.5", lw=0.8, ls=":")
            ax.set_ylim(0, 1.02)
            ax.set_xlabel("location effect delta")
            ax.set_ylabel("rejection rate of the nullity test")
            ax.set_title(dgp.upper().replace("DGP", "DGP "))
        axes[0][0].legend(frameon=False, fontsize=8)
        fig.tight_layout()
        fig.savefig(OUT / "power.png", dpi=120)
        plt.close(fig)
        made.append("power.png")
    # coverage by n
    frames = [t for t in targets if t is not None] + [g for g in grids if g is not None]
    if frames:
        allt = pd.concat(frames, ignore_index=True)
        allt = allt[allt["mode"].isin(MODES)]
        designs = [
            ("dgp1", 0.0, "DGP 1, delta = 0"),
            ("dgp2", 0.5, "DGP 2, delta_lambda = 0.5"),
        ]
        fig, axes = plt.subplots(1, 2, figsize=(10.4, 3.8))
        for ax, (dgp, dl, title) in zip(axes, designs, strict=True):
            sub = allt[(allt["dgp"] == dgp) & np.isclose(allt["delta_lambda"], dl)]
            for r, kw, label in _styled(sub, "n"):
                ax.errorbar(
                    r["n"],
                    r["uniform_coverage"],
                    yerr=1.96 * r["uniform_coverage_se"],
                    ms=4,
                    capsize=2,
                    label=label,
                    **kw,
                )
            ax.axhspan(0.94, 0.96, color="0.9")
            ax.axhline(0.95, color="0.5", lw=0.8, ls=":")
            ax.set_xscale("log")
            ax.minorticks_off()
            ax.set_xticks([200, 500, 1000], labels=["200", "500", "1000"])
            ax.set_xlabel("units n")
            ax.set_ylabel("uniform coverage (95% band)")
            ax.set_title(title)
        axes[0].legend(frameon=False, fontsize=8)
        fig.tight_layout()
        fig.savefig(OUT / "coverage_by_n.png", dpi=120)
        plt.close(fig)
        made.append("coverage_by_n.png")
    # ablation
    t0 = targets[0]
    if t0 is not None:
        fig, ax = plt.subplots(figsize=(8.5, 3.8))
        width = 0.38
        labels = [MODE_NAMES[m].replace(" + ", "\n+ ") for m in reversed(ABLATION)]
        for k, method in enumerate(("frechet", "simple")):
            r = t0[t0["method"] == method].set_index("mode").loc[list(reversed(ABLATION))]
            y = np.arange(len(ABLATION)) + (k - 0.5) * width
            ax.barh(y, r["uniform_coverage"], height=width, color=f"C{k}", label=method)
            ax.errorbar(
                r["uniform_coverage"],
                y,
                xerr=1.96 * r["uniform_coverage_se"],
                fmt="none",
                ecolor="k",
                capsize=2,
            )
        ax.set_yticks(np.arange(len(ABLATION)), labels=labels, fontsize=8)
        ax.axvline(0.95, color="0.3", ls=":")
        ax.set_xlim(0.88, 0.98)
        ax.set_xlabel("uniform coverage of the 95% band (DGP 1, n = 500)")
        ax.legend(frameon=False)
        fig.tight_layout()
        fig.savefig(OUT / "ablation.png", dpi=120)
        plt.close(fig)
        made.append("ablation.png")
    # per-quantile bias, SD ratio, pointwise coverage
    pq = _read("target_2", "per_quantile")
    if pq is not None:
        fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
        for r, kw, label in _styled(pq):
            axes[0].plot(r["quantile"], r["bias"], ms=3, label=label, **kw)
            axes[1].plot(r["quantile"], r["sd_ratio"], ms=3, **kw)
            axes[2].plot(r["quantile"], r["pointwise_coverage"], ms=3, **kw)
        axes[0].axhline(0, color="0.5", lw=0.8)
        axes[1].axhline(1, color="0.5", lw=0.8)
        axes[2].axhline(0.95, color="0.5", lw=0.8)
        for ax, t in zip(
            axes,
            ["bias of tau_hat(q)", "bootstrap SD / sampling SD", "pointwise coverage"],
            strict=True,
        ):
            ax.set_xlabel("quantile level q")
            ax.set_title(t)
        axes[0].legend(frameon=False, fontsize=7)
        fig.suptitle("DGP 2 with a shape effect (delta_lambda = 0.5), n = 500", fontsize=10)
        fig.tight_layout()
        fig.savefig(OUT / "per_quantile_dgp2.png", dpi=120)
        plt.close(fig)
        made.append("per_quantile_dgp2.png")
    return made


def _rng(vals) -> str:
    lo, hi = float(np.min(vals)), float(np.max(vals))
    return f"{lo:.3f}" if abs(hi - lo) < 5e-4 else f"{lo:.3f}-{hi:.3f}"


def _findings(targets: list[pd.DataFrame]) -> str:
    """Summary paragraph with the headline numbers, computed from the target tables."""
    allt = pd.concat(targets, ignore_index=True)
    size_null = allt[np.isclose(allt["delta"], 0) & np.isclose(allt["delta_lambda"], 0)]

    def pick(df, mode):
        return df[df["mode"] == mode]

    lines = ["## Findings\n"]
    for mode, name in (("paper", "Default mode"), ("R", '`compat="R"`')):
        a, z = pick(allt, mode), pick(size_null, mode)
        lines.append(
            f"* **{name}** (n = 500, {int(a['reps'].min())} replications, both DGPs and both "
            f"methods): uniform coverage {_rng(a['uniform_coverage'])}, pointwise coverage "
            f"{_rng(a['pointwise_coverage'])}; nullity-test size {_rng(z['reject_nullity'])};"
            f" homogeneity-test size {_rng(z['reject_homogeneity'])}; bootstrap SD / "
            f"sampling SD {_rng(a['sd_ratio'])}; mean absolute bias "
            f"{_rng(a['mean_abs_bias'])} against a sampling SD of {_rng(a['sd'])}."
        )
    t0 = targets[0]

    def cov(mode):
        return _rng(t0[t0["mode"] == mode]["uniform_coverage"])

    def ratio(mode):
        return _rng(t0[t0["mode"] == mode]["sd_ratio"])

    lines.append(
        f"* **Why the R package under-covers** (DGP 1): its uniform coverage is {cov('R')}. "
        f"Keeping the residuals of every unit in the kernel window raises it to "
        f"{cov('R+window')}; dividing each residual by `sqrt(1 - h_ii)` raises it to "
        f"{cov('R+window+lev')} (bootstrap SD / sampling SD {ratio('R')} -> "
        f"{ratio('R+window')} -> {ratio('R+window+lev')}). The bias is negligible, so "
        "the gap is the bootstrap's variance estimate, not the centring or the critical "
        "value."
    )
    lines.append(
        f"* **Why the default mode needs its two additions**: without the leverage "
        f"correction its DGP 1 coverage is {cov('paper-lev')}; with the paper's bandwidth "
        f"selector unregularised it is {cov('paper-reg')} (bootstrap SD / sampling SD "
        f"{ratio('paper-reg')}, mean bandwidth "
        f"{_rng(t0[t0['mode'] == 'paper-reg']['bandwidth'])} against "
        f"{_rng(t0[t0['mode'] == 'paper']['bandwidth'])}). Both designs have a bias "
        "difference of zero at the cutoff (the curvature of the conditional mean quantile "
        "function is continuous there), so the MSE-optimal bandwidth is infinite and the "
        "unregularised selector returns noise-driven, often very large bandwidths; the "
        "bootstrap conditions on the bandwidth and misses that noise, most visibly for "
        "`simple`, whose per-quantile bandwidths vary independently. The default mode adds "
        "the Imbens-Kalyanaraman / rdrobust regularisation (3 times the estimated variance "
        "of the bias estimate added to the squared bias difference), which stabilises the "
        "bandwidth at the cost of a larger SD (compare the SD columns)."
    )
    lines.append(
        "* What remains: in the default mode the bootstrap SD is still 0-3% below the "
        "sampling SD. Part of it is the noise of the (regularised) bandwidth, part is that "
        "the HC2 correction is exact only for homoskedastic errors (the unit-level "
        "variance changes with x in both designs); at fixed bandwidths the ratio is "
        "0.975-0.995 (last section). Small samples under-cover (n = 200: about 0.92-0.93 "
        "in the default mode, 0.89-0.90 for the R package), and the homogeneity test sits "
        "at the upper edge of its size window (0.056-0.061). At n = 1000 (500 "
        "replications) the DGP 1 bands over-cover (0.96-0.98)."
    )
    t2 = targets[2]
    pw = {m: _rng(t2[t2["mode"] == m]["reject_nullity"]) for m in ("paper", "paper-reg")}
    lines.append(
        "* The price of the regularisation is power: the regularised bandwidth is smaller, "
        "so the SD is about 10% larger; the nullity test's power against the DGP 2 shape "
        f"effect (delta_lambda = 0.5) is {pw['paper']} against {pw['paper-reg']} "
        "unregularised (whose bands cover "
        f"{_rng(t2[t2['mode'] == 'paper-reg']['uniform_coverage'])} there and "
        f"{_rng(t0[t0['mode'] == 'paper-reg']['uniform_coverage'])} in DGP 1)."
    )
    return "\n".join(lines) + "\n"


def kept_sections(text: str) -> list[str]:
    """The hand-written sections of a page: each block from :data:`KEEP_BEGIN` to
    :data:`KEEP_END` (markers included), in page order."""
    blocks = []
    start = 0
    while (i := text.find(KEEP_BEGIN, start)) >= 0:
        j = text.find(KEEP_END, i)
        if j < 0:
            raise ValueError(f"{PAGE}: {KEEP_BEGIN!r} has no matching {KEEP_END!r}.")
        blocks.append(text[i : j + len(KEEP_END)])
        start = j + len(KEEP_END)
    return blocks


def stage_report(args) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    targets = [_read(f"target_{k}") for k in range(len(TARGET_CELLS))]
    grids = [_read(f"grid_{k}") for k in range(len(TARGET_CELLS))]
    powers = [(d, _read(f"power_{d}")) for d in ("dgp1", "dgp2")]
    figs = _figures(targets, grids, powers)
    parts = [PAGE_HEAD]
    if all(t is not None for t in targets):
        parts.append(_findings(targets))
    # main table
    main = [
        _target_table(t, lab, MODES)
        for t, (_, _, lab) in zip(targets, TARGET_CELLS, strict=True)
        if t is not None
    ]
    if main:
        parts.append("## Main table: default mode against the R package (n = 500)\n")
        parts.append(MAIN_NOTE)
        parts.append(_md(pd.concat(main, ignore_index=True)) + "\n")
    if targets[0] is not None:
        parts.append("## Where the R package loses coverage (ablation, n = 500)\n")
        parts.append(ABLATION_NOTE)
        abl = [
            _target_table(t, lab)
            for t, (_, _, lab) in zip(targets, TARGET_CELLS, strict=True)
            if t is not None
        ]
        parts.append(_md(pd.concat(abl, ignore_index=True)) + "\n")
        if "ablation.png" in figs:
            parts.append("![ablation](validity/ablation.png)\n")
    if any(g is not None for g in grids):
        parts.append("## Sample size\n")
        parts.append(GRID_NOTE.format(reps=args.reps_grid))
        big = []
        for g, (_, _, lab) in zip(grids, TARGET_CELLS, strict=True):
            if g is None:
                continue
            for nv in sorted(g["n"].unique()):
                t = _target_table(g[g["n"] == nv], lab, MODES)
                t.insert(1, "n", nv)
                big.append(t)
        parts.append(_md(pd.concat(big, ignore_index=True)) + "\n")
        if "coverage_by_n.png" in figs:
            parts.append("![coverage by n](validity/coverage_by_n.png)\n")
    if any(p is not None for _, p in powers):
        parts.append("## Power of the nullity test\n")
        parts.append(POWER_NOTE.format(reps=args.reps_power))
        for dgp, p in powers:
            if p is None:
                continue
            wide = p.pivot_table(index="delta", columns=["method", "mode"], values="reject_nullity")
            wide.columns = [f"{m}, {MODE_NAMES[o]}" for m, o in wide.columns]
            wide = wide.reset_index().round(3)
            parts.append(f"**{dgp.upper()}** (rejection rate of the nullity test)\n")
            parts.append(_md(wide) + "\n")
        if "power.png" in figs:
            parts.append("![power](validity/power.png)\n")
    oracle = [_read(f"oracle_{k}") for k in range(len(ORACLE_H))]
    if any(o is not None for o in oracle):
        parts.append("## Diagnosis: bandwidth selection and the bootstrap SD\n")
        parts.append(ORACLE_NOTE.format(reps=args.reps_oracle))
        rows = []
        for h, o in zip(ORACLE_H, oracle, strict=True):
            if o is not None:
                t = _target_table(o, "DGP 1, delta = 0", ("paper", "paper-lev"))
                t.insert(1, "bandwidth", h)
                rows.append(t.drop(columns=["mean h"]))
        parts.append(_md(pd.concat(rows, ignore_index=True)) + "\n")
    pq = _read("target_2", "per_quantile")
    if pq is not None:
        parts.append("## Per quantile (DGP 2 with a shape effect, n = 500)\n")
        sub = pq[pq["mode"].isin(MODES)][
            [
                "method",
                "mode",
                "quantile",
                "true",
                "bias",
                "sd",
                "rmse",
                "sd_ratio",
                "pointwise_coverage",
            ]
        ].round(3)
        sub["mode"] = sub["mode"].map(MODE_NAMES)
        parts.append(_md(sub) + "\n")
        if "per_quantile_dgp2.png" in figs:
            parts.append("![per quantile](validity/per_quantile_dgp2.png)\n")
    # the hand-written sections of the current page stay (before the footer)
    if PAGE.exists():
        parts.extend(block + "\n" for block in kept_sections(PAGE.read_text()))
    parts.append(
        f"\n---\nGenerated by `python benchmarks/run_validity.py` on {time.strftime('%Y-%m-%d')}"
        f" (Python {platform.python_version()}, numpy {np.__version__}).\n"
    )
    PAGE.write_text("\n".join(parts))
    print(f"wrote {PAGE} and {', '.join(figs)}")


PAGE_HEAD = """# Statistical validity of r3d: Monte Carlo evidence

Do the bands cover and do the tests hold their size? This page reports a simulation study
of the `r3d` estimator on the two designs of the paper (Van Dijcke 2025, Section 5):

* **DGP 1**: `X ~ U(-1, 1)`, unit mean `mu_i ~ N(5 + 5X + delta 1{X >= 0}, 1)`, unit sd
  `|N(1 + X, 1)|`; constant true effect `delta`.
* **DGP 2**: unit samples `N(mu_i + delta 1{X >= 0}, 1) + 2 Exp(lambda_i + delta_lambda
  1{X >= 0})`, `mu_i = U(-5, 5) + 2X`, `lambda_i ~ U(0.5, 1.5)`; the true effect curve is
  computed exactly (`r3d.simulate.dgp2_effect`) and is not constant when `delta_lambda != 0`.

Every replication draws `n` units with 50 outcome draws each, selects the bandwidth(s) from
the data, estimates the effect at the nine deciles and runs the multiplier bootstrap
(B = 1000, Gaussian multipliers). All configurations of a replication share the data and
the multipliers. Uniform coverage is the share of replications whose 95% band contains the
true curve at all nine deciles; pointwise coverage is averaged over the deciles (the
pointwise intervals are `R3D.pointwise_band_`). Rejection rates are at the 5% level over the
whole grid; they are sizes where the null holds (nullity: delta = delta_lambda = 0;
homogeneity: every DGP 1 cell and DGP 2 without shape effect) and powers otherwise.
Monte Carlo standard errors are in parentheses (0.0049 for a rate of 0.95 with 2,000
replications).

The study is `r3d.monte_carlo.monte_carlo`. Its configurations are rules objects:
`r3d.PAPER` (default mode), `r3d.R3D_28744DB` (`compat="R"`) and the
`dataclasses.replace` variants of `r3d.monte_carlo.ABLATION` ("paper-reg" drops the selector's
regularisation, "paper-lev" the HC2 residuals; "R+window" keeps every unit of the kernel
window, "+lev" adds HC2). This page and its figures are regenerated by

    python benchmarks/run_validity.py --n-jobs 2

and a reduced version runs in the test suite (`pytest -m slow tests/r3d/test_monte_carlo.py`).
"""

MAIN_NOTE = """Targets for the default mode (95% nominal, 2,000 replications): uniform and pointwise
coverage in [0.94, 0.96]; nullity size in [0.04, 0.06] and homogeneity size in
[0.04, 0.06] where the effect is constant. "boot SD / SD" is the mean bootstrap standard
deviation of `tau_hat(q)` over its Monte Carlo standard deviation, averaged over the
deciles; "mean h" is the average selected bandwidth. `compat="R"` uses the R package's
defaults (Epanechnikov kernel, its bandwidth selector); the default mode uses the paper's
(triangular kernel, paper's selector).
"""

ABLATION_NOTE = """The R package's bootstrap keeps only the residuals of units with a positive
equivalent-kernel weight (dropping units near the edge of the window, whose weights are
negative for p = 2), and uses raw residuals, whose squares understate the variance by the
factor `1 - h_ii` (the unit's leverage, largest next to the cutoff where the weights are
largest). The ablation adds the two fixes of the default mode one at a time to the R
package's fit (same bandwidths and kernel), and removes the leverage correction from the
default mode:
"""

GRID_NOTE = """Default mode and `compat="R"` at n = 200 and 1000 ({reps} replications per cell;
n = 500 is the main table).
"""

POWER_NOTE = """Rejection rate of the nullity test (H0: tau(q) = 0 at every decile) as the location
effect grows, n = 500, {reps} replications per point (the same samples at every delta:
common random numbers). DGP 2 here has no shape effect (delta_lambda = 0).
"""


ORACLE_NOTE = """The bootstrap conditions on the selected bandwidth, so the sampling SD of
`tau_hat(h_hat)` contains a component (the noise of `h_hat`) that the bootstrap cannot see.
This is why "boot SD / SD" is far below one for the unregularised selector (whose
bandwidths are erratic in these designs). At fixed bandwidths ({reps} replications, DGP 1,
default mode with and without the leverage correction; with a common bandwidth the two
methods coincide here) the leverage correction raises the ratio from 0.95-0.98 to
0.975-0.995. What is left at h = 0.6 (about 100 effective units per side) is the
small-sample bias of residual-based variance estimates under heteroskedasticity, which
HC2 removes only for homoskedastic errors; the corresponding coverage (0.93 at h = 0.6
over 500 replications, standard error 0.012) is the finite-sample floor of this
bootstrap at that bandwidth:
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--stages", default="target,grid,power,oracle,report")
    ap.add_argument("--reps", type=int, default=2000)
    ap.add_argument("--reps-grid", type=int, default=500)
    ap.add_argument("--reps-power", type=int, default=500)
    ap.add_argument("--reps-oracle", type=int, default=500)
    ap.add_argument("--n-jobs", type=int, default=2)
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    stages = {s.strip() for s in args.stages.split(",") if s.strip()}
    t0 = time.perf_counter()
    for name, fn in (
        ("target", stage_target),
        ("grid", stage_grid),
        ("power", stage_power),
        ("oracle", stage_oracle),
        ("report", stage_report),
    ):
        if name in stages:
            fn(args)
    print(f"done in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
