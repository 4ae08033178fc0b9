import numpy as np
from scipy import stats

from r3d.simulate import dgp2_effect, simulate_dgp1, simulate_dgp2, simulate_normal


def test_dgp1_shapes_and_seed():
    a = simulate_dgp1(n=50, n_draws=7, delta=1.0, rng=3)
    b = simulate_dgp1(n=50, n_draws=7, delta=1.0, rng=3)
    np.testing.assert_array_equal(a.y.values, b.y.values)
    assert a.y.n_units == 50 and a.y.n_obs == 350
    np.testing.assert_array_equal(a.y.running, a.x)


def test_dgp2_effect_matches_monte_carlo():
    # the mixture quantile for fixed lambda checked against a huge sample
    rng = np.random.default_rng(0)
    lam = 0.8
    draws = rng.standard_normal(2_000_000) + 2 * rng.standard_exponential(2_000_000) / lam
    q = np.array([0.1, 0.5, 0.9])
    np.testing.assert_allclose(stats.exponnorm.ppf(q, 2 / lam), np.quantile(draws, q), atol=0.01)
    # no shape change: effect is the location shift exactly
    np.testing.assert_allclose(dgp2_effect(q, 0.7, 0.0), 0.7, atol=1e-12)
    # a higher exponential rate shrinks the upper quantiles more than the lower ones
    eff = dgp2_effect(q, 0.0, 0.5)
    assert eff[0] < 0 and eff[2] < eff[1] < eff[0]


def test_dgp2_and_fuzzy():
    s = simulate_dgp2(n=30, n_draws=4, delta=0.5, delta_lambda=0.2, rng=1)
    assert s.y.n_obs == 120
    f = simulate_normal(n=400, n_draws=3, fuzzy=True, rng=2)
    above = f.treatment[f.x >= 0].mean() - f.treatment[f.x < 0].mean()
    assert 0.7 < above < 0.9
