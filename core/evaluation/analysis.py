"""Plain-language readings of a run's numbers (overfitting, confusions) for non-experts.

Pure functions over history / metrics: nothing here is typed in, everything is computed.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

RISE_TOLERANCE = 0.02  # validation loss must rise by more than 2 % above its best to count
GAP_WARN = 0.05  # training accuracy this far above validation accuracy = memorising
GAP_MILD = 0.02  # a small, usual gap worth naming


def overfitting(history: list[dict[str, Any]], tta: bool = False) -> dict[str, Any]:
    """Best validation epoch, the epochs where val loss rose while train loss fell, and a verdict.

    Returns {"best_epoch", "overfit_epochs": [epoch, ...], "overfitting": bool, "gap": float | None,
    "verdict": str}. Overfitting is judged two ways: a validation loss rising while the training loss
    falls, and a gap of more than GAP_WARN between training and validation accuracy at the last epoch.
    """
    rows = [h for h in history if _finite(h.get("val_loss")) and _finite(h.get("loss"))]
    if not rows:
        return {"best_epoch": None, "overfit_epochs": [], "overfitting": False, "verdict": "No finished epoch yet."}
    best = min(rows, key=lambda h: h["val_loss"])
    threshold = best["val_loss"] * (1 + RISE_TOLERANCE)
    diverging = [
        cur["epoch"]
        for prev, cur in itertools.pairwise(rows)
        if cur["val_loss"] > prev["val_loss"]
        and cur["loss"] < prev["loss"]
        and cur["epoch"] > best["epoch"]
        and cur["val_loss"] > threshold
    ]
    last = rows[-1]
    rising = last["epoch"] > best["epoch"] and last["val_loss"] > threshold and last["loss"] < best["loss"]
    gap = accuracy_gap(last)
    main, gap_words = _verdict(rows, best, last, rising, tta), _gap_sentence(last, gap)
    return {
        "best_epoch": best["epoch"],
        "overfit_epochs": diverging,
        "overfitting": rising or (gap is not None and gap > GAP_WARN),
        "gap": gap,
        "shape": curve_shape(rows),
        "verdict": main + gap_words,
        "sentences": [t for t in (main, gap_words.strip()) if t],  # the verdict's parts, for callers that show one
    }


def accuracy_gap(row: dict[str, Any]) -> float | None:
    """Training minus validation accuracy of one epoch (None when either is missing)."""
    if _finite(row.get("accuracy")) and _finite(row.get("val_accuracy")):
        return float(row["accuracy"]) - float(row["val_accuracy"])
    return None


def _gap_sentence(last: dict[str, Any], gap: float | None) -> str:
    if gap is None:
        return ""
    train, val = 100 * last["accuracy"], 100 * last["val_accuracy"]
    if gap > GAP_WARN:
        return (
            f" It gets {train:.1f} % of its training photos right but only {val:.1f} % of unseen ones: a gap of "
            f"{100 * gap:.1f} points means it has learnt its training photos by heart rather than the general "
            "look of each item (more data, augmentation or dropout help)."
        )
    if gap > GAP_MILD:
        return f" Training {train:.1f} % vs validation {val:.1f} %: a small gap, usual for a model this size."
    return f" Training {train:.1f} % vs validation {val:.1f} %: no sign of learning the photos by heart."


def _verdict(rows, best, last, overfit: bool, tta: bool = False) -> str:
    scope = " without the test-time mirror" if tta else ""
    acc = f"{100 * best['val_accuracy']:.1f} %" if _finite(best.get("val_accuracy")) else "n/a"
    if len(rows) == 1:
        return f"After one epoch the model gets {acc} of the validation photos right{scope}."
    if overfit:
        return (
            f"The model started to memorise the training set after epoch {best['epoch']}: its training loss "
            f"kept falling ({best['loss']:.3f} → {last['loss']:.3f}) while the loss on unseen validation "
            f"photos rose ({best['val_loss']:.3f} → {last['val_loss']:.3f}). Epoch {best['epoch']} was its "
            f"best ({acc} right{scope}); early stopping would keep that one."
        )
    shape = curve_shape(rows)
    if shape["flat"]:
        low, high = shape["flat_range"]
        return (
            f"Flat for the last {shape['flat_for']} epochs (validation accuracy {100 * low:.2f}–{100 * high:.2f} %"
            f"{scope}): more epochs of this recipe would probably not help."
        )
    accs = [h for h in rows if _finite(h.get("val_accuracy"))]
    top = max(accs, key=lambda h: h["val_accuracy"]) if accs else best
    top_acc = f"{100 * top['val_accuracy']:.2f} %" if _finite(top.get("val_accuracy")) else "n/a"
    if shape["improving"]:
        over = f"the last {shape['window']} epochs" if shape["window"] < len(accs) else f"its {len(accs)} epochs"
        return (
            f"Still improving at epoch {last['epoch']}: validation accuracy rose "
            f"{100 * shape['rise']:.2f} points over {over}"
            + (", more than its epoch-to-epoch noise" if len(rows) >= SHORT_CURVE else "")
            + f" ({top_acc} right at best{scope}): more epochs would probably help."
        )
    first = accs[0] if accs else rows[0]
    return (
        f"Validation accuracy went from {100 * first.get('val_accuracy', 0):.2f} % at epoch {first['epoch']} to "
        f"{100 * last.get('val_accuracy', 0):.2f} % at epoch {last['epoch']} (best {top_acc} at epoch {top['epoch']}"
        f"{scope}); its last epochs neither clearly rose nor settled, so the curve cannot tell whether more "
        "epochs would help."
    )


SHORT_CURVE = 6  # epochs: below this, no slope-against-noise test
FLAT_SPAN = 0.003  # trailing epochs whose validation accuracy stays within 0.3 points count as flat


def curve_shape(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Is validation accuracy still rising at the end? The least-squares slope over the last quarter
    of the epochs (at least 3) is judged against its own standard error (one-sided, 5 %); `flat_for`
    counts the trailing epochs whose accuracy stays within FLAT_SPAN of each other, and the curve is
    `flat` when they are at least 3 and at least half that window (a late jump then a plateau is flat)."""
    import numpy as np
    from scipy import stats as sp

    accs = [float(h["val_accuracy"]) for h in rows if _finite(h.get("val_accuracy"))]
    window = max(3, len(accs) // 4)
    tail = accs[-window:]
    improving, rise = False, 0.0
    if len(accs) < SHORT_CURVE and len(tail) >= 2:
        # too few epochs for a slope's noise: improving when the last epoch is the best and the tail rose
        rise = tail[-1] - tail[0]
        improving = tail[-1] >= max(accs) and rise >= 0.001
    elif len(tail) >= 3:
        fit = sp.linregress(np.arange(len(tail)), tail)
        rise = float(fit.slope * (len(tail) - 1))
        improving = bool(fit.slope > 0 and fit.pvalue / 2 < 0.05 and rise >= 0.001)
    flat_for, low, high = 0, None, None
    for value in reversed(accs):
        lo, hi = min(value, low if low is not None else value), max(value, high if high is not None else value)
        if hi - lo > FLAT_SPAN:
            break
        flat_for, low, high = flat_for + 1, lo, hi
    flat = flat_for >= max(3, len(tail) // 2)
    return {
        "improving": improving and not flat,
        "flat": flat,
        "rise": rise,
        "window": len(tail),
        "flat_for": flat_for,
        "flat_range": (low, high),
    }


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and value == value and value not in (float("inf"), float("-inf"))


# Words for regions of an item (rows top->bottom, columns left->right), by kind of item.
_TOPS = (("collar and shoulders", "chest and sleeves", "lower body and hem"), ("left side", "middle", "right side"))
_REGION_WORDS = {
    "T-shirt/top": _TOPS,
    "Pullover": _TOPS,
    "Coat": _TOPS,
    "Shirt": _TOPS,
    "Dress": _TOPS,
    "Trouser": (("waistband", "legs", "ankles"), ("left leg", "gap between the legs", "right leg")),
    "Sandal": (("straps", "upper", "sole"), ("toe", "middle", "heel")),
    "Sneaker": (("opening and laces", "upper", "sole"), ("toe", "middle", "heel")),
    "Ankle boot": (("shaft", "upper", "sole"), ("toe", "middle", "heel")),
    "Bag": (("handle", "body", "base"), ("left side", "middle", "right side")),
}
OBJECT_THRESHOLD = 30  # uint8 pixels above this count as the item, the rest as background
BACKGROUND_MAJORITY = 0.5  # below this share of heat on the item, no part of the item is named


def describe_heatmap(heat: np.ndarray, image: np.ndarray, class_name: str) -> str:
    """A plain-language caption of where a (28, 28) heatmap in [0, 1] puts its weight on an image."""
    import numpy as np

    heat = np.asarray(heat, dtype=np.float64)
    total = heat.sum()
    if total <= 0:
        return f"Nothing in this photo pushed the model towards {class_name}: the heatmap is empty."
    mask = np.asarray(image) > OBJECT_THRESHOLD
    if not mask.any():
        return "The photo looks empty (no item found), so the heatmap cannot be read."
    on_item = float((heat * mask).sum() / total)
    if on_item < BACKGROUND_MAJORITY:
        return (
            f"Careful: the heatmap puts {100 * (1 - on_item):.0f} % of its weight on the background and only "
            f"{100 * on_item:.0f} % on the item, so it does not show which part of the {class_name} the model "
            "used; read it with care."
        )
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    r_edges = np.linspace(rows[0], rows[-1] + 1, 4).astype(int)
    c_edges = np.linspace(cols[0], cols[-1] + 1, 4).astype(int)
    cells = np.array(
        [[heat[r_edges[i] : r_edges[i + 1], c_edges[j] : c_edges[j + 1]].sum() for j in range(3)] for i in range(3)]
    )
    i, j = np.unravel_index(int(cells.argmax()), cells.shape)
    row_words, col_words = _REGION_WORDS.get(class_name, _TOPS)
    where = row_words[i] if j == 1 else f"{row_words[i]} ({col_words[j]})"
    return (
        f"For “{class_name}” the model looked mostly at the {where}; the heatmap puts {100 * on_item:.0f} % of "
        f"its weight on the item and {100 * (1 - on_item):.0f} % on the background."
    )
