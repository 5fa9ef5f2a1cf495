"""An ablation study's plan and folder: `artifacts/ablations/<name>.json`, its run ids, budgets, the
state of each run read from the store, and whether the study is running (its locks and stop flag).

Both the engine (`core.ablation.study`) and the results (`core.ablation.results`) read a study
through this module; it imports nothing from either.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any

from core.models.config import MAX_TRAIN_SIZE
from core.models.rules import ConfigError
from core.store import ACTIVE, RunStore
from core.store.studies import ABLATIONS

FOLDER = ABLATIONS  # artifacts/ablations/: plans, locks, stop flags (core.store.studies)
BASE = "base"
FACTORIAL = "factorial"
ONE_AT_A_TIME = "one-at-a-time"


@dataclass(frozen=True)
class Plan:
    """An ablation study as written when it began (`artifacts/ablations/<name>.json`); never changed
    afterwards, so a resumed study trains exactly what it planned. Variants, budgets and factors stay
    plain JSON rows (`key`, `technique`, `change`, `kind`, `config`, `budget`; see core.ablation.study)."""

    name: str
    variants: tuple[dict[str, Any], ...]
    seeds: tuple[int, ...]
    created_at: str | None = None
    base_from: str | None = None  # "preset fast", "run <id>"
    base_recipe: dict[str, Any] | None = None  # the resolved base config when the study began
    design: str | None = None  # FACTORIAL or ONE_AT_A_TIME; None in plans written before designs existed
    subset: int | None = None  # the first budget's photos (None: all) and epochs
    epochs: int | None = None
    mode: str = "local"  # "local" (one process) or "queued" (Celery workers)
    judged_on: str | None = None
    budgets: tuple[dict[str, Any], ...] = ()  # empty in plans written before budgets were recorded
    factors: tuple[dict[str, Any], ...] = ()  # factorial designs: the factors, the ±1 matrix, its aliases
    matrix: tuple[tuple[int, ...], ...] = ()
    resolution: int | None = None
    aliases: tuple[Any, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)  # keys this version does not know, kept as written

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Plan:
        """A plan from its JSON; ConfigError when required parts are missing or of the wrong shape."""
        if not isinstance(raw, dict):
            raise ConfigError("an ablation plan is a JSON object")
        known = {f.name for f in fields(cls)} - {"extra"}
        values = {k: v for k, v in raw.items() if k in known}
        try:
            values["variants"] = tuple(dict(v) for v in raw["variants"])
            values["seeds"] = tuple(int(s) for s in raw["seeds"])
            for name in ("budgets", "factors", "aliases"):
                values[name] = tuple(raw.get(name) or ())
            values["matrix"] = tuple(tuple(row) for row in raw.get("matrix") or ())
            plan = cls(**values, extra={k: v for k, v in raw.items() if k not in known})
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"the ablation plan {raw.get('name', '?')} is incomplete ({exc})") from None
        if not plan.variants or not plan.seeds or not isinstance(plan.name, str):
            raise ConfigError(f"the ablation plan {raw.get('name', '?')} has no variants or no seeds")
        return plan

    def to_dict(self) -> dict[str, Any]:
        """The plan's JSON (fields older plans did not have are left out when empty)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "extra":
                continue
            if (
                f.name in ("design", "base_recipe", "budgets", "factors", "matrix", "resolution", "aliases")
                and not value
            ):
                continue
            out[f.name] = (
                [list(r) for r in value] if f.name == "matrix" else list(value) if isinstance(value, tuple) else value
            )
        return {**out, **self.extra}


def run_id_of(name: str, key: str, seed_index: int, budget: str | None = None) -> str:
    """`<name>-<variant>-s<i>`; a study of several budgets puts the budget first: `<name>-8x48000-dropout-s1`."""
    return f"{name}-{budget}-{key}-s{seed_index}" if budget else f"{name}-{key}-s{seed_index}"


def budgets_of(plan: Plan) -> list[dict[str, Any]]:
    """The plan's budgets (epochs, photos, precision); a plan written before budgets were recorded has
    one, read from its subset, epochs and base recipe."""
    if plan.budgets:
        return list(plan.budgets)
    base = plan.variants[0]["config"]
    photos = plan.subset or MAX_TRAIN_SIZE
    return [
        {
            "key": f"{plan.epochs or base['epochs']}x{photos}",
            "epochs": plan.epochs or base["epochs"],
            "photos": photos,
            "precision": (base.get("params") or {}).get("precision", "float32"),
        }
    ]


def budget_of(plan: Plan, variant: dict[str, Any]) -> str:
    return variant.get("budget") or budgets_of(plan)[0]["key"]


def variant_run_id(plan: Plan, variant: dict[str, Any], seed_index: int) -> str:
    several = len(budgets_of(plan)) > 1 and plan.design != FACTORIAL
    return run_id_of(plan.name, variant["key"], seed_index, budget_of(plan, variant) if several else None)


def load(name: str) -> Plan:
    try:
        return Plan.from_dict(json.loads(FOLDER.plan(name).read_text()))
    except FileNotFoundError:
        raise ConfigError(f"there is no ablation study called {name}") from None
    except json.JSONDecodeError:
        raise ConfigError(f"the plan of ablation study {name} is not valid JSON") from None


def cells(plan: Plan) -> list[tuple[dict[str, Any], int, int]]:
    """(variant, seed index from 1, seed) in training order: every variant of seed 1 first (at every
    budget, the smallest first), so an unfinished study already has complete pairs to compare."""
    return [(v, i, seed) for i, seed in enumerate(plan.seeds, start=1) for v in plan.variants]


def state(store: RunStore, run_id: str) -> str:
    """done, running, pending (no run yet) or redo (a run that failed, was interrupted or is damaged)."""
    if not store.exists(run_id):
        return "pending"
    status = store.get(run_id)["status"]
    return "done" if status == "validated" else "running" if status in ACTIVE else "redo"


def run_ids(plan: Plan) -> list[str]:
    return [variant_run_id(plan, v, i) for v, i, _ in cells(plan)]


def is_running(name: str, store: RunStore | None = None) -> bool:
    plan = load(name)
    if FOLDER.locked(name):
        return True
    ids = run_ids(plan)
    if any(FOLDER.cell_locked(run_id) for run_id in ids):
        return True
    if plan.mode == "queued" and not FOLDER.stop_requested(name):
        store = store or RunStore()
        return any(state(store, run_id) != "done" for run_id in ids)
    return False
