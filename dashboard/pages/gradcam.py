"""/gradcam?run=…&index=…: where a CNN looks when it classifies a test photo (or your own upload).

The view lives in the URL (run, index, target, method, layer), so every view is a shareable link;
controls only rewrite the URL. Only the overlay opacity is local.
"""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import urlencode

import dash
import dash_bootstrap_components as dbc
import numpy as np
from dash import Input, Output, Patch, State, callback, dcc, html, no_update

from core import data, explain
from core.evaluation import analysis
from core.store import RunError
from dashboard import runs_view, state
from dashboard.components import gradcam_controls
from dashboard.components import gradcam_notes as notes
from dashboard.components.cards import STATIC_CONFIG
from dashboard.components.upload_card import too_big, upload_card, upload_result
from dashboard.figures import gradcam as figs

dash.register_page(__name__, path="/gradcam", name="Grad-CAM", order=5, title="Grad-CAM · Fashion-MNIST Studio")

STATIC: Any = STATIC_CONFIG


def _int(value, default: int | None) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None if value not in (None, "") else default


# run pickers search the run index as you type (never every run at once)
callback(*runs_view.search_io("gradcam-run"), prevent_initial_call=True)(runs_view.searcher("deep"))


def layout(
    run: str | None = None,
    index: str | None = None,
    target: str = "predicted",
    method: str | None = None,
    layer: str | None = None,
    **_query,
) -> html.Div:
    run = run if run is not None else runs_view.default_run("deep")
    record, problem = runs_view.resolve_run(run, family="deep")
    measured = notes.default_view(record) if record is not None else None
    opened = method is None and layer is None  # the page chooses: the measured default, on a clear photo
    chosen = measured if opened else None
    method = method or (chosen["method"] if chosen else "gradcam")
    layer = layer or (chosen["layer"] if chosen else None)
    stand_in = notes.stand_in_note(_query.get("from"), record)
    idx = _int(index, chosen.get("photo", 0) if chosen and index is None else 0)
    if problem is None and (idx is None or not 0 <= idx < 10000):
        problem = f"“{str(index)[:40]}” is not a test image number: use 0 to 9999."
    top = [
        html.H2("Where does the model look?"),
        html.P(
            f"The heatmap, here made with {notes.method_label(method)}, colours the parts of a photo that pushed "
            "the model towards a class: red pushed most, blue hardly at all.",
            className="text-muted",
            id="gradcam-intro",
        ),
        dcc.Location(id="gradcam-location", refresh="callback-nav"),
        stand_in,
        notes.faithfulness_note(measured, method, layer, opened) if record is not None else None,
    ]
    layers: list[str] = []
    views: list = []
    if record is not None and problem is None:
        try:
            layers = explain.layers_of_run(record["run_id"], state.store())
            views = _cached_views(record["run_id"], _model_version(record["run_id"]), idx, target, method, layer)
        except (RunError, ValueError) as exc:
            problem = str(exc).rstrip(".") + "."
    controls = gradcam_controls.controls(record["run_id"] if record else None, idx or 0, target, method, layer, layers)
    if problem is None:
        return html.Div([*top, controls, *views, upload_card()])
    return html.Div([*top, controls, dbc.Alert(problem, color="warning", id="gradcam-problem"), upload_card()])


def _model_version(run_id: str) -> tuple:
    path, _artifact = state.store().model_file(run_id)
    stat = path.stat()
    return (stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=128)
def _cached_views(run_id: str, _version: tuple, idx: int, target: str, method: str, layer: str | None) -> list:
    """The explanation panels of one view: deterministic for a model file version, so a shared link
    or a revisit is served from memory (the components are only serialised, never changed)."""
    return _views(run_id, idx, target, method, layer)


def _views(run_id: str, idx: int, target: str, method: str, layer: str | None) -> list:
    result = explain.explain_test_image(run_id, idx, target=target, layer=layer, method=method, store=state.store())
    image = data.load().x_test[idx]
    heat = result["heatmap"]
    panels = dbc.Row(
        [
            dbc.Col(
                dcc.Graph(id="gradcam-original", figure=figs.image_panel(image, f"Test photo #{idx}"), config=STATIC),
                md=4,
            ),
            dbc.Col(
                dcc.Graph(
                    id="gradcam-heat",
                    figure=figs.heat_panel(heat, f"Heatmap for “{result['target_class']}”"),
                    config=STATIC,
                ),
                md=4,
            ),
            dbc.Col(
                [
                    dcc.Graph(
                        id="gradcam-overlay", figure=figs.overlay_panel(image, heat, 0.5, "Overlay"), config=STATIC
                    ),
                    html.Div(  # padded: the end labels ("photo", "heatmap") stay inside the page
                        dcc.Slider(  # no value box: it sat on top of the "heatmap" label
                            id="gradcam-opacity",
                            min=0,
                            max=1,
                            step=0.05,
                            value=0.5,
                            marks={0: "photo", 1: "heatmap"},
                            allow_direct_input=False,
                        ),
                        className="px-4",
                    ),
                ],
                md=4,
            ),
        ],
        className="g-2",
    )
    verdict = "right" if result["true_class"] == result["predicted_class"] else "wrong"
    head = dbc.Alert(
        [
            html.Strong(
                f"True class: {result['true_class']}. The model says {result['predicted_class']} "
                f"({100 * result['probabilities'][result['predicted_class']]:.1f} % sure) — {verdict}. "
            ),
            analysis.describe_heatmap(heat, image, result["target_class"]),
        ],
        color="success" if verdict == "right" else "danger",
        id="gradcam-caption",
    )
    blocks = [
        head,
        panels,
        _why_not(run_id, idx, result, image, method, layer),
        dbc.Card(
            [
                dbc.CardHeader(html.H5("How sure is the model?", className="mb-0")),
                dbc.CardBody(
                    dcc.Graph(
                        id="gradcam-proba",
                        figure=figs.probability_bars(
                            result["probabilities"], result["predicted_class"], result["true_class"]
                        ),
                    )
                ),
            ],
            className="mt-3",
        ),
    ]
    return [b for b in blocks if b is not None]


def _why_not(run_id, idx, result, image, method, layer):
    """Predicted- and true-class heatmaps side by side when the model is wrong."""
    if result["true_class"] == result["predicted_class"]:
        return None

    def for_target(name: str, index: int) -> dict:
        if result["target_index"] == index:  # already computed for the main panels
            return result
        return explain.explain_test_image(run_id, idx, target=name, layer=layer, method=method, store=state.store())

    other = for_target("true", data.CLASS_NAMES.index(result["true_class"]))
    pred = for_target("predicted", result["predicted_index"])
    return dbc.Card(
        [
            dbc.CardHeader(
                html.H5(f"Why {result['predicted_class']} and not {result['true_class']}?", className="mb-0")
            ),
            dbc.CardBody(
                [
                    dbc.Row(
                        [
                            dbc.Col(
                                dcc.Graph(
                                    id="gradcam-why-predicted",
                                    figure=figs.overlay_panel(
                                        image,
                                        pred["heatmap"],
                                        0.55,
                                        f"evidence for “{pred['target_class']}” (its answer)",
                                    ),
                                    config=STATIC,
                                ),
                                md=6,
                            ),
                            dbc.Col(
                                dcc.Graph(
                                    id="gradcam-why-true",
                                    figure=figs.overlay_panel(
                                        image,
                                        other["heatmap"],
                                        0.55,
                                        f"evidence for “{other['target_class']}” (the truth)",
                                    ),
                                    config=STATIC,
                                ),
                                md=6,
                            ),
                        ]
                    ),
                    html.P(
                        [
                            analysis.describe_heatmap(pred["heatmap"], image, pred["target_class"]),
                            " ",
                            analysis.describe_heatmap(other["heatmap"], image, other["target_class"]),
                        ],
                        className="small mb-0",
                    ),
                ]
            ),
        ],
        className="mt-3",
        id="gradcam-why",
    )


@callback(
    Output("gradcam-upload-result", "children"),
    Input("gradcam-upload", "contents"),
    State("gradcam-upload", "filename"),
    State("gradcam-run", "value"),
    prevent_initial_call=True,
)
def explain_upload(contents, filename, run_id):
    return upload_result(contents, filename, run_id)


@callback(
    Output("gradcam-upload-result", "children", allow_duplicate=True),
    Input("gradcam-upload-too-big", "data"),
    prevent_initial_call=True,
)
def refuse_large_upload(data):
    """A photo over the limit, refused by the browser before sending: its name and size replace any
    earlier message."""
    return too_big(data) or no_update


@callback(Output("gradcam-overlay", "figure"), Input("gradcam-opacity", "value"), prevent_initial_call=True)
def set_opacity(opacity):
    if isinstance(opacity, bool) or not isinstance(opacity, (int, float)) or not 0 <= opacity <= 1:
        return no_update  # the slider sends 0-1; anything else is a tampered request
    patched = Patch()
    patched["data"][1]["opacity"] = float(opacity)
    return patched


@callback(Output("gradcam-index", "invalid"), Input("gradcam-index", "value"), prevent_initial_call=True)
def check_index(value):
    """A photo number outside 0–9999 (or not a number: the browser then sends nothing) is said at once."""
    number = _int(value, None)
    return number is None or not 0 <= number < 10000


@callback(
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
)
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
        label = _int(pick_class, None)
        photos = np.flatnonzero(data.load().y_test == label) if label is not None else np.array([], dtype=int)
        if not len(photos):  # no class chosen, or one with no photos (a tampered value)
            return no_update
        index = int(rng.choice(photos))
    if trigger == "gradcam-run" or layer == explain.INPUT:
        layer = None  # layers differ between models; pixel-level methods have none
    index = _int(index, 0) if index is not None else None
    if index is None or not isinstance(run_id, str):
        return no_update  # not a photo number (the page says so when it is typed in the address)
    query = {"run": run_id, "index": index, "target": target, "method": method}
    if layer:
        query["layer"] = layer
    return "?" + urlencode(query)
