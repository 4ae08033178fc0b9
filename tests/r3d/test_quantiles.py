from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from r3d import Distributions, QuantileFunctions
from r3d._quantiles import segment_quantiles

REF = Path(__file__).resolve().parents[2].parent / "shared" / "r3d_reference"


def _ragged(seed=0, n=200, lo=1, hi=60):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(lo, hi, size=n)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    return rng.standard_normal(offsets[-1]), offsets


@pytest.mark.parametrize("balanced", [True, False])
def test_type7_matches_numpy_per_unit(balanced):
    v, off = _ragged(lo=30, hi=31) if balanced else _ragged()
    q = np.linspace(0, 1, 23)
    got = segment_quantiles(v, off, q)
    want = np.array([np.quantile(v[a:b], q) for a, b in pairwise(off)])
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-14)


def test_weighted_reduces_to_type7_and_is_scale_invariant():
    v, off = _ragged(lo=2)
    q = np.linspace(0.01, 0.99, 17)
    w = np.full(v.size, 3.7)
    np.testing.assert_allclose(
        segment_quantiles(v, off, q, w), segment_quantiles(v, off, q), atol=1e-13
    )
    w = np.random.default_rng(1).uniform(0.1, 2.0, v.size)
    np.testing.assert_allclose(
        segment_quantiles(v, off, q, w), segment_quantiles(v, off, q, 10 * w), atol=1e-12
    )


def test_weighted_integer_weights_equal_replication():
    # frequency weights in the Hmisc definition equal replicating the observations
    x = np.array([3.0, 1.0, 2.0, 5.0])
    w = np.array([2.0, 1.0, 3.0, 1.0])
    rep = np.repeat(x, w.astype(int))
    q = np.linspace(0.05, 0.95, 19)
    got = segment_quantiles(x, np.array([0, 4]), q, w, method="hmisc")[0]
    np.testing.assert_allclose(got, np.quantile(rep, q), atol=1e-14)


def test_weighted_quantiles_monotone():
    v, off = _ragged(seed=3, lo=2)
    w = np.random.default_rng(2).uniform(0.0, 1.0, v.size) + 1e-3
    q = np.linspace(0.0, 1.0, 41)
    got = segment_quantiles(v, off, q, w)
    assert np.all(np.diff(got, axis=1) >= -1e-12)


@pytest.mark.skipif(not REF.exists(), reason="../shared/r3d_reference not available")
def test_reference_type7_quantiles():
    ref = pd.read_csv(REF / "ref_quantiles.csv")
    worst = 0.0
    for case in sorted(ref["case"].unique()):
        v = pd.read_csv(REF / f"ref_quantile_y_{case}.csv").iloc[:, -1].to_numpy(float)
        rows = ref[ref["case"] == case]
        got = segment_quantiles(v, np.array([0, v.size]), rows["q"].to_numpy())[0]
        worst = max(worst, np.max(np.abs(got / rows["value"].to_numpy() - 1)))
    assert worst < 1e-10


def test_distributions_validation():
    with pytest.raises(ValueError, match="unit 1 has an empty outcome sample"):
        Distributions.from_arrays([[1.0], []])
    with pytest.raises(ValueError, match="non-finite outcomes"):
        Distributions.from_arrays([[1.0, np.nan]])
    with pytest.raises(ValueError, match="one value per unit"):
        Distributions.from_arrays([[1.0], [2.0]], running=[0.1])
    with pytest.raises(ValueError, match="zero total weight"):
        Distributions.from_arrays([[1.0, 2.0]], weights=[[0.0, 0.0]])


def test_from_long_and_subset():
    df = pd.DataFrame(
        {
            "unit": ["b", "a", "b", "a", "c"],
            "y": [4.0, 1.0, 6.0, 3.0, 9.0],
            "x": [0.2, -0.1, 0.2, -0.1, 0.5],
        }
    )
    d = Distributions.from_long(df, unit="unit", outcome="y", running="x")
    assert d.unit_ids.tolist() == ["a", "b", "c"]
    np.testing.assert_allclose(d.quantiles([0.5]).ravel(), [2.0, 5.0, 9.0])
    s = d.subset(np.array([2, 0]))
    assert s.unit_ids.tolist() == ["c", "a"]
    np.testing.assert_allclose(s.quantiles([0.5]).ravel(), [9.0, 2.0])
    df.loc[0, "x"] = 0.3
    with pytest.raises(ValueError, match="varies within unit"):
        Distributions.from_long(df, unit="unit", outcome="y", running="x")


def test_quantile_functions_container():
    with pytest.raises(ValueError, match="inside \\(0, 1\\)"):
        QuantileFunctions(np.ones((2, 2)), grid=[0.0, 0.5])
    with pytest.raises(ValueError, match="len\\(grid\\)"):
        QuantileFunctions(np.ones((2, 3)), grid=[0.2, 0.5])
