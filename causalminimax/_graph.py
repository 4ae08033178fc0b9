"""Graph handling: parsing the causal graph and computing its stable components.

Pure functions on :class:`networkx.DiGraph` objects. The graph is a DAG over the response and
the covariates; the mutable variables are either given explicitly or read off an augmented
graph as the children of an environment node.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, fields
from functools import cached_property
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from causalminimax._door import node_list

__all__ = ["CausalGraph", "StableComponents", "as_causal_graph", "parse_graph", "stable_components"]


@dataclass(frozen=True)
class StableComponents:
    """Graph components of the causal minimax analysis (sets are tuples in topological order).

    Returned by :func:`~causalminimax.stable_components`; the fields are read as attributes.

    Parameters
    ----------
    target : hashable
        The response ``Y``.
    mutable : tuple
        Mutable covariates ``M``.
    stable : tuple
        Stable covariates ``S = X \\ M``.
    children : tuple
        ``Ch(Y)``.
    mutable_children : tuple
        ``M0 = M ∩ Ch(Y)``.
    K : tuple
        ``De(M0) \\ M0``.
    regenerated : tuple
        ``De(M) \\ M``: the variables re-simulated when the mutable mechanisms are replaced.
    K_children : tuple
        ``K ∩ Ch(Y)``.
    whole_stable_set_optimal : bool
        The graphical condition ``K ∩ Ch(Y) = ∅``.
    """

    target: Hashable
    mutable: tuple[Hashable, ...]
    stable: tuple[Hashable, ...]
    children: tuple[Hashable, ...]
    mutable_children: tuple[Hashable, ...]
    K: tuple[Hashable, ...]
    regenerated: tuple[Hashable, ...]
    K_children: tuple[Hashable, ...]
    whole_stable_set_optimal: bool

    def __getitem__(self, key: str) -> Any:
        """Deprecated dictionary access (``comp["K"]``); read the attribute (``comp.K``)."""
        if key not in {f.name for f in fields(self)}:
            raise KeyError(key)
        warnings.warn(
            f"stable_components(...)[{key!r}] is deprecated: the components are a frozen "
            f"dataclass now; read the attribute instead (.{key}).",
            FutureWarning,
            stacklevel=2,
        )
        return getattr(self, key)


@dataclass(frozen=True)
class CausalGraph:
    """A validated causal DAG with its target and mutable variables.

    The only graph carrier of the package: every public entry point converts its ``graph``
    argument once with :func:`parse_graph`; a :class:`networkx.DiGraph` is made from it only
    for the algorithms that need one (:meth:`to_networkx`).

    Attributes
    ----------
    target : hashable
        The response node.
    order : tuple
        A topological order of all nodes (lexicographic by ``str`` among ties).
    edges : tuple of (parent, child)
        The edges (environment node removed), sorted by the topological positions.
    mutable : tuple
        Mutable variables (mechanisms that shift across environments), in topological order.
    stable : tuple
        Stable covariates ``S = X \\ M``, in topological order.
    """

    target: Hashable
    order: tuple[Hashable, ...]
    edges: tuple[tuple[Hashable, Hashable], ...]
    mutable: tuple[Hashable, ...]
    stable: tuple[Hashable, ...]

    @property
    def covariates(self) -> tuple[Hashable, ...]:
        """All covariates (stable and mutable), in topological order."""
        return tuple(v for v in self.order if v != self.target)

    @cached_property
    def parent_map(self) -> dict[Hashable, tuple[Hashable, ...]]:
        """Parents of every node, in topological order."""
        out: dict[Hashable, list[Hashable]] = {v: [] for v in self.order}
        for a, b in self.edges:  # edges are sorted by the parent's position
            out[b].append(a)
        return {v: tuple(p) for v, p in out.items()}

    def parents(self, node: Hashable) -> tuple[Hashable, ...]:
        """Parents of ``node`` in topological order."""
        return self.parent_map[node]

    def children(self, node: Hashable) -> tuple[Hashable, ...]:
        """Children of ``node`` in topological order."""
        return tuple(v for v in self.order if node in self.parent_map[v])

    def descendants(self, nodes: Iterable[Hashable]) -> tuple[Hashable, ...]:
        """Nodes reached from ``nodes`` by a directed path of length >= 1 (topological order)."""
        src, out = set(nodes), set()
        for v in self.order:
            if any(p in src or p in out for p in self.parent_map[v]):
                out.add(v)
        return tuple(v for v in self.order if v in out)

    def regenerated(self) -> tuple[Hashable, ...]:
        """Non-mutable descendants of the mutable variables (they change under ``do(X_M)``)."""
        return tuple(v for v in self.descendants(self.mutable) if v not in self.mutable)

    @cached_property
    def components(self) -> StableComponents:
        """The graph components (see :func:`~causalminimax.stable_components`)."""
        ch = set(self.children(self.target))
        m0 = tuple(m for m in self.mutable if m in ch)
        k = set(self.descendants(m0)) - set(m0)
        kch = k & ch

        def ordered(s: set[Hashable]) -> tuple[Hashable, ...]:
            return tuple(v for v in self.order if v in s)

        return StableComponents(
            target=self.target,
            mutable=self.mutable,
            stable=self.stable,
            children=ordered(ch),
            mutable_children=m0,
            K=ordered(k),
            regenerated=self.regenerated(),
            K_children=ordered(kch),
            whole_stable_set_optimal=not kch,
        )

    def to_networkx(self) -> nx.DiGraph:
        """A new :class:`networkx.DiGraph` of the DAG (for the algorithms that need one)."""
        g = nx.DiGraph()
        g.add_nodes_from(self.order)
        g.add_edges_from(self.edges)
        return g


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
    edges: list[Any]
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
        mutable = node_list(mutable)
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
    pos = {v: i for i, v in enumerate(order)}
    edges = tuple(sorted(dag.edges, key=lambda e: (pos[e[0]], pos[e[1]])))
    mut_t = tuple(v for v in order if v in mut)
    stable = tuple(v for v in order if v != target and v not in mut)
    return CausalGraph(target=target, order=order, edges=edges, mutable=mut_t, stable=stable)


def as_causal_graph(
    graph: Any,
    target: Hashable = "Y",
    mutable: Iterable[Hashable] | None = None,
    environment_node: Hashable = "E",
) -> CausalGraph:
    """The door of every public entry point taking a ``graph``: a :class:`CausalGraph` passes
    through, anything else is converted once by :func:`parse_graph`; ``None`` is refused."""
    if graph is None:
        raise ValueError(
            "`graph` is required: pass a networkx.DiGraph or a list of (parent, child) "
            "edges over the target and the columns of X (see causalminimax.datasets "
            "for examples)."
        )
    if isinstance(graph, CausalGraph):
        return graph
    return parse_graph(graph, target, mutable, environment_node)


def stable_components(
    graph: Any,
    target: Hashable = "Y",
    mutable: Iterable[Hashable] | None = None,
    environment_node: Hashable = "E",
) -> StableComponents:
    """Graph components of the causal minimax analysis.

    Parameters
    ----------
    graph : networkx.DiGraph, iterable of (parent, child) edges, mapping or DataFrame
        DAG over the target and covariates (optionally with an environment node); see
        :func:`parse_graph` for the accepted forms.
    target : hashable, default "Y"
        The response.
    mutable : iterable, optional
        Mutable covariates; if None, the children of ``environment_node``.
    environment_node : hashable, default "E"
        Environment node of an augmented graph.

    Returns
    -------
    StableComponents
        Frozen dataclass with ``mutable`` (M), ``stable`` (S), ``children`` (Ch(Y)),
        ``mutable_children`` (M0 = M ∩ Ch(Y)), ``K`` (De(M0) \\ M0), ``regenerated``
        (De(M) \\ M, the variables re-simulated when the mutable mechanisms are replaced),
        ``K_children`` (K ∩ Ch(Y)) and ``whole_stable_set_optimal`` (the graphical condition
        K ∩ Ch(Y) = ∅). Sets are tuples in topological order.

    Examples
    --------
    >>> edges = [("Y", "X1"), ("Y", "M"), ("M", "X1")]
    >>> comp = stable_components(edges, target="Y", mutable=["M"])
    >>> comp.K, comp.whole_stable_set_optimal
    (('X1',), False)
    """
    return as_causal_graph(graph, target, mutable, environment_node).components
