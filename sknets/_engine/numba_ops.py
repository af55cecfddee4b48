"""Fused CPU kernels through numba (the optional extra ``sknets[fast]``).

:class:`NumbaOps` is :class:`~.ops.NumpyOps` with some operations replaced
by compiled, multi-threaded kernels that make one pass over memory where
numpy makes several. This first step covers the per-parameter updates (each
optimiser's step, weight decay), which numpy does as 2 to 7 single-threaded
passes over the whole parameter vector per minibatch. Matrix products stay
in numpy's BLAS.

The kernels are element-wise, so their results do not depend on the number
of threads; they round each operation as numpy's passes do, except that
intermediate values stay in registers (in the parameters' dtype), so the two
backends agree to round-off, not bit for bit. No ``fastmath``.

Importing this module imports numba; :func:`~.ops.get_ops` does so only when
``get_ops("numba")`` is asked for, and says what to install when numba is
missing. The estimators do not use it yet.
"""

import numba
import numpy as np

from .ops import NumpyOps, register_ops

_JIT = dict(parallel=True, cache=True, nogil=True)


@numba.njit(**_JIT)
def _nesterov(theta, grad, velocity, rate, momentum):
    # v <- mu v + rate g ; theta <- theta + mu v + rate g
    for i in numba.prange(theta.shape[0]):
        step = rate * grad[i]
        v = momentum * velocity[i] + step
        velocity[i] = v
        theta[i] += step + momentum * v


@numba.njit(**_JIT)
def _classical(theta, grad, velocity, rate, momentum):
    # v <- mu v + rate g ; theta <- theta + v
    for i in numba.prange(theta.shape[0]):
        v = momentum * velocity[i] + rate * grad[i]
        velocity[i] = v
        theta[i] += v


@numba.njit(**_JIT)
def _plain(theta, grad, rate):
    for i in numba.prange(theta.shape[0]):
        theta[i] += rate * grad[i]


@numba.njit(**_JIT)
def _adagrad(theta, grad, sum_sq, learning_rate, epsilon):
    for i in numba.prange(theta.shape[0]):
        g = grad[i]
        s = sum_sq[i] + g * g
        sum_sq[i] = s
        theta[i] -= learning_rate * (g / (np.sqrt(s) + epsilon))


@numba.njit(**_JIT)
def _adam(theta, grad, m, v, lr_t, beta_1, beta_2, epsilon):
    for i in numba.prange(theta.shape[0]):
        g = grad[i]
        m_i = (1 - beta_1) * g + beta_1 * m[i]
        v_i = (1 - beta_2) * (g * g) + beta_2 * v[i]
        m[i] = m_i
        v[i] = v_i
        theta[i] -= lr_t * (m_i / (np.sqrt(v_i) + epsilon))


@numba.njit(**_JIT)
def _decay(w, g, l2_factor, l1_factor):
    for i in numba.prange(w.shape[0]):
        x = w[i]
        sign = (x > 0) - (x < 0)
        g[i] += l2_factor * x + l1_factor * sign


def _scalar(value, array):
    """``value`` in ``array``'s dtype, as numpy's passes round it."""
    return array.dtype.type(value)


@register_ops
class NumbaOps(NumpyOps):
    """numpy's backend with fused, multi-threaded kernels (see the module)."""

    name = "numba"

    def add_penalty_grad(self, w, g, l2_factor, l1_factor, scratch):
        if l2_factor or l1_factor:
            _decay(w, g, _scalar(l2_factor, g), _scalar(l1_factor, g))

    def sgd_step(self, theta, grad, velocity, rate, momentum, nesterov, scratch):
        rate_, momentum_ = _scalar(rate, theta), _scalar(momentum, theta)
        if momentum == 0:
            _plain(theta, grad, rate_)
        elif nesterov:
            _nesterov(theta, grad, velocity, rate_, momentum_)
        else:
            _classical(theta, grad, velocity, rate_, momentum_)

    def adagrad_step(self, theta, grad, sum_sq, learning_rate, epsilon, tmp):
        _adagrad(theta, grad, sum_sq, _scalar(learning_rate, theta),
                 _scalar(epsilon, theta))

    def adam_step(self, theta, grad, m, v, t, learning_rate, beta_1, beta_2,
                  epsilon, tmp):
        lr_t = learning_rate * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        _adam(theta, grad, m, v, _scalar(lr_t, theta), _scalar(beta_1, theta),
              _scalar(beta_2, theta), _scalar(epsilon, theta))
