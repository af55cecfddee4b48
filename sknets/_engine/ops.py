"""The one object through which the engine's array work goes.

Layers, losses, optimisers and the training loop never call an array library
themselves: they hold an :class:`Ops` and ask it. The operations are at the
granularity a fused kernel wants (an affine map with its bias, an
activation's forward or backward pass, dropout, batch normalisation, a loss
fused with its output gradient, an optimiser's whole step, max-norm, the
loop's reductions), so that a backend can fuse each into one pass, and the
engine's classes keep only the bookkeeping: which buffer, which cache, which
order.

:class:`NumpyOps` is the reference every install has; it holds the numpy and
scipy code (and :mod:`.blas`, :mod:`.products`, :mod:`.activations`, its
helpers). A backend subclasses :class:`Ops` and implements every method;
``tests/test_engine_seams.py`` checks that only the backend modules import
an array library.

Conventions
-----------
- ``out=`` arguments are preallocated arrays the result is written into, and
  the result is returned; arrays named as updated ("in place") are modified.
- Scalars that a backend computes (a batch's loss, a penalty) come back as
  *device scalars*, which the caller may add and multiply but reads on the
  host only through :meth:`Ops.to_float` (:meth:`Ops.to_floats` for many),
  where a decision needs the value: the training loop reads an epoch's loss
  and its minibatch losses once, at the end of the epoch (and every
  :attr:`Ops.sync_interval` steps, to stop a diverging epoch early), so a
  device backend is not synchronised at every step. (With sample weights,
  two decisions per minibatch still read a scalar: whether the batch has any
  weight, and whether the weight-decay denominator is positive.)
- Randomness comes from the caller's ``numpy.random.Generator`` (one source,
  from ``random_state``), drawn on the host and moved to the device by the
  backend, so that a seed gives the same model on every backend up to
  rounding.
"""

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, xlogy

from . import blas
from .activations import ACTIVATIONS, SCRATCH_DTYPES
from .products import inference_product


class Ops:
    """Interface of an array backend (see the module docstring).

    Each method says what it computes; this class implements none of them
    (they raise ``NotImplementedError``), :class:`NumpyOps` all of them. A
    new backend subclasses this class (or :class:`NumpyOps`, to override
    only some operations), sets :attr:`name`, and registers itself with
    :func:`register_ops`.
    """

    name = "base"
    #: Minibatch steps between host reads of the running loss (1: every step).
    sync_interval = 1

    def __reduce__(self):
        # An Ops object is stateless: pickled by name.
        return (get_ops, (self.name,))

    def empty(self, shape, dtype):
        """An uninitialised array of ``shape`` and ``dtype``."""
        raise NotImplementedError

    def zeros(self, shape, dtype):
        """An array of zeros."""
        raise NotImplementedError

    def full(self, shape, value, dtype):
        """An array filled with ``value``."""
        raise NotImplementedError

    def copy(self, array):
        """A copy of ``array`` on the same device."""
        raise NotImplementedError

    def dtype(self, dtype):
        """The backend's dtype object for a name or numpy dtype."""
        raise NotImplementedError

    def is_float32(self, dtype):
        """Whether ``dtype`` is float32."""
        raise NotImplementedError

    def to_float(self, scalar):
        """Host read of a device scalar."""
        raise NotImplementedError

    def to_floats(self, scalars):
        """Host read of a list of device scalars (one transfer), as floats."""
        raise NotImplementedError

    def to_host(self, array, dtype=None):
        """A numpy copy of ``array`` (cast to ``dtype`` if given)."""
        raise NotImplementedError

    def assign_from_host(self, target, values):
        """``target[...] = values``, cast to ``target``'s dtype."""
        raise NotImplementedError

    def as_input(self, X, dtype):
        """``X`` in the network's dtype (CSR for sparse), copying only if needed."""
        raise NotImplementedError

    def is_sparse(self, X):
        """Whether ``X`` is a sparse matrix."""
        raise NotImplementedError

    def quiet_errors(self):
        """Context in which overflow and invalid values raise no warning.

        Divergence is detected by the training loop, not by floating-point
        warnings.
        """
        raise NotImplementedError

    def all_finite(self, *arrays):
        """Whether every value of every array is finite (a host bool)."""
        raise NotImplementedError

    def any_nonzero(self, array):
        """Whether any value of ``array`` is non-zero (a host bool)."""
        raise NotImplementedError

    def sum(self, array):
        """Sum of all values (a device scalar)."""
        raise NotImplementedError

    def copy_rows(self, target, start, values):
        """``target[start:start + len(values)] = values``."""
        raise NotImplementedError

    def batch_order(self, n, indices, rng, shuffle):
        """Row indices of one epoch: ``indices`` (or all ``n``), shuffled."""
        raise NotImplementedError

    def sorted_indices(self, indices):
        """``indices`` in increasing order."""
        raise NotImplementedError

    def gather_rows(self, data, idx, out=None):
        """Rows ``idx`` of ``data``, into ``out`` (rows enough) if given."""
        raise NotImplementedError

    def fill_uniform(self, W, low, high, rng):
        """Fill ``W`` in place with ``U(low, high)`` draws from ``rng``."""
        raise NotImplementedError

    def affine(self, X, W, b, out):
        """``out = X W + b`` (training; ``X`` dense or CSR)."""
        raise NotImplementedError

    def affine_inference(self, X, W, b):
        """``X W + b`` in a new array, each row computed as it would be alone."""
        raise NotImplementedError

    def affine_backward(self, X, dZ, gW, gb, accumulate=False, scratch=None):
        """``gW = X^T dZ`` (``+=`` with ``accumulate``), ``gb = sum_i dZ_i``.

        ``scratch`` (of ``gW``'s shape) holds the product when accumulating
        from dense ``X``.
        """
        raise NotImplementedError

    def matmul(self, A, B, out):
        """``out = A B`` (dense)."""
        raise NotImplementedError

    def sum_rows(self, A, out):
        """``out = sum_i A_i`` (column sums)."""
        raise NotImplementedError

    def max_norm(self, W, max_norm, norms):
        """Scale each column of ``W`` to an L2 norm of at most ``max_norm``.

        ``norms`` is a work vector of ``W``'s width. Columns within the bound
        are untouched; the others are scaled by ``max_norm / norm``.
        """
        raise NotImplementedError

    def activation_scratch_dtype(self, name, dtype):
        """Dtype of the work array ``activation_backward`` needs, or None."""
        raise NotImplementedError

    def activation_forward(self, name, Z):
        """Overwrite ``Z`` with ``g(Z)``; return it."""
        raise NotImplementedError

    def activation_backward(self, name, A, dA, scratch=None):
        """Multiply ``dA`` in place by ``g'`` written from the output ``A``."""
        raise NotImplementedError

    def keep_mask(self, rng, rate, uniform, out=None):
        """A 0/1 mask, each entry 1 with probability ``1 - rate``.

        The uniforms are drawn as float32 into ``uniform`` whatever the
        network's precision (the random stream does not depend on it); the
        mask is written into ``out`` (of another dtype) or into ``uniform``.
        """
        raise NotImplementedError

    def dropout(self, rng, X, rate, uniform, mask, out):
        """Inverted dropout of the dense batch ``X`` in training.

        Keeps each entry with probability ``1 - rate``: writes the scaled
        keep mask (``0`` or ``1 / (1 - rate)``) into ``mask`` and
        ``X * mask`` into ``out``, and returns ``(out, mask)``. ``uniform``
        is a float32 work array of ``X``'s shape; ``mask`` may be None when
        ``X`` is float32, and then ``uniform`` holds the mask. The draws come
        from ``rng`` (:meth:`keep_mask`'s stream), or, in a backend that
        draws inside its kernel, from a key taken from ``rng``.
        """
        raise NotImplementedError

    def gaussian_noise(self, rng, level, noise, out=None):
        """``level`` times standard normal draws (float32 into ``noise``),
        copied into ``out`` (of another dtype) if given."""
        raise NotImplementedError

    def multiply(self, a, b, out):
        """``out = a * b`` (element-wise, broadcast)."""
        raise NotImplementedError

    def add(self, a, b, out):
        """``out = a + b`` (element-wise, broadcast)."""
        raise NotImplementedError

    def multiply_into(self, target, factor):
        """``target *= factor`` in place (a scalar, or an array broadcast)."""
        raise NotImplementedError

    def sparse_dropout(self, rng, X, rate, uniform, data):
        """Inverted dropout of the stored entries of the CSR matrix ``X``.

        Dropping an implicit zero changes nothing, so only the ``nnz``
        stored values draw: float32 uniforms into ``uniform``, the kept
        values scaled by ``1 / (1 - rate)`` into ``data`` (both of at least
        ``nnz`` entries). Returns a CSR matrix sharing ``X``'s index arrays,
        and the kept-and-scaled factors (for a repeat with the same mask).
        """
        raise NotImplementedError

    def apply_sparse_factors(self, X, factors, values):
        """CSR ``X`` with its stored values multiplied by ``factors``."""
        raise NotImplementedError

    def batchnorm_forward(self, Z, gamma, beta, sample_weight, eps, xhat, out):
        """Normalise ``Z`` with its (weighted) batch statistics.

        Writes ``xhat = (Z - mu) / sqrt(var + eps)`` into ``xhat`` and
        ``gamma * xhat + beta`` into ``out`` (also scratch for the squared
        deviations). Returns ``(out, p, mu, var, inv_std)``, ``p`` the row
        weights (None for equal weights).
        """
        raise NotImplementedError

    def batchnorm_update_running(self, running_mean, running_var, mu, var,
                                 momentum):
        """Exponential averages of the batch mean and (biased) variance."""
        raise NotImplementedError

    def batchnorm_inference(self, Z, gamma, beta, mean, var, eps):
        """``gamma (Z - mean) / sqrt(var + eps) + beta`` in a new array."""
        raise NotImplementedError

    def batchnorm_backward(self, dY, xhat, inv_std, p, gamma, g_gamma, g_beta,
                           tmp, need_input_grad=True):
        """Gradients of gamma and beta, and (in place in ``dY``) of the input."""
        raise NotImplementedError

    def batchnorm_pass_through(self, gamma, beta, mean, var, eps):
        """``gamma = sqrt(var + eps)``, ``beta = mean`` (in place): a batch
        norm that leaves inputs of this mean and variance unchanged."""
        raise NotImplementedError

    def weighted_moments(self, Z, sample_weight, total, total_sq):
        """Add the (weighted) sums of ``Z`` and ``Z**2`` per column, in
        float64, to ``total`` and ``total_sq``; return the rows' weight."""
        raise NotImplementedError

    def moments_to_population(self, total, total_sq, weight):
        """Mean and population variance from :meth:`weighted_moments` sums."""
        raise NotImplementedError

    def kl_sparsity(self, H, sample_weight, target, weight, out):
        """KL sparsity penalty of the mean code activation and its gradient.

        Returns the penalty (a float64 device scalar) and writes the
        gradient at ``H`` into ``out``.
        """
        raise NotImplementedError

    def output(self, loss, Z):
        """Overwrite ``Z`` with the output non-linearity of ``loss``."""
        raise NotImplementedError

    def loss(self, loss, Z, Y, sample_weight=None, scratch=None):
        """Mean (weighted) loss of outputs ``Z`` (pre-activations) against ``Y``.

        ``scratch`` is None or a pair of arrays of ``Z``'s shape for the
        element-wise terms. ``Z`` is left unchanged.
        """
        raise NotImplementedError

    def loss_and_delta(self, loss, Z, Y, sample_weight, scratch):
        """The loss, and ``Z`` overwritten with ``dL/dZ = output(Z) - Y``
        (scaled by the row weights); ``scratch`` as for :meth:`loss`."""
        raise NotImplementedError

    def penalty(self, w, alpha, l1_alpha, scratch):
        """``alpha/2 |w|^2 + l1_alpha |w|_1`` (a float64 device scalar)."""
        raise NotImplementedError

    def add_penalty_grad(self, w, g, l2_factor, l1_factor, scratch):
        """``g += l2_factor * w + l1_factor * sign(w)`` (zero factors skipped)."""
        raise NotImplementedError

    def sgd_step(self, theta, grad, velocity, rate, momentum, nesterov, scratch,
                 decay=None):
        """SGD with classical or Nesterov momentum, ``rate`` times the gradient.

        ``rate`` is ``-learning_rate`` (or 1 for a gradient already scaled by
        it). Each line is one pass over the parameters; the work is
        memory-bound, so the number of passes is the cost (``axpy`` and
        ``axpby`` fuse two).

        With ``decay`` (a :class:`Decay`), the step first adds weight decay's
        gradient to ``grad[:decay.n]`` (which it may overwrite) and returns
        the penalty of the parameters before the step, as :meth:`penalty`
        divided by ``decay.denominator`` (a float64 device scalar); without,
        it returns 0. A backend may do both in the step's own pass.
        """
        raise NotImplementedError

    def adagrad_step(self, theta, grad, sum_sq, learning_rate, epsilon, tmp,
                     decay=None):
        """``G += g^2; theta -= lr g / (sqrt(G) + eps)``; ``decay`` and the
        returned penalty as for :meth:`sgd_step`."""
        raise NotImplementedError

    def adam_step(self, theta, grad, m, v, t, learning_rate, beta_1, beta_2,
                  epsilon, tmp, decay=None):
        """Adam's moment updates and bias-corrected step (step number ``t``);
        ``decay`` and the returned penalty as for :meth:`sgd_step`."""
        raise NotImplementedError


class Decay(NamedTuple):
    """Weight decay of one minibatch, for an optimiser's step to apply.

    The first ``n`` parameters are decayed: the penalty is ``(alpha/2
    |w|^2 + l1_alpha |w|_1) / denominator`` and its gradient, as the step
    adds it, ``l2_factor * w + l1_factor * sign(w)`` (the factors include
    the step's gradient scale).
    """

    n: int
    alpha: float
    l1_alpha: float
    denominator: float
    l2_factor: float
    l1_factor: float


def _weighted_mean(row_values, sample_weight):
    """The (sample-weighted) mean of per-row losses, as a float64 scalar."""
    if sample_weight is None:
        return np.mean(row_values, dtype=np.float64)
    total = np.sum(sample_weight)
    return np.float64(np.dot(sample_weight, row_values) / total) if total > 0 else (
        np.float64(0.0))


def _scale_delta(delta, sample_weight):
    """``delta`` divided by the batch size, or weighted by the sample weights."""
    if sample_weight is None:
        delta /= delta.shape[0]
        return delta
    total = np.sum(sample_weight)
    if total <= 0:
        delta[...] = 0
        return delta
    delta *= (sample_weight / total)[:, np.newaxis].astype(delta.dtype, copy=False)
    return delta


def _pair(scratch):
    return (None, None) if scratch is None else scratch


class NumpyOps(Ops):
    """The reference backend: numpy, scipy, and numpy's own BLAS.

    Each method computes what :class:`Ops` documents.

    Matrix products go to numpy's BLAS; vector updates to its ``axpy`` and
    ``axpby`` where they exist (:mod:`.blas`); inference products compute
    every row as it would be alone (:mod:`.products`).
    """

    name = "numpy"

    # -- arrays and host transfers -----------------------------------------

    def empty(self, shape, dtype):
        return np.empty(shape, dtype=dtype)

    def zeros(self, shape, dtype):
        return np.zeros(shape, dtype=dtype)

    def full(self, shape, value, dtype):
        return np.full(shape, value, dtype=dtype)

    def copy(self, array):
        return array.copy()

    def dtype(self, dtype):
        return np.dtype(dtype)

    def is_float32(self, dtype):
        return np.dtype(dtype) == np.float32

    def to_float(self, scalar):
        return float(scalar)

    def to_floats(self, scalars):
        return [float(value) for value in scalars]

    def to_host(self, array, dtype=None):
        return np.array(array, dtype=dtype)

    def assign_from_host(self, target, values):
        target[...] = values.astype(target.dtype, copy=False)

    def as_input(self, X, dtype):
        if sp.issparse(X):
            return sp.csr_matrix(X, dtype=dtype, copy=False)
        return np.asarray(X, dtype=dtype)

    def is_sparse(self, X):
        return sp.issparse(X)

    def quiet_errors(self):
        return np.errstate(over="ignore", invalid="ignore", divide="ignore")

    # -- reductions and checks ---------------------------------------------

    def all_finite(self, *arrays):
        return all(bool(np.all(np.isfinite(a))) for a in arrays)

    def any_nonzero(self, array):
        return bool(np.any(array))

    def sum(self, array):
        return array.sum()

    def copy_rows(self, target, start, values):
        target[start : start + values.shape[0]] = values

    # -- minibatches ---------------------------------------------------------

    def batch_order(self, n, indices, rng, shuffle):
        order = np.arange(n) if indices is None else np.array(indices)
        if shuffle:
            rng.shuffle(order)
        return order

    def sorted_indices(self, indices):
        return np.sort(indices)

    def gather_rows(self, data, idx, out=None):
        if out is None or sp.issparse(data) or len(idx) > out.shape[0]:
            return data[idx] if sp.issparse(data) else np.take(data, idx, axis=0)
        # mode="clip" skips numpy's bounds-checked (buffered) path: the
        # indices are valid by construction.
        return np.take(data, idx, axis=0, out=out[: len(idx)], mode="clip")

    # -- initialisation ------------------------------------------------------

    def fill_uniform(self, W, low, high, rng):
        W[...] = rng.uniform(low, high, size=W.shape)
        return W

    # -- affine maps -----------------------------------------------------------

    def affine(self, X, W, b, out):
        if sp.issparse(X):
            out[...] = X @ W
        else:
            np.dot(X, W, out=out)
        out += b
        return out

    def affine_inference(self, X, W, b):
        Z = inference_product(X, W)
        Z += b
        return Z

    def affine_backward(self, X, dZ, gW, gb, accumulate=False, scratch=None):
        if accumulate and sp.issparse(X):
            gW += X.T @ dZ
        elif accumulate:
            gW += np.dot(X.T, dZ, out=scratch)
        elif sp.issparse(X):
            gW[...] = X.T @ dZ
        else:
            np.dot(X.T, dZ, out=gW)
        np.sum(dZ, axis=0, out=gb)

    def matmul(self, A, B, out):
        return np.dot(A, B, out=out)

    def sum_rows(self, A, out):
        return np.sum(A, axis=0, out=out)

    def max_norm(self, W, max_norm, norms):
        np.einsum("ij,ij->j", W, W, out=norms)
        if not norms.max() > max_norm * max_norm:
            return
        np.sqrt(norms, out=norms)
        np.maximum(norms, max_norm, out=norms)
        np.divide(max_norm, norms, out=norms)
        W *= norms

    # -- activations -----------------------------------------------------------

    def activation_scratch_dtype(self, name, dtype):
        kind = SCRATCH_DTYPES.get(name)
        if kind is None:
            return None
        return np.dtype(dtype) if kind == "same" else np.dtype(kind)

    def activation_forward(self, name, Z):
        return ACTIVATIONS[name][0](Z)

    def activation_backward(self, name, A, dA, scratch=None):
        return ACTIVATIONS[name][1](A, dA, scratch)

    # -- dropout and corruption ------------------------------------------------

    def keep_mask(self, rng, rate, uniform, out=None):
        rng.random(dtype=np.float32, out=uniform)
        mask = uniform if out is None else out
        return np.greater_equal(uniform, rate, out=mask)

    def dropout(self, rng, X, rate, uniform, mask, out):
        mask = self.keep_mask(rng, rate, uniform, mask)
        self.multiply_into(mask, 1.0 / (1.0 - rate))
        return self.multiply(X, mask, out=out), mask

    def gaussian_noise(self, rng, level, noise, out=None):
        rng.standard_normal(dtype=np.float32, out=noise)
        noise *= level
        if out is None:
            return noise
        out[...] = noise
        return out

    def multiply(self, a, b, out):
        return np.multiply(a, b, out=out)

    def add(self, a, b, out):
        return np.add(a, b, out=out)

    def multiply_into(self, target, factor):
        target *= factor
        return target

    def sparse_dropout(self, rng, X, rate, uniform, data):
        X = X.tocsr()  # the stored values in CSR order, whatever the format
        nnz = X.nnz
        u = uniform[:nnz]
        rng.random(dtype=np.float32, out=u)
        factors = data[:nnz]
        np.greater_equal(u, rate, out=factors)
        factors *= 1.0 / (1.0 - rate)
        return self.apply_sparse_factors(X, factors, data[nnz : 2 * nnz]), factors

    def apply_sparse_factors(self, X, factors, values):
        X = X.tocsr()
        np.multiply(X.data, factors, out=values)
        return sp.csr_matrix((values, X.indices, X.indptr), shape=X.shape,
                             copy=False)

    # -- batch normalisation -------------------------------------------------

    def batchnorm_forward(self, Z, gamma, beta, sample_weight, eps, xhat, out):
        if sample_weight is None:
            p = None
            mu = Z.mean(axis=0)
            np.subtract(Z, mu, out=xhat)
            var = np.multiply(xhat, xhat, out=out).mean(axis=0)
        else:
            # Weighted statistics, so that a weight of 2 acts as a repeated row.
            p = (sample_weight / np.sum(sample_weight)).astype(Z.dtype)
            mu = p @ Z
            np.subtract(Z, mu, out=xhat)
            var = p @ np.multiply(xhat, xhat, out=out)
        inv_std = 1.0 / np.sqrt(var + eps)
        xhat *= inv_std
        np.multiply(xhat, gamma, out=out)
        out += beta
        return out, p, mu, var, inv_std

    def batchnorm_update_running(self, running_mean, running_var, mu, var,
                                 momentum):
        running_mean *= momentum
        running_mean += (1 - momentum) * mu
        running_var *= momentum
        running_var += (1 - momentum) * var

    def batchnorm_inference(self, Z, gamma, beta, mean, var, eps):
        scale = gamma / np.sqrt(var + eps)
        shift = beta - mean * scale
        out = Z * scale
        out += shift
        return out

    def batchnorm_backward(self, dY, xhat, inv_std, p, gamma, g_gamma, g_beta,
                           tmp, need_input_grad=True):
        np.sum(dY, axis=0, out=g_beta)
        np.sum(np.multiply(dY, xhat, out=tmp), axis=0, out=g_gamma)
        if not need_input_grad:
            return None
        dZ = dY
        if p is None:
            m = dY.shape[0]
            dZ -= g_beta / m
            dZ -= np.multiply(xhat, g_gamma / m, out=tmp)
        else:
            p = p[:, np.newaxis]
            dZ -= np.multiply(p, g_beta, out=tmp)
            np.multiply(xhat, g_gamma, out=tmp)
            tmp *= p
            dZ -= tmp
        dZ *= gamma * inv_std
        return dZ

    def batchnorm_pass_through(self, gamma, beta, mean, var, eps):
        gamma[...] = np.sqrt(var + eps)
        beta[...] = mean

    def weighted_moments(self, Z, sample_weight, total, total_sq):
        Z = Z.astype(np.float64)
        if sample_weight is None:
            total += Z.sum(axis=0)
            total_sq += np.einsum("ij,ij->j", Z, Z)
            return Z.shape[0]
        total += sample_weight @ Z
        total_sq += sample_weight @ (Z * Z)
        return float(np.sum(sample_weight))

    def moments_to_population(self, total, total_sq, weight):
        mean = total / weight
        var = np.maximum(total_sq / weight - mean * mean, 0.0)
        return mean, var

    # -- sparsity penalty ------------------------------------------------------

    def kl_sparsity(self, H, sample_weight, target, weight, out):
        m = H.shape[0]
        if sample_weight is None:
            p = np.full(m, 1.0 / m, dtype=H.dtype)
        else:
            total = np.sum(sample_weight)
            p = (sample_weight / total if total > 0 else np.full(m, 1.0 / m))
            p = p.astype(H.dtype)
        eps = 1e-7
        rho_hat = np.clip(p @ H, eps, 1 - eps)
        rho = target
        kl = (rho * np.log(rho / rho_hat)
              + (1 - rho) * np.log((1 - rho) / (1 - rho_hat)))
        value = np.float64(weight * np.sum(kl))
        slope = weight * ((1 - rho) / (1 - rho_hat) - rho / rho_hat)
        np.multiply(p[:, np.newaxis], slope, out=out)
        return value, out

    # -- losses fused with their output non-linearity ---------------------------

    def output(self, loss, Z):
        if loss == "softmax":
            Z -= Z.max(axis=1, keepdims=True)
            np.exp(Z, out=Z)
            Z /= Z.sum(axis=1, keepdims=True)
            return Z
        if loss == "logistic":
            return expit(Z, out=Z)
        if loss == "exp":
            return np.exp(Z, out=Z)
        return Z

    def loss(self, loss, Z, Y, sample_weight=None, scratch=None):
        if loss == "softmax":
            shifted = Z - Z.max(axis=1, keepdims=True)
            log_norm = np.log(np.exp(shifted).sum(axis=1))
            rows = log_norm - np.einsum("ij,ij->i", shifted, Y)
            return _weighted_mean(rows, sample_weight)
        first, second = _pair(scratch)
        if loss == "logistic":
            terms = self._logistic_terms(Z, Y, first, second)
            return self._logistic_finish(terms, expit(Z, out=second), sample_weight)
        if loss == "exp":
            terms = np.exp(Z, out=first)
            terms -= np.multiply(Y, Z, out=second)
            return self._poisson_finish(terms, Y, second, sample_weight)
        diff = np.subtract(Z, Y, out=first)
        rows = 0.5 * np.einsum("ij,ij->i", diff, diff)
        return _weighted_mean(rows, sample_weight)

    def loss_and_delta(self, loss, Z, Y, sample_weight, scratch):
        if loss == "softmax":
            # One exponential pass serves both the loss and the probabilities.
            Z -= Z.max(axis=1, keepdims=True)
            target_logit = np.einsum("ij,ij->i", Z, Y)
            np.exp(Z, out=Z)
            norm = Z.sum(axis=1, keepdims=True)
            value = _weighted_mean(np.log(norm[:, 0]) - target_logit, sample_weight)
            Z /= norm
            Z -= Y
            return value, _scale_delta(Z, sample_weight)
        first, second = scratch
        if loss == "logistic":
            # One logistic pass serves both the loss and the probabilities.
            terms = self._logistic_terms(Z, Y, first, second)
            P = expit(Z, out=Z)
            np.copyto(second, P)
            value = self._logistic_finish(terms, second, sample_weight)
            P -= Y
            return value, _scale_delta(P, sample_weight)
        if loss == "exp":
            # One exponential pass serves both the loss and the means:
            # exp(z) - y z + y log y - y, with Z overwritten by mu = exp(z).
            terms = np.multiply(Y, Z, out=first)
            mu = np.exp(Z, out=Z)
            np.subtract(mu, terms, out=terms)
            value = self._poisson_finish(terms, Y, second, sample_weight)
            mu -= Y
            return value, _scale_delta(mu, sample_weight)
        value = self.loss(loss, Z, Y, sample_weight, scratch)
        Z -= Y
        return value, _scale_delta(Z, sample_weight)

    @staticmethod
    def _logistic_terms(Z, Y, first, second):
        # softplus(z) - y z = max(z, 0) - y z - log(max(p, 1 - p)), p = expit(z):
        # logaddexp is several times slower, and p is needed anyway.
        terms = np.maximum(Z, 0, out=first)
        terms -= np.multiply(Y, Z, out=second)
        return terms

    @staticmethod
    def _logistic_finish(terms, P, sample_weight):
        """Subtract ``log(max(p, 1 - p))``, computed in place in ``P``."""
        P -= 0.5
        np.abs(P, out=P)
        P += 0.5
        terms -= np.log(P, out=P)
        return _weighted_mean(terms.sum(axis=1), sample_weight)

    @staticmethod
    def _poisson_finish(terms, Y, second, sample_weight):
        """Add ``y log y - y`` to ``terms = exp(z) - y z``; the weighted mean."""
        terms += xlogy(Y, Y, out=second)
        terms -= Y
        return _weighted_mean(terms.sum(axis=1), sample_weight)

    # -- weight decay ------------------------------------------------------------

    def penalty(self, w, alpha, l1_alpha, scratch):
        value = 0.0
        if alpha:
            value += 0.5 * alpha * np.float64(np.dot(w, w))
        if l1_alpha:
            magnitude = np.abs(w, out=scratch)
            value += l1_alpha * magnitude.sum(dtype=np.float64)
        return value

    def add_penalty_grad(self, w, g, l2_factor, l1_factor, scratch):
        if l2_factor:
            blas.axpy(l2_factor, w, g, scratch)
        if l1_factor:
            np.sign(w, out=scratch)
            scratch *= l1_factor
            g += scratch

    # -- optimiser steps ---------------------------------------------------------

    def _decay(self, theta, grad, decay, scratch):
        # Weight decay before a step (see Ops.sgd_step): the penalty, then
        # its gradient, as two passes each.
        if decay is None:
            return 0.0
        n = decay.n
        w, g, scratch = theta[:n], grad[:n], scratch[:n]
        value = self.penalty(w, decay.alpha, decay.l1_alpha,
                             scratch if decay.l1_alpha else None)
        self.add_penalty_grad(w, g, decay.l2_factor, decay.l1_factor, scratch)
        return value / decay.denominator

    def sgd_step(self, theta, grad, velocity, rate, momentum, nesterov, scratch,
                 decay=None):
        value = self._decay(theta, grad, decay, scratch)
        if momentum == 0:
            blas.axpy(rate, grad, theta, scratch)
            return value
        blas.axpby(rate, grad, momentum, velocity, scratch)
        if nesterov:
            blas.axpy(rate, grad, theta, scratch)
            blas.axpy(momentum, velocity, theta, scratch)
        else:
            theta += velocity
        return value

    def adagrad_step(self, theta, grad, sum_sq, learning_rate, epsilon, tmp,
                     decay=None):
        value = self._decay(theta, grad, decay, tmp)
        np.multiply(grad, grad, out=tmp)
        sum_sq += tmp
        np.sqrt(sum_sq, out=tmp)
        tmp += epsilon
        np.divide(grad, tmp, out=tmp)
        blas.axpy(-learning_rate, tmp, theta, tmp)
        return value

    def adam_step(self, theta, grad, m, v, t, learning_rate, beta_1, beta_2,
                  epsilon, tmp, decay=None):
        value = self._decay(theta, grad, decay, tmp)
        b1, b2 = beta_1, beta_2
        blas.axpby(1 - b1, grad, b1, m, tmp)
        np.multiply(grad, grad, out=tmp)
        blas.axpby(1 - b2, tmp, b2, v, tmp)
        lr_t = learning_rate * np.sqrt(1 - b2**t) / (1 - b1**t)
        np.sqrt(v, out=tmp)
        tmp += epsilon
        np.divide(m, tmp, out=tmp)
        blas.axpy(-lr_t, tmp, theta, tmp)
        return value


_OPS = {"numpy": NumpyOps}
_INSTANCES = {}


def get_ops(name="numpy"):
    """The (shared, stateless) Ops object of backend ``name``."""
    ops = _INSTANCES.get(name)
    if ops is None:
        if name == "numba" and name not in _OPS:
            try:  # registers NumbaOps
                from . import numba_ops  # noqa: F401
            except ImportError as exc:
                raise ImportError(
                    "The 'numba' backend needs numba: pip install numba (or, in a "
                    "clone of sknets, pip install '.[fast]')."
                ) from exc
        if name not in _OPS:
            raise ValueError(f"Unknown array backend {name!r}; known: "
                             f"{sorted(_OPS)}.")
        ops = _INSTANCES[name] = _OPS[name]()
    return ops


def loaded_ops(name):
    """The Ops of a saved object's backend ``name``, or numpy's where that
    backend cannot be imported here (a model saved where numba was
    installed, loaded where it is not: the backends compute the same model).
    """
    try:
        return get_ops(name)
    except ImportError:
        return get_ops("numpy")


def register_ops(cls):
    """Make the Ops class ``cls`` available to :func:`get_ops` by its name."""
    _OPS[cls.name] = cls
    return cls


__all__ = ["Decay", "NumpyOps", "Ops", "get_ops", "loaded_ops", "register_ops"]
