"""Exceptions and warnings raised by sknets."""

from sklearn.exceptions import ConvergenceWarning

from ._engine.errors import DivergenceError

__all__ = ["ConvergenceWarning", "DivergenceError"]
