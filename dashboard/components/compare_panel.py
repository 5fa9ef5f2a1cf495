"""The answer to "is run A really better than run B?", as the leaderboard and /errors show it:
the verdict sentence, the counts behind it and a link to the photos where the two runs disagree.
Every figure comes from core.evaluation.comparison (the CLI and the API give the same)."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, dcc, html

from core.data.dataset import N_TEST, spaced
from core.evaluation import comparison, leaderboard, stats, wording
from core.evaluation.facts import Paired
from core.store import RunError
from dashboard import state

HELP = (
    f"Both runs are scored on the same {spaced(N_TEST)} test photos, so only the photos where exactly one of them is "
    "right tell them apart. The exact McNemar test asks how likely a split at least this lopsided is if the "
    "two were equally good (the p-value); below 0.05 the difference is called beyond chance. The interval is "
    "Newcombe's 95 % interval for the difference in accuracy."
)


def verdict_card(a: str, b: str, component_id: str, link: bool = True) -> Any:
    """A card with the paired comparison of runs `a` and `b`, or a warning saying why there is none."""
    try:
        result = comparison.compare_runs(a, b, state.store())
    except RunError as exc:
        return dbc.Alert(f"No comparison: {exc}.", color="warning", id=component_id)
    return verdict_body(result, component_id, link)


def verdict_body(result: dict[str, Any], component_id: str, link: bool = True) -> Any:
    c = Paired.of(result, result["a"], result["b"])  # engineers' panel: run ids, the same facts and words
    a, b = c.a, c.b
    low, high = (wording.points(v) for v in c.interval)
    beyond = c.beyond_chance
    counts = html.Ul(
        [
            html.Li(f"{a}: {100 * c.accuracy_a:.2f} % · {b}: {100 * c.accuracy_b:.2f} %"),
            html.Li(
                f"Only {a} right: {c.a_only} photos · only {b} right: {c.b_only} photos · both right "
                f"{c.both_right:,}, both wrong {c.both_wrong:,}"
            ),
            html.Li(
                f"Difference {wording.points(c.difference)} points (95 % interval {low} to {high}); "
                f"exact McNemar {stats.p_text(c.p)}"
            ),
        ],
        className="small mb-1",
    )
    children = [
        html.Strong("Beyond chance. " if beyond else "Could be noise. "),
        html.Span(wording.verdict(c), className="verdict-text"),
        counts,
        html.Details([html.Summary("How is this decided?"), html.P(HELP, className="small mb-0")], className="small"),
    ]
    if link:
        children.append(
            dcc.Link(
                f"See the {c.a_only + c.b_only} photos only one of them gets right →",
                href=f"/errors?run={a}&compare={b}",
                className="small",
            )
        )
    return dbc.Alert(children, color="success" if beyond else "secondary", id=component_id, className="mb-0")


def grid_rows(value) -> list[dict]:
    """Rows as the leaderboard grid sends them (a list of row objects); anything else is no rows."""
    return [r for r in value if isinstance(r, dict)] if isinstance(value, list) else []


# registered by the leaderboard page (Dash runs page modules once per app; this module only once)
VERDICT_IO = (
    Output("leaderboard-verdict-box", "children"),
    Input("leaderboard-grid", "selectedRows"),
    Input("leaderboard-top", "data"),
)


def leaderboard_verdict(selected, rows):
    """The paired test of the two most accurate ticked runs (the top two of the table, `rows`, until
    rows are ticked)."""
    chosen = [r for r in grid_rows(selected) if r.get("status") == "completed"]
    chosen = chosen if len(chosen) >= 2 else leaderboard.completed(grid_rows(rows))
    chosen = sorted(chosen, key=lambda r: -(r.get("test_accuracy") or 0))[:2]
    if len(chosen) < 2:
        return html.P("Tick two finished runs to test whether one is better beyond chance.", className="text-muted")
    return verdict_card(str(chosen[0]["run_id"]), str(chosen[1]["run_id"]), "leaderboard-verdict")
