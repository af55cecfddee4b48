"""The numba backend's fused kernels agree with numpy's passes.

Each kernel is checked against :class:`NumpyOps` to round-off (the fused
kernel keeps intermediates in registers and sums in float64, numpy rounds
each pass to memory), on both dtypes; dropout's in-kernel generator for its
statistics and its reproducibility. Skipped where numba is not installed.
"""

import pickle

import numpy as np
import pytest

from sknets._engine.network import build_mlp
from sknets._engine.ops import Decay, NumpyOps, get_ops
from sknets._engine.optimizers import SGD, Adagrad, Adam
from sknets._engine.schedules import Constant
from sknets._engine.trainer import Minibatches, Trainer

numba = pytest.importorskip("numba")

# Relative agreement of one fused step with numpy's passes, per dtype.
TOL = {np.float32: 1e-6, np.float64: 1e-14}


def _vectors(dtype, n=10007, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(n).astype(dtype) for _ in range(4)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("momentum, nesterov", [(0.9, True), (0.9, False),
                                                (0.0, True)])
def test_the_fused_sgd_step_agrees_with_numpy(dtype, momentum, nesterov):
    out = []
    for ops in (NumpyOps(), get_ops("numba")):
        theta, grad, velocity, scratch = (v.copy() for v in _vectors(dtype))
        ops.sgd_step(theta, grad, velocity, -0.05, momentum, nesterov, scratch)
        out.append((theta, velocity))
    (t0, v0), (t1, v1) = out
    np.testing.assert_allclose(t1, t0, rtol=TOL[dtype], atol=TOL[dtype])
    np.testing.assert_allclose(v1, v0, rtol=TOL[dtype], atol=TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_fused_adagrad_and_adam_steps_agree_with_numpy(dtype):
    out = []
    for ops in (NumpyOps(), get_ops("numba")):
        theta, grad, sum_sq, tmp = (x.copy() for x in _vectors(dtype))
        sum_sq = np.abs(sum_sq)
        ops.adagrad_step(theta, grad, sum_sq, 0.1, 1e-8, tmp)
        out.append((theta, sum_sq))
    for numpy_array, numba_array in zip(*out, strict=True):
        np.testing.assert_allclose(numba_array, numpy_array, rtol=TOL[dtype],
                                   atol=TOL[dtype])
    out = []
    for ops in (NumpyOps(), get_ops("numba")):
        theta, grad, m, v = (x.copy() for x in _vectors(dtype))
        v = np.abs(v)
        ops.adam_step(theta, grad, m, v, 3, 0.01, 0.9, 0.999, 1e-8,
                      np.empty_like(theta))
        out.append((theta, m, v))
    for numpy_array, numba_array in zip(*out, strict=True):
        np.testing.assert_allclose(numba_array, numpy_array, rtol=10 * TOL[dtype],
                                   atol=TOL[dtype])


def _step(ops, kind, dtype, decay):
    """One step of optimiser ``kind`` on fixed vectors: (state arrays, penalty)."""
    theta, grad, state, other = (v.copy() for v in _vectors(dtype))
    theta[:10] = 0  # sign(0) = 0
    scratch = np.empty_like(theta)
    if kind in ("nesterov", "classical", "plain"):
        momentum = 0.0 if kind == "plain" else 0.9
        value = ops.sgd_step(theta, grad, state, -0.05, momentum,
                             kind == "nesterov", scratch, decay)
        return (theta, state), value
    state = np.abs(state)
    if kind == "adagrad":
        value = ops.adagrad_step(theta, grad, state, 0.1, 1e-8, scratch, decay)
        return (theta, state), value
    other = np.abs(other)
    value = ops.adam_step(theta, grad, other, state, 3, 0.01, 0.9, 0.999, 1e-8,
                          scratch, decay)
    return (theta, other, state), value


STEPS = ["nesterov", "classical", "plain", "adagrad", "adam"]


def _decay(dtype, alpha, l1_alpha, grad_scale=-0.05, n=9000):
    denominator = 128
    return Decay(n, alpha, l1_alpha, denominator,
                 grad_scale * alpha / denominator,
                 grad_scale * l1_alpha / denominator)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", STEPS)
@pytest.mark.parametrize("alpha, l1_alpha", [(1e-2, 0.0), (0.0, 1e-3),
                                             (1e-2, 1e-3)])
def test_a_step_with_weight_decay_agrees_with_numpy(dtype, kind, alpha,
                                                    l1_alpha):
    decay = _decay(dtype, alpha, l1_alpha)
    expected, expected_penalty = _step(NumpyOps(), kind, dtype, decay)
    arrays, penalty = _step(get_ops("numba"), kind, dtype, decay)
    for numpy_array, numba_array in zip(expected, arrays, strict=True):
        np.testing.assert_allclose(numba_array, numpy_array, rtol=10 * TOL[dtype],
                                   atol=TOL[dtype])
    # numpy's float32 dot product accumulates in float32, the kernel in float64.
    assert penalty == pytest.approx(expected_penalty, rel=10 * TOL[dtype])
    assert np.asarray(penalty).dtype == np.float64


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", STEPS)
def test_decay_inside_the_step_rounds_as_decay_before_it(dtype, kind):
    # The fused kernel's updates are those of the decay kernel followed by
    # the step kernel, bit for bit: only the penalty's sums may be
    # reassociated (fastmath), and they are float64 sums of the exact values.
    ops = get_ops("numba")
    decay = _decay(dtype, 1e-2, 1e-3)
    fused, penalty = _step(ops, kind, dtype, decay)

    class DecayFirst(type(ops)):
        def sgd_step(self, theta, grad, *args):
            self.add_penalty_grad(theta[:decay.n], grad[:decay.n],
                                  decay.l2_factor, decay.l1_factor, None)
            return super().sgd_step(theta, grad, *args[:-1])

        adagrad_step = adam_step = None

    if kind in ("adagrad", "adam"):
        name = f"{kind}_step"

        def decay_first(self, theta, grad, *args):
            self.add_penalty_grad(theta[:decay.n], grad[:decay.n],
                                  decay.l2_factor, decay.l1_factor, None)
            return getattr(type(ops), name)(self, theta, grad, *args[:-1])

        setattr(DecayFirst, name, decay_first)
    separate, _ = _step(DecayFirst(), kind, dtype, decay)
    for a, b in zip(fused, separate, strict=True):
        np.testing.assert_array_equal(a, b)
    w = _vectors(dtype)[0][: decay.n].astype(np.float64)
    w[:10] = 0
    exact = (0.5 * decay.alpha * np.sum(w * w)
             + decay.l1_alpha * np.sum(np.abs(w))) / decay.denominator
    assert penalty == pytest.approx(exact, rel=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("l2, l1", [(1e-3, 0.0), (0.0, 1e-4), (1e-3, 1e-4)])
def test_the_fused_weight_decay_agrees_with_numpy(dtype, l2, l1):
    out = []
    for ops in (NumpyOps(), get_ops("numba")):
        w, g, _, _ = (v.copy() for v in _vectors(dtype))
        w[:10] = 0  # sign(0) = 0
        ops.add_penalty_grad(w, g, l2, l1, np.empty_like(w))
        out.append(g)
    np.testing.assert_allclose(out[1], out[0], rtol=TOL[dtype], atol=TOL[dtype])


@pytest.mark.parametrize("optimizer_class", [SGD, Adagrad, Adam])
def test_an_epoch_on_the_numba_backend_matches_numpy_to_round_off(
        optimizer_class):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((512, 20)).astype(np.float32)
    Y = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 512)]
    thetas = []
    for ops in (NumpyOps(), get_ops("numba")):
        net = build_mlp(20, (32,), 4, ops=ops)
        net.initialize(np.random.default_rng(1))
        opt = optimizer_class(net.n_params, net.dtype, ops=ops)
        Trainer(net, opt, Constant(0.01), max_iter=2, alpha=1e-3,
                n_iter_no_change=np.inf).fit(
            Minibatches(X, Y, batch_size=32, ops=ops), np.random.default_rng(2))
        thetas.append(net.theta.copy())
    # 32 steps of round-off differences, each amplified a little by training.
    np.testing.assert_allclose(thetas[1], thetas[0], rtol=1e-4, atol=1e-5)
    assert not np.array_equal(thetas[0], build_mlp(20, (32,), 4).theta)


def test_the_numba_backend_pickles_by_name():
    ops = get_ops("numba")
    assert pickle.loads(pickle.dumps(ops)) is ops
    assert ops.name == "numba" and isinstance(ops, NumpyOps)


def test_without_numba_the_backend_says_what_to_install():
    import subprocess
    import sys

    code = ("import sys; sys.modules['numba'] = None\n"
            "from sknets._engine.ops import get_ops\n"
            "try:\n    get_ops('numba')\nexcept ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, check=True).stdout
    assert "pip install numba" in out


def _batch(dtype, shape=(64, 37), seed=3):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["relu", "tanh", "logistic", "identity"])
def test_the_fused_activation_backward_agrees_with_numpy(dtype, name):
    out = []
    for ops in (NumpyOps(), get_ops("numba")):
        A = ops.activation_forward(name, _batch(dtype))
        dA = _batch(dtype, seed=4)
        kind = ops.activation_scratch_dtype(name, dtype)
        scratch = None if kind is None else np.empty(A.shape, kind)
        out.append(ops.activation_backward(name, A, dA, scratch).copy())
    np.testing.assert_allclose(out[1], out[0], rtol=TOL[dtype], atol=TOL[dtype])


def _batchnorm_pass(ops, Z, dY, need_input_grad):
    dtype = Z.dtype
    gamma = np.linspace(0.5, 2, Z.shape[1]).astype(dtype)
    beta = np.linspace(-1, 1, Z.shape[1]).astype(dtype)
    xhat, out = np.empty_like(Z), np.empty_like(Z)
    y, p, mu, var, inv_std = ops.batchnorm_forward(Z, gamma, beta, None, 1e-5,
                                                   xhat, out)
    g_gamma, g_beta = np.empty_like(gamma), np.empty_like(beta)
    dZ = ops.batchnorm_backward(dY.copy(), xhat, inv_std, p, gamma, g_gamma,
                                g_beta, np.empty_like(Z), need_input_grad)
    assert (dZ is None) == (not need_input_grad)
    arrays = [y, mu, var, inv_std, g_gamma, g_beta]
    return [a.astype(np.float64) for a in arrays + ([dZ] if need_input_grad
                                                    else [])]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("need_input_grad", [True, False])
def test_fused_batch_norm_agrees_with_numpy(dtype, need_input_grad):
    # Pre-activations with a large common offset: the one-pass moments must
    # not cancel. Each backend's error against numpy in float64: the fused
    # kernel (float64 sums) is within float32 round-off of it, and at least
    # as accurate as numpy's own float32 passes.
    Z = _batch(dtype) * 3 + 200
    dY = _batch(dtype, seed=5)
    exact = _batchnorm_pass(NumpyOps(), Z.astype(np.float64),
                            dY.astype(np.float64), need_input_grad)
    numpy_ = _batchnorm_pass(NumpyOps(), Z, dY, need_input_grad)
    numba_ = _batchnorm_pass(get_ops("numba"), Z, dY, need_input_grad)
    for ref, a, b in zip(exact, numpy_, numba_, strict=True):
        scale = np.abs(ref).max()
        numba_error = np.abs(b - ref).max() / scale
        numpy_error = np.abs(a - ref).max() / scale
        assert numba_error <= max(2 * numpy_error, 10 * TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_fused_softmax_loss_and_delta_agrees_with_numpy(dtype):
    rng = np.random.default_rng(6)
    Y = np.eye(7, dtype=dtype)[rng.integers(0, 7, 64)]
    out = []
    for ops in (NumpyOps(), get_ops("numba")):
        Z = _batch(dtype, (64, 7)) * 30  # large logits: the shift matters
        value, delta = ops.loss_and_delta("softmax", Z, Y, None, None)
        out.append((ops.to_float(value), delta.copy()))
    assert np.isfinite(out[1][0])
    np.testing.assert_allclose(out[1][0], out[0][0], rtol=TOL[dtype])
    np.testing.assert_allclose(out[1][1], out[0][1], rtol=10 * TOL[dtype],
                               atol=TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_in_kernel_dropout_keeps_the_right_share_and_scales(dtype):
    ops = get_ops("numba")
    X = _batch(dtype, (256, 512))
    uniform = np.empty(X.shape, np.float32)
    mask = None if dtype == np.float32 else np.empty(X.shape, dtype)
    for rate in (0.2, 0.5, 0.8):
        out, m = ops.dropout(np.random.default_rng(0), X, rate, uniform, mask,
                             np.empty_like(X))
        kept = m != 0
        # 131072 draws: the share is within 5 standard errors of 1 - rate.
        assert abs(kept.mean() - (1 - rate)) < 5 * np.sqrt(rate * (1 - rate)
                                                            / X.size)
        np.testing.assert_array_equal(m[kept], dtype(1 / (1 - rate)))
        np.testing.assert_array_equal(out, X * m)
        # No structure along rows or columns: each row's and column's share
        # varies as independent draws would.
        for axis in (0, 1):
            share = kept.mean(axis=axis)
            n = X.shape[axis]
            assert share.std() < 1.5 * np.sqrt(rate * (1 - rate) / n)


def test_in_kernel_dropout_is_reproducible_and_fresh_per_draw():
    ops = get_ops("numba")
    X = np.ones((32, 64), np.float32)

    def masks(seed, n):
        rng = np.random.default_rng(seed)
        u = np.empty(X.shape, np.float32)
        return [ops.dropout(rng, X, 0.5, u, None, np.empty_like(X))[1].copy()
                for _ in range(n)]

    first, second = masks(0, 2)
    again = masks(0, 1)[0]
    np.testing.assert_array_equal(first, again)
    assert 0.4 < (first == second).mean() < 0.6  # independent of each other
    assert not np.array_equal(first, masks(1, 1)[0])
