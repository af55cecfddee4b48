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
    reshaped to the image. All the tiles share one symmetric colour scale,
    from ``-v`` to ``v`` (mid-grey is 0 with the default colour map), shown
    by a colour bar: ``v`` is the largest absolute weight over the tiles
    drawn (``percentile=100``, the default, so that no weight is clipped),
    or the given percentile of the absolute weights over those tiles (say
    99, so that a few outlying weights saturate instead of washing out the
    rest). On one scale, tiles compare: a unit with a pattern stands out
    against the units left near 0, and a strong filter is not stretched to
    look like every other. Filters that look like noise after training
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
        One per tile drawn, all with the same ``norm`` (so
        ``images_[0].set_clim`` rescales every tile).
    vmax_ : float
        ``v``: the tiles' colour scale runs over ``[-vmax_, vmax_]``.
    colorbar_ : matplotlib Colorbar or None
        The colour bar of that scale; None with ``colorbar=False``.
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
    >>> low, high = display.images_[0].get_clim()
    >>> bool(low == -high == -np.abs(W).max())
    True
    """

    def __init__(self, weights, *, image_shape=None):
        self.weights = weights
        self.image_shape = image_shape

    @classmethod
    def from_estimator(cls, estimator, *, image_shape=None, max_tiles=64,
                       n_cols=None, cmap="gray", percentile=100, colorbar=True,
                       ax=None):
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
        percentile : float in (0, 100], default=100
            The shared scale runs over ``[-v, v]``, ``v`` this percentile of
            the absolute weights of the tiles drawn; 100: their maximum.
        colorbar : bool, default=True
            Draw a colour bar of the shared scale.
        ax : matplotlib Axes, default=None
            Where to draw; None: a new figure.

        Returns
        -------
        display : WeightTilesDisplay
            The display, with its artists.
        """
        final = _fitted_final_step(estimator)
        display = cls(np.asarray(final.coefs_[0]), image_shape=image_shape)
        return display.plot(ax=ax, max_tiles=max_tiles, n_cols=n_cols, cmap=cmap,
                            percentile=percentile, colorbar=colorbar)

    def plot(self, ax=None, *, max_tiles=64, n_cols=None, cmap="gray",
             percentile=100, colorbar=True):
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
        percentile : float in (0, 100], default=100
            The shared scale runs over ``[-v, v]``, ``v`` this percentile of
            the absolute weights of the tiles drawn; 100: their maximum.
        colorbar : bool, default=True
            Draw a colour bar of the shared scale.

        Returns
        -------
        display : WeightTilesDisplay
            ``self``, with its artists.
        """
        if not 0 < percentile <= 100:
            raise ValueError(f"percentile must be in (0, 100]; got {percentile!r}.")
        W = np.asarray(self.weights)
        height, width = _infer_image_shape(W.shape[0], self.image_shape)
        n = min(max_tiles, W.shape[1])
        n_cols = n_cols or math.ceil(math.sqrt(n))
        n_rows = math.ceil(n / n_cols)
        ax = _one_axes(ax, figsize=(min(0.9 * n_cols, 12) + (1.0 if colorbar else 0),
                                    min(0.9 * n_rows, 12)))
        from matplotlib.colors import Normalize  # there: we have axes

        shown = np.abs(W[:, :n])
        shown = shown[np.isfinite(shown)]
        vmax = float(np.percentile(shown, percentile)) if shown.size else 0.0
        self.vmax_ = vmax if vmax > 0 else 1.0  # all zero: any scale shows it
        # One norm for every tile: the same weight is the same grey everywhere.
        norm = Normalize(vmin=-self.vmax_, vmax=self.vmax_)
        # Tiles one unit wide, in proportion to the image, with a gap.
        tile_h, gap = height / width, 0.1
        self.images_ = []
        for k in range(n):
            row, col = divmod(k, n_cols)
            tile = W[:, k].reshape(height, width)
            left, top = col * (1 + gap), -row * (tile_h + gap)
            self.images_.append(ax.imshow(
                tile, cmap=cmap, norm=norm, interpolation="nearest",
                extent=(left, left + 1, top - tile_h, top),
            ))
        ax.set_xlim(-gap, n_cols * (1 + gap))
        ax.set_ylim(-n_rows * (tile_h + gap), gap)
        ax.set_aspect("equal")
        ax.set_axis_off()
        self.colorbar_ = None
        if colorbar and self.images_:
            self.colorbar_ = ax.figure.colorbar(self.images_[0], ax=ax,
                                                fraction=0.05, pad=0.03)
            self.colorbar_.set_label("weight")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self
