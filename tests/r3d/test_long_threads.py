"""The large-input path of ``Distributions.from_long`` (two-pass counting sort, row parts
and buckets in threads, threaded last rows and constancy checks), forced at small sizes
by lowering its thresholds: bit for bit the one-pass serial grouping and the plain
reference reading of the long format, for any number of threads."""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import r3d._data as data_mod
from r3d import Distributions

_spec = importlib.util.spec_from_file_location(
    "long_format_reference", Path(__file__).with_name("test_long_format.py")
)
_ref_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_ref_mod)
_reference, _assert_identical = _ref_mod._reference, _ref_mod._assert_identical


def _large_path(monkeypatch, threads, *, buckets=4, chunk=5):
    """Thresholds low enough that a few hundred rows take the two-pass, threaded path."""
    monkeypatch.setattr(data_mod, "_TWO_PASS_ROWS", 16)
    monkeypatch.setattr(data_mod, "_THREAD_ROWS", 8)
    monkeypatch.setattr(data_mod, "_BUCKETS", buckets)
    monkeypatch.setattr(data_mod, "_CHUNK_ROWS", chunk)
    monkeypatch.setattr(data_mod, "_n_threads", lambda: threads)


def _frame(seed, n_units, *, gaps=3, max_rows=7):
    """Shuffled long data: unit ids with empty slots between them, single-row units,
    tied outcomes, weights, a running variable with all-NaN units, text clusters."""
    rng = np.random.default_rng(seed)
    ids = rng.permutation(n_units) * gaps - 17
    sizes = rng.integers(1, max_rows + 1, n_units)
    sizes[rng.random(n_units) < 0.3] = 1
    x = rng.standard_normal(n_units).round(2)
    x[rng.random(n_units) < 0.1] = np.nan
    df = pd.DataFrame(
        {
            "unit": np.repeat(ids, sizes),
            "y": rng.standard_normal(int(sizes.sum())).round(1),
            "w": rng.uniform(0.1, 2.0, int(sizes.sum())).round(1),
            "x": np.repeat(x, sizes),
            "d": np.repeat(rng.integers(0, 2, n_units), sizes),
            "c": np.repeat(rng.choice(["ny", "ca", "tx"], n_units), sizes),
        }
    )
    return df.iloc[rng.permutation(len(df))].reset_index(drop=True)


_KW = {"weight": "w", "running": "x", "treatment": "d", "cluster": "c"}


@pytest.mark.parametrize("threads", [1, 2, 3, 4])
@pytest.mark.parametrize("n_units", [1, 2, 7, 61, 250])
def test_large_path_is_the_serial_grouping_bit_for_bit(monkeypatch, threads, n_units):
    df = _frame(n_units + threads, n_units)
    serial = Distributions.from_long(df, unit="unit", outcome="y", **_KW)
    want = _reference(df, "unit", "y", "w", running="x", treatment="d", cluster="c")
    _assert_identical(serial, want)
    _large_path(monkeypatch, threads)
    got = Distributions.from_long(df, unit="unit", outcome="y", **_KW)
    _assert_identical(got, want)
    plain = Distributions.from_long(df, unit="unit", outcome="y", running="x")
    _assert_identical(plain, _reference(df, "unit", "y", running="x"))


@pytest.mark.parametrize("buckets", [1, 2, 3, 64])
def test_bucket_counts_and_empty_buckets(monkeypatch, buckets):
    # ids far apart: many buckets (and slots) without a row, one bucket holding everything
    df = _frame(5, 40, gaps=37)
    want = _reference(df, "unit", "y", "w", running="x")
    _large_path(monkeypatch, 2, buckets=buckets)
    got = Distributions.from_long(df, unit="unit", outcome="y", weight="w", running="x")
    _assert_identical(got, want)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_group_columns_is_a_stable_sort(monkeypatch, threads):
    rng = np.random.default_rng(threads)
    n = 101
    codes = rng.integers(0, n, 997)
    codes[codes % 5 == 0] = 3  # one big code, codes without rows
    cols = [rng.standard_normal(codes.size).round(1), rng.integers(-5, 5, codes.size)]
    _large_path(monkeypatch, threads)
    offsets, (a, b) = data_mod._group_columns(codes, n, cols)
    order = np.argsort(codes, kind="stable")
    np.testing.assert_array_equal(
        offsets, np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=n))])
    )
    assert a.tobytes() == cols[0][order].tobytes() and b.tobytes() == cols[1][order].tobytes()
    assert a.dtype == np.float64 and b.dtype == cols[1].dtype
    rows = np.arange(codes.size, dtype=np.int32)  # the row numbers grouped: the order
    offsets2, (values, order_got) = data_mod._group_columns(codes, n, [cols[0], rows])
    np.testing.assert_array_equal(order_got, order)
    np.testing.assert_array_equal(offsets2, offsets)
    assert values.tobytes() == a.tobytes()


def test_group_columns_keeps_grouped_rows_in_place(monkeypatch):
    _large_path(monkeypatch, 2)
    codes = np.repeat(np.arange(0, 60, 3), 5)
    y = np.arange(codes.size, dtype=float)
    offsets, (values,) = data_mod._group_columns(codes, 60, [y])
    assert values is y
    assert offsets[-1] == codes.size and offsets[3] == 5


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_last_rows_and_constancy_check_across_parts(monkeypatch, threads):
    _large_path(monkeypatch, threads, chunk=3)
    rng = np.random.default_rng(threads)
    codes = rng.integers(0, 30, 200)
    codes[codes == 7] = 8  # code 7 has no row
    last = data_mod._last_rows(codes, 30)
    want = np.full(30, -1)
    for i, c in enumerate(codes):
        want[c] = i
    np.testing.assert_array_equal(last, want)
    x = (codes * 0.5).astype(float)
    x[codes == 4] = np.nan  # an all-NaN unit is constant
    x[codes == 2] = np.where(np.arange((codes == 2).sum()) % 2, 0.0, -0.0)  # 0.0 == -0.0
    got = data_mod._constant_per_unit(pd.Series(x), codes, 30, "x")
    present = want >= 0
    assert got[present].tobytes() == x[want[present]].tobytes()  # each unit's last row
    assert np.isnan(got[4]) and np.signbit(got[2]) == np.signbit(x[want[2]])
    # a change in any one row is caught: the first, the last, around the part boundaries
    for row in [0, 1, 99, 100, 101, 199]:
        bad = x.copy()
        bad[row] = np.nan if not np.isnan(bad[row]) else 1.0
        if (codes == codes[row]).sum() < 2:
            continue
        with pytest.raises(ValueError, match="Column 'x' varies within unit; a per-unit"):
            data_mod._constant_per_unit(pd.Series(bad), codes, 30, "x")


def test_text_per_unit_column_and_first_error_in_column_order(monkeypatch):
    df = _frame(11, 80)
    _large_path(monkeypatch, 2)
    got = Distributions.from_long(df, unit="unit", outcome="y", cluster="c", treatment="d")
    _assert_identical(got, _reference(df, "unit", "y", cluster="c", treatment="d"))
    multi = df["unit"].value_counts()
    row = int(np.flatnonzero(df["unit"].to_numpy() == multi.index[0])[-1])
    df.loc[row, "c"] = "zz"
    df.loc[row, "d"] = 1 - df.loc[row, "d"]
    with pytest.raises(ValueError, match="Column 'd' varies within unit"):
        Distributions.from_long(df, unit="unit", outcome="y", cluster="c", treatment="d")
    with pytest.raises(ValueError, match="Column 'c' varies within unit"):
        Distributions.from_long(df, unit="unit", outcome="y", cluster="c")


@pytest.mark.parametrize("threads", [1, 3])
def test_slots_with_extremes_in_different_parts(monkeypatch, threads):
    _large_path(monkeypatch, threads, chunk=2)
    v = np.array([5, 9, 7, 6, -3, 8, 5, 12, 5, 6, 7, 8], dtype=np.int16)
    slots, ids = data_mod._unit_slots(pd.Series(v))
    np.testing.assert_array_equal(slots, v.astype(np.int64) + 3)
    assert slots.dtype == np.int32 and ids.dtype == np.int16
    np.testing.assert_array_equal(ids, np.arange(-3, 13))
    u = np.array([200, 3, 255, 0, 17], dtype=np.uint8)
    slots, ids = data_mod._unit_slots(pd.Series(u))
    np.testing.assert_array_equal(slots, u)
    np.testing.assert_array_equal(ids, np.arange(256))


def test_large_path_through_the_public_scipy_route(monkeypatch):
    df = _frame(13, 90)
    df.loc[df.index[::5], "y"] = 0.0
    want = _reference(df, "unit", "y", "w", running="x")
    _large_path(monkeypatch, 2)
    monkeypatch.setattr(data_mod, "_coo_tocsr", None)
    got = Distributions.from_long(df, unit="unit", outcome="y", weight="w", running="x")
    _assert_identical(got, want)


@pytest.mark.parametrize(
    "dtypes",
    [
        (np.int8, np.bool_),  # no column wide enough for the buckets: a separate array
        (np.float32, np.int8),  # a 4-byte column holds the int32 buckets
        (np.int16, np.float64),  # the buckets live in the second column
    ],
)
@pytest.mark.parametrize("threads", [1, 2])
def test_group_columns_bucket_storage_any_column_types(monkeypatch, threads, dtypes):
    rng = np.random.default_rng(7 + threads)
    n = 53
    codes = rng.integers(0, n, 611)
    codes[::7] = 0
    cols = [(rng.standard_normal(codes.size) * 50).astype(dt) for dt in dtypes]
    _large_path(monkeypatch, threads)
    offsets, grouped = data_mod._group_columns(codes, n, cols)
    order = np.argsort(codes, kind="stable")
    np.testing.assert_array_equal(
        offsets, np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=n))])
    )
    for c, g in zip(cols, grouped, strict=True):
        assert g.dtype == c.dtype and g.tobytes() == c[order].tobytes()


@pytest.mark.parametrize("buckets", [1, 2])
def test_group_columns_wide_buckets(monkeypatch, buckets):
    # buckets spanning more than 65,536 codes (one or two buckets for 200,003 codes)
    rng = np.random.default_rng(buckets)
    n = 200_003
    codes = rng.integers(0, n, 900)
    codes[::4] = n - 1  # the last code, in the last (partial) bucket
    y = rng.standard_normal(codes.size)
    _large_path(monkeypatch, 2, buckets=buckets)
    offsets, (got,) = data_mod._group_columns(codes, n, [y])
    order = np.argsort(codes, kind="stable")
    np.testing.assert_array_equal(
        offsets, np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=n))])
    )
    assert got.tobytes() == y[order].tobytes()


@pytest.mark.parametrize(
    "ids",
    [
        pd.array([3, None, 1, 3], dtype="Int64"),  # nullable integers: integer kind, with NA
        np.array([3, None, 1, 3], dtype=object),
    ],
)
def test_missing_ids_refused_in_nullable_and_object_columns(ids):
    df = pd.DataFrame({"id": ids, "y": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(ValueError, match=r"`data\['id'\]` has missing unit ids"):
        Distributions.from_long(df, unit="id", outcome="y")


@pytest.mark.parametrize("dtype", [np.int64, np.uint16, np.bool_])
def test_numpy_integer_and_bool_ids_skip_the_missing_id_scan(dtype):
    ids = np.array([1, 0, 1, 0], dtype=dtype)
    df = pd.DataFrame({"id": ids, "y": [1.0, 2.0, 3.0, 4.0]})
    d = Distributions.from_long(df, unit="id", outcome="y")
    assert d.unit_ids.dtype == dtype and d.unit_ids.tolist() == [0, 1]
    assert d.values.tolist() == [2.0, 4.0, 1.0, 3.0]


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_last_rows_with_many_repeats_in_one_write(monkeypatch, threads):
    # _last_rows relies on np.put assigning in index order (the last write to a code
    # wins): one chunk per part holds each code hundreds of times, in shuffled order
    monkeypatch.setattr(data_mod, "_THREAD_ROWS", 8)
    monkeypatch.setattr(data_mod, "_n_threads", lambda: threads)
    rng = np.random.default_rng(20 + threads)
    codes = rng.permutation(np.repeat(np.arange(50, dtype=np.int32), 400))
    codes[codes == 13] = 14  # a code without rows
    want = np.full(50, -1)
    for i, c in enumerate(codes):
        want[c] = i
    got = data_mod._last_rows(codes, 50)
    np.testing.assert_array_equal(got, want)
    assert got[13] == -1
