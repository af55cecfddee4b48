"""The saved state of an estimator: plain data, with its sknets version.

Pickle, joblib, :mod:`copy` and skops all go through ``__getstate__`` and
``__setstate__``. The state they get holds the engine objects of a fitted
estimator (network, layers, loss, optimiser, schedule) as nested dicts of
builtins and numpy arrays, each tagged with its engine class, and numpy
dtypes as strings; so skops' secure format has nothing to trust but the
estimator's own class. Rebuilding is limited to classes defined in the
engine's modules and to the registered solvers and schedules (wherever they
are defined: the registry, not a module list, says which optimiser classes
a state may name), and never calls a constructor: it restores the objects'
``__dict__`` as unpickling does.

The state also records the sknets version that wrote it and the number of
its format. Loading a state of another version warns
(:class:`~sknets.exceptions.InconsistentVersionWarning`); a format this
version cannot read raises a ``ValueError`` that says which version wrote
it.
"""

import importlib

import numpy as np

from ._engine import solvers as solver_registry
from ._engine.errors import warn
from .exceptions import InconsistentVersionWarning

# Bumped whenever a fitted attribute or an engine object changes in a way
# that an older or newer sknets cannot read.
STATE_FORMAT = 1

# The modules of the built-in optimisers and schedules stay listed, so that
# any class a state of an earlier sknets names there is still rebuilt.
_ENGINE_MODULES = frozenset(
    f"sknets._engine.{name}"
    for name in ("layers", "losses", "network", "optimizers", "schedules")
)
_CLASS = "__sknets_engine_class__"
_DTYPE = "__numpy_dtype__"
# Fitted attributes that hold engine objects.
_ENGINE_ATTRIBUTES = ("_network", "_train_state")


def _is_engine_class(cls):
    """Whether instances of ``cls`` are saved as tagged plain data."""
    if cls.__module__ in _ENGINE_MODULES:
        return True
    # Only a class with registry declarations can be registered (a cheap
    # test first: every value of a state passes here).
    return (hasattr(cls, "hyperparameters")
            and solver_registry.registered_class(_class_name(cls)) is cls)


def _class_name(cls):
    return f"{cls.__module__}:{cls.__qualname__}"


def _encode(value):
    """``value`` with engine objects and dtypes as tagged plain data.

    Containers are copied only where something inside them changed, so
    that objects shared between attributes stay shared in a pickle.
    """
    if isinstance(value, np.dtype):
        return {_DTYPE: value.str}
    cls = type(value)
    if _is_engine_class(cls):
        state = value.__getstate__() if hasattr(value, "__getstate__") else None
        if state is None:  # an object without attributes (Python >= 3.11)
            state = dict(vars(value))
        return {_CLASS: _class_name(cls), "state": _encode(state)}
    if cls is dict:
        items = {key: _encode(item) for key, item in value.items()}
        changed = any(items[key] is not value[key] for key in value)
        return items if changed else value
    if cls in (list, tuple):
        items = [_encode(item) for item in value]
        changed = any(new is not old for new, old in zip(items, value, strict=True))
        return cls(items) if changed else value
    return value


def _decode(value):
    """Inverse of :func:`_encode`."""
    cls = type(value)
    if cls is dict:
        if _DTYPE in value:
            return np.dtype(value[_DTYPE])
        if _CLASS in value:
            return _rebuild(value[_CLASS], _decode(value["state"]))
        items = {key: _decode(item) for key, item in value.items()}
        changed = any(items[key] is not value[key] for key in value)
        return items if changed else value
    if cls in (list, tuple):
        items = [_decode(item) for item in value]
        changed = any(new is not old for new, old in zip(items, value, strict=True))
        return cls(items) if changed else value
    return value


def _rebuild(name, state):
    """An engine object of class ``name`` ("module:qualname") from its state."""
    module_name, _, qualname = str(name).partition(":")
    # A registered solver or schedule, from any module (never imported
    # here: it registered itself when its module was imported).
    cls = solver_registry.registered_class(str(name))
    if cls is None and module_name in _ENGINE_MODULES:
        cls = getattr(importlib.import_module(module_name), qualname, None)
    if not (isinstance(cls, type) and cls.__module__ == module_name):
        raise ValueError(
            f"The saved state names {name!r}, which is not a class of the "
            "sknets engine; the file is damaged or was not written by sknets."
        )
    obj = cls.__new__(cls)
    if hasattr(obj, "__setstate__"):
        obj.__setstate__(state)
    else:
        obj.__dict__.update(state)
    return obj


def _current_version():
    from . import __version__  # not at import time: sknets imports this module

    return __version__


def get_state(state):
    """The saved form of an estimator's ``__dict__``-like ``state``."""
    state = dict(state)
    for key in _ENGINE_ATTRIBUTES:
        if key in state:
            state[key] = _encode(state[key])
    state["_sknets_version"] = _current_version()
    state["_sknets_state_format"] = STATE_FORMAT
    return state


def set_state(estimator_name, state):
    """The attributes to restore from a saved ``state``.

    Raises
    ------
    ValueError
        If the state's format is not the one this sknets reads.

    Warns
    -----
    InconsistentVersionWarning
        If the state was written by another sknets version.
    """
    state = dict(state)
    current = _current_version()
    # States written before sknets recorded its version have the format 1
    # layout, with the engine objects pickled directly.
    version = state.pop("_sknets_version", "unknown (before 0.1.0)")
    state_format = state.pop("_sknets_state_format", 1)
    if state_format != STATE_FORMAT:
        raise ValueError(
            f"This {estimator_name} was saved by sknets {version} in state "
            f"format {state_format}, which sknets {current} cannot read (it "
            f"reads format {STATE_FORMAT}). Load it with sknets {version}, or "
            "fit the model again with this version."
        )
    if version != current:
        warn(
            InconsistentVersionWarning(
                estimator_name=estimator_name, current_sknets_version=current,
                original_sknets_version=version,
            ),
        )
    for key in _ENGINE_ATTRIBUTES:
        if key in state:
            state[key] = _decode(state[key])
    return state
