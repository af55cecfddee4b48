"""Scale-out: parallel grid search (loky, dask), streaming, BLAS threads."""

import os
import warnings

import joblib
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from threadpoolctl import threadpool_info

from sknets import AutoencoderTransformer, MLPClassifier, MLPRegressor

pytestmark = pytest.mark.numerics

X, y = make_classification(n_samples=80, n_features=6, n_informative=4,
                           random_state=0)
# float64: the same figures whatever BLAS thread count a worker gets.
SMALL = dict(hidden_layer_sizes=(6,), max_iter=8, random_state=0, dtype="float64",
             learning_rate_init=0.05)
GRID = {"alpha": [1e-4, 1e-1], "solver": ["adam", "sgd"]}


def _search(n_jobs):
    search = GridSearchCV(MLPClassifier(**SMALL), GRID, cv=2, n_jobs=n_jobs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return search.fit(X, y)


def _assert_same_search(a, b):
    assert a.best_params_ == b.best_params_
    assert_allclose(a.cv_results_["mean_test_score"],
                    b.cv_results_["mean_test_score"], rtol=1e-12)
    assert_array_equal(a.predict(X), b.predict(X))


@pytest.fixture(scope="module")
def sequential_search():
    return _search(n_jobs=1)


def test_grid_search_in_loky_processes_matches_sequential(sequential_search):
    with joblib.parallel_config(backend="loky"):
        parallel = _search(n_jobs=2)
    _assert_same_search(sequential_search, parallel)


def test_grid_search_on_dask_distributed_matches_sequential(sequential_search):
    distributed = pytest.importorskip("distributed")
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2,
                            dashboard_address=None):
        with joblib.parallel_config(backend="dask"):
            on_dask = _search(n_jobs=2)
    _assert_same_search(sequential_search, on_dask)


def _chunks(n_chunks, rng):
    """A stream of ``(X, y)`` chunks, as a reader of a large file would give."""
    X_all, y_all = make_classification(n_samples=2000, n_features=10,
                                       n_informative=6, random_state=0)
    for _ in range(n_chunks):
        rows = rng.integers(0, 1500, 100)
        yield X_all[rows], y_all[rows]


def test_partial_fit_on_a_stream_of_chunks_learns():
    X_all, y_all = make_classification(n_samples=2000, n_features=10,
                                       n_informative=6, random_state=0)
    est = MLPClassifier(hidden_layer_sizes=(16,), random_state=0,
                        learning_rate_init=0.01)
    for X_chunk, y_chunk in _chunks(60, np.random.default_rng(0)):
        est.partial_fit(X_chunk, y_chunk, classes=[0, 1])
    assert len(est.loss_curve_) == 60
    assert np.mean(est.loss_curve_[-10:]) < np.mean(est.loss_curve_[:10])
    # Held-out rows (the stream draws from the first 1500 only). Measured
    # 0.892-0.914 over 4 BLAS kernels and 10 seeds; chance is 0.5.
    assert est.score(X_all[1500:], y_all[1500:]) > 0.8


@pytest.mark.parametrize("est", [
    MLPRegressor(hidden_layer_sizes=(8,), random_state=0, learning_rate_init=0.01),
    AutoencoderTransformer(hidden_layer_sizes=(4,), random_state=0,
                           loss="squared_error", learning_rate_init=0.01),
], ids=["regressor", "autoencoder"])
def test_partial_fit_on_a_generator_lowers_the_loss(est):
    X_all, _ = make_classification(n_samples=600, n_features=6, random_state=0)
    target = X_all @ np.linspace(-1, 1, 6)
    first = None
    for start in range(0, 600 * 5, 100):  # five passes over the data
        rows = np.arange(start, start + 100) % 600
        est.partial_fit(X_all[rows], target[rows])
        first = est.loss_ if first is None else first
    # Measured loss_/first over 4 BLAS kernels and 10 seeds: regressor
    # 0.06-0.31, autoencoder 0.45-0.62; a model that does not learn stays ~1.
    bound = 0.5 if isinstance(est, MLPRegressor) else 0.75
    assert est.loss_ < bound * first


def _incremental_fit(incremental_seed=0):
    """Three passes of dask-ml's Incremental over dask blocks; test accuracy."""
    try:
        import dask.array as da
        from dask_ml.wrappers import Incremental
    except ImportError as exc:  # not installed, or broken by its own dependencies
        pytest.skip(f"dask-ml cannot be imported: {exc}")

    X_all, y_all = make_classification(n_samples=600, n_features=6,
                                       n_informative=4, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X_all, y_all,
                                                        random_state=0)
    # Incremental shuffles the blocks on each call; its random_state must be
    # fixed too, or the order (and the score) depends on the global NumPy
    # random state that earlier tests left behind.
    inc = Incremental(MLPClassifier(hidden_layer_sizes=(8,), random_state=0,
                                    learning_rate_init=0.05, batch_size=20),
                      scoring="accuracy", random_state=incremental_seed)
    X_d = da.from_array(X_train, chunks=90)
    y_d = da.from_array(y_train, chunks=90)
    for _ in range(3):  # each call is one pass over the blocks
        inc.partial_fit(X_d, y_d, classes=[0, 1])
    assert len(inc.estimator_.loss_curve_) == 3 * X_d.numblocks[0]
    return inc.score(da.from_array(X_test), da.from_array(y_test))


def test_dask_ml_incremental_trains_on_dask_chunks():
    # 0.927 here, the same on every BLAS kernel (the seeds are fixed). Over
    # 10 block orders x 10 seeds: 0.75-0.97 (the unseeded order once gave
    # 0.847). A linear model scores 0.66 on this split; chance is 0.52.
    assert _incremental_fit() > 0.85


def test_dask_ml_incremental_score_ignores_the_global_random_state():
    # The failure once blamed on a BLAS kernel came from the global NumPy
    # random state (Incremental without random_state): the score of the test
    # above must not change with it.
    scores, saved = [], np.random.get_state()  # noqa: NPY002
    try:
        for global_seed in (1, 2):
            # The legacy global state is what dask-ml draws from.
            np.random.seed(global_seed)  # noqa: NPY002
            scores.append(_incremental_fit())
    finally:
        np.random.set_state(saved)  # noqa: NPY002
    assert scores[0] == scores[1]


# -- nested parallelism ---------------------------------------------------------


def blas_threads(estimator, X, y):
    """A 'score': the most threads a BLAS library may use where it runs."""
    return max(
        (info["num_threads"] for info in threadpool_info()
         if info["user_api"] == "blas"),
        default=1,
    )


def test_loky_grid_search_workers_limit_blas_threads():
    n_jobs = 2
    # joblib gives each worker cpu_count // n_jobs threads, unless the
    # variables are already set for the parent process.
    limit = max(joblib.cpu_count() // n_jobs, 1)
    for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        if var in os.environ:
            limit = max(limit, int(os.environ[var]))
    search = GridSearchCV(
        MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0),
        {"alpha": [1e-4, 1e-3]}, cv=2, n_jobs=n_jobs,
        scoring={"threads": blas_threads}, refit=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with joblib.parallel_config(backend="loky"):
            search.fit(X, y)
    in_workers = search.cv_results_["mean_test_threads"]
    assert np.all(in_workers >= 1)
    assert np.all(in_workers <= limit)
