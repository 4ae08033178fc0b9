"""R3D(bias_correction="robust"): the estimator wired to the robust bias-corrected core.

The core (``r3d._debias.estimate_r3d_robust``) is checked against
``estkit.local_polynomial_rd`` in ``tests/r3d/test_debias.py``; here the estimator must give
exactly what the core and ``estkit.BootstrapInference`` give directly, and its one-quantile
fit must be the scalar robust bias-corrected RD.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from estkit import BootstrapInference, DegenerateDataWarning, local_polynomial_rd
from r3d import R3D, QuantileFunctions
from r3d._debias import estimate_r3d_robust, select_bias_bandwidth

GRID = np.array([0.1, 0.3, 0.5, 0.7, 0.9])
B = 199


def _data(n: int = 400, seed: int = 0, fuzzy: bool = False):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, n)
    above = x >= 0
    T = None
    if fuzzy:
        T = (rng.uniform(size=n) < np.where(above, 0.85, 0.15)).astype(float)
        d = T
    else:
        d = above.astype(float)
    loc = 1 + x + 0.5 * x**2 + 2 * d + rng.normal(0, 0.3, n)
    Q = (
        loc[:, None]
        + (1 + 0.3 * d)[:, None] * np.quantile(rng.normal(size=(n, 40)), GRID, axis=1).T
    )
    Q = np.sort(Q, axis=1)
    return x, Q, T


def _xi(n: int, seed: int = 5) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, B))


def _direct(est: R3D, x, Q, T=None, cluster=None, **kw):
    """The robust core at the estimator's h with the selector's b, as the issue describes."""
    crit = "mse" if est.method == "simple" else "imse"
    codes = None if cluster is None else pd.factorize(cluster)[0]
    sel = select_bias_bandwidth(
        x, Q, GRID, p=est.p, kernel=est.kernel_, criterion=crit, T=T, cluster=codes
    )
    return estimate_r3d_robust(
        x,
        Q,
        GRID,
        bandwidth=est.bandwidth_,
        bias_bandwidth=sel.b,
        T=T,
        bandwidth_treatment=est.bandwidth_treatment_,
        bias_bandwidth_treatment=sel.b_treatment,
        cluster=codes,
        method=est.method,
        p=est.p,
        kernel=est.kernel_,
        vce="hc2",
        **kw,
    )


@pytest.mark.parametrize("method", ["simple", "frechet"])
@pytest.mark.parametrize("studentize", [False, True])
@pytest.mark.parametrize("p", [1, 2])
def test_band_is_the_core_with_bootstrap_inference(method, studentize, p):
    x, Q, _ = _data()
    xi = _xi(x.size)
    est = R3D(method=method, p=p, bias_correction="robust", studentize=studentize)
    est.fit(x, QuantileFunctions(Q, GRID), multipliers=xi)
    core = _direct(est, x, Q)
    np.testing.assert_allclose(est.bias_bandwidth_, core.bias_bandwidth, rtol=0, atol=0)
    np.testing.assert_allclose(est.tau_bias_corrected_, core.tau, rtol=0, atol=1e-12)
    inf = BootstrapInference(core.tau, core.scores, multipliers=xi, grid=GRID)
    band = inf.band(0.05, studentize=studentize)
    np.testing.assert_allclose(est.band_["lower"], band.lower, rtol=0, atol=1e-12)
    np.testing.assert_allclose(est.band_["upper"], band.upper, rtol=0, atol=1e-12)
    assert est.critical_value_ == pytest.approx(float(band.critical_value), abs=1e-12)
    pw = inf.pointwise(0.05)
    np.testing.assert_allclose(est.pointwise_band_["lower"], pw.lower, rtol=0, atol=1e-12)
    t = est.test("nullity")
    ref = inf.sup_test("nullity", (GRID[0], GRID[-1]))
    assert t.statistic == pytest.approx(ref.statistic, abs=1e-12)
    assert t.pvalue == ref.pvalue
    # tau_ stays the conventional estimate
    conv = R3D(method=method, p=p, studentize=studentize).fit(
        x, QuantileFunctions(Q, GRID), multipliers=xi
    )
    np.testing.assert_array_equal(est.tau_, conv.tau_)
    np.testing.assert_array_equal(est.bandwidth_, conv.bandwidth_)
    assert not np.allclose(est.tau_bias_corrected_, est.tau_)


def test_seeded_draws_are_the_conventional_machinery():
    x, Q, _ = _data()
    est = R3D(method="simple", bias_correction="robust", n_bootstrap=B, random_state=7)
    est.fit(x, QuantileFunctions(Q, GRID))
    core = _direct(est, x, Q)
    inf = BootstrapInference(core.tau, core.scores, n_bootstrap=B, rng=7, grid=GRID)
    band = inf.band(0.05)
    np.testing.assert_allclose(est.band_["lower"], band.lower, rtol=0, atol=1e-12)
    again = clone(est).fit(x, QuantileFunctions(Q, GRID))
    pd.testing.assert_frame_equal(again.band_, est.band_)


def _orthogonal_multipliers(n: int, seed: int = 0) -> np.ndarray:
    """(n, n + 1) multipliers with X X' = n I and X 1 = 0: the bootstrap SD (ddof=1) of
    ``X' s`` is exactly ``sqrt(s's)``, the analytic (HC) standard error."""
    m = n + 1
    A = np.column_stack([np.ones(m), np.random.default_rng(seed).standard_normal((m, n))])
    U, _ = np.linalg.qr(A)
    return np.sqrt(m - 1.0) * U[:, 1:].T


@pytest.mark.parametrize("p", [1, 2])
def test_one_quantile_is_the_scalar_robust_rd(p):
    x, Q, _ = _data(n=300)
    q1 = Q[:, 2:3]
    xi = _orthogonal_multipliers(x.size)
    est = R3D(method="simple", p=p, bias_correction="robust").fit(
        x, QuantileFunctions(q1, GRID[2:3]), multipliers=xi
    )
    h = float(est.bandwidth_[0])
    sel = local_polynomial_rd(x, q1[:, 0], 0.0, p=p, kernel="triangular", vce="hc0")
    b = float(est.bias_bandwidth_[0])
    assert b == pytest.approx(sel.bias_bandwidth, rel=1e-12)
    ref = local_polynomial_rd(
        x, q1[:, 0], 0.0, p=p, kernel="triangular", bandwidth=h, bias_bandwidth=b, vce="hc2"
    )
    assert est.tau_bias_corrected_[0] == pytest.approx(ref.estimate_bias_corrected, abs=1e-10)
    assert est.tau_[0] == pytest.approx(ref.estimate, abs=1e-10)
    se = est.results_.std_errors.iloc[0]
    assert se == pytest.approx(ref.std_error_robust, rel=1e-10)


def test_conf_int_on_demand_equals_a_refit():
    x, Q, _ = _data()
    kw = dict(bias_correction="robust", n_bootstrap=B, random_state=3)
    est = R3D(**kw).fit(x, QuantileFunctions(Q, GRID))
    refit = R3D(alpha=0.10, **kw).fit(x, QuantileFunctions(Q, GRID))
    pd.testing.assert_frame_equal(est.results_.conf_int(0.10), refit.band_)
    pd.testing.assert_frame_equal(
        est.results_.conf_int(0.10, kind="pointwise"), refit.pointwise_band_
    )
    assert est.test("nullity", alpha=0.10).critical_value == refit.test("nullity").critical_value


def test_given_bias_bandwidth_versus_selected():
    x, Q, _ = _data()
    xi = _xi(x.size)
    qf = QuantileFunctions(Q, GRID)
    sel = R3D(method="simple", bias_correction="robust").fit(x, qf, multipliers=xi)
    same = R3D(method="simple", bias_correction="robust", bias_bandwidth=sel.bias_bandwidth_)
    same.fit(x, qf, multipliers=xi)
    np.testing.assert_array_equal(same.tau_bias_corrected_, sel.tau_bias_corrected_)
    pd.testing.assert_frame_equal(same.band_, sel.band_)
    other = R3D(method="simple", bias_correction="robust", bias_bandwidth=0.9)
    other.fit(x, qf, multipliers=xi)
    np.testing.assert_array_equal(other.bias_bandwidth_, np.full(GRID.size, 0.9))
    np.testing.assert_array_equal(other.tau_, sel.tau_)
    ref = estimate_r3d_robust(
        x,
        Q,
        GRID,
        bandwidth=sel.bandwidth_,
        bias_bandwidth=0.9,
        p=2,
        kernel="triangular",
        vce="hc2",
    )
    np.testing.assert_allclose(other.tau_bias_corrected_, ref.tau, rtol=0, atol=1e-12)
    # the frechet selector gives one b for the whole grid
    fr = R3D(method="frechet", bias_correction="robust").fit(x, qf, multipliers=xi)
    assert np.ptp(fr.bias_bandwidth_) == 0
    assert fr.results_.bias_bandwidth.name == "bias_bandwidth"


def test_fuzzy():
    x, Q, T = _data(fuzzy=True)
    xi = _xi(x.size)
    est = R3D(method="simple", bias_correction="robust")
    est.fit(x, QuantileFunctions(Q, GRID), treatment=T, multipliers=xi)
    core = _direct(est, x, Q, T=T)
    assert core.fuzzy
    np.testing.assert_allclose(est.tau_bias_corrected_, core.tau, rtol=0, atol=1e-12)
    band = BootstrapInference(core.tau, core.scores, multipliers=xi, grid=GRID).band(0.05)
    np.testing.assert_allclose(est.band_["upper"], band.upper, rtol=0, atol=1e-12)
    # the true effect is 2 at every quantile (+0.3 * z(q)): the robust band covers it
    assert est.fuzzy_ and np.all(est.band_["lower"] < 2.5) and np.all(est.band_["upper"] > 1.5)


def test_clustered():
    x, Q, _ = _data()
    cl = np.repeat([f"g{k}" for k in range(80)], 5)
    est = R3D(method="simple", bias_correction="robust", n_bootstrap=B, random_state=11)
    est.fit(x, QuantileFunctions(Q, GRID), cluster=cl)
    core = _direct(est, x, Q, cluster=cl)
    assert core.n_clusters == 80
    np.testing.assert_allclose(est.tau_bias_corrected_, core.tau, rtol=0, atol=1e-12)
    inf = BootstrapInference(core.tau, core.scores, n_bootstrap=B, rng=11, cluster=cl, grid=GRID)
    np.testing.assert_allclose(est.band_["lower"], inf.band(0.05).lower, rtol=0, atol=1e-12)
    assert est.n_clusters_ == 80


def test_degenerate_levels_are_exact_zeros():
    x, Q, _ = _data()
    Q = Q.copy()
    Q[:, 0] = np.floor(Q.min()) - 1.0  # every unit has the same (lowest) 10% quantile
    with pytest.warns(DegenerateDataWarning, match="every unit has the same quantile"):
        est = R3D(method="simple", bias_correction="robust", n_bootstrap=B, random_state=0).fit(
            x, QuantileFunctions(Q, GRID)
        )
    assert est.tau_bias_corrected_[0] == 0.0 and est.tau_[0] == 0.0
    assert est.band_["lower"].iloc[0] == 0.0 and est.band_["upper"].iloc[0] == 0.0
    assert np.all(est.band_["upper"].iloc[1:] > est.band_["lower"].iloc[1:])
    # b of the live levels is that of the selector on the live columns
    sel = select_bias_bandwidth(x, Q[:, 1:], GRID[1:], p=2, kernel="triangular")
    np.testing.assert_array_equal(est.bias_bandwidth_[1:], sel.b)


def test_without_bias_correction_the_new_attributes_are_none():
    x, Q, _ = _data()
    est = R3D(n_bootstrap=B, random_state=0).fit(x, QuantileFunctions(Q, GRID))
    assert est.tau_bias_corrected_ is None and est.bias_bandwidth_ is None
    assert est.results_.tau_bias_corrected is None and est.bias_correction_ is None
    assert "tau_bias_corrected" not in est.effect_.columns


@pytest.mark.parametrize("studentize", [False, True])
def test_summary_names_the_band(studentize):
    x, Q, _ = _data()
    est = R3D(bias_correction="robust", n_bootstrap=B, random_state=0, studentize=studentize)
    est.fit(x, QuantileFunctions(Q, GRID))
    text = str(est.summary())
    kind = "studentised" if studentize else "constant width"
    assert f"95% uniform, robust bias-corrected, {kind}" in text
    assert "(y units)" in text and "Bias bandwidth" in text and "tau bc" in text
    assert "robust (order 3 bias fit)" in text
    assert "gini" not in text.split("Tests over the whole grid")[1].split("[1]")[0]
    eff = est.effect_
    assert list(eff.columns[:2]) == ["tau", "tau_bias_corrected"]
    np.testing.assert_array_equal(eff["tau_bias_corrected"], est.tau_bias_corrected_)


def test_validation_errors():
    x, Q, _ = _data(n=200)
    qf = QuantileFunctions(Q, GRID)
    with pytest.raises(ValueError, match="`bias_correction`"):
        R3D(bias_correction="conventional").fit(x, qf)
    with pytest.raises(ValueError, match="only used with bias_correction='robust'"):
        R3D(bias_bandwidth=0.5).fit(x, qf)
    with pytest.raises(ValueError, match="compat='R'"):
        R3D(bias_correction="robust", compat="R").fit(x, qf)
    with pytest.raises(ValueError, match="`bias_bandwidth` must be strictly positive"):
        R3D(bias_correction="robust", bias_bandwidth=-1.0).fit(x, qf)
    with pytest.raises(TypeError, match="`bias_bandwidth` must be a positive number"):
        R3D(bias_correction="robust", bias_bandwidth="auto").fit(x, qf)
    with pytest.raises(ValueError, match=r"`bias_bandwidth` must be a scalar or have shape \(5,\)"):
        R3D(bias_correction="robust", bias_bandwidth=[0.5, 0.6]).fit(x, qf)
    est = R3D(bias_correction="robust", n_bootstrap=B, random_state=0).fit(x, qf)
    with pytest.raises(ValueError, match="Gini test is not available with bias_correction"):
        est.test("gini")


def test_sklearn_params_and_clone():
    est = R3D(bias_correction="robust", bias_bandwidth=0.4)
    params = est.get_params()
    assert params["bias_correction"] == "robust" and params["bias_bandwidth"] == 0.4
    c = clone(est)
    assert c.bias_correction == "robust" and c.bias_bandwidth == 0.4
    assert R3D().get_params()["bias_correction"] is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.set_params(bias_bandwidth=None)
    assert est.bias_bandwidth is None


def test_plot_draws_the_band_centre_and_names_it():
    import matplotlib.pyplot as plt

    x, Q, _ = _data()
    est = R3D(bias_correction="robust", n_bootstrap=B, random_state=0)
    est.fit(x, QuantileFunctions(Q, GRID))
    ax = est.plot()
    line = next(ln for ln in ax.lines if ln.get_label() == "tau(q), bias-corrected")
    np.testing.assert_array_equal(line.get_ydata(), est.tau_bias_corrected_)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "95% uniform band (robust bias-corrected, constant width)" in labels
    plt.close(ax.figure)


# ------------------------------------------------------------------ edges of the option
def test_shuffled_pandas_index_is_aligned_by_label():
    x, Q, _ = _data(seed=21)
    ids = np.array([f"u{i}" for i in range(x.size)])
    qf = QuantileFunctions(Q, GRID, unit_ids=ids)
    xs = pd.Series(x, index=ids)
    perm = np.random.default_rng(3).permutation(x.size)
    kw = dict(bias_correction="robust", n_bootstrap=B, random_state=0)
    a = R3D(**kw).fit(xs, qf)
    b = R3D(**kw).fit(xs.iloc[perm], qf)  # same labels, other order: paired by label
    np.testing.assert_array_equal(b.tau_bias_corrected_, a.tau_bias_corrected_)
    np.testing.assert_array_equal(b.band_.to_numpy(), a.band_.to_numpy())
    other = pd.Series(x, index=[f"v{i}" for i in range(x.size)])
    with pytest.raises(ValueError, match="label"):
        R3D(**kw).fit(other, qf)


def test_nan_outcome_is_a_clear_error():
    x, Q, _ = _data(seed=22)
    Q = Q.copy()
    Q[3, 2] = np.nan
    with pytest.raises(ValueError, match="`y` contains non-finite outcomes"):
        R3D(bias_correction="robust", quantiles=GRID, n_bootstrap=B, random_state=0).fit(x, Q)


def test_constant_outcome_is_a_zero_effect_with_a_warning():
    x, _, _ = _data(seed=23)
    Q = np.full((x.size, GRID.size), 7.3)
    with pytest.warns(DegenerateDataWarning):
        est = R3D(bias_correction="robust", n_bootstrap=B, random_state=0).fit(
            x, QuantileFunctions(Q, GRID)
        )
    assert np.all(est.tau_bias_corrected_ == 0.0) and np.all(est.tau_ == 0.0)
    assert np.all(est.band_.to_numpy() == 0.0)
    assert est.test("nullity").pvalue == 1.0


def test_bias_bandwidth_conflicting_with_the_grid_is_refused():
    x, Q, _ = _data(seed=24)
    with pytest.raises(ValueError, match="`bias_bandwidth`"):
        R3D(bias_correction="robust", bias_bandwidth=[0.5, 0.6], n_bootstrap=B).fit(
            x, QuantileFunctions(Q, GRID)
        )
    with pytest.raises(ValueError, match="`bias_bandwidth`"):
        R3D(bias_correction="robust", bias_bandwidth=np.nan, n_bootstrap=B).fit(
            x, QuantileFunctions(Q, GRID)
        )
