"""Ensemble members chosen on the validation split: every subset tried, the reported accuracy is the
averaged members' real validation accuracy, and the CLI records how the members were chosen."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from core import data, training
from core.models.config import TrainConfig
from core.store import NoModel, RunError, RunStore
from core.training import ensemble_select
from tests.conftest import run_cli

CANDIDATES = {
    "sel-logreg": TrainConfig("logreg", subset=600, params={"max_iter": 50}),
    "sel-knn": TrainConfig("knn", subset=600, params={"k": 5, "pca": 20}),
    "sel-forest": TrainConfig("random_forest", subset=600, params={"n_estimators": 20}),
}


@pytest.fixture(scope="module")
def candidates(tmp_path_factory) -> RunStore:
    store = RunStore(tmp_path_factory.mktemp("select") / "artifacts" / "runs")
    for run_id, config in CANDIDATES.items():
        assert training.train(config, run_id=run_id, store=store)["status"] == "completed"
    return store


def test_the_chosen_subset_is_the_most_accurate_on_validation(candidates):
    chosen = ensemble_select.choose(list(CANDIDATES), candidates, max_members=3)
    _, val_idx = data.split_indices(data.DEFAULT_SEED)
    y_val = data.load().y_train[val_idx]
    probas = {r: ensemble_select.val_probabilities(r, candidates) for r in CANDIDATES}
    accuracy = {
        subset: float((np.mean([probas[r] for r in subset], axis=0).argmax(1) == y_val).mean())
        for size in (2, 3)
        for subset in itertools.combinations(CANDIDATES, size)
    }
    assert chosen["tried"] == len(accuracy) == 4
    assert chosen["val_accuracy"] == pytest.approx(accuracy[tuple(chosen["members"])])
    assert chosen["val_accuracy"] == pytest.approx(max(accuracy.values()))
    for run_id, value in chosen["singles"].items():
        assert value == pytest.approx(float((probas[run_id].argmax(1) == y_val).mean()))
    assert chosen["best_single"]["val_accuracy"] == max(chosen["singles"].values())


def test_a_candidate_without_its_model_file_is_named(candidates, tmp_path):
    path, _ = candidates.model_file("sel-forest")
    kept = path.read_bytes()
    path.unlink()
    try:
        with pytest.raises(NoModel, match="sel-forest"):
            ensemble_select.choose(["sel-logreg", "sel-forest"], candidates)
    finally:
        path.write_bytes(kept)
    with pytest.raises(RunError, match="from 2 to"):
        ensemble_select.choose(["sel-logreg"], candidates)


def test_the_cli_makes_the_chosen_ensemble_and_records_the_choice(candidates):
    env = {"STUDIO_ARTIFACTS": str(candidates.root.parent)}
    done = run_cli("ensemble", *CANDIDATES, "--choose", "--max", "2", "--run-id", "sel-ensemble", "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["run_id"] == "sel-ensemble"
    record = candidates.get("sel-ensemble")
    assert len(record["config"]["members"]) == 2
    assert (
        "chosen on the validation split" in record["produced_by"]["note"]
        and "(3 tried)" in record["produced_by"]["note"]
    )
