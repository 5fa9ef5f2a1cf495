"""Figures of the Data page: samples, class balance, pixel histogram, mean/std images, embedding."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.figures.style import CLASS_COLORS, SPLIT_COLORS, base_layout

GAP = 2  # pixels between tiles in mosaics
SPLIT_LABELS = {"train": "Training", "val": "Validation", "test": "Test"}


def mosaic(tiles: np.ndarray, gap: int = GAP, fill: float = np.nan) -> np.ndarray:
    """(rows, cols, h, w) tiles -> one (rows*(h+gap), cols*(w+gap)) array with gaps of `fill`."""
    rows, cols, h, w = tiles.shape
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), fill, dtype=np.float32)
    for r in range(rows):
        for c in range(cols):
            out[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = tiles[r, c]
    return out


def sample_grid(images: np.ndarray, indices: np.ndarray, class_names: list[str]) -> go.Figure:
    """A labelled grid: one row per class of (rows, cols, 28, 28) uint8 images."""
    rows, cols = images.shape[:2]
    z = mosaic(images.astype(np.float32))
    index_map = mosaic(np.broadcast_to(indices[:, :, None, None], (rows, cols, 28, 28)).astype(np.float32))
    fig = go.Figure(
        go.Heatmap(
            z=z,
            customdata=index_map,
            colorscale="gray",
            zmin=0,
            zmax=255,
            showscale=False,
            hovertemplate="training image #%{customdata:.0f}<br>pixel value %{z:.0f}<extra></extra>",
        )
    )
    fig.update_yaxes(
        autorange="reversed",
        tickvals=[r * (28 + GAP) + 14 for r in range(rows)],
        ticktext=class_names,
        showgrid=False,
        zeroline=False,
        scaleanchor="x",
    )
    fig.update_xaxes(visible=False, showgrid=False)
    return base_layout(fig, height=max(360, rows * 44), margin=dict(l=100, r=10, t=10, b=10))


def class_balance(counts: dict[str, dict[str, int]]) -> go.Figure:
    """Grouped bars of images per class in each split, counts written on the bars."""
    fig = go.Figure()
    for split, per_class in counts.items():
        fig.add_bar(
            name=SPLIT_LABELS.get(split, split),
            x=list(per_class),
            y=list(per_class.values()),
            text=list(per_class.values()),
            textposition="outside",
            textfont=dict(size=12),
            marker_color=SPLIT_COLORS.get(split),
            hovertemplate="%{x}: %{y} images<extra>" + SPLIT_LABELS.get(split, split) + "</extra>",
        )
    fig.update_layout(barmode="group", legend=dict(orientation="h", y=-0.25, x=0), yaxis_title="images")
    return base_layout(fig, height=380)


def pixel_histogram(
    total: np.ndarray, per_class: np.ndarray | None, class_names: list[str], stats: dict[str, float]
) -> go.Figure:
    """Intensity histogram (log scale) with mean, median and std marked; optional per-class lines."""
    values = np.arange(256)
    fig = go.Figure()
    if per_class is None:
        fig.add_bar(
            x=values,
            y=total,
            marker_color="#2c3e50",
            name="all classes",
            hovertemplate="value %{x}: %{y:,} pixels<extra></extra>",
        )
    else:
        for c, name in enumerate(class_names):
            fig.add_scatter(
                x=values,
                y=per_class[c],
                mode="lines",
                name=name,
                line=dict(color=CLASS_COLORS[c]),
                hovertemplate=name + ", value %{x}: %{y:,} pixels<extra></extra>",
            )
    for label, x, dash in (("mean", stats["mean"], "dash"), ("median", stats["median"], "dot")):
        fig.add_vline(
            x=x,
            line_dash=dash,
            line_color="#e74c3c",
            annotation_text=f"{label} {x:.1f}",
            annotation_position="top right",
        )
    fig.add_vrect(
        x0=max(0, stats["mean"] - stats["std"]),
        x1=min(255, stats["mean"] + stats["std"]),
        fillcolor="#e74c3c",
        opacity=0.06,
        line_width=0,
        annotation_text=f"±1 std ({stats['std']:.1f})",
        annotation_position="bottom right",
    )
    fig.update_yaxes(type="log", title="pixels (log scale)", dtick=1, exponentformat="power")  # 10, 100, 1000 …
    fig.update_xaxes(title="intensity (0 = black background, 255 = white)", range=[-2, 257])
    return base_layout(fig, height=380, showlegend=per_class is not None, bargap=0)


def mean_std_images(means: np.ndarray, stds: np.ndarray, class_names: list[str]) -> go.Figure:
    """Two rows of small heatmaps: the average image and the pixel std per class."""
    n = len(class_names)
    fig = make_subplots(
        rows=2,
        cols=n,
        column_titles=class_names,
        row_titles=["mean", "std"],
        horizontal_spacing=0.01,
        vertical_spacing=0.04,
    )
    for c in range(n):
        for row, stack, scale in ((1, means, "gray"), (2, stds, "viridis")):
            fig.add_trace(
                go.Heatmap(
                    z=stack[c],
                    colorscale=scale,
                    zmin=0,
                    zmax=255 if row == 1 else 128,
                    showscale=False,
                    hovertemplate=f"{class_names[c]}: %{{z:.0f}}<extra></extra>",
                ),
                row=row,
                col=c + 1,
            )
    fig.update_yaxes(autorange="reversed", visible=False, scaleanchor="x")
    fig.update_xaxes(visible=False)
    fig.update_annotations(font_size=11)
    return base_layout(fig, height=300, margin=dict(l=10, r=30, t=40, b=10))


def embedding_scatter(
    xy: np.ndarray, labels: np.ndarray, index: np.ndarray, class_names: list[str], method: str
) -> go.Figure:
    """2-D map of images coloured by class; `customdata` carries the training-image index.

    Drawn with SVG (`scatter`), not WebGL: a few thousand points need no GPU, and Chromium without one
    (virtual machines, remote desktops, locked-down laptops) showed "WebGL is not supported" instead."""
    fig = go.Figure()
    for c, name in enumerate(class_names):
        mask = labels == c
        fig.add_scatter(
            x=xy[mask, 0],
            y=xy[mask, 1],
            mode="markers",
            name=name,
            customdata=index[mask].tolist(),  # a plain list: packed arrays do not come back in hoverData
            marker=dict(color=CLASS_COLORS[c], size=5, opacity=0.75),
            hoverinfo="none",
        )
    axis = "PC" if method == "pca" else "t-SNE "
    fig.update_xaxes(title=f"{axis}1", zeroline=False)
    fig.update_yaxes(title=f"{axis}2", zeroline=False)
    return base_layout(fig, height=520, legend=dict(itemsizing="constant"))
