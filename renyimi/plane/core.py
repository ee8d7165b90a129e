"""The :class:`InformationPlane`: measure, record and keep the information plane of a network."""

from __future__ import annotations

import copy
import math
import numbers
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import theory
from .._engine.arrays import device as _device
from .._engine.arrays import get_namespace, to_numpy, to_python_float
from .._optional import require
from .._plan import DEFAULTS, VARIABLE_SETTINGS, check_override_settings, make_plan
from ..pairwise import estimate_pairs
from .history import RunningStats, _check_n_points, hann_smooth, log_spaced_indices
from .measurement import Measurement, PlaneArrays, unknown_name
from .storage import json_value, lost_settings, read_state, write_state

__all__ = ["InformationPlane"]

#: Override keys for the input and the output variable (no layer may use these names).
RESERVED_NAMES = ("X", "Y")
OUTPUTS = ("reconstruction", "labels")


def _check_layer_names(layers: Any, param: str = "layers") -> tuple[str, ...]:
    if isinstance(layers, str) or not isinstance(layers, Iterable):
        raise TypeError(f"{param} must be a sequence of layer names in network order; got {layers!r}.")
    names = tuple(layers)
    if not names:
        raise ValueError(f"{param} is empty; give at least one layer.")
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"{param}: layer names must be strings; got {name!r} ({type(name).__name__}).")
        if name in RESERVED_NAMES:
            raise ValueError(f"{param}: the names 'X' and 'Y' are reserved for the input and output "
                             f"variables (override keys); rename the layer {name!r}, e.g. to 'T_{name}'.")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"{param} names some layers twice: {dup}; each layer must appear once.")
    return names


def _overrides(overrides: Any) -> dict[str, dict[str, Any]]:
    """The plane's ``overrides`` as a dict of dicts (the setting names are checked by the plan)."""
    if overrides is None:
        return {}
    if not isinstance(overrides, Mapping):
        raise TypeError(f"overrides must be a dict {{name: {{setting: value}}}}; got {type(overrides).__name__}.")
    for name, o in overrides.items():
        check_override_settings(o, name)
    return {str(name): dict(o) for name, o in overrides.items()}


def _check_override_names(overrides: Mapping[str, Any], layers: Sequence[str]) -> None:
    valid = (*RESERVED_NAMES, *layers)
    for name in overrides:
        if name not in valid:
            raise ValueError(f"overrides: {unknown_name(name, valid, 'variable')} Override keys are layer names, "
                             f"'X' (the input) or 'Y' (the output variable).")


def _check_step(step: Any) -> int | float:
    if isinstance(step, bool) or not isinstance(step, numbers.Real) or not math.isfinite(step):
        raise ValueError(f"step must be a finite number (the training iteration); got step={step!r}.")
    return int(step) if isinstance(step, numbers.Integral) else float(step)


def _detach(a: Any) -> Any:
    # Measurements never need gradients: dropping the graph keeps memory flat during training.
    return a.detach() if hasattr(a, "detach") else a


def _label_codes(y: Any) -> np.ndarray:
    """Integer class codes of labels given as (N,) class ids or (N, C) one-hot / indicator rows."""
    y = to_numpy(y)
    if y.ndim == 1:
        if y.dtype.kind == "f" and not np.all(np.isfinite(y) & (y == np.round(y))):
            raise ValueError("output='labels' needs class labels (integers, strings or one-hot rows); got "
                             "non-integer floats. For a continuous output use output='reconstruction'.")
        return np.unique(y, return_inverse=True)[1].reshape(-1)
    if y.ndim == 2:
        if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
            raise ValueError("y contains NaN or infinite values; labels must be finite.")
        return np.unique(y, axis=0, return_inverse=True)[1].reshape(-1)
    raise ValueError(f"output='labels' needs y of shape (N,) (class ids) or (N, C) (one-hot); got {y.shape}.")


class InformationPlane:
    r"""Measure and record the information plane of a network during training.

    Every measurement takes a batch of inputs ``x``, the output variable ``y`` and the activations of
    the hidden layers, and computes for each layer :math:`T` the input MI :math:`\hat I(X;T)` and the
    output MI :math:`\hat I(T;Y)` with the matrix-based Rényi estimator (eq. 20 of [1]_), together with
    :math:`M = \hat I(X;X)` and :math:`\hat I(X;Y)` (the theory's references) and each layer's mean
    activation variance. Each Gram matrix and each entropy is computed once per measurement, and the
    eigenvalue problems run as in :func:`renyimi.pairwise_mutual_information` (concurrently on CPU
    threads, or batched on a GPU, where that is faster).

    Parameters
    ----------
    layers : sequence of str, optional
        Layer names in network order (the order of the DPI chain, eq. 13 of [1]_). If None, the order of
        the first recorded mapping is used. ``"X"`` and ``"Y"`` are reserved.
    n_encoder : int, optional
        Number of encoder layers *including* the bottleneck Z (the convention of :mod:`renyimi.theory`);
        the following layers are the decoder. Default: up to and including a layer named ``"Z"`` if
        there is one, otherwise every layer (a plain feed-forward chain, e.g. a classifier).
    output : {"reconstruction", "labels"}, default "reconstruction"
        What ``y`` is. ``"reconstruction"``: an array like the layers (the autoencoder's :math:`X'`, or
        any continuous output), measured with the same kernel and width rule. ``"labels"``: class labels,
        ``(N,)`` integers (or strings) or ``(N, C)`` one-hot rows, measured with the delta kernel
        :math:`\kappa(y_i, y_j) = [y_i = y_j]`, whose normalised Gram has the class frequencies
        :math:`p_c` as eigenvalues: :math:`S_\alpha(A_Y) = \frac{1}{1-\alpha}\log\sum_c p_c^\alpha` is
        exactly the Rényi entropy of the labels, so :math:`\hat I(T;Y) \le \log C`, and no width has to be
        chosen. To use a Gaussian kernel on one-hot labels instead, pass
        ``overrides={"Y": {"kernel": "gaussian", ...}}``.
    alpha : float, default 1.01
        Rényi order, shared by all variables.
    kernel, sigma, sigma_scale, standardize, width_params
        Default per-variable estimator settings (see :func:`renyimi.mutual_information`):
        :math:`\exp(-\lVert x-y\rVert^2/(2\sigma^2))` with the width rule of [1]_ by default.
    overrides : dict of {str: dict}, optional
        Per-variable settings that replace the defaults, keyed by layer name, ``"X"`` (the input) or
        ``"Y"`` (the output variable). Allowed settings: ``kernel``, ``sigma``, ``sigma_scale``,
        ``standardize``, ``width_params``. The rule of [3]_ used in Fig. 6 of [1]_ is
        ``sigma="yu", sigma_scale=5, overrides={"Z": {"sigma_scale": 25}}``. Unknown names raise
        ``ValueError``.
    base : float, default 2
        Logarithm base of every MI (2: bits).
    dtype, backend, eigensolver, method, random_state, method_params
        Shared estimator settings (see :func:`renyimi.mutual_information`); ``method="slq"`` (or
        ``"auto"`` above N = 8192) estimates large evaluation batches stochastically.

    Attributes
    ----------
    layers : tuple of str
        Layer names in network order (empty until known).
    settings : dict
        All estimator settings as given (``overrides`` included).

    See Also
    --------
    renyimi.plotting.plot_information_plane : draw a recorded plane.
    renyimi.theory.theory_report : the checks behind :meth:`diagnostics`.
    renyimi.capture.ActivationCapture : forward hooks used by :meth:`record_model`.

    Notes
    -----
    The estimator is not Shannon's MI: its values depend on the kernel width and on N, and the
    properties the theory proves for true MI (Lemma 1: equal output MI for every layer; the forward DPI)
    hold only approximately. :meth:`diagnostics` measures how far a recorded plane is from them.

    References
    ----------
    .. [1] N. I. Tapia and P. A. Estévez, "On the information plane of autoencoders," IJCNN 2020.
    .. [3] S. Yu and J. C. Príncipe, "Understanding autoencoders with information theoretic concepts,"
       Neural Networks 117, 2019.

    Examples
    --------
    >>> import numpy as np, renyimi
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(64, 6))
    >>> plane = renyimi.InformationPlane(sigma_scale=2.0)
    >>> for step in (0, 10, 100):
    ...     w = rng.normal(size=(6, 3))
    ...     layers = {"T1E": np.tanh(x @ rng.normal(size=(6, 4))), "Z": x @ w}
    ...     m = plane.record(step, x, x + 0.1 * rng.normal(size=x.shape), layers)
    >>> plane.layers, len(plane)
    (('T1E', 'Z'), 3)
    >>> arrays = plane.to_arrays()
    >>> arrays.input_mi.shape
    (3, 2)
    >>> bool(np.all(arrays.input_mi <= arrays.input_information[:, None] + 1e-9))
    True
    """

    def __init__(self, layers: Sequence[str] | None = None, *, n_encoder: int | None = None,
                 output: str = "reconstruction", alpha: float = 1.01, kernel: Any = "gaussian",
                 sigma: Any = "tapia", sigma_scale: float = 1.0, standardize: Any = "feature",
                 width_params: dict | None = None, overrides: Mapping[str, Mapping[str, Any]] | None = None,
                 base: float = 2, dtype: Any = None, backend: str = "auto",
                 eigensolver: str = "auto", method: str = "auto", random_state: Any = None,
                 method_params: dict | None = None) -> None:
        # Stored as given and validated when the plane measures (scikit-learn's rule).
        self.settings = {
            "alpha": alpha, "base": base, "kernel": kernel, "sigma": sigma, "sigma_scale": sigma_scale,
            "standardize": standardize, "width_params": None if width_params is None else dict(width_params),
            "overrides": {} if overrides is None else overrides, "dtype": dtype, "backend": backend,
            "eigensolver": eigensolver, "method": method, "random_state": random_state,
            "method_params": method_params,
        }
        self.output = output
        self._n_encoder = None if n_encoder is None else self._check_n_encoder(n_encoder, None)
        self.layers: tuple[str, ...] = ()
        self._cells: dict[int | float, RunningStats] = {}
        self.processing: list[dict[str, Any]] = []  # smoothing / subsampling applied to this copy
        self.saved_version: str | None = None  # renyimi version that wrote the file, after load()
        if layers is not None:
            self._set_layers(_check_layer_names(layers))

    # ------------------------------------------------------------------------- configuration
    def _check_n_encoder(self, n_encoder: Any, n_layers: int | None) -> int:
        upper = math.inf if n_layers is None else n_layers
        is_int = isinstance(n_encoder, (int, np.integer)) and not isinstance(n_encoder, bool)
        if not is_int or not 1 <= n_encoder <= upper:
            bound = "n_layers" if n_layers is None else f"n_layers={n_layers}"
            raise ValueError(f"n_encoder must be an integer in [1, {bound}] (encoder layers including the "
                             f"bottleneck Z); got n_encoder={n_encoder!r}.")
        return int(n_encoder)

    def _set_layers(self, names: tuple[str, ...]) -> None:
        _check_override_names(_overrides(self.settings["overrides"]), names)
        if self._n_encoder is not None:
            self._check_n_encoder(self._n_encoder, len(names))
        self.layers = names

    @property
    def n_encoder(self) -> int | None:
        """Encoder layers including Z: as given, else up to ``"Z"``, else all layers (None before any)."""
        if self._n_encoder is not None:
            return self._n_encoder
        if not self.layers:
            return None
        return self.layers.index("Z") + 1 if "Z" in self.layers else len(self.layers)

    @property
    def units(self) -> str:
        """``"bits"``, ``"nats"`` or ``"log base b"``, for axis labels."""
        base = self.settings["base"]
        return "bits" if base == 2 else "nats" if base == math.e else f"log base {base:g}"

    def variable_settings(self, name: str) -> dict[str, Any]:
        """Estimator settings of one variable (``"X"``, ``"Y"`` or a layer): defaults, then overrides."""
        s = {k: self.settings[k] for k in VARIABLE_SETTINGS}
        if name == "Y" and self.output == "labels":
            s["kernel"] = "delta"
        s.update(_overrides(self.settings["overrides"]).get(name, {}))
        return s

    # ---------------------------------------------------------------------------- measuring
    def _ordered(self, layers: Any) -> dict[str, Any]:
        if not isinstance(layers, Mapping):
            raise TypeError(f"layers must be a mapping {{name: activations}} (a dict or an "
                            f"ActivationCapture); got {type(layers).__name__}.")
        names = _check_layer_names(list(layers.keys()), "layers")
        if self.layers:
            missing = [n for n in self.layers if n not in layers]
            extra = [n for n in names if n not in self.layers]
            if missing or extra:
                raise ValueError(f"layers must hold exactly the plane's layers {list(self.layers)}; "
                                 f"missing {missing}, unexpected {extra}.")
            names = self.layers
        else:
            _check_override_names(_overrides(self.settings["overrides"]), names)
        return {name: layers[name] for name in names}

    def measure(self, x: Any, y: Any, layers: Mapping[str, Any], *, executor: Any = None) -> Measurement:
        r"""Input MI :math:`\hat I(X;T)` and output MI :math:`\hat I(T;Y)` of every layer, for one batch.

        Stateless: nothing is recorded (see :meth:`record`).

        Parameters
        ----------
        x : array (N, ...)
            Network inputs :math:`X` (NumPy, CuPy or torch; images are flattened per sample).
        y : array (N, ...)
            The output variable: the reconstruction :math:`X'` (``output="reconstruction"``) or labels
            (``output="labels"``, integers of shape (N,) or one-hot (N, C); any array library).
        layers : mapping of str to array (N, ...)
            Activations :math:`T` of each hidden layer for this batch (a dict, or an
            :class:`~renyimi.capture.ActivationCapture`), same N as ``x``.
        executor : concurrent.futures.Executor, optional
            Runs this measurement's independent entropies on the executor (a thread or process pool,
            or ``distributed.Client(...).get_executor()``); see
            :func:`renyimi.pairwise_mutual_information`.

        Returns
        -------
        Measurement
            Per-layer ``input_mi``, ``output_mi`` and ``variance`` (arrays in network order), plus
            ``input_information`` (:math:`\hat I(X;X)`), ``input_output_mi`` (:math:`\hat I(X;Y)`) and
            the resolved widths.

        Raises
        ------
        ValueError
            Empty ``layers``; a layer, ``x`` or ``y`` with a different number of samples; NaN or infinite
            activations (a diverged network); unknown override names; layers that differ from the
            plane's.

        Examples
        --------
        >>> import numpy as np, renyimi
        >>> x = np.random.default_rng(1).normal(size=(50, 4))
        >>> m = renyimi.InformationPlane(sigma=1.0).measure(x, x, {"T": x[:, ::-1]})
        >>> i_in, i_out = m["T"]  # T is an isometry of X = Y: both equal I(X;X)
        >>> round(i_in - m.input_information, 9), round(i_out - m.input_information, 9)
        (0.0, 0.0)
        """
        layers = self._ordered(layers)
        x, y = _detach(x), _detach(y)
        layers = {name: _detach(t) for name, t in layers.items()}
        self._check_sample_counts(x, y, layers)
        xp, _ = get_namespace({"x": x})
        variables = {"X": x, "Y": self._output_variable(y, xp, _device(x)), **layers}
        labels = {"X": "x", "Y": "y", **{k: f"layers[{k!r}]" for k in layers}}
        plan = make_plan(variables, {**self._shared_settings(), "executor": executor},
                         overrides=self._plan_overrides(), labels=labels)
        pairs = [("X", "X"), ("X", "Y"), *(("X", t) for t in layers), *((t, "Y") for t in layers)]
        pairwise = estimate_pairs(plan, pairs)
        mi = {pair: to_python_float(v) for pair, v in pairwise.mi.items()}
        flat = (plan.arrays[plan.index(t)] for t in layers)
        variance = [to_python_float(xp.mean(xp.var(t, axis=0))) for t in flat]
        return Measurement(tuple(layers), np.array([mi["X", t] for t in layers]),
                           np.array([mi[t, "Y"] for t in layers]), np.array(variance), mi["X", "X"],
                           mi["X", "Y"], dict(zip(plan.names, pairwise.grams.sigmas, strict=True)))

    def _shared_settings(self) -> dict[str, Any]:
        if self.output not in OUTPUTS:
            raise ValueError(f"output must be one of {', '.join(map(repr, OUTPUTS))}; got output={self.output!r}.")
        return {k: v for k, v in self.settings.items() if k in DEFAULTS}

    def _plan_overrides(self) -> dict[str, dict[str, Any]]:
        overrides = _overrides(self.settings["overrides"])
        if self.variable_settings("Y")["kernel"] == "delta":  # labels: their Gram matrix is precomputed
            overrides["Y"] = {**overrides.get("Y", {}), "kernel": "precomputed"}
        return overrides

    def _output_variable(self, y: Any, xp: Any, device: Any) -> Any:
        """``y`` as the estimator takes it: as given, the delta-kernel Gram of labels, or one-hot labels."""
        if self.output != "labels":
            return y
        codes = _label_codes(y)
        if self.variable_settings("Y")["kernel"] == "delta":
            return xp.asarray((codes[:, None] == codes[None, :]).astype(np.float64), device=device)
        return xp.asarray(np.eye(codes.max() + 1)[codes], device=device)  # another kernel on one-hot rows

    def _check_sample_counts(self, x: Any, y: Any, layers: dict[str, Any]) -> int:
        shapes = {"x": tuple(getattr(x, "shape", np.shape(x))), "y": tuple(getattr(y, "shape", np.shape(y)))}
        shapes.update({f"layers[{k!r}]": tuple(getattr(t, "shape", np.shape(t))) for k, t in layers.items()})
        for name, shape in shapes.items():
            if not shape:
                raise ValueError(f"{name} must have a sample dimension first; got a 0-d value.")
        n = shapes["x"][0]
        bad = {k: s for k, s in shapes.items() if s[0] != n}
        if bad:
            listed = ", ".join(f"{k}.shape={s}" for k, s in bad.items())
            raise ValueError(f"every layer and y must have as many samples (rows) as x; "
                             f"x.shape={shapes['x']} but {listed}. Pass the activations of the same batch, "
                             f"samples first.")
        return n

    # ---------------------------------------------------------------------------- recording
    def record(self, step: int | float, x: Any, y: Any, layers: Mapping[str, Any], *,
               executor: Any = None) -> Measurement:
        """Measure one batch and add it to the history at ``step``.

        Several calls with the same ``step`` (several evaluation batches; Tapia & Estévez (2020) average 10
        batches of 512 test samples) are averaged, and their count and standard deviation are kept.
        The first call fixes the layer order if ``layers`` was not given at construction.

        Parameters
        ----------
        step : int or float
            Training iteration (or any increasing clock, such as a fractional epoch).
        x, y, layers, executor
            As in :meth:`measure`.

        Returns
        -------
        Measurement
            This batch's measurement.
        """
        if self.processing:
            raise RuntimeError(f"this plane is a processed copy ({self.processing}); record into the "
                               f"original plane and smooth or subsample it afterwards.")
        step = _check_step(step)
        return self.add_measurement(step, self.measure(x, y, layers, executor=executor))

    def add_measurement(self, step: int | float, measurement: Measurement) -> Measurement:
        """Add a measurement computed elsewhere (another process, a Dask worker) to the history at ``step``.

        ``plane.record(step, x, y, layers)`` is ``plane.add_measurement(step, plane.measure(x, y, layers))``;
        this is the second half, for measurements made by :meth:`measure` on a copy of this plane.

        Parameters
        ----------
        step : int or float
            Training iteration.
        measurement : Measurement
            One batch's measurement, with this plane's layers (in order).

        Returns
        -------
        Measurement
            ``measurement``, unchanged.
        """
        if self.processing:
            raise RuntimeError(f"this plane is a processed copy ({self.processing}); record into the "
                               f"original plane and smooth or subsample it afterwards.")
        step = _check_step(step)
        if not isinstance(measurement, Measurement):
            raise TypeError(f"measurement must be a renyimi Measurement (from InformationPlane.measure); "
                            f"got {type(measurement).__name__}.")
        m = measurement
        if not self.layers:
            self._set_layers(m.layers)
        elif tuple(m.layers) != tuple(self.layers):
            raise ValueError(f"measurement.layers={tuple(m.layers)} differ from this plane's layers "
                             f"{tuple(self.layers)}; measure with the same layers in the same order.")
        v = np.concatenate([m.input_mi, m.output_mi, m.variance, [m.input_information, m.input_output_mi]])
        cell = self._cells.get(step)
        if cell is None:
            self._cells[step] = RunningStats(1, v, np.zeros_like(v))
        else:
            cell.add(v)
        return m

    def record_batches(self, step: int | float, batches: Iterable[Any],
                       forward: Callable[[Any], tuple[Any, Any, Mapping[str, Any]]] | None = None, *,
                       progress: bool = False, total: int | None = None,
                       executor: Any = None) -> list[Measurement]:
        """Record several evaluation batches at one step (averaged), with an optional progress bar.

        Parameters
        ----------
        step : int or float
            Training iteration.
        batches : iterable
            Evaluation batches. Without ``forward`` each item is an ``(x, y, layers)`` triple.
        forward : callable, optional
            ``forward(batch) -> (x, y, layers)``: runs the network on one batch and returns its input,
            output variable and activations. This keeps any framework's forward pass out of the plane.
        progress : bool, default False
            Show a :mod:`tqdm` progress bar over the batches (needs ``pip install tqdm``).
        total : int, optional
            Number of batches, for the progress bar when ``batches`` has no length.
        executor : concurrent.futures.Executor, optional
            Runs each measurement's independent entropies on this executor (see :meth:`measure`).

        Returns
        -------
        list of Measurement
            One per batch.

        Examples
        --------
        >>> import numpy as np, renyimi
        >>> rng = np.random.default_rng(0)
        >>> w = rng.normal(size=(5, 2))
        >>> def forward(x):
        ...     z = x @ w
        ...     return x, z @ w.T, {"Z": z}
        >>> plane = renyimi.InformationPlane()
        >>> _ = plane.record_batches(0, [rng.normal(size=(40, 5)) for _ in range(3)], forward)
        >>> int(plane.to_arrays().n_batches[0])
        3
        """
        items = batches
        if progress:
            items = _tqdm()(batches, total=total, desc=f"information plane, step {step}", leave=False)
        out = []
        for batch in items:
            x, y, layers = forward(batch) if forward is not None else batch
            out.append(self.record(step, x, y, layers, executor=executor))
        return out

    def record_model(self, step: int | float, model: Any, batches: Iterable[Any], layers: Any, *,
                     progress: bool = False, total: int | None = None,
                     executor: Any = None) -> list[Measurement]:
        """Run a torch model on evaluation batches and record its information plane at ``step``.

        Each batch goes through ``model`` under :func:`torch.no_grad` in eval mode (the previous
        train/eval mode is restored afterwards) while forward hooks
        (:class:`~renyimi.capture.ActivationCapture`, ``flatten=True``) capture the named layers.
        ``y`` is the model's output (its first element if it returns a tuple) for
        ``output="reconstruction"``, or the batch's labels for ``output="labels"``.

        Parameters
        ----------
        step : int or float
            Training iteration.
        model : torch.nn.Module
            The network.
        batches : iterable
            Tensors ``x``, or tuples/lists ``(x, labels, ...)`` as a ``DataLoader`` yields. Inputs are
            moved to the device of the model's parameters.
        layers : list of str or dict of {str: str}
            Modules to capture, ``{label: module_name}`` to name them as the plane's layers (in network
            order), as in :class:`~renyimi.capture.ActivationCapture`.
        progress : bool, default False
            Progress bar over the batches (tqdm).
        total : int, optional
            Number of batches, for the progress bar.
        executor : concurrent.futures.Executor, optional
            Runs each measurement's independent entropies on this executor (see :meth:`measure`).

        Returns
        -------
        list of Measurement
            One per batch.

        Examples
        --------
        >>> import torch, renyimi
        >>> from torch import nn
        >>> model = nn.Sequential(nn.Linear(6, 3), nn.Sigmoid(), nn.Linear(3, 6))
        >>> plane = renyimi.InformationPlane(n_encoder=1)
        >>> batches = torch.randn(2, 32, 6)  # two batches of 32 samples
        >>> _ = plane.record_model(0, model, batches, {"Z": "1"})
        >>> plane.layers, int(plane.to_arrays().n_batches[0])
        (('Z',), 2)
        """
        from ..capture import _import_torch, capture_activations

        torch = _import_torch()
        param = next(iter(model.parameters()), None)
        device = None if param is None else param.device

        def forward(batch):
            x, labels = (batch[0], batch[1] if len(batch) > 1 else None) if isinstance(batch, (tuple, list)) \
                else (batch, None)
            if self.output == "labels" and labels is None:
                raise ValueError("output='labels' needs batches of (x, labels); got batches without labels.")
            if device is not None:
                x = x.to(device)
            with torch.no_grad(), capture_activations(model, layers, flatten=True) as acts:
                out = model(x)
            if isinstance(out, (tuple, list)):
                out = out[0]
            return x, out if self.output == "reconstruction" else labels, dict(acts)

        was_training = model.training
        model.eval()
        try:
            return self.record_batches(step, batches, forward, progress=progress, total=total, executor=executor)
        finally:
            model.train(was_training)

    # ------------------------------------------------------------------------------ history
    def __len__(self) -> int:
        return len(self._cells)

    @property
    def steps(self) -> np.ndarray:
        """Recorded steps, increasing."""
        return np.array(sorted(self._cells))

    @property
    def M(self) -> float | None:
        r"""Mean recorded input information :math:`M = \hat I(X;X)` over the steps (None if empty)."""
        return float(self.to_arrays().input_information.mean()) if self._cells else None

    def to_arrays(self) -> PlaneArrays:
        """The history as arrays: steps increasing, layers in network order (see :class:`PlaneArrays`).

        Feed ``input_mi`` and ``output_mi`` to :mod:`renyimi.theory`, or use :meth:`diagnostics`.
        """
        if not self._cells:
            raise ValueError("the plane is empty; record() at least one step first.")
        steps = sorted(self._cells)
        cells = [self._cells[s] for s in steps]
        n = np.array([c.n for c in cells])
        mean = np.stack([c.mean for c in cells])
        std = np.sqrt(np.stack([c.m2 for c in cells]) / n[:, None])
        L = len(self.layers)
        return PlaneArrays(np.array(steps), self.layers, mean[:, :L], mean[:, L:2 * L], mean[:, 2 * L:3 * L],
                           n, std[:, :L], std[:, L:2 * L], mean[:, 3 * L], mean[:, 3 * L + 1])

    def to_dict(self) -> dict[str, np.ndarray]:
        """Tidy columns, one row per (step, layer): ``step, layer, input_mi, output_mi, variance, n_batches,
        input_mi_std, output_mi_std, input_information, input_output_mi`` (per-step values repeated)."""
        a = self.to_arrays()
        n_steps, L = a.input_mi.shape
        per_step = {"step": a.steps, "n_batches": a.n_batches, "input_information": a.input_information,
                    "input_output_mi": a.input_output_mi}
        out = {"step": np.repeat(a.steps, L), "layer": np.tile(np.array(a.layers), n_steps)}
        for q in ("input_mi", "output_mi", "variance"):
            out[q] = getattr(a, q).reshape(-1)
        for q in ("n_batches", "input_mi_std", "output_mi_std", "input_information", "input_output_mi"):
            v = per_step.get(q)
            out[q] = np.repeat(v, L) if v is not None else getattr(a, q).reshape(-1)
        return out

    def to_records(self) -> list[dict[str, Any]]:
        """The tidy table as a list of dicts of Python scalars (one per step and layer)."""
        cols = self.to_dict()
        return [{k: v[i].item() for k, v in cols.items()} for i in range(len(cols["step"]))]

    def to_pandas(self):
        """The tidy table as a :class:`pandas.DataFrame` (needs pandas).

        Examples
        --------
        >>> import numpy as np, renyimi
        >>> x = np.random.default_rng(0).normal(size=(30, 3))
        >>> plane = renyimi.InformationPlane()
        >>> _ = plane.record(5, x, x, {"A": x[:, :2], "B": x[:, :1]})
        >>> plane.to_pandas()[["step", "layer", "n_batches"]]
           step layer  n_batches
        0     5     A          1
        1     5     B          1
        """
        pd = require("pandas", needed_by="InformationPlane.to_pandas", extra="examples")
        return pd.DataFrame(self.to_dict())

    def diagnostics(self, M: float | None = None, *, tol: float = 0.0) -> theory.TheoryReport:
        """Score the recorded plane against the theory of Tapia & Estévez (2020) (:func:`renyimi.theory.theory_report`).

        Forward-DPI violations along the layer order, spread of the output MI across layers at each step
        (zero by Lemma 1 for true MI), points outside the feasible triangle and the final distance from the
        bisector. The rows are the recorded (or smoothed) steps; the last one is read as converged.

        Parameters
        ----------
        M : float, optional
            Input information :math:`\\hat I(X;X)`; default the recorded mean (:attr:`M`).
        tol : float, default 0
            Slack, in the plane's units, for DPI increases and for leaving the triangle; the recorded
            batch standard deviations (``to_arrays().input_mi_std``) suggest a value.

        Returns
        -------
        renyimi.theory.TheoryReport
        """
        a = self.to_arrays()
        return theory.theory_report(a.input_mi, a.output_mi, layers=a.layers, n_encoder=self.n_encoder,
                                    M=self.M if M is None else M, tol=tol)

    # -------------------------------------------------------------------------- processing
    def _derived(self, cells: dict, step: dict[str, Any]) -> InformationPlane:
        new = copy.copy(self)
        new.settings = copy.deepcopy(self.settings)
        new._cells = cells
        new.processing = [*self.processing, step]
        return new

    def smooth(self, window: float = 500) -> InformationPlane:
        """A copy with every recorded quantity smoothed by a Hann window spanning ``window`` steps.

        Tapia & Estévez (2020) smooth with a Hann window spanning 500 iterations before plotting. The window is
        in units of the recorded steps (iterations), not a number of points: see :func:`hann_smooth` for
        uneven spacing and the ends. Input/output MI, variances, :math:`\\hat I(X;X)` and
        :math:`\\hat I(X;Y)` are smoothed; batch counts and standard deviations are kept as recorded.
        The copy cannot record.

        Parameters
        ----------
        window : float, default 500
            Window span in steps.

        Returns
        -------
        InformationPlane
        """
        steps = sorted(self._cells)
        if not steps:
            raise ValueError("the plane is empty; nothing to smooth.")
        mean = hann_smooth(steps, np.stack([self._cells[s].mean for s in steps]), window)
        cells = {s: RunningStats(self._cells[s].n, mean[i], self._cells[s].m2.copy()) for i, s in enumerate(steps)}
        return self._derived(cells, {"smooth": {"window": float(window)}})

    def subsample(self, n_points: int = 100, *, log: bool = True) -> InformationPlane:
        """A copy with about ``n_points`` of the recorded steps, log-spaced (default) or evenly spaced.

        Log spacing (:func:`log_spaced_indices`) shows the early iterations, where most of the movement
        happens, as clearly as the late ones; the first and last steps are always kept.

        Parameters
        ----------
        n_points : int, default 100
            Number of steps to keep (``>= 2``).
        log : bool, default True
            Log-spaced in the iteration; False picks evenly spaced recorded points.

        Returns
        -------
        InformationPlane
        """
        steps = sorted(self._cells)
        if not steps:
            raise ValueError("the plane is empty; nothing to subsample.")
        if log:
            idx = log_spaced_indices(steps, n_points)
        else:
            _check_n_points(n_points)
            idx = np.unique(np.linspace(0, len(steps) - 1, min(n_points, len(steps))).round().astype(int))
        cells = {steps[i]: copy.deepcopy(self._cells[steps[i]]) for i in idx}
        return self._derived(cells, {"subsample": {"n_points": int(n_points), "log": bool(log)}})

    # ---------------------------------------------------------------------------- save/load
    def _state(self) -> dict[str, Any]:
        settings = {k: json_value(v, k) for k, v in self.settings.items() if k != "overrides"}
        settings["overrides"] = {name: {k: json_value(v, k) for k, v in s.items()}
                                 for name, s in _overrides(self.settings["overrides"]).items()}
        steps = sorted(self._cells)
        return {
            "output": self.output, "n_encoder": self._n_encoder, "layers": list(self.layers),
            "settings": settings, "processing": self.processing, "steps": steps,
            "n_batches": [self._cells[s].n for s in steps],
            "mean": [self._cells[s].mean.tolist() for s in steps],
            "m2": [self._cells[s].m2.tolist() for s in steps],
        }

    def save(self, path: str | Path) -> Path:
        """Write the plane (settings, library version, layer order, full history) to a JSON file.

        JSON keeps every float exactly and can be read without renyimi; a path ending in ``.gz`` is
        gzip-compressed. Settings that JSON cannot hold (a callable width rule or kernel) are saved as
        their ``repr`` and must be passed again to :meth:`load` to measure more.

        Parameters
        ----------
        path : str or pathlib.Path

        Returns
        -------
        pathlib.Path
            The path written.
        """
        return write_state(self._state(), path)

    @classmethod
    def load(cls, path: str | Path, **settings: Any) -> InformationPlane:
        """Read a plane written by :meth:`save`; keyword arguments replace saved estimator settings.

        Examples
        --------
        >>> import numpy as np, renyimi, tempfile, os
        >>> x = np.random.default_rng(0).normal(size=(30, 3))
        >>> plane = renyimi.InformationPlane(overrides={"Z": {"sigma_scale": 2.0}})
        >>> _ = plane.record(0, x, x, {"Z": x[:, :2]})
        >>> path = plane.save(os.path.join(tempfile.mkdtemp(), "plane.json"))
        >>> again = renyimi.InformationPlane.load(path)
        >>> again.settings == plane.settings
        True
        >>> np.array_equal(again.to_arrays().input_mi, plane.to_arrays().input_mi)
        True
        """
        state = read_state(path)
        saved = dict(state["settings"])
        lost = lost_settings(saved, settings)
        if lost:
            warnings.warn(f"{path}: the settings {lost} were not serialisable and were saved as their repr; "
                          f"pass them to InformationPlane.load(path, ...) to measure with this plane again.",
                          stacklevel=2)
        saved.update(settings)
        plane = cls(state["layers"] or None, n_encoder=state["n_encoder"], output=state["output"], **saved)
        rows = zip(state["steps"], state["n_batches"], state["mean"], state["m2"], strict=True)
        for step, n, mean, m2 in rows:
            plane._cells[step] = RunningStats(int(n), np.array(mean, dtype=float), np.array(m2, dtype=float))
        plane.processing = list(state["processing"])
        plane.saved_version = state.get("renyimi_version")
        return plane

    def __repr__(self) -> str:
        layers = ", ".join(self.layers) if self.layers else "not yet known"
        extra = f", processing={self.processing}" if self.processing else ""
        return (f"InformationPlane(layers=[{layers}], n_encoder={self.n_encoder}, output={self.output!r}, "
                f"steps={len(self)}{extra})")


def _tqdm():
    return require("tqdm.auto", needed_by="progress=True", extra="examples").tqdm
