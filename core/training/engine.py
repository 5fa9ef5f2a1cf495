"""The training engine: one function trains any registered model into a new run.

`train(config)` validates the config, takes the one-training-at-a-time slot, creates the run,
trains on the fixed 80/20 split (optionally a stratified subset), evaluates on the official test
set and completes the run record. Progress goes to the run store (history.jsonl per epoch,
progress.json for batch/stage positions) and to an optional `emit` callable. A cancel request, the
launcher's death or SIGTERM marks the run `interrupted`; a crash marks it `failed`.
"""

from __future__ import annotations

import contextlib
import os
import platform
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from core import data, models
from core.data.dataset import N_TEST, spaced
from core.evaluation import calibrated, latency, metrics
from core.models.base import Emit, no_emit
from core.models.config import TrainConfig
from core.store import RunStore, new_run_id, now_iso, validate_run_id
from core.training.provenance import environment, source_version

WATCH_INTERVAL_S = 0.25


class StopTraining(Exception):
    """Raised from an event handler to end a training early with `status` (e.g. a pruned trial)."""

    def __init__(self, status: str, reason: str):
        super().__init__(reason)
        self.status = status


class _Watcher(threading.Thread):
    """Stops the process (run marked interrupted) on a cancel request or when the launcher dies."""

    def __init__(self, store: RunStore, run_id: str, parent_pid: int | None):
        super().__init__(daemon=True, name=f"watch-{run_id}")
        self.store, self.run_id, self.parent_pid = store, run_id, parent_pid
        self.finishing = threading.Lock()
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(WATCH_INTERVAL_S):
            if self.store.cancel_requested(self.run_id):
                self.stop("cancelled by the user")
            if self.parent_pid and os.getppid() != self.parent_pid:
                self.stop("the process that launched the training went away")

    def stop(self, reason: str, code: int = 130) -> None:
        if self.done.is_set() or not self.finishing.acquire(blocking=False):
            return  # the run is being completed (or is over); let it finish
        if self.done.is_set():
            self.finishing.release()
            return
        self.store.mark_interrupted(self.run_id, reason)
        os._exit(code)


def _sink(store: RunStore, run_id: str, emit: Emit) -> Callable[[dict[str, Any]], None]:
    """Routes model events to the store (history / progress) and on to `emit`."""

    def handle(event: dict[str, Any]) -> None:
        if event["type"] == "epoch":
            store.append_history(run_id, {k: v for k, v in event.items() if k != "type"})
            store.write_progress(
                run_id,
                {"stage": "train", "epoch": event["epoch"], "epochs": event["epochs"], "batch": None, "batches": None},
            )
        elif event["type"] == "batch":
            store.write_progress(
                run_id, {"stage": "train", **{k: event[k] for k in ("epoch", "epochs", "batch", "batches")}}
            )
        elif event["type"] == "stage":
            store.write_progress(
                run_id, {"stage": event["stage"], "message": event["message"], "fraction": event.get("fraction")}
            )
        emit(event)

    return handle


def train(
    config: TrainConfig,
    run_id: str | None = None,
    store: RunStore | None = None,
    emit: Emit = no_emit,
    parent_pid: int | None = None,
    produced_by: dict | None = None,
    score_test: bool = True,
    tags: dict | None = None,
    exclusive: bool = True,
    save_model: bool = True,
) -> dict:
    """Train `config` into run `run_id` (a new id when None); returns the final run record.

    `score_test=False` (tuning trials): the run ends `validated`, scored on the validation split only.
    `tags` are extra record fields (e.g. {"study": {...}}). `exclusive=False` (trials on Celery
    workers, one per worker) trains without the one-training-at-a-time slot. An event handler may raise StopTraining
    to end the run early with its own status (the curves so far are kept). `save_model=False` (ablation
    runs, validation only) keeps the record and curves but no model file.

    Raises ConfigError (nothing written) for invalid settings, TrainingBusy when another training
    runs, RunError when the id is taken. Any failure during training marks the run `failed`.
    """
    config = config.resolve()
    store = store or RunStore()
    run_id = validate_run_id(run_id) if run_id else new_run_id(config.model)
    spec = models.get_spec(config.model)
    dataset = data.load()  # fail on missing data before creating anything
    if config.params.get("teacher"):  # a teacher that cannot teach is refused before anything is written
        from core.training import distill

        distill.check_teacher(config.params["teacher"], store)
    with store.training_slot(run_id) if exclusive else contextlib.nullcontext():
        if exclusive:  # holding the slot, no other training is alive: record the dead ones as such
            store.reap()
        record = {
            "model": config.model,
            "label": spec.label,
            "family": spec.family,
            "config": config.to_dict(),
            "produced_by": {"command": " ".join(sys.argv), **(produced_by or {}), "source_version": source_version()},
            "host": platform.node(),
            **(tags or {}),
        }
        with store.open_run(run_id, record):
            watcher = _Watcher(store, run_id, parent_pid)
            watcher.start()
            previous = _install_sigterm(watcher)
            try:
                _train_run(config, run_id, store, dataset, _sink(store, run_id, emit), watcher, score_test, save_model)
            except StopTraining as stop:
                if watcher.finishing.acquire(blocking=False):
                    store.update(run_id, status=stop.status, error=str(stop), finished_at=now_iso())
            except BaseException as exc:  # record the failure, then re-raise
                if watcher.finishing.acquire(blocking=False):
                    status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
                    store.update(run_id, status=status, error=f"{exc.__class__.__name__}: {exc}", finished_at=now_iso())
                raise
            finally:
                watcher.done.set()
                _restore_sigterm(previous)
    return store.get(run_id)


def _train_run(
    config: TrainConfig,
    run_id: str,
    store: RunStore,
    dataset: data.FashionMNIST,
    sink: Callable,
    watcher: _Watcher,
    score_test: bool = True,
    save_model: bool = True,
) -> None:
    train_idx, val_idx = data.split_indices(data.DEFAULT_SEED)
    train_idx = data.subset_indices(train_idx, dataset.y_train, config.subset, config.seed)
    clf = models.build(config)
    soft_targets = None
    if config.params.get("teacher"):
        from core.training import distill

        sink({"type": "stage", "stage": "teacher", "message": "Asking the teacher run", "fraction": None})
        temperature = config.params["distill_temperature"]
        train_soft, val_soft = (
            distill.soften(distill.teacher_probabilities(config.params["teacher"], idx, store), temperature)
            for idx in (train_idx, val_idx)
        )
        soft_targets = (train_soft, val_soft)
    x_train, y_train = clf.prepare(dataset.x_train[train_idx]), dataset.y_train[train_idx]
    x_val, y_val = clf.prepare(dataset.x_train[val_idx]), dataset.y_train[val_idx]
    store.update(
        run_id,
        started_at=now_iso(),
        environment=environment(),
        data={
            "source": str(dataset.source),
            "split_seed": data.DEFAULT_SEED,
            "n_train": len(train_idx),
            "n_val": len(val_idx),
            "n_test": len(dataset.y_test),
        },
    )
    started = time.perf_counter()
    clf.fit(
        x_train,
        y_train,
        x_val,
        y_val,
        emit=sink,
        logdir=store.logdir(run_id) if clf.input_kind == "image" else None,
        train_rows=train_idx,  # a model that stores training photos keeps their dataset rows
        soft_targets=soft_targets,
    )
    train_seconds = time.perf_counter() - started
    store.update(run_id, environment=environment())  # now including TensorFlow, when used
    if not score_test:
        _finish_validated(clf, run_id, store, x_val, y_val, train_seconds, watcher, sink, save_model)
        return
    sink(
        {
            "type": "stage",
            "stage": "evaluate",
            "message": f"Evaluating on the {spaced(N_TEST)} test images",
            "fraction": None,
        }
    )
    evaluation, proba, timings, proba_val = _evaluate(clf, dataset, x_val, y_val)
    with watcher.finishing:
        store.save_predictions(run_id, dataset.y_test, proba)
        store.save_validation(run_id, val_idx, y_val, proba_val)
        artifact = {**store.save_model(run_id, clf), "params": clf.param_count()}
        store.update(
            run_id,
            status="completed",
            finished_at=now_iso(),
            metrics=evaluation,
            artifact=artifact,
            best_epoch=clf.best_epoch_,
            epochs_run=len(store.history(run_id)) or None,
            timings={"train_seconds": round(train_seconds, 3), **timings},
            evaluation=_evaluation_note(config),
        )
        watcher.done.set()
        calibrated.calibrate_finished(store, run_id)
        sink({"type": "stage", "stage": "done", "message": "Completed", "fraction": 1.0})


def _finish_validated(clf, run_id, store, x_val, y_val, train_seconds, watcher, sink, save_model=True) -> None:
    """End a tuning trial or ablation run: validation accuracy only, the test set untouched; the model
    is kept unless `save_model` is False (then the record names its size but no file)."""
    val_accuracy = float((clf.predict(x_val) == y_val).mean())
    with watcher.finishing:
        saved = store.save_model(run_id, clf) if save_model else {}
        artifact = {**saved, "params": clf.param_count()} if saved else None
        store.update(
            run_id,
            status="validated",
            finished_at=now_iso(),
            validation={"val_accuracy": val_accuracy, "n_val": len(y_val), "params": clf.param_count()},
            artifact=artifact,
            best_epoch=clf.best_epoch_,
            epochs_run=len(store.history(run_id)) or None,
            timings={"train_seconds": round(train_seconds, 3)},
            evaluation={"test_set": f"not used ({_validated_kind(store.get(run_id))}: validation only)"},
        )
        watcher.done.set()
        sink({"type": "stage", "stage": "done", "message": "Validated", "fraction": 1.0})


def _validated_kind(record: dict[str, Any]) -> str:
    if record.get("race"):
        return "a race run"
    return "an ablation study run" if record.get("ablation") else "a tuning trial"


def _evaluation_note(config: TrainConfig) -> dict[str, Any]:
    """How the test score was obtained, recorded with it: choices were made on validation, the
    test set was scored once at the end, with or without test-time augmentation."""
    tta = bool(config.params.get("tta"))
    return {
        "test_set": "scored once, after training; epochs, early stopping and settings used validation only",
        "test_time_augmentation": "mean of each photo and its mirror image" if tta else "none",
    }


def _evaluate(clf, dataset: data.FashionMNIST, x_val: np.ndarray, y_val: np.ndarray):
    """Test-set metrics, probabilities and inference timing (batched, after a warm-up)."""
    x_test = clf.prepare(dataset.x_test)
    clf.predict_proba(x_test[:200])
    started = time.perf_counter()
    proba = clf.predict_proba(x_test)
    infer_seconds = time.perf_counter() - started
    evaluation = metrics.evaluate(dataset.y_test, proba)
    proba_val = np.asarray(clf.predict_proba(x_val), dtype=np.float32)
    evaluation["val_accuracy"] = float((proba_val.argmax(axis=1) == y_val).mean())
    timings = {
        "eval_seconds": round(infer_seconds, 3),
        "inference_ms_per_image": round(1000.0 * infer_seconds / len(x_test), 4),
        "single_image_ms": latency.single_image_ms(clf, x_test),
    }
    return evaluation, proba, timings, proba_val


def _install_sigterm(watcher: _Watcher):
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, lambda *_: watcher.stop("stopped by a termination signal", 143))


def _restore_sigterm(previous) -> None:
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)
