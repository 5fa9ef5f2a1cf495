"""A run whose model file is missing (a large reference model on a fresh clone) is rebuilt from its
record and checked against its own stored predictions; the reference runs that need it say so."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core import data, training
from core.models import loading
from core.models.config import TrainConfig
from core.store import NoModel, RunError, RunStore
from core.training import rebuild
from tests.conftest import click, run_cli, wait_until


@pytest.fixture()
def forest(tmp_path) -> RunStore:
    store = RunStore(tmp_path / "artifacts" / "runs")
    config = TrainConfig("random_forest", subset=1500, params={"n_estimators": 20})
    assert training.train(config, run_id="ref-forest", store=store)["status"] == "completed"
    path, _ = store.model_file("ref-forest")
    path.unlink()  # as on a fresh clone: predictions and metrics, no model file
    return store


def test_a_missing_model_is_rebuilt_and_reproduces_the_stored_predictions(forest):
    with pytest.raises(NoModel, match="python -m core rebuild ref-forest"):
        loading.load_classifier("ref-forest", forest)
    assert rebuild.needs_rebuild("ref-forest", forest) and rebuild.missing(forest) == ["ref-forest"]
    assert rebuild.estimate_seconds(forest.get("ref-forest")) >= 10
    result = rebuild.rebuild("ref-forest", forest)
    assert result["agreement"] == 1.0 and result["accuracy_delta"] == 0.0
    record = forest.get("ref-forest")
    assert record["model_rebuilt"]["agreement"] == 1.0 and record["status"] == "completed"
    assert [r["run_id"] for r in forest.list_runs()] == ["ref-forest"]  # the retrained copy is gone
    proba = loading.predict_images("ref-forest", data.load().x_test, forest)
    np.testing.assert_array_equal(proba.argmax(axis=1), forest.predictions("ref-forest")["y_pred"])
    assert not rebuild.needs_rebuild("ref-forest", forest)
    with pytest.raises(RunError, match="already has its model file"):
        rebuild.rebuild("ref-forest", forest)


def test_the_cli_rebuilds_every_missing_reference_model(forest):
    env = {"STUDIO_ARTIFACTS": str(forest.root.parent)}
    done = run_cli("rebuild", "--missing", "--json", env=env)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert [(line["run_id"], line["agreement"]) for line in lines] == [("ref-forest", 1.0)]
    again = run_cli("rebuild", "--missing", env=env)
    assert again.returncode == 0 and "every reference run has its model file" in again.stdout
    wrong = run_cli("rebuild", env=env)
    assert wrong.returncode == 2 and "name one run" in wrong.stderr


def test_the_leaderboard_offers_the_rebuild_and_says_how_it_went(forest, monkeypatch, dash_duo, app_factory):
    monkeypatch.setenv("STUDIO_ARTIFACTS", str(forest.root.parent))
    dash_duo.start_server(app_factory())
    dash_duo.wait_for_page(f"{dash_duo.server_url}/leaderboard")
    button = dash_duo.wait_for_element("#rebuild-panel button", timeout=30)
    estimate = rebuild.estimate_seconds(forest.get("ref-forest"))
    assert button.text == f"Rebuild this model (about {estimate} s)"
    assert "ref-forest" in dash_duo.find_element("#rebuild-panel").text
    from core.store import RunStore

    with pytest.raises(RunError, match=f"about {estimate} s"):  # the API's and CLI's message: the same estimate
        RunStore(forest.root).model_file("ref-forest")
    click(dash_duo, "#rebuild-panel button")
    result = wait_until(lambda: dash_duo.find_element("#rebuild-done").text, timeout=120)
    assert "ref-forest rebuilt in" in result and "every test photo gets exactly its stored answer" in result
    assert forest.get("ref-forest")["model_rebuilt"]["agreement"] == 1.0
    # at once, without a reload: the "no model file" notice has gone, the result stays
    wait_until(lambda: "not its model file" not in dash_duo.find_element("#rebuild-panel").text, timeout=20)
    assert not dash_duo.find_elements("#rebuild-panel button")
    dash_duo.wait_for_page(f"{dash_duo.server_url}/leaderboard")  # nothing left to rebuild: no notice
    dash_duo.wait_for_element("#leaderboard-grid", timeout=30)
    assert dash_duo.find_element("#rebuild-panel").text == ""
