"""Small image helpers: PNG encoding and data URIs for thumbnails (cached per process)."""

from __future__ import annotations

import base64
import functools
import io

import numpy as np


def png_bytes(image: np.ndarray, scale: int = 1) -> bytes:
    """A 2-D uint8 image as PNG bytes, optionally upscaled by an integer factor (nearest)."""
    from PIL import Image

    img = Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8))
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.Resampling.NEAREST)
    out = io.BytesIO()
    img.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def data_uri(png: bytes) -> str:
    """PNG bytes -> `data:image/png;base64,...`."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


@functools.lru_cache(maxsize=20000)
def dataset_thumbnail(split: str, index: int) -> str:
    """Data URI of one dataset image (`split` is "train" or "test"); encoded once per process."""
    from core import data

    ds = data.load()
    images = ds.x_test if split == "test" else ds.x_train
    return data_uri(png_bytes(images[int(index)]))
