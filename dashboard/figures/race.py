"""The race's time-to-accuracy chart (as DAWNBench plots it): validation accuracy against training
seconds on this machine, one line per architecture, each point the mean over seeds with the seeds'
lowest and highest as its error bar."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from dashboard.figures.style import base_layout, empty_figure

COLORS = ("#18bc9c", "#e67e22", "#3498db", "#8e44ad", "#c0392b")


def time_to_accuracy(rows: list[dict[str, Any]], entrants: list[dict[str, Any]]) -> go.Figure:
    """`rows`: core.race.results.curve_rows; `entrants`: the race's entrants (key, title), in order."""
    if not rows:
        return empty_figure("No race run has finished yet.", height=420)
    fig = go.Figure()
    for i, entrant in enumerate(entrants):
        part = sorted((r for r in rows if r["entrant"] == entrant["key"]), key=lambda r: r["budget_seconds"])
        if not part:
            continue
        fig.add_scatter(
            x=[r["seconds"] for r in part],
            y=[r["accuracy"] for r in part],
            mode="lines+markers",
            name=entrant["title"],
            line=dict(color=COLORS[i % len(COLORS)]),
            marker=dict(size=9),
            error_y=dict(
                type="data",
                symmetric=False,
                array=[r["high"] - r["accuracy"] for r in part],
                arrayminus=[r["accuracy"] - r["low"] for r in part],
                thickness=1.2,
                width=4,
            ),
            customdata=[[r["budget_seconds"], r["epochs"], r["n"], r["low"], r["high"]] for r in part],
            hovertemplate=(
                "%{fullData.name}<br>budget %{customdata[0]:,} s: %{customdata[1]} epochs, %{x:,.0f} s of training"
                "<br>validation %{y:.2%} (mean of %{customdata[2]} seeds; %{customdata[3]:.2%}–%{customdata[4]:.2%})"
                "<extra></extra>"
            ),
        )
    fig.update_xaxes(type="log", title="training seconds on this machine (log scale)")
    fig.update_yaxes(tickformat=".1%", title="validation accuracy")
    return base_layout(fig, height=420, legend=dict(orientation="h", y=-0.25, x=0), margin=dict(l=70, r=20, t=20, b=90))
