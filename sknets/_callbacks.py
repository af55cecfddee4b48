"""Progress of a fit through scikit-learn's callback API (``sklearn.callback``).

A call to ``fit`` or ``partial_fit`` is one root task. Each epoch of a
stochastic solver is a subtask, begun and ended by :class:`EpochTasks`, a
listener of the training loop's events (``on_epoch_begin``,
``on_epoch_end``), whose answer can stop training. The stacked estimators
add a subtask per pre-trained layer, with that layer's autoencoder fit
attached below it (so that auto-propagated callbacks such as
``ProgressBar`` follow it), and one for fine-tuning, whose subtasks are the
epochs. L-BFGS has no epochs: its fit is one task.

With scikit-learn < 1.9 (no ``sklearn.callback``), or when no callback is
set, nothing here runs and the training loop has no hook.
"""

import contextlib

from ._engine.trainer import Listener


def _wants_callbacks(estimator):
    # A sub-estimator of a meta-estimator with callbacks always joins the
    # meta-estimator's task tree, as scikit-learn's own estimators do.
    return hasattr(estimator, "_init_callback_context") and (
        getattr(estimator, "_skl_callbacks", None)
        or hasattr(estimator, "_parent_callback_ctx")
    )


class FitTasks:
    """The callback tasks of one fit of ``estimator``.

    Parameters
    ----------
    estimator : BaseNetworkEstimator
        The estimator being fitted; it calls the hooks.
    X, y, sample_weight
        The data of the fit as the user passed it, handed to the hooks (a
        callback that scores the model at each epoch scores it on these).
    max_subtasks : int or None
        Subtasks of the root task: epochs, or stages; None if unknown.
    """

    def __init__(self, estimator, X, y, sample_weight, max_subtasks):
        self.estimator = estimator
        self._data = {
            "X": X, "y": y,
            "metadata": None if sample_weight is None else
            {"sample_weight": sample_weight},
        }
        self.root = estimator._init_callback_context(max_subtasks=max_subtasks)
        # Epochs become subtasks of this one (the fine-tuning stage, if any).
        self.parent = self.root

    def begin(self, context, snapshot=None):
        context.call_on_fit_task_begin(
            estimator=self.estimator, reconstruction_attributes=snapshot,
            **self._data,
        )

    def end(self, context, snapshot=None):
        """Call the end hooks; True if a callback asks to stop."""
        return context.call_on_fit_task_end(
            estimator=self.estimator, reconstruction_attributes=snapshot,
            **self._data,
        )


@contextlib.contextmanager
def fit_tasks(estimator, X, y, sample_weight, max_subtasks):
    """Run a fit as a callback task; yields the :class:`FitTasks` or None.

    The fit passes them down to what needs them (the training loop's
    :class:`EpochTasks`, the pre-training's stages). Setting the callbacks up
    and tearing them down is scikit-learn's (``with_callbacks``).
    """
    if not _wants_callbacks(estimator):
        yield None
        return
    tasks = FitTasks(estimator, X, y, sample_weight, max_subtasks)
    tasks.begin(tasks.root)
    yield tasks
    # An empty snapshot: the estimator itself is fitted by now.
    tasks.end(tasks.root, snapshot={})


@contextlib.contextmanager
def stage(tasks, name, max_subtasks=0, sub_estimator=None):
    """A subtask of the root: pre-training a layer, or fine-tuning.

    ``sub_estimator``, fitted inside, joins the task tree below this stage
    and receives the auto-propagated callbacks. The epochs trained inside
    are subtasks of this stage.
    """
    if tasks is None:
        yield
        return
    context = tasks.root.subcontext(task_name=name, max_subtasks=max_subtasks)
    propagate = (contextlib.nullcontext() if sub_estimator is None
                 else context.propagate_callback_context(sub_estimator))
    previous, tasks.parent = tasks.parent, context
    try:
        with propagate:
            tasks.begin(context)
            yield
            tasks.end(context)
    finally:
        tasks.parent = previous


class EpochTasks(Listener):
    """Epoch subtasks of the current stage: a listener of the training loop.

    Parameters
    ----------
    tasks : FitTasks
        The fit's tasks.
    snapshot : callable
        Returns the fitted attributes that make a copy of the estimator
        usable at this point of training (for callbacks that evaluate the
        model, e.g. ``ScoringMonitor``); called only if one asks.
    """

    def __init__(self, tasks, snapshot):
        self._tasks = tasks
        self._snapshot = snapshot
        self._current = None

    def on_epoch_begin(self, run):
        # An epoch redone after a divergence keeps the task it began.
        if self._current is None:
            self._current = self._tasks.parent.subcontext(task_name="epoch")
            self._tasks.begin(self._current, self._snapshot)

    def on_epoch_end(self, run, record):
        """End the epoch's task; stop training if a callback asks."""
        context, self._current = self._current, None
        return "callback" if self._tasks.end(context, self._snapshot) else None

    def close(self):
        """End an epoch task left open by an interrupt or an error, as empty."""
        if self._current is not None:
            context, self._current = self._current, None
            context.call_on_fit_task_end(estimator=self._tasks.estimator)
