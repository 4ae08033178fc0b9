"""Robust bias-corrected distributional RD (issue 13, ``r3d._debias``).

At every single quantile column the core must be the scalar robust bias-corrected RD of
Calonico, Cattaneo and Titiunik (2014), i.e. ``estkit.local_polynomial_rd`` (itself
matched to rdrobust 2.1.1): estimate and robust standard error to 1e-10.
"""

from __future__ import annotations

import numpy as np
import pytest

from estkit import EstimationError, local_polynomial_rd, multiplier_process
from r3d._debias import (
    BiasBandwidthSelection,
    DebiasedCore,
    estimate_r3d_robust,
    select_bias_bandwidth,
)

GRID = np.array([0.1, 0.3, 0.5, 0.7, 0.9])
TOL = 1e-10


def _data(n: int = 400, seed: int = 0, cutoff: float = 0.0):
    rng = np.random.default_rng(seed)
    x = cutoff + rng.uniform(-1.0, 1.0, n)
    xc = x - cutoff
    T = (rng.random(n) < 0.2 + 0.6 * (xc >= 0)).astype(float)
    noise = rng.normal(0.0, 1.0, (n, GRID.size)) * (1.0 + 0.5 * np.abs(xc))[:, None]
    Q = np.sort(1.0 + xc[:, None] + 1.5 * xc[:, None] ** 2 + 2.0 * T[:, None] + noise, axis=1)
    w = rng.uniform(0.5, 2.0, n)
    cl = rng.integers(0, 60, n)
    return x, Q, T, w, cl


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= TOL * max(1.0, abs(b))


# ------------------------------------------------------------------- scalar parity


def _core_and_scalar_columns(x, Q, h, b, *, T=None, **options):
    """``estimate_r3d_robust`` on the grid and ``local_polynomial_rd`` on each column, with
    the same bandwidths ``h``, ``b`` (scalars or per quantile), treatment ``T`` and
    ``options`` (cutoff, p, kernel, vce, weights, cluster); asserts that every column's
    robust standard error is the scalar one and returns the core and the scalar fits."""
    core = estimate_r3d_robust(x, Q, GRID, bandwidth=h, bias_bandwidth=b, T=T, **options)
    hv, bv = np.broadcast_to(h, GRID.shape), np.broadcast_to(b, GRID.shape)
    refs = [
        local_polynomial_rd(
            x, Q[:, j], bandwidth=hv[j], bias_bandwidth=bv[j], treatment=T, **options
        )
        for j in range(GRID.size)
    ]
    for j, ref in enumerate(refs):
        assert _close(core.std_error[j], ref.std_error_robust)
    return core, refs


@pytest.mark.parametrize("fuzzy", [False, True], ids=["sharp", "fuzzy"])
@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("kernel", ["triangular", "epanechnikov"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_each_column_is_the_scalar_robust_rd(fuzzy, p, kernel, weighted):
    x, Q, T, w, _ = _data(cutoff=0.5)
    # per-quantile bandwidths, both b > h and b < h
    h = np.array([0.45, 0.5, 0.6, 0.7, 0.8])
    b = np.array([0.7, 0.4, 0.9, 0.65, 1.0])
    options = {"cutoff": 0.5, "weights": w if weighted else None, "p": p, "kernel": kernel}
    core, refs = _core_and_scalar_columns(x, Q, h, b, T=T if fuzzy else None, vce="hc0", **options)
    for j, ref in enumerate(refs):
        if fuzzy:
            assert _close(core.first_stage[j], ref.first_stage)
            one = estimate_r3d_robust(
                x, Q[:, j], GRID[j : j + 1], bandwidth=h[j], bias_bandwidth=b[j], T=T, **options
            )
            assert _close(one.tau[0], ref.estimate_bias_corrected)
            assert _close(one.std_error[0], ref.std_error_robust)
        else:
            jump = core.plus_raw[j] - core.minus_raw[j]
            assert _close(jump, ref.estimate_bias_corrected)
            conventional = jump + core.bias_plus[j] - core.bias_minus[j]
            assert _close(conventional, ref.estimate)
            assert _close(core.plus_raw[j] + core.bias_plus[j], ref.intercept_above)


@pytest.mark.parametrize("vce", ["hc1", "hc2", "hc3"])
@pytest.mark.parametrize("fuzzy", [False, True], ids=["sharp", "fuzzy"])
def test_other_vce_match_the_scalar_robust_rd(vce, fuzzy):
    x, Q, T, _, _ = _data(seed=3)
    _core_and_scalar_columns(
        x, Q, 0.55, 0.8, T=T if fuzzy else None, p=1, kernel="epanechnikov", vce=vce
    )


@pytest.mark.parametrize("fuzzy", [False, True], ids=["sharp", "fuzzy"])
def test_clustered_standard_errors_are_rdrobusts_cr1(fuzzy):
    x, Q, T, w, cl = _data(seed=4)
    options = {"T": T if fuzzy else None, "weights": w, "p": 2, "kernel": "triangular"}
    core, _ = _core_and_scalar_columns(x, Q, 0.6, 0.5, cluster=cl, vce="hc0", **options)
    assert core.n_clusters == np.unique(cl).size
    # the scores do not carry the CR1 factor: they are the plain linear representation
    plain = estimate_r3d_robust(x, Q, GRID, bandwidth=0.6, bias_bandwidth=0.5, **options)
    np.testing.assert_array_equal(core.scores, plain.scores)


def test_separate_first_stage_bandwidth_equals_shared_one_when_equal():
    x, Q, T, _, _ = _data(seed=5)
    shared = estimate_r3d_robust(x, Q, GRID, bandwidth=0.6, bias_bandwidth=0.9, T=T, p=1)
    given = estimate_r3d_robust(
        x,
        Q,
        GRID,
        bandwidth=0.6,
        bias_bandwidth=0.9,
        T=T,
        bandwidth_treatment=0.6,
        bias_bandwidth_treatment=0.9,
        p=1,
    )
    np.testing.assert_allclose(given.tau, shared.tau, rtol=1e-12)
    np.testing.assert_allclose(given.std_error, shared.std_error, rtol=1e-12)
    # a different first-stage bandwidth: one first stage for every quantile
    other = estimate_r3d_robust(
        x,
        Q,
        GRID,
        bandwidth=np.array([0.5, 0.6, 0.7, 0.6, 0.5]),
        bias_bandwidth=0.9,
        T=T,
        bandwidth_treatment=0.8,
        bias_bandwidth_treatment=1.0,
        p=1,
    )
    assert np.all(other.first_stage == other.first_stage[0])
    ref_t = local_polynomial_rd(x, T, p=1, kernel="epanechnikov", bandwidth=0.8, bias_bandwidth=1.0)
    assert _close(other.first_stage[0], ref_t.estimate)
    assert _close(other.first_stage_bias_corrected[0], ref_t.estimate_bias_corrected)
    # the scores' sum of squares is the robust variance (delta method over both regressions)
    np.testing.assert_allclose((other.scores**2).sum(axis=0), other.std_error**2, rtol=1e-12)


# ------------------------------------------------------------ structure of the output


def test_scores_are_the_linear_representation():
    x, Q, _, _, _ = _data(seed=6)
    core = estimate_r3d_robust(x, Q, GRID, bandwidth=0.5, bias_bandwidth=0.7, p=2)
    assert isinstance(core, DebiasedCore)
    assert core.scores.shape == (x.size, GRID.size) and core.n == x.size
    np.testing.assert_allclose((core.scores**2).sum(axis=0), core.std_error**2, rtol=1e-12)
    # units outside both windows carry no score; each unit scores on its own side
    outside = np.abs(x) > 0.7
    assert np.all(core.scores[outside] == 0.0)
    # the bootstrap of the scores has the robust standard error as its SD
    draws = multiplier_process(core.scores, 4000, rng=1)
    np.testing.assert_allclose(draws.std(axis=0), core.std_error, rtol=0.05)
    assert core.n_eff_plus.tolist() == [int(np.sum((x >= 0) & (x < 0.5)))] * GRID.size


def test_bias_correction_is_exact_for_order_p_plus_one_curves():
    """Sides that are exact polynomials of order p + 1: the conventional estimate is biased,
    the corrected one exact, and its robust standard error zero."""
    rng = np.random.default_rng(7)
    x = rng.uniform(-1, 1, 300)
    up = x >= 0
    base = np.where(up, 2.0 + 0.5 * x + 3.0 * x**2, 1.0 - x - 2.0 * x**2)
    Q = base[:, None] + GRID[None, :]
    core = estimate_r3d_robust(x, Q, GRID, bandwidth=0.6, bias_bandwidth=0.9, p=1)
    np.testing.assert_allclose(core.tau, 1.0, atol=1e-11)
    assert np.all(np.abs(core.bias_plus - core.bias_minus) > 0.05)
    np.testing.assert_allclose(core.std_error, 0.0, atol=1e-11)
    np.testing.assert_allclose(core.plus, 2.0 + GRID, atol=1e-11)


def test_equivariance_in_outcome_level_and_scale():
    x, Q, _, _, _ = _data(seed=8)
    a = estimate_r3d_robust(x, Q, GRID, bandwidth=0.6, bias_bandwidth=0.8, p=1)
    b = estimate_r3d_robust(x, 3.0 * Q + 1e6, GRID, bandwidth=0.6, bias_bandwidth=0.8, p=1)
    np.testing.assert_allclose(b.tau, 3.0 * a.tau, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(b.std_error, 3.0 * a.std_error, rtol=1e-8)


@pytest.mark.parametrize("method", ["simple", "frechet"])
def test_monotone_step_after_correction(method):
    """Corrected curves that cross are made monotone (sort / isotonic projection) and the
    effect is the difference of the monotone curves."""
    x, Q, _, _, _ = _data(n=120, seed=9)
    Qn = Q.copy()
    Qn[:, 1], Qn[:, 2] = Q[:, 2] + 0.2, Q[:, 1]  # non-monotone columns
    core = estimate_r3d_robust(x, Qn, GRID, bandwidth=0.5, bias_bandwidth=0.5, p=1, method=method)
    assert core.method == method
    assert np.all(np.diff(core.plus) >= 0) and np.all(np.diff(core.minus) >= 0)
    assert np.any(np.diff(core.plus_raw) < 0)
    np.testing.assert_allclose(core.tau, core.plus - core.minus)
    if method == "simple":
        np.testing.assert_array_equal(core.plus, np.sort(core.plus_raw))
    else:
        # grid-weighted L2 projection: the pooled block carries the weighted mean
        assert core.plus[1] == core.plus[2]


def test_degenerate_columns_are_exact_zeros():
    x, Q, _, _, _ = _data(seed=10)
    Q[:, 0] = 5.0
    deg = np.array([True, False, False, False, False])
    core = estimate_r3d_robust(x, Q, GRID, bandwidth=0.6, bias_bandwidth=0.8, p=1, degenerate=deg)
    assert core.tau[0] == 0.0 and core.std_error[0] == 0.0
    assert np.all(core.scores[:, 0] == 0.0)
    assert core.plus[0] == core.minus[0] == 5.0
    assert np.all(core.std_error[1:] > 0)


def test_single_column_and_common_bandwidth_shapes():
    x, Q, T, _, _ = _data(seed=11)
    core = estimate_r3d_robust(x, Q[:, 2], GRID[2:3], bandwidth=0.7, bias_bandwidth=0.7, T=T)
    assert core.tau.shape == core.std_error.shape == core.bandwidth.shape == (1,)
    assert core.scores.shape == (x.size, 1)
    assert core.fuzzy and core.first_stage.shape == (1,)
    assert core.kernel == "epanechnikov" and core.p == 2 and core.vce == "hc0"


def test_too_few_units_in_the_bias_window():
    x, Q, _, _, _ = _data(n=60, seed=12)
    with pytest.raises(EstimationError, match="inside the bandwidth b"):
        estimate_r3d_robust(x, Q, GRID, bandwidth=0.8, bias_bandwidth=0.02, p=2)


def test_zero_first_stage_is_refused():
    x, Q, _, _, _ = _data(seed=13)
    with pytest.raises(EstimationError, match="first stage is zero"):
        estimate_r3d_robust(x, Q, GRID, bandwidth=0.6, bias_bandwidth=0.8, T=np.ones_like(x))


# ------------------------------------------------------------------ bias bandwidth


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("kernel", ["triangular", "uniform"])
def test_mse_selector_is_rdrobusts_mserd_per_column(p, kernel):
    x, Q, T, w, _ = _data(n=500, seed=14, cutoff=1.0)
    sel = select_bias_bandwidth(x, Q, GRID, cutoff=1.0, p=p, kernel=kernel, T=T, weights=w)
    assert isinstance(sel, BiasBandwidthSelection) and sel.criterion == "mse"
    for j in range(GRID.size):
        ref = local_polynomial_rd(x, Q[:, j], 1.0, p=p, kernel=kernel, weights=w, vce="hc0")
        assert _close(sel.h[j], ref.bandwidth) and _close(sel.b[j], ref.bias_bandwidth)
    ref_t = local_polynomial_rd(x, T, 1.0, p=p, kernel=kernel, weights=w, vce="hc0")
    assert _close(sel.h_treatment, ref_t.bandwidth)
    assert _close(sel.b_treatment, ref_t.bias_bandwidth)


def test_mse_selector_clustered_and_nn():
    x, Q, _, _, cl = _data(n=500, seed=15)
    for kw in ({"cluster": cl, "vce": "hc0"}, {"vce": "nn"}):
        sel = select_bias_bandwidth(x, Q[:, :2], GRID[:2], p=1, kernel="triangular", **kw)
        for j in range(2):
            ref = local_polynomial_rd(x, Q[:, j], p=1, kernel="triangular", **kw)
            assert _close(sel.h[j], ref.bandwidth) and _close(sel.b[j], ref.bias_bandwidth)


def test_imse_selector_integrates_over_the_grid():
    x, Q, _, _, _ = _data(n=500, seed=16)
    one = select_bias_bandwidth(x, Q[:, 2], GRID[2:3], p=1, criterion="imse")
    ref = local_polynomial_rd(x, Q[:, 2], p=1, kernel="epanechnikov", vce="hc0")
    # one column: the integrated criterion is the column's own
    assert _close(one.h[0], ref.bandwidth) and _close(one.b[0], ref.bias_bandwidth)
    sel = select_bias_bandwidth(x, Q, GRID, p=1, criterion="imse")
    per = select_bias_bandwidth(x, Q, GRID, p=1, criterion="mse")
    assert np.all(sel.b == sel.b[0]) and np.all(sel.h == sel.h[0])
    assert per.b.min() <= sel.b[0] <= per.b.max() * 1.5
    # the integrated bandwidth does not depend on the outcome's units
    sel2 = select_bias_bandwidth(x, 10.0 * Q - 3.0, GRID, p=1, criterion="imse")
    np.testing.assert_allclose(sel2.b, sel.b, rtol=1e-10)
    np.testing.assert_allclose(sel2.h, sel.h, rtol=1e-10)


@pytest.mark.parametrize("kernel", ["triangular", "epanechnikov", "uniform"])
def test_rho_one_is_r3ds_default_estimator(kernel):
    """With b = h the robust bias-corrected local linear estimator is the local quadratic
    one, and its HC2 scores are R3D's bootstrap scores: R3D's default (p = s + 1 = 2 at
    the order-1 MSE bandwidth) is CCT's robust bias correction with rho = h / b = 1."""
    from r3d._estimate import estimate_r3d

    x, Q, _, _, _ = _data(seed=17)
    h = np.array([0.5, 0.6, 0.7, 0.6, 0.5])
    conv = estimate_r3d(x, Q, GRID, bandwidth=h, p=2, kernel=kernel, method="simple")
    rbc = estimate_r3d_robust(
        x, Q, GRID, bandwidth=h, bias_bandwidth=h, p=1, kernel=kernel, vce="hc2"
    )
    np.testing.assert_allclose(rbc.plus_raw, conv.plus_raw, rtol=0, atol=1e-12)
    np.testing.assert_allclose(rbc.tau, conv.tau, rtol=0, atol=1e-12)
    scores = conv.weights_plus * conv.resid - conv.weights_minus * conv.resid
    np.testing.assert_allclose(rbc.scores, scores, rtol=0, atol=1e-13)
