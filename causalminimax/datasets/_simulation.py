"""The simulation of Liu et al. (ICML 2023), section 6.1."""

from __future__ import annotations

import numbers
from collections.abc import Iterable

import networkx as nx
import numpy as np
import pandas as pd

from estkit import RandomStateLike, check_bool, check_int, check_random_state

__all__ = ["simulate_paper", "simulation_graph"]

_EDGES = [
    ("Y", "X9"),
    ("Y", "X1"),
    ("X9", "X1"),
    ("X6", "X1"),
    ("X5", "X1"),
    ("X6", "X5"),
    ("X8", "X7"),
    ("X1", "X3"),
    ("X3", "X2"),
    ("X8", "X2"),
    ("X5", "X10"),
    ("X3", "X10"),
    ("X8", "X10"),
    ("X2", "X4"),
    ("X7", "X4"),
    ("X8", "X4"),
]


def simulation_graph(augmented: bool = True) -> nx.DiGraph:
    """The causal graph of the paper's simulation.

    Parameters
    ----------
    augmented : bool, default True
        Include the environment node ``"E"`` with edges to the mutable ``X9`` and ``X10``.

    Returns
    -------
    networkx.DiGraph
        The graph over ``Y`` and ``X1``..``X10`` (and ``E``).

    Examples
    --------
    >>> sorted(simulation_graph().successors("E"))
    ['X10', 'X9']
    """
    g = nx.DiGraph(_EDGES)
    if check_bool(augmented, "augmented"):
        g.add_edges_from([("E", "X9"), ("E", "X10")])
    return g


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def simulate_paper(
    n_per_env: int = 100,
    environments: Iterable[int] = range(1, 21),
    noise_sd: float = 0.1,
    rng: RandomStateLike = None,
) -> pd.DataFrame:
    """Simulate the paper's multi-environment nonlinear SEM.

    Every node has independent ``N(0, noise_sd²)`` noise (roots are pure noise). The mutable
    mechanisms of ``X9`` and ``X10`` are multiplied by ``a_e = e - 10.5`` in environment ``e``
    (the noise is not)::

        X9 = a_e tanh(1.91 Y)                       X5 = sigmoid(0.84 X6)
        X7 = -1.52 X8                               X3 = tanh(-0.95 X1)
        X1 = sigmoid(0.63 Y - 0.58 X9 + 1.51 X6 + 1.13 X5)
        X2 = tanh(1.47 X3 - 0.64 X8)                X4 = sigmoid(1.42 X2 + 0.99 X7 + 0.72 X8)
        X10 = a_e tanh(-1.2 X5 + 1.33 X3 + 0.64 X8)

    Parameters
    ----------
    n_per_env : int, default 100
        Samples per environment.
    environments : iterable of int, default 1..20
        Environment labels ``e``.
    noise_sd : float, default 0.1
        Standard deviation of every node's Gaussian noise.
    rng : None, int or numpy.random.Generator
        Seed or generator.

    Returns
    -------
    pandas.DataFrame
        Columns ``Y, X1, ..., X10`` and the environment label ``E``.

    Examples
    --------
    >>> df = simulate_paper(n_per_env=5, rng=0)
    >>> df.shape, int(df["E"].nunique())
    ((100, 12), 20)
    """
    gen = check_random_state(rng, "rng")
    n_per_env = check_int(n_per_env, "n_per_env", minimum=1)
    if isinstance(environments, str | bytes) or not isinstance(environments, Iterable):
        raise TypeError(f"`environments` must be an iterable of integers; got {environments!r}.")
    envs = list(environments)
    if not envs:
        raise ValueError("`environments` is empty; pass e.g. range(1, 21).")
    for e in envs:
        if not isinstance(e, numbers.Integral) or isinstance(e, bool | np.bool_):
            raise TypeError(f"`environments` must hold integers (the paper's e); got {e!r}.")
    envs = [int(e) for e in envs]
    if not isinstance(noise_sd, numbers.Real) or isinstance(noise_sd, bool | np.bool_):
        raise TypeError(f"`noise_sd` must be a real number; got {noise_sd!r}.")
    if not (np.isfinite(noise_sd) and noise_sd >= 0):
        raise ValueError(f"`noise_sd` must be finite and >= 0; got {noise_sd!r}.")
    frames = []
    for e in envs:
        a = e - 10.5
        n = int(n_per_env)

        def eps() -> np.ndarray:
            return gen.normal(0.0, noise_sd, n)  # noqa: B023 - n is the loop's sample size

        d: dict[str, np.ndarray] = {}
        d["Y"] = eps()
        d["X6"] = eps()
        d["X8"] = eps()
        d["X9"] = a * np.tanh(1.91 * d["Y"]) + eps()
        d["X5"] = _sigmoid(0.84 * d["X6"]) + eps()
        d["X7"] = -1.52 * d["X8"] + eps()
        d["X1"] = _sigmoid(0.63 * d["Y"] - 0.58 * d["X9"] + 1.51 * d["X6"] + 1.13 * d["X5"]) + eps()
        d["X3"] = np.tanh(-0.95 * d["X1"]) + eps()
        d["X2"] = np.tanh(1.47 * d["X3"] - 0.64 * d["X8"]) + eps()
        d["X10"] = a * np.tanh(-1.2 * d["X5"] + 1.33 * d["X3"] + 0.64 * d["X8"]) + eps()
        d["X4"] = _sigmoid(1.42 * d["X2"] + 0.99 * d["X7"] + 0.72 * d["X8"]) + eps()
        cols = ["Y"] + [f"X{i}" for i in range(1, 11)]
        f = pd.DataFrame({c: d[c] for c in cols})
        f["E"] = e
        frames.append(f)
    return pd.concat(frames, ignore_index=True)
