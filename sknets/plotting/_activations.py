"""Hidden-layer activations: their histograms and the units' correlations."""

import numpy as np

from ..diagnostics._units import _hidden_activations
from ._common import _one_axes


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
        ax = _one_axes(ax, figsize=(5, 3.5))
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
        ax = _one_axes(ax, figsize=(4.5, 4))
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
