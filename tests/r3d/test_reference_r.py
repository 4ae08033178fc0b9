"""Walk over the R3D reference outputs and check the port number for number (compat mode).

Layers 1-2 must match to 1e-10 (relative), layers 3-5 to 1e-6; the random-draw bootstrap
file (different multipliers) is compared loosely (band half-width within 15%).

The files (in tests/r3d/reference/, with their README) were written by the package's own
generator before three fixes of R3D 28744db (pilot residual variance below machine epsilon
replaced by 1; Gini critical value taken on |D_b|; Gini of a non-positive mean NA). None of
the quantities compared here depends on them (no Gini critical value is stored, the
reference designs have no constant residuals, and the Gini reference curves have positive
means), so the old files still pin 28744db; the three fixes are tested in test_trust.py
against the R source.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
import pandas as pd
import pytest

from estkit._bandwidth import density_at_cutoff
from estkit._locpoly import locpoly_boundary
from estkit._monotone import isotonic_regression
from r3d._estimate import R3DCore, estimate_r3d
from r3d._inference import (
    bootstrap_draws,
    gini_from_quantile,
    run_tests,
    uniform_band,
)
from r3d._rules import R3D_28744DB

L12, L345 = 1e-10, 1e-6
Read = Callable[[str], pd.DataFrame]


def _rel(ours, ref) -> float:
    a, b = np.asarray(ours, float), np.asarray(ref, float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


@cache
def _data(read: Read, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    d = read(f"ref_data_{name}.csv")
    T = d["T_treat"].to_numpy(float) if "T_treat" in d else None
    return d["X"].to_numpy(float), d.filter(regex=r"^Q\d+$").to_numpy(float), T


# ---------------------------------------------------------------- layer 1
def test_type7_quantiles(reference_csv: Read) -> None:
    ref = reference_csv("ref_quantiles.csv")
    for case in (1, 2, 3):
        y = reference_csv(f"ref_quantile_y_{case}.csv")["y"].to_numpy()
        sub = ref[ref["case"] == case]
        assert _rel(np.quantile(y, sub["q"].to_numpy()), sub["value"]) < L12


def test_density(reference_csv: Read) -> None:
    x = _data(reference_csv, "sharp_simple_20")[0]
    ref = reference_csv("ref_density.csv")
    f, b = density_at_cutoff(x, 0.0, "triangular")
    assert _rel([f, b, np.std(x, ddof=1)], ref.iloc[0].to_numpy()) < L12


def test_isotonic(reference_csv: Read) -> None:
    ref = reference_csv("ref_isotonic.csv")
    for _, g in ref.groupby("case"):
        g = g.sort_values("idx")
        assert _rel(isotonic_regression(g["input"].to_numpy(float)), g["output"]) < L12


@pytest.mark.parametrize("case", ["uniform", "exponential", "degenerate"])
def test_gini(reference_csv: Read, case: str) -> None:
    qf = reference_csv(f"ref_gini_qf_{case}.csv")
    ref = reference_csv("ref_gini.csv").set_index("case")["gini"][case]
    g = float(gini_from_quantile(qf["q"].to_numpy(), qf["qf"].to_numpy()))
    assert g == pytest.approx(ref, rel=L12, abs=1e-14)


# ---------------------------------------------------------------- layer 2
@pytest.mark.parametrize("kernel", ["triangular", "epanechnikov", "uniform"])
@pytest.mark.parametrize("side", ["plus", "minus"])
def test_locpoly(reference_csv: Read, kernel: str, side: str) -> None:
    x, Q, _ = _data(reference_csv, "sharp_simple_20")
    h = reference_csv(f"ref_locpoly_bw_{kernel}.csv")["h"].to_numpy()
    fit = locpoly_boundary(x, Q, 0.0, h, 2, kernel, side)
    A = reference_csv(f"ref_locpoly_alpha_{side}_{kernel}.csv").to_numpy()
    W = reference_csv(f"ref_locpoly_w_{side}_{kernel}.csv").to_numpy()
    # relative to each coefficient row's magnitude (15-digit CSVs limit elementwise accuracy)
    assert np.max(np.abs(fit.coef - A) / np.abs(A).max(axis=1, keepdims=True)) < L12
    assert np.max(np.abs(fit.weights - W)) / np.abs(W).max() < L12


# ---------------------------------------------------------------- layer 3
RESULTS = {
    "sharp_simple_epanechnikov": ("sharp_simple_20", {"kernel": "epanechnikov"}),
    "sharp_simple_triangular": ("sharp_simple_20", {"kernel": "triangular"}),
    "sharp_simple_uniform": ("sharp_simple_20", {"kernel": "uniform"}),
    "sharp_simple_20": ("sharp_simple_20", {}),
    "sharp_simple_99": ("sharp_simple_99", {"kernel": "triangular"}),
    "large_nq": ("large_nq", {}),
    "sharp_simple_p1": ("sharp_simple_20", {"p": 1}),
    "sharp_simple_p3": ("sharp_simple_20", {"p": 3}),
    "sharp_frechet_20": ("sharp_simple_20", {"method": "frechet"}),
    "fuzzy_simple_20": ("fuzzy_simple_20", {}),
    "fuzzy_frechet_20": ("fuzzy_simple_20", {"method": "frechet"}),
    "sharp_simple_fixedbw": ("sharp_simple_20", {"bandwidth": 0.5}),
    "small_sample": ("small_sample", {}),
    "coverage": ("sharp_simple_20", {"coverage_correction": True}),
    "dgp1": ("dgp1", {}),
    "dgp2": ("dgp2", {}),
}


@cache
def _fit(read: Read, name: str) -> R3DCore:
    data, kw = RESULTS[name]
    x, Q, T = _data(read, data)
    q = read(f"ref_results_{name}.csv")["q"].to_numpy()
    return estimate_r3d(x, Q, q, T=T, rules=R3D_28744DB, **kw)


@pytest.mark.parametrize("name", sorted(RESULTS))
def test_results(reference_csv: Read, name: str) -> None:
    ref = reference_csv(f"ref_results_{name}.csv")
    core = _fit(reference_csv, name)
    assert _rel(core.tau, ref["tau"]) < L345
    assert _rel(core.bandwidth, ref["bw_num"]) < L345
    assert _rel(core.plus, ref["int_plus"]) < L345
    assert _rel(core.minus, ref["int_minus"]) < L345
    if "bw_den" in ref:
        assert _rel(np.full(len(ref), core.bandwidth_treatment), ref["bw_den"]) < L345


@pytest.mark.parametrize("kernel", ["epanechnikov", "triangular", "uniform"])
def test_result_coefficients(reference_csv: Read, kernel: str) -> None:
    core = _fit(reference_csv, f"sharp_simple_{kernel}")
    for side, coef in (("plus", core.coef_plus), ("minus", core.coef_minus)):
        A = reference_csv(f"ref_est_alpha_{side}_sharp_simple_{kernel}.csv").to_numpy()
        assert np.max(np.abs(coef - A) / np.abs(A).max(axis=1, keepdims=True)) < L345


# ---------------------------------------------------------------- layer 4
@pytest.mark.parametrize("case", ["sharp", "frechet", "fuzzy"])
def test_bwselect(reference_csv: Read, case: str) -> None:
    from estkit._bandwidth import select_bandwidth

    x, Q, T = _data(reference_csv, "fuzzy_simple_20" if case == "fuzzy" else "sharp_simple_20")
    ref = reference_csv(f"ref_bwselect_{case}.csv")
    sel = select_bandwidth(
        x,
        Q,
        0.0,
        criterion="imse" if case == "frechet" else "mse",
        s=1,
        p=2,
        kernel="triangular",
        T=T,
        q=ref["q"].to_numpy(),
        rules=R3D_28744DB.selector,
    )
    got = {
        "h_star_num": sel.h,
        "pilot_h_num": sel.pilot_h,
        "B_plus": sel.B_plus,
        "B_minus": sel.B_minus,
        "V_plus": sel.V_plus,
        "V_minus": sel.V_minus,
        "f_X_hat": sel.density,
        "h_star_den": sel.h_treatment,
        "pilot_h_den": sel.pilot_h_treatment,
    }
    for col in ref.columns.drop("q"):
        assert _rel(np.broadcast_to(got[col], len(ref)), ref[col]) < L345, col
        # elementwise too (was tests/estkit/test_bandwidth.py::test_selector_matches_r)
        np.testing.assert_allclose(
            np.broadcast_to(got[col], len(ref)), ref[col], rtol=1e-9, err_msg=col
        )


# ---------------------------------------------------------------- layer 5
@cache
def _det(read: Read):
    core = _fit(read, "sharp_simple_epanechnikov")
    xi = read("ref_xi_matrix.csv").to_numpy()
    return core, bootstrap_draws(core, xi, block_size=64)


def test_bootstrap_draws(reference_csv: Read) -> None:
    _, dr = _det(reference_csv)
    ref = reference_csv("ref_bootstrap_taus.csv").to_numpy()  # m x B
    assert np.max(np.abs(dr.tau.T - ref)) / np.abs(ref).max() < L345


def test_bootstrap_band(reference_csv: Read) -> None:
    core, dr = _det(reference_csv)
    band = uniform_band(core, dr, 0.05)
    ref = reference_csv("ref_bootstrap_deterministic.csv")
    assert band.crit == pytest.approx(ref["crit_val"][0], rel=L345)
    assert _rel(band.lower, ref["cb_lower"]) < L345
    assert _rel(band.upper, ref["cb_upper"]) < L345


def test_pvalues(reference_csv: Read) -> None:
    core, dr = _det(reference_csv)
    ref = reference_csv("ref_pvalues_deterministic.csv").set_index("test")
    out = {t.label: t for t in run_tests(core, dr, ("nullity", "homogeneity"))}
    assert set(out) == set(ref.index)
    for label, row in ref.iterrows():
        assert out[label].p_value == pytest.approx(row["p_value"], abs=1e-12)
        assert out[label].statistic == pytest.approx(row["test_stat"], rel=L345)


def test_random_bootstrap_loosely(reference_csv: Read) -> None:
    core = _fit(reference_csv, "sharp_simple_epanechnikov")
    ref = reference_csv("ref_results_bootstrap_sharp.csv")
    pref = reference_csv("ref_pvalues_bootstrap_sharp.csv").set_index("test")["p_value"]
    rng = np.random.default_rng(20250101)
    dr = bootstrap_draws(core, rng.standard_normal((core.n, 500)))
    band = uniform_band(core, dr, 0.05)
    half_ref = (ref["cb_upper"] - ref["cb_lower"]).to_numpy() / 2
    assert np.all(np.abs(band.crit / half_ref - 1) < 0.15)
    assert _rel(core.tau, ref["tau"]) < L345
    out = {t.label: t.p_value for t in run_tests(core, dr)}
    assert out["nullity:[0.05, 0.95]"] == pref["nullity:[0.05, 0.95]"] == 0
    assert abs(out["homogeneity:[0.05, 0.95]"] - pref["homogeneity:[0.05, 0.95]"]) < 0.05
