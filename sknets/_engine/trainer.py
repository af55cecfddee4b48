"""The training loop: minibatches, validation, schedules, stopping, recovery.

The loop asks separate objects what to do: the optimiser (how to step), the
schedule (which learning rate, and whether a plateau lowers it), the plateau
monitor (whether the watched quantity still improves) and the divergence
guard (whether an epoch's loss exploded, and where to go back to). Around
them, *listeners* receive the loop's events (:class:`Listener`: fit begin
and end, epoch begin and end, step): keeping the best epoch, stopping on a
plateau, max-norm, printing, and whatever the caller adds (the estimators'
bridge to scikit-learn's callbacks is one). Everything a fit changes lives in
a per-fit :class:`Run`; the loop returns a :class:`TrainResult` and never
touches an estimator.
"""

import math
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from .errors import DivergenceError, warn
from .lbfgs import train_lbfgs
from .ops import get_ops
from .stopping import PlateauMonitor


class Minibatches:
    """Minibatches of the training rows ``indices`` of ``X`` (None: all rows).

    Rows are gathered by index into buffers reused from batch to batch (a
    batch is valid until the next one is drawn), so the data set itself is
    never copied and no batch allocates. With
    ``min_last_batch=2`` (batch normalisation) a trailing one-row batch is
    merged into the one before.
    """

    def __init__(self, X, Y, sample_weight=None, indices=None, batch_size=200,
                 shuffle=True, min_last_batch=1, ops=None):
        self.ops = get_ops() if ops is None else ops
        self.X = X
        self.Y = Y
        self.sample_weight = sample_weight
        self.indices = indices
        self.n_samples = X.shape[0] if indices is None else len(indices)
        self.batch_size = max(1, min(batch_size, self.n_samples))
        self.shuffle = shuffle
        self.min_last_batch = min_last_batch

    def __iter__(self):
        raise TypeError("Use iterate(rng).")

    def _bounds(self):
        n, size = self.n_samples, self.batch_size
        starts = list(range(0, n, size))
        if self.min_last_batch > 1 and len(starts) > 1 and n - starts[-1] < 2:
            # A one-row batch has no batch statistics: fold it into the last.
            starts.pop()
        return zip(starts, starts[1:] + [n], strict=True)

    def iterate(self, rng):
        if self.indices is None and not self.shuffle:
            for start, stop in self._bounds():
                yield self._slice(slice(start, stop))
            return
        order = self.ops.batch_order(self.n_samples, self.indices, rng,
                                     self.shuffle)
        for start, stop in self._bounds():
            yield self._gather(order[start:stop])

    def _slice(self, s):
        sw = None if self.sample_weight is None else self.sample_weight[s]
        return self.X[s], self.Y[s], sw

    def _gather(self, idx):
        sw = None if self.sample_weight is None else self.sample_weight[idx]
        if self.ops.is_sparse(self.X):
            return self.ops.gather_rows(self.X, idx), self.Y[idx], sw
        Xb = self._take(self.X, idx, "_X_buf")
        # An autoencoder's target is its input: gather it once.
        Yb = Xb if self.Y is self.X else self._take(self.Y, idx, "_Y_buf")
        return Xb, Yb, sw

    def _take(self, data, idx, name):
        """Rows ``idx`` of ``data`` gathered into a reused buffer."""
        buf = getattr(self, name, None)
        if buf is None:
            buf = self.ops.empty((self.batch_size + 1, data.shape[1]), data.dtype)
            setattr(self, name, buf)
        return self.ops.gather_rows(data, idx, out=buf)

    def chunks(self, rows=4096):
        """``(X, sample_weight)`` row blocks of the training data, in order."""
        order = None if self.indices is None else self.ops.sorted_indices(
            self.indices)
        sw = self.sample_weight
        for start in range(0, self.n_samples, rows):
            if order is None:
                block = slice(start, start + rows)
            else:
                block = order[start : start + rows]
            yield self.X[block], (None if sw is None else sw[block])


@dataclass
class TrainResult:
    """What one call of the training loop produced."""

    history: list = field(default_factory=list)
    n_iter: int = 0
    t: int = 0
    loss: float = math.nan
    best_loss: float = math.inf
    best_validation_score: float = None
    best_epoch: int = None
    stop_reason: str = None
    n_recoveries: int = 0
    n_rate_cuts: int = 0  # plateau cuts of the learning rate

    @property
    def converged(self):
        return self.stop_reason in ("plateau", "learning_rate_floor")


@dataclass
class Validation:
    """A validation set of the training loop.

    Parameters
    ----------
    X, Y : arrays
        Inputs and encoded targets.
    sample_weight : array, optional
        Weights of the validation rows (of ``rows``, in order, if given).
    rows : array of int, optional
        With ``rows``, the validation set is those rows of ``X`` and ``Y``
        (held out of the training data, which is then never copied whole).
    """

    X: Any
    Y: Any
    sample_weight: Any = None
    rows: Any = None

    @classmethod
    def of(cls, value):
        """A Validation from one, from ``(X, Y, sw[, rows])``, or None."""
        if value is None or isinstance(value, cls):
            return value
        return cls(*value)


class Listener:
    """Receives the training loop's events; every hook does nothing here.

    ``run`` is the fit's :class:`Run`. ``on_epoch_end`` may return a stop
    reason (a string, e.g. ``"callback"``): training then stops after that
    epoch, the later listeners are not called for it, and the best epoch is
    kept as on a plateau.
    """

    def on_fit_begin(self, run):
        pass

    def on_epoch_begin(self, run):
        """Before an epoch's first minibatch (again for an epoch redone
        after a divergence)."""

    def on_step(self, run):
        """After each optimiser step."""

    def on_epoch_end(self, run, record):
        """After an epoch is recorded (``record`` is its history entry)."""
        return None

    def on_fit_end(self, run):
        """After the last epoch, or an interrupt (not after an error)."""


class MaxNorm(Listener):
    """After every step, cap each hidden unit's incoming weight norm."""

    def __init__(self, max_norm):
        self.max_norm = max_norm

    def on_step(self, run):
        run.network.constrain_norms(self.max_norm)


class PrintProgress(Listener):
    """One line per epoch, in scikit-learn's words."""

    def on_epoch_end(self, run, record):
        line = f"Iteration {record['epoch']}, loss = {record['train_loss']:.8f}"
        if "val_score" in record:
            line += (f", validation loss = {record['val_loss']:.8f}"
                     f", validation score = {record['val_score']:.6f}")
        print(f"{line}, learning rate = {record['learning_rate']:.3g}"
              f", {record['seconds']:.2f} s")


class KeepBestEpoch(Listener):
    """With a validation set, restore the best epoch's parameters at the end."""

    def on_epoch_end(self, run, record):
        if run.improved:
            run.best = (run.ops.copy(run.network.theta), run.network.get_state(),
                        record["val_score"])

    def on_fit_end(self, run):
        if run.best is not None:
            run.network.theta[...] = run.best[0]
            run.network.set_state(run.best[1])
            run.result.best_validation_score = run.best[2]
            run.result.best_epoch = run.monitor.best_epoch


class EpochHooks(Listener):
    """Plain callables on epoch begin and end (``on_epoch_end(record)``: a
    true return value stops training with reason ``"callback"``)."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None):
        self._begin = on_epoch_begin
        self._end = on_epoch_end

    def on_epoch_begin(self, run):
        if self._begin is not None:
            self._begin()

    def on_epoch_end(self, run, record):
        if self._end is not None and self._end(record):
            return "callback"
        return None


class PlateauStop(Listener):
    """On a plateau, lower the rate (if the schedule does) or stop.

    The stop's reason is ``"plateau"`` when the schedule never lowered the
    rate (the patience ran out), ``"learning_rate_floor"`` when it had
    lowered it, in this fit or an earlier one that this one continues, and
    now refuses to go lower.
    """

    def on_epoch_end(self, run, record):
        if run.monitor.plateau:
            if not run.schedule.on_plateau():
                lowered = run.result.n_rate_cuts or (
                    run.schedule.learning_rate
                    < getattr(run.schedule, "learning_rate_init", 0.0))
                return "learning_rate_floor" if lowered else "plateau"
            run.result.n_rate_cuts += 1
            run.monitor.reset_count()
        return None


class DivergenceGuard:
    """Whether an epoch's loss exploded, and going back when it did.

    An epoch is undone when its loss is not finite, or explodes, or leaves
    non-finite parameters or outputs: the parameters of the start of the
    epoch with the lowest loss come back, the optimiser is reset and the
    rate divided by 10, up to ``max_recoveries`` times, after which
    :class:`DivergenceError` is raised.

    The loss explodes when it is over 10^4 times the best epoch loss of this
    call. In a call's first epoch, which has no such reference (and in each
    ``partial_fit`` chunk, a call of one epoch), it explodes when the median
    minibatch loss of the epoch's last quarter is over 10^4 times that of its
    first quarter (with at least 4 minibatches): a loss growing by orders of
    magnitude within the epoch. Medians, so that a few minibatches with much
    larger losses than the others (rare large targets) are not taken for a
    divergence; and within the call, so that a warm start or a chunk on data
    of another scale is not either.
    """

    def __init__(self, max_recoveries=5):
        self.max_recoveries = max_recoveries

    def on_epoch_begin(self, run, epoch):
        run.good = (run.ops.copy(run.network.theta), run.network.get_state())
        if run.safe is None:
            run.safe = (run.good, epoch - 1)

    def accept(self, run, loss, batch_losses, last_batch, epoch):
        """Whether the finished epoch stands (else :meth:`recover` it).

        ``batch_losses`` are the epoch's minibatch losses, in order.
        """
        result = run.result
        if math.isinf(result.best_loss):
            exploding = _grows_within(batch_losses)
        else:
            exploding = loss > 1e4 * max(result.best_loss, 1e-2)
        if math.isfinite(loss) and not exploding and self._settled(run, last_batch):
            if loss <= result.best_loss:
                # Where to come back to if the loss later diverges: the start
                # of the epoch with the lowest loss (its end may already be on
                # the way up).
                run.safe = (run.good, epoch - 1)
            return True
        return False

    @staticmethod
    def _settled(run, last_batch):
        """Whether the parameters after the epoch's last step are usable.

        Each minibatch's loss is taken before its step, so the last step of
        an epoch is judged here: finite parameters and state, and finite
        outputs on the last batch (huge but finite weights overflow there).
        """
        if not run.network.is_finite():
            return False
        if last_batch is None:
            return True
        return run.ops.all_finite(run.network.forward(last_batch))

    def recover(self, run, epoch):
        net = run.network
        (theta, state), safe_epoch = run.safe
        net.theta[...] = theta
        net.set_state(state)
        run.optimizer.reset()
        run.result.n_recoveries += 1
        if run.result.n_recoveries > self.max_recoveries:
            raise DivergenceError(
                f"Training diverged: the loss exploded in epoch {epoch} "
                f"even after lowering the learning rate {self.max_recoveries} "
                "times. The input data may contain large values: scale the "
                "inputs (e.g. with StandardScaler), lower learning_rate_init "
                "or add weight decay."
            )
        run.schedule.scale(0.1)
        warn(
            f"The training loss exploded (non-finite, or 10^4 times its best) in "
            f"epoch {epoch}; went back to the parameters before epoch "
            f"{safe_epoch + 1}, which had the lowest loss, reset the optimiser "
            f"and lowered the learning rate to {run.schedule.learning_rate:.3g}.",
            RuntimeWarning,
        )

    def on_interrupt(self, run):
        """An interrupted epoch may have left non-finite parameters."""
        if run.good is not None and not run.network.is_finite():
            run.network.theta[...] = run.good[0]
            run.network.set_state(run.good[1])


def _grows_within(batch_losses):
    """Whether the median minibatch loss of the last quarter is over 10^4
    times that of the first quarter (False with fewer than 4 minibatches)."""
    quarter = len(batch_losses) // 4
    if quarter == 0:
        return False
    first = statistics.median(batch_losses[:quarter])
    last = statistics.median(batch_losses[-quarter:])
    return last > 1e4 * max(first, 1e-2)


class Run:
    """What one fit changes, apart from the engine objects themselves.

    Created by :meth:`Trainer.fit` and dropped when it returns, so that no
    state of a fit outlives it on the trainer. Listeners read it.
    """

    def __init__(self, trainer, result, monitor):
        self.network = trainer.network
        self.ops = trainer.network.ops
        self.optimizer = trainer.optimizer
        self.schedule = trainer.schedule
        self.result = result
        self.monitor = monitor
        self.improved = False  # whether the last epoch was the best so far
        self.best = None  # (theta, state, score) of the best validated epoch
        self.good = None  # parameters at the start of the current epoch
        self.safe = None  # (good, epoch): where a divergence goes back to


class Trainer:
    """Minibatch training of a :class:`~.network.Network`.

    Parameters
    ----------
    network, optimizer, schedule
        Engine objects; updated in place.
    alpha, l1_alpha : float
        L2 and L1 penalty strengths (scikit-learn's scaling).
    max_iter : int
        Epochs.
    tol, n_iter_no_change
        The plateau rule (see :class:`~.stopping.PlateauMonitor`).
    score_fn : callable, optional
        ``score_fn(Y_val, outputs, sample_weight) -> float``, higher is
        better; with a validation set it is what the plateau rule watches.
    verbose : bool
        Print one line per epoch (:class:`PrintProgress`).
    max_recoveries : int
        Times an exploding loss is undone before :class:`DivergenceError` is
        raised (:class:`DivergenceGuard`).
    exact_batch_norm : bool
        Replace the running batch-norm averages by a final exact pass.
    monitor : {"score", "loss"}
        What the plateau rule watches on a validation set.
    on_epoch_end : callable, optional
        ``on_epoch_end(record)`` after each recorded epoch, with that epoch's
        history entry; a true return value stops training (stop reason
        ``"callback"``), keeping the best epoch as a plateau stop would.
    max_norm : float, optional
        After every step, cap the L2 norm of each hidden unit's incoming
        weight vector at this value (:class:`MaxNorm`).
    listeners : list of Listener, optional
        More listeners of the loop's events, called after the built-in ones
        that print and keep the best epoch, before the plateau rule.
    """

    def __init__(self, network, optimizer, schedule, *, alpha=0.0, l1_alpha=0.0,
                 max_iter=200, tol=1e-4, n_iter_no_change=10, score_fn=None,
                 verbose=False, max_recoveries=5, exact_batch_norm=False,
                 monitor="score", on_epoch_end=None, max_norm=None,
                 listeners=()):
        self.network = network
        self.optimizer = optimizer
        self.schedule = schedule
        self.alpha = alpha
        self.l1_alpha = l1_alpha
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.score_fn = score_fn
        self.verbose = verbose
        self.max_recoveries = max_recoveries
        self.exact_batch_norm = exact_batch_norm
        self.monitor = monitor
        self.on_epoch_end = on_epoch_end
        self.max_norm = max_norm
        self.listeners = list(listeners)

    def _listeners(self, validation):
        """The loop's listeners, in the order their epoch-end hooks run."""
        listeners = []
        if self.verbose:
            listeners.append(PrintProgress())
        if validation is not None:
            listeners.append(KeepBestEpoch())
        if self.on_epoch_end is not None:
            listeners.append(EpochHooks(on_epoch_end=self.on_epoch_end))
        listeners += self.listeners
        listeners.append(PlateauStop())
        # Max-norm acts on every step; it has no epoch-end hook.
        step = [MaxNorm(self.max_norm)] if self.max_norm is not None else []
        return listeners, step

    def fit(self, batches, rng, validation=None, t0=0, epoch0=0):
        """Train for up to ``max_iter`` epochs.

        ``validation`` is a :class:`Validation` (or the tuple of its fields),
        or None. With a validation set, the plateau rule watches the
        validation score (or loss, see ``monitor``) and the best epoch's
        parameters are restored at the end; without one, it watches the
        training loss.

        A diverging epoch is undone and redone with a lower rate
        (:class:`DivergenceGuard`).
        """
        net = self.network
        validation = Validation.of(validation)
        if validation is None:
            key, mode = "train_loss", "min"
            scored = None
        else:
            key = "val_loss" if self.monitor == "loss" else "val_score"
            mode = "min" if self.monitor == "loss" else "max"
            # The targets the score function compares with, gathered once.
            scored = validation.Y
            if validation.rows is not None and self.score_fn is not None:
                scored = validation.Y[validation.rows]
        monitor = PlateauMonitor(self.n_iter_no_change, self.tol, mode=mode)
        run = Run(self, TrainResult(t=t0), monitor)
        guard = DivergenceGuard(self.max_recoveries)
        listeners, step_listeners = self._listeners(validation)
        everyone = listeners + step_listeners
        for listener in everyone:
            listener.on_fit_begin(run)
        with run.ops.quiet_errors():
            try:
                self._loop(run, batches, rng, validation, scored, key, epoch0,
                           guard, listeners, step_listeners)
            except KeyboardInterrupt:
                run.result.stop_reason = "interrupted"
                guard.on_interrupt(run)
        for listener in everyone:
            listener.on_fit_end(run)
        if self.exact_batch_norm:
            net.set_population_statistics(batches.chunks)
            if not net.is_finite():
                raise DivergenceError(
                    "The exact batch-norm statistics are not finite: the "
                    "network's activations overflow. Scale the inputs (e.g. "
                    "with StandardScaler) or lower learning_rate_init."
                )
            if run.best is not None:
                # Score the model that is returned, not the one with the
                # running statistics that the epochs were scored with.
                record = {}
                self._validate(validation, scored, record)
                run.result.best_validation_score = record["val_score"]
        net.clear_cache()
        return run.result

    def _loop(self, run, batches, rng, validation, scored, key, epoch, guard,
              listeners, step_listeners):
        """Epochs until ``max_iter``, or until a listener stops training."""
        result = run.result
        while result.n_iter < self.max_iter:
            record = self._run_epoch(run, batches, rng, epoch + 1, guard,
                                     listeners, step_listeners)
            if record is None:
                continue  # recovered from divergence: redo the epoch
            epoch += 1
            if validation is not None:
                self._validate(validation, scored, record)
            # The epoch counts once it is fully recorded (an interrupt during
            # validation drops it everywhere).
            result.n_iter += 1
            result.t += batches.n_samples
            result.loss = record["train_loss"]
            result.best_loss = min(result.best_loss, record["train_loss"])
            run.schedule.on_epoch_end(result.t)
            result.history.append(record)
            run.improved = (run.monitor.update(record[key], epoch)
                            and validation is not None)
            for listener in listeners:
                reason = listener.on_epoch_end(run, record)
                if reason:
                    result.stop_reason = reason
                    return

    def _run_epoch(self, run, batches, rng, epoch, guard, listeners,
                   step_listeners):
        """One pass over the data; None if the loss diverged and was undone."""
        net, opt, ops = run.network, run.optimizer, run.ops
        guard.on_epoch_begin(run, epoch)
        for listener in listeners + step_listeners:
            listener.on_epoch_begin(run)
        lr = run.schedule.learning_rate
        scaled = opt.takes_scaled_gradient
        scale = -lr if scaled else 1.0
        # The loss is read on the host every `sync` steps (every step for
        # numpy, where reading is free) and at the end of the epoch, with the
        # minibatch losses the divergence guard looks at.
        sync = ops.sync_interval
        # Weight decay goes into the optimiser's step where it takes it (one
        # pass over the parameters on a fused backend), else into the
        # gradient.
        fused = opt.applies_decay and bool(self.alpha or self.l1_alpha)
        alpha, l1_alpha = (0.0, 0.0) if fused else (self.alpha, self.l1_alpha)
        start = time.perf_counter()
        total = 0.0
        last = None
        steps = 0
        batch_losses = []
        for Xb, Yb, swb in batches.iterate(rng):
            if swb is not None and not ops.any_nonzero(swb):
                continue  # a batch of zero weight is no batch at all
            last = Xb
            value = net.loss_and_grad(Xb, Yb, swb, alpha, l1_alpha, rng,
                                      grad_scale=scale)
            steps += 1
            if steps % sync == 0 and not math.isfinite(ops.to_float(value)):
                break
            if fused:
                decay = net.decay(self.alpha, self.l1_alpha,
                                  net.batch_denominator(Xb, swb), scale)
                value += opt.step(net.theta, net.grad, lr, scaled=scaled,
                                  decay=decay)
            else:
                opt.step(net.theta, net.grad, lr, scaled=scaled)
            batch_losses.append(value)
            for listener in step_listeners:
                listener.on_step(run)
            total += value * Xb.shape[0]
        else:
            loss = ops.to_float(total) / batches.n_samples
            if guard.accept(run, loss, ops.to_floats(batch_losses), last, epoch):
                return {
                    "epoch": epoch, "train_loss": loss, "learning_rate": lr,
                    "seconds": time.perf_counter() - start,
                }
        guard.recover(run, epoch)
        return None

    def _validate(self, validation, scored, record):
        loss, outputs = self.network.evaluate(
            validation.X, validation.Y, validation.sample_weight,
            rows=validation.rows, return_outputs=self.score_fn is not None
        )
        record["val_loss"] = loss
        if self.score_fn is None:
            record["val_score"] = -loss
            return
        record["val_score"] = self.score_fn(scored, outputs,
                                            validation.sample_weight)


__all__ = ["DivergenceGuard", "EpochHooks", "KeepBestEpoch", "Listener", "MaxNorm",
           "Minibatches", "PlateauStop", "PrintProgress", "Run", "TrainResult",
           "Trainer", "Validation", "train_lbfgs"]
