"""Plots for looking inside a network: curves, filters, activations.

Each plot is a *display* in scikit-learn's manner: ``Display.from_estimator``
computes what to draw from a fitted (or, for activations, an unfitted)
estimator and draws it; ``display.plot`` draws it again, on other axes. The
drawn objects are kept on the display: ``figure_``, ``ax_`` and the artists
(``lines_``, ``images_``, ``patches_``, ``im_``), for further styling.

matplotlib is optional: it is imported when something is drawn, and its
absence is an ImportError that says how to install it
(``pip install sknets[plot]``).

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from sklearn.datasets import load_digits
>>> from sknets import MLPClassifier
>>> from sknets.plotting import TrainingCurvesDisplay, WeightTilesDisplay
>>> X, y = load_digits(return_X_y=True)
>>> clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=20,
...                     early_stopping=True, random_state=0).fit(X / 16, y)
>>> curves = TrainingCurvesDisplay.from_estimator(clf)
>>> sorted(curves.lines_)
['learning_rate', 'train_loss', 'val_loss', 'val_score']
>>> tiles = WeightTilesDisplay.from_estimator(clf)  # 8x8 images inferred
>>> len(tiles.images_)
16
"""

import math

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .diagnostics import _final_step, _hidden_activations

__all__ = [
    "ActivationHistogramDisplay",
    "TrainingCurvesDisplay",
    "UnitCorrelationDisplay",
    "WeightTilesDisplay",
]


def _pyplot():
    """matplotlib.pyplot, or an ImportError saying how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "Plotting with sknets needs matplotlib, which is not installed. "
            "Install it with: pip install sknets[plot]  (or pip install "
            "matplotlib)."
        ) from exc
    return plt


def _axes(ax, n, figsize):
    """``n`` axes: the given ones (one per panel), or a new row of them."""
    plt = _pyplot()
    if ax is None:
        _, axes = plt.subplots(1, n, figsize=figsize, squeeze=False)
        return list(axes[0])
    axes = list(np.ravel(ax))
    if len(axes) != n:
        raise ValueError(f"Expected {n} axes (one per panel), got {len(axes)}.")
    return axes


def _fitted_network_estimator(estimator):
    _, final = _final_step(estimator)
    check_is_fitted(final)
    return final


class TrainingCurvesDisplay:
    """Training and validation curves of a network, epoch by epoch.

    Up to three panels: the training loss (and the validation loss when the
    estimator validated), the validation score, and the learning rate (log
    scale). Build it with :meth:`from_estimator`.

    Parameters
    ----------
    history : list of dict
        The estimator's ``history_``: one dict per epoch with ``epoch``,
        ``train_loss``, ``learning_rate`` and, when validating,
        ``val_loss`` and ``val_score``.
    estimator_name : str, default=None
        Shown in the title of the first panel.

    Attributes
    ----------
    lines_ : dict of str to matplotlib Line2D
        The curves, by history key: ``"train_loss"``, ``"val_loss"``,
        ``"val_score"``, ``"learning_rate"`` (those drawn).
    best_epoch_line_ : matplotlib Line2D or None
        Vertical line at the epoch with the best validation score.
    axes_ : list of matplotlib Axes
        One per panel.
    ax_ : matplotlib Axes
        The first (loss) panel.
    figure_ : matplotlib Figure
        The figure holding them.

    See Also
    --------
    sknets.diagnostics.training_report : The same history, read as findings.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from sknets import MLPClassifier
    >>> from sknets.plotting import TrainingCurvesDisplay
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier(max_iter=30, random_state=0).fit(X, y)
    >>> display = TrainingCurvesDisplay.from_estimator(clf)
    >>> sorted(display.lines_)
    ['learning_rate', 'train_loss']
    """

    _PANELS = ("loss", "score", "learning_rate")

    def __init__(self, history, *, estimator_name=None):
        self.history = history
        self.estimator_name = estimator_name

    @classmethod
    def from_estimator(cls, estimator, *, panels=None, ax=None, name=None):
        """Plot the curves of a fitted estimator.

        Parameters
        ----------
        estimator : estimator or Pipeline
            A fitted sknets network estimator trained with a stochastic
            solver, or a pipeline ending in one.
        panels : sequence of {"loss", "score", "learning_rate"}, default=None
            Panels to draw, in order; None: all that apply ("score" only
            when the estimator validated).
        ax : matplotlib Axes or array-like of Axes, default=None
            One per panel; None: a new figure.
        name : str, default=None
            Title of the first panel; None: the estimator's class name.

        Returns
        -------
        display : TrainingCurvesDisplay
            The display, with its artists.
        """
        final = _fitted_network_estimator(estimator)
        history = getattr(final, "history_", None)
        if not history:
            raise ValueError(
                f"{type(final).__name__} has no per-epoch history (solver="
                f"{final.solver!r}); train with 'sgd', 'adam' or 'adagrad'."
            )
        display = cls(history, estimator_name=name or type(final).__name__)
        return display.plot(ax=ax, panels=panels)

    def plot(self, ax=None, *, panels=None):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes or array-like of Axes, default=None
            One per panel; None: a new figure.
        panels : sequence of {"loss", "score", "learning_rate"}, default=None
            Panels to draw; None: all that apply.

        Returns
        -------
        display : TrainingCurvesDisplay
            ``self``, with its artists.
        """
        history = self.history
        validated = any("val_score" in h for h in history)
        if panels is None:
            panels = [p for p in self._PANELS if validated or p != "score"]
        panels = list(panels)
        unknown = [p for p in panels if p not in self._PANELS]
        if unknown or (not validated and "score" in panels):
            raise ValueError(
                f"panels must be among {self._PANELS} ('score' only for an "
                f"estimator that validated); got {panels!r}."
            )
        axes = _axes(ax, len(panels), (4.2 * len(panels), 3.2))
        epochs = np.array([h["epoch"] for h in history])

        def curve(key):
            return np.array([h.get(key, np.nan) for h in history], dtype=float)

        self.lines_, self.best_epoch_line_ = {}, None
        best = int(np.nanargmax(curve("val_score"))) if validated else None
        for axis, panel in zip(axes, panels, strict=True):
            if panel == "loss":
                keys = ["train_loss"] + (["val_loss"] if validated else [])
                for key, label in zip(keys, ["training", "validation"], strict=False):
                    (self.lines_[key],) = axis.plot(epochs, curve(key), label=label)
                losses = np.concatenate([curve(k) for k in keys])
                positive = losses[np.isfinite(losses) & (losses > 0)]
                # A loss spanning decades (a divergence) is read on a log scale.
                if positive.size and positive.max() > 100 * positive.min():
                    axis.set_yscale("log")
                axis.set_ylabel("loss")
                axis.legend()
                if best is not None:
                    self.best_epoch_line_ = axis.axvline(
                        epochs[best], color="0.6", linestyle=":", label="best epoch"
                    )
            elif panel == "score":
                (self.lines_["val_score"],) = axis.plot(
                    epochs, curve("val_score"), color="C1")
                axis.set_ylabel("validation score")
            else:
                (self.lines_["learning_rate"],) = axis.plot(
                    epochs, curve("learning_rate"), color="C2")
                axis.set_yscale("log")
                axis.set_ylabel("learning rate")
            axis.set_xlabel("epoch")
        if self.estimator_name:
            axes[0].set_title(self.estimator_name)
        self.axes_ = axes
        self.ax_ = axes[0]
        self.figure_ = axes[0].figure
        return self


def _infer_image_shape(n_features, image_shape):
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
        final = _fitted_network_estimator(estimator)
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
        if ax is None:
            _, ax = _pyplot().subplots(figsize=(min(0.9 * n_cols, 12),
                                                min(0.9 * n_rows, 12)))
        else:
            _pyplot()
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


class ActivationHistogramDisplay:
    """Histograms of each hidden layer's activations over a set of samples.

    One step histogram per layer, on the same axes (Glorot & Bengio, 2010).
    Mass piled at -1 and 1 (tanh) or 0 and 1 (logistic) means saturated
    units; a spike at 0 for relu, dead or sparse units. Works on an unfitted
    estimator too (with ``y``): then it shows the initial network, before
    any update.

    Parameters
    ----------
    activations : list of ndarray of shape (n_samples, n_units)
        One array per layer.
    names : list of str
        Their legend labels.

    Attributes
    ----------
    patches_ : list of matplotlib StepPatch
        One histogram per layer.
    ax_ : matplotlib Axes
        The axes.
    figure_ : matplotlib Figure
        Its figure.

    See Also
    --------
    sknets.diagnostics.unit_statistics : The same activations, summarised.

    References
    ----------
    Glorot, X. and Bengio, Y. (2010). Understanding the difficulty of
    training deep feedforward neural networks. AISTATS.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from sknets import MLPClassifier
    >>> from sknets.plotting import ActivationHistogramDisplay
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier(hidden_layer_sizes=(8, 8), activation="tanh")
    >>> display = ActivationHistogramDisplay.from_estimator(clf, X, y)  # init
    >>> len(display.patches_)
    2
    """

    def __init__(self, activations, *, names):
        self.activations = activations
        self.names = names

    @classmethod
    def from_estimator(cls, estimator, X, y=None, *, layers=None, n_samples=2000,
                       bins=50, random_state=0, ax=None):
        """Draw the activation histograms of an estimator's hidden layers.

        Parameters
        ----------
        estimator : estimator or Pipeline
            An sknets network estimator or a pipeline ending in one; fitted,
            or unfitted with ``y`` (its initial network).
        X : array-like of shape (n_samples, n_features)
            Inputs.
        y : array-like, default=None
            Targets; needed only for an unfitted estimator.
        layers : list of int, default=None
            Hidden layers to draw (0 is the first); None: all.
        n_samples : int or None, default=2000
            Use at most this many random rows of ``X``.
        bins : int, default=50
            Histogram bins per layer.
        random_state : int, RandomState instance or None, default=0
            Draws the rows.
        ax : matplotlib Axes, default=None
            Where to draw; None: a new figure.

        Returns
        -------
        display : ActivationHistogramDisplay
            The display, with its artists.
        """
        acts, fitted = _hidden_activations(
            estimator, X, y, n_samples=n_samples, random_state=random_state
        )
        chosen = range(len(acts)) if layers is None else layers
        chosen = [acts[i] for i in chosen]
        state = "" if fitted else ", initial"
        display = cls([A for _, _, A in chosen],
                      names=[f"{name} ({act}{state})" for name, act, _ in chosen])
        return display.plot(ax=ax, bins=bins)

    def plot(self, ax=None, *, bins=50):
        """Draw the histograms.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; None: a new figure.
        bins : int, default=50
            Histogram bins per layer.

        Returns
        -------
        display : ActivationHistogramDisplay
            ``self``, with its artists.
        """
        if ax is None:
            _, ax = _pyplot().subplots(figsize=(5, 3.5))
        else:
            _pyplot()
        self.patches_ = []
        for A, name in zip(self.activations, self.names, strict=True):
            values = np.asarray(A, dtype=np.float64).ravel()
            counts, edges = np.histogram(values[np.isfinite(values)], bins=bins,
                                         density=True)
            self.patches_.append(ax.stairs(counts, edges, label=name))
        ax.set_xlabel("activation")
        ax.set_ylabel("density")
        ax.legend()
        self.ax_ = ax
        self.figure_ = ax.figure
        return self


def _correlation_matrix(A):
    """Pearson correlation between columns; NaN rows for constant units."""
    A = np.asarray(A, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.atleast_2d(np.corrcoef(A, rowvar=False))


class UnitCorrelationDisplay:
    """Correlation matrix between the units of one hidden layer.

    Entry ``(j, k)`` is the Pearson correlation of units ``j`` and ``k``
    over the samples (blank for a constant unit). Blocks near +1 or -1
    away from the diagonal are units that compute the same thing.

    Parameters
    ----------
    correlation : ndarray of shape (n_units, n_units)
        The matrix.
    layer_name : str, default=None
        Used in the title.

    Attributes
    ----------
    im_ : matplotlib AxesImage
        The matrix image.
    colorbar_ : matplotlib Colorbar or None
        Its colour bar.
    ax_ : matplotlib Axes
        The axes.
    figure_ : matplotlib Figure
        Its figure.

    See Also
    --------
    sknets.diagnostics.unit_statistics : Reports the mean absolute
        correlation of each layer.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sknets.plotting import UnitCorrelationDisplay
    >>> display = UnitCorrelationDisplay(np.eye(3)).plot()
    >>> display.im_.get_array().shape
    (3, 3)
    """

    def __init__(self, correlation, *, layer_name=None):
        self.correlation = correlation
        self.layer_name = layer_name

    @classmethod
    def from_estimator(cls, estimator, X, y=None, *, layer=0, n_samples=2000,
                       random_state=0, cmap="RdBu_r", colorbar=True, ax=None):
        """Draw the unit correlations of one hidden layer.

        Parameters
        ----------
        estimator : estimator or Pipeline
            An sknets network estimator or a pipeline ending in one; fitted,
            or unfitted with ``y`` (its initial network).
        X : array-like of shape (n_samples, n_features)
            Inputs.
        y : array-like, default=None
            Targets; needed only for an unfitted estimator.
        layer : int, default=0
            Hidden layer (0 is the first).
        n_samples : int or None, default=2000
            Use at most this many random rows of ``X``.
        random_state : int, RandomState instance or None, default=0
            Draws the rows.
        cmap : str or matplotlib Colormap, default="RdBu_r"
            Colour map, over [-1, 1].
        colorbar : bool, default=True
            Draw a colour bar.
        ax : matplotlib Axes, default=None
            Where to draw; None: a new figure.

        Returns
        -------
        display : UnitCorrelationDisplay
            The display, with its artists.
        """
        acts, _ = _hidden_activations(
            estimator, X, y, n_samples=n_samples, random_state=random_state
        )
        name, activation, A = acts[layer]
        display = cls(_correlation_matrix(A), layer_name=f"{name} ({activation})")
        return display.plot(ax=ax, cmap=cmap, colorbar=colorbar)

    def plot(self, ax=None, *, cmap="RdBu_r", colorbar=True):
        """Draw the matrix.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; None: a new figure.
        cmap : str or matplotlib Colormap, default="RdBu_r"
            Colour map, over [-1, 1].
        colorbar : bool, default=True
            Draw a colour bar.

        Returns
        -------
        display : UnitCorrelationDisplay
            ``self``, with its artists.
        """
        if ax is None:
            _, ax = _pyplot().subplots(figsize=(4.5, 4))
        else:
            _pyplot()
        self.im_ = ax.imshow(self.correlation, cmap=cmap, vmin=-1, vmax=1,
                             interpolation="nearest")
        self.colorbar_ = ax.figure.colorbar(self.im_, ax=ax) if colorbar else None
        ax.set_xlabel("unit")
        ax.set_ylabel("unit")
        title = "unit correlation"
        ax.set_title(f"{title}, {self.layer_name}" if self.layer_name else title)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self
