"""Diagnosing a network that does not learn, then fixing it.
===========================================================

A deliberately broken setup: raw pixel values (0 to 255, not normalised),
tanh units and minibatch SGD with momentum at a learning rate far too high.
It trains to a poor score, and the diagnostics of :mod:`sknets.diagnostics`
say why:

- :func:`~sknets.diagnostics.unit_statistics` on the *unfitted* estimator:
  the tanh units are saturated before the first update (the inputs are too
  large), so little gradient gets through;
- :func:`~sknets.diagnostics.training_report`: the training loss bounces,
  diverges or ends far above that of a uniform guess (the learning rate is
  too high);
- :func:`~sknets.diagnostics.check_overfit`: the model cannot even learn 500
  training images by heart, and the report lists the likely causes.

The fixed setup standardises the inputs (``StandardScaler``) and lowers the
learning rate; the same diagnostics then come out clean (on MNIST the report
adds that the 30 epochs of the budget were not enough to converge) and the
test accuracy jumps. If matplotlib is installed, the figure shows both runs'
training curves (:class:`~sknets.plotting.TrainingCurvesDisplay`), against
the loss of a uniform guess, and the activations of both initial networks
(:class:`~sknets.plotting.ActivationHistogramDisplay`); it is also saved to
``diagnose_curves.png``.

Run on digits (seconds): ``python examples/diagnose_broken_setup.py``; on
MNIST (about a minute on 2 cores): ``SKNETS_DATA=/path/to/data python
examples/diagnose_broken_setup.py``.
"""

import warnings
from pathlib import Path

import numpy as np
from _compare import pyplot, save
from _datasets import load_images
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknets import MLPClassifier
from sknets.diagnostics import (
    check_overfit,
    training_report,
    unit_statistics,
)


def diagnose(title, model, X_train, y_train, X_test, y_test):
    """Print the diagnostics of ``model`` before and after fitting it."""
    print(f"\n=== {title} ===")
    print("-- before training (the initial network):")
    print(unit_statistics(model, X_train, y_train, n_samples=1000))
    print("-- can it learn 500 training images by heart?")
    print(check_overfit(model, X_train, y_train, n_samples=500))
    with warnings.catch_warnings():
        # A fixed budget of epochs; divergence recoveries show in the report.
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        model.fit(X_train, y_train)
    print("-- after training:")
    print(training_report(model))
    accuracy = model.score(X_test, y_test)
    print(f"{title}: test accuracy {accuracy:.4f}")
    return model


def plot(broken, fixed, X_train, y_train, n_classes, path):
    """Both training curves and both initial networks' activations."""
    plt = pyplot()
    if plt is None:
        return
    from sknets.plotting import ActivationHistogramDisplay, TrainingCurvesDisplay

    fig = plt.figure(figsize=(12, 7), constrained_layout=True)
    axes = fig.subplot_mosaic([["broken", "broken", "fixed", "fixed", "score", "score"],
                               ["broken init"] * 3 + ["fixed init"] * 3])
    # The broken run never validated: its loss alone. The same log scale for
    # both losses, so that their levels compare.
    axes["fixed"].sharey(axes["broken"])
    TrainingCurvesDisplay.from_estimator(broken, panels=["loss"],
                                         ax=[axes["broken"]], name="broken setup")
    TrainingCurvesDisplay.from_estimator(
        fixed, panels=["loss", "score"], ax=[axes["fixed"], axes["score"]],
        name="fixed setup")
    for name in ("broken", "fixed"):
        axes[name].set_yscale("log")
        axes[name].axhline(np.log(n_classes), color="C3", linestyle="--",
                           label="uniform guess")
        axes[name].legend()
    # Before any update (unfitted clones, as unit_statistics saw them).
    for name, model in [("broken", broken), ("fixed", fixed)]:
        ax = axes[f"{name} init"]
        ActivationHistogramDisplay.from_estimator(clone(model), X_train, y_train,
                                                  ax=ax)
        ax.set_title(f"{name} setup: hidden tanh units before training")
    fig.suptitle("A broken setup and its fix")
    save(fig, path, "training curves")


def main():
    X_train, y_train, X_test, y_test, shape, description = load_images()
    big = shape == (28, 28)
    print(f"data: {description}; {len(X_train)} training, {len(X_test)} test images")
    # Pixels as a camera or a file gives them: 0 to 255.
    X_train_raw, X_test_raw = 255 * X_train, 255 * X_test
    epochs = 30 if big else 40
    network = dict(hidden_layer_sizes=(100,), activation="tanh", solver="sgd",
                   momentum=0.9, max_iter=epochs, random_state=0)

    broken = MLPClassifier(learning_rate_init=0.5, **network)
    diagnose("broken setup", broken, X_train_raw, y_train, X_test_raw, y_test)

    fixed = make_pipeline(
        StandardScaler(),
        MLPClassifier(learning_rate_init=0.01, early_stopping=True, **network),
    )
    diagnose("fixed setup", fixed, X_train_raw, y_train, X_test_raw, y_test)
    plot(broken, fixed, X_train_raw, y_train, len(set(y_train)),
         Path("diagnose_curves.png"))


if __name__ == "__main__":
    main()
