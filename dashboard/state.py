"""Process-wide state: the run store the pages read (follows STUDIO_ARTIFACTS) and the prediction
worker, when the server runs one."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from core import paths
from core.store import RunStore

if TYPE_CHECKING:
    from core.predict.worker import PredictionWorker

_worker: PredictionWorker | None = None


@functools.lru_cache(maxsize=4)
def _store_for(root: str) -> RunStore:
    return RunStore(root)


def store() -> RunStore:
    """The RunStore for the current artifacts root (one instance per root, so caches are shared)."""
    return _store_for(str(paths.runs_dir()))


def prediction_worker() -> PredictionWorker | None:
    """The process that answers /api/predict, when the server started one (`python -m dashboard`)."""
    return _worker


def use_prediction_worker(worker: PredictionWorker | None) -> PredictionWorker | None:
    """Route /api/predict through `worker` (None: predict in this process); returns the previous one."""
    global _worker
    previous, _worker = _worker, worker
    return previous
