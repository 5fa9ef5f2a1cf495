"""The 95 % Wilson score interval of a proportion, and a metrics dict completed with its intervals.

Pure arithmetic over counts, so every layer can use it: the run store adds intervals on read to
records written before intervals existed (a record-format upgrade), and core.evaluation.stats builds
its paired tests on it. Checked against scipy and statsmodels in tests/test_stats.py.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

LEVEL = 0.95


_Z = {0.95: 1.959963984540054}  # two-sided standard-normal quantiles (scipy.stats.norm.ppf(0.975))


def z_value(level: float) -> float:
    if level not in _Z:
        from scipy.stats import norm

        _Z[level] = float(norm.ppf(1 - (1 - level) / 2))
    return _Z[level]


def wilson(successes: int, n: int, level: float = LEVEL) -> tuple[float, float]:
    """The Wilson score interval (low, high) of `successes` out of `n` (no continuity correction).

    The closed form, as statsmodels' proportion_confint(method="wilson") and scipy's
    binomtest(...).proportion_ci(method="wilson") compute it (the tests check both); it runs in
    microseconds, so reading a thousand old records and adding their intervals stays quick."""
    if n <= 0:
        return (0.0, 1.0)
    z = z_value(level)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


def with_intervals(metrics: dict[str, Any]) -> dict[str, Any]:
    """`metrics` with `test_accuracy_ci95` and each per-class `recall_ci95`, from the confusion matrix
    (the counts behind the fractions). Existing intervals are kept; the input is not changed."""
    matrix = np.asarray(metrics.get("confusion_matrix") or [], dtype=np.int64)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or not matrix.size:
        return metrics
    out = dict(metrics)
    if "test_accuracy_ci95" not in out:
        out["test_accuracy_ci95"] = _rounded(wilson(int(np.trace(matrix)), int(matrix.sum())))
    rows = out.get("per_class")
    if isinstance(rows, list) and len(rows) == len(matrix) and any("recall_ci95" not in r for r in rows):
        out["per_class"] = [
            r if "recall_ci95" in r else {**r, "recall_ci95": _rounded(wilson(int(matrix[i, i]), int(matrix[i].sum())))}
            for i, r in enumerate(rows)
        ]
    return out


def _rounded(pair: tuple[float, float]) -> list[float]:
    return [round(pair[0], 6), round(pair[1], 6)]
