"""Tests of the boundary local polynomial core (estkit._locpoly)."""

from __future__ import annotations

import numpy as np
import pytest

from estkit._locpoly import locpoly_boundary, polynomial_basis
from estkit.exceptions import EstimationError

KERNELS = ["triangular", "epanechnikov", "uniform", "gaussian"]


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(42)
    x = rng.uniform(-1, 1, 300)
    Y = rng.normal(size=(300, 4)) + x[:, None]
    return x, Y


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("side", ["plus", "minus"])
@pytest.mark.parametrize("p", [0, 1, 2, 3])
def test_polynomials_of_degree_le_p_are_reproduced(kernel: str, side: str, p: int) -> None:
    rng = np.random.default_rng(p)
    x = rng.uniform(-1, 1, 200)
    c, h = 0.1, 0.6
    coefs = rng.normal(size=(p + 1, 3))  # in the scaled basis
    Y = polynomial_basis((x - c) / h, p) @ coefs
    fit = locpoly_boundary(x, Y, c, h, p, kernel, side)
    np.testing.assert_allclose(fit.coef, coefs, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(fit.resid, 0.0, atol=1e-9)


@pytest.mark.parametrize("kernel", KERNELS)
def test_weights_sum_to_one_and_kill_higher_moments(kernel: str, data) -> None:
    x, Y = data
    h = np.array([0.3, 0.5, 0.7, 1.1])
    for side in ("plus", "minus"):
        fit = locpoly_boundary(x, Y, 0.0, h, 2, kernel, side)
        np.testing.assert_allclose(fit.weights.sum(axis=0), 1.0, atol=1e-12)
        u = x[:, None] / h[None, :]
        for k in (1, 2):
            np.testing.assert_allclose((fit.weights * u**k).sum(axis=0), 0.0, atol=1e-11)
        np.testing.assert_allclose(fit.coef[0], (fit.weights * Y).sum(axis=0), rtol=1e-12)
        # weights vanish off-side and outside the window
        off = (x < 0) if side == "plus" else (x >= 0)
        assert np.all(fit.weights[off] == 0)
        if kernel != "gaussian":
            assert np.all(fit.weights[np.abs(x)[:, None] > h[None, :]] == 0)


def test_common_and_per_column_bandwidths_agree(data) -> None:
    x, Y = data
    a = locpoly_boundary(x, Y, 0.0, 0.5, 2, "epanechnikov", "plus")
    b = locpoly_boundary(
        x, Y, 0.0, np.array([0.5, 0.5, 0.5, 0.5 + 1e-300]), 2, "epanechnikov", "plus"
    )
    for name in ("coef", "weights", "fitted", "resid", "leverage"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-12, atol=1e-14)


def test_leverage_trace_equals_number_of_parameters(data) -> None:
    x, Y = data
    for p in (1, 2, 3):
        fit = locpoly_boundary(x, Y, 0.0, [0.4, 0.6, 0.8, 1.0], p, "triangular", "minus")
        np.testing.assert_allclose(fit.leverage.sum(axis=0), p + 1, rtol=1e-10)
        assert np.all(fit.leverage[fit.in_window] < 1)
        np.testing.assert_array_equal(fit.n_eff, fit.in_window.sum(axis=0))


def test_cutoff_unit_belongs_to_plus_side() -> None:
    x = np.array([-0.2, -0.1, 0.0, 0.1, 0.2, 0.3])
    fit = locpoly_boundary(x, x, 0.0, 1.0, 1, "uniform", "plus")
    assert fit.in_window[2, 0] and not fit.in_window[1, 0]


def test_underidentified_window_raises_informative_error() -> None:
    x = np.array([-0.9, -0.5, 0.05, 0.1, 0.8])
    with pytest.raises(EstimationError, match=r"2 unit\(s\) at or above .* 0 below") as e:
        locpoly_boundary(x, np.ones((5, 2)), 0.0, [0.2, 1.0], 2, "triangular", "plus")
    assert "column 0" in str(e.value) and "h = 0.2" in str(e.value)
    assert isinstance(e.value, ValueError)


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="side"):
        locpoly_boundary(np.zeros(3), np.zeros(3), 0.0, 1.0, 1, "uniform", "left")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="positive"):
        locpoly_boundary(np.zeros(3), np.zeros(3), 0.0, -1.0, 1, "uniform", "plus")


@pytest.mark.parametrize("kernel", ["triangular", "epanechnikov", "uniform"])
@pytest.mark.parametrize("side", ["plus", "minus"])
def test_matches_r3d_fortran(reference_csv, kernel: str, side: str) -> None:
    d = reference_csv("ref_data_sharp_simple_20.csv")
    Q = d.filter(regex=r"^Q\d+$").to_numpy()
    h = reference_csv(f"ref_locpoly_bw_{kernel}.csv")["h"].to_numpy()
    fit = locpoly_boundary(d["X"].to_numpy(), Q, 0.0, h, 2, kernel, side)
    A = reference_csv(f"ref_locpoly_alpha_{side}_{kernel}.csv").to_numpy()
    W = reference_csv(f"ref_locpoly_w_{side}_{kernel}.csv").to_numpy()
    # 1e-10 relative to each coefficient row's scale (the CSVs carry 15 digits)
    scale = np.abs(A).max(axis=1, keepdims=True)
    assert np.max(np.abs(fit.coef - A) / scale) < 1e-10
    assert np.max(np.abs(fit.weights - W)) / np.abs(W).max() < 1e-10
