"""Plots for looking inside a network: curves, filters, activations.

Each plot is a *display* in scikit-learn's manner: ``Display.from_estimator``
computes what to draw from a fitted (or, for activations, an unfitted)
estimator and draws it; ``display.plot`` draws it again, on other axes. The
drawn objects are kept on the display: ``figure_``, ``ax_`` and the artists
(``lines_``, ``images_``, ``patches_``, ``im_``), for further styling.

matplotlib is optional: it is imported when something is drawn, and its
absence is an ImportError that says how to install it
(``pip install ".[plot]"`` from a clone).

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
['train_loss', 'val_loss', 'val_score']
>>> tiles = WeightTilesDisplay.from_estimator(clf)  # 8x8 images inferred
>>> len(tiles.images_)
16
"""

from ._activations import ActivationHistogramDisplay, UnitCorrelationDisplay
from ._curves import TrainingCurvesDisplay
from ._weights import WeightTilesDisplay

__all__ = [
    "ActivationHistogramDisplay",
    "TrainingCurvesDisplay",
    "UnitCorrelationDisplay",
    "WeightTilesDisplay",
]
