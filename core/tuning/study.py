"""Run an Optuna study whose trials are runs in the run store; summarise it; promote its best.

Objective: validation accuracy of a training on a stratified subset (trials end `validated`, the test
set untouched). Sampler: TPE (seeded). Pruner: median of earlier trials' validation accuracy at the
same epoch (after the first epoch, once two trials have finished); a pruned trial's run ends
`pruned` with its curves kept. Storage: Optuna's RDB storage, SQLite under artifacts/tuning/ unless
OPTUNA_STORAGE names another SQLAlchemy URL (e.g. PostgreSQL shared by several machines).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from core.models.config import COMMON_RANGES, TrainConfig
from core.models.rules import ConfigError
from core.store import RunStore, validate_run_id
from core.store.locks import LockTaken, hold_lock, waiting_lock
from core.store.studies import TUNING
from core.tuning import trials as trial_runner
from core.tuning.space import COMMON, Dim, check_budget, parse

DEFAULT_SUBSET = 2000


def storage_url() -> str:
    if os.environ.get("OPTUNA_STORAGE"):
        return os.environ["OPTUNA_STORAGE"]
    return f"sqlite:///{FOLDER.root / 'optuna.db'}"


FOLDER = TUNING  # artifacts/tuning/: the Optuna database, study and trial locks, stop flags


def storage():
    """Optuna's storage of the studies. Opening a new database creates its tables and records its schema
    version, and processes doing that at once collide ("table studies already exists", "UNIQUE constraint
    failed: alembic_version": the /tune page polling a study that a CLI process or two workers are
    starting on a fresh clone), so the opening waits for any other process's."""
    with waiting_lock(FOLDER.root / "storage.lock"):
        return _optuna().storages.RDBStorage(storage_url())


def request_stop(name: str, store: RunStore | None = None) -> bool:
    """Ask a running study to stop: no new trial starts (queued ones are skipped by the workers that
    take them), and its live trials are cancelled. False when the study is not running."""
    name = validate_run_id(name, "study name")
    if not is_running(name):
        return False
    FOLDER.request_stop(name)
    store = store or RunStore()
    for trial in trial_runner.running(load(name)):
        run_id = trial.user_attrs.get("run_id")
        if run_id and store.exists(run_id) and store.get(run_id)["status"] == "running":
            store.request_cancel(run_id)
    return True


def is_running(name: str) -> bool:
    """True while a process runs this study (the kernel drops its lock on death), one of its trials
    is alive, or queued trials wait for a worker."""
    name = validate_run_id(name, "study name")
    if FOLDER.locked(name):
        return True
    try:
        study = load(name)
    except ConfigError:  # no such study (yet)
        return False
    return _running(study)


def list_studies() -> list[dict[str, Any]]:
    """Every study in the storage, newest first: name, model, trials, best validation accuracy, running."""
    optuna = _optuna()
    rows = []
    for s in optuna.get_all_study_summaries(storage=storage(), include_best_trial=True):
        rows.append(
            {
                "study": s.study_name,
                "model": s.user_attrs.get("model"),
                "trials": s.n_trials,
                "best_val_accuracy": s.best_trial.value if s.best_trial else None,
                "started": s.datetime_start.isoformat(timespec="seconds") if s.datetime_start else None,
                "running": is_running(s.study_name),
            }
        )
    return sorted(rows, key=lambda r: r["started"] or "", reverse=True)


def load(name: str):
    """The Optuna study object (for its own figures)."""
    name = validate_run_id(name, "study name")
    try:
        return _optuna().load_study(study_name=name, storage=storage())
    except KeyError:  # Optuna's "Record does not exist."
        raise ConfigError(f"there is no study called {name}") from None


def _optuna():
    import optuna

    optuna.logging.set_verbosity(logging.WARNING)
    return optuna


def config_for(base: TrainConfig, values: dict[str, Any]) -> TrainConfig:
    """`base` with sampled values: common options as fields, the rest as the model's parameters."""
    common: dict[str, Any] = {k: v for k, v in values.items() if k in COMMON and k not in base.params}
    params = {**base.params, **{k: v for k, v in values.items() if k not in common}}
    if "shift" in values and base.augment is not None:  # searching the augmentation strength turns it on
        common["augment"] = values["shift"] > 0
    return replace(base, params=params, **common).resolve()


def plan(
    model: str, trials: int, subset: int | None, epochs: int | None, overrides: list[str], seed: int = 42
) -> tuple[dict[str, Dim], TrainConfig]:
    """Validate everything a study needs before anything starts (ConfigError otherwise)."""
    check_budget(trials)
    space = parse(model, overrides)
    if subset is not None:
        COMMON_RANGES["subset"].check("subset", subset)
    base = TrainConfig(model, epochs=epochs, subset=subset, seed=seed).resolve()
    config_for(base, {d.name: (d.choices[0] if d.kind == "choice" else d.low) for d in space.values()})
    return space, base


def _create(name: str, model: str, overrides: list[str], base: TrainConfig, seed: int, budget: int, mode: str):
    """Create (or reopen) the study in the storage and record what it searches."""
    optuna = _optuna()
    study = optuna.create_study(
        study_name=name,
        storage=storage(),
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1),
        load_if_exists=True,
    )
    if study.user_attrs.get("model", model) != model:
        raise ConfigError(f"study {name} tunes {study.user_attrs['model']}, not {model}")
    study.set_user_attr("model", model)
    study.set_user_attr("space", [d.describe() for d in parse(model, overrides).values()])
    study.set_user_attr("overrides", list(overrides))
    study.set_user_attr("base", base.to_dict())
    study.set_user_attr("seed", seed)
    study.set_user_attr("mode", mode)
    study.set_user_attr("budget", len(study.trials) + budget)
    return study


def run(
    model: str,
    trials: int,
    subset: int | None = DEFAULT_SUBSET,
    epochs: int | None = None,
    overrides: list[str] | None = None,
    name: str | None = None,
    store: RunStore | None = None,
    log: Callable[[str], None] = lambda _line: None,
    seed: int = 42,
) -> dict[str, Any]:
    """Run (or continue) a study of `trials` trials in this process, one after the other; returns
    its summary. The study's lock marks it running; a stop request ends it after the current trial."""
    space, base = plan(model, trials, subset, epochs, overrides or [], seed)
    store = store or RunStore()
    name = validate_run_id(name or f"study-{model}-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}", "study name")
    try:
        with hold_lock(FOLDER.lock(name), f"study {name}"):
            study = _create(name, model, overrides or [], base, seed, trials, "local")
            FOLDER.clear_stop(name)
            for _ in range(trials):
                if FOLDER.stop_requested(name):
                    break
                trial_runner.execute(study, model, base, space, config_for, store, log)
            FOLDER.clear_stop(name)
    except LockTaken as exc:
        raise ConfigError(str(exc)) from None
    return summary(name, store)


def dispatch(
    model: str,
    trials: int,
    subset: int | None,
    epochs: int | None,
    overrides: list[str],
    name: str,
    send: Callable[[str], None],
    seed: int = 42,
) -> str:
    """Create the study and queue its trials: `send(name)` is called once per trial (a Celery task
    per trial: each worker that takes one runs `run_queued_trial`). Returns the study's name."""
    _space, base = plan(model, trials, subset, epochs, overrides, seed)
    name = validate_run_id(name, "study name")
    if is_running(name):
        raise ConfigError(f"study {name} is already running")
    _create(name, model, overrides, base, seed, trials, "queued")
    FOLDER.clear_stop(name)
    for _ in range(trials):
        send(name)
    return name


def run_queued_trial(
    name: str, store: RunStore | None = None, log: Callable[[str], None] = print, parent_pid: int | None = None
) -> str:
    """A worker's share of a queued study: one trial (without the one-training slot, so N workers
    train N trials at once). Returns the trial's state, or "skipped" once the study was stopped or
    its budget is spent."""
    study = load(name)
    attrs = study.user_attrs
    if FOLDER.stop_requested(name) or len(study.trials) >= attrs["budget"]:
        return "skipped"
    base = TrainConfig.from_dict(attrs["base"])
    space = parse(attrs["model"], list(attrs.get("overrides", [])))
    return trial_runner.execute(
        study, attrs["model"], base, space, config_for, store or RunStore(), log, exclusive=False
    )


def summary(name: str, store: RunStore | None = None) -> dict[str, Any]:
    """Every trial (number, state, validation accuracy, parameters, run and its status, worker,
    error), the best, whether the study is running and how many queued trials wait for a worker."""
    store = store or RunStore()
    study = load(name)
    trial_runner.reap(study, store)
    rows = []
    for trial in study.get_trials(deepcopy=False):
        run_id = trial.user_attrs.get("run_id")
        rows.append(
            {
                "number": trial.number,
                "state": trial.state.name.lower(),
                "val_accuracy": trial.value,
                "params": trial.params,
                "run_id": run_id,
                "run_status": store.get(run_id)["status"] if run_id and store.exists(run_id) else None,
                "epochs_reported": len(trial.intermediate_values),
                "worker": trial.user_attrs.get("worker"),
                "started": _iso(trial.datetime_start),
                "finished": _iso(trial.datetime_complete),
                "error": trial.user_attrs.get("error"),
            }
        )
    done = [r for r in rows if r["state"] == "complete"]
    best = max(done, key=lambda r: r["val_accuracy"]) if done else None
    return {
        "study": name,
        **study.user_attrs,
        "storage": storage_url().split("://")[0],
        "trials": rows,
        "best": best,
        "running": _running(study),
        "waiting": _waiting(study),
    }


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat(timespec="milliseconds") if moment else None


def _waiting(study) -> int:
    """Queued trials no worker has taken yet (0 for a local study, or once it was stopped)."""
    attrs = study.user_attrs
    if attrs.get("mode") != "queued" or FOLDER.stop_requested(study.study_name):
        return 0
    return max(0, int(attrs.get("budget", 0)) - len(study.trials))


def _running(study) -> bool:
    name = study.study_name
    return FOLDER.locked(name) or bool(trial_runner.running(study)) or _waiting(study) > 0


def promote(name: str, store: RunStore | None = None, log: Callable[[str], None] = lambda _line: None) -> dict:
    """Retrain the best trial's configuration on the full training split as a normal run (the test
    set is scored here, once). Returns the new run's record."""
    from core import training

    store = store or RunStore()
    result = summary(name, store)
    if not result["best"]:
        raise ConfigError(f"study {name} has no finished trial to promote yet")
    base = TrainConfig.from_dict({**result["base"], "subset": None})
    config = config_for(base, result["best"]["params"])
    log(f"promoting trial {result['best']['number']} of {name}: {config.params}")
    return training.train(
        config,
        store=store,
        produced_by={
            "command": f"python -m core tune --promote {name}",
            "promoted_from": {"study": name, "trial": result["best"]["number"], "run": result["best"]["run_id"]},
        },
    )
