"""Baselines for transfer across environments: pooled ERM, the whole stable set, invariant
causal prediction (Peters, Bühlmann and Meinshausen, 2016) and anchor regression
(Rothenhäusler, Meinshausen, Bühlmann and Peters, 2021).

All take ``fit(X, y, environment=e)`` with ``X`` a DataFrame, like
:class:`~causalminimax.CausalMinimaxRegressor`.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.utils.validation import check_is_fitted

from causalminimax._estimator import _fit_predictor, default_estimator
from causalminimax._graph import parse_graph
from causalminimax._risk import do_sample, fit_structural_equations
from estkit import check_1d, check_alpha, check_consistent_length, check_positive, spawn

__all__ = [
    "AnchorRegression",
    "InvariantCausalPrediction",
    "PooledERM",
    "StableSetRegressor",
]


def _frame(X: Any, name: str = "X") -> pd.DataFrame:
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"`{name}` must be a pandas DataFrame with named columns.")
    arr = X.to_numpy(dtype=float)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` has missing or non-finite values; drop or impute them.")
    return X


def _env(environment: Any, n: int) -> np.ndarray:
    if environment is None:
        raise ValueError("`environment` is required: fit(X, y, environment=e).")
    env = np.asarray(environment)
    check_consistent_length(X=np.empty(n), environment=env)
    if pd.Series(env).nunique() < 2:
        raise ValueError("`environment` must contain at least two distinct environments.")
    return env


class PooledERM(RegressorMixin, BaseEstimator):
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

    def __init__(self, estimator: Any = None) -> None:
        self.estimator = estimator

    def fit(self, X: pd.DataFrame, y: Any, environment: Any = None) -> PooledERM:
        """Fit on the pooled data (``environment`` is accepted and ignored)."""
        X = _frame(X)
        yv = check_1d(y, "y")
        check_consistent_length(X=X, y=yv)
        est = default_estimator() if self.estimator is None else self.estimator
        self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        self._cols = list(X.columns)
        self.model_ = clone(est).fit(X.to_numpy(dtype=float), yv)
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Predict from the columns seen in ``fit``."""
        check_is_fitted(self, "model_")
        return self.model_.predict(_frame(X)[self._cols].to_numpy(dtype=float))


class StableSetRegressor(RegressorMixin, BaseEstimator):
    """Stable predictor ``E[Y | X_S', do(X_M)]`` of a fixed stable subset (default: all of S).

    The graph-surgery estimate used by :class:`~causalminimax.CausalMinimaxRegressor`,
    without the subset search: the "whole stable set" baseline.

    Parameters
    ----------
    graph, target, mutable, estimator, environment_node
        As in :class:`~causalminimax.CausalMinimaxRegressor`.
    subset : iterable, optional
        Stable covariates to use; default the whole stable set.
    n_do_samples : int, default 3000
    random_state : None, int or Generator

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
        graph: Any = None,
        target: Hashable = "Y",
        mutable: Iterable[Hashable] | None = None,
        estimator: Any = None,
        subset: Iterable[Hashable] | None = None,
        *,
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
        """Fit the structural equations, draw the graph-surgery sample, fit the predictor."""
        if self.graph is None:
            raise ValueError("`graph` is required.")
        g = parse_graph(self.graph, self.target, self.mutable, self.environment_node)
        X = _frame(X)
        missing = [c for c in g.covariates if c not in X.columns]
        if missing:
            raise ValueError(f"`X` lacks the graph variables {missing}.")
        yv = check_1d(y, "y")
        check_consistent_length(X=X, y=yv)
        _env(environment, len(yv))
        subset = g.stable if self.subset is None else tuple(self.subset)
        bad = [s for s in subset if s not in g.stable]
        if bad:
            raise ValueError(f"`subset` has non-stable variables {bad}; stable are {g.stable}.")
        est = default_estimator() if self.estimator is None else self.estimator
        data = {c: X[c].to_numpy(dtype=float) for c in g.covariates}
        data[g.target] = yv
        parents = {v: g.parents(v) for v in g.order}
        sm = fit_structural_equations(data, g.order, parents, g.mutable, g.regenerated(), est)
        (gen,) = spawn(self.random_state, 1)
        sample = do_sample(sm, data, int(self.n_do_samples), gen)
        self.subset_ = tuple(v for v in g.order if v in set(subset))
        self._inputs = self.subset_ + g.mutable
        self.model_ = _fit_predictor(sample, self._inputs, g.target, est)
        self.feature_names_in_ = np.asarray([str(c) for c in self._inputs], dtype=object)
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Predict from the subset and the mutable variables."""
        check_is_fitted(self, "model_")
        X = _frame(X)
        if not self._inputs:
            return self.model_.predict(np.zeros((len(X), 1)))
        return self.model_.predict(X[list(self._inputs)].to_numpy(dtype=float))


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    design = np.column_stack([np.ones(len(y)), x])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    return coef, y - design @ coef


def _invariance_pvalue(resid: np.ndarray, env: np.ndarray) -> float:
    """Approximate ICP test: residual means (Welch t-tests) and variances (F-tests), each
    environment against the rest, Bonferroni over environments and the two tests.

    Vectorised over environments (group sums), equal to ``scipy.stats.ttest_ind(a, b,
    equal_var=False)`` and the two-sided F-test per environment."""
    codes, labels = pd.factorize(env)
    n = np.bincount(codes).astype(float)
    s1 = np.bincount(codes, weights=resid)
    s2 = np.bincount(codes, weights=resid * resid)
    nb, t1, t2 = len(resid) - n, resid.sum() - s1, float(resid @ resid) - s2
    ok = (n >= 2) & (nb >= 2)
    if not ok.any():
        return 1.0
    n, nb, s1, s2, t1, t2 = n[ok], nb[ok], s1[ok], s2[ok], t1[ok], t2[ok]
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
    pvals = np.nan_to_num(2 * np.minimum(p_mean, p_var), nan=1.0)
    del labels
    return float(min(1.0, pvals.min() * len(pvals)))


class InvariantCausalPrediction(RegressorMixin, BaseEstimator):
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

    def __init__(self, alpha: float = 0.05, max_subset_size: int | None = None) -> None:
        self.alpha = alpha
        self.max_subset_size = max_subset_size

    def fit(self, X: pd.DataFrame, y: Any, environment: Any = None) -> InvariantCausalPrediction:
        """Run the subset tests and fit OLS on the intersection of the accepted subsets."""
        alpha = check_alpha(self.alpha)
        X = _frame(X)
        yv = check_1d(y, "y")
        check_consistent_length(X=X, y=yv)
        env = _env(environment, len(yv))
        cols = list(X.columns)
        xa = X.to_numpy(dtype=float)
        kmax = len(cols) if self.max_subset_size is None else int(self.max_subset_size)
        accepted = []
        for k in range(kmax + 1):
            for sub in combinations(range(len(cols)), k):
                _, resid = _ols(xa[:, list(sub)], yv)
                if _invariance_pvalue(resid, env) > alpha:
                    accepted.append(tuple(cols[i] for i in sub))
        self.accepted_ = accepted
        if accepted:
            inter = set(accepted[0]).intersection(*map(set, accepted[1:]))
            self.selected_subset_ = tuple(c for c in cols if c in inter)
        else:
            self.selected_subset_ = ()
        idx = [cols.index(c) for c in self.selected_subset_]
        self.coef_, _ = _ols(xa[:, idx], yv)
        self.feature_names_in_ = np.asarray([str(c) for c in cols], dtype=object)
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """OLS prediction from the selected covariates."""
        check_is_fitted(self, "coef_")
        x = _frame(X)[list(self.selected_subset_)].to_numpy(dtype=float)
        return self.coef_[0] + x @ self.coef_[1:]


class AnchorRegression(RegressorMixin, BaseEstimator):
    """Linear anchor regression (Rothenhäusler et al., 2021) with environment dummies as anchors.

    Minimises ``||(I - P_A)(y - Xb)||^2 + gamma ||P_A (y - Xb)||^2`` where ``P_A`` projects on the
    environment indicators: OLS after transforming ``X`` and ``y`` with
    ``W = I - (1 - sqrt(gamma)) P_A``. ``gamma = 1`` is pooled OLS; ``gamma -> inf`` approaches
    instrumental-variable-like invariance.

    Parameters
    ----------
    gamma : float, default 5.0

    Examples
    --------
    >>> X = pd.DataFrame({"a": np.arange(6.0)}); y = X["a"] + 1
    >>> AnchorRegression().fit(X, y, environment=[0, 0, 0, 1, 1, 1]).coef_.round(3)
    array([1.])
    """

    def __init__(self, gamma: float = 5.0) -> None:
        self.gamma = gamma

    def fit(self, X: pd.DataFrame, y: Any, environment: Any = None) -> AnchorRegression:
        """Fit the anchor-regression coefficients."""
        gamma = float(check_positive(self.gamma, "gamma"))
        X = _frame(X)
        yv = check_1d(y, "y")
        check_consistent_length(X=X, y=yv)
        env = _env(environment, len(yv))
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
        self._cols = list(X.columns)
        self.feature_names_in_ = np.asarray([str(c) for c in self._cols], dtype=object)
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Linear prediction."""
        check_is_fitted(self, "coef_")
        return self.intercept_ + _frame(X)[self._cols].to_numpy(dtype=float) @ self.coef_
