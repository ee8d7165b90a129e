"""renyimi on Dask: information planes from stored activations, and Gram matrices as Dask arrays.

Nothing here is imported by ``import renyimi``; Dask itself (``pip install 'renyimi[dask]'``) is
imported only when a computation needs it, so a training machine can write an
:class:`ActivationStore` with NumPy alone.

* :class:`ActivationStore` -- write a training run's activations, one ``.npz`` file per (step, batch).
* :func:`compute_plane` -- the information plane of a store, one Dask task per (step, batch); resumable.
* :class:`DaskGramOperator` and :func:`matrix_entropy` -- a Gaussian Gram matrix built block by block on
  the workers and kept in the cluster's memory, with the stochastic-Lanczos entropy's products run there.

The command line ``python -m renyimi plane STORE --scheduler local|ADDRESS --out plane.json`` runs
:func:`compute_plane`. See the docs page "Running on a cluster".
"""

from __future__ import annotations

from .gram import DaskGramOperator, matrix_entropy, scaled_samples
from .plane import compute_plane, settings_fingerprint
from .store import ActivationStore, Entry, StoreError

__all__ = [
    "ActivationStore",
    "DaskGramOperator",
    "Entry",
    "StoreError",
    "compute_plane",
    "matrix_entropy",
    "scaled_samples",
    "settings_fingerprint",
]
