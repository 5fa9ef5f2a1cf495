"""What the story's slides, its managers' summary and the report share: the slide and story types and
the two small formats every sentence uses. Slides and summary both import this module, and neither
imports the other's internals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Slide:
    key: str
    title: str
    sentences: list[str]
    terms: dict[str, str] = field(default_factory=dict)
    figure: Any = None  # a plotly Figure, or None when the slide shows photos
    gallery: list[dict[str, str]] = field(default_factory=list)  # {"src": data URI, "caption"}
    source: str = ""
    action: tuple[str, str] | None = None  # (label, href) on the live page


@dataclass
class Story:
    run_id: str
    slides: list[Slide]
    headline: dict[str, Any]
    summary: str
    runs_used: list[str]


def recorded_date(record: dict[str, Any]) -> str:
    return str(record.get("finished_at") or record.get("created_at") or "")[:10]


def pct(value: float) -> str:
    """A share as the story writes it: 0.9123 -> "91.23 %"."""
    return f"{100 * value:.2f} %"


def trained_words(store, run_id: str) -> str:
    """How long a run trained on this machine ("trained 17.7 min"), or that it was not recorded: a
    comparison of two models names the budget each had."""
    from core.store import RunError

    try:
        seconds = (store.get(run_id).get("timings") or {}).get("train_seconds")
    except RunError:
        seconds = None
    if not isinstance(seconds, (int, float)) or seconds <= 0:
        return "training time not recorded"
    return f"trained {seconds:.0f} s" if seconds < 90 else f"trained {seconds / 60:.1f} min"
