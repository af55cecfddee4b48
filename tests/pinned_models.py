"""Fingerprints of fitted models, to pin a refactor's results to the bit.

Each entry of :data:`MODELS` fits one small model (each solver, dropout,
batch normalisation, an autoencoder, pre-training, ``partial_fit``, float64,
sparse input) and :func:`fingerprint` returns the SHA-256 of the bytes of
every array it learned and of its outputs on held-out rows. The fingerprints
of a reference commit are stored in ``tests/pins/`` per *configuration*: the
OpenBLAS kernel, its thread count and numpy's version, since results differ
in the last bits from one BLAS kernel to another. ``tests/test_pinned_models.py``
compares the current code with them and skips where no pin matches the
machine.

Only public API is used here, so that the module runs against an older
checkout: ``python3 dev.py pins [COMMIT]`` records the pins of ``COMMIT``
(default: HEAD) for this machine's configurations, by running this file with
``sknets`` imported from a ``git worktree`` of that commit.

Run as a script: ``python tests/pinned_models.py OUT.json`` writes the
fingerprints of every model under the current configuration into ``OUT.json``
(a dict keyed by configuration, merged with what the file holds).
"""

import hashlib
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp

PINS = Path(__file__).resolve().parent / "pins"


def configuration():
    """``"kernel/threads/numpy X.Y"`` for the BLAS and numpy in use."""
    from threadpoolctl import threadpool_info

    blas = next((info for info in threadpool_info()
                 if info.get("user_api") == "blas"), {})
    kernel = blas.get("architecture") or blas.get("internal_api") or "unknown"
    threads = blas.get("num_threads", "?")
    numpy_version = ".".join(np.__version__.split(".")[:2])
    return f"{kernel}/{threads}/numpy {numpy_version}"


def _data():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    return X[:500], y[:500], X[500:700], y[500:700]


def _classifier(**params):
    from sknets import MLPClassifier

    base = dict(hidden_layer_sizes=(24,), max_iter=6, batch_size=32,
                random_state=0)
    return MLPClassifier(**{**base, **params})


def _fit_classifier(params, dtype=None, sparse=False):
    X, y, X_test, _ = _data()
    if dtype is not None:
        X, X_test = X.astype(dtype), X_test.astype(dtype)
    if sparse:
        X, X_test = sp.csr_matrix(X), sp.csr_matrix(X_test)
    model = _classifier(**params).fit(X, y)
    return model, [model.predict_proba(X_test)]


def _sgd():
    return _fit_classifier(dict(solver="sgd", learning_rate_init=0.1))


def _adam():
    return _fit_classifier(dict(solver="adam", learning_rate_init=0.01,
                                alpha=1e-3, l1_alpha=1e-4))


def _adagrad():
    return _fit_classifier(dict(solver="adagrad", learning_rate_init=0.05,
                                learning_rate="halving", n_iter_no_change=1))


def _lbfgs():
    return _fit_classifier(dict(solver="lbfgs", max_iter=30, alpha=1e-2))


def _dropout():
    return _fit_classifier(dict(solver="sgd", learning_rate_init=0.1,
                                dropout=0.5, input_dropout=0.2, max_norm=2.0))


def _batch_norm_running():
    return _fit_classifier(dict(solver="sgd", learning_rate_init=0.1,
                                batch_norm=True, hidden_layer_sizes=(24, 16)))


def _batch_norm_exact_early_stopping():
    return _fit_classifier(dict(solver="adam", batch_norm=True,
                                batch_norm_statistics="exact",
                                early_stopping=True, max_iter=8,
                                n_iter_no_change=2))


def _lbfgs_batch_norm():
    return _fit_classifier(dict(solver="lbfgs", batch_norm=True, max_iter=20))


def _float64_tanh():
    return _fit_classifier(dict(solver="sgd", activation="tanh",
                                dtype="float64", learning_rate_init=0.05),
                           dtype=np.float64)


def _sparse():
    return _fit_classifier(dict(solver="adam", dropout=0.2), sparse=True)


def _partial_fit():
    X, y, X_test, _ = _data()
    model = _classifier(solver="sgd", learning_rate_init=0.1, dropout=0.2)
    for chunk in np.array_split(np.arange(len(X)), 4):
        model.partial_fit(X[chunk], y[chunk], classes=np.arange(10))
    return model, [model.predict_proba(X_test)]


def _regressor():
    from sknets import MLPRegressor

    X, y, X_test, _ = _data()
    target = X[:, :3] * 2.0 - 1.0
    model = MLPRegressor(hidden_layer_sizes=(16,), solver="adam", max_iter=8,
                         early_stopping=True, random_state=0,
                         batch_size=50).fit(X, target)
    return model, [model.predict(X_test)]


def _autoencoder_tied():
    from sknets import AutoencoderTransformer

    X, _, X_test, _ = _data()
    model = AutoencoderTransformer(hidden_layer_sizes=(20,), max_iter=5,
                                   corruption_level=0.3, sparsity_weight=0.1,
                                   solver="sgd", learning_rate_init=0.1,
                                   batch_size=32, random_state=0).fit(X)
    codes = model.transform(X_test)
    return model, [codes, model.inverse_transform(codes)]


def _autoencoder_untied():
    from sknets import AutoencoderTransformer

    X, _, X_test, _ = _data()
    model = AutoencoderTransformer(hidden_layer_sizes=(24, 12), max_iter=5,
                                   tied_weights=False, corruption="gaussian",
                                   corruption_level=0.1, activation="tanh",
                                   loss="squared_error", solver="adam",
                                   batch_size=32, early_stopping=True,
                                   random_state=0).fit(X)
    codes = model.transform(X_test)
    return model, [codes, model.inverse_transform(codes)]


def _pretrained():
    from sknets import StackedPretrainedClassifier

    X, y, X_test, _ = _data()
    model = StackedPretrainedClassifier(
        hidden_layer_sizes=(24, 12), max_iter=5, pretrain_max_iter=3,
        pretrain_corruption_level=0.2, batch_size=32, solver="sgd",
        learning_rate_init=0.1, random_state=0).fit(X, y)
    return model, [model.predict_proba(X_test)]


MODELS = {
    "sgd": _sgd,
    "adam": _adam,
    "adagrad-halving": _adagrad,
    "lbfgs": _lbfgs,
    "dropout-max-norm": _dropout,
    "batch-norm-running": _batch_norm_running,
    "batch-norm-exact-early-stopping": _batch_norm_exact_early_stopping,
    "lbfgs-batch-norm": _lbfgs_batch_norm,
    "float64-tanh": _float64_tanh,
    "sparse": _sparse,
    "partial-fit": _partial_fit,
    "regressor-early-stopping": _regressor,
    "autoencoder-tied": _autoencoder_tied,
    "autoencoder-untied": _autoencoder_untied,
    "pretrained": _pretrained,
}


def _learned_arrays(model):
    arrays = [*model.coefs_, *model.intercepts_]
    curves = [getattr(model, "loss_curve_", None),
              getattr(model, "validation_scores_", None)]
    arrays += [np.asarray(c, dtype=np.float64) for c in curves if c is not None]
    return arrays


def fingerprint(name):
    """SHA-256 of the learned arrays, the loss curve and the outputs of a model."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model, outputs = MODELS[name]()
    digest = hashlib.sha256()
    for array in [*_learned_arrays(model), *outputs]:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def record(path, commit):
    path = Path(path)
    pins = json.loads(path.read_text()) if path.exists() else {}
    pins[configuration()] = {
        "commit": commit,
        "models": {name: fingerprint(name) for name in MODELS},
    }
    path.write_text(json.dumps(pins, indent=1, sort_keys=True) + "\n")
    return configuration()


if __name__ == "__main__":
    import sknets

    config = record(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "unknown")
    print(f"{config}: pinned the models of {Path(sknets.__file__).parent}")
