"""Results object of :class:`~causalminimax.CausalMinimaxRegressor`."""

from __future__ import annotations

import re
from collections.abc import Hashable
from typing import Any

import pandas as pd

from causalminimax._graph import StableComponents
from estkit import ResultsBase, SummaryParts

__all__ = ["CausalMinimaxResults"]


def _natural(v: Any) -> list:
    """Sort key putting X2 before X10."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(v))]


def _fmt(s: Any) -> str:
    s = sorted(s, key=_natural)
    return "{" + ", ".join(map(str, s)) + "}" if s else "{}"


def _describe(im: Any) -> str:
    """One line on the intervention class and its search."""
    if im.basis == "mlp":
        txt = f"mlp ({im.n_components} tanh), penalty {im.penalty:g}, {im.n_steps} Adam steps"
    else:
        txt = f"{im.basis}, bound {im.bound:g}, {im.n_restarts} restarts"
    if getattr(im, "clips", False):
        txt += ", in support"
    if im.standardize:
        txt += ", standardised"
    return txt


class CausalMinimaxResults(ResultsBase):
    """Immutable summary of a causal minimax fit.

    Parameters
    ----------
    components : StableComponents
        Graph components (see :func:`~causalminimax.stable_components`).
    worst_case_risk : pandas.Series
        Estimated worst-case risk of each representative subset.
    selected_subset : tuple
        The chosen stable subset.
    whole_stable_set_optimal : bool
        The graphical condition ``K ∩ Ch(Y) = ∅``.
    n_obs, n_environments : int
        Training observations and environments.
    intervention_model : InterventionModel or None
        The intervention class searched.
    fit_time : float
        Seconds spent in ``fit``.

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.Series([1.0, 0.5], index=pd.Index([(), ("X1",)], tupleize_cols=False))
    >>> from causalminimax import stable_components
    >>> comp = stable_components([("Y", "X1"), ("Y", "M")], "Y", mutable=["M"])
    >>> res = CausalMinimaxResults(comp, r, ("X1",), True, 100, 2, None, 0.1)
    >>> float(res.table.iloc[0]["worst-case risk"])
    0.5
    """

    def __init__(
        self,
        components: StableComponents,
        worst_case_risk: pd.Series,
        selected_subset: tuple[Hashable, ...],
        whole_stable_set_optimal: bool,
        n_obs: int | None,
        n_environments: int,
        intervention_model: Any,
        fit_time: float,
    ) -> None:
        self.components = components
        self.worst_case_risk = worst_case_risk.copy()
        self.selected_subset = tuple(selected_subset)
        self.whole_stable_set_optimal = bool(whole_stable_set_optimal)
        self.n_obs = n_obs
        self.n_environments = int(n_environments)
        self.intervention_model = intervention_model
        self.fit_time = float(fit_time)
        self._freeze()

    @property
    def table(self) -> pd.DataFrame:
        """Representatives sorted by estimated worst-case risk, with rank and choice flag."""
        r = self.worst_case_risk.sort_values(kind="mergesort")
        return pd.DataFrame(
            {
                "size": [len(s) for s in r.index],
                "worst-case risk": r.to_numpy(),
                "selected": [tuple(s) == self.selected_subset for s in r.index],
            },
            index=pd.Index([_fmt(s) for s in r.index], name="subset"),
        )

    def _summary_parts(self) -> SummaryParts:
        c = self.components
        im = self.intervention_model
        im_txt = "-" if im is None else _describe(im)
        header = [
            ("Target", c.target),
            ("Mutable M", _fmt(c.mutable)),
            ("Stable S", _fmt(c.stable)),
            ("Ch(Y)", _fmt(c.children)),
            ("Mutable children M0", _fmt(c.mutable_children)),
            ("K = De(M0)\\M0", _fmt(c.K)),
            ("Regenerated De(M)\\M", _fmt(c.regenerated)),
            ("K ∩ Ch(Y) = ∅", self.whole_stable_set_optimal),
            ("No. observations", self.n_obs),
            ("No. environments", self.n_environments),
            ("Representatives", len(self.worst_case_risk)),
            ("Interventions", im_txt),
            ("Selected subset", _fmt(self.selected_subset)),
            ("Fit time (s)", round(self.fit_time, 2)),
        ]
        tab = self.table
        if len(tab) > 20:
            tab = tab.iloc[:20]
        notes = []
        if self.whole_stable_set_optimal:
            notes.append(
                "Graphical condition K ∩ Ch(Y) = ∅ holds: the whole stable set is optimal; "
                "no subset search was needed."
            )
        else:
            notes.append(
                "Graphical condition fails: the subset with the smallest estimated worst-case "
                "risk was selected among one representative per equivalence class."
            )
        if len(self.worst_case_risk) > 20:
            notes.append(f"Showing the 20 best of {len(self.worst_case_risk)} representatives.")
        return SummaryParts(
            title="Causal minimax stable-subset selection",
            header=header,
            tables=[("Estimated worst-case risk by representative subset", tab)],
            notes=notes,
        )
