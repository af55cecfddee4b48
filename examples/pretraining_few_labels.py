"""Greedy layer-wise pre-training with few labels.
===============================================

Pre-trains the hidden layers of a deep logistic network as denoising
autoencoders on every training image (labelled or not), then fine-tunes on the
labelled ones, and compares with the same network trained from random
initialisation on the labelled images only; then the same with every label.
Pre-training matters most where random initialisation struggles: deep
logistic networks and few labels. Unlabelled images are marked ``-1`` in ``y``
(``unlabeled_label=-1``), scikit-learn's convention for semi-supervised
learning. If matplotlib is installed, a bar chart shows the test error and
the fit time of both networks for each number of labels.

Run on digits (seconds): ``python examples/pretraining_few_labels.py``; on
MNIST with 1000 labels (several minutes on 2 cores): ``SKNETS_DATA=/path/to/data
python examples/pretraining_few_labels.py``.
"""

import time
import warnings

import numpy as np
from _compare import pyplot
from _datasets import load_images
from sklearn.exceptions import ConvergenceWarning

from sknets import StackedPretrainedClassifier


def make_model(sizes, pretrain_epochs, seed, n_labeled):
    # With few labels, a fixed number of epochs; with many, early stopping.
    many = n_labeled > 5000
    return StackedPretrainedClassifier(
        hidden_layer_sizes=sizes, activation="logistic",
        pretrain_max_iter=pretrain_epochs, pretrain_learning_rate_init=0.003,
        pretrain_corruption_level=0.2, unlabeled_label=-1,
        learning_rate_init=0.003 if not many else 0.001,
        max_iter=200 if not many else 100, early_stopping=many,
        n_iter_no_change=5, batch_size=32 if not many else 128,
        random_state=seed,
    )


def run(X_train, y_train, X_test, y_test, n_labeled, sizes, pretrain_epochs, seed):
    """Test accuracy with and without pre-training for one labelled subset."""
    rng = np.random.default_rng(seed)
    y = np.full(len(y_train), -1)
    labeled = rng.choice(len(y_train), size=n_labeled, replace=False)
    y[labeled] = y_train[labeled]
    scores = {}
    for name, epochs in [("pre-trained", pretrain_epochs), ("random init", 0)]:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = make_model(sizes, epochs, seed, n_labeled).fit(X_train, y)
        scores[name] = (model.score(X_test, y_test), time.perf_counter() - start)
    return scores


def plot(results, sizes, description):
    """Test error and fit time, with and without pre-training, per label count."""
    plt = pyplot()
    if plt is None:
        return
    fig, (ax_error, ax_time) = plt.subplots(1, 2, figsize=(10, 4),
                                            constrained_layout=True)
    x = np.arange(len(results))
    width = 0.38
    for offset, name, colour in [(-width / 2, "pre-trained", "C0"),
                                 (width / 2, "random init", "C1")]:
        errors = [100 * (1 - scores[name][0]) for _, scores in results]
        seconds = [scores[name][1] for _, scores in results]
        bars = ax_error.bar(x + offset, errors, width, label=name, color=colour)
        ax_error.bar_label(bars, fmt="%.1f", fontsize="small")
        bars = ax_time.bar(x + offset, seconds, width, label=name, color=colour)
        ax_time.bar_label(bars, fmt="%.1f", fontsize="small")
    labels = [f"{n_labeled} labels" for n_labeled, _ in results]
    labels[-1] += " (all)"
    for ax, title, ylabel in [(ax_error, "Test error", "test error (%)"),
                              (ax_time, "Fit time", "seconds")]:
        ax.set_xticks(x)
        ax.set_xticklabels(labels)
        ax.set(title=title, ylabel=ylabel)
        ax.legend()
    fig.suptitle(f"Pre-training with few labels: {description}, network {sizes}")


def main():
    X_train, y_train, X_test, y_test, shape, description = load_images()
    big = shape == (28, 28)
    sizes, pretrain_epochs = ((256, 256), 10) if big else ((100, 100, 100), 50)
    few = 1000 if big else 100
    print(f"data: {description}; network {sizes}, {pretrain_epochs} pre-training "
          "epochs per layer, masking noise 0.2")
    print(f"{'labels':>8} {'pre-trained':>12} {'random init':>12} "
          f"{'seconds (pre-trained / random)':>32}")
    results = []
    for n_labeled in (few, len(y_train)):
        scores = run(X_train, y_train, X_test, y_test, n_labeled, sizes,
                     pretrain_epochs, seed=0)
        (pre, t_pre), (rand, t_rand) = scores["pre-trained"], scores["random init"]
        print(f"{n_labeled:>8} {pre:>12.4f} {rand:>12.4f} "
              f"{t_pre:>20.1f} / {t_rand:.1f}")
        results.append((n_labeled, scores))
    plot(results, sizes, "MNIST" if big else "digits")


if __name__ == "__main__":
    main()
