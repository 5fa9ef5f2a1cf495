"""One bad query never hides a run (issue 42): hostile query strings sent to two real server processes
that share one store get a 4xx naming the parameter, never a 5xx, and every listing afterwards still
counts every run; a bad query never replaces the index file; a file damaged under the live servers is
replaced by a filled one that both move to, and none of their listings ever counts zero."""

from __future__ import annotations

import concurrent.futures as futures
import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from core.store import RunStore, index, index_file, listing
from tests.conftest import PROJECT_ROOT, linked_store, wait_until
from tests.test_celery import _free_port

HOSTILE = [
    "offset=99999999999999999999",
    "offset=9223372036854775808",
    "offset=-1",
    "offset=1e3",
    "offset=%D9%A3",  # an Arabic-Indic three: int() would take it
    "offset=+5",
    "offset=%205",
    "offset=1_000",
    "limit=99999999999999999999",
    "limit=1001",
    "limit=-5",
    "limit=abc",
    "limit=",
    "limit=1&limit=2",
    "sort=password",
    "sort=-",
    "sort=created_at;DROP%20TABLE%20runs",
    "sort=test_accuracy&sort=-run_id",
    "status=nope",
    "status=completed&status=failed",
    "q=%00",
    "q=" + "x" * 101,
    "model=%0a",
    "unknown=1",
    "offset=0%00",
]
ODD_BUT_VALID = ["study=" + "%27" * 60 + "--", "q=%25", "q=%5C", "model=x%27%20OR%201=1--", "offset=1000000000000"]


def _get(url: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory):
    """Two `python -m dashboard` processes (threaded production servers) on one store of ~260 runs."""
    root = tmp_path_factory.mktemp("hostile") / "artifacts"
    linked_store(root / "runs", 2)
    env = {**os.environ, "STUDIO_ARTIFACTS": str(root)}
    env.pop("REDIS_URL", None)
    procs, urls = [], []
    for k in range(2):
        port = _free_port()
        log = open(root.parent / f"server{k}.log", "w")  # noqa: SIM115 - closed with the process
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "dashboard", "--port", str(port)],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        urls.append(f"http://127.0.0.1:{port}")
    for proc, url in zip(procs, urls, strict=True):
        wait_until(lambda p=proc, u=url: p.poll() is None and _up(u), timeout=180, interval=0.1)
    yield root, urls
    for proc in procs:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)


def _up(url: str) -> bool:
    try:
        return _get(url + "/api/runs?limit=0")[0] == 200
    except OSError:
        return False


def _totals(urls: list[str], times: int) -> list[int]:
    with futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda u: _get(u + "/api/runs?limit=1"), urls * times))
    assert {status for status, _, _ in answers} == {200}
    return [int(headers["X-Total-Count"]) for _, headers, _ in answers]


def test_hostile_queries_get_a_4xx_and_hide_no_run(two_servers):
    root, urls = two_servers
    total = len(RunStore(root / "runs").list_ids())
    assert total >= 250
    assert set(_totals(urls, 3)) == {total}
    live = index_file.current(root)
    with futures.ThreadPoolExecutor(8) as pool:  # every hostile query, at both servers, at once
        answers = list(
            pool.map(lambda a: (a[1], *_get(a[0] + "/api/runs?" + a[1])), [(u, q) for u in urls for q in HOSTILE])
        )
    for query, status, _headers, body in answers:
        assert 400 <= status < 500, (query, status, body[:200])
        message = json.loads(body)["error"]
        name = query.split("=")[0]
        assert name in message, (query, message)  # the error names the parameter
    for query in ODD_BUT_VALID:  # odd but well-formed: answered, matching nothing
        for url in urls:
            status, _headers, body = _get(url + "/api/runs?" + query)
            assert status == 200 and json.loads(body) == [], query
    assert _totals(urls, 25) == [total] * 50  # the next 50 listings, across both processes
    assert index_file.current(root) == live  # no bad query replaced the index file
    from core.evaluation import board, ranking  # the leaderboard's own source still counts every run

    runs = RunStore(root / "runs")
    ranked, _others = board.counts(runs)
    assert ranked == ranking.counts(runs.list_runs())["ranked"] and board.page(runs, 0, 1)[1] >= ranked


def test_limit_zero_counts_without_a_next_link_and_pages_end(two_servers):
    _root, urls = two_servers
    status, headers, body = _get(urls[0] + "/api/runs?limit=0")
    assert status == 200 and json.loads(body) == [] and "Link" not in headers
    total = int(headers["X-Total-Count"])
    seen, url = [], urls[1] + "/api/runs?limit=100&sort=run_id"
    for _ in range(total // 100 + 2):  # following every `next` link ends, covering each run once
        status, headers, body = _get(url)
        seen += [r["run_id"] for r in json.loads(body)]
        if "Link" not in headers:
            break
        url = urls[1] + headers["Link"].split(">")[0].lstrip("<")
    assert "Link" not in headers and len(seen) == len(set(seen)) == total


def test_a_damaged_index_under_live_servers_is_replaced_whole(two_servers):
    root, urls = two_servers
    procs = two_servers_pids(root)
    total = _totals(urls, 1)[0]
    damaged = index_file.current(root)
    damaged.write_bytes(b"this is not a database" * 1000)  # damaged under two live servers
    for suffix in ("-wal", "-shm"):
        Path(f"{damaged}{suffix}").unlink(missing_ok=True)
    assert set(_totals(urls, 10)) == {total}  # never an empty or partial count
    counted = subprocess.run(  # a new process finds the damage and replaces the file
        [
            sys.executable,
            "-c",
            f"from core.store import RunStore; print(RunStore({str(root / 'runs')!r}).page(limit=0)[1])",
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "STUDIO_ARTIFACTS": str(root)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert counted.returncode == 0 and int(counted.stdout.split()[-1]) == total, counted.stderr[-500:]
    new = index_file.current(root)
    assert new != damaged and index_file.damaged(new, index.SCHEMA) is None
    assert set(_totals(urls, 10)) == {total}
    for pid in procs:  # both servers moved to the new file
        assert str(new) in {os.path.realpath(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}


def two_servers_pids(root: Path) -> list[int]:
    """The server processes started by the fixture (those whose environment names this store)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if f"STUDIO_ARTIFACTS={root}".encode() in environ.split(b"\0") and b"dashboard" in cmdline:
            pids.append(int(entry))
    assert len(pids) >= 2
    return pids


def test_the_listing_parser_names_each_bad_parameter():
    for query in HOSTILE:
        name, _, value = query.partition("=")
        args: dict[str, list[str]] = {}
        for part in query.split("&"):
            key, _, val = part.partition("=")
            args.setdefault(key, []).append(urllib.parse.unquote(val))
        with pytest.raises(listing.ListingError) as caught:
            listing.parse(args)
        assert caught.value.param == name and name in str(caught.value), (query, value)
    good = listing.parse({"limit": ["5"], "offset": ["10"], "sort": ["-test_accuracy"], "status": ["completed"]})
    assert (good.limit, good.offset, good.sort, good.filters) == (5, 10, "-test_accuracy", {"status": "completed"})
    assert good.following(total=15, returned=5) is None and good.following(total=100, returned=5) == 15
    assert listing.parse({"limit": ["0"]}).following(total=100, returned=0) is None


def test_a_bad_query_in_core_leaves_the_index_file_alone(tmp_path):
    store = linked_store(tmp_path / "runs", 1)
    total = store.page(limit=0)[1]
    live = index_file.current(tmp_path)
    for bad in ({"offset": 10**20}, {"limit": -1}, {"limit": True}, {"offset": 1.5}):
        with pytest.raises(ValueError, match="whole number"):
            store.page(**bad)
    with pytest.raises(ValueError):
        store.index.query(sort="nope")
    assert index_file.current(tmp_path) == live and store.page(limit=0)[1] == total
    assert Path(live).exists() and index_file.damaged(live, index.SCHEMA) is None


def test_every_method_but_get_on_one_run_is_a_405(two_servers):
    _root, urls = two_servers
    for method in ("DELETE", "PUT", "POST", "PATCH"):
        request = urllib.request.Request(urls[0] + "/api/runs/c00-ref-cnn", method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, headers = response.status, dict(response.headers)
        except urllib.error.HTTPError as err:
            status, headers = err.code, dict(err.headers)
        assert status == 405 and headers.get("Allow") == "GET", (method, status)
