"""Choose an ensemble's members on the validation split: every subset of the candidates, averaged,
scored on the 12 000 validation photos; the test set is never looked at.

Members that err differently are what make an average gain, so the candidates should differ (a CNN,
a ResNet, HOG + SVM …). Each candidate's validation probabilities are computed once from its model
file and cached (artifacts/cache, keyed by the model file's checksum), so trying a few hundred
subsets takes seconds. Ties go to the smaller subset (cheaper to serve).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from core import data
from core.store import RunError, RunStore

MAX_CANDIDATES = 12


def val_probabilities(run_id: str, store: RunStore) -> np.ndarray:
    """(12 000, 10) validation probabilities of a completed run with a model file (cached)."""
    from core.models.loading import training_photo_probabilities

    record = store.usable(run_id)
    if record.get("family") == "ensemble":
        raise RunError(f"{run_id} is itself an ensemble; list its members instead")
    store.model_file(run_id)  # NoModel (a RunError) when the file is absent
    _, val_idx = data.split_indices(data.DEFAULT_SEED)
    version = str((record.get("artifact") or {}).get("sha256"))
    return training_photo_probabilities(run_id, val_idx, store, version, "val-proba")


def choose(
    candidates: list[str], store: RunStore | None = None, max_members: int = 5, log=lambda _line: None
) -> dict[str, Any]:
    """The subset (2..max_members runs) whose averaged probabilities are most accurate on validation.

    Returns {members, val_accuracy, best_single: {run_id, val_accuracy}, singles: {run: acc}, tried,
    runner_up: {members, val_accuracy}}.
    """
    store = store or RunStore()
    candidates = list(dict.fromkeys(candidates))
    if not 2 <= len(candidates) <= MAX_CANDIDATES:
        raise RunError(f"choose members from 2 to {MAX_CANDIDATES} runs, got {len(candidates)}")
    _, val_idx = data.split_indices(data.DEFAULT_SEED)
    y_val = data.load().y_train[val_idx]
    probas = {}
    for run_id in candidates:
        log(f"validation probabilities of {run_id} …")
        probas[run_id] = val_probabilities(run_id, store)
    singles = {r: float((p.argmax(1) == y_val).mean()) for r, p in probas.items()}
    scored = []
    for size in range(2, min(max_members, len(candidates)) + 1):
        for subset in itertools.combinations(candidates, size):
            mean = np.mean([probas[r] for r in subset], axis=0)
            scored.append((float((mean.argmax(1) == y_val).mean()), -size, subset))
    scored.sort(reverse=True)
    best, second = scored[0], scored[1] if len(scored) > 1 else None
    top = max(singles, key=lambda r: singles[r])
    return {
        "members": list(best[2]),
        "val_accuracy": best[0],
        "best_single": {"run_id": top, "val_accuracy": singles[top]},
        "singles": singles,
        "tried": len(scored),
        "runner_up": {"members": list(second[2]), "val_accuracy": second[0]} if second else None,
    }
