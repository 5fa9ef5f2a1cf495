"""The /gradcam controls: run, test photo (random, random mistake, random of a class), the class to
explain, the method and the layer. Each control only rewrites the page's address."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc

from core import data, explain
from dashboard import runs_view
from dashboard.components import gradcam_notes as notes
from dashboard.components.layers import layer_label

CLASS_OPTIONS = [{"label": f"{i} · {n}", "value": str(i)} for i, n in enumerate(data.CLASS_NAMES)]


def controls(run_id, idx, target, method, layer, layers: list[str]) -> dbc.Card:
    layer_options = [{"label": layer_label(n, i, len(layers)), "value": n} for i, n in enumerate(layers)]
    return dbc.Card(
        dbc.CardBody(
            dbc.Row(
                [
                    dbc.Col(
                        [
                            dbc.Label("CNN run", className="small fw-semibold mb-0"),
                            dcc.Dropdown(
                                id="gradcam-run",
                                options=runs_view.picker_options(family="deep"),
                                value=run_id,
                                clearable=False,
                            ),
                        ],
                        lg=4,
                    ),
                    dbc.Col(
                        [
                            dbc.Label("Test photo", className="small fw-semibold mb-0"),
                            dbc.InputGroup(
                                [
                                    dbc.Input(
                                        id="gradcam-index",
                                        type="number",
                                        value=idx,
                                        min=0,
                                        max=9999,
                                        step=1,
                                        debounce=True,
                                    ),
                                    dbc.Button("Random", id="gradcam-random", color="primary", n_clicks=0),
                                    dbc.Button(
                                        "Random mistake", id="gradcam-mistake", color="danger", outline=True, n_clicks=0
                                    ),
                                    dbc.FormFeedback(
                                        "Use a test photo number from 0 to 9999.",
                                        id="gradcam-index-feedback",
                                        type="invalid",
                                    ),
                                ],
                                className="has-validation",
                            ),
                            dbc.InputGroup(
                                [
                                    dbc.Select(id="gradcam-pick-class", options=CLASS_OPTIONS, placeholder="a class…"),
                                    dbc.Button(
                                        "Random of class",
                                        id="gradcam-random-class",
                                        color="secondary",
                                        outline=True,
                                        n_clicks=0,
                                    ),
                                ],
                                size="sm",
                                className="mt-1",
                            ),
                        ],
                        lg=4,
                    ),
                    dbc.Col(
                        [
                            dbc.Label("Explain which class", className="small fw-semibold mb-0"),
                            dbc.Select(
                                id="gradcam-target",
                                value=str(target),
                                options=[
                                    {"label": "the predicted class", "value": "predicted"},
                                    {"label": "the true class", "value": "true"},
                                    *CLASS_OPTIONS,
                                ],
                            ),
                            dbc.RadioItems(
                                id="gradcam-method",
                                options=notes.METHOD_OPTIONS,
                                value=method,
                                inline=True,
                                className="mt-1 small",
                            ),
                            dcc.Dropdown(
                                id="gradcam-layer",
                                options=layer_options,
                                value=None if layer == explain.INPUT else layer,
                                placeholder="the photo's pixels (no layer)"
                                if method in explain.INPUT_METHODS
                                else "last conv layer",
                                disabled=method in explain.INPUT_METHODS,
                                className="small",
                            ),
                        ],
                        lg=4,
                    ),
                ],
                className="g-2",
            )
        ),
        className="mb-3",
    )
