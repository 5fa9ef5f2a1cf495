"""Uncertainty for every accuracy, and paired tests between runs: pure functions over counts.

- `wilson`, `with_intervals` (from core.intervals): the 95 % Wilson score interval of a proportion;
  every test accuracy and per-class recall carries one.
- `paired`: two runs on the same test photos: the discordant counts, the exact two-sided McNemar
  p-value (scipy's binomial test on the discordant photos), and Newcombe's hybrid-score interval for
  the paired difference of accuracies (Newcombe 1998, method 10); its sentence is
  core.evaluation.wording.verdict, from the typed facts of core.evaluation.facts.
- `seed_effect`: the mean of per-seed paired differences with a Student-t 95 % interval.

The tests check these against statsmodels' independent implementations.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from core.intervals import LEVEL, wilson, with_intervals

__all__ = ["ALPHA", "LEVEL", "wilson", "with_intervals"]  # the intervals live in core.intervals (below the store)

ALPHA = 1 - LEVEL


def mcnemar_exact(a_right_b_wrong: int, b_right_a_wrong: int) -> float:
    """Exact two-sided McNemar p-value: a binomial test (p = 1/2) on the discordant photos."""
    from scipy.stats import binomtest

    discordant = int(a_right_b_wrong) + int(b_right_a_wrong)
    if discordant == 0:
        return 1.0
    return float(binomtest(int(a_right_b_wrong), discordant, 0.5, alternative="two-sided").pvalue)


def paired_difference_ci(
    both: int, a_only: int, b_only: int, neither: int, level: float = LEVEL
) -> tuple[float, float]:
    """Newcombe's hybrid-score interval for accuracy(A) - accuracy(B) on the same photos.

    `both`: photos both runs get right; `a_only`: A right, B wrong; `b_only`: B right, A wrong;
    `neither`: both wrong. Built from the two Wilson intervals and the correlation of the pairs."""
    n = both + a_only + b_only + neither
    if n == 0:
        return (-1.0, 1.0)
    p1, p2 = (both + a_only) / n, (both + b_only) / n
    l1, u1 = wilson(both + a_only, n, level)
    l2, u2 = wilson(both + b_only, n, level)
    margins = (both + a_only) * (b_only + neither) * (both + b_only) * (a_only + neither)
    # the correlation of the pairs, with Newcombe's correction: nothing for 0 <= ad - bc <= n/2
    cross = both * neither - a_only * b_only
    corrected = cross - n / 2 if cross > n / 2 else (cross if cross < 0 else 0.0)
    phi = corrected / math.sqrt(margins) if margins > 0 else 0.0
    delta = p1 - p2
    low = delta - math.sqrt(max((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2, 0.0))
    high = delta + math.sqrt(max((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2, 0.0))
    return (max(low, -1.0), min(high, 1.0))


def paired(y_true: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray, a: str = "A", b: str = "B") -> dict[str, Any]:
    """Compare two runs' predictions on the same photos: the keys of `python -m core compare`."""
    y_true, pred_a, pred_b = (np.asarray(v) for v in (y_true, pred_a, pred_b))
    if not (y_true.shape == pred_a.shape == pred_b.shape) or y_true.ndim != 1:
        raise ValueError("the two runs were not evaluated on the same photos")
    right_a, right_b = pred_a == y_true, pred_b == y_true
    both, neither = int((right_a & right_b).sum()), int((~right_a & ~right_b).sum())
    a_only, b_only = int((right_a & ~right_b).sum()), int((right_b & ~right_a).sum())
    n = len(y_true)
    result: dict[str, Any] = {
        "a": a,
        "b": b,
        "n": n,
        "accuracy_a": (both + a_only) / n if n else 0.0,
        "accuracy_b": (both + b_only) / n if n else 0.0,
        "difference": (a_only - b_only) / n if n else 0.0,
        "difference_ci95": list(paired_difference_ci(both, a_only, b_only, neither)),
        "a_right_b_wrong": a_only,
        "b_right_a_wrong": b_only,
        "both_right": both,
        "both_wrong": neither,
        "mcnemar_p": mcnemar_exact(a_only, b_only),
    }
    return result


def beyond_chance(result: dict[str, Any]) -> bool:
    """The one definition of "beyond chance" for a paired comparison: exact McNemar p < ALPHA, and the
    photos only one run gets right are not equally many."""
    return result["mcnemar_p"] < ALPHA and result["a_right_b_wrong"] != result["b_right_a_wrong"]


def _p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"{p:.3f}" if p < 0.1 else f"{p:.2f}"


def p_text(p: float) -> str:
    """ "p < 0.001" or "p = 0.012": never "p = < 0.001"."""
    return "p < 0.001" if p < 0.001 else f"p = {_p(p)}"


def seed_effect(differences: list[float | None], level: float = LEVEL) -> dict[str, Any]:
    """Mean of per-seed paired differences (variant − base, same seed) and its Student-t interval
    over seeds (None with a single seed: one run says nothing about the seed-to-seed spread)."""
    values = np.asarray([d for d in differences if d is not None and math.isfinite(d)], dtype=np.float64)
    k = len(values)
    if k == 0:
        return {"mean": None, "ci95": None, "sd": None, "seeds": 0, "p": None}
    mean = float(values.mean())
    if k < 2:
        return {"mean": mean, "ci95": None, "sd": None, "seeds": 1, "p": None}
    from scipy.stats import t

    sd = float(values.std(ddof=1))
    if sd == 0:
        # identical differences (accuracy moves in steps of one photo, so two seeds can agree exactly):
        # the seeds show no spread to judge the difference against, and the t-test is undefined
        return {"mean": mean, "ci95": None, "sd": 0.0, "seeds": k, "p": None}
    half = float(t.ppf(1 - (1 - level) / 2, k - 1)) * sd / math.sqrt(k)
    # two-sided one-sample t-test of "no effect" (scipy.stats.ttest_1samp)
    p = float(2 * t.sf(abs(mean) / (sd / math.sqrt(k)), k - 1))
    return {"mean": mean, "ci95": [mean - half, mean + half], "sd": sd, "seeds": k, "p": p}


def holm(p_values: list[float], alpha: float = ALPHA) -> tuple[list[bool], list[float]]:
    """Holm's step-down adjustment for many comparisons (statsmodels' multipletests): which of the
    p-values stay below `alpha`, and the adjusted p-values."""
    if not p_values:
        return [], []
    reject, adjusted = _holm(tuple(float(p) for p in p_values), float(alpha))
    return list(reject), list(adjusted)


@functools.lru_cache(maxsize=256)
def _holm(p_values: tuple[float, ...], alpha: float) -> tuple[tuple[bool, ...], tuple[float, ...]]:
    # remembered per set of p-values: statsmodels' Holm branch ends with a full gc.collect(), which took
    # 0.1 s in a small process here and more in a page-serving one, and every story, report and "What
    # helps" view adjusts the same committed studies again
    from statsmodels.stats.multitest import multipletests

    reject, adjusted, _, _ = multipletests(list(p_values), alpha=alpha, method="holm")
    return tuple(bool(r) for r in reject), tuple(float(a) for a in adjusted)


def spread(values: list[float | None]) -> dict[str, Any]:
    """Mean, sample standard deviation, min and max of a group of runs' accuracies (seed repeats)."""
    arr = np.asarray([v for v in values if v is not None], dtype=np.float64)
    if not len(arr):
        return {"mean": None, "sd": None, "min": None, "max": None, "n": 0}
    return {
        "mean": float(arr.mean()),
        "sd": float(arr.std(ddof=1)) if len(arr) > 1 else None,
        "min": float(arr.min()),
        "max": float(arr.max()),
        "n": len(arr),
    }
