"""Image galleries of test photos: thumbnail, true/predicted label, top-3 probability bars, Grad-CAM link.

Thumbnails are PNG data URIs encoded once per process (core.images), bars are plain HTML, so a
page of 30 images is built in a few milliseconds.
"""

from __future__ import annotations

import math

import dash_bootstrap_components as dbc
import numpy as np
from dash import dcc, html

from core import drilldown, images
from core.data import CLASS_NAMES

PER_PAGE = 30


def page_count(n: int, per_page: int = PER_PAGE) -> int:
    return max(1, math.ceil(n / per_page))


def page_slice(indices: np.ndarray, page: int, per_page: int = PER_PAGE) -> np.ndarray:
    page = min(max(1, int(page or 1)), page_count(len(indices), per_page))
    return indices[(page - 1) * per_page: page * per_page]


def _bars(proba_row: np.ndarray, true_class: int) -> html.Div:
    rows = []
    for cls, p in drilldown.top_k(proba_row, 3):
        color = "#18bc9c" if cls == true_class else "#e74c3c"
        rows.append(html.Div([
            html.Span(CLASS_NAMES[cls], className="bar-label"),
            html.Span(className="bar", style={"width": f"{max(2, 52 * p):.0f}px", "background": color}),
            html.Span(f"{100 * p:.0f}%", className="bar-value"),
        ], className="bar-row", title=f"{CLASS_NAMES[cls]}: {100 * p:.1f}%"))
    return html.Div(rows, className="bars")


def thumb(index: int, preds: dict[str, np.ndarray], gradcam_run: str | None, note: str | None = None) -> html.Div:
    """One test photo with its labels, top-3 probabilities and a Grad-CAM link."""
    true_c, pred_c = int(preds["y_true"][index]), int(preds["y_pred"][index])
    ok = true_c == pred_c
    caption = [html.Div(f"#{index}", className="small text-muted"),
               html.Div([html.Span("true ", className="text-muted"), CLASS_NAMES[true_c]], className="small"),
               html.Div([html.Span("model ", className="text-muted"), CLASS_NAMES[pred_c]],
                        className="small " + ("text-success" if ok else "text-danger fw-semibold"))]
    if note:
        caption.append(html.Div(note, className="small text-muted fst-italic"))
    picture = html.Img(src=images.dataset_thumbnail("test", index), alt=f"test image {index}")
    if gradcam_run:
        picture = dcc.Link(picture, href=f"/gradcam?run={gradcam_run}&index={index}",
                           title="Open in the Grad-CAM viewer", className="gradcam-link")
    return html.Div([picture, *caption, _bars(preds["proba"][index], true_c)], className="thumb",
                    id={"type": "gallery-thumb", "index": int(index)})


def gallery(indices: np.ndarray, preds: dict[str, np.ndarray], gradcam_run: str | None, page: int = 1,
            notes: dict[int, str] | None = None, per_page: int = PER_PAGE) -> html.Div:
    """A page of thumbnails (first `per_page` by default)."""
    if len(indices) == 0:
        return html.Div("No photos here.", className="text-muted")
    shown = page_slice(indices, page, per_page)
    notes = notes or {}
    return html.Div([thumb(int(i), preds, gradcam_run, notes.get(int(i))) for i in shown], className="gallery")


def pager(pager_id: str, n: int, per_page: int = PER_PAGE) -> dbc.Pagination:
    """Page links for `n` images (hidden when one page holds them all)."""
    pages = page_count(n, per_page)
    return dbc.Pagination(id=pager_id, max_value=pages, active_page=1, fully_expanded=False, size="sm",
                          first_last=True, previous_next=True, style=None if pages > 1 else {"display": "none"})
