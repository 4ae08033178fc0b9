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

import numbers
from typing import Any, Literal

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from estkit import check_option
from irl_sensitivity._common import fill_doc
from irl_sensitivity._mdp import TabularMDP, _as_float, check_mdp
from irl_sensitivity._planning import optimal_values, policy_evaluation

__all__ = [
    "DEFAULT_SCALE",
    "Canonicalization",
    "StarcMetric",
    "canonicalize",
    "normalized_regret",
    "standardize",
    "starc_distance",
    "weighted_norm",
]

Canonicalization = Literal["val", "minimal", "epic", "dard"]


def check_scale(scale: Any) -> float:
    """The STARC ``scale``: finite and positive (0.5 gives [0, 1], 1.0 gives [0, 2])."""
    ok = isinstance(scale, numbers.Real) and not isinstance(scale, bool | np.bool_)
    if ok:
        ok = bool(np.isfinite(scale) and scale > 0)
    if not ok:
        raise ValueError(
            f"`scale` must be > 0 (0.5 gives [0, 1], 1.0 gives [0, 2]); got {scale!r}."
        )
    return float(scale)


def check_norm(norm: Any) -> float:
    """The norm of a STARC metric: 1, 2 or ``numpy.inf``."""
    if isinstance(norm, numbers.Real) and not isinstance(norm, bool | np.bool_):
        if norm in (1, 2) or norm == np.inf:
            return float(norm)
    raise ValueError(f"`norm` must be 1, 2 or numpy.inf; got {norm!r}.")


DEFAULT_SCALE = 0.5
_ZERO_REL = 1e-10


def _check_weights(mdp: TabularMDP, weights: Any) -> np.ndarray | None:
    if weights is None:
        return None
    w = _as_float(weights, "weights")
    shape = (mdp.n_states, mdp.n_actions, mdp.n_states)
    if w.shape != shape:
        raise ValueError(f"`weights` must have shape {shape}; got {w.shape}.")
    if not np.all(np.isfinite(w)) or w.min() <= 0:
        raise ValueError("`weights` must be finite and strictly positive.")
    if mdp.is_sparse:
        mdp.dense_transition("`weights` of shape (S, A, S)")
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
    r = mdp.broadcast_reward(reward) if not mdp.is_sparse else _broadcast_sparse(mdp, reward)
    g = mdp.gamma
    m = r.mean(axis=(1, 2))  # E_{A, S'} R(x, A, S') with uniform coverage
    return r + g * m[None, None, :] - m[:, None, None] - g * m.mean()


def _dard(mdp: TabularMDP, reward: Any) -> np.ndarray:
    t = mdp.dense_transition("The 'dard' canonicalisation")
    r = mdp.broadcast_reward(reward) if not mdp.is_sparse else _broadcast_sparse(mdp, reward)
    g = mdp.gamma
    d_a = np.full(mdp.n_actions, 1.0 / mdp.n_actions)
    f = np.einsum("sat,sat->sa", t, r) @ d_a  # E_{A, S'~T(x, A)} R(x, A, S')
    cross = np.einsum("sax,tay,xay,a->st", t, t, r, d_a)
    return r + g * f[None, None, :] - f[:, None, None] - g * cross[:, None, :]


def _broadcast_sparse(mdp: TabularMDP, reward: Any) -> np.ndarray:
    """(S, A, S) broadcast of an (S,) / (S, A) reward of a sparse MDP (size checked)."""
    mdp.dense_transition("The 'epic' and 'dard' canonicalisations")
    r = mdp.expected_reward(reward)
    s = mdp.n_states
    return np.broadcast_to(r[:, :, None], (*r.shape, s)).copy()


# ---------------------------------------------------------------------------- metric object
@fill_doc
class StarcMetric:
    """A STARC metric of one environment, with everything that does not depend on the
    rewards computed once.

    ``d(R1, R2) = scale * n(s(R1) - s(R2))`` with the canonicalisation ``c``, the norm ``n``
    and the standardisation ``s(R) = c(R) / n(c(R))`` (see the module notes). Building the
    metric validates its options and factorises the linear canonicalisation map; every
    :meth:`distance` or :meth:`standardize` afterwards reuses it, so comparing many rewards
    in the same environment costs one solve each. The metric is the environment the
    distances are measured in: :class:`Misspecification` takes one.

    Parameters
    ----------
    mdp : TabularMDP
        The environment of the metric (its discount and kernel define ``c``).
    canonicalization : {"val", "minimal", "epic", "dard"}, default "val"
        The canonicalisation ``c``.
    norm : {1, 2, numpy.inf}, default 2
        The norm ``n``, used both to normalise and as the metric.
    scale : float, default 0.5, keyword-only
        ``0.5`` is the paper's convention (distances in [0, 1]); ``1.0`` gives [0, 2].
    weights : array-like of shape (S, A, S), optional, keyword-only
        Weights of the norm (and of the ``"minimal"`` canonicalisation).
    policy : array-like of shape (S, A), optional, keyword-only
        Policy of the ``"val"`` canonicalisation (uniform by default).

    Attributes
    ----------
    %(env)s
    canonicalization : str
        The canonicalisation.
    norm : float
        The norm (1.0, 2.0 or inf).
    scale : float
        The scale.
    weights : numpy.ndarray of shape (S, A, S) or None
        The validated weights.
    policy : numpy.ndarray of shape (S, A) or None
        The validated policy of ``"val"``.

    Notes
    -----
    ``"val"`` and ``"minimal"`` (unit weights) depend on a reward only through its
    expectation ``r(s, a)``, and their canonical forms are ``k(s, a) p(s, a, s')`` with a
    fixed pattern ``p`` (``1`` for ``"val"``, ``T(s, a, s') / sum_x T(s, a, x)^2`` for
    ``"minimal"``), so every norm is a weighted norm of the ``(S, A)`` coefficients ``k``:
    these are computed in ``(S, A)`` space ("compressed"), which is exact, fast and works on
    sparse MDPs of any size. Other canonicalisations use the ``(S, A, S)`` arrays.

    Coordinates (``_coords``) are flat vectors whose metric norm is ``_norm_of``; for the
    L2 norm they are pre-multiplied by the square roots of the weights, so the metric is the
    Euclidean norm. Every reward is divided by its largest absolute entry first (a STARC
    metric is invariant to positive scaling), so that results are exact at any magnitude.

    Examples
    --------
    >>> from irl_sensitivity import example_problem, StarcMetric
    >>> mdp, R = example_problem(next_state=True, reward_rng=1)
    >>> metric = StarcMetric(mdp, "val", 2, scale=0.5)
    >>> round(metric.distance(R, -R), 12), round(metric.distance(R, 3 * R), 12)
    (1.0, 0.0)
    >>> metric
    StarcMetric(canonicalization='val', norm=2.0, scale=0.5, weights=None, policy=None)
    """

    def __init__(
        self,
        mdp: TabularMDP,
        canonicalization: Canonicalization = "val",
        norm: float = 2,
        *,
        scale: float = DEFAULT_SCALE,
        weights: Any = None,
        policy: Any = None,
    ) -> None:
        check_mdp(mdp)
        self.mdp = mdp
        self.canonicalization = check_option(canonicalization, "canonicalization", Canonicalization)
        self.norm = check_norm(norm)
        self.scale = check_scale(scale)
        self.weights = _check_weights(mdp, weights)
        s, a = mdp.n_states, mdp.n_actions
        self.policy = None if policy is None else mdp.check_policy(policy)
        self._compressed = self.weights is None and self.canonicalization in ("val", "minimal")
        self._map: np.ndarray | None = None
        self._sqrt_w: np.ndarray | None = None  # coordinate weights of the L2 norm
        self._nw: np.ndarray | None = None  # entry weights of the L1 / sup norms
        if self._compressed:
            if self.canonicalization == "val":
                pat2 = np.full((s, a), float(s))
                pat1 = np.full((s, a), float(s))
                patinf = np.ones((s, a))
                pi = np.full((s, a), 1.0 / a) if self.policy is None else self.policy
                self._pi = pi
                p_pi = mdp.state_transition(pi)
                n = mdp.n_states
                if sp.issparse(p_pi):
                    chain = (sp.identity(n, format="csc") - mdp.gamma * p_pi).tocsc()
                    self._solve = spla.splu(chain).solve
                else:
                    lu = sla.lu_factor(np.eye(n) - mdp.gamma * p_pi)
                    self._solve = lambda b: sla.lu_solve(lu, b)
            else:
                sq = _row_sq(mdp)  # sum_s' T(s, a, s')^2
                self._w_sa = 1.0 / sq
                pat2 = self._w_sa
                pat1 = self._w_sa
                patinf = self._w_sa * _row_max(mdp)
                self._prepare_minimal()
            if self.norm == 2:
                self._sqrt_w = np.sqrt(pat2).ravel()
                self._nw = None
            else:
                self._sqrt_w = None
                self._nw = (pat1 if self.norm == 1 else patinf).ravel()
        else:
            sqrt_w = None if self.weights is None else np.sqrt(self.weights).ravel()
            self._sqrt_w = sqrt_w if self.norm == 2 else None
            # the sup norm is unweighted (as ``weighted_norm``)
            self._nw = (
                self.weights.ravel() if (self.weights is not None and self.norm == 1) else None
            )

    # -------------------------------------------------------------- compressed maps
    def _prepare_minimal(self) -> None:
        mdp = self.mdp
        s, a = mdp.n_states, mdp.n_actions
        sw = np.sqrt(self._w_sa.ravel())
        if mdp.is_sparse:
            rows, cols = np.arange(s * a), np.repeat(np.arange(s), a)
            e = sp.csr_matrix((np.ones(s * a), (rows, cols)), shape=(s * a, s))
            design = (mdp.gamma * mdp.stacked_transition() - e).tocsr()
            wd = sp.diags(sw) @ design
            gram = (wd.T @ wd).tocsc()
            lu = spla.splu(gram)
            self._design = design
            self._ls = lambda y: lu.solve(np.asarray(wd.T @ y))
        else:
            design = mdp.gamma * mdp.transition.reshape(s * a, s) - np.repeat(np.eye(s), a, axis=0)
            q, rr = np.linalg.qr(sw[:, None] * design)
            self._design = design
            self._ls = lambda y: sla.solve_triangular(rr, q.T @ y)
        self._sw_minimal = sw

    def _k_map(self, r: np.ndarray) -> np.ndarray:
        """Canonical coefficients ``k`` of expected rewards given as columns ``(S*A, n)``."""
        mdp = self.mdp
        s, a = mdp.n_states, mdp.n_actions
        cols = r.reshape(s * a, -1)
        if self.canonicalization == "val":
            pi = self._pi
            rr = cols.reshape(s, a, -1)
            v = self._solve(np.einsum("sa,san->sn", pi, rr))
            v = np.asarray(v).reshape(s, -1)
            q = rr + mdp.gamma * mdp.expect_next(v)
            k = q - v[:, None, :]
            return k.reshape(s * a, -1)
        sw = self._sw_minimal[:, None]
        phi = self._ls(-sw * cols)
        return cols + self._design @ np.asarray(phi).reshape(s, -1)

    def _linear_map(self) -> np.ndarray:
        """The compressed coordinate map as a dense ``(S*A, S*A)`` matrix (cached)."""
        if self._map is None:
            n = self.mdp.n_states * self.mdp.n_actions
            self._map = self._coords_of_expected(np.eye(n))
        return self._map

    def _coords_of_expected(self, r: np.ndarray) -> np.ndarray:
        """Coordinates of expected rewards ``(S*A, n)`` (no rescaling: the map is linear)."""
        k = self._k_map(r)
        if self._sqrt_w is not None:
            k = self._sqrt_w[:, None] * k
        return k

    # -------------------------------------------------------------- public-ish API
    def _prepared(self, reward: Any, name: str = "reward") -> tuple[np.ndarray, float]:
        """The reward divided by its largest absolute entry, and that entry."""
        r = self.mdp.check_reward(reward, name)
        m = float(np.max(np.abs(r))) if r.size else 0.0
        return (r / m if m > 0 else r), m

    def _coords(self, reward: Any, name: str = "reward") -> tuple[np.ndarray, float]:
        """Coordinates of ``c(R / max|R|)`` and the metric norm of ``R / max|R|``."""
        r, _ = self._prepared(reward, name)
        mdp = self.mdp
        s, a = mdp.n_states, mdp.n_actions
        if r.ndim == 3:
            nr = weighted_norm(r, self.norm, self.weights)
        else:
            r2 = r[:, None] * np.ones((1, a)) if r.ndim == 1 else r
            if self.weights is not None:
                nr = weighted_norm(
                    np.broadcast_to(r2[:, :, None], (s, a, s)), self.norm, self.weights
                )
            elif self.norm == 2:
                nr = float(np.sqrt(s * np.sum(r2 * r2)))
            elif self.norm == 1:
                nr = float(s * np.sum(np.abs(r2)))
            else:
                nr = float(np.max(np.abs(r2)))
        if self._compressed:
            x = self._coords_of_expected(mdp.expected_reward(r).reshape(-1, 1)).ravel()
        else:
            x = _canonical_dense(mdp, r, self.canonicalization, self.weights, self.policy).ravel()
            if self._sqrt_w is not None:
                x = self._sqrt_w * x
        return x, nr

    def _norm_of(self, x: np.ndarray) -> float:
        if self.norm == 2:
            return float(np.sqrt(x @ x))
        ax = np.abs(x)
        if self._nw is not None:
            ax = self._nw * ax
        if self.norm == 1:
            return float(ax.sum())
        return float(ax.max()) if ax.size else 0.0

    def _unit(self, reward: Any, name: str = "reward") -> np.ndarray:
        """Coordinates of the standardised reward ``s(R)`` (zero when ``c(R)`` vanishes)."""
        x, nr = self._coords(reward, name)
        nc = self._norm_of(x)
        if nc <= _ZERO_REL * nr or nc == 0.0:
            return np.zeros_like(x)
        return x / nc

    def __repr__(self) -> str:
        w = None if self.weights is None else "given"
        pol = None if self.policy is None else "given"
        return (
            f"StarcMetric(canonicalization={self.canonicalization!r}, norm={self.norm!r}, "
            f"scale={self.scale!r}, weights={w}, policy={pol})"
        )

    def _distance_of_units(self, u1: np.ndarray, u2: np.ndarray) -> float:
        """``scale * n(u1 - u2)`` of two standardised coordinate vectors, capped at its
        range ``2 * scale``."""
        return float(min(self.scale * self._norm_of(u1 - u2), 2.0 * self.scale))

    def distance(self, r1: Any, r2: Any, *, names: tuple[str, str] = ("r1", "r2")) -> float:
        """The STARC distance ``scale * n(s(R1) - s(R2))``.

        Parameters
        ----------
        r1, r2 : array-like of shape (S,), (S, A) or (S, A, S)
            The two rewards.
        names : tuple of str, default ("r1", "r2")
            Names of the rewards in error messages.

        Returns
        -------
        float
            The distance, in ``[0, 2 * scale]``.
        """
        return self._distance_of_units(self._unit(r1, names[0]), self._unit(r2, names[1]))

    @fill_doc
    def standardize(self, reward: Any) -> np.ndarray:
        """The standardised reward ``s(R)``; zero when ``c(R)`` vanishes.

        Parameters
        ----------
        %(any_reward)s

        Returns
        -------
        %(reward_out)s
            ``s(R)``, of norm 1 or 0.
        """
        mdp = self.mdp
        s, a = mdp.n_states, mdp.n_actions
        u = self._unit(reward)
        if not self._compressed:
            out = u if self._sqrt_w is None else u / self._sqrt_w
            if mdp.is_sparse:
                t = mdp.dense_transition("standardize")
                return np.einsum("sat,sat->sa", t, out.reshape(s, a, s))
            return out.reshape(s, a, s)
        k = u if self._sqrt_w is None else u / self._sqrt_w
        k = k.reshape(s, a)
        return _expand(mdp, self.canonicalization, k, getattr(self, "_w_sa", None))


def _row_sq(mdp: TabularMDP) -> np.ndarray:
    if mdp.is_sparse:
        return np.stack(
            [np.asarray(m.multiply(m).sum(axis=1)).ravel() for m in mdp.sparse_transition], axis=1
        )
    return (mdp.transition**2).sum(axis=2)


def _row_max(mdp: TabularMDP) -> np.ndarray:
    if mdp.is_sparse:
        return np.stack(
            [np.asarray(m.max(axis=1).todense()).ravel() for m in mdp.sparse_transition], axis=1
        )
    return mdp.transition.max(axis=2)


def _expand(mdp: TabularMDP, canon: str, k: np.ndarray, w_sa: np.ndarray | None) -> np.ndarray:
    """The canonical reward ``k p`` as (S, A, S) (dense MDP) or its (S, A) expectation."""
    s, a = mdp.n_states, mdp.n_actions
    if canon == "val":
        if mdp.is_sparse:
            return k
        return np.broadcast_to(k[:, :, None], (s, a, s)).copy()
    if mdp.is_sparse:
        return k  # E_{s'}[k w T] = k w sum T^2 = k
    return (k * w_sa)[:, :, None] * mdp.transition


@fill_doc
def canonicalize(
    mdp: TabularMDP,
    reward: Any,
    method: Canonicalization = "val",
    *,
    weights: Any = None,
    policy: Any = None,
) -> np.ndarray:
    """Canonical representative ``c(R)``: an (S, A, S) array ((S, A) on sparse MDPs).

    Parameters
    ----------
    %(env)s
    %(any_reward)s
    method : {"val", "minimal", "epic", "dard"}, default "val"
        The canonicalisation.
    weights : array-like of shape (S, A, S), optional
        Weights of the L2 norm minimised by ``"minimal"`` (uniform by default).
    policy : array-like of shape (S, A), optional
        Policy of ``"val"`` (uniform by default).

    Returns
    -------
    %(reward_out)s
        The canonical reward ``c(R)``.

    Notes
    -----
    On a sparse MDP the result is the ``(S, A)`` expectation ``E_{s'} c(R)(s, a, s')``;
    ``"epic"`` and ``"dard"`` there build ``(S, A, S)`` arrays and are refused above
    20 million entries. The reward is divided by its largest absolute entry before the
    (linear) canonicalisation and the result multiplied back, so huge and tiny rewards do
    not overflow or underflow in the intermediate values.

    Examples
    --------
    >>> import numpy as np
    >>> from irl_sensitivity import example_problem, canonicalize, potential_shaping
    >>> mdp, R = example_problem(next_state=True, reward_rng=1)
    >>> R2 = potential_shaping(mdp, R, [1.0, -2.0, 0.5])
    >>> bool(np.allclose(canonicalize(mdp, R), canonicalize(mdp, R2)))
    True
    """
    check_mdp(mdp)
    method = check_option(method, "canonicalization", Canonicalization)
    w = _check_weights(mdp, weights)
    pol = None if policy is None else mdp.check_policy(policy)
    r = mdp.check_reward(reward)
    m = float(np.max(np.abs(r))) if r.size else 0.0
    if m == 0.0 or not np.isfinite(m):
        m = 1.0
    r = r / m
    if mdp.is_sparse:
        if method in ("val", "minimal") and w is None:
            metric = StarcMetric(mdp, method, 2, policy=pol)
            k = metric._k_map(mdp.expected_reward(r).reshape(-1, 1)).reshape(r.shape[0], -1)
            return m * k
        c = _canonical_dense(mdp, r, method, w, pol)
        return m * np.einsum("sat,sat->sa", mdp.dense_transition("canonicalize"), c)
    return m * _canonical_dense(mdp, r, method, w, pol)


def _canonical_dense(mdp, r, method, w, pol):
    if method == "val":
        return _val(mdp, r, pol)
    if method == "minimal":
        return _minimal(mdp, r, w)
    if method == "epic":
        return _epic(mdp, r)
    return _dard(mdp, r)


@fill_doc
def standardize(
    mdp: TabularMDP,
    reward: Any,
    canonicalization: Canonicalization = "val",
    norm: float = 2,
    *,
    weights: Any = None,
    policy: Any = None,
) -> np.ndarray:
    """``s(R) = c(R) / n(c(R))``; zero when ``c(R)`` vanishes (relative to ``R``).

    An (S, A, S) array, or its (S, A) expectation on a sparse MDP.

    Parameters
    ----------
    %(env)s
    %(any_reward)s
    %(canonicalization)s
    %(norm)s
    %(weights)s
    %(starc_policy)s

    Returns
    -------
    %(reward_out)s
        The standardised reward ``s(R)``, of norm 1 or 0.

    Examples
    --------
    >>> import numpy as np
    >>> from irl_sensitivity import example_problem, standardize
    >>> mdp, R = example_problem(reward_rng=1)
    >>> bool(np.allclose(standardize(mdp, R), standardize(mdp, 1e300 * R)))
    True
    """
    check_mdp(mdp)
    metric = StarcMetric(mdp, canonicalization, norm, weights=weights, policy=policy)
    return metric.standardize(reward)


@fill_doc
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
    %(env)s
    r1, r2 : array-like of shape (S,), (S, A) or (S, A, S)
        The two rewards.
    %(metric_options)s
    %(starc_policy)s

    Returns
    -------
    float
        The distance, in ``[0, 2 * scale]``.

    Notes
    -----
    STARC metrics are invariant to positive scaling, so each reward is divided by its
    largest absolute entry first: the distance is the same for ``R`` and ``1e300 * R`` or
    ``1e-300 * R``, and always lies in ``[0, 2 * scale]``. ``"val"`` and ``"minimal"`` are
    computed in ``(S, A)`` space (exact; sparse MDPs of any size).

    Examples
    --------
    >>> from irl_sensitivity import example_problem, starc_distance
    >>> mdp, R = example_problem(next_state=True, reward_rng=1)
    >>> round(starc_distance(mdp, R, -R), 12), round(starc_distance(mdp, R, 3 * R), 12)
    (1.0, 0.0)
    >>> round(starc_distance(mdp, 1e300 * R, -1e-300 * R), 12)
    1.0
    """
    check_mdp(mdp)
    metric = StarcMetric(mdp, canonicalization, norm, scale=scale, weights=weights, policy=policy)
    return metric.distance(r1, r2)


def normalized_regret(mdp: TabularMDP, r_true: Any, r_proxy: Any, *, tol: float = 1e-8) -> float:
    """Exact normalised regret of optimising ``r_proxy`` when ``r_true`` is the goal.

    ``(J(pi*) - J(pi_proxy)) / (J(pi*) - J(pi_worst))`` under ``r_true`` and the initial
    distribution, where ``pi_proxy`` is the maximally supportive optimal policy of
    ``r_proxy``; 0 when every policy has the same return.

    Parameters
    ----------
    mdp : TabularMDP
        The environment (its ``initial`` distribution weighs the returns).
    r_true : array-like of shape (S,), (S, A) or (S, A, S)
        The reward that is the goal.
    r_proxy : array-like of shape (S,), (S, A) or (S, A, S)
        The reward that is optimised.
    tol : float, default 1e-8
        Tie tolerance of the proxy's optimal actions (see :func:`optimal_policy`).

    Returns
    -------
    float
        The normalised regret, in ``[0, 1]``.

    Examples
    --------
    >>> from irl_sensitivity import example_problem, normalized_regret
    >>> mdp, R = example_problem(next_state=True, reward_rng=1)
    >>> normalized_regret(mdp, R, R), normalized_regret(mdp, R, -R)
    (0.0, 1.0)
    """
    from irl_sensitivity._policies import _check_tol, optimal_policy

    check_mdp(mdp)
    tol = _check_tol(tol)
    r_true = mdp.check_reward(r_true, "r_true")
    r_proxy = mdp.check_reward(r_proxy, "r_proxy")
    m = float(np.max(np.abs(r_true))) if r_true.size else 0.0
    if m == 0.0:
        return 0.0
    r_true = r_true / m  # the regret is invariant to positive scaling
    v_best, _ = optimal_values(mdp, r_true)
    v_worst, _ = optimal_values(mdp, -r_true)
    j_best, j_worst = mdp.initial @ v_best, -(mdp.initial @ v_worst)
    v_proxy, _ = policy_evaluation(mdp, r_true, optimal_policy(mdp, r_proxy, tol=tol))
    span = j_best - j_worst
    if span <= 1e-12 * (1.0 + abs(j_best)):
        return 0.0
    return float(np.clip((j_best - mdp.initial @ v_proxy) / span, 0.0, 1.0))
