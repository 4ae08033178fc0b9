"""Public graph functions: stable components and equivalence classes of stable subsets."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Any

from causalminimax._door import DEFAULT_MAX_SUBSETS, check_max_subsets
from causalminimax._equivalence import check_member_count, class_members, enumerate_classes
from causalminimax._graph import CausalGraph, as_causal_graph, stable_components

__all__ = ["equivalence_classes", "representatives", "stable_components"]


def _sort_key(g: CausalGraph) -> Callable[[frozenset[Hashable]], tuple[int, list[int]]]:
    """Subsets by size, then by the topological positions of their members."""
    pos = {v: i for i, v in enumerate(g.order)}

    def key(s: frozenset[Hashable]) -> tuple[int, list[int]]:
        return (len(s), sorted(pos[v] for v in s))

    return key


def _classes(g: CausalGraph, limit: int) -> dict[frozenset[Hashable], list[frozenset[Hashable]]]:
    """Representative -> explored subsets of its class (the one call into networkx)."""
    return enumerate_classes(g.to_networkx(), g.target, g.stable, g.mutable, max_subsets=limit)


def ordered_representatives(g: CausalGraph, max_subsets: int) -> list[tuple[Hashable, ...]]:
    """The search space of the estimator: one subset per class, as topologically ordered
    tuples, sorted like :func:`representatives`."""
    reps = sorted(_classes(g, max_subsets), key=_sort_key(g))
    return [tuple(v for v in g.order if v in r) for r in reps]


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
    graph, target, mutable, environment_node
        The causal graph and its roles, as in :func:`stable_components`.
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
    g = as_causal_graph(graph, target, mutable, environment_node)
    return sorted(_classes(g, check_max_subsets(max_subsets)), key=_sort_key(g))


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
    graph, target, mutable, environment_node
        The causal graph and its roles, as in :func:`stable_components`.
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
    g = as_causal_graph(graph, target, mutable, environment_node)
    limit = check_max_subsets(max_subsets)
    check_member_count(len(g.stable), limit)
    reps = _classes(g, limit)
    key = _sort_key(g)
    return [sorted(class_members(r, reps[r]), key=key) for r in sorted(reps, key=key)]
