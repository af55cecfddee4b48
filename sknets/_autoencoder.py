"""Autoencoder as a scikit-learn transformer."""

from numbers import Real

import numpy as np
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted

from . import _solvers
from ._base import (
    BaseNetworkEstimator,
    _assign_arrays,
    _check_finite_outputs,
    _check_weights,
    _network_input,
    _ParameterList,
    partial_fit_method,
)
from ._engine.network import build_autoencoder
from ._sklearn_compat import (
    Interval,
    StrOptions,
    _fit_context,
    validate_data,
)

_LOSSES = {"cross_entropy": "logistic_log_loss", "squared_error": "squared_error"}


def _auto_loss(X):
    """Cross-entropy for data in [0, 1], squared error otherwise."""
    if X.size and X.min() >= 0 and X.max() <= 1:
        return "cross_entropy"
    return "squared_error"


class AutoencoderTransformer(ClassNamePrefixFeaturesOutMixin, TransformerMixin,
                             BaseNetworkEstimator):
    """Autoencoder: ``transform`` encodes, ``inverse_transform`` decodes.

    A feed-forward network trained to reproduce its input through a code
    layer: encoder ``h(x) = g(b + W x)`` (one or several layers), decoder
    ``x_hat = o(c + W* h(x))`` mirroring it, with tied weights ``W* = W^T`` by
    default. Denoising (the input is corrupted during training, the clean
    input is the target), a sparsity penalty on the code and L2 weight decay
    regularise it; every solver and schedule of :class:`MLPClassifier` trains
    it, with early stopping on the validation reconstruction loss.

    Parameters
    ----------
    hidden_layer_sizes : array-like of shape (n_encoder_layers,), default=(100,)
        Widths of the encoder layers; the last is the code size (the width of
        ``transform``'s output). The decoder mirrors them.

    activation : {'identity', 'logistic', 'tanh', 'relu'}, default='logistic'
        Non-linearity of the encoder and decoder hidden layers and of the code.

    loss : {'auto', 'cross_entropy', 'squared_error'}, default='auto'
        Reconstruction loss and output non-linearity: cross-entropy with a
        logistic output, for inputs in [0, 1] (binary or intensities), or
        squared error with a linear output, for real-valued inputs. 'auto'
        picks cross-entropy when every training value lies in [0, 1].

    tied_weights : bool, default=True
        Use the transposed encoder weights in the decoder (``W* = W^T``).

    corruption : {'masking', 'gaussian'}, default='masking'
        Kind of input corruption of a denoising autoencoder: set inputs to 0
        at random, or add Gaussian noise. Used when ``corruption_level > 0``.

    corruption_level : float, default=0.0
        Probability of masking each input, or the standard deviation of the
        Gaussian noise. 0 trains a plain autoencoder.

    sparsity_target : float, default=0.05
        Target mean activation of each code unit, in (0, 1).

    sparsity_weight : float, default=0.0
        Weight of the KL sparsity penalty on the code (needs
        ``activation='logistic'``); 0 disables it.

    solver : {solver_options}, default='adam'
        Optimiser, as in :class:`MLPClassifier`.

    alpha : float, default=0.0001
        L2 penalty (weight decay) on the weights.

    batch_size : int or 'auto', default='auto'
        Minibatch size; 'auto' is ``min(200, n_samples)``.

    learning_rate : {learning_rate_options}, \
            default='constant'
        Learning-rate schedule, as in :class:`MLPClassifier`.

    learning_rate_init : float, default=0.001
        Initial learning rate.

{hyperparameter:power_t}

    max_iter : int, default=200
        Maximum number of epochs.

    shuffle : bool, default=True
        Shuffle the rows before each epoch.

    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the validation split, shuffling and the
        corruption noise.

    tol : float, default=1e-4
        Minimum improvement of the monitored loss.

    verbose : bool, default=False
        Print one line per epoch.

    warm_start : bool, default=False
        Continue from the fitted weights and optimiser state.

{hyperparameter:momentum}

{hyperparameter:nesterovs_momentum}

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data and stop when its
        reconstruction loss has not improved by ``tol`` for
        ``n_iter_no_change`` epochs; the best epoch's weights are restored.
        ``partial_fit`` is then unavailable.

    validation_fraction : float, default=0.1
        Fraction held out for early stopping.

{hyperparameter:beta_1}

{hyperparameter:beta_2}

{hyperparameter:epsilon}

    n_iter_no_change : int, default=10
        Patience of the stopping rule and of the plateau schedules.

{hyperparameter:max_fun}

{hyperparameter:min_learning_rate}

    dtype : {'float32', 'float64'}, default='float32'
        Precision of the parameters and of all computation.

    Attributes
    ----------
    loss_function_ : str
        The reconstruction loss used: 'cross_entropy' or 'squared_error'.

    loss_ : float
        Training loss (with penalties) of the last epoch.

    loss_curve_ : list of float
        Training loss of each epoch.

    best_loss_ : float or None
        Lowest training loss; None with early stopping.

    validation_scores_ : list of float or None
        Negative validation reconstruction loss of each epoch (higher is
        better); None without early stopping.

    best_validation_score_ : float or None
        That of the returned model; None without early stopping.

    history_ : list of dict
        Per-epoch record: ``train_loss``, ``val_loss``, ``learning_rate``, ...

    coefs_ : list of ndarray
        Weight matrices of the encoder, then of the decoder (for tied
        weights only the encoder's, which the decoder uses transposed).

    intercepts_ : list of ndarray
        Biases of the encoder layers, then of the decoder layers.

    n_iter_ : int
        Epochs run by the last call to ``fit``.

    n_layers_ : int
        Number of layers, input and reconstruction included.

    n_outputs_ : int
        Width of the reconstruction (``n_features_in_``).

    out_activation_ : str
        Output non-linearity: 'logistic' (cross-entropy) or 'identity'.

    t_ : int
        Training samples seen.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names seen during fit, when X has string column names.

    See Also
    --------
    sklearn.decomposition.PCA : The linear special case (squared error,
        identity activation, tied weights).
    StackedPretrainedClassifier : Greedy layer-wise pre-training with
        autoencoders, then supervised fine-tuning.

    Notes
    -----
    With code ``h = g(x W + b)`` and reconstruction ``x_hat = o(h W^T + c)``,
    the cross-entropy loss is
    ``-sum_k [x_k log x_hat_k + (1 - x_k) log(1 - x_hat_k)]`` and the squared
    error ``1/2 sum_k (x_hat_k - x_k)^2``, averaged over rows; with tied
    weights the gradient of ``W`` is the sum of its encoder and decoder
    parts. With a denoising corruption ``x~`` of ``x``, the code is computed
    from ``x~`` and the loss compares ``x_hat`` with the clean ``x``.

    References
    ----------
    Bengio, Y., Lamblin, P., Popovici, D. and Larochelle, H. (2007). Greedy
    layer-wise training of deep networks. NIPS.

    Vincent, P., Larochelle, H., Lajoie, I., Bengio, Y. and Manzagol, P.-A.
    (2010). Stacked denoising autoencoders. JMLR 11.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sknets import AutoencoderTransformer
    >>> X, _ = load_digits(return_X_y=True)
    >>> ae = AutoencoderTransformer(hidden_layer_sizes=(32,), max_iter=20,
    ...                             random_state=0)
    >>> codes = ae.fit_transform(X / 16)
    >>> codes.shape
    (1797, 32)
    >>> ae.inverse_transform(codes).shape
    (1797, 64)
    """

    _parameter_constraints: dict = {
        **BaseNetworkEstimator._parameter_constraints,
        "loss": [StrOptions({"auto", "cross_entropy", "squared_error"})],
        "tied_weights": ["boolean"],
        "corruption": [StrOptions({"masking", "gaussian"})],
        "corruption_level": [Interval(Real, 0, None, closed="left")],
        "sparsity_target": [Interval(Real, 0, 1, closed="neither")],
        "sparsity_weight": [Interval(Real, 0, None, closed="left")],
    }

    # The validation score is the negative reconstruction loss (the plateau
    # rule watches the loss: TrainingOptions' default).
    _score_outputs = None
    _accept_sparse = False

    def __init__(
        self, hidden_layer_sizes=(100,), activation="logistic", *, loss="auto",
        tied_weights=True, corruption="masking", corruption_level=0.0,
        sparsity_target=0.05, sparsity_weight=0.0, solver="adam", alpha=0.0001,
        batch_size="auto", learning_rate="constant", learning_rate_init=0.001,
        power_t=0.5, max_iter=200, shuffle=True, random_state=None, tol=1e-4,
        verbose=False, warm_start=False, momentum=0.9, nesterovs_momentum=True,
        early_stopping=False, validation_fraction=0.1, beta_1=0.9, beta_2=0.999,
        epsilon=1e-8, n_iter_no_change=10, max_fun=15000, min_learning_rate=1e-6,
        dtype="float32",
    ):
        self._store_parameters(locals())

    # -- base hooks ---------------------------------------------------------

    def _check_options(self):
        sizes = super()._check_options()
        if not sizes:
            raise ValueError(
                "hidden_layer_sizes must give at least one encoder layer (the "
                f"last is the code size); got {self.hidden_layer_sizes!r}."
            )
        if self.sparsity_weight > 0 and self.activation != "logistic":
            raise ValueError(
                "The sparsity penalty compares mean code activations with "
                "sparsity_target in (0, 1), so it needs activation='logistic'; "
                f"got activation={self.activation!r}."
            )
        if self.corruption == "masking" and not self.corruption_level < 1:
            raise ValueError(
                "corruption_level is the probability of masking each input, so "
                f"it must be < 1; got {self.corruption_level}."
            )
        if not _solvers.is_stochastic(self.solver) and self.corruption_level > 0:
            raise ValueError(
                f"Corruption draws new noise at every step, which {self.solver!r} "
                "cannot handle; use a stochastic solver for a denoising "
                "autoencoder."
            )
        return sizes

    def _validate_training_data(self, X, y, sample_weight, reset=True):
        dtype = np.dtype(self.dtype)
        other = np.float64 if dtype == np.float32 else np.float32
        X = validate_data(self, X, dtype=(dtype, other), reset=reset,
                          accept_sparse=False)
        X = _network_input(X, dtype)
        return X, X, _check_weights(sample_weight, X)

    def _encode_targets(self, y, fitting, classes=None):
        # The target is the input itself.
        if fitting:
            self.loss_function_ = (
                _auto_loss(y) if self.loss == "auto" else self.loss
            )
        elif self.loss not in ("auto", self.loss_function_):
            raise ValueError(
                f"loss={self.loss!r} differs from the fitted loss "
                f"{self.loss_function_!r}; call fit to train with it."
            )
        if self.loss_function_ == "cross_entropy" and y.size and (
            y.min() < 0 or y.max() > 1
        ):
            raise ValueError(
                "The cross-entropy loss needs inputs in [0, 1] (binary or "
                f"intensities); got values in [{y.min()}, {y.max()}]. Scale "
                "them (e.g. MinMaxScaler) or use loss='squared_error'."
            )
        return y

    def _loss_name(self):
        return _LOSSES[self.loss_function_]

    def _architecture(self, n_features, n_outputs, sizes):
        # The layout of saved models (0.0, 0.0, False, 0.9 stood for the MLP
        # options an autoencoder does not take), so that they warm-start.
        return (n_features, sizes, n_outputs, self.activation, self._loss_name(),
                0.0, 0.0, False, 0.9, self.dtype,
                self.tied_weights, self.corruption, self.corruption_level,
                self.sparsity_target, self.sparsity_weight)

    def _build_network(self, n_features, n_outputs, sizes, rng):
        network = build_autoencoder(
            n_features, sizes, activation=self.activation, loss=self._loss_name(),
            tied_weights=self.tied_weights, corruption=self.corruption,
            corruption_level=self.corruption_level,
            sparsity_target=self.sparsity_target,
            sparsity_weight=self.sparsity_weight, dtype=np.dtype(self.dtype),
        )
        network.initialize(rng)
        return network

    def _bias_arrays(self):
        # Dense layers own "b"; a tied decoder layer owns only its bias "c".
        return [layer.params.get("b", layer.params.get("c"))
                for layer in self._network.layers if layer.params]

    @property
    def intercepts_(self):
        """list of ndarray: biases of the encoder, then of the decoder layers."""
        if "_network" not in self.__dict__:
            raise AttributeError("intercepts_")
        return _ParameterList(self._bias_arrays())

    @intercepts_.setter
    def intercepts_(self, values):
        check_is_fitted(self)
        _assign_arrays(self._bias_arrays(), values)

    # -- public API -----------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Train the autoencoder to reconstruct ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (in [0, 1] for the cross-entropy loss).
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in the reconstruction loss.

        Returns
        -------
        self : AutoencoderTransformer
            The fitted transformer.

        Raises
        ------
        sknets.exceptions.DivergenceError
            If the loss or the parameters become non-finite and the
            divergence guard cannot recover; a ``ValueError`` subclass.

        Warns
        -----
        sklearn.exceptions.ConvergenceWarning
            If training stops at ``max_iter`` epochs (iterations for 'lbfgs')
            or, for 'lbfgs', at ``max_fun`` loss evaluations, before
            converging.
        """
        return self._fit(X, None, sample_weight)

    @partial_fit_method
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, sample_weight=None):
        """One epoch on ``X``, continuing the weights and optimiser state.

        The fitted arrays are updated in place (``coefs_`` arrays
        held before the call change with it, as with scikit-learn's MLP); a
        call that fails leaves the model as it was.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A chunk of training data.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples.

        Returns
        -------
        self : AutoencoderTransformer
            The updated transformer.

        Raises
        ------
        ValueError
            With ``early_stopping=True``: "partial_fit does not support
            early_stopping=True". The exception is also an
            ``AttributeError``, raised on access: ``hasattr(est,
            "partial_fit")`` is False then, as it is for ``solver='lbfgs'``
            (an ``AttributeError`` only).
        """
        return self._partial_fit(X, None, sample_weight)

    def transform(self, X):
        """Encode ``X``: the code-layer activations.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        codes : ndarray of shape (n_samples, hidden_layer_sizes[-1])
            The codes; float32 for float32 input with a float32 network.
        """
        X, dtype = self._validate_X(X, return_dtype=True)
        with np.errstate(over="ignore", invalid="ignore"):
            codes = self._inference_network().encode(X)
        _check_finite_outputs(codes, self._network.dtype, "codes")
        return codes.astype(np.promote_types(dtype, codes.dtype), copy=False)

    def inverse_transform(self, X):
        """Decode codes back to input space.

        Parameters
        ----------
        X : array-like of shape (n_samples, hidden_layer_sizes[-1])
            Codes, e.g. from :meth:`transform`.

        Returns
        -------
        X_reconstructed : ndarray of shape (n_samples, `n_features_in_`)
            The decoder's output.
        """
        check_is_fitted(self)
        codes = check_array(X, dtype=(np.float64, np.float32))
        if codes.shape[1] != self._n_features_out:
            raise ValueError(
                f"X has {codes.shape[1]} features, but inverse_transform expects "
                f"codes of {self._n_features_out} features (the code size)."
            )
        net = self._inference_network()
        with np.errstate(over="ignore", invalid="ignore"):
            out = net.decode(_network_input(codes, net.dtype))
        _check_finite_outputs(out, net.dtype)
        return out.astype(np.promote_types(codes.dtype, out.dtype), copy=False)

    def score(self, X, y=None, sample_weight=None):
        """Negative mean reconstruction loss on ``X`` (higher is better).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to reconstruct.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples.

        Returns
        -------
        score : float
            Minus the mean loss (cross-entropy or squared error, summed over
            features) of the reconstructions.
        """
        X = self._validate_X(X)
        sample_weight = _check_weights(sample_weight, X)
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            loss, _ = self._inference_network().evaluate(X, X, sample_weight)
        _check_finite_outputs(loss, self._network.dtype, "reconstruction loss")
        return -loss

    @property
    def _n_features_out(self):
        # The fitted code size, whatever hidden_layer_sizes says now.
        return self._network.code_size

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags


# The solvers, schedules and their hyperparameters are documented from the
# registry (the {...} placeholders of the docstring).
AutoencoderTransformer.__doc__ = _solvers.fill_docs(AutoencoderTransformer.__doc__)
