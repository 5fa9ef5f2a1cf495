"""`python -m bench.load [--clients 20] [--seconds 60] [--port P] [--server-arg ARG]`: a bounded load
test on loopback.

Starts the production server (`python -m dashboard`) on a free loopback port over the committed
reference runs, waits until its start-up warm-up has finished, then runs CLIENTS threads for SECONDS,
each looping over a mix of requests: page loads (HTML shell), page renders (the Dash Pages
callback), GET /api/runs, POST /api/predict (a 224 px PNG) and confusion-cell clicks (/errors
gallery callback). Reports requests/s, errors and p50/p95/p99 per kind, and the server's RSS before
and after (and its prediction worker's after). The server is stopped at the end; nothing but
127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time

from bench.common import save
from core import paths
from dashboard.app import WARM_DONE
from dashboard.pagerequest import page_request

PAGES = ["/", "/data", "/train", "/leaderboard", "/errors", "/gradcam"]
MIX = [("page_load", 2), ("page_render", 4), ("api_runs", 1), ("api_predict", 2), ("cell_click", 2)]
HOST = "127.0.0.1"
WARM_TIMEOUT_S = 600  # a fresh store computes its embeddings and explanation defaults first


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _watch(stdout, warmed: threading.Event) -> None:
    """Read the server's output to the end (so it never blocks on a full pipe); set `warmed` at the
    line its warm-up prints when done."""
    for line in stdout:
        if WARM_DONE in line:
            warmed.set()


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


def _children_rss_mb(pid: int) -> float:
    """RSS of the server's child processes (its prediction worker)."""
    from pathlib import Path

    total = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            with contextlib.suppress(OSError, StopIteration):  # it exited meanwhile
                total += _rss_mb(int(child))
    return total


def _photo() -> tuple[bytes, str]:
    from PIL import Image

    from core import data

    img = Image.fromarray(255 - data.load().x_test[3]).resize((224, 224))
    out = io.BytesIO()
    img.save(out, format="PNG")
    boundary = "bench-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n'
            f"Content-Type: image/png\r\n\r\n"
        ).encode()
        + out.getvalue()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def _cell_click(deps: list, run_id: str, true_name: str, pred_name: str) -> dict:
    spec = next(d for d in deps if d["output"].startswith("..errors-gallery.children"))
    outputs = [dict(zip(("id", "property"), o.split("."), strict=True)) for o in spec["output"].strip(".").split("...")]
    return {
        "output": spec["output"],
        "outputs": outputs,
        "changedPropIds": ["errors-matrix.clickData"],
        "inputs": [
            {"id": "errors-matrix", "property": "clickData", "value": {"points": [{"x": pred_name, "y": true_name}]}},
            {"id": "errors-pager", "property": "active_page", "value": 1},
        ],
        "state": [{"id": "errors-run", "property": "value", "value": run_id}],
    }


class Client(threading.Thread):
    def __init__(self, port: int, deadline: float, requests: dict, seed: int):
        super().__init__(daemon=True)
        self.port, self.deadline, self.requests = port, deadline, requests
        self.rng = random.Random(seed)
        self.samples: dict[str, list[float]] = {kind: [] for kind, _ in MIX}
        self.errors: dict[str, int] = {kind: 0 for kind, _ in MIX}

    def one(self, conn: http.client.HTTPConnection, kind: str) -> None:
        method, path, body, headers = self.rng.choice(self.requests[kind])
        started = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            ok = response.status == 200
        except (OSError, http.client.HTTPException):
            ok = False
            conn.close()
        self.samples[kind].append(time.perf_counter() - started)
        if not ok:
            self.errors[kind] += 1

    def run(self) -> None:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
        kinds = [kind for kind, weight in MIX for _ in range(weight)]
        while time.time() < self.deadline:
            self.one(conn, self.rng.choice(kinds))
        conn.close()


def build_requests(port: int) -> dict:
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    conn.request("GET", "/_dash-dependencies")
    deps = json.loads(conn.getresponse().read())
    conn.close()
    from core.data import CLASS_NAMES

    json_headers = {"Content-Type": "application/json"}
    photo, photo_type = _photo()
    clicks = [
        ("POST", "/_dash-update-component", json.dumps(_cell_click(deps, run, t, p)), json_headers)
        for run in ("ref-cnn_dropout", "ref-cnn", "ref-svm")
        for t in CLASS_NAMES[:5]
        for p in CLASS_NAMES[:5]
    ]
    return {
        "page_load": [("GET", page, None, {}) for page in PAGES],
        "page_render": [
            ("POST", "/_dash-update-component", json.dumps(page_request(deps, page)), json_headers) for page in PAGES
        ],
        "api_runs": [("GET", "/api/runs", None, {})],
        "api_predict": [("POST", "/api/predict", photo, {"Content-Type": photo_type})],
        "cell_click": clicks,
    }


def percentiles(samples: list[float]) -> dict:
    if not samples:
        return {"n": 0}
    ordered = sorted(samples)

    def at(q: float) -> float:
        return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {
        "n": len(ordered),
        "p50_ms": round(1000 * statistics.median(ordered), 1),
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
    }


def main(clients: int = 20, seconds: float = 60.0, port: int | None = None, server_args: tuple[str, ...] = ()) -> dict:
    clients, seconds = max(1, min(clients, 100)), max(1.0, min(seconds, 600.0))
    port = port or _free_port()
    env = {**os.environ, "STUDIO_ARTIFACTS": os.environ.get("STUDIO_ARTIFACTS", str(paths.artifacts_dir()))}
    env.pop("REDIS_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "dashboard", "--host", HOST, "--port", str(port), *server_args],
        cwd=paths.PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    warmed = threading.Event()
    threading.Thread(target=_watch, args=(server.stdout, warmed), daemon=True).start()
    try:
        deadline = time.time() + 180
        while True:
            try:
                socket.create_connection((HOST, port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.2)
        requests = build_requests(port)
        # measure the server as a visitor arriving after its start-up warm-up finds it
        if not warmed.wait(WARM_TIMEOUT_S):
            raise SystemExit(f"the server's warm-up did not finish within {WARM_TIMEOUT_S} s")
        rss_before = _rss_mb(server.pid)
        began = time.time()
        threads = [Client(port, began + seconds, requests, seed) for seed in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.time() - began
        rss_after = _rss_mb(server.pid)
        children_rss = _children_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(30)
    result: dict = {"clients": clients, "seconds": round(elapsed, 1), "server_args": list(server_args), "per_kind": {}}
    total = errors = 0
    for kind, _ in MIX:
        samples = [s for t in threads for s in t.samples[kind]]
        failed = sum(t.errors[kind] for t in threads)
        total, errors = total + len(samples), errors + failed
        result["per_kind"][kind] = {**percentiles(samples), "errors": failed, "per_s": round(len(samples) / elapsed, 2)}
    result.update(
        requests=total,
        requests_per_s=round(total / elapsed, 1),
        errors=errors,
        server_rss_mb={
            "before": round(rss_before, 1),
            "after": round(rss_after, 1),
            "growth": round(rss_after - rss_before, 1),
            "child_processes_after": round(children_rss, 1),
        },
    )
    return save("load", result)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--port", type=int)
    parser.add_argument(
        "--server-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="pass ARG to `python -m dashboard` (repeatable), e.g. --server-arg=--threads=4",
    )
    args = parser.parse_args()
    main(args.clients, args.seconds, args.port, tuple(args.server_arg))
