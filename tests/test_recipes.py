"""Presets, ensembles and the cost figures of the accuracy work (real store, real CLI)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core import data
from core.evaluation import leaderboard, metrics
from core.models.config import ConfigError, TrainConfig
from core.store import RunError, RunStore
from core.training import ensemble, presets
from tests.conftest import completed_run, run_cli


def test_every_preset_is_a_valid_config_and_the_cli_lists_them(tmp_path):
    for preset in presets.PRESETS.values():
        resolved = preset.config.resolve()  # a preset can never be refused
        assert resolved.model == preset.config.model
    assert {"fast", "best", "demo"} <= set(presets.PRESETS)
    done = run_cli("presets", "list", "--json", env={"STUDIO_ARTIFACTS": str(tmp_path)})
    listed = {p["name"]: p for p in json.loads(done.stdout)}
    assert listed["fast"]["config"]["params"]["tta"] is True and listed["fast"]["measured"] is None


def test_a_preset_is_a_starting_point_that_flags_override():
    config = presets.apply("fast", {"epochs": 2, "subset": 500, "params": {"tta": False}, "model": None})
    assert config.epochs == 2 and config.subset == 500 and config.params["tta"] is False
    assert config.params["optimizer"] == presets.PRESETS["fast"].config.params["optimizer"]
    with pytest.raises(ValueError, match="preset fast trains cnn_dropout"):
        presets.apply("fast", {"model": "svm"})
    with pytest.raises(ValueError, match="unknown preset"):
        presets.get("quickest")


def test_train_with_a_preset_from_the_cli(tmp_path):
    env = {"STUDIO_ARTIFACTS": str(tmp_path)}
    bad = run_cli("train", "--preset", "demo", "--epochs", "0", env=env)
    assert bad.returncode == 2 and "epochs must be between 1 and 500" in bad.stderr
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())  # nothing started
    done = run_cli("train", "--preset", "demo", "--epochs", "1", "--subset", "300", "--run-id", "d1", env=env)
    assert done.returncode == 0, done.stderr
    record = RunStore(tmp_path / "runs").get("d1")
    demo = presets.PRESETS["demo"].config
    assert record["config"]["params"] == {**demo.resolve().params}
    assert record["config"]["epochs"] == 1 and record["data"]["n_train"] == 300


def test_an_ensemble_is_the_average_of_its_members(store):
    a = completed_run(store, "a", accuracy=0.8, seed=1)
    b = completed_run(store, "b", accuracy=0.85, seed=2)
    c = completed_run(store, "c", accuracy=0.75, seed=3, model="knn")
    record = ensemble.create(["a", "b", "c"], run_id="ens", store=store, name="three")
    assert record["status"] == "completed" and record["family"] == "ensemble" and record["name"] == "three"
    assert record["config"]["members"] == ["a", "b", "c"]
    mean = np.mean([store.predictions(r)["proba"] for r in "abc"], axis=0)
    np.testing.assert_allclose(store.predictions("ens")["proba"], mean, atol=1e-6)
    expected = metrics.evaluate(data.load().y_test, mean)["test_accuracy"]
    assert record["metrics"]["test_accuracy"] == pytest.approx(expected)
    assert record["metrics"]["test_accuracy"] > max(r["metrics"]["test_accuracy"] for r in (a, b, c))
    assert record["timings"]["train_seconds"] == pytest.approx(3.0)  # what its members cost
    row = next(r for r in leaderboard.rows(store.list_runs()) if r["run_id"] == "ens")
    assert row["family"] == "ensemble" and row["status"] == "completed"


@pytest.mark.parametrize(
    "members, message",
    [
        (["a"], "2 to 20 runs"),
        (["a", "a"], "each run once"),
        (["a", "nope"], "no run named nope"),
        (["a", "../x"], "invalid run id"),
        (["a", "ens"], "itself an ensemble"),
        (["a", "broken"], "damaged"),
    ],
)
def test_a_bad_ensemble_is_refused_and_writes_nothing(store, members, message):
    completed_run(store, "a")
    completed_run(store, "b", seed=1)
    completed_run(store, "broken", seed=2)
    (store.path("broken") / "predictions.npz").write_bytes(b"truncated")
    ensemble.create(["a", "b"], run_id="ens", store=store)
    before = sorted(store.list_ids())
    with pytest.raises(RunError, match=message):
        ensemble.create(members, store=store)
    assert sorted(store.list_ids()) == before


def test_time_to_accuracy_and_the_pareto_front():
    history = [{"epoch": e, "seconds": 10.0, "val_accuracy": v} for e, v in enumerate([0.90, 0.925, 0.931, 0.94], 1)]
    assert leaderboard.time_to_accuracy({}, history) == 30.0
    assert leaderboard.time_to_accuracy({}, history[:2]) is None
    one_go = {"metrics": {"val_accuracy": 0.95}, "timings": {"train_seconds": 12.5}}
    assert leaderboard.time_to_accuracy(one_go, []) == 12.5
    rows = [
        {"run_id": "slow-good", "test_accuracy": 0.95, "train_seconds": 1000},
        {"run_id": "fast-ok", "test_accuracy": 0.90, "train_seconds": 10},
        {"run_id": "dominated", "test_accuracy": 0.89, "train_seconds": 500},
        {"run_id": "middle", "test_accuracy": 0.93, "train_seconds": 100},
    ]
    assert leaderboard.pareto_front(rows) == {"slow-good", "fast-ok", "middle"}


def test_the_epoch_cost_benchmark_counts_multiply_adds_and_times_real_training_steps():
    from bench import epoch_cost
    from core.models.config import TrainConfig

    tiny = TrainConfig("cnn", batch_size=32, params={"padding": "valid", "width": 8})
    row = epoch_cost.measure(tiny, batches=3, warmup=1)
    # by hand: conv 26x26x8x9 + conv 11x11x16x(9x8) + conv 3x3x32x(9x16) + dense 288x128 + 128x10
    by_hand = 26 * 26 * 8 * 9 + 11 * 11 * 16 * 72 + 3 * 3 * 32 * 144 + 288 * 128 + 128 * 10
    assert row["forward_mmacs_per_photo"] == round(by_hand / 1e6, 2)
    assert row["ms_per_batch"] > 0 and row["gflops_per_second"] > 0 and row["batch_size"] == 32
    per_epoch = epoch_cost.EPOCH_BATCHES * row["ms_per_batch"] / 1000
    assert row["train_seconds_per_epoch"] == pytest.approx(per_epoch, abs=0.1)


def test_bfloat16_training_computes_in_bfloat16_keeps_float32_outputs_and_is_recorded(tmp_path, monkeypatch):
    """precision=mixed_bfloat16: every hidden layer computes in bfloat16 (Keras mixed precision), the
    softmax stays float32, the run records it, the saved model predicts and can be explained, and
    the global policy is back to float32 afterwards."""
    import keras

    from core import training
    from core.explain import gradcam
    from core.models.loading import load_classifier
    from core.store import RunStore

    monkeypatch.setenv("STUDIO_ARTIFACTS", str(tmp_path))
    store = RunStore(tmp_path / "runs")
    config = TrainConfig("cnn", epochs=1, subset=300, params={"width": 8, "precision": "mixed_bfloat16"})
    record = training.train(config, run_id="bf16", store=store)
    assert record["status"] == "completed" and record["config"]["params"]["precision"] == "mixed_bfloat16"
    assert keras.mixed_precision.global_policy().name == "float32"
    clf = load_classifier("bf16", store)
    policies = {layer.name: layer.dtype_policy.name for layer in clf.model_.layers}
    assert policies["probabilities"] == "float32" and policies["conv1"] == "mixed_bfloat16"
    proba = clf.predict_proba(clf.prepare(data.load().x_test[:20]))
    assert proba.dtype == np.float32 and np.allclose(proba.sum(axis=1), 1.0, atol=1e-3)
    heat = gradcam.explain_test_image("bf16", 0, method="gradcam", store=store)["heatmap"]
    assert np.isfinite(heat).all() and heat.max() > 0
    with pytest.raises(ConfigError, match="precision must be one of"):
        TrainConfig("cnn", params={"precision": "float16"}).resolve()


def test_the_epoch_cost_benchmark_times_each_recipe_in_float32_and_bfloat16():
    from bench import epoch_cost

    tiny = TrainConfig("cnn", batch_size=32, params={"width": 8})
    rows = {p: epoch_cost.measure(tiny, batches=2, warmup=1, precision=p) for p in epoch_cost.PRECISIONS}
    assert rows["float32"]["forward_mmacs_per_photo"] == rows["mixed_bfloat16"]["forward_mmacs_per_photo"]
    assert all(r["ms_per_batch"] > 0 for r in rows.values())


def test_a_student_learns_from_a_teacher_run_whose_probabilities_are_cached(tmp_path, monkeypatch):
    from core import paths, training

    monkeypatch.setenv("STUDIO_ARTIFACTS", str(tmp_path))
    store = RunStore(tmp_path / "runs")
    tiny = {"width": 8}
    training.train(TrainConfig("cnn", epochs=1, subset=300, params=tiny), run_id="teacher", store=store)
    student = TrainConfig(
        "cnn",
        epochs=1,
        subset=300,
        params={**tiny, "teacher": "teacher", "distill_weight": 0.5, "distill_temperature": 3},
    )
    record = training.train(student, run_id="student", store=store)
    assert record["status"] == "completed" and record["config"]["params"]["teacher"] == "teacher"
    assert 0 < store.history("student")[0]["accuracy"] <= 1  # the labels' accuracy, not the 20-column targets
    cached = sorted(paths.cache_dir().glob("teacher-teacher-*.npy"))
    assert len(cached) == 2  # the teacher's probabilities on the training and the validation photos
    stamps = [p.stat().st_mtime_ns for p in cached]
    training.train(student, run_id="student-2", store=store)  # a second student asks no one: the cache answers
    assert [p.stat().st_mtime_ns for p in cached] == stamps
    for bad, message in (("nobody", "no run named nobody"), ("bad id!", "must name a run")):
        with pytest.raises(ConfigError, match=message):
            training.train(TrainConfig("cnn", epochs=1, subset=300, params={"teacher": bad}), run_id="x", store=store)
    assert not store.exists("x")
