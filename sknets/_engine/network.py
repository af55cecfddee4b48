"""A feed-forward network whose parameters live in one flat buffer.

All trainable arrays are views into ``theta`` and their gradients views into
``grad``, so that an optimiser step is a few vectorised operations on two long
vectors. Weight matrices come first in the buffer (``theta[:n_decayed]``), so
weight decay touches one contiguous slice and never the biases or the
batch-normalisation scale and shift.
"""

import math

from .layers import (
    INFERENCE,
    Activation,
    BatchNorm,
    Corruption,
    Dense,
    Dropout,
    ForwardContext,
    SparsityPenalty,
    TiedDense,
)
from .losses import LOSSES
from .ops import Decay, get_ops, loaded_ops
from .products import TILE_ROWS

# Rows per chunk at inference, so that memory stays bounded on any input;
# small enough that a chunk's activations stay in cache between the matrix
# product and the bias and activation passes (measured: README, "Speed and
# memory"). It is also the largest tile of the inference products.
PREDICT_CHUNK_ROWS = TILE_ROWS[-1]


class Network:
    """A stack of layers followed by a fused output loss.

    Parameters
    ----------
    layers : list of Layer
        Applied in order; the last must be the output ``Dense`` layer.
    loss : loss object
        From :mod:`.losses`; supplies the output non-linearity.
    dtype : str or dtype
        Of every parameter and computation.
    ops : Ops, optional
        The array backend (:mod:`.ops`) of the network, its layers and its
        loss; numpy's by default.
    """

    def __init__(self, layers, loss, dtype="float32", ops=None):
        self.ops = get_ops() if ops is None else ops
        self.layers = layers
        self.loss = loss
        self.dtype = self.ops.dtype(dtype)
        specs = [
            (i, name, shape, decayed)
            for i, layer in enumerate(layers)
            for name, shape, decayed in layer.param_specs()
        ]
        # Decayed arrays (weights) first, then the rest, each in layer order.
        specs.sort(key=lambda s: not s[3])
        self._layout = []
        start = 0
        for i, name, shape, _ in specs:
            size = math.prod(shape)
            self._layout.append((i, name, start, shape))
            start += size
        self.n_decayed = sum(math.prod(s[2]) for s in specs if s[3])
        self.theta = self.ops.zeros(start, self.dtype)
        self.grad = self.ops.zeros(start, self.dtype)
        self._bind()

    #: Layers up to and including the code (autoencoders; None: all layers).
    encoder_stop = None

    def load_encoders(self, encoders):
        """Start from pre-trained encoders: ``(W, b, mean, var)`` per hidden layer.

        Each hidden layer's weights and biases are copied in; where the
        hidden layers are batch-normalised, each normalisation is set to
        pass the pre-trained pre-activations (of that mean and variance)
        through unchanged, so that the network starts by computing the
        pre-trained encoders.
        """
        dense = self.dense_layers()
        norms = [layer for layer in self.layers
                 if layer.population_units is not None]
        for i, (W, b, mean, var) in enumerate(encoders):
            dense[i].set_weights(W, b)
            if norms:
                norms[i].pass_through(mean, var)

    def use_ops(self, ops):
        """Compute with the backend ``ops`` from now on (the network's
        arrays stay where they are: the CPU backends share numpy's)."""
        self.ops = ops
        self.loss.ops = ops
        for layer in self.layers:
            layer.ops = ops

    @property
    def n_affine_layers(self):
        """Layers with a weight matrix (dense, and tied decoder layers)."""
        return sum(layer.has_weight_matrix for layer in self.layers)

    def _bind(self):
        params = [{} for _ in self.layers]
        grads = [{} for _ in self.layers]
        for i, name, start, shape in self._layout:
            stop = start + math.prod(shape)
            params[i][name] = self.theta[start:stop].reshape(shape)
            grads[i][name] = self.grad[start:stop].reshape(shape)
        self.loss.ops = self.ops
        for layer, p, g in zip(self.layers, params, grads, strict=True):
            layer.ops = self.ops
            layer.bind(p, g)
        for layer in self.layers:
            layer.link(self.layers)
        self._auxiliary = [layer for layer in self.layers
                           if layer.has_auxiliary_loss]
        # Max-norm constrains the hidden units: every dense layer but the output.
        self._hidden_dense = self.dense_layers()[:-1]
        # No layer below the first trainable one needs an input gradient.
        self._first_trainable = next(
            i for i, layer in enumerate(self.layers) if layer.params
        )

    def __getstate__(self):
        state = self.__dict__.copy()
        # The gradient buffer is scratch space of a fit, not model state.
        state["grad"] = None
        state.pop("_scratch", None)
        state.pop("_hidden_dense", None)  # rebuilt by _bind
        state.pop("_auxiliary", None)
        state["ops"] = self.ops.name  # plain data (see _persistence)
        return state

    def __setstate__(self, state):
        if "code_stop" in state and type(self) is Network:
            # Saved before autoencoders had a network class of their own.
            self.__class__ = AutoencoderNetwork
        self.__dict__.update(state)
        self.ops = loaded_ops(state.get("ops", "numpy"))
        self.grad = self.ops.zeros(self.theta.shape[0], self.theta.dtype)
        self._bind()

    @property
    def n_params(self):
        return self.theta.size

    def initialize(self, rng):
        for layer in self.layers:
            layer.initialize(rng)

    def dense_layers(self):
        """The layers that own a weight matrix (``coefs_``), in order."""
        return [layer for layer in self.layers if layer.owns_weight_matrix]

    def constrain_norms(self, max_norm):
        """Max-norm: cap the incoming weight vector of every hidden unit.

        Applied after each update; the output layer is left free. See
        :meth:`.layers.Dense.constrain_norm`.
        """
        for layer in self._hidden_dense:
            layer.constrain_norm(max_norm)

    def get_state(self):
        """Copy of the non-trainable state (batch-norm population statistics)."""
        ops = self.ops
        return [{k: ops.copy(v) for k, v in layer.state.items()}
                for layer in self.layers]

    def set_state(self, states):
        for layer, state in zip(self.layers, states, strict=True):
            for key, value in state.items():
                layer.state[key][...] = value

    def is_finite(self):
        """Whether every parameter and every piece of state is finite."""
        states = [v for layer in self.layers for v in layer.state.values()]
        return self.ops.all_finite(self.theta, *states)

    def clear_cache(self):
        self.__dict__.pop("_scratch", None)
        self.loss.clear_cache()
        for layer in self.layers:
            layer.clear_cache()

    def forward(self, X, training=False, rng=None, reuse_masks=False, stop=None,
                sample_weight=None, start=0):
        """Output pre-activation (or of layers ``start`` to ``stop - 1``).

        The arguments after ``X`` make the :class:`~.layers.ForwardContext`
        of the layers; ``sample_weight`` weights the rows in the batch-norm
        statistics.
        """
        ctx = INFERENCE if not training else ForwardContext(
            training=True, rng=rng, reuse_masks=reuse_masks,
            sample_weight=sample_weight)
        out = X
        for layer in self.layers[start:stop]:
            out = layer.forward(out, ctx)
        return out

    def backward(self, delta):
        """Back-propagate ``delta = dL/dZ_out``, filling ``self.grad``."""
        grad = delta
        first = self._first_trainable
        for i in range(len(self.layers) - 1, first - 1, -1):
            grad = self.layers[i].backward(grad, need_input_grad=i > first)

    def predict(self, X, start=0, stop=None, chunk_rows=PREDICT_CHUNK_ROWS):
        """Inference in bounded-memory chunks of rows.

        By default the network's output (probabilities or values); with
        ``start``/``stop``, the output of layers ``start`` to ``stop - 1``
        (the output non-linearity applies only when the last layer is run).
        """
        n = X.shape[0]
        out = None
        for row in range(0, n, chunk_rows):
            Z = self.forward(X[row : row + chunk_rows], start=start, stop=stop)
            if stop is None:
                Z = self.loss.output(Z)
            if out is None:
                out = self.ops.empty((n, Z.shape[1]), Z.dtype)
            self.ops.copy_rows(out, row, Z)
        return out

    def hidden_outputs(self, X, stop=None, encoder_only=False):
        """Yield ``(layer, A)`` for each activation layer before ``stop``.

        ``A`` is that hidden layer's output over ``X`` in inference mode,
        computed in chunks (:meth:`predict`) from the previous one. With
        ``encoder_only``, an autoencoder's stop at its code (a plain network
        has no decoder).
        """
        if encoder_only and stop is None:
            stop = self.encoder_stop
        start = 0
        for index, layer in enumerate(self.layers[:stop]):
            if layer.is_activation:
                X = self.predict(X, start=start, stop=index + 1)
                start = index + 1
                yield layer, X

    def penalty(self, alpha, l1_alpha, denominator):
        """Weight-decay term of the loss: ``(alpha/2 |W|^2 + l1 |W|_1) / n``."""
        # A batch of zero total weight carries no penalty either.
        if (alpha == 0 and l1_alpha == 0) or denominator <= 0:
            return 0.0
        w = self.theta[: self.n_decayed]
        scratch = self._penalty_scratch() if l1_alpha else None
        return self.ops.penalty(w, alpha, l1_alpha, scratch) / denominator

    def _penalty_scratch(self):
        # A scratch vector of the fit: a fresh multi-megabyte temporary per
        # minibatch costs more than the passes themselves.
        w = self.theta[: self.n_decayed]
        scratch = self.__dict__.get("_scratch")
        if scratch is None or scratch.shape != w.shape or scratch.dtype != w.dtype:
            scratch = self._scratch = self.ops.empty(w.shape, w.dtype)
        return scratch

    def decay(self, alpha, l1_alpha, denominator, grad_scale=1.0):
        """The :class:`~.ops.Decay` of one batch for an optimiser's step, or
        None where it has none (as :meth:`penalty` and
        :meth:`add_penalty_grad` would apply it)."""
        if denominator <= 0 or not (alpha or l1_alpha):
            return None
        return Decay(
            self.n_decayed, alpha, l1_alpha, denominator,
            grad_scale * alpha / denominator if alpha else 0,
            grad_scale * l1_alpha / denominator if l1_alpha else 0)

    def batch_denominator(self, X, sample_weight=None):
        """What the penalty of a batch is divided by: its total weight."""
        return X.shape[0] if sample_weight is None else self.ops.sum(sample_weight)

    def add_penalty_grad(self, alpha, l1_alpha, denominator, grad_scale=1.0):
        decay = self.decay(alpha, l1_alpha, denominator, grad_scale)
        if decay is None:
            return
        self.ops.add_penalty_grad(
            self.theta[: self.n_decayed], self.grad[: self.n_decayed],
            decay.l2_factor, decay.l1_factor, self._penalty_scratch())

    def loss_and_grad(
        self, X, Y, sample_weight=None, alpha=0.0, l1_alpha=0.0, rng=None,
        reuse_masks=False, grad_scale=1.0,
    ):
        """Training-mode loss of one batch; fills ``self.grad``.

        The penalty is divided by the batch's total sample weight, as
        scikit-learn's MLP does, so that ``alpha`` keeps its meaning there.
        With ``grad_scale``, ``self.grad`` holds the gradient times that
        factor: back-propagation is linear in the output delta, so scaling
        the (small) delta scales every gradient for free, and an optimiser
        that wants ``-learning_rate * gradient`` saves a pass over the
        parameters.
        """
        Z = self.forward(X, training=True, rng=rng, reuse_masks=reuse_masks,
                         sample_weight=sample_weight)
        value, delta = self.loss.loss_and_delta(Z, Y, sample_weight)
        if grad_scale != 1.0:
            delta *= grad_scale
        for layer in self._auxiliary:
            value += layer.auxiliary_loss(grad_scale)
        self.backward(delta)
        if alpha or l1_alpha:  # (the trainer may pass the decay to the step)
            denominator = self.batch_denominator(X, sample_weight)
            value += self.penalty(alpha, l1_alpha, denominator)
            self.add_penalty_grad(alpha, l1_alpha, denominator, grad_scale)
        return value

    def evaluate(self, X, Y, sample_weight=None, chunk_rows=PREDICT_CHUNK_ROWS,
                 rows=None, return_outputs=True):
        """Inference-mode data loss (no penalty) and outputs over ``X``.

        Without ``return_outputs`` the outputs are None (an autoencoder's
        validation loss needs no copy of the reconstructed data).

        With ``rows`` (indices), over those rows of ``X`` and ``Y`` only,
        gathered a chunk at a time so that a validation split held out of
        the training data is never copied whole; ``sample_weight`` is then
        that of the selected rows, in order.
        """
        n = X.shape[0] if rows is None else len(rows)
        total = 0.0
        outputs = None
        for start in range(0, n, chunk_rows):
            stop = min(start + chunk_rows, n)
            if rows is None:
                Xc, Yc = X[start:stop], Y[start:stop]
            else:
                block = rows[start:stop]
                Xc = X[block]
                Yc = Xc if Y is X else Y[block]
            Z = self.forward(Xc)
            sw = None if sample_weight is None else sample_weight[start:stop]
            weight = (stop - start) if sw is None else self.ops.to_float(
                self.ops.sum(sw))
            if weight > 0:
                total += self.loss.loss(Z, Yc, sw) * weight
            if not return_outputs:
                continue
            P = self.loss.output(Z)
            if outputs is None:
                outputs = self.ops.empty((n, P.shape[1]), P.dtype)
            self.ops.copy_rows(outputs, start, P)
        weight_total = n if sample_weight is None else self.ops.to_float(
            self.ops.sum(sample_weight))
        return (total / weight_total if weight_total > 0 else 0.0), outputs

    def set_population_statistics(self, chunks):
        """Exact mean and variance of each batch-norm input over the data.

        ``chunks()`` returns a fresh iterable of ``(X, sample_weight)`` row
        blocks of the training data (weights may be None). Layer by layer, in
        order: each layer's statistics are taken with the earlier layers
        already in inference mode with their exact statistics, which is the
        network that will be used at predict time. The variance is the
        (weighted) population variance of the training data.
        """
        for index, layer in enumerate(self.layers):
            if layer.population_units is None:
                continue
            total = self.ops.zeros(layer.population_units, "float64")
            total_sq = self.ops.zeros(layer.population_units, "float64")
            weight = 0.0
            for X, sw in chunks():
                Z = self.forward(X, stop=index)
                weight += self.ops.weighted_moments(Z, sw, total, total_sq)
            layer.set_population(
                *self.ops.moments_to_population(total, total_sq, weight))


def build_mlp(
    n_features,
    hidden_layer_sizes,
    n_outputs,
    activation="relu",
    loss="softmax_log_loss",
    dropout=0.0,
    input_dropout=0.0,
    batch_norm=False,
    batch_norm_momentum=0.9,
    dtype="float32",
    ops=None,
):
    """Build the layers of a multi-layer perceptron.

    Each hidden layer is ``Dense -> [BatchNorm] -> Activation -> [Dropout]``;
    optional input dropout comes first; the output is a ``Dense`` layer whose
    non-linearity is fused into ``loss``.
    """
    layers = []
    if input_dropout > 0:
        layers.append(Dropout(input_dropout))
    n_in = n_features
    for width in hidden_layer_sizes:
        layers.append(Dense(n_in, width, activation))
        if batch_norm:
            layers.append(BatchNorm(width, momentum=batch_norm_momentum))
        layers.append(Activation(activation))
        if dropout > 0:
            layers.append(Dropout(dropout))
        n_in = width
    loss_obj = LOSSES[loss]()
    # The output layer gets the plain Glorot range whatever its non-linearity.
    layers.append(Dense(n_in, n_outputs, "identity"))
    return Network(layers, loss_obj, dtype=dtype, ops=ops)


def build_autoencoder(
    n_features,
    hidden_layer_sizes,
    activation="logistic",
    loss="logistic_log_loss",
    tied_weights=True,
    corruption="masking",
    corruption_level=0.0,
    sparsity_target=0.05,
    sparsity_weight=0.0,
    dtype="float32",
    ops=None,
):
    """Build an autoencoder: encoder, code, mirrored decoder, fused loss.

    The encoder is ``Dense -> Activation`` per entry of ``hidden_layer_sizes``
    (the last is the code); the decoder mirrors it back to ``n_features``,
    with tied (transposed encoder) or free weights, and the output
    non-linearity of ``loss``; see :class:`AutoencoderNetwork`.
    """
    layers = []
    if corruption_level > 0:
        layers.append(Corruption(corruption, corruption_level))
    widths = [n_features, *hidden_layer_sizes]
    encoders = []
    for n_in, n_out in zip(widths[:-1], widths[1:], strict=True):
        encoders.append(len(layers))
        layers.append(Dense(n_in, n_out, activation, accumulate=tied_weights))
        layers.append(Activation(activation))
    if sparsity_weight > 0:
        layers.append(SparsityPenalty(sparsity_target, sparsity_weight))
    code_stop = len(layers)
    loss_obj = LOSSES[loss]()
    for depth in range(len(hidden_layer_sizes) - 1, -1, -1):
        n_in, n_out = widths[depth + 1], widths[depth]
        if tied_weights:
            layers.append(TiedDense(encoders[depth], n_out))
        else:
            layers.append(Dense(n_in, n_out, activation if depth else "identity"))
        if depth:
            layers.append(Activation(activation))
    return AutoencoderNetwork(layers, loss_obj, code_stop, widths[-1], dtype=dtype,
                              ops=ops)


class AutoencoderNetwork(Network):
    """A network whose layers up to ``code_stop`` encode and the rest decode.

    Parameters
    ----------
    layers, loss, dtype, ops
        As for :class:`Network`.
    code_stop : int
        Number of layers up to and including the code; the decoder starts
        there.
    code_size : int
        Width of the code.
    """

    def __init__(self, layers, loss, code_stop, code_size, dtype="float32",
                 ops=None):
        super().__init__(layers, loss, dtype=dtype, ops=ops)
        self.code_stop = code_stop
        self.code_size = code_size

    @property
    def encoder_stop(self):
        return self.code_stop

    @property
    def decoder_start(self):
        return self.code_stop

    def encode(self, X):
        """Codes of ``X`` (inference, in chunks)."""
        return self.predict(X, stop=self.code_stop)

    def decode(self, codes):
        """Reconstructions from ``codes`` (inference, in chunks)."""
        return self.predict(codes, start=self.code_stop)


def as_network_input(X, dtype):
    """Cast ``X`` to the network's dtype (CSR for sparse), copying only if needed."""
    return get_ops().as_input(X, dtype)
