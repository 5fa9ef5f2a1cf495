"""Cards: a titled figure with its caption and controls; a small statistic tile."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

GRAPH_CONFIG: Any = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}
# photos and photo grids: no mode bar (it would cover a panel title or the top-right photo)
STATIC_CONFIG: Any = {"displayModeBar": False}


def figure_card(
    title: str,
    graph_id,
    figure,
    caption: str | None = None,
    controls=None,
    extra=None,
    loading: bool = True,
    photos: bool = False,
) -> dbc.Card:
    """A card holding one interactive figure, optional controls above it and a caption below.
    `photos`: the figure shows photos, so it gets no mode bar over them."""
    graph = dcc.Graph(id=graph_id, figure=figure, config=STATIC_CONFIG if photos else GRAPH_CONFIG)
    body: list[Any] = [html.Div(controls, className="mb-2")] if controls else []
    body.append(dcc.Loading(graph, type="circle", delay_show=300) if loading else graph)
    if extra is not None:
        body.append(extra)
    if caption:
        body.append(html.P(caption, className="caption text-muted small mt-2 mb-0"))
    return dbc.Card([dbc.CardHeader(html.H5(title, className="mb-0")), dbc.CardBody(body)], className="h-100")


def stat_tile(label: str, value: str, hint: str | None = None, tile_id: str | None = None) -> dbc.Card:
    """A big number with a label (e.g. 'Best test accuracy 93.4 %')."""
    props: dict[str, Any] = {"id": tile_id} if tile_id else {}
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(label, className="text-muted small text-uppercase"),
                html.Div(value, className="fs-3 fw-bold", **props),
                html.Div(hint, className="small text-muted") if hint else None,
            ]
        ),
        className="h-100 stat-tile",
    )
