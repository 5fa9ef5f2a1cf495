"""The layout of /insights ("What helps"): the study picker, the forest plot and its sentences, one
technique's curves, how it was measured, and the form that starts a new study."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from core.ablation.techniques import TECHNIQUES
from core.data.dataset import N_VAL, spaced
from core.story.helps import TERMS as HELPS_TERMS
from core.training import presets
from dashboard.components.cards import figure_card
from dashboard.figures.style import empty_figure

INTRO = (
    "Which techniques make a model more accurate? Each study trains a base recipe and variants that change "
    "one thing each (or, in a factorial study, every technique on and off in a balanced pattern), several "
    "times with different random seeds. A technique counts only when its effect is larger than the "
    "seed-to-seed spread after adjusting for how many techniques were tested. Every verdict holds at its "
    "study's budget (epochs and photos): what helps at 4 epochs may hurt at 24. Everything is judged on the "
    "validation photos; the test photos are never used."
)
TERMS = {
    "seed": "The number that fixes the random choices of a training (starting weights, photo order).",
    "95 % interval": "Student-t interval of the mean paired difference over seeds (not adjusted).",
    "budget": "Epochs × training photos of every run in a study; a verdict holds at that budget.",
    "Holm": "An adjustment for testing many techniques at once, so chance alone rarely makes one look real.",
    "validation": f"{spaced(N_VAL)} labelled photos kept out of training and used to make choices.",
    **{k: HELPS_TERMS[k] for k in ("averaged over", "comparisons", "bfloat16")},
}


def page(options: list[dict[str, str]], chosen: str | None) -> html.Div:
    return html.Div(
        [
            html.H2("What helps"),
            html.P(INTRO, className="text-muted"),
            html.Div(
                [html.Abbr(term, title=meaning, className="me-3 small") for term, meaning in TERMS.items()],
                className="mb-2",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        dcc.Dropdown(
                            id="insights-study",
                            options=options,
                            value=chosen,
                            clearable=False,
                            placeholder="No study yet: start one below",
                        ),
                        md=8,
                    ),
                    dbc.Col(html.Div(id="insights-status", className="small text-muted pt-2"), md=4),
                ],
                className="mb-3",
            ),
            html.Div(id="insights-budget", className="mb-2"),
            dbc.Row(
                [
                    dbc.Col(
                        figure_card(
                            "Effect of each technique on validation accuracy",
                            "insights-forest",
                            empty_figure(""),
                            "Each marker is the effect of having the technique (or of the change named), the bar "
                            "its 95 % interval; one shape per budget. Right of the dashed line: more accurate; "
                            "left: less. Green or red: beyond chance after the adjustment; amber: only before it; "
                            "grey: no measurable effect. Click a row for its runs' curves.",
                        ),
                        lg=7,
                    ),
                    dbc.Col(
                        dbc.Card(
                            [
                                dbc.CardHeader(html.H5("In plain words", className="mb-0")),
                                dbc.CardBody(html.Div(id="insights-sentences", className="small")),
                            ],
                            className="h-100",
                        ),
                        lg=5,
                    ),
                ],
                className="g-3",
            ),
            html.Div(id="insights-interactions"),
            dbc.Row(
                [
                    dbc.Col(
                        figure_card("The runs behind one technique", "insights-curves", empty_figure(""), None), lg=7
                    ),
                    dbc.Col(
                        dbc.Card(
                            [
                                dbc.CardHeader(html.H5("How it was measured", className="mb-0")),
                                dbc.CardBody(html.Div(id="insights-method", className="small")),
                            ],
                            className="h-100",
                        ),
                        lg=5,
                    ),
                ],
                className="g-3 mt-1",
            ),
            start_form(),
            dcc.Store(id="insights-technique"),
            dcc.Interval(id="insights-poll", interval=5000, disabled=True),
            dcc.Location(id="insights-location", refresh="callback-nav"),
        ]
    )


def start_form() -> Any:
    """Start a new study: a preset as the base, the techniques, seeds and the budget."""
    field = "mb-2"
    return dbc.Card(
        [
            dbc.CardHeader(html.H5("Start a study", className="mb-0")),
            dbc.CardBody(
                [
                    dbc.Row(
                        [
                            dbc.Col(
                                [
                                    dbc.Label("Base recipe"),
                                    dbc.Select(
                                        id="insights-preset",
                                        options=[{"label": p.title, "value": p.name} for p in presets.PRESETS.values()],
                                        value="fast",
                                    ),
                                ],
                                md=3,
                                className=field,
                            ),
                            dbc.Col(
                                [dbc.Label("Seeds"), dbc.Input(id="insights-seeds", type="number", value=3, min=1)],
                                md=2,
                                className=field,
                            ),
                            dbc.Col(
                                [
                                    dbc.Label("Training photos"),
                                    dbc.Input(id="insights-subset", type="number", value=12000, min=100, step=100),
                                ],
                                md=3,
                                className=field,
                            ),
                            dbc.Col(
                                [dbc.Label("Epochs"), dbc.Input(id="insights-epochs", type="number", value=4, min=1)],
                                md=2,
                                className=field,
                            ),
                            dbc.Col(
                                [dbc.Label("Name (optional)"), dbc.Input(id="insights-name", type="text")],
                                md=2,
                                className=field,
                            ),
                        ]
                    ),
                    dbc.Row(
                        [
                            dbc.Col(
                                [
                                    dbc.Label("Budgets (optional: epochs x photos, replaces the two above)"),
                                    dbc.Input(id="insights-budgets", type="text", placeholder="e.g. 4x12000,8xall"),
                                ],
                                md=6,
                                className=field,
                            ),
                            dbc.Col(
                                [
                                    dbc.Label("Design"),
                                    dbc.Select(
                                        id="insights-design",
                                        options=[
                                            {"label": "One change at a time", "value": "one-at-a-time"},
                                            {
                                                "label": "Fractional factorial (every run informs every effect)",
                                                "value": "factorial",
                                            },
                                        ],
                                        value="one-at-a-time",
                                    ),
                                ],
                                md=6,
                                className=field,
                            ),
                        ]
                    ),
                    dbc.Label("Techniques"),
                    dbc.Checklist(
                        id="insights-techniques",
                        options=[{"label": title, "value": key} for key, (title, _s, _b) in TECHNIQUES.items()],
                        value=list(TECHNIQUES),
                        inline=True,
                        className="mb-2",
                    ),
                    html.Div(
                        [
                            dbc.Button("Start the study", id="insights-start", color="primary", n_clicks=0),
                            dbc.Button(
                                "Stop",
                                id="insights-stop",
                                color="secondary",
                                outline=True,
                                n_clicks=0,
                                className="ms-2",
                            ),
                            dbc.Button("Resume", id="insights-resume", color="link", n_clicks=0, className="ms-1"),
                        ]
                    ),
                    html.Div(id="insights-message", className="mt-2"),
                ]
            ),
        ],
        className="mt-3",
    )
