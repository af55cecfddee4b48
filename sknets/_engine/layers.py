"""Layers, and the contract every layer keeps.

Contract
--------
A layer subclasses :class:`Layer` and implements ``forward(X, ctx)`` and
``backward(dY, need_input_grad)``; ``ctx`` is a :class:`ForwardContext`
(training or inference, the random generator, whether to reuse the last
dropout masks, the batch's sample weights).

- Trainable arrays: ``param_specs()`` lists them as ``(name, shape,
  decayed)``; the network allocates them (and their gradients, same keys) as
  views into one flat buffer and hands them over with ``bind``.
- What backward needs from the last training forward lives in ``cache``
  (one slot per name, no growing lists); training outputs and work arrays in
  ``scratch``, reused by the next minibatch (:meth:`Layer._buffer`), so that
  after the first one a training step allocates no batch-sized array. An
  output is valid until the next training forward. Neither is pickled nor
  copied into a fitted model; ``clear_cache`` empties both.
- Inference (``ctx.training`` false) writes nothing to the layer, so that
  several threads can predict at once, and computes each row of its products
  as it would be alone (:mod:`.products`).
- Non-trainable state (batch-normalisation population statistics) lives in
  ``state``, apart from the trainable arrays.
- Optional hooks, which the network looks for instead of testing types:
  ``auxiliary_loss(grad_scale)`` (a term added to the loss, e.g. a sparsity
  penalty), ``population_units`` and ``set_population`` (statistics taken
  over the training data), ``link(layers)`` (a reference to another layer,
  e.g. tied weights), and the flags ``has_weight_matrix`` (the layer
  applies a weight matrix, its own or another's), ``owns_weight_matrix``
  (it owns one: it counts in ``coefs_``) and ``is_activation`` (its output is
  a hidden layer's activation).
- All array work goes through ``self.ops`` (:mod:`.ops`), the network's.

A new layer is one subclass here; the builders (:func:`.network.build_mlp`)
decide where it goes.
"""

from abc import ABCMeta, abstractmethod
from dataclasses import dataclass
from typing import Any

from .initializers import init_weights
from .ops import get_ops, loaded_ops


@dataclass(frozen=True)
class ForwardContext:
    """How a forward pass runs.

    Parameters
    ----------
    training : bool
        Training mode: dropout and corruption draw, batch norm uses the
        batch's statistics, and what backward needs is cached.
    rng : numpy.random.Generator, optional
        Draws dropout masks and corruption noise (training only).
    reuse_masks : bool
        Reuse the masks of the last training forward (gradient checking).
    sample_weight : array, optional
        Row weights of the batch (batch-norm statistics, penalties).
    """

    training: bool = False
    rng: Any = None
    reuse_masks: bool = False
    sample_weight: Any = None


INFERENCE = ForwardContext()


class Layer(metaclass=ABCMeta):
    """Base class of the layers (see the module docstring)."""

    has_weight_matrix = False
    owns_weight_matrix = False
    is_activation = False
    population_units = None  # the units of a layer with population statistics
    has_auxiliary_loss = False

    def __init__(self, ops=None):
        self.params = {}
        self.grads = {}
        self.state = {}
        self.cache = {}
        self.scratch = {}
        # The array backend; the network sets its own on every layer.
        self.ops = get_ops() if ops is None else ops

    def param_specs(self):
        """``(name, shape, decayed)`` of each trainable array."""
        return []

    def bind(self, params, grads):
        """Take the views of the network's flat buffers."""
        self.params = params
        self.grads = grads

    def link(self, layers):
        """Resolve references to other layers of the network (after ``bind``)."""
        return None

    def initialize(self, rng):
        """Initial values of the trainable arrays and the state."""
        return None

    @abstractmethod
    def forward(self, X, ctx=INFERENCE):
        """The layer's output for input ``X`` (see the module docstring)."""

    @abstractmethod
    def backward(self, dY, need_input_grad=True):
        """Fill ``grads`` from ``dY``; return the input gradient (or None)."""

    def clear_cache(self):
        self.cache = {}
        self.scratch = {}

    def _buffer(self, name, rows, cols, dtype):
        """A training scratch array of ``rows`` rows, reused across batches.

        Kept at the largest size seen; a smaller batch uses its first rows,
        which are contiguous. Inference never uses these buffers.
        """
        buf = self.scratch.get(name)
        if buf is None or buf.shape[0] < rows or buf.shape[1] != cols or (
            buf.dtype != dtype
        ):
            buf = self.scratch[name] = self.ops.empty((rows, cols), dtype)
        return buf[:rows]

    def __getstate__(self):
        # Views into the network's buffers are rebuilt by Network.__setstate__;
        # pickling them would store independent copies.
        state = self.__dict__.copy()
        state["params"] = {}
        state["grads"] = {}
        state["cache"] = {}
        state["scratch"] = {}
        # The backend by name: plain data (see _persistence).
        state["ops"] = self.ops.name
        return state

    def __setstate__(self, state):
        state = dict(state)
        # States written before the cache and scratch dicts held one
        # attribute per cached array, all None once pickled.
        for key in [k for k in state if k.startswith("_cache")]:
            del state[key]
        state.setdefault("cache", {})
        state.setdefault("scratch", {})
        self.__dict__.update(state)
        self.ops = loaded_ops(state.get("ops", "numpy"))


class Dense(Layer):
    """Affine map ``Z = X W + b``.

    Parameters
    ----------
    n_in, n_out : int
        Input and output widths.
    init_activation : str
        The activation that follows, which sets the initialisation range.

    Notes
    -----
    With ``dZ`` the gradient of the loss at the output,
    ``dW = X^T dZ``, ``db = sum_i dZ_i`` and ``dX = dZ W^T``.
    """

    def __init__(self, n_in, n_out, init_activation, accumulate=False):
        super().__init__()
        self.n_in = n_in
        self.n_out = n_out
        self.init_activation = init_activation
        # True when a tied decoder has already written its part of dW.
        self.accumulate = accumulate

    has_weight_matrix = True
    owns_weight_matrix = True

    def param_specs(self):
        return [("W", (self.n_in, self.n_out), True), ("b", (self.n_out,), False)]

    def initialize(self, rng):
        init_weights(self.params["W"], self.init_activation, rng, self.ops)
        self.params["b"][...] = 0

    def set_weights(self, W, b):
        """Copy given weights and biases in (e.g. pre-trained encoders)."""
        self.params["W"][...] = W
        self.params["b"][...] = b

    def forward(self, X, ctx=INFERENCE):
        W, b = self.params["W"], self.params["b"]
        if not ctx.training:
            return self.ops.affine_inference(X, W, b)
        self.cache["X"] = X
        Z = self._buffer("out", X.shape[0], self.n_out, W.dtype)
        return self.ops.affine(X, W, b, Z)

    def backward(self, dZ, need_input_grad=True):
        gW = self.grads["W"]
        part = None
        if self.accumulate and not self.ops.is_sparse(self.cache["X"]):
            part = self._buffer("gW", gW.shape[0], gW.shape[1], gW.dtype)
        self.ops.affine_backward(self.cache["X"], dZ, gW, self.grads["b"],
                                 accumulate=self.accumulate, scratch=part)
        if not need_input_grad:
            return None
        W = self.params["W"]
        dX = self._buffer("dX", dZ.shape[0], self.n_in, W.dtype)
        return self.ops.matmul(dZ, W.T, out=dX)

    def constrain_norm(self, max_norm):
        """Scale down each unit's incoming weights to an L2 norm of ``max_norm``.

        Columns of ``W`` whose norm is at most ``max_norm`` are untouched; the
        others are scaled by ``max_norm / norm``. Allocation-free after the
        first call (one vector of ``n_out`` norms is kept).
        """
        W = self.params["W"]
        norms = self._buffer("norms", 1, self.n_out, W.dtype)[0]
        self.ops.max_norm(W, max_norm, norms)


class Activation(Layer):
    """Element-wise non-linearity, applied in place to its input."""

    is_activation = True

    def __init__(self, name):
        super().__init__()
        self.name = name

    def forward(self, X, ctx=INFERENCE):
        A = self.ops.activation_forward(self.name, X)
        if ctx.training:
            self.cache["A"] = A
        return A

    def backward(self, dA, need_input_grad=True):
        A = self.cache["A"]
        dtype = self.ops.activation_scratch_dtype(self.name, A.dtype)
        scratch = None
        if dtype is not None:
            scratch = self._buffer("scratch", A.shape[0], A.shape[1], dtype)
        return self.ops.activation_backward(self.name, A, dA, scratch)


class Dropout(Layer):
    """Inverted dropout: zero each unit with probability ``rate`` in training.

    Kept units are scaled by ``1 / (1 - rate)`` during training, so that the
    expected input of the next layer is unchanged and inference is the
    identity (Srivastava et al., 2014).
    """

    def __init__(self, rate):
        super().__init__()
        self.rate = rate

    def forward(self, X, ctx=INFERENCE):
        if not ctx.training or self.rate == 0:
            return X
        ops, rng = self.ops, ctx.rng
        if ops.is_sparse(X):
            return self._sparse_forward(X, rng, ctx.reuse_masks)
        out = self._buffer("out", X.shape[0], X.shape[1], X.dtype)
        if ctx.reuse_masks and self.cache.get("mask") is not None:
            return ops.multiply(X, self.cache["mask"], out=out)
        # Drawn as float32 uniforms whatever the dtype (the random stream
        # does not depend on the network's precision).
        uniform = self._buffer("uniform", X.shape[0], X.shape[1],
                               ops.dtype("float32"))
        mask = None if ops.is_float32(X.dtype) else self._buffer(
            "_cache_maskbuf", X.shape[0], X.shape[1], X.dtype)
        out, self.cache["mask"] = ops.dropout(rng, X, self.rate, uniform, mask,
                                              out)
        return out

    def _sparse_forward(self, X, rng, reuse_masks):
        # Only the stored entries draw (dropping a zero changes nothing), into
        # buffers kept at the largest batch's number of stored values: no
        # dense mask, and the output shares the batch's index arrays.
        nnz = X.nnz
        data = self._buffer("sparse", 2 * nnz, 1, X.dtype)[:, 0]
        if reuse_masks and self.cache.get("mask") is not None:
            return self.ops.apply_sparse_factors(X, self.cache["mask"],
                                                 data[nnz : 2 * nnz])
        uniform = self._buffer("uniform", nnz, 1,
                               self.ops.dtype("float32"))[:, 0]
        out, self.cache["mask"] = self.ops.sparse_dropout(rng, X, self.rate,
                                                        uniform, data)
        return out

    def backward(self, dY, need_input_grad=True):
        # Never reached below the first trainable layer (input dropout):
        # sparse input has no gradient.
        if self.cache.get("mask") is None:
            return dY
        return self.ops.multiply_into(dY, self.cache["mask"])


def _keep_mask(layer, shape, dtype, rate, rng):
    """A 0/1 array of ``shape``: each entry 1 with probability ``1 - rate``.

    Drawn as float32 uniforms whatever ``dtype`` (the random stream does not
    depend on the network's precision), into buffers the layer reuses.
    """
    ops = layer.ops
    uniform = layer._buffer("uniform", shape[0], shape[1],
                            ops.dtype("float32"))
    out = None if ops.is_float32(dtype) else layer._buffer(
        "_cache_maskbuf", shape[0], shape[1], dtype)
    return ops.keep_mask(rng, rate, uniform, out)


class BatchNorm(Layer):
    """Batch normalisation of pre-activations (Ioffe & Szegedy, 2015).

    Notes
    -----
    In training, for a minibatch with row weights ``p_i`` (``1/m``, or the
    normalised sample weights), per-unit mean ``mu = sum_i p_i z_i`` and
    variance ``s^2 = sum_i p_i (z_i - mu)^2``::

        xhat = (z - mu) / sqrt(s^2 + eps),    y = gamma * xhat + beta

    and the gradient flows through the statistics::

        dz_j = gamma / sqrt(s^2 + eps) * (dy_j - p_j sum_i dy_i
                                          - p_j xhat_j sum_i dy_i xhat_i)

    At inference the population mean and variance replace the minibatch ones:
    running averages of the batch statistics kept during training, or the
    exact (weighted) mean and variance from a pass over the training data
    (``set_population``).
    """

    def __init__(self, n_units, momentum=0.9, eps=1e-5):
        super().__init__()
        self.n_units = n_units
        self.momentum = momentum
        self.eps = eps

    @property
    def population_units(self):
        return self.n_units

    def param_specs(self):
        n = self.n_units
        return [("gamma", (n,), False), ("beta", (n,), False)]

    def initialize(self, rng):
        self.params["gamma"][...] = 1
        self.params["beta"][...] = 0
        dtype = self.params["gamma"].dtype
        self.state = {
            "running_mean": self.ops.zeros(self.n_units, dtype),
            "running_var": self.ops.full(self.n_units, 1, dtype),
        }

    def forward(self, Z, ctx=INFERENCE):
        gamma, beta = self.params["gamma"], self.params["beta"]
        if not ctx.training:
            return self.ops.batchnorm_inference(
                Z, gamma, beta, self.state["running_mean"],
                self.state["running_var"], self.eps)
        # The output buffer doubles as scratch for the squared deviations.
        xhat = self._buffer("xhat_buf", Z.shape[0], Z.shape[1], Z.dtype)
        out = self._buffer("out", Z.shape[0], Z.shape[1], Z.dtype)
        out, p, mu, var, inv_std = self.ops.batchnorm_forward(
            Z, gamma, beta, ctx.sample_weight, self.eps, xhat, out)
        self.cache["xhat"] = xhat
        self.cache["inv_std"] = inv_std
        self.cache["p"] = p
        # The biased (population) batch variance is averaged: it is what a
        # weighted batch and its repeated-rows equivalent have in common.
        self.ops.batchnorm_update_running(
            self.state["running_mean"], self.state["running_var"], mu, var,
            self.momentum)
        return out

    def set_population(self, mean, var):
        """Replace the running averages by exact population statistics."""
        self.state["running_mean"][...] = mean
        self.state["running_var"][...] = var

    def pass_through(self, mean, var):
        """Set gamma and beta so that inputs of this mean and variance come
        out as they went in (``gamma = sqrt(var + eps)``, ``beta = mean``),
        and take those as the population statistics."""
        self.ops.batchnorm_pass_through(self.params["gamma"], self.params["beta"],
                                        mean, var, self.eps)
        self.set_population(mean, var)

    def backward(self, dY, need_input_grad=True):
        # dY is the next layer's input-gradient buffer: overwritten in place.
        tmp = self._buffer("tmp", dY.shape[0], dY.shape[1], dY.dtype)
        return self.ops.batchnorm_backward(
            dY, self.cache["xhat"], self.cache["inv_std"], self.cache["p"],
            self.params["gamma"], self.grads["gamma"], self.grads["beta"], tmp,
            need_input_grad)


class TiedDense(Layer):
    """Decoder map with weights tied to an encoder layer: ``Z = H W_enc^T + c``.

    It owns only its bias; the weight matrix is the transpose of the partner
    ``Dense`` layer's, and its gradient ``dZ^T H`` is written into the
    partner's gradient, to which the partner then adds its own (the partner
    is created with ``accumulate=True``; backward visits the decoder first).
    """

    has_weight_matrix = True

    def __init__(self, partner_index, n_out):
        super().__init__()
        self.partner_index = partner_index
        self.n_out = n_out
        self.partner = None

    def link(self, layers):
        self.partner = layers[self.partner_index]

    def param_specs(self):
        return [("c", (self.n_out,), False)]

    def initialize(self, rng):
        self.params["c"][...] = 0

    def __getstate__(self):
        state = super().__getstate__()
        state["partner"] = None  # relinked by Network._bind (``link``)
        return state

    def forward(self, H, ctx=INFERENCE):
        W = self.partner.params["W"]
        if not ctx.training:
            return self.ops.affine_inference(H, W.T, self.params["c"])
        self.cache["H"] = H
        Z = self._buffer("out", H.shape[0], W.shape[0], W.dtype)
        return self.ops.affine(H, W.T, self.params["c"], Z)

    def backward(self, dZ, need_input_grad=True):
        ops = self.ops
        ops.matmul(dZ.T, self.cache["H"], out=self.partner.grads["W"])
        ops.sum_rows(dZ, out=self.grads["c"])
        if need_input_grad:
            W = self.partner.params["W"]
            dH = self._buffer("dX", dZ.shape[0], W.shape[1], W.dtype)
            return ops.matmul(dZ, W, out=dH)
        return None


class Corruption(Layer):
    """Input corruption of a denoising autoencoder, in training only.

    ``kind='masking'`` sets each input to 0 with probability ``level``;
    ``kind='gaussian'`` adds noise of standard deviation ``level``. The loss
    compares the reconstruction with the clean input (Vincent et al., 2010).
    """

    def __init__(self, kind, level):
        super().__init__()
        self.kind = kind
        self.level = level

    def forward(self, X, ctx=INFERENCE):
        if not ctx.training or self.level == 0:
            return X
        rng = ctx.rng
        if not (ctx.reuse_masks and self.cache.get("noise") is not None):
            if self.kind == "masking":
                self.cache["noise"] = _keep_mask(self, X.shape, X.dtype, self.level,
                                                 rng)
            else:
                ops = self.ops
                noise = self._buffer("uniform", X.shape[0], X.shape[1],
                                     ops.dtype("float32"))
                out = None if ops.is_float32(X.dtype) else self._buffer(
                    "_cache_maskbuf", X.shape[0], X.shape[1], X.dtype)
                self.cache["noise"] = ops.gaussian_noise(rng, self.level, noise, out)
        out = self._buffer("out", X.shape[0], X.shape[1], X.dtype)
        if self.kind == "masking":
            return self.ops.multiply(X, self.cache["noise"], out=out)
        return self.ops.add(X, self.cache["noise"], out=out)

    def backward(self, dY, need_input_grad=True):
        if self.kind == "masking" and self.cache.get("noise") is not None:
            self.ops.multiply_into(dY, self.cache["noise"])
        return dY


class SparsityPenalty(Layer):
    """KL sparsity penalty on the mean activation of logistic code units.

    Notes
    -----
    With ``rho`` the target and ``rho_hat_j`` unit j's (weighted) mean
    activation over the batch, the penalty added to the loss is
    ``weight * sum_j KL(rho || rho_hat_j)`` and its gradient at ``h_ij`` is
    ``weight * p_i * ((1 - rho) / (1 - rho_hat_j) - rho / rho_hat_j)``, where
    ``p_i`` is row i's share of the batch weight. The layer is the identity.
    """

    has_auxiliary_loss = True

    def __init__(self, target, weight):
        super().__init__()
        self.target = target
        self.weight = weight
        self.penalty_value = 0.0

    def forward(self, H, ctx=INFERENCE):
        if not ctx.training or self.weight == 0:
            return H
        grad = self._buffer("grad_buf", H.shape[0], H.shape[1], H.dtype)
        # A device scalar: read on the host with the rest of the loss.
        self.penalty_value, self.cache["grad"] = self.ops.kl_sparsity(
            H, ctx.sample_weight, self.target, self.weight, grad)
        return H

    def auxiliary_loss(self, grad_scale=1.0):
        """The last training forward's penalty; its cached gradient is scaled
        by ``grad_scale``, as the output delta is (``Network.loss_and_grad``)."""
        if self.cache.get("grad") is not None and grad_scale != 1.0:
            self.ops.multiply_into(self.cache["grad"], grad_scale)
        return self.penalty_value

    def backward(self, dY, need_input_grad=True):
        if self.cache.get("grad") is not None:
            self.ops.add(dY, self.cache["grad"], out=dY)
        return dY
