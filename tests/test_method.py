"""``method=`` from every entry point: exact, stochastic Lanczos quadrature (SLQ) and the auto switch."""

from __future__ import annotations

import numpy as np
import pytest

import renyimi
from renyimi import _plan

N = 300
#: Small controls keep the suite fast; the error bars stay honest at any setting (what is tested).
FAST = {"rank": 32, "block": 16, "krylov_steps": 3, "n_probes": 16, "n_lanczos": 16}


@pytest.fixture(scope="module")
def xy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, 5))
    return x, x[:, :2] + 0.5 * rng.normal(size=(N, 2))


@pytest.fixture(scope="module")
def exact(xy):
    est = renyimi.MatrixMI(method="exact").fit(*xy)
    return est


def test_slq_agrees_with_exact_within_its_error_bar(xy, exact):
    est = renyimi.MatrixMI(method="slq", method_params=FAST, random_state=0).fit(*xy)
    assert est.method_ == "slq" and exact.method_ == "exact"
    for name in ("mi_", "entropy_x_", "entropy_y_", "joint_entropy_"):
        err = getattr(est, name[:-1] + "_stderr_") if name != "mi_" else est.mi_stderr_
        assert err > 0
        # 5 standard errors (plus round-off): fails if the estimate or its error bar is wrong.
        assert abs(getattr(est, name) - getattr(exact, name)) <= 5 * err + 1e-9, name
    assert exact.mi_stderr_ == 0.0


def test_functional_api_returns_the_standard_error(xy, exact):
    value, err = renyimi.mutual_information(*xy, method="slq", method_params=FAST, random_state=1, return_stderr=True)
    assert isinstance(err, float) and err > 0
    assert abs(float(value) - exact.mi_) <= 5 * err
    value, err = renyimi.mutual_information(*xy, method="exact", return_stderr=True)
    assert err == 0.0 and float(value) == pytest.approx(exact.mi_, abs=1e-12)
    s, e = renyimi.matrix_entropy(xy[0], method="slq", method_params=FAST, random_state=2, return_stderr=True)
    assert abs(float(s) - exact.entropy_x_) <= 5 * e


def test_seeded_results_are_reproducible(xy):
    a = renyimi.matrix_entropy(xy[0], method="slq", method_params=FAST, random_state=7)
    b = renyimi.matrix_entropy(xy[0], method="slq", method_params=FAST, random_state=np.random.SeedSequence(7))
    c = renyimi.matrix_entropy(xy[0], method="slq", method_params=FAST, random_state=8)
    assert float(a) == float(b) != float(c)


def test_auto_is_exact_up_to_the_threshold_and_slq_above(xy, exact, monkeypatch):
    assert renyimi.MatrixMI().fit(*xy).mi_ == exact.mi_  # N = 300 is far below the threshold
    monkeypatch.setattr(_plan, "slq_threshold", lambda: 100)
    est = renyimi.MatrixMI(random_state=0, method_params=FAST).fit(*xy)
    assert est.method_ == "slq" and abs(est.mi_ - exact.mi_) <= 5 * est.mi_stderr_


def test_pairwise_and_plane_carry_the_method(xy, exact):
    x, y = xy
    mi, stderr = renyimi.pairwise_mutual_information(
        {"x": x, "y": y}, method="slq", method_params=FAST, random_state=0, return_stderr=True
    )
    assert abs(float(mi["x", "y"]) - exact.mi_) <= 5 * stderr["x", "y"]
    m = renyimi.InformationPlane(method="slq", method_params=FAST, random_state=0).measure(x, y, {"T": x[:, :3]})
    m_exact = renyimi.InformationPlane().measure(x, y, {"T": x[:, :3]})
    assert m["T"] == pytest.approx(m_exact["T"], abs=0.05)


def test_lockstep_terms_equal_terms_run_one_by_one(xy):
    """An MI's three terms run in lockstep on one matrix-free family; on an executor each term runs alone.
    Every term has its own seed and the same kernel tiles, so both agree to the float32 rounding of the
    products (a tile's GEMM may be split differently between BLAS threads): far below the error bars."""
    from concurrent.futures import Executor, Future

    class Serial(Executor):
        def submit(self, fn, /, *args, **kwargs):
            future = Future()
            future.set_result(fn(*args, **kwargs))
            return future

    x, y = xy
    variables = {"x": x, "y": y, "z": x[:, :1]}
    kw = {"method": "slq", "method_params": FAST, "random_state": 3, "return_stderr": True}
    together = renyimi.pairwise_mutual_information(variables, **kw)
    alone = renyimi.pairwise_mutual_information(variables, executor=Serial(), **kw)
    for pair in (("x", "y"), ("x", "z"), ("y", "z")):
        assert abs(float(together[0][pair]) - float(alone[0][pair])) < 1e-4
        assert together[1][pair] == pytest.approx(alone[1][pair], rel=1e-2)


def test_non_gaussian_kernels_use_dense_operators(xy):
    x, _ = xy
    value, err = renyimi.matrix_entropy(
        x, kernel="laplacian", method="slq", method_params=FAST, random_state=0, return_stderr=True
    )
    assert abs(float(value) - float(renyimi.matrix_entropy(x, kernel="laplacian"))) <= 5 * err + 1e-9


def test_torch_input_through_the_same_code(xy):
    torch = pytest.importorskip("torch")
    x, _ = xy
    value, err = renyimi.matrix_entropy(
        torch.as_tensor(x), method="slq", method_params=FAST, random_state=0, return_stderr=True
    )
    assert isinstance(value, torch.Tensor)
    assert abs(float(value) - float(renyimi.matrix_entropy(x))) <= 5 * err


def test_bad_method_settings_are_refused(xy):
    x, _ = xy
    with pytest.raises(ValueError, match="method must be one of"):
        renyimi.matrix_entropy(x, method="lanczos")
    with pytest.raises(ValueError, match="unknown setting"):
        renyimi.matrix_entropy(x, method="slq", method_params={"probes": 3})
    with pytest.raises(ValueError, match="positive integer"):
        renyimi.matrix_entropy(x, method="slq", method_params={"n_probes": 0})
    with pytest.raises(ValueError, match="random_state must be"):
        renyimi.matrix_entropy(x, method="slq", method_params=FAST, random_state="seed")


def test_documented_auto_threshold_is_the_one_used():
    from renyimi._engine import slq

    assert _plan.slq_threshold() == slq.auto_threshold
    import renyimi._measures as measures

    assert f"to N = {slq.auto_threshold}, SLQ above" in measures.__doc__
