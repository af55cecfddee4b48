"""sknets against scikit-learn's MLPs, both with scikit-learn's defaults.
======================================================================

On scikit-learn's bundled data sets (diabetes, breast cancer, digits, wine),
each estimator is ``make_pipeline(StandardScaler(), estimator)`` with default
parameters and ``random_state=seed``, trained on the same 75% split (stratified
for classification) and scored on the rest (R^2 or accuracy); the table gives
the mean over 5 seeds and the total fit time. Prints a Markdown table.

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


def main():
    rows = compare()
    print("| data set | scikit-learn | sknets | fit time scikit-learn (s) "
          "| fit time sknets (s) |")
    print("| --- | --- | --- | --- | --- |")
    for row in rows:
        print(f"| {row['data']} | {row['scikit-learn']:.4f} | {row['sknets']:.4f} "
              f"| {row['scikit-learn seconds']:.2f} | {row['sknets seconds']:.2f} |")


if __name__ == "__main__":
    main()
