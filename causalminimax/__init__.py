"""causalminimax: causal minimax stable-subset learning (Liu et al., ICML 2023).

Which stable information should a predictor transfer to unseen environments? Given a causal
graph with mutable mechanisms, :class:`CausalMinimaxRegressor` estimates the worst-case risk
of the stable predictors of one representative per equivalence class of stable subsets and
selects the minimiser.
"""

from __future__ import annotations

from causalminimax._estimator import CausalMinimaxRegressor, default_estimator
from causalminimax._graph import StableComponents
from causalminimax._results import CausalMinimaxResults
from causalminimax._risk import InterventionModel
from causalminimax.discovery import DiscoveryResult, discover_graph
from causalminimax.graph import equivalence_classes, representatives, stable_components

__version__ = "0.1.0"

__all__ = [
    "CausalMinimaxRegressor",
    "CausalMinimaxResults",
    "DiscoveryResult",
    "InterventionModel",
    "StableComponents",
    "default_estimator",
    "discover_graph",
    "equivalence_classes",
    "representatives",
    "stable_components",
]
