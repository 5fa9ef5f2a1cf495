"""Logging a run from any script: the studio's run folder, written through core.store, for a model
trained anywhere (a notebook, PyTorch, JAX, scikit-learn, a paper's code).

    from core import tracking

    with tracking.start_run("my-resnet", params={"lr": 1e-3}, framework="pytorch") as run:
        for epoch in range(1, 11):
            ...
            run.log_epoch(epoch, loss=loss, val_accuracy=val_acc)
        run.log_validation(val_probabilities)   # optional: 12 000 x 10, the studio's validation photos
        run.log_predictions(test_probabilities)  # 10 000 x 10, the test photos in the dataset's order

The run is `running` (live on /train's replay and the leaderboard) while the block runs, holding the
store's liveness lock, so a script that dies leaves an `interrupted` run, never a half-written one.
Leaving the block with test predictions completes it (metrics, intervals, calibration when validation
probabilities were logged); with validation ones only, it ends `validated`; an exception ends it
`failed` with the exception's line. There is no module-global "active run": a server's threads could
share it, so a run is the object `start_run` yields.
"""

from __future__ import annotations

import contextlib
import platform
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from core import data
from core.data.dataset import N_TEST, N_VAL
from core.evaluation import calibrated, metrics
from core.store import RunError, RunStore, now_iso, validate_run_id
from core.tracking import arrays

STATUS_KINDS = ("script", "keras-callback", "import")


def _versions() -> dict[str, str]:
    """The frameworks this process has loaded (what trained the model), with their versions."""
    found = {"python": platform.python_version()}
    for name in ("torch", "jax", "tensorflow", "keras", "sklearn", "xgboost", "lightgbm", "numpy"):
        module = sys.modules.get(name)
        if module is not None and isinstance(getattr(module, "__version__", None), str):
            found[name] = module.__version__
    return found


class TrackedRun:
    """One run being logged. Made by `start_run`; not thread-safe (one script, one run)."""

    def __init__(self, store: RunStore, run_id: str, force: bool = False):
        self.store, self.run_id, self.force = store, run_id, force
        self.started = time.perf_counter()
        self._test: np.ndarray | None = None
        self._val: np.ndarray | None = None
        self._epochs = 0
        self.train_seconds: float | None = None  # a script may say how long it trained; else measured
        self.planned_epochs: int | None = None  # when known (the Keras callback knows), progress shows a fraction

    def log_epoch(self, epoch: int, **values: float) -> None:
        """One epoch's numbers (loss, accuracy, val_loss, val_accuracy, lr, … : finite numbers)."""
        if isinstance(epoch, bool) or not isinstance(epoch, int | np.integer) or epoch < 1:
            raise arrays.ImportRefused(f"epoch must be a whole number from 1, got {epoch!r}")
        row: dict[str, Any] = {"epoch": int(epoch)}
        for key, value in values.items():
            if isinstance(value, bool) or not isinstance(value, int | float | np.number) or not np.isfinite(value):
                raise arrays.ImportRefused(f"epoch {epoch}: {key} must be a finite number, got {value!r}")
            row[key] = float(value)
        row.setdefault("seconds", round(time.perf_counter() - self.started, 3))
        self.store.append_history(self.run_id, row)
        self._epochs = max(self._epochs, int(epoch))
        planned = self.planned_epochs
        progress: dict[str, Any] = {"stage": "training", "epoch": int(epoch), "message": f"epoch {epoch} logged"}
        if planned:
            progress |= {"epochs": int(planned), "batch": 1, "batches": 1}
        self.store.write_progress(self.run_id, progress)

    def log_predictions(self, values: Any, logits: bool = False) -> None:
        """The model's outputs on the 10 000 test photos, in the dataset's order ([0, 1] grey, 28x28)."""
        proba = arrays.probabilities(values, N_TEST, logits, "test predictions")
        problem = arrays.order_problem(proba, data.load().y_test)
        if problem and not self.force:
            raise arrays.ImportRefused(f"test predictions: {problem}")
        self._test = proba

    def log_validation(self, values: Any, logits: bool = False) -> None:
        """The model's outputs on the studio's 12 000 validation photos (`core.data.split_indices(42)[1]`,
        in that order): its validation score, and what its calibration is fitted on."""
        proba = arrays.probabilities(values, N_VAL, logits, "validation predictions")
        _train, rows = data.split_indices(data.DEFAULT_SEED)
        problem = arrays.order_problem(proba, data.load().y_train[rows], "validation photos")
        if problem and not self.force:
            raise arrays.ImportRefused(f"validation predictions: {problem}")
        self._val = proba

    def _finish(self) -> None:
        _train, rows = data.split_indices(data.DEFAULT_SEED)
        y_val = data.load().y_train[rows]
        seconds = self.train_seconds
        timings = {"train_seconds": round(float(seconds), 3)} if seconds is not None else {}
        fields: dict[str, Any] = {"finished_at": now_iso(), "epochs_run": self._epochs or None, "timings": timings}
        if self._val is not None:
            self.store.save_validation(self.run_id, rows, y_val, self._val)
        val_accuracy = None if self._val is None else float((self._val.argmax(axis=1) == y_val).mean())
        if self._test is None:
            if self._val is None:
                raise arrays.ImportRefused("no test predictions were logged (run.log_predictions), so nothing to judge")
            self.store.update(
                self.run_id,
                status="validated",
                validation={"val_accuracy": val_accuracy, "n_val": len(y_val)},
                evaluation={"test_set": "not used (logged with validation predictions only)"},
                **fields,
            )
            return
        y_test = data.load().y_test
        evaluation = metrics.evaluate(y_test, self._test)
        if val_accuracy is not None:
            evaluation["val_accuracy"] = val_accuracy
        self.store.save_predictions(self.run_id, y_test, self._test)
        self.store.update(
            self.run_id,
            status="completed",
            metrics=evaluation,
            evaluation={"test_set": "the model's own test probabilities, logged by its script"},
            **fields,
        )
        if self._val is not None:
            calibrated.calibrate_finished(self.store, self.run_id)

    def attach_model(self, path: str | Path) -> dict[str, Any]:
        """Keep a Keras model file with the run (it is loaded with safe mode first: a file that would run
        code, or whose input is not 28x28x1 with 10 outputs, is refused), so Grad-CAM, occlusion and
        uploads work for it."""
        from core.tracking import keras_file

        artifact = keras_file.install(Path(path), self.store.path(self.run_id) / "model.keras")
        self.store.update(self.run_id, artifact=artifact, family="deep")
        return artifact


@contextlib.contextmanager
def start_run(
    name: str,
    params: dict[str, Any] | None = None,
    store: RunStore | None = None,
    framework: str | None = None,
    label: str | None = None,
    kind: str = "script",
    n_train: int | None = None,
    force: bool = False,
    group: str | None = None,
    seed: int | None = None,
) -> Iterator[TrackedRun]:
    """Open run `name` (a new run id: letters, digits, '-', '_'), yield it, and finish it (see module doc)."""
    store = store or RunStore()
    run_id = validate_run_id(name)
    if kind not in STATUS_KINDS:
        raise arrays.ImportRefused(f"kind must be one of {', '.join(STATUS_KINDS)}")
    if store.exists(run_id) or store.path(run_id).exists():
        raise RunError(f"run {run_id} already exists; choose another name")
    clean = {str(k): v for k, v in (params or {}).items() if isinstance(v, str | int | float | bool) or v is None}
    record = {
        "model": "imported",
        "label": (label or "Imported model")[:80],
        "family": "imported",
        "config": {"model": "imported", "params": clean},
        "source": {"kind": kind, "framework": (framework or "")[:60] or None, "versions": _versions()},
        "produced_by": {"command": " ".join(sys.argv)[:500], "tracked": True},
        "host": platform.node(),
        "data": {"n_train": n_train, "n_val": N_VAL, "n_test": N_TEST},
        "started_at": now_iso(),
    }
    if group:  # runs of one recipe over seeds: the leaderboard's "one row per seed group" folds them
        record["group"] = {"id": validate_run_id(group, "group name"), "seed": seed}
    with store.open_run(run_id, record):
        run = TrackedRun(store, run_id, force)
        try:
            yield run
            if run.train_seconds is None and kind != "import":
                run.train_seconds = time.perf_counter() - run.started
            run._finish()
        except BaseException as exc:
            status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            with contextlib.suppress(RunError, OSError):
                store.update(run_id, status=status, error=f"{type(exc).__name__}: {exc}"[:500], finished_at=now_iso())
            raise
