"""Learning-rate schedules.

A schedule owns the current learning rate. The training loop calls
``on_epoch_end(t)`` after every epoch (``t`` = samples seen so far) and
``on_plateau()`` when the monitored quantity has stopped improving for the
patience window; ``on_plateau`` returns True when it lowered the rate (keep
training) and False when training should stop.
"""


class Constant:
    """Keep the initial rate; a plateau ends training."""

    def __init__(self, learning_rate_init):
        self.learning_rate_init = learning_rate_init
        self.learning_rate = learning_rate_init

    def on_epoch_end(self, t):
        pass

    def on_plateau(self):
        return False

    def scale(self, factor):
        """Multiply the rate (used when recovering from divergence)."""
        self.learning_rate_init *= factor
        self.learning_rate *= factor


class InvScaling(Constant):
    """``lr = lr_init / (t + 1) ** power_t``, ``t`` the samples seen."""

    def __init__(self, learning_rate_init, power_t=0.5):
        super().__init__(learning_rate_init)
        self.power_t = power_t

    def on_epoch_end(self, t):
        self.learning_rate = self.learning_rate_init / (t + 1) ** self.power_t


class Adaptive(Constant):
    """scikit-learn's ``adaptive``: divide by 5 on a plateau; stop below 1e-6."""

    floor = 1e-6

    def on_plateau(self):
        if self.learning_rate <= self.floor:
            return False
        self.learning_rate /= 5.0
        return True


class Halving(Constant):
    """Keep the rate while the monitored error improves, halve it on a plateau.

    Training stops when the rate falls below ``min_learning_rate``.
    """

    def __init__(self, learning_rate_init, min_learning_rate=1e-6, factor=2.0):
        super().__init__(learning_rate_init)
        self.min_learning_rate = min_learning_rate
        self.factor = factor

    def on_plateau(self):
        self.learning_rate /= self.factor
        return self.learning_rate >= self.min_learning_rate


def make_schedule(name, learning_rate_init, *, power_t=0.5, min_learning_rate=1e-6):
    if name == "constant":
        return Constant(learning_rate_init)
    if name == "invscaling":
        return InvScaling(learning_rate_init, power_t=power_t)
    if name == "adaptive":
        return Adaptive(learning_rate_init)
    if name == "halving":
        return Halving(learning_rate_init, min_learning_rate=min_learning_rate)
    raise ValueError(f"Unknown learning-rate schedule {name!r}.")
