"""Scale-out: a real redis-server and a real Celery worker run a training launched from /train."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time

import pytest

from core.store import RunStore
from tests.conftest import PROJECT_ROOT, click, wait_until

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="redis-server missing: `make test` installs it (Debian redis-server)"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


@pytest.fixture()
def redis_url(tmp_path):
    port = _free_port()
    proc = subprocess.Popen(
        [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: _listening(port), timeout=10)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


def start_worker(redis_url: str, log_path) -> subprocess.Popen:
    """A real Celery worker process (prefork, 2 slots); returns once it says it is ready."""
    env = {**os.environ, "REDIS_URL": redis_url}
    offset = log_path.stat().st_size if log_path.exists() else 0
    with open(log_path, "a") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "dashboard.worker:celery_app",
                "worker",
                "--concurrency",
                "2",
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    wait_until(lambda: "ready" in log_path.read_text()[offset:], timeout=60)
    return proc


def stop_worker(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture()
def celery_worker(redis_url, tmp_path):
    proc = start_worker(redis_url, tmp_path / "worker.log")
    try:
        yield proc
    finally:
        stop_worker(proc)


def _launch(dash_duo, model: str, help_text: str, epochs: int | None, subset: int) -> None:
    dash_duo.driver.get(dash_duo.server_url + "/train")
    dash_duo.wait_for_element("#train-model", timeout=20)
    dash_duo.driver.execute_script(
        f"const s = document.getElementById('train-model'); s.value = '{model}';"
        "s.dispatchEvent(new Event('change', {bubbles: true}));"
    )
    dash_duo.wait_for_contains_text("#train-model-help", help_text, timeout=10)
    for field, value in (("train-epochs", epochs), ("train-subset", subset)):
        if value is None:
            continue
        element = dash_duo.find_element(f"#{field}")
        element.clear()
        element.send_keys(str(value))
    wait_until(lambda: dash_duo.find_element("#train-form-error").text == "", timeout=10)
    click(dash_duo, "#train-start")


def _celery_app(monkeypatch, redis_url):
    monkeypatch.setenv("REDIS_URL", redis_url)
    from dashboard.app import create_app

    app = create_app()
    assert type(app._background_manager).__name__ == "CeleryManager"
    return app


def test_training_runs_on_a_celery_worker(dash_duo, redis_url, celery_worker, monkeypatch, tmp_path):
    dash_duo.start_server(_celery_app(monkeypatch, redis_url))
    started = time.time()
    _launch(dash_duo, "mlp", "fully connected", epochs=2, subset=400)
    dash_duo.wait_for_element("#train-finished", timeout=120)
    runs = RunStore().list_runs(status="completed")
    mine = [
        r
        for r in runs
        if r["model"] == "mlp" and r["created_at"] >= time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(started - 5))
    ]
    assert mine and mine[0]["data"]["n_train"] == 400
    assert "background_callback_" in (tmp_path / "worker.log").read_text()  # the worker ran the job


def test_kill_9_of_a_worker_leaves_its_run_interrupted_and_a_new_worker_takes_jobs(
    dash_duo, redis_url, monkeypatch, tmp_path
):
    log = tmp_path / "worker.log"
    worker = start_worker(redis_url, log)
    try:
        dash_duo.start_server(_celery_app(monkeypatch, redis_url))
        _launch(dash_duo, "cnn", "Baseline CNN", epochs=300, subset=1000)
        store = RunStore()
        run_id = wait_until(store.active_run_id, timeout=90)
        worker.kill()  # SIGKILL of the worker mid-training
        worker.wait(10)
        wait_until(lambda: store.get(run_id)["status"] == "interrupted", timeout=60)
        wait_until(lambda: store.active_run_id() is None, timeout=20)
        worker = start_worker(redis_url, log)  # a restarted worker takes new jobs
        _launch(dash_duo, "logreg", "logistic regression", epochs=None, subset=300)
        dash_duo.wait_for_element("#train-finished", timeout=120)
        assert [r["model"] for r in store.list_runs(status="completed")][:1] == ["logreg"]
    finally:
        stop_worker(worker)
