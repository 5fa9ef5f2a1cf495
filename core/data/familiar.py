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

Calibration (PCA, the projected training photos, the threshold) is computed from the training
split once and kept in the cache folder (artifacts/cache), so a server loads it in milliseconds.
"""

from __future__ import annotations

import functools
import io
import threading
from dataclasses import dataclass

import numpy as np

from core.data.dataset import N_TRAIN, spaced

PLAIN_TOLERANCE = 0.08 * 255  # a border pixel this close to the border's median counts as background
PLAIN_MIN = 0.9  # share of plain border pixels below which the photo has no plain background
DISTANCE_QUANTILE = 0.995
# a photo already in the dataset's format (core.data.upload.as_stored) is compared with validation photos
# as they are: 3 % of them are flagged. Its measured rates (false alarms on the 10 000 test photos,
# detections of digits, photo crops, words and noise, AUROC) are in artifacts/familiarity.json
# (python -m core data familiarity; core.data.familiar_rates), and the upload card shows them.
STORED_QUANTILE = 0.97
# ... and a second distance for them: from the plane of the 50 components (what PCA cannot express).
# Noise and scribbles project close to ordinary photos, so the nearest-photo test alone passed 81 % of
# uniform-noise photos; with this test (0.5 % of validation photos flagged by it) all are caught, and the
# false alarms on test photos go from 3.6 % to 3.9 % (python -m core data familiarity).
RESIDUAL_QUANTILE = 0.995
COMPONENTS = 50
_lock = threading.Lock()


def plain_border_share(gray: np.ndarray) -> float:
    """Share of the border pixels of a greyscale photo (any size) close to the border's median."""
    gray = np.asarray(gray, dtype=np.float32)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return float((np.abs(border - np.median(border)) < PLAIN_TOLERANCE).mean())


@dataclass(frozen=True)
class _Reference:
    mean: np.ndarray  # (784,) PCA mean
    components: np.ndarray  # (COMPONENTS, 784)
    train: np.ndarray  # (48000, COMPONENTS) the training photos, projected
    threshold: float
    stored_threshold: float  # for photos already in the dataset's format (STORED_QUANTILE)
    residual_threshold: float  # ... and how far from the PCA's plane they may be (RESIDUAL_QUANTILE)

    @functools.cached_property
    def train_sq(self) -> np.ndarray:
        """Squared norms of the projected training photos, computed once (not on every upload)."""
        return (self.train**2).sum(axis=1)


CACHE_FILE = f"familiar-pca{COMPONENTS}-q{DISTANCE_QUANTILE}-s{STORED_QUANTILE}-r{RESIDUAL_QUANTILE}.npz"
CHUNK = 4000


def _project(ref_mean: np.ndarray, components: np.ndarray, images: np.ndarray) -> np.ndarray:
    """PCA coordinates of uint8 (N, 28, 28) photos, computed in chunks (little memory)."""
    out = np.empty((len(images), len(components)), dtype=np.float32)
    for start in range(0, len(images), CHUNK):
        x = images[start : start + CHUNK].reshape(-1, 784).astype(np.float32) / 255.0
        out[start : start + CHUNK] = (x - ref_mean) @ components.T
    return out


def _nearest(train: np.ndarray, points: np.ndarray, sq_train: np.ndarray | None = None) -> np.ndarray:
    """Euclidean distance of each point to its nearest training point (chunked, numpy only);
    `sq_train`, the training points' squared norms, when already known."""
    if sq_train is None:
        sq_train = (train**2).sum(axis=1)
    result = np.empty(len(points), dtype=np.float32)
    for start in range(0, len(points), 256):
        p = points[start : start + 256]
        d2 = (p**2).sum(axis=1)[:, None] - 2.0 * p @ train.T + sq_train[None, :]
        result[start : start + 256] = np.sqrt(np.clip(d2.min(axis=1), 0.0, None))
    return result


def _calibrate() -> _Reference:
    from sklearn.decomposition import PCA

    from core import data

    dataset = data.load()
    train_idx, val_idx = data.split_indices(data.DEFAULT_SEED)
    sample = dataset.x_train[train_idx[::4]].reshape(-1, 784).astype(np.float32) / 255.0
    pca = PCA(COMPONENTS, svd_solver="randomized", random_state=0).fit(sample)
    del sample
    mean, components = pca.mean_.astype(np.float32), pca.components_.astype(np.float32)
    train = _project(mean, components, dataset.x_train[train_idx])
    rng = np.random.default_rng(0)
    photos = dataset.x_train[rng.choice(val_idx, 3000, replace=False)]
    val = _nearest(train, _project(mean, components, photos))
    threshold, stored = (float(np.quantile(val, q)) for q in (DISTANCE_QUANTILE, STORED_QUANTILE))
    residual = float(np.quantile(_residuals(mean, components, photos), RESIDUAL_QUANTILE))
    return _Reference(mean, components, train, threshold, stored, residual)


def _residuals(mean: np.ndarray, components: np.ndarray, images: np.ndarray) -> np.ndarray:
    """Each photo's distance from the PCA plane (the part of it the 50 components cannot express)."""
    x = images.reshape(-1, 784).astype(np.float32) / 255.0 - mean
    inside = x @ components.T
    return np.sqrt(np.clip((x**2).sum(axis=1) - (inside**2).sum(axis=1), 0.0, None))


@functools.lru_cache(maxsize=1)
def _reference() -> _Reference:
    """The calibration: from the cache folder when there (milliseconds), else computed (~3 s) and saved."""
    from core import paths
    from core.store import atomic

    path = paths.cache_dir() / CACHE_FILE
    try:
        with np.load(path) as saved:
            return _Reference(
                saved["mean"],
                saved["components"],
                saved["train"],
                float(saved["threshold"]),
                float(saved["stored_threshold"]),
                float(saved["residual_threshold"]),
            )
    except (OSError, KeyError, ValueError):
        pass
    ref = _calibrate()
    buffer = io.BytesIO()
    np.savez(
        buffer,
        mean=ref.mean,
        components=ref.components,
        train=ref.train,
        threshold=ref.threshold,
        stored_threshold=ref.stored_threshold,
        residual_threshold=ref.residual_threshold,
    )
    atomic.write_bytes(path, buffer.getvalue())
    return ref


def warm() -> None:
    """Build the calibration now (about 2 s) instead of on the first upload."""
    with _lock:
        _reference()


def nearest_distance(image: np.ndarray, as_stored: bool = False) -> tuple[float, float]:
    """(distance of a 28×28 uint8 image to its nearest training photo, the unusual-distance threshold:
    the stricter one for a photo already in the dataset's format)."""
    with _lock:
        ref = _reference()
    projected = _project(ref.mean, ref.components, np.asarray(image, dtype=np.uint8)[None])
    threshold = ref.stored_threshold if as_stored else ref.threshold
    return float(_nearest(ref.train, projected, ref.train_sq)[0]), threshold


def distances(images: np.ndarray, chunk: int = 2000) -> np.ndarray:
    """Each 28×28 photo's distance to its nearest training photo (as `nearest_distance`, in batches)."""
    ref = _reference()
    return np.concatenate(
        [
            _nearest(ref.train, _project(ref.mean, ref.components, images[i : i + chunk]), ref.train_sq)
            for i in range(0, len(images), chunk)
        ]
    )


def stored_flags(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(flagged, score) of photos in the dataset's format, as `assess(..., as_stored=True)` decides:
    flagged when either distance passes its threshold; the score is the larger of the two distances,
    each divided by its threshold (what an AUROC ranks)."""
    ref = _reference()
    near = distances(images) / ref.stored_threshold
    off = _residuals(ref.mean, ref.components, images) / ref.residual_threshold
    return (near > 1) | (off > 1), np.maximum(near, off)


def assess(image: np.ndarray, plain_border: float | None, as_stored: bool = False) -> dict:
    """{"familiar", "reasons": [plain sentences], "plain_border", "distance", "threshold"} for a
    converted upload (`image`, 28×28 uint8) and its original photo's plain-border share (None: not
    tested, for a photo already in the dataset's format, whose items may touch its frame)."""
    distance, threshold = nearest_distance(image, as_stored)
    quantile = STORED_QUANTILE if as_stored else DISTANCE_QUANTILE
    reasons = []
    if plain_border is not None and plain_border < PLAIN_MIN:
        reasons.append(
            f"only {100 * plain_border:.0f} % of its border is plain background, while every Fashion-MNIST "
            "item was photographed alone on a plain background"
        )
    if distance > threshold:
        reasons.append(
            f"as the model sees it, it is farther from every one of the {spaced(N_TRAIN)} training photos than "
            f"{100 * quantile:.1f} % of real validation photos are"
        )
    if as_stored:
        ref = _reference()
        if _residuals(ref.mean, ref.components, image[None])[0] > ref.residual_threshold:
            reasons.append(
                "it has more fine detail or noise than the training photos share (more than "
                f"{100 * RESIDUAL_QUANTILE:.1f} % of real validation photos have)"
            )
    return {
        "familiar": not reasons,
        "reasons": reasons,
        "plain_border": None if plain_border is None else round(plain_border, 3),
        "distance": round(distance, 3),
        "threshold": round(threshold, 3),
    }
