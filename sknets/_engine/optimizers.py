"""Optimisers: in-place updates of the flat parameter vector.

Each optimiser keeps its state (velocity, accumulated squared gradients,
moments) as flat arrays the size of the parameter vector, so one step is a
handful of vectorised operations. The learning rate is passed in by the
training loop at every step (it belongs to the schedule, not the optimiser).
"""

from .ops import get_ops


class Optimizer:
    """Base class; ``reset`` forgets the state, ``step`` updates in place.

    An optimiser with ``takes_scaled_gradient = True`` is linear in the
    gradient: the training loop may hand it ``-learning_rate * gradient``
    directly (``step(..., scaled=True)``), which the network computes at no
    cost by scaling the output delta, saving one pass over the parameters.
    """

    takes_scaled_gradient = False

    def __init__(self, n_params, dtype, ops=None):
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
        self.ops = get_ops(state.get("ops", "numpy"))
        self._scratch = self.ops.empty(self.n_params, self.dtype)

    def _zeros(self):
        return self.ops.zeros(self.n_params, self.dtype)

    def step(self, theta, grad, learning_rate, scaled=False):
        raise NotImplementedError


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

    takes_scaled_gradient = True

    def __init__(self, n_params, dtype, momentum=0.9, nesterov=True, ops=None):
        self.momentum = momentum
        self.nesterov = nesterov
        super().__init__(n_params, dtype, ops)

    def reset(self):
        super().reset()
        self.velocity = self._zeros()
        self._scratch = self.ops.empty(self.n_params, self.dtype)

    def step(self, theta, grad, learning_rate, scaled=False):
        self.n_steps += 1
        # A scaled gradient already carries the -learning_rate factor.
        rate = 1.0 if scaled else -learning_rate
        self.ops.sgd_step(theta, grad, self.velocity, rate, self.momentum,
                          self.nesterov, self._scratch)


class Adagrad(Optimizer):
    """Adagrad: per-parameter rates from the history of squared gradients.

    Notes
    -----
    ::

        G <- G + g^2 ;    theta <- theta - lr g / (sqrt(G) + eps)

    (Duchi, Hazan and Singer, 2011). Parameters that receive large or
    frequent gradients get smaller steps.
    """

    def __init__(self, n_params, dtype, epsilon=1e-8, ops=None):
        self.epsilon = epsilon
        super().__init__(n_params, dtype, ops)

    def reset(self):
        super().reset()
        self.sum_sq = self._zeros()
        self._scratch = self.ops.empty(self.n_params, self.dtype)

    def step(self, theta, grad, learning_rate, scaled=False):
        if scaled:
            raise ValueError(f"{type(self).__name__} is not linear in the "
                             "gradient: it needs the gradient unscaled.")
        self.n_steps += 1
        self.ops.adagrad_step(theta, grad, self.sum_sq, learning_rate,
                              self.epsilon, self._scratch)


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015), as scikit-learn's MLP implements it.

    Notes
    -----
    ::

        m <- b1 m + (1 - b1) g ;   v <- b2 v + (1 - b2) g^2
        lr_t = lr sqrt(1 - b2^t) / (1 - b1^t)
        theta <- theta - lr_t m / (sqrt(v) + eps)
    """

    def __init__(self, n_params, dtype, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 ops=None):
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        super().__init__(n_params, dtype, ops)

    def reset(self):
        super().reset()
        self.m = self._zeros()
        self.v = self._zeros()
        self._scratch = self.ops.empty(self.n_params, self.dtype)

    def step(self, theta, grad, learning_rate, scaled=False):
        if scaled:
            raise ValueError(f"{type(self).__name__} is not linear in the "
                             "gradient: it needs the gradient unscaled.")
        self.n_steps += 1
        self.ops.adam_step(theta, grad, self.m, self.v, self.n_steps,
                           learning_rate, self.beta_1, self.beta_2, self.epsilon,
                           self._scratch)


def make_optimizer(solver, n_params, dtype, *, momentum=0.9, nesterov=True,
                   beta_1=0.9, beta_2=0.999, epsilon=1e-8):
    if solver == "sgd":
        return SGD(n_params, dtype, momentum=momentum, nesterov=nesterov)
    if solver == "adagrad":
        return Adagrad(n_params, dtype, epsilon=epsilon)
    if solver == "adam":
        return Adam(n_params, dtype, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)
    raise ValueError(f"Unknown stochastic solver {solver!r}.")
