"""Adagrad against SGD with momentum
==================================

The same network (two hidden layers of 256 relu units) trained for a fixed
number of epochs by each first-order optimiser sknets has, each from the
same initial weights on the same scaled rows:

- plain minibatch SGD (``solver="sgd", momentum=0``) at two rates;
- SGD with classical momentum (``nesterovs_momentum=False``) and with
  Nesterov's momentum (the default), ``momentum=0.9``: the velocity adds up
  past steps, so in a steady direction the step is about
  ``1 / (1 - 0.9) = 10`` times the plain one, and momentum at rate 0.01 moves
  about as fast as plain SGD at 0.1;
- Adagrad (``solver="adagrad"``, Duchi et al., 2011), which divides each
  weight's step by the root of the sum of its squared gradients, so weights
  with large or frequent gradients take smaller steps, at two rates;
- Adam, scikit-learn's default, for reference.

The table reads the validation accuracy of every epoch from ``history_``:
the best one, and the epoch at which it first reached 97%. Compare an
optimiser at its better rate with another at its better rate: a single rate
for all says more about the rate than about the optimiser.

If matplotlib is installed, the figure shows every model's learning
curves: training loss, validation loss and validation accuracy per epoch
(``--plot PATH`` also saves it).

Run: ``python examples/adagrad_vs_momentum.py [--plot curves.png]``; on MNIST
or Fashion-MNIST, ``SKNETS_DATA=/path/to/data python
examples/adagrad_vs_momentum.py [--data fashion_mnist]`` (a few minutes on 2
cores). ``SKNETS_EXAMPLES_FAST=1`` trains for fewer epochs.
"""


from _compare import (
    compare,
    fast_mode,
    parse_args,
    plot_learning_curves,
    print_table,
    split_and_scale,
)
from _datasets import load_images

from sknets import MLPClassifier


def main():
    args = parse_args(__doc__)
    X_train, y_train, X_test, y_test, shape, description = load_images(args.data)
    big = shape == (28, 28)
    X_fit, y_fit, X_val, y_val, X_test = split_and_scale(X_train, y_train, X_test)
    epochs = (3 if big else 15) if fast_mode() else (10 if big else 30)
    common = dict(
        hidden_layer_sizes=(256, 256), batch_size=128 if big else 32,
        max_iter=epochs, n_iter_no_change=epochs, random_state=0,
    )
    models = {
        "SGD, rate 0.01": MLPClassifier(
            solver="sgd", momentum=0.0, learning_rate_init=0.01, **common),
        "SGD, rate 0.1": MLPClassifier(
            solver="sgd", momentum=0.0, learning_rate_init=0.1, **common),
        "SGD + momentum 0.9, rate 0.01": MLPClassifier(
            solver="sgd", momentum=0.9, nesterovs_momentum=False,
            learning_rate_init=0.01, **common),
        "SGD + Nesterov momentum 0.9, rate 0.01": MLPClassifier(
            solver="sgd", momentum=0.9, learning_rate_init=0.01, **common),
        "Adagrad, rate 0.01": MLPClassifier(
            solver="adagrad", learning_rate_init=0.01, **common),
        "Adagrad, rate 0.1": MLPClassifier(
            solver="adagrad", learning_rate_init=0.1, **common),
        "Adam, rate 0.001 (the default)": MLPClassifier(solver="adam", **common),
    }
    print(f"data: {description}; {len(y_fit)} training, {len(y_val)} validation, "
          f"{len(y_test)} test images; network 256-256 relu, {epochs} epochs\n")
    # Fashion-MNIST is harder: a lower bar for 'epochs to reach'.
    target = 0.85 if big and args.data == "fashion_mnist" else 0.97
    rows = compare(models, X_fit, y_fit, X_val, y_val, X_test, y_test, target=target)
    print_table(rows)
    # One colour per optimiser; dashed: its larger rate.
    styles = {
        "SGD, rate 0.01": dict(color="C0"),
        "SGD, rate 0.1": dict(color="C0", linestyle="--"),
        "SGD + momentum 0.9, rate 0.01": dict(color="C1"),
        "SGD + Nesterov momentum 0.9, rate 0.01": dict(color="C2"),
        "Adagrad, rate 0.01": dict(color="C3"),
        "Adagrad, rate 0.1": dict(color="C3", linestyle="--"),
        "Adam, rate 0.001 (the default)": dict(color="C4"),
    }
    data = args.data if big else "digits"
    plot_learning_curves(rows, f"Adagrad against SGD with momentum ({data})",
                         args.plot, styles)


if __name__ == "__main__":
    main()
