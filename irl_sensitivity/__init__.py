"""irl_sensitivity: sensitivity of inverse reinforcement learning to misspecification.

Computable versions of the notions in Skalse & Abate (2024), "Quantifying the Sensitivity
of Inverse Reinforcement Learning to Misspecification", with their foundations: STARC
metrics (Skalse et al., 2023), invariances of reward learning (Skalse et al., 2022) and
misspecification robustness (Skalse & Abate, 2023).
"""

from __future__ import annotations

from irl_sensitivity._canonical import (
    DEFAULT_SCALE,
    StarcMetric,
    canonicalize,
    normalized_regret,
    standardize,
    starc_distance,
)
from irl_sensitivity._feature_irl import FeatureIRLResults, FeatureMCEIRL
from irl_sensitivity._inverse import (
    InverseSet,
    ambiguity_basis,
    boltzmann_inverse,
    mce_inverse,
    optimality_inverse,
)
from irl_sensitivity._irl import (
    BoltzmannIRL,
    IRLResults,
    MaxCausalEntropyIRL,
    TabularIRL,
    sample_trajectories,
)
from irl_sensitivity._mdp import (
    TabularMDP,
    example_problem,
    perturb_transition,
    random_mdp,
    random_reward,
)
from irl_sensitivity._misspec import (
    ImageError,
    Misspecification,
    image_condition,
    max_error,
    representative_error,
    worst_case_error,
    worst_case_lower_bound,
)
from irl_sensitivity._models import BehaviouralModel, BoltzmannModel, MCEModel, OptimalModel
from irl_sensitivity._occupancy import OccupancyMeasure, occupancy_measure
from irl_sensitivity._planning import (
    optimal_values,
    policy_evaluation,
    soft_value_iteration,
    soft_value_iteration_fh,
    value_iteration,
)
from irl_sensitivity._policies import boltzmann_policy, mce_policy, optimal_policy
from irl_sensitivity._sweep import (
    ProbeResults,
    SweepResults,
    misspecification_sweep,
    separation_probe,
)
from irl_sensitivity._transforms import (
    optimality_preserving,
    positive_scaling,
    potential_shaping,
    random_potential,
    s_redistribution,
)

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_SCALE",
    "BehaviouralModel",
    "BoltzmannIRL",
    "BoltzmannModel",
    "FeatureIRLResults",
    "FeatureMCEIRL",
    "IRLResults",
    "ImageError",
    "InverseSet",
    "MCEModel",
    "MaxCausalEntropyIRL",
    "Misspecification",
    "OccupancyMeasure",
    "OptimalModel",
    "ProbeResults",
    "StarcMetric",
    "SweepResults",
    "TabularIRL",
    "TabularMDP",
    "ambiguity_basis",
    "boltzmann_inverse",
    "boltzmann_policy",
    "canonicalize",
    "example_problem",
    "image_condition",
    "max_error",
    "mce_inverse",
    "mce_policy",
    "misspecification_sweep",
    "normalized_regret",
    "occupancy_measure",
    "optimal_policy",
    "optimal_values",
    "optimality_inverse",
    "optimality_preserving",
    "perturb_transition",
    "policy_evaluation",
    "positive_scaling",
    "potential_shaping",
    "random_mdp",
    "random_potential",
    "random_reward",
    "representative_error",
    "s_redistribution",
    "sample_trajectories",
    "separation_probe",
    "soft_value_iteration",
    "soft_value_iteration_fh",
    "standardize",
    "starc_distance",
    "value_iteration",
    "worst_case_error",
    "worst_case_lower_bound",
]
