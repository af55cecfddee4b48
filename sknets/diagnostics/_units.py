"""Statistics of the hidden units: saturated, dead, sparse, correlated, constant."""

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone

from .._autoencoder import AutoencoderTransformer
from ._estimator import (
    _final_step,
    _initial_network,
    _is_fitted,
    _network_input,
    _subsample,
)
from ._findings import Finding, _findings_text, _Printable

# A layer is flagged when at least this fraction of its units is affected.
_FLAG_FRACTION = 0.25
# Mean absolute correlation above which a layer's units are called redundant.
_REDUNDANT_CORRELATION = 0.8
# Standard deviation over the samples at or below which a unit is constant.
_CONSTANT_STD = 1e-3


@dataclass
class LayerStatistics(_Printable):
    """Statistics of one hidden layer's activations over a set of samples.

    Parameters
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

    Parameters
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
    X, y = _subsample(X, y, n_samples, random_state)
    preprocess, final = _final_step(estimator)
    fitted = _is_fitted(estimator)
    if fitted:
        X_net = final._validate_X(_network_input(estimator, X))
        network = final._network
    else:
        if y is None and not isinstance(final, AutoencoderTransformer):
            raise ValueError(
                f"{type(final).__name__} is not fitted: pass y as well, so that "
                "its initial network (the one fit starts from) can be built."
            )
        if preprocess is not None:
            X = clone(preprocess).fit_transform(X, y)
        network, X_net, _, _ = _initial_network(final, X, y)
    if sp.issparse(X_net):
        X_net = X_net.toarray()
    if not fitted and any(layer.population_units is not None
                          for layer in network.layers):
        # Normalise with the statistics of X, as training would from the
        # first minibatch, not with the placeholder population (0, 1).
        network.set_population_statistics(lambda: [(X_net, None)])
    with np.errstate(over="ignore", under="ignore"):
        out = [(f"hidden{depth}", layer.name, A) for depth, (layer, A)
               in enumerate(network.hidden_outputs(X_net), start=1)]
    return out, fitted


def _layer_statistics(name, activation, A, saturation, zero_tolerance):
    """The :class:`LayerStatistics` of activations ``A`` (samples x units)."""
    A = np.asarray(A, dtype=np.float64)
    n_units = A.shape[1]
    std = A.std(axis=0)
    constant = np.flatnonzero(std <= _CONSTANT_STD)
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
    """Findings for layers with many saturated, dead, constant or alike units."""
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
    with the statistics of ``X``, as training does. This shows saturation
    caused by the initialisation or by the input scale before any training
    time is spent.

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

