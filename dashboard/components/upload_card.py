"""The "your own photo" card of the Grad-CAM page: upload box, and the processed result."""

from __future__ import annotations

import base64
import binascii

import dash_bootstrap_components as dbc
from dash import dcc, html

from core.data import CLASS_NAMES, familiar_rates, images, upload
from core.evaluation import analysis
from core.predict import answer
from core.store import RunError
from dashboard import state
from dashboard.components.cards import STATIC_CONFIG
from dashboard.figures import gradcam as figs


def upload_card() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(html.H5("Try your own photo", className="mb-0")),
            dbc.CardBody(
                [
                    html.P(
                        "Upload a PNG, JPEG or WebP photo of one piece of clothing (up to 10 MB). It is turned into what a "
                        "Fashion-MNIST photo looks like: grey, 28×28 pixels, the item light on a black background.",
                        className="small text-muted",
                    ),
                    dcc.Upload(
                        id="gradcam-upload",
                        children=html.Div(["Drag a photo here or ", html.A("choose a file")]),
                        className="upload-box",
                        multiple=False,
                        max_size=upload.MAX_BYTES,  # larger files are not sent (assets/upload_size.js says why)
                    ),
                    dcc.Store(id="gradcam-upload-too-big"),
                    dcc.Loading(html.Div(id="gradcam-upload-result", className="mt-3"), type="circle"),
                ]
            ),
        ],
        className="mt-3 mb-4",
    )


def decode_contents(contents: str) -> bytes:
    """The bytes of a dcc.Upload `contents` data URL (UploadError when it is not one)."""
    try:
        _header, payload = contents.split(",", 1)
        return base64.b64decode(payload, validate=True)
    except (AttributeError, ValueError, binascii.Error):
        raise upload.UploadError("The upload could not be read; try the file again.") from None


def _unfamiliar_warning(familiarity: dict):
    """A warning when the photo does not look like a Fashion-MNIST item (core.data.familiar)."""
    if familiarity["familiar"]:
        return None
    return dbc.Alert(
        [
            html.Strong("This does not look like a Fashion-MNIST item: "),
            "; and ".join(familiarity["reasons"]) + ". ",
            (
                "The model can only answer with one of its 10 clothing classes, so the answer below is a forced "
                "guess, however confident it looks."
            ),
        ],
        color="warning",
        id="gradcam-upload-unfamiliar",
    )


def _crop_warning(warnings: list[str]):
    """What may make this photo's answer unreliable (core.data.separate), in plain words."""
    if not warnings:
        return None
    return dbc.Alert(
        [html.Strong("Check the photo: "), "; ".join(warnings) + ". Compare it with “as the model sees it” below."],
        color="warning",
        id="gradcam-upload-crop-warning",
    )


def how_it_works() -> html.Details:
    """How the photo check works and how often it is wrong, measured (core.data.familiar_rates)."""
    return html.Details(
        [
            html.Summary("How this works"),
            html.P(
                [
                    (
                        "A photo already in the dataset's format (28×28, grey, a light item on black) goes to the model "
                        "exactly as it is. Any other photo is cut to its item, centred and shrunk to 28×28 as the "
                        "dataset's photos were; “Check the photo” warnings are about that step, and only appear when "
                        "they are true of your photo. The familiarity check compares the result with the training "
                        "photos. "
                    ),
                    familiar_rates.words(familiar_rates.rates()),
                ],
                className="small text-muted mb-0",
            ),
        ],
        id="gradcam-upload-how",
        className="mb-2",
    )


def too_big(data: object) -> dbc.Alert | None:
    """The message for a photo the browser refused to send: "NAME is 14.5 MB; the limit is 10 MB"."""
    if not isinstance(data, dict) or not isinstance(data.get("bytes"), int) or isinstance(data.get("bytes"), bool):
        return None
    name = str(data.get("name") or "This file")[:120]
    return dbc.Alert(
        f"{name} is {data['bytes'] / 1e6:.1f} MB; the limit is {upload.MAX_BYTES // (1024 * 1024)} MB.",
        color="warning",
        id="gradcam-upload-error",
    )


def _how_sure(said: dict, top: float) -> str:
    """The confidence in words a person can take at its word: calibrated on the run's validation photos,
    with its 95 % set when the set holds more than one class; or why the number is only a ranking."""
    if not said["calibrated"]:
        return (
            f"(score {100 * top:.0f} %: this run's scores are not calibrated yet, so read them as a ranking, "
            "not as how often it is right). "
        )
    sure = f"({100 * top:.0f} % sure, calibrated on its validation photos)"
    found = said["prediction_set"] or []
    if len(found) > 1:
        level = f"{100 * said['coverage']:.0f} %"
        return f"{sure}; it could also be {' or '.join(found[1:])}: with {level} coverage the answer is one of these. "
    return sure + ". "


def upload_result(contents: str | None, filename: str | None, run_id: str | None):
    """Processed photo, prediction and Grad-CAM for an upload, or a clear message."""
    if not contents:
        return None
    if not run_id:
        return dbc.Alert(
            "Choose a CNN run first (train one on the Train page if there is none).",
            color="warning",
            id="gradcam-upload-error",
        )
    try:
        got, extra = answer.explained(decode_contents(contents), run_id, state.store())
    except upload.UploadError as exc:
        return dbc.Alert(f"{filename or 'This file'}: {exc}", color="warning", id="gradcam-upload-error")
    except (ValueError, RunError) as exc:
        return dbc.Alert(str(exc), color="warning", id="gradcam-upload-error")
    image, heat = got.image, extra["heatmap"]
    note = "inverted (light background)" if got.inverted else "kept (dark background)"
    said = {"calibrated": got.calibrated, "prediction_set": got.prediction_set, "coverage": got.coverage}
    shown = dict(zip(CLASS_NAMES, (float(p) for p in got.probabilities), strict=True))
    processed = {"familiarity": got.familiarity, "warnings": got.warnings, **extra}
    result = {"predicted_class": got.predicted_class, "target_class": extra["target_class"]}
    return html.Div(
        [
            _unfamiliar_warning(processed["familiarity"]),
            _crop_warning(processed["warnings"]),
            how_it_works(),
            dbc.Alert(
                [
                    html.Strong(f"The model says {result['predicted_class']} ", id="gradcam-upload-answer"),
                    html.Span(_how_sure(said, shown[result["predicted_class"]]), id="gradcam-upload-sure"),
                    " ",
                    analysis.describe_heatmap(heat, image, result["target_class"]),
                ],
                color="info",
                id="gradcam-upload-caption",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            html.Div("Your photo", className="small text-muted text-center"),
                            html.Img(
                                src=images.data_uri(processed["preview"]),
                                id="gradcam-upload-original",
                                style={"maxWidth": "100%", "maxHeight": "280px", "display": "block", "margin": "auto"},
                            ),
                            html.Div(
                                f"{processed['format']} {processed['original_size'][0]}×{processed['original_size'][1]}, "
                                f"colours {note}",
                                className="small text-muted text-center",
                            ),
                        ],
                        md=3,
                    ),
                    dbc.Col(
                        dcc.Graph(
                            id="gradcam-upload-processed",
                            config=STATIC_CONFIG,
                            figure=figs.image_panel(image, "As the model sees it", height=300),
                        ),
                        md=3,
                    ),
                    dbc.Col(
                        dcc.Graph(
                            id="gradcam-upload-overlay",
                            config=STATIC_CONFIG,
                            figure=figs.overlay_panel(
                                image, heat, 0.5, f"Where it looked (“{result['target_class']}”)", height=300
                            ),
                        ),
                        md=3,
                    ),
                    dbc.Col(
                        dcc.Graph(
                            figure=figs.probability_bars(shown, result["predicted_class"]),
                            config=STATIC_CONFIG,
                        ),
                        md=3,
                    ),
                ],
                className="g-2",
            ),
        ]
    )
