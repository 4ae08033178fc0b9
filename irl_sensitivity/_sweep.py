"""Parameter sweeps of misspecification and the epsilon/delta-separation probe."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

from estkit import check_1d, check_option, check_random_state
from estkit._plotting import get_axes
from estkit._random import RandomStateLike
from estkit._validation import holds_bool
from estkit.results import ResultsBase, SummaryParts
from irl_sensitivity._canonical import DEFAULT_SCALE, Canonicalization, StarcMetric
from irl_sensitivity._common import fill_doc
from irl_sensitivity._mdp import TabularMDP, check_mdp
from irl_sensitivity._misspec import (
    DistanceIn,
    ImageError,
    Misspecification,
    _check_models,
    _metric,
)
from irl_sensitivity._models import BehaviouralModel

__all__ = ["ProbeResults", "SweepResults", "misspecification_sweep", "separation_probe"]

_PARAMS = ("gamma", "beta", "temperature", "transition")


def _max_or_na(col: pd.Series) -> float | str:
    """Largest non-NaN value, or "n/a" when every grid point is outside the image."""
    vals = col.to_numpy(dtype=float)
    vals = vals[~np.isnan(vals)]
    return float(vals.max()) if vals.size else "n/a (no point in the image)"


def _two_curves(
    ax: Any,
    x: Any,
    first: tuple[Any, str],
    second: tuple[Any, str],
    *,
    xlabel: str,
    ylabel: str,
    logx: bool = False,
) -> Any:
    """Draw two ``(values, label)`` curves against ``x`` (circles in C3, squares in C0)."""
    ax = get_axes(ax)
    draw = ax.semilogx if logx else ax.plot
    for (y, label), marker, color in zip((first, second), ("o-", "s-"), ("C3", "C0"), strict=True):
        draw(x, y, marker, color=color, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(frameon=False)
    return ax


def _check_values(values: Any, name: str = "values") -> np.ndarray:
    """A non-empty 1-D grid of finite numbers (:func:`estkit.check_1d`; a number is a grid
    of one point)."""
    if values is None or isinstance(values, str | bytes) or holds_bool(values):
        raise TypeError(f"`{name}` must be a non-empty sequence of numbers; got {values!r}.")
    if np.isscalar(values) or getattr(values, "ndim", None) == 0:
        values = np.atleast_1d(values)
    return check_1d(values, name)


@fill_doc
@dataclass(eq=False, repr=False)
class SweepResults(ResultsBase):
    """Errors of an assumed model along a grid of one misspecified parameter.

    Returned by :func:`misspecification_sweep`; the constructor arguments are stored as
    read-only attributes of the same names. ``summary()`` tabulates the errors and
    ``plot()`` draws them.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns ``value``, ``representative_error``, ``worst_case_error``, ``in_image``
        (errors are NaN where the observed policy is outside the assumed model's image).
    param : str
        The swept parameter.
    true_model, assumed_model : BehaviouralModel
        The models compared (``assumed_model`` before its parameter is swept).
    %(env)s
    %(scale_short)s

    Examples
    --------
    >>> from irl_sensitivity import example_problem, BoltzmannModel, misspecification_sweep
    >>> mdp, R = example_problem()
    >>> res = misspecification_sweep(mdp, R, BoltzmannModel(), BoltzmannModel(), "gamma", [0.9])
    >>> res.param, list(res.frame.columns)
    ('gamma', ['value', 'representative_error', 'worst_case_error', 'in_image'])
    """

    frame: pd.DataFrame
    param: str
    true_model: BehaviouralModel
    assumed_model: BehaviouralModel
    mdp: TabularMDP
    scale: float

    def __post_init__(self) -> None:
        self._freeze()

    def _summary_parts(self) -> SummaryParts:
        tab = self.frame.set_index("value")[["representative_error", "worst_case_error"]]
        tab.index = [f"{v:g}" for v in tab.index]
        label = (
            "mixture weight toward random dynamics" if self.param == "transition" else self.param
        )
        return SummaryParts(
            title="Misspecification sweep",
            header=[
                ("True model", self.true_model.describe()),
                ("Assumed model", self.assumed_model.describe()),
                ("Swept parameter", label),
                ("Grid points", len(self.frame)),
                ("States", self.mdp.n_states),
                ("Actions", self.mdp.n_actions),
                ("STARC scale", self.scale),
                ("Max worst case", _max_or_na(self.frame["worst_case_error"])),
            ],
            tables=[("STARC error of the inferred reward", tab)],
            notes=[
                "representative: d(R, closed-form inverse); worst case: sup over every reward "
                "the assumed model maps to the observed policy (Skalse & Abate, 2024).",
                "NaN marks grid points where the observed policy is outside the assumed "
                "model's image.",
            ],
        )

    @fill_doc
    def plot(self, ax: Any = None) -> Any:
        """Representative and worst-case error against the swept value; returns the Axes.

        %(plot)s
        """
        f = self.frame
        ax = _two_curves(
            ax,
            f["value"],
            (f["worst_case_error"], "worst case"),
            (f["representative_error"], "representative"),
            xlabel=(
                "mixture weight toward random dynamics"
                if self.param == "transition"
                else f"assumed {self.param}"
            ),
            ylabel="STARC distance to the true reward",
        )
        ax.set_ylim(-0.02, 2.05 * self.scale)
        return ax


@fill_doc
def misspecification_sweep(
    mdp: TabularMDP,
    reward: Any,
    true_model: BehaviouralModel,
    assumed_model: BehaviouralModel,
    param: str,
    values: Any,
    *,
    canonicalization: Canonicalization = "val",
    scale: float = DEFAULT_SCALE,
    rng: RandomStateLike = None,
    distance_in: DistanceIn = "true",
) -> SweepResults:
    """Representative and worst-case errors as one parameter of the assumed model varies.

    Parameters
    ----------
    %(mdp)s
    %(reward)s
    %(true_model)s
    assumed_model : BehaviouralModel
        The model assumed by IRL; ``param`` must be one of its parameters.
    param : {"gamma", "beta", "temperature", "transition"}
        For ``"transition"`` the values are mixture weights ``epsilon`` and the assumed
        model plans in ``(1 - epsilon) T + epsilon T_rand`` (one random kernel for the grid).
    values : sequence of float
        The grid of parameter values (mixture weights in [0, 1] for ``"transition"``).
    %(canonicalization)s
    %(scale)s
    rng : None, int or Generator
        Draws the random dynamics of ``"transition"`` (and the starts of searches).
    %(distance_in)s

    Returns
    -------
    SweepResults
        One row per value: the representative and worst-case errors (NaN, with
        ``in_image=False``, where the observed policy is outside the assumed model's image).

    Examples
    --------
    >>> from irl_sensitivity import example_problem, BoltzmannModel, misspecification_sweep
    >>> mdp, R = example_problem()
    >>> res = misspecification_sweep(mdp, R, BoltzmannModel(), BoltzmannModel(), "beta", [0.5, 2.0])
    >>> bool(res.frame["worst_case_error"].max() < 1e-7)
    True
    """
    check_mdp(mdp)
    _check_models(true_model, assumed_model)
    if param == "alpha":
        warnings.warn(
            "param='alpha' is renamed 'temperature' (MCEModel's temperature); the old name "
            "will stop working in a future version.",
            FutureWarning,
            stacklevel=2,
        )
        param = "temperature"
    param = check_option(param, "param", _PARAMS)
    known = {f.name for f in fields(assumed_model)}
    if param not in known:
        raise ValueError(
            f"`param`={param!r} is not a parameter of the assumed model "
            f"{type(assumed_model).__name__} (its parameters: {sorted(known)})."
        )
    vals = _check_values(values)
    reward = mdp.check_reward(reward)
    metric = _metric(mdp, true_model, distance_in, canonicalization, 2, scale)
    gen = check_random_state(rng, "rng")
    noise = None
    if param == "transition":
        s, a = mdp.n_states, mdp.n_actions
        base = assumed_model.environment(mdp).dense_transition("A transition sweep")
        noise = gen.dirichlet(np.ones(s), size=(s, a))
    rows = []
    for v in vals:
        if param == "transition":
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"transition mixture weights must be in [0, 1]; got {v}.")
            model = assumed_model.with_params(transition=(1.0 - v) * base + v * noise)
        else:
            model = assumed_model.with_params(**{param: float(v)})
        problem = Misspecification(mdp, true_model, model, metric)
        try:
            rep = problem.representative(reward)
            wc = problem.worst_case(reward, rng=gen)
            ok = True
        except ImageError:
            rep = wc = np.nan
            ok = False
        rows.append(
            {"value": float(v), "representative_error": rep, "worst_case_error": wc, "in_image": ok}
        )
    return SweepResults(pd.DataFrame(rows), param, true_model, assumed_model, mdp, scale)


@fill_doc
@dataclass(eq=False, repr=False)
class ProbeResults(ResultsBase):
    """Policy and reward distances of the pairs ``(lambda R, -lambda R)``.

    A model is epsilon/delta-separating only if small policy distance implies small reward
    distance; here the policy distance vanishes with ``lambda`` while the reward distance
    distance stays at its maximum.

    Returned by :func:`separation_probe`; the constructor arguments are stored as read-only
    attributes of the same names.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns ``lambda``, ``policy_distance`` (max over states of the total variation
        distance) and ``reward_distance`` (STARC).
    model : BehaviouralModel
        The model probed.
    %(scale_short)s

    Examples
    --------
    >>> from irl_sensitivity import example_problem, BoltzmannModel, separation_probe
    >>> mdp, R = example_problem()
    >>> res = separation_probe(mdp, R, BoltzmannModel(), [1e-6])
    >>> bool(res.frame["policy_distance"].iloc[0] < 1e-5), res.model.name
    (True, 'Boltzmann')
    """

    frame: pd.DataFrame
    model: BehaviouralModel
    scale: float

    def __post_init__(self) -> None:
        self._freeze()

    def _summary_parts(self) -> SummaryParts:
        tab = self.frame.set_index("lambda")
        tab.index = [f"{v:g}" for v in tab.index]
        return SummaryParts(
            title="Perturbation probe (epsilon/delta-separation)",
            header=[
                ("Model", self.model.describe()),
                ("Pairs", len(self.frame)),
                ("STARC scale", self.scale),
                ("Min policy distance", float(self.frame["policy_distance"].min())),
            ],
            tables=[("lambda R versus -lambda R", tab)],
            notes=["policy distance: max over states of the total variation distance."],
        )

    @fill_doc
    def plot(self, ax: Any = None) -> Any:
        """Both distances against lambda (log x axis); returns the Axes.

        %(plot)s
        """
        f = self.frame
        return _two_curves(
            ax,
            f["lambda"],
            (f["reward_distance"], "STARC distance"),
            (f["policy_distance"], "policy distance"),
            xlabel="lambda",
            ylabel="distance",
            logx=True,
        )


@fill_doc
def separation_probe(
    mdp: TabularMDP,
    reward: Any,
    model: BehaviouralModel,
    lambdas: Any = None,
    *,
    canonicalization: Canonicalization = "val",
    scale: float = DEFAULT_SCALE,
) -> ProbeResults:
    """Compare ``model(lambda R)`` with ``model(-lambda R)`` as ``lambda -> 0`` (STARC
    distances with the L2 norm).

    Parameters
    ----------
    %(env)s
    %(reward_r)s
    model : BehaviouralModel
        The behavioural model probed.
    lambdas : sequence of float, optional
        Positive scalings; None uses ``numpy.logspace(0, -6, 7)``.
    %(canonicalization)s
    %(scale)s

    Returns
    -------
    ProbeResults
        Policy and reward distances per ``lambda``.

    Examples
    --------
    >>> from irl_sensitivity import example_problem, BoltzmannModel, separation_probe
    >>> mdp, R = example_problem()
    >>> res = separation_probe(mdp, R, BoltzmannModel(), [1.0, 1e-6])
    >>> res.frame["reward_distance"].round(10).tolist()
    [1.0, 1.0]
    """
    check_mdp(mdp)
    if not isinstance(model, BehaviouralModel):
        raise TypeError(
            f"`model` must be a BoltzmannModel, MCEModel or OptimalModel; got "
            f"{type(model).__name__}."
        )
    lam = np.logspace(0, -6, 7) if lambdas is None else _check_values(lambdas, "lambdas")
    if np.any(lam <= 0):
        raise ValueError("`lambdas` must be > 0 (scalings of the reward).")
    metric = StarcMetric(mdp, canonicalization, 2, scale=scale)
    r = mdp.check_reward(reward)
    rows = []
    for x in lam:
        p1, p2 = model.policy(mdp, x * r), model.policy(mdp, -x * r)
        rows.append(
            {
                "lambda": float(x),
                "policy_distance": float(0.5 * np.abs(p1 - p2).sum(axis=1).max()),
                "reward_distance": metric.distance(x * r, -x * r),
            }
        )
    return ProbeResults(pd.DataFrame(rows), model, scale)
