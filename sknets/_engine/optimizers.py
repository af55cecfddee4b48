"""Optimisers: in-place updates of the flat parameter vector.

Each optimiser keeps its state (velocity, accumulated squared gradients,
moments) as flat arrays the size of the parameter vector, so one step is a
handful of vectorised operations. The learning rate is passed in by the
training loop at every step (it belongs to the schedule, not the optimiser).

Each optimiser registers itself as a solver (:mod:`.solvers`): its ``name``
and its ``hyperparameters`` are all the estimators need to expose, check,
document and build it. A new optimiser is a subclass of :class:`Optimizer`
with those declarations and a ``step``, under ``@register_solver``.
"""

from .ops import get_ops, loaded_ops
from .solvers import Hyperparameter, get_solver, register_solver, values

# Shared by Adam and Adagrad: one estimator parameter, one declaration.
EPSILON = Hyperparameter(
    "epsilon", 1e-8, low=0, closed="neither",
    doc="Numerical-stability constant of {users}.",
)


class Optimizer:
    """Base class; ``reset`` forgets the state, ``step`` updates in place.

    An optimiser with ``takes_scaled_gradient = True`` is linear in the
    gradient: the training loop may hand it ``-learning_rate * gradient``
    directly (``step(..., scaled=True)``), which the network computes at no
    cost by scaling the output delta, saving one pass over the parameters.

    The constructor takes the ``attr`` of each of the class's
    ``hyperparameters`` as a keyword (its default where not given) and sets
    the attribute of that name.

    An optimiser with ``applies_decay = True`` takes a minibatch's weight
    decay into its step (``step(..., decay=Decay(...))``, see
    :meth:`.ops.Ops.sgd_step`) and returns its penalty, so that a backend can
    apply it in the step's own pass over the parameters; for one without,
    the network adds the decay to the gradient before the step.
    """

    takes_scaled_gradient = False
    applies_decay = False
    # Registry declarations (see .solvers); set by each registered subclass.
    name = None
    stochastic = True
    schedules = None
    hyperparameters = ()

    def __init__(self, n_params, dtype, ops=None, **hyperparameters):
        unknown = set(hyperparameters) - {h.attr for h in self.hyperparameters}
        if unknown:
            raise TypeError(
                f"{type(self).__name__} has no hyperparameter "
                f"{', '.join(sorted(unknown))}."
            )
        for h in self.hyperparameters:
            setattr(self, h.attr, hyperparameters.get(h.attr, h.default))
        self.ops = get_ops() if ops is None else ops
        self.n_params = n_params
        self.dtype = self.ops.dtype(dtype)
        self.reset()

    def reset(self):
        self.n_steps = 0

    def __getstate__(self):
        # The scratch vector is work space, rebuilt on unpickling.
        state = self.__dict__.copy()
        state.pop("_scratch", None)
        state["ops"] = self.ops.name  # plain data (see _persistence)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.ops = loaded_ops(state.get("ops", "numpy"))
        self._scratch = self.ops.empty(self.n_params, self.dtype)

    def _zeros(self):
        return self.ops.zeros(self.n_params, self.dtype)

    def set_hyperparameters(self, params):
        """Take the hyperparameters' values from ``params``, keeping the state.

        ``params`` maps estimator parameter names to values, as for
        :func:`make_optimizer`; a hyperparameter it lacks keeps its value. A
        warm start refreshes a carried-over optimiser this way.
        """
        for h in self.hyperparameters:
            if h.param in params:
                setattr(self, h.attr, params[h.param])

    def step(self, theta, grad, learning_rate, scaled=False, decay=None):
        """Update ``theta`` in place from ``grad``; return the penalty of
        ``decay`` (0 without)."""
        raise NotImplementedError


@register_solver
class SGD(Optimizer):
    """Minibatch SGD with classical or Nesterov momentum.

    Notes
    -----
    Classical momentum (Polyak)::

        v <- mu v - lr g ;    theta <- theta + v

    Nesterov's accelerated gradient, in the form of Sutskever et al. (2013)
    that evaluates the gradient at the current parameters::

        v <- mu v - lr g ;    theta <- theta + mu v - lr g

    With ``mu = 0`` both reduce to plain SGD.
    """

    name = "sgd"
    summary = "minibatch SGD with (Nesterov) momentum."
    applies_decay = True
    hyperparameters = (
        Hyperparameter("momentum", 0.9, low=0, high=1, closed="both",
                       doc="Momentum of {users}, in [0, 1]."),
        Hyperparameter("nesterovs_momentum", True, kind="bool", attr="nesterov",
                       doc="Use Nesterov's momentum with {users} and "
                           "momentum > 0."),
    )
    takes_scaled_gradient = True

    def __init__(self, n_params, dtype, momentum=0.9, nesterov=True, ops=None):
        super().__init__(n_params, dtype, ops, momentum=momentum,
                         nesterov=nesterov)

    def reset(self):
        super().reset()
        self.velocity = self._zeros()
        self._scratch = self.ops.empty(self.n_params, self.dtype)

    def step(self, theta, grad, learning_rate, scaled=False, decay=None):
        self.n_steps += 1
        # A scaled gradient already carries the -learning_rate factor.
        rate = 1.0 if scaled else -learning_rate
        return self.ops.sgd_step(theta, grad, self.velocity, rate, self.momentum,
                                 self.nesterov, self._scratch, decay)


@register_solver
class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015), as scikit-learn's MLP implements it.

    Notes
    -----
    ::

        m <- b1 m + (1 - b1) g ;   v <- b2 v + (1 - b2) g^2
        lr_t = lr sqrt(1 - b2^t) / (1 - b1^t)
        theta <- theta - lr_t m / (sqrt(v) + eps)
    """

    name = "adam"
    summary = "adaptive moment estimation, scikit-learn's default."
    applies_decay = True
    hyperparameters = (
        Hyperparameter("beta_1", 0.9, low=0, high=1, closed="left",
                       doc="Exponential decay rate of the first moment "
                           "estimates of {users}, in [0, 1)."),
        Hyperparameter("beta_2", 0.999, low=0, high=1, closed="left",
                       doc="Exponential decay rate of the second moment "
                           "estimates of {users}, in [0, 1)."),
        EPSILON,
    )
    # scikit-learn's Adam ignores `learning_rate`; only sknets' 'halving'
    # applies to it (the rate is constant otherwise).
    schedules = ("halving",)

    def __init__(self, n_params, dtype, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 ops=None):
        super().__init__(n_params, dtype, ops, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon)

    def reset(self):
        super().reset()
        self.m = self._zeros()
        self.v = self._zeros()
        self._scratch = self.ops.empty(self.n_params, self.dtype)

    def step(self, theta, grad, learning_rate, scaled=False, decay=None):
        if scaled:
            raise ValueError(f"{type(self).__name__} is not linear in the "
                             "gradient: it needs the gradient unscaled.")
        self.n_steps += 1
        return self.ops.adam_step(theta, grad, self.m, self.v, self.n_steps,
                                  learning_rate, self.beta_1, self.beta_2,
                                  self.epsilon, self._scratch, decay)


@register_solver
class Adagrad(Optimizer):
    """Adagrad: per-parameter rates from the history of squared gradients.

    Notes
    -----
    ::

        G <- G + g^2 ;    theta <- theta - lr g / (sqrt(G) + eps)

    (Duchi, Hazan and Singer, 2011). Parameters that receive large or
    frequent gradients get smaller steps.
    """

    name = "adagrad"
    summary = ("scales each parameter's rate by the root of its summed "
               "squared gradients.")
    applies_decay = True
    hyperparameters = (EPSILON,)

    def __init__(self, n_params, dtype, epsilon=1e-8, ops=None):
        super().__init__(n_params, dtype, ops, epsilon=epsilon)

    def reset(self):
        super().reset()
        self.sum_sq = self._zeros()
        self._scratch = self.ops.empty(self.n_params, self.dtype)

    def step(self, theta, grad, learning_rate, scaled=False, decay=None):
        if scaled:
            raise ValueError(f"{type(self).__name__} is not linear in the "
                             "gradient: it needs the gradient unscaled.")
        self.n_steps += 1
        return self.ops.adagrad_step(theta, grad, self.sum_sq, learning_rate,
                                     self.epsilon, self._scratch, decay)


def make_optimizer(name, n_params, dtype, params=None, ops=None):
    """The optimiser of the stochastic solver ``name``.

    Parameters
    ----------
    name : str
        A registered stochastic solver ('sgd', 'adam', 'adagrad', ...).
    n_params : int
        Size of the flat parameter vector.
    dtype : dtype
        Its dtype.
    params : dict, default=None
        Values of the solver's hyperparameters by estimator parameter name
        (e.g. an estimator's ``get_params()``; other keys are ignored); a
        hyperparameter not given takes its default.
    ops : Ops, default=None
        The array backend; None: the default one.

    Raises
    ------
    ValueError
        If ``name`` is not a registered stochastic solver.
    """
    try:
        cls = get_solver(name)
    except ValueError:
        cls = None
    if cls is None or not cls.stochastic:
        raise ValueError(f"Unknown stochastic solver {name!r}.")
    return cls(n_params, dtype, ops=ops, **values(cls, params))
