"""Finite-difference checks of the engine's back-propagation.

Every hidden activation x output loss x batch-norm x dropout combination is
checked entry by entry (central differences, float64) with sample weights and
both penalties switched on. A second group of tests breaks a backward pass on
purpose and shows that the check then fails: a checker that cannot fail
proves nothing.
"""

import numpy as np
import pytest

from sknets._engine import activations, layers
from sknets._engine.gradcheck import array_names, as_float64, check_network_gradients
from sknets._engine.network import Network, build_mlp

ACTIVATION_NAMES = ["identity", "logistic", "tanh", "relu"]
LOSS_NAMES = ["softmax_log_loss", "logistic_log_loss", "squared_error"]

EPSILON = 1e-5
TOLERANCE = 1e-4
# Central differences with eps=1e-5 on a loss of order 1 carry an absolute
# round-off of about 1e-11 (measured: at most ~5e-11 over the whole grid).
# Gradients whose true value is exactly zero (the dense bias in front of a
# batch-norm layer) would read as a relative error of ~1e-4 with the default
# floor of 1e-7. With floor=1e-5 such entries must agree to 1e-9 in absolute
# terms (20x above the round-off), while every entry whose gradient exceeds
# 1e-5 -- essentially all of them, see _assert_gradients_are_not_tiny -- is
# still held to a genuine relative error of 1e-4.
FLOOR = 1e-5

N_SAMPLES, N_FEATURES, N_OUTPUTS = 16, 5, 3
HIDDEN = (7, 6)
ALPHA, L1_ALPHA = 1e-2, 1e-3


def _targets(loss, rng, n, k):
    if loss == "softmax_log_loss":
        return np.eye(k)[rng.integers(k, size=n)]
    if loss == "logistic_log_loss":
        return (rng.random((n, k)) < 0.5).astype(np.float64)
    return rng.normal(size=(n, k))


def _problem(activation, loss, batch_norm, dropout, seed=0):
    rng = np.random.default_rng(seed)
    net = build_mlp(
        N_FEATURES, HIDDEN, N_OUTPUTS, activation=activation, loss=loss,
        dropout=0.2 if dropout else 0.0, input_dropout=0.1 if dropout else 0.0,
        batch_norm=batch_norm, dtype=np.float64,
    )
    net.initialize(rng)
    # Biases start at zero and batch-norm at (1, 0): move them so that no
    # relu sits on its kink and the non-decayed arrays are checked at a
    # generic point.
    n_rest = net.theta.size - net.n_decayed
    net.theta[net.n_decayed:] += rng.uniform(-0.5, 0.5, size=n_rest)
    X = rng.normal(size=(N_SAMPLES, N_FEATURES))
    Y = _targets(loss, rng, N_SAMPLES, N_OUTPUTS)
    sample_weight = rng.uniform(0.5, 2.0, size=N_SAMPLES)
    return net, X, Y, sample_weight


def _analytic_gradient(net, X, Y, sample_weight, mask_seed):
    """The back-propagated gradient with the masks the check will draw."""
    net64 = as_float64(net)
    net64.loss_and_grad(X, Y, sample_weight, ALPHA, L1_ALPHA,
                        rng=np.random.default_rng(mask_seed))
    return net64.grad.copy()


def _structurally_zero(activation, batch_norm, dropout):
    """Arrays whose exact gradient is zero whatever the data."""
    if not batch_norm:
        return set()
    # Batch-norm subtracts the batch mean, so a constant shift added in front
    # of it (the preceding dense bias) cannot change the loss.
    zero = {"dense0.b", "dense1.b"}
    if activation == "identity" and not dropout:
        # With an affine hidden layer and no dropout mask in between, the
        # first batch-norm's shift reaches the second batch-norm as a
        # constant shift too.
        zero.add("batchnorm0.beta")
    return zero


@pytest.mark.numerics
@pytest.mark.parametrize("dropout", [False, True], ids=["no_dropout", "dropout"])
@pytest.mark.parametrize("batch_norm", [False, True], ids=["no_bn", "bn"])
@pytest.mark.parametrize("loss", LOSS_NAMES)
@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_backprop_matches_central_differences(activation, loss, batch_norm, dropout):
    net, X, Y, sw = _problem(activation, loss, batch_norm, dropout)
    theta_before = net.theta.copy()

    errors = check_network_gradients(
        net, X, Y, sw, alpha=ALPHA, l1_alpha=L1_ALPHA,
        rng=np.random.default_rng(1), epsilon=EPSILON, floor=FLOOR,
    )

    # Every trainable array was checked.
    expected = {name for name, _, _ in array_names(net)}
    assert set(errors) == expected
    n_dense = len(HIDDEN) + 1
    assert sum(name.startswith("dense") for name in errors) == 2 * n_dense
    assert sum(name.startswith("batchnorm") for name in errors) == (
        2 * len(HIDDEN) if batch_norm else 0
    )
    worst = max(errors.values())
    assert worst < TOLERANCE, {k: f"{v:.2e}" for k, v in errors.items()}
    # The check works on a copy.
    np.testing.assert_array_equal(net.theta, theta_before)

    # The comparison is meaningful only if the gradients are not mostly
    # below the floor (where it turns into an absolute comparison).
    grad = _analytic_gradient(net, X, Y, sw, mask_seed=1)
    zero = _structurally_zero(activation, batch_norm, dropout)
    for name, start, size in array_names(net):
        g = np.abs(grad[start:start + size])
        if name in zero:
            assert g.max() < 1e-12, (name, g.max())
        else:
            assert np.median(g) > 10 * FLOOR, (name, np.median(g))


@pytest.mark.parametrize("dropout", [False, True], ids=["no_dropout", "dropout"])
@pytest.mark.parametrize("loss", LOSS_NAMES)
@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_backprop_matches_central_differences_without_sample_weights(
    activation, loss, dropout
):
    # Batch-norm has a separate (unweighted) path when no weights are given.
    net, X, Y, _ = _problem(activation, loss, True, dropout)
    errors = check_network_gradients(
        net, X, Y, None, alpha=ALPHA, l1_alpha=L1_ALPHA,
        rng=np.random.default_rng(1), epsilon=EPSILON, floor=FLOOR,
    )
    assert max(errors.values()) < TOLERANCE, errors


@pytest.mark.parametrize("batch_norm", [False, True], ids=["no_bn", "bn"])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_backprop_with_some_zero_sample_weights(activation, batch_norm):
    net, X, Y, sw = _problem(activation, "softmax_log_loss", batch_norm, True)
    sw[::3] = 0.0
    errors = check_network_gradients(
        net, X, Y, sw, alpha=ALPHA, l1_alpha=L1_ALPHA,
        rng=np.random.default_rng(1), epsilon=EPSILON, floor=FLOOR,
    )
    assert max(errors.values()) < TOLERANCE, errors


def test_weighted_gradient_equals_gradient_on_repeated_rows():
    # Integer sample weights act as repeated rows, batch-norm included.
    net, X, Y, _ = _problem("tanh", "softmax_log_loss", True, False)
    weights = np.random.default_rng(3).integers(0, 4, size=N_SAMPLES)
    weighted = as_float64(net)
    repeated = as_float64(net)
    loss_w = weighted.loss_and_grad(X, Y, weights.astype(np.float64), ALPHA,
                                    L1_ALPHA)
    loss_r = repeated.loss_and_grad(np.repeat(X, weights, axis=0),
                                    np.repeat(Y, weights, axis=0), None, ALPHA,
                                    L1_ALPHA)
    assert loss_w == pytest.approx(loss_r, rel=1e-12)
    np.testing.assert_allclose(weighted.grad, repeated.grad, rtol=1e-9, atol=1e-13)


def test_gradcheck_runs_in_float64_on_a_float32_network():
    net64, X, Y, sw = _problem("tanh", "softmax_log_loss", True, True)
    net32 = build_mlp(
        N_FEATURES, HIDDEN, N_OUTPUTS, activation="tanh", batch_norm=True,
        dropout=0.2, input_dropout=0.1, dtype=np.float32,
    )
    net32.initialize(np.random.default_rng(0))
    net32.theta[...] = net64.theta
    errors = check_network_gradients(
        net32, X.astype(np.float32), Y, sw, alpha=ALPHA, l1_alpha=L1_ALPHA,
        rng=np.random.default_rng(1), epsilon=EPSILON, floor=FLOOR,
    )
    # In float32 central differences with eps=1e-5 would be pure noise.
    assert max(errors.values()) < TOLERANCE, errors
    assert net32.theta.dtype == np.float32


def test_dropout_masks_are_actually_exercised_by_the_check():
    # With dropout, a different mask draw gives a different gradient: the
    # check above really differentiates through the dropout layers.
    net, X, Y, sw = _problem("tanh", "squared_error", False, True)
    g1 = _analytic_gradient(net, X, Y, sw, mask_seed=1)
    g2 = _analytic_gradient(net, X, Y, sw, mask_seed=2)
    assert not np.allclose(g1, g2)


# --------------------------------------------------------------------------
# The check can fail.


def _max_error(activation="relu", loss="softmax_log_loss", batch_norm=False,
               dropout=False):
    net, X, Y, sw = _problem(activation, loss, batch_norm, dropout)
    errors = check_network_gradients(
        net, X, Y, sw, alpha=ALPHA, l1_alpha=L1_ALPHA,
        rng=np.random.default_rng(1), epsilon=EPSILON, floor=FLOOR,
    )
    return errors


@pytest.mark.numerics
def test_gradcheck_detects_a_wrong_relu_derivative(monkeypatch):
    forward, _ = activations.ACTIVATIONS["relu"]

    def leaky_backward(A, dA, scratch=None):
        # Wrong: lets a tenth of the gradient through inactive units.
        dA *= np.where(A > 0, 1.0, 0.1)
        return dA

    monkeypatch.setitem(activations.ACTIVATIONS, "relu", (forward, leaky_backward))
    errors = _max_error("relu")
    assert max(errors.values()) > 1e-2
    # The output layer's gradient does not go through the broken backward.
    assert errors["dense2.W"] < TOLERANCE
    assert errors["dense0.W"] > 1e-2


@pytest.mark.numerics
def test_gradcheck_detects_a_wrong_tanh_derivative(monkeypatch):
    forward, _ = activations.ACTIVATIONS["tanh"]

    def wrong_backward(A, dA, scratch=None):
        dA *= 1.0 - A  # should be 1 - A**2
        return dA

    monkeypatch.setitem(activations.ACTIVATIONS, "tanh", (forward, wrong_backward))
    assert max(_max_error("tanh", "squared_error").values()) > 1e-2


@pytest.mark.numerics
def test_gradcheck_detects_a_slightly_scaled_weight_gradient(monkeypatch):
    # A 0.1% error in one array is ten times the tolerance: the threshold
    # used above is discriminating, not just a catch for gross mistakes.
    original = layers.Dense.backward

    def scaled_backward(self, dZ, need_input_grad=True):
        out = original(self, dZ, need_input_grad)
        self.grads["W"] *= 1.001
        return out

    monkeypatch.setattr(layers.Dense, "backward", scaled_backward)
    errors = _max_error("tanh", "logistic_log_loss")
    for name, value in errors.items():
        if name.endswith(".W"):
            assert 5e-4 < value < 2e-3, (name, value)
        else:
            assert value < TOLERANCE, (name, value)


@pytest.mark.numerics
def test_gradcheck_detects_batch_norm_backward_that_ignores_the_statistics(
    monkeypatch,
):
    def naive_backward(self, dY, need_input_grad=True):
        # Treats the batch mean and variance as constants: wrong in training.
        np.sum(dY, axis=0, out=self.grads["beta"])
        np.sum(dY * self.cache["xhat"], axis=0, out=self.grads["gamma"])
        if not need_input_grad:
            return None
        return dY * (self.params["gamma"] * self.cache["inv_std"])

    monkeypatch.setattr(layers.BatchNorm, "backward", naive_backward)
    errors = _max_error("relu", "softmax_log_loss", batch_norm=True)
    assert errors["dense0.W"] > 1e-2
    # The layers above the last batch-norm are unaffected.
    assert errors["dense2.W"] < TOLERANCE


@pytest.mark.numerics
def test_gradcheck_detects_a_dropout_backward_that_forgets_the_mask(monkeypatch):
    def unmasked_backward(self, dY, need_input_grad=True):
        return dY

    monkeypatch.setattr(layers.Dropout, "backward", unmasked_backward)
    errors = _max_error("tanh", "squared_error", dropout=True)
    assert max(errors.values()) > 1e-2


@pytest.mark.numerics
def test_gradcheck_detects_a_missing_weight_decay_gradient(monkeypatch):
    monkeypatch.setattr(Network, "add_penalty_grad", lambda self, *args: None)
    errors = _max_error("tanh", "softmax_log_loss")
    assert all(errors[name] > 1e-3 for name in errors if name.endswith(".W"))
    assert all(errors[name] < TOLERANCE for name in errors if name.endswith(".b"))


def test_gradcheck_max_entries_limits_the_checked_entries(monkeypatch):
    net, X, Y, sw = _problem("tanh", "squared_error", False, False)
    calls = []
    original = Network.loss_and_grad

    def counting(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    # The check works on a copy of the network: count through the class.
    monkeypatch.setattr(Network, "loss_and_grad", counting)
    errors = check_network_gradients(net, X, Y, sw, epsilon=EPSILON,
                                     max_entries=2, floor=FLOOR)
    sizes = [size for _, _, size in array_names(net)]
    # One pass for the analytic gradient, then two per checked entry.
    assert len(calls) == 1 + 2 * sum(min(size, 2) for size in sizes)
    assert max(errors.values()) < TOLERANCE
