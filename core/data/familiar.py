"""Does an uploaded photo look like a Fashion-MNIST item? Two plain, measured tests.

A model trained on Fashion-MNIST answers with one of its 10 classes whatever it is shown, often
with high confidence (a building came out as "Bag 95.8 %"), so confidence alone cannot warn that a
photo is out of distribution. Two properties of the dataset can:

1. **A plain background.** Every Fashion-MNIST item was photographed alone on a plain background.
   We measure the share of the photo's border pixels within 8 % of the border's median grey;
   shop-style photos of dataset items score 1.0, natural photos (people, animals, buildings,
   landscapes) 0.1–0.8 (measured on scikit-image's sample photos).
2. **Close to some training photo.** After the conversion to 28×28, the distance to the nearest of
   the 48 000 training photos (in a 50-component PCA space) is compared with the same distance for
   the validation photos: farther than all but 0.5 % of them is unlike anything the model learnt from.

Calibration (PCA and the threshold) is computed from the training split once per process.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass

import numpy as np

PLAIN_TOLERANCE = 0.08 * 255  # a border pixel this close to the border's median counts as background
PLAIN_MIN = 0.9  # share of plain border pixels below which the photo has no plain background
DISTANCE_QUANTILE = 0.995
COMPONENTS = 50
_lock = threading.Lock()


def plain_border_share(gray: np.ndarray) -> float:
    """Share of the border pixels of a greyscale photo (any size) close to the border's median."""
    gray = np.asarray(gray, dtype=np.float32)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return float((np.abs(border - np.median(border)) < PLAIN_TOLERANCE).mean())


@dataclass(frozen=True)
class _Reference:
    mean: np.ndarray
    components: np.ndarray
    index: object  # sklearn NearestNeighbors over the projected training photos
    threshold: float


@functools.lru_cache(maxsize=1)
def _reference() -> _Reference:
    from sklearn.decomposition import PCA
    from sklearn.neighbors import NearestNeighbors

    from core import data

    dataset = data.load()
    train_idx, val_idx = data.split_indices(data.DEFAULT_SEED)
    x = dataset.x_train[train_idx].reshape(len(train_idx), -1).astype(np.float32) / 255.0
    pca = PCA(COMPONENTS, svd_solver="randomized", random_state=0).fit(x[::4])
    index = NearestNeighbors(n_neighbors=1).fit(pca.transform(x).astype(np.float32))
    rng = np.random.default_rng(0)
    val = dataset.x_train[rng.choice(val_idx, 3000, replace=False)].reshape(3000, -1).astype(np.float32) / 255.0
    distances = index.kneighbors(pca.transform(val).astype(np.float32))[0][:, 0]
    return _Reference(
        pca.mean_.astype(np.float32),
        pca.components_.astype(np.float32),
        index,
        float(np.quantile(distances, DISTANCE_QUANTILE)),
    )


def warm() -> None:
    """Build the calibration now (about 2 s) instead of on the first upload."""
    with _lock:
        _reference()


def nearest_distance(image: np.ndarray) -> tuple[float, float]:
    """(distance of a 28×28 uint8 image to its nearest training photo, the unusual-distance threshold)."""
    with _lock:
        ref = _reference()
    x = np.asarray(image, dtype=np.float32).reshape(1, -1) / 255.0
    projected = (x - ref.mean) @ ref.components.T
    return float(ref.index.kneighbors(projected)[0][0, 0]), ref.threshold  # type: ignore[attr-defined]


def assess(image: np.ndarray, plain_border: float | None) -> dict:
    """{"familiar", "reasons": [plain sentences], "plain_border", "distance", "threshold"} for a
    converted upload (`image`, 28×28 uint8) and its original photo's plain-border share."""
    distance, threshold = nearest_distance(image)
    reasons = []
    if plain_border is not None and plain_border < PLAIN_MIN:
        reasons.append(
            f"only {100 * plain_border:.0f} % of its border is plain background, while every Fashion-MNIST "
            "item was photographed alone on a plain background"
        )
    if distance > threshold:
        reasons.append(
            "as the model sees it, it is farther from every one of the 48,000 training photos than "
            f"{100 * DISTANCE_QUANTILE:.1f} % of real validation photos are"
        )
    return {
        "familiar": not reasons,
        "reasons": reasons,
        "plain_border": None if plain_border is None else round(plain_border, 3),
        "distance": round(distance, 3),
        "threshold": round(threshold, 3),
    }
