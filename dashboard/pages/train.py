"""/train: launch a training from the browser and watch it live.

Start launches `python -m core train` as a process of its own (dashboard.training_job) and a
1-second monitor follows the run from the store: the same view in every tab, after a reload and
after a server restart; Cancel works from any tab through the store. With Celery (REDIS_URL) Start
is a background callback instead, so the training runs on a worker and streams its progress
through `set_progress`.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, html, no_update

from core.store import InvalidRunId, RunError, validate_run_id
from dashboard import runs_view, state, training_job
from dashboard.components import train_layout, training_form_sync
from dashboard.components import training_form as form
from dashboard.components.training_view import CurveCache, render, result_panel

dash.register_page(__name__, path="/train", name="Train", order=2, title="Train · Fashion-MNIST Studio")

FIELD_STATES = [State(form.field_id(name), "value") for name in form.FIELD_NAMES]
VIEW_OUTPUTS = [
    "train-progress.value",
    "train-progress.label",
    "train-progress.animated",
    "train-progress.color",
    "train-status.children",
    "train-curves.figure",
    "train-verdict.children",
    "train-run-title.children",
]


def _outputs(allow_duplicate: bool = False) -> list[Output]:
    return [
        Output(component, prop, allow_duplicate=allow_duplicate)
        for component, prop in (spec.split(".") for spec in VIEW_OUTPUTS)
    ]


training_form_sync.register()
# the replay picker searches the run index as you type (never every run at once)
callback(*runs_view.search_io("train-view-run"), prevent_initial_call=True)(runs_view.replay_search)


def layout(run: str | None = None, **_query) -> html.Div:
    """`?run=RUN_ID` replays that run's curves (a shareable link)."""
    options = runs_view.replay_options(keep=run)
    return train_layout.page(options, run if any(o["value"] == run for o in options) else None)


def _refusal(model, values):
    """(config, None) when a training may start now, else (None, the alert to show)."""
    config, error = form.validate(model, dict(zip(form.FIELD_NAMES, values, strict=True)))
    if error:
        return None, dbc.Alert(f"Not started: {error}.", color="danger", className="mb-0")
    active = state.store().active_run_id()
    if active:
        return None, dbc.Alert(
            f"Not started: run {active} is still training, and this machine trains one model at "
            "a time. Wait for it or cancel it.",
            color="warning",
            className="mb-0",
            id="train-busy",
        )
    return config, None


def start_training(_n_clicks, model, *values):
    """Start: launch the training as a process of its own; the monitor follows it (and each repeat
    over seeds in turn, as each holds the training slot)."""
    fields, seeds = values[:-1], values[-1]
    config, refusal = _refusal(model, fields)
    if refusal:
        return refusal, state.store().active_run_id() or no_update
    run_id = training_job.start_detached(config, seeds=form.seeds_value(seeds))
    return html.Div(f"Starting {run_id}…", className="small text-muted", id="train-starting"), run_id


def start_training_on_worker(set_progress, _n_clicks, model, *values):
    """Start under Celery: this runs on a worker, which launches and follows the training."""
    fields, seeds = values[:-1], values[-1]
    config, refusal = _refusal(model, fields)
    if refusal:
        return refusal, state.store().active_run_id() or no_update
    view = CurveCache()
    training_job.detach_from_server()
    try:
        final = training_job.train_and_follow(
            config, state.store(), lambda snap: set_progress(view(snap)), seeds=form.seeds_value(seeds)
        )
    except RunError as exc:
        return dbc.Alert(f"Not started: {exc}.", color="warning", className="mb-0", id="train-busy"), no_update
    set_progress(render(final))
    return result_panel(final), final["run_id"]


_START = [
    Output("train-result", "children"),
    Output("train-watch", "data"),
    Input("train-start", "n_clicks"),
    State("train-model", "value"),
    *FIELD_STATES,
    State("train-seeds", "value"),
]
if training_job.tied_to_launcher():
    callback(
        *_START,
        background=True,
        prevent_initial_call=True,
        progress=_outputs(),
        running=[
            (Output("train-start", "disabled"), True, False),
            (Output("train-cancel", "disabled"), False, True),
            (Output("train-monitor", "disabled"), True, False),
        ],
        cancel=[Input("train-cancel", "n_clicks")],
    )(start_training_on_worker)
else:
    callback(*_START, prevent_initial_call=True)(start_training)


@callback(
    *_outputs(allow_duplicate=True),
    Output("train-cancel", "disabled", allow_duplicate=True),
    Output("train-active", "data"),
    Output("train-result", "children", allow_duplicate=True),
    Output("train-message", "children", allow_duplicate=True),
    Output("train-result-of", "data"),
    Input("train-monitor", "n_intervals"),
    Input("train-view-run", "value"),
    State("train-watch", "data"),
    State("train-active", "data"),
    State("train-result-of", "data"),
    prevent_initial_call="initial_duplicate",
)
def monitor(_n, picked, watched, shown_active, result_of):
    store = state.store()
    active = store.active_run_id()
    run_id = picked or active or watched or runs_view.latest_user_run(store)

    def changed(value):  # re-sending the same value would reset the form every second
        return no_update if value == shown_active else value

    if not run_id:
        return (*render(None), True, changed(None), no_update, no_update, no_update)
    try:
        snap = training_job.launch_snapshot(store, run_id)
    except RunError:
        return (*render(None), True, changed(active), no_update, no_update, no_update)
    live = snap["status"] in ("starting", "running", "queued")
    # the result panel (and the end of "Stopping …") is sent once per run ending shown, never each
    # second: a panel re-sent every tick would be replaced under the pointer of a person clicking its links
    ending = None if live else f"{run_id}:{snap['status']}:{run_id == watched}"
    result: Any = no_update
    message: Any = no_update
    ending_out: Any = no_update
    if not live and ending != result_of:
        result, message, ending_out = (result_panel(snap) if run_id == watched else None), "", ending
    started = f"{run_id}:started"
    if live and snap["status"] != "starting" and run_id == watched and result_of != started:
        result, ending_out = None, started  # "Starting <run>…" goes once its bar runs
    return (
        *render(snap),
        not (live or active),
        changed(active or (run_id if live else None)),
        result,
        message,
        ending_out,
    )


@callback(
    Output("train-view-run", "value", allow_duplicate=True),
    Input("train-start", "n_clicks"),
    prevent_initial_call=True,
)
def follow_new_run(_n):
    """Start shows the new run, whatever was being replayed."""
    return None


@callback(
    Output("train-message", "children"),
    Input("train-cancel", "n_clicks"),
    State("train-watch", "data"),
    prevent_initial_call=True,
)
def cancel(_n, watched):
    store = state.store()
    try:  # the run this page started (train-watch): a run id, or nothing if the page sent anything else
        watched = validate_run_id(watched) if isinstance(watched, str) else None
    except InvalidRunId:
        watched = None
    run_id = store.active_run_id() or watched
    if run_id and not store.exists(run_id) and training_job.cancel_launch(run_id):
        return f"Stopped {run_id} before it started."
    scoring = run_id and store.exists(run_id) and (store.progress(run_id) or {}).get("stage") == "evaluate"
    if scoring and not training_job.tied_to_launcher():  # (on Celery the button also stops the worker's task)
        return (
            f"{run_id} has finished training and is being scored on the test photos; this last step is not "
            "cancelled (it ends by itself in moments). Delete the run afterwards if you do not want it."
        )
    if run_id and store.exists(run_id) and store.request_cancel(run_id):
        return f"Stopping {run_id}…"
    return "Nothing is running."
