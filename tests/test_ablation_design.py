"""The statistics and the sentences of ablation studies, checked against independent computations:
the factorial design against pyDOE, its effects against a separate statsmodels fit on constructed
data, Holm against the textbook step-down rule, budgets parsed and named, and the rules that build
sentences (every sentence names its budget; mismatches and noise are called what they are)."""

from __future__ import annotations

import dataclasses
import itertools
import json

import numpy as np
import pydoe
import pytest
import statsmodels.api as sm

from core.ablation import budget, claims, factorial, results, study, techniques, wording
from core.evaluation import stats
from core.models.rules import ConfigError
from core.store import RunStore
from core.training import presets


@pytest.mark.parametrize("n", [4, 5, 6, 7])
def test_the_design_is_pydoes_resolution_iv_design(n):
    matrix = factorial.design_matrix(n)
    assert np.array_equal(matrix, pydoe.fracfact_by_res(n, 4).astype(int))
    assert factorial.resolution(matrix) >= 4
    # resolution IV: no main effect's column equals a two-factor interaction's
    for i in range(n):
        for pair in itertools.combinations(range(n), 2):
            assert abs(matrix[:, i] @ np.prod(matrix[:, pair], axis=1)) < len(matrix)


def test_three_factors_get_the_full_factorial():
    matrix = factorial.design_matrix(3)
    assert len(matrix) == 8 and len({tuple(r) for r in matrix}) == 8 and factorial.resolution(matrix) is None


def _factors(n: int) -> list[dict]:
    return [{"key": f"f{i}", "name": f"F{i}", "low_label": "off", "high_label": "on"} for i in range(n)]


def test_effects_and_intervals_match_a_separate_statsmodels_fit_on_constructed_data():
    """Six factors in 16 runs, replicated twice: a known main effect and a known interaction with the
    first factor; the fit's effects are 2·β (4·β for an interaction) of an independent OLS fit, and
    recover the constructed values."""
    rng = np.random.default_rng(7)
    matrix = factorial.design_matrix(6)
    x = np.vstack([matrix, matrix])
    y = 0.9 + 0.01 * x[:, 1] + 0.003 * x[:, 0] * x[:, 2] + rng.normal(0, 0.001, len(x))
    fit = factorial.fit(_factors(6), x.tolist(), y.tolist())
    assert fit["fitted"] and fit["residual_df"] >= factorial.MIN_RESIDUAL_DF
    by_term = {tuple(e["term"]): e for e in fit["effects"]}
    # the independent fit: the same columns, built here
    terms = [tuple(e["term"]) for e in fit["effects"]]
    index = {f"f{i}": i for i in range(6)}
    columns = [np.prod(x[:, [index[t] for t in term]], axis=1) for term in terms]
    ols = sm.OLS(y, sm.add_constant(np.column_stack(columns))).fit()
    for j, term in enumerate(terms):
        scale = 2 if len(term) == 1 else 4
        assert by_term[term]["effect"] == pytest.approx(scale * ols.params[j + 1])
        assert by_term[term]["effect_ci95"] == pytest.approx(list(scale * ols.conf_int()[j + 1]))
        assert by_term[term]["p_value"] == pytest.approx(ols.pvalues[j + 1])
    assert by_term[("f1",)]["effect"] == pytest.approx(0.02, abs=0.002) and by_term[("f1",)]["measurable"]
    assert by_term[("f0", "f2")]["effect"] == pytest.approx(0.012, abs=0.003) and by_term[("f0", "f2")]["measurable"]
    assert not by_term[("f3",)]["measurable"]
    # a main effect is the plain difference of means in an orthogonal design
    assert by_term[("f1",)]["effect"] == pytest.approx(y[x[:, 1] > 0].mean() - y[x[:, 1] < 0].mean())


def test_every_aliased_interaction_has_the_same_column_and_pydoe_agrees():
    matrix = factorial.design_matrix(6)
    factors = _factors(6)
    fit = factorial.fit(factors, matrix.tolist(), list(np.linspace(0.8, 0.9, len(matrix))))
    names = {f"F{i}": i for i in range(6)}
    for e in fit["effects"]:
        if len(e["term"]) < 2:
            continue
        own = np.prod(matrix[:, [names[n] for n in e["name"].split(" × ")]], axis=1)
        for other in e["aliased_with"]:
            theirs = np.prod(matrix[:, [names[n] for n in other.split(" × ")]], axis=1)
            assert abs(own @ theirs) == len(matrix)
    chains = factorial.aliases(matrix, factors)
    assert chains and all(len(c) > 1 for c in chains)
    assert any("F0 × F1" in c for c in chains)  # pyDOE names ab = ce = df for this design


def test_too_few_runs_are_not_fitted():
    fit = factorial.fit(_factors(6), factorial.design_matrix(6)[:8].tolist(), [0.9] * 8)
    assert fit == {"fitted": False, "runs": 8, "needed": 6 + 1 + factorial.MIN_RESIDUAL_DF}


def test_holm_is_the_step_down_rule():
    p = [0.01, 0.04, 0.03, 0.005, 0.2]
    reject, adjusted = stats.holm(p)
    order = np.argsort(p)
    m = len(p)
    expected = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, (m - rank) * p[i])
        expected[i] = min(1.0, running)
    assert adjusted == pytest.approx(list(expected))
    assert reject == [bool(a < 0.05) for a in expected]
    assert stats.holm([]) == ([], [])
    # remembered per set of p-values (statsmodels' Holm runs a full gc.collect()): the same answer
    # again, in fresh lists a caller may change without changing the next caller's answer
    adjusted.append(9.0)
    reject.clear()
    assert stats.holm(p) == ([bool(a < 0.05) for a in expected], pytest.approx(list(expected)))


def test_seed_effect_p_value_is_a_one_sample_t_test():
    from scipy.stats import ttest_1samp

    diffs = [0.004, 0.007, 0.001]
    assert stats.seed_effect(diffs)["p"] == pytest.approx(ttest_1samp(diffs, 0).pvalue)


def test_budgets_parse_name_and_refuse():
    parsed = budget.parse("24xall, 4x12000,8x48000")
    assert [b.key for b in parsed] == ["4x12000", "8x48000", "24x48000"]
    assert parsed[1].subset is None and parsed[0].subset == 12000
    for bad in ("8", "8x", "x100", "0x1000", "8x50", "8x12000,8x12000", "1x100,2x100,3x100,4x100,5x100,6x100"):
        with pytest.raises(ConfigError):
            budget.parse(bad)
    words = budget.describe({"epochs": 8, "photos": 48000, "precision": "mixed_bfloat16"}, 150)
    assert words == "8 epochs on all 48 000 photos (bfloat16, about 2.5 min a run)"
    fast = presets.get("fast").config.epochs
    assert budget.at_least_fast({"epochs": fast, "photos": 48000}, fast)
    assert not budget.at_least_fast({"epochs": fast, "photos": 12000}, fast)
    assert not budget.at_least_fast({"epochs": fast - 1, "photos": 48000}, fast)


def test_a_mismatch_is_never_built_as_a_technique_and_shift_is_named_only_when_used():
    base = presets.get("fast").config.resolve()  # mirror augmentation with test-time mirror, no shift
    keys = {v.key: v for v in techniques.variants(base)}
    assert "augment" not in keys and "augment-tta" in keys  # augmentation off with TTA on: a mismatch
    assert keys["augment-tta"].technique == "Mirror augmentation with its test-time mirror"
    assert {"ema", "shift", "erasing"} <= set(keys)
    with pytest.raises(ConfigError, match="mismatch"):
        techniques.variants(base, only=["augment"])
    shifted = base.__class__.from_dict({**base.to_dict(), "params": {**base.params, "shift": 0.1}})
    assert techniques.technique_name("augment-tta", shifted).startswith("Mirror and shift augmentation")


def test_time_costs_inside_the_noise_are_no_cost():
    same = wording.time_cost([19, 37, 30], [36, 53, 57])
    assert not same["measurable"] and same["words"].startswith("No measurable cost")
    slower = wording.time_cost([300, 320, 340], [150, 160, 170])
    assert slower["measurable"] and "2.0×" in slower["words"]
    small = wording.time_cost([171, 172, 173], [160, 161, 162])  # apart, but under 10 %
    assert not small["measurable"]
    two = wording.time_cost([83, 145], [157, 283])  # apart, but two runs each: noise on this machine
    assert not two["measurable"] and "too few" in two["words"]
    # apart, but closer than identical runs of the base are to each other (the fast study's dropout
    # row, trained beside the test suite): noise, said with its reason
    busy = wording.time_cost([83, 145, 142], [157, 283, 227])
    assert not busy["measurable"] and busy["words"].startswith("No measurable cost")
    assert "identical runs of the base differed by 126 s, more than the 99 s" in busy["words"]
    wide = wording.time_cost([525, 599, 495], [157, 283, 227])  # twice the width: well past that spread
    assert wide["measurable"] and "2.4×" in wide["words"]


def _row(effect, ci, measurable, unadjusted, kind="removes", change="0.15 → 0"):
    flip = -1 if kind == "removes" else 1
    return {
        "technique": "Dropout",
        "key": "dropout",
        "change": change,
        "kind": kind,
        "technique_effect": flip * effect,
        "technique_ci95": sorted(flip * c for c in ci) if ci else None,
        "seeds": 3,
        "measurable": measurable,
        "measurable_unadjusted": unadjusted,
        "p_holm": 0.3,
        "time": {"words": "No measurable cost in training time (1–2 s a run against the base's 1–2 s)."},
        "budget": {"epochs": 8, "photos": 48000, "full": True, "key": "8x48000"},
    }


def test_every_effect_sentence_names_its_budget_and_its_adjustment():
    words = "8 epochs on all 48 000 photos (bfloat16, about 2.5 min a run)"
    helps = wording.effect_sentence(_row(-0.004, [-0.007, -0.001], True, True), words, 13)
    assert helps.startswith(f"At {words}, Dropout (0.15) adds 0.40 points") and "13 comparisons" in helps
    hint = wording.effect_sentence(_row(-0.004, [-0.007, -0.001], False, True), words, 13)
    assert "hint" in hint and "not measurably" in hint and words in hint
    noise = wording.effect_sentence(_row(0.001, [-0.002, 0.004], False, False), words, 13)
    assert "no measurable effect" in noise and words in noise
    one = wording.effect_sentence({**_row(0.001, None, False, False), "seeds": 1}, words, 13)
    assert "one seed" in one and words in one
    assert "comparison." in wording.effect_sentence(_row(-0.004, [-0.007, -0.001], True, True), words, 1)


def test_the_across_budget_sentence_says_when_a_verdict_flips():
    short = {**_row(0.012, [0.009, 0.015], True, True), "budget": {"epochs": 4, "photos": 12000, "key": "4x12000"}}
    long = {**_row(-0.004, [-0.007, -0.001], True, True)}
    text = wording.across_budgets("Dropout", [short, long])
    assert "costs 1.20 points at 4 epochs on 12 000 photos" in text
    assert "adds 0.40 points at 8 epochs on all 48 000 photos" in text and "flips" in text
    quiet = wording.across_budgets("Dropout", [{**short, "measurable": False, "measurable_unadjusted": False}, long])
    assert "depends on the budget" in quiet


def test_the_story_cites_only_a_full_budget_study_and_says_so_when_there_is_none():
    fast = presets.get("fast").config.epochs
    none = claims.story_sentences(None, ["ref-ablation"], fast)
    assert "No study at the budget people train at" in none[0] and f"{fast} epochs" in none[0]
    assert "ref-ablation" in none[1] and "their own budgets" in none[1]
    assert "No technique has been measured yet" in claims.manager_sentence(None, fast)


def test_the_committed_short_study_is_labelled_with_its_budget_its_old_recipe_and_its_mismatch(with_reference_runs):
    s = study.summary("ref-ablation")
    assert s["budget"]["key"] == "4x12000" and not s["budget"]["citable"]
    assert s["recipe_note"] and "width 32 (today 48)" in s["recipe_note"] and "float32" in s["recipe_note"]
    by_key = {v["key"]: v for v in s["variants"]}
    assert by_key["augment"]["mismatch"] and by_key["augment"]["verdict"] == "mismatch"
    assert "not shown as that technique" in by_key["augment"]["sentence"]
    assert s["comparisons"] == len(s["variants"]) - 1  # the mismatch is not counted
    for v in s["variants"]:
        assert v["budget"]["key"] == "4x12000"
        if not v["mismatch"]:
            assert v["sentence"].startswith("At 4 epochs on 12 000 photos (float32"), v["sentence"]
        assert set(v) >= {"effect", "effect_ci95", "seeds", "seconds", "budget", "p_holm", "measurable"}
    # dropout's effect at 4 epochs: its time difference is within this machine's noise
    assert "No measurable cost" in by_key["dropout"]["sentence"]
    assert "ref-ablation" in results.short_studies()


def test_a_recipe_note_names_what_the_preset_changed_but_not_a_factor_the_design_varied(with_reference_runs):
    from core.ablation import plan as plan_mod

    today = presets.get("fast").config.resolve().to_dict()["params"]
    for name in ("ref-ablation-fast", "ref-factorial"):
        plan = plan_mod.load(name)
        used = plan.base_recipe["params"]
        varied = {k for f in plan.factors for level in ("low", "high") for k in f[level]}
        differs = {k for k in today if used.get(k) != today[k]}
        note = results.recipe_note(plan) or ""
        for k in differs:
            named = f"{k.replace('_', ' ')} {used.get(k)} (today {today[k]})" in note
            assert named == (f"params.{k}" not in varied), (name, k, note)
        if not differs:
            assert note == ""
    # a base that differs from today's preset in a factor (erasing) and in a setting it kept (width)
    factorial_plan = plan_mod.load("ref-factorial")
    recipe = factorial_plan.base_recipe
    other = {**recipe, "params": {**recipe["params"], "erasing": 0.5, "width": 32}}
    note = results.recipe_note(dataclasses.replace(factorial_plan, base_recipe=other)) or ""
    assert f"width 32 (today {today['width']})" in note and "erasing" not in note
    one_change = plan_mod.load("ref-ablation-fast")  # no factors: every difference is named
    note = results.recipe_note(dataclasses.replace(one_change, base_recipe=other)) or ""
    assert f"width 32 (today {today['width']})" in note and "erasing 0.5 (today" in note


def test_the_story_and_the_managers_cite_only_a_finished_full_budget_study(with_reference_runs):
    from core.story import slides

    cited = results.cited_study()
    assert cited is None or all(b["citable"] for b in cited["budgets"])
    story = slides.build(explain=False)
    helps = next(s for s in story.slides if s.key == "helps")
    fast = presets.get("fast").config.epochs
    if cited is None:
        assert "No study at the budget people train at" in helps.sentences[0]
        assert "No technique has been measured yet" in story.summary
    else:
        scope = wording.scope_words(cited)  # a factorial study crosses epochs: "8 and 24 epochs on …"
        assert cited["study"] != "ref-ablation" and scope in story.summary
        assert cited["study"] in helps.source and scope in helps.source and f"{fast} " in scope
        # the first sentence names the budget (its precision and minutes are in the source line)
        assert helps.sentences[0].startswith("At " + scope.split(" (")[0]) and "photos" in helps.sentences[0]
        for sentence in helps.sentences[1:]:  # a budget-dependent effect is said per budget
            assert " at " not in sentence or "epochs" in sentence
    assert "ref-ablation," not in helps.source  # the 4-epoch study is never the story's source


def test_show_json_gives_every_variant_its_budget_and_the_factorial_its_effects_and_aliases(tiny_studies):
    from tests.conftest import run_cli

    env = {"STUDIO_ARTIFACTS": str(tiny_studies)}
    multi = json.loads(run_cli("ablate", "show", "multi", "--json", env=env).stdout)
    assert multi["runs_done"] == multi["runs_total"] == 8 and len(multi["budgets"]) == 2
    for v in multi["variants"]:
        assert set(v) >= {"budget", "effect", "effect_ci95", "seeds", "seconds", "p_value", "p_holm", "measurable"}
        assert v["seeds"] == 2 and v["sentence"].startswith(f"At {v['budget']['words']}")
    assert multi["comparisons"] == 2 and len(multi["across_budgets"]) == 1
    # paired by seed within a budget: the effect is the mean of variant − base of that budget's runs
    store = RunStore(tiny_studies / "runs")
    row = next(v for v in multi["variants"] if v["key"] == "batchnorm" and v["budget"]["key"] == "2x300")
    diffs = [
        store.get(f"multi-2x300-batchnorm-s{i}")["validation"]["val_accuracy"]
        - store.get(f"multi-2x300-base-s{i}")["validation"]["val_accuracy"]
        for i in (1, 2)
    ]
    assert row["effect"] == pytest.approx(np.mean(diffs))
    assert store.get("multi-2x300-base-s1")["config"]["epochs"] == 2
    assert store.get("multi-1x300-base-s1")["ablation"]["budget"] == "1x300"
    # a validation-only run records the software it trained with, as a scored run does
    assert {"tensorflow", "keras", "devices"} <= set(store.get("multi-1x300-base-s1")["environment"])

    fact = json.loads(run_cli("ablate", "show", "fact", "--json", env=env).stdout)
    assert fact["design"] == "factorial" and fact["runs_done"] == 8 and fact["fit"]["fitted"]
    assert [e["key"] for e in fact["main_effects"]] == ["epochs", "batchnorm"]
    assert len(fact["interactions"]) == 1 and fact["aliases"] == []  # a full factorial aliases nothing
    # the epochs' main effect is the difference of the mean accuracies at 2 and at 1 epoch
    accs = {1: [], 2: []}
    for v in fact["variants"]:
        for r in v["runs"]:
            accs[store.get(r["run_id"])["config"]["epochs"]].append(r["val_accuracy"])
    assert fact["main_effects"][0]["effect"] == pytest.approx(np.mean(accs[2]) - np.mean(accs[1]))
    assert all(e["sentence"].startswith("At 1 and 2 epochs on 300 photos") for e in fact["main_effects"])
    # a technique's main effect is its average over the epochs crossed, not a verdict at either budget
    said = {e["key"]: e["sentence"] for e in fact["main_effects"]}
    assert "), averaged over both budgets, BatchNorm (" in said["batchnorm"]
    assert "), averaged over the other setting, Training length (epochs) (" in said["epochs"]
    text = run_cli("ablate", "show", "fact", env=env).stdout
    assert "Training length (epochs)" in text and "Holm p" in text
    # cited, a factorial study is named by the epochs it crossed, and the story counts its settings,
    # not its comparisons (which count the interactions too)
    scope = wording.scope_words(fact)
    assert scope.startswith("1 and 2 epochs on 300 photos")
    assert claims.manager_sentence(fact, 8).startswith(
        f"In a controlled study of {claims.recipe_words(fact)} at {scope}, "
    )
    found = [e for e in claims.effects(fact) if e.measurable]
    said = claims.story_sentences(fact, [], 8)
    assert said[0].startswith(f"At {scope.split(' (')[0]}, ")
    assert f"{len(found)} of 2 settings changed" in said[0] or "none of the 2 settings tested" in said[0]
    assert "adjusted for 3 comparisons" in said[0]
    for e in claims.effects(fact):  # every setting is named, measurable or not
        assert e.short.lower() in " ".join(said).lower()


def test_a_plan_is_a_frozen_dataclass_that_round_trips_every_committed_plan_and_refuses_a_broken_one():
    import dataclasses
    import json

    from core.ablation.plan import Plan
    from core.models.rules import ConfigError
    from core.paths import PROJECT_ROOT

    committed = sorted((PROJECT_ROOT / "artifacts" / "ablations").glob("*.json"))
    assert committed
    for path in committed:
        raw = json.loads(path.read_text())
        plan = Plan.from_dict(raw)
        assert plan.to_dict() == raw  # nothing lost or added, old plans (no budgets) included
        assert plan.name == raw["name"] and len(plan.variants) == len(raw["variants"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.name = "renamed"  # type: ignore[misc]
    with pytest.raises(ConfigError, match="incomplete"):
        Plan.from_dict({"name": "broken", "variants": [{"key": "base"}]})  # no seeds
    with pytest.raises(ConfigError, match="no variants"):
        Plan.from_dict({"name": "empty", "variants": [], "seeds": [1]})


def test_a_techniques_name_inside_a_sentence_keeps_its_inner_capitals():
    assert wording.in_sentence("Label smoothing") == "label smoothing"
    assert wording.in_sentence("Weight averaging (EMA)") == "weight averaging (EMA)"
    assert wording.in_sentence("BatchNorm") == "BatchNorm" and wording.in_sentence("EMA decay") == "EMA decay"
