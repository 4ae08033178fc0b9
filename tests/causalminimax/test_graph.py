"""Graph components, the graphical condition and the equivalence classes."""

from __future__ import annotations

from itertools import combinations

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from causalminimax import equivalence_classes, representatives, stable_components
from causalminimax._equivalence import _mutilated, y_neighbourhood
from causalminimax.datasets import impc_graph, simulation_graph

SMALL = [("Y", "X1"), ("X1", "X2"), ("Y", "X3"), ("X3", "X4"), ("X1", "X3")]


def _all_subsets(items):
    return [frozenset(c) for k in range(len(items) + 1) for c in combinations(items, k)]


def test_simulation_graph_has_45_classes_covering_256_subsets():
    classes = equivalence_classes(simulation_graph(), target="Y")
    assert len(classes) == 45
    members = [s for c in classes for s in c]
    assert len(members) == 256
    assert set(members) == set(_all_subsets([f"X{i}" for i in range(1, 9)]))


def test_small_graph_has_9_classes_for_16_subsets():
    classes = equivalence_classes(SMALL, target="Y", mutable=[])
    assert len(classes) == 9
    assert sum(len(c) for c in classes) == 16
    # the representative is the smallest member and every member contains it
    for c in classes:
        assert all(c[0] <= s for s in c)
        assert len(c[0]) == min(len(s) for s in c)


def test_classes_agree_with_brute_force_neighbourhoods():
    g = simulation_graph(augmented=False)
    mut = frozenset({"X9", "X10"})
    gm = _mutilated(g, mut)
    stable = [f"X{i}" for i in range(1, 9)]
    brute: dict = {}
    for s in _all_subsets(stable):
        brute.setdefault(y_neighbourhood(gm, "Y", s, mut), set()).add(s)
    classes = equivalence_classes(g, target="Y", mutable=["X9", "X10"])
    assert {c[0]: set(c) for c in classes} == brute


def test_neighbourhood_matches_networkx_d_separation():
    rng = np.random.default_rng(3)
    for _ in range(20):
        order = [f"V{i}" for i in range(7)]
        g = nx.DiGraph()
        g.add_nodes_from(order)
        for i in range(7):
            for j in range(i + 1, 7):
                if rng.random() < 0.35:
                    g.add_edge(order[i], order[j])
        target = order[int(rng.integers(0, 7))]
        rest = [v for v in order if v != target]
        sub = frozenset(v for v in rest if rng.random() < 0.6)
        expected = {v for v in sub if not nx.is_d_separator(g, {target}, {v}, set(sub) - {v})}
        assert y_neighbourhood(g, target, sub, frozenset()) == expected


def test_components_of_the_simulation_graph():
    comp = stable_components(simulation_graph(), target="Y")
    assert set(comp.mutable) == {"X9", "X10"}
    assert set(comp.stable) == {f"X{i}" for i in range(1, 9)}
    assert set(comp.children) == {"X1", "X9"}
    assert comp.mutable_children == ("X9",)
    assert set(comp.K) == {"X1", "X2", "X3", "X4", "X10"}
    assert set(comp.regenerated) == {"X1", "X2", "X3", "X4"}
    assert comp.K_children == ("X1",)
    assert comp.whole_stable_set_optimal is False


def test_graphical_condition_holds_without_mutable_child_of_y():
    # the mutable variable is a parent of Y's child, not a child of Y: M0 is empty
    edges = [("Y", "X1"), ("M", "X1"), ("X1", "X2"), ("E", "M")]
    comp = stable_components(edges, target="Y")
    assert comp.mutable_children == ()
    assert comp.whole_stable_set_optimal is True


def test_graphical_condition_holds_when_k_avoids_children():
    # Y -> M -> X2 and Y -> X1: K = {X2} is not a child of Y
    edges = [("Y", "M"), ("M", "X2"), ("Y", "X1")]
    comp = stable_components(edges, target="Y", mutable=["M"])
    assert comp.K == ("X2",)
    assert comp.whole_stable_set_optimal is True


def test_impc_graph_condition_fails():
    comp = stable_components(impc_graph(), target="Y")
    assert comp.mutable == ("X5",)
    assert comp.K_children == ("X2",)
    assert not comp.whole_stable_set_optimal
    assert sum(len(c) for c in equivalence_classes(impc_graph(), "Y")) == 16


def test_representatives_match_class_heads():
    reps = representatives(SMALL, target="Y", mutable=[])
    assert reps == [c[0] for c in equivalence_classes(SMALL, target="Y", mutable=[])]


@pytest.mark.parametrize(
    ("graph", "kwargs", "match"),
    [
        ([("Y", "X1"), ("X1", "Y")], {"mutable": []}, "acyclic"),
        ([("Y", "X1"), ("E", "Y")], {}, "marked mutable"),
        ([("Y", "X1")], {"mutable": ["Y"]}, "marked mutable"),
        ([("Y", "X1")], {}, "no environment node"),
        ([("Y", "X1")], {"mutable": ["Z"]}, "not nodes"),
        ([("A", "X1")], {"mutable": []}, "not a node"),
    ],
)
def test_bad_graphs_raise_clear_errors(graph, kwargs, match):
    with pytest.raises(ValueError, match=match):
        stable_components(graph, target="Y", **kwargs)


def test_undirected_graph_rejected():
    with pytest.raises(TypeError, match="directed"):
        stable_components(nx.Graph([("Y", "X1")]), target="Y", mutable=[])


def test_lower_bound_of_the_class_count_is_exact_for_stars():
    # Y with k stable children (one of them also a child of the mutable M): every subset of
    # the children is its own class, so the 2^k lower bound of the guard is attained
    edges = [("Y", f"S{i}") for i in range(6)] + [("Y", "M"), ("M", "S0"), ("E", "M")]
    assert len(representatives(edges, "Y")) == 2**6
    assert len(representatives(edges, "Y", max_subsets=2**6)) == 2**6
    with pytest.raises(ValueError, match=r"at least 2\^6 = 64 .*`max_subsets`=63"):
        representatives(edges, "Y", max_subsets=63)


def test_enumeration_guard_counts_explored_subsets_and_shows_progress(capsys):
    from causalminimax._equivalence import enumerate_classes

    # a 14-node chain has only 15 classes but 2^14 members: listing is refused at once, the
    # representatives are found by exploring 15 subsets
    chain = [("Y", "X1")] + [(f"X{i}", f"X{i + 1}") for i in range(1, 14)]
    with pytest.raises(ValueError, match=r"2\^14 = 16,384 .*`max_subsets`=1,000"):
        equivalence_classes(chain, "Y", mutable=[], max_subsets=1000)
    assert len(representatives(chain, "Y", mutable=[], max_subsets=15)) == 15
    with pytest.raises(ValueError, match="explored more than 14 subsets"):
        representatives(chain, "Y", mutable=[], max_subsets=14)
    # the progress line (forced here; automatic only in an interactive terminal)
    dense = [("Y", f"S{i}") for i in range(12)]
    stable = [f"S{i}" for i in range(12)]
    out = enumerate_classes(nx.DiGraph(dense), "Y", stable, [], progress=True)
    assert len(out) == 2**12
    err = capsys.readouterr().err
    assert "equivalence classes: 4,096 subsets explored, 4,096 classes" in err
    assert err.endswith("\n")
    enumerate_classes(nx.DiGraph(dense), "Y", stable, [])
    assert capsys.readouterr().err == ""  # not a terminal: no progress line


@pytest.mark.parametrize(
    ("graph", "exc", "match"),
    [
        (["YX", "XZ"], ValueError, "pairs"),  # strings are not edges
        ("Y->X", TypeError, "string"),
        (np.array([[0, 1], [0, 0]]), TypeError, "adjacency matrix has no node names"),
        ([("Y", "X", "Z")], ValueError, "pairs"),
        ([(["Y"], "X")], TypeError, "hashable"),
        ({"Y": "X"}, TypeError, "iterable of its children"),
        (pd.DataFrame([[0, 1]], index=["Y"], columns=["Y", "X"]), ValueError, "same node"),
    ],
)
def test_graph_inputs_that_are_refused(graph, exc, match):
    with pytest.raises(exc, match=match):
        stable_components(graph, target="Y", mutable=[])


def test_graph_as_mapping_or_labelled_adjacency_equals_edge_list():
    edges = [("Y", "M"), ("M", "X1"), ("Y", "X1"), ("E", "M")]
    ref = stable_components(edges)
    assert stable_components({"Y": ["M", "X1"], "M": ["X1"], "E": ["M"]}) == ref
    assert stable_components(nx.to_pandas_adjacency(nx.DiGraph(edges))) == ref
    assert stable_components(np.array(edges)) == ref


def test_explicit_mutable_must_agree_with_environment_edges():
    edges = [("Y", "M"), ("M", "X1"), ("Y", "X1"), ("E", "M")]
    assert stable_components(edges, mutable=["M"]) == stable_components(edges)
    with pytest.raises(ValueError, match=r"`mutable` \['X1'\] contradicts `graph`.*\['M'\]"):
        stable_components(edges, mutable=["X1"])
    with pytest.raises(ValueError, match=r"`mutable` \[\] contradicts"):
        stable_components(edges, mutable=[])


def test_components_are_a_frozen_dataclass_and_the_graph_carries_no_networkx():
    import dataclasses

    from causalminimax._graph import CausalGraph, StableComponents, as_causal_graph

    g = as_causal_graph(simulation_graph(), "Y")
    assert isinstance(g, CausalGraph) and as_causal_graph(g) is g
    assert all(not isinstance(getattr(g, f.name), nx.Graph) for f in dataclasses.fields(g))
    assert g.order[:5] == ("X6", "X5", "X8", "X7", "Y")  # lexicographic topological
    assert g.parents("X1") == ("X6", "X5", "Y", "X9")
    assert g.children("Y") == ("X9", "X1")
    assert g.regenerated() == ("X1", "X3", "X2", "X4")
    dag = g.to_networkx()
    assert set(dag.edges) == set(simulation_graph(augmented=False).edges)
    assert dag is not g.to_networkx()  # a new object each time: the carrier stays frozen
    comp = stable_components(g)
    assert isinstance(comp, StableComponents) and comp is g.components
    with pytest.raises(dataclasses.FrozenInstanceError):
        comp.K = ()  # type: ignore[misc]
    with pytest.warns(FutureWarning, match=r"read the attribute instead \(\.K\)"):
        assert comp["K"] == comp.K
    with pytest.raises(KeyError):
        comp["nope"]
    with pytest.raises(ValueError, match="`graph` is required"):
        stable_components(None)
