"""CD-NOD-style discovery: CI tests, PC skeleton and orientation, the public function."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from causalminimax import CausalMinimaxRegressor, DiscoveryResult, discover_graph
from causalminimax._ci import fisher_z_pvalues, fisher_z_test, kci_test
from causalminimax._pc import extend_to_dag, orient, pc_skeleton

NAMES = ["Y", "X1", "X2", "X3", "X4", "X5"]
TRUE_EDGES = [("X1", "Y"), ("Y", "X2"), ("X2", "X3"), ("X4", "X3"), ("X3", "X5"), ("X1", "X4")]
MUTABLE = ("X2", "X4")


def _sem(n_per_env: int = 500, n_env: int = 5, seed: int = 0) -> pd.DataFrame:
    """Linear-Gaussian SEM, six variables, X2 and X4 mutable (slope, variance, mean shifts)."""
    rng = np.random.default_rng(seed)
    frames = []
    for e in range(n_env):
        n = n_per_env
        x1 = rng.normal(size=n)
        y = 0.8 * x1 + rng.normal(size=n)
        x2 = (0.5 + 0.4 * e) * y + (0.5 + 0.25 * e) * rng.normal(size=n)
        x4 = 0.7 * (e - 2) + (1.0 - 0.35 * e) * x1 + rng.normal(size=n)
        x3 = 0.8 * x2 - 0.7 * x4 + rng.normal(size=n)
        x5 = 0.9 * x3 + rng.normal(size=n)
        d = {"Y": y, "X1": x1, "X2": x2, "X3": x3, "X4": x4, "X5": x5}
        frames.append(pd.DataFrame(d).assign(env=e))
    return pd.concat(frames, ignore_index=True)


def _augmented_truth() -> tuple[nx.DiGraph, list[str]]:
    g = nx.DiGraph(TRUE_EDGES)
    g.add_edges_from(("E", m) for m in MUTABLE)
    return g, [*NAMES, "E"]


def _oracle_pdag() -> tuple[np.ndarray, dict]:
    """PC with a d-separation oracle on the true augmented DAG: the identifiable orientations."""
    g, names = _augmented_truth()

    def oracle(i, j, conds):
        return np.array(
            [float(nx.is_d_separator(g, names[i], names[j], {names[k] for k in s})) for s in conds]
        )

    sk = pc_skeleton(len(names), oracle, 0.5, context=len(names) - 1)
    pdag, conflicts = orient(sk.adjacency, sk.sepsets, context=len(names) - 1)
    assert not conflicts
    return pdag, sk.sepsets


# ------------------------------------------------------------------------------ CI tests


def _partial_corr_direct(d: np.ndarray, i: int, j: int, s: list[int]) -> float:
    z = np.column_stack([np.ones(len(d)), d[:, s]])
    ri = d[:, i] - z @ np.linalg.lstsq(z, d[:, i], rcond=None)[0]
    rj = d[:, j] - z @ np.linalg.lstsq(z, d[:, j], rcond=None)[0]
    return float(stats.pearsonr(ri, rj)[0])


def test_fisher_z_matches_direct_partial_correlation():
    rng = np.random.default_rng(1)
    n = 300
    d = rng.normal(size=(n, 5))
    d[:, 1] += 0.3 * d[:, 0] + 0.4 * d[:, 2]
    d[:, 3] += 0.2 * d[:, 1] - 0.5 * d[:, 4]
    corr = np.corrcoef(d, rowvar=False)
    for i, j, s in [(0, 1, []), (0, 1, [2]), (1, 3, [0, 2, 4]), (0, 3, [1])]:
        r = _partial_corr_direct(d, i, j, s)
        z = np.sqrt(n - len(s) - 3) * abs(np.arctanh(r))
        expected = 2 * stats.norm.sf(z)
        assert fisher_z_test(d, i, j, s) == pytest.approx(expected, rel=1e-9, abs=1e-300)
    # the batch over conditioning sets equals the one-by-one computation
    sets = np.array([[2, 4], [2, 3], [3, 4]])
    batch = fisher_z_pvalues(corr, n, 0, 1, sets)
    single = [fisher_z_test(d, 0, 1, list(s)) for s in sets]
    np.testing.assert_allclose(batch, single, rtol=1e-12)


def test_kci_size_under_independence_and_power_under_nonlinear_dependence():
    rng = np.random.default_rng(7)
    n, reps = 150, 40
    null_p, cond_null_p, power_p, cond_power_p = [], [], [], []
    for _ in range(reps):
        x, y = rng.normal(size=n), rng.normal(size=n)
        null_p.append(kci_test(x, y))
        z = rng.uniform(-2, 2, n)
        a = np.sin(2 * z) + 0.3 * rng.normal(size=n)
        b = z**2 + 0.3 * rng.normal(size=n)
        cond_null_p.append(kci_test(a, b, z))
        u = rng.uniform(-2, 2, n)
        power_p.append(kci_test(u, np.cos(2 * u) + 0.5 * rng.normal(size=n)))
        cond_power_p.append(kci_test(a, a**2 + z + 0.3 * rng.normal(size=n), z))
    # rejection rates at 5%: the size within binomial noise of 5%, the power near 1
    assert np.mean(np.array(null_p) < 0.05) <= 0.15
    assert np.mean(np.array(cond_null_p) < 0.05) <= 0.15
    assert np.mean(np.array(power_p) < 0.05) >= 0.9
    assert np.mean(np.array(cond_power_p) < 0.05) >= 0.9
    # correlation-free dependence that Fisher-z cannot see
    u = rng.uniform(-2, 2, 300)
    v = u**2 + 0.3 * rng.normal(size=300)
    assert kci_test(u, v) < 1e-3
    assert fisher_z_test(np.column_stack([u, v]), 0, 1) > 0.01


# ------------------------------------------------------------------------------ PC core


def test_oracle_pc_recovers_true_skeleton_and_cpdag():
    pdag, _ = _oracle_pdag()
    g, names = _augmented_truth()
    skel = {frozenset((names[i], names[j])) for i, j in zip(*np.nonzero(pdag), strict=True)}
    assert skel == {frozenset(e) for e in g.edges}
    idx = {v: k for k, v in enumerate(names)}

    def kind(a, b):
        i, j = idx[a], idx[b]
        return "-" if pdag[i, j] and pdag[j, i] else ("->" if pdag[i, j] else "<-")

    # E -> X2 <- Y and E -> X4 <- X1 are v-structures; then Meek R1 orients X2 -> X3 <- X4
    # and X3 -> X5; the edge X1 - Y is not identifiable (X1 -> Y -> X2 vs Y -> X1).
    assert kind("Y", "X2") == "->" and kind("X1", "X4") == "->"
    assert kind("X2", "X3") == "->" and kind("X4", "X3") == "->" and kind("X3", "X5") == "->"
    assert kind("X1", "Y") == "-"


def test_meek_rules_and_dag_extension():
    # context 0 -> 1 (background knowledge), then R1: 0 -> 1 - 2, 0 and 2 non-adjacent
    chain = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=bool)
    out, _ = orient(chain, {(0, 2): (1,)}, context=0)
    assert out.tolist() == [[0, 1, 0], [0, 0, 1], [0, 0, 0]]
    # a chain with no v-structures stays undirected, and its extension is a DAG
    adj = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=bool)
    pdag, _ = orient(adj, {(0, 2): (1,)})
    assert pdag.tolist() == adj.astype(int).tolist()
    dag = extend_to_dag(pdag)
    assert nx.is_directed_acyclic_graph(nx.DiGraph(dag))
    assert int(dag.sum()) == 2
    # v-structure 0 -> 1 <- 2, then R1 orients 1 -> 3
    adj = np.zeros((4, 4), dtype=bool)
    for a, b in [(0, 1), (2, 1), (1, 3)]:
        adj[a, b] = adj[b, a] = True
    pdag, _ = orient(adj, {(0, 2): (), (0, 3): (1,), (2, 3): (1,)})
    assert pdag[0, 1] and not pdag[1, 0] and pdag[2, 1] and not pdag[1, 2]
    assert pdag[1, 3] and not pdag[3, 1]


# ------------------------------------------------------------------------------ public function


def test_discovery_recovers_skeleton_mutable_set_and_identifiable_orientations():
    df = _sem()
    res = discover_graph(df, "env", target="Y", alpha=0.01)
    assert isinstance(res, DiscoveryResult)
    assert res.mutable == MUTABLE
    est = {frozenset(e) for e in res.graph.to_undirected().edges}
    assert est == {frozenset(e) for e in TRUE_EDGES}
    oracle, _ = _oracle_pdag()
    np.testing.assert_array_equal(res.pdag, oracle)
    assert res.undirected_edges == [("Y", "X1")]
    assert res.graph.edges["Y", "X1"]["directed"] is False
    assert res.graph.edges["X2", "X3"]["directed"] is True
    assert res.separating_set("X5", "Y") == ("X3", "E")
    assert res.separating_set("Y", "X2") is None
    text = str(res.summary())
    assert "{X2, X4}" in text and "Y — X1" in text and "causal sufficiency" in text
    assert "<table" in res._repr_html_()
    # the augmented graph feeds the causal minimax regressor
    with pytest.raises(ValueError, match="undirected"):
        res.to_augmented_graph()
    aug = res.to_augmented_graph(undirected="extend")
    assert sorted(aug.successors("E")) == ["X2", "X4"]
    assert nx.is_directed_acyclic_graph(aug)
    est = CausalMinimaxRegressor(graph=aug, target="Y")
    assert est.graph is aug
    from causalminimax.graph import stable_components

    assert stable_components(aug, target="Y").mutable == ("X2", "X4")


def test_discovery_is_deterministic_and_accepts_label_arrays():
    df = _sem(n_per_env=120, n_env=3, seed=3)
    env = df.pop("env").to_numpy()
    small = df[["Y", "X1", "X2"]]
    a = discover_graph(small, env, test="kci", max_samples=150, rng=5)
    b = discover_graph(small, env, test="kci", max_samples=150, rng=5)
    np.testing.assert_array_equal(a.pdag, b.pdag)
    assert a.sepsets == b.sepsets and a.n_used == 150
    c = discover_graph(df, env, max_condition_size=0)
    assert all(len([v for v in s if v != "E"]) == 0 for s in c.sepsets.values())


def test_bad_inputs_give_clear_errors():
    df = _sem(n_per_env=40, n_env=2)
    with pytest.raises(ValueError, match="single environment"):
        discover_graph(df.drop(columns="env"), np.zeros(len(df)))
    bad = df.copy()
    bad.loc[3, "X2"] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        discover_graph(bad, "env")
    bad = df.copy()
    bad["label"] = "a"
    with pytest.raises(TypeError, match="not numeric"):  # as for `X` in the estimators
        discover_graph(bad, "env")
    with pytest.raises(ValueError, match="not a column"):
        discover_graph(df, "site")
    with pytest.raises(ValueError, match="`target`"):
        discover_graph(df, "env", target="Z")
    with pytest.raises(ValueError, match="one label per row"):
        discover_graph(df, np.zeros(3))
    with pytest.raises(ValueError, match="`test`"):
        discover_graph(df, "env", test="gsq")
    with pytest.raises(ValueError, match="alpha"):
        discover_graph(df, "env", alpha=5)
    with pytest.raises(ValueError, match="at least"):
        discover_graph(df.iloc[:45], "env")
    const = df.assign(X5=1.0)
    with pytest.raises(ValueError, match="constant"):
        discover_graph(const, "env")


def test_random_state_is_the_old_name_of_rng():
    df = _sem(n_per_env=120, n_env=3, seed=3)
    env = df.pop("env").to_numpy()
    small = df[["Y", "X1", "X2"]]
    new = discover_graph(small, env, test="kci", max_samples=150, rng=5)
    with pytest.warns(FutureWarning, match=r"`random_state` of discover_graph\(\) is renamed"):
        old = discover_graph(small, env, test="kci", max_samples=150, random_state=5)
    np.testing.assert_array_equal(new.pdag, old.pdag)
    assert new.sepsets == old.sepsets
    with pytest.raises(TypeError, match="`rng` twice"):
        discover_graph(small, env, rng=1, random_state=1)
    with pytest.raises(TypeError, match="`rng`"):
        discover_graph(small, env, test="kci", rng="5")
