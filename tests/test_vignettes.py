"""Every vignette runs end to end, once, through this one harness (marker ``vignette``).

Fast mode (``ESTKIT_VIGNETTE_FAST=1``), Agg backend, figures written to a temporary
``ESTKIT_OUTPUT``. Each vignette runs in-process under the suite's warning filters (warnings
are errors), and its namespace is handed to a per-vignette check of what it claims.
Run them with ``python -m pytest -m vignette``.
"""

from __future__ import annotations

import os
import runpy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

VIGNETTES = sorted((Path(__file__).resolve().parents[1] / "vignettes").glob("*.py"))


def _check_causalminimax(ns: dict[str, Any], out: Path) -> None:
    assert (out / "causalminimax_estimated_vs_observed.png").exists()
    table = ns["table"]  # the vignette also raises on these (so a plain run checks them)
    assert np.all(np.isfinite(table.loc[ns["main"]].to_numpy()))
    assert table.loc["causal minimax", "simulation"] < table.loc["whole stable set", "simulation"]
    assert np.isclose(table.loc["constant 0", "simulation"], 1.0)


def _check_irl(ns: dict[str, Any], out: Path) -> None:
    written = sorted(p.name for p in out.glob("*.png"))
    assert written == [
        "irl_error_vs_gamma.png",
        "irl_error_vs_temperature.png",
        "irl_error_vs_transition.png",
        "irl_estimate.png",
        "irl_gridworld_misspecification.png",
        "irl_gridworld_reward.png",
        "irl_separation_probe.png",
    ]


CHECKS: dict[str, Callable[[dict[str, Any], Path], None]] = {
    "causalminimax_transfer": _check_causalminimax,
    "irl_sensitivity": _check_irl,
}


@pytest.mark.vignette
@pytest.mark.parametrize("path", VIGNETTES, ids=[p.stem for p in VIGNETTES])
def test_vignette_runs(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.setenv("ESTKIT_VIGNETTE_FAST", "1")
    monkeypatch.setenv("ESTKIT_OUTPUT", str(tmp_path))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.chdir(tmp_path)
    try:
        ns = runpy.run_path(str(path), run_name="__main__")
    finally:
        plt.close("all")
    assert list(tmp_path.glob("**/*.png")), f"{path.name} wrote no figure"
    CHECKS.get(path.stem, lambda ns, out: None)(ns, tmp_path)


def test_every_vignette_is_collected() -> None:
    names = {p.stem for p in VIGNETTES}
    assert {"gubernatorial", "r3d_quickstart", "causalminimax_transfer"} <= names
    assert set(CHECKS) <= names
    assert all(os.access(p, os.R_OK) for p in VIGNETTES)
