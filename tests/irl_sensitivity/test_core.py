"""MDP, planning, canonicalisations and STARC distances."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from irl_sensitivity import (
    TabularMDP,
    canonicalize,
    example_problem,
    mce_policy,
    normalized_regret,
    optimal_values,
    policy_evaluation,
    positive_scaling,
    potential_shaping,
    random_mdp,
    random_reward,
    s_redistribution,
    soft_value_iteration,
    soft_value_iteration_fh,
    standardize,
    starc_distance,
    value_iteration,
)
from irl_sensitivity._transforms import s_redistribution_basis, shaping_basis

METHODS = ["val", "minimal", "epic", "dard"]


@pytest.fixture(params=[(3, 2, 0), (5, 3, 1), (6, 4, 2)], ids=lambda p: f"S{p[0]}A{p[1]}")
def setup(request):
    s, a, seed = request.param
    rng = np.random.default_rng(seed)
    mdp = random_mdp(s, a, gamma=0.9, rng=rng)
    return mdp, rng.normal(size=(s, a, s)), rng


# ------------------------------------------------------------------ bad input
def test_transition_rows_must_sum_to_one():
    t = np.full((2, 2, 2), 0.4)
    with pytest.raises(ValueError, match=r"rows must sum to 1.*transition\[0, 0, :\]"):
        TabularMDP(t, None, 0.9)


@pytest.mark.parametrize("gamma", [0.0, 1.0, -0.5, 1.5])
def test_gamma_outside_unit_interval(gamma):
    with pytest.raises(ValueError, match="`gamma` is a discount factor"):
        TabularMDP(np.full((2, 1, 2), 0.5), None, gamma)


def test_shape_mismatches():
    mdp = random_mdp(3, 2, rng=0)
    with pytest.raises(ValueError, match=r"`transition` must have shape \(S, A, S\)"):
        TabularMDP(np.ones((2, 2)), None, 0.9)
    # the message names the argument (`r1`), not a generic `reward`
    with pytest.raises(ValueError, match=r"`r1` must have shape"):
        starc_distance(mdp, np.zeros((4, 2)), np.zeros(3))
    with pytest.raises(ValueError, match=r"`initial` must be a distribution of shape \(3,\)"):
        TabularMDP(mdp.transition, [1.0, 0.0], 0.9)
    with pytest.raises(ValueError, match="`canonicalization` must be one of"):
        canonicalize(mdp, np.zeros(3), "pearson")


# ------------------------------------------------------------------ planning
def test_policy_iteration_matches_value_iteration(setup):
    mdp, r, _ = setup
    v1, q1 = optimal_values(mdp, r)
    _v2, q2 = value_iteration(mdp, r, tol=1e-14)
    np.testing.assert_allclose(q1, q2, atol=1e-10)
    # Bellman optimality holds exactly
    resid = mdp.expected_reward(r) + mdp.gamma * mdp.expect_next(v1) - q1
    assert np.abs(resid).max() < 1e-12


def test_policy_evaluation_fixed_point(setup):
    mdp, r, rng = setup
    pi = rng.dirichlet(np.ones(mdp.n_actions), size=mdp.n_states)
    v, q = policy_evaluation(mdp, r, pi)
    np.testing.assert_allclose((pi * q).sum(axis=1), v, atol=1e-12)


def test_soft_newton_matches_soft_iteration(setup):
    mdp, r, _ = setup
    v1, _q1, p1 = soft_value_iteration(mdp, r, 0.7, method="newton")
    v2, _q2, p2 = soft_value_iteration(mdp, r, 0.7, method="iterate")
    np.testing.assert_allclose(v1, v2, atol=1e-10)
    np.testing.assert_allclose(p1, p2, atol=1e-10)


def test_finite_horizon_converges_to_infinite_horizon(setup):
    mdp, r, _ = setup
    v_fh, _, pi_fh = soft_value_iteration_fh(mdp, r, horizon=400)
    v, _, pi = soft_value_iteration(mdp, r)
    np.testing.assert_allclose(v_fh[0], v, atol=1e-9)
    np.testing.assert_allclose(pi_fh[0], pi, atol=1e-9)


def test_finite_horizon_last_step_is_reward_softmax():
    mdp = random_mdp(3, 2, rng=0)
    r = np.arange(6.0).reshape(3, 2)
    _, q, _pi = soft_value_iteration_fh(mdp, r, horizon=3, discount=1.0)
    np.testing.assert_allclose(q[-1], r)
    np.testing.assert_allclose(q[0], r + mdp.expect_next(np.log(np.exp(q[1]).sum(axis=1))))


def test_sparse_and_dense_agree():
    mdp = random_mdp(6, 3, rng=3)
    sparse = TabularMDP([sp.csr_matrix(mdp.transition[:, a]) for a in range(3)], None, 0.9)
    r = np.random.default_rng(0).normal(size=(6, 3))
    np.testing.assert_allclose(optimal_values(sparse, r)[1], optimal_values(mdp, r)[1], atol=1e-12)
    np.testing.assert_allclose(mce_policy(sparse, r), mce_policy(mdp, r), atol=1e-10)
    with pytest.raises(ValueError, match="not supported with sparse transitions"):
        sparse.expected_reward(np.zeros((6, 3, 6)))


# ------------------------------------------------------------------ canonicalisations
@pytest.mark.parametrize("method", METHODS)
def test_invariant_to_shaping_and_scaling(setup, method):
    mdp, r, rng = setup
    s0 = standardize(mdp, r, method)
    shaped = potential_shaping(mdp, r, rng.normal(scale=3.0, size=mdp.n_states))
    assert np.abs(standardize(mdp, shaped, method) - s0).max() < 1e-10
    assert np.abs(standardize(mdp, positive_scaling(r, 7.3), method) - s0).max() < 1e-10
    assert np.abs(canonicalize(mdp, shaped, method) - canonicalize(mdp, r, method)).max() < 1e-10


@pytest.mark.parametrize("method", ["val", "minimal"])
def test_invariant_to_s_redistribution(setup, method):
    mdp, r, rng = setup
    moved = s_redistribution(mdp, r, rng, scale=5.0)
    assert np.abs(mdp.expected_reward(moved) - mdp.expected_reward(r)).max() < 1e-12
    assert np.abs(canonicalize(mdp, moved, method) - canonicalize(mdp, r, method)).max() < 1e-10


@pytest.mark.parametrize("method", ["epic", "dard"])
def test_epic_and_dard_not_invariant_to_s_redistribution(setup, method):
    mdp, r, rng = setup
    moved = s_redistribution(mdp, r, rng)
    assert starc_distance(mdp, r, moved, method) > 1e-3


@pytest.mark.parametrize("method", METHODS)
def test_distance_axioms(setup, method):
    mdp, r, rng = setup
    assert starc_distance(mdp, r, r, method) == 0.0
    assert starc_distance(mdp, r, -r, method) == pytest.approx(1.0, abs=1e-12)
    assert starc_distance(mdp, r, -r, method, scale=1.0) == pytest.approx(2.0, abs=1e-12)
    shaping = potential_shaping(mdp, np.zeros(mdp.n_states), rng.normal(size=mdp.n_states))
    assert starc_distance(mdp, np.zeros(mdp.n_states), shaping, method) == 0.0
    other = rng.normal(size=r.shape)
    d = starc_distance(mdp, r, other, method)
    assert 0.0 < d < 1.0
    # triangle inequality
    third = rng.normal(size=r.shape)
    assert d <= starc_distance(mdp, r, third, method) + starc_distance(mdp, third, other, method)


def test_minimal_equals_bruteforce_projection(setup):
    mdp, r, _ = setup
    basis = np.hstack([shaping_basis(mdp), s_redistribution_basis(mdp)])
    coef, *_ = np.linalg.lstsq(basis, r.ravel(), rcond=None)
    brute = r.ravel() - basis @ coef
    assert np.abs(canonicalize(mdp, r, "minimal").ravel() - brute).max() < 1e-10


def test_weighted_minimal_equals_weighted_bruteforce(setup):
    mdp, r, rng = setup
    w = rng.uniform(0.2, 3.0, size=r.shape)
    basis = np.hstack([shaping_basis(mdp), s_redistribution_basis(mdp)])
    sw = np.sqrt(w.ravel())
    coef, *_ = np.linalg.lstsq(sw[:, None] * basis, sw * r.ravel(), rcond=None)
    brute = r.ravel() - basis @ coef
    got = canonicalize(mdp, r, "minimal", weights=w).ravel()
    assert np.abs(got - brute).max() < 1e-10


def test_epic_matches_pearson_distance(setup):
    mdp, r, rng = setup
    r2 = rng.normal(size=r.shape)
    c1, c2 = canonicalize(mdp, r, "epic").ravel(), canonicalize(mdp, r2, "epic").ravel()
    rho = np.corrcoef(c1, c2)[0, 1]
    assert starc_distance(mdp, r, r2, "epic") == pytest.approx(np.sqrt((1 - rho) / 2), abs=1e-12)


def test_other_norms_and_val_policy(setup):
    mdp, r, rng = setup
    for norm in (1, np.inf):
        assert starc_distance(mdp, r, -r, norm=norm) == pytest.approx(1.0, abs=1e-12)
    pi = rng.dirichlet(np.ones(mdp.n_actions), size=mdp.n_states)
    shaped = potential_shaping(mdp, r, rng.normal(size=mdp.n_states))
    assert starc_distance(mdp, r, shaped, policy=pi) < 1e-7


def test_normalized_regret(setup):
    mdp, r, rng = setup
    assert normalized_regret(mdp, r, r) < 1e-12
    assert normalized_regret(mdp, r, -r) == pytest.approx(1.0, abs=1e-12)
    shaped = potential_shaping(mdp, r, rng.normal(size=mdp.n_states))
    assert normalized_regret(mdp, r, shaped) < 1e-12
    assert 0.0 <= normalized_regret(mdp, r, rng.normal(size=r.shape)) <= 1.0


def test_from_tabular_env():
    class Env:
        transition_matrix = random_mdp(3, 2, rng=0).transition
        initial_state_dist = np.array([1.0, 0.0, 0.0])
        reward_matrix = np.array([0.0, 1.0, 2.0])

    mdp, r = TabularMDP.from_tabular_env(Env(), gamma=0.8)
    assert mdp.gamma == 0.8 and r.shape == (3, 2, 3)
    np.testing.assert_array_equal(r[:, 1, 2], [0.0, 1.0, 2.0])
    with pytest.raises(TypeError, match="transition_matrix"):
        TabularMDP.from_tabular_env(object())


# ------------------------------------------------------------------ trust (issue 11)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("factor", [1e300, 1e-300, 1e-160, 1e160])
def test_starc_exact_at_extreme_magnitudes(setup, method, factor):
    mdp, r, rng = setup
    other = rng.normal(size=r.shape)
    ref = starc_distance(mdp, r, other, method)
    assert starc_distance(mdp, factor * r, -factor * r, method) == pytest.approx(1.0, abs=1e-12)
    assert starc_distance(mdp, factor * r, r, method) == pytest.approx(0.0, abs=1e-7)
    assert starc_distance(mdp, factor * r, other, method) == pytest.approx(ref, abs=1e-12)
    assert 0.0 <= starc_distance(mdp, factor * r, factor * other, method) <= 1.0


def test_list_of_per_action_matrices_is_read_per_action_when_s_equals_a():
    rng = np.random.default_rng(0)
    t_a = [rng.dirichlet(np.ones(3), size=3) for _ in range(3)]  # S == A == 3
    mdp = TabularMDP(t_a, None, 0.9)
    for a in range(3):
        np.testing.assert_array_equal(mdp.transition[:, a, :], t_a[a])
    mdp2 = TabularMDP(tuple(t_a[:2]), None, 0.9)
    assert (mdp2.n_states, mdp2.n_actions) == (3, 2)
    nested = np.stack(t_a[:2], axis=1).tolist()  # an (S, A, S) nested list with A != S
    with pytest.raises(ValueError, match="read as A per-action"):
        TabularMDP(nested, None, 0.9)
    np.testing.assert_array_equal(
        TabularMDP(np.asarray(nested), None, 0.9).transition, mdp2.transition
    )


def test_random_reward_and_example_problem_are_the_documented_draws():
    mdp = random_mdp(4, 2, rng=0)
    np.testing.assert_array_equal(
        random_reward(mdp, rng=1), np.random.default_rng(1).normal(size=(4, 2))
    )
    np.testing.assert_array_equal(
        random_reward(mdp, rng=3, next_state=True),
        np.random.default_rng(3).normal(size=(4, 2, 4)),
    )
    gen = np.random.default_rng(5)
    first = random_reward(mdp, rng=gen)
    assert not np.array_equal(first, random_reward(mdp, rng=gen))  # a generator advances
    ex_mdp, ex_r = example_problem(4, 2, next_state=True, reward_rng=1)
    np.testing.assert_array_equal(ex_mdp.transition, mdp.transition)
    np.testing.assert_array_equal(ex_mdp.initial, mdp.initial)
    assert ex_mdp.gamma == 0.9
    np.testing.assert_array_equal(ex_r, np.random.default_rng(1).normal(size=(4, 2, 4)))
    small, r = example_problem()
    assert (small.n_states, small.n_actions, r.shape) == (3, 2, (3, 2))
    np.testing.assert_array_equal(r, np.random.default_rng(0).normal(size=(3, 2)))
