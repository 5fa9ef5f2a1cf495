"""Knowledge distillation: a student network learns from the labels and from a teacher run's
probabilities (any completed run, an ensemble included), softened by a temperature.

The teacher's probabilities on the training and validation photos are computed once and cached in
`artifacts/cache/` (per teacher model version and photo selection), so several students, or the
seeds of one, pay for the teacher once. Loss = (1 - weight) x cross-entropy with the labels +
weight x T^2 x KL(teacher_T || student_T), where p_T is p^(1/T), renormalised (Hinton et al. 2015).
"""

from __future__ import annotations

import numpy as np

from core.models.rules import ConfigError
from core.store import RunError, RunStore


def check_teacher(teacher: str, store: RunStore) -> dict:
    """The teacher's record when it can teach (a completed run whose models are here), else ConfigError."""
    try:
        record = store.usable(teacher)
    except RunError as exc:
        raise ConfigError(f"teacher {teacher} cannot teach: {exc}", field="teacher") from None
    return record


def soften(proba: np.ndarray, temperature: float) -> np.ndarray:
    """p^(1/T), renormalised: the softmax of the logits divided by T."""
    logp = np.log(np.clip(np.asarray(proba, dtype=np.float64), 1e-12, 1.0)) / temperature
    logp -= logp.max(axis=1, keepdims=True)
    out = np.exp(logp)
    return (out / out.sum(axis=1, keepdims=True)).astype(np.float32)


def teacher_probabilities(teacher: str, indices: np.ndarray, store: RunStore) -> np.ndarray:
    """The teacher's probabilities on these training-set photos (cached per teacher model version)."""
    from core.models.loading import training_photo_probabilities

    record = check_teacher(teacher, store)
    version = (record.get("artifact") or {}).get("sha256") or str(record.get("finished_at"))
    return training_photo_probabilities(teacher, indices, store, version, "teacher")
