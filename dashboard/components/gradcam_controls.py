"""The /gradcam controls: run, test photo (random, random mistake, random of a class), the class to
explain, the method and the layer. Each control only rewrites the page's address."""

from __future__ import annotations

from urllib.parse import urlencode

import dash
import dash_bootstrap_components as dbc
import numpy as np
from dash import Input, Output, State, callback, dcc, no_update

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


def photo_number(value, default: int | None) -> int | None:
    """A test photo number from the address or the box; `default` when absent, None when not a number."""
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None if value not in (None, "") else default


def check_index(value):
    """A photo number outside 0–9999 (or not a number: the browser then sends nothing) is said at once."""
    number = photo_number(value, None)
    return number is None or not 0 <= number < 10000


def navigate(run_id, index, _r, _m, _c, target, method, layer, pick_class):
    trigger = dash.ctx.triggered_id
    rng = np.random.default_rng()
    if trigger == "gradcam-random":
        index = int(rng.integers(0, 10000))
    elif trigger == "gradcam-mistake":
        preds, _problem = runs_view.predictions_for(run_id)
        if preds is None:  # deleted or damaged meanwhile: the page itself will say so
            index = 0
        else:
            wrong = np.flatnonzero(preds["y_pred"] != preds["y_true"])
            index = int(rng.choice(wrong)) if len(wrong) else 0
    elif trigger == "gradcam-random-class":
        label = photo_number(pick_class, None)
        photos = np.flatnonzero(data.load().y_test == label) if label is not None else np.array([], dtype=int)
        if not len(photos):  # no class chosen, or one with no photos (a tampered value)
            return no_update
        index = int(rng.choice(photos))
    if trigger == "gradcam-run" or layer == explain.INPUT:
        layer = None  # layers differ between models; pixel-level methods have none
    index = photo_number(index, 0) if index is not None else None
    if index is None or not isinstance(run_id, str):
        return no_update  # not a photo number (the page says so when it is typed in the address)
    query = {"run": run_id, "index": index, "target": target, "method": method}
    if layer:
        query["layer"] = layer
    return "?" + urlencode(query)


def register() -> None:
    """Wire the controls' callbacks (the page calls it each time Dash loads the page module)."""
    # the run picker searches the run index as you type (never every run at once)
    callback(*runs_view.search_io("gradcam-run"), prevent_initial_call=True)(runs_view.searcher("deep"))
    callback(Output("gradcam-index", "invalid"), Input("gradcam-index", "value"), prevent_initial_call=True)(
        check_index
    )
    callback(
        Output("gradcam-location", "search"),
        Input("gradcam-run", "value"),
        Input("gradcam-index", "value"),
        Input("gradcam-random", "n_clicks"),
        Input("gradcam-mistake", "n_clicks"),
        Input("gradcam-random-class", "n_clicks"),
        Input("gradcam-target", "value"),
        Input("gradcam-method", "value"),
        Input("gradcam-layer", "value"),
        State("gradcam-pick-class", "value"),
        prevent_initial_call=True,
    )(navigate)
