import numpy as np
import pytest

from estkit import local_polynomial_rd


def _data(seed, n=800):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, n)
    y = 1 + x + 0.3 * x**2 + 0.5 * (x >= 0) + rng.normal(0, 0.3, n)
    return x, y


def test_estimate_and_calibration():
    z = []
    for seed in range(150):
        x, y = _data(seed)
        r = local_polynomial_rd(x, y)
        z.append((r.estimate - 0.5) / r.std_error)
    z = np.asarray(z)
    assert abs(z.mean()) < 0.3
    assert 0.85 < z.std() < 1.2
    assert 0.0 <= np.mean(np.abs(z) > 1.96) < 0.12


def test_summary_and_clusters():
    x, y = _data(0)
    r = local_polynomial_rd(x, y, cluster=(x * 20).astype(int), alpha=0.1)
    text = str(r)
    assert "Conventional" in text and "90% lower" in text and "Clusters" in text
    assert r.n_clusters == 39  # truncation toward zero: labels -19..19
    lo, hi = r.conf_int
    assert lo < r.estimate < hi


def test_bad_input():
    x, y = _data(1)
    with pytest.raises(ValueError, match="single cluster"):
        local_polynomial_rd(x, y, cluster=np.zeros_like(x))
    with pytest.raises(ValueError, match="`bandwidth` must be finite and positive"):
        local_polynomial_rd(x, y, bandwidth=-1.0)
    with pytest.raises(ValueError, match="`y` has"):
        local_polynomial_rd(x, y[:-1])
