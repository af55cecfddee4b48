"""Training and validation curves, epoch by epoch."""

import numpy as np

from .._solvers import stochastic_solvers_text
from ..diagnostics._estimator import _fitted_final_step
from ._common import _axes

# Relative spread below which the recorded learning rate counts as constant.
_RATE_RTOL = 1e-6


def _constant_rate(rates):
    """The learning rate when it never changed over ``rates``, else None."""
    finite = rates[np.isfinite(rates)]
    if finite.size and np.allclose(finite, finite[0], rtol=_RATE_RTOL, atol=0):
        return float(finite[0])
    return None


class TrainingCurvesDisplay:
    """Training and validation curves of a network, epoch by epoch.

    Up to three panels: the training loss (and the validation loss when the
    estimator validated), the validation score, and the learning rate (log
    scale). The learning-rate panel is drawn by default only when the rate
    changed over the fit (a schedule such as ``"invscaling"``, or a rate
    cut by ``"adaptive"`` or ``"halving"``); a rate that stayed constant is
    stated in the first panel's title instead ("learning rate 0.001
    (constant)"), so that a flat line does not take up a panel. When the
    estimator validated, a dotted vertical line marks the epoch with the
    best validation score, on the loss and score panels, labelled
    "best epoch N" in their legends. Build it with :meth:`from_estimator`.

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
        ``"val_score"``, ``"learning_rate"`` (those drawn; with the default
        panels, ``"learning_rate"`` only when the rate changed).
    best_epoch_line_ : matplotlib Line2D or None
        Vertical line at the epoch with the best validation score, labelled
        ``"best epoch N"``: the one on the loss panel, or on the score panel
        when no loss panel is drawn; None when the estimator did not
        validate or neither panel is drawn.
    constant_learning_rate_ : float or None
        The learning rate when it stayed the same over the whole history,
        else None. Without a learning-rate panel it is given in the title
        of the first panel.
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
    >>> sorted(display.lines_)  # a constant rate: no learning-rate panel
    ['train_loss']
    >>> display.ax_.get_title()
    'MLPClassifier, learning rate 0.001 (constant)'
    >>> sgd = MLPClassifier(solver="sgd", learning_rate="invscaling",
    ...                     max_iter=30, random_state=0).fit(X, y)
    >>> sorted(TrainingCurvesDisplay.from_estimator(sgd).lines_)
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
            when the estimator validated, "learning_rate" only when the
            rate changed over the fit).
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
            Panels to draw; None: all that apply ("learning_rate" only when
            the rate changed).

        Returns
        -------
        display : TrainingCurvesDisplay
            ``self``, with its artists.
        """
        history = self.history
        validated = any("val_score" in h for h in history)

        def curve(key):
            return np.array([h.get(key, np.nan) for h in history], dtype=float)

        rates = curve("learning_rate")
        constant_rate = _constant_rate(rates)
        if panels is None:
            panels = [p for p in self._PANELS
                      if (validated or p != "score")
                      and (constant_rate is None or p != "learning_rate")]
        panels = list(panels)
        unknown = [p for p in panels if p not in self._PANELS]
        if unknown or (not validated and "score" in panels):
            raise ValueError(
                f"panels must be among {self._PANELS} ('score' only for an "
                f"estimator that validated); got {panels!r}."
            )
        axes = _axes(ax, len(panels), (4.2 * len(panels), 3.2))
        epochs = np.array([h["epoch"] for h in history])

        self.lines_, self.best_epoch_line_ = {}, None
        best = int(np.nanargmax(curve("val_score"))) if validated else None

        def mark_best(axis):
            line = axis.axvline(epochs[best], color="0.6", linestyle=":",
                                label=f"best epoch {epochs[best]}")
            if self.best_epoch_line_ is None:
                self.best_epoch_line_ = line

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
                if best is not None:
                    mark_best(axis)
                axis.legend()
            elif panel == "score":
                (self.lines_["val_score"],) = axis.plot(
                    epochs, curve("val_score"), color="C1", label="validation")
                axis.set_ylabel("validation score")
                mark_best(axis)
                axis.legend()
            else:
                (self.lines_["learning_rate"],) = axis.plot(
                    epochs, rates, color="C2")
                axis.set_yscale("log")
                axis.set_ylabel("learning rate")
            axis.set_xlabel("epoch")
        title = [self.estimator_name] if self.estimator_name else []
        if constant_rate is not None and "learning_rate" not in panels:
            title.append(f"learning rate {constant_rate:.3g} (constant)")
        if title:
            axes[0].set_title(", ".join(title))
        self.constant_learning_rate_ = constant_rate
        self.axes_ = axes
        self.ax_ = axes[0]
        self.figure_ = axes[0].figure
        return self
