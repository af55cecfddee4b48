"""Fused vector updates through numpy's own BLAS, with a numpy fallback.

An optimiser step is a few passes over the parameter vector, and numpy has
no fused multiply-add: ``y += a * x`` is two passes (a scaled temporary, then
an add). BLAS's ``axpy`` (``y <- a x + y``) and ``axpby`` (``y <- a x + b y``)
are one pass each (OpenBLAS also threads ``axpy`` on long vectors), which
about halves an SGD step with weight decay (README, "Speed and memory").

They are called through ctypes in the OpenBLAS that numpy itself is linked
against (found with threadpoolctl), never scipy's: two libraries mean two
thread pools that fight over the cores. Only the layout of numpy's wheels
(``scipy_openblas``, 64-bit integers, symbols ``scipy_cblas_saxpy64_``...)
is recognised, and only after a self-test on a small vector; anything else,
or ``SKNETS_BLAS_LEVEL1=0`` in the environment (read once, at the first
update of the process), uses plain numpy, which gives the same results up to
rounding.
"""

import ctypes
import os
from pathlib import Path

import numpy as np

_PREFIXES = {np.dtype(np.float32): "s", np.dtype(np.float64): "d"}
_CTYPES = {np.dtype(np.float32): ctypes.c_float, np.dtype(np.float64): ctypes.c_double}


def _numpy_openblas():
    """Path of the OpenBLAS shipped inside numpy's wheel, or None."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover - scikit-learn depends on it
        return None
    numpy_root = Path(np.__file__).resolve().parent.parent
    for info in threadpool_info():
        path = Path(info.get("filepath", ""))
        if (info.get("internal_api") == "openblas"
                and "scipy_openblas64_" in path.name
                and path.parent.name in ("numpy.libs", ".dylibs")
                and path.resolve().parent.parent in (numpy_root, numpy_root / "numpy")):
            return path
    return None


def _load():
    """``{dtype: (axpy, axpby)}`` from numpy's OpenBLAS, or {} to use numpy."""
    if os.environ.get("SKNETS_BLAS_LEVEL1", "1") == "0":
        return {}
    try:
        path = _numpy_openblas()
        if path is None:
            return {}
        lib = ctypes.CDLL(str(path))
        functions = {}
        for dtype, letter in _PREFIXES.items():
            real = _CTYPES[dtype]
            axpy = getattr(lib, f"scipy_cblas_{letter}axpy64_")
            axpy.restype = None
            axpy.argtypes = [ctypes.c_int64, real, ctypes.c_void_p, ctypes.c_int64,
                             ctypes.c_void_p, ctypes.c_int64]
            axpby = getattr(lib, f"scipy_cblas_{letter}axpby64_")
            axpby.restype = None
            axpby.argtypes = [ctypes.c_int64, real, ctypes.c_void_p, ctypes.c_int64,
                              real, ctypes.c_void_p, ctypes.c_int64]
            functions[dtype] = (axpy, axpby)
    except Exception:  # whatever goes wrong, numpy does the work
        return {}
    return functions if _self_test(functions) else {}


def _self_test(functions):
    """Whether the BLAS routines compute what numpy computes, on small vectors."""
    rng = np.random.default_rng(0)
    for dtype, (axpy, axpby) in functions.items():
        x = rng.standard_normal(37).astype(dtype)
        y = rng.standard_normal(37).astype(dtype)
        expected_axpy = y + dtype.type(0.5) * x
        expected_axpby = dtype.type(0.5) * x + dtype.type(-2.0) * y
        out = y.copy()
        axpy(x.size, 0.5, x.ctypes.data, 1, out.ctypes.data, 1)
        ok = np.allclose(out, expected_axpy, rtol=1e-6)
        out = y.copy()
        axpby(x.size, 0.5, x.ctypes.data, 1, -2.0, out.ctypes.data, 1)
        if not (ok and np.allclose(out, expected_axpby, rtol=1e-6)):
            return False
    return True


_FUNCTIONS = None
_GET_NUM_THREADS = False  # not looked up yet
# Thread-count getters of OpenBLAS builds: numpy 2's wheels, numpy 1's, others.
_NUM_THREADS_SYMBOLS = ("scipy_openblas_get_num_threads64_",
                        "openblas_get_num_threads64_", "openblas_get_num_threads")


def _openblas_of_numpy():
    """Path of the OpenBLAS that numpy uses (any build), or None."""
    path = _numpy_openblas()
    if path is not None:
        return path
    from threadpoolctl import threadpool_info

    numpy_root = str(Path(np.__file__).resolve().parent.parent)
    found = [Path(info["filepath"]) for info in threadpool_info()
             if info.get("internal_api") == "openblas"]
    inside = [p for p in found if str(p.resolve()).startswith(numpy_root)]
    return (inside or found or [None])[0]


def _num_threads_function():
    try:
        path = _openblas_of_numpy()
        if path is None:
            return None
        lib = ctypes.CDLL(str(path))
        for symbol in _NUM_THREADS_SYMBOLS:
            function = getattr(lib, symbol, None)
            if function is not None:
                function.restype = ctypes.c_int
                function.argtypes = []
                return function
    except Exception:  # pragma: no cover - an unknown BLAS layout
        pass
    return None


def num_threads():
    """Threads of numpy's OpenBLAS at this moment, or None if it cannot say.

    Read through ctypes on every call (a cheap C call), since threadpoolctl
    or joblib may change it between calls. None for other BLAS libraries
    (MKL, Accelerate), whose thread count is then not tracked.
    """
    global _GET_NUM_THREADS
    function = _GET_NUM_THREADS
    if function is False:
        function = _GET_NUM_THREADS = _num_threads_function()
    return None if function is None else int(function())


def _functions(x, y):
    """The BLAS pair for ``x`` and ``y``, or None if they cannot use it."""
    global _FUNCTIONS
    if _FUNCTIONS is None:
        _FUNCTIONS = _load()
    if (x.dtype != y.dtype or x.ndim != 1 or y.ndim != 1 or x.size != y.size
            or not x.flags.c_contiguous or not y.flags.c_contiguous
            or not y.flags.writeable):
        return None
    return _FUNCTIONS.get(x.dtype)


def uses_blas(dtype):
    """Whether vectors of ``dtype`` are updated by BLAS (else by numpy)."""
    probe = np.zeros(1, dtype=dtype)
    return _functions(probe, probe) is not None


def axpy(a, x, y, scratch):
    """``y += a * x`` in place; ``scratch`` (like ``x``) serves the fallback."""
    functions = _functions(x, y)
    if functions is None:
        y += x if a == 1 else np.multiply(x, a, out=scratch)
    elif x.size:
        functions[0](x.size, a, x.ctypes.data, 1, y.ctypes.data, 1)
    return y


def axpby(a, x, b, y, scratch):
    """``y = a * x + b * y`` in place; ``scratch`` (like ``x``) serves the fallback."""
    functions = _functions(x, y)
    if functions is None:
        y *= b
        y += np.multiply(x, a, out=scratch)
    elif x.size:
        functions[1](x.size, a, x.ctypes.data, 1, b, y.ctypes.data, 1)
    return y
