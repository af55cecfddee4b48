"""Output non-linearities fused with their losses.

Each loss works on the output pre-activation ``Z`` and the encoded targets
``Y`` (same shape). For these canonical pairs the gradient of the loss with
respect to ``Z`` is simply ``prediction - target``, which is both cheaper and
numerically safer than chaining the two derivatives.

The loss of a batch is the sample-weighted mean over rows of the per-row
loss (summed over outputs); ``delta`` is its gradient with respect to ``Z``.
"""

import numpy as np
from scipy.special import expit, xlogy


def _weighted_mean(row_values, sample_weight):
    if sample_weight is None:
        return float(np.mean(row_values, dtype=np.float64))
    total = np.sum(sample_weight)
    return float(np.dot(sample_weight, row_values) / total) if total > 0 else 0.0


def _scale_delta(delta, sample_weight):
    if sample_weight is None:
        delta /= delta.shape[0]
        return delta
    total = np.sum(sample_weight)
    if total <= 0:
        delta[...] = 0
        return delta
    delta *= (sample_weight / total)[:, np.newaxis].astype(delta.dtype, copy=False)
    return delta


class _CanonicalLoss:
    """A loss fused with its canonical link: ``dL/dz = output(z) - y``.

    ``loss(Z, Y, sample_weight, scratch)`` may use ``scratch``, a pair of
    arrays of ``Z``'s shape, for its element-wise terms; training passes a
    pair that the loss keeps from minibatch to minibatch, inference (which may
    run in several threads at once) passes none and gets temporaries.
    """

    def loss_and_delta(self, Z, Y, sample_weight=None):
        """Return the loss and overwrite ``Z`` with ``dL/dZ``."""
        value = self.loss(Z, Y, sample_weight, self._training_scratch(Z))
        delta = self.output(Z)
        delta -= Y
        return value, _scale_delta(delta, sample_weight)

    def _training_scratch(self, Z):
        buf = self.__dict__.get("_scratch")
        rows, cols = Z.shape
        if buf is None or buf.shape[1] < rows or buf.shape[2] != cols or (
            buf.dtype != Z.dtype
        ):
            buf = self._scratch = np.empty((2, rows, cols), dtype=Z.dtype)
        return buf[0, :rows], buf[1, :rows]

    def clear_cache(self):
        self.__dict__.pop("_scratch", None)

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_scratch", None)
        return state


def _pair(scratch):
    return (None, None) if scratch is None else scratch


class SoftmaxCrossEntropy(_CanonicalLoss):
    """Softmax output with categorical cross-entropy (multiclass).

    Notes
    -----
    ``p = softmax(z)``, ``L = -sum_k y_k log p_k``, ``dL/dz = p - y``. The log
    is taken from the logits (``z - logsumexp(z)``), never from a clipped
    probability.
    """

    out_activation = "softmax"

    def output(self, Z):
        Z -= Z.max(axis=1, keepdims=True)
        np.exp(Z, out=Z)
        Z /= Z.sum(axis=1, keepdims=True)
        return Z

    def loss(self, Z, Y, sample_weight=None, scratch=None):
        shifted = Z - Z.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(shifted).sum(axis=1))
        rows = log_norm - np.einsum("ij,ij->i", shifted, Y)
        return _weighted_mean(rows, sample_weight)

    def loss_and_delta(self, Z, Y, sample_weight=None):
        """Return the loss and overwrite ``Z`` with ``dL/dZ``."""
        # One exponential pass serves both the loss and the probabilities.
        Z -= Z.max(axis=1, keepdims=True)
        target_logit = np.einsum("ij,ij->i", Z, Y)
        np.exp(Z, out=Z)
        norm = Z.sum(axis=1, keepdims=True)
        value = _weighted_mean(np.log(norm[:, 0]) - target_logit, sample_weight)
        Z /= norm
        Z -= Y
        return value, _scale_delta(Z, sample_weight)


class SigmoidCrossEntropy(_CanonicalLoss):
    """Logistic outputs with binary cross-entropy (binary and multilabel).

    Notes
    -----
    ``p = 1 / (1 + exp(-z))``, ``L = -sum_k [y_k log p_k + (1 - y_k) log(1 - p_k)]``,
    computed stably from the logit as ``sum_k softplus(z_k) - y_k z_k`` with
    ``softplus(z) = max(z, 0) - log(max(p, 1 - p))``; ``dL/dz = p - y``.
    """

    out_activation = "logistic"

    def output(self, Z):
        return expit(Z, out=Z)

    def loss(self, Z, Y, sample_weight=None, scratch=None):
        first, second = _pair(scratch)
        terms = self._terms_before_log(Z, Y, first, second)
        return self._finish(terms, expit(Z, out=second), sample_weight)

    def loss_and_delta(self, Z, Y, sample_weight=None):
        """Return the loss and overwrite ``Z`` with ``dL/dZ``."""
        # One logistic pass serves both the loss and the probabilities.
        first, second = self._training_scratch(Z)
        terms = self._terms_before_log(Z, Y, first, second)
        P = expit(Z, out=Z)
        np.copyto(second, P)
        value = self._finish(terms, second, sample_weight)
        P -= Y
        return value, _scale_delta(P, sample_weight)

    @staticmethod
    def _terms_before_log(Z, Y, first, second):
        # softplus(z) - y z = max(z, 0) - y z - log(max(p, 1 - p)), p = expit(z):
        # logaddexp is several times slower, and p is needed anyway.
        terms = np.maximum(Z, 0, out=first)
        terms -= np.multiply(Y, Z, out=second)
        return terms

    @staticmethod
    def _finish(terms, P, sample_weight):
        """Subtract ``log(max(p, 1 - p))``, computed in place in ``P``."""
        P -= 0.5
        np.abs(P, out=P)
        P += 0.5
        terms -= np.log(P, out=P)
        return _weighted_mean(terms.sum(axis=1), sample_weight)


class SquaredError(_CanonicalLoss):
    """Identity output with squared error (regression, real-valued autoencoders).

    Notes
    -----
    ``L = 1/2 sum_k (z_k - y_k)^2``, ``dL/dz = z - y``.
    """

    out_activation = "identity"

    def output(self, Z):
        return Z

    def loss(self, Z, Y, sample_weight=None, scratch=None):
        diff = np.subtract(Z, Y, out=_pair(scratch)[0])
        rows = 0.5 * np.einsum("ij,ij->i", diff, diff)
        return _weighted_mean(rows, sample_weight)


class PoissonDeviance(_CanonicalLoss):
    """Exponential output with the Poisson loss (counts, rates).

    Notes
    -----
    ``mu = exp(z)``, ``L = sum_k [y_k log(y_k / mu_k) - y_k + mu_k]`` (half the
    Poisson deviance, as scikit-learn reports it), computed from the logit as
    ``exp(z) - y z + y log y - y``; ``dL/dz = mu - y``.
    """

    out_activation = "exp"

    def output(self, Z):
        return np.exp(Z, out=Z)

    def loss(self, Z, Y, sample_weight=None, scratch=None):
        first, second = _pair(scratch)
        terms = np.exp(Z, out=first)
        terms -= np.multiply(Y, Z, out=second)
        terms += xlogy(Y, Y, out=second)
        terms -= Y
        return _weighted_mean(terms.sum(axis=1), sample_weight)


LOSSES = {
    "softmax_log_loss": SoftmaxCrossEntropy,
    "logistic_log_loss": SigmoidCrossEntropy,
    "squared_error": SquaredError,
    "poisson": PoissonDeviance,
}
