"""Training and validation curves, epoch by epoch."""

import numpy as np

from .._solvers import stochastic_solvers_text
from ..diagnostics._estimator import _fitted_final_step
from ._common import _axes


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
        final = _fitted_final_step(estimator)
        history = final.history_
        if not history:
            raise ValueError(
                f"{type(final).__name__} has no per-epoch history (solver="
                f"{final.solver!r}); train with {stochastic_solvers_text()}."
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
