"""Nested parallelism: do grid-search workers oversubscribe the BLAS threads?

A grid search with ``n_jobs`` workers, each fitting a network whose matrix
products run on a multi-threaded BLAS, could start ``n_jobs x n_cpus``
threads on ``n_cpus`` cores. joblib prevents that: each loky worker gets
``cpu_count() // n_jobs`` BLAS threads. This script shows it, and what the
limit is worth: for each ``n_jobs`` it runs the same grid search with
joblib's default and with the limit lifted (every worker allowed all
cores), and reports the BLAS threads each worker saw (a scorer reads
``threadpoolctl.threadpool_info()`` inside the worker), the operating-system
threads each worker process ran at the end of its fits (all of them: the
BLAS's, numba's if it started any, Python's), and the wall time.

``--backend numba`` runs every fit on sknets' numba backend (through
``SKNETS_BACKEND``, which the workers inherit): its kernels are serial, so a
worker's thread count is the numpy backend's.

Usage::

    python benchmarks/nested_parallelism.py            # a minute or two on 2 cores
    python benchmarks/nested_parallelism.py --quick    # seconds: checks it runs

Not part of the test suite (``tests/test_scale_out.py`` checks the limit).
Run it alone: anything else running on the machine skews the timings.
"""

import argparse
import os
import time
import warnings

import joblib
import numpy as np
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from threadpoolctl import threadpool_info

from sknets import MLPClassifier


def blas_threads(estimator, X, y):
    """A 'score': the most threads a BLAS library may use where it runs."""
    return max(
        (info["num_threads"] for info in threadpool_info()
         if info["user_api"] == "blas"),
        default=0,
    )


def os_threads(estimator, X, y):
    """A 'score': the threads of the process it runs in (Linux), else 0."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 0


def trained_on(estimator, X, y):
    """A 'score': 1 where the estimator trained on the numba backend."""
    return float(estimator._network.ops.name == "numba")


def run_search(X, y, n_jobs, hidden, max_iter, inner_threads):
    """Seconds and the BLAS threads seen in the workers, for one search."""
    search = GridSearchCV(
        MLPClassifier(hidden_layer_sizes=hidden, max_iter=max_iter, random_state=0),
        {"alpha": [1e-5, 1e-4, 1e-3, 1e-2]}, cv=2, n_jobs=n_jobs,
        scoring={"accuracy": "accuracy", "threads": blas_threads,
                 "os_threads": os_threads, "numba": trained_on}, refit=False,
    )
    with warnings.catch_warnings(), joblib.parallel_config(
        backend="loky", inner_max_num_threads=inner_threads
    ):
        warnings.simplefilter("ignore", ConvergenceWarning)
        # The first search starts the workers; time the second.
        search.fit(X, y)
        start = time.perf_counter()
        search.fit(X, y)
        seconds = time.perf_counter() - start
    results = search.cv_results_
    threads = results["mean_test_threads"]
    os_count = max(int(results[f"split{k}_test_os_threads"].max()) for k in range(2))
    return (seconds, int(threads.min()), int(threads.max()), os_count,
            results["mean_test_numba"].mean())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes, to check that the script runs")
    parser.add_argument("--n-samples", type=int, default=20000)
    parser.add_argument("--n-features", type=int, default=200)
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--max-iter", type=int, default=5)
    parser.add_argument("--backend", choices=["numpy", "numba"], default="numpy",
                        help="sknets' backend for every fit (default numpy)")
    args = parser.parse_args()
    if args.quick:
        args.n_samples, args.n_features, args.hidden, args.max_iter = 400, 20, 16, 2
    # This script's own environment, which the workers it starts inherit.
    os.environ["SKNETS_BACKEND"] = args.backend

    n_cpus = joblib.cpu_count()
    X, y = make_classification(n_samples=args.n_samples, n_features=args.n_features,
                               n_informative=args.n_features // 2, random_state=0)
    X = X.astype(np.float32)
    print(f"{n_cpus} CPUs; BLAS threads in this process: {blas_threads(None, X, y)}; "
          f"data {X.shape}, hidden ({args.hidden}, {args.hidden}), "
          f"{args.max_iter} epochs, 4 candidates x 2 folds, backend {args.backend}")
    print(f"{'n_jobs':>6}  {'BLAS limit':<22}  {'BLAS threads/worker':>19}  "
          f"{'OS threads/worker':>17}  {'numba fits':>10}  {'seconds':>8}")
    hidden = (args.hidden, args.hidden)
    for n_jobs in sorted({1, 2, n_cpus}):
        # None: joblib's default (cpu_count // n_jobs per worker); n_cpus:
        # every worker may use every core, i.e. oversubscription.
        settings = [("joblib default", None)] if n_jobs > 1 else [("in process", None)]
        if n_jobs > 1:
            settings.append(("lifted (all cores)", n_cpus))
        for label, inner in settings:
            seconds, low, high, os_count, numba_share = run_search(
                X, y, n_jobs, hidden, args.max_iter, inner)
            seen = str(low) if low == high else f"{low}-{high}"
            print(f"{n_jobs:>6}  {label:<22}  {seen:>19}  {os_count:>17}  "
                  f"{numba_share:>10.0%}  {seconds:>8.2f}")


if __name__ == "__main__":
    main()
