"""irl_sensitivity: sensitivity of inverse reinforcement learning to misspecification."""

from __future__ import annotations

__version__ = "0.1.0"

__all__: list[str] = []
