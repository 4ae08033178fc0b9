"""Scale of the equivalence-class search: representatives and time versus 2^d.

For random sparse DAGs with d = 10, 20, 30, 40 stable variables (plus the target and two
mutable variables), prints the number of class representatives found by the recursive
Y-neighbourhood search, the search time, and the 2^d subsets an exhaustive search would
evaluate. Run: ``python benchmarks/bench_causalminimax.py [n_graphs]``.
"""

from __future__ import annotations

import sys
import time

import networkx as nx
import numpy as np
import pandas as pd

from causalminimax import representatives, stable_components


def random_graph(d: int, rng: np.random.Generator, n_mutable: int = 2) -> nx.DiGraph:
    """Random sparse DAG: Y first, then the covariates.

    Each covariate gets one earlier parent with probability 1/2, a second with probability
    0.1, and Y as a parent with probability 3/d; the environment node points to the mutable
    variables.
    """
    nodes = ["Y"] + [f"X{i}" for i in range(1, d + n_mutable + 1)]
    g = nx.DiGraph()
    g.add_nodes_from(nodes)
    for j in range(1, len(nodes)):
        k = int(rng.integers(0, 2)) + int(rng.random() < 0.1)
        earlier = nodes[1:j]
        pa = list(rng.choice(earlier, size=min(k, len(earlier)), replace=False)) if earlier else []
        if rng.random() < 3.0 / d:
            pa.append("Y")
        g.add_edges_from((p, nodes[j]) for p in pa)
    mutable = rng.choice(nodes[1:], size=n_mutable, replace=False)
    g.add_edges_from(("E", m) for m in mutable)
    return g


def main(n_graphs: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(2023)
    rows = []
    for d in (10, 20, 30, 40):
        reps, secs, refused = [], [], 0
        for _ in range(n_graphs):
            g = random_graph(d, rng)
            assert len(stable_components(g, "Y")["stable"]) == d
            t = time.perf_counter()
            try:
                reps.append(len(representatives(g, "Y")))
            except ValueError:  # more than max_subsets (default 2^16) explored: refused
                refused += 1
            secs.append(time.perf_counter() - t)
        rows.append(
            {
                "d (stable)": d,
                "representatives (median)": float(np.median(reps)) if reps else np.nan,
                "representatives (max)": int(np.max(reps)) if reps else np.nan,
                "refused (> max_subsets)": refused,
                "search time s (median)": float(np.median(secs)),
                "2^d subsets": f"{2**d:.3g}",
            }
        )
    table = pd.DataFrame(rows).set_index("d (stable)")
    print(table.to_string())
    return table


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
