"""Plain-language readings of a run's numbers (overfitting, confusions) for non-experts.

Pure functions over history / metrics: nothing here is typed in, everything is computed.
"""

from __future__ import annotations

from typing import Any

RISE_TOLERANCE = 0.02  # validation loss must rise by more than 2 % above its best to count


def overfitting(history: list[dict[str, Any]]) -> dict[str, Any]:
    """Best validation epoch, the epochs where val loss rose while train loss fell, and a verdict.

    Returns {"best_epoch", "overfit_epochs": [epoch, ...], "overfitting": bool, "verdict": str}.
    """
    rows = [h for h in history if _finite(h.get("val_loss")) and _finite(h.get("loss"))]
    if not rows:
        return {"best_epoch": None, "overfit_epochs": [], "overfitting": False,
                "verdict": "No finished epoch yet."}
    best = min(rows, key=lambda h: h["val_loss"])
    threshold = best["val_loss"] * (1 + RISE_TOLERANCE)
    diverging = [cur["epoch"] for prev, cur in zip(rows, rows[1:])
                 if cur["val_loss"] > prev["val_loss"] and cur["loss"] < prev["loss"]
                 and cur["epoch"] > best["epoch"] and cur["val_loss"] > threshold]
    last = rows[-1]
    overfit = last["epoch"] > best["epoch"] and last["val_loss"] > threshold and last["loss"] < best["loss"]
    return {"best_epoch": best["epoch"], "overfit_epochs": diverging, "overfitting": overfit,
            "verdict": _verdict(rows, best, last, overfit)}


def _verdict(rows, best, last, overfit: bool) -> str:
    acc = f"{100 * best['val_accuracy']:.1f} %" if _finite(best.get("val_accuracy")) else "n/a"
    if len(rows) == 1:
        return f"After one epoch the model gets {acc} of the validation photos right."
    if overfit:
        return (f"The model started to memorise the training set after epoch {best['epoch']}: its training loss "
                f"kept falling ({best['loss']:.3f} → {last['loss']:.3f}) while the loss on unseen validation "
                f"photos rose ({best['val_loss']:.3f} → {last['val_loss']:.3f}). Epoch {best['epoch']} was its "
                f"best ({acc} right); early stopping would keep that one.")
    if best is last:
        return (f"Still improving at epoch {last['epoch']} ({acc} of validation photos right): "
                "more epochs would probably help.")
    return (f"Validation loss levelled off: best at epoch {best['epoch']} ({acc} right), "
            f"no clear memorising by epoch {last['epoch']}.")


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and value == value and value not in (float("inf"), float("-inf"))
