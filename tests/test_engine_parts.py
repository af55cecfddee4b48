"""Unit tests of the engine's parts: optimisers, initialisation, layers,
schedules, the plateau rule, the training loop and the flat buffer."""

import ast
import copy
import math
import pathlib
import pickle
import warnings

import numpy as np
import pytest

import sknets._engine as engine_pkg
from sknets._engine.errors import DivergenceError
from sknets._engine.layers import Activation, BatchNorm, Dense, Dropout, ForwardContext
from sknets._engine.losses import SquaredError
from sknets._engine.network import Network, build_mlp
from sknets._engine.optimizers import SGD, Adagrad, Adam, make_optimizer
from sknets._engine.schedules import (
    Adaptive,
    Constant,
    Halving,
    InvScaling,
    make_schedule,
)
from sknets._engine.stopping import PlateauMonitor
from sknets._engine.trainer import Listener, Minibatches, Trainer, train_lbfgs

# --------------------------------------------------------------------------
# (a) Optimisers against hand-computed updates.


def _two_gradients(n=7, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=n), rng.normal(size=n), rng.normal(size=n)


def test_sgd_classical_momentum_matches_hand_computed_two_steps():
    theta0, g1, g2 = _two_gradients()
    lr, mu = 0.1, 0.9
    opt = SGD(theta0.size, np.float64, momentum=mu, nesterov=False)
    theta = theta0.copy()
    g1_copy, g2_copy = g1.copy(), g2.copy()

    v1 = -lr * g1
    expected1 = theta0 + v1
    opt.step(theta, g1, lr)
    np.testing.assert_allclose(theta, expected1, rtol=0, atol=1e-15)

    v2 = mu * v1 - lr * g2
    expected2 = expected1 + v2
    opt.step(theta, g2, lr)
    np.testing.assert_allclose(theta, expected2, rtol=0, atol=1e-15)
    np.testing.assert_allclose(opt.velocity, v2, rtol=0, atol=1e-15)
    # The gradient is read, never written.
    np.testing.assert_array_equal(g1, g1_copy)
    np.testing.assert_array_equal(g2, g2_copy)
    assert opt.n_steps == 2


def test_sgd_nesterov_momentum_matches_hand_computed_two_steps():
    theta0, g1, g2 = _two_gradients(seed=1)
    lr, mu = 0.05, 0.8
    opt = SGD(theta0.size, np.float64, momentum=mu, nesterov=True)
    theta = theta0.copy()

    v1 = -lr * g1
    expected1 = theta0 + mu * v1 - lr * g1
    opt.step(theta, g1, lr)
    np.testing.assert_allclose(theta, expected1, rtol=0, atol=1e-15)

    v2 = mu * v1 - lr * g2
    expected2 = expected1 + mu * v2 - lr * g2
    opt.step(theta, g2, lr)
    np.testing.assert_allclose(theta, expected2, rtol=0, atol=1e-15)
    np.testing.assert_allclose(opt.velocity, v2, rtol=0, atol=1e-15)


def test_nesterov_and_classical_momentum_differ_after_the_first_step():
    theta0, g1, g2 = _two_gradients(seed=2)
    thetas = []
    for nesterov in (False, True):
        opt = SGD(theta0.size, np.float64, momentum=0.9, nesterov=nesterov)
        theta = theta0.copy()
        opt.step(theta, g1, 0.1)
        opt.step(theta, g2, 0.1)
        thetas.append(theta)
    assert not np.allclose(thetas[0], thetas[1])


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_without_momentum_is_plain_gradient_descent(nesterov):
    theta0, g1, g2 = _two_gradients(seed=3)
    opt = SGD(theta0.size, np.float64, momentum=0.0, nesterov=nesterov)
    theta = theta0.copy()
    opt.step(theta, g1, 0.3)
    opt.step(theta, g2, 0.2)
    np.testing.assert_allclose(theta, theta0 - 0.3 * g1 - 0.2 * g2, atol=1e-15)


def test_adagrad_matches_hand_computed_two_steps():
    theta0, g1, g2 = _two_gradients(seed=4)
    lr, eps = 0.1, 1e-8
    opt = Adagrad(theta0.size, np.float64, epsilon=eps)
    theta = theta0.copy()

    G = g1**2
    expected1 = theta0 - lr * g1 / (np.sqrt(G) + eps)
    opt.step(theta, g1, lr)
    np.testing.assert_allclose(theta, expected1, rtol=1e-14, atol=1e-15)

    G = G + g2**2
    expected2 = expected1 - lr * g2 / (np.sqrt(G) + eps)
    opt.step(theta, g2, lr)
    np.testing.assert_allclose(theta, expected2, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(opt.sum_sq, g1**2 + g2**2, rtol=1e-15)


def test_adam_matches_hand_computed_two_steps():
    theta0, g1, g2 = _two_gradients(seed=5)
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    opt = Adam(theta0.size, np.float64, beta_1=b1, beta_2=b2, epsilon=eps)
    theta = theta0.copy()
    m = np.zeros_like(theta0)
    v = np.zeros_like(theta0)
    expected = theta0.copy()
    for t, g in enumerate((g1, g2), start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        lr_t = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
        expected = expected - lr_t * m / (np.sqrt(v) + eps)
        opt.step(theta, g, lr)
        np.testing.assert_allclose(theta, expected, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(opt.m, m, rtol=1e-14)
    np.testing.assert_allclose(opt.v, v, rtol=1e-14)


def test_adam_first_step_moves_every_parameter_by_about_the_learning_rate():
    # The bias correction makes the first step lr * sign(g) (up to epsilon,
    # which acts as eps / sqrt(1 - beta_2) on the first step).
    theta0, g1, _ = _two_gradients(seed=6)
    opt = Adam(theta0.size, np.float64)
    theta = theta0.copy()
    opt.step(theta, g1, 0.01)
    np.testing.assert_allclose(theta - theta0, -0.01 * np.sign(g1), rtol=1e-4)


@pytest.mark.parametrize("solver", ["sgd", "adagrad", "adam"])
def test_optimizer_reset_forgets_the_state(solver):
    theta0, g1, _ = _two_gradients(seed=7)
    opt = make_optimizer(solver, theta0.size, np.float64)
    fresh = make_optimizer(solver, theta0.size, np.float64)
    theta = theta0.copy()
    opt.step(theta, g1, 0.1)
    opt.reset()
    a, b = theta0.copy(), theta0.copy()
    opt.step(a, g1, 0.1)
    fresh.step(b, g1, 0.1)
    np.testing.assert_array_equal(a, b)


def test_make_optimizer_rejects_unknown_solver():
    with pytest.raises(ValueError, match="Unknown"):
        make_optimizer("rmsprop", 3, np.float64)


# --------------------------------------------------------------------------
# (b) Initialisation.


def _glorot(fan_in, fan_out):
    return math.sqrt(6.0 / (fan_in + fan_out))


EXPECTED_RANGE = {
    "identity": _glorot,
    "tanh": _glorot,
    "logistic": lambda fan_in, fan_out: 4.0 * _glorot(fan_in, fan_out),
    # He's factor 2 on the variance, with Glorot's average of the fans.
    "relu": lambda fan_in, fan_out: math.sqrt(12.0 / (fan_in + fan_out)),
}


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
def test_initialization_breaks_symmetry_with_the_documented_ranges(activation):
    net = build_mlp(40, (30, 20), 5, activation=activation, batch_norm=True,
                    dtype=np.float64)
    net.initialize(np.random.default_rng(0))
    dense = net.dense_layers()
    assert len(dense) == 3
    for i, layer in enumerate(dense):
        W, b = layer.params["W"], layer.params["b"]
        fan_in, fan_out = W.shape
        # The output layer always gets the plain Glorot range.
        rule = EXPECTED_RANGE["identity" if i == len(dense) - 1 else activation]
        bound = rule(fan_in, fan_out)
        assert np.all(b == 0)
        assert np.ptp(W) > 0  # not constant
        # Every unit (column) computes a different function.
        assert np.unique(W.T, axis=0).shape[0] == fan_out
        # Every input reaches the units with different weights too.
        assert np.unique(W, axis=0).shape[0] == fan_in
        assert np.abs(W).max() <= bound
        assert np.abs(W).max() > 0.9 * bound
        # U(-r, r) has standard deviation r / sqrt(3) and mean 0.
        np.testing.assert_allclose(W.std(), bound / math.sqrt(3), rtol=0.15)
        # Mean 0, within four standard errors.
        assert abs(W.mean()) < 4 * bound / math.sqrt(3) / math.sqrt(W.size)
    for layer in net.layers:
        if isinstance(layer, BatchNorm):
            assert np.all(layer.params["gamma"] == 1)
            assert np.all(layer.params["beta"] == 0)
            assert np.all(layer.state["running_mean"] == 0)
            assert np.all(layer.state["running_var"] == 1)


def test_relu_range_is_wider_than_glorot_for_square_layers():
    nets = {}
    for activation in ("tanh", "relu"):
        net = build_mlp(50, (50,), 2, activation=activation, dtype=np.float64)
        net.initialize(np.random.default_rng(0))
        nets[activation] = net.dense_layers()[0].params["W"]
    # He-style (fan average): sqrt(12/100); Glorot: sqrt(6/100).
    np.testing.assert_allclose(
        np.abs(nets["relu"]).max() / np.abs(nets["tanh"]).max(), math.sqrt(2),
        rtol=0.05,
    )


def test_same_seed_gives_identical_parameters_and_different_seeds_differ():
    def init(seed):
        net = build_mlp(6, (5, 4), 3, dtype=np.float32)
        net.initialize(np.random.default_rng(seed))
        return net.theta.copy()

    np.testing.assert_array_equal(init(3), init(3))
    a, b = init(3), init(4)
    assert not np.array_equal(a, b)
    # Different in every weight, not in one entry.
    n_weights = 6 * 5 + 5 * 4 + 4 * 3
    assert np.all(a[:n_weights] != b[:n_weights])


def test_dropout_layers_do_not_change_the_initial_parameters():
    plain = build_mlp(6, (5, 4), 3, dtype=np.float64)
    with_dropout = build_mlp(6, (5, 4), 3, dropout=0.5, input_dropout=0.2,
                             dtype=np.float64)
    plain.initialize(np.random.default_rng(0))
    with_dropout.initialize(np.random.default_rng(0))
    np.testing.assert_array_equal(plain.theta, with_dropout.theta)


def test_weights_come_first_in_the_flat_buffer():
    net = build_mlp(6, (5, 4), 3, batch_norm=True, dtype=np.float64)
    net.initialize(np.random.default_rng(0))
    assert net.n_decayed == 6 * 5 + 5 * 4 + 4 * 3
    assert net.n_params == net.n_decayed + (5 + 4 + 3) + 2 * (5 + 4)
    decayed = net.theta[: net.n_decayed]
    for layer in net.dense_layers():
        assert np.shares_memory(layer.params["W"], decayed)
        assert not np.shares_memory(layer.params["b"], decayed)


# --------------------------------------------------------------------------
# (c) Dropout.


def test_dropout_drops_about_rate_and_rescales_kept_units_in_training():
    rate = 0.3
    layer = Dropout(rate)
    X = np.ones((2000, 50))
    out = layer.forward(X, ForwardContext(training=True, rng=np.random.default_rng(0)))
    dropped = np.mean(out == 0)
    assert abs(dropped - rate) < 0.01
    kept = out[out != 0]
    np.testing.assert_allclose(kept, 1.0 / (1.0 - rate), rtol=1e-12)
    # Inverted dropout keeps the expected value of every unit.
    assert abs(out.mean() - 1.0) < 0.02
    np.testing.assert_array_equal(X, 1.0)  # input untouched


def test_dropout_is_identity_at_inference():
    layer = Dropout(0.5)
    X = np.random.default_rng(0).normal(size=(20, 7))
    X_copy = X.copy()
    rng = np.random.default_rng(1)
    state_before = copy.deepcopy(rng.bit_generator.state)
    out = layer.forward(X, ForwardContext(training=False, rng=rng))
    np.testing.assert_array_equal(out, X_copy)
    # No randomness consumed and nothing cached at inference.
    assert rng.bit_generator.state == state_before
    assert layer.cache.get("mask") is None


def test_dropout_backward_applies_the_forward_mask():
    rate = 0.4
    layer = Dropout(rate)
    rng = np.random.default_rng(0)
    X = rng.uniform(1.0, 2.0, size=(50, 8))  # never zero
    # Training outputs live in a buffer that the next forward reuses.
    out = layer.forward(X, ForwardContext(training=True, rng=rng)).copy()
    mask = out / X
    assert set(np.unique(np.round(mask, 12))) == {0.0, round(1 / (1 - rate), 12)}
    dY = rng.normal(size=X.shape)
    dX = layer.backward(dY.copy())
    np.testing.assert_allclose(dX, dY * mask, rtol=1e-12)
    # reuse_masks keeps the mask; a new draw changes it.
    again = layer.forward(X, ForwardContext(training=True, rng=rng, reuse_masks=True))
    np.testing.assert_array_equal(again, out)
    redrawn = layer.forward(X, ForwardContext(training=True, rng=rng))
    assert not np.array_equal(redrawn, out)


def test_network_with_dropout_predicts_deterministically_as_without_dropout():
    X = np.random.default_rng(0).normal(size=(30, 6))
    plain = build_mlp(6, (8, 5), 3, dtype=np.float64)
    dropped = build_mlp(6, (8, 5), 3, dropout=0.5, input_dropout=0.3,
                        dtype=np.float64)
    plain.initialize(np.random.default_rng(1))
    dropped.initialize(np.random.default_rng(1))
    np.testing.assert_array_equal(dropped.predict(X), plain.predict(X))
    np.testing.assert_array_equal(dropped.predict(X), dropped.predict(X))


# --------------------------------------------------------------------------
# (d) Batch normalisation.


def _bound_batch_norm(n, momentum=0.9, gamma=None, beta=None):
    layer = BatchNorm(n, momentum=momentum)
    params = {"gamma": np.ones(n), "beta": np.zeros(n)}
    grads = {"gamma": np.zeros(n), "beta": np.zeros(n)}
    layer.bind(params, grads)
    layer.initialize(None)
    if gamma is not None:
        layer.params["gamma"][...] = gamma
    if beta is not None:
        layer.params["beta"][...] = beta
    return layer


GAMMA = np.array([1.0, 2.0, 0.5, 3.0])
BETA = np.array([0.0, -1.0, 4.0, 0.5])


def test_batch_norm_training_output_has_mean_beta_and_std_gamma():
    layer = _bound_batch_norm(4, gamma=GAMMA, beta=BETA)
    rng = np.random.default_rng(0)
    Z = rng.normal(loc=[5.0, -3.0, 0.0, 100.0], scale=[3.0, 0.5, 10.0, 2.0],
                   size=(300, 4))
    out = layer.forward(Z, ForwardContext(training=True))
    np.testing.assert_allclose(out.mean(axis=0), BETA, atol=1e-12)
    # Exactly gamma up to the eps under the square root.
    var = Z.var(axis=0)
    np.testing.assert_allclose(out.std(axis=0), GAMMA * np.sqrt(var / (var + 1e-5)),
                               rtol=1e-12)
    np.testing.assert_allclose(out.std(axis=0), GAMMA, rtol=1e-4)


def test_batch_norm_training_statistics_are_sample_weighted():
    layer = _bound_batch_norm(4, gamma=GAMMA, beta=BETA)
    rng = np.random.default_rng(0)
    Z = rng.normal(loc=3.0, scale=2.0, size=(40, 4))
    weights = rng.integers(0, 4, size=40).astype(np.float64)
    out = layer.forward(Z, ForwardContext(training=True, sample_weight=weights))
    p = weights / weights.sum()
    mean = p @ out
    np.testing.assert_allclose(mean, BETA, atol=1e-12)
    std = np.sqrt(p @ (out - mean) ** 2)
    np.testing.assert_allclose(std, GAMMA, rtol=1e-4)
    # A weight of k acts as k repeated rows (a weight of 0 as no row).
    repeated = np.repeat(Z, weights.astype(int), axis=0)
    other = _bound_batch_norm(4, gamma=GAMMA, beta=BETA)
    out_repeated = other.forward(repeated, ForwardContext(training=True))
    np.testing.assert_allclose(np.repeat(out, weights.astype(int), axis=0),
                               out_repeated, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.state["running_mean"],
                               other.state["running_mean"], rtol=1e-12)
    np.testing.assert_allclose(layer.state["running_var"],
                               other.state["running_var"], rtol=1e-12)


def test_batch_norm_inference_uses_running_statistics_not_the_batch():
    layer = _bound_batch_norm(4, momentum=0.9, gamma=GAMMA, beta=BETA)
    rng = np.random.default_rng(0)
    layer.forward(rng.normal(size=(100, 4)), ForwardContext(training=True))
    running_mean = layer.state["running_mean"].copy()
    running_var = layer.state["running_var"].copy()

    # A batch centred far away: inference must not re-centre it.
    Z = rng.normal(loc=50.0, scale=1.0, size=(40, 4))
    out = layer.forward(Z, ForwardContext(training=False))
    expected = GAMMA * (Z - running_mean) / np.sqrt(running_var + layer.eps) + BETA
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    assert np.all(np.abs(out.mean(axis=0) - BETA) > 10)
    # Each row is normalised on its own.
    np.testing.assert_allclose(layer.forward(Z[:1], ForwardContext(training=False)),
                               out[:1])
    # Inference changes neither the running statistics nor the caches.
    np.testing.assert_array_equal(layer.state["running_mean"], running_mean)
    np.testing.assert_array_equal(layer.state["running_var"], running_var)


def test_batch_norm_inference_writes_nothing_to_the_layer():
    layer = _bound_batch_norm(3)
    rng = np.random.default_rng(0)
    layer.forward(rng.normal(size=(10, 3)), ForwardContext(training=True))
    cache = layer.cache["xhat"].copy()
    layer.forward(rng.normal(size=(5, 3)), ForwardContext(training=False))
    np.testing.assert_array_equal(layer.cache["xhat"], cache)


def test_batch_norm_running_averages_move_toward_batch_statistics_with_momentum():
    momentum = 0.8
    layer = _bound_batch_norm(3, momentum=momentum)
    rng = np.random.default_rng(0)
    Z1 = rng.normal(loc=2.0, scale=3.0, size=(20, 3))
    Z2 = rng.normal(loc=-1.0, scale=0.5, size=(30, 3))
    layer.forward(Z1, ForwardContext(training=True))
    # The running variance averages the (biased) batch variance.
    mean1, var1 = Z1.mean(axis=0), Z1.var(axis=0)
    np.testing.assert_allclose(layer.state["running_mean"], (1 - momentum) * mean1)
    np.testing.assert_allclose(
        layer.state["running_var"], momentum * 1.0 + (1 - momentum) * var1
    )
    layer.forward(Z2, ForwardContext(training=True))
    mean2, var2 = Z2.mean(axis=0), Z2.var(axis=0)
    np.testing.assert_allclose(
        layer.state["running_mean"],
        momentum * (1 - momentum) * mean1 + (1 - momentum) * mean2,
    )
    np.testing.assert_allclose(
        layer.state["running_var"],
        momentum * (momentum + (1 - momentum) * var1) + (1 - momentum) * var2,
    )


def test_batch_norm_running_averages_converge_to_a_repeated_batch():
    layer = _bound_batch_norm(2, momentum=0.5)
    Z = np.random.default_rng(0).normal(loc=7.0, scale=2.0, size=(25, 2))
    for _ in range(60):
        layer.forward(Z, ForwardContext(training=True))
    np.testing.assert_allclose(layer.state["running_mean"], Z.mean(axis=0))
    np.testing.assert_allclose(layer.state["running_var"], Z.var(axis=0))
    # ... so inference on that batch then matches training on it.
    train = layer.forward(Z, ForwardContext(training=True))
    infer = layer.forward(Z, ForwardContext(training=False))
    np.testing.assert_allclose(infer, train, rtol=1e-10, atol=1e-12)


def _population_problem():
    rng = np.random.default_rng(0)
    n = 50
    X = rng.normal(loc=1.0, scale=2.0, size=(n, 4))
    net = build_mlp(4, (6, 5), 2, activation="tanh", batch_norm=True,
                    loss="squared_error", dtype=np.float64)
    net.initialize(rng)
    net.theta[net.n_decayed:] += rng.uniform(-0.5, 0.5,
                                             net.theta.size - net.n_decayed)
    # Move the running averages away from anything exact.
    for _ in range(3):
        net.forward(X[rng.choice(n, 10)], training=True,
                    rng=np.random.default_rng(1))
    return net, X


def _expected_population(net, X, weights):
    """Weighted mean and population variance of each batch-norm input."""
    p = weights / weights.sum()
    dense0, bn0, act0, dense1, bn1, _act1, _out = net.layers
    assert isinstance(bn0, BatchNorm) and isinstance(bn1, BatchNorm)
    assert isinstance(act0, Activation)
    Z0 = X @ dense0.params["W"] + dense0.params["b"]
    mean0 = p @ Z0
    var0 = p @ (Z0 - mean0) ** 2
    # The second layer's statistics are those of the inference-mode network
    # below it, using the first layer's exact statistics.
    H0 = np.tanh(bn0.params["gamma"] * (Z0 - mean0) / np.sqrt(var0 + bn0.eps)
                 + bn0.params["beta"])
    Z1 = H0 @ dense1.params["W"] + dense1.params["b"]
    mean1 = p @ Z1
    var1 = p @ (Z1 - mean1) ** 2
    return [(bn0, mean0, var0), (bn1, mean1, var1)]


def test_set_population_statistics_gives_exact_mean_and_variance():
    net, X = _population_problem()
    n = X.shape[0]

    def chunks():
        return ((X[start:start + 7], None) for start in range(0, n, 7))

    net.set_population_statistics(chunks)
    for bn, mean, var in _expected_population(net, X, np.ones(n)):
        np.testing.assert_allclose(bn.state["running_mean"], mean,
                                   rtol=1e-10, atol=1e-12)
        # The population variance of the training data.
        np.testing.assert_allclose(bn.state["running_var"], var, rtol=1e-10)


def test_set_population_statistics_weights_rows_by_sample_weight():
    net, X = _population_problem()
    n = X.shape[0]
    weights = np.random.default_rng(5).integers(0, 4, size=n).astype(np.float64)

    def chunks():
        return ((X[start:start + 7], weights[start:start + 7])
                for start in range(0, n, 7))

    net.set_population_statistics(chunks)
    for bn, mean, var in _expected_population(net, X, weights):
        np.testing.assert_allclose(bn.state["running_mean"], mean,
                                   rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(bn.state["running_var"], var, rtol=1e-10)
    # The same as repeating each row weight times.
    repeated = np.repeat(X, weights.astype(int), axis=0)
    other, _ = _population_problem()
    other.set_population_statistics(lambda: [(repeated, None)])
    for a, b in zip(net.get_state(), other.get_state(), strict=True):
        for key in a:
            np.testing.assert_allclose(a[key], b[key], rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------
# (e) Schedules.


def test_halving_divides_by_exactly_two_and_stops_below_the_minimum():
    schedule = Halving(0.1, min_learning_rate=0.01)
    assert schedule.on_plateau() is True
    assert schedule.learning_rate == 0.05
    assert schedule.on_plateau() is True
    assert schedule.learning_rate == 0.025
    assert schedule.on_plateau() is True
    assert schedule.learning_rate == 0.0125
    assert schedule.on_plateau() is False  # 0.00625 < 0.01: refused
    assert schedule.learning_rate == 0.0125  # not made: a warm start goes on here


def test_halving_keeps_going_at_exactly_the_minimum():
    schedule = Halving(0.02, min_learning_rate=0.01)
    assert schedule.on_plateau() is True
    assert schedule.learning_rate == 0.01
    assert schedule.on_plateau() is False


def test_halving_keeps_the_rate_between_plateaus():
    schedule = Halving(0.1)
    for t in (100, 200, 300):
        schedule.on_epoch_end(t)
        assert schedule.learning_rate == 0.1


def test_adaptive_divides_by_five_and_stops_at_one_millionth():
    schedule = Adaptive(1e-3)
    rates = []
    while schedule.on_plateau():
        rates.append(schedule.learning_rate)
    expected = [2e-4, 4e-5, 8e-6, 1.6e-6, 3.2e-7]
    np.testing.assert_allclose(rates, expected, rtol=1e-12)
    # Once at or below 1e-6 the rate is no longer lowered.
    assert schedule.learning_rate == rates[-1]
    assert schedule.on_plateau() is False


def test_adaptive_stops_at_exactly_the_floor():
    schedule = Adaptive(1e-6)
    assert schedule.on_plateau() is False
    assert schedule.learning_rate == 1e-6


def test_invscaling_follows_the_formula():
    schedule = InvScaling(0.5, power_t=0.25)
    assert schedule.learning_rate == 0.5
    for t in (0, 99, 1000, 12345):
        schedule.on_epoch_end(t)
        assert schedule.learning_rate == pytest.approx(0.5 / (t + 1) ** 0.25,
                                                       rel=1e-15)
    assert schedule.on_plateau() is False


def test_constant_schedule_keeps_the_rate_and_stops_on_plateau():
    schedule = Constant(0.3)
    schedule.on_epoch_end(1000)
    assert schedule.learning_rate == 0.3
    assert schedule.on_plateau() is False


@pytest.mark.parametrize("name", ["constant", "invscaling", "adaptive", "halving"])
def test_schedule_scale_multiplies_the_current_rate(name):
    schedule = make_schedule(name, 0.2)
    schedule.scale(0.1)
    assert schedule.learning_rate == pytest.approx(0.02)
    if name == "invscaling":
        schedule.on_epoch_end(3)
        assert schedule.learning_rate == pytest.approx(0.02 / 4**0.5)


def test_make_schedule_rejects_unknown_names():
    with pytest.raises(ValueError, match="Unknown"):
        make_schedule("cosine", 0.1)


# --------------------------------------------------------------------------
# (f) The plateau rule.


def test_plateau_monitor_counts_epochs_that_do_not_beat_best_by_tol():
    monitor = PlateauMonitor(patience=2, tol=0.1, mode="min")
    assert monitor.update(1.0, 1) is True
    assert monitor.n_bad_epochs == 0
    # Better, but by less than tol: best moves, the count goes up.
    assert monitor.update(0.95, 2) is True
    assert (monitor.best, monitor.best_epoch, monitor.n_bad_epochs) == (0.95, 2, 1)
    assert monitor.update(0.99, 3) is False
    assert monitor.n_bad_epochs == 2
    assert not monitor.plateau  # not more than patience yet
    # Beating best by at least tol resets the count.
    assert monitor.update(0.8, 4) is True
    assert monitor.n_bad_epochs == 0
    for epoch in (5, 6, 7):
        monitor.update(0.8, epoch)
    assert monitor.n_bad_epochs == 3
    assert monitor.plateau
    assert (monitor.best, monitor.best_epoch) == (0.8, 4)
    monitor.reset_count()
    assert not monitor.plateau
    assert monitor.best == 0.8


def test_plateau_monitor_max_mode_for_scores():
    monitor = PlateauMonitor(patience=0, tol=0.01, mode="max")
    assert monitor.update(0.5, 1) is True
    assert monitor.update(0.505, 2) is True  # better but < tol
    assert monitor.plateau
    assert monitor.update(0.6, 3) is True
    assert not monitor.plateau
    assert monitor.update(0.4, 4) is False
    assert (monitor.best, monitor.best_epoch) == (0.6, 3)
    assert monitor.plateau


def test_plateau_monitor_tie_counts_as_progress_with_zero_tol():
    monitor = PlateauMonitor(patience=0, tol=0.0)
    monitor.update(1.0, 1)
    assert monitor.update(1.0, 2) is False  # not a new best (strict) ...
    assert monitor.n_bad_epochs == 0  # ... but not a bad epoch either
    assert monitor.best_epoch == 1


def test_plateau_monitor_nan_never_improves():
    for mode in ("min", "max"):
        monitor = PlateauMonitor(patience=1, tol=0.0, mode=mode)
        assert monitor.update(float("nan"), 1) is False
        assert monitor.best_epoch is None
        assert math.isinf(monitor.best)
        monitor.update(1.0, 2)
        assert monitor.update(float("nan"), 3) is False
        assert monitor.update(float("nan"), 4) is False
        assert monitor.n_bad_epochs == 2
        assert monitor.plateau
        assert (monitor.best, monitor.best_epoch) == (1.0, 2)


def test_plateau_monitor_with_infinite_patience_never_plateaus():
    monitor = PlateauMonitor(patience=math.inf, tol=0.0)
    monitor.update(1.0, 1)
    for epoch in range(2, 100):
        monitor.update(2.0, epoch)
    assert not monitor.plateau


# --------------------------------------------------------------------------
# (g) The training loop.


def _classification(n=60, seed=0, flip=False):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    labels = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    if flip:
        labels = 1 - labels
    return X, np.eye(2)[labels]


def _net(batch_norm=False, seed=0, loss="softmax_log_loss", n_out=2):
    net = build_mlp(3, (8,), n_out, activation="tanh", loss=loss,
                    batch_norm=batch_norm, dtype=np.float64)
    net.initialize(np.random.default_rng(seed))
    return net


class Snapshots(Listener):
    """Keeps the parameters and state at the end of every epoch."""

    def __init__(self):
        self.snapshots = []

    def on_epoch_end(self, run, record):
        self.snapshots.append((run.network.theta.copy(), run.network.get_state()))


def RecordingTrainer(*args, **kwargs):
    """A trainer whose ``snapshots`` are its epochs' parameters and state."""
    listener = Snapshots()
    trainer = Trainer(*args, listeners=[listener], **kwargs)
    trainer.snapshots = listener.snapshots
    return trainer


class JumpSchedule(Constant):
    """A sane rate for a few epochs, then a huge one that wrecks the fit."""

    def __init__(self, learning_rate_init, huge, after):
        super().__init__(learning_rate_init)
        self.huge = huge
        self.after = after
        self.n_epochs = 0

    def on_epoch_end(self, t):
        self.n_epochs += 1
        if self.n_epochs >= self.after:
            self.learning_rate = self.huge


@pytest.mark.numerics
def test_trainer_restores_the_best_validation_epoch():
    X, Y = _classification(n=80)
    X_val, Y_val = _classification(n=40, seed=1)
    net = _net(batch_norm=True)
    trainer = RecordingTrainer(
        net, SGD(net.n_params, np.float64, momentum=0.9),
        JumpSchedule(0.05, huge=10.0, after=6), max_iter=12, n_iter_no_change=100,
    )
    result = trainer.fit(Minibatches(X, Y, batch_size=20),
                         np.random.default_rng(0), validation=(X_val, Y_val, None))
    scores = [record["val_score"] for record in result.history]
    assert len(scores) == len(trainer.snapshots) == 12
    best = int(np.argmax(scores))
    # The setup has the validation score improve, then collapse.
    assert 0 < best < 11
    assert scores[best] > scores[0]
    assert max(scores[best + 1:]) < scores[best] - 1.0
    assert result.best_epoch == best + 1
    assert result.best_validation_score == scores[best]
    # The parameters and batch-norm statistics of that epoch are restored.
    best_theta, best_state = trainer.snapshots[best]
    np.testing.assert_array_equal(net.theta, best_theta)
    for layer_state, saved in zip(net.get_state(), best_state, strict=True):
        for key in saved:
            np.testing.assert_array_equal(layer_state[key], saved[key])
    assert not np.array_equal(net.theta, trainer.snapshots[-1][0])
    # ...and the restored network does score the best validation score.
    loss, _ = net.evaluate(X_val, Y_val)
    assert -loss == pytest.approx(scores[best], rel=1e-12)


def test_trainer_restores_the_first_epoch_when_validation_only_gets_worse():
    X, Y = _classification()
    # Validation labels opposite to the training labels.
    X_val, Y_val = _classification(n=40, seed=1, flip=True)
    net = _net()
    trainer = RecordingTrainer(net, SGD(net.n_params, np.float64), Constant(0.1),
                               max_iter=5, n_iter_no_change=100)
    result = trainer.fit(Minibatches(X, Y, batch_size=20),
                         np.random.default_rng(0), validation=(X_val, Y_val, None))
    scores = [record["val_score"] for record in result.history]
    assert all(a > b for a, b in zip(scores, scores[1:], strict=False))
    assert result.best_epoch == 1
    np.testing.assert_array_equal(net.theta, trainer.snapshots[0][0])


def test_trainer_without_validation_keeps_the_last_parameters():
    X, Y = _classification()
    net = _net()
    steps = []

    class RecordingSGD(SGD):
        def step(self, theta, grad, learning_rate, **kwargs):
            super().step(theta, grad, learning_rate, **kwargs)
            steps.append(theta.copy())

    trainer = Trainer(net, RecordingSGD(net.n_params, np.float64), Constant(0.1),
                      max_iter=5, n_iter_no_change=100)
    result = trainer.fit(Minibatches(X, Y, batch_size=20), np.random.default_rng(0))
    assert result.n_iter == 5
    assert len(steps) == 5 * 3
    np.testing.assert_array_equal(net.theta, steps[-1])
    assert result.best_epoch is None


def test_trainer_halves_the_rate_on_each_plateau():
    X, Y = _classification()
    net = _net()
    # A tolerance no loss decrease can meet: every epoch after the first is
    # "no improvement", so with patience 0 each one is a plateau.
    trainer = Trainer(net, SGD(net.n_params, np.float64), Halving(0.1, 0.01),
                      max_iter=50, tol=1e9, n_iter_no_change=0)
    result = trainer.fit(Minibatches(X, Y, batch_size=20), np.random.default_rng(0))
    rates = [record["learning_rate"] for record in result.history]
    assert rates == [0.1, 0.1, 0.05, 0.025, 0.0125]
    assert result.stop_reason == "learning_rate_floor"
    assert result.n_rate_cuts == 3
    assert result.converged
    assert trainer.schedule.learning_rate == 0.0125  # the refused cut not made


@pytest.mark.numerics
def test_trainer_halves_on_a_real_training_loss_plateau():
    X, Y = _classification()
    net = _net()
    trainer = Trainer(net, SGD(net.n_params, np.float64, momentum=0.9),
                      Halving(0.5, 1e-3), max_iter=300, tol=1e-3,
                      n_iter_no_change=3)
    result = trainer.fit(Minibatches(X, Y, batch_size=20), np.random.default_rng(0))
    rates = [record["learning_rate"] for record in result.history]
    distinct = sorted(set(rates), reverse=True)
    assert len(distinct) >= 2
    # Every change is an exact halving.
    for higher, lower in zip(distinct, distinct[1:], strict=False):
        assert lower == higher / 2
    # ... and rates never go back up.
    assert all(a >= b for a, b in zip(rates, rates[1:], strict=False))


class PoisoningSGD(SGD):
    """SGD that writes inf into the parameters on chosen steps."""

    def __init__(self, network, poison_steps, *args, **kwargs):
        self.network = network
        self.poison_steps = poison_steps
        self.total_steps = 0
        self.theta_at_reset = None
        super().__init__(*args, **kwargs)
        self.theta_at_reset = []

    def reset(self):
        super().reset()
        # Called by the trainer after it restored the parameters.
        if self.theta_at_reset is not None:
            self.theta_at_reset.append(self.network.theta.copy())

    def step(self, theta, grad, learning_rate, **kwargs):
        super().step(theta, grad, learning_rate, **kwargs)
        self.total_steps += 1
        if self.poison_steps is None or self.total_steps in self.poison_steps:
            theta[0] = np.inf


def test_trainer_recovers_from_a_non_finite_loss():
    X, Y = _classification()
    net = _net()
    theta0 = net.theta.copy()
    opt = PoisoningSGD(net, {2}, net.n_params, np.float64, momentum=0.9)
    trainer = Trainer(net, opt, Constant(0.1), max_iter=4, n_iter_no_change=100)
    with pytest.warns(RuntimeWarning, match="non-finite"):
        result = trainer.fit(Minibatches(X, Y, batch_size=20),
                             np.random.default_rng(0))
    assert result.n_recoveries == 1
    assert result.n_iter == 4
    # The parameters from before the failed epoch were restored...
    assert len(opt.theta_at_reset) == 1
    np.testing.assert_array_equal(opt.theta_at_reset[0], theta0)
    # ... and the epoch redone with a rate ten times lower.
    assert [r["learning_rate"] for r in result.history] == [pytest.approx(0.01)] * 4
    assert [r["epoch"] for r in result.history] == [1, 2, 3, 4]
    assert np.all(np.isfinite(net.theta))
    assert math.isfinite(result.loss)


def test_trainer_raises_divergence_error_when_it_cannot_recover():
    X, Y = _classification()
    net = _net()
    opt = PoisoningSGD(net, None, net.n_params, np.float64)  # poisons every step
    trainer = Trainer(net, opt, Constant(0.1), max_iter=10, max_recoveries=3)
    # Train one clean epoch first, so that the restored parameters are not
    # simply the initial ones.
    clean = Trainer(net, SGD(net.n_params, np.float64), Constant(0.1), max_iter=1)
    clean.fit(Minibatches(X, Y, batch_size=20), np.random.default_rng(0))
    theta_good = net.theta.copy()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(DivergenceError, match="diverged"):
            trainer.fit(Minibatches(X, Y, batch_size=20), np.random.default_rng(0))
    runtime = [w for w in caught if issubclass(w.category, RuntimeWarning)
               and "non-finite" in str(w.message)]
    assert len(runtime) == 3
    assert np.all(np.isfinite(net.theta))
    np.testing.assert_array_equal(net.theta, theta_good)
    assert trainer.schedule.learning_rate == pytest.approx(1e-4)


def test_trainer_with_a_huge_learning_rate_diverges_without_nan_parameters():
    rng = np.random.default_rng(0)
    X = rng.normal(scale=10.0, size=(40, 3))
    Y = rng.normal(scale=100.0, size=(40, 1))
    net = build_mlp(3, (8,), 1, activation="identity", loss="squared_error",
                    dtype=np.float64)
    net.initialize(rng)
    theta0 = net.theta.copy()
    trainer = Trainer(net, SGD(net.n_params, np.float64, momentum=0.9),
                      Constant(1e8), max_iter=20, max_recoveries=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(DivergenceError):
            trainer.fit(Minibatches(X, Y, batch_size=10), np.random.default_rng(0))
    assert np.all(np.isfinite(net.theta))
    np.testing.assert_array_equal(net.theta, theta0)


def test_trainer_keyboard_interrupt_stops_with_finite_parameters():
    X, Y = _classification()
    net = _net()

    class InterruptingSGD(SGD):
        n = 0
        theta_before = None

        def step(self, theta, grad, learning_rate, **kwargs):
            self.n += 1
            if self.n == 4:  # second epoch, first step
                self.theta_before = theta.copy()
                theta[0] = np.nan
                raise KeyboardInterrupt
            super().step(theta, grad, learning_rate, **kwargs)

    opt = InterruptingSGD(net.n_params, np.float64)
    trainer = Trainer(net, opt, Constant(0.1), max_iter=10)
    result = trainer.fit(Minibatches(X, Y, batch_size=20), np.random.default_rng(0))
    assert result.stop_reason == "interrupted"
    assert result.n_iter == 1
    np.testing.assert_array_equal(net.theta, opt.theta_before)


def test_trainer_invscaling_time_counts_samples_whatever_their_weights():
    # As scikit-learn: the schedule's time is the number of rows seen, so that
    # rescaling all sample weights changes nothing.
    X, Y = _classification(n=40)
    rates = []
    for scale in (0.5, 3.0):
        net = _net()
        trainer = Trainer(net, SGD(net.n_params, np.float64),
                          InvScaling(0.2, 0.5), max_iter=4, n_iter_no_change=100)
        batches = Minibatches(X, Y, np.full(40, scale), batch_size=10)
        result = trainer.fit(batches, np.random.default_rng(0))
        rates.append([record["learning_rate"] for record in result.history])
        assert result.t == 160
    expected = [0.2] + [0.2 / (40 * k + 1) ** 0.5 for k in (1, 2, 3)]
    np.testing.assert_allclose(rates[0], expected, rtol=1e-14)
    np.testing.assert_allclose(rates[1], expected, rtol=1e-14)


def test_trainer_treats_a_zero_weight_minibatch_as_an_empty_batch_not_divergence():
    # A minibatch whose rows all have sample weight 0 carries no loss at all;
    # it must not read as a non-finite loss (0/0).
    X, Y = _classification(n=40)
    sample_weight = np.ones(40)
    sample_weight[:10] = 0.0
    net = _net()
    trainer = Trainer(net, SGD(net.n_params, np.float64), Constant(0.1),
                      alpha=1e-4, max_iter=3, n_iter_no_change=100)
    batches = Minibatches(X, Y, sample_weight, batch_size=10, shuffle=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        result = trainer.fit(batches, np.random.default_rng(0))
    assert result.n_recoveries == 0
    assert result.n_iter == 3
    assert math.isfinite(result.loss)
    assert np.all(np.isfinite(net.theta))


def test_minibatches_visit_every_training_row_once_per_epoch():
    X = np.arange(23, dtype=float)[:, None]
    Y = X.copy()
    indices = np.array([3, 5, 7, 11, 13, 17, 19, 22])
    for idx, expected in ((None, np.arange(23)), (indices, indices)):
        batches = Minibatches(X, Y, indices=idx, batch_size=3)
        # A batch lives in a reused buffer until the next one: copy it.
        rows = np.concatenate([Xb[:, 0].copy() for Xb, _, _ in
                               batches.iterate(np.random.default_rng(0))])
        np.testing.assert_array_equal(np.sort(rows), expected)
    # Shuffling never reorders the caller's index array.
    np.testing.assert_array_equal(indices, [3, 5, 7, 11, 13, 17, 19, 22])


@pytest.mark.numerics
def test_train_lbfgs_reduces_the_loss_and_leaves_the_solution_in_the_network():
    X, Y = _classification()
    net = _net()
    before = net.evaluate(X, Y)[0]
    result = train_lbfgs(net, X, Y, alpha=1e-3, max_iter=50)
    after = net.evaluate(X, Y)[0]
    assert after < before / 2
    np.testing.assert_array_equal(net.theta, result.x)


# --------------------------------------------------------------------------
# (h) Pickling and copying keep one flat buffer.


def _assert_views_into_one_buffer(net):
    for layer in net.layers:
        for name, array in layer.params.items():
            assert np.shares_memory(array, net.theta), name
            assert array.base is net.theta or array.base.base is net.theta
        for name, array in layer.grads.items():
            assert np.shares_memory(array, net.grad), name


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
def test_copied_network_keeps_layer_params_as_views_of_one_flat_buffer(how):
    rng = np.random.default_rng(0)
    net = build_mlp(4, (5,), 3, batch_norm=True, dtype=np.float64)
    net.initialize(rng)
    X = rng.normal(size=(10, 4))
    Y = np.eye(3)[rng.integers(3, size=10)]
    net.loss_and_grad(X, Y)  # fills caches and the gradient
    if how == "pickle":
        copied = pickle.loads(pickle.dumps(net))
    else:
        copied = copy.deepcopy(net)

    assert not np.shares_memory(copied.theta, net.theta)
    np.testing.assert_array_equal(copied.theta, net.theta)
    _assert_views_into_one_buffer(copied)
    np.testing.assert_array_equal(copied.predict(X), net.predict(X))

    # Writing the flat buffer changes the layers and the output.
    W = copied.layers[0].params["W"]
    before = copied.predict(X)
    copied.theta[0] += 1.0
    assert W[0, 0] == net.layers[0].params["W"][0, 0] + 1.0
    assert not np.allclose(copied.predict(X), before)
    copied.theta[0] -= 1.0

    # The gradient buffer is rebuilt: zero, right size, bound to the layers.
    assert copied.grad.shape == copied.theta.shape
    assert copied.grad.dtype == copied.theta.dtype
    assert np.all(copied.grad == 0)
    loss_copy = copied.loss_and_grad(X, Y)
    loss_orig = net.loss_and_grad(X, Y)
    assert loss_copy == loss_orig
    np.testing.assert_array_equal(copied.grad, net.grad)
    assert np.any(copied.layers[0].grads["W"] != 0)
    # Batch-norm state travels with the copy, independently.
    bn = copied.layers[1]
    assert isinstance(bn, BatchNorm)
    assert not np.shares_memory(bn.state["running_mean"],
                                net.layers[1].state["running_mean"])


def test_pickle_does_not_store_the_gradient_or_caches():
    rng = np.random.default_rng(0)
    net = build_mlp(30, (40,), 3, dtype=np.float64)
    net.initialize(rng)
    X = rng.normal(size=(500, 30))
    Y = np.eye(3)[rng.integers(3, size=500)]
    fresh = len(pickle.dumps(net))
    net.loss_and_grad(X, Y)
    # The cached training batch (500 x 30 doubles) is not pickled.
    assert len(pickle.dumps(net)) < fresh + 1000
    layer = pickle.loads(pickle.dumps(net)).layers[0]
    assert isinstance(layer, Dense)
    assert layer.cache == {} and layer.scratch == {}


# --------------------------------------------------------------------------
# (i) The engine stays independent of scikit-learn and of the estimators.


ALLOWED_TOP_LEVEL = {
    "numpy", "scipy", "math", "time", "warnings", "dataclasses", "copy",
    "__future__", "functools", "itertools", "typing", "numbers", "collections", "abc",
    "statistics",
    # numba_ops.py: the optional fused kernels (the "fast" extra).
    "numba",
    # errors.py walks the stack (sys) to show warnings at the user's line.
    "sys",
    # solvers.py checks a registered class's constructor against its
    # declared hyperparameters.
    "inspect",
    # blas.py finds numpy's own OpenBLAS (threadpoolctl) and calls it (ctypes).
    "ctypes", "os", "pathlib", "threadpoolctl",
}


def _forbidden_imports(source, filename="<source>"):
    """Imports, anywhere in ``source``, that leave numpy/scipy/stdlib/engine."""
    bad = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                # Relative imports must stay inside the engine package:
                # ``from .. import _mlp`` would reach the estimators.
                if node.level != 1:
                    bad.append("." * node.level + (node.module or ""))
                continue
            modules = [node.module]
        else:
            continue
        for module in modules:
            top = module.split(".")[0]
            if top == "sknets":
                if not module.startswith("sknets._engine"):
                    bad.append(module)
            elif top not in ALLOWED_TOP_LEVEL:  # sklearn included
                bad.append(module)
    return bad


def test_engine_modules_import_neither_sklearn_nor_the_estimators():
    engine_dir = pathlib.Path(engine_pkg.__file__).parent
    files = sorted(engine_dir.glob("*.py"))
    assert {"network.py", "trainer.py", "layers.py"} <= {f.name for f in files}
    for path in files:
        assert _forbidden_imports(path.read_text(), str(path)) == [], path.name


def test_engine_import_scan_flags_sklearn_and_estimator_imports():
    source = (
        "import numpy as np\n"
        "from .layers import Dense\n"
        "import sklearn\n"
        "def f():\n"
        "    from sklearn.utils import check_array\n"
        "    from .. import _mlp\n"
        "    from sknets._base import BaseMultilayerPerceptron\n"
        "    import sknets._engine.losses\n"
    )
    assert _forbidden_imports(source) == [
        "sklearn", "sklearn.utils", "..", "sknets._base",
    ]


def test_squared_error_network_is_constructible_from_engine_parts_only():
    # A minimal hand-built network: the engine works without build_mlp.
    layers = [Dense(2, 3, "tanh"), Activation("tanh"), Dense(3, 1, "identity")]
    net = Network(layers, SquaredError(), dtype=np.float64)
    net.initialize(np.random.default_rng(0))
    X = np.random.default_rng(1).normal(size=(5, 2))
    assert net.predict(X).shape == (5, 1)


def _scaled_network(kind):
    from sknets._engine.network import build_autoencoder

    if kind == "autoencoder":
        return build_autoencoder(6, (4,), corruption_level=0.0,
                                 sparsity_weight=0.5, dtype=np.float64)
    return build_mlp(6, (8, 5), 3, batch_norm=kind == "batch_norm",
                     dtype=np.float64)


@pytest.mark.parametrize("kind", ["plain", "batch_norm", "autoencoder"])
@pytest.mark.parametrize("nesterov", [True, False])
def test_sgd_on_prescaled_gradients_takes_the_same_steps(kind, nesterov):
    # The trainer lets the network scale the output delta by -lr so that SGD
    # skips a pass; that must be the same update as scaling afterwards,
    # penalty, batch-norm and sparsity gradients included.
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(40, 6))
    Y = X if kind == "autoencoder" else np.eye(3)[rng.integers(0, 3, 40)]
    nets = [_scaled_network(kind) for _ in range(2)]
    for net in nets:
        net.initialize(np.random.default_rng(1))
    opts = [SGD(net.n_params, np.float64, momentum=0.9, nesterov=nesterov)
            for net in nets]
    lr = 0.05
    for step in range(5):
        rows = slice(8 * step, 8 * step + 8)
        values = []
        for net, opt, scaled in zip(nets, opts, [False, True], strict=True):
            values.append(net.loss_and_grad(X[rows], Y[rows], None, 1e-2, 1e-3,
                                            grad_scale=-lr if scaled else 1.0))
            opt.step(net.theta, net.grad, lr, scaled=scaled)
        assert values[0] == pytest.approx(values[1], rel=1e-12)
    np.testing.assert_allclose(nets[1].theta, nets[0].theta, rtol=1e-10, atol=1e-12)
    assert not np.allclose(nets[0].theta, _scaled_network(kind).theta)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_cross_entropy_matches_the_definition_also_when_saturated(dtype):
    from sknets._engine.losses import SigmoidCrossEntropy

    rng = np.random.default_rng(0)
    # Logits from saturated (|z| ~ 40, where 1 - p rounds to 0) to moderate.
    Z = np.concatenate([rng.normal(scale=3.0, size=(30, 5)),
                        rng.choice([-40.0, 40.0], size=(2, 5))]).astype(dtype)
    Y = rng.uniform(size=Z.shape).astype(dtype)
    w = rng.uniform(0.5, 2.0, size=Z.shape[0])
    z, y = Z.astype(np.float64), Y.astype(np.float64)
    rows = (np.logaddexp(0.0, z) - y * z).sum(axis=1)
    expected = np.dot(w, rows) / w.sum()
    tol = 1e-12 if dtype == np.float64 else 1e-5
    loss = SigmoidCrossEntropy()
    assert loss.loss(Z.copy(), Y, w) == pytest.approx(expected, rel=tol)
    value, delta = loss.loss_and_delta(Z.copy(), Y, w)
    assert value == pytest.approx(expected, rel=tol)
    p = 1.0 / (1.0 + np.exp(-z))
    np.testing.assert_allclose(delta, (p - y) * (w / w.sum())[:, None],
                               rtol=tol, atol=tol * 1e-3)


def test_a_blow_up_in_the_last_step_of_an_epoch_is_caught():
    # One minibatch per epoch: every loss is taken before its step, so only
    # the check after the epoch sees what the step did. A rate of 1e30 leaves
    # finite but enormous weights whose outputs overflow.
    import warnings as _warnings

    from sknets import MLPClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 4))
    y = np.arange(40) % 3
    clf = MLPClassifier((4,), solver="sgd", learning_rate_init=1e30, max_iter=3,
                        random_state=0)
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(DivergenceError, match="Training diverged"):
            clf.fit(X, y)
