"""The diagnostics (gradients, overfitting, units, history) and the quick-start
example: each check on constructed cases whose answer is known, both ways."""

import runpy
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_iris, make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknets import (
    AutoencoderTransformer,
    MLPClassifier,
    MLPRegressor,
    StackedPretrainedClassifier,
)
from sknets._engine import activations
from sknets.diagnostics import (
    Finding,
    GradientCheckReport,
    OverfitReport,
    TrainingReport,
    UnitStatisticsReport,
    check_gradients,
    check_overfit,
    training_report,
    unit_statistics,
)

X_IRIS, Y_IRIS = load_iris(return_X_y=True)
X_SMALL, Y_SMALL = X_IRIS[::5], Y_IRIS[::5]

OPTIONS = [
    dict(),
    dict(activation="tanh", alpha=0.1, l1_alpha=0.01),
    dict(activation="logistic", batch_norm=True),
    dict(solver="sgd", dropout=0.5, input_dropout=0.2, batch_norm=True),
]


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("fitted", [False, True])
def test_check_gradients_passes_on_correct_backprop(options, fitted):
    clf = MLPClassifier(hidden_layer_sizes=(6, 5), random_state=0, max_iter=20,
                        **options)
    if fitted:
        clf.fit(X_IRIS, Y_IRIS)
    before = None if not fitted else clf.predict_proba(X_IRIS).copy()
    report = check_gradients(clf, X_SMALL, Y_SMALL, max_entries=None)
    assert isinstance(report, GradientCheckReport)
    assert report.passed, str(report)
    n_hidden = 2
    assert {f"dense{i}.W" for i in range(n_hidden + 1)} <= set(report.errors)
    if fitted:  # the check must not disturb the estimator
        np.testing.assert_array_equal(clf.predict_proba(X_IRIS), before)
    else:
        assert not hasattr(clf, "n_iter_")


@pytest.mark.numerics
def test_check_gradients_catches_a_wrong_backward(monkeypatch):
    forward, _ = activations.ACTIVATIONS["tanh"]

    def wrong_backward(A, dA, scratch=None):
        dA *= 1.0 - A  # the derivative of tanh is 1 - A**2
        return dA

    monkeypatch.setitem(activations.ACTIVATIONS, "tanh", (forward, wrong_backward))
    clf = MLPClassifier(hidden_layer_sizes=(6,), activation="tanh", random_state=0)
    report = check_gradients(clf, X_SMALL, Y_SMALL)
    assert not report.passed
    assert report.errors["dense0.W"] > 1e-2
    assert "too large" in str(report)


def test_check_gradients_uses_the_estimator_penalty():
    # The penalty gradient is part of what is checked: a report on a model
    # with weight decay still passes (the analytic penalty term is right).
    clf = MLPClassifier(hidden_layer_sizes=(4,), alpha=10.0, l1_alpha=1.0,
                        random_state=0)
    assert check_gradients(clf, X_SMALL, Y_SMALL, max_entries=None).passed


@pytest.mark.numerics
def test_quickstart_example_runs(capsys):
    path = Path(__file__).parents[1] / "examples" / "digits_quickstart.py"
    runpy.run_path(str(path), run_name="__main__")
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if "MLPClassifier" in line]
    assert len(lines) == 2
    accuracies = [float(line.split()[-3]) for line in out.splitlines()
                  if line.startswith(("scikit", "sknets"))]
    assert len(accuracies) == 6
    assert min(accuracies) > 0.9


# -- shared data for the checks below -------------------------------------------

X_DIGITS, Y_DIGITS = load_digits(return_X_y=True)
X_UNIT = X_DIGITS / 16  # pixels in [0, 1]
X_STD = StandardScaler().fit_transform(X_DIGITS)
quiet = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def codes(report):
    return [finding.code for finding in report.findings]


def fitted(**params):
    params = {"hidden_layer_sizes": (30,), "max_iter": 30, "random_state": 0,
              **params}
    return MLPClassifier(**params).fit(X_STD[:500], Y_DIGITS[:500])


# -- unit_statistics ----------------------------------------------------------------


@pytest.mark.numerics
@quiet
@pytest.mark.parametrize("activation", ["tanh", "logistic"])
def test_huge_weights_are_reported_saturated(activation):
    clf = fitted(activation=activation)
    healthy = unit_statistics(clf, X_STD)
    assert healthy.layers[0].saturated_fraction < 0.25
    assert "saturated_units" not in codes(healthy)

    clf.coefs_ = [100 * W for W in clf.coefs_]
    report = unit_statistics(clf, X_STD)
    assert report.layers[0].saturated_fraction > 0.9
    assert "saturated_units" in codes(report)
    assert "StandardScaler" in report.findings[0].remedy


@pytest.mark.numerics
@quiet
def test_relu_layer_with_negative_biases_is_reported_dead():
    clf = fitted(activation="relu")
    healthy = unit_statistics(clf, X_STD)
    assert healthy.layers[0].dead_fraction < 0.25
    assert healthy.layers[0].saturated_fraction is None  # relu cannot saturate
    assert "dead_units" not in codes(healthy)

    clf.intercepts_ = [np.full_like(clf.intercepts_[0], -1e3), clf.intercepts_[1]]
    report = unit_statistics(clf, X_STD)
    layer = report.layers[0]
    assert layer.dead_fraction == 1.0
    assert layer.sparsity == 1.0
    np.testing.assert_array_equal(layer.dead_units, np.arange(30))
    assert codes(report) == ["dead_units"]  # dead units are not also "constant"


@pytest.mark.numerics
@quiet
def test_identical_units_are_reported_correlated():
    clf = fitted(activation="tanh")
    assert unit_statistics(clf, X_STD).layers[0].mean_abs_correlation < 0.8
    W, b = clf.coefs_[0], clf.intercepts_[0]
    # Every unit gets the first unit's weights, up to a small perturbation.
    noise = np.random.default_rng(0).normal(scale=1e-3, size=W.shape)
    clf.coefs_ = [W[:, :1] + noise.astype(W.dtype), clf.coefs_[1]]
    clf.intercepts_ = [np.full_like(b, b[0]), clf.intercepts_[1]]
    report = unit_statistics(clf, X_STD)
    assert report.layers[0].mean_abs_correlation > 0.99
    assert "correlated_units" in codes(report)


@pytest.mark.numerics
def test_unit_statistics_of_the_initial_network():
    clf = MLPClassifier(hidden_layer_sizes=(20, 10), activation="tanh",
                        random_state=0)
    # Raw pixels (0 to 16) saturate tanh units before any update ...
    raw = unit_statistics(clf, X_DIGITS, Y_DIGITS)
    assert raw.at_initialization
    assert raw.layers[0].saturated_fraction > 0.5
    assert "at initialisation" in raw.findings[0].message
    # ... standardised inputs do not.
    scaled = unit_statistics(clf, X_STD, Y_DIGITS)
    assert scaled.layers[0].saturated_fraction < 0.25
    assert not hasattr(clf, "n_iter_")  # the estimator is left unfitted
    with pytest.raises(ValueError, match="pass y"):
        unit_statistics(clf, X_STD)
    # Batch normalisation sees the raw pixels normalised, as in training.
    normalised = unit_statistics(clf.set_params(batch_norm=True), X_DIGITS, Y_DIGITS)
    assert normalised.layers[0].saturated_fraction < 0.25


def test_unit_statistics_report_layout():
    clf = MLPClassifier(hidden_layer_sizes=(6, 4), random_state=0)
    report = unit_statistics(clf, X_STD, Y_DIGITS, n_samples=100)
    assert isinstance(report, UnitStatisticsReport)
    assert report.n_samples == 100
    assert [s.name for s in report.layers] == ["hidden1", "hidden2"]
    assert [s.n_units for s in report.layers] == [6, 4]
    text = str(report)
    assert "initial network" in text and "hidden2" in text and "dead" in text


@quiet
def test_unit_statistics_of_autoencoders_and_pipelines():
    autoencoder = AutoencoderTransformer(hidden_layer_sizes=(16, 8), random_state=0)
    # Encoder layers 16 and 8, then the hidden decoder layer of 16.
    report = unit_statistics(autoencoder, X_UNIT)
    assert [s.n_units for s in report.layers] == [16, 8, 16]
    pipe = make_pipeline(StandardScaler(), MLPClassifier(
        hidden_layer_sizes=(12,), max_iter=20, random_state=0))
    pipe.fit(X_DIGITS[:300], Y_DIGITS[:300])
    report = unit_statistics(pipe, X_DIGITS[:300])
    assert not report.at_initialization
    assert report.layers[0].n_units == 12


# -- training_report ------------------------------------------------------------------


@pytest.mark.parametrize("params, X", [
    (dict(solver="adam", learning_rate_init=0.5), X_STD),
    (dict(solver="sgd", learning_rate_init=2.0, momentum=0.9), X_DIGITS),
])
def test_too_high_learning_rate_is_reported(params, X):
    clf = MLPClassifier(hidden_layer_sizes=(50,), max_iter=40, random_state=0,
                        **params).fit(X, Y_DIGITS)
    report = training_report(clf)
    found = [f for f in report.findings if f.code in ("bouncing", "diverging")]
    assert found, str(report)
    assert "learning rate" in found[0].remedy.lower()
    assert not report.healthy


@quiet
def test_healthy_training_is_not_reported_as_a_problem():
    clf = MLPClassifier(hidden_layer_sizes=(30,), early_stopping=True,
                        random_state=0).fit(X_STD, Y_DIGITS)
    report = training_report(clf)
    assert isinstance(report, TrainingReport)
    assert report.healthy, str(report)
    assert codes(report) == ["early_stopped"]
    assert report.best_epoch == 1 + int(np.argmax(clf.validation_scores_))
    assert report.best_validation_score == pytest.approx(
        max(clf.validation_scores_))


@quiet
def test_recovery_from_divergence_is_reported():
    with pytest.warns(RuntimeWarning, match="exploded"):
        clf = MLPClassifier(hidden_layer_sizes=(50,), solver="sgd",
                            learning_rate_init=10.0, max_iter=15,
                            random_state=0).fit(X_STD, Y_DIGITS)
    report = training_report(clf)
    assert "divergence_recovered" in codes(report)


@quiet
def test_learning_rate_cuts_are_reported_as_events():
    clf = MLPClassifier(hidden_layer_sizes=(30,), solver="sgd",
                        learning_rate_init=0.1, learning_rate="halving",
                        n_iter_no_change=2, early_stopping=True, max_iter=40,
                        random_state=0).fit(X_STD[:500], Y_DIGITS[:500])
    report = training_report(clf)
    cut = [f for f in report.findings if f.code == "learning_rate_lowered"]
    assert cut and cut[0].level == "info"


@quiet
def test_overfitting_and_underfitting_are_told_apart():
    overfit = MLPClassifier(
        hidden_layer_sizes=(200,), learning_rate_init=0.01, early_stopping=True,
        validation_fraction=0.5, n_iter_no_change=50, max_iter=300,
        random_state=0,
    ).fit(X_STD[:200], Y_DIGITS[:200])
    report = training_report(overfit)
    assert "overfitting" in codes(report)
    assert "underfitting" not in codes(report)

    underfit = MLPClassifier(hidden_layer_sizes=(1,), max_iter=20,
                             random_state=0).fit(X_STD[:500], Y_DIGITS[:500])
    report = training_report(underfit)
    assert "underfitting" in codes(report)
    assert "overfitting" not in codes(report)


@quiet
def test_training_cut_short_is_reported_as_not_converged():
    report = training_report(fitted(max_iter=5))
    assert codes(report) == ["not_converged"]
    assert "max_iter" in report.findings[0].remedy


# Histories with a known answer: (training losses, expected warning codes).
HISTORIES = [
    ([2.0, 1.5, 1.0, 0.7, 0.5, 0.4, 0.35, 0.33], []),
    ([2.0, 1.0, 1.6, 0.9, 1.5, 0.8, 1.4, 0.9], ["bouncing"]),
    ([2.0, 1.0, 0.8, 1.2, 1.8, 2.2], ["diverging"]),
    ([2.0, 1.0, 0.5, 0.2, 0.1, 0.05, 0.02, 0.021, 0.02, 0.0205], []),  # noise
    ([60.0, 55.0, 52.0, 50.0, 50.5, 50.0], ["worse_than_chance"]),  # 10 classes
]


@quiet
@pytest.mark.parametrize("losses, expected", HISTORIES)
def test_training_report_rules_on_known_histories(losses, expected):
    clf = fitted(max_iter=100)  # any fitted estimator; its history replaced
    clf.history_ = [{"epoch": i + 1, "train_loss": loss, "learning_rate": 0.01}
                    for i, loss in enumerate(losses)]
    clf.n_iter_ = len(losses)
    report = training_report(clf)
    warnings_ = [f.code for f in report.findings
                 if f.level == "warning" and f.code != "underfitting"]
    assert warnings_ == expected, str(report)


def test_training_report_without_history():
    clf = MLPClassifier(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=50,
                        random_state=0).fit(X_STD[:100], Y_DIGITS[:100])
    report = training_report(clf)
    assert codes(report) == ["no_history"]
    assert report.healthy


def test_findings_print_their_remedy():
    finding = Finding("bouncing", "the loss went up", "lower the rate")
    assert str(finding) == "[warning] bouncing: the loss went up\n    -> lower the rate"


# -- check_overfit ------------------------------------------------------------


@pytest.mark.numerics
def test_correct_model_passes_the_overfit_check():
    clf = MLPClassifier(hidden_layer_sizes=(30,), random_state=0)
    report = check_overfit(clf, X_UNIT, Y_DIGITS, n_samples=200)
    assert isinstance(report, OverfitReport)
    assert report.passed, str(report)
    assert report.score >= 0.99 and report.n_samples == 200
    assert report.final_loss < report.initial_loss
    assert report.findings == []
    assert "passed" in str(report)
    assert not hasattr(clf, "n_iter_")  # the estimator itself is not fitted


@pytest.mark.parametrize("params", [
    dict(solver="sgd", learning_rate_init=1e-7),
    dict(solver="sgd", momentum=0.9, learning_rate_init=1e-8),
    dict(learning_rate_init=1e-8),
])
def test_crippled_model_fails_the_overfit_check(params):
    clf = MLPClassifier(hidden_layer_sizes=(30,), random_state=0, **params)
    report = check_overfit(clf, X_UNIT, Y_DIGITS, n_samples=200)
    assert not report.passed
    assert "learning_rate_too_low" in codes(report)
    assert "FAILED" in str(report) and "learning_rate_init" in str(report)


def test_overfit_check_switches_regularisation_off():
    clf = MLPClassifier(hidden_layer_sizes=(30,), alpha=100.0, dropout=0.5,
                        early_stopping=True, random_state=0)
    report = check_overfit(clf, X_UNIT, Y_DIGITS, n_samples=200)
    assert report.passed, str(report)
    params = report.model.get_params()
    assert (params["alpha"], params["dropout"], params["early_stopping"]) == (
        0.0, 0.0, False)
    assert clf.alpha == 100.0


@pytest.mark.parametrize("params, X, expected", [
    (dict(hidden_layer_sizes=(2,)), X_UNIT, "too_few_units"),
    (dict(activation="tanh", solver="sgd", learning_rate_init=1e-6),
     10 * X_DIGITS, "saturated_units"),
    (dict(activation="tanh", solver="sgd", learning_rate_init=1e-6),
     10 * X_DIGITS, "unnormalised_inputs"),
])
def test_failed_overfit_check_names_the_cause(params, X, expected):
    params = {"hidden_layer_sizes": (30,), "random_state": 0, **params}
    report = check_overfit(MLPClassifier(**params), X, Y_DIGITS, n_samples=200,
                           max_iter=300)
    assert not report.passed
    assert expected in codes(report), str(report)


def test_overfit_check_on_regressors_and_their_target_scale():
    X, y = make_friedman1(200, random_state=0)
    y = (y - y.mean()) / y.std()
    reg = MLPRegressor(hidden_layer_sizes=(50,), learning_rate_init=0.01,
                       random_state=0)
    report = check_overfit(reg, X, y)
    assert report.metric == "training R^2"
    assert report.passed, str(report)
    report = check_overfit(reg, X, 1000 * y, max_iter=100)
    assert not report.passed
    assert "unscaled_target" in codes(report)


def test_overfit_check_on_autoencoders_pipelines_and_pretrained_nets():
    autoencoder = AutoencoderTransformer(hidden_layer_sizes=(8,), activation="relu",
                                         learning_rate_init=0.01, random_state=0)
    report = check_overfit(autoencoder, X_UNIT, n_samples=200)
    assert report.metric == "reconstruction R^2"
    assert report.passed, str(report)
    pipe = make_pipeline(StandardScaler(), MLPClassifier(
        hidden_layer_sizes=(30,), random_state=0))
    assert check_overfit(pipe, X_DIGITS, Y_DIGITS, n_samples=200).passed
    pretrained = StackedPretrainedClassifier(hidden_layer_sizes=(30,),
                                             pretrain_max_iter=2, random_state=0)
    assert check_overfit(pretrained, X_UNIT, Y_DIGITS, n_samples=200).passed


def test_overfit_check_raises_no_convergence_warning():
    clf = MLPClassifier(hidden_layer_sizes=(30,), max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        check_overfit(clf, X_UNIT, Y_DIGITS, n_samples=100, max_iter=20)
