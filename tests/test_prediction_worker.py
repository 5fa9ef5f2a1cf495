"""The prediction worker (core.predict.worker): a real spawned child process that answers exactly as
the server process does, loses no request when killed with SIGKILL and comes back by itself. That it
goes when its server is killed is checked in tests/test_server_restart.py (a real server, kill -9)."""

from __future__ import annotations

import concurrent.futures as futures
import io
import os
import signal
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core import data
from core.data import upload
from core.predict import worker as prediction
from core.store import UnknownRun
from dashboard import state
from tests.conftest import wait_until


def _png(array: np.ndarray, scale: int = 1) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.kron(array, np.ones((scale, scale), dtype=np.uint8))).save(out, format="PNG")
    return out.getvalue()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie waiting for its parent's wait() is gone for our purposes
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


@pytest.fixture(scope="module")
def worker(reference_artifacts):
    """One worker over the reference runs (STUDIO_ARTIFACTS is read by the child when it starts)."""
    previous = os.environ["STUDIO_ARTIFACTS"]
    os.environ["STUDIO_ARTIFACTS"] = str(reference_artifacts)
    started = prediction.PredictionWorker(warm_run=lambda: "ref-logreg", timeout_s=60).start()
    try:
        assert started.wait_ready(180), "the prediction worker did not start"
        yield started
    finally:
        started.close()
        os.environ["STUDIO_ARTIFACTS"] = previous


def test_the_worker_answers_exactly_as_the_server_process(worker, reference_store):
    ds = data.load()
    answered = worker.answered
    photos = [_png(ds.x_test[i]) for i in (0, 7)] + [_png(255 - ds.x_test[3], scale=8)]  # + light background
    for run_id in ("ref-logreg", "ref-cnn"):
        for raw in photos:
            there = worker.predict_upload(raw, run_id)
            here = prediction.predict_upload_here(raw, run_id, reference_store)
            assert there["probabilities"].dtype == here["probabilities"].dtype
            assert np.array_equal(there["probabilities"], here["probabilities"]), run_id
            assert np.array_equal(there["image"], here["image"])
            assert (there["inverted"], there["familiarity"], there["warnings"]) == (
                here["inverted"],
                here["familiarity"],
                here["warnings"],
            )
    assert worker.answered == answered + 6  # the child computed them, not this process
    with pytest.raises(upload.UploadError) as there_error:
        worker.predict_upload(b"not an image", "ref-logreg")
    with pytest.raises(upload.UploadError) as here_error:
        prediction.predict_upload_here(b"not an image", "ref-logreg", reference_store)
    assert str(there_error.value) == str(here_error.value) and there_error.value.too_large is False
    with pytest.raises(UnknownRun, match="no run named"):
        worker.predict_upload(photos[0], "no-such-run")


def test_the_api_answers_the_same_through_the_worker(worker, with_reference_runs):
    from dashboard.app import create_app

    client = create_app().server.test_client()
    raw = _png(data.load().x_test[11], scale=4)

    def post():
        return client.post(
            "/api/predict",
            data={"image": (io.BytesIO(raw), "a.png"), "run": "ref-cnn"},
            content_type="multipart/form-data",
        )

    here = post()
    previous = state.use_prediction_worker(worker)
    try:
        answered = worker.answered
        there = post()
        assert worker.answered == answered + 1
    finally:
        state.use_prediction_worker(previous)
    assert here.status_code == there.status_code == 200
    assert here.get_json() == there.get_json()


def test_a_killed_worker_loses_no_request_and_comes_back(worker, with_reference_runs):
    """SIGKILL in the middle of a burst: every request still gets its right answer (in the server
    process while the worker is away), and a new worker takes over."""
    from dashboard.app import create_app

    client = create_app().server.test_client()
    ds = data.load()
    photos = [(i, _png(ds.x_test[i])) for i in range(24)]
    expected = {i: prediction.predict_upload_here(raw, "ref-logreg")["probabilities"] for i, raw in photos}
    from core.evaluation import calibrated
    from core.store import RunStore

    fitted = calibrated.for_run(RunStore().get("ref-logreg"))
    assert fitted is not None
    previous = state.use_prediction_worker(worker)
    starts, first_pid = worker.starts, worker.pid

    def ask(item):
        i, raw = item
        if i == 6:
            os.kill(first_pid, signal.SIGKILL)
        response = client.post(
            "/api/predict",
            data={"image": (io.BytesIO(raw), "a.png"), "run": "ref-logreg"},
            content_type="multipart/form-data",
        )
        return i, response.status_code, response.get_json()

    try:
        with futures.ThreadPoolExecutor(6) as pool:
            results = list(pool.map(ask, photos))
        for i, status, body in results:
            assert status == 200, body
            got = np.array([body["raw_probabilities"][name] for name in data.CLASS_NAMES])  # the model's own
            assert np.allclose(got, expected[i], atol=1e-6), i
            shown = np.array([body["probabilities"][name] for name in data.CLASS_NAMES])  # calibrated
            assert np.allclose(shown, fitted.apply(expected[i][None])[0], atol=1e-5), i
        wait_until(lambda: not alive(first_pid), timeout=10)
        wait_until(lambda: worker.ready and worker.starts == starts + 1, timeout=120)
        assert worker.pid != first_pid and alive(worker.pid)
        answered = worker.answered
        assert worker.predict_upload(photos[0][1], "ref-logreg")["probabilities"].argmax() == ds.y_test[0]
        assert worker.answered == answered + 1
    finally:
        state.use_prediction_worker(previous)


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(c) for c in (task / "children").read_text().split()}
    return found


def worker_of(server_pid: int) -> int | None:
    """The prediction worker a `python -m dashboard` process started (a spawned child), if any.
    tests/test_server_restart.py kills such a server with SIGKILL and checks that it goes too."""
    for child in _children(server_pid):
        if b"multiprocessing.spawn" in Path(f"/proc/{child}/cmdline").read_bytes():
            return child
    return None
