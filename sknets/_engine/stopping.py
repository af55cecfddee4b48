"""The plateau rule behind early stopping and plateau-driven schedules."""

import math


class PlateauMonitor:
    """Track a monitored quantity, its best value, and epochs without progress.

    An epoch counts as "no improvement" unless the value beats the best by
    at least ``tol``; once more than ``patience`` consecutive epochs have not
    improved, ``plateau`` is True (scikit-learn's ``n_iter_no_change`` rule).
    The look-ahead window means training goes on past the best epoch; the best
    epoch is remembered separately (strict improvement, no tolerance) so its
    parameters can be restored.

    Parameters
    ----------
    patience : int or inf
        Epochs without improvement tolerated (``n_iter_no_change``).
    tol : float
        Minimum improvement that resets the count.
    mode : {"min", "max"}
        Whether lower (a loss) or higher (a score) is better.
    """

    def __init__(self, patience, tol, mode="min"):
        self.patience = patience
        self.tol = tol
        self.mode = mode
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch = None
        self.n_bad_epochs = 0

    def update(self, value, epoch):
        """Record ``value``; return True if it is the best so far."""
        sign = 1.0 if self.mode == "min" else -1.0
        # As scikit-learn: a tie with tol=0 counts as progress; NaN never does.
        if math.isnan(value) or sign * value > sign * self.best - self.tol:
            self.n_bad_epochs += 1
        else:
            self.n_bad_epochs = 0
        if sign * value < sign * self.best:
            self.best = value
            self.best_epoch = epoch
            return True
        return False

    @property
    def plateau(self):
        return self.n_bad_epochs > self.patience

    def reset_count(self):
        self.n_bad_epochs = 0
