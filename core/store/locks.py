"""Liveness and one-training-at-a-time locks of the run store (`flock`, dropped by the kernel on death).

A training process holds an exclusive lock on `<run>/.lock` for its whole life and one on
`runs/.training.lock`; a `running` run whose lock is free died mid-way.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

from core.store.errors import TrainingBusy


def lock_held(path: Path) -> bool:
    """True while some process holds an flock on `path` (the kernel drops it when that process dies)."""
    try:
        handle = open(path)  # noqa: SIM115 - closed by the with below
    except FileNotFoundError:
        return False
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


@contextlib.contextmanager
def hold_lock(path: Path, what: str) -> Iterator[None]:
    """Hold an exclusive flock on `path` for the block (liveness: `lock_held` sees it until the holder
    ends or dies). Raises LockTaken ("<what> is already running") when another process holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockTaken(f"{what} is already running") from None
        yield


@contextlib.contextmanager
def waiting_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive flock on `path` for the block, waiting for another holder to finish: for short
    steps that must not run in two processes at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


class LockTaken(RuntimeError):
    """`hold_lock` found the lock held by another process."""


class RunLocks:
    """The lock half of RunStore (needs `root` and `path(run_id)`)."""

    root: Path

    def path(self, run_id: str) -> Path:  # overridden by RunStore (validates the id)
        return self.root / run_id

    @contextlib.contextmanager
    def training_slot(self, run_id: str) -> Iterator[None]:
        """Hold the one-training-at-a-time lock for `run_id`; TrainingBusy when taken."""
        self.root.mkdir(parents=True, exist_ok=True)
        handle = open(self.root / ".training.lock", "a+")  # noqa: SIM115 - held for the block
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise TrainingBusy(self.active_run_id()) from None
            handle.seek(0)
            handle.truncate()
            handle.write(run_id)
            handle.flush()
            yield
        finally:
            handle.close()

    def _owner_alive(self, run_id: str) -> bool:
        return lock_held(self.path(run_id) / ".lock")

    def active_run_id(self) -> str | None:
        """The run holding the training slot, or None when the slot is free."""
        lock_path = self.root / ".training.lock"
        if not lock_path.is_file():
            return None
        with open(lock_path) as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return handle.read().strip() or None
            fcntl.flock(handle, fcntl.LOCK_UN)
        return None
