"""Output non-linearities fused with their losses.

Each loss works on the output pre-activation ``Z`` and the encoded targets
``Y`` (same shape). For these canonical pairs the gradient of the loss with
respect to ``Z`` is simply ``prediction - target``, which is both cheaper and
numerically safer than chaining the two derivatives.

The loss of a batch is the sample-weighted mean over rows of the per-row
loss (summed over outputs); ``delta`` is its gradient with respect to ``Z``.
"""

from .ops import get_ops, loaded_ops


class _CanonicalLoss:
    """A loss fused with its canonical link: ``dL/dz = output(z) - y``.

    The arithmetic is the backend's (:meth:`.ops.NumpyOps.loss_and_delta`),
    keyed by ``out_activation``. ``loss(Z, Y, sample_weight)`` leaves ``Z``
    as it is and allocates its temporaries (inference may run in several
    threads at once); ``loss_and_delta`` (training) uses a pair of scratch
    arrays of ``Z``'s shape that the loss keeps from minibatch to minibatch.
    Both return the loss as a device scalar (see :mod:`.ops`).
    """

    out_activation = None

    def __init__(self, ops=None):
        self.ops = get_ops() if ops is None else ops

    def output(self, Z):
        """Overwrite the pre-activation ``Z`` with the output; return it."""
        return self.ops.output(self.out_activation, Z)

    def loss(self, Z, Y, sample_weight=None):
        """Sample-weighted mean over rows of the per-row loss."""
        return self.ops.loss(self.out_activation, Z, Y, sample_weight)

    def loss_and_delta(self, Z, Y, sample_weight=None):
        """Return the loss and overwrite ``Z`` with ``dL/dZ``."""
        return self.ops.loss_and_delta(self.out_activation, Z, Y, sample_weight,
                                       self._training_scratch(Z))

    def _training_scratch(self, Z):
        buf = self.__dict__.get("_scratch")
        rows, cols = Z.shape
        if buf is None or buf.shape[1] < rows or buf.shape[2] != cols or (
            buf.dtype != Z.dtype
        ):
            buf = self._scratch = self.ops.empty((2, rows, cols), Z.dtype)
        return buf[0, :rows], buf[1, :rows]

    def clear_cache(self):
        self.__dict__.pop("_scratch", None)

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_scratch", None)
        state["ops"] = self.ops.name  # plain data (see _persistence)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.ops = loaded_ops(state.get("ops", "numpy"))


class SoftmaxCrossEntropy(_CanonicalLoss):
    """Softmax output with categorical cross-entropy (multiclass).

    Notes
    -----
    ``p = softmax(z)``, ``L = -sum_k y_k log p_k``, ``dL/dz = p - y``. The log
    is taken from the logits (``z - logsumexp(z)``), never from a clipped
    probability; one exponential pass serves both the loss and the
    probabilities.
    """

    out_activation = "softmax"


class SigmoidCrossEntropy(_CanonicalLoss):
    """Logistic outputs with binary cross-entropy (binary and multilabel).

    Notes
    -----
    ``p = 1 / (1 + exp(-z))``, ``L = -sum_k [y_k log p_k + (1 - y_k) log(1 - p_k)]``,
    computed stably from the logit as ``sum_k softplus(z_k) - y_k z_k`` with
    ``softplus(z) = max(z, 0) - log(max(p, 1 - p))``; ``dL/dz = p - y``.
    """

    out_activation = "logistic"


class SquaredError(_CanonicalLoss):
    """Identity output with squared error (regression, real-valued autoencoders).

    Notes
    -----
    ``L = 1/2 sum_k (z_k - y_k)^2``, ``dL/dz = z - y``.
    """

    out_activation = "identity"


class PoissonDeviance(_CanonicalLoss):
    """Exponential output with the Poisson loss (counts, rates).

    Notes
    -----
    ``mu = exp(z)``, ``L = sum_k [y_k log(y_k / mu_k) - y_k + mu_k]`` (half the
    Poisson deviance, as scikit-learn reports it), computed from the logit as
    ``exp(z) - y z + y log y - y``; ``dL/dz = mu - y``. In training one
    exponential pass serves the loss and ``mu``.
    """

    out_activation = "exp"


LOSSES = {
    "softmax_log_loss": SoftmaxCrossEntropy,
    "logistic_log_loss": SigmoidCrossEntropy,
    "squared_error": SquaredError,
    "poisson": PoissonDeviance,
}
