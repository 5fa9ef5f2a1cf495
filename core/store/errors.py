"""The run store's errors: every message is one line meant for people."""

from __future__ import annotations


class RunError(Exception):
    """Base class for run-store errors; the message is meant for people."""


class TrainingBusy(RunError):
    """Another training holds the slot; `active_run_id` names it."""

    def __init__(self, active_run_id: str | None):
        self.active_run_id = active_run_id
        super().__init__(
            f"another training is running ({active_run_id or 'unknown run'}); wait for it to finish or cancel it"
        )


class InvalidRunId(RunError):
    pass


class UnknownRun(RunError):
    pass


class NoModel(RunError):
    """The run exists but has no usable model file (not completed, or not kept)."""


class DamagedRun(RunError):
    """The run's record or files do not match the run-store contract; the message says how."""
