"""Where a training minibatch's time goes, op by op, on each backend.

Trains one epoch of an MLP (784-512-512-10 on MNIST or data of its shape)
with every array operation timed through a wrapper around the backend's
:class:`~sknets._engine.ops.Ops`, and prints microseconds per minibatch for
each operation, the matrix products apart from the rest, and the Python
time between operations (the epoch's time minus the operations').

Usage::

    python benchmarks/profile_step.py [--rows 20000] [--batch 128]
        [--backends numpy numba] [--case recipe]

Cases: ``sgd`` (momentum), ``recipe`` (batch norm, dropout 0.5, Nesterov,
weight decay: the README's recommended recipe), ``adam``. The wrapper adds
about a microsecond per call to every operation. Run it alone.
"""

import argparse
import time
import warnings
from collections import defaultdict

import numpy as np
from run import HIDDEN, load_mnist_like
from sklearn.exceptions import ConvergenceWarning

import sknets._base as base
from sknets import MLPClassifier
from sknets._engine.ops import get_ops

# Operations that are matrix products (BLAS) in every backend.
PRODUCTS = {"affine", "affine_backward", "matmul", "affine_inference"}

CASES = {
    "sgd": dict(solver="sgd", momentum=0.9, nesterovs_momentum=False,
                learning_rate_init=0.01),
    "recipe": dict(solver="sgd", momentum=0.9, nesterovs_momentum=True,
                   learning_rate_init=0.01, batch_norm=True, dropout=0.5,
                   alpha=1e-4),
    "adam": dict(solver="adam", learning_rate_init=0.001),
}


class TimedOps:
    """Forwards every call to ``ops``, adding its duration to ``seconds``."""

    def __init__(self, ops):
        self._ops = ops
        self.seconds = defaultdict(float)
        self.calls = defaultdict(int)
        self.name = ops.name
        self.sync_interval = ops.sync_interval

    def __getattr__(self, name):
        target = getattr(self._ops, name)
        if not callable(target):
            return target
        seconds, calls = self.seconds, self.calls

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return target(*args, **kwargs)
            finally:
                seconds[name] += time.perf_counter() - start
                calls[name] += 1

        return timed


def profile(backend, X, y, batch, params):
    timed = TimedOps(get_ops(backend))
    original = base.training_ops
    base.training_ops = lambda work: timed
    try:
        clf = MLPClassifier(hidden_layer_sizes=HIDDEN, batch_size=batch,
                            max_iter=1, tol=0.0, n_iter_no_change=np.inf,
                            random_state=0, warm_start=True, **params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)  # compiles, allocates, warms the caches
            timed.seconds.clear()
            timed.calls.clear()
            clf.fit(X, y)
    finally:
        base.training_ops = original
    steps = -(-X.shape[0] // batch)
    epoch = clf.history_[-1]["seconds"]
    per_step = {name: 1e6 * s / steps for name, s in timed.seconds.items()}
    return epoch, steps, per_step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--case", choices=sorted(CASES), default="recipe")
    parser.add_argument("--backends", nargs="+", default=["numpy", "numba"])
    args = parser.parse_args()
    X, y, source = load_mnist_like()
    X, y = X[: args.rows], y[: args.rows]
    results = {}
    for backend in args.backends:
        try:
            get_ops(backend)
        except ImportError as exc:
            print(f"{backend}: skipped ({exc})")
            continue
        results[backend] = profile(backend, X, y, args.batch, CASES[args.case])
    print(f"data: {source}, {args.rows} rows, batch {args.batch}, case "
          f"{args.case!r} {CASES[args.case]}; microseconds per minibatch")
    names = sorted({n for _, _, p in results.values() for n in p},
                   key=lambda n: (n in PRODUCTS, -max(
                       r[2].get(n, 0) for r in results.values())))
    header = "".join(f" | {b:>9}" for b in results)
    print(f"| {'operation':<28}{header} |")
    print(f"|{'-' * 29}" + "|----------:" * len(results) + "|")
    for name in names:
        cells = "".join(f" | {r[2].get(name, 0):9.1f}" for r in results.values())
        print(f"| {name + (' (BLAS)' if name in PRODUCTS else ''):<28}{cells} |")
    for label, pick in (("all but the products", lambda n: n not in PRODUCTS),
                        ("the products", lambda n: n in PRODUCTS)):
        cells = "".join(
            f" | {sum(v for n, v in r[2].items() if pick(n)):9.1f}"
            for r in results.values())
        print(f"| {'= ' + label:<28}{cells} |")
    cells = "".join(
        f" | {1e6 * e / s - sum(r.values()):9.1f}"
        for e, s, r in results.values())
    print(f"| {'Python between the ops':<28}{cells} |")
    cells = "".join(f" | {1e6 * e / s:9.1f}" for e, s, _ in results.values())
    print(f"| {'= the minibatch':<28}{cells} |")


if __name__ == "__main__":
    main()
