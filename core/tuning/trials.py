"""One trial of a study: its objective (a run trained on the study's subset, scored on validation),
its liveness lock, and the reaping of trials whose process died.

Every trial is executed inside an exclusive `flock` on `artifacts/tuning/<study>-t<NNN>.lock`, held
from before its run exists until the trial is told to Optuna. A `RUNNING` trial whose lock is free
(after a short grace period for the moment between Optuna creating the trial and the objective
taking the lock) belongs to a dead process: it is marked FAIL, and its run, if any, reads
`interrupted` through the run store's own liveness lock. Nobody else ever changes a live trial.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import traceback
from collections.abc import Callable
from typing import Any

from core.models.config import TrainConfig
from core.store import RunStore
from core.store.locks import hold_lock
from core.store.studies import TUNING
from core.tuning.space import Dim

GRACE_SECONDS = 10  # a RUNNING trial younger than this is left alone (it is taking its lock)


def run_id_of(study: str, number: int) -> str:
    return f"{study}-t{number:03d}"


def worker_name() -> str:
    return os.environ.get("STUDIO_WORKER_NAME") or f"{socket.gethostname()}:{os.getpid()}"


def sample(trial, space: dict[str, Dim]) -> dict[str, Any]:
    values = {}
    for dim in space.values():
        if dim.kind == "choice":
            values[dim.name] = trial.suggest_categorical(dim.name, list(dim.choices))
        elif dim.kind == "int":
            values[dim.name] = trial.suggest_int(dim.name, int(dim.low), int(dim.high))
        else:
            values[dim.name] = trial.suggest_float(dim.name, dim.low, dim.high, log=dim.log)
    return values


def execute(
    study,
    model: str,
    base: TrainConfig,
    space: dict[str, Dim],
    configure: Callable[[TrainConfig, dict[str, Any]], TrainConfig],
    store: RunStore,
    log: Callable[[str], None],
    exclusive: bool = True,
    parent_pid: int | None = None,
) -> str:
    """Ask the study for one trial, train it, tell the result; returns the trial's final state
    ("complete", "pruned" or "fail"). The trial's lock is held from just after Optuna creates it
    until after its result is stored, so only a dead process leaves a RUNNING trial unlocked.
    A failure is kept as the trial's `error` (and logged with its traceback); it never stops the study."""
    import optuna
    from optuna.trial import TrialState

    name = study.study_name
    trial = study.ask()
    with hold_lock(TUNING.cell_lock(run_id_of(name, trial.number)), f"trial {trial.number} of {name}"):
        run_id = run_id_of(name, trial.number)
        trial.set_user_attr("run_id", run_id)
        trial.set_user_attr("worker", worker_name())
        try:
            value = _train(trial, name, model, run_id, base, space, configure, store, log, exclusive, parent_pid)
        except optuna.TrialPruned:
            study.tell(trial, state=TrialState.PRUNED)
            return "pruned"
        except Exception as exc:
            trial.set_user_attr("error", f"{exc.__class__.__name__}: {exc}"[:500])
            log(f"trial {trial.number} failed:\n{traceback.format_exc()}")
            study.tell(trial, state=TrialState.FAIL)
            return "fail"
        study.tell(trial, value)
        return "complete"


def _train(trial, name, model, run_id, base, space, configure, store, log, exclusive, parent_pid) -> float:
    import optuna

    from core import training
    from core.training.engine import StopTraining

    config = configure(base, sample(trial, space))

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
        exclusive=exclusive,
        parent_pid=parent_pid,
    )
    if record["status"] == "pruned":
        raise optuna.TrialPruned(record.get("error"))
    if record["status"] != "validated":
        raise RuntimeError(f"{run_id} ended {record['status']}: {record.get('error')}")
    value = float(record["validation"]["val_accuracy"])
    log(f"trial {trial.number}: validation accuracy {100 * value:.2f} %")
    return value


def alive(study: str, trial) -> bool:
    """True while the trial's process holds its lock, or while it is too young to have taken it."""
    if TUNING.cell_locked(run_id_of(study, trial.number)):
        return True
    started = trial.datetime_start
    if started is None:
        return True
    now = dt.datetime.now(started.tzinfo) if started.tzinfo else dt.datetime.now()
    return (now - started).total_seconds() < GRACE_SECONDS


def reap(study, store: RunStore) -> int:
    """Trials left `RUNNING` by a killed process become FAIL (so a study never waits for them);
    returns how many. Their runs read `interrupted` through the run store's liveness lock."""
    from optuna.trial import TrialState

    reaped = 0
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if alive(study.study_name, trial):
            continue
        run_id = trial.user_attrs.get("run_id")
        status = store.get(run_id)["status"] if run_id and store.exists(run_id) else "not started"
        study._storage.set_trial_user_attr(trial._trial_id, "error", f"its process died (run {status})")
        study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
        reaped += 1
    return reaped


def running(study) -> list:
    """The study's live trials (their process holds the lock)."""
    from optuna.trial import TrialState

    return [t for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)) if alive(study.study_name, t)]
