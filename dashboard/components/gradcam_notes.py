"""The Grad-CAM page's notes: which method explains a run best (and how faithfully), and the
stand-in note when a run without convolutional layers is explained by a CNN."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from core.explain import faithfulness
from core.store import RunError
from dashboard import runs_view, state

METHOD_OPTIONS = [
    {"label": "Grad-CAM", "value": "gradcam"},
    {"label": "Grad-CAM++", "value": "gradcam++"},
    {"label": "HiResCAM", "value": "hirescam"},
    {"label": "LayerCAM", "value": "layercam"},
    {"label": "Score-CAM", "value": "scorecam"},
    {"label": "SmoothGrad", "value": "smoothgrad"},
    {"label": "Occlusion", "value": "occlusion"},
]


def default_view(record: dict) -> dict | None:
    """The most faithful method and layer for this run, when measured (core.explain.faithfulness)."""
    try:
        return faithfulness.default_view(record["run_id"], state.store())
    except RunError:
        return None


def method_label(method: str) -> str:
    return next((o["label"] for o in METHOD_OPTIONS if o["value"] == method), method)


def faithfulness_note(measured: dict | None, method: str, layer: str | None, opened: bool = False) -> html.P:
    """How far to trust the map on screen, for every method: the measured default says how faithful
    it was; another method says it is not that one; a run never measured says so."""
    label = method_label(method)
    if not measured:
        text = (
            f"Shown with {label}. How faithful the maps of this run are has not been measured yet (the server "
            "measures it in the background; `python -m core explain-eval RUN` does it by hand), so read this "
            "map with care: on some networks a heatmap is no better than a random one."
        )
    elif measured["method"] == method and (layer in (None, measured["layer"])):
        where = "on the photo's pixels" if measured["layer"] == "input" else f"at layer {measured['layer']}"
        text = (
            f"Shown with {label} {where}: of the methods and layers tried, it was the most faithful on "
            f"{measured['n']} validation photos. " + faithfulness.sentence(measured)
        )
        if opened and "photo" in measured:
            text += (
                f" The page opens on test photo #{measured['photo']}, one the model gets right and sure where "
                "the map's top pixels matter most; use Random or Random mistake for any other."
            )
    else:
        text = (
            f"Shown with {label}: not the method measured most faithful for this run, which is "
            f"{method_label(measured['method'])} (on {measured['n']} validation photos: "
            + faithfulness.sentence(measured)
            + "). Compare the two before trusting this map."
        )
    return html.P(text, className="small text-muted", id="gradcam-faithfulness")


def stand_in_note(from_run: Any, record: dict | None) -> dbc.Alert | None:
    """Say so when this view explains another run's photo with a CNN (Grad-CAM needs conv layers)."""
    if not from_run or record is None or from_run == record["run_id"]:
        return None
    source, _problem = runs_view.resolve_run(from_run)
    name = f"{source.get('label')} ({from_run})" if source else str(from_run)[:80]
    return dbc.Alert(
        f"Run {name} has no convolutional layers, so Grad-CAM cannot look inside it: this view explains the same "
        f"photo with {record.get('label')} ({record['run_id']}) instead.",
        color="info",
        id="gradcam-stand-in",
    )
