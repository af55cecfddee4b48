"""sknets' speed and memory benchmark suite.

Times one training epoch (and one prediction pass) for each case, next to the
*floor*: the matrix products alone that the same epoch needs, at the same
shapes and dtype, through the same BLAS. Every figure is the median of several
runs (with min-max) and a ratio to the floor measured in the same run, so
machine noise largely cancels. scikit-learn's MLPClassifier runs the same
network and settings in the same run, on float64 and float32 input.

Usage::

    python benchmarks/run.py            # full suite (tens of minutes on 2 cores)
    python benchmarks/run.py --quick    # a few minutes
    python benchmarks/run.py --json results.json

MNIST is read from ``$SKNETS_DATA/mnist.npz`` (e.g. ``SKNETS_DATA=../shared/data``)
when present, else synthetic data of the same shape is used. Run it alone: on
2 cores anything else running (a test suite, another benchmark) wrecks the
timings.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SklearnMLP
from threadpoolctl import threadpool_info

from sknets import MLPClassifier

HIDDEN = (512, 512)


def load_mnist_like():
    folder = os.environ.get("SKNETS_DATA")
    path = Path(folder) / "mnist.npz" if folder else None
    if path is not None and path.exists():
        data = np.load(path)
        return (data["X_train"] / np.float32(255)).astype(np.float32), \
            data["y_train"], "MNIST"
    rng = np.random.default_rng(0)
    X = rng.random((60000, 784), dtype=np.float32)
    return X, rng.integers(0, 10, 60000), "synthetic 60000 x 784"


def timed(function, repeats):
    """Median, min and max seconds of ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return _stats(times)


def floor_epoch(X, widths, batch_size, dtype=np.float32):
    """The forward and backward matrix products of one epoch, nothing else."""
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal((a, b)).astype(dtype) * 0.01
               for a, b in zip(widths[:-1], widths[1:], strict=True)]
    n = X.shape[0]

    def run():
        for start in range(0, n, batch_size):
            Xb = X[start : start + batch_size]
            acts = [Xb]
            for W in weights:
                acts.append(acts[-1] @ W)
            delta = acts[-1]
            for i in range(len(weights) - 1, -1, -1):
                _ = acts[i].T @ delta
                if i:
                    delta = delta @ weights[i].T

    return run


def floor_predict(X, widths, chunk=1024, dtype=np.float32):
    # Chunks of 1024 rows: sknets' chunk size, and the fastest of 1024, 4096
    # and all 10000 rows at once for these products on the benchmark machine.
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal((a, b)).astype(dtype) * 0.01
               for a, b in zip(widths[:-1], widths[1:], strict=True)]

    def run():
        for start in range(0, X.shape[0], chunk):
            out = X[start : start + chunk]
            for W in weights:
                out = out @ W

    return run


def sknets_epoch(X, y, repeats, floor=None, **params):
    """Seconds of single epochs, each timed by the trainer's own clock.

    With ``floor`` (a function), a floor epoch runs before each training
    epoch and the ratios are taken pairwise, so that the machine's speed
    drifting over the minutes of a run cancels out.
    """
    settings = dict(hidden_layer_sizes=HIDDEN, solver="sgd",
                    learning_rate_init=0.01, momentum=0.9, max_iter=1,
                    warm_start=True, tol=0.0, n_iter_no_change=np.inf,
                    random_state=0)
    clf = MLPClassifier(**{**settings, **params})
    seconds, floors = [], []
    for _ in range(repeats + 1):  # the first epoch warms up; it is dropped
        if floor is not None:
            start = time.perf_counter()
            floor()
            floors.append(time.perf_counter() - start)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)
        seconds.append(clf.history_[-1]["seconds"])
    stats = (statistics.median(seconds[1:]), min(seconds[1:]), max(seconds[1:]))
    ratio = None
    if floor is not None:
        ratio = statistics.median(s / f for s, f in zip(seconds[1:], floors[1:],
                                                         strict=True))
    return stats, ratio, clf


def alternated(first, second, repeats):
    """Time ``first()`` and ``second()`` in alternation, ``repeats`` pairs.

    Each ratio compares two calls a few seconds apart, so the machine's
    speed drifting over minutes cancels; one warm-up pair is dropped.
    Returns the (median, min, max) of each and the median of the ratios
    ``first / second``.
    """
    times = ([], [])
    pair = [(first, times[0]), (second, times[1])]
    for i in range(repeats + 1):
        # A-B, then B-A: neither always runs on the other's heels.
        for function, out in (pair if i % 2 == 0 else pair[::-1]):
            start = time.perf_counter()
            function()
            out.append(time.perf_counter() - start)
    a, b = times[0][1:], times[1][1:]
    ratio = statistics.median(x / y for x, y in zip(a, b, strict=True))
    return _stats(a), _stats(b), ratio


def sklearn_vs_sknets(X, y, repeats, batch_size):
    """Whole one-epoch fits of scikit-learn's MLP and of sknets', alternated.

    Both are fresh ``fit`` calls of one epoch with the same network and
    settings, so each includes its own input checks, conversion and
    initialisation.
    """
    settings = dict(hidden_layer_sizes=HIDDEN, solver="sgd",
                    learning_rate_init=0.01, momentum=0.9,
                    batch_size=batch_size, max_iter=1, random_state=0)
    return alternated(lambda: _fit_quietly(SklearnMLP(**settings), X, y),
                      lambda: _fit_quietly(MLPClassifier(**settings), X, y),
                      repeats)


def _stats(times):
    return statistics.median(times), min(times), max(times)


def fit_peak_memory(X, y, **params):
    """Peak memory traced during ``fit``, beyond what existed before."""
    clf = MLPClassifier(hidden_layer_sizes=HIDDEN, solver="sgd", max_iter=1,
                        learning_rate_init=0.01, random_state=0, **params)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak


def row(name, stats, floor=None, **extra):
    median, low, high = stats
    out = {"case": name, "median_s": median, "min_s": low, "max_s": high}
    if floor is not None:
        out["x_floor"] = median / floor
    out.update(extra)
    return out


def run_suite(quick):
    repeats = 3 if quick else 5
    X, y, source = load_mnist_like()
    if quick:
        X, y = X[:20000], y[:20000]
    widths = (X.shape[1], *HIDDEN, 10)
    rows = []
    for batch in (32, 128, 512):
        run_floor = floor_epoch(X, widths, batch)
        floor = timed(run_floor, repeats)
        rows.append(row(f"floor: matrix products, batch {batch}", floor, floor[0]))
        cases = [("SGD+momentum", {})]
        if batch == 128:
            cases += [("dropout 0.5", dict(dropout=0.5)),
                      ("batch_norm", dict(batch_norm=True)),
                      ("Adagrad", dict(solver="adagrad", learning_rate_init=0.01))]
        for name, params in cases:
            stats, ratio, _ = sknets_epoch(X, y, repeats, floor=run_floor,
                                           batch_size=batch, **params)
            rows.append(row(f"sknets {name}, batch {batch}", stats,
                            floor[0], x_floor_paired=ratio))
        if batch == 128:
            sk_repeats = 1 if quick else 3
            for dtype in (np.float64, np.float32):
                name = np.dtype(dtype).name
                theirs, fits, ratio = sklearn_vs_sknets(X.astype(dtype), y,
                                                        sk_repeats, batch)
                rows.append(row(f"sknets, {name} input, batch 128 (fit of 1 "
                                "epoch)", fits, floor[0]))
                rows.append(row(f"scikit-learn, {name} input, batch 128 (fit "
                                "of 1 epoch)", theirs, floor[0], x_sknets=ratio))
    # Prediction on 10000 rows.
    _, _, clf = sknets_epoch(X[:2000], y[:2000], 1, batch_size=128)
    X_pred = X[:10000]
    ours, floor, ratio = alternated(lambda: clf.predict_proba(X_pred),
                                    floor_predict(X_pred, widths), repeats)
    rows.append(row("floor: forward products, 10000 rows", floor, floor[0]))
    rows.append(row("sknets predict_proba, 10000 rows", ours, floor[0],
                    x_floor_paired=ratio))
    # One row at a time (100 calls), where tiles of rows cost the most: a row
    # alone is computed over a tile of at least 16 rows (256 for the output
    # layer here), so that it comes out as it does among others.
    one, floor_one = X_pred[:1], floor_predict(X_pred[:1], widths)
    ours, floor, ratio = alternated(
        lambda: [clf.predict_proba(one) for _ in range(100)],
        lambda: [floor_one() for _ in range(100)], repeats)
    rows.append(row("floor: forward products, 1 row, 100 calls", floor, floor[0]))
    rows.append(row("sknets predict_proba, 1 row, 100 calls", ours, floor[0],
                    x_floor_paired=ratio))
    # Small data, where per-call overhead dominates: a whole fit on digits.
    Xd, yd = load_digits(return_X_y=True)
    Xd = (Xd / 16).astype(np.float32)
    epochs = 20
    digits = dict(hidden_layer_sizes=(100,), solver="sgd", learning_rate_init=0.01,
                  max_iter=epochs, tol=0.0, random_state=0)
    ours, theirs, ratio = alternated(
        lambda: _fit_quietly(MLPClassifier(**digits, n_iter_no_change=np.inf),
                             Xd, yd),
        lambda: _fit_quietly(SklearnMLP(**digits, n_iter_no_change=epochs + 1),
                             Xd, yd),
        repeats)
    digits_floor = timed(floor_epoch(Xd, (Xd.shape[1], 100, 10), 200), repeats)
    rows.append(row(f"digits: sknets fit, {epochs} epochs", ours,
                    None, x_sklearn=ratio,
                    overhead_ms_per_epoch=1e3 * (ours[0] / epochs - digits_floor[0])))
    rows.append(row(f"digits: scikit-learn fit, {epochs} epochs", theirs,
                    overhead_ms_per_epoch=1e3 * (theirs[0] / epochs - digits_floor[0])))
    # Sparse CSR input.
    n_rows = 20000 if quick else 100000
    Xs = sp.random(n_rows, 20000, density=0.001, format="csr", dtype=np.float32,
                   random_state=0)
    ys = np.random.default_rng(0).integers(0, 2, n_rows)
    stats, _, _ = sknets_epoch(Xs, ys, repeats, batch_size=128)
    rows.append(row(f"sknets sparse CSR {n_rows} x 20000 (0.1%), batch 128", stats))
    # Memory of fit against the size of X.
    peak = fit_peak_memory(X, y, batch_size=128)
    rows.append({"case": "fit peak extra memory, float32 X (MB)",
                 "median_s": None, "value": peak / 1e6, "X_MB": X.nbytes / 1e6})
    peak = fit_peak_memory(X, y, batch_size=128, early_stopping=True)
    rows.append({"case": "fit peak extra memory, float32 X, early stopping (MB)",
                 "median_s": None, "value": peak / 1e6, "X_MB": X.nbytes / 1e6})
    return rows, source


def _fit_quietly(clf, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)


def describe_machine():
    blas = [f"{i['internal_api']} {i.get('version')} ({i.get('architecture')}, "
            f"{i['num_threads']} threads, {Path(i['filepath']).parent.parent.name})"
            for i in threadpool_info() if i["user_api"] == "blas"]
    return {"date": time.strftime("%Y-%m-%d"), "python": sys.version.split()[0],
            "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            "numpy": np.__version__, "blas": blas}


def print_table(rows):
    print(f"| {'case':<62} | {'median s':>9} | {'min-max s':>13} | {'x floor':>7} "
          "| note |")
    print(f"|{'-' * 64}|{'-' * 11}|{'-' * 15}|{'-' * 9}|------|")
    for r in rows:
        if r.get("median_s") is None:
            print(f"| {r['case']:<62} | {r['value']:>9.1f} | X: "
                  f"{r['X_MB']:>7.1f} MB | {'':>7} | |")
            continue
        ratio = f"{r['x_floor']:.2f}" if "x_floor" in r else ""
        if r.get("x_floor_paired") is not None:
            ratio = f"{r['x_floor_paired']:.2f}"
        if "x_sklearn" in r:
            ratio = f"{r['x_sklearn']:.2f}*"
        note = ""
        if "x_sknets" in r:
            note = f"{r['x_sknets']:.2f} x sknets' fit (paired)"
        if "overhead_ms_per_epoch" in r:
            note = f"{r['overhead_ms_per_epoch']:.1f} ms/epoch beyond the products"
        print(f"| {r['case']:<62} | {r['median_s']:>9.3f} | "
              f"{r['min_s']:>6.3f}-{r['max_s']:<6.3f} | {ratio:>7} | {note} |")
    print("(x floor: for sknets' training epochs, the median of ratios to a floor "
          "epoch run just before each; for predict_proba, the median ratio to its "
          "floor, the two alternated; other rows, ratio of medians; * = median "
          "ratio to scikit-learn's time for the same fit, the two alternated)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few minutes")
    parser.add_argument("--json", type=Path, default=None, help="write results")
    args = parser.parse_args()
    machine = describe_machine()
    rows, source = run_suite(args.quick)
    print(f"data: {source}; {machine}")
    print_table(rows)
    if args.json:
        args.json.write_text(json.dumps(
            {"machine": machine, "data": source, "quick": args.quick, "rows": rows},
            indent=2))


if __name__ == "__main__":
    main()
