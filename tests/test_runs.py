"""core.store: ids, atomic records, torn history lines, damaged files, liveness locks."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import time

import pytest

from core.store import InvalidRunId, RunError, RunStore, TrainingBusy, UnknownRun, atomic
from tests.conftest import completed_run


@pytest.mark.parametrize(
    "bad", ["../etc", "a/b", "", ".", "..", "x" * 81, "run id", "run;rm", None, 5, "%2e%2e", "ünïcode", "a\nb"]
)
def test_invalid_run_ids_are_refused(store, bad):
    with pytest.raises(InvalidRunId):
        store.path(bad)
    with pytest.raises(InvalidRunId):
        store.get(bad)


def test_unknown_run(store):
    with pytest.raises(UnknownRun):
        store.get("does-not-exist")
    assert store.list_runs() == []


def _fake_completed(store: RunStore, run_id: str) -> None:
    completed_run(store, run_id, accuracy=0.9)


def test_record_history_and_predictions_round_trip(store):
    _fake_completed(store, "r1")
    record = store.get("r1")
    assert record["status"] == "completed" and record["run_id"] == "r1" and record["model"] == "logreg"
    assert store.history("r1") == [{"epoch": 1, "loss": 1.0}]
    preds = store.predictions("r1")
    assert preds["proba"].shape == (10000, 10) and 0.85 < (preds["y_pred"] == preds["y_true"]).mean() < 0.95
    assert store.predictions("r1") is preds  # cached while the file is unchanged
    assert not list(store.path("r1").glob(".*.tmp"))  # no temporary files left behind


def test_torn_history_line_is_skipped(store):
    _fake_completed(store, "r2")
    with open(store.path("r2") / "history.jsonl", "a") as handle:
        handle.write('{"epoch": 2, "loss"')  # a crash in the middle of a write
    assert [h["epoch"] for h in store.history("r2")] == [1]


def test_damaged_run_json_is_reported_and_skipped_in_listings(store):
    _fake_completed(store, "good")
    _fake_completed(store, "bad")
    (store.path("bad") / "run.json").write_text("{not json")
    record = store.get("bad")
    assert record["status"] == "damaged" and "not valid JSON" in record["damage"]
    listed = {r["run_id"]: r["status"] for r in store.list_runs()}
    assert listed == {"good": "completed", "bad": "damaged"}
    assert [r["run_id"] for r in store.list_runs(status="completed")] == ["good"]
    with pytest.raises(RunError, match="damaged"):
        store.usable("bad")


def test_running_run_without_live_owner_is_reported_interrupted_and_reap_records_it(store):
    with store.open_run("alive", {"model": "cnn"}):
        assert store.get("alive")["status"] == "running"  # the lock is held: still alive
        assert store.reap() == []  # a live run is never reaped
    # the block ended without completing the run, as if the process had died
    on_disk = (store.path("alive") / "run.json").read_bytes()
    record = store.get("alive")
    assert record["status"] == "interrupted" and "unexpectedly" in record["error"] and record["finished_at"]
    assert (store.path("alive") / "run.json").read_bytes() == on_disk  # reading wrote nothing
    assert [r["status"] for r in store.list_runs()] == ["interrupted"]
    assert store.reap() == ["alive"]  # the explicit reaper records it
    assert json.loads((store.path("alive") / "run.json").read_text())["status"] == "interrupted"
    assert store.reap() == []


def _hold_slot(root, ready, release):
    store = RunStore(root)
    with store.training_slot("holder-run"):
        ready.set()
        release.wait(30)


def test_training_slot_is_exclusive_across_processes(store):
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=_hold_slot, args=(str(store.root), ready, release))
    proc.start()
    try:
        assert ready.wait(30)
        assert store.active_run_id() == "holder-run"
        with pytest.raises(TrainingBusy, match="holder-run"), store.training_slot("second"):
            pass
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # dying releases the slot
        proc.join(10)
    deadline = time.time() + 5
    while store.active_run_id() is not None and time.time() < deadline:
        time.sleep(0.05)
    assert store.active_run_id() is None
    with store.training_slot("third"):
        assert store.active_run_id() == "third"


def test_atomic_write_leaves_old_file_when_writer_fails(tmp_path):
    target = tmp_path / "f.json"
    atomic.write_json(target, {"v": 1})

    def broken(buffer):
        buffer.write(b"partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic.write_with(target, broken)
    assert json.loads(target.read_text()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_replace_run_moves_a_finished_run_over_an_old_one(store):
    _fake_completed(store, "ref-x")
    _fake_completed(store, "ref-x-new-1")
    store.update("ref-x-new-1", note="new")
    store.replace_run("ref-x-new-1", "ref-x")
    record = store.get("ref-x")
    assert record["note"] == "new" and record["run_id"] == "ref-x"
    assert store.list_ids() == ["ref-x"]
    assert not [p for p in store.root.iterdir() if p.name.startswith(".trash")]


def test_a_run_gets_a_readable_name_and_bad_names_change_nothing(store):
    _fake_completed(store, "named")
    assert store.rename("named", "  Baseline   before augmentation ")["name"] == "Baseline before augmentation"
    assert store.get("named")["name"] == "Baseline before augmentation"
    for bad, reason in (("x" * 61, "at most 60"), ("tab\x07bell", "printable")):
        with pytest.raises(RunError, match=reason):
            store.rename("named", bad)
        assert store.get("named")["name"] == "Baseline before augmentation"
    with pytest.raises(UnknownRun):
        store.rename("nope", "x")
    assert store.rename("named", "")["name"] is None  # blank removes the name
    with (
        store.open_run("busy", {"model": "logreg", "label": "LR", "family": "classic", "config": {}}),
        pytest.raises(RunError, match="still training"),
    ):
        store.rename("busy", "later")


def test_leaderboard_hides_failed_interrupted_and_small_runs_until_asked(store):
    from core.evaluation import leaderboard

    _fake_completed(store, "full")
    store.update("full", data={"n_train": 48000})
    _fake_completed(store, "tiny")
    store.update("tiny", data={"n_train": 2000})
    with store.open_run("stopped", {"model": "cnn", "label": "CNN", "family": "deep", "config": {}}):
        store.mark_interrupted("stopped", "cancelled by the user")
    rows = leaderboard.rows(store.list_runs())
    assert {r["run_id"] for r in leaderboard.shown(rows)} == {"full"}
    everything = leaderboard.shown(rows, show_all=True)
    assert {r["run_id"] for r in everything} == {"full", "tiny", "stopped"}
    stopped = next(r for r in everything if r["run_id"] == "stopped")
    assert stopped["status"] == "interrupted" and "cancelled by the user" in stopped["settings"]
    assert {r["run_id"] for r in leaderboard.completed(everything)} == {"full", "tiny"}
