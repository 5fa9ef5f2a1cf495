"""Create, run and resume a race (see core.race.plan): local by default, one run after the other in
one process holding the race's lock and the one-training slot; with REDIS_URL, one Celery task per run
(`race work NAME`), each worker taking the next run nobody holds. What is finished is read from the
store, so a killed race resumes where it stopped: finished runs are kept, a run that died is trained
again from scratch.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from core.data.dataset import N_VAL
from core.models.rules import ConfigError
from core.race import plan as race_plan
from core.race.plan import FOLDER, MAX_SEEDS, Race, config_for, entrant, load, plan_epochs, run_id_of, state
from core.store import TrainingBusy, atomic, validate_run_id
from core.store.locks import LockTaken, hold_lock
from core.store.runs import RunStore

RACE_TASK = "studio.race_run"  # the Celery task a worker runs for one race run (dashboard.celery_app)
MAX_NAME = 40
BUSY_POLL_S = 5.0
DEFAULT_ENTRANTS = ("cnn64", "resnet20", "mobilenet")
DEFAULT_BUDGETS = (150, 600, 1800)


def create(
    name: str,
    entrants: list[str],
    budgets: list[int],
    seeds: int,
    timing: dict[str, Any],
    mode: str = "local",
    first_seed: int = 42,
    subset: int | None = None,
) -> Race:
    """Validate, plan every entrant's epochs at every budget from `timing` (core.race.timing.measure),
    and write the plan. An existing race of that name is kept as it is (resumed, never redefined).
    `subset` (a number of training photos) is for tests: a race is judged on all 48 000."""
    name = validate_run_id(name, "race name")
    if len(name) > MAX_NAME:
        raise ConfigError(f"a race name has at most {MAX_NAME} characters")
    if FOLDER.has_plan(name):
        return load(name)
    if len(set(entrants)) != len(entrants) or len(entrants) < 2:
        raise ConfigError("a race needs at least two different architectures")
    for key in entrants:
        entrant(key)
    if not 1 <= int(seeds) <= MAX_SEEDS:
        raise ConfigError(f"seeds must be between 1 and {MAX_SEEDS}, got {seeds}")
    missing = [k for k in entrants if k not in (timing.get("entrants") or {})]
    if missing:
        raise ConfigError(f"the timing has no measurement for {', '.join(missing)}")
    cells: dict[str, dict[str, Any]] = {}
    for budget in budgets:
        row = {}
        for key in entrants:
            measured = timing["entrants"][key]
            precision = measured["chosen"]
            epoch_s = float(measured[precision]["epoch_seconds"])
            overhead = float(measured[precision]["overhead_seconds"])
            epochs = plan_epochs(budget, epoch_s, overhead)
            config_for(key, epochs, precision, first_seed)  # refuses an invalid recipe before anything is written
            row[key] = {
                "epochs": epochs,
                "precision": precision,
                "epoch_seconds": epoch_s,
                "planned_seconds": round(overhead + epochs * epoch_s, 1),
                "over_budget": overhead + epochs * epoch_s > budget,
            }
        cells[str(budget)] = row
    raw = {
        "name": name,
        "kind": "race",
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "entrants": list(entrants),
        "entrant_recipes": {k: {"title": entrant(k).title, "why": entrant(k).why} for k in entrants},
        "shared_recipe": dict(race_plan.SHARED, batch_size=128, learning_rate=2e-3, augment="mirror"),
        "tuning": "none: each architecture in one configuration (widths as published), the same learning rate, "
        "batch and recipe for all; only the number of epochs differs, planned from each one's measured time",
        "budgets": list(budgets),
        "seeds": [first_seed + i for i in range(int(seeds))],
        "photos": subset or race_plan.MAX_TRAIN_SIZE,
        "judged_on": f"validation split ({N_VAL:,} photos); the test set is never scored".replace(",", " "),
        "mode": mode,
        "timing": timing,
        "cells": cells,
    }
    atomic.write_json(FOLDER.plan(name), raw)
    return Race(raw)


def read_timing(path: str | Path) -> dict[str, Any]:
    try:
        timing = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read the timing file {path}: {exc}") from None
    if not isinstance(timing, dict) or not isinstance(timing.get("entrants"), dict):
        raise ConfigError(f"{path} is not a race timing (python -m core race time --out FILE writes one)")
    return timing


def _train_cell(race: Race, budget: int, key: str, index: int, seed: int, store, log, exclusive, parent_pid=None):
    from core import training

    run_id = run_id_of(race.name, budget, key, index)
    if store.exists(run_id):
        store.delete(run_id, force=True)  # died mid-way: train it again from scratch
    cell = race.cell(budget, key)
    config = config_for(key, cell["epochs"], cell["precision"], seed)
    if int(race.raw.get("photos") or 0) < race_plan.MAX_TRAIN_SIZE:
        config = replace(config, subset=int(race.raw["photos"]))
    log(f"{run_id}: {entrant(key).title}, {cell['epochs']} epochs ({cell['precision']}), seed {seed}")
    record = training.train(
        config,
        run_id=run_id,
        store=store,
        score_test=False,
        save_model=False,
        exclusive=exclusive,
        parent_pid=parent_pid,
        tags={
            "race": {
                "study": race.name,
                "entrant": key,
                "budget_seconds": budget,
                "planned_seconds": cell["planned_seconds"],
                "seed": seed,
                "seed_index": index,
            }
        },
        produced_by={"command": f"python -m core race resume {race.name}", "race": race.name},
    )
    accuracy = (record.get("validation") or {}).get("val_accuracy")
    seconds = (record.get("timings") or {}).get("train_seconds")
    log(
        f"{run_id}: {record['status']}"
        + (f", validation {100 * accuracy:.2f} %" if accuracy is not None else "")
        + (f", {seconds:.0f} s (planned {cell['planned_seconds']:.0f})" if seconds is not None else "")
    )
    return record


def run(
    name: str,
    store: RunStore | None = None,
    log: Callable[[str], None] = lambda _l: None,
    only: list[str] | None = None,
) -> None:
    """Train every unfinished run of the race in this process (waiting while another training holds
    the slot), or only those of the architectures `only` names (to finish the contenders first). A stop
    request ends it between runs."""
    race = load(name)
    store = store or RunStore()
    unknown = sorted(set(only or []) - set(race.entrants))
    if unknown:
        raise ConfigError(f"race {name} has no architecture {', '.join(unknown)}; it races {', '.join(race.entrants)}")
    try:
        with hold_lock(FOLDER.lock(name), f"race {name}"):
            FOLDER.clear_stop(name)
            for budget, key, index, seed in race.cells():
                if only and key not in only:
                    continue
                if FOLDER.stop_requested(name):
                    log(f"race {name} stopped; resume it with: python -m core race resume {name}")
                    break
                run_id = run_id_of(name, budget, key, index)
                if state(store, run_id) in ("done", "running"):
                    continue
                with hold_lock(FOLDER.cell_lock(run_id), f"run {run_id}"):
                    while True:
                        try:
                            _train_cell(race, budget, key, index, seed, store, log, exclusive=True)
                            break
                        except TrainingBusy as exc:
                            log(f"waiting: {exc}")
                            time.sleep(BUSY_POLL_S)
            FOLDER.clear_stop(name)
    except LockTaken as exc:
        raise ConfigError(str(exc)) from None


def work_one(name: str, store: RunStore | None = None, log=print, parent_pid: int | None = None) -> str:
    """A worker's share of a queued race: the next run nobody holds. Returns its id, or "skipped"."""
    race = load(name)
    store = store or RunStore()
    if FOLDER.stop_requested(name):
        return "skipped"
    for budget, key, index, seed in race.cells():
        run_id = run_id_of(name, budget, key, index)
        if state(store, run_id) in ("done", "running"):
            continue
        try:
            with hold_lock(FOLDER.cell_lock(run_id), f"run {run_id}"):
                if state(store, run_id) in ("done", "running"):
                    continue
                _train_cell(race, budget, key, index, seed, store, log, exclusive=False, parent_pid=parent_pid)
                return run_id
        except LockTaken:
            continue
    return "skipped"


def queue(name: str, redis_url: str, store: RunStore | None = None) -> int:
    """One Celery task per unfinished run (`race work NAME` on a worker); returns how many were sent."""
    from celery import Celery

    race = load(name)
    store = store or RunStore()
    FOLDER.clear_stop(name)
    todo = [r for r in race.run_ids() if state(store, r) not in ("done", "running")]
    app = Celery("fashion_mnist_studio", broker=redis_url, backend=redis_url)
    for _ in todo:
        app.send_task(RACE_TASK, args=[name])
    return len(todo)


def is_running(name: str, store: RunStore | None = None) -> bool:
    race = load(name)
    if FOLDER.locked(name) or any(FOLDER.cell_locked(r) for r in race.run_ids()):
        return True
    if race.raw.get("mode") == "queued" and not FOLDER.stop_requested(name):
        store = store or RunStore()
        return any(state(store, r) != "done" for r in race.run_ids())
    return False


def request_stop(name: str) -> bool:
    load(name)
    if not is_running(name):
        return False
    FOLDER.request_stop(name)
    return True


def list_races(store: RunStore | None = None) -> list[dict[str, Any]]:
    store = store or RunStore()
    rows = []
    for name in FOLDER.names():
        try:
            race = load(name)
        except ConfigError:
            continue
        ids = race.run_ids()
        rows.append(
            {
                "race": name,
                "entrants": race.entrants,
                "budgets": race.budgets,
                "seeds": len(race.seeds),
                "runs_done": sum(state(store, r) == "done" for r in ids),
                "runs_total": len(ids),
                "created_at": race.raw.get("created_at"),
                "running": is_running(name, store),
            }
        )
    return sorted(rows, key=lambda r: r["created_at"] or "", reverse=True)
