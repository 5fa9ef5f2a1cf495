"""Shared look of every figure: class colours, layout defaults."""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

# Every figure uses plotly_white. As the default it is applied when a Figure is created, without
# re-validation; naming it in each update_layout re-validated and deep-copied the whole template,
# which was most of the time of a page render (measured: 0.8 of 1.4 s for five /gradcam renders).
pio.templates.default = "plotly_white"

# Tableau-10: distinguishable and colour-blind friendlier than plotly's default cycle.
CLASS_COLORS = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)
SPLIT_COLORS = {"train": "#2c3e50", "val": "#18bc9c", "test": "#f39c12"}
TRAIN_COLOR, VAL_COLOR = "#2c3e50", "#e74c3c"
FONT = dict(family="system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif", size=13)


def base_layout(fig: go.Figure, height: int | None = None, **extra) -> go.Figure:
    """Apply the common margins, font and template."""
    layout = {
        "font": FONT,
        "margin": dict(l=50, r=20, t=40, b=40),
        "hoverlabel": dict(font_size=12),
        **({"height": height} if height else {}),
    }
    layout.update(extra)
    fig.update_layout(**layout)
    return fig


def empty_figure(message: str, height: int = 300, width_chars: int = 46) -> go.Figure:
    """A blank figure that says why it is blank, its message wrapped so a narrow card never clips it."""
    import textwrap

    fig = go.Figure()
    fig.add_annotation(
        text="<br>".join(textwrap.wrap(message, width_chars)) or message,
        showarrow=False,
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        font=dict(size=14, color="#7b8a8b"),
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return base_layout(fig, height=height)


FAMILY_COLORS = {"deep": "#18bc9c", "classic": "#3498db", "ensemble": "#8e44ad", "imported": "#e67e22"}
