"""The registry of solvers and schedules, and everything that reads it.

A new optimiser is one class registered with ``@register_solver``. The
tests below register a toy one (sign SGD, with one hyperparameter) and show
that the parameter constraints, ``make_optimizer``, training, the warm-start
refresh, the messages, the docs and persistence pick it up, and forget it
once it is unregistered; and they pin what the registry must not change for
today's solvers (messages, the warm-start key that saved states hold, the
class names a saved state holds).
"""

import contextlib
import copy
import inspect
import pickle
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from sknets import (
    AutoencoderTransformer,
    MLPClassifier,
    MLPRegressor,
    StackedPretrainedClassifier,
    StackedPretrainedRegressor,
    _solvers,
)
from sknets._engine import solvers as registry
from sknets._engine.lbfgs import LBFGS
from sknets._engine.optimizers import (
    SGD,
    Adagrad,
    Adam,
    Optimizer,
    make_optimizer,
)
from sknets._engine.schedules import Constant, Halving, InvScaling, make_schedule
from sknets.diagnostics import training_report

X, y = make_classification(n_samples=60, n_features=5, n_informative=3,
                           random_state=0)
X01 = (X - X.min(axis=0)) / (X.max(axis=0) - X.min(axis=0))
SMALL = dict(hidden_layer_sizes=(6,), max_iter=3, random_state=0)

# Every estimator that takes a solver: its signature must list every
# registered hyperparameter (scikit-learn needs them all in __init__).
ESTIMATORS = [MLPClassifier, MLPRegressor, AutoencoderTransformer,
              StackedPretrainedClassifier, StackedPretrainedRegressor]


def fit_quietly(est, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args)


# --------------------------------------------------------------------------
# the toy optimiser: all a new solver needs
# --------------------------------------------------------------------------


class SignSGD(Optimizer):
    """Sign SGD: a step of the learning rate along each gradient's sign."""

    name = "sign_sgd"
    hyperparameters = (
        registry.Hyperparameter("sign_decay", 0.0, low=0, high=1, closed="left",
                                doc="Weight decay of {users}, in [0, 1)."),
    )

    def step(self, theta, grad, learning_rate, scaled=False):
        self.n_steps += 1
        theta *= 1 - self.sign_decay
        theta -= learning_rate * np.sign(grad)


@contextlib.contextmanager
def registered(cls, register=registry.register_solver,
               unregister=registry.unregister_solver):
    """``cls`` in the registry for the ``with`` block only."""
    register(cls)
    try:
        yield cls
    finally:
        unregister(cls.name)


def classifier_taking(*hyperparameters):
    """An MLPClassifier whose signature also takes ``hyperparameters``.

    What the built-in estimators look like once a solver is added to the
    package: its hyperparameters in the signature (with the registry's
    default) and the registry's constraints.
    """
    signature = inspect.signature(MLPClassifier.__init__)
    params = [*signature.parameters.values(), *(
        inspect.Parameter(h.param, inspect.Parameter.KEYWORD_ONLY,
                          default=h.default) for h in hyperparameters)]

    def __init__(self, *args, **kwargs):
        bound = __init__.__signature__.bind(self, *args, **kwargs)
        bound.apply_defaults()
        self._store_parameters(bound.arguments)

    __init__.__signature__ = signature.replace(parameters=params)
    return type("SignClassifier", (MLPClassifier,), {
        "__init__": __init__,
        "_parameter_constraints": {**MLPClassifier._parameter_constraints,
                                   **_solvers.parameter_constraints()},
    })


def test_a_registered_solver_is_listed_and_worded_in_the_messages():
    with registered(SignSGD):
        assert _solvers.solver_names() == ("lbfgs", "sgd", "adam", "adagrad",
                                           "sign_sgd")
        assert _solvers.stochastic_solvers()[-1] == "sign_sgd"
        assert _solvers.is_stochastic("sign_sgd")
        text = "'sgd', 'adam', 'adagrad' or 'sign_sgd'"
        assert _solvers.stochastic_solvers_text() == text
        with pytest.raises(ValueError, match=f"stochastic solver \\({text}\\)"):
            MLPClassifier(**SMALL, solver="lbfgs", dropout=0.2).fit(X, y)
        report = training_report(fit_quietly(
            MLPClassifier(**SMALL, solver="lbfgs"), X, y))
        assert text in str(report)
    assert "sign_sgd" not in _solvers.solver_names()
    assert _solvers.stochastic_solvers_text() == "'sgd', 'adam' or 'adagrad'"


def test_the_estimators_constraints_accept_a_registered_name_only():
    clf = MLPClassifier(**SMALL, solver="sign_sgd")
    with pytest.raises(ValueError, match="'solver' parameter of MLPClassifier"):
        clf.fit(X, y)
    with registered(SignSGD):
        fit_quietly(clf, X, y)
        # Its hyperparameter takes its default in an estimator without it.
        assert type(clf._train_state["optimizer"]) is SignSGD
        assert clf._train_state["optimizer"].sign_decay == 0.0
        assert hasattr(clf, "partial_fit")
    with pytest.raises(ValueError, match="'solver' parameter of MLPClassifier"):
        clf.fit(X, y)


def test_constraints_of_a_registered_hyperparameter():
    with registered(SignSGD):
        SignClassifier = classifier_taking(*SignSGD.hyperparameters)
        fit_quietly(SignClassifier(**SMALL, solver="sign_sgd", sign_decay=0.5),
                    X, y)
        for bad in (1.0, -0.1, "a lot"):
            with pytest.raises(ValueError,
                               match=r"'sign_decay' parameter .* \[0.0, 1.0\)"):
                SignClassifier(**SMALL, solver="sign_sgd", sign_decay=bad).fit(X, y)


def test_make_optimizer_builds_a_registered_optimizer_from_estimator_params():
    with registered(SignSGD):
        opt = make_optimizer("sign_sgd", 4, np.float64,
                             {"sign_decay": 0.25, "momentum": 0.3})
        assert type(opt) is SignSGD and opt.sign_decay == 0.25
        assert make_optimizer("sign_sgd", 4, np.float64).sign_decay == 0.0
        theta = np.ones(4)
        opt.step(theta, np.array([1.0, -2.0, 0.0, 3.0]), 0.1)
        np.testing.assert_allclose(theta, [0.65, 0.85, 0.75, 0.65])
    with pytest.raises(ValueError, match="Unknown stochastic solver 'sign_sgd'"):
        make_optimizer("sign_sgd", 4, np.float64)


def test_warm_start_refreshes_a_registered_optimizers_hyperparameters():
    with registered(SignSGD):
        SignClassifier = classifier_taking(*SignSGD.hyperparameters)
        clf = fit_quietly(SignClassifier(**SMALL, solver="sign_sgd",
                                         sign_decay=0.1, warm_start=True), X, y)
        optimizer = clf._train_state["optimizer"]
        n_steps = optimizer.n_steps
        fit_quietly(clf.set_params(sign_decay=0.2), X, y)
        carried = clf._train_state["optimizer"]
        # The same optimiser carried on (its step count continues), with
        # the new value.
        assert carried.n_steps > n_steps
        assert carried.sign_decay == 0.2
        # Another solver: a new optimiser.
        fit_quietly(clf.set_params(solver="sgd"), X, y)
        assert type(clf._train_state["optimizer"]) is SGD


def test_a_registered_solver_is_documented_from_the_registry():
    with registered(SignSGD):
        assert _solvers.hyperparameter_doc("sign_decay") == (
            "    sign_decay : float, default=0.0\n"
            "        Weight decay of 'sign_sgd', in [0, 1)."
        )
        listing = _solvers.fill_docs("{solver_options}\n{solver_list}")
        assert listing.startswith(
            "{'lbfgs', 'sgd', 'adam', 'adagrad', 'sign_sgd'}\n")
        # The summary defaults to the docstring's first line.
        assert ("        - 'sign_sgd': Sign SGD: a step of the learning rate "
                "along each\n          gradient's sign.") in listing
        assert "'sgd', 'adagrad' and 'sign_sgd' (" in _solvers.fill_docs(
            "{schedule_solvers}").replace("\n        ", " ")


def test_a_model_trained_with_a_registered_solver_round_trips():
    with registered(SignSGD):
        clf = fit_quietly(MLPClassifier(**SMALL, solver="sign_sgd"), X, y)
        state = clf.__getstate__()
        encoded = state["_train_state"]["optimizer"]
        assert encoded["__sknets_engine_class__"] == (
            f"{__name__}:SignSGD")
        data = pickle.dumps(clf)
        loaded = pickle.loads(data)
        assert type(loaded._train_state["optimizer"]) is SignSGD
        for model in (clf, loaded):
            model.partial_fit(X, y)
        np.testing.assert_array_equal(clf.predict_proba(X),
                                      loaded.predict_proba(X))
    # Unregistered, the class is not trusted any more.
    with pytest.raises(ValueError, match="not a class of the sknets engine"):
        pickle.loads(data)


def test_a_registered_schedule_is_accepted_built_and_documented():
    class Cyclic(Constant):
        """Cycle between the rate and a tenth of it."""

        name = "cyclic"
        hyperparameters = (
            registry.Hyperparameter("cycle_length", 4, kind="int", low=1,
                                    closed="left", doc="Epochs of {users}."),
        )

        def __init__(self, learning_rate_init, cycle_length=4):
            super().__init__(learning_rate_init)
            self.cycle_length = cycle_length

    with registered(Cyclic, registry.register_schedule,
                    registry.unregister_schedule):
        assert _solvers.schedule_names()[-1] == "cyclic"
        assert make_schedule("cyclic", 0.1, {"cycle_length": 7}).cycle_length == 7
        clf = fit_quietly(MLPClassifier(**SMALL, solver="sgd",
                                        learning_rate="cyclic"), X, y)
        assert type(clf._train_state["schedule"]) is Cyclic
        # Adam honours only 'halving': its rate stays constant.
        clf = fit_quietly(MLPClassifier(**SMALL, learning_rate="cyclic"), X, y)
        assert type(clf._train_state["schedule"]) is Constant
        assert "- 'cyclic': Cycle between" in _solvers.fill_docs("{schedule_list}")
    with pytest.raises(ValueError, match="'learning_rate' parameter"):
        MLPClassifier(**SMALL, learning_rate="cyclic").fit(X, y)


# --------------------------------------------------------------------------
# registration checks
# --------------------------------------------------------------------------


def test_registration_rejects_a_taken_name():
    class Other(SignSGD):
        name = "sgd"

    with pytest.raises(ValueError, match="'sgd' is taken"):
        registry.register_solver(Other)
    assert registry.get_solver("sgd") is SGD


def test_registration_rejects_a_shared_parameter_declared_otherwise():
    class Other(SignSGD):
        name = "other"
        hyperparameters = (registry.Hyperparameter("epsilon", 1e-6, low=0),)

    with pytest.raises(ValueError, match="'epsilon' otherwise than"):
        registry.register_solver(Other)
    assert "other" not in _solvers.solver_names()


def test_registration_rejects_a_constructor_default_that_drifted():
    class Drifted(Optimizer):
        """Says 0.5 and takes 0.4."""

        name = "drifted"
        hyperparameters = (registry.Hyperparameter("drift", 0.5),)

        def __init__(self, n_params, dtype, drift=0.4, ops=None):
            super().__init__(n_params, dtype, ops, drift=drift)

    with pytest.raises(ValueError, match="drift=0.4"):
        registry.register_solver(Drifted)


def test_hyperparameter_descriptors_check_their_fields():
    with pytest.raises(ValueError, match="kind"):
        registry.Hyperparameter("x", 1, kind="complex")
    with pytest.raises(ValueError, match="closed"):
        registry.Hyperparameter("x", 1, closed="open")
    assert registry.Hyperparameter("x", 1).attr == "x"


# --------------------------------------------------------------------------
# the estimators' signatures and docs hold every registered hyperparameter
# --------------------------------------------------------------------------


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda cls: cls.__name__)
def test_every_registered_hyperparameter_is_in_the_signature(estimator):
    params = inspect.signature(estimator).parameters
    for name, h in _solvers.hyperparameters().items():
        assert name in params, f"{estimator.__name__} lacks {name}"
        default = params[name].default
        assert type(default) is type(h.default) and default == h.default, name
        assert name in estimator._parameter_constraints, name
        # Documented with the registry's text.
        assert _solvers.hyperparameter_doc(name) in estimator.__doc__, name
    assert params["solver"].default in _solvers.solver_names()
    assert params["learning_rate"].default in _solvers.schedule_names()


def test_the_registry_lists_todays_solvers_and_schedules():
    assert _solvers.solver_names() == ("lbfgs", "sgd", "adam", "adagrad")
    assert _solvers.stochastic_solvers() == ("sgd", "adam", "adagrad")
    assert _solvers.schedule_names() == ("constant", "invscaling", "adaptive",
                                         "halving")
    assert list(_solvers.hyperparameters()) == [
        "max_fun", "momentum", "nesterovs_momentum", "beta_1", "beta_2",
        "epsilon", "power_t", "min_learning_rate"]
    assert registry.get_solver("lbfgs") is LBFGS and not LBFGS.stochastic
    assert registry.schedule_for("adam", "invscaling") == "constant"
    assert registry.schedule_for("adam", "halving") == "halving"
    assert registry.schedule_for("sgd", "invscaling") == "invscaling"


def test_make_optimizer_and_make_schedule_read_estimator_params():
    params = MLPClassifier(momentum=0.5, nesterovs_momentum=False, beta_1=0.8,
                           epsilon=1e-6, power_t=0.25,
                           min_learning_rate=1e-3).get_params()
    sgd = make_optimizer("sgd", 3, np.float64, params)
    assert (type(sgd), sgd.momentum, sgd.nesterov) == (SGD, 0.5, False)
    adam = make_optimizer("adam", 3, np.float64, params)
    assert (adam.beta_1, adam.beta_2, adam.epsilon) == (0.8, 0.999, 1e-6)
    assert make_optimizer("adagrad", 3, np.float64, params).epsilon == 1e-6
    assert type(make_optimizer("adagrad", 3, np.float64)) is Adagrad
    assert make_schedule("invscaling", 0.1, params).power_t == 0.25
    assert make_schedule("halving", 0.1, params).min_learning_rate == 1e-3
    assert type(make_schedule("invscaling", 0.1)) is InvScaling
    assert make_schedule("halving", 0.1).factor == 2.0
    with pytest.raises(ValueError, match="Unknown stochastic solver 'lbfgs'"):
        make_optimizer("lbfgs", 3, np.float64)
    with pytest.raises(ValueError, match="Unknown learning-rate schedule 'x'"):
        make_schedule("x", 0.1)


# --------------------------------------------------------------------------
# what must not change for today's solvers
# --------------------------------------------------------------------------


@pytest.mark.parametrize("params, message", [
    (dict(solver="lbfgs", dropout=0.2),
     "dropout and input_dropout need a stochastic solver ('sgd', 'adam' or "
     "'adagrad'); got solver='lbfgs'."),
    (dict(solver="lbfgs", max_norm=1.0),
     "max_norm is applied after each minibatch update and needs a stochastic "
     "solver ('sgd', 'adam' or 'adagrad'); got solver='lbfgs'."),
    (dict(momentum=2.0),
     "The 'momentum' parameter of MLPClassifier must be a float in the range "
     "[0.0, 1.0]. Got 2.0 instead."),
    (dict(beta_1=1.0),
     "The 'beta_1' parameter of MLPClassifier must be a float in the range "
     "[0.0, 1.0). Got 1.0 instead."),
    (dict(epsilon=0.0),
     "The 'epsilon' parameter of MLPClassifier must be a float in the range "
     "(0.0, inf). Got 0.0 instead."),
    (dict(max_fun=0),
     "The 'max_fun' parameter of MLPClassifier must be an int in the range "
     "[1, inf). Got 0 instead."),
    (dict(power_t=-1.0),
     "The 'power_t' parameter of MLPClassifier must be a float in the range "
     "[0.0, inf). Got -1.0 instead."),
    (dict(min_learning_rate=-1.0),
     "The 'min_learning_rate' parameter of MLPClassifier must be a float in "
     "the range [0.0, inf). Got -1.0 instead."),
    (dict(nesterovs_momentum="yes"),
     "The 'nesterovs_momentum' parameter of MLPClassifier must be an instance "
     "of 'bool' or an instance of 'numpy.bool'. Got 'yes' instead."),
])
def test_messages_of_todays_solvers_are_unchanged(params, message):
    with pytest.raises(ValueError) as error:
        MLPClassifier(**SMALL, **params).fit(X, y)
    assert str(error.value) == message


def test_solver_name_messages_are_unchanged():
    with pytest.raises(ValueError) as error:
        MLPClassifier(**SMALL, solver="rmsprop").fit(X, y)
    assert str(error.value).startswith(
        "The 'solver' parameter of MLPClassifier must be a str among {")
    assert sorted(str(error.value).split("{")[1].split("}")[0].split(", ")) == [
        "'adagrad'", "'adam'", "'lbfgs'", "'sgd'"]
    with pytest.raises(AttributeError) as error:
        MLPClassifier(solver="lbfgs").partial_fit  # noqa: B018
    assert str(error.value) == (
        "This 'MLPClassifier' has no attribute 'partial_fit': partial_fit is "
        "only available for stochastic optimizers. lbfgs is not stochastic.")
    with pytest.raises(ValueError) as error:
        MLPClassifier(**SMALL, solver="lbfgs").fit(X, y, X_val=X, y_val=y)
    assert str(error.value) == (
        "X_val and y_val are used by the stochastic solvers only; "
        "solver='lbfgs' has no epochs to validate.")
    with pytest.raises(ValueError) as error:
        AutoencoderTransformer(solver="lbfgs", corruption_level=0.1).fit(X01)
    assert str(error.value) == (
        "Corruption draws new noise at every step, which 'lbfgs' cannot "
        "handle; use a stochastic solver for a denoising autoencoder.")
    report = training_report(fit_quietly(MLPClassifier(**SMALL, solver="lbfgs"),
                                         X, y))
    assert "Train with 'sgd', 'adam' or 'adagrad' to see the curves." in str(report)


@pytest.mark.parametrize("solver, restricted", [
    ("sgd", False), ("adam", True), ("adagrad", False)])
def test_the_warm_start_schedule_key_keeps_the_layout_of_saved_states(
    solver, restricted
):
    # Fitted states have always held (solver == 'adam', learning_rate,
    # learning_rate_init, power_t, min_learning_rate); a loaded model whose
    # key still matches continues its schedule.
    est = MLPClassifier(solver=solver, learning_rate="halving",
                        learning_rate_init=0.01, power_t=0.3,
                        min_learning_rate=1e-4)
    assert _solvers.schedule_key(est) == (restricted, "halving", 0.01, 0.3, 1e-4)


@pytest.mark.parametrize("solver, cls", [
    ("sgd", SGD), ("adam", Adam), ("adagrad", Adagrad)])
def test_saved_states_name_todays_engine_classes_and_load_back(solver, cls):
    clf = fit_quietly(MLPClassifier(**SMALL, solver=solver,
                                    learning_rate="halving"), X, y)
    state = clf.__getstate__()["_train_state"]
    assert state["optimizer"]["__sknets_engine_class__"] == (
        f"sknets._engine.optimizers:{cls.__name__}")
    assert state["schedule"]["__sknets_engine_class__"] == (
        "sknets._engine.schedules:Halving")
    loaded = pickle.loads(pickle.dumps(clf))
    assert type(loaded._train_state["optimizer"]) is cls
    assert type(loaded._train_state["schedule"]) is Halving
    # The warm start after loading continues the schedule (the rate it
    # reached: its key matches) and the optimiser, as the original does.
    loaded.set_params(warm_start=True)
    assert loaded._train_state["schedule_params"] == _solvers.schedule_key(loaded)
    original = copy.deepcopy(clf).set_params(warm_start=True)
    for model in (original, loaded):
        fit_quietly(model, X, y)
    np.testing.assert_array_equal(original.predict_proba(X),
                                  loaded.predict_proba(X))


def test_warm_start_refreshes_todays_hyperparameters_in_place():
    clf = fit_quietly(MLPClassifier(**SMALL, solver="sgd", warm_start=True), X, y)
    n_steps = clf._train_state["optimizer"].n_steps
    fit_quietly(clf.set_params(momentum=0.5, nesterovs_momentum=False,
                               max_iter=1), X, y)
    carried = clf._train_state["optimizer"]
    assert (carried.momentum, carried.nesterov) == (0.5, False)
    assert carried.n_steps > n_steps  # the same optimiser went on


def test_pretraining_takes_over_the_stochastic_solvers_hyperparameters():
    est = StackedPretrainedClassifier(momentum=0.5, nesterovs_momentum=False,
                                      beta_1=0.8, beta_2=0.9, epsilon=1e-6,
                                      max_fun=10, power_t=0.1)
    autoencoder = est._pretrain_autoencoder(4, 0, corrupted=False)
    params = autoencoder.get_params()
    assert {k: params[k] for k in ("momentum", "nesterovs_momentum", "beta_1",
                                   "beta_2", "epsilon")} == {
        "momentum": 0.5, "nesterovs_momentum": False, "beta_1": 0.8,
        "beta_2": 0.9, "epsilon": 1e-6}
    # As ever: not L-BFGS' budget nor the schedule's parameters.
    assert (params["max_fun"], params["power_t"]) == (15000, 0.5)
    est.set_params(solver="lbfgs")
    assert est._pretrain_autoencoder(4, 0, corrupted=True).solver == "adam"
    assert est._pretrain_autoencoder(4, 0, corrupted=False).solver == "lbfgs"
