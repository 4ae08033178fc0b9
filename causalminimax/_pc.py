"""PC skeleton search with a context variable, and orientation (pure core on integer nodes).

Nodes are ``0..p-1``. The optional *context* node ``c`` (the environment index of CD-NOD) is
exogenous: it is never a child, and every test between two other nodes conditions on it. As
``c`` has no parents it is never a collider nor a descendant of one, so adding it to a
separating set never opens a path: the skeleton over the other nodes is unchanged, and the
tests can use the environment-stratified statistics.

A partially directed graph is an ``int8`` matrix ``g`` with ``g[i, j] = g[j, i] = 1`` for an
undirected edge ``i - j`` and ``g[i, j] = 1, g[j, i] = 0`` for ``i -> j``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Skeleton", "extend_to_dag", "orient", "pc_skeleton"]

CITest = Callable[[int, int, list[tuple[int, ...]]], np.ndarray]


@dataclass
class Skeleton:
    """Output of :func:`pc_skeleton`.

    Attributes
    ----------
    adjacency : ndarray of bool, shape (p, p)
    max_pvalue : ndarray of shape (p, p)
        Largest p-value over the tests of each pair (NaN if never tested).
    sepsets : dict
        ``(i, j)`` with ``i < j`` -> separating set (sorted tuple, includes the context node
        when it was conditioned on) for every removed edge.
    n_tests : int
        Number of conditional-independence tests run.
    """

    adjacency: np.ndarray
    max_pvalue: np.ndarray
    sepsets: dict[tuple[int, int], tuple[int, ...]] = field(default_factory=dict)
    n_tests: int = 0


def pc_skeleton(
    n_nodes: int,
    test: CITest,
    alpha: float,
    *,
    context: int | None = None,
    max_condition_size: int | None = None,
    batch_size: int | None = None,
) -> Skeleton:
    """Order-independent (PC-stable) skeleton search.

    Parameters
    ----------
    n_nodes : int
    test : callable ``(i, j, conds) -> p-values``
        p-values of ``i ⫫ j | S`` for a list of conditioning sets of equal size. For pairs not
        involving ``context``, every set already includes ``context`` (last).
    alpha : float
        An edge is removed at the first conditioning set with p-value ``> alpha``.
    context : int, optional
        Index of the context (environment) node.
    max_condition_size : int, optional
        Largest conditioning set (not counting the context node).
    batch_size : int, optional
        Number of conditioning sets passed to ``test`` at once (``None``: all of a level).

    Returns
    -------
    Skeleton

    Examples
    --------
    >>> import numpy as np
    >>> from causalminimax._ci import fisher_z_pvalues
    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=1000); b = a + rng.normal(size=1000); c = b + rng.normal(size=1000)
    >>> corr = np.corrcoef([a, b, c])
    >>> sk = pc_skeleton(3, lambda i, j, s: fisher_z_pvalues(corr, 1000, i, j, s), 0.01)
    >>> sk.adjacency.astype(int).tolist(), sk.sepsets
    ([[0, 1, 0], [1, 0, 1], [0, 1, 0]], {(0, 2): (1,)})
    """
    adj = ~np.eye(n_nodes, dtype=bool)
    maxp = np.full((n_nodes, n_nodes), np.nan)
    sepsets: dict[tuple[int, int], tuple[int, ...]] = {}
    n_tests = 0
    level = 0
    while max_condition_size is None or level <= max_condition_size:
        snap = adj.copy()  # PC-stable: adjacencies frozen within a level
        any_candidate = False
        for i, j in itertools.combinations(range(n_nodes), 2):
            if not adj[i, j]:
                continue
            ctx_pair = context is not None and context in (i, j)
            sets: list[tuple[int, ...]] = []
            seen: set[tuple[int, ...]] = set()
            for a, b in ((i, j), (j, i)):
                cand = [
                    k
                    for k in np.flatnonzero(snap[a]).tolist()
                    if k != b and (ctx_pair or k != context)
                ]
                if len(cand) < level:
                    continue
                any_candidate = True
                for s in itertools.combinations(cand, level):
                    if s not in seen:
                        seen.add(s)
                        sets.append(s)
            if not sets:
                continue
            if not ctx_pair and context is not None:
                sets = [(*s, context) for s in sets]
            step = len(sets) if batch_size is None else int(batch_size)
            for start in range(0, len(sets), step):
                chunk = sets[start : start + step]
                p = np.asarray(test(i, j, chunk), dtype=float)
                n_tests += len(chunk)
                prev = maxp[i, j]
                maxp[i, j] = maxp[j, i] = np.nanmax([prev, *p.tolist()])
                hit = np.flatnonzero(p > alpha)
                if hit.size:
                    adj[i, j] = adj[j, i] = False
                    sepsets[(i, j)] = tuple(sorted(chunk[int(hit[0])]))
                    break
        if not any_candidate:
            break
        level += 1
    return Skeleton(adjacency=adj, sepsets=sepsets, max_pvalue=maxp, n_tests=n_tests)


def _undirected(g: np.ndarray, i: int, j: int) -> bool:
    return bool(g[i, j] and g[j, i])


def _directed(g: np.ndarray, i: int, j: int) -> bool:
    return bool(g[i, j] and not g[j, i])


def _adjacent(g: np.ndarray, i: int, j: int) -> bool:
    return bool(g[i, j] or g[j, i])


def _into(g: np.ndarray, a: int, mid: int, b: int) -> bool:
    """``a - mid -> b``: an undirected edge followed by an arrow."""
    return _undirected(g, a, mid) and _directed(g, mid, b)


def _meek(g: np.ndarray) -> None:
    """Apply Meek's rules R1-R4 in place until nothing changes."""
    p = g.shape[0]
    changed = True
    while changed:
        changed = False
        for a, b in itertools.permutations(range(p), 2):
            if not _undirected(g, a, b):
                continue
            others = [k for k in range(p) if k not in (a, b)]
            # R1: c -> a - b, c and b non-adjacent  =>  a -> b
            r1 = any(_directed(g, c, a) and not _adjacent(g, c, b) for c in others)
            # R2: a -> c -> b and a - b  =>  a -> b
            r2 = any(_directed(g, a, c) and _directed(g, c, b) for c in others)
            # R3: a - c -> b, a - d -> b, c and d non-adjacent  =>  a -> b
            r3 = any(
                _into(g, a, c, b) and _into(g, a, d, b) and not _adjacent(g, c, d)
                for c, d in itertools.combinations(others, 2)
            )
            # R4: a - d -> c -> b, a adjacent to c, d and b non-adjacent  =>  a -> b
            r4 = not (r1 or r2 or r3) and any(
                _into(g, a, d, c)
                and _directed(g, c, b)
                and _adjacent(g, a, c)
                and not _adjacent(g, d, b)
                for c, d in itertools.permutations(others, 2)
            )
            if r1 or r2 or r3 or r4:
                g[b, a] = 0
                changed = True


def orient(
    adjacency: np.ndarray,
    sepsets: dict[tuple[int, int], tuple[int, ...]],
    context: int | None = None,
) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
    """Orient a skeleton: context edges, v-structures, then Meek's rules.

    1. Every edge at the context node ``c`` is oriented ``c -> v`` (``c`` is exogenous).
    2. For each unshielded triple ``i - k - j`` (``i``, ``j`` non-adjacent) with ``k`` not in
       the separating set of ``(i, j)``, orient ``i -> k <- j``; triples are visited in index
       order and an arrowhead that would point into ``c`` or reverse an arrow already set by
       an earlier v-structure is not added (the triple is reported as a conflict).
    3. Meek's rules R1-R4 (R4 is needed because of the background knowledge of step 1).

    Parameters
    ----------
    adjacency : ndarray of bool, shape (p, p)
    sepsets : dict
        ``(i, j)`` with ``i < j`` -> separating set.
    context : int, optional

    Returns
    -------
    graph : ndarray of int8, shape (p, p)
        Partially directed graph.
    conflicts : list of (i, k, j)
        Unshielded colliders that could not be fully oriented.

    Examples
    --------
    >>> import numpy as np
    >>> adj = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=bool)
    >>> g, _ = orient(adj, {(0, 2): ()})
    >>> g.tolist()
    [[0, 1, 0], [0, 0, 0], [0, 1, 0]]
    """
    g = np.asarray(adjacency, dtype=np.int8).copy()
    np.fill_diagonal(g, 0)
    p = g.shape[0]
    if context is not None:
        g[:, context] = 0
    conflicts: list[tuple[int, int, int]] = []
    for k in range(p):
        if k == context:
            continue
        nb = np.flatnonzero(g[k] | g[:, k]).tolist()
        for i, j in itertools.combinations(nb, 2):
            if _adjacent(g, i, j) or k in sepsets.get((min(i, j), max(i, j)), ()):
                continue
            ok = True
            for a in (i, j):
                if a != context and _directed(g, k, a):
                    ok = False
            if not ok:
                conflicts.append((i, k, j))
                continue
            g[k, i] = 0
            g[k, j] = 0
    _meek(g)
    return g, conflicts


def extend_to_dag(g: np.ndarray, order: list[int] | None = None) -> np.ndarray:
    """Orient the undirected edges of a partially directed graph into a consistent DAG.

    Dor and Tarsi (1992): repeatedly remove a node that is a sink in the directed part and
    whose undirected neighbours are adjacent to all its other neighbours, orienting its
    undirected edges into it. The DAG has the same v-structures as ``g`` and is one member
    of its Markov equivalence class; ties are broken by ``order`` (default: index order, the
    node removed first being the last in it).

    Raises
    ------
    ValueError
        If ``g`` admits no consistent extension (e.g. conflicting orientations).

    Examples
    --------
    >>> import numpy as np
    >>> g = np.array([[0, 1], [1, 0]], dtype=np.int8)
    >>> extend_to_dag(g).tolist()
    [[0, 1], [0, 0]]
    """
    g = np.asarray(g, dtype=np.int8)
    dag = np.where(g & ~g.T.astype(bool), 1, 0).astype(np.int8)
    work = g.copy()
    alive = list(range(g.shape[0])) if order is None else list(order)
    while alive:
        found = None
        for x in reversed(alive):
            out = [y for y in alive if _directed(work, x, y)]
            if out:
                continue
            und = [y for y in alive if _undirected(work, x, y)]
            nbrs = [y for y in alive if y != x and _adjacent(work, x, y)]
            if all(_adjacent(work, y, z) for y in und for z in nbrs if z != y):
                found = x
                break
        if found is None:
            raise ValueError(
                "The partially directed graph has no consistent DAG extension (conflicting "
                "orientations); orient the remaining edges by hand."
            )
        for y in alive:
            if _undirected(work, found, y):
                dag[y, found] = 1
        work[found, :] = 0
        work[:, found] = 0
        alive.remove(found)
    return dag
