"""Details of pre-training and autoencoders found in review."""

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from sknets import AutoencoderTransformer, StackedPretrainedClassifier
from sknets._engine.trainer import Trainer
from sknets.diagnostics import check_gradients

X_DIGITS, Y_DIGITS = load_digits(return_X_y=True)
X01 = (X_DIGITS[:300] / 16).astype(np.float32)
Y = Y_DIGITS[:300]


def quiet_fit(estimator, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return estimator.fit(*args, **kwargs)


def small(**params):
    return StackedPretrainedClassifier(**{
        "hidden_layer_sizes": (16, 8), "pretrain_max_iter": 3, "max_iter": 5,
        "random_state": 0, **params,
    })


def test_pretrained_classifier_keeps_dataframe_feature_names():
    frame = pd.DataFrame(X01, columns=[f"pixel{i}" for i in range(64)])
    y = Y.copy()
    y[::3] = -1
    clf = quiet_fit(small(unlabeled_label=-1), frame, y)
    assert list(clf.feature_names_in_) == list(frame.columns)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf.predict(frame)


@pytest.mark.numerics
def test_batch_norm_starts_as_the_identity_on_pretrained_codes():
    # With no fine-tuning step at all, the hidden layers compute the
    # pre-trained encoders, batch normalisation or not.
    with_bn = small(batch_norm=True, learning_rate_init=1e-12, max_iter=1)
    without = small(learning_rate_init=1e-12, max_iter=1)
    quiet_fit(with_bn, X01, Y)
    quiet_fit(without, X01, Y)
    codes_bn = with_bn._network.forward(X01, stop=-1)
    codes = without._network.forward(X01, stop=-1)
    # Equal up to the drift of the running statistics in the one epoch.
    np.testing.assert_allclose(codes_bn, codes, atol=0.01)
    # Plain batch normalisation (gamma 1, beta 0) would be far from it.
    for layer in with_bn._network.layers:
        if "gamma" in layer.params:
            layer.params["gamma"][...] = 1
            layer.params["beta"][...] = 0
    assert np.abs(with_bn._network.forward(X01, stop=-1) - codes).max() > 0.1


def test_ctrl_c_during_pretraining_leaves_the_estimator_unfitted(monkeypatch):
    calls = {"n": 0}
    real = Trainer._run_epoch

    def interrupting(self, *args):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(self, *args)

    monkeypatch.setattr(Trainer, "_run_epoch", interrupting)
    clf = small()
    with pytest.warns(UserWarning, match="during the pre-training"):
        with pytest.raises(KeyboardInterrupt):
            clf.fit(X01, Y)
    assert not hasattr(clf, "classes_")


@pytest.mark.parametrize("method", ["fit", "predict", "partial_fit"])
def test_pretrained_classifier_refuses_sparse_input(method):
    clf = small()
    if method != "fit":
        quiet_fit(clf, X01, Y)
    args = (sp.csr_matrix(X01),) + ((Y,) if method != "predict" else ())
    with pytest.raises(TypeError, match="[Ss]parse"):
        getattr(clf, method)(*args)


def test_partial_fit_skips_a_chunk_without_labels():
    clf = quiet_fit(small(unlabeled_label=-1), X01, Y)
    before = clf.predict_proba(X01)
    clf.partial_fit(X01[:20], np.full(20, -1))
    np.testing.assert_array_equal(clf.predict_proba(X01), before)


@pytest.mark.parametrize("level", [1.0, 3.0])
def test_a_masking_level_of_one_or_more_is_refused(level):
    with pytest.raises(ValueError, match="must be < 1"):
        AutoencoderTransformer(corruption_level=level).fit(X01)
    with pytest.raises(ValueError, match="must be < 1"):
        small(pretrain_corruption_level=level).fit(X01, Y)


def test_label_errors_come_before_pretraining(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("pre-training ran")

    monkeypatch.setattr(StackedPretrainedClassifier, "_pretrain", fail)
    with pytest.raises(ValueError, match="Unknown label type"):
        small().fit(X01, np.linspace(0, 1, len(X01)))


def test_autoencoder_counts_its_layers_and_checks_its_gradients():
    ae = quiet_fit(AutoencoderTransformer(hidden_layer_sizes=(8, 4), max_iter=3,
                                          random_state=0), X01)
    assert ae.n_layers_ == 5
    assert check_gradients(ae, X01[:20], None).passed


def test_autoencoder_partial_fit_refuses_a_changed_loss():
    ae = AutoencoderTransformer(hidden_layer_sizes=(8,), random_state=0)
    ae.partial_fit(X01)
    ae.set_params(loss="squared_error")
    with pytest.raises(ValueError, match="differs from the fitted loss"):
        ae.partial_fit(X01)


def _dead_unit_warnings(record):
    return [str(w.message) for w in record
            if str(w.message).startswith("After pre-training")]


@pytest.mark.numerics
def test_a_pretraining_rate_that_kills_the_relu_units_is_reported():
    # Rate 1 drives every relu unit of the first layer below zero on every
    # row; the classifier fine-tuned on top is stuck near chance level, which
    # must not pass in silence.
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        clf = small(activation="relu", pretrain_learning_rate_init=1.0).fit(X01, Y)
    messages = _dead_unit_warnings(record)
    assert any("16 of the 16 relu units of hidden layer 1" in m for m in messages)
    assert all("pretrain_learning_rate_init (now 1)" in m for m in messages)
    assert all(issubclass(w.category, ConvergenceWarning) for w in record
               if str(w.message).startswith("After pre-training"))
    assert clf.score(X01, Y) < 0.2
    # A sound rate keeps the layers alive, and nothing is said.
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        small(activation="relu").fit(X01, Y)
    assert _dead_unit_warnings(record) == []


@pytest.mark.parametrize("activation, n_dead, warns", [
    ("relu", 3, True), ("relu", 2, False), ("logistic", 4, False),
])
def test_dead_units_warning_needs_most_of_a_relu_layer(activation, n_dead, warns):
    pre = np.ones((10, 4), dtype=np.float32)
    pre[:, :n_dead] = -1.0
    pre[0, 0] = 0.0  # exactly 0 is not active either
    clf = small(activation=activation)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        clf._warn_if_dead(pre, 1)
    messages = _dead_unit_warnings(record)
    assert len(messages) == warns
    if warns:
        assert f"{n_dead} of the 4 relu units of hidden layer 2" in messages[0]


def test_a_layer_dead_after_pretraining_is_not_reported_again():
    # Pre-training at rate 1 kills hidden layer 1, and fine-tuning cannot
    # revive it: the check after fine-tuning sees it dead too, but the cause
    # was reported once, with the right remedy (the pre-training rate); the
    # second warning would blame learning_rate_init instead.
    def fine_tuning_warnings(clf, X):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            clf.fit(X, Y)
        messages = [str(w.message) for w in record]
        return (_dead_unit_warnings(record),
                [m for m in messages if "training samples checked" in m])

    clf = small(activation="relu", pretrain_learning_rate_init=1.0)
    pretraining, fine_tuning = fine_tuning_warnings(clf, X01)
    assert any("hidden layer 1 " in m for m in pretraining)
    assert not any("hidden layer 1 " in m for m in fine_tuning)
    # The layer is still dead after fine-tuning: without the report from
    # pre-training, the check would have warned about it.
    clf._pretrain_dead_layers = set()
    with pytest.warns(ConvergenceWarning, match="of hidden layer 1 output 0"):
        clf._check_dead_layers(clf._network, X01, None)
    # A refit without pre-training forgets that report: a layer killed by
    # the fine-tuning itself (rate 0.5) is reported.
    clf.set_params(pretrain_max_iter=0, learning_rate_init=0.5)
    pretraining, fine_tuning = fine_tuning_warnings(clf, X01)
    assert pretraining == []
    assert any("of hidden layer 1 " in m for m in fine_tuning)
