"""Numerical core of the R3D estimator (regression discontinuity with distribution outcomes).

Given the running variable ``x`` and the matrix ``Q`` of unit quantile functions on a grid
``q`` (``Q[i, j] = Q_{Y_i}(q_j)``), :func:`estimate_r3d` fits one-sided local polynomials
of every quantile column at the cutoff, makes the two boundary curves monotone
(rearrangement for ``method="simple"``, isotonic L2 projection for ``method="frechet"``)
and returns the local average quantile treatment effect

    tau(q) = m_+(q) - m_-(q)                      (sharp design)
    tau(q) = (m_+(q) - m_-(q)) / (m_{T+} - m_{T-})  (fuzzy design),

together with everything the multiplier bootstrap (:mod:`r3d._inference`) needs: the
intercept weights of both sides and the per-unit residuals.

The variant is an :class:`r3d._rules.R3DRules`: :data:`~r3d._rules.PAPER` (default) follows
the paper, :data:`~r3d._rules.R3D_28744DB` reproduces the R package R3D (Van Dijcke; commit
28744db) number for number. The differences are listed in ``docs/r3d.md``
(``docs/r3d_spec.md`` for the R package itself).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from estkit._bandwidth import BandwidthSelection, _offset, _select
from estkit._kernels import Kernel, get_kernel
from estkit._locpoly import _locpoly, polynomial_basis
from estkit._monotone import isotonic_regression, rearrange, trapezoid_weights
from estkit._parallel import blas_single_thread, both_sides, memory_budget_bytes
from estkit._validation import (
    check_bandwidth,
    check_bool,
    check_int,
    check_option,
    check_scalar,
)
from estkit._windowed import (
    SortedSide,
    _chunks,
    _slices,
    check_windows,
    fit_into,
    prepare_side,
)
from r3d._prepared import R3DSample
from r3d._rules import PAPER, R3DRules

__all__ = ["BoundaryCurves", "R3DCore", "estimate_r3d"]

Method = Literal["simple", "frechet"]


@dataclass(frozen=True)
class BoundaryCurves:
    """An effect on a quantile grid with its two boundary curves: the leading fields of
    :class:`R3DCore` and :class:`r3d._debias.DebiasedCore`.

    Attributes
    ----------
    q : ndarray, shape (m,)
        Quantile grid.
    tau : ndarray, shape (m,)
        The effect (each subclass says which).
    plus, minus : ndarray, shape (m,)
        Boundary quantile curves above and below the cutoff after the monotone step.
    plus_raw, minus_raw : ndarray, shape (m,)
        Boundary intercepts before the monotone step.
    """

    q: np.ndarray
    tau: np.ndarray
    plus: np.ndarray
    minus: np.ndarray
    plus_raw: np.ndarray
    minus_raw: np.ndarray


@dataclass(frozen=True)
class R3DCore(BoundaryCurves):
    """Output of :func:`estimate_r3d` (arrays indexed by unit ``i`` and quantile ``j``).

    Attributes
    ----------
    q, tau, plus, minus, plus_raw, minus_raw
        As in :class:`BoundaryCurves`: ``tau`` is the estimated (local average quantile)
        treatment effect; ``plus``, ``minus`` the monotone boundary curves ``m_+``, ``m_-``
        (after rearrangement or isotonic projection), ``tau = plus - minus`` (divided by
        ``first_stage`` when fuzzy); ``plus_raw``, ``minus_raw`` row 0 of ``coef_*``.
    coef_plus, coef_minus : ndarray, shape (p+1, m)
        Local polynomial coefficients on the scaled basis ``(1, u, ..., u^p)``.
    weights_plus, weights_minus : ndarray, shape (n, m)
        Intercept weights (``plus_raw = weights_plus.T @ Q``).
    resid : ndarray, shape (n, m)
        Outcome residuals used by the bootstrap (zero outside the bootstrap support; see
        ``estimate_r3d``). Each unit lies on one side, so one matrix serves both. Default
        rules (``hc2``): leverage-corrected, ``(Q - fitted) / sqrt(1 - leverage)``; R3D: raw.
    leverage : ndarray, shape (n, m)
        Leverage ``h_ii`` of each unit in its side's fit (zero outside the window).
    bandwidth : ndarray, shape (m,)
        Outcome bandwidth per quantile (constant for ``"frechet"``).
    bandwidth_treatment : float or None
        First-stage bandwidth (fuzzy designs).
    first_stage : float or None
        Jump of ``E[T | X]`` at the cutoff (fuzzy designs).
    coef_treatment_plus, coef_treatment_minus : ndarray, shape (p+1,), or None
    resid_treatment : ndarray, shape (n,), or None
        Treatment residuals used by the bootstrap (leverage-corrected in default mode).
    weights_treatment_plus, weights_treatment_minus : ndarray, shape (n,), or None
        Weights multiplying ``resid_treatment`` in the bootstrap. Paper: the treatment
        fit's own intercept weights. R3D (``treatment_residuals="first_outcome"``): the
        *outcome* weights of the first quantile column.
    method, kernel : str
    p, s : int
    fuzzy : bool
    rules : R3DRules
        The rules the estimate followed (the inference layer reads its critical-value
        fields).
    selection : BandwidthSelection or None
        Full output of the bandwidth selector when bandwidths were selected.
    degenerate : ndarray of bool, shape (m,), or None
        Grid points without real variation across units (decided by the caller, e.g. with
        :func:`estkit.negligible_variation`): ``tau`` is exactly 0 there, ``plus`` equals
        ``minus``, the residuals are zero, and inference leaves them out of sup statistics.
    """

    coef_plus: np.ndarray
    coef_minus: np.ndarray
    weights_plus: np.ndarray
    weights_minus: np.ndarray
    resid: np.ndarray
    leverage: np.ndarray
    bandwidth: np.ndarray
    bandwidth_treatment: float | None
    first_stage: float | None
    coef_treatment_plus: np.ndarray | None
    coef_treatment_minus: np.ndarray | None
    resid_treatment: np.ndarray | None
    weights_treatment_plus: np.ndarray | None
    weights_treatment_minus: np.ndarray | None
    method: str
    kernel: str
    p: int
    s: int
    fuzzy: bool
    rules: R3DRules
    cutoff: float
    selection: BandwidthSelection | None
    degenerate: np.ndarray | None = None

    @property
    def n(self) -> int:
        """Number of units."""
        return int(self.weights_plus.shape[0])

    @property
    def numerator(self) -> np.ndarray:
        """``plus - minus`` (the jump of the monotone boundary curves)."""
        return self.plus - self.minus


def estimate_r3d(
    x: np.ndarray,
    Q: np.ndarray,
    q: np.ndarray,
    *,
    cutoff: float = 0.0,
    T: np.ndarray | None = None,
    method: Method = "simple",
    p: int = 2,
    kernel: str | Kernel = "epanechnikov",
    bandwidth: float | np.ndarray | None = None,
    bandwidth_treatment: float | None = None,
    coverage_correction: bool = False,
    s: int = 1,
    rules: R3DRules = PAPER,
    Q_bandwidth: np.ndarray | None = None,
    first_stage_tol: float = 1e-8,
    degenerate: np.ndarray | None = None,
    memory_budget: int | None = None,
) -> R3DCore:
    """Estimate the R3D / F3D treatment effect on a quantile grid.

    Parameters
    ----------
    x : array_like, shape (n,)
        Running variable.
    Q : array_like, shape (n, m)
        Unit quantile functions on ``q`` (``Q[i, j]`` is unit ``i``'s ``q_j``-quantile).
    q : array_like, shape (m,)
        Strictly increasing quantile levels in ``(0, 1)``.
    cutoff : float, default 0
        Treatment threshold; ``x >= cutoff`` is above.
    T : array_like, shape (n,), optional
        Treatment indicator; when given the design is fuzzy.
    method : {"simple", "frechet"}, default "simple"
        ``"simple"``: per-quantile fits (per-quantile MSE bandwidths) and monotone
        rearrangement of the boundary curves. ``"frechet"``: one IMSE bandwidth and the
        isotonic L2 projection (local Frechet regression in Wasserstein space).
    p : int, default 2
        Local polynomial order.
    kernel : str or Kernel, default "epanechnikov"
    bandwidth : float or array_like (m,), optional
        Outcome bandwidth(s). ``None`` runs :func:`estkit._bandwidth.select_bandwidth`
        (``criterion="mse"`` for ``"simple"``, ``"imse"`` for ``"frechet"``).
    bandwidth_treatment : float, optional
        First-stage bandwidth (fuzzy); selected when ``None``.
    coverage_correction : bool, default False
        Coverage-error rule-of-thumb adjustment of selected bandwidths.
    s : int, default 1
        Pilot order of the bandwidth selector.
    rules : R3DRules, default PAPER
        The variant (see :mod:`r3d._rules` and ``docs/r3d.md``): selector, bootstrap
        residuals (support, HC2, fuzzy treatment residuals), monotonisation.
    Q_bandwidth : array_like (n, m), optional
        Quantile matrix used for bandwidth selection only (R3D selects bandwidths on the
        unweighted quantiles even when the estimate uses weighted quantiles).
    first_stage_tol : float, default 1e-8
        A fuzzy first-stage jump with absolute value below this raises ``ValueError``.
    degenerate : array_like of bool, shape (m,), optional
        Grid points whose unit quantiles carry no real variation (constant or top-coded
        outcomes): reported as exactly zero effect (``plus = minus`` = the common value,
        zero residuals) instead of rounding residue.

    Returns
    -------
    R3DCore

    Raises
    ------
    ValueError
        Invalid inputs, a first stage that is (near) zero, or (``EstimationError``) a
        kernel window that cannot identify the local polynomial.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> x = rng.uniform(-1, 1, 400)
    >>> q = np.linspace(0.1, 0.9, 9)
    >>> Q = 1 + x[:, None] + 2 * (x[:, None] >= 0) + q[None, :] + rng.normal(0, .1, (400, 1))
    >>> core = estimate_r3d(x, Q, q, bandwidth=0.5)
    >>> bool(np.allclose(core.tau, 2, atol=0.2))
    True
    """
    sample = R3DSample.build(
        x,
        Q,
        q,
        cutoff,
        T=T,
        Q_bandwidth=Q_bandwidth,
        degenerate=degenerate,
        purpose="estimate_r3d",
    )
    method = check_option(method, "method", Method)
    m = sample.q.size
    h = None if bandwidth is None else check_bandwidth(bandwidth, m, "bandwidth")
    h_den = None
    if T is not None and bandwidth_treatment is not None:
        h_den = check_scalar(bandwidth_treatment, "bandwidth_treatment", positive=True)
    return _estimate(
        sample,
        method=method,
        p=check_int(p, "p", minimum=0),
        kern=get_kernel(kernel),
        h=h,
        h_den=h_den,
        coverage_correction=check_bool(coverage_correction, "coverage_correction"),
        s=check_int(s, "s", minimum=0),
        rules=rules,
        first_stage_tol=first_stage_tol,
        memory_budget=memory_budget,
    )


def _estimate(
    sample: R3DSample,
    *,
    method: str,
    p: int,
    kern: Kernel,
    h: np.ndarray | None,
    h_den: float | None,
    coverage_correction: bool,
    s: int,
    rules: R3DRules,
    first_stage_tol: float,
    memory_budget: int | None,
) -> R3DCore:
    """Trusted core of :func:`estimate_r3d`: a checked sample, checked options; ``h`` of
    shape (m,) or ``None`` (select), ``h_den`` (fuzzy) or ``None`` (select)."""
    xv, Qm, qv, Tv, cutoff = sample.x, sample.Q, sample.q, sample.T, sample.cutoff
    fuzzy = Tv is not None

    selection: BandwidthSelection | None = None
    need_num = h is None
    need_den = fuzzy and h_den is None
    # compact kernels: each side sorted by distance to the cutoff once, for the selector's
    # Step-2 fits (when its kernel is this one) and the side fits (estkit._windowed)
    sides: dict[str, SortedSide] | None = None
    if kern.compact:
        order = max(s + 1, p) if need_num or need_den else p
        sides = _prepare_sides(xv, cutoff, kern, order)
    if need_num or need_den:
        # the selector's products are skinny (a few columns against n units): a
        # multi-threaded BLAS only adds wake-ups and spinning (estkit._parallel)
        with blas_single_thread():
            selection = _select(
                xv,
                _offset(xv, cutoff),
                Qm if sample.Q_bandwidth is None else sample.Q_bandwidth,
                cutoff,
                criterion="mse" if method == "simple" else "imse",
                s=s,
                p=p,
                kern=kern,
                T=Tv if need_den else None,
                q=qv,
                coverage_correction=coverage_correction,
                rules=rules.selector,
                memory_budget=memory_budget,
                sides=sides,
            )
    if h is None:
        assert selection is not None
        h = selection.h
    if method == "frechet" and not np.all(h == h[0]):
        raise ValueError("`method='frechet'` uses one bandwidth for all quantiles.")
    if need_den:
        assert selection is not None and selection.h_treatment is not None
        h_den = float(selection.h_treatment)

    # p + 2 units per side: p + 1 identify the fit, one more leaves a residual for inference
    # (R3D only needs the fit identified)
    need = p + 2 if rules.residual_unit else None
    coef_p, coef_m, wp, wm, resid, leverage = _fit_sides(
        xv, Qm, qv, cutoff, h, p, kern, need, method, rules, memory_budget, sides
    )

    # ---- boundary curves ---------------------------------------------------------------
    raw_p, raw_m = coef_p[0].copy(), coef_m[0].copy()
    if method == "frechet":
        gw = _projection_weights(qv, rules)
        cur_p = isotonic_regression(raw_p, gw)
        cur_m = isotonic_regression(raw_m, gw)
    else:
        cur_p = rearrange(raw_p, qv, method=rules.rearrangement)
        cur_m = rearrange(raw_m, qv, method=rules.rearrangement)
    deg = sample.degenerate
    if deg.any():
        # every unit carries the same value: both boundary curves are that value
        common = np.median(Qm[:, deg], axis=0)
        cur_p, cur_m = cur_p.copy(), cur_m.copy()
        cur_p[deg] = cur_m[deg] = common
        resid = resid.copy()
        resid[:, deg] = 0.0
    tau = cur_p - cur_m

    # ---- fuzzy first stage -------------------------------------------------------------
    first_stage = None
    cTp = cTm = rT = wTp = wTm = None
    if fuzzy:
        assert Tv is not None and h_den is not None
        hT = np.array([h_den])
        tp = _locpoly(xv, Tv[:, None], cutoff, hT, p, kern, "plus", min_units=need)
        tm = _locpoly(xv, Tv[:, None], cutoff, hT, p, kern, "minus", min_units=need)
        cTp, cTm = tp.coef[:, 0].copy(), tm.coef[:, 0].copy()
        first_stage = float(cTp[0] - cTm[0])
        if not np.isfinite(first_stage) or abs(first_stage) < first_stage_tol:
            raise ValueError(
                f"The first stage of the fuzzy design is (near) zero: the estimated jump of "
                f"E[treatment | x] at the cutoff is {first_stage:.3g} (bandwidth "
                f"{h_den:.4g}). Check `treatment` (it must change at the cutoff) or use a "
                f"sharp design."
            )
        if rules.treatment_residuals == "first_outcome":
            # R3D: support and weights of the first outcome column; fitted values of the
            # treatment fit evaluated at x / h_den on that support
            basis = polynomial_basis((xv - cutoff) / h_den, p)
            on_p, on_m = wp[:, 0] > 0, wm[:, 0] > 0
            fitT = np.where(on_p, basis @ cTp, 0.0) + np.where(on_m, basis @ cTm, 0.0)
            rT = np.where(on_p | on_m, Tv - fitT, 0.0)
            wTp, wTm = wp[:, 0].copy(), wm[:, 0].copy()
        else:
            rT = _hc2(tp.resid[:, 0], tp.leverage[:, 0], rules) + _hc2(
                tm.resid[:, 0], tm.leverage[:, 0], rules
            )
            wTp, wTm = tp.weights[:, 0].copy(), tm.weights[:, 0].copy()
        tau = tau / first_stage

    return R3DCore(
        q=qv,
        tau=tau,
        plus=cur_p,
        minus=cur_m,
        plus_raw=raw_p,
        minus_raw=raw_m,
        coef_plus=coef_p,
        coef_minus=coef_m,
        weights_plus=wp,
        weights_minus=wm,
        resid=resid,
        leverage=leverage,
        bandwidth=np.asarray(h, dtype=float).copy(),
        bandwidth_treatment=h_den,
        first_stage=first_stage,
        coef_treatment_plus=cTp,
        coef_treatment_minus=cTm,
        resid_treatment=rT,
        weights_treatment_plus=wTp,
        weights_treatment_minus=wTm,
        method=method,
        kernel=kern.name,
        p=p,
        s=int(s),
        fuzzy=fuzzy,
        rules=rules,
        cutoff=float(cutoff),
        selection=selection,
        degenerate=deg,
    )


def _prepare_sides(
    xv: np.ndarray, cutoff: float, kern: Kernel, order: int
) -> dict[str, SortedSide]:
    """Both sides sorted by distance to the cutoff (:func:`estkit._windowed.prepare_side`),
    in two threads."""
    plus, minus = both_sides(
        lambda: prepare_side(xv, cutoff, "plus", kern, order),
        lambda: prepare_side(xv, cutoff, "minus", kern, order),
    )
    return {"plus": plus, "minus": minus}


def _leverage(fp, fm, cols: slice) -> np.ndarray:
    """Each unit's leverage in its side's fit (zero outside the window)."""
    return np.where(fp.in_window[:, cols], fp.leverage[:, cols], 0.0) + np.where(
        fm.in_window[:, cols], fm.leverage[:, cols], 0.0
    )


def _fit_sides(
    xv: np.ndarray,
    Qm: np.ndarray,
    qv: np.ndarray,
    cutoff: float,
    h: np.ndarray,
    p: int,
    kern: Kernel,
    need: int | None,
    method: str,
    rules: R3DRules,
    memory_budget: int | None,
    sides: dict[str, SortedSide] | None = None,
) -> tuple[np.ndarray, ...]:
    """Both one-sided fits, the bootstrap residuals and the leverages, memory-bounded.

    The local polynomial fits run over blocks of quantile columns (each column's fit is
    separate), writing the fitted values straight into the one ``(n, m)`` output array;
    the Frechet projection and the residuals then run over blocks of units. Weights,
    supports and leverages shared by all columns (one bandwidth) stay ``(n, 1)`` columns
    broadcast to ``(n, m)``. Returns ``coef_plus, coef_minus, weights_plus,
    weights_minus, resid, leverage``.

    Compact kernels fit from the sides sorted by distance to the cutoff (``sides``, from
    :func:`estkit._windowed.prepare_side`, or prepared here): each column touches only its
    window (:func:`estkit._windowed.fit_into`); the Gaussian kernel keeps
    :func:`estkit._locpoly._locpoly` over blocks of columns.
    """
    n, m = Qm.shape
    budget = memory_budget_bytes(memory_budget, n, m)
    coef_p, coef_m, wp, wm, resid, lev, sup_p, sup_m = _fit_both_sides(
        xv, Qm, cutoff, h, p, kern, need, rules, budget, sides
    )
    # units outside both supports have zero fitted values and zero residuals already: the
    # projection and the residual pass touch only the units of a support
    rows = np.flatnonzero(sup_p.any(axis=1) | sup_m.any(axis=1))
    # isotonic projection (across quantiles) of each unit's fitted curve ("frechet"); R3D
    # projects the whole row of every unit with any positive weight, the default units
    # inside the window. One pass over the rows: projection, residual, HC2 (in place)
    gw = _projection_weights(qv, rules) if method == "frechet" else None

    def residuals(ri: np.ndarray | slice) -> None:
        """The pass over rows ``ri``: an index array, or a range of rows (then in place; a
        unit of the range outside every support has zero fitted values, so a zero
        residual either way)."""
        fit = resid[ri]
        if method == "frechet":
            fit = _isotonic_rows(fit, gw)
        e = np.subtract(Qm[ri], fit, out=fit)
        _zero_off_support(e, sup_p[ri] | sup_m[ri])
        e = _hc2(e, lev[ri], rules, in_place=True)
        if not (isinstance(ri, slice) and np.shares_memory(e, resid)):
            resid[ri] = e

    # blocks of rows (~6 (m,) temporaries a row; two threads, half the budget each) that
    # stay in cache (each step is a pass over the block; ~1 MiB)
    row_step = max(1, min(max(1, budget // (8 * 6 * m)) // 2, _RESIDUAL_CELLS // m))
    if rows.size and rows.size >= _DENSE_SUPPORT * (rows[-1] + 1 - rows[0]):
        # the supports hold most of the rows they span: whole ranges of rows, in place (no
        # gather and scatter of the support's rows)
        blocks: list[np.ndarray | slice] = list(_slices(int(rows[-1]) + 1, row_step, int(rows[0])))
    else:
        blocks = [rows[r] for r in _slices(rows.size, row_step)]
    # row by row, so two threads over two halves of the blocks give the same numbers
    half = len(blocks) // 2

    def run(part: list[np.ndarray | slice]) -> None:
        for ri in part:
            residuals(ri)

    both_sides(lambda: run(blocks[:half]), lambda: run(blocks[half:]))
    if wp.shape[1] == 1:  # one bandwidth: one column, broadcast
        wp, wm, lev = (np.broadcast_to(v, (n, m)) for v in (wp, wm, lev))
    return coef_p, coef_m, wp, wm, resid, lev


def _fit_both_sides(
    xv: np.ndarray,
    Qm: np.ndarray,
    cutoff: float,
    h: np.ndarray,
    p: int,
    kern: Kernel,
    need: int | None,
    rules: R3DRules,
    budget: int,
    sides: dict[str, SortedSide] | None = None,
    *,
    windowed: bool | None = None,
) -> tuple[np.ndarray, ...]:
    """The two side fits of :func:`_fit_sides`: ``coef_plus, coef_minus, weights_plus,
    weights_minus, fitted, leverage, support_plus, support_minus`` (weights, leverages and
    supports one column when the bandwidth is common, the fitted values of both sides
    summed in one ``(n, m)`` array).

    ``windowed`` (default: the kernel is compact) fits from the sides sorted by distance to
    the cutoff (``sides``, prepared here unless they match), each column touching only its
    window (:func:`estkit._windowed.fit_into`); otherwise :func:`estkit._locpoly._locpoly`
    runs over blocks of columns (the Gaussian kernel).
    """
    n, m = Qm.shape
    common = bool(np.all(h == h[0]))
    k = 1 if common else m  # one bandwidth: weights, supports, leverages are one column
    resid = np.zeros((n, m))  # fitted values first, residuals in place afterwards
    wp, wm, lev = np.zeros((n, k)), np.zeros((n, k)), np.zeros((n, k))
    sup_p, sup_m = np.zeros((n, k), dtype=bool), np.zeros((n, k), dtype=bool)
    if kern.compact if windowed is None else windowed:
        if sides is None or not all(v.serves(kern, p) for v in sides.values()):
            sides = _prepare_sides(xv, cutoff, kern, p)
        ps, ms = sides["plus"], sides["minus"]
        check_windows(ps, ms, h, p, cutoff, need)
        check_windows(ms, ps, h, p, cutoff, need)
        support: Literal["window", "positive_weight"] = (
            "positive_weight" if rules.residual_support == "positive_weight" else "window"
        )

        def fit(side: SortedSide, w: np.ndarray, sup: np.ndarray) -> np.ndarray:
            return fit_into(
                side,
                Qm,
                h,
                p,
                fitted_out=resid,
                weights_out=w,
                leverage_out=lev,
                support_out=sup,
                support=support,
                # the core's temporaries run to about twice its budget (measured), and the
                # two sides run at once: a quarter of the fit's budget each keeps the peak
                # of the side fits at that of the residual pass
                memory_budget=budget // 4,
                residual_sums=False,  # only the coefficients and the unit-level outputs
            ).coef

        coef_p, coef_m = both_sides(lambda: fit(ps, wp, sup_p), lambda: fit(ms, wm, sup_m))
        return coef_p, coef_m, wp, wm, resid, lev, sup_p, sup_m
    # about 12 (n,)-sized temporaries per quantile column in the two side fits
    coef_p, coef_m = np.empty((p + 1, m)), np.empty((p + 1, m))
    for cols in _chunks(m, n, budget, 12):
        fp = _locpoly(xv, Qm[:, cols], cutoff, h[cols], p, kern, "plus", min_units=need)
        fm = _locpoly(xv, Qm[:, cols], cutoff, h[cols], p, kern, "minus", min_units=need)
        coef_p[:, cols], coef_m[:, cols] = fp.coef, fm.coef
        if rules.residual_support == "positive_weight":
            sp, sm = fp.weights > 0, fm.weights > 0
        else:
            sp, sm = fp.in_window, fm.in_window
        np.add(np.where(sp, fp.fitted, 0.0), np.where(sm, fm.fitted, 0.0), out=resid[:, cols])
        if common:
            if cols.start == 0:  # identical for every block: keep one column
                wp[:], wm[:] = fp.weights[:, :1], fm.weights[:, :1]
                sup_p[:], sup_m[:] = sp[:, :1], sm[:, :1]
                lev[:] = _leverage(fp, fm, slice(0, 1))
        else:
            wp[:, cols], wm[:, cols] = fp.weights, fm.weights
            lev[:, cols] = _leverage(fp, fm, slice(None))
            sup_p[:, cols], sup_m[:, cols] = sp, sm
        del fp, fm, sp, sm
    return coef_p, coef_m, wp, wm, resid, lev, sup_p, sup_m


#: elements of a row block of the residual pass (about 1 MiB: stays in cache)
_RESIDUAL_CELLS = 2**17
#: share of the rows they span that the supports must hold for the residual pass to run
#: over whole ranges of rows in place (the same numbers as over the support's rows)
_DENSE_SUPPORT = 0.5

# 1 - h_ii is floored here before the square root (only a unit that the local polynomial
# interpolates exactly reaches h_ii = 1, and its residual is then zero)
_LEVERAGE_FLOOR = 1e-12


def _projection_weights(q: np.ndarray, rules: R3DRules) -> np.ndarray | None:
    """Weights of the ``"frechet"`` isotonic projection on the grid (``None``: equal)."""
    return trapezoid_weights(q) if rules.frechet_weights == "trapezoid" else None


def _isotonic_rows(fit: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """``isotonic_regression(fit, weights)`` for a block of fitted curves (rows), projecting
    only the rows that are not monotone (the others are returned unchanged by it too).

    Falls back to the whole block when it may hold a non-finite value (a sum that is not
    finite), so ``isotonic_regression``'s error stays the same.
    """
    if fit.shape[1] < 2 or not np.isfinite(fit.sum()):
        return isotonic_regression(fit, weights)
    # y[j+1] - y[j] >= 0 is y[j+1] >= y[j] for finite values (gradual underflow)
    bad = np.flatnonzero((fit[:, 1:] < fit[:, :-1]).any(axis=1))
    if bad.size:
        fit[bad] = isotonic_regression(fit[bad], weights)
    return fit


def _zero_off_support(e: np.ndarray, support: np.ndarray) -> None:
    """``e[~support] = 0`` in place (``support`` of shape (r, 1) or like ``e``), as
    ``np.where(support, e, 0.0)``."""
    if support.shape[1] == 1 and e.shape[1] != 1:
        e[np.flatnonzero(~support[:, 0])] = 0.0
    else:
        e[~support] = 0.0


def _hc2(
    resid: np.ndarray, leverage: np.ndarray, rules: R3DRules = PAPER, *, in_place: bool = False
) -> np.ndarray:
    """Leverage-corrected (HC2) residuals ``e_i / sqrt(1 - h_ii)`` (raw residuals when
    ``rules.hc2`` is off); ``in_place=True`` overwrites ``resid`` (same values).

    ``E[e_i^2] = sigma_i^2 (1 - h_ii)`` for a homoskedastic linear smoother, so the raw
    residuals understate the variance of units with high leverage (those near the cutoff,
    whose intercept weights are the largest); the rescaled ones are unbiased there. Zero
    residuals (outside the window) stay zero.
    """
    if not rules.hc2:
        return resid
    scale = np.sqrt(np.clip(1.0 - leverage, _LEVERAGE_FLOOR, None))
    if in_place:
        resid /= scale
        return resid
    return resid / scale
