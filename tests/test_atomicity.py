"""A failed fit or partial_fit leaves a fitted estimator exactly as it was.

"Exactly": every attribute, down to the optimiser's accumulators and the
random generator's state, compares equal to a deep copy taken before the
call (gradient and scratch buffers aside, which deep copies and pickles
leave out), and the predictions are bit-for-bit the same. The one documented
exception is Ctrl-C inside the training loop: the model trained so far is
committed, a warning says so, and the KeyboardInterrupt goes on up (see
``BaseNetworkEstimator._atomic``). Ctrl-C anywhere else (pre-training, the final exact
batch-norm pass) leaves the estimator as it was, like any other error.
"""

import copy
import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import clone

import sknets._base
from sknets import (
    AutoencoderTransformer,
    MLPClassifier,
    MLPRegressor,
    StackedPretrainedClassifier,
    StackedPretrainedRegressor,
)
from sknets._engine.network import Network
from sknets._engine.trainer import Trainer
from sknets.exceptions import DivergenceError

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.filterwarnings("ignore:The training loss exploded:RuntimeWarning"),
]

FAST = dict(hidden_layer_sizes=(4,), max_iter=4, random_state=0, batch_size=10)
ESTIMATORS = {
    "MLPClassifier": MLPClassifier(**FAST),
    "MLPClassifier-sgd-batchnorm": MLPClassifier(
        **FAST, solver="sgd", batch_norm=True, dropout=0.2,
        batch_norm_statistics="exact"),
    "MLPRegressor": MLPRegressor(**FAST, solver="adagrad"),
    "AutoencoderTransformer": AutoencoderTransformer(**FAST),
    "StackedPretrainedClassifier": StackedPretrainedClassifier(
        **FAST, pretrain_max_iter=2),
    "StackedPretrainedRegressor": StackedPretrainedRegressor(
        **FAST, pretrain_max_iter=2),
}
PARTIAL = [name for name, est in ESTIMATORS.items() if hasattr(est, "partial_fit")]
PRETRAINED = ["StackedPretrainedClassifier", "StackedPretrainedRegressor"]


def make_data(name, n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    if "Classifier" in name:
        return X, np.arange(n) % 3
    if name == "AutoencoderTransformer":
        return X, None
    return X, X @ rng.normal(size=4)


def fitted(name, **params):
    X, y = make_data(name)
    est = clone(ESTIMATORS[name]).set_params(**params)
    return est.fit(X, y)


def outputs(est, X):
    if isinstance(est, AutoencoderTransformer):
        return est.transform(X)
    if hasattr(est, "predict_proba"):
        return est.predict_proba(X)
    return est.predict(X)


# Uninitialised work space of the engine (np.empty), rebuilt on unpickling.
WORK_SPACE = {"_scratch"}


def assert_same(a, b, path="estimator", seen=None):
    """Deep equality of two object graphs, arrays bit-for-bit."""
    seen = set() if seen is None else seen
    if id(a) in seen:
        return
    seen.add(id(a))
    assert type(a) is type(b), path
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, path
        assert_array_equal(a, b, err_msg=path)
    elif isinstance(a, np.random.Generator):
        assert_same(a.bit_generator.state, b.bit_generator.state, path, seen)
    elif isinstance(a, np.random.RandomState):
        assert_same(a.get_state(), b.get_state(), path, seen)
    elif isinstance(a, dict):
        assert list(a) == list(b), path
        for key in a:
            if key not in WORK_SPACE:
                assert_same(a[key], b[key], f"{path}[{key!r}]", seen)
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{path}[{i}]", seen)
    elif hasattr(a, "__dict__") and not isinstance(a, type):
        assert_same(vars(a), vars(b), path, seen)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), path
    else:
        assert a == b, path


class Unchanged:
    """Snapshot of an estimator, and the check that it is still the same."""

    def __init__(self, est, X):
        self.est = est
        self.X = X
        self.state = copy.deepcopy(est.__dict__)
        self.outputs = outputs(est, X)

    def check(self):
        # Both sides through deepcopy, which drops what pickling drops:
        # gradient and scratch buffers of a fit, which are not model state.
        assert_same(self.state, copy.deepcopy(self.est.__dict__))
        assert_array_equal(outputs(self.est, self.X), self.outputs)


def call(est, method, X, y, **kwargs):
    if y is None:
        return getattr(est, method)(X, **kwargs)
    return getattr(est, method)(X, y, **kwargs)


# --------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------


@pytest.mark.parametrize("warm_start", [False, True])
@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_fit_on_bad_input_leaves_the_fitted_model_as_it_was(name, warm_start):
    est = fitted(name, warm_start=warm_start)
    X, y = make_data(name)
    unchanged = Unchanged(est, X)
    X_nan = X.copy()
    X_nan[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        call(est, "fit", X_nan, y)
    unchanged.check()
    with pytest.raises(ValueError, match="sample_weight"):
        call(est, "fit", X, y, sample_weight=np.ones(3))
    unchanged.check()
    if y is not None:
        with pytest.raises(ValueError, match="inconsistent numbers of samples"):
            est.fit(X, y[:5])
        unchanged.check()
        X_val, y_val = make_data(name, n=10, seed=1)
        with pytest.raises(ValueError, match="X_val and y_val have"):
            est.fit(X, y, X_val=X_val, y_val=y_val[:4])
        unchanged.check()


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_fit_with_a_bad_parameter_leaves_the_fitted_model_as_it_was(name):
    est = fitted(name)
    X, y = make_data(name)
    est.set_params(alpha=-1.0)
    unchanged = Unchanged(est, X)
    with pytest.raises(ValueError, match="'alpha' parameter"):
        call(est, "fit", X, y)
    unchanged.check()
    est.set_params(alpha=1e-4, hidden_layer_sizes=(0,))
    unchanged = Unchanged(est, X)
    with pytest.raises(ValueError, match="positive integers"):
        call(est, "fit", X, y)
    unchanged.check()


@pytest.mark.parametrize("name", PARTIAL)
def test_partial_fit_on_bad_input_leaves_the_fitted_model_as_it_was(name):
    est = fitted(name)
    X, y = make_data(name)
    unchanged = Unchanged(est, X)
    with pytest.raises(ValueError, match="features"):
        call(est, "partial_fit", X[:, :3], y)
    unchanged.check()
    if "Classifier" in name:
        with pytest.raises(ValueError, match="labels not seen"):
            est.partial_fit(X, y + 10)
        unchanged.check()


# --------------------------------------------------------------------------
# failures during training
# --------------------------------------------------------------------------


@pytest.fixture
def fail_in_epoch(monkeypatch):
    """Make the n-th epoch of any training loop raise ``error``."""

    def install(n, error):
        calls = {"n": 0}
        real = Trainer._run_epoch

        def run_epoch(self, *args):
            calls["n"] += 1
            if calls["n"] == n:
                raise error
            return real(self, *args)

        monkeypatch.setattr(Trainer, "_run_epoch", run_epoch)
        return calls

    return install


@pytest.mark.parametrize("warm_start", [False, True])
@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_an_error_in_the_middle_of_training_changes_nothing(
    name, warm_start, fail_in_epoch
):
    est = fitted(name, warm_start=warm_start)
    X, y = make_data(name)
    unchanged = Unchanged(est, X)
    # The third epoch of this fit (of fine-tuning, after pre-training).
    n = 3 + (2 * len(est.hidden_layer_sizes) if name in PRETRAINED
             and not warm_start else 0)
    fail_in_epoch(n, RuntimeError("disk full"))
    with pytest.raises(RuntimeError, match="disk full"):
        call(est, "fit", X, y)
    unchanged.check()


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_a_failed_fit_on_other_data_keeps_the_old_features_and_classes(
    name, fail_in_epoch
):
    # The fit had already recorded the new data's width and classes when
    # training failed: they are rolled back with everything else.
    est = fitted(name)
    X, y = make_data(name)
    unchanged = Unchanged(est, X)
    X_other = np.c_[X, X[:, :2]]
    y_other = None if y is None else (y % 2 if "Classifier" in name else -y)
    n = 2 + (2 * len(est.hidden_layer_sizes) if name in PRETRAINED else 0)
    fail_in_epoch(n, RuntimeError("disk full"))
    with pytest.raises(RuntimeError, match="disk full"):
        call(est, "fit", X_other, y_other)
    unchanged.check()
    assert est.n_features_in_ == 4


@pytest.mark.parametrize("name", PARTIAL)
def test_an_error_in_partial_fit_changes_nothing(name, fail_in_epoch):
    est = fitted(name)
    X, y = make_data(name)
    unchanged = Unchanged(est, X)
    fail_in_epoch(1, MemoryError("out of memory"))
    with pytest.raises(MemoryError):
        call(est, "partial_fit", X, y)
    unchanged.check()


@pytest.mark.parametrize("name", PRETRAINED)
def test_an_error_in_pretraining_changes_nothing(name, monkeypatch):
    est = fitted(name, hidden_layer_sizes=(4, 3))
    X, y = make_data(name)
    unchanged = Unchanged(est, X)
    real = AutoencoderTransformer.fit
    calls = {"n": 0}

    def fit(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # the second hidden layer's autoencoder
            raise RuntimeError("pre-training failed")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(AutoencoderTransformer, "fit", fit)
    with pytest.raises(RuntimeError, match="pre-training failed"):
        est.fit(X, y)
    unchanged.check()


@pytest.mark.parametrize("warm_start", [False, True])
@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_divergence_leaves_the_fitted_model_as_it_was(name, warm_start):
    est = fitted(name, warm_start=warm_start)
    X, y = make_data(name)
    # Several steps per epoch at an absurd rate: the loss is non-finite
    # within every epoch, however often the rate is divided by 10.
    est.set_params(learning_rate_init=1e30, batch_size=5)
    if name in PRETRAINED:
        est.set_params(pretrain_max_iter=0)
    unchanged = Unchanged(est, X)
    with pytest.raises(DivergenceError, match="Training diverged"):
        call(est, "fit", X, y)
    unchanged.check()


@pytest.mark.parametrize("name", PARTIAL)
def test_divergence_in_partial_fit_leaves_the_model_as_it_was(name):
    est = fitted(name)
    X, y = make_data(name)
    est.set_params(learning_rate_init=1e30, batch_size=5)
    unchanged = Unchanged(est, X)
    with pytest.raises(DivergenceError):
        call(est, "partial_fit", X, y)
    unchanged.check()


def test_a_non_finite_loss_everywhere_raises_divergence_and_changes_nothing(
    monkeypatch,
):
    # The divergence guard itself, with the loss forced to NaN.
    est = fitted("MLPClassifier", warm_start=True)
    X, y = make_data("MLPClassifier")
    unchanged = Unchanged(est, X)
    monkeypatch.setattr(Network, "loss_and_grad",
                        lambda self, *args, **kwargs: np.nan)
    with pytest.raises(DivergenceError, match="5 times"):
        est.fit(X, y)
    unchanged.check()


def test_lbfgs_divergence_leaves_the_fitted_model_as_it_was(monkeypatch):
    est = fitted("MLPRegressor", solver="lbfgs")
    X, y = make_data("MLPRegressor")
    unchanged = Unchanged(est, X)
    real = sknets._base.train_lbfgs

    def overflowing(network, *args, **kwargs):
        result = real(network, *args, **kwargs)
        network.theta[0] = np.inf  # as an overflowing solution would be
        return result

    monkeypatch.setattr(sknets._base, "train_lbfgs", overflowing)
    with pytest.raises(DivergenceError, match="L-BFGS produced non-finite"):
        est.fit(X, y)
    unchanged.check()


# --------------------------------------------------------------------------
# Ctrl-C
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_ctrl_c_in_training_commits_the_model_so_far_and_reraises(
    name, fail_in_epoch
):
    est = fitted(name)
    X, y = make_data(name)
    before = Unchanged(est, X)
    n_pretrain = 2 * len(est.hidden_layer_sizes) if name in PRETRAINED else 0
    fail_in_epoch(n_pretrain + 3, KeyboardInterrupt)  # after 2 epochs
    with pytest.warns(UserWarning, match="Training interrupted by user"):
        with pytest.raises(KeyboardInterrupt):
            call(est, "fit", X, y)
    assert est.n_iter_ == 2
    assert len(est.loss_curve_) == len(est.history_) == 2
    assert "_interrupted" not in est.__dict__
    new_outputs = outputs(est, X)
    assert np.all(np.isfinite(new_outputs))
    # The committed model is this fit's, not the previous one.
    assert not np.array_equal(new_outputs, before.outputs)
    # It is usable and trainable further.
    est.set_params(warm_start=True, max_iter=1)
    call(est, "fit", X, y)
    assert est.n_iter_ == 1 and len(est.loss_curve_) == 3


@pytest.mark.parametrize("name", PARTIAL)
def test_ctrl_c_in_partial_fit_commits_and_reraises(name, monkeypatch):
    est = fitted(name)
    X, y = make_data(name)
    t_before = est.t_
    epochs_before = len(est.loss_curve_)
    calls = {"n": 0}
    real = Network.loss_and_grad

    def loss_and_grad(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # in the middle of the epoch
            raise KeyboardInterrupt
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Network, "loss_and_grad", loss_and_grad)
    with pytest.warns(UserWarning, match="Training interrupted by user"):
        with pytest.raises(KeyboardInterrupt):
            call(est, "partial_fit", X, y)
    # The interrupted epoch is not counted, but its first step is kept.
    assert est.t_ == t_before and len(est.loss_curve_) == epochs_before
    assert "_interrupted" not in est.__dict__
    assert np.all(np.isfinite(outputs(est, X)))


@pytest.mark.parametrize("name", PRETRAINED)
def test_ctrl_c_in_pretraining_leaves_the_fitted_model_as_it_was(
    name, fail_in_epoch
):
    est = fitted(name)
    X, y = make_data(name)
    unchanged = Unchanged(est, X)
    fail_in_epoch(2, KeyboardInterrupt)  # the second pre-training epoch
    with pytest.warns(UserWarning, match="during the pre-training of hidden "
                                         "layer 1"):
        with pytest.raises(KeyboardInterrupt):
            est.fit(X, y)
    unchanged.check()


def test_ctrl_c_after_the_training_loop_leaves_the_model_as_it_was(monkeypatch):
    # Interrupting the final exact batch-norm pass is outside the loop that
    # commits: the fit is undone like any other failure, with no warning.
    name = "MLPClassifier-sgd-batchnorm"
    est = fitted(name)
    X, y = make_data(name)
    unchanged = Unchanged(est, X)

    def interrupted(self, chunks):
        raise KeyboardInterrupt

    monkeypatch.setattr(Network, "set_population_statistics", interrupted)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="Training interrupted")
        with pytest.raises(KeyboardInterrupt):
            est.fit(X, y)
    unchanged.check()
