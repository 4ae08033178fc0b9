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
