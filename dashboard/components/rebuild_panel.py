"""A run whose model file is not in this checkout (the Random Forest reference: too large for git)
offers "Rebuild this model (about N s)": `python -m core rebuild RUN` in a child process, checked
against the run's stored predictions, with the result said in plain words."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, ctx, dcc, html, no_update

from core import paths
from core.store import RunError
from core.training import rebuild
from dashboard import state

TIMEOUT_S = 1800  # the slowest rebuild (HOG + SVM) takes about 5 minutes here


def missing_models() -> list[dict[str, Any]]:
    """Completed reference runs without their model file: id, label and the rebuild's estimate."""
    store = state.store()
    out = []
    for run_id in rebuild.missing(store):
        record = store.get(run_id)
        out.append({"run_id": run_id, "label": record.get("label"), "seconds": rebuild.estimate_seconds(record)})
    return out


def panel() -> html.Div:
    """The notice (nothing when every reference model is here)."""
    return html.Div(panel_children(), id="rebuild-panel")


def panel_children(done: Any = None) -> list[Any]:
    """What the panel shows: `done` (the last rebuild's result) and the notice for the models still
    missing (none once every model file is here, so a rebuilt model's banner goes away)."""
    missing = missing_models()
    if not missing:
        return [done] if done is not None else []
    rows = [
        html.Div(
            [
                html.Span(f"{m['label']} ({m['run_id']}) ", className="me-2"),
                dbc.Button(
                    f"Rebuild this model (about {m['seconds']} s)",
                    id={"type": "rebuild-button", "run": m["run_id"]},
                    size="sm",
                    color="primary",
                    className="me-2",
                ),
            ],
            className="mb-1",
        )
        for m in missing
    ]
    notice = dbc.Alert(
        [
            html.Div(
                "Its scores and mistakes are all here, but not its model file (too large for git): without it "
                "the model cannot answer a new photo or join an ensemble. Rebuilding retrains it here with "
                "its recorded settings and checks every answer against the stored ones.",
                className="mb-2",
            ),
            *rows,
            dcc.Loading(html.Div(id="rebuild-result", className="mt-2"), type="circle"),
        ],
        color="secondary",
    )
    return [done, notice] if done is not None else [notice]


def run_rebuild(run_id: str) -> dict[str, Any]:
    """`python -m core rebuild RUN --json` in a child process: {"ok", "message"}."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "core", "rebuild", run_id, "--json"],
            cwd=paths.PROJECT_ROOT,
            env={**os.environ, "STUDIO_ARTIFACTS": str(paths.artifacts_dir())},
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return {"ok": False, "message": f"Rebuilding {run_id} took longer than {TIMEOUT_S // 60} minutes; stopped."}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        reason = (done.stderr.strip().splitlines() or ["unknown error"])[-1].removeprefix("error: ")
        return {"ok": False, "message": f"{run_id} was not rebuilt: {reason}"}
    result = json.loads(lines[-1])
    if result["agreement"] == 1.0:
        same = "every test photo gets exactly its stored answer"
    else:
        same = (
            f"{100 * result['agreement']:.2f} % of test photos get their stored answer (accuracy "
            f"{100 * result['accuracy_delta']:+.2f} points); the run records the difference".replace("-", "−")
        )
    return {"ok": True, "message": f"{run_id} rebuilt in {result['seconds']:.0f} s: {same}."}


# registered by the leaderboard page (Dash runs page modules once per app; this module only once)
CALLBACK_IO = (
    Output("rebuild-panel", "children"),
    Input({"type": "rebuild-button", "run": ALL}, "n_clicks"),
)


def rebuild_clicked(clicks):
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not any(clicks or []):
        return no_update
    run_id = trigger.get("run")
    try:
        if not isinstance(run_id, str) or not rebuild.needs_rebuild(run_id, state.store()):
            return panel_children(dbc.Alert(f"{run_id} has nothing to rebuild.", color="info", id="rebuild-done"))
    except RunError as exc:
        return panel_children(dbc.Alert(str(exc), color="warning", id="rebuild-done"))
    result = run_rebuild(run_id)
    return panel_children(
        dbc.Alert(result["message"], color="success" if result["ok"] else "danger", id="rebuild-done")
    )
