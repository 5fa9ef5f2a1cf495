"""/errors: a second run beside this one: the paired verdict and the photos where the two disagree."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from core.data import CLASS_NAMES
from core.evaluation import drilldown
from dashboard import runs_view
from dashboard.components import compare_panel
from dashboard.components import gallery as gal
from dashboard.components.errors.matrix import ids as matrix_ids

SHOWN = 30
TABS = ("a_right", "b_right", "neither")


class ids:
    """The block's component ids (stable: links and tests use them)."""

    picker = "errors-compare"
    body = "errors-disagree"
    verdict = "errors-verdict"
    summary = "errors-disagree-summary"
    tabs = "errors-disagree-tabs"
    gallery = "errors-disagree-gallery"
    problem = "errors-compare-problem"


def block(run_id: str, compare: str | None) -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(html.H5("Compare with another run", className="mb-0")),
            dbc.CardBody(
                [
                    dcc.Dropdown(
                        id=ids.picker,
                        value=compare,
                        placeholder="Choose a second run",
                        options=[o for o in runs_view.picker_options(keep=compare) if o["value"] != run_id],
                    ),
                    html.Div(id=ids.body, className="mt-3"),
                ]
            ),
        ],
        className="mt-3",
    )


def _gallery(record, a, b, diff, key: str) -> html.Div:
    """The photos of one disagreement tab, most confident first (only the tab on screen is built)."""
    preds, other = (b, a) if key == "b_right" else (a, b)
    indices = diff[key]
    confidence = preds["proba"][indices, preds["y_pred"][indices]]
    ordered = indices[(-confidence).argsort(kind="stable")]
    notes = {int(i): f"other said {CLASS_NAMES[int(other['y_pred'][i])]}" for i in ordered[:SHOWN]}
    return gal.gallery(ordered, preds, runs_view.gradcam_run_for(record), 1, notes)


def _summary(run_id: str, other_id: str, diff, photos: int) -> str:
    counts = diff["counts"]
    return (
        f"The two runs disagree on {diff['total']} of {photos:,} photos: {run_id} is right on "
        f"{counts['a_right']}, {other_id} on {counts['b_right']}, and both are wrong on "
        f"{counts['neither']}. Showing up to {SHOWN} of each, most confident first."
    )


def compare_runs(other_id, run_id):
    if not other_id or not run_id:
        return html.Div("Pick a second run to see the photos where the two models disagree.", className="text-muted")
    got, other = runs_view.usable(run_id), runs_view.usable(other_id)
    if isinstance(got, str) or isinstance(other, str):
        return dbc.Alert(got if isinstance(got, str) else other, color="warning", id=ids.problem)
    diff = drilldown.disagreements(got.preds, other.preds)
    names = {"a_right": f"{run_id} right", "b_right": f"{other_id} right", "neither": "both wrong"}
    tabs = [dbc.Tab(label=f"{label} ({len(diff[key])})", tab_id=key) for key, label in names.items()]
    return html.Div(
        [
            compare_panel.verdict_card(str(run_id), str(other_id), ids.verdict, link=False),
            html.P(_summary(run_id, other_id, diff, len(got.preds["y_true"])), id=ids.summary, className="mt-2"),
            dbc.Tabs(tabs, id=ids.tabs, active_tab="a_right"),
            dcc.Loading(html.Div(_gallery(got.record, got.preds, other.preds, diff, "a_right"), id=ids.gallery)),
        ]
    )


def show_tab(key, run_id, other_id):
    got, other = runs_view.usable(run_id), runs_view.usable(other_id)
    if isinstance(got, str) or isinstance(other, str):
        return dbc.Alert(got if isinstance(got, str) else other, color="warning")
    if key not in TABS:
        return no_update
    return _gallery(got.record, got.preds, other.preds, drilldown.disagreements(got.preds, other.preds), key)


def register() -> None:
    """Wire this block's callbacks. The page calls it each time Dash loads the page module, so every
    app (a test builds several in one process) gets them."""
    callback(*runs_view.search_io(ids.picker), prevent_initial_call=True)(runs_view.searcher())
    callback(Output(ids.body, "children"), Input(ids.picker, "value"), State(matrix_ids.run, "value"))(compare_runs)
    callback(
        Output(ids.gallery, "children"),
        Input(ids.tabs, "active_tab"),
        State(matrix_ids.run, "value"),
        State(ids.picker, "value"),
        prevent_initial_call=True,
    )(show_tab)
