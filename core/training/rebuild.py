"""Rebuild a run's missing model file: retrain it from its record (same settings, seed and split) and
put the new file in the run, saying whether it reproduces the run's stored predictions.

This is how a model too large for git reaches a fresh clone (the Random Forest: 200 full-depth trees
are 33 MB, 12.5 MB at best compressed, and 60 trees would cost half a point of accuracy): the run keeps
its predictions and metrics in git and its model is rebuilt here on demand, deterministically. The run
records `model_rebuilt: {date, machine, agreement, accuracy_delta, seconds, same_source}`: agreement 1.0
means every test photo gets the committed answer; anything less is shown with the run.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from typing import Any

from core.store import NoModel, RunError, RunStore, atomic


def needs_rebuild(run_id: str, store: RunStore | None = None) -> bool:
    """Whether a completed single-model run lacks its model file (and can be retrained from its record)."""
    store = store or RunStore()
    record = store.get(run_id)
    if record.get("status") != "completed" or record.get("family") == "ensemble" or not record.get("config"):
        return False
    try:
        store.model_file(run_id)
    except NoModel:
        return bool((record.get("artifact") or {}).get("file"))
    return False


def estimate_seconds(record: dict[str, Any]) -> int:
    """What a rebuild takes (core.store.files.rebuild_estimate_seconds: one estimate everywhere)."""
    from core.store.files import rebuild_estimate_seconds

    return rebuild_estimate_seconds(record)


def rebuild(run_id: str, store: RunStore | None = None, emit: Callable[[dict], None] = lambda _e: None) -> dict:
    """Retrain `run_id` and give it the new model file; returns (and stores) `model_rebuilt`."""
    from core.training.reproduce import reproduce

    store = store or RunStore()
    if not needs_rebuild(run_id, store):
        raise RunError(f"run {run_id} already has its model file, or is not a completed single-model run")
    result = reproduce(run_id, store=store, keep=True, emit=emit)
    copy_id = result["copy"]
    try:
        source, artifact = store.model_file(copy_id)
        target = store.path(run_id) / source.name
        tmp = target.with_name(f".rebuilt-tmp{source.suffix}")
        shutil.copyfile(source, tmp)
        if atomic.sha256_file(tmp) != artifact["sha256"]:
            tmp.unlink()
            raise RunError(f"the rebuilt model file of {run_id} changed while it was copied")
        tmp.replace(target)
    finally:
        store.delete(copy_id, force=True)
    rebuilt = {key: result[key] for key in ("date", "machine", "agreement", "accuracy_delta", "seconds", "same_source")}
    record = store.get(run_id)
    store.update(
        run_id,
        artifact={
            **(record.get("artifact") or {}),
            "file": artifact["file"],
            "bytes": artifact["bytes"],
            "sha256": artifact["sha256"],
        },
        model_rebuilt=rebuilt,
        reproduced={**result, "copy": None},
    )
    return rebuilt


def missing(store: RunStore | None = None, prefix: str = "ref-") -> list[str]:
    """Runs (by default the reference runs) whose model file can be rebuilt."""
    store = store or RunStore()
    rows, _total = store.page({"id_prefix": prefix or None}, "run_id", None)  # from the index: no run.json read
    return [r["run_id"] for r in rows if needs_rebuild(r["run_id"], store)]
