"""Containers for distribution-valued outcomes.

One internal representation for every input: all outcomes in one flat array, unit after
unit, with ``offsets`` marking where each unit starts (and optional per-observation
weights). Quantile functions of all units are then computed in one vectorised pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from estkit import check_option
from estkit._validation import check_grid
from r3d._quantiles import QuantileMethod, segment_quantiles

__all__ = ["Distributions", "QuantileFunctions"]


@dataclass(frozen=True, eq=False)
class Distributions:
    """Ragged microdata: one sample of outcomes (and optional weights) per unit.

    Build it with :meth:`from_arrays` (a sequence of 1-D arrays) or :meth:`from_long`
    (a long DataFrame, one row per observation). The running variable, treatment and
    cluster labels may ride along (one value per unit), so that ``R3D().fit(data)``
    needs nothing else. A frozen dataclass whose constructor arguments are stored
    (validated) as attributes of the same names.

    Parameters
    ----------
    values : array-like of shape (N,)
        All outcomes, unit after unit.
    offsets : array-like of int, shape (n_units + 1,)
        Unit ``i`` owns ``values[offsets[i]:offsets[i + 1]]``.
    weights : array-like of shape (N,), optional
        Non-negative sampling weights (None: equal weights).
    unit_ids : array-like of shape (n_units,), optional
        Unit labels (0..n-1 by default; the DataFrame's unit labels with ``from_long``).
    running, treatment, cluster : array-like of shape (n_units,), optional
        Running variable, treatment indicator and cluster labels, one value per unit.

    Examples
    --------
    >>> d = Distributions.from_arrays([[1.0, 2.0, 3.0], [5.0, 7.0]], running=[-0.5, 0.5])
    >>> d.n_units, d.sizes.tolist()
    (2, [3, 2])
    >>> d.quantiles([0.5]).ravel().tolist()
    [2.0, 6.0]
    """

    values: np.ndarray
    offsets: np.ndarray
    weights: np.ndarray | None = None
    unit_ids: np.ndarray = field(default_factory=lambda: np.empty(0))
    running: np.ndarray | None = None
    treatment: np.ndarray | None = None
    cluster: np.ndarray | None = None

    def __post_init__(self) -> None:
        values = np.asarray(self.values, dtype=float)
        offsets = np.asarray(self.offsets, dtype=np.int64)
        if values.ndim != 1:
            raise ValueError("`values` must be one-dimensional (all outcomes, unit after unit).")
        if offsets.ndim == 1 and offsets.size == 1 and values.size == 0:
            raise ValueError("`y` has no units: pass at least one outcome sample per unit.")
        if offsets.ndim != 1 or offsets.size < 2 or offsets[0] != 0 or offsets[-1] != values.size:
            raise ValueError(
                "`offsets` must start at 0, end at len(values) and hold n_units + 1 entries."
            )
        sizes = np.diff(offsets)
        if np.any(sizes < 0):
            raise ValueError("`offsets` must be non-decreasing.")
        if np.any(sizes == 0):
            bad = int(np.flatnonzero(sizes == 0)[0])
            raise ValueError(
                f"`y`: unit {bad} has an empty outcome sample; every unit needs at least one "
                "observation (drop the unit, together with its running variable)."
            )
        if not np.all(np.isfinite(values)):
            unit = int(
                np.searchsorted(offsets, np.flatnonzero(~np.isfinite(values))[0], "right") - 1
            )
            raise ValueError(
                f"`y` contains non-finite outcomes (first in unit {unit}); remove NaN/inf "
                "observations from the unit samples before fitting."
            )
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "offsets", offsets)
        n = sizes.size
        if self.weights is not None:
            w = np.asarray(self.weights, dtype=float)
            if w.shape != values.shape:
                raise ValueError(
                    f"`weights` must have one weight per observation ({values.size}); "
                    f"got shape {w.shape}."
                )
            if not np.all(np.isfinite(w)) or np.any(w < 0):
                raise ValueError("`weights` must be finite and non-negative.")
            unit_tot = np.add.reduceat(w, offsets[:-1])
            if np.any(unit_tot <= 0):
                bad = int(np.flatnonzero(unit_tot <= 0)[0])
                raise ValueError(f"`weights`: unit {bad} has zero total weight.")
            object.__setattr__(self, "weights", w)
        ids = (
            np.arange(n)
            if self.unit_ids is None or len(self.unit_ids) == 0
            else np.asarray(self.unit_ids)
        )
        if ids.shape != (n,):
            raise ValueError(f"`unit_ids` must have one label per unit ({n}).")
        object.__setattr__(self, "unit_ids", ids)
        for name in ("running", "treatment", "cluster"):
            v = getattr(self, name)
            if v is not None:
                arr = np.asarray(v) if name == "cluster" else _unit_numbers(v, name)
                if arr.shape != (n,):
                    raise ValueError(
                        f"`{name}` must have one value per unit ({n}); got {arr.shape}."
                    )
                object.__setattr__(self, name, arr)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_arrays(
        cls,
        samples: Sequence[Any],
        weights: Sequence[Any] | None = None,
        *,
        running: Any = None,
        treatment: Any = None,
        cluster: Any = None,
        unit_ids: Any = None,
    ) -> Distributions:
        """Build from a sequence of 1-D arrays (one per unit) or a 2-D (units x draws) array.

        Parameters
        ----------
        samples : sequence of array-like, or 2-D array
            Unit ``i``'s outcome sample. A 2-D array is read row by row.
        weights : sequence of array-like, optional
            Matching per-observation weights.
        running, treatment, cluster : array-like of shape (n_units,), optional
        unit_ids : array-like of shape (n_units,), optional
            Unit labels (default ``0..n-1``).

        Returns
        -------
        Distributions
            One unit per sample, in the order given.

        Raises
        ------
        TypeError
            If a sample holds text, or ``samples`` is not a sequence of samples.
        ValueError
            If ``samples`` is empty, a sample is not one-dimensional, or ``weights`` does
            not hold one array per unit.
        """
        if isinstance(samples, np.ndarray) and samples.dtype.kind in "USa":
            raise TypeError("`y` holds text; outcomes must be numbers (convert them first).")
        if isinstance(samples, np.ndarray) and samples.ndim == 2:
            arr = np.asarray(samples, dtype=float)
            n, k = arr.shape
            w = None if weights is None else np.asarray(weights, dtype=float).reshape(-1)
            return cls(
                arr.reshape(-1), np.arange(n + 1) * k, w, unit_ids, running, treatment, cluster
            )
        if isinstance(samples, str | bytes) or not hasattr(samples, "__len__"):
            raise TypeError("`y` must be a sequence of 1-D arrays (one outcome sample per unit).")
        parts = []
        for i, s in enumerate(samples):
            if isinstance(s, str | bytes) or np.asarray(s).dtype.kind in "USa":
                raise TypeError(
                    f"`y`: unit {i}'s sample holds text; outcomes must be numbers (convert "
                    "them with pd.to_numeric first)."
                )
            a = np.asarray(s, dtype=float)
            if a.ndim != 1:
                a = a.reshape(-1) if a.ndim == 0 or a.size == a.shape[0] else a
                if a.ndim != 1:
                    raise ValueError(
                        f"`y`: unit {i}'s sample must be one-dimensional; got {a.shape}."
                    )
            parts.append(a)
        if not parts:
            raise ValueError("`y` is empty: pass one outcome sample per unit.")
        sizes = np.fromiter((p.size for p in parts), dtype=np.int64, count=len(parts))
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        values = np.concatenate(parts)
        w = None
        if weights is not None:
            if len(weights) != len(parts):
                raise ValueError(
                    f"`weights` must hold one array per unit ({len(parts)}); got {len(weights)}."
                )
            w = np.concatenate([np.asarray(x, dtype=float).reshape(-1) for x in weights])
        return cls(values, offsets, w, unit_ids, running, treatment, cluster)

    @classmethod
    def from_long(
        cls,
        data: pd.DataFrame,
        *,
        unit: str,
        outcome: str,
        weight: str | None = None,
        running: str | None = None,
        treatment: str | None = None,
        cluster: str | None = None,
        unit_data: pd.DataFrame | None = None,
    ) -> Distributions:
        """Build from a long DataFrame with one row per observation.

        Per-unit variables (running variable, treatment, cluster) may be columns of
        ``data`` (constant within unit; checked) or of ``unit_data``, a DataFrame indexed
        by unit id. Units are ordered by their id.

        Parameters
        ----------
        data : DataFrame
            One row per observation.
        unit, outcome : str
            Column names of the unit id and the outcome.
        weight : str, optional
            Column of sampling weights.
        running, treatment, cluster : str, optional
            Column names (in ``unit_data`` if given, else in ``data``).
        unit_data : DataFrame, optional
            One row per unit, indexed by unit id.

        Returns
        -------
        Distributions
            One unit per distinct id, ordered by id; ``unit_ids`` holds the ids.

        Raises
        ------
        TypeError
            If ``data`` is not a DataFrame, or ``unit`` or ``outcome`` is None.
        ValueError
            If a column is missing, a unit id is missing, a per-unit variable varies
            within a unit, or ``unit_data`` lacks a unit of ``data``.

        Examples
        --------
        >>> df = pd.DataFrame({"id": [2, 1, 2, 1], "y": [4.0, 1.0, 6.0, 3.0],
        ...                    "x": [0.3, -0.2, 0.3, -0.2]})
        >>> d = Distributions.from_long(df, unit="id", outcome="y", running="x")
        >>> d.unit_ids.tolist(), d.running.tolist()
        ([1, 2], [-0.2, 0.3])
        """
        if not isinstance(data, pd.DataFrame):
            raise TypeError("`data` must be a pandas DataFrame with one row per observation.")
        for arg, col in (("unit", unit), ("outcome", outcome)):
            if col is None:
                raise TypeError(f"`{arg}` must name a column of `data`; got None.")
        cols = [c for c in (unit, outcome, weight) if c is not None]
        missing = [c for c in cols if c not in data.columns]
        if missing:
            raise ValueError(
                f"Columns {missing} not found in `data`; available: {list(data.columns)}."
            )
        if data[unit].isna().any():
            raise ValueError(f"`data[{unit!r}]` has missing unit ids.")
        # one pass over the rows each: slots of the unit ids, a stable counting sort of the
        # outcomes (and weights) by slot, the constancy checks; then drop the empty slots
        slots, slot_ids = _unit_slots(data[unit])
        order, slot_offsets, values = _group_rows(
            slots, slot_ids.size, _numeric_column(data[outcome], "outcome", outcome)
        )
        w = (
            None
            if weight is None
            else _take(_numeric_column(data[weight], "weight", weight), order)
        )
        used = np.diff(slot_offsets) > 0
        kept = None if used.all() else np.flatnonzero(used)
        offsets = slot_offsets if kept is None else np.append(slot_offsets[kept], values.size)
        ids = slot_ids if kept is None else slot_ids[kept]
        per_unit: dict[str, Any] = {}
        extra: tuple[tuple[str, str | None], ...] = (
            ("running", running),
            ("treatment", treatment),
            ("cluster", cluster),
        )
        for name, col_or_none in extra:
            if col_or_none is None:
                per_unit[name] = None
                continue
            col = col_or_none
            if unit_data is not None:
                if col not in unit_data.columns:
                    raise ValueError(f"Column {col!r} not found in `unit_data`.")
                absent = ~pd.Index(ids).isin(unit_data.index)
                if absent.any():
                    first = pd.Index(ids)[absent].tolist()[0]
                    raise ValueError(
                        f"`unit_data` has no row for {int(absent.sum())} unit(s) of `data` "
                        f"(first: {first!r}); index `unit_data` by the unit ids, one row per "
                        "unit."
                    )
                per_unit[name] = unit_data[col].reindex(ids).to_numpy()
            else:
                if col not in data.columns:
                    raise ValueError(f"Column {col!r} not found in `data`.")
                per_slot = _constant_per_unit(
                    data[col], slots, slot_ids.size, col, _last_rows(order, slot_offsets)
                )
                per_unit[name] = per_slot if kept is None else per_slot[kept]
        return cls(values, offsets, w, np.asarray(ids), **per_unit)

    def to_quantile_functions(self, q: Any, method: QuantileMethod = "linear") -> QuantileFunctions:
        """The units' quantile functions at levels ``q``, with the unit ids and per-unit
        variables carried over.

        Parameters
        ----------
        q : array-like of shape (m,)
            Quantile levels, strictly increasing inside (0, 1) (the grid of the result).
        method : {"linear", "hmisc"}, default "linear"
            Quantile rule for weighted samples (see :meth:`quantiles`).

        Returns
        -------
        QuantileFunctions
            ``matrix`` of shape ``(n_units, m)`` on ``grid = q``.

        Examples
        --------
        >>> d = Distributions.from_arrays([[1.0, 3.0], [5.0, 7.0]], unit_ids=["a", "b"])
        >>> qf = d.to_quantile_functions([0.5])
        >>> qf.matrix.ravel().tolist(), qf.unit_ids.tolist()
        ([2.0, 6.0], ['a', 'b'])
        """
        qq = np.atleast_1d(np.asarray(q, dtype=float))
        return QuantileFunctions(
            self.quantiles(qq, method),
            qq,
            running=self.running,
            treatment=self.treatment,
            cluster=self.cluster,
            unit_ids=self.unit_ids,
        )

    # ------------------------------------------------------------------ properties
    @property
    def n_units(self) -> int:
        """Number of units."""
        return int(self.offsets.size - 1)

    @property
    def sizes(self) -> np.ndarray:
        """Sample size of every unit."""
        return np.diff(self.offsets)

    @property
    def n_obs(self) -> int:
        """Total number of observations."""
        return int(self.values.size)

    def subset(self, keep: np.ndarray) -> Distributions:
        """The units selected by a boolean mask or index array (in that order).

        Parameters
        ----------
        keep : numpy.ndarray of bool, shape (n_units,), or of int
            Boolean mask, or positions of the units to keep (negative positions count
            from the end).

        Returns
        -------
        Distributions
            The kept units' samples, weights, ids and per-unit variables.

        Raises
        ------
        TypeError
            If ``keep`` is neither a boolean mask nor a 1-D integer array.
        ValueError
            If the mask has the wrong length, a position is out of range, or no unit is
            selected.
        """
        k = np.asarray(keep)
        if k.dtype == bool and k.shape != (self.n_units,):
            raise ValueError(
                f"`keep`: a boolean mask needs one entry per unit ({self.n_units}); got "
                f"shape {k.shape}."
            )
        if k.dtype != bool and (k.ndim != 1 or k.dtype.kind not in "iu"):
            raise TypeError("`keep` must be a boolean mask or an array of unit positions.")
        if k.dtype != bool and k.size and (k.min() < -self.n_units or k.max() >= self.n_units):
            raise ValueError(f"`keep`: unit positions must lie in [0, {self.n_units}).")
        idx = np.arange(self.n_units)[k]
        if idx.size == 0:
            raise ValueError("`keep` selects no unit; a Distributions needs at least one.")
        sizes = self.sizes[idx]
        starts = self.offsets[idx]
        flat = np.repeat(starts - np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes) + np.arange(
            sizes.sum()
        )
        per_unit = [
            None if v is None else v[idx] for v in (self.running, self.treatment, self.cluster)
        ]
        return Distributions(
            self.values[flat],
            np.concatenate([[0], np.cumsum(sizes)]),
            None if self.weights is None else self.weights[flat],
            self.unit_ids[idx],
            *per_unit,
        )

    def quantiles(self, q: Any, method: QuantileMethod = "linear") -> np.ndarray:
        """Every unit's quantile function at levels ``q``: an ``(n_units, m)`` array.

        Unweighted samples use R's type 7 (NumPy's ``"linear"``). Weighted samples use
        ``method="linear"`` (weighted plotting positions, reducing to type 7 for equal
        weights) or ``method="hmisc"`` (``Hmisc::wtd.quantile``, as in the R package);
        see :mod:`r3d._quantiles`.

        Parameters
        ----------
        q : float or array-like of shape (m,)
            Quantile levels in [0, 1].
        method : {"linear", "hmisc"}, default "linear"
            Quantile rule for weighted samples.

        Returns
        -------
        numpy.ndarray of shape (n_units, m)
            Row ``i`` is unit ``i``'s quantile function at ``q``.

        Raises
        ------
        TypeError
            If ``q`` is not numeric.
        ValueError
            If a level lies outside [0, 1] (or is NaN), or the quantiles overflow.
        """
        method = check_option(method, "method", QuantileMethod)
        if isinstance(q, str | bytes):
            raise TypeError(f"`q` must be quantile levels in [0, 1]; got {q!r}.")
        try:
            qq = np.atleast_1d(np.asarray(q, dtype=float))
        except (TypeError, ValueError):
            raise TypeError(f"`q` must be quantile levels in [0, 1]; got {q!r}.") from None
        if qq.ndim != 1 or not np.all((qq >= 0) & (qq <= 1)):
            raise ValueError(f"`q` must be a 1-D array of levels in [0, 1] (no NaN); got {q!r}.")
        with np.errstate(over="ignore", invalid="ignore"):
            out = segment_quantiles(self.values, self.offsets, qq, self.weights, method)
        if not np.all(np.isfinite(out)):
            raise ValueError(
                "The unit quantiles overflow (outcomes too large to interpolate between, "
                "beyond about 1e307): rescale the outcomes."
            )
        return out


@dataclass(frozen=True, eq=False)
class QuantileFunctions:
    """Precomputed unit quantile functions on a grid: an ``(n_units, m)`` matrix.

    Use it when only the quantiles are available (e.g. published quantile tables). The
    fit's quantile grid is then this grid. A frozen dataclass whose constructor arguments
    are stored (validated) as attributes of the same names.

    Parameters
    ----------
    matrix : array-like of shape (n_units, m)
        Row ``i`` is unit ``i``'s quantile function on ``grid`` (finite, non-decreasing).
    grid : array-like of shape (m,)
        Quantile levels, strictly increasing inside (0, 1).
    running, treatment, cluster : array-like of shape (n_units,), optional
        Running variable, treatment indicator and cluster labels, one value per unit.
    unit_ids : array-like of shape (n_units,), optional
        Unit labels (``0..n-1`` by default).

    Examples
    --------
    ``unit_ids`` (default ``0..n-1``) names the rows, so results can be joined back to
    unit-level data.

    >>> qf = QuantileFunctions([[1.0, 2.0], [1.5, 3.0]], grid=[0.25, 0.75])
    >>> qf.matrix.shape, qf.unit_ids.tolist()
    ((2, 2), [0, 1])
    """

    matrix: np.ndarray
    grid: np.ndarray
    running: np.ndarray | None = None
    treatment: np.ndarray | None = None
    cluster: np.ndarray | None = None
    unit_ids: np.ndarray | None = None

    def __post_init__(self) -> None:
        m = np.ascontiguousarray(self.matrix, dtype=float)  # one layout: results bit-identical
        g = check_grid(self.grid, "grid")
        if m.ndim != 2 or m.shape[1] != g.size:
            raise ValueError(
                f"`matrix` must be (n_units, len(grid)) = (n, {g.size}); got shape {m.shape}."
            )
        if not np.all(np.isfinite(m)):
            raise ValueError("`matrix` contains non-finite quantiles; drop those units first.")
        # quantile functions are non-decreasing (beyond rounding residue)
        tol = 64 * np.finfo(float).eps * np.max(np.abs(m), axis=1, initial=0.0)
        falls = np.any(np.diff(m, axis=1) < -tol[:, None], axis=1)
        if falls.any():
            raise ValueError(
                f"`matrix`: {int(falls.sum())} of {m.shape[0]} rows decrease along the grid "
                f"(first: row {int(np.flatnonzero(falls)[0])}), but a quantile function is "
                "non-decreasing. Check the column order of the grid; if the dips are "
                "interpolation noise, rearrange the rows first: np.sort(matrix, axis=1)."
            )
        object.__setattr__(self, "matrix", m)
        object.__setattr__(self, "grid", g)
        n = m.shape[0]
        for name in ("running", "treatment", "cluster"):
            v = getattr(self, name)
            if v is not None:
                arr = np.asarray(v) if name == "cluster" else _unit_numbers(v, name)
                if arr.shape != (n,):
                    raise ValueError(f"`{name}` must have one value per unit ({n}).")
                object.__setattr__(self, name, arr)
        ids = np.arange(n) if self.unit_ids is None else np.asarray(self.unit_ids)
        if ids.shape != (n,):
            raise ValueError(f"`unit_ids` must have one label per unit ({n}); got {ids.shape}.")
        object.__setattr__(self, "unit_ids", ids)

    @property
    def n_units(self) -> int:
        """Number of units."""
        return int(self.matrix.shape[0])

    def subset(self, keep: Any) -> QuantileFunctions:
        """The units selected by a boolean mask or index array (in that order), with their
        ids and per-unit variables.

        Parameters
        ----------
        keep : array-like of bool, shape (n_units,), or of int
            Boolean mask, or positions of the units to keep.

        Returns
        -------
        QuantileFunctions
            The kept rows of ``matrix`` on the same grid.
        """
        idx = np.arange(self.n_units)[np.asarray(keep)]

        def take(v: np.ndarray | None) -> np.ndarray | None:
            return None if v is None else v[idx]

        return QuantileFunctions(
            self.matrix[idx],
            self.grid,
            running=take(self.running),
            treatment=take(self.treatment),
            cluster=take(self.cluster),
            unit_ids=take(self.unit_ids),
        )


def _numeric_column(col: pd.Series, arg: str, name: str) -> np.ndarray:
    """A long-format column as floats (missing values as NaN); text refused, naming it."""
    if col.dtype.kind not in "biuf" and not pd.api.types.is_numeric_dtype(col.dtype):
        raise TypeError(
            f"`{arg}` column {name!r} must be numeric; got dtype {col.dtype} (convert it, "
            "e.g. with pandas.to_numeric)."
        )
    return col.to_numpy(dtype=float, na_value=np.nan)


def _unit_numbers(v: Any, name: str) -> np.ndarray:
    """A per-unit numeric variable as floats (NaN for missing), text refused."""
    if isinstance(v, pd.Series):
        v = v.to_numpy(dtype=object)
    arr = np.asarray(v)
    if arr.dtype.kind in "USa" or (
        arr.dtype == object and any(isinstance(e, str | bytes) for e in arr.ravel())
    ):
        raise TypeError(f"`{name}` must be numeric, one value per unit; got text values.")
    if arr.dtype == object:
        arr = np.where(pd.isna(arr), np.nan, arr)
    try:
        return arr.astype(float)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be numeric, one value per unit.") from None


# ---------------------------------------------------------------------- long-format helpers
def _code_dtype(n_rows: int) -> type[np.signedinteger[Any]]:
    """The index type of the grouping: int32 while the rows fit (half the memory traffic)."""
    return np.int32 if n_rows < 2**31 - 1 else np.int64


def _unit_slots(ids: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Every row's slot (int32 while the rows fit), slots ordered like the sorted ids, and
    the id of every slot.

    Integer ids spanning a range not much larger than the row count are their own slots
    (shifted to start at 0 when needed): no hashing, no sort, no table look-up; some slots
    may then hold no row. Other ids go through ``pandas.factorize`` (every slot used).
    """
    v = ids.to_numpy()
    budget = 2 * v.size + 1024  # slots allowed: at most about two per row
    ctype = _code_dtype(budget)
    if v.dtype.kind in "iu" and v.size:
        lo, hi = int(v.min()), int(v.max())
        if hi - lo < budget:
            base = 0 if 0 <= lo and hi < budget else lo
            wide = np.int64 if v.dtype.kind == "i" else np.uint64  # v - base cannot overflow
            idx = v if base == 0 else v.astype(wide) - wide(base)
            return idx.astype(ctype), np.arange(base, hi + 1).astype(v.dtype)
    codes, uniques = pd.factorize(ids, sort=True)
    return codes.astype(ctype, copy=False), np.asarray(uniques)


def _unit_codes(ids: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes ``0..n-1`` of the unit ids in sorted id order, and the sorted ids.

    The slots of :func:`_unit_slots` with the empty ones squeezed out (one ``bincount``
    and one look-up in a small table).
    """
    slots, slot_ids = _unit_slots(ids)
    present = np.bincount(slots, minlength=slot_ids.size) > 0
    if present.all():
        return slots, slot_ids
    return (np.cumsum(present, dtype=slots.dtype) - 1)[slots], slot_ids[present]


def _take(v: np.ndarray, order: np.ndarray | None) -> np.ndarray:
    return v if order is None else v[order]


try:  # SciPy's C++ COO-to-CSR conversion: a stable counting sort that moves the values
    from scipy.sparse._sparsetools import coo_tocsr as _coo_tocsr
except ImportError:  # pragma: no cover - private entry point moved: the public route below
    _coo_tocsr = None


def _counting_sort(
    codes: np.ndarray, n: int, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stable counting sort of the rows by code: ``(order, offsets, values[order])``.

    O(rows + units): one counting pass and one scatter pass in compiled code (SciPy's
    ``coo_tocsr``, the unit codes as row indices and the row numbers as column indices).
    """
    N = codes.size
    itype = _code_dtype(max(N, n + 1))
    rows = np.ascontiguousarray(codes, dtype=itype)
    cols = np.arange(N, dtype=itype)
    vals = np.ascontiguousarray(values, dtype=float)
    if _coo_tocsr is None:  # pragma: no cover - exercised by the fallback test
        return _counting_sort_public(rows, cols, vals, n)
    indptr = np.empty(n + 1, dtype=itype)
    order = np.empty(N, dtype=itype)
    out = np.empty(N, dtype=float)
    try:
        _coo_tocsr(n, N, N, rows, cols, vals, indptr, order, out)
    except (TypeError, ValueError):  # pragma: no cover - a SciPy whose private call differs
        return _counting_sort_public(rows, cols, vals, n)
    return order, indptr.astype(np.int64), out


def _counting_sort_public(
    rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_counting_sort` through SciPy's public sparse API (slower: format checks)."""
    from scipy.sparse import coo_matrix

    csr = coo_matrix((vals, (rows, cols)), shape=(n, rows.size)).tocsr()
    return (
        np.asarray(csr.indices),
        np.asarray(csr.indptr, dtype=np.int64),
        np.asarray(csr.data, dtype=float),
    )


def _group_rows(
    codes: np.ndarray, n: int, values: np.ndarray
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Rows grouped by code in a stable order: ``(order, offsets, values[order])``.

    Rows already grouped (codes non-decreasing) keep their order (``order`` is None);
    otherwise a counting sort (O(rows + units), stable) replaces an argsort and moves the
    values with it.
    """
    N = codes.size
    head = codes[:4096]  # shuffled rows show it at once: skip the full pass
    if N == 0 or (np.all(head[1:] >= head[:-1]) and np.all(codes[1:] >= codes[:-1])):
        counts = np.bincount(codes, minlength=n)
        return None, np.concatenate([[0], np.cumsum(counts)]), values
    return _counting_sort(codes, n, values)


def _last_rows(order: np.ndarray | None, offsets: np.ndarray) -> np.ndarray:
    """The (original) row number of every unit's last row, from :func:`_group_rows`."""
    last = offsets[1:] - 1
    return last if order is None else order[last]


_CHUNK_ROWS = 2**18  # rows per pass of the per-unit checks: temporaries stay in cache


def _constant_per_unit(
    col: pd.Series, codes: np.ndarray, n: int, name: str, rep: np.ndarray | None = None
) -> np.ndarray:
    """Each unit's value of a per-unit column, checked constant within every unit.

    ``rep`` holds one row number per unit (its last row; found by one scatter when not
    given). That row's value is gathered back to every row by code and compared, in
    chunks of rows: no sort and no groupby. Missing values count as one value (a unit may
    be all-NaN).
    """
    v = col.to_numpy()
    lab = v if v.dtype.kind in "biuf" else pd.factorize(col)[0]  # labels: compare codes
    N = codes.size
    if rep is None:
        rep = np.empty(n, dtype=np.intp)
        for a in range(0, N, _CHUNK_ROWS):
            rep[codes[a : a + _CHUNK_ROWS]] = np.arange(a, min(a + _CHUNK_ROWS, N))
    ref = lab[rep]  # one row's value per unit
    for a in range(0, N, _CHUNK_ROWS):
        own = lab[a : a + _CHUNK_ROWS]
        back = ref[codes[a : a + _CHUNK_ROWS]]
        same = back == own
        if lab.dtype.kind == "f" and not same.all():
            same |= np.isnan(back) & np.isnan(own)
        if not same.all():
            raise ValueError(
                f"Column {name!r} varies within unit; a per-unit variable must be constant "
                "within each unit (or pass it through `unit_data`)."
            )
    return v[rep]
