"""The schema of `run.json` (pydantic) and the checks of a run's files.

Reading a run validates it here; a run that does not match becomes `damaged` with a one-line
reason instead of raising in a page. The record stays a plain dict for its readers: the schema
guarantees what they index (a `completed` run has finite metrics in [0, 1], ten per-class rows,
a 10×10 confusion matrix), and unknown extra fields are kept, so older and newer writers coexist.

Schema versions: 1 is the first and current layout. A record without `schema` is read as 1; a
record from a newer version than this code knows is damaged ("written by a newer version").
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

SCHEMA_VERSION = 1
# `validated`: a tuning trial, scored on the validation split only (the test set is kept for the
# promoted run); `pruned`: a trial stopped early by the study's pruner (its curves are kept).
STATUSES = ("queued", "running", "completed", "validated", "failed", "interrupted", "pruned")
DAMAGED = "damaged"  # derived on read, never written: the run does not match the contract
N_TEST = 10_000
N_CLASSES = 10
MODEL_FILES = ("model.keras", "model.joblib", "model.skops")
# sha256 of the decompressed t10k-labels IDX file: predictions must carry y_true in test-set order
TEST_LABELS_SHA256 = "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"
_IDX_LABEL_HEADER = b"\x00\x00\x08\x01" + N_TEST.to_bytes(4, "big")

Fraction = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False, strict=True)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
Count = Annotated[int, Field(ge=0, strict=True)]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class ClassScores(_Open):
    class_name: str = Field(alias="class")
    precision: Fraction
    recall: Fraction
    f1: Fraction
    support: Count


class Metrics(_Open):
    test_accuracy: Fraction
    macro_f1: Fraction
    weighted_f1: Fraction | None = None
    val_accuracy: Fraction | None = None
    log_loss: Annotated[float, Field(ge=0.0, allow_inf_nan=False)] | None = None
    per_class: list[ClassScores] = Field(min_length=N_CLASSES, max_length=N_CLASSES)
    confusion_matrix: list[Annotated[list[Count], Field(min_length=N_CLASSES, max_length=N_CLASSES)]] = Field(
        min_length=N_CLASSES, max_length=N_CLASSES
    )

    @model_validator(mode="after")
    def _matrix_counts_the_test_set(self) -> Metrics:
        total = sum(map(sum, self.confusion_matrix))
        if total != N_TEST:
            raise ValueError(f"confusion matrix counts {total} photos, not the {N_TEST:,} test photos")
        return self


class Artifact(_Open):
    file: Literal["model.keras", "model.joblib", "model.skops"]
    bytes: Count | None = None
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None
    params: Count | None = None


class Timings(_Open):
    train_seconds: Annotated[float, Field(ge=0.0, allow_inf_nan=False)] | None = None
    eval_seconds: Annotated[float, Field(ge=0.0, allow_inf_nan=False)] | None = None
    inference_ms_per_image: Annotated[float, Field(ge=0.0, allow_inf_nan=False)] | None = None
    single_image_ms: Annotated[float, Field(ge=0.0, allow_inf_nan=False)] | None = None


class RunRecord(_Open):
    schema_version: int = Field(default=1, alias="schema", ge=1)
    run_id: str
    status: Literal["queued", "running", "completed", "validated", "failed", "interrupted", "pruned"]
    model: str
    label: str | None = None
    name: str | None = None  # a person's display name for the run (RunStore.rename)
    family: Literal["deep", "classic", "ensemble", "imported"] | None = None
    created_at: str
    config: dict[str, Any] | None = None
    metrics: Metrics | None = None
    artifact: Artifact | None = None
    timings: Timings | None = None
    error: str | None = None

    @model_validator(mode="after")
    def _completed_runs_have_results(self) -> RunRecord:
        if self.schema_version > SCHEMA_VERSION:
            raise ValueError(
                f"written by a newer version of the studio (schema {self.schema_version}, this "
                f"code reads up to {SCHEMA_VERSION}); update the code"
            )
        if self.status == "completed" and self.metrics is None:
            raise ValueError("status is completed but the record has no metrics")
        if self.status == "completed" and self.family == "deep" and self.artifact is None:
            raise ValueError("a completed deep-learning run must name its model file")
        return self


def _describe(error: ValidationError) -> str:
    first = error.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    extra = f" (and {error.error_count() - 1} more problems)" if error.error_count() > 1 else ""
    return f"run.json: {where + ': ' if where else ''}{message}{extra}"


def record_problem(record: Any) -> str | None:
    """None when `record` (parsed run.json) matches the schema, else a one-line reason."""
    if not isinstance(record, dict):
        return "run.json does not hold a JSON object"
    try:
        RunRecord.model_validate(record)
    except ValidationError as exc:
        return _describe(exc)
    return None


def _npy_header(archive: zipfile.ZipFile, name: str) -> tuple[tuple[int, ...], np.dtype]:
    with archive.open(f"{name}.npy") as member:
        version = np.lib.format.read_magic(member)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _fortran, dtype = read(member)
    return shape, dtype


def predictions_problem(path: Path) -> str | None:
    """A cheap structural check of predictions.npz (headers and the small y_true array only).

    None when it holds y_true/y_pred (10 000,) integers in test-set order and proba (10 000, 10).
    """
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            missing = [n for n in ("y_true", "y_pred", "proba") if f"{n}.npy" not in names]
            if missing:
                return f"predictions.npz has no {', '.join(missing)}"
            for name, shape in (("y_true", (N_TEST,)), ("y_pred", (N_TEST,)), ("proba", (N_TEST, N_CLASSES))):
                found, dtype = _npy_header(archive, name)
                if found != shape:
                    return f"predictions.npz: {name} has shape {found}, expected {shape} (the {N_TEST:,} test photos)"
                if dtype.hasobject:
                    return f"predictions.npz: {name} holds Python objects"
            with archive.open("y_true.npy") as member:
                y_true = np.lib.format.read_array(member, allow_pickle=False)
    except FileNotFoundError:
        return "predictions.npz is missing"
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        return f"predictions.npz cannot be read ({exc.__class__.__name__})"
    return labels_problem(y_true)


def labels_problem(y_true: np.ndarray) -> str | None:
    if not np.issubdtype(y_true.dtype, np.integer) or y_true.min() < 0 or y_true.max() >= N_CLASSES:
        return "predictions.npz: y_true is not a list of class numbers 0-9"
    digest = hashlib.sha256(_IDX_LABEL_HEADER + y_true.astype(np.uint8).tobytes()).hexdigest()
    if digest != TEST_LABELS_SHA256:
        return "predictions.npz: y_true is not the official test labels in test-set order"
    return None


def arrays_problem(arrays: dict[str, np.ndarray]) -> str | None:
    """The full check of loaded predictions (values, not just shapes)."""
    proba = arrays["proba"]
    if arrays["y_true"].shape != (N_TEST,) or arrays["y_pred"].shape != (N_TEST,) or proba.shape != (N_TEST, N_CLASSES):
        return "predictions.npz: arrays of the wrong shape"
    problem = labels_problem(arrays["y_true"])
    if problem:
        return problem
    if not np.issubdtype(proba.dtype, np.floating) or not np.isfinite(proba).all() or (proba < 0).any():
        return "predictions.npz: proba holds values that are not probabilities"
    if not np.array_equal(arrays["y_pred"].astype(np.int64), proba.argmax(axis=1)):
        return "predictions.npz: y_pred is not the arg-max of proba"
    return None


def run_summary(record: dict[str, Any]) -> dict[str, Any]:
    """The short form of a run record used by listings and the /api/runs endpoint."""
    usable = record.get("status") == "completed"
    m = (record.get("metrics") or {}) if usable else {}
    produced_by = record.get("produced_by")
    validation = record.get("validation") if isinstance(record.get("validation"), dict) else None
    timings: dict[str, Any] = record["timings"] if isinstance(record.get("timings"), dict) else {}
    summary = {
        "run_id": record["run_id"],
        "model": record.get("model"),
        "label": record.get("label"),
        "name": record.get("name"),
        "family": record.get("family"),
        "status": record.get("status"),
        "created_at": record.get("created_at"),
        "finished_at": record.get("finished_at"),
        "test_accuracy": m.get("test_accuracy"),
        "test_accuracy_ci95": m.get("test_accuracy_ci95"),
        "macro_f1": m.get("macro_f1"),
        # validation accuracy: a completed run's, or a tuning trial's / ablation run's only score
        "val_accuracy": m.get("val_accuracy") if usable else (validation or {}).get("val_accuracy"),
        "n_train": (record.get("data") or {}).get("n_train") if isinstance(record.get("data"), dict) else None,
        "config": record.get("config") if isinstance(record.get("config"), dict) else None,
        "train_seconds": timings.get("train_seconds"),
        "inference_ms_per_image": timings.get("inference_ms_per_image"),
        # a committed reference run: made by `core reference`, or a run of a committed reference study
        # (ref-*; the store refuses to delete those without --force)
        "reference": bool(
            (isinstance(produced_by, dict) and produced_by.get("reference"))
            or str(record.get("run_id", "")).startswith("ref-")
        ),
        "preset": record.get("preset") or (produced_by.get("preset") if isinstance(produced_by, dict) else None),
    }
    if record.get("status") == DAMAGED:
        summary["damage"] = record.get("damage")
    return summary


def listed_record(summary: dict[str, Any]) -> dict[str, Any]:
    """A run summary (an index row) in the shape of the record it came from, holding only what the
    summary keeps (id, names, preset, status, dates, training photos, test accuracy with its interval,
    macro-F1, training seconds): what rankings and counts read, without opening run.json."""
    return {
        "run_id": summary["run_id"],
        "model": summary.get("model"),
        "label": summary.get("label"),
        "name": summary.get("name"),
        "family": summary.get("family"),
        "preset": summary.get("preset"),
        "status": summary.get("status"),
        "created_at": summary.get("created_at"),
        "finished_at": summary.get("finished_at"),
        "data": {"n_train": summary.get("n_train")},
        "metrics": {
            "test_accuracy": summary.get("test_accuracy"),
            "test_accuracy_ci95": summary.get("test_accuracy_ci95"),
            "macro_f1": summary.get("macro_f1"),
        },
        "timings": {"train_seconds": summary.get("train_seconds")},
        "listed": True,  # not the whole record: open it with RunStore.get for anything else
    }
