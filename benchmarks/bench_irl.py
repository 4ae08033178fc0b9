"""Benchmarks of irl_sensitivity planning on large sparse MDPs.

Run: ``python benchmarks/bench_irl.py [n_states]``. Times soft value iteration, exact
policy evaluation and finite-horizon MCE on a random sparse MDP (4 actions, 5 successors
per state-action). When the ``imitation`` library is installed, its ``mce_partition_fh``
runs on the same (dense, smaller) problem and the time ratio is printed; it is optional
and never needed by the package or its tests.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import scipy.sparse as sp

from irl_sensitivity import (
    TabularMDP,
    policy_evaluation,
    soft_value_iteration,
    soft_value_iteration_fh,
)


def sparse_mdp(n_states: int, n_actions: int = 4, k: int = 5, seed: int = 0) -> TabularMDP:
    """Random sparse MDP: each (s, a) moves to ``k`` random states with Dirichlet weights."""
    rng = np.random.default_rng(seed)
    mats = []
    rows = np.repeat(np.arange(n_states), k)
    for _ in range(n_actions):
        cols = rng.integers(0, n_states, size=n_states * k)
        w = rng.dirichlet(np.ones(k), size=n_states).ravel()
        mats.append(sp.csr_matrix((w, (rows, cols)), shape=(n_states, n_states)))
    return TabularMDP(mats, None, 0.9)


def timed(label: str, fn):
    t0 = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t0
    print(f"{label:<48s} {dt:8.3f} s")
    return out, dt


def main(n_states: int = 100_000) -> None:
    mdp, _ = timed(f"build sparse MDP (S={n_states:,}, A=4)", lambda: sparse_mdp(n_states))
    reward = np.random.default_rng(1).normal(size=(n_states, 4))
    (_v, _q, pi), _ = timed(
        "soft value iteration (alpha=1, tol 1e-13)", lambda: soft_value_iteration(mdp, reward, 1.0)
    )
    (v_pi, _), _ = timed(
        "exact policy evaluation of the soft policy", lambda: policy_evaluation(mdp, reward, pi)
    )
    resid = v_pi - (
        (pi * (mdp.expected_reward(reward) + mdp.gamma * mdp.expect_next(v_pi))).sum(axis=1)
    )
    print(f"{'  Bellman residual of the evaluation':<48s} {np.abs(resid).max():8.2e}")
    timed(
        "finite-horizon soft VI (H=100)",
        lambda: soft_value_iteration_fh(mdp, reward, 100, discount=1.0),
    )
    compare_imitation()


def compare_imitation(n_states: int = 2000, horizon: int = 100) -> None:
    """Finite-horizon MCE against imitation's ``mce_partition_fh`` (if installed)."""
    try:
        from imitation.algorithms.mce_irl import mce_partition_fh
    except ImportError:
        print("imitation not installed: skipping the mce_partition_fh comparison")
        return
    import types

    mdp = sparse_mdp(n_states, seed=2)
    dense = TabularMDP(mdp.transition, None, 0.9)
    r_state = np.random.default_rng(3).normal(size=n_states)
    env = types.SimpleNamespace(
        transition_matrix=dense.transition,
        reward_matrix=r_state,
        horizon=horizon,
        state_dim=n_states,
        action_dim=4,
        n_actions_taken=4,
    )
    (ours, t_ours) = timed(
        "ours: soft_value_iteration_fh (dense)",
        lambda: soft_value_iteration_fh(dense, r_state, horizon, discount=1.0),
    )
    try:
        theirs, t_theirs = timed(
            "imitation: mce_partition_fh",
            lambda: mce_partition_fh(env, reward=r_state, discount=1.0),
        )
    except Exception as exc:  # pragma: no cover - depends on the installed version
        print(f"mce_partition_fh failed on a duck-typed env: {exc}")
        return
    print(f"max |pi_ours - pi_imitation| = {np.abs(ours[2] - theirs[2]).max():.2e}")
    print(f"time ratio imitation / ours = {t_theirs / t_ours:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
