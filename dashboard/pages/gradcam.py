"""/gradcam?run=…&index=…: where a CNN looks when it classifies a test photo (or your own upload).

The view lives in the URL (run, index, target, method, layer), so every view is a shareable link;
controls only rewrite the URL. Only the overlay opacity is local.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from core import explain
from core.store import RunError
from dashboard import runs_view, state
from dashboard.components import gradcam_controls, gradcam_views
from dashboard.components import gradcam_notes as notes
from dashboard.components.upload_card import too_big, upload_card, upload_result

dash.register_page(__name__, path="/gradcam", name="Grad-CAM", order=5, title="Grad-CAM · Fashion-MNIST Studio")

gradcam_controls.register()
gradcam_views.register()


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
    idx = gradcam_controls.photo_number(index, chosen.get("photo", 0) if chosen and index is None else 0)
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
            views = gradcam_views.cached_views(
                record["run_id"], gradcam_views.model_version(record["run_id"]), idx, target, method, layer
            )
        except (RunError, ValueError) as exc:
            problem = str(exc).rstrip(".") + "."
    controls = gradcam_controls.controls(record["run_id"] if record else None, idx or 0, target, method, layer, layers)
    if problem is None:
        return html.Div([*top, controls, *views, upload_card()])
    return html.Div([*top, controls, dbc.Alert(problem, color="warning", id="gradcam-problem"), upload_card()])


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
