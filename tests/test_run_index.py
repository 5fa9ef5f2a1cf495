"""The run index (core/store/index.py) on a store of a few thousand runs: paging, sorting and filtering
agree with a plain Python sort of the records; a run added, damaged or deleted on disk shows up right
at the next listing; a damaged index is rebuilt without losing a run; two processes writing at once
lose no row; `runs reindex` and the paged API."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from core.store import RunStore, index, run_summary
from tests.conftest import PROJECT_ROOT, linked_store, run_cli

COPIES = 40  # × the 57 committed runs: a store of about 2 300 runs


@pytest.fixture(autouse=True)
def every_listing_syncs(monkeypatch):
    """Listings re-check the folders at most once a second; these tests check every change at once."""
    monkeypatch.setattr(index, "SYNC_INTERVAL_S", 0.0)
    monkeypatch.setattr(index, "SYNC_COST_FACTOR", 0.0)
    index._next_sync.clear()


@pytest.fixture(scope="module")
def big_store(tmp_path_factory):
    """Hard links to the committed runs' files under new ids (`c<k>-<id>`): real, valid runs."""
    return linked_store(tmp_path_factory.mktemp("many") / "runs", COPIES)


def _python_sorted(records: list[dict], key: str, descending: bool) -> list[str]:
    """The reference: a plain sort of the summaries (missing values last, ties by run id)."""
    summaries = [run_summary(r) for r in records]
    present = [s for s in summaries if s.get(key) is not None]
    missing = [s for s in summaries if s.get(key) is None]
    present.sort(key=lambda s: s["run_id"])
    present.sort(key=lambda s: s[key], reverse=descending)
    missing.sort(key=lambda s: s["run_id"])
    return [s["run_id"] for s in present + missing]


def test_pages_sorts_and_filters_agree_with_a_plain_sort(big_store):
    records = big_store.list_runs()
    assert len(records) >= 2000
    rows, total = big_store.page(sort="-test_accuracy", limit=None)
    assert total == len(records)
    assert [r["run_id"] for r in rows] == _python_sorted(records, "test_accuracy", True)
    by_seconds, _ = big_store.page(sort="train_seconds", limit=None)
    assert [r["run_id"] for r in by_seconds] == _python_sorted(records, "train_seconds", False)
    pages = []
    for offset in range(0, total, 250):
        page, count = big_store.page(sort="-test_accuracy", limit=250, offset=offset)
        assert count == total and len(page) <= 250
        pages += [r["run_id"] for r in page]
    assert pages == [r["run_id"] for r in rows]  # pages never overlap nor skip
    validated, count = big_store.page({"status": "validated"}, limit=None)
    assert count == sum(r["status"] == "validated" for r in records) == len(validated)
    svm, count = big_store.page({"model": "svm"}, limit=5)
    assert count == COPIES and len(svm) == 5 and all(r["model"] == "svm" for r in svm)
    found, count = big_store.page(search="c07-ref-preset", limit=None)
    assert count == 3 and {r["run_id"] for r in found} == {f"c07-ref-preset-{p}" for p in ("best", "demo", "fast")}
    with pytest.raises(ValueError, match="cannot sort by"):
        big_store.page(sort="secret; DROP TABLE runs")
    with pytest.raises(ValueError, match="cannot filter by"):
        big_store.page({"nope": 1})


def test_runs_changed_on_disk_show_up_at_the_next_listing(big_store):
    _rows, before = big_store.page(limit=0)
    source = PROJECT_ROOT / "artifacts" / "runs" / "ref-svm"
    shutil.copytree(source, big_store.root / "zz-copied-in")  # copied behind the store's back
    _rows, after = big_store.page(limit=0)
    assert after == before + 1
    (big_store.root / "zz-copied-in" / "run.json").write_text("{ not json")  # edited by hand
    (row,), _ = big_store.page(search="zz-copied-in")
    assert row["status"] == "damaged" and "not valid JSON" in row["damage"]
    shutil.rmtree(big_store.root / "zz-copied-in")  # deleted
    assert big_store.page(search="zz-copied-in") == ([], 0)
    assert big_store.page(limit=0)[1] == before


def test_a_damaged_or_missing_index_is_rebuilt_and_loses_no_run(big_store):
    _rows, total = big_store.page(limit=0)
    big_store.index.path.write_bytes(b"this is not a database" * 100)  # damaged
    for suffix in ("-wal", "-shm"):
        path = big_store.index.path.with_name(big_store.index.path.name + suffix)
        path.unlink(missing_ok=True)
    fresh = RunStore(big_store.root)  # a new process would open it like this
    assert fresh.page(limit=0)[1] == total
    fresh.index.path.unlink()  # missing
    assert RunStore(big_store.root).page(limit=0)[1] == total


WRITER = """
import sys
from core.store import RunStore
store = RunStore(sys.argv[1])
for i in range(int(sys.argv[3])):
    run_id = f"{sys.argv[2]}-{i:03d}"
    with store.open_run(run_id, {"model": "logreg", "label": "LogReg", "config": {"model": "logreg"}}):
        store.update(run_id, status="failed", error="a test run", finished_at="2026-01-01T00:00:00+00:00")
"""


def test_two_processes_writing_at_once_lose_no_row(tmp_path):
    root = tmp_path / "runs"
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(root), name, "60"], cwd=PROJECT_ROOT, env=env)
        for name in ("a", "b")
    ]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    store = RunStore(root)
    rows, total = store.index.query(limit=None)  # the index as the writers left it, before any sync
    assert total == 120 and {r["status"] for r in rows} == {"failed"}
    assert index.sync(store) == 0  # nothing was missing or stale


def test_reindex_and_the_paged_api(with_reference_runs):
    from dashboard.app import create_app

    done = run_cli("runs", "reindex", env={"STUDIO_ARTIFACTS": str(with_reference_runs)})
    assert done.returncode == 0 and done.stdout.startswith("indexed ")
    total = int(done.stdout.split()[1])
    client = create_app().server.test_client()
    first = client.get("/api/runs?limit=10&sort=-test_accuracy")
    assert first.status_code == 200 and len(first.get_json()) == 10
    assert int(first.headers["X-Total-Count"]) == total
    link = first.headers["Link"]
    assert 'rel="next"' in link and "offset=10" in link
    following = client.get(link.split(">")[0].lstrip("<"))
    assert {r["run_id"] for r in following.get_json()}.isdisjoint(r["run_id"] for r in first.get_json())
    old = client.get("/api/runs")  # an old client: a list, the first page
    assert isinstance(old.get_json(), list) and len(old.get_json()) == min(total, index.DEFAULT_LIMIT)
    studies = client.get("/api/runs?status=validated&limit=1000").get_json()
    assert studies and all(r["status"] == "validated" for r in studies)
    for bad in ("limit=abc", "limit=5000", "offset=-1", "sort=password"):
        answer = client.get(f"/api/runs?{bad}")
        assert answer.status_code == 400 and json.loads(answer.data)["error"]


def _picker_options(client, deps, picker: str, typed: str, chosen: str) -> list[dict]:
    """A run picker's options as the server answers them while a person types."""
    spec = next(d for d in deps if d["output"] == f"{picker}.options")
    body = {
        "output": spec["output"],
        "outputs": {"id": picker, "property": "options"},
        "changedPropIds": [f"{picker}.search_value"],
        "inputs": [{"id": picker, "property": "search_value", "value": typed}],
        "state": [{"id": picker, "property": "value", "value": chosen}],
    }
    answer = client.post("/_dash-update-component", json=body)
    assert answer.status_code == 200
    return answer.get_json()["response"][picker]["options"]


def test_run_pickers_search_the_index_as_you_type(big_store, monkeypatch):
    """With about 2 300 runs, /errors' picker offers the reference and recent runs, not every run, and
    typing searches all of them on the server; /story's offers the ranked runs, best first."""
    from dashboard.app import create_app

    monkeypatch.setenv("STUDIO_ARTIFACTS", str(big_store.root.parent))
    client = create_app().server.test_client()
    deps = client.get("/_dash-dependencies").get_json()
    options = _picker_options(client, deps, "errors-run", "c12-ref-hog", "c00-ref-svm")
    assert [o["value"] for o in options] == ["c00-ref-svm", "c12-ref-hog_svm"]  # the chosen run stays listed
    options = _picker_options(client, deps, "errors-run", "", "c00-ref-svm")
    completed = big_store.page({"status": "completed"}, limit=0)[1]
    assert 1 <= len(options) <= 120 < completed  # a short list, never every run
    # /story's picker: the ranked runs (full split), best first, searched on the server
    options = _picker_options(client, deps, "story-run", "c03-ref-cnn_dropout", "c07-ref-logreg")
    assert [o["value"] for o in options] == ["c07-ref-logreg", "c03-ref-cnn_dropout"]
    options = _picker_options(client, deps, "story-run", "", "c07-ref-logreg")
    ranked, total = big_store.page({"status": "completed", "full_split": True}, "-test_accuracy", limit=1)
    assert 1 <= len(options) <= 60 < total and options[1]["value"] == ranked[0]["run_id"]
