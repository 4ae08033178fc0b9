"""Canonicalisations, STARC distances and normalised regret.

A STARC metric (Skalse et al., 2023) is ``d(R1, R2) = scale * m(s(R1), s(R2))`` with a
canonicalisation ``c`` (a linear map that removes potential shaping and S'-redistribution),
the standardisation ``s(R) = c(R) / n(c(R))`` (``s(R) = 0`` when ``c(R) = 0``) and the
metric ``m(x, y) = n(x - y)``.

Scale convention
----------------
Skalse & Abate (2024) use ``d = 0.5 * ||s(R1) - s(R2)||_2`` so that distances lie in
``[0, 1]`` (``d(R, -R) = 1``), the same range as EPIC's Pearson distance. The default
``scale=0.5`` matches that convention; ``scale=1.0`` gives the raw ``[0, 2]`` range.

Canonicalisations (``R`` is (S, A, S); ``r(s, a) = E_{s'} R(s, a, s')``)
------------------------------------------------------------------------
* ``"val"`` -- value-adjusted levelling with the uniform policy ``pi``:
  ``c(R)(s, a, s') = r(s, a) + gamma * E[V^pi(s')] - V^pi(s)`` (the advantage), closed form by
  one linear solve.
* ``"minimal"`` -- the minimum (weighted) L2 norm element of ``R + shaping + S'-redistribution``.
  Optimising over redistributions in closed form leaves, per (s, a), a weighted least-squares
  problem in the potential: ``min_Phi sum_{s,a} w_sa (r(s, a) + gamma (T Phi)(s, a) - Phi(s))^2``
  with ``w_sa = 1 / sum_s' T(s, a, s')^2 / W(s, a, s')``. Its residual ``e`` gives
  ``c(R)(s, a, s') = e(s, a) w_sa T(s, a, s') / W(s, a, s')``.
* ``"epic"`` -- Gleave et al. (2021) with uniform state and action coverage
  (not invariant to S'-redistribution).
* ``"dard"`` -- Wulfe et al. (2022): ``R + E[gamma R(s', A, S'') - R(s, A, S') -
  gamma R(S', A, S'')]`` with ``A`` uniform, ``S' ~ T(s, A)`` and ``S'' ~ T(s', A)``.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from estkit import check_option
from irl_sensitivity._mdp import TabularMDP
from irl_sensitivity._planning import optimal_values, policy_evaluation

__all__ = [
    "DEFAULT_SCALE",
    "Canonicalization",
    "canonicalize",
    "normalized_regret",
    "standardize",
    "starc_distance",
    "weighted_norm",
]

Canonicalization = Literal["val", "minimal", "epic", "dard"]


def check_scale(scale: Any) -> float:
    """The STARC ``scale``: finite and positive (0.5 gives [0, 1], 1.0 gives [0, 2])."""
    try:
        ok = bool(np.isfinite(scale) and scale > 0)
    except TypeError:
        ok = False
    if not ok:
        raise ValueError(
            f"`scale` must be > 0 (0.5 gives [0, 1], 1.0 gives [0, 2]); got {scale!r}."
        )
    return float(scale)


DEFAULT_SCALE = 0.5
_ZERO_REL = 1e-10


def _check_weights(mdp: TabularMDP, weights: Any) -> np.ndarray | None:
    if weights is None:
        return None
    w = np.asarray(weights, dtype=float)
    shape = (mdp.n_states, mdp.n_actions, mdp.n_states)
    if w.shape != shape:
        raise ValueError(f"`weights` must have shape {shape}; got {w.shape}.")
    if not np.all(np.isfinite(w)) or w.min() <= 0:
        raise ValueError("`weights` must be finite and strictly positive.")
    return w


def weighted_norm(x: np.ndarray, norm: float = 2, weights: np.ndarray | None = None) -> float:
    """``(sum_i w_i |x_i|^p)^(1/p)`` for ``p`` in {1, 2, inf} (unit weights by default)."""
    ax = np.abs(np.asarray(x, dtype=float))
    if norm == np.inf:
        return float(ax.max()) if ax.size else 0.0
    w = 1.0 if weights is None else weights
    if norm == 1:
        return float(np.sum(w * ax))
    if norm == 2:
        return float(np.sqrt(np.sum(w * ax * ax)))
    raise ValueError(f"`norm` must be 1, 2 or numpy.inf; got {norm!r}.")


def _val(mdp: TabularMDP, reward: Any, policy: Any = None) -> np.ndarray:
    s, a = mdp.n_states, mdp.n_actions
    pi = np.full((s, a), 1.0 / a) if policy is None else policy
    v, q = policy_evaluation(mdp, reward, pi)
    adv = q - v[:, None]
    return np.broadcast_to(adv[:, :, None], (s, a, s)).copy()


def _minimal(mdp: TabularMDP, reward: Any, weights: np.ndarray | None = None) -> np.ndarray:
    t = mdp.transition
    s, a = mdp.n_states, mdp.n_actions
    r = mdp.expected_reward(reward)
    w_big = np.ones_like(t) if weights is None else weights
    w_sa = 1.0 / (t * t / w_big).sum(axis=2)
    design = mdp.gamma * t.reshape(s * a, s) - np.repeat(np.eye(s), a, axis=0)
    sw = np.sqrt(w_sa.ravel())
    phi, *_ = np.linalg.lstsq(sw[:, None] * design, -sw * r.ravel(), rcond=None)
    e = (r.ravel() + design @ phi).reshape(s, a)
    return (e * w_sa)[:, :, None] * t / w_big


def _epic(mdp: TabularMDP, reward: Any) -> np.ndarray:
    r = mdp.broadcast_reward(reward)
    g = mdp.gamma
    m = r.mean(axis=(1, 2))  # E_{A, S'} R(x, A, S') with uniform coverage
    return r + g * m[None, None, :] - m[:, None, None] - g * m.mean()


def _dard(mdp: TabularMDP, reward: Any) -> np.ndarray:
    r = mdp.broadcast_reward(reward)
    t = mdp.transition
    g = mdp.gamma
    d_a = np.full(mdp.n_actions, 1.0 / mdp.n_actions)
    f = mdp.expected_reward(r) @ d_a  # E_{A, S'~T(x, A)} R(x, A, S')
    cross = np.einsum("sax,tay,xay,a->st", t, t, r, d_a)
    return r + g * f[None, None, :] - f[:, None, None] - g * cross[:, None, :]


def canonicalize(
    mdp: TabularMDP,
    reward: Any,
    method: Canonicalization = "val",
    *,
    weights: Any = None,
    policy: Any = None,
) -> np.ndarray:
    """Canonical representative ``c(R)`` as an (S, A, S) array.

    Parameters
    ----------
    mdp : TabularMDP
    reward : array-like of shape (S,), (S, A) or (S, A, S)
    method : {"val", "minimal", "epic", "dard"}
    weights : array-like of shape (S, A, S), optional
        Weights of the L2 norm minimised by ``"minimal"`` (uniform by default).
    policy : array-like of shape (S, A), optional
        Policy of ``"val"`` (uniform by default).

    Examples
    --------
    >>> import numpy as np
    >>> from irl_sensitivity import random_mdp, canonicalize, potential_shaping
    >>> mdp = random_mdp(3, 2, rng=0)
    >>> R = np.random.default_rng(1).normal(size=(3, 2, 3))
    >>> R2 = potential_shaping(mdp, R, [1.0, -2.0, 0.5])
    >>> bool(np.allclose(canonicalize(mdp, R), canonicalize(mdp, R2)))
    True
    """
    method = check_option(method, "canonicalization", Canonicalization)
    if method == "val":
        pol = None if policy is None else mdp.check_policy(policy)
        return _val(mdp, reward, pol)
    if method == "minimal":
        return _minimal(mdp, reward, _check_weights(mdp, weights))
    if method == "epic":
        return _epic(mdp, reward)
    return _dard(mdp, reward)


def standardize(
    mdp: TabularMDP,
    reward: Any,
    canonicalization: Canonicalization = "val",
    norm: float = 2,
    *,
    weights: Any = None,
    policy: Any = None,
) -> np.ndarray:
    """``s(R) = c(R) / n(c(R))``; zero when ``c(R)`` vanishes (relative to ``R``)."""
    w = _check_weights(mdp, weights)
    c = canonicalize(mdp, reward, canonicalization, weights=w, policy=policy)
    nc = weighted_norm(c, norm, w)
    nr = weighted_norm(mdp.broadcast_reward(reward), norm, w)
    if nc <= _ZERO_REL * nr or nc == 0.0:
        return np.zeros_like(c)
    return c / nc


def starc_distance(
    mdp: TabularMDP,
    r1: Any,
    r2: Any,
    canonicalization: Canonicalization = "val",
    norm: float = 2,
    scale: float = DEFAULT_SCALE,
    *,
    weights: Any = None,
    policy: Any = None,
) -> float:
    """STARC distance ``scale * n(s(R1) - s(R2))``.

    Parameters
    ----------
    mdp : TabularMDP
    r1, r2 : array-like of shape (S,), (S, A) or (S, A, S)
    canonicalization : {"val", "minimal", "epic", "dard"}
    norm : {1, 2, numpy.inf}
        Norm used both to normalise and as the metric.
    scale : float, default 0.5
        ``0.5`` is the paper's convention (values in [0, 1] for ``norm=2``); ``1.0`` gives
        ``||s1 - s2||_2`` in [0, 2].
    weights : array-like of shape (S, A, S), optional
        Weights of the norm (and of the ``"minimal"`` canonicalisation).
    policy : array-like of shape (S, A), optional
        Policy of the ``"val"`` canonicalisation (uniform by default).

    Examples
    --------
    >>> import numpy as np
    >>> from irl_sensitivity import random_mdp, starc_distance
    >>> mdp = random_mdp(3, 2, rng=0)
    >>> R = np.random.default_rng(1).normal(size=(3, 2, 3))
    >>> round(starc_distance(mdp, R, -R), 12), round(starc_distance(mdp, R, 3 * R), 12)
    (1.0, 0.0)
    """
    check_scale(scale)
    w = _check_weights(mdp, weights)
    s1 = standardize(mdp, r1, canonicalization, norm, weights=w, policy=policy)
    s2 = standardize(mdp, r2, canonicalization, norm, weights=w, policy=policy)
    return float(scale) * weighted_norm(s1 - s2, norm, w)


def normalized_regret(mdp: TabularMDP, r_true: Any, r_proxy: Any, *, tol: float = 1e-8) -> float:
    """Exact normalised regret of optimising ``r_proxy`` when ``r_true`` is the goal.

    ``(J(pi*) - J(pi_proxy)) / (J(pi*) - J(pi_worst))`` under ``r_true`` and the initial
    distribution, where ``pi_proxy`` is the maximally supportive optimal policy of
    ``r_proxy``; 0 when every policy has the same return.

    Examples
    --------
    >>> import numpy as np
    >>> from irl_sensitivity import random_mdp, normalized_regret
    >>> mdp = random_mdp(3, 2, rng=0)
    >>> R = np.random.default_rng(1).normal(size=(3, 2, 3))
    >>> normalized_regret(mdp, R, R), normalized_regret(mdp, R, -R)
    (0.0, 1.0)
    """
    from irl_sensitivity._policies import optimal_policy

    v_best, _ = optimal_values(mdp, r_true)
    v_worst, _ = optimal_values(mdp, -mdp.broadcast_reward(r_true))
    j_best, j_worst = mdp.initial @ v_best, -(mdp.initial @ v_worst)
    v_proxy, _ = policy_evaluation(mdp, r_true, optimal_policy(mdp, r_proxy, tol=tol))
    span = j_best - j_worst
    if span <= 1e-12 * (1.0 + abs(j_best)):
        return 0.0
    return float(np.clip((j_best - mdp.initial @ v_proxy) / span, 0.0, 1.0))
