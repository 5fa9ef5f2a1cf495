"""Process-wide access to the run store the pages read (follows STUDIO_ARTIFACTS)."""

from __future__ import annotations

import functools

from core import paths
from core.store import RunStore


@functools.lru_cache(maxsize=4)
def _store_for(root: str) -> RunStore:
    return RunStore(root)


def store() -> RunStore:
    """The RunStore for the current artifacts root (one instance per root, so caches are shared)."""
    return _store_for(str(paths.runs_dir()))
