"""What an ablation study found: each technique's effect on validation accuracy, with its budget,
its interval, and a verdict adjusted for the number of techniques tested (Holm).

One-change-at-a-time studies compare each variant with the base of the same budget and seed;
factorial studies fit every main effect and the separable interactions (core.ablation.factorial).
`summary(name)` is what `ablate show --json`, the "What helps" page, the story and the report read.
"""

from __future__ import annotations

from typing import Any

from core.ablation import budget as budgets_mod
from core.ablation import claims, factorial, techniques, wording
from core.ablation.plan import BASE, FACTORIAL, Plan, budget_of, budgets_of, is_running, load, variant_run_id
from core.evaluation import stats
from core.models.rules import ConfigError
from core.store import RunStore
from core.store.studies import cell_result


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def recipe_note(plan: Plan) -> str | None:
    """When a study started from a preset that has changed since, say how (the budget aside)."""
    source = str(plan.base_from or "")
    if not source.startswith("preset "):
        return None
    from core.models.config import TrainConfig
    from core.models.rules import ConfigError
    from core.training import presets

    name = source.split(" ", 1)[1]
    try:
        today = presets.get(name).config.resolve().to_dict()
    except ConfigError:
        return f"It started from preset {name}, which no longer exists."
    try:
        used = TrainConfig.from_dict(plan.base_recipe or plan.variants[0]["config"]).resolve().to_dict()
    except (ConfigError, TypeError):
        return f"Its base recipe can no longer be read against today's preset {name}."
    # a factorial design tried both levels of its factors, so a factor's setting is no change of recipe
    varied = {key for f in plan.factors for level in ("low", "high") for key in (f.get(level) or {})}
    ignore = {"seed", "subset", "epochs", "params"} | varied
    changes = [f"{k} {used.get(k)} (today {v})" for k, v in today.items() if k not in ignore and used.get(k) != v]
    changes += [
        f"{k} {used['params'].get(k)} (today {v})"
        for k, v in today["params"].items()
        if f"params.{k}" not in varied and used["params"].get(k) != v
    ]
    if not changes:
        return None
    date = str(plan.created_at or "")[:10]
    return f"Its base is preset {name} as it was on {date}, not today's: " + "; ".join(changes).replace("_", " ") + "."


def _budget_entry(entry: dict[str, Any], base_runs: list[dict | None]) -> dict[str, Any]:
    from core.training import presets

    secs = [r["seconds"] for r in base_runs if r and r["seconds"] is not None]
    seconds = _mean(secs)
    fast_epochs = int(presets.get("fast").config.epochs or 0)
    return {
        **entry,
        "full": int(entry["photos"]) >= budgets_mod.MAX_TRAIN_SIZE,
        "citable": budgets_mod.at_least_fast(entry, fast_epochs),
        "seconds_per_run": seconds,
        "words": budgets_mod.describe(entry, seconds),
    }


def _row(v: dict[str, Any], runs: list, base_runs: list, entry: dict[str, Any], base_config: dict) -> dict[str, Any]:
    base_acc = [r["val_accuracy"] if r else None for r in base_runs]
    diffs = [
        r["val_accuracy"] - b
        for r, b in zip(runs, base_acc, strict=True)
        if r and r["val_accuracy"] is not None and b is not None
    ]
    effect = stats.seed_effect(diffs)
    secs = [r["seconds"] for r in runs if r and r["seconds"] is not None]
    base_secs = [r["seconds"] for r in base_runs if r and r["seconds"] is not None]
    time = wording.time_cost(secs, base_secs)
    flip = -1.0 if v["kind"] == "removes" else 1.0
    ci = effect["ci95"]
    mismatch = techniques.mismatch(v["config"]) if techniques.mismatch(base_config) is None else None
    return {
        "technique": techniques.technique_name(v["key"], base_config)
        if v["key"] in techniques.TECHNIQUES
        else v["technique"],
        "key": v["key"],
        "change": v["change"],
        "kind": v["kind"],
        "budget": entry,
        "effect": effect["mean"],
        "effect_ci95": ci,
        "effect_sd": effect["sd"],
        "technique_effect": None if effect["mean"] is None else flip * effect["mean"],
        "technique_ci95": None if not ci else sorted([flip * ci[0], flip * ci[1]]),
        "p_value": effect["p"],
        "seeds": effect["seeds"],
        "seconds": _mean(secs),
        "extra_seconds": time["extra_seconds"],
        "time": time,
        "mismatch": mismatch,
        "runs": [r for r in runs if r],
    }


def _adjust(rows: list[dict[str, Any]]) -> int:
    """Holm over every tested row (a mismatch is not a technique, so it is not counted)."""
    tested = [r for r in rows if r["p_value"] is not None and not r["mismatch"]]
    reject, adjusted = stats.holm([r["p_value"] for r in tested])
    for r in rows:
        r.update(p_holm=None, measurable=False, measurable_unadjusted=False)
    for r, ok, p in zip(tested, reject, adjusted, strict=True):
        r.update(p_holm=p, measurable=ok, measurable_unadjusted=r["p_value"] < stats.ALPHA)
    return len(tested)


def summary(name: str, store: RunStore | None = None) -> dict[str, Any]:
    """Each variant's effect on validation accuracy against the base of its budget, paired by seed:
    `effect` (mean of variant − base), `effect_ci95` (Student-t over seeds), `technique_effect` (what
    having the technique does), `p_value` and `p_holm` (Holm over the study's comparisons),
    `measurable` (after the adjustment), `seeds`, `seconds`, `time` (its cost against the noise),
    `budget` and a plain `sentence` that names the budget."""
    plan = load(name)
    store = store or RunStore()
    if plan.design == FACTORIAL:
        return factorial_summary(plan, store)
    k = len(plan.seeds)
    results = {
        (budget_of(plan, v), v["key"]): [cell_result(store, variant_run_id(plan, v, i)) for i in range(1, k + 1)]
        for v in plan.variants
    }
    base_of = {budget_of(plan, v): v["config"] for v in plan.variants if v["key"] == BASE}
    entries = {b["key"]: _budget_entry(b, results[(b["key"], BASE)]) for b in budgets_of(plan)}
    rows = [
        _row(
            v,
            results[(budget_of(plan, v), v["key"])],
            results[(budget_of(plan, v), BASE)],
            entries[budget_of(plan, v)],
            base_of[budget_of(plan, v)],
        )
        for v in plan.variants
        if v["key"] != BASE
    ]
    comparisons = _adjust(rows)
    for r in rows:
        r["verdict"] = "mismatch" if r["mismatch"] else wording.verdict(r)
        r["sentence"] = (
            f"{r['technique']} ({r['change']}) is not shown as that technique: {r['mismatch']}."
            if r["mismatch"]
            else wording.effect_sentence(r, r["budget"]["words"], comparisons)
        )
        r["claim"] = (
            r["sentence"] if r["mismatch"] else wording.effect_sentence(r, r["budget"]["words"], comparisons, False)
        )
    first = budgets_of(plan)[0]["key"]
    base_runs = results[(first, BASE)]
    done = sum(1 for runs in results.values() for r in runs if r and r["status"] == "validated")
    by_technique: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_technique.setdefault(r["key"], []).append(r)
    return {
        "study": name,
        "design": "one-at-a-time",
        "base_from": plan.base_from,
        "base": plan.variants[0]["config"],
        "recipe_note": recipe_note(plan),
        "seeds": plan.seeds,
        "subset": plan.subset,
        "epochs": plan.epochs,
        "budget": entries[first],
        "budgets": list(entries.values()),
        "judged_on": plan.judged_on,
        "created_at": plan.created_at,
        "base_accuracy": stats.spread([r["val_accuracy"] if r else None for r in base_runs]),
        "base_seconds": entries[first]["seconds_per_run"],
        "base_runs": [r for r in base_runs if r],
        "base_runs_by_budget": {b: [r for r in results[(b, BASE)] if r] for b in entries},
        "variants": rows,
        "comparisons": comparisons,
        "adjustment": "Holm",
        "across_budgets": [
            wording.across_budgets(group[0]["technique"], group)
            for group in by_technique.values()
            if len(group) > 1 and not group[0]["mismatch"]
        ],
        "runs_done": done,
        "runs_total": k * len(plan.variants),
        "running": is_running(name, store),
    }


def factorial_summary(plan: Plan, store: RunStore) -> dict[str, Any]:
    """A factorial study: each design row's runs, the fitted main effects and interactions (with their
    aliases), and one sentence each."""
    name, k = plan.name, len(plan.seeds)
    factors = plan.factors
    levels, y, rows = [], [], []
    for v in plan.variants:
        runs = [cell_result(store, variant_run_id(plan, v, i)) for i in range(1, k + 1)]
        for r in runs:
            if r and r["val_accuracy"] is not None:
                levels.append(v["levels"])
                y.append(r["val_accuracy"])
        secs = [r["seconds"] for r in runs if r and r["seconds"] is not None]
        accs = [r["val_accuracy"] for r in runs if r and r["val_accuracy"] is not None]
        rows.append(
            {
                **{x: v[x] for x in ("key", "change", "levels")},
                "accuracy": stats.spread(accs),
                "seconds": _mean(secs),
                "runs": [r for r in runs if r],
            }
        )
    entries = [_budget_entry(b, []) for b in budgets_of(plan)]
    secs_all = [row["seconds"] for row in rows if row["seconds"] is not None]
    fit = factorial.fit(list(factors), levels, y)
    epochs = sorted({int(b["epochs"]) for b in entries})
    photos = entries[0]
    scope_budget = (
        " and ".join(map(str, epochs[:-1]))
        + (" and " if len(epochs) > 1 else "")
        + f"{budgets_mod.epochs_words(epochs[-1])} on {wording.short_budget(photos).split(' on ', 1)[1]}"
    )
    spread = wording.seconds_span(min(secs_all), max(secs_all)) if secs_all else "no run finished yet"
    scope = f"At {scope_budget} ({budgets_mod.precision_words(photos.get('precision'))}, {spread})"
    crossed = factorial.EPOCHS in {f["key"] for f in factors} and len(epochs) > 1
    by_key = {f["key"]: f for f in factors}
    main: list[dict[str, Any]] = []
    inter: list[dict[str, Any]] = []
    for e in fit.get("effects", []):
        f = by_key[e["term"][0]]
        e.update(
            low_label=f["low_label"],
            high_label=f["high_label"],
            key=e["term"][0] if len(e["term"]) == 1 else "×".join(e["term"]),
        )
        if len(e["term"]) == 2:
            g = by_key[e["term"][1]]
            e.update(low_label_2=g["low_label"], high_label_2=g["high_label"])
            i, j = (next(n for n, x in enumerate(factors) if x["key"] == t) for t in e["term"])
            e["cell_means"] = factorial.cell_means(levels, y, i, j)
        e["sentence"] = wording.factorial_sentence(e, scope, len(factors) - 1, fit["comparisons"], crossed)
        (main if len(e["term"]) == 1 else inter).append(e)
    _per_level(main, inter, by_key)
    for e in main:
        if e.get("per_level"):
            short = claims.short_name(e["name"], e["low_label"], e["high_label"])
            low, high = e["effect_ci95"]
            split = claims.per_level_words(
                claims.Effect(
                    e["key"], e["name"], short, e["effect"], (low, high), e["measurable"], per_level=e["per_level"]
                )
            )
            e["sentence"] = f"{scope}, each averaged over the other settings: {split[0].lower() + split[1:]}"
    for f in factors:
        f["budget"] = entries[0] if f["key"] != factorial.EPOCHS else None
    return {
        "study": name,
        "design": FACTORIAL,
        "base_from": plan.base_from,
        "base": plan.base_recipe,
        "recipe_note": recipe_note(plan),
        "seeds": plan.seeds,
        "budget": entries[0],
        "budgets": entries,
        "scope": scope,
        "judged_on": plan.judged_on,
        "created_at": plan.created_at,
        "factors": factors,
        "resolution": plan.resolution,
        "aliases": plan.aliases,
        "fit": {x: fit[x] for x in fit if x != "effects"},
        "main_effects": main,
        "interactions": sorted(inter, key=lambda e: -abs(e["effect"])),
        "comparisons": fit.get("comparisons", 0),
        "adjustment": "Holm",
        "variants": rows,
        "runs_done": len(y),
        "runs_total": k * len(plan.variants),
        "running": is_running(name, store),
    }


def _per_level(main: list[dict[str, Any]], inter: list[dict[str, Any]], by_key: dict[str, dict]) -> None:
    """A main effect whose interaction with another factor is measurable (after the adjustment) gets
    `per_level`: its effect at that factor's low and high level (factorial.fit's `by_level`), so it is
    stated per level (per budget, for the epochs), never as their average."""
    measurable = {tuple(e["term"]): e for e in inter if e["measurable"]}
    for e in main:
        found = []
        for entry in e.get("by_level", []):
            term = tuple(entry["interaction"])
            if term in measurable:
                found.append((measurable[term]["p_holm"], entry, measurable[term]))
        if not found:
            continue
        _p, entry, interaction = min(found, key=lambda x: x[0])
        other = by_key[entry["other"]]
        e["per_level"] = {
            "other": entry["other"],
            "other_name": "the training length"
            if entry["other"] == factorial.EPOCHS
            else f"{wording.in_sentence(other['name'])}",
            "low_label": f"at {other['low_label']}"
            if entry["other"] == factorial.EPOCHS
            else f"without {wording.in_sentence(other['name'])}",
            "high_label": f"at {other['high_label']}"
            if entry["other"] == factorial.EPOCHS
            else f"with {wording.in_sentence(other['name'])}",
            "low": entry["low"],
            "high": entry["high"],
            "interaction": interaction["name"],
            "aliased_with": interaction["aliased_with"],
        }


def _plans() -> list[Plan]:
    """Every readable study plan, by name (a damaged plan never hides the others)."""
    from core.ablation.plan import FOLDER

    out = []
    for study_name in FOLDER.names():
        try:
            plan = load(study_name)
            budgets_of(plan)
        except (ConfigError, ValueError, KeyError, TypeError):
            continue
        out.append(plan)
    return out


def _citable(plan: Plan) -> bool:
    """Every budget of the plan uses all training photos and at least the fast preset's epochs."""
    from core.training import presets

    fast_epochs = int(presets.get("fast").config.epochs or 0)
    return all(budgets_mod.at_least_fast(b, fast_epochs) for b in budgets_of(plan))


def cited_study(store: RunStore | None = None) -> dict[str, Any] | None:
    """The study the managers' summary and the story may cite: the newest finished one whose every
    budget uses all training photos and at least the fast preset's epochs (None when there is none)."""
    name = cited_name(store)
    return summary(name, store or RunStore()) if name else None


def cited_name(store: RunStore | None = None) -> str | None:
    """The name of the study `cited_study` summarises (what the menu's "What helps" opens)."""
    store = store or RunStore()
    rows = []
    for plan in filter(_citable, _plans()):
        ids = [variant_run_id(plan, v, i) for i in range(1, len(plan.seeds) + 1) for v in plan.variants]
        done = sum(1 for run_id in ids if (r := cell_result(store, run_id)) and r["status"] == "validated")
        if done == len(ids) and ids:
            rows.append((plan.created_at or "", plan.name))
    if not rows:
        return None
    return max(rows)[1]


def study_budgets() -> list[dict[str, Any]]:
    """Each study's largest budget, for the story's "not measured at full budget yet" chart."""
    out = []
    for plan in _plans():
        biggest = max(budgets_of(plan), key=lambda b: int(b["epochs"]) * int(b["photos"]))
        out.append(
            {
                "study": plan.name,
                "passes": int(biggest["epochs"]) * int(biggest["photos"]),
                "words": wording.short_budget(biggest),
            }
        )
    return out


def short_studies(store: RunStore | None = None) -> list[str]:
    """Names of studies below the citable budget (shown on the What helps page, never cited)."""
    return [plan.name for plan in _plans() if not _citable(plan)]
