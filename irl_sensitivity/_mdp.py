"""Tabular MDPs without a reward: transition kernel, initial distribution, discount.

Transitions are stored either densely as an ``(S, A, S)`` array or, for large state
spaces, as one ``scipy.sparse`` CSR matrix of shape ``(S, S)`` per action. Every numerical
routine of the package reaches the kernel only through :meth:`TabularMDP.expect_next`
(``sum_s' T(s, a, s') v(s')``) and :meth:`TabularMDP.expected_reward`, so both storage
formats share one code path.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from estkit import check_bool, check_int, check_positive, check_random_state
from estkit._random import RandomStateLike
from irl_sensitivity._common import fill_doc

__all__ = [
    "TabularMDP",
    "check_mdp",
    "example_problem",
    "perturb_transition",
    "random_mdp",
    "random_reward",
]

_ROW_TOL = 1e-8


def _check_gamma(gamma: Any, name: str = "gamma") -> float:
    if isinstance(gamma, bool | np.bool_) or not isinstance(gamma, numbers.Real):
        raise TypeError(f"`{name}` must be a float in (0, 1), e.g. 0.9; got {gamma!r}.")
    g = float(gamma)
    if not 0.0 < g < 1.0:
        raise ValueError(
            f"`{name}` is a discount factor and must lie strictly in (0, 1), e.g. 0.9; "
            f"got {gamma!r}."
        )
    return g


def check_mdp(mdp: Any, name: str = "mdp") -> TabularMDP:
    """The door check of every public function taking an MDP."""
    if not isinstance(mdp, TabularMDP):
        raise TypeError(
            f"`{name}` must be a TabularMDP (build one with TabularMDP(transition, initial, "
            f"gamma)); got {type(mdp).__name__}."
        )
    return mdp


def _check_sparse_list(mats_in: Sequence[Any], name: str) -> list[sp.csr_matrix]:
    mats = []
    for a, m in enumerate(mats_in):
        if not sp.issparse(m):
            raise TypeError(
                f"`{name}`[{a}] is dense while `{name}`[0] is sparse; pass all per-action "
                "matrices in one format."
            )
        mats.append(sp.csr_matrix(m, dtype=float))
    tol = max(_row_tol(np.dtype(m.dtype)) for m in mats_in)
    s = mats[0].shape[0]
    for a, m in enumerate(mats):
        if m.shape != (s, s):
            raise ValueError(
                f"`{name}`[{a}] must be a square (S, S) sparse matrix with S={s}; got {m.shape}."
            )
        if m.nnz and (not np.all(np.isfinite(m.data)) or m.data.min() < 0):
            raise ValueError(f"`{name}`[{a}] must hold finite non-negative probabilities.")
        rows = np.asarray(m.sum(axis=1)).ravel()
        bad = np.flatnonzero(np.abs(rows - 1.0) > tol)
        if bad.size:
            raise ValueError(
                f"`{name}`[{a}] rows must sum to 1; row {int(bad[0])} sums to "
                f"{rows[bad[0]]:.6g}. Normalise each row (divide by its sum)."
            )
    if s < 1:
        raise ValueError(f"`{name}` needs at least one state; got (0, 0) matrices.")
    return mats


def _check_transition(
    transition: Any, name: str = "transition"
) -> np.ndarray | list[sp.csr_matrix]:
    """Validate a kernel: an ``(S, A, S)`` array, or a list/tuple of ``A`` per-action
    ``(S, S)`` matrices (all dense or all sparse)."""
    if transition is None:
        raise TypeError(
            f"`{name}` is required: an (S, A, S) array or a list of A per-action (S, S) matrices."
        )
    if isinstance(transition, pd.DataFrame | pd.Series):
        raise TypeError(
            f"`{name}` must be an (S, A, S) numpy array or a list of A per-action (S, S) "
            "matrices, not a pandas object (its labels would be ignored)."
        )
    if sp.issparse(transition):
        raise TypeError(
            f"`{name}` is a single sparse matrix; pass a list of A sparse (S, S) matrices, "
            "one per action."
        )
    if isinstance(transition, list | tuple):
        if len(transition) == 0:
            raise ValueError(f"`{name}` is an empty list; pass A >= 1 per-action (S, S) matrices.")
        if sp.issparse(transition[0]):
            return _check_sparse_list(transition, name)
        # a list is read as per-action (S, S) matrices whatever S and A are
        mats = []
        for a, m in enumerate(transition):
            if sp.issparse(m):
                raise TypeError(
                    f"`{name}`[{a}] is sparse while `{name}`[0] is dense; pass all per-action "
                    "matrices in one format."
                )
            try:
                arr = np.asarray(m, dtype=float)
            except (TypeError, ValueError):
                raise TypeError(f"`{name}`[{a}] must be a numeric (S, S) matrix.") from None
            if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
                raise ValueError(
                    f"A list `{name}` is read as A per-action (S, S) matrices, but `{name}`[{a}] "
                    f"has shape {arr.shape}. For an (S, A, S) kernel (state, action, next "
                    "state) pass a numpy array: np.asarray(transition)."
                )
            mats.append(arr)
        if len({m.shape for m in mats}) != 1:
            raise ValueError(f"The per-action matrices of `{name}` must all have the same shape.")
        transition = np.stack(mats, axis=1)
    try:
        raw = np.asarray(transition)
        t = np.asarray(raw, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(
            f"`{name}` must be an (S, A, S) array or a list of A per-action (S, S) matrices."
        ) from None
    tol = _row_tol(raw.dtype)
    if t.ndim != 3 or t.shape[0] != t.shape[2]:
        raise ValueError(
            f"`{name}` must have shape (S, A, S) (state, action, next state); got {t.shape}."
        )
    if t.shape[0] < 1 or t.shape[1] < 1:
        raise ValueError(f"`{name}` needs at least one state and one action; got {t.shape}.")
    if not np.all(np.isfinite(t)) or t.min() < 0:
        raise ValueError(f"`{name}` must hold finite non-negative probabilities.")
    rows = t.sum(axis=2)
    bad = np.argwhere(np.abs(rows - 1.0) > tol)
    if bad.size:
        s, a = bad[0]
        raise ValueError(
            f"`{name}` rows must sum to 1 over next states; transition[{s}, {a}, :] sums to "
            f"{rows[s, a]:.6g}. Normalise with transition / transition.sum(axis=2, keepdims=True)."
        )
    if tol > _ROW_TOL:  # low-precision input: rows exact in float64
        t = t / rows[:, :, None]
    return t


def _row_tol(dtype: np.dtype) -> float:
    """Row-sum tolerance: 1e-8, or a few ulps of a lower-precision input dtype."""
    if dtype.kind == "f" and np.finfo(dtype).eps > np.finfo(float).eps:
        return max(_ROW_TOL, 64 * float(np.finfo(dtype).eps))
    return _ROW_TOL


_DENSE_LIMIT = 20_000_000  # largest (S, A, S) array built for a sparse MDP


def _labelled(x: Any, name: str, n_rows: int, n_cols: int | None = None) -> Any:
    """pandas inputs indexed by state (rows) and action (columns): reordered by label when
    the labels are exactly 0..S-1 (0..A-1), refused otherwise; other inputs unchanged."""
    if not isinstance(x, pd.Series | pd.DataFrame):
        return x
    want_rows = pd.RangeIndex(n_rows)
    if set(x.index) != set(want_rows) or len(x.index) != n_rows:
        raise ValueError(
            f"`{name}` is a pandas object whose index is not the states 0..{n_rows - 1}; "
            "index it by state (and columns by action) or pass a numpy array (positional)."
        )
    x = x.loc[list(want_rows)]
    if isinstance(x, pd.DataFrame):
        if n_cols is None or set(x.columns) != set(range(n_cols)) or x.shape[1] != n_cols:
            raise ValueError(
                f"`{name}` is a DataFrame whose columns are not the actions "
                f"0..{(n_cols or 1) - 1}; label the columns by action or pass a numpy array."
            )
        x = x[list(range(n_cols))]
    return x.to_numpy()


def _as_float(x: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be a numeric array; got {type(x).__name__}.") from None
    return arr


class TabularMDP:
    """A finite MDP without reward: ``(S, A, tau, mu0, gamma)``.

    Parameters
    ----------
    transition : array of shape (S, A, S), or list of A per-action (S, S) matrices
        ``transition[s, a, s']`` is the probability of moving to ``s'``; rows sum to 1.
        Accepted layouts: a numpy array ``(S, A, S)`` (state, action, next state), or a
        list/tuple of ``A`` matrices ``(S, S)``, one per action, all dense (stacked into
        ``(S, A, S)``) or all ``scipy.sparse`` (kept sparse). A list is always read as
        per-action matrices, whatever ``S`` and ``A`` are; a nested list of another shape is
        refused (pass ``np.asarray`` of it for the ``(S, A, S)`` layout).
    initial : array-like of shape (S,), optional
        Initial state distribution; uniform by default. A pandas Series is read by its
        labels, which must be the states ``0..S-1``.
    gamma : float
        Discount factor in (0, 1).

    Notes
    -----
    Rewards are ``(S, A, S)`` arrays ``R(s, a, s')``; ``(S,)`` inputs mean ``R(s)`` (the
    current state) and ``(S, A)`` inputs mean ``R(s, a)``, both broadcast over the missing
    axes. With sparse transitions only ``(S,)`` and ``(S, A)`` rewards are accepted, and
    every function that returns a reward returns its ``(S, A)`` expectation
    ``r(s, a) = E_{s'} R(s, a, s')`` (the same reward up to an S'-redistribution, to which
    the behavioural models and the ``"val"`` / ``"minimal"`` canonicalisations are
    invariant), so that nothing of size ``S * A * S`` is built.

    Examples
    --------
    >>> import numpy as np
    >>> from irl_sensitivity import TabularMDP
    >>> T = np.full((2, 2, 2), 0.5)
    >>> mdp = TabularMDP(T, [1.0, 0.0], 0.9)
    >>> mdp.n_states, mdp.n_actions, mdp.gamma
    (2, 2, 0.9)
    >>> mdp.expected_reward(np.array([1.0, 0.0])).tolist()
    [[1.0, 1.0], [0.0, 0.0]]
    """

    def __init__(self, transition: Any, initial: Any = None, gamma: float = 0.9) -> None:
        t = _check_transition(transition)
        self._sparse = isinstance(t, list)
        self._t: Any = t  # (S, A, S) array or A CSR matrices (``_sparse`` says which)
        self._stacked: sp.csr_matrix | None = None
        if isinstance(t, list):
            self.n_states = t[0].shape[0]
            self.n_actions = len(t)
        else:
            self.n_states, self.n_actions = t.shape[0], t.shape[1]
        self.gamma = _check_gamma(gamma)
        if initial is None:
            mu = np.full(self.n_states, 1.0 / self.n_states)
        else:
            raw = _labelled(initial, "initial", self.n_states)
            mu = _as_float(raw, "initial")
            if mu.shape != (self.n_states,):
                raise ValueError(
                    f"`initial` must be a distribution of shape ({self.n_states},); got {mu.shape}."
                )
            tol = _row_tol(np.asarray(raw).dtype)
            if not np.all(np.isfinite(mu)) or mu.min() < 0 or abs(mu.sum() - 1.0) > tol:
                raise ValueError(
                    "`initial` must be finite, non-negative and sum to 1 (divide by its sum)."
                )
            mu = mu / mu.sum()
        self.initial = mu

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_tabular_env(cls, env: Any, gamma: float = 0.9) -> tuple[TabularMDP, np.ndarray]:
        """Build an MDP and its reward from a seals / imitation style tabular environment.

        The environment is duck-typed: it needs ``transition_matrix`` (S, A, S),
        ``initial_state_dist`` (S,) and ``reward_matrix`` ((S,), (S, A) or (S, A, S)).
        Nothing is imported from those packages.

        Parameters
        ----------
        env : object
            The environment (attributes ``transition_matrix``, ``initial_state_dist``,
            ``reward_matrix``).
        gamma : float, default 0.9
            The discount (the environments carry none).

        Returns
        -------
        mdp : TabularMDP
            The MDP.
        reward : ndarray of shape (S, A, S)
            The environment's reward, broadcast.

        Examples
        --------
        >>> import types, numpy as np
        >>> env = types.SimpleNamespace(transition_matrix=np.full((2, 1, 2), 0.5),
        ...     initial_state_dist=np.array([0.5, 0.5]), reward_matrix=np.array([0.0, 1.0]))
        >>> mdp, r = TabularMDP.from_tabular_env(env, gamma=0.9)
        >>> r.shape
        (2, 1, 2)
        """
        for attr in ("transition_matrix", "initial_state_dist", "reward_matrix"):
            if not hasattr(env, attr):
                raise TypeError(
                    f"`env` has no attribute {attr!r}; it is not a tabular environment."
                )
        mdp = cls(np.asarray(env.transition_matrix), np.asarray(env.initial_state_dist), gamma)
        return mdp, mdp.broadcast_reward(np.asarray(env.reward_matrix))

    def replace(self, *, gamma: float | None = None, transition: Any = None) -> TabularMDP:
        """Copy with another discount and/or transition kernel (``None`` keeps the current).

        Parameters
        ----------
        gamma : float, optional
            The new discount.
        transition : array-like of shape (S, A, S) or list of A (S, S) matrices, optional
            The new kernel.

        Returns
        -------
        TabularMDP
            The copy (validated).
        """
        return TabularMDP(
            self._t if transition is None else transition,
            self.initial,
            self.gamma if gamma is None else gamma,
        )

    # ------------------------------------------------------------------ properties
    @property
    def is_sparse(self) -> bool:
        """Whether the kernel is stored as sparse per-action matrices."""
        return self._sparse

    @property
    def transition(self) -> np.ndarray:
        """The dense ``(S, A, S)`` kernel (densified on request when stored sparse)."""
        if self._sparse:
            return np.stack([m.toarray() for m in self._t], axis=1)
        return self._t

    @property
    def sparse_transition(self) -> list[sp.csr_matrix]:
        """The kernel as ``A`` CSR matrices of shape ``(S, S)``."""
        if self._sparse:
            return self._t
        return [sp.csr_matrix(self._t[:, a, :]) for a in range(self.n_actions)]

    # ------------------------------------------------------------------ operators
    def expect_next(self, v: np.ndarray) -> np.ndarray:
        """``(S, A)`` array ``sum_s' T(s, a, s') v(s')`` for a state function ``v``
        (``(S, A, n)`` for ``n`` state functions given as the columns of an ``(S, n)`` array).

        Parameters
        ----------
        v : numpy.ndarray of shape (S,) or (S, n)
            State function(s) (not validated: a core operator).

        Returns
        -------
        numpy.ndarray of shape (S, A) or (S, A, n)
            The expectations under the kernel.
        """
        if self._sparse:
            # rows ordered (s, a): one sparse product gives the (S, A) result
            return np.asarray(self.stacked_transition() @ v).reshape(
                self.n_states, self.n_actions, *np.shape(v)[1:]
            )
        if np.ndim(v) == 2:
            return np.tensordot(self._t, v, axes=(2, 0))
        return self._t @ v

    def stacked_transition(self) -> sp.csr_matrix:
        """The sparse kernel as one ``(S * A, S)`` CSR matrix with rows ordered ``(s, a)``.

        Returns
        -------
        scipy.sparse.csr_matrix of shape (S * A, S)
            The stacked kernel (cached).
        """
        if self._stacked is None:
            self._stacked = sp.vstack(self.sparse_transition, format="csr")[self._row_order()]
        return self._stacked

    def dense_transition(self, purpose: str) -> np.ndarray:
        """The dense kernel for ``purpose``, refused when a sparse MDP is too large for it.

        Parameters
        ----------
        purpose : str
            What needs the dense kernel (named in the error).

        Returns
        -------
        numpy.ndarray of shape (S, A, S)
            The kernel.
        """
        if self._sparse and self.n_states**2 * self.n_actions > _DENSE_LIMIT:
            raise ValueError(
                f"{purpose} needs the dense (S, A, S) kernel, which for this sparse MDP has "
                f"{self.n_states**2 * self.n_actions:,} entries (limit {_DENSE_LIMIT:,}); use the "
                "'val' or 'minimal' canonicalisation, which work on sparse MDPs of any size."
            )
        return self.transition

    def _row_order(self) -> np.ndarray:
        s, a = self.n_states, self.n_actions
        return (np.arange(a)[None, :] * s + np.arange(s)[:, None]).ravel()

    def state_transition(self, policy: np.ndarray) -> np.ndarray | sp.csr_matrix:
        """The ``(S, S)`` state chain ``P_pi(s, s') = sum_a pi(a|s) T(s, a, s')``.

        Parameters
        ----------
        policy : numpy.ndarray of shape (S, A)
            The policy (not validated: a core operator).

        Returns
        -------
        numpy.ndarray or scipy.sparse.csr_matrix of shape (S, S)
            The chain (sparse on a sparse MDP).
        """
        if self._sparse:
            out = sp.csr_matrix((self.n_states, self.n_states))
            for a, m in enumerate(self._t):
                out = out + sp.diags(policy[:, a]) @ m
            return out.tocsr()
        return np.einsum("sa,sat->st", policy, self._t)

    @fill_doc
    def check_reward(self, reward: Any, name: str = "reward") -> np.ndarray:
        """Validate a reward: (S,), (S, A) or (S, A, S); returned unbroadcast as float array.

        %(reward_named)s

        Returns
        -------
        numpy.ndarray
            The reward as a float array of its own shape.
        """
        s, a = self.n_states, self.n_actions
        if reward is None:
            raise TypeError(
                f"`{name}` is required: an array of shape ({s},), ({s}, {a}) or ({s}, {a}, {s})."
            )
        r = _as_float(_labelled(reward, name, s, a), name)
        if r.shape not in {(s,), (s, a), (s, a, s)}:
            raise ValueError(
                f"`{name}` must have shape ({s},), ({s}, {a}) or ({s}, {a}, {s}) for this MDP; "
                f"got {r.shape}."
            )
        if not np.all(np.isfinite(r)):
            raise ValueError(f"`{name}` contains non-finite values.")
        if r.ndim == 3 and self._sparse:
            raise ValueError(
                f"`{name}` of shape (S, A, S) is not supported with sparse transitions; pass an "
                "(S,) or (S, A) reward."
            )
        return r

    @fill_doc
    def broadcast_reward(self, reward: Any, name: str = "reward") -> np.ndarray:
        """The reward as a dense ``(S, A, S)`` array.

        %(reward_named)s

        Returns
        -------
        numpy.ndarray of shape (S, A, S)
            The broadcast reward.
        """
        r = self.check_reward(reward, name)
        s, a = self.n_states, self.n_actions
        if r.ndim == 1:
            return np.broadcast_to(r[:, None, None], (s, a, s)).copy()
        if r.ndim == 2:
            return np.broadcast_to(r[:, :, None], (s, a, s)).copy()
        return r

    @fill_doc
    def expected_reward(self, reward: Any, name: str = "reward") -> np.ndarray:
        """``(S, A)`` array ``r(s, a) = sum_s' T(s, a, s') R(s, a, s')``.

        %(reward_named)s

        Returns
        -------
        numpy.ndarray of shape (S, A)
            The expected reward.
        """
        r = self.check_reward(reward, name)
        if r.ndim == 1:
            return np.repeat(r[:, None], self.n_actions, axis=1)
        if r.ndim == 2:
            return r.copy()
        return np.einsum("sat,sat->sa", self._t, r)

    def check_policy(
        self, policy: Any, name: str = "policy", *, full_support: bool = False
    ) -> np.ndarray:
        """Validate an ``(S, A)`` stochastic policy (rows sum to 1).

        Parameters
        ----------
        policy : array-like of shape (S, A)
            The policy (a pandas DataFrame is aligned by state and action labels).
        name : str, default "policy"
            Its name in error messages.
        full_support : bool, default False
            Also require every entry to be positive.

        Returns
        -------
        numpy.ndarray of shape (S, A)
            The policy as a float array.
        """
        if policy is None:
            raise TypeError(f"`{name}` is required: an (S, A) array of action probabilities.")
        p = _as_float(_labelled(policy, name, self.n_states, self.n_actions), name)
        if p.shape != (self.n_states, self.n_actions):
            raise ValueError(
                f"`{name}` must have shape (S, A) = ({self.n_states}, {self.n_actions}); "
                f"got {p.shape}."
            )
        if not np.all(np.isfinite(p)) or p.min() < 0:
            raise ValueError(f"`{name}` must hold finite non-negative probabilities.")
        rows = p.sum(axis=1)
        if np.any(np.abs(rows - 1.0) > _row_tol(np.asarray(policy).dtype)):
            s = int(np.argmax(np.abs(rows - 1.0)))
            raise ValueError(f"`{name}` rows must sum to 1; row {s} sums to {rows[s]:.6g}.")
        if full_support and p.min() <= 0:
            s, a = np.argwhere(p <= 0)[0]
            raise ValueError(
                f"`{name}` has a zero probability at (state {s}, action {a}), but this inverse "
                "needs full support (log pi). Smooth the policy (e.g. add a pseudo-count) or use "
                "the optimality inverse."
            )
        return p

    def __repr__(self) -> str:
        kind = "sparse" if self._sparse else "dense"
        return (
            f"TabularMDP(n_states={self.n_states}, n_actions={self.n_actions}, "
            f"gamma={self.gamma:g}, {kind})"
        )


def summary_rows(mdp: TabularMDP) -> list[tuple[str, Any]]:
    """The environment's rows of a results summary header: states, actions, discount."""
    return [("States", mdp.n_states), ("Actions", mdp.n_actions), ("Gamma", mdp.gamma)]


def random_mdp(
    n_states: int,
    n_actions: int,
    gamma: float = 0.9,
    *,
    concentration: float = 1.0,
    rng: RandomStateLike = None,
) -> TabularMDP:
    """A random dense MDP with Dirichlet(``concentration``) transition rows.

    The initial distribution is a Dirichlet(1) draw; the MDP carries no reward (rewards are
    passed to each function).

    Parameters
    ----------
    n_states : int
        Number of states ``S`` (>= 1).
    n_actions : int
        Number of actions ``A`` (>= 1).
    gamma : float, default 0.9
        Discount factor.
    concentration : float, default 1.0
        Dirichlet concentration of each transition row (positive; small values give
        nearly deterministic rows).
    rng : None, int, SeedSequence or Generator
        Seed or generator.

    Returns
    -------
    TabularMDP
        A dense MDP with an ``(S, A, S)`` transition array.

    Examples
    --------
    >>> from irl_sensitivity import random_mdp
    >>> random_mdp(4, 2, rng=0).transition.shape
    (4, 2, 4)
    """
    n_states = check_int(n_states, "n_states", minimum=1)
    n_actions = check_int(n_actions, "n_actions", minimum=1)
    gamma = _check_gamma(gamma)
    conc = float(check_positive(concentration, "concentration"))
    gen = check_random_state(rng, "rng")
    if n_states * n_actions * n_states > np.iinfo(np.intp).max // 8:
        raise ValueError(
            f"`n_states` = {n_states} and `n_actions` = {n_actions} give a dense transition "
            f"array of {n_states} x {n_actions} x {n_states} entries, more than this machine "
            "can address; use fewer states, or build a sparse TabularMDP."
        )
    t = gen.dirichlet(np.full(n_states, conc), size=(n_states, n_actions))
    # Dirichlet draws with tiny concentrations can underflow to all-zero rows: renormalise
    t = np.where(t.sum(axis=2, keepdims=True) > 0, t, 1.0 / n_states)
    t = t / t.sum(axis=2, keepdims=True)
    return TabularMDP(t, gen.dirichlet(np.ones(n_states)), gamma)


def random_reward(
    mdp: TabularMDP, rng: RandomStateLike = None, *, next_state: bool = False
) -> np.ndarray:
    """A standard normal reward for ``mdp``: ``R(s, a)``, or ``R(s, a, s')`` with
    ``next_state=True``.

    The example and test reward of the package (with an integer ``rng`` it equals
    ``numpy.random.default_rng(rng).normal(size=(S, A))``, resp. ``(S, A, S)``).

    Parameters
    ----------
    mdp : TabularMDP
        The environment (only ``n_states`` and ``n_actions`` are used).
    rng : None, int, SeedSequence or Generator
        Seed or generator.
    next_state : bool, default False
        Draw an ``(S, A, S)`` reward (dense MDPs only) instead of an ``(S, A)`` one.

    Returns
    -------
    numpy.ndarray of shape (S, A) or (S, A, S)
        Independent ``N(0, 1)`` entries.

    Raises
    ------
    ValueError
        If ``next_state=True`` on a sparse MDP (its rewards are (S,) or (S, A)).

    Examples
    --------
    >>> from irl_sensitivity import random_mdp, random_reward
    >>> mdp = random_mdp(3, 2, rng=0)
    >>> random_reward(mdp, rng=0).shape, random_reward(mdp, rng=0, next_state=True).shape
    ((3, 2), (3, 2, 3))
    """
    check_mdp(mdp)
    next_state = check_bool(next_state, "next_state")
    s, a = mdp.n_states, mdp.n_actions
    if next_state and mdp.is_sparse:
        raise ValueError(
            "`next_state=True` draws an (S, A, S) reward, which sparse MDPs do not take; "
            "use the default next_state=False (an (S, A) reward)."
        )
    size = (s, a, s) if next_state else (s, a)
    return check_random_state(rng, "rng").normal(size=size)


def example_problem(
    n_states: int = 3,
    n_actions: int = 2,
    *,
    next_state: bool = False,
    reward_rng: RandomStateLike = 0,
) -> tuple[TabularMDP, np.ndarray]:
    """The small random problem of the package's examples: an MDP and a reward.

    ``random_mdp(n_states, n_actions, rng=0)`` (discount 0.9) and
    ``random_reward(mdp, rng=reward_rng, next_state=next_state)``, so an example needs one
    line of set-up and shows only what the function it documents adds.

    Parameters
    ----------
    n_states : int, default 3
        Number of states ``S`` (>= 1).
    n_actions : int, default 2
        Number of actions ``A`` (>= 1).
    next_state : bool, default False
        An ``(S, A, S)`` reward instead of an ``(S, A)`` one.
    reward_rng : None, int, SeedSequence or Generator, default 0
        Seed or generator of the reward (the MDP's seed is always 0).

    Returns
    -------
    mdp : TabularMDP
        The dense random MDP.
    reward : numpy.ndarray of shape (S, A) or (S, A, S)
        A standard normal reward.

    Examples
    --------
    >>> from irl_sensitivity import example_problem
    >>> mdp, R = example_problem(4, 2, next_state=True)
    >>> mdp.n_states, mdp.n_actions, mdp.gamma, R.shape
    (4, 2, 0.9, (4, 2, 4))
    """
    mdp = random_mdp(n_states, n_actions, rng=0)
    return mdp, random_reward(mdp, rng=reward_rng, next_state=next_state)


def perturb_transition(
    mdp: TabularMDP, epsilon: float, *, rng: RandomStateLike = None
) -> np.ndarray:
    """Mixture ``(1 - epsilon) T + epsilon T_rand`` toward random Dirichlet(1) dynamics.

    Parameters
    ----------
    mdp : TabularMDP
        The MDP whose kernel ``T`` is perturbed (unchanged).
    epsilon : float
        Mixture weight in [0, 1].
    rng : None, int, SeedSequence or Generator
        Seed or generator of the random kernel ``T_rand``.

    Returns
    -------
    numpy.ndarray of shape (S, A, S)
        A dense kernel (also for a sparse MDP, whose size is then checked).

    Examples
    --------
    >>> from irl_sensitivity import random_mdp, perturb_transition
    >>> mdp = random_mdp(3, 2, rng=0)
    >>> bool(np.allclose(perturb_transition(mdp, 0.0, rng=1), mdp.transition))
    True
    """
    check_mdp(mdp)
    if (
        isinstance(epsilon, bool | np.bool_)
        or not isinstance(epsilon, numbers.Real)
        or not 0.0 <= float(epsilon) <= 1.0
    ):
        raise ValueError(f"`epsilon` is a mixture weight in [0, 1]; got {epsilon!r}.")
    gen = check_random_state(rng, "rng")
    s, a = mdp.n_states, mdp.n_actions
    t = mdp.dense_transition("perturb_transition")
    noise = gen.dirichlet(np.ones(s), size=(s, a))
    return (1.0 - epsilon) * t + epsilon * noise
