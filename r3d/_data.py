"""Containers for distribution-valued outcomes.

One internal representation for every input: all outcomes in one flat array, unit after
unit, with ``offsets`` marking where each unit starts (and optional per-observation
weights). Quantile functions of all units are then computed in one vectorised pass.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd

from estkit import check_option
from estkit._docstrings import doc_filler
from estkit._parallel import available_cores, thread_map
from estkit._validation import align_by_label, check_grid
from estkit._windowed import _slices
from r3d._quantiles import QuantileMethod, segment_quantiles

__all__ = ["Distributions", "QuantileFunctions"]


# the selection argument of both containers' ``subset`` (one description, one place)
_fill_doc = doc_filler(
    {
        "keep": (
            "keep : array-like of bool, shape (n_units,), or of int\n"
            "    Boolean mask, or positions of the units to keep (negative positions count\n"
            "    from the end). A boolean pandas Series is read by unit id (its index labels\n"
            "    must be the unit ids)."
        ),
        "keep_raises": (
            "Raises\n"
            "------\n"
            "TypeError\n"
            "    If ``keep`` is neither a boolean mask nor a 1-D integer array.\n"
            "ValueError\n"
            "    If the mask has the wrong length (or, as a boolean Series, labels other than\n"
            "    the unit ids), a position is out of range or repeated, or no unit is selected."
        ),
    }
)


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
        Distinct, non-missing, hashable unit labels (0..n-1 by default; the DataFrame's unit
        labels with ``from_long``). Labels of several types keep their types (``[1, "1"]``
        is two labels).
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
        given: Any = self.unit_ids  # the field's default, an empty array, means 0..n-1
        try:
            given = None if given is None or len(given) == 0 else given
        except TypeError:  # a scalar: refused by _unit_labels, naming `unit_ids`
            pass
        object.__setattr__(self, "unit_ids", _unit_labels(given, n))
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
            Distinct unit labels (default ``0..n-1``).

        Returns
        -------
        Distributions
            One unit per sample, in the order given.

        Raises
        ------
        TypeError
            If a sample holds text, ``samples`` is not a sequence of samples, or a unit id
            is unhashable.
        ValueError
            If ``samples`` is empty, a sample is not one-dimensional, ``weights`` does
            not hold one array per unit, or ``unit_ids`` holds a label twice or a missing
            one (NaN, None).
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
        by unit id. When ``unit_data`` is given, every named per-unit column is read from
        it and must not also be a column of ``data`` (two copies could disagree). Units
        are ordered by their id.

        Parameters
        ----------
        data : DataFrame
            One row per observation.
        unit, outcome : str
            Column names of the unit id and the outcome.
        weight : str, optional
            Column of sampling weights.
        running, treatment, cluster : str, optional
            Column names (in ``unit_data`` if given, and then not in ``data``; else in
            ``data``).
        unit_data : DataFrame, optional
            One row per unit, indexed by unit id; holds the named per-unit columns.

        Returns
        -------
        Distributions
            One unit per distinct id, ordered by id; ``unit_ids`` holds the ids.

        Raises
        ------
        TypeError
            If ``data`` (or ``unit_data``) is not a DataFrame, or ``unit`` or ``outcome``
            is None.
        ValueError
            If a column is missing or named twice, a unit id is missing, a per-unit
            variable varies within a unit, an outcome is not finite, a weight is negative
            or not finite, or ``unit_data`` lacks a unit of ``data``, has several rows for
            one, shares a named per-unit column with ``data``, or is given without a
            per-unit column to read from it. The column checks come before any pass over
            the rows.

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
        per_unit_cols = [c for c in (running, treatment, cluster) if c is not None]
        _refuse_twice(data, cols if unit_data is not None else [*cols, *per_unit_cols], "data")
        if unit_data is not None:
            if not isinstance(unit_data, pd.DataFrame):
                raise TypeError(
                    "`unit_data` must be a pandas DataFrame indexed by unit id; got "
                    f"{type(unit_data).__name__}."
                )
            _refuse_twice(unit_data, per_unit_cols, "unit_data")
            if not unit_data.index.is_unique:
                dup = unit_data.index[unit_data.index.duplicated()][:1].tolist()[0]
                raise ValueError(
                    f"`unit_data` has several rows for unit {dup!r}; one row per unit."
                )
            if not per_unit_cols:
                raise ValueError(
                    "`unit_data` is given but no per-unit column (`running`, `treatment` or "
                    "`cluster`) is named; name the columns to read from it, or drop it."
                )
        # the per-unit columns' home is known before any pass over the rows
        home, home_name = (data, "data") if unit_data is None else (unit_data, "unit_data")
        for col in per_unit_cols:
            if col not in home.columns:
                raise ValueError(f"Column {col!r} not found in `{home_name}`.")
            if unit_data is not None and col in data.columns:
                # one value per unit in two places: which one holds is no guess of ours
                raise ValueError(
                    f"Column {col!r} is in both `data` and `unit_data`, which may disagree; "
                    f"drop it from `data` (data.drop(columns=[{col!r}])) to read it from "
                    "`unit_data`, or leave out `unit_data` to read it from `data`."
                )
        ids_col = _unit_column(data, unit)
        # one pass over the rows for the slots of the unit ids, a stable grouping of the
        # outcomes (and weights) by slot; the per-unit columns are checked against each
        # unit's last row; then the empty slots are dropped
        slots, slot_ids = _unit_slots(ids_col)
        slot_offsets, values, w = _group_long(data, slots, slot_ids.size, outcome, weight)
        used = np.diff(slot_offsets) > 0
        kept = None if used.all() else np.flatnonzero(used)
        offsets = slot_offsets if kept is None else np.append(slot_offsets[kept], values.size)
        ids = slot_ids if kept is None else slot_ids[kept]
        named = {"running": running, "treatment": treatment, "cluster": cluster}
        per_unit: dict[str, Any] = dict.fromkeys(named)
        if unit_data is not None:  # it holds every named per-unit column (checked above)
            labels = pd.Index(ids)
            absent = ~labels.isin(unit_data.index)
            if absent.any():
                first = labels[absent].tolist()[0]
                raise ValueError(
                    f"`unit_data` has no row for {int(absent.sum())} unit(s) of `data` "
                    f"(first: {first!r}); index `unit_data` by the unit ids, one row per unit."
                )
            for name, column in named.items():
                if column is not None:
                    per_unit[name] = unit_data[column].reindex(ids).to_numpy()
        elif per_unit_cols:
            rep = _last_rows(slots, slot_ids.size)  # every slot's last row, found once
            for name, column in named.items():
                if column is not None:
                    per_slot = _constant_per_unit(data[column], slots, slot_ids.size, column, rep)
                    per_unit[name] = per_slot if kept is None else per_slot[kept]
        try:
            return cls(values, offsets, w, ids, **per_unit)
        except ValueError as err:  # name the columns and the unit id, not the 2-D arguments
            _raise_long_format_error(err, values, offsets, w, ids, outcome, weight)
            raise

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

    @_fill_doc
    def subset(self, keep: Any) -> Distributions:
        """The units selected by a boolean mask or index array (in that order).

        Parameters
        ----------
        %(keep)s

        Returns
        -------
        Distributions
            The kept units' samples, weights, ids and per-unit variables.

        %(keep_raises)s
        """
        idx = _selected(keep, self.unit_ids)
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
        Distinct, non-missing, hashable unit labels (``0..n-1`` by default).

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
        object.__setattr__(self, "unit_ids", _unit_labels(self.unit_ids, n))

    @property
    def n_units(self) -> int:
        """Number of units."""
        return int(self.matrix.shape[0])

    @_fill_doc
    def subset(self, keep: Any) -> QuantileFunctions:
        """The units selected by a boolean mask or index array (in that order), with their
        ids and per-unit variables.

        Parameters
        ----------
        %(keep)s

        Returns
        -------
        QuantileFunctions
            The kept rows of ``matrix`` on the same grid.

        %(keep_raises)s
        """
        idx = _selected(keep, self.unit_ids)

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


def _selected(keep: Any, unit_ids: Any) -> np.ndarray:
    """Positions of the units that ``keep`` (a boolean mask or unit positions) selects,
    checked: the mask's length, the positions' range, each unit at most once (unit ids
    stay distinct), at least one unit. A boolean pandas Series is a mask by unit id
    (aligned by label, refused when its labels are not the unit ids)."""
    n = len(unit_ids)
    if isinstance(keep, pd.Series) and pd.api.types.is_bool_dtype(keep.dtype):
        units = pd.Series(np.zeros(n), index=pd.Index(unit_ids))
        try:
            keep = align_by_label({"unit_ids": units, "keep": keep})[0]["keep"]
        except ValueError:
            raise ValueError(
                "`keep` is a boolean Series whose index labels are not the unit ids "
                f"({len(keep)} labels against {n} units, "
                f"{int((~keep.index.isin(units.index)).sum())} not among them): index it by "
                "unit id, or pass keep.to_numpy() to select by position."
            ) from None
    k = np.asarray(keep)
    if k.ndim == 1 and k.size == 0:  # [] is no position (numpy reads it as floats)
        k = k.astype(np.intp)
    if k.dtype == bool and k.shape != (n,):
        raise ValueError(
            f"`keep`: a boolean mask needs one entry per unit ({n}); got shape {k.shape}."
        )
    if k.dtype != bool and (k.ndim != 1 or k.dtype.kind not in "iu"):
        raise TypeError("`keep` must be a boolean mask or an array of unit positions.")
    if k.dtype != bool and k.size and (k.min() < -n or k.max() >= n):
        raise ValueError(f"`keep`: unit positions must lie in [0, {n}).")
    idx = np.arange(n)[k]
    if idx.size == 0:
        raise ValueError("`keep` selects no unit; at least one unit is needed.")
    if k.dtype != bool:
        repeat = np.ones(idx.size, dtype=bool)
        repeat[np.unique(idx, return_index=True)[1]] = False  # first selections
        if repeat.any():
            raise ValueError(
                f"`keep` selects unit position {int(idx[np.argmax(repeat)])} more than once; "
                "select each unit at most once (unit ids must stay distinct)."
            )
    return idx


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


def _unit_labels(
    ids: Any,
    n: int,
    name: str = "`unit_ids`",
    fix: str = "pass distinct ids, or none for 0..n-1",
) -> np.ndarray:
    """The units' labels (``0..n-1`` when ``ids`` is None): one per unit, none twice, none
    missing, all hashable; a list of labels of several types keeps their types.

    The one check of user-given unit labels (one hashing pass; a sorted array, as built by
    :meth:`Distributions.from_long`, is recognised in one comparison pass). ``name`` and
    ``fix`` word the refusal (``R3D.fit`` labels the units by a pandas input's index).
    """
    if ids is None:
        return np.arange(n)
    try:
        out = np.asarray(ids)
    except ValueError:  # ragged nested sequences
        raise ValueError(
            f"{name} must hold one label per unit ({n}); got nested sequences ({fix})."
        ) from None
    if out.dtype.kind in "US" and not isinstance(ids, np.ndarray):
        # numpy words [1, "1"] as ["1", "1"]: labels of several types keep their types
        kept = np.asarray(ids, dtype=object)
        if pd.api.types.infer_dtype(kept, skipna=False) not in ("string", "bytes"):
            out = kept
    if out.shape != (n,):
        raise ValueError(f"{name} must have one label per unit ({n}); got shape {out.shape}.")
    labels = pd.Index(out)
    try:
        missing = labels.isna() if out.dtype.kind in "fcOmM" else np.zeros(n, dtype=bool)
        unique = labels.is_unique
    except TypeError:  # unhashable labels (lists, sets, dicts)
        raise TypeError(
            f"{name} must hold hashable labels (numbers, strings, ...); got "
            f"{type(out[0]).__name__} values ({fix})."
        ) from None
    if missing.any():
        raise ValueError(
            f"{name} has a missing label (NaN or None) for unit {int(np.argmax(missing))}; "
            f"every unit needs a label ({fix})."
        )
    if not unique:
        dup = labels[labels.duplicated()][:1].tolist()[0]
        raise ValueError(
            f"{name} holds the label {dup!r} more than once; every unit needs its own label "
            f"({fix})."
        )
    return out


# ---------------------------------------------------------------------- long-format helpers
def _refuse_twice(frame: pd.DataFrame, names: Sequence[str | None], arg: str) -> None:
    """Refuse ``frame`` (the argument ``arg``) when one of ``names`` is several columns."""
    if not frame.columns.is_unique:
        twice = [c for c in names if c is not None and (frame.columns == c).sum() > 1]
        if twice:
            raise ValueError(f"`{arg}` has several columns named {twice[0]!r}; rename them.")


def _unit_column(data: pd.DataFrame, unit: str) -> pd.Series:
    """``data[unit]``, refused when it holds a missing unit id."""
    ids_col = data[unit]
    if not (isinstance(ids_col.dtype, np.dtype) and ids_col.dtype.kind in "biu"):
        if ids_col.isna().any():  # NumPy bool and integer columns hold no missing ids
            raise ValueError(f"`data[{unit!r}]` has missing unit ids.")
    return ids_col


def _raise_long_format_error(
    err: ValueError | None,
    values: np.ndarray,
    offsets: np.ndarray,
    w: np.ndarray | None,
    ids: np.ndarray,
    outcome: str,
    weight: str | None,
) -> None:
    """After the constructor refused ``from_long``'s grouped arrays (or a Dask partition's
    outcomes or weights were found bad, ``err=None``, or
    :func:`~r3d._quantiles.segment_quantiles` refused them): the same refusal in the long
    format's terms (the column and the unit id), or nothing when it concerns neither the
    outcome nor the weight column. The one wording of these refusals for both paths."""

    def unit_of(row: int) -> Any:
        i = int(np.searchsorted(offsets, row, "right")) - 1
        return np.asarray(ids)[i : i + 1].tolist()[0]  # a Python scalar: a plain repr

    if values.size == 0:
        raise ValueError("`data` has no rows: pass at least one observation.") from err
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise ValueError(
            f"`{outcome}` (the outcome column) contains non-finite outcomes (NaN or inf; "
            f"first in unit {unit_of(bad[0])!r}); drop those rows first."
        ) from err
    if w is None:
        return
    bad = np.flatnonzero(~(np.isfinite(w) & (w >= 0)))
    if bad.size:
        raise ValueError(
            f"`{weight}` (the weight column) must be finite and non-negative (first bad value in "
            f"unit {unit_of(bad[0])!r}); drop or fix those rows first."
        ) from err
    total = np.add.reduceat(w, offsets[:-1])
    if np.any(total <= 0):
        raise ValueError(
            f"`{weight}` (the weight column): unit {unit_of(offsets[np.argmax(total <= 0)])!r} has "
            "zero total weight; drop the unit."
        ) from err


def _code_dtype(n_rows: int) -> type[np.signedinteger[Any]]:
    """The index type of the grouping: int32 while the rows fit (half the memory traffic)."""
    return np.int32 if n_rows < 2**31 - 1 else np.int64


# Large inputs are processed in parts of rows (or of units) in threads: the NumPy calls and
# SciPy's compiled routines used release the GIL, and every part writes its own outputs
# or disjoint slices of shared ones, so the results do not depend on the number of parts.
_THREAD_ROWS = 2**20  # from here on the row passes are split among threads
_CHUNK_ROWS = 2**16  # rows per step inside a part: temporaries stay in cache


def _n_threads() -> int:
    """Threads of the long-format passes: the cores, at most 4 (memory-bound work)."""
    return min(available_cores(), 4)


def _in_threads(work: Callable[[int, int], Any], cuts: Sequence[int]) -> list[Any]:
    """``[work(a, b) for a, b in pairwise(cuts)]``, in threads when there are several."""
    return thread_map(lambda r: work(*r), pairwise(cuts))


def _row_cuts(n_rows: int) -> list[int]:
    """Boundaries of the parts of ``n_rows`` rows: near-equal ranges, one per thread
    (a single range below ``_THREAD_ROWS``)."""
    n_parts = _n_threads() if n_rows >= _THREAD_ROWS else 1
    return [n_rows * k // n_parts for k in range(n_parts + 1)]


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
        cuts = _row_cuts(v.size)

        def extremes(a: int, b: int) -> tuple[int, int]:
            lo_hi = [(int(v[sl].min()), int(v[sl].max())) for sl in _slices(b, _CHUNK_ROWS, a)]
            return min(t[0] for t in lo_hi), max(t[1] for t in lo_hi)

        part_lo_hi = _in_threads(extremes, cuts)
        lo, hi = min(t[0] for t in part_lo_hi), max(t[1] for t in part_lo_hi)
        if hi - lo < budget:
            base = 0 if 0 <= lo and hi < budget else lo
            wide = np.int64 if v.dtype.kind == "i" else np.uint64  # v - base cannot overflow
            slots = np.empty(v.size, dtype=ctype)

            def shifted(a: int, b: int) -> None:  # one buffered pass, no wide temporary
                np.subtract(v[a:b], wide(base), out=slots[a:b], dtype=wide, casting="unsafe")

            _in_threads(shifted, cuts)
            # the ids counted up from ``base`` in ``wide``: ``np.arange(base, hi + 1)`` would
            # go through float64 (and lose digits) for ids beyond the int64 range or at its top
            slot_ids = np.arange(hi - base + 1, dtype=wide) + wide(base)
            return slots, slot_ids.astype(v.dtype)
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


try:  # SciPy's C++ COO-to-CSR conversion: a stable counting sort that moves the values
    from scipy.sparse._sparsetools import coo_tocsr as _coo_tocsr
except ImportError:  # pragma: no cover - private entry point moved: the public route below
    _coo_tocsr = None

_TWO_PASS_ROWS = 2**21  # from here on the rows are grouped in two passes (_group_columns)
_BUCKETS = 256  # buckets of the first pass: few write heads, all in cache


def _counting_sort(
    n: int,
    keys: np.ndarray,
    aux: np.ndarray,
    vals: np.ndarray,
    indptr: np.ndarray,
    aux_out: np.ndarray,
    out: np.ndarray,
) -> None:
    """Stable counting sort by ``keys`` (in ``[0, n)``), in compiled code: ``vals`` into
    ``out``, ``aux`` (the type of ``keys``) into ``aux_out``, and the start of every key's
    run into ``indptr`` (``n + 1`` entries, the type of ``keys``).

    SciPy's ``coo_tocsr`` (keys as row indices, ``aux`` as column indices); the public
    sparse API (slower: format checks) when that private call is missing or takes other
    arguments.
    """
    if _coo_tocsr is not None:
        try:
            _coo_tocsr(n, keys.size, keys.size, keys, aux, vals, indptr, aux_out, out)
            return
        except (TypeError, ValueError):  # pragma: no cover - a SciPy whose call differs
            pass
    from scipy.sparse import coo_matrix

    cols = np.arange(keys.size)  # distinct columns: nothing is summed, explicit zeros stay
    csr = coo_matrix((vals, (keys, cols)), shape=(n, keys.size)).tocsr()
    indptr[:] = csr.indptr
    out[:] = csr.data
    aux_out[:] = aux[csr.indices]


def _group_columns(
    codes: np.ndarray, n: int, columns: Sequence[np.ndarray]
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Rows grouped by code (``0 <= codes < n``) in a stable order.

    Returns ``(offsets, grouped)``: ``offsets`` (``n + 1``, int64) where each code's run
    starts, and every column of ``columns`` grouped (the columns themselves when the rows
    were already grouped: codes non-decreasing).

    A stable counting sort in compiled code, O(rows + codes). Up to ``_TWO_PASS_ROWS``
    rows it is one pass. Beyond, moving rows straight into a quarter million units
    misses the cache at every row (a write head per unit), so a first pass moves them into
    about ``_BUCKETS`` buckets of consecutive codes (each part of the rows in its own
    thread, into its own arrays), and a second pass groups every bucket within itself
    (gathering the bucket's rows of every part, which stay in cache), the buckets shared
    among threads. Every step is stable and parts are taken in row order, so the result is
    the one-pass grouping, bit for bit.
    """
    N = codes.size
    head = codes[:4096]  # shuffled rows show it at once: skip the full pass
    if N == 0 or (np.all(head[1:] >= head[:-1]) and np.all(codes[1:] >= codes[:-1])):
        counts = np.bincount(codes, minlength=n)
        return np.concatenate([[0], np.cumsum(counts)]), list(columns)
    itype = _code_dtype(max(N, n + 1))
    keys = np.ascontiguousarray(codes, dtype=itype)
    cols = [np.ascontiguousarray(c) for c in columns]
    grouped = [np.empty(N, dtype=c.dtype) for c in cols]
    if N < _TWO_PASS_ROWS:
        indptr = np.empty(n + 1, dtype=itype)
        scratch = np.empty(N, dtype=itype)
        for c, out in zip(cols, grouped, strict=True):
            _counting_sort(n, keys, keys, c, indptr, scratch, out)
        return indptr.astype(np.int64), grouped
    shift = max(0, int(np.ceil(np.log2(n / _BUCKETS))))
    width = 1 << shift  # codes per bucket
    n_buckets = ((n - 1) >> shift) + 1
    cuts = _row_cuts(N)
    # every row's bucket lives in a grouped column wide enough (written only in the second
    # pass): one fresh array of the row count fewer, fewer page faults
    isz = np.dtype(itype).itemsize
    host = next((g for g in grouped if g.dtype.itemsize >= isz and not g.dtype.hasobject), None)
    bucket_of = (
        np.empty(N, dtype=itype) if host is None else host.view(np.uint8)[: N * isz].view(itype)
    )

    # first pass, one part of the rows per thread: codes and columns into buckets
    def first_pass(a: int, b: int) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        k = keys[a:b]
        buckets = np.right_shift(k, shift, out=bucket_of[a:b])
        indptr = np.empty(n_buckets + 1, dtype=itype)
        keys1 = np.empty(b - a, dtype=itype)
        moved = [np.empty(b - a, dtype=c.dtype) for c in cols]
        for c, out in zip(cols, moved, strict=True):
            _counting_sort(n_buckets, buckets, k, c[a:b], indptr, keys1, out)
        return indptr.astype(np.int64), keys1, moved

    firsts: list[tuple[np.ndarray, np.ndarray, list[np.ndarray]]] = _in_threads(first_pass, cuts)
    starts = np.sum([f[0] for f in firsts], axis=0)  # bucket starts in the grouped rows
    offsets = np.empty(n + 1, dtype=np.int64)
    offsets[n] = N

    def second_pass(lo_b: int, hi_b: int) -> None:
        rows = int(np.max(np.diff(starts[lo_b : hi_b + 1]), initial=0))
        local = np.empty(rows, dtype=itype)
        scratch = np.empty(rows, dtype=itype)
        one_part = len(firsts) == 1  # then the bucket's rows are read where they are
        sinks = [np.empty(0 if one_part else rows, dtype=c.dtype) for c in cols]
        indptr = np.empty(width + 1, dtype=itype)
        for b in range(lo_b, hi_b):
            lo, hi = int(starts[b]), int(starts[b + 1])
            base = b << shift
            m = min(n, base + width) - base
            if hi == lo:
                offsets[base : base + m] = lo
                continue
            pos = 0  # the bucket's rows of every part, in row order
            for ip, keys1, moved in firsts:
                a, e = int(ip[b]), int(ip[b + 1])
                np.subtract(keys1[a:e], base, out=local[pos : pos + e - a], dtype=itype)
                if one_part:
                    inputs = [mv[a:e] for mv in moved]
                else:
                    for sink, mv in zip(sinks, moved, strict=True):
                        sink[pos : pos + e - a] = mv[a:e]
                pos += e - a
            if not one_part:
                inputs = [sink[:pos] for sink in sinks]
            k = local[:pos]
            ip_b = indptr[: m + 1]
            for vals, out in zip(inputs, grouped, strict=True):
                _counting_sort(m, k, k, vals, ip_b, scratch[:pos], out[lo:hi])
            np.add(ip_b[:m], lo, out=offsets[base : base + m], dtype=np.int64)

    shares = [int(np.searchsorted(starts, c, side="left")) for c in cuts]
    shares[0], shares[-1] = 0, n_buckets
    _in_threads(second_pass, sorted(set(shares)))
    return offsets, grouped


def _group_long(
    data: pd.DataFrame, codes: np.ndarray, n: int, outcome: str, weight: str | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The outcome (and weight) column of a long frame as floats grouped by the rows'
    unit codes (:func:`_group_columns`): ``(offsets, values, weights or None)``."""
    columns = [_numeric_column(data[outcome], "outcome", outcome)]
    if weight is not None:
        columns.append(_numeric_column(data[weight], "weight", weight))
    offsets, (values, *rest) = _group_columns(codes, n, columns)
    return offsets, values, (rest[0] if rest else None)


def _last_rows(codes: np.ndarray, n: int) -> np.ndarray:
    """The last row of every code (-1 for codes without rows).

    One part of the rows per thread writes its row numbers into its own table by code with
    ``np.put``, which assigns in index order (the last write to a code wins) and releases
    the GIL; the parts' tables are then merged by their maximum.
    """
    rtype = _code_dtype(codes.size)

    def part(a: int, b: int) -> np.ndarray:
        last = np.full(n, -1, dtype=rtype)
        for sl in _slices(b, _CHUNK_ROWS, a):
            np.put(last, codes[sl], np.arange(sl.start, sl.stop, dtype=rtype))
        return last

    return functools.reduce(np.maximum, _in_threads(part, _row_cuts(codes.size)))


def _constant_per_unit(
    col: pd.Series, codes: np.ndarray, n: int, name: str, rep: np.ndarray | None = None
) -> np.ndarray:
    """Each unit's value of a per-unit column, checked constant within every unit.

    ``rep`` holds one row number per unit (its last row; found by :func:`_last_rows` when
    not given). That row's value is gathered back to every row by code and compared, in
    chunks of rows (one part of the rows per thread): no sort and no groupby. Missing
    values count as one value (a unit may be all-NaN).
    """
    v = col.to_numpy()
    lab = v if v.dtype.kind in "biuf" else pd.factorize(col)[0]  # labels: compare codes
    if rep is None:
        rep = _last_rows(codes, n)
    ref = lab[rep]  # one row's value per unit

    def same(a: int, b: int) -> bool:
        back = np.empty(min(_CHUNK_ROWS, b - a), dtype=ref.dtype)
        for sl in _slices(b, _CHUNK_ROWS, a):
            own = lab[sl]
            got = back[: sl.stop - sl.start]
            np.take(ref, codes[sl], out=got)
            eq = got == own
            if lab.dtype.kind == "f" and not eq.all():
                eq |= np.isnan(got) & np.isnan(own)
            if not eq.all():
                return False
        return True

    if not all(_in_threads(same, _row_cuts(codes.size))):
        raise ValueError(
            f"Column {name!r} varies within unit; a per-unit variable must be constant "
            "within each unit (or pass it through `unit_data`)."
        )
    return v[rep]
