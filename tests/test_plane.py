"""Tests for renyimi.plane: closed-form points, averaging, smoothing, subsampling, persistence and errors."""

import gzip
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import renyimi
from renyimi import theory
from renyimi.plane import InformationPlane, hann_smooth, log_spaced_indices

ALPHA = 1.01


# ----------------------------------------------------------------------------- independent reference
def _renyi_bits(A, alpha=ALPHA):
    lam = np.clip(np.linalg.eigvalsh(A), 0, None)
    lam = lam / lam.sum()
    lam = lam[lam > 0]
    return float(np.log2(np.sum(lam**alpha)) / (1 - alpha))


def _gauss_gram(X, sigma):
    d2 = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    return np.exp(-d2 / (2 * sigma**2)) / len(X)


def _mi(A, B):
    AB = A * B
    return _renyi_bits(A) + _renyi_bits(B) - _renyi_bits(AB / np.trace(AB))


def _orthonormal_rows(d, D, rng):
    q, _ = np.linalg.qr(rng.normal(size=(D, D)))
    return q[:d]  # (d, D), Q Q^T = I_d: x -> x Q preserves every distance


@pytest.fixture
def rng():
    return np.random.default_rng(20200719)


# ----------------------------------------------------------------------------- closed forms
def test_isometry_layer_point_is_computable_from_the_gram_of_x(rng):
    x = rng.normal(size=(40, 3))
    sigma = 1.3
    t = x @ _orthonormal_rows(3, 5, rng)  # a rotation into 5-d: exactly the Gram matrix of X
    A = _gauss_gram(x, sigma)
    M = _mi(A, A)  # I(X;X) = 2 S(A) - S(A o A / tr)
    plane = InformationPlane(sigma=sigma)
    m = plane.measure(x, x, {"T": t})
    assert m["T"] == pytest.approx((M, M), abs=1e-9)
    assert m.input_information == pytest.approx(M, abs=1e-9)
    assert m.input_output_mi == pytest.approx(M, abs=1e-9)
    # A non-isometric layer has a smaller Gram entropy pattern: its point moves.
    m2 = plane.measure(x, x, {"T": 3 * t})
    assert abs(m2.input_mi[0] - M) > 1e-3


def test_isometry_with_the_standardising_rule_up_to_epsilon(rng):
    x = rng.normal(size=(40, 3))
    m = InformationPlane().measure(x, x, {"T": 7.0 * x + 2.0})  # tapia standardises scale and shift away
    assert m["T"] == pytest.approx((m.input_information, m.input_information), abs=1e-6)


def test_labels_use_the_delta_kernel_and_give_the_renyi_entropy_of_the_classes(rng):
    labels = np.repeat([0, 1, 2], [10, 20, 30])
    rng.shuffle(labels)
    p = np.array([10, 20, 30]) / 60
    h = math.log2(np.sum(p**ALPHA)) / (1 - ALPHA)
    t = 4.0 * np.eye(3)[labels]  # a layer that encodes the class exactly (far apart at sigma = 0.2)
    plane = InformationPlane(output="labels", sigma=0.2)
    m = plane.measure(t, labels, {"T": t})
    assert m["T"][1] == pytest.approx(h, abs=1e-9)
    assert m.input_output_mi == pytest.approx(h, abs=1e-9)
    assert m.sigmas["Y"] is None
    # one-hot rows, string labels and torch-free float ids all mean the same classes
    for y in (np.eye(3)[labels], np.array(list("abc"))[labels], labels.astype(float)):
        assert plane.measure(t, y, {"T": t})["T"] == pytest.approx(m["T"], abs=1e-12)


def test_labels_with_a_gaussian_kernel_on_one_hot_rows(rng):
    labels = rng.integers(0, 4, size=50)
    x = rng.normal(size=(50, 3))
    plane = InformationPlane(output="labels", sigma=1.0,
                             overrides={"Y": {"kernel": "gaussian", "sigma": 0.5}})
    m = plane.measure(x, labels, {"T": x[:, :2]})
    ref = renyimi.mutual_information(x[:, :2], np.eye(4)[labels], sigma=(1.0, 0.5))
    assert m.output_mi[0] == pytest.approx(float(ref), abs=1e-10)


def test_non_integer_labels_are_refused(rng):
    with pytest.raises(ValueError, match="class labels"):
        x = np.arange(10.0).reshape(5, 2)
        InformationPlane(output="labels").measure(x, np.linspace(0, 1, 5), {"T": x})


def test_measure_matches_the_functional_api_with_per_layer_overrides(rng):
    """The old rule of Fig. 6 (Yu's width, gamma 5, 25 at the bottleneck) through overrides."""
    x, y = rng.normal(size=(60, 8)), rng.normal(size=(60, 8))
    t1, z = np.tanh(x @ rng.normal(size=(8, 5))), x @ rng.normal(size=(8, 2))
    plane = InformationPlane(sigma="yu", sigma_scale=5, overrides={"Z": {"sigma_scale": 25}})
    m = plane.measure(x, y, {"T1E": t1, "Z": z})
    n = 60
    assert m.sigmas["Z"] == pytest.approx(25 * n ** (-1 / 6))
    assert m.sigmas["T1E"] == pytest.approx(5 * n ** (-1 / 9))
    assert m.sigmas["X"] == pytest.approx(5 * n ** (-1 / 12))

    def ref(a, b, scale):
        value = renyimi.mutual_information(a, b, sigma="yu", sigma_scale=scale)
        return pytest.approx(float(value), abs=1e-10)

    assert m["Z"][0] == ref(x, z, (5, 25))
    assert m["Z"][1] == ref(z, y, (25, 5))
    assert m["T1E"][0] == ref(x, t1, 5)
    assert m.input_output_mi == ref(x, y, 5)
    pairs = [("X", "X"), ("X", "Z"), ("Z", "Y"), ("X", "T1E"), ("T1E", "Y")]
    mi = renyimi.pairwise_mutual_information({"X": x, "Y": y, "T1E": t1, "Z": z}, pairs, sigma="yu",
                                             sigma_scale=5, overrides={"Z": {"sigma_scale": 25}})
    got = [m.input_information, m["Z"][0], m["Z"][1], m["T1E"][0], m["T1E"][1]]
    np.testing.assert_allclose(got, [float(mi[p]) for p in pairs], atol=1e-10)


def test_overrides_for_x_and_y(rng):
    x = rng.integers(0, 255, size=(40, 16)).astype(float)
    plane = InformationPlane(overrides={"X": {"standardize": "pooled"}, "Y": {"sigma_scale": 2.0}})
    m = plane.measure(x, x, {"T": x[:, :4]})
    ref = renyimi.mutual_information(x, x[:, :4], standardize=("pooled", "feature"))
    assert m.input_mi[0] == pytest.approx(float(ref), abs=1e-10)


def test_variance_is_the_mean_per_unit_variance(rng):
    x = rng.normal(size=(30, 4))
    t = rng.normal(size=(30, 2, 3)) * np.array([1.0, 2.0, 3.0])  # images are flattened per sample
    m = InformationPlane().measure(x, x, {"T": t})
    assert m.variance[0] == pytest.approx(np.var(t.reshape(30, -1), axis=0).mean(), rel=1e-12)


# ----------------------------------------------------------------------------- the theory as diagnostics
def _chain(rng, n=48):
    """X -> T1E -> T2E -> Z: every layer drops coordinates of the previous one (information-losing)."""
    x = rng.normal(size=(n, 6))
    layers = {"T1E": x[:, :4], "T2E": x[:, :3], "Z": x[:, :1]}
    y = np.tanh(np.outer(layers["Z"][:, 0], [1.0, -0.5, 2.0]))  # X' = g(Z), a function of every layer
    return x, y, layers


def test_information_losing_chain_respects_the_forward_dpi(rng):
    plane = InformationPlane(sigma=1.0)
    for step in range(4):
        plane.record(step, *_chain(rng))
    report = plane.diagnostics(tol=1e-6)
    assert report.dpi.counts.sum() == 0
    a = plane.to_arrays()
    assert np.all(np.diff(a.input_mi, axis=1) < 0)
    assert np.all(a.input_mi <= a.input_information[:, None] + 1e-9)
    assert report.feasibility is not None and report.M == pytest.approx(plane.M)


def test_lemma1_output_spread_is_measured_not_assumed(rng):
    """Lemma 1 holds for true MI (X' = g(Z) is a function of every layer); the estimator only approximates
    it, so the spread is reported, and must equal the range of the recorded output MIs."""
    plane = InformationPlane(sigma=1.0)
    for step in range(3):
        plane.record(step, *_chain(rng))
    spread = plane.diagnostics().output_spread
    out = plane.to_arrays().output_mi
    np.testing.assert_allclose(spread.range, out.max(axis=1) - out.min(axis=1))
    assert np.all(np.isfinite(spread.range)) and np.all(spread.range >= 0)


def test_n_encoder_defaults_to_the_bottleneck():
    assert InformationPlane(["T1E", "Z", "T1D"]).n_encoder == 2
    assert InformationPlane(["A", "B", "C"]).n_encoder == 3
    assert InformationPlane(["A", "B", "C"], n_encoder=1).n_encoder == 1
    assert InformationPlane().n_encoder is None


# ----------------------------------------------------------------------------- recording
def test_batches_at_one_step_are_averaged_with_count_and_std(rng):
    plane = InformationPlane(sigma=1.0)
    batches = [_chain(rng) for _ in range(3)]
    ms = [plane.record(10, *b) for b in batches]
    a = plane.to_arrays()
    stacked = np.stack([m.input_mi for m in ms])
    np.testing.assert_allclose(a.input_mi[0], stacked.mean(0), rtol=1e-13)
    np.testing.assert_allclose(a.input_mi_std[0], stacked.std(0), rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(a.variance[0], np.mean([m.variance for m in ms], 0), rtol=1e-13)
    assert a.input_information[0] == pytest.approx(np.mean([m.input_information for m in ms]))
    assert list(a.n_batches) == [3] and list(a.steps) == [10]


def test_history_is_sorted_and_tidy(rng):
    plane = InformationPlane(sigma=1.0)
    for step in (20, 0, 10):
        plane.record(step, *_chain(rng))
    assert list(plane.steps) == [0, 10, 20] and len(plane) == 3
    cols = plane.to_dict()
    assert list(cols["step"]) == [0, 0, 0, 10, 10, 10, 20, 20, 20]
    assert list(cols["layer"][:3]) == ["T1E", "T2E", "Z"]
    a = plane.to_arrays()
    np.testing.assert_array_equal(cols["input_mi"], a.input_mi.reshape(-1))
    records = plane.to_records()
    assert records[4]["layer"] == "T2E" and records[4]["step"] == 10
    assert isinstance(records[4]["input_mi"], float)
    df = plane.to_pandas()
    assert list(df.columns) == ["step", "layer", "input_mi", "output_mi", "variance", "n_batches",
                                "input_mi_std", "output_mi_std", "input_information", "input_output_mi"]
    assert len(df) == 9


def test_record_batches_with_forward_and_progress(rng, capsys):
    plane = InformationPlane(sigma=1.0)
    batches = [rng.normal(size=(32, 6)) for _ in range(2)]
    out = plane.record_batches(5, batches, lambda x: (x, np.tanh(x[:, :1]), {"Z": x[:, :2]}), progress=True)
    assert len(out) == 2 and int(plane.to_arrays().n_batches[0]) == 2
    triples = [(x, x, {"Z": x[:, :2]}) for x in batches]
    plane.record_batches(6, iter(triples), total=2)
    assert list(plane.steps) == [5, 6]


def test_torch_tensors_give_the_numpy_values(rng):
    torch = pytest.importorskip("torch")
    x, y, layers = _chain(rng)
    plane = InformationPlane(sigma=1.0)
    ref = plane.measure(x, y, layers)
    tt = {k: torch.from_numpy(v).requires_grad_() for k, v in layers.items()}
    m = plane.measure(torch.from_numpy(x), torch.from_numpy(y), tt)
    np.testing.assert_allclose(m.input_mi, ref.input_mi, atol=1e-9)
    np.testing.assert_allclose(m.output_mi, ref.output_mi, atol=1e-9)
    np.testing.assert_allclose(m.variance, ref.variance, rtol=1e-12)
    assert isinstance(m.input_information, float)
    labels = torch.randint(0, 3, (len(x),))  # labels on any library, layers on torch
    InformationPlane(output="labels").measure(torch.from_numpy(x), labels, tt)


def test_record_model_captures_layers_and_restores_the_mode():
    torch = pytest.importorskip("torch")
    from torch import nn

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 4), nn.Sigmoid(), nn.Linear(4, 2), nn.Linear(2, 4), nn.Sigmoid(),
                          nn.Linear(4, 6))
    model.train()
    loader = [(torch.randn(32, 6), torch.randint(0, 2, (32,))) for _ in range(2)]
    plane = InformationPlane()
    ms = plane.record_model(3, model, loader, {"T1E": "1", "Z": "2", "T1D": "4"}, progress=True)
    assert model.training and len(ms) == 2
    assert plane.layers == ("T1E", "Z", "T1D") and plane.n_encoder == 2
    x = loader[0][0]
    with torch.no_grad():
        ref = InformationPlane().measure(x, model(x), {"T1E": model[:2](x), "Z": model[:3](x),
                                                       "T1D": model[:5](x)})
    np.testing.assert_allclose(ms[0].input_mi, ref.input_mi, atol=1e-9)
    sup = InformationPlane(output="labels")
    sup.record_model(0, model, loader, {"Z": "2"})
    with pytest.raises(ValueError, match="labels"):
        sup.record_model(1, model, [torch.randn(8, 6)], {"Z": "2"})


# ----------------------------------------------------------------------------- smoothing & subsampling
def test_hann_smoothing_equals_a_direct_hanning_convolution(rng):
    v = rng.normal(size=(200, 2))
    W = 20
    h = np.hanning(W + 1)
    out = hann_smooth(np.arange(200), v, W)
    for k in range(2):
        full = np.convolve(v[:, k], h, mode="same") / np.convolve(np.ones(200), h, mode="same")
        np.testing.assert_allclose(out[:, k], full, atol=1e-10)
        np.testing.assert_allclose(out[W // 2:-W // 2, k], np.convolve(v[:, k], h / h.sum(), mode="valid"),
                                   atol=1e-10)
    # the window is in steps: recording every 5 iterations with a 100-iteration window is the same
    np.testing.assert_allclose(hann_smooth(5 * np.arange(200), v, 5 * W), out, atol=1e-10)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0.01, 50), min_size=1, max_size=60), st.floats(0.5, 200), st.integers(0, 2**32 - 1))
def test_hann_smoothing_on_uneven_steps_equals_the_brute_force_weights(gaps, window, seed):
    s = np.cumsum(gaps)
    v = np.random.default_rng(seed).normal(size=s.size)
    d = s[None, :] - s[:, None]
    w = np.where(np.abs(d) < window / 2, np.cos(np.pi * d / window) ** 2, 0.0)
    np.testing.assert_allclose(hann_smooth(s, v, window), w @ v / w.sum(1), atol=1e-9)
    np.testing.assert_allclose(hann_smooth(s, np.full_like(v, 3.5), window), 3.5, rtol=1e-12)


def test_plane_smooth_smooths_every_column_and_keeps_counts(rng):
    plane = InformationPlane(sigma=1.0)
    for step in (0, 3, 4, 10, 30):
        plane.record(step, *_chain(rng, n=24))
    a, s = plane.to_arrays(), plane.smooth(8).to_arrays()
    np.testing.assert_allclose(s.input_mi, hann_smooth(a.steps, a.input_mi, 8))
    np.testing.assert_allclose(s.variance, hann_smooth(a.steps, a.variance, 8))
    np.testing.assert_allclose(s.input_information, hann_smooth(a.steps, a.input_information, 8))
    np.testing.assert_array_equal(s.n_batches, a.n_batches)
    assert np.array_equal(plane.to_arrays().input_mi, a.input_mi)  # the original is untouched
    with pytest.raises(RuntimeError, match="processed copy"):
        plane.smooth(8).record(40, *_chain(rng, n=24))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 1000), min_size=1, max_size=300), st.integers(2, 80), st.integers(-5, 5))
def test_log_spaced_subsampling_is_monotone_with_ends(gaps, n_points, start):
    steps = start + np.concatenate([[0], np.cumsum(gaps)])
    idx = log_spaced_indices(steps, n_points)
    assert idx[0] == 0 and idx[-1] == len(steps) - 1
    assert np.all(np.diff(idx) > 0)
    assert len(idx) >= min(n_points, len(steps))


def test_log_spacing_and_plane_subsample(rng):
    idx = log_spaced_indices(np.arange(10001), 5)  # step 0, then 4 points log-spaced from step 1
    np.testing.assert_array_equal(idx, np.r_[0, np.ceil(np.geomspace(1, 10000, 4) - 1e-9)])
    plane = InformationPlane(sigma=1.0)
    for step in range(0, 60, 3):
        plane.record(step, *_chain(rng, n=16))
    sub = plane.subsample(6)
    assert set(sub.steps) <= set(plane.steps) and sub.steps[0] == 0 and sub.steps[-1] == 57
    lin = plane.subsample(5, log=False)
    np.testing.assert_array_equal(lin.steps, [0, 15, 30, 42, 57])  # rows round(linspace(0, 19, 5))
    assert sub.processing == [{"subsample": {"n_points": 6, "log": True}}]


# ----------------------------------------------------------------------------- persistence
@pytest.mark.parametrize("name", ["plane.json", "plane.json.gz"])
def test_save_load_round_trip_keeps_everything(rng, tmp_path, name):
    plane = InformationPlane(["T1E", "T2E", "Z"], n_encoder=3, sigma="yu", sigma_scale=5,
                             overrides={"Z": {"sigma_scale": 25}}, standardize=None)
    for step in (0, 0, 7, 100):
        plane.record(step, *_chain(rng))
    path = plane.save(tmp_path / name)
    raw = (gzip.open(path, "rt") if name.endswith(".gz") else open(path)).read()
    assert json.loads(raw)["renyimi_version"] == renyimi.__version__
    again = InformationPlane.load(path)
    assert again.settings == plane.settings and again.layers == plane.layers
    assert again.n_encoder == plane.n_encoder and again.output == plane.output
    assert again.saved_version == renyimi.__version__
    for k, v in plane.to_dict().items():
        np.testing.assert_array_equal(again.to_dict()[k], v)
    # the running averages survive: recording on after loading equals recording on the original
    batch = _chain(rng)
    plane.record(100, *batch)
    again.record(100, *batch)
    for k, v in plane.to_dict().items():
        np.testing.assert_array_equal(again.to_dict()[k], v)
    smoothed = InformationPlane.load(plane.smooth(50).save(tmp_path / "s.json"))
    assert smoothed.processing == [{"smooth": {"window": 50.0}}]


def test_unserialisable_settings_warn_on_load_and_can_be_passed_again(rng, tmp_path):
    def width(X):
        return 1.0

    plane = InformationPlane(sigma=width)
    plane.record(0, *_chain(rng, n=16))
    path = plane.save(tmp_path / "p.json")
    with pytest.warns(UserWarning, match="sigma"):
        InformationPlane.load(path)
    again = InformationPlane.load(path, sigma=width)
    again.record(1, *_chain(rng, n=16))


def test_load_refuses_other_files(tmp_path):
    (tmp_path / "x.json").write_text('{"a": 1}')
    with pytest.raises(ValueError, match="not an InformationPlane file"):
        InformationPlane.load(tmp_path / "x.json")


# ----------------------------------------------------------------------------- errors
def test_bad_inputs_raise_clear_errors(rng):
    x, y, layers = _chain(rng)
    plane = InformationPlane(sigma=1.0)
    with pytest.raises(ValueError, match=r"as many samples.*layers\['Z'\].shape=\(47, 1\)"):
        plane.measure(x, y, {**layers, "Z": layers["Z"][:-1]})
    with pytest.raises(ValueError, match=r"y.shape"):
        plane.measure(x, y[:-2], layers)
    with pytest.raises(ValueError, match="empty"):
        plane.measure(x, y, {})
    bad = layers["Z"].copy()
    bad[3, 0] = np.nan
    with pytest.raises(ValueError, match=r"layers\['Z'\] contains 1 NaN.*diverged"):
        plane.record(0, x, y, {**layers, "Z": bad})
    with pytest.raises(ValueError, match="NaN"):
        plane.measure(x, np.full_like(y, np.inf), layers)
    with pytest.raises(TypeError, match="mapping"):
        plane.measure(x, y, [layers["Z"]])
    with pytest.raises(ValueError, match="reserved"):
        plane.measure(x, y, {"X": x})
    assert len(plane) == 0  # nothing recorded by the failed calls


def test_unknown_override_names_are_refused():
    with pytest.raises(ValueError, match=r"unknown variable 'Zz'.*Did you mean 'Z'"):
        InformationPlane(["T1E", "Z"], overrides={"Zz": {"sigma_scale": 2}})
    plane = InformationPlane(overrides={"Q": {"sigma_scale": 2}})  # layers not known yet: checked on use
    x = np.random.default_rng(0).normal(size=(10, 2))
    with pytest.raises(ValueError, match="unknown variable 'Q'"):
        plane.record(0, x, x, {"Z": x})
    # Settings are stored as given and checked when the plane measures (scikit-learn's rule).
    with pytest.raises(ValueError, match="unknown setting"):
        InformationPlane(overrides={"Z": {"gamma": 2}}).record(0, x, x, {"Z": x})
    with pytest.raises(ValueError, match="output must be"):
        InformationPlane(output="logits").record(0, x, x, {"Z": x})
    with pytest.raises(ValueError, match="n_encoder"):
        InformationPlane(["A", "B"], n_encoder=3)
    with pytest.raises(ValueError, match="twice"):
        InformationPlane(["A", "A"])


def test_layers_must_stay_the_same_between_records(rng):
    x, y, layers = _chain(rng)
    plane = InformationPlane(sigma=1.0)
    plane.record(0, x, y, layers)
    with pytest.raises(ValueError, match=r"missing \['T2E'\], unexpected \['T9'\]"):
        plane.record(1, x, y, {"T1E": layers["T1E"], "T9": layers["T2E"], "Z": layers["Z"]})
    reordered = {k: layers[k] for k in ("Z", "T2E", "T1E")}
    plane.record(1, x, y, reordered)  # the network order is kept
    assert plane.layers == ("T1E", "T2E", "Z")
    np.testing.assert_allclose(plane.to_arrays().input_mi[1], plane.to_arrays().input_mi[0], atol=1e-12)
    for bad in (float("nan"), "3", True):
        with pytest.raises(ValueError, match="step"):
            plane.record(bad, x, y, layers)


def test_empty_plane_errors():
    plane = InformationPlane()
    with pytest.raises(ValueError, match="empty"):
        plane.to_arrays()
    with pytest.raises(ValueError, match="empty"):
        plane.smooth()
    assert plane.M is None and "not yet known" in repr(plane)


def test_theory_report_is_the_plain_function_on_the_arrays(rng):
    plane = InformationPlane(sigma=1.0)
    for step in range(3):
        plane.record(step, *_chain(rng))
    a = plane.to_arrays()
    ref = theory.theory_report(a.input_mi, a.output_mi, layers=a.layers, n_encoder=3, M=2.0)
    assert plane.diagnostics(M=2.0).summary() == ref.summary()
