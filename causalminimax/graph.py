"""Public graph functions: stable components and equivalence classes of stable subsets."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

from causalminimax._door import DEFAULT_MAX_SUBSETS, check_max_subsets
from causalminimax._equivalence import check_member_count, class_members, enumerate_classes
from causalminimax._graph import CausalGraph, parse_graph, stable_components

__all__ = ["equivalence_classes", "representatives", "stable_components"]


def _sort_key(order: tuple[Hashable, ...]):
    pos = {v: i for i, v in enumerate(order)}

    def key(s: frozenset[Hashable]) -> tuple[int, list[int]]:
        return (len(s), sorted(pos[v] for v in s))

    return key


def representatives(
    graph: Any,
    target: Hashable = "Y",
    mutable: Iterable[Hashable] | None = None,
    environment_node: Hashable = "E",
    *,
    max_subsets: int = DEFAULT_MAX_SUBSETS,
) -> list[frozenset[Hashable]]:
    """One representative (the smallest subset) per equivalence class of stable subsets.

    This is the search space of :class:`~causalminimax.CausalMinimaxRegressor`; it is found
    without enumerating the ``2^|S|`` subsets (see :func:`equivalence_classes`).

    Parameters
    ----------
    graph : networkx.DiGraph or iterable of (parent, child) edges
        The causal graph (a DAG), with or without the environment node.
    target : hashable, default "Y"
        The response node.
    mutable : iterable, optional
        Mutable covariates; if None, the children of ``environment_node``.
    environment_node : hashable, default "E"
        Name of the environment node in ``graph``.
    max_subsets : int, default 65536 (2^16)
        Limit of the exponential enumeration: the number of subsets the class search may
        explore. A graph whose target has ``a`` stable neighbours has at least ``2^a``
        classes; when that exceeds the limit a ValueError naming ``max_subsets`` and the
        count is raised before enumerating, otherwise as soon as the search passes it. A
        progress line is shown for long searches in an interactive terminal.

    Returns
    -------
    list of frozenset
        Sorted by size, then by topological position.

    Examples
    --------
    >>> edges = [("Y", "X1"), ("X1", "X2")]
    >>> [sorted(r) for r in representatives(edges, "Y", mutable=[])]
    [[], ['X1'], ['X2']]
    """
    g = (
        graph
        if isinstance(graph, CausalGraph)
        else parse_graph(graph, target, mutable, environment_node)
    )
    limit = check_max_subsets(max_subsets)
    reps = enumerate_classes(g.dag, g.target, g.stable, g.mutable, max_subsets=limit)
    return sorted(reps, key=_sort_key(g.order))


def equivalence_classes(
    graph: Any,
    target: Hashable = "Y",
    mutable: Iterable[Hashable] | None = None,
    environment_node: Hashable = "E",
    *,
    max_subsets: int = DEFAULT_MAX_SUBSETS,
) -> list[list[frozenset[Hashable]]]:
    """Equivalence classes of stable subsets with respect to the stable regression function.

    Two subsets ``S1, S2`` of the stable set are equivalent when
    ``E[Y | X_S1, do(X_M)] = E[Y | X_S2, do(X_M)]``; they then have the same worst-case risk.
    A class is found from the Y-neighbourhood of the maximal ancestral graph obtained by
    marginalising the dropped stable variables and conditioning on the kept ones and on the
    mutable variables, in the graph where the mutable variables are intervened on
    (d-separation; faithfulness assumed).

    Parameters
    ----------
    graph : networkx.DiGraph or iterable of (parent, child) edges
        The causal graph (a DAG), with or without the environment node.
    target : hashable, default "Y"
        The response node.
    mutable : iterable, optional
        Mutable covariates; if None, the children of ``environment_node``.
    environment_node : hashable, default "E"
        Name of the environment node in ``graph``.
    max_subsets : int, default 65536 (2^16)
        Limit of the exponential enumeration. The classes partition the ``2^|S|`` stable
        subsets, so listing them is refused (ValueError naming ``max_subsets`` and the count)
        before enumerating when ``2^|S|`` exceeds the limit.

    Returns
    -------
    list of list of frozenset
        One list per class; its first element is the representative (the smallest subset),
        the others follow by size. Classes are sorted like their representatives. Listing
        every member is exponential in ``|S|`` for dense classes; use :func:`representatives`
        when only the search space is needed.

    Examples
    --------
    >>> edges = [("Y", "X1"), ("X1", "X2"), ("Y", "X3"), ("X3", "X4"), ("X1", "X3")]
    >>> classes = equivalence_classes(edges, target="Y", mutable=[])
    >>> len(classes), sum(len(c) for c in classes)
    (9, 16)
    >>> [sorted(s) for s in classes[5]]
    [['X1', 'X3'], ['X1', 'X2', 'X3'], ['X1', 'X3', 'X4'], ['X1', 'X2', 'X3', 'X4']]
    """
    g = (
        graph
        if isinstance(graph, CausalGraph)
        else parse_graph(graph, target, mutable, environment_node)
    )
    limit = check_max_subsets(max_subsets)
    check_member_count(len(g.stable), limit)
    reps = enumerate_classes(g.dag, g.target, g.stable, g.mutable, max_subsets=limit)
    key = _sort_key(g.order)
    out = []
    for r in sorted(reps, key=key):
        members = class_members(r, reps[r])
        out.append(sorted(members, key=key))
    return out
