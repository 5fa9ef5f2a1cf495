"""Start ablation studies from the dashboard: `python -m core ablate resume NAME` as a detached process
(like tuning studies, dashboard.tuning_job), or one Celery task per run when REDIS_URL is set.

The plan is validated and written here first (core.ablation.study.create), so a bad request starts
nothing; a study that was stopped or killed is started again the same way and resumes."""

from __future__ import annotations

import datetime as dt
import os
import sys

from core.ablation import study
from core.models.rules import ConfigError
from core.store import validate_run_id
from dashboard.training_job import tied_to_launcher
from dashboard.tuning_job import _launch


def start(
    preset: str,
    seeds: int,
    subset: int | None,
    epochs: int | None,
    only: list[str] | None,
    name: str | None,
    budgets: str | None = None,
    design: str = "one-at-a-time",
) -> str:
    """Validate, write the plan and launch the study; returns its name (ConfigError when bad).
    `budgets` ("4x12000,8xall") replaces `subset` and `epochs`."""
    from core.ablation import budget

    name = validate_run_id(name or f"ablation-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}")
    if study.FOLDER.has_plan(name) and study.is_running(name):
        raise ConfigError(f"study {name} is already running")
    base, base_from = study.base_config(preset=preset)
    mode = "queued" if tied_to_launcher() else "local"
    parsed = budget.parse(budgets) if budgets else None
    plan = study.create(
        name, base, base_from, seeds, subset, epochs, only or None, mode=mode, budgets=parsed, design=design
    )
    resume(plan.name)
    return plan.name


def resume(name: str) -> None:
    """Train the study's unfinished runs: a detached local process, or one Celery task per run."""
    plan = study.load(name)
    if tied_to_launcher():
        from dashboard.celery_app import ABLATE_TASK, make_celery

        app = make_celery(os.environ["REDIS_URL"])
        for _ in study.cells(plan):
            app.send_task(ABLATE_TASK, args=[name])
        return
    _launch([sys.executable, "-m", "core", "ablate", "resume", name], f"{name}-ablate")
