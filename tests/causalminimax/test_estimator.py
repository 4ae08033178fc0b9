"""CausalMinimaxRegressor: behaviour on the paper's simulation, contract, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression

from causalminimax import CausalMinimaxRegressor, InterventionModel
from causalminimax.datasets import simulate_paper, simulation_graph
from causalminimax.evaluation import max_test_mse, standardize_split
from estkit.exceptions import DegenerateDataWarning
from tests.causalminimax.toy import CHAIN_EDGES, chain_data

COLS = ["Y"] + [f"X{i}" for i in range(1, 11)]
FAST = InterventionModel(n_restarts=2, n_iter=6, batch=6, n_eval=300)


@pytest.fixture(scope="module")
def split():
    df = simulate_paper(rng=11)
    train_envs = [1, 3, 6, 8, 9, 12, 14, 15, 18, 20]
    return standardize_split(df, train_envs, COLS)


@pytest.fixture(scope="module")
def fitted(split):
    tr, _ = split
    est = CausalMinimaxRegressor(
        graph=simulation_graph(), target="Y", intervention_model=FAST, random_state=0
    )
    return est.fit(tr.drop(columns=["Y", "E"]), tr["Y"], environment=tr["E"])


def test_simulation_choice_excludes_x1_and_beats_whole_stable_set(fitted, split):
    _, tests = split
    est = fitted
    assert not est.whole_stable_set_optimal_
    assert len(est.worst_case_risk_) == 45
    assert "X1" not in est.selected_subset_
    # the whole stable set's class is represented by {X1, X5, X6}
    whole = ("X6", "X5", "X1")
    assert whole in est.representatives_
    assert est.worst_case_risk_[whole] > est.worst_case_risk_[est.selected_subset_]
    obs_sel = max_test_mse(est.predict, tests)
    obs_whole = max_test_mse(lambda d: est.predict_subset(d, whole), tests)
    obs_all = [
        max_test_mse(lambda d, s=s: est.predict_subset(d, s), tests) for s in est.representatives_
    ]
    assert obs_sel < obs_whole
    assert obs_sel <= 1.05 * min(obs_all)


def test_fitted_attributes_and_summary(fitted):
    est = fitted
    assert isinstance(est.selected_subset_, tuple)
    assert isinstance(est.worst_case_risk_, pd.Series)
    assert est.worst_case_risk_.index.nlevels == 1
    assert est.worst_case_risk_.idxmin() == est.selected_subset_
    assert np.all(np.isfinite(est.worst_case_risk_.to_numpy()))
    text = str(est.summary())
    for piece in ["Causal minimax", "K ∩ Ch(Y) = ∅", "Selected subset", "worst-case risk"]:
        assert piece in text
    assert est.summary().as_html().startswith("<table")
    # scikit-learn convention: feature_names_in_ are all columns seen in fit (cm-trust);
    # the predictor's own inputs moved to predictor_features_
    assert list(est.predictor_features_) == [*est.selected_subset_, "X9", "X10"]
    assert list(est.feature_names_in_) == [f"X{i}" for i in range(1, 11)]


def test_deterministic_given_random_state(split):
    tr, _ = split
    X, y, e = tr.drop(columns=["Y", "E"]), tr["Y"], tr["E"]
    small = InterventionModel(n_restarts=1, n_iter=2, batch=3, n_eval=100)
    kw = {"graph": simulation_graph(), "intervention_model": small, "n_do_samples": 500}
    a = CausalMinimaxRegressor(random_state=5, **kw).fit(X, y, environment=e)
    b = CausalMinimaxRegressor(random_state=5, n_jobs=2, **kw).fit(X, y, environment=e)
    pd.testing.assert_series_equal(a.worst_case_risk_, b.worst_case_risk_)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))


def test_condition_skips_search_and_uses_whole_stable_set():
    X, y, env = chain_data(400)
    est = CausalMinimaxRegressor(graph=CHAIN_EDGES, estimator=LinearRegression(), random_state=0)
    est.fit(X, y, environment=env)
    assert est.whole_stable_set_optimal_
    assert est.selected_subset_ == ("X1", "X2")
    assert len(est.worst_case_risk_) == 1 and np.isnan(est.worst_case_risk_.iloc[0])
    assert "whole stable set is optimal" in str(est.summary())
    # the stable predictor with a linear SEM recovers E[Y | X1, M] = (X1 - M) / (1 + 0.09)
    pred = est.predict(X)
    assert np.corrcoef(pred, X["X1"] - X["M"])[0, 1] > 0.99


def test_constant_y_without_search_reports_zero_risk_as_warned():
    # the warning says every worst-case risk is reported as 0; that holds also when the
    # graphical condition skips the search (otherwise NaN: not computed)
    X, _, env = chain_data(400)
    y = pd.Series(7.3, index=X.index)
    est = CausalMinimaxRegressor(graph=CHAIN_EDGES, estimator=LinearRegression(), random_state=0)
    with pytest.warns(DegenerateDataWarning, match="reported as 0"):
        est.fit(X, y, environment=env)
    assert est.whole_stable_set_optimal_
    assert est.worst_case_risk_.tolist() == [0.0]


def test_sklearn_contract_clone_and_params():
    # parametrize_with_checks does not apply: fit needs a graph whose nodes name the
    # DataFrame columns and an `environment` argument with >= 2 environments, which the
    # generic checks (numpy arrays, no extra fit arguments) cannot provide. We check the
    # parts of the contract that do apply.
    est = CausalMinimaxRegressor(graph=simulation_graph(), random_state=3, n_jobs=2)
    params = est.get_params()
    assert params["random_state"] == 3 and params["n_jobs"] == 2
    c = clone(est)
    assert c.get_params()["random_state"] == 3
    assert c.set_params(random_state=4) is c and c.random_state == 4
    assert not hasattr(c, "selected_subset_")
    with pytest.raises(NotFittedError):
        c.predict(pd.DataFrame({"X1": [0.0]}))


def _toy(n=200, n_env=2):
    rng = np.random.default_rng(1)
    env = np.arange(n) % n_env
    y = rng.normal(size=n)
    m = y * (1 + env) + rng.normal(size=n)
    x1 = y + m + rng.normal(size=n)
    return pd.DataFrame({"M": m, "X1": x1}), y, env


TOY_GRAPH = [("Y", "M"), ("Y", "X1"), ("M", "X1"), ("E", "M")]


def test_bad_input_messages():
    X, y, env = _toy()
    est = CausalMinimaxRegressor(graph=TOY_GRAPH, intervention_model=FAST, random_state=0)
    with pytest.raises(ValueError, match="lacks the graph variables"):
        est.fit(X.drop(columns="X1"), y, environment=env)
    with pytest.raises(ValueError, match="not nodes of `graph`"):
        est.fit(X.assign(Z=1.0), y, environment=env)
    with pytest.raises(ValueError, match="single value"):
        est.fit(X, y, environment=np.zeros(len(y)))
    with pytest.raises(ValueError, match="`environment` is required"):
        est.fit(X, y)
    Xn = X.copy()
    Xn.iloc[3, 0] = np.nan
    with pytest.raises(ValueError, match="missing or non-finite"):
        est.fit(Xn, y, environment=env)
    yn = y.copy()
    yn[0] = np.nan
    with pytest.raises(ValueError, match="`y`"):
        est.fit(X, yn, environment=env)
    with pytest.raises(ValueError, match="Inconsistent"):
        est.fit(X, y[:-1], environment=env)
    with pytest.raises(TypeError, match="DataFrame"):
        est.fit(X.to_numpy(), y, environment=env)
    with pytest.raises(ValueError, match="acyclic"):
        CausalMinimaxRegressor(graph=[*TOY_GRAPH, ("X1", "Y")]).fit(X, y, environment=env)
    with pytest.raises(ValueError, match="marked mutable"):
        CausalMinimaxRegressor(graph=TOY_GRAPH, mutable=["Y", "M"]).fit(X, y, environment=env)
    with pytest.raises(ValueError, match="`graph` is required"):
        CausalMinimaxRegressor().fit(X, y, environment=env)
    with pytest.raises(ValueError, match=r"intervention_model\.bound"):
        CausalMinimaxRegressor(graph=TOY_GRAPH, intervention_model=InterventionModel(bound=-1)).fit(
            X, y, environment=env
        )
    with pytest.raises(ValueError, match="`search`"):
        CausalMinimaxRegressor(graph=TOY_GRAPH, search="never").fit(X, y, environment=env)


def test_toy_fit_predict_and_missing_predict_columns():
    X, y, env = _toy()
    est = CausalMinimaxRegressor(graph=TOY_GRAPH, intervention_model=FAST, random_state=0)
    est.fit(X, y, environment=env)
    assert est.predict(X).shape == (len(y),)
    assert set(est.worst_case_risk_.index) == {(), ("X1",)}
    with pytest.raises(ValueError, match="lacks"):
        est.predict(X.drop(columns="M"))


def test_search_space_all_scores_every_subset_and_bad_values():
    X, y, env = _toy()
    X = X.assign(X2=X["X1"] + np.random.default_rng(2).normal(size=len(y)))
    graph = [*TOY_GRAPH, ("X1", "X2")]
    est = CausalMinimaxRegressor(
        graph=graph, intervention_model=FAST, search_space="all", random_state=0
    ).fit(X, y, environment=env)
    assert set(est.worst_case_risk_.index) == {(), ("X1",), ("X2",), ("X1", "X2")}
    assert est.predict_subset(X, ("X2",)).shape == (len(y),)
    with pytest.raises(ValueError, match="`search_space`"):
        CausalMinimaxRegressor(graph=graph, search_space="some").fit(X, y, environment=env)
    with pytest.raises(TypeError, match="standardize"):
        CausalMinimaxRegressor(
            graph=graph, intervention_model=InterventionModel(standardize="yes")
        ).fit(X, y, environment=env)


def test_standardized_risk_ignores_location_and_scale_of_interventions():
    from causalminimax._risk import (
        FeatureMap,
        _Sampler,
        fit_structural_equations,
        intervened_risk,
    )

    X, y, _ = _toy(n=300)
    data = {"Y": y, "M": X["M"].to_numpy(), "X1": X["X1"].to_numpy()}
    parents = {"Y": (), "M": ("Y",), "X1": ("Y", "M")}
    sm = fit_structural_equations(
        data, ["Y", "M", "X1"], parents, ["M"], ["X1"], LinearRegression()
    )
    model = InterventionModel(standardize=True)
    fmap = FeatureMap.build(sm, model, np.random.default_rng(0))
    pred = LinearRegression().fit(np.column_stack([data["X1"], data["M"]]), y)
    sampler = _Sampler(sm, fmap, data, {"X1": sm.residuals["X1"]})
    # theta = (intercept, slope on standardised Y): a pure location shift of the mutable
    # variable is removed by the per-environment standardisation (its scale is not: it changes
    # the signal-to-noise ratio of the descendant X1)
    thetas = np.array([[0.0, 1.0], [3.0, 1.0], [-2.0, 1.0]])
    std = intervened_risk(sampler, thetas, pred, ("X1", "M"), "Y", True)
    raw = intervened_risk(sampler, thetas, pred, ("X1", "M"), "Y", False)
    np.testing.assert_allclose(std, std[0], rtol=1e-8)
    assert np.ptp(raw) > 0.1


def test_results_object_is_built_once_and_the_attributes_are_its_values(fitted):
    from causalminimax import CausalMinimaxResults

    est = fitted
    res = est.results_
    assert isinstance(res, CausalMinimaxResults)
    assert est.results() is res and est.results() is est.results()
    assert est.worst_case_risk_ is res.worst_case_risk
    assert est.components_ is res.components and est.selected_subset_ == res.selected_subset
    assert (est.n_obs_, est.n_environments_, est.fit_time_) == (
        res.n_obs,
        res.n_environments,
        res.fit_time,
    )
    assert str(est.summary()) == str(res.summary())
    assert res.table["selected"].sum() == 1


def test_estimator_parameters_are_keyword_only():
    from causalminimax.baselines import (
        AnchorRegression,
        InvariantCausalPrediction,
        PooledERM,
        StableSetRegressor,
    )

    for cls, arg in [
        (CausalMinimaxRegressor, simulation_graph()),
        (StableSetRegressor, simulation_graph()),
        (PooledERM, LinearRegression()),
        (InvariantCausalPrediction, 0.1),
        (AnchorRegression, 2.0),
    ]:
        with pytest.raises(TypeError, match="positional argument"):
            cls(arg)


def test_a_missing_column_is_a_value_error(split):
    tr, _ = split
    est = CausalMinimaxRegressor(graph=simulation_graph(), intervention_model=FAST)
    with pytest.raises(ValueError, match=r"lacks the graph variables \['X4'\]"):
        est.fit(tr.drop(columns=["Y", "E", "X4"]), tr["Y"], environment=tr["E"])
