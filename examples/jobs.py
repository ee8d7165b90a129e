"""Independent jobs of the reproduction (one training run, one seed, one bottleneck size) and where they run.

Every job is a JSON-able ``spec`` dict; :func:`run_job` trains the autoencoder it describes, measures
every information plane it asks for on every evaluation batch separately (the per-batch values feed the
bootstrap of :mod:`claims`) and writes ``OUT/jobs/<name>.json`` atomically (a temporary file renamed
onto the final name), so that a reader never sees half a file. :func:`run_all` skips every job whose
result file exists with the same spec: an interrupted run resumes where it stopped, job by job.

Jobs go to any :class:`concurrent.futures.Executor`: :func:`executor` makes one from ``--scheduler``:

``processes`` (default)
    a :class:`~concurrent.futures.ProcessPoolExecutor` with ``--workers`` processes (spawned, one torch
    and one BLAS thread each);
``local``
    a Dask ``LocalCluster`` (``pip install 'renyimi[dask]'``) with ``--workers`` single-threaded worker
    processes, through ``Client.get_executor()``; falls back to ``processes`` (with a message) when Dask
    is not installed;
``tcp://HOST:PORT``
    an existing Dask scheduler; its workers must be able to import this folder (same checkout path);
``serial``
    in this process, one job after the other (tests, debugging).
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import sys
import time
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from pathlib import Path

import _common  # noqa: F401  (first: thread settings, checkout on sys.path)
import numpy as np

EXAMPLES = Path(__file__).resolve().parent

#: Data sets for ``--data``: the embedded MNIST digits are split once (fixed seed) into a training set
#: and 1 024 test images, i.e. exactly two disjoint evaluation batches of 512 (the 5 000 digits cannot
#: give the paper's 10 x 512 = 5 120 disjoint test images and a training set).
EMBEDDED_TEST_SIZE = 1024
DATA_ALIASES = {"mnist": "embedded", "embedded": "embedded", "fashion": "fashion-mnist",
                "fashion-mnist": "fashion-mnist", "download": "download"}


def data_key(data: str) -> str:
    """Canonical name of ``--data``: 'embedded', 'fashion-mnist', 'download' or a resolved folder."""
    if data in DATA_ALIASES:
        return DATA_ALIASES[data]
    path = Path(data).expanduser()
    if not path.is_dir():
        raise ValueError(f"--data must be 'mnist' (embedded digits), 'fashion-mnist', 'download' or a folder "
                         f"with the four MNIST IDX files; got {data!r} (no such folder).")
    return str(path.resolve())


@functools.lru_cache(maxsize=2)
def load_data(key: str):
    """The :class:`renyimi.datasets.ImageDataset` of a :func:`data_key` (cached per process)."""
    from renyimi import datasets

    if key == "embedded":
        return datasets.load_mnist("embedded", test_size=EMBEDDED_TEST_SIZE, random_state=0)
    if key == "fashion-mnist":
        return datasets.load_fashion_mnist()
    return datasets.load_mnist(key)


def describe_data(key: str) -> dict:
    data = load_data(key)
    return {"key": key, "name": data.name, "source": data.source, "n_train": int(len(data.train_images)),
            "n_test": int(len(data.test_images))}


def evaluation_indices(n_test: int, n_batches: int, size: int) -> list[np.ndarray]:
    """``n_batches`` disjoint batches of ``size`` test images (fixed for every seed); fewer if the test set
    is too small: never overlapping batches, which would make the batch-level bootstrap overconfident."""
    n_batches = min(n_batches, n_test // size)
    if n_batches < 1:
        raise ValueError(f"the test set ({n_test} images) holds no batch of {size}; lower eval_size.")
    order = np.random.default_rng(7919).permutation(n_test)
    return [np.sort(order[i * size:(i + 1) * size]) for i in range(n_batches)]


def job_name(spec: dict) -> str:
    if spec["kind"] == "gauss":
        return "gaussians"
    return f"{spec['kind']}_K{spec['K']}_seed{spec['seed']}"


def result_path(out: Path, spec: dict) -> Path:
    return Path(out) / "jobs" / f"{job_name(spec)}.json"


def write_atomic(path: Path, obj) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(_common._jsonable(obj), allow_nan=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def load_result(path: Path, spec: dict | None = None) -> dict | None:
    """The saved result, or None if missing, unreadable or saved for another spec."""
    try:
        result = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if spec is not None and result.get("spec") != json.loads(json.dumps(spec)):
        return None
    return result


# ------------------------------------------------------------------------------------------ jobs
def run_job(spec: dict, out: str) -> str:
    """Run one job and write its result file; returns the file's path (also when it already existed)."""
    path = result_path(Path(out), spec)
    if load_result(path, spec) is not None:
        return str(path)
    _limit_threads(spec.get("threads", 1))
    start = time.perf_counter()
    result = _gauss_job(spec) if spec["kind"] == "gauss" else _training_job(spec)
    result["seconds"] = time.perf_counter() - start
    result["spec"] = spec
    write_atomic(path, result)
    return str(path)


def _limit_threads(threads: int) -> None:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    with contextlib.suppress(ImportError):
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    with contextlib.suppress(ImportError):
        import torch

        torch.set_num_threads(max(1, int(threads)))


def _gauss_job(spec: dict) -> dict:
    import correlated_gaussians as cg

    config = cg.GaussianConfig(dims=tuple(spec["dims"]), n_samples=spec["n"], runs=spec["runs"],
                               rhos=tuple(spec["rhos"]), sample_sizes=tuple(spec["sizes"]), seed=spec["seed"])
    results = cg.run(config, show_progress=False)
    return {"rhos": results["rhos"], "fig3": {r: {str(d): v for d, v in per.items()}
                                             for r, per in results["fig3"].items()},
            "fig4": {str(n): v for n, v in results["fig4"].items()}}


def _training_job(spec: dict) -> dict:
    import autoencoder as ae
    import information_planes as ip
    import torch

    import renyimi
    from renyimi.capture import capture_activations

    data = load_data(spec["data"])
    device = torch.device(spec.get("device", "cpu"))
    K, seed = int(spec["K"]), int(spec["seed"])
    _common.seed_everything(1000 * seed + K)
    model = ae.Autoencoder(K, tuple(spec["hidden"]), n_inputs=data.train_images.shape[1]).to(device)
    layers = tuple(model.layer_modules)
    planes = {s: renyimi.InformationPlane(layers, n_encoder=model.n_encoder, **ip.PLANE_SETTINGS[s])
              for s in spec["settings"]}
    index = evaluation_indices(len(data.test_images), spec["eval_batches"], spec["eval_size"])
    batches = [torch.from_numpy(np.ascontiguousarray(data.test_images[i], dtype=np.float32)).to(device)
               for i in index]
    x_test = torch.from_numpy(np.asarray(data.test_images, dtype=np.float32)).to(device)
    steps = sorted(int(s) for s in spec["steps"])
    record = {s: {q: [] for q in ("in", "out", "var", "M", "io")} for s in spec["settings"]}
    test_loss = []

    def on_measure(step, m):
        rows = {s: {q: [] for q in record[s]} for s in record}
        for x in batches:
            with capture_activations(m, m.layer_modules, flatten=True) as acts:
                x_rec = m(x)
            if device.type == "cpu":
                # NumPy on single-threaded BLAS: much faster than torch's threaded eigvalsh on a busy CPU.
                xs, ys, ts = x.numpy(), x_rec.numpy(), {n: t.numpy() for n, t in acts.items()}
            else:
                xs, ys, ts = x, x_rec, dict(acts)
            for s, plane in planes.items():
                meas = plane.measure(xs, ys, ts)
                rows[s]["in"].append(meas.input_mi)
                rows[s]["out"].append(meas.output_mi)
                rows[s]["var"].append(meas.variance)
                rows[s]["M"].append(meas.input_information)
                rows[s]["io"].append(meas.input_output_mi)
        for s in record:
            for q in record[s]:
                record[s][q].append(np.asarray(rows[s][q], dtype=float).tolist())
        test_loss.append(float(ae.reconstruction_loss(m(x_test), x_test, "mean")))

    x_train = data.train_images
    if device.type != "cpu":
        x_train = torch.from_numpy(np.asarray(x_train, dtype=np.float32)).to(device)
    _train(ae, model, x_train, spec["iterations"], steps, on_measure, seed)
    return {"K": K, "seed": seed, "layers": list(layers), "n_encoder": model.n_encoder, "steps": steps,
            "n_batches": len(batches), "planes": record, "test_loss": test_loss,
            "plateau": float(np.mean((data.test_images - data.train_images.mean(axis=0)) ** 2))}


def _train(ae, model, x_train, iterations, steps, on_measure, seed):
    """The examples' SGD loop (:func:`autoencoder.train`), on any device."""
    import torch

    if isinstance(x_train, torch.Tensor) and x_train.device.type != "cpu":
        _train_on_device(ae, model, x_train, iterations, steps, on_measure, seed)
        return
    ae.train(model, x_train, iterations, measure_at=steps, on_measure=on_measure, seed=seed,
             show_progress=False)


def _train_on_device(ae, model, x_train, iterations, steps, on_measure, seed):
    import torch

    optimiser = ae.make_optimiser(model)
    n = len(x_train)
    per_epoch = math.ceil(n / ae.BATCH_SIZE)
    wanted = set(steps)

    def measure(step):
        if step in wanted:
            model.eval()
            with torch.no_grad():
                on_measure(step, model)
            model.train()

    model.train()
    measure(0)
    step = 0
    while step < iterations:
        epoch = step // per_epoch
        order = torch.from_numpy(np.random.default_rng([seed, epoch]).permutation(n)).to(x_train.device)
        for index in order.split(ae.BATCH_SIZE):
            xb = x_train[index]
            loss = ae.reconstruction_loss(model(xb), xb)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            step += 1
            measure(step)
            if step >= iterations:
                break


# ------------------------------------------------------------------------------------- executors
class SerialExecutor(Executor):
    """Runs each submitted call at once, in this process."""

    def submit(self, fn, /, *args, **kwargs):
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(exc)
        return future


def _add_examples_path(path: str) -> None:
    if path not in sys.path:
        sys.path.insert(0, path)


@contextlib.contextmanager
def executor(scheduler: str = "processes", workers: int | None = None):
    """An executor for ``--scheduler`` (see the module docstring); closed on exit."""
    workers = max(1, int(workers or _common_cpus()))
    if scheduler == "serial":
        yield SerialExecutor()
        return
    if scheduler != "processes":
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            print("Dask is not installed (pip install 'renyimi[dask]'): using a process pool instead.",
                  file=sys.stderr)
            scheduler = "processes"
        else:
            cluster = None
            if scheduler == "local":
                cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                       dashboard_address=":0",
                                       env={"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"})
                client = Client(cluster)
            else:
                client = Client(scheduler)
            try:
                client.run(_add_examples_path, str(EXAMPLES))
                yield client.get_executor()
            finally:
                client.close()
                if cluster is not None:
                    cluster.close()
            return
    import multiprocessing

    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool


def _common_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        return os.cpu_count() or 1


def run_all(specs: list[dict], out: Path, pool: Executor, *, log=print) -> dict[str, dict]:
    """Run every spec not already done (same spec in ``OUT/jobs``); returns ``{job name: result}``."""
    out = Path(out)
    done, pending = {}, []
    for spec in specs:
        result = load_result(result_path(out, spec), spec)
        if result is None:
            pending.append(spec)
        else:
            done[job_name(spec)] = result
    if done:
        log(f"{len(done)} of {len(specs)} jobs already done in {out / 'jobs'} (resumed)")
    futures = {pool.submit(run_job, spec, str(out)): spec for spec in pending}
    start = time.perf_counter()
    for i, future in enumerate(as_completed(futures), 1):
        spec = futures[future]
        path = future.result()
        done[job_name(spec)] = load_result(Path(path), spec)
        log(f"[{i}/{len(futures)}] {job_name(spec)} done ({done[job_name(spec)]['seconds']:.0f} s; "
            f"{time.perf_counter() - start:.0f} s elapsed)")
    return done
