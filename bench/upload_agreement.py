"""Uploads predicted like the dataset: a test photo turned into a camera-style photo should get the
same class as the original 28x28 image. Reports the share of photos where both predictions agree, per
condition of a grid: background grey level (255 white, 250 and 240 off-white), sensor noise (sigma 0,
3, 5 grey levels), JPEG quality (60, 95) and lighting (even, or a mild falloff across the photo).

    python -m bench.upload_agreement [--run ref-preset-best] [--n 50]   # n photos per condition
"""

from __future__ import annotations

import argparse
import io
import itertools

import numpy as np
from PIL import Image

from bench.common import save
from core import data, paths
from core.data import upload
from core.models.loading import load_classifier

BACKGROUNDS = (255, 250, 240)
NOISE = (0.0, 3.0, 5.0)
QUALITY = (60, 95)
LIGHTING = (False, True)
FALLOFF = 0.05  # uneven lighting: up to 5 % darker towards one corner (about 12 grey levels on white)


def camera_photo(
    item: np.ndarray,
    rng: np.random.Generator,
    background: int = 255,
    noise: float = 0.0,
    quality: int = 90,
    uneven: bool = False,
) -> bytes:
    """The item (dark on a `background` grey) enlarged 4-8x at a random place of a larger photo,
    with optional lighting falloff and Gaussian sensor noise, saved as JPEG of `quality`."""
    side = int(rng.integers(112, 225))
    big = np.asarray(Image.fromarray(255 - item).resize((side, side), Image.Resampling.BICUBIC), dtype=np.float32)
    height, width = side + int(rng.integers(40, 160)), side + int(rng.integers(40, 200))
    canvas = np.full((height, width), float(background), dtype=np.float32)
    top, left = int(rng.integers(0, height - side)), int(rng.integers(0, width - side))
    canvas[top : top + side, left : left + side] = np.minimum(canvas[top : top + side, left : left + side], big)
    if uneven:
        yy, xx = np.mgrid[0:height, 0:width]
        angle = rng.uniform(0, 2 * np.pi)
        ramp = (np.cos(angle) * xx / width + np.sin(angle) * yy / height + 1) / 2  # 0..1 across the photo
        canvas *= 1 - FALLOFF * ramp
    if noise:
        canvas += rng.normal(0, noise, canvas.shape)
    photo = Image.fromarray(np.clip(canvas, 0, 255).round().astype(np.uint8)).convert("RGB")
    out = io.BytesIO()
    photo.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def main(run_id: str = "ref-preset-best", n: int = 50, seed: int = 0, store=None, write: bool = True) -> dict:
    import os

    os.environ.setdefault("STUDIO_ARTIFACTS", str(paths.PROJECT_ROOT / "artifacts"))
    dataset = data.load()
    rng = np.random.default_rng(seed)
    clf = load_classifier(run_id, store)
    cells = []
    for background, noise, quality, uneven in itertools.product(BACKGROUNDS, NOISE, QUALITY, LIGHTING):
        idx = rng.choice(len(dataset.y_test), size=n, replace=False)
        original = clf.predict(clf.prepare(dataset.x_test[idx]))
        photos = [camera_photo(dataset.x_test[i], rng, background, noise, quality, uneven) for i in idx]
        converted = np.stack([upload.preprocess(p)["image"] for p in photos])
        shop = clf.predict(clf.prepare(converted))
        cells.append(
            {
                "background": background,
                "noise": noise,
                "quality": quality,
                "uneven": uneven,
                "agreement": round(float((original == shop).mean()), 4),
            }
        )
    agreements = [c["agreement"] for c in cells]
    result = {
        "run": run_id,
        "n_per_condition": n,
        "agreement": round(float(np.mean(agreements)), 4),
        "worst_condition": min(cells, key=lambda c: c["agreement"]),
        "cells": cells,
    }
    if write:
        save(f"upload_agreement_{run_id}", result)
    return result


def table(result: dict) -> str:
    """Agreement (%) by background and noise (rows) and JPEG quality and lighting (columns)."""
    head = "| background | noise σ | " + " | ".join(
        f"q{q}{' uneven' if u else ''}" for q, u in itertools.product(QUALITY, LIGHTING)
    )
    lines = [head + " |", "|" + " --- |" * (2 + len(QUALITY) * len(LIGHTING))]
    by = {(c["background"], c["noise"], c["quality"], c["uneven"]): c["agreement"] for c in result["cells"]}
    for background, noise in itertools.product(BACKGROUNDS, NOISE):
        row = [f"{100 * by[(background, noise, q, u)]:.0f} %" for q, u in itertools.product(QUALITY, LIGHTING)]
        lines.append(f"| {background} | {noise:g} | " + " | ".join(row) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default="ref-preset-best")
    parser.add_argument("--n", type=int, default=50, help="photos per condition (36 conditions)")
    args = parser.parse_args()
    outcome = main(args.run, args.n)
    print(table(outcome))
    print(f"mean agreement {100 * outcome['agreement']:.1f} %; worst {outcome['worst_condition']}")
