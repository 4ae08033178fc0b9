"""Out-of-core quantiles on a local Dask cluster with two worker processes."""

import numpy as np
import pandas as pd
import pytest

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
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
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
    np.testing.assert_allclose(qf.matrix, mem.quantiles(Q), rtol=0, atol=1e-12)


def test_dask_bad_columns(long_data, client):
    ddf = dd.from_pandas(long_data, npartitions=2)
    with pytest.raises(KeyError, match="not found"):
        quantiles_from_dask(ddf, unit="unit", outcome="income")
