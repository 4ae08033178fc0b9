"""The stable-set pipeline shared by the estimators (prepared sample, graph surgery, fits).

:func:`prepare` is the door: it converts the ``graph`` argument once into a
:class:`~causalminimax._graph.CausalGraph`, validates and pairs ``X``, ``y`` and
``environment`` and returns a :class:`StableSample` that the numerical steps trust.
:func:`graph_surgery` fits the structural equations and draws the graph-surgery sample;
:func:`fit_stable_predictors` fits ``E[Y | X_S', do(X_M)]`` for each subset ``S'`` on it.
Both :class:`~causalminimax.CausalMinimaxRegressor` and
:class:`~causalminimax.baselines.StableSetRegressor` run these steps.
"""

from __future__ import annotations

import inspect
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.dummy import DummyRegressor

from causalminimax._door import (
    check_frame,
    check_mutable_varies,
    feature_names,
    fit_inputs,
    reworded_warnings,
)
from causalminimax._graph import CausalGraph, as_causal_graph
from causalminimax._risk import (
    StructuralModel,
    _design,
    do_sample,
    fit_structural_equations,
    predict_from,
)
from causalminimax._spline import AdditiveSplineRidge
from estkit import parallel_map

__all__ = [
    "PredictorTask",
    "StableSample",
    "SurgerySample",
    "default_estimator",
    "fit_stable_predictors",
    "graph_surgery",
    "predict_frame",
    "prepare",
]


def default_estimator() -> Any:
    """The default structural-equation and predictor model.

    Additive cubic splines with linear extrapolation and a cross-validated ridge penalty:
    flexible enough for smooth nonlinear mechanisms, cheap to fit and to evaluate on the large
    batches of the worst-case search, and linear (not explosive) outside the training range.

    Returns
    -------
    AdditiveSplineRidge
        An unfitted scikit-learn regressor (a new instance at every call).

    Examples
    --------
    >>> default_estimator()
    AdditiveSplineRidge()
    """
    return AdditiveSplineRidge()


def check_estimator(estimator: Any) -> Any:
    """The ``estimator`` option: ``None`` (the default model) or a regressor."""
    est = default_estimator() if estimator is None else estimator
    if not (hasattr(est, "fit") and hasattr(est, "predict")):
        raise TypeError("`estimator` must be a scikit-learn regressor (fit/predict).")
    return est


@dataclass(frozen=True)
class StableSample:
    """Validated training data of a stable-set fit (what the numerical steps trust).

    Attributes
    ----------
    graph : CausalGraph
    data : dict
        Node -> float values (the target and every covariate of the graph).
    environment : ndarray
        Environment label of each row.
    feature_names : ndarray of str
        Columns of ``X`` seen in ``fit``.
    """

    graph: CausalGraph
    data: dict[Hashable, np.ndarray]
    environment: np.ndarray
    feature_names: np.ndarray

    @property
    def y(self) -> np.ndarray:
        """The response."""
        return self.data[self.graph.target]

    @property
    def n_obs(self) -> int:
        """Number of rows."""
        return len(self.y)

    @property
    def n_environments(self) -> int:
        """Number of distinct environments."""
        return int(pd.Series(self.environment, dtype=object).nunique())


def prepare(params: Any, X: Any, y: Any, environment: Any, *, exact: bool = False) -> StableSample:
    """Convert the graph once and validate the data of a stable-set estimator's ``fit``.

    Parameters
    ----------
    params : estimator
        Holds ``graph``, ``target``, ``mutable`` and ``environment_node``.
    X, y, environment
        As in ``fit``.
    exact : bool, default False
        Refuse columns of ``X`` that are not nodes of the graph.

    Returns
    -------
    StableSample
    """
    g = as_causal_graph(params.graph, params.target, params.mutable, params.environment_node)
    Xf, yv, env = fit_inputs(X, y, environment, columns=g.covariates, exact=exact)
    assert env is not None  # fit_inputs requires it
    check_mutable_varies(Xf, g.mutable)
    data = {c: Xf[c].to_numpy(dtype=float) for c in g.covariates}
    data[g.target] = yv
    names = feature_names((X if exact else Xf).columns)
    return StableSample(graph=g, data=data, environment=env, feature_names=names)


@dataclass(frozen=True)
class SurgerySample:
    """Rows of the graph-surgery distribution and the training row behind each one.

    Attributes
    ----------
    values : dict
        Node -> sampled values.
    source : ndarray of int
        Training row from which each row's target value (for a regenerated target: its
        residual) was drawn. Rows sharing it are copies of one training observation as far
        as the response is concerned; a predictor's cross-validation leaves them out together.
    """

    values: dict[Hashable, np.ndarray]
    source: np.ndarray


def graph_surgery(
    sample: StableSample, estimator: Any, n_samples: int, rng: np.random.Generator
) -> tuple[StructuralModel, SurgerySample]:
    """Fit the structural equations of the regenerated variables and draw ``n_samples`` rows
    of the graph-surgery distribution ``P(. | do(X_M))`` (see :func:`do_sample`).

    Parameters
    ----------
    sample : StableSample
    estimator : regressor
        Template of the structural equations.
    n_samples : int
    rng : numpy.random.Generator

    Returns
    -------
    (StructuralModel, SurgerySample)
    """
    g = sample.graph
    with reworded_warnings("fitting the structural equations"):
        sm = fit_structural_equations(
            sample.data, g.order, g.parent_map, g.mutable, g.regenerated(), estimator
        )
        sources: dict[Hashable, np.ndarray] = {}
        values = do_sample(sm, sample.data, n_samples, rng, sources)
        return sm, SurgerySample(values, sources[g.target])


def _takes_groups(estimator: Any) -> bool:
    """Whether ``estimator.fit`` has a ``groups`` parameter (the default model has)."""
    try:
        return "groups" in inspect.signature(estimator.fit).parameters
    except (TypeError, ValueError):
        return False


@dataclass(frozen=True)
class PredictorTask:
    """One stable predictor to fit: its inputs ``S' ∪ M`` on the graph-surgery sample.

    An estimator whose ``fit`` takes ``groups`` (the default
    :class:`~causalminimax._spline.AdditiveSplineRidge`) receives the source rows, so that its
    leave-one-out leaves out every copy of a training row.
    """

    inputs: tuple[Hashable, ...]
    sample: SurgerySample
    target: Hashable
    estimator: Any

    def fit(self) -> Any:
        """The fitted predictor (a constant for no inputs)."""
        values = self.sample.values
        y = values[self.target]
        if not self.inputs:
            return DummyRegressor().fit(np.zeros((len(y), 1)), y)
        est = clone(self.estimator)
        X = _design(values, self.inputs, len(y))
        if _takes_groups(est):
            return est.fit(X, y, groups=self.sample.source)
        return est.fit(X, y)


def _fit_task(task: PredictorTask) -> Any:
    return task.fit()


def fit_stable_predictors(
    graph: CausalGraph,
    dosample: SurgerySample,
    subsets: Sequence[tuple[Hashable, ...]],
    estimator: Any,
    n_jobs: int | None = None,
) -> list[Any]:
    """Fit the stable predictor of every subset (inputs ``subset + mutable``) in parallel.

    Parameters
    ----------
    graph : CausalGraph
    dosample : SurgerySample
        The graph-surgery sample (from :func:`graph_surgery`).
    subsets : sequence of tuple
    estimator : regressor
    n_jobs : int, optional

    Returns
    -------
    list of fitted regressors
    """
    tasks = [PredictorTask(s + graph.mutable, dosample, graph.target, estimator) for s in subsets]
    with reworded_warnings("fitting the stable predictors"):
        return parallel_map(_fit_task, tasks, n_jobs=n_jobs, desc="subsets")


def predict_frame(model: Any, X: Any, inputs: Iterable[Hashable]) -> np.ndarray:
    """Predictions of a stable predictor from the columns ``inputs`` of the DataFrame ``X``
    (checked here; :func:`predict_from` builds the design, so that
    :func:`causalminimax.evaluation.subset_max_test_mse` gives the same digits)."""
    cols = list(inputs)
    sub = check_frame(X, cols)
    return predict_from(model, {c: sub[c].to_numpy() for c in cols}, cols, len(sub))
