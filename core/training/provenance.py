"""Provenance recorded with every run: the software and machine it ran on, and the project's commit.

Training and ensembles (and anything else that writes a run) record the same facts, so they share
this leaf module rather than one reaching into the other.
"""

from __future__ import annotations

import os
import platform
import sys
from typing import Any

import numpy as np


def environment() -> dict[str, Any]:
    """Versions and machine facts recorded with every run."""
    import sklearn

    env = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scikit_learn": sklearn.__version__,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }
    if "keras" in sys.modules:
        import keras
        import tensorflow as tf

        env.update(
            tensorflow=tf.__version__,
            keras=keras.__version__,
            devices=[d.device_type for d in tf.config.list_physical_devices()],
        )
    return env


def source_version() -> str | None:
    """The project's git commit (with `+dirty` when files differ), or None outside a checkout."""
    import subprocess

    from core.paths import PROJECT_ROOT

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=PROJECT_ROOT,
            text=True,
            capture_output=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "core"],
            cwd=PROJECT_ROOT,
            text=True,
            capture_output=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "")
