"""The leaderboard table itself (AG Grid: sort, filter, tick to compare, rename in place) and its
toolbar. The columns, their tooltips, formats and CSV headers are in leaderboard_columns."""

from __future__ import annotations

import json

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import html

from dashboard.components.leaderboard_columns import CSV_EXPORT, column_defs

__all__ = ["ENSEMBLE_LABEL", "column_defs", "grid", "toolbar"]


def grid(rows: list[dict], columns: list[dict], highlight: str | None = None) -> dag.AgGrid:
    """The sortable, filterable table (tick rows to compare; double-click a Name to edit it);
    `highlight` marks one run's row."""
    rules = {"damaged-row": "params.data.status !== 'completed'"}
    if highlight:
        rules["highlight-row"] = f"params.data.run_id === {json.dumps(highlight)}"
    return dag.AgGrid(
        id="leaderboard-grid",
        rowData=rows,
        columnDefs=columns,
        rowClassRules=rules,
        defaultColDef={
            "useValueFormatterForExport": False,  # CSV: raw numbers (fractions, seconds, bytes)
            "sortable": True,
            "filter": True,
            "floatingFilter": True,
            "resizable": True,
            "minWidth": 100,
            "wrapHeaderText": True,
            "autoHeaderHeight": True,
        },
        dashGridOptions={
            "rowSelection": {"mode": "multiRow", "enableClickSelection": False},
            "tooltipShowDelay": 300,
            "animateRows": False,
            "domLayout": "autoHeight",
            "stopEditingWhenCellsLoseFocus": True,
        },
        getRowId="params.data.run_id",
        csvExportParams=CSV_EXPORT,
        columnSize="autoSize",
        style={"width": "100%"},
    )


ENSEMBLE_LABEL = "Ensemble of the ticked runs"


def toolbar(show_everything: bool) -> html.Div:
    """Export, selection, ensemble and the show-everything switch above the table."""
    return html.Div(
        [
            dbc.Button("Export CSV", id="leaderboard-export", color="secondary", size="sm", n_clicks=0),
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
                label="Show failed, interrupted and small-subset runs",
                value=show_everything,
                className="ms-3 mb-0 d-inline-block",
            ),
            html.Span(
                "More columns to the right: scroll the table sideways →",
                id="leaderboard-scroll-hint",
                className="small text-muted ms-auto",
            ),
        ],
        className="mb-2 d-flex align-items-center flex-wrap gap-2",
    )
