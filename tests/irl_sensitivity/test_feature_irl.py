"""Feature-based MCE IRL: recovery from exact occupancies, features, trajectories, errors."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from estkit.exceptions import NotFittedError
from irl_sensitivity import (
    FeatureIRLResults,
    FeatureMCEIRL,
    MaxCausalEntropyIRL,
    TabularMDP,
    mce_policy,
    occupancy_measure,
    random_mdp,
    sample_trajectories,
    soft_value_iteration,
    soft_value_iteration_fh,
    starc_distance,
)


def to_sparse(mdp: TabularMDP) -> TabularMDP:
    t = mdp.transition
    return TabularMDP(
        [sp.csr_matrix(t[:, a, :]) for a in range(t.shape[1])], mdp.initial, mdp.gamma
    )


@pytest.fixture(scope="module")
def setup():
    mdp = random_mdp(6, 3, gamma=0.9, rng=0)
    r = np.random.default_rng(0).normal(size=(6, 3))
    return mdp, r


@pytest.mark.parametrize("temperature", [1.0, 0.5])
@pytest.mark.parametrize("sparse", [False, True])
def test_tabular_recovery_discounted(setup, temperature, sparse):
    mdp, r = setup
    m = to_sparse(mdp) if sparse else mdp
    pi = soft_value_iteration(mdp, r, temperature)[2]
    occ = occupancy_measure(m, pi)
    est = FeatureMCEIRL(temperature=temperature).fit(m, occupancy=occ.state_action)
    assert est.converged_
    assert est.reward_.shape == (6, 3) and est.theta_.shape == (18,)
    assert starc_distance(mdp, r, est.reward_) <= 1e-6
    np.testing.assert_allclose(est.policy_, pi, atol=1e-8)
    np.testing.assert_allclose(est.occupancy_, occ.state_action, atol=1e-8)


@pytest.mark.parametrize("disc", [1.0, None])
def test_tabular_recovery_finite_horizon(setup, disc):
    mdp, r = setup
    _, _, pi = soft_value_iteration_fh(mdp, r, 15, discount=disc)
    occ = occupancy_measure(mdp, pi, horizon=15, discount=disc)
    est = FeatureMCEIRL(horizon=15, discount=disc).fit(mdp, occupancy=occ)  # the named tuple
    assert est.converged_ and est.policy_.shape == (15, 6, 3)
    np.testing.assert_allclose(est.policy_, pi, atol=1e-6)
    assert starc_distance(mdp, r, est.reward_) <= 1e-6


def test_feature_recovery_identifies_theta(setup):
    mdp, _ = setup
    phi = np.random.default_rng(3).normal(size=(6, 3, 4))
    theta = np.array([0.5, -1.0, 0.25, 2.0])
    r = phi @ theta
    occ = occupancy_measure(mdp, mce_policy(mdp, r))
    est = FeatureMCEIRL(features=phi).fit(mdp, occupancy=occ)
    np.testing.assert_allclose(est.theta_, theta, atol=1e-8)
    assert starc_distance(mdp, r, est.reward_) <= 1e-6
    res = est.results_
    assert isinstance(res, FeatureIRLResults)
    assert list(res.params.index) == ["phi_0", "phi_1", "phi_2", "phi_3"]
    assert res.max_count_gap < 1e-8
    text = str(est.summary())
    assert "Feature MCE IRL" in text and "phi_3" in text and "infinite" in text


def test_feature_layouts_agree(setup):
    """(S, K) state features, (S, A, S, K) next-state features and sparse matrices."""
    mdp, _ = setup
    rng = np.random.default_rng(5)
    state_phi = rng.normal(size=(6, 3))
    r = state_phi @ np.array([1.0, -0.5, 0.3])
    occ = occupancy_measure(mdp, mce_policy(mdp, r), horizon=10).state_action
    a = FeatureMCEIRL(features=state_phi, horizon=10).fit(mdp, occupancy=occ)
    b = FeatureMCEIRL(features=np.repeat(state_phi[:, None, :], 3, axis=1), horizon=10).fit(
        mdp, occupancy=occ
    )
    c = FeatureMCEIRL(features=sp.csr_matrix(np.repeat(state_phi, 3, axis=0)), horizon=10).fit(
        mdp, occupancy=occ
    )
    np.testing.assert_allclose(a.theta_, b.theta_, atol=1e-12)
    np.testing.assert_allclose(a.theta_, c.theta_, atol=1e-12)
    # phi(s, a, s') enters through its expectation over s'
    sas = rng.normal(size=(6, 3, 6, 2))
    expected = np.einsum("sat,satk->sak", mdp.transition, sas)
    r2 = expected @ np.array([0.7, -1.2])
    occ2 = occupancy_measure(mdp, mce_policy(mdp, r2)).state_action
    d = FeatureMCEIRL(features=sas).fit(mdp, occupancy=occ2)
    np.testing.assert_allclose(d.theta_, [0.7, -1.2], atol=1e-8)


def test_l2_penalty_stationarity(setup):
    mdp, r = setup
    occ = occupancy_measure(mdp, mce_policy(mdp, r)).state_action
    free = FeatureMCEIRL().fit(mdp, occupancy=occ)
    ridge = FeatureMCEIRL(l2=0.5).fit(mdp, occupancy=occ)
    res = ridge.results_
    np.testing.assert_allclose(
        res.model_features - res.demo_features + 0.5 * ridge.theta_, 0.0, atol=1e-7
    )
    assert np.linalg.norm(ridge.theta_) < np.linalg.norm(free.theta_)


def test_from_trajectories(setup):
    mdp, r = setup
    pi = mce_policy(mdp, r)
    trajs = sample_trajectories(mdp, pi, 300, 60, rng=1)
    est = FeatureMCEIRL().fit(mdp, trajs)
    assert est.results_.n_trajectories == 300 and est.converged_
    d = starc_distance(mdp, r, est.reward_)
    d_count = MaxCausalEntropyIRL().fit(mdp, trajs, reference=r).distance_
    assert d < 0.15 and d <= d_count * 1.5
    # tabular, infinite horizon: the causal likelihood's maximiser reproduces the
    # empirical policy exactly (every state-action pair is visited here)
    c = np.zeros((6, 3))
    for tr in trajs:
        np.add.at(c, (tr[:, 0], tr[:, 1]), 1.0)
    assert c.min() > 0
    np.testing.assert_allclose(est.policy_, c / c.sum(axis=1, keepdims=True), atol=1e-9)
    # finite horizon uses the first H steps of each trajectory
    fh = FeatureMCEIRL(horizon=20, discount=1.0).fit(mdp, trajs)
    assert fh.results_.demo_features.sum() == pytest.approx(20.0)
    with pytest.raises(ValueError, match=r"has 60 steps but horizon=80"):
        FeatureMCEIRL(horizon=80).fit(mdp, trajs)


def test_single_action_mdp_is_trivial():
    mdp = random_mdp(4, 1, rng=2)
    occ = occupancy_measure(mdp, np.ones((4, 1)))
    est = FeatureMCEIRL().fit(mdp, occupancy=occ)
    assert est.converged_ and est.n_iter_ == 0
    np.testing.assert_array_equal(est.reward_, np.zeros((4, 1)))


def test_uniform_demonstrator_gives_a_trivial_reward(setup):
    mdp, _ = setup
    occ = occupancy_measure(mdp, np.full((6, 3), 1 / 3))
    est = FeatureMCEIRL().fit(mdp, occupancy=occ)
    np.testing.assert_allclose(est.policy_, 1 / 3, atol=1e-9)
    # the recovered reward is a potential shaping of zero: its Q-values are action-free
    q = soft_value_iteration(mdp, est.reward_)[1]
    np.testing.assert_allclose(q - q.mean(axis=1, keepdims=True), 0.0, atol=1e-8)


def test_not_converged_warns(setup):
    mdp, r = setup
    occ = occupancy_measure(mdp, mce_policy(mdp, r)).state_action
    with pytest.warns(ConvergenceWarning, match="did not converge in 1 iterations"):
        est = FeatureMCEIRL(max_iter=1).fit(mdp, occupancy=occ)
    assert not est.converged_
    assert "Not converged" in str(est.summary())


def test_init_only_stores_and_not_fitted():
    est = FeatureMCEIRL(temperature=-1, l2="x")
    assert est.get_params()["temperature"] == -1 and est.get_params()["features"] is None
    with pytest.raises(NotFittedError):
        est.summary()


@pytest.mark.parametrize(
    ("params", "err", "match"),
    [
        ({"temperature": 0.0}, ValueError, "`temperature` must be finite and > 0"),
        ({"temperature": np.nan}, ValueError, "must be finite and > 0"),
        ({"temperature": "1"}, TypeError, "`temperature`"),
        ({"temperature": True}, TypeError, "`temperature`"),
        ({"discount": 1.0}, ValueError, "`discount` must be < 1 with the infinite horizon"),
        ({"discount": -0.1}, ValueError, r"`discount` must lie in \(0, 1\]"),
        ({"l2": -1.0}, ValueError, "`l2` must be finite and >= 0"),
        ({"l2": np.inf}, ValueError, "`l2` must be finite and >= 0"),
        ({"tol": 0.0}, ValueError, "`tol` must be finite and > 0"),
        ({"tol": "small"}, TypeError, "`tol` must be a float"),
        ({"max_iter": 0}, ValueError, "`max_iter` must be >= 1"),
        ({"max_iter": 10.0}, TypeError, "`max_iter` must be an integer"),
        ({"horizon": 0}, ValueError, "`horizon` must be >= 1"),
        ({"horizon": False}, TypeError, "`horizon` must be an integer"),
        ({"features": np.ones((5, 2))}, ValueError, r"`features` must have shape \(S, K\)"),
        ({"features": np.ones((6, 3, 0))}, ValueError, "at least one feature"),
        ({"features": np.full((6, 2), np.nan)}, ValueError, "`features` contains non-finite"),
        ({"features": "onehot"}, TypeError, "`features` must be a numeric array"),
        ({"features": sp.csr_matrix(np.ones((6, 2)))}, ValueError, r"\(S \* A, K\) = \(18, K\)"),
    ],
)
def test_bad_options(setup, params, err, match):
    mdp, r = setup
    occ = occupancy_measure(mdp, mce_policy(mdp, r)).state_action
    with pytest.raises(err, match=match):
        FeatureMCEIRL(**params).fit(mdp, occupancy=occ)


def test_bad_demonstrations(setup):
    mdp, r = setup
    om = occupancy_measure(mdp, mce_policy(mdp, r))
    trajs = sample_trajectories(mdp, mce_policy(mdp, r), 3, 5, rng=0)
    est = FeatureMCEIRL()
    with pytest.raises(ValueError, match="exactly one of `trajectories`"):
        est.fit(mdp)
    with pytest.raises(ValueError, match="exactly one of `trajectories`"):
        est.fit(mdp, trajs, occupancy=om)
    with pytest.raises(ValueError, match=r"sums to 5.*imply a total of 10"):
        est.fit(mdp, occupancy=om.state_action / 2)
    with pytest.raises(ValueError, match="computed with horizon=None"):
        FeatureMCEIRL(horizon=5).fit(mdp, occupancy=om)
    with pytest.raises(ValueError, match=r"shape \(S, A\) = \(6, 3\)"):
        est.fit(mdp, occupancy=om.state)
    with pytest.raises(ValueError, match="finite non-negative"):
        est.fit(mdp, occupancy=np.where(om.state_action > 0.5, np.nan, om.state_action))
    with pytest.raises(TypeError, match="`occupancy` must be a numeric"):
        est.fit(mdp, occupancy="counts")
    with pytest.raises(ValueError, match="indices outside"):
        est.fit(mdp, [np.array([[7, 0]])])
    with pytest.raises(TypeError, match="`mdp` must be a TabularMDP"):
        est.fit(mdp.transition, occupancy=om)
    with pytest.raises(ValueError, match="not supported with sparse transitions"):
        FeatureMCEIRL(features=np.ones((6, 3, 6, 1))).fit(to_sparse(mdp), occupancy=om)


# STARC distance to the true reward of imitation 1.0.1's MCEIRL (defaults: linear state
# reward on one-hot observations, Adam lr 1e-2, discount 1, horizon 50, train() with
# max_iter=1000) on exactly the samples below; computed by
# ``benchmarks/bench_irl.py --sections samples`` in the oracle venv /work/oracles/irl on
# 2026-12-01. Issue 14 quotes 0.52 / 0.34 / 0.25 for imitation (0.11 / 0.05 / 0.02 for the
# count-based estimator) on a setting it does not spell out; these are recomputed here.
IMITATION_STARC = {500: 0.0878, 2_000: 0.0633, 8_000: 0.0330}
ISSUE_IMITATION_STARC = {500: 0.52, 2_000: 0.34, 8_000: 0.25}


@pytest.mark.slow
@pytest.mark.parametrize("n_traj", [500, 2_000, 8_000])
def test_sampled_trajectories_at_least_as_accurate_as_imitation(n_traj):
    """The setting of benchmarks/bench_irl.py's ``sample_setting`` (seed 0)."""
    mdp = random_mdp(8, 3, gamma=0.9, rng=11)
    r = np.random.default_rng(12).normal(size=8)
    trajs = sample_trajectories(mdp, mce_policy(mdp, r), n_traj, 51, rng=0)
    demos = [t[:-1] for t in trajs]  # imitation saw 51 states and the first 50 actions
    est = FeatureMCEIRL().fit(mdp, demos)
    assert est.converged_
    d = starc_distance(mdp, r, est.reward_)
    d_count = MaxCausalEntropyIRL().fit(mdp, demos, reference=r).distance_
    assert d <= IMITATION_STARC[n_traj]
    assert d <= ISSUE_IMITATION_STARC[n_traj]
    assert d <= d_count + 1e-3
    # state features (imitation's model class) are at least as accurate as well
    d_state = starc_distance(mdp, r, FeatureMCEIRL(features=np.eye(8)).fit(mdp, demos).reward_)
    assert d_state <= IMITATION_STARC[n_traj]


@pytest.mark.parametrize("factor", [1e300, 1e-300, 1e6])
def test_feature_scale_is_irrelevant(setup, factor):
    """Rescaling the features rescales theta inversely and leaves the reward unchanged."""
    mdp, _ = setup
    phi = np.random.default_rng(3).normal(size=(6, 3, 4))
    r = phi @ np.array([0.5, -1.0, 0.25, 2.0])
    occ = occupancy_measure(mdp, mce_policy(mdp, r))
    base = FeatureMCEIRL(features=phi).fit(mdp, occupancy=occ)
    big = FeatureMCEIRL(features=phi * factor).fit(mdp, occupancy=occ)
    assert big.converged_
    np.testing.assert_allclose(big.theta_ * factor, base.theta_, rtol=1e-7)
    np.testing.assert_allclose(big.reward_, base.reward_, atol=1e-7)
    # the ridge penalty keeps its meaning: (l2 / 2) |theta|^2 on the caller's theta
    ridge = FeatureMCEIRL(features=phi, l2=0.3).fit(mdp, occupancy=occ)
    res = ridge.results_
    np.testing.assert_allclose(
        res.model_features - res.demo_features + 0.3 * ridge.theta_, 0.0, atol=1e-7
    )


@pytest.mark.parametrize("horizon", [None, 12])
def test_sparse_and_dense_mdps_agree_on_trajectories(setup, horizon):
    mdp, r = setup
    trajs = sample_trajectories(mdp, mce_policy(mdp, r), 60, 15, rng=4)
    phi = np.random.default_rng(8).normal(size=(6, 3, 3))
    dense = FeatureMCEIRL(features=phi, horizon=horizon).fit(mdp, trajs)
    sparse = FeatureMCEIRL(features=phi, horizon=horizon).fit(to_sparse(mdp), trajs)
    assert dense.converged_ and sparse.converged_
    np.testing.assert_allclose(sparse.theta_, dense.theta_, rtol=1e-7, atol=1e-9)
