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
import json
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from core import paths
from core.ablation import budget as budgets_mod
from core.ablation import techniques
from core.evaluation import stats
from core.store import ACTIVE, DAMAGED, RunStore, TrainingBusy, atomic, validate_run_id
from core.store.locks import LockTaken, hold_lock, lock_held
from core.data.dataset import N_VAL
from core.training.config import COMMON_RANGES, MAX_TRAIN_SIZE, TrainConfig
from core.training.rules import ConfigError

BASE = "base"
MAX_SEEDS = 10
MAX_NAME = 48
BUSY_POLL_S = 5.0


def folder() -> Path:
    path = paths.artifacts_dir() / "ablations"
    (path / ".locks").mkdir(parents=True, exist_ok=True)
    return path


def _plan_path(name: str) -> Path:
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
    several = len(budgets_of(plan)) > 1
    return run_id_of(plan["name"], variant["key"], seed_index, budget_of(plan, variant) if several else None)


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
) -> dict[str, Any]:
    """Validate everything and write the plan (ConfigError when anything is wrong; nothing written).
    An existing plan of the same name is kept as it is (a study is resumed, never silently redefined).

    `budgets` (epochs × photos) runs the same techniques at each budget, as one study; without it the
    study has one budget, `epochs` (default: the base's) on `subset` photos (None: all of them)."""
    name = validate_run_id(name)
    if len(name) > MAX_NAME:
        raise ConfigError(f"a study name has at most {MAX_NAME} characters")
    path = _plan_path(name)
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
    several = len(budgets) > 1
    entries, rows = [], []
    for b in budgets:
        at = replace(recipe, subset=b.subset, epochs=b.epochs).resolve()
        # with several budgets, training length is the budget itself, not a technique
        found = techniques.variants(at, only, skip=frozenset({"epochs"}) if several else frozenset())
        entries.append(
            {"key": b.key, "epochs": b.epochs, "photos": b.photos, "precision": at.params.get("precision", "float32")}
        )
        rows.append({"key": BASE, "technique": "Base recipe", "change": "", "kind": "base", "config": at.to_dict()})
        rows += [
            {"key": v.key, "technique": v.technique, "change": v.change, "kind": v.kind, "config": v.config.to_dict()}
            for v in found
        ]
        for row in rows[-len(found) - 1 :]:
            row["budget"] = b.key
    plan = {
        "name": name,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "base_from": base_from,
        "base_recipe": recipe.to_dict(),  # what the preset (or run) was when the study began
        "design": "one-at-a-time",
        "seeds": [recipe.seed + i for i in range(int(seeds))],
        "subset": budgets[0].subset,
        "epochs": budgets[0].epochs,
        "budgets": entries,
        "mode": mode,
        "judged_on": f"validation split ({N_VAL:,} photos); the test set is never scored".replace(",", " "),
        "variants": rows,
    }
    atomic.write_json(path, plan)
    return plan


def load(name: str) -> dict[str, Any]:
    try:
        return json.loads(_plan_path(name).read_text())
    except FileNotFoundError:
        raise ConfigError(f"there is no ablation study called {name}") from None
    except json.JSONDecodeError:
        raise ConfigError(f"the plan of ablation study {name} is not valid JSON") from None


def cells(plan: dict[str, Any]) -> list[tuple[dict[str, Any], int, int]]:
    """(variant, seed index from 1, seed) in training order: every variant of seed 1 first (at every
    budget, the smallest first), so an unfinished study already has complete pairs to compare."""
    return [(v, i, seed) for i, seed in enumerate(plan["seeds"], start=1) for v in plan["variants"]]


def _cell_lock(name: str, run_id: str) -> Path:
    return folder() / ".locks" / f"{run_id}.lock"


def _state(store: RunStore, run_id: str) -> str:
    """done, running, pending (no run yet) or redo (a run that failed, was interrupted or is damaged)."""
    if not store.exists(run_id):
        return "pending"
    status = store.get(run_id)["status"]
    return "done" if status == "validated" else "running" if status in ACTIVE else "redo"


def _train_cell(plan, variant, index, seed, store, log, exclusive: bool, parent_pid: int | None = None) -> dict:
    from core import training

    name = plan["name"]
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
    stop_flag = folder() / f"{name}.stop"
    try:
        with hold_lock(folder() / ".locks" / f"{name}.lock", f"ablation study {name}"):
            stop_flag.unlink(missing_ok=True)
            for variant, index, seed in cells(plan):
                if stop_flag.exists():
                    log(f"study {name} stopped; resume it with: python -m core ablate resume {name}")
                    break
                run_id = variant_run_id(plan, variant, index)
                if _state(store, run_id) in ("done", "running"):
                    continue
                with hold_lock(_cell_lock(name, run_id), f"run {run_id}"):
                    _train_waiting(plan, variant, index, seed, store, log)
            stop_flag.unlink(missing_ok=True)
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
    if (folder() / f"{name}.stop").exists():
        return "skipped"
    for variant, index, seed in cells(plan):
        run_id = variant_run_id(plan, variant, index)
        if _state(store, run_id) in ("done", "running"):
            continue
        try:
            with hold_lock(_cell_lock(name, run_id), f"run {run_id}"):
                if _state(store, run_id) in ("done", "running"):
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
    (folder() / f"{name}.stop").write_text("stop")
    return True


def is_running(name: str, store: RunStore | None = None) -> bool:
    plan = load(name)
    if lock_held(folder() / ".locks" / f"{name}.lock"):
        return True
    ids = [variant_run_id(plan, v, i) for v, i, _ in cells(plan)]
    if any(lock_held(_cell_lock(name, run_id)) for run_id in ids):
        return True
    if plan.get("mode") == "queued" and not (folder() / f"{name}.stop").exists():
        store = store or RunStore()
        return any(_state(store, run_id) != "done" for run_id in ids)
    return False


def list_studies(store: RunStore | None = None) -> list[dict[str, Any]]:
    """Every study, newest first: name, base, seeds, budget, runs done of total, running."""
    store = store or RunStore()
    rows = []
    for path in sorted(folder().glob("*.json")):
        try:
            plan = load(path.stem)
        except (ConfigError, ValueError):
            continue
        ids = [variant_run_id(plan, v, i) for v, i, _ in cells(plan)]
        rows.append(
            {
                "study": plan["name"],
                "base_from": plan.get("base_from"),
                "model": plan["variants"][0]["config"]["model"],
                "seeds": len(plan["seeds"]),
                "subset": plan.get("subset"),
                "epochs": plan.get("epochs"),
                "variants": len(plan["variants"]) - 1,
                "runs_done": sum(_state(store, run_id) == "done" for run_id in ids),
                "runs_total": len(ids),
                "created_at": plan.get("created_at"),
                "running": is_running(plan["name"], store),
            }
        )
    return sorted(rows, key=lambda r: r["created_at"] or "", reverse=True)


def _result(store: RunStore, run_id: str) -> dict[str, Any] | None:
    if not store.exists(run_id):
        return None
    record = store.get(run_id)
    if record.get("status") != "validated":
        return {"run_id": run_id, "status": record.get("status"), "val_accuracy": None, "seconds": None}
    return {
        "run_id": run_id,
        "status": "validated",
        "val_accuracy": (record.get("validation") or {}).get("val_accuracy"),
        "seconds": (record.get("timings") or {}).get("train_seconds"),
    }


def summary(name: str, store: RunStore | None = None) -> dict[str, Any]:
    """Each variant's effect on validation accuracy against the base, paired by seed: `effect` (mean of
    variant − base over the seeds where both finished), `effect_ci95` (Student-t over seeds), `seeds`,
    `seconds` (mean training seconds), `extra_seconds` (against the base) and a plain `sentence`."""
    plan = load(name)
    store = store or RunStore()
    k = len(plan["seeds"])
    results = {
        v["key"]: [_result(store, run_id_of(name, v["key"], i)) for i in range(1, k + 1)] for v in plan["variants"]
    }
    base_runs = results[BASE]
    base_acc = [r["val_accuracy"] if r else None for r in base_runs]
    base_secs = [r["seconds"] for r in base_runs if r and r["seconds"] is not None]
    base_seconds = sum(base_secs) / len(base_secs) if base_secs else None
    rows = []
    for v in plan["variants"][1:]:
        runs = results[v["key"]]
        diffs = [
            r["val_accuracy"] - b
            for r, b in zip(runs, base_acc, strict=True)
            if r and r["val_accuracy"] is not None and b is not None
        ]
        effect = stats.seed_effect(diffs)
        secs = [r["seconds"] for r in runs if r and r["seconds"] is not None]
        seconds = sum(secs) / len(secs) if secs else None
        extra = seconds - base_seconds if seconds is not None and base_seconds is not None else None
        rows.append(
            {
                "technique": v["technique"],
                "key": v["key"],
                "change": v["change"],
                "kind": v["kind"],
                "effect": effect["mean"],
                "effect_ci95": effect["ci95"],
                "effect_sd": effect["sd"],
                "seeds": effect["seeds"],
                "seconds": seconds,
                "extra_seconds": extra,
                "measurable": bool(effect["ci95"] and not effect["ci95"][0] <= 0 <= effect["ci95"][1]),
                "sentence": techniques.plain_sentence(
                    v["technique"], v["change"], v["kind"], effect, extra, base_seconds
                ),
                "runs": [r for r in runs if r],
            }
        )
    done = sum(1 for runs in results.values() for r in runs if r and r["status"] == "validated")
    return {
        "study": name,
        "base_from": plan.get("base_from"),
        "base": plan["variants"][0]["config"],
        "seeds": plan["seeds"],
        "subset": plan.get("subset"),
        "epochs": plan.get("epochs"),
        "judged_on": plan.get("judged_on"),
        "created_at": plan.get("created_at"),
        "base_accuracy": stats.spread(base_acc),
        "base_seconds": base_seconds,
        "base_runs": [r for r in base_runs if r],
        "variants": rows,
        "runs_done": done,
        "runs_total": k * len(plan["variants"]),
        "running": is_running(name, store),
    }
