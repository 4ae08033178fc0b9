import numpy as np
import pytest

import estkit


@pytest.fixture
def scores():
    return np.random.default_rng(0).standard_normal((40, 5))


@pytest.mark.parametrize("kind", ["gaussian", "rademacher", "mammen"])
def test_multiplier_moments(kind):
    xi = estkit.draw_multipliers(20_000, 10, kind, rng=1)
    assert xi.shape == (20_000, 10)
    assert abs(xi.mean()) < 0.01
    assert abs(xi.var() - 1.0) < 0.01
    if kind == "rademacher":
        assert set(np.unique(xi)) == {-1.0, 1.0}


def test_process_equals_matrix_product_and_is_block_invariant(scores):
    xi = estkit.draw_multipliers(40, 30, rng=2)
    np.testing.assert_allclose(estkit.multiplier_process(scores, multipliers=xi), xi.T @ scores)
    a = estkit.multiplier_process(scores, 30, rng=2)
    b = estkit.multiplier_process(scores, 30, rng=2, block_size=7)
    # same multipliers whatever the block size (BLAS may sum in another order)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(a, xi.T @ scores, rtol=1e-12, atol=1e-12)


def test_cluster_process_equals_shared_multipliers(scores):
    cl = np.arange(40) // 4
    xi = estkit.draw_multipliers(40, 25, cluster=cl, rng=3)
    assert np.all(xi[0] == xi[3])
    a = estkit.multiplier_process(scores, 25, cluster=cl, rng=3)
    np.testing.assert_allclose(a, xi.T @ scores, rtol=1e-12, atol=1e-12)


def test_reducer_keeps_only_reduced(scores):
    sup = estkit.multiplier_process(scores, 50, rng=4, block_size=8, reducer=estkit.sup_statistics)
    full = estkit.multiplier_process(scores, 50, rng=4)
    np.testing.assert_allclose(sup, np.abs(full).max(axis=1))


def test_bad_multipliers(scores):
    with pytest.raises(ValueError, match=r"shape \(n_units, B\) = \(40, B\)"):
        estkit.multiplier_process(scores, multipliers=np.ones((39, 3)))
    with pytest.raises(ValueError, match="n_boot"):
        estkit.multiplier_process(scores)
    with pytest.raises(ValueError, match="`kind` must be one of"):
        estkit.draw_multipliers(3, 3, "poisson")


def test_critical_value_rules():
    s = np.arange(1.0, 101.0)  # 1..100
    assert estkit.order_statistic_critical_value(s, 0.05, "linear") == pytest.approx(
        np.quantile(s, 0.95)
    )
    # ceil(0.95 * 101) = 96 -> 96th order statistic
    assert estkit.order_statistic_critical_value(s, 0.05, "ceil") == 96.0
    # ceil(0.95 * 100) = 95 -> 95th order statistic, despite 0.95 * 100 = 95.00000000000001
    assert estkit.order_statistic_critical_value(s, 0.05, "inverse_cdf") == 95.0
    # too few draws for the level: refused (it used to return the largest draw, a band of a
    # lower level than requested; R3D returns NA there)
    with pytest.raises(ValueError, match="at least 99 draws"):
        estkit.order_statistic_critical_value(s[:10], 0.01, "ceil")
    assert estkit.order_statistic_critical_value(s[:99], 0.01, "ceil") == 99.0  # exactly enough
    with pytest.raises(ValueError, match="`rule` must be one of"):
        estkit.order_statistic_critical_value(s, 0.05, "type9")


def test_uniform_band_covers_gaussian_process():
    # multiplier draws of a known Gaussian process: sup-band must cover ~95%
    rng = np.random.default_rng(5)
    m, n = 10, 300
    s = rng.standard_normal((n, m)) / np.sqrt(n)
    draws = estkit.multiplier_process(s, 4000, rng=6)
    _, _, cv, scale = estkit.uniform_band(np.zeros(m), draws, 0.05)
    assert np.all(scale == 1.0)
    cover = np.mean(np.all(np.abs(estkit.multiplier_process(s, 4000, rng=7)) <= cv, axis=1))
    assert 0.93 < cover < 0.97
    *_, sc2 = estkit.uniform_band(np.zeros(m), draws, 0.05, studentize=True)
    np.testing.assert_allclose(sc2, draws.std(axis=0, ddof=1))


def test_pvalues():
    stats = np.array([0.1, 0.5, 0.9, 1.5])
    assert estkit.bootstrap_pvalue(1.0, stats) == pytest.approx(2 / 5)
    assert estkit.bootstrap_pvalue(1.0, stats, plus_one=False) == pytest.approx(1 / 4)


def test_intervals():
    rng = np.random.default_rng(8)
    d = rng.normal(1.0, 2.0, size=(20_000, 2))
    lo, _ = estkit.percentile_interval(np.array([1.0, 1.0]), d, 0.05)
    np.testing.assert_allclose(lo, 1.0 - 1.96 * 2.0, atol=0.1)
    _, hi_b = estkit.percentile_interval(np.array([1.0, 1.0]), d, 0.05, kind="basic")
    np.testing.assert_allclose(hi_b, 2.0 - lo)
    lo_t, hi_t = estkit.studentized_interval(np.zeros(1), np.ones(1), rng.standard_normal(20_000))
    np.testing.assert_allclose([lo_t[0], hi_t[0]], [-1.96, 1.96], atol=0.06)


def test_pairs_and_cluster_bootstrap():
    x = np.arange(12.0)
    reps = estkit.pairs_bootstrap(lambda i: x[i].mean(), 12, 200, rng=0)
    assert abs(np.mean(reps) - x.mean()) < 0.5
    assert reps == estkit.pairs_bootstrap(lambda i: x[i].mean(), 12, 200, rng=0)
    par = estkit.pairs_bootstrap(lambda i: x[i].mean(), 12, 20, rng=0, n_jobs=2)
    assert par == estkit.pairs_bootstrap(lambda i: x[i].mean(), 12, 20, rng=0)
    cl = np.repeat(np.arange(4), 3)
    for idx in estkit.bootstrap_indices(12, 5, cluster=cl, rng=1):
        assert idx.size == 12
        # whole clusters: every drawn cluster appears with all 3 members
        counts = np.bincount(cl[idx], minlength=4)
        assert np.all(counts % 3 == 0)


def test_row_sparse_scores_match_dense_product():
    # two column groups with disjoint row supports, as in an RD design, plus a dense column
    rng = np.random.default_rng(9)
    n, m = 300, 4
    s = rng.standard_normal((n, 2 * m + 1))
    above = rng.random(n) < 0.5
    s[~above, :m] = 0.0
    s[above, m : 2 * m] = 0.0
    xi = estkit.draw_multipliers(n, 40, rng=3)
    np.testing.assert_allclose(
        estkit.multiplier_process(s, multipliers=xi), xi.T @ s, rtol=1e-12, atol=1e-12
    )
    np.testing.assert_allclose(
        estkit.multiplier_process(s, 40, rng=3), xi.T @ s, rtol=1e-12, atol=1e-12
    )


def test_parallel_blocks_equal_serial(scores):
    serial = estkit.multiplier_process(scores, 300, rng=4, block_size=64)
    parallel = estkit.multiplier_process(scores, 300, rng=4, block_size=64, n_jobs=2)
    np.testing.assert_allclose(parallel, serial, rtol=1e-12, atol=1e-12)


def test_n_boot_is_a_deprecated_alias_of_n_bootstrap():
    import warnings

    import estkit

    new = estkit.draw_multipliers(7, n_bootstrap=5, rng=1)
    with pytest.warns(FutureWarning, match="`n_boot` of draw_multipliers"):
        old = estkit.draw_multipliers(7, n_boot=5, rng=1)
    np.testing.assert_array_equal(new, old)
    with pytest.raises(TypeError, match="twice"), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        estkit.draw_multipliers(7, n_bootstrap=5, n_boot=5, rng=1)


# ------------------------------------------- streamed multiplier process (issue 17, fit time)
def _serial_process(sb, n_bootstrap, kind, rng, bs):
    """The block-by-block path: (b, n) blocks of multipliers times the score blocks."""
    from estkit._bootstrap import _apply, _draw_chunks, _streams, check_random_state

    streams = _streams(check_random_state(rng), n_bootstrap)
    parts = [
        _apply(_draw_chunks(streams, a, min(bs, n_bootstrap - a), kind, sb.n_units), sb)
        for a in range(0, n_bootstrap, bs)
    ]
    return np.concatenate(parts, axis=0)


def _rd_blocks(n=500, m=6, seed=11):
    from estkit._bootstrap import ScoreBlocks

    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, n)
    plus = np.flatnonzero((x >= 0) & (x < 0.5))
    minus = np.flatnonzero((x < 0) & (x > -0.5))
    return ScoreBlocks(
        n,
        2 * m + 1,
        [
            (plus, slice(0, m), rng.standard_normal((plus.size, m))),
            (minus, slice(m, 2 * m), rng.standard_normal((minus.size, m))),
            (np.arange(0, n, 3), slice(2 * m, 2 * m + 1), rng.standard_normal((-(-n // 3), 1))),
        ],
    )


@pytest.mark.parametrize("kind", ["gaussian", "mammen"])
@pytest.mark.parametrize("n_bootstrap", [1, 2, 65, 130, 200])
@pytest.mark.parametrize("budget", [None, 1, 40_000])
def test_streamed_process_equals_block_path(kind, n_bootstrap, budget):
    from estkit._bootstrap import _streamed_process, _streams

    sb = _rd_blocks()
    got = _streamed_process(
        _streams(np.random.default_rng(4), n_bootstrap), n_bootstrap, kind, sb, budget, None, False
    )
    ref = _serial_process(sb, n_bootstrap, kind, 4, 64)
    assert got.shape == (n_bootstrap, sb.n_columns)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)
    # the public entry point takes this path for generated Gaussian / Mammen multipliers
    pub = estkit.multiplier_process(sb, n_bootstrap, kind, rng=4, memory_budget=budget)
    np.testing.assert_array_equal(pub, got)


def test_streamed_process_dense_and_cluster_scores(scores):
    xi = estkit.draw_multipliers(40, 70, "mammen", rng=6)
    np.testing.assert_allclose(
        estkit.multiplier_process(scores, 70, "mammen", rng=6),
        xi.T @ scores,
        rtol=1e-12,
        atol=1e-12,
    )
    cl = np.arange(40) % 7
    xc = estkit.draw_multipliers(40, 70, cluster=cl, rng=6)
    np.testing.assert_allclose(
        estkit.multiplier_process(scores, 70, cluster=cl, rng=6),
        xc.T @ scores,
        rtol=1e-12,
        atol=1e-12,
    )


def test_fill_draws_the_same_multipliers_row_by_row():
    from estkit._bootstrap import _draw, _fill

    for kind in ("gaussian", "mammen"):
        ref = _draw(np.random.default_rng(3), kind, (5, 17))
        g = np.random.default_rng(3)
        rows = np.empty((5, 17))
        for d in range(5):
            _fill(g, kind, rows[d])
        np.testing.assert_array_equal(rows, ref)


def test_streamed_jobs_cover_each_stream_without_single_draws():
    from estkit._bootstrap import _streamed_jobs

    for n_bootstrap, step in ((200, 22), (65, 5), (129, 1), (3, 2), (1, 8)):
        jobs = _streamed_jobs(n_bootstrap, step)
        assert len(jobs) == -(-n_bootstrap // 64)
        flat = [j for stream in jobs for j in stream]
        assert [a for a, _ in flat] == list(np.cumsum([0] + [b for _, b in flat[:-1]]))
        assert sum(b for _, b in flat) == n_bootstrap
        for c, stream in enumerate(jobs):
            size = min(64, n_bootstrap - 64 * c)
            assert all(b >= min(2, size) for _, b in stream)
            assert all(b <= max(3, step) for _, b in stream)


def test_streamed_process_raises_a_drawing_threads_error(monkeypatch):
    import estkit._bootstrap as eb

    def broken(rng, kind, out):
        raise RuntimeError("no multipliers today")

    monkeypatch.setattr(eb, "_fill", broken)
    with pytest.raises(RuntimeError, match="no multipliers today"):
        estkit.multiplier_process(_rd_blocks(), 100, rng=0)


def test_streamed_process_empty_scores_are_zero_draws():
    from estkit._bootstrap import ScoreBlocks

    out = estkit.multiplier_process(ScoreBlocks(30, 4, []), 50, rng=0)
    np.testing.assert_array_equal(out, np.zeros((50, 4)))


def test_streamed_process_takes_masks_lists_and_slices_as_rows():
    from estkit._bootstrap import ScoreBlocks

    rng = np.random.default_rng(12)
    n, m = 90, 3
    mask = rng.random(n) < 0.4
    listed = [1, 5, 8, 40, 77]
    a, b, c = rng.standard_normal((mask.sum(), m)), rng.standard_normal((5, m)), rng.random((30, 1))
    sb = ScoreBlocks(
        n,
        2 * m + 1,
        [
            (mask, slice(0, m), a),
            (listed, slice(m, 2 * m), b),
            (slice(10, 40), slice(2 * m, 2 * m + 1), c),
        ],
    )
    dense = np.zeros((n, 2 * m + 1))
    dense[mask, :m], dense[listed, m : 2 * m], dense[10:40, 2 * m :] = a, b, c
    xi = estkit.draw_multipliers(n, 70, rng=1)
    np.testing.assert_allclose(
        estkit.multiplier_process(sb, 70, rng=1), xi.T @ dense, rtol=1e-12, atol=1e-12
    )


def _dense_of(sb):
    dense = np.zeros((sb.n_units, sb.n_columns))
    for rows, cols, vals in sb.blocks:
        dense[rows, cols] += vals
    return dense


@pytest.mark.parametrize("kind", ["gaussian", "mammen"])
@pytest.mark.parametrize("budget", [None, 1, 60_000])
def test_streamed_process_same_draws_for_any_number_of_workers(kind, budget, monkeypatch):
    # the workers share the drawing and the products; draws are the reference
    # xi.T @ scores, bit for bit the same for every number of workers
    import estkit._bootstrap as eb

    sb = _rd_blocks()
    ref = estkit.draw_multipliers(sb.n_units, 200, kind, rng=9).T @ _dense_of(sb)
    outs = []
    for workers in (1, 2, 3, 5):
        monkeypatch.setattr(eb, "_n_threads", lambda w=workers: w)
        outs.append(
            eb._streamed_process(
                eb._streams(np.random.default_rng(9), 200), 200, kind, sb, budget, None, False
            )
        )
    np.testing.assert_allclose(outs[0], ref, rtol=1e-12, atol=1e-12)
    for out in outs[1:]:
        np.testing.assert_array_equal(out, outs[0])


def test_streamed_process_holds_one_block_of_multipliers_per_worker(monkeypatch):
    import tracemalloc

    import estkit._bootstrap as eb

    monkeypatch.setattr(eb, "_n_threads", lambda: 2)
    sb = _rd_blocks(n=20_000, m=6)
    width = sum(len(r) for r, _, _ in sb.blocks)
    per_draw = 8 * width
    step = 8
    budget = 8 * sb.n_units * 2 + 2 * step * per_draw  # two workers, blocks of 8 draws
    assert [b for _, b in eb._streamed_jobs(200, step)[0]] == [8] * 8
    streams = eb._streams(np.random.default_rng(1), 200)
    tracemalloc.start()
    try:
        out = eb._streamed_process(streams, 200, "gaussian", sb, budget, None, False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # two blocks of selected multipliers, two (n,) buffers, the result, small temporaries
    bound = 2 * step * per_draw + 2 * 8 * sb.n_units + out.nbytes + 64 * 2**10
    assert 2 * step * per_draw < peak <= bound
    ref = estkit.draw_multipliers(sb.n_units, 200, rng=1).T @ _dense_of(sb)
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)


def test_streamed_process_progress_counts_every_draw_once(capsys, monkeypatch):
    import estkit._bootstrap as eb

    monkeypatch.setattr(eb, "_n_threads", lambda: 2)
    sb = _rd_blocks()
    quiet = estkit.multiplier_process(sb, 150, rng=3, memory_budget=30_000)
    shown = estkit.multiplier_process(sb, 150, rng=3, memory_budget=30_000, progress=True)
    np.testing.assert_array_equal(shown, quiet)
    err = capsys.readouterr().err
    counts = [int(part.split("/")[0].split()[-1]) for part in err.split("\r") if part]
    assert counts == sorted(counts) and counts[-1] == 150 and len(counts) > 2
    assert err.endswith("150/150\n")


def test_block_product_forms():
    # small products keep the block path's (m, r) @ (r, b) form bit for bit; large ones
    # run as (b, r) @ (r, m) (the same product, up to the BLAS's summation order)
    from estkit._bootstrap import _SMALL_PRODUCT, _product

    rng = np.random.default_rng(5)
    for b, r, m in ((2, 50, 19), (7, 1000, 99), (64, 600, 99), (3, 5000, 1)):
        assert b * r * m <= _SMALL_PRODUCT
        xs, vals = rng.standard_normal((b, r)), rng.standard_normal((r, m))
        np.testing.assert_array_equal(_product(xs, vals), (vals.T @ xs.T).T)
    xs, vals = rng.standard_normal((32, 20_000)), rng.standard_normal((20_000, 19))
    assert xs.size * vals.shape[1] > _SMALL_PRODUCT
    got = _product(xs, vals)
    assert got.shape == (32, 19) and got.flags.c_contiguous
    np.testing.assert_allclose(got, (vals.T @ xs.T).T, rtol=1e-12, atol=1e-12)


class _SlowAdd(np.ndarray):
    """A block product whose in-place addition into the draws pauses first (a worker
    preempted between reading and writing the cells it adds to)."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        import time

        time.sleep(0.05)
        inputs = tuple(np.asarray(a) if isinstance(a, _SlowAdd) else a for a in inputs)
        return getattr(ufunc, method)(*inputs, **kwargs)


def test_streamed_process_blocks_sharing_columns_add_up(monkeypatch):
    # ScoreBlocks' overlapping cells add up: two workers adding the products of one block
    # of draws into the same cells at once would lose one of them
    import estkit._bootstrap as eb

    monkeypatch.setattr(eb, "_n_threads", lambda: 3)
    real = eb._product
    monkeypatch.setattr(eb, "_product", lambda xs, vals: real(xs, vals).view(_SlowAdd))
    rng = np.random.default_rng(4)
    n, m = 300, 4
    cols = np.arange(m)  # an index array: the update reads, adds and writes back
    sb = eb.ScoreBlocks(
        n,
        m,
        [
            (np.arange(0, 200), cols, rng.standard_normal((200, m))),
            (np.arange(100, 300), cols, rng.standard_normal((200, m))),
            (np.arange(50, 250), slice(1, 3), rng.standard_normal((200, 2))),
        ],
    )
    dense = np.zeros((n, m))
    for rows, c, vals in sb.blocks:
        dense[rows[:, None], np.arange(m)[c]] += vals
    ref = estkit.draw_multipliers(n, 200, rng=2).T @ dense
    got = eb._streamed_process(
        eb._streams(np.random.default_rng(2), 200), 200, "gaussian", sb, None, None, False
    )
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


def test_disjoint_columns():
    from estkit._bootstrap import ScoreBlocks, _disjoint_columns

    z = np.zeros((1, 1))
    assert _disjoint_columns(ScoreBlocks(2, 5, [(0, slice(0, 2), z), (1, slice(2, 5), z)]))
    assert _disjoint_columns(ScoreBlocks(2, 3, [(0, [0, 2], z), (1, [1], z)]))
    assert not _disjoint_columns(ScoreBlocks(2, 3, [(0, [0, 2], z), (1, slice(2, 3), z)]))


@pytest.mark.parametrize("bad", [[0, 500], [-501, 3]])
def test_streamed_process_refuses_rows_out_of_range(bad):
    # the rows are taken with np.take(mode="wrap"): an out-of-range row raises as on the
    # block path instead of wrapping around to another unit
    from estkit._bootstrap import ScoreBlocks

    sb = ScoreBlocks(500, 2, [(np.array(bad), slice(0, 2), np.ones((2, 2)))])
    with pytest.raises(IndexError, match="out of range"):
        estkit.multiplier_process(sb, 100, rng=0)


def test_streamed_process_interrupt_in_a_worker_stops_every_worker(monkeypatch):
    # a KeyboardInterrupt (or any error) in a product task reaches the caller, and no
    # worker is left running
    import threading

    import estkit._bootstrap as eb

    monkeypatch.setattr(eb, "_n_threads", lambda: 3)

    def interrupted(xs, vals):
        raise KeyboardInterrupt

    monkeypatch.setattr(eb, "_product", interrupted)
    before = threading.active_count()
    with pytest.raises(KeyboardInterrupt):
        estkit.multiplier_process(_rd_blocks(), 300, rng=0, memory_budget=40_000)
    assert threading.active_count() == before


@pytest.mark.parametrize("kind", ["gaussian", "mammen"])
def test_multiplier_process_same_draws_on_one_core(kind, monkeypatch):
    # a one-core machine (or a process pinned to one core) runs the same streamed path
    # with one worker: the draws do not depend on the machine's cores
    import estkit._bootstrap as eb

    sb = _rd_blocks()
    outs = []
    for cores in (1, 2, 8):
        monkeypatch.setattr(eb, "_n_threads", lambda c=cores: c)
        outs.append(estkit.multiplier_process(sb, 150, kind, rng=6, memory_budget=30_000))
    ref = estkit.draw_multipliers(sb.n_units, 150, kind, rng=6).T @ _dense_of(sb)
    np.testing.assert_allclose(outs[0], ref, rtol=1e-12, atol=1e-12)
    for out in outs[1:]:
        np.testing.assert_array_equal(out, outs[0])


def test_threads_follow_the_cpu_affinity(monkeypatch):
    # a process pinned to some cores (taskset, a container's cpuset) uses those only
    import os

    import estkit._bootstrap as eb
    from estkit._parallel import available_cores

    if not hasattr(os, "sched_getaffinity"):
        pytest.skip("no CPU affinity API on this platform")
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3})
    assert available_cores() == 1 and eb._n_threads() == 1
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(12)))
    assert available_cores() == 12 and eb._n_threads() == 8


@pytest.mark.parametrize("small", [0, 2**62])
def test_streamed_process_either_product_form(small, monkeypatch):
    # the (b, r) @ (r, m) form of large products, forced on small scores (threshold 0),
    # and the (m, r) @ (r, b) form: the reference draws, the same for any number of workers
    import estkit._bootstrap as eb

    monkeypatch.setattr(eb, "_SMALL_PRODUCT", small)
    sb = _rd_blocks()
    ref = estkit.draw_multipliers(sb.n_units, 140, rng=8).T @ _dense_of(sb)
    outs = []
    for workers in (1, 3):
        monkeypatch.setattr(eb, "_n_threads", lambda w=workers: w)
        outs.append(estkit.multiplier_process(sb, 140, rng=8, memory_budget=30_000))
    np.testing.assert_allclose(outs[0], ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(outs[1], outs[0])


@pytest.mark.parametrize(
    ("budget", "error"),
    [(0, ValueError), (-5, ValueError), (1.5, TypeError), (True, TypeError), ("1", TypeError)],
)
def test_memory_budget_is_a_positive_int(scores, budget, error):
    # it used to be taken as it came (0, negative, a float, a bool or a string were used)
    with pytest.raises(error, match="memory_budget"):
        estkit.multiplier_process(scores, 10, rng=0, memory_budget=budget)
    # a numpy integer is an integer
    np.testing.assert_array_equal(
        estkit.multiplier_process(scores, 10, rng=0, memory_budget=np.int64(1)),
        estkit.multiplier_process(scores, 10, rng=0, memory_budget=1),
    )
