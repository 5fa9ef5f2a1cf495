"""Turn an uploaded photo into a Fashion-MNIST-like image: 28x28, grey, item light on black.

Validation first, on the raw bytes and the image header, before any pixel is decoded: empty,
over 10 MB, not PNG/JPEG/MPO/WebP, over 40 megapixels (decompression bombs), animated, or damaged
files get an UploadError with a plain message. Then: grayscale (transparent areas become
background), invert when the background is light, crop to the item, fit its longest side into
28 pixels and centre it on black, stretch contrast to the full 0-255 range.

Memory is bounded: nothing needs more than WORK_SIDE pixels a side, so JPEG/MPO decode at reduced
size (`draft`, 1/2 to 1/8 scale inside the decoder); other formats over DIRECT_PIXELS are decoded
in a short-lived child process (`python -m core.data.decode`), which hands back the reduced image, so
the server never holds a full 40-megapixel bitmap. At most SLOTS photos over a megapixel are processed
at once (`slot_for()`; smaller ones, a few MB of work each, need none); a request that finds no slot
free within a moment gets UploadBusy (the API's 503).
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from PIL import Image

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
FORMATS = ("PNG", "JPEG", "MPO", "WEBP")
# Chosen with bench/upload_agreement.py (ref-cnn_dropout, 500 photos, seed 0); on 3 x 1 000 photos
# (seeds 0, 1, 2) box resampling lifted agreement with the originals from 96.9 % to 97.4 %.
RESAMPLE = 4  # PIL.Image.Resampling.BOX: each output pixel the mean of the input pixels it covers
SHARPEN_PERCENT = 50  # unsharp mask (radius 1) after resizing, like the dataset's own step
WORK_SIDE = 512  # longest side the conversion works at (the result is 28x28)
DIRECT_PIXELS = 4_000_000  # larger non-JPEG images are decoded in a child process
SLOTS = 2
SLOT_WAIT_S = 8.0  # a photo beyond the slots waits in a short queue (a 40-MP photo takes about 2 s) ...
MAX_WAITING = 8  # ... of at most this many; beyond it, or after the wait, the answer is 503
DECODE_TIMEOUT_S = 30
_slots = threading.BoundedSemaphore(SLOTS)
_waiting = 0
_waiting_lock = threading.Lock()


class UploadError(ValueError):
    """The upload cannot be used; the message says why, for people. `too_large` for size limits."""

    def __init__(self, message: str, too_large: bool = False):
        super().__init__(message)
        self.too_large = too_large


class UploadBusy(UploadError):
    """Every decoding slot is taken: try again in a moment (HTTP 503 with Retry-After)."""

    retry_after_s = 2


@contextlib.contextmanager
def slot(wait_s: float | None = None) -> Iterator[None]:
    """Hold one of the SLOTS decode/predict slots, waiting in a bounded queue (MAX_WAITING requests, up to
    `wait_s`, default SLOT_WAIT_S, each); UploadBusy when the queue is full or the wait runs out."""
    global _waiting
    if not _slots.acquire(blocking=False):
        with _waiting_lock:
            if _waiting >= MAX_WAITING:
                raise UploadBusy("The server is busy with other photos; try again in a moment.")
            _waiting += 1
        try:
            got = _slots.acquire(timeout=SLOT_WAIT_S if wait_s is None else wait_s)
        finally:
            with _waiting_lock:
                _waiting -= 1
        if not got:
            raise UploadBusy("The server is busy with other photos; try again in a moment.")
    try:
        yield
    finally:
        _slots.release()


SLOT_FREE_PIXELS = 1_000_000  # a photo up to a megapixel (a thumbnail, a shop photo) is a few MB of work


@contextlib.contextmanager
def slot_for(raw: bytes, wait_s: float | None = None) -> Iterator[None]:
    """The slot a photo needs: none for a small one (at most SLOT_FREE_PIXELS: a few MB of work, so
    the request threads bound it), one of the SLOTS (`slot()`) for anything larger or unreadable."""
    from PIL import Image

    try:
        width, height = Image.open(io.BytesIO(raw)).size  # the header only
    except Exception:  # unreadable, or a decompression bomb: preprocess says why, inside a slot
        width = height = SLOT_FREE_PIXELS
    if width * height <= SLOT_FREE_PIXELS:
        yield
        return
    with slot(wait_s):
        yield


def open_checked(raw: bytes, load: bool = True) -> Image.Image:
    """A validated PIL image from upload bytes, decoded at reduced size when large (UploadError otherwise).

    `load=False` checks the header only (the child decoder loads it itself)."""
    from PIL import Image, UnidentifiedImageError

    if not raw:
        raise UploadError("The file is empty (0 bytes).")
    if len(raw) > MAX_BYTES:
        raise UploadError(
            f"The file is {len(raw) / 1e6:.1f} MB; the limit is {MAX_BYTES // (1024 * 1024)} MB.", too_large=True
        )
    try:
        img = Image.open(io.BytesIO(raw))
    except Image.DecompressionBombError:
        raise UploadError(
            f"The image is far over the limit of {MAX_PIXELS // 1_000_000} megapixels.", too_large=True
        ) from None
    except (UnidentifiedImageError, OSError, ValueError):
        raise UploadError("This is not an image we can read: upload a PNG, JPEG or WebP photo.") from None
    if img.format not in FORMATS:
        raise UploadError(f"{img.format} images are not supported: upload a PNG, JPEG or WebP photo.")
    if img.format == "MPO":  # what many phones save as .jpg: the first frame is the photo
        img.seek(0)
    width, height = img.size
    if width * height > MAX_PIXELS:
        raise UploadError(
            f"The image is {width}x{height} ({width * height / 1e6:.0f} megapixels); "
            f"the limit is {MAX_PIXELS // 1_000_000} megapixels.",
            too_large=True,
        )
    if img.format != "MPO" and getattr(img, "is_animated", False) and getattr(img, "n_frames", 1) > 1:
        raise UploadError("Animated images are not supported: upload a single still photo.")
    if not load:
        return img
    try:
        if img.format in ("JPEG", "MPO"):
            img.draft(img.mode if img.mode in ("L", "RGB") else None, (WORK_SIDE, WORK_SIDE))
        img.load()
        return reduced(img)
    except (OSError, ValueError, Image.DecompressionBombError):
        raise UploadError("The image file is damaged or truncated.") from None


def reduced(img: Image.Image) -> Image.Image:
    """16-bit greys to 8 bits, then shrunk (box filter) to at most about WORK_SIDE pixels a side."""
    from PIL import Image

    if img.mode in ("P", "1"):
        img = img.convert("RGBA" if "transparency" in img.info or img.mode == "P" else "L")
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        wide = np.asarray(img, dtype=np.uint32 if img.mode == "I" else np.uint16)
        scale = 1.0 / 257.0 if wide.max() > 255 else 1.0  # 16-bit 0..65535 onto 0..255
        img = Image.fromarray(np.clip(wide.astype(np.float32) * scale, 0, 255).round().astype(np.uint8), mode="L")
    factor = max(img.size) // WORK_SIDE
    if factor >= 2:
        img = img.reduce(factor)
    return img


def decode_in_child(raw: bytes) -> Image.Image:
    """Decode a large non-JPEG image in a child process; returns the reduced PIL image."""
    from PIL import Image

    try:
        done = subprocess.run(
            [sys.executable, "-m", "core.data.decode"],
            input=raw,
            capture_output=True,
            timeout=DECODE_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise UploadError("The image took too long to decode.") from None
    if done.returncode != 0:
        raise UploadError("The image file is damaged or truncated.")
    return Image.open(io.BytesIO(done.stdout)).copy()


def open_reduced(raw: bytes) -> tuple[Image.Image, str, tuple[int, int]]:
    """The validated upload as a PIL image of at most about WORK_SIDE pixels a side."""
    header = open_checked(raw, load=False)
    if header.format not in ("JPEG", "MPO") and header.size[0] * header.size[1] > DIRECT_PIXELS:
        return decode_in_child(raw), str(header.format), header.size
    return open_checked(raw), str(header.format), header.size


def to_fashion_mnist(img: Image.Image, warnings: list[str] | None = None) -> tuple[np.ndarray, bool]:
    """(28x28 uint8 item-light-on-black image, whether the photo was inverted). The item is separated
    from the background as core.data.separate does it (background plane and noise from the border, a
    light median filter, a threshold relative to the noise, the main connected component); what may
    make the answer unreliable (a small item, one touching the edge, a weak separation) is appended
    to `warnings` in plain words."""
    from PIL import Image, ImageFilter, ImageOps

    from core.data.separate import NoItem, separate

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
    try:
        found = separate(gray)
    except NoItem:
        found = _by_colour(np.asarray(img.convert("RGB"), dtype=np.float32), gray)
        if warnings is not None:
            warnings.append(
                "the item and the background have the same brightness in grey; the item was found by its colour, "
                "so the model sees its outline only"
            )
    if warnings is not None:
        warnings.extend(found.warnings)
    gray = found.item
    gray *= 255.0 / max(float(gray.max()), 1e-6)
    # Like the dataset's own conversion: the item's longest edge becomes 28 px and the item is centred.
    # The square crop is placed with sub-pixel precision (a float box) on the pixel grid that best
    # explains the photo (`_grid_box`), and the result lightly sharpened (the dataset's step 4).
    # bench/upload_agreement.py, ref-cnn_dropout: 95.5 % -> 96.7 % (float box, sharpening) -> 97.4 %
    # (box resampling, lower threshold) -> 98.6 % (grid phase), 2 000 photos.
    top, bottom, left, right = found.box
    side = float(max(bottom - top, right - left))
    margin = int(np.ceil(side)) + 2  # room for the square and its half-pixel shifts, black outside the photo
    padded = Image.fromarray(np.pad(np.clip(gray, 0, 255).astype(np.uint8), margin))
    x0, y0 = _grid_box(padded, top + margin, bottom + margin, left + margin, right + margin, side)
    small = padded.resize((28, 28), RESAMPLE, box=(x0, y0, x0 + side, y0 + side))
    if SHARPEN_PERCENT:
        small = small.filter(ImageFilter.UnsharpMask(radius=1, percent=SHARPEN_PERCENT, threshold=0))
    canvas = np.asarray(small, dtype=np.float32)
    canvas *= 255.0 / max(canvas.max(), 1.0)
    return np.clip(canvas, 0, 255).astype(np.uint8), inverted


BLANK_SPREAD = 4.0  # grey levels: a photo whose pixels all lie this close to one colour is blank


def _by_colour(rgb: np.ndarray, gray: np.ndarray):
    """The item found by its colour difference from the background, when the grey photo shows none
    (a red T-shirt on a green background): each pixel's colour distance from the border's median
    colour becomes the brightness. UploadError, saying which, when the photo is blank or the item
    differs from its background in neither brightness nor colour."""
    from core.data.separate import NoItem, separate

    border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
    distance = np.sqrt(((rgb - np.median(border, axis=0)) ** 2).sum(axis=2) / 3.0)
    if float(np.percentile(distance, 99)) < BLANK_SPREAD and float(gray.std()) < BLANK_SPREAD:
        raise UploadError("The image is blank: it is one even colour, with no item on it.")
    try:
        return separate(distance)
    except NoItem:
        # nothing stands out in brightness nor in colour: a plain (perhaps noisy) photo, or an item of
        # exactly its background's shade; the message says both, since a photo cannot tell them apart
        raise UploadError(
            "The photo shows no item: no item stands out from the background, in brightness or in colour "
            "(if there is one, it has its background's shade; a plain background of another shade helps)."
        ) from None


def _grid_box(img: Image.Image, top: int, bottom: int, left: int, right: int, side: float) -> tuple[float, float]:
    """Top-left corner of the square crop (side `side`) around the item box, on the best pixel grid.

    The dataset centres an item within 28 px, so along its short side the item's centre falls on a
    pixel edge or half a pixel off it (an odd number of pixels). When the photo is an enlarged
    28x28 image, the wrong guess resamples every pixel half across its neighbour and blurs fine
    texture. Both guesses are tried for each short side: the one whose 28x28 result, enlarged back,
    reproduces the photo's item best wins. On any other photo the choice is a harmless half pixel."""
    from PIL import Image

    cell = side / 28
    x0, y0 = (left + right - side) / 2, (top + bottom - side) / 2
    xs = [x0] if right - left >= side - cell / 2 else [x0, x0 - cell / 2]
    ys = [y0] if bottom - top >= side - cell / 2 else [y0, y0 - cell / 2]
    # compared inside the item box less one cell all round: the same pixels for every candidate
    inner = (int(left + cell), int(top + cell), int(right - cell), int(bottom - cell))
    if len(xs) * len(ys) == 1 or inner[2] - inner[0] < 4 or inner[3] - inner[1] < 4:
        return x0, y0
    target = np.asarray(img.crop(inner), dtype=np.float32)
    width, height = inner[2] - inner[0], inner[3] - inner[1]

    def mismatch(cx: float, cy: float) -> float:
        small = img.resize((28, 28), RESAMPLE, box=(cx, cy, cx + side, cy + side))
        scale = 28 / side
        back = small.resize(
            (width, height),
            Image.Resampling.BICUBIC,
            box=((inner[0] - cx) * scale, (inner[1] - cy) * scale, (inner[2] - cx) * scale, (inner[3] - cy) * scale),
        )
        return float(np.abs(np.asarray(back, dtype=np.float32) - target).mean())

    return min(((cx, cy) for cx in xs for cy in ys), key=lambda corner: mismatch(*corner))


def as_stored(img: Image.Image) -> tuple[np.ndarray, bool] | None:
    """(the photo's own 28×28 pixels, whether they were inverted) when the photo is already in the
    dataset's format (28×28, one grey level per pixel: grey mode, or colour with equal channels), else
    None. Such a photo is not cropped, re-centred or resampled: re-cropping a dataset photo that needs
    no crop changed the answer for 6 % of the test photos and cost 4 points of accuracy. A light
    background (a dark item on white) is inverted, as for any upload."""
    from PIL import ImageOps

    if img.size != (28, 28) or img.mode not in ("L", "P", "RGB", "RGBA", "LA", "I;16", "I"):
        return None
    img = ImageOps.exif_transpose(img)
    if img.mode in ("RGB", "RGBA", "P"):
        rgb = np.asarray(img.convert("RGB"), dtype=np.int16)
        if np.abs(rgb - rgb[..., :1]).max() > 2:  # colour: a photo, not a dataset image
            return None
    see_through = img.mode in ("RGBA", "LA") or "transparency" in img.info
    if see_through and int(np.asarray(img.convert("RGBA"))[..., 3].min()) < 255:
        return None  # see-through pixels: composited on white by the general path
    gray = np.asarray(img.convert("L"), dtype=np.uint8)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    inverted = bool(np.median(border) > 127)
    return (255 - gray if inverted else gray).copy(), inverted


def preprocess(raw: bytes, preview: bool = False) -> dict:
    """Validate and convert upload bytes: {image (28x28 uint8), inverted, original_size, format,
    familiarity (core.data.familiar.assess: does it look like a Fashion-MNIST item?), warnings (plain
    sentences: a small item, one touching the edge, a weak separation from the background), and with
    `preview` a PNG (at most 224 px a side) of the photo as uploaded}."""
    from PIL import ImageOps

    from core.data import familiar

    img, fmt, size = open_reduced(raw)
    warnings: list[str] = []
    stored = as_stored(img)
    if stored is not None:  # already a Fashion-MNIST photo: the model sees exactly its pixels
        image, inverted = stored
        plain = None  # the dataset's own items touch its frame: the plain-border test is for camera photos
    else:
        image, inverted = to_fashion_mnist(img, warnings)
        plain = familiar.plain_border_share(np.asarray(ImageOps.exif_transpose(img).convert("L")))
    result = {
        "image": image,
        "inverted": inverted,
        "original_size": size,
        "format": fmt,
        "as_stored": stored is not None,
        "familiarity": familiar.assess(image, plain, as_stored=stored is not None),
        "warnings": warnings,
    }
    if preview:
        result["preview"] = _preview(img)
    return result


def _preview(img: Image.Image) -> bytes:
    from PIL import ImageOps

    small = ImageOps.exif_transpose(img).copy()
    small.thumbnail((224, 224))
    out = io.BytesIO()
    small.convert("RGBA").save(out, format="PNG")
    return out.getvalue()
