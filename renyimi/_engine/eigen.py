"""Eigenvalues of symmetric matrices: one dispatch point for every array library, and its policy.

Only eigenvalues are ever computed (never eigenvectors). Torch and CuPy arrays use their own
``eigvalsh``, which keeps the data on its device (and torch autograd); several matrices on a GPU
are solved in batched calls (:func:`eigvalsh_batched`). For NumPy input ``solver="auto"`` follows
measurements on the 2-core development machine (``python benchmarks/measure_policy.py eigen``,
``--threads 1`` for the one-thread columns; ms per eigenvalue problem of a Gram matrix, machine
otherwise idle; ``docs/performance.md`` has the full tables)::

                   two BLAS threads                        one thread
    dtype    N     numpy  lapack-evd  scipy-evr  torch     numpy  lapack-evd  scipy-evr
    float64  512    10.7        6.7        7.7    17.9       8.7         7.8        8.6
    float64  2048  246.4      284.4      233.7   322.2     355.7       331.9      344.1
    float64  3072  775.9      898.6      854.2   716.2
    float64  4096   2550       2747       2482    1550
    float32  512     8.3        5.1        7.7    11.0       8.5         4.9        5.6
    float32  2048  256.0      201.1      158.7   254.3     417.5       186.4      238.4
    float32  4096   2817        996       1177     851

All LAPACK routes do the same work (Householder tridiagonalisation, then ``sterf``); they differ in
workspace, threading and the OpenBLAS build they run on. The policy (:func:`auto_solver`):

* single-threaded solves (inside :func:`map_concurrent`): ``"lapack-evd"``, LAPACK ``?syevd`` with
  its optimal workspace, called from :mod:`scipy.linalg.cython_lapack` through ctypes, which releases
  the GIL (SciPy's own wrappers hold it, so concurrent SciPy solves would not overlap);
* float64 with threaded BLAS: ``numpy.linalg.eigvalsh`` up to N = 2048, on NumPy's OpenBLAS, the
  library that also computes the Gram products (the NumPy and SciPy wheels each bundle an OpenBLAS
  with its own thread pool, and threads of one keep spinning after a call while the other works);
  from N = 3072 torch's MKL ``eigvalsh`` (1.08x at 3072, 1.65x at 4096), if torch is installed;
* float32: ``"lapack-evd"`` (``numpy.linalg.eigvalsh`` silently computes float32 in float64): a
  ``mutual_information`` in float32 is 1.9x faster than in float64 at N = 2048 and 4096;
* not offered: LAPACK's two-stage reduction (``dsyevd_2stage``), 1.1-1.9x slower up to N = 2048.

Several independent eigensolves of NumPy matrices run concurrently (:func:`map_concurrent`), one
single-threaded solve per core: eight float64 solves took 1.34x, 1.38x, 1.59x and 1.07x less time
than one after the other with two-thread LAPACK at N = 256, 512, 1024 and 2048, and such solves do
not collapse when another process holds a core (two-thread BLAS then waits for it at every
synchronisation). :func:`concurrent_workers` gives the policy.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import itertools
import os
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from .._optional import require
from .arrays import is_numpy_namespace

__all__ = [
    "SOLVERS",
    "auto_solver",
    "blas_threads",
    "concurrent_workers",
    "eigvalsh",
    "eigvalsh_batched",
    "get_num_threads",
    "map_concurrent",
    "set_num_threads",
    "thread_limit",
]

SOLVERS = ("auto", "numpy", "lapack-evd", "scipy-evd", "scipy-evr", "torch")

# Measured policy for NumPy input (benchmarks/measure_policy.py eigen, quiet 2-core machine):
# (precision, BLAS single-threaded) -> ((largest N, solver), ...); the last entry covers any larger N.
# Single-threaded solves (concurrent sections) take the fastest one-thread route, which also releases
# the GIL. With two BLAS threads, float64 stays on NumPy's OpenBLAS (shared with the Gram products)
# until torch's MKL pulls ahead (1.08x at N = 3072, 1.65x at 4096), if torch is installed.
_INF = float("inf")
_AUTO = {
    ("float64", False): ((2048, "numpy"), (_INF, "torch")),
    ("float64", True): ((_INF, "lapack-evd"),),
    ("float32", False): ((_INF, "lapack-evd"),),
    ("float32", True): ((_INF, "lapack-evd"),),
}

# Largest N for which one single-threaded solve per core beats LAPACK's own threads
# (benchmarks/measure_policy.py concurrency).
_CONCURRENT_MAX_N = 2048

# GPU batches: at most this many bytes of stacked matrices per batched call.
_BATCH_BYTES = 1 << 30


def auto_solver(n: int, dtype: Any, *, single_threaded: bool = False) -> str:
    """The solver ``"auto"`` uses for an (n, n) NumPy matrix of ``dtype`` (see the module docstring).

    ``single_threaded`` says that BLAS is limited to one thread (the solves of :func:`map_concurrent`).
    ``"torch"`` is chosen only where PyTorch is installed; it is imported on first use.
    """
    precision = "float32" if np.dtype(dtype) == np.float32 else "float64"
    for max_n, solver in _AUTO[precision, bool(single_threaded)]:  # noqa: B007 - used after the loop
        if n <= max_n:
            break
    if solver == "torch" and not _torch_installed():
        return "numpy"
    return solver


def _torch_installed() -> bool:
    if not _TORCH:
        _TORCH.append(importlib.util.find_spec("torch") is not None)
    return _TORCH[0]


_TORCH: list = []


def eigvalsh(A: Any, xp: Any, *, solver: str = "auto") -> Any:
    """Eigenvalues (ascending) of the symmetric matrix ``A`` (..., N, N) in ``xp``'s namespace.

    Parameters
    ----------
    A : array (..., N, N)
        Symmetric matrix or stack of them.
    xp : module
        Array namespace of ``A``.
    solver : {"auto", "numpy", "lapack-evd", "scipy-evd", "scipy-evr", "torch"}
        LAPACK route for NumPy input; ignored (the library's own ``eigvalsh``) for torch and CuPy.
        ``"lapack-evd"`` calls LAPACK ``?syevd`` from :mod:`scipy.linalg.cython_lapack` directly,
        with the GIL released (SciPy's own wrappers hold it, so they cannot run concurrently);
        it, ``"scipy-evd"`` and ``"scipy-evr"`` keep float32 in single precision; ``"torch"``
        needs PyTorch.

    Returns
    -------
    array (..., N)
        Eigenvalues, ascending, in the dtype of ``A``.
    """
    if solver not in SOLVERS:
        raise ValueError(f"eigensolver must be one of {', '.join(map(repr, SOLVERS))}; got eigensolver={solver!r}.")
    if not is_numpy_namespace(xp):
        return xp.linalg.eigvalsh(A)
    if solver == "auto":
        solver = auto_solver(A.shape[-1], A.dtype)
    if solver == "numpy":
        return xp.linalg.eigvalsh(A)
    if solver == "torch":
        return _torch_eigvalsh(A)
    if solver == "lapack-evd":
        return _lapack_eigvalsh(A)
    return _scipy_eigvalsh(A, "evr" if solver == "scipy-evr" else "evd")


def eigvalsh_batched(matrices: Iterable[Any], xp: Any) -> list[Any]:
    """Eigenvalues of several (N, N) matrices of a GPU library, stacked into batched calls.

    CuPy solves a stack with cuSOLVER's batched Jacobi driver, far faster than a loop over
    matrices; torch chooses its own CUDA driver (its batched ``eigh`` can be much slower than
    CuPy's, pytorch issue #174674). ``matrices`` is consumed lazily, a batch of at most
    ``_BATCH_BYTES`` bytes at a time, so a generator keeps device memory bounded.
    """
    matrices = iter(matrices)
    out: list[Any] = []
    first = next(matrices, None)
    if first is None:
        return out
    n = first.shape[-1]
    per_batch = max(1, _BATCH_BYTES // max(1, n * n * _itemsize(first)))
    batch = [first, *itertools.islice(matrices, per_batch - 1)]
    while batch:
        lam = xp.linalg.eigvalsh(xp.stack(batch))
        out.extend(lam[i, ...] for i in range(len(batch)))
        batch = list(itertools.islice(matrices, per_batch))
    return out


def concurrent_workers(n: int, count: int = 2) -> int:
    """Worker threads for ``count`` independent eigensolves of (n, n) NumPy matrices (1: sequential)."""
    if count < 2 or n > _CONCURRENT_MAX_N or _controller() is None:
        return 1
    return max(1, min(_cpu_count(), count))


def map_concurrent(fn: Callable[[Any], Any], items: Iterable[Any], *, workers: int) -> list[Any]:
    """``[fn(x) for x in items]`` on ``workers`` threads, with one BLAS thread each.

    At most ``workers`` items are in flight (``items`` may be a generator of large matrices, made
    while the previous ones are solved), so memory stays bounded. The BLAS thread limit is
    process-wide while the map runs; a second concurrent map started meanwhile from another thread
    runs sequentially instead of fighting over it.
    """
    items = iter(items)
    if workers <= 1 or not _MAP_LOCK.acquire(blocking=False):
        return [fn(x) for x in items]
    try:
        with blas_threads(1), ThreadPoolExecutor(max_workers=workers) as pool:
            return list(_windowed(pool, fn, items, workers))
    finally:
        _MAP_LOCK.release()


def _windowed(pool: ThreadPoolExecutor, fn: Callable, items: Iterator, window: int) -> Iterator[Any]:
    pending: deque = deque()
    for x in items:
        if len(pending) >= window:
            yield pending.popleft().result()
        pending.append(pool.submit(fn, x))
    while pending:
        yield pending.popleft().result()


@contextlib.contextmanager
def blas_threads(limit: int) -> Iterator[None]:
    """Limit the BLAS/LAPACK thread pools of NumPy and SciPy to ``limit`` threads (threadpoolctl)."""
    controller = _controller()
    if controller is None:
        yield
        return
    with controller.limit(limits=limit, user_api="blas"):
        yield


_MAP_LOCK = threading.Lock()
_CONTROLLER: list = []


def _controller() -> Any:
    """A cached threadpoolctl controller (None without threadpoolctl), made after SciPy's LAPACK loads."""
    if not _CONTROLLER:
        try:
            import scipy.linalg  # noqa: F401 - loads SciPy's BLAS so that the controller sees it
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _CONTROLLER.append(None)
        else:
            _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0]


def _cpu_count() -> int:
    """Cores renyimi may use: the affinity mask, capped by :func:`set_num_threads`."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    limit = _thread_setting()
    return cores if limit is None else max(1, min(cores, limit))


# The process-wide thread limit: [value] once set by set_num_threads (None: no limit); empty until
# then, when RENYIMI_NUM_THREADS is read.
_THREADS: list = []


def _thread_setting() -> int | None:
    if not _THREADS:
        env = os.environ.get("RENYIMI_NUM_THREADS", "").strip()
        if env and not (env.isdigit() and int(env) >= 1):
            raise ValueError(f"RENYIMI_NUM_THREADS must be a positive integer; got {env!r}. Unset it or fix it.")
        _THREADS.append(int(env) if env else None)
    return _THREADS[0]


def set_num_threads(n: int | None) -> int | None:
    """Set how many threads renyimi's Gram products and eigensolves may use, process-wide.

    A neighbour that holds a core slows threaded LAPACK solves 20-100 times (every thread waits for
    the slowest at each synchronisation), so on a shared machine limit renyimi to the cores it owns.
    The limit caps the BLAS/LAPACK thread pools (NumPy, SciPy, MKL through threadpoolctl, and torch's
    intra-op threads when torch is loaded) while renyimi computes, and the number of concurrent
    single-threaded solves; other code is not affected. The environment variable
    ``RENYIMI_NUM_THREADS`` sets the initial value.

    Parameters
    ----------
    n : int or None
        Positive number of threads, or None for no limit (each library's own default).

    Returns
    -------
    int or None
        The previous setting, to restore it later.

    Raises
    ------
    ValueError
        If ``n`` is not a positive integer or None.
    ImportError
        If ``n`` is set and threadpoolctl is not installed (``pip install 'renyimi[speed]'``).

    Examples
    --------
    >>> import renyimi
    >>> previous = renyimi.set_num_threads(1)
    >>> renyimi.get_num_threads()
    1
    >>> _ = renyimi.set_num_threads(previous)
    """
    if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1):
        raise ValueError(f"n must be a positive integer (threads) or None (no limit); got n={n!r}.")
    if n is not None:
        require("threadpoolctl", needed_by="renyimi.set_num_threads", extra="speed")
    previous = _thread_setting()
    _THREADS[0] = None if n is None else int(n)
    return previous


def get_num_threads() -> int:
    """Threads renyimi may use: the :func:`set_num_threads` limit, else the cores of this process."""
    return _cpu_count()


@contextlib.contextmanager
def thread_limit() -> Iterator[None]:
    """Apply the :func:`set_num_threads` limit to BLAS, LAPACK and torch while renyimi computes."""
    limit = _thread_setting()
    if limit is None:
        yield
        return
    torch = sys.modules.get("torch")
    previous = torch.get_num_threads() if torch is not None else None
    if torch is not None and previous > limit:
        torch.set_num_threads(limit)
    try:
        with blas_threads(limit):
            yield
    finally:
        if torch is not None and previous > limit:
            torch.set_num_threads(previous)


def _itemsize(A: Any) -> int:
    return getattr(A.dtype, "itemsize", 8)


def _scipy_eigvalsh(A: Any, driver: str) -> Any:
    from scipy.linalg import eigh

    if A.ndim == 2:
        return eigh(A, eigvals_only=True, driver=driver, check_finite=False)
    return np.stack([eigh(a, eigvals_only=True, driver=driver, check_finite=False) for a in A])


def _lapack_eigvalsh(A: Any) -> Any:
    """Eigenvalues by LAPACK ``?syevd`` (jobz="N", optimal workspace), the GIL released by ctypes."""
    if A.ndim > 2:
        return np.stack([_lapack_eigvalsh(a) for a in A])
    if A.dtype not in (np.float32, np.float64):
        A = A.astype(np.float64)
    syevd = _syevd(A.dtype)
    a = np.array(A, order="C", copy=True)  # overwritten by LAPACK
    n = a.shape[0]
    w = np.empty(n, a.dtype)
    # Fortran's upper triangle of a C-ordered array is its lower one, the triangle numpy.linalg.eigvalsh reads.
    jobz, uplo, n_, info = ctypes.c_char(b"N"), ctypes.c_char(b"U"), ctypes.c_int(n), ctypes.c_int(0)
    lda = ctypes.c_int(max(1, n))

    def call(work, iwork, lwork, liwork):
        syevd(ctypes.byref(jobz), ctypes.byref(uplo), ctypes.byref(n_), a.ctypes.data, ctypes.byref(lda),
              w.ctypes.data, work.ctypes.data, ctypes.byref(ctypes.c_int(lwork)), iwork.ctypes.data,
              ctypes.byref(ctypes.c_int(liwork)), ctypes.byref(info))

    work, iwork = np.empty(1, a.dtype), np.empty(1, np.intc)
    call(work, iwork, -1, -1)  # workspace query: the optimal sizes land in work[0] and iwork[0]
    work, iwork = np.empty(max(1, int(work[0])), a.dtype), np.empty(max(1, int(iwork[0])), np.intc)
    call(work, iwork, work.size, iwork.size)
    if info.value != 0:
        raise np.linalg.LinAlgError(f"LAPACK ?syevd failed (info={info.value}): the eigenvalues did not converge.")
    return w


_SYEVD: dict = {}


def _syevd(dtype: Any) -> Any:
    """``ssyevd``/``dsyevd`` of :mod:`scipy.linalg.cython_lapack` as a ctypes function (cached)."""
    name = "ssyevd" if dtype == np.float32 else "dsyevd"
    if name not in _SYEVD:
        from scipy.linalg import cython_lapack

        api = ctypes.pythonapi
        api.PyCapsule_GetName.restype, api.PyCapsule_GetName.argtypes = ctypes.c_char_p, [ctypes.py_object]
        api.PyCapsule_GetPointer.restype = ctypes.c_void_p
        api.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
        capsule = cython_lapack.__pyx_capi__[name]
        address = api.PyCapsule_GetPointer(capsule, api.PyCapsule_GetName(capsule))
        _SYEVD[name] = ctypes.CFUNCTYPE(None, *[ctypes.c_void_p] * 11)(address)
    return _SYEVD[name]


def _torch_eigvalsh(A: Any) -> Any:
    torch = require("torch", needed_by="eigensolver='torch'", extra="torch")
    return torch.linalg.eigvalsh(torch.from_numpy(A)).numpy()

