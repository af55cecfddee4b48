"""Engine bugs found while reading it for its seams, each pinned by a test.

Every test here failed on the engine before the fix (commit 650984f).
"""

import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from sknets import MLPRegressor
from sknets._engine.layers import Dropout, ForwardContext
from sknets._engine.losses import LOSSES


def test_the_poisson_loss_takes_one_exponential_per_batch(monkeypatch):
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((64, 3)).astype(np.float32)
    Y = rng.poisson(1.0, (64, 3)).astype(np.float32)
    expected_mu = np.exp(Z)
    real_exp = np.exp
    calls = []

    def counting_exp(*args, **kwargs):
        calls.append(1)
        return real_exp(*args, **kwargs)

    loss = LOSSES["poisson"]()
    reference = loss.loss(Z.copy(), Y)
    monkeypatch.setattr(np, "exp", counting_exp)
    value, delta = loss.loss_and_delta(Z.copy(), Y)
    assert len(calls) == 1
    # And the fused pass computes what the separate ones did.
    assert float(value) == pytest.approx(float(reference), rel=1e-6)
    np.testing.assert_allclose(delta, (expected_mu - Y) / 64, rtol=1e-6)


def _sparse_batch(rng, rows=64, cols=20000, density=0.001):
    return sp.random(rows, cols, density=density, format="csr", dtype=np.float32,
                     random_state=rng) + 0


def test_dropout_on_sparse_input_allocates_no_dense_mask():
    rng = np.random.default_rng(0)
    layer = Dropout(0.5)
    batches = [_sparse_batch(rng) for _ in range(3)]
    dense_bytes = 64 * 20000 * 4
    tracemalloc.start()
    try:
        # Nor does it draw a random number per entry of the dense shape.
        for X in batches:
            layer.forward(X, ForwardContext(training=True, rng=rng))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < dense_bytes / 20
    held = {**vars(layer), **getattr(layer, "scratch", {}),
            **getattr(layer, "cache", {})}
    kept = {k: v.nbytes for k, v in held.items() if isinstance(v, np.ndarray)}
    assert sum(kept.values()) < dense_bytes / 20, kept


def test_dropout_on_sparse_input_drops_stored_values_with_the_rate():
    rng = np.random.default_rng(0)
    X = _sparse_batch(rng, rows=200, cols=500, density=0.2)
    out = Dropout(0.3).forward(X, ForwardContext(training=True, rng=rng))
    assert sp.issparse(out) and out.shape == X.shape
    dense, original = out.toarray(), X.toarray()
    stored = original != 0
    kept = dense[stored] != 0
    assert not dense[~stored].any()  # a zero stays zero
    assert kept.mean() == pytest.approx(0.7, abs=0.02)
    np.testing.assert_allclose(dense[stored][kept], original[stored][kept] / 0.7,
                               rtol=1e-6)
    # Inference is the identity.
    assert Dropout(0.3).forward(X, ForwardContext(training=False)) is X


def _exploding_regression(n=400):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 10)).astype(np.float32) * 3
    y = X @ rng.standard_normal(10).astype(np.float32)
    return X, y


def test_a_loss_exploding_in_the_first_epoch_is_caught():
    # Plain SGD on a linear model with a rate far beyond 2 / |x|^2 grows
    # the error geometrically from the first steps: finite, but by far more
    # than 10^4 times the initial loss within the first epoch.
    X, y = _exploding_regression()
    model = MLPRegressor(hidden_layer_sizes=(), solver="sgd", momentum=0.0,
                         learning_rate_init=0.2, batch_size=10, max_iter=1,
                         shuffle=False, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y)
    exploded = [w for w in caught if "loss exploded" in str(w.message)]
    assert exploded, [str(w.message) for w in caught]
    assert "epoch 1" in str(exploded[0].message)
    # The returned model is the recovered one, not a diverged one.
    assert model.loss_ < 1e3


def test_dropout_takes_a_csc_batch_as_its_csr_equivalent():
    X = _sparse_batch(np.random.default_rng(0), rows=50, cols=300, density=0.1)
    csr = Dropout(0.4).forward(X, ForwardContext(training=True,
                                                rng=np.random.default_rng(1)))
    csc = Dropout(0.4).forward(X.tocsc(), ForwardContext(
        training=True, rng=np.random.default_rng(1)))
    np.testing.assert_array_equal(csc.toarray(), csr.toarray())
