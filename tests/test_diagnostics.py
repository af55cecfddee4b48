"""The public gradient check, and the quick-start example."""

import runpy
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_iris

from sknets import MLPClassifier
from sknets._engine import activations
from sknets.diagnostics import GradientCheckReport, check_gradients

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


def test_check_gradients_catches_a_wrong_backward(monkeypatch):
    forward, _ = activations.ACTIVATIONS["tanh"]

    def wrong_backward(A, dA):
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
