"""Graph handling: parsing the causal graph and computing its stable components.

Pure functions on :class:`networkx.DiGraph` objects. The graph is a DAG over the response and
the covariates; the mutable variables are either given explicitly or read off an augmented
graph as the children of an environment node.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any

import networkx as nx

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


def _to_digraph(graph: Any) -> nx.DiGraph:
    if isinstance(graph, nx.DiGraph):
        return nx.DiGraph(graph)
    if isinstance(graph, nx.Graph):
        raise TypeError(
            "`graph` must be directed: pass a networkx.DiGraph or a list of (parent, child) "
            "edges, not an undirected networkx.Graph."
        )
    try:
        edges = [tuple(e) for e in graph]
    except TypeError:
        raise TypeError(
            "`graph` must be a networkx.DiGraph or an iterable of (parent, child) edges; "
            f"got {type(graph).__name__}."
        ) from None
    if any(len(e) != 2 for e in edges):
        raise ValueError("`graph` edge list must hold (parent, child) pairs.")
    return nx.DiGraph(edges)


def parse_graph(
    graph: Any,
    target: Hashable,
    mutable: Iterable[Hashable] | None = None,
    environment_node: Hashable = "E",
) -> CausalGraph:
    """Validate a causal graph and split its covariates into stable and mutable ones.

    Parameters
    ----------
    graph : networkx.DiGraph or iterable of (parent, child) edges
        DAG over ``target`` and the covariates, optionally augmented with an environment node.
    target : hashable
        The response node.
    mutable : iterable, optional
        Mutable covariates. If None, they are the children of ``environment_node``.
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
    dag = _to_digraph(graph)
    if target not in dag:
        raise ValueError(
            f"`target` {target!r} is not a node of `graph`; nodes are {sorted(map(str, dag))}."
        )
    if not nx.is_directed_acyclic_graph(dag):
        cycle = nx.find_cycle(dag)
        raise ValueError(
            f"`graph` must be acyclic (a DAG); found the cycle {cycle}. Remove one of its edges."
        )
    if mutable is None:
        if environment_node not in dag:
            raise ValueError(
                "`mutable` is None and `graph` has no environment node "
                f"{environment_node!r}: pass `mutable=[...]` or add edges from the environment "
                "node to the mutable variables."
            )
        mut = set(dag.successors(environment_node))
    else:
        if isinstance(mutable, str):
            mutable = [mutable]
        mut = set(mutable)
        missing = [m for m in mut if m not in dag]
        if missing:
            raise ValueError(f"`mutable` variables {missing} are not nodes of `graph`.")
    if environment_node in dag:
        if any(True for _ in dag.predecessors(environment_node)):
            raise ValueError(
                f"The environment node {environment_node!r} must have no parents in `graph`."
            )
        dag.remove_node(environment_node)
        mut.discard(environment_node)
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
