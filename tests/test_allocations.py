"""The training hot loop allocates no batch-sized array after its first minibatch.

Every forward output, backward gradient, mask and work array lives in a
buffer that the layer reuses from minibatch to minibatch, and the optimisers
and weight decay use preallocated scratch vectors. tracemalloc sees every
numpy allocation, so the peak of traced memory over a second epoch, above
what was traced when it began, bounds what any single step allocated.
"""

import tracemalloc

import numpy as np
import pytest

from sknets._engine.network import build_autoencoder, build_mlp
from sknets._engine.ops import get_ops
from sknets._engine.optimizers import make_optimizer
from sknets._engine.trainer import Minibatches

N_SAMPLES, N_FEATURES, WIDTH, BATCH = 1024, 48, 256, 256
# One batch-sized activation array in float64 is 512 KiB; the budget is an
# eighth of it, far above the per-unit and per-row vectors (means, variances,
# row weights, row losses) a step may create.
BATCH_ARRAY_BYTES = BATCH * WIDTH * 8
BUDGET = BATCH_ARRAY_BYTES // 8
# numpy's ufunc machinery allocates a fixed-size work buffer (8192 elements
# per operand, whatever the array sizes) for a broadcasting operation such as
# adding the bias row; the probe shrinks it so that only our arrays count.
PROBE_BUFSIZE = 256
# On the numba backend tracemalloc sees the arrays numpy allocates (every
# buffer, and the per-unit vectors the kernels are handed), not the ones a
# kernel allocates inside itself through numba's runtime: those are per-unit
# float64 sums (batch normalisation's), never batch-sized.
BACKENDS = ["numpy", "numba"]


def _data(rng, n_outputs):
    X = rng.normal(size=(N_SAMPLES, N_FEATURES))
    Y = np.eye(n_outputs)[rng.integers(0, n_outputs, N_SAMPLES)]
    return X, Y


def _extra_peak(net, batches, optimizer, alpha, l1_alpha, max_norm=None):
    """Peak traced bytes above the start over one epoch after a warm-up epoch."""
    rng = np.random.default_rng(1)

    def epoch():
        # As the trainer does it: weight decay inside the optimiser's step.
        for Xb, Yb, swb in batches.iterate(rng):
            net.loss_and_grad(Xb, Yb, swb, 0.0, 0.0, rng)
            decay = net.decay(alpha, l1_alpha, net.batch_denominator(Xb, swb))
            optimizer.step(net.theta, net.grad, 0.01, decay=decay)
            if max_norm is not None:
                net.constrain_norms(max_norm)

    epoch()
    old_bufsize = np.setbufsize(PROBE_BUFSIZE)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        start, _ = tracemalloc.get_traced_memory()
        epoch()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        np.setbufsize(old_bufsize)
    return peak - start


MLP_OPTIONS = {
    "relu": {},
    "logistic": {"activation": "logistic"},
    "tanh": {"activation": "tanh"},
    "dropout": {"dropout": 0.5, "input_dropout": 0.2},
    "batch_norm": {"batch_norm": True},
    "batch_norm_dropout_tanh": {"batch_norm": True, "dropout": 0.3,
                                "activation": "tanh"},
    # Small enough that the weights are rescaled at every step.
    "max_norm": {"dropout": 0.5, "max_norm": 0.1},
}


def _backend(name):
    if name == "numba":
        pytest.importorskip("numba")
    return get_ops(name)


@pytest.mark.parametrize("option", MLP_OPTIONS)
@pytest.mark.parametrize("solver", ["sgd", "adam", "adagrad"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("backend", BACKENDS)
def test_mlp_training_step_allocates_no_batch_sized_array(option, solver, weighted,
                                                          backend):
    ops = _backend(backend)
    rng = np.random.default_rng(0)
    X, Y = _data(rng, 5)
    sw = rng.uniform(0.5, 2.0, N_SAMPLES) if weighted else None
    options = dict(MLP_OPTIONS[option])
    max_norm = options.pop("max_norm", None)
    net = build_mlp(N_FEATURES, (WIDTH, WIDTH), 5, dtype=np.float64, ops=ops,
                    **options)
    net.initialize(rng)
    optimizer = make_optimizer(solver, net.n_params, net.dtype, ops=ops)
    batches = Minibatches(X, Y, sw, batch_size=BATCH, ops=ops)
    extra = _extra_peak(net, batches, optimizer, alpha=1e-3, l1_alpha=1e-4,
                        max_norm=max_norm)
    assert extra < BUDGET, f"{extra} bytes allocated in a step (budget {BUDGET})"


@pytest.mark.parametrize("tied", [True, False])
@pytest.mark.parametrize("corruption", ["masking", "gaussian"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_autoencoder_training_step_allocates_no_batch_sized_array(tied, corruption,
                                                                  backend):
    ops = _backend(backend)
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(N_SAMPLES, N_FEATURES))
    net = build_autoencoder(N_FEATURES, (WIDTH, 32), tied_weights=tied,
                            corruption=corruption, corruption_level=0.2,
                            sparsity_weight=0.1, dtype=np.float64, ops=ops)
    net.initialize(rng)
    optimizer = make_optimizer("sgd", net.n_params, net.dtype, ops=ops)
    batches = Minibatches(X, X, batch_size=BATCH, ops=ops)
    extra = _extra_peak(net, batches, optimizer, alpha=1e-3, l1_alpha=0.0)
    assert extra < BUDGET, f"{extra} bytes allocated in a step (budget {BUDGET})"


def test_the_allocation_probe_sees_a_per_step_temporary(monkeypatch):
    # The probe itself must be able to fail: a backward pass that makes one
    # fresh batch-sized temporary per step goes over the budget.
    from sknets._engine import layers

    original = layers.Dense.backward

    def wasteful_backward(self, dZ, need_input_grad=True):
        out = original(self, dZ, need_input_grad)
        if out is not None:
            out = out.copy()
        return out

    monkeypatch.setattr(layers.Dense, "backward", wasteful_backward)
    rng = np.random.default_rng(0)
    X, Y = _data(rng, 5)
    net = build_mlp(N_FEATURES, (WIDTH, WIDTH), 5, dtype=np.float64)
    net.initialize(rng)
    optimizer = make_optimizer("sgd", net.n_params, net.dtype)
    batches = Minibatches(X, Y, batch_size=BATCH)
    assert _extra_peak(net, batches, optimizer, 1e-3, 0.0) > BUDGET


# -- memory of a whole fit ------------------------------------------------


def _fit_peak(estimator, *args):
    """Peak traced bytes of ``estimator.fit(*args)`` above what existed before."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        start, _ = tracemalloc.get_traced_memory()
        estimator.fit(*args)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - start


def _large_data():
    rng = np.random.default_rng(0)
    X = rng.random((50000, 200), dtype=np.float32)
    return X, rng.integers(0, 10, X.shape[0])


def _estimators():
    from sknets import AutoencoderTransformer, MLPClassifier

    # Half the rows are held out: a copy of the validation rows alone would
    # be half of X, above the budgets below.
    common = dict(max_iter=1, early_stopping=True, validation_fraction=0.5,
                  random_state=0)
    return {
        "classifier": (MLPClassifier((32,), **common), True),
        "autoencoder": (AutoencoderTransformer((32,), **common), False),
    }


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("name", ["classifier", "autoencoder"])
def test_fit_on_float32_X_copies_neither_X_nor_the_validation_rows(name):
    X, y = _large_data()
    estimator, supervised = _estimators()[name]
    peak = _fit_peak(estimator, *((X, y) if supervised else (X,)))
    # What remains is bounded by the prediction chunk (1024 rows), the
    # one-hot targets and index arrays: well under half of X here.
    assert peak < 0.45 * X.nbytes, f"fit used {peak / X.nbytes:.2f} x X's size"


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_fit_on_float64_X_converts_it_once_at_most():
    X, y = _large_data()
    X64 = X.astype(np.float64)
    estimator, _ = _estimators()["classifier"]
    peak = _fit_peak(estimator, X64, y)
    # One float32 copy is half of X64; a second conversion would add another.
    assert peak < 0.5 * X64.nbytes + 0.45 * X.nbytes
    assert estimator.coefs_[0].dtype == np.float32
