"""Memory-bounded fits: a tiny memory budget (many blocks of columns, units and draws)
gives the same estimates, bands and tests as one block, and unit ids survive every path."""

import numpy as np
import pandas as pd
import pytest

from estkit import multiplier_process
from estkit._bootstrap import ScoreBlocks
from r3d import R3D, Distributions, QuantileFunctions
from r3d._estimate import estimate_r3d
from r3d.simulate import simulate_dgp1

TIGHT = 4096  # bytes: one quantile column, a few units and one draw per block
LOOSE = 2**30


@pytest.fixture(scope="module")
def sim():
    return simulate_dgp1(n=400, n_draws=40, delta=2.0, rng=5)


def _fuzzy_treatment(x):
    rng = np.random.default_rng(7)
    u = rng.uniform(size=x.size)
    return np.where(x >= 0, u < 0.85, u < 0.15).astype(float)


def _summary(est):
    return np.concatenate(
        [
            est.tau_,
            est.bandwidth_,
            est.band_.to_numpy().ravel(),
            est.pointwise_band_.to_numpy().ravel(),
            [est.critical_value_],
            [est.test(k).pvalue for k in ("nullity", "homogeneity", "gini")],
            [est.test(k).statistic for k in ("nullity", "homogeneity", "gini")],
        ]
    )


@pytest.mark.parametrize("method", ["frechet", "simple"])
@pytest.mark.parametrize("fuzzy", [False, True])
@pytest.mark.parametrize("compat", [None, "R"])
def test_tiny_budget_matches_one_block(sim, method, fuzzy, compat):
    t = _fuzzy_treatment(sim.x) if fuzzy else None
    cl = None if compat else np.arange(sim.x.size) // 4
    fits = [
        R3D(
            method=method,
            compat=compat,
            quantiles=np.arange(5, 100, 5) / 100,
            n_bootstrap=200,
            random_state=1,
            memory_budget=budget,
        ).fit(sim.x, sim.y, treatment=t, cluster=cl)
        for budget in (TIGHT, LOOSE)
    ]
    a, b = (_summary(f) for f in fits)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_tiny_budget_core_arrays_match(sim):
    q = np.arange(1, 100) / 100
    Q = sim.y.quantiles(q)
    cores = [
        estimate_r3d(sim.x, Q, q, method="frechet", kernel="triangular", memory_budget=b)
        for b in (TIGHT, LOOSE)
    ]
    for name in ("tau", "plus", "minus", "coef_plus", "coef_minus", "resid", "leverage"):
        a, b = getattr(cores[0], name), getattr(cores[1], name)
        # 1e-12 relative to the array's scale (the selected bandwidth differs in its last
        # bits, which moves small coefficients by ~1e-13)
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12 * np.abs(b).max())
    np.testing.assert_allclose(cores[0].weights_plus, cores[1].weights_plus, rtol=1e-12)
    # one bandwidth: the weights are one column broadcast over the quantiles, not (n, m)
    assert cores[0].weights_plus.strides[1] == 0
    assert cores[0].resid.shape == Q.shape


def test_given_multipliers_and_budget(sim):
    xi = np.random.default_rng(3).standard_normal((sim.x.size, 120))
    fits = [
        R3D(quantiles=[0.25, 0.5, 0.75], memory_budget=b).fit(sim.x, sim.y, multipliers=xi)
        for b in (TIGHT, LOOSE)
    ]
    np.testing.assert_allclose(_summary(fits[0]), _summary(fits[1]), rtol=1e-12, atol=1e-12)


def test_memory_budget_validated(sim):
    with pytest.raises(TypeError, match="`memory_budget` must be an integer"):
        R3D(memory_budget=1.5).fit(sim.x, sim.y)
    with pytest.raises(ValueError, match="`memory_budget` must be >= 1"):
        R3D(memory_budget=0).fit(sim.x, sim.y)


def test_score_blocks_equal_dense():
    rng = np.random.default_rng(0)
    n, m = 300, 4
    dense = np.zeros((n, 2 * m + 1))
    top, bottom = np.arange(0, 150), np.arange(150, 300)
    dense[top, :m] = rng.standard_normal((150, m))
    dense[bottom, m : 2 * m] = rng.standard_normal((150, m))
    dense[::3, 2 * m] = rng.standard_normal(100)
    rows_t = np.arange(0, n, 3)
    blocks = ScoreBlocks(
        n,
        2 * m + 1,
        [
            (top, slice(0, m), dense[top, :m]),
            (bottom, slice(m, 2 * m), dense[bottom, m : 2 * m]),
            (rows_t, slice(2 * m, 2 * m + 1), dense[rows_t, 2 * m :]),
        ],
    )
    cl = np.arange(n) // 5
    for kw in ({}, {"cluster": cl}):
        a = multiplier_process(dense, 70, rng=2, **kw)
        b = multiplier_process(blocks, 70, rng=2, memory_budget=8 * n * 2 * 3, **kw)
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    xi = rng.standard_normal((n, 30))
    np.testing.assert_allclose(
        multiplier_process(blocks, multipliers=xi), xi.T @ dense, rtol=1e-12, atol=1e-12
    )


# ---------------------------------------------------------------------- unit ids
def test_unit_ids_from_long_and_subset():
    df = pd.DataFrame(
        {
            "id": ["b", "a", "b", "c", "a", "c"],
            "y": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "x": [0.5, -0.5, 0.5, 0.2, -0.5, 0.2],
        }
    )
    d = Distributions.from_long(df, unit="id", outcome="y", running="x")
    assert d.unit_ids.tolist() == ["a", "b", "c"]
    sub = d.subset(np.array([True, False, True]))
    assert sub.unit_ids.tolist() == ["a", "c"]
    qf = d.to_quantile_functions([0.5])
    assert qf.unit_ids.tolist() == ["a", "b", "c"]
    assert qf.matrix.ravel().tolist() == [3.5, 2.0, 5.0]
    assert qf.running.tolist() == [-0.5, 0.5, 0.2]
    assert qf.subset([2, 0]).unit_ids.tolist() == ["c", "a"]
    assert qf.subset(np.array([False, True, True])).matrix.ravel().tolist() == [2.0, 5.0]


def test_unit_ids_default_and_given():
    qf = QuantileFunctions(np.array([[1.0, 2.0], [3.0, 4.0]]), [0.25, 0.75])
    assert qf.unit_ids.tolist() == [0, 1]
    d = Distributions.from_arrays([[1.0, 2.0], [3.0]], unit_ids=["u", "v"])
    assert d.unit_ids.tolist() == ["u", "v"]
    assert d.to_quantile_functions([0.5]).unit_ids.tolist() == ["u", "v"]


# ------------------------------------------- fused residual pass (issue 17, fit time)
def _old_residual_pass(x, Q, q, h, kern, method, rules, budget):
    """The residual pass as it was: projection of all support rows, then residuals."""
    from estkit._monotone import isotonic_regression
    from r3d._estimate import _fit_both_sides, _hc2, _projection_weights

    out = _fit_both_sides(x, Q, 0.0, h, 2, kern, 4, rules, budget, windowed=True)
    resid, lev, sup_p, sup_m = out[4], out[5], out[6], out[7]
    rows = np.flatnonzero(sup_p.any(axis=1) | sup_m.any(axis=1))
    if method == "frechet":
        resid[rows] = isotonic_regression(resid[rows], _projection_weights(q, rules))
    e = np.where(sup_p[rows] | sup_m[rows], Q[rows] - resid[rows], 0.0)
    resid[rows] = _hc2(e, lev[rows], rules)
    return resid


@pytest.mark.parametrize("method", ["frechet", "simple"])
@pytest.mark.parametrize("rule", ["default", "r3d"])
@pytest.mark.parametrize("budget", [TIGHT, LOOSE])
@pytest.mark.parametrize("dense", [0.0, np.inf])
def test_fused_residual_pass_equals_two_passes(monkeypatch, method, rule, budget, dense):
    # dense=0: the pass runs over whole ranges of rows in place; inf: over the support's
    # rows (gathered and scattered); small cache blocks of rows (issue 17)
    import r3d._estimate as emod
    from estkit._kernels import get_kernel
    from r3d._estimate import _fit_sides
    from r3d._rules import PAPER, R3D_28744DB

    monkeypatch.setattr(emod, "_DENSE_SUPPORT", dense)
    monkeypatch.setattr(emod, "_RESIDUAL_CELLS", 9 * 7)

    rules = PAPER if rule == "default" else R3D_28744DB
    rng = np.random.default_rng(8)
    n, q = 600, np.linspace(0.1, 0.9, 9)
    x = rng.uniform(-1, 1, n)
    # unsorted noisy rows: many fitted curves are not monotone (the projection has work)
    Q = (x >= 0)[:, None] + q[None, :] + rng.standard_normal((n, q.size))
    kern = get_kernel("triangular")
    h = np.full(q.size, 0.5) if method == "frechet" else np.linspace(0.4, 0.6, q.size)
    got = _fit_sides(x, Q, q, 0.0, h, 2, kern, 4, method, rules, budget)[4]
    ref = _old_residual_pass(x, Q, q, h, kern, method, rules, budget)
    np.testing.assert_array_equal(got, ref)


def test_isotonic_rows_projects_only_non_monotone_rows():
    from estkit._monotone import isotonic_regression
    from r3d._estimate import _isotonic_rows

    rng = np.random.default_rng(2)
    fit = np.sort(rng.standard_normal((50, 7)), axis=1)
    fit[::4] = rng.standard_normal((13, 7))  # not monotone
    w = np.linspace(1.0, 2.0, 7)
    for weights in (None, w):
        np.testing.assert_array_equal(
            _isotonic_rows(fit.copy(), weights), isotonic_regression(fit, weights)
        )
    bad = fit.copy()
    bad[3, 2] = np.inf  # a non-finite value: isotonic_regression's own error
    with pytest.raises(ValueError, match="non-finite"):
        _isotonic_rows(bad, None)


def test_distinct_running_values_counted_past_the_first_thousand():
    # a side of more than 1000 units whose first 1000 values are tied: the count goes on
    # over the whole side (the first thousand alone decide only when they suffice)
    rng = np.random.default_rng(3)
    below = np.concatenate([np.full(1000, -0.5), rng.uniform(-1, 0, 500)])
    above = rng.uniform(0, 1, 1500)
    q = np.array([0.25, 0.5, 0.75])
    Q = np.sort(rng.standard_normal((3000, 3)), axis=1)
    est = R3D(p=2, n_bootstrap=20, random_state=0)
    est.fit(np.concatenate([below, above]), QuantileFunctions(Q, q))
    assert np.all(np.isfinite(est.tau_))
    # two distinct values on the side, 1500 units: refused, with the exact count
    tied = np.concatenate([np.full(1000, -0.5), np.full(500, -0.25), above])
    with pytest.raises(ValueError, match=r"1500 unit\(s\) below the cutoff 0 take 2 distinct"):
        R3D(p=2, n_bootstrap=20, random_state=0).fit(tied, QuantileFunctions(Q, q))
