"""sknets against scikit-learn's MLPs, both with scikit-learn's defaults.
======================================================================

On scikit-learn's bundled data sets (diabetes, breast cancer, digits, wine),
each estimator is ``make_pipeline(StandardScaler(), estimator)`` with default
parameters and ``random_state=seed``, trained on the same 75% split (stratified
for classification) and scored on the rest (R^2 or accuracy); the table gives
the mean over 5 seeds and the total fit time. Prints a Markdown table and,
if matplotlib is installed, draws both as bar charts.

Run: ``python examples/compare_with_sklearn.py`` in an environment with
sknets (e.g. ``.venv/bin/python`` after ``python3 dev.py demo``).
"""

import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SklearnClassifier
from sklearn.neural_network import MLPRegressor as SklearnRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknets import MLPClassifier, MLPRegressor

DATASETS = {
    "diabetes (R^2)": (load_diabetes, SklearnRegressor, MLPRegressor),
    "breast cancer (accuracy)": (load_breast_cancer, SklearnClassifier, MLPClassifier),
    "digits (accuracy)": (load_digits, SklearnClassifier, MLPClassifier),
    "wine (accuracy)": (load_wine, SklearnClassifier, MLPClassifier),
}


def compare(seeds=range(5)):
    """Mean test score and total fit time of both libraries per data set."""
    rows = []
    for name, (load, sklearn_cls, sknets_cls) in DATASETS.items():
        X, y = load(return_X_y=True)
        scores = {"scikit-learn": [], "sknets": []}
        seconds = dict.fromkeys(scores, 0.0)
        for seed in seeds:
            stratify = None if sknets_cls is MLPRegressor else y
            X_train, X_test, y_train, y_test = train_test_split(
                X, y, random_state=seed, stratify=stratify
            )
            for library, cls in [("scikit-learn", sklearn_cls), ("sknets", sknets_cls)]:
                model = make_pipeline(StandardScaler(), cls(random_state=seed))
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    model.fit(X_train, y_train)
                seconds[library] += time.perf_counter() - start
                scores[library].append(model.score(X_test, y_test))
        rows.append({
            "data": name,
            "scikit-learn": float(np.mean(scores["scikit-learn"])),
            "sknets": float(np.mean(scores["sknets"])),
            "scikit-learn seconds": seconds["scikit-learn"],
            "sknets seconds": seconds["sknets"],
        })
    return rows


def plot(rows, n_seeds):
    """Mean test score and total fit time per data set, both libraries."""
    # Imported here: tests/test_against_sklearn.py runs this file for
    # compare() alone, without the examples' folder on sys.path.
    from _compare import pyplot

    plt = pyplot()
    if plt is None:
        return
    fig, (ax_score, ax_time) = plt.subplots(1, 2, figsize=(11, 4.2),
                                            constrained_layout=True)
    x = np.arange(len(rows))
    width = 0.38
    for offset, library, colour in [(-width / 2, "scikit-learn", "0.6"),
                                    (width / 2, "sknets", "C0")]:
        bars = ax_score.bar(x + offset, [row[library] for row in rows], width,
                            label=library, color=colour)
        ax_score.bar_label(bars, fmt="%.3f", fontsize="x-small", padding=2)
        bars = ax_time.bar(x + offset, [row[f"{library} seconds"] for row in rows],
                           width, label=library, color=colour)
        ax_time.bar_label(bars, fmt="%.2f", fontsize="x-small", padding=2)
    labels = [row["data"].replace(" (", "\n(") for row in rows]
    ax_score.axhline(0, color="0.3", linewidth=0.8)
    ax_score.set(title=f"Mean test score over {n_seeds} seeds",
                 ylabel="R^2 (diabetes) or accuracy")
    ax_time.set(title=f"Total fit time of the {n_seeds} fits", ylabel="seconds")
    for ax in (ax_score, ax_time):
        ax.set_xticks(x)
        ax.set_xticklabels(labels)
        ax.legend(loc="lower right" if ax is ax_score else "upper right")
    ax_score.margins(y=0.12)
    fig.suptitle("scikit-learn's MLPs against sknets', both with the defaults "
                 "(after a StandardScaler)")


def main():
    n_seeds = 5
    rows = compare(seeds=range(n_seeds))
    print("| data set | scikit-learn | sknets | fit time scikit-learn (s) "
          "| fit time sknets (s) |")
    print("| --- | --- | --- | --- | --- |")
    for row in rows:
        print(f"| {row['data']} | {row['scikit-learn']:.4f} | {row['sknets']:.4f} "
              f"| {row['scikit-learn seconds']:.2f} | {row['sknets seconds']:.2f} |")
    plot(rows, n_seeds)


if __name__ == "__main__":
    main()
