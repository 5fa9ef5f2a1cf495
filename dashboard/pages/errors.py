"""/errors?run=…: the confusion matrix of one run and the exact test photos behind every cell."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from core.data import CLASS_NAMES
from core.evaluation import drilldown, labels
from dashboard import runs_view
from dashboard.components import compare_panel, error_reports
from dashboard.components import gallery as gal
from dashboard.components.cards import figure_card
from dashboard.figures.errors import confusion_heatmap
from dashboard.figures.style import empty_figure

dash.register_page(__name__, path="/errors", name="Errors", order=4, title="Errors · Fashion-MNIST Studio")

NAMES = list(CLASS_NAMES)
callback(*error_reports.DOWNLOAD_IO, prevent_initial_call=True)(error_reports.download_suspects)
# run pickers search the run index as you type (never every run at once)
callback(*runs_view.search_io("errors-run"), prevent_initial_call=True)(runs_view.searcher())
callback(*runs_view.search_io("errors-compare"), prevent_initial_call=True)(runs_view.searcher())


def layout(run: str | None = None, compare: str | None = None, **_query) -> html.Div:
    run = run if run is not None else runs_view.default_run()
    record, problem = runs_view.resolve_run(run)
    header = [
        html.H2("Where the model goes wrong"),
        dbc.Row(
            [
                dbc.Col(
                    dcc.Dropdown(
                        id="errors-run",
                        options=runs_view.picker_options(),
                        value=record["run_id"] if record else None,
                        clearable=False,
                        placeholder="Choose a run",
                    ),
                    md=8,
                )
            ],
            className="mb-3",
        ),
        dcc.Location(id="errors-location", refresh="callback-nav"),
    ]
    got = runs_view.usable(run)
    if isinstance(got, str):
        return html.Div([*header, dbc.Alert(problem or got, color="warning", id="errors-problem")])
    record, preds = got
    matrix = drilldown.confusion_matrix(preds["y_true"], preds["y_pred"])
    return html.Div(
        [
            *header,
            dbc.Alert([html.Div(s) for s in drilldown.summary_sentences(preds)], color="info", id="errors-summary"),
            dbc.Row(
                [
                    dbc.Col(
                        figure_card(
                            "Confusion matrix",
                            "errors-matrix",
                            confusion_heatmap(matrix, NAMES),
                            "Rows: the true class. Columns: what the model said. Green diagonal = right, red = wrong. "
                            "Click any cell to see exactly those photos.",
                            controls=[
                                dbc.RadioItems(
                                    id="errors-normalise",
                                    value="counts",
                                    inline=True,
                                    options=[
                                        {"label": "Counts", "value": "counts"},
                                        {"label": "Share of each true class", "value": "share"},
                                    ],
                                )
                            ],
                            loading=False,
                        ),
                        lg=7,
                    ),
                    dbc.Col(
                        dbc.Card(
                            [
                                dbc.CardHeader(html.H5("Classification report", className="mb-0")),
                                dbc.CardBody(error_reports.report_table(preds)),
                            ],
                            className="h-100",
                        ),
                        lg=5,
                    ),
                ],
                className="g-3",
            ),
            dbc.Card(
                [
                    dbc.CardHeader(html.H5("Click a cell of the matrix", id="errors-gallery-title", className="mb-0")),
                    dbc.CardBody([gal.pager("errors-pager", 0), html.Div(id="errors-gallery")]),
                ],
                className="mt-3",
            ),
            dbc.Card(
                [
                    dbc.CardHeader(html.H5("Most confident mistakes", className="mb-0")),
                    dbc.CardBody(
                        [
                            html.P(
                                error_reports.suspects_sentence(preds),
                                className="small text-muted",
                                id="errors-suspects",
                            ),
                            dbc.Button(
                                f"Download all {len(labels.label_suspects(preds))} label suspects (CSV)",
                                id="errors-suspects-csv",
                                color="secondary",
                                outline=True,
                                size="sm",
                                className="mb-2",
                                n_clicks=0,
                            ),
                            dcc.Download(id="errors-suspects-download"),
                            gal.gallery(
                                drilldown.confident_mistakes(preds, 16),
                                preds,
                                runs_view.gradcam_run_for(record),
                                notes=error_reports.suspect_notes(preds, drilldown.confident_mistakes(preds, 16)),
                            ),
                        ],
                        id="errors-mistakes",
                    ),
                ],
                className="mt-3",
            ),
            dbc.Card(
                [
                    dbc.CardHeader(html.H5("Compare with another run", className="mb-0")),
                    dbc.CardBody(
                        [
                            dcc.Dropdown(
                                id="errors-compare",
                                value=compare,
                                placeholder="Choose a second run",
                                options=[o for o in runs_view.picker_options() if o["value"] != record["run_id"]],
                            ),
                            html.Div(id="errors-disagree", className="mt-3"),
                        ]
                    ),
                ],
                className="mt-3",
            ),
        ]
    )


@callback(Output("errors-location", "search"), Input("errors-run", "value"), prevent_initial_call=True)
def pick_run(run_id):
    return f"?run={run_id}" if run_id else no_update


@callback(
    Output("errors-matrix", "figure"),
    Input("errors-normalise", "value"),
    State("errors-run", "value"),
    prevent_initial_call=True,
)
def normalise(mode, run_id):
    preds, problem = runs_view.predictions_for(run_id)
    if preds is None:
        return empty_figure(problem or "This run cannot be read.")
    return confusion_heatmap(drilldown.confusion_matrix(preds["y_true"], preds["y_pred"]), NAMES, mode == "share")


@callback(
    Output("errors-gallery", "children"),
    Output("errors-gallery-title", "children"),
    Output("errors-pager", "max_value"),
    Output("errors-pager", "active_page"),
    Output("errors-pager", "style"),
    Input("errors-matrix", "clickData"),
    Input("errors-pager", "active_page"),
    State("errors-run", "value"),
    prevent_initial_call=True,
)
def open_cell(click, page, run_id):
    points = click.get("points") if isinstance(click, dict) else None
    if not isinstance(points, list) or not points or not isinstance(points[0], dict):
        return no_update, no_update, no_update, no_update, no_update
    point = points[0]
    if point.get("y") not in NAMES or point.get("x") not in NAMES:
        return no_update, no_update, no_update, no_update, no_update
    true_c, pred_c = NAMES.index(point["y"]), NAMES.index(point["x"])
    got = runs_view.usable(run_id)
    if isinstance(got, str):
        return (
            dbc.Alert(got, color="warning", id="errors-gallery-problem"),
            "This run cannot be shown",
            1,
            1,
            {"display": "none"},
        )
    record, preds = got
    indices = drilldown.cell_indices(preds, true_c, pred_c)
    page = 1 if dash.ctx.triggered_id == "errors-matrix" or not isinstance(page, int) else page
    pages = gal.page_count(len(indices))
    verb = "correctly recognised as" if true_c == pred_c else "mistaken for"
    title = f"{len(indices)} {NAMES[true_c]} photos {verb} {NAMES[pred_c]} (most confident first)"
    return (
        gal.gallery(
            indices, preds, runs_view.gradcam_run_for(record), page, error_reports.suspect_notes(preds, indices)
        ),
        title,
        pages,
        page,
        None if pages > 1 else {"display": "none"},
    )


@callback(Output("errors-disagree", "children"), Input("errors-compare", "value"), State("errors-run", "value"))
def compare_runs(other_id, run_id):
    if not other_id or not run_id:
        return html.Div("Pick a second run to see the photos where the two models disagree.", className="text-muted")
    got, other = runs_view.usable(run_id), runs_view.usable(other_id)
    if isinstance(got, str) or isinstance(other, str):
        message = got if isinstance(got, str) else other
        return dbc.Alert(message, color="warning", id="errors-compare-problem")
    (record, a), b = got, other.preds
    diff = drilldown.disagreements(a, b)
    labels = {"a_right": f"{run_id} right", "b_right": f"{other_id} right", "neither": "both wrong"}
    tabs = [dbc.Tab(label=f"{label} ({len(diff[key])})", tab_id=key) for key, label in labels.items()]
    summary = (
        f"The two runs disagree on {diff['total']} of {len(a['y_true']):,} photos: {run_id} is right on "
        f"{diff['counts']['a_right']}, {other_id} on {diff['counts']['b_right']}, and both are wrong on "
        f"{diff['counts']['neither']}. Showing up to 30 of each, most confident first."
    )
    return html.Div(
        [
            compare_panel.verdict_card(str(run_id), str(other_id), "errors-verdict", link=False),
            html.P(summary, id="errors-disagree-summary", className="mt-2"),
            dbc.Tabs(tabs, id="errors-disagree-tabs", active_tab="a_right"),
            dcc.Loading(html.Div(_disagreement_gallery(record, a, b, diff, "a_right"), id="errors-disagree-gallery")),
        ]
    )


def _disagreement_gallery(record, a, b, diff, key: str) -> html.Div:
    """The photos of one disagreement tab, most confident first (only the tab on screen is built)."""
    preds, other = (b, a) if key == "b_right" else (a, b)
    indices = diff[key]
    confidence = preds["proba"][indices, preds["y_pred"][indices]]
    ordered = indices[(-confidence).argsort(kind="stable")]
    notes = {int(i): f"other said {CLASS_NAMES[int(other['y_pred'][i])]}" for i in ordered[:30]}
    return gal.gallery(ordered, preds, runs_view.gradcam_run_for(record), 1, notes)


@callback(
    Output("errors-disagree-gallery", "children"),
    Input("errors-disagree-tabs", "active_tab"),
    State("errors-run", "value"),
    State("errors-compare", "value"),
    prevent_initial_call=True,
)
def show_disagreement_tab(key, run_id, other_id):
    got, other = runs_view.usable(run_id), runs_view.usable(other_id)
    if isinstance(got, str) or isinstance(other, str):
        return dbc.Alert(got if isinstance(got, str) else other, color="warning")
    if key not in ("a_right", "b_right", "neither"):
        return no_update
    return _disagreement_gallery(
        got.record, got.preds, other.preds, drilldown.disagreements(got.preds, other.preds), key
    )
