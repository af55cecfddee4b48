"""The same ``random_state`` gives bit-for-bit the same model.

Across two fits, across ``GridSearchCV`` run in one process or two, and
across pickling in the middle of training (``warm_start`` or
``partial_fit`` after ``pickle.loads`` continue exactly as without the
round trip). An int ``random_state`` and a ``RandomState`` instance follow
scikit-learn's convention: an int gives the same fit every time; an instance
is consumed, so refitting with the same instance gives another model. For
the pre-trained estimators, which draw one seed for the pre-training and one
for the fine-tuning, ``random_state=0`` and a fresh ``RandomState(0)`` are
two different (each reproducible) choices: the int gives both stages the
same seed, the instance two successive draws.
"""

import copy
import pickle

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold
from threadpoolctl import threadpool_limits

from sknets import (
    AutoencoderTransformer,
    MLPClassifier,
    MLPRegressor,
    StackedPretrainedClassifier,
    StackedPretrainedRegressor,
)

pytestmark = [
    pytest.mark.numerics,
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]

FAST = dict(hidden_layer_sizes=(6,), max_iter=4, batch_size=16)
# Options that draw random numbers besides the initial weights: shuffling,
# dropout masks, the validation split, corruption noise.
ESTIMATORS = {
    "MLPClassifier": MLPClassifier(**FAST, solver="sgd", dropout=0.3,
                                   input_dropout=0.1, learning_rate_init=0.05),
    "MLPClassifier-early-stopping": MLPClassifier(
        **FAST, early_stopping=True, batch_norm=True),
    "MLPRegressor": MLPRegressor(**FAST, solver="adagrad", dropout=0.2,
                                 learning_rate_init=0.05),
    "AutoencoderTransformer": AutoencoderTransformer(
        **FAST, corruption_level=0.3, corruption="gaussian"),
    "StackedPretrainedClassifier": StackedPretrainedClassifier(
        **FAST, pretrain_max_iter=2, pretrain_corruption_level=0.2, dropout=0.2),
    "StackedPretrainedRegressor": StackedPretrainedRegressor(
        **FAST, pretrain_max_iter=2, batch_norm=True),
}
PRETRAINED = ["StackedPretrainedClassifier", "StackedPretrainedRegressor"]
PARTIAL = [name for name, est in ESTIMATORS.items() if hasattr(est, "partial_fit")]


@pytest.fixture(scope="module", autouse=True)
def one_blas_thread():
    # GridSearchCV's worker processes run one BLAS thread each; so does this
    # process, so that every product is rounded the same way everywhere.
    with threadpool_limits(limits=1):
        yield


def make_data(name, n=80, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    if "Classifier" in name:
        return X, (X[:, 0] + 0.5 * rng.normal(size=n) > 0).astype(int) + (X[:, 1] > 1)
    if name == "AutoencoderTransformer":
        return X, None
    return X, X[:, 0] - 2 * X[:, 1] + 0.1 * rng.normal(size=n)


def new(name, **params):
    return clone(ESTIMATORS[name]).set_params(**params)


def fit(est, X, y, method="fit"):
    if y is None:
        return getattr(est, method)(X)
    return getattr(est, method)(X, y)


def outputs(est, X):
    if isinstance(est, AutoencoderTransformer):
        return est.transform(X)
    if hasattr(est, "predict_proba"):
        return est.predict_proba(X)
    return est.predict(X)


def fingerprint(est, X):
    """Everything a fit determines, as arrays and numbers (no timings)."""
    history = [{k: v for k, v in record.items() if k != "seconds"}
               for record in est.history_]
    return (est.coefs_ + est.intercepts_, outputs(est, X), est.loss_curve_,
            history, est.n_iter_, est.t_)


def assert_identical(a, b):
    arrays_a, out_a, *rest_a = a
    arrays_b, out_b, *rest_b = b
    assert len(arrays_a) == len(arrays_b)
    for left, right in zip(arrays_a, arrays_b, strict=True):
        assert left.dtype == right.dtype
        assert_array_equal(left, right)
    assert_array_equal(out_a, out_b)
    assert rest_a == rest_b


def differ(a, b):
    return any(not np.array_equal(left, right)
               for left, right in zip(a[0], b[0], strict=True))


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_same_seed_gives_the_same_model(name):
    X, y = make_data(name)
    first = fingerprint(fit(new(name, random_state=3), X, y), X)
    second = fingerprint(fit(new(name, random_state=3), X, y), X)
    assert_identical(first, second)


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_another_seed_gives_another_model(name):
    X, y = make_data(name)
    first = fingerprint(fit(new(name, random_state=3), X, y), X)
    other = fingerprint(fit(new(name, random_state=4), X, y), X)
    assert differ(first, other)


@pytest.mark.parametrize("name", ["MLPClassifier", "AutoencoderTransformer"])
def test_no_seed_gives_a_new_model_each_time(name):
    X, y = make_data(name)
    first = fingerprint(fit(new(name, random_state=None), X, y), X)
    second = fingerprint(fit(new(name, random_state=None), X, y), X)
    assert differ(first, second)


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_refitting_the_same_estimator_repeats_the_fit(name):
    X, y = make_data(name)
    est = new(name, random_state=3)
    first = fingerprint(fit(est, X, y), X)
    assert_identical(fingerprint(fit(est, X, y), X), first)


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_random_state_instance_is_consumed_as_in_scikit_learn(name):
    X, y = make_data(name)
    by_int = fingerprint(fit(new(name, random_state=0), X, y), X)
    rs = np.random.RandomState(0)
    est = new(name, random_state=rs)
    by_instance = fingerprint(fit(est, X, y), X)
    again = fingerprint(fit(est, X, y), X)
    # The instance moved on: the same estimator refitted is another model...
    assert differ(by_instance, again)
    # ...and a fresh instance with the same seed repeats the first fit.
    fresh = fingerprint(fit(new(name, random_state=np.random.RandomState(0)),
                            X, y), X)
    assert_identical(fresh, by_instance)
    if name in PRETRAINED:
        # Two draws (pre-training, fine-tuning) from the instance, one seed
        # for both from the int: a documented difference.
        assert differ(by_int, by_instance)
    else:
        # One draw: an int seed is the first draw of RandomState(seed).
        assert_identical(by_int, by_instance)


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_float32_and_float64_input_give_the_same_float32_model(name):
    # The network computes in float32: the input's precision is rounded away
    # before anything random or numerical happens.
    X, y = make_data(name)
    X32 = X.astype(np.float32)
    a = fit(new(name, random_state=3), X32.astype(np.float64), y)
    b = fit(new(name, random_state=3), X32, y)
    for left, right in zip(a.coefs_, b.coefs_, strict=True):
        assert_array_equal(left, right)


# --------------------------------------------------------------------------
# pickling in the middle of training
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_warm_start_after_pickling_continues_exactly(name):
    X, y = make_data(name)
    X2, y2 = make_data(name, seed=1)
    est = fit(new(name, random_state=3, warm_start=True), X, y)
    restored = pickle.loads(pickle.dumps(est))
    copied = copy.deepcopy(est)
    for model in (est, restored, copied):
        fit(model, X2, y2)
    assert_identical(fingerprint(restored, X), fingerprint(est, X))
    assert_identical(fingerprint(copied, X), fingerprint(est, X))


@pytest.mark.parametrize("name", PARTIAL)
def test_partial_fit_after_pickling_continues_exactly(name):
    X, y = make_data(name)
    X2, y2 = make_data(name, seed=1)
    est = fit(new(name, random_state=3), X, y)
    restored = pickle.loads(pickle.dumps(est))
    for model in (est, restored):
        for _ in range(2):
            fit(model, X2, y2, method="partial_fit")
    assert_identical(fingerprint(restored, X), fingerprint(est, X))


@pytest.mark.parametrize("name", PARTIAL)
def test_partial_fit_from_scratch_is_reproducible_across_pickling(name):
    X, y = make_data(name)
    kwargs = {"classes": np.arange(3)} if "Classifier" in name else {}

    def first_call():
        est = new(name, random_state=3)
        if y is None:
            return est.partial_fit(X)
        return est.partial_fit(X, y, **kwargs)

    a, b = first_call(), pickle.loads(pickle.dumps(first_call()))
    fit(a, X, y, method="partial_fit")
    fit(b, X, y, method="partial_fit")
    assert_identical(fingerprint(a, X), fingerprint(b, X))


def test_pickled_models_predict_the_same_bits():
    X, y = make_data("MLPClassifier-early-stopping")
    est = fit(new("MLPClassifier-early-stopping", random_state=3), X, y)
    restored = pickle.loads(pickle.dumps(est))
    assert_array_equal(restored.predict_proba(X), est.predict_proba(X))
    assert_array_equal(restored.predict(X), est.predict(X))


# --------------------------------------------------------------------------
# GridSearchCV in one process and in two
# --------------------------------------------------------------------------


GRIDS = {
    "MLPClassifier": {"alpha": [1e-4, 1e-1], "hidden_layer_sizes": [(4,), (8,)]},
    "AutoencoderTransformer": {"hidden_layer_sizes": [(2,), (4,)],
                               "corruption_level": [0.1, 0.3]},
    "StackedPretrainedRegressor": {"alpha": [1e-4, 1e-1]},
}


@pytest.mark.parametrize("name", list(GRIDS))
def test_grid_search_gives_the_same_results_with_one_or_two_jobs(name):
    X, y = make_data(name)
    cv = KFold(n_splits=3, shuffle=True, random_state=0)
    searches = [
        GridSearchCV(new(name, random_state=3), GRIDS[name], cv=cv, n_jobs=n_jobs)
        .fit(X, y)
        for n_jobs in (1, 2)
    ]
    one, two = searches
    assert one.best_params_ == two.best_params_
    for key, value in one.cv_results_.items():
        if "test_score" in key:
            assert_array_equal(value, two.cv_results_[key], err_msg=key)
    assert differ_scores(one.cv_results_)  # the grid does change something
    assert_identical(fingerprint(one.best_estimator_, X),
                     fingerprint(two.best_estimator_, X))


def differ_scores(cv_results):
    return len(set(np.round(cv_results["mean_test_score"], 12))) > 1
