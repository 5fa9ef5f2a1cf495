"""One definition each of "a ranked run", "the most accurate run" and what every other run is.

A run is *ranked* when it finished training on the whole training split (48 000 photos) and was
scored once on the test set (status `completed`). Only ranked runs are compared, counted as "finished
runs" and called "the most accurate". Every other run is named by what it is: a demo (small-subset)
run, a study run judged on validation (an ablation or tuning run), a failed, interrupted, running or
damaged one. The overview, the leaderboard, the story, the report and the comparisons all use these.
"""

from __future__ import annotations

from typing import Any

from core.data.dataset import N_TRAIN

FULL_SPLIT = N_TRAIN  # training photos of the full 80 % split; fewer = a small-subset (demo) run

# what each kind of unranked run is called, singular and plural
KINDS = {
    "demo": ("demo run on a small subset", "demo runs on small subsets"),
    "study": ("study run judged on validation", "study runs judged on validation"),
    "failed": ("failed run", "failed runs"),
    "interrupted": ("interrupted run", "interrupted runs"),
    "running": ("run still training", "runs still training"),
    "damaged": ("damaged run", "damaged runs"),
    "pruned": ("pruned tuning trial", "pruned tuning trials"),
}


def n_train(record: dict[str, Any]) -> int:
    return int((record.get("data") or {}).get("n_train") or FULL_SPLIT)


def kind(record: dict[str, Any]) -> str:
    """ranked, demo, study, failed, interrupted, running, damaged or pruned."""
    status = record.get("status")
    if status == "completed":
        return "ranked" if n_train(record) >= FULL_SPLIT else "demo"
    if status == "validated":
        return "study"
    if status in ("queued", "running"):
        return "running"
    return status if status in KINDS else "damaged"


def ranked(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ranked runs, most accurate first (ties broken by run id, so every page names the same one)."""
    return sorted(
        (r for r in records if kind(r) == "ranked"), key=lambda r: (-r["metrics"]["test_accuracy"], r["run_id"])
    )


def most_accurate(records: list[dict[str, Any]]) -> dict[str, Any] | None:
    found = ranked(records)
    return found[0] if found else None


def rank_of(run_id: str, records: list[dict[str, Any]]) -> tuple[int, int] | None:
    """(rank from 1, number of ranked runs), or None when the run is not ranked."""
    found = ranked(records)
    for i, r in enumerate(found, start=1):
        if r["run_id"] == run_id:
            return i, len(found)
    return None


def counts(records: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in records:
        k = kind(r)
        out[k] = out.get(k, 0) + 1
    return out


def counts_from_index(rows: list[tuple[str, bool, int]]) -> dict[str, int]:
    """`counts` from the run index's (status, whole split, number) rows: no record is read."""
    out: dict[str, int] = {}
    for status, full, number in rows:
        k = kind({"status": status, "data": {"n_train": FULL_SPLIT if full else 1}})
        out[k] = out.get(k, 0) + number
    return out


def unranked_words(records: list[dict[str, Any]] | dict[str, int]) -> str:
    """e.g. "42 study runs judged on validation and 1 demo run on a small subset" ("" when none), from
    records or from counts by kind."""
    found = records if isinstance(records, dict) else counts(records)
    parts = [f"{found[k]} {KINDS[k][0] if found[k] == 1 else KINDS[k][1]}" for k in KINDS if found.get(k)]
    if not parts:
        return ""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
