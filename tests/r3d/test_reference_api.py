"""The public ``R3D(compat="R")`` estimator against the R package's own reference files.

``test_reference_r.py`` checks the numerical cores; this module checks that the public
API (parameter names, defaults, input containers, multipliers) reaches the same numbers.
Files: ``tests/r3d/reference`` (R3D commit 28744db, MIT; the ``reference_csv`` fixture).
"""

import numpy as np
import pytest

from r3d import R3D, QuantileFunctions

TOL = 1e-6  # layer 3-5 tolerance of the issue (relative)

CASES = {
    # reference file: (data file, R3D keyword arguments); R's defaults are method="simple"
    # and the Epanechnikov kernel (our compat="R" default kernel)
    "sharp_simple_20": ("sharp_simple_20", {"method": "simple"}),
    "sharp_simple_triangular": ("sharp_simple_20", {"method": "simple", "kernel": "triangular"}),
    "sharp_simple_uniform": ("sharp_simple_20", {"method": "simple", "kernel": "uniform"}),
    "sharp_simple_p1": ("sharp_simple_20", {"method": "simple", "p": 1}),
    "sharp_simple_p3": ("sharp_simple_20", {"method": "simple", "p": 3}),
    "sharp_frechet_20": ("sharp_simple_20", {"method": "frechet"}),
    "sharp_simple_fixedbw": ("sharp_simple_20", {"method": "simple", "bandwidth": 0.5}),
    "coverage": ("sharp_simple_20", {"method": "simple", "coverage_correction": True}),
    "fuzzy_simple_20": ("fuzzy_simple_20", {"method": "simple"}),
    "fuzzy_frechet_20": ("fuzzy_simple_20", {"method": "frechet"}),
    "small_sample": ("small_sample", {"method": "simple"}),
    "dgp2": ("dgp2", {"method": "simple"}),
}


def _load(read, name):
    d = read(f"ref_data_{name}.csv")
    qcols = [c for c in d.columns if c.startswith("Q")]
    t = d["T_treat"].to_numpy(float) if "T_treat" in d else None
    return d["X"].to_numpy(float), d[qcols].to_numpy(float), t


def _rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


@pytest.mark.parametrize("name", sorted(CASES))
def test_public_estimator_matches_r(reference_csv, name):
    data, kw = CASES[name]
    x, Q, t = _load(reference_csv, data)
    ref = reference_csv(f"ref_results_{name}.csv")
    grid = ref["q"].to_numpy()
    est = R3D(compat="R", n_bootstrap=0, **kw).fit(x, QuantileFunctions(Q, grid), treatment=t)
    assert est.kernel_ == kw.get("kernel", "epanechnikov")
    assert _rel(est.tau_, ref["tau"]) < TOL
    assert _rel(est.bandwidth_, ref["bw_num"]) < TOL
    assert _rel(est.quantile_function_plus_, ref["int_plus"]) < TOL
    assert _rel(est.quantile_function_minus_, ref["int_minus"]) < TOL
    if "bw_den" in ref:
        assert _rel(est.bandwidth_treatment_, ref["bw_den"].iloc[0]) < TOL


def test_public_deterministic_bootstrap_matches_r(reference_csv):
    x, Q, _ = _load(reference_csv, "sharp_simple_20")
    band = reference_csv("ref_bootstrap_deterministic.csv")
    pv = reference_csv("ref_pvalues_deterministic.csv").set_index("test")
    xi = reference_csv("ref_xi_matrix.csv").to_numpy(float)
    grid = band["q"].to_numpy()
    est = R3D(method="simple", compat="R").fit(x, QuantileFunctions(Q, grid), multipliers=xi)
    assert _rel(est.critical_value_, band["crit_val"].iloc[0]) < TOL
    assert _rel(est.band_["lower"], band["cb_lower"]) < TOL
    assert _rel(est.band_["upper"], band["cb_upper"]) < TOL
    # R labels the whole grid [1/21, 20/21] as "[0.05, 0.95]" (two decimals)
    null, hom = est.test("nullity"), est.test("homogeneity")
    assert _rel(null.statistic, pv.loc["nullity:[0.05, 0.95]", "test_stat"]) < TOL
    assert _rel(hom.statistic, pv.loc["homogeneity:[0.05, 0.95]", "test_stat"]) < TOL
    assert null.pvalue == pv.loc["nullity:[0.05, 0.95]", "p_value"]
    assert hom.pvalue == pytest.approx(pv.loc["homogeneity:[0.05, 0.95]", "p_value"], abs=1e-12)
