"""Loading run models for inference, cached per process (one load per run and file version)."""

from __future__ import annotations

import threading

import numpy as np

from core.runs import RunStore

_cache: dict[tuple, object] = {}
_lock = threading.Lock()


def load_classifier(run_id: str, store: RunStore | None = None):
    """The fitted Classifier of a completed run (Keras: safe_mode; scikit-learn: checksum-verified)."""
    store = store or RunStore()
    path, artifact = store.model_file(run_id)
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    with _lock:
        if key not in _cache:
            if path.suffix == ".keras":
                from core.models import keras_model

                _cache[key] = keras_model.load(path)
            else:
                from core.models import sklearn_models

                _cache[key] = sklearn_models.load(path, artifact["sha256"])
        return _cache[key]


def predict_images(run_id: str, images_uint8: np.ndarray, store: RunStore | None = None) -> np.ndarray:
    """(N, 10) probabilities for uint8 (N, 28, 28) images with a run's model."""
    clf = load_classifier(run_id, store)
    return clf.predict_proba(clf.prepare(images_uint8))
