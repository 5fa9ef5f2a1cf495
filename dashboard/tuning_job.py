"""Start studies and promotions from the dashboard: `python -m core tune|promote` as detached processes.

With REDIS_URL set, a study's trials are Celery tasks instead (`study.dispatch`): every worker
sharing artifacts/ and the study storage takes one trial at a time.

Like trainings (dashboard.training_job), local studies run in their own session with no inherited descriptor,
so a server restart never stops them; the /tune page follows them through the study storage and
the run store. Everything is validated here first, so a bad request starts nothing.
"""

from __future__ import annotations

import datetime as dt
import os
import sys

from core import paths
from core.models.rules import ConfigError
from core.store import InvalidRunId, RunStore, validate_run_id
from core.tuning import study
from dashboard.training_job import _spawn, tied_to_launcher


def _study_name(name: str) -> str:
    """A study name is a folder and a run-id prefix: letters, digits, '-' and '_' (ConfigError saying
    "study name", not "run id", otherwise)."""
    try:
        return validate_run_id(name)
    except InvalidRunId:
        raise ConfigError(f"invalid study name {str(name)[:40]!r}: use 1-80 letters, digits, '-' or '_'") from None


def start_study(
    model: str, trials: int, subset: int | None, epochs: int | None, overrides: list[str], name: str | None
) -> str:
    """Validate, then launch the study; returns its name at once (ConfigError/InvalidRunId when bad).
    `epochs` is ignored for a model trained in one go (the form keeps the field for networks)."""
    from core.models import get_spec

    epochs = epochs if get_spec(model).has_epochs else None
    study.plan(model, trials, subset, epochs, overrides)
    name = _study_name(name or f"study-{model}-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}")
    if study.is_running(name):
        raise ConfigError(f"study {name} is already running")
    if tied_to_launcher():  # Celery: one task per trial, taken by however many workers there are
        from dashboard.celery_app import TRIAL_TASK, make_celery

        app = make_celery(os.environ["REDIS_URL"])
        return study.dispatch(
            model, trials, subset, epochs, overrides, name, send=lambda n: app.send_task(TRIAL_TASK, args=[n])
        )
    active = RunStore().active_run_id()
    if active:
        raise ConfigError(f"run {active} is training; a study starts when it has finished")
    cmd = [sys.executable, "-m", "core", "tune", model, "--trials", str(trials), "--study", name]
    cmd += ["--subset", str(subset)] if subset else []
    cmd += ["--epochs", str(epochs)] if epochs else []
    for item in overrides:
        cmd += ["--space", item]
    _launch(cmd, name)
    return name


def promote(name: str) -> None:
    """Launch the retraining of the study's best configuration on the full split."""
    result = study.summary(validate_run_id(name))
    if not result["best"]:
        raise ConfigError(f"study {name} has no finished trial yet")
    _launch([sys.executable, "-m", "core", "promote", name], f"{name}-promote")


def _launch(cmd: list[str], label: str) -> None:
    log_dir = paths.artifacts_dir() / "launch"
    log_dir.mkdir(parents=True, exist_ok=True)
    with open(log_dir / f"{label}.err", "w") as err:
        _spawn(cmd, err)
