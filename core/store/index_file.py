"""Which SQLite file is the live run index, and how a damaged one is replaced without pulling it from
under the processes and threads that still have it open.

The index lives in generation files `index-<n>.sqlite` beside the runs folder; `index.current` (written
atomically) names the live one. A connection is opened on the file the pointer names, and every use
checks the pointer again (one small read), so when a damaged file is replaced each thread and process
moves to the new one at its next query. A replacement is built whole (tables, then every run from the
folders) before the pointer is swapped: no reader ever sees an empty index in its place.

Only damage replaces a file: a query that fails (a bad argument, a lock that timed out) leaves it
alone. `damaged(path)` asks SQLite itself (`PRAGMA quick_check`, the tables, the schema version).
Old generations are removed only two replacements later, when no process can still be using them
(each moves on at its next query).
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from core.store import atomic
from core.store.locks import waiting_lock

POINTER = "index.current"
LOCK = ".index.lock"
LEGACY = "index.sqlite"  # the single file of earlier versions: still read if no pointer exists
_NAME = re.compile(r"^index(-[0-9]{1,24})?\.sqlite$")
_GENERATION = re.compile(r"^index-([0-9]{1,24})\.sqlite$")
_BUSY = ("locked", "busy")  # a lock that timed out is not damage


def current(folder: Path) -> Path:
    """The live index file of `folder` (what the pointer names; the legacy name if there is none)."""
    try:
        name = (folder / POINTER).read_text(encoding="ascii").strip()
    except (FileNotFoundError, UnicodeDecodeError):
        name = LEGACY
    return folder / (name if _NAME.fullmatch(name) else LEGACY)


def damaged(path: Path, schema: int) -> str | None:
    """Why the file at `path` cannot serve as the index (None if it can): missing, not a database,
    failing SQLite's own quick check, without its tables, or of another schema. Opened read-only on a
    fresh connection, so a bad query on another connection never reads as damage."""
    if not path.exists():
        return "missing"
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error as exc:
        return f"cannot be opened ({exc})"
    try:
        check = conn.execute("PRAGMA quick_check").fetchone()
        if not check or check[0] != "ok":
            return f"fails SQLite's quick check ({check[0] if check else 'no answer'})"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not {"meta", "runs"} <= tables:
            return "has no runs table"
        found = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        if found is not None and found[0] != str(schema):
            return f"is of schema {found[0]}, expected {schema}"
        return None
    except sqlite3.DatabaseError as exc:
        if any(word in str(exc).lower() for word in _BUSY):
            return None
        return f"is damaged ({exc})"
    finally:
        conn.close()


def replace(folder: Path, seen: Path, schema: int, build: Callable[[Path], None]) -> Path:
    """Make a new, filled index file live in place of `seen` (the file found damaged or missing) and
    return the live file. Under a lock across processes; when another thread or process has already
    replaced `seen`, its file is used as it is. `build(path)` creates and fills the new file."""
    with waiting_lock(folder / LOCK):
        live = current(folder)
        if live != seen and damaged(live, schema) is None:
            return live  # someone else replaced it while we waited
        new = folder / f"index-{time.time_ns()}.sqlite"
        try:
            build(new)
        except BaseException:
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    Path(f"{new}{suffix}").unlink()
            raise
        atomic.write_bytes(folder / POINTER, new.name.encode("ascii") + b"\n")
        _prune(folder, keep={new.name, seen.name})
        return new


def _prune(folder: Path, keep: set[str]) -> None:
    """Remove generations older than the one just replaced: every process has moved past them (each
    re-reads the pointer before using its connection)."""
    for path in folder.glob("index*.sqlite"):
        if path.name in keep or not _NAME.fullmatch(path.name):
            continue
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{path}{suffix}")
