import numpy as np
import pytest
from scipy import integrate

from estkit import get_kernel, kernel_names

COMPACT = ["triangular", "epanechnikov", "uniform"]


@pytest.mark.parametrize("name", kernel_names())
def test_integrates_to_one_and_is_symmetric(name):
    k = get_kernel(name)
    assert k.moment(0) == pytest.approx(1.0, abs=1e-14)
    assert k.moment(1) == pytest.approx(0.0, abs=1e-14)
    u = np.linspace(-3, 3, 101)
    np.testing.assert_array_equal(k(u), k(-u))


@pytest.mark.parametrize("name", kernel_names())
@pytest.mark.parametrize("k_pow", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("power", [1, 2])
@pytest.mark.parametrize("limits", [(0.0, np.inf), (-np.inf, 0.0), (-0.3, 0.7)])
def test_moments_match_quadrature(name, k_pow, power, limits):
    k = get_kernel(name)
    lo, hi = limits
    if k.compact:
        lo, hi = max(lo, -1.0), min(hi, 1.0)
    pts = [0.0] if lo < 0 < hi else None
    num = integrate.quad(lambda u: u**k_pow * k(u) ** power, lo, hi, points=pts, epsabs=1e-13)[0]
    assert k.moment(k_pow, power=power, lower=limits[0], upper=limits[1]) == pytest.approx(
        num, abs=1e-11
    )


def test_known_constants():
    # textbook constants: variances and roughness
    assert get_kernel("triangular").moment(2) == pytest.approx(1 / 6, abs=1e-15)
    assert get_kernel("epanechnikov").moment(2) == pytest.approx(1 / 5, abs=1e-15)
    assert get_kernel("uniform").moment(2) == pytest.approx(1 / 3, abs=1e-15)
    assert get_kernel("epanechnikov").moment(0, power=2) == pytest.approx(3 / 5, abs=1e-15)
    assert get_kernel("gaussian").moment(0, power=2) == pytest.approx(
        1 / (2 * np.sqrt(np.pi)), abs=1e-15
    )


def test_support_boundary_included():
    for name in COMPACT:
        k = get_kernel(name)
        assert k(1.0) == k(-1.0)
        assert k(1.0 + 1e-12) == 0.0
    assert get_kernel("uniform")(1.0) == 0.5


def test_moment_matrix_one_sided():
    k = get_kernel("triangular")
    g = k.moment_matrix(2)
    assert g.shape == (3, 3)
    np.testing.assert_allclose(g[0, 0], 0.5)
    np.testing.assert_allclose(g, g.T)
    gm = k.moment_matrix(2, side="minus")
    # odd moments flip sign on the left
    np.testing.assert_allclose(gm, g * np.array([[1, -1, 1], [-1, 1, -1], [1, -1, 1]]))


def test_bad_kernel_name():
    with pytest.raises(ValueError, match="`kernel` must be one of"):
        get_kernel("box")
