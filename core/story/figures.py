"""The story's figures: large, simple Plotly figures for slides and the report (plotly only, no Dash).

Each is a pure function of numbers the story read from the run store; no height is fixed, so a slide
sizes them to the screen and the report to the page."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

FONT = dict(family="system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif", size=16)
FAMILY = {"deep": "#18bc9c", "classic": "#3498db", "ensemble": "#8e44ad", "imported": "#e67e22"}
TRAIN, VAL = "#2c3e50", "#e74c3c"


def _layout(fig: go.Figure, **extra) -> go.Figure:
    settings = {"template": "plotly_white", "font": FONT, "margin": dict(l=20, r=30, t=30, b=50), "autosize": True}
    fig.update_layout(**{**settings, **extra})
    return fig


FAMILY_NAMES = {
    "deep": "neural network (CNN)",
    "classic": "classic model",
    "ensemble": "ensemble",
    "imported": "model imported from elsewhere",
}


def model_bars(rows: list[dict[str, Any]]) -> go.Figure:
    """Best test accuracy per kind of model, with its 95 % interval, coloured by family (one legend
    entry per family). The axis starts at 0, so bar lengths compare honestly."""
    rows = sorted(rows, key=lambda r: r["accuracy"])
    fig = go.Figure()
    for family in dict.fromkeys(r["family"] for r in rows):
        part = [r for r in rows if r["family"] == family]
        fig.add_bar(
            x=[100 * r["accuracy"] for r in part],
            y=[r["label"] for r in part],
            orientation="h",
            name=FAMILY_NAMES.get(family, str(family)),
            marker_color=FAMILY.get(family, "#95a5a6"),
            text=[f"{100 * r['accuracy']:.1f} %" for r in part],
            textposition="inside",
            insidetextanchor="end",
            textfont=dict(color="white"),
            error_x=dict(
                type="data",
                symmetric=False,
                array=[100 * (r["ci"][1] - r["accuracy"]) for r in part],
                arrayminus=[100 * (r["accuracy"] - r["ci"][0]) for r in part],
                color="#2c3e50",
            ),
            customdata=[r["run_id"] for r in part],
            hovertemplate="%{y}: %{x:.2f} %<extra></extra>",
        )
    fig.update_xaxes(title="test photos right (%, the axis starts at 0)", range=[0, 100])
    fig.update_yaxes(automargin=True, categoryorder="array", categoryarray=[r["label"] for r in rows])
    return _layout(fig, barmode="overlay", showlegend=True, legend=dict(orientation="h", y=-0.25, x=0))


def learning_curves(history: list[dict[str, Any]], best_epoch: int | None) -> go.Figure:
    """Accuracy per epoch on the training photos and on the validation photos."""
    epochs = [h["epoch"] for h in history]
    fig = go.Figure()
    for key, name, color in (("accuracy", "training photos", TRAIN), ("val_accuracy", "validation photos", VAL)):
        fig.add_scatter(
            x=epochs,
            y=[100 * h[key] if h.get(key) is not None else None for h in history],
            mode="lines+markers",
            name=name,
            line=dict(color=color, width=3),
            hovertemplate=name + ", epoch %{x}: %{y:.2f} %<extra></extra>",
        )
    if best_epoch is not None:
        fig.add_vline(x=best_epoch, line_dash="dot", line_color="#f39c12")
        fig.add_annotation(
            x=best_epoch, y=1, yref="paper", yanchor="bottom", text=f"best: epoch {best_epoch}", showarrow=False
        )
    fig.update_xaxes(title="epoch", dtick=max(1, len(epochs) // 10))
    fig.update_yaxes(title="photos right (%)")
    return _layout(fig, legend=dict(orientation="h", y=-0.2, x=0))


def confusion(matrix: np.ndarray, names: list[str]) -> go.Figure:
    """Share of each true class (rows) given each answer (columns), in per cent."""
    totals = matrix.sum(axis=1, keepdims=True)
    share = np.divide(100 * matrix, totals, out=np.zeros(matrix.shape), where=totals > 0)
    fig = go.Figure(
        go.Heatmap(
            z=share,
            x=names,
            y=names,
            colorscale="Blues",
            zmin=0,
            zmax=100,
            text=[[f"{v:.0f}" if v >= 1 else "" for v in row] for row in share],
            texttemplate="%{text}",
            customdata=matrix,
            hovertemplate="true %{y}, said %{x}: %{customdata} photos (%{z:.1f} %)<extra></extra>",
            colorbar=dict(title="%"),
        )
    )
    fig.update_yaxes(autorange="reversed", title="true class")
    fig.update_xaxes(title="the model said", tickangle=-30)
    return _layout(fig)


def explanation(image: np.ndarray, heat: np.ndarray, title: str) -> go.Figure:
    """The photo and the heatmap over it, side by side."""
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=("the photo", title), horizontal_spacing=0.04)
    fig.add_trace(go.Heatmap(z=image, colorscale="gray", reversescale=False, showscale=False, hoverinfo="skip"), 1, 1)
    fig.add_trace(go.Heatmap(z=image, colorscale="gray", showscale=False, hoverinfo="skip"), 1, 2)
    fig.add_trace(
        go.Heatmap(
            z=np.where(heat > 0.05, heat, np.nan), colorscale="Jet", opacity=0.55, zmin=0, zmax=1, showscale=False
        ),
        1,
        2,
    )
    for col in (1, 2):
        fig.update_xaxes(visible=False, row=1, col=col)
        fig.update_yaxes(visible=False, autorange="reversed", scaleanchor=f"x{col if col > 1 else ''}", row=1, col=col)
    return _layout(fig, margin=dict(l=10, r=10, t=40, b=10))


def effects(rows: list[dict[str, Any]]) -> go.Figure:
    """Each technique's effect on validation accuracy (points, having it against not) with its 95 %
    interval, from `core.ablation.wording.forest_rows`, in the verdict colours every page uses
    (core.ablation.claims.colour: green or red measurable, amber a hint, grey no effect)."""
    from core.ablation import claims

    rows = sorted(rows, key=lambda v: v["effect"])
    colors = [claims.colour(v) for v in rows]
    fig = go.Figure(
        go.Scatter(
            x=[100 * v["effect"] for v in rows],
            y=[v["label"] for v in rows],
            mode="markers",
            marker=dict(size=14, symbol="diamond", color=colors),
            error_x=dict(
                type="data",
                symmetric=False,
                array=[100 * (v["ci95"][1] - v["effect"]) for v in rows],
                arrayminus=[100 * (v["effect"] - v["ci95"][0]) for v in rows],
                thickness=2,
            ),
            hovertemplate="%{y}: %{x:+.2f} points<extra></extra>",
        )
    )
    fig.add_vline(x=0, line_dash="dash", line_color="#7b8a8b")
    fig.update_xaxes(title="effect of having it (points)")
    fig.update_yaxes(automargin=True)
    return _layout(fig, showlegend=False)


def recall_bars(per_class: list[dict[str, Any]]) -> go.Figure:
    """Share of each class's test photos found, with its 95 % interval, hardest first."""
    rows = sorted(per_class, key=lambda r: r["recall"])
    fig = go.Figure(
        go.Bar(
            x=[r["class"] for r in rows],
            y=[100 * r["recall"] for r in rows],
            marker_color=["#e74c3c" if i < 2 else "#18bc9c" for i in range(len(rows))],
            error_y=dict(
                type="data",
                symmetric=False,
                array=[100 * (r["recall_ci95"][1] - r["recall"]) for r in rows],
                arrayminus=[100 * (r["recall"] - r["recall_ci95"][0]) for r in rows],
            ),
            hovertemplate="%{x}: %{y:.1f} % found<extra></extra>",
        )
    )
    fig.update_yaxes(title="photos of the class found (%)", range=[0, 103])
    fig.update_xaxes(tickangle=-30)
    return _layout(fig, showlegend=False)


def study_budgets(rows: list[dict[str, Any]], full_epochs: int, full_photos: int) -> go.Figure:
    """Each ablation study's largest budget (epochs × training photos, in thousands of photo-passes)
    against the budget the presets train at (the dashed line): why none is cited yet."""
    rows = sorted(rows, key=lambda r: r["passes"])
    fig = go.Figure(
        go.Bar(
            x=[r["passes"] / 1000 for r in rows],
            y=[r["study"] for r in rows],
            orientation="h",
            marker_color=["#18bc9c" if r["passes"] >= full_epochs * full_photos else "#95a5a6" for r in rows],
            text=[r["words"] for r in rows],
            textposition="auto",
            hovertemplate="%{y}: %{text}<extra></extra>",
        )
    )
    fig.add_vline(
        x=full_epochs * full_photos / 1000,
        line_dash="dash",
        line_color="#e74c3c",
        annotation_text=f"the presets' budget: {full_epochs} epochs on all {full_photos:,} photos".replace(",", " "),
        annotation_position="top left",
    )
    fig.update_xaxes(title="photos seen in training per run (thousands)", rangemode="tozero")
    fig.update_yaxes(automargin=True)
    return _layout(fig, showlegend=False)


def study_runs(rows: list[dict[str, Any]], shown: str) -> go.Figure:
    """Validation accuracy of every finished run of one study (`rows`: run_id, label, val_accuracy),
    the run on screen (`shown`) in colour: where it stands among the runs it is compared with."""
    rows = sorted(rows, key=lambda r: r["val_accuracy"])
    fig = go.Figure(
        go.Bar(
            x=[100 * r["val_accuracy"] for r in rows],
            y=[r["label"] for r in rows],
            orientation="h",
            marker_color=["#2c3e50" if r["run_id"] == shown else "#95a5a6" for r in rows],
            hovertemplate="%{y}: %{x:.2f} % of the validation photos<extra></extra>",
        )
    )
    low = min(100 * r["val_accuracy"] for r in rows)
    fig.update_xaxes(title="validation photos right (%; the axis starts near the lowest run)", range=[low - 1, 100])
    fig.update_yaxes(automargin=True)
    return _layout(fig, showlegend=False)


RACE_COLORS = ("#18bc9c", "#e67e22", "#3498db", "#8e44ad", "#c0392b")


def race_curves(rows: list[dict[str, Any]], entrants: list[dict[str, Any]]) -> go.Figure:
    """`rows`: core.race.results.curve_rows; `entrants`: the race's entrants (key, title), in order."""
    if not rows:
        return _empty("No race run has finished yet.")
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
            line=dict(color=RACE_COLORS[i % len(RACE_COLORS)]),
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
    return _layout(fig, height=420, showlegend=True, legend=dict(orientation="h", y=-0.25, x=0))


def _empty(message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, font=dict(size=16))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, height=420)
