"""/errors?run=…: the confusion matrix of one run and the exact test photos behind every cell.

The page picks the run and lays out five blocks (dashboard/components/errors/): the matrix with the
classification report, the photos of a clicked cell, the most confident mistakes, how sure the model is
against how often it is right (its reliability diagram), and a comparison with a second run. Each block
owns its ids and callbacks."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, callback, dcc, html, no_update

from core.evaluation import drilldown
from dashboard import runs_view
from dashboard.components.errors import cell, matrix, mistakes, sureness
from dashboard.components.errors import compare as second_run

dash.register_page(__name__, path="/errors", name="Errors", order=4, title="Errors · Fashion-MNIST Studio")

# the run picker searches the run index as you type (never every run at once)
callback(*runs_view.search_io(matrix.ids.run), prevent_initial_call=True)(runs_view.searcher())
for _block in (matrix, cell, mistakes, second_run):
    _block.register()


def _header(run_id: str | None) -> list:
    picker = dcc.Dropdown(
        id=matrix.ids.run,
        options=runs_view.picker_options(),
        value=run_id,
        clearable=False,
        placeholder="Choose a run",
    )
    return [
        html.H2("Where the model goes wrong"),
        dbc.Row([dbc.Col(picker, md=8)], className="mb-3"),
        dcc.Location(id="errors-location", refresh="callback-nav"),
    ]


def layout(run: str | None = None, compare: str | None = None, **_query) -> html.Div:
    got = runs_view.usable(run if run is not None else runs_view.default_run())
    if isinstance(got, str):
        return html.Div([*_header(None), dbc.Alert(got, color="warning", id="errors-problem")])
    record, preds = got
    summary = [html.Div(s) for s in drilldown.summary_sentences(preds)]
    return html.Div(
        [
            *_header(record["run_id"]),
            dbc.Alert(summary, color="info", id="errors-summary"),
            matrix.block(preds),
            cell.block(),
            mistakes.block(record, preds),
            sureness.block(record),
            second_run.block(record["run_id"], compare),
        ]
    )


@callback(Output("errors-location", "search"), Input(matrix.ids.run, "value"), prevent_initial_call=True)
def pick_run(run_id):
    return f"?run={run_id}" if run_id else no_update
