"""A row's prediction does not depend on the other rows of the call.

Every public inference method, on float32 and float64 models, gives bitwise
the same output for a row whether it is predicted alone, among 7 rows, among
2500 rows (which cross the 1024-row prediction chunk and every tile size),
or in another order. CI runs this module under several OpenBLAS kernels and
thread counts (the ``numerics`` marker).
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from threadpoolctl import threadpool_limits

from sknets import (
    AutoencoderTransformer,
    MLPClassifier,
    MLPRegressor,
    StackedPretrainedClassifier,
    StackedPretrainedRegressor,
)
from sknets._engine import products

pytestmark = pytest.mark.numerics

N_ROWS = 2500
ROWS = [0, 1, 7, 1023, 1024, 1500, N_ROWS - 1]
STARTS = [0, 1020, N_ROWS - 7]
FAST = dict(hidden_layer_sizes=(32, 16), max_iter=5, random_state=0)


def _data(n_classes=3, n_features=20, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N_ROWS, n_features))
    y = (X[:, :n_classes] @ rng.standard_normal(n_classes) > 0).astype(int)
    if n_classes > 2:
        y += (X[:, 0] > 1).astype(int)
    return X, y


def _fit(estimator, X, y=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X[:300], None if y is None else y[:300])


def _assert_rows_independent(method, X):
    full = method(X)
    for i in ROWS:
        assert_array_equal(method(X[i : i + 1]), full[i : i + 1],
                           err_msg=f"row {i} alone")
    for start in STARTS:
        assert_array_equal(method(X[start : start + 7]), full[start : start + 7],
                           err_msg=f"rows {start} to {start + 6}")
    order = np.random.default_rng(1).permutation(X.shape[0])
    assert_array_equal(method(X[order]), full[order], err_msg="shuffled rows")
    if not sp.issparse(X):
        assert_array_equal(method(np.asfortranarray(X)), full,
                           err_msg="Fortran-ordered rows")
    return full


DTYPES = ["float32", "float64"]
CLASSIFIERS = {
    "adam": MLPClassifier(**FAST),
    "batch_norm+dropout": MLPClassifier(**FAST, solver="sgd", batch_norm=True,
                                        dropout=0.5, learning_rate_init=0.1),
    "tanh": MLPClassifier(**FAST, activation="tanh"),
    "pretrained": StackedPretrainedClassifier(**FAST, pretrain_max_iter=2),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("name", list(CLASSIFIERS))
def test_classifier_outputs_of_a_row_ignore_the_other_rows(name, n_classes, dtype):
    X, y = _data(n_classes)
    clf = _fit(CLASSIFIERS[name].set_params(dtype=dtype), X, y)
    for method in (clf.predict_proba, clf.predict_log_proba):
        _assert_rows_independent(method, X)
    labels = _assert_rows_independent(clf.predict, X)
    rows = slice(1020, 1027)
    assert clf.score(X[rows], y[rows]) == accuracy_score(y[rows], labels[rows])


REGRESSORS = {
    "adam": MLPRegressor(**FAST),
    "batch_norm": MLPRegressor(**FAST, solver="sgd", batch_norm=True,
                               learning_rate_init=0.01),
    "pretrained": StackedPretrainedRegressor(**FAST, pretrain_max_iter=2),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n_outputs", [1, 2])
@pytest.mark.parametrize("name", list(REGRESSORS))
def test_regressor_outputs_of_a_row_ignore_the_other_rows(name, n_outputs, dtype):
    X, _ = _data()
    y = X[:, :n_outputs] @ np.ones((n_outputs, n_outputs)) + X[:, 3:4]
    y = y.ravel() if n_outputs == 1 else y
    reg = _fit(REGRESSORS[name].set_params(dtype=dtype), X, y)
    pred = _assert_rows_independent(reg.predict, X)
    rows = slice(1020, 1027)
    assert reg.score(X[rows], y[rows]) == r2_score(y[rows], pred[rows])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("tied_weights", [True, False])
@pytest.mark.parametrize("loss", ["cross_entropy", "squared_error"])
def test_autoencoder_codes_and_reconstructions_ignore_the_other_rows(
    loss, tied_weights, dtype
):
    X = np.random.default_rng(0).random((N_ROWS, 20))
    ae = _fit(AutoencoderTransformer(hidden_layer_sizes=(12, 6), max_iter=5,
                                     random_state=0, loss=loss,
                                     tied_weights=tied_weights, dtype=dtype), X)
    codes = _assert_rows_independent(ae.transform, X)
    _assert_rows_independent(ae.inverse_transform, codes)
    # The score of a set of rows is the mean of what each row scores alone.
    alone = [ae.score(X[i : i + 1]) for i in range(1020, 1027)]
    np.testing.assert_allclose(ae.score(X[1020:1027]), np.mean(alone), rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sparse_input_rows_ignore_the_other_rows(dtype):
    X, y = _data()
    X[np.abs(X) < 1] = 0
    X = sp.csr_matrix(X)
    clf = _fit(MLPClassifier(**FAST, dtype=dtype), X, y)
    _assert_rows_independent(clf.predict_proba, X)


@pytest.mark.parametrize("dtype", DTYPES)
def test_rows_ignore_the_other_rows_with_any_blas_thread_count(dtype):
    # Wide layers: with Haswell kernels, which float32 tiles of a 100x512 or
    # 512x512 product treat rows alike depends on the thread count.
    X, y = _data(n_features=100)
    clf = _fit(MLPClassifier(hidden_layer_sizes=(512, 512), max_iter=2,
                             random_state=0, dtype=dtype), X, y)
    for threads in (2, 1):
        with threadpool_limits(threads, user_api="blas"):
            _assert_rows_independent(clf.predict_proba, X)


def test_plans_follow_the_blas_thread_count():
    if products.num_threads() is None:
        pytest.skip("this BLAS does not report its thread count")
    with threadpool_limits(1, user_api="blas"):
        assert products.num_threads() == 1


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_inference_product_is_the_matrix_product(dtype, transposed):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1500, 30)).astype(dtype)
    W = rng.standard_normal((40, 30) if transposed else (30, 40)).astype(dtype)
    W = W.T if transposed else W
    Z = products.inference_product(X, W)
    assert Z.dtype == dtype and Z.shape == (1500, 40)
    np.testing.assert_allclose(Z, X.astype(np.float64) @ W.astype(np.float64),
                               rtol=1e-4 if dtype == np.float32 else 1e-12,
                               atol=1e-4 if dtype == np.float32 else 1e-12)
    assert_array_equal(products.inference_product(X[5:6], W), Z[5:6])


def test_float32_products_go_through_float64_where_no_float32_tile_is_consistent(
    monkeypatch,
):
    # A BLAS whose float32 products treat rows differently in every shape, as
    # OpenBLAS's Haswell kernels do: the product is computed in float64.
    real = products._consistent_tiles

    def float32_never_consistent(n_in, n_out, dtype, transposed):
        return () if dtype == np.float32 else real(n_in, n_out, dtype, transposed)

    monkeypatch.setattr(products, "_consistent_tiles", float32_never_consistent)
    monkeypatch.setattr(products, "_PLANS", {})
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 30)).astype(np.float32)
    W = rng.standard_normal((30, 7)).astype(np.float32)
    Z = products.inference_product(X, W)
    assert Z.dtype == np.float32
    expected = (X.astype(np.float64) @ W.astype(np.float64)).astype(np.float32)
    np.testing.assert_allclose(Z, expected, rtol=1e-6, atol=1e-6)
    (plan,) = products._PLANS.values()
    assert plan[0] == np.float64


def test_a_shape_without_consistent_tiles_uses_the_largest_tile(monkeypatch):
    monkeypatch.setattr(products, "_consistent_tiles", lambda *args: ())
    monkeypatch.setattr(products, "_PLANS", {})
    X = np.ones((3, 4), dtype=np.float64)
    with pytest.warns(RuntimeWarning, match="may differ in the last bits"):
        Z = products.inference_product(X, np.ones((4, 2)))
    assert_array_equal(Z, np.full((3, 2), 4.0))
    assert list(products._PLANS.values()) == [(np.dtype(np.float64),
                                               products.TILE_ROWS[-1:])]
