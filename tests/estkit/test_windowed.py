"""The windowed core (estkit._windowed) against locpoly_boundary and exact arithmetic."""

from __future__ import annotations

import numpy as np
import pytest

from estkit._locpoly import locpoly_boundary
from estkit._windowed import (
    check_windows,
    fit_into,
    fit_summaries,
    gram,
    prepare_side,
    window_problem,
    window_sizes,
)
from estkit.exceptions import EstimationError

KERNELS = ("triangular", "epanechnikov", "uniform")
N, M = 600, 5


def _data(seed: int = 0, shift: float = 0.0, scale: float = 1.0):
    rng = np.random.default_rng(seed)
    x = np.round(rng.uniform(-1, 1, N), 2)  # ties: ~200 distinct values
    Y = np.sin(3 * x)[:, None] + rng.normal(size=(N, M)) * np.linspace(0.1, 1.0, M)
    w = rng.uniform(0.0, 2.0, N)
    w[rng.random(N) < 0.05] = 0.0  # units with zero weight drop out
    h_cols = rng.uniform(0.25, 0.9, M)
    return x, Y * scale + shift, w, h_cols


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    """Normwise relative difference ``max|a - b| / max|b|``."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    den = float(np.max(np.abs(b)))
    return float(np.max(np.abs(a - b))) / (den if den > 0 else 1.0)


def _windowed_all(x, Y, cutoff, h, p, kernel, side, weights=None, support="window"):
    n, m = Y.shape
    ps = prepare_side(x, cutoff, side, kernel, 3, weights=weights)
    k = 1 if np.all(h == h[0]) else m
    F = np.zeros((n, m))
    W, L, S = np.zeros((n, k)), np.zeros((n, k)), np.zeros((n, k), dtype=bool)
    summ = fit_into(
        ps,
        Y,
        h,
        p,
        fitted_out=F,
        weights_out=W,
        leverage_out=L,
        support_out=S,
        support=support,
        var_rows=tuple(range(p + 1)),
    )
    bc = (n, m)
    return summ, F, np.broadcast_to(W, bc), np.broadcast_to(L, bc), np.broadcast_to(S, bc)


def _tol(p: int) -> float:
    # p <= 2: 1e-12. p = 3: the Gram matrices of the scaled basis have condition numbers
    # ~1e4, and locpoly_boundary's own rounding (column sums of (r, m) arrays) then reaches
    # ~7e-12 against exact arithmetic (test_closer_to_exact_than_locpoly: the windowed
    # core, with extended-precision prefix sums, is the closer of the two), so the two
    # agree to the reference's own accuracy
    return 1e-12 if p <= 2 else 3e-11


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("p", [0, 1, 2, 3])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("side", ["plus", "minus"])
@pytest.mark.parametrize("common", [True, False])
def test_matches_locpoly_boundary(kernel, p, weighted, side, common):
    x, Y, w, h_cols = _data(seed=p)
    h = np.full(M, 0.45) if common else h_cols
    wts = w if weighted else None
    ref = locpoly_boundary(x, Y, 0.0, h, p, kernel, side, weights=wts)
    summ, F, W, L, S = _windowed_all(x, Y, 0.0, h, p, kernel, side, weights=wts)
    tol = _tol(p)
    for a in range(p + 1):
        assert _rel(summ.coef[a], ref.coef[a]) <= tol
        assert _rel(summ.coef_variance[a], ref.coef_variance[a]) <= tol
    assert _rel(F, ref.fitted) <= tol
    assert _rel(W, ref.weights) <= tol
    assert _rel(L, ref.leverage) <= tol
    assert np.array_equal(S, ref.in_window)
    assert np.array_equal(summ.n_eff, ref.n_eff)
    # the consumers' derived quantities: Step 2's kernel-weighted residual variance and
    # R3D's positive-intercept-weight variance
    kw = ref.kernel_weights
    sig2 = np.sum(kw * ref.resid**2, axis=0) / np.sum(kw, axis=0)
    wpos = np.where(ref.weights > 0, ref.weights, 0.0)
    v_pos = np.sum(wpos * ref.resid**2, axis=0) / np.sum(wpos, axis=0)
    assert _rel(summ.kernel_resid_var, sig2) <= tol
    assert _rel(summ.positive_weight_resid_var, v_pos) <= tol
    assert _rel(summ.sum_k, np.sum(kw, axis=0)) <= 1e-13
    assert np.array_equal(summ.h, h)


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("common", [True, False])
def test_summaries_equal_fit_into_and_skip_unrequested_rows(kernel, common):
    x, Y, _, h_cols = _data(seed=3)
    h = np.full(M, 0.5) if common else h_cols
    ps = prepare_side(x, 0.0, "plus", kernel, 2)
    s1 = fit_summaries(ps, Y, h, 2, var_rows=(2,))
    s2 = fit_into(ps, Y, h, 2, fitted_out=np.zeros(Y.shape), var_rows=(2,))
    assert np.array_equal(s1.coef, s2.coef)
    assert np.array_equal(s1.coef_variance[2], s2.coef_variance[2])
    assert np.isnan(s1.coef_variance[:2]).all()
    ref = locpoly_boundary(x, Y, 0.0, h, 2, kernel, "plus")
    assert _rel(s1.coef_variance[2], ref.coef_variance[2]) <= 1e-12


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("common", [True, False])
def test_positive_weight_support(kernel, common):
    # R3D's support: units with a positive intercept weight (compat mode of _fit_sides)
    x, Y, _, h_cols = _data(seed=4)
    h = np.full(M, 0.4) if common else h_cols
    for side in ("plus", "minus"):
        ref = locpoly_boundary(x, Y, 0.0, h, 2, kernel, side)
        _, F, _, _, S = _windowed_all(x, Y, 0.0, h, 2, kernel, side, support="positive_weight")
        sup = ref.weights > 0
        assert np.array_equal(S, sup)
        assert _rel(F, np.where(sup, ref.fitted, 0.0)) <= 1e-12


@pytest.mark.parametrize("common", [True, False])
def test_both_sides_assemble_like_fit_sides(common):
    # both sides write into one zero-initialised (n, m) array, as _fit_sides sums them
    x, Y, _, h_cols = _data(seed=5)
    h = np.full(M, 0.6) if common else h_cols
    F = np.zeros(Y.shape)
    expect = np.zeros(Y.shape)
    for side in ("plus", "minus"):
        ps = prepare_side(x, 0.0, side, "epanechnikov", 2)
        fit_into(ps, Y, h, 2, fitted_out=F)
        ref = locpoly_boundary(x, Y, 0.0, h, 2, "epanechnikov", side)
        expect += np.where(ref.in_window, ref.fitted, 0.0)
    assert _rel(F, expect) <= 1e-12


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("p", [0, 2, 3])
@pytest.mark.parametrize("common", [True, False])
@pytest.mark.parametrize(("shift", "scale"), [(1e12, 1.0), (0.0, 1e300), (-3e12, 1e-3)])
def test_level_and_scale_equivariance(kernel, p, common, shift, scale):
    x, Y, _, h_cols = _data(seed=6, shift=shift, scale=scale)
    h = np.full(M, 0.5) if common else h_cols
    ref = locpoly_boundary(x, Y, 0.0, h, p, kernel, "minus")
    summ, F, W, L, _ = _windowed_all(x, Y, 0.0, h, p, kernel, "minus")
    tol = _tol(p)
    for a in range(p + 1):
        assert np.all(np.isfinite(summ.coef[a]))
        assert _rel(summ.coef[a], ref.coef[a]) <= tol
    assert _rel(F, ref.fitted) <= tol
    assert _rel(W, ref.weights) <= tol
    assert _rel(L, ref.leverage) <= tol
    # variances in Y's units: beyond the float range at 1e300 in both
    fin = np.isfinite(ref.coef_variance)
    assert np.array_equal(np.isfinite(summ.coef_variance), fin)
    if fin.any():
        assert _rel(summ.coef_variance[fin], ref.coef_variance[fin]) <= tol


def test_flat_columns_are_fitted_exactly():
    x, Y, _, _ = _data(seed=7)
    Y[:, 1] = 2.5
    Y[:, 3] = 1e12 * (1 + 4 * np.finfo(float).eps * (np.arange(N) % 2))  # rounding residue
    for common in (True, False):
        h = np.full(M, 0.5) if common else np.linspace(0.4, 0.8, M)
        ps = prepare_side(x, 0.0, "plus", "triangular", 2)
        s = fit_summaries(ps, Y, h, 2, var_rows=(0, 1, 2))
        ref = locpoly_boundary(x, Y, 0.0, h, 2, "triangular", "plus")
        for j in (1, 3):
            assert np.array_equal(s.coef[1:, j], [0.0, 0.0])
            assert np.array_equal(s.coef_variance[:, j], [0.0, 0.0, 0.0])
            assert s.sum_ke2[j] == 0.0
            assert abs(s.coef[0, j] - ref.coef[0, j]) <= 1e-15 * abs(ref.coef[0, j])
        assert s.coef[0, 1] == 2.5


@pytest.mark.parametrize("p", [0, 1, 2, 3])
@pytest.mark.parametrize("common", [True, False])
def test_closer_to_exact_than_locpoly(p, common):
    # extended-precision weighted least squares as the exact answer: the windowed core is
    # within 1e-12 of it (normwise per coefficient) and never much worse than the reference
    x, Y, _, h_cols = _data(seed=8)
    h = np.full(M, 0.45) if common else h_cols
    ext = np.longdouble
    exact = np.empty((p + 1, M), dtype=ext)
    sel = x >= 0
    for j in range(M):
        u = x[sel].astype(ext) / ext(h[j])
        k = np.where(np.abs(u) <= 1, 1 - np.abs(u), ext(0))
        R = np.stack([u**a for a in range(p + 1)], axis=1)
        A = (R * k[:, None]).T @ R
        b = (R * k[:, None]).T @ Y[sel, j].astype(ext)
        aug = np.concatenate([A, b[:, None]], axis=1)
        for i in range(p + 1):  # Gaussian elimination in extended precision
            for r in range(i + 1, p + 1):
                aug[r] -= aug[r, i] / aug[i, i] * aug[i]
        c = np.zeros(p + 1, dtype=ext)
        for i in range(p, -1, -1):
            c[i] = (aug[i, -1] - aug[i, i + 1 : p + 1] @ c[i + 1 :]) / aug[i, i]
        exact[:, j] = c
    s = fit_summaries(prepare_side(x, 0.0, "plus", "triangular", p), Y, h, p)
    ref = locpoly_boundary(x, Y, 0.0, h, p, "triangular", "plus")
    for a in range(p + 1):
        t = exact[a].astype(float)
        assert _rel(s.coef[a], t) <= 1e-12
        assert _rel(s.coef[a], t) <= max(2 * _rel(ref.coef[a], t), 1e-13)


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("side", ["plus", "minus"])
def test_gram_from_prefix_sums_equals_direct_sums(kernel, side):
    x, _, w, _ = _data(seed=9)
    h = np.array([0.05, 0.3, 0.77, 2.0])
    ps = prepare_side(x, 0.0, side, kernel, 3, weights=w)
    G = gram(ps, h, 3)
    on = (x >= 0) if side == "plus" else (x < 0)
    for j, hj in enumerate(h):
        u = x[on] / hj
        k = ps.kernel(u) * (w[on] / w.max())
        R = np.stack([u**a for a in range(4)], axis=1)
        direct = (R * k[:, None]).T @ R
        assert _rel(G[j], direct) <= 1e-13
    counts = [int(np.sum(np.abs(x[on & (w > 0)]) <= hj)) for hj in h]
    assert window_sizes(ps, h).tolist() == counts


def test_tiny_relative_bandwidth_uses_direct_sums():
    # h / (largest |x - c|) below 2^-60: powers of the prefix sums could underflow
    rng = np.random.default_rng(10)
    x = np.concatenate([rng.uniform(-1e-20, 1e-20, 400), [1.0, -1.0]])
    Y = (1e20 * x)[:, None] + rng.normal(size=(402, 2))
    h = np.array([5e-21, 8e-21])
    for side in ("plus", "minus"):
        ref = locpoly_boundary(x, Y, 0.0, h, 2, "epanechnikov", side)
        s = fit_summaries(prepare_side(x, 0.0, side, "epanechnikov", 2), Y, h, 2)
        for a in range(3):
            assert _rel(s.coef[a], ref.coef[a]) <= 1e-12


@pytest.mark.parametrize("common", [True, False])
def test_memory_budget_blocks_do_not_change_results(common):
    x, Y, _, h_cols = _data(seed=11)
    h = np.full(M, 0.5) if common else h_cols
    ps = prepare_side(x, 0.0, "minus", "uniform", 2)
    a = fit_summaries(ps, Y, h, 2, var_rows=(2,))
    b = fit_summaries(ps, Y, h, 2, var_rows=(2,), memory_budget=1)  # one column a block
    # per-column bandwidths: identical; common: the matrix products block differently
    tol = 1e-14 if common else 0.0
    assert _rel(b.coef, a.coef) <= tol
    assert _rel(b.coef_variance[2], a.coef_variance[2]) <= tol
    assert _rel(b.sum_ke2, a.sum_ke2) <= tol


def test_window_problem_matches_locpoly_checks():
    x = np.round(np.linspace(-1, 1, 201), 12)
    Y = np.cos(x)[:, None]
    ps = prepare_side(x, 0.0, "plus", "triangular", 2)
    assert window_problem(ps, np.array([0.5, 1.0]), 2) is None
    # |x| <= 0.015 holds the units at 0 and 0.01: 2 units < p + 1
    bad = window_problem(ps, np.array([0.5, 0.015]), 2)
    assert bad == (1, "fewer than 3 units in the window")
    with pytest.raises(EstimationError, match="fewer than 3 units in the window"):
        locpoly_boundary(x, Y, 0.0, 0.015, 2, "triangular", "plus")
    # min_units = p + 2 (the selector's Step 2): 3 units with positive weight are too few
    assert window_problem(ps, np.array([0.025]), 2, min_units=4) == (
        0,
        "fewer than 4 units in the window",
    )
    with pytest.raises(EstimationError, match="fewer than 4 units in the window"):
        locpoly_boundary(x, Y, 0.0, 0.025, 2, "triangular", "plus", min_units=4)
    # ties: many units, two distinct values
    xt = np.repeat([0.1, 0.2, 0.9], 10)
    pt = prepare_side(xt, 0.0, "plus", "uniform", 2)
    assert window_problem(pt, np.array([0.5]), 2) == (
        0,
        "fewer than p + 1 = 3 distinct running-variable values",
    )
    with pytest.raises(EstimationError, match="fewer than p \\+ 1 = 3 distinct"):
        locpoly_boundary(xt, xt, 0.0, 0.5, 2, "uniform", "plus")


def test_prepare_side_refuses_the_gaussian_kernel():
    with pytest.raises(ValueError, match="`kernel` must be compact"):
        prepare_side(np.array([0.1, 0.2]), 0.0, "plus", "gaussian", 1)


def test_prepare_side_sorts_stably_and_drops_zero_weights():
    x = np.array([0.2, -0.1, 0.1, 0.2, 0.0, 0.3])
    w = np.array([1.0, 1.0, 2.0, 4.0, 0.0, 1.0])
    ps = prepare_side(x, 0.0, "plus", "triangular", 1, weights=w)
    assert ps.order.tolist() == [2, 0, 3, 5]  # x = 0 has zero weight; ties keep order
    assert ps.w.tolist() == [0.5, 0.25, 1.0, 0.25]
    pm = prepare_side(x, 0.0, "minus", "triangular", 1)
    assert pm.order.tolist() == [1] and pm.sign == -1.0


@pytest.mark.parametrize("side", ["plus", "minus"])
@pytest.mark.parametrize(
    ("h", "p", "min_units", "kernel"),
    [
        (np.array([0.5, 0.015, 0.4]), 2, None, "triangular"),  # per-column: column 1
        (np.array([0.025, 0.025]), 2, 4, "epanechnikov"),  # common: "all columns"
        (np.array([0.005]), 1, None, "uniform"),
    ],
)
def test_check_windows_raises_locpoly_boundarys_error(side, h, p, min_units, kernel):
    x = np.round(np.linspace(-1, 1, 201), 12)
    Y = np.cos(x)[:, None] + np.zeros((1, h.size))
    ps = prepare_side(x, 0.0, side, kernel, 2)
    other = prepare_side(x, 0.0, "minus" if side == "plus" else "plus", kernel, 2)
    with pytest.raises(EstimationError) as ref:
        locpoly_boundary(x, Y, 0.0, h, p, kernel, side, min_units=min_units)
    with pytest.raises(EstimationError) as got:
        check_windows(ps, other, h, p, 0.0, min_units)
    assert str(got.value) == str(ref.value)
    check_windows(ps, other, np.array([0.5, 0.7]), p, 0.0, min_units)  # identified: silent


# ---- the wiring: the selector's Step 2, its pilot moments, the R3D side fits ---------------


def _selector_data(n: int = 3000, m: int = 6, seed: int = 4):
    # different curvature on the two sides, so that the bias difference (and with it every
    # bandwidth) is well conditioned: reordered sums then agree to rounding
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, n)
    grid = np.linspace(0.5, 2.0, m)
    Y = (1 + x + 2 * (x >= 0) + np.where(x >= 0, 1.5, -0.8) * x**2)[:, None] * grid[
        None, :
    ] + rng.normal(size=(n, m)) * grid[None, :]
    return x, Y


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("criterion", ["mse", "imse"])
@pytest.mark.parametrize("rules", ["default", "r3d"])
def test_selector_windowed_step2_matches_locpoly(monkeypatch, kernel, criterion, rules):
    import estkit._bandwidth as bw
    from r3d._rules import R3D_28744DB

    sel_rules = bw.SelectorRules() if rules == "default" else R3D_28744DB.selector
    x, Y = _selector_data()
    q = np.linspace(0.2, 0.8, Y.shape[1])
    new = bw.select_bandwidth(x, Y, kernel=kernel, criterion=criterion, q=q, rules=sel_rules)
    monkeypatch.setattr(bw._Context, "sorted_sides", lambda self: None)  # locpoly's Step 2
    old = bw.select_bandwidth(x, Y, kernel=kernel, criterion=criterion, q=q, rules=sel_rules)
    for a, b in ((new.h, old.h), (new.B_plus, old.B_plus), (new.V_minus, old.V_minus)):
        assert _rel(a, b) <= 1e-12
    np.testing.assert_array_equal(new.pilot_h, old.pilot_h)


def test_selector_windowed_step2_raises_locpolys_error(monkeypatch):
    import estkit._bandwidth as bw

    rng = np.random.default_rng(0)
    # nearly all units far from the cutoff: the pilot window holds too few units
    x = np.concatenate([rng.uniform(0.9, 1.0, 200), -rng.uniform(0.9, 1.0, 200), [0.001]])
    Y = x[:, None] ** 2 + rng.normal(size=(x.size, 2))
    kw = dict(kernel="triangular", rules=bw.SelectorRules())
    with pytest.raises(EstimationError) as new:
        bw.select_bandwidth(x, Y, **kw)
    monkeypatch.setattr(bw._Context, "sorted_sides", lambda self: None)
    with pytest.raises(EstimationError) as old:
        bw.select_bandwidth(x, Y, **kw)
    assert str(new.value) == str(old.value)
    assert "automatically chosen pilot bandwidth" in str(new.value)


def test_pilot_moments_match_per_side_global_polynomials():
    import estkit._bandwidth as bw
    from estkit._kernels import get_kernel
    from estkit._locpoly import _center_scale

    x, Y = _selector_data(n=5000)
    Z, _, _ = _center_scale(Y)
    kern = get_kernel("epanechnikov")
    f, _ = bw._density(x, kern)
    ctx = bw._Context(
        xw=x,
        cw=0.0,
        xc=x,
        plus=x >= 0,
        minus=x < 0,
        s=1,
        n=x.size,
        kern=kern,
        kc=bw.kernel_constants(kern, 1),
        f=f,
        rot=0.1,
        x_unit=1.0,
        rules=bw.SelectorRules(),
    )
    C, Cp, var_z = bw._pilot_moments(ctx, Z, True)
    C0, Cp0 = bw._pilot_terms(ctx, Z)
    assert _rel(C, C0) <= 1e-12
    assert _rel(Cp, Cp0) <= 1e-12
    assert _rel(var_z, bw._column_var(Z)) <= 1e-13
    assert bw._pilot_moments(ctx, Z, False)[2] is None


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("common", [True, False])
@pytest.mark.parametrize("rule", ["default", "r3d"])
def test_fit_sides_windowed_matches_locpoly(kernel, common, rule):
    from estkit._kernels import get_kernel
    from r3d._estimate import _fit_both_sides
    from r3d._rules import PAPER, R3D_28744DB

    rules = PAPER if rule == "default" else R3D_28744DB
    x, Y, _, h_cols = _data(seed=6)
    h = np.full(M, 0.5) if common else h_cols
    kern = get_kernel(kernel)
    new = _fit_both_sides(x, Y, 0.0, h, 2, kern, 4, rules, 2**20, windowed=True)
    old = _fit_both_sides(x, Y, 0.0, h, 2, kern, 4, rules, 2**20, windowed=False)
    for a, b in zip(new[:6], old[:6], strict=True):
        assert a.shape == b.shape
        assert _rel(a, b) <= 1e-12
    for a, b in zip(new[6:], old[6:], strict=True):
        np.testing.assert_array_equal(a, b)


def test_fit_sides_windowed_reuses_matching_sides_only():
    from estkit._kernels import get_kernel
    from r3d._estimate import _fit_both_sides
    from r3d._rules import PAPER

    x, Y, _, _ = _data(seed=2)
    h = np.full(M, 0.6)
    kern = get_kernel("epanechnikov")
    fresh = _fit_both_sides(x, Y, 0.0, h, 2, kern, 4, PAPER, 2**20)
    shared = {s: prepare_side(x, 0.0, s, kern, 3) for s in ("plus", "minus")}
    other = {s: prepare_side(x, 0.0, s, "uniform", 3) for s in ("plus", "minus")}
    for sides in (shared, other):  # a higher order serves; another kernel is not used
        out = _fit_both_sides(x, Y, 0.0, h, 2, kern, 4, PAPER, 2**20, sides)
        for a, b in zip(out, fresh, strict=True):
            np.testing.assert_array_equal(a, b)


def test_both_sides_runs_both_and_restores_the_blas_limit():
    from threadpoolctl import threadpool_info

    from estkit._parallel import _LIMIT_STATE
    from estkit._windowed import both_sides

    before = [(d["internal_api"], d["num_threads"]) for d in threadpool_info()]
    x, Y, _, _ = _data(seed=1)
    pp = prepare_side(x, 0.0, "plus", "triangular", 2)
    pm = prepare_side(x, 0.0, "minus", "triangular", 2)
    h = np.full(M, 0.5)
    sp, sm = both_sides(lambda: fit_summaries(pp, Y, h, 2), lambda: fit_summaries(pm, Y, h, 2))
    np.testing.assert_array_equal(sp.coef, fit_summaries(pp, Y, h, 2).coef)
    np.testing.assert_array_equal(sm.coef, fit_summaries(pm, Y, h, 2).coef)
    assert both_sides(lambda: "a", lambda: "b") == ("a", "b")
    with pytest.raises(ZeroDivisionError):
        both_sides(lambda: 1, lambda: 1 / 0)
    assert _LIMIT_STATE["depth"] == 0 and _LIMIT_STATE["limiter"] is None
    assert [(d["internal_api"], d["num_threads"]) for d in threadpool_info()] == before


# ------------------------------------------------ in-place common-bandwidth path (issue 17)
@pytest.mark.parametrize("degree", [0, 1, 2, 3])
def test_horner_in_place_equals_horner_bit_for_bit(degree):
    from estkit._windowed import _horner, _horner_in_place

    rng = np.random.default_rng(degree)
    c = rng.standard_normal((degree + 1, 7)) * 10.0 ** rng.integers(-5, 5, (degree + 1, 7))
    u = rng.uniform(-1, 1, 300)
    np.testing.assert_array_equal(_horner_in_place(c, u), _horner(c, u[:, None]))


def test_center_scale_cols_in_place_equals_copy():
    from estkit._windowed import _center_scale_cols

    rng = np.random.default_rng(3)
    Y = rng.standard_normal((200, 5)) * [1.0, 1e-3, 1e6, 0.0, 1.0] + [0, 5, -3, 7.5, 1e12]
    Y[:, 4] = 1e12  # flat columns become exactly zero on both paths
    ref = _center_scale_cols(Y.copy())
    work = Y.copy()
    got = _center_scale_cols(work, in_place=True)
    for a, b in zip(got, ref, strict=True):
        np.testing.assert_array_equal(a, b)
    assert np.shares_memory(got[0], work)
    big = Y / 1e12 * 1.7e300  # values near the float limit: scaled first, a new array
    for a, b in zip(
        _center_scale_cols(big.copy(), in_place=True), _center_scale_cols(big), strict=True
    ):
        np.testing.assert_array_equal(a, b)


# ------------------------------------------- row-blocked common-bandwidth passes (issue 17)
@pytest.mark.parametrize("cols", [slice(0, 5), slice(2, 3), slice(1, 4), slice(0, 0)])
def test_gather_center_scale_equals_whole_array_passes(monkeypatch, cols):
    import estkit._windowed as wmod

    rng = np.random.default_rng(4)
    n = 3001
    Y = rng.standard_normal((n, 5)) * [1.0, 1e-3, 1e6, 0.0, 1.0] + [0, 5, -3, 7.5, 1e12]
    Y[:, 4] = 1e12 * (1 + 1e-17 * rng.standard_normal(n))  # flat up to rounding residue
    rows = rng.permutation(n)[:2500]
    monkeypatch.setattr(wmod, "_BLOCK_CELLS", 700)  # many blocks of 256 rows
    ref = wmod._center_scale_cols(Y[rows, cols], in_place=True)
    k = cols.stop - cols.start
    (got,) = wmod._gather_center_scale(Y, rows, cols, [slice(0, k)])
    for a, b in zip(got, ref, strict=True):
        assert a.shape == b.shape and a.tobytes() == b.tobytes()
    big = Y * 1.7e288  # values near the float limit: the rescaling path
    ref = wmod._center_scale_cols(big[rows, 0:5], in_place=True)
    (got,) = wmod._gather_center_scale(big, rows, slice(0, 5), [slice(0, 5)])
    for a, b in zip(got, ref, strict=True):
        assert a.tobytes() == b.tobytes()
    assert len(wmod._row_blocks(2500, 5)) == 10


@pytest.mark.parametrize("support", ["window", "positive_weight"])
def test_row_blocked_common_path_equals_whole_array_passes(monkeypatch, support):
    # the row blocks of the common-bandwidth passes (many small ones) against one block
    # (the whole-array passes the path ran before): the same numbers bit for bit
    import estkit._windowed as wmod

    rng = np.random.default_rng(5)
    n, m = 3000, 6
    x = np.round(rng.uniform(-1, 1, n), 3)
    Y = np.sin(3 * x)[:, None] + rng.normal(size=(n, m)) * np.linspace(0.1, 1.0, m)
    Y[:, 3] = 3.0  # a flat column
    h = np.full(m, 0.6)
    results = []
    for cells in (1, 2**40):  # blocks of 256 rows; one block
        monkeypatch.setattr(wmod, "_BLOCK_CELLS", cells)
        out = []
        for side, budget in (("plus", 1), ("minus", 1), ("plus", None)):  # 1 or 6 columns
            ps = prepare_side(x, 0.0, side, "triangular", 2)
            s = fit_summaries(ps, Y, h, 2, var_rows=(1, 2), memory_budget=budget)
            fitted = np.zeros(Y.shape)
            w = np.zeros((n, 1))
            s2 = fit_into(
                ps, Y, h, 2, fitted_out=fitted, weights_out=w, support=support, memory_budget=budget
            )
            out += [s.coef, s.coef_variance, s.sum_ke2, s.sum_wpos_e2, s2.coef, fitted, w]
        results.append(out)
    for a, b in zip(*results, strict=True):
        assert a.tobytes() == b.tobytes()
    assert np.count_nonzero(results[0][5]) > 0


@pytest.mark.parametrize(("r", "k"), [(1000, 1), (1000, 3), (257, 8), (5, 99), (300, 300)])
def test_fold_equals_reduce(r, k):
    from estkit._windowed import _fold

    rng = np.random.default_rng(r + k)
    b = rng.standard_normal((r, k)) * 10.0 ** rng.integers(-300, 300, (r, k))
    for op in (np.maximum, np.minimum):
        assert _fold(op, b).tobytes() == op.reduce(b, axis=0).tobytes()


# ------------------------------------ row gathers/scatters and wide blocks of columns (issue 17)
def test_take_and_put_rows_equal_fancy_indexing():
    from estkit._windowed import _put_rows, _take_rows

    rng = np.random.default_rng(11)
    A = rng.standard_normal((50, 9))
    rows = rng.permutation(50)[:20]
    views = (A, A[:, ::-1], np.asfortranarray(A), A[::2], A.astype(np.float32))
    for src in views:  # contiguous rows (one item per row) and the fallback
        for cols in (slice(0, 9), slice(2, 5), slice(4, 5), slice(3, 3)):
            r = rows[rows < src.shape[0]]
            out = np.empty((r.size, len(range(*cols.indices(src.shape[1])))), dtype=src.dtype)
            _take_rows(src, r, cols, out)
            assert out.tobytes() == src[r, cols].tobytes()
            got, ref = src.copy(), src.copy()
            vals = rng.standard_normal(out.shape).astype(src.dtype)
            _put_rows(got, r, cols, vals)
            ref[r, cols] = vals
            assert got.tobytes() == ref.tobytes()
    flags = np.zeros((50, 1), dtype=bool)  # boolean outputs take the fallback
    _put_rows(flags, rows, slice(0, 1), np.ones((20, 1), dtype=bool))
    assert flags[rows].all() and flags.sum() == 20


def test_wide_chunks_group_consecutive_blocks():
    from estkit._windowed import _chunks, _wide_chunks

    chunks = _chunks(99, 1000, 8 * 6 * 1000 * 8, 6)  # blocks of 8 columns
    wide = _wide_chunks(chunks, 1000, 8 * 2 * 1000 * 24)  # about 24 columns wide
    assert [w for w, _ in wide] == [
        slice(0, 24),
        slice(24, 48),
        slice(48, 72),
        slice(72, 96),
        slice(96, 99),
    ]
    assert wide[0][1] == [slice(0, 8), slice(8, 16), slice(16, 24)]
    assert [
        c for w, subs in wide for c in (slice(w.start + s.start, w.start + s.stop) for s in subs)
    ] == chunks
    # a block wider than the wide budget stays one group; a one-column block stays alone
    assert _wide_chunks([slice(0, 10), slice(10, 12)], 1000, 1) == [
        (slice(0, 10), [slice(0, 10)]),
        (slice(10, 12), [slice(0, 2)]),
    ]
    assert _wide_chunks([slice(0, 2), slice(2, 3), slice(3, 5), slice(5, 6)], 10, 2**20) == [
        (slice(0, 2), [slice(0, 2)]),
        (slice(2, 3), [slice(0, 1)]),
        (slice(3, 5), [slice(0, 2)]),
        (slice(5, 6), [slice(0, 1)]),
    ]


@pytest.mark.parametrize("support", ["window", "positive_weight"])
def test_wide_gather_equals_narrow_blocks(monkeypatch, support):
    # the common-bandwidth path gathers and centres wide blocks of columns but keeps the
    # products on the budget's narrow blocks: the same numbers bit for bit as gathering
    # each narrow block on its own (the path before)
    import estkit._windowed as wmod

    rng = np.random.default_rng(12)
    n, m = 4000, 23
    x = rng.uniform(-1, 1, n)
    Y = np.cos(2 * x)[:, None] + rng.standard_normal((n, m)) * np.linspace(0.1, 2.0, m)
    Y[:, 5] = -2.0  # a flat column
    h = np.full(m, 0.7)
    budget = 8 * 6 * n // 2 * 3  # narrow blocks of 3 columns (the window holds ~n/2 rows)
    results = []
    for wide in (True, False):
        if not wide:
            monkeypatch.setattr(
                wmod, "_wide_chunks", lambda c, r, b: [(a, [slice(0, a.stop - a.start)]) for a in c]
            )
        out = []
        for side in ("plus", "minus"):
            ps = prepare_side(x, 0.0, side, "epanechnikov", 3)
            s = fit_summaries(ps, Y, np.full(m, 1.5), 3, var_rows=(2,), memory_budget=budget)
            fitted, w, lev = np.zeros(Y.shape), np.zeros((n, 1)), np.zeros((n, 1))
            s2 = fit_into(
                ps,
                Y,
                h,
                2,
                fitted_out=fitted,
                weights_out=w,
                leverage_out=lev,
                support=support,
                memory_budget=budget,
            )
            out += [s.coef, s.coef_variance, s.sum_ke2, s.sum_wpos_e2, s2.coef, fitted, w, lev]
        results.append(out)
    assert len(wmod._chunks(m, 2000, budget, 6)) > 3
    for a, b in zip(*results, strict=True):
        assert a.tobytes() == b.tobytes()


def test_gather_center_scale_split_equals_gathering_each_block(monkeypatch):
    # one gather over a wide block of columns, split into contiguous blocks: each block as
    # the whole-array centring and scaling of its own gathered columns (means, spreads,
    # flat columns, rescaling path)
    import estkit._windowed as wmod

    rng = np.random.default_rng(13)
    n = 3001
    Y = rng.standard_normal((n, 9)) * [1.0, 1e-3, 1e6, 0.0, 1.0, 2.0, 3.0, 1.0, 5.0] + 4.0
    Y[:, 4] = 1e12 * (1 + 1e-17 * rng.standard_normal(n))  # flat up to rounding residue
    Y[:, 8] *= 1e301  # beyond 1e300: that block takes the rescaling path
    rows = rng.permutation(n)[:2500]
    monkeypatch.setattr(wmod, "_BLOCK_CELLS", 700)  # many blocks of 256 rows
    blocks = [slice(0, 3), slice(3, 4), slice(4, 6), slice(6, 8)]
    got = wmod._gather_center_scale(Y, rows, slice(1, 9), blocks)
    assert len(got) == len(blocks)
    for part, c in zip(got, blocks, strict=True):
        ref = wmod._center_scale_cols(Y[rows, 1 + c.start : 1 + c.stop], in_place=True)
        assert part[0].flags.c_contiguous
        for a, b in zip(part, ref, strict=True):
            assert a.shape == b.shape and a.tobytes() == b.tobytes()
    empty = wmod._gather_center_scale(Y, rows[:0], slice(0, 4), [slice(0, 2), slice(2, 4)])
    assert [e[0].shape for e in empty] == [(0, 2), (0, 2)]


def _noisy_side(seed: int, n: int, m: int, signal, side: str, kernel: str):
    """``m`` columns of ``signal(x)`` plus standard normal noise, ``x ~ U(-1, 1)``, and the
    prepared side (order 2) of the skipped-output tests below."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, n)
    Y = signal(x)[:, None] + rng.standard_normal((n, m))
    return Y, prepare_side(x, 0.0, side, kernel, 2)


@pytest.mark.parametrize("common", [True, False])
def test_fit_into_without_residual_sums(common):
    # the side fits only need coefficients and unit-level outputs: residual_sums=False gives
    # them bit for bit and leaves the residual sums NaN
    n, m = 3000, 5
    Y, ps = _noisy_side(14, n, m, lambda x: np.sin(2 * x), "minus", "triangular")
    h = np.full(m, 0.6) if common else np.linspace(0.4, 0.8, m)
    outs = []
    for sums in (True, False):
        fitted, w, lev = np.zeros((n, m)), np.zeros((n, m)), np.zeros((n, m))
        s = fit_into(ps, Y, h, 2, fitted_out=fitted, weights_out=w, leverage_out=lev,
                     var_rows=(1,), residual_sums=sums)  # fmt: skip
        outs.append((s, fitted, w, lev))
    (s1, *arrays1), (s2, *arrays2) = outs
    for a, b in zip([s1.coef, s1.sum_k, s1.sum_wpos, s1.n_eff, *arrays1],
                    [s2.coef, s2.sum_k, s2.sum_wpos, s2.n_eff, *arrays2], strict=True):  # fmt: skip
        assert a.tobytes() == b.tobytes()
    assert np.all(np.isfinite(s1.sum_ke2)) and np.all(np.isfinite(s1.coef_variance[1]))
    assert np.all(np.isnan(s2.sum_ke2)) and np.all(np.isnan(s2.sum_wpos_e2))
    assert np.all(np.isnan(s2.coef_variance))


@pytest.mark.parametrize("common", [True, False])
def test_fit_summaries_without_positive_weight_sums(common):
    # the paper's selector reads the kernel-weighted variance only: the positive-weight sum
    # is skipped (NaN), everything else bit for bit
    m = 4
    Y, ps = _noisy_side(15, 3000, m, lambda x: np.cos(3 * x), "plus", "epanechnikov")
    h = np.full(m, 0.7) if common else np.linspace(0.5, 0.9, m)
    a = fit_summaries(ps, Y, h, 2, var_rows=(2,))
    b = fit_summaries(ps, Y, h, 2, var_rows=(2,), positive_weight_sums=False)
    for f in ("coef", "coef_variance", "sum_k", "sum_ke2", "sum_wpos", "n_eff"):
        assert getattr(a, f).tobytes() == getattr(b, f).tobytes()
    assert np.all(np.isfinite(a.sum_wpos_e2)) and np.all(np.isnan(b.sum_wpos_e2))


def test_fit_into_coefficients_only():
    # neither residual sums nor fitted values wanted: no pass over the rows, the same
    # coefficients and weights as the full fit
    n, m = 2000, 3
    Y, ps = _noisy_side(16, n, m, lambda x: np.sin(2 * x), "plus", "epanechnikov")
    h = np.full(m, 0.6)
    w1, w2 = np.zeros((n, 1)), np.zeros((n, 1))
    full = fit_into(ps, Y, h, 2, fitted_out=np.zeros((n, m)), weights_out=w1)
    bare = fit_into(ps, Y, h, 2, weights_out=w2, residual_sums=False)
    assert bare.coef.tobytes() == full.coef.tobytes()
    assert w1.tobytes() == w2.tobytes()
    assert np.all(np.isnan(bare.sum_ke2)) and np.all(np.isfinite(full.sum_ke2))
