"""Information planes from stored activations, computed in parallel on Dask (or any executor).

Each stored (step, batch) is one independent task: load its file, call
:meth:`InformationPlane.measure <renyimi.InformationPlane.measure>` on the worker, save the
measurement atomically to the results directory, return it. The client then adds the measurements
with :meth:`InformationPlane.add_measurement <renyimi.InformationPlane.add_measurement>` in (step,
batch) order, exactly the arithmetic of recording live, so the plane is the same, bit for bit, as
one recorded during training with NumPy arrays on a machine with the same BLAS threading.

Tasks are idempotent (the same inputs give the same file, written to a temporary file and renamed),
so Dask may run one twice after a worker dies; a rerun skips every (step, batch) whose result is
already saved, so a computation killed halfway continues where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .store import ActivationStore, Entry, StoreError, atomic_write_text, load_file

__all__ = ["compute_plane", "settings_fingerprint"]

RESULT_FORMAT = "renyimi.Measurement"


def settings_fingerprint(plane: Any) -> str:
    """16 hex digits identifying what a measurement depends on: ``output``, estimator settings, layer order.

    Callable settings (a custom width rule or kernel) count by their module and qualified name.
    """
    def canonical(v: Any) -> Any:
        if isinstance(v, dict):
            return {str(k): canonical(v[k]) for k in sorted(v, key=str)}
        if isinstance(v, (list, tuple)):
            return [canonical(u) for u in v]
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if callable(v) and hasattr(v, "__qualname__"):
            return f"callable:{getattr(v, '__module__', '?')}.{v.__qualname__}"
        return f"{type(v).__name__}:{v}"

    payload = {"output": plane.output, "layers": list(plane.layers), "settings": canonical(plane.settings)}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


# --------------------------------------------------------------------------------------- tasks
def _source_stamp(path: Path) -> list[int]:
    st = os.stat(path)
    return [int(st.st_size), int(st.st_mtime_ns)]


def _read_result(path: Path, fingerprint: str, stamp: list[int], entry: Entry) -> dict | None:
    """A saved result if it is complete and was computed from this file with these settings, else None."""
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ok = (isinstance(d, dict) and d.get("format") == RESULT_FORMAT and d.get("fingerprint") == fingerprint
          and d.get("source") == stamp and d.get("step") == entry.step and d.get("batch") == entry.batch)
    return d if ok else None


def _measure_entries(entries: Sequence[Entry], store_path: str, template: Any, results: str | None,
                     fingerprint: str) -> list[dict]:
    """Measure stored (step, batch) entries (runs on a worker); saves each result atomically."""
    from .. import __version__

    out = []
    for entry in entries:
        file = Path(store_path) / "activations" / entry.file
        target = None if results is None else Path(results) / f"{entry.key}.json"
        stamp = _source_stamp(file) if file.exists() else None
        if target is not None and stamp is not None:
            saved = _read_result(target, fingerprint, stamp, entry)
            if saved is not None:  # done before (e.g. by a worker that died after writing it)
                out.append(saved)
                continue
        if stamp is None:
            raise StoreError(f"{file} does not exist on the worker {socket.gethostname()!r} (the client found it): "
                             f"on a cluster the store must be at the same path on every worker (a shared file "
                             f"system).")
        x, y, layers = load_file(file, entry)
        try:
            m = template.measure(x, y, layers)
        except (ValueError, TypeError) as exc:
            raise StoreError(f"{file}: cannot measure step {entry.step!r}, batch {entry.batch}: {exc}") from exc
        d = {"format": RESULT_FORMAT, "renyimi_version": __version__, "fingerprint": fingerprint,
             "step": entry.step, "batch": entry.batch, "source": stamp, "layers": list(m.layers),
             "input_mi": m.input_mi.tolist(), "output_mi": m.output_mi.tolist(), "variance": m.variance.tolist(),
             "input_information": float(m.input_information), "input_output_mi": float(m.input_output_mi),
             "sigmas": {k: (None if v is None else float(v)) for k, v in m.sigmas.items()}}
        if target is not None:
            atomic_write_text(target, json.dumps(d))  # floats as repr: they read back exactly
        out.append(d)
    return out


def _measurement(d: dict) -> Any:
    from ..plane import Measurement

    return Measurement(layers=tuple(d["layers"]), input_mi=np.array(d["input_mi"], dtype=float),
                       output_mi=np.array(d["output_mi"], dtype=float), variance=np.array(d["variance"], dtype=float),
                       input_information=float(d["input_information"]),
                       input_output_mi=float(d["input_output_mi"]), sigmas=dict(d["sigmas"]))


# ------------------------------------------------------------------------------------ schedulers
def _default_client(n_workers: int | None) -> tuple[Any, Any]:
    """The active Dask client, or a new LocalCluster of processes (returned second, to be closed)."""
    from .._optional import require

    distributed = require("distributed", needed_by="renyimi.distributed.compute_plane", extra="dask")
    try:
        return distributed.default_client(), None
    except ValueError:  # no client running: start a local cluster of worker processes for this call
        cluster = distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                           dashboard_address=None)
        return distributed.Client(cluster), cluster


def _is_dask_client(client: Any) -> bool:
    return type(client).__module__.startswith("distributed") and hasattr(client, "gather") and hasattr(client, "map")


def _run(client: Any, chunks: list[list[Entry]], kwargs: dict, progress: bool) -> list[list[dict]]:
    if isinstance(client, str) and client == "sync":
        return [_measure_entries(chunk, **kwargs) for chunk in _progress_iter(chunks, progress)]
    if _is_dask_client(client):
        import distributed

        # Unique keys per call: Dask treats equal keys as equal results, and two stores (or a rewritten
        # file) can hold the same (step, batch) names.
        token = uuid.uuid4().hex
        keys = [f"renyimi-measure-{token}-{i}" for i in range(len(chunks))]
        futures = client.map(_measure_entries, chunks, key=keys, **kwargs)
        try:
            if progress:
                distributed.progress(futures)
            return client.gather(futures)
        finally:
            client.cancel(futures)
    if hasattr(client, "submit"):  # any concurrent.futures.Executor (threads, processes, Dask's get_executor())
        futures = [client.submit(_measure_entries, chunk, **kwargs) for chunk in chunks]
        try:
            return [f.result() for f in futures]
        finally:
            for f in futures:
                f.cancel()
    raise TypeError(f"client must be a distributed.Client, a concurrent.futures.Executor, 'sync' or None; "
                    f"got {client!r}.")


def _progress_iter(items: list, progress: bool):
    if not progress:
        return items
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return items
    return tqdm(items, desc="information plane")


# ------------------------------------------------------------------------------------ public API
def compute_plane(store: str | os.PathLike | ActivationStore, client: Any = None, *, plane: Any = None,
                  results: str | os.PathLike | None = None, progress: bool = True, n_workers: int | None = None,
                  per_task: int = 1) -> Any:
    """The information plane of a stored training run, every (step, batch) measured as a parallel task.

    Equal to recording the plane live with :meth:`InformationPlane.record <renyimi.InformationPlane.record>`
    (same settings, NumPy activations, batches in (step, batch) order): the measurements are the same
    computation, and they are added in the same order with
    :meth:`~renyimi.InformationPlane.add_measurement`.

    Parameters
    ----------
    store : str, path or ActivationStore
        Written by :class:`~renyimi.distributed.ActivationStore` during training. On a cluster it must
        be at the same path on the client and on every worker (a shared file system).
    client : distributed.Client, concurrent.futures.Executor, "sync" or None
        Where the tasks run. None: the active Dask client if there is one, otherwise a
        ``distributed.LocalCluster`` of ``n_workers`` single-threaded worker processes started for
        this call and closed afterwards. ``"sync"``: one after the other in this process (no Dask
        needed). Any :class:`concurrent.futures.Executor` (thread or process pool, or
        ``client.get_executor()``) is used through ``submit``.
    plane : InformationPlane, optional
        Settings of the plane (it must hold no history). Default: the settings saved in the store.
    results : str or path, optional
        Directory for one JSON file per measured (step, batch). Default
        ``STORE/measurements/<fingerprint>/`` (:func:`settings_fingerprint`), so other settings never
        reuse these results. Saved results of the same settings and the same activation file (size
        and modification time) are not computed again: rerun after a crash to continue.
    progress : bool, default True
        Dask's progress bar (a text bar in a terminal, a widget in a notebook); tqdm for ``"sync"``.
    n_workers : int, optional
        Workers of the LocalCluster started when ``client`` is None and none is active (default: one
        per core).
    per_task : int, default 1
        Stored batches measured per task; raise it for very many small measurements (each task costs
        the scheduler about a millisecond).

    Returns
    -------
    InformationPlane
        A new plane with the store's settings and every stored measurement.

    Raises
    ------
    StoreError
        A file listed in the index is missing or corrupt, layers or per-sample shapes differ between
        files, or a file's activations cannot be measured (NaN, different sample counts); the message
        names the file.

    Examples
    --------
    >>> import numpy as np, renyimi, tempfile
    >>> from renyimi.distributed import ActivationStore, compute_plane
    >>> store = ActivationStore(tempfile.mkdtemp())
    >>> live = renyimi.InformationPlane()
    >>> rng = np.random.default_rng(0)
    >>> for step in range(3):
    ...     x = rng.normal(size=(40, 4))
    ...     layers = {"T": np.tanh(x[:, :3]), "Z": x[:, :2]}
    ...     _ = live.record(step, x, x, layers)
    ...     _ = store.write(step, 0, x=x, y=x, layers=layers)
    >>> plane = compute_plane(store, "sync", progress=False)
    >>> bool(np.array_equal(plane.to_arrays().input_mi, live.to_arrays().input_mi))
    True
    """
    from ..plane import InformationPlane

    store = store if isinstance(store, ActivationStore) else ActivationStore.open(store)
    if isinstance(per_task, bool) or not isinstance(per_task, int) or per_task < 1:
        raise ValueError(f"per_task must be a positive integer (stored batches per task); got {per_task!r}.")
    entries = store.check()
    if plane is None:
        plane = store.plane()
    if not isinstance(plane, InformationPlane):
        raise TypeError(f"plane must be a renyimi.InformationPlane (its settings are used); "
                        f"got {type(plane).__name__}.")
    if len(plane) or plane.processing:
        raise ValueError("plane must be a new InformationPlane without history (only its settings are used).")
    template = InformationPlane(plane.layers or entries[0].layers, n_encoder=plane._state()["n_encoder"],
                                output=plane.output, **plane.settings)
    fingerprint = settings_fingerprint(template)
    results_dir = Path(results) if results is not None else store.measurements_dir(fingerprint)
    results_dir.mkdir(parents=True, exist_ok=True)

    done: dict[tuple, dict] = {}
    todo = []
    for e in entries:
        saved = _read_result(results_dir / f"{e.key}.json", fingerprint, _source_stamp(store.file(e)), e)
        if saved is not None:
            done[e.step, e.batch] = saved
        else:
            todo.append(e)
    if todo:
        chunks = [todo[i:i + per_task] for i in range(0, len(todo), per_task)]
        owned = None
        if client is None:
            client, owned = _default_client(n_workers)
        try:
            kwargs = {"store_path": str(store.path), "template": template, "results": str(results_dir),
                      "fingerprint": fingerprint}
            for part in _run(client, chunks, kwargs, progress):
                for d in part:
                    done[d["step"], d["batch"]] = d
        finally:
            if owned is not None:
                client.close()
                owned.close()

    out = InformationPlane(template.layers, n_encoder=plane._state()["n_encoder"], output=plane.output,
                           **plane.settings)
    for e in entries:
        out.add_measurement(e.step, _measurement(done[e.step, e.batch]))
    return out
