"""How well the photo check (core.data.familiar) does its job, measured on photos it never saw: the
out-of-distribution yardstick of Hendrycks & Gimpel 2017 — the false-alarm rate on the model's own
test photos, the detection rate on photos from elsewhere, and the AUROC between the two.

Every photo here is in the dataset's format (28×28, one grey channel, light item on dark), so each
goes through the check as an upload of such a photo does (the "as stored" threshold, chosen on
validation photos: core.data.familiar.STORED_QUANTILE):

- the 10 000 Fashion-MNIST test photos (every one should pass: a flag is a false alarm);
- scikit-learn's 1 797 handwritten digits (8×8, upscaled to 28×28, white on black);
- 500 crops of scikit-image's sample photos (people, animals, objects, text pages), grey, 28×28;
- 500 printed words (PIL's own font, white on black);
- 500 photos of uniform noise.

`python -m core data familiarity` measures them and writes `artifacts/familiarity.json` (committed);
the upload card's "How this works" reads it (`rates()`), so the numbers a person reads are measured.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import numpy as np

from core import paths
from core.data.dataset import N_TRAIN, spaced

FILE = "familiarity.json"
N_EACH = 500
WORDS = ("SALE", "hello", "42", "Fashion", "MNIST", "shirt", "abc", "OK", "model", "photo", "2026", "data")


def _digits() -> np.ndarray:
    from PIL import Image
    from sklearn.datasets import load_digits

    out = [
        np.asarray(Image.fromarray((d / 16 * 255).astype(np.uint8)).resize((28, 28), Image.Resampling.BILINEAR))
        for d in load_digits().images
    ]
    return np.stack(out)


def _natural(rng: np.random.Generator) -> np.ndarray:
    from PIL import Image
    from skimage import color, data

    names = (
        "astronaut",
        "camera",
        "cat",
        "chelsea",
        "coffee",
        "coins",
        "moon",
        "page",
        "rocket",
        "text",
        "hubble_deep_field",
    )
    photos = []
    for name in names:
        image = getattr(data, name)()
        photos.append(color.rgb2gray(image) * 255 if image.ndim == 3 else image.astype(np.float64))
    out = []
    for _ in range(N_EACH):
        photo = photos[rng.integers(len(photos))]
        size = int(rng.integers(48, min(photo.shape[:2]) // 2))
        y, x = (int(rng.integers(0, s - size)) for s in photo.shape[:2])
        crop = np.clip(photo[y : y + size, x : x + size], 0, 255).astype(np.uint8)
        out.append(np.asarray(Image.fromarray(crop).resize((28, 28), Image.Resampling.BILINEAR)))
    return np.stack(out)


def _words(rng: np.random.Generator) -> np.ndarray:
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default()
    out = []
    for _ in range(N_EACH):
        canvas = Image.new("L", (28, 28), 0)
        word = WORDS[rng.integers(len(WORDS))]
        ImageDraw.Draw(canvas).text((int(rng.integers(0, 6)), int(rng.integers(2, 14))), word, fill=255, font=font)
        out.append(np.asarray(canvas))
    return np.stack(out)


def _noise(rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, 256, (N_EACH, 28, 28), dtype=np.uint8)


def _auroc(inside: np.ndarray, outside: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    scores = np.concatenate([inside, outside])
    return float(roc_auc_score(np.r_[np.zeros(len(inside)), np.ones(len(outside))], scores))


def measure(seed: int = 0) -> dict[str, Any]:
    from core import data
    from core.data import familiar

    rng = np.random.default_rng(seed)
    test_flags, test = familiar.stored_flags(data.load().x_test)
    sources = {
        "handwritten digits": _digits(),
        "natural-photo crops": _natural(rng),
        "printed words": _words(rng),
        "uniform noise": _noise(rng),
    }
    elsewhere = {name: familiar.stored_flags(images) for name, images in sources.items()}
    every = np.concatenate([score for _flags, score in elsewhere.values()])
    return {
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "score": (
            f"two distances, each over its threshold: to the nearest of the {spaced(N_TRAIN)} training photos in a "
            "50-component PCA of the pixels, and from that PCA's plane (what it cannot express)"
        ),
        "threshold_chosen_on": (
            f"validation photos: {100 * (1 - familiar.STORED_QUANTILE):.1f} % of them beyond the first, "
            f"{100 * (1 - familiar.RESIDUAL_QUANTILE):.1f} % beyond the second"
        ),
        "false_alarms": {"photos": "Fashion-MNIST test photos", "n": len(test), "rate": float(test_flags.mean())},
        "detected": {
            name: {"n": len(score), "rate": float(flags.mean()), "auroc": _auroc(test, score)}
            for name, (flags, score) in elsewhere.items()
        },
        "auroc": _auroc(test, every),
    }


def save(result: dict[str, Any]) -> None:
    from core.store import atomic

    atomic.write_json(paths.artifacts_dir() / FILE, result)


def rates() -> dict[str, Any] | None:
    """The committed measurement (artifacts/familiarity.json), or None when there is none."""
    for folder in (paths.artifacts_dir(), paths.PROJECT_ROOT / "artifacts"):
        try:
            found = json.loads((folder / FILE).read_text())
        except (OSError, ValueError):
            continue
        if isinstance(found, dict) and "false_alarms" in found and "detected" in found:
            return found
    return None


def words(found: dict[str, Any] | None) -> str:
    """The measured rates in one paragraph for the upload card's "How this works"."""
    if not found:
        return "Its error rates have not been measured here yet (python -m core data familiarity)."
    alarms = found["false_alarms"]
    detected = "; ".join(f"{100 * v['rate']:.1f} % of {spaced(v['n'])} {k}" for k, v in found["detected"].items())
    return (
        f"Measured on photos in the dataset's own format: it wrongly calls {100 * alarms['rate']:.1f} % of the "
        f"{spaced(alarms['n'])} Fashion-MNIST test photos unfamiliar (false alarms), and catches {detected}. "
        f"AUROC {found['auroc']:.3f} (1 = always tells them apart). A camera photo is also checked for a plain "
        "background, which the dataset's photos all have."
    )
