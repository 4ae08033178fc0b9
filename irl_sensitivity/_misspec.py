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

Which environment the distance is measured in
---------------------------------------------
Skalse & Abate (2024) measure the error with a STARC metric ``d^STARC_{tau, gamma}`` of
the environment the demonstrator acts in: the true model ``g`` is ``g_{tau, gamma}`` and
the assumed ``f`` may carry other parameters. Here ``mdp`` supplies every parameter a
model leaves as ``None``, so the true environment is ``true_model.environment(mdp)``; the
default ``distance_in="true"`` measures in it (the paper's convention). When the true
model does not override ``gamma`` / ``transition`` (the usual set-up: the assumed model is
the misspecified one) this is ``mdp`` itself. ``distance_in="mdp"`` measures in ``mdp``
whatever the true model says (the convention of earlier versions of this package).

Computation
-----------
For ``"val"`` and ``"minimal"`` with the L2 norm everything is computed in ``(S, A)``
space with the metric's linear map cached once per call (see ``_canonical._Metric``); the
search over the optimal model's inverse set uses exact gradients. Sparse MDPs work
throughout with these canonicalisations.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from scipy.optimize import minimize

from estkit import check_bool, check_int, check_option, check_random_state
from estkit._random import RandomStateLike
from irl_sensitivity._canonical import (
    DEFAULT_SCALE,
    Canonicalization,
    _canonical_dense,
    _Metric,
    check_norm,
    check_scale,
)
from irl_sensitivity._mdp import TabularMDP, check_mdp
from irl_sensitivity._models import BehaviouralModel, OptimalModel
from irl_sensitivity._transforms import s_redistribution_basis

__all__ = [
    "DistanceIn",
    "ImageError",
    "image_condition",
    "max_error",
    "representative_error",
    "worst_case_error",
    "worst_case_lower_bound",
]

DistanceIn = Literal["true", "mdp"]

_SMALL = 5000  # S * A up to which the searches run BLAS single-threaded


def _blas_limit(mdp: TabularMDP) -> Any:
    """Single-threaded BLAS for the small dense algebra of the searches: thread wake-ups of
    a multi-threaded BLAS cost far more than the (S*A)-sized products themselves (15x on a
    loaded 2-core machine)."""
    from contextlib import nullcontext

    if mdp.n_states * mdp.n_actions > _SMALL:
        return nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


ErrorKind = Literal["worst_case", "representative"]


class ImageError(ValueError):
    """The true model's policy is outside the image of the assumed model.

    A subclass of ``ValueError``: no reward explains the observed policy under the assumed
    model, so the misspecification error is undefined.

    Parameters
    ----------
    *args : object
        The message (as for any exception).

    Examples
    --------
    >>> import numpy as np
    >>> from irl_sensitivity import random_mdp, BoltzmannModel, OptimalModel
    >>> from irl_sensitivity import representative_error
    >>> mdp = random_mdp(3, 2, rng=0)
    >>> R = np.random.default_rng(1).normal(size=(3, 2))
    >>> representative_error(mdp, R, OptimalModel(), BoltzmannModel())
    Traceback (most recent call last):
    ...
    irl_sensitivity._misspec.ImageError: The policy of the true model ...
    """


def _check_models(true_model: Any, assumed_model: Any) -> None:
    for name, m in (("true_model", true_model), ("assumed_model", assumed_model)):
        if not isinstance(m, BehaviouralModel):
            raise TypeError(
                f"`{name}` must be a BoltzmannModel, MCEModel or OptimalModel; got "
                f"{type(m).__name__}."
            )


def _metric_env(mdp: TabularMDP, true_model: BehaviouralModel, distance_in: Any) -> TabularMDP:
    where = check_option(distance_in, "distance_in", DistanceIn)
    return true_model.environment(mdp) if where == "true" else mdp


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

    Parameters
    ----------
    mdp : TabularMDP
        The environment; it supplies every parameter a model leaves as None.
    true_model : BehaviouralModel
        The model ``g`` that generates the observed policy.
    assumed_model : BehaviouralModel
        The model ``f`` assumed by IRL.
    reward : array-like of shape (S,), (S, A) or (S, A, S), optional
        A single reward to check; None draws ``n_rewards`` standard normal ``(S, A)``
        rewards.
    n_rewards : int, default 20
        Number of random rewards (used only without ``reward``).
    rng : None, int, SeedSequence or Generator
        Seed or generator of the random rewards.

    Returns
    -------
    bool
        True when the assumed model's image contains the true model's policy for every
        reward checked.

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
    check_mdp(mdp)
    _check_models(true_model, assumed_model)
    if reward is not None:
        rewards = [mdp.check_reward(reward)]
    else:
        n_rewards = check_int(n_rewards, "n_rewards", minimum=1)
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
    distance_in: DistanceIn = "true",
) -> float:
    """STARC distance between ``reward`` and the assumed model's closed-form inverse of the
    true model's policy.

    ``distance_in="true"`` (default, the paper's convention) measures in the true model's
    environment ``true_model.environment(mdp)``; ``"mdp"`` in ``mdp`` (see the module notes).

    Parameters
    ----------
    mdp : TabularMDP
        The environment; it supplies every parameter a model leaves as None.
    reward : array-like of shape (S,), (S, A) or (S, A, S)
        The true reward ``R``.
    true_model : BehaviouralModel
        The model ``g`` that generates the observed policy.
    assumed_model : BehaviouralModel
        The model ``f`` assumed by IRL.
    canonicalization : {"val", "minimal", "epic", "dard"}, default "val"
        Canonicalisation of the STARC metric.
    norm : {1, 2, numpy.inf}, default 2
        Norm of the STARC metric.
    scale : float, default 0.5
        Scale of the STARC distance (0.5: values in [0, 1]; see :func:`starc_distance`).
    weights : array-like of shape (S, A, S), optional
        Weights of the norm (and of the ``"minimal"`` canonicalisation).
    distance_in : {"true", "mdp"}, default "true"
        Environment of the STARC metric (see :func:`worst_case_error`).

    Returns
    -------
    float
        ``d(R, Rh)`` with ``Rh`` the assumed model's closed-form representative inverse of
        ``true_model.policy(mdp, reward)``.

    Raises
    ------
    ImageError
        If the true model's policy is outside the image of the assumed model.

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
    check_mdp(mdp)
    _check_models(true_model, assumed_model)
    sc = check_scale(scale)
    env_d = _metric_env(mdp, true_model, distance_in)
    metric = _Metric(env_d, canonicalization, norm, weights)
    reward = mdp.check_reward(reward)
    pi = _observed(mdp, reward, true_model, assumed_model)
    rh = assumed_model.representative(mdp, pi)
    return metric.distance(reward, _in_env(env_d, rh), sc, ("reward", "representative"))


def _in_env(env: TabularMDP, reward: np.ndarray) -> np.ndarray:
    """A reward of another environment, as this one accepts it ((S, A) on sparse MDPs:
    the expectation under this environment's kernel)."""
    if env.is_sparse and reward.ndim == 3:  # pragma: no cover - sparse models give (S, A)
        return np.einsum("sat,sat->sa", env.dense_transition("the reward"), reward)
    return reward


# ---------------------------------------------------------------------------- closed form
def _orth(mat: np.ndarray) -> np.ndarray:
    if mat.shape[1] == 0:
        return np.zeros((mat.shape[0], 0))
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


def _kernel_rows_differ(env_d: TabularMDP, env_f: TabularMDP) -> np.ndarray:
    """Flat (s, a) indices where the two kernels' rows differ."""
    if env_d is env_f or env_d._t is env_f._t:
        return np.zeros(0, dtype=np.intp)
    if env_d.is_sparse or env_f.is_sparse:
        diff = np.stack(
            [
                np.asarray(abs(md - mf).sum(axis=1)).ravel()
                for md, mf in zip(env_d.sparse_transition, env_f.sparse_transition, strict=True)
            ],
            axis=1,
        )
    else:
        diff = np.abs(env_d.transition - env_f.transition).sum(axis=2)
    return np.flatnonzero(diff.ravel() > 1e-14)


class _WorstCase:
    """Everything of the worst case that does not depend on the true reward: the metric
    (canonicalisation, norm, weights, in the metric's environment), the canonical image of
    the assumed model's ambiguity, the kernels of the optimal-set parametrisation."""

    def __init__(
        self,
        mdp: TabularMDP,
        true_model: BehaviouralModel,
        assumed_model: BehaviouralModel,
        canonicalization: Any,
        scale: Any,
        weights: Any,
        distance_in: Any = "true",
        norm: Any = 2,
    ) -> None:
        self.scale = check_scale(scale)
        self.mdp, self.g, self.f = mdp, true_model, assumed_model
        self.env_d = _metric_env(mdp, true_model, distance_in)
        self.env_f = assumed_model.environment(mdp)
        self.metric = _Metric(self.env_d, canonicalization, norm, weights)
        self.l2 = self.metric.norm_p == 2
        self._q: np.ndarray | None = None
        self._theta: np.ndarray | None = None

    # ambiguity of the assumed model, in the metric's coordinates ------------------------
    def _r_space(self) -> tuple[np.ndarray, np.ndarray]:
        """Expected-reward image (under the metric's kernel) of shaping (assumed discount)
        and S'-redistribution (assumed kernel): (T_flat, free rows)."""
        env_d = self.env_d
        s, a = env_d.n_states, env_d.n_actions
        t_flat = env_d.expect_next(np.eye(s)).reshape(s * a, s)
        return t_flat, _kernel_rows_differ(env_d, self.env_f)

    def subspace(self) -> np.ndarray:
        if self._q is not None:
            return self._q
        metric = self.metric
        if metric.compressed:
            s, a = self.env_d.n_states, self.env_d.n_actions
            t_flat, free = self._r_space()
            self._t_flat, self._free = t_flat, free
            shaping = self.env_f.gamma * t_flat - np.repeat(np.eye(s), a, axis=0)
            red = np.zeros((s * a, free.size))
            red[free, np.arange(free.size)] = 1.0
            cols = np.hstack([shaping, red])
            self._q = _orth(metric.coords_of_expected(cols))
        else:
            from irl_sensitivity._inverse import ambiguity_basis

            basis = ambiguity_basis(self.env_f)
            shape = (self.env_d.n_states, self.env_d.n_actions, self.env_d.n_states)
            sw = metric._sqrt_w
            cols = []
            for b in basis.T:
                c = _canonical_dense(
                    self.env_d, b.reshape(shape), metric.canon, metric.w, metric.policy
                ).ravel()
                cols.append(c if sw is None else sw * c)
            n_coords = shape[0] * shape[1] * shape[2]
            self._q = _orth(np.stack(cols, axis=1)) if cols else np.zeros((n_coords, 0))
        return self._q

    def lower(self, reward: Any, pi: np.ndarray | None = None) -> float:
        """Closed-form sup over ``Rh + shaping + S'-redistribution`` (L2)."""
        if pi is None:
            pi = _observed(self.mdp, reward, self.g, self.f)
        rh = _in_env(self.env_d, self.f.representative(self.mdp, pi))
        a = self.metric.unit(reward)
        c0, nr = self.metric.coords(rh, "representative")
        zero = self.metric.norm(c0) <= 1e-10 * max(nr, 1e-300)
        return _sup_distance(a, c0, self.subspace(), self.scale, zero)

    # the optimal model's inverse set: exact-gradient search ----------------------------
    def optimal_search(
        self, reward: Any, pi: np.ndarray, n_starts: int, gen: np.random.Generator
    ) -> tuple[float, np.ndarray | None]:
        """Maximise ``d(R, R1)`` over rewards with the optimal actions of ``pi`` in the
        assumed environment: ``R1 = q(s, a) - gamma_f v(s') + D`` with ``q = v`` on the
        supports and ``v - exp(z)`` off them and ``D`` an S'-redistribution of the assumed
        kernel. Returns the best distance and its canonical coordinates (unit)."""
        self.subspace()
        metric, scale = self.metric, self.scale
        env_d = self.env_d
        s, a = env_d.n_states, env_d.n_actions
        nonopt = ~(pi > self.f.tol).ravel()
        a_unit = metric.unit(reward)
        if not np.any(a_unit):
            return 0.0, None
        mat = metric.matrix()
        t_flat, free = self._t_flat, self._free
        gf = self.env_f.gamma
        n_free = free.size

        def build(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            v, z, y = theta[:s], theta[s : s + s * a], theta[s + s * a :]
            ez = np.exp(np.clip(z, -30.0, 30.0))
            r1 = np.repeat(v, a) - np.where(nonopt, ez, 0.0) - gf * (t_flat @ v)
            r1[free] += y
            return r1, ez, z

        def fun(theta: np.ndarray) -> tuple[float, np.ndarray]:
            r1, ez, z = build(theta)
            x = mat @ r1
            n = float(np.sqrt(x @ x))
            if n == 0.0:
                return -scale, np.zeros_like(theta)
            cos = float(a_unit @ x) / n
            f2 = max(2.0 - 2.0 * cos, 0.0)
            d = scale * np.sqrt(f2)
            if f2 <= 1e-300:
                return -d, np.zeros_like(theta)
            gx = -(scale / np.sqrt(f2)) * (a_unit / n - cos * x / (n * n))
            gr = mat.T @ gx
            gv = gr.reshape(s, a).sum(axis=1) - gf * (t_flat.T @ gr)
            gz = np.where(nonopt & (np.abs(z) < 30.0), -ez * gr, 0.0)
            return -d, -np.concatenate([gv, gz, gr[free]])

        best, best_x = 0.0, None
        starts = []
        if self._theta is not None:
            starts.append(self._theta)
        for i in range(n_starts):
            sd = 10.0 ** (i % 3)
            starts.append(
                np.concatenate(
                    [
                        gen.normal(scale=sd, size=s),
                        gen.normal(size=s * a),
                        gen.normal(scale=sd, size=n_free),
                    ]
                )
            )
        for theta0 in starts:
            res = minimize(fun, theta0, jac=True, method="L-BFGS-B", options={"maxiter": 200})
            val = -float(res.fun)
            if val > best:
                best = val
                x = mat @ build(res.x)[0]
                best_x, self._theta = x / np.linalg.norm(x), res.x
        return best, best_x


def worst_case_lower_bound(
    mdp: TabularMDP,
    reward: Any,
    true_model: BehaviouralModel,
    assumed_model: BehaviouralModel,
    *,
    canonicalization: Canonicalization = "val",
    scale: float = DEFAULT_SCALE,
    weights: Any = None,
    distance_in: DistanceIn = "true",
) -> float:
    """Closed-form ``sup d(R, R1)`` over ``R1 = Rh + shaping + S'-redistribution`` in the
    assumed model's environment (L2 norm). Exact for Boltzmann and MCE assumed models, a
    lower bound for the optimal model. ``distance_in`` as in :func:`worst_case_error`.

    Parameters
    ----------
    mdp : TabularMDP
        The environment; it supplies every parameter a model leaves as None.
    reward : array-like of shape (S,), (S, A) or (S, A, S)
        The true reward ``R``.
    true_model : BehaviouralModel
        The model ``g`` that generates the observed policy.
    assumed_model : BehaviouralModel
        The model ``f`` assumed by IRL.
    canonicalization : {"val", "minimal", "epic", "dard"}, default "val"
        Canonicalisation of the STARC metric.
    scale : float, default 0.5
        Scale of the STARC distance (0.5: values in [0, 1]; see :func:`starc_distance`).
    weights : array-like of shape (S, A, S), optional
        Weights of the norm (and of the ``"minimal"`` canonicalisation).
    distance_in : {"true", "mdp"}, default "true"
        Environment of the STARC metric (see :func:`worst_case_error`).

    Returns
    -------
    float
        The closed-form supremum, in ``[0, 2 * scale]``.

    Raises
    ------
    ImageError
        If the true model's policy is outside the image of the assumed model.

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
    check_mdp(mdp)
    _check_models(true_model, assumed_model)
    wc = _WorstCase(mdp, true_model, assumed_model, canonicalization, scale, weights, distance_in)
    return wc.lower(mdp.check_reward(reward))


def _dense_search(
    wc: _WorstCase,
    reward: np.ndarray,
    pi: np.ndarray,
    n_starts: int,
    gen: np.random.Generator,
) -> float:
    """Derivative-free multi-start search for norms / canonicalisations without the
    compressed closed form (the true reward is standardised once)."""
    mdp, metric, scale = wc.mdp, wc.metric, wc.scale
    env_d, env_f = wc.env_d, wc.env_f
    a_unit = metric.unit(reward)
    s, a = mdp.n_states, mdp.n_actions
    if isinstance(wc.f, OptimalModel):
        opt = pi > wc.f.tol
        red = s_redistribution_basis(env_f)

        def build(theta: np.ndarray) -> np.ndarray:
            v, z, y = theta[:s], theta[s : s + s * a].reshape(s, a), theta[s + s * a :]
            q = np.where(opt, v[:, None], v[:, None] - np.exp(np.clip(z, -30, 30)))
            r1 = q[:, :, None] - env_f.gamma * v[None, None, :]
            return r1 + (red @ y).reshape(s, a, s)

        dim = s + s * a + red.shape[1]
        method, maxiter = "L-BFGS-B", 200
    else:
        inv = wc.f.inverse(mdp, pi)
        shape = inv.representative.shape

        def build(theta: np.ndarray) -> np.ndarray:
            return inv.representative + (inv.basis @ theta).reshape(shape)

        dim = inv.basis.shape[1]
        method, maxiter = "Powell", 2000

    def neg(theta: np.ndarray) -> float:
        r1 = _in_env(env_d, build(theta))
        return -scale * metric.norm(a_unit - metric.unit(r1))

    best = 0.0
    for i in range(n_starts):
        theta0 = gen.normal(scale=10.0 ** (i % 3), size=dim)
        res = minimize(neg, theta0, method=method, options={"maxiter": maxiter})
        best = max(best, -float(res.fun))
    return min(best, 2.0 * scale)


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
    distance_in: DistanceIn = "true",
) -> float:
    """The paper's error: ``sup { d(R, R1) : f(R1) = g(R) }``.

    Closed form (see the module notes) for Boltzmann and MCE assumed models with the L2
    norm; otherwise the closed-form lower bound combined with a multi-start search over the
    inverse set (for the optimal model the set is parametrised by the optimal actions, with
    exact gradients for ``"val"`` / ``"minimal"`` and the L2 norm; for other norms by its
    affine basis).

    Parameters
    ----------
    mdp : TabularMDP
        The environment; it supplies every parameter a model leaves as None.
    reward : array-like of shape (S,), (S, A) or (S, A, S)
        The true reward ``R``.
    true_model : BehaviouralModel
        The model ``g`` that generates the observed policy.
    assumed_model : BehaviouralModel
        The model ``f`` assumed by IRL.
    canonicalization : {"val", "minimal", "epic", "dard"}, default "val"
        Canonicalisation of the STARC metric.
    norm : {1, 2, numpy.inf}, default 2
        Norm of the STARC metric.
    scale : float, default 0.5
        Scale of the STARC distance (0.5: values in [0, 1]; see :func:`starc_distance`).
    weights : array-like of shape (S, A, S), optional
        Weights of the norm (and of the ``"minimal"`` canonicalisation).
    n_starts : int, default 6
        Random starts of the search (not used by the closed form).
    rng : None, int, SeedSequence or Generator
        Seed or generator of the search's starts.
    distance_in : {"true", "mdp"}, default "true"
        Environment of the STARC metric: the true model's (``true_model.environment(mdp)``,
        the paper's ``d^STARC_{tau, gamma}`` of the demonstrator's environment) or ``mdp``
        itself. They differ only when the true model overrides ``gamma`` or ``transition``.

    Returns
    -------
    float
        The worst-case error, in ``[0, 2 * scale]`` (a lower estimate where a search is used).

    Raises
    ------
    ImageError
        If the true model's policy is outside the image of the assumed model.

    Examples
    --------
    >>> import numpy as np
    >>> from irl_sensitivity import random_mdp, MCEModel, worst_case_error
    >>> mdp = random_mdp(4, 2, rng=0)
    >>> R = np.random.default_rng(1).normal(size=(4, 2, 4))
    >>> bool(worst_case_error(mdp, R, MCEModel(alpha=2.0), MCEModel(alpha=0.5)) < 1e-7)
    True
    """
    check_mdp(mdp)
    _check_models(true_model, assumed_model)
    check_norm(norm)
    n_starts = check_int(n_starts, "n_starts", minimum=1)
    reward = mdp.check_reward(reward)
    wc = _WorstCase(
        mdp, true_model, assumed_model, canonicalization, scale, weights, distance_in, norm
    )
    gen = check_random_state(rng, "rng")
    with _blas_limit(mdp):
        return _worst_case(wc, reward, n_starts, gen)[0]


def _worst_case(
    wc: _WorstCase, reward: np.ndarray, n_starts: int, gen: np.random.Generator
) -> tuple[float, np.ndarray | None]:
    pi = _observed(wc.mdp, reward, wc.g, wc.f)
    if wc.l2:
        lb = wc.lower(reward, pi)
        if not isinstance(wc.f, OptimalModel):
            return lb, None
        if wc.metric.compressed:
            found, x = wc.optimal_search(reward, pi, n_starts, gen)
            return (found, x) if found >= lb else (lb, None)
    else:
        rh = _in_env(wc.env_d, wc.f.representative(wc.mdp, pi))
        lb = wc.metric.distance(reward, rh, wc.scale)
    return max(lb, _dense_search(wc, reward, pi, n_starts, gen)), None


def max_error(
    mdp: TabularMDP,
    true_model: BehaviouralModel,
    assumed_model: BehaviouralModel,
    random_state: RandomStateLike = None,
    *,
    kind: ErrorKind = "worst_case",
    canonicalization: Canonicalization = "val",
    scale: float = DEFAULT_SCALE,
    n_starts: int = 4,
    maxiter: int = 30,
    return_reward: bool = False,
    distance_in: DistanceIn = "true",
) -> float | tuple[float, np.ndarray]:
    """``sup_R`` of the worst-case (or representative) error, by multi-start optimisation.

    Starts are Gaussian, sparse, state-only and adversarial rewards (the adversarial start
    is a shaping term of the assumed discount plus noise, which the two models read
    differently); each is refined by L-BFGS-B over ``(S, A)`` rewards, which loses nothing
    for ``"val"`` and ``"minimal"`` (both the models and these canonicalisations depend on
    ``R`` only through ``E_{s'} R(s, a, s')``). The value is a lower estimate of the
    supremum. With an optimal assumed model the inner supremum is found by an
    exact-gradient search and the outer gradient is its envelope (Danskin) gradient.

    Parameters
    ----------
    mdp : TabularMDP
        The environment; it supplies every parameter a model leaves as None.
    true_model : BehaviouralModel
        The model ``g`` that generates the observed policy.
    assumed_model : BehaviouralModel
        The model ``f`` assumed by IRL.
    random_state : None, int, SeedSequence or Generator
        Seed or generator of the starts.
    kind : {"worst_case", "representative"}, default "worst_case"
        Which error to maximise over rewards.
    canonicalization : {"val", "minimal", "epic", "dard"}, default "val"
        Canonicalisation of the STARC metric.
    scale : float, default 0.5
        Scale of the STARC distance (0.5: values in [0, 1]; see :func:`starc_distance`).
    n_starts : int, default 4
        Starts of each of the four kinds.
    maxiter : int, default 30
        L-BFGS-B iterations per start.
    return_reward : bool, default False
        Also return the maximising reward.
    distance_in : {"true", "mdp"}, default "true"
        Environment of the metric (see :func:`worst_case_error`).

    Returns
    -------
    float or (float, numpy.ndarray of shape (S, A))
        The largest error found; with ``return_reward=True`` also the reward attaining it.

    Raises
    ------
    ImageError
        If the true model's policy is outside the assumed model's image at every start.

    Examples
    --------
    >>> from irl_sensitivity import random_mdp, BoltzmannModel, max_error
    >>> mdp = random_mdp(3, 2, rng=0)
    >>> e = max_error(mdp, BoltzmannModel(beta=2.0), BoltzmannModel(beta=1.0), 0, n_starts=1)
    >>> bool(e < 1e-6)
    True
    """
    check_mdp(mdp)
    _check_models(true_model, assumed_model)
    kind = check_option(kind, "kind", ErrorKind)
    check_option(canonicalization, "canonicalization", Canonicalization)
    check_scale(scale)
    n_starts = check_int(n_starts, "n_starts", minimum=1)
    maxiter = check_int(maxiter, "maxiter", minimum=1)
    return_reward = check_bool(return_reward, "return_reward")
    gen = check_random_state(random_state, "random_state")
    s, a = mdp.n_states, mdp.n_actions
    cache = _WorstCase(mdp, true_model, assumed_model, canonicalization, scale, None, distance_in)
    danskin = (
        kind == "worst_case" and isinstance(assumed_model, OptimalModel) and cache.metric.compressed
    )
    if kind == "worst_case" and not isinstance(assumed_model, OptimalModel):

        def obj(r: np.ndarray) -> float:
            return cache.lower(r)
    elif danskin:
        mat = cache.metric.matrix()

        def obj(r: np.ndarray) -> tuple[float, np.ndarray]:
            val, x_star = _worst_case(cache, r, 2, gen)
            y = mat @ r.ravel()
            ny = float(np.linalg.norm(y))
            if x_star is None or ny == 0.0:
                return val, np.zeros(r.size)
            au = y / ny
            diff = au - x_star
            nd = float(np.linalg.norm(diff))
            if nd == 0.0:
                return val, np.zeros(r.size)
            g_a = cache.scale * diff / nd
            g_y = (g_a - au * (au @ g_a)) / ny
            return val, mat.T @ g_y
    elif kind == "worst_case":

        def obj(r: np.ndarray) -> float:
            return _worst_case(cache, r, 2, gen)[0]
    else:

        def obj(r: np.ndarray) -> float:
            pi = _observed(mdp, r, true_model, assumed_model)
            rh = _in_env(cache.env_d, assumed_model.representative(mdp, pi))
            return cache.metric.distance(r, rh, cache.scale)

    n_in_image = 0

    def safe(x: np.ndarray) -> tuple[float, np.ndarray]:
        nonlocal n_in_image
        try:
            out = obj(x.reshape(s, a))
        except ImageError:  # outside the assumed model's image (e.g. exact optimal ties)
            return 0.0, np.zeros(x.size)
        n_in_image += 1
        return out if danskin else (out, np.zeros(x.size))

    gamma_f = cache.env_f.gamma
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
    with _blas_limit(mdp):
        best, best_r = _max_error_loop(starts, safe, danskin, maxiter, best, best_r, s, a)
    if n_in_image == 0:
        raise ImageError(
            "max_error: the true model's policies are outside the assumed model's image at "
            "every start, so the assumed model cannot represent the data (see "
            "image_condition)."
        )
    return (float(best), best_r) if return_reward else float(best)


def _max_error_loop(starts, safe, danskin, maxiter, best, best_r, s, a):
    """Refine every start by L-BFGS-B; keep the best value (and reward) seen."""
    for x0 in starts:
        if danskin:

            def neg(x: np.ndarray) -> tuple[float, np.ndarray]:
                v, g = safe(x)
                return -v, -g

            res = minimize(
                neg, x0.ravel(), jac=True, method="L-BFGS-B", options={"maxiter": maxiter}
            )
        else:
            res = minimize(
                lambda x: -safe(x)[0], x0.ravel(), method="L-BFGS-B", options={"maxiter": maxiter}
            )
        for val, x in ((-float(res.fun), res.x), (safe(x0.ravel())[0], x0.ravel())):
            if val > best:
                best, best_r = val, x.reshape(s, a)
    return best, best_r
