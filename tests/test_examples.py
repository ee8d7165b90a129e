"""Smoke and unit tests of the paper-reproduction examples (examples/*.py) at a tiny scale.

The examples are scripts, not part of the package; they are imported from the checkout's examples/
folder. Each test checks values that can be wrong (closed forms, exact resumption, bounds of the
estimator), not only that files appear.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("matplotlib")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
sys.path.insert(0, str(EXAMPLES))

import _common  # noqa: E402
import autoencoder as ae  # noqa: E402
import bottleneck_sweep as sweep  # noqa: E402
import claims as cl  # noqa: E402
import correlated_gaussians as cg  # noqa: E402
import information_planes as ip  # noqa: E402
import jobs  # noqa: E402

import renyimi  # noqa: E402
from renyimi.datasets import ImageDataset  # noqa: E402


@pytest.fixture(autouse=True)
def _one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def fake_digits() -> ImageDataset:
    """Random sparse 'images' in [0, 1]: enough to train and measure, no file to parse."""
    rng = np.random.default_rng(0)
    images = (rng.random((360, 784)) < 0.15) * rng.random((360, 784))
    images = images.astype(np.float32)
    labels = rng.integers(0, 10, 360)
    return ImageDataset(images[:300], labels[:300], images[300:], labels[300:], "fake", "test",
                        tuple("0123456789"))


# ------------------------------------------------------------------------------- Gaussians
def test_true_mi_closed_form():
    rho = np.array([-0.9, 0.0, 0.5, 0.9])
    expected = -0.5 * 10 * np.log2(1 - rho**2)
    np.testing.assert_allclose(cg.true_mi(10, rho), expected, rtol=1e-12)
    assert cg.true_mi(1, 0.0) == 0.0


def test_correlated_gaussians_have_the_requested_correlation():
    x, y = cg.correlated_gaussians(np.random.default_rng(1), 20000, 3, 0.6)
    corr = np.corrcoef(x.T, y.T)[:3, 3:]
    np.testing.assert_allclose(np.diag(corr), 0.6, atol=0.02)
    assert np.abs(corr - np.diag(np.diag(corr))).max() < 0.03


def test_old_rule_saturates_at_log2_n_and_paper_rule_does_not():
    config = cg.GaussianConfig(dims=(10, 1000), n_samples=32, rhos=(0.0, 0.9), runs=2, sample_sizes=(32, 64),
                               sample_size_dim=100)
    results = cg.run(config, show_progress=False)
    old, new = results["fig3"]["old"][1000], results["fig3"]["paper"][1000]
    np.testing.assert_allclose(old, math.log2(32), atol=1e-6)  # Gram -> identity: exactly log2 N
    assert new.max() < math.log2(32) - 1.0
    assert np.all(new[:, 1] > new[:, 0])  # still orders rho = 0.9 above rho = 0
    summary = cg.summarize(results, config)
    assert summary["curves"]["old_d1000"]["gap_to_log2_N"] < 1e-6
    assert set(summary["fig4"]) == {"N32", "N64"}


# ------------------------------------------------------------------------------- autoencoder
def test_autoencoder_architecture_and_layer_names():
    torch.manual_seed(0)
    model = ae.Autoencoder(3, (12, 8, 5))
    assert tuple(model.layer_modules) == _common.LAYERS
    assert model.n_encoder == 4
    x = torch.rand(7, 784)
    capture = renyimi.capture.capture_activations(model, model.layer_modules, flatten=True)
    with torch.no_grad(), capture as acts:
        out = model(x)
    shapes = {name: tuple(t.shape) for name, t in acts.items()}
    assert shapes == {"T1E": (7, 12), "T2E": (7, 8), "T3E": (7, 5), "Z": (7, 3), "T1D": (7, 5), "T2D": (7, 8),
                      "T3D": (7, 12)}
    for name, t in acts.items():
        if name != "Z":  # sigmoid layers (float32 rounds a saturated unit to exactly 0 or 1)
            assert float(t.min()) >= 0 and float(t.max()) <= 1
    assert isinstance(model.encoder[-1], torch.nn.Linear)  # linear bottleneck
    assert float(out.min()) >= 0 and float(out.max()) <= 1


def test_loss_reductions_differ_by_the_number_of_pixels():
    x, y = torch.rand(5, 784), torch.rand(5, 784)
    total = ae.reconstruction_loss(x, y, "sum")
    assert torch.allclose(total, 784 * ae.reconstruction_loss(x, y, "mean"))
    with pytest.raises(ValueError, match="reduction"):
        ae.reconstruction_loss(x, y, "max")


def test_log_spaced_steps():
    steps = ae.log_spaced_steps(4000, 30)
    assert steps[0] == 0 and steps[-1] == 4000
    assert steps == sorted(set(steps)) and len(steps) <= 31
    assert ae.log_spaced_steps(1, 5) == [0, 1]


def test_training_resumes_exactly(fake_digits):
    """Six iterations in one go equal three, a checkpoint, and three more."""
    images = fake_digits.train_images[:250]  # 3 batches per epoch: the resume crosses an epoch boundary
    torch.manual_seed(0)
    a = ae.Autoencoder(2, (10, 6, 4))
    b = ae.Autoencoder(2, (10, 6, 4))
    b.load_state_dict(a.state_dict())
    ae.train(a, images, 6, seed=3, show_progress=False)
    opt = ae.make_optimiser(b)
    ae.train(b, images, 4, optimiser=opt, seed=3, show_progress=False)
    c = ae.Autoencoder(2, (10, 6, 4))
    c.load_state_dict(b.state_dict())
    opt_c = ae.make_optimiser(c)
    opt_c.load_state_dict(opt.state_dict())
    ae.train(c, images, 6, optimiser=opt_c, seed=3, start_step=4, show_progress=False)
    for pa, pc in zip(a.parameters(), c.parameters(), strict=True):
        assert torch.equal(pa, pc)


# ------------------------------------------------------------------------- information planes
def test_planes_are_checkpointed_bounded_and_resumable(tmp_path, fake_digits):
    config = ip.PlaneConfig(Ks=(2,), hidden=(16, 8, 4), epochs=2, n_points=3, eval_batches=2, eval_size=32)
    run = ip.train_and_record(2, fake_digits, config, tmp_path, show_progress=False)
    assert run.iterations == 6
    steps = ae.log_spaced_steps(6, 3)
    assert [s for s, _ in run.test_loss] == steps
    for name in config.settings:
        path = tmp_path / "checkpoints" / f"K2_{name}.plane.json"
        saved = renyimi.InformationPlane.load(path)
        a, b = saved.to_arrays(), run.planes[name].to_arrays()
        np.testing.assert_array_equal(a.input_mi, b.input_mi)
        assert list(a.steps) == steps and list(a.layers) == list(_common.LAYERS)
        assert np.all(a.n_batches == 2)
        # The estimator is bounded by log2 N (N = 32 samples per batch); variances are non-negative.
        assert np.all(a.input_mi <= math.log2(32) + 1e-9) and np.all(a.output_mi <= math.log2(32) + 1e-9)
        assert np.all(a.input_mi > -1e-9) and np.all(a.variance >= 0)
    # Per-pixel and pooled standardisation differ only in X and X': the layers' own Gram matrices agree,
    # so I(X;X) differs while the variance (no estimator involved) is identical.
    feat, pooled = run.planes["per_pixel"].to_arrays(), run.planes["paper"].to_arrays()
    np.testing.assert_array_equal(feat.variance, pooled.variance)
    assert not np.allclose(feat.input_information, pooled.input_information)
    again = ip.train_and_record(2, fake_digits, config, tmp_path, resume=True, show_progress=False)
    for name in config.settings:  # nothing re-measured: same values, still two batches per step
        resumed = again.planes[name].to_arrays()
        np.testing.assert_array_equal(resumed.input_mi, run.planes[name].to_arrays().input_mi)
        assert np.all(resumed.n_batches == 2)


def test_evaluation_batches_disjoint_when_possible():
    images = np.arange(100 * 784, dtype=np.float32).reshape(100, 784)
    batches = ip.evaluation_batches(images, 3, 30, seed=0)
    firsts = np.concatenate([b[:, 0].numpy() for b in batches])
    assert len(set(firsts.tolist())) == 90  # disjoint
    overlapping = ip.evaluation_batches(images, 5, 30, seed=0)  # 150 > 100: drawn independently
    assert all(len(set(b[:, 0].tolist())) == 30 for b in overlapping)


# ------------------------------------------------------------------------------- sweep
def test_critical_k_is_interpolated_in_log_k():
    ks, c = [2, 4, 8, 16], [1.0, 0.5, 0.05, 0.0]
    t = (0.5 - 0.1) / (0.5 - 0.05)
    assert sweep.critical_k(ks, c, 0.1) == pytest.approx(4 * 2**t)
    assert sweep.critical_k(ks, [1.0, 0.9, 0.8, 0.7], 0.1) is None


# ---------------------------------------------------------------------- claims machinery
def test_condition_verdicts_use_the_whole_interval():
    assert cl.condition_verdict(0.01, 0.05, "<=", 0.1) == cl.SUPPORTED
    assert cl.condition_verdict(0.12, 0.3, "<=", 0.1) == cl.NOT_SUPPORTED
    assert cl.condition_verdict(0.05, 0.15, "<=", 0.1) == cl.INCONCLUSIVE
    assert cl.condition_verdict(0.2, 0.3, ">=", 0.1) == cl.SUPPORTED
    assert cl.condition_verdict(0.0, 0.05, ">=", 0.1) == cl.NOT_SUPPORTED
    assert cl.condition_verdict(math.nan, 1.0, ">=", 0.1) == cl.INCONCLUSIVE
    assert cl.combine([cl.SUPPORTED, cl.INCONCLUSIVE]) == cl.INCONCLUSIVE
    assert cl.combine([cl.SUPPORTED, cl.NOT_SUPPORTED, cl.INCONCLUSIVE]) == cl.NOT_SUPPORTED
    assert cl.combine([cl.SUPPORTED, cl.SUPPORTED]) == cl.SUPPORTED


def test_compression_needs_a_fitting_phase_first():
    falls_from_init = np.array([4.4, 4.0, 3.5, 3.0, 2.9])
    assert cl.compression_after_fitting(falls_from_init, 0.2) == (0.0, None)
    fit_then_compress = np.array([4.4, 3.0, 3.6, 3.9, 3.4, 3.1])  # dips, rises by 0.9, falls by 0.8
    value, peak = cl.compression_after_fitting(fit_then_compress, 0.2)
    assert value == pytest.approx(0.8) and peak == 3
    assert cl.compression_after_fitting(np.array([1.0, 2.0, 3.0]), 0.2) == (0.0, 2)  # fits, never falls
    assert cl.compression_after_fitting(fit_then_compress, 1.0) == (0.0, None)  # rise below the mark


def test_dpi_violation_and_critical_k_closed_forms():
    input_mi = np.array([[3.0, 2.0, 2.5, 1.0], [3.0, 2.0, 1.0, 0.5]])  # step 0: T3 exceeds T2 by 0.5
    np.testing.assert_allclose(cl.largest_dpi_violation(input_mi), [0.5, 0.0])
    t = (0.5 - 0.1) / (0.5 - 0.05)
    assert cl.critical_k([2, 4, 8, 16], [1.0, 0.5, 0.05, 0.0], 0.1) == pytest.approx(4 * 2**t)
    assert cl.critical_k([2, 4], [1.0, 0.9], 0.1) == math.inf


def _synthetic(theory: bool, noise: float = 0.002, S: int = 3, B: int = 2):
    """Planes that follow Theorem 1 exactly (theory=True) or break it, with small noise."""
    rng = np.random.default_rng(1)
    layers, k, T, M = _common.LAYERS, 4, 12, 4.0
    steps = list(range(T))
    ramp = np.linspace(0.3, 1.0, T)[:, None]
    ev, meta = {}, {"plane_Ks": [2, 32], "layers": list(layers), "n_encoder": k, "steps": steps,
                    "sweep_Ks": [2, 4, 8, 16, 32]}
    for s in ("paper", "per_pixel", "old"):
        for K, final in ((2, np.array([3.8, 3.2, 2.6, 2.0, 2.0, 2.0, 2.0])), (32, np.full(7, M))):
            if not theory:
                final = final + np.array([0, 0.4, -0.5, 0.9, -0.5, 0.3, 0.7])
            inp = ramp * final
            out = ramp * (final[k - 1] if theory else final[::-1])
            shape = (S, B, T, len(layers))
            ev[f"plane/{s}/K{K}/in"] = inp + noise * rng.standard_normal(shape)
            ev[f"plane/{s}/K{K}/out"] = np.broadcast_to(out, (T, len(layers))) + noise * rng.standard_normal(shape)
            ev[f"plane/{s}/K{K}/var"] = 0.1 + ramp * np.ones(shape)
            ev[f"plane/{s}/K{K}/M"] = np.full((S, B, T), M)
    return ev, meta


@pytest.mark.parametrize("claim_id", ["lemma1_equal_output_mi", "large_K_together_on_bisector",
                                      "small_K_decoder_keeps_lambda", "small_K_encoder_sequence",
                                      "large_K_no_compression", "feasible_region"])
def test_claims_pass_on_theory_and_fail_off_it(claim_id):
    claim = cl.BY_ID[claim_id]
    good, meta = _synthetic(theory=True)
    bad, _ = _synthetic(theory=False)
    assert cl.evaluate(claim, good, meta, n_boot=200)["verdict"] == cl.SUPPORTED
    if claim_id != "large_K_no_compression":  # the broken planes still only rise: no compression either
        assert cl.evaluate(claim, bad, meta, n_boot=200)["verdict"] == cl.NOT_SUPPORTED


def test_noise_straddling_a_threshold_is_inconclusive_and_sensitivity_moves_with_it():
    ev, meta = _synthetic(theory=True, noise=0.0)
    M = 4.0
    rng = np.random.default_rng(0)
    for K in (2, 32):  # output MIs of the last step spread by ~0.1 M on average, varying a lot by seed
        spread = (0.1 * M + 0.3 * M * rng.standard_normal((3, 2, 1))) * np.linspace(0, 1, 7)
        ev[f"plane/paper/K{K}/out"] = ev[f"plane/paper/K{K}/out"].copy()
        ev[f"plane/paper/K{K}/out"][:, :, -1, :] += spread
    result = cl.evaluate(cl.BY_ID["lemma1_equal_output_mi"], ev, meta, n_boot=300)
    lo, hi = result["estimate"]["ci"]
    assert lo < 0.1 < hi and result["verdict"] == cl.INCONCLUSIVE
    row = result["sensitivity"]["final_output_spread"]["verdicts"]
    assert row["0.1"] == cl.INCONCLUSIVE
    assert row[f"{max(cl.TAU_RANGE):g}"] in (cl.SUPPORTED, cl.INCONCLUSIVE)


def test_bootstrap_is_paired_and_hierarchical():
    a = np.arange(12.0).reshape(3, 2, 2)
    draws = list(cl.resampled_means({"a": a, "b": a + 1}, 50, seed=0))
    assert all(np.allclose(d["b"], d["a"] + 1) for d in draws)  # same draw for every array
    means = np.array([d["a"] for d in draws])
    assert means.min() >= a.min() and means.max() <= a.max()
    with pytest.raises(ValueError, match="share"):
        next(cl.resampled_means({"a": a, "c": np.zeros((2, 2))}, 1))


def test_every_claim_cites_the_paper_and_fixes_its_thresholds():
    ids = [c.id for c in cl.CLAIMS]
    assert len(ids) == len(set(ids)) and "lemma1_equal_output_mi" in ids
    for c in cl.CLAIMS:
        assert c.source and ("Sec." in c.source or "Fig." in c.source)
        assert c.rationale and c.quantity and c.conditions
        for cond in c.conditions:
            assert cond.sensitivity and cond.threshold in (*cond.sensitivity, cond.threshold)
        assert "smooth" not in c.criterion.lower()


# ------------------------------------------------------------------------------- jobs
def test_job_results_are_written_atomically_and_resumed(tmp_path):
    spec = {"kind": "gauss", "dims": [10], "n": 16, "runs": 2, "rhos": [0.0, 0.9], "sizes": [16, 32],
            "seed": 0, "threads": 1}
    calls = []
    done = jobs.run_all([spec], tmp_path, jobs.SerialExecutor(), log=calls.append)
    path = jobs.result_path(tmp_path, spec)
    assert path.is_file() and not list(path.parent.glob("*.tmp"))
    values = np.asarray(done["gaussians"]["fig3"]["old"]["10"])
    assert values.shape == (2, 2)
    mtime = path.stat().st_mtime_ns
    again = jobs.run_all([spec], tmp_path, jobs.SerialExecutor(), log=calls.append)
    assert path.stat().st_mtime_ns == mtime and "already done" in calls[-1]
    np.testing.assert_array_equal(np.asarray(again["gaussians"]["fig3"]["old"]["10"]), values)
    assert jobs.load_result(path, {**spec, "runs": 3}) is None  # another spec is not a match


def test_evaluation_indices_never_overlap():
    batches = jobs.evaluation_indices(1024, 10, 512)
    assert len(batches) == 2 and not set(batches[0]) & set(batches[1])
    with pytest.raises(ValueError, match="eval_size"):
        jobs.evaluation_indices(100, 2, 512)


def test_dask_executor_runs_example_functions():
    pytest.importorskip("distributed")
    with jobs.executor("local", workers=1) as pool:
        assert pool.submit(jobs.job_name, {"kind": "plane", "K": 3, "seed": 1}).result() == "plane_K3_seed1"


# ------------------------------------------------------------------------------- end to end
def test_reproduce_paper_tiny_end_to_end(tmp_path):
    pytest.importorskip("mlxtend")
    import reproduce_paper as rp

    args = ["--out", str(tmp_path), "--scale", "tiny", "--no-progress", "--dpi", "30", "--scheduler", "serial"]
    result = rp.main(args)
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["seeds"] == [0, 1] and all(isinstance(s, int) for s in saved["seeds"])
    assert saved["data"]["name"] == "mnist" and "5 120" in saved["data"]["split"]
    ids = [c["id"] for c in saved["claims"]]
    assert ids == [c.id for c in cl.CLAIMS]
    for c in saved["claims"]:
        assert c["verdict"] in cl.VERDICTS
        assert c["source"] and c["criterion"]
        lo, hi = c["estimate"]["ci"]
        assert lo <= c["estimate"]["value"] + 1e-9 or c["estimate"]["value"] >= 1e300
        assert lo <= hi
        assert c["sensitivity"] and all(set(s["verdicts"].values()) <= set(cl.VERDICTS)
                                        for s in c["sensitivity"].values())
        for figure in c["figures"]:
            assert (tmp_path / figure).is_file(), figure
    by_id = {c["id"]: c for c in saved["claims"]}
    # Exactly log2 N at d = 1000 with the previous rule, at any scale.
    assert by_id["saturation_previous_rule"]["verdict"] == cl.SUPPORTED
    assert "per_pixel" in by_id["lemma1_equal_output_mi"]["variants"]
    report = (tmp_path / "report.md").read_text()
    assert all(cid in report for cid in ids) and "Sensitivity" in report
    # Resumed: every job file is reused and the verdicts are the same.
    again = rp.main([*args, "--no-figures"])
    assert [c["verdict"] for c in again["claims"]] == [c["verdict"] for c in result["claims"]]
    job = json.loads((tmp_path / "jobs" / "plane_K2_seed0.json").read_text())
    assert np.asarray(job["planes"]["paper"]["in"]).shape == (len(job["steps"]), 2, 7)
