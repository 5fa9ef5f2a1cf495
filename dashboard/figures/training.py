"""Training-curve figures: loss and accuracy, train vs validation, best epoch and overfitting marked."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.figures.style import TRAIN_COLOR, VAL_COLOR, base_layout, empty_figure

OVERFIT_FILL = "rgba(231, 76, 60, 0.12)"


def training_curves(
    history: list[dict[str, Any]], analysis: dict[str, Any] | None = None, title: str | None = None
) -> go.Figure:
    """Two panels (loss, accuracy) of train and validation curves.

    `analysis` (core.evaluation.analysis.overfitting) adds a marker on the best validation epoch and red
    shading over epochs where validation loss rose while training loss fell.
    """
    if not history:
        return empty_figure("Curves appear here after the first epoch.", height=360)
    epochs = [h["epoch"] for h in history]
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=("Loss (lower is better)", "Accuracy (higher is better)"), horizontal_spacing=0.1
    )
    for col, key, fmt in ((1, "loss", ".4f"), (2, "accuracy", ".2%")):
        for prefix, name, color, dash in (
            ("", "training", TRAIN_COLOR, "solid"),
            ("val_", "validation", VAL_COLOR, "solid"),
        ):
            fig.add_scatter(
                x=epochs,
                y=[h.get(prefix + key) for h in history],
                mode="lines+markers",
                name=name,
                legendgroup=name,
                showlegend=col == 1,
                line=dict(color=color, dash=dash, width=2),
                marker=dict(size=6),
                hovertemplate=f"epoch %{{x}}<br>{name} {key} %{{y:{fmt}}}<extra></extra>",
                row=1,
                col=col,
            )
    if analysis:
        _mark_analysis(fig, history, analysis)
    fig.update_xaxes(title_text="epoch", dtick=_tick_step(len(epochs)))
    fig.update_yaxes(tickformat=".0%", row=1, col=2)
    return base_layout(
        fig,
        height=360,
        title=title,
        legend=dict(orientation="h", y=-0.22, x=0),
        margin=dict(l=50, r=20, t=80 if title else 64, b=40),  # room for the mode bar above the panel titles
    )


def _mark_analysis(fig: go.Figure, history: list[dict[str, Any]], analysis: dict[str, Any]) -> None:
    for epoch in analysis.get("overfit_epochs", []):
        for col in (1, 2):
            fig.add_vrect(x0=epoch - 1, x1=epoch, fillcolor=OVERFIT_FILL, line_width=0, layer="below", row=1, col=col)
    best = analysis.get("best_epoch")
    row = next((h for h in history if h["epoch"] == best), None)
    if row is None or len(history) < 2:
        return
    fig.add_scatter(
        x=[best],
        y=[row["val_loss"]],
        mode="markers",
        name=f"best validation epoch ({best})",
        marker=dict(symbol="star", size=16, color="#f39c12", line=dict(color="#2c3e50", width=1)),
        cliponaxis=False,
        hovertemplate="best validation loss %{y:.4f} at epoch %{x}<extra></extra>",
        row=1,
        col=1,
    )
    fig.add_vline(x=best, line_dash="dot", line_color="#f39c12", row=1, col=2)
    # the epoch is named in the legend ("best validation epoch (7)"): a label above the plot sat on the
    # loss panel's title
    if analysis.get("overfit_epochs"):
        fig.add_scatter(
            x=[None],
            y=[None],
            mode="markers",
            name="validation loss rising, training loss falling",
            marker=dict(symbol="square", size=12, color=OVERFIT_FILL),
            row=1,
            col=1,
        )


def _tick_step(n: int) -> int:
    return 1 if n <= 15 else 2 if n <= 30 else 5


def compare_curves(histories: dict[str, list[dict[str, Any]]], metric: str = "val_accuracy") -> go.Figure:
    """One line per run of a validation metric, to compare runs (leaderboard)."""
    if not any(histories.values()):
        return empty_figure("None of the selected runs has per-epoch curves (classic models train in one step).")
    fig = go.Figure()
    for label, history in histories.items():
        if history:
            fig.add_scatter(
                x=[h["epoch"] for h in history],
                y=[h.get(metric) for h in history],
                mode="lines+markers",
                name=label,
                hovertemplate=label + ": epoch %{x}, %{y:.4f}<extra></extra>",
            )
    pretty = metric.replace("val_", "validation ").replace("_", " ")
    fig.update_xaxes(title="epoch")
    fig.update_yaxes(title=pretty, tickformat=".1%" if "accuracy" in metric else None)
    return base_layout(fig, height=380, legend=dict(orientation="h", y=-0.25, x=0))
