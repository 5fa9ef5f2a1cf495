"""The leaderboard at scale (core/evaluation/board.py) on a store of about 900 real runs: every page,
sort, filter, seed-group fold, best value and Pareto front answered from the index agrees with the
plain Python leaderboard (core.evaluation.leaderboard over every record); changes on disk show up at
the next request; a sort or filter it cannot apply is a clear error."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from core.evaluation import board, leaderboard, ranking
from core.store import RunStore, index
from tests.conftest import linked_store

COPIES = 10  # × the committed runs


@pytest.fixture(autouse=True)
def every_request_syncs(monkeypatch):
    monkeypatch.setattr(index, "SYNC_INTERVAL_S", 0.0)
    monkeypatch.setattr(index, "SYNC_COST_FACTOR", 0.0)
    index._next_sync.clear()


@pytest.fixture(scope="module")
def many(tmp_path_factory) -> RunStore:
    return linked_store(tmp_path_factory.mktemp("board") / "runs", COPIES)


def _reference(store: RunStore, show_all: bool = False) -> list[dict]:
    """The leaderboard as the plain Python code builds it from every record and history."""
    records = store.list_runs()
    histories = {r["run_id"]: store.history(r["run_id"]) for r in records if r.get("status") == "completed"}
    return leaderboard.shown(leaderboard.rows(records, histories), show_all)


def _ids(rows: list[dict]) -> list[str]:
    return [r["run_id"] for r in rows]


def test_pages_in_the_leaderboard_order_agree_with_the_python_leaderboard(many):
    for show_all in (False, True):
        expected = _reference(many, show_all)
        assert len(expected) > 100
        found, total = board.page(many, 0, 100_000, show_all=show_all)
        assert total == len(expected)
        # the same rows; the same order where the Python sort decides it (accuracy, then status)
        assert sorted(_ids(found)) == sorted(_ids(expected))
        assert [r["test_accuracy"] for r in found] == [r["test_accuracy"] for r in expected]
        assert {r["run_id"]: r for r in found} == {r["run_id"]: json.loads(json.dumps(r)) for r in expected}
        # pages of 37 rows put together are the whole table, with no row twice
        pieces = [board.page(many, start, start + 37, show_all=show_all)[0] for start in range(0, total, 37)]
        assert _ids([r for piece in pieces for r in piece]) == _ids(found)


def test_any_column_sorts_and_filters_like_a_plain_sort(many):
    expected = _reference(many)
    kept = [r for r in expected if r["test_accuracy"] is not None and r["test_accuracy"] >= 0.92]
    assert 0 < len(kept) < len(expected)
    for column, way in (("macro_f1", "asc"), ("train_seconds", "desc"), ("model", "asc"), ("time_to_93", "asc")):
        found, total = board.page(
            many,
            0,
            100_000,
            sort_model=[{"colId": column, "sort": way}],
            filter_model={"test_accuracy": {"filterType": "number", "type": "greaterThanOrEqual", "filter": 0.92}},
        )
        assert total == len(kept)
        present = sorted((r for r in kept if r.get(column) is not None), key=lambda r: r[column], reverse=way == "desc")
        assert [r.get(column) for r in found] == [r[column] for r in present] + [None] * (len(kept) - len(present))
    text, _ = board.page(
        many, 0, 1000, filter_model={"model": {"filterType": "text", "type": "contains", "filter": "cnn"}}
    )
    assert text and {r["run_id"] for r in text} == {r["run_id"] for r in expected if "cnn" in r["model"].lower()}
    either = {
        "filterType": "number",
        "operator": "OR",
        "conditions": [
            {"filterType": "number", "type": "lessThan", "filter": 0.85},
            {"filterType": "number", "type": "inRange", "filter": 0.93, "filterTo": 0.935},
        ],
    }
    found, _ = board.page(many, 0, 1000, filter_model={"test_accuracy": either})
    want = [
        r
        for r in expected
        if r["test_accuracy"] is not None and (r["test_accuracy"] < 0.85 or 0.93 <= r["test_accuracy"] <= 0.935)
    ]
    assert found and sorted(_ids(found)) == sorted(_ids(want))


def test_seed_groups_best_values_pareto_and_counts_agree(many):
    expected = _reference(many)
    for show_all in (False, True):
        folded = leaderboard.grouped(_reference(many, show_all))
        found, total = board.page(many, 0, 100_000, show_all=show_all, group=True)
        assert total == len(folded)
        assert [r["test_accuracy"] for r in found] == pytest.approx([r["test_accuracy"] for r in folded])
        assert [r.get("seeds") for r in found] == [r.get("seeds") for r in folded]
    assert board.best_values(many) == pytest.approx(leaderboard.best_values(leaderboard.completed(expected)))
    dots, n = board.pareto(many, limit=40)
    done = leaderboard.completed(expected)
    assert n == len([r for r in done if r.get("train_seconds")])
    point = {r["run_id"]: (r["test_accuracy"], r["train_seconds"]) for r in done}
    drawn = [(r["test_accuracy"], r["train_seconds"]) for r in dots]
    assert len(drawn) == len(set(drawn)) <= 40  # one dot per distinct point (the copies overlap)
    assert {point[run_id] for run_id in leaderboard.pareto_front(done)} <= set(drawn)  # the whole front
    ranked, hidden = board.counts(many)
    kinds = ranking.counts(many.list_runs())
    assert ranked == kinds["ranked"] and hidden == ranking.unranked_words(
        {k: v for k, v in kinds.items() if k != "ranked"}
    )
    assert [r["run_id"] for r in board.top(many, 3)] == _ids(leaderboard.completed(expected)[:3])


def test_changes_on_disk_show_up_at_the_next_request(many, tmp_path):
    store = RunStore(tmp_path / "runs")
    for name in ("c00-ref-cnn", "c00-ref-logreg", "c00-ref-knn"):
        shutil.copytree(many.path(name), store.path(name))
    assert board.page(store)[1] == 3
    store.rename("c00-ref-cnn", "My CNN")  # through the store
    assert next(r for r in board.page(store)[0] if r["run_id"] == "c00-ref-cnn")["name"] == "My CNN"
    shutil.rmtree(store.path("c00-ref-knn"))  # behind its back
    (store.path("c00-ref-logreg") / "run.json").write_text("{ not json")
    rows = board.page(store)[0]
    assert _ids(rows) == ["c00-ref-cnn", "c00-ref-logreg"] and rows[1]["status"] == "damaged"
    shutil.copytree(many.path("c01-ref-knn"), store.path("c01-ref-knn"))
    assert "c01-ref-knn" in _ids(board.page(store)[0])


@pytest.mark.parametrize(
    "sort, filters",
    [
        ([{"colId": "test_accuracy; DROP TABLE board", "sort": "asc"}], None),
        (["test_accuracy"], None),
        (None, {"test_accuracy": {"filterType": "number", "type": "greaterThan", "filter": "lots"}}),
        (None, {"model": {"filterType": "text", "type": "regex", "filter": ".*"}}),
        (None, {"model": "cnn"}),
    ],
)
def test_a_sort_or_filter_it_cannot_apply_is_a_clear_error(many, sort, filters):
    with pytest.raises(ValueError, match=r"sort|filter"):
        board.page(many, 0, 10, sort, filters)
    assert board.page(many, 0, 10)[1] > 0  # and nothing changed


def test_a_seed_groups_csv_interval_is_an_interval_not_the_range():
    runs = [
        {"run_id": f"g-s{i}", "group": "g", "status": "completed", "test_accuracy": acc, "settings": "x"}
        for i, acc in enumerate((0.90, 0.91, 0.93))
    ]
    (row,) = leaderboard.grouped(runs)
    assert row["seed_min"] == 0.90 and row["seed_max"] == 0.93
    assert row["ci_low"] < 0.90 and row["ci_high"] > 0.93  # a t-interval of the mean of 3 seeds is wider
    assert row["ci_low"] == pytest.approx(
        np.mean([0.9, 0.91, 0.93]) - 4.302653 * np.std([0.9, 0.91, 0.93], ddof=1) / 3**0.5, abs=1e-6
    )


def test_show_all_says_what_it_adds_highlights_study_runs_and_folds_their_seeds(many):
    """Issue 42: with the switch on, the sentence names the rows shown below the ranked ones (study
    runs first), the best validation accuracy counts study runs, and one row per seed group folds a
    study cell's seeds; the switch is named for what it mostly adds."""
    from dashboard.components.leaderboard_table import toolbar

    kinds = ranking.counts(many.list_runs())
    ranked, others = board.counts(many, show_all=True)
    assert ranked == kinds["ranked"] and f"{kinds['study']} study runs judged on validation" in others
    shown = _reference(many, True)
    best_val = max(r["val_accuracy"] for r in shown if r["status"] in ("completed", "validated") and r["val_accuracy"])
    assert board.best_values(many, show_all=True)["val_accuracy"] == pytest.approx(best_val)
    assert board.best_values(many)["val_accuracy"] <= best_val
    found, _total = board.page(many, 0, 100_000, show_all=True, group=True)
    cells = [r for r in found if r["status"] == "validated"]
    # a cell whose other seeds are still training (a race under way) is one run, not a group
    assert cells and any((r["seeds"] or 1) >= 2 for r in cells) and len(cells) == len({r["group"] for r in cells})
    members = [r for r in shown if r["status"] == "validated"]
    assert sum(r["seeds"] or 1 for r in cells) == len(members)
    first = cells[0]
    runs = [r["val_accuracy"] for r in members if r["group"] == first["group"]]
    assert first["val_accuracy"] == pytest.approx(float(np.mean(runs)))
    switch = json.dumps(toolbar(False).to_plotly_json(), default=str)
    assert "study runs (validation only)" in switch


def test_the_index_builds_the_board_rows_in_its_own_pass_and_counts_every_write(tmp_path):
    """A fresh index fills the leaderboard's rows in the same pass as its own (a 100 000-run store's
    first leaderboard no longer reads every run a second time), and every write bumps the change
    counter that the whole-store caches key on."""
    import sqlite3

    store = linked_store(tmp_path / "runs", 1)
    total = store.page(limit=0)[1]
    with sqlite3.connect(store.index.path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM board").fetchone()[0] == total
    assert board.refresh(store) == 0
    before = store.index.version()
    run_id = sorted(store.list_ids())[0]
    store.update(run_id, name="renamed")
    assert store.index.version() != before
    row = next(r for r in board.page(store, 0, 1000, show_all=True)[0] if r["run_id"] == run_id)
    assert row["name"] == "renamed"
