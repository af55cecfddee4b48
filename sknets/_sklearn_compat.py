"""The one module that imports scikit-learn's private helpers.

If an upstream change moves one of them, this is the only file to fix.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import _check_sample_weight, validate_data

__all__ = [
    "Interval", "Options", "StrOptions", "_check_sample_weight", "_fit_context",
    "validate_data",
]
