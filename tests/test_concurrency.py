"""Inference from several threads at once equals inference in sequence.

Training keeps scratch buffers in the layers (their ``scratch`` and
``cache``); inference must use none of them, so that one fitted
model can serve predictions from a thread pool. Batches larger than the
network's prediction chunk exercise the chunked path; batch normalisation
and dropout cover the layers with train/predict differences.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal
from sklearn.base import clone
from threadpoolctl import threadpool_limits

from sknets import (
    AutoencoderTransformer,
    MLPClassifier,
    MLPRegressor,
    StackedPretrainedClassifier,
)
from sknets._engine.network import PREDICT_CHUNK_ROWS

# warnings.catch_warnings is not thread-safe: filter by marks instead.
# numerics: the threads' predictions are compared with sequential ones.
pytestmark = [
    pytest.mark.numerics,
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]

N_THREADS = 8
N_CALLS = 24
N_ROWS = 2 * PREDICT_CHUNK_ROWS + 321  # three chunks, the last one partial
N_FEATURES = 12


@pytest.fixture(scope="module", autouse=True)
def one_blas_thread():
    # The Python threads are under test, not BLAS's; one BLAS thread keeps
    # every product's rounding the same whichever thread runs it.
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N_ROWS, N_FEATURES))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)
    targets = np.c_[X[:, 0] - X[:, 1], X[:, 2] * X[:, 3]]
    return X, y, targets


# name: (estimator, what it is trained on)
MODELS = {
    "classifier": (
        MLPClassifier(hidden_layer_sizes=(32, 16), max_iter=5, random_state=0),
        "labels"),
    "classifier batch_norm dropout": (
        MLPClassifier(hidden_layer_sizes=(32, 16), solver="sgd", batch_norm=True,
                      dropout=0.5, input_dropout=0.2, max_iter=5,
                      learning_rate_init=0.05, random_state=0),
        "labels"),
    "regressor batch_norm dropout": (
        MLPRegressor(hidden_layer_sizes=(32,), batch_norm=True, dropout=0.3,
                     batch_norm_statistics="exact", max_iter=5, random_state=0),
        "targets"),
    "autoencoder denoising": (
        AutoencoderTransformer(hidden_layer_sizes=(16, 6), corruption_level=0.3,
                               max_iter=5, random_state=0),
        None),
    "autoencoder untied sparse code": (
        AutoencoderTransformer(hidden_layer_sizes=(8,), tied_weights=False,
                               sparsity_weight=0.1, max_iter=5, random_state=0),
        None),
    "pretrained batch_norm": (
        StackedPretrainedClassifier(hidden_layer_sizes=(16,), batch_norm=True,
                                    pretrain_corruption_level=0.2,
                                    pretrain_max_iter=2, max_iter=5,
                                    random_state=0),
        "labels"),
}
METHODS = ["predict", "predict_proba", "predict_log_proba", "transform",
           "inverse_transform", "score"]
CASES = [(name, method) for name, (est, _) in MODELS.items()
         for method in METHODS if hasattr(est, method)]


def train(est, X, y=None):
    return est.fit(X[:400], None if y is None else y[:400])


@pytest.fixture(scope="module")
def models(data):
    X, y, T = data
    targets = {"labels": y, "targets": T, None: None}
    return {name: train(clone(est), X, targets[kind])
            for name, (est, kind) in MODELS.items()}


def arguments(est, method, X, y, T):
    """Arguments of ``method`` on the full batch."""
    if method == "inverse_transform":
        return (est.transform(X),)
    if method == "score" and not isinstance(est, AutoencoderTransformer):
        return (X, T if isinstance(est, MLPRegressor) else y)
    return (X,)


def run_concurrently(tasks):
    """Run the callables in ``tasks`` on N_THREADS threads, released together."""
    start = threading.Event()

    def run(task):
        start.wait()
        return task()

    with ThreadPoolExecutor(max_workers=N_THREADS) as pool:
        futures = [pool.submit(run, task) for task in tasks]
        start.set()
        return [future.result() for future in futures]


@pytest.mark.parametrize("name, method", CASES)
def test_concurrent_calls_equal_sequential_ones(models, data, name, method):
    est = models[name]
    X, y, T = data
    args = arguments(est, method, X, y, T)
    function = getattr(est, method)
    expected = function(*args)
    results = run_concurrently([lambda: function(*args)] * N_CALLS)
    for result in results:
        assert_array_equal(result, expected)


@pytest.mark.parametrize("name", list(MODELS))
def test_different_methods_and_dtypes_at_once_do_not_interfere(models, data,
                                                              name):
    est = models[name]
    X = data[0]
    methods = [m for m in ("predict", "predict_proba", "transform")
               if hasattr(est, m)]
    calls = []
    for method in methods:
        for dtype in (np.float32, np.float64):
            # Different batch sizes, so that the chunks do not line up.
            for rows in (N_ROWS, PREDICT_CHUNK_ROWS + 7, 5):
                calls.append((method, dtype, rows))
    expected = [getattr(est, m)(X[:rows].astype(dtype)) for m, dtype, rows in calls]
    tasks = [
        (lambda m=m, dtype=dtype, rows=rows:
         getattr(est, m)(X[:rows].astype(dtype)))
        for m, dtype, rows in calls
    ] * 3
    results = run_concurrently(tasks)
    for result, reference in zip(results, expected * 3, strict=True):
        assert result.dtype == reference.dtype
        assert_array_equal(result, reference)


def test_concurrent_prediction_on_sparse_input(data):
    X, y, _ = data
    X_sparse = sp.random(N_ROWS, 300, density=0.02, format="csr", random_state=0)
    clf = train(MLPClassifier(hidden_layer_sizes=(16,), max_iter=3,
                              random_state=0), X_sparse, y)
    expected = clf.predict_proba(X_sparse)
    results = run_concurrently([lambda: clf.predict_proba(X_sparse)] * N_CALLS)
    for result in results:
        assert_array_equal(result, expected)


def test_predicting_while_a_copy_trains_does_not_interfere(models, data):
    # Training writes to its own network's buffers only: a clone training in
    # another thread leaves the fitted model's predictions alone.
    X, y, _ = data
    est = models["classifier batch_norm dropout"]
    expected = est.predict_proba(X)

    def fit_clone():
        return train(clone(est).set_params(max_iter=3), X, y)

    tasks = [fit_clone] * 2 + [lambda: est.predict_proba(X)] * 10
    results = run_concurrently(tasks)
    for result in results[2:]:
        assert_array_equal(result, expected)
