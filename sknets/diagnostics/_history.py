"""What a fitted estimator's per-epoch history says about its training."""

import math
from dataclasses import dataclass

import numpy as np
from sklearn.base import is_classifier, is_regressor

from .._solvers import stochastic_solvers_text
from ._estimator import _fitted_final_step
from ._findings import Finding, _findings_text, _Printable


@dataclass
class TrainingReport(_Printable):
    """Result of :func:`training_report`.

    Parameters
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
    solver : str or None, default=None
        The estimator's solver.
    n_iter : int or None, default=None
        Iterations of the last fit: epochs for the stochastic solvers,
        L-BFGS iterations for ``solver='lbfgs'`` (which records no epochs).
    """

    n_epochs: int
    final_train_loss: float
    best_epoch: int | None
    best_validation_score: float | None
    findings: list
    solver: str | None = None
    n_iter: int | None = None

    @property
    def healthy(self):
        """bool: whether no finding is a warning."""
        return not any(f.level == "warning" for f in self.findings)

    @property
    def codes(self):
        """list of str: the codes of the findings."""
        return [f.code for f in self.findings]

    def __str__(self):
        if self.n_epochs == 0 and self.n_iter is not None:
            # No history: L-BFGS counts iterations, not epochs.
            done = f"solver={self.solver!r}, {self.n_iter} iterations"
        else:
            done = f"{self.n_epochs} epochs"
        line = (f"training report: {done}, final training loss "
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
    """Learning-rate cuts: by 10 after a divergence, or on a plateau."""
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
    """Whether the loss is non-finite or has climbed well back from its low."""
    if not np.all(np.isfinite(losses)):
        return True
    best = int(np.argmin(losses))
    lowest, last = losses[best], losses[-1]
    if len(losses) < 3 or best == len(losses) - 1 or last <= 1.5 * lowest:
        return False
    return last >= losses[0] or last - lowest > 0.25 * (losses[0] - lowest)


def _loss_findings(epochs, losses):
    """A diverging, else a bouncing, training loss."""
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
    """Over- and underfitting, from the training and validation losses."""
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
    """``(epoch, validation score)`` of the best epoch, or ``(None, None)``."""
    if not any("val_score" in h for h in history):
        return None, None
    if estimator._training_options().monitor == "loss":
        key = np.array([-h.get("val_loss", np.inf) for h in history])
    else:
        key = np.array([h.get("val_score", -np.inf) for h in history])
    best = int(np.argmax(key))
    return int(epochs[best]), float(history[best]["val_score"])


def _recent_drop(losses):
    """``(drop, k)``: the relative fall of the loss over its last ``k`` epochs.

    ``k`` is a tenth of the epochs, at least 2.
    """
    k = max(2, len(losses) // 10)
    tail = losses[-k:]
    return (tail[0] - tail[-1]) / max(abs(tail[0]), 1e-12), k


def _stopping_findings(estimator, history):
    """Why the last fit stopped: out of epochs while still improving, early
    on a validation plateau, or at the learning-rate floor; and the epochs
    it spent after its best one, when they are many. Read on the last fit's
    epochs (``n_iter_`` of them: a warm start's history holds earlier fits
    too) and its recorded stop reason; a ``partial_fit`` call, an interrupt
    or a callback's stop says nothing here."""
    n_iter = estimator.n_iter_
    last = history[-n_iter:] if 0 < n_iter <= len(history) else history
    epochs = np.array([h["epoch"] for h in last])
    losses = np.array([h["train_loss"] for h in last], dtype=float)
    rates = np.array([h["learning_rate"] for h in last], dtype=float)
    if n_iter >= estimator.max_iter:
        drop, k = _recent_drop(losses)
        if drop > 0.01:
            return [Finding(
                "not_converged",
                f"training used all max_iter={estimator.max_iter} epochs and the "
                f"loss still fell by {drop:.1%} over the last {k} epochs.",
                "Increase max_iter, or raise learning_rate_init.",
            )]
        return []
    # Models saved before the reason was recorded: "unknown".
    reason = (getattr(estimator, "_train_state", None) or {}).get(
        "stop_reason", "unknown")
    best_epoch, best_score = _best_epoch(estimator, epochs, last)
    kept = ("" if best_epoch is None else
            f"; the parameters of epoch {best_epoch} (validation score "
            f"{best_score:.4g}) were kept")
    patience = estimator.n_iter_no_change
    on = "the validation set" if best_epoch is not None else "the training loss"
    wasted = ([] if best_epoch is None or reason == "unknown" else
              _wasted_findings(estimator, epochs, rates, best_epoch, reason))
    fine = "See wasted_epochs." if wasted else "Nothing to fix."
    if reason == "learning_rate_floor":
        ratio = rates[1:] / np.maximum(rates[:-1], np.finfo(float).tiny)
        n_cuts = int(np.count_nonzero((ratio > 0.15) & (ratio < 0.99)))
        findings = [Finding(
            "learning_rate_floor",
            f"training stopped after {n_iter} epochs because the learning rate, "
            f"lowered {n_cuts} time(s) on plateaus of {on} (from {rates[0]:.3g} "
            f"to {rates[-1]:.3g}), would have fallen below its floor"
            f"{_floor_text(estimator)}{kept}.",
            fine,
            level="info",
        )]
    elif reason in ("plateau", "unknown") and best_epoch is not None:
        findings = [Finding(
            "early_stopped",
            f"training stopped after {n_iter} epochs without enough improvement "
            f"on the validation set for {patience} epochs{kept}.",
            f"{fine} If the best epoch came very early the learning rate may "
            "be too high; if the validation curve is noisy, raise "
            "n_iter_no_change.",
            level="info",
        )]
    else:
        return []
    return findings + wasted


def _floor_text(estimator):
    floor = getattr(estimator, "min_learning_rate", None)
    if estimator.learning_rate == "halving" and floor is not None:
        return f" (min_learning_rate={floor:g})"
    if estimator.learning_rate == "adaptive":
        return " (1e-06 for learning_rate='adaptive')"
    return ""


# Epochs after the best one count as wasted when they are more than this
# share of the fit's epochs, and, after a constant rate, more than this many
# patience windows, or, on a plateau schedule, span more than this many cuts
# of the rate (the remedy's floor allows exactly that many).
_WASTED_SHARE = 0.5
_WASTED_PATIENCES = 3
_WASTED_CUTS = 3


def _wasted_findings(estimator, epochs, rates, best_epoch, reason):
    """The epochs run after the best one, when they are most of the fit."""
    after = int(epochs[-1] - best_epoch)
    patience = estimator.n_iter_no_change
    best = int(np.searchsorted(epochs, best_epoch))
    best_rate = float(rates[best])
    n_cuts = int(np.count_nonzero(rates[best + 1:] < 0.99 * rates[best:-1]))
    if after <= _WASTED_SHARE * len(epochs):
        return []
    if reason == "learning_rate_floor":
        if n_cuts <= _WASTED_CUTS:
            return []
        floor = f"{best_rate / 2 ** _WASTED_CUTS:.6g}"
        if estimator.learning_rate == "halving":
            remedy = (
                "The learning-rate cuts after the best epoch found nothing "
                f"better: raise the floor (e.g. min_learning_rate={floor}, "
                f"{_WASTED_CUTS} halvings below the best epoch's rate of "
                f"{best_rate:.3g}), lower n_iter_no_change (now {patience}) so "
                "each plateau ends sooner, or use learning_rate='constant' with "
                "early stopping."
            )
        else:  # 'adaptive' (or a registered schedule): its floor is fixed
            remedy = (
                "The learning-rate cuts after the best epoch found nothing "
                f"better: lower n_iter_no_change (now {patience}) so each "
                "plateau ends sooner, or use learning_rate='halving' with a "
                f"floor (e.g. min_learning_rate={floor}, {_WASTED_CUTS} "
                "halvings below the best epoch's rate)."
            )
        detail = (f" and {n_cuts} learning-rate cuts, down to "
                  f"{float(rates[-1]):.3g},")
    else:
        if after <= _WASTED_PATIENCES * (patience + 1):
            return []
        remedy = (f"Lower n_iter_no_change (now {patience}); the best epoch is "
                  "kept either way.")
        detail = ""
    return [Finding(
        "wasted_epochs",
        f"{after} of the {len(epochs)} epochs{detail} ran after the best epoch "
        f"({best_epoch}) without improving on the validation set: "
        f"{after / len(epochs):.0%} of the training time bought nothing.",
        remedy,
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
    - ``learning_rate_floor`` (info): a plateau schedule (``halving``,
      ``adaptive``) lowered the rate until the next cut would have gone
      below its floor (``min_learning_rate``), which ended training.
    - ``wasted_epochs``: more than half of the epochs ran after the best
      validated epoch, and with them more than three cuts of the rate (a
      plateau schedule) or more than three times the patience
      (``n_iter_no_change + 1`` epochs). Remedy: with a plateau schedule, a
      floor three halvings below the best epoch's rate
      (``min_learning_rate``) or a lower ``n_iter_no_change``; otherwise a
      lower ``n_iter_no_change``.
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
    final = _fitted_final_step(estimator)
    history = final.history_
    if not history:
        return TrainingReport(
            n_epochs=0, final_train_loss=float(final.loss_), best_epoch=None,
            best_validation_score=None, solver=final.solver,
            n_iter=int(final.n_iter_),
            findings=[Finding(
                "no_history",
                f"solver={final.solver!r} records no per-epoch history.",
                f"Train with {stochastic_solvers_text()} to see the curves.",
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
    stopping = _stopping_findings(final, history)
    fit = _validation_findings(final, epochs, losses, history)
    if any(f.code in ("not_converged", "diverging") for f in stopping + findings):
        # A run cut short or diverging says nothing about the capacity.
        fit = [f for f in fit if f.code != "underfitting"]
    findings += fit + stopping
    return TrainingReport(
        n_epochs=len(history), final_train_loss=float(losses[-1]),
        best_epoch=best_epoch, best_validation_score=best_score,
        findings=findings, solver=final.solver, n_iter=int(final.n_iter_),
    )
