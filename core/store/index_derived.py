"""Tables kept beside the run index's `runs` and built from the same read of each run: a layer above
the store (the leaderboard's `board`, core.evaluation.board) registers one with `register`, and from
then on the index's sync, its rebuild and every write through the store fill it in the same pass and
the same transaction as the run's own row. A fresh or replaced index then needs no second pass over
100 000 run folders before the leaderboard can answer.

A builder that fails on one run leaves that run's row out (its owner fills it later); it never fails
the index.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Derived:
    table: str  # its first column is the run id (the primary key)
    ddl: str  # CREATE TABLE IF NOT EXISTS … (and its indexes), run when the index file is opened
    build: Callable[[Any, dict[str, Any], int | None], tuple | None]  # (store, record, run.json mtime) -> row


DERIVED: dict[str, Derived] = {}
FAILURES = (OSError, ValueError, KeyError, TypeError, LookupError, sqlite3.Error)


def register(derived: Derived) -> None:
    DERIVED[derived.table] = derived


def ddl() -> str:
    return "".join(d.ddl.rstrip().rstrip(";") + ";\n" for d in DERIVED.values())


def rows(store: Any, record: dict[str, Any], mtime_ns: int | None) -> dict[str, tuple]:
    """Each registered table's row for one run (left out where its builder fails)."""
    out = {}
    for name, derived in list(DERIVED.items()):
        try:
            row = derived.build(store, record, mtime_ns)
        except FAILURES:
            continue
        if row is not None:
            out[name] = row
    return out


def write(conn: sqlite3.Connection, built: dict[str, list[tuple]], gone: Collection[str] = ()) -> None:
    """Insert or replace the rows built, and drop the rows of runs that are gone (inside the caller's
    transaction)."""
    for name, found in built.items():
        if found and name in DERIVED:
            conn.executemany(f"INSERT OR REPLACE INTO {name} VALUES ({','.join('?' * len(found[0]))})", found)
    for name in DERIVED:
        conn.executemany(f"DELETE FROM {name} WHERE run_id = ?", [(r,) for r in gone])
