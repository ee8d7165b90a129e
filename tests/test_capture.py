"""Tests for renyimi.capture: forward-hook activation capture."""

import gc
import subprocess
import sys
import weakref

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from renyimi.capture import ActivationCapture, capture_activations  # noqa: E402 (after the torch skip)


class TupleOut(nn.Module):
    """Returns (main, aux), like nn.LSTM or nn.MultiheadAttention."""

    def forward(self, x):
        return x * 2.0, x.sum()


class DictOut(nn.Module):
    def forward(self, x):
        return {"y": x}


class Scalar(nn.Module):
    def forward(self, x):
        return x.sum()


class Shared(nn.Module):
    """Applies the same layer twice in one forward pass."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 3)

    def forward(self, x):
        return self.lin(torch.tanh(self.lin(x)))


class WithTuple(nn.Module):
    def __init__(self):
        super().__init__()
        self.pair = TupleOut()
        self.head = nn.Linear(3, 2)

    def forward(self, x):
        y, _ = self.pair(x)
        return self.head(y)


def make_autoencoder():
    torch.manual_seed(0)
    encoder = nn.Sequential(nn.Linear(6, 4), nn.Tanh(), nn.Linear(4, 2), nn.Tanh())
    decoder = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 6))
    return nn.Sequential(encoder, decoder)


def hook_count(model):
    return sum(len(m._forward_hooks) for m in model.modules())


@pytest.fixture
def model():
    return make_autoencoder()


@pytest.fixture
def x():
    return torch.randn(7, 6, generator=torch.Generator().manual_seed(1))


def manual_forward(model, x):
    """Independent computation of every hidden layer, written out by hand."""
    enc, dec = model[0], model[1]
    e0 = x @ enc[0].weight.T + enc[0].bias
    e1 = torch.tanh(e0)
    e2 = e1 @ enc[2].weight.T + enc[2].bias
    z = torch.tanh(e2)
    d0 = z @ dec[0].weight.T + dec[0].bias
    d1 = torch.tanh(d0)
    out = d1 @ dec[2].weight.T + dec[2].bias
    return {
        "0.0": e0,
        "0.1": e1,
        "0.2": e2,
        "0.3": z,
        "1.0": d0,
        "1.1": d1,
        "1.2": out,
        "0": z,
        "": out,
    }


def test_values_and_shapes_match_manual_forward(model, x):
    names = ["0.1", "0.3", "1.1", "1.2", "0", ""]
    with capture_activations(model, names) as acts:
        y = model(x)
    expected = manual_forward(model, x)
    assert list(acts) == names
    for name in names:
        assert acts[name].shape == expected[name].shape
        torch.testing.assert_close(acts[name], expected[name].detach())
    torch.testing.assert_close(acts[""], y.detach())


def test_order_follows_layers_not_network(model, x):
    names = ["1.1", "0.1", "0.3"]
    with capture_activations(model, names) as acts:
        model(x)
    assert list(acts) == names
    assert list(acts.keys()) == names
    assert [k for k, _ in acts.items()] == names
    assert len(acts) == 3


def test_rename_with_dict(model, x):
    layers = {"T1": "0.1", "Z": "0.3", "T3": "1.1"}
    with ActivationCapture(model, layers) as acts:
        model(x)
    expected = manual_forward(model, x)
    assert list(acts) == ["T1", "Z", "T3"]
    assert acts.layers == layers
    torch.testing.assert_close(acts["Z"], expected["0.3"].detach())
    assert "0.3" not in acts
    with pytest.raises(KeyError, match="not a captured label"):
        acts["0.3"]


def test_dict_two_labels_same_module(model, x):
    with capture_activations(model, {"a": "0.3", "b": "0.3"}) as acts:
        model(x)
    assert torch.equal(acts["a"], acts["b"])
    assert hook_count(model) == 0


def test_hooks_removed_after_exit(model, x):
    before = {name: len(m._forward_hooks) for name, m in model.named_modules()}
    assert sum(before.values()) == 0
    cap = capture_activations(model, ["0.0", "0.3", "1.2"])
    with cap:
        assert hook_count(model) == 3
        assert len(model[0][3]._forward_hooks) == 1
        model(x)
    assert hook_count(model) == 0
    # Activations survive the exit; the model no longer feeds the capture.
    z = cap["0.3"]
    model(x + 1.0)
    assert cap["0.3"] is z
    assert z.shape == (7, 2)


def test_hooks_removed_after_exception(model, x):
    class Boom(Exception):
        pass

    with pytest.raises(Boom), capture_activations(model, ["0.1", "1.1"]) as acts:
        model(x)
        raise Boom
    assert hook_count(model) == 0
    assert acts["0.1"].shape == (7, 4)


def test_hooks_removed_when_hook_raises_mid_forward():
    model = nn.Sequential(nn.Linear(3, 3), DictOut(), nn.Identity())
    with (
        pytest.raises(TypeError, match=r"returned a dict"),
        capture_activations(model, ["0", "1"]),
    ):
        model(torch.ones(2, 3))
    assert hook_count(model) == 0


def test_no_graph_kept(model, x):
    x = x.clone().requires_grad_(True)
    with capture_activations(model, ["0.1", "0.3", "1.2"]) as acts:
        y = model(x)
    assert y.requires_grad  # the model's own output is untouched
    for t in acts.values():
        assert t.requires_grad is False
        assert t.grad_fn is None
    # Detaching shares storage, it does not copy.
    assert acts["1.2"].data_ptr() == y.data_ptr()


class _Marker:
    """A weak-referenceable object that only the autograd graph holds."""


class _Tagged(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.marker = _Marker()
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        return grad


class Tag(nn.Module):
    def forward(self, x):
        out = _Tagged.apply(x)
        self.last_marker = weakref.ref(out.grad_fn.marker)
        return out


def graph_alive_after_capture(detach):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 3), Tag(), nn.Tanh(), nn.Linear(3, 1))
    x = torch.randn(4, 3, requires_grad=True)
    with capture_activations(model, ["1", "2"], detach=detach) as acts:
        y = model(x)
    marker = model[1].last_marker
    assert marker() is not None  # the graph of y holds it
    del y
    gc.collect()
    return marker() is not None, acts


def test_graph_is_released():
    alive, acts = graph_alive_after_capture(detach=True)
    assert not alive, "the capture kept the autograd graph alive"
    assert acts["2"].shape == (4, 3)


def test_graph_check_can_fail():
    # The same check detects a capture that holds the graph (detach=False does, by design).
    alive, acts = graph_alive_after_capture(detach=False)
    assert alive
    del acts
    gc.collect()


def test_detach_false_keeps_graph(model, x):
    x = x.clone().requires_grad_(True)
    with capture_activations(model, ["0.3"], detach=False) as acts:
        model(x)
    z = acts["0.3"]
    assert z.requires_grad and z.grad_fn is not None
    z.sum().backward()  # usable in a loss
    assert x.grad is not None and x.grad.shape == x.shape


def test_under_no_grad(model, x):
    with torch.no_grad(), capture_activations(model, ["0.3", "1.2"]) as acts:
        y = model(x)
    expected = manual_forward(model, x)
    torch.testing.assert_close(acts["1.2"], y)
    torch.testing.assert_close(acts["0.3"], expected["0.3"].detach())
    assert acts["0.3"].grad_fn is None
    assert hook_count(model) == 0


def test_flatten():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 5 * 5, 1)
    )
    x = torch.randn(4, 1, 5, 5)
    with capture_activations(model, ["1", "3"], flatten=True) as acts:
        model(x)
    with capture_activations(model, ["1"]) as raw:
        model(x)
    assert raw["1"].shape == (4, 2, 5, 5)
    assert acts["1"].shape == (4, 50)
    torch.testing.assert_close(acts["1"], raw["1"].reshape(4, -1))
    assert acts["3"].shape == (4, 1)


def test_flatten_1d_and_0d():
    model = nn.Sequential(nn.Flatten(0))  # (N, 2) -> (2N,)
    with capture_activations(model, ["0"], flatten=True) as acts:
        model(torch.ones(3, 2))
    assert acts["0"].shape == (6, 1)

    model = nn.Sequential(Scalar())
    with (
        pytest.raises(ValueError, match="0-d tensor"),
        capture_activations(model, ["0"], flatten=True),
    ):
        model(torch.ones(3, 2))
    assert hook_count(model) == 0


def test_tuple_output_takes_first_tensor():
    model = WithTuple()
    x = torch.randn(5, 3)
    with capture_activations(model, ["pair", "head"]) as acts:
        model(x)
    torch.testing.assert_close(acts["pair"], 2.0 * x)
    assert acts["head"].shape == (5, 2)


def test_lstm_output_captured():
    torch.manual_seed(0)
    lstm = nn.LSTM(3, 4, batch_first=True)
    model = nn.Sequential()
    model.add_module("rnn", lstm)
    x = torch.randn(2, 5, 3)
    with capture_activations(model, ["rnn"]) as acts:
        out, _ = lstm(x)
    torch.testing.assert_close(acts["rnn"], out.detach())


def test_non_tensor_output_error():
    model = nn.Sequential(DictOut())
    with (
        pytest.raises(TypeError, match=r"'0'.*returned a dict.*Capture the submodule"),
        capture_activations(model, ["0"]),
    ):
        model(torch.ones(1, 2))


def test_unknown_name_lists_valid_names(model):
    with pytest.raises(KeyError) as info:
        capture_activations(model, ["0.3", "encoder.3"])
    msg = info.value.args[0]
    assert "'encoder.3'" in msg
    for name in ["0", "0.3", "1.2"]:
        assert repr(name) in msg
    assert hook_count(model) == 0


def test_unknown_name_suggests_close_match():
    model = nn.Sequential()
    model.add_module("encoder", nn.Sequential(nn.Linear(2, 2)))
    model.add_module("bottleneck", nn.Linear(2, 1))
    with pytest.raises(KeyError, match=r"Did you mean 'bottleneck'"):
        capture_activations(model, ["botleneck"])
    with pytest.raises(KeyError, match=r"Did you mean 'encoder.0'"):
        ActivationCapture(model, {"T": "encoder.1"})


def test_unknown_name_list_is_truncated():
    model = nn.Sequential(*[nn.Identity() for _ in range(100)])
    with pytest.raises(KeyError, match=r"and \d+ more"):
        capture_activations(model, ["nope"])


def test_module_that_did_not_run():
    model = make_skip_model()
    with capture_activations(model, ["used", "unused"]) as acts:
        model(torch.ones(1, 2))
    assert acts.missing == ["unused"]
    assert list(acts) == ["used"]
    assert "unused" not in acts
    with pytest.raises(KeyError, match="did not run"):
        acts["unused"]


def make_skip_model():
    class Skip(nn.Module):
        def __init__(self):
            super().__init__()
            self.used = nn.Linear(2, 2)
            self.unused = nn.Linear(2, 2)

        def forward(self, x):
            return self.used(x)

    return Skip()


def test_nothing_captured_outside_block(model, x):
    cap = capture_activations(model, ["0.3"])
    model(x)  # before entering: no hooks yet
    assert cap.missing == ["0.3"]
    assert len(cap) == 0


def test_repeat_last_within_one_forward():
    torch.manual_seed(0)
    model = Shared()
    x = torch.randn(4, 3)
    with capture_activations(model, ["lin"]) as acts:
        model(x)
    second = model.lin(torch.tanh(model.lin(x))).detach()
    torch.testing.assert_close(acts["lin"], second)


def test_repeat_concat_across_batches(model, x):
    with torch.no_grad(), capture_activations(model, ["0.3"], repeat="concat") as acts:
        for xb in x.split(3):
            model(xb)
    whole = manual_forward(model, x)["0.3"].detach()
    assert acts["0.3"].shape == (7, 2)
    torch.testing.assert_close(acts["0.3"], whole)
    assert acts["0.3"] is acts["0.3"]  # concatenated once, then cached


def test_repeat_error():
    model = Shared()
    with (
        pytest.raises(RuntimeError, match="more than once"),
        capture_activations(model, ["lin"], repeat="error"),
    ):
        model(torch.ones(1, 3))
    assert hook_count(model) == 0


def test_reentry_clears_and_nested_entry_refused(model, x):
    cap = capture_activations(model, ["0.3"], repeat="concat")
    with cap:
        model(x)
        with pytest.raises(RuntimeError, match="already active"):
            cap.__enter__()
    assert hook_count(model) == 0
    with cap:
        model(x[:2])
    assert cap["0.3"].shape == (2, 2)


def test_clear(model, x):
    with capture_activations(model, ["0.3"]) as acts:
        model(x)
        acts.clear()
        assert acts.missing == ["0.3"]
        model(x[:1])
    assert acts["0.3"].shape == (1, 2)


@pytest.mark.parametrize(
    "layers, exc, pattern",
    [
        ("0", TypeError, "Wrap it in a list"),
        ([], ValueError, "empty"),
        (["0", "0"], ValueError, "twice"),
        ([0], TypeError, "strings"),
        (42, TypeError, "got int"),
    ],
)
def test_bad_layers(model, layers, exc, pattern):
    with pytest.raises(exc, match=pattern):
        capture_activations(model, layers)


def test_bad_model_and_repeat(model):
    with pytest.raises(TypeError, match="torch.nn.Module"):
        capture_activations(object(), ["0"])
    with pytest.raises(ValueError, match="repeat must be one of"):
        capture_activations(model, ["0"], repeat="first")


def test_repr(model):
    cap = capture_activations(model, {"Z": "0.3"})
    assert "inactive" in repr(cap) and "'Z': '0.3'" in repr(cap)


def test_import_renyimi_does_not_import_capture():
    code = (
        "import sys, renyimi\n"
        "assert 'renyimi.capture' not in sys.modules, 'renyimi imported renyimi.capture'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
