"""Hidden-unit non-linearities, applied and differentiated in place.

Each activation is a pair of functions working on preallocated arrays:
``forward(Z)`` overwrites the pre-activation ``Z`` with ``g(Z)``, and
``backward(A, dA, scratch)`` multiplies the upstream gradient ``dA`` in place
by ``g'(Z)``, written in terms of the output ``A = g(Z)`` so that the
pre-activation never has to be kept. ``scratch`` is a work array of ``A``'s
shape and of the dtype ``SCRATCH_DTYPES`` names (``None``: the activation
needs none, ``"same"``: ``A``'s dtype), reused from minibatch to minibatch so
that training allocates nothing; it may be None, and then a temporary is made.
"""

import numpy as np
from scipy.special import expit


def _identity_forward(Z):
    return Z


def _identity_backward(A, dA, scratch=None):
    return dA


def _logistic_forward(Z):
    return expit(Z, out=Z)


def _logistic_backward(A, dA, scratch=None):
    # g'(z) = g(z) (1 - g(z))
    dA *= A
    dA *= np.subtract(1.0, A, out=scratch)
    return dA


def _tanh_forward(Z):
    return np.tanh(Z, out=Z)


def _tanh_backward(A, dA, scratch=None):
    # g'(z) = 1 - tanh(z)^2
    square = np.multiply(A, A, out=scratch)
    dA *= np.subtract(1.0, square, out=square)
    return dA


def _relu_forward(Z):
    return np.maximum(Z, 0, out=Z)


def _relu_backward(A, dA, scratch=None):
    # A multiply by the 0/1 mask is an order of magnitude faster than a
    # boolean-mask store (dA[A <= 0] = 0) on large arrays.
    np.multiply(dA, np.greater(A, 0, out=scratch), out=dA)
    return dA


ACTIVATIONS = {
    "identity": (_identity_forward, _identity_backward),
    "logistic": (_logistic_forward, _logistic_backward),
    "tanh": (_tanh_forward, _tanh_backward),
    "relu": (_relu_forward, _relu_backward),
}

SCRATCH_DTYPES = {"identity": None, "logistic": "same", "tanh": "same", "relu": bool}
