"""Evaluation metrics computed from predictions (scikit-learn), stored in run.json."""

from __future__ import annotations

import numpy as np

from core.data import CLASS_NAMES, NUM_CLASSES


def evaluate(y_true: np.ndarray, proba: np.ndarray) -> dict:
    """Accuracy, macro/weighted F1, per-class P/R/F1/support, confusion matrix, log-loss, and the 95 %
    Wilson intervals of the accuracy and of each class's recall (core.evaluation.stats).

    The predicted class is the arg-max of `proba` (what predictions.npz stores as y_pred).
    """
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, log_loss, precision_recall_fscore_support

    labels = np.arange(NUM_CLASSES)
    proba = np.asarray(proba, dtype=np.float64)
    y_pred = proba.argmax(axis=1)
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    from core.evaluation.stats import with_intervals

    return with_intervals(
        {
            "test_accuracy": float(accuracy_score(y_true, y_pred)),
            "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
            "weighted_f1": float(f1_score(y_true, y_pred, labels=labels, average="weighted", zero_division=0)),
            "log_loss": float(log_loss(y_true, proba / proba.sum(axis=1, keepdims=True), labels=labels)),
            "per_class": [
                {"class": name, "precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
                for name, p, r, f, s in zip(CLASS_NAMES, precision, recall, f1, support, strict=True)
            ],
            "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        }
    )


def worst_class(metrics: dict) -> tuple[str, float]:
    """(class name, F1) of the class with the lowest F1."""
    row = min(metrics["per_class"], key=lambda r: r["f1"])
    return row["class"], row["f1"]
