"""Optional dependencies, imported on first use with an error that names the pip extra."""

from __future__ import annotations

import importlib
from types import ModuleType


def require(module: str, *, needed_by: str, extra: str) -> ModuleType:
    """Import ``module`` or raise an ImportError saying who needs it and how to install it.

    Examples
    --------
    >>> require("math", needed_by="this example", extra="plot").sqrt(4.0)
    2.0
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        package = module.split(".")[0]
        raise ImportError(
            f"{needed_by} needs {package}, which is not installed; install it with: pip install 'renyimi[{extra}]'"
        ) from exc
