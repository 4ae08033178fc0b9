"""Windowed one-sided local polynomial fits of many columns that share one running variable.

A pure core (trusted inputs, no validation) for the hot paths of the bandwidth selector's
Step 2 and of the R3D side fits, which fit one-sided local polynomials of order ``p`` at a
cutoff to many outcome columns (quantile levels) with per-column or common bandwidths.
Every column shares the running variable, so each side is prepared once
(:func:`prepare_side`): the units of the side are sorted by ``|x - c|``, and the units in
the window of any bandwidth ``h`` of a compact kernel are then a contiguous *prefix* of
that order.

* Gram matrices. For the compact kernels ``K(u) = sum_d a_d |u|^d`` on ``|u| <= 1``
  (triangular, Epanechnikov, uniform), the kernel-weighted power sums of a window are
  polynomials in ``1/h`` of prefix sums of ``w z^j`` (``z`` the signed distance):
  ``S_k(h) = sum_d a_d s^d P_{k+d}[n(h)] / h^(k+d)`` with ``s = +1`` on the plus side and
  ``-1`` on the minus side. One ``O(n)`` pass builds the prefix sums; every column's Gram
  matrix then costs a binary search (:func:`window_sizes`, :func:`gram`).
* Per-column work touches only that column's window prefix: the centred outcome, the
  fitted values, the residuals and the equivalent-kernel weights. Columns that share one
  bandwidth are handled with matrix products over the window.

Entry points: :func:`fit_summaries` (what Step 2 of the selector needs, no ``(n, m)``
array) and :func:`fit_into` (fitted values, intercept weights, leverages and supports
written into caller-provided ``(n, m)`` or ``(n, 1)`` arrays, as the R3D side fits
assemble them). Both reproduce :func:`estkit._locpoly.locpoly_boundary` (and the
consumers' derived quantities) up to rounding; they keep its equivariance device (every
column is fitted centred and rescaled, :func:`estkit._locpoly._center_scale`'s rule,
including exact fits of columns that are constant up to rounding residue).

The Gaussian kernel has no compact window: callers keep
:func:`estkit._locpoly.locpoly_boundary` for it (:func:`prepare_side` refuses it).
No validation happens here: the callers (the selector and the R3D estimator) validate at
their doors, and window checks (too few units, singular Gram matrices) remain theirs
(:func:`check_windows` raises ``locpoly_boundary``'s error, word for word, from the
sorted sides).

Wiring (done: :func:`r3d._estimate._estimate` prepares each side once, ``max_order =
max(s + 1, p)``, and passes both to the selector, which uses them when its Step-2 kernel is
the fit's kernel and ``x`` needs no rescaling, and to the side fits; :func:`both_sides`
runs the two sides in two threads under one BLAS limit):

* ``estkit._bandwidth._step2``: instead of ``locpoly_boundary(xv, Z, cutoff, h0, order,
  fit_kernel, side, min_units=...)``, ``check_windows(ps, other, h0, order, cutoff,
  min_units)`` inside the same ``try`` (the message is re-wrapped as today), then
  ``sm = fit_summaries(ps, Z, h0, order, var_rows=() if compat else (s + 1,))``;
  ``fit.coef`` -> ``sm.coef``, ``fit.coef_variance[s + 1]`` -> ``sm.coef_variance[s + 1]``,
  the kernel-weighted variance -> ``sm.kernel_resid_var``, compat's positive-weight
  variance -> ``sm.positive_weight_resid_var``. The column blocks of ``select_bandwidth``
  are not needed (the core streams over columns within ``memory_budget``).
* ``r3d._estimate._fit_sides``: instead of the block loop of ``locpoly_boundary`` calls,
  zero-initialised ``resid`` (n, m), ``wp``, ``wm``, ``lev``, ``sup_p``, ``sup_m`` ((n, 1)
  for a common bandwidth, else (n, m)); ``fit_into(ps_plus, Qm, h, p, fitted_out=resid,
  weights_out=wp, leverage_out=lev, support_out=sup_p, support="positive_weight" if
  compat else "window")`` and the same for the minus side with ``wm``, ``sup_m`` and the
  same ``lev`` (the sides write disjoint rows); ``coef_plus = .coef`` of the returned
  summary. The Frechet projection, the residual pass and the broadcasting stay.
* The Gaussian kernel keeps ``locpoly_boundary``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.polynomial import polynomial as npoly

from estkit._kernels import Kernel, KernelName, get_kernel
from estkit._locpoly import _flat_columns

# both_sides: the two-thread runner of the package (estkit._parallel), exported here too
from estkit._parallel import blas_single_thread, both_sides, memory_budget_bytes
from estkit.exceptions import EstimationError

__all__ = [
    "SortedSide",
    "WindowedSummary",
    "both_sides",
    "check_windows",
    "fit_into",
    "fit_summaries",
    "gram",
    "prepare_side",
    "window_problem",
    "window_sizes",
]

# rows of a prefix-sum block (the cumulative sums are blocked: the rounding error grows with
# the block length plus the number of blocks instead of with n)
_PREFIX_BLOCK = 2048
# relative bandwidths (h over the side's largest distance, a power of two) below which the
# prefix-sum powers could underflow: such columns get their Gram matrix summed directly
_TINY_H = 2.0**-60
# precision of the prefix sums and of the power sums built from them: the Gram matrices of
# windows then carry less rounding than a direct double sum (x86-64: 80-bit extended; where
# numpy's longdouble is double, the prefix sums are blocked double sums)
_EXT = np.longdouble
# reciprocal condition number below which a Gram matrix is singular (as locpoly_boundary)
_RCOND_TOL = 1e-13


@dataclass(frozen=True)
class SortedSide:
    """One side of the cutoff, prepared once for many windowed fits (see :func:`prepare_side`).

    Parameters
    ----------
    side : {"plus", "minus"}
        ``"plus"``: units with ``x >= c``; ``"minus"``: ``x < c``.
    kernel : Kernel
        A compact kernel.
    order : ndarray of int, shape (r,)
        Indices (rows of ``Y``) of the side's units with positive weight, sorted by
        ``|x - c|`` (stable, so ties keep their original order).
    xs : ndarray, shape (r,)
        ``x - c`` in that order (signed).
    ax : ndarray, shape (r,)
        ``|x - c|`` in that order (non-decreasing).
    w : ndarray, shape (r,), or None
        Unit weights in that order, divided by the largest weight over all units (as
        ``locpoly_boundary`` does); ``None`` for unit weights.
    unit : float
        Power of two near the largest ``|x - c|`` of the side; the prefix sums use
        ``z = xs / unit`` (an exact rescaling).
    prefix : ndarray, shape (J, r + 1)
        ``prefix[j, k] = sum_{i < k} w_i z_i^j`` for ``j = 0 .. J - 1``.
    n_units : int
        Rows of the outcome matrices (all units, both sides).
    max_order : int
        Highest polynomial order the prefix sums support.
    """

    side: str
    kernel: Kernel
    order: np.ndarray
    xs: np.ndarray
    ax: np.ndarray
    w: np.ndarray | None
    unit: float
    prefix: np.ndarray
    n_units: int
    max_order: int

    @property
    def sign(self) -> float:
        """``+1`` on the plus side, ``-1`` on the minus side (``|u| = sign * u``)."""
        return 1.0 if self.side == "plus" else -1.0

    def serves(self, kernel: Kernel, p: int) -> bool:
        """Whether fits of order ``p`` with ``kernel`` can run on this prepared side."""
        return self.kernel.name == kernel.name and self.max_order >= p


@dataclass(frozen=True)
class WindowedSummary:
    """Per-column results of :func:`fit_summaries` (all in the units of ``Y``).

    Parameters
    ----------
    coef : ndarray, shape (p + 1, m)
        Coefficients on the scaled basis ``(1, u, ..., u^p)`` (``locpoly_boundary``'s
        ``coef``).
    coef_variance : ndarray, shape (p + 1, m)
        HC0 variance of each coefficient (``locpoly_boundary``'s ``coef_variance``); NaN in
        rows that were not requested.
    sum_k : ndarray, shape (m,)
        ``sum_i K_i`` (kernel times unit weights) over the window.
    sum_ke2 : ndarray, shape (m,)
        ``sum_i K_i e_i^2``.
    sum_wpos : ndarray, shape (m,)
        ``sum_i max(w_i, 0)`` with ``w_i`` the intercept weights.
    sum_wpos_e2 : ndarray, shape (m,)
        ``sum_i max(w_i, 0) e_i^2``.
    n_eff : ndarray of int, shape (m,)
        Units with positive kernel weight per column.
    h : ndarray, shape (m,)
        Bandwidths.
    """

    coef: np.ndarray
    coef_variance: np.ndarray
    sum_k: np.ndarray
    sum_ke2: np.ndarray
    sum_wpos: np.ndarray
    sum_wpos_e2: np.ndarray
    n_eff: np.ndarray
    h: np.ndarray

    @property
    def kernel_resid_var(self) -> np.ndarray:
        """``sum(K e^2) / sum(K)``, the paper-mode Step-2 residual variance."""
        return self.sum_ke2 / self.sum_k

    @property
    def positive_weight_resid_var(self) -> np.ndarray:
        """``sum(w+ e^2) / sum(w+)`` over the positive intercept weights (R3D's Step 2)."""
        return self.sum_wpos_e2 / self.sum_wpos


def _blocked_cumsum(v: np.ndarray) -> np.ndarray:
    """``concatenate([[0], cumsum(v)])`` in extended precision, with cumulative sums inside
    blocks plus block offsets (rounding error ~ (block + n / block) eps instead of ~ n
    eps)."""
    r = v.size
    out = np.zeros(r + 1, dtype=_EXT)
    if r == 0:
        return out
    nb = -(-r // _PREFIX_BLOCK)
    pad = np.zeros(nb * _PREFIX_BLOCK, dtype=_EXT)
    pad[:r] = v
    blocks = pad.reshape(nb, _PREFIX_BLOCK)
    inner = np.cumsum(blocks, axis=1)
    offsets = np.concatenate([np.zeros(1, dtype=_EXT), np.cumsum(inner[:, -1])[:-1]])
    out[1:] = (inner + offsets[:, None]).ravel()[:r]
    return out


def prepare_side(
    x: np.ndarray,
    cutoff: float,
    side: Literal["plus", "minus"],
    kernel: KernelName | Kernel,
    max_order: int,
    *,
    weights: np.ndarray | None = None,
) -> SortedSide:
    """Sort one side of the cutoff by distance and build its prefix sums (``O(n log n)``).

    Parameters
    ----------
    x : ndarray, shape (n,)
        Running variable (finite; trusted).
    cutoff : float
        Cutoff ``c``.
    side : {"plus", "minus"}
        ``"plus"``: ``x >= c``; ``"minus"``: ``x < c``.
    kernel : str or Kernel
        A compact kernel (triangular, Epanechnikov, uniform).
    max_order : int
        Highest polynomial order ``p`` that fits on this side will use.
    weights : ndarray, shape (n,), optional
        Non-negative unit weights (trusted); units with zero weight are left out.

    Returns
    -------
    SortedSide

    Raises
    ------
    ValueError
        For the Gaussian kernel (no compact window: use ``locpoly_boundary``).

    Examples
    --------
    >>> ps = prepare_side(np.array([0.3, -0.2, 0.1, 0.2]), 0.0, "plus", "triangular", 1)
    >>> ps.order.tolist(), ps.xs.tolist()
    ([2, 3, 0], [0.1, 0.2, 0.3])
    """
    kern = get_kernel(kernel)
    if not kern.compact:
        raise ValueError(
            "`kernel` must be compact (triangular, epanechnikov, uniform) for windowed fits; "
            "use locpoly_boundary for the Gaussian kernel."
        )
    xc = x - cutoff
    mask = xc >= 0.0 if side == "plus" else xc < 0.0
    wn = None
    if weights is not None:
        wn = weights / weights.max()
        mask &= wn > 0
    idx = np.flatnonzero(mask)
    ax_all = np.abs(xc[idx])
    perm = np.argsort(ax_all, kind="stable")
    order = idx[perm]
    xs = xc[order]
    ax = ax_all[perm]
    w = None if wn is None else wn[order]
    top = float(ax[-1]) if ax.size else 1.0
    unit = float(2.0 ** np.round(np.log2(top))) if top > 0 else 1.0
    z = (xs / unit).astype(_EXT)
    n_pow = 2 * max_order + len(kern._poly)  # powers 0 .. 2p + deg K
    prefix = np.empty((n_pow, xs.size + 1), dtype=_EXT)
    term = np.ones_like(z) if w is None else w.astype(_EXT)
    for j in range(n_pow):
        prefix[j] = _blocked_cumsum(term)
        term = term * z
    return SortedSide(
        side=side,
        kernel=kern,
        order=order,
        xs=xs,
        ax=ax,
        w=w,
        unit=unit,
        prefix=prefix,
        n_units=int(x.shape[0]),
        max_order=int(max_order),
    )


def window_sizes(ps: SortedSide, h: np.ndarray) -> np.ndarray:
    """Number of sorted units with ``|x - c| <= h`` (the window prefix) per bandwidth.

    ``locpoly_boundary`` keeps the units with ``|x - c| <= max(h)`` and then gives weight
    ``K((x - c) / h)``; for ``|x - c| <= h`` the ratio never exceeds one, so the prefix is
    that window. Units at the edge (``|u| = 1``) are in the prefix; the triangular and
    Epanechnikov kernels give them zero weight.

    Examples
    --------
    >>> ps = prepare_side(np.array([0.3, -0.2, 0.1, 0.2]), 0.0, "plus", "uniform", 0)
    >>> window_sizes(ps, np.array([0.05, 0.2, 1.0])).tolist()
    [0, 2, 3]
    """
    return np.searchsorted(ps.ax, np.asarray(h, dtype=float), side="right")


def _power_sums(ps: SortedSide, h: np.ndarray, nw: np.ndarray, p: int) -> np.ndarray:
    """Kernel-weighted power sums ``S_k = sum_i w_i K(u_i) u_i^k`` (k = 0..2p) per column,
    shape (2p + 1, m), from the prefix sums."""
    hs = np.asarray(h, dtype=float).astype(_EXT) / _EXT(ps.unit)
    inv = _EXT(1.0) / hs
    a = ps.kernel._poly
    S = np.zeros((2 * p + 1, hs.size), dtype=_EXT)
    pref = ps.prefix[:, nw]  # (J, m)
    for k in range(2 * p + 1):
        for d, ad in enumerate(a):
            if ad == 0.0:
                continue
            S[k] += _EXT(ad * ps.sign**d) * pref[k + d] * inv ** (k + d)
    return S.astype(float)


def _direct_power_sums(ps: SortedSide, h: float, n: int, p: int) -> np.ndarray:
    u = ps.xs[:n] / h
    kw = npoly.polyval(np.abs(u), np.asarray(ps.kernel._poly))
    if ps.w is not None:
        kw = kw * ps.w[:n]
    out = np.empty(2 * p + 1)
    pw = np.ones_like(u)
    for k in range(2 * p + 1):
        out[k] = np.sum(kw * pw)
        pw = pw * u
    return out


def gram(ps: SortedSide, h: np.ndarray, p: int) -> np.ndarray:
    """Gram matrices ``X'WX`` of the scaled basis ``(1, u, ..., u^p)`` for every bandwidth.

    Parameters
    ----------
    ps : SortedSide
    h : ndarray, shape (m,)
        Bandwidths.
    p : int
        Polynomial order (at most ``ps.max_order``).

    Returns
    -------
    ndarray, shape (m, p + 1, p + 1)

    Examples
    --------
    >>> x = np.linspace(-1, 1, 201)
    >>> ps = prepare_side(x, 0.0, "plus", "uniform", 1)
    >>> gram(ps, np.array([0.5]), 1)[0].round(6).tolist()  # 51 units in [0, 0.5]
    [[25.5, 12.75], [12.75, 8.5]]
    """
    hv = np.atleast_1d(np.asarray(h, dtype=float))
    nw = window_sizes(ps, hv)
    S = _power_sums(ps, hv, nw, p)
    tiny = hv / ps.unit < _TINY_H
    for j in np.flatnonzero(tiny):
        S[:, j] = _direct_power_sums(ps, float(hv[j]), int(nw[j]), p)
    hankel = np.add.outer(np.arange(p + 1), np.arange(p + 1))
    return np.moveaxis(S[hankel], -1, 0)


def _antidiag(A: np.ndarray) -> np.ndarray:
    """``c[r] = sum_{a+b=r} A[..., a, b]`` (coefficients of ``r(u)' A r(u)``); (2p+1, ...)."""
    p1 = A.shape[-1]
    idx = np.add.outer(np.arange(p1), np.arange(p1))
    out = np.zeros((2 * p1 - 1, *A.shape[:-2]))
    for r in range(2 * p1 - 1):
        out[r] = A[..., idx == r].sum(axis=-1)
    return out


def _horner(c: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``sum_a c[a] u^a`` by Horner's rule (as ``locpoly_boundary``'s evaluation);
    ``c`` is (d+1,) against u (r,), or (d+1, k) against u (r, 1) or (r, k)."""
    out = np.zeros(np.broadcast_shapes(u.shape, c.shape[1:]))
    for a in range(c.shape[0] - 1, -1, -1):
        out = out * u + c[a]
    return out


def _horner_in_place(c: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``_horner(c, u[:, None])`` for ``c`` of shape (d+1, k), with one (r, k) array.

    The same operations in the same order (the first step ``0 * u + c[d]`` is ``c[d]``
    exactly), so the same values bit for bit.
    """
    d = c.shape[0] - 1
    uc = u[:, None]
    if d == 0:
        return np.broadcast_to(c[0], (u.size, c.shape[1])).copy()
    out = np.multiply(uc, c[d])
    out += c[d - 1]
    for a in range(d - 2, -1, -1):
        out *= uc
        out += c[a]
    return out


def _center_scale_cols(
    Yw: np.ndarray, *, in_place: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-column version of ``_center_scale``: ``(Y - c) / a`` with the column mean ``c``
    and spread ``a``; columns constant up to rounding residue become exactly zero.

    Returns ``Z, c, a`` (``a`` is 1 where a column is flat or has no spread). With
    ``in_place=True`` ``Z`` overwrites ``Yw`` (a temporary of the caller's) when it can.
    """
    k = Yw.shape[1]
    if Yw.shape[0] == 0:
        return Yw.copy(), np.zeros(k), np.ones(k)
    hi, lo = Yw.max(axis=0), Yw.min(axis=0)
    pre = np.maximum(np.abs(hi), np.abs(lo))
    big = pre > 1e300  # sums near the float limit would overflow: scale first (exact enough)
    pre = np.where(big, pre, 1.0)
    if big.any():
        Yw, hi, lo = Yw / pre, hi / pre, lo / pre
    c = Yw.mean(axis=0)
    Z = np.subtract(Yw, c, out=Yw) if in_place and not big.any() else Yw - c
    flat, a = _column_spread(hi, lo, c)
    if flat.any():
        Z[:, flat] = 0.0
    Z /= a
    return Z, c * pre, a * pre


def _column_spread(hi: np.ndarray, lo: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flat columns (rounding residue only) and each column's spread ``a`` (1 where a
    column is flat or has no finite spread), from its extremes and mean."""
    flat = _flat_columns(hi, lo)
    a = np.maximum(hi - c, c - lo)
    return flat, np.where(flat | ~(a > 0) | ~np.isfinite(a), 1.0, a)


#: elements of a row block of the common-bandwidth passes (about 512 KiB: stays in cache)
_BLOCK_CELLS = 2**16


def _slices(stop: int, step: int, start: int = 0) -> list[slice]:
    """``range(start, stop)`` cut into consecutive slices of ``step`` (the last shorter):
    the blocks of rows or columns of the package's memory-bounded passes."""
    return [slice(a, min(a + step, stop)) for a in range(start, stop, step)]


def _row_blocks(n: int, k: int) -> list[slice]:
    """Blocks of rows of an (n, k) array of about :data:`_BLOCK_CELLS` elements."""
    return _slices(n, max(256, _BLOCK_CELLS // max(k, 1)))


def _fold(op: np.ufunc, b: np.ndarray) -> np.ndarray:
    """``op.reduce(b, axis=0)`` of a C-contiguous (r, k) block for an exact, associative
    ``op`` (maximum, minimum), with the rows folded into long ones first: NumPy's reduction
    over the rows of a narrow block runs k-wide inner loops (~10x slower)."""
    r, k = b.shape
    g = max(1, 256 // max(k, 1))
    full = (r // g) * g
    if g == 1 or full == 0:
        return op.reduce(b, axis=0)
    out = op.reduce(op.reduce(b[:full].reshape(full // g, g * k), axis=0).reshape(g, k), axis=0)
    if full < r:
        op(out, op.reduce(b[full:], axis=0), out=out)
    return out


def _row_items(A: np.ndarray, cols: slice) -> np.ndarray | None:
    """``A[:, cols]`` as a 1-D array with one opaque item per row (that row's values), or
    ``None`` when those values are not contiguous in memory.

    One-dimensional fancy indexing of such items copies each row's values as one block:
    gathering or scattering rows of a few columns this way is about twice as fast as
    ``A[rows, cols]`` (the same bytes).
    """
    sub = A[:, cols]
    k = sub.shape[1]
    if k == 0 or sub.dtype != np.float64 or sub.strides[1] != sub.itemsize:
        return None
    return sub.view(np.dtype((np.void, sub.itemsize * k)))[:, 0]


def _take_rows(A: np.ndarray, rows: np.ndarray, cols: slice, out: np.ndarray) -> None:
    """``out[...] = A[rows, cols]`` (``out`` C-contiguous, of that shape)."""
    src, dst = _row_items(A, cols), _row_items(out, slice(None))
    if src is None or dst is None:
        out[...] = A[rows, cols]
    else:
        dst[...] = src[rows]


def _put_rows(A: np.ndarray, rows: np.ndarray, cols: slice, values: np.ndarray) -> None:
    """``A[rows, cols] = values`` (``values`` of that shape)."""
    dst, src = _row_items(A, cols), _row_items(values, slice(None))
    if src is None or dst is None:
        A[rows, cols] = values
    else:
        dst[rows] = src


def _gather_center_scale(
    Y: np.ndarray, rows: np.ndarray, cols: slice, blocks: list[slice]
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``_center_scale_cols(Y[rows, cols][:, c], in_place=True)`` of every block of columns
    ``c`` in ``blocks`` (consecutive, relative to ``cols``, covering it), each a contiguous
    array as if gathered alone, from one gather of the rows over all of ``cols`` (a gather
    costs per row).

    The gather, the extremes and the centring/scaling pass run in blocks of rows that stay
    in cache: the same values bit for bit (extremes are exact, the passes elementwise; the
    column means are one reduction over each block's gathered array, as there)."""
    n = rows.size
    k = len(range(*cols.indices(Y.shape[1])))
    if n == 0 or k == 0:
        Yg = Y[rows, cols]
        return [_center_scale_cols(np.ascontiguousarray(Yg[:, c]), in_place=True) for c in blocks]
    parts = [np.empty((n, c.stop - c.start)) for c in blocks]
    row_blocks = _row_blocks(n, k)
    hi = np.full(k, -np.inf)
    lo = np.full(k, np.inf)
    one = len(blocks) == 1
    buf = None if one else np.empty((row_blocks[0].stop, k))
    for r in row_blocks:
        if buf is None:
            b = parts[0][r]
            _take_rows(Y, rows[r], cols, b)
        else:
            b = buf[: r.stop - r.start]
            _take_rows(Y, rows[r], cols, b)
            for part, c in zip(parts, blocks, strict=True):
                part[r] = b[:, c]
        np.maximum(hi, _fold(np.maximum, b), out=hi)
        np.minimum(lo, _fold(np.minimum, b), out=lo)
    del buf
    out = []
    for Yw, cb in zip(parts, blocks, strict=True):
        hb, lb = hi[cb], lo[cb]
        if np.any(np.maximum(np.abs(hb), np.abs(lb)) > 1e300):  # the rescaling path (rare)
            out.append(_center_scale_cols(Yw, in_place=True))
            continue
        c = Yw.mean(axis=0)
        flat, a = _column_spread(hb, lb, c)
        any_flat = bool(flat.any())
        for r in _row_blocks(n, Yw.shape[1]):
            b = Yw[r]
            np.subtract(b, c, out=b)
            if any_flat:
                b[:, flat] = 0.0
            b /= a
        out.append((Yw, c, a))
    return out


@dataclass
class _Outputs:
    fitted: np.ndarray | None
    weights: np.ndarray | None
    leverage: np.ndarray | None
    support: np.ndarray | None
    positive_support: bool


def _chunks(m: int, rows: int, budget: int, per_cell: int) -> list[slice]:
    """Blocks of the ``m`` columns whose temporaries (``per_cell`` float64 values per cell
    of a ``rows``-row column) fit ``budget`` bytes: at least one column a block."""
    return _slices(m, max(1, min(m, budget // max(1, 8 * per_cell * max(rows, 1)))))


def _wide_chunks(chunks: list[slice], rows: int, budget: int) -> list[tuple[slice, list[slice]]]:
    """Consecutive blocks of columns (``chunks``) grouped into wider ones of about half the
    budget for ``rows`` rows each: ``(wide, blocks)`` with the blocks relative to the start
    of ``wide``.

    A one-column block stays alone: NumPy sums a contiguous column pairwise but the columns
    of a wider block row by row, so its mean would change in the last bits.
    """
    step = max(1, budget // (8 * 2 * max(rows, 1)))
    out: list[tuple[slice, list[slice]]] = []
    group: list[slice] = []
    for c in chunks:
        single = c.stop - c.start == 1
        if group and (single or c.stop - group[0].start > step):
            out.append(_group(group))
            group = []
        group.append(c)
        if single:
            out.append(_group(group))
            group = []
    if group:
        out.append(_group(group))
    return out


def _group(group: list[slice]) -> tuple[slice, list[slice]]:
    a = group[0].start
    return slice(a, group[-1].stop), [slice(c.start - a, c.stop - a) for c in group]


def _run(*args: Any) -> WindowedSummary:
    """Engine shared by :func:`fit_summaries` and :func:`fit_into`: :func:`_run_core`
    (same arguments) under one BLAS thread (its products are skinny)."""
    with blas_single_thread():
        return _run_core(*args)


def _run_core(
    ps: SortedSide,
    Y: np.ndarray,
    h: np.ndarray,
    p: int,
    var_rows: tuple[int, ...],
    outs: _Outputs | None,
    memory_budget: int | None,
    sums: bool = True,
    wpos_sums: bool = True,
) -> WindowedSummary:
    """Fits of one side (``ps``) for the columns of ``Y``: summaries, and the unit-level
    outputs ``outs`` (``None``: summaries only); ``sums=False`` leaves the residual sums
    and ``coef_variance`` NaN, ``wpos_sums=False`` ``sum_wpos_e2``."""
    m = Y.shape[1]
    hv = np.broadcast_to(np.asarray(h, dtype=float), (m,))
    common = bool(np.all(hv == hv[0]))
    hcols = hv[:1] if common else hv
    G = gram(ps, hcols, p)
    Ginv = np.linalg.inv(G)  # (k, p+1, p+1)
    lev_c = _antidiag(Ginv)  # (2p+1, k)
    nw = window_sizes(ps, hcols)
    budget = memory_budget_bytes(memory_budget, Y.shape[0], 4)
    coef = np.empty((p + 1, m))
    cvar = np.full((p + 1, m), np.nan)
    sum_k = np.empty(m)
    sum_ke2 = np.full(m, np.nan)
    sum_wp = np.empty(m)
    sum_wpe2 = np.full(m, np.nan)
    n_eff = np.empty(m, dtype=int)
    kpoly = np.asarray(ps.kernel._poly)
    if common:
        n = int(nw[0])
        u = ps.xs[:n] / hv[0]
        kw = npoly.polyval(np.abs(u), kpoly)
        if ps.w is not None:
            kw = kw * ps.w[:n]
        inw = kw > 0
        R = np.empty((n, p + 1))
        R[:, 0] = 1.0
        for a in range(1, p + 1):
            R[:, a] = R[:, a - 1] * u
        KR = kw[:, None] * R
        gi = Ginv[0]
        omega = KR @ gi.T  # (n, p+1): equivalent-kernel weights of every coefficient
        w0 = omega[:, 0]
        wpos = np.where(w0 > 0, w0, 0.0)
        lev = kw * _horner(lev_c[:, 0], u)
        sk = float(kw.sum())
        rows = ps.order[:n]
        off_sup: np.ndarray = np.empty(0, dtype=np.intp)
        if outs is not None:
            sup = (w0 > 0) if outs.positive_support else inw
            off_sup = np.flatnonzero(~sup)
            if outs.weights is not None:
                outs.weights[rows, 0] = w0
            if outs.leverage is not None:
                outs.leverage[rows, 0] = np.where(inw, lev, 0.0)
            if outs.support is not None:
                outs.support[rows, 0] = sup
        om2 = omega[:, list(var_rows)] ** 2 if var_rows else None
        fitted = None if outs is None else outs.fitted
        zero_out = ~inw  # window units with zero kernel weight (the edge)
        zero_sup = np.zeros(n, dtype=bool)
        zero_sup[off_sup] = True
        for wide, subs in _wide_chunks(_chunks(m, n, budget, 6), n, budget):
            # one gather of the rows over a wide block of columns (its cost is per row), the
            # fits over the budget's narrower blocks of columns inside it, each a contiguous
            # array as it always was (the rounding of a BLAS product may depend on its
            # width and layout): the same numbers bit for bit
            parts = _gather_center_scale(Y, rows, wide, subs)
            cfs = [gi @ (KR.T @ Z) for Z, _, _ in parts]  # (p+1, k) each
            # the same operations as Z - F, E * E, F * aa + cc, ..., elementwise in blocks
            # of rows that stay in cache (bit for bit the whole-array passes); the fitted
            # values of the wide block written together
            kw_ = wide.stop - wide.start
            # neither residuals nor fitted values wanted: no pass over the rows
            row_blocks = _row_blocks(n, kw_) if sums or fitted is not None else []
            for r in row_blocks:
                Fw = None
                if fitted is not None and len(subs) > 1:
                    Fw = np.empty((r.stop - r.start, kw_))
                for (Z, cc, aa), cf, c in zip(parts, cfs, subs, strict=True):
                    F = _horner_in_place(cf, u[r])  # (rows, k)
                    if sums:
                        E2 = np.subtract(Z[r], F, out=Z[r])
                        E2[zero_out[r]] = 0.0
                        np.multiply(E2, E2, out=E2)
                    if fitted is not None:
                        with np.errstate(over="ignore", invalid="ignore"):
                            np.multiply(F, aa, out=F)
                            np.add(F, cc, out=F)
                        F[zero_sup[r]] = 0.0
                        if Fw is None:
                            Fw = F
                        else:
                            Fw[:, c] = F
                    del F
                if Fw is not None and fitted is not None:
                    _put_rows(fitted, rows[r], wide, Fw)
                del Fw
            for (E2, cc, aa), cf, c in zip(parts, cfs, subs, strict=True):
                cols = slice(wide.start + c.start, wide.start + c.stop)
                a2 = _square(aa)
                coef[:, cols] = cf * aa
                coef[0, cols] += cc
                if not sums:
                    continue
                sum_ke2[cols] = (kw @ E2) * a2
                if wpos_sums:
                    sum_wpe2[cols] = (wpos @ E2) * a2
                if om2 is not None:
                    cvar[list(var_rows), cols] = (om2.T @ E2) * a2
            del parts, E2
        sum_k[:] = sk
        sum_wp[:] = wpos.sum()
        n_eff[:] = int(inw.sum())
    else:
        for cols in _chunks(m, int(nw[cols_max(nw)]) if m else 0, budget, 5):
            nb = int(nw[cols].max())
            rows = ps.order[:nb]
            Yg = np.empty((nb, cols.stop - cols.start))
            _take_rows(Y, rows, cols, Yg)
            Yt = np.ascontiguousarray(Yg.T)  # (k, nb): one column per row
            del Yg
            k = Yt.shape[0]
            o = outs if outs is not None else _Outputs(None, None, None, None, False)
            F_b = None if o.fitted is None else np.zeros((k, nb))
            W_b = None if o.weights is None else np.zeros((k, nb))
            L_b = None if o.leverage is None else np.zeros((k, nb))
            S_b = None if o.support is None else np.zeros((k, nb), dtype=bool)
            for t, j in enumerate(range(cols.start, cols.stop)):
                n = int(nw[j])
                u = ps.xs[:n] / hv[j]
                kw = npoly.polyval(np.abs(u), kpoly)
                if ps.w is not None:
                    kw = kw * ps.w[:n]
                inw = kw > 0
                gi = Ginv[j]
                Z, cc, aa = _center_scale_cols(Yt[t, :n, None])
                z = Z[:, 0]
                kz = kw * z
                rhs = np.empty(p + 1)
                pw = np.ones_like(u)
                for a in range(p + 1):
                    rhs[a] = np.sum(kz * pw) if a else kz.sum()
                    if a < p:
                        pw = pw * u
                cf = gi @ rhs
                f = _horner(cf, u)
                w0 = kw * _horner(gi[0], u)
                wpos = np.where(w0 > 0, w0, 0.0)
                coef[:, j] = cf * aa[0]
                coef[0, j] += cc[0]
                sum_k[j] = kw.sum()
                sum_wp[j] = wpos.sum()
                n_eff[j] = int(np.count_nonzero(inw))
                if sums:
                    e = np.where(inw, z - f, 0.0)
                    e2 = e * e
                    a2 = _square(aa[0])
                    sum_ke2[j] = np.sum(kw * e2) * a2
                    if wpos_sums:
                        sum_wpe2[j] = np.sum(wpos * e2) * a2
                    for a in var_rows:
                        om = w0 if a == 0 else kw * _horner(gi[a], u)
                        cvar[a, j] = float(np.sum(om * om * e2)) * a2
                if outs is not None:
                    sup = (w0 > 0) if o.positive_support else inw
                    if F_b is not None:
                        with np.errstate(over="ignore", invalid="ignore"):
                            F_b[t, :n] = np.where(sup, f * aa[0] + cc[0], 0.0)
                    if W_b is not None:
                        W_b[t, :n] = w0
                    if L_b is not None:
                        L_b[t, :n] = np.where(inw, kw * _horner(lev_c[:, j], u), 0.0)
                    if S_b is not None:
                        S_b[t, :n] = sup
            # scatter from contiguous blocks (5x faster than from the transposed view; sorting
            # the rows first does not pay)
            for dest, block in (
                (o.fitted, F_b),
                (o.weights, W_b),
                (o.leverage, L_b),
                (o.support, S_b),
            ):
                if dest is not None and block is not None:
                    _put_rows(dest, rows, cols, np.ascontiguousarray(block.T))
    return WindowedSummary(
        coef=coef,
        coef_variance=cvar,
        sum_k=sum_k,
        sum_ke2=sum_ke2,
        sum_wpos=sum_wp,
        sum_wpos_e2=sum_wpe2,
        n_eff=n_eff,
        h=np.array(hv, dtype=float),
    )


def cols_max(nw: np.ndarray) -> int:
    """Index of the widest window (for chunk sizing)."""
    return int(np.argmax(nw)) if nw.size else 0


def _square(a: np.ndarray | float) -> Any:
    """``a**2`` (infinite beyond the float range, like the reference's squared residuals)."""
    with np.errstate(over="ignore"):
        return np.asarray(a, dtype=float) ** 2


def fit_summaries(
    ps: SortedSide,
    Y: np.ndarray,
    h: np.ndarray,
    p: int,
    *,
    var_rows: tuple[int, ...] = (),
    memory_budget: int | None = None,
    positive_weight_sums: bool = True,
) -> WindowedSummary:
    """Per-column coefficients and residual summaries of one side, without (n, m) arrays.

    Parameters
    ----------
    ps : SortedSide
        The prepared side (``ps.max_order >= p``).
    Y : ndarray, shape (n, m)
        Outcomes (finite; rows are units as in ``x``).
    h : ndarray, shape (m,)
        Bandwidth per column (all equal: the common-bandwidth path with matrix products).
    p : int
        Polynomial order.
    var_rows : tuple of int, default ()
        Rows of ``coef_variance`` to compute (HC0 variances cost ``p + 1`` operations per
        unit and row); the others are NaN.
    memory_budget : int, optional
        Bytes of temporaries per block of columns (default: 64 MiB or four ``(n,)``
        arrays, whichever is larger).
    positive_weight_sums : bool, default True
        ``False`` skips ``sum_wpos_e2`` (NaN; a pass over the residuals fewer when only the
        kernel-weighted variance is wanted).

    Returns
    -------
    WindowedSummary

    Examples
    --------
    >>> x = np.linspace(-1, 1, 41)
    >>> Y = np.stack([1 + 2 * x, 3 - x**2], axis=1)
    >>> ps = prepare_side(x, 0.0, "plus", "triangular", 2)
    >>> s = fit_summaries(ps, Y, np.array([0.5, 0.8]), 2)
    >>> np.round(s.coef, 10).tolist()  # (1, 2h, 0) and (3, 0, -h^2) on the scaled basis
    [[1.0, 3.0], [1.0, 0.0], [0.0, -0.64]]
    """
    return _run(ps, Y, h, p, tuple(var_rows), None, memory_budget, True, positive_weight_sums)


def fit_into(
    ps: SortedSide,
    Y: np.ndarray,
    h: np.ndarray,
    p: int,
    *,
    fitted_out: np.ndarray | None = None,
    weights_out: np.ndarray | None = None,
    leverage_out: np.ndarray | None = None,
    support_out: np.ndarray | None = None,
    support: Literal["window", "positive_weight"] = "window",
    var_rows: tuple[int, ...] = (),
    memory_budget: int | None = None,
    residual_sums: bool = True,
) -> WindowedSummary:
    """Fit one side and write unit-level results into caller-provided arrays.

    Only the rows of the side's units inside each column's window are written (the window
    of the widest bandwidth of a block of columns for per-column bandwidths, with zeros
    beyond a column's own window), so arrays shared by both sides must start as zeros.

    Parameters
    ----------
    ps, Y, h, p, var_rows, memory_budget
        As in :func:`fit_summaries`.
    fitted_out : ndarray, shape (n, m), optional
        Receives the fitted values on the support (zero elsewhere in the window).
    weights_out : ndarray, shape (n, m) or (n, 1), optional
        Intercept weights (``locpoly_boundary``'s ``weights``); one column when every
        column shares the bandwidth.
    leverage_out : ndarray, shape (n, m) or (n, 1), optional
        Leverages inside the window (zero at units with zero kernel weight).
    support_out : ndarray of bool, shape (n, m) or (n, 1), optional
        The support: units with positive kernel weight (``support="window"``) or with a
        positive intercept weight (``"positive_weight"``, R3D's rule).
    support : {"window", "positive_weight"}, default "window"
        Which support the fitted values and ``support_out`` use.
    residual_sums : bool, default True
        ``False`` skips the residuals of the fits: the summary's ``sum_ke2``,
        ``sum_wpos_e2`` and ``coef_variance`` are then NaN (coefficients, the other sums
        and the unit-level outputs are the same).

    Returns
    -------
    WindowedSummary
        Coefficients and summaries as :func:`fit_summaries`.

    Examples
    --------
    >>> x = np.linspace(-1, 1, 9)
    >>> Y = (1 + x)[:, None]
    >>> fitted = np.zeros((9, 1))
    >>> ps = prepare_side(x, 0.0, "plus", "uniform", 1)
    >>> s = fit_into(ps, Y, np.array([0.5]), 1, fitted_out=fitted)
    >>> fitted[:, 0].round(10).tolist()
    [0.0, 0.0, 0.0, 0.0, 1.0, 1.25, 1.5, 0.0, 0.0]
    """
    outs = _Outputs(fitted_out, weights_out, leverage_out, support_out, support != "window")
    return _run(ps, Y, h, p, tuple(var_rows), outs, memory_budget, residual_sums)


def window_problem(
    ps: SortedSide, h: np.ndarray, p: int, min_units: int | None = None
) -> tuple[int, str] | None:
    """First column whose window cannot identify the fit, with the reason, or ``None``.

    The criteria of ``locpoly_boundary``'s window check, from the sorted side and the
    prefix sums: fewer than ``min_units`` (default ``p + 1``) units with positive kernel
    weight, a bandwidth too large for the scale of ``x``, fewer than ``p + 1`` distinct
    running-variable values (small windows only), a zero column in the design, or a
    numerically singular Gram matrix. :func:`check_windows` words the error.

    Examples
    --------
    >>> ps = prepare_side(np.linspace(-1, 1, 21), 0.0, "plus", "triangular", 2)
    >>> window_problem(ps, np.array([1.0, 0.15]), 2)
    (1, 'fewer than 3 units in the window')
    """
    hv = np.atleast_1d(np.asarray(h, dtype=float))
    need = p + 1 if min_units is None else int(min_units)
    nw = window_sizes(ps, hv)
    G = gram(ps, hv, p)
    d = np.sqrt(np.abs(np.diagonal(G, axis1=1, axis2=2)))
    with np.errstate(divide="ignore", invalid="ignore"):
        Gs = G / (d[:, :, None] * d[:, None, :])
        rcond = 1.0 / np.linalg.cond(np.where(np.isfinite(Gs), Gs, 0.0))
    kpoly = np.asarray(ps.kernel._poly)
    for j in range(hv.size):
        k = _positive_prefix(ps, float(hv[j]), int(nw[j]), kpoly)
        if k < need:
            return j, f"fewer than {need} units in the window"
        umax = float(ps.ax[k - 1] / hv[j]) if k else 0.0
        if umax > 0 and 2 * max(p, 1) * np.log2(umax) < -960:
            return j, (
                f"the bandwidth is {1 / umax:.3g} times the largest |x - cutoff| in the "
                "window, too large for the scale of `x`: choose `h` on the scale of x"
            )
        if k < 50 * (p + 1) and np.unique(ps.xs[:k]).size < p + 1:
            return j, f"fewer than p + 1 = {p + 1} distinct running-variable values"
        if np.any(d[j] == 0):
            return j, "a zero column in the design"
        if not rcond[j] >= _RCOND_TOL:
            return j, "a numerically singular Gram matrix"
    return None


def _positive_prefix(ps: SortedSide, h: float, n: int, kpoly: np.ndarray) -> int:
    """Units of the window prefix with positive kernel weight (edge units have K = 0)."""
    k = n
    while k > 0 and npoly.polyval(abs(ps.xs[k - 1] / h), kpoly) <= 0:
        k -= 1
    return k


def check_windows(
    ps: SortedSide,
    other: SortedSide,
    h: np.ndarray,
    p: int,
    cutoff: float,
    min_units: int | None = None,
) -> None:
    """Raise ``locpoly_boundary``'s EstimationError (same words) for a window of side ``ps``
    that cannot identify the fit; ``other`` is the opposite side (for the unit counts).

    Raises
    ------
    estkit.exceptions.EstimationError
        With the message ``locpoly_boundary`` gives for the same data and bandwidths.

    Examples
    --------
    >>> x = np.linspace(-1, 1, 21)
    >>> pp = prepare_side(x, 0.0, "plus", "triangular", 2)
    >>> pm = prepare_side(x, 0.0, "minus", "triangular", 2)
    >>> check_windows(pp, pm, np.array([0.5]), 2, 0.0)  # identified: no error
    """
    hv = np.atleast_1d(np.asarray(h, dtype=float))
    bad = window_problem(ps, hv, p, min_units)
    if bad is None:
        return
    j, reason = bad
    hj = float(hv[j])
    n_side = int(window_sizes(ps, np.array([hj]))[0])
    n_other = int(window_sizes(other, np.array([hj]))[0])
    n_plus, n_minus = (n_side, n_other) if ps.side == "plus" else (n_other, n_side)
    k = _positive_prefix(ps, hj, n_side, np.asarray(ps.kernel._poly))
    n_distinct = int(np.unique(ps.xs[:k]).size)
    common = bool(np.all(hv == hv[0]))
    col = "all columns" if common and hv.size > 1 else f"column {0 if common else j}"
    where = "at or above" if ps.side == "plus" else "below"
    raise EstimationError(
        f"Local polynomial of order p = {p} on the {ps.side} side cannot be estimated with "
        f"bandwidth h = {hj:.6g} ({col}): the kernel window |x - cutoff| <= h holds "
        f"{n_plus} unit(s) at or above the cutoff and {n_minus} below it ({reason}); the "
        f"units {where} the cutoff = {cutoff:.6g} in the window take {n_distinct} distinct "
        f"running-variable value(s). Use a larger bandwidth or a lower polynomial order."
    )
