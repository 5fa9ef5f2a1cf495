"""A Keras model file brought from elsewhere: loaded with Keras' safe mode (a file whose layers would
run code, such as a Lambda, is refused), and checked to take the studio's input (28x28x1 grey in
[0, 1]) and give 10 class probabilities, before it is copied into a run folder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from core.store import atomic
from core.tracking.arrays import ImportRefused

MAX_BYTES = 256 * 1024 * 1024


def check(path: Path) -> Any:
    """The loaded model, or ImportRefused with the reason in one line."""
    path = Path(path)
    if not path.is_file():
        raise ImportRefused(f"model: {path.name} cannot be read (no such file)")
    if path.suffix != ".keras":
        raise ImportRefused(f"model: {path.name} must be a .keras file (model.save('model.keras'))")
    if path.stat().st_size > MAX_BYTES:
        raise ImportRefused(f"model: {path.name} is larger than {MAX_BYTES // 2**20} MB")
    import keras

    try:
        model = keras.models.load_model(str(path), safe_mode=True, compile=False)
    except Exception as exc:  # Keras raises many kinds: each means "cannot be loaded safely"
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        raise ImportRefused(f"model: {path.name} cannot be loaded safely ({first})") from None
    shape_in = tuple(model.input_shape[1:]) if hasattr(model, "input_shape") else None
    shape_out = tuple(model.output_shape[1:]) if hasattr(model, "output_shape") else None
    if shape_in != (28, 28, 1) or shape_out != (10,):
        raise ImportRefused(
            f"model: {path.name} takes {shape_in} and gives {shape_out}; the studio's photos are (28, 28, 1) in "
            "[0, 1] and it needs 10 class probabilities"
        )
    import numpy as np

    from core import data

    sample = np.asarray(data.load().x_test[:16], dtype=np.float32)[..., None] / 255.0
    out = np.asarray(model.predict(sample, verbose=0), dtype=np.float64)
    if not np.isfinite(out).all() or (out < 0).any() or np.abs(out.sum(axis=1) - 1).max() > 1e-3:
        raise ImportRefused(f"model: {path.name} does not answer with probabilities (end it with a softmax)")
    return model


def install(source: Path, target: Path) -> dict[str, Any]:
    """Check `source`, copy it to `target` atomically; the run record's artifact entry."""
    model = check(source)
    tmp = target.with_name(f".import-{os.getpid()}.keras")
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)
    return {
        "file": target.name,
        "bytes": target.stat().st_size,
        "sha256": atomic.sha256_file(target),
        "params": int(model.count_params()),
    }
