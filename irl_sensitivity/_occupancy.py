"""Occupancy measures: expected (discounted) visit counts of states and state-action pairs.

Conventions (finite horizon ``H``, within-horizon discount ``d``, policy ``pi_t``)
-------------------------------------------------------------------------------
* ``D_0 = mu0`` (``mdp.initial``) and ``D_{t+1}(s') = sum_{s, a} D_t(s) pi_t(a|s) T(s, a, s')``
  for ``t = 0, ..., H - 1``: ``H`` actions and ``H + 1`` state distributions. ``by_time`` is
  the ``(H + 1, S)`` array of the ``D_t``.
* ``state = sum_{t=0}^{H} d^t D_t``, the ``H + 1`` terms including the state reached after the
  last action: this equals ``Dcum`` of the imitation library's ``mce_occupancy_measures``
  (whose ``D`` is ``by_time``).
* ``state_action(s, a) = sum_{t=0}^{H-1} d^t D_t(s) pi_t(a|s)``: the expected discounted
  number of times action ``a`` is taken in ``s`` (``H`` terms), so that
  ``state = state_action.sum(axis=1) + d^H D_H``.

Infinite horizon (``horizon=None``): ``state = sum_{t>=0} d^t D_t``, the solution of
``(I - d P_pi^T) state = mu0`` (total mass ``1 / (1 - d)``, not normalised), and
``state_action = state[:, None] * pi``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from estkit import check_int
from irl_sensitivity._mdp import _ROW_TOL, TabularMDP
from irl_sensitivity._planning import _DIRECT_SPARSE_MAX, _check_discount
from irl_sensitivity._policies import _check_mdp

__all__ = ["OccupancyMeasure", "occupancy_measure"]


class OccupancyMeasure(NamedTuple):
    """State and state-action occupancy measures (see :func:`occupancy_measure`).

    Returned by :func:`occupancy_measure`; a named tuple whose fields are stored as
    attributes of the same names.

    Parameters
    ----------
    state : ndarray of shape (S,)
        Expected discounted number of visits of each state (``t = 0..H`` for a finite
        horizon, as imitation's ``Dcum``).
    state_action : ndarray of shape (S, A)
        Expected discounted number of times each action is taken in each state
        (``t = 0..H-1``).
    by_time : ndarray of shape (H + 1, S) or None
        State distribution at each time step (finite horizon only; imitation's ``D``).
    horizon : int or None
        The horizon (None: infinite, discounted).
    discount : float
        The discount used.

    Examples
    --------
    >>> import numpy as np
    >>> from irl_sensitivity import random_mdp, occupancy_measure
    >>> mdp = random_mdp(2, 2, rng=0)
    >>> om = occupancy_measure(mdp, np.full((2, 2), 0.5), horizon=3, discount=1.0)
    >>> om.state_action.shape, om.by_time.shape, om.horizon, om.discount
    ((2, 2), (4, 2), 3, 1.0)
    >>> round(float(om.state_action.sum()), 10)
    3.0
    """

    state: np.ndarray
    state_action: np.ndarray
    by_time: np.ndarray | None
    horizon: int | None
    discount: float


def _check_horizon(horizon: Any) -> int | None:
    if horizon is None:
        return None
    return check_int(horizon, "horizon", minimum=1)


def _check_policy_any(mdp: TabularMDP, policy: Any, horizon: int | None) -> np.ndarray:
    """Validate a stationary (S, A) or time-indexed (H, S, A) policy (the rules of
    ``TabularMDP.check_policy``, with the time index in the messages)."""
    try:
        p = np.asarray(policy, dtype=float)
    except (TypeError, ValueError):
        raise TypeError("`policy` must be a numeric array of shape (S, A) or (H, S, A).") from None
    s, a = mdp.n_states, mdp.n_actions
    if p.ndim == 3:
        if p.shape[1:] != (s, a):
            raise ValueError(
                f"`policy` of shape (H, S, A) must have (S, A) = ({s}, {a}); got {p.shape}."
            )
        if horizon is None:
            raise ValueError(
                f"A time-indexed `policy` of shape {p.shape} needs a finite horizon: pass "
                f"horizon={p.shape[0]}."
            )
        if p.shape[0] != horizon:
            raise ValueError(
                f"`policy` has {p.shape[0]} time steps but horizon={horizon}; they must agree."
            )
    elif p.shape != (s, a):
        raise ValueError(
            f"`policy` must have shape (S, A) = ({s}, {a}) or (H, S, A); got {p.shape}."
        )
    if not np.all(np.isfinite(p)) or (p.size and p.min() < 0):
        raise ValueError("`policy` must hold finite non-negative probabilities.")
    rows = p.sum(axis=-1)
    bad = np.abs(rows - 1.0) > _ROW_TOL
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"`policy` rows must sum to 1 over actions; policy[{', '.join(map(str, idx))}, :] "
            f"sums to {rows[idx]:.6g}. Normalise with policy / policy.sum(axis=-1, keepdims=True)."
        )
    return p


class _Flow:
    """Forward operator ``x (S, A) -> sum_{s, a} x(s, a) T(s, a, .)``, built once per MDP."""

    def __init__(self, mdp: TabularMDP) -> None:
        s, a = mdp.n_states, mdp.n_actions
        if mdp.is_sparse:
            order = (np.arange(a)[None, :] * s + np.arange(s)[:, None]).ravel()
            stacked = sp.vstack(mdp.sparse_transition, format="csr")[order]
            self._op = stacked.T.tocsr()  # (S, S * A), columns in (s, a) order
        else:
            self._op = np.ascontiguousarray(mdp.transition.reshape(s * a, s).T)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self._op @ x.ravel()


def _finite_core(
    mdp: TabularMDP,
    policy: np.ndarray,
    horizon: int,
    disc: float,
    flow: _Flow | None = None,
    *,
    keep_by_time: bool = True,
) -> OccupancyMeasure:
    flow = _Flow(mdp) if flow is None else flow
    s, a = mdp.n_states, mdp.n_actions
    timed = policy.ndim == 3
    d = mdp.initial.copy()
    by_time = np.empty((horizon + 1, s)) if keep_by_time else None
    state = np.zeros(s)
    sa = np.zeros((s, a))
    w = 1.0
    for t in range(horizon):
        if by_time is not None:
            by_time[t] = d
        x = d[:, None] * (policy[t] if timed else policy)
        state += w * d
        sa += w * x
        d = flow(x)
        w *= disc
    if by_time is not None:
        by_time[horizon] = d
    state += w * d
    return OccupancyMeasure(state, sa, by_time, horizon, disc)


def _discounted_core(
    mdp: TabularMDP, policy: np.ndarray, disc: float, mu: np.ndarray | None = None
) -> OccupancyMeasure:
    """Solve ``(I - d P_pi^T) x = mu``; ``mu`` defaults to ``mdp.initial`` (any signed
    measure is allowed, e.g. the injections of the causal likelihood)."""
    p = mdp.state_transition(policy)
    n = mdp.n_states
    signed = mu is not None
    mu = mdp.initial if mu is None else mu
    if sp.issparse(p):
        m = (sp.identity(n, format="csr") - disc * p.T).tocsc()
        if n <= _DIRECT_SPARSE_MAX:
            state = np.asarray(spla.spsolve(m, mu))
        else:
            # columns of I - d P^T are diagonally dominant: BiCGSTAB converges geometrically;
            # the Neumann series is the starting point and the fallback.
            x0 = mu / (1.0 - disc)
            state, info = spla.bicgstab(m.tocsr(), mu, x0=x0, rtol=1e-13, atol=0.0, maxiter=n)
            if info != 0:  # pragma: no cover - safeguard
                pt = sp.csr_matrix(p.T)
                state, term = mu.copy(), mu.copy()
                for _ in range(int(np.ceil(np.log(1e-16) / np.log(disc))) + 1):
                    term = disc * (pt @ term)
                    state += term
    else:
        state = np.linalg.solve(np.eye(n) - disc * p.T, mu)
    if not signed:
        state = np.maximum(state, 0.0)  # rounding residue below zero is not a visit
    return OccupancyMeasure(state, state[:, None] * policy, None, None, disc)


def occupancy_measure(
    mdp: TabularMDP, policy: Any, horizon: int | None = None, discount: float | None = None
) -> OccupancyMeasure:
    """State and state-action occupancy measures of a policy.

    Parameters
    ----------
    mdp : TabularMDP
        Dynamics and initial distribution (dense or sparse).
    policy : array-like of shape (S, A) or (H, S, A)
        Stationary or time-indexed (finite horizon only) policy; rows sum to 1.
    horizon : int, optional
        Number of actions ``H``. None (default) is the infinite discounted horizon, solved
        exactly by one linear solve (sparse LU, or BiCGSTAB beyond 5,000 sparse states).
    discount : float, optional
        ``d`` in (0, 1] for a finite horizon (1.0 = undiscounted, as imitation's default),
        in (0, 1) for the infinite horizon. ``mdp.gamma`` by default.

    Returns
    -------
    OccupancyMeasure
        ``state`` (S,), ``state_action`` (S, A), ``by_time`` (H + 1, S) or None,
        ``horizon``, ``discount``. Finite horizon: ``state`` sums ``d^t D_t`` over
        ``t = 0..H`` (imitation's ``Dcum``), ``state_action`` over ``t = 0..H-1``. Infinite
        horizon: totals ``1 / (1 - d)`` (not normalised).

    Examples
    --------
    >>> import numpy as np
    >>> from irl_sensitivity import random_mdp, occupancy_measure
    >>> mdp = random_mdp(3, 2, rng=0)
    >>> pi = np.full((3, 2), 0.5)
    >>> om = occupancy_measure(mdp, pi, horizon=4, discount=1.0)
    >>> float(om.state.sum()), float(om.state_action.sum()), om.by_time.shape
    (5.0, 4.0, (5, 3))
    >>> inf = occupancy_measure(mdp, pi)  # discounted with mdp.gamma = 0.9
    >>> round(float(inf.state.sum()), 10)
    10.0
    """
    mdp = _check_mdp(mdp)
    horizon = _check_horizon(horizon)
    disc = _check_discount(discount, mdp)
    pi = _check_policy_any(mdp, policy, horizon)
    if horizon is None:
        if disc >= 1.0:
            raise ValueError(
                "The infinite-horizon occupancy needs `discount` < 1; pass a finite `horizon` "
                "for undiscounted visit counts."
            )
        return _discounted_core(mdp, pi, disc)
    return _finite_core(mdp, pi, horizon, disc)
