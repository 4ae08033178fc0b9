"""Equivalence classes of stable subsets (pure graph computations).

Two stable subsets are equivalent when they give the same stable regression function
``E[Y | X_S', do(X_M)]``, hence the same worst-case risk. In the graph where the mutable
variables are intervened on (incoming edges removed) and conditioned on, the regression on
``S'`` depends only on the *Y-neighbourhood* of ``S'``: the variables of ``S'`` that are
d-connected to ``Y`` given the rest of ``S'`` and ``M``. This is the Markov blanket of ``Y``
in the maximal ancestral graph obtained by marginalising ``S \\ S'`` and conditioning on
``S' ∪ M``. Under faithfulness (with the intersection property) it is the unique smallest
subset ``R`` with ``Y ⊥ S' \\ R | R, M``, so ``S'`` and ``R`` give the same regression function
and every ``T`` with ``R ⊆ T ⊆ S'`` is in the same class; ``R`` is the class representative.

The classes are found recursively: the subsets of ``S'`` either contain ``R(S')`` (same class)
or miss some ``v ∈ R(S')`` and so lie inside ``S' \\ {v}``, which is explored next. The work is
proportional to the number of explored subsets (small for sparse graphs) instead of ``2^d``;
each Y-neighbourhood costs one linear-time Bayes-ball pass.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from itertools import combinations

import networkx as nx

__all__ = [
    "check_class_count",
    "check_member_count",
    "class_members",
    "enumerate_classes",
    "y_neighbourhood",
]


def _mutilated(dag: nx.DiGraph, mutable: Iterable[Hashable]) -> nx.DiGraph:
    g = nx.DiGraph(dag)
    for m in mutable:
        g.remove_edges_from(list(g.in_edges(m)))
    return g


def _reached(g: nx.DiGraph, source: Hashable, given: set[Hashable]) -> set[Hashable]:
    """Nodes at the end of an active trail from ``source`` given ``given`` (Bayes ball).

    End nodes may themselves be in ``given``: the trail only has to be active in its interior.
    """
    anc = set(given)  # the given nodes and their ancestors: one reverse pass
    todo = list(given)
    while todo:
        for p in g.predecessors(todo.pop()):
            if p not in anc:
                anc.add(p)
                todo.append(p)
    reached: set[Hashable] = set()
    visited: set[tuple[Hashable, bool]] = set()
    stack: list[tuple[Hashable, bool]] = []  # (node, arrived_from_child)
    for p in g.predecessors(source):
        stack.append((p, True))
    for c in g.successors(source):
        stack.append((c, False))
    while stack:
        node, up = stack.pop()
        if (node, up) in visited or node == source:
            continue
        visited.add((node, up))
        reached.add(node)
        if up:
            if node not in given:
                stack.extend((p, True) for p in g.predecessors(node))
                stack.extend((c, False) for c in g.successors(node))
        else:
            if node not in given:
                stack.extend((c, False) for c in g.successors(node))
            if node in anc:
                stack.extend((p, True) for p in g.predecessors(node))
    return reached


def y_neighbourhood(
    mutilated: nx.DiGraph,
    target: Hashable,
    subset: frozenset[Hashable],
    mutable: frozenset[Hashable],
) -> frozenset[Hashable]:
    """Smallest ``R ⊆ subset`` with ``Y ⊥ subset \\ R | R, M`` in the mutilated graph.

    Parameters
    ----------
    mutilated : networkx.DiGraph
        DAG with the incoming edges of the mutable variables removed.
    target : hashable
    subset : frozenset
        Kept stable variables ``S'``.
    mutable : frozenset
        Mutable variables (always conditioned on).

    Returns
    -------
    frozenset

    Examples
    --------
    >>> g = nx.DiGraph([("Y", "X1"), ("X1", "X2")])
    >>> sorted(y_neighbourhood(g, "Y", frozenset({"X1", "X2"}), frozenset()))
    ['X1']
    """
    given = set(subset) | set(mutable)
    return frozenset(_reached(mutilated, target, given) & set(subset))


def _limit_error(what: str, count: str, max_subsets: int, hint: str) -> ValueError:
    return ValueError(
        f"{what} {count}, above `max_subsets`={max_subsets:,}. The enumeration is exponential "
        f"in the number of stable variables; {hint}"
    )


def check_class_count(
    dag: nx.DiGraph,
    target: Hashable,
    stable: Iterable[Hashable],
    mutable: Iterable[Hashable],
    max_subsets: int,
) -> None:
    """Refuse, before any enumeration, a graph whose classes surely exceed ``max_subsets``.

    Every stable variable adjacent to the target in the mutilated graph belongs to the
    Y-neighbourhood of any subset holding it, so ``a`` such neighbours give at least ``2^a``
    classes (each subset of them is its own representative).
    """
    g = _mutilated(dag, frozenset(mutable))
    st = set(stable)
    adjacent = (set(g.predecessors(target)) | set(g.successors(target))) & st
    a = len(adjacent)
    if 2**a > max_subsets:
        raise _limit_error(
            "The equivalence classes of the stable subsets number at least",
            f"2^{a} = {2**a:,} (the target has {a} stable neighbours, and every subset of "
            "them is its own class)",
            max_subsets,
            "raise `max_subsets` only if you can afford that many classes (each is fitted and "
            "searched by the estimator), or simplify the graph.",
        )


def enumerate_classes(
    dag: nx.DiGraph,
    target: Hashable,
    stable: Iterable[Hashable],
    mutable: Iterable[Hashable],
    *,
    max_subsets: int | None = None,
    progress: bool | None = None,
) -> dict[frozenset[Hashable], list[frozenset[Hashable]]]:
    """Representatives of the equivalence classes with the maximal subsets of each class.

    Parameters
    ----------
    dag : networkx.DiGraph
        The causal DAG (without environment node).
    target : hashable
    stable, mutable : iterables of nodes
    max_subsets : int, optional
        Largest number of subsets the recursion may explore (each explored subset costs one
        Bayes-ball pass); a graph that surely has more classes is refused before starting
        (see :func:`check_class_count`), one that turns out to need more is refused as soon as
        the count is passed. ``None``: no limit.
    progress : bool, optional
        Progress line on stderr for long enumerations (``None``: only in an interactive
        terminal).

    Returns
    -------
    dict
        Maps each representative ``R`` to the explored subsets ``S'`` with ``R(S') = R``;
        the class of ``R`` is the union of the intervals ``[R, S']``.

    Examples
    --------
    >>> g = nx.DiGraph([("Y", "X1"), ("X1", "X2")])
    >>> sorted(sorted(r) for r in enumerate_classes(g, "Y", ["X1", "X2"], []))
    [[], ['X1'], ['X2']]
    """
    from estkit._parallel import _want_progress

    stable = list(stable)
    if max_subsets is not None:
        check_class_count(dag, target, stable, mutable, max_subsets)
    show = _want_progress(progress)
    mut = frozenset(mutable)
    g = _mutilated(dag, mut)
    out: dict[frozenset[Hashable], list[frozenset[Hashable]]] = {}
    seen: set[frozenset[Hashable]] = set()
    stack = [frozenset(stable)]
    while stack:
        s = stack.pop()
        if s in seen:
            continue
        seen.add(s)
        if max_subsets is not None and len(seen) > max_subsets:
            _end_progress(show)
            raise _limit_error(
                "Enumerating the equivalence classes explored more than",
                f"{max_subsets:,} subsets (of at most 2^{len(stable)}; {len(out):,} classes "
                "found so far)",
                max_subsets,
                "raise `max_subsets` or simplify the graph.",
            )
        if show and len(seen) % _PROGRESS_EVERY == 0:
            _show_progress(len(seen), len(out), max_subsets)
        r = y_neighbourhood(g, target, s, mut)
        out.setdefault(r, []).append(s)
        for v in r:
            t = s - {v}
            if t not in seen:
                stack.append(t)
    if show and len(seen) >= _PROGRESS_EVERY:
        _show_progress(len(seen), len(out), max_subsets)
        _end_progress(show)
    return out


_PROGRESS_EVERY = 2048


def _show_progress(explored: int, classes: int, limit: int | None) -> None:
    import sys

    cap = "" if limit is None else f" (max_subsets={limit:,})"
    sys.stderr.write(
        f"\requivalence classes: {explored:,} subsets explored, {classes:,} classes{cap}"
    )
    sys.stderr.flush()


def _end_progress(show: bool) -> None:
    if show:
        import sys

        sys.stderr.write("\n")
        sys.stderr.flush()


def check_member_count(n_stable: int, max_subsets: int) -> None:
    """The classes partition the ``2^n_stable`` subsets: refuse listing more than the limit."""
    if 2**n_stable > max_subsets:
        raise _limit_error(
            "Listing every member of every equivalence class means listing all",
            f"2^{n_stable} = {2**n_stable:,} stable subsets",
            max_subsets,
            "use representatives() when only the search space is needed, or raise `max_subsets`.",
        )


def class_members(
    representative: frozenset[Hashable], tops: Iterable[frozenset[Hashable]]
) -> set[frozenset[Hashable]]:
    """All subsets of the class: the union of the intervals ``[representative, top]``."""
    members: set[frozenset[Hashable]] = set()
    for top in tops:
        free = sorted(top - representative, key=str)
        for k in range(len(free) + 1):
            for extra in combinations(free, k):
                members.add(representative | frozenset(extra))
    return members
