"""Request lanes (dashboard.lanes) on a real waitress server: a prediction is answered while every
page thread is busy, and pages keep being answered while every prediction thread is busy."""

from __future__ import annotations

import threading
import urllib.request

import pytest
from waitress.server import create_server

from dashboard.lanes import LaneDispatcher, lane_for_path


def test_paths_are_routed_to_their_lane():
    assert lane_for_path("/api/predict") == lane_for_path("/api/predict/") == "predict"
    for path in ("/", "/api/runs", "/_dash-update-component", "/api/predictions", "/gradcam"):
        assert lane_for_path(path) == "pages", path
    with pytest.raises(ValueError, match="at least one thread"):
        LaneDispatcher({"pages": 0, "predict": 1})
    with pytest.raises(ValueError, match="'pages' lane"):
        LaneDispatcher({"predict": 1})


@pytest.fixture()
def lane_server():
    """waitress with one thread per lane, over an app whose /block/LANE requests wait until released."""
    release = {"pages": threading.Event(), "predict": threading.Event()}
    entered = {"pages": threading.Event(), "predict": threading.Event()}

    def app(environ, start_response):
        path = environ["PATH_INFO"]
        lane = "predict" if path.startswith("/api/predict") else "pages"
        if environ.get("QUERY_STRING") == "block":
            entered[lane].set()
            release[lane].wait(30)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [path.encode()]

    dispatcher = LaneDispatcher({"pages": 1, "predict": 1})
    server = create_server(app, host="127.0.0.1", port=0, _dispatcher=dispatcher)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}", release, entered
    for event in release.values():
        event.set()
    server.close()
    dispatcher.shutdown()


def _get(url: str, timeout: float = 10) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read().decode()


def test_a_busy_lane_never_holds_up_the_other(lane_server):
    url, release, entered = lane_server
    for busy, other_path in (("pages", "/api/predict"), ("predict", "/leaderboard")):
        blocked_path = "/api/predict" if busy == "predict" else "/data"
        blocked = threading.Thread(target=_get, args=(f"{url}{blocked_path}?block", 30), daemon=True)
        blocked.start()
        assert entered[busy].wait(10)
        assert _get(url + other_path, timeout=5) == other_path  # its lane is free: answered at once
        queued: list[str] = []
        waiter = threading.Thread(target=lambda p=blocked_path, out=queued: out.append(_get(url + p, 30)), daemon=True)
        waiter.start()
        waiter.join(1.0)
        assert queued == []  # the same lane's next request waits for its one thread ...
        release[busy].set()
        waiter.join(10)
        blocked.join(10)
        assert queued == [blocked_path]  # ... and is answered once it is free
