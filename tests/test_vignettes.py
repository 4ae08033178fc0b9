"""Every vignette runs end to end (reduced work via ESTKIT_VIGNETTE_FAST=1, Agg backend)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

VIGNETTES = sorted((Path(__file__).resolve().parents[1] / "vignettes").glob("*.py"))


@pytest.mark.parametrize("path", VIGNETTES, ids=[p.stem for p in VIGNETTES])
def test_vignette_runs(path, tmp_path):
    env = {
        **os.environ,
        "ESTKIT_VIGNETTE_FAST": "1",
        "ESTKIT_OUTPUT": str(tmp_path),
        "MPLBACKEND": "Agg",
    }
    proc = subprocess.run(
        [sys.executable, str(path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    pngs = list(tmp_path.glob("**/*.png"))
    assert pngs, f"{path.name} wrote no figure"
