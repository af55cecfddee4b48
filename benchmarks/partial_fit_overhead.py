"""What one ``partial_fit`` call costs beyond its minibatch steps.

Streaming (e.g. dask-ml's ``Incremental``) calls ``partial_fit`` once per
block of rows, so whatever a call does besides its minibatch steps (input
checks, making the call undoable if it fails, recording the epoch) is paid
once per block. With blocks of a few rows that per-call overhead can cost
as much as the training itself. This script measures it with the public API
only, so the same script runs unchanged against another checkout::

    python benchmarks/partial_fit_overhead.py            # about a minute
    python benchmarks/partial_fit_overhead.py --quick    # a few seconds
    python benchmarks/partial_fit_overhead.py --hidden 100 --rows 64
    # an older checkout in /tmp/old (PYTHONPATH comes before the installed
    # package; ``python -c`` or ``-m`` would put the current directory first)
    PYTHONPATH=/tmp/old python benchmarks/partial_fit_overhead.py

The first line printed is the ``sknets`` that was imported: check it.

What is measured, on synthetic float32 data (784 features, 10 classes),
with ``MLPClassifier(solver='sgd', momentum=0.9)`` and a 784-512-512-10
network by default (MNIST's shape; ``--hidden`` to change it):

- *reference step*: one big ``partial_fit`` call over the rows of
  ``--reference-blocks`` blocks (the same rows that the calls below train
  on), its minibatch loop timed by the trainer's own clock
  (``history_[-1]['seconds']``) and divided by its number of minibatches:
  the seconds of one minibatch step. Its wall time
  per minibatch is shown too (the call's overhead spread over its batches).
- *per call*: a fresh model is built by a first ``partial_fit`` call (with
  ``classes``), then ``--calls`` more calls each get one block of ``--rows``
  rows (1 minibatch of 32 by default) and each call's wall time is taken.
  Call *k* is the one after *k* earlier calls; the median over an early
  window of calls (10-59 by default) and over a late one (the last 50) are
  reported, since a cost that grows with the fit's history (a copy of the
  per-epoch records, one per call) shows as a late window slower than the
  early one.
- *overhead*: a call's median wall time minus its minibatch steps at the
  reference step time; *outside the epoch loop*, the call's wall time minus
  its own trainer clock (a cross-check that needs no reference); *growth*,
  the late window's overhead minus the early one's, and per 100 calls.

Everything is repeated ``--repeats`` times after a warm-up (a throw-away
model trained the same way): each repeat times the reference, then a fresh
sequence of calls, and its overhead is taken against its own reference, so
that the machine's speed drifting between repeats largely cancels. The
table shows the median over repeats and their min-max. One code version is
measured per run: compare two checkouts by running the script on each, on
the same machine with nothing else running (on 2 cores, another job wrecks
the timings), and compare the overhead rows rather than the per-call times.
"""

import argparse
import json
import math
import statistics
import time
import warnings
from pathlib import Path

import numpy as np

# The suite's own description of the machine (benchmarks/ is on the path of a
# script run from it).
from run import describe_machine

import sknets
from sknets import MLPClassifier

N_FEATURES = 784
N_CLASSES = 10
FIRST = 10  # the early window starts after this many earlier calls


def make_data(n_rows, seed=0):
    """Synthetic float32 inputs in [0, 1) and labels of ``N_CLASSES`` classes."""
    rng = np.random.default_rng(seed)
    X = rng.random((n_rows, N_FEATURES), dtype=np.float32)
    return X, rng.integers(0, N_CLASSES, n_rows)


def new_model(hidden, batch_size):
    """The model of every measurement: SGD with momentum, float32."""
    return MLPClassifier(hidden_layer_sizes=tuple(hidden), solver="sgd",
                         learning_rate_init=0.01, momentum=0.9,
                         batch_size=batch_size, random_state=0)


def reference_step(clf, X, y, batch_size):
    """Seconds of one minibatch step inside a single big ``partial_fit`` call.

    Returns the trainer's epoch clock and the call's wall time, each divided
    by the call's number of minibatches.
    """
    n_batches = math.ceil(X.shape[0] / batch_size)
    start = time.perf_counter()
    clf.partial_fit(X, y)
    wall = time.perf_counter() - start
    return clf.history_[-1]["seconds"] / n_batches, wall / n_batches


def call_sequence(hidden, batch_size, blocks, classes, n_calls):
    """Wall and epoch-loop seconds of each of ``n_calls`` calls on a new model.

    The model is built by a first call on ``blocks[0]`` (not timed); call
    ``k`` of the result follows ``k`` earlier calls and trains on block
    ``k`` (cycling through ``blocks``).
    """
    clf = new_model(hidden, batch_size)
    clf.partial_fit(*blocks[0], classes=classes)
    walls, loops = [], []
    for k in range(1, n_calls + 1):
        Xb, yb = blocks[k % len(blocks)]
        start = time.perf_counter()
        clf.partial_fit(Xb, yb)
        walls.append(time.perf_counter() - start)
        loops.append(clf.history_[-1]["seconds"])
    # Index k is call k (the number of earlier calls); 0, the untimed first.
    return [math.nan, *walls], [math.nan, *loops]


def windows(n_calls, width):
    """The early and the late window of calls, as ``range`` objects."""
    width = min(width, (n_calls - FIRST) // 2)
    if width < 1:
        raise ValueError(f"--calls must be at least {FIRST + 2}")
    return range(FIRST, FIRST + width), range(n_calls + 1 - width, n_calls + 1)


def measure(hidden, rows, batch_size, n_calls, width, n_blocks, repeats):
    """Run the benchmark; per repeat, the figures of the table (seconds)."""
    X, y = make_data(n_blocks * rows)
    blocks = [(X[i * rows:(i + 1) * rows], y[i * rows:(i + 1) * rows])
              for i in range(n_blocks)]
    classes = np.arange(N_CLASSES)
    steps_per_call = math.ceil(rows / batch_size)
    early, late = windows(n_calls, width)
    with warnings.catch_warnings():
        # Random labels: the network learns little, which is not the point.
        warnings.simplefilter("ignore")
        # Warm-up: BLAS threads, caches, lazy imports; a throw-away model.
        reference = new_model(hidden, batch_size)
        reference.partial_fit(*blocks[0], classes=classes)
        reference_step(reference, X, y, batch_size)
        call_sequence(hidden, batch_size, blocks, classes, min(n_calls, 20))
        results = []
        for _ in range(repeats):
            step, wall_step = reference_step(reference, X, y, batch_size)
            walls, loops = call_sequence(hidden, batch_size, blocks, classes,
                                         n_calls)
            out = {"step_s": step, "step_wall_s": wall_step}
            for name, window in (("early", early), ("late", late)):
                call = statistics.median(walls[k] for k in window)
                out[f"{name}_call_s"] = call
                out[f"{name}_overhead_s"] = call - steps_per_call * step
                out[f"{name}_outside_s"] = statistics.median(
                    walls[k] - loops[k] for k in window)
            growth = out["late_overhead_s"] - out["early_overhead_s"]
            distance = statistics.mean(late) - statistics.mean(early)
            out["growth_s"] = growth
            out["growth_per_100_s"] = 100 * growth / distance
            results.append(out)
    return results, early, late


def table_rows(rows, batch_size, early, late):
    """(label, key) of each row of the table, in order."""
    steps = math.ceil(rows / batch_size)
    batches = f"{steps} minibatch{'es' if steps > 1 else ''} of {batch_size}"
    out = [
        (f"reference: 1 minibatch step of {batch_size} rows (epoch clock)",
         "step_s"),
        ("reference: wall time of the big call per minibatch", "step_wall_s"),
    ]
    for name, window in (("early", early), ("late", late)):
        span = f"calls {window[0]}-{window[-1]}"
        out += [
            (f"partial_fit of {rows} rows ({batches}), {span}",
             f"{name}_call_s"),
            (f"  overhead per call ({span}): call - {steps} reference step"
             f"{'s' if steps > 1 else ''}", f"{name}_overhead_s"),
            (f"  outside the epoch loop ({span}): call - own epoch clock",
             f"{name}_outside_s"),
        ]
    out += [
        (f"overhead growth: calls {late[0]}-{late[-1]} - calls "
         f"{early[0]}-{early[-1]}", "growth_s"),
        ("overhead growth per 100 earlier calls", "growth_per_100_s"),
    ]
    return out


def print_table(results, rows, batch_size, early, late):
    """The median over repeats (and min-max) of each figure, in ms."""
    print(f"| {'case':<76} | {'median ms':>9} | {'min to max ms':>18} |")
    print(f"|{'-' * 78}|{'-' * 11}|{'-' * 20}|")
    for label, key in table_rows(rows, batch_size, early, late):
        values = [1e3 * r[key] for r in results]
        spread = f"{min(values):.3f} to {max(values):.3f}"
        print(f"| {label:<76} | {statistics.median(values):>9.3f} | "
              f"{spread:>18} |")
    print("(median over repeats of each repeat's median over its window of "
          "calls; call k follows k earlier partial_fit calls on the same "
          "model; overhead = a call's wall time minus its minibatch steps at "
          "the reference step time measured in the same repeat)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds")
    parser.add_argument("--hidden", type=int, nargs="+", default=[512, 512],
                        help="hidden layer sizes (default: 512 512)")
    parser.add_argument("--rows", type=int, default=32,
                        help="rows per partial_fit call (default: 32)")
    parser.add_argument("--batch-size", type=int, default=32,
                        help="minibatch size (default: 32); --rows must be a "
                             "multiple of it")
    parser.add_argument("--calls", type=int, default=None,
                        help="timed calls per repeat (default: 450, quick 120)")
    parser.add_argument("--window", type=int, default=None,
                        help="calls per window (default: 50, quick 30)")
    parser.add_argument("--reference-blocks", type=int, default=None,
                        help="blocks of rows of the reference call, which the "
                             "calls cycle through too (default: 200, quick 60)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="repeats (default: 5, quick 2)")
    parser.add_argument("--json", type=Path, default=None, help="write results")
    args = parser.parse_args(argv)
    calls = args.calls or (120 if args.quick else 450)
    width = args.window or (30 if args.quick else 50)
    n_blocks = args.reference_blocks or (60 if args.quick else 200)
    repeats = args.repeats or (2 if args.quick else 5)
    if args.rows < 1 or args.batch_size < 1 or args.rows % args.batch_size:
        parser.error("--rows must be a positive multiple of --batch-size")
    if calls < FIRST + 2:
        parser.error(f"--calls must be at least {FIRST + 2}")
    if n_blocks < 1 or repeats < 1:
        parser.error("--reference-blocks and --repeats must be positive")
    machine = describe_machine()
    print(f"sknets: {sknets.__file__} (version {sknets.__version__})")
    print(f"machine: {machine}")
    network = "-".join(str(n) for n in (N_FEATURES, *args.hidden, N_CLASSES))
    print(f"network {network}, SGD momentum 0.9, synthetic float32 data; "
          f"{args.rows} rows per call, {calls} calls and a reference call over "
          f"{n_blocks} blocks per repeat, {repeats} repeats")
    results, early, late = measure(args.hidden, args.rows, args.batch_size,
                                   calls, width, n_blocks, repeats)
    print_table(results, args.rows, args.batch_size, early, late)
    if args.json:
        args.json.write_text(json.dumps(
            {"sknets": sknets.__file__, "machine": machine, "network": network,
             "rows": args.rows, "batch_size": args.batch_size, "calls": calls,
             "early": [early[0], early[-1]], "late": [late[0], late[-1]],
             "reference_blocks": n_blocks, "repeats": results}, indent=2))


if __name__ == "__main__":
    main()
