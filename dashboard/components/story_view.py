"""One slide of the story mode as Dash components (the content comes from core.story.slides)."""

from __future__ import annotations

import functools
import math
from typing import Any
from urllib.parse import urlencode

import dash_bootstrap_components as dbc
from dash import dcc, html

from core.store import InvalidRunId, RunError
from core.store import index as run_index
from core.story import slides
from core.story.parts import Slide, Story
from dashboard import runs_view, state

STATIC: Any = {"displayModeBar": False, "responsive": True}


def _href(n: int, run: str | None) -> str:
    return f"/story/{n}" + (f"?run={run}" if run else "")


def _picture(slide: Slide) -> Any:
    if slide.figure is not None:
        return dcc.Graph(
            id="story-figure", figure=slide.figure, config=STATIC, responsive=True, style={"height": "100%"}
        )
    columns = 5 if len(slide.gallery) > 12 else 6
    rows = math.ceil(len(slide.gallery) / columns)
    return html.Div(
        [html.Figure([html.Img(src=g["src"], alt=g["caption"]), html.Figcaption(g["caption"])]) for g in slide.gallery],
        className="story-gallery",
        id="story-gallery",
        style={"gridTemplateColumns": f"repeat({columns}, 1fr)", "gridTemplateRows": f"repeat({rows}, 1fr)"},
    )


def slide_view(
    slide: Slide, number: int, total: int, run: str | None, run_options: list[dict[str, str]], chosen: str
) -> html.Div:
    """A full-screen slide: title and progress, up to three sentences with their terms on hover, one
    picture, the source in small type, and the controls (previous/next, the run, the report)."""
    dots = html.Span(
        [dcc.Link("", href=_href(i, run), className="current" if i == number else "", title=f"slide {i}")
         for i in range(1, total + 1)],
        className="story-dots",
    )  # fmt: skip
    terms = [html.Abbr(term, title=meaning) for term, meaning in slide.terms.items()]
    text: list[Any] = [html.Ul([html.Li(s) for s in slide.sentences], id="story-sentences")]
    if slide.action:
        text.append(
            dcc.Link(f"{slide.action[0]} →", href=slide.action[1], className="btn btn-outline-primary mt-2 align-self-start",
                     id="story-action")
        )  # fmt: skip
    if terms:
        text.append(html.Div([html.Span("Words (hover): ", className="me-1"), *terms], className="story-terms"))
    prev_class = "btn btn-secondary btn-sm" + (" disabled" if number <= 1 else "")
    next_class = "btn btn-primary btn-sm" + (" disabled" if number >= total else "")
    return html.Div(
        [
            html.Div(
                [
                    html.H1(slide.title, className="story-title", id="story-title"),
                    html.Div([f"{number} / {total}", dots], className="story-progress", id="story-progress"),
                ],
                className="story-head",
            ),
            html.Div(
                [html.Div(text, className="story-text"), html.Div(_picture(slide), className="story-picture")],
                className="story-body",
            ),
            html.Div(
                [
                    dcc.Link(
                        "←",
                        title="Back (left arrow)",
                        href=_href(max(1, number - 1), run),
                        id="story-prev",
                        className=prev_class,
                    ),
                    dcc.Link(
                        "Next →",
                        title="Next (right arrow)",
                        href=_href(min(total, number + 1), run),
                        id="story-next",
                        className=next_class,
                    ),
                    html.Span(slide.source, className="story-source", id="story-source", title=slide.source),
                    dcc.Dropdown(id="story-run", options=run_options, value=chosen, clearable=False),
                    dbc.Button("Report (HTML)", id="story-download", size="sm", color="success", outline=True),
                    dbc.Button("PDF", id="story-pdf", size="sm", color="success", outline=True),
                    dcc.Link("Exit", href="/", className="btn btn-link btn-sm", id="story-exit"),
                    dcc.Download(id="story-report"),
                    dcc.Store(id="story-number", data=number),
                    dcc.Store(id="story-shown", data=chosen),  # the run on screen: what the report is about
                ],
                className="story-foot",
            ),
            html.Div(id="story-message", style={"position": "fixed", "bottom": "8vh", "right": "3vw", "zIndex": 1040}),
        ],
        className="story-root",
        id="story-root",
    )


def _fingerprint() -> tuple:
    """Changes whenever a run record changes, so a cached story is never stale (from the run index:
    no folder is listed)."""
    store = state.store()
    return (str(store.root), *run_index.version(store))


@functools.lru_cache(maxsize=4)
def _story(run: str | None, _version: tuple) -> Story:
    return slides.build(run, state.store())


def story(run: str | None) -> Story:
    return _story(run, _fingerprint())


def _run_options(chosen: str | None) -> list[dict[str, str]]:
    """The runs to tell the story of: the ranked ones, any run as you type, and always the run on screen."""
    return runs_view.story_options(keep=chosen)


def page(slide: str | None = None, run: str | None = None, asked: str | None = None) -> html.Div:
    """The whole /story/N page: one slide, or why there is no story to tell."""
    try:
        told = story(run or None)
    except (RunError, InvalidRunId, ValueError) as exc:
        return html.Div(
            [html.H2("Present"), dbc.Alert(f"No story to tell: {exc}.", color="warning", id="story-problem")]
        )
    number, note = nearest_slide(slide, len(told.slides))
    fix = f"/story/{number}?" + urlencode({**({"run": run} if run else {}), "asked": str(slide)[:20]}) if note else None
    if note is None and asked is not None:  # arrived here from a slide that does not exist
        note = nearest_slide(asked, len(told.slides))[1]
    return html.Div(
        [
            dbc.Alert(note, color="info", id="story-corrected", className="py-1 small") if note else None,
            slide_view(told.slides[number - 1], number, len(told.slides), run, _run_options(told.run_id), told.run_id),
            dcc.Location(id="story-location", refresh="callback-nav"),
            # a slide number that does not exist: the address moves to the slide shown
            dcc.Store(id="story-fix", data=fix),
        ]
    )


def nearest_slide(slide: str | None, total: int) -> tuple[int, str | None]:
    """(the slide to show, a note when the asked one does not exist): the nearest real slide."""
    try:
        asked = int(str(slide))
    except ValueError:
        return 1, (f"There is no slide “{str(slide)[:20]}”: here is slide 1." if slide not in (None, "") else None)
    number = min(max(asked, 1), total)
    if number == asked:
        return number, None
    where = "the last" if number == total else "the first"
    return number, f"There is no slide {asked}: here is slide {number}, {where} of {total}."
