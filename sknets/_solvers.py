"""Solvers and learning-rate schedules, as the estimators see them.

The engine's registry (:mod:`sknets._engine.solvers`) declares every solver
and schedule with its hyperparameters. This module is the one place that
turns those declarations into what the estimators need: scikit-learn
parameter constraints, the lists of names in messages, the paragraphs of
the docstrings, the values an estimator hands the engine, and the warm-start
refresh of a carried-over optimiser. The estimators' signatures still list
the hyperparameters one by one, as scikit-learn requires;
``tests/test_solver_registry.py`` checks that each holds every registered
one with its registry default. What remains solver-specific above the
engine is L-BFGS' own path (its run and its convergence message) and the
choice of 'adam' where a denoising pre-training cannot use L-BFGS.
"""

import re
import textwrap
from numbers import Integral, Real

from ._engine import solvers as registry
from ._engine.optimizers import make_optimizer
from ._engine.schedules import make_schedule
from ._sklearn_compat import Interval, StrOptions

# Line width of the docstrings' generated paragraphs (that of the
# hand-written ones).
_DOC_WIDTH = 79
# A range such as "[0, 1)" is kept on one line.
_RANGE = re.compile(r"([\[(][-\w.]+), ([-\w.]+[\])])")


class _RegisteredNames(StrOptions):
    """``StrOptions`` whose options are the registry's names when checked.

    The constraint dicts are built once, when the estimator classes are
    defined; reading the registry at check time lets a solver or schedule
    registered afterwards (by a plugin, or a test) be accepted.
    """

    def __init__(self, names):
        self._names = names
        super().__init__(self.options)

    @property
    def options(self):
        # A set, as scikit-learn's StrOptions holds; built from the names in
        # registry order, the set literal that the constraints used to hold.
        return set(self._names())

    @options.setter
    def options(self, value):
        # StrOptions.__init__ assigns it; the registry owns the options.
        pass


# -- names ------------------------------------------------------------------


def solver_names():
    """Every registered solver, full-batch ones first."""
    return tuple(cls.name for cls in registry.solvers())


def schedule_names():
    """Every registered learning-rate schedule."""
    return tuple(cls.name for cls in registry.schedules())


def stochastic_solvers():
    """The registered solvers that train on minibatches."""
    return tuple(cls.name for cls in registry.solvers() if cls.stochastic)


def is_stochastic(solver):
    """Whether ``solver`` trains on minibatches (it has epochs, an optimiser
    and a schedule)."""
    return registry.is_stochastic(solver)


def _quoted_list(names, conjunction):
    """``'a', 'b' or 'c'``."""
    quoted = [f"'{name}'" for name in names]
    if len(quoted) < 2:
        return "".join(quoted)
    return f"{', '.join(quoted[:-1])} {conjunction} {quoted[-1]}"


def stochastic_solvers_text():
    """The stochastic solvers for a message: ``'sgd', 'adam' or 'adagrad'``."""
    return _quoted_list(stochastic_solvers(), "or")


# -- hyperparameters ----------------------------------------------------------


def _declared(classes):
    """``{param: Hyperparameter}`` of ``classes``, in their order."""
    found = {}
    for cls in classes:
        for h in cls.hyperparameters:
            found.setdefault(h.param, h)
    return found


def hyperparameters():
    """``{param: Hyperparameter}`` of every registered solver and schedule."""
    return _declared((*registry.solvers(), *registry.schedules()))


def _users(param):
    """The solvers and schedules that declare ``param``."""
    return [cls.name for cls in (*registry.solvers(), *registry.schedules())
            if any(h.param == param for h in cls.hyperparameters)]


def _constraint(h):
    if h.kind == "bool":
        return ["boolean"]
    kind = Integral if h.kind == "int" else Real
    return [Interval(kind, h.low, h.high, closed=h.closed)]


def parameter_constraints():
    """The scikit-learn constraints of ``solver``, ``learning_rate`` and every
    registered hyperparameter, for an estimator's ``_parameter_constraints``."""
    return {
        "solver": [_RegisteredNames(solver_names)],
        "learning_rate": [_RegisteredNames(schedule_names)],
        **{param: _constraint(h) for param, h in hyperparameters().items()},
    }


def _values(estimator, declared):
    # An estimator without one of the parameters (one written before a
    # solver was registered) runs that solver with its default.
    return {param: getattr(estimator, param, h.default)
            for param, h in declared.items()}


def hyperparameter_values(estimator):
    """``{param: value}`` of every registered hyperparameter of ``estimator``."""
    return _values(estimator, hyperparameters())


def stochastic_hyperparameter_values(estimator):
    """``{param: value}`` of the hyperparameters of the stochastic solvers.

    What a pre-training autoencoder takes over from its estimator (the
    solver's, not the schedule's nor L-BFGS' budget, which keep their
    defaults there).
    """
    classes = [cls for cls in registry.solvers() if cls.stochastic]
    return _values(estimator, _declared(classes))


# -- what the estimators build --------------------------------------------------


def new_optimizer(estimator, network):
    """The optimiser of ``estimator``'s (stochastic) solver for ``network``."""
    return make_optimizer(estimator.solver, network.n_params, network.dtype,
                          hyperparameter_values(estimator))


def refresh_optimizer(optimizer, estimator):
    """Give a carried-over optimiser ``estimator``'s current hyperparameters
    (its state, e.g. the velocity, is kept)."""
    optimizer.set_hyperparameters(hyperparameter_values(estimator))


def full_batch_options(estimator):
    """The keywords of ``estimator``'s full-batch solver (``max_fun``)."""
    cls = registry.get_solver(estimator.solver)
    return registry.values(cls, hyperparameter_values(estimator))


def _schedule_name(estimator):
    return registry.schedule_for(estimator.solver, estimator.learning_rate)


def new_schedule(estimator):
    """The learning-rate schedule ``estimator``'s solver runs under."""
    return make_schedule(_schedule_name(estimator), estimator.learning_rate_init,
                         hyperparameter_values(estimator))


def schedule_key(estimator):
    """What a carried-over schedule depends on; a warm start builds a new one
    when it changed.

    ``(the solver honours only some schedules, learning_rate,
    learning_rate_init, *the schedules' hyperparameters)``: for today's
    solvers, the tuple that fitted states have always held (Adam is the one
    that honours only some), so that a model saved by an earlier sknets
    continues its schedule.
    """
    restricted = registry.get_solver(estimator.solver).schedules is not None
    schedule_params = _declared(registry.schedules())
    return (restricted, estimator.learning_rate, estimator.learning_rate_init,
            *_values(estimator, schedule_params).values())


def schedule_is_current(schedule, estimator):
    """Whether ``schedule`` is of the kind ``estimator`` asks for.

    The key cannot tell apart two solvers that each honour some schedules
    but not the same ones; the schedule's class can.
    """
    return type(schedule) is registry.get_schedule(_schedule_name(estimator))


# -- docs -------------------------------------------------------------------------


def _format_default(value):
    # 1e-08 -> 1e-8, as the docstrings write it.
    return re.sub(r"e([+-])0+(\d)", r"e\1\2", repr(value))


def _paragraph(text, indent=8, first=None):
    # textwrap breaks at ASCII whitespace only: a no-break space holds a
    # range together, and is a plain space again in the result.
    text = _RANGE.sub("\\1,\N{NO-BREAK SPACE}\\2", text)
    return textwrap.fill(
        text, width=_DOC_WIDTH, initial_indent=" " * indent if first is None
        else first, subsequent_indent=" " * indent, break_long_words=False,
        break_on_hyphens=False,
    ).replace("\N{NO-BREAK SPACE}", " ")


def _bullets(classes):
    return "\n".join(
        _paragraph(f"'{cls.name}': {cls.summary}", indent=10, first=" " * 8 + "- ")
        for cls in classes
    )


def hyperparameter_doc(param):
    """The numpydoc entry of the registered hyperparameter ``param``."""
    h = hyperparameters()[param]
    kind = {"real": "float", "int": "int", "bool": "bool"}[h.kind]
    doc = h.doc.replace("{users}", _quoted_list(_users(param), "and"))
    return (f"    {param} : {kind}, default={_format_default(h.default)}\n"
            + _paragraph(doc))


def _schedule_solvers():
    """Which solvers the schedules apply to, as a paragraph."""
    stochastic = [cls for cls in registry.solvers() if cls.stochastic]
    every = [cls.name for cls in stochastic if cls.schedules is None]
    notes = []
    for cls in stochastic:
        if cls.schedules is None:
            continue
        if cls.schedules:
            notes.append(f"'{cls.name}' uses only "
                         f"{_quoted_list(cls.schedules, 'or')}, and otherwise "
                         "keeps ``learning_rate_init``")
        else:
            notes.append(f"'{cls.name}' keeps ``learning_rate_init``")
    text = "Learning-rate schedule"
    if every:
        text += f" for {_quoted_list(every, 'and')}"
    if notes:
        text += f" ({'; '.join(notes)})"
    return _paragraph(text + ".")


def _options(names):
    return "{" + ", ".join(f"'{name}'" for name in names) + "}"


def fill_docs(doc):
    """``doc`` with the registry's text in place of its placeholders.

    ``{solver_options}`` and ``{learning_rate_options}``: the sets of names
    of a type line; ``{solver_list}`` and ``{schedule_list}``: a bullet per
    solver or schedule; ``{schedule_solvers}``: the solvers the schedules
    apply to; ``{hyperparameter:NAME}``: the whole entry of a registered
    hyperparameter (a name that is not one raises a KeyError, at import).
    """
    if doc is None:  # python -OO strips the docstrings
        return doc
    pieces = {
        "{solver_options}": lambda: _options(solver_names()),
        "{learning_rate_options}": lambda: _options(schedule_names()),
        "{solver_list}": lambda: _bullets(registry.solvers()),
        "{schedule_list}": lambda: _bullets(registry.schedules()),
        "{schedule_solvers}": _schedule_solvers,
    }
    for token, text in pieces.items():
        if token in doc:
            doc = doc.replace(token, text())
    return re.sub(r"\{hyperparameter:(\w+)\}",
                  lambda match: hyperparameter_doc(match.group(1)), doc)
