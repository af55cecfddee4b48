"""The training loop: minibatches, validation, schedules, stopping, recovery.

The loop asks three separate objects what to do: the optimiser (how to
step), the schedule (which learning rate, and whether a plateau lowers it)
and the plateau monitor (whether the watched quantity still improves). It
returns a :class:`TrainResult`; it never touches an estimator.
"""

import math
import time
import warnings
from dataclasses import dataclass, field

from .errors import DivergenceError
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

    @property
    def converged(self):
        return self.stop_reason == "plateau"


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
        Print one line per epoch.
    max_recoveries : int
        Times an exploding loss (non-finite, or 10^4 times the best epoch's)
        is undone (the parameters from the start of the best epoch restored,
        the rate divided by 10) before :class:`DivergenceError` is raised.
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
        weight vector at this value (:meth:`~.network.Network.constrain_norms`).
    """

    def __init__(self, network, optimizer, schedule, *, alpha=0.0, l1_alpha=0.0,
                 max_iter=200, tol=1e-4, n_iter_no_change=10, score_fn=None,
                 verbose=False, max_recoveries=5, exact_batch_norm=False,
                 monitor="score", on_epoch_end=None, max_norm=None):
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

    def fit(self, batches, rng, validation=None, t0=0, epoch0=0,
            best_loss=math.inf):
        """Train for up to ``max_iter`` epochs.

        ``validation`` is ``(X_val, Y_val, sample_weight_val)``, or
        ``(X, Y, sample_weight_val, rows)`` for rows ``rows`` of the arrays
        ``X`` and ``Y`` (which are then never copied whole), or None. With
        a validation set, the plateau rule watches the validation score (or
        loss, see ``monitor``) and the best epoch's parameters are restored at
        the end; without one, it watches the training loss.

        ``best_loss`` is the lowest epoch loss of earlier calls (``partial_fit``
        continues a fit): an epoch whose loss is 10^4 times the best one is
        diverging. Before any epoch has a loss, the loss of the run's first
        minibatch (taken before any step) is the reference.
        """
        net = self.network
        ops = net.ops
        result = TrainResult(t=t0, best_loss=best_loss)
        self._initial_loss = math.inf
        if validation is None:
            key, mode = "train_loss", "min"
        else:
            validation = self._with_scored_targets(validation)
            key = "val_loss" if self.monitor == "loss" else "val_score"
            mode = "min" if self.monitor == "loss" else "max"
        monitor = PlateauMonitor(self.n_iter_no_change, self.tol, mode=mode)
        with ops.quiet_errors():
            try:
                self._loop(batches, rng, validation, result, monitor, key, epoch0)
            except KeyboardInterrupt:
                result.stop_reason = "interrupted"
                if not net.is_finite():
                    net.theta[...] = self._good[0]
                    net.set_state(self._good[1])
        best = self._best
        if best is not None:
            net.theta[...] = best[0]
            net.set_state(best[1])
            result.best_validation_score = best[2]
            result.best_epoch = monitor.best_epoch
        if self.exact_batch_norm:
            net.set_population_statistics(batches.chunks)
            if not net.is_finite():
                raise DivergenceError(
                    "The exact batch-norm statistics are not finite: the "
                    "network's activations overflow. Scale the inputs (e.g. "
                    "with StandardScaler) or lower learning_rate_init."
                )
            if best is not None:
                # Score the model that is returned, not the one with the
                # running statistics that the epochs were scored with.
                record = {}
                self._validate(validation, record)
                result.best_validation_score = record["val_score"]
        net.clear_cache()
        return result

    def _loop(self, batches, rng, validation, result, monitor, key, epoch):
        """Epochs until ``max_iter``, a plateau the schedule cannot absorb."""
        net = self.network
        self._best = None
        self._safe = None
        while result.n_iter < self.max_iter:
            record = self._run_epoch(batches, rng, result, epoch + 1)
            if record is None:
                continue  # recovered from divergence: redo the epoch
            epoch += 1
            if validation is not None:
                self._validate(validation, record)
            # The epoch counts once it is fully recorded (an interrupt during
            # validation drops it everywhere).
            result.n_iter += 1
            result.t += batches.n_samples
            result.loss = record["train_loss"]
            result.best_loss = min(result.best_loss, record["train_loss"])
            self.schedule.on_epoch_end(result.t)
            result.history.append(record)
            self._print(record)
            if monitor.update(record[key], epoch) and validation is not None:
                self._best = (net.ops.copy(net.theta), net.get_state(),
                              record["val_score"])
            if self.on_epoch_end is not None and self.on_epoch_end(record):
                result.stop_reason = "callback"
                return
            if monitor.plateau:
                if not self.schedule.on_plateau():
                    result.stop_reason = "plateau"
                    return
                monitor.reset_count()

    def _run_epoch(self, batches, rng, result, epoch):
        """One pass over the data; None if the loss diverged and was undone."""
        net, opt = self.network, self.optimizer
        ops = net.ops
        self._good = (ops.copy(net.theta), net.get_state())
        if self._safe is None:
            self._safe = (self._good, epoch - 1)
        lr = self.schedule.learning_rate
        scaled = opt.takes_scaled_gradient
        scale = -lr if scaled else 1.0
        max_norm = self.max_norm
        # The loss is read on the host every `sync` steps (every step for
        # numpy, where reading is free) and at the end of the epoch.
        sync = ops.sync_interval
        start = time.perf_counter()
        total = 0.0
        last = None
        steps = 0
        for Xb, Yb, swb in batches.iterate(rng):
            if swb is not None and not ops.any_nonzero(swb):
                continue  # a batch of zero weight is no batch at all
            last = Xb
            value = net.loss_and_grad(Xb, Yb, swb, self.alpha, self.l1_alpha, rng,
                                      grad_scale=scale)
            steps += 1
            if self._initial_loss == math.inf:
                # One host read per fit: the reference of the divergence rule
                # until an epoch has a loss.
                self._initial_loss = ops.to_float(value)
            if steps % sync == 0 and not math.isfinite(ops.to_float(value)):
                break
            opt.step(net.theta, net.grad, lr, scaled=scaled)
            if max_norm is not None:
                net.constrain_norms(max_norm)
            total += value * Xb.shape[0]
        else:
            loss = ops.to_float(total) / batches.n_samples
            # A loss 10^4 times the best so far is diverging, even if finite.
            reference = min(result.best_loss, self._initial_loss)
            exploding = loss > 1e4 * max(reference, 1e-2)
            if math.isfinite(loss) and not exploding and self._settled(last):
                if loss <= result.best_loss:
                    # Where to come back to if the loss later diverges: the
                    # start of the epoch with the lowest loss (its end may
                    # already be on the way up).
                    self._safe = (self._good, epoch - 1)
                return {
                    "epoch": epoch, "train_loss": loss, "learning_rate": lr,
                    "seconds": time.perf_counter() - start,
                }
        self._recover(result, epoch)
        return None

    def _settled(self, last_batch):
        """Whether the parameters after the epoch's last step are usable.

        Each minibatch's loss is taken before its step, so the last step of
        an epoch is judged here: finite parameters and state, and finite
        outputs on the last batch (huge but finite weights overflow there).
        """
        if not self.network.is_finite():
            return False
        if last_batch is None:
            return True
        return self.network.ops.all_finite(self.network.forward(last_batch))

    def _recover(self, result, epoch):
        net = self.network
        (theta, state), safe_epoch = self._safe
        net.theta[...] = theta
        net.set_state(state)
        self.optimizer.reset()
        result.n_recoveries += 1
        if result.n_recoveries > self.max_recoveries:
            raise DivergenceError(
                f"Training diverged: the loss exploded in epoch {epoch} "
                f"even after lowering the learning rate {self.max_recoveries} "
                "times. The input data may contain large values: scale the "
                "inputs (e.g. with StandardScaler), lower learning_rate_init "
                "or add weight decay."
            )
        self.schedule.scale(0.1)
        warnings.warn(
            f"The training loss exploded (non-finite, or 10^4 times its best) in "
            f"epoch {epoch}; went back to the parameters before epoch "
            f"{safe_epoch + 1}, which had the lowest loss, reset the optimiser "
            f"and lowered the learning rate to {self.schedule.learning_rate:.3g}.",
            RuntimeWarning,
            stacklevel=4,
        )

    def _with_scored_targets(self, validation):
        """``(X, Y, sample_weight, rows, scored)``: ``scored`` are the targets
        the score function compares the outputs with, gathered once per fit."""
        X_val, Y_val, sw_val, *rows = validation
        rows = rows[0] if rows else None
        scored = Y_val
        if rows is not None and self.score_fn is not None:
            scored = Y_val[rows]
        return X_val, Y_val, sw_val, rows, scored

    def _validate(self, validation, record):
        X_val, Y_val, sw_val, rows, scored = validation
        loss, outputs = self.network.evaluate(
            X_val, Y_val, sw_val, rows=rows, return_outputs=self.score_fn is not None
        )
        record["val_loss"] = loss
        if self.score_fn is None:
            record["val_score"] = -loss
            return
        record["val_score"] = self.score_fn(scored, outputs, sw_val)

    def _print(self, record):
        if not self.verbose:
            return
        line = f"Iteration {record['epoch']}, loss = {record['train_loss']:.8f}"
        if "val_score" in record:
            line += (f", validation loss = {record['val_loss']:.8f}"
                     f", validation score = {record['val_score']:.6f}")
        print(f"{line}, learning rate = {record['learning_rate']:.3g}"
              f", {record['seconds']:.2f} s")


__all__ = ["Minibatches", "TrainResult", "Trainer", "train_lbfgs"]
