"""Closed-form inverses of the behavioural models and bases of their ambiguity.

Boltzmann inverse (derivation)
------------------------------
For ``pi = softmax(beta * Q*)`` we have ``log pi(a|s) = beta * Q*(s, a) - log Z(s)``, so
``Q*`` is known up to a state function: ``Q*(s, a) = (1/beta) log pi(a|s) + k(s)``. Take
``Qh(s, a) = (1/beta) log pi(a|s)`` and ``Vh(s) = max_a Qh(s, a)`` and set
``Rh(s, a, s') = Qh(s, a) - gamma * Vh(s')``, i.e.
``Rh = (1/beta) [log pi(a|s) - gamma * max_a' log pi(a'|s')]``. Under ``Rh`` the Bellman
optimality equation is solved by ``V = Vh``: ``r_h(s, a) + gamma E[Vh(s')] = Qh(s, a)``
and ``max_a Qh = Vh``. Hence the optimal Q-function of ``Rh`` is ``Qh`` and
``softmax(beta * Qh) = softmax(log pi) = pi`` exactly: the formula with the maximum of
``log pi`` is exact (no soft value is involved). Every reward with the same Boltzmann
policy is ``Rh`` plus potential shaping plus an S'-redistribution (Skalse et al., 2022).

MCE inverse
-----------
With ``Rh = alpha * log pi(a|s)`` the soft Bellman equation is solved by ``V = 0``
(``alpha * log sum_a pi(a|s) = 0``), so the soft-optimal policy is ``pi``. The ambiguity is
again shaping plus S'-redistribution.

Optimality inverse
------------------
For a maximally supportive optimal policy with supports ``O(s)``, ``Rh(s, a, s') = 0`` for
``a in O(s)`` and ``-1`` otherwise has ``Q* = Rh``, ``V* = 0`` and exactly ``O(s)`` as its
optimal actions. The set of rewards with these optimal actions is not a linear space;
shaping and S'-redistribution of ``Rh`` give a subset of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from irl_sensitivity._common import fill_doc, renamed_arguments
from irl_sensitivity._mdp import TabularMDP, check_mdp
from irl_sensitivity._planning import _check_temperature
from irl_sensitivity._policies import _check_tol
from irl_sensitivity._transforms import s_redistribution_basis, shaping_basis

__all__ = [
    "InverseSet",
    "ambiguity_basis",
    "boltzmann_inverse",
    "mce_inverse",
    "optimality_inverse",
]


@dataclass(frozen=True)
class InverseSet:
    """Rewards consistent with a policy under a behavioural model.

    Returned by the models' ``inverse`` method; a frozen dataclass whose constructor
    arguments are stored as attributes of the same names.

    Parameters
    ----------
    representative : ndarray of shape (S, A, S)
        One reward of the set (the model's closed-form inverse).
    basis : ndarray of shape (S * A * S, k)
        Orthonormal columns; ``representative + span(basis)`` is the set (``exact=True``)
        or a subset of it (``exact=False``, the optimality model).
    exact : bool
        Whether the affine space is the whole set of consistent rewards.

    Examples
    --------
    >>> import numpy as np
    >>> from irl_sensitivity import random_mdp, BoltzmannModel
    >>> mdp = random_mdp(3, 2, rng=0)
    >>> model = BoltzmannModel()
    >>> inv = model.inverse(mdp, model.policy(mdp, np.zeros((3, 2))))
    >>> inv.representative.shape, inv.basis.shape, inv.exact
    ((3, 2, 3), (18, 15), True)
    """

    representative: np.ndarray
    basis: np.ndarray
    exact: bool


def ambiguity_basis(mdp: TabularMDP) -> np.ndarray:
    """Orthonormal basis (S*A*S, k) of potential shaping + S'-redistribution for ``mdp``.

    These are the reward differences that leave Boltzmann and MCE policies unchanged.

    Parameters
    ----------
    mdp : TabularMDP
        A dense MDP (its ``gamma`` and transition kernel are used).

    Returns
    -------
    numpy.ndarray of shape (S * A * S, k)
        Orthonormal columns spanning the space; ``k`` is its numerical rank.

    Examples
    --------
    >>> import numpy as np
    >>> from irl_sensitivity import random_mdp, ambiguity_basis
    >>> mdp = random_mdp(3, 2, rng=0)
    >>> B = ambiguity_basis(mdp)
    >>> B.shape, bool(np.allclose(B.T @ B, np.eye(B.shape[1])))
    ((18, 15), True)
    """
    check_mdp(mdp)
    b = np.hstack([shaping_basis(mdp), s_redistribution_basis(mdp)])
    u, sv, _ = np.linalg.svd(b, full_matrices=False)
    rank = int(np.sum(sv > 1e-10 * sv[0])) if sv.size else 0
    return u[:, :rank]


def _broadcast_sa(mdp: TabularMDP, x: np.ndarray) -> np.ndarray:
    if mdp.is_sparse:  # sparse MDPs represent rewards by (S, A) arrays
        return x
    return np.broadcast_to(x[:, :, None], (mdp.n_states, mdp.n_actions, mdp.n_states)).copy()


@fill_doc
def boltzmann_inverse(mdp: TabularMDP, policy: Any, beta: float = 1.0) -> np.ndarray:
    """Reward whose Boltzmann-rational policy (``beta``, ``mdp.gamma``) is ``policy``.

    An (S, A, S) array; on a sparse MDP its (S, A) expectation.

    ``Rh(s, a, s') = (1/beta) [log pi(a|s) - gamma * max_a' log pi(a'|s')]``, exact (see
    the module notes). The policy needs full support.

    Parameters
    ----------
    %(env_inverse)s
    %(full_support_policy)s
    beta : float, default 1.0
        Inverse temperature of the Boltzmann model (positive).

    Returns
    -------
    %(reward_out)s
        The representative reward ``Rh``.

    Examples
    --------
    >>> import numpy as np
    >>> from irl_sensitivity import example_problem, boltzmann_policy, boltzmann_inverse
    >>> mdp, R = example_problem(4, 2, reward_rng=1)
    >>> pi = boltzmann_policy(mdp, R, beta=2.0)
    >>> Rh = boltzmann_inverse(mdp, pi, beta=2.0)
    >>> bool(np.abs(boltzmann_policy(mdp, Rh, beta=2.0) - pi).max() < 1e-10)
    True
    """
    check_mdp(mdp)
    beta = _check_temperature(beta, "beta")
    pi = mdp.check_policy(policy, full_support=True)
    logpi = np.log(pi)
    if mdp.is_sparse:  # the (S, A) expectation
        return (logpi - mdp.gamma * mdp.expect_next(logpi.max(axis=1))) / beta
    r = logpi[:, :, None] - mdp.gamma * logpi.max(axis=1)[None, None, :]
    return r / beta


@renamed_arguments({"alpha": "temperature"})
@fill_doc
def mce_inverse(mdp: TabularMDP, policy: Any, temperature: float = 1.0) -> np.ndarray:
    """Reward whose soft-optimal policy (temperature ``t``) is ``policy``:
    ``Rh(s, a, s') = t * log pi(a|s)``.

    Parameters
    ----------
    %(env_inverse)s
    %(full_support_policy)s
    %(temperature)s

    Returns
    -------
    %(reward_out)s
        The representative reward ``Rh``, constant in ``s'``.

    Examples
    --------
    >>> from irl_sensitivity import random_mdp, mce_inverse
    >>> Rh = mce_inverse(random_mdp(2, 2, rng=0), [[0.5, 0.5], [0.2, 0.8]], temperature=2.0)
    >>> Rh[:, :, 0].round(3).tolist()  # 2 log pi(a|s), the same for every s'
    [[-1.386, -1.386], [-3.219, -0.446]]
    """
    check_mdp(mdp)
    temp = _check_temperature(temperature, "temperature")
    pi = mdp.check_policy(policy, full_support=True)
    return _broadcast_sa(mdp, temp * np.log(pi))


@fill_doc
def optimality_inverse(mdp: TabularMDP, policy: Any, *, tol: float = 1e-8) -> np.ndarray:
    """Reward whose optimal actions are exactly the support of ``policy`` (0 there, -1 off).

    Parameters
    ----------
    %(env_inverse)s
    policy : array-like of shape (S, A)
        A policy; its support (entries ``> tol``) gives the optimal actions.
    tol : float, default 1e-8
        Entries above ``tol`` count as support.

    Returns
    -------
    %(reward_out)s
        0 on the supported actions and -1 elsewhere, constant in ``s'``.

    Examples
    --------
    >>> import numpy as np
    >>> from irl_sensitivity import TabularMDP, optimality_inverse
    >>> mdp = TabularMDP(np.full((2, 2, 2), 0.5), None, 0.9)
    >>> optimality_inverse(mdp, [[1.0, 0.0], [0.5, 0.5]])[:, :, 0].tolist()
    [[0.0, -1.0], [0.0, 0.0]]
    """
    check_mdp(mdp)
    tol = _check_tol(tol)
    pi = mdp.check_policy(policy)
    return _broadcast_sa(mdp, np.where(pi > tol, 0.0, -1.0))
