"""What a study lets the story, the managers' summary, the report and "What helps" claim, and in which
words and colour: every sentence here says no more than its numbers carry.

- "The largest gain" only when that gain's 95 % interval clears the next one's; otherwise the gains
  whose intervals overlap the top one are named together as a tie.
- A main effect whose interaction with another factor (the training length, say) is measurable is
  stated at each level of that factor, not as an average over them.
- One verdict, one word and one colour per effect everywhere (`verdict`, `STYLE`): measurable after
  the Holm adjustment (green or red), a hint (its unadjusted interval clears zero; amber), or no
  measurable effect (grey).
- Every measurable setting is named.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.ablation.wording import (
    comparisons_words,
    full_budget_words,
    in_sentence,
    named,
    points,
    scope_words,
    span,
    tested,
)

# verdict -> (its word, its colour); the page, the story's slide and the report all draw these
STYLE = {
    "helps": ("measurable gain", "#18bc9c"),
    "hurts": ("measurable cost", "#e74c3c"),
    "hint": ("a hint", "#f39c12"),
    "noise": ("no measurable effect", "#95a5a6"),
}


@dataclass(frozen=True)
class Effect:
    key: str
    name: str  # in plain words, with its change: "Label smoothing (off → on)"
    short: str  # inside a sentence: "label smoothing", "training length (8 → 24 epochs)"
    effect: float
    ci: tuple[float, float]
    measurable: bool  # after the Holm adjustment
    p_holm: float | None = None
    per_level: dict[str, Any] = field(
        default_factory=dict
    )  # {other, low_label, high_label, low, high, interaction, aliased_with}


def verdict(effect: float, ci: list[float] | tuple[float, float] | None, measurable: bool) -> str:
    """helps / hurts (measurable after the adjustment), hint (the unadjusted interval clears zero),
    or noise."""
    if measurable:
        return "helps" if effect > 0 else "hurts"
    if ci and (ci[0] > 0 or ci[1] < 0):
        return "hint"
    return "noise"


def colour(row: dict[str, Any]) -> str:
    """The colour of a forest-plot row (core.ablation.wording.forest_rows)."""
    return STYLE[verdict(row["effect"], row["ci95"], row["measurable"])][1]


def effects(summary: dict[str, Any]) -> list[Effect]:
    """Every technique's effect in a finished study (a factorial study's main effects, or a one-change
    study's variants), largest first."""
    out: list[Effect] = []
    if summary.get("design") == "factorial":
        for e in summary["main_effects"]:
            out.append(
                Effect(
                    key=e["key"],
                    name=f"{e['name']} ({e['low_label']} → {e['high_label']})",
                    short=short_name(e["name"], e["low_label"], e["high_label"]),
                    effect=float(e["effect"]),
                    ci=(float(e["effect_ci95"][0]), float(e["effect_ci95"][1])),
                    measurable=bool(e["measurable"]),
                    p_holm=e.get("p_holm"),
                    per_level=e.get("per_level") or {},
                )
            )
    else:
        for r in summary["variants"]:
            if r["mismatch"] or r.get("technique_effect") is None or not r.get("technique_ci95"):
                continue
            out.append(
                Effect(
                    key=r["key"],
                    name=named(r),
                    short=in_sentence(named(r)),
                    effect=float(r["technique_effect"]),
                    ci=(float(r["technique_ci95"][0]), float(r["technique_ci95"][1])),
                    measurable=bool(r["measurable"]),
                    p_holm=r.get("p_holm"),
                )
            )
    return sorted(out, key=lambda e: -e.effect)


def gains(summary: dict[str, Any]) -> list[Effect]:
    """The measurable gains (after the adjustment), largest first."""
    return [e for e in effects(summary) if e.measurable and e.effect > 0]


def leaders(found: list[Effect]) -> list[Effect]:
    """The gains that cannot be told apart from the largest: the largest alone when its interval clears
    the next one's, else every gain whose interval reaches the largest's."""
    if not found:
        return []
    top = found[0]
    return [top] + [e for e in found[1:] if e.ci[1] >= top.ci[0]]


def short_name(name: str, low: str, high: str) -> str:
    """A factor inside a sentence: "label smoothing" for one turned on, "training length (8 → 24
    epochs)" for two settings."""
    if (low, high) == ("off", "on"):
        return in_sentence(name)
    bare = name.split(" (", 1)[0]
    if low.endswith(" epochs") and high.endswith(" epochs"):
        return f"{in_sentence(bare)} ({low.removesuffix(' epochs')} → {high})"
    return f"{in_sentence(bare)} ({low} → {high})"


def _listing(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def largest_words(found: list[Effect]) -> str:
    """ "label smoothing gave the largest measured gain, +0.29 points (+0.19 to +0.40)", or, when the
    intervals overlap, the tied gains named together."""
    found = [e for e in found if not e.per_level]  # an effect that depends on another factor has no single size
    top = leaders(found)
    if not top:
        return "no gain had one size at every level of the other settings"
    if len(top) == 1:
        e = top[0]
        return f"{e.short} gave the largest measured gain, {points(e.effect)} points ({span(list(e.ci))})"
    low, high = min(e.effect for e in top), max(e.effect for e in top)
    return (
        f"{_listing([e.short for e in top])} gave measurable gains of similar size ({points(low)} to "
        f"{points(high)} points; their intervals overlap, so none is clearly the largest)"
    )


def per_level_words(e: Effect) -> str:
    """A main effect stated at each level of the factor it interacts with measurably."""
    p = e.per_level
    low, high = p["low"], p["high"]
    alias = (
        f"; that interaction cannot be told apart from {' or '.join(p['aliased_with'])}"
        if p.get("aliased_with")
        else ""
    )

    def one(level: dict[str, Any]) -> str:
        ci = level["effect_ci95"]
        clear = "" if ci[0] > 0 or ci[1] < 0 else ", no measurable effect"
        return f"{points(level['effect'])} points ({span(ci)}{clear})"

    return (
        f"{e.short[:1].upper() + e.short[1:]} depends on {p['other_name']}: {one(low)} "
        f"{p['low_label']}, {one(high)} {p['high_label']} (their interaction is measurable{alias})."
    )


def story_sentences(summary: dict[str, Any] | None, short: list[str], fast_epochs: int) -> list[str]:
    """The story's "what helps" sentences (at most three), naming every measurable setting."""
    if summary is None:
        out = [
            (
                f"No study at the budget people train at ({full_budget_words(fast_epochs)}) has finished yet, so "
                "no technique is called helpful here."
            )
        ]
        if short:
            out.append(
                f"Shorter studies ({', '.join(short)}) are on the What helps page; their verdicts hold only at "
                "their own budgets."
            )
        return out
    every = effects(summary)
    found = [e for e in every if e.measurable]
    where = str(scope_words(summary)).split(" (", 1)[0]  # the precision and minutes are in the source line
    adjusted = f"adjusted for {comparisons_words(summary['comparisons'])}"
    if summary.get("design") == "factorial":
        adjusted = f"each averaged over the others, {adjusted}"
    if not found:
        first = (
            f"At {where}, none of the {len(every)} settings tested{_named(tested(summary))} changed validation "
            f"accuracy measurably ({adjusted})."
        )
        out = [first]
    else:
        plain = [e for e in found if not e.per_level]
        split = [e for e in found if e.per_level]
        pieces = []
        if plain:
            items = _listing([f"{e.short} {points(e.effect)}" for e in plain])
            gained = [e for e in plain if e.effect > 0]
            top = leaders(gained)
            if len(top) > 1 and len(top) == len(gained):
                items += ", which cannot be told apart"
            elif len(top) > 1:
                items += f" ({_listing([e.short for e in top])} cannot be told apart)"
            elif len(gained) > 1:
                items += f" ({top[0].short} clearly the largest)"
            pieces.append(items)
        if split:
            pieces.append(f"{_listing([e.short for e in split])}, which depend on another setting")
        listed = "; and ".join(pieces)
        out = [
            f"At {where}, {len(found)} of {len(every)} settings changed validation accuracy measurably ({adjusted}): {listed}."
        ]
        seen: set[str] = set()
        parts = []
        for e in sorted(split, key=lambda e: e.per_level["other"] != "epochs"):
            if e.per_level["interaction"] in seen:
                continue
            seen.add(e.per_level["interaction"])
            p = e.per_level

            def one(level: dict[str, Any]) -> str:
                ci = level["effect_ci95"]
                return f"{points(level['effect'])}" + ("" if ci[0] > 0 or ci[1] < 0 else " (no measurable effect)")

            parts.append(
                f"{e.short[:1].upper() + e.short[1:]}: {one(p['low'])} {p['low_label']}, {one(p['high'])} {p['high_label']}."
            )
        if parts:
            out.append(" ".join(parts))
    rest = [e for e in every if not e.measurable]
    if rest:
        hints = [e for e in rest if verdict(e.effect, e.ci, False) == "hint"]
        noise = [e for e in rest if e not in hints]
        words = []
        if hints:
            words.append(
                f"{_listing([f'{e.short} ({points(e.effect)})' for e in hints])} "
                + ("is a hint" if len(hints) == 1 else "are hints")
                + " (beyond chance alone, not after the adjustment)"
            )
        if noise:
            words.append(f"{_listing([e.short for e in noise])} had no measurable effect")
        sentence = "; ".join(words)
        out.append(sentence[:1].upper() + sentence[1:] + ".")
    return out[:3]


def _named(names: list[str]) -> str:
    return f" ({', '.join(in_sentence(n) for n in names)})" if len(names) <= 3 else ""


def manager_sentence(summary: dict[str, Any] | None, fast_epochs: int) -> str:
    """The managers' summary's sentence on techniques, with the study's budget and model, or why there is
    none."""
    if summary is None:
        return (
            f"No technique has been measured yet at the budget the presets train at ({full_budget_words(fast_epochs)})."
        )
    words = scope_words(summary)
    about = recipe_words(summary)
    found = gains(summary)
    if not found:
        names = tested(summary)
        if len(names) == 1:
            return f"In a controlled study of {about} at {words}, the one technique tested{_named(names)} did not change accuracy beyond chance."
        return (
            f"In a controlled study of {about} at {words}, none of the {len(names)} techniques tested{_named(names)} "
            f"changed accuracy beyond chance (adjusted for {comparisons_words(summary['comparisons'])})."
        )
    depends = [e for e in found if e.per_level]
    tail = "".join(
        f" The gain from {e.short} depends on {e.per_level['other_name']}: {points(e.per_level['low']['effect'])} "
        f"{e.per_level['low_label']}, {points(e.per_level['high']['effect'])} {e.per_level['high_label']}."
        for e in depends
        if e.per_level["other"] == "epochs"
    )
    return (
        f"In a controlled study of {about} at {words}, {largest_words(found)}, on validation photos (adjusted "
        f"for {comparisons_words(summary['comparisons'])}).{tail}"
    )


def recipe_words(summary: dict[str, Any]) -> str:
    """What a study's verdicts are about: "the CNN + Dropout recipe"."""
    from core.models import get_spec
    from core.models.rules import ConfigError

    model = (summary.get("base") or {}).get("model")
    try:
        label = get_spec(model).label if model else None
    except (ConfigError, KeyError, ValueError):
        label = None
    return f"the {label or model or 'studied'} recipe"


def has_setting(config: dict[str, Any], high: dict[str, Any]) -> bool:
    """Whether a run's config has a factor at its 'on' level (the same truthiness for every setting the
    level names: dropout 0.25 counts as having dropout 0.15's factor)."""
    params = config.get("params") or {}
    for name, value in high.items():
        current = params.get(name.split(".", 1)[1]) if name.startswith("params.") else config.get(name)
        if bool(current) != bool(value):
            return False
    return True
