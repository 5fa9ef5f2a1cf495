"""Reproduce a run: train it again from its record (same settings, seed and split) on this machine,
and say how closely the new test predictions agree with the stored ones.

The result is kept with the run (`reproduced: {date, machine, agreement, accuracy_delta, seconds,
source_version, same_source}`); the retrained copy is a run of its own (`repro-<run>-<hex>`), removed
afterwards unless kept. An ensemble is reproduced through its members.
"""

from __future__ import annotations

import platform
import secrets
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from core.models.config import TrainConfig
from core.store import RunError, RunStore, now_iso


def reproduce(
    run_id: str, store: RunStore | None = None, keep: bool = False, emit: Callable[[dict], None] = lambda _e: None
) -> dict[str, Any]:
    """Retrain `run_id` from its record; returns (and stores in the run) what was reproduced."""
    from core import training

    store = store or RunStore()
    record = store.usable(run_id)
    if record.get("family") == "ensemble":
        raise RunError(f"{run_id} is an ensemble: reproduce its members ({', '.join(record['config']['members'])})")
    config = TrainConfig.from_dict(record["config"])
    copy_id = f"repro-{run_id[:60]}-{secrets.token_hex(3)}"  # never ref-*: a user run of its own
    started = time.perf_counter()
    again = training.train(
        config,
        run_id=copy_id,
        store=store,
        emit=emit,
        produced_by={"command": f"python -m core reproduce {run_id}", "reproduces": run_id},
    )
    seconds = time.perf_counter() - started
    try:
        if again["status"] != "completed":
            raise RunError(f"the retraining of {run_id} ended {again['status']}: {again.get('error')}")
        old, new = store.predictions(run_id), store.predictions(copy_id)
        agreement = float(np.mean(old["y_pred"] == new["y_pred"]))
        delta = again["metrics"]["test_accuracy"] - record["metrics"]["test_accuracy"]
        recorded = (record.get("produced_by") or {}).get("source_version")
        current = (again.get("produced_by") or {}).get("source_version")
        result = {
            "date": now_iso(),
            "machine": f"{platform.node()} ({platform.platform()})",
            "agreement": round(agreement, 6),
            "accuracy_delta": round(delta, 6),
            "test_accuracy_again": again["metrics"]["test_accuracy"],
            "seconds": round(seconds, 1),
            "train_seconds": (again.get("timings") or {}).get("train_seconds"),
            "source_version": current,
            "recorded_source_version": recorded,
            "same_source": bool(recorded and current and recorded.split("+")[0] == current.split("+")[0]),
            "copy": copy_id if keep else None,
        }
    finally:
        if not keep and store.exists(copy_id):
            store.delete(copy_id, force=True)
    store.update(run_id, reproduced=result)
    return result
