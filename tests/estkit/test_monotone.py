"""Tests of isotonic regression and monotone rearrangement (estkit._monotone)."""

from __future__ import annotations

import numpy as np
import pytest

from estkit._monotone import is_nondecreasing, isotonic_regression, rearrange


def _brute_isotonic(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    # min-max formula: f_j = max_{i<=j} min_{k>=j} weighted mean(y[i..k])
    m = y.size
    out = np.empty(m)
    for j in range(m):
        out[j] = max(
            min(np.average(y[i : k + 1], weights=w[i : k + 1]) for k in range(j, m))
            for i in range(j + 1)
        )
    return out


def test_isotonic_known_cases() -> None:
    np.testing.assert_allclose(isotonic_regression([1.0, 3, 2, 4, 5]), [1, 2.5, 2.5, 4, 5])
    np.testing.assert_allclose(isotonic_regression([5.0, 3, 4, 1, 2, 6]), [3, 3, 3, 3, 3, 6])
    np.testing.assert_allclose(isotonic_regression([3.0, 3, 3]), [3, 3, 3])
    np.testing.assert_allclose(isotonic_regression([2.0, 1.0], [3.0, 1.0]), [1.75, 1.75])


def test_isotonic_matches_brute_force_and_is_batched() -> None:
    rng = np.random.default_rng(3)
    Y = rng.normal(size=(25, 9)).cumsum(axis=1) * rng.choice([-1, 1], size=(25, 1))
    W = rng.uniform(0.5, 2.0, size=9)
    out = isotonic_regression(Y, W)
    assert np.all(is_nondecreasing(out))
    for r in range(Y.shape[0]):
        np.testing.assert_allclose(out[r], _brute_isotonic(Y[r], W), rtol=1e-12)
    # projection property: weighted mean is preserved
    np.testing.assert_allclose(out @ W, Y @ W, rtol=1e-10)


def test_isotonic_rejects_bad_weights() -> None:
    with pytest.raises(ValueError, match="weights"):
        isotonic_regression([1.0, 0.0], [1.0, 0.0])


def test_rearrange_sort_and_r_method() -> None:
    y = np.array([[3.0, 1.0, 2.0], [0.0, 1.0, 2.0]])
    np.testing.assert_array_equal(rearrange(y), np.sort(y, axis=1))
    g = np.array([0.2, 0.4, 0.6])
    # a linear increasing curve is (numerically) unchanged by the R-style rearrangement
    np.testing.assert_allclose(rearrange(y[1], g, method="R"), y[1], atol=1e-12)
    r = rearrange(np.array([1.0, 3.0, 2.0, 4.0]), np.arange(4.0), method="R")
    assert np.all(np.diff(r) >= 0)
    assert r[0] == 1.0 and r[-1] == 4.0
    with pytest.raises(ValueError, match="grid"):
        rearrange(y[0], np.array([0.3, 0.2, 0.1]), method="R")


def test_isotonic_matches_r_isoreg(reference_csv) -> None:
    ref = reference_csv("ref_isotonic.csv")
    for _, g in ref.groupby("case", sort=False):
        g = g.sort_values("idx")
        np.testing.assert_allclose(
            isotonic_regression(g["input"].to_numpy(float)), g["output"].to_numpy(), rtol=1e-12
        )
