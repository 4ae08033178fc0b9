"""Occupancy measures against an independent power iteration of the Bellman flow."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from irl_sensitivity import (
    OccupancyMeasure,
    TabularMDP,
    mce_policy,
    occupancy_measure,
    random_mdp,
    soft_value_iteration_fh,
)

# imitation 1.0.1, ``mce_occupancy_measures(env, pi=pi, discount=d)[1]`` (``Dcum``) on
# random_mdp(4, 2, rng=0) with state reward [0.3, -1, 0.5, 2], horizon 5 and ``pi`` from
# its ``mce_partition_fh(env, reward=R, discount=1.0)``; run in a separate venv
# (/work/oracles/irl) on 2026-12-01. The last row is its ``D[5]``.
IMITATION_DCUM = {
    1.0: [1.8018282335407387, 1.35343237196639, 1.2501781021321194, 1.59456129236075],
    0.9: [1.3622623372665195, 1.0403642603569396, 1.006014051500648, 1.276949350875892],
}
IMITATION_D_LAST = [
    0.34581671035749495,
    0.2738469355798397,
    0.16706919310505422,
    0.21326716095761078,
]


def to_sparse(mdp: TabularMDP) -> TabularMDP:
    t = mdp.transition
    return TabularMDP(
        [sp.csr_matrix(t[:, a, :]) for a in range(t.shape[1])], mdp.initial, mdp.gamma
    )


def flow_reference(t, mu, policy, horizon, disc):
    """Explicit triple sum per step (no shared code with the package)."""
    s_n, a_n, _ = t.shape
    d = mu.copy()
    dists, sa = [d], np.zeros((s_n, a_n))
    for k in range(horizon):
        pk = policy[k] if policy.ndim == 3 else policy
        nxt = np.zeros(s_n)
        for s in range(s_n):
            for a in range(a_n):
                sa[s, a] += disc**k * d[s] * pk[s, a]
                nxt += d[s] * pk[s, a] * t[s, a]
        d = nxt
        dists.append(d)
    dists = np.array(dists)
    state = (disc ** np.arange(horizon + 1))[:, None] * dists
    return state.sum(axis=0), sa, dists


def power_reference(t, mu, policy, disc, tol=1e-15):
    """Power iteration of the discounted flow ``x = mu + d P_pi^T x``."""
    p = np.einsum("sa,sat->st", policy, t)
    x = mu.copy()
    for _ in range(100_000):
        x_new = mu + disc * p.T @ x
        if np.max(np.abs(x_new - x)) < tol:
            break
        x = x_new
    return x_new, x_new[:, None] * policy


@pytest.fixture(scope="module")
def mdp():
    return random_mdp(5, 3, gamma=0.9, rng=7)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("disc", [1.0, 0.8, None])
@pytest.mark.parametrize("timed", [False, True])
def test_finite_horizon_equals_flow(mdp, sparse, disc, timed):
    rng = np.random.default_rng(1)
    h = 7
    shape = (h, 5, 3) if timed else (5, 3)
    pi = rng.dirichlet(np.ones(3), size=shape[:-1])
    m = to_sparse(mdp) if sparse else mdp
    om = occupancy_measure(m, pi, horizon=h, discount=disc)
    d = mdp.gamma if disc is None else disc
    state, sa, dists = flow_reference(mdp.transition, mdp.initial, pi, h, d)
    np.testing.assert_allclose(om.state, state, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(om.state_action, sa, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(om.by_time, dists, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(om.state, om.state_action.sum(axis=1) + d**h * om.by_time[-1])
    assert om.horizon == h and om.discount == d and isinstance(om, OccupancyMeasure)
    assert om.state.sum() == pytest.approx(sum(d**k for k in range(h + 1)), rel=1e-13)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("disc", [None, 0.5, 0.99])
def test_discounted_equals_power_iteration(mdp, sparse, disc):
    pi = np.random.default_rng(2).dirichlet(np.ones(3), size=5)
    m = to_sparse(mdp) if sparse else mdp
    om = occupancy_measure(m, pi, discount=disc)
    d = mdp.gamma if disc is None else disc
    state, sa = power_reference(mdp.transition, mdp.initial, pi, d)
    np.testing.assert_allclose(om.state, state, rtol=1e-11)
    np.testing.assert_allclose(om.state_action, sa, rtol=1e-11)
    assert om.by_time is None and om.horizon is None
    assert om.state.sum() == pytest.approx(1.0 / (1.0 - d), rel=1e-12)


def test_long_finite_horizon_tends_to_discounted(mdp):
    pi = mce_policy(mdp, np.random.default_rng(3).normal(size=(5, 3)))
    fin = occupancy_measure(mdp, pi, horizon=400)
    inf = occupancy_measure(mdp, pi)
    np.testing.assert_allclose(fin.state_action, inf.state_action, atol=1e-14)


def test_large_sparse_iterative_solver():
    """Beyond 5,000 sparse states the discounted solve is iterative: still exact."""
    rng = np.random.default_rng(0)
    n, k = 6000, 3
    mats = []
    for _ in range(2):
        rows = np.repeat(np.arange(n), k)
        cols = rng.integers(0, n, size=n * k)
        w = rng.dirichlet(np.ones(k), size=n).ravel()
        mats.append(sp.csr_matrix((w, (rows, cols)), shape=(n, n)))
    mdp = TabularMDP(mats, None, 0.95)
    pi = rng.dirichlet(np.ones(2), size=n)
    om = occupancy_measure(mdp, pi)
    p = (sp.diags(pi[:, 0]) @ mats[0] + sp.diags(pi[:, 1]) @ mats[1]).T.tocsr()
    x = mdp.initial.copy()
    for _ in range(2000):  # power iteration of the flow, 0.95^2000 ~ 1e-45
        x = mdp.initial + 0.95 * (p @ x)
    np.testing.assert_allclose(om.state, x, rtol=1e-9, atol=1e-14)
    fin = occupancy_measure(mdp, pi, horizon=30, discount=1.0)
    assert fin.state.sum() == pytest.approx(31.0, rel=1e-12)


def test_equals_imitation_dcum():
    mdp = random_mdp(4, 2, rng=0)
    r = np.array([0.3, -1.0, 0.5, 2.0])
    _, _, pi = soft_value_iteration_fh(mdp, r, 5, discount=1.0)
    for d, ref in IMITATION_DCUM.items():
        om = occupancy_measure(mdp, pi, horizon=5, discount=d)
        np.testing.assert_allclose(om.state, ref, rtol=1e-12)
    np.testing.assert_allclose(om.by_time[-1], IMITATION_D_LAST, rtol=1e-12)


def test_degenerate_mdps():
    one = TabularMDP(np.ones((1, 1, 1)), None, 0.5)
    om = occupancy_measure(one, np.ones((1, 1)), horizon=3, discount=1.0)
    assert om.state.tolist() == [4.0] and om.state_action.tolist() == [[3.0]]
    assert occupancy_measure(one, np.ones((1, 1))).state.tolist() == [2.0]
    # absorbing state 1, start in 0: visits of 0 only at t = 0
    t = np.zeros((2, 2, 2))
    t[:, :, 1] = 1.0
    absorbing = TabularMDP(t, [1.0, 0.0], 0.9)
    om = occupancy_measure(absorbing, np.array([[1.0, 0.0], [0.5, 0.5]]))
    np.testing.assert_allclose(om.state, [1.0, 9.0])
    np.testing.assert_allclose(om.state_action, [[1.0, 0.0], [4.5, 4.5]])
    # a deterministic policy with zeros is fine
    om = occupancy_measure(absorbing, np.array([[0.0, 1.0], [1.0, 0.0]]), horizon=2)
    np.testing.assert_allclose(om.state_action, [[0.0, 1.0], [0.9, 0.0]])
    np.testing.assert_allclose(om.state, [1.0, 0.9 + 0.81])


@pytest.mark.parametrize(
    ("kwargs", "err", "match"),
    [
        ({"policy": np.full((5, 3), np.nan)}, ValueError, "finite non-negative"),
        ({"policy": np.full((5, 3), 0.5)}, ValueError, r"rows must sum to 1.*policy\[0, :\]"),
        ({"policy": -np.full((5, 3), 1 / 3)}, ValueError, "non-negative"),
        ({"policy": np.full((3, 5), 0.2)}, ValueError, r"shape \(S, A\) = \(5, 3\)"),
        ({"policy": "uniform"}, TypeError, "numeric array"),
        ({"policy": np.full((4, 5, 3), 1 / 3)}, ValueError, "pass horizon=4"),
        ({"policy": np.full((4, 5, 3), 1 / 3), "horizon": 3}, ValueError, "4 time steps"),
        ({"policy": np.full((4, 4, 3), 1 / 3), "horizon": 4}, ValueError, r"\(S, A\) = \(5, 3\)"),
        ({"horizon": 0}, ValueError, "`horizon` must be >= 1"),
        ({"horizon": True}, TypeError, "`horizon` must be an integer"),
        ({"horizon": 2.5}, TypeError, "`horizon` must be an integer"),
        ({"discount": 1.0}, ValueError, "needs `discount` < 1"),
        ({"discount": 0.0}, ValueError, r"`discount` must lie in \(0, 1\]"),
        ({"discount": 1.5, "horizon": 3}, ValueError, r"`discount` must lie in \(0, 1\]"),
        ({"discount": np.nan}, ValueError, r"`discount` must lie in \(0, 1\]"),
        ({"discount": "0.9"}, TypeError, "`discount` must be a float"),
        ({"discount": True}, TypeError, "`discount` must be a float"),
    ],
)
def test_bad_inputs(mdp, kwargs, err, match):
    args = {"policy": np.full((5, 3), 1 / 3)} | kwargs
    with pytest.raises(err, match=match):
        occupancy_measure(mdp, **args)


def test_bad_mdp():
    with pytest.raises(TypeError, match="`mdp` must be a TabularMDP"):
        occupancy_measure(np.ones((2, 1, 2)) / 2, np.ones((2, 1)))
