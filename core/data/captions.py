"""The sentences under the /data page's figures, built from the dataset's measured statistics (each
claim is checked against the numbers it states: a class balance is called equal only when it is)."""

from __future__ import annotations

from typing import Any

import numpy as np

from core.data.dataset import CLASS_NAMES

SPLITS = (("train", "training"), ("val", "validation"), ("test", "test"))


def balance_caption(counts: dict[str, dict[str, int]]) -> str:
    """counts: split ("train", "val", "test") -> class name -> photos."""
    parts = []
    balanced = True
    for split, label in SPLITS:
        values = set(counts[split].values())
        balanced = balanced and len(values) == 1
        per = f"{next(iter(values)):,} per class" if len(values) == 1 else "unequal counts"
        parts.append(f"{sum(counts[split].values()):,} {label} photos ({per})")
    lead = (
        "Every class is equally common, so accuracy is a fair summary and guessing gets 10 %. "
        if balanced
        else "The classes are not equally common here, so look at each class's recall, not only accuracy. "
    )
    return lead + "; ".join(parts) + "."


def meanstd_caption(stds: np.ndarray) -> str:
    """stds: (10, 28, 28) per-class pixel standard deviations of the training photos."""
    spread = stds.mean(axis=(1, 2))
    order = spread.argsort()
    return (
        "Top: the average of all training photos of a class. Bottom: where photos of that class differ "
        f"most (bright = varies a lot). The most uniform class is {CLASS_NAMES[order[0]]} (average spread "
        f"{spread[order[0]]:.0f}); the most varied is {CLASS_NAMES[order[-1]]} ({spread[order[-1]]:.0f})."
    )


def pixel_caption(stats: dict[str, Any]) -> str:
    """stats: the training pixels' median, mean and std (0-255)."""
    lead = "Most pixels are black background" if stats["median"] < 32 else "Most pixels are not black"
    return (
        f"{lead}: the median pixel is {stats['median']:.0f} and the average "
        f"{stats['mean']:.1f} out of 255 (spread {stats['std']:.1f}). Models see these values divided by 255."
    )
