"""Global configuration: which array backend trains the networks.

In scikit-learn's style (:func:`sklearn.config_context`): a setting per
thread, changed for a block with :func:`config_context` or for good with
:func:`set_config`, read with :func:`get_config`. Not an estimator
parameter: ``get_params`` and pickles do not depend on the machine.
"""

import os
import threading
from contextlib import contextmanager

#: The environment variable that sets the default backend.
ENV_VAR = "SKNETS_BACKEND"
BACKENDS = ("auto", "numpy", "numba")

# Under "auto", numba trains a network when a fit's work, rows x weights x
# epochs, is at least this: about 2 s of numpy training on the machines the
# benchmarks ran on, where numba's import and the loading of its compiled
# kernels (about 0.5 s once per process) are repaid.
AUTO_MIN_WORK = 1e10

_local = threading.local()


def _check_backend(backend, source):
    if backend not in BACKENDS:
        raise ValueError(
            f"{source} must be one of {', '.join(map(repr, BACKENDS))}; got "
            f"{backend!r}."
        )
    return backend


def get_config():
    """The current configuration of sknets.

    Returns
    -------
    config : dict
        ``{"backend": ...}``: the array backend that trains the networks,
        one of ``"auto"``, ``"numpy"`` and ``"numba"`` (see
        :func:`set_config`). Where no setting was made, the value of the
        environment variable ``SKNETS_BACKEND``, or ``"auto"``.

    See Also
    --------
    set_config, config_context
    """
    backend = getattr(_local, "backend", None)
    if backend is None:
        backend = os.environ.get(ENV_VAR, "") or "auto"
        _check_backend(backend.strip().lower(),
                       f"The environment variable {ENV_VAR}")
        backend = backend.strip().lower()
    return {"backend": backend}


def set_config(backend=None):
    """Set the configuration of sknets for the current thread.

    Parameters
    ----------
    backend : {"auto", "numpy", "numba"}, optional
        The array backend that trains the networks (None: leave it as it
        is):

        - ``"numpy"``: numpy and its BLAS, on every install.
        - ``"numba"``: numpy's BLAS for the matrix products and fused
          compiled kernels for the rest (``pip install numba``, or
          ``pip install '.[fast]'`` in a clone); an ImportError says so
          where numba is missing.
        - ``"auto"`` (the default): numba where it is installed and a fit's
          work (rows x weights x epochs) is large enough to repay loading
          it, numpy otherwise.

        The two backends agree to float32 round-off, except that dropout
        draws its masks differently on each: the same ``random_state``
        gives the same model on the same backend. A model fitted on one
        loads, predicts and goes on training on the other. The choice is
        made at each ``fit`` and ``partial_fit``; predictions use the
        backend the model last trained on (numpy where that one is not
        installed), or the one set here when it is not ``"auto"``.

    See Also
    --------
    get_config, config_context

    Notes
    -----
    The setting belongs to the thread that makes it. Worker processes
    (``n_jobs`` in scikit-learn's model selection) start with the default,
    so set the environment variable ``SKNETS_BACKEND`` before starting
    Python to choose the backend of every process.
    """
    if backend is not None:
        _local.backend = _check_backend(backend, "backend")


@contextmanager
def config_context(*, backend=None):
    """Set the configuration of sknets within a ``with`` block.

    Parameters
    ----------
    backend : {"auto", "numpy", "numba"}, optional
        See :func:`set_config`; None leaves the setting as it is.

    Yields
    ------
    None

    See Also
    --------
    set_config, get_config

    Examples
    --------
    >>> import sknets
    >>> with sknets.config_context(backend="numpy"):
    ...     sknets.get_config()["backend"]
    'numpy'
    """
    old = getattr(_local, "backend", None)
    set_config(backend=backend)
    try:
        yield
    finally:
        _local.backend = old


def training_ops(work):
    """The Ops that trains a network, for a fit of ``work`` (rows x weights
    x epochs) under the current setting."""
    from ._engine.ops import get_ops

    backend = get_config()["backend"]
    if backend == "auto":
        if work < AUTO_MIN_WORK:
            return get_ops("numpy")
        try:
            return get_ops("numba")
        except ImportError:
            return get_ops("numpy")
    return get_ops(backend)


def prediction_ops(current):
    """The Ops that predicts with a network trained on ``current``."""
    from ._engine.ops import get_ops

    backend = get_config()["backend"]
    return current if backend == "auto" else get_ops(backend)
