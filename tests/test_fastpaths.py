"""Every fast path equals the plain float64 path: solvers, integer orders, concurrency, float32, GPU."""

from __future__ import annotations

import importlib.util
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import renyimi
from renyimi._engine import eigen as _eigen
from renyimi._engine import spectral as _spectral

from .conftest import correlated_gaussians


def _gram(rng, n, d=4, scale=1.0):
    return np.asarray(renyimi.gram_matrix(rng.normal(size=(n, d)), sigma_scale=scale))


def _plain_entropy(A, alpha):
    """Independent reference: float64 NumPy eigenvalues, clipped and renormalised, eq. 18."""
    lam = np.clip(np.linalg.eigvalsh(np.asarray(A, dtype=np.float64)), 0, None)
    lam = lam / lam.sum()
    lam = lam[lam > 0]
    if alpha == 1:
        return float(-(lam * np.log2(lam)).sum())
    return float(np.log2((lam**alpha).sum()) / (1 - alpha))


SOLVERS = [s for s in _eigen.SOLVERS if s != "torch" or importlib.util.find_spec("torch")]


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_every_solver_matches_numpy_float64(solver, dtype, rng):
    A = _gram(rng, 120)
    lam = _eigen.eigvalsh(A.astype(dtype), np, solver=solver)
    expected = np.linalg.eigvalsh(A)
    if solver != "numpy":  # numpy.linalg.eigvalsh is the one that upcasts float32 (why auto avoids it)
        assert lam.dtype == dtype
    np.testing.assert_allclose(lam, expected, atol=1e-13 if dtype == np.float64 else 1e-6)


@pytest.mark.parametrize("n", [2, 256, 1024, 4096, 10**5])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.dtype("float32"), "float32"])
def test_auto_solver_is_a_concrete_single_precision_route(n, dtype):
    solver = _eigen.auto_solver(n, dtype)
    assert solver in _eigen.SOLVERS and solver != "auto"
    if np.dtype(dtype) == np.float32:
        assert solver != "numpy"


def test_lapack_route_reports_failure_and_handles_edge_cases():
    with pytest.raises(np.linalg.LinAlgError, match="did not converge"):
        _eigen.eigvalsh(np.full((4, 4), np.nan), np, solver="lapack-evd")
    np.testing.assert_array_equal(_eigen.eigvalsh(np.eye(1), np, solver="lapack-evd"), [1.0])
    ints = np.array([[2, 1], [1, 2]])
    np.testing.assert_allclose(_eigen.eigvalsh(ints, np, solver="lapack-evd"), [1.0, 3.0])
    A = np.array([[1.0, 5.0], [0.5, 1.0]])  # not symmetric: the lower triangle counts, as in NumPy
    np.testing.assert_allclose(_eigen.eigvalsh(A, np, solver="lapack-evd"), np.linalg.eigvalsh(A))


def test_eigvalsh_of_a_stack(rng):
    stack = np.stack([_gram(rng, 30), _gram(rng, 30, scale=2.0)])
    for solver in SOLVERS:
        np.testing.assert_allclose(_eigen.eigvalsh(stack, np, solver=solver), np.linalg.eigvalsh(stack), atol=1e-13)
    batched = _eigen.eigvalsh_batched(iter(stack), np)
    np.testing.assert_allclose(np.stack(batched), np.linalg.eigvalsh(stack), atol=1e-13)
    assert _eigen.eigvalsh_batched([], np) == []


def test_batched_eigvalsh_splits_into_bounded_batches(rng, monkeypatch):
    mats = [_gram(rng, 20, scale=s) for s in (0.5, 1.0, 2.0, 4.0, 8.0)]
    monkeypatch.setattr(_eigen, "_BATCH_BYTES", 2 * 20 * 20 * 8)  # two matrices per call
    calls = []

    class Spy:
        __name__ = "spy"

        class linalg:
            @staticmethod
            def eigvalsh(a):
                calls.append(a.shape[0])
                return np.linalg.eigvalsh(a)

        stack = staticmethod(np.stack)

    out = _eigen.eigvalsh_batched(iter(mats), Spy)
    assert calls == [2, 2, 1]
    np.testing.assert_allclose(np.stack(out), np.linalg.eigvalsh(np.stack(mats)), atol=1e-13)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(2, 60), alpha=st.sampled_from([2.0, 3.0, 4.0]), scale=st.floats(0.2, 8.0),
       seed=st.integers(0, 2**16))
def test_integer_orders_equal_the_eigenvalue_path(n, alpha, scale, seed):
    A = _gram(np.random.default_rng(seed), n, scale=scale)
    assert not _spectral.uses_eigenvalues(alpha)
    fast = float(_spectral.renyi_entropy(A, alpha, np, 2.0))
    assert fast == pytest.approx(_plain_entropy(A, alpha), abs=1e-9)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(2, 60), alpha=st.sampled_from([0.5, 1.0, 1.01, 1.5, 2.5, 5.0]), scale=st.floats(0.2, 8.0),
       seed=st.integers(0, 2**16), solver=st.sampled_from(["auto", "scipy-evd", "scipy-evr"]))
def test_solvers_give_the_plain_entropy(n, alpha, scale, seed, solver):
    A = _gram(np.random.default_rng(seed), n, scale=scale)
    assert float(_spectral.renyi_entropy(A, alpha, np, 2.0, solver=solver)) == pytest.approx(
        _plain_entropy(A, alpha), abs=1e-9)


@pytest.mark.parametrize("alpha", [1.01, 2.0])
def test_float32_mode_error_is_small(alpha, rng):
    x, y = correlated_gaussians(rng, 512, 20, 0.8)
    single = renyimi.mutual_information(x, y, alpha=alpha, dtype="float32")
    assert single.dtype == np.float32
    assert float(single) == pytest.approx(float(renyimi.mutual_information(x, y, alpha=alpha)), abs=1e-3)


def test_map_concurrent_keeps_order_window_and_thread_limit():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    _eigen._controller()  # loads SciPy's BLAS first, so that `before` and `after` see the same libraries
    before = [lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"]
    lock = threading.Lock()
    state = {"made": 0, "done": 0, "max_ahead": 0}

    def items():
        for i in range(12):
            with lock:
                state["made"] += 1
                state["max_ahead"] = max(state["max_ahead"], state["made"] - state["done"])
            yield i

    def work(i):
        inside = [lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"]
        with lock:
            state["done"] += 1
        return i * i, set(inside)

    out = _eigen.map_concurrent(work, items(), workers=3)
    assert [v for v, _ in out] == [i * i for i in range(12)]
    assert all(limits <= {1} for _, limits in out)  # one BLAS thread per worker
    assert state["max_ahead"] <= 4  # at most `workers` in flight plus the one being made
    after = [lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"]
    assert after == before


def test_map_concurrent_propagates_errors_and_falls_back_when_busy():
    def boom(i):
        if i == 3:
            raise RuntimeError("solver failed")
        return i

    with pytest.raises(RuntimeError, match="solver failed"):
        _eigen.map_concurrent(boom, range(6), workers=2)
    # a map started while another holds the BLAS limit runs sequentially, in the caller's thread
    with _eigen._MAP_LOCK:
        caller = threading.get_ident()
        assert _eigen.map_concurrent(lambda i: threading.get_ident() == caller, range(4), workers=2) == [True] * 4


def test_concurrent_workers_policy(monkeypatch):
    monkeypatch.setattr(_eigen, "_cpu_count", lambda: 2)
    assert _eigen.concurrent_workers(256, 1) == 1  # nothing to overlap
    assert _eigen.concurrent_workers(10**6, 30) == 1  # large matrices: LAPACK's threads win
    assert _eigen.concurrent_workers(256, 30) in (1, 2)
    monkeypatch.setattr(_eigen, "_cpu_count", lambda: 1)
    assert _eigen.concurrent_workers(256, 30) == 1


# ---------------------------------------------------------------------------------------------- GPU
def _cuda_reason():
    if importlib.util.find_spec("cupy") is not None:
        try:
            import cupy

            if cupy.cuda.runtime.getDeviceCount() > 0:
                return None
        except Exception:
            pass
    if importlib.util.find_spec("torch") is not None:
        import torch

        if torch.cuda.is_available():
            return None
    return "no CUDA device (CuPy or torch) on this machine"


@pytest.mark.gpu
@pytest.mark.skipif(_cuda_reason() is not None, reason=_cuda_reason() or "")
@pytest.mark.parametrize("alpha", [1.01, 2.0])
def test_gpu_batched_pairwise_equals_cpu(alpha, rng):
    variables = {f"T{k}": rng.normal(size=(200, 3 + k)) for k in range(4)}
    expected = renyimi.pairwise_mutual_information(variables, alpha=alpha)
    libraries = []
    if importlib.util.find_spec("torch") is not None:
        import torch

        if torch.cuda.is_available():
            libraries.append(lambda a: torch.as_tensor(a, device="cuda"))
    if importlib.util.find_spec("cupy") is not None:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() > 0:
            libraries.append(cupy.asarray)
    for to_device in libraries:
        result = renyimi.pairwise_mutual_information({k: to_device(v) for k, v in variables.items()}, alpha=alpha)
        for pair, value in result.items():
            host = value.get() if hasattr(value, "get") else value.cpu().numpy()
            assert float(host) == pytest.approx(float(expected[pair]), abs=1e-8)


def test_set_num_threads_limits_blas_while_renyimi_computes(monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    seen = []
    real = _spectral.renyi_entropy

    def spy(*args, **kwargs):
        seen.append(max(p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"))
        return real(*args, **kwargs)

    monkeypatch.setattr("renyimi._compute.renyi_entropy", spy)
    x = np.random.default_rng(0).normal(size=(3000, 2))
    previous = renyimi.set_num_threads(1)
    try:
        assert renyimi.get_num_threads() == 1
        value = float(renyimi.matrix_entropy(x[:300], alpha=1.5))
    finally:
        renyimi.set_num_threads(previous)
    assert seen == [1]
    assert value == pytest.approx(float(renyimi.matrix_entropy(x[:300], alpha=1.5)), abs=1e-12)
    with pytest.raises(ValueError, match="positive integer"):
        renyimi.set_num_threads(0)


def test_thread_limit_from_the_environment(monkeypatch):
    monkeypatch.setattr(_eigen, "_THREADS", [])
    monkeypatch.setenv("RENYIMI_NUM_THREADS", "1")
    assert renyimi.get_num_threads() == 1
    assert _eigen.concurrent_workers(512, 8) == 1
    monkeypatch.setattr(_eigen, "_THREADS", [])
    monkeypatch.setenv("RENYIMI_NUM_THREADS", "two")
    with pytest.raises(ValueError, match="RENYIMI_NUM_THREADS"):
        renyimi.get_num_threads()
