"""/errors: the confusion matrix (counts or shares of each true class) beside the classification report."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, html

from core.data import CLASS_NAMES
from core.evaluation import drilldown
from dashboard import runs_view
from dashboard.components import error_reports
from dashboard.components.cards import figure_card
from dashboard.figures.errors import confusion_heatmap
from dashboard.figures.style import empty_figure

NAMES = list(CLASS_NAMES)


class ids:
    """The block's component ids (stable: links, callbacks of other blocks and tests use them)."""

    run = "errors-run"  # the page's run picker, read as State
    matrix = "errors-matrix"
    normalise = "errors-normalise"


def block(preds) -> dbc.Row:
    matrix = drilldown.confusion_matrix(preds["y_true"], preds["y_pred"])
    return dbc.Row(
        [
            dbc.Col(
                figure_card(
                    "Confusion matrix",
                    ids.matrix,
                    confusion_heatmap(matrix, NAMES),
                    "Rows: the true class. Columns: what the model said. Green diagonal = right, red = wrong. "
                    "Click any cell to see exactly those photos.",
                    controls=[
                        dbc.RadioItems(
                            id=ids.normalise,
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
    )


def normalise(mode, run_id):
    preds, problem = runs_view.predictions_for(run_id)
    if preds is None:
        return empty_figure(problem or "This run cannot be read.")
    return confusion_heatmap(drilldown.confusion_matrix(preds["y_true"], preds["y_pred"]), NAMES, mode == "share")


def register() -> None:
    """Wire this block's callbacks. The page calls it each time Dash loads the page module, so every
    app (a test builds several in one process) gets them."""
    callback(
        Output(ids.matrix, "figure"),
        Input(ids.normalise, "value"),
        State(ids.run, "value"),
        prevent_initial_call=True,
    )(normalise)
