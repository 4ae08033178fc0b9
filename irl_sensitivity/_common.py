"""Shared numpydoc fragments and the small helpers the modules of the package share.

* :func:`fill_doc` -- docstring substitution (``estkit._docstrings.doc_filler``): a line
  holding only ``%(name)s`` is replaced by the fragment ``name`` of :data:`DOCS`, indented
  like the placeholder, so a parameter shared by many public callables is described in one
  place.
* :func:`renamed_arguments`, :func:`deprecated_alias` -- re-exported from
  ``estkit._deprecation`` (old names kept working with a ``FutureWarning``).
* :func:`blas_single_thread` -- the size rule of the MDP searches over
  ``estkit._parallel.blas_single_thread``.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from estkit._deprecation import deprecated_alias, renamed_arguments
from estkit._docstrings import doc_filler
from estkit._parallel import blas_single_thread as _blas_single_thread
from estkit.exceptions import MESSAGE_PARAMETERS

__all__ = ["DOCS", "blas_single_thread", "deprecated_alias", "fill_doc", "renamed_arguments"]

F = TypeVar("F", bound=Callable[..., Any])

DOCS: dict[str, str] = {
    "mdp": """\
mdp : TabularMDP
    The environment; it supplies every parameter a model leaves as None.""",
    "reward": """\
reward : array-like of shape (S,), (S, A) or (S, A, S)
    The true reward ``R``.""",
    "true_model": """\
true_model : BehaviouralModel
    The model ``g`` that generates the observed policy.""",
    "assumed_model": """\
assumed_model : BehaviouralModel
    The model ``f`` assumed by IRL.""",
    "canonicalization": """\
canonicalization : {"val", "minimal", "epic", "dard"}, default "val"
    Canonicalisation of the STARC metric.""",
    "norm": """\
norm : {1, 2, numpy.inf}, default 2
    Norm of the STARC metric.""",
    "scale": """\
scale : float, default 0.5
    Scale of the STARC distance: 0.5 (the paper's convention) gives values in [0, 1],
    1.0 gives [0, 2].""",
    "weights": """\
weights : array-like of shape (S, A, S), optional
    Weights of the norm (and of the ``"minimal"`` canonicalisation).""",
    "distance_in": """\
distance_in : {"true", "mdp"}, default "true"
    Environment of the STARC metric: the true model's (``true_model.environment(mdp)``,
    the paper's ``d^STARC_{tau, gamma}`` of the demonstrator's environment) or ``mdp``
    itself. They differ only when the true model overrides ``gamma`` or ``transition``.""",
    "env": """\
mdp : TabularMDP
    The environment.""",
    "env_any": """\
mdp : TabularMDP
    The environment (dense or sparse).""",
    "env_inverse": """\
mdp : TabularMDP
    The environment (its ``gamma`` and transition kernel are used).""",
    "any_reward": """\
reward : array-like of shape (S,), (S, A) or (S, A, S)
    The reward.""",
    "reward_r": """\
reward : array-like of shape (S,), (S, A) or (S, A, S)
    The reward ``R``.""",
    "reward_out": "numpy.ndarray of shape (S, A, S) (or (S, A) on a sparse MDP)",
    "full_support_policy": """\
policy : array-like of shape (S, A)
    A stochastic policy with full support (every entry positive).""",
    "optimal_returns": """\
Returns
-------
v : ndarray of shape (S,)
    The optimal state values ``V*``.
q : ndarray of shape (S, A)
    The optimal action values ``Q*``.""",
    "scale_short": """\
scale : float
    Scale of the STARC distance.""",
    "image_reward": """\
reward : array-like of shape (S,), (S, A) or (S, A, S), optional
    A single reward to check; None draws ``n_rewards`` standard normal ``(S, A)``
    rewards.
n_rewards : int, default 20
    Number of random rewards (used only without ``reward``).
rng : None, int, SeedSequence or Generator
    Seed or generator of the random rewards.""",
    "image_returns": """\
bool
    True when the assumed model's image contains the true model's policy for every
    reward checked.""",
    "worst_starts": """\
n_starts : int, default 6
    Random starts of the search (not used by the closed form).
rng : None, int, SeedSequence or Generator
    Seed or generator of the search's starts.""",
    "max_options": """\
kind : {"worst_case", "representative"}, default "worst_case"
    Which error to maximise over rewards.""",
    "max_iter_options": """\
n_starts : int, default 4
    Starts of each of the four kinds.
maxiter : int, default 30
    L-BFGS-B iterations per start.
return_reward : bool, default False
    Also return the maximising reward.""",
    "max_returns": """\
float or (float, numpy.ndarray of shape (S, A))
    The largest error found; with ``return_reward=True`` also the reward attaining it.""",
    "max_raises": """\
ImageError
    If the true model's policy is outside the assumed model's image at every start.""",
    "lower_returns": """\
float
    The closed-form supremum, in ``[0, 2 * scale]``.""",
    "rep_returns": """\
float
    ``d(R, Rh)`` with ``Rh`` the assumed model's closed-form representative inverse of
    ``true_model.policy(mdp, reward)``.""",
    "starc_policy": """\
policy : array-like of shape (S, A), optional
    Policy of the ``"val"`` canonicalisation (uniform by default).""",
    "summary_returns": """\
Returns
-------
statsmodels.iolib.summary.Summary
    The summary of ``results_``.""",
    "image_error": """\
Raises
------
ImageError
    If the true model's policy is outside the image of the assumed model.""",
    "model_env": """\
gamma : float, optional, keyword-only
    The model's discount; None uses the MDP's.
transition : array-like of shape (S, A, S) or list of A (S, S) matrices, optional
    The model's transition kernel (keyword-only); None uses the MDP's.""",
    "temperature": """\
temperature : float, default 1.0
    Temperature of the soft (maximal causal entropy) backup (finite, > 0). Named
    ``temperature`` everywhere (``alpha`` is kept for significance levels).""",
    "policy_sa": """\
policy : array-like of shape (S, A)
    A stochastic policy (rows sum to one).""",
    "estimator_common": """\
smoothing : float, default 1.0
    Pseudo-count added to every (state, action) visit count.
n_bootstrap : int, default 0
    Bootstrap resamples of trajectories for the distance interval (needs ``reference``).
alpha : float, default 0.05
    Significance level of the interval.
scale : float, default 0.5
    STARC scale (0.5: distances in [0, 1]).
random_state : None, int or Generator
    Seed or generator of the bootstrap.
n_jobs : int, optional
    joblib workers of the bootstrap (None: serial).
n_boot : int, optional
    Deprecated alias of ``n_bootstrap`` (a ``FutureWarning`` at fit).""",
    "estimator_attributes": """\
policy_ : ndarray (S, A)
    Smoothed empirical policy.
distance_ : float
    STARC distance to ``reference`` (None without one).
distance_interval_ : tuple of float or None
    Bootstrap percentile interval of the distance (None without ``reference`` or with
    ``n_bootstrap=0``).
results_ : IRLResults
    The results object (the attributes above are views of it).""",
}


DOCS["transformed_returns"] = "\n".join(
    ["Returns", "-------", DOCS["reward_out"], "    The transformed reward."]
)
DOCS["problem"] = "\n".join(DOCS[k] for k in ("mdp", "reward", "true_model", "assumed_model"))
DOCS["models"] = "\n".join(DOCS[k] for k in ("mdp", "true_model", "assumed_model"))
DOCS["metric_options"] = "\n".join(
    DOCS[k] for k in ("canonicalization", "norm", "scale", "weights")
)


DOCS["model_mdp"] = """\
mdp : TabularMDP
    The environment; the model's own ``gamma`` / ``transition`` replace the MDP's."""
DOCS["model_policy"] = (
    "Parameters\n----------\n"
    + DOCS["model_mdp"]
    + """
reward : array-like of shape (S,), (S, A) or (S, A, S)
    The reward.

Returns
-------
numpy.ndarray of shape (S, A)
    The policy ``f(R)``."""
)
DOCS["model_representative"] = (
    "Parameters\n----------\n"
    + DOCS["model_mdp"]
    + """
policy : array-like of shape (S, A)
    A policy in the model's image.

Returns
-------
"""
    + DOCS["reward_out"]
    + """
    The closed-form representative reward."""
)
DOCS["model_in_image"] = (
    "Parameters\n----------\n"
    + DOCS["model_mdp"]
    + """
policy : array-like of shape (S, A)
    The policy.
tol : float, default 1e-10, keyword-only
    Support tolerance (used by the optimal model).

Returns
-------
bool
    Whether the policy is in the model's image."""
)
DOCS["plot"] = """\
Parameters
----------
ax : matplotlib.axes.Axes, optional
    Axes to draw on; None uses the current figure's (a new one if there is none).

Returns
-------
matplotlib.axes.Axes
    The axes drawn on."""


DOCS["reward_named"] = "\n".join(
    [
        "Parameters",
        "----------",
        DOCS["any_reward"],
        'name : str, default "reward"',
        "    Its name in error messages.",
    ]
)

DOCS["message_parameters"] = MESSAGE_PARAMETERS


#: Replace each docstring line that holds only ``%(name)s`` by the fragment ``DOCS[name]``.
fill_doc = doc_filler(DOCS)


def blas_single_thread(n_states: int, n_actions: int) -> AbstractContextManager[Any]:
    """One-thread BLAS for the small dense algebra of the searches, up to 5000 state-action
    pairs (:func:`estkit._parallel.blas_single_thread`).

    Parameters
    ----------
    n_states, n_actions : int
        Size of the MDP.

    Returns
    -------
    context manager
        The shared one-thread BLAS limit, or a null context above 5000 pairs.
    """
    return _blas_single_thread(n_states * n_actions, threshold=5000)
