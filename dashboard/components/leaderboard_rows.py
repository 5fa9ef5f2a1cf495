"""/leaderboard: the table's rows come from the server a block at a time (AG Grid's infinite row
model over core.evaluation.board), so a store of any size sends a page, not every run. Also the CSV
export (every matching row, in the table's order) and the reload after a change."""

from __future__ import annotations

from dash import Input, Output, State, callback, clientside_callback, no_update

from core.evaluation import board
from dashboard import state
from dashboard.components.leaderboard_columns import CSV_NAME, csv_text
from dashboard.components.leaderboard_table import BLOCK

EXPORT_MAX = 100_000  # rows in one CSV export
MAX_BLOCK = 10 * BLOCK  # the most rows one request may ask for


def next_version(version: object) -> int:
    """The table's next version number (anything but a whole number counts as 0)."""
    return (version if isinstance(version, int) and not isinstance(version, bool) and version >= 0 else 0) + 1


def sort_and_filters(request: object) -> tuple[list | None, dict | None]:
    """The grid request's sort and filter models (None where absent or malformed)."""
    request = request if isinstance(request, dict) else {}
    sort = request.get("sortModel") if isinstance(request.get("sortModel"), list) else None
    filters = request.get("filterModel") if isinstance(request.get("filterModel"), dict) else None
    return sort, filters


def rows(request, show_everything, group):
    """One block of rows, sorted and filtered on the server, and how many rows match."""
    if not isinstance(request, dict):
        return no_update, no_update
    sort, filters = sort_and_filters(request)
    try:
        start = max(0, int(request.get("startRow") or 0))
        end = min(int(request.get("endRow") or start + BLOCK), start + MAX_BLOCK)
        found, total = board.page(state.store(), start, end, sort, filters, bool(show_everything), bool(group))
    except (TypeError, ValueError) as exc:
        return {"rowData": [], "rowCount": 0}, f"Cannot show these rows: {exc}"
    return {"rowData": found, "rowCount": total}, f"{total:,} row{'' if total == 1 else 's'} match"


def export_csv(_n, request, show_everything, group):
    """Every row that matches the table's filters, in its order (not only the rows loaded)."""
    sort, filters = sort_and_filters(request)
    try:
        found, _ = board.page(state.store(), 0, EXPORT_MAX, sort, filters, bool(show_everything), bool(group))
    except (TypeError, ValueError):
        found, _ = board.page(state.store(), 0, EXPORT_MAX, None, None, bool(show_everything), bool(group))
    return {"content": csv_text(found), "filename": CSV_NAME, "type": "text/csv"}


# a new version of the table (a switch, an ensemble, a refused name): the grid asks for its rows again
RELOAD = """function (version) {
    const api = window.dash_ag_grid && dash_ag_grid.getApi && dash_ag_grid.getApi("leaderboard-grid");
    if (version && api) { api.purgeInfiniteCache(); }
    return window.dash_clientside.no_update;
}"""


def register() -> None:
    """Wire the callbacks (the page calls it each time Dash loads the page module)."""
    callback(
        Output("leaderboard-grid", "getRowsResponse"),
        Output("leaderboard-count", "children"),
        Input("leaderboard-grid", "getRowsRequest"),
        State("leaderboard-show-all", "value"),
        State("leaderboard-group-seeds", "value"),
    )(rows)
    callback(
        Output("leaderboard-download", "data"),
        Input("leaderboard-export", "n_clicks"),
        State("leaderboard-grid", "getRowsRequest"),
        State("leaderboard-show-all", "value"),
        State("leaderboard-group-seeds", "value"),
        prevent_initial_call=True,
    )(export_csv)
    clientside_callback(
        RELOAD, Output("leaderboard-version", "id"), Input("leaderboard-version", "data"), prevent_initial_call=True
    )
