"""Figures of the Errors and Leaderboard pages: confusion matrix, accuracy bars, per-class F1."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

from dashboard.figures.style import FAMILY_COLORS, base_layout

# light-to-medium scales so the black cell numbers stay readable on every cell
MISTAKE_SCALE = [[0.0, "#fff7f3"], [1.0, "#ef6548"]]
CORRECT_SCALE = [[0.0, "#f7fcf5"], [1.0, "#41ab5d"]]


def confusion_heatmap(matrix: np.ndarray, class_names: list[str], normalised: bool = False) -> go.Figure:
    """Confusion matrix (rows true, columns predicted) with counts; the diagonal in its own colour.

    With `normalised`, cells show the share of each true class; hover always gives the count.
    """
    counts = np.asarray(matrix)
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    values = shares if normalised else counts.astype(float)
    diagonal = np.eye(len(class_names), dtype=bool)
    text = [
        [f"{100 * shares[i, j]:.1f}%" if normalised else f"{counts[i, j]}" for j in range(len(class_names))]
        for i in range(len(class_names))
    ]
    custom = np.dstack([counts, shares])
    hover = "true %{y}<br>predicted %{x}<br>%{customdata[0]} photos (%{customdata[1]:.1%} of the row)<extra></extra>"
    fig = go.Figure()
    for mask, scale, name in ((~diagonal, MISTAKE_SCALE, "mistakes"), (diagonal, CORRECT_SCALE, "correct")):
        z = np.where(mask, values, np.nan)
        upper = np.nanmax(z) if np.isfinite(z).any() else 1
        fig.add_heatmap(
            z=z,
            x=class_names,
            y=class_names,
            colorscale=scale,
            zmin=0,
            zmax=max(upper, 1e-9),
            text=text,
            texttemplate="%{text}",
            textfont=dict(color="#1b2631"),
            customdata=custom,
            hovertemplate=hover,
            showscale=False,
            name=name,
            xgap=1,
            ygap=1,
        )
    fig.update_yaxes(autorange="reversed", title="true class", type="category")
    fig.update_xaxes(title="predicted class", side="bottom", type="category", tickangle=-30)
    return base_layout(fig, height=560, margin=dict(l=110, r=20, t=20, b=100))


def accuracy_bars(rows: list[dict[str, Any]]) -> go.Figure:
    """Test accuracy per run, sorted, coloured deep vs classic, with its 95 % interval as an error bar."""
    ordered = sorted(rows, key=lambda r: r["test_accuracy"])

    def bar_label(r: dict[str, Any]) -> str:
        return f"{r.get('name') or r['model']} · {r['run_id']}"

    fig = go.Figure()
    for family, label in (
        ("deep", "deep learning (Keras)"),
        ("classic", "classic (scikit-learn)"),
        ("ensemble", "ensemble (averaged runs)"),
        ("imported", "imported (trained elsewhere)"),
    ):
        part = [r for r in ordered if r["family"] == family]
        fig.add_bar(
            y=[bar_label(r) for r in part],
            x=[r["test_accuracy"] for r in part],
            orientation="h",
            name=label,
            marker_color=FAMILY_COLORS[family],
            text=[f"{100 * r['test_accuracy']:.2f}%" for r in part],
            textposition="outside",
            customdata=[[r["run_id"], r.get("ci_text") or "not known"] for r in part],
            error_x=dict(
                type="data",
                symmetric=False,
                array=[(r.get("ci_high") or r["test_accuracy"]) - r["test_accuracy"] for r in part],
                arrayminus=[r["test_accuracy"] - (r.get("ci_low") or r["test_accuracy"]) for r in part],
                color="#2c3e50",
                thickness=1.2,
                width=3,
            ),
            hovertemplate="%{y}<br>test accuracy %{x:.2%}<br>95 % interval %{customdata[1]}<extra></extra>",
        )
    # bars start at 0 so their lengths compare honestly; the labels carry the exact differences
    fig.update_xaxes(range=[0.0, 1.12], tickvals=[0, 0.2, 0.4, 0.6, 0.8, 1.0], tickformat=".0%", title="test accuracy")
    fig.update_yaxes(categoryorder="array", categoryarray=[bar_label(r) for r in ordered])
    return base_layout(
        fig,
        height=max(300, 34 * len(rows) + 120),
        legend=dict(orientation="h", y=-0.15, x=0),
        margin=dict(l=260, r=40, t=48, b=60),  # the mode bar sits above the top bar, not on it
    )


def per_class_f1(runs: dict[str, list[dict[str, Any]]], class_names: list[str]) -> go.Figure:
    """Grouped bars of per-class F1 for several runs side by side."""
    fig = go.Figure()
    for label, per_class in runs.items():
        fig.add_bar(
            name=label,
            x=class_names,
            y=[row["f1"] for row in per_class],
            hovertemplate=label + "<br>%{x}: F1 %{y:.3f}<extra></extra>",
        )
    fig.update_yaxes(title="F1 score", range=[0, 1.02])
    return base_layout(fig, height=380, barmode="group", legend=dict(orientation="h", y=-0.25, x=0))


def reliability(after: list[dict[str, Any]], before: list[dict[str, Any]] | None = None) -> go.Figure:
    """A reliability diagram: for each confidence bin (equal width) with photos in it, the share of its
    photos answered right against the mean confidence, after calibration (markers sized by the photos
    in the bin, their count on hover) and, fainter, before; the diagonal is a perfectly calibrated model."""
    fig = go.Figure()
    fig.add_scatter(
        x=[0, 1], y=[0, 1], mode="lines", name="perfectly calibrated", line=dict(color="#95a5a6", dash="dot")
    )
    total = max(1, sum(b["count"] for b in after))
    for rows, name, color, opacity in (
        (before or [], "the model's own scores", "#e67e22", 0.55),
        (after, "calibrated", "#2c3e50", 1.0),
    ):
        if not rows:
            continue
        fig.add_scatter(
            x=[b["confidence"] for b in rows],
            y=[b["accuracy"] for b in rows],
            mode="lines+markers",
            name=name,
            opacity=opacity,
            line=dict(color=color),
            marker=dict(size=[6 + 24 * (b["count"] / total) ** 0.5 for b in rows], color=color),
            customdata=[[b["count"], b["low"], b["high"]] for b in rows],
            hovertemplate=(
                "confidence %{customdata[1]:.0%}–%{customdata[2]:.0%}: %{customdata[0]:,} photos<br>"
                "mean confidence %{x:.1%}, right %{y:.1%}<extra>" + name + "</extra>"
            ),
        )
    fig.update_xaxes(range=[0, 1.02], tickformat=".0%", title="how sure the model says it is (test photos)")
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%", title="how often it is right")
    return base_layout(fig, height=380, legend=dict(orientation="h", y=-0.25, x=0), margin=dict(l=70, r=20, t=20, b=90))
