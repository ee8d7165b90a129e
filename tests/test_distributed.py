"""renyimi.distributed on a real Dask LocalCluster (worker processes, no mocks), against local results."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import renyimi
from renyimi.distributed import ActivationStore, StoreError, compute_plane

distributed = pytest.importorskip("distributed",
                                  reason="dask[distributed] is not installed (pip install 'renyimi[dask]')")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def write_run(path, *, steps=4, batches=2, n=48, plane=None, seed=0, live=True):
    """A fake training run: writes a store and records the same batches live; returns (store, live plane)."""
    plane_settings = {} if plane is None else plane
    store = ActivationStore(path, plane=renyimi.InformationPlane(**plane_settings))
    live_plane = renyimi.InformationPlane(**plane_settings) if live else None
    rng = np.random.default_rng(seed)
    w1, w2 = rng.normal(size=(6, 5)), rng.normal(size=(5, 2))
    for step in range(0, 10 * steps, 10):
        for b in range(batches):
            x = rng.normal(size=(n, 6))
            t1 = 1 / (1 + np.exp(-x @ w1))
            z = t1 @ w2 + 0.05 * step * rng.normal(size=(n, 2))
            layers = {"T1E": t1, "Z": z, "T1D": np.tanh(z @ w2.T)}
            y = x + 0.1 * rng.normal(size=x.shape)
            store.write(step, b, x=x, y=y, layers=layers)
            if live:
                live_plane.record(step, x, y, layers)
    return store, live_plane


def assert_same_plane(a, b):
    """Every recorded array equal bit for bit, same layers and settings."""
    pa, pb = a.to_arrays(), b.to_arrays()
    assert pa.layers == pb.layers
    for field in pa._fields:
        if field != "layers":
            np.testing.assert_array_equal(getattr(pa, field), getattr(pb, field), err_msg=field, strict=True)
    assert a.settings == b.settings


# ------------------------------------------------------------------------------------------- store
def test_store_roundtrip_and_atomic_layout(tmp_path):
    store, _ = write_run(tmp_path / "s", steps=2, batches=2, live=False)
    x = np.arange(12.0).reshape(4, 3)
    labels = np.array([0, 1, 1, 0])
    store.write(20, 0, x=x, y=labels, layers={"b": x[:, :1], "a": x.astype(np.float32)})
    x2, y2, layers = store.load(20, 0)
    np.testing.assert_array_equal(x2, x)
    np.testing.assert_array_equal(y2, labels)
    assert list(layers) == ["b", "a"] and layers["a"].dtype == np.float32  # order and dtype as written
    assert [(e.step, e.batch) for e in store.entries()] == [(0, 0), (0, 1), (10, 0), (10, 1), (20, 0)]
    # Rewriting a (step, batch) replaces it; no temporary file is left in the directory.
    store.write(20, 0, x=2 * x, y=labels, layers={"b": x[:, :1], "a": x})
    np.testing.assert_array_equal(store.load(20, 0)[0], 2 * x)
    assert len(store.entries()) == 5
    assert not [p for p in (tmp_path / "s").rglob("*") if p.name.startswith(".tmp-")]
    # Reopening reads the saved plane settings.
    again = ActivationStore.open(tmp_path / "s")
    assert again.plane().settings == renyimi.InformationPlane().settings
    with pytest.raises(ValueError, match="same number of samples"):
        store.write(30, 0, x=x, y=labels[:3], layers={"b": x})
    with pytest.raises(ValueError, match="other plane settings"):
        ActivationStore(tmp_path / "s", plane=renyimi.InformationPlane(sigma_scale=3.0))


def test_import_renyimi_distributed_does_not_import_dask():
    code = ("import sys, renyimi, renyimi.distributed; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------------------------------ compute_plane
def test_cluster_plane_equals_live_recording(tmp_path, client):
    settings = {"sigma_scale": 2.0, "overrides": {"Z": {"sigma_scale": 5.0}}}
    store, live = write_run(tmp_path / "s", steps=4, batches=3, plane=settings)
    plane = compute_plane(store, client, progress=False)
    assert_same_plane(plane, live)
    # client=None takes the active client (this cluster).
    assert_same_plane(compute_plane(store, results=tmp_path / "r0", progress=False), live)
    assert plane.to_arrays().n_batches.tolist() == [3, 3, 3, 3]
    # Dask's concurrent.futures interface and a local thread pool give the same plane.
    assert_same_plane(compute_plane(store, client.get_executor(), results=tmp_path / "r1", progress=False), live)
    with ThreadPoolExecutor(2) as pool:
        assert_same_plane(compute_plane(store, pool, results=tmp_path / "r2", progress=False), live)


def test_labels_output_sync(tmp_path):
    store = ActivationStore(tmp_path / "s", plane=renyimi.InformationPlane(output="labels"))
    live = renyimi.InformationPlane(output="labels")
    rng = np.random.default_rng(3)
    for step in (0, 5):
        x = rng.normal(size=(40, 4))
        labels = rng.integers(0, 3, size=40)
        layers = {"T": np.tanh(x[:, :3] + labels[:, None])}
        store.write(step, 0, x=x, y=labels, layers=layers)
        live.record(step, x, labels, layers)
    assert_same_plane(compute_plane(store, "sync", progress=False), live)


def test_resume_skips_saved_results(tmp_path):
    store, live = write_run(tmp_path / "s", steps=3, batches=2)
    first = compute_plane(store, "sync", progress=False)
    results = sorted((tmp_path / "s" / "measurements").glob("*/*.json"))
    assert len(results) == 6
    stamps = {p.name: p.stat().st_mtime_ns for p in results}
    # A run killed halfway: two results lost, one cut short (cannot happen through os.replace, but a
    # copy or a full disk can): only those three are computed again.
    results[0].unlink()
    results[3].unlink()
    results[5].write_text(results[5].read_text()[:40])
    time.sleep(0.01)
    second = compute_plane(store, "sync", progress=False)
    assert_same_plane(second, live)
    assert_same_plane(second, first)
    changed = {p.name for p in results if p.stat().st_mtime_ns != stamps[p.name]}
    assert changed == {results[0].name, results[3].name, results[5].name}
    # Other settings never reuse these results (another fingerprint, another directory).
    other = compute_plane(store, "sync", plane=renyimi.InformationPlane(sigma_scale=3.0), progress=False)
    assert len(list((tmp_path / "s" / "measurements").iterdir())) == 2
    assert not np.array_equal(other.to_arrays().input_mi, first.to_arrays().input_mi)
    # A rewritten activation file invalidates its saved result.
    x, y, layers = store.load(0, 0)
    store.write(0, 0, x=x, y=y, layers={k: 1.5 * v for k, v in layers.items()})
    third = compute_plane(store, "sync", progress=False)
    assert not np.array_equal(third.to_arrays().variance[0], first.to_arrays().variance[0])
    np.testing.assert_array_equal(third.to_arrays().variance[1:], first.to_arrays().variance[1:])


# ------------------------------------------------------------------------------------------- faults
def test_bad_stores_name_the_file(tmp_path, client):
    store, _ = write_run(tmp_path / "s", steps=3, batches=1, live=False)
    files = sorted((tmp_path / "s" / "activations").glob("*.npz"))
    # Corrupt file: the error raised on the worker reaches the client and names it.
    files[1].write_bytes(b"not a zip file at all")
    with pytest.raises(StoreError, match=files[1].name):
        compute_plane(store, client, progress=False)
    # Missing file listed in the index: found before any task runs.
    files[1].unlink()
    with pytest.raises(StoreError, match=f"{files[1].name}.*does not exist"):
        compute_plane(store, client, progress=False)
    # Mismatched per-sample shapes (a layer of another width) and mismatched layers.
    x, y, layers = store.load(0, 0)
    store.write(10, 0, x=x, y=y, layers={**layers, "Z": np.hstack([layers["Z"], layers["Z"]])})
    with pytest.raises(StoreError, match=r"step-000000000010_batch-0000\.npz.*per-sample shapes"):
        compute_plane(store, "sync", progress=False)
    store.write(10, 0, x=x, y=y, layers={"T1E": layers["T1E"]})
    with pytest.raises(StoreError, match=r"step-000000000010_batch-0000\.npz.*layers"):
        compute_plane(store, "sync", progress=False)
    # A file whose contents disagree with the index (swapped in by hand).
    store.write(10, 0, x=x, y=y, layers=layers)
    np.savez(files[0], x=x[:5], y=y, layers=np.array(list(layers)), **{f"layer_{i}": t for i, t in
                                                                        enumerate(layers.values())})
    with pytest.raises(StoreError, match=files[0].name):
        compute_plane(store, "sync", progress=False)
    # Diverged activations: the measurement error names the file too.
    store.write(0, 0, x=x, y=y, layers={**layers, "Z": np.full_like(layers["Z"], np.nan)})
    with pytest.raises(StoreError, match=r"step-000000000000_batch-0000\.npz.*cannot measure"):
        compute_plane(store, "sync", progress=False)
    # An index line cut short at the end is ignored with a warning; elsewhere it is an error.
    index = tmp_path / "s" / "index.jsonl"
    index.write_text(index.read_text() + '{"step": 40, "ba')
    with pytest.warns(UserWarning, match="incomplete last line"):
        assert len(store.entries()) == 3
    index.write_text('{"step": 40, "ba\n' + index.read_text())
    with pytest.raises(StoreError, match="index.jsonl, line 1"):
        store.entries()


def saved_results(directory):
    return [p for p in directory.glob("step-*.json")] if directory.exists() else []


def test_killed_worker_loses_nothing(tmp_path, client):
    store, _ = write_run(tmp_path / "s", steps=8, batches=3, n=160, live=False, seed=1)
    expected = compute_plane(store, "sync", results=tmp_path / "reference", progress=False)
    results = tmp_path / "results"
    total = len(store.entries())
    box = {}

    def run():
        try:
            box["plane"] = compute_plane(store, client, results=results, progress=False)
        except BaseException as exc:  # re-raised below, in the test's thread
            box["error"] = exc

    pids = client.run(os.getpid)
    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 60
    while len(saved_results(results)) < 3 and time.monotonic() < deadline:
        time.sleep(0.005)
    done_at_kill = len(saved_results(results))
    victim = sorted(pids)[0]
    os.kill(pids[victim], signal.SIGKILL)  # the worker process dies mid-computation; its nanny restarts it
    thread.join(120)
    assert not thread.is_alive()
    if "error" in box:
        raise box["error"]
    assert 3 <= done_at_kill < total, "the worker was not killed in the middle of the run"
    assert_same_plane(box["plane"], expected)
    saved = saved_results(results)  # the killed worker may leave a .tmp- file: never a partial result
    assert len(saved) == total and all(json.loads(p.read_text())["format"] == "renyimi.Measurement" for p in saved)
    client.wait_for_workers(2, timeout=60)


# ----------------------------------------------------------------------------------------------- CLI
def test_cli_plane(tmp_path, client):
    store, live = write_run(tmp_path / "s", steps=2, batches=2)
    out = tmp_path / "plane.json.gz"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "renyimi", "plane", str(tmp_path / "s"), "--scheduler", client.scheduler.address,
           "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "2 steps x 3 layers (4 batches)" in proc.stdout
    assert_same_plane(renyimi.InformationPlane.load(out), live)
    # A bad store: exit status 1 and the file named on stderr.
    sorted((tmp_path / "s" / "activations").glob("*.npz"))[0].write_bytes(b"garbage")
    (tmp_path / "s" / "measurements").rename(tmp_path / "old")
    proc = subprocess.run([*cmd[:6], "sync", "--out", str(out), "--no-progress"], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 1 and "step-000000000000_batch-0000.npz" in proc.stderr


# ---------------------------------------------------------------------------------- Dask-array Gram
def test_dask_gram_operator_matches_dense(client):
    from renyimi.distributed import DaskGramOperator

    rng = np.random.default_rng(7)
    x = rng.normal(size=(250, 4))
    A = renyimi.gram_matrix(x, sigma=1.3, standardize=None)
    op = DaskGramOperator(x / 1.3, client=client, chunk=96)  # 3 x 3 blocks, the last ones ragged
    assert op.n == 250 and op.dtype == np.float64 and op.array.numblocks == (3, 3)
    V = rng.normal(size=(250, 5))
    np.testing.assert_allclose(op.matmat(V), A @ V, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(op.matmat(V[:, 0]), A @ V[:, 0], rtol=1e-12, atol=1e-15)
    dense = op.to_numpy()
    np.testing.assert_allclose(dense, A, rtol=1e-12, atol=1e-16)
    assert abs(np.trace(dense) - 1) < 1e-12
    assert op.frobenius2() == pytest.approx(float(np.sum(A * A)), rel=1e-12)  # the B^2 control variate's tr A^2
    # Stored in float32 (half the cluster memory), products in the caller's precision.
    op32 = DaskGramOperator(x / 1.3, client=client, chunk=96, dtype=np.float32, persist=False)
    out = op32.matmat(V)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, A @ V, rtol=1e-5, atol=1e-7)
    # Joint Gram (eq. 19) of two variables: the Gram of their concatenated scaled features.
    y = x[:, :2] + rng.normal(size=(250, 2))
    Ay = renyimi.gram_matrix(y, sigma=0.9, standardize=None)
    joint = A * Ay / np.trace(A * Ay)
    op_xy = DaskGramOperator(np.hstack([x / 1.3, y / 0.9]), client=client, chunk=128)
    np.testing.assert_allclose(op_xy.matmat(V), joint @ V, rtol=1e-11, atol=1e-15)


def test_distributed_matrix_entropy_within_its_error_bar(client):
    """SLQ with the Gram matrix on the cluster: the same estimator (both control variates, since the operator
    gives tr A^2) as method="slq", within 5 reported standard errors of the exact entropy."""
    from renyimi.distributed import matrix_entropy

    x = np.random.default_rng(5).normal(size=(400, 3))
    controls = {"rank": 32, "block": 16, "krylov_steps": 5, "n_probes": 16, "n_lanczos": 16}
    value, stderr = matrix_entropy(x, client, chunk=128, random_state=0, **controls)
    exact = float(renyimi.matrix_entropy(x, method="exact"))
    assert 0 < stderr < 0.05
    assert abs(value - exact) <= 5 * stderr
    again = matrix_entropy(x, client, chunk=128, random_state=0, **controls)
    assert again == (value, stderr)
