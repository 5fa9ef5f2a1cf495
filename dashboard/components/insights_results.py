"""What /insights shows of one study: its budget (and a changed preset), the sentences, how it was
measured, and for a factorial study its interactions and aliases. Built only from
`core.ablation.results.summary`, whose sentences already name their budget."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from core.ablation import wording
from core.data.dataset import N_TRAIN, spaced
from dashboard.figures.insights import interaction_plot

MAX_INTERACTION_PLOTS = 3


def budget_block(s: dict[str, Any]) -> list[Any]:
    """The budget every verdict below holds at, and a warning when the preset it started from has changed."""
    if s.get("design") == "factorial":
        lines = [html.Li(s["scope"].removeprefix("At ").capitalize(), className="fw-semibold")]
    else:
        lines = [html.Li(b["words"][0].upper() + b["words"][1:], className="fw-semibold") for b in s["budgets"]]
    citable = all(b.get("citable") for b in s["budgets"])
    out: list[Any] = [
        html.Div("Every verdict on this page holds at this budget only:", className="small text-muted"),
        html.Ul(lines, id="insights-budget-list", className="mb-1"),
    ]
    if not citable:
        out.append(
            dbc.Alert(
                "A short budget: its verdicts favour whatever learns fast and may not hold at the budgets the presets "
                f"train at (all {spaced(N_TRAIN)} photos, at least the fast preset's epochs). The story and the "
                "managers' summary never cite it.",
                color="warning",
                className="small py-2 mb-1",
                id="insights-short-budget",
            )
        )
    if s.get("recipe_note"):
        out.append(dbc.Alert(s["recipe_note"], color="info", className="small py-2 mb-1", id="insights-recipe-note"))
    return out


def sentences(s: dict[str, Any]) -> list[Any]:
    """The lead (how many effects survive the adjustment) and one sentence per technique."""
    if s.get("design") == "factorial":
        fit = s["fit"]
        if not fit.get("fitted"):
            lead = (
                f"Unfinished: {s['runs_done']} of {s['runs_total']} runs so far; the fit needs at least "
                f"{fit.get('needed')} finished runs."
            )
            return [html.P(lead, id="insights-lead")]
        items = s["main_effects"]
    else:
        items = s["variants"]
    measured = [v for v in items if v["measurable"]]
    total = s["comparisons"]
    lead = (
        f"{len(measured)} of {total} effects are beyond chance, adjusted for {wording.comparisons_words(total)} "
        "(Holm); the intervals drawn are unadjusted."
    )
    if s["runs_done"] != s["runs_total"]:
        lead = f"Unfinished: {s['runs_done']} of {s['runs_total']} runs so far. " + lead
    out: list[Any] = [
        html.P(lead, id="insights-lead"),
        html.Ul(
            [html.Li(v["sentence"], className="fw-semibold" if v["measurable"] else "text-muted") for v in items],
            id="insights-list",
        ),
    ]
    if s.get("across_budgets"):
        out += [
            html.H6("How the verdicts change with the budget", className="mt-2"),
            html.Ul([html.Li(t) for t in s["across_budgets"]], id="insights-across"),
        ]
    return out


def interactions(s: dict[str, Any]) -> list[Any]:
    """A factorial study's strongest interactions (a plot and a sentence each) and its alias chains."""
    if s.get("design") != "factorial" or not s["fit"].get("fitted"):
        return []
    cards = [
        dbc.Col(
            dbc.Card(
                [
                    dbc.CardHeader(e["name"], className="small fw-semibold"),
                    dbc.CardBody(
                        [
                            dcc.Graph(figure=interaction_plot(e), config={"displayModeBar": False}),
                            html.P(e["sentence"], className="small mb-0"),
                        ]
                    ),
                ],
                className="h-100",
            ),
            lg=4,
        )
        for e in s["interactions"][:MAX_INTERACTION_PLOTS]
    ]
    chains = [html.Li(" = ".join(chain)) for chain in s["aliases"]]
    return [
        html.H5("Interactions: does a technique's effect depend on another?", className="mt-3"),
        dbc.Row(cards, className="g-3", id="insights-interaction-plots"),
        html.H6("Aliases: effects this design cannot tell apart", className="mt-3"),
        html.Ul(chains, id="insights-aliases", className="small"),
    ]


def method(s: dict[str, Any]) -> html.Div:
    """How it was measured, in full: base, seeds, design, error term, adjustment, command."""
    base = s.get("base") or {}
    if s.get("design") == "factorial":
        fit = s["fit"]
        design = (
            f"A two-level fractional-factorial design of resolution {s.get('resolution') or 'full'} "
            f"({len(s['factors'])} factors, {len(s['variants'])} runs per seed, seeds "
            f"{', '.join(map(str, s['seeds']))}), fitted by least squares: each main effect is the mean of the "
            "runs with the technique minus those without, averaged over every other setting."
            + (
                f" Intervals from the residual spread ({fit['residual_df']} degrees of freedom)."
                if fit.get("fitted")
                else ""
            )
        )
    else:
        acc = s["base_accuracy"]
        spread = f" ± {100 * acc['sd']:.2f}" if acc.get("sd") is not None else ""
        mean = f"{100 * acc['mean']:.2f}{spread} %" if acc.get("mean") is not None else "not finished yet"
        design = (
            f"One change at a time against the base, with seeds {', '.join(map(str, s['seeds']))}; each variant is "
            "compared with the base trained with the same seed and budget; the effect is the mean of those "
            f"differences, the interval a Student-t 95 % interval over seeds. Base validation accuracy at "
            f"{wording.short_budget(s['budget'])}: {mean}. Training time: the range of run times on this machine, "
            "called a cost only when the ranges do not overlap."
        )
    return html.Div(
        [
            html.P(f"Base: {s['base_from']} ({base.get('model', '–')}).", id="insights-base"),
            html.P(design),
            html.P(
                "A verdict counts only after Holm's adjustment for the number of effects tested. Judged on: "
                + str(s.get("judged_on") or "the validation split")
                + "."
            ),
            html.P(f"Command: python -m core ablate show {s['study']} --json", className="font-monospace"),
        ]
    )
