"""Leaderboard figures: the accuracy-versus-training-time trade-off with its Pareto front."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from core.evaluation.leaderboard import pareto_front
from dashboard.figures.style import FAMILY_COLORS, base_layout, empty_figure


def cost_scatter(rows: list[dict[str, Any]]) -> go.Figure:
    """Test accuracy against training seconds (log axis), one dot per run; the runs no other run
    beats on both are joined as the Pareto front: the best accuracy each time budget buys."""
    points = [r for r in rows if r.get("test_accuracy") is not None and r.get("train_seconds")]
    if not points:
        return empty_figure("No finished runs with a training time yet.")
    front = pareto_front(points)
    fig = go.Figure()
    for family in ("deep", "classic", "ensemble", "imported"):
        part = [r for r in points if r.get("family") == family]
        if part:
            fig.add_scatter(
                x=[r["train_seconds"] for r in part],
                y=[r["test_accuracy"] for r in part],
                mode="markers",
                name=family,
                marker=dict(size=11, color=FAMILY_COLORS.get(family, "#8e44ad"), line=dict(width=1, color="#fff")),
                customdata=[r["run_id"] for r in part],
                text=[f"{r.get('name') or r['model']} · {r['run_id']}" for r in part],
                hovertemplate="%{text}<br>%{y:.2%} after %{x:,.0f} s of training<extra></extra>",
            )
    best = sorted((r for r in points if r["run_id"] in front), key=lambda r: r["train_seconds"])
    fig.add_scatter(
        x=[r["train_seconds"] for r in best],
        y=[r["test_accuracy"] for r in best],
        mode="lines",
        line=dict(shape="hv", dash="dot", color="#2c3e50"),
        name="Pareto front (best for its time)",
        hoverinfo="skip",
    )
    fig.update_xaxes(type="log", title="training seconds (log scale)")
    fig.update_yaxes(tickformat=".0%", title="test accuracy")
    return base_layout(fig, height=360, legend=dict(orientation="h", y=-0.25, x=0))
