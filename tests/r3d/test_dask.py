"""Out-of-core quantiles on a local Dask cluster with two worker processes."""

import os

import numpy as np
import pandas as pd
import pytest

from benchmarks.dask_recipe import RECIPE  # the README's recipe for a memory-tight cluster
from r3d import R3D, Distributions, quantiles_from_dask

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

pytestmark = [
    pytest.mark.dask,
    # dask.distributed's shuffle and worker shutdown chatter is not our code
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
]

Q = np.round(np.arange(0.05, 0.96, 0.05), 2)


@pytest.fixture(scope="module")
def long_data():
    rng = np.random.default_rng(0)
    n = 600
    sizes = rng.integers(3, 80, n)
    unit = np.repeat(np.arange(n), sizes)
    x = rng.uniform(-1, 1, n)
    y = 2 + x[unit] + (x[unit] >= 0) + rng.standard_normal(unit.size)
    w = rng.uniform(0.5, 2.0, unit.size)
    df = pd.DataFrame({"unit": unit, "y": y, "w": w, "x": x[unit]})
    return df.sample(frac=1.0, random_state=1).reset_index(drop=True)


@pytest.fixture(scope="module")
def client():
    """Two worker processes with a tight memory limit (450 MB each) and the recipe's spill
    settings; every test of this module runs on it."""
    import dask

    with (
        dask.config.set(RECIPE),
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            memory_limit="450MB",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


def test_dask_equals_in_memory_exactly(long_data, client):
    ddf = dd.from_pandas(long_data, npartitions=7)
    qf = quantiles_from_dask(ddf, unit="unit", outcome="y", running="x", quantiles=Q)
    mem = Distributions.from_long(long_data, unit="unit", outcome="y", running="x")
    np.testing.assert_array_equal(qf.matrix, mem.quantiles(Q))
    np.testing.assert_array_equal(qf.running, mem.running)
    a = R3D(quantiles=Q, n_bootstrap=50, random_state=0).fit(y=qf)
    b = R3D(quantiles=Q, n_bootstrap=50, random_state=0).fit(y=mem)
    np.testing.assert_array_equal(a.tau_, b.tau_)
    assert a.critical_value_ == b.critical_value_


def test_dask_weighted_and_parquet(long_data, client, tmp_path):
    long_data.to_parquet(tmp_path / "part-0.parquet")
    qf = quantiles_from_dask(
        str(tmp_path), unit="unit", outcome="y", weight="w", running="x", quantiles=Q
    )
    mem = Distributions.from_long(long_data, unit="unit", outcome="y", weight="w", running="x")
    np.testing.assert_array_equal(qf.matrix, mem.quantiles(Q))  # the same grouping: exact


def test_dask_bad_columns(long_data, client):
    ddf = dd.from_pandas(long_data, npartitions=2)
    with pytest.raises(ValueError, match="not found"):  # issue 12: missing column = ValueError
        quantiles_from_dask(ddf, unit="unit", outcome="income")


def test_dask_unit_ids_and_quiet_progress(long_data, client, capsys, caplog):
    import logging

    df = long_data.assign(unit=long_data["unit"].map(lambda u: f"firm{u:04d}"))
    ddf = dd.from_pandas(df, npartitions=5)
    shuffle_logger = logging.getLogger("distributed.shuffle")
    level = shuffle_logger.level
    with caplog.at_level(logging.INFO):
        qf = quantiles_from_dask(
            ddf, unit="unit", outcome="y", running="x", quantiles=Q, progress=True
        )
    mem = Distributions.from_long(df, unit="unit", outcome="y", running="x")
    assert qf.unit_ids.tolist() == mem.unit_ids.tolist()
    assert qf.unit_ids[0] == "firm0000"
    np.testing.assert_array_equal(qf.matrix, mem.quantiles(Q))
    # our call is silent in distributed's shuffle loggers, and leaves their level alone
    assert not [r for r in caplog.records if r.name.startswith("distributed.shuffle")]
    assert shuffle_logger.level == level
    # the cluster's progress bar (not the local scheduler's, which stays empty here)
    out = capsys.readouterr()
    assert "100% Completed" in out.out + out.err
    sub = qf.subset(np.arange(qf.n_units) % 2 == 0)
    assert sub.unit_ids.tolist() == mem.unit_ids[::2].tolist()


def test_partitions_sized_from_memory_limit(long_data):
    from r3d._dask import _n_partitions

    ddf = dd.from_pandas(long_data, npartitions=2)
    rows = len(long_data)
    # 3 numeric columns: 24 bytes a row; a partition may take 1/16 of the memory limit
    assert _n_partitions(ddf, ["unit", "y", "x"], None, 16 * 24 * 1000) == -(-rows // 1000)
    assert _n_partitions(ddf, ["unit", "y", "x"], 500, None) == -(-rows // 500)
    assert _n_partitions(ddf, ["unit", "y", "x"], None, None) is None
    assert _n_partitions(ddf, ["unit", "y", "x"], 10**9, None) == 2  # never fewer than input
    with pytest.raises(ValueError, match="`rows_per_partition` must be >= 1"):
        quantiles_from_dask(ddf, unit="unit", outcome="y", rows_per_partition=0)


def test_memory_tight_recipe(tmp_path, client):
    """The README's recipe on a small scale: two 450 MB worker processes with spilling,
    partitions sized from the memory limit, Parquet input."""
    workers = client.scheduler_info()["workers"].values()
    assert [w["memory_limit"] for w in workers] == [450_000_000] * 2
    env = client.run(lambda: os.environ.get("ARROW_DEFAULT_MEMORY_POOL"))
    assert list(env.values()) == ["system"] * 2  # the recipe reaches the worker processes
    rng = np.random.default_rng(3)
    n_units, k = 8_000, 40
    unit = rng.permutation(np.repeat(np.arange(n_units), k))
    x = rng.uniform(-1, 1, n_units)
    df = pd.DataFrame({"unit": unit, "y": rng.standard_normal(unit.size), "x": x[unit]})
    step = -(-len(df) // 6)
    for i in range(6):
        df.iloc[i * step : (i + 1) * step].to_parquet(tmp_path / f"part-{i}.parquet")
    qf = quantiles_from_dask(str(tmp_path), unit="unit", outcome="y", running="x")
    mem = Distributions.from_long(df, unit="unit", outcome="y", running="x")
    np.testing.assert_array_equal(qf.matrix, mem.quantiles(np.arange(1, 100) / 100))
    np.testing.assert_array_equal(qf.unit_ids, np.arange(n_units))
    np.testing.assert_array_equal(qf.running, x)


def test_partitions_fetched_one_by_one(long_data, client):
    """No task concatenates the partitions on a worker (a DataFrame ``compute()`` would:
    its ``repartitiontofewer`` task holds the whole quantile matrix twice in one worker,
    1.6 GB at 1e6 units); each partition is fetched and dropped from the cluster."""
    import time

    from distributed import get_task_stream
    from distributed.utils import key_split

    ddf = dd.from_pandas(long_data, npartitions=4)
    with get_task_stream(client) as ts:
        qf = quantiles_from_dask(
            ddf, unit="unit", outcome="y", running="x", quantiles=Q, rows_per_partition=3000
        )
    prefixes = {key_split(t["key"]) for t in ts.data}
    assert "partition_quantiles" in prefixes
    assert not [p for p in prefixes if "repartition" in p or "concat" in p], prefixes
    mem = Distributions.from_long(long_data, unit="unit", outcome="y", running="x")
    np.testing.assert_array_equal(qf.matrix, mem.quantiles(Q))
    np.testing.assert_array_equal(qf.unit_ids, mem.unit_ids)
    deadline = time.monotonic() + 10
    while (held := client.run(lambda dask_worker: len(dask_worker.data))) and any(held.values()):
        assert time.monotonic() < deadline, held  # the workers keep no result
        time.sleep(0.1)


def test_dask_bad_values_name_the_column(long_data, client):
    kw = {"unit": "unit", "outcome": "y", "running": "x", "quantiles": Q}
    for col, value, match in (
        ("w", np.nan, r"`w` \(the weight column\) must be finite and non-negative"),
        ("w", -1.0, r"`w` \(the weight column\) must be finite and non-negative"),
        ("unit", np.nan, r"`data\['unit'\]` has missing unit ids"),
        ("y", np.nan, r"`y` \(the outcome column\) contains non-finite outcomes \(NaN or inf"),
    ):
        df = long_data.copy()
        df[col] = df[col].astype(float)
        df.loc[7, col] = value
        with pytest.raises(ValueError, match=match):
            quantiles_from_dask(dd.from_pandas(df, npartitions=3), weight="w", **kw)


def test_dask_index_labels_play_no_part(long_data, client):
    df = long_data.set_axis(np.random.default_rng(2).permutation(len(long_data)) * 7 + 3)
    kw = {"unit": "unit", "outcome": "y", "weight": "w", "running": "x", "quantiles": Q}
    got = quantiles_from_dask(dd.from_pandas(df, npartitions=4), **kw)
    mem = Distributions.from_long(long_data, unit="unit", outcome="y", weight="w", running="x")
    np.testing.assert_array_equal(got.matrix, mem.quantiles(Q))
    np.testing.assert_array_equal(got.unit_ids, mem.unit_ids)


def test_dask_zero_weight_unit_and_no_rows(long_data, client):
    kw = {"unit": "unit", "outcome": "y", "quantiles": Q}
    df = long_data.copy()
    df.loc[df["unit"] == 5, "w"] = 0.0
    with pytest.raises(
        ValueError, match=r"`w` \(the weight column\): unit 5 has zero total weight"
    ):
        quantiles_from_dask(dd.from_pandas(df, npartitions=3), weight="w", **kw)
    with pytest.raises(ValueError, match="`data` has no rows"):
        quantiles_from_dask(dd.from_pandas(df.iloc[:0], npartitions=1), **kw)
