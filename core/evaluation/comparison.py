"""Is run A really better than run B? Paired comparisons of stored runs on the same test photos.

Every page, the CLI (`python -m core compare A B`), the API (`GET /api/compare`) and the overview's
"CNN against the classic models" sentence call these, so they all show the same figures.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.evaluation import stats, wording
from core.evaluation.facts import Paired, display_name
from core.store import RunError, RunStore


def compare_runs(a: str, b: str, store: RunStore | None = None) -> dict[str, Any]:
    """The paired comparison of two completed runs (stats.paired keys, and its `verdict` sentence,
    core.evaluation.wording), from their predictions.npz.

    RunError (UnknownRun, DamagedRun, …) when either run has no usable test predictions."""
    store = store or RunStore()
    if a == b:
        raise RunError("choose two different runs to compare")
    store.usable(a)
    store.usable(b)
    pa, pb = store.predictions(a), store.predictions(b)
    if not np.array_equal(pa["y_true"], pb["y_true"]):
        raise RunError(f"{a} and {b} were not scored on the same test photos")
    result = stats.paired(pa["y_true"], pa["y_pred"], pb["y_pred"], a, b)
    result["verdict"] = wording.verdict(Paired.of(result, a, b))
    return result


def discordant(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Indices of the photos only A gets right and only B gets right (the McNemar counts)."""
    right_a, right_b = a["y_pred"] == a["y_true"], b["y_pred"] == b["y_true"]
    return {
        "a_right_b_wrong": np.flatnonzero(right_a & ~right_b),
        "b_right_a_wrong": np.flatnonzero(right_b & ~right_a),
    }


def best_of_family(records: list[dict[str, Any]], family: str) -> dict[str, Any] | None:
    """The most accurate ranked run (core.evaluation.ranking) of one family ("deep", "classic", "ensemble")."""
    from core.evaluation import ranking

    return next((r for r in ranking.ranked(records) if r.get("family") == family), None)


def _top_ranked(store: RunStore, count: int, family: str | None = None) -> list[dict[str, Any]]:
    """The `count` most accurate ranked runs' records, found through the run index (same order as
    core.evaluation.ranking.ranked: accuracy, then run id)."""
    rows, _total = store.page({"status": "completed", "full_split": True, "family": family}, "-test_accuracy", count)
    return [store.get(r["run_id"]) for r in rows]


def _best_ranked(store: RunStore, family: str) -> dict[str, Any] | None:
    found = _top_ranked(store, 1, family)
    return found[0] if found else None


_answers: dict[tuple, Any] = {}


def _per_version(store: RunStore, name: str, compute):
    """`compute()`, remembered until any run of the store changes (the index's change counter): the
    story, the report and the overview ask the same whole-store questions on every page."""
    from core.store import index as run_index

    key = (str(store.root), name, run_index.version(store))
    if key not in _answers:
        if len(_answers) > 32:
            _answers.clear()
        _answers[key] = compute()
    return _answers[key]


def deep_vs_classic(store: RunStore | None = None) -> dict[str, Any] | None:
    """The best CNN against the best classic (scikit-learn) model, compared on the same photos;
    None when either family has no completed full-split run."""
    store = store or RunStore()
    return _per_version(store, "deep_vs_classic", lambda: _deep_vs_classic(store))


def _deep_vs_classic(store: RunStore) -> dict[str, Any] | None:
    deep, classic = _best_ranked(store, "deep"), _best_ranked(store, "classic")
    if deep is None or classic is None:
        return None
    result = compare_runs(deep["run_id"], classic["run_id"], store)
    result["label_a"], result["label_b"] = display_name(deep), display_name(classic)
    return result


def top_two(store: RunStore | None = None) -> dict[str, Any] | None:
    """The most accurate run against the runner-up: is "the best model" better beyond chance?"""
    store = store or RunStore()
    return _per_version(store, "top_two", lambda: _top_two(store))


def _top_two(store: RunStore) -> dict[str, Any] | None:
    ranked = _top_ranked(store, 2)
    if len(ranked) < 2:
        return None
    result = compare_runs(ranked[0]["run_id"], ranked[1]["run_id"], store)
    result["label_a"], result["label_b"] = display_name(ranked[0]), display_name(ranked[1])
    return result
