"""The architecture race: budget-to-epochs planning, paired verdicts on constructed data, and a tiny
real race (two architectures, two budgets, two seeds on 300 photos) trained, resumed and shown."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats as scipy_stats

from core.evaluation import stats
from core.models.rules import ConfigError
from core.race import plan, results, study
from core.store import InvalidRunId, RunStore
from core.training import presets

from .conftest import PROJECT_ROOT


@pytest.mark.parametrize(
    ("budget", "epoch_s", "overhead", "expected"),
    [(150, 26.0, 7.0, 5), (600, 26.0, 7.0, 22), (1800, 54.0, 7.0, 33), (150, 54.0, 7.0, 2), (30, 60.0, 5.0, 1)],
)
def test_planned_epochs_are_the_most_that_fit_the_budget(budget, epoch_s, overhead, expected):
    epochs = plan.plan_epochs(budget, epoch_s, overhead)
    assert epochs == expected
    if epochs > 1:  # the planned seconds fit; one more epoch would not
        assert overhead + epochs * epoch_s <= budget < overhead + (epochs + 1) * epoch_s


def test_exact_fit_is_kept_and_bad_rates_refused():
    assert plan.plan_epochs(100, 10.0, 0.0) == 10  # 10 x 10 s is exactly the budget
    for bad in (0.0, -1.0, math.inf, math.nan):
        with pytest.raises(ConfigError):
            plan.plan_epochs(100, bad)


def test_budgets_parse_and_refuse():
    assert plan.parse_budgets("1800, 150,600s") == [150, 600, 1800]
    for bad in ("", "150,150", "10", "99999", "1e3", "٣٠٠", "150,,600", "1,2,3,4,5,6"):
        with pytest.raises(ConfigError):
            plan.parse_budgets(bad)
    assert plan.budget_words(150) == "2.5 minutes" and plan.budget_words(1800) == "30 minutes"
    assert plan.budget_words(45) == "45 seconds"


def _cells(per_seed: dict[str, list[float | None]]) -> dict[str, dict]:
    return {k: {"per_seed": v} for k, v in per_seed.items()}


def test_pair_verdicts_match_a_paired_t_test_and_holm():
    rng = np.random.default_rng(0)
    a = list(0.92 + rng.normal(0, 0.001, 5))
    b = list(np.asarray(a) - 0.006 + rng.normal(0, 0.0005, 5))  # b clearly behind, every seed
    c = list(np.asarray(a) + rng.normal(0, 0.002, 5))  # c: noise around a
    pairs = results.pair_verdicts(_cells({"cnn64": a, "resnet20": b, "mobilenet": c}), 150)
    assert len(pairs) == 3
    results.adjust(pairs)
    ab = next(p for p in pairs if {p["leader"], p["other"]} == {"cnn64", "resnet20"})
    assert ab["leader"] == "cnn64"
    expected = scipy_stats.ttest_rel(a, b)
    assert ab["p"] == pytest.approx(expected.pvalue, rel=1e-9)
    assert ab["mean"] == pytest.approx(float(np.mean(np.subtract(a, b))))
    ps = sorted(p["p"] for p in pairs)
    holm = [min(1.0, max((3 - j) * ps[j] for j in range(i + 1))) for i in range(3)]
    assert sorted(p["p_holm"] for p in pairs) == pytest.approx(holm)
    assert ab["measurable"] is True
    for p in pairs:
        p["sentence"] = results.sentence(p)
        assert "2.5 minutes of training here" in p["sentence"]
    assert "leads" in ab["sentence"] and "ResNet-20" in ab["sentence"]


def test_leader_is_named_first_and_noise_is_called_noise():
    pairs = results.pair_verdicts(_cells({"cnn64": [0.90, 0.91], "mobilenet": [0.92, 0.925]}), 600)
    results.adjust(pairs)
    (pair,) = pairs
    assert pair["leader"] == "mobilenet" and pair["mean"] == pytest.approx(0.0175)
    assert pair["ci95"][0] < pair["mean"] < pair["ci95"][1]
    pairs = results.pair_verdicts(_cells({"cnn64": [0.90, 0.911], "mobilenet": [0.905, 0.905]}), 600)
    results.adjust(pairs)
    (pair,) = pairs
    assert pair["leader"] == "cnn64" and pair["ci95"][0] < 0 < pair["ci95"][1]
    text = results.sentence(pair)
    assert "cannot be told apart" in text and "noise" in text and "10 minutes" in text
    # one seed, or a missing run, says so instead of a verdict
    one = results.pair_verdicts(_cells({"cnn64": [0.9, None], "mobilenet": [0.8, None]}), 150)
    results.adjust(one)
    assert "too few to judge" in results.sentence(one[0])


def _result(per_seed: dict[str, list[float | None]], budget: int = 150) -> dict:
    """A race summary as results.summary builds it, from constructed validation accuracies."""
    cells = {k: {"entrant": k, "per_seed": v, "accuracy": stats.spread(v)} for k, v in per_seed.items()}
    pairs = results.pair_verdicts(cells, budget)
    results.adjust(pairs)
    words = plan.budget_words(budget)
    budgets = [{"budget_seconds": budget, "words": words, "cells": list(cells.values()), "pairs": pairs}]
    return {"race": "constructed", "seeds": [42, 43, 44], "budgets": budgets}


def test_preset_choice_names_the_leader_its_budget_and_its_certainty():
    clear = _result({"cnn64": [0.930, 0.932, 0.931], "resnet20": [0.915, 0.918, 0.915], "mobilenet": [0.91, 0.9, 0.92]})
    said = results.preset_choice(clear, 150, "cnn_dropout")
    assert said["complete"] and said["agrees"] and said["leader"] == "cnn64"
    text = said["sentence"]
    assert "2.5 minutes" in text and "93.10 %" in text and "ResNet-20 91.60 %" in text and "3 seeds each" in text
    assert "beyond chance (Holm p = " in text and "not beyond" not in text
    # the same race read for a preset that trains a ResNet: it says the preset is not the race's choice
    other = results.preset_choice(clear, 150, "resnet")
    assert other["agrees"] is False and other["sentence"].endswith("This preset trains another kind of model.")
    close = _result({"cnn64": [0.930, 0.921, 0.935], "resnet20": [0.929, 0.925, 0.93], "mobilenet": [0.9, 0.9, 0.9]})
    assert "is not beyond chance with 3 seeds" in results.preset_choice(close, 150, "cnn_dropout")["sentence"]
    # an unfinished budget chooses nothing
    unfinished = _result({"cnn64": [0.93, None, None], "resnet20": [0.92, 0.92, None], "mobilenet": [0.9, 0.9, 0.9]})
    said = results.preset_choice(unfinished, 150, "cnn_dropout")
    assert not said["complete"] and said["agrees"] is None and "finished 6 of its 9 runs" in said["sentence"]
    assert "no 600 s budget" in results.preset_choice(clear, 600, "cnn_dropout")["sentence"]


def test_each_preset_trains_what_the_reference_race_found_most_accurate_at_its_budget(
    with_reference_runs, reference_store
):
    """fast: the race's most accurate architecture in 150 s; best: in 30 minutes (once both seeds of every
    architecture have finished there). Validation only, as the race is."""
    reasons = results.preset_reasons(reference_store)
    assert set(reasons) == {name for name, p in presets.PRESETS.items() if p.race_budget}
    assert reasons["fast"]["complete"], "the reference race's 150 s runs are committed"
    for name, said in reasons.items():
        if said["complete"]:
            assert said["agrees"], f"preset {name}: {said['sentence']}"
            assert plan.budget_words(presets.get(name).race_budget) in said["sentence"]


TIMING = {
    "entrants": {
        # 25 s an epoch: one epoch fits both budgets (the suite's cost), 30 s leaves 4 s, 45 s 19 s
        "mobilenet": {"float32": {"epoch_seconds": 25.0, "overhead_seconds": 1.0}, "chosen": "float32"},
        "cnn64": {"mixed_bfloat16": {"epoch_seconds": 25.0, "overhead_seconds": 1.0}, "chosen": "mixed_bfloat16"},
    },
    "measured_at": "test",
}


def test_create_refuses_bad_races_and_writes_nothing(private_artifacts):
    for kwargs, words in (
        ({"entrants": ["cnn64"]}, "two different"),
        ({"entrants": ["cnn64", "cnn64"]}, "two different"),
        ({"entrants": ["cnn64", "vgg"]}, "unknown architecture"),
        ({"seeds": 0}, "seeds"),
        ({"entrants": ["cnn64", "resnet20"]}, "no measurement for resnet20"),
        ({"name": "../x"}, "name"),
    ):
        args = {"name": "bad-race", "entrants": ["cnn64", "mobilenet"], "budgets": [60], "seeds": 1, **kwargs}
        with pytest.raises((ConfigError, InvalidRunId), match=words):
            study.create(timing=TIMING, **args)
    assert not plan.FOLDER.has_plan("bad-race")


def test_tiny_race_trains_resumes_and_shows(private_artifacts):
    store = RunStore()
    race = study.create("tiny-race", ["mobilenet", "cnn64"], [30, 45], 2, TIMING, subset=300)
    assert race.cell(30, "cnn64")["epochs"] == 1 and race.cell(45, "cnn64")["epochs"] == 1
    assert race.cell(30, "cnn64")["planned_seconds"] == 26.0
    again = study.create("tiny-race", ["cnn64", "mobilenet"], [99], 3, TIMING)  # kept, never redefined
    assert again.raw == race.raw
    study.run("tiny-race", store=store)
    ids = race.run_ids()
    assert len(ids) == 8 and all(store.get(r)["status"] == "validated" for r in ids)
    record = store.get("tiny-race-45s-cnn64-s2")
    assert record["race"]["budget_seconds"] == 45 and record["race"]["seed"] == 43
    assert record["config"]["epochs"] == 1 and record["config"]["params"]["precision"] == "mixed_bfloat16"
    assert record["config"]["subset"] == 300 and "test_accuracy" not in (record.get("metrics") or {})
    # a run that died is trained again; finished ones are kept; --only trains just the named architectures
    finished = store.get("tiny-race-30s-cnn64-s1")["finished_at"]
    store.update("tiny-race-45s-mobilenet-s1", status="interrupted")
    store.update("tiny-race-45s-cnn64-s2", status="interrupted")
    with pytest.raises(ConfigError, match="no architecture resnet20"):
        study.run("tiny-race", store=store, only=["resnet20"])
    study.run("tiny-race", store=store, only=["cnn64"])
    assert store.get("tiny-race-45s-cnn64-s2")["status"] == "validated"
    assert store.get("tiny-race-45s-mobilenet-s1")["status"] == "interrupted"
    study.run("tiny-race", store=store)
    assert store.get("tiny-race-45s-mobilenet-s1")["status"] == "validated"
    assert store.get("tiny-race-30s-cnn64-s1")["finished_at"] == finished
    # the index knows the race's runs as study runs
    _, count = store.index.query(filters={"study": "tiny-race"}, limit=100)
    assert count == 8
    shown = subprocess.run(
        [sys.executable, "-m", "core", "race", "show", "tiny-race", "--json"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown.returncode == 0, shown.stderr
    result = json.loads(shown.stdout)
    assert result["runs_done"] == 8 == result["runs_total"]
    for b in result["budgets"]:
        for c in b["cells"]:
            accs = [store.get(r["run_id"])["validation"]["val_accuracy"] for r in c["runs"]]
            assert c["accuracy"]["mean"] == pytest.approx(float(np.mean(accs)))
            assert c["actual_seconds"] > 0 and c["planned_seconds"] > 0
        assert len(b["pairs"]) == 1 and b["words"] in b["pairs"][0]["sentence"]
    assert len(results.curve_rows(result)) == 4


def test_the_race_page_draws_time_to_accuracy_and_names_each_budget(dash_duo, app_factory, private_artifacts):
    """After the tiny race above: its chart has one line per architecture with a point per budget, and
    every sentence names its budget."""
    from tests.conftest import graph_traces, wait_until

    result = results.summary("tiny-race")
    dash_duo.start_server(app_factory())
    dash_duo.driver.set_window_size(1280, 900)
    dash_duo.driver.get(f"{dash_duo.server_url}/race?race=tiny-race")
    traces = wait_until(lambda: graph_traces(dash_duo, "race-chart"), timeout=60)
    assert sorted((t["name"], t["n"]) for t in traces) == sorted((e["title"], 2) for e in result["entrants"])
    markers = dash_duo.driver.execute_script(
        "return document.querySelectorAll('#race-chart .scatterlayer .trace .points path').length"
    )
    assert markers == 4
    sentences = [li.text for li in dash_duo.find_elements("#race-sentences li")]
    assert len(sentences) == 2 and "30 seconds of training here" in sentences[0]
    assert "45 seconds of training here" in sentences[1]
    assert len(dash_duo.find_elements("#race-table tbody tr")) == 4
    assert "8 of 8 runs finished" in dash_duo.find_element("#race-progress").text
    assert dash_duo.get_logs() == []


def test_a_damaged_reference_race_plan_leaves_the_presets_working(tmp_path, monkeypatch):
    """A broken races/ref-race.json: the presets say nothing of the race, and `presets list` still works."""
    (tmp_path / "races").mkdir()
    (tmp_path / "races" / f"{plan.REFERENCE}.json").write_text('{"name": "ref-race", "budgets": [150')
    monkeypatch.setenv("STUDIO_ARTIFACTS", str(tmp_path))
    assert plan.REFERENCE in plan.FOLDER.names()
    assert results.preset_reasons(RunStore()) == {}
    listed = subprocess.run(
        [sys.executable, "-m", "core", "presets", "list", "--json"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "STUDIO_ARTIFACTS": str(tmp_path)},
    )
    assert listed.returncode == 0, listed.stderr
    assert [p["race"] for p in json.loads(listed.stdout)] == [None, None, None]
