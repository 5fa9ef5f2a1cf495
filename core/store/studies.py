"""The folder of a kind of study (`artifacts/ablations/`, `artifacts/tuning/`): one interface for its
plan files, the study lock a running study holds, the per-cell locks its workers take (a run of an
ablation, a trial of a tuning study), its stop flags, and listing its studies.

Locks are `flock`s (core.store.locks): the kernel drops them when a process dies, so "held" always
means "a live process is working on it". A stop flag is a file: it survives the process that wrote it
and is cleared when the study next starts.
"""

from __future__ import annotations

from pathlib import Path

from core import paths
from core.store.locks import lock_held
from core.store.runs import validate_run_id


class StudyFolder:
    """`artifacts/<kind>/`: `<name>.json` plans, `<name>.stop` flags, `.locks/<name or cell>.lock`."""

    def __init__(self, kind: str):
        self.kind = kind

    @property
    def root(self) -> Path:
        """The folder (created on first use; follows STUDIO_ARTIFACTS)."""
        path = paths.artifacts_dir() / self.kind
        (path / ".locks").mkdir(parents=True, exist_ok=True)
        return path

    def plan(self, name: str) -> Path:
        return self.root / f"{validate_run_id(name, 'study name')}.json"

    def has_plan(self, name: str) -> bool:
        return self.plan(name).is_file()

    def names(self) -> list[str]:
        """The studies that have a plan file, by name."""
        return sorted(p.stem for p in self.root.glob("*.json"))

    def lock(self, name: str) -> Path:
        """Held by the process running study `name`."""
        return self.root / ".locks" / f"{validate_run_id(name, 'study name')}.lock"

    def cell_lock(self, cell: str) -> Path:
        """Held by the worker training one cell of a study (an ablation run, a tuning trial)."""
        return self.root / ".locks" / f"{validate_run_id(cell)}.lock"

    def locked(self, name: str) -> bool:
        return lock_held(self.lock(name))

    def cell_locked(self, cell: str) -> bool:
        return lock_held(self.cell_lock(cell))

    def stop_flag(self, name: str) -> Path:
        return self.root / f"{validate_run_id(name, 'study name')}.stop"

    def request_stop(self, name: str) -> None:
        self.stop_flag(name).write_text("stop")

    def stop_requested(self, name: str) -> bool:
        return self.stop_flag(name).exists()

    def clear_stop(self, name: str) -> None:
        self.stop_flag(name).unlink(missing_ok=True)


ABLATIONS = StudyFolder("ablations")
TUNING = StudyFolder("tuning")


def cell_result(store, run_id: str) -> dict | None:
    """One study run as a study's results read it: None when it does not exist; its status, and for a
    run judged on validation its validation accuracy, training seconds and epochs."""
    if not store.exists(run_id):
        return None
    record = store.get(run_id)
    if record.get("status") != "validated":
        return {"run_id": run_id, "status": record.get("status"), "val_accuracy": None, "seconds": None}
    return {
        "run_id": run_id,
        "status": "validated",
        "val_accuracy": (record.get("validation") or {}).get("val_accuracy"),
        "seconds": (record.get("timings") or {}).get("train_seconds"),
        "epochs_run": record.get("epochs_run"),
    }
