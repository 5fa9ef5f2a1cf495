"""/race ("Race": same training time, which model?): architectures raced at equal training time on this machine
(core.race), judged on the validation split: the time-to-accuracy chart, the table of every
architecture at every budget (epochs, planned and actual seconds, accuracy over seeds) and one
sentence per paired comparison, Holm-adjusted. `?race=NAME` opens a race; the default is ref-race."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, callback, dcc, html

from core.models.rules import ConfigError
from core.race import results, study
from core.race.plan import REFERENCE
from core.store import RunError
from core.story.figures import race_curves

dash.register_page(__name__, path="/race", name="Race", order=8, title="Race · Fashion-MNIST Studio")
DEFAULT = REFERENCE


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.2f} %"


def _table(result: dict[str, Any]) -> dbc.Table:
    head = ("budget", "architecture", "epochs", "planned s", "actual s", "validation (mean)", "seeds' range")
    body = []
    for b in result["budgets"]:
        for c in b["cells"]:
            acc = c["accuracy"]
            body.append(
                html.Tr(
                    [
                        html.Td(b["words"]),
                        html.Td(c["title"], className="fw-semibold" if c["entrant"] == b["leader"] else None),
                        html.Td(f"{c['epochs']} ({'bfloat16' if c['precision'] == 'mixed_bfloat16' else 'float32'})"),
                        html.Td(f"{c['planned_seconds']:.0f}"),
                        html.Td("–" if c["actual_seconds"] is None else f"{c['actual_seconds']:.0f}"),
                        html.Td(_pct(acc["mean"])),
                        html.Td("–" if not acc["n"] else f"{_pct(acc['min'])}–{_pct(acc['max'])} ({acc['n']})"),
                    ]
                )
            )
    return dbc.Table(
        [html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(body)],
        size="sm",
        striped=True,
        className="small",
        id="race-table",
    )


def _method(result: dict[str, Any]) -> html.Details:
    timing = result["timing"]
    per_epoch = ", ".join(f"{k} {v:.1f} s" for k, v in timing["seconds_per_epoch"].items())
    recipe = ", ".join(f"{k} {v}" for k, v in (result.get("shared_recipe") or {}).items())
    return html.Details(
        [
            html.Summary("How the race was run"),
            html.Ul(
                [
                    html.Li(f"Judged on the {result['judged_on']}; seeds {', '.join(map(str, result['seeds']))}."),
                    html.Li(f"One recipe for every architecture: {recipe}."),
                    html.Li(f"Tuning: {result['tuning']}."),
                    html.Li(
                        f"Seconds per epoch ({per_epoch}) measured {timing.get('measured_at')} on {timing.get('machine')}: "
                        f"{timing.get('method')}. The epochs of each budget were planned from them, so the runs "
                        "themselves could share the machine; their actual seconds are shown beside the plan."
                    ),
                    html.Li(
                        "Paired by seed: at each budget, the same seed index of two architectures; a Student-t "
                        f"interval over seeds, Holm-adjusted over all {result['comparisons']} comparisons."
                    ),
                ],
                className="small text-muted",
            ),
        ]
    )


def layout(race: str | None = None, **_query) -> html.Div:
    races = study.list_races()
    names = [r["race"] for r in races]
    chosen = race if race in names else DEFAULT if DEFAULT in names else (names[0] if names else None)
    picker = dcc.Dropdown(
        id="race-picker",
        options=[
            {"label": f"{r['race']} · {r['runs_done']}/{r['runs_total']} runs", "value": r["race"]} for r in races
        ],
        value=chosen,
        clearable=False,
    )
    return html.Div(
        [
            html.H2("Same training time: which model is most accurate?"),
            html.P(
                "Each architecture trained for the same seconds on this machine, with the same recipe; the question "
                "people who pay for CPU time ask (DAWNBench, MLPerf Training).",
                className="text-muted",
            ),
            dbc.Row(dbc.Col(picker, md=6), className="mb-3"),
            html.Div(id="race-body"),
            dcc.Interval(id="race-poll", interval=10_000),
        ]
    )


@callback(Output("race-body", "children"), Input("race-picker", "value"), Input("race-poll", "n_intervals"))
def show(name, _n):
    if not name:
        return dbc.Alert(
            "No race yet: python -m core race start --name my-race --budgets 150,600 --seeds 2", color="info"
        )
    try:
        result = results.summary(name)
    except (ConfigError, RunError, ValueError, KeyError) as exc:
        return dbc.Alert(f"This race cannot be read: {exc}", color="warning", id="race-problem")
    sentences = [html.Li(p["sentence"]) for b in result["budgets"] for p in b["pairs"]]
    return html.Div(
        [
            html.P(f"{result['runs_done']} of {result['runs_total']} runs finished.", id="race-progress"),
            dcc.Graph(id="race-chart", figure=race_curves(results.curve_rows(result), result["entrants"])),
            html.Ul(sentences, id="race-sentences"),
            _table(result),
            _method(result),
        ]
    )
