"""Matrix products at inference in which every row is computed alone.

A BLAS chooses its kernel, blocking and threading from the shape of a
product, and some kernels do not treat all rows of one product alike, so the
same input row can come out a few units in the last place apart depending on
how many rows are in the call and where it sits among them. Measured with
numpy's OpenBLAS 0.3.31 on one AVX-512 machine:

- with every kernel, a product of one row (a matrix-vector product) rounds
  differently from the same row inside a product of many rows; on SkylakeX,
  small products go through a separate small-matrix kernel as well;
- with the Haswell kernels (also chosen for AMD Zen), float32 products
  accumulate the rows of each group of twelve in two different orders,
  whatever the shape, so no fixed shape is enough; their float64 products
  treat all rows alike.

That made a row's predicted probabilities depend on its neighbours by more
than scikit-learn's ``check_methods_subset_invariance`` allows (1.2e-7).

So at inference every product runs over a *tile* of a fixed number of rows,
padded with zeros when fewer rows are left. Which tile sizes give every row
the result it gets in every other position and tile is measured once per
shape, dtype, weight layout and BLAS thread count (:func:`_plan`): a tile in
which all rows hold the same random vector must return identical rows, and
the same ones as the largest consistent tile. Small calls use the smallest
consistent tile that holds them, so predicting one row costs a tile of 16 to
1024 rows, not 1024. Where no tile of the model's dtype is consistent
(float32 with Haswell kernels, for most shapes but the largest), the product
is computed in float64 from the exact float64 images of the float32 operands
and rounded back to float32: all rows alike, at about twice the cost.
Training products are untouched.
"""


import numpy as np
import scipy.sparse as sp

from .blas import num_threads
from .errors import warn

# Tile sizes tried, smallest first; the largest is also the prediction chunk.
TILE_ROWS = (16, 64, 256, 1024)

_PLANS = {}


def _consistent_tiles(n_in, n_out, dtype, transposed):
    """Tile sizes whose rows all equal those of the largest consistent tile."""
    rng = np.random.default_rng(0)
    W = rng.standard_normal((n_out, n_in) if transposed else (n_in, n_out))
    W = W.astype(dtype).T if transposed else W.astype(dtype)
    probes = rng.standard_normal((2, n_in)).astype(dtype)
    reference = None
    tiles = []
    for rows in reversed(TILE_ROWS):
        outs = [np.tile(x, (rows, 1)) @ W for x in probes]
        if not all((out == out[0]).all() for out in outs):
            continue  # rows treated differently within this shape
        firsts = np.stack([out[0] for out in outs])
        if reference is None:
            reference = firsts
        elif not np.array_equal(firsts, reference):
            continue
        tiles.append(rows)
    return tuple(sorted(tiles))


def _plan(n_in, n_out, dtype, transposed):
    """``(compute dtype, tile sizes)`` for products of this shape."""
    key = (n_in, n_out, dtype, transposed, num_threads())
    plan = _PLANS.get(key)
    if plan is None:
        plan = (dtype, _consistent_tiles(n_in, n_out, dtype, transposed))
        # Even a float32 tile of 16 rows is cheaper than float64 products
        # (measured: README, "Speed and memory").
        if not plan[1] and dtype == np.float32:
            wide = np.dtype(np.float64)
            plan = (wide, _consistent_tiles(n_in, n_out, wide, transposed))
        if not plan[1]:  # no consistent tiling on this BLAS: the largest tile
            plan = (dtype, TILE_ROWS[-1:])
            warn(
                f"This BLAS computes the rows of a {n_in}x{n_out} {dtype} "
                "product differently by position whatever the number of rows, "
                "so a row's predictions may differ in the last bits with the "
                "rows predicted beside it.",
                RuntimeWarning,
            )
        _PLANS[key] = plan
    return plan


def inference_product(X, W):
    """``X @ W`` with each row computed as it would be alone.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_rows, n_in)
        Layer input; sparse input goes straight to scipy's CSR product,
        which already handles each row on its own.
    W : ndarray of shape (n_in, n_out)
        C-contiguous, or the transpose of a C-contiguous array (a tied
        decoder's weights).

    Returns
    -------
    Z : ndarray of shape (n_rows, n_out), of ``W``'s dtype
        A new array: inference writes nothing that another thread reads.
    """
    if sp.issparse(X):
        return X @ W
    n, n_in = X.shape
    n_out = W.shape[1]
    compute, tiles = _plan(n_in, n_out, W.dtype, not W.flags.c_contiguous)
    W_compute = W if compute == W.dtype else W.astype(compute)
    Z = np.empty((n, n_out), dtype=W.dtype)
    largest = tiles[-1]
    for start in range(0, n, largest):
        rows = min(largest, n - start)
        tile_rows = next(t for t in tiles if t >= rows)
        block = X[start : start + rows]
        out = Z[start : start + rows]
        if (tile_rows == rows and block.dtype == compute == Z.dtype
                and block.flags.c_contiguous):
            np.matmul(block, W_compute, out=out)
            continue
        tile = np.zeros((tile_rows, n_in), dtype=compute)
        tile[:rows] = block
        out[...] = (tile @ W_compute)[:rows]
    return Z
