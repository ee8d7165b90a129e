"""Array-library detection and conversion at the public boundary.

Every public entry point resolves the array namespace once (``get_namespace``) and passes it down;
helpers never re-inspect their inputs.  Libraries are recognised through :mod:`array_api_compat`,
which looks at ``sys.modules`` and never imports torch or CuPy just to ask "is this a tensor?".
"""

from __future__ import annotations

from typing import Any

import array_api_compat
import numpy as np

__all__ = [
    "device",
    "get_namespace",
    "is_numpy_namespace",
    "library_name",
    "resolve_dtype",
    "to_numpy",
    "to_python_float",
]

#: The device an array lives on (array-api-compat works for NumPy, CuPy and torch alike).
device = array_api_compat.device


def library_name(x: Any) -> str:
    """Name of the array library that owns ``x`` ("numpy", "torch", "cupy" or the module name)."""
    if array_api_compat.is_numpy_array(x):
        return "numpy"
    if array_api_compat.is_torch_array(x):
        return "torch"
    if array_api_compat.is_cupy_array(x):
        return "cupy"
    return type(x).__module__.split(".")[0]


def is_numpy_namespace(xp: Any) -> bool:
    """Whether ``xp`` is NumPy (itself or array-api-compat's wrapper of it): the one such test in renyimi."""
    return xp.__name__.endswith("numpy")


def _as_array(x: Any, name: str) -> Any:
    if array_api_compat.is_array_api_obj(x):
        return x
    try:
        return np.asarray(x)
    except (ValueError, TypeError) as exc:
        raise TypeError(
            f"{name} must be an array (NumPy, CuPy or PyTorch) or an array-like of numbers; "
            f"got {type(x).__name__} that NumPy cannot convert ({exc})."
        ) from None


def get_namespace(arrays: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """Convert array-likes and return the shared array-API namespace.

    Parameters
    ----------
    arrays : dict of str to array-like
        The inputs by parameter name (names are used in error messages).

    Returns
    -------
    xp : module
        The array-API-compatible namespace of the inputs.
    arrays : dict
        The inputs, array-likes converted to NumPy arrays.

    Raises
    ------
    TypeError
        If the inputs belong to different array libraries.
    """
    converted = {name: _as_array(x, name) for name, x in arrays.items()}
    libraries = {name: library_name(x) for name, x in converted.items()}
    if len(set(libraries.values())) > 1:
        found = ", ".join(f"{name} is {lib}" for name, lib in libraries.items())
        raise TypeError(
            f"All inputs must come from the same array library; got {found}. "
            "Convert them first, e.g. torch.as_tensor(x) or x.cpu().numpy()."
        )
    return array_api_compat.array_namespace(*converted.values()), converted


def resolve_dtype(xp: Any, dtype: Any) -> Any:
    """Map ``dtype`` (None, "float64", "float32" or a library dtype) onto ``xp``'s float dtype."""
    if dtype is None:
        return xp.float64
    name = getattr(dtype, "__name__", None) or str(dtype)
    name = name.replace("torch.", "")
    if name in ("float64", "double", "<class 'numpy.float64'>", "f8"):
        return xp.float64
    if name in ("float32", "float", "single", "<class 'numpy.float32'>", "f4"):
        return xp.float32
    raise ValueError(f"dtype must be None, 'float64' or 'float32'; got {dtype!r}.")


def to_python_float(x: Any) -> float:
    """A 0-d array of any library as a Python float (detached, on the host)."""
    if hasattr(x, "detach"):
        x = x.detach()
    if hasattr(x, "item"):
        return float(x.item())
    return float(x)


def to_numpy(a: Any) -> np.ndarray:
    """``a`` as a NumPy array on the host (torch tensors detached; CuPy copied from the device)."""
    if hasattr(a, "detach"):  # torch, without importing it
        return a.detach().cpu().numpy()
    if hasattr(a, "get") and type(a).__module__.startswith("cupy"):
        return a.get()
    return np.asarray(a)
