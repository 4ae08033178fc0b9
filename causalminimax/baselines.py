"""Baselines for transfer across environments: pooled ERM, the whole stable set, invariant
causal prediction (Peters, Bühlmann and Meinshausen, 2016) and anchor regression
(Rothenhäusler, Meinshausen, Bühlmann and Peters, 2021).

All take ``fit(X, y, environment=e)`` with ``X`` a DataFrame, like
:class:`~causalminimax.CausalMinimaxRegressor`: pandas ``y`` / ``environment`` are paired with
``X``'s rows by index label, arrays by position; ``score(X, y)`` pairs the same way.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from itertools import combinations
from math import comb
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.utils.validation import check_is_fitted

from causalminimax._door import (
    DEFAULT_MAX_SUBSETS,
    ScoreByLabelMixin,
    check_frame,
    check_max_subsets,
    check_real,
    feature_names,
    fit_inputs,
    node_list,
    reworded_warnings,
    warn_if_constant_target,
)
from causalminimax._stable import (
    check_estimator,
    fit_stable_predictors,
    graph_surgery,
    predict_frame,
    prepare,
)
from estkit import check_alpha, check_int, spawn
from estkit._parallel import _progress, _want_progress

__all__ = [
    "AnchorRegression",
    "InvariantCausalPrediction",
    "PooledERM",
    "StableSetRegressor",
]


class PooledERM(ScoreByLabelMixin, RegressorMixin, BaseEstimator):
    """Empirical risk minimisation on all covariates, pooling the environments.

    Parameters
    ----------
    estimator : scikit-learn regressor, optional
        Default :func:`~causalminimax.default_estimator`.

    Examples
    --------
    >>> X = pd.DataFrame({"a": np.arange(10.0)}); y = 2 * X["a"]
    >>> PooledERM().fit(X, y, environment=[0] * 5 + [1] * 5).predict(X)[:2].round(2)
    array([0., 2.])
    """

    def __init__(self, *, estimator: Any = None) -> None:
        self.estimator = estimator

    def fit(self, X: pd.DataFrame, y: Any, environment: Any = None) -> PooledERM:
        """Fit on the pooled data (``environment`` is checked, paired and then ignored).

        Parameters
        ----------
        X : pandas.DataFrame
            Covariates.
        y : array-like of shape (n,)
            Response (a pandas Series is paired with ``X`` by label).
        environment : array-like of shape (n,), optional
            Environment labels (checked and ignored).

        Returns
        -------
        self
        """
        X, yv, _ = fit_inputs(X, y, environment, require_environment=False, min_envs=1)
        est = check_estimator(self.estimator)
        _set_features(self, X.columns)
        with reworded_warnings("fitting the pooled model"):
            self.model_ = clone(est).fit(X.to_numpy(dtype=float), yv)
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Predict from the columns seen in ``fit``.

        Parameters
        ----------
        X : pandas.DataFrame
            Holds the columns seen in ``fit`` (by name; others are ignored).

        Returns
        -------
        ndarray of shape (n,)
        """
        check_is_fitted(self, "model_")
        return self.model_.predict(check_frame(X, self._cols).to_numpy(dtype=float))


class StableSetRegressor(ScoreByLabelMixin, RegressorMixin, BaseEstimator):
    """Stable predictor ``E[Y | X_S', do(X_M)]`` of a fixed stable subset (default: all of S).

    The graph-surgery estimate used by :class:`~causalminimax.CausalMinimaxRegressor`,
    without the subset search: the "whole stable set" baseline.

    Parameters
    ----------
    graph, target, mutable, estimator
        As in :class:`~causalminimax.CausalMinimaxRegressor`.
    subset : iterable, optional
        Stable covariates to use; default the whole stable set.
    environment_node : hashable, default "E"
        As in :class:`~causalminimax.CausalMinimaxRegressor`.
    n_do_samples : int, default 3000
        Size of the graph-surgery sample on which the stable predictor is fitted.
    random_state : None, int or Generator
        Seed of the graph-surgery sample.

    Examples
    --------
    >>> from causalminimax.datasets import simulate_paper, simulation_graph
    >>> df = simulate_paper(n_per_env=20, environments=range(1, 5), rng=0)
    >>> est = StableSetRegressor(graph=simulation_graph(), random_state=0)
    >>> est.fit(df.drop(columns=["Y", "E"]), df["Y"], environment=df["E"]).subset_[:3]
    ('X6', 'X5', 'X8')
    """

    def __init__(
        self,
        *,
        graph: Any = None,
        target: Hashable = "Y",
        mutable: Iterable[Hashable] | None = None,
        estimator: Any = None,
        subset: Iterable[Hashable] | None = None,
        environment_node: Hashable = "E",
        n_do_samples: int = 3000,
        random_state: Any = None,
    ) -> None:
        self.graph = graph
        self.target = target
        self.mutable = mutable
        self.estimator = estimator
        self.subset = subset
        self.environment_node = environment_node
        self.n_do_samples = n_do_samples
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y: Any, environment: Any = None) -> StableSetRegressor:
        """Fit the structural equations, draw the graph-surgery sample, fit the predictor.

        Parameters
        ----------
        X, y, environment
            As in :meth:`CausalMinimaxRegressor.fit <causalminimax.CausalMinimaxRegressor.fit>`
            (columns of ``X`` outside the graph are ignored).

        Returns
        -------
        self
        """
        n_do = check_int(self.n_do_samples, "n_do_samples", minimum=50)
        prep = prepare(self, X, y, environment)
        g = prep.graph
        subset = g.stable if self.subset is None else tuple(node_list(self.subset))
        bad = [s for s in subset if s not in g.stable]
        if bad:
            raise ValueError(f"`subset` has non-stable variables {bad}; stable are {g.stable}.")
        est = check_estimator(self.estimator)
        (gen,) = spawn(self.random_state, 1)
        self.subset_ = tuple(v for v in g.order if v in set(subset))
        self._inputs = self.subset_ + g.mutable
        _, dosample = graph_surgery(prep, est, n_do, gen)
        (self.model_,) = fit_stable_predictors(g, dosample, [self.subset_], est)
        self.feature_names_in_ = prep.feature_names
        self.n_features_in_ = len(prep.feature_names)
        self.predictor_features_ = feature_names(self._inputs)
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Predict from the subset and the mutable variables.

        Parameters
        ----------
        X : pandas.DataFrame
            Holds ``subset_`` and the mutable variables (by name; others are ignored).

        Returns
        -------
        ndarray of shape (n,)
        """
        check_is_fitted(self, "model_")
        return predict_frame(self.model_, X, self._inputs)


def _set_features(est: Any, columns: Any) -> None:
    """``feature_names_in_``, ``n_features_in_`` and the private column list of a baseline."""
    est._cols = list(columns)
    est.feature_names_in_ = feature_names(est._cols)
    est.n_features_in_ = len(est._cols)


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    design = np.column_stack([np.ones(len(y)), x])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    return coef, y - design @ coef


def _others_extreme(g: np.ndarray, fn: Any) -> np.ndarray:
    """For each group, ``fn`` (np.max or np.min) over the other groups' values ``g``."""
    if g.size == 1:
        return np.full(1, np.nan)
    order = np.argsort(g) if fn is np.max else np.argsort(-g)
    first, second = order[-1], order[-2]
    out = np.full(g.size, g[first])
    out[first] = g[second]
    return out


def _invariance_pvalue(resid: np.ndarray, env: np.ndarray, y: np.ndarray) -> float:
    """Approximate ICP test: residual means (Welch t-tests) and variances (F-tests), each
    environment against the rest, Bonferroni over environments and the two tests.

    Vectorised over environments (group sums), equal to ``scipy.stats.ttest_ind(a, b,
    equal_var=False)`` and the two-sided F-test per environment. Residuals that are rounding
    residue relative to ``y`` (an exact fit) are invariant; groups that are constant up to
    rounding are compared exactly (no sampling noise) instead of through the tests."""
    if np.max(np.abs(resid)) <= 64 * np.finfo(float).eps * np.max(np.abs(y)) * len(y):
        return 1.0
    tol = 64 * np.finfo(float).eps * np.max(np.abs(y))
    codes, labels = pd.factorize(env)
    n = np.bincount(codes).astype(float)
    s1 = np.bincount(codes, weights=resid)
    s2 = np.bincount(codes, weights=resid * resid)
    gmax = np.full(labels.size, -np.inf)
    gmin = np.full(labels.size, np.inf)
    np.maximum.at(gmax, codes, resid)
    np.minimum.at(gmin, codes, resid)
    omax, omin = _others_extreme(gmax, np.max), _others_extreme(gmin, np.min)
    nb, t1, t2 = len(resid) - n, resid.sum() - s1, float(resid @ resid) - s2
    ok = (n >= 2) & (nb >= 2)
    if not ok.any():
        return 1.0
    n, nb, s1, s2, t1, t2 = n[ok], nb[ok], s1[ok], s2[ok], t1[ok], t2[ok]
    flat_a = (gmax - gmin)[ok] <= tol
    flat_b = (omax - omin)[ok] <= tol
    ma, mb = s1 / n, t1 / nb
    va = np.maximum(s2 - n * ma**2, 0.0) / (n - 1)
    vb = np.maximum(t2 - nb * mb**2, 0.0) / (nb - 1)
    se2 = va / n + vb / nb
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (ma - mb) / np.sqrt(se2)
        df = se2**2 / ((va / n) ** 2 / (n - 1) + (vb / nb) ** 2 / (nb - 1))
        p_mean = 2 * stats.t.sf(np.abs(t), df)
        f = va / vb
        p_var = 2 * np.minimum(stats.f.cdf(f, n - 1, nb - 1), stats.f.sf(f, n - 1, nb - 1))
    both = flat_a & flat_b  # two constant groups: equal or not, no sampling noise
    p_mean = np.where(both, (np.abs(ma - mb) <= tol).astype(float), p_mean)
    p_var = np.where(both, 1.0, p_var)
    one = flat_a ^ flat_b  # one constant group: the variances differ
    p_mean = np.where(one, 0.0, p_mean)
    p_var = np.where(one, 0.0, p_var)
    pvals = np.nan_to_num(2 * np.minimum(p_mean, p_var), nan=1.0)
    return float(min(1.0, pvals.min() * len(pvals)))


class InvariantCausalPrediction(ScoreByLabelMixin, RegressorMixin, BaseEstimator):
    """Invariant causal prediction (Peters, Bühlmann and Meinshausen, 2016), linear version.

    Every subset of covariates (up to ``max_subset_size``) is tested for invariance of the
    pooled OLS residual distribution across environments (approximate test: equal means and
    variances, Bonferroni corrected); the estimated causal predictors are the intersection of
    the accepted subsets. Prediction is OLS on them (the mean when the set is empty).

    Parameters
    ----------
    alpha : float, default 0.05
        Level of the invariance tests (confidence 1 - alpha for the causal predictors).
    max_subset_size : int, optional
        Largest subset size tested (default: all columns).
    max_subsets : int, default 65536 (2^16)
        Limit of the exponential enumeration: the number of subsets tested is counted before
        testing and a larger count is refused (ValueError naming ``max_subsets``); a progress
        line is shown for long runs in an interactive terminal.

    Attributes
    ----------
    accepted_ : list of tuple
        Subsets whose invariance was not rejected.
    selected_subset_ : tuple
        Intersection of the accepted subsets.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> e = np.repeat([0, 1, 2], 200); x1 = rng.normal(size=600) + e
    >>> y = x1 + 0.5 * rng.normal(size=600); x2 = y + e * rng.normal(size=600)
    >>> icp = InvariantCausalPrediction().fit(pd.DataFrame({"x1": x1, "x2": x2}), y, e)
    >>> icp.selected_subset_
    ('x1',)
    """

    def __init__(
        self,
        *,
        alpha: float = 0.05,
        max_subset_size: int | None = None,
        max_subsets: int = DEFAULT_MAX_SUBSETS,
    ) -> None:
        self.alpha = alpha
        self.max_subset_size = max_subset_size
        self.max_subsets = max_subsets

    def fit(self, X: pd.DataFrame, y: Any, environment: Any = None) -> InvariantCausalPrediction:
        """Run the subset tests and fit OLS on the intersection of the accepted subsets.

        Parameters
        ----------
        X, y, environment
            As in :meth:`PooledERM.fit`; ``environment`` is required, with at least two rows
            per environment (the tests compare residual variances).

        Returns
        -------
        self
        """
        alpha = check_alpha(self.alpha)
        limit = check_max_subsets(self.max_subsets)
        X, yv, env = fit_inputs(X, y, environment, min_rows_per_env=2)
        assert env is not None  # required by fit_inputs
        cols = list(X.columns)
        xa = X.to_numpy(dtype=float)
        p = len(cols)
        if self.max_subset_size is None:
            kmax = p
        else:
            kmax = min(check_int(self.max_subset_size, "max_subset_size", minimum=0), p)
        count = sum(comb(p, k) for k in range(kmax + 1))
        if count > limit:
            raise ValueError(
                f"Invariant causal prediction would test {count:,} subsets of the {p} columns "
                f"of `X` (sizes 0..{kmax}), above `max_subsets`={limit:,}. Set "
                "`max_subset_size` (largest subset tested) or raise `max_subsets`."
            )
        constant = warn_if_constant_target(
            yv, "every subset is invariant; invariant causal prediction selects the empty set."
        )
        show = _want_progress(None) and count >= 4096
        accepted = []
        done = 0
        for k in range(kmax + 1):
            for sub in combinations(range(p), k):
                _, resid = _ols(xa[:, list(sub)], yv)
                if constant or _invariance_pvalue(resid, env, yv) > alpha:
                    accepted.append(tuple(cols[i] for i in sub))
                done += 1
                if show and (done % 1024 == 0 or done == count):
                    _progress(done, count, "ICP subsets")
        self.accepted_ = accepted
        if accepted:
            inter = set(accepted[0]).intersection(*map(set, accepted[1:]))
            self.selected_subset_ = tuple(c for c in cols if c in inter)
        else:
            self.selected_subset_ = ()
        idx = [cols.index(c) for c in self.selected_subset_]
        self.coef_, _ = _ols(xa[:, idx], yv)
        _set_features(self, cols)
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """OLS prediction from the selected covariates.

        Parameters
        ----------
        X : pandas.DataFrame
            Holds the columns of ``selected_subset_`` (others are ignored).

        Returns
        -------
        ndarray of shape (n,)
        """
        check_is_fitted(self, "coef_")
        x = check_frame(X, self.selected_subset_).to_numpy(dtype=float)
        return self.coef_[0] + x @ self.coef_[1:]


class AnchorRegression(ScoreByLabelMixin, RegressorMixin, BaseEstimator):
    """Linear anchor regression (Rothenhäusler et al., 2021) with environment dummies as anchors.

    Minimises ``||(I - P_A)(y - Xb)||^2 + gamma ||P_A (y - Xb)||^2`` where ``P_A`` projects on the
    environment indicators: OLS after transforming ``X`` and ``y`` with
    ``W = I - (1 - sqrt(gamma)) P_A``. ``gamma = 1`` is pooled OLS; ``gamma -> inf`` approaches
    instrumental-variable-like invariance.

    Parameters
    ----------
    gamma : float, default 5.0
        Anchor penalty: weight of the environment-explained part of the residual.

    Examples
    --------
    >>> X = pd.DataFrame({"a": np.arange(6.0)}); y = X["a"] + 1
    >>> AnchorRegression().fit(X, y, environment=[0, 0, 0, 1, 1, 1]).coef_.round(3)
    array([1.])
    """

    def __init__(self, *, gamma: float = 5.0) -> None:
        self.gamma = gamma

    def fit(self, X: pd.DataFrame, y: Any, environment: Any = None) -> AnchorRegression:
        """Fit the anchor-regression coefficients.

        Parameters
        ----------
        X, y, environment
            As in :meth:`PooledERM.fit`; ``environment`` is required (its indicators are the
            anchors).

        Returns
        -------
        self
        """
        gamma = check_real(self.gamma, "gamma", positive=True)
        X, yv, env = fit_inputs(X, y, environment)
        xa = X.to_numpy(dtype=float)
        xm, ym = xa.mean(axis=0), yv.mean()
        xc, yc = xa - xm, yv - ym
        codes = pd.factorize(env)[0]

        def proj(a: np.ndarray) -> np.ndarray:
            sums = np.zeros((codes.max() + 1, *a.shape[1:]))
            np.add.at(sums, codes, a)
            counts = np.bincount(codes).reshape((-1,) + (1,) * (a.ndim - 1))
            return (sums / counts)[codes]

        c = 1.0 - np.sqrt(gamma)
        xt = xc - c * proj(xc)
        yt = yc - c * proj(yc)
        self.coef_, *_ = np.linalg.lstsq(xt, yt, rcond=None)
        self.intercept_ = float(ym - xm @ self.coef_)
        _set_features(self, X.columns)
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Linear prediction.

        Parameters
        ----------
        X : pandas.DataFrame
            Holds the columns seen in ``fit``.

        Returns
        -------
        ndarray
            ``intercept_ + X @ coef_``.
        """
        check_is_fitted(self, "coef_")
        return self.intercept_ + check_frame(X, self._cols).to_numpy(dtype=float) @ self.coef_
