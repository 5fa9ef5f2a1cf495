"""The story's two slides about techniques: "what helped" (the cited study's verdicts, every measurable
setting named, ties and budget-dependent effects said as such: core.ablation.claims) and "what to do
next" (advice that fits the run on screen: only for a run of the studied model, and "keep" or "try"
by whether its own recipe has the technique)."""

from __future__ import annotations

from typing import Any

from core.ablation import claims, results
from core.ablation import wording as study_wording
from core.evaluation import facts
from core.story import figures
from core.story.parts import Slide

TERMS = {
    "budget": "How long each run trained (epochs) and on how many photos: a technique's effect depends on it.",
    "averaged over": "A factorial study trains every mix of the settings; a setting's effect is its average over "
    "the others' levels, which can hide an effect that appears only with one of them.",
    "comparisons": "How many effects the study tested: with more of them, some look real by chance, so each is "
    "adjusted (Holm) before it is called measurable.",
    "bfloat16": "A shorter number format for the network's arithmetic: about twice as fast here for wide "
    "networks, with the same accuracy.",
}


def _fast_epochs() -> int:
    from core.training import presets

    return int(presets.get("fast").config.epochs or 0)


def slide(store) -> Slide:
    """Only a study at the budget the presets train at is cited; otherwise the slide says none exists."""
    fast_epochs = _fast_epochs()
    summary = results.cited_study(store)
    sentences = claims.story_sentences(summary, results.short_studies(store), fast_epochs)
    if summary is None:
        from core.data.dataset import N_TRAIN

        return Slide(
            "helps",
            "What helps: not measured at full budget yet",
            sentences,
            TERMS,
            figures.study_budgets(results.study_budgets(), fast_epochs, N_TRAIN),
            source="Source: the ablation studies in artifacts/ablations; none at the presets' budget is finished",
            action=("Open What helps", "/insights"),
        )
    return Slide(
        "helps",
        f"What helped {claims.recipe_words(summary)}, measured",
        sentences,
        TERMS,
        figures.effects(study_wording.forest_rows(summary)),
        source=f"Source: ablation study {summary['study']} of {claims.recipe_words(summary)}, recorded "
        f"{str(summary['created_at'])[:10]}; {len(summary['seeds'])} seeds, {study_wording.scope_words(summary)}, "
        f"judged on validation, Holm-adjusted for {study_wording.comparisons_words(summary['comparisons'])}",
        action=("Open What helps", f"/insights?study={summary['study']}"),
    )


def _level_effect(e: claims.Effect, epochs: int | None) -> float | None:
    """A budget-dependent gain at the run's own epochs (None when the run trained at neither level, or
    the gain is not clear of zero there)."""
    p = e.per_level
    if p.get("other") != "epochs" or epochs is None:
        return None
    for level in ("low", "high"):
        if p[f"{level}_label"] == f"at {epochs} epochs" and p[level]["effect_ci95"][0] > 0:
            return float(p[level]["effect"])
    return None


def advice(summary: dict[str, Any] | None, record: dict[str, Any]) -> str | None:
    """What the cited study suggests for this run's own recipe: nothing for a model it did not study;
    for one it did, which measured gains the run already has (keep) and which it lacks (try)."""
    if summary is None:
        return None
    base_model = (summary.get("base") or {}).get("model")
    about = claims.recipe_words(summary)
    if record.get("model") != base_model:
        return (
            f"The study of what helps measured {about}, not {facts.display_name(record)}, so it suggests no change "
            "for this model."
        )
    config = record.get("config") or {}
    factors = {f["key"]: f for f in summary.get("factors", [])}
    keep: list[str] = []
    missing: list[str] = []
    for e in claims.gains(summary):
        if e.key == "epochs" or e.key not in factors:
            continue  # a budget, not a part of the recipe
        size = e.effect if not e.per_level else _level_effect(e, config.get("epochs"))
        if size is None:
            continue
        words = f"{e.short} ({study_wording.points(size)})"
        (keep if claims.has_setting(config, factors[e.key]["high"]) else missing).append(words)
    if not keep and not missing:
        return None
    where = study_wording.scope_words(summary)
    parts = []
    if keep:
        parts.append(f"this run already uses {', '.join(keep)}: worth keeping")
    if missing:
        parts.append(f"it does not use {', '.join(missing)}: worth trying")
    return f"The study of {about} at {where} found measurable gains on validation; " + "; ".join(parts) + "."


def next_slide(store, record: dict[str, Any], source: str) -> Slide:
    per_class = record["metrics"]["per_class"]
    hardest = sorted(per_class, key=lambda r: r["recall"])[:2]
    sentences = [
        (
            f"The hardest classes are {hardest[0]['class']} ({100 * hardest[0]['recall']:.0f} % found) and "
            f"{hardest[1]['class']} ({100 * hardest[1]['recall']:.0f} %): more and clearer photos of them would "
            "help most."
        )
    ]
    suggestion = advice(results.cited_study(store), record)
    if suggestion:
        sentences.append(suggestion)
    sentences.append("Next: confirm each gain over seeds at full size, and check a fresh batch of real photos.")
    return Slide(
        "next",
        "What to do next",
        sentences,
        {"found": "Recall: the share of a class's test photos the model names correctly."},
        figures.recall_bars(per_class),
        source=source,
        action=("Start a study", "/insights"),
    )
