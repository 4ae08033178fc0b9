"""Benchmarks of irl_sensitivity: MCE planning, occupancy measures and feature MCE IRL.

Run: ``python benchmarks/bench_irl.py [--quick] [--full] [--sections a,b,...]``.

Problems are random sparse MDPs (4 actions, 5 successors per state-action, the issue's
setting) with a state reward and horizon 100. When the ``imitation`` library is
installed (an optional oracle: it pulls torch; keep it in its own venv, e.g.
``python -m venv /work/oracles/irl && /work/oracles/irl/bin/pip install torch imitation``
and run this script with that interpreter and ``PYTHONPATH`` on the project), its
``mce_partition_fh`` / ``mce_occupancy_measures`` / ``MCEIRL`` run in the same process on
the same problems (dense, as imitation needs) and the ratios are printed. Every timing
shows wall and CPU time (``time.process_time``): on a shared machine wall time is noisy.

Sections
--------
planning    soft_value_iteration_fh against mce_partition_fh (S = 4,000; 16,000 with --full)
occupancy   occupancy_measure against mce_occupancy_measures (same sizes)
scale       planning at S = 1e5 and, in a subprocess measuring peak memory, S = 1e6
irl         FeatureMCEIRL to convergence on S = 1e4 with 32 features (H = 100)
samples     STARC accuracy from 500 / 2,000 / 8,000 sampled trajectories: FeatureMCEIRL,
            the count-based MaxCausalEntropyIRL and imitation's MCEIRL
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
import types
import warnings

import numpy as np
import scipy.sparse as sp

import irl_sensitivity as irl

HORIZON = 100


def sparse_mdp(n_states: int, n_actions: int = 4, k: int = 5, seed: int = 0) -> irl.TabularMDP:
    """Random sparse MDP: each (s, a) moves to ``k`` random states with Dirichlet weights."""
    rng = np.random.default_rng(seed)
    mats = []
    rows = np.repeat(np.arange(n_states), k)
    for _ in range(n_actions):
        cols = rng.integers(0, n_states, size=n_states * k)
        w = rng.dirichlet(np.ones(k), size=n_states).ravel()
        mats.append(sp.csr_matrix((w, (rows, cols)), shape=(n_states, n_states)))
    return irl.TabularMDP(mats, None, 0.9)


def timed(label: str, fn, *, repeat: int = 1):
    """Best of ``repeat`` runs: (result, wall seconds, CPU seconds)."""
    best = (np.inf, np.inf)
    out = None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        best = min(best, (time.perf_counter() - t0, time.process_time() - c0))
    print(f"  {label:<52s} wall {best[0]:9.3f} s   cpu {best[1]:9.3f} s", flush=True)
    return out, best[0], best[1]


def ratio_line(label: str, theirs: tuple[float, float], ours: tuple[float, float]) -> None:
    print(
        f"  => {label}: imitation / ours = {theirs[0] / ours[0]:7.1f}x wall, "
        f"{theirs[1] / ours[1]:7.1f}x cpu",
        flush=True,
    )


def imitation_module():
    try:
        from imitation.algorithms import mce_irl
    except ImportError:
        return None
    return mce_irl


def _env(mdp: irl.TabularMDP, reward_state: np.ndarray, horizon: int):
    return types.SimpleNamespace(
        transition_matrix=mdp.transition,
        initial_state_dist=mdp.initial,
        reward_matrix=reward_state,
        horizon=horizon,
        state_dim=mdp.n_states,
        action_dim=mdp.n_actions,
    )


def _available_gib() -> float:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 2**20
    except OSError:  # pragma: no cover - not Linux
        pass
    return float("inf")


def bench_planning_and_occupancy(sizes: list[int], sections: set[str]) -> None:
    mce = imitation_module()
    for n in sizes:
        print(f"\nS = {n:,}, A = 4, H = {HORIZON}, 5 successors per (s, a)")
        mdp = sparse_mdp(n, seed=2)
        r = np.random.default_rng(3).normal(size=n)
        mdp.expect_next(np.zeros(n))  # build the stacked kernel once (part of the MDP)
        (_, _, pi), w, c = timed(
            "ours: soft_value_iteration_fh (sparse)",
            lambda mdp=mdp, r=r: irl.soft_value_iteration_fh(mdp, r, HORIZON, discount=1.0),
            repeat=3,
        )
        ours_plan = (w, c)
        om, w, c = timed(
            "ours: occupancy_measure (sparse, time-indexed pi)",
            lambda mdp=mdp, pi=pi: irl.occupancy_measure(mdp, pi, HORIZON, 1.0),
            repeat=3,
        )
        ours_occ = (w, c)
        if mce is None:
            print("  imitation not installed: no ratios")
            continue
        need = 8 * 4 * n * n * 1.5 / 2**30  # dense (S, A, S) kernel plus imitation's work
        if _available_gib() < need + 2:
            print(f"  skipping imitation: it needs ~{need:.1f} GiB, {_available_gib():.1f} free")
            continue
        env = _env(mdp, r, HORIZON)  # one dense (S, A, S) copy, imitation's format
        if "planning" in sections:
            (_, _, pi_i), w, c = timed(
                "imitation: mce_partition_fh (dense)",
                lambda env=env, r=r: mce.mce_partition_fh(env, reward=r, discount=1.0),
            )
            print(f"  max |pi_ours - pi_imitation| = {np.abs(pi - pi_i).max():.2e}")
            ratio_line("MCE planning", (w, c), ours_plan)
        if "occupancy" in sections:
            (_, dcum), w, c = timed(
                "imitation: mce_occupancy_measures (dense, given pi)",
                lambda env=env, pi=pi: mce.mce_occupancy_measures(env, pi=pi, discount=1.0),
            )
            print(f"  max |state_ours - Dcum_imitation| = {np.abs(om.state - dcum).max():.2e}")
            ratio_line("occupancy measures", (w, c), ours_occ)
        del env


def _scale_child(n: int, mode: str) -> None:
    """Run in a subprocess: planning on S = n, report time and peak RSS.

    ``mode="policy"`` keeps ``v`` (H, S) and the time-indexed policy (H, S, A);
    ``mode="values"`` keeps ``v`` only (the policy at step t is ``exp(Q_t - V_t)`` with
    ``Q_t = r + E[V_{t+1}]``, one sparse product away).
    """
    mdp = sparse_mdp(n)
    r = np.random.default_rng(1).normal(size=(n, 4))
    mdp.expect_next(np.zeros(n))
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    keep_pi = mode == "policy"
    print(f"  S = {n:,}: MDP built, peak RSS so far {base:.2f} GiB", flush=True)
    timed(
        "soft_value_iteration_fh, " + ("v and policy" if keep_pi else "v only"),
        lambda: irl.soft_value_iteration_fh(
            mdp, r, HORIZON, discount=1.0, return_q=False, return_policy=keep_pi
        ),
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    size = 8 * HORIZON * n * (5 if keep_pi else 1) / 2**30
    print(f"  peak RSS of the process {peak:.2f} GiB (the outputs alone: {size:.2f} GiB)")


def _scale_in_process(n: int) -> None:
    mdp = sparse_mdp(n)
    r = np.random.default_rng(1).normal(size=(n, 4))
    mdp.expect_next(np.zeros(n))
    timed(
        f"S = {n:,}: soft_value_iteration_fh (v, q, policy)",
        lambda: irl.soft_value_iteration_fh(mdp, r, HORIZON, discount=1.0),
        repeat=2,
    )


def bench_scale(quick: bool) -> None:
    print("\nScale (sparse, A = 4, H = 100)")
    _scale_in_process(100_000)
    if quick:
        return
    for mode in ("values", "policy"):
        subprocess.run(
            [sys.executable, __file__, "--child", "1000000", "--mode", mode],
            check=True,
            env=os.environ.copy(),
        )


def bench_irl(quick: bool) -> None:
    n, k = (2_000, 32) if quick else (10_000, 32)
    print(f"\nFeatureMCEIRL to convergence: S = {n:,}, A = 4, K = {k} features, H = {HORIZON}")
    mdp = sparse_mdp(n, seed=5)
    rng = np.random.default_rng(6)
    phi = rng.normal(size=(n, 4, k))
    theta = rng.normal(size=k) / np.sqrt(k)
    _, _, pi = irl.soft_value_iteration_fh(mdp, phi @ theta, HORIZON, discount=1.0)
    occ = irl.occupancy_measure(mdp, pi, HORIZON, 1.0)
    est, _, _ = timed(
        "FeatureMCEIRL(phi, horizon=100, discount=1.0).fit",
        lambda: irl.FeatureMCEIRL(features=phi, horizon=HORIZON, discount=1.0).fit(
            mdp, occupancy=occ
        ),
    )
    print(
        f"  iterations {est.n_iter_}, converged {est.converged_}, "
        f"max |theta - truth| = {np.abs(est.theta_ - theta).max():.2e}, "
        f"max count gap {est.results_.max_count_gap:.2e}"
    )


def sample_setting(n_traj: int, seed: int):
    """The sampled-trajectory comparison: state reward, infinite-horizon MCE demonstrator.

    random_mdp(8, 3, gamma=0.9, rng=11), reward N(0, 1) per state (imitation learns state
    rewards only), demonstrator ``mce_policy`` (discounted, temperature 1), trajectories of
    51 states / 50 actions from ``mdp.initial``.
    """
    mdp = irl.random_mdp(8, 3, gamma=0.9, rng=11)
    r = np.random.default_rng(12).normal(size=8)
    pi = irl.mce_policy(mdp, r)
    trajs = irl.sample_trajectories(mdp, pi, n_traj, 51, rng=seed)
    return mdp, r, trajs


def imitation_mceirl_distance(mdp: irl.TabularMDP, r: np.ndarray, trajs, seed: int) -> float:
    """imitation's MCEIRL with its defaults (linear state reward, Adam, discount 1)."""
    import torch as th
    from imitation.algorithms import mce_irl
    from imitation.data import types as itypes
    from imitation.rewards import reward_nets
    from seals import base_envs

    th.manual_seed(seed)
    env = base_envs.TabularModelPOMDP(
        transition_matrix=mdp.transition,
        observation_matrix=np.eye(mdp.n_states, dtype=np.float32),
        reward_matrix=np.zeros(mdp.n_states),
        horizon=50,
        initial_state_dist=mdp.initial,
    )
    demos = [
        itypes.Trajectory(obs=tr[:, 0], acts=tr[:-1, 1], infos=None, terminal=True) for tr in trajs
    ]
    net = reward_nets.BasicRewardNet(
        env.observation_space,
        env.action_space,
        hid_sizes=[],
        use_action=False,
        use_done=False,
        use_next_state=False,
    )
    algo = mce_irl.MCEIRL(demos, env, net, rng=np.random.default_rng(seed), log_interval=None)
    algo.train()
    with th.no_grad():
        learned = net(th.as_tensor(env.observation_matrix), None, None, None).numpy().ravel()
    return float(irl.starc_distance(mdp, r, learned.astype(float)))


def bench_samples(ns: tuple[int, ...] = (500, 2_000, 8_000), seed: int = 0) -> None:
    print("\nSTARC distance to the true reward from sampled trajectories (50 actions each)")
    have_imitation = imitation_module() is not None
    print(f"  {'trajectories':>12s} {'FeatureMCEIRL':>14s} {'count-based':>12s} {'imitation':>10s}")
    for n in ns:
        mdp, r, trajs = sample_setting(n, seed)
        ours = irl.FeatureMCEIRL().fit(mdp, [t[:-1] for t in trajs])
        d_ours = irl.starc_distance(mdp, r, ours.reward_)
        d_count = irl.MaxCausalEntropyIRL().fit(mdp, [t[:-1] for t in trajs], reference=r).distance_
        d_imit = np.nan
        if have_imitation:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                d_imit = imitation_mceirl_distance(mdp, r, trajs, seed)
        print(f"  {n:12,d} {d_ours:14.4f} {d_count:12.4f} {d_imit:10.4f}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--full", action="store_true", help="also S = 16,000 against imitation")
    parser.add_argument("--sections", default="planning,occupancy,scale,irl,samples")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="policy", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _scale_child(args.child, args.mode)
        return
    sections = set(args.sections.split(","))
    mce = imitation_module()
    print(
        f"irl_sensitivity benchmarks; imitation {'installed' if mce else 'not installed'}; "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    sizes = [1_000] if args.quick else [4_000] + ([16_000] if args.full else [])
    if sections & {"planning", "occupancy"}:
        bench_planning_and_occupancy(sizes, sections)
    if "scale" in sections:
        bench_scale(args.quick)
    if "irl" in sections:
        bench_irl(args.quick)
    if "samples" in sections:
        bench_samples((100, 400) if args.quick else (500, 2_000, 8_000))


if __name__ == "__main__":
    main()
