"""Turn an uploaded photo into a Fashion-MNIST-like image: 28x28, grey, item light on black.

Validation first, on the raw bytes and the image header, before any pixel is decoded: empty,
over 10 MB, not PNG/JPEG/WebP, over 40 megapixels (decompression bombs), animated, or damaged
files get an UploadError with a plain message. Then: grayscale (transparent areas become
background), invert when the background is light, crop to the item, fit its longest side into
28 pixels and centre it on black, stretch contrast to the full 0-255 range.
"""

from __future__ import annotations

import io

import numpy as np

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
FORMATS = ("PNG", "JPEG", "WEBP")
ITEM_THRESHOLD = 40  # after inversion, pixels above this belong to the item


class UploadError(ValueError):
    """The upload cannot be used; the message says why, for people. `too_large` for size limits."""

    def __init__(self, message: str, too_large: bool = False):
        super().__init__(message)
        self.too_large = too_large


def open_checked(raw: bytes):
    """A fully loaded, validated PIL image from upload bytes (UploadError otherwise)."""
    from PIL import Image, UnidentifiedImageError

    if not raw:
        raise UploadError("The file is empty (0 bytes).")
    if len(raw) > MAX_BYTES:
        raise UploadError(f"The file is {len(raw) / 1e6:.1f} MB; the limit is {MAX_BYTES // (1024 * 1024)} MB.",
                          too_large=True)
    try:
        img = Image.open(io.BytesIO(raw))
    except Image.DecompressionBombError:
        raise UploadError(f"The image is far over the limit of {MAX_PIXELS // 1_000_000} megapixels.",
                          too_large=True) from None
    except (UnidentifiedImageError, OSError, ValueError):
        raise UploadError("This is not an image we can read: upload a PNG, JPEG or WebP photo.") from None
    if img.format not in FORMATS:
        raise UploadError(f"{img.format} images are not supported: upload a PNG, JPEG or WebP photo.")
    width, height = img.size
    if width * height > MAX_PIXELS:
        raise UploadError(f"The image is {width}x{height} ({width * height / 1e6:.0f} megapixels); "
                          f"the limit is {MAX_PIXELS // 1_000_000} megapixels.", too_large=True)
    if getattr(img, "is_animated", False) and getattr(img, "n_frames", 1) > 1:
        raise UploadError("Animated images are not supported: upload a single still photo.")
    try:
        img.load()
    except (OSError, ValueError, Image.DecompressionBombError):
        raise UploadError("The image file is damaged or truncated.") from None
    return img


def to_fashion_mnist(img) -> tuple[np.ndarray, bool]:
    """(28x28 uint8 item-light-on-black image, whether the photo was inverted)."""
    from PIL import Image, ImageOps

    img = ImageOps.exif_transpose(img)
    if img.mode in ("RGBA", "LA", "P") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    gray = np.asarray(img.convert("L"), dtype=np.float32)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    inverted = bool(np.median(border) > 127)
    if inverted:
        gray = 255.0 - gray
    gray -= np.median(np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]]))
    gray = np.clip(gray, 0, None)
    peak = gray.max()
    if peak <= 0:
        raise UploadError("The image is blank: no item stands out from the background.")
    gray *= 255.0 / peak
    rows, cols = np.flatnonzero((gray > ITEM_THRESHOLD).any(axis=1)), np.flatnonzero((gray > ITEM_THRESHOLD).any(axis=0))
    crop = gray[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    scale = 28.0 / max(crop.shape)
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    small = np.asarray(Image.fromarray(crop.astype(np.uint8)).resize(size, Image.LANCZOS), dtype=np.float32)
    canvas = np.zeros((28, 28), dtype=np.float32)
    top, left = (28 - small.shape[0]) // 2, (28 - small.shape[1]) // 2
    canvas[top:top + small.shape[0], left:left + small.shape[1]] = small
    canvas *= 255.0 / max(canvas.max(), 1.0)
    return np.clip(canvas, 0, 255).astype(np.uint8), inverted


def preprocess(raw: bytes) -> dict:
    """Validate and convert upload bytes: {image (28x28 uint8), inverted, original_size, format}."""
    img = open_checked(raw)
    fmt, size = img.format, img.size
    image, inverted = to_fashion_mnist(img)
    return {"image": image, "inverted": inverted, "original_size": size, "format": fmt}
