"""Data sets of the causal minimax paper: the simulation and the IMPC hematology data."""

from __future__ import annotations

from causalminimax.datasets._impc import IMPC_COLUMNS, impc_graph, load_impc
from causalminimax.datasets._simulation import simulate_paper, simulation_graph

__all__ = ["IMPC_COLUMNS", "impc_graph", "load_impc", "simulate_paper", "simulation_graph"]
