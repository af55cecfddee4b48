"""Behaviour tests of sknets.MLPRegressor: what a user of the estimator relies on.

Small standardised regression problems and small networks keep the module fast.
"""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_regression
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.metrics import mean_poisson_deviance, r2_score
from threadpoolctl import threadpool_limits

import sknets._base
from sknets import MLPRegressor

# --------------------------------------------------------------------------
# data and helpers
# --------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def single_threaded_blas():
    """One BLAS thread: the matrices are tiny and BLAS threads only add noise."""
    with threadpool_limits(limits=1):
        yield


def linear_problem(n_samples=300, n_targets=1, seed=0):
    """make_regression with small noise; every target standardised."""
    X, y = make_regression(n_samples=n_samples, n_features=5, n_informative=5,
                           n_targets=n_targets, noise=1.0, random_state=seed)
    y = (y - y.mean(axis=0)) / y.std(axis=0)
    return X, y


def noisy_problem(seed=0):
    """A non-linear target with strong noise: validation error bottoms out."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(300, 5))
    y = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2] + 0.5 * rng.normal(size=300)
    return X, (y - y.mean()) / y.std()


def poisson_problem(n_samples=400, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, 4))
    mu = np.exp(0.5 + 0.6 * X[:, 0] - 0.4 * X[:, 1])
    return X, rng.poisson(mu).astype(float)


def small(**params):
    defaults = dict(hidden_layer_sizes=(16,), max_iter=200, random_state=0,
                    learning_rate_init=0.01)
    defaults.update(params)
    return MLPRegressor(**defaults)


def fit_quietly(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


def hand_output_preactivation(reg, X):
    """Output pre-activation of a relu network without batch norm, in float64."""
    h = np.asarray(X, dtype=np.float64)
    coefs = [np.asarray(w, dtype=np.float64) for w in reg.coefs_]
    intercepts = [np.asarray(b, dtype=np.float64) for b in reg.intercepts_]
    for W, b in zip(coefs[:-1], intercepts[:-1], strict=True):
        h = np.maximum(h @ W + b, 0.0)
    return h @ coefs[-1] + intercepts[-1]


# --------------------------------------------------------------------------
# 1. losses and output non-linearities
# --------------------------------------------------------------------------


@pytest.mark.numerics
def test_squared_error_has_an_identity_output_and_loss_is_half_the_mse():
    X, y = linear_problem()
    reg = small(solver="lbfgs", alpha=0.0, dtype="float64").fit(X, y)
    assert reg.out_activation_ == "identity"
    assert reg.n_outputs_ == 1
    pred = reg.predict(X)
    assert pred.shape == (len(X),)
    # The output is the last layer's pre-activation, unbounded in both signs.
    assert_allclose(pred, hand_output_preactivation(reg, X).ravel(), rtol=1e-10)
    assert pred.min() < 0 < pred.max()
    assert reg.loss_ == pytest.approx(0.5 * np.mean((y - pred) ** 2), rel=1e-8)
    assert reg.score(X, y) > 0.99


@pytest.mark.numerics
def test_poisson_loss_has_an_exp_output_and_positive_predictions():
    X, y = poisson_problem()
    assert np.any(y == 0)  # zero counts are valid targets
    reg = small(loss="poisson", solver="lbfgs", alpha=0.0, dtype="float64",
                hidden_layer_sizes=(8,), max_iter=300).fit(X, y)
    assert reg.out_activation_ == "exp"
    pred = reg.predict(X)
    assert pred.shape == (len(X),)
    assert np.all(pred > 0)
    assert_allclose(pred, np.exp(hand_output_preactivation(reg, X)).ravel(),
                    rtol=1e-10)
    # loss_ is half the mean Poisson deviance, as scikit-learn reports it.
    assert reg.loss_ == pytest.approx(0.5 * mean_poisson_deviance(y, pred),
                                      rel=1e-6)
    # It learned the rate: far better than the constant mean model.
    constant = mean_poisson_deviance(y, np.full_like(y, y.mean()))
    assert mean_poisson_deviance(y, pred) < 0.8 * constant
    # Large inputs do not overflow into inf or nan.
    assert np.all(np.isfinite(reg.predict(X * 3)))


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_poisson_loss_refuses_negative_targets(solver):
    X, y = poisson_problem(100)
    y[5] = -1.0
    with pytest.raises(ValueError, match="Poisson"):
        small(loss="poisson", solver=solver).fit(X, y)


def test_poisson_loss_refuses_a_negative_validation_target():
    X, y = poisson_problem(100)
    y_val = y[:20].copy()
    y_val[3] = -2.0
    with pytest.raises(ValueError, match="Poisson"):
        small(loss="poisson").fit(X, y, X_val=X[:20], y_val=y_val)


def test_poisson_stochastic_fit_predicts_positive_counts():
    X, y = poisson_problem()
    reg = fit_quietly(small(loss="poisson", solver="adam", max_iter=100), X, y)
    pred = reg.predict(X)
    assert np.all(pred > 0) and np.all(np.isfinite(pred))
    assert mean_poisson_deviance(y, pred) < mean_poisson_deviance(
        y, np.full_like(y, y.mean())
    )


# --------------------------------------------------------------------------
# 2. single and multiple outputs
# --------------------------------------------------------------------------


@pytest.mark.numerics
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_multi_output_targets_give_one_column_per_output(solver):
    X, Y = linear_problem(n_targets=3)
    reg = fit_quietly(small(solver=solver), X, Y)
    assert reg.n_outputs_ == 3
    assert reg.coefs_[-1].shape == (16, 3) and reg.intercepts_[-1].shape == (3,)
    pred = reg.predict(X)
    assert pred.shape == (len(X), 3)
    # score() is the R^2 averaged uniformly over the outputs.
    assert reg.score(X, Y) == pytest.approx(r2_score(Y, pred), rel=1e-6)
    assert r2_score(Y, pred, multioutput="raw_values").min() > 0.9


def test_column_vector_target_warns_and_predicts_a_1d_array():
    X, y = linear_problem(150)
    with pytest.warns(DataConversionWarning):
        reg = fit_quietly(small(max_iter=20), X, y.reshape(-1, 1))
    assert reg.n_outputs_ == 1
    assert reg.predict(X).shape == (len(X),)
    flat = fit_quietly(small(max_iter=20), X, y)
    assert_array_equal(reg.predict(X), flat.predict(X))


def test_multi_output_poisson_predicts_positive_matrix():
    X, y = poisson_problem()
    Y = np.column_stack([y, y[::-1]])
    reg = fit_quietly(small(loss="poisson", max_iter=30), X, Y)
    pred = reg.predict(X)
    assert pred.shape == (len(X), 2) and np.all(pred > 0)


# --------------------------------------------------------------------------
# 3. every solver and schedule learns
# --------------------------------------------------------------------------

# 'invscaling' divides the rate by (samples seen) ** power_t: a larger start
# and a gentler decay than the default power_t=0.5 keep it learning.
INVSCALING = {"sgd": dict(learning_rate_init=0.1, power_t=0.25),
              "adagrad": dict(learning_rate_init=0.2, power_t=0.25)}


@pytest.mark.numerics
@pytest.mark.parametrize("learning_rate",
                         ["constant", "invscaling", "adaptive", "halving"])
@pytest.mark.parametrize("solver", ["sgd", "adam", "adagrad", "lbfgs"])
def test_every_solver_and_schedule_reaches_a_good_r2(solver, learning_rate):
    X, y = linear_problem()
    params = dict(learning_rate_init=0.1 if solver == "adagrad" else 0.01)
    if learning_rate == "invscaling":
        params.update(INVSCALING.get(solver, {}))
    reg = fit_quietly(small(solver=solver, learning_rate=learning_rate, **params),
                      X, y)
    assert reg.score(X, y) > 0.95
    assert np.isfinite(reg.loss_)
    if solver != "lbfgs":
        assert len(reg.loss_curve_) == reg.n_iter_
        # The training loss went down.
        assert reg.loss_curve_[-1] < 0.5 * reg.loss_curve_[0]


# --------------------------------------------------------------------------
# 4. dropout and batch normalisation
# --------------------------------------------------------------------------


@pytest.mark.numerics
@pytest.mark.parametrize(
    "params",
    [dict(dropout=0.2), dict(input_dropout=0.1, dropout=0.1),
     dict(batch_norm=True), dict(batch_norm=True, dropout=0.2,
                                 batch_norm_statistics="exact")],
    ids=["dropout", "input-dropout", "batch-norm", "bn-dropout-exact"],
)
def test_dropout_and_batch_norm_train_and_predict_deterministically(params):
    X, y = linear_problem()
    reg = fit_quietly(small(hidden_layer_sizes=(32,), max_iter=150, **params), X, y)
    pred = reg.predict(X)
    for _ in range(3):
        assert_array_equal(reg.predict(X), pred)
    # Each row's prediction does not depend on the other rows of the batch.
    for i in (0, 17, 250):
        assert_allclose(reg.predict(X[i : i + 1]), pred[i : i + 1], rtol=1e-5,
                        atol=1e-6)
    assert_allclose(reg.predict(X[:2]), pred[:2], rtol=1e-5, atol=1e-6)
    assert r2_score(y, pred) > 0.9


def test_dropout_is_the_plain_network_at_predict_time():
    X, y = linear_problem()
    reg = fit_quietly(small(dropout=0.3, max_iter=50), X, y)
    assert_allclose(reg.predict(X), hand_output_preactivation(reg, X).ravel(),
                    rtol=1e-4, atol=1e-5)
    plain = fit_quietly(small(max_iter=50), X, y)
    assert not np.allclose(reg.coefs_[0], plain.coefs_[0])


# --------------------------------------------------------------------------
# 5. validation: R^2 by default, or the loss with scoring='loss'
# --------------------------------------------------------------------------


@pytest.mark.numerics
def test_given_validation_set_is_scored_by_r2_and_best_epoch_restored():
    X, y = noisy_problem()
    X_tr, y_tr, X_val, y_val = X[:200], y[:200], X[200:], y[200:]
    reg = small(hidden_layer_sizes=(64,), solver="sgd", learning_rate_init=0.1,
                n_iter_no_change=5, max_iter=100)
    reg.fit(X_tr, y_tr, X_val=X_val, y_val=y_val)
    scores = reg.validation_scores_
    assert len(scores) == reg.n_iter_ < reg.max_iter
    assert reg.best_loss_ is None
    assert reg.best_validation_score_ == max(scores)
    assert scores[-1] < reg.best_validation_score_  # it did get worse later
    # The validation score is the R^2 of the returned (best) model.
    r2 = r2_score(y_val, reg.predict(X_val))
    assert reg.best_validation_score_ == pytest.approx(r2, abs=1e-6)
    assert reg.score(X_val, y_val) == pytest.approx(r2, abs=1e-12)


@pytest.mark.numerics
def test_each_epochs_validation_score_is_r2_of_the_model_after_that_epoch():
    # One epoch per warm-started fit: each call's best (only) epoch is the
    # model that is returned, so every recorded score can be recomputed.
    X, y = linear_problem()
    X_tr, y_tr, X_val, y_val = X[:200], y[:200], X[200:], y[200:]
    reg = small(solver="sgd", learning_rate_init=0.05, max_iter=1, warm_start=True)
    for epoch in range(1, 5):
        fit_quietly(reg, X_tr, y_tr, X_val=X_val, y_val=y_val)
        assert len(reg.validation_scores_) == epoch
        assert reg.validation_scores_[-1] == pytest.approx(
            r2_score(y_val, reg.predict(X_val)), abs=1e-6
        )
    # Not minus the loss: a fitted model's R^2 is positive here.
    # It learns: measured 0.34-0.83 after 4 epochs over 4 BLAS kernels and
    # 10 seeds (R^2 of predicting the mean: 0).
    assert reg.validation_scores_[-1] > 0.2


def test_internal_early_stopping_split_is_scored_by_r2(monkeypatch):
    split = {}
    real_split = sknets._base.train_test_split

    def spy(*args, **kwargs):
        split["train"], split["val"] = real_split(*args, **kwargs)
        return split["train"], split["val"]

    monkeypatch.setattr(sknets._base, "train_test_split", spy)
    X, y = noisy_problem()
    reg = small(hidden_layer_sizes=(64,), solver="sgd", learning_rate_init=0.1,
                n_iter_no_change=5, max_iter=100, early_stopping=True,
                validation_fraction=0.3).fit(X, y)
    val = split["val"]
    assert len(val) == 90 and not np.intersect1d(split["train"], val).size
    assert reg.best_validation_score_ == max(reg.validation_scores_)
    assert reg.best_validation_score_ == pytest.approx(
        r2_score(y[val], reg.predict(X[val])), abs=1e-6
    )
    assert reg.t_ == 210 * reg.n_iter_  # trained on the remaining rows only


@pytest.mark.numerics
@pytest.mark.parametrize("n_targets", [1, 2])
def test_scoring_loss_restores_the_epoch_with_the_lowest_validation_loss(n_targets):
    X, y = noisy_problem()
    if n_targets == 2:
        noise = np.random.default_rng(1).normal(size=len(y))
        y2 = X[:, 3] * X[:, 4] + 0.7 * noise
        y = np.column_stack([y, (y2 - y2.mean()) / y2.std()])
    X_tr, y_tr, X_val, y_val = X[:200], y[:200], X[200:], y[200:]
    reg = small(hidden_layer_sizes=(64,), solver="sgd", learning_rate_init=0.05,
                n_iter_no_change=5, max_iter=100, scoring="loss", dtype="float64")
    reg.fit(X_tr, y_tr, X_val=X_val, y_val=y_val)
    val_loss = [h["val_loss"] for h in reg.history_]
    best = int(np.argmin(val_loss))
    assert best < len(val_loss) - 1
    # The returned model is the lowest-loss epoch's: its validation loss
    # (half the squared error summed over outputs, averaged over rows)...
    pred = reg.predict(X_val).reshape(len(X_val), -1)
    loss = 0.5 * np.mean(np.sum((pred - y_val.reshape(len(X_val), -1)) ** 2, axis=1))
    assert loss == pytest.approx(min(val_loss), rel=1e-9)
    # ...and the score reported is that epoch's R^2.
    assert reg.best_validation_score_ == reg.history_[best]["val_score"]
    assert reg.best_validation_score_ == pytest.approx(
        r2_score(y_val, reg.predict(X_val)), rel=1e-9
    )
    assert reg.validation_scores_ == [h["val_score"] for h in reg.history_]


# --------------------------------------------------------------------------
# 6. score, dtypes, input formats
# --------------------------------------------------------------------------


def test_score_is_r2_and_respects_sample_weight():
    X, y = linear_problem()
    reg = fit_quietly(small(max_iter=30), X, y)
    pred = reg.predict(X)
    assert reg.score(X, y) == pytest.approx(r2_score(y, pred), rel=1e-9)
    w = np.random.default_rng(0).uniform(0, 3, len(y))
    assert reg.score(X, y, sample_weight=w) == pytest.approx(
        r2_score(y, pred, sample_weight=w), rel=1e-9
    )


@pytest.mark.parametrize(
    "dtype, input_dtype, output_dtype",
    [("float32", np.float32, np.float32), ("float32", np.float64, np.float64),
     ("float64", np.float32, np.float64), ("float64", np.float64, np.float64)],
)
def test_prediction_dtype_follows_the_input_and_the_network(
    dtype, input_dtype, output_dtype
):
    X, y = linear_problem(100)
    reg = fit_quietly(small(max_iter=5, dtype=dtype), X.astype(input_dtype), y)
    assert reg.coefs_[0].dtype == np.dtype(dtype)
    for X_pred_dtype in (np.float32, np.float64):
        expected = np.promote_types(X_pred_dtype, dtype)
        assert reg.predict(X.astype(X_pred_dtype)).dtype == expected
    assert reg.predict(X.astype(input_dtype)).dtype == output_dtype


def test_default_dtype_is_float32():
    X, y = linear_problem(100)
    reg = fit_quietly(MLPRegressor(hidden_layer_sizes=(4,), max_iter=2), X, y)
    assert reg.dtype == "float32" and reg.coefs_[0].dtype == np.float32
    assert reg.predict(X.astype(np.float32)).dtype == np.float32
    assert reg.predict(X).dtype == np.float64


@pytest.mark.parametrize("to_sparse", [sp.csr_matrix, sp.csc_matrix, sp.csr_array],
                         ids=["csr", "csc", "csr_array"])
def test_sparse_input_gives_the_same_model_as_dense(to_sparse):
    rng = np.random.default_rng(0)
    X, y = linear_problem()
    X = X * (rng.random(X.shape) < 0.5)  # half the entries zero
    params = dict(max_iter=20, solver="sgd", dtype="float64")
    dense = fit_quietly(small(**params), X, y)
    sparse = fit_quietly(small(**params), to_sparse(X), y)
    assert_allclose(sparse.predict(to_sparse(X)), dense.predict(X), rtol=1e-9,
                    atol=1e-12)
    assert_allclose(dense.predict(to_sparse(X)), dense.predict(X), rtol=1e-12)
    for a, b in zip(sparse.coefs_, dense.coefs_, strict=True):
        assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_dataframe_input_sets_feature_names():
    pd = pytest.importorskip("pandas")
    X, y = linear_problem(100)
    names = [f"f{i}" for i in range(X.shape[1])]
    df = pd.DataFrame(X, columns=names)
    reg = fit_quietly(small(max_iter=5), df, pd.Series(y, name="target"))
    assert_array_equal(reg.feature_names_in_, names)
    assert reg.n_features_in_ == 5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pred = reg.predict(df)
    with pytest.warns(UserWarning, match="feature names"):
        assert_array_equal(reg.predict(X), pred)
    with pytest.raises(ValueError, match="feature names"):
        reg.predict(df[names[::-1]])
    plain = fit_quietly(small(max_iter=5), X, y)
    assert not hasattr(plain, "feature_names_in_")


# --------------------------------------------------------------------------
# 7. persistence and reproducibility
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [dict(), dict(solver="lbfgs"), dict(loss="poisson"),
     dict(batch_norm=True, dropout=0.1, solver="sgd")],
    ids=["adam", "lbfgs", "poisson", "bn-dropout-sgd"],
)
def test_pickle_round_trip_predicts_the_same(params):
    X, y = linear_problem(150)
    if params.get("loss") == "poisson":
        y = np.abs(y)
    reg = fit_quietly(small(max_iter=10, **params), X, y)
    clone = pickle.loads(pickle.dumps(reg))
    assert_array_equal(clone.predict(X), reg.predict(X))
    assert clone.get_params() == reg.get_params()
    assert clone.loss_curve_ == reg.loss_curve_
    assert clone.out_activation_ == reg.out_activation_


@pytest.mark.parametrize(
    "params",
    [dict(solver="sgd"), dict(solver="adagrad"), dict(solver="lbfgs"),
     dict(dropout=0.3, batch_norm=True), dict(early_stopping=True)],
    ids=["sgd", "adagrad", "lbfgs", "dropout-bn", "early-stopping"],
)
def test_same_random_state_gives_identical_models(params):
    X, y = linear_problem(150)
    a = fit_quietly(small(max_iter=10, **params), X, y)
    b = fit_quietly(small(max_iter=10, **params), X, y)
    assert_array_equal(a.predict(X), b.predict(X))
    for wa, wb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_,
                      strict=True):
        assert_array_equal(wa, wb)
    assert a.loss_curve_ == b.loss_curve_
    c = fit_quietly(small(max_iter=10, **{**params, "random_state": 1}), X, y)
    assert not np.allclose(a.coefs_[0], c.coefs_[0])
