"""Reward transformations that preserve policy orderings (or optimal policies), and random
generators of each, used to test invariances.

* potential shaping: ``R'(s, a, s') = R(s, a, s') + gamma * Phi(s') - Phi(s)``;
* S'-redistribution: ``R'`` with ``E_{s' ~ T(s, a)} R'(s, a, s') = E R(s, a, s')`` (the
  reward may move freely between next states, including impossible ones);
* positive scaling: ``c * R`` with ``c > 0``;
* optimality-preserving transformations: rewards with the same optimal actions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from estkit import check_positive, check_random_state
from estkit._random import RandomStateLike
from irl_sensitivity._common import fill_doc
from irl_sensitivity._mdp import TabularMDP, _as_float, _check_gamma, _labelled, check_mdp
from irl_sensitivity._policies import _check_tol

__all__ = [
    "optimality_preserving",
    "positive_scaling",
    "potential_shaping",
    "random_potential",
    "s_redistribution",
    "s_redistribution_basis",
    "shaping_basis",
]


@fill_doc
def potential_shaping(
    mdp: TabularMDP, reward: Any, potential: Any, *, gamma: float | None = None
) -> np.ndarray:
    """``R(s, a, s') + gamma * Phi(s') - Phi(s)`` as an (S, A, S) array (on a sparse MDP its
    (S, A) expectation ``r(s, a) + gamma * E[Phi(s')] - Phi(s)``).

    Parameters
    ----------
    %(env)s
    %(reward_r)s
    potential : array-like of shape (S,)
        The potential ``Phi`` (finite; a pandas Series is aligned by state label).
    gamma : float, optional
        Discount of the shaping term; None uses ``mdp.gamma``.

    %(transformed_returns)s

    Examples
    --------
    >>> import numpy as np
    >>> from irl_sensitivity import TabularMDP, potential_shaping
    >>> mdp = TabularMDP(np.full((2, 1, 2), 0.5), None, 0.5)
    >>> potential_shaping(mdp, np.zeros(2), [1.0, 0.0])[:, 0, :].tolist()
    [[-0.5, -1.0], [0.5, 0.0]]
    """
    check_mdp(mdp)
    phi = _as_float(_labelled(potential, "potential", mdp.n_states), "potential")
    if phi.shape != (mdp.n_states,):
        raise ValueError(f"`potential` must have shape ({mdp.n_states},); got {phi.shape}.")
    if not np.all(np.isfinite(phi)):
        raise ValueError("`potential` contains non-finite values.")
    g = mdp.gamma if gamma is None else _check_gamma(gamma)
    if mdp.is_sparse:  # the (S, A) expectation (see TabularMDP)
        return mdp.expected_reward(reward) + g * mdp.expect_next(phi) - phi[:, None]
    r = mdp.broadcast_reward(reward)
    return r + g * phi[None, None, :] - phi[:, None, None]


def shaping_basis(mdp: TabularMDP, *, gamma: float | None = None) -> np.ndarray:
    """Columns ``gamma * e_j(s') - e_j(s)`` (flattened (S*A*S, S)) spanning potential shaping."""
    s, a = mdp.n_states, mdp.n_actions
    g = mdp.gamma if gamma is None else float(gamma)
    eye = np.eye(s)
    cols = g * eye[None, None, :, :] - eye[:, None, None, :]  # (s, a, s', j)
    return np.broadcast_to(cols, (s, a, s, s)).reshape(s * a * s, s).copy()


def s_redistribution_basis(mdp: TabularMDP, *, transition: Any = None) -> np.ndarray:
    """Orthonormal columns (flattened (S*A*S, k)) spanning the S'-redistributions:
    differences ``D`` with ``sum_s' T(s, a, s') D(s, a, s') = 0`` for every (s, a)."""
    t = (
        mdp.dense_transition("s_redistribution_basis")
        if transition is None
        else np.asarray(transition, dtype=float)
    )
    s, a = mdp.n_states, mdp.n_actions
    blocks = []
    for i in range(s):
        for j in range(a):
            row = t[i, j][None, :]
            _, _, vt = np.linalg.svd(row)
            null = vt[1:].T  # (S, S-1) orthonormal, orthogonal to T(i, j, .)
            full = np.zeros((s, a, s, s - 1))
            full[i, j] = null
            blocks.append(full.reshape(s * a * s, s - 1))
    return np.concatenate(blocks, axis=1) if blocks else np.zeros((s * a * s, 0))


@fill_doc
def s_redistribution(
    mdp: TabularMDP, reward: Any, rng: RandomStateLike = None, *, scale: float = 1.0
) -> np.ndarray:
    """A random S'-redistribution of ``reward`` (same expected reward for every (s, a)).

    On a sparse MDP rewards are represented by their (S, A) expectation, which an
    S'-redistribution leaves unchanged: that expectation is returned.

    Gaussian noise is added and its ``T``-weighted component along ``s'`` removed for each
    ``(s, a)``, so ``E_{s' ~ T(s, a)} R'(s, a, s')`` is unchanged.

    Parameters
    ----------
    mdp : TabularMDP
        The environment (its transition kernel is used).
    %(reward_r)s
    rng : None, int, SeedSequence or Generator
        Seed or generator of the noise.
    scale : float, default 1.0
        Standard deviation of the noise (positive).

    %(transformed_returns)s

    Examples
    --------
    >>> import numpy as np
    >>> from irl_sensitivity import example_problem, s_redistribution
    >>> mdp, R = example_problem(next_state=True)
    >>> R2 = s_redistribution(mdp, R, rng=1)
    >>> bool(np.allclose(mdp.expected_reward(R2), mdp.expected_reward(R)))
    True
    >>> bool(np.abs(R2 - R).max() > 0.1)
    True
    """
    check_mdp(mdp)
    scale = float(check_positive(scale, "scale"))
    gen = check_random_state(rng, "rng")
    if mdp.is_sparse:  # invisible in the (S, A) representation of sparse MDPs
        return mdp.expected_reward(reward)
    r = mdp.broadcast_reward(reward)
    noise = gen.normal(scale=scale, size=r.shape)
    t = mdp.transition
    # remove the T-weighted mean along s' so that the expectation is unchanged
    corr = (t * noise).sum(axis=2, keepdims=True) / (t * t).sum(axis=2, keepdims=True)
    return r + noise - corr * t


def positive_scaling(reward: Any, c: float) -> np.ndarray:
    """``c * R`` for ``c > 0``.

    Parameters
    ----------
    reward : array-like
        The reward ``R`` (finite), any shape.
    c : float
        The scale factor (finite and strictly positive).

    Returns
    -------
    numpy.ndarray
        ``c * R``, with the shape of ``reward``.

    Examples
    --------
    >>> positive_scaling([[1.0, -2.0]], 3.0).tolist()
    [[3.0, -6.0]]
    """
    c = float(check_positive(c, "c"))
    r = _as_float(reward, "reward")
    if not np.all(np.isfinite(r)):
        raise ValueError("`reward` contains non-finite values.")
    return c * r


def random_potential(
    mdp: TabularMDP, rng: RandomStateLike = None, *, scale: float = 1.0
) -> np.ndarray:
    """A Gaussian potential ``Phi`` of shape (S,).

    Parameters
    ----------
    mdp : TabularMDP
        The environment (only ``n_states`` is used).
    rng : None, int, SeedSequence or Generator
        Seed or generator.
    scale : float, default 1.0
        Standard deviation of the entries (positive).

    Returns
    -------
    numpy.ndarray of shape (S,)
        Independent ``N(0, scale^2)`` entries.

    Examples
    --------
    >>> from irl_sensitivity import random_mdp, random_potential
    >>> mdp = random_mdp(3, 2, rng=0)
    >>> random_potential(mdp, rng=0).shape
    (3,)
    """
    check_mdp(mdp)
    scale = float(check_positive(scale, "scale"))
    return check_random_state(rng, "rng").normal(scale=scale, size=mdp.n_states)


@fill_doc
def optimality_preserving(
    mdp: TabularMDP, reward: Any, rng: RandomStateLike = None, *, tol: float = 1e-8
) -> np.ndarray:
    """A random reward with the same optimal actions as ``reward``.

    Built as ``Q'(s, a) - gamma * E V'(s')`` (plus an S'-redistribution) where ``Q'``
    equals a random ``V'(s)`` on the optimal actions of ``reward`` and is strictly smaller
    elsewhere: every such reward has exactly those optimal actions (Skalse et al., 2022).

    Parameters
    ----------
    %(env)s
    reward : array-like of shape (S,), (S, A) or (S, A, S)
        The reward whose optimal actions are kept.
    rng : None, int, SeedSequence or Generator
        Seed or generator.
    tol : float, default 1e-8
        Actions within ``tol * (1 + max|V*|)`` of the optimal value (of the reward scaled
        to a largest absolute entry of 1) count as optimal.

    %(transformed_returns)s

    Examples
    --------
    >>> import numpy as np
    >>> from irl_sensitivity import example_problem, optimal_policy, optimality_preserving
    >>> mdp, R = example_problem(4, 3, next_state=True)
    >>> R2 = optimality_preserving(mdp, R, rng=1)
    >>> bool(np.allclose(optimal_policy(mdp, R), optimal_policy(mdp, R2)))
    True
    """
    from irl_sensitivity._planning import optimal_values

    check_mdp(mdp)
    tol = _check_tol(tol)
    gen = check_random_state(rng, "rng")
    r_in = mdp.check_reward(reward)
    m = float(np.max(np.abs(r_in))) if r_in.size else 0.0
    v, q = optimal_values(mdp, r_in / m if m > 0 else r_in)
    opt = q >= v[:, None] - tol * (1.0 + np.max(np.abs(v)))
    v_new = gen.normal(size=mdp.n_states)
    gap = gen.exponential(size=q.shape) + 0.1
    q_new = np.where(opt, v_new[:, None], v_new[:, None] - gap)
    r_sa = q_new - mdp.gamma * mdp.expect_next(v_new)
    if mdp.is_sparse:
        return r_sa
    return s_redistribution(mdp, np.broadcast_to(r_sa[:, :, None], (*q.shape, mdp.n_states)), gen)
