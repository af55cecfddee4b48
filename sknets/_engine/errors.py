"""Exceptions raised by the engine (re-exported by :mod:`sknets.exceptions`),
and warnings that point at the user's line, not at ours.

A warning raised deep inside ``fit`` with a fixed ``stacklevel`` names a
line of sknets (or of scikit-learn's wrappers, whose depth varies between
``fit``, ``partial_fit``, a ``Pipeline`` and a search): the user cannot see
which of their calls it is about. :func:`warn` walks the stack up to the
first frame outside sknets, scikit-learn and joblib and gives that level.
"""

import functools
import os
import sys
import warnings
from pathlib import Path


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


# Shown, and pickled, under its public name: tracebacks read
# ``sknets.exceptions.DivergenceError``, where users import it from.
DivergenceError.__module__ = "sknets.exceptions"


@functools.lru_cache(maxsize=256)
def _resolved(filename):
    """``filename`` made absolute; as it is for ``<string>``-like names and
    when the file system cannot say (a deleted working directory)."""
    if filename.startswith("<"):
        return filename
    try:
        return str(Path(filename).resolve())
    except OSError:
        return filename


def _library_folders():
    """Folders of sknets and, where loaded, of scikit-learn and joblib (a
    library that is not loaded has no frame on the stack)."""
    folders = [Path(__file__).resolve().parent.parent]
    for name in ("sklearn", "joblib"):
        module = sys.modules.get(name)
        if getattr(module, "__file__", None):
            folders.append(Path(module.__file__).resolve().parent)
    return tuple(str(folder) + os.sep for folder in folders)


def caller_stacklevel():
    """``stacklevel`` for a warning raised by this function's caller that
    names the first frame outside sknets, scikit-learn and joblib."""
    inside = _library_folders()
    frame, level = sys._getframe(1), 1
    while frame is not None and _resolved(frame.f_code.co_filename).startswith(
            inside):
        frame, level = frame.f_back, level + 1
    return level


def warn(message, category=UserWarning):
    """``warnings.warn(message, category)`` shown at the user's calling line.

    Parameters
    ----------
    message : str or Warning
        The warning (an instance makes ``category`` unused, as in
        :func:`warnings.warn`).
    category : type, default=UserWarning
        The warning class.
    """
    warnings.warn(message, category, stacklevel=caller_stacklevel())
