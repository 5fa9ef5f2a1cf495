"""An index of run summaries in SQLite (`artifacts/index.sqlite`), so listings never open every run.

The run folders stay the source of truth; the index is a cache of what listings need (id, status,
model, group, study, preset, dates, accuracies and interval, seconds, size, damage reason), rebuilt
from the folders whenever it is missing, damaged or of another schema, so it can never lose a run.

- Every write through `core.store` updates the index in the same step (`RunStore.update`, `open_run`,
  `delete`).
- A folder changed behind the store's back (copied in, edited, deleted) is found by `sync`: one
  `stat` of each `run.json` against the modification time the index recorded; only changed runs are
  read again. Runs that are still training are always re-read (their process may have died).
- Concurrency: WAL mode and a busy timeout; trainings, Celery workers and the server write at once.

`python -m core runs reindex` rebuilds it from scratch.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import Any

from core.store import index_derived, index_file
from core.store.errors import RunError

SCHEMA = 5  # 2: a tuning trial's study name is indexed too; 3: summaries name their preset; 4: derived tables;
# 5: board rows carry calibration, race runs their study
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_OFFSET = 10**12  # far past any store, far below SQLite's 64-bit integers
SYNC_INTERVAL_S = 1.0  # a listing re-checks the folders at most this often per process (one stat per run)
# ... and, for a big store, at most once per this many times the last check took (a check of 100 000
# folders takes seconds here: it then runs at most about a tenth of the time)
SYNC_COST_FACTOR = 10.0
_next_sync: dict[str, float] = {}
ACTIVE_STATUSES = ("queued", "running")
# every write bumps one counter in `meta`: what caches of whole-store answers key on, read in O(1)
BUMP = "INSERT INTO meta VALUES ('changes', '1') ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"

# sortable columns (the API's `sort=`, `-` for descending) and the filters a listing takes
SORTS = ("created_at", "test_accuracy", "val_accuracy", "train_seconds", "run_id", "model", "status", "n_train")
FILTERS = (
    "status",
    "model",
    "study",
    "group_id",
    "preset",
    "family",
    "reference",
    "full_split",
    "in_study",
    "id_prefix",
)
FULL_SPLIT = 48_000  # training photos of a ranked run (core.evaluation.ranking.FULL_SPLIT)

_DDL = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    mtime_ns INTEGER,
    status TEXT, model TEXT, label TEXT, family TEXT, group_id TEXT, study TEXT, preset TEXT,
    created_at TEXT, test_accuracy REAL, ci_low REAL, ci_high REAL, val_accuracy REAL,
    train_seconds REAL, n_train INTEGER, size_bytes INTEGER, damage TEXT, reference INTEGER,
    summary TEXT
);
{"".join(f"CREATE INDEX IF NOT EXISTS runs_{c} ON runs({c});" for c in SORTS + FILTERS if c not in ("run_id", "full_split", "in_study", "id_prefix"))}
"""


def _row(summary: dict[str, Any], record: dict[str, Any], mtime_ns: int | None) -> tuple:
    ci = summary.get("test_accuracy_ci95") or [None, None]
    group: dict[str, Any] = record["group"] if isinstance(record.get("group"), dict) else {}
    ablation: dict[str, Any] = record["ablation"] if isinstance(record.get("ablation"), dict) else {}
    produced: dict[str, Any] = record["produced_by"] if isinstance(record.get("produced_by"), dict) else {}
    artifact: dict[str, Any] = record["artifact"] if isinstance(record.get("artifact"), dict) else {}
    tuning: dict[str, Any] = record["study"] if isinstance(record.get("study"), dict) else {}
    race: dict[str, Any] = record["race"] if isinstance(record.get("race"), dict) else {}
    study = record.get("study") if isinstance(record.get("study"), str) else tuning.get("name") or ablation.get("study")
    study = study or race.get("study")
    return (
        summary["run_id"],
        mtime_ns,
        summary.get("status"),
        summary.get("model"),
        summary.get("label"),
        record.get("family"),
        group.get("id"),
        study,
        record.get("preset") or produced.get("preset"),
        summary.get("created_at"),
        summary.get("test_accuracy"),
        ci[0],
        ci[1],
        summary.get("val_accuracy"),
        summary.get("train_seconds"),
        summary.get("n_train"),
        artifact.get("bytes"),
        summary.get("damage"),
        int(bool(summary.get("reference"))),
        json.dumps(summary, default=str),
    )


class RunIndex:
    """The SQLite index beside a run store's folder (the live `<artifacts>/index-<n>.sqlite`, named by
    `<artifacts>/index.current`; see core.store.index_file). `fill(index)` fills a new, empty index from
    the run folders: a damaged or missing file is replaced by a filled one, never by an empty one.
    `path` fixes the file (a replacement being built)."""

    _local = threading.local()

    def __init__(self, runs_root: Path, path: Path | None = None, fill: Callable[[RunIndex], Any] | None = None):
        self.runs_root = Path(runs_root)
        self.folder = self.runs_root.parent
        self._fixed = Path(path) if path else None
        self.fill = fill

    @property
    def path(self) -> Path:
        """The live index file (the pointer is read again each time: a replaced file is left at once)."""
        return self._fixed or index_file.current(self.folder)

    # -- connection -----------------------------------------------------------------------------
    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """A connection per thread and process to the live file. A missing or damaged file is replaced
        by a new, filled one (`_replace`); a failing query leaves the file alone and raises."""
        cache = getattr(self._local, "connections", None)
        if cache is None:
            cache = self._local.connections = {}
        path = self.path
        key = (str(self._fixed or self.folder), os.getpid())
        found = cache.get(key)
        if found is not None and found[0] != path:  # the file was replaced: move to the new one
            cache.pop(key)
            with contextlib.suppress(sqlite3.Error):
                found[1].close()
            found = None
        if found is None:
            if not path.exists() and not self._fixed:
                path = self._replace(path, "missing")
            found = cache[key] = (path, self._open(path))
        try:
            yield found[1]
        except sqlite3.DatabaseError:
            cache.pop(key, None)
            with contextlib.suppress(sqlite3.Error):
                found[1].close()
            raise

    def _open(self, path: Path) -> sqlite3.Connection:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_DDL + index_derived.ddl())
            found = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if found is None:
                conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA),))
            elif found[0] != str(SCHEMA):
                raise sqlite3.DatabaseError(f"index schema {found[0]}, expected {SCHEMA}")
            return conn
        except BaseException:
            conn.close()
            raise

    def _replace(self, seen: Path, why: str) -> Path:
        """Build a new index file, filled from the folders, and make it the live one."""

        def build(new: Path) -> None:
            fresh = RunIndex(self.runs_root, path=new)
            with fresh._db():
                pass
            if self.fill is not None:
                self.fill(fresh)
            with fresh._db() as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

        return index_file.replace(self.folder, seen, SCHEMA, build)

    def _run(self, fn):
        """Run `fn(conn)`. When it fails because the file is damaged (SQLite's own check says so), the
        file is replaced by a new, filled one and `fn` runs once more; any other failure (a bad query,
        a lock that timed out) is raised and changes nothing."""
        path = self.path
        try:
            with self._db() as conn:
                return fn(conn)
        except sqlite3.DatabaseError:
            why = index_file.damaged(path, SCHEMA)
            if why is None or self._fixed:
                raise
            self._replace(path, why)
            with self._db() as conn:
                return fn(conn)

    # -- writes ---------------------------------------------------------------------------------
    def upsert(self, summary: dict[str, Any], record: dict[str, Any], mtime_ns: int | None, store: Any = None) -> None:
        """One run's row (and, given its store, the rows of the tables derived from it: index_derived)."""
        built = index_derived.rows(store, record, mtime_ns) if store is not None else {}
        self.write_many([_row(summary, record, mtime_ns)], (), {k: [v] for k, v in built.items()})

    def write_many(
        self, rows: list[tuple], gone: Collection[str] = (), derived: dict[str, list[tuple]] | None = None
    ) -> None:
        """Insert or replace many rows (built by `_row`) and their derived tables' rows, and drop the
        runs that are gone, in one transaction."""
        if not rows and not gone and not derived:
            return

        def write(c):
            c.execute("BEGIN IMMEDIATE")
            try:
                if rows:
                    c.executemany(f"INSERT OR REPLACE INTO runs VALUES ({','.join('?' * len(rows[0]))})", rows)
                c.executemany("DELETE FROM runs WHERE run_id = ?", [(r,) for r in gone])
                index_derived.write(c, derived or {}, gone)
                c.execute(BUMP)
                c.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    c.execute("ROLLBACK")
                raise

        self._run(write)

    def remove(self, run_id: str) -> None:
        self.write_many([], [run_id])

    def clear(self) -> None:
        self._run(lambda c: c.executescript(f"DELETE FROM runs; {BUMP};"))

    # -- reads ----------------------------------------------------------------------------------
    def known(self) -> dict[str, tuple[int | None, str | None]]:
        """run id -> (run.json mtime recorded, status)."""
        return self._run(lambda c: {r[0]: (r[1], r[2]) for r in c.execute("SELECT run_id, mtime_ns, status FROM runs")})

    def query(
        self,
        filters: dict[str, Any] | None = None,
        sort: str = "-created_at",
        limit: int | None = DEFAULT_LIMIT,
        offset: int = 0,
        search: str | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        """(one page of run summaries, how many match): filtered, sorted and paged in SQL. Ties are
        broken by run id, so pages never overlap; missing values sort last."""
        where: list[str] = []
        args: list[Any] = []
        for name, value in (filters or {}).items():
            if name not in FILTERS:
                raise ValueError(f"cannot filter by {name!r}; use one of {', '.join(FILTERS)}")
            if value is None:
                continue
            if name == "full_split":  # trained on the whole split (no photo count recorded = the whole split)
                where.append("(n_train IS NULL OR n_train >= ?)" if value else "(n_train < ?)")
                args.append(FULL_SPLIT)
                continue
            if name == "id_prefix":  # run ids that start with this text (a range of the primary key)
                where.append("run_id >= ? AND run_id < ?")
                args += [str(value), str(value) + "\U0010ffff"]
                continue
            if name == "in_study":  # a tuning trial or an ablation run (True), or neither (False)
                truthy = value not in (False, 0, "0", "false", "False")
                where.append("study IS NOT NULL" if truthy else "study IS NULL")
                continue
            values = value if isinstance(value, list | tuple) else [value]
            where.append(f"{name} IN ({','.join('?' * len(values))})")
            args += [str(v) for v in values]
        if search:
            where.append("(run_id LIKE ? ESCAPE '\\' OR label LIKE ? ESCAPE '\\' OR model LIKE ? ESCAPE '\\')")
            pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            args += [pattern] * 3
        descending = sort.startswith("-")
        column = sort.lstrip("-+")
        if column not in SORTS:
            raise ValueError(f"cannot sort by {column!r}; use one of {', '.join(SORTS)} (prefix - for descending)")
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        order = f" ORDER BY {column} IS NULL, {column} {'DESC' if descending else 'ASC'}, run_id ASC"
        for name, value, high in (("limit", limit, MAX_LIMIT), ("offset", offset, MAX_OFFSET)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high):
                raise ValueError(f"{name} must be a whole number from 0 to {high}")
        page = f" LIMIT {limit} OFFSET {offset}" if limit is not None else ""

        def read(c):
            total = c.execute(f"SELECT COUNT(*) FROM runs{clause}", args).fetchone()[0]
            rows = c.execute(f"SELECT summary FROM runs{clause}{order}{page}", args).fetchall()
            return [json.loads(r[0]) for r in rows], int(total)

        return self._run(read)

    def version(self) -> tuple:
        """Changes whenever a run is added, removed or rewritten (or a derived row is): (the live
        file's name, its change counter), read in O(1) at any size."""
        found = self._run(lambda c: c.execute("SELECT value FROM meta WHERE key = 'changes'").fetchone())
        return (self.path.name, int(found[0]) if found else 0)

    def status_counts(self) -> list[tuple[str, bool, int]]:
        """(status, trained on the whole split, how many runs) for every status present."""
        sql = "SELECT status, (n_train IS NULL OR n_train >= ?), COUNT(*) FROM runs GROUP BY 1, 2"
        return [(r[0], bool(r[1]), int(r[2])) for r in self._run(lambda c: c.execute(sql, (FULL_SPLIT,)).fetchall())]


def _mtime(store, run_id: str) -> int | None:
    try:
        return (store.path(run_id) / "run.json").stat().st_mtime_ns
    except OSError:
        return None


def record_write(store, run_id: str, record: dict[str, Any] | None = None) -> None:
    """Bring one run's row up to date after a write through the store (never fails the write: an
    index that cannot be written is repaired by the next `sync`)."""
    from core.store.record import run_summary

    try:
        if record is None or "status" not in record:
            record = store.get(run_id)
        store.index.upsert(run_summary(record), record, _mtime(store, run_id), store)
    except (sqlite3.Error, OSError, RunError):
        return  # the next `sync` finds the run by its folder


def sync_if_due(store) -> int:
    """`sync`, unless this process synced the same store less than SYNC_INTERVAL_S ago, or less than
    SYNC_COST_FACTOR times as long ago as that check took (writes through the store update the index
    at once; only changes behind its back wait that long)."""
    import time

    key, began = str(store.root), time.monotonic()
    if began < _next_sync.get(key, -1e9):
        return 0
    changed = sync(store)
    ended = time.monotonic()
    _next_sync[key] = ended + max(SYNC_INTERVAL_S, SYNC_COST_FACTOR * (ended - began))
    return changed


def version(store) -> tuple:
    """A token that changes whenever any run of `store` changes (the index, brought up to date first):
    what caches of whole-store answers (the story) key on."""
    sync_if_due(store)
    return store.index.version()


def sync(store, target: RunIndex | None = None) -> int:
    """Make the index match the folders: read again every run whose run.json changed (by modification
    time), is new, or is still training; drop rows of folders that are gone. Returns how many rows
    changed. One `stat` per run when nothing changed."""
    from core.store.errors import UnknownRun
    from core.store.record import run_summary

    index = target or store.index
    known = index.known()
    ids = store.list_ids()
    rows: list[tuple] = []
    derived: dict[str, list[tuple]] = {}
    for run_id in ids:
        mtime = _mtime(store, run_id)
        recorded = known.get(run_id)
        if recorded is not None and recorded[0] == mtime and mtime is not None and recorded[1] not in ACTIVE_STATUSES:
            continue
        try:
            record = store.get(run_id)
        except UnknownRun:
            continue
        mtime = _mtime(store, run_id)
        rows.append(_row(run_summary(record), record, mtime))
        for table, row in index_derived.rows(store, record, mtime).items():
            derived.setdefault(table, []).append(row)
    gone = set(known) - set(ids)
    index.write_many(rows, gone, derived)
    return len(rows) + len(gone)


def reindex(store) -> int:
    """Rebuild the index from the folders; returns the number of runs indexed."""
    store.index.clear()
    sync(store)
    return store.index.query(limit=0)[1]
