"""The R3D rules as data: the difference table of ``docs/r3d.md`` as a frozen dataclass.

:data:`PAPER` follows Van Dijcke (2025) with the two fixes of the Monte Carlo study (HC2
residuals, regularised selector); :data:`R3D_28744DB` reproduces the R package R3D 0.1.0
(GitHub Davidvandijcke/R3D, commit 28744db) number for number. ``R3D(compat="R")`` maps to
:data:`R3D_28744DB`; variants for studies are ``dataclasses.replace(PAPER, ...)`` and can be
passed as ``R3D(compat=rules)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from estkit._bandwidth import SelectorRules
from estkit._validation import check_bool, check_option, check_real

__all__ = ["PAPER", "R3D_28744DB", "R3DRules", "resolve_rules"]


@dataclass(frozen=True)
class R3DRules:
    """Every choice on which the paper and the R package R3D differ (a frozen dataclass).

    Parameters
    ----------
    name : str
        Label shown in summaries (``"paper"``, ``"R3D 0.1.0 (compat)"``, or a variant's).
    kernel : {"triangular", "epanechnikov", "uniform"}
        Kernel used when ``R3D(kernel=None)`` (the default).
    selector : estkit.SelectorRules
        Variant of the three-step bandwidth selector (constants, pilot fits, bias and
        variance terms, thresholds, regularisation, rescaling).
    residual_support : {"window", "positive_weight"}
        Units whose bootstrap residual is kept: every unit inside the kernel window, or
        only units with a positive equivalent-kernel (intercept) weight.
    hc2 : bool
        Leverage-corrected residuals ``e / sqrt(1 - h_ii)`` (HC2) instead of raw ones.
    treatment_residuals : {"own", "first_outcome"}
        Fuzzy designs: the treatment residuals use the treatment fit's own window and
        intercept weights, or the support and weights of the first quantile's outcome fit.
    residual_unit : bool
        Require ``p + 2`` units in each window (a residual degree of freedom) instead of
        the identification minimum ``p + 1``.
    rearrangement : {"sort", "R"}
        ``"simple"`` monotonisation: exact rearrangement by sorting, or
        ``Rearrangement::rearrangement`` (:func:`estkit.rearrange` ``method="R"``).
    frechet_weights : {"trapezoid", "unweighted"}
        Weights of the ``"frechet"`` isotonic projection: grid spacing (trapezoid rule) or
        none (R's ``isoreg``).
    weighted_quantiles : {"type7", "hmisc"}
        Unit quantiles with sampling weights: weighted type 7, or
        ``Hmisc::wtd.quantile(normwt = TRUE)``.
    select_on_unweighted : bool
        Select bandwidths on the unweighted unit quantiles (R3D) when weights are given.
    band_rule : {"inverse_cdf", "ceil"}
        Critical value of the bands: the ``(1 - alpha)`` inverse-ECDF quantile of the
        bootstrap sup statistics, or the ``ceil((1 - alpha)(B + 1))``-th order statistic.
        (Read by the inference layer; the name of the rule is that of
        ``estkit.order_statistic_critical_value``.)
    test_rule : {"inverse_cdf", "linear"}
        Critical value of the tests: inverse-ECDF or type-7 (``"linear"``) quantile.
    pvalue_plus_one : bool
        Test p-values ``(1 + #{T* >= T}) / (B + 1)`` instead of ``#{T* >= T} / B``.
    gini_centred : bool
        Gini test draws centred at the estimate (``|D* - D|``) instead of ``|D*|``.
    range_tol : float
        Tolerance of the test ranges ``q >= lo - tol & q <= hi + tol`` (0: exact, as R).

    Examples
    --------
    >>> import dataclasses
    >>> R3D_28744DB.kernel, PAPER.kernel
    ('epanechnikov', 'triangular')
    >>> dataclasses.replace(R3D_28744DB, name="R+lev", hc2=True).hc2
    True
    """

    name: str = "paper"
    kernel: Literal["triangular", "epanechnikov", "uniform"] = "triangular"
    selector: SelectorRules = field(default_factory=lambda: SelectorRules(regularize=True))
    residual_support: Literal["window", "positive_weight"] = "window"
    hc2: bool = True
    treatment_residuals: Literal["own", "first_outcome"] = "own"
    residual_unit: bool = True
    rearrangement: Literal["sort", "R"] = "sort"
    frechet_weights: Literal["trapezoid", "unweighted"] = "trapezoid"
    weighted_quantiles: Literal["type7", "hmisc"] = "type7"
    select_on_unweighted: bool = False
    band_rule: Literal["inverse_cdf", "ceil"] = "inverse_cdf"
    test_rule: Literal["inverse_cdf", "linear"] = "inverse_cdf"
    pvalue_plus_one: bool = True
    gini_centred: bool = True
    range_tol: float = 1e-12

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise TypeError(f"`name` must be a string; got {self.name!r}.")
        check_option(self.kernel, "kernel", ("triangular", "epanechnikov", "uniform"))
        if not isinstance(self.selector, SelectorRules):
            raise TypeError(f"`selector` must be an estkit.SelectorRules; got {self.selector!r}.")
        check_option(self.residual_support, "residual_support", ("window", "positive_weight"))
        check_option(self.treatment_residuals, "treatment_residuals", ("own", "first_outcome"))
        check_option(self.rearrangement, "rearrangement", ("sort", "R"))
        check_option(self.frechet_weights, "frechet_weights", ("trapezoid", "unweighted"))
        check_option(self.weighted_quantiles, "weighted_quantiles", ("type7", "hmisc"))
        check_option(self.band_rule, "band_rule", ("inverse_cdf", "ceil"))
        check_option(self.test_rule, "test_rule", ("inverse_cdf", "linear"))
        for name in ("hc2", "residual_unit", "select_on_unweighted", "pvalue_plus_one"):
            check_bool(getattr(self, name), name)
        check_bool(self.gini_centred, "gini_centred")
        if check_real(self.range_tol, "range_tol") < 0:
            raise ValueError(f"`range_tol` must be >= 0; got {self.range_tol!r}.")


#: The paper's method (the default of :class:`r3d.R3D`).
PAPER = R3DRules()

#: The R package R3D 0.1.0 at commit 28744db (``R3D(compat="R")``).
R3D_28744DB = R3DRules(
    name="R3D 0.1.0 (compat)",
    kernel="epanechnikov",
    selector=SelectorRules(
        constants="riemann",
        pilot_fit="aliased",
        step2_kernel="triangular",
        bias="coefficient",
        variance="positive_weights",
        integration="mean_step",
        absolute_tol=1e-14,
        regularize=False,
        rescale=False,
        guards=False,
    ),
    residual_support="positive_weight",
    hc2=False,
    treatment_residuals="first_outcome",
    residual_unit=False,
    rearrangement="R",
    frechet_weights="unweighted",
    weighted_quantiles="hmisc",
    select_on_unweighted=True,
    band_rule="ceil",
    test_rule="linear",
    pvalue_plus_one=False,
    gini_centred=False,
    range_tol=0.0,
)


def resolve_rules(compat: Any) -> R3DRules:
    """``R3D(compat=...)`` -> rules: ``None`` is :data:`PAPER`, ``"R"`` is
    :data:`R3D_28744DB`, an :class:`R3DRules` is used as it is."""
    if isinstance(compat, R3DRules):
        return compat
    if compat is None:
        return PAPER
    check_option(compat, "compat", ("R",))
    return R3D_28744DB
