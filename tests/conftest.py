"""Shared fixtures: a private artifacts folder per test session, the real dataset, helpers.

Tests never write into the project's artifacts/: STUDIO_ARTIFACTS points at a temporary folder
(the committed reference runs are read through `reference_store`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from core.runs import RunStore  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def private_artifacts(tmp_path_factory) -> Path:
    """Every test session gets its own artifacts root (runs, caches)."""
    root = tmp_path_factory.mktemp("artifacts")
    os.environ["STUDIO_ARTIFACTS"] = str(root)
    os.environ.setdefault("FASHION_MNIST_NO_DOWNLOAD", "1")
    return root


@pytest.fixture()
def store(tmp_path) -> RunStore:
    """An empty run store of the test's own."""
    return RunStore(tmp_path / "runs")


@pytest.fixture(scope="session")
def reference_store() -> RunStore:
    """The committed reference runs (read-only use)."""
    return RunStore(PROJECT_ROOT / "artifacts" / "runs")


def run_cli(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """`python -m core ARGS` in a child process (real CLI, real exit status)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=PROJECT_ROOT, env=full_env,
                          capture_output=True, text=True, timeout=timeout)
