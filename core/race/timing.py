"""Seconds per epoch of each race entrant on this machine, measured quietly, interleaved and repeated.

Each entrant is built in float32 and in mixed bfloat16, compiled as training compiles it, and traced
once. Then `rounds` times, one after the other in turn (so a slow spell of the VM hits every entrant
alike), it times `steps` training steps on real training photos and `steps` validation steps. An
epoch is 375 training steps of 128 photos (48 000) plus 94 validation steps (12 000 photos), as
`fit` runs it; its seconds are the median over rounds. The first steps (tracing) give the fixed
overhead of a run. Each entrant trains in the precision that is faster for it here.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import platform
import time
from typing import Any

import numpy as np

from core.data.dataset import N_VAL, spaced
from core.models.config import MAX_TRAIN_SIZE
from core.race.plan import config_for, entrant

PRECISIONS = ("float32", "mixed_bfloat16")


class _Timed:
    """One compiled network with its traced training and validation steps."""

    def __init__(self, key: str, precision: str, x: np.ndarray, y: np.ndarray):
        import keras

        from core import models

        clf: Any = models.build(config_for(key, 1, precision, 0))
        self.batch = int(clf.batch_size)
        self.steps_per_epoch = math.ceil(MAX_TRAIN_SIZE / self.batch)
        self.val_steps = math.ceil(N_VAL / self.batch)
        network = clf.build_network()
        network.compile(
            optimizer=clf._optimizer(self.steps_per_epoch),
            loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1),
            metrics=["accuracy"],
        )
        self.x, self.y = clf.prepare(x), keras.utils.to_categorical(y, 10)
        started = time.perf_counter()
        network.make_train_function()
        network.make_test_function()
        self.train_step, self.test_step = network.train_function, network.test_function
        self._run(self.train_step, 2)
        self._run(self.test_step, 2)
        self.trace_seconds = time.perf_counter() - started

    def _run(self, step, n: int) -> list[float]:
        times = []
        for i in range(n):
            lo = (i * self.batch) % (len(self.x) - self.batch)
            batch = (self.x[lo : lo + self.batch], self.y[lo : lo + self.batch])
            started = time.perf_counter()
            step(iter([batch]))
            times.append(time.perf_counter() - started)
        return times

    def round(self, steps: int) -> float:
        """Seconds of one epoch from the median of `steps` training and `steps` validation steps."""
        train = float(np.median(self._run(self.train_step, steps)))
        val = float(np.median(self._run(self.test_step, steps)))
        return self.steps_per_epoch * train + self.val_steps * val


def measure(keys: list[str], rounds: int = 3, steps: int = 25, log=lambda _l: None) -> dict[str, Any]:
    """{entrant: {precision: {epoch_seconds, rounds, overhead_seconds}, chosen}} plus when and where."""
    from core import data

    for key in keys:
        entrant(key)
    dataset = data.load()
    x, y = dataset.x_train[:4096], dataset.y_train[:4096]
    nets = {(k, p): _Timed(k, p, x, y) for k in keys for p in PRECISIONS}
    per_round: dict[tuple[str, str], list[float]] = {kp: [] for kp in nets}
    for r in range(rounds):
        for kp, net in nets.items():  # interleaved: every entrant once per round
            per_round[kp].append(net.round(steps))
        log(
            f"timing round {r + 1}/{rounds}: " + ", ".join(f"{k} {p}: {v[-1]:.1f} s" for (k, p), v in per_round.items())
        )
    out: dict[str, Any] = {}
    for key in keys:
        rows: dict[str, dict[str, Any]] = {
            p: {
                "epoch_seconds": round(float(np.median(per_round[(key, p)])), 2),
                "rounds": [round(v, 2) for v in per_round[(key, p)]],
                "overhead_seconds": round(nets[(key, p)].trace_seconds, 1),
            }
            for p in PRECISIONS
        }
        chosen = min(PRECISIONS, key=lambda p: float(rows[p]["epoch_seconds"]))
        out[key] = {**rows, "chosen": chosen}
    return {
        "entrants": out,
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, {platform.platform()}",
        "load_average": [round(v, 2) for v in os.getloadavg()],
        "method": (
            f"median of {rounds} interleaved rounds, each {steps} training and {steps} validation steps after "
            f"tracing, scaled to 375 training and 94 validation steps (an epoch on {spaced(MAX_TRAIN_SIZE)} photos "
            f"with its validation on {spaced(N_VAL)})"
        ),
    }
