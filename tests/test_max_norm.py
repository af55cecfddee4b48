"""Max-norm regularisation: each hidden unit's incoming weights are capped."""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

from sknets import MLPClassifier, MLPRegressor, StackedPretrainedClassifier
from sknets._engine.layers import Dense


def _digits():
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _unit_norms(W):
    """L2 norm of each unit's incoming weights (the columns of W)."""
    return np.sqrt((np.asarray(W, dtype=np.float64) ** 2).sum(axis=0))


def test_constrain_norm_rescales_only_the_columns_above_the_cap():
    layer = Dense(3, 4, "relu")
    W = np.array([[3.0, 0.1, 0.0, 1.0],
                  [4.0, 0.2, 2.0, 1.0],
                  [0.0, 0.2, 0.0, 1.0]], dtype=np.float32)
    layer.bind({"W": W, "b": np.zeros(4, np.float32)}, {})
    before = W.copy()
    layer.constrain_norm(1.5)
    # Column norms were 5, 0.3, 2 and sqrt(3): the first, third and fourth
    # are brought to 1.5 along their own direction, the second is untouched.
    np.testing.assert_allclose(_unit_norms(W), [1.5, 0.3, 1.5, 1.5], rtol=1e-6)
    np.testing.assert_array_equal(W[:, 1], before[:, 1])
    for j in (0, 2, 3):
        np.testing.assert_allclose(W[:, j], before[:, j] * 1.5 / _unit_norms(
            before)[j], rtol=1e-6)


def test_constrain_norm_leaves_weights_within_the_cap_bit_for_bit():
    layer = Dense(5, 6, "relu")
    W = np.random.default_rng(0).normal(size=(5, 6)).astype(np.float32)
    layer.bind({"W": W, "b": np.zeros(6, np.float32)}, {})
    before = W.copy()
    layer.constrain_norm(float(_unit_norms(W).max()) * 1.01)
    np.testing.assert_array_equal(W, before)


@pytest.mark.numerics
@pytest.mark.parametrize("solver", ["sgd", "adam", "adagrad"])
def test_fitted_hidden_units_respect_the_cap_and_the_output_layer_is_free(solver):
    X, y = _digits()
    params = dict(hidden_layer_sizes=(32, 16), solver=solver, max_iter=15,
                  learning_rate_init=0.1 if solver != "adam" else 0.01,
                  random_state=0)
    free = MLPClassifier(**params).fit(X, y)
    cap = 1.0
    # The cap must bind: without it the hidden units grow beyond it.
    assert _unit_norms(free.coefs_[0]).max() > 1.5 * cap
    capped = MLPClassifier(**params, max_norm=cap).fit(X, y)
    for W in capped.coefs_[:-1]:
        assert _unit_norms(W).max() <= cap * (1 + 1e-5)
    # Many units sit at the cap (it is active, not just trivially met).
    assert np.mean(_unit_norms(capped.coefs_[0]) > 0.99 * cap) > 0.5
    # The output layer is not constrained (and clearly exceeds the cap).
    assert _unit_norms(capped.coefs_[-1]).max() > 1.5 * cap
    assert capped.score(X, y) > 0.9


def test_a_loose_cap_changes_nothing():
    X, y = _digits()
    params = dict(hidden_layer_sizes=(16,), solver="sgd", max_iter=5,
                  random_state=0)
    free = MLPClassifier(**params).fit(X, y)
    loose = MLPClassifier(**params, max_norm=1e6).fit(X, y)
    for a, b in zip(free.coefs_, loose.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.numerics
def test_max_norm_applies_to_partial_fit_and_the_regressor():
    X, y = _digits()
    reg = MLPRegressor(hidden_layer_sizes=(20,), solver="sgd",
                       learning_rate_init=0.05, max_norm=0.5, random_state=0)
    for _ in range(5):
        reg.partial_fit(X, y.astype(float))
    assert _unit_norms(reg.coefs_[0]).max() <= 0.5 * (1 + 1e-5)
    assert np.all(np.isfinite(reg.predict(X)))


@pytest.mark.numerics
def test_pretrained_classifier_caps_the_fine_tuned_weights():
    X, y = _digits()
    model = StackedPretrainedClassifier(
        hidden_layer_sizes=(24,), pretrain_max_iter=3, max_iter=5,
        solver="sgd", learning_rate_init=0.1, max_norm=0.8, random_state=0,
    ).fit(X, y)
    assert _unit_norms(model.coefs_[0]).max() <= 0.8 * (1 + 1e-5)


def test_max_norm_with_lbfgs_is_refused_with_a_clear_error():
    X, y = _digits()
    with pytest.raises(ValueError, match="max_norm .* stochastic solver"):
        MLPClassifier(solver="lbfgs", max_norm=3.0).fit(X, y)


@pytest.mark.parametrize("bad", [0, -1.0, "3"])
def test_invalid_max_norm_is_refused(bad):
    X, y = _digits()
    with pytest.raises((ValueError, TypeError), match="max_norm"):
        MLPClassifier(max_norm=bad).fit(X, y)
