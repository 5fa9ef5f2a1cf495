"""Is run A really better than run B? Paired comparisons of stored runs on the same test photos.

Every page, the CLI (`python -m core compare A B`), the API (`GET /api/compare`) and the overview's
"CNN against the classic models" sentence call these, so they all show the same figures.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.evaluation import stats
from core.store import RunError, RunStore


def compare_runs(a: str, b: str, store: RunStore | None = None) -> dict[str, Any]:
    """The paired comparison of two completed runs (stats.paired keys), from their predictions.npz.

    RunError (UnknownRun, DamagedRun, …) when either run has no usable test predictions."""
    store = store or RunStore()
    if a == b:
        raise RunError("choose two different runs to compare")
    store.usable(a)
    store.usable(b)
    pa, pb = store.predictions(a), store.predictions(b)
    if not np.array_equal(pa["y_true"], pb["y_true"]):
        raise RunError(f"{a} and {b} were not scored on the same test photos")
    return stats.paired(pa["y_true"], pa["y_pred"], pb["y_pred"], a, b)


def discordant(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Indices of the photos only A gets right and only B gets right (the McNemar counts)."""
    right_a, right_b = a["y_pred"] == a["y_true"], b["y_pred"] == b["y_true"]
    return {
        "a_right_b_wrong": np.flatnonzero(right_a & ~right_b),
        "b_right_a_wrong": np.flatnonzero(right_b & ~right_a),
    }


def best_of_family(records: list[dict[str, Any]], family: str) -> dict[str, Any] | None:
    """The most accurate completed full-split run of one family ("deep", "classic", "ensemble")."""
    from core.evaluation.leaderboard import FULL_SPLIT

    runs = [
        r
        for r in records
        if r.get("status") == "completed"
        and r.get("family") == family
        and ((r.get("data") or {}).get("n_train") or FULL_SPLIT) >= FULL_SPLIT
    ]
    return max(runs, key=lambda r: r["metrics"]["test_accuracy"], default=None)


def deep_vs_classic(store: RunStore | None = None) -> dict[str, Any] | None:
    """The best CNN against the best classic (scikit-learn) model, compared on the same photos;
    None when either family has no completed full-split run."""
    store = store or RunStore()
    records = store.list_runs(status="completed")
    deep, classic = best_of_family(records, "deep"), best_of_family(records, "classic")
    if deep is None or classic is None:
        return None
    result = compare_runs(deep["run_id"], classic["run_id"], store)
    result["label_a"], result["label_b"] = deep.get("label"), classic.get("label")
    return result


def top_two(store: RunStore | None = None) -> dict[str, Any] | None:
    """The most accurate run against the runner-up: is "the best model" better beyond chance?"""
    store = store or RunStore()
    from core.evaluation.leaderboard import FULL_SPLIT

    records = [
        r
        for r in store.list_runs(status="completed")
        if ((r.get("data") or {}).get("n_train") or FULL_SPLIT) >= FULL_SPLIT
    ]
    ranked = sorted(records, key=lambda r: -r["metrics"]["test_accuracy"])
    if len(ranked) < 2:
        return None
    result = compare_runs(ranked[0]["run_id"], ranked[1]["run_id"], store)
    result["label_a"], result["label_b"] = ranked[0].get("label"), ranked[1].get("label")
    return result
