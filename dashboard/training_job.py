"""Run a training from the dashboard: a child `python -m core train` process, followed via the store.

TensorFlow is never initialised in the dashboard's own processes (it hangs in forked children,
tensorflow#5448): the child is a fresh interpreter. The same command works headless from a terminal.

The training is independent of the web server: it runs in its own process session with no
inherited descriptor (stdin/stdout are /dev/null, stderr a private file), so killing the server
never kills it nor leaves it holding the server's port; it completes its run on its own and any
server started later shows it from the run store, where the Cancel button also reaches it.
The follower (the background job that streams progress) is forked from the server: it first
drops the server's listening sockets and exits as soon as the server is gone.

With Celery (`REDIS_URL`), the worker is the unit of execution: its training is tied to it (told
its pid), so a killed worker leaves the run `interrupted` rather than an orphan nobody follows.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, Callable

from core import paths, progress
from core.config import TrainConfig, to_cli_args
from core.runs import RunError, RunStore, new_run_id

POLL_SECONDS = 0.5
START_TIMEOUT_S = 120


def tied_to_launcher() -> bool:
    """True under Celery: a worker's training stops (interrupted) when the worker dies."""
    return bool(os.environ.get("REDIS_URL"))


def command(config: TrainConfig, run_id: str, tie: bool | None = None) -> list[str]:
    tie = tied_to_launcher() if tie is None else tie
    return [sys.executable, "-m", "core", "train", *to_cli_args(config), "--run-id", run_id,
            *(["--parent-pid", str(os.getpid())] if tie else [])]


def launch(config: TrainConfig, run_id: str) -> tuple[subprocess.Popen, Any]:
    """Start the child in its own session; its stderr goes to a temporary file (for an error message)."""
    errors = tempfile.TemporaryFile(mode="w+")
    env = {**os.environ, "STUDIO_ARTIFACTS": str(paths.artifacts_dir()), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(command(config, run_id), cwd=paths.PROJECT_ROOT, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=errors, close_fds=True, start_new_session=True)
    return proc, errors


def drop_listening_sockets() -> int:
    """Point every inherited listening socket at /dev/null (same descriptor number, so objects that
    still own it close something harmless); returns how many were dropped."""
    dropped = 0
    null = os.open(os.devnull, os.O_RDWR)
    try:
        for name in os.listdir("/proc/self/fd"):
            fd = int(name)
            if fd == null:
                continue
            try:
                probe = socket.socket(fileno=os.dup(fd))
            except OSError:
                continue  # not a socket
            with probe:
                try:
                    listening = probe.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
                except OSError:
                    continue
            if listening:
                os.dup2(null, fd)
                dropped += 1
    finally:
        os.close(null)
    return dropped


def exit_with_server() -> None:
    """In a job forked from the server (or a Celery worker): leave once that parent dies. A detached
    training goes on; a tied one (Celery) sees its launcher gone and stops, `interrupted`."""
    server = os.getppid()

    def watch() -> None:
        while os.getppid() == server:
            time.sleep(POLL_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-server", daemon=True).start()


def detach_from_server() -> None:
    """What a background job forked from the web server does first (see the module doc)."""
    drop_listening_sockets()
    exit_with_server()


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
        if proc.poll() is None and tied_to_launcher():  # a Celery job torn down: its training goes too
            proc.terminate()
        errors.close()


def _child_error(errors) -> str | None:
    errors.seek(0)
    lines = [line.strip() for line in errors.read().splitlines() if line.strip().startswith("error:")]
    return lines[-1].removeprefix("error:").strip() if lines else None
