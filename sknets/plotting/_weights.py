"""First-layer weights drawn as image tiles."""

import math

import numpy as np

from ..diagnostics._estimator import _fitted_final_step
from ._common import _one_axes


def _infer_image_shape(n_features, image_shape):
    """``(height, width)``: the given shape, checked, or a square one."""
    if image_shape is not None:
        image_shape = tuple(int(s) for s in image_shape)
        if math.prod(image_shape) != n_features or len(image_shape) != 2:
            raise ValueError(
                f"image_shape={image_shape} does not hold the {n_features} "
                "input features as a 2-d image (height, width)."
            )
        return image_shape
    side = math.isqrt(n_features)
    if side * side != n_features:
        raise ValueError(
            f"Cannot infer the image shape of {n_features} input features (not "
            "a square number); pass image_shape=(height, width)."
        )
    return side, side


class WeightTilesDisplay:
    """First-layer weights as image tiles, one tile per hidden unit.

    Each tile shows the weights from every input pixel into one unit,
    reshaped to the image, on a symmetric colour scale of its own (mid-grey
    is 0 with the default colour map), so that each unit's pattern is
    visible whatever its norm. Filters that look like noise after training
    suggest too high a learning rate or too few epochs; identical tiles, a
    symmetric initialisation.

    Parameters
    ----------
    weights : ndarray of shape (n_features, n_units)
        The first layer's weight matrix (``coefs_[0]``).
    image_shape : tuple of (int, int), default=None
        Height and width of an input image; None: square.

    Attributes
    ----------
    images_ : list of matplotlib AxesImage
        One per tile drawn.
    ax_ : matplotlib Axes
        The axes they are drawn on.
    figure_ : matplotlib Figure
        Its figure.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sknets.plotting import WeightTilesDisplay
    >>> W = np.random.default_rng(0).normal(size=(12, 5))
    >>> display = WeightTilesDisplay(W, image_shape=(3, 4)).plot()
    >>> len(display.images_)
    5
    """

    def __init__(self, weights, *, image_shape=None):
        self.weights = weights
        self.image_shape = image_shape

    @classmethod
    def from_estimator(cls, estimator, *, image_shape=None, max_tiles=64,
                       n_cols=None, cmap="gray", ax=None):
        """Draw the first-layer weights of a fitted network.

        Parameters
        ----------
        estimator : estimator or Pipeline
            A fitted sknets network estimator (MLP, autoencoder or
            pre-trained), or a pipeline ending in one.
        image_shape : tuple of (int, int), default=None
            Height and width of an input image; None: inferred when the
            number of features is a square.
        max_tiles : int, default=64
            Draw at most the first ``max_tiles`` units.
        n_cols : int, default=None
            Tiles per row; None: about a square grid.
        cmap : str or matplotlib Colormap, default="gray"
            Colour map.
        ax : matplotlib Axes, default=None
            Where to draw; None: a new figure.

        Returns
        -------
        display : WeightTilesDisplay
            The display, with its artists.
        """
        final = _fitted_final_step(estimator)
        display = cls(np.asarray(final.coefs_[0]), image_shape=image_shape)
        return display.plot(ax=ax, max_tiles=max_tiles, n_cols=n_cols, cmap=cmap)

    def plot(self, ax=None, *, max_tiles=64, n_cols=None, cmap="gray"):
        """Draw the tiles.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; None: a new figure.
        max_tiles : int, default=64
            Draw at most the first ``max_tiles`` units.
        n_cols : int, default=None
            Tiles per row; None: about a square grid.
        cmap : str or matplotlib Colormap, default="gray"
            Colour map.

        Returns
        -------
        display : WeightTilesDisplay
            ``self``, with its artists.
        """
        W = np.asarray(self.weights)
        height, width = _infer_image_shape(W.shape[0], self.image_shape)
        n = min(max_tiles, W.shape[1])
        n_cols = n_cols or math.ceil(math.sqrt(n))
        n_rows = math.ceil(n / n_cols)
        ax = _one_axes(ax, figsize=(min(0.9 * n_cols, 12), min(0.9 * n_rows, 12)))
        # Tiles one unit wide, in proportion to the image, with a gap.
        tile_h, gap = height / width, 0.1
        self.images_ = []
        for k in range(n):
            row, col = divmod(k, n_cols)
            tile = W[:, k].reshape(height, width)
            scale = float(np.abs(tile).max()) or 1.0
            left, top = col * (1 + gap), -row * (tile_h + gap)
            self.images_.append(ax.imshow(
                tile, cmap=cmap, vmin=-scale, vmax=scale, interpolation="nearest",
                extent=(left, left + 1, top - tile_h, top),
            ))
        ax.set_xlim(-gap, n_cols * (1 + gap))
        ax.set_ylim(-n_rows * (tile_h + gap), gap)
        ax.set_aspect("equal")
        ax.set_axis_off()
        self.ax_ = ax
        self.figure_ = ax.figure
        return self
