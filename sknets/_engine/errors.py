"""Exceptions raised by the engine (re-exported by :mod:`sknets.exceptions`)."""


class DivergenceError(RuntimeError, ValueError):
    """Training produced a non-finite loss and could not recover.

    Raised by ``fit`` when the loss or the parameters stay non-finite (or
    explode) even after the divergence guard has gone back to the best epoch
    and divided the learning rate by 10, five times over; or when L-BFGS ends
    on non-finite parameters. Unscaled inputs are the usual cause: scale them
    (e.g. with :class:`~sklearn.preprocessing.StandardScaler`), or lower
    ``learning_rate_init``.

    A ``ValueError``, as scikit-learn's MLPs raise for non-finite parameters,
    so that code written for them catches it; and a ``RuntimeError``, as it
    was first.
    """
