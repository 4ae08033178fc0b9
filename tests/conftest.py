"""Paths and shared fixtures of the test suite.

The R3D reference outputs (MIT, from the R package R3D; provenance and licence in
``tests/r3d/reference/README.md``) live in the repository, so every clone checks parity.
Raw public data stay outside it, in ``../shared/data``; tests that rebuild the bundled tables
from them skip cleanly when that folder is absent.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
R3D_REFERENCE = REPO / "tests" / "r3d" / "reference"
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository's root folder."""
    return REPO


@pytest.fixture(scope="session")
def r3d_reference() -> Path:
    """Folder of the R3D reference CSVs (R3D commit 28744db)."""
    return R3D_REFERENCE


@cache
def _read_reference(name: str) -> pd.DataFrame:
    return pd.read_csv(R3D_REFERENCE / name)


@pytest.fixture(scope="session")
def reference_csv() -> Callable[[str], pd.DataFrame]:
    """Read one R3D reference CSV by file name (parsed once per session, returned as a copy)."""
    return lambda name: _read_reference(name).copy()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (raw public data); the test is skipped when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("raw public data (../shared/data) not available")
    return SHARED_DATA
