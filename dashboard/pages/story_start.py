"""/story: the first slide of the story mode (dashboard.pages.story holds the slides, /story/N)."""

from __future__ import annotations

import dash

from dashboard.components import story_view

dash.register_page(__name__, path="/story", name="Present", title="Present · Fashion-MNIST Studio", nav=False)


def layout(run: str | None = None, **_query):
    return story_view.page("1", run)
