"""pairwise_mutual_information equals mutual_information pair by pair, with shared work and overrides."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import renyimi
from renyimi._engine import eigen as _eigen


def _variables(rng, n=48, dims=(3, 5, 2)):
    x = rng.normal(size=(n, dims[0]))
    out = {"X": x}
    for k, d in enumerate(dims[1:], start=1):
        out[f"T{k}"] = np.tanh(x @ rng.normal(size=(dims[0], d)) + 0.3 * rng.normal(size=(n, d)))
    return out


@settings(max_examples=25, deadline=None)
@given(n=st.integers(4, 40), dims=st.lists(st.integers(1, 6), min_size=2, max_size=4),
       alpha=st.sampled_from([0.5, 1.0, 1.01, 1.7, 2.0, 3.0, 4.0]),
       sigma_scale=st.floats(0.3, 5.0), seed=st.integers(0, 2**16))
def test_equals_mutual_information_pair_by_pair(n, dims, alpha, sigma_scale, seed):
    variables = _variables(np.random.default_rng(seed), n, tuple(dims))
    mi = renyimi.pairwise_mutual_information(variables, alpha=alpha, sigma_scale=sigma_scale)
    assert list(mi) == list(itertools.combinations(variables, 2))
    # Concurrent solves use another LAPACK route than mutual_information: eigenvalues agree to round-off,
    # which orders alpha < 1 amplify (lambda**alpha of a 1e-17 eigenvalue that one route clips to 0).
    tol = 1e-9 if alpha >= 1 else 1e-6
    for (a, b), value in mi.items():
        expected = renyimi.mutual_information(variables[a], variables[b], alpha=alpha, sigma_scale=sigma_scale)
        assert isinstance(value, np.ndarray) and value.ndim == 0
        assert float(value) == pytest.approx(float(expected), abs=tol)


@settings(max_examples=10, deadline=None)
@given(sigma=st.floats(0.2, 10.0), scale=st.floats(0.5, 30.0), seed=st.integers(0, 2**16))
def test_overrides_apply_to_one_variable(sigma, scale, seed):
    variables = _variables(np.random.default_rng(seed))
    overrides = {"T2": {"sigma_scale": scale}, "T1": {"sigma": sigma, "kernel": "laplacian"}}
    mi = renyimi.pairwise_mutual_information(variables, overrides=overrides)
    settings_of = {"X": {}, **overrides}
    for (a, b), value in mi.items():
        sa, sb = settings_of[a], settings_of[b]
        expected = renyimi.mutual_information(
            variables[a], variables[b],
            kernel=(sa.get("kernel", "gaussian"), sb.get("kernel", "gaussian")),
            sigma=(sa.get("sigma", "tapia"), sb.get("sigma", "tapia")),
            sigma_scale=(sa.get("sigma_scale", 1.0), sb.get("sigma_scale", 1.0)),
        )
        assert float(value) == pytest.approx(float(expected), abs=1e-9)


def test_override_changes_only_pairs_with_that_variable(rng):
    variables = _variables(rng)
    plain = renyimi.pairwise_mutual_information(variables)
    changed = renyimi.pairwise_mutual_information(variables, overrides={"T2": {"sigma_scale": 25.0}})
    for pair in plain:
        if "T2" in pair:
            assert abs(float(plain[pair]) - float(changed[pair])) > 1e-3
        else:
            assert float(plain[pair]) == float(changed[pair])


def test_per_variable_tuple_follows_variable_order(rng):
    variables = _variables(rng)
    scales = (1.0, 2.0, 3.0)
    mi = renyimi.pairwise_mutual_information(variables, [("T2", "X")], sigma_scale=scales)
    expected = renyimi.mutual_information(variables["T2"], variables["X"], sigma_scale=(3.0, 1.0))
    assert float(mi["T2", "X"]) == pytest.approx(float(expected), abs=1e-12)
    # an override wins over the tuple entry of its variable
    mi = renyimi.pairwise_mutual_information(variables, [("T2", "X")], sigma_scale=scales,
                                             overrides={"X": {"sigma_scale": 5.0}})
    expected = renyimi.mutual_information(variables["T2"], variables["X"], sigma_scale=(3.0, 5.0))
    assert float(mi["T2", "X"]) == pytest.approx(float(expected), abs=1e-12)


def test_entropies_and_repeated_pairs(rng):
    variables = _variables(rng)
    pairs = [("X", "T1"), ("T1", "X"), ("X", "X"), ("X", "T1")]
    mi, entropies = renyimi.pairwise_mutual_information(variables, pairs, return_entropies=True)
    assert list(mi) == [("X", "T1"), ("T1", "X"), ("X", "X")]
    assert float(mi["X", "T1"]) == float(mi["T1", "X"])
    assert float(mi["X", "X"]) == pytest.approx(float(renyimi.mutual_information(variables["X"], variables["X"])))
    assert list(entropies) == list(variables)  # every variable, used in a pair or not
    for name, value in entropies.items():
        assert float(value) == pytest.approx(float(renyimi.matrix_entropy(variables[name])), abs=1e-12)


def test_only_variables_in_pairs_are_estimated(rng):
    variables = _variables(rng)
    variables["broken"] = np.full((7, 2), np.nan)  # wrong N and NaN: never touched
    mi = renyimi.pairwise_mutual_information(variables, [("X", "T1")])
    assert list(mi) == [("X", "T1")]
    assert renyimi.pairwise_mutual_information(variables, []) == {}


def test_mutual_information_is_bounded_and_symmetric(rng):
    variables = _variables(rng, n=64)
    mi = renyimi.pairwise_mutual_information(variables, [("X", "T1"), ("T1", "X")], base=np.e, alpha=1.0)
    assert float(mi["X", "T1"]) == float(mi["T1", "X"])
    assert -1e-9 <= float(mi["X", "T1"]) <= np.log(64) + 1e-9


def test_concurrent_and_sequential_paths_agree(rng, monkeypatch):
    variables = _variables(rng, n=80, dims=(4, 3, 3, 2))
    monkeypatch.setattr(_eigen, "_CONCURRENT_MAX_N", 0)  # sequential
    sequential = renyimi.pairwise_mutual_information(variables)
    monkeypatch.setattr(_eigen, "_CONCURRENT_MAX_N", 10**6)
    monkeypatch.setattr(_eigen, "_cpu_count", lambda: 3)  # three workers even on a 1-core runner
    calls = []
    original = _eigen.map_concurrent
    monkeypatch.setattr(_eigen, "map_concurrent",
                        lambda fn, items, *, workers: calls.append(workers) or original(fn, items, workers=workers))
    concurrent = renyimi.pairwise_mutual_information(variables)
    assert calls == [3, 3]  # Gram matrices, then entropies
    for pair in sequential:
        assert float(concurrent[pair]) == pytest.approx(float(sequential[pair]), abs=1e-12)


def test_backends_agree(backend, rng):
    variables = _variables(rng, n=40)
    expected = renyimi.pairwise_mutual_information(variables, overrides={"T1": {"sigma_scale": 2.0}})
    result = renyimi.pairwise_mutual_information({k: backend.asarray(v) for k, v in variables.items()},
                                                 overrides={"T1": {"sigma_scale": 2.0}})
    for pair, value in result.items():
        assert backend.is_native(value) and value.ndim == 0
        assert float(backend.to_numpy(value)) == pytest.approx(float(expected[pair]), abs=1e-9)


def test_torch_gradients_flow_to_every_variable(rng):
    torch = pytest.importorskip("torch")
    variables = {k: torch.tensor(v, requires_grad=True) for k, v in _variables(rng, n=24).items()}
    mi = renyimi.pairwise_mutual_information(variables, sigma=1.0)
    sum(mi.values()).backward()
    for value in variables.values():
        assert value.grad is not None and torch.isfinite(value.grad).all()


@pytest.mark.parametrize("alpha", [1.01, 2.0])
def test_numba_backend_and_float32(rng, alpha):
    pytest.importorskip("numba")
    variables = _variables(rng, n=70)
    expected = renyimi.pairwise_mutual_information(variables, alpha=alpha)
    fast = renyimi.pairwise_mutual_information(variables, alpha=alpha, backend="numba")
    single = renyimi.pairwise_mutual_information(variables, alpha=alpha, dtype="float32")
    for pair in expected:
        assert float(fast[pair]) == pytest.approx(float(expected[pair]), abs=1e-9)
        assert single[pair].dtype == np.float32
        assert float(single[pair]) == pytest.approx(float(expected[pair]), abs=1e-3)


@pytest.mark.parametrize("call, error, match", [
    (lambda v: renyimi.pairwise_mutual_information([v["X"], v["T1"]]), TypeError, "mapping of names"),
    (lambda v: renyimi.pairwise_mutual_information(v, [("X", "Z")]), ValueError, "unknown variable 'Z'.*'X', 'T1'"),
    (lambda v: renyimi.pairwise_mutual_information(v, [("X",)]), ValueError, r"\(name, name\) pair"),
    (lambda v: renyimi.pairwise_mutual_information(v, "XT1"), TypeError, "sequence of"),
    (lambda v: renyimi.pairwise_mutual_information(v, overrides={"Z": {}}), ValueError, "overrides names unknown"),
    (lambda v: renyimi.pairwise_mutual_information(v, overrides={"X": {"alpha": 2}}), ValueError,
     "unknown setting.*alpha"),
    (lambda v: renyimi.pairwise_mutual_information(v, overrides={"X": 2.0}), TypeError, "dict of settings"),
    (lambda v: renyimi.pairwise_mutual_information(v, overrides=[("X", {})]), TypeError, "overrides must be"),
    (lambda v: renyimi.pairwise_mutual_information(v, sigma_scale=(1.0, 2.0)), ValueError,
     "one entry per variable"),
    (lambda v: renyimi.pairwise_mutual_information(v, eigensolver="magic"), ValueError, "eigensolver must be"),
    (lambda v: renyimi.pairwise_mutual_information(v, alpha=-1), ValueError, "alpha"),
    (lambda v: renyimi.pairwise_mutual_information({**v, "short": v["X"][:5]}), ValueError, "number of samples"),
])
def test_errors_name_the_problem(rng, call, error, match):
    variables = _variables(rng, dims=(3, 2, 2))
    with pytest.raises(error, match=match):
        call(variables)


@pytest.mark.parametrize("pool", ["thread", "process"])
def test_executor_results_are_identical_to_the_local_ones(pool):
    from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

    rng = np.random.default_rng(11)
    x = rng.normal(size=(120, 4))
    layers = {"X": x, "T1": np.tanh(x @ rng.normal(size=(4, 6))), "T2": x[:, :2] ** 2}
    local = renyimi.pairwise_mutual_information(layers, return_entropies=True, eigensolver="lapack-evd")
    make = ThreadPoolExecutor if pool == "thread" else ProcessPoolExecutor
    with make(max_workers=2) as executor:
        remote = renyimi.pairwise_mutual_information(layers, return_entropies=True, eigensolver="lapack-evd",
                                                     executor=executor)
        plane = renyimi.InformationPlane()
        m = plane.record(0, x, x + 0.1, {"T1": layers["T1"]}, executor=executor)
    for got, want in zip(remote, local):
        assert got.keys() == want.keys()
        assert all(float(got[k]) == float(want[k]) for k in got)  # bit for bit
    assert m["T1"] == pytest.approx(renyimi.InformationPlane().measure(x, x + 0.1, {"T1": layers["T1"]})["T1"],
                                    abs=1e-12)


def test_executor_must_be_an_executor():
    x = np.zeros((5, 2)) + np.arange(5)[:, None]
    with pytest.raises(TypeError, match="executor must be a concurrent.futures.Executor"):
        renyimi.pairwise_mutual_information({"a": x, "b": x}, executor="dask")
