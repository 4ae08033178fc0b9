"""The vignette runs end to end (fast mode, Agg backend) and writes its figures."""

from __future__ import annotations

import runpy
from pathlib import Path

VIGNETTE = Path(__file__).resolve().parents[2] / "vignettes" / "irl_sensitivity.py"


def test_vignette_runs(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.setenv("ESTKIT_OUTPUT", str(tmp_path))
    monkeypatch.setenv("ESTKIT_VIGNETTE_FAST", "1")
    runpy.run_path(str(VIGNETTE), run_name="__main__")
    written = sorted(p.name for p in tmp_path.glob("*.png"))
    assert written == [
        "irl_error_vs_gamma.png",
        "irl_error_vs_temperature.png",
        "irl_error_vs_transition.png",
        "irl_estimate.png",
        "irl_gridworld_misspecification.png",
        "irl_gridworld_reward.png",
        "irl_separation_probe.png",
    ]
