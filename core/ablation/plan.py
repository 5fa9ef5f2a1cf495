"""An ablation study's plan and folder: `artifacts/ablations/<name>.json`, its run ids, budgets, the
state of each run read from the store, and whether the study is running (its locks and stop flag).

Both the engine (`core.ablation.study`) and the results (`core.ablation.results`) read a study
through this module; it imports nothing from either.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core import paths
from core.models.config import MAX_TRAIN_SIZE
from core.models.rules import ConfigError
from core.store import ACTIVE, RunStore, validate_run_id
from core.store.locks import lock_held

BASE = "base"
FACTORIAL = "factorial"


def folder() -> Path:
    path = paths.artifacts_dir() / "ablations"
    (path / ".locks").mkdir(parents=True, exist_ok=True)
    return path


def plan_path(name: str) -> Path:
    return folder() / f"{validate_run_id(name)}.json"


def run_id_of(name: str, key: str, seed_index: int, budget: str | None = None) -> str:
    """`<name>-<variant>-s<i>`; a study of several budgets puts the budget first: `<name>-8x48000-dropout-s1`."""
    return f"{name}-{budget}-{key}-s{seed_index}" if budget else f"{name}-{key}-s{seed_index}"


def budgets_of(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """The plan's budgets (epochs, photos, precision); a plan written before budgets were recorded has
    one, read from its subset, epochs and base recipe."""
    if plan.get("budgets"):
        return list(plan["budgets"])
    base = plan["variants"][0]["config"]
    photos = plan.get("subset") or MAX_TRAIN_SIZE
    return [
        {
            "key": f"{plan.get('epochs') or base['epochs']}x{photos}",
            "epochs": plan.get("epochs") or base["epochs"],
            "photos": photos,
            "precision": (base.get("params") or {}).get("precision", "float32"),
        }
    ]


def budget_of(plan: dict[str, Any], variant: dict[str, Any]) -> str:
    return variant.get("budget") or budgets_of(plan)[0]["key"]


def variant_run_id(plan: dict[str, Any], variant: dict[str, Any], seed_index: int) -> str:
    several = len(budgets_of(plan)) > 1 and plan.get("design") != FACTORIAL
    return run_id_of(plan["name"], variant["key"], seed_index, budget_of(plan, variant) if several else None)


def load(name: str) -> dict[str, Any]:
    try:
        return json.loads(plan_path(name).read_text())
    except FileNotFoundError:
        raise ConfigError(f"there is no ablation study called {name}") from None
    except json.JSONDecodeError:
        raise ConfigError(f"the plan of ablation study {name} is not valid JSON") from None


def cells(plan: dict[str, Any]) -> list[tuple[dict[str, Any], int, int]]:
    """(variant, seed index from 1, seed) in training order: every variant of seed 1 first (at every
    budget, the smallest first), so an unfinished study already has complete pairs to compare."""
    return [(v, i, seed) for i, seed in enumerate(plan["seeds"], start=1) for v in plan["variants"]]


def cell_lock(name: str, run_id: str) -> Path:
    return folder() / ".locks" / f"{run_id}.lock"


def state(store: RunStore, run_id: str) -> str:
    """done, running, pending (no run yet) or redo (a run that failed, was interrupted or is damaged)."""
    if not store.exists(run_id):
        return "pending"
    status = store.get(run_id)["status"]
    return "done" if status == "validated" else "running" if status in ACTIVE else "redo"


def stop_flag(name: str) -> Path:
    return folder() / f"{name}.stop"


def study_lock(name: str) -> Path:
    return folder() / ".locks" / f"{name}.lock"


def run_ids(plan: dict[str, Any]) -> list[str]:
    return [variant_run_id(plan, v, i) for v, i, _ in cells(plan)]


def is_running(name: str, store: RunStore | None = None) -> bool:
    plan = load(name)
    if lock_held(study_lock(name)):
        return True
    ids = run_ids(plan)
    if any(lock_held(cell_lock(name, run_id)) for run_id in ids):
        return True
    if plan.get("mode") == "queued" and not stop_flag(name).exists():
        store = store or RunStore()
        return any(state(store, run_id) != "done" for run_id in ids)
    return False
