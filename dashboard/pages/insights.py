"""/insights ("What helps"): which techniques make a model more accurate, from ablation studies measured
over seeds on the validation split (core.ablation), each verdict with its budget. `?study=NAME` opens a study; `&technique=KEY`
opens one technique's curves. A running study is followed every five seconds."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, html, no_update

from core.ablation import results, wording
from core.ablation import study as studies
from core.models.rules import ConfigError
from core.store import InvalidRunId, RunError
from dashboard import ablation_job, state
from dashboard.components import insights_layout, insights_results
from dashboard.figures.insights import forest_plot, variant_curves, variant_label
from dashboard.figures.style import empty_figure

dash.register_page(__name__, path="/insights", name="What helps", order=7, title="What helps · Fashion-MNIST Studio")


def _options() -> list[dict[str, str]]:
    return [
        {
            "label": f"{s['study']} · {s['base_from']} · {s['seeds']} seeds · {s['runs_done']}/{s['runs_total']} runs"
            + (" · running" if s["running"] else ""),
            "value": s["study"],
        }
        for s in studies.list_studies(state.store())
    ]


def layout(study: str | None = None, **_query) -> html.Div:
    """`?study=NAME`, else the study the story and the managers' summary cite (so the menu's "What helps"
    opens what slide 7 says), else the first one."""
    options = _options()
    names = [o["value"] for o in options]
    cited = results.cited_name(state.store())
    chosen = study if study in names else cited if cited in names else (names[0] if names else None)
    return insights_layout.page(options, chosen)


def _summary(name: Any) -> dict[str, Any] | str:
    if not isinstance(name, str) or not name:
        return "No study chosen: start one below, or run `python -m core ablate --preset fast`."
    try:
        return studies.summary(name, state.store())
    except (ConfigError, InvalidRunId, RunError, ValueError, KeyError) as exc:
        return f"This study cannot be read: {exc}"


@callback(
    Output("insights-forest", "figure"),
    Output("insights-sentences", "children"),
    Output("insights-method", "children"),
    Output("insights-status", "children"),
    Output("insights-poll", "disabled"),
    Output("insights-budget", "children"),
    Output("insights-interactions", "children"),
    Input("insights-study", "value"),
    Input("insights-poll", "n_intervals"),
)
def show(name, _n):
    s = _summary(name)
    if isinstance(s, str):
        return empty_figure(s), html.P(s, className="text-muted"), "", "", True, "", []
    status = f"{s['runs_done']} of {s['runs_total']} runs finished" + (" · running" if s["running"] else "")
    return (
        forest_plot(s),
        insights_results.sentences(s),
        insights_results.method(s),
        status,
        not s["running"],
        insights_results.budget_block(s),
        insights_results.interactions(s),
    )


@callback(
    Output("insights-curves", "figure"),
    Input("insights-forest", "clickData"),
    Input("insights-study", "value"),
)
def curves(click, name):
    s = _summary(name)
    if isinstance(s, str):
        return empty_figure(s)
    points = (click or {}).get("points") or [{}]
    data = points[0].get("customdata") if isinstance(points[0], dict) else None
    key = data[0] if isinstance(data, list) and data else None
    budget = data[1] if isinstance(data, list) and len(data) > 1 else None
    if s.get("design") == "factorial":
        return empty_figure("A factorial study has no single base to compare with: see its design rows.", height=320)
    variant = (
        next((v for v in s["variants"] if v["key"] == key and (not budget or v["budget"]["key"] == budget)), None)
        if dash.ctx.triggered_id != "insights-study"
        else None
    )
    if variant is None:
        return empty_figure("Click a technique in the plot to see its runs' curves.", height=320)
    runs: dict[str, list] = {}
    store = state.store()
    base_runs = s["base_runs_by_budget"].get(variant["budget"]["key"], [])
    for label, rows in (("base", base_runs), (variant["key"], variant["runs"])):
        for r in rows:
            seed = r["run_id"].rsplit("-s", 1)[-1]
            try:
                runs[f"{label} · seed {seed}"] = store.history(r["run_id"])
            except RunError:
                continue
    where = wording.short_budget(variant["budget"])
    return variant_curves(runs, f"{variant_label(variant)} (green) against the base (grey), {where}")


@callback(
    Output("insights-message", "children"),
    Output("insights-study", "options"),
    Output("insights-study", "value"),
    Input("insights-start", "n_clicks"),
    Input("insights-stop", "n_clicks"),
    Input("insights-resume", "n_clicks"),
    State("insights-study", "value"),
    State("insights-preset", "value"),
    State("insights-seeds", "value"),
    State("insights-subset", "value"),
    State("insights-epochs", "value"),
    State("insights-techniques", "value"),
    State("insights-name", "value"),
    State("insights-budgets", "value"),
    State("insights-design", "value"),
    prevent_initial_call=True,
)
def act(_start, _stop, _resume, current, preset, seeds, subset, epochs, only, name, budgets, design):
    """Start a new study, stop the chosen one, or resume it; every refusal is said in one line."""
    action = dash.ctx.triggered_id
    try:
        if action == "insights-start":
            if not isinstance(only, list) or not only:
                raise ConfigError("tick at least one technique")
            chosen = ablation_job.start(
                str(preset),
                int(seeds or 0),
                int(subset) if subset else None,
                int(epochs or 0) or None,
                only,
                name,
                budgets=str(budgets).strip() if budgets else None,
                design=str(design or "one-at-a-time"),
            )
            text, color = f"Study {chosen} started: its runs appear here as they finish.", "success"
        elif not isinstance(current, str) or not current:
            raise ConfigError("choose a study first")
        elif action == "insights-stop":
            chosen = current
            stopped = studies.request_stop(current)
            text = f"{current} stops after its current run." if stopped else f"{current} is not running."
            color = "info"
        else:
            chosen = current
            if studies.is_running(current, state.store()):
                raise ConfigError(f"{current} is already running")
            ablation_job.resume(current)
            text, color = f"{current} resumed: finished runs are kept.", "success"
    except (ConfigError, InvalidRunId, RunError, TypeError, ValueError) as exc:
        return dbc.Alert(f"Nothing started: {exc}", color="warning", dismissable=True), no_update, no_update
    return dbc.Alert(text, color=color, dismissable=True, duration=8000), _options(), chosen


@callback(Output("insights-location", "search"), Input("insights-study", "value"), prevent_initial_call=True)
def remember(name):
    return f"?study={name}" if isinstance(name, str) and name else no_update
