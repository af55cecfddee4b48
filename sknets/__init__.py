"""sknets: neural-network estimators for scikit-learn, in numpy."""

from ._mlp import MLPClassifier, MLPRegressor

__version__ = "0.1.0.dev0"

__all__ = ["MLPClassifier", "MLPRegressor", "__version__"]
