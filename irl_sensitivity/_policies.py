"""Behavioural models as functions from rewards to policies."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import softmax

from irl_sensitivity._mdp import TabularMDP
from irl_sensitivity._planning import optimal_values, soft_value_iteration

__all__ = ["boltzmann_policy", "mce_policy", "optimal_policy"]


def _check_temp(value: Any, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be a positive float; got {value!r}.") from None
    if not np.isfinite(v) or v <= 0:
        raise ValueError(f"`{name}` must be finite and > 0; got {value!r}.")
    return v


def _check_mdp(mdp: Any) -> TabularMDP:
    if not isinstance(mdp, TabularMDP):
        raise TypeError(f"`mdp` must be a TabularMDP; got {type(mdp).__name__}.")
    return mdp


def optimal_policy(mdp: TabularMDP, reward: Any, *, tol: float = 1e-8) -> np.ndarray:
    """The maximally supportive optimal policy: uniform over the optimal actions.

    An action is optimal in ``s`` when ``Q*(s, a) >= V*(s) - tol * (1 + |V*|_inf)``.

    Examples
    --------
    >>> import numpy as np
    >>> from irl_sensitivity import TabularMDP, optimal_policy
    >>> mdp = TabularMDP(np.full((2, 3, 2), 0.5), None, 0.9)
    >>> optimal_policy(mdp, np.array([[1.0, 1.0, 0.0], [0.0, 2.0, 0.0]])).tolist()
    [[0.5, 0.5, 0.0], [0.0, 1.0, 0.0]]
    """
    _check_mdp(mdp)
    v, q = optimal_values(mdp, reward)
    best = q >= v[:, None] - tol * (1.0 + np.max(np.abs(v)))
    return best / best.sum(axis=1, keepdims=True)


def boltzmann_policy(mdp: TabularMDP, reward: Any, beta: float = 1.0) -> np.ndarray:
    """Boltzmann-rational policy ``pi(a|s) = softmax_a(beta * Q*(s, a))``.

    Examples
    --------
    >>> import numpy as np
    >>> from irl_sensitivity import TabularMDP, boltzmann_policy
    >>> mdp = TabularMDP(np.full((1, 2, 1), 1.0), None, 0.5)
    >>> boltzmann_policy(mdp, np.array([[0.0, np.log(3.0)]]), beta=1.0).round(6).tolist()
    [[0.25, 0.75]]
    """
    _check_mdp(mdp)
    beta = _check_temp(beta, "beta")
    _, q = optimal_values(mdp, reward)
    return softmax(beta * q, axis=1)


def mce_policy(mdp: TabularMDP, reward: Any, alpha: float = 1.0) -> np.ndarray:
    """Maximal causal entropy policy: the soft-optimal policy with temperature ``alpha``.

    Examples
    --------
    >>> import numpy as np
    >>> from irl_sensitivity import random_mdp, mce_policy
    >>> pi = mce_policy(random_mdp(3, 2, rng=0), np.arange(3.0), alpha=0.5)
    >>> bool(np.allclose(pi.sum(axis=1), 1.0))
    True
    """
    _check_mdp(mdp)
    alpha = _check_temp(alpha, "alpha")
    return soft_value_iteration(mdp, reward, alpha)[2]
