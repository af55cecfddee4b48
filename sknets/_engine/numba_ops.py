"""Fused CPU kernels through numba (the optional extra ``fast``).

:class:`NumbaOps` is :class:`~.ops.NumpyOps` with the memory-bound
operations of a training step replaced by compiled kernels that make one
pass over memory where numpy makes several: each optimiser's step together
with the minibatch's weight decay and its penalty, dropout (with its random
draws made inside the kernel), the activations' backward passes, batch
normalisation's forward and backward passes, and the softmax output fused
with its cross-entropy loss and delta. Matrix products stay in numpy's BLAS,
and so does whatever is not listed (it is numpy's code, inherited).

Threads: the kernels run on the calling thread. Between its calls OpenBLAS
keeps its worker threads spinning for a while, so a second thread pool
(numba's ``parallel=True``) fights them for the cores: on the 2-core machine
the benchmarks run on, a parallel kernel after a product took several times
longer than the serial one (``benchmarks/kernel_threads.py`` measures it).
Serial kernels also keep nested parallelism bounded: numba starts no thread.

Results: the kernels round as numpy's passes do, except that intermediate
values stay in registers and that sums over a batch accumulate in float64,
so the two backends agree to round-off, not bit for bit. No ``fastmath``,
except that the penalty's float64 sums may be reassociated (so that they
vectorise; ``tests/test_numba_ops.py`` checks that the updates are those of
the separate decay and step kernels, bit for bit).

Randomness: dropout draws its keep decisions from a counter-based generator
(the SplitMix64 finaliser of a 64-bit key plus the entry's index), with one
key per mask taken from the caller's ``numpy.random.Generator``. The same
``random_state`` gives the same masks, whatever the thread count or the
process, but not the masks of the numpy backend, which draws uniforms from
the generator itself (several times slower than the kernel).

Importing this module imports numba; :func:`~.ops.get_ops` does so only when
``get_ops("numba")`` is asked for, and says what to install when numba is
missing.
"""

import numba
import numpy as np

from .ops import NumpyOps, register_ops

# error_model="numpy": a division by zero gives inf or nan as in numpy, with
# no check per element (which keeps the loops vectorised).
_JIT = dict(cache=True, nogil=True, error_model="numpy")

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S40 = (np.uint64(s) for s in (30, 27, 31, 40))


# -- optimiser steps, with weight decay in the same pass ------------------
#
# Each step kernel decays the first `n_decayed` parameters as it updates
# them: it adds `l2 w + l1 sign(w)` to the gradient in a register and sums
# w^2 and |w| (in float64) for the penalty, which it returns. The sums are
# the only operations allowed to be reassociated (`_add`), so that they
# vectorise; every update rounds as without the flag.


@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc"})
def _add(total, x):
    return total + x


@numba.njit(**_JIT)
def _decayed(w, g, l2, l1, sum_sq, sum_abs):
    # l1 sign(w), in w's dtype (a bool difference would promote to float64).
    l1_sign = l1 if w > 0 else (-l1 if w < 0 else l1 - l1)
    x = np.float64(w)
    return (g + (l2 * w + l1_sign), _add(sum_sq, x * x),
            _add(sum_abs, abs(x)))


@numba.njit(**_JIT)
def _nesterov_at(theta, velocity, i, g, rate, momentum):
    # v <- mu v + rate g ; theta <- theta + mu v + rate g
    step = rate * g
    v = momentum * velocity[i] + step
    velocity[i] = v
    theta[i] += step + momentum * v


@numba.njit(**_JIT)
def _nesterov(theta, grad, velocity, rate, momentum, n_decayed, l2, l1):
    sum_sq = sum_abs = 0.0
    for i in range(n_decayed):
        g, sum_sq, sum_abs = _decayed(theta[i], grad[i], l2, l1, sum_sq, sum_abs)
        _nesterov_at(theta, velocity, i, g, rate, momentum)
    theta, grad, velocity = theta[n_decayed:], grad[n_decayed:], velocity[n_decayed:]
    for i in range(theta.shape[0]):  # (from 0: a loop from n would not vectorise)
        _nesterov_at(theta, velocity, i, grad[i], rate, momentum)
    return sum_sq, sum_abs


@numba.njit(**_JIT)
def _classical_at(theta, velocity, i, g, rate, momentum):
    # v <- mu v + rate g ; theta <- theta + v
    v = momentum * velocity[i] + rate * g
    velocity[i] = v
    theta[i] += v


@numba.njit(**_JIT)
def _classical(theta, grad, velocity, rate, momentum, n_decayed, l2, l1):
    sum_sq = sum_abs = 0.0
    for i in range(n_decayed):
        g, sum_sq, sum_abs = _decayed(theta[i], grad[i], l2, l1, sum_sq, sum_abs)
        _classical_at(theta, velocity, i, g, rate, momentum)
    theta, grad, velocity = theta[n_decayed:], grad[n_decayed:], velocity[n_decayed:]
    for i in range(theta.shape[0]):
        _classical_at(theta, velocity, i, grad[i], rate, momentum)
    return sum_sq, sum_abs


@numba.njit(**_JIT)
def _plain(theta, grad, rate, n_decayed, l2, l1):
    sum_sq = sum_abs = 0.0
    for i in range(n_decayed):
        g, sum_sq, sum_abs = _decayed(theta[i], grad[i], l2, l1, sum_sq, sum_abs)
        theta[i] += rate * g
    theta, grad = theta[n_decayed:], grad[n_decayed:]
    for i in range(theta.shape[0]):
        theta[i] += rate * grad[i]
    return sum_sq, sum_abs


@numba.njit(**_JIT)
def _adagrad_at(theta, sum_sq, i, g, learning_rate, epsilon):
    s = sum_sq[i] + g * g
    sum_sq[i] = s
    theta[i] -= learning_rate * (g / (np.sqrt(s) + epsilon))


@numba.njit(**_JIT)
def _adagrad(theta, grad, sum_sq, learning_rate, epsilon, n_decayed, l2, l1):
    w_sq = w_abs = 0.0
    for i in range(n_decayed):
        g, w_sq, w_abs = _decayed(theta[i], grad[i], l2, l1, w_sq, w_abs)
        _adagrad_at(theta, sum_sq, i, g, learning_rate, epsilon)
    theta, grad, sum_sq = theta[n_decayed:], grad[n_decayed:], sum_sq[n_decayed:]
    for i in range(theta.shape[0]):
        _adagrad_at(theta, sum_sq, i, grad[i], learning_rate, epsilon)
    return w_sq, w_abs


@numba.njit(**_JIT)
def _adam_at(theta, m, v, i, g, lr_t, beta_1, beta_2, epsilon):
    m_i = (1 - beta_1) * g + beta_1 * m[i]
    v_i = (1 - beta_2) * (g * g) + beta_2 * v[i]
    m[i] = m_i
    v[i] = v_i
    theta[i] -= lr_t * (m_i / (np.sqrt(v_i) + epsilon))


@numba.njit(**_JIT)
def _adam(theta, grad, m, v, lr_t, beta_1, beta_2, epsilon, n_decayed, l2, l1):
    sum_sq = sum_abs = 0.0
    for i in range(n_decayed):
        g, sum_sq, sum_abs = _decayed(theta[i], grad[i], l2, l1, sum_sq, sum_abs)
        _adam_at(theta, m, v, i, g, lr_t, beta_1, beta_2, epsilon)
    theta, grad = theta[n_decayed:], grad[n_decayed:]
    m, v = m[n_decayed:], v[n_decayed:]
    for i in range(theta.shape[0]):
        _adam_at(theta, m, v, i, grad[i], lr_t, beta_1, beta_2, epsilon)
    return sum_sq, sum_abs


@numba.njit(**_JIT)
def _decay(w, g, l2_factor, l1_factor):
    # In w's dtype throughout (a bool difference would promote to float64).
    one, zero = w.dtype.type(1), w.dtype.type(0)
    if l1_factor == 0:
        for i in range(w.shape[0]):
            g[i] += l2_factor * w[i]
        return
    for i in range(w.shape[0]):
        x = w[i]
        sign = one if x > 0 else (-one if x < 0 else zero)
        g[i] += l2_factor * x + l1_factor * sign


# -- dropout ----------------------------------------------------------------


@numba.njit(**_JIT)
def _bits24(key, index):
    """24 random bits for ``index`` under ``key`` (SplitMix64's finaliser)."""
    z = key + (index + np.uint64(1)) * _GOLDEN
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    z = z ^ (z >> _S31)
    return z >> _S40


@numba.njit(**_JIT)
def _dropout(X, key, threshold, scale, mask, out):
    # Entry (i, j) is kept when its 24 bits, as a uniform in [0, 1), are at
    # least the rate: bits >= threshold = ceil(rate 2^24).
    rows, cols = X.shape
    zero = X.dtype.type(0)
    for i in range(rows):
        base = np.uint64(i) * np.uint64(cols)
        for j in range(cols):  # branch-free, so that it vectorises
            m = scale if _bits24(key, base + np.uint64(j)) >= threshold else zero
            mask[i, j] = m
            out[i, j] = X[i, j] * m


# -- activations' backward passes (in terms of the output A) ---------------


@numba.njit(**_JIT)
def _relu_backward(A, dA):
    rows, cols = A.shape
    for i in range(rows):
        for j in range(cols):
            if not A[i, j] > 0:
                dA[i, j] = 0


@numba.njit(**_JIT)
def _tanh_backward(A, dA):
    rows, cols = A.shape
    for i in range(rows):
        for j in range(cols):
            a = A[i, j]
            dA[i, j] *= 1 - a * a


@numba.njit(**_JIT)
def _logistic_backward(A, dA):
    rows, cols = A.shape
    for i in range(rows):
        for j in range(cols):
            a = A[i, j]
            dA[i, j] = dA[i, j] * a * (1 - a)


_ACTIVATION_BACKWARD = {"relu": _relu_backward, "tanh": _tanh_backward,
                        "logistic": _logistic_backward}


# -- batch normalisation (unweighted batches) --------------------------------


@numba.njit(**_JIT)
def _batchnorm_forward(Z, gamma, beta, eps, xhat, out, mu, var, inv_std):
    rows, cols = Z.shape
    # One pass for both moments, shifted by the first row against
    # cancellation, in float64.
    s1 = np.zeros(cols)
    s2 = np.zeros(cols)
    for i in range(rows):
        for j in range(cols):
            d = np.float64(Z[i, j]) - np.float64(Z[0, j])
            s1[j] += d
            s2[j] += d * d
    for j in range(cols):
        m1 = s1[j] / rows
        v = max(s2[j] / rows - m1 * m1, 0.0)
        mu[j] = np.float64(Z[0, j]) + m1
        var[j] = v
        inv_std[j] = 1.0 / np.sqrt(np.float64(var[j]) + eps)
    for i in range(rows):
        for j in range(cols):
            x = (Z[i, j] - mu[j]) * inv_std[j]
            xhat[i, j] = x
            out[i, j] = x * gamma[j] + beta[j]


@numba.njit(**_JIT)
def _batchnorm_backward(dY, xhat, inv_std, gamma, g_gamma, g_beta, need_input):
    rows, cols = dY.shape
    sb = np.zeros(cols)
    sg = np.zeros(cols)
    for i in range(rows):
        for j in range(cols):
            d = np.float64(dY[i, j])
            sb[j] += d
            sg[j] += d * xhat[i, j]
    for j in range(cols):
        g_beta[j] = sb[j]
        g_gamma[j] = sg[j]
    if not need_input:
        return
    for j in range(cols):
        sb[j] = sb[j] / rows
        sg[j] = sg[j] / rows
    for i in range(rows):
        for j in range(cols):
            dY[i, j] = ((dY[i, j] - sb[j] - xhat[i, j] * sg[j])
                        * (gamma[j] * inv_std[j]))


# -- softmax with cross-entropy ---------------------------------------------


@numba.njit(**_JIT)
def _softmax_loss_and_delta(Z, Y):
    # Per row: the log-sum-exp loss and the delta (softmax - y) / rows, one
    # row at a time while it is in cache. Returns the mean loss (float64).
    rows, cols = Z.shape
    total = 0.0
    inv_rows = Z.dtype.type(1.0 / rows)
    for i in range(rows):
        top = Z[i, 0]
        for j in range(1, cols):
            if Z[i, j] > top:
                top = Z[i, j]
        norm = Z.dtype.type(0)
        target = 0.0
        for j in range(cols):
            shifted = Z[i, j] - top
            target += np.float64(shifted) * Y[i, j]
            e = np.exp(shifted)
            Z[i, j] = e
            norm += e
        total += np.log(np.float64(norm)) - target
        scale = 1 / norm
        for j in range(cols):
            Z[i, j] = (Z[i, j] * scale - Y[i, j]) * inv_rows
    return total / rows


def _scalar(value, array):
    """``value`` in ``array``'s dtype, as numpy's passes round it."""
    return array.dtype.type(value)


def _decay_args(decay, theta):
    """A step kernel's decay arguments: how many parameters, the factors."""
    if decay is None:
        zero = _scalar(0, theta)
        return 0, zero, zero
    return (decay.n, _scalar(decay.l2_factor, theta),
            _scalar(decay.l1_factor, theta))


def _penalty(decay, sums, decay_dtype):
    """The penalty (float64) from a step kernel's sums of w^2 and |w|."""
    if decay is None:
        return 0.0
    sum_sq, sum_abs = sums
    # As numpy's passes in the parameters' dtype: a norm beyond its range is
    # infinite (so that the divergence guard sees it), not a large float64.
    top = float(np.finfo(decay_dtype).max)
    sum_sq, sum_abs = (x if x <= top else np.inf for x in (sum_sq, sum_abs))
    value = 0.0
    if decay.alpha:
        value += 0.5 * decay.alpha * sum_sq
    if decay.l1_alpha:
        value += decay.l1_alpha * sum_abs
    return np.float64(value / decay.denominator)


@register_ops
class NumbaOps(NumpyOps):
    """numpy's backend with fused one-pass kernels (see the module)."""

    name = "numba"

    # -- optimiser steps and weight decay --------------------------------------

    def add_penalty_grad(self, w, g, l2_factor, l1_factor, scratch):
        if l2_factor or l1_factor:
            _decay(w, g, _scalar(l2_factor, g), _scalar(l1_factor, g))

    def sgd_step(self, theta, grad, velocity, rate, momentum, nesterov, scratch,
                 decay=None):
        rate_, momentum_ = _scalar(rate, theta), _scalar(momentum, theta)
        n, l2, l1 = _decay_args(decay, theta)
        if momentum == 0:
            sums = _plain(theta, grad, rate_, n, l2, l1)
        elif nesterov:
            sums = _nesterov(theta, grad, velocity, rate_, momentum_, n, l2, l1)
        else:
            sums = _classical(theta, grad, velocity, rate_, momentum_, n, l2, l1)
        return _penalty(decay, sums, theta.dtype)

    def adagrad_step(self, theta, grad, sum_sq, learning_rate, epsilon, tmp,
                     decay=None):
        sums = _adagrad(theta, grad, sum_sq, _scalar(learning_rate, theta),
                        _scalar(epsilon, theta), *_decay_args(decay, theta))
        return _penalty(decay, sums, theta.dtype)

    def adam_step(self, theta, grad, m, v, t, learning_rate, beta_1, beta_2,
                  epsilon, tmp, decay=None):
        lr_t = learning_rate * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        sums = _adam(theta, grad, m, v, _scalar(lr_t, theta),
                     _scalar(beta_1, theta), _scalar(beta_2, theta),
                     _scalar(epsilon, theta), *_decay_args(decay, theta))
        return _penalty(decay, sums, theta.dtype)

    # -- dropout -----------------------------------------------------------------

    def dropout(self, rng, X, rate, uniform, mask, out):
        mask = uniform if mask is None else mask
        key = np.uint64(rng.integers(0, 2**63, dtype=np.int64))
        threshold = np.uint64(np.ceil(rate * 2.0**24))
        _dropout(X, key, threshold, _scalar(1.0 / (1.0 - rate), mask), mask, out)
        return out, mask

    # -- activations -----------------------------------------------------------

    def activation_scratch_dtype(self, name, dtype):
        if name in _ACTIVATION_BACKWARD:
            return None
        return super().activation_scratch_dtype(name, dtype)

    def activation_backward(self, name, A, dA, scratch=None):
        kernel = _ACTIVATION_BACKWARD.get(name)
        if kernel is None or A.ndim != 2:
            return super().activation_backward(name, A, dA, scratch)
        kernel(A, dA)
        return dA

    # -- batch normalisation -----------------------------------------------------

    def batchnorm_forward(self, Z, gamma, beta, sample_weight, eps, xhat, out):
        if sample_weight is not None:
            return super().batchnorm_forward(Z, gamma, beta, sample_weight, eps,
                                             xhat, out)
        cols = Z.shape[1]
        mu, var, inv_std = (np.empty(cols, Z.dtype) for _ in range(3))
        _batchnorm_forward(Z, gamma, beta, eps, xhat, out, mu, var, inv_std)
        return out, None, mu, var, inv_std

    def batchnorm_backward(self, dY, xhat, inv_std, p, gamma, g_gamma, g_beta,
                           tmp, need_input_grad=True):
        if p is not None:
            return super().batchnorm_backward(dY, xhat, inv_std, p, gamma,
                                              g_gamma, g_beta, tmp,
                                              need_input_grad)
        _batchnorm_backward(dY, xhat, inv_std, gamma, g_gamma, g_beta,
                            need_input_grad)
        return dY if need_input_grad else None

    # -- losses ------------------------------------------------------------------

    def loss_and_delta(self, loss, Z, Y, sample_weight, scratch):
        if loss != "softmax" or sample_weight is not None or Y.dtype != Z.dtype:
            return super().loss_and_delta(loss, Z, Y, sample_weight, scratch)
        return np.float64(_softmax_loss_and_delta(Z, Y)), Z
