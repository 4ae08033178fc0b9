"""Monte Carlo study: a fast smoke test and a reduced study (``-m slow``).

The full study (2,000 replications per cell, docs/validity.md) is run by
``benchmarks/run_validity.py``. The slow tests below repeat a reduced version (200
replications, n = 500) and assert ranges that hold with high probability given Monte Carlo
error: the standard error of a rate near 0.95 with 200 replications is 0.015, so the
coverage window [0.90, 0.99] is about three standard errors wide on each side of the
nominal level (and the rejection-rate window [0.01, 0.10] likewise around 0.05).
"""

from dataclasses import replace

import joblib
import numpy as np
import pandas as pd
import pytest

from r3d import PAPER, R3D, R3D_28744DB, Distributions
from r3d.monte_carlo import ABLATION, MonteCarloResults, monte_carlo


@pytest.fixture(scope="module")
def smoke():
    return monte_carlo(
        "dgp1",
        n=200,
        n_reps=20,
        n_bootstrap=99,
        modes={
            "paper": "paper",
            "R": R3D_28744DB,
            "R+window+lev": replace(R3D_28744DB, residual_support="window", hc2=True),
        },
        rng=5,
    )


def test_smoke_structure(smoke):
    assert isinstance(smoke, MonteCarloResults)
    tab = smoke.table
    assert len(tab) == 6  # 2 methods x 3 modes
    assert (tab["reps"] == 20).all() and (tab["failed"] == 0).all()
    for col in ("uniform_coverage", "pointwise_coverage", "reject_nullity", "reject_homogeneity"):
        assert tab[col].between(0, 1).all()
    assert (tab["sd"] > 0).all() and (tab["sd_ratio"] > 0).all()
    pq = smoke.per_quantile
    assert len(pq) == 6 * 9
    np.testing.assert_allclose(pq["bias"], pq["mean"] - pq["true"])
    np.testing.assert_allclose(pq["rmse"] ** 2, pq["bias"] ** 2 + pq["sd"] ** 2 * 19 / 20)
    assert set(smoke.replications["mode"]) == {"paper", "R", "R+window+lev"}
    assert smoke.settings["n_reps"] == 20
    text = str(smoke.summary())
    for needle in ("R3D Monte Carlo study", "unif cov", "bootSD/SD", "R+window+lev"):
        assert needle in text
    assert "<table" in smoke._repr_html_()
    with pytest.raises(AttributeError):
        smoke.elapsed = 0.0


def test_smoke_paired_ablation(smoke):
    # the same data and multipliers for every configuration; the R fit's two fixes only
    # change the bootstrap residuals, so the estimates are identical
    e = smoke.estimates.set_index(["method", "rep", "quantile", "mode"])["tau"].unstack()
    np.testing.assert_array_equal(e["R"], e["R+window+lev"])
    r = smoke.replications.set_index(["method", "rep", "mode"])["crit"].unstack()
    assert (r["R+window+lev"] >= r["R"]).mean() > 0.9


def test_results_do_not_depend_on_n_jobs():
    kw = {"n": 150, "n_reps": 3, "n_bootstrap": 49, "methods": ["frechet"], "rng": 2}
    a = monte_carlo("dgp2", delta=[0.0, 1.0], delta_lambda=0.3, **kw)
    # threads keep the test fast; seeds are per task, so any backend gives the same draws
    with joblib.parallel_backend("threading"):
        b = monte_carlo("dgp2", delta=[0.0, 1.0], delta_lambda=0.3, n_jobs=2, **kw)
    pd.testing.assert_frame_equal(a.estimates, b.estimates)
    # common random numbers: replication r sees the same x at every delta
    tab = a.table.reset_index()
    assert sorted(tab["delta"].unique()) == [0.0, 1.0]


def test_invalid_arguments():
    with pytest.raises(ValueError, match="Mode"):
        monte_carlo(n_reps=1, modes=["python"])
    with pytest.raises(TypeError, match="Mode"):
        monte_carlo(n_reps=1, modes=[PAPER, 3])
    with pytest.raises(ValueError, match="estimator_params"):
        monte_carlo(n_reps=1, estimator_params={"compat": "R"})
    with pytest.raises(ValueError, match="quantiles"):
        monte_carlo(n_reps=1, quantiles=[0.5, 0.2])


# --------------------------------------------------------------------------- reduced study
#: size of the reduced study (the full one: docs/validity.md)
REDUCED = {"n": 500, "n_reps": 200, "n_bootstrap": 500, "n_jobs": 2}


@pytest.fixture(scope="module")
def study_dgp1():
    modes = {k: ABLATION[k] for k in ("paper", "paper-reg", "R", "R+window+lev")}
    return monte_carlo("dgp1", modes=modes, rng=123, **REDUCED).table.reset_index()


@pytest.fixture(scope="module")
def study_dgp2():
    study = monte_carlo("dgp2", delta_lambda=0.5, modes=("paper",), rng=124, **REDUCED)
    return study.table.reset_index()


def _row(tab, method, mode):
    r = tab[(tab["method"] == method) & (tab["mode"] == mode)]
    assert len(r) == 1
    return r.iloc[0]


@pytest.mark.slow
@pytest.mark.parametrize("method", ["frechet", "simple"])
def test_default_mode_dgp1_coverage_and_size(study_dgp1, method):
    r = _row(study_dgp1, method, "paper")
    assert r["reps"] == 200 and r["failed"] == 0
    assert 0.90 <= r["uniform_coverage"] <= 0.99
    assert 0.92 <= r["pointwise_coverage"] <= 0.98
    assert 0.01 <= r["reject_nullity"] <= 0.10
    assert 0.01 <= r["reject_homogeneity"] <= 0.10
    # DGP 1 has linear conditional means: the bias is negligible against the sampling SD
    assert r["mean_abs_bias"] < 0.25 * r["sd"]
    # the bootstrap SD tracks the sampling SD (which also carries bandwidth-selection noise)
    assert 0.8 <= r["sd_ratio"] <= 1.15


@pytest.mark.slow
@pytest.mark.parametrize("method", ["frechet", "simple"])
def test_default_mode_fixes_close_the_gap(study_dgp1, method):
    # paired on the same samples and multipliers: window residuals + leverage correction
    # never lower the R package's coverage and raise its bootstrap SD
    base = _row(study_dgp1, method, "R")
    fixed = _row(study_dgp1, method, "R+window+lev")
    assert fixed["uniform_coverage"] >= base["uniform_coverage"]
    assert fixed["sd_ratio"] > base["sd_ratio"]


@pytest.mark.slow
@pytest.mark.parametrize("method", ["frechet", "simple"])
def test_bandwidth_regularisation_stabilises_the_bootstrap(study_dgp1, method):
    # DGP 1 has no bias difference at the cutoff: the paper's selector picks erratic,
    # often huge bandwidths whose noise the bootstrap cannot see; the regularised
    # selector's bootstrap SD matches the sampling SD more closely
    reg = _row(study_dgp1, method, "paper")
    raw = _row(study_dgp1, method, "paper-reg")
    assert reg["bandwidth"] < raw["bandwidth"]
    assert abs(reg["sd_ratio"] - 1) < abs(raw["sd_ratio"] - 1)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["frechet", "simple"])
def test_default_mode_dgp2_heterogeneous_effect(study_dgp2, method):
    r = _row(study_dgp2, method, "paper")
    assert 0.90 <= r["uniform_coverage"] <= 0.99
    assert 0.92 <= r["pointwise_coverage"] <= 0.98
    # the effect curve is not constant: homogeneity is rejected often
    assert r["reject_homogeneity"] >= 0.5


@pytest.mark.slow
def test_nullity_power_rises_with_delta():
    res = monte_carlo(
        "dgp1",
        n=500,
        delta=[0.0, 0.75, 2.0],
        n_reps=100,
        n_bootstrap=500,
        methods=["frechet"],
        modes=("paper",),
        rng=125,
        n_jobs=2,
    )
    power = res.table.reset_index().set_index("delta")["reject_nullity"]
    assert power[0.0] <= 0.12
    assert power[0.0] < power[0.75] < power[2.0]
    assert power[2.0] >= 0.95


def _fuzzy_replication(seed: int, method: str) -> tuple[bool, float]:
    """One fuzzy-design replication: DGP 1 with P(D = 1) = 0.1 + 0.8 1{X >= 0}, effect 1."""
    g = np.random.default_rng(seed)
    n, k = 500, 50
    x = g.uniform(-1, 1, n)
    d = (g.random(n) < 0.1 + 0.8 * (x >= 0)).astype(float)
    mu = g.normal(5 + 5 * x + d, 1.0)
    sd = np.abs(g.normal(1 + x, 1.0))
    draws = mu[:, None] + sd[:, None] * g.standard_normal((n, k))
    y = Distributions(draws.ravel(), np.arange(n + 1) * k, running=x)
    est = R3D(method=method, quantiles=np.arange(1, 10) / 10, n_bootstrap=300, random_state=seed)
    est.fit(y=y, treatment=d)
    band = est.band_
    return bool(np.all((band["lower"] <= 1.0) & (band["upper"] >= 1.0))), float(est.tau_.mean())


@pytest.mark.slow
@pytest.mark.parametrize("method", ["frechet", "simple"])
def test_fuzzy_design_coverage(method):
    # not part of the paper's tables: a check that the fuzzy bootstrap is calibrated
    # (200 replications: Monte Carlo SE of a 0.95 rate is 0.015)
    res = [_fuzzy_replication(seed, method) for seed in range(200)]
    coverage = np.mean([r[0] for r in res])
    assert 0.90 <= coverage <= 0.99
    assert abs(np.mean([r[1] for r in res]) - 1.0) < 0.1
