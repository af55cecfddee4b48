"""Properties that hold for every shape, dtype and label type (hypothesis).

Tiny networks trained for 3 epochs: the properties are about the outputs'
form (shapes, finiteness, probabilities, labels), not about accuracy. The
only exception a valid problem may raise is the documented
``DivergenceError``; it is counted, and must stay rare.
"""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

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
    pytest.mark.filterwarnings("ignore:Got `batch_size`:UserWarning"),
]

FAST = settings(max_examples=25, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

OPTIONS = [
    dict(),
    dict(solver="sgd", learning_rate_init=0.01),
    dict(solver="adagrad", learning_rate_init=0.01),
    dict(solver="lbfgs"),
    dict(solver="sgd", batch_norm=True, dropout=0.2, learning_rate_init=0.01),
    dict(activation="tanh", batch_size=3),
]
AE_OPTIONS = [
    dict(),
    dict(tied_weights=False, activation="relu"),
    dict(corruption_level=0.2, solver="sgd", learning_rate_init=0.01),
    dict(solver="lbfgs"),
]
X_DTYPES = ["float32", "float64", "int64"]


@st.composite
def features(draw, min_samples=2):
    """``X`` of a random shape, dtype and scale (and its seed's generator)."""
    n_samples = draw(st.integers(min_samples, 40))
    n_features = draw(st.integers(1, 6))
    dtype = draw(st.sampled_from(X_DTYPES))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if dtype == "int64":
        X = rng.integers(-10, 11, size=(n_samples, n_features))
    else:
        scale = draw(st.sampled_from([0.01, 1.0, 10.0]))
        X = (rng.normal(size=(n_samples, n_features)) * scale).astype(dtype)
    return X, rng


def labels_of(kind, n_classes):
    if kind == "int":
        return np.arange(n_classes)
    if kind == "negative int":
        return -3 * np.arange(1, n_classes + 1)
    if kind == "str":
        return np.array([f"class {i}" for i in range(n_classes)])
    if kind == "bool":
        return np.array([False, True])
    return np.arange(n_classes) * 2.0 - 1.0  # float labels, integral values


@st.composite
def classification_problems(draw):
    X, rng = draw(features(min_samples=4))
    kind = draw(st.sampled_from(["int", "negative int", "str", "bool", "float"]))
    n_classes = 2 if kind == "bool" else draw(st.integers(2, min(4, len(X))))
    classes = labels_of(kind, n_classes)
    # Every class at least once, the rest at random.
    index = np.concatenate([np.arange(n_classes),
                            rng.integers(0, n_classes, len(X) - n_classes)])
    y = classes[rng.permutation(index)]
    return X, y, classes, rng


@st.composite
def regression_problems(draw):
    X, rng = draw(features())
    n_outputs = draw(st.sampled_from([1, 1, 3]))
    y = X.astype(float) @ rng.normal(size=(X.shape[1], n_outputs))
    y = y.ravel() if n_outputs == 1 else y
    if draw(st.booleans()):
        y = y.astype(np.float32)
    return X, y, rng


def weights_or_none(draw_weights, rng, n):
    return rng.uniform(0.1, 2.0, n) if draw_weights else None


def fit_or_diverge(est, *args, **kwargs):
    """Fit; True if it diverged (documented), False if it fitted."""
    try:
        est.fit(*args, **kwargs)
    except DivergenceError:
        return True
    return False


def assert_probabilities(proba, n_samples, n_classes, network_dtype):
    assert proba.shape == (n_samples, n_classes)
    assert np.all(np.isfinite(proba))
    assert np.all(proba >= 0) and np.all(proba <= 1)
    # Computed in the network's precision, whatever the output's dtype.
    tol = 1e-5 if network_dtype == "float32" else 1e-10
    assert_allclose(proba.sum(axis=1), 1.0, atol=tol)


class DivergenceCount:
    """Divergence is documented, but a property test that mostly diverges
    tests nothing: at most a few of the examples may."""

    def __init__(self):
        self.n = 0
        self.total = 0

    def add(self, diverged):
        self.total += 1
        self.n += diverged
        assert self.n <= 3, "most examples diverged"
        return diverged


@pytest.mark.parametrize("cls", [MLPClassifier, StackedPretrainedClassifier])
def test_classifier_outputs_are_probabilities_over_the_classes(cls):
    count = DivergenceCount()

    @FAST
    @given(problem=classification_problems(), options=st.sampled_from(OPTIONS),
           weighted=st.booleans(), hidden=st.sampled_from([(3,), (4, 3)]))
    def check(problem, options, weighted, hidden):
        X, y, classes, rng = problem
        est = cls(hidden_layer_sizes=hidden, max_iter=3, random_state=0, **options)
        if cls is StackedPretrainedClassifier:
            est.set_params(pretrain_max_iter=1)
        sample_weight = weights_or_none(weighted, rng, len(X))
        if count.add(fit_or_diverge(est, X, y, sample_weight=sample_weight)):
            return
        assert_array_equal(est.classes_, np.sort(classes))
        assert est.classes_.dtype.kind == np.asarray(classes).dtype.kind
        proba = est.predict_proba(X)
        assert_probabilities(proba, len(X), len(classes), est.dtype)
        with np.errstate(divide="ignore"):
            assert_allclose(est.predict_log_proba(X), np.log(proba))
        predicted = est.predict(X)
        assert predicted.shape == (len(X),)
        assert np.all(np.isin(predicted, est.classes_))
        # The predicted class is the most probable one (where not tied).
        top = np.sort(proba, axis=1)
        clear = top[:, -1] - top[:, -2] > 1e-6
        assert_array_equal(predicted[clear],
                           est.classes_[proba.argmax(axis=1)][clear])
        assert 0.0 <= est.score(X, y) <= 1.0

    check()


@pytest.mark.parametrize("cls", [MLPRegressor, StackedPretrainedRegressor])
def test_regressor_outputs_are_finite_with_the_targets_shape(cls):
    count = DivergenceCount()

    @FAST
    @given(problem=regression_problems(), options=st.sampled_from(OPTIONS),
           weighted=st.booleans())
    def check(problem, options, weighted):
        X, y, rng = problem
        est = cls(hidden_layer_sizes=(3,), max_iter=3, random_state=0, **options)
        if cls is StackedPretrainedRegressor:
            est.set_params(pretrain_max_iter=1)
        sample_weight = weights_or_none(weighted, rng, len(X))
        if count.add(fit_or_diverge(est, X, y, sample_weight=sample_weight)):
            return
        predicted = est.predict(X)
        assert predicted.shape == y.shape
        assert np.all(np.isfinite(predicted))
        assert est.n_outputs_ == (1 if y.ndim == 1 else y.shape[1])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # R^2 of constant targets
            score = est.score(X, y)
        assert score <= 1.0 or np.isnan(score)

    check()


def test_autoencoder_codes_and_reconstructions_have_the_right_shapes():
    count = DivergenceCount()

    @FAST
    @given(data=features(), options=st.sampled_from(AE_OPTIONS),
           code=st.integers(1, 4), unit_interval=st.booleans())
    def check(data, options, code, unit_interval):
        X, rng = data
        if unit_interval:  # the cross-entropy loss
            X = (X - X.min()) / max(np.ptp(X), 1)
        est = AutoencoderTransformer(hidden_layer_sizes=(code,), max_iter=3,
                                     random_state=0, **options)
        if count.add(fit_or_diverge(est, X)):
            return
        codes = est.transform(X)
        assert codes.shape == (len(X), code)
        assert np.all(np.isfinite(codes))
        if est.activation == "logistic":
            assert np.all((codes >= 0) & (codes <= 1))
        assert_array_equal(est.get_feature_names_out(),
                           [f"autoencodertransformer{i}" for i in range(code)])
        reconstructed = est.inverse_transform(codes)
        assert reconstructed.shape == X.shape
        assert np.all(np.isfinite(reconstructed))
        score = est.score(X)
        assert np.isfinite(score) and score <= 1e-6

    check()


def test_output_dtype_follows_the_input_and_the_network():
    # float32 only for float32 input to a float32 network, as documented.
    @FAST
    @given(data=features(), network=st.sampled_from(["float32", "float64"]))
    def check(data, network):
        X, rng = data
        y = np.arange(len(X)) % 2
        clf = MLPClassifier(hidden_layer_sizes=(3,), max_iter=3, random_state=0,
                            dtype=network).fit(X, y)
        expected = np.float32 if (network == "float32"
                                  and X.dtype == np.float32) else np.float64
        assert clf.predict_proba(X).dtype == expected
        assert clf.coefs_[0].dtype == np.dtype(network)

    check()


@pytest.mark.parametrize("cls", [MLPClassifier, StackedPretrainedClassifier])
def test_non_integral_float_labels_are_rejected(cls):
    @FAST
    @given(data=features(min_samples=4))
    def check(data):
        X, rng = data
        y = rng.normal(size=len(X)) + 0.5
        with pytest.raises(ValueError, match="Unknown label type: continuous"):
            cls(hidden_layer_sizes=(3,), max_iter=3).fit(X, y)

    check()
