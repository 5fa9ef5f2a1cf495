"""The `python -m core` CLI as a user runs it: refusals, a killed training, cancel, one-at-a-time."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from core.cli import build_parser, config_from_args
from core.models.config import TrainConfig, to_cli_args
from core.store import RunStore
from tests.conftest import PROJECT_ROOT, run_cli, wait_until


@pytest.mark.parametrize(
    "args, message",
    [
        (["cnn", "--epochs", "0"], "epochs must be between 1 and 500"),
        (["cnn", "--epochs", "-3"], "epochs must be between"),
        (["cnn", "--batch-size", "0"], "batch size must be between"),
        (["cnn", "--lr", "0"], "learning rate must be between"),
        (["cnn", "--lr", "10"], "learning rate must be between"),
        (["cnn", "--lr", "nan"], "learning rate must be a finite number"),
        (["cnn_dropout", "--dropout", "0.95"], "dropout must be between"),
        (["cnn", "--dropout", "0.2"], "dropout does not apply to model cnn"),
        (["cnn", "--subset", "5"], "subset must be between"),
        (["transformer"], "unknown model 'transformer'"),
        (["logreg", "--epochs", "3"], "epochs does not apply to model logreg"),
        (["svm", "--set", "C=-1"], "C must be between"),
        (["knn", "--set", "depth=3"], "unknown parameter(s) for knn: depth"),
        (["cnn", "--run-id", "../../etc/passwd"], "invalid run id"),
        (["cnn", "--run-id", "a b"], "invalid run id"),
        (["cnn", "--epochs", "two"], "invalid int value"),
    ],
)
def test_invalid_arguments_exit_nonzero_with_one_line_and_create_nothing(tmp_path, args, message):
    result = run_cli("train", *args, env={"STUDIO_ARTIFACTS": str(tmp_path)})
    assert result.returncode != 0
    assert message in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_existing_run_id_is_refused(tmp_path):
    store = RunStore(tmp_path / "runs")
    with store.open_run("taken", {"model": "cnn"}):
        store.update("taken", status="completed")
    before = (store.path("taken") / "run.json").read_text()
    result = run_cli("train", "logreg", "--subset", "200", "--run-id", "taken", env={"STUDIO_ARTIFACTS": str(tmp_path)})
    assert result.returncode != 0 and "already exists" in result.stderr
    assert (store.path("taken") / "run.json").read_text() == before


def test_cli_arguments_round_trip():
    config = TrainConfig(
        "cnn_dropout",
        epochs=3,
        batch_size=64,
        learning_rate=0.0005,
        dropout=0.25,
        batchnorm=True,
        augment=False,
        early_stopping=2,
        subset=500,
        seed=7,
        params={"schedule": "constant"},
    )
    parsed = config_from_args(build_parser().parse_args(["train", *to_cli_args(config)]))
    assert parsed == config


def _start_cli_training(tmp_path, run_id, *extra):
    env = {**os.environ, "STUDIO_ARTIFACTS": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "core",
            "train",
            "cnn",
            "--subset",
            "3000",
            "--epochs",
            "50",
            "--batch-size",
            "32",
            "--run-id",
            run_id,
            "--json",
            *extra,
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def _mid_epoch(store, run_id):
    progress = store.progress(run_id) if store.exists(run_id) else None
    return progress and progress.get("batch") and progress["batch"] > 0


def test_killed_training_is_marked_interrupted_and_other_runs_are_untouched(tmp_path):
    store = RunStore(tmp_path / "runs")
    done = run_cli(
        "train", "logreg", "--subset", "300", "--run-id", "finished-before", env={"STUDIO_ARTIFACTS": str(tmp_path)}
    )
    assert done.returncode == 0, done.stderr
    snapshot = {p.name: p.read_bytes() for p in store.path("finished-before").iterdir() if p.is_file()}

    proc = _start_cli_training(tmp_path, "victim")
    try:
        wait_until(lambda: _mid_epoch(store, "victim"), timeout=120)
        assert store.get("victim")["status"] == "running" and store.active_run_id() == "victim"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        proc.kill()
    record = store.get("victim")
    assert record["status"] == "interrupted" and "unexpectedly" in record["error"]
    assert store.active_run_id() is None
    assert not (store.path("victim") / "predictions.npz").exists()
    after = {p.name: p.read_bytes() for p in store.path("finished-before").iterdir() if p.is_file()}
    assert after == snapshot and store.get("finished-before")["status"] == "completed"
    listed = {
        r["run_id"]: r["status"]
        for r in json.loads(run_cli("runs", "list", "--json", env={"STUDIO_ARTIFACTS": str(tmp_path)}).stdout)
    }
    assert listed == {"victim": "interrupted", "finished-before": "completed"}
    assert json.loads((store.path("victim") / "run.json").read_text())["status"] == "running"  # only reported
    reaped = run_cli("runs", "reap", env={"STUDIO_ARTIFACTS": str(tmp_path)})
    assert reaped.returncode == 0 and "victim" in reaped.stdout
    assert json.loads((store.path("victim") / "run.json").read_text())["status"] == "interrupted"
    assert "no dead run" in run_cli("runs", "reap", env={"STUDIO_ARTIFACTS": str(tmp_path)}).stdout


def test_cancel_request_and_second_training_refused(tmp_path):
    store = RunStore(tmp_path / "runs")
    proc = _start_cli_training(tmp_path, "long-one")
    try:
        wait_until(lambda: store.exists("long-one") and store.get("long-one")["status"] == "running", timeout=120)
        second = run_cli("train", "logreg", "--subset", "200", env={"STUDIO_ARTIFACTS": str(tmp_path)})
        assert second.returncode != 0 and "another training is running (long-one)" in second.stderr
        assert store.list_ids() == ["long-one"]  # the refused one created nothing
        cancelled = run_cli("runs", "cancel", "long-one", env={"STUDIO_ARTIFACTS": str(tmp_path)})
        assert cancelled.returncode == 0
        started = time.time()
        proc.wait(30)
        assert time.time() - started < 10
    finally:
        proc.kill()
    record = store.get("long-one")
    assert record["status"] == "interrupted" and record["error"] == "cancelled by the user"
    assert store.active_run_id() is None
