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
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core import paths
from core.models.config import TrainConfig, to_cli_args
from core.store import RunError, RunStore, new_run_id
from core.training import progress
from core.training.seeds import run_ids

POLL_SECONDS = 0.5
START_TIMEOUT_S = 120


def tied_to_launcher() -> bool:
    """True under Celery: a worker's training stops (interrupted) when the worker dies."""
    return bool(os.environ.get("REDIS_URL"))


def command(config: TrainConfig, run_id: str, tie: bool | None = None, seeds: int = 1) -> list[str]:
    """`python -m core train …` for `config`; with `seeds` > 1 the run and its repeats (`<id>-s2` …).
    A config that is a preset's recipe names the preset too, so the run records it."""
    from core.training import presets

    tie = tied_to_launcher() if tie is None else tie
    preset = presets.matching(config)
    return [
        sys.executable,
        "-m",
        "core",
        "train",
        *to_cli_args(config),
        *(["--preset", preset] if preset else []),
        "--run-id",
        run_id,
        *(["--parent-pid", str(os.getpid())] if tie else []),
        *(["--seeds", str(seeds)] if seeds > 1 else []),
    ]


def launch(config: TrainConfig, run_id: str, seeds: int = 1) -> tuple[subprocess.Popen, Any]:
    """Start the child in its own session; its stderr goes to a temporary file (for an error message)."""
    errors = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - the caller closes it
    return _spawn(command(config, run_id, seeds=seeds), errors), errors


def _spawn(cmd: list[str], stderr: Any) -> subprocess.Popen:
    """The training process: own session, stdin/stdout /dev/null, no inherited descriptors."""
    env = {**os.environ, "STUDIO_ARTIFACTS": str(paths.artifacts_dir()), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        cmd,
        cwd=paths.PROJECT_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        close_fds=True,
        start_new_session=True,
    )


_launched: dict[str, tuple[subprocess.Popen, Path, float]] = {}
_launched_lock = threading.Lock()
_launch_configs: dict[str, dict[str, Any]] = {}  # run id -> the config it was launched with


def start_detached(config: TrainConfig, run_id: str | None = None, seeds: int = 1) -> str:
    """Start a training that depends on nothing of this process; returns its run id at once.

    Launched with vfork/exec (subprocess), never by forking this multi-threaded server (a fork
    while another thread runs BLAS deadlocks in the fork handlers). The page follows the run
    through the store; until its folder exists, `launch_snapshot` reports it as starting.
    """
    config = config.resolve()
    run_id = run_id or new_run_id(config.model)
    log_dir = paths.artifacts_dir() / "launch"
    log_dir.mkdir(parents=True, exist_ok=True)
    err_path = log_dir / f"{run_id}.err"
    with open(err_path, "w") as err, _launched_lock:
        for old_id, (old, old_err, _) in list(_launched.items()):  # reap finished launches
            if old.poll() is not None:
                del _launched[old_id]
                old_err.unlink(missing_ok=True)
        proc = _spawn(command(config, run_id, tie=False, seeds=seeds), err)
        # reaped the moment it ends: otherwise a finished training stays a <defunct> child of the server
        threading.Thread(target=proc.wait, name=f"reap-{run_id}", daemon=True).start()
        _launched[run_id] = (proc, err_path, time.monotonic())
        _launch_configs[run_id] = config.to_dict()
        while len(_launch_configs) > 64:
            _launch_configs.pop(next(iter(_launch_configs)))
    return run_id


def launch_config(run_id: str) -> dict[str, Any] | None:
    """The settings a run was launched with from this process (known before its folder exists)."""
    return _launch_configs.get(run_id)


def launch_snapshot(store: RunStore, run_id: str) -> dict[str, Any]:
    """The progress snapshot of a run this process launched, also before its folder exists:
    `starting` while the child loads, `failed` with the child's own message if it gave up."""
    if store.exists(run_id) or run_id not in _launched:
        return progress.snapshot(store, run_id)  # UnknownRun for an id that names nothing
    proc, err_path, started = _launched[run_id]
    waited = time.monotonic() - started
    base = {
        "run_id": run_id,
        "fraction": 0.0,
        "history": [],
        "elapsed_text": progress.format_duration(waited),
        "eta_text": "–",
        "label": None,
        "model": None,
        "metrics": None,
    }
    if proc.poll() is None and waited < START_TIMEOUT_S:
        return {**base, "status": "starting", "position": "starting: loading TensorFlow and the data…", "error": None}
    if proc.poll() is None:
        proc.terminate()
    if store.exists(run_id):
        return progress.snapshot(store, run_id)
    message = _error_line(err_path.read_text(errors="replace") if err_path.exists() else "")
    return {
        **base,
        "status": "failed",
        "position": "did not start",
        "error": message or "the training process did not start",
    }


def cancel_launch(run_id: str) -> bool:
    """Stop a launch that has not created its run yet (True when there was one to stop)."""
    entry = _launched.get(run_id)
    if entry is None or entry[0].poll() is not None:
        return False
    entry[0].terminate()
    return True


def _error_line(text: str) -> str | None:
    lines = [line.strip() for line in text.splitlines() if line.strip().startswith("error:")]
    return lines[-1].removeprefix("error:").strip() if lines else None


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
                copy = os.dup(fd)
            except OSError:
                continue  # closed meanwhile (e.g. the listing's own descriptor)
            try:
                probe = socket.socket(fileno=copy)
            except OSError:
                os.close(copy)
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


def train_and_follow(
    config: TrainConfig,
    store: RunStore,
    on_update: Callable[[dict[str, Any]], None],
    run_id: str | None = None,
    seeds: int = 1,
) -> dict[str, Any]:
    """Launch a training and call `on_update(snapshot)` while it runs; returns the final snapshot.

    Raises RunError with the child's own one-line message when it refused to start.
    """
    config = config.resolve()
    run_id = run_id or new_run_id(config.model)
    proc, errors = launch(config, run_id, seeds)
    started = time.monotonic()
    group = run_ids(run_id, seeds)
    try:
        while True:
            finished = proc.poll() is not None
            if store.exists(run_id):
                run_id = next(rid for rid in reversed(group) if store.exists(rid))  # the repeat training now
                on_update(progress.snapshot(store, run_id))
            elif finished or time.monotonic() - started > START_TIMEOUT_S:
                raise RunError(_child_error(errors) or "the training process did not start")
            else:
                on_update(
                    {
                        "run_id": run_id,
                        "status": "starting",
                        "fraction": 0.0,
                        "position": "starting: loading TensorFlow and the data…",
                        "history": [],
                        "elapsed_text": progress.format_duration(time.monotonic() - started),
                        "eta_text": "–",
                    }
                )
            if finished:
                return progress.snapshot(store, run_id)
            time.sleep(POLL_SECONDS)
    finally:
        if proc.poll() is None and tied_to_launcher():  # a Celery job torn down: its training goes too
            proc.terminate()
        errors.close()


def _child_error(errors) -> str | None:
    errors.seek(0)
    return _error_line(errors.read())
