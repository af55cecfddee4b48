"""The numba backend's fused kernels agree with numpy's passes.

First step of the fused CPU kernels: the optimisers' steps and weight decay.
Each kernel is checked against :class:`NumpyOps` to float32 round-off (the
fused kernel keeps intermediates in registers, numpy rounds each pass to
memory), on both dtypes, and for independence of the thread count (the
kernels are element-wise). Skipped where numba is not installed.
"""

import pickle

import numpy as np
import pytest

from sknets._engine.network import build_mlp
from sknets._engine.ops import NumpyOps, get_ops
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


def test_the_kernels_do_not_depend_on_the_thread_count():
    ops = get_ops("numba")
    results = []
    for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
        numba.set_num_threads(threads)
        theta, grad, velocity, scratch = (v.copy() for v in _vectors(np.float32))
        ops.sgd_step(theta, grad, velocity, -0.05, 0.9, True, scratch)
        results.append(theta)
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    np.testing.assert_array_equal(results[0], results[1])


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
    assert "pip install 'sknets[fast]'" in out
