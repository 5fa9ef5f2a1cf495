"""/gradcam: the explanation of one test photo: the photo, its heatmap and their overlay (with an
opacity slider), the verdict in words, "why this and not the truth?" when the model is wrong, and
the class probabilities. Built once per model-file version and view, then served from memory."""

from __future__ import annotations

import functools
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, Patch, callback, dcc, html, no_update

from core import data, explain
from core.evaluation import analysis, calibrated
from dashboard import state
from dashboard.components.cards import STATIC_CONFIG
from dashboard.figures import gradcam as figs

STATIC: Any = STATIC_CONFIG


def model_version(run_id: str) -> tuple:
    path, _artifact = state.store().model_file(run_id)
    stat = path.stat()
    return (stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=128)
def cached_views(run_id: str, _version: tuple, idx: int, target: str, method: str, layer: str | None) -> list:
    """The explanation panels of one view: deterministic for a model file version, so a shared link
    or a revisit is served from memory (the components are only serialised, never changed)."""
    return _views(run_id, idx, target, method, layer)


def _views(run_id: str, idx: int, target: str, method: str, layer: str | None) -> list:
    result = explain.explain_test_image(run_id, idx, target=target, layer=layer, method=method, store=state.store())
    image = data.load().x_test[idx]
    heat = result["heatmap"]
    panels = dbc.Row(
        [
            dbc.Col(
                dcc.Graph(id="gradcam-original", figure=figs.image_panel(image, f"Test photo #{idx}"), config=STATIC),
                md=4,
            ),
            dbc.Col(
                dcc.Graph(
                    id="gradcam-heat",
                    figure=figs.heat_panel(heat, f"Heatmap for “{result['target_class']}”"),
                    config=STATIC,
                ),
                md=4,
            ),
            dbc.Col(
                [
                    dcc.Graph(
                        id="gradcam-overlay", figure=figs.overlay_panel(image, heat, 0.5, "Overlay"), config=STATIC
                    ),
                    html.Div(  # padded: the end labels ("photo", "heatmap") stay inside the page
                        dcc.Slider(  # no value box: it sat on top of the "heatmap" label
                            id="gradcam-opacity",
                            min=0,
                            max=1,
                            step=0.05,
                            value=0.5,
                            marks={0: "photo", 1: "heatmap"},
                            allow_direct_input=False,
                        ),
                        className="px-4",
                    ),
                ],
                md=4,
            ),
        ],
        className="g-2",
    )
    verdict = "right" if result["true_class"] == result["predicted_class"] else "wrong"
    probabilities, is_calibrated = calibrated.shown(state.store().get(run_id), result["probabilities"])
    sure = calibrated.sure_words(probabilities[result["predicted_class"]], is_calibrated)
    head = dbc.Alert(
        [
            html.Strong(
                f"True class: {result['true_class']}. The model says {result['predicted_class']} ({sure}) — {verdict}. "
            ),
            analysis.describe_heatmap(heat, image, result["target_class"]),
        ],
        color="success" if verdict == "right" else "danger",
        id="gradcam-caption",
    )
    blocks = [
        head,
        panels,
        _why_not(run_id, idx, result, image, method, layer),
        dbc.Card(
            [
                dbc.CardHeader(html.H5("How sure is the model?", className="mb-0")),
                dbc.CardBody(
                    dcc.Graph(
                        id="gradcam-proba",
                        figure=figs.probability_bars(probabilities, result["predicted_class"], result["true_class"]),
                    )
                ),
            ],
            className="mt-3",
        ),
    ]
    return [b for b in blocks if b is not None]


def _why_not(run_id, idx, result, image, method, layer):
    """Predicted- and true-class heatmaps side by side when the model is wrong."""
    if result["true_class"] == result["predicted_class"]:
        return None

    def for_target(name: str, index: int) -> dict:
        if result["target_index"] == index:  # already computed for the main panels
            return result
        return explain.explain_test_image(run_id, idx, target=name, layer=layer, method=method, store=state.store())

    other = for_target("true", data.CLASS_NAMES.index(result["true_class"]))
    pred = for_target("predicted", result["predicted_index"])
    return dbc.Card(
        [
            dbc.CardHeader(
                html.H5(f"Why {result['predicted_class']} and not {result['true_class']}?", className="mb-0")
            ),
            dbc.CardBody(
                [
                    dbc.Row(
                        [
                            dbc.Col(
                                dcc.Graph(
                                    id="gradcam-why-predicted",
                                    figure=figs.overlay_panel(
                                        image,
                                        pred["heatmap"],
                                        0.55,
                                        f"evidence for “{pred['target_class']}” (its answer)",
                                    ),
                                    config=STATIC,
                                ),
                                md=6,
                            ),
                            dbc.Col(
                                dcc.Graph(
                                    id="gradcam-why-true",
                                    figure=figs.overlay_panel(
                                        image,
                                        other["heatmap"],
                                        0.55,
                                        f"evidence for “{other['target_class']}” (the truth)",
                                    ),
                                    config=STATIC,
                                ),
                                md=6,
                            ),
                        ]
                    ),
                    html.P(
                        [
                            analysis.describe_heatmap(pred["heatmap"], image, pred["target_class"]),
                            " ",
                            analysis.describe_heatmap(other["heatmap"], image, other["target_class"]),
                        ],
                        className="small mb-0",
                    ),
                ]
            ),
        ],
        className="mt-3",
        id="gradcam-why",
    )


def set_opacity(opacity):
    if isinstance(opacity, bool) or not isinstance(opacity, (int, float)) or not 0 <= opacity <= 1:
        return no_update  # the slider sends 0-1; anything else is a tampered request
    patched = Patch()
    patched["data"][1]["opacity"] = float(opacity)
    return patched


def register() -> None:
    """Wire the block's callback (the page calls it each time Dash loads the page module)."""
    callback(Output("gradcam-overlay", "figure"), Input("gradcam-opacity", "value"), prevent_initial_call=True)(
        set_opacity
    )
