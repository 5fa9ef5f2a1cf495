"""The leaderboard table itself (AG Grid: sort, filter, tick to compare, rename in place, paged from
the server) and its toolbar. The columns, their tooltips, formats and CSV headers are in leaderboard_columns."""

from __future__ import annotations

import json

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.components.leaderboard_columns import column_defs

__all__ = ["BLOCK", "ENSEMBLE_LABEL", "column_defs", "grid", "toolbar"]


BLOCK = 100  # rows per request: what the browser holds of a store of any size, a block at a time


def grid(columns: list[dict], highlight: dict | None = None) -> dag.AgGrid:
    """The sortable, filterable table (tick rows to compare; double-click a Name to edit it), fed a
    block of rows at a time by the server (AG Grid's infinite row model over core.evaluation.board);
    `highlight`, a run's row, is pinned on top and marked."""
    rules = {"damaged-row": "params.data && params.data.status !== 'completed'"}
    if highlight:
        rules["highlight-row"] = f"params.data && params.data.run_id === {json.dumps(highlight['run_id'])}"
    return dag.AgGrid(
        id="leaderboard-grid",
        rowModelType="infinite",
        columnDefs=columns,
        rowClassRules=rules,
        defaultColDef={
            "useValueFormatterForExport": False,
            "sortable": True,
            "filter": True,
            "floatingFilter": True,
            "resizable": True,
            "minWidth": 100,
            "wrapHeaderText": True,
            "autoHeaderHeight": True,
        },
        dashGridOptions={
            "rowSelection": {"mode": "multiRow", "enableClickSelection": False, "headerCheckbox": False},
            "tooltipShowDelay": 300,
            "animateRows": False,
            # every column is in the page, also those scrolled out of view: a person (and a test) can reach
            # each header; 30 columns x 100 rows is cheap
            "suppressColumnVirtualisation": True,
            "stopEditingWhenCellsLoseFocus": True,
            "cacheBlockSize": BLOCK,
            "maxBlocksInCache": 20,
            "infiniteInitialRowCount": 1,
            "pinnedTopRowData": [highlight] if highlight else [],
        },
        getRowId="params.data.run_id",
        columnSize="autoSize",
        style={"width": "100%", "height": "min(75vh, 900px)"},
    )


ENSEMBLE_LABEL = "Ensemble of the ticked runs"


def toolbar(show_everything: bool) -> html.Div:
    """Export, selection, ensemble and the show-everything switch above the table."""
    return html.Div(
        [
            dbc.Button("Export CSV", id="leaderboard-export", color="secondary", size="sm", n_clicks=0),
            dcc.Download(id="leaderboard-download"),
            dbc.Button("Clear selection", id="leaderboard-clear", color="link", size="sm", n_clicks=0),
            dbc.Button(
                ENSEMBLE_LABEL,
                id="leaderboard-ensemble",
                title="A new run that averages the ticked runs' probabilities",
                color="primary",
                outline=True,
                size="sm",
                n_clicks=0,
            ),
            dbc.Switch(
                id="leaderboard-settings-columns",
                label="One column per setting",
                value=False,
                className="ms-3 mb-0 d-inline-block",
            ),
            dbc.Switch(
                id="leaderboard-group-seeds",
                label="One row per seed group (mean ± spread)",
                value=False,
                className="ms-3 mb-0 d-inline-block",
            ),
            dbc.Switch(
                id="leaderboard-show-all",
                label="Show every run: study runs (validation only), failed, interrupted and small-subset ones",
                value=show_everything,
                className="ms-3 mb-0 d-inline-block",
            ),
            html.Span(id="leaderboard-count", className="small text-muted"),
            html.Span(
                "More columns to the right: scroll the table sideways →",
                id="leaderboard-scroll-hint",
                className="small text-muted ms-auto",
            ),
        ],
        className="mb-2 d-flex align-items-center flex-wrap gap-2",
    )
