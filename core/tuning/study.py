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

from core import paths
from core.store import ACTIVE, RunStore, validate_run_id
from core.training.config import COMMON_RANGES, TrainConfig
from core.training.rules import ConfigError
from core.tuning.space import COMMON, Dim, check_budget, parse

DEFAULT_SUBSET = 2000


def storage_url() -> str:
    if os.environ.get("OPTUNA_STORAGE"):
        return os.environ["OPTUNA_STORAGE"]
    folder = paths.artifacts_dir() / "tuning"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'optuna.db'}"


def _folder():
    folder = paths.artifacts_dir() / "tuning"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def request_stop(name: str, store: RunStore | None = None) -> bool:
    """Ask a running study to stop: no new trial starts, and its current trial is cancelled.
    False when the study is not running."""
    name = validate_run_id(name)
    if not is_running(name):
        return False
    (_folder() / f"{name}.stop").write_text("stop")
    store = store or RunStore()
    active = store.active_run_id()
    if active and active.startswith(f"{name}-t"):
        store.request_cancel(active)
    return True


def is_running(name: str) -> bool:
    """True while a process runs this study (it holds the study's lock; the kernel drops it on death)."""
    from core.store.locks import lock_held

    return lock_held(_folder() / f"{validate_run_id(name)}.lock")


def list_studies() -> list[dict[str, Any]]:
    """Every study in the storage, newest first: name, model, trials, best validation accuracy, running."""
    optuna = _optuna()
    rows = []
    for s in optuna.get_all_study_summaries(storage=storage_url(), include_best_trial=True):
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
    return _optuna().load_study(study_name=validate_run_id(name), storage=storage_url())


def _optuna():
    import optuna

    optuna.logging.set_verbosity(logging.WARNING)
    return optuna


def _sample(trial, space: dict[str, Dim]) -> dict[str, Any]:
    values = {}
    for dim in space.values():
        if dim.kind == "choice":
            values[dim.name] = trial.suggest_categorical(dim.name, list(dim.choices))
        elif dim.kind == "int":
            values[dim.name] = trial.suggest_int(dim.name, int(dim.low), int(dim.high))
        else:
            values[dim.name] = trial.suggest_float(dim.name, dim.low, dim.high, log=dim.log)
    return values


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
    """Run (or continue) a study of `trials` trials; returns its summary."""
    from core import training
    from core.training.engine import StopTraining

    space, base = plan(model, trials, subset, epochs, overrides or [], seed)
    store = store or RunStore()
    name = validate_run_id(name or f"study-{model}-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}")
    optuna = _optuna()
    study = optuna.create_study(
        study_name=name,
        storage=storage_url(),
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1),
        load_if_exists=True,
    )
    if study.user_attrs.get("model", model) != model:
        raise ConfigError(f"study {name} tunes {study.user_attrs['model']}, not {model}")
    study.set_user_attr("model", model)
    study.set_user_attr("space", [d.describe() for d in space.values()])
    study.set_user_attr("base", base.to_dict())
    stop_flag = _folder() / f"{name}.stop"
    stop_flag.unlink(missing_ok=True)

    def stop_when_asked(running_study, _trial) -> None:
        if stop_flag.exists():
            running_study.stop()

    def objective(trial) -> float:
        config = config_for(base, _sample(trial, space))
        run_id = f"{name}-t{trial.number:03d}"
        trial.set_user_attr("run_id", run_id)

        def on_event(event: dict) -> None:
            if event["type"] != "epoch":
                return
            trial.report(event["val_accuracy"], event["epoch"])
            if trial.should_prune():
                raise StopTraining(
                    "pruned",
                    f"pruned by study {name} at epoch {event['epoch']}: validation accuracy "
                    f"{100 * event['val_accuracy']:.2f} % was below the median of earlier trials",
                )

        log(f"trial {trial.number}: {run_id} {config.params}")
        record = training.train(
            config,
            run_id=run_id,
            store=store,
            emit=on_event,
            score_test=False,
            tags={"study": {"name": name, "trial": trial.number}},
            produced_by={"command": f"python -m core tune {model}", "study": name, "trial": trial.number},
        )
        if record["status"] == "pruned":
            raise optuna.TrialPruned(record.get("error"))
        if record["status"] != "validated":
            raise RuntimeError(f"{run_id} ended {record['status']}: {record.get('error')}")
        value = record["validation"]["val_accuracy"]
        log(f"trial {trial.number}: validation accuracy {100 * value:.2f} %")
        return value

    import fcntl

    with open(_folder() / f"{name}.lock", "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(f"study {name} is already running") from None
        study.optimize(objective, n_trials=trials, catch=(RuntimeError,), callbacks=[stop_when_asked])
        stop_flag.unlink(missing_ok=True)
    return summary(name, store)


def reap(study, store: RunStore) -> None:
    """Trials left `RUNNING` by a killed process (their run is no longer active) become FAIL, so a
    study never waits for them forever."""
    from optuna.trial import TrialState

    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        run_id = trial.user_attrs.get("run_id")
        status = store.get(run_id)["status"] if run_id and store.exists(run_id) else None
        if status not in ACTIVE:
            study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)


def summary(name: str, store: RunStore | None = None) -> dict[str, Any]:
    """Every trial (number, state, validation accuracy, parameters, run and its status) and the best."""
    store = store or RunStore()
    optuna = _optuna()
    study = optuna.load_study(study_name=name, storage=storage_url())
    reap(study, store)
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
            }
        )
    done = [r for r in rows if r["state"] == "complete"]
    best = max(done, key=lambda r: r["val_accuracy"]) if done else None
    return {"study": name, **study.user_attrs, "storage": storage_url().split("://")[0], "trials": rows, "best": best}


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
