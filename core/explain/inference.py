"""Loading run models for inference, cached per process (one load per run and file version)."""

from __future__ import annotations

import threading

import numpy as np

from core.models.base import Classifier
from core.store import DamagedRun, RunStore

_cache: dict[tuple, Classifier] = {}
_lock = threading.Lock()


def _reason(exc: BaseException) -> str:
    """One short line about a load failure, without the machine's paths."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = text.split(". ")[0][:200]
    words = [w if "/" not in w else "<file>" for w in text.split(" ")]
    return f"{exc.__class__.__name__}: {' '.join(words)}" if text else exc.__class__.__name__


def load_classifier(run_id: str, store: RunStore | None = None) -> Classifier:
    """The fitted Classifier of a completed run (Keras: safe_mode; scikit-learn: checksum-verified).

    DamagedRun when the file does not load (garbage, truncated, or asking to run code).
    """
    store = store or RunStore()
    record = store.get(run_id)
    if record.get("family") == "ensemble" and record.get("status") == "completed":
        from core.training.ensemble import EnsembleClassifier

        members = (record.get("config") or {}).get("members") or []
        return EnsembleClassifier([load_classifier(member, store) for member in members])  # type: ignore[return-value]
    path, artifact = store.model_file(run_id)
    stat = path.stat()
    tta = bool(((record.get("config") or {}).get("params") or {}).get("tta"))
    key = (str(path), stat.st_mtime_ns, stat.st_size, tta)
    with _lock:
        if key not in _cache:
            try:
                if path.suffix == ".keras":
                    from core.models import keras_model

                    _cache[key] = keras_model.load(path, tta=tta)  # predict as the run was evaluated
                else:
                    from core.models import sklearn_models

                    _cache[key] = sklearn_models.load(path, artifact.get("sha256"))
            except Exception as exc:
                reason = f"its model file {path.name} cannot be loaded ({_reason(exc)})"
                store.note_model_damage(run_id, reason)
                raise DamagedRun(f"run {run_id} is damaged: {reason}") from None
        return _cache[key]


def predict_images(run_id: str, images_uint8: np.ndarray, store: RunStore | None = None) -> np.ndarray:
    """(N, 10) probabilities for uint8 (N, 28, 28) images with a run's model."""
    clf = load_classifier(run_id, store)
    return clf.predict_proba(clf.prepare(images_uint8))
