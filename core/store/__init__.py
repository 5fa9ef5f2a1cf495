"""The run store: one folder per run under artifacts/runs, the only code that reads or writes them.

`runs` (records, listing, lifecycle), `files` (predictions and model files), `locks` (liveness),
`record` (the schema of run.json), `errors`, `atomic` (crash-safe writes), `check` (runs check).
"""

from core.store.errors import DamagedRun, InvalidRunId, NoModel, RunError, TrainingBusy, UnknownRun
from core.store.record import STATUSES, listed_record, run_summary
from core.store.runs import ACTIVE, DAMAGED, RunStore, new_run_id, now_iso, validate_run_id

__all__ = [
    "ACTIVE",
    "DAMAGED",
    "STATUSES",
    "DamagedRun",
    "InvalidRunId",
    "NoModel",
    "RunError",
    "RunStore",
    "TrainingBusy",
    "UnknownRun",
    "listed_record",
    "new_run_id",
    "now_iso",
    "run_summary",
    "validate_run_id",
]
