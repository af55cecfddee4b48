"""Saving and loading: pickle, joblib, copy, skops, and the version of sknets."""

import copy
import pickle
import warnings

import joblib
import numpy as np
import pytest
import sklearn.base
from numpy.testing import assert_array_equal
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

import sknets
from sknets import (
    AutoencoderTransformer,
    MLPClassifier,
    MLPRegressor,
    StackedPretrainedClassifier,
    StackedPretrainedRegressor,
)
from sknets.exceptions import InconsistentVersionWarning

pytestmark = pytest.mark.numerics  # round-trips compare predictions

X, y = make_classification(n_samples=60, n_features=5, n_informative=3,
                           random_state=0)
X01 = (X - X.min(axis=0)) / (X.max(axis=0) - X.min(axis=0))
y_reg = X @ np.arange(1, 6) / 10

SMALL = dict(hidden_layer_sizes=(6, 4), max_iter=5, random_state=0)
SOLVERS = ["sgd", "adam", "adagrad", "lbfgs"]

ESTIMATORS = [
    *(MLPClassifier(**SMALL, solver=solver) for solver in SOLVERS),
    *(MLPClassifier(**SMALL, solver=solver, dropout=0.2, input_dropout=0.1,
                    batch_norm=True) for solver in ("sgd", "adam", "adagrad")),
    MLPClassifier(**SMALL, solver="lbfgs", batch_norm=True),
    MLPClassifier(**SMALL, batch_norm=True, batch_norm_statistics="exact",
                  early_stopping=True, dtype="float64"),
    *(MLPRegressor(**SMALL, solver=solver) for solver in SOLVERS),
    MLPRegressor(**SMALL, solver="sgd", dropout=0.2, batch_norm=True,
                 learning_rate_init=0.01),
    AutoencoderTransformer(**SMALL),
    AutoencoderTransformer(**SMALL, solver="lbfgs"),
    AutoencoderTransformer(**SMALL, tied_weights=False, corruption_level=0.2,
                           solver="sgd", sparsity_weight=0.1),
    StackedPretrainedClassifier(**SMALL, pretrain_max_iter=2, batch_norm=True),
    StackedPretrainedRegressor(**SMALL, pretrain_max_iter=2, solver="lbfgs"),
]


def _fit(est):
    target = y_reg if sklearn.base.is_regressor(est) else y
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X01, target)


def _outputs(est):
    """Everything the fitted estimator computes from data."""
    if isinstance(est, AutoencoderTransformer):
        codes = est.transform(X01)
        return [codes, est.inverse_transform(codes), est.score(X01)]
    outputs = [est.predict(X01)]
    if hasattr(est, "predict_proba"):
        outputs.append(est.predict_proba(X01))
    return outputs


def _assert_same_outputs(a, b):
    for left, right in zip(_outputs(a), _outputs(b), strict=True):
        assert_array_equal(left, right)


@pytest.fixture(scope="module", params=ESTIMATORS, ids=repr)
def fitted(request):
    return _fit(copy.deepcopy(request.param))


def _joblib_round_trip(est, tmp_path):
    path = tmp_path / "model.joblib"
    joblib.dump(est, path)
    return joblib.load(path)


@pytest.mark.parametrize("round_trip", [
    lambda est, _: pickle.loads(pickle.dumps(est)),
    _joblib_round_trip,
    lambda est, _: copy.deepcopy(est),
], ids=["pickle", "joblib", "deepcopy"])
def test_round_trip_gives_identical_outputs(fitted, round_trip, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", InconsistentVersionWarning)
        loaded = round_trip(fitted, tmp_path)
    _assert_same_outputs(fitted, loaded)
    assert loaded.get_params() == fitted.get_params()
    assert loaded.loss_curve_ == fitted.loss_curve_


@pytest.mark.parametrize("solver", ["sgd", "adam", "adagrad"])
def test_a_loaded_model_continues_training_exactly_as_the_original(solver):
    est = _fit(MLPClassifier(**SMALL, solver=solver, dropout=0.2))
    loaded = pickle.loads(pickle.dumps(est))
    # Weights, optimiser state, learning rate and random generator all carry over.
    for model in (est, loaded):
        model.partial_fit(X01, y)
    _assert_same_outputs(est, loaded)


def test_unfitted_estimator_round_trips():
    est = MLPClassifier(hidden_layer_sizes=(3,), dropout=0.1)
    loaded = pickle.loads(pickle.dumps(est))
    assert loaded.get_params() == est.get_params()
    assert not hasattr(loaded, "_network")


def test_saved_state_records_the_sknets_version_and_format():
    state = _fit(MLPClassifier(**SMALL)).__getstate__()
    assert state["_sknets_version"] == sknets.__version__
    assert state["_sknets_state_format"] == 1


def test_loading_a_model_of_another_version_warns(monkeypatch):
    est = _fit(MLPClassifier(**SMALL))
    with monkeypatch.context() as patch:
        patch.setattr(sknets, "__version__", "0.0.1")
        data = pickle.dumps(est)
    with pytest.warns(InconsistentVersionWarning, match="0.0.1") as record:
        loaded = pickle.loads(data)
    warning = record[0].message
    assert warning.original_sknets_version == "0.0.1"
    assert warning.current_sknets_version == sknets.__version__
    assert warning.estimator_name == "MLPClassifier"
    _assert_same_outputs(est, loaded)


def test_loading_an_incompatible_state_format_raises():
    state = _fit(MLPClassifier(**SMALL)).__getstate__()
    state["_sknets_state_format"] = 99
    state["_sknets_version"] = "9.0"
    new = MLPClassifier.__new__(MLPClassifier)
    with pytest.raises(ValueError, match=r"sknets 9\.0 in state format 99"):
        new.__setstate__(state)


def test_a_state_without_version_loads_with_a_warning():
    est = _fit(MLPClassifier(**SMALL))
    state = est.__getstate__()
    del state["_sknets_version"], state["_sknets_state_format"]
    new = MLPClassifier.__new__(MLPClassifier)
    with pytest.warns(InconsistentVersionWarning, match="unknown"):
        new.__setstate__(state)
    _assert_same_outputs(est, new)


def test_only_engine_classes_are_rebuilt():
    state = _fit(MLPClassifier(**SMALL)).__getstate__()
    state["_network"] = {"__sknets_engine_class__": "os:system", "state": {}}
    new = MLPClassifier.__new__(MLPClassifier)
    with pytest.raises(ValueError, match="not a class of the sknets engine"):
        new.__setstate__(state)


def test_scikit_learn_base_state_methods_are_used(monkeypatch):
    calls = []
    get, set_ = sklearn.base.BaseEstimator.__getstate__, \
        sklearn.base.BaseEstimator.__setstate__

    def spy_get(self):
        calls.append(("get", type(self).__name__))
        return get(self)

    def spy_set(self, state):
        calls.append(("set", type(self).__name__))
        set_(self, state)

    monkeypatch.setattr(sklearn.base.BaseEstimator, "__getstate__", spy_get)
    monkeypatch.setattr(sklearn.base.BaseEstimator, "__setstate__", spy_set)
    est = _fit(MLPClassifier(**SMALL))
    pickle.loads(pickle.dumps(est))
    # (The fitted label binarizer is a scikit-learn estimator too.)
    assert ("get", "MLPClassifier") in calls
    assert ("set", "MLPClassifier") in calls


# -- skops --------------------------------------------------------------------


def test_skops_round_trip_trusts_only_the_estimator_class(fitted):
    sio = pytest.importorskip("skops.io")
    data = sio.dumps(fitted)
    untrusted = sio.get_untrusted_types(data=data)
    cls = type(fitted)
    assert untrusted == [f"{cls.__module__}.{cls.__qualname__}"]
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
        sio.loads(data)
    loaded = sio.loads(data, trusted=untrusted)
    _assert_same_outputs(fitted, loaded)


def test_skops_file_round_trip_and_version_warning(tmp_path, monkeypatch):
    sio = pytest.importorskip("skops.io")
    est = _fit(StackedPretrainedClassifier(**SMALL, pretrain_max_iter=2))
    path = tmp_path / "model.skops"
    with monkeypatch.context() as patch:
        patch.setattr(sknets, "__version__", "0.0.1")
        sio.dump(est, path)
    trusted = sio.get_untrusted_types(file=path)
    with pytest.warns(InconsistentVersionWarning):
        loaded = sio.load(path, trusted=trusted)
    _assert_same_outputs(est, loaded)
