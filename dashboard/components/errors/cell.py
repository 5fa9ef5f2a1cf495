"""/errors: the exact test photos behind a clicked cell of the confusion matrix, most confident first."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, html, no_update

from core.evaluation import drilldown
from dashboard import runs_view
from dashboard.components import error_reports
from dashboard.components import gallery as gal
from dashboard.components.errors.matrix import NAMES
from dashboard.components.errors.matrix import ids as matrix_ids


class ids:
    """The block's component ids (stable: links and tests use them)."""

    title = "errors-gallery-title"
    pager = "errors-pager"
    gallery = "errors-gallery"
    problem = "errors-gallery-problem"


def block() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(html.H5("Click a cell of the matrix", id=ids.title, className="mb-0")),
            dbc.CardBody([gal.pager(ids.pager, 0), html.Div(id=ids.gallery)]),
        ],
        className="mt-3",
    )


def _clicked_cell(click) -> tuple[int, int] | None:
    """(true class, predicted class) of a click on the matrix, or None for anything else."""
    points = click.get("points") if isinstance(click, dict) else None
    if not isinstance(points, list) or not points or not isinstance(points[0], dict):
        return None
    point = points[0]
    if point.get("y") not in NAMES or point.get("x") not in NAMES:
        return None
    return NAMES.index(point["y"]), NAMES.index(point["x"])


def open_cell(click, page, run_id):
    cell = _clicked_cell(click)
    if cell is None:
        return no_update, no_update, no_update, no_update, no_update
    true_c, pred_c = cell
    got = runs_view.usable(run_id)
    if isinstance(got, str):
        return dbc.Alert(got, color="warning", id=ids.problem), "This run cannot be shown", 1, 1, {"display": "none"}
    indices = drilldown.cell_indices(got.preds, true_c, pred_c)
    page = 1 if dash.ctx.triggered_id == matrix_ids.matrix or not isinstance(page, int) else page
    pages = gal.page_count(len(indices))
    verb = "correctly recognised as" if true_c == pred_c else "mistaken for"
    title = f"{len(indices)} {NAMES[true_c]} photos {verb} {NAMES[pred_c]} (most confident first)"
    notes = error_reports.suspect_notes(got.preds, indices)
    return (
        gal.gallery(indices, got.preds, runs_view.gradcam_run_for(got.record), page, notes),
        title,
        pages,
        page,
        None if pages > 1 else {"display": "none"},
    )


def register() -> None:
    """Wire this block's callbacks. The page calls it each time Dash loads the page module, so every
    app (a test builds several in one process) gets them."""
    callback(
        Output(ids.gallery, "children"),
        Output(ids.title, "children"),
        Output(ids.pager, "max_value"),
        Output(ids.pager, "active_page"),
        Output(ids.pager, "style"),
        Input(matrix_ids.matrix, "clickData"),
        Input(ids.pager, "active_page"),
        State(matrix_ids.run, "value"),
        prevent_initial_call=True,
    )(open_cell)
