"""Optimisers: in-place updates of the flat parameter vector.

Each optimiser keeps its state (velocity, accumulated squared gradients,
moments) as flat arrays the size of the parameter vector, so one step is a
handful of vectorised operations. The learning rate is passed in by the
training loop at every step (it belongs to the schedule, not the optimiser).
"""

import numpy as np

from .blas import axpby, axpy


class Optimizer:
    """Base class; ``reset`` forgets the state, ``step`` updates in place.

    An optimiser with ``takes_scaled_gradient = True`` is linear in the
    gradient: the training loop may hand it ``-learning_rate * gradient``
    directly (``step(..., scaled=True)``), which the network computes at no
    cost by scaling the output delta, saving one pass over the parameters.
    """

    takes_scaled_gradient = False

    def __init__(self, n_params, dtype):
        self.n_params = n_params
        self.dtype = np.dtype(dtype)
        self.reset()

    def reset(self):
        self.n_steps = 0

    def __getstate__(self):
        # The scratch vector is work space, rebuilt on unpickling.
        state = self.__dict__.copy()
        state.pop("_scratch", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._scratch = np.empty(self.n_params, dtype=self.dtype)

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

    def __init__(self, n_params, dtype, momentum=0.9, nesterov=True):
        self.momentum = momentum
        self.nesterov = nesterov
        super().__init__(n_params, dtype)

    def reset(self):
        super().reset()
        self.velocity = np.zeros(self.n_params, dtype=self.dtype)
        self._scratch = np.empty(self.n_params, dtype=self.dtype)

    def step(self, theta, grad, learning_rate, scaled=False):
        # Each line is one pass over the parameters; the work is memory-bound,
        # so the number of passes is the cost (axpy/axpby fuse two).
        self.n_steps += 1
        # A scaled gradient already carries the -learning_rate factor.
        rate = 1.0 if scaled else -learning_rate
        scratch = self._scratch
        if self.momentum == 0:
            axpy(rate, grad, theta, scratch)
            return
        v = self.velocity
        axpby(rate, grad, self.momentum, v, scratch)
        if self.nesterov:
            axpy(rate, grad, theta, scratch)
            axpy(self.momentum, v, theta, scratch)
        else:
            theta += v


class Adagrad(Optimizer):
    """Adagrad: per-parameter rates from the history of squared gradients.

    Notes
    -----
    ::

        G <- G + g^2 ;    theta <- theta - lr g / (sqrt(G) + eps)

    (Duchi, Hazan and Singer, 2011). Parameters that receive large or
    frequent gradients get smaller steps.
    """

    def __init__(self, n_params, dtype, epsilon=1e-8):
        self.epsilon = epsilon
        super().__init__(n_params, dtype)

    def reset(self):
        super().reset()
        self.sum_sq = np.zeros(self.n_params, dtype=self.dtype)
        self._scratch = np.empty(self.n_params, dtype=self.dtype)

    def step(self, theta, grad, learning_rate, scaled=False):
        if scaled:
            raise ValueError(f"{type(self).__name__} is not linear in the "
                             "gradient: it needs the gradient unscaled.")
        self.n_steps += 1
        tmp = self._scratch
        np.multiply(grad, grad, out=tmp)
        self.sum_sq += tmp
        np.sqrt(self.sum_sq, out=tmp)
        tmp += self.epsilon
        np.divide(grad, tmp, out=tmp)
        axpy(-learning_rate, tmp, theta, tmp)


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015), as scikit-learn's MLP implements it.

    Notes
    -----
    ::

        m <- b1 m + (1 - b1) g ;   v <- b2 v + (1 - b2) g^2
        lr_t = lr sqrt(1 - b2^t) / (1 - b1^t)
        theta <- theta - lr_t m / (sqrt(v) + eps)
    """

    def __init__(self, n_params, dtype, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        super().__init__(n_params, dtype)

    def reset(self):
        super().reset()
        self.m = np.zeros(self.n_params, dtype=self.dtype)
        self.v = np.zeros(self.n_params, dtype=self.dtype)
        self._scratch = np.empty(self.n_params, dtype=self.dtype)

    def step(self, theta, grad, learning_rate, scaled=False):
        if scaled:
            raise ValueError(f"{type(self).__name__} is not linear in the "
                             "gradient: it needs the gradient unscaled.")
        self.n_steps += 1
        t = self.n_steps
        b1, b2 = self.beta_1, self.beta_2
        tmp = self._scratch
        axpby(1 - b1, grad, b1, self.m, tmp)
        np.multiply(grad, grad, out=tmp)
        axpby(1 - b2, tmp, b2, self.v, tmp)
        lr_t = learning_rate * np.sqrt(1 - b2**t) / (1 - b1**t)
        np.sqrt(self.v, out=tmp)
        tmp += self.epsilon
        np.divide(self.m, tmp, out=tmp)
        axpy(-lr_t, tmp, theta, tmp)


def make_optimizer(solver, n_params, dtype, *, momentum=0.9, nesterov=True,
                   beta_1=0.9, beta_2=0.999, epsilon=1e-8):
    if solver == "sgd":
        return SGD(n_params, dtype, momentum=momentum, nesterov=nesterov)
    if solver == "adagrad":
        return Adagrad(n_params, dtype, epsilon=epsilon)
    if solver == "adam":
        return Adam(n_params, dtype, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)
    raise ValueError(f"Unknown stochastic solver {solver!r}.")
