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
space with the metric's linear map cached once (see :class:`StarcMetric`); the search over
the optimal model's inverse set uses exact gradients. Sparse MDPs work throughout with these
canonicalisations. :class:`Misspecification` holds one problem (environment, models,
metric) and caches everything that does not depend on the true reward; the functions
:func:`representative_error`, :func:`worst_case_error`, :func:`worst_case_lower_bound`,
:func:`max_error` and :func:`image_condition` build one and call its method.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import numpy as np
from scipy.optimize import minimize

from estkit import check_bool, check_int, check_option, check_random_state
from estkit._random import RandomStateLike
from irl_sensitivity._canonical import (
    DEFAULT_SCALE,
    Canonicalization,
    StarcMetric,
    _canonical_dense,
)
from irl_sensitivity._common import blas_single_thread, fill_doc, renamed_arguments
from irl_sensitivity._mdp import TabularMDP, check_mdp
from irl_sensitivity._models import BehaviouralModel, OptimalModel
from irl_sensitivity._transforms import s_redistribution_basis

__all__ = [
    "DistanceIn",
    "ImageError",
    "Misspecification",
    "image_condition",
    "max_error",
    "representative_error",
    "worst_case_error",
    "worst_case_lower_bound",
]

DistanceIn = Literal["true", "mdp"]
ErrorKind = Literal["worst_case", "representative"]


@fill_doc
class ImageError(ValueError):
    """The true model's policy is outside the image of the assumed model.

    A subclass of ``ValueError``: no reward explains the observed policy under the assumed
    model, so the misspecification error is undefined.

    %(message_parameters)s

    Examples
    --------
    >>> from irl_sensitivity import example_problem, BoltzmannModel, OptimalModel
    >>> from irl_sensitivity import representative_error
    >>> mdp, R = example_problem(reward_rng=1)
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


def _tie_tolerance(model: BehaviouralModel) -> float:
    """The tie tolerance of an optimal model (the searches over its inverse set)."""
    assert isinstance(model, OptimalModel)
    return model.tol


def _metric(
    mdp: TabularMDP,
    true_model: BehaviouralModel,
    distance_in: Any,
    canonicalization: Any,
    norm: Any,
    scale: Any,
    weights: Any = None,
) -> StarcMetric:
    """The STARC metric of the functional interface, in the environment ``distance_in``
    names (the true model's, or ``mdp``)."""
    where = check_option(distance_in, "distance_in", DistanceIn)
    env = true_model.environment(mdp) if where == "true" else mdp
    return StarcMetric(env, canonicalization, norm, scale=scale, weights=weights)


def _problem(
    mdp: TabularMDP,
    true_model: BehaviouralModel,
    assumed_model: BehaviouralModel,
    distance_in: Any,
    canonicalization: Any,
    norm: Any,
    scale: Any,
    weights: Any = None,
) -> Misspecification:
    """The :class:`Misspecification` of the functional interface (the metric options as in
    :func:`_metric`)."""
    check_mdp(mdp)
    _check_models(true_model, assumed_model)
    metric = _metric(mdp, true_model, distance_in, canonicalization, norm, scale, weights)
    return Misspecification(mdp, true_model, assumed_model, metric)


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


@fill_doc
class Misspecification:
    """One misspecification problem: an environment, a true and an assumed behavioural
    model, and the STARC metric the errors are measured with.

    For a true reward ``R`` the observed policy is ``g(R)`` (``g = true_model``) and IRL
    with ``f = assumed_model`` returns some ``R1`` with ``f(R1) = g(R)``; the methods give
    the errors of Skalse & Abate (2024) (see the module notes). Everything that does not
    depend on the true reward (the metric's canonicalisation map, the canonical image of the
    assumed model's ambiguity, the kernels of the optimal set) is computed once and cached,
    so one object evaluated at many rewards is much cheaper than the functions called for
    each.

    Parameters
    ----------
    %(models)s
    metric : StarcMetric, optional
        The metric, which carries the environment the distances are measured in. None
        builds ``StarcMetric(true_model.environment(mdp))`` (the paper's convention: the
        default "val" canonicalisation, L2 norm and scale 0.5 in the demonstrator's
        environment).

    Attributes
    ----------
    %(env)s
    true_model, assumed_model : BehaviouralModel
        The models.
    metric : StarcMetric
        The metric.

    Examples
    --------
    >>> from irl_sensitivity import example_problem, BoltzmannModel, Misspecification, StarcMetric
    >>> mdp, R = example_problem(4, 2, reward_rng=1)
    >>> problem = Misspecification(mdp, BoltzmannModel(), BoltzmannModel(gamma=0.89))
    >>> bool(problem.worst_case(R) > 0.7), bool(problem.representative(R) < 0.5)
    (True, True)
    >>> problem.metric
    StarcMetric(canonicalization='val', norm=2.0, scale=0.5, weights=None, policy=None)
    """

    def __init__(
        self,
        mdp: TabularMDP,
        true_model: BehaviouralModel,
        assumed_model: BehaviouralModel,
        metric: StarcMetric | None = None,
    ) -> None:
        check_mdp(mdp)
        _check_models(true_model, assumed_model)
        if metric is not None:
            if not isinstance(metric, StarcMetric):
                raise TypeError(
                    f"`metric` must be a StarcMetric (or None for the default); got "
                    f"{type(metric).__name__}."
                )
            env_d = metric.mdp
            if (env_d.n_states, env_d.n_actions) != (mdp.n_states, mdp.n_actions):
                raise ValueError(
                    f"`metric` is defined on an MDP with {env_d.n_states} states and "
                    f"{env_d.n_actions} actions but `mdp` has {mdp.n_states} and "
                    f"{mdp.n_actions}; build the metric on this environment."
                )
        self.mdp, self.true_model, self.assumed_model = mdp, true_model, assumed_model
        self._metric = metric
        self._env_f = assumed_model.environment(mdp)
        self._q: np.ndarray | None = None
        self._theta: np.ndarray | None = None
        self._t_flat = np.zeros((0, 0))
        self._free = np.zeros(0, dtype=np.intp)

    def __repr__(self) -> str:
        return (
            f"Misspecification(true_model={self.true_model.describe()}, "
            f"assumed_model={self.assumed_model.describe()}, metric={self.metric!r})"
        )

    @property
    def metric(self) -> StarcMetric:
        """The STARC metric (the default one is built on first use)."""
        if self._metric is None:
            self._metric = StarcMetric(self.true_model.environment(self.mdp))
        return self._metric

    @property
    def _l2(self) -> bool:
        return self.metric.norm == 2

    # ------------------------------------------------------------------ public methods
    @fill_doc
    def image_condition(
        self, reward: Any = None, *, n_rewards: int = 20, rng: RandomStateLike = None
    ) -> bool:
        """Check ``g(R)`` lies in ``Im(f)`` for ``reward`` or for random Gaussian rewards.

        With random rewards this is a numerical check of ``Im(g) ⊆ Im(f)`` (a
        counterexample proves it false).

        Parameters
        ----------
        %(image_reward)s

        Returns
        -------
        %(image_returns)s
        """
        mdp, g, f = self.mdp, self.true_model, self.assumed_model
        if reward is not None:
            rewards = [mdp.check_reward(reward)]
        else:
            n_rewards = check_int(n_rewards, "n_rewards", minimum=1)
            gen = check_random_state(rng, "rng")
            rewards = [gen.normal(size=(mdp.n_states, mdp.n_actions)) for _ in range(n_rewards)]
        return all(f.in_image(mdp, g.policy(mdp, r)) for r in rewards)

    @fill_doc
    def representative(self, reward: Any) -> float:
        """STARC distance between ``reward`` and the assumed model's closed-form inverse of
        the true model's policy.

        Parameters
        ----------
        %(reward)s

        Returns
        -------
        float
            ``d(R, Rh)`` with ``Rh`` the assumed model's closed-form representative inverse
            of ``true_model.policy(mdp, reward)``.

        %(image_error)s
        """
        reward = self.mdp.check_reward(reward)
        pi = _observed(self.mdp, reward, self.true_model, self.assumed_model)
        return self._representative(reward, pi)

    @fill_doc
    def lower_bound(self, reward: Any) -> float:
        """Closed-form ``sup d(R, R1)`` over ``R1 = Rh + shaping + S'-redistribution`` in
        the assumed model's environment (L2 metrics). Exact for Boltzmann and MCE assumed
        models, a lower bound for the optimal model.

        Parameters
        ----------
        %(reward)s

        Returns
        -------
        %(lower_returns)s

        %(image_error)s
        ValueError
            If the metric's norm is not 2.
        """
        if not self._l2:
            raise ValueError(
                "The closed-form bound needs an L2 metric; build the StarcMetric with norm=2 "
                "(or use worst_case, which searches for other norms)."
            )
        return self._lower(self.mdp.check_reward(reward))

    @fill_doc
    def worst_case(self, reward: Any, *, n_starts: int = 6, rng: RandomStateLike = None) -> float:
        """The paper's error: ``sup { d(R, R1) : f(R1) = g(R) }``.

        Closed form (see the module notes) for Boltzmann and MCE assumed models with the L2
        norm; otherwise the closed-form lower bound combined with a multi-start search over
        the inverse set (for the optimal model the set is parametrised by the optimal
        actions, with exact gradients for ``"val"`` / ``"minimal"`` and the L2 norm; for
        other norms by its affine basis).

        Parameters
        ----------
        %(reward)s
        %(worst_starts)s

        Returns
        -------
        float
            The worst-case error, in ``[0, 2 * scale]`` (a lower estimate where a search is
            used).

        %(image_error)s
        """
        n_starts = check_int(n_starts, "n_starts", minimum=1)
        reward = self.mdp.check_reward(reward)
        gen = check_random_state(rng, "rng")
        self._theta = None  # no warm start from an earlier call: results depend on rng only
        with blas_single_thread(self.mdp.n_states, self.mdp.n_actions):
            return self._worst_case(reward, n_starts, gen)[0]

    @fill_doc
    def max_error(
        self,
        *,
        kind: ErrorKind = "worst_case",
        n_starts: int = 4,
        maxiter: int = 30,
        return_reward: bool = False,
        rng: RandomStateLike = None,
    ) -> float | tuple[float, np.ndarray]:
        """``sup_R`` of the worst-case (or representative) error, by multi-start
        optimisation.

        Starts are Gaussian, sparse, state-only and adversarial rewards (the adversarial
        start is a shaping term of the assumed discount plus noise, which the two models
        read differently); each is refined by L-BFGS-B over ``(S, A)`` rewards, which loses
        nothing for ``"val"`` and ``"minimal"`` (both the models and these
        canonicalisations depend on ``R`` only through ``E_{s'} R(s, a, s')``). The value is
        a lower estimate of the supremum. With an optimal assumed model the inner supremum
        is found by an exact-gradient search and the outer gradient is its envelope
        (Danskin) gradient.

        Parameters
        ----------
        %(max_options)s
        %(max_iter_options)s
        rng : None, int, SeedSequence or Generator
            Seed or generator of the starts.

        Returns
        -------
        float or (float, numpy.ndarray of shape (S, A))
            The largest error found; with ``return_reward=True`` also the reward attaining
            it.

        Raises
        ------
        %(max_raises)s
        """
        kind = check_option(kind, "kind", ErrorKind)
        n_starts = check_int(n_starts, "n_starts", minimum=1)
        maxiter = check_int(maxiter, "maxiter", minimum=1)
        return_reward = check_bool(return_reward, "return_reward")
        gen = check_random_state(rng, "rng")
        self._theta = None
        s, a = self.mdp.n_states, self.mdp.n_actions
        obj, danskin = self._max_objective(kind, gen)
        n_in_image = 0

        def safe(x: np.ndarray) -> tuple[float, np.ndarray]:
            nonlocal n_in_image
            try:
                val, grad = obj(x.reshape(s, a))
            except ImageError:  # outside the assumed model's image (e.g. exact optimal ties)
                return 0.0, np.zeros(x.size)
            n_in_image += 1
            return val, grad

        starts = _max_error_starts(self.mdp, self._env_f.gamma, n_starts, gen)
        with blas_single_thread(s, a):
            best, best_r = _max_error_loop(starts, safe, danskin, maxiter, s, a)
        if n_in_image == 0:
            raise ImageError(
                "max_error: the true model's policies are outside the assumed model's image at "
                "every start, so the assumed model cannot represent the data (see "
                "image_condition)."
            )
        return (float(best), best_r) if return_reward else float(best)

    # ------------------------------------------------------------------ pieces
    def _representative(self, reward: np.ndarray, pi: np.ndarray) -> float:
        rh = _in_env(self.metric.mdp, self.assumed_model.representative(self.mdp, pi))
        return self.metric.distance(reward, rh, names=("reward", "representative"))

    def _max_objective(
        self, kind: str, gen: np.random.Generator
    ) -> tuple[Callable[[np.ndarray], tuple[float, np.ndarray]], bool]:
        """The objective of :meth:`max_error` (value and, for the Danskin search, gradient)
        and whether it has a gradient."""
        f = self.assumed_model
        zero = np.zeros(0)
        if kind == "representative":

            def rep(r: np.ndarray) -> tuple[float, np.ndarray]:
                pi = _observed(self.mdp, r, self.true_model, f)
                return self._representative(r, pi), zero

            return rep, False
        if not isinstance(f, OptimalModel) and self._l2:
            return (lambda r: (self._lower(r), zero)), False
        if not (isinstance(f, OptimalModel) and self.metric._compressed and self._l2):
            return (lambda r: (self._worst_case(r, 2, gen)[0], zero)), False
        mat = self.metric._linear_map()
        scale = self.metric.scale

        def danskin(r: np.ndarray) -> tuple[float, np.ndarray]:
            val, x_star = self._worst_case(r, 2, gen)
            y = mat @ r.ravel()
            ny = float(np.linalg.norm(y))
            if x_star is None or ny == 0.0:
                return val, np.zeros(r.size)
            au = y / ny
            diff = au - x_star
            nd = float(np.linalg.norm(diff))
            if nd == 0.0:
                return val, np.zeros(r.size)
            g_a = scale * diff / nd
            g_y = (g_a - au * (au @ g_a)) / ny
            return val, mat.T @ g_y

        return danskin, True

    def _worst_case(
        self, reward: np.ndarray, n_starts: int, gen: np.random.Generator
    ) -> tuple[float, np.ndarray | None]:
        pi = _observed(self.mdp, reward, self.true_model, self.assumed_model)
        if self._l2:
            lb = self._lower(reward, pi)
            if not isinstance(self.assumed_model, OptimalModel):
                return lb, None
            if self.metric._compressed:
                found, x = self._optimal_search(reward, pi, n_starts, gen)
                return (found, x) if found >= lb else (lb, None)
        else:
            rh = _in_env(self.metric.mdp, self.assumed_model.representative(self.mdp, pi))
            lb = self.metric.distance(reward, rh)
        return max(lb, self._dense_search(reward, pi, n_starts, gen)), None

    # ambiguity of the assumed model, in the metric's coordinates ------------------------
    def _r_space(self) -> tuple[np.ndarray, np.ndarray]:
        """Expected-reward image (under the metric's kernel) of shaping (assumed discount)
        and S'-redistribution (assumed kernel): (T_flat, free rows)."""
        env_d = self.metric.mdp
        s, a = env_d.n_states, env_d.n_actions
        t_flat = env_d.expect_next(np.eye(s)).reshape(s * a, s)
        return t_flat, _kernel_rows_differ(env_d, self._env_f)

    def _subspace(self) -> np.ndarray:
        if self._q is not None:
            return self._q
        metric = self.metric
        if metric._compressed:
            s, a = metric.mdp.n_states, metric.mdp.n_actions
            t_flat, free = self._r_space()
            self._t_flat, self._free = t_flat, free
            shaping = self._env_f.gamma * t_flat - np.repeat(np.eye(s), a, axis=0)
            red = np.zeros((s * a, free.size))
            red[free, np.arange(free.size)] = 1.0
            self._q = _orth(metric._coords_of_expected(np.hstack([shaping, red])))
        else:
            from irl_sensitivity._inverse import ambiguity_basis

            basis = ambiguity_basis(self._env_f)
            env_d = metric.mdp
            shape = (env_d.n_states, env_d.n_actions, env_d.n_states)
            sw = metric._sqrt_w
            cols: list[np.ndarray] = []
            for b in basis.T:
                c = _canonical_dense(
                    env_d, b.reshape(shape), metric.canonicalization, metric.weights, metric.policy
                ).ravel()
                cols.append(c if sw is None else sw * c)
            n_coords = shape[0] * shape[1] * shape[2]
            self._q = _orth(np.stack(cols, axis=1)) if cols else np.zeros((n_coords, 0))
        return self._q

    def _lower(self, reward: Any, pi: np.ndarray | None = None) -> float:
        """Closed-form sup over ``Rh + shaping + S'-redistribution`` (L2)."""
        if pi is None:
            pi = _observed(self.mdp, reward, self.true_model, self.assumed_model)
        metric = self.metric
        rh = _in_env(metric.mdp, self.assumed_model.representative(self.mdp, pi))
        a = metric._unit(reward)
        c0, nr = metric._coords(rh, "representative")
        zero = metric._norm_of(c0) <= 1e-10 * max(nr, 1e-300)
        return _sup_distance(a, c0, self._subspace(), metric.scale, zero)

    # the optimal model's inverse set: exact-gradient search ----------------------------
    def _optimal_search(
        self, reward: Any, pi: np.ndarray, n_starts: int, gen: np.random.Generator
    ) -> tuple[float, np.ndarray | None]:
        """Maximise ``d(R, R1)`` over rewards with the optimal actions of ``pi`` in the
        assumed environment: ``R1 = q(s, a) - gamma_f v(s') + D`` with ``q = v`` on the
        supports and ``v - exp(z)`` off them and ``D`` an S'-redistribution of the assumed
        kernel. Returns the best distance and its canonical coordinates (unit)."""
        self._subspace()
        metric = self.metric
        scale, env_d = metric.scale, metric.mdp
        s, a = env_d.n_states, env_d.n_actions
        nonopt = ~(pi > _tie_tolerance(self.assumed_model)).ravel()
        a_unit = metric._unit(reward)
        if not np.any(a_unit):
            return 0.0, None
        mat = metric._linear_map()
        t_flat, free = self._t_flat, self._free
        gf = self._env_f.gamma
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
        starts: list[np.ndarray] = []
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

    def _dense_search(
        self, reward: np.ndarray, pi: np.ndarray, n_starts: int, gen: np.random.Generator
    ) -> float:
        """Derivative-free multi-start search for norms / canonicalisations without the
        compressed closed form (the true reward is standardised once)."""
        mdp, metric, f = self.mdp, self.metric, self.assumed_model
        scale, env_d, env_f = metric.scale, metric.mdp, self._env_f
        a_unit = metric._unit(reward)
        s, a = mdp.n_states, mdp.n_actions
        if isinstance(f, OptimalModel):
            opt = pi > _tie_tolerance(f)
            red = s_redistribution_basis(env_f)

            def build(theta: np.ndarray) -> np.ndarray:
                v, z, y = theta[:s], theta[s : s + s * a].reshape(s, a), theta[s + s * a :]
                q = np.where(opt, v[:, None], v[:, None] - np.exp(np.clip(z, -30, 30)))
                r1 = q[:, :, None] - env_f.gamma * v[None, None, :]
                return r1 + (red @ y).reshape(s, a, s)

            dim = s + s * a + red.shape[1]
            method, maxiter = "L-BFGS-B", 200
        else:
            inv = f.inverse(mdp, pi)
            shape = inv.representative.shape

            def build(theta: np.ndarray) -> np.ndarray:
                return inv.representative + (inv.basis @ theta).reshape(shape)

            dim = inv.basis.shape[1]
            method, maxiter = "Powell", 2000

        def neg(theta: np.ndarray) -> float:
            r1 = _in_env(env_d, build(theta))
            return -scale * metric._norm_of(a_unit - metric._unit(r1))

        best = 0.0
        for i in range(n_starts):
            theta0 = gen.normal(scale=10.0 ** (i % 3), size=dim)
            res = minimize(neg, theta0, method=method, options={"maxiter": maxiter})
            best = max(best, -float(res.fun))
        return min(best, 2.0 * scale)


def _max_error_starts(
    mdp: TabularMDP, gamma_f: float, n_starts: int, gen: np.random.Generator
) -> list[np.ndarray]:
    """Gaussian, sparse, state-only and adversarial (shaping of the assumed discount plus
    noise) starting rewards, ``n_starts`` of each."""
    s, a = mdp.n_states, mdp.n_actions
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
    return starts


def _max_error_loop(
    starts: list[np.ndarray],
    safe: Callable[[np.ndarray], tuple[float, np.ndarray]],
    danskin: bool,
    maxiter: int,
    s: int,
    a: int,
) -> tuple[float, np.ndarray]:
    """Refine every start by L-BFGS-B; keep the best value (and reward) seen."""
    best, best_r = -np.inf, starts[0]
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


# ---------------------------------------------------------------------------- functions
@fill_doc
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
    proves it false). Same as :meth:`Misspecification.image_condition`.

    Parameters
    ----------
    %(models)s
    %(image_reward)s

    Returns
    -------
    %(image_returns)s

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
    problem = Misspecification(mdp, true_model, assumed_model)
    return problem.image_condition(reward, n_rewards=n_rewards, rng=rng)


@fill_doc
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
    Same as :meth:`Misspecification.representative`.

    Parameters
    ----------
    %(problem)s
    %(metric_options)s
    %(distance_in)s

    Returns
    -------
    %(rep_returns)s

    %(image_error)s

    Examples
    --------
    >>> from irl_sensitivity import example_problem, BoltzmannModel, representative_error
    >>> mdp, R = example_problem(4, 2, next_state=True, reward_rng=1)
    >>> err = representative_error(mdp, R, BoltzmannModel(beta=3.0), BoltzmannModel(beta=1.0))
    >>> bool(err < 1e-7)
    True
    """
    problem = _problem(
        mdp, true_model, assumed_model, distance_in, canonicalization, norm, scale, weights
    )
    return problem.representative(reward)


@fill_doc
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
    lower bound for the optimal model. Same as :meth:`Misspecification.lower_bound`.

    Parameters
    ----------
    %(problem)s
    %(canonicalization)s
    %(scale)s
    %(weights)s
    %(distance_in)s

    Returns
    -------
    %(lower_returns)s

    %(image_error)s

    Examples
    --------
    >>> from irl_sensitivity import example_problem, BoltzmannModel, worst_case_lower_bound
    >>> mdp, R = example_problem(4, 2, reward_rng=1)
    >>> bool(worst_case_lower_bound(mdp, R, BoltzmannModel(), BoltzmannModel(gamma=0.89)) > 0.7)
    True
    """
    problem = _problem(
        mdp, true_model, assumed_model, distance_in, canonicalization, 2, scale, weights
    )
    return problem.lower_bound(reward)


@fill_doc
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
    inverse set. Same as :meth:`Misspecification.worst_case`.

    Parameters
    ----------
    %(problem)s
    %(metric_options)s
    %(worst_starts)s
    %(distance_in)s

    Returns
    -------
    float
        The worst-case error, in ``[0, 2 * scale]`` (a lower estimate where a search is used).

    %(image_error)s

    Examples
    --------
    >>> from irl_sensitivity import example_problem, MCEModel, worst_case_error
    >>> mdp, R = example_problem(4, 2, next_state=True, reward_rng=1)
    >>> bool(worst_case_error(mdp, R, MCEModel(2.0), MCEModel(0.5)) < 1e-7)
    True
    """
    problem = _problem(
        mdp, true_model, assumed_model, distance_in, canonicalization, norm, scale, weights
    )
    return problem.worst_case(reward, n_starts=n_starts, rng=rng)


@renamed_arguments({"random_state": "rng"}, positional=("rng",))
@fill_doc
def max_error(
    mdp: TabularMDP,
    true_model: BehaviouralModel,
    assumed_model: BehaviouralModel,
    *,
    rng: RandomStateLike = None,
    kind: ErrorKind = "worst_case",
    canonicalization: Canonicalization = "val",
    scale: float = DEFAULT_SCALE,
    n_starts: int = 4,
    maxiter: int = 30,
    return_reward: bool = False,
    distance_in: DistanceIn = "true",
) -> float | tuple[float, np.ndarray]:
    """``sup_R`` of the worst-case (or representative) error, by multi-start optimisation.

    The smallest ``epsilon`` for which the assumed model is epsilon-robust to
    misspecification with the true model (a lower estimate). Same as
    :meth:`Misspecification.max_error` (which describes the search) with an L2 metric.

    Parameters
    ----------
    %(models)s
    rng : None, int, SeedSequence or Generator, keyword-only
        Seed or generator of the starts. (Formerly the fourth positional argument
        ``random_state``; both old forms still work, with a ``FutureWarning``.)
    %(max_options)s
    %(canonicalization)s
    %(scale)s
    %(max_iter_options)s
    %(distance_in)s

    Returns
    -------
    %(max_returns)s

    Raises
    ------
    %(max_raises)s

    Examples
    --------
    >>> from irl_sensitivity import random_mdp, BoltzmannModel, max_error
    >>> mdp = random_mdp(3, 2, rng=0)
    >>> e = max_error(mdp, BoltzmannModel(beta=2.0), BoltzmannModel(beta=1.0), rng=0, n_starts=1)
    >>> bool(e < 1e-6)
    True
    """
    problem = _problem(mdp, true_model, assumed_model, distance_in, canonicalization, 2, scale)
    return problem.max_error(
        kind=kind, n_starts=n_starts, maxiter=maxiter, return_reward=return_reward, rng=rng
    )
