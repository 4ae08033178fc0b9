"""The streamed multiplier bootstrap of a fit (issue 17, fit time at 1e6 units): drawn
multipliers give the draws of the plain reference, the fit with the same multipliers drawn
up front by ``estkit.draw_multipliers`` (one ``xi.T @ scores`` product), for sharp and
fuzzy designs, sampling weights, clusters, every multiplier kind and the robust
bias-corrected bootstrap, whatever the number of threads."""

from itertools import pairwise

import numpy as np
import pytest

import estkit._bootstrap as eb
from estkit import draw_multipliers
from r3d import R3D
from r3d.simulate import simulate_dgp1

B = 130  # three random streams, the last one short
GRID = np.arange(5, 100, 5) / 100


@pytest.fixture(scope="module")
def sim():
    return simulate_dgp1(n=300, n_draws=30, delta=2.0, rng=8)


def _samples_and_weights(sim):
    off = sim.y.offsets
    samples = [sim.y.values[a:b] for a, b in pairwise(off)]
    rng = np.random.default_rng(2)
    return samples, [rng.uniform(0.5, 2.0, s.size) for s in samples]


def _treatment(x):
    u = np.random.default_rng(7).uniform(size=x.size)
    return np.where(x >= 0, u < 0.85, u < 0.15).astype(float)


def _fit(sim, *, kind, fuzzy, weighted, cluster, bias, multipliers=None, budget=None):
    samples, w = _samples_and_weights(sim)
    # bandwidths fixed: with clusters the selectors (and so the scores) would change when
    # the reference passes cluster-level multipliers instead of `cluster` (a fuzzy design's
    # first-stage bias bandwidth is always selected: no clustered bias-corrected fuzzy case)
    est = R3D(
        quantiles=GRID,
        bandwidth=0.6,
        bandwidth_treatment=0.7 if fuzzy else None,
        bias_bandwidth=0.9 if bias else None,
        n_bootstrap=B,
        random_state=11,
        multiplier=kind,
        bias_correction="robust" if bias else None,
        memory_budget=budget,
    )
    return est.fit(
        sim.x,
        samples,
        treatment=_treatment(sim.x) if fuzzy else None,
        weights=w if weighted else None,
        cluster=None if multipliers is not None else cluster,
        multipliers=multipliers,
    )


CASES = [
    # kind, fuzzy, weighted, clustered, bias-corrected
    ("gaussian", False, False, False, False),
    ("gaussian", True, False, False, False),
    ("gaussian", False, True, False, False),
    ("gaussian", True, True, True, False),
    ("gaussian", False, False, False, True),
    ("gaussian", True, True, False, True),
    ("gaussian", False, True, True, True),
    ("mammen", False, True, False, False),
    ("mammen", False, False, True, True),
    ("rademacher", False, False, True, False),
]


@pytest.mark.parametrize(("kind", "fuzzy", "weighted", "clustered", "bias"), CASES)
def test_drawn_multipliers_give_the_reference_draws(sim, kind, fuzzy, weighted, clustered, bias):
    cl = np.arange(sim.x.size) // 3 if clustered else None
    got = _fit(sim, kind=kind, fuzzy=fuzzy, weighted=weighted, cluster=cl, bias=bias)
    xi = draw_multipliers(sim.x.size, B, kind, cluster=cl, rng=11)
    ref = _fit(
        sim,
        kind=kind,
        fuzzy=fuzzy,
        weighted=weighted,
        cluster=None,
        bias=bias,
        **{"multipliers": xi},
    )
    a, b = got.results_._inference.draws, ref.results_._inference.draws
    assert a.shape == (B, GRID.size)
    scale = np.abs(b).max()
    assert scale > 0
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13 * scale)
    np.testing.assert_array_equal(got.tau_, ref.tau_)
    np.testing.assert_allclose(
        got.band_.to_numpy(), ref.band_.to_numpy(), rtol=1e-12, atol=1e-13 * scale
    )
    assert got.critical_value_ == pytest.approx(ref.critical_value_, rel=1e-12)


@pytest.mark.parametrize("kind", ["gaussian", "mammen"])
@pytest.mark.parametrize("budget", [None, 4096])
def test_fit_draws_do_not_depend_on_the_number_of_threads(sim, kind, budget, monkeypatch):
    # 4096 bytes: blocks of two draws, many more blocks than threads (blocks reused)
    fits = []
    for threads in (2, 3, 8):
        monkeypatch.setattr(eb, "_n_threads", lambda t=threads: t)
        fits.append(
            _fit(sim, kind=kind, fuzzy=True, weighted=True, cluster=None, bias=False, budget=budget)
        )
    draws = [f.results_._inference.draws for f in fits]
    for d in draws[1:]:
        np.testing.assert_array_equal(d, draws[0])
    xi = draw_multipliers(sim.x.size, B, kind, rng=11)
    ref = _fit(sim, kind=kind, fuzzy=True, weighted=True, cluster=None, bias=False, multipliers=xi)
    want = ref.results_._inference.draws
    np.testing.assert_allclose(draws[0], want, rtol=1e-12, atol=1e-13 * np.abs(want).max())
