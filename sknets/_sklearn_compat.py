"""The one module that imports scikit-learn's private helpers.

If an upstream change moves one of them, this is the only file to fix.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import _check_sample_weight, validate_data

try:  # scikit-learn >= 1.9
    from sklearn.callback import CallbackSupportMixin, with_callbacks
except ImportError:  # no callback API: the estimators simply have no set_callbacks

    class CallbackSupportMixin:
        """Stand-in for scikit-learn < 1.9, which has no callback API."""

    def with_callbacks(method):
        return method


__all__ = [
    "CallbackSupportMixin", "Interval", "Options", "StrOptions",
    "_check_sample_weight", "_fit_context", "validate_data", "with_callbacks",
]
