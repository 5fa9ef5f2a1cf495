"""Grad-CAM figures: the photo, its heatmap, the overlay, and the class probabilities."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from dashboard.figures.style import base_layout

HEAT_SCALE = "Jet"


def _square(fig: go.Figure, title: str, height: int) -> go.Figure:
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", constrain="domain")
    return base_layout(
        fig, height=height, title=dict(text=title, x=0.5, font=dict(size=14)), margin=dict(l=10, r=10, t=40, b=10)
    )


def image_panel(image: np.ndarray, title: str = "Photo", height: int = 320) -> go.Figure:
    """A 28x28 grey image, pixel values on hover."""
    fig = go.Figure(
        go.Heatmap(
            z=np.asarray(image, dtype=float),
            colorscale="gray",
            zmin=0,
            zmax=255,
            showscale=False,
            hovertemplate="pixel (%{x}, %{y}): %{z:.0f}<extra></extra>",
        )
    )
    return _square(fig, title, height)


def heat_panel(heat: np.ndarray, title: str = "Heatmap", height: int = 320) -> go.Figure:
    """A heatmap in [0, 1] (red = pushed the model most towards the class)."""
    fig = go.Figure(
        go.Heatmap(
            z=np.asarray(heat, dtype=float),
            colorscale=HEAT_SCALE,
            zmin=0,
            zmax=1,
            colorbar=dict(thickness=10, len=0.8, tickvals=[0, 1], ticktext=["low", "high"]),
            hovertemplate="(%{x}, %{y}): importance %{z:.2f}<extra></extra>",
        )
    )
    return _square(fig, title, height)


def overlay_panel(
    image: np.ndarray, heat: np.ndarray, opacity: float = 0.5, title: str = "Overlay", height: int = 320
) -> go.Figure:
    """The photo with the heatmap on top at `opacity` (the second trace's opacity)."""
    fig = go.Figure(
        [
            go.Heatmap(
                z=np.asarray(image, dtype=float), colorscale="gray", zmin=0, zmax=255, showscale=False, hoverinfo="skip"
            ),
            go.Heatmap(
                z=np.asarray(heat, dtype=float),
                colorscale=HEAT_SCALE,
                zmin=0,
                zmax=1,
                opacity=opacity,
                showscale=False,
                hovertemplate="(%{x}, %{y}): importance %{z:.2f}<extra></extra>",
            ),
        ]
    )
    return _square(fig, title, height)


def probability_bars(probabilities: dict[str, float], predicted: str, true: str | None = None) -> go.Figure:
    """All ten class probabilities; the prediction and (when known) the true class coloured."""
    names = list(probabilities)
    colors = ["#18bc9c" if n == true else "#e74c3c" if n == predicted else "#95a5a6" for n in names]
    if true == predicted:
        colors = ["#18bc9c" if n == true else "#95a5a6" for n in names]
    fig = go.Figure(
        go.Bar(
            x=[probabilities[n] for n in names],
            y=names,
            orientation="h",
            marker_color=colors,
            text=[f"{100 * probabilities[n]:.1f}%" for n in names],
            textposition="outside",
            cliponaxis=False,  # a 93.3% label past the last gridline is drawn whole, never cut
            hovertemplate="%{y}: %{x:.2%}<extra></extra>",
        )
    )
    fig.update_xaxes(range=[0, 1.0], tickformat=".0%", title="probability")
    fig.update_yaxes(autorange="reversed")
    return base_layout(fig, height=340, margin=dict(l=100, r=56, t=20, b=40))
