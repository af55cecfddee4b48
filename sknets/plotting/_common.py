"""matplotlib, imported only when something is drawn, and the axes to draw on."""

import numpy as np


def _pyplot():
    """matplotlib.pyplot, or an ImportError saying how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "Plotting with sknets needs matplotlib, which is not installed. "
            "Install it with: pip install matplotlib (or, in a clone of "
            "sknets, pip install \".[plot]\")."
        ) from exc
    return plt


def _axes(ax, n, figsize):
    """``n`` axes: the given ones (one per panel), or a new row of them."""
    if ax is None:
        _, axes = _pyplot().subplots(1, n, figsize=figsize, squeeze=False,
                                     constrained_layout=True)
        return list(axes[0])
    axes = list(np.ravel(ax))
    if len(axes) != n:
        raise ValueError(f"Expected {n} axes (one per panel), got {len(axes)}.")
    return axes


def _one_axes(ax, figsize):
    """The given axes, or those of a new figure."""
    if ax is None:
        _, ax = _pyplot().subplots(figsize=figsize, constrained_layout=True)
    return ax
