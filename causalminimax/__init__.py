"""causalminimax: causal minimax stable-subset learning (Liu et al., ICML 2023)."""

from __future__ import annotations

__version__ = "0.1.0"

__all__: list[str] = []
