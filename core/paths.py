"""Where the project keeps its files: the artifacts folder and its parts.

`STUDIO_ARTIFACTS` overrides the artifacts root (tests point it at a temporary folder so they
never touch the committed reference runs).
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def artifacts_dir() -> Path:
    """The artifacts root: `$STUDIO_ARTIFACTS` or `<project>/artifacts`."""
    override = os.environ.get("STUDIO_ARTIFACTS")
    return Path(override).resolve() if override else PROJECT_ROOT / "artifacts"


def runs_dir() -> Path:
    """Folder holding one sub-folder per run."""
    return artifacts_dir() / "runs"


def cache_dir() -> Path:
    """Folder for derived, re-computable data (embeddings, statistics)."""
    path = artifacts_dir() / "cache"
    path.mkdir(parents=True, exist_ok=True)
    return path
