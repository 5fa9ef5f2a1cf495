"""/story/N ("Present"): the evidence as full-screen slides, built live from the run store
(core.story.slides); arrow keys or the links move between slides, each slide has its own address, and
`?run=RUN` tells the story of another run (default: the most accurate). The same story downloads as a
self-contained HTML report, or a PDF printed by headless Chromium where it is installed."""

from __future__ import annotations

import tempfile
from pathlib import Path

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from core.store import InvalidRunId, RunError
from core.story import report, summary
from dashboard import runs_view, state
from dashboard.components import story_view
from dashboard.components.story_view import story

dash.register_page(
    __name__, path_template="/story/<slide>", name="Present", title="Present · Fashion-MNIST Studio", nav=False
)
callback(*runs_view.search_io("story-run"), prevent_initial_call=True)(runs_view.story_search)


def layout(slide: str | None = None, run: str | None = None, asked: str | None = None, **_query) -> html.Div:
    return story_view.page(slide, run, asked if isinstance(asked, str) else None)


@callback(
    Output("story-location", "href"),
    Input("story-run", "value"),
    State("story-number", "data"),
    prevent_initial_call=True,
)
def pick_run(run, number):
    return f"/story/{number or 1}?run={run}" if isinstance(run, str) and run else no_update


@callback(
    Output("story-location", "href", allow_duplicate=True),
    Input("story-fix", "data"),
    prevent_initial_call="initial_duplicate",
)
def fix_address(target):
    """/story/99, /story/0 or /story/abc: the address becomes the nearest real slide's."""
    return target if isinstance(target, str) and target.startswith("/story/") else no_update


@callback(
    Output("story-report", "data"),
    Output("story-message", "children"),
    Input("story-download", "n_clicks"),
    Input("story-pdf", "n_clicks"),
    State("story-shown", "data"),
    prevent_initial_call=True,
    running=[(Output("story-download", "disabled"), True, False), (Output("story-pdf", "disabled"), True, False)],
)
def download(_html, _pdf, run):
    """The report of the story on screen (the run it shows, whatever the picker holds): one HTML file, or
    its PDF where Chromium can print it."""
    try:
        told = story(run if isinstance(run, str) else None)
        text = report.render(told, summary.appendix(state.store(), told))
    except (RunError, InvalidRunId, ValueError) as exc:
        return no_update, dbc.Alert(f"No report: {exc}.", color="warning", dismissable=True)
    name = f"fashion-mnist-report-{told.run_id}"
    if dash.ctx.triggered_id != "story-pdf":
        return {"content": text, "filename": f"{name}.html"}, None
    with tempfile.TemporaryDirectory() as folder:
        page, pdf = Path(folder) / f"{name}.html", Path(folder) / f"{name}.pdf"
        page.write_text(text, encoding="utf-8")
        try:
            report.write_pdf(page, pdf)
        except (RuntimeError, OSError) as exc:
            return no_update, dbc.Alert(f"No PDF: {exc}. The HTML report always works.", color="info", dismissable=True)
        return dcc.send_bytes(pdf.read_bytes(), f"{name}.pdf"), None
