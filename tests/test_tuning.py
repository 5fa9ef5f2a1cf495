"""Hyperparameter search: real Optuna studies whose trials are real (tiny) trainings in a real store."""

from __future__ import annotations

import json

import pytest

from core.models.rules import ConfigError
from core.store import RunStore
from core.tuning import space, study
from tests.conftest import run_cli


@pytest.fixture()
def tuning_env(tmp_path, monkeypatch):
    env = {"STUDIO_ARTIFACTS": str(tmp_path), "OPTUNA_STORAGE": f"sqlite:///{tmp_path / 'studies.db'}"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.mark.parametrize(
    "args, message",
    [
        (["--trials", "0"], "from 1 to 500"),
        (["--trials", "10000"], "from 1 to 500"),
        (["--trials", "3", "--space", "C=5:1"], "empty or inverted"),
        (["--trials", "3", "--space", "C=1:1"], "empty or inverted"),
        (["--trials", "3", "--space", "gamma=1:2"], "no setting 'gamma'"),
        (["--trials", "3", "--space", "C=0:1e9"], "between"),
        (["--trials", "3", "--subset", "5"], "subset must be between"),
    ],
)
def test_bad_studies_are_refused_and_start_nothing(tuning_env, tmp_path, args, message):
    done = run_cli("tune", "logreg", *args, env=tuning_env)
    assert done.returncode == 2 and message in done.stderr
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())
    assert not (tmp_path / "studies.db").exists()


def test_a_tiny_knn_study_through_the_cli_then_promotion(tuning_env, tmp_path):
    done = run_cli(
        "tune", "knn", "--trials", "3", "--subset", "400", "--study", "s1", "--space", "k=1:15", "--space",
        "pca=10:40", "--promote", "--json", env=tuning_env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["study"] == "s1" and result["model"] == "knn" and len(result["trials"]) == 3
    store = RunStore(tmp_path / "runs")
    for trial in result["trials"]:
        record = store.get(trial["run_id"])
        assert record["status"] == "validated" and record["study"] == {"name": "s1", "trial": trial["number"]}
        assert "metrics" not in record or record["metrics"] is None  # the test set is not used by trials
        assert record["validation"]["val_accuracy"] == pytest.approx(trial["val_accuracy"])
        assert 1 <= record["config"]["params"]["k"] <= 15 and 10 <= record["config"]["params"]["pca"] <= 40
    best = max(result["trials"], key=lambda t: t["val_accuracy"])
    assert result["best"]["number"] == best["number"]
    promoted = store.get(result["promoted"]["run_id"])  # the only run that scored the test set
    assert promoted["status"] == "completed" and promoted["data"]["n_train"] == 48000
    assert promoted["config"]["params"] == {**promoted["config"]["params"], **best["params"]}
    assert promoted["produced_by"]["promoted_from"]["study"] == "s1"


def test_a_keras_study_reports_epochs_and_keeps_curves_of_pruned_trials(tuning_env, tmp_path):
    store = RunStore(tmp_path / "runs")
    result = study.run(
        "cnn", 4, subset=300, epochs=2, overrides=["learning_rate=1e-5:1e-2", "width=8:16"], name="k1", store=store
    )
    states = {t["state"] for t in result["trials"]}
    assert states <= {"complete", "pruned"} and "complete" in states
    for trial in result["trials"]:
        record = store.get(trial["run_id"])
        assert record["status"] == {"complete": "validated", "pruned": "pruned"}[trial["state"]]
        assert len(store.history(trial["run_id"])) == trial["epochs_reported"] >= 1  # curves kept
    again = study.run("cnn", 1, subset=300, epochs=2, overrides=["width=8:16"], name="k1", store=store)
    assert len(again["trials"]) == 5  # a study continues under its name
    with pytest.raises(ConfigError, match="tunes cnn"):
        study.run("logreg", 1, subset=300, name="k1", store=store)


def test_every_default_space_fits_what_training_accepts():
    from core.models import MODEL_NAMES

    for model in MODEL_NAMES:
        if model in space.DEFAULT_SPACES:
            study.plan(model, 1, 500, None, [])  # raises if any default range were refused


def test_searching_the_augmentation_strength_turns_augmentation_on():
    _space, base = study.plan("cnn", 1, 500, 1, [])
    assert study.config_for(base, {"shift": 0.1}).augment is True
    assert study.config_for(base, {"shift": 0.0}).augment is False
    assert study.config_for(base, {"learning_rate": 0.002}).learning_rate == 0.002


def test_polling_a_starting_trial_never_fails_it_and_a_killed_study_leaves_its_trial_failed(tuning_env, tmp_path):
    """The page polls `summary` every two seconds, also while a trial is loading the data (before its
    run exists); that must never touch a live trial. A SIGKILLed study process leaves its trial FAIL
    (not RUNNING forever) and its run `interrupted`."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import PROJECT_ROOT, wait_until

    proc = subprocess.Popen(
        [sys.executable, "-m", "core", "tune", "cnn", "--trials", "2", "--subset", "300", "--epochs", "200",
         "--study", "killed", "--space", "width=8:12"],
        cwd=PROJECT_ROOT, env={**os.environ, **tuning_env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    store = RunStore(tmp_path / "runs")
    try:

        def first_epoch():
            try:
                result = study.summary("killed", store)
            except ConfigError:  # the study is not created yet
                return None
            assert [t["state"] for t in result["trials"]] in ([], ["running"])  # polling never fails it
            run_id = result["trials"][0]["run_id"] if result["trials"] else None
            return run_id if run_id and store.exists(run_id) and store.history(run_id) else None

        run_id = wait_until(first_epoch, timeout=120, interval=0.1)
        assert study.is_running("killed")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    time.sleep(0.5)
    result = wait_until(lambda: (r := study.summary("killed", store))["trials"][0]["state"] == "fail" and r, timeout=30)
    assert "its process died" in result["trials"][0]["error"]
    assert store.get(run_id)["status"] == "interrupted"
    assert not result["running"] and not study.is_running("killed")


def test_an_unknown_study_gets_one_line_and_no_traceback(tuning_env):
    for command in (["tune-trial", "nosuch"], ["promote", "nosuch"]):
        done = run_cli(*command, env=tuning_env)
        assert done.returncode == 2 and "there is no study called nosuch" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr


def test_importances_from_a_few_trials_say_they_say_little():
    import optuna

    from dashboard.figures.tuning import FEW_TRIALS, study_figure

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    few = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    few.optimize(lambda t: t.suggest_float("C", 0.01, 1.0) + t.suggest_float("tol", 0.0, 0.1), n_trials=3)
    notes = [a.text.replace("<br>", " ") for a in study_figure(few, "importance").layout.annotations]
    assert any("Appears after 10 finished trials: importances from 3 say little" in n for n in notes)
    few.optimize(lambda t: t.suggest_float("C", 0.01, 1.0) + t.suggest_float("tol", 0.0, 0.1), n_trials=FEW_TRIALS)
    assert not any("finished trials" in a.text for a in study_figure(few, "importance").layout.annotations)
    history = study_figure(few, "history").to_json()
    assert "Objective Value" not in history and "validation accuracy" in history  # no Optuna jargon


OPEN_AT_ONCE = """
import sys, time
from pathlib import Path
from core.tuning import study
ready, n = Path(sys.argv[1]), int(sys.argv[2])
(ready / sys.argv[3]).touch()
deadline = time.time() + 60
while len(list(ready.iterdir())) < n and time.time() < deadline:
    pass  # all processes open the new database together
print(len(study.list_studies()))
"""


def test_processes_opening_a_new_study_database_at_once_all_succeed(tuning_env, tmp_path):
    """The page, the CLI and workers may open a fresh clone's study database together; creating its
    tables in two processes at once failed one of them ('table studies already exists')."""
    import os
    import subprocess
    import sys

    from tests.conftest import PROJECT_ROOT

    ready = tmp_path / "ready"
    ready.mkdir()
    n = 8
    env = {**os.environ, **tuning_env}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_AT_ONCE, str(ready), str(n), str(i)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(n)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    assert [(p.returncode, out.strip()) for p, (out, _) in zip(procs, results, strict=True)] == [(0, "0")] * n, [
        err[-300:] for _, err in results if err
    ]
