"""Learning-rate schedules.

A schedule owns the current learning rate. The training loop calls
``on_epoch_end(t)`` after every epoch (``t`` = samples seen so far) and
``on_plateau()`` when the monitored quantity has stopped improving for the
patience window; ``on_plateau`` returns True when it lowered the rate (keep
training) and False when training should stop.

Each schedule registers itself (:mod:`.solvers`) with its ``name``, the
``hyperparameters`` its constructor takes besides ``learning_rate_init``,
and a ``summary`` for the docs.
"""

from .solvers import Hyperparameter, get_schedule, register_schedule, values


@register_schedule
class Constant:
    """Keep the initial rate; a plateau ends training."""

    name = "constant"
    summary = "``learning_rate_init`` throughout."
    hyperparameters = ()

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


@register_schedule
class InvScaling(Constant):
    """``lr = lr_init / (t + 1) ** power_t``, ``t`` the samples seen."""

    name = "invscaling"
    summary = ("``learning_rate_init / (t + 1) ** power_t``, ``t`` the number "
               "of samples seen.")
    hyperparameters = (
        Hyperparameter("power_t", 0.5, low=0, closed="left",
                       doc="Exponent of {users}."),
    )

    def __init__(self, learning_rate_init, power_t=0.5):
        super().__init__(learning_rate_init)
        self.power_t = power_t

    def on_epoch_end(self, t):
        self.learning_rate = self.learning_rate_init / (t + 1) ** self.power_t


@register_schedule
class Adaptive(Constant):
    """scikit-learn's ``adaptive``: divide by 5 on a plateau; stop below 1e-6."""

    name = "adaptive"
    summary = ("divided by 5 each time the monitored quantity stops improving "
               "for ``n_iter_no_change`` epochs; training stops below 1e-6.")
    hyperparameters = ()
    floor = 1e-6

    def on_plateau(self):
        if self.learning_rate <= self.floor:
            return False
        self.learning_rate /= 5.0
        return True


@register_schedule
class Halving(Constant):
    """Keep the rate while the monitored error improves, halve it on a plateau.

    Training stops when the rate falls below ``min_learning_rate``.
    """

    name = "halving"
    summary = ("kept while the monitored quantity improves, divided by 2 when "
               "it stops improving for ``n_iter_no_change`` epochs; training "
               "stops when it falls below ``min_learning_rate``.")
    hyperparameters = (
        Hyperparameter("min_learning_rate", 1e-6, low=0, closed="left",
                       doc="Floor of the {users} schedule."),
    )

    def __init__(self, learning_rate_init, min_learning_rate=1e-6, factor=2.0):
        super().__init__(learning_rate_init)
        self.min_learning_rate = min_learning_rate
        self.factor = factor

    def on_plateau(self):
        # A cut below the floor is refused, not made: a warm start goes on
        # at the last rate used.
        lowered = self.learning_rate / self.factor
        if lowered < self.min_learning_rate:
            return False
        self.learning_rate = lowered
        return True


def make_schedule(name, learning_rate_init, params=None):
    """The learning-rate schedule ``name``, starting at ``learning_rate_init``.

    Parameters
    ----------
    name : str
        A registered schedule ('constant', 'invscaling', ...).
    learning_rate_init : float
        The initial rate.
    params : dict, default=None
        Values of the schedule's hyperparameters by estimator parameter name
        (other keys are ignored); a hyperparameter not given takes its
        default.

    Raises
    ------
    ValueError
        If ``name`` is not a registered schedule.
    """
    cls = get_schedule(name)
    return cls(learning_rate_init, **values(cls, params))
