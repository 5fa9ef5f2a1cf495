"""/leaderboard: every completed run on one sortable, filterable table, with comparisons."""

from __future__ import annotations

from typing import Any

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from core.data import CLASS_NAMES
from core.evaluation import leaderboard
from dashboard import runs_view, state
from dashboard.components.cards import figure_card
from dashboard.figures.errors import accuracy_bars, per_class_f1
from dashboard.figures.style import empty_figure
from dashboard.figures.training import compare_curves

dash.register_page(
    __name__, path="/leaderboard", name="Leaderboard", order=3, title="Leaderboard · Fashion-MNIST Studio"
)

PCT = {"function": "params.value == null ? '' : d3.format('.2%')(params.value)"}
DEC3 = {"function": "params.value == null ? '' : d3.format('.3f')(params.value)"}
NUM = {"function": "params.value == null ? '' : d3.format(',')(params.value)"}
SECS = {"function": "params.value == null ? '' : d3.format(',.1f')(params.value)"}
MS3 = {"function": "params.value == null ? '' : d3.format('.3f')(params.value)"}
NUMBER = {"filter": "agNumberColumnFilter"}
# field, header, the header's tooltip (what the number means), column options
COLUMNS: list[tuple[str, str, str, dict[str, Any]]] = [
    (
        "run_id",
        "Run",
        "The run's folder in artifacts/runs. Click it for its confusion matrix.",
        {"pinned": "left", "minWidth": 210, "cellClass": "run-link"},
    ),
    ("model", "Model", "The kind of model.", {"minWidth": 150}),
    (
        "n_train",
        "Training photos",
        "How many training photos this run learned from (the full split is 48,000).",
        {"valueFormatter": NUM, **NUMBER},
    ),
    ("family", "Family", "deep: a Keras network; classic: a scikit-learn model.", {"width": 100}),
    (
        "test_accuracy",
        "Test accuracy",
        "Share of the 10,000 test photos classified correctly.",
        {"valueFormatter": PCT, "sort": "desc", **NUMBER},
    ),
    (
        "macro_f1",
        "Macro-F1",
        "The F1 score (balance of precision and recall) averaged over the 10 classes.",
        {"valueFormatter": DEC3, **NUMBER},
    ),
    ("worst_class", "Hardest class", "The class with the lowest F1 for this run.", {}),
    ("worst_f1", "Its F1", "The F1 score of the hardest class.", {"valueFormatter": DEC3, **NUMBER}),
    (
        "train_seconds",
        "Train s",
        "Seconds of training (fitting), on the machine that trained it.",
        {"valueFormatter": SECS, **NUMBER},
    ),
    (
        "inference_ms",
        "ms / image",
        "Batch inference time per test photo (all 10,000 at once), in milliseconds.",
        {"valueFormatter": MS3, **NUMBER},
    ),
    (
        "params",
        "Parameters",
        (
            "Learned numbers: weights for networks and linear models, stored training values for "
            "k-NN (it keeps its training photos), split thresholds and leaf counts for random forests."
        ),
        {"valueFormatter": NUM, **NUMBER},
    ),
    ("size_mb", "Size MB", "Size of the saved model file.", {"valueFormatter": DEC3, **NUMBER}),
    ("settings", "Settings", "The run's hyperparameters.", {"minWidth": 260, "tooltipField": "settings"}),
    ("date", "Finished (UTC)", "When the run finished.", {"minWidth": 150}),
]


def column_defs(best: dict[str, float]) -> list[dict]:
    defs = []
    for field, header, tooltip, extra in COLUMNS:
        col = {"field": field, "headerName": header, "headerTooltip": tooltip, **extra}
        if field in best:
            col["cellClassRules"] = {"best-cell": f"params.value === {best[field]!r}"}
        defs.append(col)
    return defs


def layout(**_query) -> html.Div:
    rows = runs_view.leaderboard_rows()
    good = leaderboard.completed(rows)
    broken = len(rows) - len(good)
    grid = dag.AgGrid(
        id="leaderboard-grid",
        rowData=rows,
        columnDefs=column_defs(leaderboard.best_values(good)),
        rowClassRules={"damaged-row": "params.data.status === 'damaged'"},
        defaultColDef={
            "useValueFormatterForExport": False,  # CSV: raw numbers (fractions, seconds, bytes)
            "sortable": True,
            "filter": True,
            "floatingFilter": True,
            "resizable": True,
            "minWidth": 100,
        },
        dashGridOptions={
            "rowSelection": {"mode": "multiRow", "enableClickSelection": False},
            "tooltipShowDelay": 300,
            "animateRows": False,
            "domLayout": "autoHeight",
        },
        getRowId="params.data.run_id",
        csvExportParams={"fileName": "fashion-mnist-leaderboard.csv"},
        columnSize="autoSize",
        style={"width": "100%"},
    )
    return html.Div(
        [
            html.H2("Leaderboard"),
            html.P(
                f"{len(good)} finished runs. Best value of each column in green. Click a run name to open its "
                "confusion matrix; tick two or more rows to compare them.",
                className="text-muted",
            ),
            dbc.Alert(
                f"{broken} damaged run{'s are' if broken > 1 else ' is'} greyed out at the bottom, with the reason "
                "in Settings; their numbers are left out of every best value. `python -m core runs check` "
                "lists them.",
                color="warning",
                id="leaderboard-damaged",
            )
            if broken
            else None,
            dbc.Card(
                dbc.CardBody(
                    [
                        html.Div(
                            [
                                dbc.Button(
                                    "Export CSV", id="leaderboard-export", color="secondary", size="sm", n_clicks=0
                                ),
                                dbc.Button(
                                    "Clear selection", id="leaderboard-clear", color="link", size="sm", n_clicks=0
                                ),
                            ],
                            className="mb-2",
                        ),
                        grid,
                    ]
                )
            ),
            dbc.Row(
                [
                    dbc.Col(
                        figure_card(
                            "Test accuracy by model",
                            "leaderboard-bars",
                            accuracy_bars(good) if good else empty_figure("No finished runs yet."),
                            "Deep-learning models in green, classic scikit-learn models in blue. Click a bar for its mistakes.",
                        ),
                        width=12,
                    )
                ],
                className="mt-3",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        figure_card(
                            "Validation accuracy per epoch",
                            "leaderboard-curves",
                            empty_figure("Tick two or more runs in the table."),
                            None,
                        ),
                        lg=6,
                    ),
                    dbc.Col(
                        figure_card(
                            "F1 per class", "leaderboard-f1", empty_figure("Tick two or more runs in the table."), None
                        ),
                        lg=6,
                    ),
                ],
                className="g-3 mt-1",
            ),
            dcc.Location(id="leaderboard-location", refresh="callback-nav"),
        ]
    )


@callback(
    Output("leaderboard-grid", "exportDataAsCsv"), Input("leaderboard-export", "n_clicks"), prevent_initial_call=True
)
def export_csv(_n):
    return True


@callback(Output("leaderboard-grid", "selectedRows"), Input("leaderboard-clear", "n_clicks"), prevent_initial_call=True)
def clear_selection(_n):
    return []


@callback(
    Output("leaderboard-location", "href"),
    Input("leaderboard-grid", "cellClicked"),
    Input("leaderboard-bars", "clickData"),
    prevent_initial_call=True,
)
def open_run(cell, bar):
    if dash.ctx.triggered_id == "leaderboard-grid":
        if not cell or cell.get("colId") != "run_id":
            return no_update
        run_id = cell.get("value")
    else:
        run_id = (bar or {}).get("points", [{}])[0].get("customdata")
    return f"/errors?run={run_id}" if run_id else no_update


@callback(
    Output("leaderboard-curves", "figure"),
    Output("leaderboard-f1", "figure"),
    Input("leaderboard-grid", "selectedRows"),
    State("leaderboard-grid", "rowData"),
)
def compare(selected, _rows):
    selected = [row for row in selected or [] if row.get("status") != "damaged"]
    if len(selected) < 2:
        message = "Tick two or more finished (not damaged) runs in the table."
        return empty_figure(message), empty_figure(message)
    histories, per_class = {}, {}
    for row in selected:
        record, problem = runs_view.resolve_run(row["run_id"])
        if record is None:  # deleted or damaged since the table was drawn
            message = problem or "This run cannot be read."
            return empty_figure(message), empty_figure(message)
        label = f"{row['model']} · {row['run_id']}"
        histories[label] = state.store().history(row["run_id"])
        per_class[label] = record["metrics"]["per_class"]
    return compare_curves(histories), per_class_f1(per_class, list(CLASS_NAMES))
