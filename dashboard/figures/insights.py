"""Figures of an ablation study: the forest plot of each technique's effect, and one technique's curves."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from dashboard.figures.style import base_layout, empty_figure

HELPS, HURTS, NOISE = "#18bc9c", "#e74c3c", "#95a5a6"
BASE_COLOR = "#7b8a8b"


def variant_label(v: dict[str, Any]) -> str:
    return f"{v['technique']} ({v['change']})"


def forest_plot(summary: dict[str, Any]) -> go.Figure:
    """Each variant's mean change in validation accuracy from the base (points) with its 95 % interval
    over seeds; grey where the interval crosses zero (no measurable effect). Click a row for its curves."""
    rows = [v for v in summary["variants"] if v["effect"] is not None]
    if not rows:
        return empty_figure("No variant has a finished pair of runs yet.", height=360)
    rows = sorted(rows, key=lambda v: v["effect"])
    x = [100 * v["effect"] for v in rows]
    lows = [100 * (v["effect"] - v["effect_ci95"][0]) if v["effect_ci95"] else 0 for v in rows]
    highs = [100 * (v["effect_ci95"][1] - v["effect"]) if v["effect_ci95"] else 0 for v in rows]
    colors = [(HELPS if v["effect"] > 0 else HURTS) if v["measurable"] else NOISE for v in rows]
    labels = [variant_label(v) for v in rows]
    seconds = [f"{v['seconds']:.0f} s a run" if v["seconds"] is not None else "time not known" for v in rows]
    fig = go.Figure(
        go.Scatter(
            x=x,
            y=labels,
            mode="markers",
            marker=dict(size=12, color=colors, symbol="diamond"),
            error_x=dict(type="data", symmetric=False, array=highs, arrayminus=lows, thickness=2, width=6),
            customdata=[[v["key"], s, v["seeds"]] for v, s in zip(rows, seconds, strict=True)],
            hovertemplate="%{y}<br>%{x:+.2f} points against the base<br>%{customdata[2]} seeds · "
            "%{customdata[1]}<extra>click for its curves</extra>",
            showlegend=False,
        )
    )
    fig.add_vline(x=0, line=dict(color=BASE_COLOR, dash="dash"))
    fig.update_xaxes(title="change in validation accuracy from the base recipe (points)", zeroline=False)
    fig.update_yaxes(automargin=True)
    return base_layout(fig, height=max(320, 48 * len(rows) + 120), margin=dict(l=20, r=20, t=20, b=60))


def variant_curves(runs: dict[str, list[dict[str, Any]]], title: str) -> go.Figure:
    """Validation accuracy per epoch of one variant's runs (coloured) against the base's (grey), one
    line per seed. `runs` maps a legend name ("base · seed 42") to that run's history."""
    if not any(runs.values()):
        return empty_figure("Click a technique in the plot to see its runs' curves.", height=320)
    fig = go.Figure()
    for name, history in runs.items():
        is_base = name.startswith("base")
        fig.add_scatter(
            x=[h["epoch"] for h in history],
            y=[h.get("val_accuracy") for h in history],
            mode="lines+markers",
            name=name,
            line=dict(color=BASE_COLOR if is_base else HELPS, dash="dot" if is_base else "solid"),
            hovertemplate="%{fullData.name}<br>epoch %{x}: %{y:.2%}<extra></extra>",
        )
    fig.update_xaxes(title="epoch", dtick=1)
    fig.update_yaxes(title="validation accuracy", tickformat=".0%")
    return base_layout(fig, height=320, title=dict(text=title, font=dict(size=14)), legend=dict(font=dict(size=11)))
