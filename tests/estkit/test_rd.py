import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmarks.rd_oracles import rd_data  # the oracle script's data sets (same draws)
from estkit import DegenerateDataWarning, EstkitWarning, local_polynomial_rd

REFERENCE = Path(__file__).parent / "reference" / "rdrobust_2.1.1.json"


def _data(seed, n=800):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, n)
    y = 1 + x + 0.3 * x**2 + 0.5 * (x >= 0) + rng.normal(0, 0.3, n)
    return x, y


def test_estimate_and_calibration():
    z = []
    for seed in range(150):
        x, y = _data(seed)
        r = local_polynomial_rd(x, y)
        z.append((r.estimate - 0.5) / r.std_error)
    z = np.asarray(z)
    assert abs(z.mean()) < 0.3
    assert 0.85 < z.std() < 1.2
    assert 0.0 <= np.mean(np.abs(z) > 1.96) < 0.12


def test_summary_and_clusters():
    x, y = _data(0)
    r = local_polynomial_rd(x, y, cluster=(x * 20).astype(int), alpha=0.1)
    text = str(r)
    assert "Conventional" in text and "90% lower" in text and "Clusters" in text
    assert r.n_clusters == 39  # truncation toward zero: labels -19..19
    lo, hi = r.conf_int
    assert lo < r.estimate < hi


def test_bad_input():
    x, y = _data(1)
    with pytest.raises(ValueError, match="single cluster"):
        local_polynomial_rd(x, y, cluster=np.zeros_like(x))
    with pytest.raises(ValueError, match="`bandwidth` must be finite and positive"):
        local_polynomial_rd(x, y, bandwidth=-1.0)
    with pytest.raises(ValueError, match="`y` has"):
        local_polynomial_rd(x, y[:-1])


# --------------------------------------------------------------------------------------
# parity with rdrobust 2.1.1 (numbers in reference/rdrobust_2.1.1.json, see its README)


_REF = json.loads(REFERENCE.read_text())


def _case_id(rec):
    case = rec["case"]
    return "-".join(f"{k}={v}" for k, v in case.items())


@pytest.mark.parametrize("rec", _REF, ids=[_case_id(r) for r in _REF])
def test_matches_rdrobust(rec):
    case = rec["case"]
    d = rd_data(case["k"])
    kw = dict(p=case["p"], kernel=case["kernel"], vce=case["vce"])
    if "h" in case:
        kw["bandwidth"] = case["h"]
        kw["bias_bandwidth"] = case.get("b", case["h"])
    if case.get("cluster"):
        kw["cluster"] = d["cl"]
    if case.get("fuzzy"):
        kw["treatment"] = d["t"]
    if case.get("covs"):
        kw["covariates"] = d["z"]
    if case.get("weights"):
        kw["weights"] = d["w"]
    if case["k"] == 2:
        with pytest.warns(EstkitWarning, match="Mass points"):
            res = local_polynomial_rd(d["x"], d["y"], d["c"], **kw)
    else:
        res = local_polynomial_rd(d["x"], d["y"], d["c"], **kw)
    rel = 1e-6
    assert res.estimate == pytest.approx(rec["tau_cl"], rel=rel)
    assert res.estimate_bias_corrected == pytest.approx(rec["tau_bc"], rel=rel)
    assert res.std_error == pytest.approx(rec["se_cl"], rel=rel)
    assert res.std_error_robust == pytest.approx(rec["se_rb"], rel=rel)
    assert res.conf_int == pytest.approx(tuple(rec["ci_cl"]), rel=rel)
    assert res.conf_int_robust == pytest.approx(tuple(rec["ci_rb"]), rel=rel)
    assert res.bandwidth == pytest.approx(rec["h"], rel=rel)
    assert res.bias_bandwidth == pytest.approx(rec["b"], rel=rel)
    assert [res.n_eff_below, res.n_eff_above] == rec["n_h"]


def test_reference_covers_the_grid():
    cases = [r["case"] for r in _REF]
    for p in (1, 2):
        for kern in ("triangular", "epanechnikov", "uniform"):
            vces = {c["vce"] for c in cases if c["p"] == p and c["kernel"] == kern}
            assert vces == {"nn", "hc0", "hc1", "hc2", "hc3"}
    assert any(c.get("cluster") for c in cases) and any(c.get("fuzzy") for c in cases)
    assert any(c.get("covs") for c in cases) and any(c["k"] == 2 for c in cases)


def test_three_row_printout_and_fields():
    d = rd_data(0)
    res = local_polynomial_rd(d["x"], d["y"], vce="nn")
    text = str(res.summary())
    for row in ("Conventional", "Bias-corrected", "Robust", "Bandwidth b", "mserd"):
        assert row in text
    tab = res.table
    assert list(tab.index) == ["Conventional", "Bias-corrected", "Robust"]
    assert tab.loc["Robust", "Coef."] == res.estimate_bias_corrected
    assert tab.loc["Bias-corrected", "Std. Err."] == res.std_error
    lo, hi = res.conf_int_robust
    assert lo < res.estimate_bias_corrected < hi
    assert isinstance(res.conf_int_robust, tuple)


def test_manual_bandwidth_defaults_b_to_h():
    d = rd_data(0)
    res = local_polynomial_rd(d["x"], d["y"], bandwidth=0.3)
    assert res.bandwidth == res.bias_bandwidth == 0.3
    assert res.bandwidth_method == "manual"


def test_constant_outcome_is_exactly_zero():
    # issue 11: rounding residue of a constant outcome must never be an effect
    for seed in range(40):
        x = np.random.default_rng(seed).uniform(-1, 1, 300)
        with pytest.warns(DegenerateDataWarning, match="no real variation"):
            res = local_polynomial_rd(x, np.full(300, 7.3))
        assert res.estimate == 0.0 and res.std_error == 0.0 and res.pvalue == 1.0
        assert res.conf_int == (0.0, 0.0) and res.conf_int_robust == (0.0, 0.0)
        assert res.degenerate
    assert "no real variation" in str(res.summary())


def test_pandas_inputs_aligned_by_label():
    d = rd_data(0)
    idx = pd.Index([f"u{i}" for i in range(d["x"].size)])
    x = pd.Series(d["x"], index=idx)
    y = pd.Series(d["y"], index=idx)
    t = pd.Series(d["t"], index=idx)
    perm = np.random.default_rng(5).permutation(d["x"].size)
    ref = local_polynomial_rd(x, y, treatment=t)
    shuf = local_polynomial_rd(x, y.iloc[perm], treatment=t.iloc[perm])
    assert shuf.estimate == pytest.approx(ref.estimate, rel=1e-12)
    assert shuf.std_error_robust == pytest.approx(ref.std_error_robust, rel=1e-12)
    with pytest.raises(ValueError, match="different index labels"):
        local_polynomial_rd(x, y.set_axis(idx[::-1].str.upper()))


def test_options_validated():
    d = rd_data(0)
    x, y = d["x"], d["y"]
    with pytest.raises(ValueError, match="`vce` must be one of"):
        local_polynomial_rd(x, y, vce="robust")
    with pytest.raises(ValueError, match="`kernel` must be one of"):
        local_polynomial_rd(x, y, kernel="gaussian")
    with pytest.raises(ValueError, match=r"`p` must be between 0 and 10; got 11\."):
        local_polynomial_rd(x, y, p=11)
    with pytest.raises(TypeError, match="`bandwidth` must be a positive number"):
        local_polynomial_rd(x, y, bandwidth="0.3")
    with pytest.raises(ValueError, match="`bias_bandwidth` must be finite and positive"):
        local_polynomial_rd(x, y, bandwidth=0.3, bias_bandwidth=0.0)
    with pytest.raises(ValueError, match="CR2/CR3"):
        local_polynomial_rd(x, y, vce="hc2", cluster=d["cl"])
    with pytest.raises(ValueError, match="`treatment` has no jump"):
        local_polynomial_rd(x, y, treatment=np.ones_like(x))
    with pytest.raises(ValueError, match="Inconsistent numbers of units"):
        local_polynomial_rd(x, y, covariates=d["z"][:-1])


def test_clustered_summary_and_counts():
    d = rd_data(1)
    res = local_polynomial_rd(d["x"], d["y"], d["c"], cluster=d["cl"])
    assert res.n_clusters == 40
    assert "CR1" in str(res.summary())


def test_mass_points_warning_names_counts():
    x = np.round(np.random.default_rng(3).uniform(-1, 1, 500), 1)
    y = x + (x >= 0) + np.random.default_rng(4).normal(0, 0.1, 500)
    with pytest.warns(EstkitWarning, match=r"Mass points .* distinct values among"):
        res = local_polynomial_rd(x, y)
    assert res.mass_points
    assert "mass points" in str(res.summary())
    d = rd_data(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not local_polynomial_rd(d["x"], d["y"]).mass_points
