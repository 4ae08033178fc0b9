"""Plot helpers; matplotlib is imported only when a plot is drawn."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["get_axes", "plot_band"]


def get_axes(ax: Any = None, figsize: tuple[float, float] = (6.4, 4.0)) -> Any:
    """Return ``ax`` or a new Axes on a new figure (matplotlib imported lazily)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize)
    return ax


def plot_band(
    grid: np.ndarray,
    estimate: np.ndarray,
    lower: np.ndarray | None = None,
    upper: np.ndarray | None = None,
    *,
    ax: Any = None,
    label: str = "estimate",
    band_label: str = "uniform band",
    color: str = "C0",
    zero_line: bool = True,
    xlabel: str = "",
    ylabel: str = "",
    title: str = "",
) -> Any:
    """Plot a curve with an optional shaded band; return the Axes."""
    ax = get_axes(ax)
    if lower is not None and upper is not None:
        ax.fill_between(grid, lower, upper, color=color, alpha=0.25, linewidth=0, label=band_label)
    ax.plot(grid, estimate, color=color, lw=2, label=label)
    if zero_line:
        ax.axhline(0.0, color="0.3", lw=0.8, ls="--")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(frameon=False)
    return ax
