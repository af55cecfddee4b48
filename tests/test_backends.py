"""Choosing the array backend, and the two backends computing the same models.

``sknets.config_context`` / ``set_config`` / the ``SKNETS_BACKEND``
environment variable choose numpy or numba (``auto``: numba for large
fits). Both compute the same model to float32 round-off (the tolerance
below), except that dropout draws its masks differently on each; a model
fitted on one loads, predicts and trains on the other, and where numba is
missing a numba-fitted model falls back to numpy.
"""

import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

import sknets
from sknets import (
    AutoencoderTransformer,
    MLPClassifier,
    MLPRegressor,
    StackedPretrainedClassifier,
    _config,
)

numba = pytest.importorskip("numba")

# Predictions of the same fit on the two backends, float32 networks: 30
# epochs of round-off differences, each amplified a little by training.
AGREEMENT = dict(rtol=2e-3, atol=2e-4)
# L-BFGS feeds every step's round-off into its line search and its curvature
# pairs, so 30 iterations end further apart (seen: 9e-3 relative on 6 of
# 6000 probabilities under OpenBLAS's Haswell kernel).
LBFGS_AGREEMENT = dict(rtol=2e-2, atol=1e-3)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X[:600] / 16).astype(np.float32), y[:600]


def _fit(make, X, y, backend):
    with sknets.config_context(backend=backend), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return make().fit(X, y)


def test_config_context_sets_and_restores_the_backend(monkeypatch):
    monkeypatch.delenv("SKNETS_BACKEND", raising=False)
    assert sknets.get_config() == {"backend": "auto"}
    with sknets.config_context(backend="numba"):
        assert sknets.get_config()["backend"] == "numba"
        with sknets.config_context(backend="numpy"):
            assert sknets.get_config()["backend"] == "numpy"
        assert sknets.get_config()["backend"] == "numba"
    assert sknets.get_config()["backend"] == "auto"
    monkeypatch.setenv("SKNETS_BACKEND", "numpy")
    assert sknets.get_config()["backend"] == "numpy"
    with sknets.config_context(backend="numba"):
        assert sknets.get_config()["backend"] == "numba"  # the call wins


def test_a_bad_backend_is_named(monkeypatch):
    with pytest.raises(ValueError, match="backend must be one of .*'cupy'"):
        sknets.set_config(backend="cupy")
    monkeypatch.setenv("SKNETS_BACKEND", "fast")
    with pytest.raises(ValueError, match="SKNETS_BACKEND must be one of.*'fast'"):
        sknets.get_config()


def test_auto_picks_numba_only_for_large_fits(digits, monkeypatch):
    monkeypatch.delenv("SKNETS_BACKEND", raising=False)
    X, y = digits
    make = lambda: MLPClassifier(hidden_layer_sizes=(16,), max_iter=2,  # noqa: E731
                                 random_state=0)
    assert _fit(make, X, y, "auto")._network.ops.name == "numpy"
    monkeypatch.setattr(_config, "AUTO_MIN_WORK", 0)
    assert _fit(make, X, y, "auto")._network.ops.name == "numba"


def test_the_backend_is_not_a_parameter_and_follows_the_setting(digits,
                                                              monkeypatch):
    monkeypatch.delenv("SKNETS_BACKEND", raising=False)
    X, y = digits
    clf = _fit(lambda: MLPClassifier(hidden_layer_sizes=(16,), max_iter=2,
                                     random_state=0), X, y, "numba")
    assert "backend" not in clf.get_params()
    assert clf._network.ops.name == "numba"
    proba = clf.predict_proba(X)
    with sknets.config_context(backend="numpy"):
        np.testing.assert_allclose(clf.predict_proba(X), proba, rtol=1e-5,
                                   atol=1e-6)
        assert clf._network.ops.name == "numpy"
    # Under "auto", predictions keep the backend the model is on.
    clf.predict(X)
    assert clf._network.ops.name == "numpy"


CASES = {
    "sgd": dict(solver="sgd", momentum=0.9),
    "nesterov+alpha": dict(solver="sgd", momentum=0.9, nesterovs_momentum=True,
                           alpha=1e-3),
    "l1": dict(solver="sgd", l1_alpha=1e-4),
    "adam": dict(solver="adam"),
    "adagrad": dict(solver="adagrad", learning_rate_init=0.05),
    "batch_norm": dict(solver="sgd", batch_norm=True),
    "batch_norm exact": dict(solver="adam", batch_norm=True,
                             batch_norm_statistics="exact"),
    "tanh": dict(activation="tanh"),
    "logistic": dict(activation="logistic"),
    "max_norm": dict(max_norm=2.0),
    "sample_weight-free early stopping": dict(early_stopping=True),
    "lbfgs": dict(solver="lbfgs"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_numpy_and_numba_fit_the_same_classifier(digits, case):
    X, y = digits
    make = lambda: MLPClassifier(hidden_layer_sizes=(32, 16), max_iter=30,  # noqa: E731
                                 random_state=0, **CASES[case])
    numpy_clf = _fit(make, X, y, "numpy")
    numba_clf = _fit(make, X, y, "numba")
    assert numba_clf._network.ops.name == "numba"
    with sknets.config_context(backend="numpy"):
        p0, p1 = numpy_clf.predict_proba(X), numba_clf.predict_proba(X)
    agreement = LBFGS_AGREEMENT if case == "lbfgs" else AGREEMENT
    np.testing.assert_allclose(p1, p0, **agreement)
    np.testing.assert_allclose(numba_clf.loss_curve_, numpy_clf.loss_curve_,
                               rtol=1e-3)


def test_numpy_and_numba_fit_the_same_regressor_and_autoencoder(digits):
    X, y = digits
    target = X[:, :3] @ np.array([1.0, -2.0, 0.5], np.float32)
    for make, data in [
        (lambda: MLPRegressor(hidden_layer_sizes=(16,), max_iter=10,
                              random_state=0, batch_norm=True), (X, target)),
        (lambda: AutoencoderTransformer(hidden_layer_sizes=(8,), max_iter=10,
                                        random_state=0), (X, None)),
    ]:
        a, b = (_fit(make, *data, backend) for backend in ("numpy", "numba"))
        with sknets.config_context(backend="numpy"):
            out = [m.predict(X) if hasattr(m, "predict") else m.transform(X)
                   for m in (a, b)]
        # Batch norm on a regression and reconstruction: round-off grows
        # faster than in the classifiers; 10 epochs.
        np.testing.assert_allclose(out[1], out[0], rtol=1e-2, atol=2e-3)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_dropout_is_reproducible_on_each_backend(digits, backend):
    X, y = digits
    make = lambda: MLPClassifier(hidden_layer_sizes=(32,), max_iter=10,  # noqa: E731
                                 dropout=0.5, input_dropout=0.2, random_state=3)
    a, b = _fit(make, X, y, backend), _fit(make, X, y, backend)
    np.testing.assert_array_equal(a._network.theta, b._network.theta)
    other = _fit(lambda: make().set_params(random_state=4), X, y, backend)
    assert not np.array_equal(a._network.theta, other._network.theta)
    # Dropout is off at prediction: the same rows give the same outputs.
    np.testing.assert_array_equal(a.predict_proba(X), a.predict_proba(X))


def test_a_model_moves_between_backends(digits):
    X, y = digits
    make = lambda: MLPClassifier(hidden_layer_sizes=(16,), max_iter=5,  # noqa: E731
                                 batch_norm=True, solver="adam", random_state=0)
    clf = _fit(make, X, y, "numba")
    loaded = pickle.loads(pickle.dumps(clf))
    before = loaded._network.theta.copy()
    with sknets.config_context(backend="numpy"):
        loaded.partial_fit(X, y)  # continues on numpy
        assert loaded._network.ops.name == "numpy"
    with sknets.config_context(backend="numba"):
        loaded.partial_fit(X, y)
        assert loaded._network.ops.name == "numba"
    assert np.isfinite(loaded._network.theta).all()
    assert not np.array_equal(loaded._network.theta, before)


def test_a_numba_model_loads_and_trains_where_numba_is_missing(digits, tmp_path):
    X, y = digits
    clf = _fit(lambda: MLPClassifier(hidden_layer_sizes=(16,), max_iter=5,
                                     dropout=0.2, random_state=0), X, y, "numba")
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(clf))
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    expected = clf.predict_proba(X)
    np.save(tmp_path / "expected.npy", expected)
    code = f"""
import sys
sys.modules["numba"] = None  # as if not installed
import pickle, numpy as np
clf = pickle.loads(open({str(path)!r}, "rb").read())
X, y = np.load({str(tmp_path / "X.npy")!r}), np.load({str(tmp_path / "y.npy")!r})
np.testing.assert_allclose(clf.predict_proba(X),
                           np.load({str(tmp_path / "expected.npy")!r}),
                           rtol=1e-5, atol=1e-6)
assert clf._network.ops.name == "numpy"
clf.partial_fit(X, y)
import sknets
try:
    with sknets.config_context(backend="numba"):
        clf.partial_fit(X, y)
except ImportError as exc:
    print("ImportError:", exc)
print("ok", bool(np.isfinite(clf._network.theta).all()))
"""
    env = {k: v for k, v in __import__("os").environ.items()
           if k != "SKNETS_BACKEND"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert "pip install numba" in out.stdout
    assert "ok True" in out.stdout


def test_pretraining_runs_on_numba(digits):
    X, y = digits
    clf = _fit(lambda: StackedPretrainedClassifier(
        hidden_layer_sizes=(16,), pretrain_max_iter=2, max_iter=5,
        random_state=0), X, y, "numba")
    assert clf._network.ops.name == "numba"
    assert np.isfinite(clf.predict_proba(X)).all()


@pytest.mark.skipif(not sys.platform.startswith("linux"),
                    reason="counts threads in /proc/self/task")
def test_numba_kernels_start_no_thread():
    # Nested parallelism stays bounded: a fit on numba runs no more threads
    # than the same fit on numpy (the BLAS's), so joblib's limit on a
    # worker's BLAS threads bounds its threads on either backend.
    code = """
import os, warnings
import numpy as np
import sknets
from sknets import MLPClassifier
rng = np.random.default_rng(0)
X, y = rng.random((300, 20)), rng.integers(0, 3, 300)
counts = []
for backend in ("numpy", "numba"):
    with warnings.catch_warnings(), sknets.config_context(backend=backend):
        warnings.simplefilter("ignore")
        clf = MLPClassifier((64,), batch_norm=True, dropout=0.3, max_iter=3,
                            random_state=0).fit(X, y)
        clf.predict_proba(X)
    assert clf._network.ops.name == backend
    counts.append(len(os.listdir("/proc/self/task")))
print(*counts)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
    after_numpy, after_numba = map(int, out.stdout.split())
    assert after_numba == after_numpy
