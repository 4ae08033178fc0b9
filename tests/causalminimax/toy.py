"""A toy causalminimax problem shared by the tests (imported as ``tests.causalminimax.toy``).

Two environments of equal size; the environment scales the mutable node ``M``, which feeds
``X1`` together with the target; ``X2`` is a noisy copy of ``X1``::

    E -> M -> X1 <- Y,    X1 -> X2

The stable set is {X1, X2} and the whole stable set is optimal (no intervention search).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: The graph of :func:`chain_data` (edge list, nodes named as its columns).
CHAIN_EDGES = [("Y", "X1"), ("M", "X1"), ("X1", "X2"), ("E", "M")]


def chain_data(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """``n`` draws of the chain: ``X`` (columns M, X1, X2), ``y`` and the environment (0, 1)."""
    rng = np.random.default_rng(seed)
    env = np.repeat([0, 1], n // 2)
    y = rng.normal(size=n)
    m = rng.normal(size=n) * (1 + env)
    x1 = y + m + 0.3 * rng.normal(size=n)
    x2 = x1 + 0.3 * rng.normal(size=n)
    return pd.DataFrame({"M": m, "X1": x1, "X2": x2}), y, env


#: A topological order of the paper simulation's graph (``simulation_graph``).
SIMULATION_ORDER = ["Y", "X6", "X8", "X9", "X5", "X7", "X1", "X3", "X2", "X10", "X4"]


def simulation_equations(n_per_env: int, n_envs: int, seed: int) -> tuple[dict, object]:
    """The paper simulation's rows (one array per variable) and its structural equations
    fitted by the default spline model: mutable X9 and X10, regenerated X1, X3, X2 and X4."""
    from causalminimax._risk import fit_structural_equations
    from causalminimax._spline import AdditiveSplineRidge
    from causalminimax.datasets import simulate_paper, simulation_graph

    sim = simulate_paper(n_per_env=n_per_env, environments=range(1, n_envs + 1), rng=seed)
    data = {c: sim[c].to_numpy() for c in ["Y", *(f"X{i}" for i in range(1, 11))]}
    g = simulation_graph()
    order = SIMULATION_ORDER
    parents = {v: tuple(p for p in order if g.has_edge(p, v)) for v in order}
    sm = fit_structural_equations(
        data, order, parents, ["X9", "X10"], ["X1", "X3", "X2", "X4"], AdditiveSplineRidge()
    )
    return data, sm
