"""Tests for renyimi.plotting: the figures render under Agg and draw exactly the recorded data."""

import io
import subprocess
import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402
from matplotlib.patches import Polygon  # noqa: E402

from renyimi import theory  # noqa: E402
from renyimi.plane import InformationPlane  # noqa: E402
from renyimi.plane.history import RunningStats  # noqa: E402
from renyimi.plotting import (  # noqa: E402
    layer_styles,
    plot_information_plane,
    plot_mi_vs_bottleneck,
    plot_theoretical_plane,
    plot_variance,
)

LAYERS = ("T1E", "T2E", "Z", "T1D", "T2D")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _synthetic(steps=(0, 10, 100, 1000, 5000), layers=LAYERS, output="reconstruction", seed=0, scale=1.0):
    """A plane filled with known values (no estimation), so the drawn data can be checked exactly."""
    rng = np.random.default_rng(seed)
    plane = InformationPlane(layers, output=output)
    L = len(layers)
    for s in steps:
        v = np.concatenate([scale * rng.uniform(1, 3, 3 * L), [4.0, 1.5]])
        plane._cells[s] = RunningStats(1, v, np.zeros_like(v))
    return plane


def _scatters(ax):
    return [c for c in ax.collections if isinstance(c, PathCollection)]


def _render(fig):
    fig.savefig(io.BytesIO(), format="png")


# ----------------------------------------------------------------------------- information plane
def test_information_plane_panels_artists_and_data():
    plane = _synthetic()
    fig = plot_information_plane(plane)
    _render(fig)
    enc, dec, cbar = fig.axes
    assert (enc.get_title(), dec.get_title()) == ("Encoder", "Decoder")
    for ax in (enc, dec):
        assert "I(X;T)" in ax.get_xlabel() and "(bits)" in ax.get_xlabel()
        assert "I(T;X')" in ax.get_ylabel() and "(bits)" in ax.get_ylabel()
    a = plane.to_arrays()
    # one marker set per layer; Z opens both panels
    for ax, names in ((enc, ["T1E", "T2E", "Z"]), (dec, ["Z", "T1D", "T2D"])):
        scatters = _scatters(ax)
        assert len(scatters) == len(names)
        markers = {tuple(map(tuple, s.get_paths()[0].vertices.round(6))) for s in scatters}
        assert len(markers) == len(names)
        for s, name in zip(scatters, names, strict=True):
            i = a.layers.index(name)
            expected = np.column_stack([a.input_mi[:, i], a.output_mi[:, i]])
            np.testing.assert_allclose(s.get_offsets(), expected)
        triangle = [p for p in ax.patches if isinstance(p, Polygon)]
        assert len(triangle) == 1
        np.testing.assert_allclose(triangle[0].get_xy()[:3], theory.feasible_region(plane.M))
    assert cbar.get_ylabel() == "Iteration"
    norm = _scatters(enc)[0].norm
    assert isinstance(norm, LogNorm) and (norm.vmin, norm.vmax) == (10, 5000)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels[:5] == list(LAYERS)
    assert any("feasible" in t for t in labels) and any("bisector" in t for t in labels)


def test_information_plane_legend_does_not_cover_the_panels():
    fig = plot_information_plane(_synthetic())
    fig.canvas.draw()
    legend = fig.legends[0].get_window_extent()
    for ax in fig.axes[:2]:
        assert not legend.overlaps(ax.get_window_extent())


def test_information_plane_smoothing_subsampling_and_options():
    plane = _synthetic(steps=tuple(range(0, 3000, 10)))
    fig = plot_information_plane(plane, smooth=200, n_points=20, split=False, feasible=False, M=9.0,
                                 limits="full", title="K = 2")
    ax = fig.axes[0]
    expected = plane.smooth(200).subsample(20).to_arrays()
    assert len(_scatters(ax)) == len(LAYERS)
    np.testing.assert_allclose(_scatters(ax)[2].get_offsets()[:, 0], expected.input_mi[:, 2])
    assert not [p for p in ax.patches if isinstance(p, Polygon)]
    assert ax.get_xlim()[0] == 0 and ax.get_xlim()[1] >= 9.0
    assert fig._suptitle.get_text() == "K = 2"


def test_information_plane_for_labels_has_one_panel_and_labels_y():
    plane = _synthetic(layers=("L1", "L2", "L3"), output="labels")
    fig = plot_information_plane(plane)
    assert len(fig.axes) == 2  # the panel and its colour bar
    assert "I(T;Y)" in fig.axes[0].get_ylabel()


def test_information_plane_into_given_axes_and_errors():
    fig, axs = plt.subplots(2, 2, layout="constrained")
    out = plot_information_plane(_synthetic(), axes=axs[0])
    assert out is fig and len(_scatters(axs[0, 0])) == 3 and not _scatters(axs[1, 0])
    assert not fig.legends  # rows drawn into one figure share one legend, asked for once
    plot_information_plane(_synthetic(seed=1), axes=axs[1], legend=True)
    assert len(fig.legends) == 1
    _render(fig)
    fig2, axs2 = plt.subplots(1, 2)  # no constrained layout: the legend hangs below the figure
    plot_variance(_synthetic(), axes=axs2, legend=True)
    assert fig2.legends[0].get_bbox_to_anchor() is not None
    with pytest.raises(ValueError, match="axes must hold 2"):
        plot_information_plane(_synthetic(), axes=[axs[1, 0]])
    with pytest.raises(ValueError, match="empty"):
        plot_information_plane(InformationPlane())
    with pytest.raises(TypeError, match="InformationPlane"):
        plot_information_plane({"input_mi": 1})
    with pytest.raises(ValueError, match="limits"):
        plot_information_plane(_synthetic(), limits="tight")


def test_a_single_step_plane_still_renders():
    _render(plot_information_plane(_synthetic(steps=(0,))))


# ----------------------------------------------------------------------------- variance (Fig. 8)
def test_variance_one_line_per_layer_with_the_recorded_values():
    plane = _synthetic()
    fig = plot_variance(plane, exclude=["Z"])
    _render(fig)
    enc, dec = fig.axes
    a = plane.to_arrays()
    assert [ln.get_label() for ln in enc.get_lines()] == ["T1E", "T2E"]
    assert [ln.get_label() for ln in dec.get_lines()] == ["T1D", "T2D"]
    line = dec.get_lines()[1]
    np.testing.assert_allclose(line.get_xdata(), a.steps[1:])  # step 0 is off a log axis
    np.testing.assert_allclose(line.get_ydata(), a.variance[1:, 4])
    assert enc.get_xscale() == "log" and enc.get_ylabel() == "Mean activation variance"
    assert len({ln.get_marker() for ln in [*enc.get_lines(), *dec.get_lines()]}) == 4
    with pytest.raises(ValueError, match="unknown layer"):
        plot_variance(plane, exclude=["Q"])


# ----------------------------------------------------------------------------- MI vs K (Fig. 9)
def test_mi_vs_bottleneck_grid_and_final_values():
    planes = {K: _synthetic(seed=K) for K in (2, 8, 32)}
    fig = plot_mi_vs_bottleneck(planes)
    _render(fig)
    axs = np.array(fig.axes).reshape(2, 2)
    assert "Input MI" in axs[0, 0].get_ylabel() and "Output MI" in axs[1, 0].get_ylabel()
    assert axs[1, 1].get_xlabel() == "Bottleneck size K"
    assert [ln.get_label() for ln in axs[0, 1].get_lines() if not ln.get_label().startswith("_")] == \
        ["Z", "T1D", "T2D"]
    reference = axs[0, 1].get_lines()[-1]  # the dashed M line, at the planes' mean I(X;X)
    np.testing.assert_allclose(reference.get_ydata(), 4.0)
    z_output = axs[1, 0].get_lines()[2]
    np.testing.assert_array_equal(z_output.get_xdata(), [2, 8, 32])
    expected = [planes[K].to_arrays().output_mi[-1, 2] for K in (2, 8, 32)]
    np.testing.assert_allclose(z_output.get_ydata(), expected)
    # mean over the last 1000 iterations: steps 1000 and 5000
    fig = plot_mi_vs_bottleneck(planes, final=4000)
    first = fig.axes[0].get_lines()[0]
    np.testing.assert_allclose(first.get_ydata(),
                               [planes[K].to_arrays().input_mi[-2:, 0].mean() for K in (2, 8, 32)])


def test_mi_vs_bottleneck_errors():
    with pytest.raises(ValueError, match="same layers"):
        plot_mi_vs_bottleneck({2: _synthetic(), 4: _synthetic(layers=("A", "Z"))})
    with pytest.raises(ValueError, match="non-empty"):
        plot_mi_vs_bottleneck({})
    with pytest.raises(ValueError, match="final"):
        plot_mi_vs_bottleneck({2: _synthetic()}, final="first")


# ----------------------------------------------------------------------------- theory sketch (Fig. 1)
def test_theoretical_plane_draws_the_theorem():
    fig = plot_theoretical_plane(M=2.0, lam_small=0.8, n_encoder=4, n_decoder=3)
    _render(fig)
    small, large = fig.axes
    assert "small" in small.get_title() and "large" in large.get_title()
    for ax, lam in ((small, 0.8), (large, 3.0)):
        conv = theory.theoretical_convergence(2.0, lam, 4, 3).points
        np.testing.assert_allclose(_scatters(ax)[0].get_offsets(), conv)
        assert len([ln for ln in ax.get_lines() if len(ln.get_xdata()) > 2]) == 7  # one trajectory per layer
    with pytest.raises(ValueError, match="lam_small < M <= lam_large"):
        plot_theoretical_plane(M=1.0, lam_small=1.2)


def test_layer_styles_are_stable_and_distinct():
    styles = layer_styles(LAYERS)
    assert [s["marker"] for s in styles.values()] == ["o", "s", "^", "D", "v"]
    assert layer_styles(LAYERS[:2]) == {k: styles[k] for k in LAYERS[:2]}


def test_import_renyimi_does_not_import_matplotlib():
    code = "import sys, renyimi, renyimi.plane; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
