"""Scale-out: a real redis-server and a real Celery worker run a training launched from /train."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time

import pytest

from core.runs import RunStore
from tests.conftest import PROJECT_ROOT, click, wait_until

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None,
                                reason="redis-server missing: `make test` installs it (Debian redis-server)")


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
    proc = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    try:
        wait_until(lambda: _listening(port), timeout=10)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture()
def celery_worker(redis_url, tmp_path):
    env = {**os.environ, "REDIS_URL": redis_url}
    log = open(tmp_path / "worker.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "celery", "-A", "dashboard.worker:celery_app", "worker",
                             "--concurrency", "2", "--loglevel", "INFO", "--without-gossip", "--without-mingle"],
                            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: "ready" in (tmp_path / "worker.log").read_text(), timeout=60)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_training_runs_on_a_celery_worker(dash_duo, redis_url, celery_worker, monkeypatch, tmp_path):
    monkeypatch.setenv("REDIS_URL", redis_url)
    from dashboard.app import create_app

    app = create_app()
    assert type(app._background_manager).__name__ == "CeleryManager"
    dash_duo.start_server(app)
    dash_duo.driver.get(dash_duo.server_url + "/train")
    dash_duo.wait_for_element("#train-model", timeout=20)
    dash_duo.driver.execute_script(
        "const s = document.getElementById('train-model'); s.value = 'mlp';"
        "s.dispatchEvent(new Event('change', {bubbles: true}));")
    dash_duo.wait_for_contains_text("#train-model-help", "fully connected", timeout=10)
    for field, value in (("train-epochs", 2), ("train-subset", 400)):
        element = dash_duo.find_element(f"#{field}")
        element.clear()
        element.send_keys(str(value))
    started = time.time()
    click(dash_duo, "#train-start")
    dash_duo.wait_for_element("#train-finished", timeout=120)
    runs = RunStore().list_runs(status="completed")
    mine = [r for r in runs if r["model"] == "mlp" and r["created_at"] >= time.strftime(
        "%Y-%m-%dT%H:%M:%S", time.gmtime(started - 5))]
    assert mine and mine[0]["data"]["n_train"] == 400
    assert "background_callback_" in (tmp_path / "worker.log").read_text()  # the worker ran the job
