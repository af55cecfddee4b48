"""Multi-layer perceptron estimators: classifier and regressor."""

from numbers import Number

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import column_or_1d

from ._base import BaseMLP, partial_fit_method
from ._sklearn_compat import StrOptions, _fit_context
from ._solvers import fill_docs

# Parameter documentation shared by both estimators.
_COMMON_PARAMETERS = """\
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of units of the ith hidden layer.

    activation : {'identity', 'logistic', 'tanh', 'relu'}, default='relu'
        Hidden-layer non-linearity.

    solver : {solver_options}, default='adam'
        Optimiser:

{solver_list}

    alpha : float, default=0.0001
        Strength of the L2 penalty (weight decay) on the weights, not the
        biases; divided by the minibatch size as in scikit-learn.

    batch_size : int or 'auto', default='auto'
        Minibatch size; 'auto' is ``min(200, n_samples)``. Unused by 'lbfgs'.

    learning_rate : {learning_rate_options}, \
            default='constant'
{schedule_solvers}

{schedule_list}

        The monitored quantity is the validation score (or loss, see
        ``scoring``) when a validation set is used (``early_stopping=True`` or
        ``X_val`` given), otherwise the training loss.

    learning_rate_init : float, default=0.001
        Initial learning rate.

{hyperparameter:power_t}

    max_iter : int, default=200
        Maximum number of epochs ('lbfgs': iterations).

    shuffle : bool, default=True
        Whether to shuffle the training rows before each epoch.

    random_state : int, RandomState instance or None, default=None
        Seeds every random choice: initial weights, validation split,
        shuffling and dropout masks. An int gives reproducible fits.

    tol : float, default=1e-4
        Minimum improvement of the monitored quantity; see ``n_iter_no_change``.

    verbose : bool, default=False
        Print one progress line per epoch.

    warm_start : bool, default=False
        On the next ``fit``, continue from the fitted weights when the network
        shape is unchanged, and from the optimiser's state (velocity,
        accumulators) when the solver is unchanged (scikit-learn resets it).
        The schedule, with the rate it has reached, carries over unless one
        of ``learning_rate``, ``learning_rate_init``, ``power_t`` or
        ``min_learning_rate`` was changed.

{hyperparameter:momentum}

{hyperparameter:nesterovs_momentum}

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified for
        classifiers, so a class with a single sample is an error, as in
        scikit-learn) and stop when the validation score (accuracy, or R^2
        for regressors; see ``scoring``) has not improved by ``tol`` for
        ``n_iter_no_change`` epochs; the best epoch's parameters are
        restored. ``partial_fit`` is then unavailable.

    validation_fraction : float, default=0.1
        Fraction of the training data held out when ``early_stopping=True``
        (at least 2 samples when there are 4 or more).

{hyperparameter:beta_1}

{hyperparameter:beta_2}

{hyperparameter:epsilon}

    n_iter_no_change : int, default=10
        Patience: epochs without improvement by ``tol`` before stopping, or
        before a plateau-driven schedule lowers the rate.

{hyperparameter:max_fun}

    l1_alpha : float, default=0.0
        Strength of an L1 penalty on the weights, scaled like ``alpha``.

    dropout : float, default=0.0
        Probability of zeroing each hidden unit during training (0.5 is the
        classic choice). Never applied at predict time.

    input_dropout : float, default=0.0
        Probability of zeroing each input feature during training (0.2 is
        usual).

    max_norm : float, default=None
        Max-norm regularisation: after every update, each hidden unit's
        incoming weight vector is scaled back to an L2 norm of ``max_norm``
        if it has grown beyond it (3 to 4 is usual with dropout, where it
        allows large learning rates). None leaves the weights free. Needs a
        stochastic solver; the output layer is not constrained.

    batch_norm : bool, default=False
        Normalise each hidden layer's pre-activations over the minibatch,
        with a learned scale and shift.

    batch_norm_momentum : float, default=0.9
        Decay of the running averages of the batch-norm statistics.

    batch_norm_statistics : {'running', 'exact'}, default='running'
        Population statistics used at predict time: the running averages, or
        the exact mean and variance from a final pass over the training data.
        'exact' applies to ``fit`` only: a chunk given to ``partial_fit`` is
        not the data set, so ``partial_fit`` updates the running averages
        (with ``batch_norm_momentum``, starting from the statistics of the
        last ``fit``, exact or not) as with 'running'.

{hyperparameter:min_learning_rate}

    dtype : {'float32', 'float64'}, default='float32'
        Precision of the parameters and of all computation.

    scoring : None or 'loss', default=None
        What a validation set is judged by: None, the estimator's score
        (accuracy or R^2, what scikit-learn's MLP monitors), or 'loss', the
        validation loss. It drives early stopping, the plateau schedules and
        the choice of the best epoch.
"""

_COMMON_ATTRIBUTES = """\
    loss_ : float
        Training loss (with penalty) of the last epoch.

    best_loss_ : float or None
        Lowest training loss; None when a validation set is used.

    loss_curve_ : list of float
        Training loss of each epoch.

    validation_scores_ : list of float or None
        Validation score of each epoch; None without a validation set.

    best_validation_score_ : float or None
        Validation score of the returned model (the best epoch's); None
        without a validation set. With ``batch_norm_statistics='exact'`` the
        epochs are scored with the running statistics, and this is the score
        after the exact pass.

    history_ : list of dict
        Per epoch: ``epoch``, ``train_loss``, ``learning_rate``, ``seconds``,
        and ``val_loss``, ``val_score`` with a validation set.

    t_ : int
        Training samples seen (the time of the 'invscaling' schedule).

    coefs_ : list of ndarray
        ``coefs_[i]`` is the weight matrix from layer i to layer i + 1.

    intercepts_ : list of ndarray
        ``intercepts_[i]`` is the bias vector of layer i + 1.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names seen during fit, when X has string column names.

    n_iter_ : int
        Epochs run ('lbfgs': iterations).

    n_layers_ : int
        Number of layers, input and output included.

    n_outputs_ : int
        Number of output units.
"""

_REFERENCES = """\
    References
    ----------
    Srivastava, N., Hinton, G., Krizhevsky, A., Sutskever, I. and
    Salakhutdinov, R. (2014). Dropout: a simple way to prevent neural networks
    from overfitting. JMLR 15.

    Ioffe, S. and Szegedy, C. (2015). Batch normalization: accelerating deep
    network training by reducing internal covariate shift. ICML.

    Duchi, J., Hazan, E. and Singer, Y. (2011). Adaptive subgradient methods
    for online learning and stochastic optimization. JMLR 12.
"""

_FIT_PARAMETERS = """\
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data (dense, CSR or CSC; a DataFrame keeps its feature
            names).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values."""


def _check_label_types(labels, name="y"):
    """Class labels must be all strings or all numbers, so that they sort."""
    labels = np.asarray(labels)
    if labels.dtype != object:
        return
    kinds = {
        "string" if isinstance(v, str)
        else "number" if isinstance(v, (Number, np.number, np.bool_))
        else type(v).__name__
        for v in labels.ravel()
    }
    if len(kinds) > 1:
        # scikit-learn's wording; its own estimators fail here in np.unique.
        raise ValueError(
            f"Mix of label input types ({' and '.join(sorted(kinds))}) in "
            f"{name}: the class labels must be all strings or all numbers."
        )


def _docstring(template):
    """Fill the shared sections into a class docstring, and the solvers'
    and schedules' text from their registry."""
    return fill_docs(template.replace("{common_parameters}", _COMMON_PARAMETERS)
                     .replace("{common_attributes}", _COMMON_ATTRIBUTES)
                     .replace("{references}", _REFERENCES))


class MLPClassifier(ClassifierMixin, BaseMLP):
    _parameter_constraints: dict = {
        **BaseMLP._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
        alpha=0.0001, batch_size="auto", learning_rate="constant",
        learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
        random_state=None, tol=1e-4, verbose=False, warm_start=False,
        momentum=0.9, nesterovs_momentum=True, early_stopping=False,
        validation_fraction=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
        n_iter_no_change=10, max_fun=15000, l1_alpha=0.0, dropout=0.0,
        input_dropout=0.0, max_norm=None, batch_norm=False,
        batch_norm_momentum=0.9,
        batch_norm_statistics="running", min_learning_rate=1e-6, dtype="float32",
        scoring=None, class_weight=None,
    ):
        self._store_parameters(locals())

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None,
            sample_weight_val=None):
        """Fit the network to ``X`` and class labels ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data (dense, CSR or CSC; a DataFrame keeps its feature
            names).
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a label indicator matrix for multilabel targets.
            A single class is fitted, as by scikit-learn: ``predict``
            returns it.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the training samples in the loss, the validation split
            and the validation score (multiplied by the class weights).
        X_val, y_val : array-like, default=None
            A validation set of your own (instead of the held-out
            ``validation_fraction``): its score is recorded each epoch,
            drives early stopping and plateau schedules, and the best epoch's
            parameters are restored at the end.
        sample_weight_val : array-like of shape (n_val_samples,), default=None
            Weights of the validation samples.

        Returns
        -------
        self : MLPClassifier
            The fitted estimator.

        Raises
        ------
        ValueError
            If ``early_stopping=True`` and a class has a single sample, so
            that the validation split cannot be stratified (the error of
            :func:`~sklearn.model_selection.train_test_split`, as in
            scikit-learn).
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
        return self._fit(X, y, sample_weight, X_val, y_val, sample_weight_val)

    @partial_fit_method
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch of training on ``(X, y)``, continuing where the last left.

        The weights and the optimiser's state (velocity, accumulators, learning
        rate) carry over from the previous call, so calling it on successive
        chunks streams a data set that does not fit in memory. No validation
        set and no stopping rule are used, and no exact batch-norm pass: with
        ``batch_norm_statistics='exact'`` too, the chunk updates the running
        averages of the batch-norm statistics. The fitted arrays are updated
        in place (``coefs_`` arrays held before the call change with it, as
        with scikit-learn's MLP); a call that fails leaves the model as it
        was.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Its class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in the loss.
        classes : array-like of shape (n_classes,), default=None
            Every class of the problem; required on the first call (``y`` need
            not contain all of them), ignored afterwards.

        Returns
        -------
        self : MLPClassifier
            The updated estimator.

        Raises
        ------
        ValueError
            With ``early_stopping=True``, as scikit-learn: "partial_fit does
            not support early_stopping=True". The exception is also an
            ``AttributeError``, raised on access: ``hasattr(est,
            "partial_fit")`` is False then, as it is for ``solver='lbfgs'``
            (an ``AttributeError`` only).
        """
        return self._partial_fit_classifier(X, y, sample_weight, classes)

    def _partial_fit_classifier(self, X, y, sample_weight, classes):
        first = "_network" not in self.__dict__
        if first and classes is None:
            raise ValueError(
                "classes must be passed on the first call to partial_fit."
            )
        if (not first and classes is not None
                and self._label_binarizer.y_type_ != "multilabel-indicator"
                and not np.array_equal(np.unique(classes), self.classes_)):
            raise ValueError(
                f"`classes={classes!r}` is not the same as on the first call to "
                f"partial_fit, was: {self.classes_!r}."
            )
        if self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' is not supported by partial_fit, since "
                "a chunk's class frequencies are not the data set's; pass the "
                "weights as a dict."
            )
        return self._partial_fit(X, y, sample_weight, classes)

    def _encode_targets(self, y, fitting, classes=None):
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=fitting)
        _check_label_types(y)
        if fitting:
            if classes is not None:
                _check_label_types(classes, "classes")
            check_classification_targets(y)
            multilabel = type_of_target(y).startswith("multilabel")
            # For multilabel targets the label set is y's columns.
            binarizer = LabelBinarizer().fit(
                y if classes is None or multilabel else classes
            )
            if (self.warm_start and "classes_" in self.__dict__
                    and not np.array_equal(binarizer.classes_, self.classes_)):
                raise ValueError(
                    "warm_start can only be used where `y` has the same classes "
                    f"as in the previous call to fit. Previously got "
                    f"{self.classes_}, `y` has {binarizer.classes_}."
                )
            self._label_binarizer = binarizer
            self.classes_ = binarizer.classes_
        if self._label_binarizer.y_type_ != "multilabel-indicator":
            unseen = np.setdiff1d(np.unique(y), self.classes_)
            if unseen.size:
                raise ValueError(
                    f"y contains labels not seen in the classes the model was "
                    f"fitted with ({self.classes_.tolist()}): {unseen.tolist()}."
                )
        Y = self._label_binarizer.transform(y)
        return np.asarray(Y, dtype=np.dtype(self.dtype))

    def _effective_sample_weight(self, y, sample_weight, fitting=False):
        if self.class_weight is None:
            return sample_weight
        if self._label_binarizer.y_type_ == "multilabel-indicator":
            raise ValueError("class_weight is not supported for multilabel targets.")
        # A column vector is a 1-D target (compute_class_weight of
        # scikit-learn 1.6 cannot hash its rows).
        y = column_or_1d(y)
        if fitting:
            # From this fit's labels ('balanced'), kept for validation labels.
            self._class_weight = compute_class_weight(
                self.class_weight, classes=self.classes_, y=y
            )
        weights = self._class_weight[np.searchsorted(self.classes_, y)]
        if sample_weight is None:
            return weights.astype(np.float64)
        return sample_weight * weights

    def _loss_name(self):
        if self._label_binarizer.y_type_ == "multiclass":
            return "softmax_log_loss"
        return "logistic_log_loss"

    def _stratify(self, y):
        if self._label_binarizer.y_type_ == "multilabel-indicator":
            return None
        return y

    def _score_outputs(self, Y, outputs, sample_weight):
        if self._loss_name() == "softmax_log_loss":
            correct = outputs.argmax(axis=1) == Y.argmax(axis=1)
        else:
            correct = np.all((outputs > 0.5) == (Y > 0.5), axis=1)
        return float(np.average(correct, weights=sample_weight))

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Predicted labels (an indicator matrix for multilabel targets).
        """
        outputs = self._forward(X)
        if self.n_outputs_ == 1:
            outputs = outputs.ravel()
        return self._label_binarizer.inverse_transform(outputs)

    def predict_proba(self, X):
        """Probability estimates.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Class probabilities, columns in the order of ``classes_``
            (independent label probabilities for multilabel targets); float32
            for float32 input, float64 otherwise. A model fitted on a single
            class has two columns, as scikit-learn's: that class's
            probability, then its complement.
        """
        outputs = self._forward(X)
        if self.n_outputs_ == 1 and self._label_binarizer.y_type_ == "binary":
            outputs = np.hstack([1 - outputs, outputs])
        return outputs

    def predict_log_proba(self, X):
        """Logarithm of the probability estimates.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            ``log(predict_proba(X))``.
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


MLPClassifier.__doc__ = _docstring(
    """Multi-layer perceptron classifier with the full training recipe.

    A drop-in superset of :class:`sklearn.neural_network.MLPClassifier`:
    every parameter of scikit-learn's estimator keeps its name, meaning and
    default, and new ones add the techniques it lacks (Adagrad, learning-rate
    halving on a validation plateau, dropout, batch normalisation, an L1
    penalty, float32 computation, class weights, a user-given validation set).

    Parameters
    ----------
{common_parameters}
    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes in the loss, multiplying ``sample_weight``:
        a dict ``{label: weight}``, or 'balanced' for
        ``n_samples / (n_classes * np.bincount(y))``. Not for multilabel
        targets.

    Attributes
    ----------
    classes_ : ndarray or list of ndarray
        Class labels.

{common_attributes}
    out_activation_ : str
        Output non-linearity: 'softmax' or 'logistic'.

    See Also
    --------
    sklearn.neural_network.MLPClassifier : scikit-learn's estimator, which
        this one extends.
    MLPRegressor : The same network for regression.

    Notes
    -----
    The network computes ``h_0 = x``, ``h_l = g(BN(h_{l-1} W_l + b_l))`` for the
    hidden layers (batch normalisation optional, dropout on ``h_l`` in
    training) and ``p = softmax(h_{L-1} W_L + b_L)`` (logistic for binary and
    multilabel targets). It minimises the mean log-loss plus
    ``(alpha / 2 |W|^2 + l1_alpha |W|_1) / n_batch``. Because the output
    non-linearity is fused with the log-loss, the gradient at the output
    pre-activation is ``p - y``.

{references}
    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sknets import MLPClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(), MLPClassifier(
    ...     hidden_layer_sizes=(64,), solver="sgd", learning_rate_init=0.1,
    ...     dropout=0.2, early_stopping=True, random_state=0)).fit(X, y)
    >>> clf.score(X, y) > 0.95
    True
    """)


class MLPRegressor(RegressorMixin, BaseMLP):
    _parameter_constraints: dict = {
        **BaseMLP._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson"})],
    }
    _y_numeric = True

    def __init__(
        self, loss="squared_error", hidden_layer_sizes=(100,), activation="relu",
        *, solver="adam", alpha=0.0001, batch_size="auto",
        learning_rate="constant", learning_rate_init=0.001, power_t=0.5,
        max_iter=200, shuffle=True, random_state=None, tol=1e-4, verbose=False,
        warm_start=False, momentum=0.9, nesterovs_momentum=True,
        early_stopping=False, validation_fraction=0.1, beta_1=0.9, beta_2=0.999,
        epsilon=1e-8, n_iter_no_change=10, max_fun=15000, l1_alpha=0.0,
        dropout=0.0, input_dropout=0.0, max_norm=None, batch_norm=False,
        batch_norm_momentum=0.9,
        batch_norm_statistics="running", min_learning_rate=1e-6, dtype="float32",
        scoring=None,
    ):
        self._store_parameters(locals())

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None,
            sample_weight_val=None):
        """Fit the network to ``X`` and real-valued targets ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data (dense, CSR or CSC; a DataFrame keeps its feature
            names).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values (non-negative for ``loss='poisson'``).
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the training samples in the loss, the validation split
            and the validation score.
        X_val, y_val : array-like, default=None
            A validation set of your own (instead of the held-out
            ``validation_fraction``): its R^2 (or loss) is recorded each
            epoch, drives early stopping and plateau schedules, and the best
            epoch's parameters are restored at the end.
        sample_weight_val : array-like of shape (n_val_samples,), default=None
            Weights of the validation samples.

        Returns
        -------
        self : MLPRegressor
            The fitted estimator.

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
        return self._fit(X, y, sample_weight, X_val, y_val, sample_weight_val)

    @partial_fit_method
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch of training on ``(X, y)``, continuing where the last left.

        The weights and the optimiser's state carry over from the previous
        call; no validation set and no stopping rule are used, and no exact
        batch-norm pass: with ``batch_norm_statistics='exact'`` too, the chunk
        updates the running averages of the batch-norm statistics.
        The fitted arrays are updated in place (``coefs_`` arrays
        held before the call change with it, as with scikit-learn's MLP); a
        call that fails leaves the model as it was.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Its targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in the loss.

        Returns
        -------
        self : MLPRegressor
            The updated estimator.

        Raises
        ------
        ValueError
            With ``early_stopping=True``, as scikit-learn: "partial_fit does
            not support early_stopping=True". The exception is also an
            ``AttributeError``, raised on access: ``hasattr(est,
            "partial_fit")`` is False then, as it is for ``solver='lbfgs'``
            (an ``AttributeError`` only).
        """
        return self._partial_fit(X, y, sample_weight)

    def _encode_targets(self, y, fitting, classes=None):
        y = np.asarray(y, dtype=np.float64)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=fitting)
        if not np.all(np.isfinite(y)):
            raise ValueError("Input y contains NaN or infinity.")
        if self.loss == "poisson" and np.any(y < 0):
            raise ValueError(
                "Some value(s) of y are negative which is not allowed for "
                "Poisson regression."
            )
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        return Y.astype(np.dtype(self.dtype))

    def _loss_name(self):
        return self.loss

    def _score_outputs(self, Y, outputs, sample_weight):
        return _r2(Y, outputs, sample_weight)

    def predict(self, X):
        """Predict target values.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predicted values; float32 for float32 input, float64 otherwise.
        """
        outputs = self._forward(X)
        return outputs.ravel() if self.n_outputs_ == 1 else outputs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        if self.loss == "poisson":
            tags.target_tags.positive_only = True
        return tags


def _r2(Y, outputs, sample_weight):
    """R^2 averaged over outputs, as ``sklearn.metrics.r2_score`` computes it."""
    Y = Y.astype(np.float64)
    w = np.ones(len(Y)) if sample_weight is None else sample_weight
    residual = w @ (Y - outputs) ** 2
    mean = (w @ Y) / w.sum()
    total = w @ (Y - mean) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(total > 0, 1 - residual / total,
                      np.where(residual > 0, 0.0, 1.0))
    return float(np.mean(r2))


MLPRegressor.__doc__ = _docstring(
    """Multi-layer perceptron regressor with the full training recipe.

    A drop-in superset of :class:`sklearn.neural_network.MLPRegressor`, with
    the same additions as :class:`MLPClassifier`. Single- and multi-output
    targets; squared error with an identity output, or the Poisson loss with
    an exponential output for counts.

    Parameters
    ----------
    loss : {'squared_error', 'poisson'}, default='squared_error'
        The loss and output non-linearity: squared error with an identity
        output, or half the Poisson deviance with ``exp`` output (targets must
        be non-negative).

{common_parameters}
    Attributes
    ----------
{common_attributes}
    out_activation_ : str
        Output non-linearity: 'identity' or 'exp'.

    See Also
    --------
    sklearn.neural_network.MLPRegressor : scikit-learn's estimator, which
        this one extends.
    MLPClassifier : The same network for classification.

    Notes
    -----
    With ``loss='squared_error'`` the network minimises the sample-weighted
    mean over rows of ``1/2 sum_k (y_k - f_k(x))^2`` plus the penalties; the
    gradient at the output is ``f(x) - y``. scikit-learn's ``loss_`` for
    several outputs also divides by their number; sknets' is the loss whose
    gradient is followed (the same gradient as scikit-learn's).

{references}
    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sknets import MLPRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = make_pipeline(StandardScaler(), MLPRegressor(
    ...     hidden_layer_sizes=(32,), solver="lbfgs", alpha=1.0,
    ...     random_state=0)).fit(X, y / 100)
    >>> reg.score(X, y / 100) > 0.5
    True
    """)
