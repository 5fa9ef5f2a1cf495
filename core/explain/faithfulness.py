"""Is a heatmap a faithful account of the model? Deletion and insertion tests against chance.

For each photo, the pixels a map ranks highest are hidden (set to the black background) and the
model's probability of the explained class is read again; a faithful map hides what the model
needed, so the probability falls. The control hides a region of exactly the same shape, moved to a
random place (a circular shift of the same mask), so a map scores well only if it beats chance.
Insertion is the mirror image: starting from a blank photo, only the top pixels are shown.

Reported per method and layer, averaged over photos and over the hidden shares in FRACTIONS:
- `deletion_drop`: probability lost when the map's top pixels are hidden (higher = more faithful);
- `deletion_drop_random`: the same for the random regions; `deletion_gain` = the difference;
- `insertion_kept` / `insertion_kept_random` / `insertion_gain`: probability with only those pixels;
- `heat_on_item`: share of the heat on the item (pixels brighter than the background threshold).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core import data
from core.store import RunError, RunStore

FRACTIONS = (0.05, 0.1, 0.2, 0.4)
HEADLINE = 0.2  # the share quoted in sentences ("hides 20 % of the photo")
OBJECT_THRESHOLD = 30


def _rank_masks(heat: np.ndarray, fraction: float) -> np.ndarray:
    """(N, 28, 28) bool: each map's top `fraction` of pixels (ties broken by position)."""
    flat = heat.reshape(len(heat), -1)
    k = max(1, round(fraction * flat.shape[1]))
    order = np.argsort(-flat, axis=1, kind="stable")[:, :k]
    masks = np.zeros_like(flat, dtype=bool)
    np.put_along_axis(masks, order, True, axis=1)
    return masks.reshape(heat.shape)


def _random_shift(masks: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The same shapes at random places: each mask circularly shifted by a random offset."""
    shifted = np.empty_like(masks)
    for i, mask in enumerate(masks):
        dy, dx = rng.integers(4, 25, size=2)  # at least 4 pixels away in each direction (mod 28)
        shifted[i] = np.roll(mask, (int(dy), int(dx)), axis=(0, 1))
    return shifted


def _proba_of(clf, images_uint8: np.ndarray, classes: np.ndarray) -> np.ndarray:
    proba = clf.predict_proba(clf.prepare(images_uint8))
    return proba[np.arange(len(classes)), classes]


def evaluate_maps(clf, images: np.ndarray, heat: np.ndarray, classes: np.ndarray, seed: int = 0) -> dict[str, Any]:
    """The scores of one set of maps (`heat` (N, 28, 28) for uint8 `images`, explaining `classes`)."""
    rng = np.random.default_rng(seed)
    base = _proba_of(clf, images, classes)
    blank = np.zeros_like(images)
    rows = {}
    for fraction in FRACTIONS:
        top = _rank_masks(heat, fraction)
        rand = _random_shift(top, rng)
        deleted = _proba_of(clf, np.where(top, 0, images), classes)
        deleted_random = _proba_of(clf, np.where(rand, 0, images), classes)
        inserted = _proba_of(clf, np.where(top, images, blank), classes)
        inserted_random = _proba_of(clf, np.where(rand, images, blank), classes)
        rows[fraction] = {
            "deletion_drop": float((base - deleted).mean()),
            "deletion_drop_random": float((base - deleted_random).mean()),
            "insertion_kept": float(inserted.mean()),
            "insertion_kept_random": float(inserted_random.mean()),
        }
    mean = {key: float(np.mean([r[key] for r in rows.values()])) for key in rows[FRACTIONS[0]]}
    item = images > OBJECT_THRESHOLD
    total = heat.reshape(len(heat), -1).sum(axis=1)
    on_item = (heat * item).reshape(len(heat), -1).sum(axis=1) / np.maximum(total, 1e-9)
    headline = rows[HEADLINE]
    return {
        **{k: round(v, 4) for k, v in mean.items()},
        "deletion_gain": round(mean["deletion_drop"] - mean["deletion_drop_random"], 4),
        "insertion_gain": round(mean["insertion_kept"] - mean["insertion_kept_random"], 4),
        "heat_on_item": round(float(on_item[total > 0].mean()) if (total > 0).any() else 0.0, 4),
        "confidence": round(float(base.mean()), 4),
        "at_headline": {
            "hidden": HEADLINE,
            "confidence_after": round(float(base.mean() - headline["deletion_drop"]), 4),
            "confidence_after_random": round(float(base.mean() - headline["deletion_drop_random"]), 4),
        },
    }


def photos(split: str, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 images, labels) of `n` photos drawn at random from "validation" or "test"."""
    dataset = data.load()
    rng = np.random.default_rng(seed)
    if split == "test":
        idx = rng.choice(len(dataset.y_test), size=min(n, len(dataset.y_test)), replace=False)
        return dataset.x_test[idx], dataset.y_test[idx]
    if split != "validation":
        raise ValueError(f"split must be validation or test, got {split!r}")
    _, val_idx = data.split_indices(data.DEFAULT_SEED)
    idx = rng.choice(val_idx, size=min(n, len(val_idx)), replace=False)
    return dataset.x_train[idx], dataset.y_train[idx]


def evaluate_run(
    run_id: str,
    n: int = 300,
    split: str = "test",
    methods: tuple[str, ...] | None = None,
    layers: list[str] | None = None,
    store: RunStore | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Scores of every method x layer (default: the last two explainable layers) on `n` photos,
    explaining the predicted class; `best` names the method and layer with the largest deletion gain."""
    from core.explain.gradcam import INPUT, INPUT_METHODS, METHODS, explainable_layers, heatmaps, keras_model_of
    from core.models.loading import load_classifier

    if not isinstance(n, int) or not 10 <= n <= 10000:
        raise ValueError(f"n must be a whole number from 10 to 10000, got {n!r}")
    model = keras_model_of(run_id, store)
    clf = load_classifier(run_id, store)
    images, _labels = photos(split, n, seed)
    classes = clf.predict(clf.prepare(images))
    layers = layers or explainable_layers(model)[-2:]
    x = clf.prepare(images)
    results: list[dict[str, Any]] = []
    for method in methods or METHODS:
        for layer in [INPUT] if method in INPUT_METHODS else layers:
            heat = np.concatenate(
                [heatmaps(model, x[i : i + 100], classes[i : i + 100], layer, method) for i in range(0, len(x), 100)]
            )
            results.append({"method": method, "layer": layer, **evaluate_maps(clf, images, heat, classes, seed)})
    best = max(results, key=lambda r: r["deletion_gain"])
    return {"run_id": run_id, "split": split, "n": len(images), "fractions": list(FRACTIONS), "results": results,
            "best": {"method": best["method"], "layer": best["layer"]}}  # fmt: skip


def clear_photo(run_id: str, method: str, layer: str, store: RunStore | None = None, n: int = 200) -> int:
    """A test photo (among the first `n`) whose map is clear, to open the page on: the model is right
    and sure (>= 90 %), and hiding the map's top 20 % costs the most confidence, weighted by the
    share of heat on the item. Only picks what to show first; nothing is chosen or scored on it."""
    from core.explain.gradcam import INPUT, heatmaps, keras_model_of
    from core.models.loading import load_classifier

    dataset = data.load()
    images, labels = dataset.x_test[:n], dataset.y_test[:n]
    clf = load_classifier(run_id, store)
    x = clf.prepare(images)
    proba = clf.predict_proba(x)
    classes = proba.argmax(axis=1)
    heat = heatmaps(keras_model_of(run_id, store), x, classes, None if layer == INPUT else layer, method)
    hidden = _proba_of(clf, np.where(_rank_masks(heat, HEADLINE), 0, images), classes)
    on_item = (heat * (images > OBJECT_THRESHOLD)).sum(axis=(1, 2)) / np.maximum(heat.sum(axis=(1, 2)), 1e-9)
    score = (proba[np.arange(n), classes] - hidden) * on_item
    eligible = (classes == labels) & (proba.max(axis=1) >= 0.9)
    return int(np.argmax(np.where(eligible, score, -np.inf)))


def sentence(result: dict[str, Any]) -> str:
    """The headline in words, e.g. for the Grad-CAM page."""
    head = result["at_headline"]
    split = result.get("split") or "validation"
    over = f"{result['n']} {split} photos" if result.get("n") else f"the {split} photos measured"
    return (
        f"On average over {over}, hiding the {100 * head['hidden']:.0f} % of a photo this map ranks highest "
        f"drops the model's confidence from {100 * result['confidence']:.0f} % to "
        f"{100 * head['confidence_after']:.0f} %; hiding random patches of the same size drops it to "
        f"{100 * head['confidence_after_random']:.0f} %."
    )


SHIPPED_DEFAULT = "explain-default.json"  # a run's measured default, committed beside its model file


def ship_default(run_id: str, store: RunStore | None = None) -> dict[str, Any]:
    """Measure (or reuse) the run's default view and save it in the run's folder, so a checkout
    without caches opens /gradcam on it at once (`python -m core explain-eval RUN --ship`)."""
    import json

    from core.store import atomic

    store = store or RunStore()
    chosen = default_view(run_id, store, compute=True)
    if chosen is None:
        raise RunError(f"run {run_id} has no measured default view")
    model_path, artifact = store.model_file(run_id)
    chosen = {**chosen, "model_key": (artifact.get("sha256") or str(model_path.stat().st_mtime_ns))[:16]}
    atomic.write_bytes(store.path(run_id) / SHIPPED_DEFAULT, json.dumps(chosen, indent=1).encode())
    return chosen


def default_view(
    run_id: str, store: RunStore | None = None, compute: bool = False, n: int = 200
) -> dict[str, Any] | None:
    """The method and layer that explain this run best, chosen on `n` validation photos (never the
    test set), with their scores and a clear test photo to open on; cached per model file version.
    A run can ship its measured default (`explain-default.json` in its folder, for the model file it
    names), so a fresh clone opens on it at once; otherwise None when not computed yet and `compute`
    is False (the server computes it in its warm-up)."""
    import json

    from core import paths
    from core.store import atomic

    store = store or RunStore()
    model_path, artifact = store.model_file(run_id)
    key = (artifact.get("sha256") or str(model_path.stat().st_mtime_ns))[:16]
    cache = paths.cache_dir() / f"explain-default-{run_id}-{key}.json"
    for candidate in (cache, store.path(run_id) / SHIPPED_DEFAULT):
        try:
            found = json.loads(candidate.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(found, dict) and found.get("model_key", key) == key and "method" in found:
            return found
    if not compute:
        return None
    result = evaluate_run(run_id, n=n, split="validation", store=store)
    best = next(r for r in result["results"] if (r["method"], r["layer"]) == tuple(result["best"].values()))
    chosen = {"run_id": run_id, "split": "validation", "n": result["n"], "model_key": key, **best}
    chosen["photo"] = clear_photo(run_id, best["method"], best["layer"], store, n=n)
    atomic.write_bytes(cache, json.dumps(chosen).encode())
    return chosen
