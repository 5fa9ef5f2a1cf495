"""The 404 page: an unknown address gets a friendly way back, not an error."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import html

dash.register_page(__name__, path="/404", name="Not found", nav=False, title="Not found · Fashion-MNIST Studio")


def layout(**_query) -> html.Div:
    return dbc.Alert(
        [
            html.H4("This page does not exist", id="not-found-title"),
            html.P("The address may be mistyped or out of date."),
            dbc.Button("Back to the overview", href="/", color="primary"),
        ],
        color="light",
        className="mt-4",
    )
