"""The vignette's fast paths (issue 15) give the numbers of the paths they replace.

- ``subset_max_test_mse`` equals ``max_test_mse`` of ``predict_subset`` per representative;
- ``in_raw_units`` applied to a fit on standardised rows equals the fit on the raw rows, for
  every method of the vignette (their fits are equivariant under the pooled standardisation);
- the worst-case search's spline shortcuts (no input checks, one basis evaluation for the
  prediction and its derivatives, the basis filled in place) equal the checked calls;
- the neural class's gradient searches run in lockstep equal one search per predictor.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalminimax import CausalMinimaxRegressor, InterventionModel
from causalminimax._risk import (
    PredictorBank,
    SearchProblem,
    _fast_predict,
    _input_jacobian,
    _predict_and_jacobian,
    _project,
    _regenerate,
    gradient_searches,
    risk_and_gradient,
)
from causalminimax._spline import AdditiveSplineRidge, _cubic_basis, stacked_basis
from causalminimax.baselines import (
    AnchorRegression,
    InvariantCausalPrediction,
    PooledERM,
    StableSetRegressor,
)
from causalminimax.datasets import simulate_paper, simulation_graph
from causalminimax.evaluation import (
    in_raw_units,
    max_test_mse,
    standardize_split,
    subset_max_test_mse,
)
from tests.causalminimax.toy import simulation_equations

COV = [f"X{i}" for i in range(1, 11)]
FAST = InterventionModel(n_restarts=2, n_iter=3, n_eval=150)


@pytest.fixture(scope="module")
def split():
    sim = simulate_paper(n_per_env=60, environments=range(1, 9), rng=11)
    train, test = [1, 2, 3, 4, 5], [6, 7, 8]
    tr, tests = standardize_split(sim, train, ["Y", *COV], test_envs=test)
    raw_tr = sim[sim["E"].isin(train)]
    raw_tests = [sim[sim["E"] == t] for t in test]
    return tr, tests, raw_tr, raw_tests


def _methods(X, y, e):
    g = simulation_graph()
    return {
        "causal minimax": CausalMinimaxRegressor(
            graph=g, intervention_model=FAST, n_do_samples=600, random_state=3
        ).fit(X, y, environment=e),
        "whole stable set": StableSetRegressor(graph=g, n_do_samples=600, random_state=3).fit(
            X, y, e
        ),
        "pooled ERM": PooledERM().fit(X, y, e),
        "ICP": InvariantCausalPrediction().fit(X, y, e),
        "anchor": AnchorRegression().fit(X, y, e),
    }


def test_subset_max_test_mse_equals_max_test_mse_per_subset(split):
    tr, tests, _, _ = split
    est = _methods(tr[COV], tr["Y"], tr["E"])["causal minimax"]
    fast = subset_max_test_mse(est, tests)
    slow = [max_test_mse(lambda d, s=s: est.predict_subset(d, s), tests) for s in fast.index]
    assert len(fast) == 45
    assert fast.index.equals(est.worst_case_risk_.index)
    np.testing.assert_array_equal(fast.to_numpy(), slow)  # the same digits, not approximately


def test_subset_max_test_mse_equals_max_test_mse_with_a_linear_estimator(split):
    # a BLAS-backed estimator is sensitive to the memory layout of its design: both paths
    # build it in one place (predict_from), so the digits agree here too (they differed in
    # the last bit for 2-5 of the 45 subsets when predict_subset read the frame's own array)
    from sklearn.linear_model import Ridge

    tr, tests, _, _ = split
    est = CausalMinimaxRegressor(
        graph=simulation_graph(),
        estimator=Ridge(1.0),
        intervention_model=FAST,
        n_do_samples=600,
        random_state=3,
    ).fit(tr[COV], tr["Y"], environment=tr["E"])
    fast = subset_max_test_mse(est, tests)
    slow = [max_test_mse(lambda d, s=s: est.predict_subset(d, s), tests) for s in fast.index]
    np.testing.assert_array_equal(fast.to_numpy(), slow)


def test_subset_max_test_mse_refuses_unfitted_and_missing_columns(split):
    from sklearn.exceptions import NotFittedError

    tr, tests, _, _ = split
    with pytest.raises(NotFittedError):
        subset_max_test_mse(CausalMinimaxRegressor(graph=simulation_graph()), tests)
    est = _methods(tr[COV], tr["Y"], tr["E"])["causal minimax"]
    with pytest.raises(ValueError, match="lacks the stable and mutable variables"):
        subset_max_test_mse(est, [t.drop(columns="X9") for t in tests])
    with pytest.raises(ValueError, match="`tests` is empty"):
        subset_max_test_mse(est, [])


def test_in_raw_units_equals_the_fit_on_raw_rows(split):
    tr, _, raw_tr, raw_tests = split
    cols = ["Y", *COV]
    std = _methods(tr[COV], tr["Y"], tr["E"])
    raw = _methods(raw_tr[COV], raw_tr["Y"], raw_tr["E"])
    assert std["causal minimax"].selected_subset_ == raw["causal minimax"].selected_subset_
    assert std["ICP"].selected_subset_ == raw["ICP"].selected_subset_
    # the estimated worst-case risks scale with the variance of Y (linear class, raw units)
    np.testing.assert_allclose(
        std["causal minimax"].worst_case_risk_ * raw_tr["Y"].var(ddof=0),
        raw["causal minimax"].worst_case_risk_,
        rtol=1e-9,
    )
    stacked = pd.concat(raw_tests)
    scale = float(stacked["Y"].std())
    for name, m in std.items():
        mapped = in_raw_units(m.predict, raw_tr, cols)
        np.testing.assert_allclose(
            mapped(stacked), raw[name].predict(stacked), rtol=1e-9, atol=1e-9 * scale
        )
        assert max_test_mse(mapped, raw_tests) == pytest.approx(
            max_test_mse(raw[name].predict, raw_tests), rel=1e-9
        )


def test_in_raw_units_with_a_standardising_intervention_model(split):
    # standardize=True z-scores the intervened samples: the stable predictors are still
    # equivariant (in_raw_units maps each exactly), but the worst-case estimates of a refit
    # on raw rows score raw-unit predictors on z-scored samples, so they are not the
    # standardised fit's scaled by var(Y) and the choice differs: the documented exception
    import dataclasses

    tr, _, raw_tr, raw_tests = split
    model = dataclasses.replace(FAST, standardize=True)

    def fit(frame):
        return CausalMinimaxRegressor(
            graph=simulation_graph(), intervention_model=model, n_do_samples=600, random_state=3
        ).fit(frame[COV], frame["Y"], environment=frame["E"])

    std, raw = fit(tr), fit(raw_tr)
    stacked = pd.concat(raw_tests)
    scale = float(stacked["Y"].std())
    for s in std.representatives_:
        mapped = in_raw_units(lambda d, s=s: std.predict_subset(d, s), raw_tr, ["Y", *COV])
        np.testing.assert_allclose(
            mapped(stacked), raw.predict_subset(stacked, s), rtol=1e-9, atol=1e-9 * scale
        )
    ratio = raw.worst_case_risk_ / (std.worst_case_risk_ * raw_tr["Y"].var(ddof=0))
    assert ratio.max() / ratio.min() > 1.5
    assert std.selected_subset_ != raw.selected_subset_


def test_in_raw_units_checks_its_arguments(split):
    _, _, raw_tr, _ = split
    with pytest.raises(TypeError, match="`predict` must be callable"):
        in_raw_units(3, raw_tr, ["Y", "X1"])
    with pytest.raises(TypeError, match="`reference` must be a pandas DataFrame"):
        in_raw_units(lambda d: d, raw_tr.to_numpy(), ["Y", "X1"])
    with pytest.raises(ValueError, match="`target` 'Y' is not one of `columns`"):
        in_raw_units(lambda d: d, raw_tr, ["X1"])
    with pytest.raises(ValueError, match="lacks the columns"):
        in_raw_units(lambda d: d, raw_tr, ["Y", "Z"])


def test_in_raw_units_refuses_bad_inputs_with_named_arguments():
    df = pd.DataFrame({"E": [1, 1, 2, 2], "x": [0.0, 2, 4, 6], "Y": [1.0, 5, 9, 13]})

    def f(d):
        return d["x"].to_numpy()

    with pytest.raises(ValueError, match="`reference` has no rows"):
        in_raw_units(f, df.iloc[:0], ["Y", "x"])  # was: NaN predictions
    with pytest.raises(ValueError, match=r"`columns` names \['x'\] more than once"):
        in_raw_units(f, df, ["Y", "x", "x"])  # was: AttributeError from pandas
    with pytest.raises(ValueError, match=r"`columns` names \['x'\] more than once"):
        standardize_split(df, [1], ["Y", "x", "x"])  # the same helper (was: AttributeError)
    with pytest.raises(TypeError, match="`columns` must be a column name or a sequence"):
        in_raw_units(f, df, None)
    with pytest.raises(ValueError, match=r"`target` 'Y' is not one of `columns` \[\]"):
        in_raw_units(f, df, [])
    raw = in_raw_units(f, df, ["Y", "x"])
    with pytest.raises(TypeError, match="`frame` must be a pandas DataFrame"):
        raw(np.ones((2, 2)))
    with pytest.raises(ValueError, match="`frame` has missing or non-finite values"):
        raw(pd.DataFrame({"x": [np.nan, 1.0]}))  # was: a NaN prediction
    with pytest.raises(TypeError, match=r"`frame` columns \['x'\] are not numeric"):
        raw(pd.DataFrame({"x": ["a", "b"]}))
    for bad in (lambda d: np.ones(len(d) + 1), lambda d: np.ones((len(d), 2))):
        with pytest.raises(ValueError, match="`predict` returned an array of shape"):
            in_raw_units(bad, df, ["Y", "x"])(df)
    # integer and nullable columns are read as floats; the answer is the documented one
    expect = raw(pd.DataFrame({"x": [1.0, 10.0]}))
    np.testing.assert_allclose(expect, [3.0, 21.0], rtol=1e-12)
    np.testing.assert_array_equal(raw(pd.DataFrame({"x": [1, 10]})), expect)
    nullable = in_raw_units(f, df.astype({"x": "Float64", "Y": "Int64"}), ["Y", "x"])
    np.testing.assert_array_equal(nullable(pd.DataFrame({"x": [1.0, 10.0]})), expect)
    # one column name as a string is one column, as in standardize_split
    np.testing.assert_array_equal(
        in_raw_units(lambda d: np.zeros(len(d)), df, "Y")(df), np.full(4, df["Y"].mean())
    )


def test_test_environments_are_checked_before_scoring(split):
    tr, tests, _, _ = split

    def zero(d):
        return np.zeros(len(d))

    with pytest.raises(ValueError, match=r"`tests\[1\]` has no rows"):
        max_test_mse(zero, [tests[0], tests[1].iloc[:0]])  # was: numpy RuntimeWarning
    with pytest.raises(TypeError, match="`tests` must be a DataFrame or a sequence"):
        max_test_mse(zero, None)
    with pytest.raises(TypeError, match="`tests` must be a DataFrame or a sequence"):
        max_test_mse(zero, "Y")
    est = _methods(tr[COV], tr["Y"], tr["E"])
    with pytest.raises(TypeError, match="`est` must be a fitted CausalMinimaxRegressor"):
        subset_max_test_mse(est["pooled ERM"], tests)  # was: NotFittedError
    # a column missing from one environment is named there (was: `tests` has NaN values)
    with pytest.raises(ValueError, match=r"`tests\[2\]` lacks the stable and mutable"):
        subset_max_test_mse(est["causal minimax"], [*tests[:2], tests[2].drop(columns="X9")])
    one = subset_max_test_mse(est["causal minimax"], tests[0])  # one DataFrame: one environment
    s = est["causal minimax"].selected_subset_
    assert one[s] == max_test_mse(lambda d: est["causal minimax"].predict_subset(d, s), tests[0])


def test_spline_shortcuts_equal_the_checked_calls():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(300, 3)) * [1.0, 4.0, 0.3]
    X[:, 2] = 1.5  # a constant column (zero spacing)
    m = AdditiveSplineRidge().fit(X, np.sin(X[:, 0]) + X[:, 1] + rng.normal(size=300))
    Z = 2 * rng.normal(size=(500, 3)) * [1.0, 4.0, 0.3]  # also outside the knots
    pred, jac = _predict_and_jacobian(m, Z)
    np.testing.assert_array_equal(pred, m.predict(Z))
    np.testing.assert_array_equal(jac, m.partial_derivatives(Z))
    np.testing.assert_array_equal(_fast_predict(m, Z), m.predict(Z))
    assert np.all(jac[:, 2] == 0.0)
    # the public derivative method checks its input as predict does (was: IndexError deep
    # in the basis loop for a wider array, NaN derivatives for NaN rows)
    with pytest.raises(ValueError, match="X has 4 features, but AdditiveSplineRidge"):
        m.partial_derivatives(np.ones((2, 4)))
    with pytest.raises(ValueError, match="Input X contains NaN"):
        m.partial_derivatives(np.full((2, 3), np.nan))
    # a model without analytic derivatives: its own predict and central differences
    from sklearn.linear_model import Lasso

    other = Lasso(alpha=0.01).fit(X, X[:, 0])
    pred, jac = _predict_and_jacobian(other, Z)
    np.testing.assert_array_equal(pred, other.predict(Z))
    np.testing.assert_array_equal(jac, _input_jacobian(other, Z))
    # the basis built in place equals the per-column matrices stacked, each filled by the
    # row-and-column scatter of the earlier implementation
    keys = [(Z[:, 0], -2.0, 1.0, 5), (Z[:, 1], -8.0, 4.0, 4), (Z[:, 2], 0.0, 0.0, 5)]
    blocks = []
    for x, lo, h, nk in keys:
        block = np.zeros((len(x), nk + 2))
        if h != 0.0:
            first, v, _ = _cubic_basis(x, lo, h, nk)
            for i in range(4):
                block[np.arange(len(x)), first + i] = v[i]
        blocks.append(block)
        np.testing.assert_array_equal(stacked_basis([(x, lo, h, nk)], len(x)), block)
    np.testing.assert_array_equal(stacked_basis(keys, len(Z)), np.hstack(blocks))
    assert stacked_basis([], 4).shape == (4, 0)


def test_regenerate_with_jacobians_gives_the_same_sample():
    data, sm = simulation_equations(50, 4, 2)
    noise = {v: sm.residuals[v] for v in sm.regenerated}

    def shift(m, cur):
        return data[m] + 0.5

    jacobians: dict = {}
    plain = _regenerate(sm, dict(data), noise, shift)
    recorded = _regenerate(sm, dict(data), noise, shift, jacobians)
    assert set(jacobians) == set(sm.regenerated)
    for v in sm.order:
        np.testing.assert_array_equal(plain[v], recorded[v])
    for v in sm.regenerated:
        x = np.column_stack([recorded[p] for p in sm.parents[v]])
        np.testing.assert_array_equal(jacobians[v], sm.models[v].partial_derivatives(x))
        np.testing.assert_array_equal(
            plain[v], sm.models[v].predict(x) + noise[v]
        )  # the checked predict


def test_predictor_bank_fast_path_equals_predictor_by_predictor():
    rng = np.random.default_rng(8)
    n = 120
    sample = {"a": rng.normal(size=3 * n), "b": rng.normal(size=3 * n), "Y": rng.normal(size=3 * n)}
    fit = {c: sample[c][:n] for c in sample}
    preds = [
        AdditiveSplineRidge().fit(np.column_stack([fit["a"]]), fit["Y"]),
        AdditiveSplineRidge().fit(np.column_stack([fit["a"], fit["b"]]), fit["Y"]),
        AdditiveSplineRidge(n_knots=4).fit(np.column_stack([fit["b"]]), fit["Y"]),
    ]
    inputs = [("a",), ("a", "b"), ("b",)]
    for standardize in (False, True):
        bank = PredictorBank(preds, inputs, "Y", standardize)
        assert bank.fast
        fast = bank.risks(sample, 3)
        bank.fast = False  # the per-predictor path
        np.testing.assert_allclose(bank.risks(sample, 3), fast, rtol=1e-12)


def _search_restart_by_restart(predictor, inputs, problem, rng):
    """One predictor's search written out independently of :func:`gradient_searches`, one
    restart at a time: projected Adam ascent of ``risk - penalty * ||theta||^2`` on
    :func:`risk_and_gradient` from the same initialisations, keeping the first largest risk
    visited (the searches before the lockstep version, issue 15)."""
    model, blocks = problem.model, problem.fmap.blocks()
    size = (model.n_restarts, problem.fmap.n_params)
    starts = _project(rng.normal(0.0, 0.5, size=size), blocks, model.bound)
    b1, b2, best = 0.9, 0.999, (-np.inf, None)
    for theta in starts:
        m1 = m2 = np.zeros_like(theta)
        for t in range(1, model.n_steps + 2):
            risk, grad = risk_and_gradient(problem, theta, predictor, inputs, problem.target, model)
            if risk[0] > best[0]:
                best = (float(risk[0]), theta.copy())
            if t == model.n_steps + 1:
                break
            ascent = grad[0] - 2.0 * model.penalty * theta
            m1 = b1 * m1 + (1 - b1) * ascent
            m2 = b2 * m2 + (1 - b2) * ascent**2
            step = model.learning_rate * (m1 / (1 - b1**t)) / (np.sqrt(m2 / (1 - b2**t)) + 1e-8)
            theta = _project((theta + step)[None, :], blocks, model.bound)[0]
    return best


@pytest.mark.parametrize(("standardize", "bound"), [(False, 3.0), (True, 3.0), (False, 0.5)])
def test_lockstep_gradient_searches_equal_one_search_per_predictor(standardize, bound):
    sim = simulate_paper(n_per_env=40, environments=range(1, 7), rng=6)
    tr, _ = standardize_split(sim, [1, 2, 3, 4, 5, 6], ["Y", *COV])
    model = InterventionModel(
        basis="mlp",
        n_components=3,
        n_restarts=2,
        n_steps=5,
        n_eval=60,
        standardize=standardize,
        bound=bound,
    )
    est = CausalMinimaxRegressor(
        graph=simulation_graph(), intervention_model=model, n_do_samples=300, random_state=4
    ).fit(tr[COV], tr["Y"], environment=tr["E"])
    g = est.graph_
    data = {v: tr[v].to_numpy(dtype=float) for v in g.order}
    rng = np.random.default_rng(2)
    problem = SearchProblem.draw(est.structural_model_, data, g.target, model, rng, rng)
    subsets = est.representatives_[:7]
    assert () in subsets  # the empty subset (inputs: the mutable variables only) is among them
    preds = [est.stable_predictors_[s] for s in subsets]
    cols = [s + g.mutable for s in subsets]

    def rng_copy():
        return np.random.default_rng(9)

    # the reference: each predictor's own search, a call with that predictor alone and a copy
    # of the generator (the searches before the lockstep version, issue 15)
    one = [
        gradient_searches(PredictorBank([p], [c], "Y", standardize), problem, rng_copy())[0]
        for p, c in zip(preds, cols, strict=True)
    ]
    at_bound = []
    for p, c, (value, theta) in zip(preds, cols, one, strict=True):
        # the search itself: the same numbers as the reference written restart by restart
        ref_value, ref_theta = _search_restart_by_restart(p, c, problem, rng_copy())
        assert value == ref_value
        np.testing.assert_array_equal(theta, ref_theta)
        # the value found is the risk of the parameters found, which respect the norm bound
        risk, _ = risk_and_gradient(problem, theta, p, c, g.target, model)
        assert risk.tolist() == [value]
        norms = [np.linalg.norm(theta[b]) for b in problem.fmap.blocks()]
        assert max(norms) <= model.bound * (1 + 1e-12)
        at_bound.append(np.isclose(max(norms), model.bound, rtol=1e-12))
    # the small bound binds (5 of the 7 searches end on it): the projection is exercised
    assert sum(at_bound) == (5 if bound == 0.5 else 0)
    # 2 restarts x 60 rows per predictor: max_rows=300 gives batches of 2, 2, 2 and 1
    # predictors, 240 exactly 2 per batch, 1 (below one predictor's rows) one per batch
    bank = PredictorBank(preds, cols, "Y", standardize)
    for max_rows in (1, 240, 300, 100_000):
        many = gradient_searches(bank, problem, rng_copy(), max_rows)
        assert [v for v, _ in many] == [v for v, _ in one]
        for (_, a), (_, b) in zip(many, one, strict=True):
            np.testing.assert_array_equal(a, b)
    assert gradient_searches(PredictorBank([], [], "Y", standardize), problem, rng_copy()) == []


def test_non_numeric_predictions_name_predict():
    te = [pd.DataFrame({"Y": [0.0, 1.0]})]
    with pytest.raises(TypeError, match="`predict` must return numeric predictions"):
        max_test_mse(lambda d: np.array(["a", "b"]), te)
    ref = pd.DataFrame({"Y": [0.0, 1.0, 2.0], "X": [1.0, 2.0, 4.0]})
    raw = in_raw_units(lambda d: ["low"] * len(d), ref, ["Y", "X"])
    with pytest.raises(TypeError, match="`predict` must return numeric predictions"):
        raw(ref.drop(columns="Y"))
    # numeric strings and lists are still accepted as numbers
    assert max_test_mse(lambda d: ["0", "1"], te) == 0.0


def test_evaluation_helpers_ignore_a_shuffled_index(split):
    # final review: the test and reference frames are read by position after their own checks,
    # so a non-RangeIndex (shuffled labels) gives the answer of the reset-index frames
    tr, tests, raw_tr, raw_tests = split
    perm = np.random.default_rng(0)
    shuffled = [t.set_axis(perm.permutation(len(t)) + 1000) for t in tests]
    est = CausalMinimaxRegressor(
        graph=simulation_graph(), intervention_model=FAST, n_do_samples=600, random_state=3
    ).fit(tr[COV], tr["Y"], environment=tr["E"])
    pd.testing.assert_series_equal(
        subset_max_test_mse(est, shuffled), subset_max_test_mse(est, tests)
    )
    assert max_test_mse(est.predict, shuffled) == max_test_mse(est.predict, tests)
    raw = in_raw_units(est.predict, raw_tr, ["Y", *COV])
    raw_sh = in_raw_units(est.predict, raw_tr.set_axis(perm.permutation(len(raw_tr))), ["Y", *COV])
    frame = raw_tests[0]
    np.testing.assert_array_equal(raw_sh(frame.set_axis(frame.index[::-1])), raw(frame))
    sim = pd.concat([raw_tr, *raw_tests])
    a_tr, a_te = standardize_split(sim, [1, 2, 3, 4, 5], ["Y", *COV])
    b_tr, b_te = standardize_split(sim.set_axis(perm.permutation(len(sim))), [1, 2, 3, 4, 5],
                                   ["Y", *COV])  # fmt: skip
    pd.testing.assert_frame_equal(a_tr, b_tr)
    for a, b in zip(a_te, b_te, strict=True):
        pd.testing.assert_frame_equal(a, b)


def test_missing_environment_labels_and_non_finite_raw_predictions_are_refused():
    df = pd.DataFrame({"E": [1, 1, 2, 2, np.nan], "x": [0.0, 2, 4, 6, 8], "Y": [1.0, 5, 9, 13, 1]})
    # was: the NaN rows silently dropped and an empty test environment returned
    with pytest.raises(ValueError, match="environment column 'E' has missing labels"):
        standardize_split(df, [1], ["Y", "x"])
    ok = df.dropna()
    with pytest.raises(ValueError, match="`predict` returned non-finite predictions on `frame`"):
        in_raw_units(lambda d: np.full(len(d), np.nan), ok, ["Y", "x"])(ok)  # was: NaN output
    # degenerate data: a constant column and a constant target standardise to 0, not NaN
    tr, te = standardize_split(ok.assign(x=3.0, Y=2.0), [1], ["Y", "x"])
    assert (tr[["Y", "x"]] == 0).all().all() and (te[0][["Y", "x"]] == 0).all().all()
    const = in_raw_units(lambda d: np.zeros(len(d)), ok.assign(Y=2.0), ["Y", "x"])
    np.testing.assert_array_equal(const(ok), np.full(4, 2.0))


def test_a_constant_column_with_rounding_residue_standardises_to_zero():
    # final review: 0.1 repeated has a std of 1.4e-17, not 0; it was divided by and the
    # constant column became +-1 (rounding residue blown up to unit scale)
    df = pd.DataFrame({"E": [1, 1, 1, 2, 2, 2], "Y": [0.0, 1, 2, 3, 4, 6], "x": [0.1] * 6})
    assert df["x"].iloc[:3].std(ddof=0) > 0  # the residue this test is about
    tr, te = standardize_split(df, [1], ["Y", "x"])
    assert tr["x"].abs().max() < 1e-12 and te[0]["x"].abs().max() < 1e-12
    raw = in_raw_units(lambda d: d["x"].to_numpy(), df.iloc[:3], ["Y", "x"])
    np.testing.assert_allclose(raw(df), df["Y"].iloc[:3].mean(), rtol=0, atol=1e-12)


def test_subset_max_test_mse_scores_the_fitted_target():
    # review: the response defaulted to the column "Y" whatever `est` was fitted to predict,
    # and any other `target` was scored silently (the MSE of predicting the wrong column)
    from sklearn.linear_model import LinearRegression

    from tests.causalminimax.toy import CHAIN_EDGES, chain_data

    X, y, env = chain_data(200)
    edges = [tuple("T" if v == "Y" else v for v in e) for e in CHAIN_EDGES]
    est = CausalMinimaxRegressor(graph=edges, target="T", estimator=LinearRegression())
    est.fit(X, pd.Series(y, index=X.index), environment=env)
    Xt, yt, _ = chain_data(100, seed=1)
    test = Xt.assign(T=yt, Y=0.0)  # a column "Y" that is not the target
    (s,) = est.representatives_
    got = subset_max_test_mse(est, test)
    assert got[s] == max_test_mse(lambda d: est.predict_subset(d, s), test, "T")
    assert got[s] != max_test_mse(lambda d: est.predict_subset(d, s), test, "Y")
    pd.testing.assert_series_equal(subset_max_test_mse(est, test, target="T"), got)
    with pytest.raises(ValueError, match="`target` 'X1' is not the target 'T'"):
        subset_max_test_mse(est, test, target="X1")
