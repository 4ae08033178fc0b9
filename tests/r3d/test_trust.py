"""Issue 11 for r3d: no silently wrong answer.

Degenerate outcomes give exactly zero effects (never rounding residue called signal), pandas
inputs are paired by label, conflicting inputs are refused, the estimator is location/scale
equivariant in the outcome, and ``compat="R"`` follows R3D 28744db on the Gini test and the
test ranges.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from estkit import DegenerateDataWarning, EstkitWarning
from r3d import R3D, Distributions, QuantileFunctions
from r3d._inference import BootstrapDraws, gini_from_quantile, run_tests
from r3d.simulate import simulate_dgp1, simulate_normal

ALPHA = 0.05


def _constant_fit(method: str, seed: int, value: float = 7.3, **kw):
    sim = simulate_dgp1(n=100, n_draws=5, rng=seed)
    y = np.full((100, 5), value)
    with pytest.warns(DegenerateDataWarning, match="every unit has the same quantile"):
        return R3D(method=method, n_bootstrap=199, random_state=seed, **kw).fit(sim.x, y)


# ---------------------------------------------------------------- noise is not signal
@pytest.mark.parametrize("method", ["frechet", "simple"])
def test_constant_outcome_is_never_significant(method):
    # issue 11: before, p < 0.05 in 8 of 20 seeds (frechet) and 4 of 20 (simple)
    for seed in range(20):
        est = _constant_fit(method, seed)
        assert np.all(est.tau_ == 0.0)
        assert np.all(est.band_["lower"] <= 0.0) and np.all(est.band_["upper"] >= 0.0)
        assert np.all(est.band_.to_numpy() == 0.0)
        for kind in ("nullity", "homogeneity", "gini"):
            assert est.test(kind).pvalue >= ALPHA
        assert est.test("nullity").pvalue == 1.0
        np.testing.assert_array_equal(est.quantile_function_plus_, 7.3)
        np.testing.assert_array_equal(est.quantile_function_minus_, 7.3)


def test_degenerate_points_in_summary_and_warning():
    est = _constant_fit("frechet", 0)
    text = str(est.summary())
    assert "No variation across units at q = 0.01, 0.02" in text
    assert "(99 in all)" in text
    assert est.degenerate_.all()
    with pytest.warns(DegenerateDataWarning, match=r"at 99 of 99 quantile level\(s\)"):
        _ = R3D(n_bootstrap=0).fit(np.linspace(-1, 1, 50), np.ones((50, 3)))


def test_top_coded_quantiles_give_zero_effect_there():
    # identical top-coded quantiles across units: before, band [-5e-13, -1.5e-13], p = 0.005
    sim = simulate_normal(n=300, n_draws=20, effect=1.0, rng=4)
    Q = sim.y.quantiles(np.arange(1, 20) / 20)
    Q[:, 15:] = 50.0  # q >= 0.8 top-coded at 50 for every unit
    qf = QuantileFunctions(Q, np.arange(1, 20) / 20)
    with pytest.warns(DegenerateDataWarning, match="q = 0.8, 0.85, 0.9, 0.95"):
        est = R3D(n_bootstrap=400, random_state=1).fit(sim.x, qf)
    assert np.all(est.tau_[15:] == 0.0)
    assert np.all(est.band_.iloc[15:].to_numpy() == 0.0)
    top = est.test("nullity", quantile_range=(0.8, 0.95))
    assert top.pvalue == 1.0 and top.statistic == 0.0
    # the real effect below the top code is still found, with a band of positive width
    assert est.test("nullity", quantile_range=(0.05, 0.75)).pvalue < ALPHA
    assert np.all(est.band_["upper"].iloc[:15] > est.band_["lower"].iloc[:15])
    # the band's critical value ignores the degenerate points: same as fitting without them
    low = R3D(n_bootstrap=400, random_state=1).fit(
        sim.x, QuantileFunctions(Q[:, :15], qf.grid[:15])
    )
    assert est.critical_value_ == pytest.approx(low.critical_value_, rel=1e-12)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    value=st.one_of(
        st.floats(-1e6, 1e6, allow_nan=False),
        st.sampled_from([0.0, 1e-300, -1e300, 1e300, 7.3]),
    ),
    method=st.sampled_from(["frechet", "simple"]),
    seed=st.integers(0, 2**16),
    studentize=st.booleans(),
)
def test_any_constant_outcome_gives_no_effect(value, method, seed, studentize):
    sim = simulate_dgp1(n=60, n_draws=3, rng=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateDataWarning)
        est = R3D(
            method=method,
            quantiles=[0.1, 0.5, 0.9],
            n_bootstrap=99,
            random_state=seed,
            studentize=studentize,
        ).fit(sim.x, np.full((60, 3), value))
    assert est.test("nullity").pvalue >= ALPHA
    assert est.test("homogeneity").pvalue >= ALPHA
    assert np.all(est.band_["lower"] <= 0.0) and np.all(est.band_["upper"] >= 0.0)
    assert np.all(est.tau_ == 0.0)


# ---------------------------------------------------------------- equivariance
@pytest.mark.parametrize("method", ["frechet", "simple"])
@pytest.mark.parametrize(("a", "c"), [(3.7, -12345.678), (1e-6, 0.0), (1e8, 2.5), (4.0, 1024.0)])
def test_location_scale_equivariance(method, a, c):
    sim = simulate_dgp1(n=300, n_draws=20, delta=1.0, rng=7)
    xi = np.random.default_rng(3).standard_normal((300, 200))
    kw = dict(method=method, quantiles=[0.1, 0.3, 0.5, 0.7, 0.9])
    base = R3D(**kw).fit(sim.x, sim.y, multipliers=xi)
    moved = R3D(**kw).fit(sim.x, Distributions(a * sim.y.values + c, sim.y.offsets), multipliers=xi)
    np.testing.assert_allclose(moved.tau_, a * base.tau_, rtol=1e-9, atol=1e-10 * a)
    np.testing.assert_allclose(moved.bandwidth_, base.bandwidth_, rtol=1e-9)
    np.testing.assert_allclose(moved.critical_value_, a * base.critical_value_, rtol=1e-9)
    for kind in ("nullity", "homogeneity"):
        assert moved.test(kind).pvalue == base.test(kind).pvalue


def test_large_location_shift_moves_tau_only_by_representation_error():
    # issue 11: Y + 1e12 moved tau by 1e-2; float representation alone explains ~4e-5
    sim = simulate_dgp1(n=300, n_draws=20, delta=1.0, rng=7)
    kw = dict(quantiles=[0.1, 0.5, 0.9], n_bootstrap=0)
    base = R3D(**kw).fit(sim.x, sim.y)
    moved = R3D(**kw).fit(sim.x, Distributions(sim.y.values + 1e12, sim.y.offsets))
    np.testing.assert_allclose(moved.tau_, base.tau_, rtol=0, atol=5e-4)
    np.testing.assert_allclose(
        moved.quantile_function_plus_ - 1e12, base.quantile_function_plus_, atol=5e-4
    )


def test_huge_weights_do_not_overflow():
    sim = simulate_dgp1(n=200, n_draws=10, delta=1.0, rng=2)
    samples = [
        sim.y.values[a:b] for a, b in zip(sim.y.offsets[:-1], sim.y.offsets[1:], strict=True)
    ]
    kw = dict(quantiles=[0.25, 0.5, 0.75], n_bootstrap=0)
    base = R3D(**kw).fit(sim.x, samples)
    for w in (1e307, 1e-300):
        est = R3D(**kw).fit(sim.x, samples, weights=[np.full(10, w)] * 200)
        np.testing.assert_allclose(est.tau_, base.tau_, rtol=1e-12)


# ---------------------------------------------------------------- labels and conflicts
def test_treatment_series_is_aligned_by_label():
    # issue 11: a shuffled treatment Series gave a first stage of -0.2 instead of 0.9
    sim = simulate_normal(n=500, n_draws=10, fuzzy=True, rng=5)
    ids = [f"u{i}" for i in range(500)]
    x = pd.Series(sim.x, index=ids)
    d = pd.Series(sim.treatment, index=ids).sample(frac=1.0, random_state=0)
    kw = dict(quantiles=[0.25, 0.5, 0.75], n_bootstrap=0)
    ref = R3D(**kw).fit(sim.x, sim.y.values.reshape(500, -1), treatment=sim.treatment)
    est = R3D(**kw).fit(x, sim.y.values.reshape(500, -1), treatment=d)
    assert ref.first_stage_ > 0.6
    assert est.first_stage_ == pytest.approx(ref.first_stage_, rel=1e-12)
    assert list(est.unit_ids_[:2]) == ["u0", "u1"]
    # a container: the Series is aligned to its unit ids
    cont = Distributions(sim.y.values, sim.y.offsets, running=sim.x)
    est2 = R3D(**kw).fit(y=cont, treatment=pd.Series(sim.treatment).sample(frac=1, random_state=1))
    assert est2.first_stage_ == pytest.approx(ref.first_stage_, rel=1e-12)


def test_explicit_x_conflicting_with_container_is_refused():
    sim = simulate_dgp1(n=200, n_draws=10, delta=1.0, rng=1)
    with pytest.raises(ValueError, match=r"`x` conflicts with the running variable.*200 of 200"):
        R3D(n_bootstrap=0).fit(-sim.x, sim.y)
    # the same values are fine (also as a shuffled Series)
    est = R3D(n_bootstrap=0, quantiles=[0.5]).fit(pd.Series(sim.x).sample(frac=1), sim.y)
    assert est.n_units_ == 200


def test_from_long_unit_ids_label_the_fit():
    rng = np.random.default_rng(0)
    ids = rng.permutation(np.arange(100) * 7)
    x = rng.uniform(-1, 1, 100)
    long = pd.DataFrame(
        {
            "id": np.repeat(ids, 5),
            "y": rng.normal(size=500) + np.repeat(x, 5),
            "x": np.repeat(x, 5),
        }
    )
    d = Distributions.from_long(long, unit="id", outcome="y", running="x")
    est = R3D(n_bootstrap=0, quantiles=[0.5]).fit(y=d)
    assert est.unit_ids_.tolist() == sorted(ids.tolist())
    # an x Series indexed by the unit ids, in any order, is aligned and agrees
    xs = pd.Series(x, index=ids)
    assert R3D(n_bootstrap=0, quantiles=[0.5]).fit(xs, d).tau_ == pytest.approx(est.tau_)
    with pytest.raises(ValueError, match=r"`x` is a pandas object whose index labels are not"):
        R3D(n_bootstrap=0).fit(pd.Series(x, index=ids + 1), d)


def test_one_row_per_individual_warns():
    df = pd.DataFrame(
        {"x": np.linspace(-1, 1, 200), "y": np.random.default_rng(0).normal(size=200)}
    )
    from r3d import SingleDrawWarning

    with pytest.warns(SingleDrawWarning, match=r"Distributions.from_long"):
        R3D(n_bootstrap=0, quantiles=[0.5]).fit(df.x, df.y)


def test_decreasing_quantile_rows_refused():
    m = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0], [1.0, 1.0, 1.0 - 1e-17]])
    with pytest.raises(ValueError, match=r"1 of 3 rows decrease.*row 1.*np.sort"):
        QuantileFunctions(m, [0.25, 0.5, 0.75])
    QuantileFunctions(np.sort(m, axis=1), [0.25, 0.5, 0.75])  # the suggested fix works


def test_bool_options_refuse_strings():
    sim = simulate_dgp1(n=100, n_draws=5, rng=0)
    for name, value in (("studentize", "no"), ("coverage_correction", "False"), ("progress", 1)):
        with pytest.raises(TypeError, match=f"`{name}` must be True or False"):
            R3D(n_bootstrap=0, **{name: value}).fit(sim.x, sim.y)


# ---------------------------------------------------------------- compat="R" (R3D 28744db)
def _grid_r():
    return 0.1 + np.arange(9) * 0.1  # R's seq(0.1, 0.9, 0.1): 0.30000000000000004, ...


def test_compat_test_range_is_exact_as_in_r():
    sim = simulate_normal(n=300, n_draws=20, rng=3)
    grid = _grid_r()
    assert grid[6] == 0.7000000000000001
    Q = sim.y.quantiles(grid)
    xi = np.random.default_rng(0).standard_normal((300, 100))
    r = R3D(compat="R", method="simple").fit(sim.x, QuantileFunctions(Q, grid), multipliers=xi)
    paper = R3D(method="simple").fit(sim.x, QuantileFunctions(Q, grid), multipliers=xi)
    # R: which(q >= 0.2 & q <= 0.7) excludes 0.7000000000000001
    assert r.test("homogeneity", quantile_range=(0.2, 0.7)).quantile_range == (0.2, 0.6)
    # paper mode tolerates the last bit and keeps the grid point meant as 0.7
    assert paper.test("homogeneity", quantile_range=(0.2, 0.7)).quantile_range == (
        0.2,
        0.7000000000000001,
    )


def test_compat_gini_critical_value_is_quantile_of_absolute_draws():
    sim = simulate_normal(n=300, n_draws=20, rng=8)
    xi = np.random.default_rng(2).standard_normal((300, 150))
    est = R3D(compat="R", method="simple", quantiles=np.arange(1, 100) / 100).fit(
        sim.x, sim.y, multipliers=xi
    )
    core, dr, q = est._core, est._draws, est.quantiles_
    bd = gini_from_quantile(q, core.plus + dr.nu_plus) - gini_from_quantile(
        q, core.minus + dr.nu_minus
    )
    t = est.test("gini")
    # R 28744db: quantile(abs(gini_diffs_boot), 1 - alpha) (type 7); p = mean(|D_b| >= |D|)
    assert t.critical_value == pytest.approx(np.quantile(np.abs(bd), 0.95), rel=1e-12)
    assert t.critical_value != pytest.approx(np.quantile(bd, 0.95), rel=1e-6)
    assert t.pvalue == np.mean(np.abs(bd) >= t.statistic)


def test_gini_of_non_positive_mean_is_undefined_not_zero():
    q = np.arange(1, 100) / 100
    assert np.isnan(gini_from_quantile(q, q - 1.0))  # mean -0.5
    assert np.isnan(gini_from_quantile(q, np.zeros(99)))
    assert gini_from_quantile(q, np.full(99, 2.0)) == 0.0  # a positive constant: no inequality
    sim = simulate_dgp1(n=100, n_draws=5, rng=0)
    with pytest.warns(DegenerateDataWarning):
        est = R3D(n_bootstrap=99, random_state=0).fit(sim.x, np.zeros((100, 5)))
    with pytest.raises(ValueError, match="non-positive mean"):
        est.test("gini")


def test_gini_draws_with_undefined_gini_are_left_out_with_a_warning():
    sim = simulate_normal(n=200, n_draws=10, rng=1)
    est = R3D(compat="R", method="simple", n_bootstrap=100, random_state=0).fit(sim.x, sim.y)
    core, dr = est._core, est._draws
    nu_p = dr.nu_plus.copy()
    nu_p[:5] = -1e3  # five draws with a negative mean above the cutoff
    draws = dataclasses.replace(dr, nu_plus=nu_p)
    assert isinstance(draws, BootstrapDraws)
    with pytest.warns(EstkitWarning, match="5 of 100 bootstrap draws"):
        out = run_tests(core, draws, ["gini"])[0]
    assert out.boot_stats.size == 95 and np.all(np.isfinite(out.boot_stats))
