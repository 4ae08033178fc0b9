"""Bandwidths given as one-element sequences, booleans hidden in sequences and non-real
values: R3D.fit and estkit's bandwidth door; booleans as the values of a misspecification
sweep (final review of the session, revF)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from estkit._validation import check_bandwidth, holds_bool
from r3d import R3D
from r3d.simulate import simulate_dgp1

Q3 = [0.25, 0.5, 0.75]


@pytest.fixture(scope="module")
def sim():
    return simulate_dgp1(n=300, n_draws=30, delta=2.0, rng=0)


def _fit(sim, bandwidth, method="simple"):
    return R3D(quantiles=Q3, method=method, bandwidth=bandwidth, n_bootstrap=0).fit(sim.x, sim.y)


@pytest.mark.parametrize("one", [[0.5], np.array([0.5]), pd.Series([0.5]), (0.5,)])
def test_r3d_one_element_bandwidth_is_the_scalar(sim, one):
    # a one-element sequence is read as its value (it raised numpy's "only 0-dimensional
    # arrays can be converted to Python scalars")
    a, b = _fit(sim, 0.5), _fit(sim, one)
    np.testing.assert_array_equal(b.bandwidth_, np.full(3, 0.5))
    assert a.tau_.tobytes() == b.tau_.tobytes()


@pytest.mark.parametrize(
    "bad",
    [[True], pd.Series([True]), [0.5, True, 0.5], np.array([0.5, True, 0.5], dtype=object), 1j],
    ids=["list", "series", "mixed-list", "mixed-object-array", "complex"],
)
def test_r3d_bandwidth_booleans_and_non_reals_refused(sim, bad):
    with pytest.raises(TypeError, match=r"`bandwidth` must be a number or one number per quantile"):
        _fit(sim, bad)


@pytest.mark.parametrize("bad", [[True], [0.5, True, 0.5], pd.Series([True, False, True])])
def test_check_bandwidth_refuses_booleans_in_sequences(bad):
    with pytest.raises(TypeError, match="`h` must be a positive number or one positive number"):
        check_bandwidth(bad, 3, "h")


def test_holds_bool():
    assert holds_bool(np.True_) and holds_bool([[0.5], [True]])
    assert not holds_bool(np.arange(3.0)) and not holds_bool(None) and not holds_bool(b"1")


@pytest.mark.parametrize("values", [[True], [1.0, True], np.array([True, False]), True])
def test_misspecification_sweep_refuses_boolean_values(values):
    # a boolean is no parameter value (it ran the sweep at beta = 1)
    import irl_sensitivity as irl

    mdp, R = irl.example_problem(3, 2, reward_rng=1)
    model = irl.BoltzmannModel(beta=1.0)
    with pytest.raises(TypeError, match="`values` must be a non-empty sequence of numbers"):
        irl.misspecification_sweep(mdp, R, model, model, "beta", values, rng=0)
