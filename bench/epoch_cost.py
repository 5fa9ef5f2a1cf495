"""Where an epoch's time goes: multiply-adds per photo, milliseconds per training batch and the
arithmetic rate this CPU reaches, for each Keras recipe the studio ships.

Each network is built exactly as its preset or reference config builds it, compiled with training's
optimizer and a cross-entropy loss (no metrics: their cost is negligible), and timed over `--batches` training steps on real training photos after `--warmup`
untimed steps (tracing). A training step costs about 3x the forward multiply-adds (forward, and the
gradients for inputs and for weights), 2 floating-point operations each, which gives GFLOP/s.
The per-epoch estimate is 375 batches of 128 (the 48 000-photo split), training steps only.
Every recipe is timed in float32 and under Keras' mixed_bfloat16 policy, one after the other in the
same process, and the ratio says what bfloat16 buys on this CPU.

    python -m bench.epoch_cost [--batches 40] [--warmup 5]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from bench.common import save
from core import data, models
from core.models.config import TrainConfig
from core.training import presets
from core.training.reference import REFERENCE_CONFIGS

RECIPES = {
    "original CNN (valid padding)": TrainConfig("cnn", batch_size=128, params={"padding": "valid"}),
    "fast preset (CNN + Dropout, width 32)": presets.get("fast").config,
    "best preset (CNN + Dropout, width 64)": presets.get("best").config,
    "ResNet (ref-resnet)": REFERENCE_CONFIGS["resnet"],
    "MobileNet-style (ref-mobilenet)": REFERENCE_CONFIGS["mobilenet"],
}
EPOCH_BATCHES = 375  # 48 000 photos / 128


def forward_macs(model) -> int:
    """Multiply-adds of one photo's forward pass: convolutions, depthwise convolutions, dense layers."""
    import keras

    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.DepthwiseConv2D):
            _, h, w, c = layer.output.shape
            total += h * w * c * int(np.prod(layer.kernel_size))
        elif isinstance(layer, keras.layers.Conv2D):
            _, h, w, c = layer.output.shape
            total += h * w * c * int(np.prod(layer.kernel_size)) * layer.input.shape[-1]
        elif isinstance(layer, keras.layers.Dense):
            total += layer.input.shape[-1] * layer.units
    return int(total)


PRECISIONS = ("float32", "mixed_bfloat16")


def measure(config: TrainConfig, batches: int, warmup: int, precision: str | None = None) -> dict:
    import dataclasses

    import keras

    if precision is not None:
        config = dataclasses.replace(config, params={**config.params, "precision": precision})
    config = config.resolve()
    clf = models.build(config)
    dataset = data.load()
    size = config.batch_size or 128
    x = clf.prepare(dataset.x_train[: size * (batches + warmup)])
    y = keras.utils.to_categorical(dataset.y_train[: len(x)], 10)
    network = clf.build_network()
    network.compile(optimizer=clf._optimizer(EPOCH_BATCHES), loss="categorical_crossentropy")
    network.make_train_function()
    step = network.train_function  # one training step, as fit() runs it
    times = []
    for i in range(batches + warmup):
        batch = (x[i * size : (i + 1) * size], y[i * size : (i + 1) * size])
        started = time.perf_counter()
        step(iter([batch]))
        if i >= warmup:
            times.append(time.perf_counter() - started)
    ms = 1000 * float(np.median(times))
    macs = forward_macs(network)
    return {
        "params": int(network.count_params()),
        "forward_mmacs_per_photo": round(macs / 1e6, 2),
        "ms_per_batch": round(ms, 1),
        "batch_size": size,
        "train_seconds_per_epoch": round(EPOCH_BATCHES * ms / 1000, 1),
        "gflops_per_second": round(3 * 2 * macs * size / (ms / 1000) / 1e9, 1),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args(argv)
    rows = {}
    for name, config in RECIPES.items():
        per = {precision: measure(config, args.batches, args.warmup, precision) for precision in PRECISIONS}
        ratio = per["float32"]["ms_per_batch"] / per["mixed_bfloat16"]["ms_per_batch"]
        rows[name] = {**per, "bf16_speedup": round(ratio, 2)}
        print(f"{name}: {rows[name]}", flush=True)
    return {"path": str(save("epoch_cost", {"batches": args.batches, "recipes": rows}))}


if __name__ == "__main__":
    main()
