"""The displays draw what they claim, headless, on given or new axes."""

import sys

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_iris
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknets import AutoencoderTransformer, MLPClassifier
from sknets.plotting import (
    ActivationHistogramDisplay,
    TrainingCurvesDisplay,
    UnitCorrelationDisplay,
    WeightTilesDisplay,
)

X_DIGITS, Y_DIGITS = load_digits(return_X_y=True)
X_UNIT = X_DIGITS[:300] / 16
Y_UNIT = Y_DIGITS[:300]
quiet = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture
def plt():
    matplotlib = pytest.importorskip(
        "matplotlib", reason="the plots need matplotlib (pip install matplotlib)"
    )
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


@pytest.fixture(scope="module")
def validated_clf():
    return MLPClassifier(hidden_layer_sizes=(16, 9), max_iter=15,
                         early_stopping=True, random_state=0).fit(X_UNIT, Y_UNIT)


@quiet
def test_training_curves_of_a_validated_fit(plt, validated_clf):
    display = TrainingCurvesDisplay.from_estimator(validated_clf)
    # Adam at a constant rate: no learning-rate panel.
    assert set(display.lines_) == {"train_loss", "val_loss", "val_score"}
    assert len(display.axes_) == 2
    assert display.ax_ is display.axes_[0]
    assert display.figure_ is display.ax_.figure
    n_epochs = len(validated_clf.history_)
    np.testing.assert_allclose(display.lines_["train_loss"].get_ydata(),
                               validated_clf.loss_curve_)
    assert len(display.lines_["val_score"].get_xdata()) == n_epochs
    best = display.best_epoch_line_.get_xdata()[0]
    assert best == 1 + int(np.argmax(validated_clf.validation_scores_))


@quiet
def test_constant_learning_rate_is_stated_not_drawn(plt, validated_clf):
    assert len({h["learning_rate"] for h in validated_clf.history_}) == 1
    display = TrainingCurvesDisplay.from_estimator(validated_clf)
    assert len(display.figure_.axes) == 2  # loss and score only
    assert "learning_rate" not in display.lines_
    assert display.constant_learning_rate_ == pytest.approx(0.001)
    assert display.ax_.get_title() == "MLPClassifier, learning rate 0.001 (constant)"
    # Asked for, the flat panel is drawn all the same, and not restated.
    _, axes = plt.subplots(1, 3)
    display.plot(ax=axes, panels=["loss", "score", "learning_rate"])
    assert "learning_rate" in display.lines_
    assert display.ax_.get_title() == "MLPClassifier"


@quiet
@pytest.mark.parametrize("schedule", ["invscaling", "halving"])
def test_changing_learning_rate_gets_its_panel(plt, schedule):
    clf = MLPClassifier(hidden_layer_sizes=(8,), solver="sgd",
                        learning_rate=schedule, max_iter=15, early_stopping=True,
                        random_state=0).fit(X_UNIT, Y_UNIT)
    rates = [h["learning_rate"] for h in clf.history_]
    assert len(set(rates)) > 1  # the schedule did change the rate
    display = TrainingCurvesDisplay.from_estimator(clf)
    assert len(display.figure_.axes) == 3
    assert display.constant_learning_rate_ is None
    rate_axes = display.axes_[2]
    assert rate_axes.get_ylabel() == "learning rate"
    assert rate_axes.get_yscale() == "log"
    np.testing.assert_allclose(display.lines_["learning_rate"].get_ydata(), rates)
    assert "constant" not in display.ax_.get_title()


@quiet
def test_best_epoch_line_is_labelled_in_the_legends(plt, validated_clf):
    display = TrainingCurvesDisplay.from_estimator(validated_clf)
    best = 1 + int(np.argmax(validated_clf.validation_scores_))
    label = f"best epoch {best}"
    assert display.best_epoch_line_.get_label() == label
    assert display.best_epoch_line_.axes is display.ax_
    for axis in display.axes_:  # the loss and the score panels
        assert label in [t.get_text() for t in axis.get_legend().get_texts()]


@quiet
def test_training_curves_on_given_axes(plt, validated_clf):
    fig, axes = plt.subplots(1, 2)
    display = TrainingCurvesDisplay.from_estimator(
        validated_clf, panels=["loss", "learning_rate"], ax=axes)
    assert display.figure_ is fig
    assert len(axes[0].get_lines()) == 3  # training, validation, best epoch
    assert len(axes[1].get_lines()) == 1
    # Replotting on one axes draws one panel.
    _, ax = plt.subplots()
    display.plot(ax=ax, panels=["score"])
    assert list(display.lines_) == ["val_score"] and display.ax_ is ax
    with pytest.raises(ValueError, match="Expected 2 axes"):
        display.plot(ax=ax, panels=["loss", "score"])
    with pytest.raises(ValueError, match="panels"):
        display.plot(panels=["accuracy"])


@quiet
def test_training_curves_without_validation_and_without_history(plt):
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=10,
                        random_state=0).fit(X_UNIT, Y_UNIT)
    display = TrainingCurvesDisplay.from_estimator(clf)
    assert set(display.lines_) == {"train_loss"}  # constant rate: not drawn
    assert len(display.figure_.axes) == 1
    assert display.best_epoch_line_ is None
    with pytest.raises(ValueError, match="panels"):
        display.plot(panels=["score"])
    lbfgs = MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=10,
                          random_state=0).fit(X_UNIT, Y_UNIT)
    with pytest.raises(ValueError, match="no per-epoch history"):
        TrainingCurvesDisplay.from_estimator(lbfgs)


@quiet
def test_weight_tiles_of_an_mlp_and_an_autoencoder(plt, validated_clf):
    display = WeightTilesDisplay.from_estimator(validated_clf)  # 8x8 inferred
    assert len(display.images_) == 16
    assert display.images_[0].get_array().shape == (8, 8)
    autoencoder = AutoencoderTransformer(hidden_layer_sizes=(20,), max_iter=5,
                                         random_state=0).fit(X_UNIT)
    _, ax = plt.subplots()
    display = WeightTilesDisplay.from_estimator(autoencoder, max_tiles=12,
                                                image_shape=(4, 16), ax=ax)
    assert display.ax_ is ax and len(ax.images) == 12
    assert display.images_[0].get_array().shape == (4, 16)
    low, high = display.images_[0].get_clim()
    assert low == -high


@quiet
def test_weight_tiles_share_one_symmetric_scale_with_a_colour_bar(
        plt, validated_clf):
    display = WeightTilesDisplay.from_estimator(validated_clf, max_tiles=10)
    W = validated_clf.coefs_[0]
    vmax = np.abs(W[:, :10]).max()
    assert {image.get_clim() for image in display.images_} == {(-vmax, vmax)}
    assert display.vmax_ == pytest.approx(vmax)
    assert display.colorbar_ is not None
    assert display.colorbar_.mappable is display.images_[0]
    assert display.colorbar_.vmin == -vmax and display.colorbar_.vmax == vmax
    assert len(display.figure_.axes) == 2  # the tiles and the colour bar
    # One norm for all: rescaling one tile rescales every tile.
    display.images_[0].set_clim(-1, 1)
    assert {image.get_clim() for image in display.images_} == {(-1, 1)}
    # A robust scale: the 99th percentile of |w| over the tiles drawn.
    display = WeightTilesDisplay(W).plot(max_tiles=10, percentile=99,
                                         colorbar=False)
    v = np.percentile(np.abs(W[:, :10]), 99)
    assert v < vmax
    assert {image.get_clim() for image in display.images_} == {(-v, v)}
    assert display.colorbar_ is None
    with pytest.raises(ValueError, match="percentile"):
        WeightTilesDisplay(W).plot(percentile=0)
    # The scale is over the tiles drawn: a unit left out does not set it.
    W = np.random.default_rng(0).normal(size=(16, 3))
    W[:, 2] *= 100
    display = WeightTilesDisplay(W).plot(max_tiles=2)
    assert display.vmax_ == np.abs(W[:, :2]).max()
    # All-zero weights still draw, on a unit scale.
    display = WeightTilesDisplay(np.zeros((4, 2))).plot()
    assert display.images_[1].get_clim() == (-1.0, 1.0)


def test_weight_tiles_need_an_image_shape(plt):
    with pytest.raises(ValueError, match="image_shape"):
        WeightTilesDisplay(np.ones((10, 3))).plot()
    with pytest.raises(ValueError, match="does not hold"):
        WeightTilesDisplay(np.ones((10, 3)), image_shape=(3, 3)).plot()


@quiet
def test_activation_histograms(plt, validated_clf):
    display = ActivationHistogramDisplay.from_estimator(validated_clf, X_UNIT)
    assert len(display.patches_) == 2
    assert [p.get_label() for p in display.patches_] == [
        "hidden1 (relu)", "hidden2 (relu)"]
    _, ax = plt.subplots()
    X, y = load_iris(return_X_y=True)
    unfitted = MLPClassifier(hidden_layer_sizes=(8, 8, 8), activation="tanh")
    display = ActivationHistogramDisplay.from_estimator(
        unfitted, X, y, layers=[0, 2], ax=ax)
    assert display.ax_ is ax and len(display.patches_) == 2
    assert "initial" in display.patches_[0].get_label()


@quiet
def test_unit_correlation_matrix(plt, validated_clf):
    display = UnitCorrelationDisplay.from_estimator(validated_clf, X_UNIT, layer=1)
    assert display.im_.get_array().shape == (9, 9)
    assert display.colorbar_ is not None
    _, ax = plt.subplots()
    pipe = make_pipeline(StandardScaler(), MLPClassifier(
        hidden_layer_sizes=(5,), max_iter=5, random_state=0))
    pipe.fit(X_DIGITS[:200], Y_DIGITS[:200])
    display = UnitCorrelationDisplay.from_estimator(pipe, X_DIGITS[:200], ax=ax,
                                                    colorbar=False)
    C = np.asarray(display.im_.get_array())
    assert display.ax_ is ax and display.colorbar_ is None
    np.testing.assert_allclose(np.diag(C)[np.isfinite(np.diag(C))], 1.0)


@quiet
def test_missing_matplotlib_is_a_clear_import_error(monkeypatch, validated_clf):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    install = r"pip install matplotlib .*pip install \"\.\[plot\]\""
    with pytest.raises(ImportError, match=install):
        TrainingCurvesDisplay.from_estimator(validated_clf)
    with pytest.raises(ImportError, match="matplotlib"):
        WeightTilesDisplay.from_estimator(validated_clf)
