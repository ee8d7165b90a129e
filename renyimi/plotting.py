r"""Figures of information planes, in the style of Tapia & Estévez (2020) [1]_ (needs matplotlib).

=====================================  ==================================================================
function                               figure
=====================================  ==================================================================
:func:`plot_information_plane`         a recorded plane: encoder and decoder panels, colour = iteration
                                       (Figs. 6-7 of [1]_)
:func:`plot_variance`                  mean activation variance of each layer against the iteration (Fig. 8)
:func:`plot_mi_vs_bottleneck`          final input and output MI of each layer against the bottleneck
                                       size K (Fig. 9)
:func:`plot_theoretical_plane`         the theoretical plane for a small and a large bottleneck (Fig. 1)
=====================================  ==================================================================

Every function returns the :class:`matplotlib.figure.Figure` and accepts ``axes`` to draw into an
existing figure (for example one row per bottleneck size). Every layer keeps the same marker in every
figure (:func:`layer_styles`), legends sit outside the data, and axes carry units (bits unless the plane
was measured in another ``base``).

matplotlib is imported when a function is called, never by ``import renyimi``.

References
----------
.. [1] N. I. Tapia and P. A. Estévez, "On the information plane of autoencoders," in Proc. IJCNN, 2020.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from . import theory
from ._optional import require
from .plane import InformationPlane, log_spaced_indices

__all__ = ["layer_styles", "plot_information_plane", "plot_mi_vs_bottleneck", "plot_theoretical_plane",
           "plot_variance"]

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "h", "<", ">", "p")
_FEASIBLE = {"facecolor": "0.88", "edgecolor": "0.55", "linewidth": 0.8}
_BISECTOR = {"color": "0.35", "linestyle": "--", "linewidth": 0.9}


def _pyplot():
    return require("matplotlib.pyplot", needed_by="renyimi.plotting", extra="plot")


def layer_styles(layers: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Marker and colour of each layer, by position in network order (the same in every figure).

    Parameters
    ----------
    layers : sequence of str

    Returns
    -------
    dict of {str: dict}
        ``{layer: {"marker": ..., "color": ...}}``; colours from the ``tab10`` cycle.

    Examples
    --------
    >>> layer_styles(["T1E", "Z"])["Z"]["marker"]
    's'
    """
    import matplotlib

    cmap = matplotlib.colormaps["tab10"]
    return {name: {"marker": MARKERS[i % len(MARKERS)], "color": cmap(i % 10)}
            for i, name in enumerate(layers)}


# ------------------------------------------------------------------------------------- helpers
def _check_plane(plane: Any, name: str = "plane") -> InformationPlane:
    if not isinstance(plane, InformationPlane):
        raise TypeError(f"{name} must be a renyimi.InformationPlane; got {type(plane).__name__}.")
    if len(plane) == 0:
        raise ValueError(f"{name} is empty; record() at least one step before plotting.")
    return plane


def _prepare(plane: InformationPlane, smooth: float | None, n_points: int | None) -> InformationPlane:
    """The paper's order: smooth over the full history first, then keep log-spaced points."""
    if smooth is not None:
        plane = plane.smooth(smooth)
    if n_points is not None:
        plane = plane.subsample(n_points)
    return plane


def _panels(plane: InformationPlane, split: bool | None) -> list[tuple[str, list[str]]]:
    """(title, layers) of each panel; the bottleneck Z opens the decoder panel too."""
    layers, k = list(plane.layers), plane.n_encoder
    has_decoder = k < len(layers)
    if split is None:
        split = has_decoder
    if not split or not has_decoder:
        return [("", layers)]
    return [("Encoder", layers[:k]), ("Decoder", layers[k - 1:])]


def _get_axes(axes: Any, n: int, figsize: tuple[float, float], **subplot_kw: Any) -> tuple[Any, list[Any]]:
    if axes is None:
        fig, axs = _pyplot().subplots(1, n, figsize=figsize, squeeze=False, **subplot_kw)
        return fig, list(axs[0])
    axs = list(np.ravel(axes))
    if len(axs) != n:
        raise ValueError(f"axes must hold {n} matplotlib Axes (one per panel); got {len(axs)}.")
    return axs[0].figure, axs


def _output_symbol(plane: InformationPlane) -> str:
    return "X'" if plane.output == "reconstruction" else "Y"


def _labels(plane: InformationPlane) -> tuple[str, str]:
    out = _output_symbol(plane)
    return rf"Input MI $\hat I(X;T)$ ({plane.units})", rf"Output MI $\hat I(T;{out})$ ({plane.units})"


def _step_norm(steps: np.ndarray, log: bool):
    from matplotlib.colors import LogNorm, Normalize

    positive = steps[steps > 0]
    if log and positive.size and positive.max() > positive.min():
        return LogNorm(positive.min(), positive.max())
    lo, hi = float(steps.min()), float(steps.max())
    return Normalize(lo, hi if hi > lo else lo + 1)


def _outside_legend(fig: Any, handles: list) -> Any:
    """One legend for the figure, below the panels, so that it never covers data."""
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    ncol = len(handles) if len(handles) <= 9 else -(-len(handles) // 2)
    # "outside" makes room for the legend with constrained layout; otherwise hang it below the figure
    # (saved whole with bbox_inches="tight").
    place = ({"loc": "outside lower center"} if isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine)
             else {"loc": "upper center", "bbox_to_anchor": (0.5, 0.0)})
    return fig.legend(handles=handles, ncol=ncol, frameon=False, handletextpad=0.4, columnspacing=1.2,
                      **place)


def _layer_handles(layers: Sequence[str], styles: dict, *, colored: bool, line: bool = False) -> list:
    from matplotlib.lines import Line2D

    handles = []
    for name in layers:
        st = styles[name]
        face = st["color"] if colored else "0.75"
        handles.append(Line2D([], [], marker=st["marker"], markersize=7, markerfacecolor=face,
                              markeredgecolor="black", markeredgewidth=0.6,
                              color=st["color"] if line else "none", linestyle="-" if line else "none",
                              label=name))
    return handles


def _theory_handles(feasible_label: str | None, bisector: bool, out: str = "X'") -> list:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [Patch(label=feasible_label, **_FEASIBLE)] if feasible_label else []
    if bisector:
        handles.append(Line2D([], [], label=rf"bisector $\hat I(X;T) = \hat I(T;{out})$", **_BISECTOR))
    return handles


def _draw_theory(ax: Any, M: float | None, feasible: bool, bisector: bool, top: float) -> None:
    from matplotlib.patches import Polygon

    if feasible and M is not None:
        ax.add_patch(Polygon(theory.feasible_region(M), closed=True, zorder=0, **_FEASIBLE))
    if bisector:
        ax.plot([0, top], [0, top], zorder=1, **_BISECTOR)


def _limits(values: list[np.ndarray], M: float | None, mode: str) -> tuple[tuple, tuple]:
    x = np.concatenate([v[0].ravel() for v in values])
    y = np.concatenate([v[1].ravel() for v in values])
    if mode == "full":
        top = max(float(x.max()), float(y.max()), M or 0.0) * 1.05
        return (0.0, top), (0.0, top)
    if mode != "data":
        raise ValueError(f"limits must be 'data' or 'full'; got limits={mode!r}.")

    def pad(lo, hi):
        span = hi - lo if hi > lo else max(abs(hi), 1.0) * 0.1
        return lo - 0.06 * span, hi + 0.06 * span

    return pad(float(x.min()), float(x.max())), pad(float(y.min()), float(y.max()))


# -------------------------------------------------------------------------------- plane (Figs 6-7)
def plot_information_plane(plane: InformationPlane, *, M: float | None = None, smooth: float | None = None,
                           n_points: int | None = None, split: bool | None = None, cmap: str = "viridis",
                           log_color: bool = True, feasible: bool = True, bisector: bool = True,
                           trajectories: bool = True, limits: str = "data", title: str | None = None,
                           legend: bool | None = None, axes: Any = None,
                           figsize: tuple[float, float] | None = None, markersize: float = 30,
                           errors: str | bool | None = "auto") -> Any:
    r"""Draw a recorded information plane: one marker per layer, colour by iteration (log scale).

    Autoencoders get two panels, encoder (up to Z) and decoder (from Z on), as in Figs. 6-7 of [1]_;
    other networks one. The feasible region of Sec. II-B of [1]_ (the triangle (0, 0), (M, 0), (M, M)
    with :math:`M = \hat I(X;X)`) is shaded and the bisector drawn; points outside them violate the
    theory (see :meth:`InformationPlane.diagnostics`).

    Parameters
    ----------
    plane : InformationPlane
        A recorded plane.
    M : float, optional
        Input information for the feasible region; default the plane's recorded :math:`\hat I(X;X)`.
    smooth : float, optional
        Hann window span in iterations applied first (the paper: 500); see
        :meth:`InformationPlane.smooth`.
    n_points : int, optional
        Then keep about this many log-spaced steps (:meth:`InformationPlane.subsample`); default all.
    split : bool, optional
        Separate encoder and decoder panels; default when the plane has decoder layers.
    cmap : str, default "viridis"
        Colour map of the iteration.
    log_color : bool, default True
        Logarithmic colour scale (iteration 0 takes the colour of the first positive iteration).
    feasible, bisector : bool, default True
        Shade the feasible triangle; draw the bisector.
    trajectories : bool, default True
        Join each layer's points in step order with a thin grey line.
    limits : {"data", "full"}, default "data"
        Zoom on the data, or show the whole triangle from the origin.
    title : str, optional
        Figure title.
    legend : bool, optional
        Draw the figure legend (layers, feasible region, bisector) below the panels; default only for
        a new figure, so that several calls into one figure's ``axes`` can share one legend.
    axes : matplotlib Axes or sequence of Axes, optional
        Draw into these (one per panel) instead of a new figure.
    figsize : (float, float), optional
        Size of a new figure.
    markersize : float, default 30
        Scatter marker area (points²).
    errors : {"auto", "se", "std"} or None, default "auto"
        Error bars on both coordinates of every point: ``"se"`` draws ±1 standard error of the mean
        over the batches averaged at that step (std / sqrt(n_batches)), ``"std"`` ±1 standard
        deviation of the batch values; ``"auto"`` is ``"se"`` when some step averages several
        batches and nothing otherwise; None or False draws none.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, renyimi
    >>> from renyimi.plotting import plot_information_plane
    >>> rng = np.random.default_rng(0)
    >>> plane = renyimi.InformationPlane(["T1E", "Z", "T1D"], sigma=1.0)
    >>> for step in (0, 10, 100, 1000):
    ...     x = rng.normal(size=(32, 4))
    ...     layers = {"T1E": x[:, :3], "Z": x[:, :1], "T1D": x[:, :1] ** 3}
    ...     _ = plane.record(step, x, np.tanh(x[:, :1]), layers)
    >>> fig = plot_information_plane(plane)
    >>> [ax.get_title() for ax in fig.axes[:2]]
    ['Encoder', 'Decoder']
    """
    from matplotlib.cm import ScalarMappable

    plane = _prepare(_check_plane(plane), smooth, n_points)
    a = plane.to_arrays()
    M = plane.M if M is None else float(M)
    panels = _panels(plane, split)
    fig, axs = _get_axes(axes, len(panels), figsize or (4.6 * len(panels) + 1.0, 4.6), layout="constrained")
    styles = layer_styles(a.layers)
    norm = _step_norm(a.steps, log_color)
    colour_steps = np.maximum(a.steps, norm.vmin) if log_color else a.steps
    col = {name: i for i, name in enumerate(a.layers)}
    lims = _limits([(a.input_mi, a.output_mi)], M if limits == "full" else None, limits)
    xlabel, ylabel = _labels(plane)
    bars = _error_bars(a, errors)
    for ax, (panel_title, layers) in zip(axs, panels, strict=True):
        top = max(lims[0][1], lims[1][1], M or 0.0) * 1.5
        _draw_theory(ax, M, feasible, bisector, top)
        for name in layers:
            i = col[name]
            if trajectories and a.steps.size > 1:
                ax.plot(a.input_mi[:, i], a.output_mi[:, i], color="0.6", linewidth=0.7, zorder=2)
            if bars is not None:
                ax.errorbar(a.input_mi[:, i], a.output_mi[:, i], xerr=bars[0][:, i], yerr=bars[1][:, i],
                            fmt="none", ecolor="0.35", elinewidth=0.6, capsize=0, zorder=2.5)
            ax.scatter(a.input_mi[:, i], a.output_mi[:, i], c=colour_steps, cmap=cmap, norm=norm,
                       marker=styles[name]["marker"], s=markersize, edgecolors="black", linewidths=0.4,
                       zorder=3)
        ax.set(xlim=lims[0], ylim=lims[1], xlabel=xlabel, title=panel_title)
        ax.set_ylabel(ylabel)
        ax.grid(True, linewidth=0.3, alpha=0.5)
    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=axs, label="Iteration", pad=0.02)
    if legend or (legend is None and axes is None):
        shown = list(dict.fromkeys(name for _, layers in panels for name in layers))
        handles = _layer_handles(shown, styles, colored=False)
        region = f"feasible region (M = {M:.3g} {plane.units})" if feasible and M is not None else None
        handles += _theory_handles(region, bisector, _output_symbol(plane))
        _outside_legend(fig, handles)
    if title:
        fig.suptitle(title)
    return fig


def _error_bars(a: Any, errors: str | bool | None) -> tuple[np.ndarray, np.ndarray] | None:
    """(x errors, y errors), each (n_steps, n_layers), or None when no bars are to be drawn."""
    if errors is None or errors is False:
        return None
    if errors not in ("auto", "se", "std"):
        raise ValueError(f"errors must be 'auto', 'se', 'std' or None; got errors={errors!r}.")
    x_std, y_std = getattr(a, "input_mi_std", None), getattr(a, "output_mi_std", None)
    n_batches = getattr(a, "n_batches", None)
    if x_std is None or y_std is None or n_batches is None:  # a plane recorded without spreads
        return None
    n_batches = np.asarray(n_batches, dtype=float).reshape(-1, 1)
    if errors == "auto":
        if not np.any(n_batches > 1):
            return None
        errors = "se"
    scale = 1.0 / np.sqrt(np.maximum(n_batches, 1.0)) if errors == "se" else 1.0
    x_err = np.nan_to_num(np.asarray(x_std, dtype=float) * scale)
    y_err = np.nan_to_num(np.asarray(y_std, dtype=float) * scale)
    return x_err, y_err


# --------------------------------------------------------------------------------- variance (Fig 8)
def plot_variance(plane: InformationPlane, *, layers: Sequence[str] | None = None,
                  exclude: Sequence[str] = (), smooth: float | None = None, split: bool | None = None,
                  logx: bool = True, logy: bool = False, title: str | None = None,
                  legend: bool | None = None, axes: Any = None,
                  figsize: tuple[float, float] | None = None) -> Any:
    """Mean activation variance of each layer against the iteration (Fig. 8 of [1]_).

    The paper links the apparent compression phase of the old width rule to layers whose variance
    shrinks late in training; this plot shows it. Panels split as in :func:`plot_information_plane`.

    Parameters
    ----------
    plane : InformationPlane
    layers : sequence of str, optional
        Layers to show (default all, in network order).
    exclude : sequence of str
        Layers to leave out; the paper leaves out Z, whose variance dwarfs the others.
    smooth : float, optional
        Hann window span in iterations.
    split : bool, optional
        Encoder and decoder panels (default when there is a decoder).
    logx : bool, default True
        Logarithmic iteration axis (steps <= 0 are then not drawn).
    logy : bool, default False
        Logarithmic variance axis.
    title : str, optional
    legend : bool, optional
        Draw the figure legend below the panels; default only for
        a new figure, so that several calls into one figure's ``axes`` can share one legend.
    axes : Axes or sequence of Axes, optional
    figsize : (float, float), optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, renyimi
    >>> from renyimi.plotting import plot_variance
    >>> plane = renyimi.InformationPlane(sigma=1.0)
    >>> x = np.random.default_rng(0).normal(size=(20, 3))
    >>> for step in (1, 10, 100):
    ...     _ = plane.record(step, x, x, {"A": step * x, "B": x / step})
    >>> fig = plot_variance(plane)
    >>> fig.axes[0].get_ylabel()
    'Mean activation variance'
    """
    plane = _prepare(_check_plane(plane), smooth, None)
    a = plane.to_arrays()
    unknown = [n for n in [*(layers or ()), *exclude] if n not in a.layers]
    if unknown:
        raise ValueError(f"unknown layer(s) {unknown}; the plane's layers are {list(a.layers)}.")
    keep = [n for n in (layers or a.layers) if n not in exclude]
    if not keep:
        raise ValueError("no layer left to plot; check layers= and exclude=.")
    panels = [(t, [n for n in ls if n in keep]) for t, ls in _panels(plane, split)]
    panels = [(t, ls) for t, ls in panels if ls]
    fig, axs = _get_axes(axes, len(panels), figsize or (4.6 * len(panels) + 0.4, 3.8), layout="constrained")
    styles = layer_styles(a.layers)
    mask = a.steps > 0 if logx else np.ones(a.steps.size, bool)
    marks = log_spaced_indices(a.steps[mask], 12) if mask.sum() > 1 else np.arange(mask.sum())
    col = {name: i for i, name in enumerate(a.layers)}
    for ax, (panel_title, names) in zip(axs, panels, strict=True):
        for name in names:
            ax.plot(a.steps[mask], a.variance[mask, col[name]], color=styles[name]["color"], linewidth=1.4,
                    marker=styles[name]["marker"], markevery=list(marks), markersize=5,
                    markeredgecolor="black", markeredgewidth=0.5, label=name)
        ax.set(xlabel="Iteration", title=panel_title, xscale="log" if logx else "linear",
               yscale="log" if logy else "linear")
        ax.set_ylabel("Mean activation variance")
        ax.grid(True, linewidth=0.3, alpha=0.5)
    if legend or (legend is None and axes is None):
        shown = list(dict.fromkeys(n for _, ls in panels for n in ls))
        _outside_legend(fig, _layer_handles(shown, styles, colored=True, line=True))
    if title:
        fig.suptitle(title)
    return fig


# ----------------------------------------------------------------------------- MI vs K (Fig 9)
def _final(plane: InformationPlane, final: str | float) -> tuple[np.ndarray, np.ndarray, float]:
    a = plane.to_arrays()
    if isinstance(final, str):
        if final != "last":
            raise ValueError(f"final must be 'last' or a number of iterations; got final={final!r}.")
        rows = np.array([a.steps.size - 1])
    else:
        if not float(final) >= 0:
            raise ValueError(f"final must be 'last' or a number of iterations >= 0; got final={final!r}.")
        rows = np.flatnonzero(a.steps >= a.steps[-1] - float(final))
    return a.input_mi[rows].mean(0), a.output_mi[rows].mean(0), float(a.input_information[rows].mean())


def plot_mi_vs_bottleneck(planes: Mapping[int, InformationPlane], *, final: str | float = "last",
                          layers: Sequence[str] | None = None, logx: bool = False, reference: bool = True,
                          title: str | None = None, legend: bool | None = None, axes: Any = None,
                          figsize: tuple[float, float] | None = None) -> Any:
    r"""Final input and output MI of each layer against the bottleneck size K (Fig. 9 of [1]_).

    Rows: input MI :math:`\hat I(X;T)` and output MI :math:`\hat I(T;X')`; columns: encoder and decoder
    layers (one column when there is no decoder). Theorem 1 of [1]_ predicts: the decoder input MIs and
    every output MI equal :math:`\lambda(K)` (growing with K) until they reach :math:`M = \hat I(X;X)`
    (dashed line); the encoder input MIs decrease from M to the bottleneck's value for small K. The K at
    which the encoder stops compressing estimates the intrinsic dimension of the data.

    Parameters
    ----------
    planes : mapping of int to InformationPlane
        One recorded plane per bottleneck size K, with the same layers.
    final : "last" or float, default "last"
        The last recorded step, or the mean over the last ``final`` iterations.
    layers : sequence of str, optional
        Layers to show (default all).
    logx : bool, default False
        Logarithmic K axis (base 2).
    reference : bool, default True
        Dashed line at the mean :math:`M` of the planes.
    title : str, optional
    legend : bool, optional
        Draw the figure legend below the panels; default only for
        a new figure, so that several calls into one figure's ``axes`` can share one legend.
    axes : array of Axes, optional
        2 x (number of columns) axes to draw into.
    figsize : (float, float), optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, renyimi
    >>> from renyimi.plotting import plot_mi_vs_bottleneck
    >>> x = np.random.default_rng(0).normal(size=(40, 6))
    >>> planes = {}
    >>> for K in (1, 2, 4):
    ...     planes[K] = renyimi.InformationPlane(["T1E", "Z", "T1D"], sigma=2.0)
    ...     _ = planes[K].record(0, x, x[:, :K], {"T1E": x[:, :5], "Z": x[:, :K], "T1D": 2 * x[:, :K]})
    >>> fig = plot_mi_vs_bottleneck(planes)
    >>> fig.axes[-1].get_xlabel()
    'Bottleneck size K'
    """
    if not isinstance(planes, Mapping) or not planes:
        raise ValueError("planes must be a non-empty dict {K: InformationPlane}.")
    ks = sorted(planes)
    first = _check_plane(planes[ks[0]], f"planes[{ks[0]!r}]")
    for k in ks:
        p = _check_plane(planes[k], f"planes[{k!r}]")
        if p.layers != first.layers:
            raise ValueError(f"every plane must have the same layers; planes[{ks[0]!r}] has "
                             f"{list(first.layers)}, "
                             f"planes[{k!r}] has {list(p.layers)}.")
    finals = [_final(planes[k], final) for k in ks]
    x_in, x_out = np.stack([f[0] for f in finals]), np.stack([f[1] for f in finals])
    M = float(np.mean([f[2] for f in finals]))
    panels = [(t, [n for n in ls if layers is None or n in layers]) for t, ls in _panels(first, None)]
    ncol = len(panels)
    if axes is None:
        fig, axs = _pyplot().subplots(2, ncol, figsize=figsize or (4.4 * ncol, 6.6), squeeze=False,
                                      sharex=True, sharey="row", layout="constrained")
    else:
        axs = np.asarray(axes, dtype=object).reshape(2, -1)
        if axs.shape[1] != ncol:
            raise ValueError(f"axes must be a 2 x {ncol} grid; got {axs.shape}.")
        fig = axs[0, 0].figure
    styles = layer_styles(first.layers)
    col = {name: i for i, name in enumerate(first.layers)}
    _, ylabel = _labels(first)
    for j, (panel_title, names) in enumerate(panels):
        for row, values, label in ((0, x_in, _labels(first)[0]), (1, x_out, ylabel)):
            ax = axs[row, j]
            for name in names:
                ax.plot(ks, values[:, col[name]], color=styles[name]["color"], marker=styles[name]["marker"],
                        markersize=5, markeredgecolor="black", markeredgewidth=0.5, linewidth=1.3, label=name)
            if reference:
                ax.axhline(M, **_BISECTOR)
            if logx:
                ax.set_xscale("log", base=2)
            ax.set_xticks(ks, [str(k) for k in ks])
            ax.grid(True, linewidth=0.3, alpha=0.5)
            if j == 0:
                ax.set_ylabel(label)
            if row == 0:
                ax.set_title(panel_title)
            else:
                ax.set_xlabel("Bottleneck size K")
    if legend or (legend is None and axes is None):
        from matplotlib.lines import Line2D

        shown = list(dict.fromkeys(n for _, ls in panels for n in ls))
        handles = _layer_handles(shown, styles, colored=True, line=True)
        if reference:
            handles.append(Line2D([], [], label=rf"$M = \hat I(X;X)$ = {M:.3g} {first.units}", **_BISECTOR))
        _outside_legend(fig, handles)
    if title:
        fig.suptitle(title)
    return fig


# -------------------------------------------------------------------------- theory sketch (Fig 1)
def plot_theoretical_plane(M: float = 1.0, lam_small: float = 0.45, lam_large: float | None = None, *,
                           n_encoder: int = 4, n_decoder: int = 3,
                           encoder_profile: Sequence[float] | None = None, legend: bool | None = None,
                           axes: Any = None, figsize: tuple[float, float] | None = None) -> Any:
    r"""The theoretical information plane of an ideal autoencoder for a small and a large bottleneck (Fig. 1).

    From :func:`renyimi.theory.theoretical_trajectories`: straight lines (the paper stresses that the
    real paths depend on the optimiser) from a start that respects the forward DPI with a low common
    output MI to Theorem 1's convergence points (circled). Small bottleneck :math:`\lambda < M`: the
    encoder layers end inside the triangle, Z and the decoder on the bisector at :math:`\lambda`. Large
    bottleneck :math:`\lambda \ge M`: every layer ends at :math:`(M, M)`.

    Parameters
    ----------
    M : float, default 1
        Input information :math:`\hat I(X;X)`.
    lam_small : float, default 0.45
        Bottleneck capacity :math:`\lambda < M` of panel (a).
    lam_large : float, optional
        Capacity of panel (b), :math:`\ge M`; default ``1.5 * M``.
    n_encoder, n_decoder : int, default 4 and 3
        Encoder layers including Z, hidden decoder layers (the paper's network).
    encoder_profile : sequence of float, optional
        Where the encoder layers converge between M and :math:`\lambda`
        (see :func:`renyimi.theory.theoretical_convergence`).
    legend : bool, optional
        Draw the figure legend below the panels; default only for
        a new figure, so that several calls into one figure's ``axes`` can share one legend.
    axes : two Axes, optional
    figsize : (float, float), optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from renyimi.plotting import plot_theoretical_plane
    >>> fig = plot_theoretical_plane(M=1.0, lam_small=0.4)
    >>> len(fig.axes)
    2
    """
    lam_large = 1.5 * M if lam_large is None else lam_large
    if not lam_small < M <= lam_large:
        raise ValueError(f"need lam_small < M <= lam_large for the two regimes; got lam_small={lam_small}, "
                         f"M={M}, "
                         f"lam_large={lam_large}.")
    fig, axs = _get_axes(axes, 2, figsize or (9.0, 4.6), layout="constrained")
    styles = None
    for ax, lam, panel_title in ((axs[0], lam_small, r"(a) small bottleneck, $\lambda < M$"),
                                 (axs[1], lam_large, r"(b) large bottleneck, $\lambda \geq M$")):
        tr = theory.theoretical_trajectories(M, lam, n_encoder, n_decoder, encoder_profile=encoder_profile)
        styles = styles or layer_styles(tr.layers)
        _draw_theory(ax, M, True, True, 1.5 * M)
        for i, name in enumerate(tr.layers):
            st = styles[name]
            ax.plot(tr.input_mi[:, i], tr.output_mi[:, i], color=st["color"], linewidth=1.3, zorder=2)
            ax.plot(tr.input_mi[0, i], tr.output_mi[0, i], marker=st["marker"], color=st["color"],
                    markeredgecolor="black", markeredgewidth=0.5, markersize=6, zorder=3)
        conv = tr.convergence.points
        ax.scatter(conv[:, 0], conv[:, 1], s=260, facecolors="none", edgecolors="black", linewidths=1.2,
                   zorder=4)
        ticks = [0.0, M] if lam >= M else [0.0, lam, M]
        names = ["0", "M"] if lam >= M else ["0", r"$\lambda$", "M"]
        ax.set_xticks(ticks, names)
        ax.set_yticks(ticks, names)
        ax.set(xlim=(0, 1.08 * M), ylim=(0, 1.08 * M), title=panel_title, aspect="equal",
               xlabel=r"Input MI $\hat I(X;T)$", ylabel=r"Output MI $\hat I(T;X')$")
    if legend or (legend is None and axes is None):
        from matplotlib.lines import Line2D

        handles = _layer_handles(tr.layers, styles, colored=True, line=True)
        handles.append(Line2D([], [], marker="o", markersize=11, markerfacecolor="none",
                              markeredgecolor="black",
                              linestyle="none", label="convergence (Theorem 1)"))
        handles += _theory_handles("feasible region", True)
        _outside_legend(fig, handles)
    return fig
