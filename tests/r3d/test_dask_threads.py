"""quantiles_from_dask without a distributed Client (Dask's threaded scheduler), and the
assembly of the partitions' quantiles in unit-id order."""

import numpy as np
import pandas as pd
import pytest

from r3d import Distributions, quantiles_from_dask

dd = pytest.importorskip("dask.dataframe")

pytestmark = pytest.mark.dask

Q = np.round(np.arange(0.1, 0.91, 0.1), 2)


def test_threaded_with_empty_partitions_and_labels():
    """More shuffle partitions than units (most are empty), string ids and string clusters:
    units come back ordered by id with their per-unit columns, equal to the in-memory path."""
    from r3d._dask import _active_client

    assert _active_client() is None  # the threaded scheduler, not a cluster
    rng = np.random.default_rng(5)
    n = 40
    sizes = rng.integers(2, 30, n)
    unit = np.repeat(np.arange(n), sizes)
    x = rng.uniform(-1, 1, n)
    t = (x >= 0).astype(float)
    df = pd.DataFrame(
        {
            "id": [f"u{u:03d}" for u in unit],
            "y": rng.standard_normal(unit.size),
            "x": x[unit],
            "t": t[unit],
            "state": [f"s{u % 4}" for u in unit],
        }
    ).sample(frac=1.0, random_state=2)
    ddf = dd.from_pandas(df, npartitions=3)
    qf = quantiles_from_dask(
        ddf,
        unit="id",
        outcome="y",
        running="x",
        treatment="t",
        cluster="state",
        quantiles=Q,
        rows_per_partition=5,
    )
    mem = Distributions.from_long(
        df, unit="id", outcome="y", running="x", treatment="t", cluster="state"
    )
    np.testing.assert_array_equal(qf.matrix, mem.quantiles(Q))
    assert qf.unit_ids.tolist() == [f"u{u:03d}" for u in range(n)]
    np.testing.assert_array_equal(qf.running, x)
    np.testing.assert_array_equal(qf.treatment, t)
    assert qf.cluster.tolist() == [f"s{u % 4}" for u in range(n)]


def test_assemble_orders_by_id_and_refuses_a_split_unit():
    from r3d._dask import _assemble

    q = np.array([0.25, 0.75])

    def frame(ids, base):
        m = np.add.outer(np.asarray(base, float), [0.0, 1.0])
        out = pd.DataFrame(m, columns=["q0", "q1"], index=pd.Index(ids, name="u"))
        out["x"] = np.asarray(base, float) / 10
        return out

    empty = frame([], []).astype({"x": object})  # an empty partition (no dtype information)
    qf = _assemble([frame([7, 2], [70, 20]), empty, frame([5], [50])], q, "u", "x", None, None)
    assert qf.unit_ids.tolist() == [2, 5, 7]
    np.testing.assert_array_equal(qf.matrix, [[20, 21], [50, 51], [70, 71]])
    np.testing.assert_array_equal(qf.running, [2.0, 5.0, 7.0])
    assert qf.running.dtype == float
    with pytest.raises(RuntimeError, match="split across partitions"):
        _assemble([frame([1, 2], [1, 2]), frame([2], [2])], q, "u", None, None, None)
