"""Feature-based maximal causal entropy IRL (Ziebart et al. 2008, 2010).

The reward is linear in given features, ``r_theta(s, a) = phi(s, a) . theta``. With the
demonstrator's state-action occupancy ``c`` (expected discounted counts) the weights solve
the convex feature-matching dual

    minimise  f(theta) = mu0 . V_0(theta) - theta . phi^T c + (l2 / 2) |theta|^2,

where ``V_0`` are the soft (temperature ``alpha``) values of ``r_theta``. Its gradient is
exact, ``phi^T (c_model(theta) - c) + l2 * theta``, with ``c_model`` the occupancy of the
soft-optimal policy (``dV_0 / dr`` is that occupancy, whatever the temperature); at the
unpenalised optimum the expected feature counts match.

From sampled trajectories, ``mu0`` is replaced by the injections
``rho_t(s) = sum_a c_t(s, a) - d (T^T c_{t-1})(s)`` of the empirical counts ``c_t``:
``f`` is then exactly the negative causal log-likelihood of the demonstrated actions,
``-sum log pi_theta(a_t | s_t)`` (since ``log pi = (Q - V) / alpha`` and
``Q_t = r + d T V_{t+1}``), with the same form of exact gradient. It equals the dual in
expectation and, unlike the dual, stays bounded when the sample counts violate the
Bellman flow (which they do).

Finite horizons follow ``soft_value_iteration_fh`` and ``occupancy_measure`` (imitation's
conventions); ``horizon=None`` is the infinite discounted horizon.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import minimize
from sklearn.exceptions import ConvergenceWarning

from estkit import check_int
from estkit.results import ResultsBase, SummaryParts
from irl_sensitivity._common import fill_doc, renamed_arguments
from irl_sensitivity._irl import _check_trajectories, _ResultsEstimator
from irl_sensitivity._mdp import TabularMDP, summary_rows
from irl_sensitivity._occupancy import (
    OccupancyMeasure,
    _check_horizon,
    _discounted_core,
    _Flow,
)
from irl_sensitivity._planning import (
    _DIRECT_SPARSE_MAX,
    _check_discount,
    _check_temperature,
    _soft_fh_core,
    soft_value_iteration,
)

__all__ = ["FeatureIRLResults", "FeatureMCEIRL"]

_MASS_RTOL = 1e-6


def _check_nonneg_float(value: Any, name: str, *, positive: bool = False) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"`{name}` must be a float; got {value!r}.")
    out = float(value)
    if not np.isfinite(out) or out < 0 or (positive and out == 0):
        bound = "> 0" if positive else ">= 0"
        raise ValueError(f"`{name}` must be finite and {bound}; got {value!r}.")
    return out


def _feature_matrix(mdp: TabularMDP, features: Any) -> np.ndarray | sp.csr_matrix | None:
    """Features as an (S * A, K) matrix, rows in (s, a) order; None means tabular one-hot."""
    if features is None:
        return None
    s, a = mdp.n_states, mdp.n_actions
    if sp.issparse(features):
        phi = sp.csr_matrix(features, dtype=float)
        if phi.shape[0] != s * a or phi.shape[1] < 1:
            raise ValueError(
                f"sparse `features` must have shape (S * A, K) = ({s * a}, K) with rows in "
                f"(state, action) order; got {phi.shape}."
            )
        if not np.all(np.isfinite(phi.data)):
            raise ValueError("`features` contains non-finite values.")
        return phi
    try:
        f = np.asarray(features, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(
            "`features` must be a numeric array of shape (S, K), (S, A, K) or (S, A, S, K), a "
            "sparse (S * A, K) matrix, or None (tabular)."
        ) from None
    shapes = f"(S, K), (S, A, K) or (S, A, S, K) with S={s}, A={a}"
    if f.ndim == 2 and f.shape[0] == s:
        phi = np.repeat(f, a, axis=0)
    elif f.ndim == 3 and f.shape[:2] == (s, a):
        phi = f.reshape(s * a, f.shape[2])
    elif f.ndim == 4 and f.shape[:3] == (s, a, s):
        if mdp.is_sparse:
            raise ValueError(
                "`features` of shape (S, A, S, K) is not supported with sparse transitions; "
                "pass expected features of shape (S, A, K)."
            )
        phi = np.einsum("sat,satk->sak", mdp.transition, f).reshape(s * a, f.shape[3])
    else:
        raise ValueError(f"`features` must have shape {shapes}; got {f.shape}.")
    if phi.shape[1] < 1:
        raise ValueError("`features` needs at least one feature (K >= 1).")
    if not np.all(np.isfinite(phi)):
        raise ValueError("`features` contains non-finite values.")
    return np.ascontiguousarray(phi)


def _occupancy_mass(horizon: int | None, disc: float) -> float:
    """Total mass of a state-action occupancy under our convention."""
    if horizon is None:
        return 1.0 / (1.0 - disc)
    if disc == 1.0:
        return float(horizon)
    return (1.0 - disc**horizon) / (1.0 - disc)


class _Demo(NamedTuple):
    """The demonstrator's statistics: counts ``c`` (S, A) and injections ``rho``.

    The fit minimises ``sum_t rho_t . V_t(theta) - theta . phi^T c``: with an exact
    occupancy ``rho`` is ``mu0`` at ``t = 0`` (the feature-matching dual); with
    trajectories it is the negative causal log-likelihood of the demonstrated actions
    (``rho_t(s) = sum_a c_t(s, a) - d (T^T c_{t-1})(s)``, which equals the dual in
    expectation and stays bounded when the sample counts violate the Bellman flow).
    """

    counts: np.ndarray
    rho: np.ndarray
    n_trajectories: int | None


def _demo_statistics(
    mdp: TabularMDP,
    trajectories: Any,
    occupancy: Any,
    horizon: int | None,
    disc: float,
    flow: _Flow,
) -> _Demo:
    """Validate the demonstrations and reduce them to counts and injections."""
    s, a = mdp.n_states, mdp.n_actions
    if (trajectories is None) == (occupancy is None):
        raise ValueError(
            "Pass exactly one of `trajectories` (demonstrations) and `occupancy` (the "
            "demonstrator's state-action occupancy, e.g. occupancy_measure(...).state_action)."
        )
    if occupancy is not None:
        occ = _check_occupancy(mdp, occupancy, horizon, disc)
        if horizon is None:
            rho = occ.sum(axis=1) - disc * flow(occ)
        else:
            rho = np.zeros((horizon, s))
            rho[0] = mdp.initial
        return _Demo(occ, rho, None)
    trajs = _check_trajectories(mdp, trajectories)
    n = len(trajs)
    if horizon is None:
        counts = np.zeros((s, a))
        for tr in trajs:
            np.add.at(counts, (tr[:, 0], tr[:, 1]), 1.0)
        counts /= n
        return _Demo(counts, counts.sum(axis=1) - disc * flow(counts), n)
    for i, tr in enumerate(trajs):
        if len(tr) < horizon:
            raise ValueError(
                f"`trajectories`[{i}] has {len(tr)} steps but horizon={horizon}; every "
                "demonstration needs at least `horizon` steps (the first `horizon` are used)."
            )
    steps = np.stack([tr[:horizon] for tr in trajs])  # (N, H, 2)
    flat = steps[:, :, 0] * a + steps[:, :, 1]
    counts = np.zeros((s, a))
    rho = np.empty((horizon, s))
    prev = None
    for t in range(horizon):
        c_t = np.bincount(flat[:, t], minlength=s * a).reshape(s, a) / n
        rho[t] = c_t.sum(axis=1) if prev is None else c_t.sum(axis=1) - disc * flow(prev)
        counts += c_t
        prev = c_t
    return _Demo(counts, rho, n)


def _check_occupancy(
    mdp: TabularMDP, occupancy: Any, horizon: int | None, disc: float
) -> np.ndarray:
    s, a = mdp.n_states, mdp.n_actions
    if isinstance(occupancy, OccupancyMeasure):
        if occupancy.horizon != horizon or not np.isclose(occupancy.discount, disc):
            raise ValueError(
                f"`occupancy` was computed with horizon={occupancy.horizon}, "
                f"discount={occupancy.discount:g}, but the estimator uses horizon={horizon}, "
                f"discount={disc:g}; recompute it or change the estimator."
            )
        occupancy = occupancy.state_action
    try:
        occ = np.asarray(occupancy, dtype=float)
    except (TypeError, ValueError):
        raise TypeError("`occupancy` must be a numeric (S, A) array.") from None
    if occ.shape != (s, a):
        raise ValueError(
            f"`occupancy` must be a state-action occupancy of shape (S, A) = ({s}, {a}); "
            f"got {occ.shape}. Use occupancy_measure(...).state_action."
        )
    if not np.all(np.isfinite(occ)) or occ.min() < 0:
        raise ValueError("`occupancy` must hold finite non-negative visit counts.")
    mass = _occupancy_mass(horizon, disc)
    total = float(occ.sum())
    if abs(total - mass) > _MASS_RTOL * mass:
        raise ValueError(
            f"`occupancy` sums to {total:.6g}, but horizon={horizon} and discount={disc:g} "
            f"imply a total of {mass:.6g}; compute it with occupancy_measure(mdp, policy, "
            f"horizon={horizon}, discount={disc:g}).state_action."
        )
    return occ.copy()


@fill_doc
@dataclass(eq=False, repr=False, kw_only=True)
class FeatureIRLResults(ResultsBase):
    """Results of a feature-based MCE IRL fit.

    Built by :meth:`FeatureMCEIRL.fit` (available as its ``results_``); the keyword-only
    constructor arguments are stored as read-only attributes of the same names.

    Parameters
    ----------
    theta : ndarray of shape (K,)
        Fitted feature weights.
    feature_names : list of str
        Names of the K features (``phi_k``, or ``r(s, a)`` in the tabular model).
    reward : ndarray of shape (S, A)
        The fitted reward ``phi(s, a) . theta``.
    policy : ndarray of shape (S, A) or (H, S, A)
        Soft-optimal policy of ``reward`` (time-indexed for a finite horizon).
    demo_features : ndarray of shape (K,)
        The demonstrator's expected feature counts.
    model_features : ndarray of shape (K,)
        The model's expected feature counts at ``theta``.
    objective : float
        Value of the (penalised) dual objective at ``theta``.
    n_iter : int
        Iterations used (L-BFGS plus the polishing Newton steps).
    converged : bool
        Whether the largest gradient entry met the tolerance.
    message : str
        The optimiser's termination message.
    horizon : int or None
        The finite horizon (None: infinite, discounted).
    discount : float
        The discount used.
    temperature : float
        Temperature of the soft Bellman backup.
    l2 : float
        Ridge penalty.
    n_trajectories : int or None
        Number of demonstrations (None when fitted to an occupancy measure).
    %(env)s

    Examples
    --------
    >>> import numpy as np
    >>> from irl_sensitivity import example_problem, FeatureMCEIRL, mce_policy, occupancy_measure
    >>> mdp, R = example_problem()
    >>> occ = occupancy_measure(mdp, mce_policy(mdp, R)).state_action
    >>> res = FeatureMCEIRL(features=np.eye(3)).fit(mdp, occupancy=occ).results_
    >>> res.feature_names, res.converged, res.horizon, res.discount
    (['phi_0', 'phi_1', 'phi_2'], True, None, 0.9)
    >>> bool(res.max_count_gap < 1e-6)
    True
    """

    theta: np.ndarray
    feature_names: list[str]
    reward: np.ndarray
    policy: np.ndarray
    demo_features: np.ndarray
    model_features: np.ndarray
    objective: float
    n_iter: int
    converged: bool
    message: str
    horizon: int | None
    discount: float
    temperature: float
    l2: float
    n_trajectories: int | None
    mdp: TabularMDP

    def __post_init__(self) -> None:
        self._freeze()

    @property
    def params(self) -> pd.Series:
        """Fitted feature weights ``theta`` indexed by feature name."""
        return pd.Series(self.theta, index=self.feature_names, name="theta")

    @property
    def feature_table(self) -> pd.DataFrame:
        """Weights with the demonstrator's and the model's expected feature counts."""
        return pd.DataFrame(
            {
                "theta": self.theta,
                "demonstrator counts": self.demo_features,
                "model counts": self.model_features,
                "difference": self.model_features - self.demo_features,
            },
            index=self.feature_names,
        )

    @property
    def max_count_gap(self) -> float:
        """``max |F_model - F_demo|`` at the fitted weights (0 at an unpenalised optimum)."""
        return float(np.max(np.abs(self.model_features - self.demo_features)))

    def _summary_parts(self) -> SummaryParts:
        table = self.feature_table
        if len(table) > 20:
            table = table.iloc[:20]
        notes = [
            "Reward linear in the features, fitted by maximal causal entropy (occupancy "
            "matching, exact gradient, L-BFGS); identified up to the MCE model's ambiguity "
            "(potential shaping for the infinite horizon)."
        ]
        if len(self.feature_names) > 20:
            notes.append(f"First 20 of {len(self.feature_names)} features shown.")
        if not self.converged:
            notes.append(f"Not converged: {self.message}")
        return SummaryParts(
            title="Feature MCE IRL",
            header=[
                ("Features", len(self.feature_names)),
                ("Horizon", "infinite" if self.horizon is None else self.horizon),
                ("Discount", self.discount),
                ("Temperature", self.temperature),
                ("L2 penalty", self.l2),
                ("Trajectories", "-" if self.n_trajectories is None else self.n_trajectories),
                ("Iterations", self.n_iter),
                ("Converged", self.converged),
                ("Max count gap", self.max_count_gap),
                *summary_rows(self.mdp),
            ],
            tables=[("Feature weights and expected counts", table)],
            notes=notes,
        )


@fill_doc
class FeatureMCEIRL(_ResultsEstimator):
    """Feature-based maximal causal entropy IRL (occupancy matching, exact gradient, L-BFGS).

    The temperature has the name it has everywhere in the package (``alpha`` is a
    significance level); the parameters are keyword-only (``features`` and ``horizon``
    given positionally still work, with a ``FutureWarning``).

    Parameters
    ----------
    features : array-like or sparse matrix, optional
        ``phi`` of shape (S, K) (state features), (S, A, K), (S, A, S, K) (dense MDPs;
        reduced to their expectation over ``s'``) or a sparse (S * A, K) matrix with rows
        in (state, action) order. None (default) is tabular: one-hot over (s, a), K = S * A.
    horizon : int, optional
        Finite horizon ``H`` (time-indexed soft-optimal policy, as imitation's MCEIRL); None
        (default) is the infinite discounted horizon.
    %(temperature)s
    discount : float, optional
        Discount; ``mdp.gamma`` by default. With a finite horizon 1.0 (undiscounted, as
        imitation's MCEIRL) is allowed.
    l2 : float, default 0.0
        Ridge penalty ``(l2 / 2) |theta|^2``.
    tol : float, default 1e-9
        Converged when the largest gradient entry (feature-count gap plus penalty, each
        feature scaled to ``max |phi_k| = 1``) is at most ``tol`` times the total occupancy.
    max_iter : int, default 1000
        Maximum iterations: L-BFGS, then (for at most 64 features) up to 5 Newton steps
        with a finite-difference Hessian, which finish where the objective's rounding
        stops the line search.

    Attributes
    ----------
    theta_ : ndarray of shape (K,)
    reward_ : ndarray of shape (S, A)
        ``phi(s, a) . theta_``.
    policy_ : ndarray of shape (S, A) or (H, S, A)
        Soft-optimal policy of ``reward_``.
    occupancy_ : ndarray of shape (S, A)
        The model's state-action occupancy (fed by ``mu0``, or by the demonstrations'
        injections when fitted to trajectories).
    n_iter_ : int
    converged_ : bool
    results_ : FeatureIRLResults

    Notes
    -----
    The reward is identified up to the MCE model's ambiguity (potential shaping in the
    infinite horizon; STARC distances ignore it) and, with features, only within their
    span. imitation's ``MCEIRL`` plans undiscounted, learns state rewards only and uses
    temperature 1; all three are options here.

    Examples
    --------
    >>> from irl_sensitivity import example_problem, FeatureMCEIRL, mce_policy, occupancy_measure
    >>> from irl_sensitivity import starc_distance
    >>> mdp, R = example_problem(4, 2)
    >>> occ = occupancy_measure(mdp, mce_policy(mdp, R)).state_action
    >>> est = FeatureMCEIRL().fit(mdp, occupancy=occ)
    >>> bool(est.converged_), bool(starc_distance(mdp, R, est.reward_) < 1e-6)
    (True, True)
    """

    @renamed_arguments({}, positional=("features", "horizon"))
    def __init__(
        self,
        *,
        features: Any = None,
        horizon: int | None = None,
        temperature: float = 1.0,
        discount: float | None = None,
        l2: float = 0.0,
        tol: float = 1e-9,
        max_iter: int = 1000,
    ) -> None:
        self.features = features
        self.horizon = horizon
        self.temperature = temperature
        self.discount = discount
        self.l2 = l2
        self.tol = tol
        self.max_iter = max_iter

    def fit(self, mdp: TabularMDP, trajectories: Any = None, *, occupancy: Any = None) -> Any:
        """Fit the feature weights to demonstrations or to an occupancy measure.

        Parameters
        ----------
        mdp : TabularMDP
            Known dynamics and initial distribution (dense or sparse).
        trajectories : list of array-like of shape (T_i, 2), optional
            (state, action) index pairs. The fit then maximises the causal log-likelihood
            of the demonstrated actions, ``sum log pi_theta(a_t | s_t)`` over all steps
            (infinite horizon) or the first ``H`` steps (finite horizon, ``T_i >= H``,
            time-indexed policy). Its gradient is again a difference of feature counts,
            the model's being the flow of the soft-optimal policy through the observed
            states; it equals the feature-matching dual in expectation. In the tabular
            model an action never taken in a visited state has no finite maximum
            likelihood reward: use ``l2 > 0`` or features.
        occupancy : array-like of shape (S, A) or OccupancyMeasure, optional
            The demonstrator's state-action occupancy, as returned by
            :func:`occupancy_measure` with the same horizon and discount (its total is
            checked). Sample counts are better passed as ``trajectories``: they violate
            the Bellman flow, which leaves the finite-horizon dual without a minimum
            (the infinite-horizon fit absorbs the violation like the likelihood does).

        Returns
        -------
        self
        """
        if not isinstance(mdp, TabularMDP):
            raise TypeError(f"`mdp` must be a TabularMDP; got {type(mdp).__name__}.")
        horizon = _check_horizon(self.horizon)
        alpha = _check_temperature(self.temperature, "temperature")
        disc = _check_discount(self.discount, mdp)
        if horizon is None and disc >= 1.0:
            raise ValueError(
                "`discount` must be < 1 with the infinite horizon (horizon=None); set a finite "
                "`horizon` for undiscounted MCE IRL."
            )
        l2 = _check_nonneg_float(self.l2, "l2")
        tol = _check_nonneg_float(self.tol, "tol", positive=True)
        max_iter = check_int(self.max_iter, "max_iter", minimum=1)
        phi = _feature_matrix(mdp, self.features)
        model = _SoftBackup(mdp, horizon, alpha, disc)
        demo = _demo_statistics(mdp, trajectories, occupancy, horizon, disc, model.flow)
        n_traj = demo.n_trajectories

        s, a = mdp.n_states, mdp.n_actions
        if phi is None:
            f_demo = demo.counts.ravel()
            n_feat = s * a
            names = [f"r({i}, {j})" for i in range(s) for j in range(a)]
        else:
            # the fit is equivariant to rescaling a feature: work with max |phi_k| = 1
            # (features of magnitude 1e300 or 1e-300 behave as any other)
            if sp.issparse(phi):
                col = abs(phi).max(axis=0).toarray().ravel()
            else:
                col = np.abs(phi).max(axis=0)
            col = np.where(col > 0, col, 1.0)
            phi = phi @ sp.diags(1.0 / col) if sp.issparse(phi) else phi / col
            phi = sp.csr_matrix(phi) if sp.issparse(phi) else phi
            f_demo = np.asarray(phi.T @ demo.counts.ravel()).ravel()
            n_feat = phi.shape[1]
            names = [f"phi_{k}" for k in range(n_feat)]
        scale = np.ones(n_feat) if phi is None else col
        # the penalty (l2 / 2) |theta|^2 in the scaled coordinates (capped: a feature of
        # scale 1e-300 under a ridge is simply held at zero)
        pen = np.zeros(n_feat)
        if l2 > 0:
            with np.errstate(over="ignore", under="ignore"):
                pen = np.minimum(l2 * (1.0 / scale) ** 2, 1e200)
        mass = float(demo.counts.sum())

        def reward_of(theta: np.ndarray) -> np.ndarray:
            if phi is None:
                return theta.reshape(s, a)
            return np.asarray(phi @ theta).reshape(s, a)

        def counts(x: np.ndarray) -> np.ndarray:
            return x.ravel() if phi is None else np.asarray(phi.T @ x.ravel()).ravel()

        def fun(theta: np.ndarray) -> tuple[float, np.ndarray]:
            value, occ, _ = model(reward_of(theta), demo.rho)
            f = value - theta @ f_demo + 0.5 * theta @ (pen * theta)
            return f, counts(occ) - f_demo + pen * theta

        gtol = tol * mass
        res = minimize(
            fun,
            np.zeros(n_feat),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": max_iter, "gtol": gtol, "ftol": 0.0, "maxcor": 30},
        )
        theta = np.asarray(res.x, dtype=float)
        theta, grad, n_polish = _polish(fun, theta, gtol, max_steps=min(5, max_iter - res.nit))
        reward = reward_of(theta).copy()
        value, occ_model, policy = model(reward, demo.rho)
        objective = float(value - theta @ f_demo + 0.5 * theta @ (pen * theta))
        model_features = counts(occ_model) * scale
        f_demo = f_demo * scale
        theta = theta / scale
        converged = bool(np.max(np.abs(grad)) <= gtol)
        if not converged:
            warnings.warn(
                f"FeatureMCEIRL did not converge in {res.nit} iterations: the largest "
                f"gradient entry is {np.max(np.abs(grad)):.3g} (features scaled to max "
                f"|phi| = 1; tolerance {gtol:.3g}; {res.message}). Raise `max_iter`, add an "
                "`l2` penalty or loosen `tol`.",
                ConvergenceWarning,
                stacklevel=2,
            )
        self.results_ = FeatureIRLResults(
            theta=theta,
            feature_names=names,
            reward=reward,
            policy=policy,
            demo_features=f_demo,
            model_features=model_features,
            objective=objective,
            n_iter=int(res.nit) + n_polish,
            converged=converged,
            message=str(res.message),
            horizon=horizon,
            discount=disc,
            temperature=alpha,
            l2=l2,
            n_trajectories=n_traj,
            mdp=mdp,
        )
        # fitted attributes: views of the results object
        self.theta_, self.reward_ = self.results_.theta, self.results_.reward
        self.policy_ = self.results_.policy
        self.n_iter_, self.converged_ = self.results_.n_iter, self.results_.converged
        self.occupancy_ = occ_model
        self.n_features_ = n_feat
        return self


def _polish(
    fun: Any, theta: np.ndarray, gtol: float, max_features: int = 64, max_steps: int = 5
) -> tuple[np.ndarray, np.ndarray, int]:
    """Newton steps on the exact gradient with a finite-difference Hessian (few features).

    Near the optimum the objective's decrease (``~gap^2``) falls below its rounding error,
    which stops L-BFGS's line search while the gradient is still accurate. For up to
    ``max_features`` weights a Newton step with a forward-difference Hessian (``K``
    gradients; least squares for the flat directions of the reward's ambiguity) finishes
    the job; a step is kept only if it shrinks the largest feature-count gap.
    """
    g = fun(theta)[1]
    k = theta.size
    steps = 0
    while np.max(np.abs(g)) > gtol and steps < max_steps and k <= max_features:
        h = 1e-6 * max(1.0, float(np.max(np.abs(theta))))
        hess = np.empty((k, k))
        for j in range(k):
            e = theta.copy()
            e[j] += h
            hess[:, j] = (fun(e)[1] - g) / h
        hess = 0.5 * (hess + hess.T)
        cand = theta - np.linalg.lstsq(hess, g, rcond=1e-10)[0]
        g_new = fun(cand)[1]
        if not np.max(np.abs(g_new)) < np.max(np.abs(g)):
            break
        theta, g = cand, g_new
        steps += 1
    return theta, g, steps


class _SoftBackup:
    """(reward (S, A), injections rho) -> (sum_t rho_t . V_t, model occupancy, policy).

    The model occupancy is ``d/dr`` of the value term: the flow of the soft-optimal policy
    fed by ``rho`` (``mu0`` at ``t = 0`` for the classical dual).
    """

    def __init__(self, mdp: TabularMDP, horizon: int | None, alpha: float, disc: float) -> None:
        self.horizon = horizon
        self.alpha = alpha
        self.disc = disc
        self.mdp = mdp if horizon is not None or disc == mdp.gamma else mdp.replace(gamma=disc)
        self.flow = _Flow(mdp)
        # soft policy iteration (exact sparse LU solves) converges quadratically; beyond
        # the direct-solve size plain soft value iteration is cheaper per step
        small = not mdp.is_sparse or mdp.n_states <= _DIRECT_SPARSE_MAX
        self.method = "newton" if small else "iterate"

    def __call__(self, r: np.ndarray, rho: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        mdp = self.mdp
        if self.horizon is None:
            v, _, pi = soft_value_iteration(mdp, r, self.alpha, method=self.method)
            occ = _discounted_core(mdp, pi, self.disc, rho).state_action
            return float(rho @ v), occ, pi
        w, _, pi_t = _soft_fh_core(mdp, r, self.horizon, self.alpha, self.disc, keep_q=False)
        assert pi_t is not None  # keep_policy=True
        pi = pi_t
        y = rho[0].copy()
        occ = np.zeros(r.shape)
        for k in range(self.horizon):
            x = y[:, None] * pi[k]
            occ += x
            if k + 1 < self.horizon:
                y = self.flow(x)
                y *= self.disc
                y += rho[k + 1]
        return float(np.sum(rho * w)), occ, pi
