"""Vectorised per-unit quantiles of ragged samples (flat values + unit offsets).

All units are processed together: units are bucketed by sample size into powers of two,
each bucket is padded with ``+inf`` into a rectangular block and sorted along its rows,
so the work is a handful of NumPy sorts however many units there are (no Python loop over
units) and the padding never more than doubles memory.

Definitions
-----------
Unweighted (``method="linear"``): R's type 7 / NumPy's ``"linear"``: with sorted values
``x_(1) <= ... <= x_(n)`` and ``h = (n - 1) q``, ``Q(q) = x_(floor h + 1) + (h - floor h)
(x_(floor h + 2) - x_(floor h + 1))``.

Weighted (``method="linear"``): the same interpolation on weighted plotting positions
``p_k = (S_k - w_k) / (S_n - w_n)``, where ``S_k`` is the cumulative weight of the sorted
values. With equal weights ``p_k = (k - 1) / (n - 1)``, so it reduces exactly to type 7.
Zero weights are dropped; the result is invariant to rescaling the weights.

Weighted (``method="hmisc"``): ``Hmisc::wtd.quantile(type = "quantile", normwt = TRUE)``,
as used by the R package R3D: zero weights are dropped, the weights are rescaled to sum to
the number ``N`` of remaining observations, ties are pooled, and ``Q(q)`` interpolates
between the smallest values whose cumulative weight reaches ``floor(1 + (N - 1) q)`` and
that index plus one. With equal weights both weighted definitions reduce to type 7.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

__all__ = ["QuantileMethod", "segment_quantiles", "sorted_blocks"]

QuantileMethod = Literal["linear", "hmisc"]


_BLOCK_ELEMENTS = 2**22  # padded values per block (32 MiB): bounds temporary memory


def sorted_blocks(values: np.ndarray, offsets: np.ndarray, weights: np.ndarray | None = None):
    """Yield ``(units, sizes, sorted_values, sorted_weights)`` blocks of similar-size units.

    ``sorted_values`` is ``(len(units), width)`` padded with ``+inf`` after each unit's
    ``sizes[j]`` sorted values; ``sorted_weights`` follows the same permutation (0 in the
    padding), or is None. Units are bucketed by ``ceil(log2(size))`` (padding at most
    doubles a block) and each bucket is cut into blocks of at most about 4 million padded
    values, so temporary memory stays small next to the input.
    """
    sizes = np.diff(offsets)
    if sizes.size == 0:
        return
    balanced = sizes.min() == sizes.max()
    bucket = (
        np.zeros(sizes.size, np.int64) if balanced else np.ceil(np.log2(sizes)).astype(np.int64)
    )
    for b in np.unique(bucket):
        members = np.flatnonzero(bucket == b)
        width = int(sizes[members].max())
        step = max(1, _BLOCK_ELEMENTS // width)
        for first in range(0, members.size, step):
            units = members[first : first + step]
            sz = sizes[units]
            if balanced:  # contiguous equal-size units: a reshaped copy, no padding
                lo, hi = offsets[units[0]], offsets[units[-1] + 1]
                block = values[lo:hi].reshape(-1, width).copy()
                wblock = None if weights is None else weights[lo:hi].reshape(-1, width)
            else:
                col = np.arange(width)
                mask = col[None, :] < sz[:, None]
                src = (offsets[units][:, None] + col[None, :])[mask]
                block = np.full((units.size, width), np.inf)
                block[mask] = values[src]
                wblock = None
                if weights is not None:
                    wblock = np.zeros((units.size, width))
                    wblock[mask] = weights[src]
            if wblock is None:
                block.sort(axis=1)
                yield units, sz, block, None
            else:
                order = np.argsort(block, axis=1, kind="stable")
                yield (
                    units,
                    sz,
                    np.take_along_axis(block, order, axis=1),
                    np.take_along_axis(wblock, order, axis=1),
                )


def _type7(sorted_vals: np.ndarray, sizes: np.ndarray, q: np.ndarray) -> np.ndarray:
    # R's quantile(type = 7) arithmetic, operation for operation: index = 1 + (n - 1) q,
    # Q = (1 - h) x[lo] + h x[hi] where h = index - lo > 0 and x[hi] != x[lo].
    same_size = sizes.size > 0 and sizes.min() == sizes.max()
    # rows of one sample size share their positions: one (1, m) row of them, not (n, m)
    n_obs = sizes[:1, None] if same_size else sizes[:, None]
    index = 1.0 + (n_obs - 1) * q[None, :]
    lo = np.floor(index)
    h = index - lo
    lo_i = lo.astype(np.int64) - 1
    hi_i = np.minimum(np.ceil(index).astype(np.int64) - 1, n_obs - 1)
    if not same_size:
        a = np.take_along_axis(sorted_vals, lo_i, axis=1)
        b = np.take_along_axis(sorted_vals, hi_i, axis=1)
        return np.where((h > 0) & (b != a), (1.0 - h) * a + h * b, a)
    a = sorted_vals[:, lo_i[0]]
    b = sorted_vals[:, hi_i[0]]
    keep = b == a
    keep |= h <= 0
    out = (1.0 - h) * a
    out += h * b
    np.copyto(out, a, where=keep)
    return out


def _weighted_linear(
    sv: np.ndarray, sw: np.ndarray, sizes: np.ndarray, q: np.ndarray
) -> np.ndarray:
    n, width = sv.shape
    cum = np.cumsum(sw, axis=1)
    total = cum[np.arange(n), sizes - 1]
    last = sw[np.arange(n), sizes - 1]
    denom = total - last
    # a unit with a single (positive-weight) observation has a constant quantile function
    single = denom <= 0
    denom = np.where(single, 1.0, denom)
    pos = (cum - sw) / denom[:, None]
    col = np.arange(width)
    pos = np.where(col[None, :] < sizes[:, None], pos, np.inf)
    # index of the last position <= q, per row, via one searchsorted on row-shifted keys
    keys = (pos + 2.0 * np.arange(n)[:, None]).ravel()
    finite = np.isfinite(keys)
    flat_idx = np.flatnonzero(finite)
    fk = keys[finite]
    targets = (q[None, :] + 2.0 * np.arange(n)[:, None]).ravel()
    j = np.searchsorted(fk, targets, side="right") - 1
    lo_flat = flat_idx[np.clip(j, 0, fk.size - 1)]
    lo = (lo_flat % width).reshape(n, -1)
    lo = np.minimum(lo, sizes[:, None] - 1)
    hi = np.minimum(lo + 1, sizes[:, None] - 1)
    p_lo = np.take_along_axis(pos, lo, axis=1)
    p_hi = np.take_along_axis(pos, hi, axis=1)
    a = np.take_along_axis(sv, lo, axis=1)
    b = np.take_along_axis(sv, hi, axis=1)
    gap = p_hi - p_lo
    frac = np.where(gap > 0, (q[None, :] - p_lo) / np.where(gap > 0, gap, 1.0), 0.0)
    frac = np.clip(frac, 0.0, 1.0)
    out = np.where(frac == 0, a, a + frac * (b - a))
    out[single] = sv[single, :1]
    return out


def _hmisc(sv: np.ndarray, sw: np.ndarray, sizes: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``Hmisc::wtd.quantile(type = "quantile", normwt = TRUE)`` for every row at once.

    Zero weights are dropped; the weights are rescaled to sum to the number of
    positive-weight observations ``N``; ``Q(q)`` interpolates between the smallest values
    whose cumulative weight reaches ``low = max(floor(1 + (N - 1) q), 1)`` and
    ``min(low + 1, N)``. Pooling ties (as Hmisc does) does not change those values.
    """
    n_rows, width = sv.shape
    col = np.arange(width)
    valid = col[None, :] < sizes[:, None]
    w = np.where(valid, sw, 0.0)
    n_pos = np.count_nonzero(w > 0, axis=1).astype(float)
    w = w * (n_pos / w.sum(axis=1))[:, None]
    cum = np.cumsum(w, axis=1)
    order = 1.0 + (n_pos[:, None] - 1.0) * q[None, :]
    low = np.maximum(np.floor(order), 1.0)
    high = np.minimum(low + 1.0, n_pos[:, None])
    frac = order % 1.0
    # one searchsorted for all rows: shift row r by 2 (width + 1) r (cumulative weights of a
    # row lie in [0, N] with N <= width), which keeps the flattened keys sorted
    shift = (2.0 * (width + 1)) * np.arange(n_rows)[:, None]
    keys = (cum + shift).ravel()
    # last observation with positive weight (zero-weight observations are dropped)
    last = (width - 1 - np.argmax((w > 0)[:, ::-1], axis=1))[:, None]

    def first_reaching(t: np.ndarray) -> np.ndarray:
        flat = np.searchsorted(keys, (t + shift).ravel(), side="left").reshape(t.shape)
        idx = np.clip(flat - width * np.arange(n_rows)[:, None], 0, last)
        return np.take_along_axis(sv, idx, axis=1)

    return (1.0 - frac) * first_reaching(low) + frac * first_reaching(high)


def segment_quantiles(
    values: np.ndarray,
    offsets: np.ndarray,
    q: np.ndarray,
    weights: np.ndarray | None = None,
    method: QuantileMethod = "linear",
) -> np.ndarray:
    """Quantiles of every unit's sample at levels ``q``; returns an ``(n_units, m)`` array.

    Parameters
    ----------
    values : ndarray of shape (N,)
        All outcomes, unit after unit.
    offsets : ndarray of shape (n_units + 1,)
        Unit ``i`` owns ``values[offsets[i]:offsets[i + 1]]`` (non-empty).
    q : ndarray of shape (m,)
        Levels in [0, 1].
    weights : ndarray of shape (N,), optional
        Non-negative sampling weights.
    method : {"linear", "hmisc"}
        See the module docstring.

    Examples
    --------
    >>> v = np.array([3.0, 1.0, 2.0, 10.0, 20.0])
    >>> segment_quantiles(v, np.array([0, 3, 5]), np.array([0.5, 0.25]))
    array([[ 2. ,  1.5],
           [15. , 12.5]])
    """
    q = np.asarray(q, dtype=float)
    out = np.empty((offsets.size - 1, q.size))
    if weights is None:
        for units, sizes, sv, _ in sorted_blocks(values, offsets):
            out[units] = _type7(sv, sizes, q)
        return out
    if np.any(weights == 0):  # zero-weight observations carry no information: drop them
        keep = weights > 0
        counts = np.add.reduceat(keep.astype(np.int64), offsets[:-1])
        counts[np.diff(offsets) == 0] = 0
        if np.any(counts == 0):
            raise ValueError("`weights`: a unit has no observation with positive weight.")
        values, weights = values[keep], weights[keep]
        offsets = np.concatenate([[0], np.cumsum(counts)])
    for units, sizes, sv, sw in sorted_blocks(values, offsets, weights):
        if method == "hmisc":
            out[units] = _hmisc(sv, sw, sizes, q)
        else:
            out[units] = _weighted_linear(sv, sw, sizes, q)
    return out
