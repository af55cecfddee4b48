"""What every sknets network estimator shares.

Parameter rules, data validation, turning flat parameters into engine
objects, running the engine, and copying its result into scikit-learn-named
fitted attributes. Data flows one way: validate, encode, build, train,
record.
"""

import contextlib
import copy
import functools
import re
import types
from abc import ABCMeta, abstractmethod
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from . import _solvers
from ._callbacks import EpochTasks, fit_tasks
from ._config import prediction_ops, training_ops
from ._engine.checkpoint import Checkpoint
from ._engine.errors import DivergenceError, warn
from ._engine.network import as_network_input, build_mlp
from ._engine.trainer import Minibatches, Trainer, Validation, train_lbfgs
from ._persistence import get_state, set_state
from ._sklearn_compat import (
    CallbackSupportMixin,
    Interval,
    Options,
    StrOptions,
    _check_sample_weight,
    validate_data,
    with_callbacks,
)
from .exceptions import PartialFitUnavailableError

# Training rows the dead-unit check of a finished fit looks at (at least
# _DEAD_CHECK_MIN of them, or none: on a handful of rows a unit can be
# inactive everywhere by chance).
_DEAD_CHECK_ROWS = 1024
_DEAD_CHECK_MIN = 100


def _mostly_dead(values):
    """Units (columns) at most 0 on every row, counted if more than half.

    ``values`` are relu outputs or pre-activations (the same test); returns 0
    when at most half of the units are dead.
    """
    n_dead = int(np.count_nonzero(values.max(axis=0) <= 0))
    return n_dead if 2 * n_dead > values.shape[1] else 0


# Outputs beyond which a bounded unit counts as saturated: (low, high) ends.
_SATURATION = {"tanh": (-0.99, 0.99), "logistic": (0.01, 0.99)}


def _mostly_saturated(values, low, high):
    """Units (columns) beyond the same end of their range on every row,
    counted if more than half: such a unit outputs one value whatever the
    input (as a dead relu does), and its gradient is almost zero."""
    stuck = (values.min(axis=0) > high) | (values.max(axis=0) < low)
    n_stuck = int(np.count_nonzero(stuck))
    return n_stuck if 2 * n_stuck > values.shape[1] else 0


def _check_hidden_layer_sizes(sizes):
    """Tuple of positive ints, or a ValueError that names the problem."""
    if isinstance(sizes, Integral) and not isinstance(sizes, bool):
        sizes = [sizes]
    sizes = list(sizes)
    bad = [
        s for s in sizes
        if isinstance(s, bool) or not isinstance(s, (Integral, np.integer)) or s < 1
    ]
    if bad:
        raise ValueError(
            "hidden_layer_sizes must contain positive integers (the number of "
            f"units of each hidden layer), got {sizes!r}."
        )
    return tuple(int(s) for s in sizes)


def _check_validation_weight(sample_weight):
    if sample_weight is not None and not np.any(sample_weight > 0):
        raise ValueError(
            "The sample weights of the validation set sum to zero, so it cannot "
            "score the model; give its samples positive weights."
        )


def _assign_arrays(targets, values):
    """Copy ``values`` into the parameter views ``targets``, all or nothing."""
    values = [np.asarray(value) for value in values]
    if len(values) != len(targets):
        raise ValueError(f"Expected {len(targets)} arrays, got {len(values)}.")
    # Check every shape before writing anything.
    for target, value in zip(targets, values, strict=True):
        if value.shape != target.shape:
            raise ValueError(
                f"Expected an array of shape {target.shape}, got {value.shape}."
            )
    for target, value in zip(targets, values, strict=True):
        target[...] = value


def _check_weights(sample_weight, X):
    """Validated non-negative float64 sample weights, or None."""
    if sample_weight is None:
        return None
    sample_weight = _check_sample_weight(
        sample_weight, X, dtype=np.float64, ensure_non_negative=True
    )
    # scikit-learn checks this itself from 1.7 on (these are its words).
    if not np.any(sample_weight):
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return sample_weight


def _network_input(X, dtype, name="X"):
    """``X`` cast to the network's dtype, or a ValueError if a value overflows.

    Validation checked ``X`` in its own precision: a float64 value beyond
    float32's range would silently become inf in a float32 network, and NaN
    further on.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        X_net = as_network_input(X, dtype)
        values = X_net.data if sp.issparse(X_net) else X_net
        # A float64 sum of finite float32 values cannot overflow.
        overflow = X.dtype.itemsize > X_net.dtype.itemsize and not np.isfinite(
            np.sum(values, dtype=np.float64)
        )
    if overflow:
        raise ValueError(
            f"Input {name} contains a value too large for dtype("
            f"'{X_net.dtype}'), the network's dtype (|x| > "
            f"{np.finfo(X_net.dtype).max:.3g}); scale the data (e.g. "
            "StandardScaler) or use dtype='float64'."
        )
    return X_net


def _check_finite_outputs(outputs, dtype, what="outputs"):
    """Raise a ValueError rather than return overflowed (inf or NaN) outputs."""
    if not np.all(np.isfinite(outputs)):
        raise ValueError(
            f"Non-finite {what}: the network overflows {np.dtype(dtype)} on "
            "this input, whose values are far outside the range of the "
            "training data. Scale it as the training data was scaled, or use "
            "dtype='float64'."
        )
    return outputs


@contextlib.contextmanager
def _naming(name, new_name):
    """Re-raise a check's ValueError or TypeError about ``name`` as one
    about ``new_name``: the validation set's checks reuse the training
    set's, whose messages name ``X``, ``y`` or ``sample_weight`` at their
    start (``"X has 3 features..."``, ``"Input y contains NaN"``) or in
    backquotes. Nothing else in the message (labels, values) is touched."""
    try:
        yield
    except (ValueError, TypeError) as exc:
        text = str(exc)
        word = re.escape(name) + r"(?!\w)"
        message = re.sub(rf"^(Input )?{word}", rf"\g<1>{new_name}", text, count=1)
        message = message.replace(f"`{name}`", f"`{new_name}`")
        if name == "sample_weight":
            message = re.sub(r"^Sample weights", new_name, message, count=1)
        renamed = None
        if message != text:
            try:
                renamed = type(exc)(message)
            except Exception:  # an exception class with another signature
                renamed = None
        if renamed is None:
            raise
        raise renamed from exc


# A validation set looks preprocessed differently from the training set when
# on more than half of the features judged its mean is this many training
# standard deviations away, or its spread this many times larger or smaller
# (rows sampled evenly, at most _SCALE_CHECK_ROWS of each). Judged: features
# that vary in X and are non-zero on at least _SCALE_CHECK_SUPPORT rows of
# both samples (or on all of them, when fewer), so that rare one-hot or
# bag-of-words columns, whose sample moments are noise, decide nothing.
_SCALE_CHECK_ROWS = 1000
_SCALE_CHECK_SHIFT = 3.0
_SCALE_CHECK_RATIO = 4.0
_SCALE_CHECK_MIN_SPREAD = 30  # rows of X_val below which spreads are noise
_SCALE_CHECK_SUPPORT = 10
_SCALE_CHECK_BLOCK = 2048  # columns at a time (wide dense data)


def _column_moments(X):
    """Per-column mean, standard deviation and non-zero count of up to 1000
    evenly spaced rows of ``X`` (float64, a block of columns at a time)."""
    if X.shape[0] > _SCALE_CHECK_ROWS:
        X = X[np.linspace(0, X.shape[0] - 1, _SCALE_CHECK_ROWS).astype(int)]
    if sp.issparse(X):
        X = sp.csr_matrix(X, dtype=np.float64)
        mean = np.asarray(X.mean(axis=0)).ravel()
        square = np.asarray(X.multiply(X).mean(axis=0)).ravel()
        nonzero = np.bincount(X.indices[X.data != 0], minlength=X.shape[1])
    else:
        mean, square, nonzero = (np.empty(X.shape[1]) for _ in range(3))
        for start in range(0, X.shape[1], _SCALE_CHECK_BLOCK):
            cols = slice(start, start + _SCALE_CHECK_BLOCK)
            block = np.asarray(X[:, cols], dtype=np.float64)
            mean[cols] = block.mean(axis=0)
            square[cols] = np.mean(block * block, axis=0)
            nonzero[cols] = np.count_nonzero(block, axis=0)
    return mean, np.sqrt(np.maximum(square - mean * mean, 0.0)), nonzero


def _warn_if_rescaled(X, X_val):
    """Warn when ``X_val`` is clearly on another scale than ``X``.

    The classic case: in a ``Pipeline``, ``fit(X, y, mlp__X_val=...)`` hands
    the network raw validation data while it trains on scaled data, and that
    wrong validation score then decides when training stops. Compared per
    feature on at most 1000 evenly spaced rows of each (cheap next to a fit);
    features constant in training, or too rarely non-zero in either sample
    to have meaningful moments, are left out, and fewer than 2 validation
    rows are not checked.
    """
    n_val = X_val.shape[0]
    if n_val < 2:
        return
    with np.errstate(over="ignore", invalid="ignore"):
        mean, std, nonzero = _column_moments(X)
        mean_val, std_val, nonzero_val = _column_moments(X_val)
        varies = std > 1e-6 * np.maximum(np.abs(mean), 1.0)
        n_rows = min(X.shape[0], _SCALE_CHECK_ROWS)
        judged = (varies & (nonzero >= min(_SCALE_CHECK_SUPPORT, n_rows))
                  & (nonzero_val >= min(_SCALE_CHECK_SUPPORT, n_val)))
        if np.count_nonzero(judged) < min(3, np.count_nonzero(varies)) or not (
                np.any(judged)):
            return
        shift = np.abs(mean_val - mean)[judged] / std[judged]
        ratio = std_val[judged] / std[judged]
        off = shift > _SCALE_CHECK_SHIFT
        if n_val >= _SCALE_CHECK_MIN_SPREAD:
            off |= (ratio > _SCALE_CHECK_RATIO) | (ratio < 1 / _SCALE_CHECK_RATIO)
    if 2 * np.count_nonzero(off) > off.size:
        warn(
            f"X_val looks preprocessed differently from X: on {int(off.sum())} "
            f"of the {off.size} features compared, its mean is more than "
            f"{_SCALE_CHECK_SHIFT:g} standard deviations of X away from X's, or "
            f"its spread more than {_SCALE_CHECK_RATIO:g} times larger or "
            "smaller (median shift "
            f"{np.median(shift):.3g} standard deviations, median spread ratio "
            f"{np.median(ratio):.3g}). Training would be validated, and "
            "stopped, on data it does not see at predict time. In a Pipeline, "
            "`fit(X, y, mlp__X_val=X_val)` passes X_val untransformed: enable "
            "metadata routing, request X_val and y_val with "
            "set_fit_request(X_val=True, y_val=True) and build the pipeline "
            "with transform_input=['X_val'] so the steps before the network "
            "transform it (see the user guide's early-stopping chapter).",
            UserWarning,
        )


class _ParameterList(list):
    """List of views into the flat buffer; item assignment copies into it."""

    def __setitem__(self, index, value):
        if isinstance(index, slice):
            raise TypeError("Assign the arrays one at a time, or the whole list.")
        target = self[index]
        value = np.asarray(value)
        if value.shape != target.shape:
            raise ValueError(
                f"Expected an array of shape {target.shape}, got {value.shape}."
            )
        target[...] = value


class partial_fit_method:
    """Decorator of ``partial_fit``: hidden where it cannot run.

    As ``sklearn.utils.metaestimators.available_if``, except that accessing
    the method raises :meth:`BaseMLP._check_partial_fit`'s exception itself
    (``available_if`` turns every exception into a plain AttributeError).
    """

    def __init__(self, fn):
        self.fn = fn
        functools.update_wrapper(self, fn)

    def __get__(self, obj, owner=None):
        if obj is None:
            return self.fn
        obj._check_partial_fit()
        return types.MethodType(self.fn, obj)


@dataclass(frozen=True)
class TrainingOptions:
    """What an estimator's own parameters ask of the training loop.

    The defaults are those of a network without the MLP's regularisers (an
    autoencoder); :class:`BaseMLP` fills them from its parameters.
    """

    l1_alpha: float = 0.0
    max_norm: float = None
    batch_norm: bool = False
    exact_batch_norm: bool = False
    monitor: str = "loss"  # what the plateau rule watches on a validation set


class BaseNetworkEstimator(CallbackSupportMixin, BaseEstimator, metaclass=ABCMeta):
    """Base class of the network estimators (not for direct use).

    Everything the MLPs and the autoencoder share: parameter rules, data
    validation, the validation split, warm start, atomic fits, callbacks,
    both kinds of solver, the fitted attributes, inference and persistence.
    What a network is made of is the subclasses' (``_build_network``,
    ``_architecture``, ``_training_options``).
    """

    _y_numeric = False
    _accept_sparse = ("csr", "csc")

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like", Interval(Integral, 1, None, closed="left")
        ],
        "activation": [StrOptions({"identity", "logistic", "tanh", "relu"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")
        ],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "dtype": [StrOptions({"float32", "float64"})],
        # solver, learning_rate and the solvers' and schedules'
        # hyperparameters (momentum, beta_1, power_t, max_fun, ...).
        **_solvers.parameter_constraints(),
    }

    def _store_parameters(self, values):
        """Keep every constructor argument as an attribute of the same name.

        Each estimator's ``__init__`` spells out its full signature, as
        scikit-learn requires, and calls ``self._store_parameters(locals())``:
        one loop instead of the same thirty assignments in every class.
        """
        for name in self._get_param_names():
            setattr(self, name, values[name])

    # -- hooks for the subclasses ---------------------------------------

    @abstractmethod
    def _encode_targets(self, y, fitting, classes=None):
        """Targets as a float array (n_samples, n_outputs) for the loss."""

    def _effective_sample_weight(self, y, sample_weight, fitting=False):
        """Sample weights as the loss sees them (the classifier adds class weights)."""
        return sample_weight

    @abstractmethod
    def _loss_name(self):
        """Name of the fused output loss in ``_engine.losses.LOSSES``."""

    @abstractmethod
    def _score_outputs(self, Y, outputs, sample_weight):
        """Validation score (higher is better) from encoded targets and outputs."""

    def _stratify(self, y):
        return None

    # -- fitted parameters, as views into the network's flat buffer -------

    @property
    def coefs_(self):
        """list of ndarray: weight matrices, ``coefs_[i]`` of layer i."""
        if "_network" not in self.__dict__:
            raise AttributeError("coefs_")
        return _ParameterList(
            layer.params["W"] for layer in self._network.dense_layers()
        )

    @coefs_.setter
    def coefs_(self, values):
        self._set_dense("W", values)

    @property
    def intercepts_(self):
        """list of ndarray: bias vectors, ``intercepts_[i]`` of layer i + 1."""
        if "_network" not in self.__dict__:
            raise AttributeError("intercepts_")
        return _ParameterList(
            layer.params["b"] for layer in self._network.dense_layers()
        )

    @intercepts_.setter
    def intercepts_(self, values):
        self._set_dense("b", values)

    def _set_dense(self, name, values):
        check_is_fitted(self)
        _assign_arrays(
            [layer.params[name] for layer in self._network.dense_layers()], values
        )

    # -- fitting ----------------------------------------------------------

    def _check_options(self):
        """Rules that involve several parameters (single ones: constraints)."""
        sizes = _check_hidden_layer_sizes(self.hidden_layer_sizes)
        if self.early_stopping and self.validation_fraction == 0:
            raise ValueError(
                "early_stopping=True holds out validation_fraction of the data; "
                "it must be > 0, got 0.0."
            )
        return sizes

    def _validate_training_data(self, X, y, sample_weight, reset=True):
        dtype = np.dtype(self.dtype)
        other = np.float64 if dtype == np.float32 else np.float32
        X, y = validate_data(
            self, X, y, accept_sparse=self._accept_sparse, multi_output=True,
            dtype=(dtype, other), reset=reset, y_numeric=self._y_numeric,
        )
        return _network_input(X, dtype), y, _check_weights(sample_weight, X)

    def _batch_size(self, n_samples):
        if self.batch_size == "auto":
            return min(200, n_samples)
        if self.batch_size > n_samples:
            warn(
                "Got `batch_size` less than 1 or larger than sample size. It is "
                "going to be clipped.",
            )
        return min(self.batch_size, n_samples)

    def _split(self, X, Y, y, sample_weight, X_val, y_val, sample_weight_val, rng):
        """Training row indices and the :class:`Validation` of the trainer (or None)."""
        if X_val is None and y_val is None and sample_weight_val is not None:
            raise ValueError("sample_weight_val needs X_val and y_val.")
        if X_val is not None or y_val is not None:
            if X_val is None or y_val is None:
                raise ValueError("X_val and y_val must be given together.")
            if not _solvers.is_stochastic(self.solver):
                raise ValueError(
                    "X_val and y_val are used by the stochastic solvers only; "
                    f"solver={self.solver!r} has no epochs to validate."
                )
            with _naming("X", "X_val"):
                X_val = _network_input(
                    validate_data(self, X_val, reset=False,
                                  accept_sparse=self._accept_sparse,
                                  dtype=(np.float32, np.float64)),
                    X.dtype, name="X_val",
                )
            y_val = np.asarray(y_val)
            if y_val.shape[0] != X_val.shape[0]:
                raise ValueError(
                    f"X_val and y_val have {X_val.shape[0]} and {y_val.shape[0]} "
                    "samples; they must have the same number."
                )
            with _naming("sample_weight", "sample_weight_val"):
                sample_weight_val = _check_weights(sample_weight_val, X_val)
            with _naming("y", "y_val"):
                Y_val = self._encode_targets(y_val, fitting=False)  # checks labels
            _warn_if_rescaled(X, X_val)
            if Y_val.shape[1] != Y.shape[1]:
                raise ValueError(
                    f"y_val has {Y_val.shape[1]} outputs once encoded, but y has "
                    f"{Y.shape[1]}; they must have the same columns."
                )
            sample_weight_val = self._effective_sample_weight(y_val, sample_weight_val)
            _check_validation_weight(sample_weight_val)
            return None, Validation(X_val, Y_val, sample_weight_val)
        if not self.early_stopping:
            return None, None
        indices = np.arange(X.shape[0])
        if len(indices) < 3:
            raise ValueError(
                "The validation set is too small: early_stopping=True holds out "
                "at least 2 samples and trains on the rest, but got n_samples = "
                f"{len(indices)}."
            )
        seed = int(rng.integers(np.iinfo(np.int32).max))
        # At least 2 validation rows when there are at least 4 rows in all.
        n_val = int(np.ceil(self.validation_fraction * len(indices)))
        if len(indices) >= 4:
            n_val = max(n_val, 2)
        stratify = self._stratify(y)
        if stratify is not None:
            labels, counts = np.unique(stratify, return_counts=True)
            # A class of one sample is train_test_split's error, as in
            # scikit-learn (below, naming the class). Too few rows on one side
            # for one of each class (scikit-learn raises there too) is only a
            # small data set: split at random.
            if counts.min() > 1 and min(n_val, len(indices) - n_val) < len(counts):
                stratify = None
        try:
            train, val = train_test_split(
                indices, test_size=n_val, random_state=seed, stratify=stratify
            )
        except ValueError as exc:
            if stratify is None or counts.min() > 1:
                raise
            raise ValueError(
                f"{exc} early_stopping=True holds out a validation set "
                "stratified by class, and these classes have a single "
                f"member: {labels[counts == 1].tolist()}."
            ) from exc
        if len(val) < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' "
                "or the size of your dataset."
            )
        val = np.sort(val)
        sw_val = None if sample_weight is None else sample_weight[val]
        _check_validation_weight(sw_val)
        # The validation rows stay in X, read a chunk at a time: no copy.
        return np.sort(train), Validation(X, Y, sw_val, rows=val)

    @abstractmethod
    def _build_network(self, n_features, n_outputs, sizes, rng):
        """A new, initialised engine network for these shapes."""

    @abstractmethod
    def _architecture(self, n_features, n_outputs, sizes):
        """What a warm start or ``partial_fit`` needs unchanged (a tuple)."""

    def _training_options(self):
        """What the parameters ask of the training loop."""
        return TrainingOptions()

    def _dead_units_hint(self):
        """A remedy added to the dead-unit warning (with its separator)."""
        return ""

    def _make_schedule(self):
        # The solver's own schedule rules (scikit-learn's Adam ignores
        # `learning_rate`, but for sknets' 'halving') are the registry's.
        return _solvers.new_schedule(self)

    def _can_warm_start(self, n_features, n_outputs, sizes):
        if not (self.warm_start and "_network" in self.__dict__):
            return False
        if self._architecture_ == self._architecture(n_features, n_outputs, sizes):
            return True
        warn(
            "warm_start=True but the network changed since the last fit (shape, "
            "activation, dropout, batch normalisation or dtype): training starts "
            "from new weights.",
            UserWarning,
        )
        return False

    def _atomic(self, method, *args):
        """Run ``method``, leaving the estimator as it was if anything raises.

        ``method`` returns the training result; if training was interrupted
        (ctrl-C), the model so far is committed and the interrupt goes on up,
        so that a loop or a grid search around ``fit`` stops too.
        """
        saved = self.__dict__.copy()
        try:
            result = method(*args)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise
        if getattr(result, "stop_reason", None) == "interrupted":
            raise KeyboardInterrupt
        return self

    def _n_fit_tasks(self):
        """Subtasks of a fit for the callbacks: its epochs (none for L-BFGS)."""
        return self.max_iter if _solvers.is_stochastic(self.solver) else 0

    @with_callbacks
    def _fit(self, X, y, sample_weight=None, X_val=None, y_val=None,
             sample_weight_val=None):
        with fit_tasks(self, X, y, sample_weight, self._n_fit_tasks()) as tasks:
            return self._atomic(
                self._fit_unsafe, X, y, sample_weight, X_val, y_val,
                sample_weight_val, tasks,
            )

    def _random_generator(self):
        return np.random.default_rng(
            check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        )

    def _prepare(self, X, y, sample_weight, classes=None):
        """Validate and encode the training data; the run's random generator."""
        sizes = self._check_options()
        X, y, sample_weight = self._validate_training_data(X, y, sample_weight)
        Y = self._encode_targets(y, fitting=True, classes=classes)
        sample_weight = self._effective_sample_weight(y, sample_weight, fitting=True)
        return X, y, Y, sample_weight, sizes, self._random_generator()

    def _fit_unsafe(self, X, y, sample_weight, X_val, y_val, sample_weight_val,
                    tasks=None, encoders=None, reported_dead=()):
        """Validate, build, train, record; returns the training result.

        ``tasks`` are the fit's callback tasks (:mod:`._callbacks`), or None;
        ``encoders`` pre-trained ``(W, b, mean, var)`` per hidden layer that a
        new network starts from (:meth:`~._engine.network.Network.load_encoders`);
        ``reported_dead`` the hidden layers whose dead units were reported
        already.
        """
        X, y, Y, sample_weight, sizes, rng = self._prepare(X, y, sample_weight)
        if self._can_warm_start(X.shape[1], Y.shape[1], sizes):
            network = copy.deepcopy(self._network)
            state = copy.deepcopy(self._train_state)
        else:
            network = self._build_network(X.shape[1], Y.shape[1], sizes, rng)
            if encoders is not None:
                network.load_encoders(encoders)
            state = None
        train_idx, validation = self._split(
            X, Y, y, sample_weight, X_val, y_val, sample_weight_val, rng
        )
        if not _solvers.is_stochastic(self.solver):
            result = self._run_lbfgs(network, X, Y, sample_weight)
            state = None
        else:
            state = self._continue_state(state, network, rng)
            result = self._run_sgd(
                network, state, X, Y, sample_weight, train_idx, validation,
                tasks=tasks,
            )
        self._record(network, state, result, Y.shape[1], sizes, validation)
        self._architecture_ = self._architecture(X.shape[1], Y.shape[1], sizes)
        self._check_dead_layers(network, X, train_idx, reported_dead)
        return result

    def _check_dead_layers(self, network, X, train_idx, reported=()):
        """Warn when most relu units of a hidden layer never activate, or
        most tanh or logistic units are stuck at one end of their range.

        A relu unit whose input is at most 0 on every training row outputs 0
        and gets no gradient: it is dead for good. A too-large learning rate
        or unscaled inputs can kill most of a layer this way, which can leave
        a model near chance level with a finite loss that no divergence check
        sees. Checked on up to 1024 training rows spread evenly over them (one
        inference chunk); an autoencoder's encoder only, since a decoder layer
        fed by a dead code is dead as a consequence. A layer already reported
        dead after pre-training is not reported again. A tanh (logistic) unit
        whose output is beyond 0.99 (or below -0.99, resp. 0.01) on every row
        checked is stuck the same way: one output for every input and almost
        no gradient, as after weights blown up by too large steps.
        """
        rows = np.arange(X.shape[0]) if train_idx is None else np.sort(train_idx)
        if len(rows) < _DEAD_CHECK_MIN:
            return
        if len(rows) > _DEAD_CHECK_ROWS:
            rows = rows[np.linspace(0, len(rows) - 1, _DEAD_CHECK_ROWS).astype(int)]
        hint = self._dead_units_hint()
        with np.errstate(over="ignore", invalid="ignore"):
            layers = network.hidden_outputs(
                X[rows], encoder_only=True)
            for depth, (layer, out) in enumerate(layers, start=1):
                if layer.name == "relu":
                    n_dead = _mostly_dead(out)
                    what = (f"output 0 for every one of the {len(rows)} "
                            "training samples checked: dead units, which get no "
                            "gradient")
                    if depth in reported:
                        continue
                elif layer.name in _SATURATION:
                    n_dead = _mostly_saturated(out, *_SATURATION[layer.name])
                    what = (f"are saturated at one and the same end of their "
                            f"range for every one of the {len(rows)} training "
                            "samples checked: stuck units, which carry no "
                            "information and pass almost no gradient")
                else:
                    continue
                if n_dead:
                    warn(
                        f"{n_dead} of the {out.shape[1]} {layer.name} units of "
                        f"hidden layer {depth} {what}, so the model may be far "
                        "from what it could be (even at chance level with a "
                        "finite loss). Lower learning_rate_init or scale the "
                        f"inputs (e.g. StandardScaler){hint}.",
                        ConvergenceWarning,
                    )

    def _check_partial_fit(self):
        """Raise what accessing ``partial_fit`` raises where it cannot run."""
        if not _solvers.is_stochastic(self.solver):
            raise AttributeError(
                f"This {type(self).__name__!r} has no attribute 'partial_fit': "
                "partial_fit is only available for stochastic optimizers. "
                f"{self.solver} is not stochastic."
            )
        if self.early_stopping:
            # One pass over a chunk has no epochs to stop early.
            raise PartialFitUnavailableError(
                "partial_fit does not support early_stopping=True"
            )

    @with_callbacks
    def _partial_fit(self, X, y, sample_weight=None, classes=None):
        with fit_tasks(self, X, y, sample_weight, max_subtasks=1) as tasks:
            return self._atomic(
                self._partial_fit_unsafe, X, y, sample_weight, classes, tasks
            )

    def _partial_fit_unsafe(self, X, y, sample_weight, classes, tasks=None):
        """One epoch over ``(X, y)``, continuing weights and optimiser state."""
        undo = None
        if "_network" not in self.__dict__:
            X, y, Y, sample_weight, sizes, rng = self._prepare(
                X, y, sample_weight, classes=classes
            )
            network = self._build_network(X.shape[1], Y.shape[1], sizes, rng)
            state = self._continue_state(None, network, rng)
            self._architecture_ = self._architecture(X.shape[1], Y.shape[1], sizes)
        else:
            sizes = self._check_options()
            X, y, sample_weight = self._validate_training_data(
                X, y, sample_weight, reset=False
            )
            Y = self._encode_targets(y, fitting=False)
            sample_weight = self._effective_sample_weight(y, sample_weight)
            if Y.shape[1] != self.n_outputs_:
                raise ValueError(
                    f"y has {Y.shape[1]} outputs, but the model was fitted with "
                    f"{self.n_outputs_}; partial_fit needs the same outputs on "
                    "every call."
                )
            if self._architecture_ != self._architecture(X.shape[1], Y.shape[1], sizes):
                raise ValueError(
                    "partial_fit continues the fitted network, but the network "
                    "parameters (hidden_layer_sizes, activation, dropout, "
                    "batch_norm, dtype, ...) were changed since; call fit to "
                    "start again."
                )
            network, state = self._network, self._train_state
            # The chunk trains the fitted objects in place (streaming pays
            # no copy of them); what it changes is checkpointed flat and put
            # back if it fails.
            undo = self._checkpoint(network, state)
        try:
            state = self._continue_state(state, network, None)
            result = self._run_sgd(network, state, X, Y, sample_weight, None, None,
                                   incremental=True, tasks=tasks)
            self._record(network, state, result, Y.shape[1], sizes, None)
        except BaseException:
            if undo is not None:
                undo()
            raise
        return result

    @staticmethod
    def _checkpoint(network, state):
        """A function that undoes what training changes in ``network`` and
        ``state`` (parameters, optimiser, schedule, counters, random state)."""
        if state is None:  # continuing an L-BFGS fit: only the network
            engine = Checkpoint(network, None, None)
            return engine.restore
        engine = Checkpoint(network, state["optimizer"], state["schedule"])
        saved = dict(state)
        n_history = len(state["history"])
        rng_state = state["rng"].bit_generator.state

        def undo():
            engine.restore()
            del state["history"][n_history:]
            history = state["history"]
            state.clear()
            state.update(saved, history=history)
            state["rng"].bit_generator.state = rng_state

        return undo

    def _schedule_params(self):
        # Kept in the training state: a saved model compares it on its next
        # warm start, so its layout is the one states have always held.
        return _solvers.schedule_key(self)

    def _new_optimizer(self, network):
        return _solvers.new_optimizer(self, network)

    def _continue_state(self, state, network, rng):
        """Training state for a warm start under the current parameters.

        The optimiser's accumulators carry over while the solver is the same
        (its hyper-parameters are refreshed); the schedule, with the rate it
        has reached, carries over unless a schedule parameter was changed.
        """
        if state is None:
            if rng is None:  # e.g. partial_fit after an lbfgs fit
                rng = self._random_generator()
            return {"optimizer": self._new_optimizer(network),
                    "solver": self.solver,
                    "schedule": self._make_schedule(),
                    "schedule_params": self._schedule_params(),
                    "t": 0, "n_epochs": 0, "history": [], "rng": rng}
        if rng is not None:
            state["rng"] = rng
        if state["solver"] != self.solver:
            state["optimizer"] = self._new_optimizer(network)
            state["solver"] = self.solver
        else:
            _solvers.refresh_optimizer(state["optimizer"], self)
        if (state["schedule_params"] != self._schedule_params()
                or not _solvers.schedule_is_current(state["schedule"], self)):
            state["schedule"] = self._make_schedule()
            state["schedule_params"] = self._schedule_params()
        return state

    def _run_sgd(self, network, state, X, Y, sample_weight, train_idx, validation,
                 incremental=False, tasks=None):
        options = self._training_options()
        n_rows = X.shape[0] if train_idx is None else len(train_idx)
        self._use_training_ops(network, state, n_rows,
                               1 if incremental else self.max_iter)
        batches = Minibatches(
            X, Y, sample_weight, indices=train_idx,
            batch_size=self._batch_size(
                X.shape[0] if train_idx is None else len(train_idx)
            ),
            shuffle=self.shuffle, min_last_batch=2 if options.batch_norm else 1,
            ops=network.ops,
        )
        # scikit-learn's callbacks follow the epochs through a listener of
        # the training loop's events.
        epochs = None if tasks is None else EpochTasks(
            tasks, lambda: self._snapshot(network, Y.shape[1]))
        # Incremental: one pass, no plateau rule; the caller decides when to stop.
        # Nor an exact batch-norm pass: a chunk is not the data set, and its
        # statistics would replace the population's; the running averages
        # are updated instead, with the batch-norm momentum.
        trainer = Trainer(
            network, state["optimizer"], state["schedule"], alpha=self.alpha,
            l1_alpha=options.l1_alpha,
            max_iter=1 if incremental else self.max_iter, tol=self.tol,
            n_iter_no_change=np.inf if incremental else self.n_iter_no_change,
            score_fn=self._score_outputs, verbose=self.verbose,
            exact_batch_norm=options.exact_batch_norm and not incremental,
            monitor=options.monitor, max_norm=options.max_norm,
            listeners=() if epochs is None else (epochs,),
        )
        try:
            result = trainer.fit(
                batches, state["rng"], validation=validation, t0=state["t"],
                epoch0=state["n_epochs"],
            )
        finally:
            if epochs is not None:
                epochs.close()
        state["t"] = result.t
        state["n_epochs"] += result.n_iter
        state["history"] = state["history"] + result.history
        # Why this call ended (the training report reads it).
        state["stop_reason"] = result.stop_reason
        if result.stop_reason == "interrupted":
            warn(
                "Training interrupted by user (KeyboardInterrupt) after "
                f"{result.n_iter} epochs; the estimator keeps the best "
                "parameters found so far and is usable.",
                UserWarning,
            )
        elif result.stop_reason is None and not incremental:
            warn(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) "
                "reached and the optimization hasn't converged yet.",
                ConvergenceWarning,
            )
        return result

    def _run_lbfgs(self, network, X, Y, sample_weight):
        options = self._training_options()
        self._use_training_ops(network, None, X.shape[0], self.max_iter)
        result = train_lbfgs(
            network, X, Y, sample_weight, alpha=self.alpha,
            l1_alpha=options.l1_alpha,
            max_iter=self.max_iter, tol=self.tol, verbose=self.verbose,
            **_solvers.full_batch_options(self),  # max_fun
        )
        if options.batch_norm:
            # In row blocks, as after the stochastic solvers: a pass over all
            # of X at once would allocate the activations of every row.
            blocks = Minibatches(X, Y, sample_weight, shuffle=False,
                                 ops=network.ops)
            network.set_population_statistics(blocks.chunks)
        if not network.is_finite():
            raise DivergenceError(
                "L-BFGS produced non-finite parameters. The input data may "
                "contain large values: scale the inputs (e.g. with "
                "StandardScaler) or increase alpha."
            )
        if result.status != 0:
            warn(self._lbfgs_warning(result), ConvergenceWarning)
        return result

    def _lbfgs_warning(self, result):
        """scikit-learn's message for an unconverged L-BFGS run, naming the
        budget (``max_iter`` or ``max_fun``) that stopped it."""
        message = (
            f"lbfgs failed to converge after {result.nit} iteration(s) "
            f"(status={result.status}):\n{result.message}\n"
        )
        if result.nit >= self.max_iter:
            message += (
                "\nIncrease the number of iterations to improve the "
                f"convergence (max_iter={self.max_iter})."
            )
        elif result.nfev >= self.max_fun:
            message += (
                "\nIncrease the number of loss function calls to improve the "
                f"convergence (max_fun={self.max_fun})."
            )
        return message + (
            "\nYou might also want to scale the data as shown in:\n"
            "    https://scikit-learn.org/stable/modules/preprocessing.html"
        )

    def _record(self, network, state, result, n_outputs, sizes, validation):
        """Copy the engine's result into scikit-learn-named fitted attributes."""
        self._network = network
        self._train_state = state
        self.n_outputs_ = n_outputs
        self.n_layers_ = network.n_affine_layers + 1
        self.out_activation_ = network.loss.out_activation
        if state is None:  # lbfgs
            self.n_iter_ = int(result.nit)
            self.t_ = 0
            self.loss_ = float(result.fun)
            self.loss_curve_ = [self.loss_]
            self.best_loss_ = self.loss_
            self.validation_scores_ = None
            self.best_validation_score_ = None
            self.history_ = []
            return
        history = state["history"]
        self.history_ = history
        # As scikit-learn: epochs of this call; loss_curve_ and t_ accumulate.
        self.n_iter_ = result.n_iter
        self.t_ = state["t"]
        self.loss_curve_ = [h["train_loss"] for h in history]
        self.loss_ = self.loss_curve_[-1] if history else np.nan
        if validation is None:
            self.best_loss_ = min(self.loss_curve_) if history else np.inf
            self.validation_scores_ = None
            self.best_validation_score_ = None
        else:
            self.best_loss_ = None
            self.validation_scores_ = [h.get("val_score") for h in history]
            # The returned model's score (with exact batch-norm statistics it
            # can differ from the best per-epoch score, taken with running ones).
            self.best_validation_score_ = result.best_validation_score

    # -- inference ----------------------------------------------------------

    def _validate_X(self, X, return_dtype=False):
        """``X`` checked against the fit and cast for the network."""
        check_is_fitted(self)
        # Only float32 input gives float32 outputs (ints, lists and object
        # arrays give float64, as documented and as scikit-learn); the input
        # is converted straight to the network's dtype, not through float64.
        given = getattr(X, "dtype", None)
        output_dtype = np.float32 if given == np.float32 else np.float64
        net_dtype = self._network.dtype
        other = np.float64 if net_dtype == np.float32 else np.float32
        X = validate_data(
            self, X, accept_sparse=self._accept_sparse, reset=False,
            dtype=(net_dtype, other),
        )
        X_net = _network_input(X, net_dtype)
        return (X_net, output_dtype) if return_dtype else X_net

    def _inference_network(self):
        """The fitted network, computing on the backend predictions use
        (:func:`sknets.set_config`)."""
        network = self._network
        ops = prediction_ops(network.ops)
        if ops is not network.ops:
            network.use_ops(ops)
        return network

    def _use_training_ops(self, network, state, n_rows, epochs):
        """Train ``network`` (and ``state``'s optimiser) on the backend that
        the configuration picks for this much work."""
        ops = training_ops(n_rows * network.n_params * epochs)
        network.use_ops(ops)
        if state is not None:
            state["optimizer"].ops = ops
        return ops

    def _forward(self, X):
        """Network outputs; float32 only for float32 input to a float32 net."""
        X, input_dtype = self._validate_X(X, return_dtype=True)
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            outputs = self._inference_network().predict(X)
        _check_finite_outputs(outputs, self._network.dtype)
        return outputs.astype(np.promote_types(input_dtype, outputs.dtype),
                              copy=False)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def __sklearn_is_fitted__(self):
        return "_network" in self.__dict__

    def _snapshot(self, network, n_outputs):
        """Fitted attributes of a copy of the estimator, at this point of a fit.

        For callbacks that evaluate the model during training.
        """
        network = copy.deepcopy(network)
        network.clear_cache()
        return {"_network": network, "n_outputs_": n_outputs,
                "n_layers_": network.n_affine_layers + 1,
                "out_activation_": network.loss.out_activation}

    # -- persistence --------------------------------------------------------

    def __getstate__(self):
        # Plain data and the sknets version (see _persistence).
        return get_state(super().__getstate__())

    def __setstate__(self, state):
        super().__setstate__(set_state(type(self).__name__, state))


class BaseMLP(BaseNetworkEstimator):
    """Base class of the multi-layer perceptron estimators (not for direct use).

    The network estimator with the MLP's layers and regularisers: dropout,
    max-norm, batch normalisation, the L1 penalty, and the choice of the
    validation score.
    """

    _parameter_constraints: dict = {
        **BaseNetworkEstimator._parameter_constraints,
        "l1_alpha": [Interval(Real, 0, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "input_dropout": [Interval(Real, 0, 1, closed="left")],
        "max_norm": [None, Interval(Real, 0, None, closed="neither")],
        "batch_norm": ["boolean"],
        "batch_norm_momentum": [Interval(Real, 0, 1, closed="left")],
        "batch_norm_statistics": [StrOptions({"running", "exact"})],
        "scoring": [None, StrOptions({"loss"})],
    }

    def _check_options(self):
        sizes = super()._check_options()
        full_batch = not _solvers.is_stochastic(self.solver)
        if full_batch and (self.dropout > 0 or self.input_dropout > 0):
            raise ValueError(
                "dropout and input_dropout need a stochastic solver "
                f"({_solvers.stochastic_solvers_text()}); got "
                f"solver={self.solver!r}."
            )
        if full_batch and self.max_norm is not None:
            raise ValueError(
                "max_norm is applied after each minibatch update and needs a "
                f"stochastic solver ({_solvers.stochastic_solvers_text()}); got "
                f"solver={self.solver!r}."
            )
        if self.batch_norm and self.batch_size == 1:
            raise ValueError(
                "batch_norm=True needs minibatches of at least 2 rows to "
                "normalise over; got batch_size=1."
            )
        return sizes

    def _build_network(self, n_features, n_outputs, sizes, rng):
        network = build_mlp(
            n_features, sizes, n_outputs, activation=self.activation,
            loss=self._loss_name(), dropout=self.dropout,
            input_dropout=self.input_dropout, batch_norm=self.batch_norm,
            batch_norm_momentum=self.batch_norm_momentum, dtype=np.dtype(self.dtype),
        )
        network.initialize(rng)
        return network

    def _architecture(self, n_features, n_outputs, sizes):
        return (n_features, sizes, n_outputs, self.activation, self._loss_name(),
                self.dropout, self.input_dropout, self.batch_norm,
                self.batch_norm_momentum, self.dtype)

    def _training_options(self):
        return TrainingOptions(
            l1_alpha=self.l1_alpha, max_norm=self.max_norm,
            batch_norm=self.batch_norm,
            exact_batch_norm=self.batch_norm
            and self.batch_norm_statistics == "exact",
            monitor="loss" if self.scoring == "loss" else "score",
        )

    def _dead_units_hint(self):
        return ", or try batch_norm=True"
