"""Leave-one-source-row-out penalty of the stable predictors (issue 15, the duplicated-row fix).

The graph-surgery sample draws ``n_do_samples`` rows with replacement from the ``n`` training
rows, so each training row appears about ``n_do_samples / n`` times. The spline ridge's
leave-one-out must leave out every copy of the left-out row: these tests check the grouped
leave-one-out against brute-force refits, the source rows reported by the graph surgery, that
the stable predictors receive them, and the defect it removes (penalties that depended on the
random state).
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, RidgeCV

from causalminimax import CausalMinimaxRegressor, InterventionModel
from causalminimax._risk import do_sample, fit_structural_equations
from causalminimax._spline import AdditiveSplineRidge
from causalminimax._stable import (
    PredictorTask,
    SurgerySample,
    graph_surgery,
    prepare,
)
from causalminimax.baselines import StableSetRegressor
from causalminimax.datasets import simulate_paper, simulation_graph
from causalminimax.evaluation import standardize_split

COV = [f"X{i}" for i in range(1, 11)]
ALPHAS = np.logspace(-4, 6, 21)  # the default grid


def _brute_force_loo(model, X, y, groups):
    """Mean squared error of refits without each group (spline basis held fixed)."""
    B = model._basis(X)
    out = np.zeros(len(ALPHAS))
    for a, alpha in enumerate(ALPHAS):
        err = 0.0
        for label in np.unique(groups):
            out_rows = groups == label
            Bt, yt = B[~out_rows], y[~out_rows]
            bm, ym = Bt.mean(axis=0), yt.mean()
            beta = np.linalg.solve(
                (Bt - bm).T @ (Bt - bm) + alpha * np.eye(B.shape[1]), (Bt - bm).T @ (yt - ym)
            )
            err += np.sum((y[out_rows] - ym - (B[out_rows] - bm) @ beta) ** 2)
        out[a] = err / len(y)
    return out


@pytest.mark.parametrize("design", ["copies", "random groups", "singletons", "constant column"])
def test_grouped_leave_one_out_equals_brute_force_refits(design):
    rng = np.random.default_rng(15)
    n = 240
    if design == "copies":  # the graph-surgery situation: rows drawn with replacement
        base = rng.normal(size=(80, 3))
        yb = np.sin(base[:, 0]) + 0.3 * rng.normal(size=80)
        groups = rng.integers(0, 80, n)
        X, y = base[groups] + np.c_[np.zeros((n, 2)), rng.normal(size=n)], yb[groups]
    else:
        X = rng.normal(size=(n, 3)) * [1.0, 3.0, 0.2]
        y = np.sin(X[:, 0]) + 0.3 * rng.normal(size=n)
        groups = rng.integers(0, 60, n) if design == "random groups" else np.arange(n)
        if design == "constant column":
            X[:, 1] = 2.5
    m = AdditiveSplineRidge().fit(X, y, groups=groups)
    brute = _brute_force_loo(m, X, y, groups)
    np.testing.assert_allclose(m.loo_mse_, brute, rtol=1e-10, atol=0)
    assert m.alpha_ == ALPHAS[int(np.argmin(brute))]
    if design == "singletons":  # one group per row is ordinary leave-one-out
        plain = AdditiveSplineRidge().fit(X, y)
        np.testing.assert_allclose(plain.loo_mse_, m.loo_mse_, rtol=1e-12)


def test_plain_leave_one_out_equals_sklearn_ridgecv_including_the_intercept():
    # the hat diagonal includes the unpenalised intercept's 1/n (it was missing before)
    rng = np.random.default_rng(4)
    X = rng.normal(size=(500, 2))
    y = X[:, 0] ** 2 + rng.normal(size=500)
    m = AdditiveSplineRidge().fit(X, y)
    ref = RidgeCV(alphas=ALPHAS, store_cv_results=True).fit(m._basis(X), y)
    np.testing.assert_allclose(m.loo_mse_, ref.cv_results_.mean(axis=0), rtol=1e-8)
    assert m.alpha_ == ref.alpha_


def test_groups_are_validated():
    X, y = np.random.default_rng(0).normal(size=(30, 2)), np.arange(30.0)
    with pytest.raises(ValueError, match="`groups` must hold one label per row"):
        AdditiveSplineRidge().fit(X, y, groups=np.arange(29))
    with pytest.raises(ValueError, match="`groups` has a single group"):
        AdditiveSplineRidge().fit(X, y, groups=np.zeros(30))
    with pytest.raises(ValueError, match="`groups` has missing labels"):
        AdditiveSplineRidge().fit(X, y, groups=np.r_[np.nan, np.arange(29.0)])
    with pytest.raises(ValueError, match="`groups` has missing labels"):
        AdditiveSplineRidge().fit(X, y, groups=np.array([None, *range(29)], dtype=object))
    with pytest.raises(TypeError, match="`groups` labels must be sortable"):
        AdditiveSplineRidge().fit(X, y, groups=np.array([1, "a"] * 15, dtype=object))


def test_graph_surgery_reports_the_source_row_of_the_target():
    sim = simulate_paper(n_per_env=30, environments=range(1, 7), rng=1)
    est = CausalMinimaxRegressor(graph=simulation_graph())
    prep = prepare(est, sim[COV], sim["Y"], sim["E"], exact=True)
    sm, s = graph_surgery(prep, AdditiveSplineRidge(), 500, np.random.default_rng(3))
    assert isinstance(s, SurgerySample) and s.source.shape == (500,)
    # Y, X5, X6, X7, X8 are resampled jointly from the source row; X9, X10 (mutable) are not
    for v in ("Y", "X5", "X6", "X7", "X8"):
        np.testing.assert_array_equal(s.values[v], prep.data[v][s.source])
    assert not np.array_equal(s.values["X9"], prep.data["X9"][s.source])
    # the sample itself is what do_sample draws with the same generator (unchanged by the fix)
    again = do_sample(sm, prep.data, 500, np.random.default_rng(3))
    for v in sm.order:
        np.testing.assert_array_equal(again[v], s.values[v])


def test_regenerated_target_takes_its_residual_row_as_source():
    # Y a descendant of the mutable M: its value is f(M) + a resampled residual
    rng = np.random.default_rng(0)
    m = rng.normal(size=200)
    y = np.tanh(m) + 0.2 * rng.normal(size=200)
    data = {"M": m, "Y": y}
    sm = fit_structural_equations(
        data, ["M", "Y"], {"M": (), "Y": ("M",)}, ["M"], ["Y"], LinearRegression()
    )
    sources: dict = {}
    s = do_sample(sm, data, 300, np.random.default_rng(1), sources)
    fitted = sm.models["Y"].predict(s["M"][:, None])
    np.testing.assert_allclose(s["Y"] - fitted, sm.residuals["Y"][sources["Y"]], atol=1e-12)
    np.testing.assert_array_equal(s["M"], m[sources["M"]])


def test_stable_predictors_leave_out_every_copy_of_a_training_row():
    sim = simulate_paper(n_per_env=40, environments=range(1, 9), rng=2)
    est = CausalMinimaxRegressor(graph=simulation_graph())
    prep = prepare(est, sim[COV], sim["Y"], sim["E"], exact=True)
    _, s = graph_surgery(prep, AdditiveSplineRidge(), 960, np.random.default_rng(5))
    inputs = ("X6", "X5", "X1", "X9", "X10")
    fitted = PredictorTask(inputs, s, "Y", AdditiveSplineRidge()).fit()
    X = np.column_stack([s.values[v] for v in inputs])
    direct = AdditiveSplineRidge().fit(X, s.values["Y"], groups=s.source)
    np.testing.assert_array_equal(fitted.loo_mse_, direct.loo_mse_)
    assert fitted.alpha_ == direct.alpha_
    # an estimator without a `groups` argument is fitted as before
    lin = PredictorTask(inputs, s, "Y", LinearRegression()).fit()
    np.testing.assert_allclose(lin.coef_, LinearRegression().fit(X, s.values["Y"]).coef_)


def test_whole_stable_set_penalty_is_never_the_weak_one_of_plain_loo():
    """The defect: with each training row ~3 times in the graph-surgery sample, plain
    leave-one-out chose the whole stable set's penalty anywhere in 0.03-32 depending on
    ``random_state`` (vignette split 2, measured before the fix: 31.6, 0.1, 31.6, 10, 10, 10,
    10, 0.1 over states 0-7; split 9: 0.03-0.1). Leaving out all copies chooses 100 or more
    for every state on both splits. On the old grid (up to 100) that was always 100, the grid's
    edge; on the default grid up to 1e6 the optimum lies anywhere in 100-1e6 (split 2: 1e6,
    316, 100, 1000, 3162, 1e6, 3162, 1e4; split 9: 1e4, 1e6, 1e6, 1000, 1e6, 3162, 1e6, 1e6),
    because the leave-one-source-row-out error is flat there: at 100 it is within 1.1% of its
    minimum for every state (measured 0-1.07%)."""
    sim = simulate_paper(rng=2023)
    rng = np.random.default_rng(0)
    splits = [sorted(rng.choice(np.arange(1, 21), 10, replace=False).tolist()) for _ in range(10)]
    at_100 = list(ALPHAS).index(100.0)
    for k in (2, 9):
        test = [e for e in range(1, 21) if e not in splits[k]]
        tr, _ = standardize_split(sim, splits[k], ["Y", *COV], test_envs=test)
        models = [
            StableSetRegressor(graph=simulation_graph(), random_state=r)
            .fit(tr[COV], tr["Y"], environment=tr["E"])
            .model_
            for r in range(8)
        ]
        alphas = {m.alpha_ for m in models}
        assert min(alphas) >= 100.0 and len(alphas) > 1, (k, alphas)
        for m in models:
            assert m.loo_mse_[at_100] / m.loo_mse_.min() - 1 < 0.011, (k, m.alpha_)


def test_causal_minimax_fit_passes_the_source_rows_to_its_predictors():
    # vignette split 2, random_state 1: plain leave-one-out chose 10 for the whole stable set
    # (0.03-32 over states 0-3); with the source rows 1000 (100, the edge, on the old grid)
    sim = simulate_paper(rng=2023)
    rng = np.random.default_rng(0)
    for _ in range(3):
        train = sorted(rng.choice(np.arange(1, 21), 10, replace=False).tolist())
    tr, _ = standardize_split(sim, train, ["Y", *COV])
    fast = InterventionModel(n_restarts=1, n_iter=3, n_eval=100)
    est = CausalMinimaxRegressor(
        graph=simulation_graph(), intervention_model=fast, random_state=1
    ).fit(tr[COV], tr["Y"], environment=tr["E"])
    assert est.stable_predictors_[("X6", "X5", "X1")].alpha_ == 1000.0


def test_one_row_is_refused_and_degenerate_targets_fit():
    # final review: one row left no leave-one-out error (NaN loo_mse_ and a RuntimeWarning)
    X = np.random.default_rng(0).normal(size=(6, 2))
    with pytest.raises(ValueError, match="`X` has 1 sample"):
        AdditiveSplineRidge().fit(X[:1], [1.0])
    m = AdditiveSplineRidge().fit(X, np.full(6, 3.0), groups=[0, 0, 1, 1, 2, 2])
    assert np.isfinite(m.loo_mse_).all()
    np.testing.assert_allclose(m.predict(X), 3.0, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="`groups` must hold one label per row"):
        AdditiveSplineRidge().fit(X, np.ones(6), groups=[0, 1, 2])
