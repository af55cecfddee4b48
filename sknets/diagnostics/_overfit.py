"""Can the model learn a small training set by heart?"""

import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline

from .. import _solvers
from .._autoencoder import AutoencoderTransformer
from .._engine.errors import DivergenceError
from ._estimator import _final_step, _is_fitted, _n_rows, _network_input, _subsample
from ._findings import Finding, _findings_text, _Printable
from ._history import _recent_drop, training_report
from ._units import unit_statistics

# Epochs per warm-started step of check_overfit, which stops once it passes.
_OVERFIT_CHUNK = 50


@dataclass
class OverfitReport(_Printable):
    """Result of :func:`check_overfit`.

    Parameters
    ----------
    passed : bool
        Whether the training score reached ``threshold``.
    metric : str
        What ``score`` measures: ``"training accuracy"``, ``"training R^2"``
        or ``"reconstruction R^2"`` (autoencoders); ``"training score"``
        when training diverged before the first score.
    score : float
        The score reached on the subset it was trained on.
    threshold : float
        The score a model that can learn should reach.
    n_samples : int
        Size of the training subset.
    n_epochs : int
        Epochs trained (iterations for ``solver='lbfgs'``).
    initial_loss, final_loss : float
        Training loss of the first and last epoch (both the final loss for
        ``solver='lbfgs'``, NaN when training diverged at once).
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


def _reconstruction_r2(X, X_hat):
    """``1 - SSE / SST`` of a reconstruction, over all features together."""
    X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
    total = np.sum((X - X.mean(axis=0)) ** 2)
    return 1.0 - float(np.sum((X - X_hat) ** 2)) / max(total, 1e-12)


def _training_score(model, X, y):
    """``model.score`` on the training data; reconstruction R^2 for an autoencoder."""
    _, final = _final_step(model)
    if isinstance(final, AutoencoderTransformer):
        Xt = _network_input(model, X)
        return _reconstruction_r2(Xt, final.inverse_transform(final.transform(Xt)))
    return float(model.score(X, y))


def _default_threshold(model, final, X):
    """``(metric, threshold)``: what the score measures and what it must reach."""
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
    """Inputs far from standardised; a regression target far from scaled."""
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


def _overfit_findings(model, final, X, y, done, total, initial_findings):
    """Likely causes of a failed overfit check, most telling first."""
    findings = _scale_findings(model, final, X, y) + initial_findings
    if not _is_fitted(final):
        return findings
    findings += [f for f in unit_statistics(model, X, n_samples=None).findings
                 if f.code == "dead_units"]
    losses = np.asarray(final.loss_curve_, dtype=float)
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
        if done >= total and _recent_drop(losses)[0] > 0.01:
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
    max_iter : int or None, default=None
        Most epochs to train; None: ``max(estimator.max_iter, 1000)``.
        Training goes in steps of 50 epochs (warm-started) and stops as soon
        as the threshold is reached, or when the training loss stops
        improving.
    threshold : float or None, default=None
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
    X, y = _subsample(X, y, n_samples, random_state)
    model = clone(estimator)
    _, final = _final_step(model)
    _set_final_params(
        model, final, alpha=0.0, l1_alpha=0.0, dropout=0.0, input_dropout=0.0,
        early_stopping=False, corruption_level=0.0, sparsity_weight=0.0,
        pretrain_corruption_level=0.0, warm_start=True, verbose=False,
    )
    total = max_iter if max_iter is not None else max(final.max_iter, 1000)
    full_batch = not _solvers.is_stochastic(final.solver)
    step = total if full_batch else min(total, _OVERFIT_CHUNK)
    initial_findings = unit_statistics(model, X, y, n_samples=None).findings
    metric, done, score, error = None, 0, -np.inf, None
    with warnings.catch_warnings():
        # Every short step warns that it did not converge (and of any
        # divergence it undid); the findings say what matters instead.
        warnings.simplefilter("ignore")
        while done < total:
            this_step = min(step, total - done)
            _set_final_params(model, final, max_iter=this_step)
            try:
                model.fit(X, y)
            except DivergenceError as exc:
                error = exc
                break
            done += final.n_iter_
            if metric is None:
                metric, default = _default_threshold(model, final, X)
                threshold = default if threshold is None else threshold
            score = _training_score(model, X, y)
            if score >= threshold or not _solvers.is_stochastic(final.solver) or (
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
        findings += _overfit_findings(model, final, X, y, done, total,
                                      initial_findings)
    losses = final.loss_curve_ if _is_fitted(final) else []
    return OverfitReport(
        passed=passed, metric=metric, score=float(score),
        threshold=float(threshold), n_samples=_n_rows(X), n_epochs=done,
        initial_loss=float(losses[0]) if losses else np.nan,
        final_loss=float(losses[-1]) if losses else np.nan,
        findings=findings, model=model,
    )
