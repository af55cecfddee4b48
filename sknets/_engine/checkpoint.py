"""Undo a failed call that continues training, without copying objects.

A call that continues a fitted model (``partial_fit``) changes the network's
parameters and state, the optimiser's accumulators and the schedule in
place. A :class:`Checkpoint` copies those flat arrays and scalars before the
call (no object graph is copied, so the cost is a few passes over the
parameter vector, whatever the history of the fit) and puts them back if the
call fails.
"""


def _is_array(value):
    return hasattr(value, "shape") and hasattr(value, "dtype")


class Checkpoint:
    """The arrays and scalars of ``network``, ``optimizer`` and ``schedule``.

    Parameters
    ----------
    network : Network
    optimizer : Optimizer or None
    schedule : schedule object or None
    """

    def __init__(self, network, optimizer, schedule):
        ops = network.ops
        self._network = network
        self._theta = ops.copy(network.theta)
        self._state = network.get_state()
        self._optimizer = optimizer
        # Accumulators are copied; scratch space is not state.
        self._optimizer_vars = {} if optimizer is None else {
            key: ops.copy(value) if _is_array(value) else value
            for key, value in vars(optimizer).items() if key != "_scratch"
        }
        self._schedule = schedule
        self._schedule_vars = {} if schedule is None else dict(vars(schedule))

    def restore(self):
        """Put everything back as it was when the checkpoint was taken."""
        self._network.theta[...] = self._theta
        self._network.set_state(self._state)
        if self._optimizer is None:
            return
        optimizer_vars = vars(self._optimizer)
        for key, value in self._optimizer_vars.items():
            current = optimizer_vars.get(key)
            if _is_array(value) and _is_array(current) and (
                    current.shape == value.shape):
                current[...] = value
            else:
                optimizer_vars[key] = value
        vars(self._schedule).clear()
        vars(self._schedule).update(self._schedule_vars)
