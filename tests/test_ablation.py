"""Ablation studies (python -m core ablate) and seed repeats (train --seeds): real training on tiny
subsets, judged on validation only; a study killed with SIGKILL resumes without redoing finished runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from core.ablation import study as studies
from core.store import RunStore
from tests.conftest import PROJECT_ROOT, run_cli, wait_until


@pytest.fixture()
def own_artifacts(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_ARTIFACTS", str(tmp_path))
    return {"STUDIO_ARTIFACTS": str(tmp_path)}, RunStore(tmp_path / "runs")


def test_bad_ablation_requests_are_refused_and_write_nothing(own_artifacts):
    env, _store = own_artifacts
    for args, message in (
        (["--preset", "nope"], "unknown preset"),
        (["--preset", "fast", "--seeds", "0"], "seeds must be between 1 and 10"),
        (["--preset", "fast", "--only", "magic"], "unknown technique"),
        (["--preset", "fast", "--subset", "5"], "subset"),
        (["--preset", "fast", "--from-run", "x"], "one base"),
        (["show", "missing"], "no ablation study called missing"),
    ):
        done = run_cli("ablate", *args, env=env)
        assert done.returncode == 2 and message in done.stderr, (args, done.stderr[-500:])
    assert studies.list_studies() == []


def test_a_killed_study_resumes_without_redoing_finished_runs_and_measures_each_variant(own_artifacts):
    """A study is killed with SIGKILL after its first run, then resumed: finished runs are kept, the
    rest are trained; each variant is paired with the base by seed and judged on validation only."""
    env, store = own_artifacts
    args = ["ablate", "--preset", "demo", "--seeds", "2", "--subset", "300", "--epochs", "1", "--only", "batchnorm"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "core", *args, "--name", "killed"],
        cwd=PROJECT_ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_until(lambda: store.exists("killed-base-s1") and store.get("killed-base-s1")["status"] == "validated", 180)
        wait_until(lambda: store.exists("killed-batchnorm-s1"), 60)
        first = store.get("killed-base-s1")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    time.sleep(0.5)
    assert store.get("killed-batchnorm-s1")["status"] in ("interrupted", "validated")
    summary = studies.summary("killed", store)
    assert summary["runs_done"] < 4 and not summary["running"]
    done = run_cli("ablate", "resume", "killed", "--json", env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["runs_done"] == result["runs_total"] == 4
    again = store.get("killed-base-s1")
    assert again["created_at"] == first["created_at"] and again["finished_at"] == first["finished_at"]
    (variant,) = result["variants"]
    assert set(variant) >= {"technique", "effect", "effect_ci95", "seeds", "seconds"}
    assert variant["change"] == "on → off"  # the demo preset uses BatchNorm
    diffs = []
    for i in (1, 2):
        record, base = store.get(f"killed-batchnorm-s{i}"), store.get(f"killed-base-s{i}")
        assert record["status"] == base["status"] == "validated"
        assert record["config"]["seed"] == base["config"]["seed"] == 41 + i  # paired by seed
        assert "metrics" not in record and not (store.path(record["run_id"]) / "predictions.npz").exists()
        assert not list(store.path(record["run_id"]).glob("model.*"))  # no model files kept
        diffs.append(record["validation"]["val_accuracy"] - base["validation"]["val_accuracy"])
    assert variant["seeds"] == 2 and variant["effect"] == pytest.approx(np.mean(diffs))
    assert variant["effect_ci95"][0] <= variant["effect"] <= variant["effect_ci95"][1]
    listed = json.loads(run_cli("ablate", "list", "--json", env=env).stdout)
    assert [(s["study"], s["runs_done"], s["running"]) for s in listed] == [("killed", 4, False)]
    shown = json.loads(run_cli("ablate", "show", "killed", "--json", env=env).stdout)
    assert shown["variants"] == result["variants"]


def test_train_over_seeds_makes_a_group(own_artifacts):
    env, store = own_artifacts
    done = run_cli(
        "train", "logreg", "--subset", "300", "--seeds", "2", "--run-id", "grp", "--set", "max_iter=50", env=env
    )
    assert done.returncode == 0, done.stderr[-2000:]
    first, second = store.get("grp"), store.get("grp-s2")
    assert first["group"] == {"id": "grp", "index": 1, "of": 2, "seed": 42}
    assert second["group"] == {"id": "grp", "index": 2, "of": 2, "seed": 43}
    assert (first["config"]["seed"], second["config"]["seed"]) == (42, 43)
    refused = run_cli("train", "logreg", "--subset", "300", "--seeds", "11", env=env)
    assert refused.returncode == 2 and "seeds must be between 1 and 10" in refused.stderr


def test_a_run_is_reproduced_from_its_record_and_says_how_closely(own_artifacts):
    env, store = own_artifacts
    assert (
        run_cli("train", "logreg", "--subset", "300", "--run-id", "orig", "--set", "max_iter=50", env=env).returncode
        == 0
    )
    done = run_cli("reproduce", "orig", "--json", env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["agreement"] == 1.0 and result["accuracy_delta"] == 0.0  # deterministic on this machine
    assert store.get("orig")["reproduced"]["agreement"] == 1.0
    assert [r for r in store.list_ids() if "repro" in r] == []  # the copy is removed unless --keep
    from core.evaluation import leaderboard

    assert leaderboard.row(store.get("orig"))["reproduced"] == "exactly"
    assert run_cli("reproduce", "nope", env=env).returncode == 1
