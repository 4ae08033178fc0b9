"""The planning functions check their inputs at the door and say when they stop early."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import irl_sensitivity as irl

MDP = irl.random_mdp(4, 2, gamma=0.9, rng=0)
R = np.random.default_rng(1).normal(size=(4, 2))


@pytest.mark.parametrize(
    ("call", "exc", "fragment"),
    [
        (lambda: irl.value_iteration(MDP, R, tol=float("nan")), ValueError, "`tol`"),
        (lambda: irl.value_iteration(MDP, R, tol=-1.0), ValueError, "`tol`"),
        (lambda: irl.value_iteration(MDP, R, max_iter=0), ValueError, "`max_iter`"),
        (lambda: irl.value_iteration(MDP, R, max_iter=True), TypeError, "`max_iter`"),
        (lambda: irl.soft_value_iteration(MDP, R, tol=float("nan")), ValueError, "`tol`"),
        (
            lambda: irl.soft_value_iteration(MDP, R, method="iterate", max_iter=0),
            ValueError,
            "`max_iter`",
        ),
        (lambda: irl.soft_value_iteration(MDP, R, temperature=1e-310), ValueError, "too small"),
        (lambda: irl.soft_value_iteration(MDP, R, temperature="1"), TypeError, "`temperature`"),
        (lambda: irl.optimal_values("x", R), TypeError, "`mdp` must be a TabularMDP"),
        (lambda: irl.value_iteration(None, R), TypeError, "`mdp` must be a TabularMDP"),
    ],
)
def test_planning_door(call, exc, fragment):
    with pytest.raises(exc, match=fragment):
        call()


def test_unconverged_iteration_warns_in_our_words():
    with pytest.warns(ConvergenceWarning, match="did not converge in max_iter = 2"):
        v, _ = irl.value_iteration(MDP, R, max_iter=2)
    assert np.all(np.isfinite(v))
    with pytest.warns(ConvergenceWarning, match="soft_value_iteration did not converge"):
        irl.soft_value_iteration(MDP, R, method="iterate", max_iter=3)


def test_small_but_representable_temperature_matches_the_optimal_limit():
    v_soft, _, pi = irl.soft_value_iteration(MDP, R, temperature=1e-200)
    v_opt, q_opt = irl.optimal_values(MDP, R)
    np.testing.assert_allclose(v_soft, v_opt, rtol=1e-10)
    np.testing.assert_array_equal(pi.argmax(axis=1), q_opt.argmax(axis=1))
