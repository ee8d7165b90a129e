"""What one measurement of the information plane returns, and the recorded plane as arrays."""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

__all__ = ["Measurement", "PlaneArrays"]

LAYER_QUANTITIES = ("input_mi", "output_mi", "variance")


@dataclass(frozen=True, eq=False)  # holds arrays: Mapping's __eq__ compares the (input, output) pairs
class Measurement(Mapping):
    """One measurement of the information plane (one batch), as returned by :meth:`InformationPlane.measure`.

    A read-only mapping of layer name to its point ``(input MI, output MI)`` of the plane, in network
    order: ``m["Z"]``, ``"Z" in m``, ``len(m)``, ``list(m)``, ``m.items()``; the arrays and the
    references of the theory are attributes.

    Examples
    --------
    >>> import numpy as np, renyimi
    >>> x = np.random.default_rng(0).normal(size=(40, 3))
    >>> m = renyimi.InformationPlane(sigma=1.0).measure(x, x, {"A": x[:, :2], "B": x[:, :1]})
    >>> list(m), len(m), "A" in m
    (['A', 'B'], 2, True)
    >>> [round(i_in, 3) <= round(m.input_information, 3) for i_in, _ in m.values()]
    [True, True]

    Attributes
    ----------
    layers : tuple of str
        Layer names in network order.
    input_mi, output_mi : numpy.ndarray, shape (n_layers,)
        :math:`\\hat I(X;T)` and :math:`\\hat I(T;Y)` of every layer, in units of ``base`` (bits).
    variance : numpy.ndarray, shape (n_layers,)
        Mean over units of each unit's variance over the batch (population variance).
    input_information : float
        :math:`M = \\hat I(X;X)`, the input information that bounds every input MI (Sec. II-B of Tapia & Estévez, 2020).
    input_output_mi : float
        :math:`\\hat I(X;Y)`; for an autoencoder Lemma 1 of Tapia & Estévez (2020) says every output MI equals it.
    sigmas : dict of str to float or None
        Resolved kernel width of ``"X"``, ``"Y"`` and every layer (in standardised units for the
        standardising rules; None for the labels' delta kernel).
    """

    layers: tuple[str, ...]
    input_mi: np.ndarray
    output_mi: np.ndarray
    variance: np.ndarray
    input_information: float
    input_output_mi: float
    sigmas: dict

    def __getitem__(self, layer: str) -> tuple[float, float]:
        """``(input MI, output MI)`` of ``layer``."""
        i = layer_index(self.layers, layer)
        return float(self.input_mi[i]), float(self.output_mi[i])

    def __iter__(self) -> Iterator[str]:
        return iter(self.layers)

    def __len__(self) -> int:
        return len(self.layers)

    def as_dict(self) -> dict[str, dict[str, float]]:
        """``{layer: {"input_mi": ..., "output_mi": ..., "variance": ...}}`` of Python floats."""
        return {name: {q: float(getattr(self, q)[i]) for q in LAYER_QUANTITIES}
                for i, name in enumerate(self.layers)}


class PlaneArrays(NamedTuple):
    """A recorded plane as arrays (rows: steps in increasing order, columns: layers in network order)."""

    steps: np.ndarray              # (n_steps,)
    layers: tuple[str, ...]        # (n_layers,)
    input_mi: np.ndarray           # (n_steps, n_layers)  I(X;T)
    output_mi: np.ndarray          # (n_steps, n_layers)  I(T;Y)
    variance: np.ndarray           # (n_steps, n_layers)
    n_batches: np.ndarray          # (n_steps,) batches averaged at each step
    input_mi_std: np.ndarray       # (n_steps, n_layers) std over those batches (0 for one batch)
    output_mi_std: np.ndarray      # (n_steps, n_layers)
    input_information: np.ndarray  # (n_steps,) M = I(X;X)
    input_output_mi: np.ndarray    # (n_steps,) I(X;Y)




def unknown_name(name: str, valid: Sequence[str], what: str) -> str:
    """An "unknown name" message with close matches and the valid names."""
    close = difflib.get_close_matches(str(name), list(valid), n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    return f"unknown {what} {name!r}.{hint} Valid names: {', '.join(map(repr, valid))}."


def layer_index(layers: Sequence[str], layer: str) -> int:
    try:
        return list(layers).index(layer)
    except ValueError:
        raise KeyError(unknown_name(layer, layers, "layer")) from None
