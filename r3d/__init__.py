"""r3d: regression discontinuity with distribution-valued outcomes (Van Dijcke 2025).

Each unit has a running variable and a whole distribution of outcomes; the estimand is
the local average quantile treatment effect at the cutoff.
"""

from __future__ import annotations

from r3d import simulate
from r3d._dask import quantiles_from_dask
from r3d._data import Distributions, QuantileFunctions
from r3d._estimator import R3D, SingleDrawWarning
from r3d._results import R3DResults
from r3d._rules import PAPER, R3D_28744DB, R3DRules
from r3d.monte_carlo import monte_carlo  # the function: r3d.monte_carlo(...)

__version__ = "0.1.0"

__all__ = [
    "PAPER",
    "R3D",
    "R3D_28744DB",
    "Distributions",
    "QuantileFunctions",
    "R3DResults",
    "R3DRules",
    "SingleDrawWarning",
    "monte_carlo",
    "quantiles_from_dask",
    "simulate",
]

# companion analyses and the scalar RD plot (issue 13)
from r3d._companion import (
    BandwidthSensitivity,
    balance_table,
    bandwidth_sensitivity,
    donut,
    placebo_cutoffs,
)
from r3d._rdplot import rdplot, rdplot_bins

__all__ += [
    "BandwidthSensitivity",
    "balance_table",
    "bandwidth_sensitivity",
    "donut",
    "placebo_cutoffs",
    "rdplot",
    "rdplot_bins",
]
