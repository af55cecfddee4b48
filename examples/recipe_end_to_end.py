"""The training recipe end to end: normalise, select, stop early, report
=====================================================================

The whole procedure on one data set, in the order it should be done:

1. **Set the test set aside.** It is used once, at the very end; every choice
   before is made on the training set.
2. **Split the training set** into a fitting part and a validation part (80%
   and 20%, stratified by class).
3. **Normalise** with a ``StandardScaler`` inside a ``Pipeline``, so that the
   scaler learns its means and deviations from whatever the pipeline is
   fitted on and nothing leaks from the validation or test rows.
4. **Select the model on the validation part**: ``GridSearchCV`` with a
   ``PredefinedSplit`` fits each candidate on the fitting part and scores it
   on the validation part (one split, not cross-validation: networks are
   slow to train and the validation part is large enough) over a small grid
   of hidden sizes, initial learning rates and dropout.
5. **Train each candidate with the recipe**: minibatch SGD with Nesterov
   momentum, a large initial rate halved whenever the accuracy on a held-out
   10% of the rows it is fitted on stops improving (``learning_rate="halving"``),
   and early stopping that restores the best epoch's weights.
6. **Refit the best candidate** on the whole training set (``GridSearchCV``
   does it) and report its accuracy on the test set.

On MNIST (one run, about 3 minutes on 2 cores) the search picked two layers
of 256 units, rate 0.01 and dropout 0.2, and the refitted network scored
0.977 on the test set. There the candidates with rate 0.1 can diverge, with a
``RuntimeWarning``: the scaler turns the rare ink of MNIST's border pixels
into values above 100; sknets goes back to its best parameters and lowers
the rate, and the grid search ranks those candidates low.

Run on scikit-learn's 8x8 digits (seconds): ``python
examples/recipe_end_to_end.py``; on MNIST or Fashion-MNIST:
``SKNETS_DATA=/path/to/data python examples/recipe_end_to_end.py
[--data fashion_mnist]``. ``SKNETS_EXAMPLES_FAST=1`` runs a smaller grid.
"""

import time
import warnings

import numpy as np
from _compare import fast_mode, parse_args
from _datasets import load_images
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, PredefinedSplit, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sknets import MLPClassifier


def make_search(X_train, y_train, big, fast):
    """The pipeline, its grid, and a split that validates on 20% of the rows."""
    pipeline = Pipeline([
        ("scale", StandardScaler()),
        ("mlp", MLPClassifier(
            solver="sgd", momentum=0.9, nesterovs_momentum=True,
            batch_size=128 if big else 32, learning_rate="halving",
            # Halve after 3 epochs without progress; stop below 1e-3.
            n_iter_no_change=3, min_learning_rate=1e-3, early_stopping=True,
            max_iter=30 if big else 100, random_state=0,
        )),
    ])
    if fast:
        grid = {"mlp__hidden_layer_sizes": [(64,)],
                "mlp__learning_rate_init": [0.01, 0.1]}
    else:
        grid = {"mlp__hidden_layer_sizes": [(256,), (256, 256)] if big
                else [(100,), (256, 256)],
                "mlp__learning_rate_init": [0.01, 0.1],
                "mlp__dropout": [0.0, 0.2]}
    # -1: always in the fitting part; 0: the one validation fold.
    fit_rows, _ = train_test_split(
        np.arange(len(y_train)), test_size=0.2, stratify=y_train, random_state=0
    )
    test_fold = np.zeros(len(y_train), dtype=int)
    test_fold[fit_rows] = -1
    return GridSearchCV(pipeline, grid, cv=PredefinedSplit(test_fold),
                        scoring="accuracy", refit=True)


def main():
    args = parse_args(__doc__, plot=False)
    X_train, y_train, X_test, y_test, shape, description = load_images(args.data)
    big = shape == (28, 28)
    print(f"data: {description}; {len(X_train)} training images (80% fitting, "
          f"20% validation), {len(X_test)} test images\n")

    search = make_search(X_train, y_train, big, fast_mode())
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X_train, y_train)
    seconds = time.perf_counter() - start

    results = search.cv_results_
    print(f"{'hidden_layer_sizes':>18} {'rate':>5} {'dropout':>7} "
          f"{'validation accuracy':>19}")
    for i in np.argsort(-results["mean_test_score"]):
        params = results["params"][i]
        print(f"{params['mlp__hidden_layer_sizes']!s:>18} "
              f"{params['mlp__learning_rate_init']:>5} "
              f"{params.get('mlp__dropout', 0.0):>7} "
              f"{results['mean_test_score'][i]:>19.4f}")

    mlp = search.best_estimator_.named_steps["mlp"]
    print(f"\nbest: {search.best_params_}")
    best_epoch = int(np.argmax(mlp.validation_scores_)) + 1
    print(f"refitted on all {len(X_train)} training images: {mlp.n_iter_} epochs, "
          f"the best (restored) was epoch {best_epoch}; the learning rate went "
          f"from {mlp.history_[0]['learning_rate']:g} to "
          f"{mlp.history_[-1]['learning_rate']:g}")
    print(f"search and refit: {seconds:.1f} s")
    print(f"test accuracy: {search.score(X_test, y_test):.4f}")


if __name__ == "__main__":
    main()
