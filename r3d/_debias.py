"""Robust bias-corrected (debiased) distributional RD: the core of ``bias_correction="robust"``.

This is the distributional analogue of Calonico, Cattaneo and Titiunik (2014, CCT; the
reference implementation rdrobust 2.1.1 and our scalar :func:`estkit.local_polynomial_rd`),
applied quantile by quantile to the unit quantile functions ``Q[i, j] = Q_{Y_i}(q_j)``.

Estimator, per quantile column ``j`` and side ``s`` (``+``: ``x >= c``, ``-``: ``x < c``)
-------------------------------------------------------------------------------------
* conventional boundary intercept of order ``p`` with bandwidth ``h_j``:
  ``m_s(q_j) = sum_i a_ij Q_ij`` (equivalent-kernel weights ``a``);
* its leading bias ``h^(p+1) e0' G_p^-1 L mu^(p+1)_s / (p+1)!`` is estimated with a local
  polynomial of order ``p + 1`` and bandwidth ``b_j`` (``mu^(p+1)`` the (p+1)-th
  derivative) and subtracted. The bias-corrected intercept is again linear in the data,
  ``m^bc_s(q_j) = sum_i a^bc_ij Q_ij`` with
  ``a^bc = a - (h/b)^(p+1) (e0' G_p^-1 L) omega``, ``omega`` the equivalent-kernel weights
  of the ``(p+1)``-th coefficient of the order-``(p+1)`` fit on its scaled basis and
  ``L = sum_i K_h(x_i) u_i^(p+1) r_p(u_i)`` (CCT's ``Q_q``);
* the robust variance is the variance of that linear form, ``sum_i (a^bc_ij e_ij)^2``,
  with residuals ``e`` of the order-``(p+1)`` fit at bandwidth ``b`` (HC0; HC1-HC3
  rescale them; with clusters rdrobust's CR1 sum per side).
  The influence scores returned are ``S_ij = +/- a^bc_ij e_ij`` (sign of the unit's side), so
  ``tau^bc - tau ~ sum_i S_i`` and a multiplier bootstrap ``sum_i xi_i S_i`` of these
  scores is the robust bias-corrected process (the sum of squared scores is the robust
  variance). Nothing here conditions on ``b`` being small: with ``b = h`` the correction
  is CCT's ``rho = 1`` version.
* fuzzy designs: as rdrobust, the ratio is corrected by linearisation around the
  conventional ratio: with ``N`` the outcome jump and ``D`` the first-stage jump,
  ``tau^bc = N^bc / D + N (D - D^bc) / D^2`` (equal to ``tau - [(N - N^bc)/D -
  N (D - D^bc)/D^2]``, rdrobust's ``tau_bc``), and the scores are
  ``S^N / D - N S^D / D^2``. It agrees with the plain ratio ``N^bc / D^bc`` to second
  order (product of the two bias estimates); the linear form is what makes the robust
  standard error the exact variance of the corrected estimator's linear representation.

The quantile columns are separate fits, so at any single column the estimate and the
robust standard error equal ``estkit.local_polynomial_rd(x, Q[:, j], bandwidth=h_j,
bias_bandwidth=b_j, p=p, ...)`` (``estimate_bias_corrected`` and ``std_error_robust``);
``tests/r3d/test_debias.py`` checks this to 1e-10.

Monotone step (why we correct first and rearrange after)
--------------------------------------------------------
The boundary quantile curves ``m_+(q)`` and ``m_-(q)`` must be quantile functions
(non-decreasing). The bias estimate is a smooth linear functional of the data, the
monotone step is not; so we bias-correct the *raw* per-quantile intercepts of each side
and then apply the same monotone operator as the conventional estimator to the corrected
curves: sorting (Chernozhukov, Fernandez-Val and Galichon 2010 rearrangement) for
``method="simple"`` and the grid-weighted isotonic L2 projection for ``method="frechet"``
(local Frechet regression in Wasserstein space: project the corrected local polynomial
curve onto the monotone cone). Correcting after the monotone step would apply a linear
bias formula to a non-linear (piecewise permuted or pooled) estimator, and would not
return a quantile function (the correction itself can break monotonicity, since its
variance is larger than the estimate's). Both monotone operators are Hadamard
(directionally) differentiable and equal the identity at strictly increasing curves, so
where the true boundary quantile functions are strictly increasing the corrected-then-
monotonised estimator has the same first-order linear representation as the raw corrected
one; the scores above are those of the raw corrected estimator, exactly as the existing
conventional bootstrap (:mod:`r3d._inference`) uses the raw intercept weights around the
rearranged estimate, and by CFG (2009) the monotone step can only move the estimate
closer (in L_p) to a monotone truth. At a single column the monotone step is the
identity, which keeps the scalar parity exact.

For ``"frechet"`` one ``h`` and one ``b`` serve every quantile (:func:`select_bias_bandwidth`
with ``criterion="imse"``), as the conventional Frechet estimator uses one IMSE
bandwidth. Its residuals are the per-column order-``(p+1)`` residuals (no row-wise
isotonic projection of each unit's fitted curve as in the conventional Frechet bootstrap):
that projection is asymptotically immaterial and keeping the residuals linear keeps the
scalar parity.

Which bandwidths
----------------
``h`` is whatever the caller uses for the point estimate (r3d's own selector, or the
mserd ``h`` that :func:`select_bias_bandwidth` also returns); ``b`` is rdrobust's "mserd"
bias bandwidth (CCT's MSE-optimal bandwidth for the ``(p+1)``-th derivative jump with the
regularisation term), computed per quantile (``criterion="mse"``, exactly rdrobust's ``b``
of that column) or integrated over the grid (``criterion="imse"``: the numerator and
denominator of each of rdrobust's three steps are integrated with the grid's trapezoid
weights, in the outcome's units). ``b`` does not depend on ``h``. Fuzzy designs: as r3d
(one first stage with its own bandwidth) the treatment regression gets its own ``(h, b)``
from the same selector applied to the treatment as outcome; rdrobust's fuzzy selector
instead targets the ratio jointly.

Relation to R3D's default (implicit) bias handling
--------------------------------------------------
With ``b = h`` (CCT's ``rho = h / b = 1``) the bias-corrected local polynomial of order
``p`` *is* the local polynomial of order ``p + 1`` at ``h``, and with ``vce="hc2"`` its
scores are exactly R3D's bootstrap scores (order-``(p+1)`` intercept weights times
leverage-corrected residuals). So R3D's default, order ``p = s + 1 = 2`` at the
order-``s = 1`` MSE-optimal bandwidth, is the robust bias-corrected local linear estimator
with ``rho = 1`` (to 1e-12 for ``method="simple"``; ``tests/r3d/test_debias.py``). The
explicit option differs from today's default only through ``b != h`` (or a main order
``p`` with ``b`` for order ``p + 1``). In the paper's designs the population bias
difference at the cutoff is zero (the curvature is continuous there), so the mserd ``b``
is driven by noise (about 0.46 against R3D's ``h`` of 0.62 in DGP 1) and the correction
adds variance that the bootstrap, conditioning on ``b``, only partly sees
(``benchmarks/mc_debias.py``).

Everything here is a pure core: inputs are trusted (validated by the caller, e.g.
``R3D.fit``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from estkit import BootstrapInference, BootstrapRules
from estkit._kernels import Kernel, KernelName, get_kernel
from estkit._monotone import isotonic_regression, rearrange, trapezoid_weights
from estkit._parallel import memory_budget_bytes
from estkit._windowed import _chunks
from estkit.exceptions import EstimationError
from r3d._estimate import BoundaryCurves
from r3d._inference import Multipliers

__all__ = [
    "BiasBandwidthSelection",
    "DebiasedCore",
    "debiased_inference",
    "estimate_r3d_robust",
    "select_bias_bandwidth",
]

Method = Literal["simple", "frechet"]
VCE = Literal["hc0", "hc1", "hc2", "hc3"]

# 1 - leverage is floored here before HC2/HC3 rescaling (as estkit.local_polynomial_rd)
_LEVERAGE_FLOOR = 1e-8


@dataclass(frozen=True)
class DebiasedCore(BoundaryCurves):
    """Output of :func:`estimate_r3d_robust` (arrays indexed by unit ``i``, quantile ``j``).

    Attributes
    ----------
    q, tau, plus, minus, plus_raw, minus_raw
        As in :class:`r3d._estimate.BoundaryCurves`, bias-corrected: ``tau`` is the robust
        bias-corrected effect (monotone step applied to each side's corrected curve;
        linearised ratio in fuzzy designs).
    bias_plus, bias_minus : ndarray, shape (m,)
        Estimated bias removed from each side (conventional minus corrected intercept).
    scores : ndarray, shape (n, m)
        Influence scores of ``tau`` (``tau - tau_0 ~ scores.sum(axis=0)``).
    std_error : ndarray, shape (m,)
        Robust standard errors (``sqrt(sum_i scores_ij^2)``, or rdrobust's CR1 cluster
        sum per side when ``cluster`` was given).
    bandwidth, bias_bandwidth : ndarray, shape (m,)
        ``h`` and ``b`` per quantile.
    bandwidth_treatment, bias_bandwidth_treatment : ndarray (m,) or None
        First-stage ``h`` and ``b`` (fuzzy), per quantile (constant when one was given).
    first_stage, first_stage_bias_corrected : ndarray (m,) or None
        Conventional and bias-corrected first-stage jumps (fuzzy).
    n_eff_plus, n_eff_minus : ndarray of int, shape (m,)
        Units with positive kernel weight at bandwidth ``h`` on each side.
    p : int
        Order of the main fit (the bias fit has order ``p + 1``).
    kernel, method, vce : str
    fuzzy : bool
    cutoff : float
    n_clusters : int or None
    degenerate : ndarray of bool (m,) or None
        Grid points reported as an exact zero effect (as in :func:`r3d._estimate.estimate_r3d`).
    """

    bias_plus: np.ndarray
    bias_minus: np.ndarray
    scores: np.ndarray
    std_error: np.ndarray
    bandwidth: np.ndarray
    bias_bandwidth: np.ndarray
    bandwidth_treatment: np.ndarray | None
    bias_bandwidth_treatment: np.ndarray | None
    first_stage: np.ndarray | None
    first_stage_bias_corrected: np.ndarray | None
    n_eff_plus: np.ndarray
    n_eff_minus: np.ndarray
    p: int
    kernel: str
    method: str
    vce: str
    fuzzy: bool
    cutoff: float
    n_clusters: int | None = None
    degenerate: np.ndarray | None = None

    @property
    def n(self) -> int:
        """Number of units."""
        return int(self.scores.shape[0])


# ------------------------------------------------------------------------------ one side


@dataclass
class _SideBC:
    """Bias-corrected fit of one side for a block of columns (rows = units of the side
    inside the widest window)."""

    rows: np.ndarray  # (r,) unit indices
    a_bc: np.ndarray  # (r, k) bias-corrected intercept weights
    resid: np.ndarray  # (r, k) variance residuals (zero outside the window)
    window: np.ndarray  # (r, k) bool: rdrobust's window (h-window if h > b, else b-window)
    est_cl: np.ndarray  # (k,) conventional intercepts
    est_bc: np.ndarray  # (k,) bias-corrected intercepts
    n_h: np.ndarray  # (k,) units with positive weight at h


def _poly(c: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Horner ``sum_a c[a] u^a`` with ``c`` (d+1, k) against ``u`` (r, k)."""
    out = np.zeros(np.broadcast_shapes(u.shape, c.shape[1:]))
    for a in range(c.shape[0] - 1, -1, -1):
        out = out * u + c[a]
    return out


def _gram_inverse(S: np.ndarray, order: int) -> np.ndarray:
    """(k, o+1, o+1) inverses of the Hankel Gram matrices built from power sums S (2o+1, k)."""
    idx = np.add.outer(np.arange(order + 1), np.arange(order + 1))
    G = np.moveaxis(S[idx], -1, 0)
    return np.linalg.inv(G)


def _fit_side_bc(
    xc: np.ndarray,
    Y: np.ndarray,
    on_side: np.ndarray,
    h: np.ndarray,
    b: np.ndarray,
    p: int,
    kern: Kernel,
    fw: np.ndarray | None,
    vce: str,
    clustered: bool,
    where: str,
) -> _SideBC:
    """CCT bias-corrected boundary intercepts of every column of ``Y`` on one side."""
    q = p + 1
    reach = np.maximum(h, b).max()
    sel = on_side & (np.abs(xc) <= reach) if kern.compact else on_side.copy()
    if fw is not None:
        sel &= fw > 0
    rows = np.flatnonzero(sel)
    xr = xc[rows, None]
    Uh, Ub = xr / h[None, :], xr / b[None, :]
    Kh, Kb = kern(Uh), kern(Ub)
    if fw is not None:
        Kh, Kb = Kh * fw[rows, None], Kb * fw[rows, None]
    in_h, in_b = Kh > 0, Kb > 0
    for name, inside, bw, order in (("h", in_h, h, p), ("b", in_b, b, q)):
        counts = inside.sum(axis=0)
        bad = np.flatnonzero(counts < order + 1)
        if bad.size:
            j = int(bad[0])
            raise EstimationError(
                f"Too few units {where} the cutoff inside the bandwidth {name} = {bw[j]:.6g} "
                f"(quantile column {j}): {int(counts[j])} with positive weight, the fit of "
                f"order {order} needs at least {order + 1}. Use a larger `bandwidth`/"
                "`bias_bandwidth` or a smaller `p`."
            )
    # power sums: u_h^0..u_h^(2p+1) (Gram of order p and L = sum K u^(p+1) r_p(u)),
    # u_b^0..u_b^(2q) (Gram of order q)
    pw = np.ones_like(Uh)
    Sh = np.empty((2 * p + 2, Uh.shape[1]))
    for a in range(2 * p + 2):
        Sh[a] = np.sum(Kh * pw, axis=0)
        pw = pw * Uh
    pw = np.ones_like(Ub)
    Sb = np.empty((2 * q + 1, Ub.shape[1]))
    for a in range(2 * q + 1):
        Sb[a] = np.sum(Kb * pw, axis=0)
        pw = pw * Ub
    Gp = _gram_inverse(Sh[: 2 * p + 1], p)  # (k, p+1, p+1)
    Gq = _gram_inverse(Sb, q)  # (k, q+1, q+1)
    L = np.stack([Sh[p + 1 + a] for a in range(p + 1)])  # (p+1, k)
    c = np.einsum("ka,ak->k", Gp[:, 0, :], L)  # e0' G_p^-1 L
    a_cl = Kh * _poly(Gp[:, 0, :].T, Uh)
    omega = Kb * _poly(Gq[:, q, :].T, Ub)  # weights of the u_b^(p+1) coefficient
    a_bc = a_cl - ((h / b) ** q * c)[None, :] * omega
    Yr = Y[rows]
    # order-q fit (coefficients on the scaled basis) for the residuals of every unit in
    # the window, also those outside the b-window when h > b (as rdrobust)
    rhs = np.empty((q + 1, Ub.shape[1]))
    pw = np.ones_like(Ub)
    for a in range(q + 1):
        rhs[a] = np.sum(Kb * Yr * pw, axis=0)
        pw = pw * Ub
    beta_q = np.einsum("kab,bk->ak", Gq, rhs)
    window = np.where((h > b)[None, :], in_h, in_b)
    e = np.where(window, Yr - _poly(beta_q, Ub), 0.0)
    if vce in ("hc2", "hc3"):
        idx = np.add.outer(np.arange(q + 1), np.arange(q + 1))
        anti = np.stack([Gq[:, idx == s].sum(axis=-1) for s in range(2 * q + 1)])
        lev = Kb * _poly(anti, Ub)
        f = 1.0 / np.maximum(1.0 - lev, _LEVERAGE_FLOOR)
        e = e * (np.sqrt(f) if vce == "hc2" else f)
    elif vce == "hc1" and not clustered:
        nw = window.sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            e = e * np.where(nw > q + 1, np.sqrt(nw / (nw - q - 1.0)), np.nan)[None, :]
    return _SideBC(
        rows=rows,
        a_bc=a_bc,
        resid=e,
        window=window,
        est_cl=np.sum(a_cl * Yr, axis=0),
        est_bc=np.sum(a_bc * Yr, axis=0),
        n_h=in_h.sum(axis=0),
    )


def _side_variance(
    score: np.ndarray, window: np.ndarray, codes: np.ndarray | None, dof_k: int
) -> np.ndarray:
    """Per-column variance of one side: ``sum score^2`` or rdrobust's CR1 sum (per side)."""
    if codes is None:
        return np.sum(score**2, axis=0)
    out = np.empty(score.shape[1])
    for j in range(score.shape[1]):
        w = window[:, j]
        cj = codes[w]
        used, inv = np.unique(cj, return_inverse=True)
        g, nw = used.size, int(w.sum())
        if g < 2 or nw <= dof_k:
            out[j] = np.nan
            continue
        sums = np.bincount(inv.ravel(), weights=score[w, j], minlength=g)
        out[j] = ((nw - 1) / (nw - dof_k)) * (g / (g - 1)) * float(sums @ sums)
    return out


def _as_columns(v: float | np.ndarray, m: int) -> np.ndarray:
    a = np.asarray(v, dtype=float).reshape(-1)
    return np.full(m, float(a[0])) if a.size == 1 else a.copy()


def _monotone(curve: np.ndarray, q: np.ndarray, method: str) -> np.ndarray:
    if method == "frechet":
        return isotonic_regression(curve, trapezoid_weights(q))
    return rearrange(curve, q, method="sort")


def estimate_r3d_robust(
    x: np.ndarray,
    Q: np.ndarray,
    q: np.ndarray,
    *,
    bandwidth: float | np.ndarray,
    bias_bandwidth: float | np.ndarray,
    cutoff: float = 0.0,
    T: np.ndarray | None = None,
    bandwidth_treatment: float | np.ndarray | None = None,
    bias_bandwidth_treatment: float | np.ndarray | None = None,
    weights: np.ndarray | None = None,
    cluster: np.ndarray | None = None,
    method: Method = "simple",
    p: int = 2,
    kernel: KernelName | Kernel = "epanechnikov",
    vce: VCE = "hc0",
    degenerate: np.ndarray | None = None,
    memory_budget: int | None = None,
) -> DebiasedCore:
    """Robust bias-corrected R3D / F3D effect, its influence scores and robust SEs.

    Pure core (inputs are trusted: finite, shapes consistent, bandwidths positive, units
    on both sides). See the module docstring for the estimator and its design choices.

    Parameters
    ----------
    x : ndarray, shape (n,)
        Running variable.
    Q : ndarray, shape (n, m)
        Unit quantile functions on the grid ``q``.
    q : ndarray, shape (m,)
        Quantile levels (strictly increasing in (0, 1)).
    bandwidth : float or ndarray (m,)
        Main bandwidth ``h`` (order ``p``); one per quantile or common.
    bias_bandwidth : float or ndarray (m,)
        Bias bandwidth ``b`` (order ``p + 1``).
    cutoff : float, default 0
        ``x >= cutoff`` is above.
    T : ndarray, shape (n,), optional
        Treatment (fuzzy design).
    bandwidth_treatment, bias_bandwidth_treatment : float or ndarray (m,), optional
        First-stage ``h`` and ``b``; ``None`` uses the outcome's ``h`` and ``b`` of each
        quantile (rdrobust's convention, one regression system per quantile). r3d passes
        its single first-stage bandwidth here.
    weights : ndarray, shape (n,), optional
        Non-negative unit weights multiplying the kernel weights (rdrobust's ``weights``).
    cluster : ndarray of int, shape (n,), optional
        Cluster codes: the standard errors become rdrobust's CR1 sums per side
        (``(n_s - 1)/(n_s - p - 2) G_s/(G_s - 1)``); the scores are unchanged (sum them
        within clusters, or draw one multiplier per cluster, for a cluster bootstrap).
    method : {"simple", "frechet"}, default "simple"
        Monotone step: rearrangement (sorting) or grid-weighted isotonic projection.
    p : int, default 2
        Order of the main fit; the bias is estimated at order ``p + 1``.
    kernel : str or Kernel, default "epanechnikov"
    vce : {"hc0", "hc1", "hc2", "hc3"}, default "hc0"
        Residuals of the scores and the variance, as :func:`estkit.local_polynomial_rd`
        (order-``(p+1)`` residuals at ``b``; HC2/HC3 with the order-``(p+1)`` leverages;
        HC1 with ``sqrt(n_s / (n_s - p - 2))`` per side, and raw residuals under
        clustering, as rdrobust).
    degenerate : ndarray of bool (m,), optional
        Grid points without real variation: exact zero effect, zero scores and SEs.
    memory_budget : int, optional
        Bytes of temporaries per block of columns (default: the size of ``Q``, >= 64 MiB).

    Returns
    -------
    DebiasedCore

    Raises
    ------
    estkit.EstimationError
        A window with too few units for the order-``p`` fit at ``h`` or the
        order-``(p+1)`` fit at ``b``, or a zero first stage.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> x = rng.uniform(-1, 1, 600)
    >>> q = np.linspace(0.1, 0.9, 9)
    >>> Q = 1 + x[:, None] + 2 * (x[:, None] >= 0) + q + rng.normal(0, .1, (600, 1))
    >>> core = estimate_r3d_robust(x, Q, q, bandwidth=0.5, bias_bandwidth=0.8, p=1)
    >>> bool(np.allclose(core.tau, 2, atol=0.1)), core.scores.shape
    (True, (600, 9))
    """
    xv = np.asarray(x, dtype=float)
    Qm = np.asarray(Q, dtype=float)
    if Qm.ndim == 1:
        Qm = Qm[:, None]
    qv = np.asarray(q, dtype=float).reshape(-1)
    n, m = Qm.shape
    kern = get_kernel(kernel)
    p = int(p)
    h = _as_columns(bandwidth, m)
    b = _as_columns(bias_bandwidth, m)
    fuzzy = T is not None
    fw = None if weights is None else np.asarray(weights, dtype=float)
    codes = None if cluster is None else np.asarray(cluster)
    clustered = codes is not None
    xc = xv - cutoff
    plus_side, minus_side = xc >= 0, xc < 0
    # centre every column (the intercept weights sum to one: equivariant) for precision
    center = np.median(Qm, axis=0)
    Qc = Qm - center
    budget = memory_budget_bytes(memory_budget, n, m)
    r_max = max(int(plus_side.sum()), int(minus_side.sum()), 1)

    est_cl = {"plus": np.empty(m), "minus": np.empty(m)}
    est_bc = {"plus": np.empty(m), "minus": np.empty(m)}
    n_h = {"plus": np.empty(m, dtype=int), "minus": np.empty(m, dtype=int)}
    scores = np.zeros((n, m))
    var = np.zeros(m)
    fits: dict[str, list[tuple[slice, _SideBC]]] = {"plus": [], "minus": []}
    for cols in _chunks(m, r_max, budget, 40):
        for side, mask, sgn, where in (
            ("plus", plus_side, 1.0, "at or above"),
            ("minus", minus_side, -1.0, "below"),
        ):
            f = _fit_side_bc(
                xc, Qc[:, cols], mask, h[cols], b[cols], p, kern, fw, vce, clustered, where
            )
            est_cl[side][cols] = f.est_cl + center[cols]
            est_bc[side][cols] = f.est_bc + center[cols]
            n_h[side][cols] = f.n_h
            if fuzzy:
                fits[side].append((cols, f))
            else:
                s = f.a_bc * f.resid
                scores[f.rows, cols] = sgn * s
                var[cols] += _side_variance(
                    s, f.window, None if codes is None else codes[f.rows], p + 2
                )

    first = first_bc = hT = bT = None
    if fuzzy:
        Tv = np.asarray(T, dtype=float)
        hT = h.copy() if bandwidth_treatment is None else _as_columns(bandwidth_treatment, m)
        bT = (
            b.copy()
            if bias_bandwidth_treatment is None
            else _as_columns(bias_bandwidth_treatment, m)
        )
        common_t = bool(np.all(hT == hT[0]) and np.all(bT == bT[0]))
        tcols = 1 if common_t else m
        t_center = float(np.median(Tv))
        Tc = np.repeat((Tv - t_center)[:, None], tcols, axis=1)
        tfit = {}
        for side, mask, where in (
            ("plus", plus_side, "at or above"),
            ("minus", minus_side, "below"),
        ):
            tfit[side] = _fit_side_bc(
                xc, Tc, mask, hT[:tcols], bT[:tcols], p, kern, fw, vce, clustered, where
            )
        first = _as_columns(tfit["plus"].est_cl - tfit["minus"].est_cl, m)
        first_bc = _as_columns(tfit["plus"].est_bc - tfit["minus"].est_bc, m)
        if not np.all(np.abs(first) > 0):
            raise EstimationError(
                "The estimated first stage is zero; the fuzzy RD is undefined (check "
                "`treatment` and the treatment bandwidth)."
            )
        N_cl = est_cl["plus"] - est_cl["minus"]
        for side, sgn in (("plus", 1.0), ("minus", -1.0)):
            ft = tfit[side]
            sT_all = ft.a_bc * ft.resid  # (rT, tcols)
            for cols, f in fits[side]:
                # outcome and treatment fits may have different rows: put both on the union
                rows = np.union1d(f.rows, ft.rows)
                k = cols.stop - cols.start
                sY = np.zeros((rows.size, k))
                sY[np.searchsorted(rows, f.rows)] = f.a_bc * f.resid
                sT = np.zeros((rows.size, k))
                tc = slice(0, 1) if common_t else cols
                sT[np.searchsorted(rows, ft.rows)] = sT_all[:, tc]
                D, Nj = first[cols], N_cl[cols]
                s = sY / D - (Nj / D**2) * sT
                scores[rows, cols] = sgn * s
                win = np.zeros((rows.size, k), dtype=bool)
                win[np.searchsorted(rows, f.rows)] |= f.window
                win[np.searchsorted(rows, ft.rows)] |= ft.window[:, tc]
                var[cols] += _side_variance(s, win, None if codes is None else codes[rows], p + 2)

    raw_p, raw_m = est_bc["plus"], est_bc["minus"]
    plus = _monotone(raw_p, qv, method)
    minus = _monotone(raw_m, qv, method)
    deg = None
    if degenerate is not None:
        deg = np.asarray(degenerate, dtype=bool).reshape(-1)
        if deg.any():
            common = np.median(Qm[:, deg], axis=0)
            plus, minus = plus.copy(), minus.copy()
            plus[deg] = minus[deg] = common
            scores[:, deg] = 0.0
            var[deg] = 0.0
    if fuzzy:
        assert first is not None and first_bc is not None
        N_cl_mono = _monotone(est_cl["plus"], qv, method) - _monotone(est_cl["minus"], qv, method)
        if deg is not None and deg.any():
            N_cl_mono[deg] = 0.0
        tau = (plus - minus) / first + N_cl_mono * (first - first_bc) / first**2
    else:
        tau = plus - minus
    with np.errstate(invalid="ignore"):
        se = np.sqrt(var)
    return DebiasedCore(
        q=qv,
        tau=tau,
        plus=plus,
        minus=minus,
        plus_raw=raw_p,
        minus_raw=raw_m,
        bias_plus=est_cl["plus"] - raw_p,
        bias_minus=est_cl["minus"] - raw_m,
        scores=scores,
        std_error=se,
        bandwidth=h,
        bias_bandwidth=b,
        bandwidth_treatment=hT,
        bias_bandwidth_treatment=bT,
        first_stage=first,
        first_stage_bias_corrected=first_bc,
        n_eff_plus=n_h["plus"],
        n_eff_minus=n_h["minus"],
        p=p,
        kernel=kern.name,
        method=method,
        vce=vce,
        fuzzy=fuzzy,
        cutoff=float(cutoff),
        n_clusters=None if codes is None else int(np.unique(codes).size),
        degenerate=deg,
    )


# ------------------------------------------------------------------ bias bandwidth (mserd)


@dataclass(frozen=True)
class BiasBandwidthSelection:
    """Output of :func:`select_bias_bandwidth`.

    Attributes
    ----------
    h, b : ndarray, shape (m,)
        rdrobust's "mserd" main and bias bandwidths per quantile (equal across quantiles
        for ``criterion="imse"``).
    h_treatment, b_treatment : float or None
        The same pair for the treatment regression (fuzzy designs).
    criterion : str
        ``"mse"`` (per quantile) or ``"imse"`` (integrated over the grid).
    pilot : float
        rdrobust's pilot bandwidth ``c`` (common to every column).
    mass_points : bool
        Whether the running variable has mass points (rdrobust's adjustment applied).
    """

    h: np.ndarray
    b: np.ndarray
    h_treatment: float | None
    b_treatment: float | None
    criterion: str
    pilot: float
    mass_points: bool


def _mserd_columns(
    left: list,
    right: list,
    p: int,
    kernel: str,
    vce: str,
    bwcheck: int | None,
    unit: np.ndarray,
    wq: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """rdrobust's three-step "mserd" selector (sharp) on every column, optionally integrated.

    ``left``/``right`` hold one ``estkit._rd._Side`` per column (running variable on the
    unit scale, outcome column centred and scaled as ``local_polynomial_rd`` does);
    ``unit`` is each column's scale (so integrated terms are in the outcome's units);
    ``wq`` the integration weights (None: per column, exactly ``_select_mserd``).
    """
    from estkit._rd import _PILOT_CONST, _SQRT_EPS, _bw_terms, _quantile_type2, _Side

    q = p + 1
    xl, xr = left[0].x, right[0].x
    xall = np.r_[xl, xr]
    n_unique = np.unique(xl).size + np.unique(xr).size
    x_sd = float(np.std(xall, ddof=1))
    iqr = _quantile_type2(xall, 0.75) - _quantile_type2(xall, 0.25)
    bw_p = min(1.0, (iqr / x_sd) / 1.349)
    c_bw = _PILOT_CONST[kernel] * bw_p * n_unique ** (-1 / 5)
    bw_max_l, bw_max_r = abs(float(xl.min())) / x_sd, abs(float(xr.max())) / x_sd
    bw_max = max(bw_max_l, bw_max_r)
    c_bw = min(c_bw, bw_max)
    bw_min = 0.0
    if bwcheck is not None:
        ul = np.sort(np.unique(xl / x_sd))[::-1]
        ur = np.unique(xr / x_sd)
        bw_min = max(
            abs(ul[min(bwcheck, ul.size) - 1]) * (1 + _SQRT_EPS),
            abs(ur[min(bwcheck, ur.size) - 1]) * (1 + _SQRT_EPS),
        )
        c_bw = max(c_bw, bw_min)
    m = len(left)
    sides, factor = [], np.empty(m)
    for j in range(m):
        Dl, Dr = left[j].D, right[j].D
        y_sd = float(np.std(np.r_[Dl[:, 0], Dr[:, 0]], ddof=1))
        if not y_sd > 0:
            y_sd = 1.0
        factor[j] = (unit[j] * y_sd) ** 2
        sides.append(
            tuple(
                _Side(x=sd.x / x_sd, D=sd.D / y_sd, codes=sd.codes, fw=sd.fw)
                for sd in (left[j], right[j])
            )
        )
    caches: list[tuple[dict, dict]] = [({}, {}) for _ in range(m)]

    def step(o, nu, o_B, h_B, scale, rate, cap_min):
        num, den = np.empty(m), np.empty(m)
        for j, (sl, sr) in enumerate(sides):
            cl, cr = caches[j]
            a = _bw_terms(sl, o, nu, o_B, c_bw, h_B[j][0], scale, vce, kernel, 0, 0, cl)
            bb = _bw_terms(sr, o, nu, o_B, c_bw, h_B[j][1], scale, vce, kernel, 0, 0, cr)
            num[j] = a[0] + bb[0]
            den[j] = (bb[1] - a[1]) ** 2 + (bb[2] + a[2])
        if wq is None:
            out = (num / den) ** (1 / rate)
        else:
            out = np.full(m, (np.sum(wq * factor * num) / np.sum(wq * factor * den)) ** (1 / rate))
        out = np.minimum(out, bw_max)
        return np.maximum(out, bw_min) if cap_min else out

    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        rng_lr = [(bw_max_l * (1 + _SQRT_EPS), bw_max_r * (1 + _SQRT_EPS))] * m
        d = step(q + 1, q + 1, q + 2, rng_lr, 0.0, 2 * (q + 1) + 3, bwcheck is not None)
        b = step(q, p + 1, q + 1, [(v, v) for v in d], 1.0, 2 * q + 3, False)
        h = step(p, 0, q, [(v, v) for v in b], 1.0, 2 * p + 3, False)
    return x_sd * h, x_sd * b, x_sd * c_bw


def select_bias_bandwidth(
    x: np.ndarray,
    Q: np.ndarray,
    q: np.ndarray | None = None,
    *,
    cutoff: float = 0.0,
    p: int = 2,
    kernel: str = "epanechnikov",
    criterion: Literal["mse", "imse"] = "mse",
    T: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    cluster: np.ndarray | None = None,
    vce: Literal["nn", "hc0", "hc1", "hc2", "hc3"] = "hc0",
) -> BiasBandwidthSelection:
    """rdrobust's "mserd" bandwidth pair ``(h, b)`` for every quantile column.

    ``criterion="mse"``: per column, exactly ``estkit.local_polynomial_rd(x, Q[:, j],
    bandwidth=None, p=p, kernel=kernel, vce=vce, weights=, cluster=)``'s ``bandwidth`` and
    ``bias_bandwidth`` (CCT 2014 with rdrobust's regularisation and mass-point rule). The
    bias bandwidth ``b`` is MSE-optimal for the jump in the ``(p+1)``-th derivative and
    does not depend on ``h``. ``criterion="imse"``: one pair for the whole grid, each of
    rdrobust's three steps (pilot ``d``, then ``b``, then ``h``) using the variance and
    squared-bias-plus-regularisation terms integrated over the grid with trapezoid
    weights (outcome units), the analogue of r3d's IMSE bandwidth of the Frechet
    estimator. The treatment of a fuzzy design gets its own (sharp-style) pair, as r3d's
    first stage has its own bandwidth. Pure core: inputs trusted (kernel one of
    ``"triangular"``, ``"epanechnikov"``, ``"uniform"``; columns with variation).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.uniform(-1, 1, 500)
    >>> Q = x[:, None] + x[:, None] ** 2 + np.array([0.0, 1.0]) + rng.normal(0, .5, (500, 2))
    >>> sel = select_bias_bandwidth(x, Q, np.array([.25, .75]), p=1, criterion="imse")
    >>> bool(sel.b[0] == sel.b[1]), bool(sel.b[0] > sel.h[0])
    (True, True)
    """
    from estkit._rd import _MASS_BWCHECK, _MASS_SHARE, _scaled_sides, _Side

    xv = np.asarray(x, dtype=float)
    Qm = np.asarray(Q, dtype=float)
    if Qm.ndim == 1:
        Qm = Qm[:, None]
    m = Qm.shape[1]
    order = np.argsort(xv, kind="stable")
    xs, x_scale, n_l = _scaled_sides(xv[order] - cutoff, cutoff, xv, "bandwidth selection")
    below = xs < 0
    n_r = xs.size - n_l
    m_l, m_r = np.unique(xs[below]).size, np.unique(xs[~below]).size
    mass = (1 - m_l / n_l) >= _MASS_SHARE or (1 - m_r / n_r) >= _MASS_SHARE
    bwcheck = _MASS_BWCHECK if mass else None
    codes = None if cluster is None else np.asarray(cluster)[order]
    fws = None if weights is None else np.asarray(weights, dtype=float)[order]
    vce_eff = "hc1" if codes is not None else vce

    def sides_of(col: np.ndarray) -> tuple[object, object, float]:
        loc = float(np.median(col))
        scale = float(np.max(np.abs(col - loc)))
        if not scale > 0:
            scale = 1.0
        D = ((col[order] - loc) / scale)[:, None]
        out = []
        for sel in (below, ~below):
            out.append(
                _Side(
                    x=xs[sel],
                    D=D[sel],
                    codes=None if codes is None else codes[sel],
                    fw=None if fws is None else fws[sel],
                )
            )
        return out[0], out[1], scale

    def run(cols: np.ndarray, wq: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, float]:
        left, right, unit = [], [], np.empty(cols.shape[1])
        for j in range(cols.shape[1]):
            sl, sr, unit[j] = sides_of(cols[:, j])
            left.append(sl)
            right.append(sr)
        h, b, c = _mserd_columns(left, right, p, kernel, vce_eff, bwcheck, unit, wq)
        if not (
            np.all(np.isfinite(h)) and np.all(h > 0) and np.all(np.isfinite(b)) and np.all(b > 0)
        ):
            raise EstimationError(
                "The MSE-optimal bias bandwidth cannot be computed: too little variation in "
                "`x` or the outcome near the cutoff. Pass `bias_bandwidth=` explicitly."
            )
        return h * x_scale, b * x_scale, c * x_scale

    wq = None
    if criterion == "imse":
        wq = np.ones(m) if q is None else trapezoid_weights(np.asarray(q, dtype=float))
    h, b, c = run(Qm, wq)
    hT = bT = None
    if T is not None:
        ht, bt, _ = run(np.asarray(T, dtype=float)[:, None], None)
        hT, bT = float(ht[0]), float(bt[0])
    return BiasBandwidthSelection(
        h=h,
        b=b,
        h_treatment=hT,
        b_treatment=bT,
        criterion=criterion,
        pilot=c,
        mass_points=bool(mass),
    )


# ------------------------------------------------------------------ inference


def debiased_inference(
    core: DebiasedCore,
    multipliers: Multipliers | np.ndarray | None = None,
    *,
    rules: BootstrapRules | None = None,
    memory_budget: int | None = None,
) -> BootstrapInference:
    """The multiplier bootstrap of the robust bias-corrected effect.

    An :class:`estkit.BootstrapInference` centred at ``core.tau`` (the bias-corrected
    estimate) whose draws are ``sum_i xi_ib S_i`` with ``S`` the influence scores of
    :func:`estimate_r3d_robust`: the robust bias-corrected process. ``multipliers`` (an
    :class:`r3d._inference.Multipliers`, or a given ``(n, B)`` matrix) are handled exactly
    as in the conventional bootstrap (:func:`r3d._inference.bootstrap_inference`), so a
    seed gives the same multipliers; ``rules`` (an :class:`estkit.BootstrapRules`) sets the
    critical-value and p-value rules. Degenerate grid points get zero-width bands and are
    left out of the sup statistics.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> x = rng.uniform(-1, 1, 400)
    >>> q = np.linspace(0.1, 0.9, 5)
    >>> Q = x[:, None] + 2 * (x[:, None] >= 0) + q + rng.normal(0, .2, (400, 1))
    >>> core = estimate_r3d_robust(x, Q, q, bandwidth=0.5, bias_bandwidth=0.8, p=1)
    >>> inf = debiased_inference(core, Multipliers(n_bootstrap=199, rng=0))
    >>> bool(np.all(inf.band(0.05).lower < core.tau))
    True
    """
    deg = np.zeros(core.q.size, dtype=bool) if core.degenerate is None else core.degenerate
    kw = Multipliers.of(multipliers).options()
    kw["memory_budget"] = memory_budget
    return BootstrapInference(core.tau, core.scores, grid=core.q, degenerate=deg, rules=rules, **kw)
