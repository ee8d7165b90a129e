"""Saving and loading information planes: one JSON document (optionally gzip-compressed).

JSON keeps every float exactly (``repr`` round-trips) and can be read without renyimi.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .._version import __version__

__all__ = ["FORMAT", "FORMAT_VERSION", "UNSERIALISABLE", "json_value", "lost_settings", "read_state", "write_state"]

FORMAT = "renyimi.InformationPlane"
FORMAT_VERSION = 1
UNSERIALISABLE = "__unserialisable__"


def json_value(value: Any, name: str) -> Any:
    """``value`` if JSON can hold it; a dtype's name; otherwise a marker with its ``repr``."""
    try:
        json.dumps(value)
        return value
    except TypeError:
        dtype_name = getattr(value, "__name__", None) if name == "dtype" else None
        return dtype_name or {UNSERIALISABLE: repr(value)}


def is_lost(value: Any) -> bool:
    """Whether a loaded setting was saved as an unserialisable marker."""
    return isinstance(value, dict) and UNSERIALISABLE in value


def lost_settings(saved: dict[str, Any], given: dict[str, Any]) -> list[str]:
    """Saved settings that were not serialisable (saved as their repr) and are not given again."""
    lost = [k for k, v in saved.items() if is_lost(v) and k not in given]
    if "overrides" not in given:
        lost += [f"overrides[{n!r}][{k!r}]" for n, s in saved.get("overrides", {}).items()
                 for k, v in s.items() if is_lost(v)]
    return lost


def write_state(state: dict[str, Any], path: str | Path) -> Path:
    """Write ``state`` atomically (temporary file in the same directory, then rename); ``.gz`` compresses."""
    path = Path(path)
    text = json.dumps({"format": FORMAT, "format_version": FORMAT_VERSION, "renyimi_version": __version__,
                       **state}, indent=1, allow_nan=False)
    fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as raw:
            data = text.encode("utf-8")
            raw.write(gzip.compress(data) if path.suffix == ".gz" else data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_state(path: str | Path) -> dict[str, Any]:
    """Read and check a document written by :func:`write_state`."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as f:
            state = json.load(f)
    except (OSError, EOFError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError(f"{path} is not a readable InformationPlane file ({type(exc).__name__}: {exc}).") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"{path} is not an InformationPlane file (no 'format': {FORMAT!r} entry).")
    if state.get("format_version", 0) > FORMAT_VERSION:
        raise ValueError(f"{path} was written by renyimi {state.get('renyimi_version')} in format "
                         f"{state['format_version']}; this renyimi reads format <= {FORMAT_VERSION}. "
                         f"Upgrade renyimi.")
    return state
