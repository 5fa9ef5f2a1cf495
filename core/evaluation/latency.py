"""Inference cost of a fitted model, measured two ways a person cares about.

Batch throughput (all 10 000 test photos in one call, per photo) is what scoring a dataset costs;
single-photo latency (one photo per call, the median of several calls after a warm-up) is what an
upload or an API request waits for. They differ by one to two orders of magnitude for networks,
so the leaderboard shows both.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

SINGLE_CALLS = 25


def single_image_ms(clf, x: np.ndarray, calls: int = SINGLE_CALLS) -> float:
    """Median milliseconds of `clf.predict_proba` on one prepared photo (after two warm-up calls)."""
    if len(x) == 0:
        raise ValueError("need at least one photo to time")
    for i in range(2):
        clf.predict_proba(x[i % len(x) : i % len(x) + 1])
    times = []
    for i in range(calls):
        one = x[i % len(x) : i % len(x) + 1]
        started = time.perf_counter()
        clf.predict_proba(one)
        times.append(1000.0 * (time.perf_counter() - started))
    return round(statistics.median(times), 4)
