"""Finite-horizon soft value iteration: the fast core equals the textbook recursion."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from irl_sensitivity import TabularMDP, random_mdp, soft_value_iteration, soft_value_iteration_fh


def reference_fh(t, r_sa, horizon, alpha, disc):
    """Textbook recursion with scipy's logsumexp, state by state (dense kernel)."""
    from scipy.special import logsumexp

    s, a = r_sa.shape
    v = np.empty((horizon, s))
    q = np.empty((horizon, s, a))
    for k in range(horizon - 1, -1, -1):
        q[k] = r_sa if k == horizon - 1 else r_sa + disc * np.einsum("sat,t->sa", t, v[k + 1])
        v[k] = alpha * logsumexp(q[k] / alpha, axis=1)
    return v, q, np.exp((q - v[:, :, None]) / alpha)


def to_sparse(mdp):
    t = mdp.transition
    return TabularMDP(
        [sp.csr_matrix(t[:, a, :]) for a in range(t.shape[1])], mdp.initial, mdp.gamma
    )


@pytest.mark.parametrize("n_actions", [1, 3, 20])
@pytest.mark.parametrize("alpha", [1.0, 0.2, 5.0])
@pytest.mark.parametrize("disc", [None, 1.0])
@pytest.mark.parametrize("sparse", [False, True])
def test_equals_textbook_recursion(n_actions, alpha, disc, sparse):
    mdp = random_mdp(7, n_actions, gamma=0.8, rng=n_actions)
    r = np.random.default_rng(0).normal(size=(7, n_actions)) * 3
    m = to_sparse(mdp) if sparse else mdp
    out = soft_value_iteration_fh(m, r, 12, alpha, discount=disc)
    ref = reference_fh(mdp.transition, r, 12, alpha, 0.8 if disc is None else disc)
    for got, want in zip(out, ref, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)


def test_dropping_outputs_changes_nothing_else():
    mdp = random_mdp(5, 2, rng=1)
    r = np.random.default_rng(1).normal(size=5)
    v, q, pi = soft_value_iteration_fh(mdp, r, 6, 0.5)
    v2, q2, pi2 = soft_value_iteration_fh(mdp, r, 6, 0.5, return_q=False)
    v3, q3, pi3 = soft_value_iteration_fh(mdp, r, 6, 0.5, return_policy=False)
    assert q2 is None and pi3 is None
    np.testing.assert_array_equal(v, v2)
    np.testing.assert_array_equal(v, v3)
    np.testing.assert_array_equal(pi, pi2)
    np.testing.assert_array_equal(q, q3)


def test_horizon_one_is_the_reward():
    mdp = random_mdp(3, 2, rng=0)
    r = np.array([[0.0, np.log(3.0)], [1.0, 1.0], [-2.0, 5.0]])
    v, q, pi = soft_value_iteration_fh(mdp, r, 1)
    np.testing.assert_array_equal(q[0], r)
    np.testing.assert_allclose(pi[0, 0], [0.25, 0.75], rtol=1e-15)
    np.testing.assert_allclose(v[0, 1], 1.0 + np.log(2.0), rtol=1e-15)


def test_extreme_rewards_stay_finite():
    mdp = random_mdp(3, 2, rng=0)
    r = np.array([[1e300, -1e300], [0.0, 0.0], [-1e300, -1e300]])
    v, _, pi = soft_value_iteration_fh(mdp, r, 1)
    assert np.all(np.isfinite(v)) and np.all(np.isfinite(pi))
    np.testing.assert_allclose(pi[0], [[1.0, 0.0], [0.5, 0.5], [0.5, 0.5]])


@pytest.mark.parametrize(
    ("kwargs", "err", "match"),
    [
        ({"horizon": 0}, ValueError, "`horizon` must be >= 1"),
        ({"horizon": 2.0}, TypeError, "`horizon` must be an integer"),
        ({"horizon": True}, TypeError, "`horizon` must be an integer"),
        ({"temperature": 0.0}, ValueError, "`temperature` must be finite and > 0 \\(a temp"),
        ({"temperature": -1.0}, ValueError, "must be finite and > 0"),
        ({"temperature": np.inf}, ValueError, "must be finite and > 0"),
        ({"temperature": np.nan}, ValueError, "must be finite and > 0"),
        ({"temperature": "1"}, TypeError, "`temperature` must be a positive float"),
        ({"discount": 0.0}, ValueError, r"`discount` must lie in \(0, 1\]"),
        ({"discount": 1.01}, ValueError, r"`discount` must lie in \(0, 1\]"),
        ({"discount": np.nan}, ValueError, r"`discount` must lie in \(0, 1\]"),
        ({"discount": False}, TypeError, "`discount` must be a float"),
        ({"return_q": "no"}, TypeError, "`return_q` must be True or False"),
        ({"return_policy": 0}, TypeError, "`return_policy` must be True or False"),
        ({"reward": np.full(4, np.nan)}, ValueError, "non-finite"),
        ({"reward": np.ones(5)}, ValueError, r"`reward` must have shape \(4,\)"),
    ],
)
def test_bad_inputs(kwargs, err, match):
    mdp = random_mdp(4, 2, rng=0)
    args = {"reward": np.ones(4), "horizon": 3} | kwargs
    with pytest.raises(err, match=match):
        soft_value_iteration_fh(mdp, **args)


def test_bad_mdp():
    with pytest.raises(TypeError, match="`mdp` must be a TabularMDP"):
        soft_value_iteration_fh(np.full((2, 1, 2), 0.5), np.ones(2), 3)


@pytest.mark.parametrize(
    ("alpha", "err"),
    [(np.nan, ValueError), (np.inf, ValueError), ("1", TypeError), (True, TypeError)],
)
def test_infinite_horizon_temperature_checked(alpha, err):
    mdp = random_mdp(3, 2, rng=0)
    with pytest.raises(err, match="`temperature`"):
        soft_value_iteration(mdp, np.ones(3), alpha)
