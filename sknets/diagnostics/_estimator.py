"""How the diagnostics (and the plots) reach into an estimator.

An sknets estimator or a :class:`~sklearn.pipeline.Pipeline` ending in one:
its network step, the network ``fit`` would start from, and row sampling
that keeps the kind of the data (array, sparse matrix, DataFrame).
"""

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted


def _final_step(estimator):
    """``(preprocessing or None, network estimator)`` of a pipeline or estimator."""
    if isinstance(estimator, Pipeline):
        return estimator[:-1], estimator[-1]
    return None, estimator


def _fitted_final_step(estimator):
    """The network estimator of a pipeline or estimator, checked to be fitted."""
    _, final = _final_step(estimator)
    check_is_fitted(final)
    return final


def _network_input(estimator, X):
    """``X`` as the network step of a fitted pipeline (or estimator) sees it."""
    preprocess, _ = _final_step(estimator)
    return X if preprocess is None else preprocess.transform(X)


def _is_fitted(estimator):
    try:
        check_is_fitted(estimator)
    except NotFittedError:
        return False
    return True


def _initial_network(estimator, X, y):
    """The network ``fit`` would start from (built on a clone), and its data."""
    estimator = clone(estimator)
    estimator._validate_params()
    X_checked, _, Y, _, sizes, init_rng = estimator._prepare(X, y, None)
    network = estimator._build_network(
        X_checked.shape[1], Y.shape[1], sizes, init_rng
    )
    return network, X_checked, Y, init_rng


def _n_rows(data):
    return data.shape[0] if hasattr(data, "shape") else len(data)


def _take_rows(data, rows):
    """Rows of an array, sparse matrix, list or DataFrame, keeping its kind."""
    if hasattr(data, "iloc"):
        return data.iloc[rows]
    if sp.issparse(data):
        return data[rows]
    return np.asarray(data)[rows]


def _subsample(X, y, n_samples, random_state):
    """At most ``n_samples`` random rows of ``X`` and ``y`` (None: all), in order."""
    n = _n_rows(X)
    if n_samples is None or n <= n_samples:
        return X, y
    rows = np.sort(
        check_random_state(random_state).choice(n, n_samples, replace=False)
    )
    return _take_rows(X, rows), (None if y is None else _take_rows(y, rows))
