"""The /train page's layout (its callbacks live in dashboard/pages/train.py)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.components import train_presets
from dashboard.components import training_form as form
from dashboard.figures.training import training_curves


def page(replay_options: list[dict[str, str]], replay: str | None = None) -> html.Div:
    """The /train layout: the settings form on the left, the followed run on the right."""
    return html.Div(
        [
            html.H2("Train a model"),
            html.P(
                "Choose a model and its settings, press Start, and watch it learn. Curves come from the run "
                "record on disk, so you can reload or open this page elsewhere and keep watching.",
                className="text-muted",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        dbc.Card(
                            [
                                dbc.CardHeader(html.H5("Settings", className="mb-0")),
                                dbc.CardBody(
                                    [
                                        train_presets.preset_buttons(),
                                        dbc.Label("Model", html_for="train-model", className="small fw-semibold mb-0"),
                                        dbc.Select(
                                            id="train-model",
                                            options=form.model_options(),
                                            value=form.DEFAULT_MODEL,
                                            size="sm",
                                        ),
                                        html.Div(id="train-model-help", className="form-text mb-2"),
                                        html.Div(
                                            [
                                                dbc.Button(
                                                    "Start",
                                                    id="train-start",
                                                    color="success",
                                                    className="me-2",
                                                    n_clicks=0,
                                                ),
                                                dbc.Button(
                                                    "Cancel",
                                                    id="train-cancel",
                                                    color="danger",
                                                    outline=True,
                                                    n_clicks=0,
                                                    disabled=True,
                                                ),
                                            ]
                                        ),
                                        html.Div(
                                            id="train-form-error", className="text-danger small my-2", role="alert"
                                        ),
                                        html.Div(id="train-message", className="small mt-2"),
                                        html.Div(
                                            [
                                                dbc.Label(
                                                    "Repeat over seeds",
                                                    html_for="train-seeds",
                                                    className="small fw-semibold mb-0",
                                                ),
                                                dbc.Input(
                                                    id="train-seeds", type="number", size="sm", value=1, min=1, max=10
                                                ),
                                                dbc.FormText(
                                                    "1 = one run; 3 trains it three times (seeds in a row) so the "
                                                    "leaderboard can show the seed-to-seed spread"
                                                ),
                                            ],
                                            className="mb-2 mt-2",
                                        ),
                                        html.Hr(className="my-2"),
                                        *form.form_fields(),
                                    ]
                                ),
                            ]
                        ),
                        lg=4,
                    ),
                    dbc.Col(
                        dbc.Card(
                            [
                                dbc.CardHeader(html.H5("No training yet", id="train-run-title", className="mb-0")),
                                dbc.CardBody(
                                    [
                                        dbc.Progress(
                                            id="train-progress",
                                            value=0,
                                            label="",
                                            striped=True,
                                            animated=False,
                                            style={"height": "1.4rem"},
                                            className="mb-2",
                                        ),
                                        html.Div(id="train-status", className="small text-muted mb-2"),
                                        dcc.Dropdown(
                                            id="train-view-run",
                                            options=replay_options,
                                            value=replay,
                                            placeholder="Replay another run's curves…",
                                            className="small mb-1",
                                        ),
                                        dcc.Graph(
                                            id="train-curves", figure=training_curves([]), config={"displaylogo": False}
                                        ),
                                        dbc.Alert(id="train-verdict", color="info", className="mt-2 mb-0 small"),
                                        html.Div(id="train-result", className="mt-2"),
                                    ]
                                ),
                            ]
                        ),
                        lg=8,
                    ),
                ],
                className="g-3",
            ),
            dcc.Interval(id="train-monitor", interval=1000, n_intervals=0),
            dcc.Store(id="train-watch"),
            dcc.Store(id="train-active"),
            dcc.Store(id="train-result-of"),  # which run's ending the result panel shows (sent once, not each second)
        ]
    )
