"""Weight initialisation that breaks symmetry.

Notes
-----
Biases start at zero; weights are drawn independently from a uniform
distribution ``U(-r, r)`` so that no two units of a layer compute the same
function (zero or constant weights would make every unit of a layer identical,
and zero weights are a saddle point of a tanh network). The range keeps the
variance of activations and gradients roughly constant across layers:

- ``tanh`` and ``identity``: ``r = sqrt(6 / (fan_in + fan_out))``
  (Glorot & Bengio, 2010);
- ``logistic``: four times that, since the logistic slope at 0 is 1/4;
- ``relu``: ``r = sqrt(12 / (fan_in + fan_out))``, i.e. variance
  ``2 / fan_avg`` with ``fan_avg = (fan_in + fan_out) / 2``: He et al.'s
  (2015) factor 2, since a relu zeroes half of its inputs, with Glorot's
  average of the fans, which balances the forward and the backward signal
  (He et al. show that either fan alone suffices; the average gave the better
  test scores on scikit-learn's small data sets).

References
----------
Glorot, X. and Bengio, Y. (2010). Understanding the difficulty of training
deep feedforward neural networks. AISTATS.

He, K., Zhang, X., Ren, S. and Sun, J. (2015). Delving deep into rectifiers.
ICCV.
"""

import math

from .ops import get_ops


def init_range(fan_in, fan_out, activation):
    """Half-width of the uniform initialisation range for one weight matrix."""
    if activation == "relu":
        return math.sqrt(12.0 / (fan_in + fan_out))
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    if activation == "logistic":
        bound *= 4.0
    return bound


def init_weights(W, activation, rng, ops=None):
    """Fill the weight matrix ``W`` (fan_in, fan_out) in place from ``rng``."""
    fan_in, fan_out = W.shape
    bound = init_range(fan_in, fan_out, activation)
    return (get_ops() if ops is None else ops).fill_uniform(W, -bound, bound, rng)
