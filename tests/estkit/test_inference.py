"""estkit.BootstrapInference: the same numbers as the pure cores of estkit._bootstrap."""

import numpy as np
import pytest

import estkit
from estkit import BootstrapInference, BootstrapRules, TestResult

RNG = np.random.default_rng(20261201)
N, M, B = 120, 6, 199
SCORES = RNG.standard_normal((N, M)) / N
EST = RNG.standard_normal(M) * 0.05
XI = RNG.standard_normal((N, B))
GRID = np.linspace(0.1, 0.9, M)


def _inf(**kw):
    return BootstrapInference(EST, SCORES, multipliers=XI, grid=GRID, **kw)


def _draws():
    return estkit.multiplier_process(SCORES, multipliers=XI)


def test_draws_equal_multiplier_process_and_are_computed_once(monkeypatch):
    inf = BootstrapInference(EST, SCORES, n_bootstrap=B, rng=3, grid=GRID)
    ref = estkit.multiplier_process(SCORES, B, rng=3)
    calls = []
    real = estkit._inference.multiplier_process

    def counting(*a, **k):
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(estkit._inference, "multiplier_process", counting)
    np.testing.assert_array_equal(inf.draws, ref)
    inf.band(0.05)
    inf.band(0.10, studentize=True)
    inf.pointwise(0.2)
    inf.sup_test("homogeneity")
    assert len(calls) == 1
    assert inf.n_bootstrap == B


@pytest.mark.parametrize("studentize", [False, True])
@pytest.mark.parametrize("rule", ["inverse_cdf", "ceil", "linear"])
@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.3])
def test_band_equals_uniform_band_exactly(studentize, rule, alpha):
    inf = _inf(rules=BootstrapRules(band=rule))
    band = inf.band(alpha, studentize=studentize)
    lo, hi, cv, scale = estkit.uniform_band(EST, _draws(), alpha, studentize=studentize, rule=rule)
    np.testing.assert_array_equal(band.lower, lo)
    np.testing.assert_array_equal(band.upper, hi)
    np.testing.assert_array_equal(band.scale, scale)
    assert band.critical_value == cv and band.crit == cv
    assert band.kind == "uniform" and band.alpha == alpha
    np.testing.assert_array_equal(band.sup_statistics, estkit.sup_statistics(_draws(), scale=scale))
    # the rule given per call overrides the object's
    assert _inf().band(alpha, studentize=studentize, rule=rule).critical_value == cv


def test_band_at_another_level_reuses_the_sup_statistics():
    inf = _inf()
    b95, b90 = inf.band(0.05), inf.band(0.10)
    assert b95.sup_statistics is b90.sup_statistics
    assert b90.critical_value < b95.critical_value
    assert inf.band(0.05) is b95  # cached


def test_pointwise_equals_order_statistics_per_point():
    inf = _inf(rules=BootstrapRules(band="ceil"))
    pw = inf.pointwise(0.1)
    absd = np.abs(_draws())
    c = [estkit.order_statistic_critical_value(absd[:, j], 0.1, "ceil") for j in range(M)]
    np.testing.assert_array_equal(pw.critical_value, c)
    np.testing.assert_array_equal(pw.lower, EST - np.array(c))
    np.testing.assert_array_equal(pw.upper, EST + np.array(c))
    assert pw.kind == "pointwise"
    assert np.all(pw.upper - pw.lower <= inf.band(0.1).upper - inf.band(0.1).lower + 1e-15)


@pytest.mark.parametrize(
    "rules", [BootstrapRules(), BootstrapRules(band="ceil", test="linear", plus_one=False)]
)
def test_sup_tests_equal_the_pure_cores(rules):
    inf = _inf(rules=rules)
    d = _draws()
    sel = (GRID >= 0.25) & (GRID <= 0.75)
    for stat, obs, boot in [
        ("nullity", np.max(np.abs(EST)), np.max(np.abs(d), axis=1)),
        (
            "homogeneity",
            np.max(np.abs(EST[sel] - EST[sel].mean())),
            np.max(np.abs(d[:, sel] - d[:, sel].mean(axis=1, keepdims=True)), axis=1),
        ),
    ]:
        rng = None if stat == "nullity" else (0.25, 0.75)
        t = inf.sup_test(stat, rng, alpha=0.1)
        assert isinstance(t, TestResult)
        assert t.statistic == obs
        np.testing.assert_array_equal(t.null_distribution, boot)
        assert t.critical_value == estkit.order_statistic_critical_value(boot, 0.1, rules.test)
        p = estkit.bootstrap_pvalue(obs, boot, plus_one=rules.plus_one)
        assert t.pvalue == p == inf.pvalue(stat, rng)
        assert t.quantile_range == ((0.1, 0.9) if rng is None else (0.25, 0.75))
        assert t.method == f"multiplier bootstrap, B={B}"


def test_nullity_over_the_grid_reuses_the_band_sup_statistics():
    inf = _inf()
    t = inf.sup_test("nullity")
    np.testing.assert_array_equal(t.null_distribution, inf.band(0.05).sup_statistics)


def test_degenerate_points_are_left_out():
    est = EST.copy()
    est[2] = 0.0
    d = _draws().copy()
    d[:, 2] = 0.0
    deg = np.zeros(M, bool)
    deg[2] = True
    inf = BootstrapInference.from_draws(est, d, grid=GRID, degenerate=deg)
    band = inf.band(0.05)
    live = ~deg
    lo, _, cv, _ = estkit.uniform_band(est[live], d[:, live], 0.05)
    assert band.critical_value == cv
    np.testing.assert_array_equal(band.lower[live], lo)
    assert band.lower[2] == band.upper[2] == 0.0
    only = inf.sup_test("nullity", (GRID[2], GRID[2]))
    assert (only.statistic, only.critical_value, only.pvalue) == (0.0, 0.0, 1.0)
    assert inf.pvalue("nullity", (GRID[2], GRID[2])) == 1.0


def test_transform_maps_the_process_to_the_draws():
    scores = np.hstack([SCORES, SCORES[:, :1]])
    inf = BootstrapInference(
        EST, scores, multipliers=XI, transform=lambda p: p[:, :M] - p[:, M:] * 0.5
    )
    proc = estkit.multiplier_process(scores, multipliers=XI)
    np.testing.assert_array_equal(inf.process, proc)
    np.testing.assert_array_equal(inf.draws, proc[:, :M] - proc[:, M:] * 0.5)


def test_bootstrap_test_of_any_statistic_uses_the_rules():
    inf = _inf(rules=BootstrapRules(test="linear", plus_one=False))
    boot = np.abs(RNG.standard_normal(B))
    t = inf.bootstrap_test("gini", 1.5, boot, alpha=0.05, details={"a": 1.0})
    assert t.critical_value == float(np.quantile(boot, 0.95))
    assert t.pvalue == np.mean(boot >= 1.5) == t.p_value
    assert t.details == {"a": 1.0} and t.label == "gini"


@pytest.mark.parametrize("kind", ["percentile", "basic"])
@pytest.mark.parametrize("shape", [(B,), (B, 3)])
def test_from_replicates_equals_percentile_interval(kind, shape):
    reps = RNG.standard_normal(shape) + 1.0
    est = 1.0 if len(shape) == 1 else np.ones(3)
    inf = BootstrapInference.from_replicates(est, reps)
    lo, hi = inf.interval(0.1, kind=kind)
    rlo, rhi = estkit.percentile_interval(est, reps, 0.1, kind=kind)
    np.testing.assert_array_equal(lo, rlo)
    np.testing.assert_array_equal(hi, rhi)
    assert np.shape(lo) == np.shape(rlo)
    assert inf.method == "pairs bootstrap"
    np.testing.assert_array_equal(inf.draws, (reps.reshape(B, -1) - est))


def test_from_replicates_studentized_equals_studentized_interval():
    reps = RNG.standard_normal((B, 2)) + 1.0
    rse = 0.5 + RNG.random((B, 2))
    inf = BootstrapInference.from_replicates(
        np.ones(2), reps, std_error=np.array([0.8, 1.1]), replicate_std_errors=rse
    )
    lo, hi = inf.interval(0.05, kind="studentized")
    rlo, rhi = estkit.studentized_interval(
        np.ones(2), np.array([0.8, 1.1]), (reps - 1.0) / rse, 0.05
    )
    np.testing.assert_array_equal(lo, rlo)
    np.testing.assert_array_equal(hi, rhi)
    with pytest.raises(ValueError, match="`replicate_std_errors`"):
        BootstrapInference.from_replicates(np.ones(2), reps).interval(kind="studentized")


def test_from_replicates_of_pairs_bootstrap_scalar():
    x = np.arange(30.0)
    reps = estkit.pairs_bootstrap(lambda idx: x[idx].mean(), 30, 99, rng=0)
    lo, hi = BootstrapInference.from_replicates(x.mean(), reps).interval(0.05)
    rlo, rhi = estkit.percentile_interval(x.mean(), np.asarray(reps), 0.05)
    assert (float(lo), float(hi)) == (float(rlo), float(rhi))
    assert np.ndim(lo) == 0


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="`grid`"):
        BootstrapInference(EST, SCORES, n_bootstrap=9, grid=[0.1])
    with pytest.raises(ValueError, match="`degenerate`"):
        BootstrapInference(EST, SCORES, n_bootstrap=9, degenerate=[True])
    with pytest.raises(TypeError, match="`rules`"):
        BootstrapInference(EST, SCORES, n_bootstrap=9, rules="R")
    with pytest.raises(ValueError, match="`draws`"):
        BootstrapInference.from_draws(EST, np.zeros((5, 2)))
    with pytest.raises(ValueError, match="`statistic`"):
        _inf().sup_test("gini")
    with pytest.raises(ValueError, match="at least 19 draws"):
        BootstrapInference.from_draws(EST, _draws()[:10]).band(0.05)
    with pytest.raises(TypeError, match="`plus_one`"):
        BootstrapRules(plus_one="yes")
