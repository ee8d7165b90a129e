"""Input checks with messages that name the parameter, the rule, the value and the fix."""

from __future__ import annotations

import math
import numbers
from typing import Any

__all__ = [
    "check_alpha",
    "check_base",
    "check_memory",
    "check_positive",
    "check_samples",
    "check_same_n_samples",
]

# Live N x N arrays while one Gram matrix is built and eigensolved: squared distances, kernel,
# normalised copy and the solver's workspace.
_GRAM_COPIES = 4


def check_positive(value: Any, name: str, *, allow_inf: bool = False) -> float:
    """``value`` as a float, or a ValueError if it is not a positive finite real number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a positive real number; got {value!r} ({type(value).__name__}).")
    value = float(value)
    if not (value > 0) or (math.isinf(value) and not allow_inf) or math.isnan(value):
        raise ValueError(f"{name} must be a positive finite number; got {name}={value!r}.")
    return value


def check_alpha(alpha: Any) -> float:
    """Rényi order: any finite α > 0 (α = 1 is the von Neumann limit)."""
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not (float(alpha) > 0) or math.isinf(alpha):
        raise ValueError(
            f"alpha must be a finite number > 0 (the Rényi order; 1.01 approximates Shannon); got alpha={alpha!r}."
        )
    return float(alpha)


def check_base(base: Any) -> float:
    """Logarithm base: 2 for bits, ``math.e`` for nats; any positive number other than 1."""
    base = check_positive(base, "base")
    if base == 1.0:
        raise ValueError("base must be positive and different from 1 (2 gives bits, math.e nats); got base=1.")
    return base


def check_samples(x: Any, name: str, xp: Any) -> Any:
    """Validate an (N, ...) sample array and flatten it to (N, d).

    1-d input is read as N samples of a scalar; more than two dimensions (images, feature maps)
    are flattened per sample.
    """
    shape = tuple(x.shape)
    if len(shape) == 0:
        raise ValueError(
            f"{name} must have at least one dimension (samples first); got a 0-d array. "
            f"Pass an array of shape (n_samples,) or (n_samples, n_features)."
        )
    _check_numeric(x, name, xp)
    if shape[0] < 2:
        raise ValueError(
            f"{name} needs at least 2 samples to estimate an entropy; got {name}.shape={shape}."
        )
    if any(s == 0 for s in shape[1:]):
        raise ValueError(f"{name} has no features; got {name}.shape={shape}.")
    x = xp.reshape(x, (shape[0], -1))
    _check_finite(x, name, xp)
    return x


def check_gram(k: Any, name: str, xp: Any) -> Any:
    """Validate a precomputed Gram matrix: square, finite, symmetric, positive diagonal."""
    shape = tuple(k.shape)
    if len(shape) != 2 or shape[0] != shape[1]:
        raise ValueError(
            f"{name} must be a square (n_samples, n_samples) Gram matrix when kernel='precomputed'; "
            f"got {name}.shape={shape}."
        )
    if shape[0] < 2:
        raise ValueError(f"{name} needs at least 2 samples; got {name}.shape={shape}.")
    _check_numeric(k, name, xp)
    _check_finite(k, name, xp)
    scale = float(xp.max(xp.abs(k)))
    asym = float(xp.max(xp.abs(k - k.T)))
    if asym > 1e-6 * max(scale, 1e-300):
        raise ValueError(
            f"{name} must be symmetric when kernel='precomputed'; max |K - K.T| = {asym:.3g}. "
            f"Symmetrise it with (K + K.T) / 2 if the asymmetry is round-off."
        )
    if not bool(xp.all(xp.linalg.diagonal(k) > 0)):
        raise ValueError(
            f"{name} must have a positive diagonal (K_ii = k(x_i, x_i) > 0) to be normalised (eq. 17)."
        )
    _check_psd(k, name, xp)
    return k


def _check_psd(k: Any, name: str, xp: Any) -> None:
    """Refuse a Gram matrix with a significantly negative eigenvalue (24 Lanczos steps, O(N^2) each).

    The entropy of eq. 18 is defined for PSD matrices only: with negative eigenvalues the exact
    alpha = 2 shortcut and the clipped spectrum of other orders give different numbers.
    """
    from ._engine.spectral import extreme_ritz_values

    lowest, highest = extreme_ritz_values(k, xp)
    eps = 1.2e-7 if k.dtype == xp.float32 else 2.3e-16
    if lowest < -max(1e-6, 10 * eps * math.sqrt(k.shape[0])) * highest:
        raise ValueError(
            f"{name} is not positive semi-definite: it has an eigenvalue <= {lowest:.3g} while the largest is "
            f"about {highest:.3g}. A Gram matrix of a positive-definite kernel has none; check how it was "
            f"computed, or project it onto the PSD cone (clip its negative eigenvalues) before passing it."
        )


def check_same_n_samples(arrays: dict[str, Any]) -> int:
    """The common number of samples, or a ValueError listing every shape."""
    counts = {name: int(a.shape[0]) for name, a in arrays.items()}
    if len(set(counts.values())) > 1:
        shapes = ", ".join(f"{name}.shape={tuple(a.shape)}" for name, a in arrays.items())
        raise ValueError(f"All variables must have the same number of samples (rows); got {shapes}.")
    return next(iter(counts.values()))


def check_memory(n: int, itemsize: int, x: Any, *, copies: int = _GRAM_COPIES) -> None:
    """Refuse to allocate N x N matrices that cannot fit in the memory of ``x``'s device."""
    _refuse_if_too_big(copies * n * n * itemsize, x, f"Estimating with n_samples={n}",
                       f"{copies} matrices of {n}x{n} of {itemsize}-byte floats",
                       "Use method='slq' (matrix-free for Gaussian kernels: no N x N matrix is stored), fewer "
                       "samples (e.g. average over batches of 512-4096), or dtype='float32' to halve it.")


def check_slq_memory(n: int, itemsize: int, x: Any, controls: dict[str, int]) -> None:
    """Refuse a stochastic (SLQ) estimate whose N-long work vectors cannot fit in ``x``'s device memory.

    The probes' block Krylov space keeps ``n_probes * (n_lanczos + 1)`` vectors (with ``block > 0`` the
    separate deflation keeps ``block * (krylov_steps + 1)`` vectors and their products, and the Lanczos
    runs ``n_probes * n_lanczos``), each vector N floats (:func:`renyimi._engine.slq.work_vectors`).
    """
    from ._engine.slq import work_vectors

    vectors = work_vectors(controls)
    _refuse_if_too_big(vectors * n * itemsize, x, f"Estimating with n_samples={n} and method='slq'",
                       f"{vectors} work vectors",
                       "Lower method_params (n_probes, n_lanczos, block, krylov_steps), use dtype='float32', "
                       "or fewer samples.")


def _refuse_if_too_big(needed: int, x: Any, what: str, holding: str, fix: str) -> None:
    from ._engine.operators import available_bytes

    available = available_bytes(x)
    if available is not None and needed > available:
        raise MemoryError(f"{what} needs about {needed / 2**30:.1f} GiB ({holding}) but only "
                          f"{available / 2**30:.1f} GiB is available. {fix}")


def _check_numeric(x: Any, name: str, xp: Any) -> None:
    dtype = x.dtype
    try:
        ok = xp.isdtype(dtype, ("bool", "integral", "real floating"))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise TypeError(
            f"{name} must hold real numbers (bool, integer or float); got dtype {dtype}. "
            f"Convert it, e.g. {name}.astype(float), or encode categories as integers."
        )


def _check_finite(x: Any, name: str, xp: Any) -> None:
    if xp.isdtype(x.dtype, "real floating") and not bool(xp.all(xp.isfinite(x))):
        n_bad = int(xp.sum(xp.astype(~xp.isfinite(x), xp.int64)))
        raise ValueError(
            f"{name} contains {n_bad} NaN or infinite value(s). Remove or impute them; in a training "
            f"loop this usually means the network diverged."
        )
