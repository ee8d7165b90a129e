"""Eigenvalues of symmetric matrices: one dispatch point for every array library.

Only eigenvalues are ever computed (never eigenvectors). NumPy input goes to SciPy's LAPACK
drivers, which keep float32 in single precision (``numpy.linalg.eigvalsh`` silently upcasts it);
torch and CuPy use their own ``eigvalsh``, which keeps data on its device (and torch autograd).
"""

from __future__ import annotations

from typing import Any

__all__ = ["SOLVERS", "eigvalsh"]

SOLVERS = ("auto", "numpy", "scipy-evd", "scipy-evr", "torch")


def eigvalsh(A: Any, xp: Any, *, solver: str = "auto") -> Any:
    """Eigenvalues (ascending) of the symmetric matrix ``A`` (..., N, N) in ``xp``'s namespace."""
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {', '.join(map(repr, SOLVERS))}; got solver={solver!r}.")
    if not _is_numpy(xp) or solver == "numpy":
        return xp.linalg.eigvalsh(A)
    if solver == "torch":
        return _torch_eigvalsh(A)
    return _scipy_eigvalsh(A, "evr" if solver == "scipy-evr" else "evd")


def _is_numpy(xp: Any) -> bool:
    return xp.__name__.endswith("numpy")


def _scipy_eigvalsh(A: Any, driver: str) -> Any:
    import numpy as np
    from scipy.linalg import eigh

    if A.ndim == 2:
        return eigh(A, eigvals_only=True, driver=driver, check_finite=False)
    return np.stack([eigh(a, eigvals_only=True, driver=driver, check_finite=False) for a in A])


def _torch_eigvalsh(A: Any) -> Any:
    try:
        import torch
    except ImportError:  # pragma: no cover - exercised only without torch
        raise ImportError("solver='torch' needs PyTorch: pip install 'renyimi[torch]'.") from None
    return torch.linalg.eigvalsh(torch.from_numpy(A)).numpy()
