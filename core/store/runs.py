"""The run store: the only code that reads or writes run folders (`artifacts/runs/<run_id>/`).

Layout of one run: `run.json` (config, status, timings, environment, metrics), `history.jsonl`
(one line per epoch, appended), `progress.json` (latest batch/stage position), `predictions.npz`
(`y_true`, `y_pred`, `proba` on the official test set, in test-set order), the model file, and
`logs/` (TensorBoard). Every write is atomic. A training process holds an exclusive `flock` on
`<run>/.lock` for its whole life, and one on `runs/.training.lock` (one training at a time); the
kernel drops both when the process dies, so a run still marked `running` whose lock is free died
mid-way and is reported as `interrupted` (recorded so by `reap()`), never as completed.

Reading validates (core.record): a record or file that does not match the contract comes back as
status `damaged` with a one-line reason, never an exception. The store is split by concern:
core.store.errors, core.store.locks (liveness locks), core.store.files (predictions and model
files, checked as they are read) and this module (records, listing, lifecycle).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from core import paths
from core.intervals import with_intervals
from core.store import atomic
from core.store import index as run_index
from core.store.errors import DamagedRun, InvalidRunId, RunError, UnknownRun
from core.store.files import RunFiles
from core.store.index import RunIndex
from core.store.locks import RunLocks
from core.store.record import (
    DAMAGED,
    SCHEMA_VERSION,
    record_problem,
)


class SavableModel(Protocol):
    """What the store needs of a fitted model to keep it (core.models.base.Classifier has both)."""

    file_suffix: str

    def save(self, path: Path) -> None: ...


RUN_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
ACTIVE = ("queued", "running")
MAX_NAME = 60  # characters of a run's display name
ORPHAN_GRACE_S = 60  # a run folder without run.json younger than this is still being created


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def validate_run_id(run_id: Any, what: str = "run id") -> str:
    """The id itself when it is a safe folder name; InvalidRunId naming it as `what` otherwise."""
    if not isinstance(run_id, str) or not RUN_ID_RE.fullmatch(run_id):
        shown = repr(run_id if not isinstance(run_id, str) or len(run_id) <= 50 else run_id[:50] + "…")[:80]
        raise InvalidRunId(f"invalid {what} {shown}: use 1-80 letters, digits, '-' or '_'")
    return run_id


def new_run_id(model: str) -> str:
    """`<model>-<UTC timestamp>-<4 hex>`: sortable, unique, safe."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    return f"{model}-{stamp}-{secrets.token_hex(2)}"


def damaged(record: dict[str, Any], reason: str) -> dict[str, Any]:
    """A record marked damaged (status derived on read; the recorded status is kept aside)."""
    return {**record, "status": DAMAGED, "recorded_status": record.get("status"), "damage": reason}


class RunStore(RunFiles, RunLocks):
    """Reads and writes runs under one root folder (default `artifacts/runs`)."""

    def __init__(self, root: Path | str | None = None):
        self.root = Path(root).resolve() if root else paths.runs_dir()
        self._prediction_cache: dict[str, tuple[tuple, dict[str, np.ndarray]]] = {}
        self._files_cache: dict[str, tuple[tuple, str | None]] = {}
        self._record_cache: dict[str, tuple[tuple, dict[str, Any], str | None]] = {}
        self._model_damage: dict[str, tuple[tuple | None, str]] = {}
        self.index = RunIndex(self.root, fill=lambda new: run_index.sync(self, new))

    # -- paths ------------------------------------------------------------------------------
    def path(self, run_id: str) -> Path:
        """The folder of a run (validated id; guaranteed inside the root)."""
        folder = self.root / validate_run_id(run_id)
        if folder.parent != self.root:
            raise InvalidRunId(f"invalid run id {run_id!r}")
        return folder

    def exists(self, run_id: str) -> bool:
        return (self.path(run_id) / "run.json").is_file()

    def logdir(self, run_id: str) -> Path:
        return self.path(run_id) / "logs"

    # -- creating and updating (the training process) ----------------------------------------
    @contextlib.contextmanager
    def open_run(self, run_id: str, record: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Create the run folder and hold its liveness lock while the block runs.

        `record` becomes run.json with status `running`; RunError if the id is taken.
        """
        folder = self.path(run_id)
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            folder.mkdir()
        except FileExistsError:
            raise RunError(f"run {run_id} already exists") from None
        lock = open(folder / ".lock", "w")  # noqa: SIM115 - held while the run is open
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            record = {
                "schema": SCHEMA_VERSION,
                "run_id": run_id,
                "status": "running",
                "created_at": now_iso(),
                "pid": os.getpid(),
                **record,
            }
            atomic.write_json(folder / "run.json", record)
            (folder / "history.jsonl").touch()
            run_index.record_write(self, run_id, record)
            yield record
        finally:
            lock.close()

    def update(self, run_id: str, **fields: Any) -> dict[str, Any]:
        """Merge fields into run.json (atomic replace) and return the new record."""
        record = self._read_record(run_id)
        record.update(fields)
        atomic.write_json(self.path(run_id) / "run.json", record)
        run_index.record_write(self, run_id)
        return record

    def append_history(self, run_id: str, epoch_record: dict[str, Any]) -> None:
        atomic.append_line(self.path(run_id) / "history.jsonl", json.dumps(epoch_record))

    def write_progress(self, run_id: str, progress: dict[str, Any]) -> None:
        atomic.write_json(self.path(run_id) / "progress.json", {**progress, "updated_at": now_iso()})

    def save_predictions(self, run_id: str, y_true: np.ndarray, proba: np.ndarray) -> None:
        proba = np.asarray(proba, dtype=np.float32)
        arrays = {
            "y_true": np.asarray(y_true, dtype=np.uint8),
            "y_pred": proba.argmax(axis=1).astype(np.uint8),
            "proba": proba,
        }
        atomic.write_with(self.path(run_id) / "predictions.npz", lambda buf: np.savez_compressed(buf, **arrays))

    def save_model(self, run_id: str, classifier: SavableModel) -> dict[str, Any]:
        """Save a fitted Classifier as `model<suffix>`; returns {file, bytes, sha256}."""
        folder = self.path(run_id)
        final = folder / f"model{classifier.file_suffix}"
        tmp = folder / f".model-tmp{classifier.file_suffix}"
        classifier.save(tmp)
        os.replace(tmp, final)
        return {"file": final.name, "bytes": final.stat().st_size, "sha256": atomic.sha256_file(final)}

    def request_cancel(self, run_id: str) -> bool:
        """Ask a running training to stop (it checks within a second). False when not active."""
        if self.get(run_id)["status"] not in ACTIVE:
            return False
        atomic.write_bytes(self.path(run_id) / "cancel", now_iso().encode())
        return True

    def cancel_requested(self, run_id: str) -> bool:
        return (self.path(run_id) / "cancel").exists()

    def rename(self, run_id: str, name: str | None) -> dict[str, Any]:
        """Give a run a readable display name (None or blank removes it); RunError when invalid.

        The folder and run id never change, so links and references stay valid."""
        name = " ".join((name or "").split())
        if len(name) > MAX_NAME:
            raise RunError(f"a run name has at most {MAX_NAME} characters (this one has {len(name)})")
        if any(not ch.isprintable() for ch in name):
            raise RunError("a run name must be plain printable text")
        record = self.get(run_id)
        if record["status"] == DAMAGED:
            raise DamagedRun(f"run {run_id} is damaged ({record['damage']}); it cannot be renamed")
        if record["status"] in ACTIVE:
            raise RunError(f"run {run_id} is still training; name it when it has finished")
        return self.update(run_id, name=name or None)

    def delete(self, run_id: str, force: bool = False) -> None:
        """Remove a run folder (atomically: renamed away first). Refuses a running run, and a
        committed reference run (`ref-*`) unless `force`."""
        folder = self.path(run_id)
        if not folder.is_dir():
            raise UnknownRun(f"no run named {run_id}")
        if run_id.startswith("ref-") and not force:
            raise RunError(f"{run_id} is a committed reference run; add --force to delete it anyway")
        if self._owner_alive(run_id):
            raise RunError(f"run {run_id} is still training; cancel it first (python -m core runs cancel {run_id})")
        trash = self.root / f".trash-{run_id}-{secrets.token_hex(3)}"
        os.rename(folder, trash)
        shutil.rmtree(trash, ignore_errors=True)
        for cache in (self._prediction_cache, self._files_cache, self._record_cache, self._model_damage):
            cache.pop(run_id, None)
        with contextlib.suppress(Exception):  # the next sync drops the row anyway
            self.index.remove(run_id)

    def replace_run(self, source_id: str, target_id: str) -> None:
        """Move finished run `source_id` to `target_id`, replacing any run of that name."""
        source, target = self.path(source_id), self.path(target_id)
        if self.get(source_id)["status"] in ACTIVE:
            raise RunError(f"run {source_id} is still running")
        record = self._read_record(source_id)
        record["run_id"] = target_id
        atomic.write_json(source / "run.json", record)
        trash = self.root / f".trash-{target_id}-{secrets.token_hex(3)}"
        if target.exists():
            os.rename(target, trash)
        os.rename(source, target)
        shutil.rmtree(trash, ignore_errors=True)

    # -- reading ------------------------------------------------------------------------------
    def _read_record(self, run_id: str) -> dict[str, Any]:
        try:
            record = json.loads((self.path(run_id) / "run.json").read_text())
        except FileNotFoundError:
            if self.path(run_id).is_dir():
                raise DamagedRun("run.json is missing") from None
            raise UnknownRun(f"no run named {run_id}") from None
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise DamagedRun("run.json is not valid JSON (truncated or edited by hand?)") from None
        except IsADirectoryError:
            raise DamagedRun("run.json is a folder, not a file") from None
        if not isinstance(record, dict):
            raise DamagedRun("run.json does not hold a JSON object")
        record["run_id"] = run_id  # the folder name is the id
        return record

    def get(self, run_id: str) -> dict[str, Any]:
        """run.json of a run, validated; never raises for a damaged run, and never writes.

        A `queued`/`running` run whose training process is gone is reported as `interrupted` (with
        the reason and its last sign of life as `finished_at`); `reap()` records that in run.json. A
        record or file that does not match the contract comes back with status `damaged` and a
        one-line `damage` reason. UnknownRun / InvalidRunId for ids that name no run.
        """
        record, problem = self._validated_record(run_id)
        if record.get("status") in ACTIVE and not self._owner_alive(run_id):
            try:
                record = self._read_record(run_id)  # re-read: it may have finished just now
            except DamagedRun as exc:
                return {"run_id": run_id, "status": DAMAGED, "recorded_status": None, "damage": str(exc)}
            if record.get("status") in ACTIVE:
                record = {
                    **record,
                    "status": "interrupted",
                    "error": self._dead_reason(run_id),
                    "finished_at": self._last_sign_of_life(run_id),
                }
            problem = record_problem(record)
        problem = problem or self._files_problem(record)
        return damaged(record, problem) if problem else record

    def _dead_reason(self, run_id: str) -> str:
        return "cancelled by the user" if self.cancel_requested(run_id) else "the training process stopped unexpectedly"

    def _last_sign_of_life(self, run_id: str) -> str:
        """When a dead run last wrote anything (its record, progress or history), as ISO time."""
        times = []
        for name in ("run.json", "progress.json", "history.jsonl"):
            with contextlib.suppress(OSError):
                times.append((self.path(run_id) / name).stat().st_mtime)
        when = dt.datetime.fromtimestamp(max(times), dt.UTC) if times else dt.datetime.now(dt.UTC)
        return when.isoformat(timespec="seconds")

    def reap(self, run_ids: list[str] | None = None) -> list[str]:
        """Record as `interrupted` every run still marked queued/running whose training process is
        gone (its lock is free), as Optuna fails stale trials; returns their ids. `get()` already
        reports such runs as interrupted; this writes it down. Run by the training launcher, the
        studies, the server at start-up and `python -m core runs reap`."""
        if run_ids is None:
            run_index.sync_if_due(self)
            # the index lists a dead run as interrupted already (it reads through get): check those too
            candidates = {"status": [*ACTIVE, "interrupted"]}
            run_ids = [row["run_id"] for row in self.index.query(candidates, limit=None)[0]]
        reaped = []
        for run_id in run_ids:
            try:
                record = self._read_record(run_id)
            except (DamagedRun, UnknownRun):
                continue
            if record.get("status") in ACTIVE and not self._owner_alive(run_id):
                self.mark_interrupted(run_id, self._dead_reason(run_id))
                reaped.append(run_id)
        return reaped

    def _validated_record(self, run_id: str) -> tuple[dict[str, Any], str | None]:
        """(a copy of run.json, its schema problem or None), cached per version of the file."""
        try:
            stat = (self.path(run_id) / "run.json").stat()
            key: tuple | None = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        except OSError:
            key = None
        cached = self._record_cache.get(run_id)
        if key is not None and cached and cached[0] == key:
            return dict(cached[1]), cached[2]
        try:
            record = self._read_record(run_id)
        except DamagedRun as exc:
            return {"run_id": run_id, "status": DAMAGED, "recorded_status": None, "damage": str(exc)}, None
        problem = record_problem(record)
        if problem is None and isinstance(record.get("metrics"), dict):
            # records written before intervals existed get them on read (from the confusion matrix)
            record["metrics"] = with_intervals(record["metrics"])
        if key is not None:
            self._record_cache[run_id] = (key, record, problem)
        return dict(record), problem

    def usable(self, run_id: str) -> dict[str, Any]:
        """The record of a completed, undamaged run; DamagedRun / RunError with the reason otherwise."""
        record = self.get(run_id)
        if record["status"] == DAMAGED:
            raise DamagedRun(f"run {run_id} is damaged: {record['damage']}")
        if record["status"] != "completed":
            raise RunError(f"run {run_id} is {record['status']}, so it has no test results")
        return record

    def mark_interrupted(self, run_id: str, reason: str) -> dict[str, Any]:
        return self.update(run_id, status="interrupted", error=reason, finished_at=now_iso())

    def list_ids(self) -> list[str]:
        """Ids of every run folder (a folder that lost its run.json included, once past creation)."""
        if not self.root.is_dir():
            return []
        now = time.time()
        ids = []
        for p in self.root.iterdir():
            if not RUN_ID_RE.fullmatch(p.name) or not p.is_dir():
                continue
            if (p / "run.json").exists() or now - p.stat().st_mtime > ORPHAN_GRACE_S:
                ids.append(p.name)
        return sorted(ids)

    def list_runs(self, status: str | None = None) -> list[dict[str, Any]]:
        """Every run (newest first; damaged ones included, with their reason), optionally by `status`."""
        runs = []
        for run_id in self.list_ids():
            try:
                record = self.get(run_id)
            except UnknownRun:
                continue  # deleted since the listing
            if status is None or record.get("status") == status:
                runs.append(record)
        return sorted(runs, key=lambda r: str(r.get("created_at") or ""), reverse=True)

    def page(
        self,
        filters: dict[str, Any] | None = None,
        sort: str = "-created_at",
        limit: int | None = run_index.DEFAULT_LIMIT,
        offset: int = 0,
        search: str | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        """(one page of run summaries, how many match), from the index (brought up to date first):
        what listings use instead of reading every run (core.store.index). Changes made behind the
        store's back show up after `index.sync_if_due` checks the folders again."""
        run_index.sync_if_due(self)
        return self.index.query(filters, sort, limit, offset, search)

    def history(self, run_id: str) -> list[dict[str, Any]]:
        """Epoch records in order; a torn last line (crash mid-write) is skipped."""
        try:
            text = (self.path(run_id) / "history.jsonl").read_text()
        except FileNotFoundError:
            if not self.exists(run_id):
                raise UnknownRun(f"no run named {run_id}") from None
            return []
        records = []
        for line in text.splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return records

    def progress(self, run_id: str) -> dict[str, Any] | None:
        try:
            return json.loads((self.path(run_id) / "progress.json").read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None
