"""Exceptions raised by the engine (re-exported by :mod:`sknets.exceptions`)."""


class DivergenceError(RuntimeError):
    """Training produced a non-finite loss and could not recover."""
