"""Fused vector updates: BLAS (numpy's own OpenBLAS) and the numpy fallback agree."""

import numpy as np
import pytest

from sknets._engine import blas


@pytest.fixture(params=["blas", "numpy"])
def backend(request, monkeypatch):
    if request.param == "numpy":
        monkeypatch.setattr(blas, "_FUNCTIONS", {})
    elif not blas.uses_blas(np.float32):
        pytest.skip("numpy's OpenBLAS is not reachable here; numpy is used")
    return request.param


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [0, 1, 1000, 100_003])
def test_axpy_and_axpby_compute_the_update(backend, dtype, n):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(n).astype(dtype)
    y = rng.standard_normal(n).astype(dtype)
    scratch = np.empty_like(x)
    tol = 1e-6 if dtype == np.float32 else 1e-14
    out = blas.axpy(0.3, x, y.copy(), scratch)
    np.testing.assert_allclose(out, y + 0.3 * x, rtol=tol, atol=tol)
    out = blas.axpby(-0.7, x, 0.9, y.copy(), scratch)
    np.testing.assert_allclose(out, -0.7 * x + 0.9 * y, rtol=tol, atol=tol)


def test_the_update_is_in_place_and_leaves_x_alone(backend):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(500).astype(np.float32)
    x_before = x.copy()
    y = np.ones(500, dtype=np.float32)
    result = blas.axpby(2.0, x, 0.5, y, np.empty_like(x))
    assert result is y
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_allclose(y, 2.0 * x_before + 0.5, rtol=1e-6)


def test_strided_or_mixed_arrays_fall_back_to_numpy():
    rng = np.random.default_rng(2)
    x = rng.standard_normal(200)
    y = rng.standard_normal(200)
    expected = y[::2] + 1.5 * x[::2]
    # Strided views cannot go to BLAS as plain pointers; numpy handles them.
    out = blas.axpy(1.5, x[::2], y[::2], np.empty(100))
    np.testing.assert_allclose(out, expected)
    assert blas._functions(x[::2], y[::2]) is None
    assert blas._functions(x.astype(np.float32), y) is None


def test_blas_can_be_switched_off(monkeypatch):
    monkeypatch.setenv("SKNETS_BLAS_LEVEL1", "0")
    assert blas._load() == {}


def test_a_failing_library_scan_falls_back_to_numpy(monkeypatch):
    import threadpoolctl

    def broken():
        raise RuntimeError("cannot inspect the loaded libraries")

    monkeypatch.setattr(threadpoolctl, "threadpool_info", broken)
    assert blas._load() == {}


def test_a_read_only_target_is_never_written_through_blas():
    x = np.ones(100, dtype=np.float32)
    y = np.zeros(100, dtype=np.float32)
    y.flags.writeable = False
    assert blas._functions(x, y) is None
    with pytest.raises(ValueError, match="read-only"):
        blas.axpy(2.0, x, y, np.empty_like(x))


@pytest.mark.parametrize("name", ["Adagrad", "Adam"])
def test_nonlinear_optimisers_refuse_a_prescaled_gradient(name):
    from sknets._engine import optimizers

    opt = getattr(optimizers, name)(10, np.float32)
    assert not opt.takes_scaled_gradient
    theta = np.zeros(10, dtype=np.float32)
    with pytest.raises(ValueError, match="not linear"):
        opt.step(theta, np.ones(10, dtype=np.float32), 0.1, scaled=True)
