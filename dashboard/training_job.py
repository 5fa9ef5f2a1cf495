"""Run a training from the dashboard: a child `python -m core train` process, followed via the store.

TensorFlow is never initialised in the dashboard's own processes (it hangs in forked children,
tensorflow#5448): the child is a fresh interpreter. It is told the launcher's pid and stops,
marking its run `interrupted`, if the launcher goes away; the Cancel button asks it to stop
through the run store. The same command works headless from a terminal.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable

from core import paths, progress
from core.config import TrainConfig, to_cli_args
from core.runs import RunError, RunStore, new_run_id

POLL_SECONDS = 0.5
START_TIMEOUT_S = 120


def command(config: TrainConfig, run_id: str) -> list[str]:
    return [sys.executable, "-m", "core", "train", *to_cli_args(config), "--run-id", run_id,
            "--parent-pid", str(os.getpid())]


def launch(config: TrainConfig, run_id: str) -> tuple[subprocess.Popen, Any]:
    """Start the child; its stderr goes to a temporary file (read for an error message)."""
    errors = tempfile.TemporaryFile(mode="w+")
    env = {**os.environ, "STUDIO_ARTIFACTS": str(paths.artifacts_dir()), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(command(config, run_id), cwd=paths.PROJECT_ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=errors, start_new_session=False)
    return proc, errors


def train_and_follow(config: TrainConfig, store: RunStore, on_update: Callable[[dict[str, Any]], None],
                     run_id: str | None = None) -> dict[str, Any]:
    """Launch a training and call `on_update(snapshot)` while it runs; returns the final snapshot.

    Raises RunError with the child's own one-line message when it refused to start.
    """
    config = config.resolve()
    run_id = run_id or new_run_id(config.model)
    proc, errors = launch(config, run_id)
    started = time.monotonic()
    try:
        while True:
            finished = proc.poll() is not None
            if store.exists(run_id):
                on_update(progress.snapshot(store, run_id))
            elif finished or time.monotonic() - started > START_TIMEOUT_S:
                raise RunError(_child_error(errors) or "the training process did not start")
            else:
                on_update({"run_id": run_id, "status": "starting", "fraction": 0.0,
                           "position": "starting: loading TensorFlow and the data…", "history": [],
                           "elapsed_text": progress.format_duration(time.monotonic() - started), "eta_text": "–"})
            if finished:
                return progress.snapshot(store, run_id)
            time.sleep(POLL_SECONDS)
    finally:
        if proc.poll() is None:  # the follower itself is being torn down: stop the child too
            proc.terminate()
        errors.close()


def _child_error(errors) -> str | None:
    errors.seek(0)
    lines = [line.strip() for line in errors.read().splitlines() if line.strip().startswith("error:")]
    return lines[-1].removeprefix("error:").strip() if lines else None
