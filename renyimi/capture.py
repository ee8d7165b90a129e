"""Capture hidden-layer activations of a torch model with forward hooks.

The information plane of a network [1]_ places every hidden layer :math:`T` at the
point :math:`(I(X;T),\\, I(T;Y))`; for an autoencoder [2]_ the second coordinate is the
output MI :math:`I(T;X')`. Both need the layer's activations :math:`T` for a fixed batch
of inputs :math:`X`, shape ``(N, ...)``. :class:`ActivationCapture` records them during an
ordinary forward pass, without changing the model's code.

torch is imported lazily: this module is not imported by ``import renyimi``, and it
needs torch only once a capture is created.

References
----------
.. [1] R. Shwartz-Ziv and N. Tishby, "Opening the black box of deep neural networks via
   information," `arXiv:1703.00810 <https://arxiv.org/abs/1703.00810>`__, 2017.
.. [2] N. I. Tapia and P. A. Estévez, "On the information plane of autoencoders," in
   Proc. IJCNN, 2020.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from ._optional import require

if TYPE_CHECKING:  # pragma: no cover - typing only
    from typing import Self  # Python >= 3.11; annotations are strings at run time

    import torch

__all__ = ["ActivationCapture", "capture_activations"]

Repeat = Literal["last", "concat", "error"]
_REPEAT_CHOICES = ("last", "concat", "error")
_MAX_LISTED_NAMES = 30


def _import_torch():
    return require("torch", needed_by="renyimi.capture", extra="torch")


def _unknown_name_message(name: str, valid: Sequence[str]) -> str:
    shown = [repr(n) for n in valid[:_MAX_LISTED_NAMES]]
    if len(valid) > _MAX_LISTED_NAMES:
        shown.append(f"... and {len(valid) - _MAX_LISTED_NAMES} more")
    close = difflib.get_close_matches(name, valid, n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return (
        f"layers: no module named {name!r} in the model.{hint} "
        f"Valid names (from model.named_modules(); '' is the model itself): "
        f"{', '.join(shown)}."
    )


def _normalise_layers(layers: Sequence[str] | Mapping[str, str]) -> dict[str, str]:
    """Return ``{label: module_name}`` in the caller's order."""
    if isinstance(layers, str):
        raise TypeError(
            f"layers must be a list of module names or a dict {{label: module_name}}; "
            f"got the single string {layers!r}. Wrap it in a list: [{layers!r}]."
        )
    if isinstance(layers, Mapping):
        pairs = list(layers.items())
    elif isinstance(layers, Sequence):
        pairs = [(name, name) for name in layers]
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise ValueError(
                    f"layers lists the module {name!r} twice; list each module once, or "
                    f"pass a dict {{label: module_name}} to capture it under two labels."
                )
            seen.add(name)
    else:
        raise TypeError(
            f"layers must be a list of module names or a dict {{label: module_name}}; "
            f"got {type(layers).__name__}."
        )
    for label, name in pairs:
        if not isinstance(label, str) or not isinstance(name, str):
            raise TypeError(
                f"layers: labels and module names must be strings; got "
                f"{label!r} -> {name!r}."
            )
    if not pairs:
        raise ValueError("layers is empty; name at least one module to capture.")
    return dict(pairs)


class ActivationCapture(Mapping):
    """Record the outputs of named submodules during forward passes.

    A context manager that registers a forward hook on each requested module on entry and
    removes every hook on exit, also when the ``with`` block raises. Inside and after the
    block the object is a read-only mapping ``label -> tensor``, ordered as ``layers``
    (network order is what the information plane plots).

    Parameters
    ----------
    model : torch.nn.Module
        The network. Only its submodules' outputs are read; the model is not modified
        apart from the temporary hooks.
    layers : list of str or dict of {str: str}
        Module names as listed by ``model.named_modules()`` (for example ``"encoder.0"``;
        ``""`` is the model itself), or a dict ``{label: module_name}`` to store the
        activations under other keys. Unknown names raise :class:`KeyError` listing the
        valid names and the closest matches.
    detach : bool, default=True
        Store ``output.detach()``: no autograd graph is kept alive by the capture, and
        ``requires_grad`` is False. Set to False only to back-propagate through the
        captured tensors (for example an MI regulariser in the loss); the graph then
        lives as long as the capture holds the tensor.
    flatten : bool, default=False
        Reshape each output of shape ``(N, d_1, ..., d_k)`` to ``(N, d_1 \\cdots d_k)``,
        the samples-by-features matrix that the matrix-based estimators take. A 1-d output
        ``(N,)`` becomes ``(N, 1)``.
    repeat : {"last", "concat", "error"}, default="last"
        What to do when a module runs more than once while the capture is active (a module
        reused inside one forward, or several forward passes in one ``with`` block):
        ``"last"`` keeps the most recent output; ``"concat"`` concatenates the outputs along
        dimension 0 in call order (collects a test set fed in mini-batches; the
        concatenation happens lazily on first access); ``"error"`` raises
        :class:`RuntimeError` on the second call.

    Attributes
    ----------
    layers : dict of {str: str}
        The resolved ``{label: module_name}``, in order.
    missing : list of str
        Labels whose module has not run since the capture was entered.

    Raises
    ------
    KeyError
        On construction, for a module name not in ``model.named_modules()``; on access,
        for a label whose module did not run (the message says so) or that was never
        requested.
    TypeError
        During the forward pass, when a module's output is neither a tensor nor a
        tuple/list whose first element is a tensor.

    Notes
    -----
    Outputs are stored as produced, on their own device and dtype (GPU activations stay
    on the GPU). A module returning a tuple or list (``nn.LSTM``, ``nn.MultiheadAttention``)
    is captured through its first element, which for these modules is the main output;
    capture a submodule instead if you need another element.

    Entering the capture again clears the activations of the previous use.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from renyimi.capture import ActivationCapture
    >>> model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    >>> x = torch.randn(10, 4)
    >>> with ActivationCapture(model, {"T1": "1", "out": "2"}) as acts:
    ...     y = model(x)
    >>> list(acts), tuple(acts["T1"].shape), acts["out"].requires_grad
    (['T1', 'out'], (10, 3), False)

    Information plane of an autoencoder [2]_ during training: after each epoch, feed a
    fixed evaluation batch and measure every layer against the input and the output.

    >>> import renyimi
    >>> from renyimi.capture import capture_activations
    >>> encoder = nn.Sequential(nn.Linear(8, 5), nn.Tanh(), nn.Linear(5, 2), nn.Tanh())
    >>> decoder = nn.Sequential(nn.Linear(2, 5), nn.Tanh(), nn.Linear(5, 8))
    >>> model = nn.Sequential(encoder, decoder)
    >>> layers = {"E1": "0.1", "Z": "0.3", "D1": "1.1"}   # network order
    >>> x_train, x_eval = torch.randn(256, 8), torch.randn(128, 8)
    >>> optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    >>> plane = {label: [] for label in layers}
    >>> for epoch in range(3):  # doctest: +SKIP
    ...     _ = model.train()
    ...     for xb in x_train.split(64):
    ...         optimiser.zero_grad()
    ...         loss = ((model(xb) - xb) ** 2).mean()
    ...         loss.backward()
    ...         optimiser.step()
    ...     _ = model.eval()
    ...     with torch.no_grad(), capture_activations(model, layers, flatten=True) as acts:
    ...         x_out = model(x_eval)
    ...     for label, t in acts.items():
    ...         plane[label].append((
    ...             float(renyimi.mutual_information(x_eval, t)),   # I(X;T), bits
    ...             float(renyimi.mutual_information(t, x_out)),    # I(T;X'), bits
    ...         ))
    """

    def __init__(
        self,
        model: torch.nn.Module,
        layers: Sequence[str] | Mapping[str, str],
        *,
        detach: bool = True,
        flatten: bool = False,
        repeat: Repeat = "last",
    ) -> None:
        if not hasattr(model, "named_modules") or not hasattr(
            model, "register_forward_hook"
        ):
            raise TypeError(
                f"model must be a torch.nn.Module; got {type(model).__name__}."
            )
        if repeat not in _REPEAT_CHOICES:
            raise ValueError(
                f"repeat must be one of {', '.join(map(repr, _REPEAT_CHOICES))}; "
                f"got {repeat!r}."
            )
        self.layers = _normalise_layers(layers)
        modules = dict(model.named_modules())
        for name in self.layers.values():
            if name not in modules:
                raise KeyError(_unknown_name_message(name, list(modules)))
        self.model = model
        self.detach = bool(detach)
        self.flatten = bool(flatten)
        self.repeat = repeat
        self._modules = {label: modules[name] for label, name in self.layers.items()}
        self._chunks: dict[str, list[Any]] = {}
        self._handles: list[Any] = []

    # -- context manager -------------------------------------------------------------
    def __enter__(self) -> Self:
        if self._handles:
            raise RuntimeError(
                "this ActivationCapture is already active; leave its 'with' block before "
                "entering it again, or create a second capture."
            )
        _import_torch()
        self._chunks = {}
        try:
            for label, module in self._modules.items():
                self._handles.append(
                    module.register_forward_hook(self._make_hook(label))
                )
        except BaseException:
            self.remove_hooks()
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.remove_hooks()

    def remove_hooks(self) -> None:
        """Remove every hook this capture registered (idempotent)."""
        handles, self._handles = self._handles, []
        for handle in handles:
            handle.remove()

    def _make_hook(self, label: str):
        def hook(module, inputs, output):
            self._store(label, self._as_tensor(label, output))

        return hook

    def _as_tensor(self, label: str, output: Any) -> torch.Tensor:
        torch = _import_torch()
        tensor = output
        if (
            isinstance(output, (tuple, list))
            and output
            and isinstance(output[0], torch.Tensor)
        ):
            tensor = output[0]
        if not isinstance(tensor, torch.Tensor):
            kind = type(output).__name__
            if isinstance(output, (tuple, list)):
                kind += (
                    f" whose first element is {type(output[0]).__name__}"
                    if output
                    else " (empty)"
                )
            raise TypeError(
                f"layers: module {self.layers[label]!r} (label {label!r}) returned a {kind}; "
                f"a tensor, or a tuple/list whose first element is a tensor, is needed. "
                f"Capture the submodule that produces the tensor instead."
            )
        if self.detach:
            tensor = tensor.detach()
        if self.flatten:
            if tensor.ndim == 0:
                raise ValueError(
                    f"flatten=True needs outputs with a sample dimension; module "
                    f"{self.layers[label]!r} (label {label!r}) returned a 0-d tensor. "
                    f"Drop this layer or pass flatten=False."
                )
            tensor = tensor.reshape(tensor.shape[0], -1)
        return tensor

    def _store(self, label: str, tensor: torch.Tensor) -> None:
        chunks = self._chunks.get(label)
        if chunks is None or self.repeat == "last":
            self._chunks[label] = [tensor]
        elif self.repeat == "concat":
            chunks.append(tensor)
        else:
            raise RuntimeError(
                f"module {self.layers[label]!r} (label {label!r}) ran more than once while "
                f"the capture was active, and repeat='error'. Use repeat='last' to keep the "
                f"latest output or repeat='concat' to stack them along dimension 0."
            )

    # -- mapping interface -----------------------------------------------------------
    def __getitem__(self, label: str) -> torch.Tensor:
        if label not in self.layers:
            raise KeyError(
                f"{label!r} is not a captured label; the labels are "
                f"{', '.join(map(repr, self.layers))}."
            )
        chunks = self._chunks.get(label)
        if not chunks:
            raise KeyError(
                f"module {self.layers[label]!r} (label {label!r}) did not run while the "
                f"capture was active, so it has no activation. Check that the forward pass "
                f"happened inside the 'with' block and that this module is on its path."
            )
        if len(chunks) > 1:
            torch = _import_torch()
            chunks[:] = [torch.cat(chunks, dim=0)]
        return chunks[0]

    def __iter__(self) -> Iterator[str]:
        # Only labels with an activation, so that iteration agrees with __getitem__.
        return (label for label in self.layers if self._chunks.get(label))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    @property
    def missing(self) -> list[str]:
        """Labels whose module has not run since the capture was entered."""
        return [label for label in self.layers if not self._chunks.get(label)]

    def clear(self) -> None:
        """Forget the stored activations (the hooks, if active, stay)."""
        self._chunks = {}

    def __repr__(self) -> str:
        state = "active" if self._handles else "inactive"
        return (
            f"{type(self).__name__}({state}, layers={self.layers!r}, "
            f"captured={list(self)!r})"
        )


def capture_activations(
    model: torch.nn.Module,
    layers: Sequence[str] | Mapping[str, str],
    *,
    detach: bool = True,
    flatten: bool = False,
    repeat: Repeat = "last",
) -> ActivationCapture:
    """Context manager recording the outputs of named submodules of ``model``.

    A shorthand for :class:`ActivationCapture`; see it for every parameter.

    Parameters
    ----------
    model : torch.nn.Module
        The network.
    layers : list of str or dict of {str: str}
        Names from ``model.named_modules()``, or ``{label: module_name}``.
    detach : bool, default=True
        Store detached outputs (no autograd graph kept alive).
    flatten : bool, default=False
        Reshape outputs to ``(N, features)``.
    repeat : {"last", "concat", "error"}, default="last"
        Policy for a module that runs several times while the capture is active.

    Returns
    -------
    ActivationCapture
        Use it in a ``with`` statement; it is a mapping ``label -> tensor`` ordered as
        ``layers``.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> model = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
    >>> with torch.no_grad(), capture_activations(model, ["0"]) as acts:
    ...     _ = model(torch.ones(2, 4))
    >>> tuple(acts["0"].shape)
    (2, 3)
    """
    return ActivationCapture(
        model, layers, detach=detach, flatten=flatten, repeat=repeat
    )
