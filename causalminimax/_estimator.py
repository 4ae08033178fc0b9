"""The causal minimax regressor (Liu, Zheng, Sun, Fang and Wang, ICML 2023)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Hashable, Iterable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from causalminimax._door import (
    DEFAULT_MAX_SUBSETS,
    ScoreByLabelMixin,
    check_max_subsets,
    check_n_jobs,
    node_list,
    reworded_warnings,
    warn_if_constant_target,
)
from causalminimax._graph import CausalGraph
from causalminimax._results import CausalMinimaxResults
from causalminimax._risk import InterventionModel, SearchProblem, worst_case_risks
from causalminimax._stable import (
    check_estimator,
    default_estimator,
    fit_stable_predictors,
    graph_surgery,
    predict_frame,
    prepare,
)
from causalminimax.graph import ordered_representatives
from estkit import EstimationError, check_int, check_option, spawn

__all__ = ["CausalMinimaxRegressor", "default_estimator"]


def _check_intervention_model(model: Any) -> InterventionModel:
    model = model or InterventionModel()
    if not isinstance(model, InterventionModel):
        raise TypeError(
            "`intervention_model` must be a causalminimax.InterventionModel or None; got "
            f"{type(model).__name__}."
        )
    return model.validated()


def _all_subsets(g: CausalGraph, limit: int) -> list[tuple[Hashable, ...]]:
    """Every stable subset (``search_space="all"``), refused above ``max_subsets``."""
    n_all = 2 ** len(g.stable)
    if n_all > limit:
        raise ValueError(
            f'search_space="all" would fit and score all 2^{len(g.stable)} = {n_all:,} '
            f"stable subsets, above `max_subsets`={limit:,}. Use "
            'search_space="classes" (one subset per equivalence class) or raise '
            "`max_subsets`."
        )
    return [c for k in range(len(g.stable) + 1) for c in itertools.combinations(g.stable, k)]


class CausalMinimaxRegressor(ScoreByLabelMixin, RegressorMixin, BaseEstimator):
    """Stable predictor with minimal worst-case risk over shifts of the mutable mechanisms.

    Given a causal DAG over the response ``Y`` and covariates ``X`` in which the mechanisms of
    the *mutable* variables ``M`` change across environments, every subset ``S'`` of the stable
    set ``S = X \\ M`` defines a stable predictor ``f_S'(x) = E[Y | x_S', do(x_M)]`` (a function
    of ``x_S'`` and ``x_M``). Its worst-case risk is the supremum of its mean squared error over
    interventions ``do(X_m := g_m(PA_m))`` replacing the mutable mechanisms. The estimator

    1. computes the graph components and the graphical condition (``K ∩ Ch(Y) = ∅``); when it
       holds the whole stable set is optimal and no search is run (unless ``search="always"``);
    2. finds one representative per equivalence class of stable subsets (subsets with the same
       regression function, see :func:`~causalminimax.equivalence_classes`);
    3. fits the structural equations of the descendants of ``M``, draws a graph-surgery sample
       (``M`` independent of its parents), and fits ``f_S'`` on it for each representative;
    4. maximises each predictor's risk over norm-bounded intervention functions
       (:class:`~causalminimax.InterventionModel`) from several restarts;
    5. selects the representative with the smallest estimated worst-case risk; ``predict``
       uses its stable predictor.

    Parameters
    ----------
    graph : networkx.DiGraph or iterable of (parent, child) edges
        DAG over ``target`` and the covariates, optionally augmented with the environment node
        ``environment_node`` pointing to the mutable variables.
    target : hashable, default "Y"
        The response node (the name of ``y``).
    mutable : iterable, optional
        Mutable covariates. If None, the children of ``environment_node`` in ``graph``.
    estimator : scikit-learn regressor, optional
        Model of the structural equations and of the stable predictors; default
        :func:`default_estimator` (additive splines + ridge).
    intervention_model : InterventionModel, optional
        Class of the intervention functions (basis, norm bound) and the settings of the
        maximisation; default ``InterventionModel()`` (linear, bound 3 sd, 4 restarts, values
        kept in the training support).
    environment_node : hashable, default "E"
        Name of the environment node in an augmented ``graph``.
    search : {"auto", "always"}, default "auto"
        ``"auto"`` skips the search when the graphical condition holds.
    search_space : {"classes", "all"}, default "classes"
        ``"classes"`` searches one representative per equivalence class (exact when the graph
        is correct and faithful); ``"all"`` fits and scores every one of the ``2^|S|`` stable
        subsets, as the authors' code does, which does not rely on the graph's independences
        to merge subsets (use it for small ``|S|`` when the graph may be misspecified).
    n_do_samples : int, default 3000
        Size of the graph-surgery sample on which the stable predictors are fitted.
    max_subsets : int, default 65536 (2^16)
        Limit of the exponential enumeration: the number of stable subsets the class search
        may explore, or fit with ``search_space="all"``. A graph that exceeds it (e.g. a
        target with 17 or more stable neighbours, at least ``2^17`` classes) is refused
        with a ValueError naming ``max_subsets`` and the count, before anything is fitted.
        Each searched subset costs one fit and one worst-case search; a progress line is
        shown for long runs in an interactive terminal.
    n_jobs : int, optional
        Parallel workers (joblib) over the representatives; results do not depend on it.
    random_state : None, int or numpy.random.Generator
        Seed of every random step (graph-surgery sample, restarts, random features).

    Attributes
    ----------
    results_ : CausalMinimaxResults
        Results object of the fit (components, risks, choice, ``summary()``); the attributes
        ``components_`` to ``fit_time_`` below are its values.
    graph_ : CausalGraph
        Validated graph.
    components_ : StableComponents
        Output of :func:`~causalminimax.stable_components`.
    whole_stable_set_optimal_ : bool
        The graphical condition ``K ∩ Ch(Y) = ∅``.
    representatives_ : list of tuple
        Searched subsets (one per class, or all subsets with ``search_space="all"``).
    worst_case_risk_ : pandas.Series
        Estimated worst-case risk indexed by representative subset (tuples).
    selected_subset_ : tuple
        Chosen stable subset.
    predictor_ : regressor
        Stable predictor of the chosen subset; inputs are ``selected_subset_ + mutable``.
    feature_names_in_ : ndarray of str
        Columns of ``X`` seen in ``fit`` (every covariate of the graph, in ``X``'s order).
    n_features_in_ : int
        Number of columns of ``X`` seen in ``fit``.
    predictor_features_ : ndarray of str
        Columns used by ``predict`` (``selected_subset_`` then the mutable variables).
    structural_model_ : StructuralModel
        Fitted structural equations of the regenerated variables.
    stable_predictors_ : dict
        Fitted stable predictor of each representative (inputs: subset + mutable).
    worst_case_interventions_ : dict
        Maximising intervention parameters of each representative.
    n_environments_ : int
        Number of training environments.
    n_obs_ : int
        Number of training observations.
    fit_time_ : float
        Seconds spent in ``fit``.

    Notes
    -----
    Assumptions: the DAG is correct, causally sufficient and faithful; the mechanisms of the
    response and of the stable covariates are invariant, with additive noise for the variables
    that are regenerated; the test-time shifts are interventions on the mutable mechanisms that
    stay within the chosen intervention class. ``environment`` is used to check that the data
    come from several environments; the method itself pools them.

    References
    ----------
    Liu, M., Zheng, X., Sun, X., Fang, F. and Wang, Y. (2023). Which invariance should we
    transfer? A causal minimax learning approach. ICML. arXiv:2107.01876.

    Examples
    --------
    >>> from causalminimax.datasets import simulate_paper, simulation_graph
    >>> df = simulate_paper(n_per_env=30, environments=range(1, 7), rng=0)
    >>> X, y = df.drop(columns=["Y", "E"]), df["Y"]
    >>> search = InterventionModel(n_restarts=1, n_iter=1, n_eval=100)
    >>> est = CausalMinimaxRegressor(graph=simulation_graph(), target="Y",
    ...     intervention_model=search, n_do_samples=500, random_state=0)
    >>> est = est.fit(X, y, environment=df["E"])
    >>> est.whole_stable_set_optimal_, len(est.worst_case_risk_)
    (False, 45)
    >>> est.predict(X).shape
    (180,)
    """

    def __init__(
        self,
        *,
        graph: Any = None,
        target: Hashable = "Y",
        mutable: Iterable[Hashable] | None = None,
        estimator: Any = None,
        intervention_model: InterventionModel | None = None,
        environment_node: Hashable = "E",
        search: str = "auto",
        search_space: str = "classes",
        n_do_samples: int = 3000,
        max_subsets: int = DEFAULT_MAX_SUBSETS,
        n_jobs: int | None = None,
        random_state: Any = None,
    ) -> None:
        self.graph = graph
        self.target = target
        self.mutable = mutable
        self.estimator = estimator
        self.intervention_model = intervention_model
        self.environment_node = environment_node
        self.search = search
        self.search_space = search_space
        self.n_do_samples = n_do_samples
        self.max_subsets = max_subsets
        self.n_jobs = n_jobs
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    def fit(self, X: pd.DataFrame, y: Any, environment: Any = None) -> CausalMinimaxRegressor:
        """Select the stable subset with minimal estimated worst-case risk and fit it.

        Parameters
        ----------
        X : pandas.DataFrame
            Covariates; columns named as the graph's covariate nodes (pooled over the
            training environments).
        y : array-like of shape (n,)
            Response. A pandas Series is paired with ``X``'s rows by index label (a
            different label set is refused); arrays are paired by position.
        environment : array-like of shape (n,)
            Training environment of each row (at least two distinct values), paired like
            ``y``.

        Returns
        -------
        self
            The fitted estimator; ``results_`` holds the results object.
        """
        t0 = time.perf_counter()
        search = check_option(self.search, "search", ("auto", "always"))
        space = check_option(self.search_space, "search_space", ("classes", "all"))
        n_do = check_int(self.n_do_samples, "n_do_samples", minimum=50)
        model = _check_intervention_model(self.intervention_model)
        est = check_estimator(self.estimator)
        limit = check_max_subsets(self.max_subsets)
        n_jobs = check_n_jobs(self.n_jobs)
        prep = prepare(self, X, y, environment, exact=True)
        g = prep.graph
        constant_y = warn_if_constant_target(
            prep.y,
            "every stable predictor has zero risk under any intervention; all worst-case "
            "risks are reported as 0 and the smallest representative is selected.",
        )
        comp = g.components
        run_search = search == "always" or not comp.whole_stable_set_optimal
        # enumerate first: the exponential step is refused before anything is fitted
        if not run_search:
            subsets = [tuple(g.stable)]
        elif space == "all":
            subsets = _all_subsets(g, limit)
        else:
            subsets = ordered_representatives(g, limit)

        gen_sem, gen_do, gen_eval, gen_tasks = spawn(self.random_state, 4)
        sm, dosample = graph_surgery(prep, est, n_do, gen_do)
        problem = SearchProblem.draw(sm, prep.data, g.target, model, gen_eval, gen_sem)
        predictors = fit_stable_predictors(g, dosample, subsets, est, n_jobs)
        if run_search:
            with reworded_warnings("searching the worst-case interventions"):
                values, found = worst_case_risks(
                    predictors, [s + g.mutable for s in subsets], problem, gen_tasks
                )
            values = np.asarray(values, dtype=float)
            if constant_y:
                values = np.zeros(len(subsets))  # rounding residue of a constant y is no risk
            bad = [s for s, v in zip(subsets, values, strict=True) if not np.isfinite(v)]
            if bad:
                raise EstimationError(
                    f"The estimated worst-case risk is not finite for the subsets {bad[:5]}: "
                    "the `estimator`'s predictions under the interventions are NaN or "
                    "overflow. Use a regressor that extrapolates stably (e.g. the default) or "
                    "a smaller `intervention_model.bound`."
                )
            best = int(np.nanargmin(values))
        else:
            # not searched: unknown (NaN), except that a constant y has zero risk everywhere
            values = np.full(len(subsets), 0.0 if constant_y else np.nan)
            found, best = np.zeros((len(subsets), 0)), 0
        risks = pd.Series(
            values,
            index=pd.Index(subsets, tupleize_cols=False, name="subset"),
            name="worst_case_risk",
        )
        self.graph_ = g
        self.feature_names_in_ = prep.feature_names
        self.n_features_in_ = len(prep.feature_names)
        self.representatives_ = subsets
        self.worst_case_interventions_ = {sub: found[j].copy() for j, sub in enumerate(subsets)}
        self.stable_predictors_ = dict(zip(subsets, predictors, strict=True))
        self.predictor_ = predictors[best]
        self.structural_model_ = sm
        self._inputs = subsets[best] + g.mutable
        self.predictor_features_ = np.asarray([str(c) for c in self._inputs], dtype=object)
        self.results_ = CausalMinimaxResults(
            components=comp,
            worst_case_risk=risks,
            selected_subset=subsets[best],
            whole_stable_set_optimal=comp.whole_stable_set_optimal,
            n_obs=prep.n_obs,
            n_environments=prep.n_environments,
            intervention_model=model,
            fit_time=time.perf_counter() - t0,
        )
        # the fitted attributes named in the docs are the results object's own values
        res = self.results_
        self.components_ = res.components
        self.whole_stable_set_optimal_ = res.whole_stable_set_optimal
        self.worst_case_risk_ = res.worst_case_risk
        self.selected_subset_ = res.selected_subset
        self.n_environments_ = res.n_environments
        self.n_obs_ = res.n_obs
        self.fit_time_ = res.fit_time
        return self

    # ------------------------------------------------------------------ predict
    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Predict with the stable predictor of the selected subset.

        Parameters
        ----------
        X : pandas.DataFrame
            Must contain the columns ``selected_subset_`` and the mutable variables (other
            columns are ignored).

        Returns
        -------
        ndarray of shape (n,)
        """
        check_is_fitted(self, "predictor_")
        return predict_frame(self.predictor_, X, self._inputs)

    def predict_subset(self, X: pd.DataFrame, subset: Iterable[Hashable]) -> np.ndarray:
        """Predict with the stable predictor of another searched representative ``subset``.

        Parameters
        ----------
        X : pandas.DataFrame
            Must contain the columns ``subset`` and the mutable variables.
        subset : iterable of hashable
            One of ``representatives_`` (in any order).

        Returns
        -------
        ndarray of shape (n,)
        """
        check_is_fitted(self, "predictor_")
        wanted = node_list(subset)
        key = tuple(v for v in self.graph_.order if v in set(wanted))
        if len(key) != len(set(wanted)) or key not in self.stable_predictors_:
            raise ValueError(
                f"`subset` {tuple(wanted)} is not a searched representative; see "
                "`representatives_`."
            )
        return predict_frame(self.stable_predictors_[key], X, key + self.graph_.mutable)

    def results(self) -> CausalMinimaxResults:
        """The results object of the fit (``results_``), built once in ``fit``.

        Returns
        -------
        CausalMinimaxResults
        """
        check_is_fitted(self, "predictor_")
        return self.results_

    def summary(self, digits: int = 4) -> Any:
        """statsmodels-style summary: components, the condition, the risk table, the choice.

        Parameters
        ----------
        digits : int, default 4
            Significant digits of the numbers.

        Returns
        -------
        statsmodels.iolib.summary.Summary
        """
        check_is_fitted(self, "predictor_")
        return self.results_.summary(digits=digits)
