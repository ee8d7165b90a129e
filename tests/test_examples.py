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
import correlated_gaussians as cg  # noqa: E402
import information_planes as ip  # noqa: E402

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
    feat, pooled = run.planes["paper"].to_arrays(), run.planes["paper_pooled"].to_arrays()
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


# ------------------------------------------------------------------------------- end to end
def test_reproduce_paper_tiny_end_to_end(tmp_path):
    pytest.importorskip("mlxtend")
    import reproduce_paper as rp

    results = rp.main(["--out", str(tmp_path), "--scale", "tiny", "--no-progress", "--dpi", "40"])
    saved = json.loads((tmp_path / "results.json").read_text())
    claims = saved["claims"]
    ids = [c["id"] for c in claims]
    assert len(claims) == len(results["claims"]) >= 10
    for c in claims:
        assert set(c) >= {"claim", "measured", "supported"}
        assert isinstance(c["supported"], bool) and c["measured"]
        for figure in c["figures"]:
            assert (tmp_path / figure).is_file(), figure
    report = (tmp_path / "report.md").read_text()
    assert all(cid in report for cid in ids)
    by_id = {c["id"]: c for c in claims}
    assert by_id["gaussians_saturation"]["supported"]  # holds at any scale: exactly log2 N at d = 1000
    sat = by_id["gaussians_saturation"]["measured"]
    assert sat["curves"]["old_d1000"]["gap_to_log2_N"] < 1e-6
    for key in ("critical_K[paper]", "critical_K[paper_pooled]"):
        assert by_id[key]["measured"]["K"] == [2, 4, 8]
    plane = renyimi.InformationPlane.load(tmp_path / "checkpoints" / "K2_paper.plane.json")
    assert plane.layers == _common.LAYERS and len(plane) >= 2
