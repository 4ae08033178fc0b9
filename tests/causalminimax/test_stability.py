"""Stability of the estimated worst-case risks (issue 15) and the numpy spline model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr
from sklearn.linear_model import RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import SplineTransformer, StandardScaler

from causalminimax import CausalMinimaxRegressor, InterventionModel
from causalminimax._risk import (
    FeatureMap,
    SearchProblem,
    _Sampler,
    risk_and_gradient,
    worst_case_risks,
)
from causalminimax._risk import intervened_risk as _risk
from causalminimax._spline import AdditiveSplineRidge
from causalminimax.datasets import simulate_paper, simulation_graph
from causalminimax.evaluation import standardize_split, subset_max_test_mse
from tests.causalminimax.toy import simulation_equations

COV = [f"X{i}" for i in range(1, 11)]
WHOLE = ("X6", "X5", "X1")  # representative of the whole stable set


def _split_result(sim, train, test, seed, model=None):
    tr, tests = standardize_split(sim, train, ["Y", *COV], test_envs=test)
    est = CausalMinimaxRegressor(
        graph=simulation_graph(), intervention_model=model, random_state=seed
    ).fit(tr[COV], tr["Y"], environment=tr["E"])
    obs = subset_max_test_mse(est, tests)  # = max_test_mse of each predict_subset
    wc = est.worst_case_risk_
    return wc[WHOLE] / wc.min(), obs[WHOLE] / obs.min(), spearmanr(wc, obs).statistic, est, obs


def test_additive_spline_ridge_equals_sklearn_pipeline():
    rng = np.random.default_rng(3)
    pipe = make_pipeline(
        StandardScaler(),
        SplineTransformer(n_knots=5, degree=3, extrapolation="linear"),
        RidgeCV(alphas=np.logspace(-4, 6, 21)),
    )
    for p, noise in [(1, 0.1), (4, 1.0), (7, 3.0)]:
        X = rng.normal(size=(800, p)) * rng.uniform(0.5, 5, size=p)
        y = np.sin(X[:, 0]) + noise * rng.normal(size=800)
        a, b = pipe.fit(X, y), AdditiveSplineRidge().fit(X, y)
        assert a[-1].alpha_ == b.alpha_
        Z = 3 * rng.normal(size=(500, p)) * X.std(axis=0)  # also far outside the knots
        np.testing.assert_allclose(b.predict(Z), a.predict(Z), rtol=1e-8, atol=1e-9)
    h = 1e-6
    e0 = np.array([h, 0.0, 0.0, 0.0])
    Z = rng.normal(size=(50, 4)) * 3
    m = AdditiveSplineRidge().fit(rng.normal(size=(300, 4)), rng.normal(size=300))
    num = (m.predict(Z + e0) - m.predict(Z - e0)) / (2 * h)
    np.testing.assert_allclose(m.partial_derivatives(Z)[:, 0], num, atol=1e-6)


def test_neural_intervention_gradient_matches_finite_differences():
    data, sm = simulation_equations(60, 8, 4)
    inputs = ("X6", "X5", "X1", "X9", "X10")
    pred = AdditiveSplineRidge().fit(np.column_stack([data[c] for c in inputs]), data["Y"])
    rng = np.random.default_rng(0)
    noise = {v: sm.residuals[v] for v in sm.regenerated}
    for standardize, clip in [(False, None), (True, None), (True, True)]:
        model = InterventionModel(
            basis="mlp", n_components=3, standardize=standardize, within_support=clip
        )
        fmap = FeatureMap.build(sm, model, rng)
        sampler = _Sampler(sm, fmap, data, noise)
        th = rng.normal(0, 0.5, size=(2, fmap.n_params))
        risk, grad = risk_and_gradient(sampler, th, pred, inputs, "Y", model)
        args = (pred, inputs, "Y", standardize, model.clips)
        np.testing.assert_allclose(risk, _risk(sampler, th, *args), rtol=1e-12)
        num = np.zeros_like(th)
        for j in range(th.shape[1]):
            e = np.zeros(th.shape[1])
            e[j] = 1e-6
            num[:, j] = (_risk(sampler, th + e, *args) - _risk(sampler, th - e, *args)) / 2e-6
        np.testing.assert_allclose(grad, num, atol=1e-6 * max(1.0, np.abs(num).max()))


def test_interventions_stay_inside_the_training_support():
    # without the support constraint the adversary drives the intervened variables far outside
    # their training range, where the fitted equations and predictors only extrapolate: the
    # "worst case" of a predictor that extrapolates explodes. Since the penalty grid reaches
    # 1e6 the empty subset's predictor (X9, X10 alone) takes penalty 316 (100, the old grid's
    # edge, before), is nearly flat and no longer shows it (1.11 either way); the subset {X1}
    # (penalty 0.32) does: 45x
    sim = simulate_paper(rng=2023)
    train = [1, 4, 7, 10, 11, 13, 15, 16, 18, 19]  # the vignette's second split
    test = [e for e in range(1, 21) if e not in train]
    fast = {"n_restarts": 2, "n_iter": 6, "n_eval": 300}
    est_ratio, obs_ratio, _, clipped, _ = _split_result(
        sim, train, test, 1, InterventionModel(**fast)
    )
    free = InterventionModel(within_support=False, **fast)
    _, _, _, unclipped, _ = _split_result(sim, train, test, 1, free)
    assert clipped.stable_predictors_[()].alpha_ == pytest.approx(10**2.5)
    assert unclipped.worst_case_risk_[("X1",)] > 20 * clipped.worst_case_risk_[("X1",)]
    assert unclipped.worst_case_risk_.max() > 20 * clipped.worst_case_risk_.max()
    assert clipped.worst_case_risk_.max() < 5
    assert 0.75 < est_ratio / obs_ratio < 1.25


@pytest.mark.slow
def test_worst_case_estimates_are_stable_over_ten_fresh_splits():
    """Issue 15's targets on fresh seeds (data and splits not used for tuning).

    The stable predictors' penalty leaves out every copy of a training row (the graph-surgery
    sample holds each about 3 times; ``test_loo_groups_15.py``) and is searched on
    ``logspace(-4, 6, 21)``. On the earlier grid, up to 100, the penalty was the grid's largest
    value for 71-98% of the spline predictors per split; up to 1e6 the optimum is inside the
    grid or the predictor is practically the constant (its error still falls at 1e6), 0-82%
    per split here. The whole stable set's penalty is 31.6-1e6 (before the fix 0.03-100).

    Measured on the grid up to 1e6 (on the grid up to 100 after the grouped leave-one-out,
    and before that fix, in brackets): estimated / observed ratio 1.00-1.21, within 25% on 10
    of 10 splits [1.00-1.14, 10 of 10; 0.81-1.39, 8 of 10]. Spearman(estimated, observed)
    over the 45 representatives 0.93, 0.49, 0.95, 0.85, 0.97, 0.96, 0.96, 0.94, 0.94, 0.95:
    >= 0.75 on 9 of 10 [4 of 10; 9 of 10]. The miss (split 1) is a split whose observed
    ranking is not a property of the split: a refit with another ``random_state`` ranks the
    45 on the same test data with Spearman 0.05 against it. The ceiling (the observed
    ranking's agreement with the same predictors' ranking on an independent test draw) is
    0.84, 0.76, 0.93, 0.88, 0.95, 0.93, 0.95, 0.94, 0.99, 0.99; the estimate is within 0.1 of
    it (or above) on 9 of 10 splits [6 of 10]. Asserted: the ratio target on every split,
    Spearman >= 0.75 on at least 9 and within 0.1 of the ceiling on at least 9, no choice
    containing X1, no weak penalty (< 31.6) for the whole stable set.
    """
    sim = simulate_paper(rng=77)
    replicate = simulate_paper(rng=78)  # independent test draw, same size: the ceiling
    rng = np.random.default_rng(5)
    rows = []
    for k in range(10):
        train = sorted(rng.choice(np.arange(1, 21), 10, replace=False).tolist())
        test = [e for e in range(1, 21) if e not in train]
        est_ratio, obs_ratio, rho, est, obs = _split_result(sim, train, test, 100 + k)
        ceiling = spearmanr(obs, _observed(est, replicate, train, test)).statistic
        penalty = est.stable_predictors_[WHOLE].alpha_
        rows.append((est_ratio, obs_ratio, rho, ceiling, penalty, "X1" in est.selected_subset_))
    res = pd.DataFrame(rows, columns=["est", "obs", "rho", "ceiling", "penalty", "x1"])
    rel = res["est"] / res["obs"]
    assert rel.between(0.75, 1.25).all(), res  # issue 15's ratio target (before: 8 of 10)
    assert rel.between(0.7, 1.45).all(), res  # no explosion (before the fix: up to 200x)
    # split 3: 1.00002, the whole stable set's predictor being practically the constant
    assert (res["est"] > 1).all() and not res["x1"].any()
    assert (res["penalty"] >= 10**1.5 - 1e-9).all(), res
    # rank agreement (grid up to 100: >= 0.75 on 4 of 10; see the docstring)
    assert (res["rho"] >= 0.75).sum() >= 9, res
    assert (res["rho"] >= res["ceiling"] - 0.1).sum() >= 9, res


def _vignette_split(k):
    """The vignette's simulation data and its k-th split (same draws as the vignette)."""
    sim = simulate_paper(rng=2023)
    rng = np.random.default_rng(0)
    for _ in range(k + 1):
        train = sorted(rng.choice(np.arange(1, 21), 10, replace=False).tolist())
    return sim, train, [e for e in range(1, 21) if e not in train]


def _observed(est, data, train, test):
    _, tests = standardize_split(data, train, ["Y", *COV], test_envs=test)
    return subset_max_test_mse(est, tests)


@pytest.mark.slow
def test_rank_misses_are_not_search_noise():
    """Diagnosis of the vignette splits where Spearman(estimated, observed) < 0.75 (issue 15).

    With the penalty grid up to 1e6 the vignette's misses are splits 0 and 1 (Spearman 0.68
    and 0.69; the other 8 splits 0.81-0.97). On the grid up to 100 the misses were splits 2,
    5, 6 and others, where the estimate disagreed with a reproducible observed ranking; those
    now agree (split 2: 0.96). On splits 0 and 1 the observed ranking is itself noise: the 45
    representatives' observed risks lie within 1.1% and 1.2% of each other (p90-p10 over the
    median), their ranking agrees with the same predictors' ranking on an independent test
    draw by only 0.57 and 0.50, and with their ranking on 30 times larger test environments
    by 0.73 and 0.22. The estimate agrees with the observed ranking better than the observed
    ranking agrees with itself on a new draw. Given the fitted predictors, the estimate is
    reproducible (another search seed, other evaluation rows, 4x the restarts: Spearman 0.99
    and 1.00 with the first estimate; 0.91 on the grid up to 100), so the miss is not
    optimiser or Monte Carlo noise.
    """
    replicate, population = simulate_paper(rng=2024), simulate_paper(n_per_env=3000, rng=2025)
    for k in (0, 1):
        sim, train, test = _vignette_split(k)
        tr, _ = standardize_split(sim, train, ["Y", *COV], test_envs=test)
        est = CausalMinimaxRegressor(graph=simulation_graph(), random_state=k).fit(
            tr[COV], tr["Y"], environment=tr["E"]
        )
        obs = _observed(est, sim, train, test)
        rho = spearmanr(est.worst_case_risk_, obs).statistic
        ceiling = spearmanr(obs, _observed(est, replicate, train, test)).statistic
        pop = spearmanr(obs, _observed(est, population, train, test)).statistic
        spread = (obs.quantile(0.9) - obs.quantile(0.1)) / obs.median()
        g, sm = est.graph_, est.structural_model_
        data = {v: tr[v].to_numpy(dtype=float) for v in g.order}
        rng = np.random.default_rng(11)
        problem = SearchProblem.draw(sm, data, g.target, InterventionModel(n_restarts=16), rng, rng)
        again, _ = worst_case_risks(
            [est.stable_predictors_[s] for s in est.representatives_],
            [s + g.mutable for s in est.representatives_],
            problem,
            rng,
        )
        search = spearmanr(est.worst_case_risk_, again).statistic
        assert rho < 0.75 and spread < 0.02 and ceiling < 0.6 and pop < 0.75, k
        assert rho > ceiling, k
        assert search > 0.95, k  # measured 0.99, 1.00
