"""R3D's reporting: density_test, plot_rd (rdplot conventions), plot, summary (issue 13)."""

import inspect

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import estkit
from estkit import NotFittedError
from r3d import R3D, Distributions
from r3d._results import R3DResults

Q5 = [0.1, 0.25, 0.5, 0.75, 0.9]


@pytest.fixture(scope="module")
def simple(sharp):
    return R3D(method="simple", quantiles=Q5, n_bootstrap=300, random_state=0).fit(sharp.x, sharp.y)


@pytest.fixture(scope="module")
def frechet(sharp):
    cl = np.arange(300) // 10
    return R3D(quantiles=Q5, n_bootstrap=300, random_state=0).fit(sharp.x, sharp.y, cluster=cl)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _boundary_markers(ax):
    return [ln for ln in ax.lines if ln.get_marker() == "o" and ln.get_markerfacecolor() == "white"]


# ---------------------------------------------------------------- density_test
def test_density_test_is_estkit_on_the_fitted_units(sharp, frechet):
    res = frechet.density_test()
    ref = estkit.density_test(np.asarray(sharp.x), cutoff=0.0)
    assert res.statistic == ref.statistic and res.pvalue == ref.pvalue
    assert res.bandwidth == ref.bandwidth and res.n_eff == ref.n_eff
    # keyword arguments pass through
    res2 = frechet.density_test(p=1, bandwidth=0.5, kernel="uniform")
    ref2 = estkit.density_test(np.asarray(sharp.x), 0.0, p=1, bandwidth=0.5, kernel="uniform")
    assert res2.pvalue == ref2.pvalue and res2.bandwidth == (0.5, 0.5)


def test_density_test_uses_the_fitted_cutoff_and_dropped_units(sharp):
    x = np.asarray(sharp.x, dtype=float).copy()
    x[:3] = np.nan
    bare = Distributions(sharp.y.values, sharp.y.offsets)  # without the stored running variable
    est = R3D(quantiles=Q5, n_bootstrap=0, cutoff=0.1, missing="drop").fit(x, bare)
    res = est.density_test()
    ref = estkit.density_test(x[3:], cutoff=0.1)
    assert res.pvalue == ref.pvalue and sum(res.n) == 297


def test_density_test_rejects_unknown_arguments_and_unfitted(frechet):
    with pytest.raises(TypeError, match=r"unexpected argument\(s\) \['cutoff'\]"):
        frechet.density_test(cutoff=0.5)
    with pytest.raises(NotFittedError, match="fit"):
        R3D().density_test()


# ---------------------------------------------------------------- plot_rd
@pytest.mark.parametrize("level", [0.1, 0.5, 0.9])
def test_plot_rd_fit_ends_are_the_boundary_estimates_simple(simple, level):
    est = simple
    j = int(np.argmin(np.abs(est.quantiles_ - level)))
    # the rearrangement left the curves alone here, so the fits' ends are the estimates
    np.testing.assert_array_equal(est._core.plus_raw, est.quantile_function_plus_)
    ax = est.plot_rd(quantiles=(level,))
    fits = [ln for ln in ax.lines if ln.get_linestyle() == "-" and ln.get_marker() == "None"]
    assert len(fits) == 2  # below, above
    below, above = sorted(fits, key=lambda ln: ln.get_xdata()[0])
    assert below.get_xdata()[-1] == 0.0 and above.get_xdata()[0] == 0.0
    np.testing.assert_allclose(
        below.get_ydata()[-1], est.quantile_function_minus_[j], rtol=1e-10, atol=0
    )
    np.testing.assert_allclose(
        above.get_ydata()[0], est.quantile_function_plus_[j], rtol=1e-10, atol=0
    )
    (circles,) = _boundary_markers(ax)
    np.testing.assert_allclose(
        circles.get_ydata(),
        [est.quantile_function_minus_[j], est.quantile_function_plus_[j]],
        rtol=1e-10,
    )
    # the fits live inside the bandwidth window, which is shaded
    h = est.bandwidth_[j]
    assert below.get_xdata()[0] >= -h - 1e-12 and above.get_xdata()[-1] <= h + 1e-12
    assert any(f"h = {h:.3g}" in p.get_label() for p in ax.patches)


def test_plot_rd_frechet_draws_the_fits_before_projection(frechet):
    ax = frechet.plot_rd(quantiles=(0.5,))
    (circles,) = _boundary_markers(ax)
    np.testing.assert_allclose(
        circles.get_ydata(), [frechet._core.minus_raw[2], frechet._core.plus_raw[2]], rtol=1e-10
    )


def test_plot_rd_several_levels_global_fit_and_bins(simple):
    ax = simple.plot_rd(quantiles=(0.25, 0.75), n_bins=10, global_fit=True)
    labels = [ln.get_label() for ln in ax.lines]
    assert "q = 0.25: bin means (10 | 10 bins, 95% CI)" in labels
    assert any(lab.startswith("q = 0.75: global fit (not the estimate)") for lab in labels)
    # one colour per level; the global fit stays grey and dashed
    fit_colours = {
        ln.get_label().split(":")[0]: ln.get_color()
        for ln in ax.lines
        if "local fit" in ln.get_label()
    }
    assert fit_colours == {"q = 0.25": "C0", "q = 0.75": "C1"}
    assert len(_boundary_markers(ax)) == 2
    assert ax.yaxis.get_major_formatter()(190000.0, 0) == "190,000"


@pytest.mark.parametrize(
    ("fit", "method", "options", "error", "match"),
    [
        ("simple", "plot_rd", {"global_fit": "yes"}, TypeError, "`global_fit`"),
        ("simple", "plot_rd", {"n_bins": 0}, ValueError, "`n_bins`"),
        ("simple", "plot_rd", {"alpha": 1.5}, ValueError, "`alpha`"),
        ("frechet", "plot", {"relative": "yes"}, TypeError, "`relative`"),
        ("frechet", "plot", {"caption": 1}, TypeError, "`caption`"),
        ("frechet", "plot", {"legend_loc": 2}, TypeError, "`legend_loc`"),
    ],
)
def test_plot_bad_options(request, fit, method, options, error, match):
    est = request.getfixturevalue(fit)
    with pytest.raises(error, match=match):
        getattr(est, method)(**options)


@pytest.mark.parametrize(("method", "options"), [("plot_rd", {}), ("plot", {"relative": True})])
def test_plot_before_fit(method, options):
    with pytest.raises(NotFittedError, match="fit"):
        getattr(R3D(), method)(**options)


@pytest.mark.parametrize("name", ["test", "density_test", "plot", "plot_rd"])
def test_estimator_methods_are_the_results_methods(name, frechet):
    # written once in R3DResults: R3D's method has its signature and docstring and returns
    # what the fitted results_ return
    ours, theirs = getattr(R3D, name), getattr(R3DResults, name)
    assert inspect.signature(ours) == inspect.signature(theirs)
    assert ours.__doc__ == theirs.__doc__ and ours.__qualname__ == f"R3D.{name}"
    if name == "test":
        assert frechet.test("homogeneity") == frechet.results_.test("homogeneity")


# ---------------------------------------------------------------- plot
def test_plot_legend_names_the_band_type(frechet, sharp):
    ax = frechet.plot()
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "95% uniform band (constant width)" in texts
    stud = R3D(quantiles=Q5, n_bootstrap=300, random_state=0, studentize=True, alpha=0.1)
    ax2 = stud.fit(sharp.x, sharp.y).plot()
    assert "90% uniform band (studentised)" in [t.get_text() for t in ax2.get_legend().get_texts()]
    # thousands separators on the y axis
    assert ax.yaxis.get_major_formatter()(12345.0, 0) == "12,345"


def test_plot_relative_is_percent_of_the_control_quantile(frechet):
    ax = frechet.plot(relative=True)
    line = next(ln for ln in ax.lines if ln.get_label() == "tau(q)")
    expected = 100 * frechet.tau_ / frechet.quantile_function_minus_
    np.testing.assert_allclose(line.get_ydata(), expected, rtol=1e-12)
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    lo = 100 * frechet.band_["lower"].to_numpy() / frechet.quantile_function_minus_
    hi = 100 * frechet.band_["upper"].to_numpy() / frechet.quantile_function_minus_
    assert np.isclose(band.min(), min(lo.min(), hi.min()))
    assert np.isclose(band.max(), max(lo.max(), hi.max()))
    assert ax.yaxis.get_major_formatter()(25.0, 0) == "25%"


def test_plot_caption_and_legend_position(frechet):
    ax = frechet.plot(caption=True, legend_loc="outside")
    (caption,) = [t.get_text() for t in ax.texts]
    assert caption.startswith(f"n = 300 ({frechet.n_below_} below, {frechet.n_above_} above)")
    assert f"h = {frechet.bandwidth_[0]:.3g}" in caption and "30 clusters" in caption


# ---------------------------------------------------------------- summary
def test_summary_has_units_in_bandwidth_and_standard_errors(frechet):
    text = str(frechet.summary())
    for column in ("std err", "pw lower", "pw upper", "band lower", "n in h below", "n in h above"):
        assert column in text
    x, h = np.asarray(frechet._x), frechet.bandwidth_[0]
    n_lo = int(np.sum((x < 0) & (x > -h)))
    n_hi = int(np.sum((x >= 0) & (x < h)))
    assert "In bandwidth b/a:" in text and f"{n_lo} / {n_hi}" in text
    se = np.std(frechet._draws.tau, axis=0, ddof=1)
    digits = frechet.results_._outcome_digits()
    row = next(line for line in text.splitlines() if line.startswith("q=0.5 "))
    assert f"{se[2]:,.{digits}f}" in row.split()
    pw = frechet.pointwise_band_.loc[0.5]
    assert f"{pw['lower']:,.{digits}f}" in row.split()
    # the band's half-width is in outcome units and labelled as such, not "Critical value"
    assert "Critical value:" not in text
    assert f"{frechet.critical_value_:,.{digits}f} (y units)" in text
    assert "Band:" in text and "constant width" in text
    assert "Clusters:" in text and "Weights:" in text


def test_summary_rounds_to_the_outcome_magnitude(sharp):
    big = Distributions(sharp.y.values * 10_000.0, sharp.y.offsets)
    est = R3D(quantiles=Q5, n_bootstrap=200, random_state=0).fit(sharp.x, big)
    row = next(line for line in str(est.summary()).splitlines() if line.startswith("q=0.5 "))
    tau = row.split()[1]
    assert "," in tau and "." not in tau  # e.g. 20,123: dollars, no spurious decimals
    assert tau == f"{est.tau_[2]:,.0f}"
    # explicit digits still work, and are validated
    assert f"{est.tau_[2]:,.2f}" in str(est.summary(digits=2))
    with pytest.raises(TypeError, match="`digits`"):
        est.summary(digits="2")


def test_summary_studentised_weighted_and_without_bootstrap(sharp):
    w = [np.ones(b - a) for a, b in zip(sharp.y.offsets[:-1], sharp.y.offsets[1:], strict=True)]
    weighted = Distributions(sharp.y.values, sharp.y.offsets, weights=np.concatenate(w))
    est = R3D(quantiles=Q5, n_bootstrap=200, random_state=0, studentize=True).fit(sharp.x, weighted)
    text = str(est.summary())
    assert "Crit. value (sup-t):" in text and "studentised" in text
    assert "yes (within units)" in text
    none = str(R3D(quantiles=Q5, n_bootstrap=0).fit(sharp.x, sharp.y).summary())
    assert "no band: n_bootstrap=0" in none and "std err" not in none
    assert "n in h below" in none


def test_plot_rd_of_a_degenerate_level_is_quiet():
    # the fit already warned that every unit has the same quantile; the plot does not repeat it
    x = np.linspace(-1, 1, 60)
    with pytest.warns(estkit.DegenerateDataWarning, match="every unit has the same quantile"):
        est = R3D(n_bootstrap=0, quantiles=[0.25, 0.5]).fit(x, np.ones((60, 3)))
    ax = est.plot_rd(quantiles=(0.5,))
    (circles,) = _boundary_markers(ax)
    np.testing.assert_allclose(circles.get_ydata(), [1.0, 1.0])


# ---------------------------------------------------------------- results_ (issue 12)
@pytest.mark.parametrize("compat", [None, "R"])
@pytest.mark.parametrize("studentize", [False, True])
def test_conf_int_on_demand_equals_a_refit(sharp, compat, studentize):
    kw = dict(quantiles=Q5, n_bootstrap=199, random_state=4, compat=compat, studentize=studentize)
    fit95 = R3D(**kw).fit(sharp.x, sharp.y)
    fit90 = R3D(alpha=0.10, **kw).fit(sharp.x, sharp.y)
    res = fit95.results_
    pd.testing.assert_frame_equal(res.conf_int(alpha=0.10), fit90.band_)
    pd.testing.assert_frame_equal(res.conf_int(alpha=0.10, kind="pointwise"), fit90.pointwise_band_)
    pd.testing.assert_frame_equal(res.conf_int(), fit95.band_)
    for kind in ("nullity", "homogeneity"):
        a, b = fit95.test(kind, alpha=0.10), fit90.test(kind)
        assert (a.statistic, a.critical_value, a.pvalue, a.alpha) == (
            b.statistic,
            b.critical_value,
            b.pvalue,
            b.alpha,
        )
    # the stored draws were reused: still the 95% fit
    assert fit95.alpha_ == 0.05 and fit95.critical_value_ > fit90.critical_value_


def test_results_properties_are_pandas_views_of_the_fit(simple):
    res = simple.results_
    assert isinstance(res, R3DResults) and isinstance(res, estkit.ResultsBase)
    pd.testing.assert_series_equal(
        res.tau, pd.Series(simple.tau_, index=pd.Index(Q5, name="quantile"), name="tau")
    )
    np.testing.assert_array_equal(res.bandwidth.to_numpy(), simple.bandwidth_)
    np.testing.assert_array_equal(
        res.quantile_function_plus.to_numpy(), simple.quantile_function_plus_
    )
    np.testing.assert_array_equal(
        res.quantile_function_minus.to_numpy(), simple.quantile_function_minus_
    )
    pd.testing.assert_frame_equal(res.band, simple.band_)
    pd.testing.assert_frame_equal(res.pointwise_band, simple.pointwise_band_)
    pd.testing.assert_frame_equal(res.effect, simple.effect_)
    assert res.critical_value == simple.critical_value_
    np.testing.assert_array_equal(
        res.std_errors.to_numpy(), np.std(simple._draws.tau, axis=0, ddof=1)
    )
    assert res.inference.n_bootstrap == simple.n_bootstrap_ == 300
    assert str(res.summary()) == str(simple.summary())
    t = simple.test("homogeneity", (0.25, 0.75))
    assert isinstance(t, estkit.TestResult) and t.quantile_range == (0.25, 0.75)
    assert t == res.test("homogeneity", (0.25, 0.75))
    with pytest.raises(AttributeError, match="immutable"):
        res.alpha = 0.1


def test_results_without_draws_refuse_conf_int(sharp):
    est = R3D(quantiles=Q5, n_bootstrap=0).fit(sharp.x, sharp.y)
    assert est.band_ is None and est.results_.band is None and est.critical_value_ is None
    assert est.results_.std_errors is None
    with pytest.raises(ValueError, match="n_bootstrap > 0"):
        est.results_.conf_int(0.1)
    with pytest.raises(ValueError, match="`kind`"):
        R3D(quantiles=Q5, n_bootstrap=99, random_state=0).fit(sharp.x, sharp.y).results_.conf_int(
            kind="both"
        )
