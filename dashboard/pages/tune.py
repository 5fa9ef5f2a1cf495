"""/tune: define and start an Optuna study, follow it live, stop it, promote its best trial.

The study runs as its own process (`python -m core tune`, see dashboard.tuning_job); this page
reads the study storage and the run store every two seconds, so a reload or another tab finds it.
`?study=NAME` opens a study (a shareable link).
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from core.data.dataset import N_TRAIN, spaced
from core.models.rules import ConfigError
from core.store import InvalidRunId, RunError
from core.tuning import study as studies
from dashboard import tuning_job
from dashboard.components import tune_layout
from dashboard.figures.tuning import FIGURES, study_figure

dash.register_page(__name__, path="/tune", name="Tune", order=6, title="Tune · Fashion-MNIST Studio")


def _options() -> list[dict]:
    try:
        listed = studies.list_studies()
    except Exception:  # no storage yet (nothing tuned on this machine)
        return []
    return [
        {
            "label": f"{s['study']} · {s['model']} · {s['trials']} trials" + (" · running" if s["running"] else ""),
            "value": s["study"],
        }
        for s in listed
    ]


def layout(study: str | None = None, **_query) -> html.Div:
    options = _options()
    chosen = study if any(o["value"] == study for o in options) else (options[0]["value"] if options else None)
    return tune_layout.page(options, chosen)


def _overrides(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


@callback(
    Output("tune-message", "children"),
    Output("tune-study", "options"),
    Output("tune-study", "value"),
    Input("tune-start", "n_clicks"),
    State("tune-model", "value"),
    State("tune-trials", "value"),
    State("tune-subset", "value"),
    State("tune-epochs", "value"),
    State("tune-space", "value"),
    State("tune-name", "value"),
    prevent_initial_call=True,
)
def start(_n, model, trials, subset, epochs, space, name):
    try:
        if trials in (None, ""):
            raise ConfigError("give a trial budget: a whole number from 1 to 500")
        if not isinstance(trials, int) or isinstance(trials, bool):
            raise ConfigError(f"the trial budget must be a whole number from 1 to 500, got {str(trials)[:20]!r}")
        started = tuning_job.start_study(model, trials, subset, epochs, _overrides(space), name or None)
    except (ConfigError, InvalidRunId, RunError) as exc:
        return (
            dbc.Alert(f"Not started: {exc}.", color="danger", className="mb-0", id="tune-refused"),
            no_update,
            no_update,
        )
    options = _options()
    if not any(o["value"] == started for o in options):
        options = [{"label": f"{started} · starting", "value": started}, *options]
    return html.Span(f"Started {started}.", id="tune-started"), options, started


@callback(
    Output("tune-space", "placeholder"),
    Output("tune-space-help", "children"),
    Output("tune-epochs", "disabled"),
    Input("tune-model", "value"),
)
def model_changed(model):
    """The search-range example and help follow the chosen model; epochs only for networks."""
    from core.models import SPECS

    if not isinstance(model, str) or model not in SPECS:
        return no_update, no_update, no_update
    return tune_layout.space_hint(model), tune_layout.space_help(model), not SPECS[model].has_epochs


@callback(Output("tune-promote", "disabled"), Input("tune-study", "value"))
def promote_needs_a_study(name):
    return not name


@callback(Output("tune-message", "children", allow_duplicate=True), Input("tune-stop", "n_clicks"),
          State("tune-study", "value"), prevent_initial_call=True)  # fmt: skip
def stop(_n, name):
    if not isinstance(name, str) or not name:
        return "Choose a study first."
    try:
        return f"Stopping {name}…" if studies.request_stop(name) else f"{name} is not running."
    except InvalidRunId:
        return f"No study named {name[:40]!r}: choose one from the list."


@callback(Output("tune-message", "children", allow_duplicate=True), Input("tune-promote", "n_clicks"),
          State("tune-study", "value"), prevent_initial_call=True)  # fmt: skip
def promote(_n, name):
    if not isinstance(name, str) or not name:
        return "Choose a study first."
    try:
        tuning_job.promote(name)
    except (ConfigError, InvalidRunId, RunError) as exc:
        return dbc.Alert(f"Not promoted: {exc}.", color="warning", className="mb-0")
    return html.Span(
        [
            f"Retraining the best settings on all {spaced(N_TRAIN)} photos: follow it on ",
            dcc.Link("Train", href="/train"),
            ".",
        ],
        id="tune-promoting",
    )


@callback(
    Output("tune-summary", "children"),
    Output("tune-trials-table", "children"),
    *[Output(f"tune-fig-{key}", "figure") for key in FIGURES],
    Output("tune-study", "options", allow_duplicate=True),
    Input("tune-monitor", "n_intervals"),
    Input("tune-study", "value"),
    State("tune-study", "options"),
    prevent_initial_call="initial_duplicate",
)
def follow(_n, name, shown_options):
    if not name:
        return "No study yet: start one on the left.", None, *[no_update] * len(FIGURES), no_update
    try:
        result = studies.summary(name)
        study = studies.load(name)
    except Exception as exc:  # storage just created by the starting process, or a vanished study
        return f"Waiting for {name}… ({exc.__class__.__name__})", None, *[no_update] * len(FIGURES), no_update
    try:
        figures = [study_figure(study, key) for key in FIGURES]
    except Exception:  # the storage is busy with a trial being written (SQLite); next poll redraws
        figures = [no_update] * len(FIGURES)
    options = _options()  # "· starting" / "· running" labels follow the studies' real state
    return _summary_line(result), _table(result), *figures, (no_update if options == shown_options else options)


def _summary_line(result: dict) -> html.Div:
    best = result["best"]
    states = [t["state"] for t in result["trials"]]
    text = (
        f"{result['study']} · {result.get('model')} · {'running' if result['running'] else 'not running'} · "
        f"{states.count('complete')} finished, {states.count('pruned')} pruned, {states.count('fail')} failed"
    )
    if states.count("running") > 1:
        text += f" · {states.count('running')} trials training at once"
    if result["waiting"]:
        text += f" · {result['waiting']} queued for a worker"
    if best:
        text += f" · best so far: trial {best['number']}, {100 * best['val_accuracy']:.2f} % of validation photos right"
    return html.Div(
        [
            html.Strong(text, id="tune-best"),
            html.Div("; ".join(result.get("space") or []), className="small text-muted"),
        ]
    )


def _table(result: dict) -> dbc.Table:
    headers = ("Trial", "State", "Validation", "Settings", "Run", "Worker")
    head = html.Thead(html.Tr([html.Th(h) for h in headers]))
    rows = []
    for t in reversed(result["trials"]):
        val = "" if t["val_accuracy"] is None else f"{100 * t['val_accuracy']:.2f} %"
        settings = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in t["params"].items())
        link = dcc.Link(t["run_id"], href=f"/train?run={t['run_id']}") if t["run_id"] else ""
        state = html.Td([t["state"], html.Div(t["error"], className="text-danger")] if t["error"] else t["state"])
        worker = html.Td(t["worker"] or "", className="text-muted")
        rows.append(html.Tr([html.Td(t["number"]), state, html.Td(val), html.Td(settings), html.Td(link), worker]))
    return dbc.Table([head, html.Tbody(rows)], size="sm", striped=True, hover=True, id="tune-table", className="small")
