"""Behaviour tests of StackedPretrainedClassifier and StackedPretrainedRegressor.

Greedy layer-wise pre-training (each hidden layer an autoencoder on the codes
of the one below), its relation to the plain MLP and to
AutoencoderTransformer, semi-supervised use with ``unlabeled_label``, and
that pre-training on unlabelled digits helps when labels are few.
"""

import pickle
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sknets import (
    AutoencoderTransformer,
    MLPClassifier,
    MLPRegressor,
    StackedPretrainedClassifier,
    StackedPretrainedRegressor,
)
from sknets._pretrained import _PretrainMixin

# --------------------------------------------------------------------------
# data and helpers
# --------------------------------------------------------------------------

_DIGITS = load_digits()
X_DIGITS = _DIGITS.data / 16.0  # in [0, 1]
Y_DIGITS = _DIGITS.target
INT32_MAX = np.iinfo(np.int32).max


@pytest.fixture(scope="module", autouse=True)
def single_threaded_blas():
    """One BLAS thread: the matrices are tiny and BLAS threads make timings erratic."""
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def small_digits():
    """400 rows of the digits in [0, 1] (all ten classes)."""
    idx = np.random.default_rng(0).choice(len(X_DIGITS), 400, replace=False)
    return X_DIGITS[idx], Y_DIGITS[idx]


@pytest.fixture(scope="module")
def digits_split():
    """Stratified 70/30 split of the digits in [0, 1]."""
    return train_test_split(X_DIGITS, Y_DIGITS, test_size=0.3, random_state=0,
                            stratify=Y_DIGITS)


@pytest.fixture(scope="module")
def diabetes_split():
    """Diabetes, inputs standardised and target standardised on the train part."""
    X, y = load_diabetes(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, random_state=0)
    scaler = StandardScaler().fit(X_tr)
    mean, std = y_tr.mean(), y_tr.std()
    return (scaler.transform(X_tr), scaler.transform(X_te), (y_tr - mean) / std,
            (y_te - mean) / std)


def small(**params):
    """A small, quick, seeded pre-trained classifier."""
    defaults = dict(hidden_layer_sizes=(16,), max_iter=20, pretrain_max_iter=5,
                    random_state=0, learning_rate_init=0.01)
    defaults.update(params)
    return StackedPretrainedClassifier(**defaults)


def fit_quietly(est, *args, **kwargs):
    """Fit while ignoring ConvergenceWarning (max_iter is kept small on purpose)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


def initial_weights(est, X, y):
    """The network's weights before fine-tuning: one step at a negligible rate."""
    est = clone(est).set_params(max_iter=1, learning_rate_init=1e-12)
    fit_quietly(est, X, y)
    return [W.copy() for W in est.coefs_]


def semi_supervised(y, n_labeled, seed, unlabeled=-1):
    """``y`` with all but ``n_labeled`` random rows marked unlabeled."""
    rng = np.random.default_rng(seed)
    labeled = rng.choice(len(y), n_labeled, replace=False)
    y_semi = np.full_like(y, unlabeled)
    y_semi[labeled] = y[labeled]
    return y_semi


# --------------------------------------------------------------------------
# pre-training
# --------------------------------------------------------------------------


@pytest.mark.parametrize("sizes", [(32,), (32, 16)], ids=["one_layer", "two_layers"])
def test_pretrain_loss_curves_decrease_one_per_hidden_layer(small_digits, sizes):
    X, y = small_digits
    clf = fit_quietly(small(hidden_layer_sizes=sizes, pretrain_max_iter=8,
                            pretrain_learning_rate_init=0.01), X, y)
    curves = clf.pretrain_loss_curves_
    assert len(curves) == len(sizes)
    for curve in curves:
        assert len(curve) == 8
        assert curve[-1] < curve[0]
        assert all(np.isfinite(curve))


def test_zero_pretrain_epochs_give_exactly_the_plain_mlp(small_digits):
    X, y = small_digits
    params = dict(hidden_layer_sizes=(32, 16), activation="logistic", max_iter=20,
                  random_state=0, learning_rate_init=0.01)
    pretrained = fit_quietly(StackedPretrainedClassifier(pretrain_max_iter=0,
                                                         **params), X, y)
    plain = fit_quietly(MLPClassifier(**params), X, y)
    assert pretrained.pretrain_loss_curves_ == [[], []]
    assert_array_equal(pretrained.predict_proba(X), plain.predict_proba(X))
    for W_pre, W_plain in zip(pretrained.coefs_, plain.coefs_, strict=True):
        assert_array_equal(W_pre, W_plain)
    assert pretrained.loss_curve_ == plain.loss_curve_


def test_zero_pretrain_epochs_regressor_is_the_plain_mlp(diabetes_split):
    X_tr, X_te, y_tr, _ = diabetes_split
    params = dict(hidden_layer_sizes=(16,), activation="logistic", max_iter=30,
                  random_state=0, learning_rate_init=0.01)
    pretrained = fit_quietly(StackedPretrainedRegressor(pretrain_max_iter=0,
                                                        **params), X_tr, y_tr)
    plain = fit_quietly(MLPRegressor(**params), X_tr, y_tr)
    assert_array_equal(pretrained.predict(X_te), plain.predict(X_te))


def test_pretraining_changes_the_hidden_initial_weights(small_digits):
    X, y = small_digits
    sizes = (32, 16)
    random_init = initial_weights(small(hidden_layer_sizes=sizes,
                                        pretrain_max_iter=0), X, y)
    pretrained_init = initial_weights(small(hidden_layer_sizes=sizes), X, y)
    for i in range(len(sizes)):
        assert random_init[i].shape == pretrained_init[i].shape
        assert not np.allclose(random_init[i], pretrained_init[i])


def _layer_seeds(random_state, n_layers):
    """The seeds _pretrain gives its autoencoders (it mirrors the estimator's
    generator: a RandomState draw seeds a Generator, one draw per layer)."""
    rng = np.random.default_rng(np.random.RandomState(random_state).randint(INT32_MAX))
    return [int(rng.integers(INT32_MAX)) for _ in range(n_layers)]


@pytest.mark.parametrize("corruption_level", [0.0, 0.2], ids=["plain", "denoising"])
def test_pretrained_layers_are_autoencoders_stacked_on_the_codes_below(
    small_digits, corruption_level
):
    X, y = small_digits
    sizes = (24, 12)
    clf = small(hidden_layer_sizes=sizes, pretrain_max_iter=4,
                pretrain_corruption_level=corruption_level, random_state=3)
    pretrained_init = initial_weights(clf, X, y)
    curves = fit_quietly(clone(clf), X, y).pretrain_loss_curves_

    codes = X.astype(np.float32)
    for depth, (width, seed) in enumerate(zip(sizes, _layer_seeds(3, len(sizes)),
                                              strict=True)):
        ae = fit_quietly(AutoencoderTransformer(
            (width,), activation="logistic", max_iter=4, learning_rate_init=0.001,
            corruption_level=corruption_level, random_state=seed,
        ), codes)
        assert_array_equal(pretrained_init[depth], ae.coefs_[0])
        assert curves[depth] == ae.loss_curve_
        codes = ae.transform(codes)
    # The second autoencoder saw codes in [0, 1], so 'auto' chose cross-entropy.
    assert ae.loss_function_ == "cross_entropy"


@pytest.mark.numerics
def test_lbfgs_fine_tuning_pretrains_a_denoising_autoencoder_with_adam(small_digits):
    X, y = small_digits
    clf = fit_quietly(small(solver="lbfgs", pretrain_corruption_level=0.2,
                            pretrain_max_iter=6), X, y)
    # One loss per epoch: a stochastic solver ran the pre-training.
    assert len(clf.pretrain_loss_curves_[0]) == 6
    assert clf.score(X, y) > 0.9


# --------------------------------------------------------------------------
# semi-supervised use
# --------------------------------------------------------------------------


def test_unlabeled_rows_are_excluded_from_the_classes(small_digits):
    X, y = small_digits
    y_semi = semi_supervised(y, 150, seed=0)
    clf = fit_quietly(small(unlabeled_label=-1), X, y_semi)
    assert_array_equal(clf.classes_, np.arange(10))
    assert -1 not in clf.predict(X)
    assert clf.predict_proba(X).shape == (len(X), 10)


def test_unlabeled_rows_take_no_part_in_fine_tuning(small_digits):
    # Without pre-training, the unlabeled rows must have no effect at all:
    # the model equals the one trained on the labelled rows alone.
    X, y = small_digits
    y_semi = semi_supervised(y, 150, seed=0)
    labeled = y_semi != -1
    with_unlabeled = fit_quietly(small(unlabeled_label=-1, pretrain_max_iter=0),
                                 X, y_semi)
    labeled_only = fit_quietly(small(unlabeled_label=-1, pretrain_max_iter=0),
                               X[labeled], y_semi[labeled])
    assert_array_equal(with_unlabeled.predict_proba(X), labeled_only.predict_proba(X))
    assert with_unlabeled.t_ == labeled_only.t_ == 20 * labeled.sum()


def test_unlabeled_rows_take_part_in_pre_training(small_digits):
    X, y = small_digits
    y_semi = semi_supervised(y, 150, seed=0)
    labeled = y_semi != -1
    all_rows = small(unlabeled_label=-1)
    labeled_rows = small(unlabeled_label=-1)
    init_all = initial_weights(all_rows, X, y_semi)
    init_labeled = initial_weights(labeled_rows, X[labeled], y_semi[labeled])
    assert not np.allclose(init_all[0], init_labeled[0])
    # ... and the pre-training on all rows is the autoencoder on all of X.
    (seed,) = _layer_seeds(0, 1)
    ae = fit_quietly(AutoencoderTransformer((16,), max_iter=5, random_state=seed),
                     X)
    assert_array_equal(init_all[0], ae.coefs_[0])


def test_every_row_unlabeled_is_an_error(small_digits):
    X, _ = small_digits
    clf = small(unlabeled_label=-1)
    with pytest.raises(ValueError, match="unlabeled"):
        clf.fit(X, np.full(len(X), -1))
    assert not hasattr(clf, "classes_")
    assert not hasattr(clf, "pretrain_loss_curves_")


@pytest.mark.numerics
def test_default_unlabeled_label_treats_minus_one_as_a_class(small_digits):
    X, y = small_digits
    y_pm = np.where(y < 5, -1, 1)  # a binary problem coded -1/1
    clf = fit_quietly(small(), X, y_pm)
    assert clf.unlabeled_label is None
    assert_array_equal(clf.classes_, [-1, 1])
    assert clf.score(X, y_pm) > 0.7  # measured 0.83-0.91; chance 0.5


def test_string_labels_with_a_string_unlabeled_marker(small_digits):
    X, y = small_digits
    y_str = np.array([f"digit{v}" for v in y], dtype=object)
    y_str[::3] = "?"
    clf = fit_quietly(small(unlabeled_label="?"), X, y_str)
    assert "?" not in clf.classes_
    assert len(clf.classes_) == 10


def test_multilabel_targets_cannot_have_unlabeled_rows(small_digits):
    X, y = small_digits
    Y = np.column_stack([y % 2, y > 4]).astype(int)
    with pytest.raises(ValueError, match="multilabel"):
        small(unlabeled_label=-1).fit(X, Y)
    # Without unlabeled_label a multilabel target is fine.
    clf = fit_quietly(small(), X, Y)
    assert clf.predict(X).shape == Y.shape


def test_partial_fit_never_learns_the_unlabeled_marker_as_a_class(small_digits):
    # unlabeled_label rows "take part in pre-training only"; partial_fit does
    # no pre-training, so they must take part in nothing -- not be trained as
    # a class -1, nor make partial_fit fail when classes lists the real labels.
    X, y = small_digits
    y_semi = semi_supervised(y, 150, seed=0)
    labeled = y_semi != -1
    clf = small(unlabeled_label=-1)
    clf.partial_fit(X, y_semi, classes=np.arange(10))
    reference = small(unlabeled_label=-1)
    reference.partial_fit(X[labeled], y_semi[labeled], classes=np.arange(10))
    assert_array_equal(clf.classes_, np.arange(10))
    assert_array_equal(clf.predict_proba(X), reference.predict_proba(X))


# --------------------------------------------------------------------------
# does pre-training help?
# --------------------------------------------------------------------------

FEW_LABELS = dict(hidden_layer_sizes=(100,), activation="logistic",
                  pretrain_max_iter=30, pretrain_learning_rate_init=0.01,
                  learning_rate_init=0.01, max_iter=100, alpha=0.01,
                  unlabeled_label=-1)


@pytest.mark.numerics
def test_pretraining_on_unlabeled_digits_costs_nothing_with_few_labels(digits_split):
    # 100 labelled training digits, the other 1157 unlabelled. The same
    # network and fine-tuning, with and without autoencoder pre-training on
    # all 1257 rows; test accuracy on 540 held-out digits, seeds 0-4 (each
    # seed draws its own labelled subset and initialisation).
    # Measured: pre-trained 0.917 0.893 0.896 0.909 0.881 vs 0.904 0.876 0.887
    # 0.896 0.876 without: a gain on every seed, 0.012 on average (over seeds
    # 0-9: 0.012 on average, positive for 9 of 10).
    X_train, X_test, y_train, y_test = digits_split
    pretrained, plain = [], []
    for seed in range(5):
        y_semi = semi_supervised(y_train, 100, seed)
        params = dict(FEW_LABELS, random_state=seed)
        pre = fit_quietly(StackedPretrainedClassifier(**params), X_train, y_semi)
        base = fit_quietly(StackedPretrainedClassifier(
            **dict(params, pretrain_max_iter=0)), X_train, y_semi)
        pretrained.append(pre.score(X_test, y_test))
        plain.append(base.score(X_test, y_test))
    print(f"\nfew labels: pre-trained {np.round(pretrained, 3)} "
          f"(mean {np.mean(pretrained):.3f}), not pre-trained {np.round(plain, 3)} "
          f"(mean {np.mean(plain):.3f})")
    # With other random streams (10 seed offsets for the initialisation,
    # shuffling and corruption, same labelled subsets) the mean gain was
    # -0.002 to +0.012 (+0.003 on average): too small against that noise for
    # a strict "better" over five seeds. Asked: no loss beyond noise, and a
    # good accuracy (measured 0.892-0.899; chance 0.1). A pre-training that
    # wrecks the weights fails both.
    assert np.mean(pretrained) > np.mean(plain) - 0.01, (pretrained, plain)
    assert np.mean(pretrained) > 0.86


@pytest.mark.numerics
def test_pretraining_does_not_hurt_with_all_labels(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    params = dict(FEW_LABELS, random_state=0)
    pre = fit_quietly(StackedPretrainedClassifier(**params), X_train, y_train)
    base = fit_quietly(StackedPretrainedClassifier(
        **dict(params, pretrain_max_iter=0)), X_train, y_train)
    pre_acc, base_acc = pre.score(X_test, y_test), base.score(X_test, y_test)
    print(f"\nall labels: pre-trained {pre_acc:.3f}, not pre-trained {base_acc:.3f}")
    assert pre_acc > base_acc - 0.02
    assert pre_acc > 0.95


# --------------------------------------------------------------------------
# refits, regressor, persistence
# --------------------------------------------------------------------------


def _count_pretrain_calls(monkeypatch):
    calls = []
    original = _PretrainMixin._pretrain

    def counting(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(_PretrainMixin, "_pretrain", counting)
    return calls


def test_warm_start_refit_skips_pre_training(small_digits, monkeypatch):
    X, y = small_digits
    calls = _count_pretrain_calls(monkeypatch)
    clf = fit_quietly(small(warm_start=True, max_iter=5), X, y)
    assert len(calls) == 1  # the first fit pre-trains, warm_start or not
    curves = [list(c) for c in clf.pretrain_loss_curves_]
    weights = [W.copy() for W in clf.coefs_]
    fit_quietly(clf, X, y)
    assert len(calls) == 1
    assert clf.pretrain_loss_curves_ == curves
    assert len(clf.loss_curve_) == 10  # fine-tuning continued
    assert not np.allclose(clf.coefs_[0], weights[0])
    # A cold refit pre-trains again, from scratch.
    clf.set_params(warm_start=False)
    fit_quietly(clf, X, y)
    assert len(calls) == 2
    assert clf.pretrain_loss_curves_ == curves


def test_warm_start_with_a_new_architecture_pretrains_the_new_network(small_digits):
    # warm_start cannot reuse a network of another shape, so it starts from
    # new weights (with a warning); those should be pre-trained like any
    # fresh network, and the curves should describe the new hidden layers.
    X, y = small_digits
    clf = fit_quietly(small(hidden_layer_sizes=(16,), warm_start=True), X, y)
    clf.set_params(hidden_layer_sizes=(32, 8))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.warns(UserWarning, match="network changed"):
            clf.fit(X, y)
    assert len(clf.pretrain_loss_curves_) == 2
    assert all(len(curve) == 5 for curve in clf.pretrain_loss_curves_)
    random_init = initial_weights(small(hidden_layer_sizes=(32, 8),
                                        pretrain_max_iter=0), X, y)
    assert not np.allclose(clf.coefs_[0], random_init[0], atol=0.05)


@pytest.mark.numerics
@pytest.mark.parametrize("sizes", [(16,), (32, 8)], ids=["one_layer", "two_layers"])
def test_regressor_fits_diabetes_after_pre_training(diabetes_split, sizes):
    X_tr, X_te, y_tr, y_te = diabetes_split
    reg = fit_quietly(StackedPretrainedRegressor(
        hidden_layer_sizes=sizes, max_iter=200, learning_rate_init=0.01,
        pretrain_max_iter=10, alpha=1.0, random_state=0), X_tr, y_tr)
    assert len(reg.pretrain_loss_curves_) == len(sizes)
    for curve in reg.pretrain_loss_curves_:
        assert len(curve) == 10
        assert curve[-1] < curve[0]
    assert reg.score(X_te, y_te) > 0.3  # ridge regression: 0.36


def test_regressor_has_no_unlabeled_label():
    assert "unlabeled_label" not in StackedPretrainedRegressor().get_params()


def test_pickle_round_trip_keeps_predictions_and_curves(small_digits):
    X, y = small_digits
    clf = fit_quietly(small(hidden_layer_sizes=(16, 8), unlabeled_label=-1), X,
                      semi_supervised(y, 200, seed=1))
    restored = pickle.loads(pickle.dumps(clf))
    assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    assert restored.pretrain_loss_curves_ == clf.pretrain_loss_curves_
    assert restored.unlabeled_label == -1
    assert_array_equal(restored.classes_, clf.classes_)


def test_same_random_state_gives_identical_pretrained_models(small_digits):
    X, y = small_digits
    a = fit_quietly(small(pretrain_corruption_level=0.2), X, y)
    b = fit_quietly(clone(a), X, y)
    c = fit_quietly(small(pretrain_corruption_level=0.2, random_state=1), X, y)
    assert a.pretrain_loss_curves_ == b.pretrain_loss_curves_
    assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert not np.allclose(a.coefs_[0], c.coefs_[0])


def test_sample_weights_reach_the_pre_training(small_digits):
    X, y = small_digits
    w = np.random.default_rng(0).uniform(0, 2, size=len(X))
    clf = small().set_params(max_iter=1, learning_rate_init=1e-12)
    weighted = fit_quietly(clone(clf), X, y, sample_weight=w)
    unweighted = fit_quietly(clone(clf), X, y)
    assert not np.allclose(weighted.coefs_[0], unweighted.coefs_[0])
    # The first layer is the autoencoder fitted with the same weights.
    (seed,) = _layer_seeds(0, 1)
    ae = fit_quietly(AutoencoderTransformer((16,), max_iter=5, random_state=seed),
                     X, sample_weight=w)
    assert_allclose(weighted.coefs_[0], ae.coefs_[0], rtol=1e-6)
