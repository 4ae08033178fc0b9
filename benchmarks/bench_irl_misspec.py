"""Timings of the misspecification analyses (issue 14 targets), one process.

Targets (quiet machine): ``worst_case_error`` with ``OptimalModel`` on (S, A) = (4, 2)
<= 0.2 s and (50, 4) <= 5 s; ``max_error`` with ``OptimalModel`` on (4, 2) in seconds.
Prints wall and CPU (process) time; both matter on a shared machine.

Before this work (commit fbb8101, same machine, loaded: 2 cores shared by eight jobs):
worst_case_error Optimal (4, 2) 9.5 s wall / 2.2 s CPU; (50, 4) did not finish in 300 s;
max_error Optimal (4, 2) did not finish in 60 s (the issue measured 540 s).

Run: ``python benchmarks/bench_irl_misspec.py``
"""

from __future__ import annotations

import time

import numpy as np

from irl_sensitivity import BoltzmannModel, OptimalModel, max_error, random_mdp, worst_case_error


def _timed(fn):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    print(f"{'analysis':44s} {'value':>8s} {'wall s':>8s} {'cpu s':>8s} {'target s':>9s}")
    for (s, a), target in (((4, 2), 0.2), ((50, 4), 5.0)):
        mdp = random_mdp(s, a, rng=0)
        r = np.random.default_rng(1).normal(size=(s, a))
        val, wall, cpu = _timed(
            lambda mdp=mdp, r=r: worst_case_error(
                mdp, r, OptimalModel(), OptimalModel(gamma=0.85), rng=0
            )
        )
        name = f"worst_case_error Optimal (S, A) = ({s}, {a})"
        print(f"{name:44s} {val:8.4f} {wall:8.3f} {cpu:8.3f} {target:9.1f}")
    mdp = random_mdp(4, 2, rng=0)
    val, wall, cpu = _timed(lambda: max_error(mdp, OptimalModel(), OptimalModel(gamma=0.85), rng=0))
    print(f"{'max_error Optimal (S, A) = (4, 2)':44s} {val:8.4f} {wall:8.3f} {cpu:8.3f} {'~s':>9s}")
    val, wall, cpu = _timed(
        lambda: max_error(mdp, BoltzmannModel(), BoltzmannModel(gamma=0.8), rng=0)
    )
    print(f"{'max_error Boltzmann (S, A) = (4, 2)':44s} {val:8.4f} {wall:8.3f} {cpu:8.3f} {'':>9s}")


if __name__ == "__main__":
    main()
