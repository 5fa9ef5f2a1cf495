"""Figures of an ablation study: the forest plot of each technique's effect (grouped by budget), the
interaction plots of a factorial study, and one technique's curves."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from core.ablation import claims, wording
from dashboard.figures.style import base_layout, empty_figure

HELPS, HURTS, HINT, NOISE = (claims.STYLE[k][1] for k in ("helps", "hurts", "hint", "noise"))
BASE_COLOR = "#7b8a8b"
SYMBOLS = ["diamond", "circle", "square", "triangle-up", "x"]


def variant_label(v: dict[str, Any]) -> str:
    return wording.named(v)


def _color(row: dict[str, Any]) -> str:
    return claims.colour(row)


def forest_plot(summary: dict[str, Any]) -> go.Figure:
    """Each technique's effect on validation accuracy (having it against not, in points) with its
    unadjusted 95 % interval; one marker shape per budget, side by side. Green or red only when the
    effect stays measurable after the Holm adjustment, amber when only the unadjusted interval clears
    zero, grey otherwise. Click a row for its runs' curves."""
    rows = wording.forest_rows(summary)
    if not rows:
        return empty_figure(
            "No technique has two finished pairs of runs yet (an interval needs two seeds).", height=360
        )
    budgets = list(dict.fromkeys(r["budget"] for r in rows))
    order = sorted({r["label"] for r in rows}, key=lambda lab: max(r["effect"] for r in rows if r["label"] == lab))
    fig = go.Figure()
    for i, budget in enumerate(budgets):
        part = sorted((r for r in rows if r["budget"] == budget), key=lambda r: order.index(r["label"]))
        fig.add_scatter(
            x=[100 * r["effect"] for r in part],
            y=[r["label"] for r in part],
            mode="markers",
            name=budget,
            offsetgroup=str(i),
            marker=dict(size=12, color=[_color(r) for r in part], symbol=SYMBOLS[i % len(SYMBOLS)]),
            error_x=dict(
                type="data",
                symmetric=False,
                array=[100 * (r["ci95"][1] - r["effect"]) for r in part],
                arrayminus=[100 * (r["effect"] - r["ci95"][0]) for r in part],
                thickness=2,
                width=6,
            ),
            customdata=[[r["key"], r.get("budget_key", ""), budget] for r in part],
            hovertemplate="%{y}<br>%{x:+.2f} points at %{customdata[2]}<extra>click for its curves</extra>",
        )
    fig.add_vline(x=0, line=dict(color=BASE_COLOR, dash="dash"))
    fig.update_xaxes(title="effect of the technique on validation accuracy (points)", zeroline=False)
    fig.update_yaxes(automargin=True, categoryorder="array", categoryarray=order)
    several = len(budgets) > 1
    return base_layout(
        fig,
        height=max(320, (30 + 18 * len(budgets)) * len(order) + 140),
        margin=dict(l=20, r=20, t=50 if several else 20, b=60),
        scattermode="group",
        showlegend=several,
        legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0, title=dict(text="budget: ")),
    )


def interaction_plot(effect: dict[str, Any]) -> go.Figure:
    """A two-technique interaction of a factorial study: mean validation accuracy at the four level
    pairs, one line per level of the second factor (parallel lines: no interaction)."""
    means = effect["cell_means"]
    first, second = effect["name"].split(" × ", 1)
    fig = go.Figure()
    for b, label, dash in ((-1, effect["low_label_2"], "dot"), (1, effect["high_label_2"], "solid")):
        ys = [means.get(f"{a:+d}{b:+d}") for a in (-1, 1)]
        fig.add_scatter(
            x=[effect["low_label"], effect["high_label"]],
            y=[None if y is None else 100 * y for y in ys],
            mode="lines+markers",
            name=f"{second}: {label}",
            line=dict(dash=dash, color=HELPS if b > 0 else BASE_COLOR),
            hovertemplate="%{x}: %{y:.2f} %<extra>%{fullData.name}</extra>",
        )
    fig.update_xaxes(title=first, type="category")
    fig.update_yaxes(title="mean validation accuracy (%)")
    return base_layout(
        fig, height=300, margin=dict(l=20, r=20, t=30, b=60), legend=dict(orientation="h", y=1.02, yanchor="bottom")
    )


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
