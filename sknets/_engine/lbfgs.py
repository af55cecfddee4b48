"""Full-batch training with L-BFGS (scipy's), through the network's Ops.

scipy's optimiser works on float64 host vectors; the network's parameters
and gradient cross to and from its backend once per evaluation.
"""

import scipy.optimize

from .solvers import Hyperparameter, register_solver


def train_lbfgs(network, X, Y, sample_weight=None, *, alpha=0.0, l1_alpha=0.0,
                max_iter=200, max_fun=15000, tol=1e-4, verbose=False):
    """Full-batch L-BFGS through :func:`scipy.optimize.minimize`.

    Returns the scipy ``OptimizeResult``; the network holds its solution.
    """
    ops = network.ops

    def objective(theta):
        ops.assign_from_host(network.theta, theta)
        value = network.loss_and_grad(X, Y, sample_weight, alpha, l1_alpha)
        return ops.to_float(value), ops.to_host(network.grad, "float64")

    with ops.quiet_errors():
        result = scipy.optimize.minimize(
            objective, ops.to_host(network.theta, "float64"), method="L-BFGS-B",
            jac=True,
            options={"maxfun": max_fun, "maxiter": max_iter, "gtol": tol},
        )
    ops.assign_from_host(network.theta, result.x)
    network.clear_cache()
    if verbose:
        print(f"L-BFGS: {result.nit} iterations, loss = {result.fun:.8f}: "
              f"{result.message}")
    return result


@register_solver
class LBFGS:
    """The registry's entry for L-BFGS: a full-batch solver, run by
    :func:`train_lbfgs`, whose hyperparameters are its keywords."""

    name = "lbfgs"
    stochastic = False
    schedules = ()  # no epochs, no learning rate
    summary = "a full-batch quasi-Newton method for small data."
    hyperparameters = (
        Hyperparameter("max_fun", 15000, kind="int", low=1, closed="left",
                       doc="Maximum number of loss evaluations of {users}."),
    )
