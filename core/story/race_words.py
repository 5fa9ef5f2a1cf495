"""What the architecture race (core.race) lets the story say about deep models: compared at one stated
training time on this machine, on validation photos, rather than each at its own recipe and budget.

The budget cited is the largest one at which every architecture has a finished run (a race still
under way is cited at the budgets it has finished)."""

from __future__ import annotations

from typing import Any

from core.models.rules import ConfigError
from core.race import plan, results
from core.store import RunStore

CITED = "ref-race"


def _cited(store: RunStore) -> dict[str, Any] | None:
    names = plan.FOLDER.names()
    name = CITED if CITED in names else (names[0] if names else None)
    if name is None:
        return None
    try:
        return results.summary(name, store)
    except (ConfigError, ValueError, KeyError):
        return None


def cited_budget(store: RunStore) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(race summary, its largest budget where every architecture has a finished run), or None."""
    found = _cited(store)
    if not found:
        return None
    complete = [b for b in found["budgets"] if all(c["accuracy"]["n"] for c in b["cells"])]
    return (found, complete[-1]) if complete else None


def sentences(store: RunStore) -> tuple[list[str], list[str]]:
    """(the slide's sentences about the race, the run ids they rest on)."""
    cited = cited_budget(store)
    if cited is None:
        return [], []
    race, budget = cited
    cells = sorted(budget["cells"], key=lambda c: -c["accuracy"]["mean"])
    counts = sorted({c["accuracy"]["n"] for c in cells})
    seeds = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}–{counts[-1]}"
    listed = ", ".join(f"{c['title']} {100 * c['accuracy']['mean']:.2f} %" for c in cells)
    sentence = (
        f"Given the same {budget['words']} of training on this machine and one recipe, the deep models reach on "
        f"the validation photos {listed} (mean of {seeds} seed{'s' if counts[-1] > 1 else ''}, race {race['race']})"
    )
    pair = {cells[0]["entrant"], cells[1]["entrant"]}
    top = next((p for p in budget["pairs"] if {p["leader"], p["other"]} == pair), None)
    if top and top["mean"] is not None:
        verdict = top["sentence"].split(" of training here, ", 1)[-1]
        sentence += ": " + verdict
    said = [sentence if sentence.endswith(".") else sentence + "."]
    runs = [r["run_id"] for c in cells for r in c["runs"] if r["status"] == "validated"]
    return said, runs


def manager_sentence(store: RunStore) -> str:
    cited = cited_budget(store)
    if cited is None:
        return ""
    _race, budget = cited
    best, second = sorted(budget["cells"], key=lambda c: -c["accuracy"]["mean"])[:2]
    pair = {best["entrant"], second["entrant"]}
    top = next((p for p in budget["pairs"] if {p["leader"], p["other"]} == pair), None)
    verdict = "" if top is None or top.get("measurable") else " (its lead over the next is within noise)"
    return (
        f"Given the same {budget['words']} of training on this machine, the most accurate kind of deep model was "
        f"{best['title']} on the validation photos{verdict}."
    )
