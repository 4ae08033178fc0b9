"""Misspecification analysis: the notions of Skalse & Abate (2024), computed.

For a true behavioural model ``g`` and an assumed model ``f``, a true reward ``R`` yields
the observed policy ``pi = g(R)``; IRL with ``f`` returns some ``R1`` with ``f(R1) = pi``.

* :func:`representative_error` -- ``d(R, Rh)`` for the closed-form representative ``Rh``.
* :func:`worst_case_error` -- ``sup { d(R, R1) : f(R1) = g(R) }`` (the paper's notion).
* :func:`max_error` -- ``sup_R`` of the worst-case error, by multi-start optimisation: the
  smallest ``epsilon`` for which ``f`` is epsilon-robust to misspecification with ``g``.

Closed form of the worst case (L2 norms)
----------------------------------------
When ``f``'s inverse set is the affine space ``Rh + W`` (Boltzmann and MCE: ``W`` is
shaping plus S'-redistribution in ``f``'s environment) and ``c`` is linear, the canonical
forms of the set are ``c0 + U`` with ``c0 = c(Rh)`` and ``U = c(W)``. With ``a = s(R)``
(unit), ``a_U`` its projection on ``U``, ``a_perp = a - a_U``, ``c_perp`` the part of ``c0``
orthogonal to ``U``, ``k = <a_perp, c_perp>``, ``h = |c_perp|`` and ``m = |a_U|``, the
infimum of the cosine between ``a`` and points of ``c0 + U`` is ``-m`` when ``k > 0`` (a
supremum approached along ``-a_U``) and ``-sqrt(k^2 / h^2 + m^2)`` when ``k <= 0``. Then
``sup d = scale * sqrt(2 - 2 inf cos)`` because ``|x - y|^2 = 2 - 2 <x, y>`` for unit
vectors. For the optimal model the affine part is only a subset of the inverse set, so
this value is a lower bound and the rest is found by optimisation.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import minimize

from estkit import check_int, check_option, check_random_state
from estkit._random import RandomStateLike
from irl_sensitivity._canonical import (
    DEFAULT_SCALE,
    Canonicalization,
    _check_weights,
    canonicalize,
    check_scale,
    standardize,
    starc_distance,
    weighted_norm,
)
from irl_sensitivity._mdp import TabularMDP
from irl_sensitivity._models import BehaviouralModel, OptimalModel
from irl_sensitivity._transforms import s_redistribution_basis

__all__ = [
    "ImageError",
    "image_condition",
    "max_error",
    "representative_error",
    "worst_case_error",
    "worst_case_lower_bound",
]


class ImageError(ValueError):
    """The true model's policy is outside the image of the assumed model."""


def _check_models(true_model: Any, assumed_model: Any) -> None:
    for name, m in (("true_model", true_model), ("assumed_model", assumed_model)):
        if not isinstance(m, BehaviouralModel):
            raise TypeError(
                f"`{name}` must be a BoltzmannModel, MCEModel or OptimalModel; got "
                f"{type(m).__name__}."
            )


def _observed(
    mdp: TabularMDP, reward: Any, true_model: BehaviouralModel, assumed_model: BehaviouralModel
) -> np.ndarray:
    pi = true_model.policy(mdp, reward)
    if not assumed_model.in_image(mdp, pi):
        raise ImageError(
            f"The policy of the true model {true_model.describe()} is not in the image of the "
            f"assumed model {assumed_model.describe()} (Im(g) is not a subset of Im(f)), so no "
            "reward explains it and the error is undefined. E.g. optimal policies have zeros, "
            "which no Boltzmann or MCE policy has."
        )
    return pi


def image_condition(
    mdp: TabularMDP,
    true_model: BehaviouralModel,
    assumed_model: BehaviouralModel,
    reward: Any = None,
    *,
    n_rewards: int = 20,
    rng: RandomStateLike = None,
) -> bool:
    """Check ``g(R)`` lies in ``Im(f)`` for ``reward`` or for random Gaussian rewards.

    With random rewards this is a numerical check of ``Im(g) ⊆ Im(f)`` (a counterexample
    proves it false).

    Examples
    --------
    >>> from irl_sensitivity import random_mdp, BoltzmannModel, OptimalModel
    >>> from irl_sensitivity._misspec import image_condition
    >>> mdp = random_mdp(3, 2, rng=0)
    >>> image_condition(mdp, OptimalModel(), BoltzmannModel(), rng=0)
    False
    >>> image_condition(mdp, BoltzmannModel(beta=3.0), BoltzmannModel(), rng=0)
    True
    """
    _check_models(true_model, assumed_model)
    if reward is not None:
        rewards = [reward]
    else:
        gen = check_random_state(rng, "rng")
        rewards = [gen.normal(size=(mdp.n_states, mdp.n_actions)) for _ in range(n_rewards)]
    return all(assumed_model.in_image(mdp, true_model.policy(mdp, r)) for r in rewards)


def representative_error(
    mdp: TabularMDP,
    reward: Any,
    true_model: BehaviouralModel,
    assumed_model: BehaviouralModel,
    *,
    canonicalization: Canonicalization = "val",
    norm: float = 2,
    scale: float = DEFAULT_SCALE,
    weights: Any = None,
) -> float:
    """STARC distance between ``reward`` and the assumed model's closed-form inverse of the
    true model's policy. Distances are taken in ``mdp`` (the true environment).

    Examples
    --------
    >>> import numpy as np
    >>> from irl_sensitivity import random_mdp, BoltzmannModel, representative_error
    >>> mdp = random_mdp(4, 2, rng=0)
    >>> R = np.random.default_rng(1).normal(size=(4, 2, 4))
    >>> err = representative_error(mdp, R, BoltzmannModel(beta=3.0), BoltzmannModel(beta=1.0))
    >>> bool(err < 1e-7)
    True
    """
    _check_models(true_model, assumed_model)
    pi = _observed(mdp, reward, true_model, assumed_model)
    rh = assumed_model.representative(mdp, pi)
    return starc_distance(mdp, reward, rh, canonicalization, norm, scale, weights=weights)


# ---------------------------------------------------------------------------- closed form
def _canonical_subspace(
    mdp: TabularMDP, basis: np.ndarray, canonicalization: str, w: np.ndarray | None
) -> np.ndarray:
    """Orthonormal basis (in sqrt(w)-scaled coordinates) of ``c(span(basis))``."""
    shape = (mdp.n_states, mdp.n_actions, mdp.n_states)
    sw = np.ones(int(np.prod(shape))) if w is None else np.sqrt(w).ravel()
    cols = [
        sw * canonicalize(mdp, b.reshape(shape), canonicalization, weights=w).ravel()
        for b in basis.T
    ]
    if not cols:
        return np.zeros((sw.size, 0))
    mat = np.stack(cols, axis=1)
    u, sv, _ = np.linalg.svd(mat, full_matrices=False)
    ref = max(1.0, float(sv[0])) if sv.size else 1.0
    return u[:, sv > 1e-9 * ref]


def _sup_distance(
    a: np.ndarray, c0: np.ndarray, q: np.ndarray, scale: float, c0_is_zero: bool
) -> float:
    """``scale * sup ||a - x/|x| ||`` over ``x in c0 + span(q)`` (orthonormal ``q``)."""
    dim = q.shape[1]
    a_u = q @ (q.T @ a)
    c_perp = c0 - q @ (q.T @ c0)
    a_perp = a - a_u
    m = float(np.linalg.norm(a_u))
    h = 0.0 if c0_is_zero else float(np.linalg.norm(c_perp))
    if float(np.linalg.norm(a)) == 0.0:  # trivial true reward: d = scale * |s(R1)|
        return scale if (h > 0 or dim > 0) else 0.0
    if h <= 1e-12 * max(1.0, float(np.linalg.norm(c0))):
        # only directions of U are reachable (and s = 0 at x = 0, distance = scale)
        if dim == 0:
            return scale
        return scale * float(np.sqrt(max(2.0 + 2.0 * m, 1.0)))
    if dim == 0:  # a single canonical direction: compute the distance directly
        return scale * float(np.linalg.norm(a - c_perp / h))
    k = float(a_perp @ c_perp)
    if k > 0:
        inf_cos = -m
    else:
        inf_cos = -float(np.sqrt(min(1.0, (k / h) ** 2 + m * m)))
    return scale * float(np.sqrt(min(4.0, max(0.0, 2.0 - 2.0 * inf_cos))))


class _WorstCase:
    """Cache of everything in the worst case that does not depend on the true reward."""

    def __init__(self, mdp, true_model, assumed_model, canonicalization, scale, weights):
        check_scale(scale)
        self.mdp, self.g, self.f = mdp, true_model, assumed_model
        self.canon, self.scale = canonicalization, float(scale)
        self.w = _check_weights(mdp, weights)
        n = mdp.n_states * mdp.n_actions * mdp.n_states
        self.sw = np.ones(n) if self.w is None else np.sqrt(self.w).ravel()
        env = assumed_model.environment(mdp)
        from irl_sensitivity._inverse import ambiguity_basis

        self.q = _canonical_subspace(mdp, ambiguity_basis(env), canonicalization, self.w)

    def lower(self, reward: Any) -> float:
        mdp = self.mdp
        pi = _observed(mdp, reward, self.g, self.f)
        rh = self.f.representative(mdp, pi)
        a = self.sw * standardize(mdp, reward, self.canon, 2, weights=self.w).ravel()
        c0 = self.sw * canonicalize(mdp, rh, self.canon, weights=self.w).ravel()
        zero = weighted_norm(c0, 2) <= 1e-10 * max(weighted_norm(rh, 2), 1e-300)
        return _sup_distance(a, c0, self.q, self.scale, zero)


def worst_case_lower_bound(
    mdp: TabularMDP,
    reward: Any,
    true_model: BehaviouralModel,
    assumed_model: BehaviouralModel,
    *,
    canonicalization: Canonicalization = "val",
    scale: float = DEFAULT_SCALE,
    weights: Any = None,
) -> float:
    """Closed-form ``sup d(R, R1)`` over ``R1 = Rh + shaping + S'-redistribution`` in the
    assumed model's environment (L2 norm). Exact for Boltzmann and MCE assumed models, a
    lower bound for the optimal model.

    Examples
    --------
    >>> import numpy as np
    >>> from irl_sensitivity import random_mdp, BoltzmannModel
    >>> from irl_sensitivity._misspec import worst_case_lower_bound
    >>> mdp = random_mdp(4, 2, rng=0)
    >>> R = np.random.default_rng(1).normal(size=(4, 2))
    >>> bool(worst_case_lower_bound(mdp, R, BoltzmannModel(), BoltzmannModel(gamma=0.89)) > 0.7)
    True
    """
    _check_models(true_model, assumed_model)
    return _WorstCase(mdp, true_model, assumed_model, canonicalization, scale, weights).lower(
        reward
    )


def _optimal_set_search(
    mdp: TabularMDP,
    reward: Any,
    true_model: BehaviouralModel,
    assumed_model: OptimalModel,
    canonicalization: str,
    norm: float,
    scale: float,
    weights: Any,
    n_starts: int,
    rng: np.random.Generator,
) -> float:
    """Maximise ``d(R, R1)`` over rewards with the optimal actions of ``g(R)``:
    ``R1 = q(s, a) - gamma_f v(s') + D`` with ``q = v`` on the supports and
    ``v - exp(z)`` off them, ``D`` an S'-redistribution (all in ``f``'s environment)."""
    pi = _observed(mdp, reward, true_model, assumed_model)
    env = assumed_model.environment(mdp)
    s, a = mdp.n_states, mdp.n_actions
    opt = pi > assumed_model.tol
    red = s_redistribution_basis(env)
    n_red = red.shape[1]

    def build(theta: np.ndarray) -> np.ndarray:
        v, z, y = theta[:s], theta[s : s + s * a].reshape(s, a), theta[s + s * a :]
        q = np.where(opt, v[:, None], v[:, None] - np.exp(np.clip(z, -30, 30)))
        r1 = q[:, :, None] - env.gamma * v[None, None, :]
        return r1 + (red @ y).reshape(s, a, s)

    def neg(theta: np.ndarray) -> float:
        return -starc_distance(
            mdp, reward, build(theta), canonicalization, norm, scale, weights=weights
        )

    best = 0.0
    for i in range(n_starts):
        sd = 10.0 ** (i % 3)
        theta0 = np.concatenate(
            [rng.normal(scale=sd, size=s), rng.normal(size=s * a), rng.normal(scale=sd, size=n_red)]
        )
        res = minimize(neg, theta0, method="L-BFGS-B", options={"maxiter": 200})
        best = max(best, -float(res.fun))
    return best


def worst_case_error(
    mdp: TabularMDP,
    reward: Any,
    true_model: BehaviouralModel,
    assumed_model: BehaviouralModel,
    *,
    canonicalization: Canonicalization = "val",
    norm: float = 2,
    scale: float = DEFAULT_SCALE,
    weights: Any = None,
    n_starts: int = 6,
    rng: RandomStateLike = None,
) -> float:
    """The paper's error: ``sup { d(R, R1) : f(R1) = g(R) }``.

    Closed form (see the module notes) for Boltzmann and MCE assumed models with the L2
    norm; otherwise the closed-form lower bound combined with a multi-start search over the
    inverse set (for the optimal model the set is parametrised by the optimal actions; for
    other norms by its affine basis).

    Examples
    --------
    >>> import numpy as np
    >>> from irl_sensitivity import random_mdp, MCEModel, worst_case_error
    >>> mdp = random_mdp(4, 2, rng=0)
    >>> R = np.random.default_rng(1).normal(size=(4, 2, 4))
    >>> bool(worst_case_error(mdp, R, MCEModel(alpha=2.0), MCEModel(alpha=0.5)) < 1e-7)
    True
    """
    _check_models(true_model, assumed_model)
    if norm == 2:
        lb = _WorstCase(mdp, true_model, assumed_model, canonicalization, scale, weights).lower(
            reward
        )
        if not isinstance(assumed_model, OptimalModel):
            return lb
    else:
        lb = representative_error(
            mdp,
            reward,
            true_model,
            assumed_model,
            canonicalization=canonicalization,
            norm=norm,
            scale=scale,
            weights=weights,
        )
    gen = check_random_state(rng, "rng")
    if isinstance(assumed_model, OptimalModel):
        found = _optimal_set_search(
            mdp,
            reward,
            true_model,
            assumed_model,
            canonicalization,
            norm,
            scale,
            weights,
            n_starts,
            gen,
        )
        return max(lb, found)
    pi = _observed(mdp, reward, true_model, assumed_model)
    inv = assumed_model.inverse(mdp, pi)
    shape = inv.representative.shape

    def neg(y: np.ndarray) -> float:
        r1 = inv.representative + (inv.basis @ y).reshape(shape)
        return -starc_distance(mdp, reward, r1, canonicalization, norm, scale, weights=weights)

    best = lb
    for i in range(n_starts):
        y0 = gen.normal(scale=10.0 ** (i % 3), size=inv.basis.shape[1])
        res = minimize(neg, y0, method="Powell", options={"maxiter": 2000})
        best = max(best, -float(res.fun))
    return best


def max_error(
    mdp: TabularMDP,
    true_model: BehaviouralModel,
    assumed_model: BehaviouralModel,
    random_state: RandomStateLike = None,
    *,
    kind: str = "worst_case",
    canonicalization: Canonicalization = "val",
    scale: float = DEFAULT_SCALE,
    n_starts: int = 4,
    maxiter: int = 30,
    return_reward: bool = False,
) -> float | tuple[float, np.ndarray]:
    """``sup_R`` of the worst-case (or representative) error, by multi-start optimisation.

    Starts are Gaussian, sparse, state-only and adversarial rewards (the adversarial start
    is a shaping term of the assumed discount plus noise, which the two models read
    differently); each is refined by L-BFGS-B over ``(S, A)`` rewards, which loses nothing
    for ``"val"`` and ``"minimal"`` (both the models and these canonicalisations depend on
    ``R`` only through ``E_{s'} R(s, a, s')``). The value is a lower estimate of the
    supremum.

    Parameters
    ----------
    kind : {"worst_case", "representative"}
    n_starts : int
        Starts of each of the four kinds.
    return_reward : bool
        Also return the maximising reward.

    Examples
    --------
    >>> from irl_sensitivity import random_mdp, BoltzmannModel, max_error
    >>> mdp = random_mdp(3, 2, rng=0)
    >>> e = max_error(mdp, BoltzmannModel(beta=2.0), BoltzmannModel(beta=1.0), 0, n_starts=1)
    >>> bool(e < 1e-6)
    True
    """
    _check_models(true_model, assumed_model)
    if kind not in ("worst_case", "representative"):
        raise ValueError(f"`kind` must be 'worst_case' or 'representative'; got {kind!r}.")
    check_option(canonicalization, "canonicalization", Canonicalization)
    check_scale(scale)
    check_int(n_starts, "n_starts", minimum=1)
    check_int(maxiter, "maxiter", minimum=1)
    gen = check_random_state(random_state, "random_state")
    s, a = mdp.n_states, mdp.n_actions
    if kind == "worst_case" and not isinstance(assumed_model, OptimalModel):
        cache = _WorstCase(mdp, true_model, assumed_model, canonicalization, scale, None)

        def obj(r: np.ndarray) -> float:
            return cache.lower(r)
    elif kind == "worst_case":

        def obj(r: np.ndarray) -> float:
            return worst_case_error(
                mdp,
                r,
                true_model,
                assumed_model,
                canonicalization=canonicalization,
                scale=scale,
                n_starts=2,
                rng=gen,
            )
    else:

        def obj(r: np.ndarray) -> float:
            return representative_error(
                mdp, r, true_model, assumed_model, canonicalization=canonicalization, scale=scale
            )

    n_in_image = 0

    def safe(x: np.ndarray) -> float:
        nonlocal n_in_image
        try:
            val = obj(x.reshape(s, a))
        except ImageError:  # outside the assumed model's image (e.g. exact optimal ties)
            return 0.0
        n_in_image += 1
        return val

    gamma_f = assumed_model.environment(mdp).gamma
    starts = []
    for _ in range(n_starts):
        starts.append(gen.normal(size=(s, a)))
        sparse = np.zeros((s, a))
        idx = gen.choice(s * a, size=max(1, (s * a) // 4), replace=False)
        sparse.flat[idx] = gen.normal(scale=3.0, size=idx.size)
        starts.append(sparse)
        starts.append(np.repeat(gen.normal(size=(s, 1)), a, axis=1))
        phi = gen.normal(scale=5.0, size=s)
        starts.append(gamma_f * mdp.expect_next(phi) - phi[:, None] + 0.1 * gen.normal(size=(s, a)))
    best, best_r = -np.inf, starts[0]
    for x0 in starts:
        res = minimize(
            lambda x: -safe(x), x0.ravel(), method="L-BFGS-B", options={"maxiter": maxiter}
        )
        for val, x in ((-float(res.fun), res.x), (safe(x0.ravel()), x0.ravel())):
            if val > best:
                best, best_r = val, x.reshape(s, a)
    if n_in_image == 0:
        raise ImageError(
            "max_error: the true model's policies are outside the assumed model's image at "
            "every start, so the assumed model cannot represent the data (see "
            "image_condition)."
        )
    return (float(best), best_r) if return_reward else float(best)
