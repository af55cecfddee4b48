"""Back-propagation against finite differences, on an estimator's network."""

from dataclasses import dataclass

import numpy as np
from sklearn.utils import check_random_state

from .._engine.gradcheck import check_network_gradients
from ._estimator import _initial_network, _is_fitted
from ._findings import _Printable


@dataclass
class GradientCheckReport(_Printable):
    """Result of :func:`check_gradients`.

    Parameters
    ----------
    errors : dict
        Parameter array name (``dense0.W`` is ``coefs_[0]``, ``dense0.b`` is
        ``intercepts_[0]``, ``batchnorm0.gamma`` the first batch-norm scale,
        ...) to the largest relative error found in it.
    tolerance : float
        Largest relative error that counts as agreement.
    """

    errors: dict
    tolerance: float

    @property
    def max_error(self):
        """float: the largest relative error over all arrays."""
        return float(max(self.errors.values()))

    @property
    def passed(self):
        """bool: whether every array is within ``tolerance``."""
        return bool(self.max_error <= self.tolerance)

    def __str__(self):
        width = max(len(name) for name in self.errors)
        lines = [f"{'parameter':<{width}}  max relative error"]
        for name, error in self.errors.items():
            flag = "" if error <= self.tolerance else "   <-- too large"
            lines.append(f"{name:<{width}}  {error:.2e}{flag}")
        verdict = "passed" if self.passed else "FAILED"
        lines.append(f"gradient check {verdict} (tolerance {self.tolerance:.0e})")
        return "\n".join(lines)


def check_gradients(estimator, X, y, *, sample_weight=None, epsilon=1e-5,
                    tolerance=1e-4, max_entries=20, random_state=0):
    """Compare back-propagated gradients with finite differences.

    The check runs on a float64 copy of the estimator's network, in training
    mode (batch-norm on the batch statistics) with the dropout masks drawn
    once and then held fixed, on the loss the estimator minimises (data loss
    plus its ``alpha`` and ``l1_alpha`` penalties). The estimator is not
    modified.

    Parameters
    ----------
    estimator : estimator
        An sknets network estimator (MLP, autoencoder or pre-trained; not a
        pipeline). Fitted, or unfitted: then the check runs at the initial
        weights that ``fit`` would start from, with the biases (and
        batch-norm scales and shifts) moved by up to 0.1 at random so that no
        relu unit sits exactly on its kink.
    X : array-like of shape (n_samples, n_features)
        A batch of inputs (a few dozen rows suffice).
    y : array-like of shape (n_samples,) or (n_samples, n_outputs), or None
        Their targets; None for an autoencoder (its input is its target).
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights of the loss.
    epsilon : float, default=1e-5
        Finite-difference step.
    tolerance : float, default=1e-4
        Largest relative error reported as a pass.
    max_entries : int or None, default=20
        Check at most this many random entries of each parameter array
        (None: all of them).
    random_state : int, RandomState instance or None, default=0
        Draws the dropout masks and the entries checked.

    Returns
    -------
    report : GradientCheckReport
        Largest relative error per parameter array; ``print(report)`` shows
        a table.

    Notes
    -----
    For each checked parameter ``theta_j`` the numeric derivative is the
    central difference ``(L(theta + eps e_j) - L(theta - eps e_j)) / (2 eps)``,
    accurate to ``O(eps^2)``; the error is
    ``|analytic - numeric| / max(|analytic|, |numeric|, 1e-6)``. A relu unit
    whose input lies within ``eps`` of 0 can disagree for lack of a
    derivative at the kink; a check that fails on one entry only may be that.
    """
    if _is_fitted(estimator):
        network = estimator._network
        X_checked = estimator._validate_X(X)
        # An autoencoder is its own target.
        Y = estimator._encode_targets(
            X_checked if y is None else np.asarray(y), fitting=False
        )
    else:
        network, X_checked, Y, init_rng = _initial_network(estimator, X, y)
        # Zero biases put relu units whose inputs are all dropped exactly on
        # the kink, where finite differences disagree with any derivative;
        # small random biases move them off it (on this throw-away copy).
        network.theta[network.n_decayed:] += init_rng.uniform(
            -0.1, 0.1, network.theta.size - network.n_decayed
        ).astype(network.dtype)
    rng = np.random.default_rng(
        check_random_state(random_state).randint(np.iinfo(np.int32).max)
    )
    sw = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
    errors = check_network_gradients(
        network, X_checked, Y, sw, alpha=estimator.alpha,
        l1_alpha=estimator._training_options().l1_alpha, rng=rng, epsilon=epsilon,
        max_entries=max_entries, floor=1e-6,
    )
    return GradientCheckReport(errors=errors, tolerance=tolerance)
