"""``Distributions.from_long``'s fast path (slots, counting sort, constancy check on the
grouped rows) against a plain reference reading of the long format, bit for bit."""

import numpy as np
import pandas as pd
import pytest

import r3d._data as data_mod
from r3d import Distributions

Q = np.linspace(0.01, 0.99, 11)


def _reference(df, unit, outcome, weight=None, **per_unit):
    """The definition, one unit at a time: units in sorted id order (a categorical's
    category order), rows in their original order, per-unit columns constant within unit
    (NaN counts as a value) and read from the unit's last row."""
    keys = df[unit]
    if isinstance(keys.dtype, pd.CategoricalDtype):
        present = set(keys)
        uniq = [c for c in keys.cat.categories if c in present]
    else:
        uniq = sorted(set(keys.tolist()))
    key_list = keys.tolist()
    rows = {u: [] for u in uniq}
    for i, k in enumerate(key_list):
        rows[k].append(i)
    y = df[outcome].to_numpy(dtype=float)
    w = None if weight is None else df[weight].to_numpy(dtype=float)
    out = {}
    for role, col in per_unit.items():
        v = df[col].to_numpy()
        vals = []
        for u in uniq:
            unit_vals = [v[i] for i in rows[u]]
            first = unit_vals[0]
            for e in unit_vals[1:]:
                if not (e == first or (pd.isna(e) and pd.isna(first))):
                    raise ValueError(f"Column {col!r} varies within unit")
            vals.append(unit_vals[-1])
        out[role] = np.array(vals, dtype=v.dtype)
    return Distributions.from_arrays(
        [y[rows[u]] for u in uniq],
        None if w is None else [w[rows[u]] for u in uniq],
        unit_ids=np.asarray(pd.Index(uniq, dtype=keys.dtype)),
        **out,
    )


def _frame(ids, seed, *, shuffle=True, max_rows=6):
    """Random long data: ties in the outcome, units of one row and more, weights, a
    per-unit running variable, treatment and text cluster."""
    rng = np.random.default_rng(seed)
    ids = np.asarray(ids)
    sizes = rng.integers(1, max_rows + 1, ids.size)
    sizes[rng.random(ids.size) < 0.3] = 1  # many single-row units
    unit = np.repeat(ids, sizes)
    df = pd.DataFrame(
        {
            "unit": unit,
            "y": rng.standard_normal(unit.size).round(1),  # ties
            "w": rng.uniform(0.1, 2.0, unit.size).round(1),  # tied weights too
            "x": np.repeat(rng.uniform(-1, 1, ids.size), sizes),
            "d": np.repeat(rng.integers(0, 2, ids.size).astype(float), sizes),
            "state": np.repeat(rng.choice(["ny", "ca", "tx"], ids.size), sizes),
        }
    )
    if shuffle:
        df = df.iloc[rng.permutation(len(df))]
        df.index = rng.permutation(len(df)) * 3 + 1  # labels unrelated to positions
    return df


def _assert_identical(got, want):
    np.testing.assert_array_equal(got.offsets, want.offsets)
    assert got.values.tobytes() == want.values.tobytes()
    if want.weights is None:
        assert got.weights is None
    else:
        assert got.weights.tobytes() == want.weights.tobytes()
    assert got.unit_ids.dtype == want.unit_ids.dtype
    assert got.unit_ids.tolist() == want.unit_ids.tolist()
    for name in ("running", "treatment"):
        a, b = getattr(got, name), getattr(want, name)
        assert (a is None and b is None) or a.tobytes() == b.tobytes()
    if want.cluster is not None:
        assert got.cluster.tolist() == want.cluster.tolist()
    for method in ("linear", "hmisc"):
        a, b = got.quantiles(Q, method), want.quantiles(Q, method)
        assert a.tobytes() == b.tobytes()


_IDS = {
    "contiguous-from-0": np.arange(60),
    "contiguous": np.arange(60) + 1000,
    "dense-gaps": np.arange(60) * 3 + 7,  # empty slots between ids
    "negative": np.arange(60) - 30,
    "sparse": np.arange(60) * 10**12,  # too spread for slots: factorize
    "int8-negative": np.array([-128, -100, -3, 0, 5, 100, 127], dtype=np.int8),
    "uint8": np.array([0, 3, 200, 255], dtype=np.uint8),
    "int32": np.arange(40, dtype=np.int32) * 2,
    "uint64-large": np.array([2**63 + 5, 2**63 + 1, 2**64 - 1], dtype=np.uint64),
    "str": np.array([f"u{i:03d}" for i in range(60)], dtype=object),
    "float": np.arange(60) * 0.5 - 7,
}


@pytest.mark.parametrize("kind", list(_IDS))
@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("seed", [0, 1])
def test_from_long_matches_reference(kind, shuffle, seed):
    ids = np.random.default_rng(seed + 10).permutation(_IDS[kind])
    df = _frame(ids, seed, shuffle=shuffle)
    kw = {"running": "x", "treatment": "d", "cluster": "state"}
    got = Distributions.from_long(df, unit="unit", outcome="y", weight="w", **kw)
    _assert_identical(got, _reference(df, "unit", "y", "w", **kw))
    plain = Distributions.from_long(df, unit="unit", outcome="y", running="x")
    _assert_identical(plain, _reference(df, "unit", "y", running="x"))


@pytest.mark.parametrize("ordered", [False, True])
def test_categorical_and_string_unit_columns(ordered):
    df = _frame([f"k{i}" for i in range(30)], 4)
    cats = [*sorted(df["unit"].unique())[::-1], "unused"]  # category order is not sorted
    df["unit"] = pd.Categorical(df["unit"], categories=cats, ordered=ordered)
    got = Distributions.from_long(df, unit="unit", outcome="y", weight="w", running="x")
    want = _reference(df, "unit", "y", "w", running="x")
    _assert_identical(got, want)
    assert got.unit_ids.tolist() == sorted(df["unit"].astype(str).unique())[::-1]
    df["unit"] = df["unit"].astype(str).astype("string")
    got = Distributions.from_long(df, unit="unit", outcome="y", running="x")
    assert got.unit_ids.tolist() == sorted(df["unit"].unique())
    _assert_identical(got, _reference(df, "unit", "y", running="x"))


def test_nullable_integer_units_and_per_unit_columns():
    df = _frame(np.arange(40) * 2, 5)
    want = _reference(df, "unit", "y", running="x")
    df["unit"] = df["unit"].astype("Int64")
    df["x"] = df["x"].astype("Float64")
    got = Distributions.from_long(df, unit="unit", outcome="y", running="x")
    np.testing.assert_array_equal(got.offsets, want.offsets)
    assert got.values.tobytes() == want.values.tobytes()
    assert got.unit_ids.tolist() == want.unit_ids.tolist()
    assert got.running.tobytes() == want.running.tobytes()


def test_large_unit_counts_and_one_row_units():
    rng = np.random.default_rng(8)
    n = 5_000
    unit = rng.integers(0, 3 * n, 4 * n)  # about a quarter of the slots stay empty
    df = pd.DataFrame({"unit": unit, "y": rng.standard_normal(unit.size).round(2)})
    df["x"] = (df["unit"] % 97) / 97.0
    got = Distributions.from_long(df, unit="unit", outcome="y", running="x")
    _assert_identical(got, _reference(df, "unit", "y", running="x"))
    assert (got.sizes == 1).any() and got.n_units == np.unique(unit).size


def test_rows_already_grouped_keep_their_order():
    df = _frame(np.arange(50) * 5, 6, shuffle=False)
    got = Distributions.from_long(df, unit="unit", outcome="y", weight="w", running="x")
    _assert_identical(got, _reference(df, "unit", "y", "w", running="x"))
    np.testing.assert_array_equal(got.values, df["y"].to_numpy())  # no reordering at all


def test_constancy_check_with_empty_slots_nan_and_signed_zero():
    # a varying running variable is caught in units next to empty slots
    df = pd.DataFrame({"u": [1, 9, 9, 1, 4], "y": [1.0, 2, 3, 4, 5], "x": [0.2, 1, 1, 0.3, 0]})
    with pytest.raises(ValueError, match="Column 'x' varies within unit; a per-unit"):
        Distributions.from_long(df, unit="u", outcome="y", running="x")
    # NaN is one value: an all-NaN unit passes, NaN next to a number does not
    df = pd.DataFrame({"u": [3, 1, 3, 1], "y": [1.0, 2, 3, 4], "x": [np.nan, 0.5, np.nan, 0.5]})
    d = Distributions.from_long(df, unit="u", outcome="y", running="x")
    assert d.running[0] == 0.5 and np.isnan(d.running[1])
    df.loc[df.index[0], "x"] = 0.1
    with pytest.raises(ValueError, match="Column 'x' varies within unit"):
        Distributions.from_long(df, unit="u", outcome="y", running="x")
    # 0.0 == -0.0: constant; the value is the unit's last row's
    df = pd.DataFrame({"u": [1, 2, 1, 2], "y": [1.0, 2, 3, 4], "x": [0.0, -0.0, -0.0, 0.0]})
    d = Distributions.from_long(df, unit="u", outcome="y", running="x")
    assert np.signbit(d.running).tolist() == [True, False]
    # text per-unit column (compared by code)
    df = pd.DataFrame({"u": [2, 5, 2], "y": [1.0, 2, 3], "c": ["a", "b", "z"]})
    with pytest.raises(ValueError, match="Column 'c' varies within unit"):
        Distributions.from_long(df, unit="u", outcome="y", cluster="c")


def test_unit_data_is_aligned_by_label_with_empty_slots():
    df = _frame(np.arange(20) * 4 + 2, 7)
    unit_data = pd.DataFrame(
        {"x": np.arange(25.0)}, index=np.random.default_rng(0).permutation(np.arange(25) * 4 + 2)
    )
    df = df.drop(columns=["x"])  # a per-unit column in both places is refused
    d = Distributions.from_long(df, unit="unit", outcome="y", running="x", unit_data=unit_data)
    np.testing.assert_array_equal(d.running, unit_data["x"].reindex(d.unit_ids).to_numpy())
    assert d.unit_ids.tolist() == (np.arange(20) * 4 + 2).tolist()


def test_public_scipy_route_gives_the_same_grouping(monkeypatch):
    df = _frame(np.arange(80) * 2 + 3, 9)
    fast = Distributions.from_long(df, unit="unit", outcome="y", weight="w", running="x")
    monkeypatch.setattr(data_mod, "_coo_tocsr", None)
    slow = Distributions.from_long(df, unit="unit", outcome="y", weight="w", running="x")
    _assert_identical(fast, slow)


@pytest.mark.parametrize("kind", ["dense-gaps", "negative", "str", "uint64-large", "sparse"])
def test_unit_codes_are_dense_and_sorted(kind):
    ids = np.random.default_rng(3).permutation(_IDS[kind])
    s = pd.Series(np.repeat(ids, 3))
    codes, uniq = data_mod._unit_codes(s)
    want_codes, want_uniq = pd.factorize(s, sort=True)
    np.testing.assert_array_equal(codes, want_codes)
    assert uniq.tolist() == np.asarray(want_uniq).tolist() and uniq.dtype == ids.dtype


def _type7_scalar(x, q):
    """R's quantile(type = 7), one level at a time, in R's operation order."""
    x = np.sort(x)
    out = []
    for p in q:
        index = 1.0 + (x.size - 1) * p
        lo = int(np.floor(index))
        hi = min(int(np.ceil(index)), x.size)
        h = index - lo
        a, b = x[lo - 1], x[hi - 1]
        out.append((1.0 - h) * a + h * b if h > 0 and b != a else a)
    return np.array(out)


@pytest.mark.parametrize("size", [1, 2, 7, 200])
def test_equal_size_rows_match_scalar_type7_bit_for_bit(size):
    from r3d._quantiles import segment_quantiles

    rng = np.random.default_rng(size)
    n = 60
    q = np.concatenate([[0.0, 1.0, 0.5], rng.random(20)])
    v = rng.standard_normal(n * size).round(1) * 1e3  # ties
    balanced = segment_quantiles(v, np.arange(n + 1) * size, q)  # one size: shared positions
    want = np.array([_type7_scalar(v[i * size : (i + 1) * size], q) for i in range(n)])
    assert balanced.tobytes() == want.tobytes()
    # the same units next to one of another size (the per-row positions) agree too
    extra = rng.standard_normal(size + 1)
    mixed = segment_quantiles(
        np.concatenate([v, extra]), np.append(np.arange(n + 1) * size, n * size + size + 1), q
    )
    assert mixed[:n].tobytes() == balanced.tobytes()


def test_public_route_when_the_private_call_signature_differs(monkeypatch):
    # a SciPy whose private coo_tocsr takes other arguments: the public route, same grouping;
    # exact zeros among the outcomes survive it (CSR conversion keeps explicit zeros)
    df = _frame(np.arange(80) * 2 + 3, 9)
    df.loc[df.index[::7], "y"] = 0.0
    fast = Distributions.from_long(df, unit="unit", outcome="y", weight="w", running="x")

    def changed(*args):
        raise TypeError("coo_tocsr() takes 8 positional arguments")

    monkeypatch.setattr(data_mod, "_coo_tocsr", changed)
    slow = Distributions.from_long(df, unit="unit", outcome="y", weight="w", running="x")
    _assert_identical(fast, slow)
    assert int((slow.values == 0.0).sum()) == int((df["y"] == 0.0).sum())


def _small_long(seed=5, n=30, k=4):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "u": np.repeat(np.arange(n) * 3 + 7, k),
            "y": rng.standard_normal(n * k),
            "x": np.repeat(rng.uniform(-1, 1, n), k),
            "w": rng.uniform(0.5, 2.0, n * k),
        }
    )


def test_index_labels_play_no_part():
    """Rows are positional within ``data``: a shuffled frame gives the same result with its
    own (non-default, non-monotone, text) index as with a reset one."""
    df = _small_long().sample(frac=1.0, random_state=4)
    df.index = np.random.default_rng(0).permutation(len(df)) * 11 + 1000
    kw = {"unit": "u", "outcome": "y", "running": "x", "weight": "w"}
    ref = Distributions.from_long(df.reset_index(drop=True), **kw)
    for index in (df.index, [f"r{i}" for i in range(len(df))]):
        got = Distributions.from_long(df.set_axis(index), **kw)
        assert got.values.tobytes() == ref.values.tobytes()
        assert got.weights.tobytes() == ref.weights.tobytes()
        np.testing.assert_array_equal(got.offsets, ref.offsets)
        np.testing.assert_array_equal(got.unit_ids, ref.unit_ids)
        np.testing.assert_array_equal(got.running, ref.running)


@pytest.mark.parametrize(
    ("col", "value", "match"),
    [
        (
            "y",
            np.nan,
            r"`y` \(the outcome column\) contains non-finite outcomes \(NaN or inf; "
            r"first in unit 10\)",
        ),
        ("y", np.inf, r"`y` \(the outcome column\) contains non-finite outcomes"),
        (
            "w",
            np.nan,
            r"`w` \(the weight column\) must be finite and non-negative \(first bad "
            r"value in unit 10\)",
        ),
        ("w", -1.0, r"`w` \(the weight column\) must be finite and non-negative"),
        ("u", np.nan, r"`data\['u'\]` has missing unit ids"),
        ("x", np.nan, r"Column 'x' varies within unit"),
        ("x", 9.0, r"Column 'x' varies within unit"),
    ],
)
def test_bad_values_name_the_column(col, value, match):
    df = _small_long()
    df.loc[5, col] = value  # row 5: the second unit (id 10)
    with pytest.raises(ValueError, match=match):
        Distributions.from_long(df, unit="u", outcome="y", running="x", weight="w")


def test_zero_weight_unit_empty_data_and_duplicate_columns():
    df = _small_long()
    df.loc[df["u"] == 13, "w"] = 0.0
    with pytest.raises(
        ValueError, match=r"`w` \(the weight column\): unit 13 has zero total weight"
    ):
        Distributions.from_long(df, unit="u", outcome="y", weight="w")
    with pytest.raises(ValueError, match="`data` has no rows"):
        Distributions.from_long(df.iloc[:0], unit="u", outcome="y", running="x")
    twice = pd.concat([df, df[["x"]]], axis=1)
    with pytest.raises(ValueError, match="several columns named 'x'"):
        Distributions.from_long(twice, unit="u", outcome="y", running="x")
    # a duplicated column that is not used is no concern
    Distributions.from_long(twice, unit="u", outcome="y")


def test_degenerate_shapes():
    df = _small_long()
    one = Distributions.from_long(df[df["u"] == 7], unit="u", outcome="y", running="x")
    assert one.unit_ids.tolist() == [7] and one.offsets.tolist() == [0, 4]
    rows = df.drop_duplicates("u")
    single = Distributions.from_long(rows, unit="u", outcome="y", running="x")
    np.testing.assert_array_equal(
        single.quantiles(Q), np.repeat(rows["y"].to_numpy()[:, None], Q.size, 1)
    )
    flat = Distributions.from_long(df.assign(y=2.5), unit="u", outcome="y", weight="w")
    assert np.all(flat.quantiles(Q) == 2.5)


def test_unit_data_refusals():
    df = _small_long()
    kw = {"unit": "u", "outcome": "y"}
    with pytest.raises(TypeError, match="`unit_data` must be a pandas DataFrame"):
        Distributions.from_long(df, running="x", unit_data={"x": [0.1]}, **kw)
    twice = pd.DataFrame({"x": [0.1, 0.2, 0.3]}, index=[7, 7, 10])
    with pytest.raises(ValueError, match="`unit_data` has several rows for unit 7;"):
        Distributions.from_long(df, running="x", unit_data=twice, **kw)
    ud = pd.DataFrame({"x": np.arange(30.0)}, index=np.arange(30) * 3 + 7)
    with pytest.raises(ValueError, match="`unit_data` is given but no per-unit column"):
        Distributions.from_long(df, unit_data=ud, **kw)
    with pytest.raises(ValueError, match="Column 'x' is in both `data` and `unit_data`"):
        Distributions.from_long(df, running="x", unit_data=ud.iloc[::-1], **kw)
    d = Distributions.from_long(df.drop(columns=["x"]), running="x", unit_data=ud.iloc[::-1], **kw)
    np.testing.assert_array_equal(d.running, np.arange(30.0))  # aligned by label


@pytest.mark.parametrize(
    ("dtype", "top"),
    [(np.int64, np.iinfo(np.int64).max), (np.uint64, 2**63 + 10), (np.uint64, 2**64 - 1)],
)
def test_integer_ids_at_the_top_of_their_range(dtype, top):
    # ids within a short range are their own slots; near the top of int64 (or beyond it,
    # for uint64) the slot ids must be counted in the ids' integer type, not through float
    ids = np.array([top, top - 2, top, top - 5], dtype=dtype)
    df = pd.DataFrame({"id": ids, "y": [1.0, 2.0, 3.0, 4.0], "x": [0.5, -0.5, 0.5, 0.1]})
    d = Distributions.from_long(df, unit="id", outcome="y", running="x")
    assert d.unit_ids.dtype == dtype
    assert d.unit_ids.tolist() == [int(top) - 5, int(top) - 2, int(top)]
    assert d.offsets.tolist() == [0, 1, 2, 4] and d.values.tolist() == [4.0, 2.0, 1.0, 3.0]
    assert d.running.tolist() == [0.1, -0.5, 0.5]
    codes, uniq = data_mod._unit_codes(df["id"])
    assert codes.tolist() == [2, 1, 2, 0] and uniq.tolist() == d.unit_ids.tolist()


def test_unit_data_with_a_per_unit_column_twice_is_refused():
    df = _small_long()
    ud = pd.DataFrame({"x": np.arange(30.0), "c": 1}, index=np.arange(30) * 3 + 7)
    twice = pd.concat([ud, ud[["x"]]], axis=1)
    with pytest.raises(ValueError, match="`unit_data` has several columns named 'x'; rename"):
        Distributions.from_long(df, unit="u", outcome="y", running="x", unit_data=twice)
    # a duplicated column that is not read is no concern
    d = Distributions.from_long(df, unit="u", outcome="y", cluster="c", unit_data=twice)
    assert d.cluster.tolist() == [1] * 30
