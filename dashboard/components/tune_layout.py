"""The /tune page's layout: the study form on the left, the followed study on the right."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from core.data.dataset import N_TRAIN, spaced
from core.models import SPECS
from dashboard.components.cards import figure_card
from dashboard.figures.style import empty_figure
from dashboard.figures.tuning import FIGURES

DEFAULT_MODEL = "cnn"


def _field(label: str, control, help_text) -> html.Div:
    return html.Div(
        [dbc.Label(label, className="mb-0 small fw-semibold"), control, dbc.FormText(help_text)], className="mb-2"
    )


def form() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(html.H5("New study", className="mb-0")),
            dbc.CardBody(
                [
                    _field(
                        "Model",
                        dbc.Select(
                            id="tune-model",
                            options=[{"label": s.label, "value": n} for n, s in SPECS.items()],
                            value=DEFAULT_MODEL,
                            size="sm",
                        ),
                        "what to tune",
                    ),
                    html.Div(
                        [
                            dbc.Button("Start study", id="tune-start", color="success", className="me-2", n_clicks=0),
                            dbc.Button("Stop", id="tune-stop", color="danger", outline=True, n_clicks=0),
                        ],
                        className="mb-2",
                    ),
                    html.Div(id="tune-message", className="small mb-2", role="alert"),
                    _field("Trials", dbc.Input(id="tune-trials", type="number", value=8, size="sm"), "budget, 1-500"),
                    _field(
                        "Training photos per trial",
                        dbc.Input(id="tune-subset", type="number", value=2000, size="sm"),
                        f"small = fast trials; the best is retrained on all {spaced(N_TRAIN)} when promoted",
                    ),
                    _field(
                        "Epochs per trial",
                        dbc.Input(id="tune-epochs", type="number", value=3, size="sm"),
                        "networks only; blank = the model's default",
                    ),
                    _field(
                        "Search ranges (optional)",
                        dbc.Textarea(id="tune-space", placeholder=space_hint(DEFAULT_MODEL), rows=3),
                        html.Span(
                            space_help(DEFAULT_MODEL),
                            id="tune-space-help",
                        ),
                    ),
                    _field(
                        "Study name (optional)",
                        dbc.Input(id="tune-name", type="text", size="sm"),
                        "an existing name continues that study",
                    ),
                ]
            ),
        ]
    )


def follow(options: list[dict], chosen: str | None) -> html.Div:
    figures = [
        dbc.Col(figure_card(caption, f"tune-fig-{key}", empty_figure("Choose or start a study.", height=320)), lg=6)
        for key, (_fn, caption) in FIGURES.items()
    ]
    return html.Div(
        [
            dcc.Dropdown(
                id="tune-study", options=options, value=chosen, placeholder="Follow a study…", className="mb-2"
            ),
            html.Div(id="tune-summary", className="mb-2"),
            html.Div(
                [
                    dbc.Button(
                        "Promote the best",
                        id="tune-promote",
                        color="primary",
                        size="sm",
                        n_clicks=0,
                        disabled=chosen is None,
                    ),
                    html.Span(
                        " retrains the best trial's settings on the full training split as a normal run: the only "
                        "step that uses the test set.",
                        className="small text-muted",
                    ),
                ],
                className="mb-2",
            ),
            html.Div(id="tune-trials-table"),
            dbc.Row(figures, className="g-3 mt-1"),
        ]
    )


def space_hint(model: str) -> str:
    """The search-range box's example: the model's own default space, one range per line."""
    from core.tuning.space import DEFAULT_SPACES

    def line(dim) -> str:
        if dim.kind == "choice":
            return f"{dim.name}={','.join(map(str, dim.choices))}"
        return f"{dim.name}={dim.low:g}:{dim.high:g}"

    return "\n".join(line(dim) for dim in DEFAULT_SPACES.get(model, {}).values()) or "name=low:high"


def space_help(model: str) -> str:
    from core.tuning.space import DEFAULT_SPACES

    names = ", ".join(DEFAULT_SPACES.get(model, {})) or "its parameters"
    return (
        f"one per line, name=low:high or name=a,b,c; blank uses {model}'s default space ({names}); the example shows it"
    )


def page(options: list[dict], chosen: str | None) -> html.Div:
    return html.Div(
        [
            html.H2("Tune hyperparameters"),
            html.P(
                "A study tries settings one trial after another (Optuna's TPE sampler, which proposes new settings "
                "near the ones that scored well so far), each an ordinary run "
                "trained on a subset and scored on the validation photos; trials that fall behind the median "
                "are stopped early (pruned). Reload any time: the study goes on and is found again here.",
                className="text-muted",
            ),
            dbc.Row([dbc.Col(form(), lg=3), dbc.Col(follow(options, chosen), lg=9)], className="g-3"),
            dcc.Interval(id="tune-monitor", interval=2000, n_intervals=0),
            dcc.Location(id="tune-location", refresh="callback-nav"),
        ]
    )
