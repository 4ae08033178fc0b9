"""Companion analyses of an RD study: covariate balance, placebo cutoffs, donut, bandwidths.

They work on any :class:`~r3d.R3D` (fitted or not) through its public API: the estimator
is cloned (``sklearn.base.clone``), its parameters changed with ``set_params`` and the
clone fitted on a subset of the units; the original is never modified. The covariate
balance table runs the scalar robust bias-corrected RD of :func:`estkit.local_polynomial_rd`
on each predetermined covariate.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import clone

from estkit import (
    align_by_label,
    check_1d,
    check_alpha,
    check_int,
    check_option,
    local_polynomial_rd,
)
from estkit._docstrings import doc_filler
from estkit._plotting import get_axes
from estkit._validation import check_real
from r3d._data import Distributions, QuantileFunctions
from r3d._estimator import R3D

__all__ = [
    "BandwidthSensitivity",
    "balance_table",
    "bandwidth_sensitivity",
    "donut",
    "placebo_cutoffs",
]

Side = Literal["both", "below", "above"]
RDKernel = Literal["triangular", "epanechnikov", "uniform"]

_FIT_KEYS = ("treatment", "weights", "cluster", "multipliers")

# the data arguments of the companions that refit R3D and the simulated study their examples
# run on (one description, one place)
_fill_doc = doc_filler(
    {
        "x_y": (
            "x : array-like of shape (n,), optional\n"
            "    Running variable (``None``: carried by ``y``).\n"
            "y : outcome container accepted by :meth:`R3D.fit`"
        ),
        "example_study": (
            ">>> from r3d import R3D\n"
            ">>> from r3d.simulate import simulate_dgp1\n"
            ">>> sim = simulate_dgp1(n=400, n_draws=30, delta=2.0, rng=0)"
        ),
    }
)


# ----------------------------------------------------------------------------- helpers


def _check_estimator(estimator: Any) -> R3D:
    if not isinstance(estimator, R3D):
        raise TypeError(
            f"`estimator` must be an r3d.R3D instance (fitted or not); got "
            f"{type(estimator).__name__}."
        )
    return estimator


def _min_side(estimator: R3D) -> int:
    """Units each side needs for a data-driven R3D fit of the estimator's order."""
    p = estimator.get_params()["p"]
    p = p if isinstance(p, int | np.integer) and not isinstance(p, bool) and p >= 0 else 2
    return max(10, 2 * (int(p) + 2))


def _n_units(y: Any) -> int:
    if isinstance(y, Distributions | QuantileFunctions):
        return y.n_units
    if isinstance(y, pd.DataFrame):
        raise TypeError(
            "`y` is a DataFrame: build the outcome container with "
            "r3d.Distributions.from_long(df, unit=..., outcome=..., running=...)."
        )
    if y is None:
        raise ValueError("`y` is required: one outcome sample per unit.")
    return len(y)


def _take(y: Any, idx: np.ndarray) -> Any:
    """The units ``idx`` (positions) of an outcome container, in that order."""
    if isinstance(y, Distributions):
        return y.subset(idx)
    if isinstance(y, QuantileFunctions):
        return y.subset(idx)
    if isinstance(y, np.ndarray):
        return y[idx]
    seq = list(y)
    return [seq[i] for i in idx]


@dataclass
class _Units:
    """Validated per-unit inputs of an R3D companion analysis (positional, aligned)."""

    x: np.ndarray  # running variable (NaN only under missing="drop")
    y: Any
    fit_kwargs: dict[str, Any] = field(default_factory=dict)

    def take(self, keep: np.ndarray) -> tuple[np.ndarray, Any, dict[str, Any]]:
        idx = np.flatnonzero(keep)
        kw: dict[str, Any] = {}
        for k, v in self.fit_kwargs.items():
            if v is None:
                kw[k] = None
            elif k == "weights":
                kw[k] = _take(v, idx)
            else:
                kw[k] = np.asarray(v)[idx]
        return self.x[idx], _take(self.y, idx), kw


def _units(
    estimator: R3D, x: Any, y: Any, fit_kwargs: Mapping[str, Any], *, subsets: bool
) -> _Units:
    """Door of the R3D companions: running variable, outcome, per-unit fit arguments."""
    unknown = sorted(set(fit_kwargs) - set(_FIT_KEYS))
    if unknown:
        raise TypeError(f"Unknown fit argument(s) {unknown}; R3D.fit takes {', '.join(_FIT_KEYS)}.")
    if subsets and fit_kwargs.get("multipliers") is not None:
        raise ValueError(
            "`multipliers` cannot be used here: the analysis fits subsets of the units, so "
            "fixed multiplier rows would not match; seed the estimator's `random_state` "
            "instead."
        )
    n = _n_units(y)
    if x is None:
        carried = getattr(y, "running", None)
        if carried is None:
            raise ValueError("`x` (the running variable) is required, one value per unit.")
        x = carried
    per_unit = {k: fit_kwargs.get(k) for k in ("treatment", "cluster")}
    aligned, _ = align_by_label({"x": x, **per_unit})
    xv = check_1d(aligned["x"], "x", allow_nan=True)
    if xv.size != n:
        raise ValueError(
            f"`x` has {xv.size} values but `y` has {n} units; give one per unit, in the same order."
        )
    for k in ("treatment", "cluster"):
        v = aligned[k]
        if v is not None and len(v) != n:
            raise ValueError(f"`{k}` has {len(v)} values but `y` has {n} units.")
    w = fit_kwargs.get("weights")
    if w is not None and len(w) != n:
        raise ValueError(f"`weights` has {len(w)} entries but `y` has {n} units.")
    bad = ~np.isfinite(xv)
    if bad.any() and estimator.get_params()["missing"] != "drop":
        raise ValueError(
            f"`x` is missing or non-finite for {int(bad.sum())} unit(s); remove them or use "
            "an estimator with missing='drop'."
        )
    kw = {
        "treatment": aligned["treatment"],
        "cluster": aligned["cluster"],
        "weights": w,
    }
    if not subsets:
        kw["multipliers"] = fit_kwargs.get("multipliers")
    return _Units(xv, y, {k: v for k, v in kw.items() if v is not None})


def _summary_row(est: R3D) -> dict[str, Any]:
    """Mean effect, band extremes, whether the band holds 0 everywhere, nullity p."""
    band = est.band_
    row: dict[str, Any] = {
        "bandwidth": float(np.mean(est.bandwidth_)),
        "mean_tau": float(np.mean(est.tau_)),
    }
    if band is None:
        row.update(band_min=np.nan, band_max=np.nan, band_contains_zero=None, pvalue=np.nan)
    else:
        lo, hi = band["lower"].to_numpy(), band["upper"].to_numpy()
        row.update(
            band_min=float(lo.min()),
            band_max=float(hi.max()),
            band_contains_zero=bool(np.all((lo <= 0) & (hi >= 0))),
            pvalue=float(est.test("nullity").pvalue),
        )
    return row


def _fit_clone(estimator: R3D, x: np.ndarray, y: Any, kw: Mapping[str, Any], **params) -> R3D:
    est = clone(estimator)
    if params:
        est.set_params(**params)
    return est.fit(x, y, **kw)


# ----------------------------------------------------------------------- balance table


def _covariate_frame(covariates: Any) -> pd.DataFrame:
    if isinstance(covariates, pd.DataFrame):
        return covariates
    if isinstance(covariates, pd.Series):
        return covariates.to_frame(name=covariates.name if covariates.name is not None else "z0")
    if isinstance(covariates, Mapping):
        if not covariates:
            raise ValueError("`covariates` is empty; give at least one covariate.")
        cols = {str(k): v for k, v in covariates.items()}
        lens = {k: len(v) for k, v in cols.items()}
        if len(set(lens.values())) > 1:
            raise ValueError(f"`covariates` columns have different lengths: {lens}.")
        if any(isinstance(v, pd.Series) for v in cols.values()):
            return pd.DataFrame(cols)
        return pd.DataFrame({k: np.asarray(v) for k, v in cols.items()})
    arr = np.asarray(covariates)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(
            f"`covariates` must be a DataFrame, a mapping of name to values or an (n, k) "
            f"array; got shape {arr.shape}."
        )
    return pd.DataFrame(arr, columns=[f"z{j}" for j in range(arr.shape[1])])


def balance_table(
    x: Any,
    covariates: Any,
    cutoff: float = 0.0,
    *,
    p: int = 1,
    kernel: RDKernel = "triangular",
    alpha: float = 0.05,
    cluster: Any = None,
    **rd_options: Any,
) -> pd.DataFrame:
    """Covariate balance at the cutoff: a robust bias-corrected RD for each covariate.

    Predetermined covariates (fixed before treatment) should not jump at the cutoff; a
    significant jump casts doubt on the design (sorting around the cutoff). Each
    covariate is treated as the outcome of a sharp RD with
    :func:`estkit.local_polynomial_rd` (rdrobust's numbers): the conventional estimate of
    the jump and the robust bias-corrected interval and p-value of Calonico, Cattaneo and
    Titiunik (2014), with its own MSE-optimal bandwidths unless ``bandwidth=`` is given.

    Parameters
    ----------
    x : array-like of shape (n,)
        Running variable (finite).
    covariates : DataFrame, Series, mapping of name to array, or array of shape (n, k)
        Predetermined covariates, one column each. Units with a missing value of a
        covariate are left out of that covariate's row (counted in ``n_missing``).
        Pandas inputs are aligned with ``x`` (and ``cluster``) by label.
    cutoff : float, default 0
    p : int, default 1
        Order of the local polynomial (bias estimated at ``p + 1``).
    kernel : {"triangular", "epanechnikov", "uniform"}, default "triangular"
    alpha : float, default 0.05
    cluster : array-like of shape (n,), optional
        Cluster labels for cluster-robust standard errors.
    **rd_options
        Passed to :func:`estkit.local_polynomial_rd`: ``bandwidth``, ``bias_bandwidth``,
        ``vce``, ``weights``. (``treatment`` and ``covariates`` do not apply: balance is
        the sharp jump of each covariate.)

    Returns
    -------
    DataFrame
        Indexed by covariate: ``estimate`` (conventional), ``ci_lower``, ``ci_upper``
        (robust, level ``1 - alpha``), ``pvalue`` (robust), ``mean_below``,
        ``mean_above`` (boundary estimates), ``bandwidth`` (h), ``bias_bandwidth`` (b),
        ``n_eff_below``, ``n_eff_above`` (units inside h), ``n_missing``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.uniform(-1, 1, 1000)
    >>> z = pd.DataFrame({"age": 40 + 5 * x + rng.normal(0, 3, 1000),
    ...                   "income": 30 + 4 * (x >= 0) + rng.normal(0, 2, 1000)})
    >>> tab = balance_table(x, z)
    >>> bool(tab.loc["income", "pvalue"] < 0.05)
    True
    >>> list(tab.columns[:4])
    ['estimate', 'ci_lower', 'ci_upper', 'pvalue']
    """
    for bad in ("treatment", "covariates"):
        if bad in rd_options:
            raise TypeError(
                f"balance_table does not take `{bad}`: each covariate's row is the sharp RD "
                "jump of that covariate."
            )
    unknown = sorted(set(rd_options) - {"bandwidth", "bias_bandwidth", "vce", "weights"})
    if unknown:
        raise TypeError(
            f"Unknown option(s) {unknown}; balance_table passes bandwidth, bias_bandwidth, "
            "vce and weights to estkit.local_polynomial_rd."
        )
    Z = _covariate_frame(covariates)
    labelled = isinstance(covariates, pd.DataFrame | pd.Series) or (
        isinstance(covariates, Mapping)
        and any(isinstance(v, pd.Series) for v in covariates.values())
    )
    weights = rd_options.pop("weights", None)
    aligned, _ = align_by_label(
        {"x": x, "covariates": Z if labelled else None, "cluster": cluster, "weights": weights}
    )
    xv = check_1d(aligned["x"], "x")
    Zf: pd.DataFrame = aligned["covariates"] if labelled else Z  # unlabelled: positional
    if len(Zf) != xv.size:
        raise ValueError(
            f"`covariates` has {len(Zf)} rows but `x` has {xv.size} values; give one row per unit."
        )
    if Zf.shape[1] == 0:
        raise ValueError("`covariates` has no columns; give at least one covariate.")
    cl = None if cluster is None else np.asarray(aligned["cluster"]).reshape(-1)
    wv = None if weights is None else check_1d(aligned["weights"], "weights")
    alpha = check_alpha(alpha)
    rows = {}
    for name in Zf.columns:
        col = Zf[name]
        try:
            zv = pd.to_numeric(col, errors="raise").to_numpy(dtype=float)
        except (TypeError, ValueError):
            raise TypeError(
                f"`covariates` column {name!r} is not numeric; encode it (e.g. as dummies)."
            ) from None
        ok = np.isfinite(zv)
        if np.isinf(zv).any():
            raise ValueError(f"`covariates` column {name!r} holds infinite values.")
        res = local_polynomial_rd(
            xv[ok],
            zv[ok],
            cutoff,
            p=p,
            kernel=kernel,
            alpha=alpha,
            cluster=None if cl is None else cl[ok],
            weights=None if wv is None else wv[ok],
            **rd_options,
        )
        rows[str(name)] = {
            "estimate": res.estimate,
            "ci_lower": res.conf_int_robust[0],
            "ci_upper": res.conf_int_robust[1],
            "pvalue": res.pvalue_robust,
            "mean_below": res.intercept_below,
            "mean_above": res.intercept_above,
            "bandwidth": res.bandwidth,
            "bias_bandwidth": res.bias_bandwidth,
            "n_eff_below": res.n_eff_below,
            "n_eff_above": res.n_eff_above,
            "n_missing": int((~ok).sum()),
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "covariate"
    out.attrs["alpha"] = alpha
    out.attrs["cutoff"] = float(cutoff)
    return out


# --------------------------------------------------------------------- placebo cutoffs


@_fill_doc
def placebo_cutoffs(
    estimator: R3D,
    x: Any,
    y: Any,
    cutoffs: Sequence[float] | None = None,
    *,
    side: Side = "both",
    n_cutoffs: int = 1,
    **fit_kwargs: Any,
) -> pd.DataFrame:
    """Re-run the R3D estimator at fake cutoffs where there should be no effect.

    A fake cutoff ``c'`` below the true cutoff ``c`` uses only the units with ``x < c``
    (all untreated); one above uses only those with ``x >= c``. No unit then changes
    treatment at ``c'``, so the effect curve should be zero there: rejections at a rate
    well above ``alpha`` suggest that the jump at ``c`` reflects curvature or other
    discontinuities rather than the treatment.

    Parameters
    ----------
    estimator : R3D
        Fitted or not; a clone with ``cutoff=c'`` is fitted for each fake cutoff (same
        options, bandwidths selected afresh unless the estimator fixes them).
    %(x_y)s
    cutoffs : sequence of float, optional
        Fake cutoffs (none equal to the true one). Default: on each side allowed by
        ``side``, ``n_cutoffs`` quantiles of that side's running variable at levels
        ``k / (n_cutoffs + 1)``, ``k = 1..n_cutoffs`` (the median of each side when
        ``n_cutoffs=1``).
    side : {"both", "below", "above"}, default "both"
        Sides of the true cutoff to place fake cutoffs on.
    n_cutoffs : int, default 1
        Default fake cutoffs per side.
    **fit_kwargs
        ``weights`` and ``cluster`` for :meth:`R3D.fit` (subset with the units).
        ``treatment`` is refused: at a fake cutoff there is no first stage, so the
        placebo is the outcome's (reduced-form) jump; a treatment carried by ``y``
        (``Distributions(..., treatment=...)``) is ignored for the same reason.

    Returns
    -------
    DataFrame
        Indexed by fake cutoff: ``side``, ``n_below``, ``n_above`` (units on each side of
        the fake cutoff), ``bandwidth`` (mean over the grid), ``mean_tau`` (mean of the
        effect curve over the grid), ``band_min``, ``band_max`` (extremes of the uniform
        band), ``band_contains_zero`` (the band holds 0 at every quantile), ``pvalue``
        (bootstrap nullity test; NaN with ``n_bootstrap=0``).

    Examples
    --------
    %(example_study)s
    >>> est = R3D(quantiles=[0.25, 0.5, 0.75], n_bootstrap=199, random_state=0)
    >>> tab = placebo_cutoffs(est, sim.x, sim.y)
    >>> tab[["side", "n_below", "n_above"]].shape
    (2, 3)
    """
    est0 = _check_estimator(estimator)
    if fit_kwargs.get("treatment") is not None:
        raise ValueError(
            "`treatment`: a fake cutoff has no first stage, so placebo cutoffs test the "
            "reduced form (the outcome's jump); call without `treatment`."
        )
    fit_kwargs = {k: v for k, v in fit_kwargs.items() if k != "treatment"}
    if isinstance(y, Distributions | QuantileFunctions) and y.treatment is not None:
        y = dataclasses.replace(y, treatment=None)  # the reduced form (see Notes)
    side = check_option(side, "side", Side)
    n_cutoffs = check_int(n_cutoffs, "n_cutoffs", minimum=1)
    c = check_real(est0.get_params()["cutoff"], "cutoff")
    units = _units(est0, x, y, fit_kwargs, subsets=True)
    xv = units.x
    fin = np.isfinite(xv)
    below_true = fin & (xv < c)
    above_true = fin & (xv >= c)
    levels = np.arange(1, n_cutoffs + 1) / (n_cutoffs + 1)
    if cutoffs is None:
        fakes: list[float] = []
        for s, mask in (("below", below_true), ("above", above_true)):
            if side in (s, "both"):
                if not mask.any():
                    raise ValueError(f"`x` has no units {s} the cutoff {c:g}.")
                fakes += [float(v) for v in np.quantile(xv[mask], levels)]
    else:
        if isinstance(cutoffs, str | bool) or np.ndim(cutoffs) > 1:
            raise TypeError(f"`cutoffs` must be a sequence of numbers; got {cutoffs!r}.")
        fakes = [check_real(v, "cutoffs") for v in np.atleast_1d(np.asarray(cutoffs, object))]
        if not fakes:
            raise ValueError("`cutoffs` is empty; give at least one fake cutoff or None.")
    need = _min_side(est0)
    rows = {}
    for cf in fakes:
        if cf == c:
            raise ValueError(f"`cutoffs` contains the true cutoff {c:g}; placebo cutoffs differ.")
        s = "below" if cf < c else "above"
        if side not in (s, "both"):
            raise ValueError(f"`cutoffs`: {cf:g} lies {s} the true cutoff {c:g} but side={side!r}.")
        pool = below_true if s == "below" else above_true
        nb, na = int(np.sum(pool & (xv < cf))), int(np.sum(pool & (xv >= cf)))
        if min(nb, na) < need:
            raise ValueError(
                f"`cutoffs`: the fake cutoff {cf:g} leaves {nb} unit(s) below and {na} at or "
                f"above it among the units {s} the true cutoff; at least {need} are needed "
                "on each side. Move it towards the middle of that side."
            )
        xs, ys, kw = units.take(pool)
        est = _fit_clone(est0, xs, ys, kw, cutoff=cf)
        rows[cf] = {"side": s, "n_below": nb, "n_above": na, **_summary_row(est)}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "cutoff"
    out.attrs["true_cutoff"] = c
    return out


# --------------------------------------------------------------------------- donut RD


@_fill_doc
def donut(estimator: R3D, x: Any, y: Any, radius: float, **fit_kwargs: Any) -> R3D:
    """Donut RD: refit without the units closest to the cutoff.

    Units with ``|x - c| < radius`` are dropped (those most likely to have sorted
    around the cutoff, or heaped at it) and a clone of the estimator is fitted on the
    rest. A stable effect curve is evidence against manipulation right at the cutoff;
    the price is extrapolation over the hole.

    Parameters
    ----------
    estimator : R3D
        Fitted or not; it is cloned, never modified.
    %(x_y)s
    radius : float
        Half-width of the hole, ``>= 0`` (0 keeps every unit).
    **fit_kwargs
        ``treatment``, ``weights``, ``cluster`` for :meth:`R3D.fit` (subset with the
        units).

    Returns
    -------
    R3D
        The fitted clone (its ``n_units_`` counts the units kept).

    Examples
    --------
    %(example_study)s
    >>> est = R3D(quantiles=[0.25, 0.5, 0.75], n_bootstrap=0)
    >>> fit = donut(est, sim.x, sim.y, radius=0.05)
    >>> bool(fit.n_units_ < 400)
    True
    """
    est0 = _check_estimator(estimator)
    r = check_real(radius, "radius")
    if r < 0:
        raise ValueError(f"`radius` must be >= 0; got {radius!r}.")
    c = check_real(est0.get_params()["cutoff"], "cutoff")
    units = _units(est0, x, y, fit_kwargs, subsets=True)
    xv = units.x
    with np.errstate(invalid="ignore"):
        keep = ~(np.abs(xv - c) < r)  # NaN x kept: the estimator's missing="drop" drops it
    fin = np.isfinite(xv)
    nb, na = int(np.sum(keep & fin & (xv < c))), int(np.sum(keep & fin & (xv >= c)))
    need = _min_side(est0)
    if min(nb, na) < need:
        raise ValueError(
            f"`radius` = {r:g} leaves {nb} unit(s) below and {na} at or above the cutoff "
            f"{c:g}; at least {need} are needed on each side. Use a smaller radius."
        )
    xs, ys, kw = units.take(keep)
    return _fit_clone(est0, xs, ys, kw)


# --------------------------------------------------------------- bandwidth sensitivity


@dataclass(frozen=True, repr=False)
class BandwidthSensitivity:
    """Result of :func:`bandwidth_sensitivity`.

    A frozen dataclass whose constructor arguments are stored as attributes of the same
    names; ``print`` shows the table and :meth:`plot` draws the curves.

    Parameters
    ----------
    table : DataFrame
        Indexed by ``multiple``: ``bandwidth`` (mean over the grid), ``mean_tau``,
        ``band_min``, ``band_max``, ``band_contains_zero``, ``pvalue`` (nullity).
    fits : dict of float to R3D
        The fitted estimator at each multiple (multiple 1 is the data-driven fit).

    Examples
    --------
    >>> from r3d import R3D, bandwidth_sensitivity
    >>> from r3d.simulate import simulate_dgp1
    >>> sim = simulate_dgp1(n=200, n_draws=20, delta=2.0, rng=0)
    >>> est = R3D(quantiles=[0.25, 0.5, 0.75], n_bootstrap=99, random_state=0)
    >>> res = bandwidth_sensitivity(est, sim.x, sim.y, multiples=(0.5, 1))
    >>> res.table.columns.tolist()
    ['bandwidth', 'mean_tau', 'band_min', 'band_max', 'band_contains_zero', 'pvalue']
    >>> sorted(res.fits), res.table["bandwidth"].round(3).tolist()
    ([0.5, 1.0], [0.279, 0.557])
    """

    table: pd.DataFrame
    fits: dict[float, R3D]

    def __repr__(self) -> str:
        return f"BandwidthSensitivity\n{self.table.to_string()}"

    def plot(self, quantile: float | None = None, ax: Any = None) -> Any:
        """Effect and uniform band at each multiple of the selected bandwidth.

        ``quantile=None`` overlays the effect curves (with light bands) of every
        multiple; a quantile level draws, against the multiple, the effect at the
        nearest grid point with its uniform band as error bars. Returns the Axes.

        Parameters
        ----------
        quantile : float, optional
            Quantile level to follow across the multiples; default all effect curves.
        ax : matplotlib.axes.Axes, optional
            Axes to draw on; default a new figure.

        Returns
        -------
        matplotlib.axes.Axes
            The Axes drawn on.
        """
        ax = get_axes(ax, figsize=(7.0, 4.5))
        mults = list(self.fits)
        if quantile is None:
            for k, m in enumerate(mults):
                est = self.fits[m]
                col = f"C{k % 10}"
                h = float(np.mean(est.bandwidth_))
                ax.plot(est.quantiles_, est.tau_, color=col, lw=1.6, label=f"{m:g} h ({h:.3g})")
                if est.band_ is not None:
                    ax.fill_between(
                        est.quantiles_,
                        est.band_["lower"],
                        est.band_["upper"],
                        color=col,
                        alpha=0.08,
                        lw=0,
                    )
            ax.set_xlabel("quantile level q")
            ax.set_ylabel("treatment effect tau(q)")
        else:
            q = check_real(quantile, "quantile")
            tau, lo, hi = [], [], []
            for m in mults:
                est = self.fits[m]
                j = int(np.argmin(np.abs(est.quantiles_ - q)))
                tau.append(est.tau_[j])
                if est.band_ is None:
                    lo.append(np.nan)
                    hi.append(np.nan)
                else:
                    lo.append(est.band_["lower"].iloc[j])
                    hi.append(est.band_["upper"].iloc[j])
            tau_a, lo_a, hi_a = np.array(tau), np.array(lo), np.array(hi)
            ax.errorbar(
                mults,
                tau_a,
                yerr=[tau_a - lo_a, hi_a - tau_a],
                fmt="o",
                capsize=3,
                label=f"tau(q = {q:g}) with uniform band",
            )
            ax.axvline(1.0, color="0.6", lw=0.8, ls=":")
            ax.set_xlabel("bandwidth / selected bandwidth")
            ax.set_ylabel("treatment effect")
        ax.axhline(0.0, color="0.3", lw=0.8, ls="--")
        ax.legend(frameon=False, fontsize="small")
        return ax


@_fill_doc
def bandwidth_sensitivity(
    estimator: R3D,
    x: Any,
    y: Any,
    multiples: Sequence[float] = (0.5, 0.75, 1, 1.25, 1.5, 2),
    **fit_kwargs: Any,
) -> BandwidthSensitivity:
    """The effect curve and its band at multiples of the selected bandwidth.

    A clone of the estimator is fitted once (bandwidths selected, or the estimator's own
    if it fixes them); then, for each multiple ``m``, a clone with ``bandwidth = m * h``
    (per quantile for ``method="simple"``; the first-stage bandwidth scaled alike in
    fuzzy designs) is fitted. Small bandwidths trade bias for variance: an effect that
    survives across multiples is not an artefact of one bandwidth choice.

    Parameters
    ----------
    estimator : R3D
        Fitted or not; cloned, never modified.
    %(x_y)s
    multiples : sequence of positive float
        Multiples of the selected bandwidth; 1 is the selected fit itself.
    **fit_kwargs
        ``treatment``, ``weights``, ``cluster``, ``multipliers`` for :meth:`R3D.fit`.

    Returns
    -------
    BandwidthSensitivity
        ``table`` (one row per multiple) and ``plot()``.

    Examples
    --------
    %(example_study)s
    >>> est = R3D(quantiles=[0.25, 0.5, 0.75], n_bootstrap=199, random_state=0)
    >>> res = bandwidth_sensitivity(est, sim.x, sim.y, multiples=(0.75, 1, 1.5))
    >>> res.table.index.tolist()
    [0.75, 1.0, 1.5]
    """
    est0 = _check_estimator(estimator)
    if isinstance(multiples, str) or np.ndim(multiples) != 1:
        raise TypeError(f"`multiples` must be a sequence of positive numbers; got {multiples!r}.")
    mults = [check_real(m, "multiples") for m in multiples]
    if not mults:
        raise ValueError("`multiples` is empty; give at least one multiple.")
    if any(m <= 0 for m in mults):
        raise ValueError(f"`multiples` must be positive; got {list(multiples)!r}.")
    if len(set(mults)) != len(mults):
        raise ValueError(f"`multiples` has duplicates: {list(multiples)!r}.")
    units = _units(est0, x, y, fit_kwargs, subsets=False)
    kw = units.fit_kwargs
    base = _fit_clone(est0, units.x, units.y, kw)
    h = np.asarray(base.bandwidth_, dtype=float)
    h_arg: Any = float(h[0]) if np.ptp(h) == 0 else h
    ht = base.bandwidth_treatment_
    fits: dict[float, R3D] = {}
    rows = {}
    for m in mults:
        if m == 1.0:
            est = base
        else:
            params: dict[str, Any] = {"bandwidth": m * h_arg}
            if ht is not None:
                params["bandwidth_treatment"] = m * float(ht)
            est = _fit_clone(est0, units.x, units.y, kw, **params)
        fits[m] = est
        rows[m] = _summary_row(est)
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "multiple"
    return BandwidthSensitivity(table=table, fits=fits)
