r"""Infinitely divisible kernels used to build Gram matrices, and their registry.

A kernel is a function ``kernel(sqdist, sigma, xp) -> K`` mapping the (N, N) matrix of squared
Euclidean distances and a positive width :math:`\sigma` to the Gram matrix, written with the array-API
namespace ``xp`` so that it runs unchanged on NumPy, CuPy and PyTorch arrays.

The matrix-based entropy of Sánchez Giraldo et al. [1]_ needs kernels that are infinitely divisible
and positive definite; both built-in kernels are.

==============  ====================================================
name            :math:`\kappa(x, y)`
==============  ====================================================
``gaussian``    :math:`\exp\left(-\lVert x-y\rVert^2 / (2\sigma^2)\right)` (the paper's eq. 21)
``laplacian``   :math:`\exp\left(-\lVert x-y\rVert / \sigma\right)`
==============  ====================================================

References
----------
.. [1] L. G. Sánchez Giraldo, M. Rao, J. C. Príncipe, "Measures of entropy from data using
   infinitely divisible kernels", IEEE Trans. Inf. Theory 61(1), 2015. arXiv:1211.2459.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._registry import Registry

__all__ = ["available_kernels", "gaussian_kernel", "get_kernel", "laplacian_kernel", "register_kernel"]

Kernel = Callable[[Any, Any, Any], Any]
_KERNELS: Registry[Kernel] = Registry(
    "kernel", "Unknown kernel {name!r}", "or pass a callable (sqdist, sigma, xp) -> K", extra_names=("precomputed",)
)


def register_kernel(name: str, kernel: Kernel, *, overwrite: bool = False) -> Kernel:
    """Add a kernel to the registry so that ``kernel=name`` selects it everywhere.

    Parameters
    ----------
    name : str
        Registry key (any string but ``"precomputed"``).
    kernel : callable
        ``kernel(sqdist, sigma, xp) -> K``: squared distances (N, N), width (positive scalar) and
        the array namespace; must return an (N, N) array with a positive diagonal.
    overwrite : bool, default False
        Replace an existing kernel of the same name instead of raising.

    Returns
    -------
    callable
        ``kernel``.

    Examples
    --------
    >>> import renyimi
    >>> def cauchy(sqdist, sigma, xp):
    ...     return 1.0 / (1.0 + sqdist / sigma**2)
    >>> _ = renyimi.register_kernel("cauchy", cauchy)
    >>> "cauchy" in renyimi.available_kernels()
    True
    """
    return _KERNELS.register(name, kernel, overwrite=overwrite)


def available_kernels() -> tuple[str, ...]:
    """Names accepted by ``kernel=`` (plus ``'precomputed'`` for user-supplied Gram matrices)."""
    return _KERNELS.names()


def get_kernel(name: str | Kernel) -> Kernel:
    """Look a kernel up by name (callables pass through)."""
    return name if callable(name) else _KERNELS.get(name)


def gaussian_kernel(sqdist: Any, sigma: Any, xp: Any) -> Any:
    r"""Gaussian kernel :math:`\exp(-d^2 / (2\sigma^2))` on squared distances (eq. 21)."""
    return xp.exp(sqdist * (-0.5 / sigma**2))


def laplacian_kernel(sqdist: Any, sigma: Any, xp: Any) -> Any:
    r"""Laplacian kernel :math:`\exp(-d / \sigma)` on squared distances."""
    positive = sqdist > 0
    # The double `where` keeps torch gradients finite at d = 0, where sqrt'(0) is infinite.
    dist = xp.where(positive, xp.sqrt(xp.where(positive, sqdist, 1.0)), 0.0)
    return xp.exp(dist * (-1.0 / sigma))


register_kernel("gaussian", gaussian_kernel)
register_kernel("laplacian", laplacian_kernel)
