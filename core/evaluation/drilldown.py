"""From a run's predictions to the exact test images behind each number.

Confusion-matrix cells, the classification report, the most confident mistakes, where two runs
disagree, and plain-language sentences about the biggest confusions. All computed from
`predictions.npz` (test-set order), so every index is a real test image.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.data import CLASS_NAMES, NUM_CLASSES


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """(10, 10) counts: row = true class, column = predicted class."""
    matrix = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=np.int64)
    np.add.at(matrix, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    return matrix


def row_normalised(matrix: np.ndarray) -> np.ndarray:
    """Each row divided by its total (share of a true class predicted as each class)."""
    totals = matrix.sum(axis=1, keepdims=True)
    return np.divide(matrix, totals, out=np.zeros(matrix.shape, dtype=np.float64), where=totals > 0)


def cell_indices(preds: dict[str, np.ndarray], true_class: int, pred_class: int) -> np.ndarray:
    """Test indices with this true and predicted class, most confident prediction first."""
    y_true, y_pred, proba = preds["y_true"], preds["y_pred"], preds["proba"]
    idx = np.flatnonzero((y_true == true_class) & (y_pred == pred_class))
    confidence = proba[idx, pred_class]
    return idx[np.lexsort((idx, -confidence))]  # ties: lower index first, so the order is stable


def top_k(proba_row: np.ndarray, k: int = 3) -> list[tuple[int, float]]:
    """The k most probable classes of one image as (class, probability), best first."""
    order = np.argsort(-proba_row, kind="stable")[:k]
    return [(int(c), float(proba_row[c])) for c in order]


def classification_report(y_true: np.ndarray, y_pred: np.ndarray) -> list[dict[str, Any]]:
    """Per-class precision/recall/F1/support plus accuracy, macro and weighted averages; each class's
    recall and the accuracy carry their 95 % Wilson interval (`recall_ci95`, `ci95`).

    The same numbers as scikit-learn's `classification_report` (zero_division=0; the test checks
    it), computed from the confusion matrix in numpy: a page render needs it in microseconds.
    """
    matrix = confusion_matrix(y_true, y_pred).astype(np.float64)
    hits, support, predicted = np.diag(matrix), matrix.sum(axis=1), matrix.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, hits / predicted, 0.0)
        recall = np.where(support > 0, hits / support, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    from core.evaluation.stats import wilson

    rows = [
        {
            "class": name,
            "precision": float(p),
            "recall": float(r),
            "f1-score": float(f),
            "support": int(n),
            "recall_ci95": list(wilson(int(h), int(n))),
        }
        for name, p, r, f, n, h in zip(CLASS_NAMES, precision, recall, f1, support, hits, strict=True)
    ]
    total = support.sum()
    weights = support / total if total else np.zeros_like(support)
    for avg, w in (("macro avg", np.full(NUM_CLASSES, 1.0 / NUM_CLASSES)), ("weighted avg", weights)):
        rows.append(
            {
                "class": avg,
                "precision": float(w @ precision),
                "recall": float(w @ recall),
                "f1-score": float(w @ f1),
                "support": int(total),
            }
        )
    rows.append(
        {
            "class": "accuracy",
            "precision": None,
            "recall": None,
            "f1-score": float(hits.sum() / total) if total else 0.0,
            "support": len(y_true),
            "ci95": list(wilson(int(hits.sum()), int(total))),
        }
    )
    return rows


def confident_mistakes(preds: dict[str, np.ndarray], n: int = 24) -> np.ndarray:
    """Wrong predictions the model was most sure of (candidates for label errors), most sure first."""
    wrong = np.flatnonzero(preds["y_pred"] != preds["y_true"])
    confidence = preds["proba"][wrong, preds["y_pred"][wrong]]
    return wrong[np.lexsort((wrong, -confidence))][:n]


def disagreements(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, Any]:
    """Where two runs predict differently: indices by who was right, and the counts."""
    if not np.array_equal(a["y_true"], b["y_true"]):
        raise ValueError("the two runs were not evaluated on the same test set")
    differ = a["y_pred"] != b["y_pred"]
    a_right = differ & (a["y_pred"] == a["y_true"])
    b_right = differ & (b["y_pred"] == b["y_true"])
    neither = differ & ~a_right & ~b_right
    return {
        "a_right": np.flatnonzero(a_right),
        "b_right": np.flatnonzero(b_right),
        "neither": np.flatnonzero(neither),
        "total": int(differ.sum()),
        "counts": {"a_right": int(a_right.sum()), "b_right": int(b_right.sum()), "neither": int(neither.sum())},
    }


def top_confusions(matrix: np.ndarray, n: int = 3) -> list[tuple[int, int, int]]:
    """The n largest off-diagonal cells as (true class, predicted class, count)."""
    off = matrix.copy()
    np.fill_diagonal(off, -1)
    flat = np.argsort(-off, axis=None, kind="stable")[:n]
    return [(int(i // NUM_CLASSES), int(i % NUM_CLASSES), int(off.flat[i])) for i in flat if off.flat[i] > 0]


def summary_sentences(preds: dict[str, np.ndarray]) -> list[str]:
    """Plain-language findings for people who do not read confusion matrices."""
    matrix = confusion_matrix(preds["y_true"], preds["y_pred"])
    recall = np.diag(matrix) / np.maximum(matrix.sum(axis=1), 1)
    total = int(matrix.sum())
    correct = int(np.trace(matrix))
    sentences = [f"The model gets {correct:,} of {total:,} test photos right ({100 * correct / total:.1f} %)."]
    for true_c, pred_c, count in top_confusions(matrix, 2):
        share = 100 * count / max(matrix[true_c].sum(), 1)
        wrong = matrix[true_c].copy()
        wrong[true_c] = -1
        # "most often" only when no other wrong answer for this class is as common
        most = int(np.argmax(wrong)) == pred_c and int((wrong == wrong[pred_c]).sum()) == 1
        how = "is most often mistaken for" if most else "is also mistaken for"
        sentences.append(
            f"{CLASS_NAMES[true_c]} {how} {CLASS_NAMES[pred_c]}: {count} times ({share:.1f} % of all "
            f"{CLASS_NAMES[true_c]} photos)."
        )
    best, worst = int(np.argmax(recall)), int(np.argmin(recall))
    sentences.append(
        f"Easiest class: {CLASS_NAMES[best]} ({100 * recall[best]:.1f} % found). Hardest: "
        f"{CLASS_NAMES[worst]} ({100 * recall[worst]:.1f} % found)."
    )
    return sentences
