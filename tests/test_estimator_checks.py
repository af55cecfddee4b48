"""scikit-learn's estimator checks over fast instances of every major option."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from sknets import (
    AutoencoderTransformer,
    MLPClassifier,
    MLPRegressor,
    StackedPretrainedClassifier,
    StackedPretrainedRegressor,
)
from sknets.utils.estimator_checks import expected_failed_checks

# The expected failures, and why, are sknets.utils.estimator_checks's;
# tests/test_user_estimator_checks.py proves that each one still fails.
# Not marked 'numerics': that module runs the same checks, as a user would,
# on every estimator and option family under the other BLAS kernels too, and
# these 2800 run once, which keeps CI within its time.

# Small, fast networks. float64 so that fitting with integer sample weights
# matches fitting on repeated rows to scikit-learn's rtol=1e-7.
FAST = dict(hidden_layer_sizes=(16,), max_iter=100, random_state=0, dtype="float64")

DETERMINISTIC = [
    MLPClassifier(**FAST, learning_rate_init=0.01),  # adam, the default solver
    MLPClassifier(**FAST, solver="sgd", learning_rate_init=0.1),
    MLPClassifier(**FAST, solver="sgd", learning_rate_init=0.1, momentum=0.9,
                  nesterovs_momentum=False),
    MLPClassifier(**FAST, solver="adagrad", learning_rate_init=0.3),
    MLPClassifier(**FAST, solver="lbfgs"),
    MLPClassifier(**FAST, solver="sgd", learning_rate="invscaling",
                  learning_rate_init=0.5, power_t=0.25),
    MLPClassifier(**FAST, solver="sgd", learning_rate="adaptive",
                  learning_rate_init=0.1),
    MLPClassifier(**FAST, solver="sgd", learning_rate="halving",
                  learning_rate_init=0.1, n_iter_no_change=3),
    MLPClassifier(**FAST, solver="sgd", batch_norm=True, learning_rate_init=0.1),
    MLPClassifier(**FAST, solver="sgd", batch_norm=True,
                  batch_norm_statistics="exact", learning_rate_init=0.1),
    MLPClassifier(**FAST, solver="sgd", activation="tanh", alpha=1e-3,
                  l1_alpha=1e-4, learning_rate_init=0.1),
]

REGRESSORS = [
    MLPRegressor(**FAST, learning_rate_init=0.01),
    MLPRegressor(**FAST, solver="sgd", learning_rate_init=0.01),
    MLPRegressor(**FAST, solver="adagrad", learning_rate_init=0.1),
    MLPRegressor(**FAST, solver="lbfgs"),
    MLPRegressor(**FAST, solver="sgd", learning_rate="adaptive",
                 learning_rate_init=0.01),
    MLPRegressor(**FAST, solver="sgd", learning_rate="halving",
                 learning_rate_init=0.01, n_iter_no_change=3),
    MLPRegressor(**FAST, solver="sgd", batch_norm=True, learning_rate_init=0.01),
    MLPRegressor(**FAST, solver="sgd", batch_norm=True,
                 batch_norm_statistics="exact", learning_rate_init=0.01),
    MLPRegressor(**FAST, loss="poisson", learning_rate_init=0.03),
    MLPRegressor(**FAST, activation="tanh", alpha=1e-3, l1_alpha=1e-4,
                 learning_rate_init=0.01),
    MLPRegressor(**FAST, solver="sgd", dropout=0.2, learning_rate_init=0.01),
    MLPRegressor(**FAST, solver="adam", early_stopping=True, scoring="loss",
                 learning_rate_init=0.01),
    MLPRegressor(hidden_layer_sizes=(16,), max_iter=100, random_state=0,
                 learning_rate_init=0.01),
]

AE_FAST = dict(hidden_layer_sizes=(8,), max_iter=30, random_state=0, dtype="float64")
AUTOENCODERS = [
    AutoencoderTransformer(**AE_FAST),  # loss='auto'
    AutoencoderTransformer(**AE_FAST, loss="squared_error", activation="relu"),
    AutoencoderTransformer(**AE_FAST, tied_weights=False),
    AutoencoderTransformer(**AE_FAST, sparsity_weight=0.1),
    AutoencoderTransformer(**{**AE_FAST, "hidden_layer_sizes": (8, 4)}),
    AutoencoderTransformer(**AE_FAST, solver="lbfgs"),
    AutoencoderTransformer(**AE_FAST, corruption_level=0.3),
    AutoencoderTransformer(**AE_FAST, corruption="gaussian", corruption_level=0.1,
                           solver="sgd", learning_rate_init=0.01,
                           early_stopping=True),
]

SP_FAST = dict(hidden_layer_sizes=(16,), max_iter=100, pretrain_max_iter=5,
               random_state=0, dtype="float64", learning_rate_init=0.01)
PRETRAINED = [
    StackedPretrainedClassifier(**SP_FAST),
    StackedPretrainedClassifier(**{**SP_FAST, "hidden_layer_sizes": (16, 8)}),
    StackedPretrainedClassifier(**SP_FAST, activation="relu",
                                pretrain_loss="squared_error",
                                pretrain_tied_weights=False),
    StackedPretrainedClassifier(**SP_FAST, solver="lbfgs"),
    StackedPretrainedClassifier(**SP_FAST, pretrain_corruption_level=0.2),
    StackedPretrainedRegressor(**SP_FAST),
    StackedPretrainedRegressor(**SP_FAST, pretrain_corruption="gaussian",
                               pretrain_corruption_level=0.1),
]

# float32: weighted and repeated fits agree to float32 round-off (~1e-6), which
# scikit-learn's rtol=1e-7 on predict_proba cannot see as equal, since the
# probabilities themselves are float32 (eps 1.2e-7).
FLOAT32 = [
    MLPClassifier(hidden_layer_sizes=(16,), max_iter=100, random_state=0,
                  learning_rate_init=0.01),
    MLPClassifier(hidden_layer_sizes=(16,), max_iter=100, random_state=0,
                  solver="sgd", batch_norm=True, learning_rate_init=0.1),
]

# Training with random dropout masks or corruption noise, or on a random
# validation split, is not the same computation on weighted rows as on
# repeated rows (each copy of a row gets its own mask; the split draws from a
# different set of rows), so the two fits agree only in distribution.
STOCHASTIC = [
    MLPClassifier(**FAST, solver="sgd", dropout=0.5, learning_rate_init=0.1),
    MLPClassifier(**FAST, solver="sgd", dropout=0.2, input_dropout=0.1,
                  batch_norm=True, learning_rate_init=0.1),
    MLPClassifier(**FAST, solver="sgd", early_stopping=True,
                  learning_rate_init=0.1),
    MLPClassifier(**FAST, solver="adagrad", learning_rate="halving",
                  early_stopping=True, learning_rate_init=0.3),
]


@parametrize_with_checks(
    DETERMINISTIC + FLOAT32 + STOCHASTIC + REGRESSORS + AUTOENCODERS + PRETRAINED,
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def _weighted_and_repeated(estimator, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.rand(40, 6)
    y = (X[:, 0] + X[:, 1] > 1).astype(int) + (X[:, 2] > 0.5)
    sw = rng.randint(0, 4, size=40)
    repeated = clone(estimator).fit(X.repeat(sw, axis=0), y.repeat(sw))
    weighted = clone(estimator).fit(X, y, sample_weight=sw)
    return repeated.predict_proba(X), weighted.predict_proba(X)


@pytest.mark.parametrize("batch_norm", [False, True])
def test_integer_weights_equal_repeated_rows_in_float32(batch_norm):
    est = MLPClassifier(hidden_layer_sizes=(16,), max_iter=100, random_state=0,
                        solver="sgd", learning_rate_init=0.1, batch_norm=batch_norm)
    repeated, weighted = _weighted_and_repeated(est)
    assert_allclose(repeated, weighted, rtol=1e-4, atol=1e-6)
