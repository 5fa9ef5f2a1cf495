"""What the architecture race (core.race) lets the story say about deep models: compared at one stated
training time on this machine, on validation photos, rather than each at its own recipe and budget.

The budget cited is the largest one at which every architecture has a finished run (a race still
under way is cited at the budgets it has finished)."""

from __future__ import annotations

from typing import Any

from core.race import plan, results
from core.store import RunStore
from core.story import figures
from core.story.parts import Slide

CITED = plan.REFERENCE


def _cited(store: RunStore) -> dict[str, Any] | None:
    names = plan.FOLDER.names()
    name = CITED if CITED in names else (names[0] if names else None)
    if name is None:
        return None
    return results.summary_or_none(name, store)


def cited_budget(store: RunStore) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(race summary, its largest budget where every architecture has a finished run), or None."""
    found = _cited(store)
    if not found:
        return None
    complete = [b for b in found["budgets"] if all(c["accuracy"]["n"] for c in b["cells"])]
    return (found, complete[-1]) if complete else None


def slide(store: RunStore) -> Slide | None:
    """ "Same training time, which model?": the race's time-to-accuracy chart and what it found at its
    largest finished budget, or None when there is no race with a finished budget."""
    cited = cited_budget(store)
    if cited is None:
        return None
    race, budget = cited
    cells = sorted(budget["cells"], key=lambda c: -c["accuracy"]["mean"])
    listed = ", ".join(f"{plan.entrant(c['entrant']).short} {100 * c['accuracy']['mean']:.1f} %" for c in cells)
    pair = {cells[0]["entrant"], cells[1]["entrant"]}
    top = next((p for p in budget["pairs"] if {p["leader"], p["other"]} == pair), None)
    said = [
        (
            f"Given the same {budget['words']} of training on this machine and one recipe, the deep models reach "
            f"on the validation photos: {listed}."
        )
    ]
    if top is not None and top["mean"] is not None:
        said.append(top["sentence"])
    said.append(
        "Each architecture trained for the same seconds here (its epochs planned from its measured speed); "
        "a model that is best with more time may not be best with less."
    )
    runs = [r["run_id"] for c in cells for r in c["runs"] if r["status"] == "validated"]
    counts = sorted({c["accuracy"]["n"] for c in cells})
    seeds = f"{counts[0]}" if counts[0] == counts[-1] else f"{counts[0]}–{counts[-1]}"
    return Slide(
        "race",
        "Same training time: which model?",
        said,
        {
            "one recipe": ", ".join(f"{k} {v}" for k, v in (race.get("shared_recipe") or {}).items()),
            "validation photos": "Photos held out of training; the test photos are kept for the final scores.",
            "cannot be told apart": "Paired by seed; the interval over seeds includes no difference (Holm-adjusted).",
        },
        figures.race_curves(results.curve_rows(race), race["entrants"]),
        source=f"Source: race {race['race']}, {len(runs)} runs judged on validation ({seeds} seeds a point); "
        f"seconds per epoch measured {str(race['timing'].get('measured_at'))[:10]}",
        action=("Open the race", f"/race?race={race['race']}"),
    )


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
        f"{plan.entrant(best['entrant']).short} on the validation photos{verdict}."
    )
