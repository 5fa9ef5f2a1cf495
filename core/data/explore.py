"""Dataset statistics for the Data page and `python -m core data stats`.

Pure numpy over the real images. The heavy ones (embeddings) are computed once and kept on disk
under `artifacts/cache/`, keyed by the dataset's checksum and the parameters.
"""

from __future__ import annotations

import functools

import numpy as np

from core import data, paths
from core.store import atomic

EMBEDDING_METHODS = ("pca", "tsne")


def histogram_counts(images: np.ndarray) -> np.ndarray:
    """Counts of each intensity 0..255 over uint8 images (256,)."""
    return np.bincount(np.asarray(images, dtype=np.uint8).ravel(), minlength=256).astype(np.int64)


def stats_from_counts(counts: np.ndarray) -> dict[str, float]:
    """Mean, median and (population) std on the 0-255 scale from an intensity histogram."""
    values = np.arange(256, dtype=np.float64)
    total = counts.sum()
    mean = float((counts * values).sum() / total)
    var = float((counts * (values - mean) ** 2).sum() / total)
    median = float(np.searchsorted(np.cumsum(counts), (total + 1) / 2))
    return {"mean": mean, "median": median, "std": var**0.5}


@functools.lru_cache(maxsize=1)
def training_histogram() -> np.ndarray:
    """Intensity counts (256,) over all 60 000 training images (cached)."""
    return histogram_counts(data.load().x_train)


@functools.lru_cache(maxsize=1)
def dataset_stats(seed: int = data.DEFAULT_SEED) -> dict:
    """Summary figures over the 60 000 training images (what `data stats --json` prints)."""
    ds = data.load()
    pixel = stats_from_counts(training_histogram())
    return {
        "n_train": len(ds.x_train),
        "n_test": len(ds.x_test),
        "image_shape": list(data.IMAGE_SHAPE),
        "classes": list(data.CLASS_NAMES),
        "pixel_mean": round(pixel["mean"], 4),
        "pixel_median": pixel["median"],
        "pixel_std": round(pixel["std"], 4),
        "split": {"seed": seed, "val_fraction": data.VAL_FRACTION},
        "class_counts": data.split_class_counts(seed),
        "source": str(ds.source),
    }


@functools.lru_cache(maxsize=1)
def per_class_histograms() -> np.ndarray:
    """(10, 256) intensity counts per class over the training images."""
    ds = data.load()
    return np.stack([histogram_counts(ds.x_train[ds.y_train == c]) for c in range(data.NUM_CLASSES)])


@functools.lru_cache(maxsize=1)
def class_mean_std_images() -> tuple[np.ndarray, np.ndarray]:
    """Per-class mean and standard-deviation images, each (10, 28, 28) float32 on 0-255."""
    ds = data.load()
    means, stds = [], []
    for c in range(data.NUM_CLASSES):
        imgs = ds.x_train[ds.y_train == c].astype(np.float32)
        means.append(imgs.mean(axis=0))
        stds.append(imgs.std(axis=0))
    return np.stack(means), np.stack(stds)


def sample_indices(per_class: int, seed: int) -> np.ndarray:
    """(10, per_class) training-image indices, drawn per class with `seed`."""
    ds = data.load()
    rng = np.random.default_rng(seed)
    rows = [rng.choice(np.flatnonzero(ds.y_train == c), size=per_class, replace=False) for c in range(data.NUM_CLASSES)]
    return np.stack(rows)


def embedding(method: str = "pca", n: int = 2000, seed: int = data.DEFAULT_SEED) -> dict[str, np.ndarray]:
    """2-D embedding of a stratified sample of `n` training images: {index, label, xy}.

    PCA is fitted on all 60 000 images; t-SNE runs on the PCA-50 features of the sample.
    Results are cached on disk, so only the first call pays.
    """
    if method not in EMBEDDING_METHODS:
        raise ValueError(f"unknown embedding method {method!r}; choose one of {EMBEDDING_METHODS}")
    key = f"embedding-{method}-{n}-{seed}-{data.FILES['train_images'][1][:12]}.npz"
    cached = paths.cache_dir() / key
    if cached.is_file():
        try:
            with np.load(cached) as saved:
                return {k: saved[k] for k in ("index", "label", "xy")}
        except (OSError, ValueError, KeyError):
            cached.unlink(missing_ok=True)  # a damaged cache entry is recomputed
    result = _compute_embedding(method, n, seed)
    atomic.write_with(cached, lambda buf: np.savez(buf, index=result["index"], label=result["label"], xy=result["xy"]))
    return result


def _compute_embedding(method: str, n: int, seed: int) -> dict[str, np.ndarray]:
    from sklearn.decomposition import PCA

    ds = data.load()
    index = data.subset_indices(np.arange(len(ds.y_train)), ds.y_train, n, seed)
    flat = data.to_flat(ds.x_train)
    if method == "pca":
        pca = PCA(n_components=2, random_state=seed).fit(flat)
        xy = pca.transform(flat[index])
    else:
        from sklearn.manifold import TSNE

        pca = PCA(n_components=50, random_state=seed).fit(flat)
        xy = TSNE(n_components=2, init="pca", random_state=seed, perplexity=30).fit_transform(
            pca.transform(flat[index])
        )
    return {"index": index.astype(np.int64), "label": ds.y_train[index].astype(np.int64), "xy": xy.astype(np.float32)}
