"""One recipe repeated over seeds: the runs form a group, so the seed-to-seed spread is measured.

Run ids: the first run keeps the given id (or a new one), the others add `-s2`, `-s3` …; every run's
record carries `group: {id, index, of, seed}` with the first run's id as the group id. Seeds are
consecutive from the config's seed. Each repeat is an ordinary run (test set scored once, at its end).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from core.models.base import Emit, no_emit
from core.models.config import TrainConfig
from core.models.rules import ConfigError
from core.store import RunError, RunStore, new_run_id, validate_run_id

MAX_SEEDS = 10


def run_ids(first: str, seeds: int) -> list[str]:
    return [first] + [f"{first}-s{i}" for i in range(2, seeds + 1)]


def train_seeds(
    config: TrainConfig,
    seeds: int,
    run_id: str | None = None,
    store: RunStore | None = None,
    emit: Emit = no_emit,
    on_record: Callable[[dict[str, Any]], None] = lambda _r: None,
    **train_kwargs: Any,
) -> list[dict[str, Any]]:
    """Train `config` with `seeds` consecutive seeds, one after the other; returns the records.
    A repeat that does not complete stops the group (the runs so far are kept)."""
    from core import training

    if not 1 <= seeds <= MAX_SEEDS:
        raise ConfigError(f"seeds must be between 1 and {MAX_SEEDS}, got {seeds}")
    config = config.resolve()
    store = store or RunStore()
    first = validate_run_id(run_id) if run_id else new_run_id(config.model)
    ids = run_ids(first, seeds)
    for rid in ids:
        validate_run_id(rid)
        if store.exists(rid):
            raise RunError(f"run {rid} already exists; choose another --run-id")
    records = []
    for index, rid in enumerate(ids, start=1):
        seed = config.seed + index - 1
        tags = {"group": {"id": first, "index": index, "of": seeds, "seed": seed}} if seeds > 1 else {}
        record = training.train(
            replace(config, seed=seed), run_id=rid, store=store, emit=emit, tags=tags, **train_kwargs
        )
        records.append(record)
        on_record(record)
        if record["status"] != "completed":
            break
    return records
