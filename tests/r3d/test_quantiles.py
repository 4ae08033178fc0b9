from itertools import pairwise

import numpy as np
import pandas as pd
import pytest

from r3d import Distributions, QuantileFunctions
from r3d._quantiles import segment_quantiles


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


def _hmisc_reference(x, w, q):
    """Hmisc::wtd.quantile(type="quantile", normwt=TRUE), written out per unit."""
    keep = w > 0
    x, w = x[keep], w[keep]
    w = w * x.size / w.sum()
    ux, inv = np.unique(x, return_inverse=True)
    cum = np.cumsum(np.bincount(inv, w))
    order = 1 + (cum[-1] - 1) * q
    low = np.maximum(np.floor(order), 1)
    high = np.minimum(low + 1, cum[-1])

    def first_reaching(t):
        return ux[np.clip(np.searchsorted(cum, t, side="left"), 0, ux.size - 1)]

    frac = order % 1
    return (1 - frac) * first_reaching(low) + frac * first_reaching(high)


def test_hmisc_weighted_quantiles():
    rng = np.random.default_rng(5)
    sizes = rng.integers(1, 40, 200)
    off = np.concatenate([[0], np.cumsum(sizes)])
    v = np.round(rng.standard_normal(off[-1]), 1)  # many ties
    w = rng.uniform(0, 2, off[-1])
    w[rng.random(off[-1]) < 0.1] = 0.0
    w[off[:-1]] += 0.5  # every unit keeps positive weight
    q = np.linspace(0, 1, 21)
    got = segment_quantiles(v, off, q, w, method="hmisc")
    want = np.array([_hmisc_reference(v[a:b], w[a:b], q) for a, b in pairwise(off)])
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    # normwt = TRUE: invariant to rescaling; equal weights give type 7
    np.testing.assert_allclose(segment_quantiles(v, off, q, 7 * w, method="hmisc"), got, atol=1e-12)
    np.testing.assert_allclose(
        segment_quantiles(v, off, q, np.ones_like(v), method="hmisc"),
        segment_quantiles(v, off, q),
        atol=1e-14,
    )


def test_weighted_quantiles_monotone():
    v, off = _ragged(seed=3, lo=2)
    w = np.random.default_rng(2).uniform(0.0, 1.0, v.size) + 1e-3
    q = np.linspace(0.0, 1.0, 41)
    got = segment_quantiles(v, off, q, w)
    assert np.all(np.diff(got, axis=1) >= -1e-12)


def test_reference_type7_quantiles(reference_csv):
    ref = reference_csv("ref_quantiles.csv")
    worst = 0.0
    for case in sorted(ref["case"].unique()):
        v = reference_csv(f"ref_quantile_y_{case}.csv").iloc[:, -1].to_numpy(float)
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


@pytest.mark.parametrize("method", ["linear", "hmisc"])
def test_zero_weights_are_dropped(method):
    rng = np.random.default_rng(7)
    sizes = rng.integers(3, 30, 100)
    off = np.concatenate([[0], np.cumsum(sizes)])
    v = rng.standard_normal(off[-1])
    w = rng.uniform(0.2, 2, off[-1])
    zero = rng.random(off[-1]) < 0.2
    zero[off[:-1]] = False  # every unit keeps an observation
    w0 = np.where(zero, 0.0, w)
    q = np.linspace(0.02, 0.98, 13)
    keep_sizes = np.add.reduceat((~zero).astype(int), off[:-1])
    keep_off = np.concatenate([[0], np.cumsum(keep_sizes)])
    np.testing.assert_array_equal(
        segment_quantiles(v, off, q, w0, method=method),
        segment_quantiles(v[~zero], keep_off, q, w[~zero], method=method),
    )


def _long_frame(ids, seed=3, shuffle=True):
    """One row per observation; per-unit running variable, treatment and string cluster."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 9, size=len(ids))
    unit = np.repeat(np.asarray(ids), sizes)
    df = pd.DataFrame(
        {
            "unit": unit,
            "y": rng.standard_normal(unit.size).round(1),  # ties: the order within unit matters
            "w": rng.uniform(0.1, 2.0, unit.size),
            "x": np.repeat(rng.uniform(-1, 1, len(ids)), sizes),
            "d": np.repeat(rng.integers(0, 2, len(ids)).astype(float), sizes),
            "state": np.repeat(rng.choice(["ny", "ca", "tx"], len(ids)), sizes),
        }
    )
    return df.sample(frac=1.0, random_state=seed) if shuffle else df


def _reference_from_long(df):
    """The pandas groupby reading: units sorted by id, rows in their original order."""
    groups = [g for _, g in df.groupby("unit", sort=True)]
    return Distributions.from_arrays(
        [g["y"].to_numpy() for g in groups],
        [g["w"].to_numpy() for g in groups],
        running=[g["x"].iloc[0] for g in groups],
        treatment=[g["d"].iloc[0] for g in groups],
        cluster=np.array([g["state"].iloc[0] for g in groups], dtype=object),
        unit_ids=np.array(sorted(df["unit"].unique())),
    )


@pytest.mark.parametrize(
    "ids",
    [
        np.arange(40) + 5,  # contiguous integers: the shifted ids are the codes
        np.arange(40) * 3 + 7,  # dense integers: counting pass
        np.arange(40) * 10**12,  # sparse integers: factorize
        np.array([f"u{i:03d}" for i in range(40)], dtype=object),  # strings
    ],
    ids=["contiguous-int", "dense-int", "sparse-int", "str"],
)
@pytest.mark.parametrize("shuffle", [True, False])
def test_from_long_equals_groupby_reading(ids, shuffle):
    df = _long_frame(ids, shuffle=shuffle)
    got = Distributions.from_long(
        df, unit="unit", outcome="y", weight="w", running="x", treatment="d", cluster="state"
    )
    want = _reference_from_long(df)
    np.testing.assert_array_equal(got.offsets, want.offsets)
    np.testing.assert_array_equal(got.values, want.values)  # stable: rows keep their order
    np.testing.assert_array_equal(got.weights, want.weights)
    np.testing.assert_array_equal(got.running, want.running)
    np.testing.assert_array_equal(got.treatment, want.treatment)
    assert got.cluster.tolist() == want.cluster.tolist()
    assert got.unit_ids.tolist() == want.unit_ids.tolist()
    q = np.linspace(0.05, 0.95, 7)
    np.testing.assert_array_equal(got.quantiles(q), want.quantiles(q))


@pytest.mark.parametrize("col", ["x", "d", "state"])
def test_from_long_refuses_varying_per_unit_column(col):
    df = _long_frame(np.arange(10))
    big = df.groupby("unit")["y"].transform("size") > 1
    row = df.index[big.to_numpy()][0]
    df.loc[row, col] = 5.0 if col != "state" else "zz"
    with pytest.raises(ValueError, match=f"Column '{col}' varies within unit"):
        Distributions.from_long(df, unit="unit", outcome="y", **{_ROLE[col]: col})


_ROLE = {"x": "running", "d": "treatment", "state": "cluster"}


def test_from_long_missing_values_per_unit():
    df = pd.DataFrame(
        {
            "id": [1, 1, 2, 2, 3],
            "y": [1.0, 2.0, 3.0, 4.0, 5.0],
            "x": [np.nan, np.nan, 0.5, 0.5, 1.0],
        }
    )
    d = Distributions.from_long(df, unit="id", outcome="y", running="x")
    assert np.isnan(d.running[0]) and d.running[1:].tolist() == [0.5, 1.0]
    df.loc[1, "x"] = 0.2  # NaN and a number in one unit: not constant
    with pytest.raises(ValueError, match="Column 'x' varies within unit"):
        Distributions.from_long(df, unit="id", outcome="y", running="x")
    df2 = pd.DataFrame({"id": [1.0, np.nan], "y": [1.0, 2.0]})
    with pytest.raises(ValueError, match="missing unit ids"):
        Distributions.from_long(df2, unit="id", outcome="y")
    df3 = pd.DataFrame({"id": [1, 1], "y": [1.0, np.nan]})
    with pytest.raises(ValueError, match="non-finite outcomes"):
        Distributions.from_long(df3, unit="id", outcome="y")


def test_from_long_door_errors_name_the_argument():
    from r3d import Distributions

    df = pd.DataFrame({"u": [1, 1, 2, 2, 3, 3], "y": [1.0, 2, 3, 4, 5, 6], "t": list("abcdef")})
    with pytest.raises(TypeError, match="`outcome` column 't' must be numeric"):
        Distributions.from_long(df, unit="u", outcome="t")
    with pytest.raises(TypeError, match="`unit` must name a column"):
        Distributions.from_long(df, unit=None, outcome="y")
    unit_data = pd.DataFrame({"x": [-0.5, 0.2]}, index=[1, 2])
    with pytest.raises(ValueError, match=r"`unit_data` has no row for 1 unit\(s\) .*first: 3"):
        Distributions.from_long(df, unit="u", outcome="y", running="x", unit_data=unit_data)
    full = pd.DataFrame({"x": [0.4, -0.5, 0.2]}, index=[3, 1, 2])
    d = Distributions.from_long(df, unit="u", outcome="y", running="x", unit_data=full)
    np.testing.assert_array_equal(d.running, [-0.5, 0.2, 0.4])
