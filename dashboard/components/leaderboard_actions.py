"""/leaderboard: what a person does to runs from the table: rename one in place (double-click its
Name), and make an ensemble of the ticked runs (listed at once, with its paired verdict against its
best member)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, no_update

from core.store import RunError
from core.training import ensemble
from dashboard import runs_view, state
from dashboard.components import compare_panel, leaderboard_rows
from dashboard.components.leaderboard_table import ENSEMBLE_LABEL


def rename(changes, version):
    """Save an edited Name cell; on a refused name, say why and load the rows again (the old name)."""
    change = changes[-1] if isinstance(changes, list) and changes and isinstance(changes[-1], dict) else {}
    if change.get("colId") != "name" or not isinstance(change.get("data"), dict):
        return no_update, no_update
    run_id = str((change.get("data") or {}).get("run_id"))
    try:
        record = state.store().rename(run_id, change.get("value"))
    except (RunError, TypeError) as exc:
        return dbc.Alert(f"Name not saved: {exc}", color="danger", dismissable=True), leaderboard_rows.next_version(
            version
        )
    name = record.get("name")
    text = f"{run_id} is now called “{name}”." if name else f"{run_id}: name removed."
    return dbc.Alert(text, color="success", dismissable=True, duration=4000), no_update


def make_ensemble(_n, selected, show_everything, group, version):
    """A new ensemble run of the ticked runs (core.training.ensemble), listed at once, with whether it
    beats its best member beyond chance (paired, on the same test photos)."""
    rows = [r for r in compare_panel.grid_rows(selected) if isinstance(r.get("run_id"), str)]
    ids = [row["run_id"] for row in rows]
    try:
        record = ensemble.create(ids, store=state.store())
    except RunError as exc:
        return dbc.Alert(f"No ensemble made: {exc}.", color="warning", dismissable=True), no_update, no_update
    accuracy = 100 * record["metrics"]["test_accuracy"]
    best = max(rows, key=lambda r: float(r["test_accuracy"]) if isinstance(r.get("test_accuracy"), float) else 0.0)
    message = dbc.Alert(
        [
            f"Made {record['run_id']}: the average of {len(ids)} runs ({', '.join(ids)}), {accuracy:.2f} % test accuracy. ",
            dcc.Link("Inspect its mistakes", href=f"/errors?run={record['run_id']}"),
            compare_panel.verdict_card(record["run_id"], str(best["run_id"]), "leaderboard-ensemble-verdict"),
        ],
        color="success",
        dismissable=True,
        id="leaderboard-ensemble-made",
    )
    return (
        message,
        leaderboard_rows.next_version(version),
        runs_view.leaderboard_intro(bool(show_everything), bool(group)),
    )


def register() -> None:
    """Wire the actions' callbacks (the page calls it each time Dash loads the page module)."""
    callback(
        Output("leaderboard-rename-message", "children"),
        Output("leaderboard-version", "data", allow_duplicate=True),
        Input("leaderboard-grid", "cellValueChanged"),
        State("leaderboard-version", "data"),
        prevent_initial_call=True,
    )(rename)
    callback(
        Output("leaderboard-ensemble-message", "children"),
        Output("leaderboard-version", "data", allow_duplicate=True),
        Output("leaderboard-intro", "children", allow_duplicate=True),
        Input("leaderboard-ensemble", "n_clicks"),
        State("leaderboard-grid", "selectedRows"),
        State("leaderboard-show-all", "value"),
        State("leaderboard-group-seeds", "value"),
        State("leaderboard-version", "data"),
        prevent_initial_call=True,
        running=[
            (Output("leaderboard-ensemble", "disabled"), True, False),
            (Output("leaderboard-ensemble", "children"), "Making the ensemble (about 15 s)…", ENSEMBLE_LABEL),
        ],
    )(make_ensemble)
