"""Separate the item of a photo from its background, the way camera photos need it.

Fashion-MNIST items were photographed alone on a plain background. A phone or camera photo of one has
an off-white (or grey, or dark) background that is not quite even, sensor noise and JPEG artefacts, so
"every pixel above a fixed level is the item" keeps single noisy pixels and crops the whole photo.
Here, as image-processing tools do it:

1. the background is estimated from the photo's border: a plane fitted to the border pixels (level
   and mild lighting falloff), and its noise level as 1.4826 x the median absolute deviation;
2. a light 3x3 median filter removes single noisy pixels before the item is separated;
3. a pixel belongs to the item when it stands out from the background plane by more than
   K_SIGMA x the noise level (and at least MIN_CONTRAST grey levels);
4. the main connected component is kept (with the parts close to it, such as a sandal's straps);
   stray specks elsewhere are dropped;
5. warnings say when the item is small in the photo, touches its edge, or hardly stands out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

K_SIGMA = 5.0  # item pixels stand out by more than this many noise sigmas from the background
MIN_CONTRAST = 8.0  # ... and by at least this many grey levels (0-255), whatever the noise
BORDER_SHARE = 0.03  # the border ring used to model the background: 3 % of the shorter side (>= 2 px)
JOIN_SHARE = 0.02  # parts closer than 2 % of the photo's shorter side belong to one item
KEEP_SHARE = 0.15  # other parts are kept when at least 15 % the size of the main one
SMALL_SHARE = 0.15  # an item whose longest side is under 15 % of the photo's shorter side is "small"
WEAK_CONTRAST = 6.0  # item median under this many noise sigmas above the background: "uncertain"


@dataclass
class Separation:
    item: np.ndarray  # float32, the item's brightness above the background (0 outside the item)
    box: tuple[int, int, int, int]  # top, bottom, left, right (exclusive) of the kept item
    noise: float  # the background's noise level (grey levels, after the median filter)
    warnings: list[str] = field(default_factory=list)


class NoItem(ValueError):
    """Nothing stands out from the background."""


def _ring(shape: tuple[int, int]) -> np.ndarray:
    height, width = shape
    width_px = max(2, round(BORDER_SHARE * min(height, width)))
    ring = np.zeros(shape, dtype=bool)
    ring[:width_px], ring[-width_px:], ring[:, :width_px], ring[:, -width_px:] = True, True, True, True
    return ring


def background_plane(gray: np.ndarray, ring: np.ndarray) -> np.ndarray:
    """A plane a + b*x + c*y fitted to the border pixels (twice: the second fit leaves out pixels
    more than 3 MADs off, such as an item touching the border)."""
    yy, xx = np.nonzero(ring)
    values = gray[ring].astype(np.float64)
    design = np.column_stack([np.ones_like(xx, dtype=np.float64), xx / gray.shape[1], yy / gray.shape[0]])
    keep = np.ones(len(values), dtype=bool)
    coef = np.zeros(3)
    for _ in range(2):
        coef, *_ = np.linalg.lstsq(design[keep], values[keep], rcond=None)
        residual = values - design @ coef
        mad = np.median(np.abs(residual - np.median(residual))) * 1.4826
        keep = np.abs(residual) <= max(3 * mad, 1.0)
    h, w = gray.shape
    ys, xs = np.mgrid[0:h, 0:w]
    return (coef[0] + coef[1] * xs / w + coef[2] * ys / h).astype(np.float32)


def separate(gray: np.ndarray) -> Separation:
    """The item of a grey photo whose item is brighter than its background (invert first otherwise)."""
    from scipy import ndimage

    gray = np.asarray(gray, dtype=np.float32)
    ring = _ring(gray.shape)
    diff = gray - background_plane(gray, ring)
    smooth = ndimage.median_filter(diff, size=3, mode="nearest")
    border = smooth[ring]
    noise = float(np.median(np.abs(border - np.median(border))) * 1.4826)
    threshold = max(MIN_CONTRAST, K_SIGMA * noise)
    mask = smooth > threshold
    if not mask.any():  # a busy border (not a plain background): fall back to the plain contrast
        mask = smooth > MIN_CONTRAST
    if not mask.any():
        raise NoItem("no item stands out from the background")
    short = min(gray.shape)
    reach = max(1, round(JOIN_SHARE * short))
    joined = ndimage.binary_dilation(mask, structure=np.ones((3, 3), bool), iterations=reach)
    labels, count = ndimage.label(joined, structure=np.ones((3, 3), bool))
    sizes = np.bincount(labels[mask], minlength=count + 1)  # item pixels (not the dilation) per part
    sizes[0] = 0
    kept_labels = np.flatnonzero(sizes >= KEEP_SHARE * sizes.max())
    region = np.isin(labels, kept_labels)
    kept = mask & region
    rows, cols = np.flatnonzero(kept.any(axis=1)), np.flatnonzero(kept.any(axis=0))
    box = (int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1)
    item = np.where(region, np.clip(diff, 0, None), 0).astype(np.float32)
    return Separation(item, box, noise, _warnings(gray.shape, box, smooth[kept], noise, sizes, kept_labels))


def _warnings(shape, box, item_values, noise, sizes, kept_labels) -> list[str]:
    top, bottom, left, right = box
    height, width = shape
    out = []
    longest = max(bottom - top, right - left)
    if longest < SMALL_SHARE * min(height, width):
        out.append(
            f"the item fills only {100 * longest / min(height, width):.0f} % of the photo's shorter side: "
            "crop closer to it for a more reliable answer"
        )
    if top == 0 or left == 0 or bottom == height or right == width:
        out.append("the item touches the edge of the photo, so part of it may be cut off")
    contrast = float(np.median(item_values)) / max(noise, 1.0)
    dropped = int(sizes.sum() - sizes[kept_labels].sum())
    if contrast < WEAK_CONTRAST or dropped > 0.25 * int(sizes[kept_labels].sum()):
        out.append(
            "the item does not stand out clearly from the background (noise, shadows or clutter), so the "
            "crop may be wrong: a plain, evenly lit background helps"
        )
    return out
