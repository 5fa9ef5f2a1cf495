"""The sentences about techniques' effects: built from measured facts only, and every one names its
budget ("At 8 epochs on all 48 000 photos (bfloat16, about 2.5 min a run), …") and whether it
survives the adjustment for the number of techniques tested.

Signs: a row's `technique_effect` is what having the technique does (variant − base for a technique
added, base − variant for one removed), so "adds 0.40 points" always means "having it is better".
"""

from __future__ import annotations

from typing import Any

from core.data.dataset import N_TRAIN, spaced

NOISE_SHARE = 0.10  # time differences under 10 % are never called a cost, whatever the ranges say
NOISE_SECONDS = 2.0  # nor are differences of a second or two (start-up, the VM's hiccups)
MIN_TIMED_RUNS = 3  # fewer runs on either side: two runs of one recipe here have differed 1.8x


def points(value: float, signed: bool = True) -> str:
    text = f"{100 * value:+.2f}" if signed else f"{100 * abs(value):.2f}"
    return text.replace("-", "−")


def span(ci: list[float] | None) -> str:
    return "" if not ci else f"{points(ci[0])} to {points(ci[1])}"


def time_cost(seconds: list[float], base_seconds: list[float]) -> dict[str, Any]:
    """A variant's training time against its base's, honest about this machine's run-to-run noise:
    a difference is measurable only when the two ranges of run times do not overlap, it is over 10 %
    (identical runs here have taken 36 s and 57 s), and it is larger than the spread of the base's own
    runs: identical runs that differ by more than the difference show a machine too noisy to tell it
    (the fast study's base took 157-283 s beside the test suite; its runs without dropout 83-145 s,
    while alone on the machine dropout costs a few seconds, not 40 %)."""
    if not seconds or not base_seconds:
        return {"extra_seconds": None, "range": None, "base_range": None, "measurable": False, "words": ""}
    mean, base = sum(seconds) / len(seconds), sum(base_seconds) / len(base_seconds)
    lo, hi, blo, bhi = min(seconds), max(seconds), min(base_seconds), max(base_seconds)
    apart = hi < blo or lo > bhi
    noisy = abs(mean - base) <= bhi - blo
    measurable = (
        apart
        and not noisy
        and base > 0
        and abs(mean - base) / base >= NOISE_SHARE
        and abs(mean - base) >= NOISE_SECONDS
        and min(len(seconds), len(base_seconds)) >= MIN_TIMED_RUNS
    )
    runs = f"{lo:.0f}–{hi:.0f} s a run against the base's {blo:.0f}–{bhi:.0f} s"
    if min(len(seconds), len(base_seconds)) < MIN_TIMED_RUNS:
        fewest = min(len(seconds), len(base_seconds))
        counted = "one run each" if max(len(seconds), len(base_seconds)) == 1 else f"{fewest} timed runs"
        words = f"Time: {counted} ({mean:.0f} s against {base:.0f} s a run), too few to tell a cost from noise."
    elif measurable:
        words = f"It takes {mean / base:.1f}× the base's training time ({runs})."
    elif apart and noisy:
        words = (
            f"No measurable cost in training time ({runs}): identical runs of the base differed by "
            f"{bhi - blo:.0f} s, more than the {abs(mean - base):.0f} s between the means."
        )
    else:
        words = f"No measurable cost in training time ({runs})."
    return {
        "extra_seconds": mean - base,
        "range": [lo, hi],
        "base_range": [blo, bhi],
        "measurable": bool(measurable),
        "words": words,
    }


def _verb(value: float) -> str:
    return "adds" if value > 0 else "costs"


def verdict(row: dict[str, Any]) -> str:
    """helps, hurts, hint (beyond chance alone but not after the adjustment), noise, one seed, or no
    spread (every seed gave the same difference: nothing to judge it against)."""
    if row.get("technique_effect") is None:
        return "pending"
    if not row.get("technique_ci95"):
        return "one seed" if (row.get("seeds") or 0) < 2 else "no spread"
    if row.get("measurable"):
        return "helps" if row["technique_effect"] > 0 else "hurts"
    if row.get("measurable_unadjusted"):
        return "hint"
    return "noise"


def named(row: dict[str, Any]) -> str:
    """The technique with the setting it is about: "Dropout (0.25)" for one removed or added (the
    effect is of having it), "Network width 32 → 64" for a changed setting (the effect is of the change)."""
    name, change, kind = row["technique"], row.get("change") or "", row.get("kind")
    before, _, after = change.partition(" → ")
    if kind == "changes":
        return f"{name} {change}".strip()
    setting = before if kind == "removes" else after
    plain = setting.replace(".", "", 1).isdigit() or setting.startswith("teacher")
    return f"{name} ({setting})" if plain and setting else name


def effect_sentence(row: dict[str, Any], budget_words: str, comparisons: int, with_cost: bool = True) -> str:
    """One technique at one budget, e.g. "At 8 epochs on all 48 000 photos (bfloat16, about 2.5 min a
    run), Dropout (0.15 → 0) adds 0.40 points (+0.10 to +0.70) over 3 seeds; measurable after
    adjusting for 13 comparisons. No measurable cost in training time (…)"."""
    what = named(row)
    value, ci = row.get("technique_effect"), row.get("technique_ci95")
    lead = f"At {budget_words}, {what}"
    cost = f" {row['time']['words']}" if with_cost and row.get("time", {}).get("words") else ""
    if value is None:
        return f"{lead}: no finished pair of runs yet."
    if not ci and (row.get("seeds") or 0) >= 2:
        return (
            f"{lead}: {points(value)} points in each of {row['seeds']} seeds; with no spread between seeds there "
            f"is nothing to judge it against (not tested): run more seeds.{cost}"
        )
    if not ci:
        return f"{lead}: {points(value)} points with one seed; no interval without repeats.{cost}"
    amount = f"{points(value, signed=False)} points ({span(ci)}) over {row['seeds']} seeds"
    kind = verdict(row)
    if kind in ("helps", "hurts"):
        return f"{lead} {_verb(value)} {amount}; measurable after adjusting for {comparisons_words(comparisons)}.{cost}"
    if kind == "hint":
        return (
            f"{lead} {_verb(value)} {amount}, but not measurably once adjusted for {comparisons_words(comparisons)} "
            f"(adjusted p = {row['p_holm']:.2f}): treat it as a hint.{cost}"
        )
    return f"{lead}: no measurable effect, {points(value)} points ({span(ci)}) over {row['seeds']} seeds.{cost}"


def seconds_span(low: float, high: float) -> str:
    if high < 90:
        return f"{low:.0f}–{high:.0f} s a run"
    return f"{low / 60:.1f}–{high / 60:.1f} min a run"


def short_budget(entry: dict[str, Any]) -> str:
    photos = int(entry["photos"])
    where = f"all {photos:,}" if entry.get("full") else f"{photos:,}"
    from core.ablation.budget import epochs_words

    return f"{epochs_words(entry['epochs'])} on {where.replace(',', ' ')} photos"


def across_budgets(technique: str, rows: list[dict[str, Any]]) -> str:
    """Where a verdict changes with the budget, e.g. "Dropout: costs 1.21 points at 4 epochs on 12 000
    photos (measurable), adds 0.40 at 24 epochs on all 48 000 photos (within noise): the verdict
    changes with the budget"."""
    parts, verdicts = [], []
    for row in rows:
        value = row.get("technique_effect")
        if value is None:
            parts.append(f"not measured yet at {short_budget(row['budget'])}")
            continue
        kind = verdict(row)
        verdicts.append(kind)
        label = {
            "helps": "measurable",
            "hurts": "measurable",
            "hint": "a hint only",
            "one seed": "one seed",
            "no spread": "no spread between seeds",
        }.get(kind, "within noise")
        parts.append(f"{_verb(value)} {points(value, signed=False)} points at {short_budget(row['budget'])} ({label})")
    decided = {v for v in verdicts if v in ("helps", "hurts")}
    if len(decided) > 1:
        tail = "the verdict flips with the budget"
    elif decided and len(set(verdicts)) > 1:
        tail = "the verdict depends on the budget"
    elif decided:
        tail = "the same verdict at every budget measured"
    else:
        tail = "no measurable effect at any budget measured"
    return f"{technique}: {', '.join(parts)}; {tail}."


def factorial_sentence(
    effect: dict[str, Any], scope: str, others: int, comparisons: int, crossed_epochs: bool = False
) -> str:
    """A main effect or an interaction of a factorial study, in one sentence with its scope. A technique's
    main effect in a design that crossed the epochs (the scope names them: "At 8 and 24 epochs …") is their
    average, not a verdict at either budget, and says so."""
    value, ci = effect["effect"], effect["effect_ci95"]
    adjusted = (
        f"measurable after adjusting for {comparisons_words(comparisons)}"
        if effect["measurable"]
        else f"not measurable once adjusted for {comparisons_words(comparisons)}"
        if effect["measurable_unadjusted"]
        else "no measurable effect"
    )
    if len(effect["term"]) == 1:
        averaged = _the_other(others)
        if crossed_epochs and effect["term"][0] != "epochs":
            averaged = "both budgets" + (f" and {_others(others - 1)}" if others > 1 else "")
        return (
            f"{scope}, averaged over {averaged}, {effect['name']} ({effect['low_label']} → "
            f"{effect['high_label']}) {_verb(value) if value else 'changes'} {points(value, signed=False)} points "
            f"({span(ci)}); {adjusted}."
        )
    first, second = effect["name"].split(" × ", 1)
    larger = "larger" if value > 0 else "smaller"
    alias = f" It cannot be told apart from {' or '.join(effect['aliased_with'])}." if effect["aliased_with"] else ""
    return (
        f"{scope}, {first}'s effect is {points(value, signed=False)} points {larger} with {second} "
        f"{effect['high_label_2']} than {effect['low_label_2']} ({span(ci)}); {adjusted}.{alias}"
    )


def _the_other(n: int) -> str:
    return "the other setting" if n == 1 else f"the other {n} settings"


def _others(n: int) -> str:
    return "1 other setting" if n == 1 else f"{n} other settings"


def in_sentence(name: str) -> str:
    """A technique's name inside a sentence: "Label smoothing" → "label smoothing", but a first word
    with a capital inside it stays as written ("BatchNorm", "EMA", "AdamW")."""
    first = name.split(" ", 1)[0]
    return name if any(c.isupper() for c in first[1:]) else name[:1].lower() + name[1:]


def _listed(names: list[str]) -> str:
    """' (dropout, label smoothing)' after "techniques tested", for up to three names; else nothing."""
    return f" ({', '.join(in_sentence(n) for n in names)})" if len(names) <= 3 else ""


def comparisons_words(n: int) -> str:
    return f"{n} comparison" + ("" if n == 1 else "s")


def tested(summary: dict[str, Any]) -> list[str]:
    """The techniques a study tested, by name only (no settings or run ids: these are read to managers)."""
    if summary.get("design") == "factorial":
        return [e["name"] for e in summary["main_effects"]]
    return list(dict.fromkeys(r["technique"] for r in summary["variants"] if not r["mismatch"]))


def scope_words(summary: dict[str, Any]) -> str:
    """The budget a study's verdicts hold at, to follow "at": its budget's words, or for a factorial
    study the epochs it crossed ("8 and 24 epochs on all 48 000 photos (bfloat16, 2.2–7.1 min a run)")."""
    if summary.get("design") == "factorial":
        return str(summary["scope"]).removeprefix("At ")
    return str(summary["budget"]["words"])


def full_budget_words(fast_epochs: int) -> str:
    return f"all {spaced(N_TRAIN)} training photos and at least the fast preset's {fast_epochs} epochs"


def forest_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """What a forest plot of the study draws: for each technique (and budget) the effect of having it,
    its 95 % interval, whether it is measurable after the adjustment, and its budget's short words."""
    if summary.get("design") == "factorial":
        return [
            {
                "label": f"{e['name']} ({e['low_label']} → {e['high_label']})",
                "effect": e["effect"],
                "ci95": e["effect_ci95"],
                "measurable": e["measurable"],
                "budget": "averaged over the design",
                "key": e["key"],
            }
            for e in summary["main_effects"]
        ]
    return [
        {
            "label": named(r),
            "effect": r["technique_effect"],
            "ci95": r["technique_ci95"],
            "measurable": r["measurable"],
            "budget": short_budget(r["budget"]),
            "budget_key": r["budget"]["key"],
            "key": r["key"],
        }
        for r in summary["variants"]
        if not r["mismatch"] and r["technique_effect"] is not None and r["technique_ci95"]
    ]
