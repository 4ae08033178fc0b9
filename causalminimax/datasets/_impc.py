"""Loader of the processed IMPC mouse hematology table (built by ``data/build_impc.py``)."""

from __future__ import annotations

from importlib import resources

import networkx as nx
import pandas as pd

from estkit import check_bool

__all__ = ["IMPC_COLUMNS", "impc_graph", "load_impc"]

#: Node name -> IMPC parameter (hematology), as used in the paper's real-data experiment.
IMPC_COLUMNS = {
    "Y": "IMPC_HEM_034_001 (monocytes)",
    "X1": "IMPC_HEM_030_001 (neutrophils)",
    "X2": "IMPC_HEM_032_001 (lymphocytes)",
    "X3": "IMPC_HEM_036_001 (eosinophils)",
    "X4": "IMPC_HEM_037_001 (basophils)",
    "X5": "IMPC_HEM_039_001 (large unstained cells, mutable)",
}

#: Knock-out lines in the paper's order (index 1..13); "0" is the wild type.
KNOCKOUTS = (
    "1797_1", "1796_1", "1798_1", "727_1", "1550_1", "1799_1", "3157_1",
    "3621_1", "3803_1", "3805_1", "3887_1", "4045_1", "4047_1",
)  # fmt: skip


def load_impc() -> pd.DataFrame:
    """Load the IMPC hematology data: 614 mice, genotype as environment.

    Returns
    -------
    pandas.DataFrame
        Columns ``id``, ``E`` (genotype: ``"0"`` wild type or a knockout line), ``Y``
        (monocytes) and ``X1``..``X5`` (see :data:`IMPC_COLUMNS`).

    Examples
    --------
    >>> df = load_impc()
    >>> df.shape, int((df["E"] == "0").sum())
    ((614, 8), 440)
    """
    ref = resources.files("causalminimax.datasets") / "data" / "impc_hematology.csv"
    with ref.open("r") as fh:
        return pd.read_csv(fh, dtype={"id": str, "E": str})


def impc_graph(augmented: bool = True) -> nx.DiGraph:
    """The causal graph assumed by the paper for the IMPC data.

    Edges ``Y -> X5``, ``Y -> X2``, ``X1 -> X2``, ``X3 -> X2``, ``X5 -> X2`` and
    ``X2 -> X4``; the augmented graph adds the environment node ``E -> X5`` (the mutable
    variable).

    Parameters
    ----------
    augmented : bool, default True
        Include the environment node ``E`` and its edge.

    Returns
    -------
    networkx.DiGraph
        The graph over ``Y``, ``X1``..``X5`` (and ``E``).

    Examples
    --------
    >>> sorted(impc_graph().successors("Y"))
    ['X2', 'X5']
    >>> "E" in impc_graph(augmented=False)
    False
    """
    g = nx.DiGraph(
        [("Y", "X5"), ("Y", "X2"), ("X1", "X2"), ("X3", "X2"), ("X5", "X2"), ("X2", "X4")]
    )
    if check_bool(augmented, "augmented"):
        g.add_edge("E", "X5")
    return g
