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
   infinitely divisible kernels", IEEE Trans. Inf. Theory 61(1), 2015. `arXiv:1211.2459 <https://arxiv.org/abs/1211.2459>`__.
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
    """Names accepted by ``kernel=`` in every estimator.

    Returns
    -------
    tuple of str
        The registered kernels (``"gaussian"``, ``"laplacian"`` and any added with
        :func:`register_kernel`), plus ``"precomputed"``: the inputs are then Gram matrices.

    Examples
    --------
    >>> from renyimi.kernels import available_kernels
    >>> {"gaussian", "laplacian", "precomputed"} <= set(available_kernels())
    True
    """
    return _KERNELS.names()


def get_kernel(name: str | Kernel) -> Kernel:
    """The kernel function registered under a name; a callable is returned unchanged.

    Parameters
    ----------
    name : str or callable
        A name from :func:`available_kernels` (``"precomputed"`` excepted), or a kernel
        ``kernel(sqdist, sigma, xp) -> K``.

    Returns
    -------
    callable
        ``kernel(sqdist, sigma, xp) -> K``.

    Raises
    ------
    ValueError
        If the name is not registered; the message lists the registered names.

    Examples
    --------
    >>> import numpy as np
    >>> from renyimi.kernels import get_kernel
    >>> get_kernel("gaussian")(np.array([[0.0, 2.0], [2.0, 0.0]]), 1.0, np)
    array([[1.        , 0.36787944],
           [0.36787944, 1.        ]])
    """
    return name if callable(name) else _KERNELS.get(name)


def gaussian_kernel(sqdist: Any, sigma: Any, xp: Any) -> Any:
    r"""Gaussian kernel :math:`\exp(-d^2 / (2\sigma^2))` on squared distances (eq. 21 of the paper).

    The default kernel of every estimator (``kernel="gaussian"``). It is infinitely divisible, so the
    matrix-based entropy built on it is well defined [1]_, and its Gram matrix has unit diagonal.

    Parameters
    ----------
    sqdist : array, shape (N, N)
        Squared Euclidean distances :math:`d^2 = \lVert x_i - x_j\rVert^2` (NumPy, CuPy or torch).
    sigma : float or 0-d array
        Kernel width :math:`\sigma > 0`, in the units of the data.
    xp : module
        Array namespace of ``sqdist`` (``numpy``, ``cupy``, an array-API-compatible torch namespace).

    Returns
    -------
    array, shape (N, N)
        :math:`K_{ij} = \exp(-d_{ij}^2 / (2\sigma^2))`, same library, device and dtype as ``sqdist``.

    Examples
    --------
    >>> import numpy as np
    >>> from renyimi.kernels import gaussian_kernel
    >>> gaussian_kernel(np.array([[0.0, 2.0], [2.0, 0.0]]), 1.0, np)
    array([[1.        , 0.36787944],
           [0.36787944, 1.        ]])
    """
    # Dividing twice (not by sigma**2) keeps sigma from 1e-170 to 1e300 finite: the kernel tends to the
    # identity and to all ones, its limits, instead of overflowing.
    return xp.exp(-0.5 * ((sqdist / sigma) / sigma))


def laplacian_kernel(sqdist: Any, sigma: Any, xp: Any) -> Any:
    r"""Laplacian kernel :math:`\exp(-d / \sigma)`, evaluated on squared distances.

    Selected with ``kernel="laplacian"``; like the Gaussian it is infinitely divisible [1]_. Its
    gradient is kept finite at :math:`d = 0` for torch inputs.

    Parameters
    ----------
    sqdist : array, shape (N, N)
        Squared Euclidean distances :math:`d^2` (NumPy, CuPy or torch).
    sigma : float or 0-d array
        Kernel width :math:`\sigma > 0`, in the units of the data.
    xp : module
        Array namespace of ``sqdist``.

    Returns
    -------
    array, shape (N, N)
        :math:`K_{ij} = \exp(-d_{ij} / \sigma)`, same library, device and dtype as ``sqdist``.

    Examples
    --------
    >>> import numpy as np
    >>> from renyimi.kernels import laplacian_kernel
    >>> laplacian_kernel(np.array([[0.0, 4.0], [4.0, 0.0]]), 2.0, np)
    array([[1.        , 0.36787944],
           [0.36787944, 1.        ]])
    """
    positive = sqdist > 0
    # The double `where` keeps torch gradients finite at d = 0, where sqrt'(0) is infinite.
    dist = xp.where(positive, xp.sqrt(xp.where(positive, sqdist, 1.0)), 0.0)
    return xp.exp(-(dist / sigma))


register_kernel("gaussian", gaussian_kernel)
register_kernel("laplacian", laplacian_kernel)
