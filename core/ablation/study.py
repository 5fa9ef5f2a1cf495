"""Ablation studies: a base recipe and its one-change variants, each trained over k seeds on a budget,
judged on the validation split only (the runs end `validated`; the test set is never scored).

A study is a plan file, `artifacts/ablations/<name>.json`, and ordinary runs named
`<name>-<variant>-s<i>` (seed i of k) in the run store. What is finished is read from the store, so a
killed study resumes where it stopped: finished runs are kept, a run that died is trained again.

Engine (as for tuning studies): local by default, one run after the other in one process holding the
study's lock and the one-training slot; with REDIS_URL, one Celery task per run (`ablate work NAME`),
each worker taking the next run nobody holds (a per-run lock in `artifacts/ablations/.locks/`).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from core.ablation import budget as budgets_mod
from core.ablation import factorial, techniques
from core.ablation.plan import (
    BASE,
    FACTORIAL,
    FOLDER,
    Plan,
    budget_of,
    budgets_of,
    cells,
    is_running,
    load,
    run_id_of,
    run_ids,
    state,
    variant_run_id,
)
from core.ablation.results import summary
from core.data.dataset import N_VAL
from core.models.config import COMMON_RANGES, MAX_TRAIN_SIZE, TrainConfig
from core.models.rules import ConfigError
from core.store import DAMAGED, RunStore, TrainingBusy, atomic, validate_run_id
from core.store.locks import LockTaken, hold_lock

__all__ = [
    "BASE",
    "FOLDER",
    "base_config",
    "budgets_of",
    "cells",
    "create",
    "is_running",
    "list_studies",
    "load",
    "request_stop",
    "run",
    "run_id_of",
    "summary",
    "variant_run_id",
    "work_one",
]

MAX_SEEDS = 10
MAX_NAME = 48
BUSY_POLL_S = 5.0


def base_config(preset: str | None = None, from_run: str | None = None, store: RunStore | None = None):
    """(the base TrainConfig, where it came from): a preset's recipe or any run's recorded settings."""
    if bool(preset) == bool(from_run):
        raise ConfigError("start from one base: a --preset or a --from-run RUN")
    if preset:
        from core.training import presets

        return presets.get(preset).config, f"preset {preset}"
    record = (store or RunStore()).get(validate_run_id(str(from_run)))
    if record.get("status") == DAMAGED or not isinstance(record.get("config"), dict):
        raise ConfigError(f"run {from_run} has no readable settings to start from")
    return TrainConfig.from_dict(record["config"]), f"run {from_run}"


def create(
    name: str,
    base: TrainConfig,
    base_from: str,
    seeds: int = 3,
    subset: int | None = 12000,
    epochs: int | None = None,
    only: list[str] | None = None,
    mode: str = "local",
    budgets: list[budgets_mod.Budget] | None = None,
    design: str = "one-at-a-time",
) -> Plan:
    """Validate everything and write the plan (ConfigError when anything is wrong; nothing written).
    An existing plan of the same name is kept as it is (a study is resumed, never silently redefined).

    `budgets` (epochs × photos) runs the same techniques at each budget, as one study; without it the
    study has one budget, `epochs` (default: the base's) on `subset` photos (None: all of them).

    `design="factorial"` sets every technique on and off in a two-level fractional-factorial design
    (core.ablation.factorial); two budgets of the same photos make the epochs one of its factors."""
    name = validate_run_id(name)
    if len(name) > MAX_NAME:
        raise ConfigError(f"a study name has at most {MAX_NAME} characters")
    path = FOLDER.plan(name)
    if path.exists():
        return load(name)
    if not 1 <= int(seeds) <= MAX_SEEDS:
        raise ConfigError(f"seeds must be between 1 and {MAX_SEEDS}, got {seeds}")
    if subset is not None:
        COMMON_RANGES["subset"].check("subset", subset)
    recipe = base.resolve()
    if recipe.epochs is None:
        raise ConfigError(f"model {base.model} is fitted in one go; ablation studies need an epoch-trained network")
    if budgets is None:
        budgets = [budgets_mod.Budget(int(epochs or recipe.epochs), int(subset or MAX_TRAIN_SIZE))]
    if design not in (FACTORIAL, "one-at-a-time"):
        raise ConfigError(f"design must be one-at-a-time or factorial, got {design!r}")
    if design == FACTORIAL:
        layout = _factorial_plan(recipe, budgets, only)
    else:
        layout = _one_at_a_time_plan(recipe, budgets, only)
    plan = Plan.from_dict(
        {
            "name": name,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "base_from": base_from,
            "base_recipe": recipe.to_dict(),  # what the preset (or run) was when the study began
            "design": design,
            "seeds": [recipe.seed + i for i in range(int(seeds))],
            "subset": budgets[0].subset,
            "epochs": budgets[0].epochs,
            "mode": mode,
            "judged_on": f"validation split ({N_VAL:,} photos); the test set is never scored".replace(",", " "),
            **layout,
        }
    )
    atomic.write_json(path, plan.to_dict())
    return plan


def _entry(b: budgets_mod.Budget, config: TrainConfig) -> dict[str, Any]:
    return {
        "key": b.key,
        "epochs": b.epochs,
        "photos": b.photos,
        "precision": config.params.get("precision", "float32"),
    }


def _factorial_plan(recipe: TrainConfig, budgets: list[budgets_mod.Budget], only: list[str] | None) -> dict[str, Any]:
    if len(budgets) > 2 or len({b.photos for b in budgets}) > 1:
        raise ConfigError("a factorial study takes one budget, or two that differ in epochs only (e.g. 8xall,24xall)")
    at = replace(recipe, subset=budgets[0].subset, epochs=budgets[0].epochs).resolve()
    epochs = (budgets[0].epochs, budgets[1].epochs) if len(budgets) == 2 else None
    built = factorial.build(at, only, epochs)
    return {
        "budgets": [_entry(b, at) for b in budgets],
        "factors": built["factors"],
        "matrix": built["matrix"],
        "resolution": built["resolution"],
        "aliases": built["aliases"],
        "variants": built["rows"],
    }


def _one_at_a_time_plan(
    recipe: TrainConfig, budgets: list[budgets_mod.Budget], only: list[str] | None
) -> dict[str, Any]:
    several = len(budgets) > 1
    entries, rows = [], []
    for b in budgets:
        at = replace(recipe, subset=b.subset, epochs=b.epochs).resolve()
        # with several budgets, training length is the budget itself, not a technique
        found = techniques.variants(at, only, skip=frozenset({"epochs"}) if several else frozenset())
        entries.append(_entry(b, at))
        rows.append({"key": BASE, "technique": "Base recipe", "change": "", "kind": "base", "config": at.to_dict()})
        rows += [
            {"key": v.key, "technique": v.technique, "change": v.change, "kind": v.kind, "config": v.config.to_dict()}
            for v in found
        ]
        for row in rows[-len(found) - 1 :]:
            row["budget"] = b.key
    return {"budgets": entries, "variants": rows}


def _train_cell(plan, variant, index, seed, store, log, exclusive: bool, parent_pid: int | None = None) -> dict:
    from core import training

    name = plan.name
    run_id = variant_run_id(plan, variant, index)
    if store.exists(run_id):
        store.delete(run_id, force=True)  # died mid-way: train it again from scratch
    config = replace(TrainConfig.from_dict(variant["config"]), seed=seed)
    log(f"{run_id}: {variant['technique']} {variant['change']} (seed {seed})".rstrip())
    record = training.train(
        config,
        run_id=run_id,
        store=store,
        score_test=False,
        save_model=False,
        exclusive=exclusive,
        parent_pid=parent_pid,
        tags={
            "ablation": {
                "study": name,
                "variant": variant["key"],
                "budget": budget_of(plan, variant),
                "seed": seed,
                "seed_index": index,
            }
        },
        produced_by={"command": f"python -m core ablate resume {name}", "ablation": name},
    )
    accuracy = (record.get("validation") or {}).get("val_accuracy")
    log(f"{run_id}: {record['status']}" + (f", validation {100 * accuracy:.2f} %" if accuracy is not None else ""))
    return record


def run(name: str, store: RunStore | None = None, log: Callable[[str], None] = lambda _l: None) -> dict[str, Any]:
    """Train every unfinished run of the study in this process, one after the other (waiting while
    another training holds the slot); returns the summary. A stop request ends it between runs."""
    plan = load(name)
    store = store or RunStore()
    try:
        with hold_lock(FOLDER.lock(name), f"ablation study {name}"):
            FOLDER.clear_stop(name)
            for variant, index, seed in cells(plan):
                if FOLDER.stop_requested(name):
                    log(f"study {name} stopped; resume it with: python -m core ablate resume {name}")
                    break
                run_id = variant_run_id(plan, variant, index)
                if state(store, run_id) in ("done", "running"):
                    continue
                with hold_lock(FOLDER.cell_lock(run_id), f"run {run_id}"):
                    _train_waiting(plan, variant, index, seed, store, log)
            FOLDER.clear_stop(name)
    except LockTaken as exc:
        raise ConfigError(str(exc)) from None
    return summary(name, store)


def _train_waiting(plan, variant, index, seed, store, log) -> None:
    while True:
        try:
            _train_cell(plan, variant, index, seed, store, log, exclusive=True)
            return
        except TrainingBusy as exc:
            log(f"waiting: {exc}")
            time.sleep(BUSY_POLL_S)


def work_one(
    name: str, store: RunStore | None = None, log: Callable[[str], None] = print, parent_pid: int | None = None
) -> str:
    """A worker's share of a queued study: the next run nobody holds (without the one-training slot,
    so N workers train N runs at once). Returns its run id, or "skipped" when nothing is left."""
    plan = load(name)
    store = store or RunStore()
    if FOLDER.stop_requested(name):
        return "skipped"
    for variant, index, seed in cells(plan):
        run_id = variant_run_id(plan, variant, index)
        if state(store, run_id) in ("done", "running"):
            continue
        try:
            with hold_lock(FOLDER.cell_lock(run_id), f"run {run_id}"):
                if state(store, run_id) in ("done", "running"):
                    continue
                _train_cell(plan, variant, index, seed, store, log, exclusive=False, parent_pid=parent_pid)
                return run_id
        except LockTaken:
            continue
    return "skipped"


def request_stop(name: str) -> bool:
    """No new run starts (the current one finishes). False when the study is not running."""
    load(name)
    if not is_running(name):
        return False
    FOLDER.request_stop(name)
    return True


def list_studies(store: RunStore | None = None) -> list[dict[str, Any]]:
    """Every study, newest first: name, base, seeds, budget, runs done of total, running."""
    store = store or RunStore()
    rows = []
    for study_name in FOLDER.names():
        try:
            plan = load(study_name)
        except (ConfigError, ValueError):
            continue
        ids = run_ids(plan)
        rows.append(
            {
                "study": plan.name,
                "base_from": plan.base_from,
                "model": plan.variants[0]["config"]["model"],
                "seeds": len(plan.seeds),
                "subset": plan.subset,
                "epochs": plan.epochs,
                "variants": len(plan.variants) - 1,
                "runs_done": sum(state(store, run_id) == "done" for run_id in ids),
                "runs_total": len(ids),
                "created_at": plan.created_at,
                "running": is_running(plan.name, store),
            }
        )
    return sorted(rows, key=lambda r: r["created_at"] or "", reverse=True)
