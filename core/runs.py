"""The run store: the only code that reads or writes run folders (`artifacts/runs/<run_id>/`).

Layout of one run: `run.json` (config, status, timings, environment, metrics), `history.jsonl`
(one line per epoch, appended), `progress.json` (latest batch/stage position), `predictions.npz`
(`y_true`, `y_pred`, `proba` on the official test set, in test-set order), the model file, and
`logs/` (TensorBoard). Every write is atomic. A training process holds an exclusive `flock` on
`<run>/.lock` for its whole life, and one on `runs/.training.lock` (one training at a time); the
kernel drops both when the process dies, so a run still marked `running` whose lock is free died
mid-way and is reported (and recorded) as `interrupted`, never as completed.
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
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from core import atomic, paths

RUN_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
STATUSES = ("queued", "running", "completed", "failed", "interrupted")
ACTIVE = ("queued", "running")
SCHEMA_VERSION = 1


class RunError(Exception):
    """Base class for run-store errors; the message is meant for people."""


class InvalidRunId(RunError):
    pass


class UnknownRun(RunError):
    pass


class NoModel(RunError):
    """The run exists but has no usable model file (not completed, or not kept)."""


class TrainingBusy(RunError):
    """Another training holds the slot; `active_run_id` names it."""

    def __init__(self, active_run_id: str | None):
        self.active_run_id = active_run_id
        super().__init__(f"another training is running ({active_run_id or 'unknown run'}); "
                         "wait for it to finish or cancel it")


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def validate_run_id(run_id: Any) -> str:
    """The id itself when it is a safe folder name; InvalidRunId otherwise."""
    if not isinstance(run_id, str) or not RUN_ID_RE.fullmatch(run_id):
        shown = repr(run_id)[:60]
        raise InvalidRunId(f"invalid run id {shown}: use 1-80 letters, digits, '-' or '_'")
    return run_id


def new_run_id(model: str) -> str:
    """`<model>-<UTC timestamp>-<4 hex>`: sortable, unique, safe."""
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    return f"{model}-{stamp}-{secrets.token_hex(2)}"


def run_summary(record: dict[str, Any]) -> dict[str, Any]:
    """The short form of a run record used by listings and the /api/runs endpoint."""
    m = record.get("metrics") or {}
    return {"run_id": record["run_id"], "model": record.get("model"), "label": record.get("label"),
            "family": record.get("family"), "status": record.get("status"),
            "created_at": record.get("created_at"), "finished_at": record.get("finished_at"),
            "test_accuracy": m.get("test_accuracy"), "macro_f1": m.get("macro_f1"),
            "reference": bool((record.get("produced_by") or {}).get("reference"))}


class RunStore:
    """Reads and writes runs under one root folder (default `artifacts/runs`)."""

    def __init__(self, root: Path | str | None = None):
        self.root = Path(root).resolve() if root else paths.runs_dir()
        self._prediction_cache: dict[str, tuple[tuple, dict[str, np.ndarray]]] = {}

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
    def training_slot(self, run_id: str) -> Iterator[None]:
        """Hold the one-training-at-a-time lock for `run_id`; TrainingBusy when taken."""
        self.root.mkdir(parents=True, exist_ok=True)
        handle = open(self.root / ".training.lock", "a+")
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
        lock = open(folder / ".lock", "w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            record = {"schema": SCHEMA_VERSION, "run_id": run_id, "status": "running",
                      "created_at": now_iso(), "pid": os.getpid(), **record}
            atomic.write_json(folder / "run.json", record)
            (folder / "history.jsonl").touch()
            yield record
        finally:
            lock.close()

    def update(self, run_id: str, **fields: Any) -> dict[str, Any]:
        """Merge fields into run.json (atomic replace) and return the new record."""
        record = self._read_record(run_id)
        record.update(fields)
        atomic.write_json(self.path(run_id) / "run.json", record)
        return record

    def append_history(self, run_id: str, epoch_record: dict[str, Any]) -> None:
        atomic.append_line(self.path(run_id) / "history.jsonl", json.dumps(epoch_record))

    def write_progress(self, run_id: str, progress: dict[str, Any]) -> None:
        atomic.write_json(self.path(run_id) / "progress.json", {**progress, "updated_at": now_iso()})

    def save_predictions(self, run_id: str, y_true: np.ndarray, proba: np.ndarray) -> None:
        proba = np.asarray(proba, dtype=np.float32)
        arrays = {"y_true": np.asarray(y_true, dtype=np.uint8),
                  "y_pred": proba.argmax(axis=1).astype(np.uint8), "proba": proba}
        atomic.write_with(self.path(run_id) / "predictions.npz",
                          lambda buf: np.savez_compressed(buf, **arrays))

    def save_model(self, run_id: str, classifier) -> dict[str, Any]:
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
            raise UnknownRun(f"no run named {run_id}") from None
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise RunError(f"run {run_id} has a damaged run.json") from None
        if not isinstance(record, dict):
            raise RunError(f"run {run_id} has a damaged run.json")
        record["run_id"] = run_id  # the folder name is the id
        return record

    def get(self, run_id: str) -> dict[str, Any]:
        """run.json of a run, with a dead `running` run recorded as `interrupted` first."""
        record = self._read_record(run_id)
        if record.get("status") in ACTIVE and not self._owner_alive(run_id):
            record = self._read_record(run_id)  # re-read: it may have finished just now
            if record.get("status") in ACTIVE:
                reason = ("cancelled by the user" if self.cancel_requested(run_id)
                          else "the training process stopped unexpectedly")
                record = self.mark_interrupted(run_id, reason)
        return record

    def _owner_alive(self, run_id: str) -> bool:
        lock_path = self.path(run_id) / ".lock"
        try:
            handle = open(lock_path, "r")
        except FileNotFoundError:
            return False
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
            return False

    def mark_interrupted(self, run_id: str, reason: str) -> dict[str, Any]:
        return self.update(run_id, status="interrupted", error=reason, finished_at=now_iso())

    def list_ids(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir()
                      if RUN_ID_RE.fullmatch(p.name) and (p / "run.json").is_file())

    def list_runs(self, status: str | None = None) -> list[dict[str, Any]]:
        """Every readable run (newest first), optionally only those with `status`."""
        runs = []
        for run_id in self.list_ids():
            try:
                record = self.get(run_id)
            except RunError:
                continue  # a damaged run is skipped in listings, still reported by `get`
            if status is None or record.get("status") == status:
                runs.append(record)
        return sorted(runs, key=lambda r: r.get("created_at", ""), reverse=True)

    def active_run_id(self) -> str | None:
        """The run holding the training slot, or None when the slot is free."""
        lock_path = self.root / ".training.lock"
        if not lock_path.is_file():
            return None
        with open(lock_path, "r") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return handle.read().strip() or None
            fcntl.flock(handle, fcntl.LOCK_UN)
        return None

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

    def predictions(self, run_id: str) -> dict[str, np.ndarray]:
        """{y_true, y_pred, proba} of a completed run (cached per file version)."""
        file = self.path(run_id) / "predictions.npz"
        try:
            stat = file.stat()
        except FileNotFoundError:
            raise UnknownRun(f"run {run_id} has no predictions (not completed?)") from None
        key = (stat.st_mtime_ns, stat.st_size)
        cached = self._prediction_cache.get(run_id)
        if cached and cached[0] == key:
            return cached[1]
        try:
            with np.load(file, allow_pickle=False) as saved:
                arrays = {name: saved[name] for name in ("y_true", "y_pred", "proba")}
        except (OSError, ValueError, KeyError):
            raise RunError(f"run {run_id} has damaged predictions") from None
        for array in arrays.values():
            array.setflags(write=False)
        self._prediction_cache[run_id] = (key, arrays)
        return arrays

    def model_file(self, run_id: str) -> tuple[Path, dict[str, Any]]:
        """(path, artifact record) of a completed run's model file; UnknownRun when it has none."""
        record = self.get(run_id)
        artifact = record.get("artifact") or {}
        name = artifact.get("file")
        if record.get("status") != "completed" or name not in ("model.keras", "model.joblib"):
            raise NoModel(f"run {run_id} has no saved model")
        path = self.path(run_id) / name
        if not path.is_file():
            raise NoModel(f"run {run_id} keeps only its predictions ({name} is not in this checkout); "
                          f"retrain it with `python -m core reference --only {record.get('model')}`")
        return path, artifact
