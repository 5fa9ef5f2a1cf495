"""Seconds of training to reach 93 % test accuracy: the `fast` preset against the original CNN.

Both train on the full 48 000-photo training split in the same process, one after the other, on
this machine. After every epoch the benchmark (not the product: runs never look at the test set
while training) scores the 10 000 test photos, so it can say when 93 % was first reached; the
scoring time is not counted. The original CNN is the report's recipe: valid padding, Adam, batch
128, no BatchNorm, no augmentation.

    python -m bench.time_to_accuracy [--target 0.93] [--original-epochs 15]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from bench.common import save
from core import data, models
from core.models.config import TrainConfig
from core.training import presets

ORIGINAL = TrainConfig("cnn", epochs=15, batch_size=128, learning_rate=1e-3, params={"padding": "valid"})


def _race(config: TrainConfig, target: float) -> dict:
    """Train `config`; the epoch (and training seconds) at which test accuracy first reached `target`."""
    config = config.resolve()
    dataset = data.load()
    train_idx, val_idx = data.split_indices(data.DEFAULT_SEED)
    clf = models.build(config)
    x, y = clf.prepare(dataset.x_train[train_idx]), dataset.y_train[train_idx]
    x_val, y_val = clf.prepare(dataset.x_train[val_idx]), dataset.y_train[val_idx]
    x_test = clf.prepare(dataset.x_test)
    curve: list[dict] = []
    elapsed = [0.0]

    def on_event(event: dict) -> None:
        if event["type"] != "epoch":
            return
        elapsed[0] += event["seconds"]
        scored = float((clf.predict_proba(x_test).argmax(1) == dataset.y_test).mean())  # TTA if the config has it
        curve.append({"epoch": event["epoch"], "train_seconds": round(elapsed[0], 1), "test_accuracy": scored})
        print(f"  epoch {event['epoch']}: {elapsed[0]:.0f} s, test {100 * scored:.2f} %", flush=True)

    started = time.perf_counter()
    clf.fit(x, y, x_val, y_val, emit=on_event)
    reached = next((c for c in curve if c["test_accuracy"] >= target), None)
    best = max(curve, key=lambda c: c["test_accuracy"])
    return {
        "config": config.to_dict(),
        "wall_seconds_including_scoring": round(time.perf_counter() - started, 1),
        "seconds_to_target": reached["train_seconds"] if reached else None,
        "epoch_reached": reached["epoch"] if reached else None,
        "best_test_accuracy": best["test_accuracy"],
        "best_at_seconds": best["train_seconds"],
        "curve": curve,
    }


def main(target: float = 0.93, original_epochs: int = 15) -> dict:
    import dataclasses

    results = {}
    for name, config in (
        ("fast_preset", presets.get("fast").config),
        ("original_cnn", dataclasses.replace(ORIGINAL, epochs=original_epochs)),
    ):
        print(f"== {name}", flush=True)
        results[name] = _race(config, target)
    fast, original = results["fast_preset"], results["original_cnn"]
    ratio = None
    if fast["seconds_to_target"] and original["seconds_to_target"]:
        ratio = round(original["seconds_to_target"] / fast["seconds_to_target"], 2)
    summary = {
        "target": target,
        "fast_seconds": fast["seconds_to_target"],
        "original_seconds": original["seconds_to_target"],
        "speed_up": ratio,
        "fast_best": fast["best_test_accuracy"],
        "original_best": original["best_test_accuracy"],
    }
    print(summary, flush=True)
    save("time_to_accuracy", {"summary": summary, **results})
    return summary


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=float, default=0.93)
    parser.add_argument("--original-epochs", type=int, default=15)
    args = parser.parse_args()
    np.set_printoptions(precision=4)
    main(args.target, args.original_epochs)
