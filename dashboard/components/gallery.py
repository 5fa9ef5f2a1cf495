"""Image galleries of test photos: thumbnail, true/predicted label, top-3 probability bars, Grad-CAM link.

Kept light for the browser and the server alike: each photo is five components (card, link,
thumbnail, caption, bars), the thumbnail a PNG data URI encoded once per process (core.data.images),
and the three probability bars one small SVG image (cached), not twenty HTML elements.
"""

from __future__ import annotations

import base64
import functools
import math
from html import escape
from typing import Any
from urllib.parse import urlencode

import dash_bootstrap_components as dbc
import numpy as np
from dash import dcc, html
from dash.development.base_component import Component

from core.data import CLASS_NAMES, images
from core.evaluation import calibrated, drilldown

PER_PAGE = 30


def page_count(n: int, per_page: int = PER_PAGE) -> int:
    return max(1, math.ceil(n / per_page))


def page_slice(indices: np.ndarray, page: int, per_page: int = PER_PAGE) -> np.ndarray:
    page = min(max(1, int(page or 1)), page_count(len(indices), per_page))
    return indices[(page - 1) * per_page : page * per_page]


@functools.lru_cache(maxsize=20000)
def _bars_svg(top: tuple[tuple[int, float], ...], true_class: int) -> str:
    """Top-k probability bars as one SVG data URI (label, bar, percentage per row)."""
    rows = []
    for row, (cls, p) in enumerate(top):
        y = 4 + 15 * row
        color = "#18bc9c" if cls == true_class else "#e74c3c"
        rows.append(
            f'<text x="0" y="{y + 9}">{escape(CLASS_NAMES[cls][:11])}</text>'
            f'<rect x="64" y="{y + 1}" width="{max(2.0, 52 * p):.1f}" height="9" rx="2" fill="{color}"/>'
            f'<text x="138" y="{y + 9}" text-anchor="end">{100 * p:.0f}%</text>'
        )
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="138" height="{8 + 15 * len(top)}" '
        f'font-family="system-ui,sans-serif" font-size="10" fill="#34495e">{"".join(rows)}</svg>'
    )
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")


def thumb(
    index: int, preds: dict[str, Any], gradcam_run: str | dict[str, str] | None, note: str | None = None
) -> html.Div:
    """One test photo with its labels, top-3 probabilities and a Grad-CAM link."""
    true_c, pred_c = int(preds["y_true"][index]), int(preds["y_pred"][index])
    ok = true_c == pred_c
    top = tuple((c, round(p, 3)) for c, p in drilldown.top_k(preds["proba"][index], 3))
    caption: list[Any] = [
        f"#{index} · true {CLASS_NAMES[true_c]}",
        html.Br(),
        html.Span(f"model {CLASS_NAMES[pred_c]}", className="text-success" if ok else "text-danger fw-semibold"),
    ]
    if note:
        caption += [html.Br(), html.Em(note, className="text-muted")]
    in_set = calibrated.set_words(preds.get("sets"), index, preds["proba"], preds.get("coverage"))
    if in_set:  # where one answer misleads: the classes that hold the true one with the stated coverage
        caption += [html.Br(), html.Span(in_set, className="small prediction-set")]
    picture: Component = html.Img(src=images.dataset_thumbnail("test", index), alt=f"test image {index}")
    link = {"run": gradcam_run} if isinstance(gradcam_run, str) else gradcam_run
    if link:
        picture = dcc.Link(
            picture,
            href="/gradcam?" + urlencode({**link, "index": index}),
            title="Open in the Grad-CAM viewer",
            className="gradcam-link",
        )
    bars_title = " · ".join(f"{CLASS_NAMES[c]} {100 * p:.1f}%" for c, p in top)
    return html.Div(
        [
            picture,
            html.Div(caption, className="small thumb-caption"),
            html.Img(src=_bars_svg(top, true_c), className="bars", title=bars_title, alt=bars_title),
        ],
        className="thumb",
        id={"type": "gallery-thumb", "index": int(index)},
    )


def gallery(
    indices: np.ndarray,
    preds: dict[str, Any],
    gradcam_run: str | dict[str, str] | None,
    page: int = 1,
    notes: dict[int, str] | None = None,
    per_page: int = PER_PAGE,
) -> html.Div:
    """A page of thumbnails (first `per_page` by default)."""
    if len(indices) == 0:
        return html.Div("No photos here.", className="text-muted")
    shown = page_slice(indices, page, per_page)
    notes = notes or {}
    return html.Div([thumb(int(i), preds, gradcam_run, notes.get(int(i))) for i in shown], className="gallery")


def pager(pager_id: str, n: int, per_page: int = PER_PAGE) -> dbc.Pagination:
    """Page links for `n` images (hidden when one page holds them all)."""
    pages = page_count(n, per_page)
    return dbc.Pagination(
        id=pager_id,
        max_value=pages,
        active_page=1,
        fully_expanded=False,
        size="sm",
        first_last=True,
        previous_next=True,
        style=None if pages > 1 else {"display": "none"},
    )
