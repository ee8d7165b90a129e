"""renyimi: matrix-based Rényi entropy, mutual information and information planes.

Implements the matrix-based Rényi α-entropy of Sánchez Giraldo, Rao & Príncipe (2015) with the
kernel-width rule of Tapia & Estévez (IJCNN 2020), for NumPy, CuPy and PyTorch arrays.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._engine.eigen import get_num_threads, set_num_threads
from ._measures import (
    conditional_entropy,
    gram_matrix,
    joint_entropy,
    matrix_entropy,
    mutual_information,
    total_correlation,
)
from ._version import __version__
from .estimator import MatrixMI
from .kernels import available_kernels, register_kernel
from .pairwise import pairwise_mutual_information
from .plane import InformationPlane
from .stats import independence_test
from .width import available_width_rules, register_width_rule

__all__ = [
    "InformationPlane",
    "MatrixMI",
    "__version__",
    "available_kernels",
    "available_width_rules",
    "conditional_entropy",
    "get_num_threads",
    "gram_matrix",
    "independence_test",
    "joint_entropy",
    "matrix_entropy",
    "mutual_information",
    "pairwise_mutual_information",
    "register_kernel",
    "register_width_rule",
    "set_num_threads",
    "total_correlation",
]

# Submodules with optional dependencies load on first attribute access, so `import renyimi`
# never imports torch, numba, CuPy, matplotlib or Dask.
_LAZY_SUBMODULES = ("capture", "datasets", "distributed", "kernels", "plotting", "stats", "theory", "width")


def __getattr__(name: str) -> Any:
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'renyimi' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*__all__, *_LAZY_SUBMODULES])
