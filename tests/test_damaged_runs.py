"""What real use leaves behind: each kind of damaged run is flagged with its reason, never a 500,
and every other run keeps working (run store, `runs check`, every page, callbacks, the API)."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from core.store import RunStore
from dashboard.pagerequest import page_request
from tests.conftest import PROJECT_ROOT, run_cli

REF = PROJECT_ROOT / "artifacts" / "runs"


def _edit_record(folder: Path, change) -> None:
    record = json.loads((folder / "run.json").read_text())
    change(record)
    (folder / "run.json").write_text(json.dumps(record))


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _ten_rows(folder: Path) -> None:
    with np.load(folder / "predictions.npz") as saved:
        arrays = {k: saved[k][:10] for k in saved.files}
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    (folder / "predictions.npz").write_bytes(buffer.getvalue())


def _lambda_model(folder: Path) -> None:
    import keras

    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Lambda(lambda x: x * 2),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.save(folder / "model.keras")


# damaged run id -> (the reference run it starts from, the damage, a fragment of the reason)
CASES = {
    "bad-json": ("ref-logreg", lambda f: (f / "run.json").write_text('{"status": "compl'), "not valid JSON"),
    "bad-no-metrics": ("ref-logreg", lambda f: _edit_record(f, lambda r: r.pop("metrics")), "no metrics"),
    "bad-null-acc": (
        "ref-logreg",
        lambda f: _edit_record(f, lambda r: r["metrics"].update(test_accuracy=None)),
        "metrics.test_accuracy",
    ),
    "bad-nan-acc": (
        "ref-logreg",
        lambda f: _edit_record(f, lambda r: r["metrics"].update(test_accuracy=float("nan"))),
        "metrics.test_accuracy",
    ),
    "bad-string-acc": (
        "ref-logreg",
        lambda f: _edit_record(f, lambda r: r["metrics"].update(test_accuracy="93%")),
        "metrics.test_accuracy",
    ),
    "bad-truncated-npz": ("ref-mlp", lambda f: _truncate(f / "predictions.npz"), "predictions.npz cannot be read"),
    "bad-ten-rows-npz": ("ref-mlp", _ten_rows, "shape (10,)"),
    "bad-no-model": ("ref-cnn", lambda f: (f / "model.keras").unlink(), "model.keras is missing"),
    "bad-garbage-model": (
        "ref-cnn",
        lambda f: (f / "model.keras").write_bytes(b"\x00garbage" * 100),
        "cannot be loaded",
    ),
    "bad-lambda-model": ("ref-cnn", _lambda_model, "Lambda"),
}
LOAD_ONLY = {"bad-garbage-model", "bad-lambda-model"}  # found when the model is loaded, not on listing
GOOD = ("ref-cnn", "ref-logreg", "ref-mlp")


@pytest.fixture(scope="module")
def damaged_artifacts(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("damaged-artifacts")
    for run in GOOD:
        shutil.copytree(REF / run, root / "runs" / run, ignore=shutil.ignore_patterns("logs", ".lock"))
    for run_id, (source, damage, _reason) in CASES.items():
        folder = root / "runs" / run_id
        shutil.copytree(REF / source, folder, ignore=shutil.ignore_patterns("logs", ".lock"))
        _edit_record(folder, lambda r, run_id=run_id: r.update(run_id=run_id, produced_by={}))
        damage(folder)
    return root


@pytest.fixture()
def damaged_env(damaged_artifacts, monkeypatch) -> Path:
    monkeypatch.setenv("STUDIO_ARTIFACTS", str(damaged_artifacts))
    return damaged_artifacts


def test_the_store_flags_each_damage_with_its_reason_and_keeps_the_others(damaged_artifacts):
    store = RunStore(damaged_artifacts / "runs")
    listed = {r["run_id"]: r for r in store.list_runs()}
    assert set(listed) == set(CASES) | set(GOOD)
    for run_id in GOOD:
        assert listed[run_id]["status"] == "completed", listed[run_id].get("damage")
    for run_id, (_source, _damage, reason) in CASES.items():
        if run_id in LOAD_ONLY:
            continue
        assert listed[run_id]["status"] == "damaged", run_id
        assert reason in listed[run_id]["damage"], (run_id, listed[run_id]["damage"])
        assert "\n" not in listed[run_id]["damage"]


def test_runs_check_lists_every_run_and_fails_when_any_is_damaged(damaged_env):
    result = run_cli("runs", "check", "--json")
    assert result.returncode == 1, result.stderr
    report = {r["run_id"]: r for r in json.loads(result.stdout)}
    assert {r for r, v in report.items() if v["ok"]} == set(GOOD)
    for run_id, (_source, _damage, reason) in CASES.items():
        assert not report[run_id]["ok"] and reason in report[run_id]["reason"], report[run_id]
        assert str(damaged_env) not in report[run_id]["reason"]  # no machine paths in messages
    text = run_cli("runs", "check", "--no-models")
    assert text.returncode == 1 and "ref-cnn " in text.stdout and "DAMAGED: run.json is not valid JSON" in text.stdout


def test_runs_check_is_clean_on_the_committed_reference_runs(reference_artifacts):
    result = run_cli("runs", "check", env={"STUDIO_ARTIFACTS": str(reference_artifacts)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(" ok") == len(list(REF.glob("ref-*")))


def test_runs_delete_refuses_references_and_running_runs(tmp_path):
    root = tmp_path / "artifacts"
    shutil.copytree(REF / "ref-logreg", root / "runs" / "ref-logreg", ignore=shutil.ignore_patterns("logs"))
    shutil.copytree(REF / "ref-logreg", root / "runs" / "mine", ignore=shutil.ignore_patterns("logs"))
    env = {"STUDIO_ARTIFACTS": str(root)}
    refused = run_cli("runs", "delete", "ref-logreg", env=env)
    assert refused.returncode == 1 and "--force" in refused.stderr and (root / "runs" / "ref-logreg").is_dir()
    store = RunStore(root / "runs")
    with store.open_run("busy", {"model": "logreg", "label": "x", "family": "classic", "config": {}}):
        running = run_cli("runs", "delete", "busy", env=env)
        assert running.returncode == 1 and "still training" in running.stderr and (root / "runs" / "busy").is_dir()
    assert run_cli("runs", "delete", "mine", env=env).returncode == 0 and not (root / "runs" / "mine").exists()
    assert run_cli("runs", "delete", "ref-logreg", "--force", env=env).returncode == 0
    assert run_cli("runs", "delete", "mine", env=env).returncode == 1  # gone already: a clear error
    assert sorted(p.name for p in (root / "runs").iterdir()) == ["busy"]


@pytest.fixture()
def client(damaged_env):
    from dashboard.app import create_app

    app = create_app()
    test_client = app.server.test_client()
    return test_client, test_client.get("/_dash-dependencies").get_json()


def _render(client, path: str, search: str = "") -> str:
    test_client, deps = client
    response = test_client.post("/_dash-update-component", json=page_request(deps, path, search))
    assert response.status_code == 200, (path, search, response.data[:400])
    return response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/", "/data", "/train", "/leaderboard", "/errors", "/gradcam"])
def test_every_page_renders_with_damaged_runs_in_the_store(client, path):
    body = _render(client, path)
    if path == "/":
        assert "8 damaged runs left out" in body and "bad-no-metrics" in body
    if path == "/leaderboard":
        assert "damaged-row" in body and "damaged runs are greyed out" in body
        rows = _callback(  # the table's first block of rows, as the grid asks for it
            client,
            "..leaderboard-grid.getRowsResponse...leaderboard-count.children..",
            [{"id": "leaderboard-grid", "property": "getRowsRequest", "value": {"startRow": 0, "endRow": 100}}],
            [
                {"id": "leaderboard-show-all", "property": "value", "value": False},
                {"id": "leaderboard-group-seeds", "property": "value", "value": False},
            ],
        )
        text = json.dumps(rows)
        assert "damaged: predictions.npz: y_true has shape (10,)" in text and "bad-nan-acc" in text
        assert '"ref-cnn"' in text


@pytest.mark.parametrize("run_id", sorted(CASES))
def test_errors_and_gradcam_of_a_damaged_run_name_the_reason(client, run_id):
    reason = CASES[run_id][2]
    gradcam = _render(client, "/gradcam", f"?run={run_id}")  # loads the model: finds LOAD_ONLY damage
    errors = _render(client, "/errors", f"?run={run_id}")  # ... which every later read then reports
    assert "errors-problem" in errors and "gradcam-problem" in gradcam
    assert reason in errors and reason in gradcam and "damaged" in gradcam


def test_the_healthy_runs_keep_working_beside_damaged_ones(client):
    assert "errors-matrix" in _render(client, "/errors", "?run=ref-logreg")
    assert "gradcam-heat" in _render(client, "/gradcam", "?run=ref-cnn&index=3")


def _callback(client, output: str, inputs: list[dict], state: list[dict]) -> dict:
    test_client, _deps = client
    outputs = [dict(zip(("id", "property"), o.split("."), strict=True)) for o in output.strip(".").split("...")]
    response = test_client.post(
        "/_dash-update-component",
        json={
            "output": output,
            "outputs": outputs if output.startswith("..") else outputs[0],
            "inputs": inputs,
            "state": state,
            "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"],
        },
    )
    assert response.status_code == 200, response.data[:400]
    return response.get_json()


@pytest.mark.parametrize("run_id", ["bad-truncated-npz", "deleted-meanwhile", "../etc"])
def test_a_confusion_cell_click_on_a_stale_or_damaged_run_says_so(client, run_id):
    output = (
        "..errors-gallery.children...errors-gallery-title.children...errors-pager.max_value..."
        "errors-pager.active_page...errors-pager.style.."
    )
    click = {"points": [{"x": "Shirt", "y": "T-shirt/top", "z": 10}]}
    body = json.dumps(
        _callback(
            client,
            output,
            [
                {"id": "errors-matrix", "property": "clickData", "value": click},
                {"id": "errors-pager", "property": "active_page", "value": 1},
            ],
            [{"id": "errors-run", "property": "value", "value": run_id}],
        )
    )
    assert "errors-gallery-problem" in body
    assert {"bad-truncated-npz": "damaged", "deleted-meanwhile": "no run called", "../etc": "not a valid run name"}[
        run_id
    ] in body


def test_api_runs_reports_damage(client):
    test_client, _deps = client
    runs = {r["run_id"]: r for r in test_client.get("/api/runs?limit=1000").get_json()}
    assert runs["bad-null-acc"]["status"] == "damaged" and "test_accuracy" in runs["bad-null-acc"]["damage"]
    assert runs["ref-cnn"]["status"] == "completed" and runs["ref-cnn"]["test_accuracy"] > 0.9
    assert runs["bad-null-acc"]["test_accuracy"] is None


def test_a_damaged_truncated_npz_is_refused_by_the_full_read(tmp_path):
    root = tmp_path / "runs"
    shutil.copytree(REF / "ref-logreg", root / "r", ignore=shutil.ignore_patterns("logs"))
    path = root / "r" / "predictions.npz"
    with zipfile.ZipFile(path) as archive:  # keep the headers, corrupt the probabilities' bytes
        members = {n: archive.read(n) for n in archive.namelist()}
    members["proba.npy"] = members["proba.npy"][:128] + b"\xff" * (len(members["proba.npy"]) - 128)
    with zipfile.ZipFile(path, "w") as archive:
        for name, payload in members.items():
            archive.writestr(name, payload)
    store = RunStore(root)
    assert store.get("r")["status"] == "completed"  # headers and labels are fine: the cheap check passes
    from core.store import DamagedRun

    with pytest.raises(DamagedRun, match="not probabilities"):
        store.predictions("r")
