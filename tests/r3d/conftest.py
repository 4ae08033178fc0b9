"""Fixtures shared by the r3d tests (figures are drawn off screen)."""

from __future__ import annotations

import matplotlib
import pytest

from r3d.simulate import SimulatedRD, simulate_normal

matplotlib.use("Agg")


@pytest.fixture(scope="session")
def sharp() -> SimulatedRD:
    """A sharp design with a constant effect of 2: 300 units of 40 draws (seed 11)."""
    return simulate_normal(n=300, n_draws=40, effect=2.0, rng=11)
