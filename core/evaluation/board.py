"""The leaderboard at any size: every run's leaderboard row (core.evaluation.leaderboard) kept in the
run index's SQLite file, and the questions the page asks answered there, so no request reads every
run or ships every row:

- `page`: one sorted, filtered slice and how many rows match (AG Grid's infinite row model asks for
  these; any column sorts and filters, missing values last, ties broken by run id);
- `best_values`, `top`, `pareto`: the best value of each column, the best few runs, the runs no
  other run beats on accuracy and training time (computed over every run, only its points sent);
- `counts`: what the sentence above the table says (ranked runs, and the hidden ones by kind).

The rows live in table `board` beside the index's `runs`, each stamped with the run.json
modification time it was built from; `refresh` rebuilds only the rows whose run changed (one SQL
join when nothing did). With "one row per seed group", the groups' rows are built from their
members' rows in a temporary table and queried the same way.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import sqlite3
from collections.abc import Iterator
from typing import Any

from core.evaluation import leaderboard, ranking
from core.store import RunStore, UnknownRun, index_derived
from core.store import index as run_index

TABLE_DDL = """
CREATE TABLE IF NOT EXISTS board (
    run_id TEXT PRIMARY KEY, mtime_ns INTEGER, status TEXT, shown INTEGER, small INTEGER, grp TEXT, rank REAL,
    row TEXT
);
CREATE INDEX IF NOT EXISTS board_rank ON board(rank DESC, run_id);
CREATE INDEX IF NOT EXISTS board_shown ON board(shown, status, small)"""
SHOWN = ("completed", "damaged", *leaderboard.UNFINISHED)  # statuses with a leaderboard row
_COLUMN = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
_TEXT_OPS = {"equals": "= ?", "notEqual": "!= ?", "contains": "LIKE ?", "notContains": "NOT LIKE ?"}
_TEXT_OPS |= {"startsWith": "LIKE ?", "endsWith": "LIKE ?"}
_NUMBER_OPS = {"equals": "= ?", "notEqual": "!= ?", "lessThan": "< ?", "lessThanOrEqual": "<= ?"}
_NUMBER_OPS |= {"greaterThan": "> ?", "greaterThanOrEqual": ">= ?"}


@contextlib.contextmanager
def _db(store: RunStore) -> Iterator[sqlite3.Connection]:
    store.index.query(limit=0)  # opens (or repairs) the index file and its tables first
    conn = sqlite3.connect(store.index.path, timeout=30, isolation_level=None)
    try:
        conn.executescript(TABLE_DDL)
        yield conn
    finally:
        conn.close()


_memo: dict[tuple, tuple[tuple, Any]] = {}
_refreshed: dict[str, tuple] = {}  # index folder -> the index version this process last refreshed at


def _remembered(store: RunStore, key: tuple, compute):
    """`compute()`, or its last answer while the board's rows are unchanged (same count and
    modification times): the summaries over every row are not recomputed on each request."""
    now = store.index.version()  # every write of a run or of its board row bumps it
    memo_key = (str(store.index.folder), *key)
    found = _memo.get(memo_key)
    if found is not None and found[0] == now:
        return found[1]
    value = compute()
    _memo[memo_key] = (now, value)
    return value


def refresh(store: RunStore) -> int:
    """Bring the rows up to date with the run folders (through the index's own sync, which builds them
    in the same pass: `_derived`); rebuilds, in one transaction, only rows the index's pass left out
    or that are stale; returns how many."""
    run_index.sync_if_due(store)
    seen = store.index.version()
    if _refreshed.get(str(store.index.folder)) == seen:
        return 0  # nothing written since this process last brought the board up to date
    with _db(store) as conn:
        stale = conn.execute(
            "SELECT r.run_id, r.mtime_ns FROM runs r LEFT JOIN board b ON b.run_id = r.run_id "
            "WHERE b.run_id IS NULL OR b.mtime_ns IS NOT r.mtime_ns OR b.status IS NOT r.status"
        ).fetchall()
        built, missing = [], []
        for run_id, mtime in stale:
            try:
                record = store.get(run_id)
                history = store.history(run_id) if record.get("status") == "completed" else []
            except UnknownRun:
                missing.append((run_id,))
                continue
            built.append(_board_row(record, history, mtime))
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("DELETE FROM board WHERE run_id NOT IN (SELECT run_id FROM runs)")
            conn.executemany("DELETE FROM board WHERE run_id = ?", missing)
            conn.executemany("INSERT OR REPLACE INTO board VALUES (?, ?, ?, ?, ?, ?, ?, ?)", built)
            if built or missing:
                conn.execute(run_index.BUMP)
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
    _refreshed[str(store.index.folder)] = store.index.version()
    return len(stale)


def _board_row(record: dict[str, Any], history: list, mtime: int | None) -> tuple:
    status = record.get("status")
    if status == "completed":
        row = leaderboard.row(record, history)
    elif status in SHOWN:
        row = leaderboard.damaged_row(record)
    else:  # queued or running: not on the leaderboard yet
        row = None
    text = json.dumps(row, default=str) if row is not None else None
    small = bool(row and row.get("small"))
    group = row.get("group") if row else None
    rank = _rank(row) if row else -2.0
    return record["run_id"], mtime, status, int(row is not None), int(small), group, rank, text


def _rank(row: dict[str, Any]) -> float:
    """The default order in one indexed column: test accuracy, then damaged runs, then the others."""
    accuracy = row.get("test_accuracy")
    return float(accuracy) if isinstance(accuracy, int | float) else -1.0 if row.get("status") == "damaged" else -2.0


def _derived(store: RunStore, record: dict[str, Any], mtime: int | None) -> tuple:
    """A run's board row, built by the index's own pass over the folders (core.store.index_derived)."""
    history = store.history(record["run_id"]) if record.get("status") == "completed" else []
    return _board_row(record, history, mtime)


index_derived.register(index_derived.Derived("board", TABLE_DDL, _derived))


def _shown_clause(show_all: bool) -> str:
    """By default completed full-split runs and damaged ones (greyed, so they are noticed); `show_all`
    adds failed, interrupted, validation-only and small-subset runs (leaderboard.shown)."""
    if show_all:
        return "shown = 1"
    return "shown = 1 AND status IN ('completed', 'damaged') AND small = 0"


def _where(filter_model: dict[str, Any] | None) -> tuple[list[str], list[Any]]:
    """AG Grid's filter model as SQL over the rows' JSON: text and number filters, one condition or
    two joined by AND/OR, blank/notBlank and inRange. Unknown columns or operators are refused."""
    where: list[str] = []
    args: list[Any] = []
    for column, spec in (filter_model or {}).items():
        if not isinstance(spec, dict):
            raise ValueError(f"filter of {column!r} is not an object")
        conditions = spec.get("conditions")
        parts: list[Any] = conditions if isinstance(conditions, list) else [spec]
        joiner = " OR " if str(spec.get("operator", "AND")).upper() == "OR" else " AND "
        sql = []
        for part in parts:
            kind = spec.get("filterType") or (part.get("filterType") if isinstance(part, dict) else None)
            text, values = _condition(column, part, kind)
            sql.append(text)
            args += values
        where.append("(" + joiner.join(sql) + ")")
    return where, args


def _field(column: Any) -> str:
    if not isinstance(column, str) or not _COLUMN.match(column):
        raise ValueError(f"cannot sort or filter by {column!r}")
    return f"json_extract(row, '$.{column}')"


def _condition(column: str, part: Any, kind: Any) -> tuple[str, list[Any]]:
    field = _field(column)
    if not isinstance(part, dict):
        raise ValueError(f"filter of {column!r} is not an object")
    op = part.get("type")
    if op == "blank":
        return f"({field} IS NULL OR {field} = '')", []
    if op == "notBlank":
        return f"({field} IS NOT NULL AND {field} != '')", []
    value = part.get("filter")
    if kind == "number":
        try:
            if not isinstance(value, int | float | str):
                raise TypeError(value)
            number = float(value)
            upper = float(part["filterTo"]) if op == "inRange" else None
        except (TypeError, ValueError, KeyError):
            raise ValueError(f"filter of {column!r}: {value!r} is not a number") from None
        if op == "inRange":
            return f"({field} >= ? AND {field} <= ?)", [number, upper]
        if op not in _NUMBER_OPS:
            raise ValueError(f"filter of {column!r}: unknown comparison {op!r}")
        return f"{field} {_NUMBER_OPS[op]}", [number]
    if op not in _TEXT_OPS or not isinstance(value, str | int | float):
        raise ValueError(f"filter of {column!r}: unknown text filter {op!r}")
    text = str(value).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = {"contains": f"%{text}%", "notContains": f"%{text}%", "startsWith": f"{text}%", "endsWith": f"%{text}"}
    if op in pattern:
        return f"{field} {_TEXT_OPS[op]} ESCAPE '\\'", [pattern[op]]
    return f"lower({field}) {_TEXT_OPS[op]}", [str(value).lower()]


def _order(sort_model: list[dict[str, Any]] | None) -> str:
    """The sort the person chose (several columns in turn), then the leaderboard's own order: best
    test accuracy first, damaged before other unfinished runs, run id."""
    keys = []
    for item in sort_model or []:
        if not isinstance(item, dict):
            raise ValueError("a sort entry is not an object")
        field = _field(item.get("colId"))
        direction = "DESC" if item.get("sort") == "desc" else "ASC"
        keys.append(f"{field} IS NULL, {field} {direction}")
    keys.append("rank DESC, run_id ASC")  # best test accuracy first, then damaged runs, then the others
    return " ORDER BY " + ", ".join(keys)


def _source(conn: sqlite3.Connection, show_all: bool, group: bool) -> str:
    """The table to query: `board` itself, or with `group` a temporary table where each seed group's
    completed members became one row (leaderboard.grouped)."""
    if not group:
        return "board"
    rows = [json.loads(r[0]) for r in conn.execute(f"SELECT row FROM board WHERE {_shown_clause(show_all)}")]
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS grouped "
        "(run_id TEXT, status TEXT, shown INTEGER, small INTEGER, rank REAL, row TEXT)"
    )
    conn.execute("DELETE FROM grouped")
    conn.executemany(
        "INSERT INTO grouped VALUES (?, ?, 1, ?, ?, ?)",
        [
            (r["run_id"], r["status"], int(bool(r.get("small"))), _rank(r), json.dumps(r, default=str))
            for r in leaderboard.grouped(rows)
        ],
    )
    return "grouped"


def page(
    store: RunStore,
    start: int = 0,
    end: int = 100,
    sort_model: list[dict[str, Any]] | None = None,
    filter_model: dict[str, Any] | None = None,
    show_all: bool = False,
    group: bool = False,
) -> tuple[list[dict[str, Any]], int]:
    """(rows start..end of the table as sorted and filtered, how many rows match). Raises ValueError
    on a sort or filter it cannot apply."""
    start, end = max(0, int(start)), max(0, int(end))
    where, args = _where(filter_model)
    order = _order(sort_model)
    refresh(store)
    with _db(store) as conn:
        table = _source(conn, show_all, group)
        clause = " WHERE " + " AND ".join([_shown_clause(show_all), *where])
        total = conn.execute(f"SELECT COUNT(*) FROM {table}{clause}", args).fetchone()[0]
        found = conn.execute(
            f"SELECT row FROM {table}{clause}{order} LIMIT ? OFFSET ?", [*args, max(0, end - start), start]
        ).fetchall()
    return [json.loads(r[0]) for r in found], int(total)


def best_values(store: RunStore, show_all: bool = False, group: bool = False) -> dict[str, float]:
    """The best value of each comparable column over the completed rows shown (leaderboard.best_values)."""
    refresh(store)
    return dict(_remembered(store, ("best", show_all, group), lambda: _best_values(store, show_all, group)))


def _best_values(store: RunStore, show_all: bool, group: bool) -> dict[str, float]:
    with _db(store) as conn:
        table = _source(conn, show_all, group)
        # a study run's validation accuracy and training time are comparable columns too (when shown)
        scored = {True: "status IN ('completed', 'validated')", False: "status = 'completed'"}
        picks = ", ".join(
            f"{'MAX' if way == 'max' else 'MIN'}(CASE WHEN {scored[column in leaderboard.VALIDATED_COLUMNS]} "
            f"THEN {_field(column)} END)"
            for column, way in leaderboard.BEST_DIRECTION.items()
        )
        found = conn.execute(f"SELECT {picks} FROM {table} WHERE {_shown_clause(show_all)}").fetchone()
    return {column: value for column, value in zip(leaderboard.BEST_DIRECTION, found, strict=True) if value is not None}


def top(store: RunStore, n: int, show_all: bool = False, group: bool = False) -> list[dict[str, Any]]:
    """The `n` most accurate completed rows shown."""
    refresh(store)
    return _remembered(store, ("top", n, show_all, group), lambda: _top(store, n, show_all, group))


def _top(store: RunStore, n: int, show_all: bool, group: bool) -> list[dict[str, Any]]:
    return page(
        store,
        0,
        n,
        filter_model={"status": {"filterType": "text", "type": "equals", "filter": "completed"}},
        show_all=show_all,
        group=group,
    )[0]


def pareto(store: RunStore, show_all: bool = False, limit: int = 300) -> tuple[list[dict[str, Any]], int]:
    """(the rows to draw on the accuracy-for-time chart, how many completed rows have both numbers):
    every point of the Pareto front, computed over all of them, and the most accurate others up to
    `limit` dots in all; runs with identical accuracy and time share one dot."""
    refresh(store)
    return _remembered(store, ("pareto", show_all, limit), lambda: _pareto(store, show_all, limit))


def _pareto(store: RunStore, show_all: bool, limit: int) -> tuple[list[dict[str, Any]], int]:
    acc, secs = _field("test_accuracy"), _field("train_seconds")
    base = f"FROM board WHERE {_shown_clause(show_all)} AND status = 'completed' AND {acc} IS NOT NULL AND {secs} > 0"
    with _db(store) as conn:
        points = conn.execute(f"SELECT run_id, {acc}, {secs} {base} ORDER BY {secs} ASC, {acc} DESC, run_id").fetchall()
        where = {run_id: (accuracy, seconds) for run_id, accuracy, seconds in points}
        drawn: dict[tuple, str] = {}  # one dot per distinct point: runs with identical numbers overlap
        for run_id in _front(points):
            drawn.setdefault(where[run_id], run_id)
        rest = conn.execute(
            f"SELECT run_id, {acc}, {secs} {base} ORDER BY {acc} DESC, run_id LIMIT ?", [max(0, 4 * limit)]
        ).fetchall()
        for run_id, accuracy, seconds in rest:
            if len(drawn) >= limit:
                break
            drawn.setdefault((accuracy, seconds), run_id)
        chosen = list(drawn.values())
        rows = (
            conn.execute(f"SELECT row FROM board WHERE run_id IN ({','.join('?' * len(chosen))})", chosen).fetchall()
            if chosen
            else []
        )
    return [json.loads(r[0]) for r in rows], len(points)


def _front(points: list[tuple[str, float, float]]) -> list[str]:
    """Run ids no other point beats on both accuracy (higher) and seconds (lower), from points sorted
    by seconds: a run is on the front when it is the most accurate of its time and beats every faster
    one (identical points stay together, as in leaderboard.pareto_front)."""
    front: list[str] = []
    best_faster = float("-inf")
    for _seconds, group in itertools.groupby(points, key=lambda p: p[2]):
        same = list(group)
        top = max(p[1] for p in same)
        if top > best_faster:
            front += [p[0] for p in same if p[1] == top]
        best_faster = max(best_faster, top)
    return front


def counts(store: RunStore, show_all: bool = False, group: bool = False) -> tuple[int, str]:
    """(completed full-split rows shown, the words for the runs the default view hides)."""
    refresh(store)
    return _remembered(store, ("counts", show_all, group), lambda: _counts(store, show_all, group))


def _counts(store: RunStore, show_all: bool, group: bool) -> tuple[int, str]:
    """(the completed full-split rows, the words for the other runs: hidden by default, shown below the
    ranked ones with `show_all`)."""
    with _db(store) as conn:
        table = _source(conn, show_all, group)
        ranked = conn.execute(
            f"SELECT COUNT(*) FROM {table} WHERE {_shown_clause(show_all)} AND status = 'completed' AND small = 0"
        ).fetchone()[0]
        others = conn.execute(
            f"SELECT status, small, COUNT(*) FROM board WHERE shown = 1 AND NOT ({_shown_clause(False)}) GROUP BY 1, 2"
        ).fetchall()
    return int(ranked), ranking.unranked_words(
        ranking.counts_from_index([(status, not small, number) for status, small, number in others])
    )
