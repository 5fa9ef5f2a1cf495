"""`python -m core runs check`: every run checked against the run-store contract, deeply.

Reading a run (RunStore.get) already validates run.json and the predictions' structure; this
also loads every prediction array and every model file a run needs, which pages do only on demand.
It lives beside the model loader (core.models.loading), not in the store, because it loads models.
"""

from __future__ import annotations

from typing import Any

from core.models.loading import load_classifier
from core.store.errors import DamagedRun, NoModel
from core.store.runs import DAMAGED, RunStore


def _strip(run_id: str, message: str) -> str:
    return message.removeprefix(f"run {run_id} is damaged: ")


def check_run(store: RunStore, run_id: str, load_model: bool = True) -> dict[str, Any]:
    """{run_id, status, ok, reason}: reason is None for a healthy run, else one line."""
    record = store.get(run_id)
    status = record["status"]
    reason = record.get("damage") if status == DAMAGED else None
    if reason is None and status == "completed":
        try:
            store.predictions(run_id)
            if load_model:
                try:
                    load_classifier(run_id, store)
                except NoModel:
                    if record.get("family") == "deep":  # Grad-CAM and uploads need it
                        raise DamagedRun(f"run {run_id} is damaged: its model file is missing") from None
        except DamagedRun as exc:
            reason = _strip(run_id, str(exc))
    return {"run_id": run_id, "status": DAMAGED if reason else status, "ok": reason is None, "reason": reason}


def check_all(store: RunStore, load_models: bool = True) -> list[dict[str, Any]]:
    return [check_run(store, run_id, load_models) for run_id in store.list_ids()]
