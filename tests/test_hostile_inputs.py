"""Hostile inputs: every public estimator and method, with what each must do.

Each case asserts either an exception of the documented type whose message
names the problem (scikit-learn's type and wording where scikit-learn has
one), or a correct, finite result. Decisions where scikit-learn has no rule,
or where sknets deliberately differs from its MLP:

- values that are finite in float64 but beyond float32's range (1e300) are
  rejected for a float32 network ("too large for dtype('float32')") instead of
  silently becoming inf and then NaN;
- finite inputs whose network outputs overflow (e.g. 1e30 into an
  autoencoder's squared-error score) raise a ValueError that says so
  ("Non-finite ..."), never return NaN; a fit on such data either raises
  (``DivergenceError`` from the divergence guard, or that ValueError) or
  leaves finite weights;
- negative sample weights are rejected (scikit-learn's MLP accepts them);
- a classifier fitted on a single class predicts it, as scikit-learn's MLP;
- class labels that mix strings and numbers raise scikit-learn's "Mix of
  label input types" (its MLP crashes in ``np.unique`` with a TypeError);
- ``AutoencoderTransformer`` ignores ``y``, whatever its length or content.
"""

import copy
import inspect
import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import (
    ConvergenceWarning,
    NotFittedError,
    UndefinedMetricWarning,
)
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.utils._param_validation import InvalidParameterError

import sknets._base
from sknets import (
    AutoencoderTransformer,
    MLPClassifier,
    MLPRegressor,
    StackedPretrainedClassifier,
    StackedPretrainedRegressor,
)
from sknets.exceptions import DivergenceError

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.filterwarnings("ignore:The training loss exploded:RuntimeWarning"),
]

N, P = 30, 4
FAST = dict(hidden_layer_sizes=(3,), max_iter=5, random_state=0)
PRETRAIN = dict(pretrain_max_iter=2)

ESTIMATORS = {
    "MLPClassifier": MLPClassifier(**FAST),
    "MLPRegressor": MLPRegressor(**FAST),
    "AutoencoderTransformer": AutoencoderTransformer(**FAST),
    "StackedPretrainedClassifier": StackedPretrainedClassifier(**FAST, **PRETRAIN),
    "StackedPretrainedRegressor": StackedPretrainedRegressor(**FAST, **PRETRAIN),
}
CLASSIFIERS = ["MLPClassifier", "StackedPretrainedClassifier"]
SUPERVISED = [name for name in ESTIMATORS if name != "AutoencoderTransformer"]
PREDICT_METHODS = ["predict", "predict_proba", "predict_log_proba",
                   "decision_function", "transform", "inverse_transform", "score"]


def make_data(name, n=N, p=P, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    if name in CLASSIFIERS:
        y = np.arange(n) % 3
    elif name == "AutoencoderTransformer":
        y = None
    else:
        y = X @ rng.normal(size=p)
    return X, y


def new(name, **params):
    return clone(ESTIMATORS[name]).set_params(**params)


def fit(est, X, y, **kwargs):
    return est.fit(X, y, **kwargs)


METHOD_CASES = [
    (name, method)
    for name, est in ESTIMATORS.items()
    for method in PREDICT_METHODS
    if hasattr(est, method)
]
FIT_CASES = [
    (name, method)
    for name, est in ESTIMATORS.items()
    for method in ("fit", "partial_fit")
    if hasattr(est, method)
]


@pytest.fixture(scope="module")
def fitted():
    out = {}
    for name in ESTIMATORS:
        X, y = make_data(name)
        out[name] = fit(new(name), X, y)
    return out


def n_inputs(est, method):
    """Width of the input the method takes (codes for inverse_transform)."""
    if method == "inverse_transform":
        return len(est.get_feature_names_out())
    return est.n_features_in_


def call(est, method, X, name):
    """Call a prediction method on ``X`` (with the targets ``score`` needs)."""
    if method != "score" or name == "AutoencoderTransformer":
        return getattr(est, method)(X)
    _, y = make_data(name, n=len(X))
    return est.score(X, y)


def call_fit(est, method, X, y, name, **kwargs):
    if method == "partial_fit" and name in CLASSIFIERS:
        kwargs.setdefault("classes", np.arange(3))
    return getattr(est, method)(X, y, **kwargs)


def assert_finite_result(result, method):
    result = np.asarray(result)
    if result.dtype.kind not in "fc":
        return
    if method == "predict_log_proba":
        # log(0) = -inf is the correct value of a zero probability.
        assert not np.any(np.isnan(result)) and not np.any(result == np.inf)
    else:
        assert np.all(np.isfinite(result))


def assert_fitted_finite(est):
    for array in est.coefs_ + est.intercepts_:
        assert np.all(np.isfinite(array))


# --------------------------------------------------------------------------
# prediction methods
# --------------------------------------------------------------------------


def bad_inputs(width):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(5, width))
    nan, inf = X.copy(), X.copy()
    nan[1, 0] = np.nan
    inf[2, -1] = np.inf
    return {
        "nan": (nan, ValueError, "contains NaN"),
        "inf": (inf, ValueError, "contains infinity"),
        "strings": (np.full((5, width), "a", dtype=object), ValueError,
                    "could not convert string to float"),
        "complex": (X + 1j, ValueError, "Complex data not supported"),
        "ragged": ([[0.0] * width, [0.0] * (width + 1)], ValueError,
                   "inhomogeneous"),
        "no rows": (np.empty((0, width)), ValueError, r"0 sample\(s\)"),
        "no features": (np.empty((5, 0)), ValueError, r"0 feature\(s\)"),
        "1-D": (X[0], ValueError, "Expected 2D array"),
        "3-D": (X[:, :, None], ValueError, "dim 3"),
        "too large for float32": (X * 1e300, ValueError,
                                  r"too large for dtype\('float32'\)"),
    }


@pytest.mark.parametrize("case", list(bad_inputs(2)))
@pytest.mark.parametrize("name, method", METHOD_CASES)
def test_prediction_methods_reject_bad_X_with_a_clear_error(
    fitted, name, method, case
):
    est = fitted[name]
    X, error, match = bad_inputs(n_inputs(est, method))[case]
    if case == "inf" and method == "inverse_transform":
        match = "contains infinity"
    with pytest.raises(error, match=match):
        call(est, method, X, name)


@pytest.mark.parametrize("name, method", METHOD_CASES)
def test_prediction_methods_reject_the_wrong_number_of_features(
    fitted, name, method
):
    est = fitted[name]
    width = n_inputs(est, method)
    X = np.zeros((4, width + 1))
    if method == "inverse_transform":
        match = f"X has {width + 1} features, but inverse_transform expects"
    else:
        match = f"X has {width + 1} features, but {name} is expecting {width}"
    with pytest.raises(ValueError, match=match):
        call(est, method, X, name)


@pytest.mark.parametrize("name, method", METHOD_CASES)
def test_prediction_methods_need_a_fitted_estimator(name, method):
    est = new(name)
    with pytest.raises(NotFittedError):
        call(est, method, np.zeros((3, P)), name)


@pytest.mark.parametrize("name, method", METHOD_CASES)
def test_object_arrays_of_numbers_are_read_as_numbers(fitted, name, method):
    est = fitted[name]
    X = np.random.default_rng(2).normal(size=(6, n_inputs(est, method)))
    # Object arrays and lists are read as float64, as scikit-learn's MLP does.
    expected = call(est, method, X, name)
    assert_array_equal(call(est, method, X.astype(object), name), expected)
    assert_array_equal(call(est, method, X.tolist(), name), expected)


@pytest.mark.parametrize("name, method", METHOD_CASES)
def test_one_row_gives_the_row_of_the_full_batch(fitted, name, method):
    est = fitted[name]
    X = np.random.default_rng(3).normal(size=(6, n_inputs(est, method)))
    if method == "score" and name.endswith("Regressor"):
        # R^2 of one sample is undefined: NaN and a warning, as scikit-learn.
        with pytest.warns(UndefinedMetricWarning):
            assert np.isnan(call(est, method, X[2:3], name))
        return
    one = call(est, method, X[2:3], name)
    if method == "score":
        assert np.isfinite(one)
        return
    assert np.shape(one)[0] == 1
    np.testing.assert_allclose(one, call(est, method, X, name)[2:3], rtol=1e-5)


@pytest.mark.parametrize("name, method", METHOD_CASES)
def test_huge_finite_inputs_give_finite_results_or_say_they_overflow(
    fitted, name, method
):
    est = fitted[name]
    X = np.random.default_rng(4).normal(size=(6, n_inputs(est, method))) * 1e30
    try:
        result = call(est, method, X, name)
    except ValueError as error:
        assert "Non-finite" in str(error) and "overflows float32" in str(error)
    else:
        assert_finite_result(result, method)


def test_autoencoder_score_says_when_the_reconstruction_loss_overflows(fitted):
    X = np.random.default_rng(5).normal(size=(6, P)) * 1e30
    with pytest.raises(ValueError, match="Non-finite reconstruction loss"):
        fitted["AutoencoderTransformer"].score(X)


def test_classifier_predict_never_returns_a_class_for_overflowed_outputs():
    # Outputs that overflow float32 used to be NaN, and argmax made them class 0.
    X, y = make_data("MLPClassifier")
    clf = fit(new("MLPClassifier"), X, y)
    with np.errstate(over="ignore"):
        clf.coefs_[-1] = clf.coefs_[-1] * np.float32(1e30)
        clf.coefs_[0] = clf.coefs_[0] * np.float32(1e30)
    with pytest.raises(ValueError, match="Non-finite outputs"):
        clf.predict(X)
    with pytest.raises(ValueError, match="Non-finite outputs"):
        clf.predict_proba(X)


def test_float64_network_accepts_what_float32_cannot_hold():
    X, y = make_data("MLPRegressor")
    reg = fit(new("MLPRegressor", dtype="float64"), X, y)
    out = reg.predict(X[:3] * 1e300)
    assert np.all(np.isfinite(out))


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_score_with_labels_unseen_in_fit_counts_them_as_errors(fitted, name):
    # As scikit-learn: accuracy, not an error.
    X, y = make_data(name)
    clf = fitted[name]
    y_unseen = np.where(y == 0, 7, y)
    expected = np.mean(clf.predict(X) == y_unseen)
    assert clf.score(X, y_unseen) == pytest.approx(expected)
    assert clf.score(X, y_unseen) <= clf.score(X, y)


@pytest.mark.parametrize("name", SUPERVISED)
def test_score_rejects_y_of_the_wrong_length_or_with_nan(fitted, name):
    X, y = make_data(name)
    est = fitted[name]
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        est.score(X, y[:-3])
    y_nan = y.astype(float)
    y_nan[3] = np.nan
    with pytest.raises(ValueError, match="contains NaN"), np.errstate(invalid="ignore"):
        est.score(X, y_nan)


def test_autoencoder_score_rejects_bad_sample_weight(fitted):
    X, _ = make_data("AutoencoderTransformer")
    ae = fitted["AutoencoderTransformer"]
    with pytest.raises(ValueError, match="Negative values"):
        ae.score(X, sample_weight=-np.ones(N))
    with pytest.raises(ValueError, match="at least one non-zero"):
        ae.score(X, sample_weight=np.zeros(N))
    with pytest.raises(ValueError, match=r"sample_weight.shape == \(3,\)"):
        ae.score(X, sample_weight=np.ones(3))


# --------------------------------------------------------------------------
# fit and partial_fit: X
# --------------------------------------------------------------------------


@pytest.mark.parametrize("case", list(bad_inputs(2)))
@pytest.mark.parametrize("name, method", FIT_CASES)
def test_fit_rejects_bad_X_with_a_clear_error(name, method, case):
    X, error, match = bad_inputs(P)[case]
    _, y = make_data(name, n=len(X))
    with pytest.raises(error, match=match):
        call_fit(new(name), method, X, y, name)


@pytest.mark.parametrize("name, method", FIT_CASES)
def test_fit_on_huge_values_raises_or_leaves_finite_weights(name, method):
    X, y = make_data(name)
    est = new(name)
    try:
        call_fit(est, method, X * 1e30, y, name)
    except DivergenceError as error:
        assert "diverged" in str(error)
        return
    except ValueError as error:
        assert "overflows" in str(error) or "too large" in str(error)
        return
    assert_fitted_finite(est)
    # Its predictions on the same data are finite, or say that they overflow.
    predict = est.transform if name == "AutoencoderTransformer" else est.predict
    try:
        result = predict(X * 1e30)
    except ValueError as error:
        assert "Non-finite" in str(error)
    else:
        assert_finite_result(result, "predict")


@pytest.mark.parametrize("name, method", FIT_CASES)
def test_object_arrays_of_numbers_fit_as_numbers(name, method):
    X, y = make_data(name)
    a = call_fit(new(name), method, X, y, name)
    b = call_fit(new(name), method, X.astype(object), y, name)
    for left, right in zip(a.coefs_, b.coefs_, strict=True):
        assert_array_equal(left, right)


@pytest.mark.parametrize(
    "shape_case", ["one feature", "constant features", "duplicated rows"]
)
@pytest.mark.parametrize("name, method", FIT_CASES)
def test_degenerate_but_valid_data_fits_to_finite_weights(name, method,
                                                          shape_case):
    X, y = make_data(name)
    if shape_case == "one feature":
        X = X[:, :1]
    elif shape_case == "constant features":
        X = np.ones_like(X)
    else:
        X = np.repeat(X[:3], N // 3, axis=0)
    est = call_fit(new(name), method, X, y, name)
    assert_fitted_finite(est)
    predict = est.transform if name == "AutoencoderTransformer" else est.predict
    assert_finite_result(predict(X), "predict")


@pytest.mark.parametrize("name", ["MLPRegressor", "AutoencoderTransformer",
                                  "StackedPretrainedRegressor"])
def test_one_sample_is_enough_without_classes(name):
    X, y = make_data(name, n=1)
    est = fit(new(name), X, y)
    assert_fitted_finite(est)


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_one_sample_of_one_class_is_fitted_and_predicted(name):
    # As scikit-learn's MLPClassifier (the test of the same behaviour on more
    # data is in test_sklearn_behaviour.py).
    X, _ = make_data(name, n=1)
    est = fit(new(name), X, [1])
    assert_fitted_finite(est)
    assert_array_equal(est.predict(X), [1])


# --------------------------------------------------------------------------
# fit and partial_fit: y and sample_weight
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name, method", [c for c in FIT_CASES
                                          if c[0] != "AutoencoderTransformer"])
def test_fit_rejects_bad_y(name, method):
    X, y = make_data(name)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        call_fit(new(name), method, X, y[:-4], name)
    y_nan = y.astype(float)
    y_nan[0] = np.nan
    with pytest.raises(ValueError, match="Input y contains NaN"):
        call_fit(new(name), method, X, y_nan, name)
    y_inf = y.astype(float)
    y_inf[0] = np.inf
    with pytest.raises(ValueError, match="Input y contains infinity"):
        call_fit(new(name), method, X, y_inf, name)
    with pytest.raises(ValueError, match="requires y to be passed"):
        new(name).fit(X, None)
    with pytest.raises(ValueError, match="Complex data not supported"):
        call_fit(new(name), method, X, y + 1j, name)


def test_autoencoder_ignores_y():
    X, _ = make_data("AutoencoderTransformer")
    ref = new("AutoencoderTransformer").fit(X)
    for y in (np.arange(3), np.full(N, np.nan), "anything"):
        other = new("AutoencoderTransformer").fit(X, y)
        assert_array_equal(other.transform(X), ref.transform(X))


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classifier_rejects_labels_it_cannot_order(name):
    X, _ = make_data(name)
    mixed = np.array(["a", 1] * (N // 2), dtype=object)
    with pytest.raises(ValueError, match=r"Mix of label input types \(number and "
                                         r"string\) in y"):
        new(name).fit(X, mixed)
    with_none = np.array(["a", "b"] * (N // 2), dtype=object)
    with_none[0] = None
    with pytest.raises(ValueError, match="Mix of label input types"):
        new(name).fit(X, with_none)
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        new(name).fit(X, np.linspace(0, 1, N))


@pytest.mark.parametrize("name", ["MLPRegressor", "StackedPretrainedRegressor"])
def test_regressor_rejects_non_numeric_targets(name):
    X, _ = make_data(name)
    with pytest.raises(ValueError, match="could not convert string to float"):
        new(name).fit(X, np.array(["a"] * N))


@pytest.mark.parametrize("name, method", FIT_CASES)
def test_fit_rejects_bad_sample_weight(name, method):
    X, y = make_data(name)
    cases = [
        (-np.ones(N), "Negative values in data passed to `sample_weight`"),
        (np.ones(5), r"sample_weight.shape == \(5,\), expected \(30,\)!"),
        (np.zeros(N), "Sample weights must contain at least one non-zero number"),
        (np.full(N, np.nan), "Input sample_weight contains NaN"),
        (np.ones((N, 2)), "Sample weights must be 1D"),
    ]
    for sample_weight, match in cases:
        with pytest.raises(ValueError, match=match):
            call_fit(new(name), method, X, y, name, sample_weight=sample_weight)


# --------------------------------------------------------------------------
# a validation set of one's own
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", SUPERVISED)
def test_fit_rejects_a_bad_validation_set(name):
    X, y = make_data(name)
    X_val, y_val = make_data(name, n=10, seed=1)
    cases = [
        (dict(X_val=X_val[:, :3], y_val=y_val),
         ValueError, f"^X_val has 3 features, but {name} is expecting 4"),
        (dict(X_val=X_val, y_val=y_val[:4]),
         ValueError, "X_val and y_val have 10 and 4 samples"),
        (dict(X_val=X_val), ValueError, "X_val and y_val must be given together"),
        (dict(X_val=X_val * 1e300, y_val=y_val),
         ValueError, r"Input X_val contains a value too large for dtype\('float32'\)"),
        (dict(X_val=np.where(X_val > 1, np.nan, X_val), y_val=y_val),
         ValueError, "contains NaN"),
        (dict(X_val=X_val[:0], y_val=y_val[:0]), ValueError, r"0 sample\(s\)"),
        (dict(X_val=X_val, y_val=y_val, sample_weight_val=np.ones(3)),
         ValueError, r"sample_weight_val\.shape == \(3,\), expected \(10,\)!"),
        (dict(X_val=X_val, y_val=y_val, sample_weight_val=-np.ones(10)),
         ValueError, "Negative values"),
        (dict(X_val=X_val, y_val=y_val, sample_weight_val=np.zeros(10)),
         ValueError, "at least one non-zero"),
    ]
    if name in CLASSIFIERS:
        cases += [
            (dict(X_val=X_val, y_val=y_val + 5),
             ValueError, r"labels not seen in the classes .* \[5, 6, 7\]"),
            (dict(X_val=X_val, y_val=np.c_[y_val, y_val]),
             ValueError, "Multioutput target data is not supported"),
        ]
    else:
        y_nan = y_val.copy()
        y_nan[0] = np.nan
        cases += [
            (dict(X_val=X_val, y_val=np.c_[y_val, y_val]),
             ValueError, "y_val has 2 outputs once encoded, but y has 1"),
            (dict(X_val=X_val, y_val=y_nan), ValueError, "contains NaN"),
        ]
    for kwargs, error, match in cases:
        with pytest.raises(error, match=match):
            new(name).fit(X, y, **kwargs)


def test_classifier_validation_labels_nan_are_named():
    X, y = make_data("MLPClassifier")
    X_val, _ = make_data("MLPClassifier", n=4, seed=1)
    with pytest.raises(ValueError, match=r"labels not seen .*\[nan\]"):
        new("MLPClassifier").fit(X, y, X_val=X_val, y_val=np.full(4, np.nan))


# --------------------------------------------------------------------------
# partial_fit after a first call
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_partial_fit_first_call_needs_classes(name):
    X, y = make_data(name)
    with pytest.raises(ValueError, match="classes must be passed on the first"):
        new(name).partial_fit(X, y)


@pytest.mark.parametrize("name", [c[0] for c in FIT_CASES if c[1] == "partial_fit"])
def test_partial_fit_rejects_data_that_does_not_continue_the_first_call(
    fitted, name
):
    est = copy.deepcopy(fitted[name])
    X, y = make_data(name)
    with pytest.raises(ValueError, match=f"X has 5 features, but {name} is "
                                         "expecting 4"):
        call_fit(est, "partial_fit", np.zeros((N, 5)), y, name)
    with pytest.raises(ValueError, match=r"0 sample\(s\)"):
        call_fit(est, "partial_fit", X[:0], None if y is None else y[:0], name)
    if name in CLASSIFIERS:
        with pytest.raises(ValueError, match=r"labels not seen .*\[7\]"):
            est.partial_fit(X, np.where(y == 0, 7, y))
        with pytest.raises(ValueError, match="is not the same as on the first"):
            est.partial_fit(X, y, classes=np.arange(4))
    elif name != "AutoencoderTransformer":
        with pytest.raises(ValueError, match="y has 2 outputs, but the model was "
                                             "fitted with 1"):
            est.partial_fit(X, np.c_[y, y])


def test_partial_fit_with_unlabeled_rows_checks_lengths_before_selecting():
    # The labelled rows are selected by a mask of y: lengths first.
    X, y = make_data("StackedPretrainedClassifier")
    y = y - 1  # -1 marks unlabeled rows
    clf = new("StackedPretrainedClassifier", unlabeled_label=-1)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        clf.partial_fit(X, y[:10], classes=[-1, 0, 1])
    with pytest.raises(ValueError, match=r"sample_weight.shape == \(4,\)"):
        clf.partial_fit(X, y, sample_weight=np.ones(4), classes=[-1, 0, 1])


# --------------------------------------------------------------------------
# hyper-parameters
# --------------------------------------------------------------------------


BAD_PARAMETERS = [
    (dict(hidden_layer_sizes="10"), InvalidParameterError,
     "'hidden_layer_sizes' parameter .* must be an array-like or an int"),
    (dict(hidden_layer_sizes=-1), InvalidParameterError, "'hidden_layer_sizes'"),
    (dict(hidden_layer_sizes=None), InvalidParameterError, "'hidden_layer_sizes'"),
    (dict(hidden_layer_sizes=(3.5,)), ValueError,
     r"hidden_layer_sizes must contain positive integers .* got \[3.5\]"),
    (dict(hidden_layer_sizes=(10, 0)), ValueError,
     "hidden_layer_sizes must contain positive integers"),
    (dict(hidden_layer_sizes=(True,)), ValueError,
     "hidden_layer_sizes must contain positive integers"),
    (dict(hidden_layer_sizes=[[3]]), ValueError,
     "hidden_layer_sizes must contain positive integers"),
    (dict(batch_size=1.5), InvalidParameterError,
     r"'batch_size' parameter .* must be a str among \{'auto'\} or an int"),
    (dict(batch_size=0), InvalidParameterError, "'batch_size'"),
    (dict(max_iter=2.0), InvalidParameterError, "'max_iter' parameter"),
    (dict(max_iter=0), InvalidParameterError, "'max_iter' parameter"),
    (dict(learning_rate_init=0), InvalidParameterError, "'learning_rate_init'"),
    (dict(alpha=np.nan), InvalidParameterError, "'alpha' parameter"),
    (dict(solver="newton"), InvalidParameterError, "'solver' parameter"),
    (dict(random_state="seed"), InvalidParameterError, "'random_state'"),
    (dict(validation_fraction=1.0), InvalidParameterError, "'validation_fraction'"),
]
MLP_ONLY_PARAMETERS = [
    (dict(dropout=2), InvalidParameterError,
     r"'dropout' parameter .* must be a float in the range \[0.0, 1.0\)"),
    (dict(dropout="0.5"), InvalidParameterError, "'dropout' parameter"),
    (dict(input_dropout=-0.1), InvalidParameterError, "'input_dropout'"),
    (dict(batch_norm="yes"), InvalidParameterError, "'batch_norm'"),
    (dict(dtype="float16"), InvalidParameterError, "'dtype' parameter"),
]


PARAMETER_CASES = [
    pytest.param(name, method, params, error, match,
                 id=f"{name}-{method}-{params}")
    for name, method in FIT_CASES
    for params, error, match in BAD_PARAMETERS + (
        [] if name == "AutoencoderTransformer" else MLP_ONLY_PARAMETERS
    )
]


@pytest.mark.parametrize("name, method, params, error, match", PARAMETER_CASES)
def test_bad_hyper_parameters_are_named_at_fit(name, method, params, error,
                                               match):
    X, y = make_data(name)
    est = ESTIMATORS[name].__class__(**FAST)
    est.set_params(**params)
    if method == "partial_fit" and "solver" in params:
        # As scikit-learn: no partial_fit for a solver that is not stochastic.
        error, match = AttributeError, "has no attribute 'partial_fit'"
    with pytest.raises(error, match=match):
        call_fit(est, method, X, y, name)


def test_autoencoder_needs_a_code_layer():
    X, _ = make_data("AutoencoderTransformer")
    with pytest.raises(ValueError, match="at least one encoder layer"):
        new("AutoencoderTransformer", hidden_layer_sizes=()).fit(X)


def test_numpy_scalars_are_accepted_as_hyper_parameters():
    X, y = make_data("MLPClassifier")
    clf = new("MLPClassifier", hidden_layer_sizes=np.array([3, 2]),
              batch_size=np.int64(8), max_iter=np.int32(3),
              alpha=np.float32(1e-3)).fit(X, y)
    assert [w.shape for w in clf.coefs_] == [(P, 3), (3, 2), (2, 3)]


# --------------------------------------------------------------------------
# pandas
# --------------------------------------------------------------------------


def frame(X):
    return pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_mismatched_dataframe_columns_are_rejected(name):
    X, y = make_data(name)
    est = fit(new(name), frame(X), y)
    predict = est.transform if name == "AutoencoderTransformer" else est.predict
    reordered = frame(X)[["f1", "f0", "f2", "f3"]]
    renamed = frame(X).rename(columns={"f0": "z"})
    for X_bad, match in [(reordered, "must be in the same order"),
                         (renamed, "Feature names unseen at fit time:\n- z")]:
        with pytest.raises(ValueError, match=match):
            predict(X_bad)
        if hasattr(est, "partial_fit"):
            with pytest.raises(ValueError, match=match):
                call_fit(est, "partial_fit", X_bad, y, name)
        if name != "AutoencoderTransformer":
            with pytest.raises(ValueError, match=match):
                fit(new(name), frame(X), y, X_val=X_bad, y_val=y)
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        predict(X)


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_dataframe_after_fitting_on_an_array_warns(name):
    X, y = make_data(name)
    est = fit(new(name), X, y)
    predict = est.transform if name == "AutoencoderTransformer" else est.predict
    with pytest.warns(UserWarning, match="X has feature names, but"):
        predict(frame(X))


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_dataframes_with_text_or_missing_values_are_rejected(name):
    X, y = make_data(name)
    text = frame(X).assign(f3=["x"] * N)
    with pytest.raises(ValueError, match="could not convert string to float"):
        fit(new(name), text, y)
    missing = frame(X).astype("Float64")
    missing.loc[3, "f1"] = pd.NA
    with pytest.raises(ValueError, match="contains NaN"):
        fit(new(name), missing, y)


# --------------------------------------------------------------------------
# the same error as scikit-learn's MLPClassifier
# --------------------------------------------------------------------------


def _sklearn_cases():
    X, y = make_data("MLPClassifier")
    nan = X.copy()
    nan[0, 0] = np.nan
    return {
        "nan": (nan, y, {}),
        "inf": (np.where(X > 1, np.inf, X), y, {}),
        "complex": (X + 1j, y, {}),
        "no rows": (X[:0], y[:0], {}),
        "no features": (X[:, :0], y, {}),
        "1-D": (X[:, 0], y, {}),
        "y too short": (X, y[:-1], {}),
        "y with nan": (X, np.where(y == 0, np.nan, y), {}),
        "y continuous": (X, np.linspace(0, 1, N), {}),
        "sample_weight too short": (X, y, dict(sample_weight=np.ones(3))),
        "ragged": ([[1.0, 2.0], [1.0]], [0, 1], {}),
    }


@pytest.mark.parametrize("case", list(_sklearn_cases()))
def test_fit_raises_what_scikit_learn_raises(case):
    X, y, kwargs = _sklearn_cases()[case]
    if "sample_weight" in kwargs and "sample_weight" not in inspect.signature(
        SkMLPClassifier.fit
    ).parameters:
        pytest.skip("scikit-learn's MLP takes sample_weight from 1.7 on")
    errors = []
    for cls in (MLPClassifier, SkMLPClassifier):
        with pytest.raises(Exception) as info:
            cls(hidden_layer_sizes=(3,), max_iter=5).fit(X, y, **kwargs)
        errors.append(info.value)
    ours, theirs = errors
    assert type(ours) is type(theirs)
    first_line = str(theirs).splitlines()[0]
    if case == "y continuous":
        first_line = "Unknown label type"  # theirs prints the array
    assert first_line in str(ours)


def _dead_layer_messages(record):
    return [str(w.message) for w in record if "training samples checked" in
            str(w.message) and issubclass(w.category, ConvergenceWarning)]


def _fit_recording(estimator, X, y):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        estimator.fit(X, y)
    return _dead_layer_messages(record)


@pytest.mark.numerics
def test_a_fit_that_kills_its_relu_layers_says_so():
    # Unscaled digits (0-16) at rate 0.1: every unit of the first layer ends
    # below zero on every row, and the classifier is at chance level with a
    # finite loss, which the divergence check cannot see.
    X, y = load_digits(return_X_y=True)
    params = dict(hidden_layer_sizes=(32, 32), solver="sgd", max_iter=20,
                  random_state=0)
    dead = MLPClassifier(learning_rate_init=0.1, **params)
    messages = _fit_recording(dead, X, y)
    assert dead.score(X, y) < 0.2
    assert messages and messages[0].startswith(
        "32 of the 32 relu units of hidden layer 1 output 0 for every one of "
        "the 1024 training samples checked")
    assert "learning_rate_init" in messages[0] and "StandardScaler" in messages[0]
    # A sound rate leaves some units dead, but far from most: nothing said.
    healthy = MLPClassifier(learning_rate_init=0.01, **params)
    assert _fit_recording(healthy, X, y) == []
    assert healthy.score(X, y) > 0.9
    # On fewer than 100 rows a unit can be idle everywhere by chance: no check.
    assert _fit_recording(MLPClassifier(learning_rate_init=0.1, **params),
                          X[:99], y[:99]) == []
    # Other activations have no dead units in this sense.
    assert _fit_recording(MLPClassifier(learning_rate_init=0.1,
                                        activation="tanh", **params), X, y) == []


def test_dead_layer_check_looks_at_training_rows_not_validation_rows(monkeypatch):
    # Feature 0 numbers the rows; the rows the check runs through the network
    # must all be training rows, spread over them, none of the validation
    # rows that early stopping held out.
    X, y = load_digits(return_X_y=True)
    X = np.column_stack([np.arange(len(X)), X]).astype(np.float64)
    seen = {}
    check = sknets._base.BaseNetworkEstimator._check_dead_layers

    def spy(self, network, X_net, train_idx, reported=()):
        seen["train"] = set(range(len(X_net))) if train_idx is None else set(train_idx)
        first = network.layers[0]
        forward = first.forward

        def record(inputs, *args, **kwargs):
            seen["rows"] = np.asarray(inputs[:, 0]).astype(int)
            return forward(inputs, *args, **kwargs)

        first.forward = record
        try:
            return check(self, network, X_net, train_idx, reported)
        finally:
            del first.forward

    monkeypatch.setattr(sknets._base.BaseNetworkEstimator, "_check_dead_layers", spy)
    clf = MLPClassifier(hidden_layer_sizes=(32,), solver="sgd", max_iter=5,
                        learning_rate_init=0.1, early_stopping=True,
                        validation_fraction=0.5, random_state=0, dtype="float64")
    messages = _fit_recording(clf, X, y)
    rows = seen["rows"]
    assert len(seen["train"]) == 898 and set(rows) == seen["train"]
    assert messages and "of the 898 training samples checked" in messages[0]
    # With more training rows than the 1024 checked, they are spread evenly.
    clf.set_params(early_stopping=False)
    _fit_recording(clf, X, y)
    rows = seen["rows"]
    assert len(rows) == 1024 and len(set(rows)) == 1024
    assert rows.min() == 0 and rows.max() == len(X) - 1


def test_autoencoder_dead_code_is_reported_for_the_encoder_only():
    X, _ = load_digits(return_X_y=True)
    ae = AutoencoderTransformer(hidden_layer_sizes=(32, 16), activation="relu",
                                solver="sgd", learning_rate_init=0.5, max_iter=5,
                                random_state=0)
    messages = _fit_recording(ae, X, None)
    assert messages
    # Hidden layers 1 and 2 are the encoder; a decoder layer fed by a dead
    # code is not reported again, and there is no batch_norm to suggest.
    assert all("hidden layer 1 " in m or "hidden layer 2 " in m for m in messages)
    assert not any("batch_norm" in m for m in messages)
