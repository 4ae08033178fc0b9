"""Out-of-core unit quantile functions with Dask.

Microdata too large for memory (hundreds of millions of rows) are reduced to the small
``(n_units, m)`` quantile matrix on a Dask cluster: the rows are shuffled so that each
unit's observations sit in one partition, then every partition computes its units'
quantiles with the same vectorised routine as the in-memory path
(:func:`r3d._quantiles.segment_quantiles`). Quantiles are exact, and identical to the
in-memory result, because each unit's quantiles depend only on its own sorted sample.
Everything after the reduction (bandwidths, fits, bootstrap) is small and local.

Dask is an optional dependency: ``pip install "estkit[dask]"``. To use a real cluster,
create a client first (``dask.distributed.Client("tcp://scheduler:8786")``): Dask then
runs the reduction there.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd

from estkit import check_option
from estkit._parallel import _want_progress
from r3d._data import QuantileFunctions
from r3d._quantiles import QuantileMethod, segment_quantiles

__all__ = ["quantiles_from_dask"]


def _partition_quantiles(
    part: pd.DataFrame,
    unit: str,
    outcome: str,
    weight: str | None,
    per_unit: list[str],
    q: np.ndarray,
    method: str,
) -> pd.DataFrame:
    """Quantiles of every unit of one partition (all rows of a unit are in the partition)."""
    qcols = [f"q{j}" for j in range(q.size)]
    if len(part) == 0:
        return pd.DataFrame(
            {**{c: pd.Series(dtype=float) for c in qcols}, **{c: pd.Series() for c in per_unit}}
        )
    codes, ids = pd.factorize(part[unit], sort=True)
    order = np.argsort(codes, kind="stable")
    values = part[outcome].to_numpy(dtype=float)[order]
    if not np.all(np.isfinite(values)):
        raise ValueError(f"`{outcome}` contains non-finite outcomes; remove them first.")
    w = None if weight is None else part[weight].to_numpy(dtype=float)[order]
    counts = np.bincount(codes, minlength=len(ids))
    offsets = np.concatenate([[0], np.cumsum(counts)])
    Q = segment_quantiles(values, offsets, q, w, method)  # type: ignore[arg-type]
    out = pd.DataFrame(Q, columns=qcols, index=pd.Index(ids, name=unit))
    for col in per_unit:
        g = part.groupby(codes, sort=True)[col]
        if (g.nunique(dropna=False) > 1).any():
            raise ValueError(f"Column {col!r} varies within unit; it must be constant per unit.")
        out[col] = g.first().to_numpy()
    return out


def quantiles_from_dask(
    data: Any,
    *,
    unit: str,
    outcome: str,
    quantiles: Any = None,
    weight: str | None = None,
    running: str | None = None,
    treatment: str | None = None,
    cluster: str | None = None,
    method: QuantileMethod = "linear",
    progress: bool | None = None,
) -> QuantileFunctions:
    """Reduce long microdata held by Dask (or in Parquet files) to unit quantile functions.

    Parameters
    ----------
    data : dask.dataframe.DataFrame, str or os.PathLike
        One row per observation; a path is read with ``dask.dataframe.read_parquet``
        (a directory of Parquet files or a glob).
    unit, outcome : str
        Columns of the unit id and the outcome.
    quantiles : array-like, optional
        Levels in (0, 1); default 0.01, ..., 0.99.
    weight : str, optional
        Column of sampling weights.
    running, treatment, cluster : str, optional
        Per-unit columns (constant within unit) carried into the result.
    method : {"linear", "hmisc"}
        Weighted-quantile definition (see :mod:`r3d._quantiles`).
    progress : bool, optional
        Show Dask's progress bar (default: only in an interactive terminal).

    Returns
    -------
    QuantileFunctions
        Units ordered by id; ``R3D().fit(y=result)`` fits directly when ``running`` is
        given.

    Examples
    --------
    >>> import dask.dataframe as dd  # doctest: +SKIP
    >>> ddf = dd.read_parquet("microdata/")  # doctest: +SKIP
    >>> qf = quantiles_from_dask(
    ...     ddf, unit="firm", outcome="wage", running="score"
    ... )  # doctest: +SKIP
    >>> R3D().fit(y=qf)  # doctest: +SKIP
    """
    try:
        import dask
        import dask.dataframe as dd
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError("quantiles_from_dask needs Dask: pip install 'estkit[dask]'.") from exc
    method = check_option(method, "method", QuantileMethod)
    from r3d._estimator import DEFAULT_GRID

    q = DEFAULT_GRID.copy() if quantiles is None else np.asarray(quantiles, dtype=float)
    if q.ndim != 1 or np.any(q <= 0) or np.any(q >= 1) or np.any(np.diff(q) <= 0):
        raise ValueError("`quantiles` must be strictly increasing levels inside (0, 1).")
    if isinstance(data, str | os.PathLike):
        data = dd.read_parquet(data)
    if not isinstance(data, dd.DataFrame):
        raise TypeError("`data` must be a dask DataFrame or a path to Parquet files.")
    per_unit = [c for c in (running, treatment, cluster) if c is not None]
    cols = [unit, outcome, *([weight] if weight else []), *per_unit]
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise KeyError(f"Columns {missing} not found; available: {list(data.columns)}.")
    # all rows of a unit in one partition, then one vectorised pass per partition
    shuffled = data[cols].shuffle(on=unit)
    qcols = [f"q{j}" for j in range(q.size)]
    meta = pd.DataFrame(
        {**{c: pd.Series(dtype=float) for c in qcols}, **{c: data[c].dtype for c in per_unit}}
    )
    meta.index = pd.Index([], name=unit, dtype=data[unit].dtype)
    reduced = shuffled.map_partitions(
        _partition_quantiles, unit, outcome, weight, per_unit, q, method, meta=meta
    )
    if _want_progress(progress):
        from dask.diagnostics import ProgressBar

        with ProgressBar():
            result = reduced.compute()
    else:
        with dask.config.set({"dataframe.convert-string": False}):
            result = reduced.compute()
    result = result.sort_index()
    if result.index.has_duplicates:
        raise RuntimeError("Dask shuffle left a unit split across partitions.")  # defensive
    return QuantileFunctions(
        result[qcols].to_numpy(),
        q,
        running=None if running is None else result[running].to_numpy(dtype=float),
        treatment=None if treatment is None else result[treatment].to_numpy(dtype=float),
        cluster=None if cluster is None else result[cluster].to_numpy(),
    )
