"""A training started from the browser outlives the web server: `kill -9` the server mid-training,
start it again at once on the same port, find the run still live on /train, cancel it from there;
and a run whose server is gone completes on its own. The server's prediction worker process leaves
with a killed server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from core.store import RunStore
from tests.conftest import PROJECT_ROOT, click, graph_traces, wait_until
from tests.test_celery import _free_port
from tests.test_prediction_worker import alive, worker_of


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


class Server:
    """`python -m dashboard` as a real process on a fixed port."""

    def __init__(self, port: int, artifacts, log_path):
        self.port, self.artifacts, self.log_path = port, artifacts, log_path
        self.proc: subprocess.Popen | None = None
        self.url = f"http://127.0.0.1:{port}"

    def start(self) -> float:
        """Start it; seconds until it answers 200 (fails if it exits, e.g. port still taken)."""
        began = time.monotonic()
        env = {**os.environ, "STUDIO_ARTIFACTS": str(self.artifacts)}
        env.pop("REDIS_URL", None)
        log = open(self.log_path, "a")  # noqa: SIM115 - handed to the child, closed below
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dashboard", "--port", str(self.port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()

        def up():
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited {self.proc.returncode}: {self.log_path.read_text()[-1500:]}")
            return _answers(self.url + "/")

        wait_until(up, timeout=90, interval=0.1)
        return time.monotonic() - began

    def kill9(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(20)


@pytest.fixture()
def server(tmp_path):
    srv = Server(_free_port(), tmp_path / "artifacts", tmp_path / "server.log")
    yield srv
    srv.stop()
    store = RunStore(tmp_path / "artifacts" / "runs")
    for run_id in store.list_ids():  # never leave a training behind
        store.request_cancel(run_id)


def _points(dash_duo) -> int:
    traces = graph_traces(dash_duo, "train-curves") or []
    return max((t["n"] for t in traces if t["name"] == "training"), default=0)


def _start_training(dash_duo, server: Server, epochs: int, subset: int) -> str:
    dash_duo.driver.get(server.url + "/train")
    dash_duo.wait_for_element("#train-epochs", timeout=30)
    # the page's first callbacks (model defaults, form check) must be done before typing over them
    wait_until(lambda: dash_duo.find_element("#train-model-help").text, timeout=60)
    for field, value in (("train-epochs", epochs), ("train-subset", subset)):
        element = dash_duo.find_element(f"#{field}")
        element.clear()
        element.send_keys(str(value))
    wait_until(lambda: dash_duo.find_element("#train-epochs").get_attribute("value") == str(epochs), timeout=10)
    wait_until(lambda: dash_duo.find_element("#train-form-error").text == "", timeout=10)
    wait_until(lambda: dash_duo.find_element("#train-start").get_attribute("disabled") is None, timeout=10)
    click(dash_duo, "#train-start")
    store = RunStore(server.artifacts / "runs")
    try:
        run_id = wait_until(store.active_run_id, timeout=90)
        wait_until(lambda: store.exists(run_id), timeout=30)  # the slot is taken just before the folder
        return run_id
    except AssertionError:
        shown = {sel: dash_duo.find_element(sel).text for sel in ("#train-result", "#train-message", "#train-status")}
        dash_duo.driver.save_screenshot(str(server.log_path.parent / "failure.png"))
        children = subprocess.run(
            ["ps", "--ppid", str(server.proc.pid), "-o", "pid,stat,args"], capture_output=True, text=True
        ).stdout
        raise AssertionError(
            f"no training started; the page shows {shown}; console: {dash_duo.get_logs()}; server children: {children}"
        ) from None


def _follow_again(dash_duo, server: Server, run_id: str) -> None:
    dash_duo.driver.get(server.url + "/train")
    dash_duo.wait_for_contains_text("#train-run-title", run_id, timeout=30)
    dash_duo.wait_for_contains_text("#train-run-title", "running", timeout=30)


def test_kill_9_of_the_server_leaves_the_training_running_and_reattachable(dash_duo, server):
    store = RunStore(server.artifacts / "runs")
    server.start()
    prediction_worker = wait_until(lambda: worker_of(server.proc.pid), timeout=60)
    # 20 epochs: still running after a restart under load (7 finished before a loaded server came back)
    run_id = _start_training(dash_duo, server, epochs=20, subset=1000)
    wait_until(lambda: store.history(run_id), timeout=120)  # learning for real

    server.kill9()
    wait_until(lambda: not alive(prediction_worker), timeout=20)  # the server's prediction worker left with it
    began = time.monotonic()
    server.start()  # same port, at once: nothing inherited the listening socket
    restart_s = time.monotonic() - began
    print(f"kill -9 -> restarted server answering on the same port: {restart_s:.2f} s")
    assert store.get(run_id)["status"] == "running"

    _follow_again(dash_duo, server, run_id)  # the new server re-attaches from the run store
    points = wait_until(lambda: _points(dash_duo), timeout=60)
    wait_until(lambda: _points(dash_duo) > points, timeout=120)  # live curves keep growing

    server.kill9()  # now no server at all until the training ends: it completes on its own
    wait_until(lambda: store.get(run_id)["status"] == "completed", timeout=400)
    assert len(store.history(run_id)) == 20 and store.get(run_id)["metrics"]["test_accuracy"] > 0.5


def test_cancel_from_a_restarted_server_stops_a_training_it_did_not_start(dash_duo, server):
    store = RunStore(server.artifacts / "runs")
    server.start()
    run_id = _start_training(dash_duo, server, epochs=300, subset=1000)
    server.kill9()
    server.start()
    _follow_again(dash_duo, server, run_id)
    wait_until(lambda: dash_duo.find_element("#train-cancel").get_attribute("disabled") is None, timeout=30)
    click(dash_duo, "#train-cancel")
    wait_until(lambda: store.get(run_id)["status"] == "interrupted", timeout=30)
    assert store.get(run_id)["error"] == "cancelled by the user"
    wait_until(lambda: store.active_run_id() is None, timeout=10)  # the process is gone, slot free
    dash_duo.wait_for_contains_text("#train-run-title", "interrupted", timeout=30)
