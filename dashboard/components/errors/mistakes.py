"""/errors: the model's most confident mistakes, and the label suspects (confident learning) as a CSV."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import callback, dcc, html

from core.evaluation import drilldown, labels
from dashboard import runs_view
from dashboard.components import error_reports
from dashboard.components import gallery as gal

SHOWN = 16


class ids:
    """The block's component ids (error_reports.DOWNLOAD_IO wires the CSV download to them)."""

    block = "errors-mistakes"
    sentence = "errors-suspects"
    confidence = "errors-confidence"
    csv = "errors-suspects-csv"
    download = "errors-suspects-download"


def block(record, preds) -> dbc.Card:
    mistakes = drilldown.confident_mistakes(preds, SHOWN)
    return dbc.Card(
        [
            dbc.CardHeader(html.H5("Most confident mistakes", className="mb-0")),
            dbc.CardBody(
                [
                    html.P(error_reports.suspects_sentence(preds), className="small text-muted", id=ids.sentence),
                    html.P(error_reports.confidence_note(preds), className="small text-muted", id=ids.confidence),
                    dbc.Button(
                        f"Download all {len(labels.label_suspects(preds))} label suspects (CSV)",
                        id=ids.csv,
                        color="secondary",
                        outline=True,
                        size="sm",
                        className="mb-2",
                        n_clicks=0,
                    ),
                    dcc.Download(id=ids.download),
                    gal.gallery(
                        mistakes,
                        preds,
                        runs_view.gradcam_run_for(record),
                        notes=error_reports.suspect_notes(preds, mistakes),
                    ),
                ],
                id=ids.block,
            ),
        ],
        className="mt-3",
    )


def register() -> None:
    """Wire this block's callbacks. The page calls it each time Dash loads the page module, so every
    app (a test builds several in one process) gets them."""
    callback(*error_reports.DOWNLOAD_IO, prevent_initial_call=True)(error_reports.download_suspects)
