"""The registry of solvers and learning-rate schedules.

A solver (an optimiser class, or L-BFGS) and a learning-rate schedule each
declare, as class attributes, everything the estimators need to know about
them:

``name``
    The string the estimators' ``solver`` or ``learning_rate`` takes.
``hyperparameters``
    A tuple of :class:`Hyperparameter`: the estimator parameters the class
    reads, each with its default, the range it accepts and its documentation.
``summary``
    One sentence for the list of solvers or schedules in the docs
    (default: the first line of the class's own docstring).

and a solver also

``stochastic``
    Whether it trains on minibatches, one optimiser step at a time (L-BFGS
    does not: it has no epochs, no optimiser state and no schedule).
``schedules``
    The names of the schedules it honours, or None for all; under another
    schedule its rate stays ``learning_rate_init`` (:data:`FALLBACK_SCHEDULE`).

:func:`register_solver` and :func:`register_schedule` are class decorators
that check these declarations and add the class. Everything above the
engine (parameter constraints, messages, docs, warm start, persistence)
reads the registry, so a new optimiser is one registered class. The
registry is engine-neutral: the estimators turn a :class:`Hyperparameter`
into a scikit-learn constraint themselves (``sknets/_solvers.py``).
"""

import inspect
from dataclasses import dataclass

# The schedule a solver runs under when it does not honour the requested one.
FALLBACK_SCHEDULE = "constant"

_KINDS = ("real", "int", "bool")
_CLOSED = ("left", "right", "both", "neither")
_SOLVERS = {}
_SCHEDULES = {}


@dataclass(frozen=True)
class Hyperparameter:
    """A hyperparameter of a solver or a schedule, as an estimator takes it.

    Parameters
    ----------
    param : str
        The estimator parameter (e.g. ``"nesterovs_momentum"``).
    default : object
        Its default, the same in every estimator's signature.
    kind : {"real", "int", "bool"}, default="real"
        The type of its values.
    low, high : float or None, default=None
        The bounds of a "real" or "int" value; None is unbounded.
    closed : {"left", "right", "both", "neither"}, default="neither"
        Which bounds belong to the range.
    doc : str, default=""
        Its one-paragraph description for the estimators' docstrings;
        ``{users}`` stands for the list of the solvers or schedules that
        declare it (e.g. "'adam' and 'adagrad'").
    attr : str or None, default=None
        The keyword of the class's constructor, and the attribute of its
        instances, that receives the value (e.g. ``"nesterov"``); None: the
        same as ``param``.
    """

    param: str
    default: object
    kind: str = "real"
    low: float | None = None
    high: float | None = None
    closed: str = "neither"
    doc: str = ""
    attr: str | None = None

    def __post_init__(self):
        if self.kind not in _KINDS:
            raise ValueError(f"kind must be one of {_KINDS}, got {self.kind!r}.")
        if self.closed not in _CLOSED:
            raise ValueError(
                f"closed must be one of {_CLOSED}, got {self.closed!r}."
            )
        if self.attr is None:  # frozen: set through object's own setter
            object.__setattr__(self, "attr", self.param)

    def range_key(self):
        """Everything the estimators derive one constraint and one doc from.

        Two classes that share an estimator parameter must agree on it; only
        the attribute that receives the value may differ.
        """
        return (self.param, self.default, self.kind, self.low, self.high,
                self.closed, self.doc)


def _qualified_name(cls):
    return f"{cls.__module__}:{cls.__qualname__}"


def _check_constructor(cls, hyperparameters):
    """The constructor takes every ``attr``, with the declared default.

    A default that drifts from its descriptor would make a directly built
    object differ from one the estimators build; caught at import.
    """
    parameters = inspect.signature(cls.__init__).parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    for h in hyperparameters:
        given = parameters.get(h.attr)
        if given is None and not takes_any:
            raise TypeError(
                f"{cls.__name__}'s constructor has no keyword {h.attr!r} for "
                f"its hyperparameter {h.param!r}."
            )
        if given is not None and given.default is not given.empty and (
            given.default != h.default
        ):
            raise ValueError(
                f"{cls.__name__}'s constructor defaults {h.attr}="
                f"{given.default!r}, but its hyperparameter {h.param!r} "
                f"declares {h.default!r}."
            )


def _check_shared(cls, hyperparameters):
    """A parameter declared by several classes is declared alike."""
    others = [c for c in (*_SOLVERS.values(), *_SCHEDULES.values())
              if _qualified_name(c) != _qualified_name(cls)]
    for h in hyperparameters:
        for other in others:
            for o in other.hyperparameters:
                if o.param == h.param and o.range_key() != h.range_key():
                    raise ValueError(
                        f"{cls.__name__} declares the hyperparameter "
                        f"{h.param!r} otherwise than {other.__name__} does; "
                        "an estimator parameter has one default, range and "
                        "doc (share one Hyperparameter object)."
                    )


def _register(registry, kind, cls):
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise TypeError(f"A {kind} needs a class attribute `name` (a string).")
    hyperparameters = tuple(getattr(cls, "hyperparameters", ()))
    if not all(isinstance(h, Hyperparameter) for h in hyperparameters):
        raise TypeError(
            f"{cls.__name__}.hyperparameters must hold Hyperparameter objects."
        )
    params = [h.param for h in hyperparameters]
    if len(set(params)) != len(params):
        raise ValueError(f"{cls.__name__} declares a hyperparameter twice.")
    current = registry.get(name)
    # The same class again (a reloaded module) replaces itself; another
    # class must not silently take over a name.
    if current is not None and _qualified_name(current) != _qualified_name(cls):
        raise ValueError(
            f"The {kind} name {name!r} is taken by {_qualified_name(current)}."
        )
    # A full-batch solver is never constructed (it is a function's entry).
    if kind == "schedule" or cls.stochastic:
        _check_constructor(cls, hyperparameters)
    _check_shared(cls, hyperparameters)
    cls.hyperparameters = hyperparameters
    if not cls.__dict__.get("summary"):
        # Its own docstring's first line, for a class that gives no summary
        # (not its base class's: that describes another solver).
        cls.summary = inspect.cleandoc(cls.__doc__ or name).splitlines()[0]
    registry[name] = cls
    return cls


def register_solver(cls):
    """Class decorator: add the solver ``cls`` to the registry.

    A stochastic solver is an optimiser (see ``optimizers.Optimizer``)
    whose constructor takes ``(n_params, dtype, ..., ops=None)`` and the
    ``attr`` of each of its hyperparameters as keywords.

    Raises
    ------
    TypeError, ValueError
        If the declarations are incomplete or inconsistent, or the name is
        taken by another class.
    """
    if not hasattr(cls, "stochastic"):
        raise TypeError("A solver needs a class attribute `stochastic`.")
    if not hasattr(cls, "schedules"):
        cls.schedules = None
    return _register(_SOLVERS, "solver", cls)


def register_schedule(cls):
    """Class decorator: add the learning-rate schedule ``cls`` to the registry.

    Its constructor takes ``(learning_rate_init, ...)`` and the ``attr`` of
    each of its hyperparameters as keywords.
    """
    return _register(_SCHEDULES, "schedule", cls)


def unregister_solver(name):
    """Remove the solver ``name``; return its class."""
    return _SOLVERS.pop(name)


def unregister_schedule(name):
    """Remove the schedule ``name``; return its class."""
    return _SCHEDULES.pop(name)


def _load_builtins():
    # Importing the modules registers their classes (a no-op once imported;
    # not at the top: they import this module).
    from . import lbfgs, optimizers, schedules  # noqa: F401


def solvers():
    """The registered solver classes: full-batch first, then stochastic, each
    group in the order registered (the order of every list of names)."""
    _load_builtins()
    entries = list(_SOLVERS.values())
    return tuple(sorted(entries, key=lambda cls: bool(cls.stochastic)))


def schedules():
    """The registered schedule classes, in the order registered."""
    _load_builtins()
    return tuple(_SCHEDULES.values())


def _lookup(registry, name, what):
    _load_builtins()
    try:
        return registry[name]
    except (KeyError, TypeError):
        raise ValueError(f"Unknown {what} {name!r}.") from None


def get_solver(name):
    """The class registered as solver ``name``.

    Raises
    ------
    ValueError
        If no solver has that name.
    """
    return _lookup(_SOLVERS, name, "solver")


def get_schedule(name):
    """The class registered as learning-rate schedule ``name``.

    Raises
    ------
    ValueError
        If no schedule has that name.
    """
    return _lookup(_SCHEDULES, name, "learning-rate schedule")


def registered_class(qualified_name):
    """The registered solver or schedule class named ``"module:qualname"``,
    or None (used to rebuild saved engine objects)."""
    for cls in (*solvers(), *schedules()):
        if _qualified_name(cls) == qualified_name:
            return cls
    return None


def is_stochastic(name):
    """Whether ``name`` is a registered stochastic solver."""
    _load_builtins()
    cls = _SOLVERS.get(name) if isinstance(name, str) else None
    return cls is not None and bool(cls.stochastic)


def schedule_for(solver, schedule):
    """The schedule that ``solver`` runs under when asked for ``schedule``.

    scikit-learn's Adam, for one, ignores ``learning_rate``: sknets' honours
    only 'halving' (its own addition) and keeps the rate constant otherwise.
    """
    honoured = get_solver(solver).schedules
    if honoured is None or schedule in honoured:
        return schedule
    return FALLBACK_SCHEDULE


def values(cls, params):
    """``{attr: value}`` for ``cls``'s hyperparameters, from ``params``.

    ``params`` maps estimator parameter names to values (it may hold other
    parameters too); a hyperparameter it lacks takes its default.
    """
    params = {} if params is None else params
    return {h.attr: params.get(h.param, h.default) for h in cls.hyperparameters}
