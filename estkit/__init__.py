"""estkit: the shared inference core of r3d, causalminimax and irl_sensitivity.

Kernels with exact moment constants, a batched one-sided local polynomial engine,
plug-in bandwidth selectors, multiplier / pairs / cluster bootstrap engines with uniform
bands and p-values, random-state handling, validation helpers, results objects with
statsmodels-style summaries, and lazy plotting helpers. It imports nothing from the
method packages.
"""

from __future__ import annotations

from estkit._bandwidth import (
    BandwidthSelection,
    KernelConstants,
    SelectorRules,
    density_at_cutoff,
    kernel_constants,
    rule_of_thumb_bandwidth,
    select_bandwidth,
)
from estkit._bootstrap import (
    MultiplierKind,
    bootstrap_indices,
    bootstrap_pvalue,
    draw_multipliers,
    multiplier_process,
    order_statistic_critical_value,
    pairs_bootstrap,
    percentile_interval,
    studentized_interval,
    sup_statistics,
    uniform_band,
)
from estkit._density import DensityTestResults, density_test
from estkit._inference import BootstrapInference, BootstrapRules, ConfidenceBand
from estkit._kernels import Kernel, KernelName, get_kernel, kernel_names
from estkit._locpoly import LocpolyFit, locpoly_boundary, polynomial_basis
from estkit._monotone import is_nondecreasing, isotonic_regression, rearrange
from estkit._parallel import parallel_map
from estkit._random import RandomStateLike, check_random_state, spawn
from estkit._rd import ScalarRDResults, local_polynomial_rd
from estkit._validation import (
    align_by_label,
    check_1d,
    check_2d,
    check_alpha,
    check_bool,
    check_consistent_length,
    check_finite,
    check_int,
    check_option,
    check_positive,
    negligible_variation,
)
from estkit.exceptions import (
    DegenerateDataWarning,
    EstimationError,
    EstkitWarning,
    NotFittedError,
)
from estkit.results import ResultsBase, SummaryParts, TestResult, make_summary

__version__ = "0.1.0"

__all__ = [
    "BandwidthSelection",
    "BootstrapInference",
    "BootstrapRules",
    "ConfidenceBand",
    "DegenerateDataWarning",
    "DensityTestResults",
    "EstimationError",
    "EstkitWarning",
    "Kernel",
    "KernelConstants",
    "KernelName",
    "LocpolyFit",
    "MultiplierKind",
    "NotFittedError",
    "RandomStateLike",
    "ResultsBase",
    "ScalarRDResults",
    "SelectorRules",
    "SummaryParts",
    "TestResult",
    "align_by_label",
    "bootstrap_indices",
    "bootstrap_pvalue",
    "check_1d",
    "check_2d",
    "check_alpha",
    "check_bool",
    "check_consistent_length",
    "check_finite",
    "check_int",
    "check_option",
    "check_positive",
    "check_random_state",
    "density_at_cutoff",
    "density_test",
    "draw_multipliers",
    "get_kernel",
    "is_nondecreasing",
    "isotonic_regression",
    "kernel_constants",
    "kernel_names",
    "local_polynomial_rd",
    "locpoly_boundary",
    "make_summary",
    "multiplier_process",
    "negligible_variation",
    "order_statistic_critical_value",
    "pairs_bootstrap",
    "parallel_map",
    "percentile_interval",
    "polynomial_basis",
    "rearrange",
    "rule_of_thumb_bandwidth",
    "select_bandwidth",
    "spawn",
    "studentized_interval",
    "sup_statistics",
    "uniform_band",
]
