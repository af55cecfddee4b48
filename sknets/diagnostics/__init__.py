"""Tools for finding out why a network does not train as it should.

Four checks turn the usual "when it does not work" advice into reports on
your own estimator (an sknets estimator; all but :func:`check_gradients`
also take a :class:`~sklearn.pipeline.Pipeline` ending in one):

- :func:`check_gradients`: is back-propagation right?
- :func:`check_overfit`: can the model learn a small training set by heart?
- :func:`unit_statistics`: are hidden units saturated, dead, constant or
  redundant (at initialisation or after training)?
- :func:`training_report`: what does the per-epoch history say (diverging or
  bouncing loss, under- or overfitting, early stopping, rate cuts)?

Each returns a report whose ``print`` form is a readable summary; the last
three list :class:`Finding` objects, each with a remedy.

Examples
--------
>>> from sklearn.datasets import load_iris
>>> from sknets import MLPClassifier
>>> from sknets.diagnostics import check_gradients
>>> X, y = load_iris(return_X_y=True)
>>> clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=0)
>>> report = check_gradients(clf, X[::5], y[::5])
>>> report.passed
True
"""

from ._findings import Finding
from ._gradients import GradientCheckReport, check_gradients
from ._history import TrainingReport, training_report
from ._overfit import OverfitReport, check_overfit
from ._units import LayerStatistics, UnitStatisticsReport, unit_statistics

__all__ = [
    "Finding",
    "GradientCheckReport",
    "LayerStatistics",
    "OverfitReport",
    "TrainingReport",
    "UnitStatisticsReport",
    "check_gradients",
    "check_overfit",
    "training_report",
    "unit_statistics",
]
