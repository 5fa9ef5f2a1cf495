"""Suspected label errors in the test set, by confident learning (cleanlab).

A photo is a suspect when the model's out-of-sample probabilities (the test set is never trained
on) put it confidently in another class than its label, by class-wise thresholds learned from the
whole confusion structure (cleanlab's `find_label_issues`), rather than every mistake made with
high confidence. Results are cached per predictions array (the run store keeps one per file version).
"""

from __future__ import annotations

import threading
import weakref

import numpy as np

FLAG_MARGIN = 0.01  # a model may question the labels only within 1 point of the best run's validation accuracy
_cache: dict[int, tuple[weakref.ref, np.ndarray]] = {}


def may_flag(val_accuracy: float | None, best_val_accuracy: float | None) -> bool:
    """Whether a model is accurate enough for its disagreements with the labels to be shown as flags:
    its validation accuracy at least the best ranked run's minus FLAG_MARGIN. A weak model disagrees
    with correct labels (a 75 % model "flagged" a plain sandal labelled Sandal)."""
    if val_accuracy is None or best_val_accuracy is None:
        return False
    return val_accuracy >= best_val_accuracy - FLAG_MARGIN - 1e-12


def flag_rule(best_name: str, best_val_accuracy: float) -> str:
    """The rule in words, naming the best run and its validation accuracy."""
    return (
        f"only a model within {100 * FLAG_MARGIN:.0f} point of the best run's validation accuracy "
        f"({best_name}, {100 * best_val_accuracy:.2f} %) may question the dataset's labels"
    )


_lock = threading.Lock()


def label_suspects(preds: dict[str, np.ndarray]) -> np.ndarray:
    """Test indices whose label is likely wrong, most suspicious first (ranked by self-confidence)."""
    proba = preds["proba"]
    with _lock:
        hit = _cache.get(id(proba))
        if hit is not None and hit[0]() is proba:
            return hit[1]
    from cleanlab.filter import find_label_issues

    probs = np.asarray(proba, dtype=np.float64)
    probs = probs / probs.sum(axis=1, keepdims=True)
    found = np.asarray(
        find_label_issues(
            np.asarray(preds["y_true"], dtype=np.int64),
            probs,
            return_indices_ranked_by="self_confidence",
            n_jobs=1,  # its default forks a process pool: a web server must never fork
        ),
        dtype=np.int64,
    )
    found.setflags(write=False)
    with _lock:
        if len(_cache) > 64:
            _cache.clear()
        _cache[id(proba)] = (weakref.ref(proba), found)
    return found


def suspects_table(preds: dict[str, np.ndarray]) -> list[dict]:
    """Every label suspect as a row (most suspicious first): test index, dataset label, the model's
    class, its confidence in that class, and the probability it gave the dataset label."""
    from core.data import CLASS_NAMES

    rows = []
    for rank, i in enumerate(label_suspects(preds).tolist(), start=1):
        label, said = int(preds["y_true"][i]), int(preds["y_pred"][i])
        rows.append(
            {
                "rank": rank,
                "test_index": int(i),
                "dataset_label": CLASS_NAMES[label],
                "model_says": CLASS_NAMES[said],
                "confidence": round(float(preds["proba"][i, said]), 4),
                "probability_of_label": round(float(preds["proba"][i, label]), 4),
            }
        )
    return rows
