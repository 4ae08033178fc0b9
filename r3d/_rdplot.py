"""RD plot for a scalar outcome, following rdplot's conventions.

Binned means of the outcome against the running variable, with the local polynomial fits
that the RD estimate uses (:func:`estkit.local_polynomial_rd`) drawn inside the bandwidth,
the bandwidth window shaded and, optionally, a global polynomial fit clearly labelled as
such. The number of evenly spaced bins on each side is by default the IMSE-optimal
choice of Calonico, Cattaneo and Titiunik (2015, JASA, "Optimal data-driven regression
discontinuity plots"), estimated with spacings estimators (rdplot's ``binselect="es"``):

``J = ceil((2 B / V * n)^(1/3))`` on each side, with ``n`` the whole sample size,
``B = (range^2 / (12 n)) sum_i mu'(x_i)^2`` over that side's units (``mu'`` the
derivative of a global polynomial fit of order 4 on that side, lowered if it cannot be
estimated), ``V = (1 / (2 range)) sum_i (x_(i+1) - x_(i)) (y_(i+1) - y_(i))^2`` over
consecutive order statistics, and ``range`` the distance from the cutoff to the side's
extreme value.
"""

from __future__ import annotations

from math import ceil
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from estkit import (
    align_by_label,
    check_1d,
    check_alpha,
    check_bool,
    check_int,
    check_option,
    local_polynomial_rd,
)
from estkit._kernels import get_kernel
from estkit._plotting import get_axes
from estkit._validation import check_real

__all__ = ["rdplot", "rdplot_bins"]

RDKernel = Literal["triangular", "epanechnikov", "uniform"]

_ES_ORDER = 4  # order of the global polynomial behind the bias term (rdplot's)
_MIN_SELECT = 20  # units needed to select the number of bins (as rdplot)


def _global_derivative(xs: np.ndarray, ys: np.ndarray, c: float, order: int) -> np.ndarray:
    """Derivative at ``xs`` of the least-squares polynomial of ``order`` in x (centred)."""
    scale = float(np.max(np.abs(xs - c))) or 1.0
    u = (xs - c) / scale
    R = np.vander(u, order + 1, increasing=True)
    coef = np.linalg.lstsq(R, ys, rcond=None)[0]
    dR = np.zeros_like(R)
    for j in range(1, order + 1):
        dR[:, j] = j * u ** (j - 1)
    return (dR @ coef) / scale


def _es_n_bins(
    xl: np.ndarray, yl: np.ndarray, xr: np.ndarray, yr: np.ndarray, c: float
) -> tuple[int, int]:
    """IMSE-optimal numbers of evenly spaced bins (spacings estimators), left and right."""
    n = xl.size + xr.size
    # highest order <= 4 that both sides can fit (rdplot lowers it until both are regular)
    order = _ES_ORDER
    while order > 0 and min(np.unique(xl).size, np.unique(xr).size) < order + 1:
        order -= 1
    out = []
    for xs, ys in ((xl, yl), (xr, yr)):
        srt = np.argsort(xs, kind="stable")
        xs, ys = xs[srt], ys[srt]
        width = float(np.max(np.abs(xs - c)))
        d1 = _global_derivative(xs, ys, c, order) if order > 0 else np.zeros_like(xs)
        B = width**2 / (12 * n) * float(d1 @ d1)
        V = 0.5 / width * float(np.sum(np.diff(xs) * np.diff(ys) ** 2)) if width > 0 else 0.0
        if not (np.isfinite(B) and np.isfinite(V) and V > 0 and B > 0):
            out.append(1)  # no slope or no noise: one bin (rdplot uses one without variation)
            continue
        out.append(max(1, min(ceil((2 * B / V * n) ** (1 / 3)), xs.size)))
    return out[0], out[1]


def _check_n_bins(n_bins: Any) -> tuple[int, int] | None:
    if n_bins is None:
        return None
    if isinstance(n_bins, tuple | list | np.ndarray):
        vals = list(n_bins)
        if len(vals) != 2:
            raise ValueError(
                f"`n_bins` must be one positive integer or a pair (left, right); got {n_bins!r}."
            )
        return check_int(vals[0], "n_bins", minimum=1), check_int(vals[1], "n_bins", minimum=1)
    k = check_int(n_bins, "n_bins", minimum=1)
    return k, k


def _prepare_xy(x: Any, y: Any, cutoff: Any) -> tuple[np.ndarray, np.ndarray, float]:
    aligned, _ = align_by_label({"x": x, "y": y})
    xv = check_1d(aligned["x"], "x")
    yv = check_1d(aligned["y"], "y")
    if xv.size != yv.size:
        raise ValueError(f"`x` has {xv.size} values and `y` {yv.size}; they must match.")
    c = check_real(cutoff, "cutoff")
    below = xv < c
    if not below.any() or below.all():
        where = "below" if not below.any() else "at or above"
        raise ValueError(
            f"`x` has no units {where} the cutoff {c:g}; an RD plot needs units on both "
            "sides: check `cutoff`."
        )
    return xv, yv, c


def rdplot_bins(
    x: Any,
    y: Any,
    cutoff: float = 0.0,
    *,
    n_bins: int | tuple[int, int] | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Evenly spaced bins of an RD plot with bin means and their confidence intervals.

    Parameters
    ----------
    x, y : array-like of shape (n,)
        Running variable and scalar outcome (finite; pandas objects aligned by label).
    cutoff : float, default 0
        Units with ``x >= cutoff`` are above.
    n_bins : int or (int, int), optional
        Bins below and above the cutoff (one number: both sides). ``None``: the
        IMSE-optimal evenly spaced numbers of Calonico, Cattaneo and Titiunik (2015),
        estimated with spacings estimators (rdplot's ``binselect="es"``).
    alpha : float, default 0.05
        Bin intervals are ``mean +/- t_{n-1, 1-alpha/2} sd / sqrt(n)`` (as rdplot).

    Returns
    -------
    DataFrame
        One row per non-empty bin: ``side`` ("below"/"above"), ``bin`` (0 is the
        leftmost bin of the side), ``left``, ``right`` (edges), ``x_mid``, ``x_mean``,
        ``y_mean``, ``n``, ``std``, ``ci_lower``, ``ci_upper`` (NaN for a single-unit
        bin). ``attrs["n_bins"]`` holds ``(J_below, J_above)`` and ``attrs["method"]``
        how they were chosen.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.uniform(-1, 1, 500)
    >>> y = x + 0.5 * (x >= 0) + rng.normal(0, 0.3, 500)
    >>> bins = rdplot_bins(x, y)
    >>> bins.attrs["n_bins"]
    (9, 8)
    >>> int(bins["n"].sum())
    500
    """
    xv, yv, c = _prepare_xy(x, y, cutoff)
    alpha = check_alpha(alpha)
    J = _check_n_bins(n_bins)
    below = xv < c
    xl, yl, xr, yr = xv[below], yv[below], xv[~below], yv[~below]
    if J is None:
        if xv.size < _MIN_SELECT:
            raise ValueError(
                f"Selecting the number of bins needs at least {_MIN_SELECT} units; got "
                f"{xv.size}. Pass `n_bins` explicitly."
            )
        J = _es_n_bins(xl, yl, xr, yr, c)
        method = "IMSE-optimal evenly spaced (spacings estimators; rdplot 'es')"
    else:
        method = "manual evenly spaced"
    rows = []
    for side, xs, ys, lo, hi, k in (
        ("below", xl, yl, float(xv.min()), c, J[0]),
        ("above", xr, yr, c, float(xv.max()), J[1]),
    ):
        edges = np.linspace(lo, hi, k + 1)
        b = np.clip(np.searchsorted(edges, xs, side="right") - 1, 0, k - 1)
        cnt = np.bincount(b, minlength=k)
        sx = np.bincount(b, xs, minlength=k)
        sy = np.bincount(b, ys, minlength=k)
        for j in np.flatnonzero(cnt):
            yy = ys[b == j]
            m = int(cnt[j])
            mean_y = sy[j] / m
            if m > 1:
                sd = float(np.std(yy, ddof=1))
                half = float(stats.t.ppf(1 - alpha / 2, m - 1)) * sd / np.sqrt(m)
            else:
                sd = half = np.nan
            rows.append(
                {
                    "side": side,
                    "bin": int(j),
                    "left": edges[j],
                    "right": edges[j + 1],
                    "x_mid": 0.5 * (edges[j] + edges[j + 1]),
                    "x_mean": sx[j] / m,
                    "y_mean": mean_y,
                    "n": m,
                    "std": sd,
                    "ci_lower": mean_y - half,
                    "ci_upper": mean_y + half,
                }
            )
    out = pd.DataFrame(rows)
    out.attrs["n_bins"] = (int(J[0]), int(J[1]))
    out.attrs["method"] = method
    out.attrs["cutoff"] = c
    return out


def _local_fit(
    xs: np.ndarray, ys: np.ndarray, c: float, h: float, p: int, kernel: RDKernel
) -> np.ndarray:
    """Coefficients (in ``(x - c) / h``) of the kernel-weighted order-p fit inside ``h``."""
    u = (xs - c) / h
    w = get_kernel(kernel)(u)
    keep = w > 0
    R = np.vander(u[keep], p + 1, increasing=True)
    sw = np.sqrt(w[keep])
    return np.linalg.lstsq(R * sw[:, None], ys[keep] * sw, rcond=None)[0]


def rdplot(
    x: Any,
    y: Any,
    cutoff: float = 0.0,
    *,
    p: int = 1,
    kernel: RDKernel = "triangular",
    bandwidth: float | None = None,
    n_bins: int | tuple[int, int] | None = None,
    alpha: float = 0.05,
    fit: bool = True,
    ax: Any = None,
    global_fit: bool = False,
    global_order: int = 4,
) -> Any:
    """RD plot of a scalar outcome: bin means, the local fits of the estimate, the window.

    Parameters
    ----------
    x, y : array-like of shape (n,)
        Running variable and outcome (finite; pandas objects aligned by label).
    cutoff : float, default 0
    p : int, default 1
        Order of the local polynomial fits (the estimate's, as in
        :func:`estkit.local_polynomial_rd`).
    kernel : {"triangular", "epanechnikov", "uniform"}, default "triangular"
    bandwidth : float, optional
        Bandwidth ``h`` of the local fits; ``None`` selects rdrobust's "mserd" ``h``
        with :func:`estkit.local_polynomial_rd`.
    n_bins : int or (int, int), optional
        Bins per side; default the IMSE-optimal evenly spaced rule (rdplot "es"). See
        :func:`rdplot_bins`, which returns the bin table drawn here.
    alpha : float, default 0.05
        Level of the bin confidence intervals.
    fit : bool, default True
        Draw the local polynomial fits inside ``[c - h, c + h]`` and shade the window.
        Their ends at the cutoff are the boundary estimates of
        ``local_polynomial_rd(x, y, cutoff, p=p, kernel=kernel, bandwidth=h)``.
    ax : matplotlib Axes, optional
    global_fit : bool, default False
        Also draw a global polynomial of order ``global_order`` on each side (dashed,
        labelled "global fit (not the estimate)"): rdplot's default picture, useful for
        the shape away from the cutoff but not an estimate of the jump.
    global_order : int, default 4

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> rng = np.random.default_rng(0)
    >>> x = rng.uniform(-1, 1, 500)
    >>> y = x + 0.5 * (x >= 0) + rng.normal(0, 0.3, 500)
    >>> ax = rdplot(x, y, bandwidth=0.5)
    >>> ax.get_xlabel()
    'running variable'
    """
    xv, yv, c = _prepare_xy(x, y, cutoff)
    p = check_int(p, "p", minimum=0, maximum=10)
    kernel = check_option(kernel, "kernel", RDKernel)
    fit = check_bool(fit, "fit")
    global_fit = check_bool(global_fit, "global_fit")
    global_order = check_int(global_order, "global_order", minimum=0)
    alpha = check_alpha(alpha)
    bins = rdplot_bins(xv, yv, c, n_bins=n_bins, alpha=alpha)
    ax = get_axes(ax, figsize=(7.0, 4.5))
    level = f"{100 * (1 - alpha):g}%"
    ok = bins["ci_lower"].notna().to_numpy()
    ax.errorbar(
        bins["x_mean"][ok],
        bins["y_mean"][ok],
        yerr=[
            (bins["y_mean"] - bins["ci_lower"])[ok],
            (bins["ci_upper"] - bins["y_mean"])[ok],
        ],
        fmt="none",
        ecolor="0.6",
        elinewidth=0.8,
        capsize=0,
    )
    J = bins.attrs["n_bins"]
    ax.plot(
        bins["x_mean"],
        bins["y_mean"],
        "o",
        color="C0",
        ms=4,
        label=f"bin means ({J[0]} | {J[1]} bins, {level} CI)",
    )
    below = xv < c
    if fit:
        rd = local_polynomial_rd(xv, yv, c, p=p, kernel=kernel, bandwidth=bandwidth)
        h = rd.bandwidth
        ax.axvspan(c - h, c + h, color="C1", alpha=0.08, lw=0, label=f"bandwidth h = {h:.3g}")
        for k, mask, lo, hi in (
            (0, below, max(c - h, float(xv.min())), c),
            (1, ~below, c, min(c + h, float(xv.max()))),
        ):
            coef = _local_fit(xv[mask], yv[mask], c, h, p, kernel)
            g = np.linspace(lo, hi, 200)
            ax.plot(
                g,
                np.polynomial.polynomial.polyval((g - c) / h, coef),
                color="C1",
                lw=2,
                label=f"local fit (p = {p}, the estimate)" if k == 0 else None,
            )
        ax.plot(
            [c, c],
            [rd.intercept_below, rd.intercept_above],
            "o",
            mfc="white",
            mec="C1",
            ms=7,
            label=f"boundary estimates (jump {rd.estimate:.3g})",
        )
    if global_fit:
        for k, mask in enumerate((below, ~below)):
            xs, ys = xv[mask], yv[mask]
            deg = min(global_order, np.unique(xs).size - 1)
            scale = float(np.max(np.abs(xs - c))) or 1.0
            coef = np.polynomial.polynomial.polyfit((xs - c) / scale, ys, deg)
            g = np.linspace(xs.min(), c, 200) if k == 0 else np.linspace(c, xs.max(), 200)
            ax.plot(
                g,
                np.polynomial.polynomial.polyval((g - c) / scale, coef),
                color="0.4",
                lw=1.2,
                ls="--",
                label=f"global fit (not the estimate), order {deg}" if k == 0 else None,
            )
    ax.axvline(c, color="0.3", lw=0.8, ls=":")
    ax.set_xlabel("running variable")
    ax.set_ylabel("outcome")
    ax.legend(frameon=False, fontsize="small")
    return ax
