"""Behaviour tests of sknets.MLPClassifier: what a user of the estimator relies on.

Every test uses small networks on (subsets of) the digits data so that the
whole module runs in well under a minute on two cores.
"""

import copy
import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import sknets._base
from sknets import MLPClassifier
from sknets.exceptions import DivergenceError

# --------------------------------------------------------------------------
# data and helpers
# --------------------------------------------------------------------------

_DIGITS = load_digits()
X_DIGITS = _DIGITS.data / 16.0  # in [0, 1]
Y_DIGITS = _DIGITS.target


@pytest.fixture(scope="module", autouse=True)
def single_threaded_blas():
    """One BLAS thread: these matrices are tiny, and spinning BLAS threads make
    the run times erratic (tens of seconds) when other processes share the CPUs."""
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def digits_split():
    """Stratified train/test split of the digits, standardised on the train part."""
    X_tr, X_te, y_tr, y_te = train_test_split(
        _DIGITS.data, Y_DIGITS, stratify=Y_DIGITS, random_state=0
    )
    scaler = StandardScaler().fit(X_tr)
    return scaler.transform(X_tr), scaler.transform(X_te), y_tr, y_te


@pytest.fixture(scope="module")
def small_digits():
    """600 rows of the digits (all ten classes), scaled to [0, 1]."""
    rng = np.random.default_rng(0)
    idx = rng.choice(len(X_DIGITS), 600, replace=False)
    return X_DIGITS[idx], Y_DIGITS[idx]


def small(**params):
    """A small, quick, seeded classifier; ``params`` override the defaults."""
    defaults = dict(hidden_layer_sizes=(16,), max_iter=30, random_state=0,
                    learning_rate_init=0.01)
    defaults.update(params)
    return MLPClassifier(**defaults)


def fit_quietly(clf, *args, **kwargs):
    """Fit while ignoring ConvergenceWarning (max_iter is kept small on purpose)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return clf.fit(*args, **kwargs)


def relu(z):
    return np.maximum(z, 0.0)


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def hand_forward(clf, X):
    """predict_proba of a relu/softmax network without batch norm, in float64."""
    h = np.asarray(X, dtype=np.float64)
    coefs = [np.asarray(w, dtype=np.float64) for w in clf.coefs_]
    intercepts = [np.asarray(b, dtype=np.float64) for b in clf.intercepts_]
    for W, b in zip(coefs[:-1], intercepts[:-1], strict=True):
        h = relu(h @ W + b)
    return softmax(h @ coefs[-1] + intercepts[-1])


def batch_norm_layers(clf):
    return [layer for layer in clf._network.layers if "running_mean" in layer.state]


def hand_forward_batch_norm(clf, X):
    """predict_proba of a relu/softmax network with one BatchNorm per hidden layer."""
    bns = batch_norm_layers(clf)
    h = np.asarray(X, dtype=np.float64)
    layers = zip(clf.coefs_[:-1], clf.intercepts_[:-1], bns, strict=True)
    for W, b, bn in layers:
        z = h @ W.astype(np.float64) + b
        mean = bn.state["running_mean"].astype(np.float64)
        var = bn.state["running_var"].astype(np.float64)
        z = (z - mean) / np.sqrt(var + bn.eps)
        z = z * bn.params["gamma"] + bn.params["beta"]
        h = relu(z)
    return softmax(h @ clf.coefs_[-1].astype(np.float64) + clf.intercepts_[-1])


def fitted_state(clf):
    """Everything a failed fit must not touch, as comparable copies."""
    return {
        "theta": clf._network.theta.copy(),
        "coefs": [w.copy() for w in clf.coefs_],
        "intercepts": [b.copy() for b in clf.intercepts_],
        "n_iter_": clf.n_iter_,
        "loss_curve_": list(clf.loss_curve_),
        "n_features_in_": clf.n_features_in_,
        "classes_": np.array(clf.classes_).copy(),
        "network": clf._network,
        "train_state": clf.__dict__.get("_train_state"),
        "attrs": sorted(clf.__dict__),
    }


def assert_same_fitted_state(clf, before, X_probe):
    after = fitted_state(clf)
    assert after["network"] is before["network"]
    assert after["train_state"] is before["train_state"]
    assert after["attrs"] == before["attrs"]
    assert_array_equal(after["theta"], before["theta"])
    for a, b in zip(after["coefs"], before["coefs"], strict=True):
        assert_array_equal(a, b)
    for a, b in zip(after["intercepts"], before["intercepts"], strict=True):
        assert_array_equal(a, b)
    assert after["n_iter_"] == before["n_iter_"]
    assert after["loss_curve_"] == before["loss_curve_"]
    assert after["n_features_in_"] == before["n_features_in_"]
    assert_array_equal(after["classes_"], before["classes_"])
    assert_array_equal(clf.predict_proba(X_probe), before["proba"])


# --------------------------------------------------------------------------
# 1. dropout is only a training-time operation
# --------------------------------------------------------------------------


@pytest.mark.parametrize("n_hidden", [(32,), (32, 16)])
@pytest.mark.parametrize("input_dropout", [0.0, 0.2])
def test_dropout_model_predicts_deterministically_with_the_plain_forward_pass(
    small_digits, n_hidden, input_dropout
):
    X, y = small_digits
    clf = fit_quietly(
        small(hidden_layer_sizes=n_hidden, dropout=0.5, input_dropout=input_dropout),
        X, y,
    )
    proba = clf.predict_proba(X)
    # No randomness at predict time: repeated calls agree exactly.
    for _ in range(3):
        assert_array_equal(clf.predict_proba(X), proba)
        assert_array_equal(clf.predict(X), clf.predict(X))
    # Inverted dropout: inference is the plain network, with no rescaling.
    assert_allclose(proba, hand_forward(clf, X), rtol=1e-4, atol=1e-6)
    assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])


@pytest.mark.numerics
def test_dropout_changes_training_but_not_the_meaning_of_the_weights(small_digits):
    # With the same seed, dropout gives different weights than no dropout (so it
    # is really applied during training)...
    X, y = small_digits
    plain = fit_quietly(small(max_iter=5), X, y)
    dropped = fit_quietly(small(max_iter=5, dropout=0.5), X, y)
    assert not np.allclose(plain.coefs_[0], dropped.coefs_[0])
    # ...and the dropout network still learns.
    assert fit_quietly(small(dropout=0.3), X, y).score(X, y) > 0.9


# --------------------------------------------------------------------------
# 2. batch normalisation uses population statistics at predict time
# --------------------------------------------------------------------------


@pytest.mark.parametrize("statistics", ["running", "exact"])
def test_batch_norm_prediction_of_one_row_equals_its_prediction_in_a_batch(
    small_digits, statistics
):
    X, y = small_digits
    clf = fit_quietly(
        small(hidden_layer_sizes=(32, 16), solver="sgd", learning_rate_init=0.1,
              batch_norm=True, batch_norm_statistics=statistics),
        X, y,
    )
    batch = clf.predict_proba(X)
    for i in [0, 7, 123]:
        single = clf.predict_proba(X[i : i + 1])
        assert_allclose(single[0], batch[i], rtol=1e-5, atol=1e-6)
    # A 2-row batch normalised with its own statistics would map the rows to
    # +-1 in every unit; population statistics keep them apart as in the batch.
    assert_allclose(clf.predict_proba(X[:2]), batch[:2], rtol=1e-5, atol=1e-6)
    # The output is the network with the stored population statistics.
    assert_allclose(batch, hand_forward_batch_norm(clf, X), rtol=1e-4, atol=1e-6)


def test_batch_norm_running_statistics_are_not_the_initial_ones(small_digits):
    X, y = small_digits
    clf = fit_quietly(
        small(solver="sgd", learning_rate_init=0.1, batch_norm=True), X, y
    )
    (bn,) = batch_norm_layers(clf)
    assert not np.allclose(bn.state["running_mean"], 0.0)
    assert not np.allclose(bn.state["running_var"], 1.0)
    assert np.all(bn.state["running_var"] >= 0)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_exact_batch_norm_statistics_are_the_mean_and_variance_of_the_data(
    small_digits, solver
):
    X, y = small_digits
    params = dict(hidden_layer_sizes=(24, 12), solver=solver, batch_norm=True,
                  learning_rate_init=0.05, max_iter=10)
    exact = fit_quietly(small(batch_norm_statistics="exact", **params), X, y)
    running = fit_quietly(small(batch_norm_statistics="running", **params), X, y)

    # Layer by layer, each BatchNorm input computed with the earlier layers in
    # inference mode (using their exact statistics).
    h = X.astype(np.float64)
    for W, b, bn in zip(exact.coefs_[:-1], exact.intercepts_[:-1],
                        batch_norm_layers(exact), strict=True):
        z = h @ W.astype(np.float64) + b
        assert_allclose(bn.state["running_mean"], z.mean(axis=0), rtol=1e-4, atol=1e-5)
        # The population variance (ddof=0), as documented in
        # Network.set_population_statistics.
        assert_allclose(bn.state["running_var"], z.var(axis=0), rtol=1e-4, atol=1e-5)
        z = (z - bn.state["running_mean"]) / np.sqrt(bn.state["running_var"] + bn.eps)
        h = relu(z * bn.params["gamma"] + bn.params["beta"])

    # Same seed, so training is identical; only the final statistics differ.
    for a, b in zip(exact.coefs_, running.coefs_, strict=True):
        assert_array_equal(a, b)
    for bn_exact, bn_running in zip(batch_norm_layers(exact),
                                    batch_norm_layers(running), strict=True):
        assert not np.allclose(bn_exact.state["running_mean"],
                               bn_running.state["running_mean"], rtol=1e-3)
        assert not np.allclose(bn_exact.state["running_var"],
                               bn_running.state["running_var"], rtol=1e-3)


def test_exact_batch_norm_statistics_use_only_the_training_rows(small_digits):
    # With early stopping the held-out rows are not part of the training data.
    X, y = small_digits
    split = {}
    real_split = sknets._base.train_test_split

    def spy(*args, **kwargs):
        split["train"], split["val"] = real_split(*args, **kwargs)
        return split["train"], split["val"]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sknets._base, "train_test_split", spy)
        clf = fit_quietly(
            small(batch_norm=True, batch_norm_statistics="exact", solver="sgd",
                  learning_rate_init=0.1, early_stopping=True,
                  validation_fraction=0.3, max_iter=10),
            X, y,
        )
    X_train = X[np.sort(split["train"])]
    z = X_train @ clf.coefs_[0].astype(np.float64) + clf.intercepts_[0]
    (bn,) = batch_norm_layers(clf)
    assert_allclose(bn.state["running_mean"], z.mean(axis=0), rtol=1e-4, atol=1e-5)
    assert_allclose(bn.state["running_var"], z.var(axis=0), rtol=1e-4, atol=1e-5)


def test_exact_batch_norm_statistics_are_weighted_by_sample_weight(small_digits):
    X, y = small_digits
    w = np.random.default_rng(0).integers(0, 4, size=len(y)).astype(float)
    clf = fit_quietly(
        small(batch_norm=True, batch_norm_statistics="exact", solver="sgd",
              learning_rate_init=0.1, max_iter=5),
        X, y, sample_weight=w,
    )
    z = X @ clf.coefs_[0].astype(np.float64) + clf.intercepts_[0]
    mean = np.average(z, axis=0, weights=w)
    var = np.average((z - mean) ** 2, axis=0, weights=w)
    (bn,) = batch_norm_layers(clf)
    assert_allclose(bn.state["running_mean"], mean, rtol=1e-4, atol=1e-5)
    assert_allclose(bn.state["running_var"], var, rtol=1e-4, atol=1e-5)
    # The weighted statistics are not the unweighted ones.
    assert not np.allclose(bn.state["running_mean"], z.mean(axis=0), rtol=1e-3)


# --------------------------------------------------------------------------
# 3. the 'halving' schedule
# --------------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["sgd", "adagrad", "adam"])
def test_halving_divides_the_rate_by_two_on_each_plateau_and_stops_below_the_floor(
    small_digits, solver
):
    # tol is so large that no epoch counts as an improvement after the first:
    # with patience 2 a plateau is declared after every 3 non-improving epochs.
    X, y = small_digits
    clf = MLPClassifier(
        hidden_layer_sizes=(8,), solver=solver, learning_rate="halving",
        learning_rate_init=0.1, min_learning_rate=0.01, n_iter_no_change=2,
        tol=100.0, max_iter=200, random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf.fit(X, y)
    rates = [h["learning_rate"] for h in clf.history_]
    # epoch 1 improves on +inf; epochs 2-4 do not -> halve; then 3 per rate.
    expected = [0.1] * 4 + [0.05] * 3 + [0.025] * 3 + [0.0125] * 3
    assert_allclose(rates, expected, rtol=1e-12)
    # The next rate, 0.00625, is below min_learning_rate: training stopped.
    assert clf.n_iter_ == len(expected) < clf.max_iter
    assert [h["epoch"] for h in clf.history_] == list(range(1, clf.n_iter_ + 1))


@pytest.mark.numerics
def test_halving_only_lowers_the_rate_after_n_iter_no_change_epochs_without_progress(
    small_digits,
):
    X, y = small_digits
    patience, tol, lr0 = 2, 1e-3, 0.2
    clf = MLPClassifier(
        hidden_layer_sizes=(16,), solver="sgd", learning_rate="halving",
        learning_rate_init=lr0, min_learning_rate=1e-3, n_iter_no_change=patience,
        tol=tol, max_iter=300, random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf.fit(X, y)
    rates = np.array([h["learning_rate"] for h in clf.history_])
    losses = np.array([h["train_loss"] for h in clf.history_])
    # Only powers of two of the initial rate, never increasing, one halving at a time.
    k = np.log2(lr0 / rates)
    assert_allclose(k, np.round(k), atol=1e-9)
    assert np.all(np.diff(np.round(k)) >= 0) and np.all(np.diff(np.round(k)) <= 1)
    assert np.round(k[-1]) >= 2, "expected several halvings"
    # Stopped because the next halving would fall below the floor.
    assert rates[-1] >= 1e-3 > rates[-1] / 2
    # Replaying scikit-learn's plateau rule on the recorded losses (an epoch
    # does not count as progress unless it beats the best loss so far by tol;
    # more than `patience` such epochs in a row is a plateau) gives exactly
    # the recorded rates, and the stop after the last epoch.
    expected, lr, best, n_bad, stopped = [], lr0, np.inf, 0, False
    for loss in losses:
        assert not stopped, "trained on after the rate fell below the floor"
        expected.append(lr)
        n_bad = n_bad + 1 if loss > best - tol else 0
        best = min(best, loss)
        if n_bad > patience:
            lr, n_bad = lr / 2, 0
            stopped = lr < 1e-3
    assert stopped
    assert_allclose(rates, expected, rtol=1e-12)


# --------------------------------------------------------------------------
# 4. early stopping restores the best epoch
# --------------------------------------------------------------------------


def _bouncy(**params):
    # A large SGD rate: validation accuracy peaks and then falls back.
    return MLPClassifier(hidden_layer_sizes=(32,), solver="sgd",
                         learning_rate_init=0.3, n_iter_no_change=5, max_iter=100,
                         random_state=0, **params)


@pytest.mark.numerics
@pytest.mark.parametrize("early_stopping", [False, True])
def test_given_validation_set_drives_stopping_and_best_epoch_is_restored(
    early_stopping,
):
    X_tr, X_val, y_tr, y_val = train_test_split(
        X_DIGITS, Y_DIGITS, stratify=Y_DIGITS, random_state=0, test_size=0.3
    )
    clf = _bouncy(early_stopping=early_stopping)
    clf.fit(X_tr, y_tr, X_val=X_val, y_val=y_val)
    scores = clf.validation_scores_
    assert len(scores) == clf.n_iter_ < clf.max_iter
    assert clf.best_validation_score_ == max(scores)
    # The constructed case: the last epoch is worse than the best one...
    assert scores[-1] < clf.best_validation_score_
    # ...yet the final model is the best epoch's.
    assert clf.score(X_val, y_val) == pytest.approx(clf.best_validation_score_,
                                                    abs=1e-12)
    # History agrees with the sklearn-named attributes.
    assert [h["val_score"] for h in clf.history_] == scores
    assert [h["train_loss"] for h in clf.history_] == clf.loss_curve_
    assert clf.best_loss_ is None
    # Stopped n_iter_no_change + 1 epochs after the best one.
    assert clf.n_iter_ - (int(np.argmax(scores)) + 1) == clf.n_iter_no_change + 1


@pytest.mark.numerics
def test_internal_early_stopping_split_restores_the_best_epoch(monkeypatch):
    split = {}
    real_split = sknets._base.train_test_split

    def spy(*args, **kwargs):
        split["train"], split["val"] = real_split(*args, **kwargs)
        return split["train"], split["val"]

    monkeypatch.setattr(sknets._base, "train_test_split", spy)
    clf = _bouncy(early_stopping=True, validation_fraction=0.3).fit(X_DIGITS, Y_DIGITS)
    val = split["val"]
    assert len(val) == int(np.ceil(0.3 * len(X_DIGITS)))
    assert len(np.intersect1d(split["train"], val)) == 0
    scores = clf.validation_scores_
    assert clf.best_validation_score_ == max(scores)
    assert scores[-1] < clf.best_validation_score_
    assert clf.score(X_DIGITS[val], Y_DIGITS[val]) == pytest.approx(
        clf.best_validation_score_, abs=1e-12
    )


@pytest.mark.parametrize("statistics", ["running", "exact"])
def test_best_validation_score_is_the_returned_batch_norm_models_score(statistics):
    # The model returned must be the one whose validation accuracy is
    # reported, whichever population statistics batch norm uses at predict.
    X_tr, X_val, y_tr, y_val = train_test_split(
        X_DIGITS, Y_DIGITS, stratify=Y_DIGITS, random_state=0, test_size=0.3
    )
    clf = _bouncy(batch_norm=True, batch_norm_statistics=statistics)
    clf.fit(X_tr, y_tr, X_val=X_val, y_val=y_val)
    if statistics == "running":
        assert clf.best_validation_score_ == max(clf.validation_scores_)
    # With exact statistics the epochs are scored with the running ones, so
    # the best epoch is chosen by them, but the reported score is the
    # returned model's.
    assert clf.score(X_val, y_val) == pytest.approx(clf.best_validation_score_,
                                                    abs=1e-12)


@pytest.mark.parametrize("target", ["binary", "multilabel"])
def test_validation_score_of_binary_and_multilabel_targets_is_the_models_score(
    target,
):
    y = Y_DIGITS >= 5 if target == "binary" else np.column_stack(
        [Y_DIGITS % 2 == 0, Y_DIGITS >= 5, Y_DIGITS % 3 == 0]
    ).astype(int)
    clf = MLPClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.01,
                        max_iter=40, n_iter_no_change=3, random_state=0)
    fit_quietly(clf, X_DIGITS[:1000], y[:1000], X_val=X_DIGITS[1000:],
                y_val=y[1000:])
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.score(X_DIGITS[1000:], y[1000:]) == pytest.approx(
        clf.best_validation_score_, abs=1e-12
    )


def test_without_validation_the_final_epoch_is_kept(small_digits):
    X, y = small_digits
    clf = fit_quietly(small(max_iter=10), X, y)
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None
    assert clf.best_loss_ == min(clf.loss_curve_)
    assert clf.loss_ == clf.loss_curve_[-1]
    assert all("val_score" not in h for h in clf.history_)


# --------------------------------------------------------------------------
# 5. reproducibility
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        dict(solver="sgd"),
        dict(solver="adam"),
        dict(solver="adagrad"),
        dict(solver="lbfgs"),
        dict(solver="adam", dropout=0.5),
        dict(solver="sgd", input_dropout=0.2, dropout=0.3, batch_norm=True),
        dict(solver="adam", early_stopping=True),
    ],
    ids=["sgd", "adam", "adagrad", "lbfgs", "dropout", "bn-dropout", "early-stop"],
)
def test_same_random_state_gives_identical_models(small_digits, params):
    X, y = small_digits
    a = fit_quietly(small(max_iter=8, **params), X, y)
    b = fit_quietly(small(max_iter=8, **params), X, y)
    assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    pairs = zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True)
    for wa, wb in pairs:
        assert_array_equal(wa, wb)
    assert a.loss_curve_ == b.loss_curve_


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_different_random_states_give_different_weights(small_digits, solver):
    X, y = small_digits
    a = fit_quietly(small(max_iter=5, solver=solver, random_state=0), X, y)
    b = fit_quietly(small(max_iter=5, solver=solver, random_state=1), X, y)
    assert not np.allclose(a.coefs_[0], b.coefs_[0])


@pytest.mark.numerics
def test_random_state_instance_and_none_work(small_digits):
    X, y = small_digits
    a = fit_quietly(small(random_state=None), X, y)
    b = fit_quietly(small(random_state=None), X, y)
    assert not np.allclose(a.coefs_[0], b.coefs_[0])
    assert a.score(X, y) > 0.8 and b.score(X, y) > 0.8
    # A RandomState instance in the same state gives the same model as its seed.
    c = fit_quietly(small(random_state=np.random.RandomState(3)), X, y)
    d = fit_quietly(small(random_state=3), X, y)
    assert_array_equal(c.predict_proba(X), d.predict_proba(X))


# --------------------------------------------------------------------------
# 6. pickling and copying
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [dict(), dict(batch_norm=True, dropout=0.2, solver="sgd"), dict(solver="lbfgs")],
    ids=["adam", "bn-dropout-sgd", "lbfgs"],
)
@pytest.mark.parametrize(
    "duplicate",
    [lambda c: pickle.loads(pickle.dumps(c)), copy.deepcopy],
    ids=["pickle", "deepcopy"],
)
def test_pickle_and_deepcopy_round_trip_and_keep_coefs_as_live_views(
    small_digits, params, duplicate
):
    X, y = small_digits
    clf = fit_quietly(small(max_iter=10, **params), X, y)
    proba = clf.predict_proba(X)
    clf2 = duplicate(clf)
    assert_array_equal(clf2.predict_proba(X), proba)
    assert_array_equal(clf2.predict(X), clf.predict(X))
    assert clf2.get_params() == clf.get_params()

    # coefs_ / intercepts_ are still views into the (new) flat buffer...
    theta = clf2._network.theta
    for arr in clf2.coefs_ + clf2.intercepts_:
        assert np.shares_memory(arr, theta)
        assert not np.shares_memory(arr, clf._network.theta)
    # ...so writing into them changes the copy's predictions, not the original's.
    clf2.coefs_[0][...] = 0.0
    changed = clf2.predict_proba(X)
    assert not np.allclose(changed, proba)
    # With zero first-layer weights every row gets the same output.
    assert_allclose(changed, np.broadcast_to(changed[0], changed.shape), atol=1e-6)
    assert_array_equal(clf.predict_proba(X), proba)
    clf2.intercepts_[-1][...] += 100.0 * (np.arange(len(clf2.intercepts_[-1])) == 3)
    assert np.all(clf2.predict(X) == clf2.classes_[3])


def test_unpickled_model_can_continue_training_with_warm_start(small_digits):
    X, y = small_digits
    clf = fit_quietly(small(max_iter=5, warm_start=True, solver="sgd"), X, y)
    clf2 = pickle.loads(pickle.dumps(clf))
    fit_quietly(clf, X, y)
    fit_quietly(clf2, X, y)
    assert clf2.n_iter_ == 5 and len(clf2.loss_curve_) == 10
    # The optimiser state (momentum) survived pickling: both continue identically.
    assert_array_equal(clf2.predict_proba(X), clf.predict_proba(X))
    assert clf2.loss_curve_ == clf.loss_curve_


def test_pickling_an_unfitted_model_and_clone(small_digits):
    X, y = small_digits
    clf = small(dropout=0.25, batch_norm=True, dtype="float64")
    clf2 = pickle.loads(pickle.dumps(clf))
    assert clf2.get_params() == clf.get_params()
    with pytest.raises(NotFittedError):
        clf2.predict(X)

    fitted = fit_quietly(clf, X, y)
    cloned = clone(fitted)
    assert cloned.get_params() == fitted.get_params()
    assert not hasattr(cloned, "coefs_") and not hasattr(cloned, "n_iter_")
    with pytest.raises(NotFittedError):
        cloned.predict_proba(X)
    # A clone fitted the same way is the same model.
    fit_quietly(cloned, X, y)
    assert_array_equal(cloned.predict_proba(X), fitted.predict_proba(X))


# --------------------------------------------------------------------------
# 7. model selection
# --------------------------------------------------------------------------


@pytest.mark.numerics
def test_grid_search_over_a_pipeline_picks_the_best_mean_score():
    X, y = _DIGITS.data[:600], Y_DIGITS[:600]
    pipe = make_pipeline(
        StandardScaler(),
        MLPClassifier(max_iter=40, random_state=0),
    )
    grid = {
        "mlpclassifier__hidden_layer_sizes": [(8,), (32,)],
        "mlpclassifier__learning_rate_init": [1e-3, 1e-2],
        "mlpclassifier__dropout": [0.0, 0.5],
    }
    search = GridSearchCV(pipe, grid, cv=3, n_jobs=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    means = search.cv_results_["mean_test_score"]
    assert len(means) == 8
    assert np.all(np.isfinite(means))
    assert search.best_params_ == search.cv_results_["params"][int(np.argmax(means))]
    assert search.best_score_ == means.max()
    # The grid matters: scores differ, and the best is clearly learned.
    assert means.max() - means.min() > 0.05
    assert search.best_score_ > 0.8
    assert search.score(X, y) > 0.9


# --------------------------------------------------------------------------
# 8. it learns
# --------------------------------------------------------------------------


@pytest.mark.numerics
def test_test_accuracy_on_digits_matches_scikit_learn(digits_split):
    X_tr, X_te, y_tr, y_te = digits_split
    ours, theirs = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for seed in range(3):
            ours.append(MLPClassifier(hidden_layer_sizes=(100,), random_state=seed)
                        .fit(X_tr, y_tr).score(X_te, y_te))
            theirs.append(SklearnMLPClassifier(hidden_layer_sizes=(100,),
                                               random_state=seed)
                          .fit(X_tr, y_tr).score(X_te, y_te))
    # Measured over 4 BLAS kernels and 10 seed offsets: ours - theirs from
    # -0.004 to +0.004 (3-seed means, 540 test digits).
    assert np.mean(ours) >= np.mean(theirs) - 0.015, (ours, theirs)


@pytest.mark.numerics
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_unregularised_network_fits_500_examples_perfectly(solver):
    rng = np.random.default_rng(0)
    idx = rng.choice(len(X_DIGITS), 500, replace=False)
    X = StandardScaler().fit_transform(_DIGITS.data[idx])
    y = Y_DIGITS[idx]
    clf = MLPClassifier(hidden_layer_sizes=(64,), alpha=0.0, solver=solver,
                        learning_rate_init=0.01, max_iter=500, random_state=0)
    clf.fit(X, y)
    assert clf.score(X, y) == 1.0
    assert clf.loss_ < 0.01


@pytest.mark.numerics
@pytest.mark.parametrize("solver", ["sgd", "adagrad"])
def test_other_solvers_learn_digits(digits_split, solver):
    X_tr, X_te, y_tr, y_te = digits_split
    clf = fit_quietly(
        MLPClassifier(hidden_layer_sizes=(32,), solver=solver, learning_rate_init=0.05,
                      max_iter=40, random_state=0),
        X_tr, y_tr,
    )
    # Measured 0.956-0.976 over 4 BLAS kernels and 10 seeds; chance is 0.1.
    assert clf.score(X_te, y_te) > 0.9
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]


# --------------------------------------------------------------------------
# 9. targets and inputs
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "encode",
    [
        lambda y: np.array([f"digit_{k}" for k in range(10)])[y],
        lambda y: np.array([f"digit_{k}" for k in range(10)], dtype=object)[y],
        lambda y: 10 * y + 3,
        lambda y: (y - 5).astype(np.int8),
        lambda y: y.astype(float),
    ],
    ids=["str", "object", "int-shifted", "int8-negative", "float"],
)
def test_label_types_give_the_same_model_as_integer_labels(small_digits, encode):
    X, y = small_digits
    reference = fit_quietly(small(max_iter=10), X, y)
    labels = encode(y)
    clf = fit_quietly(small(max_iter=10), X, labels)
    assert_array_equal(clf.classes_, np.unique(labels))
    pred = clf.predict(X)
    assert pred.dtype == clf.classes_.dtype
    assert pred.dtype.kind == labels.dtype.kind or labels.dtype == object
    # The label encoding is order preserving, so it is the same network.
    assert_array_equal(pred, encode(reference.predict(X)))
    assert_array_equal(clf.predict_proba(X), reference.predict_proba(X))
    assert clf.score(X, labels) == reference.score(X, y)


def test_multiclass_uses_softmax_outputs(small_digits):
    X, y = small_digits
    clf = fit_quietly(small(), X, y)
    proba = clf.predict_proba(X)
    assert clf.out_activation_ == "softmax"
    assert clf.n_outputs_ == 10 and clf.n_layers_ == 3
    assert proba.shape == (len(X), 10)
    assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    assert_allclose(proba, hand_forward(clf, X), rtol=1e-4, atol=1e-6)


@pytest.mark.numerics
@pytest.mark.parametrize("labels", [(0, 1), ("no", "yes"), (-1, 1)])
def test_binary_target_has_one_logistic_output_and_two_probability_columns(
    small_digits, labels
):
    X, y = small_digits
    yb = np.where(y >= 5, labels[1], labels[0])
    clf = fit_quietly(small(), X, yb)
    assert clf.n_outputs_ == 1
    assert clf.out_activation_ == "logistic"
    assert clf.coefs_[-1].shape == (16, 1)
    assert_array_equal(clf.classes_, np.array(labels))
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2)
    assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    # Column 1 is the logistic of the single output unit.
    h = relu(X @ clf.coefs_[0].astype(np.float64) + clf.intercepts_[0])
    z = (h @ clf.coefs_[1].astype(np.float64) + clf.intercepts_[1]).ravel()
    assert_allclose(proba[:, 1], 1 / (1 + np.exp(-z)), rtol=1e-4, atol=1e-6)
    pred = clf.predict(X)
    assert pred.shape == (len(X),)
    assert_array_equal(pred, np.where(proba[:, 1] > 0.5, labels[1], labels[0]))
    assert clf.score(X, yb) > 0.85


@pytest.mark.numerics
def test_multilabel_indicator_target_predicts_an_indicator_matrix(small_digits):
    X, y = small_digits
    Y = np.column_stack([y % 2 == 0, y >= 5, y % 3 == 0]).astype(int)
    clf = fit_quietly(small(hidden_layer_sizes=(32,), max_iter=60), X, Y)
    assert clf.n_outputs_ == 3
    assert clf.out_activation_ == "logistic"
    pred = clf.predict(X)
    assert pred.shape == Y.shape
    assert set(np.unique(pred)) <= {0, 1}
    proba = clf.predict_proba(X)
    assert proba.shape == Y.shape
    assert np.all((proba >= 0) & (proba <= 1))
    # Independent labels: rows do not sum to 1, and predict thresholds at 0.5.
    assert not np.allclose(proba.sum(axis=1), 1.0)
    assert_array_equal(pred, (proba > 0.5).astype(int))
    # score is the subset accuracy.
    assert clf.score(X, Y) == pytest.approx(np.mean(np.all(pred == Y, axis=1)))
    assert clf.score(X, Y) > 0.8


@pytest.mark.parametrize(
    "sparse_format", [sp.csr_matrix, sp.csc_matrix, sp.csr_array, sp.lil_matrix,
                      sp.coo_matrix]
)
def test_sparse_input_gives_the_same_model_as_dense(small_digits, sparse_format):
    X, y = small_digits
    dense = fit_quietly(small(max_iter=15), X, y)
    sparse = fit_quietly(small(max_iter=15), sparse_format(X), y)
    assert_array_equal(sparse.predict(X), dense.predict(X))
    assert_allclose(sparse.predict_proba(X), dense.predict_proba(X), atol=1e-5)
    # Predicting on sparse input equals predicting on the dense rows.
    assert_allclose(dense.predict_proba(sparse_format(X)), dense.predict_proba(X),
                    atol=1e-6)
    assert_array_equal(dense.predict(sparse_format(X)), dense.predict(X))


@pytest.mark.numerics
def test_sparse_input_with_input_dropout_trains(small_digits):
    X, y = small_digits
    clf = fit_quietly(small(input_dropout=0.2, dropout=0.2), sp.csr_matrix(X), y)
    assert clf.score(sp.csr_matrix(X), y) > 0.85
    assert np.all(np.isfinite(clf.predict_proba(sp.csr_matrix(X))))


def test_dataframe_input_records_feature_names_and_checks_them_like_sklearn(
    small_digits,
):
    pd = pytest.importorskip("pandas")
    X, y = small_digits
    columns = [f"pixel_{i}" for i in range(X.shape[1])]
    df = pd.DataFrame(X, columns=columns)
    clf = fit_quietly(small(max_iter=5), df, y)
    reference = fit_quietly(SklearnMLPClassifier(hidden_layer_sizes=(4,), max_iter=2),
                            df, y)
    assert_array_equal(clf.feature_names_in_, np.array(columns, dtype=object))
    assert clf.n_features_in_ == X.shape[1]
    # A DataFrame is the same data as its array.
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        from_array = clf.predict_proba(df.to_numpy())
    assert_array_equal(clf.predict_proba(df), from_array)

    renamed = df.rename(columns=lambda c: c.replace("pixel", "px"))
    for est in (clf, reference):
        with pytest.raises(ValueError, match="feature names should match"):
            est.predict(renamed)
    reordered = df[columns[::-1]]
    for est in (clf, reference):
        with pytest.raises(ValueError, match="same order"):
            est.predict(reordered)
    for est in (clf, reference):
        with pytest.warns(UserWarning, match="does not have valid feature names"):
            est.predict(df.to_numpy())

    # Fitted without names, predicting with names warns.
    plain = fit_quietly(small(max_iter=5), X, y)
    assert not hasattr(plain, "feature_names_in_")
    with pytest.warns(UserWarning, match="fitted without feature names"):
        plain.predict(df)


def test_predict_log_proba_is_the_log_of_predict_proba(small_digits):
    X, y = small_digits
    clf = fit_quietly(small(), X, y)
    assert_allclose(clf.predict_log_proba(X), np.log(clf.predict_proba(X)),
                    rtol=1e-6)
    yb = (y > 4).astype(int)
    clf = fit_quietly(small(), X, yb)
    assert_allclose(clf.predict_log_proba(X), np.log(clf.predict_proba(X)),
                    rtol=1e-6)


def test_score_is_accuracy_and_respects_sample_weight(small_digits):
    X, y = small_digits
    clf = fit_quietly(small(max_iter=3), X, y)
    pred = clf.predict(X)
    assert clf.score(X, y) == pytest.approx(np.mean(pred == y))
    w = np.random.default_rng(0).random(len(y))
    assert clf.score(X, y, sample_weight=w) == pytest.approx(
        np.average(pred == y, weights=w)
    )


@pytest.mark.numerics
def test_float64_dtype_computes_in_double_precision(small_digits):
    X, y = small_digits
    c64 = fit_quietly(small(dtype="float64"), X, y)
    c32 = fit_quietly(small(dtype="float32"), X, y)
    assert all(w.dtype == np.float64 for w in c64.coefs_ + c64.intercepts_)
    assert all(w.dtype == np.float32 for w in c32.coefs_ + c32.intercepts_)
    assert c64.predict_proba(X).dtype == np.float64
    assert c64.predict_proba(X.astype(np.float32)).dtype == np.float64
    # float32 is kept for float32 input; float64 input gets float64 output.
    assert c32.predict_proba(X.astype(np.float32)).dtype == np.float32
    assert c32.predict_proba(X.astype(np.float64)).dtype == np.float64
    # Same algorithm, different precision: nearly the same model.
    assert np.mean(c64.predict(X) == c32.predict(X)) > 0.97
    assert abs(c64.score(X, y) - c32.score(X, y)) < 0.02
    # Double precision matches a double-precision hand computation tightly.
    assert_allclose(c64.predict_proba(X), hand_forward(c64, X), rtol=1e-10,
                    atol=1e-12)


# --------------------------------------------------------------------------
# 10. warnings, verbosity, warm start
# --------------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["sgd", "adam", "adagrad", "lbfgs"])
def test_too_few_iterations_warn_of_non_convergence(small_digits, solver):
    X, y = small_digits
    with pytest.warns(ConvergenceWarning, match="(?i)iterations"):
        clf = small(solver=solver, max_iter=2).fit(X, y)
    assert clf.n_iter_ <= 2


@pytest.mark.numerics
def test_converged_fit_does_not_warn(small_digits):
    X, y = small_digits
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = small(max_iter=500).fit(X, y)
    assert clf.n_iter_ < 500


def test_verbose_prints_one_line_per_epoch(small_digits, capsys):
    X, y = small_digits
    fit_quietly(small(max_iter=7, verbose=True), X, y)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert len(lines) == 7
    for i, line in enumerate(lines, start=1):
        assert line.startswith(f"Iteration {i}, loss = ")


def test_not_verbose_prints_nothing(small_digits, capsys):
    X, y = small_digits
    fit_quietly(small(max_iter=3), X, y)
    assert capsys.readouterr().out == ""


@pytest.mark.numerics
@pytest.mark.parametrize("solver", ["sgd", "adam", "adagrad"])
def test_warm_start_continues_training(small_digits, solver):
    X, y = small_digits
    clf = small(max_iter=5, warm_start=True, solver=solver)
    fit_quietly(clf, X, y)
    first_curve = list(clf.loss_curve_)
    first_coefs = clf.coefs_[0].copy()
    fit_quietly(clf, X, y)
    # As scikit-learn: n_iter_ counts this call's epochs; the curve goes on.
    assert clf.n_iter_ == 5
    assert len(clf.loss_curve_) == 10 and len(clf.history_) == 10
    assert clf.loss_curve_[:5] == first_curve
    assert [h["epoch"] for h in clf.history_] == list(range(1, 11))
    assert clf.t_ == 10 * len(X)
    assert not np.allclose(clf.coefs_[0], first_coefs)
    # It continued from where it was, not from a fresh start.
    assert clf.loss_curve_[5] < first_curve[0]
    assert clf.loss_curve_[5] < first_curve[-1]

    # Without warm_start, a refit starts over.
    clf.set_params(warm_start=False)
    fit_quietly(clf, X, y)
    assert clf.n_iter_ == 5
    assert clf.loss_curve_ == first_curve


def test_warm_start_continues_with_the_solver_currently_set(small_digits):
    # scikit-learn builds a new optimiser of the current `solver` on every
    # fit, warm-started or not; changing the solver between warm-started fits
    # must not silently keep the previous one.
    X, y = small_digits
    clf = fit_quietly(small(max_iter=3, warm_start=True, solver="sgd"), X, y)
    clf.set_params(solver="adam")
    fit_quietly(clf, X, y)
    optimizer = clf._train_state["optimizer"]
    assert "adam" in type(optimizer).__name__.lower(), type(optimizer)


def test_warm_start_with_new_shape_starts_over(small_digits):
    X, y = small_digits
    clf = fit_quietly(small(max_iter=3, warm_start=True), X, y)
    clf.set_params(hidden_layer_sizes=(8,))
    fit_quietly(clf, X, y)
    assert clf.coefs_[0].shape == (64, 8)
    assert clf.n_iter_ == 3


# --------------------------------------------------------------------------
# 11. bad input is refused before any training
# --------------------------------------------------------------------------


@pytest.fixture
def no_training(monkeypatch):
    """Make building or training a network fail loudly (not with ValueError)."""

    def forbidden(*args, **kwargs):
        raise AssertionError("training started before the input was validated")

    monkeypatch.setattr(sknets._base, "build_mlp", forbidden)
    monkeypatch.setattr(sknets._base, "Trainer", forbidden)
    monkeypatch.setattr(sknets._base, "train_lbfgs", forbidden)


def _with(X, i, j, value):
    X = X.copy()
    X[i, j] = value
    return X


BAD_DATA = [
    (lambda X, y: (_with(X, 3, 5, np.nan), y), ValueError, "Input X contains NaN"),
    (lambda X, y: (_with(X, 3, 5, np.inf), y), ValueError, "Input X contains infinity"),
    (lambda X, y: (_with(X, 3, 5, -np.inf), y), ValueError, "contains infinity"),
    (lambda X, y: (X[:, 0], y), ValueError, "Expected 2D array, got 1D array"),
    (lambda X, y: (X.reshape(len(X), 8, 8), y), ValueError, "Found array with dim 3"),
    (lambda X, y: (X[:0], y[:0]), ValueError, "0 sample"),
    (lambda X, y: (X, y[:-1]), ValueError, "inconsistent numbers of samples"),
    (lambda X, y: (X, np.where(y > 4, np.nan, y)), ValueError, "NaN"),
    (lambda X, y: (X, y + 0.5), ValueError, "Unknown label type"),
    (lambda X, y: (X, y.astype(str).astype(object).reshape(-1, 2)[:, 0]), ValueError,
     "inconsistent numbers of samples"),
]


@pytest.mark.parametrize(
    "make_bad, error, message", BAD_DATA,
    ids=["nan", "inf", "-inf", "1d", "3d", "empty", "length-mismatch",
         "nan-y", "continuous-y", "short-y"],
)
def test_bad_training_data_is_refused_before_training(
    small_digits, no_training, make_bad, error, message
):
    X, y = small_digits
    Xb, yb = make_bad(X, y)
    clf = small()
    with pytest.raises(error, match=message):
        clf.fit(Xb, yb)
    assert not hasattr(clf, "coefs_") and not hasattr(clf, "classes_")


BAD_PARAMS = [
    (dict(hidden_layer_sizes=(-3,)), "hidden_layer_sizes"),
    (dict(hidden_layer_sizes=(0,)), "hidden_layer_sizes"),
    (dict(hidden_layer_sizes=0), "hidden_layer_sizes"),
    (dict(hidden_layer_sizes=(10, 0)), "hidden_layer_sizes"),
    (dict(hidden_layer_sizes=(10.5,)), "hidden_layer_sizes"),
    (dict(hidden_layer_sizes="abc"), "hidden_layer_sizes"),
    (dict(activation="softplus"), "activation"),
    (dict(solver="rmsprop"), "solver"),
    (dict(learning_rate="cosine"), "learning_rate"),
    (dict(dropout=1.0), "dropout"),
    (dict(dropout=-0.1), "dropout"),
    (dict(input_dropout=1.5), "input_dropout"),
    (dict(dropout=0.5, solver="lbfgs"), "dropout"),
    (dict(input_dropout=0.2, solver="lbfgs"), "dropout"),
    (dict(batch_norm_statistics="median"), "batch_norm_statistics"),
    (dict(dtype="float16"), "dtype"),
    (dict(learning_rate_init=0.0), "learning_rate_init"),
    (dict(max_iter=0), "max_iter"),
    (dict(momentum=1.5), "momentum"),
    (dict(validation_fraction=1.0), "validation_fraction"),
    (dict(l1_alpha=-1.0), "l1_alpha"),
    (dict(batch_size=0), "batch_size"),
]


@pytest.mark.parametrize(
    "params, name", BAD_PARAMS, ids=[repr(p) for p, _ in BAD_PARAMS]
)
def test_bad_parameters_are_refused_before_training(
    small_digits, no_training, params, name
):
    X, y = small_digits
    clf = small(**params)
    with pytest.raises(ValueError, match=name):
        clf.fit(X, y)
    assert not hasattr(clf, "coefs_")


def test_predict_before_fit_raises_not_fitted(small_digits):
    X, _ = small_digits
    clf = small()
    for method in (clf.predict, clf.predict_proba, clf.predict_log_proba):
        with pytest.raises(NotFittedError, match="not fitted"):
            method(X)
    with pytest.raises(AttributeError):
        clf.coefs_  # noqa: B018


@pytest.mark.parametrize(
    "make_bad, message",
    [
        (lambda X: X[:, :10], "X has 10 features, but MLPClassifier is expecting 64"),
        (lambda X: np.hstack([X, X[:, :1]]), "X has 65 features"),
        (lambda X: _with(X, 0, 0, np.nan), "Input X contains NaN"),
        (lambda X: X[0], "Expected 2D array"),
    ],
    ids=["fewer-features", "more-features", "nan", "1d"],
)
def test_bad_data_at_predict_time_is_refused(small_digits, make_bad, message):
    X, y = small_digits
    clf = fit_quietly(small(max_iter=3), X, y)
    for method in (clf.predict, clf.predict_proba, clf.predict_log_proba):
        with pytest.raises(ValueError, match=message):
            method(make_bad(X))


@pytest.mark.parametrize(
    "failing_fit",
    [
        lambda c, X, y: c.fit(_with(X, 0, 0, np.nan), y),
        # different width and continuous y: n_features_in_ must not change
        lambda c, X, y: c.fit(X[:, :10], y + 0.5),
        lambda c, X, y: c.set_params(hidden_layer_sizes=(10.5,)).fit(X, y),
        lambda c, X, y: c.set_params(solver="lbfgs", dropout=0.5).fit(X, y),
        lambda c, X, y: c.set_params(solver="bogus").fit(X, y),
        # fails after the network is built: unseen labels in y_val
        lambda c, X, y: c.fit(X, y, X_val=X[:20], y_val=y[:20] + 100),
        lambda c, X, y: c.fit(X, y, X_val=X[:20], y_val=y[:19]),
        # fails in the middle of training, with warm start continuing in place
        # (float32 X @ W overflows, so every retry has a non-finite loss)
        lambda c, X, y: c.set_params(warm_start=True).fit(X * 1e38, y),
    ],
    ids=["nan", "narrow-continuous-y", "float-size", "lbfgs-dropout", "bad-solver",
         "unseen-y_val", "y_val-length", "diverging-warm-start"],
)
def test_failing_fit_leaves_a_fitted_model_unchanged(small_digits, failing_fit):
    X, y = small_digits
    clf = fit_quietly(small(max_iter=5), X, y)
    before = fitted_state(clf)
    before["proba"] = clf.predict_proba(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises((ValueError, TypeError, DivergenceError)):
            failing_fit(clf, X, y)
    assert_same_fitted_state(clf, before, X)


def test_failing_fit_keeps_feature_names_of_the_previous_fit(small_digits):
    pd = pytest.importorskip("pandas")
    X, y = small_digits
    df = pd.DataFrame(X, columns=[f"c{i}" for i in range(X.shape[1])])
    clf = fit_quietly(small(max_iter=3), df, y)
    names = clf.feature_names_in_.copy()
    with pytest.raises(ValueError, match="Unknown label type"):
        clf.fit(X[:, :5], np.ones(len(y)) + 0.5)
    assert_array_equal(clf.feature_names_in_, names)
    assert clf.n_features_in_ == X.shape[1]
    clf.predict(df)  # still accepts the original frame


# --------------------------------------------------------------------------
# 12. divergence
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "solver, learning_rate_init",
    [("sgd", 1e6), ("sgd", 1e30), ("adagrad", 1e6), ("adagrad", 1e30),
     ("adam", 1e6)],
)
def test_huge_learning_rate_recovers_or_raises_but_never_leaves_nan(
    solver, learning_rate_init
):
    X = _DIGITS.data * 1000.0  # unscaled, up to 16000
    y = Y_DIGITS
    clf = MLPClassifier(hidden_layer_sizes=(16,), solver=solver,
                        learning_rate_init=learning_rate_init, max_iter=5,
                        random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            clf.fit(X, y)
        except DivergenceError as exc:
            assert isinstance(exc, RuntimeError)
            assert "diverged" in str(exc) and "learning_rate_init" in str(exc)
            assert not hasattr(clf, "coefs_")
            return
    recoveries = [w for w in caught if issubclass(w.category, RuntimeWarning)
                  and "non-finite" in str(w.message)]
    # Recovered (or never left the finite range): finite numbers everywhere.
    for arr in clf.coefs_ + clf.intercepts_:
        assert np.all(np.isfinite(arr))
    assert np.all(np.isfinite(clf._network.theta))
    assert np.all(np.isfinite(clf.loss_curve_))
    assert np.all(np.isfinite(clf.predict_proba(X)))
    assert np.all(np.isfinite(clf.predict_proba(X * 10)))
    rates = [h["learning_rate"] for h in clf.history_]
    if recoveries:
        # Each recovery divides the rate by 10, and the history shows it.
        assert rates[-1] == pytest.approx(
            learning_rate_init / 10 ** len(recoveries), rel=1e-6
        )
    else:
        assert rates[-1] == learning_rate_init


@pytest.mark.numerics
def test_sgd_with_a_huge_rate_warns_and_lowers_it():
    # (Inputs scaled up a thousandfold with a rate of 1e6 stay diverged even
    # at 1e6 / 10^5: the first epoch's loss grows by orders of magnitude
    # within it, which is divergence from the first epoch on, and raises.)
    clf = MLPClassifier(hidden_layer_sizes=(16,), solver="sgd",
                        learning_rate_init=1e4, max_iter=3, random_state=0)
    with pytest.warns(RuntimeWarning, match="non-finite"):
        fit_quietly(clf, _DIGITS.data, Y_DIGITS)
    assert np.all(np.isfinite(clf._network.theta))
    assert clf.history_[0]["learning_rate"] < 1e4


def test_hopeless_divergence_raises_divergence_error():
    clf = MLPClassifier(hidden_layer_sizes=(16,), solver="sgd",
                        learning_rate_init=1e30, max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(DivergenceError, match="diverged"):
            clf.fit(_DIGITS.data * 1000.0, Y_DIGITS)
    assert not hasattr(clf, "coefs_")
