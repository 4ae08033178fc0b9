"""Datasets shipped with r3d.

* :func:`load_gubernatorial`: US gubernatorial elections 2002-2015 and the state's income
  quantile function at the end of the term (public-data rebuild of the application in
  Van Dijcke 2025).
"""

from __future__ import annotations

from r3d.datasets._brackets import bracket_cdf, bracket_quantiles, pareto_alpha
from r3d.datasets._gubernatorial import (
    CPI_U_ANNUAL,
    FAMILY_INCOME_QUANTILES,
    POVERTY_RATIO_QUANTILES,
    GubernatorialOutcome,
    load_gubernatorial,
)

__all__ = [
    "CPI_U_ANNUAL",
    "FAMILY_INCOME_QUANTILES",
    "POVERTY_RATIO_QUANTILES",
    "GubernatorialOutcome",
    "bracket_cdf",
    "bracket_quantiles",
    "load_gubernatorial",
    "pareto_alpha",
]
