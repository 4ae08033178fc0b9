from itertools import pairwise

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from estkit import NotFittedError, TestResult
from r3d import R3D, Distributions, QuantileFunctions
from r3d.simulate import simulate_dgp1, simulate_normal

Q5 = [0.1, 0.25, 0.5, 0.75, 0.9]


@pytest.fixture(scope="module")
def fitted(sharp):
    return R3D(quantiles=Q5, n_bootstrap=300, random_state=0).fit(sharp.x, sharp.y)


def test_api_attributes(fitted):
    est = fitted
    assert est.quantiles_.tolist() == Q5
    for name in ("tau_", "bandwidth_", "quantile_function_plus_", "quantile_function_minus_"):
        assert getattr(est, name).shape == (5,)
    assert est.bandwidth_treatment_ is None
    assert np.ptp(est.bandwidth_) == 0  # frechet: one bandwidth
    assert list(est.band_.columns) == ["lower", "upper"]
    assert est.band_.index.tolist() == Q5
    assert np.all(est.band_["lower"] <= est.tau_) and np.all(est.tau_ <= est.band_["upper"])
    assert isinstance(est.critical_value_, float)
    np.testing.assert_allclose(est.tau_, 2.0, atol=0.3)
    np.testing.assert_allclose(est.tau_, est.quantile_function_plus_ - est.quantile_function_minus_)
    assert np.all(np.diff(est.quantile_function_plus_) >= 0)
    t = est.test("nullity", quantile_range=(0.1, 0.9))
    assert isinstance(t, TestResult) and t.pvalue < 0.05
    assert est.test("homogeneity").statistic >= 0
    assert np.isfinite(est.test("gini").pvalue)


def test_summary_and_plots(fitted):
    text = str(fitted.summary())
    for needle in ("Design", "sharp", "Below / above", "Bandwidth", "q=0.5", "nullity", "gini"):
        assert needle in text
    ax = fitted.plot()
    assert ax.get_xlabel() == "quantile level q"
    ax2 = fitted.plot_rd(quantiles=(0.25, 0.75), n_bins=10)
    assert len(ax2.get_lines()) > 4
    plt.close("all")


def test_sklearn_contract(sharp):
    est = R3D(method="simple", p=1, kernel="uniform", n_bootstrap=20)
    params = est.get_params()
    assert params["method"] == "simple" and params["kernel"] == "uniform"
    c = clone(est)
    assert c.get_params() == params
    assert c.set_params(p=2).p == 2
    assert not hasattr(est, "tau_")
    assert est.fit(sharp.x, sharp.y) is est
    with pytest.raises(NotFittedError):
        R3D().test("nullity")


def test_random_state_and_multipliers_deterministic(sharp):
    a = R3D(quantiles=Q5, n_bootstrap=100, random_state=3).fit(sharp.x, sharp.y)
    b = R3D(quantiles=Q5, n_bootstrap=100, random_state=3).fit(sharp.x, sharp.y)
    assert a.critical_value_ == b.critical_value_
    xi = np.random.default_rng(0).standard_normal((300, 50))
    c = R3D(quantiles=Q5).fit(sharp.x, sharp.y, multipliers=xi)
    d = R3D(quantiles=Q5, random_state=99).fit(sharp.x, sharp.y, multipliers=xi)
    assert c.critical_value_ == d.critical_value_
    assert c.n_bootstrap_ == 50


def test_input_forms_agree(sharp):
    x = sharp.x
    samples = [sharp.y.values[a:b] for a, b in pairwise(sharp.y.offsets)]
    kw = dict(quantiles=Q5, n_bootstrap=0, bandwidth=0.6)
    from_list = R3D(**kw).fit(x, samples)
    from_arr = R3D(**kw).fit(pd.Series(x), np.vstack(samples))
    from_dist = R3D(**kw).fit(y=sharp.y)  # running variable carried by the container
    Q = sharp.y.quantiles(Q5)
    from_q = R3D(**kw).fit(x, QuantileFunctions(Q, Q5))
    long = pd.DataFrame(
        {"unit": np.repeat(np.arange(300), 40), "y": sharp.y.values, "x": np.repeat(x, 40)}
    )
    from_long = R3D(**kw).fit(
        y=Distributions.from_long(long, unit="unit", outcome="y", running="x")
    )
    for other in (from_arr, from_dist, from_q, from_long):
        np.testing.assert_allclose(other.tau_, from_list.tau_, rtol=1e-12)
    assert from_list.band_ is None


def test_fuzzy_design():
    sim = simulate_normal(n=400, n_draws=30, effect=2.0, fuzzy=True, rng=5)
    est = R3D(quantiles=Q5, n_bootstrap=200, random_state=1).fit(
        sim.x, sim.y, treatment=sim.treatment
    )
    assert est.fuzzy_ and isinstance(est.bandwidth_treatment_, float)
    assert 0.6 < est.first_stage_ < 1.0
    np.testing.assert_allclose(est.tau_, 2.0, atol=0.4)
    assert "fuzzy" in str(est.summary())


def test_cluster_multipliers(sharp):
    cl = np.arange(300) // 10
    est = R3D(quantiles=Q5, n_bootstrap=100, random_state=0).fit(sharp.x, sharp.y, cluster=cl)
    assert est.n_clusters_ == 30
    assert "Clusters" in str(est.summary())


def test_missing_running_variable(sharp):
    x = sharp.x.copy()
    x[[3, 7]] = np.nan
    # an explicit x that differs from the running variable stored in the container is a
    # conflict (issue 11), so this test passes the samples without a stored running variable
    y = Distributions(sharp.y.values, sharp.y.offsets)
    with pytest.raises(ValueError, match="missing='drop'"):
        R3D(quantiles=Q5, n_bootstrap=0).fit(x, y)
    est = R3D(quantiles=Q5, n_bootstrap=0, missing="drop").fit(x, y)
    assert est.n_dropped_ == 2 and est.n_units_ == 298
    assert "2 unit(s) dropped for a missing running variable" in str(est.summary())
    x[5] = np.inf  # non-finite values are dropped too
    est = R3D(quantiles=Q5, n_bootstrap=0, missing="drop").fit(x, y)
    assert est.n_dropped_ == 3
    with pytest.raises(ValueError, match="`x` conflicts with the running variable stored"):
        R3D(quantiles=Q5, n_bootstrap=0, missing="drop").fit(x, sharp.y)


@pytest.mark.parametrize(
    ("kwargs", "fit_kwargs", "match"),
    [
        ({"quantiles": [0.0, 0.5]}, {}, "`quantiles` must lie strictly inside"),
        ({"quantiles": [0.5, 1.2]}, {}, "`quantiles` must lie strictly inside"),
        ({"method": "kernel"}, {}, "`method` must be one of"),
        ({"kernel": "gaussian"}, {}, "`kernel` must be one of"),
        ({"alpha": 95}, {}, "alpha=0.05"),
        ({"cutoff": 5.0}, {}, "no unit lies above the cutoff"),
        ({}, {"treatment": np.ones(300)}, "`treatment` is constant"),
        ({}, {"x": np.zeros(299)}, "`x` has 299 values"),
        ({}, {"multipliers": np.ones((10, 3))}, "multipliers"),
        ({"bandwidth": -1.0}, {}, "`bandwidth` must be finite and positive"),
    ],
)
def test_bad_input(sharp, kwargs, fit_kwargs, match):
    fk = {"x": sharp.x, "y": sharp.y, **fit_kwargs}
    params = {"quantiles": Q5, "n_bootstrap": 20, **kwargs}
    with pytest.raises(ValueError, match=match):
        R3D(**params).fit(**fk)


def test_bad_outcomes():
    x = np.array([-0.5, -0.2, 0.3, 0.6])
    with pytest.raises(ValueError, match="unit 2 has an empty outcome sample"):
        R3D().fit(x, [[1.0], [2.0], [], [3.0]])
    with pytest.raises(ValueError, match="non-finite outcomes"):
        R3D().fit(x, [[1.0], [2.0], [np.inf], [3.0]])
    with pytest.raises(ValueError, match="`x` is missing or non-finite"):
        R3D().fit(np.array([np.inf, 0.1, 0.2, 0.3]), [[1.0], [2.0], [3.0], [3.0]])


def test_too_few_units_in_window():
    sim = simulate_dgp1(n=60, n_draws=10, rng=0)
    with pytest.raises(ValueError, match="window"):
        R3D(quantiles=Q5, bandwidth=0.02, n_bootstrap=0).fit(sim.x, sim.y)


def test_fuzzy_first_stage_near_zero():
    sim = simulate_normal(n=200, n_draws=10, rng=1)
    # treatment depends smoothly on x (no jump at the cutoff): first stage exactly zero
    t = 0.3 + 0.2 * sim.x
    with pytest.raises(ValueError, match="treatment"):
        R3D(quantiles=Q5, n_bootstrap=0, bandwidth=0.5, bandwidth_treatment=0.5).fit(
            sim.x, sim.y, treatment=t
        )


def test_needs_p_plus_two_units_per_side():
    # three units above the cutoff: enough to identify a quadratic, not to leave a residual
    x = np.array([-0.9, -0.7, -0.5, -0.3, -0.1, 0.1, 0.2, 0.3])
    y = [np.arange(5.0) + xi for xi in x]
    with pytest.raises(
        ValueError, match=r"bandwidth h = 1 .*3 unit\(s\) at or above.*fewer than 4 units"
    ):
        R3D(quantiles=Q5, bandwidth=1.0, n_bootstrap=0, p=2).fit(x, y)
    est = R3D(quantiles=Q5, bandwidth=1.0, n_bootstrap=0, p=1).fit(x, y)
    np.testing.assert_allclose(est.tau_, 0.0, atol=1e-10)


def test_n_jobs_does_not_change_results(sharp):
    a = R3D(quantiles=Q5, n_bootstrap=200, random_state=5).fit(sharp.x, sharp.y)
    b = R3D(quantiles=Q5, n_bootstrap=200, random_state=5, n_jobs=2).fit(sharp.x, sharp.y)
    np.testing.assert_allclose(b.critical_value_, a.critical_value_, rtol=1e-12)


@pytest.mark.parametrize("method", ["frechet", "simple"])
def test_units_of_x_and_y_do_not_matter(method):
    # selected bandwidths scale with x and estimates with y (paper mode)
    sim = simulate_dgp1(n=400, n_draws=30, delta=1.0, rng=3)
    base = R3D(method=method, quantiles=Q5, n_bootstrap=0).fit(sim.x, sim.y)
    for cx, cy in ((1000.0, 1.0), (0.01, 1.0), (1.0, 1e-7), (1.0, 1e7)):
        y = Distributions(sim.y.values * cy, sim.y.offsets)
        est = R3D(method=method, quantiles=Q5, n_bootstrap=0).fit(sim.x * cx, y)
        np.testing.assert_allclose(est.bandwidth_ / cx, base.bandwidth_, rtol=1e-8)
        np.testing.assert_allclose(est.tau_ / cy, base.tau_, rtol=1e-8)


def test_selection_with_too_few_units_is_explained():
    sim = simulate_dgp1(n=200, n_draws=10, rng=0)
    cut = np.sort(sim.x)[-2]  # two units at or above the cutoff
    with pytest.raises(ValueError, match="at least 4 units on each side"):
        R3D(quantiles=Q5, n_bootstrap=0, cutoff=cut).fit(sim.x, sim.y)


def test_review_regressions(sharp):
    x, y = sharp.x, sharp.y
    fit = R3D(quantiles=Q5, n_bootstrap=100, random_state=0).fit
    # clusters: NaN labels named, single cluster refused, mixed types kept distinct
    cl = np.arange(300) % 10
    bad = cl.astype(object)
    bad[4] = None
    with pytest.raises(ValueError, match="`cluster` is missing for 1 unit"):
        fit(x, y, cluster=bad)
    assert R3D(quantiles=Q5, n_bootstrap=100, missing="drop").fit(x, y, cluster=bad).n_dropped_ == 1
    with pytest.raises(ValueError, match="single cluster"):
        fit(x, y, cluster=np.zeros(300))
    mixed = np.array([1, "1"] * 150, dtype=object)
    assert fit(x, y, cluster=mixed).n_clusters_ == 2
    # multipliers: numeric 2-D with enough draws; clusters not claimed when multipliers given
    with pytest.raises(TypeError, match="numeric"):
        fit(x, y, multipliers=np.ones((300, 50), dtype=bool))
    with pytest.raises(ValueError, match=r"shape \(n_units, B\)"):
        fit(x, y, multipliers=np.ones(300))
    with pytest.raises(ValueError, match="at least 20"):
        fit(x, y, multipliers=np.ones((300, 5)))
    xi = np.random.default_rng(1).standard_normal((300, 40))
    # clusters are not silently dropped when multipliers are given: refused (issue 11)
    with pytest.raises(ValueError, match="cluster-level multipliers"):
        fit(x, y, cluster=cl, multipliers=xi)
    assert fit(x, y, multipliers=xi).n_clusters_ is None
    with pytest.raises(ValueError, match="`n_bootstrap` = 5 is too small"):
        R3D(quantiles=Q5, n_bootstrap=5).fit(x, y)
    # numeric settings named
    with pytest.raises(TypeError, match="`cutoff` must be a number"):
        R3D(quantiles=Q5, cutoff="a").fit(x, y)
    with pytest.raises(TypeError, match="`bandwidth` must be a number"):
        R3D(quantiles=Q5, bandwidth="mserd").fit(x, y)
    # the fitted alpha is used after set_params
    est = fit(x, y)
    cv = est.test("nullity").critical_value
    est.set_params(alpha=0.10)
    assert est.test("nullity").critical_value == cv
    assert "95% uniform band" in str(est.summary())
    # Gini: no range, no negative outcomes
    with pytest.raises(ValueError, match="does not apply"):
        est.test("gini", quantile_range=(0.2, 0.5))
    neg = Distributions(y.values - 100.0, y.offsets)
    est_neg = R3D(quantiles=Q5, n_bootstrap=100, random_state=0).fit(x, neg)
    with pytest.raises(ValueError, match="non-negative outcomes"):
        est_neg.test("gini")
    assert "gini" not in str(est_neg.summary()).split("Tests over the whole grid")[1]


def test_test_range_snaps_to_grid_points(sharp):
    grid = [0.1, 0.2, 0.1 * 3, 0.4]  # 0.1 * 3 = 0.30000000000000004
    est = R3D(quantiles=grid, n_bootstrap=100, random_state=0).fit(sharp.x, sharp.y)
    t = est.test("homogeneity", quantile_range=(0.1, 0.3))
    assert t.quantile_range == (0.1, 0.1 * 3)
    full = est.test("homogeneity", quantile_range=(0.1, 0.3000001))
    assert t.statistic == full.statistic


def test_compat_weights_select_bandwidth_on_unweighted_quantiles(sharp):
    w = [np.random.default_rng(i).uniform(0.5, 2.0, 40) for i in range(300)]
    samples = [sharp.y.values[a:b] for a, b in pairwise(sharp.y.offsets)]
    kw = dict(quantiles=Q5, n_bootstrap=0, compat="R", method="simple")
    weighted = R3D(**kw).fit(sharp.x, samples, weights=w)
    plain = R3D(**kw).fit(sharp.x, samples)
    np.testing.assert_allclose(weighted.bandwidth_, plain.bandwidth_)


def test_default_kernel_follows_the_mode(sharp):
    # kernel=None means "the rules' default" (issue 12: no private str sentinel)
    assert R3D().get_params()["kernel"] is None
    kw = dict(quantiles=Q5, n_bootstrap=0)
    assert R3D(**kw).fit(sharp.x, sharp.y).kernel_ == "triangular"
    assert R3D(compat="R", **kw).fit(sharp.x, sharp.y).kernel_ == "epanechnikov"
    assert clone(R3D(compat="R", **kw)).fit(sharp.x, sharp.y).kernel_ == "epanechnikov"
    explicit = R3D(compat="R", kernel="triangular", **kw).fit(sharp.x, sharp.y)
    assert explicit.kernel_ == "triangular"
