"""scikit-learn's estimator contract for every estimator class of the four packages.

Estimators: ``r3d.R3D``; ``causalminimax.CausalMinimaxRegressor`` and the baselines
``StableSetRegressor``, ``PooledERM``, ``InvariantCausalPrediction``, ``AnchorRegression``
(``causalminimax.baselines``); ``irl_sensitivity.BoltzmannIRL``, ``MaxCausalEntropyIRL``,
``FeatureMCEIRL``. (``estkit`` exports no estimator class.)

Checks run here, each with a tiny valid fit per estimator: clone; get_params / set_params
round trip; ``__init__`` stores its arguments only (even invalid ones: validation is in
``fit``); no fitted (trailing-underscore) attribute before ``fit``; ``fit`` returns self and
sets the fitted attributes; NotFittedError before ``fit``; pickling after ``fit`` keeps the
fit; repr. The scikit-learn checks that need no data are called directly:
``check_parameters_default_constructible``, ``check_no_attributes_set_in_init``,
``check_get_params_invariance``, ``check_set_params``, ``check_estimator_repr``; and
``check_estimators_unfitted`` for the regressors (predict before fit).

Checks that cannot apply (the rest of ``check_estimator`` / ``parametrize_with_checks``),
one line per reason:
- fit(X, y) on generic numeric arrays: R3D takes a running variable and distribution-valued
  outcomes, the IRL estimators a TabularMDP and trajectories, none a feature matrix X.
- causalminimax estimators need an ``environment`` per row (and a causal graph naming the
  columns), so sklearn's fit(X, y) calls without one are refused, by design.
- data-dependent checks (dtype object, NaN/inf, 1 sample, sample order invariance, fit
  idempotence on X, n_features_in_, predict shapes) all build generic X/y first, and so
  include ``check_dont_overwrite_parameters`` and ``check_estimators_overwrite_params``:
  their equivalents are the fit checks of this module on each estimator's own data.
- R3D and the IRL estimators have no predict / transform / score on X: prediction checks
  do not exist for them.
- causalminimax regressors take pandas X with named columns (the graph names them), so
  numpy-only checks of column handling do not apply.
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression
from sklearn.utils.estimator_checks import (
    check_estimator_repr,
    check_estimators_unfitted,
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

import causalminimax
import irl_sensitivity
import r3d
from causalminimax import CausalMinimaxRegressor, InterventionModel
from causalminimax.baselines import (
    AnchorRegression,
    InvariantCausalPrediction,
    PooledERM,
    StableSetRegressor,
)
from irl_sensitivity import (
    BoltzmannIRL,
    BoltzmannModel,
    FeatureMCEIRL,
    MaxCausalEntropyIRL,
    TabularIRL,
    boltzmann_policy,
    mce_policy,
    occupancy_measure,
    random_mdp,
    sample_trajectories,
)
from r3d import R3D
from r3d.simulate import simulate_normal
from tests.causalminimax.toy import CHAIN_EDGES, chain_data


# ------------------------------------------------------------------ tiny valid data
def _cm_data():
    return chain_data(200)


_MDP = random_mdp(3, 2, gamma=0.9, rng=0)
_R = np.random.default_rng(0).normal(size=(3, 2))


def _fit_r3d(est):
    sim = simulate_normal(n=120, n_draws=10, rng=0)
    return est.fit(sim.x, sim.y)


def _fit_cm(est):
    X, y, env = _cm_data()
    return est.fit(X, y, environment=env)


def _predict_cm(est):
    return est.predict(_cm_data()[0])


def _fit_boltzmann(est):
    trajs = sample_trajectories(_MDP, boltzmann_policy(_MDP, _R, 1.0), 20, 10, rng=1)
    return est.fit(_MDP, trajs)


def _fit_mce(est):
    trajs = sample_trajectories(_MDP, mce_policy(_MDP, _R), 20, 10, rng=1)
    return est.fit(_MDP, trajs)


def _fit_feature(est):
    occ = occupancy_measure(_MDP, mce_policy(_MDP, _R))
    return est.fit(_MDP, occupancy=occ.state_action)


# (factory with non-default params, fit, a key fitted attribute, a method needing a fit)
CASES = {
    "R3D": (
        lambda: R3D(quantiles=[0.25, 0.5, 0.75], n_bootstrap=40, random_state=0),
        _fit_r3d,
        "tau_",
        lambda e: e.summary(),
    ),
    "CausalMinimaxRegressor": (
        lambda: CausalMinimaxRegressor(
            graph=CHAIN_EDGES,
            estimator=LinearRegression(),
            intervention_model=InterventionModel(n_restarts=1, n_iter=2, batch=2, n_eval=50),
            random_state=0,
        ),
        _fit_cm,
        "selected_subset_",
        _predict_cm,
    ),
    "StableSetRegressor": (
        lambda: StableSetRegressor(graph=CHAIN_EDGES, random_state=0),
        _fit_cm,
        "subset_",
        _predict_cm,
    ),
    "PooledERM": (
        lambda: PooledERM(estimator=LinearRegression()),
        _fit_cm,
        "model_",
        _predict_cm,
    ),
    "InvariantCausalPrediction": (
        lambda: InvariantCausalPrediction(alpha=0.1),
        _fit_cm,
        "coef_",
        _predict_cm,
    ),
    "AnchorRegression": (
        lambda: AnchorRegression(gamma=2.0),
        _fit_cm,
        "coef_",
        _predict_cm,
    ),
    "BoltzmannIRL": (
        lambda: BoltzmannIRL(beta=1.0),
        _fit_boltzmann,
        "reward_",
        lambda e: e.summary(),
    ),
    "MaxCausalEntropyIRL": (
        lambda: MaxCausalEntropyIRL(),
        _fit_mce,
        "reward_",
        lambda e: e.summary(),
    ),
    "FeatureMCEIRL": (lambda: FeatureMCEIRL(), _fit_feature, "reward_", lambda e: e.summary()),
    "TabularIRL": (
        lambda: TabularIRL(model=BoltzmannModel(beta=2.0)),
        _fit_boltzmann,
        "reward_",
        lambda e: e.summary(),
    ),
}
NAMES = list(CASES)
REGRESSORS = [
    "CausalMinimaxRegressor",
    "StableSetRegressor",
    "PooledERM",
    "InvariantCausalPrediction",
    "AnchorRegression",
]


def _value(obj):
    """A comparable snapshot of a fitted attribute."""
    if isinstance(obj, pd.DataFrame | pd.Series):
        return obj.to_numpy()
    if hasattr(obj, "predict") and hasattr(obj, "get_params"):  # a fitted sub-model
        return pickle.dumps(obj.get_params())
    return obj


def _fitted_attrs(est):
    return sorted(k for k in vars(est) if k.endswith("_") and not k.startswith("_"))


@pytest.fixture(scope="module")
def fitted():
    return {name: fit(make()) for name, (make, fit, _, _) in CASES.items()}


def test_every_estimator_class_is_covered():
    import inspect

    from sklearn.base import BaseEstimator

    found = set()
    for mod in (r3d, causalminimax, causalminimax.baselines, irl_sensitivity):
        for name in getattr(mod, "__all__", dir(mod)):
            obj = getattr(mod, name, None)
            if inspect.isclass(obj) and issubclass(obj, BaseEstimator):
                found.add(name)
    assert found == set(CASES)


DATALESS_CHECKS = [
    check_parameters_default_constructible,
    check_no_attributes_set_in_init,
    check_get_params_invariance,
    check_set_params,
    check_estimator_repr,
]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("check", DATALESS_CHECKS, ids=lambda c: c.__name__)
def test_sklearn_checks_without_data(check, name):
    # R3D's kernel default is None ("the rules' default"): every default is builtin
    check(name, CASES[name][0]())


@pytest.mark.parametrize("name", REGRESSORS)
def test_sklearn_unfitted_regressors(name):
    check_estimators_unfitted(name, CASES[name][0]())


@pytest.mark.parametrize("name", NAMES)
def test_init_stores_only_and_clone_roundtrip(name):
    make = CASES[name][0]
    est = make()
    params = est.get_params(deep=False)
    # __init__ stores exactly its arguments, nothing else, and no fitted attribute
    assert {k: v for k, v in vars(est).items()} == params
    assert _fitted_attrs(est) == []
    # invalid values are stored as given: validation happens in fit
    bad = type(est)(**{**params, next(iter(params)): "not-a-valid-value"})
    assert bad.get_params(deep=False)[next(iter(params))] == "not-a-valid-value"
    # clone: same parameters, a new object, parameters not copied by reference for arrays
    c = clone(est)
    assert c is not est and type(c) is type(est)
    assert repr(c.get_params(deep=False)) == repr(params)
    # set_params round trip
    c.set_params(**params)
    assert repr(c.get_params(deep=False)) == repr(params)
    with pytest.raises(ValueError, match="Invalid parameter"):
        c.set_params(no_such_parameter=1)
    # repr names the class and a changed parameter
    assert repr(est).startswith(type(est).__name__ + "(")


@pytest.mark.parametrize("name", NAMES)
def test_not_fitted_error_before_fit(name):
    make, _, attr, needs_fit = CASES[name]
    est = make()
    with pytest.raises(NotFittedError, match="fit"):
        needs_fit(est)
    assert not hasattr(est, attr)


@pytest.mark.parametrize("name", NAMES)
def test_fit_returns_self_sets_attributes_and_keeps_params(name, fitted):
    make, fit, attr, needs_fit = CASES[name]
    est = make()
    before = repr(est.get_params(deep=False))
    out = fit(est)
    assert out is est
    assert hasattr(est, attr)
    assert attr in _fitted_attrs(est)
    assert repr(est.get_params(deep=False)) == before  # fit does not change parameters
    needs_fit(est)  # works after fit
    # a clone of a fitted estimator is unfitted
    assert _fitted_attrs(clone(est)) == []
    # refitting a fresh estimator gives the same fit (all randomness seeded)
    np.testing.assert_equal(_value(getattr(fitted[name], attr)), _value(getattr(est, attr)))


@pytest.mark.parametrize("name", NAMES)
def test_pickle_after_fit(name, fitted):
    _, _, attr, needs_fit = CASES[name]
    est = fitted[name]
    back = pickle.loads(pickle.dumps(est))
    assert type(back) is type(est)
    assert _fitted_attrs(back) == _fitted_attrs(est)
    np.testing.assert_equal(_value(getattr(back, attr)), _value(getattr(est, attr)))
    a, b = needs_fit(est), needs_fit(back)
    if isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b)
    else:
        assert str(a) == str(b)
