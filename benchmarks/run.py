"""sknets' speed and memory benchmark suite, both backends side by side.

Times one training epoch (and one prediction pass) for each case, next to the
*floor*: the matrix products alone that the same epoch needs, at the same
shapes and dtype, through the same BLAS. Every figure is the median of several
runs (with min-max) and a ratio to the floor measured in the same run, so
machine noise largely cancels. Each sknets case runs on the numpy backend and
on the numba one (the ``fast`` extra; its column is empty where numba is not
installed). In the same run: scikit-learn's MLPClassifier (whole fits of 5
epochs on float64 and float32 input), a hand-written PyTorch CPU loop of the
same network, optimiser and minibatches (skipped where torch is not
installed), fits on digits where per-call costs dominate, and what numba's
compilation costs a fresh process.

Usage::

    python benchmarks/run.py            # full suite (tens of minutes on 2 cores)
    python benchmarks/run.py --quick    # a few minutes
    python benchmarks/run.py --json results.json

MNIST is read from ``$SKNETS_DATA/mnist.npz`` (e.g. ``SKNETS_DATA=/path/to/data``)
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

import sknets
from sknets import MLPClassifier

HIDDEN = (512, 512)
FIT_EPOCHS = 5


def available_backends():
    """numpy, and numba where it is installed."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return ["numpy"]
    return ["numpy", "numba"]


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


EPOCH_SETTINGS = dict(hidden_layer_sizes=HIDDEN, solver="sgd",
                      learning_rate_init=0.01, momentum=0.9, max_iter=1,
                      warm_start=True, tol=0.0, n_iter_no_change=np.inf,
                      random_state=0)


def sknets_epoch(X, y, repeats, floor=None, backend="numpy", **params):
    """Seconds of single epochs, each timed by the trainer's own clock.

    With ``floor`` (a function), a floor epoch runs before each training
    epoch and the ratios are taken pairwise, so that the machine's speed
    drifting over the minutes of a run cancels out.
    """
    clf = MLPClassifier(**{**EPOCH_SETTINGS, **params})
    seconds, floors = [], []
    for _ in range(repeats + 1):  # the first epoch warms up; it is dropped
        if floor is not None:
            start = time.perf_counter()
            floor()
            floors.append(time.perf_counter() - start)
        with warnings.catch_warnings(), sknets.config_context(backend=backend):
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


def sklearn_vs_sknets(X, y, repeats, batch_size, backend):
    """Whole fits of scikit-learn's MLP and of sknets', alternated.

    Both are fresh ``fit`` calls of :data:`FIT_EPOCHS` epochs with the same
    network and settings, so each includes its own input checks, conversion
    and initialisation.
    """
    settings = dict(hidden_layer_sizes=HIDDEN, solver="sgd",
                    learning_rate_init=0.01, momentum=0.9,
                    batch_size=batch_size, max_iter=FIT_EPOCHS, tol=0.0,
                    random_state=0)

    def ours():
        with sknets.config_context(backend=backend):
            _fit_quietly(MLPClassifier(**settings, n_iter_no_change=np.inf), X, y)

    return alternated(
        lambda: _fit_quietly(
            SklearnMLP(**settings, n_iter_no_change=FIT_EPOCHS + 1), X, y),
        ours, repeats)


def torch_epoch(X, y, batch_size, alpha=1e-4, **params):
    """One epoch of a hand-written PyTorch loop of the benchmark's network.

    The same layers (relu; PyTorch's own initialisation), loss (softmax
    cross-entropy),
    optimiser (SGD, Nesterov momentum 0.9, rate 0.01), minibatches (a fresh
    permutation each epoch) and L2 penalty (``alpha / batch_size`` on the
    weights, scikit-learn's scaling), in float32 on PyTorch's own threads.
    Returns None where torch is not installed.
    """
    try:
        import torch
    except ImportError:
        return None
    torch.manual_seed(0)
    widths = (X.shape[1], *HIDDEN, int(y.max()) + 1)
    layers = []
    for a, b in zip(widths[:-1], widths[1:], strict=True):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    biases = [p for name, p in model.named_parameters() if name.endswith("bias")]
    optimizer = torch.optim.SGD(
        [{"params": weights, "weight_decay": alpha / batch_size},
         {"params": biases, "weight_decay": 0.0}],
        lr=0.01, momentum=0.9, nesterov=True)
    loss_fn = torch.nn.CrossEntropyLoss()
    Xt = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
    yt = torch.from_numpy(np.asarray(y, dtype=np.int64))
    generator = torch.Generator().manual_seed(0)
    n = Xt.shape[0]

    def run():
        order = torch.randperm(n, generator=generator)
        total = torch.zeros(())
        for start in range(0, n, batch_size):
            rows = order[start : start + batch_size]
            optimizer.zero_grad(set_to_none=False)
            loss = loss_fn(model(Xt[rows]), yt[rows])
            loss.backward()
            optimizer.step()
            total += loss.detach()
        return float(total)

    return run


def torch_vs_sknets(X, y, repeats, batch_size, backend):
    """A PyTorch epoch and an sknets epoch, alternated; None without torch."""
    theirs = torch_epoch(X, y, batch_size)
    if theirs is None:
        return None
    clf = MLPClassifier(**{**EPOCH_SETTINGS, "batch_size": batch_size})

    def ours():
        with warnings.catch_warnings(), sknets.config_context(backend=backend):
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)

    return alternated(ours, theirs, repeats)


COMPILE_PROBE = """
import time, warnings
import numpy as np
import sknets
from sknets import MLPClassifier
rng = np.random.default_rng(0)
X = rng.random((512, 64), dtype=np.float32)
y = rng.integers(0, 3, 512)
times = []
for _ in range(2):
    start = time.perf_counter()
    for params in (dict(solver="sgd", batch_norm=True, dropout=0.5, alpha=1e-3),
                   dict(solver="adam", l1_alpha=1e-4),
                   dict(solver="adagrad", activation="tanh")):
        with warnings.catch_warnings(), sknets.config_context(backend="numba"):
            warnings.simplefilter("ignore")
            MLPClassifier((32,), max_iter=2, random_state=0, **params).fit(X, y)
    times.append(time.perf_counter() - start)
print(times[0], times[1])
"""


def first_fit_costs():
    """What a fresh process pays for numba: compiling, then loading its cache.

    Runs :data:`COMPILE_PROBE` (three small fits that use every kernel, twice)
    in fresh processes, first with an empty numba cache (the one-time cost
    after install), then with the cache that run left. Returns the extra
    seconds of the first round over the second in each, or None without
    numba.
    """
    if "numba" not in available_backends():
        return None
    import subprocess
    import tempfile

    costs = {}
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        for label in ("compile", "cached"):
            out = subprocess.run([sys.executable, "-c", COMPILE_PROBE], env=env,
                                 capture_output=True, text=True, check=True)
            first, second = map(float, out.stdout.split())
            costs[label] = first - second
    return costs


def _stats(times):
    return statistics.median(times), min(times), max(times)


def fit_peak_memory(X, y, backend, **params):
    """Peak memory traced during ``fit``, beyond what existed before."""
    clf = MLPClassifier(hidden_layer_sizes=HIDDEN, solver="sgd", max_iter=1,
                        learning_rate_init=0.01, random_state=0, **params)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    with warnings.catch_warnings(), sknets.config_context(backend=backend):
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak


def row(name, stats=None, floor=None, **extra):
    """A table row; ``stats`` (median, min, max) for a single-column row."""
    out = {"case": name, "backends": {}}
    if stats is not None:
        out["backends"]["-"] = cell(stats, floor)
    out.update(extra)
    return out


def cell(stats, floor=None, **extra):
    median, low, high = stats
    out = {"median_s": median, "min_s": low, "max_s": high}
    if floor is not None:
        out["x_floor"] = median / floor
    out.update(extra)
    return out


def prediction_cells(clf, X_pred, widths, repeats):
    """predict_proba on all of ``X_pred`` and on one row (100 calls), each
    alternated with its floor: the two cells, and the two floors."""
    mine, floor, ratio = alternated(lambda: clf.predict_proba(X_pred),
                                    floor_predict(X_pred, widths), repeats)
    cells = [cell(mine, floor[0], x_floor_paired=ratio)]
    # One row at a time, where tiles of rows cost the most: a row alone is
    # computed over a tile of at least 16 rows (256 for the output layer
    # here), so that it comes out as it does among others.
    one, floor_one = X_pred[:1], floor_predict(X_pred[:1], widths)
    mine, floor_1, ratio = alternated(
        lambda: [clf.predict_proba(one) for _ in range(100)],
        lambda: [floor_one() for _ in range(100)], repeats)
    cells.append(cell(mine, floor_1[0], x_floor_paired=ratio))
    return cells, floor, floor_1


def run_suite(quick):
    repeats = 3 if quick else 5
    backends = available_backends()
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
                      ("batch_norm + dropout 0.5", dict(batch_norm=True,
                                                        dropout=0.5)),
                      ("Adagrad", dict(solver="adagrad", learning_rate_init=0.01)),
                      ("Adam", dict(solver="adam", learning_rate_init=0.001))]
        for name, params in cases:
            r = row(f"sknets {name}, batch {batch}")
            for backend in backends:
                stats, ratio, _ = sknets_epoch(X, y, repeats, floor=run_floor,
                                               backend=backend, batch_size=batch,
                                               **params)
                r["backends"][backend] = cell(stats, floor[0], x_floor_paired=ratio)
            rows.append(r)
        torch_row = None
        ours = row(f"sknets / PyTorch epoch, SGD+momentum, batch {batch}")
        for backend in backends:
            pair = torch_vs_sknets(X, y, repeats, batch, backend)
            if pair is None:
                break
            mine, theirs, ratio = pair
            torch_row = torch_row or row(
                f"PyTorch CPU loop, SGD+momentum, batch {batch}", theirs, floor[0])
            ours["backends"][backend] = cell(mine, floor[0], x_torch=ratio)
        if torch_row is not None:
            rows += [torch_row, ours]
        if batch == 128:
            sk_repeats = 1 if quick else 3
            for dtype in (np.float64, np.float32):
                name = np.dtype(dtype).name
                Xd = X.astype(dtype)
                ours = row(f"sknets, {name} input, batch 128 (fit of "
                           f"{FIT_EPOCHS} epochs)")
                for backend in backends:
                    theirs, fits, ratio = sklearn_vs_sknets(Xd, y, sk_repeats, batch,
                                                            backend)
                    ours["backends"][backend] = cell(fits, x_sklearn=ratio)
                rows.append(ours)
                rows.append(row(f"scikit-learn, {name} input, batch 128 (fit of "
                                f"{FIT_EPOCHS} epochs)", theirs))
    # Prediction on 10000 rows.
    X_pred = X[:10000]
    ours = row("sknets predict_proba, 10000 rows")
    one_row = row("sknets predict_proba, 1 row, 100 calls")
    for backend in backends:
        _, _, clf = sknets_epoch(X[:2000], y[:2000], 1, batch_size=128,
                                 backend=backend)
        with sknets.config_context(backend=backend):
            cells, floor, floor_1 = prediction_cells(clf, X_pred, widths, repeats)
        ours["backends"][backend], one_row["backends"][backend] = cells
    rows += [row("floor: forward products, 10000 rows", floor, floor[0]), ours,
             row("floor: forward products, 1 row, 100 calls", floor_1, floor_1[0]),
             one_row]
    # Small data, where per-call costs dominate: a whole fit on digits.
    Xd, yd = load_digits(return_X_y=True)
    Xd = (Xd / 16).astype(np.float32)
    epochs = 20
    digits = dict(hidden_layer_sizes=(100,), solver="sgd", learning_rate_init=0.01,
                  max_iter=epochs, tol=0.0, random_state=0)
    digits_floor = timed(floor_epoch(Xd, (Xd.shape[1], 100, 10), 200), repeats)

    def digits_fit(backend):
        def fit():
            with sknets.config_context(backend=backend):
                _fit_quietly(MLPClassifier(**digits, n_iter_no_change=np.inf),
                             Xd, yd)
        return fit

    theirs = lambda: _fit_quietly(  # noqa: E731
        SklearnMLP(**digits, n_iter_no_change=epochs + 1), Xd, yd)
    ours = row(f"digits: sknets fit, {epochs} epochs")
    for backend in backends:
        mine, _, ratio = alternated(digits_fit(backend), theirs, repeats)
        extra = {"x_sklearn_time": ratio,
                 "overhead_ms_per_epoch": 1e3 * (mine[0] / epochs
                                                 - digits_floor[0])}
        if backend != "numpy":
            _, _, extra["x_numpy"] = alternated(digits_fit(backend),
                                                digits_fit("numpy"), repeats)
        ours["backends"][backend] = cell(mine, **extra)
    sk = timed(theirs, repeats)
    rows += [ours, row(f"digits: scikit-learn fit, {epochs} epochs", sk,
                       overhead_ms_per_epoch=1e3 * (sk[0] / epochs
                                                    - digits_floor[0]))]
    costs = first_fit_costs()
    if costs is not None:
        rows.append(row("numba: a fresh process's first fits, seconds beyond "
                        "its second", costs=costs))
    # Sparse CSR input.
    n_rows = 20000 if quick else 100000
    Xs = sp.random(n_rows, 20000, density=0.001, format="csr", dtype=np.float32,
                   random_state=0)
    ys = np.random.default_rng(0).integers(0, 2, n_rows)
    sparse = row(f"sknets sparse CSR {n_rows} x 20000 (0.1%), batch 128")
    for backend in backends:
        stats, _, _ = sknets_epoch(Xs, ys, repeats, batch_size=128, backend=backend)
        sparse["backends"][backend] = cell(stats)
    rows.append(sparse)
    # Memory of fit against the size of X.
    for label, params in (("", {}), (", early stopping",
                                     dict(early_stopping=True))):
        rows.append({"case": f"fit peak extra memory, float32 X{label} (MB)",
                     "backends": {}, "value": {
                         backend: fit_peak_memory(X, y, backend, batch_size=128,
                                                  **params) / 1e6
                         for backend in backends},
                     "X_MB": X.nbytes / 1e6})
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


def _ratio(c):
    for key, fmt in (("x_floor_paired", "{:.2f}"), ("x_torch", "{:.2f}t"),
                     ("x_sklearn", "{:.2f}s"), ("x_floor", "{:.2f}")):
        if c.get(key) is not None:
            return fmt.format(c[key])
    return ""


def _note(c):
    notes = []
    if "x_sklearn_time" in c:
        notes.append(f"{c['x_sklearn_time']:.2f} x scikit-learn's time")
    if "x_numpy" in c:
        notes.append(f"{c['x_numpy']:.2f} x numpy's time")
    if "overhead_ms_per_epoch" in c:
        notes.append(f"{c['overhead_ms_per_epoch']:.1f} ms/epoch beyond the "
                     "products")
    return "; ".join(notes)


def print_table(rows, backends):
    header = "| case | " + " | ".join(f"{b} s | {b} ratio" for b in backends)
    print(header + " | note |")
    print("|---|" + "---:|---:|" * len(backends) + "---|")
    for r in rows:
        cells = r["backends"]
        if "value" in r:
            values = r["value"]
            text = " | ".join(
                (f"{values[b]:.2f} | " if b in values else " | ") for b in backends)
            note = f"X: {r['X_MB']:.1f} MB" if "X_MB" in r else ""
            print(f"| {r['case']} | {text} {note} |")
            continue
        if "costs" in r:
            costs = r["costs"]
            blank = " | " * (2 * len(backends) - 1)
            print(f"| {r['case']} | {blank} | kernels compiled (once after "
                  f"install): {costs['compile']:.2f} s; from numba's cache: "
                  f"{costs['cached']:.2f} s |")
            continue
        if "-" in cells:  # one measurement, not per backend
            c = cells["-"]
            first = f"{c['median_s']:.3f} | {_ratio(c)}"
            rest = " | " * (2 * len(backends) - 2)
            note = _note({**c, **r})
            print(f"| {r['case']} | {first} {rest}| {note} |")
            continue
        parts, notes = [], []
        for b in backends:
            c = cells.get(b)
            if c is None:
                parts.append(" | ")
                continue
            parts.append(f"{c['median_s']:.3f} | {_ratio(c)}")
            if _note(c):
                notes.append(f"{b}: {_note(c)}")
        print(f"| {r['case']} | {' | '.join(parts)} | {'; '.join(notes)} |")
    print("(ratio: for sknets' training epochs, the median of ratios to a floor "
          "epoch run just before each; for predict_proba, the median ratio to its "
          "floor, the two alternated; floor rows, 1; t = median ratio to the "
          "PyTorch loop's epoch, the two alternated (below 1: sknets is faster); "
          "s = median ratio of scikit-learn's fit time to sknets', the two "
          "alternated (above 1: sknets is faster); min-max in the JSON)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few minutes")
    parser.add_argument("--json", type=Path, default=None, help="write results")
    args = parser.parse_args()
    machine = describe_machine()
    rows, source = run_suite(args.quick)
    print(f"data: {source}; {machine}")
    print_table(rows, available_backends())
    if args.json:
        args.json.write_text(json.dumps(
            {"machine": machine, "data": source, "quick": args.quick, "rows": rows},
            indent=2))


if __name__ == "__main__":
    main()
