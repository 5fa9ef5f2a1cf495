"""Uploads predicted like the dataset: a test photo turned into a shop-style photo (dark item on
white, upscaled 4-8x, off-centre on a larger canvas, JPEG) should get the same class as the
original 28x28 image. Reports the share of photos where both predictions agree.

    python -m bench.upload_agreement [--run ref-cnn_dropout] [--n 500]
"""

from __future__ import annotations

import argparse
import io

import numpy as np
from PIL import Image

from bench.common import save
from core import data, paths
from core.data import upload
from core.explain.inference import load_classifier


def shop_photo(item: np.ndarray, rng: np.random.Generator) -> bytes:
    """The item as a shop would photograph it, with a random size, place and JPEG quality."""
    side = int(rng.integers(112, 225))
    big = Image.fromarray(255 - item).resize((side, side), Image.Resampling.BICUBIC)
    canvas = Image.new("L", (side + int(rng.integers(40, 200)), side + int(rng.integers(40, 160))), 255)
    canvas.paste(big, (int(rng.integers(0, canvas.width - side)), int(rng.integers(0, canvas.height - side))))
    out = io.BytesIO()
    canvas.convert("RGB").save(out, format="JPEG", quality=int(rng.integers(70, 95)))
    return out.getvalue()


def main(run_id: str = "ref-cnn_dropout", n: int = 500, seed: int = 0, store=None, write: bool = True) -> dict:
    import os

    os.environ.setdefault("STUDIO_ARTIFACTS", str(paths.PROJECT_ROOT / "artifacts"))
    dataset = data.load()
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(dataset.y_test), size=n, replace=False)
    clf = load_classifier(run_id, store)
    original = clf.predict(clf.prepare(dataset.x_test[idx]))
    converted = np.stack([upload.preprocess(shop_photo(dataset.x_test[i], rng))["image"] for i in idx])
    shop = clf.predict(clf.prepare(converted))
    agree = float((original == shop).mean())
    result = {
        "run": run_id,
        "n": n,
        "agreement": round(agree, 4),
        "original_accuracy": round(float((original == dataset.y_test[idx]).mean()), 4),
        "shop_accuracy": round(float((shop == dataset.y_test[idx]).mean()), 4),
    }
    if write:
        save(f"upload_agreement_{run_id}", result)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default="ref-cnn_dropout")
    parser.add_argument("--n", type=int, default=500)
    args = parser.parse_args()
    main(args.run, args.n)
