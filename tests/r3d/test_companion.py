"""Companion analyses (issue 13): balance table, placebo cutoffs, donut, bandwidth
sensitivity and the scalar RD plot."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from estkit import DegenerateDataWarning, local_polynomial_rd
from r3d import (
    R3D,
    BandwidthSensitivity,
    QuantileFunctions,
    balance_table,
    bandwidth_sensitivity,
    donut,
    placebo_cutoffs,
    rdplot,
    rdplot_bins,
)
from r3d.simulate import simulate_dgp1

GRID = [0.25, 0.5, 0.75]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _est(**kw) -> R3D:
    kw.setdefault("quantiles", GRID)
    kw.setdefault("n_bootstrap", 199)
    kw.setdefault("random_state", 0)
    return R3D(**kw)


@pytest.fixture(scope="module")
def sim():
    return simulate_dgp1(n=400, n_draws=30, delta=2.0, rng=0)


# --------------------------------------------------------------------------- rdplot


def _d1():
    rng = np.random.default_rng(11)
    x = rng.uniform(-1, 1, 500)
    y = 1 + 2 * x - x**2 + 0.5 * (x >= 0) + rng.normal(0, 0.5, 500)
    return x, y, 0.0


def _d2():
    rng = np.random.default_rng(12)
    x = 2 * rng.beta(2, 4, 800) - 0.5
    y = np.sin(3 * x) + 0.3 * (x >= 0.2) + rng.normal(0, 0.3, 800)
    return x, y, 0.2


def _d3():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 500)
    y = x + 0.5 * (x >= 0) + rng.normal(0, 0.3, 500)
    return x, y, 0.0


# Numbers of bins from rdrobust 2.1.1 (Python), rdplot(y, x, c=c, binselect="es"), run on
# these data sets in the oracle venv /work/oracles/rd (identical with p=1, h=0.3).
RDPLOT_ES_BINS = {"d1": (13, 6), "d2": (15, 14), "d3": (9, 8)}


@pytest.mark.parametrize("name,data", [("d1", _d1), ("d2", _d2), ("d3", _d3)])
def test_rdplot_bins_match_rdrobust_es(name, data):
    x, y, c = data()
    bins = rdplot_bins(x, y, c)
    assert bins.attrs["n_bins"] == RDPLOT_ES_BINS[name]
    assert int(bins["n"].sum()) == x.size
    assert set(bins["side"]) == {"below", "above"}


def test_rdplot_bin_means_and_intervals_match_rdrobust():
    # rdrobust 2.1.1 rdplot(y, x, nbins=[5, 4], binselect="es") on d3, vars_bins rows
    # 0, 4 (below) and 5, 8 (above): mean x, mean y, N, ci_l, ci_r
    ref = {
        ("below", 0): (-0.8922082132027361, -0.8707159563819236, 47, -0.9538941420456337),
        ("below", 4): (-0.09746061728151022, -0.07736530192126882, 45, -0.16100508447076173),
        ("above", 0): (0.1329637816375618, 0.6242563481790335, 73, 0.5614842573576726),
        ("above", 3): (0.879720970386295, 1.4031701209658083, 73, 1.3368560553732867),
    }
    x, y, _ = _d3()
    bins = rdplot_bins(x, y, n_bins=(5, 4)).set_index(["side", "bin"])
    assert bins.attrs["n_bins"] == (5, 4)
    for key, (mx, my, n, lo) in ref.items():
        row = bins.loc[key]
        assert row["x_mean"] == pytest.approx(mx, rel=1e-12)
        assert row["y_mean"] == pytest.approx(my, rel=1e-12)
        assert row["n"] == n
        assert row["ci_lower"] == pytest.approx(lo, rel=1e-10)


@pytest.mark.parametrize(
    "p,kernel,h", [(1, "triangular", 0.4), (2, "epanechnikov", 0.6), (1, "uniform", None)]
)
def test_rdplot_fit_ends_equal_rd_boundary_estimates(p, kernel, h):
    x, y, c = _d2()
    ax = rdplot(x, y, c, p=p, kernel=kernel, bandwidth=h)
    rd = local_polynomial_rd(x, y, c, p=p, kernel=kernel, bandwidth=h)
    fits = [ln for ln in ax.lines if ln.get_color() == "C1" and len(ln.get_xdata()) == 200]
    assert len(fits) == 2
    left, right = fits
    assert left.get_xdata()[-1] == c and right.get_xdata()[0] == c
    assert left.get_ydata()[-1] == pytest.approx(rd.intercept_below, rel=1e-10)
    assert right.get_ydata()[0] == pytest.approx(rd.intercept_above, rel=1e-10)
    # the fits stay inside the bandwidth window
    assert left.get_xdata()[0] >= c - rd.bandwidth - 1e-12
    assert right.get_xdata()[-1] <= c + rd.bandwidth + 1e-12


def test_rdplot_global_fit_is_labelled_and_optional():
    x, y, _ = _d3()
    labels = [t.get_text() for t in rdplot(x, y, global_fit=True).get_legend().get_texts()]
    assert any(lab.startswith("global fit (not the estimate)") for lab in labels)
    assert any("bandwidth h" in lab for lab in labels)
    labels = [t.get_text() for t in rdplot(x, y, fit=False).get_legend().get_texts()]
    assert labels == ["bin means (9 | 8 bins, 95% CI)"]


def test_rdplot_options_and_edge_cases():
    x, y, _ = _d3()
    with pytest.raises(TypeError, match="`fit` must be True or False"):
        rdplot(x, y, fit="yes")
    with pytest.raises(TypeError, match="`global_fit` must be True or False"):
        rdplot(x, y, global_fit=1)
    with pytest.raises(ValueError, match="`n_bins` must be >= 1"):
        rdplot_bins(x, y, n_bins=0)
    with pytest.raises(ValueError, match="`n_bins` must be one positive integer or a pair"):
        rdplot_bins(x, y, n_bins=(1, 2, 3))
    with pytest.raises(ValueError, match="`kernel` must be one of"):
        rdplot(x, y, kernel="gaussian")
    with pytest.raises(ValueError, match=r"`p` must be between 0 and 10; got 11\."):
        rdplot(x, y, p=11)
    xn = x.copy()
    xn[3] = np.nan
    with pytest.raises(ValueError, match="`x` contains 1 non-finite"):
        rdplot_bins(xn, y)
    with pytest.raises(ValueError, match="no units at or above the cutoff 2"):
        rdplot_bins(x, y, cutoff=2.0)
    with pytest.raises(ValueError, match="at least 20 units"):
        rdplot_bins(x[:15], y[:15])
    assert rdplot_bins(x[:15], y[:15], n_bins=2).attrs["n_bins"] == (2, 2)
    # no slope and no noise: one bin per side, never a division by zero
    assert rdplot_bins(x, np.full_like(x, 3.0)).attrs["n_bins"] == (1, 1)
    # pandas: aligned by label
    idx = [f"u{i}" for i in range(x.size)]
    xs, ys = pd.Series(x, index=idx), pd.Series(y, index=idx)
    perm = np.random.default_rng(1).permutation(x.size)
    shuffled = rdplot_bins(xs, ys.iloc[perm])
    pd.testing.assert_frame_equal(shuffled, rdplot_bins(x, y))
    with pytest.raises(ValueError, match="different index labels"):
        rdplot_bins(xs, pd.Series(y))


# ---------------------------------------------------------------------- balance table


def _balance_data(seed: int, n: int = 600):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, n)
    z = pd.DataFrame(
        {
            "smooth": 2 + 3 * x - x**2 + rng.normal(0, 1, n),
            "jump": 1 + x + 2.0 * (x >= 0) + rng.normal(0, 1, n),
        }
    )
    return x, z


def test_balance_detects_jumps_and_not_smooth_covariates():
    pvals = np.array([balance_table(*_balance_data(s)).loc[:, "pvalue"] for s in range(20)])
    # smooth covariate: robust p > alpha in most seeds (expected 19 of 20)
    assert (pvals[:, 0] > 0.05).sum() >= 16
    # a jump of two noise standard deviations is detected every time
    assert (pvals[:, 1] < 0.05).all()


def test_balance_rows_are_local_polynomial_rd():
    x, z = _balance_data(3)
    tab = balance_table(x, z, p=2, kernel="epanechnikov", vce="hc1", alpha=0.1)
    rd = local_polynomial_rd(x, z["jump"], p=2, kernel="epanechnikov", vce="hc1", alpha=0.1)
    row = tab.loc["jump"]
    assert row["estimate"] == rd.estimate
    assert (row["ci_lower"], row["ci_upper"]) == rd.conf_int_robust
    assert row["pvalue"] == rd.pvalue_robust
    assert (row["bandwidth"], row["bias_bandwidth"]) == (rd.bandwidth, rd.bias_bandwidth)
    assert (row["n_eff_below"], row["n_eff_above"]) == (rd.n_eff_below, rd.n_eff_above)
    assert list(tab.index) == ["smooth", "jump"] and tab.index.name == "covariate"


def test_balance_missing_values_pandas_and_options():
    x, z = _balance_data(4)
    zn = z.copy()
    zn.loc[[5, 17, 40], "smooth"] = np.nan
    tab = balance_table(x, zn)
    assert tab.loc["smooth", "n_missing"] == 3 and tab.loc["jump", "n_missing"] == 0
    keep = zn["smooth"].notna().to_numpy()
    rd = local_polynomial_rd(x[keep], z["smooth"].to_numpy()[keep])
    assert tab.loc["smooth", "estimate"] == rd.estimate
    # shuffled pandas rows are aligned by label
    xs = pd.Series(x, index=z.index)
    perm = np.random.default_rng(0).permutation(len(z))
    pd.testing.assert_frame_equal(balance_table(xs, z.iloc[perm]), balance_table(x, z))
    with pytest.raises(ValueError, match="different index labels"):
        balance_table(xs, z.set_axis(z.index + 1))
    # numpy covariates: positional, named z0, z1
    assert list(balance_table(x, z.to_numpy()).index) == ["z0", "z1"]
    with pytest.raises(TypeError, match="does not take `treatment`"):
        balance_table(x, z, treatment=x >= 0)
    with pytest.raises(TypeError, match="Unknown option"):
        balance_table(x, z, bandwith=0.3)
    with pytest.raises(TypeError, match="column 'g' is not numeric"):
        balance_table(x, {"g": np.where(x > 0.5, "a", "b")})
    with pytest.raises(ValueError, match="`covariates` has 10 rows"):
        balance_table(x, z.to_numpy()[:10])


def test_balance_constant_covariate_is_never_significant():
    x, _ = _balance_data(5)
    with pytest.warns(DegenerateDataWarning, match="no real variation"):
        tab = balance_table(x, {"const": np.full(x.size, 7.0)})
    assert tab.loc["const", "estimate"] == 0.0 and tab.loc["const", "pvalue"] == 1.0


# -------------------------------------------------------------------- placebo cutoffs


def test_placebo_cutoffs_reject_at_about_alpha_under_no_effect():
    rejections = 0
    band_misses = 0
    for seed in range(10):
        s = simulate_dgp1(n=400, n_draws=20, delta=2.0, rng=100 + seed)
        tab = placebo_cutoffs(_est(random_state=seed), s.x, s.y)
        assert list(tab["side"]) == ["below", "above"]
        rejections += int((tab["pvalue"] < 0.05).sum())
        band_misses += int((~tab["band_contains_zero"].astype(bool)).sum())
    # 20 tests at alpha = 0.05: P(Binomial(20, 0.05) >= 5) = 0.003
    assert rejections <= 4
    assert band_misses <= 4


def test_placebo_default_cutoffs_and_equality_with_manual_fit(sim):
    est = _est()
    tab = placebo_cutoffs(est, sim.x, sim.y, n_cutoffs=2)
    below = np.quantile(sim.x[sim.x < 0], [1 / 3, 2 / 3])
    above = np.quantile(sim.x[sim.x >= 0], [1 / 3, 2 / 3])
    np.testing.assert_array_equal(tab.index.to_numpy(), np.r_[below, above])
    # the row at the first fake cutoff is the clone fitted on the units below 0
    keep = sim.x < 0
    manual = _est(cutoff=below[0]).fit(sim.x[keep], sim.y.subset(keep))
    row = tab.iloc[0]
    assert row["mean_tau"] == np.mean(manual.tau_)
    assert row["pvalue"] == manual.test("nullity").pvalue
    assert row["band_min"] == manual.band_["lower"].min()
    assert row["n_below"] + row["n_above"] == keep.sum()
    assert not hasattr(est, "tau_")  # the estimator passed in is untouched
    only = placebo_cutoffs(est, sim.x, sim.y, side="above")
    assert list(only["side"]) == ["above"]


def test_placebo_errors(sim):
    est = _est()
    with pytest.raises(ValueError, match="contains the true cutoff 0"):
        placebo_cutoffs(est, sim.x, sim.y, cutoffs=[0.0])
    with pytest.raises(ValueError, match="at least 10 are needed"):
        placebo_cutoffs(est, sim.x, sim.y, cutoffs=[0.99])
    with pytest.raises(ValueError, match="lies above the true cutoff 0 but side='below'"):
        placebo_cutoffs(est, sim.x, sim.y, cutoffs=[0.5], side="below")
    with pytest.raises(ValueError, match="`treatment`: a fake cutoff has no first stage"):
        placebo_cutoffs(est, sim.x, sim.y, treatment=(sim.x >= 0).astype(float))
    with pytest.raises(TypeError, match="`n_cutoffs` must be an integer"):
        placebo_cutoffs(est, sim.x, sim.y, n_cutoffs=True)
    with pytest.raises(TypeError, match="`cutoffs` must be a real number"):
        placebo_cutoffs(est, sim.x, sim.y, cutoffs=[True])
    with pytest.raises(ValueError, match="`side` must be one of"):
        placebo_cutoffs(est, sim.x, sim.y, side="left")
    with pytest.raises(TypeError, match=r"`estimator` must be an r3d\.R3D"):
        placebo_cutoffs(object(), sim.x, sim.y)
    with pytest.raises(ValueError, match="`multipliers` cannot be used here"):
        placebo_cutoffs(est, sim.x, sim.y, multipliers=np.ones((400, 50)))
    xn = sim.x.copy()
    xn[0] = np.nan
    with pytest.raises(ValueError, match="`x` is missing or non-finite for 1 unit"):
        placebo_cutoffs(est, xn, sim.y)
    # missing="drop": the unit is left out, the answer is that of the remaining units
    got = placebo_cutoffs(_est(missing="drop"), xn, sim.y, cutoffs=[-0.5])
    ref = placebo_cutoffs(est, sim.x[1:], sim.y.subset(np.arange(1, 400)), cutoffs=[-0.5])
    assert got["mean_tau"].iloc[0] == ref["mean_tau"].iloc[0]


def test_placebo_pandas_cluster_aligned_by_label(sim):
    labels = [f"u{i}" for i in range(400)]
    x = pd.Series(sim.x, index=labels)
    cl = np.arange(400) // 4
    perm = np.random.default_rng(2).permutation(400)
    cl_shuffled = pd.Series(cl, index=labels).iloc[perm]
    got = placebo_cutoffs(_est(), x, sim.y, cutoffs=[-0.5], cluster=cl_shuffled)
    ref = placebo_cutoffs(_est(), sim.x, sim.y, cutoffs=[-0.5], cluster=cl)
    pd.testing.assert_frame_equal(got, ref)


# ---------------------------------------------------------------------------- donut


def test_donut_equals_fit_on_filtered_units(sim):
    est = _est().fit(sim.x, sim.y)
    tau_before = est.tau_.copy()
    fit = donut(est, sim.x, sim.y, radius=0.1)
    keep = np.abs(sim.x) >= 0.1
    manual = _est().fit(sim.x[keep], sim.y.subset(keep))
    np.testing.assert_array_equal(fit.tau_, manual.tau_)
    pd.testing.assert_frame_equal(fit.band_, manual.band_)
    assert fit.n_units_ == keep.sum()
    np.testing.assert_array_equal(est.tau_, tau_before)  # original untouched
    # running variable carried by the outcome container; 2-D array of draws; quantiles
    carried = donut(_est(), None, sim.y, radius=0.1)
    np.testing.assert_array_equal(carried.tau_, manual.tau_)
    Q = sim.y.quantiles(GRID)
    arr = donut(_est(quantiles=GRID), sim.x, Q, radius=0.1)
    np.testing.assert_array_equal(arr.tau_, _est().fit(sim.x[keep], Q[keep]).tau_)
    qf = QuantileFunctions(Q, GRID, running=sim.x)
    qf_fit = donut(_est(), None, qf, radius=0.1)
    np.testing.assert_allclose(qf_fit.tau_, manual.tau_, rtol=1e-12)


def test_donut_errors(sim):
    est = _est()
    with pytest.raises(ValueError, match=r"`radius` = 0.99 leaves \d+ unit\(s\) below"):
        donut(est, sim.x, sim.y, radius=0.99)
    with pytest.raises(ValueError, match="`radius` must be >= 0"):
        donut(est, sim.x, sim.y, radius=-0.1)
    with pytest.raises(TypeError, match="`radius` must be a real number"):
        donut(est, sim.x, sim.y, radius="0.1")
    with pytest.raises(ValueError, match="`x` has 399 values but `y` has 400 units"):
        donut(est, sim.x[:-1], sim.y, radius=0.1)
    with pytest.raises(TypeError, match="Unknown fit argument"):
        donut(est, sim.x, sim.y, radius=0.1, wieghts=None)
    # radius 0 keeps everyone: the plain fit
    np.testing.assert_array_equal(
        donut(est, sim.x, sim.y, radius=0.0).tau_, _est().fit(sim.x, sim.y).tau_
    )


# -------------------------------------------------------------- bandwidth sensitivity


def test_bandwidth_sensitivity_rows(sim):
    est = _est()
    res = bandwidth_sensitivity(est, sim.x, sim.y, multiples=(0.5, 1, 2))
    assert isinstance(res, BandwidthSensitivity)
    ref = _est().fit(sim.x, sim.y)
    row = res.table.loc[1.0]
    assert row["mean_tau"] == np.mean(ref.tau_)
    assert row["pvalue"] == ref.test("nullity").pvalue
    assert row["band_min"] == ref.band_["lower"].min()
    assert row["band_max"] == ref.band_["upper"].max()
    h = float(ref.bandwidth_[0])
    assert res.table.loc[2.0, "bandwidth"] == pytest.approx(2 * h, rel=1e-12)
    assert res.table.loc[0.5, "bandwidth"] == pytest.approx(0.5 * h, rel=1e-12)
    fixed = _est(bandwidth=2 * h).fit(sim.x, sim.y)
    np.testing.assert_allclose(res.fits[2.0].tau_, fixed.tau_, rtol=1e-12)
    # a strong effect stays significant at every multiple (delta = 2)
    assert (res.table["pvalue"] < 0.05).all()
    assert res.plot().get_xlabel() == "quantile level q"
    assert res.plot(quantile=0.5).get_xlabel() == "bandwidth / selected bandwidth"


def test_bandwidth_sensitivity_simple_method_and_errors(sim):
    est = _est(method="simple", n_bootstrap=0)
    res = bandwidth_sensitivity(est, sim.x, sim.y, multiples=(1, 1.5))
    base = res.fits[1.0]
    np.testing.assert_allclose(res.fits[1.5].bandwidth_, 1.5 * base.bandwidth_, rtol=1e-12)
    assert np.isnan(res.table.loc[1.0, "pvalue"])
    with pytest.raises(TypeError, match="`multiples` must be a real number"):
        bandwidth_sensitivity(est, sim.x, sim.y, multiples=(True, 2))
    with pytest.raises(ValueError, match="`multiples` must be positive"):
        bandwidth_sensitivity(est, sim.x, sim.y, multiples=(0, 1))
    with pytest.raises(ValueError, match="`multiples` has duplicates"):
        bandwidth_sensitivity(est, sim.x, sim.y, multiples=(1, 1.0))
    with pytest.raises(TypeError, match="`multiples` must be a sequence"):
        bandwidth_sensitivity(est, sim.x, sim.y, multiples=2)


def test_fuzzy_designs():
    from r3d.simulate import simulate_normal

    s = simulate_normal(n=400, n_draws=20, effect=3.0, fuzzy=True, rng=3)
    est = _est(n_bootstrap=0)
    res = bandwidth_sensitivity(est, s.x, s.y, multiples=(1, 1.5))
    base = res.fits[1.0]
    assert base.fuzzy_ and res.fits[1.5].fuzzy_
    assert res.fits[1.5].bandwidth_treatment_ == pytest.approx(
        1.5 * base.bandwidth_treatment_, rel=1e-12
    )
    # placebo cutoffs of a fuzzy design: the reduced form (carried treatment ignored)
    tab = placebo_cutoffs(est, s.x, s.y, cutoffs=[-0.5])
    keep = s.x < 0
    qf = QuantileFunctions(s.y.quantiles(GRID)[keep], GRID)  # carries no treatment
    sharp = _est(n_bootstrap=0, cutoff=-0.5).fit(s.x[keep], qf)
    assert tab.loc[-0.5, "mean_tau"] == pytest.approx(np.mean(sharp.tau_), rel=1e-12)


def test_donut_subsets_weights_and_cluster(sim):
    rng = np.random.default_rng(5)
    sizes = np.diff(sim.y.offsets)
    samples = [
        sim.y.values[a:b] for a, b in zip(sim.y.offsets[:-1], sim.y.offsets[1:], strict=True)
    ]
    weights = [rng.uniform(0.5, 2.0, k) for k in sizes]
    cl = np.arange(400) // 5
    fit = donut(_est(), sim.x, samples, radius=0.1, weights=weights, cluster=cl)
    keep = np.flatnonzero(np.abs(sim.x) >= 0.1)
    manual = _est().fit(
        sim.x[keep],
        [samples[i] for i in keep],
        weights=[weights[i] for i in keep],
        cluster=cl[keep],
    )
    np.testing.assert_array_equal(fit.tau_, manual.tau_)
    pd.testing.assert_frame_equal(fit.band_, manual.band_)
    assert fit.n_clusters_ == manual.n_clusters_
