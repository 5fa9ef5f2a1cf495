"""Heatmaps that do not read a layer's gradients: Score-CAM, SmoothGrad and occlusion.

- Score-CAM (Wang et al. 2020): each channel of a conv layer, upsampled and scaled to [0, 1], masks
  the photo; the channel's weight is how much the masked photo raises the class probability over a
  blank photo. No gradients, so no gradient saturation.
- SmoothGrad (Smilkov et al. 2017): the input gradient of the class score, averaged over noisy
  copies of the photo (magnitude), a pixel-level map.
- Occlusion (Zeiler & Fergus 2014): a black patch slides over the photo; each pixel's heat is the
  mean drop of the class score while it is covered. Slow in general, cheap at 28 x 28.

Xplique (the maintained toolkit with these methods) was checked first: its 2.0.2 release pins
tensorflow <= 2.20 (with CUDA wheels on Linux), scikit-learn <= 1.7.2 and scipy <= 1.15.3, which
this project's TensorFlow 2.21 / scikit-learn 1.9 / scipy 1.17 cannot install beside. The methods
are short, so they are written here against the papers and tested like Grad-CAM.

All functions take (N, 28, 28, 1) float32 images and an (N,) array of classes and return (N, 28, 28)
non-negative maps (normalised by the caller).
"""

from __future__ import annotations

from typing import Any

import numpy as np

SMOOTHGRAD_SAMPLES = 24
SMOOTHGRAD_SIGMA = 0.15  # of the [0, 1] pixel range, as the paper recommends (10-20 %)
OCCLUSION_PATCH = 6
OCCLUSION_STRIDE = 2
_BATCH = 2048


def _proba(model: Any, x: np.ndarray) -> np.ndarray:
    out = [np.asarray(model(x[i : i + _BATCH], training=False), dtype=np.float32) for i in range(0, len(x), _BATCH)]
    return np.concatenate(out)


def scorecam(model: Any, features: np.ndarray, x: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Score-CAM maps from a layer's (N, h, w, C) activations `features`."""
    import tensorflow as tf

    up = tf.image.resize(np.asarray(features, dtype=np.float32), (28, 28), method="bilinear").numpy()  # (N, 28, 28, C)
    low = up.min(axis=(1, 2), keepdims=True)
    span = up.max(axis=(1, 2), keepdims=True) - low
    masks = np.where(span > 1e-9, (up - low) / np.maximum(span, 1e-9), 0.0).astype(np.float32)
    blank = _proba(model, np.zeros((1, 28, 28, 1), np.float32))[0]
    channels = features.shape[-1]
    gains = np.empty((len(x), channels), np.float32)
    step = max(1, _BATCH // channels)
    for i in range(0, len(x), step):  # every channel of `step` photos in one batch
        masked = x[i : i + step, None] * masks[i : i + step].transpose(0, 3, 1, 2)[..., None]  # (n, C, 28, 28, 1)
        proba = _proba(model, masked.reshape(-1, 28, 28, 1)).reshape(len(masked), channels, -1)
        target = classes[i : i + step]
        gains[i : i + step] = proba[np.arange(len(masked)), :, target] - blank[target][:, None]
    return np.maximum(np.einsum("nhwc,nc->nhw", up, np.maximum(gains, 0)), 0)


def smoothgrad(logits_of, x: np.ndarray, classes: np.ndarray, seed: int = 0) -> np.ndarray:
    """Mean |d score / d pixel| over noisy copies; `logits_of(x)` maps a tensor to class logits."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    total = np.zeros(x.shape[:3], np.float32)
    for _ in range(SMOOTHGRAD_SAMPLES):
        noisy = tf.convert_to_tensor(x + rng.normal(0, SMOOTHGRAD_SIGMA, x.shape).astype(np.float32))
        with tf.GradientTape() as tape:
            tape.watch(noisy)
            scores = tf.gather(logits_of(noisy), tf.constant(classes, tf.int64), axis=1, batch_dims=1)
        total += np.abs(tape.gradient(scores, noisy).numpy().astype(np.float32)[..., 0])
    return total / SMOOTHGRAD_SAMPLES


def occlusion(logits_of, x: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Mean drop of the class score (logit) while each pixel is under the black patch. The score,
    not the probability: a photo the model is sure of keeps a probability of 1.0 under any one patch."""

    def model(batch, training=False):
        return logits_of(batch)

    starts = range(0, 28 - OCCLUSION_PATCH + 1, OCCLUSION_STRIDE)
    cover = np.zeros((len(starts) ** 2, 28, 28), np.float32)  # one mask per patch position
    for k, (r, c) in enumerate((r, c) for r in starts for c in starts):
        cover[k, r : r + OCCLUSION_PATCH, c : c + OCCLUSION_PATCH] = 1.0
    base = _proba(model, x)[np.arange(len(x)), classes]
    drops = np.empty((len(x), len(cover)), np.float32)
    step = max(1, _BATCH // len(cover))
    for i in range(0, len(x), step):  # every patch position of `step` photos in one batch
        covered = x[i : i + step, None, :, :, 0] * (1.0 - cover)[None]  # (n, K, 28, 28)
        proba = _proba(model, covered.reshape(-1, 28, 28, 1)).reshape(len(covered), len(cover), -1)
        target = classes[i : i + step]
        drops[i : i + step] = base[i : i + step, None] - proba[np.arange(len(covered)), :, target]
    heat = np.einsum("nk,khw->nhw", drops, cover) / cover.sum(axis=0)
    return np.maximum(heat, 0)
