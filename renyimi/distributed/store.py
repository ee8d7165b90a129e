"""Activation stores: a training run's activations on disk, one file per (step, batch), for planes computed later.

Layout of a store directory::

    STORE/
      store.json                      settings of the information plane (written once, at creation)
      index.jsonl                     one line per written file: step, batch, file name, layers, shapes
      activations/
        step-000000000120_batch-0003.npz
      measurements/<fingerprint>/     results of compute_plane, one JSON file per (step, batch)

Every file is written to a temporary file in the same directory and moved into place with
:func:`os.replace`, which is atomic on POSIX and Windows file systems: a reader (or a run killed
mid-write) sees either no file or the whole file, never part of one. A data file is listed in the
index only after it is in place; the index is appended one short line at a time (``O_APPEND``).

Why ``.npz`` and not zarr: NumPy writes it without any extra dependency (training machines need
nothing beyond renyimi and NumPy), one (step, batch) is one small self-contained file that can be
written atomically with one rename (a zarr array is a directory of chunk files and metadata, which
cannot be replaced atomically as a unit), and every measurement reads whole files, so chunked,
sliced access (zarr's strength) buys nothing. Arrays are stored without pickles
(``allow_pickle=False`` on reading).
"""

from __future__ import annotations

import io
import json
import math
import numbers
import os
import re
import tempfile
import warnings
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._engine.arrays import to_numpy
from ..plane.storage import lost_settings

__all__ = ["ActivationStore", "Entry", "StoreError", "atomic_write_bytes", "atomic_write_text"]

FORMAT = "renyimi.ActivationStore"
FORMAT_VERSION = 1
META = "store.json"
INDEX = "index.jsonl"
ACTIVATIONS = "activations"
MEASUREMENTS = "measurements"
_NAME = re.compile(r"^step-(?P<step>.+)_batch-(?P<batch>\d+)\.npz$")
_TMP_PREFIX = ".tmp-"


class StoreError(ValueError):
    """A store that cannot be read as written: missing or corrupt file, mismatched layers or shapes."""


@dataclass(frozen=True)
class Entry:
    """One stored (step, batch): its file name (relative to ``activations/``), layer order and shapes."""

    step: int | float
    batch: int
    file: str
    layers: tuple[str, ...]
    shapes: dict  # {"x": shape, "y": shape, layer: shape}

    @property
    def key(self) -> str:
        """``step-..._batch-....`` (the file name without ``.npz``), unique in the store."""
        return self.file[:-4]


# ------------------------------------------------------------------------------- atomic writes
def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same directory and :func:`os.replace`."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with _suppress_os_error():
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    """:func:`atomic_write_bytes` for UTF-8 text."""
    return atomic_write_bytes(path, text.encode("utf-8"))


class _suppress_os_error:
    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        return kind is not None and issubclass(kind, OSError)


def _check_step(step: Any) -> int | float:
    if isinstance(step, bool) or not isinstance(step, numbers.Real) or not math.isfinite(step):
        raise ValueError(f"step must be a finite number (the training iteration); got step={step!r}.")
    return int(step) if isinstance(step, numbers.Integral) else float(step)


def _check_batch(batch: Any) -> int:
    if isinstance(batch, bool) or not isinstance(batch, numbers.Integral) or not 0 <= batch < 10**9:
        raise ValueError(f"batch must be an integer in [0, 1e9) (the evaluation batch at this step); "
                         f"got batch={batch!r}.")
    return int(batch)


def _step_text(step: int | float) -> str:
    # Integer steps sort as text (zero padded); fractional steps (epochs) keep their exact repr.
    if isinstance(step, int):
        return f"{step:012d}" if step >= 0 else f"-{-step:012d}"
    return repr(step)


def entry_file(step: int | float, batch: int) -> str:
    """File name of one (step, batch) inside ``activations/``."""
    return f"step-{_step_text(step)}_batch-{batch:04d}.npz"


# ---------------------------------------------------------------------------------------- store
class ActivationStore:
    """A directory of activations recorded during training, one ``.npz`` file per (step, batch).

    Create it once with the information plane's settings, write every evaluation batch while the
    network trains, and compute the plane later, anywhere, in parallel
    (:func:`renyimi.distributed.compute_plane`, or ``python -m renyimi plane STORE``). Writing needs
    only NumPy (no Dask on the training machine).

    Parameters
    ----------
    path : str or pathlib.Path
        The store directory. Created if it does not exist.
    plane : InformationPlane, optional
        Settings of the plane to compute (layers, ``n_encoder``, ``output``, estimator settings);
        saved to ``store.json`` at creation. Default ``InformationPlane()``. Opening an existing
        store with a ``plane`` whose settings differ raises ``ValueError``; open it without
        ``plane`` to read the saved one.
    compress : bool, default False
        Write ``np.savez_compressed`` files (smaller, slower; activations of sigmoid layers
        compress by about 10 %).

    Examples
    --------
    >>> import numpy as np, renyimi, tempfile
    >>> from renyimi.distributed import ActivationStore
    >>> store = ActivationStore(tempfile.mkdtemp(), plane=renyimi.InformationPlane(sigma_scale=2.0))
    >>> rng = np.random.default_rng(0)
    >>> for step in (0, 10):
    ...     for batch in range(2):
    ...         x = rng.normal(size=(32, 5))
    ...         _ = store.write(step, batch, x=x, y=x, layers={"Z": x[:, :2]})
    >>> [(e.step, e.batch) for e in store.entries()]
    [(0, 0), (0, 1), (10, 0), (10, 1)]
    >>> x, y, layers = store.load(10, 1)
    >>> layers["Z"].shape
    (32, 2)
    """

    def __init__(self, path: str | Path, plane: Any = None, *, compress: bool = False) -> None:
        self.path = Path(path)
        self.compress = bool(compress)
        meta = self.path / META
        if meta.exists():
            self._meta = self._read_meta()
            if plane is not None and _plane_state(plane) != self._meta["plane"]:
                raise ValueError(f"{meta} was created with other plane settings than the plane given; "
                                 f"open the store without plane= to use its saved settings, or write to a "
                                 f"new directory.")
        else:
            if plane is None:
                from ..plane import InformationPlane

                plane = InformationPlane()
            (self.path / ACTIVATIONS).mkdir(parents=True, exist_ok=True)
            from .. import __version__

            self._meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "renyimi_version": __version__,
                          "plane": _plane_state(plane)}
            atomic_write_text(meta, json.dumps(self._meta, indent=1))
        (self.path / ACTIVATIONS).mkdir(parents=True, exist_ok=True)

    def _read_meta(self) -> dict:
        meta = self.path / META
        try:
            state = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StoreError(f"{meta}: cannot read the store's metadata ({exc}).") from exc
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            raise StoreError(f"{meta} is not an activation store's metadata (no 'format': {FORMAT!r} entry).")
        if state.get("format_version", 0) > FORMAT_VERSION:
            raise StoreError(f"{meta} has format {state['format_version']}; this renyimi reads format <= "
                             f"{FORMAT_VERSION}. Upgrade renyimi.")
        return state

    @classmethod
    def open(cls, path: str | Path) -> ActivationStore:
        """Open an existing store (raises :class:`StoreError` if ``path`` holds none)."""
        if not (Path(path) / META).exists():
            raise StoreError(f"{Path(path) / META} does not exist: {path} is not an activation store "
                             f"(create one with ActivationStore(path, plane=...) during training).")
        return cls(path)

    # --------------------------------------------------------------------------------- plane
    def plane(self, **settings: Any) -> Any:
        """A new, empty :class:`~renyimi.InformationPlane` with the store's settings (keywords replace them)."""
        from ..plane import InformationPlane

        state = self._meta["plane"]
        saved = dict(state["settings"])
        lost = lost_settings(saved, settings)
        if lost:
            raise ValueError(f"{self.path / META}: the settings {lost} were not serialisable (a callable width "
                             f"rule or kernel) and were saved as their repr; pass them again, e.g. "
                             f"compute_plane(store, plane=renyimi.InformationPlane(...)).")
        saved.update(settings)
        return InformationPlane(state["layers"] or None, n_encoder=state["n_encoder"], output=state["output"],
                                **saved)

    # --------------------------------------------------------------------------------- write
    def write(self, step: int | float, batch: int, *, x: Any, y: Any, layers: Mapping[str, Any]) -> Path:
        """Write one evaluation batch's input, output variable and layer activations, atomically.

        Arrays of any library (NumPy, torch, CuPy) are copied to host memory as NumPy arrays of the
        same dtype. Writing the same (step, batch) again replaces the file (last write wins).

        Parameters
        ----------
        step : int or float
            Training iteration.
        batch : int
            Evaluation batch at this step (0, 1, ...); batches of one step are averaged in this order.
        x, y : array (N, ...)
            Inputs and output variable (reconstruction, or labels for ``output="labels"``).
        layers : mapping of str to array (N, ...)
            Activations in network order.

        Returns
        -------
        pathlib.Path
            The file written.
        """
        step, batch = _check_step(step), _check_batch(batch)
        if not isinstance(layers, Mapping) or not layers:
            raise TypeError(f"layers must be a non-empty mapping {{name: activations}}; got {layers!r}.")
        arrays = {"x": to_numpy(x), "y": to_numpy(y)}
        names = []
        for i, (name, t) in enumerate(layers.items()):
            if not isinstance(name, str):
                raise TypeError(f"layer names must be strings; got {name!r}.")
            names.append(name)
            arrays[f"layer_{i}"] = to_numpy(t)
        shapes = {k: a.shape for k, a in arrays.items()}
        n = {k: (s[0] if s else None) for k, s in shapes.items()}
        if len(set(n.values())) != 1 or None in n.values():
            listed = ", ".join(f"{_label(k, names)}.shape={shapes[k]}" for k in arrays)
            raise ValueError(f"x, y and every layer must have the same number of samples (rows); got {listed}.")
        for k, a in arrays.items():
            if a.dtype == object:
                raise TypeError(f"{_label(k, names)} has dtype object; store numeric (or string label) arrays.")
        arrays["layers"] = np.array(names, dtype=str)
        buf = io.BytesIO()
        (np.savez_compressed if self.compress else np.savez)(buf, **arrays)
        name = entry_file(step, batch)
        target = atomic_write_bytes(self.path / ACTIVATIONS / name, buf.getvalue())
        line = {"step": step, "batch": batch, "file": name, "layers": names,
                "shapes": {_label(k, names): list(s) for k, s in shapes.items()}}
        _append_line(self.path / INDEX, json.dumps(line))
        return target

    # ---------------------------------------------------------------------------------- read
    def entries(self) -> list[Entry]:
        """Every written (step, batch), sorted by step then batch (the order batches are averaged in).

        Read from ``index.jsonl``; a later line for the same (step, batch) replaces an earlier one.
        A last line cut short (a writer killed while appending) is ignored with a warning; any other
        unreadable line raises :class:`StoreError` naming the index and the line.
        """
        index = self.path / INDEX
        if not index.exists():
            return []
        text = index.read_text(encoding="utf-8")
        lines = text.split("\n")
        found: dict[tuple, Entry] = {}
        for i, line in enumerate(lines):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
                e = Entry(_check_step(d["step"]), _check_batch(d["batch"]), str(d["file"]), tuple(d["layers"]),
                          {k: tuple(v) for k, v in d["shapes"].items()})
            except (ValueError, KeyError, TypeError) as exc:
                if i == len(lines) - 1:  # no newline after it: an append cut short
                    warnings.warn(f"{index}: ignoring an incomplete last line ({line[:60]!r}...); the batch it "
                                  f"was to list is not in the store.", stacklevel=2)
                    continue
                raise StoreError(f"{index}, line {i + 1}: not a valid index entry ({exc}): {line[:80]!r}") from exc
            if _NAME.match(e.file) is None or e.file != entry_file(e.step, e.batch):
                raise StoreError(f"{index}, line {i + 1}: file name {e.file!r} does not match step {e.step!r}, "
                                 f"batch {e.batch}.")
            found[(e.step, e.batch)] = e
        return [found[k] for k in sorted(found)]

    def __len__(self) -> int:
        return len(self.entries())

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries())

    def file(self, entry: Entry) -> Path:
        """Path of an entry's ``.npz`` file."""
        return self.path / ACTIVATIONS / entry.file

    def check(self, entries: list[Entry] | None = None, *, files: bool = True) -> list[Entry]:
        """Validate the store; returns its entries. Raises :class:`StoreError` naming the first bad file.

        Checks from the index that every entry has the same layers and, per layer, the same
        per-sample shape as the first entry, and that every file listed exists (``files=True``).
        The files' contents are checked when they are loaded (:meth:`load_file`).
        """
        entries = self.entries() if entries is None else entries
        if not entries:
            raise StoreError(f"{self.path / INDEX}: the store holds no activations; write some with "
                             f"store.write(step, batch, x=..., y=..., layers=...).")
        first = entries[0]
        ref = {k: tuple(s[1:]) for k, s in first.shapes.items()}
        for e in entries:
            if set(e.layers) != set(first.layers) or len(e.layers) != len(first.layers):
                raise StoreError(f"{self.file(e)}: layers {list(e.layers)} differ from {list(first.layers)} of "
                                 f"{self.file(first)}; every batch of a plane needs the same layers.")
            per_sample = {k: tuple(s[1:]) for k, s in e.shapes.items()}
            bad = {k: (per_sample.get(k), ref[k]) for k in ref if per_sample.get(k) != ref[k]}
            if bad:
                desc = ", ".join(f"{k}: {got} (first file: {want})" for k, (got, want) in bad.items())
                raise StoreError(f"{self.file(e)}: per-sample shapes differ from {self.file(first)}: {desc}.")
            if files and not self.file(e).exists():
                raise StoreError(f"{self.file(e)} is listed in {self.path / INDEX} (step {e.step!r}, batch "
                                 f"{e.batch}) but does not exist; restore it, or write that batch again.")
        return entries

    def load(self, step: int | float, batch: int) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """``(x, y, layers)`` of one (step, batch), as written."""
        return load_file(self.path / ACTIVATIONS / entry_file(_check_step(step), _check_batch(batch)))

    def load_entry(self, entry: Entry) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """``(x, y, layers)`` of an entry; raises :class:`StoreError` naming the file if it is bad."""
        return load_file(self.file(entry), entry)

    def measurements_dir(self, fingerprint: str) -> Path:
        """Default results directory of :func:`~renyimi.distributed.compute_plane` for a settings fingerprint."""
        return self.path / MEASUREMENTS / fingerprint

    def __repr__(self) -> str:
        return f"ActivationStore({str(self.path)!r}, entries={len(self)})"


def load_file(path: str | Path, entry: Entry | None = None) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Read one activation file; a missing, corrupt or inconsistent file raises :class:`StoreError` naming it."""
    path = Path(path)
    if not path.exists():
        raise StoreError(f"{path} does not exist (listed in the store's index); restore it, or write that "
                         f"batch again.")
    try:
        with np.load(path, allow_pickle=False) as f:
            data = {k: f[k] for k in f.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise StoreError(f"{path} is corrupt or not an activation file ({type(exc).__name__}: {exc}); "
                         f"write that batch again or remove it from the index.") from exc
    missing = [k for k in ("x", "y", "layers") if k not in data]
    if missing:
        raise StoreError(f"{path} lacks the arrays {missing}; it was not written by ActivationStore.write.")
    names = [str(n) for n in data["layers"].tolist()]
    layers = {}
    for i, name in enumerate(names):
        if f"layer_{i}" not in data:
            raise StoreError(f"{path} lists layer {name!r} but lacks its array 'layer_{i}'.")
        layers[name] = data[f"layer_{i}"]
    x, y = data["x"], data["y"]
    counts = {"x": x.shape[:1], "y": y.shape[:1], **{k: t.shape[:1] for k, t in layers.items()}}
    if len(set(counts.values())) != 1:
        raise StoreError(f"{path}: x, y and the layers have different numbers of samples: {counts}.")
    if entry is not None:
        if tuple(names) != tuple(entry.layers):
            raise StoreError(f"{path} holds layers {names}, but the index lists {list(entry.layers)}.")
        shapes = {"x": x.shape, "y": y.shape, **{f"layers[{k!r}]": t.shape for k, t in layers.items()}}
        if {k: tuple(s) for k, s in shapes.items()} != dict(entry.shapes):
            raise StoreError(f"{path} holds shapes {shapes}, but the index lists {dict(entry.shapes)}.")
    return x, y, layers


def _label(key: str, names: list[str]) -> str:
    return f"layers[{names[int(key[6:])]!r}]" if key.startswith("layer_") else key


def _append_line(path: Path, line: str) -> None:
    data = (line + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def _plane_state(plane: Any) -> dict:
    """The JSON-able settings of a plane (its history excluded), as InformationPlane.save writes them."""
    from ..plane import InformationPlane

    if not isinstance(plane, InformationPlane):
        raise TypeError(f"plane must be a renyimi.InformationPlane (its settings are stored); "
                        f"got {type(plane).__name__}.")
    state = plane._state()
    return json.loads(json.dumps({k: state[k] for k in ("output", "n_encoder", "layers", "settings")}))
