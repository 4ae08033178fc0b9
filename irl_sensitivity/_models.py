"""Behavioural models ``f_{tau, gamma, theta}: R -> pi`` as small parameter objects.

Each model has its own discount ``gamma`` and transition ``transition`` (``None``: use the
MDP's own) and its temperature (the inverse temperature ``beta`` for Boltzmann, the
``temperature`` for MCE, the tie tolerance ``tol`` for the optimal model). The MDP given to a
method supplies everything a model leaves as ``None``.
"""

from __future__ import annotations

import warnings
from dataclasses import InitVar, dataclass, field, fields, replace
from typing import Any

import numpy as np

from irl_sensitivity._common import fill_doc
from irl_sensitivity._inverse import (
    InverseSet,
    ambiguity_basis,
    boltzmann_inverse,
    mce_inverse,
    optimality_inverse,
)
from irl_sensitivity._mdp import TabularMDP, _check_gamma, _check_transition, check_mdp
from irl_sensitivity._planning import _check_temperature
from irl_sensitivity._policies import (
    _check_tol,
    boltzmann_policy,
    mce_policy,
    optimal_policy,
)

__all__ = ["BehaviouralModel", "BoltzmannModel", "MCEModel", "OptimalModel"]


@fill_doc
@dataclass(frozen=True)
class BehaviouralModel:
    """Base class: a map from rewards to policies in an environment ``(tau, gamma)``.

    ``gamma`` and ``transition`` are keyword-only, so that a model's first positional
    argument is its own parameter (``BoltzmannModel(2.0)`` is ``beta=2.0``). Subclasses
    implement ``policy``, ``representative`` and ``in_image``; a frozen dataclass.

    Parameters
    ----------
    %(model_env)s

    Examples
    --------
    >>> from irl_sensitivity import BehaviouralModel, BoltzmannModel, random_mdp
    >>> m = BoltzmannModel(2.0, gamma=0.5)
    >>> isinstance(m, BehaviouralModel), m.beta
    (True, 2.0)
    >>> m.environment(random_mdp(3, 2, rng=0)).gamma
    0.5
    >>> m.with_params(beta=1.0).describe()
    'Boltzmann(gamma=0.5, transition=own, beta=1)'
    """

    gamma: float | None = field(default=None, kw_only=True)
    transition: Any = field(default=None, kw_only=True, compare=False, hash=False)

    name = "model"

    def __post_init__(self) -> None:
        self._validate()

    def _validate(self) -> None:
        # validation at the door: a model with a NaN / negative / bool parameter is refused
        # when it is built (``with_params`` builds a new one, so it is checked too)
        if self.gamma is not None:
            object.__setattr__(self, "gamma", _check_gamma(self.gamma))
        if self.transition is not None:
            object.__setattr__(self, "transition", _check_transition(self.transition))
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("beta", "temperature"):
                object.__setattr__(self, f.name, _check_temperature(value, f.name))
            elif f.name == "tol":
                object.__setattr__(self, "tol", _check_tol(value))

    def environment(self, mdp: TabularMDP) -> TabularMDP:
        """The MDP this model plans in: ``mdp`` with the model's gamma / transition.

        Parameters
        ----------
        mdp : TabularMDP
            The environment.

        Returns
        -------
        TabularMDP
            ``mdp`` itself when the model overrides nothing, else a copy.
        """
        check_mdp(mdp)
        if self.gamma is None and self.transition is None:
            return mdp
        t = self.transition
        if t is not None:
            shape = (len(t), *t[0].shape) if isinstance(t, list) else t.shape
            s_t, a_t = (shape[1], shape[0]) if isinstance(t, list) else (shape[0], shape[1])
            if (s_t, a_t) != (mdp.n_states, mdp.n_actions):
                raise ValueError(
                    f"The model's `transition` has {s_t} states and {a_t} actions but the MDP "
                    f"has {mdp.n_states} and {mdp.n_actions}; pass a kernel of the MDP's shape."
                )
        return mdp.replace(gamma=self.gamma, transition=self.transition)

    def with_params(self, **params: Any) -> BehaviouralModel:
        """A copy with some parameters replaced.

        Parameters
        ----------
        **params : object
            New values of some of the model's parameters, by name.

        Returns
        -------
        BehaviouralModel
            A new model of the same class (validated).
        """
        known = {f.name for f in fields(self)}
        bad = set(params) - known
        if bad:
            raise ValueError(f"Unknown parameter(s) {sorted(bad)} for {type(self).__name__}.")
        return replace(self, **params)

    def describe(self) -> str:
        """Short text of the parameters, for summaries.

        Returns
        -------
        str
            ``"Name(param=value, ...)"``.
        """
        parts = []
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "transition":
                parts.append(f"transition={'own' if v is None else 'given'}")
            else:
                parts.append(f"{f.name}={'own' if v is None else f'{v:g}'}")
        return f"{self.name}({', '.join(parts)})"

    # interface -------------------------------------------------------------
    @fill_doc
    def policy(self, mdp: TabularMDP, reward: Any) -> np.ndarray:  # pragma: no cover
        """The policy ``f(R)``.

        %(model_policy)s
        """
        raise NotImplementedError

    @fill_doc
    def representative(self, mdp: TabularMDP, policy: Any) -> np.ndarray:  # pragma: no cover
        """The closed-form representative of ``f^{-1}(policy)``, shape (S, A, S).

        %(model_representative)s
        """
        raise NotImplementedError

    @fill_doc
    def inverse(self, mdp: TabularMDP, policy: Any) -> InverseSet:
        """The rewards ``R`` with ``f(R) = policy``: representative plus the span of the
        shaping and S'-redistribution basis of the model's environment (on a sparse MDP, in
        the (S, A) representation: representative (S, A), basis (S * A, k) of shaping).

        Parameters
        ----------
        %(model_mdp)s
        policy : array-like of shape (S, A)
            A policy in the model's image.

        Returns
        -------
        InverseSet
            Representative, basis and whether the affine set is the whole inverse (False for
            the optimal model).
        """
        env = self.environment(mdp)
        exact = not isinstance(self, OptimalModel)
        rep = self.representative(mdp, policy)
        if env.is_sparse:
            # (S, A) representation: S'-redistributions vanish, shaping is (gamma T - I) Phi
            s, a = env.n_states, env.n_actions
            cols = env.expect_next(np.eye(s)).reshape(s * a, s) * env.gamma
            cols -= np.repeat(np.eye(s), a, axis=0)
            u, sv, _ = np.linalg.svd(cols, full_matrices=False)
            return InverseSet(rep, u[:, sv > 1e-10 * sv[0]], exact)
        return InverseSet(rep, ambiguity_basis(env), exact)

    @fill_doc
    def in_image(
        self, mdp: TabularMDP, policy: Any, *, tol: float = 1e-10
    ) -> bool:  # pragma: no cover
        """Whether ``policy`` is in the image of ``f``.

        %(model_in_image)s
        """
        raise NotImplementedError


@dataclass(frozen=True)
class _FullSupportModel(BehaviouralModel):
    """Base of the models whose image is every policy with full support (Boltzmann, MCE)."""

    @fill_doc
    def in_image(self, mdp: TabularMDP, policy: Any, *, tol: float = 1e-10) -> bool:
        """Every policy with full support is Boltzmann-rational / soft-optimal for some
        reward.

        %(model_in_image)s
        """
        pi = mdp.check_policy(policy)
        return bool(pi.min() > 0)


@fill_doc
@dataclass(frozen=True)
class BoltzmannModel(_FullSupportModel):
    """Boltzmann-rational model ``pi = softmax(beta * Q*)``.

    Parameters
    ----------
    beta : float, default 1.0
        Inverse temperature (positive).
    %(model_env)s

    Examples
    --------
    >>> import numpy as np
    >>> from irl_sensitivity import BoltzmannModel, random_mdp
    >>> mdp = random_mdp(3, 2, rng=0)
    >>> m = BoltzmannModel(beta=2.0)
    >>> pi = m.policy(mdp, np.ones((3, 2)))
    >>> m.in_image(mdp, pi), m.inverse(mdp, pi).exact
    (True, True)
    """

    beta: float = 1.0
    gamma: float | None = field(default=None, kw_only=True)
    transition: Any = field(default=None, kw_only=True, compare=False, hash=False)

    name = "Boltzmann"

    @fill_doc
    def policy(self, mdp: TabularMDP, reward: Any) -> np.ndarray:
        """``softmax(beta * Q*)`` in the model's environment.

        %(model_policy)s
        """
        return boltzmann_policy(self.environment(mdp), reward, self.beta)

    @fill_doc
    def representative(self, mdp: TabularMDP, policy: Any) -> np.ndarray:
        """Closed-form Boltzmann inverse in the model's environment.

        %(model_representative)s
        """
        return boltzmann_inverse(self.environment(mdp), policy, self.beta)


@fill_doc
@dataclass(frozen=True)
class MCEModel(_FullSupportModel):
    """Maximal causal entropy model: the soft-optimal policy with temperature
    ``temperature``.

    Parameters
    ----------
    temperature : float, default 1.0
        Temperature (positive).
    %(model_env)s
    alpha : float, optional, keyword-only
        Deprecated name of ``temperature`` (a ``FutureWarning``).

    Examples
    --------
    >>> import numpy as np
    >>> from irl_sensitivity import MCEModel, random_mdp
    >>> mdp = random_mdp(3, 2, rng=0)
    >>> MCEModel(temperature=0.5).policy(mdp, np.zeros(3)).tolist()
    [[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]]
    """

    temperature: float = 1.0
    gamma: float | None = field(default=None, kw_only=True)
    transition: Any = field(default=None, kw_only=True, compare=False, hash=False)
    alpha: InitVar[float | None] = field(default=None, kw_only=True)

    name = "MCE"

    def __post_init__(self, alpha: float | None) -> None:
        if alpha is not None:
            warnings.warn(
                "`alpha` of MCEModel is renamed `temperature` (alpha is a significance level "
                "elsewhere); the old name will stop working in a future version.",
                FutureWarning,
                stacklevel=3,
            )
            object.__setattr__(self, "temperature", alpha)
        self._validate()

    @fill_doc
    def policy(self, mdp: TabularMDP, reward: Any) -> np.ndarray:
        """Soft-optimal policy in the model's environment.

        %(model_policy)s
        """
        return mce_policy(self.environment(mdp), reward, self.temperature)

    @fill_doc
    def representative(self, mdp: TabularMDP, policy: Any) -> np.ndarray:
        """``temperature * log pi`` (the ambiguity is shaping plus S'-redistribution).

        %(model_representative)s
        """
        return mce_inverse(self.environment(mdp), policy, self.temperature)


@fill_doc
@dataclass(frozen=True)
class OptimalModel(BehaviouralModel):
    """Maximally supportive optimal model: uniform over the optimal actions.

    ``tol`` is the tie tolerance (relative to ``1 + |V*|_inf``).

    Parameters
    ----------
    tol : float, default 1e-8
        Tie tolerance: actions within it of the optimal value count as optimal.
    %(model_env)s

    Examples
    --------
    >>> from irl_sensitivity import OptimalModel
    >>> OptimalModel().describe()
    'Optimal(gamma=own, transition=own, tol=1e-08)'
    """

    tol: float = 1e-8
    gamma: float | None = field(default=None, kw_only=True)
    transition: Any = field(default=None, kw_only=True, compare=False, hash=False)

    name = "Optimal"

    @fill_doc
    def policy(self, mdp: TabularMDP, reward: Any) -> np.ndarray:
        """Uniform over the optimal actions in the model's environment.

        %(model_policy)s
        """
        return optimal_policy(self.environment(mdp), reward, tol=self.tol)

    @fill_doc
    def representative(self, mdp: TabularMDP, policy: Any) -> np.ndarray:
        """0 on the support, -1 off it (the affine basis spans a subset of the set only).

        %(model_representative)s
        """
        return optimality_inverse(self.environment(mdp), policy)

    @fill_doc
    def in_image(self, mdp: TabularMDP, policy: Any, *, tol: float = 1e-10) -> bool:
        """Image: policies uniform over a non-empty set of actions in every state.

        %(model_in_image)s
        """
        pi = mdp.check_policy(policy)
        tol = _check_tol(tol)
        supp = pi > tol
        k = supp.sum(axis=1, keepdims=True)
        return bool(np.all(np.abs(np.where(supp, pi - 1.0 / k, 0.0)) <= 1e-8))
