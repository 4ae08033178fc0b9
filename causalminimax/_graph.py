"""Graph handling: parsing the causal graph and computing its stable components.

Pure functions on :class:`networkx.DiGraph` objects. The graph is a DAG over the response and
the covariates; the mutable variables are either given explicitly or read off an augmented
graph as the children of an environment node.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

__all__ = ["CausalGraph", "parse_graph", "stable_components"]


@dataclass(frozen=True)
class CausalGraph:
    """A validated causal DAG with its target and mutable variables.

    Attributes
    ----------
    dag : networkx.DiGraph
        The DAG over the target and the covariates (environment node removed).
    target : hashable
        The response node.
    mutable : tuple
        Mutable variables (mechanisms that shift across environments), in topological order.
    stable : tuple
        Stable covariates ``S = X \\ M``, in topological order.
    order : tuple
        A topological order of all nodes.
    """

    dag: nx.DiGraph
    target: Hashable
    mutable: tuple[Hashable, ...]
    stable: tuple[Hashable, ...]
    order: tuple[Hashable, ...]

    @property
    def covariates(self) -> tuple[Hashable, ...]:
        """All covariates (stable and mutable), in topological order."""
        return tuple(v for v in self.order if v != self.target)

    def parents(self, node: Hashable) -> tuple[Hashable, ...]:
        """Parents of ``node`` in topological order."""
        pa = set(self.dag.predecessors(node))
        return tuple(v for v in self.order if v in pa)

    def regenerated(self) -> tuple[Hashable, ...]:
        """Non-mutable descendants of the mutable variables (they change under ``do(X_M)``)."""
        de: set[Hashable] = set()
        for m in self.mutable:
            de |= nx.descendants(self.dag, m)
        return tuple(v for v in self.order if v in de and v not in self.mutable)


def _check_node(node: Any, what: str) -> None:
    try:
        hash(node)
    except TypeError:
        raise TypeError(
            f"{what} must be hashable node names (strings, numbers); got {node!r}."
        ) from None


def _from_adjacency(frame: pd.DataFrame) -> nx.DiGraph:
    """A labelled adjacency matrix: ``frame.loc[parent, child] != 0`` is an edge."""
    if not frame.index.equals(frame.columns):
        if set(frame.index) != set(frame.columns) or len(frame.index) != len(frame.columns):
            raise ValueError(
                "`graph` given as a DataFrame is read as an adjacency matrix (rows: parents, "
                "columns: children) and needs the same node labels as index and columns."
            )
        frame = frame.loc[frame.columns]
    try:
        a = frame.to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise TypeError("`graph` adjacency matrix must be numeric (0/1).") from None
    if not np.all(np.isfinite(a)):
        raise ValueError("`graph` adjacency matrix has missing or non-finite entries.")
    g = nx.DiGraph()
    names = list(frame.columns)
    g.add_nodes_from(names)
    rows, cols = np.nonzero(a)
    g.add_edges_from((names[i], names[j]) for i, j in zip(rows, cols, strict=True))
    return g


def _to_digraph(graph: Any) -> nx.DiGraph:
    if isinstance(graph, nx.DiGraph):
        for v in graph.nodes:
            _check_node(v, "`graph` nodes")
        return nx.DiGraph(graph)
    if isinstance(graph, nx.Graph):
        raise TypeError(
            "`graph` must be directed: pass a networkx.DiGraph or a list of (parent, child) "
            "edges, not an undirected networkx.Graph."
        )
    if isinstance(graph, pd.DataFrame):
        return _from_adjacency(graph)
    if isinstance(graph, np.ndarray) and graph.dtype.kind in "biuf":
        raise TypeError(
            "`graph` is a numeric array: an adjacency matrix has no node names. Pass it as a "
            "pandas DataFrame with the node names as index and columns "
            "(pd.DataFrame(A, index=names, columns=names)), or a list of (parent, child) edges."
        )
    if isinstance(graph, str | bytes):
        raise TypeError(
            "`graph` must be a networkx.DiGraph or a list of (parent, child) edges; got the "
            f"string {graph!r}."
        )
    if isinstance(graph, Mapping):
        edges = []
        for parent, children in graph.items():
            _check_node(parent, "`graph` nodes")
            if isinstance(children, str | bytes) or not isinstance(children, Iterable):
                raise TypeError(
                    "`graph` given as a mapping must map each parent to an iterable of its "
                    f"children; got {children!r} for {parent!r}."
                )
            edges.extend((parent, c) for c in children)
        g = nx.DiGraph()
        g.add_nodes_from(graph)
    else:
        try:
            edges = list(graph)
        except TypeError:
            raise TypeError(
                "`graph` must be a networkx.DiGraph or an iterable of (parent, child) edges; "
                f"got {type(graph).__name__}."
            ) from None
        g = nx.DiGraph()
    pairs = []
    for e in edges:
        if isinstance(e, str | bytes) or not isinstance(e, Iterable):
            raise ValueError(
                f"`graph` edge list must hold (parent, child) pairs; got {e!r}. Write edges as "
                'tuples, e.g. [("Y", "X1"), ("X1", "X2")].'
            )
        e = tuple(e.tolist() if isinstance(e, np.ndarray) else e)
        if len(e) != 2:
            raise ValueError(f"`graph` edge list must hold (parent, child) pairs; got {e!r}.")
        for v in e:
            _check_node(v, "`graph` nodes")
        pairs.append(e)
    g.add_edges_from(pairs)
    return g


def parse_graph(
    graph: Any,
    target: Hashable,
    mutable: Iterable[Hashable] | None = None,
    environment_node: Hashable = "E",
) -> CausalGraph:
    """Validate a causal graph and split its covariates into stable and mutable ones.

    Parameters
    ----------
    graph : networkx.DiGraph, iterable of (parent, child) edges, mapping or DataFrame
        DAG over ``target`` and the covariates, optionally augmented with an environment node.
        A mapping is read as ``{parent: [children, ...]}``; a DataFrame as a labelled
        adjacency matrix (``graph.loc[parent, child] != 0``).
    target : hashable
        The response node.
    mutable : iterable, optional
        Mutable covariates. If None, they are the children of ``environment_node``. When the
        graph has an environment node, an explicit ``mutable`` must name exactly its children
        (a contradiction is refused).
    environment_node : hashable, default "E"
        Name of the environment node of an augmented graph (removed from the DAG).

    Returns
    -------
    CausalGraph

    Examples
    --------
    >>> g = parse_graph([("Y", "X1"), ("E", "X1"), ("X1", "X2")], "Y")
    >>> g.mutable, g.stable
    (('X1',), ('X2',))
    """
    _check_node(target, "`target`")
    _check_node(environment_node, "`environment_node`")
    dag = _to_digraph(graph)
    if target not in dag:
        raise ValueError(
            f"`target` {target!r} is not a node of `graph`; nodes are {sorted(map(str, dag))}."
        )
    if target == environment_node:
        raise ValueError(
            f"`target` and `environment_node` are both {target!r}; the environment node is "
            "the parent of the mutable variables, not the response. Rename one of them."
        )
    if not nx.is_directed_acyclic_graph(dag):
        cycle = nx.find_cycle(dag)
        raise ValueError(
            f"`graph` must be acyclic (a DAG); found the cycle {cycle}. Remove one of its edges."
        )
    has_env = environment_node in dag
    if has_env and any(True for _ in dag.predecessors(environment_node)):
        raise ValueError(
            f"The environment node {environment_node!r} must have no parents in `graph`; it "
            f"has {sorted(map(str, dag.predecessors(environment_node)))}."
        )
    env_children = set(dag.successors(environment_node)) if has_env else set()
    if mutable is None:
        if not has_env:
            raise ValueError(
                "`mutable` is None and `graph` has no environment node "
                f"{environment_node!r}: pass `mutable=[...]` or add edges from the environment "
                "node to the mutable variables."
            )
        mut = env_children
    else:
        if isinstance(mutable, str | bytes) or not isinstance(mutable, Iterable):
            _check_node(mutable, "`mutable`")
            mutable = [mutable]
        mutable = list(mutable)
        for m in mutable:
            _check_node(m, "`mutable` variables")
        mut = set(mutable)
        missing = [m for m in mutable if m not in dag]
        if missing:
            raise ValueError(f"`mutable` variables {missing} are not nodes of `graph`.")
        if environment_node in mut:
            raise ValueError(
                f"`mutable` contains the environment node {environment_node!r}; list the "
                "variables whose mechanisms change (its children) instead."
            )
        if target in mut:
            raise ValueError(
                f"`target` {target!r} is marked mutable; the method assumes a stable mechanism "
                "for the response. Remove it from `mutable`."
            )
        if has_env and mut != env_children:
            children = sorted(map(str, env_children))
            raise ValueError(
                f"`mutable` {sorted(map(str, mut))} contradicts `graph`: the environment node "
                f"{environment_node!r} points to {children}. Pass mutable=None to use the "
                "graph's environment edges, or fix the edges (or remove the environment node)."
            )
    if has_env:
        dag.remove_node(environment_node)
    if target in mut:
        raise ValueError(
            f"`target` {target!r} is marked mutable; the method assumes a stable mechanism "
            "for the response. Remove it from `mutable` (or the edge from the environment node)."
        )
    order = tuple(nx.lexicographical_topological_sort(dag, key=str))
    mut_t = tuple(v for v in order if v in mut)
    stable = tuple(v for v in order if v != target and v not in mut)
    return CausalGraph(dag=dag, target=target, mutable=mut_t, stable=stable, order=order)


def stable_components(
    graph: Any,
    target: Hashable = "Y",
    mutable: Iterable[Hashable] | None = None,
    environment_node: Hashable = "E",
) -> dict[str, Any]:
    """Graph components of the causal minimax analysis.

    Parameters
    ----------
    graph : networkx.DiGraph or iterable of (parent, child) edges
        DAG over the target and covariates (optionally with an environment node).
    target : hashable, default "Y"
        The response.
    mutable : iterable, optional
        Mutable covariates; if None, the children of ``environment_node``.
    environment_node : hashable, default "E"
        Environment node of an augmented graph.

    Returns
    -------
    dict
        ``"mutable"`` (M), ``"stable"`` (S), ``"children"`` (Ch(Y)), ``"mutable_children"``
        (M0 = M ∩ Ch(Y)), ``"K"`` (De(M0) \\ M0), ``"regenerated"`` (De(M) \\ M, the variables
        re-simulated when the mutable mechanisms are replaced), ``"K_children"`` (K ∩ Ch(Y))
        and ``"whole_stable_set_optimal"`` (the graphical condition K ∩ Ch(Y) = ∅). Sets are
        tuples in topological order.

    Examples
    --------
    >>> edges = [("Y", "X1"), ("Y", "M"), ("M", "X1")]
    >>> comp = stable_components(edges, target="Y", mutable=["M"])
    >>> comp["K"], comp["whole_stable_set_optimal"]
    (('X1',), False)
    """
    g = (
        graph
        if isinstance(graph, CausalGraph)
        else parse_graph(graph, target, mutable, environment_node)
    )
    return _components(g)


def _components(g: CausalGraph) -> dict[str, Any]:
    y = g.target
    ch = set(g.dag.successors(y))
    m0 = [m for m in g.mutable if m in ch]
    k: set[Hashable] = set()
    for m in m0:
        k |= nx.descendants(g.dag, m)
    k -= set(m0)
    kch = k & ch

    def ordered(s: set[Hashable]) -> tuple[Hashable, ...]:
        return tuple(v for v in g.order if v in s)

    return {
        "target": y,
        "mutable": g.mutable,
        "stable": g.stable,
        "children": ordered(ch),
        "mutable_children": ordered(set(m0)),
        "K": ordered(k),
        "regenerated": g.regenerated(),
        "K_children": ordered(kch),
        "whole_stable_set_optimal": not kch,
    }
