r"""Execute a :class:`~renyimi._plan.Plan`: one Gram matrix per variable, then entropies.

The only module that calls the engine (:mod:`renyimi._engine`) on behalf of the public API. It
reads the array context from the plan and never re-inspects arrays.

An entropy *term* is a tuple of variable indices: ``(i,)`` is :math:`S_\alpha(A_i)` (eq. 18) and
``(i, j, ...)`` the joint entropy of the normalised Hadamard product (eq. 19).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._engine import eigen, gram
from ._engine.arrays import to_python_float
from ._engine.spectral import entropy_from_eigenvalues, renyi_entropy, uses_eigenvalues
from ._plan import Plan
from ._validation import check_memory, check_slq_memory
from .kernels import get_kernel
from .width import get_width_rule

__all__ = ["GramSet", "as_result", "build_grams", "entropies", "term_entropy"]

Term = tuple[int, ...]


@dataclass(frozen=True)
class ScaledSamples:
    """A Gaussian-kernel variable kept as its samples divided by the width (method="slq"): the
    normalised Gram matrix :math:`\\exp(-\\lVert z_i - z_j\rVert^2/2)/N` is applied, never stored."""

    Z: Any


@dataclass(frozen=True)
class GramSet:
    """Normalised Gram matrices of a plan's variables and their resolved widths (None if precomputed)."""

    grams: list
    sigmas: list


def build_grams(plan: Plan) -> GramSet:
    """Every variable's normalised Gram matrix (eq. 17), concurrently where that pays (NumPy engine)."""
    items = list(zip(plan.arrays, plan.sample_shapes, plan.specs, plan.labels))
    build = functools.partial(_variable_gram, plan=plan)
    workers = 1
    if plan.context.gram_engine == "numpy":  # single-threaded outside its GEMM: one variable per core
        workers = eigen.concurrent_workers(plan.n_samples, len(items))
    with eigen.thread_limit():
        built = eigen.map_concurrent(build, items, workers=workers)
    return GramSet([A for A, _ in built], [s for _, s in built])


def _variable_gram(item: tuple, plan: Plan) -> tuple[Any, float | None]:
    """One variable's normalised Gram matrix and its width: the rule, times ``sigma_scale``, then the kernel."""
    X, sample_shape, spec, label = item
    xp, ctx = plan.context.xp, plan.context
    if spec.precomputed:
        return gram.normalize_gram(X, xp), None
    if plan.method == "exact":
        check_memory(X.shape[0], ctx.itemsize, X)
    else:
        from ._engine.slq import default_controls

        check_slq_memory(X.shape[0], ctx.itemsize, X, {**default_controls(X.shape[0], plan.alpha),
                                                        **plan.method_params})
    rule = spec.sigma
    if isinstance(rule, str):
        out = get_width_rule(rule)(X, xp=xp, standardize=spec.standardize, sample_shape=sample_shape,
                                   **spec.width_params)
    else:
        out = rule(X) if callable(rule) else rule
    Z, sigma = out if isinstance(out, tuple) else (X, out)
    sigma = sigma * spec.sigma_scale
    value = to_python_float(sigma)
    if not (value > 0) or math.isinf(value):
        raise ValueError(f"The kernel width for {label} must be positive and finite; the rule {rule!r} with "
                         f"sigma_scale={spec.sigma_scale!r} gave {value!r}. Use a width rule or a width that "
                         f"is a positive finite number.")
    kernel = get_kernel(spec.kernel)
    if plan.method == "slq" and kernel is get_kernel("gaussian"):
        # Matrix-free: the Gram matrix is never formed; its products come from the scaled samples.
        return ScaledSamples(Z / sigma), value
    if ctx.gram_engine == "numba" and kernel is get_kernel("gaussian"):
        from ._engine.numba_kernels import gaussian_gram

        return gaussian_gram(Z, value), value
    with np.errstate(over="ignore"):  # sigma -> 0: d^2 / sigma^2 -> inf is the kernel's limit, not an error
        K = kernel(gram.squared_distances(Z, xp), sigma, xp)
    return gram.normalize_gram(K, xp), value


def entropies(plan: Plan, grams: GramSet, terms: list[Term], *, with_errors: bool = False) -> Any:
    """Entropy of each term under the process-wide thread limit (:func:`renyimi.set_num_threads`).

    With ``with_errors=True`` returns ``(values, stderrs)``: the standard errors of the stochastic
    estimates (Python floats; 0.0 for exact ones).
    """
    with eigen.thread_limit():
        if plan.method == "slq":
            values, errors = _slq_entropies(plan, grams, terms)
        else:
            values, errors = _entropies(plan, grams, terms), [0.0] * len(terms)
    return (values, errors) if with_errors else values


def _slq_entropies(plan: Plan, grams: GramSet, terms: list[Term]) -> tuple[list, list]:
    """Deflated stochastic Lanczos quadrature per term (renyimi._engine.slq), one seed per term.

    Gaussian-kernel variables (samples kept, :class:`ScaledSamples`) form one matrix-free family whose
    terms run in lockstep: each pass over the kernel tiles serves every marginal and joint at once
    (:func:`_slq_family`). Otherwise, or on an executor, each term runs on its own.
    """
    seeds = plan.seed.spawn(len(terms))  # independent of the order or place the terms run in
    xp = plan.context.xp
    if plan.executor is None and all(isinstance(grams.grams[v], ScaledSamples) for t in terms for v in t):
        out = _slq_family(plan, grams, terms, seeds)
    else:
        task = functools.partial(slq_term_entropy, alpha=plan.alpha, base=plan.base, controls=plan.method_params)
        jobs = [[grams.grams[k] for k in t] for t in terms]  # a list: Dask's executor does not map iterators
        out = list(plan.executor.map(task, jobs, seeds) if plan.executor is not None else map(task, jobs, seeds))
    return [xp.asarray(v, dtype=xp.float64) for v, _ in out], [e for _, e in out]


def _slq_family(plan: Plan, grams: GramSet, terms: list[Term], seeds: list) -> list[tuple[float, float]]:
    """All terms on one :class:`~renyimi._engine.operators.GaussianFamily`, in lockstep groups that fit in memory."""
    from ._engine import operators, slq

    used = sorted({v for t in terms for v in t})
    position = {v: i for i, v in enumerate(used)}
    family = operators.GaussianFamily([grams.grams[v].Z for v in used], plan.context.xp)
    controls = {**slq.default_controls(family.n, plan.alpha), **plan.method_params}
    per_term = 8 * family.n * (slq.work_vectors(controls) + family.workers * slq.products_width(controls))
    available = operators.available_bytes(grams.grams[used[0]].Z)
    size = len(terms) if available is None else max(1, int(available // 2 // per_term))
    out: dict[int, tuple[float, float]] = {}
    for start in range(0, len(terms), size):
        group = range(start, min(start + size, len(terms)))
        keys = {i: tuple(position[v] for v in terms[i]) for i in group}
        first: dict = {}  # a term asked twice is estimated once, with the seed of its first occurrence
        for i in group:
            first.setdefault(keys[i], i)
        states = slq.prepare_family(family, list(first), rngs=[np.random.default_rng(seeds[i]) for i in first.values()],
                                    **controls)
        for i in group:
            out[i] = states[keys[i]].entropy(plan.alpha, plan.base)
    return [out[i] for i in range(len(terms))]


def slq_term_entropy(factors: list, seed: np.random.SeedSequence, *, alpha: float, base: float,
                     controls: dict) -> tuple[float, float]:
    """``(S, stderr)`` of one term by SLQ: a matrix-free Gaussian operator when every factor allows it."""
    import array_api_compat

    from ._engine import operators, slq

    if all(isinstance(f, ScaledSamples) for f in factors):
        xp = array_api_compat.array_namespace(*(f.Z for f in factors))
        op = operators.joint_gaussian_operator(*(f.Z for f in factors), xp=xp)
    else:
        dense = [operators.dense_gaussian_operator(f.Z, array_api_compat.array_namespace(f.Z)).A
                 if isinstance(f, ScaledSamples) else f for f in factors]
        xp = array_api_compat.array_namespace(*dense)
        op = operators.DenseOperator(dense[0], xp) if len(dense) == 1 else operators.HadamardOperator(*dense, xp=xp)
    params = {**slq.default_controls(op.n, alpha), **controls}
    return slq.slq_entropy(op, alpha, base=base, rng=np.random.default_rng(seed), **params)


def _entropies(plan: Plan, grams: GramSet, terms: list[Term]) -> list:
    """Entropy of each term, as 0-d arrays of the plan's library.

    Independent eigensolves run on ``plan.executor`` if given, else concurrently on CPU threads where
    measurement showed a win (:func:`renyimi._engine.eigen.concurrent_workers`), or as batched calls
    on a GPU. Orders with exact matrix-product shortcuts (:math:`\alpha \\in \\{2, 3, 4\\}`) need no
    eigenvalues and run in BLAS, already multithreaded.
    """
    ctx, alpha, base = plan.context, plan.alpha, plan.base
    xp, mats = ctx.xp, grams.grams
    if plan.executor is not None:
        solver = plan.eigensolver
        if solver == "auto" and ctx.library == "numpy":
            solver = eigen.auto_solver(plan.n_samples, mats[0].dtype, single_threaded=True)
        task = functools.partial(_remote_term_entropy, alpha=alpha, base=base, solver=solver)
        return list(plan.executor.map(task, [[mats[k] for k in t] for t in terms]))  # Dask maps lists only
    if not uses_eigenvalues(alpha):
        return [term_entropy([mats[k] for k in t], alpha, base, xp=xp) for t in terms]
    if ctx.on_gpu:
        lams = eigen.eigvalsh_batched((_term_matrix([mats[k] for k in t], xp) for t in terms), xp)
        return [entropy_from_eigenvalues(lam, alpha, xp, base) for lam in lams]
    solver, workers = plan.eigensolver, 1
    if ctx.library == "numpy":
        workers = eigen.concurrent_workers(plan.n_samples, len(terms))
        if solver == "auto":
            solver = eigen.auto_solver(plan.n_samples, mats[0].dtype, single_threaded=workers > 1)
    task = functools.partial(term_entropy, alpha=alpha, base=base, solver=solver, xp=xp)
    return eigen.map_concurrent(task, ([mats[k] for k in t] for t in terms), workers=workers)


def term_entropy(factors: list, alpha: float, base: float, solver: str = "auto", *, xp: Any) -> Any:
    """:math:`S_\\alpha` of one normalised Gram matrix or of the normalised Hadamard product of several.

    Module-level (picklable) so that process pools and Dask workers can run it.
    """
    return renyi_entropy(_term_matrix(factors, xp), alpha, xp, base, solver=solver)


def _remote_term_entropy(factors: list, alpha: float, base: float, solver: str) -> Any:
    # Modules do not pickle: a process or Dask worker finds the namespace from the arrays it receives.
    import array_api_compat

    return term_entropy(factors, alpha, base, solver, xp=array_api_compat.array_namespace(*factors))


def _term_matrix(factors: list, xp: Any) -> Any:
    return factors[0] if len(factors) == 1 else gram.hadamard_normalized(factors, xp)


def as_result(value: Any, plan: Plan) -> Any:
    """A 0-d array of the plan's library (NumPy scalars become 0-d arrays; torch keeps its graph)."""
    xp = plan.context.xp
    return value if getattr(value, "ndim", None) == 0 and plan.context.library != "numpy" else xp.asarray(value)
