"""Behavioural models as functions from rewards to policies."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from scipy.special import softmax

from irl_sensitivity._common import fill_doc, renamed_arguments
from irl_sensitivity._mdp import TabularMDP, check_mdp
from irl_sensitivity._planning import _check_temperature, optimal_values, soft_value_iteration

__all__ = ["boltzmann_policy", "mce_policy", "optimal_policy"]


def _check_tol(value: Any, name: str = "tol") -> float:
    """A tie tolerance: a finite float >= 0."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a float >= 0, e.g. 1e-8; got {value!r}.")
    v = float(value)
    if not np.isfinite(v) or v < 0:
        raise ValueError(f"`{name}` must be finite and >= 0, e.g. 1e-8; got {value!r}.")
    return v


_check_mdp = check_mdp


def _scaled(mdp: TabularMDP, reward: Any) -> tuple[np.ndarray, float]:
    """The reward divided by its largest absolute entry (policies of these models are
    invariant to positive scaling once the temperature is scaled with it)."""
    r = mdp.check_reward(reward)
    m = float(np.max(np.abs(r))) if r.size else 0.0
    return (r / m, m) if m > 0 else (r, 1.0)


@fill_doc
def optimal_policy(mdp: TabularMDP, reward: Any, *, tol: float = 1e-8) -> np.ndarray:
    """The maximally supportive optimal policy: uniform over the optimal actions.

    An action is optimal in ``s`` when ``Q*(s, a) >= V*(s) - tol * (1 + |V*|_inf)``, with
    ``Q*`` and ``V*`` of the reward divided by its largest absolute entry.

    Parameters
    ----------
    %(env)s
    %(any_reward)s
    tol : float, default 1e-8
        Tie tolerance (finite, >= 0).

    Returns
    -------
    numpy.ndarray of shape (S, A)
        The policy; each row is uniform over the optimal actions of that state.

    Examples
    --------
    >>> import numpy as np
    >>> from irl_sensitivity import TabularMDP, optimal_policy
    >>> mdp = TabularMDP(np.full((2, 3, 2), 0.5), None, 0.9)
    >>> optimal_policy(mdp, np.array([[1.0, 1.0, 0.0], [0.0, 2.0, 0.0]])).tolist()
    [[0.5, 0.5, 0.0], [0.0, 1.0, 0.0]]
    """
    _check_mdp(mdp)
    tol = _check_tol(tol)
    r, _ = _scaled(mdp, reward)
    v, q = optimal_values(mdp, r)
    best = q >= v[:, None] - tol * (1.0 + np.max(np.abs(v)))
    return best / best.sum(axis=1, keepdims=True)


@fill_doc
def boltzmann_policy(mdp: TabularMDP, reward: Any, beta: float = 1.0) -> np.ndarray:
    """Boltzmann-rational policy ``pi(a|s) = softmax_a(beta * Q*(s, a))``.

    Parameters
    ----------
    %(env)s
    %(any_reward)s
    beta : float, default 1.0
        Inverse temperature (finite, > 0).

    Returns
    -------
    numpy.ndarray of shape (S, A)
        The policy (rows sum to one).

    Examples
    --------
    >>> import numpy as np
    >>> from irl_sensitivity import TabularMDP, boltzmann_policy
    >>> mdp = TabularMDP(np.full((1, 2, 1), 1.0), None, 0.5)
    >>> boltzmann_policy(mdp, np.array([[0.0, np.log(3.0)]]), beta=1.0).round(6).tolist()
    [[0.25, 0.75]]
    """
    _check_mdp(mdp)
    beta = _check_temperature(beta, "beta")
    r, m = _scaled(mdp, reward)
    _, q = optimal_values(mdp, r)
    # softmax(beta * m * q) without overflow: shift by the row maximum first
    with np.errstate(over="ignore", under="ignore"):
        z = (beta * m) * (q - q.max(axis=1, keepdims=True)) if np.isfinite(beta * m) else None
        if z is None:
            z = np.where(q >= q.max(axis=1, keepdims=True), 0.0, -np.inf)
        return softmax(z, axis=1)


@renamed_arguments({"alpha": "temperature"})
@fill_doc
def mce_policy(mdp: TabularMDP, reward: Any, temperature: float = 1.0) -> np.ndarray:
    """Maximal causal entropy policy: the soft-optimal policy with temperature
    ``temperature``.

    Parameters
    ----------
    %(env)s
    %(any_reward)s
    %(temperature)s

    Returns
    -------
    numpy.ndarray of shape (S, A)
        The soft-optimal policy (rows sum to one).

    Examples
    --------
    >>> import numpy as np
    >>> from irl_sensitivity import random_mdp, mce_policy
    >>> pi = mce_policy(random_mdp(3, 2, rng=0), np.arange(3.0), temperature=0.5)
    >>> bool(np.allclose(pi.sum(axis=1), 1.0))
    True
    """
    _check_mdp(mdp)
    alpha = _check_temperature(temperature, "temperature")
    r, m = _scaled(mdp, reward)
    # pi(R, t) = pi(R / m, t / m): the temperature is scaled with the reward
    a_eff = alpha / m
    if a_eff < 1e-200:
        # exp(-gap / alpha) underflows to 0 for every gap above rounding: in floating point
        # the soft-optimal policy is uniform over the exactly optimal actions
        v, q = optimal_values(mdp, r)
        best = q >= v[:, None]
        return best / best.sum(axis=1, keepdims=True)
    return soft_value_iteration(mdp, r, a_eff)[2]
