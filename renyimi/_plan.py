r"""One resolved plan from every public entry point to the engine.

Every estimating entry point (the functions of :mod:`renyimi.measures`, :class:`~renyimi.MatrixMI`,
:func:`~renyimi.pairwise_mutual_information`, :meth:`~renyimi.InformationPlane.measure`, the
statistics of :mod:`renyimi.stats`) calls :func:`make_plan` once. It validates every setting (the
only place that does), expands the per-variable settings into one :class:`VariableSpec` per
variable (the only place that does: a shared value, a tuple with one entry per variable, then
``overrides``), converts the inputs and resolves the array context (namespace, device, dtype, Gram
engine, CPU or GPU). The engine (:mod:`renyimi._compute`) receives the :class:`Plan` and never
inspects arrays again.
"""

from __future__ import annotations

import numbers
from collections.abc import Hashable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._engine import eigen
from ._engine.arrays import device as _device
from ._engine.arrays import get_namespace, library_name, resolve_dtype
from ._validation import check_alpha, check_base, check_gram, check_positive, check_same_n_samples, check_samples
from .kernels import get_kernel
from .width import STANDARDIZE_OPTIONS, get_width_rule

__all__ = [
    "DEFAULTS",
    "SHARED_SETTINGS",
    "VARIABLE_SETTINGS",
    "ArrayContext",
    "Plan",
    "VariableSpec",
    "check_shared_settings",
    "make_plan",
]

#: Every estimator setting and its default; the public signatures repeat these values.
DEFAULTS: dict[str, Any] = {
    "alpha": 1.01,
    "kernel": "gaussian",
    "sigma": "tapia",
    "sigma_scale": 1.0,
    "base": 2,
    "standardize": "feature",
    "width_params": None,
    "dtype": None,
    "backend": "auto",
    "eigensolver": "auto",
    "method": "auto",
    "random_state": None,
    "method_params": None,
    "executor": None,
}
#: Settings that may differ between variables (a tuple with one entry per variable, or ``overrides``).
VARIABLE_SETTINGS = ("kernel", "sigma", "sigma_scale", "standardize", "width_params")
#: Settings shared by every variable of one estimate.
SHARED_SETTINGS = ("alpha", "base", "dtype", "backend", "eigensolver", "method", "random_state", "method_params",
                   "executor")
METHODS = ("auto", "exact", "slq")
#: Accuracy controls of ``method="slq"`` (keys of ``method_params``); see the "Large samples" page.
SLQ_CONTROLS = ("rank", "block", "krylov_steps", "n_probes", "n_lanczos")

BACKENDS = ("auto", "numpy", "numba")
KERNEL_NAMES_EXTRA = ("precomputed",)


@dataclass(frozen=True)
class VariableSpec:
    """How one variable becomes a normalised Gram matrix (validated)."""

    kernel: Any = "gaussian"
    sigma: Any = "tapia"
    sigma_scale: float = 1.0
    standardize: Any = "feature"
    width_params: dict = field(default_factory=dict)

    @property
    def precomputed(self) -> bool:
        return isinstance(self.kernel, str) and self.kernel == "precomputed"


@dataclass(frozen=True)
class ArrayContext:
    """Where and how the arrays of one estimate are computed."""

    xp: Any  # array-API namespace
    library: str  # "numpy", "torch", "cupy" or another array-API library
    device: Any
    dtype: Any  # working float dtype of xp
    gram_engine: str  # "numpy", "numba" (NumPy input only) or "array-api"
    on_gpu: bool

    @property
    def itemsize(self) -> int:
        return 4 if self.dtype == self.xp.float32 else 8


@dataclass(frozen=True)
class Plan:
    """Everything the engine needs: validated samples, one spec per variable, shared settings.

    ``arrays[i]`` is variable ``names[i]`` as an (N, d) array in the working dtype (or the (N, N)
    Gram matrix when its spec is precomputed), ``sample_shapes[i]`` its per-sample shape before
    flattening (used by ``standardize="channel"``), ``labels[i]`` its name in error messages.
    """

    names: tuple
    labels: tuple[str, ...]
    arrays: tuple
    sample_shapes: tuple
    specs: tuple[VariableSpec, ...]
    context: ArrayContext
    alpha: float
    base: float
    eigensolver: str
    executor: Executor | None = None
    method: str = "exact"  # resolved: "exact" or "slq"
    seed: np.random.SeedSequence | None = None  # randomness of method="slq"
    method_params: dict = field(default_factory=dict)

    @property
    def n_samples(self) -> int:
        return int(self.arrays[0].shape[0])

    def index(self, name: Hashable) -> int:
        return self.names.index(name)


def make_plan(variables: Mapping[Hashable, Any], settings: Mapping[str, Any], *,
              overrides: Mapping[Hashable, Mapping[str, Any]] | None = None,
              labels: Mapping[Hashable, str] | None = None,
              only: Any = None) -> Plan:
    """Validate the settings and inputs of one estimate and resolve them into a :class:`Plan`.

    Parameters
    ----------
    variables : mapping of name to array
        The variables in order; names are what ``overrides`` and per-variable tuples refer to.
    settings : mapping
        Shared keyword settings (keys of :data:`DEFAULTS`; missing ones take the default). Any of
        :data:`VARIABLE_SETTINGS` may be a tuple or list with one entry per variable, in order.
    overrides : mapping of name to dict, optional
        Per-variable settings replacing the shared ones for that variable.
    labels : mapping of name to str, optional
        How each variable is called in error messages (default: its name).
    only : sequence of names, optional
        Restrict the plan to these variables (per-variable tuples still count all of them).
    """
    if not isinstance(variables, Mapping):
        raise TypeError("variables must be a mapping of names to arrays, e.g. {'X': X, 'T1': T1}; "
                        f"got {type(variables).__name__}.")
    if not variables:
        raise ValueError("At least one variable is needed; got none.")
    unknown = [k for k in settings if k not in DEFAULTS]
    if unknown:
        raise TypeError(f"unknown setting(s) {unknown}; valid settings are {', '.join(DEFAULTS)}.")
    s = {**DEFAULTS, **settings}
    shared = check_shared_settings(s)
    names = list(variables)
    specs = variable_specs(names, s, overrides, labels)
    used = names if only is None else list(only)
    labels = {n: (labels or {}).get(n, str(n)) for n in used}
    xp, converted = get_namespace({labels[n]: variables[n] for n in used})
    arrays = [converted[labels[n]] for n in used]
    context = _array_context(xp, arrays[0], shared["dtype"], shared["backend"])
    for name, x in zip(used, arrays):
        if getattr(x, "ndim", 1) == 0:
            check_samples(x, labels[name], xp)  # the 0-d message, before the sample counts are compared
    check_same_n_samples(dict(zip(labels.values(), arrays)))
    checked = [xp.astype((check_gram if specs[n].precomputed else check_samples)(x, labels[n], xp), context.dtype)
               for n, x in zip(used, arrays)]
    shapes = [tuple(x.shape[1:]) for x in arrays]
    method = shared["method"]
    if method == "auto":
        method = "slq" if int(checked[0].shape[0]) > slq_threshold() else "exact"
    return Plan(tuple(used), tuple(labels.values()), tuple(checked), tuple(shapes),
                tuple(specs[n] for n in used), context, shared["alpha"], shared["base"],
                shared["eigensolver"], shared["executor"], method, shared["seed"], shared["method_params"])


def slq_threshold() -> int:
    """Largest N that ``method="auto"`` solves exactly (above it: stochastic Lanczos quadrature)."""
    from ._engine.slq import auto_threshold

    return int(auto_threshold)


def check_shared_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Validate the settings shared by every variable; returns them in canonical form."""
    eigensolver = settings.get("eigensolver", "auto")
    if eigensolver not in eigen.SOLVERS:
        raise ValueError(f"eigensolver must be one of {', '.join(map(repr, eigen.SOLVERS))}; "
                         f"got eigensolver={eigensolver!r}.")
    backend = settings.get("backend", "auto")
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(map(repr, BACKENDS))} (the Gram-matrix engine "
                         f"for NumPy input); got backend={backend!r}.")
    executor = settings.get("executor")
    if executor is not None and not isinstance(executor, Executor):
        raise TypeError("executor must be a concurrent.futures.Executor (a ThreadPoolExecutor, a "
                        "ProcessPoolExecutor, or distributed.Client(...).get_executor()); "
                        f"got {type(executor).__name__}.")
    dtype = settings.get("dtype")
    resolve_dtype(np, dtype)  # raises the dtype message
    method = settings.get("method", "auto")
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))} (exact eigenvalues, stochastic "
                         f"Lanczos quadrature, or exact up to a measured N); got method={method!r}.")
    params = settings.get("method_params")
    if params is not None:
        _check_keys(params, SLQ_CONTROLS, "method_params", "a dict of accuracy controls, e.g. {'n_probes': 60}",
                    "the controls of method='slq'")
        for key, value in params.items():
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < (0 if key == "rank"
                                                                                             else 1):
                raise ValueError(f"method_params[{key!r}] must be a positive integer (rank may be 0); "
                                 f"got {value!r}.")
    return {"alpha": check_alpha(settings.get("alpha", 1.01)), "base": check_base(settings.get("base", 2)),
            "dtype": dtype, "backend": backend, "eigensolver": eigensolver, "executor": executor,
            "method": method, "seed": _seed_sequence(settings.get("random_state")),
            "method_params": dict(params or {})}


def _seed_sequence(random_state: Any) -> np.random.SeedSequence:
    """``random_state`` (None, an int, a SeedSequence or a Generator) as a SeedSequence."""
    if isinstance(random_state, np.random.SeedSequence):
        return random_state
    if isinstance(random_state, np.random.Generator):
        return np.random.SeedSequence(int(random_state.integers(2**63)))
    if random_state is None or (isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool)
                                and random_state >= 0):
        return np.random.SeedSequence(None if random_state is None else int(random_state))
    raise ValueError("random_state must be None, a non-negative int, a numpy.random.SeedSequence or a "
                     f"numpy.random.Generator; got random_state={random_state!r}.")


def variable_specs(names: list, settings: Mapping[str, Any], overrides: Any = None,
                   labels: Mapping[Hashable, str] | None = None) -> dict[Hashable, VariableSpec]:
    """One validated :class:`VariableSpec` per name: shared value, per-variable tuple, then overrides."""
    overrides = _check_overrides(overrides, names)
    per_name: dict[Hashable, dict[str, Any]] = {n: {} for n in names}
    for key in VARIABLE_SETTINGS:
        value = settings.get(key, DEFAULTS[key])
        if _is_per_variable(value, key):
            if len(value) != len(names):
                raise ValueError(
                    f"{key} given per variable must have one entry per variable ({len(names)}: "
                    f"{', '.join(map(repr, names))}); got {len(value)}: {value!r}."
                )
            for n, v in zip(names, value):
                per_name[n][key] = v
        else:
            for n in names:
                per_name[n][key] = value
    for n, o in overrides.items():
        per_name[n].update(o)
    labels = labels or {}
    return {n: _check_spec(kw, labels.get(n, str(n))) for n, kw in per_name.items()}


def _is_per_variable(value: Any, key: str) -> bool:
    if key == "standardize" and isinstance(value, (list, tuple)):
        # A list of ints is one group label per feature, not one setting per variable.
        return not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value)
    return isinstance(value, (list, tuple))


def _check_overrides(overrides: Any, names: list) -> dict:
    if overrides is None:
        return {}
    if not isinstance(overrides, Mapping):
        raise TypeError("overrides must be a mapping of variable names to settings, e.g. "
                        f"{{'Z': {{'sigma_scale': 25}}}}; got {type(overrides).__name__}.")
    for name, o in overrides.items():
        if name not in names:
            raise ValueError(f"overrides names unknown variable {name!r}; the variables are "
                             f"{', '.join(map(repr, names))}.")
        check_override_settings(o, name)
    return {n: dict(o) for n, o in overrides.items()}


def check_override_settings(o: Any, name: Hashable) -> None:
    """One variable's overrides: a dict whose keys are :data:`VARIABLE_SETTINGS`."""
    _check_keys(o, VARIABLE_SETTINGS, f"overrides[{name!r}]", "a dict of settings, e.g. {'sigma_scale': 25}",
                "per-variable settings (alpha, base, dtype, backend and eigensolver are shared by all variables)")


def _check_keys(mapping: Any, allowed: tuple[str, ...], name: str, expected: str, what: str) -> None:
    """``mapping`` is a dict whose keys are among ``allowed``; the messages name ``name`` and the valid keys."""
    if not isinstance(mapping, Mapping):
        raise TypeError(f"{name} must be {expected}; got {type(mapping).__name__}.")
    bad = [k for k in mapping if k not in allowed]
    if bad:
        raise ValueError(f"{name} has unknown setting(s) {bad}; {what} are {', '.join(allowed)}.")


def _check_spec(kw: dict[str, Any], label: str) -> VariableSpec:
    kernel, sigma, standardize = kw["kernel"], kw["sigma"], kw["standardize"]
    if not (isinstance(kernel, str) and kernel in KERNEL_NAMES_EXTRA):
        get_kernel(kernel)  # unknown names list the valid ones
    if isinstance(sigma, str):
        get_width_rule(sigma)
    elif not callable(sigma) and not (isinstance(kernel, str) and kernel == "precomputed"):
        sigma = check_positive(sigma, f"sigma for {label}")
    sigma_scale = check_positive(kw["sigma_scale"], "sigma_scale")
    if isinstance(standardize, str) or standardize is None:
        if standardize not in STANDARDIZE_OPTIONS:
            raise ValueError(f"standardize must be one of {STANDARDIZE_OPTIONS} or one integer group label per "
                             f"feature; got standardize={standardize!r} for {label}.")
    width_params = kw["width_params"]
    if width_params is not None and not isinstance(width_params, Mapping):
        raise TypeError(f"width_params for {label} must be a dict of width-rule parameters, e.g. {{'k': 10}}; "
                        f"got {type(width_params).__name__}.")
    return VariableSpec(kernel, sigma, sigma_scale, standardize, dict(width_params or {}))


def _array_context(xp: Any, first: Any, dtype: Any, backend: str) -> ArrayContext:
    library = library_name(first)
    if backend != "auto" and library != "numpy":
        raise ValueError(f"backend={backend!r} needs NumPy arrays; got arrays of {library}. Use backend='auto' "
                         f"(torch and CuPy arrays always use their own library, on their device).")
    device = _device(first) if getattr(first, "ndim", 0) else None
    on_gpu = library == "cupy" or (library == "torch" and getattr(device, "type", "cpu") != "cpu")
    engine = backend if library == "numpy" and backend != "auto" else "numpy" if library == "numpy" else "array-api"
    return ArrayContext(xp, library, device, resolve_dtype(xp, dtype), engine, on_gpu)
