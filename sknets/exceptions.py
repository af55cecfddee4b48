"""Exceptions and warnings raised by sknets."""

from sklearn.exceptions import ConvergenceWarning

from ._engine.errors import DivergenceError


class PartialFitUnavailableError(AttributeError, ValueError):
    """``partial_fit`` cannot run with the estimator's current parameters.

    An AttributeError, so that ``hasattr(est, "partial_fit")`` is False and
    scikit-learn's estimator checks, which call ``partial_fit`` wherever it
    exists, skip it; a ValueError, which scikit-learn's MLPs raise for
    ``partial_fit`` with ``early_stopping=True``. scikit-learn's
    ``NotFittedError`` is both types for the same kind of reason.
    """


class InconsistentVersionWarning(UserWarning):
    """Warning raised when a model saved by another sknets version is loaded.

    Like :class:`sklearn.exceptions.InconsistentVersionWarning`, for the
    version of sknets: the model loads, but nothing guarantees that it
    predicts as it did. A saved state that this version cannot read at all
    raises a ``ValueError`` instead.

    Parameters
    ----------
    estimator_name : str
        Class name of the estimator.
    current_sknets_version : str
        The sknets version loading the model.
    original_sknets_version : str
        The sknets version that saved it.
    """

    def __init__(self, *, estimator_name, current_sknets_version,
                 original_sknets_version):
        self.estimator_name = estimator_name
        self.current_sknets_version = current_sknets_version
        self.original_sknets_version = original_sknets_version

    def __str__(self):
        return (
            f"Trying to load estimator {self.estimator_name} saved by sknets "
            f"version {self.original_sknets_version} when using version "
            f"{self.current_sknets_version}. This might lead to breaking code "
            "or invalid results; use at your own risk, or fit the model again "
            "with this version."
        )


__all__ = [
    "ConvergenceWarning",
    "DivergenceError",
    "InconsistentVersionWarning",
    "PartialFitUnavailableError",
]
