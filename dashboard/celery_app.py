"""Celery when REDIS_URL is set (broker and result backend both Redis): the pages' background
callbacks, the trials of queued studies (task `studio.tune_trial`, one trial per task) and the runs
of queued ablation studies (`studio.ablate_run`, one run per task) and of queued races
(`studio.race_run`: `python -m core race start ... --queue`).

A trial runs in a fresh interpreter (`python -m core tune-trial STUDY`: TensorFlow hangs in forked
children), tied to the worker's process, so a killed worker leaves its trial failed and its run
`interrupted`. Start trial workers with `--concurrency 1`: each takes one trial at a time.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys

TRIAL_TASK = "studio.tune_trial"
ABLATE_TASK = "studio.ablate_run"  # one run of a queued ablation study
RACE_TASK = "studio.race_run"  # one run of a queued race (core.race.study.RACE_TASK)


@functools.lru_cache(maxsize=4)
def make_celery(redis_url: str):
    from celery import Celery

    app = Celery("fashion_mnist_studio", broker=redis_url, backend=redis_url)
    app.conf.update(
        broker_connection_retry_on_startup=True,
        task_track_started=True,
        worker_prefetch_multiplier=1,
        result_expires=3600,
    )

    @app.task(name=TRIAL_TASK, bind=True)
    def tune_trial(task, study: str) -> str:
        env = {**os.environ, "STUDIO_WORKER_NAME": str(task.request.hostname or os.getpid())}
        cmd = [sys.executable, "-m", "core", "tune-trial", study, "--parent-pid", str(os.getpid())]
        done = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"trial of {study} exited {done.returncode}: {done.stderr.strip()[-500:]}")
        return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""

    @app.task(name=ABLATE_TASK, bind=True)
    def ablate_run(task, name: str) -> str:
        return _study_cell(task, "ablate", name)

    @app.task(name=RACE_TASK, bind=True)
    def race_run(task, name: str) -> str:
        return _study_cell(task, "race", name)

    return app


def _study_cell(task, command: str, name: str) -> str:
    """One run of a queued study (`python -m core ablate|race work NAME`) in a fresh interpreter tied to
    this worker process; its last output line, or an error with the end of its stderr."""
    env = {**os.environ, "STUDIO_WORKER_NAME": str(task.request.hostname or os.getpid())}
    cmd = [sys.executable, "-m", "core", command, "work", name, "--parent-pid", str(os.getpid())]
    done = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"a run of {command} study {name} exited {done.returncode}: {done.stderr.strip()[-500:]}")
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def celery_manager():
    """A Dash CeleryManager on the Celery app for $REDIS_URL."""
    from dash import CeleryManager

    return CeleryManager(make_celery(os.environ["REDIS_URL"]), expire=3600)
