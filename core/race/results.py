"""What a race found: each architecture's validation accuracy at each training budget (with its seed
spread, planned and actual seconds), and at each budget the paired comparisons of the architectures
(paired by seed: the same seed index at the same budget), Holm-adjusted over every comparison of the
race, each with one plain sentence that names the budget.

`summary(name)` is what `race show --json`, the "What helps" page, the story and the report read.
"""

from __future__ import annotations

import itertools
from typing import Any

from core.evaluation import stats
from core.models.rules import ConfigError
from core.race.plan import Race, budget_words, entrant, load, run_id_of
from core.store import RunStore
from core.store.studies import cell_result


def _cell(race: Race, store: RunStore, budget: int, key: str) -> dict[str, Any]:
    planned = race.cell(budget, key)
    runs = [cell_result(store, run_id_of(race.name, budget, key, i)) for i in range(1, len(race.seeds) + 1)]
    accs = [r["val_accuracy"] if r else None for r in runs]
    secs = [r["seconds"] for r in runs if r and r["seconds"] is not None]
    return {
        "entrant": key,
        "title": entrant(key).title,
        "budget_seconds": budget,
        **{k: planned[k] for k in ("epochs", "precision", "epoch_seconds", "planned_seconds", "over_budget")},
        "accuracy": stats.spread(accs),
        "per_seed": accs,
        "actual_seconds": sum(secs) / len(secs) if secs else None,
        "actual_seconds_each": secs,
        "runs": [r for r in runs if r],
    }


def pair_verdicts(cells: dict[str, dict[str, Any]], budget: int) -> list[dict[str, Any]]:
    """Every pair of entrants at one budget: the mean of per-seed differences (A − B, the same seed
    index) with its Student-t interval over seeds and p-value; A is the one with the higher mean."""
    out = []
    for a, b in itertools.combinations(cells, 2):
        diffs = [
            None if x is None or y is None else x - y
            for x, y in zip(cells[a]["per_seed"], cells[b]["per_seed"], strict=True)
        ]
        effect = stats.seed_effect(diffs)
        if effect["mean"] is not None and effect["mean"] < 0:  # name the leader first
            a, b = b, a
            effect = {
                **effect,
                "mean": -effect["mean"],
                "ci95": None if effect["ci95"] is None else [-effect["ci95"][1], -effect["ci95"][0]],
            }
        out.append({"budget_seconds": budget, "leader": a, "other": b, **effect})
    return out


def adjust(pairs: list[dict[str, Any]]) -> int:
    """Holm over every pair with a p-value; sets p_holm and measurable on each pair."""
    tested = [p for p in pairs if p["p"] is not None]
    reject, adjusted = stats.holm([p["p"] for p in tested])
    for p in pairs:
        p.update(p_holm=None, measurable=False)
    for p, ok, adj in zip(tested, reject, adjusted, strict=True):
        p.update(p_holm=adj, measurable=bool(ok))
    return len(tested)


def _points(value: float) -> str:
    return f"{100 * value:.1f}".replace("-", "−")


def sentence(pair: dict[str, Any]) -> str:
    """One plain sentence naming the budget, e.g. "In 2.5 minutes of training here, CNN + Dropout leads
    ResNet-20 by 0.4 points (0.1 to 0.7 over 2 seeds)"; a difference the seeds cannot tell from
    noise is called so."""
    when = f"In {budget_words(pair['budget_seconds'])} of training here"
    lead, other = entrant(pair["leader"]).short, entrant(pair["other"]).short
    if pair["mean"] is None:
        return f"{when}, {lead} and {other} have no pair of finished runs to compare yet."
    gap = _points(pair["mean"])
    seeds = f"{pair['seeds']} seed" + ("" if pair["seeds"] == 1 else "s")
    if pair["ci95"] is None:
        return f"{when}, {lead} scored {gap} points above {other} on validation ({seeds}: too few to judge)."
    low, high = (_points(v) for v in pair["ci95"])
    if pair.get("measurable"):
        return (
            f"{when}, {lead} leads {other} by {gap} points on validation ({low} to {high} over {seeds}; "
            f"Holm-adjusted p = {pair['p_holm']:.3f})."
        )
    if pair["ci95"][0] > 0 or pair["ci95"][1] < 0:  # clear of zero alone, not once adjusted for the others
        return (
            f"{when}, {lead} is {gap} points ahead of {other} on validation ({low} to {high} over {seeds}), "
            f"but that is not beyond chance once adjusted for the race's other comparisons (Holm p = "
            f"{pair['p_holm']:.2f})."
        )
    return (
        f"{when}, {lead} and {other} cannot be told apart: {lead} is {gap} points ahead on validation, "
        f"but the interval over {seeds} runs from {low} to {high} (noise)."
    )


def summary(name: str, store: RunStore | None = None) -> dict[str, Any]:
    race = load(name)
    store = store or RunStore()
    budgets: list[dict[str, Any]] = []
    pairs: list[dict[str, Any]] = []
    for budget in race.budgets:
        cells = {key: _cell(race, store, budget, key) for key in race.entrants}
        found = pair_verdicts(cells, budget)
        pairs += found
        ranked = sorted(
            (c for c in cells.values() if c["accuracy"]["mean"] is not None),
            key=lambda c: -c["accuracy"]["mean"],
        )
        budgets.append(
            {
                "budget_seconds": budget,
                "words": budget_words(budget),
                "cells": list(cells.values()),
                "pairs": found,
                "leader": ranked[0]["entrant"] if ranked else None,
            }
        )
    comparisons = adjust(pairs)
    for p in pairs:
        p["sentence"] = sentence(p)
    ids = race.run_ids()
    done = sum(1 for b in budgets for c in b["cells"] for r in c["runs"] if r["status"] == "validated")
    return {
        "race": race.name,
        "kind": "race",
        "created_at": race.raw.get("created_at"),
        "entrants": [{"key": k, "title": entrant(k).title, **race.raw["entrant_recipes"][k]} for k in race.entrants],
        "shared_recipe": race.raw.get("shared_recipe"),
        "tuning": race.raw.get("tuning"),
        "seeds": race.seeds,
        "judged_on": race.raw.get("judged_on"),
        "timing": {k: v for k, v in race.raw["timing"].items() if k != "entrants"}
        | {"seconds_per_epoch": {k: race.cell(race.budgets[0], k)["epoch_seconds"] for k in race.entrants}},
        "budgets": budgets,
        "comparisons": comparisons,
        "runs_done": done,
        "runs_total": len(ids),
    }


def curve_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Time-to-accuracy points (one per entrant and budget with a finished run): the x is the mean
    actual training seconds, the y the mean validation accuracy, with the seeds' min and max."""
    rows = []
    for b in result["budgets"]:
        for c in b["cells"]:
            acc = c["accuracy"]
            if acc["mean"] is None:
                continue
            rows.append(
                {
                    "entrant": c["entrant"],
                    "title": c["title"],
                    "budget_seconds": b["budget_seconds"],
                    "seconds": c["actual_seconds"] or c["planned_seconds"],
                    "accuracy": acc["mean"],
                    "low": acc["min"],
                    "high": acc["max"],
                    "n": acc["n"],
                    "epochs": c["epochs"],
                }
            )
    return rows


def print_table(result: dict[str, Any]) -> None:
    print(
        f"race {result['race']}: {result['runs_done']}/{result['runs_total']} runs, seeds {result['seeds']}, "
        f"judged on the {result['judged_on']}"
    )
    print(f"{'budget':>7} {'architecture':<42} {'epochs':>6} {'planned s':>9} {'actual s':>8} {'validation':>18}")
    for b in result["budgets"]:
        for c in b["cells"]:
            acc = c["accuracy"]
            shown = "–" if acc["mean"] is None else f"{100 * acc['mean']:.2f} %"
            if acc["n"] > 1:
                shown += f" ({100 * acc['min']:.2f}–{100 * acc['max']:.2f})"
            actual = "–" if c["actual_seconds"] is None else f"{c['actual_seconds']:.0f}"
            print(
                f"{b['budget_seconds']:>6}s {c['title'][:42]:<42} {c['epochs']:>6} {c['planned_seconds']:>9.0f} "
                f"{actual:>8} {shown:>18}"
            )
    print(f"paired by seed, Holm-adjusted over {result['comparisons']} comparisons:")
    for b in result["budgets"]:
        for p in b["pairs"]:
            print("- " + p["sentence"])


def preset_choice(result: dict[str, Any], budget: int, model: str) -> dict[str, Any]:
    """What the race says about a preset that trains `model` for about `budget` seconds: the most
    accurate architecture there (on validation, the highest mean over seeds), whether the preset trains
    that kind of model, and one sentence saying so with its numbers, its budget and its certainty."""
    found = next((b for b in result["budgets"] if b["budget_seconds"] == int(budget)), None)
    if found is None:
        return {"complete": False, "agrees": None, "sentence": f"The race {result['race']} has no {budget} s budget."}
    cells = found["cells"]
    done = sum(c["accuracy"]["n"] for c in cells)
    wanted = len(cells) * len(result["seeds"])
    if done < wanted:
        return {
            "complete": False,
            "agrees": None,
            "sentence": f"The race {result['race']} has finished {done} of its {wanted} runs of {found['words']}, "
            "so it has not chosen this preset's model yet.",
        }
    ranked = sorted(cells, key=lambda c: -c["accuracy"]["mean"])
    top, rest = ranked[0], ranked[1:]
    pair = next(p for p in found["pairs"] if {p["leader"], p["other"]} == {top["entrant"], rest[0]["entrant"]})
    leader_model = entrant(top["entrant"]).config.model
    agrees = leader_model == model
    others = ", ".join(f"{entrant(c['entrant']).short} {100 * c['accuracy']['mean']:.2f} %" for c in rest)
    counts = sorted({c["accuracy"]["n"] for c in cells})
    seeds = (
        f"{counts[0]} seed{'s' if counts[0] > 1 else ''} each"
        if counts[0] == counts[-1]
        else f"{counts[0]}–{counts[-1]} seeds"
    )
    certainty = (
        f"the lead over {entrant(rest[0]['entrant']).short} is beyond chance (Holm p = {pair['p_holm']:.3f})"
        if pair.get("measurable")
        else f"its lead over {entrant(rest[0]['entrant']).short} is not beyond chance with {counts[0]} seeds"
    )
    sentence = (
        f"In the race {result['race']}, {entrant(top['entrant']).short} was the most accurate architecture in "
        f"{found['words']} of training here: {100 * top['accuracy']['mean']:.2f} % on validation against "
        f"{others} ({seeds}; {certainty})."
    )
    if not agrees:
        sentence += " This preset trains another kind of model."
    return {
        "complete": True,
        "agrees": agrees,
        "leader": top["entrant"],
        "leader_model": leader_model,
        "budget_seconds": int(budget),
        "sentence": sentence,
    }


def summary_or_none(name: str, store: RunStore | None = None) -> dict[str, Any] | None:
    """`summary`, or None when the race is missing or its plan file is damaged: for the pages and
    sentences that only cite a race, which must keep working without it."""
    try:
        return summary(name, store)
    except (ConfigError, ValueError, KeyError, TypeError):
        return None


def preset_reasons(store: RunStore | None = None) -> dict[str, dict[str, Any]]:
    """For every preset chosen by a race budget, what the reference race says about it ({} when there is
    no reference race here, or its plan file is damaged)."""
    from core.race.plan import REFERENCE
    from core.training import presets

    result = summary_or_none(REFERENCE, store)
    if result is None:
        return {}
    return {
        name: preset_choice(result, preset.race_budget, preset.config.model)
        for name, preset in presets.PRESETS.items()
        if preset.race_budget
    }
