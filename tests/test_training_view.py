"""Training-curve figures, the overfitting reading, progress snapshots and the UI launcher."""

from __future__ import annotations

import datetime as dt

import pytest

from core.evaluation import analysis
from core.models.config import TrainConfig
from core.store import RunError, RunStore
from core.training import progress
from dashboard import training_job
from dashboard.figures.training import compare_curves, training_curves


def _history(train_losses, val_losses):
    return [
        {
            "epoch": i + 1,
            "loss": t,
            "accuracy": 1 - t / 2,
            "val_loss": v,
            "val_accuracy": 1 - v / 2,
            "lr": 1e-3,
            "seconds": 1.0,
        }
        for i, (t, v) in enumerate(zip(train_losses, val_losses, strict=True))
    ]


def test_overfitting_detected_after_the_best_epoch():
    history = _history([1.0, 0.6, 0.4, 0.3, 0.2, 0.1], [0.9, 0.6, 0.5, 0.55, 0.62, 0.7])
    reading = analysis.overfitting(history)
    assert reading["best_epoch"] == 3 and reading["overfitting"]
    assert reading["overfit_epochs"] == [4, 5, 6]
    assert "after epoch 3" in reading["verdict"] and "0.500 → 0.700" in reading["verdict"]


def test_still_improving_and_empty_histories():
    improving = analysis.overfitting(_history([1.0, 0.8, 0.6], [0.9, 0.7, 0.6]))
    assert not improving["overfitting"] and improving["best_epoch"] == 3
    assert improving["verdict"].startswith("Still improving at epoch 3")
    assert analysis.overfitting([])["verdict"] == "No finished epoch yet."


def test_reference_cnn_without_dropout_is_read_as_overfitting(reference_store):
    history = reference_store.history("ref-cnn")
    reading = analysis.overfitting(history)
    best = min(history, key=lambda h: h["val_loss"])
    assert reading["best_epoch"] == best["epoch"] < len(history)
    gap = history[-1]["accuracy"] - history[-1]["val_accuracy"]
    rising = history[-1]["val_loss"] > best["val_loss"] * 1.02
    assert reading["overfitting"] == (rising or gap > analysis.GAP_WARN)
    assert reading["gap"] == pytest.approx(gap)


def test_a_wide_train_validation_gap_is_called_memorising_even_without_rising_loss():
    # the case: 92 % of training photos right, 79 % of validation ones, validation loss flat
    history = [
        {"epoch": e, "loss": 0.6 - 0.1 * e, "accuracy": a, "val_loss": v, "val_accuracy": va}
        for e, a, v, va in [(1, 0.80, 0.60, 0.77), (2, 0.88, 0.58, 0.785), (3, 0.92, 0.585, 0.79)]
    ]
    reading = analysis.overfitting(history)
    assert reading["overfitting"] and reading["gap"] == pytest.approx(0.13)
    assert "92.0 %" in reading["verdict"] and "79.0 %" in reading["verdict"]
    assert "by heart" in reading["verdict"] and "no clear memorising" not in reading["verdict"]
    close = analysis.overfitting([{**h, "accuracy": h["val_accuracy"] + 0.005} for h in history])
    assert not close["overfitting"] and "no sign" in close["verdict"]


def test_curves_figure_marks_best_epoch_and_shades_overfitting():
    history = _history([1.0, 0.6, 0.4, 0.3, 0.2], [0.9, 0.6, 0.5, 0.58, 0.66])
    fig = training_curves(history, analysis.overfitting(history))
    names = [t.name for t in fig.data]
    assert names.count("training") == 2 and names.count("validation") == 2
    star = next(t for t in fig.data if t.name == "best validation epoch (3)")
    assert list(star.x) == [3] and list(star.y) == [0.5]
    shaded = [s for s in fig.layout.shapes if s.type == "rect"]
    assert len(shaded) == 2 * 2  # epochs 4 and 5, in both panels
    assert next(t for t in fig.data if t.name == "validation").y == tuple(h["val_loss"] for h in history)


def test_empty_curves_and_comparison():
    assert training_curves([]).layout.annotations[0].text.startswith("Curves appear")
    fig = compare_curves({"a": _history([1, 0.5], [0.9, 0.6]), "b": []})
    assert [t.name for t in fig.data] == ["a"]


def test_progress_snapshot_fraction_eta_and_labels(store):
    with store.open_run("p1", {"model": "cnn", "label": "CNN"}):
        store.update("p1", started_at="2026-01-01T00:00:00+00:00")
        store.write_progress("p1", {"stage": "train", "epoch": 2, "epochs": 4, "batch": 50, "batches": 100})
        now = dt.datetime(2026, 1, 1, 0, 1, 0, tzinfo=dt.UTC)
        snap = progress.snapshot(store, "p1", now=now)
    assert snap["fraction"] == pytest.approx(1.5 / 4)
    assert snap["position"] == "epoch 2/4 · batch 50/100"
    assert snap["elapsed_text"] == "1m 00s" and snap["eta"] == pytest.approx(100.0)
    assert progress.format_duration(3725) == "1h 02m"


def test_launcher_follows_a_real_training_to_completion(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_ARTIFACTS", str(tmp_path))
    store = RunStore(tmp_path / "runs")
    updates = []
    final = training_job.train_and_follow(TrainConfig("mlp", epochs=3, subset=500), store, updates.append)
    assert final["status"] == "completed" and len(final["history"]) == 3
    fractions = [u["fraction"] for u in updates if u["status"] == "running" and u["fraction"] is not None]
    assert fractions == sorted(fractions)
    assert store.get(final["run_id"])["produced_by"]["command"].startswith("python -m core train mlp")


def test_launcher_reports_the_childs_refusal(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_ARTIFACTS", str(tmp_path))
    store = RunStore(tmp_path / "runs")
    with (
        store.training_slot("someone-else"),
        pytest.raises(RunError, match="another training is running \\(someone-else\\)"),
    ):
        training_job.train_and_follow(TrainConfig("logreg", subset=200), store, lambda _s: None)


def test_the_best_epoch_is_named_in_the_legend_and_no_label_sits_on_a_panel_title():
    """A "best: epoch N" label above the plot overlapped the loss panel's title: the epoch is named in
    the legend instead, wherever the best epoch falls."""

    def named(history):
        fig = training_curves(history, analysis.overfitting(history))
        assert [a.text for a in fig.layout.annotations] == ["Loss (lower is better)", "Accuracy (higher is better)"]
        return next(t.name for t in fig.data if (t.name or "").startswith("best validation epoch"))

    assert named(_history([1.0, 0.6, 0.4], [0.9, 0.6, 0.5])) == "best validation epoch (3)"  # the last epoch
    assert named(_history([1.0, 0.6, 0.4], [0.5, 0.6, 0.7])) == "best validation epoch (1)"  # the first
    assert named(_history([1.0, 0.6, 0.4], [0.9, 0.5, 0.7])) == "best validation epoch (2)"


def test_eta_comes_from_epoch_times_not_from_start_up(store):
    """A 25 s run once said "about 4m 59s left": the first seconds are start-up and compilation."""
    with store.open_run("p2", {"model": "cnn", "label": "CNN"}):
        store.update("p2", started_at="2026-01-01T00:00:00+00:00")
        store.write_progress("p2", {"stage": "train", "epoch": 1, "epochs": 4, "batch": 5, "batches": 100})
        early = progress.snapshot(store, "p2", now=dt.datetime(2026, 1, 1, 0, 0, 6, tzinfo=dt.UTC))
        assert early["eta"] is None and early["eta_text"] == "–"
        for epoch, seconds in ((1, 20.0), (2, 5.0)):
            store.append_history("p2", {"epoch": epoch, "epochs": 4, "loss": 1.0, "seconds": seconds})
        store.write_progress("p2", {"stage": "train", "epoch": 3, "epochs": 4, "batch": 0, "batches": 100})
        later = progress.snapshot(store, "p2", now=dt.datetime(2026, 1, 1, 0, 0, 26, tzinfo=dt.UTC))
    assert later["fraction"] == pytest.approx(0.5)
    assert later["eta"] == pytest.approx(5.0 * 4 * 0.5)  # the later epochs' pace, not the first's


def test_settings_read_as_words_and_short_numbers():
    from core.evaluation.leaderboard import hyperparameter_summary

    text = hyperparameter_summary({"params": {"C": 0.8471801418819978, "tta": False, "label_smoothing": 0.1}})
    assert text == "C 0.8472 · tta off · label smoothing 0.1"


def test_a_training_started_from_the_page_leaves_no_defunct_child(tmp_path, monkeypatch):
    """start_detached (the /train button's launcher) reaps its child the moment it ends: the server
    keeps no <defunct> process for as long as it runs."""
    import os
    import time
    from pathlib import Path

    monkeypatch.setenv("STUDIO_ARTIFACTS", str(tmp_path))
    store = RunStore(tmp_path / "runs")
    run_id = training_job.start_detached(TrainConfig("logreg", subset=300))
    proc = training_job._launched[run_id][0]
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not (store.exists(run_id) and store.get(run_id)["status"] == "completed"):
        time.sleep(0.5)
    assert store.get(run_id)["status"] == "completed"
    while time.monotonic() < deadline and Path(f"/proc/{proc.pid}").exists():
        time.sleep(0.2)
    state = Path(f"/proc/{proc.pid}/stat").read_text().split()[2] if Path(f"/proc/{proc.pid}").exists() else None
    assert state is None, f"the finished training is still a child in state {state}"
    assert os.getpid() != proc.pid and proc.returncode == 0


def test_a_two_epoch_rise_is_not_said_to_be_over_its_last_epochs():
    reading = analysis.overfitting(_history([1.0, 0.6], [0.9, 0.6]))
    assert "over its 2 epochs" in reading["verdict"] and "last 2 epochs" not in reading["verdict"]


def test_a_curve_that_neither_rose_clearly_nor_settled_is_not_called_levelled_off():
    history = _history([1.0, 0.8, 0.7, 0.65, 0.6, 0.58, 0.57, 0.56], [0.9, 0.8, 0.7, 0.68, 0.66, 0.65, 0.64, 0.645])
    for h, acc in zip(history, [0.873, 0.886, 0.917, 0.923, 0.930, 0.935, 0.9393, 0.9390], strict=True):
        h["val_accuracy"] = acc
    reading = analysis.overfitting(history, tta=True)
    assert "levelled off" not in reading["verdict"]
    assert (
        "87.30 % at epoch 1 to 93.90 % at epoch 8 (best 93.93 % at epoch 7 without the test-time mirror)"
        in reading["verdict"]
    )
