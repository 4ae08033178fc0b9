"""IRL estimators in scikit-learn style: policy from visit counts, then a closed-form inverse.

``fit(mdp, trajectories)`` estimates the demonstrator policy by smoothed visit counts,
``pi(a|s) = (n(s, a) + smoothing) / (n(s) + A * smoothing)``, and inverts the behavioural
model in closed form. With a ``reference`` reward, the STARC distance to it is reported
with a percentile interval from a bootstrap over whole trajectories (the shared
``estkit.pairs_bootstrap`` engine).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from estkit import check_alpha, check_int, check_random_state, pairs_bootstrap, percentile_interval
from estkit._plotting import get_axes
from estkit._random import RandomStateLike
from estkit.exceptions import NotFittedError
from estkit.results import ResultsBase, SummaryParts
from irl_sensitivity._canonical import DEFAULT_SCALE, StarcMetric, check_scale, standardize
from irl_sensitivity._inverse import boltzmann_inverse, mce_inverse
from irl_sensitivity._mdp import TabularMDP, check_mdp
from irl_sensitivity._policies import _check_temp

__all__ = ["BoltzmannIRL", "IRLResults", "MaxCausalEntropyIRL", "sample_trajectories"]


def sample_trajectories(
    mdp: TabularMDP, policy: Any, n_trajectories: int, horizon: int, rng: RandomStateLike = None
) -> list[np.ndarray]:
    """Roll out ``policy``: a list of ``(horizon, 2)`` integer arrays of (state, action).

    Each trajectory starts from ``mdp.initial`` and follows ``policy`` and the MDP's kernel.

    Parameters
    ----------
    mdp : TabularMDP
        The environment (dense or sparse).
    policy : array-like of shape (S, A)
        The stochastic policy followed.
    n_trajectories : int
        Number of trajectories (>= 1).
    horizon : int
        Steps per trajectory (>= 1).
    rng : None, int, SeedSequence or Generator
        Seed or generator.

    Returns
    -------
    list of numpy.ndarray of shape (horizon, 2)
        One integer array of (state, action) rows per trajectory.

    Examples
    --------
    >>> import numpy as np
    >>> from irl_sensitivity import random_mdp
    >>> from irl_sensitivity._irl import sample_trajectories
    >>> mdp = random_mdp(3, 2, rng=0)
    >>> trajs = sample_trajectories(mdp, np.full((3, 2), 0.5), 4, 10, rng=0)
    >>> len(trajs), trajs[0].shape
    (4, (10, 2))
    """
    check_mdp(mdp)
    pi = mdp.check_policy(policy)
    n_trajectories = check_int(n_trajectories, "n_trajectories", minimum=1)
    horizon = check_int(horizon, "horizon", minimum=1)
    gen = check_random_state(rng, "rng")
    cum_pi = np.cumsum(pi, axis=1)
    if mdp.is_sparse:
        mats = mdp.sparse_transition

        def step(s: int, a: int) -> int:
            row = mats[a].getrow(s)
            idx = min(int(np.searchsorted(np.cumsum(row.data), gen.random())), row.nnz - 1)
            return int(row.indices[idx])
    else:
        cum_t = np.cumsum(mdp.transition, axis=2)

        def step(s: int, a: int) -> int:
            return min(int(np.searchsorted(cum_t[s, a], gen.random())), mdp.n_states - 1)

    out = []
    for _ in range(n_trajectories):
        traj = np.empty((horizon, 2), dtype=np.intp)
        s = int(gen.choice(mdp.n_states, p=mdp.initial))
        for k in range(horizon):
            a = min(int(np.searchsorted(cum_pi[s], gen.random())), mdp.n_actions - 1)
            traj[k] = s, a
            s = step(s, a)
        out.append(traj)
    return out


def _frame_columns(df: pd.DataFrame, name: str) -> np.ndarray:
    """The ``state`` and ``action`` columns of a DataFrame, by label."""
    missing = {"state", "action"} - set(df.columns)
    if missing:
        raise ValueError(
            f"`{name}` is a DataFrame without the column(s) {sorted(missing)}; name the columns "
            "'state' and 'action' (they are read by label, not by position)."
        )
    return df[["state", "action"]].to_numpy()


def _check_trajectories(mdp: TabularMDP, trajectories: Any) -> list[np.ndarray]:
    if isinstance(trajectories, pd.DataFrame):
        # long format: one row per step, columns state / action (and trajectory ids)
        if "trajectory" in trajectories.columns:
            trajectories = [
                _frame_columns(g, "trajectories")
                for _, g in trajectories.groupby("trajectory", sort=False)
            ]
        else:
            trajectories = [_frame_columns(trajectories, "trajectories")]
    if (
        isinstance(trajectories, str | np.ndarray)
        or not isinstance(trajectories, Sequence)
        or len(trajectories) == 0
    ):
        raise ValueError(
            "`trajectories` must be a non-empty list of (T, 2) integer arrays of (state, action) "
            "(or a DataFrame with columns 'state', 'action' and optionally 'trajectory')."
        )
    out = []
    for i, tr in enumerate(trajectories):
        if isinstance(tr, pd.DataFrame):
            tr = _frame_columns(tr, f"trajectories[{i}]")
        arr = np.asarray(tr)
        if arr.ndim != 2 or arr.shape[1] < 2 or arr.shape[0] == 0:
            raise ValueError(
                f"`trajectories`[{i}] must have shape (T, 2) (state, action columns); got "
                f"{arr.shape}."
            )
        if arr.dtype.kind == "b" or arr.dtype.kind not in "iuf":
            raise TypeError(
                f"`trajectories`[{i}] must hold integer state/action indices; got dtype "
                f"{arr.dtype}."
            )
        if arr.dtype.kind == "f":
            if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
                raise ValueError(f"`trajectories`[{i}] must hold integer state/action indices.")
            arr = arr.astype(np.intp)
        s, a = arr[:, 0], arr[:, 1]
        if s.min() < 0 or s.max() >= mdp.n_states or a.min() < 0 or a.max() >= mdp.n_actions:
            raise ValueError(
                f"`trajectories`[{i}] has indices outside 0..{mdp.n_states - 1} (states) or "
                f"0..{mdp.n_actions - 1} (actions)."
            )
        out.append(arr[:, :2].astype(np.intp))
    return out


def _counts(mdp: TabularMDP, trajs: list[np.ndarray]) -> np.ndarray:
    c = np.zeros((mdp.n_states, mdp.n_actions))
    for tr in trajs:
        np.add.at(c, (tr[:, 0], tr[:, 1]), 1.0)
    return c


def _sa(x: np.ndarray) -> np.ndarray:
    """(S, A) view of a VAL-standardised reward (constant over s')."""
    return x if x.ndim == 2 else x[:, :, 0]


class IRLResults(ResultsBase):
    """Results of an IRL fit: the estimated reward and its distance to a reference.

    Built by ``fit`` of :class:`BoltzmannIRL` and :class:`MaxCausalEntropyIRL` (available as
    their ``results_``); the keyword-only constructor arguments are stored as read-only
    attributes of the same names.

    Parameters
    ----------
    model : str
        Name of the behavioural model.
    temperature : tuple of (str, float)
        Name and value of the model's temperature.
    smoothing : float
        Pseudo-count added to the visit counts.
    n_trajectories : int
        Number of demonstrations.
    n_steps : int
        Total (state, action) pairs in the demonstrations.
    reward : numpy.ndarray
        The estimated reward.
    policy : numpy.ndarray of shape (S, A)
        The estimated (smoothed) policy.
    mdp : TabularMDP
        The environment.
    reference : numpy.ndarray or None
        The reference reward, if one was given.
    distance : float or None
        STARC distance between reference and estimate (None without a reference).
    interval : tuple of float or None
        Bootstrap percentile interval of the distance.
    alpha : float
        Significance level of the interval.
    n_boot : int
        Bootstrap resamples (0: none).
    boot_distances : numpy.ndarray of shape (n_boot,)
        Bootstrap distances (empty without bootstrap).
    scale : float
        Scale of the STARC distance.

    Examples
    --------
    >>> import numpy as np
    >>> from irl_sensitivity import random_mdp, boltzmann_policy, BoltzmannIRL
    >>> from irl_sensitivity import sample_trajectories
    >>> mdp = random_mdp(3, 2, rng=0)
    >>> R = np.random.default_rng(0).normal(size=(3, 2))
    >>> trajs = sample_trajectories(mdp, boltzmann_policy(mdp, R), 20, 10, rng=1)
    >>> res = BoltzmannIRL().fit(mdp, trajs, reference=R).results_
    >>> res.model, res.temperature, res.n_steps, list(res.distance_table.index)
    ('Boltzmann', ('beta', 1.0), 200, ['STARC d(reference, reward)'])
    """

    def __init__(
        self,
        *,
        model: str,
        temperature: tuple[str, float],
        smoothing: float,
        n_trajectories: int,
        n_steps: int,
        reward: np.ndarray,
        policy: np.ndarray,
        mdp: TabularMDP,
        reference: np.ndarray | None,
        distance: float | None,
        interval: tuple[float, float] | None,
        alpha: float,
        n_boot: int,
        boot_distances: np.ndarray,
        scale: float,
    ) -> None:
        self.model = model
        self.temperature = temperature
        self.smoothing = smoothing
        self.n_trajectories = n_trajectories
        self.n_steps = n_steps
        self.reward = reward
        self.policy = policy
        self.mdp = mdp
        self.reference = reference
        self.distance = distance
        self.interval = interval
        self.alpha = alpha
        self.n_boot = n_boot
        self.boot_distances = boot_distances
        self.scale = scale
        self._freeze()

    @property
    def distance_table(self) -> pd.DataFrame:
        """STARC distance to the reference with its bootstrap interval (one row)."""
        lo, hi = (None, None) if self.interval is None else self.interval
        return pd.DataFrame(
            {
                "estimate": [self.distance],
                f"[{self.alpha / 2:g}": [lo],
                f"{1 - self.alpha / 2:g}]": [hi],
            },
            index=["STARC d(reference, reward)"],
        )

    def _summary_parts(self) -> SummaryParts:
        tables = []
        notes = [
            "Policy from smoothed visit counts, then the closed-form inverse; the reward "
            "is identified up to potential shaping and S'-redistribution."
        ]
        if self.reference is not None:
            tables.append(("Distance to the reference reward", self.distance_table))
            notes.append(
                f"Percentile interval from {self.n_boot} bootstrap resamples of whole trajectories."
                if self.n_boot
                else "No bootstrap (n_boot=0)."
            )
        return SummaryParts(
            title=f"{self.model} IRL",
            header=[
                ("Model", self.model),
                (self.temperature[0], self.temperature[1]),
                ("Trajectories", self.n_trajectories),
                ("Steps", self.n_steps),
                ("Smoothing", self.smoothing),
                ("States", self.mdp.n_states),
                ("Actions", self.mdp.n_actions),
                ("Gamma", self.mdp.gamma),
            ],
            tables=tables,
            notes=notes,
        )

    def plot(self, ax: Any = None) -> Any:
        """Standardised (VAL) estimated reward against the reference (or by state-action)."""
        ax = get_axes(ax)
        est = _sa(standardize(self.mdp, self.reward)).ravel()
        if self.reference is None:
            ax.plot(est, "o", color="C0")
            ax.set_xlabel("state-action index")
            ax.set_ylabel("standardised reward")
            return ax
        ref = _sa(standardize(self.mdp, self.reference)).ravel()
        lim = max(np.abs(ref).max(), np.abs(est).max()) * 1.05
        ax.plot([-lim, lim], [-lim, lim], color="0.5", lw=0.8, ls="--")
        ax.plot(ref, est, "o", color="C0")
        ax.set_xlabel("standardised reference reward")
        ax.set_ylabel("standardised estimated reward")
        ax.set_title(f"STARC distance {self.distance:.3f}")
        return ax


class _TabularIRL(BaseEstimator):
    _model_name = ""
    _temp_name = ""

    def _inverse(self, mdp: TabularMDP, policy: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def fit(self, mdp: TabularMDP, trajectories: Any, reference: Any = None) -> Any:
        """Estimate the reward from demonstrations.

        Parameters
        ----------
        mdp : TabularMDP
            Known dynamics and discount.
        trajectories : list of array-like of shape (T_i, 2)
            (state, action) index pairs of each demonstration.
        reference : array-like, optional
            A reference reward (e.g. the true one in a simulation); enables ``distance_``
            and its bootstrap interval.

        Returns
        -------
        self
        """
        check_mdp(mdp)
        temp = _check_temp(getattr(self, self._temp_name), self._temp_name)
        sm = self.smoothing
        if (
            isinstance(sm, bool | np.bool_)
            or not isinstance(sm, numbers.Real)
            or not np.isfinite(sm)
            or sm <= 0
        ):
            raise ValueError(
                f"`smoothing` must be > 0 (a pseudo-count giving the full support that the "
                f"inverse needs); got {self.smoothing!r}."
            )
        smoothing = float(sm)
        n_boot = check_int(self.n_boot, "n_boot", minimum=0)
        alpha = check_alpha(self.alpha)
        scale = check_scale(self.scale)
        min_boot = int(np.ceil(1.0 / alpha - 1e-9))
        if 0 < n_boot < min_boot:
            raise ValueError(
                f"`n_boot`={n_boot} is too small for a percentile interval at alpha={alpha:g}: "
                f"its tails would hold no draw (a zero-width interval). Use n_boot=0 (no "
                f"interval) or n_boot >= {min_boot} ({int(np.ceil(2.0 / alpha))} or more "
                "recommended)."
            )
        trajs = _check_trajectories(mdp, trajectories)
        ref = None if reference is None else mdp.check_reward(reference, "reference")
        metric = StarcMetric(mdp, "val", 2, scale=scale)
        ref_unit = None if ref is None else metric._unit(ref, "reference")

        def dist_to_ref(reward: np.ndarray) -> float:
            return metric._distance_of_units(ref_unit, metric._unit(reward))

        def estimate(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            c = _counts(mdp, [trajs[i] for i in idx]) + smoothing
            pi = c / c.sum(axis=1, keepdims=True)
            return pi, self._inverse(mdp, pi)

        self.policy_, self.reward_ = estimate(np.arange(len(trajs)))
        self.n_trajectories_ = len(trajs)
        dist, lo_hi, boots = None, None, np.empty(0)
        if ref is not None:
            dist = dist_to_ref(self.reward_)
            if n_boot:
                boots = np.asarray(
                    pairs_bootstrap(
                        lambda idx: dist_to_ref(estimate(idx)[1]),
                        len(trajs),
                        n_boot,
                        rng=self.random_state,
                        n_jobs=self.n_jobs,
                    )
                )
                lo, hi = percentile_interval(dist, boots, alpha)
                lo_hi = (float(lo), float(hi))
        self.distance_ = None if dist is None else float(dist)
        self.distance_interval_ = lo_hi
        self.results_ = IRLResults(
            model=self._model_name,
            temperature=(self._temp_name, temp),
            smoothing=smoothing,
            n_trajectories=len(trajs),
            n_steps=int(sum(len(t) for t in trajs)),
            reward=self.reward_,
            policy=self.policy_,
            mdp=mdp,
            reference=ref,
            distance=self.distance_,
            interval=lo_hi,
            alpha=alpha,
            n_boot=n_boot,
            boot_distances=boots,
            scale=scale,
        )
        return self

    def summary(self):
        """Summary of the fit (statsmodels ``Summary``)."""
        if not hasattr(self, "results_"):
            raise NotFittedError(f"This {type(self).__name__} is not fitted; call fit first.")
        return self.results_.summary()


class BoltzmannIRL(_TabularIRL):
    """IRL under the Boltzmann-rational model (closed-form inverse of smoothed counts).

    Parameters
    ----------
    beta : float, default 1.0
        Inverse temperature assumed for the demonstrator.
    smoothing : float, default 1.0
        Pseudo-count added to every (state, action) visit count.
    n_boot : int, default 0
        Bootstrap resamples of trajectories for the distance interval (needs ``reference``).
    alpha : float, default 0.05
        Significance level of the interval.
    scale : float, default 0.5
        STARC scale (0.5: distances in [0, 1]).
    random_state : None, int or Generator
        Seed or generator of the bootstrap.
    n_jobs : int, optional
        joblib workers of the bootstrap (None: serial).

    Attributes
    ----------
    policy_ : ndarray (S, A)
        Smoothed empirical policy.
    reward_ : ndarray (S, A, S)
        Estimated reward (closed-form inverse of ``policy_``).
    distance_ : float
        STARC distance to ``reference`` (None without one).
    distance_interval_ : tuple of float or None
        Bootstrap percentile interval of the distance (None without ``reference`` or with
        ``n_boot=0``).
    results_ : IRLResults

    Examples
    --------
    >>> import numpy as np
    >>> from irl_sensitivity import random_mdp, boltzmann_policy, BoltzmannIRL
    >>> from irl_sensitivity._irl import sample_trajectories
    >>> mdp = random_mdp(3, 2, rng=0)
    >>> R = np.random.default_rng(0).normal(size=(3, 2))
    >>> trajs = sample_trajectories(mdp, boltzmann_policy(mdp, R, 2.0), 40, 20, rng=1)
    >>> est = BoltzmannIRL(beta=2.0, n_boot=40, random_state=0).fit(mdp, trajs, reference=R)
    >>> est.reward_.shape, bool(0 <= est.distance_ <= 1)
    ((3, 2, 3), True)
    """

    _model_name = "Boltzmann"
    _temp_name = "beta"

    def __init__(
        self,
        *,
        beta: float = 1.0,
        smoothing: float = 1.0,
        n_boot: int = 0,
        alpha: float = 0.05,
        scale: float = DEFAULT_SCALE,
        random_state: RandomStateLike = None,
        n_jobs: int | None = None,
    ) -> None:
        self.beta = beta
        self.smoothing = smoothing
        self.n_boot = n_boot
        self.alpha = alpha
        self.scale = scale
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _inverse(self, mdp: TabularMDP, policy: np.ndarray) -> np.ndarray:
        return boltzmann_inverse(mdp, policy, self.beta)


class MaxCausalEntropyIRL(_TabularIRL):
    """IRL under the maximal causal entropy model (``reward_ = alpha * log pi_hat``).

    Parameters are those of :class:`BoltzmannIRL` with the temperature ``temperature``
    (named so that ``alpha`` stays the significance level).

    Parameters
    ----------
    temperature : float, default 1.0
        Temperature of the maximal causal entropy model assumed for the demonstrator.
    smoothing : float, default 1.0
        Pseudo-count added to every (state, action) visit count.
    n_boot : int, default 0
        Bootstrap resamples of trajectories for the distance interval (needs ``reference``).
    alpha : float, default 0.05
        Significance level of the interval.
    scale : float, default 0.5
        STARC scale (0.5: distances in [0, 1]).
    random_state : None, int or Generator
        Seed or generator of the bootstrap.
    n_jobs : int, optional
        joblib workers of the bootstrap (None: serial).

    Attributes
    ----------
    policy_ : ndarray (S, A)
        Smoothed empirical policy.
    reward_ : ndarray (S, A, S)
        Estimated reward ``temperature * log policy_``.
    distance_ : float
        STARC distance to ``reference`` (None without one).
    distance_interval_ : tuple of float or None
        Bootstrap percentile interval of the distance.
    results_ : IRLResults
        The results object.

    Examples
    --------
    >>> import numpy as np
    >>> from irl_sensitivity import random_mdp, mce_policy, MaxCausalEntropyIRL
    >>> from irl_sensitivity._irl import sample_trajectories
    >>> mdp = random_mdp(3, 2, rng=0)
    >>> R = np.random.default_rng(0).normal(size=(3, 2))
    >>> trajs = sample_trajectories(mdp, mce_policy(mdp, R), 200, 20, rng=1)
    >>> est = MaxCausalEntropyIRL().fit(mdp, trajs, reference=R)
    >>> bool(est.distance_ < 0.2)
    True
    """

    _model_name = "Maximal causal entropy"
    _temp_name = "temperature"

    def __init__(
        self,
        *,
        temperature: float = 1.0,
        smoothing: float = 1.0,
        n_boot: int = 0,
        alpha: float = 0.05,
        scale: float = DEFAULT_SCALE,
        random_state: RandomStateLike = None,
        n_jobs: int | None = None,
    ) -> None:
        self.temperature = temperature
        self.smoothing = smoothing
        self.n_boot = n_boot
        self.alpha = alpha
        self.scale = scale
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _inverse(self, mdp: TabularMDP, policy: np.ndarray) -> np.ndarray:
        return mce_inverse(mdp, policy, self.temperature)
