"""What predictions that ignore the other rows cost, paired in one process.

Times ``predict_proba`` with the engine's inference products (tiles of rows,
``sknets/_engine/products.py``) against the same model with plain ``X @ W``
products, which is what inference did before, alternating the two in each
pair so that machine drift cancels; prints the median of the paired ratios.
Synthetic data: no data set is needed. Run it alone on the machine, once per
OpenBLAS kernel of interest::

    python benchmarks/row_invariance_cost.py
    OPENBLAS_CORETYPE=Haswell python benchmarks/row_invariance_cost.py
"""

import argparse
import statistics
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_info

import sknets._engine.ops as layers  # NumpyOps.affine_inference calls it
from sknets import MLPClassifier

TILED = layers.inference_product


def plain(X, W):
    return X @ W


def _model(hidden, n_features, rng):
    X = rng.random((2000, n_features)).astype(np.float32)
    y = rng.integers(0, 10, 2000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return MLPClassifier(hidden_layer_sizes=hidden, max_iter=1,
                             random_state=0).fit(X, y)


def paired(clf, X, calls, repeats):
    """Median seconds per call of each product, and the median tiled/plain."""
    clf.predict_proba(X)  # the first call measures the tiles
    times = {TILED: [], plain: []}
    for i in range(repeats):
        for product in ((TILED, plain) if i % 2 == 0 else (plain, TILED)):
            layers.inference_product = product
            start = time.perf_counter()
            for _ in range(calls):
                clf.predict_proba(X)
            times[product].append((time.perf_counter() - start) / calls)
    layers.inference_product = TILED
    ratio = statistics.median(t / p for t, p in zip(times[TILED], times[plain],
                                                    strict=True))
    return statistics.median(times[TILED]), statistics.median(times[plain]), ratio


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds")
    args = parser.parse_args(argv)
    repeats, calls = (2, 3) if args.quick else (9, 100)
    rng = np.random.default_rng(0)
    big, small = _model((512, 512), 784, rng), _model((100,), 64, rng)
    X_big = rng.random((10000, 784)).astype(np.float32)
    X_small = rng.random((10000, 64)).astype(np.float32)
    cases = [
        ("784-512-512-10, 10000 rows", big, X_big, 1),
        ("784-512-512-10, 1 row", big, X_big[:1], calls),
        ("784-512-512-10, 7 rows", big, X_big[:7], calls),
        ("64-100-10, 10000 rows", small, X_small, 1),
        ("64-100-10, 1 row", small, X_small[:1], calls),
    ]
    kernel = [i.get("architecture") for i in threadpool_info()
              if i.get("internal_api") == "openblas"]
    print(f"OpenBLAS kernel: {kernel}")
    print(f"| {'case':<28} | {'tiled ms':>9} | {'plain ms':>9} | tiled/plain |")
    print(f"|{'-' * 30}|{'-' * 11}|{'-' * 11}|-------------|")
    for name, clf, X, n_calls in cases:
        tiled, base, ratio = paired(clf, X, n_calls, repeats)
        print(f"| {name:<28} | {tiled * 1e3:9.3f} | {base * 1e3:9.3f} | "
              f"{ratio:11.2f} |")


if __name__ == "__main__":
    main()
