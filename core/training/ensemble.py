"""Ensemble runs: the average of the class probabilities of chosen completed runs.

An ensemble is a first-class run in the store (family `ensemble`): its predictions.npz and metrics
come from averaging its members' saved test probabilities, so every page (leaderboard, confusion
matrix, galleries, disagreement view) reads it like any other run. It stores no weights of its
own: `config.members` names the runs, and predicting a new photo averages what the members say.
Its validation accuracy is measured the same way on the validation split when every member's
model file is present (choosing members is then a validation-only decision).
"""

from __future__ import annotations

import platform
import sys
import time
from typing import Any

import numpy as np

from core import data
from core.evaluation import calibrated, metrics
from core.models.loading import EnsembleClassifier, load_classifier
from core.store import RunError, RunStore, new_run_id, now_iso, validate_run_id
from core.training.provenance import environment, source_version

MIN_MEMBERS, MAX_MEMBERS = 2, 20


def _members(store: RunStore, run_ids: list[str]) -> list[dict[str, Any]]:
    if len(set(run_ids)) != len(run_ids):
        raise RunError("an ensemble lists each run once")
    if not MIN_MEMBERS <= len(run_ids) <= MAX_MEMBERS:
        raise RunError(f"an ensemble needs {MIN_MEMBERS} to {MAX_MEMBERS} runs, got {len(run_ids)}")
    records = [store.usable(validate_run_id(r)) for r in run_ids]  # RunError names a bad member
    nested = [r["run_id"] for r in records if r.get("family") == "ensemble"]
    if nested:
        raise RunError(f"{', '.join(nested)} is itself an ensemble; list its members instead")
    return records


def _val_proba(store: RunStore, run_ids: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(rows, labels, the averaged members' probabilities) on the validation photos: from the members'
    kept validation probabilities, else from their model files; None when neither is there."""
    from core.store import RunError as StoreError

    kept = [store.validation(r) for r in run_ids]
    if all(k is not None for k in kept) and len({k["rows"].tobytes() for k in kept if k is not None}) == 1:
        first = kept[0]
        assert first is not None
        proba = np.mean([k["proba"] for k in kept if k is not None], axis=0)
        return first["rows"], first["y_true"], proba
    dataset = data.load()
    _, val_idx = data.split_indices(data.DEFAULT_SEED)
    try:
        members = [load_classifier(r, store) for r in run_ids]
    except StoreError:
        return None
    proba = EnsembleClassifier(members).predict_proba(dataset.x_train[val_idx])
    return val_idx, dataset.y_train[val_idx], proba


def create(
    run_ids: list[str],
    run_id: str | None = None,
    store: RunStore | None = None,
    name: str | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """Build and store an ensemble run of `run_ids`; returns its record. RunError when a member
    is missing, damaged, not completed or itself an ensemble (nothing is written then)."""
    store = store or RunStore()
    records = _members(store, list(run_ids))
    ids = [r["run_id"] for r in records]
    run_id = validate_run_id(run_id) if run_id else new_run_id("ensemble")
    started = time.perf_counter()
    y_test = data.load().y_test
    proba = np.mean([store.predictions(r)["proba"] for r in ids], axis=0).astype(np.float32)
    evaluation = metrics.evaluate(y_test, proba)
    val = _val_proba(store, ids)
    if val is not None:
        evaluation["val_accuracy"] = float((val[2].argmax(1) == val[1]).mean())
    member_timings = [r.get("timings") or {} for r in records]
    record = {
        "model": "ensemble",
        "label": f"Ensemble of {len(ids)}",
        "family": "ensemble",
        "config": {"model": "ensemble", "members": ids},
        "produced_by": {
            "command": " ".join(sys.argv),
            "source_version": source_version(),
            **({"note": note} if note else {}),
        },
        "host": platform.node(),
    }
    with store.open_run(run_id, record):
        store.save_predictions(run_id, y_test, proba)
        if val is not None:
            store.save_validation(run_id, *val)
        params = [((r.get("artifact") or {}).get("params")) for r in records]
        store.update(
            run_id,
            status="completed",
            name=name,
            started_at=now_iso(),
            finished_at=now_iso(),
            environment=environment(),
            data={"n_train": min(int((r.get("data") or {}).get("n_train") or 0) for r in records) or None},
            metrics=evaluation,
            artifact=None,
            timings={
                # what it cost to obtain: its members' training, plus averaging them
                "train_seconds": round(sum(t.get("train_seconds") or 0 for t in member_timings), 3),
                "inference_ms_per_image": round(sum(t.get("inference_ms_per_image") or 0 for t in member_timings), 4),
                "single_image_ms": round(sum(t.get("single_image_ms") or 0 for t in member_timings), 4) or None,
                "combine_seconds": round(time.perf_counter() - started, 3),
            },
            members={"runs": ids, "params": sum(p or 0 for p in params) or None},
            evaluation={
                "test_set": "members' saved test probabilities, averaged",
                "test_time_augmentation": "as each member",
            },
        )
    calibrated.calibrate_finished(store, run_id)
    return store.get(run_id)
