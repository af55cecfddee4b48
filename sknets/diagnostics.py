"""Tools for finding out why a network does not train as it should.

Four checks turn the usual "when it does not work" advice into reports on
your own estimator (an sknets estimator, or a :class:`~sklearn.pipeline.Pipeline`
ending in one):

- :func:`check_gradients`: is back-propagation right?
- :func:`check_overfit`: can the model learn a small training set by heart?
- :func:`unit_statistics`: are hidden units saturated, dead, constant or
  redundant (at initialisation or after training)?
- :func:`training_report`: what does the per-epoch history say (diverging or
  bouncing loss, under- or overfitting, early stopping, rate cuts)?

Each returns a report whose ``print`` form is a readable summary; the last
three list :class:`Finding` objects, each with a remedy.

Examples
--------
>>> from sklearn.datasets import load_iris
>>> from sknets import MLPClassifier
>>> from sknets.diagnostics import check_gradients
>>> X, y = load_iris(return_X_y=True)
>>> clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=0)
>>> report = check_gradients(clf, X[::5], y[::5])
>>> report.passed
True
"""

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._autoencoder import AutoencoderTransformer
from ._engine.errors import DivergenceError
from ._engine.gradcheck import check_network_gradients
from ._engine.layers import Activation, BatchNorm

__all__ = [
    "Finding",
    "GradientCheckReport",
    "LayerStatistics",
    "OverfitReport",
    "TrainingReport",
    "UnitStatisticsReport",
    "check_gradients",
    "check_overfit",
    "training_report",
    "unit_statistics",
]

# A layer is flagged when at least this fraction of its units is affected.
_FLAG_FRACTION = 0.25
# Mean absolute correlation above which a layer's units are called redundant.
_REDUNDANT_CORRELATION = 0.8
# Epochs per warm-started step of check_overfit, which stops once it passes.
_OVERFIT_CHUNK = 50


class _Printable:
    """Text form in IPython too (``print(report)`` works everywhere)."""

    def _repr_pretty_(self, printer, cycle):
        printer.text(str(self))


@dataclass
class Finding(_Printable):
    """One problem (or notable event) found by a diagnostic, with its remedy.

    Attributes
    ----------
    code : str
        Short stable name, e.g. ``"saturated_units"`` or ``"bouncing"``.
    message : str
        What was measured.
    remedy : str
        What to try.
    level : {"warning", "info"}
        ``"warning"`` for a likely problem, ``"info"`` for an event worth
        knowing (early stopping, a lowered learning rate).
    """

    code: str
    message: str
    remedy: str
    level: str = "warning"

    def __str__(self):
        return f"[{self.level}] {self.code}: {self.message}\n    -> {self.remedy}"


def _findings_text(findings, empty="no problems found"):
    if not findings:
        return f"findings: {empty}"
    return "findings:\n" + "\n".join(f"  {f}".replace("\n", "\n  ")
                                     for f in findings)


# -- gradients -----------------------------------------------------------------


@dataclass
class GradientCheckReport(_Printable):
    """Result of :func:`check_gradients`.

    Attributes
    ----------
    errors : dict
        Parameter array name (``dense0.W`` is ``coefs_[0]``, ``dense0.b`` is
        ``intercepts_[0]``, ``batchnorm0.gamma`` the first batch-norm scale,
        ...) to the largest relative error found in it.
    tolerance : float
        Largest relative error that counts as agreement.
    """

    errors: dict
    tolerance: float

    @property
    def max_error(self):
        """float: the largest relative error over all arrays."""
        return float(max(self.errors.values()))

    @property
    def passed(self):
        """bool: whether every array is within ``tolerance``."""
        return bool(self.max_error <= self.tolerance)

    def __str__(self):
        width = max(len(name) for name in self.errors)
        lines = [f"{'parameter':<{width}}  max relative error"]
        for name, error in self.errors.items():
            flag = "" if error <= self.tolerance else "   <-- too large"
            lines.append(f"{name:<{width}}  {error:.2e}{flag}")
        verdict = "passed" if self.passed else "FAILED"
        lines.append(f"gradient check {verdict} (tolerance {self.tolerance:.0e})")
        return "\n".join(lines)


def check_gradients(estimator, X, y, *, sample_weight=None, epsilon=1e-5,
                    tolerance=1e-4, max_entries=20, random_state=0):
    """Compare back-propagated gradients with finite differences.

    The check runs on a float64 copy of the estimator's network, in training
    mode (batch-norm on the batch statistics) with the dropout masks drawn
    once and then held fixed, on the loss the estimator minimises (data loss
    plus its ``alpha`` and ``l1_alpha`` penalties). The estimator is not
    modified.

    Parameters
    ----------
    estimator : MLPClassifier or MLPRegressor
        A fitted estimator, or an unfitted one: then the check runs at the
        initial weights that ``fit`` would start from, with the biases (and
        batch-norm scales and shifts) moved by up to 0.1 at random so that no
        relu unit sits exactly on its kink.
    X : array-like of shape (n_samples, n_features)
        A batch of inputs (a few dozen rows suffice).
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Their targets.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights of the loss.
    epsilon : float, default=1e-5
        Finite-difference step.
    tolerance : float, default=1e-4
        Largest relative error reported as a pass.
    max_entries : int or None, default=20
        Check at most this many random entries of each parameter array
        (None: all of them).
    random_state : int, RandomState instance or None, default=0
        Draws the dropout masks and the entries checked.

    Returns
    -------
    report : GradientCheckReport
        Largest relative error per parameter array; ``print(report)`` shows
        a table.

    Notes
    -----
    For each checked parameter ``theta_j`` the numeric derivative is the
    central difference ``(L(theta + eps e_j) - L(theta - eps e_j)) / (2 eps)``,
    accurate to ``O(eps^2)``; the error is
    ``|analytic - numeric| / max(|analytic|, |numeric|, 1e-6)``. A relu unit
    whose input lies within ``eps`` of 0 can disagree for lack of a
    derivative at the kink; a check that fails on one entry only may be that.
    """
    if _is_fitted(estimator):
        network = estimator._network
        X_checked = estimator._validate_X(X)
        # A transformer (autoencoder) is its own target.
        Y = estimator._encode_targets(
            X_checked if y is None else np.asarray(y), fitting=False
        )
    else:
        network, X_checked, Y, init_rng = _initial_network(estimator, X, y)
        # Zero biases put relu units whose inputs are all dropped exactly on
        # the kink, where finite differences disagree with any derivative;
        # small random biases move them off it (on this throw-away copy).
        network.theta[network.n_decayed:] += init_rng.uniform(
            -0.1, 0.1, network.theta.size - network.n_decayed
        ).astype(network.dtype)
    rng = np.random.default_rng(
        check_random_state(random_state).randint(np.iinfo(np.int32).max)
    )
    sw = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
    errors = check_network_gradients(
        network, X_checked, Y, sw, alpha=estimator.alpha,
        l1_alpha=estimator.l1_alpha, rng=rng, epsilon=epsilon,
        max_entries=max_entries, floor=1e-6,
    )
    return GradientCheckReport(errors=errors, tolerance=tolerance)


def _is_fitted(estimator):
    try:
        check_is_fitted(estimator)
    except Exception:
        return False
    return True


def _initial_network(estimator, X, y):
    """The network ``fit`` would start from (built on a clone), and its data."""
    estimator = clone(estimator)
    estimator._validate_params()
    X_checked, _, Y, _, sizes, init_rng = estimator._prepare(X, y, None)
    network = estimator._build_network(
        X_checked.shape[1], Y.shape[1], sizes, init_rng
    )
    return network, X_checked, Y, init_rng


def _n_rows(data):
    return data.shape[0] if hasattr(data, "shape") else len(data)


def _take_rows(data, rows):
    """Rows of an array, sparse matrix, list or DataFrame, keeping its kind."""
    if hasattr(data, "iloc"):
        return data.iloc[rows]
    if sp.issparse(data):
        return data[rows]
    return np.asarray(data)[rows]


def _final_step(estimator):
    """``(preprocessing or None, network estimator)`` of a pipeline or estimator."""
    if isinstance(estimator, Pipeline):
        return estimator[:-1], estimator[-1]
    return None, estimator


# -- unit statistics -------------------------------------------------------------


@dataclass
class LayerStatistics(_Printable):
    """Statistics of one hidden layer's activations over a set of samples.

    Attributes
    ----------
    name : str
        ``"hidden1"`` for the first hidden layer, and so on (for an
        autoencoder the encoder layers, then the hidden decoder layers).
    activation : str
        The layer's non-linearity.
    n_units : int
        Its width.
    saturated_fraction : float or None
        Fraction of units saturated on most samples (logistic and tanh only).
    dead_fraction : float or None
        Fraction of units that output 0 on every sample (relu only).
    sparsity : float
        Fraction of all activations that are (near) zero.
    mean_abs_correlation : float
        Mean absolute Pearson correlation between pairs of non-constant
        units over the samples (NaN with fewer than two such units).
    constant_fraction : float
        Fraction of units whose output hardly varies: they ignore the input
        (dead units are constant too).
    saturated_units, dead_units, constant_units : ndarray of int
        Indices of those units.
    """

    name: str
    activation: str
    n_units: int
    saturated_fraction: float | None
    dead_fraction: float | None
    sparsity: float
    mean_abs_correlation: float
    constant_fraction: float
    saturated_units: np.ndarray = field(repr=False)
    dead_units: np.ndarray = field(repr=False)
    constant_units: np.ndarray = field(repr=False)

    def __str__(self):
        def fmt(value):
            return "   -" if value is None or math.isnan(value) else f"{value:4.2f}"

        return (f"{self.name:<9}{self.activation:<10}{self.n_units:>6}  "
                f"{fmt(self.saturated_fraction):>9}  {fmt(self.dead_fraction):>5}"
                f"  {fmt(self.sparsity):>8}  {fmt(self.mean_abs_correlation):>6}"
                f"  {fmt(self.constant_fraction):>8}")


@dataclass
class UnitStatisticsReport(_Printable):
    """Result of :func:`unit_statistics`.

    Attributes
    ----------
    layers : list of LayerStatistics
        One entry per hidden layer, in order.
    n_samples : int
        Samples the statistics were taken on.
    at_initialization : bool
        True when the statistics are of the initial (unfitted) network.
    findings : list of Finding
        Layers with many saturated, dead, constant or redundant units.
    """

    layers: list
    n_samples: int
    at_initialization: bool
    findings: list

    def __str__(self):
        state = "initial network" if self.at_initialization else "fitted network"
        lines = [f"hidden-unit statistics on {self.n_samples} samples ({state})",
                 f"{'layer':<9}{'activation':<10}{'units':>6}  {'saturated':>9}  "
                 f"{'dead':>5}  {'sparsity':>8}  {'|corr|':>6}  {'constant':>8}"]
        lines += [str(layer) for layer in self.layers]
        lines.append(_findings_text(self.findings))
        return "\n".join(lines)


def _hidden_activations(estimator, X, y=None, n_samples=None, random_state=0):
    """``(activations, fitted)``: one ``(name, activation, A)`` per hidden layer.

    Works on a fitted estimator or pipeline, and on an unfitted one with
    ``y`` (its initial network, built on a clone). At most ``n_samples``
    random rows of ``X`` are used.
    """
    if n_samples is not None and _n_rows(X) > n_samples:
        rows = np.sort(check_random_state(random_state).choice(
            _n_rows(X), n_samples, replace=False))
        X, y = _take_rows(X, rows), (None if y is None else _take_rows(y, rows))
    preprocess, final = _final_step(estimator)
    fitted = _is_fitted(estimator)
    if fitted:
        X_net = final._validate_X(X if preprocess is None else preprocess.transform(X))
        network = final._network
    else:
        if preprocess is not None:
            X = clone(preprocess).fit_transform(X, y)
        if y is None and not isinstance(final, AutoencoderTransformer):
            raise ValueError(
                f"{type(final).__name__} is not fitted: pass y as well, so that "
                "its initial network (the one fit starts from) can be built."
            )
        network, X_net, _, _ = _initial_network(final, X, y)
    if sp.issparse(X_net):
        X_net = X_net.toarray()
    if not fitted and any(isinstance(layer, BatchNorm) for layer in network.layers):
        # Normalise with the statistics of X, as training would from the
        # first minibatch, not with the placeholder population (0, 1).
        network.set_population_statistics(lambda: [(X_net, None)])
    out, start, k = [], 0, 0
    with np.errstate(over="ignore", under="ignore"):
        for index, layer in enumerate(network.layers):
            if isinstance(layer, Activation):
                X_net = network.predict(X_net, start=start, stop=index + 1)
                start = index + 1
                k += 1
                out.append((f"hidden{k}", layer.name, X_net))
    return out, fitted


def _layer_statistics(name, activation, A, saturation, zero_tolerance):
    A = np.asarray(A, dtype=np.float64)
    n_units = A.shape[1]
    std = A.std(axis=0)
    constant = np.flatnonzero(std <= 1e-3)
    if activation in ("tanh", "logistic"):
        # Distance from the centre of the range, scaled to [0, 1].
        scaled = np.abs(A) if activation == "tanh" else np.abs(2.0 * A - 1.0)
        saturated = np.flatnonzero((scaled > saturation).mean(axis=0) > 0.5)
        saturated_fraction = saturated.size / n_units
    else:
        saturated, saturated_fraction = np.array([], dtype=int), None
    if activation == "relu":
        dead = np.flatnonzero(np.all(A <= 0, axis=0))
        dead_fraction = dead.size / n_units
    else:
        dead, dead_fraction = np.array([], dtype=int), None
    varying = np.setdiff1d(np.arange(n_units), constant)
    if varying.size >= 2 and A.shape[0] >= 2:
        C = np.corrcoef(A[:, varying], rowvar=False)
        off = ~np.eye(varying.size, dtype=bool)
        correlation = float(np.abs(C[off]).mean())
    else:
        correlation = math.nan
    return LayerStatistics(
        name=name, activation=activation, n_units=n_units,
        saturated_fraction=saturated_fraction, dead_fraction=dead_fraction,
        sparsity=float(np.mean(np.abs(A) <= zero_tolerance)),
        mean_abs_correlation=correlation,
        constant_fraction=constant.size / n_units,
        saturated_units=saturated, dead_units=dead, constant_units=constant,
    )


def _unit_findings(layers, when):
    findings = []
    for s in layers:
        where = f"{s.name} ({s.activation}, {when})"
        if s.saturated_fraction is not None and s.saturated_fraction >= _FLAG_FRACTION:
            findings.append(Finding(
                "saturated_units",
                f"{where}: {s.saturated_fraction:.0%} of the units are saturated "
                "on most samples, where their gradient vanishes.",
                "Normalise the inputs (StandardScaler), scale down the initial "
                "weights, lower the learning rate, or use batch_norm=True or "
                "activation='relu'.",
            ))
        if s.dead_fraction is not None and s.dead_fraction >= _FLAG_FRACTION:
            findings.append(Finding(
                "dead_units",
                f"{where}: {s.dead_fraction:.0%} of the relu units output 0 on "
                "every sample and get no gradient.",
                "Lower the learning rate, normalise the inputs, give the biases "
                "a small positive start, or use batch_norm=True or "
                "activation='tanh'.",
            ))
        not_dead = s.constant_fraction - (s.dead_fraction or 0.0)
        if not_dead >= _FLAG_FRACTION:
            findings.append(Finding(
                "constant_units",
                f"{where}: {s.constant_fraction:.0%} of the units give nearly "
                "the same output whatever the input.",
                "Check the input scaling; lower alpha / l1_alpha if the weights "
                "collapsed, or the learning rate if they saturated.",
            ))
        if s.mean_abs_correlation > _REDUNDANT_CORRELATION:
            findings.append(Finding(
                "correlated_units",
                f"{where}: the mean absolute correlation between units is "
                f"{s.mean_abs_correlation:.2f}: they compute nearly the same thing.",
                "Break the symmetry (random, unequal initial weights), add "
                "dropout, or use fewer units.",
            ))
    return findings


def unit_statistics(estimator, X, y=None, *, n_samples=2000, saturation=0.99,
                    zero_tolerance=1e-3, random_state=0):
    """Saturated, dead, sparse, correlated and constant hidden units.

    Runs ``X`` through the network and summarises each hidden layer's
    activations. On a fitted estimator the statistics are those of the
    trained network. On an unfitted one, pass ``y`` too (not for an
    autoencoder): the statistics are then those of the initial network that
    ``fit`` would start from, before any update, built on a clone with the
    estimator's ``random_state`` (``partial_fit`` is not needed, and the
    estimator is not modified); batch-normalisation layers then normalise
    with the statistics of ``X``, as training does. This shows saturation caused by the
    initialisation or by the input scale before any training time is spent.

    Parameters
    ----------
    estimator : estimator or Pipeline
        An sknets network estimator (MLP, autoencoder, pre-trained), or a
        pipeline ending in one; fitted, or unfitted with ``y``. For an
        unfitted pipeline the preprocessing steps are fitted on ``X`` (on a
        clone). For a pre-trained estimator the initial network is the
        randomly initialised one, before pre-training.
    X : array-like of shape (n_samples, n_features)
        Inputs (the training data, or a representative sample).
    y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
        Targets; needed only for an unfitted estimator.
    n_samples : int or None, default=2000
        Use at most this many random rows of ``X`` (None: all).
    saturation : float, default=0.99
        A tanh activation ``a`` is saturated when ``|a| > saturation``; a
        logistic one when ``|2a - 1| > saturation``.
    zero_tolerance : float, default=1e-3
        Activations with ``|a| <= zero_tolerance`` count as zero for the
        sparsity.
    random_state : int, RandomState instance or None, default=0
        Draws the rows when ``X`` has more than ``n_samples``.

    Returns
    -------
    report : UnitStatisticsReport
        One :class:`LayerStatistics` per hidden layer and the findings;
        ``print(report)`` shows a table.

    Notes
    -----
    Over the samples, with ``a_ij`` unit j's activation on sample i:

    - a unit is *saturated* when more than half of its activations are
      saturated (``|a| > saturation`` for tanh, ``|2a - 1| > saturation``
      for logistic); its derivative ``1 - a^2`` or ``a (1 - a)`` is then
      nearly 0 and little gradient flows through it (LeCun et al., 1998;
      Glorot & Bengio, 2010);
    - a relu unit is *dead* when ``a_ij = 0`` for every sample: its gradient
      is 0 and it never recovers;
    - *sparsity* is the fraction of all ``|a_ij| <= zero_tolerance``;
    - a unit is *constant* when its standard deviation over the samples is
      at most 1e-3: it ignores the input;
    - ``mean_abs_correlation`` is the mean of ``|corr(a_j, a_k)|`` over
      pairs ``j != k`` of non-constant units.

    A finding is reported when at least 25% of a layer's units are
    saturated, dead, or constant (not counting dead ones), or when the mean
    absolute correlation exceeds 0.8.

    References
    ----------
    LeCun, Y., Bottou, L., Orr, G. B. and Mueller, K.-R. (1998). Efficient
    BackProp. In Neural Networks: Tricks of the Trade.

    Glorot, X. and Bengio, Y. (2010). Understanding the difficulty of
    training deep feedforward neural networks. AISTATS.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sknets import MLPClassifier
    >>> from sknets.diagnostics import unit_statistics
    >>> X, y = load_iris(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> clf = MLPClassifier(hidden_layer_sizes=(8,), activation="tanh",
    ...                     random_state=0)
    >>> unit_statistics(clf, X, y).layers[0].saturated_fraction  # at init
    0.0
    >>> report = unit_statistics(clf, 100 * X, y)  # unnormalised inputs
    >>> report.layers[0].saturated_fraction > 0.5
    True
    >>> [finding.code for finding in report.findings]
    ['saturated_units']
    """
    activations, fitted = _hidden_activations(
        estimator, X, y, n_samples=n_samples, random_state=random_state
    )
    layers = [_layer_statistics(name, act, A, saturation, zero_tolerance)
              for name, act, A in activations]
    n_rows = activations[0][2].shape[0] if activations else 0
    when = "fitted" if fitted else "at initialisation"
    return UnitStatisticsReport(
        layers=layers, n_samples=n_rows, at_initialization=not fitted,
        findings=_unit_findings(layers, when),
    )


# -- training history --------------------------------------------------------------


@dataclass
class TrainingReport(_Printable):
    """Result of :func:`training_report`.

    Attributes
    ----------
    n_epochs : int
        Epochs in the history.
    final_train_loss : float
        Training loss of the last epoch.
    best_epoch : int or None
        Epoch whose parameters the estimator kept, when it validated.
    best_validation_score : float or None
        That epoch's validation score.
    findings : list of Finding
        Problems and events, in the order of the checks.
    """

    n_epochs: int
    final_train_loss: float
    best_epoch: int | None
    best_validation_score: float | None
    findings: list

    @property
    def healthy(self):
        """bool: whether no finding is a warning."""
        return not any(f.level == "warning" for f in self.findings)

    @property
    def codes(self):
        """list of str: the codes of the findings."""
        return [f.code for f in self.findings]

    def __str__(self):
        line = (f"training report: {self.n_epochs} epochs, final training loss "
                f"{self.final_train_loss:.4g}")
        if self.best_epoch is not None:
            line += (f", best epoch {self.best_epoch} (validation score "
                     f"{self.best_validation_score:.4g})")
        return line + "\n" + _findings_text(self.findings)


def _times(epochs):
    """``'2 times (before epochs 3, 9)'``, shortened for long lists."""
    epochs = [int(e) for e in epochs]
    if len(epochs) <= 5:
        where = ", ".join(map(str, epochs))
        return f"{len(epochs)} time(s) (before epoch(s) {where})"
    return f"{len(epochs)} times (first before epoch {epochs[0]})"


def _rate_findings(epochs, rates, estimator, one_fit):
    findings = []
    ratio = rates[1:] / np.maximum(rates[:-1], np.finfo(float).tiny)
    recovered = list(epochs[1:][ratio <= 0.15])
    if one_fit and rates[0] <= 0.15 * estimator.learning_rate_init:
        recovered.insert(0, epochs[0])
    if recovered:
        findings.append(Finding(
            "divergence_recovered",
            f"the loss exploded and was undone {_times(recovered)}, each time "
            f"dividing the learning rate by 10; it ended at {rates[-1]:.3g}.",
            f"Start at a lower learning_rate_init (about {rates[-1]:.3g}), "
            "normalise the inputs (StandardScaler), or scale down the initial "
            "weights.",
        ))
    if estimator.learning_rate != "invscaling":
        lowered = list(epochs[1:][(ratio > 0.15) & (ratio < 0.99)])
        if lowered:
            findings.append(Finding(
                "learning_rate_lowered",
                f"the learning rate was lowered on a plateau {_times(lowered)}, "
                f"from {rates[0]:.3g} to {rates[-1]:.3g}.",
                "Expected with learning_rate='halving' or 'adaptive'; if it is "
                "lowered in the first few epochs, learning_rate_init is too high.",
                level="info",
            ))
    return findings


def _is_diverging(losses):
    if not np.all(np.isfinite(losses)):
        return True
    best = int(np.argmin(losses))
    lowest, last = losses[best], losses[-1]
    if len(losses) < 3 or best == len(losses) - 1 or last <= 1.5 * lowest:
        return False
    return last >= losses[0] or last - lowest > 0.25 * (losses[0] - lowest)


def _loss_findings(epochs, losses):
    if _is_diverging(losses):
        best = int(np.nanargmin(losses))
        return [Finding(
            "diverging",
            f"the training loss rose from {losses[best]:.4g} (epoch "
            f"{epochs[best]}) to {losses[-1]:.4g} (epoch {epochs[-1]}).",
            "Lower learning_rate_init (by 10x), normalise the inputs "
            "(StandardScaler), scale down the initial weights, or use a "
            "plateau schedule (learning_rate='halving').",
        )]
    if len(losses) < 5:
        return []
    step = np.diff(losses)
    # A rise counts when it is large for the loss, and the loss is not yet
    # small next to its largest value: noise on a loss that has converged
    # (minibatch or dropout noise) is not a bounce.
    ups = (step > 0.05 * losses[:-1]) & (losses[:-1] > 0.05 * losses.max())
    if ups.mean() < 0.2:
        return []
    return [Finding(
        "bouncing",
        f"the training loss went up in {int(ups.sum())} of "
        f"{len(step)} epochs.",
        "Lower the learning rate (by 3 to 10x), use larger minibatches "
        "(batch_size), or a plateau schedule (learning_rate='halving').",
    )]


def _chance_loss(estimator):
    """Training loss of a classifier that outputs the uniform distribution."""
    if not is_classifier(estimator):
        return None
    if estimator.out_activation_ == "softmax":
        return math.log(estimator.n_outputs_)
    return estimator.n_outputs_ * math.log(2.0)


def _validation_findings(estimator, epochs, losses, history):
    """Over- and underfitting from the train/validation curves; early stopping."""
    findings = []
    val = np.array([h.get("val_loss", np.nan) for h in history])
    has_val = bool(np.any(np.isfinite(val)))
    overfit = False
    if has_val:
        best = int(np.nanargmin(val))
        rise = val[-1] - val[best]
        if best < len(val) - 1 and rise > 0.1 * val[best] and losses[-1] < losses[best]:
            overfit = True
            findings.append(Finding(
                "overfitting",
                f"the validation loss rose from {val[best]:.4g} (epoch "
                f"{epochs[best]}) to {val[-1]:.4g} while the training loss fell "
                f"from {losses[best]:.4g} to {losses[-1]:.4g}.",
                "Keep the best epoch (early_stopping=True), add weight decay "
                "(alpha) or dropout, use fewer units, or train on more data.",
            ))
    chance = _chance_loss(estimator)
    if chance is not None and losses[-1] > 2 * chance:
        findings.append(Finding(
            "worse_than_chance",
            f"the training loss is {losses[-1]:.4g}, {losses[-1] / chance:.3g} "
            f"times the {chance:.4g} of a uniform guess: the outputs are "
            "confidently wrong, as after weights blown up by too large steps.",
            "Lower learning_rate_init (by 10x or more), normalise the inputs "
            "(StandardScaler), or scale down the initial weights.",
        ))
    elif not overfit and chance is not None and losses[-1] > 0.5 * chance:
        findings.append(Finding(
            "underfitting",
            f"the training loss is still {losses[-1]:.4g}, {losses[-1] / chance:.0%}"
            f" of the {chance:.4g} of a uniform guess.",
            "Use more units or layers, more epochs (max_iter), a higher "
            "learning rate or less regularisation (alpha, l1_alpha, dropout); "
            "check that the inputs are normalised.",
        ))
    r2 = [h["val_score"] for h in history if "val_score" in h]
    if (not overfit and has_val and is_regressor(estimator)
            and estimator.scoring is None and max(r2) < 0.5
            and val[-1] <= 1.5 * losses[-1]):
        findings.append(Finding(
            "underfitting",
            f"the best validation R^2 is {max(r2):.3g} and the training loss is "
            "no lower than the validation loss.",
            "Use more units or layers, more epochs (max_iter), a higher "
            "learning rate or less regularisation; scale the target "
            "(TransformedTargetRegressor) and the inputs.",
        ))
    return findings


def _best_epoch(estimator, epochs, history):
    if not any("val_score" in h for h in history):
        return None, None
    if getattr(estimator, "scoring", None) == "loss":
        key = np.array([-h.get("val_loss", np.inf) for h in history])
    else:
        key = np.array([h.get("val_score", -np.inf) for h in history])
    best = int(np.argmax(key))
    return int(epochs[best]), float(history[best]["val_score"])


def _stopping_findings(estimator, losses, best_epoch, best_score):
    n_iter = estimator.n_iter_
    if n_iter >= estimator.max_iter:
        k = max(2, len(losses) // 10)
        tail = losses[-k:]
        drop = (tail[0] - tail[-1]) / max(abs(tail[0]), 1e-12)
        if drop > 0.01:
            return [Finding(
                "not_converged",
                f"training used all max_iter={estimator.max_iter} epochs and the "
                f"loss still fell by {drop:.1%} over the last {k}.",
                "Increase max_iter, or raise learning_rate_init.",
            )]
        return []
    if best_epoch is None:
        return []
    return [Finding(
        "early_stopped",
        f"training stopped after {n_iter} epochs without enough improvement on "
        f"the validation set for {estimator.n_iter_no_change} epochs; the "
        f"parameters of epoch {best_epoch} (validation score {best_score:.4g}) "
        "were kept.",
        "Nothing to fix. If the best epoch came very early the learning rate "
        "may be too high; if the validation curve is noisy, raise "
        "n_iter_no_change.",
        level="info",
    )]


def training_report(estimator):
    """Read a fitted estimator's per-epoch history for signs of trouble.

    Parameters
    ----------
    estimator : estimator or Pipeline
        A fitted sknets network estimator trained with a stochastic solver
        (``sgd``, ``adam`` or ``adagrad``), or a pipeline ending in one.

    Returns
    -------
    report : TrainingReport
        The findings, each with a code, what was seen and a remedy;
        ``print(report)`` lists them.

    Notes
    -----
    With ``l_e`` the training loss of epoch ``e`` (``history_``) and
    ``r_e`` its learning rate, the findings (by code) are:

    - ``diverging``: a non-finite loss, or a last loss above 1.5 times the
      lowest, either above the first or more than 25% of the way back up
      from the lowest to the first. Remedy: a lower rate (LeCun et al.,
      1998), normalised inputs, smaller initial weights.
    - ``divergence_recovered``: ``r_e / r_(e-1) <= 0.15``, the factor-10 cut
      by which ``fit`` undoes an exploding loss.
    - ``bouncing``: (not diverging) the loss rose by more than 5% in at
      least 20% of the epochs (5 or more), not counting rises from below 5%
      of the largest loss (noise once it has converged).
      Remedy: a lower rate, larger minibatches.
    - ``learning_rate_lowered`` (info): ``0.15 < r_e / r_(e-1) < 0.99``, a
      plateau cut of the ``halving`` or ``adaptive`` schedule.
    - ``overfitting``: the validation loss rose by more than 10% above its
      minimum while the training loss kept falling. Remedy: early stopping,
      weight decay, dropout (Srivastava et al., 2014), more data.
    - ``worse_than_chance``: a classifier whose last training loss is above
      twice the loss of a uniform guess (``log K`` for ``K`` classes, ``log 2``
      per output for logistic outputs): confidently wrong outputs. Remedy: a
      lower rate, normalised inputs.
    - ``underfitting``: a classifier whose last training loss is above half
      the loss of a uniform guess (``log K`` for ``K`` classes), or a
      regressor whose best validation R^2 is below 0.5 with no
      train/validation gap; not reported with ``not_converged`` or
      ``diverging``. Remedy:
      more capacity, more epochs, a higher rate, less regularisation.
    - ``not_converged``: all ``max_iter`` epochs used and the loss still fell
      by more than 1% over the last tenth of them.
    - ``early_stopped`` (info): training stopped on a validation plateau and
      the best epoch was kept.
    - ``no_history`` (info): ``solver='lbfgs'`` records no epochs.

    References
    ----------
    LeCun, Y., Bottou, L., Orr, G. B. and Mueller, K.-R. (1998). Efficient
    BackProp. In Neural Networks: Tricks of the Trade.

    Srivastava, N., Hinton, G., Krizhevsky, A., Sutskever, I. and
    Salakhutdinov, R. (2014). Dropout: a simple way to prevent neural
    networks from overfitting. JMLR 15.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sknets import MLPClassifier
    >>> from sknets.diagnostics import training_report
    >>> X, y = load_iris(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> clf = MLPClassifier(hidden_layer_sizes=(10,), solver="sgd",
    ...                     learning_rate_init=0.1, max_iter=100,
    ...                     early_stopping=True, random_state=0).fit(X, y)
    >>> report = training_report(clf)
    >>> report.healthy
    True
    """
    _, final = _final_step(estimator)
    check_is_fitted(final)
    history = list(getattr(final, "history_", None) or [])
    if not history:
        return TrainingReport(
            n_epochs=0, final_train_loss=float(final.loss_), best_epoch=None,
            best_validation_score=None,
            findings=[Finding(
                "no_history",
                f"solver={final.solver!r} records no per-epoch history.",
                "Train with 'sgd', 'adam' or 'adagrad' to see the curves.",
                level="info",
            )],
        )
    epochs = np.array([h["epoch"] for h in history])
    losses = np.array([h["train_loss"] for h in history], dtype=float)
    rates = np.array([h["learning_rate"] for h in history], dtype=float)
    best_epoch, best_score = _best_epoch(final, epochs, history)
    findings = _loss_findings(epochs, losses)
    findings += _rate_findings(epochs, rates, final,
                               one_fit=len(history) == final.n_iter_)
    stopping = _stopping_findings(final, losses, best_epoch, best_score)
    fit = _validation_findings(final, epochs, losses, history)
    if any(f.code in ("not_converged", "diverging") for f in stopping + findings):
        # A run cut short or diverging says nothing about the capacity.
        fit = [f for f in fit if f.code != "underfitting"]
    findings += fit + stopping
    return TrainingReport(
        n_epochs=len(history), final_train_loss=float(losses[-1]),
        best_epoch=best_epoch, best_validation_score=best_score,
        findings=findings,
    )


# -- overfitting a small subset ------------------------------------------------------


@dataclass
class OverfitReport(_Printable):
    """Result of :func:`check_overfit`.

    Attributes
    ----------
    passed : bool
        Whether the training score reached ``threshold``.
    metric : str
        What ``score`` measures: ``"training accuracy"``, ``"training R^2"``
        or ``"reconstruction R^2"`` (autoencoders).
    score : float
        The score reached on the subset it was trained on.
    threshold : float
        The score a model that can learn should reach.
    n_samples : int
        Size of the training subset.
    n_epochs : int
        Epochs trained (iterations for ``solver='lbfgs'``).
    initial_loss, final_loss : float
        Training loss of the first and last epoch.
    findings : list of Finding
        Likely causes, when the check failed (empty when it passed).
    model : estimator
        The unregularised clone, trained on the subset.
    """

    passed: bool
    metric: str
    score: float
    threshold: float
    n_samples: int
    n_epochs: int
    initial_loss: float
    final_loss: float
    findings: list
    model: object = field(repr=False)

    def __str__(self):
        verdict = "passed" if self.passed else "FAILED"
        lines = [
            f"overfit check {verdict}: {self.metric} {self.score:.4f} on "
            f"{self.n_samples} samples (needs {self.threshold:.4f}) after "
            f"{self.n_epochs} epochs; training loss {self.initial_loss:.4g} -> "
            f"{self.final_loss:.4g}",
        ]
        if not self.passed:
            lines.append(_findings_text(self.findings, "no obvious cause"))
        return "\n".join(lines)


def _set_final_params(model, final, **params):
    """Set the network estimator's parameters that it has, inside a pipeline too."""
    own = final.get_params(deep=False)
    prefix = f"{model.steps[-1][0]}__" if isinstance(model, Pipeline) else ""
    model.set_params(**{prefix + k: v for k, v in params.items() if k in own})


def _network_input(model, X):
    preprocess, _ = _final_step(model)
    return X if preprocess is None else preprocess.transform(X)


def _reconstruction_r2(X, X_hat):
    X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
    total = np.sum((X - X.mean(axis=0)) ** 2)
    return 1.0 - float(np.sum((X - X_hat) ** 2)) / max(total, 1e-12)


def _training_score(model, X, y):
    _, final = _final_step(model)
    if isinstance(final, AutoencoderTransformer):
        Xt = _network_input(model, X)
        return _reconstruction_r2(Xt, final.inverse_transform(final.transform(Xt)))
    return float(model.score(X, y))


def _default_threshold(model, final, X):
    if is_classifier(final):
        return "training accuracy", 0.99
    if not isinstance(final, AutoencoderTransformer):
        return "training R^2", 0.9
    Xt = np.asarray(_network_input(model, X), dtype=np.float64)
    n_components = min(final._network.code_size, *Xt.shape)
    pca = PCA(n_components=n_components).fit(Xt)
    r2 = _reconstruction_r2(Xt, pca.inverse_transform(pca.transform(Xt)))
    return "reconstruction R^2", 0.9 * r2


def _scale_findings(model, final, X, y):
    findings = []
    Xt = _network_input(model, X)
    if not sp.issparse(Xt):
        Xt = np.asarray(Xt, dtype=np.float64)
        mean, std = np.abs(Xt.mean(axis=0)).max(), Xt.std(axis=0).max()
        if mean > 5 or std > 5:
            findings.append(Finding(
                "unnormalised_inputs",
                f"the inputs are far from zero mean and unit variance (largest "
                f"|mean| {mean:.3g}, largest standard deviation {std:.3g}).",
                "Standardise them (StandardScaler in a Pipeline) or scale them "
                "to [0, 1].",
            ))
    if is_regressor(final) and getattr(final, "loss", "squared_error") == (
        "squared_error"
    ):
        y = np.asarray(y, dtype=np.float64)
        if np.abs(y.mean(axis=0)).max() > 10 or y.std(axis=0).max() > 10:
            findings.append(Finding(
                "unscaled_target",
                f"the target has mean {y.mean():.3g} and standard deviation "
                f"{y.std():.3g}: the network starts far from it.",
                "Wrap the regressor in TransformedTargetRegressor(regressor=..., "
                "transformer=StandardScaler()).",
            ))
    return findings


def _overfit_findings(model, final, X, y, done, total, initial_stats):
    """Likely causes of a failed overfit check, most telling first."""
    findings = _scale_findings(model, final, X, y)
    findings += initial_stats.findings
    if "_network" not in final.__dict__:
        return findings
    findings += [f for f in unit_statistics(model, X, n_samples=None).findings
                 if f.code == "dead_units"]
    history = final.history_
    losses = np.array([h["train_loss"] for h in history], dtype=float)
    if len(losses) >= 2:
        # Flat: neither fell nor rose by 5% (a rise is the opposite problem).
        if np.ptp(losses) < 0.05 * abs(losses[0]):
            findings.append(Finding(
                "learning_rate_too_low",
                f"the training loss hardly moved in {len(losses)} epochs "
                f"({losses[0]:.4g} to {losses[-1]:.4g}).",
                f"Raise learning_rate_init (now {final.learning_rate_init:g}), "
                "e.g. by 10x; if units are saturated, fix that first.",
            ))
        k = max(2, len(losses) // 10)
        if done >= total and losses[-k] - losses[-1] > 0.01 * abs(losses[-k]):
            findings.append(Finding(
                "too_few_iterations",
                f"the loss was still falling after {done} epochs.",
                "Train longer (max_iter) or with a higher learning rate.",
            ))
    findings += [f for f in training_report(model).findings
                 if f.code in ("diverging", "divergence_recovered", "bouncing",
                               "worse_than_chance")]
    sizes = np.atleast_1d(final.hidden_layer_sizes)
    if not isinstance(final, AutoencoderTransformer) and (
        sizes.min() < max(10, final.n_outputs_)
    ):
        findings.append(Finding(
            "too_few_units",
            f"the smallest hidden layer has {sizes.min()} units.",
            "Use more units (hidden_layer_sizes), e.g. 100 per layer.",
        ))
    return findings


def check_overfit(estimator, X, y=None, *, n_samples=1000, max_iter=None,
                  threshold=None, random_state=0):
    """Check that the model can learn a small training set by heart.

    A network that cannot drive its training error to (nearly) zero on a
    few hundred samples, with every regulariser off, has an optimisation
    problem (learning rate, initialisation, input scale, capacity), whatever
    its test score. This check trains a clone of ``estimator`` on a random
    subset of ``(X, y)`` with ``alpha=0``, ``l1_alpha=0``, no dropout, no
    early stopping and no input corruption or sparsity penalty (every other
    parameter as given) and measures the training score it reaches; when it
    falls short, it lists the likely causes. The estimator is not modified.

    Parameters
    ----------
    estimator : estimator or Pipeline
        An sknets network estimator (fitted or not), or a pipeline ending in
        one.
    X : array-like of shape (n_samples, n_features)
        Training data.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
        Targets (None for an autoencoder).
    n_samples : int, default=1000
        Size of the random subset (all of ``X`` if it is smaller).
    max_iter : int, default=None
        Most epochs to train; None: ``max(estimator.max_iter, 1000)``.
        Training goes in steps of 50 epochs (warm-started) and stops as soon
        as the threshold is reached, or when the training loss stops
        improving.
    threshold : float, default=None
        Training score to reach. None: accuracy 0.99 for a classifier, R^2
        0.9 for a regressor, and for an autoencoder 0.9 times the
        reconstruction R^2 of PCA with as many components as the code.
    random_state : int, RandomState instance or None, default=0
        Draws the subset.

    Returns
    -------
    report : OverfitReport
        Whether it passed, the score and losses, the findings and the
        trained clone (``report.model``); ``print(report)`` summarises it.

    Notes
    -----
    The score is the estimator's ``score`` on the subset (accuracy, or
    R^2 = ``1 - SSE / SST``); for an autoencoder it is the reconstruction
    R^2, ``1 - sum (x - x_hat)^2 / sum (x - mean(x))^2``. A linear
    autoencoder with a code of size ``k`` can do at best as well as PCA
    with ``k`` components, so 90% of PCA's R^2 is asked of a non-linear
    one. The causes looked for when the check fails: inputs far from
    standardised (a column mean or standard deviation above 5) or an
    unscaled regression target (above 10); saturated units at
    initialisation and dead units after training (see
    :func:`unit_statistics`); a loss that moved by less than 5% (learning
    rate too low); a loss still falling at the end (too few iterations);
    a diverging or bouncing loss (see :func:`training_report`); a hidden
    layer narrower than 10 units or than the number of outputs.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sknets import MLPClassifier
    >>> from sknets.diagnostics import check_overfit
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = MLPClassifier(hidden_layer_sizes=(30,), random_state=0)
    >>> check_overfit(clf, X / 16, y, n_samples=200).passed
    True
    >>> crippled = clf.set_params(solver="sgd", learning_rate_init=1e-7)
    >>> report = check_overfit(crippled, X / 16, y, n_samples=200)
    >>> report.passed
    False
    >>> "learning_rate_too_low" in [finding.code for finding in report.findings]
    True
    """
    rng = check_random_state(random_state)
    n = _n_rows(X)
    rows = np.sort(rng.choice(n, min(n_samples, n), replace=False))
    X, y = _take_rows(X, rows), (None if y is None else _take_rows(y, rows))
    model = clone(estimator)
    _, final = _final_step(model)
    _set_final_params(
        model, final, alpha=0.0, l1_alpha=0.0, dropout=0.0, input_dropout=0.0,
        early_stopping=False, corruption_level=0.0, sparsity_weight=0.0,
        pretrain_corruption_level=0.0, warm_start=True, verbose=False,
    )
    total = max_iter if max_iter is not None else max(final.max_iter, 1000)
    step = total if final.solver == "lbfgs" else min(total, _OVERFIT_CHUNK)
    initial_stats = unit_statistics(model, X, y, n_samples=None)
    metric, done, score, error = None, 0, -np.inf, None
    with warnings.catch_warnings():
        # Convergence warnings of each step say nothing here.
        warnings.simplefilter("ignore")
        while done < total:
            this_step = min(step, total - done)
            _set_final_params(model, final, max_iter=this_step)
            try:
                model.fit(X, y)
            except DivergenceError as exc:
                error = exc
                break
            _, final = _final_step(model)
            done += final.n_iter_
            if metric is None:
                metric, default = _default_threshold(model, final, X)
                threshold = default if threshold is None else threshold
            score = _training_score(model, X, y)
            if score >= threshold or final.solver == "lbfgs" or (
                final.n_iter_ < this_step
            ):
                break
    # The clone as if trained in one go (a refit starts afresh).
    _set_final_params(model, final, max_iter=total, warm_start=False)
    if metric is None:  # diverged before a single step finished
        metric = "training score"
        threshold = np.nan if threshold is None else threshold
    passed = bool(score >= threshold)
    findings = []
    if not passed:
        if error is not None:
            findings.append(Finding(
                "diverged", str(error),
                "Lower learning_rate_init by 10x, normalise the inputs, or "
                "scale down the initial weights.",
            ))
        findings += _overfit_findings(model, final, X, y, done, total, initial_stats)
    fitted = "_network" in final.__dict__
    losses = [h["train_loss"] for h in final.history_] if fitted else []
    if fitted and not losses:  # lbfgs
        losses = [final.loss_]
    return OverfitReport(
        passed=passed, metric=metric, score=float(score),
        threshold=float(threshold), n_samples=len(rows), n_epochs=done,
        initial_loss=float(losses[0]) if losses else np.nan,
        final_loss=float(losses[-1]) if losses else np.nan,
        findings=findings, model=model,
    )
