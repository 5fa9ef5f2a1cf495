"""One answer for one photo: what every caller that answers for an upload gets (the API, the upload
card), so the check, the model, the calibration and the prediction set are decided in one place.

    got = answer.for_upload(raw, run_id, store, worker)        # /api/predict: got.to_json()
    got, shown = answer.explained(raw, run_id, store)           # the upload card: plus Grad-CAM

A photo in the dataset's own format (28×28, one grey channel) reaches the model unchanged; any other
photo is converted (core.data.upload). The familiarity check's reasons and the conversion's warnings
are kept apart: a person can act on a warning ("the item touches the edge"), not on unfamiliarity.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.data import CLASS_NAMES, upload
from core.evaluation import calibrated
from core.store import RunStore


@dataclass(frozen=True)
class Answer:
    run_id: str
    probabilities: np.ndarray  # calibrated on the run's validation photos where it has a calibration
    raw_probabilities: np.ndarray  # the model's own
    calibrated: bool
    prediction_set: list[str] | None  # classes holding the true one with `coverage`, most probable first
    coverage: float | None
    image: np.ndarray  # (28, 28) uint8, as the model sees it
    inverted: bool
    familiarity: dict[str, Any]
    warnings: list[str]  # what may make this photo's answer unreliable and a person can fix

    @property
    def predicted_class(self) -> str:
        return CLASS_NAMES[int(np.argmax(self.probabilities))]

    @property
    def confidence(self) -> float:
        return float(np.max(self.probabilities))

    def unfamiliar(self) -> list[str]:
        """The familiarity check's reasons, as sentences (empty for a familiar photo)."""
        if self.familiarity.get("familiar", True):
            return []
        return [
            f"This photo does not look like the Fashion-MNIST photos the model learned from: {reason}"
            for reason in self.familiarity.get("reasons") or []
        ]

    def to_json(self) -> dict[str, Any]:
        """The body of /api/predict."""
        return {
            "run": self.run_id,
            "predicted_class": self.predicted_class,
            # calibrated on the run's validation photos where it has a calibration (`calibrated`); the
            # model's own numbers stay under `raw_probabilities`
            "probabilities": _named(self.probabilities),
            "calibrated": self.calibrated,
            "raw_probabilities": _named(self.raw_probabilities),
            "prediction_set": self.prediction_set,
            "coverage": self.coverage,
            "inverted": self.inverted,
            "looks_like_fashion_mnist": bool(self.familiarity.get("familiar", True)),
            "familiarity": self.familiarity,
            # the familiarity check's reasons are warnings too: a client that reads only `warnings` sees them
            "warnings": list(self.warnings) + self.unfamiliar(),
        }


def _named(proba: np.ndarray) -> dict[str, float]:
    return {name: round(float(p), 6) for name, p in zip(CLASS_NAMES, proba, strict=True)}


def _answer(store: RunStore, run_id: str, proba: np.ndarray, processed: dict[str, Any]) -> Answer:
    said = calibrated.answer(store.get(run_id), np.asarray(proba))
    return Answer(
        run_id=run_id,
        probabilities=np.asarray(said["probabilities"]),
        raw_probabilities=np.asarray(said["raw"]),
        calibrated=bool(said["calibrated"]),
        prediction_set=said["prediction_set"],
        coverage=said["coverage"],
        image=processed["image"],
        inverted=bool(processed["inverted"]),
        familiarity=processed["familiarity"],
        warnings=list(processed["warnings"]),
    )


def for_upload(raw: bytes, run_id: str, store: RunStore, worker: Any = None) -> Answer:
    """A run's answer for upload bytes (raises UploadError, RunError, ValueError): by the prediction
    worker when one is given and up, else in this process (core.predict.worker)."""
    from core.predict import worker as prediction

    store.get(run_id)  # validates the id and that the run exists
    with upload.slot_for(raw):
        result = None
        if worker is not None:
            with contextlib.suppress(prediction.WorkerUnavailable):  # starting or restarting: answer here
                result = worker.predict_upload(raw, run_id)
        if result is None:
            result = prediction.predict_upload_here(raw, run_id, store)
    return _answer(store, run_id, result["probabilities"], result)


def explained(raw: bytes, run_id: str, store: RunStore) -> tuple[Answer, dict[str, Any]]:
    """The answer with its Grad-CAM and what the card shows beside it: (answer, {"heatmap",
    "target_class", "preview", "format", "original_size"}), in this process."""
    from core import explain

    with upload.slot_for(raw):
        processed = upload.preprocess(raw, preview=True)
        result = explain.explain_image(run_id, processed["image"], store=store)
    proba = np.array([result["probabilities"][name] for name in CLASS_NAMES])
    shown = {
        "heatmap": result["heatmap"],
        "target_class": result["target_class"],
        **{k: processed[k] for k in ("preview", "format", "original_size")},
    }
    return _answer(store, run_id, proba, processed), shown
