"""Greedy layer-wise autoencoder pre-training, then supervised fine-tuning."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_consistent_length, column_or_1d

from . import _solvers
from ._autoencoder import AutoencoderTransformer
from ._base import (
    _check_hidden_layer_sizes,
    _check_weights,
    _mostly_dead,
    _network_input,
    partial_fit_method,
)
from ._callbacks import stage
from ._engine.activations import ACTIVATIONS
from ._engine.errors import warn
from ._engine.network import PREDICT_CHUNK_ROWS
from ._engine.products import inference_product
from ._mlp import MLPClassifier, MLPRegressor
from ._sklearn_compat import (
    Interval,
    StrOptions,
    _fit_context,
    validate_data,
)

_PRETRAIN_CONSTRAINTS = {
    "pretrain_max_iter": [Interval(Integral, 0, None, closed="left")],
    "pretrain_learning_rate_init": [Interval(Real, 0, None, closed="neither")],
    "pretrain_corruption": [StrOptions({"masking", "gaussian"})],
    "pretrain_corruption_level": [Interval(Real, 0, None, closed="left")],
    "pretrain_loss": [StrOptions({"auto", "cross_entropy", "squared_error"})],
    "pretrain_tied_weights": ["boolean"],
}

_PRETRAIN_PARAMETERS = """\
    pretrain_max_iter : int, default=10
        Epochs of autoencoder training per hidden layer (iterations with
        ``solver='lbfgs'``); 0 skips pre-training (the network is then an
        ordinary MLP).

    pretrain_learning_rate_init : float, default=0.001
        Learning rate of the pre-training solver (``solver``; 'lbfgs' is
        replaced by 'adam' for a denoising pre-training).

    pretrain_corruption : {'masking', 'gaussian'}, default='masking'
        Input corruption of the denoising autoencoders.

    pretrain_corruption_level : float, default=0.0
        Masking probability or Gaussian noise level; 0 pre-trains plain
        autoencoders.

    pretrain_loss : {'auto', 'cross_entropy', 'squared_error'}, default='auto'
        Reconstruction loss of each autoencoder; 'auto' picks cross-entropy
        for a layer whose input lies in [0, 1] (e.g. pixel intensities, or the
        codes of a logistic layer) and squared error otherwise.

    pretrain_tied_weights : bool, default=True
        Tie each autoencoder's decoder to its encoder (``W* = W^T``).
"""

_PRETRAIN_NOTES = """\
    Notes
    -----
    Pre-training is greedy and layer-wise (Bengio et al., 2007): the first
    hidden layer is trained as an autoencoder on ``X``; its encoder is frozen
    and the second layer is trained as an autoencoder on the first layer's
    codes, and so on. The encoders' weights and biases then initialise the
    hidden layers of the network, an output layer is added, and the whole
    network is fine-tuned with back-propagation exactly as the plain MLP
    estimator is trained, with all its options. With ``batch_norm=True`` each
    batch-norm layer starts with the mean and standard deviation of its
    pre-trained input as shift and scale, so that it starts as the identity
    and the network computes the pre-trained encoders. With a corruption
    level this is a stacked denoising autoencoder (Vincent et al., 2010).
"""


def _pre_activations(X, W, b, rows=PREDICT_CHUNK_ROWS):
    """``X @ W + b``, a block of ``rows`` rows at a time, in one new array.

    The product is the encoder's at inference (:func:`inference_product`,
    every row computed alone), so the result is the same bit for bit as over
    all rows at once; only the block's product is allocated besides the
    result, not a second array of its size. The default ``rows``, the
    largest tile of the product, is a multiple of every tile, so the blocks
    are tiled as the whole array would be (which matters on a BLAS without
    consistent tiles).
    """
    out = np.empty((X.shape[0], W.shape[1]), dtype=W.dtype)
    for start in range(0, X.shape[0], rows):
        block = out[start : start + rows]
        block[...] = inference_product(X[start : start + rows], W)
        block += b
    return out


class _PretrainMixin:
    """Pre-training shared by the classifier and the regressor."""

    _accept_sparse = False

    def _check_options(self):
        sizes = super()._check_options()
        if self.pretrain_corruption == "masking" and not (
            self.pretrain_corruption_level < 1
        ):
            raise ValueError(
                "pretrain_corruption_level is the probability of masking each "
                f"input, so it must be < 1; got {self.pretrain_corruption_level}."
            )
        return sizes

    def _pretrain_autoencoder(self, width, seed, corrupted):
        solver = self.solver
        if not _solvers.is_stochastic(solver) and corrupted:
            solver = "adam"
        # The stochastic solvers' hyperparameters (momentum, beta_1, ...) as
        # the estimator has them; those the autoencoder does not take (a
        # solver registered after it was written) keep their defaults.
        taken = AutoencoderTransformer._get_param_names()
        solver_params = {
            param: value
            for param, value in _solvers.stochastic_hyperparameter_values(
                self).items()
            if param in taken
        }
        return AutoencoderTransformer(
            hidden_layer_sizes=(width,), activation=self.activation,
            loss=self.pretrain_loss, tied_weights=self.pretrain_tied_weights,
            corruption=self.pretrain_corruption,
            corruption_level=self.pretrain_corruption_level, solver=solver,
            alpha=self.alpha, batch_size=self.batch_size,
            learning_rate_init=self.pretrain_learning_rate_init,
            max_iter=max(self.pretrain_max_iter, 1), shuffle=self.shuffle,
            random_state=seed, tol=self.tol,
            n_iter_no_change=self.n_iter_no_change, dtype=self.dtype,
            verbose=self.verbose, **solver_params,
        )

    def _pretrain(self, X, sizes, sample_weight=None, tasks=None):
        """Encoder ``(W, b)`` per hidden layer, and each layer's loss curve."""
        rng = self._random_generator()
        codes = X
        layers, curves = [], []
        # Hidden layers (from 1) reported dead here. The check after
        # fine-tuning does not report them again, with a remedy for the
        # fine-tuning; it samples fewer rows, so it cannot tell whether more
        # units died since.
        dead = set()
        for depth, width in enumerate(sizes):
            if depth and self.pretrain_loss == "cross_entropy" and (
                codes.min() < 0 or codes.max() > 1
            ):
                raise ValueError(
                    "pretrain_loss='cross_entropy' needs every layer's input in "
                    f"[0, 1], but the codes of hidden layer {depth} "
                    f"(activation={self.activation!r}) are not; use "
                    "pretrain_loss='auto' or 'squared_error', or a logistic "
                    "activation."
                )
            seed = int(rng.integers(np.iinfo(np.int32).max))
            autoencoder = self._pretrain_autoencoder(
                width, seed, self.pretrain_corruption_level > 0
            )
            try:
                with warnings.catch_warnings():
                    # A fixed budget of epochs per layer is the norm here, and
                    # an interrupt is reported below, for the whole estimator.
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    warnings.filterwarnings("ignore", "Training interrupted")
                    with stage(tasks, f"pretrain-layer-{depth + 1}",
                               sub_estimator=autoencoder):
                        autoencoder.fit(codes, sample_weight=sample_weight)
            except KeyboardInterrupt:
                warn(
                    "Training interrupted by user during the pre-training of "
                    f"hidden layer {depth + 1}; the estimator is left as it was "
                    "before this fit.",
                    UserWarning,
                )
                raise
            encoder = autoencoder._network.dense_layers()[0]
            W, b = encoder.params["W"].copy(), encoder.params["b"].copy()
            pre = _pre_activations(codes, W, b)
            if self._warn_if_dead(pre, depth):
                dead.add(depth + 1)
            # Statistics of the layer's pre-activation, for batch-norm layers
            # to start out as the identity on it; only they use them (and
            # numpy's var takes a temporary of the size of `pre`).
            mean = var = None
            if self.batch_norm:
                mean, var = pre.mean(axis=0), pre.var(axis=0)
            layers.append((W, b, mean, var))
            curves.append(list(autoencoder.loss_curve_))
            # The codes are g(pre), in place: the encoder's forward pass, not
            # run twice.
            codes = ACTIVATIONS[self.activation][0](pre)
        return layers, curves, dead

    def _warn_if_dead(self, pre, depth):
        """Warn when most relu units of a pre-trained layer never activate.

        A relu unit whose pre-activation is at most 0 on every training row
        outputs 0 and gets no gradient, so fine-tuning cannot revive it; a
        too-large pre-training rate can kill most of a layer this way, which
        leaves a classifier near chance level without any error. Returns
        whether it warned.
        """
        if self.activation != "relu" or pre.shape[0] == 0:
            return False
        n_dead = _mostly_dead(pre)
        if n_dead:
            warn(
                f"After pre-training, {n_dead} of the {pre.shape[1]} relu units of "
                f"hidden layer {depth + 1} output 0 for every training sample "
                "(dead units, which fine-tuning cannot revive). Lower "
                "pretrain_learning_rate_init (now "
                f"{self.pretrain_learning_rate_init:g}).",
                ConvergenceWarning,
            )
        return bool(n_dead)

    def _n_fit_tasks(self):
        # A stage per pre-trained layer, then fine-tuning. A warm start that
        # continues fine-tuning has only the last, but whether it continues
        # depends on X, so the stages are declared (an upper bound).
        if self.pretrain_max_iter == 0:
            return 1
        try:
            return len(_check_hidden_layer_sizes(self.hidden_layer_sizes)) + 1
        except (TypeError, ValueError):
            return None  # reported by _check_options

    def _fit_unsafe(self, X, y, sample_weight, X_val, y_val, sample_weight_val,
                    tasks=None):
        sizes = self._check_options()
        X_all, y_all = validate_data(
            self, X, y, dtype=(np.float32, np.float64), multi_output=True,
            y_numeric=self._y_numeric, accept_sparse=False,
        )
        sample_weight = _check_weights(sample_weight, X_all)
        labeled = self._labeled_rows(y_all)
        y, sample_weight_fit = y_all, sample_weight
        if labeled is not None:
            if not np.any(labeled):
                raise ValueError(
                    f"Every sample is unlabeled (y == {self.unlabeled_label!r}): "
                    "fine-tuning needs labeled samples."
                )
            # The original X (a DataFrame keeps its feature names).
            X = X.iloc[labeled] if hasattr(X, "iloc") else X_all[labeled]
            y = y_all[labeled]
            if sample_weight is not None:
                sample_weight_fit = sample_weight[labeled]
        # Label errors surface now, not after minutes of pre-training.
        n_outputs = self._encode_targets(y, fitting=True).shape[1]
        encoders = None
        if self._continues(X_all.shape[1], n_outputs, sizes):
            pass  # continue fine-tuning; the pre-training happened before
        elif self.pretrain_max_iter > 0:
            X_pretrain = _network_input(X_all, np.dtype(self.dtype))
            encoders, curves, dead = self._pretrain(
                X_pretrain, sizes, sample_weight, tasks
            )
            self.pretrain_loss_curves_ = curves
            # Hidden layers whose dead units pre-training reported: the
            # check after fine-tuning (this fit's and a continuing one's)
            # does not report them again.
            self._pretrain_dead_layers = dead
        else:
            self.pretrain_loss_curves_ = [[] for _ in sizes]
            self._pretrain_dead_layers = set()
        n_epochs = self.max_iter if _solvers.is_stochastic(self.solver) else 0
        with stage(tasks, "fine-tune", n_epochs):
            # At the start, the (normalised) network computes the
            # pre-trained encoders.
            return super()._fit_unsafe(
                X, y, sample_weight_fit, X_val, y_val, sample_weight_val,
                tasks=tasks, encoders=encoders,
                reported_dead=self.__dict__.get("_pretrain_dead_layers", ()),
            )

    def _labeled_rows(self, y):
        return None

    def _continues(self, n_features, n_outputs, sizes):
        """Whether this fit warm-starts from the fitted (pre-trained) network."""
        if not (self.warm_start and "_network" in self.__dict__):
            return False
        current = self._architecture(n_features, n_outputs, sizes)
        return current == self._architecture_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags


class StackedPretrainedClassifier(_PretrainMixin, MLPClassifier):
    _parameter_constraints: dict = {
        **MLPClassifier._parameter_constraints, **_PRETRAIN_CONSTRAINTS,
        "unlabeled_label": [None, Real, str],
    }

    def __init__(
        self, hidden_layer_sizes=(100,), activation="logistic", *,
        pretrain_max_iter=10, pretrain_learning_rate_init=0.001,
        pretrain_corruption="masking", pretrain_corruption_level=0.0,
        pretrain_loss="auto", pretrain_tied_weights=True, solver="adam",
        alpha=0.0001, batch_size="auto", learning_rate="constant",
        learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
        random_state=None, tol=1e-4, verbose=False, warm_start=False,
        momentum=0.9, nesterovs_momentum=True, early_stopping=False,
        validation_fraction=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
        n_iter_no_change=10, max_fun=15000, l1_alpha=0.0, dropout=0.0,
        input_dropout=0.0, max_norm=None, batch_norm=False,
        batch_norm_momentum=0.9,
        batch_norm_statistics="running", min_learning_rate=1e-6, dtype="float32",
        scoring=None, class_weight=None, unlabeled_label=None,
    ):
        self._store_parameters(locals())

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None,
            sample_weight_val=None):
        """Pre-train the hidden layers on all of ``X``, then fine-tune.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; every row is used for pre-training.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels. With ``unlabeled_label`` set (e.g. to -1, the
            convention of :class:`sklearn.semi_supervised.SelfTrainingClassifier`),
            rows with that label are unlabeled and take part in pre-training
            only.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in the pre-training and fine-tuning losses.
        X_val, y_val : array-like, default=None
            A validation set for fine-tuning, as in :class:`MLPClassifier`.
        sample_weight_val : array-like of shape (n_val_samples,), default=None
            Weights of the validation samples.

        Returns
        -------
        self : StackedPretrainedClassifier
            The fitted estimator.

        Raises
        ------
        ValueError
            If ``early_stopping=True`` and a class has a single labeled
            sample, so that the validation split cannot be stratified (the
            error of :func:`~sklearn.model_selection.train_test_split`, as in
            scikit-learn).
        sknets.exceptions.DivergenceError
            If the loss or the parameters become non-finite and the
            divergence guard cannot recover; a ``ValueError`` subclass.

        Warns
        -----
        UserWarning
            With ``unlabeled_label=None``, if ``y`` looks like scikit-learn's
            semi-supervised convention: the label -1 among at least two
            non-negative integer classes, on more than half of the samples
            or at least twice as often as any other label. Those samples
            are fitted as a class -1, which the model then predicts; pass
            ``unlabeled_label=-1`` if they are unlabeled.
        sklearn.exceptions.ConvergenceWarning
            If fine-tuning stops at ``max_iter`` epochs (iterations for
            'lbfgs') or, for 'lbfgs', at ``max_fun`` loss evaluations, before
            converging.
        """
        return self._fit(X, y, sample_weight, X_val, y_val, sample_weight_val)

    @partial_fit_method
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch of fine-tuning on the labeled rows of ``(X, y)``.

        No pre-training happens here: call :meth:`fit` first to pre-train, or
        this trains from random initialisation. Rows labeled
        ``unlabeled_label`` are skipped. As in :meth:`MLPClassifier.partial_fit`,
        the chunk updates the running batch-norm statistics, whatever
        ``batch_norm_statistics``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A chunk of training data.
        y : array-like of shape (n_samples,)
            Its class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in the loss.
        classes : array-like of shape (n_classes,), default=None
            Every class of the problem; required on the first call.

        Returns
        -------
        self : StackedPretrainedClassifier
            The updated estimator.

        Raises
        ------
        ValueError
            With ``early_stopping=True``, as scikit-learn's MLPs: "partial_fit
            does not support early_stopping=True". The exception is also an
            ``AttributeError``, raised on access: ``hasattr(est,
            "partial_fit")`` is False then, as it is for ``solver='lbfgs'``
            (an ``AttributeError`` only).

        Warns
        -----
        UserWarning
            With ``unlabeled_label=None``, if the chunk's ``y`` looks like
            scikit-learn's semi-supervised convention, as in :meth:`fit`.
        """
        labeled = self._labeled_rows(np.asarray(y))
        if labeled is not None:
            # Lengths are checked before the rows are selected by the mask.
            check_consistent_length(X, y)
            sample_weight = _check_weights(sample_weight, y)
            if classes is not None:
                classes = np.asarray(classes)
                classes = classes[classes != self.unlabeled_label]
            if not np.any(labeled):
                if "_network" in self.__dict__:
                    validate_data(self, X, reset=False, accept_sparse=False)
                return self  # nothing to fine-tune on in this chunk
            X = X.iloc[labeled] if hasattr(X, "iloc") else np.asarray(X)[labeled]
            y = np.asarray(y)[labeled]
            if sample_weight is not None:
                sample_weight = np.asarray(sample_weight)[labeled]
        return self._partial_fit_classifier(X, y, sample_weight, classes)

    def _labeled_rows(self, y):
        if self.unlabeled_label is None:
            _warn_if_semi_supervised(y)
            return None
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y)
        if y.ndim != 1:
            raise ValueError(
                "unlabeled_label marks rows of a 1-D y; multilabel targets have "
                "no unlabeled rows."
            )
        _check_unlabeled_type(y, self.unlabeled_label)
        return y != self.unlabeled_label


def _check_unlabeled_type(y, unlabeled_label):
    """Refuse an ``unlabeled_label`` that can never equal a label of ``y``.

    ``unlabeled_label="-1"`` with integer labels (or ``-1`` with string
    labels) would mark no row: every sample would count as labeled, with
    the unlabeled ones fitted as a class of their own, without a word.
    """
    is_text = isinstance(unlabeled_label, str)
    if isinstance(unlabeled_label, float) and np.isnan(unlabeled_label):
        raise ValueError(
            "unlabeled_label=nan can never equal a label of y (NaN equals "
            "nothing, not even NaN); mark the unlabeled rows with a number "
            "such as -1, or a string."
        )
    if y.dtype.kind == "S":
        raise ValueError(
            "y holds bytes labels, which no unlabeled_label (an int, float or "
            "str) can equal; decode them first (e.g. y.astype(str))."
        )
    if y.dtype.kind in "iufb":
        matches = not is_text
        kind = "numbers"
        if matches and y.dtype.kind in "ub":
            # A bool or unsigned y holds no negative value and, for bool,
            # nothing but 0 and 1.
            matches = unlabeled_label >= 0 and (
                y.dtype.kind == "u" or unlabeled_label in (0, 1))
            kind = f"{y.dtype} values"
    elif y.dtype.kind == "U":
        matches = is_text
        kind = "strings"
    else:  # object: compare with the types of the labels present
        types = {type(label) for label in y}
        text = {t for t in types if issubclass(t, str)}
        matches = bool(text) if is_text else bool(types - text)
        kind = "strings" if text == types else "numbers or other objects"
    if not matches:
        raise ValueError(
            f"unlabeled_label={unlabeled_label!r} (of type "
            f"{type(unlabeled_label).__name__}) can never equal a label of y, "
            f"whose labels are {kind}: "
            "no sample would be treated as unlabeled. Give it the type of "
            f"y's labels (e.g. unlabeled_label={_retyped(unlabeled_label)!r})."
        )


def _retyped(label):
    """``label`` as the other kind (a number for a string, and back)."""
    if not isinstance(label, str):
        return str(label)
    try:
        return int(label)
    except ValueError:
        try:
            return float(label)
        except ValueError:
            return -1


def _warn_if_semi_supervised(y):
    """Warn when ``y`` looks like it marks unlabeled rows with -1.

    scikit-learn's semi-supervised estimators mark unlabeled samples with -1
    among non-negative integer classes; with ``unlabeled_label=None`` they
    would be fitted, and predicted, as a class of their own. The labels are
    taken for that convention when they are -1 and at least two non-negative
    integers, and -1 is more than half of the rows or at least twice as
    frequent as any other label: a -1/1 binary problem never warns.
    """
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1 or y.dtype.kind not in "iuf":
        return
    labels, counts = np.unique(y, return_counts=True)
    is_unlabeled = labels == -1
    others = labels[~is_unlabeled]
    if (not is_unlabeled.any() or len(others) < 2 or np.any(others < 0)
            or np.any(others != np.round(others))):
        return
    n_unlabeled = int(counts[is_unlabeled][0])
    if 2 * n_unlabeled > len(y) or n_unlabeled >= 2 * counts[~is_unlabeled].max():
        warn(
            f"y has the label -1 on {n_unlabeled} of its {len(y)} samples, more "
            "than any other label, among non-negative integer classes: "
            "scikit-learn's convention for unlabeled samples. With "
            "unlabeled_label=None they are fitted, and predicted, as a class "
            "-1; pass unlabeled_label=-1 to use them for pre-training only (or "
            "ignore this warning if -1 is a class).",
            UserWarning,
        )


class StackedPretrainedRegressor(_PretrainMixin, MLPRegressor):
    _parameter_constraints: dict = {
        **MLPRegressor._parameter_constraints, **_PRETRAIN_CONSTRAINTS,
    }

    def __init__(
        self, loss="squared_error", hidden_layer_sizes=(100,), activation="logistic",
        *, pretrain_max_iter=10, pretrain_learning_rate_init=0.001,
        pretrain_corruption="masking", pretrain_corruption_level=0.0,
        pretrain_loss="auto", pretrain_tied_weights=True, solver="adam",
        alpha=0.0001, batch_size="auto", learning_rate="constant",
        learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
        random_state=None, tol=1e-4, verbose=False, warm_start=False,
        momentum=0.9, nesterovs_momentum=True, early_stopping=False,
        validation_fraction=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
        n_iter_no_change=10, max_fun=15000, l1_alpha=0.0, dropout=0.0,
        input_dropout=0.0, max_norm=None, batch_norm=False,
        batch_norm_momentum=0.9,
        batch_norm_statistics="running", min_learning_rate=1e-6, dtype="float32",
        scoring=None,
    ):
        self._store_parameters(locals())

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None,
            sample_weight_val=None):
        """Pre-train the hidden layers on ``X``, then fine-tune on ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in the pre-training and fine-tuning losses.
        X_val, y_val : array-like, default=None
            A validation set for fine-tuning, as in :class:`MLPRegressor`.
        sample_weight_val : array-like of shape (n_val_samples,), default=None
            Weights of the validation samples.

        Returns
        -------
        self : StackedPretrainedRegressor
            The fitted estimator.

        Raises
        ------
        sknets.exceptions.DivergenceError
            If the loss or the parameters become non-finite and the
            divergence guard cannot recover; a ``ValueError`` subclass.

        Warns
        -----
        sklearn.exceptions.ConvergenceWarning
            If fine-tuning stops at ``max_iter`` epochs (iterations for
            'lbfgs') or, for 'lbfgs', at ``max_fun`` loss evaluations, before
            converging.
        """
        return self._fit(X, y, sample_weight, X_val, y_val, sample_weight_val)


def _check_once(doc, piece):
    """Raise unless ``doc`` holds ``piece`` exactly once.

    The stacked estimators' docstrings are the MLPs' with pieces replaced;
    a piece that the MLP docstring no longer holds (or holds twice) raises
    here, at import, rather than leave the MLP's text, wrong for the stacked
    estimator, silently in place.
    """
    count = doc.count(piece)
    if count != 1:
        raise ValueError(
            f"The MLP docstring holds {count} copies of {piece!r}, not one: "
            "update the stacked estimators' docstrings (sknets/_pretrained.py)."
        )


def _replace_once(doc, old, new):
    """``doc`` with its one occurrence of ``old`` replaced by ``new``."""
    _check_once(doc, old)
    return doc.replace(old, new)


def _paragraph(doc, start):
    """The paragraph of ``doc`` that begins with ``start`` (found once)."""
    _check_once(doc, start)
    begin = doc.index(start)
    return doc[begin : doc.index("\n\n", begin)]


def _stacked_docstring(doc, replacements):
    """``doc`` with each ``(old, new)`` of ``replacements`` made once."""
    for old, new in replacements:
        doc = _replace_once(doc, old, new)
    return doc


_REFERENCES_EXTRA = """\
    Bengio, Y., Lamblin, P., Popovici, D. and Larochelle, H. (2007). Greedy
    layer-wise training of deep networks. NIPS.

    Vincent, P., Larochelle, H., Lajoie, I., Bengio, Y. and Manzagol, P.-A.
    (2010). Stacked denoising autoencoders. JMLR 11.

"""

_UNLABELED_PARAMETER = """\
    unlabeled_label : int, float, str or None, default=None
        The label that marks unlabeled samples, for semi-supervised use: they
        take part in pre-training only. -1 is scikit-learn's convention; it is
        not the default because -1 is also a common class label (binary
        problems coded -1/1), whose samples would then silently be dropped.
        With None, ``fit`` warns when ``y`` looks like that convention (see
        its Warns section).
"""

_SHARED = """\
    pretrain_loss_curves_ : list of list of float
        Pre-training loss of each epoch, one list per hidden layer (a single
        value per layer with ``solver='lbfgs'``).
"""


def _intro(kind, extra=""):
    return (
        f"    An {kind} whose hidden layers are first trained, one at a time, as\n"
        "    (denoising) autoencoders on the inputs, then fine-tuned together with\n"
        "    back-propagation; every option of the plain MLP applies to the\n"
        f"    fine-tuning.{extra}"
    )


def _common_replacements():
    """The pieces that both stacked estimators replace alike."""
    return [
        ("    Parameters\n    ----------\n",
         "    Parameters\n    ----------\n" + _PRETRAIN_PARAMETERS + "\n"),
        # A warm start that continues fine-tuning does not pre-train again
        # (see _PretrainMixin._continues).
        ("        ``min_learning_rate`` was changed.\n",
         "        ``min_learning_rate`` was changed. A fit that continues from the\n"
         "        fitted weights does not pre-train again.\n"),
        ("    Notes\n    -----\n", _PRETRAIN_NOTES + "\n    Fine-tuning:\n"),
        ("default='relu'", "default='logistic'"),
        ("    Examples\n", _REFERENCES_EXTRA + "    Examples\n"),
    ]


_MLP_CLASSIFIER_DOC = MLPClassifier.__doc__
StackedPretrainedClassifier.__doc__ = _stacked_docstring(
    _MLP_CLASSIFIER_DOC,
    [
        ("Multi-layer perceptron classifier with the full training recipe.",
         "Classifier pre-trained layer by layer as autoencoders, then "
         "fine-tuned."),
        (_paragraph(_MLP_CLASSIFIER_DOC, "    A drop-in superset"),
         _intro("MLP classifier",
                " With ``unlabeled_label``, unlabeled samples\n"
                "    take part in the pre-training too.")),
        ("    Attributes\n    ----------\n",
         _UNLABELED_PARAMETER + "\n    Attributes\n    ----------\n" + _SHARED
         + "\n"),
        *_common_replacements(),
        # scikit-learn's MLPClassifier is what the plain MLP extends, not this.
        ("    sklearn.neural_network.MLPClassifier : scikit-learn's estimator, "
         "which\n        this one extends.\n"
         "    MLPRegressor : The same network for regression.\n",
         "    MLPClassifier : The same network, without pre-training.\n"
         "    AutoencoderTransformer : The autoencoder that pre-trains each "
         "hidden\n        layer.\n"
         "    StackedPretrainedRegressor : The same for regression.\n"),
        ("MLPClassifier(", "StackedPretrainedClassifier("),
        ("from sknets import MLPClassifier",
         "from sknets import StackedPretrainedClassifier"),
    ],
)

_MLP_REGRESSOR_DOC = MLPRegressor.__doc__
StackedPretrainedRegressor.__doc__ = _stacked_docstring(
    _MLP_REGRESSOR_DOC,
    [
        ("Multi-layer perceptron regressor with the full training recipe.",
         "Regressor pre-trained layer by layer as autoencoders, then "
         "fine-tuned."),
        # No unlabeled samples here: every row of fit has a target.
        (_paragraph(_MLP_REGRESSOR_DOC, "    A drop-in superset"),
         _intro("MLP regressor")),
        ("    Attributes\n    ----------\n",
         "    Attributes\n    ----------\n" + _SHARED + "\n"),
        *_common_replacements(),
        ("    sklearn.neural_network.MLPRegressor : scikit-learn's estimator, "
         "which\n        this one extends.\n"
         "    MLPClassifier : The same network for classification.\n",
         "    MLPRegressor : The same network, without pre-training.\n"
         "    AutoencoderTransformer : The autoencoder that pre-trains each "
         "hidden\n        layer.\n"
         "    StackedPretrainedClassifier : The same for classification.\n"),
        ("MLPRegressor(", "StackedPretrainedRegressor("),
        ("from sknets import MLPRegressor",
         "from sknets import StackedPretrainedRegressor"),
    ],
)
