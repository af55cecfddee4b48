"""Finite-difference gradient checking of a network's training loss.

Notes
-----
Each checked entry ``theta_j`` is perturbed by ``+-eps`` and the central
difference ``(L(theta + eps e_j) - L(theta - eps e_j)) / (2 eps)`` compared
with the back-propagated ``dL/dtheta_j``. The check runs in float64, in
training mode (batch-norm uses the minibatch statistics), with the dropout
masks drawn once and then held fixed, so the loss is a deterministic function
of the parameters. The reported error per entry is
``|analytic - numeric| / max(|analytic|, |numeric|, floor)``, the floor keeping
round-off on near-zero gradients from reading as a large relative error.
"""

import copy

import numpy as np


def as_float64(network):
    """Deep copy of ``network`` computing in float64."""
    net = copy.deepcopy(network)
    if net.dtype == np.float64:
        return net
    net.dtype = np.dtype(np.float64)
    net.theta = net.theta.astype(np.float64)
    net.grad = np.zeros_like(net.theta)
    for layer in net.layers:
        layer.state = {k: v.astype(np.float64) for k, v in layer.state.items()}
    net._bind()
    return net


def array_names(network):
    """``(name, start, size)`` of each trainable array in the flat buffer."""
    out = []
    for i, name, start, shape in sorted(network._layout, key=lambda s: (s[0], s[2])):
        kind = type(network.layers[i]).__name__.lower()
        index = sum(
            1 for layer in network.layers[:i]
            if type(layer) is type(network.layers[i])
        )
        out.append((f"{kind}{index}.{name}", start, int(np.prod(shape))))
    return out


def check_network_gradients(network, X, Y, sample_weight=None, *, alpha=0.0,
                            l1_alpha=0.0, rng=None, epsilon=1e-6,
                            max_entries=None, floor=1e-7):
    """Largest relative error between analytic and numeric gradients per array.

    Parameters
    ----------
    network : Network
        Left unchanged (the check works on a float64 copy).
    X, Y, sample_weight : arrays
        One batch, with targets encoded as the network's loss expects.
    rng : numpy.random.Generator, optional
        Draws the (then fixed) dropout masks and the entries checked.
    max_entries : int, optional
        Check at most this many randomly chosen entries per array.

    Returns
    -------
    errors : dict
        Array name to its largest relative error.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    net = as_float64(network)
    X = X.astype(np.float64)
    Y = np.asarray(Y, dtype=np.float64)

    def loss(reuse=True):
        return net.loss_and_grad(X, Y, sample_weight, alpha, l1_alpha, rng=rng,
                                 reuse_masks=reuse)

    loss(reuse=False)
    analytic = net.grad.copy()
    errors = {}
    for name, start, size in array_names(net):
        entries = np.arange(start, start + size)
        if max_entries is not None and size > max_entries:
            entries = rng.choice(entries, size=max_entries, replace=False)
        worst = 0.0
        for j in entries:
            saved = net.theta[j]
            net.theta[j] = saved + epsilon
            plus = loss()
            net.theta[j] = saved - epsilon
            minus = loss()
            net.theta[j] = saved
            numeric = (plus - minus) / (2 * epsilon)
            scale = max(abs(analytic[j]), abs(numeric), floor)
            worst = max(worst, abs(analytic[j] - numeric) / scale)
        errors[name] = worst
    return errors
