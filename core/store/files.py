"""The file half of the run store: predictions and model files, checked as they are read.

A mixin of RunStore (which provides `path`, `exists`, `get` and the caches); see core/runs.py.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from core.store.errors import DamagedRun, NoModel, UnknownRun
from core.store.record import DAMAGED, MODEL_FILES, arrays_problem, predictions_problem


def _stat_key(path: Path) -> tuple | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)


def rebuild_estimate_seconds(record: dict[str, Any]) -> int:
    """What rebuilding a run's model file takes: its recorded training and scoring time plus loading the
    data, rounded up to 5 s. The one estimate the CLI, the leaderboard button and the API all show."""
    timings = record.get("timings") or {}
    seconds = float(timings.get("train_seconds") or 60) + float(timings.get("eval_seconds") or 0) + 10
    return int(5 * -(-seconds // 5))


class RunFiles:
    """predictions(), model_file() and the cheap file checks behind get()."""

    _prediction_cache: dict[str, tuple[tuple, dict[str, np.ndarray]]]
    _files_cache: dict[str, tuple[tuple, str | None]]
    _model_damage: dict[str, tuple[tuple | None, str]]

    def path(self, run_id: str) -> Path:  # overridden by RunStore
        raise UnknownRun(run_id)

    def exists(self, run_id: str) -> bool:  # overridden by RunStore
        return False

    def get(self, run_id: str) -> dict[str, Any]:  # overridden by RunStore
        raise UnknownRun(run_id)

    def _validated_record(self, run_id: str) -> tuple[dict[str, Any], str | None]:  # overridden by RunStore
        raise UnknownRun(run_id)

    def note_model_damage(self, run_id: str, reason: str) -> None:
        """Remember that this run's model file failed to load (until the file changes), so every
        later read reports the run as damaged, not only the page that tried to load it."""
        artifact = self._validated_record(run_id)[0].get("artifact") or {}
        model = self.path(run_id) / str(artifact.get("file", "model.keras"))
        self._model_damage[run_id] = (_stat_key(model), reason)

    def _files_problem(self, record: dict[str, Any]) -> str | None:
        """Cheap checks of a completed run's files (cached per file version)."""
        if record.get("status") != "completed":
            return None
        folder = self.path(record["run_id"])
        artifact = record.get("artifact") or {}
        model = folder / str(artifact.get("file", "model.keras"))
        if record.get("family") == "deep" and not model.is_file():
            return f"its model file {model.name} is missing"
        noted = self._model_damage.get(record["run_id"])
        if noted and noted[0] == _stat_key(model):
            return noted[1]
        file = folder / "predictions.npz"
        try:
            stat = file.stat()
        except FileNotFoundError:
            return "predictions.npz is missing"
        key = (stat.st_mtime_ns, stat.st_size)
        cached = self._files_cache.get(record["run_id"])
        if cached and cached[0] == key:
            return cached[1]
        problem = predictions_problem(file)
        self._files_cache[record["run_id"]] = (key, problem)
        return problem

    def predictions(self, run_id: str) -> dict[str, np.ndarray]:
        """{y_true, y_pred, proba} of a completed run, fully checked (cached per file version).

        DamagedRun when the file does not hold the 10 000 test predictions in test-set order.
        """
        file = self.path(run_id) / "predictions.npz"
        try:
            stat = file.stat()
        except FileNotFoundError:
            if not self.exists(run_id):
                raise UnknownRun(f"no run named {run_id}") from None
            raise NoModel(f"run {run_id} has no predictions (not completed?)") from None
        key = (stat.st_mtime_ns, stat.st_size)
        cached = self._prediction_cache.get(run_id)
        if cached and cached[0] == key:
            return cached[1]
        try:
            with np.load(file, allow_pickle=False) as saved:
                arrays = {name: saved[name] for name in ("y_true", "y_pred", "proba")}
        except KeyError as exc:
            raise DamagedRun(f"run {run_id} is damaged: predictions.npz has no {exc.args[0]}") from None
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            raise DamagedRun(
                f"run {run_id} is damaged: predictions.npz cannot be read ({exc.__class__.__name__})"
            ) from None
        problem = arrays_problem(arrays)
        if problem:
            raise DamagedRun(f"run {run_id} is damaged: {problem}")
        for array in arrays.values():
            array.setflags(write=False)
        self._prediction_cache[run_id] = (key, arrays)
        return arrays

    def model_file(self, run_id: str) -> tuple[Path, dict[str, Any]]:
        """(path, artifact record) of a completed run's model file; UnknownRun when it has none."""
        record = self.get(run_id)
        if record["status"] == DAMAGED:
            raise DamagedRun(f"run {run_id} is damaged: {record['damage']}")
        artifact = record.get("artifact") or {}
        name = artifact.get("file")
        if record.get("status") != "completed" or name not in MODEL_FILES:
            if isinstance(record.get("source"), dict):  # imported or logged from a script without a model file
                raise NoModel(
                    f"run {run_id} was imported without a Keras model file, so it cannot answer new photos "
                    "(import it again with --model model.keras)"
                )
            raise NoModel(f"run {run_id} has no saved model")
        path = self.path(run_id) / name
        if not path.is_file():
            raise NoModel(
                f"run {run_id} keeps only its predictions ({name} is not in this checkout); "
                f"rebuild it with `python -m core rebuild {run_id}` (about {rebuild_estimate_seconds(record)} s)"
            )
        return path, artifact

    def save_validation(self, run_id: str, rows: np.ndarray, y_true: np.ndarray, proba: np.ndarray) -> None:
        """A run's probabilities on its validation photos (`rows` of the training file, in order):
        what calibration and conformal sets are fitted on, never the test photos."""
        from core.store import atomic

        proba = np.asarray(proba, dtype=np.float32)
        if proba.ndim != 2 or proba.shape != (len(rows), 10) or len(y_true) != len(rows):
            raise ValueError(f"validation probabilities must be {len(rows)} × 10, got {proba.shape}")
        if not np.isfinite(proba).all():
            raise ValueError("validation probabilities must be finite")
        arrays = {
            "rows": np.asarray(rows, dtype=np.int32),
            "y_true": np.asarray(y_true, dtype=np.uint8),
            "proba": proba,
        }
        atomic.write_with(self.path(run_id) / "validation.npz", lambda buf: np.savez_compressed(buf, **arrays))  # type: ignore[arg-type]

    def validation(self, run_id: str) -> dict[str, np.ndarray] | None:
        """{rows, y_true, proba} on the run's validation photos, or None when not kept (or unreadable)."""
        file = self.path(run_id) / "validation.npz"
        try:
            with np.load(file, allow_pickle=False) as saved:
                arrays = {k: saved[k] for k in ("rows", "y_true", "proba")}
        except (OSError, KeyError, ValueError, zipfile.BadZipFile):
            return None
        n = len(arrays["rows"])
        if arrays["proba"].shape != (n, 10) or len(arrays["y_true"]) != n or not np.isfinite(arrays["proba"]).all():
            return None
        return arrays
