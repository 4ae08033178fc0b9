"""Property-based tests (hypothesis) of the invariances of the R3D estimator.

For every drawn sample (continuous running variable, so no unit sits exactly at the
cutoff) and both methods:

* permuting the units leaves the estimate unchanged;
* adding ``c`` to every outcome leaves ``tau`` unchanged and shifts both boundary curves by
  ``c``;
* multiplying every outcome by ``k > 0`` multiplies ``tau`` by ``k``;
* reflecting ``x`` around the cutoff negates ``tau`` (sharp design);
* the uniform band and the pointwise intervals contain the estimate.

Bandwidths are selected from the data in every case, so the invariances also cover the
selector (it is location-, scale- and reflection-invariant by construction).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from r3d import R3D

Q = [0.1, 0.25, 0.5, 0.75, 0.9]
SETTINGS = settings(max_examples=25, deadline=None, derandomize=True)

seeds = st.integers(0, 2**32 - 1)
sizes = st.integers(80, 160)
methods = st.sampled_from(["frechet", "simple"])
compats = st.sampled_from([None, "R"])


def _sample(seed: int, n: int, cutoff: float = 0.0):
    """Continuous x around ``cutoff`` with a curved conditional mean and a jump."""
    g = np.random.default_rng(seed)
    x = cutoff + g.uniform(-1.0, 1.0, n)
    u = x - cutoff
    mu = 1.0 + u + 0.8 * u**2 + 0.7 * (u >= 0) + g.normal(0.0, 0.5, n)
    sd = 0.5 + 0.5 * g.random(n)
    y = mu[:, None] + sd[:, None] * g.standard_normal((n, 20))
    return x, y


def _fit(x, y, method, compat=None, cutoff=0.0, n_bootstrap=0, **kw):
    return R3D(
        method=method,
        quantiles=Q,
        cutoff=cutoff,
        compat=compat,
        n_bootstrap=n_bootstrap,
        random_state=0,
        **kw,
    ).fit(x, y)


def _close(a, b, scale=1.0):
    np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9 * max(1.0, abs(scale)))


@SETTINGS
@given(seed=seeds, n=sizes, method=methods, compat=compats)
def test_permutation_invariance(seed, n, method, compat):
    x, y = _sample(seed, n)
    perm = np.random.default_rng(seed + 1).permutation(n)
    a = _fit(x, y, method, compat)
    b = _fit(x[perm], y[perm], method, compat)
    _close(a.tau_, b.tau_)
    _close(a.bandwidth_, b.bandwidth_)
    _close(a.quantile_function_plus_, b.quantile_function_plus_)


@SETTINGS
@given(seed=seeds, n=sizes, method=methods, compat=compats, c=st.floats(-50.0, 50.0))
def test_location_shift(seed, n, method, compat, c):
    x, y = _sample(seed, n)
    a = _fit(x, y, method, compat)
    b = _fit(x, y + c, method, compat)
    _close(b.tau_, a.tau_, scale=c)
    _close(b.quantile_function_plus_, a.quantile_function_plus_ + c, scale=c)
    _close(b.quantile_function_minus_, a.quantile_function_minus_ + c, scale=c)


@SETTINGS
@given(seed=seeds, n=sizes, method=methods, compat=compats, k=st.floats(0.1, 10.0))
def test_scale_equivariance(seed, n, method, compat, k):
    x, y = _sample(seed, n)
    a = _fit(x, y, method, compat)
    b = _fit(x, k * y, method, compat)
    _close(b.bandwidth_, a.bandwidth_)
    _close(b.tau_, k * a.tau_, scale=k)


@SETTINGS
@given(seed=seeds, n=sizes, method=methods, cutoff=st.floats(-3.0, 3.0))
def test_reflection_negates_tau(seed, n, method, cutoff):
    # default mode: exact kernel constants are symmetric, so the selected bandwidths are
    # reflection-invariant too; continuous x, so no unit sits at the cutoff
    x, y = _sample(seed, n, cutoff)
    a = _fit(x, y, method, cutoff=cutoff)
    b = _fit(2.0 * cutoff - x, y, method, cutoff=cutoff)
    _close(b.bandwidth_, a.bandwidth_)
    _close(b.tau_, -a.tau_)
    _close(b.quantile_function_plus_, a.quantile_function_minus_)


@SETTINGS
@given(seed=seeds, n=sizes, method=methods, h=st.floats(0.4, 1.0))
def test_reflection_negates_tau_fixed_bandwidth_compat(seed, n, method, h):
    # R mode selects bandwidths with asymmetric Riemann-sum constants; with a given
    # bandwidth the estimate itself is reflection-equivariant
    x, y = _sample(seed, n)
    a = _fit(x, y, method, compat="R", bandwidth=h)
    b = _fit(-x, y, method, compat="R", bandwidth=h)
    _close(b.tau_, -a.tau_)


@SETTINGS
@given(seed=seeds, n=sizes, method=methods, compat=compats, studentize=st.booleans())
def test_bands_contain_estimate(seed, n, method, compat, studentize):
    x, y = _sample(seed, n)
    est = _fit(x, y, method, compat, n_bootstrap=99, studentize=studentize)
    band, pw = est.band_, est.pointwise_band_
    assert np.all(band["lower"].to_numpy() <= est.tau_)
    assert np.all(est.tau_ <= band["upper"].to_numpy())
    assert np.all(pw["lower"].to_numpy() <= est.tau_)
    assert np.all(est.tau_ <= pw["upper"].to_numpy())
    if not studentize:
        # pointwise intervals are never wider than the constant-width uniform band
        width = (band["upper"] - band["lower"]).to_numpy()
        assert np.all((pw["upper"] - pw["lower"]).to_numpy() <= width + 1e-12)


@pytest.mark.parametrize("method", ["frechet", "simple"])
def test_pointwise_band_attribute(method):
    x, y = _sample(3, 200)
    est = _fit(x, y, method, n_bootstrap=199)
    pw = est.pointwise_band_
    assert list(pw.columns) == ["lower", "upper"]
    assert pw.index.tolist() == Q
    assert _fit(x, y, method).pointwise_band_ is None
