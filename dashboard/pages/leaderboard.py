"""/leaderboard: every run on one sortable, filterable table, with comparisons.

By default the table ranks completed runs trained on the full split (damaged runs stay visible,
greyed, so they are noticed); one switch adds failed, interrupted and small-subset demo runs.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from core.data import CLASS_NAMES
from core.evaluation import board, leaderboard
from dashboard import runs_view, state
from dashboard.components import compare_panel, leaderboard_actions, leaderboard_rows, rebuild_panel
from dashboard.components import leaderboard_table as table
from dashboard.components.cards import figure_card
from dashboard.components.leaderboard_columns import column_defs
from dashboard.figures.errors import accuracy_bars, per_class_f1
from dashboard.figures.leaderboard import cost_scatter
from dashboard.figures.style import empty_figure
from dashboard.figures.training import compare_curves

dash.register_page(
    __name__, path="/leaderboard", name="Leaderboard", order=3, title="Leaderboard · Fashion-MNIST Studio"
)
DEFAULT_COMPARE = 3  # runs compared before any row is ticked: the best ones


ENSEMBLE_LABEL = table.ENSEMBLE_LABEL
BARS = 40  # most accurate runs drawn as bars (a store of any size sends no more)
callback(*compare_panel.VERDICT_IO)(compare_panel.leaderboard_verdict)
callback(*rebuild_panel.CALLBACK_IO, prevent_initial_call=True)(rebuild_panel.rebuild_clicked)
leaderboard_actions.register()
leaderboard_rows.register()


def _exactly(run_id: str) -> dict:
    return {"run_id": {"filterType": "text", "type": "equals", "filter": run_id}}


def _highlighted(run_id: object) -> dict | None:
    """The row of a run to mark (any status), or None when there is no such run."""
    if not isinstance(run_id, str) or not run_id:
        return None
    found, _ = board.page(state.store(), 0, 1, filter_model=_exactly(run_id), show_all=True)
    return found[0] if found else None


def _charts(show_all: bool, group: bool) -> tuple:
    """The bars (the most accurate runs), the accuracy-for-time chart (its Pareto front over every run),
    the best values and the runs compared until rows are ticked: from index queries."""
    store = state.store()
    best = board.top(store, BARS, show_all, group)
    bars = accuracy_bars(best) if best else empty_figure("No finished runs yet.")
    dots, _n = board.pareto(store, show_all)
    keys = ("run_id", "name", "model", "test_accuracy", "status")
    top = [{k: r.get(k) for k in keys} for r in best]
    return bars, cost_scatter(dots), board.best_values(store, show_all, group), top[:DEFAULT_COMPARE]


def layout(show: str | None = None, highlight: str | None = None, **_query) -> html.Div:
    """`?show=all` opens the table with every run listed; `?highlight=RUN` marks one run (a run just
    trained from /train), pinned on top, listing every run when it would otherwise be hidden."""
    show_everything = show == "all"
    marked = _highlighted(highlight)
    store = state.store()
    if marked and not show_everything and not board.page(store, 0, 1, filter_model=_exactly(marked["run_id"]))[1]:
        show_everything = True
    intro = runs_view.leaderboard_intro(show_everything)
    if marked:
        intro += f"Your run {marked['run_id']} is highlighted (pinned on top). "
    damaged = {"status": {"filterType": "text", "type": "equals", "filter": "damaged"}}
    broken = board.page(store, 0, 0, filter_model=damaged)[1]
    bars, cost, best, top = _charts(show_everything, False)
    grid = table.grid(column_defs(best), highlight=marked)
    toolbar = table.toolbar(show_everything)
    return html.Div(
        [
            html.H2("Leaderboard"),
            html.P(
                [
                    html.Span(intro, id="leaderboard-intro"),
                    (
                        "Click a run to open its confusion matrix; double-click a Name cell to name a run; tick rows "
                        "to compare them (the best are compared until you do), and see below whether the better "
                        "one is better beyond chance."
                    ),
                ],
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
            html.Div(id="leaderboard-rename-message"),
            dcc.Loading(html.Div(id="leaderboard-ensemble-message"), type="circle"),
            rebuild_panel.panel(),
            dbc.Card(dbc.CardBody([toolbar, grid])),
            dcc.Store(id="leaderboard-top", data=top),
            dcc.Store(id="leaderboard-version", data=0),
            dbc.Row(
                [
                    dbc.Col(
                        figure_card(
                            "Test accuracy by model",
                            "leaderboard-bars",
                            bars,
                            f"The {BARS} most accurate runs at most. Deep-learning models in green, classic "
                            "scikit-learn models in blue, ensembles in purple. Bars start at 0 %. Click a bar for "
                            "its mistakes.",
                        ),
                        lg=7,
                    ),
                    dbc.Col(
                        figure_card(
                            "Accuracy for the training time",
                            "leaderboard-cost",
                            cost,
                            "Each dot is a run (every run on the front, and the most accurate others). The dotted line joins the runs that no other run beats on both "
                            "accuracy and training time: the best answer for each time budget. Click a dot for "
                            "its mistakes.",
                        ),
                        lg=5,
                    ),
                ],
                className="g-3 mt-1",
            ),
            dbc.Card(
                [
                    dbc.CardHeader(html.H5("Is the better run really better?", className="mb-0")),
                    dbc.CardBody(dcc.Loading(html.Div(id="leaderboard-verdict-box")), className="py-2"),
                ],
                className="mt-3",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        figure_card("Validation accuracy per epoch", "leaderboard-curves", empty_figure(""), None),
                        lg=6,
                    ),
                    dbc.Col(figure_card("F1 per class", "leaderboard-f1", empty_figure(""), None), lg=6),
                ],
                className="g-3 mt-1",
            ),
            dcc.Location(id="leaderboard-location", refresh="callback-nav"),
        ]
    )


@callback(
    Output("leaderboard-version", "data"),
    Output("leaderboard-grid", "columnDefs"),
    Output("leaderboard-intro", "children"),
    Output("leaderboard-bars", "figure"),
    Output("leaderboard-cost", "figure"),
    Output("leaderboard-top", "data"),
    Input("leaderboard-show-all", "value"),
    Input("leaderboard-group-seeds", "value"),
    Input("leaderboard-settings-columns", "value"),
    State("leaderboard-version", "data"),
    prevent_initial_call=True,
)
def show_all(value, group, settings_columns, version):
    bars, cost, best, top = _charts(bool(value), bool(group))
    intro = runs_view.leaderboard_intro(bool(value), bool(group))
    return leaderboard_rows.next_version(version), column_defs(best, bool(settings_columns)), intro, bars, cost, top


@callback(Output("leaderboard-grid", "selectedRows"), Input("leaderboard-clear", "n_clicks"), prevent_initial_call=True)
def clear_selection(_n):
    return []


@callback(
    Output("leaderboard-location", "href"),
    Input("leaderboard-grid", "cellClicked"),
    Input("leaderboard-bars", "clickData"),
    Input("leaderboard-cost", "clickData"),
    prevent_initial_call=True,
)
def open_run(cell, bar, dot):
    if dash.ctx.triggered_id == "leaderboard-grid":
        if not isinstance(cell, dict) or cell.get("colId") != "run_id":
            return no_update
        run_id = cell.get("value")
    else:
        clicked = bar if dash.ctx.triggered_id == "leaderboard-bars" else dot
        points = clicked.get("points") if isinstance(clicked, dict) else None
        point = points[0] if isinstance(points, list) and points and isinstance(points[0], dict) else {}
        run_id = point.get("customdata")
        run_id = run_id[0] if isinstance(run_id, list) and run_id else run_id  # bars: [run id, interval]
    return f"/errors?run={run_id}" if isinstance(run_id, str) and run_id else no_update


@callback(
    Output("leaderboard-curves", "figure"),
    Output("leaderboard-f1", "figure"),
    Input("leaderboard-grid", "selectedRows"),
    Input("leaderboard-top", "data"),
)
def compare(selected, rows):
    """Overlay the ticked runs' curves and per-class F1; the best few until rows are ticked."""
    selected = [row for row in compare_panel.grid_rows(selected) if row.get("status") == "completed"]
    if len(selected) < 2:
        selected = leaderboard.completed(compare_panel.grid_rows(rows))[:DEFAULT_COMPARE]
    if len(selected) < 2:
        message = "Tick two or more finished (not damaged) runs in the table."
        return empty_figure(message), empty_figure(message)
    histories, per_class = {}, {}
    for row in selected:
        record, problem = runs_view.resolve_run(row["run_id"])
        if record is None:  # deleted or damaged since the table was drawn
            message = problem or "This run cannot be read."
            return empty_figure(message), empty_figure(message)
        label = f"{row.get('name') or row['model']} · {row['run_id']}"
        histories[label] = state.store().history(row["run_id"])
        per_class[label] = record["metrics"]["per_class"]
    return compare_curves(histories), per_class_f1(per_class, list(CLASS_NAMES))
