"""Edge cases of every public callable of causalminimax (issue 11).

Each case asserts the right answer, or a ValueError/TypeError whose message names the
argument. Data are tiny and the estimator settings minimal, so the whole module runs in a few
seconds; the exponential cases must hit the ``max_subsets`` guard before any work.

Case ids start with the callable; ``new-`` marks cases of arguments added by this change
(``max_subsets``), which have no counterpart in the original code.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression
from sklearn.neural_network import MLPRegressor

from causalminimax import (
    CausalMinimaxRegressor,
    InterventionModel,
    default_estimator,
    discover_graph,
    equivalence_classes,
    representatives,
    stable_components,
)
from causalminimax.baselines import (
    AnchorRegression,
    InvariantCausalPrediction,
    PooledERM,
    StableSetRegressor,
)
from causalminimax.datasets import impc_graph, load_impc, simulate_paper, simulation_graph
from causalminimax.discovery import fisher_z_test, kci_test
from causalminimax.evaluation import max_test_mse, standardize_split
from estkit import DegenerateDataWarning, EstkitWarning

# ----------------------------------------------------------------------------- tiny data
G = [("Y", "M"), ("M", "X1"), ("Y", "X1"), ("E", "M")]  # the search runs (X1 ∈ K ∩ Ch(Y))
FAST = InterventionModel(n_restarts=1, n_iter=1, batch=2, n_eval=20)


def _data(n: int = 40, seed: int = 0) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    rng = np.random.default_rng(seed)
    e = np.repeat([0, 1], n // 2)
    y = rng.normal(size=n)
    m = (1 + 2 * e) * y + rng.normal(size=n)
    x1 = y + m + rng.normal(size=n)
    idx = pd.Index([f"r{i}" for i in range(n)])
    X = pd.DataFrame({"M": m, "X1": x1}, index=idx)
    return X, pd.Series(y, index=idx, name="Y"), pd.Series(e, index=idx, name="E")


X, Y, ENV = _data()
PERM = np.random.default_rng(1).permutation(len(Y))
Y_SHUF, ENV_SHUF = Y.iloc[PERM], ENV.iloc[PERM]


def cm(**kw: Any) -> CausalMinimaxRegressor:
    kw.setdefault("graph", G)
    kw.setdefault("estimator", LinearRegression())
    kw.setdefault("intervention_model", FAST)
    kw.setdefault("n_do_samples", 50)
    kw.setdefault("random_state", 0)
    return CausalMinimaxRegressor(**kw)


def fit(X_=None, y=None, env=None, **kw: Any) -> CausalMinimaxRegressor:
    return cm(**kw).fit(X if X_ is None else X_, Y if y is None else y, ENV if env is None else env)


REF = fit()  # the reference fit on aligned inputs


def same_fit(est: CausalMinimaxRegressor) -> bool:
    return est.worst_case_risk_.equals(REF.worst_case_risk_) and (
        est.selected_subset_ == REF.selected_subset_
    )


def finite_fit(est: CausalMinimaxRegressor) -> bool:
    return bool(np.all(np.isfinite(est.worst_case_risk_.to_numpy())))


def star(k: int) -> list[tuple[str, str]]:
    """Target with k stable children and one mutable child: at least 2^k classes."""
    edges = [("Y", f"S{i}") for i in range(k)] + [("Y", "M"), ("M", "S0"), ("E", "M")]
    return edges


def star_data(k: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    cols = [*(f"S{i}" for i in range(k)), "M"]
    return pd.DataFrame(rng.normal(size=(40, k + 1)), columns=cols, index=X.index)


def with_na(df: pd.DataFrame, dtype: str = "Int64") -> pd.DataFrame:
    out = df.round().astype(dtype)
    out.iloc[3, 0] = pd.NA
    return out


def chain(k: int) -> list[tuple[str, str]]:
    return [("Y", "X1")] + [(f"X{i}", f"X{i + 1}") for i in range(1, k)]


def complete(k: int) -> list[tuple[str, str]]:
    return list(itertools.combinations(["Y"] + [f"X{i}" for i in range(1, k)], 2))


# ----------------------------------------------------------------------------- cases
@dataclass
class Case:
    id: str
    call: Callable[[], Any]
    raises: type[BaseException] | tuple[type[BaseException], ...] | None = None
    match: str | None = None
    check: Callable[[Any], bool] | None = None
    warns: type[Warning] | None = None


CASES: list[Case] = []


def ok(id: str, call: Callable[[], Any], check: Callable[[Any], bool], warns=None, match=None):
    CASES.append(Case(id, call, check=check, warns=warns, match=match))


def err(id: str, call: Callable[[], Any], exc, match: str):
    CASES.append(Case(id, call, raises=exc, match=match))


# --- CausalMinimaxRegressor.fit: inputs
ok("cm.fit-numpy-y", lambda: fit(y=Y.to_numpy()), same_fit)
ok("cm.fit-shuffled-y-series", lambda: fit(y=Y_SHUF), same_fit)
ok("cm.fit-shuffled-env-series", lambda: fit(env=ENV_SHUF), same_fit)
err("cm.fit-y-other-labels", lambda: fit(y=Y.set_axis(range(40))), ValueError, "`y`")
err(
    "cm.fit-env-other-labels", lambda: fit(env=ENV.set_axis(range(40))), ValueError, "`environment`"
)
ok(
    "cm.fit-numpy-y-positional",
    lambda: fit(X.reset_index(drop=True), Y.to_numpy(), ENV.to_numpy()),
    same_fit,
)
err("cm.fit-X-numpy", lambda: fit(X.to_numpy()), TypeError, "`X`")
err(
    "cm.fit-X-nan",
    lambda: fit(X.assign(M=np.where(X.index == "r3", np.nan, X.M))),
    ValueError,
    "`X`",
)
err("cm.fit-X-inf", lambda: fit(X.assign(X1=np.inf)), ValueError, "`X`")
err("cm.fit-y-nan", lambda: fit(y=Y.where(Y.index != "r2")), ValueError, "`y`")
err("cm.fit-y-inf", lambda: fit(y=Y.replace(Y.iloc[0], np.inf)), ValueError, "`y`")
err(
    "cm.fit-env-nan",
    lambda: fit(env=ENV.astype(float).where(ENV.index != "r1")),
    ValueError,
    "`environment`",
)
err("cm.fit-env-none", lambda: cm().fit(X, Y), ValueError, "`environment`")
err("cm.fit-env-single", lambda: fit(env=pd.Series(0, index=X.index)), ValueError, "`environment`")
err("cm.fit-env-scalar", lambda: cm().fit(X, Y, environment=1), TypeError, "`environment`")
ok(
    "cm.fit-env-one-row",
    lambda: fit(env=pd.Series(np.r_[np.zeros(39), 1], index=X.index)),
    finite_fit,
)
err("cm.fit-y-short", lambda: fit(y=Y.to_numpy()[:-1]), ValueError, "`y`")
err("cm.fit-env-short", lambda: fit(env=ENV.to_numpy()[:-1]), ValueError, "`environment`")
err(
    "cm.fit-empty",
    lambda: fit(X.iloc[:0], Y.iloc[:0], ENV.iloc[:0]),
    ValueError,
    "`y`|`environment`",
)
ok("cm.fit-constant-stable-column", lambda: fit(X.assign(X1=2.5)), finite_fit)
err("cm.fit-constant-mutable-column", lambda: fit(X.assign(M=1.0)), ValueError, "`X`.*mutable")
ok(
    "cm.fit-constant-y",
    lambda: fit(y=pd.Series(7.3, index=X.index)),
    lambda e: bool((e.worst_case_risk_ == 0).all()) and e.selected_subset_ == (),
    warns=DegenerateDataWarning,
    match="constant",
)
ok(
    "cm.fit-integer-X",
    lambda: fit(X.round().astype(int)),
    lambda e: e.worst_case_risk_.equals(fit(X.round()).worst_case_risk_),
)
ok(
    "cm.fit-nullable-Int64-X",
    lambda: fit(X.round().astype("Int64")),
    lambda e: e.worst_case_risk_.equals(fit(X.round()).worst_case_risk_),
)
ok(
    "cm.fit-float32-X",
    lambda: fit(X.astype("float32")),
    lambda e: np.allclose(
        e.worst_case_risk_, fit(X.astype("float32").astype(float)).worst_case_risk_
    ),
)
ok("cm.fit-bool-env", lambda: fit(env=ENV.astype(bool)), same_fit)
err("cm.fit-Int64-X-with-NA", lambda: fit(with_na(X)), ValueError, "`X`")
err("cm.fit-Int64-y-with-NA", lambda: fit(y=with_na(Y.to_frame())["Y"]), ValueError, "`y`")
err("cm.fit-X-strings", lambda: fit(X.assign(X1="a")), TypeError, "`X`")
err("cm.fit-X-1e300", lambda: fit(X * 1e300), ValueError, "`X`.*magnitude")
err("cm.fit-y-1e300", lambda: fit(y=Y * 1e300), ValueError, "`y`.*magnitude")
err("cm.fit-y-1e-300", lambda: fit(y=Y * 1e-300), ValueError, "`y`.*magnitude")
ok(
    "cm.fit-y-plus-1e6",
    lambda: fit(y=Y + 1e6),
    lambda e: finite_fit(e) and e.worst_case_risk_.max() < 1e3,
)
ok(
    "cm.fit-y-plus-1e12",
    lambda: fit(y=Y + 1e12),
    lambda e: np.allclose(e.worst_case_risk_, REF.worst_case_risk_, rtol=1e-4),
)
ok(
    "cm.fit-scaled-1e50",
    lambda: fit(X * 1e50, y=Y * 1e50),
    lambda e: np.allclose(e.worst_case_risk_ / 1e100, REF.worst_case_risk_, rtol=1e-9),
)
ok(
    "cm.fit-scaled-1e-50",
    lambda: fit(X * 1e-50, y=Y * 1e-50),
    lambda e: np.allclose(e.worst_case_risk_ / 1e-100, REF.worst_case_risk_, rtol=1e-9),
)
err("cm.fit-y-two-columns", lambda: fit(y=pd.concat([Y, Y], axis=1)), ValueError, "`y`")
err(
    "cm.fit-X-duplicate-columns",
    lambda: fit(pd.concat([X, X[["M"]]], axis=1)),
    ValueError,
    "`X`.*duplicated",
)
err("cm.fit-X-extra-column", lambda: fit(X.assign(Z=1.0)), ValueError, "`X`")
err("cm.fit-X-missing-column", lambda: fit(X[["M"]]), ValueError, "`X`")
# --- options
err("cm.mutable-contradicts-graph", lambda: fit(mutable=["X1"]), ValueError, "`mutable`.*'M'")
ok("cm.mutable-agrees-with-graph", lambda: fit(mutable=["M"]), same_fit)
err("cm.search-bad", lambda: fit(search="yes"), ValueError, "`search`")
err("cm.search_space-bool", lambda: fit(search_space=True), ValueError, "`search_space`")
err("cm.n_do_samples-str", lambda: fit(n_do_samples="100"), TypeError, "`n_do_samples`")
err("cm.n_do_samples-bool", lambda: fit(n_do_samples=True), TypeError, "`n_do_samples`")
err("cm.n_do_samples-small", lambda: fit(n_do_samples=3), ValueError, "`n_do_samples`")
err("cm.n_jobs-str", lambda: fit(n_jobs="2"), TypeError, "`n_jobs`")
err("cm.n_jobs-zero", lambda: fit(n_jobs=0), ValueError, "`n_jobs`")
err("cm.n_jobs-float", lambda: fit(n_jobs=1.5), TypeError, "`n_jobs`")
err("cm.random_state-str", lambda: fit(random_state="0"), TypeError, "`random_state`")
err(
    "cm.intervention_model-str",
    lambda: fit(intervention_model="linear"),
    TypeError,
    "`intervention_model`",
)
ok(
    "cm.estimator-not-converging",
    lambda: fit(estimator=MLPRegressor(hidden_layer_sizes=(3,), max_iter=2, random_state=0)),
    finite_fit,
    warns=EstkitWarning,
    match="did not converge",
)
err("cm.estimator-str", lambda: fit(estimator="ols"), TypeError, "`estimator`")
err("new-cm.max_subsets-zero", lambda: fit(max_subsets=0), ValueError, "`max_subsets`")
err("new-cm.max_subsets-float", lambda: fit(max_subsets=1e5), TypeError, "`max_subsets`")
# --- InterventionModel
err(
    "im.bound-str", lambda: fit(intervention_model=InterventionModel(bound="4")), TypeError, "bound"
)
err(
    "im.bound-bool",
    lambda: fit(intervention_model=InterventionModel(bound=True)),
    TypeError,
    "bound",
)
err(
    "im.bound-negative",
    lambda: fit(intervention_model=InterventionModel(bound=-1.0)),
    ValueError,
    "bound",
)
err(
    "im.bound-nan",
    lambda: fit(intervention_model=InterventionModel(bound=np.nan)),
    ValueError,
    "bound",
)
err(
    "im.length_scale-zero",
    lambda: InterventionModel(length_scale=0.0).validated(),
    ValueError,
    "length_scale",
)
err(
    "im.standardize-str",
    lambda: InterventionModel(standardize="no").validated(),
    TypeError,
    "standardize",
)
err(
    "im.n_restarts-zero",
    lambda: InterventionModel(n_restarts=0).validated(),
    ValueError,
    "n_restarts",
)
err("im.n_iter-float", lambda: InterventionModel(n_iter=2.0).validated(), TypeError, "n_iter")
err("im.basis-bad", lambda: InterventionModel(basis="poly").validated(), ValueError, "basis")
ok("im.valid", lambda: InterventionModel(bound=1.5).validated(), lambda m: m.bound == 1.5)
# --- graphs given to the estimator
err("cm.graph-none", lambda: fit(graph=None), ValueError, "`graph`")
err("cm.graph-cyclic", lambda: fit(graph=[*G, ("X1", "Y")]), ValueError, "`graph`.*acyclic")
err("cm.graph-missing-target", lambda: fit(graph=[("M", "X1"), ("E", "M")]), ValueError, "`target`")
err("cm.graph-no-environment-node", lambda: fit(graph=G[:3]), ValueError, "`mutable`")
err("cm.graph-string-edges", lambda: fit(graph=["YM", "MX", "EM"]), ValueError, "`graph`")
err("cm.graph-string", lambda: fit(graph="Y->M"), (TypeError, ValueError), "`graph`")
err("cm.graph-numpy-adjacency", lambda: fit(graph=np.eye(4, k=1)), TypeError, "`graph`")
err("cm.graph-undirected", lambda: fit(graph=nx.Graph(G)), TypeError, "`graph`")
err("cm.graph-unhashable-node", lambda: fit(graph=[(["Y"], "M")]), TypeError, "`graph`")
err("cm.graph-unknown-node", lambda: fit(graph=[*G, ("Y", "Z")]), ValueError, "`X`")
err(
    "cm.graph-environment-with-parent",
    lambda: fit(graph=[*G, ("Y", "E")]),
    ValueError,
    "environment node",
)
err("cm.target-unhashable", lambda: fit(target=["Y"]), TypeError, "`target`")
err("cm.target-is-environment", lambda: fit(target="E"), ValueError, "`target`")
ok("cm.graph-mapping", lambda: fit(graph={"Y": ["M", "X1"], "M": ["X1"], "E": ["M"]}), same_fit)
ok(
    "cm.graph-labelled-adjacency",
    lambda: fit(graph=nx.to_pandas_adjacency(nx.DiGraph(G))),
    same_fit,
)
ok("cm.graph-networkx", lambda: fit(graph=nx.DiGraph(G)), same_fit)
# --- exponential enumeration: refused at once
err(
    "cm.hang-18-stable-children",
    lambda: fit(star_data(18), graph=star(18)),
    ValueError,
    "2\\^18.*`max_subsets`",
)
err(
    "cm.hang-search-all-20-stable",
    lambda: fit(star_data(20), graph=star(20), search_space="all"),
    ValueError,
    '(`max_subsets`|2\\^20|use "classes")',
)
# --- predict / score / summary / predict_subset
err("cm.predict-missing-column", lambda: REF.predict(X[["X1"]]), ValueError, "`X`")
err("cm.predict-nan", lambda: REF.predict(X.assign(M=np.nan)), ValueError, "`X`")
err("cm.predict-numpy", lambda: REF.predict(X.to_numpy()), TypeError, "`X`")
err("cm.predict-unfitted", lambda: cm().predict(X), NotFittedError, "not fitted")
ok(
    "cm.predict-row-order",
    lambda: REF.predict(X.iloc[PERM]),
    lambda p: np.allclose(p, REF.predict(X)[PERM]),
)
ok("cm.score-shuffled-y", lambda: REF.score(X, Y_SHUF), lambda s: np.isclose(s, REF.score(X, Y)))
ok("cm.score-numpy-y", lambda: REF.score(X, Y.to_numpy()), lambda s: np.isclose(s, REF.score(X, Y)))
err("cm.score-other-labels", lambda: REF.score(X, Y.set_axis(range(40))), ValueError, "`y`")
ok("cm.predict_subset-string", lambda: REF.predict_subset(X, "X1"), lambda p: p.shape == (40,))
ok(
    "cm.predict_subset-any-order",
    lambda: REF.predict_subset(X, []),
    lambda p: np.allclose(p, REF.stable_predictors_[()].predict(np.c_[X.M])),
)
err("cm.predict_subset-unknown", lambda: REF.predict_subset(X, ["Z"]), ValueError, "`subset`")
ok("cm.summary", lambda: str(REF.summary()), lambda t: "Selected subset" in t)
err("cm.summary-unfitted", lambda: cm().summary(), NotFittedError, "not fitted")
ok(
    "cm.feature_names_in_-all-columns",
    lambda: REF.feature_names_in_,
    lambda f: list(f) == ["M", "X1"] and REF.n_features_in_ == 2,
)


# --- StableSetRegressor
def ssr(**kw: Any) -> StableSetRegressor:
    kw.setdefault("graph", G)
    kw.setdefault("estimator", LinearRegression())
    kw.setdefault("n_do_samples", 50)
    kw.setdefault("random_state", 0)
    return StableSetRegressor(**kw)


SSR = ssr().fit(X, Y, ENV)
ok(
    "ssr.fit-shuffled-y",
    lambda: ssr().fit(X, Y_SHUF, ENV),
    lambda e: np.allclose(e.predict(X), SSR.predict(X)),
)
ok("ssr.subset-string", lambda: ssr(subset="X1").fit(X, Y, ENV), lambda e: e.subset_ == ("X1",))
err("ssr.subset-non-stable", lambda: ssr(subset=["M"]).fit(X, Y, ENV), ValueError, "`subset`")
err(
    "ssr.n_do_samples-str",
    lambda: ssr(n_do_samples="100").fit(X, Y, ENV),
    TypeError,
    "`n_do_samples`",
)
err("ssr.graph-none", lambda: ssr(graph=None).fit(X, Y, ENV), ValueError, "`graph`")
err("ssr.env-single", lambda: ssr().fit(X, Y, np.zeros(40)), ValueError, "`environment`")
err("ssr.X-nan", lambda: ssr().fit(X.assign(X1=np.nan), Y, ENV), ValueError, "`X`")
err(
    "ssr.mutable-contradicts-graph",
    lambda: ssr(mutable=["X1"]).fit(X, Y, ENV),
    ValueError,
    "`mutable`",
)
ok("ssr.score-shuffled-y", lambda: SSR.score(X, Y_SHUF), lambda s: np.isclose(s, SSR.score(X, Y)))
err("ssr.predict-missing-column", lambda: SSR.predict(X[["X1"]]), ValueError, "`X`")

# --- PooledERM
ERM = PooledERM(estimator=LinearRegression()).fit(X, Y, ENV)
ok(
    "erm.fit-shuffled-y",
    lambda: PooledERM(estimator=LinearRegression()).fit(X, Y_SHUF, ENV),
    lambda e: np.allclose(e.model_.coef_, ERM.model_.coef_),
)
ok(
    "erm.estimator-not-converging",
    lambda: PooledERM(
        estimator=MLPRegressor(hidden_layer_sizes=(3,), max_iter=2, random_state=0)
    ).fit(X, Y),
    lambda e: e.predict(X).shape == (40,),
    warns=EstkitWarning,
    match="did not converge",
)
err("erm.fit-X-numpy", lambda: PooledERM().fit(X.to_numpy(), Y), TypeError, "`X`")
err("erm.fit-y-nan", lambda: PooledERM().fit(X, Y.where(Y > 0)), ValueError, "`y`")
err(
    "erm.fit-Int64-X-with-NA",
    lambda: PooledERM().fit(with_na(X), Y),
    ValueError,
    "`X`",
)
err(
    "erm.fit-env-other-labels",
    lambda: PooledERM().fit(X, Y, ENV.set_axis(range(40))),
    ValueError,
    "`environment`",
)
err("erm.predict-missing-column", lambda: ERM.predict(X[["M"]]), ValueError, "`X`")
ok("erm.score-shuffled-y", lambda: ERM.score(X, Y_SHUF), lambda s: np.isclose(s, ERM.score(X, Y)))


# --- InvariantCausalPrediction
def _icp_data(n: int = 60):
    rng = np.random.default_rng(4)
    e = np.repeat([0, 1, 2], n // 3)
    x1 = rng.normal(size=n) + 2 * e
    y = x1 + 0.3 * rng.normal(size=n)
    x2 = y + e * rng.normal(size=n)
    idx = pd.Index([f"u{i}" for i in range(n)])
    return (
        pd.DataFrame({"x1": x1, "x2": x2}, index=idx),
        pd.Series(y, index=idx),
        pd.Series(e, index=idx),
    )


IX, IY, IE = _icp_data()
ICP = InvariantCausalPrediction().fit(IX, IY, IE)
IPERM = np.random.default_rng(2).permutation(60)
err(
    "icp.max_subset_size-negative",
    lambda: InvariantCausalPrediction(max_subset_size=-1).fit(IX, IY, IE),
    ValueError,
    "`max_subset_size`",
)
err(
    "icp.max_subset_size-str",
    lambda: InvariantCausalPrediction(max_subset_size="2").fit(IX, IY, IE),
    TypeError,
    "`max_subset_size`",
)
err(
    "icp.alpha-large",
    lambda: InvariantCausalPrediction(alpha=1.5).fit(IX, IY, IE),
    ValueError,
    "`alpha`",
)
err(
    "icp.alpha-bool",
    lambda: InvariantCausalPrediction(alpha=True).fit(IX, IY, IE),
    ValueError,
    "`alpha`",
)
ok(
    "icp.fit-shuffled-y",
    lambda: InvariantCausalPrediction().fit(IX, IY.iloc[IPERM], IE),
    lambda e: e.accepted_ == ICP.accepted_ and np.allclose(e.coef_, ICP.coef_),
)
ok(
    "icp.fit-shuffled-env",
    lambda: InvariantCausalPrediction().fit(IX, IY, IE.iloc[IPERM]),
    lambda e: e.accepted_ == ICP.accepted_,
)
err(
    "icp.env-one-row",
    lambda: InvariantCausalPrediction().fit(IX, IY, np.r_[np.zeros(59), 1]),
    ValueError,
    "`environment`",
)
ok(
    "icp.constant-y",
    lambda: InvariantCausalPrediction().fit(IX, pd.Series(3.0, index=IX.index), IE),
    lambda e: e.selected_subset_ == () and np.allclose(e.predict(IX), 3.0),
    warns=DegenerateDataWarning,
    match="constant",
)
ok(
    "icp.exact-fit-residue",
    lambda: InvariantCausalPrediction().fit(IX, 2.0 * IX["x1"], IE),
    lambda e: e.selected_subset_ == ("x1",),
)
err(
    "icp.hang-24-columns",
    lambda: InvariantCausalPrediction().fit(
        pd.DataFrame(np.random.default_rng(0).normal(size=(60, 24))).add_prefix("c"),
        IY.to_numpy(),
        IE.to_numpy(),
    ),
    ValueError,
    "`max_subsets`",
)
err(
    "new-icp.max_subsets-str",
    lambda: InvariantCausalPrediction(max_subsets="many").fit(IX, IY, IE),
    TypeError,
    "`max_subsets`",
)
ok(
    "icp.score-shuffled-y",
    lambda: ICP.score(IX, IY.iloc[IPERM]),
    lambda s: np.isclose(s, ICP.score(IX, IY)),
)

# --- AnchorRegression
ANC = AnchorRegression().fit(IX, IY, IE)
err("anchor.gamma-str", lambda: AnchorRegression(gamma="5").fit(IX, IY, IE), TypeError, "`gamma`")
err("anchor.gamma-bool", lambda: AnchorRegression(gamma=True).fit(IX, IY, IE), TypeError, "`gamma`")
err(
    "anchor.gamma-negative",
    lambda: AnchorRegression(gamma=-1.0).fit(IX, IY, IE),
    ValueError,
    "`gamma`",
)
err(
    "anchor.gamma-nan",
    lambda: AnchorRegression(gamma=np.nan).fit(IX, IY, IE),
    ValueError,
    "`gamma`",
)
ok(
    "anchor.fit-shuffled-y",
    lambda: AnchorRegression().fit(IX, IY.iloc[IPERM], IE),
    lambda e: np.allclose(e.coef_, ANC.coef_),
)
ok(
    "anchor.fit-shuffled-env",
    lambda: AnchorRegression().fit(IX, IY, IE.iloc[IPERM]),
    lambda e: np.allclose(e.coef_, ANC.coef_),
)
err(
    "anchor.fit-env-other-labels",
    lambda: AnchorRegression().fit(IX, IY, IE.set_axis(range(60))),
    ValueError,
    "`environment`",
)
ok(
    "anchor.constant-y",
    lambda: AnchorRegression().fit(IX, pd.Series(2.0, index=IX.index), IE),
    lambda e: np.allclose(e.coef_, 0.0),
)
err("anchor.X-1e300", lambda: AnchorRegression().fit(IX * 1e300, IY, IE), ValueError, "`X`")
err(
    "anchor.env-single",
    lambda: AnchorRegression().fit(IX, IY, np.zeros(60)),
    ValueError,
    "`environment`",
)

# --- graph functions
err(
    "graph.mutable-contradicts",
    lambda: stable_components(G, "Y", mutable=["X1"]),
    ValueError,
    "`mutable`",
)
err(
    "graph.mutable-is-environment",
    lambda: stable_components(G, "Y", mutable=["E", "M"]),
    ValueError,
    "`mutable`",
)
err(
    "graph.string-edges",
    lambda: stable_components(["YM", "MX"], "Y", mutable=[]),
    ValueError,
    "`graph`",
)
ok(
    "graph.mapping",
    lambda: stable_components({"Y": ["M", "X1"], "M": ["X1"], "E": ["M"]}),
    lambda c: c == stable_components(G),
)
ok(
    "graph.labelled-adjacency",
    lambda: stable_components(nx.to_pandas_adjacency(nx.DiGraph(G))),
    lambda c: c == stable_components(G),
)
err(
    "graph.adjacency-mismatched-labels",
    lambda: stable_components(pd.DataFrame([[0, 1], [0, 0]], index=["Y", "A"], columns=["A", "B"])),
    ValueError,
    "`graph`",
)
err(
    "graph.numpy-adjacency",
    lambda: stable_components(np.array([[0, 1], [0, 0]]), "Y", mutable=[]),
    TypeError,
    "`graph`",
)
ok(
    "graph.numpy-edge-array",
    lambda: stable_components(np.array(G), "Y"),
    lambda c: c == stable_components(G),
)
err(
    "graph.three-tuples",
    lambda: stable_components([("Y", "M", "X")], "Y", mutable=[]),
    ValueError,
    "`graph`",
)
ok(
    "graph.mutable-single-string",
    lambda: stable_components(G[:3], "Y", mutable="M"),
    lambda c: c.mutable == ("M",),
)
err(
    "graph.mutable-unknown",
    lambda: stable_components(G[:3], "Y", mutable=["Z"]),
    ValueError,
    "`mutable`",
)
err(
    "graph.cyclic",
    lambda: stable_components([("Y", "A"), ("A", "Y")], "Y", mutable=[]),
    ValueError,
    "`graph`",
)
err(
    "graph.self-loop",
    lambda: stable_components([("Y", "A"), ("A", "A")], "Y", mutable=[]),
    ValueError,
    "`graph`",
)
err(
    "graph.missing-target",
    lambda: representatives([("A", "B")], "Y", mutable=[]),
    ValueError,
    "`target`",
)
err("graph.target-unhashable", lambda: representatives(G, ["Y"]), TypeError, "`target`")
err("graph.missing-environment", lambda: equivalence_classes(G[:3], "Y"), ValueError, "`mutable`")
ok(
    "graph.representatives-chain-30",
    lambda: representatives(chain(30), "Y", mutable=[]),
    lambda r: len(r) == 31,
)
err(
    "graph.hang-classes-chain-30",
    lambda: equivalence_classes(chain(30), "Y", mutable=[]),
    ValueError,
    "2\\^30.*`max_subsets`",
)
err(
    "graph.hang-representatives-complete-18",
    lambda: representatives(complete(18), "Y", mutable=[]),
    ValueError,
    "2\\^17.*`max_subsets`",
)
err(
    "graph.hang-classes-complete-18",
    lambda: equivalence_classes(complete(18), "Y", mutable=[]),
    ValueError,
    "2\\^17.*`max_subsets`",
)
ok(
    "new-graph.max_subsets-explicit-raise",
    lambda: representatives(star(10), "Y", max_subsets=2**10),
    lambda r: len(r) == 2**10,
)
err(
    "new-graph.max_subsets-explicit-lower",
    lambda: representatives(star(10), "Y", max_subsets=2**10 - 1),
    ValueError,
    "2\\^10 = 1,024.*`max_subsets`=1,023",
)
err(
    "new-graph.max_subsets-zero",
    lambda: representatives(G, "Y", max_subsets=0),
    ValueError,
    "`max_subsets`",
)
err(
    "new-graph.max_subsets-bool",
    lambda: equivalence_classes(G, "Y", max_subsets=True),
    TypeError,
    "`max_subsets`",
)
err(
    "new-graph.max_subsets-passed-while-enumerating",
    lambda: representatives(chain(30), "Y", mutable=[], max_subsets=10),
    ValueError,
    "explored more than 10 subsets",
)


# --- discover_graph
def _disc_data(n: int = 60):
    rng = np.random.default_rng(5)
    e = np.repeat([0, 1, 2], n // 3)
    y = rng.normal(size=n)
    m = (1 + e) * y + rng.normal(size=n)
    x = m + rng.normal(size=n)
    idx = pd.Index([f"d{i}" for i in range(n)])
    return pd.DataFrame({"Y": y, "M": m, "X": x}, index=idx), pd.Series(e, index=idx)


DD, DE = _disc_data()
DISC = discover_graph(DD, DE)
DPERM = np.random.default_rng(3).permutation(60)
err(
    "discover.nan",
    lambda: discover_graph(DD.assign(M=DD.M.where(DD.M > 0)), DE),
    ValueError,
    "`data`",
)
err(
    "discover.constant-column", lambda: discover_graph(DD.assign(X=1.0), DE), ValueError, "constant"
)
err(
    "discover.too-few-rows",
    lambda: discover_graph(DD.iloc[::10], DE.iloc[::10]),
    ValueError,
    "observations",
)
err("discover.alpha-str", lambda: discover_graph(DD, DE, alpha="0.01"), ValueError, "`alpha`")
err("discover.test-bad", lambda: discover_graph(DD, DE, test="pearson"), ValueError, "`test`")
err(
    "discover.max_condition_size-bool",
    lambda: discover_graph(DD, DE, max_condition_size=True),
    TypeError,
    "`max_condition_size`",
)
err(
    "discover.max_condition_size-negative",
    lambda: discover_graph(DD, DE, max_condition_size=-1),
    ValueError,
    "`max_condition_size`",
)
ok(
    "discover.shuffled-env-series",
    lambda: discover_graph(DD, DE.iloc[DPERM]),
    lambda r: r.mutable == DISC.mutable and sorted(r.graph.edges) == sorted(DISC.graph.edges),
)
err(
    "discover.env-other-labels",
    lambda: discover_graph(DD, DE.set_axis(range(60))),
    ValueError,
    "`environment`",
)
err(
    "discover.Int64-with-NA",
    lambda: discover_graph(with_na(DD), DE),
    ValueError,
    "`data`",
)
err(
    "discover.single-environment",
    lambda: discover_graph(DD, np.zeros(60)),
    ValueError,
    "`environment`",
)
err("discover.env-bool", lambda: discover_graph(DD, True), (TypeError, ValueError), "`environment`")
err("discover.1e300", lambda: discover_graph(DD * 1e300, DE), ValueError, "`data`")
err(
    "discover.max_samples-small",
    lambda: discover_graph(DD, DE, test="kci", max_samples=10),
    ValueError,
    "`max_samples`",
)
ok(
    "discover.bool-column",
    lambda: discover_graph(DD.assign(B=DD.X > 0), DE),
    lambda r: "B" in r.variables,
)
err("discover.target-missing", lambda: discover_graph(DD, DE, target="Z"), ValueError, "`target`")
err(
    "discover.to_augmented_graph-bad-option",
    lambda: DISC.to_augmented_graph(undirected=True),
    ValueError,
    "`undirected`",
)

# --- CI tests
RNG = np.random.default_rng(6)
ZD = RNG.normal(size=(50, 3))
ZD[:, 1] += ZD[:, 0]
err("fisher_z.nan", lambda: fisher_z_test(np.where(ZD > 2, np.nan, ZD), 0, 1), ValueError, "`data`")
err(
    "fisher_z.constant",
    lambda: fisher_z_test(np.c_[ZD[:, :2], np.ones(50)], 0, 2),
    ValueError,
    "constant",
)
err("fisher_z.index-out-of-range", lambda: fisher_z_test(ZD, 0, 5), ValueError, "`y`")
err("fisher_z.same-column", lambda: fisher_z_test(ZD, 1, 1), ValueError, "distinct")
err(
    "fisher_z.too-few-rows",
    lambda: fisher_z_test(ZD[:4], 0, 1, [2]),
    ValueError,
    "rows|n - \\|S\\| - 3",
)
err("fisher_z.index-bool", lambda: fisher_z_test(ZD, True, 1), TypeError, "`x`")
ok(
    "fisher_z.extreme-scale",
    lambda: fisher_z_test(ZD * 1e200, 0, 1, [2]),
    lambda p: np.isclose(p, fisher_z_test(ZD, 0, 1, [2])),
)
err("kci.nan", lambda: kci_test(np.r_[np.nan, ZD[1:, 0]], ZD[:, 1]), ValueError, "`x`")
err("kci.length-mismatch", lambda: kci_test(ZD[:, 0], ZD[:40, 1]), ValueError, "`y`")
ok("kci.constant-x", lambda: kci_test(np.ones(50), ZD[:, 1]), lambda p: p == 1.0)
err("kci.ridge-str", lambda: kci_test(ZD[:, 0], ZD[:, 1], ridge="1e-3"), ValueError, "`ridge`")
ok(
    "kci.extreme-scale",
    lambda: kci_test(ZD[:, 0] * 1e300, ZD[:, 1]),
    lambda p: np.isclose(p, kci_test(ZD[:, 0], ZD[:, 1])),
)

# --- evaluation
SD = pd.DataFrame(
    {"E": np.repeat(["e1", "e2", "e3"], 4), "Y": np.arange(12.0) ** 1.5, "X": np.arange(12.0) % 5}
)
ok(
    "split.train_envs-string",
    lambda: standardize_split(SD, "e1", ["Y"]),
    lambda r: len(r[0]) == 4 and len(r[1]) == 2,
)
err(
    "split.env_col-missing",
    lambda: standardize_split(SD, ["e1"], ["Y"], env_col="env"),
    ValueError,
    "`env_col`",
)
err("split.column-missing", lambda: standardize_split(SD, ["e1"], ["Z"]), ValueError, "`data`")
err(
    "split.nan", lambda: standardize_split(SD.assign(Y=np.nan), ["e1"], ["Y"]), ValueError, "`data`"
)
err(
    "split.test-overlaps-train",
    lambda: standardize_split(SD, ["e1"], ["Y"], test_envs=["e1"]),
    ValueError,
    "`test_envs`",
)
err(
    "split.test-unknown",
    lambda: standardize_split(SD, ["e1"], ["Y"], test_envs=["e9"]),
    ValueError,
    "`test_envs`",
)
err("split.train-unknown", lambda: standardize_split(SD, ["e9"], ["Y"]), ValueError, "`train_envs`")
TE = [pd.DataFrame({"Y": [0.0, 1.0]}), pd.DataFrame({"Y": [2.0, 2.0]})]
ok("mse.valid", lambda: max_test_mse(lambda d: np.zeros(len(d)), TE), lambda v: v == 4.0)
err("mse.empty", lambda: max_test_mse(lambda d: np.zeros(len(d)), []), ValueError, "`tests`")
err("mse.wrong-length", lambda: max_test_mse(lambda d: np.zeros(1), TE), ValueError, "`predict`")
err(
    "mse.nan-prediction",
    lambda: max_test_mse(lambda d: np.full(len(d), np.nan), TE),
    ValueError,
    "`predict`",
)
err(
    "mse.target-missing",
    lambda: max_test_mse(lambda d: np.zeros(len(d)), TE, target="Z"),
    ValueError,
    "`tests",
)
err("mse.predict-not-callable", lambda: max_test_mse(3, TE), TypeError, "`predict`")

# --- datasets and defaults
err("simulate.n_per_env-float", lambda: simulate_paper(n_per_env=2.5), TypeError, "`n_per_env`")
err("simulate.n_per_env-str", lambda: simulate_paper(n_per_env="5"), TypeError, "`n_per_env`")
err("simulate.n_per_env-zero", lambda: simulate_paper(n_per_env=0), ValueError, "`n_per_env`")
err(
    "simulate.environments-float",
    lambda: simulate_paper(5, environments=[1.5, 2]),
    TypeError,
    "`environments`",
)
err(
    "simulate.environments-int",
    lambda: simulate_paper(5, environments=5),
    TypeError,
    "`environments`",
)
err(
    "simulate.environments-empty",
    lambda: simulate_paper(5, environments=[]),
    ValueError,
    "`environments`",
)
err(
    "simulate.noise_sd-negative", lambda: simulate_paper(5, noise_sd=-1.0), ValueError, "`noise_sd`"
)
err("simulate.noise_sd-nan", lambda: simulate_paper(5, noise_sd=np.nan), ValueError, "`noise_sd`")
err("simulate.rng-str", lambda: simulate_paper(5, rng="0"), TypeError, "`rng`|random_state")
ok(
    "simulate.valid",
    lambda: simulate_paper(5, environments=[1, 2], rng=0),
    lambda d: d.shape == (10, 12),
)
err(
    "simulation_graph.augmented-str",
    lambda: simulation_graph(augmented="no"),
    TypeError,
    "`augmented`",
)
err("impc_graph.augmented-str", lambda: impc_graph(augmented="no"), TypeError, "`augmented`")
ok("impc_graph.valid", lambda: impc_graph(False), lambda g: "E" not in g)
ok("load_impc", load_impc, lambda d: d.shape == (614, 8) and d["E"].nunique() == 14)
ok("default_estimator", default_estimator, lambda e: type(e).__name__ == "AdditiveSplineRidge")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_edge_case(case: Case) -> None:
    if case.raises is not None:
        with pytest.raises(case.raises, match=case.match):
            case.call()
        return
    if case.warns is not None:
        with pytest.warns(case.warns, match=case.match):
            out = case.call()
    else:
        out = case.call()
    assert case.check(out)


def test_case_ids_unique() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))


# ----------------------------------------------------------------------------- properties
@settings(max_examples=8, deadline=None)
@given(st.permutations(range(40)))
def test_any_relabelled_order_of_y_and_environment_gives_the_same_fit(perm):
    perm = list(perm)
    est = fit(y=Y.iloc[perm], env=ENV.iloc[perm])
    assert same_fit(est)
    anchor = AnchorRegression().fit(X, Y.iloc[perm], ENV.iloc[perm])
    assert np.allclose(anchor.coef_, AnchorRegression().fit(X, Y, ENV).coef_)


@settings(max_examples=8, deadline=None)
@given(
    st.one_of(
        st.just(0.0),
        st.floats(min_value=1e-6, max_value=1e6),
        st.floats(min_value=-1e6, max_value=-1e-6),
    )
)
def test_any_constant_response_has_zero_risk_and_selects_the_empty_set(value):
    with pytest.warns(DegenerateDataWarning, match="constant"):
        est = fit(y=pd.Series(value, index=X.index))
    assert (est.worst_case_risk_ == 0.0).all()
    assert est.selected_subset_ == ()
    with pytest.warns(DegenerateDataWarning, match="constant"):
        icp = InvariantCausalPrediction().fit(IX, np.full(60, value), IE)
    assert icp.selected_subset_ == ()
