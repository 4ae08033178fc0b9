"""IRL estimators in scikit-learn style: policy from visit counts, then a closed-form inverse.

``fit(mdp, trajectories)`` estimates the demonstrator policy by smoothed visit counts,
``pi(a|s) = (n(s, a) + smoothing) / (n(s) + A * smoothing)``, and inverts the behavioural
model in closed form. With a ``reference`` reward, the STARC distance to it is reported
with a percentile interval from a bootstrap over whole trajectories (the shared
``estkit.pairs_bootstrap`` engine).
"""

from __future__ import annotations

import inspect
import numbers
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from estkit import (
    BootstrapInference,
    check_alpha,
    check_int,
    check_random_state,
    pairs_bootstrap,
)
from estkit._plotting import get_axes
from estkit._random import RandomStateLike
from estkit.results import ResultsBase, SummaryParts
from irl_sensitivity._canonical import DEFAULT_SCALE, StarcMetric, standardize
from irl_sensitivity._common import deprecated_alias, fill_doc
from irl_sensitivity._mdp import TabularMDP, check_mdp, summary_rows
from irl_sensitivity._models import BehaviouralModel, BoltzmannModel, MCEModel

__all__ = [
    "BoltzmannIRL",
    "IRLResults",
    "MaxCausalEntropyIRL",
    "TabularIRL",
    "sample_trajectories",
]


@fill_doc
def sample_trajectories(
    mdp: TabularMDP, policy: Any, n_trajectories: int, horizon: int, rng: RandomStateLike = None
) -> list[np.ndarray]:
    """Roll out ``policy``: a list of ``(horizon, 2)`` integer arrays of (state, action).

    Each trajectory starts from ``mdp.initial`` and follows ``policy`` and the MDP's kernel.

    Parameters
    ----------
    %(env_any)s
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
    >>> from irl_sensitivity import random_mdp, sample_trajectories
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


@fill_doc
@dataclass(eq=False, repr=False, kw_only=True)
class IRLResults(ResultsBase):
    """Results of an IRL fit: the estimated reward and its distance to a reference.

    Built by ``fit`` of :class:`TabularIRL` and its aliases :class:`BoltzmannIRL` and
    :class:`MaxCausalEntropyIRL` (available as their ``results_``); the keyword-only
    constructor arguments are stored as read-only attributes of the same names.

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
    %(env)s
    reference : numpy.ndarray or None
        The reference reward, if one was given.
    distance : float or None
        STARC distance between reference and estimate (None without a reference).
    interval : tuple of float or None
        Bootstrap percentile interval of the distance.
    alpha : float
        Significance level of the interval.
    n_bootstrap : int
        Bootstrap resamples (0: none).
    boot_distances : numpy.ndarray of shape (n_bootstrap,)
        Bootstrap distances (empty without bootstrap).
    %(scale_short)s

    Examples
    --------
    >>> from irl_sensitivity import example_problem, boltzmann_policy, BoltzmannIRL
    >>> from irl_sensitivity import sample_trajectories
    >>> mdp, R = example_problem()
    >>> trajs = sample_trajectories(mdp, boltzmann_policy(mdp, R), 20, 10, rng=1)
    >>> res = BoltzmannIRL().fit(mdp, trajs, reference=R).results_
    >>> res.model, res.temperature, res.n_steps, list(res.distance_table.index)
    ('Boltzmann', ('beta', 1.0), 200, ['STARC d(reference, reward)'])
    """

    model: str
    temperature: tuple[str, float]
    smoothing: float
    n_trajectories: int
    n_steps: int
    reward: np.ndarray
    policy: np.ndarray
    mdp: TabularMDP
    reference: np.ndarray | None
    distance: float | None
    interval: tuple[float, float] | None
    alpha: float
    n_bootstrap: int
    boot_distances: np.ndarray
    scale: float

    def __post_init__(self) -> None:
        self._freeze()

    @property
    def n_boot(self) -> int:
        """Deprecated name of :attr:`n_bootstrap`."""
        warnings.warn(
            "IRLResults.n_boot is renamed n_bootstrap; the old name will stop working in a "
            "future version.",
            FutureWarning,
            stacklevel=2,
        )
        return self.n_bootstrap

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        """Percentile interval of the STARC distance at level ``alpha``, computed on demand
        from the stored bootstrap draws (a 90% interval after a 95% fit needs no refit).

        Parameters
        ----------
        alpha : float, optional
            Significance level; None uses the fit's ``alpha``.

        Returns
        -------
        pandas.DataFrame
            One row (``STARC d(reference, reward)``), columns ``lower`` and ``upper``.

        Raises
        ------
        ValueError
            Without a reference reward or bootstrap draws, or with too few draws for
            ``alpha``.
        """
        level = self.alpha if alpha is None else check_alpha(alpha)
        if self.distance is None or self.n_bootstrap == 0:
            raise ValueError(
                "conf_int needs the bootstrap draws of the distance: fit with a `reference` "
                "reward and n_bootstrap > 0."
            )
        _check_n_bootstrap(self.n_bootstrap, level)
        lo, hi = _interval(self.distance, self.boot_distances, level)
        return pd.DataFrame({"lower": [lo], "upper": [hi]}, index=["STARC d(reference, reward)"])

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
                f"Percentile interval from {self.n_bootstrap} bootstrap resamples of whole "
                "trajectories."
                if self.n_bootstrap
                else "No bootstrap (n_bootstrap=0)."
            )
        return SummaryParts(
            title=f"{self.model} IRL",
            header=[
                ("Model", self.model),
                (self.temperature[0], self.temperature[1]),
                ("Trajectories", self.n_trajectories),
                ("Steps", self.n_steps),
                ("Smoothing", self.smoothing),
                *summary_rows(self.mdp),
            ],
            tables=tables,
            notes=notes,
        )

    @fill_doc
    def plot(self, ax: Any = None) -> Any:
        """Standardised (VAL) estimated reward against the reference (or by state-action).

        %(plot)s
        """
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


def _check_smoothing(value: Any) -> float:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)
    out = float(value) if ok else np.nan
    if not (np.isfinite(out) and out > 0):
        raise ValueError(
            f"`smoothing` must be > 0 (a pseudo-count giving the full support that the "
            f"inverse needs); got {value!r}."
        )
    return out


def _check_n_bootstrap(n_bootstrap: Any, alpha: float) -> int:
    """Bootstrap resamples: 0 (none) or enough for the tails of a percentile interval."""
    n_bootstrap = check_int(n_bootstrap, "n_bootstrap", minimum=0)
    min_boot = int(np.ceil(1.0 / alpha - 1e-9))
    if 0 < n_bootstrap < min_boot:
        raise ValueError(
            f"`n_bootstrap`={n_bootstrap} is too small for a percentile interval at "
            f"alpha={alpha:g}: its tails would hold no draw (a zero-width interval). Use "
            f"n_bootstrap=0 (no interval) or n_bootstrap >= {min_boot} "
            f"({int(np.ceil(2.0 / alpha))} or more recommended)."
        )
    return n_bootstrap


def _distance_interval(
    statistic: Callable[[np.ndarray], float],
    estimate: float,
    n: int,
    n_bootstrap: int,
    alpha: float,
    random_state: RandomStateLike,
    n_jobs: int | None,
) -> tuple[tuple[float, float], np.ndarray]:
    """Percentile interval of a statistic of resampled trajectories (the shared pairs
    bootstrap of estkit): the interval and the bootstrap draws. With :func:`_interval`, the
    one place the IRL estimators bootstrap; the interval is estkit's
    :class:`~estkit.BootstrapInference` over the replicates."""
    boots = np.asarray(pairs_bootstrap(statistic, n, n_bootstrap, rng=random_state, n_jobs=n_jobs))
    return _interval(estimate, boots, alpha), boots


def _interval(estimate: float, boots: np.ndarray, alpha: float) -> tuple[float, float]:
    """The percentile interval at level ``alpha`` of bootstrap draws of a scalar
    (:meth:`estkit.BootstrapInference.interval` over the replicates)."""
    lo, hi = BootstrapInference.from_replicates(estimate, boots).interval(alpha)
    return float(lo), float(hi)


# display name and temperature parameter of the models the tabular estimators invert
_TABULAR_MODELS: dict[type, tuple[str, str]] = {
    BoltzmannModel: ("Boltzmann", "beta"),
    MCEModel: ("Maximal causal entropy", "temperature"),
}


class _ResultsEstimator(BaseEstimator):
    """Base of the IRL estimators: ``fit`` sets ``results_``; ``summary`` delegates to it."""

    results_: ResultsBase

    @fill_doc
    def summary(self) -> Any:
        """Summary of the fit (statsmodels ``Summary``) of ``results_``.

        %(summary_returns)s
        """
        check_is_fitted(self, "results_")
        return self.results_.summary()


@fill_doc
class TabularIRL(_ResultsEstimator):
    """IRL under a behavioural model: smoothed visit counts, then the model's closed-form
    inverse.

    The demonstrator's policy is estimated by smoothed visit counts and inverted by the
    behavioural model ``model`` (its representative reward, in the model's environment:
    a model with its own ``gamma`` or ``transition`` inverts in that environment). The
    reward is identified up to potential shaping and S'-redistribution.

    Parameters
    ----------
    model : BoltzmannModel or MCEModel, optional
        The behavioural model assumed for the demonstrator; None is ``BoltzmannModel()``.
        (Models whose image holds every full-support policy: the optimal model's does
        not.)
    %(estimator_common)s

    Attributes
    ----------
    reward_ : ndarray (S, A, S)
        Estimated reward (closed-form inverse of ``policy_``).
    %(estimator_attributes)s

    Examples
    --------
    >>> from irl_sensitivity import example_problem, boltzmann_policy, BoltzmannModel, TabularIRL
    >>> from irl_sensitivity import sample_trajectories
    >>> mdp, R = example_problem()
    >>> trajs = sample_trajectories(mdp, boltzmann_policy(mdp, R, 2.0), 40, 20, rng=1)
    >>> est = TabularIRL(model=BoltzmannModel(beta=2.0), n_bootstrap=40, random_state=0)
    >>> est = est.fit(mdp, trajs, reference=R)
    >>> est.reward_.shape, bool(0 <= est.distance_ <= 1)
    ((3, 2, 3), True)
    """

    def __init__(
        self,
        *,
        model: BehaviouralModel | None = None,
        smoothing: float = 1.0,
        n_bootstrap: int = 0,
        alpha: float = 0.05,
        scale: float = DEFAULT_SCALE,
        random_state: RandomStateLike = None,
        n_jobs: int | None = None,
        n_boot: int | None = None,
    ) -> None:
        self.model = model
        self.smoothing = smoothing
        self.n_bootstrap = n_bootstrap
        self.alpha = alpha
        self.scale = scale
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.n_boot = n_boot

    def _behavioural_model(self) -> BehaviouralModel:
        """The model inverted (the aliases build it from their own parameter)."""
        model = BoltzmannModel() if self.model is None else self.model
        if type(model) not in _TABULAR_MODELS:
            raise ValueError(
                f"`model` must be a BoltzmannModel or MCEModel (a model whose image holds every "
                f"full-support policy); got {model!r}."
            )
        return model

    def fit(self, mdp: TabularMDP, trajectories: Any, reference: Any = None) -> Any:
        """Estimate the reward from demonstrations.

        Parameters
        ----------
        mdp : TabularMDP
            Known dynamics and discount.
        trajectories : list of array-like of shape (T_i, 2) or pandas.DataFrame
            (state, action) index pairs of each demonstration (or a long DataFrame with
            columns ``state``, ``action`` and optionally ``trajectory``).
        reference : array-like, optional
            A reference reward (e.g. the true one in a simulation); enables ``distance_``
            and its bootstrap interval.

        Returns
        -------
        self
            The fitted estimator.
        """
        check_mdp(mdp)
        model = self._behavioural_model()
        name, temp_name = _TABULAR_MODELS[type(model)]
        smoothing = _check_smoothing(self.smoothing)
        alpha = check_alpha(self.alpha)
        n_bootstrap = deprecated_alias(
            self.n_bootstrap, self.n_boot, "n_bootstrap", "n_boot", type(self).__name__
        )
        n_bootstrap = _check_n_bootstrap(n_bootstrap, alpha)
        metric = StarcMetric(mdp, "val", 2, scale=self.scale)
        trajs = _check_trajectories(mdp, trajectories)
        ref = None if reference is None else mdp.check_reward(reference, "reference")
        ref_unit = np.zeros(0) if ref is None else metric._unit(ref, "reference")

        def dist_to_ref(reward: np.ndarray) -> float:
            return metric._distance_of_units(ref_unit, metric._unit(reward))

        def estimate(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            c = _counts(mdp, [trajs[i] for i in idx]) + smoothing
            pi = c / c.sum(axis=1, keepdims=True)
            return pi, model.representative(mdp, pi)

        policy, reward = estimate(np.arange(len(trajs)))
        dist, lo_hi, boots = None, None, np.empty(0)
        if ref is not None:
            dist = dist_to_ref(reward)
            if n_bootstrap:
                lo_hi, boots = _distance_interval(
                    lambda idx: dist_to_ref(estimate(idx)[1]),
                    dist,
                    len(trajs),
                    n_bootstrap,
                    alpha,
                    self.random_state,
                    self.n_jobs,
                )
        self.results_ = IRLResults(
            model=name,
            temperature=(temp_name, getattr(model, temp_name)),
            smoothing=smoothing,
            n_trajectories=len(trajs),
            n_steps=int(sum(len(t) for t in trajs)),
            reward=reward,
            policy=policy,
            mdp=mdp,
            reference=ref,
            distance=None if dist is None else float(dist),
            interval=lo_hi,
            alpha=alpha,
            n_bootstrap=n_bootstrap,
            boot_distances=boots,
            scale=metric.scale,
        )
        # fitted attributes: views of the results object
        self.policy_, self.reward_ = self.results_.policy, self.results_.reward
        self.n_trajectories_ = self.results_.n_trajectories
        self.distance_ = self.results_.distance
        self.distance_interval_ = self.results_.interval
        return self


def _alias_init(class_name: str, parameter: str) -> Callable[..., None]:
    """The ``__init__`` of an alias of :class:`TabularIRL` that fixes the model's family:
    ``parameter`` (the model's temperature, a float defaulting to 1.0) takes the place of
    ``model``; every other parameter is TabularIRL's, in the same order and keyword-only.

    It stores each argument, as scikit-learn's contract asks, and carries its explicit
    signature as ``__signature__``: that is what ``inspect.signature`` reads, and so
    scikit-learn's ``get_params``, ``set_params``, ``clone`` and ``repr``, and the
    documentation. One construction serves both aliases and follows TabularIRL's own.
    """
    base = inspect.signature(TabularIRL.__init__)
    self_param, _model, *common = base.parameters.values()
    first = inspect.Parameter(parameter, inspect.Parameter.KEYWORD_ONLY, default=1.0)
    signature = base.replace(parameters=[self_param, first.replace(annotation="float"), *common])

    def __init__(self: TabularIRL, **params: Any) -> None:
        try:
            bound = signature.bind(self, **params)
        except TypeError as exc:
            raise TypeError(f"{class_name}.__init__() {exc}") from None
        bound.apply_defaults()
        for name, value in list(bound.arguments.items())[1:]:
            setattr(self, name, value)

    __init__.__qualname__ = f"{class_name}.__init__"
    setattr(__init__, "__signature__", signature)  # noqa: B010 (a function has no such slot)
    return __init__


@fill_doc
class BoltzmannIRL(TabularIRL):
    """:class:`TabularIRL` with the Boltzmann-rational model (an alias fixing the model).

    ``BoltzmannIRL(beta=b)`` is ``TabularIRL(model=BoltzmannModel(beta=b))``.

    Parameters
    ----------
    beta : float, default 1.0
        Inverse temperature assumed for the demonstrator.
    %(estimator_common)s

    Attributes
    ----------
    reward_ : ndarray (S, A, S)
        Estimated reward (closed-form Boltzmann inverse of ``policy_``).
    %(estimator_attributes)s

    Examples
    --------
    >>> from irl_sensitivity import example_problem, boltzmann_policy, BoltzmannIRL
    >>> from irl_sensitivity import sample_trajectories
    >>> mdp, R = example_problem()
    >>> trajs = sample_trajectories(mdp, boltzmann_policy(mdp, R, 2.0), 40, 20, rng=1)
    >>> est = BoltzmannIRL(beta=2.0, n_bootstrap=40, random_state=0).fit(mdp, trajs, reference=R)
    >>> est.reward_.shape, bool(0 <= est.distance_ <= 1)
    ((3, 2, 3), True)
    """

    __init__ = _alias_init("BoltzmannIRL", "beta")

    def _behavioural_model(self) -> BehaviouralModel:
        return BoltzmannModel(beta=self.beta)


@fill_doc
class MaxCausalEntropyIRL(TabularIRL):
    """:class:`TabularIRL` with the maximal causal entropy model (an alias fixing the
    model): ``reward_ = temperature * log pi_hat``.

    ``MaxCausalEntropyIRL(temperature=t)`` is ``TabularIRL(model=MCEModel(temperature=t))``.

    Parameters
    ----------
    %(temperature)s
    %(estimator_common)s

    Attributes
    ----------
    reward_ : ndarray (S, A, S)
        Estimated reward ``temperature * log policy_``.
    %(estimator_attributes)s

    Examples
    --------
    >>> from irl_sensitivity import example_problem, mce_policy, MaxCausalEntropyIRL
    >>> from irl_sensitivity import sample_trajectories
    >>> mdp, R = example_problem()
    >>> trajs = sample_trajectories(mdp, mce_policy(mdp, R), 200, 20, rng=1)
    >>> est = MaxCausalEntropyIRL().fit(mdp, trajs, reference=R)
    >>> bool(est.distance_ < 0.2)
    True
    """

    __init__ = _alias_init("MaxCausalEntropyIRL", "temperature")

    def _behavioural_model(self) -> BehaviouralModel:
        return MCEModel(temperature=self.temperature)
