"""`python -m core import`: a model's saved test probabilities (from PyTorch, JAX, a paper's code, …)
become a run. Everything is checked before the run folder exists, so a bad input leaves nothing.

    python -m core import --name my-torch-net --predictions probs.npy [--logits] \\
        [--validation val.npy] [--history history.csv] [--model model.keras] [--framework "pytorch 2.5"]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core import data
from core.data.dataset import N_TEST, N_VAL
from core.store import RunError, RunStore, validate_run_id
from core.tracking import arrays
from core.tracking.run import start_run


def import_run(
    name: str,
    predictions: str | Path,
    logits: bool = False,
    validation: str | Path | None = None,
    history: str | Path | None = None,
    model: str | Path | None = None,
    framework: str | None = None,
    label: str | None = None,
    train_seconds: float | None = None,
    n_train: int | None = None,
    params: dict[str, Any] | None = None,
    force: bool = False,
    store: RunStore | None = None,
    group: str | None = None,
) -> dict[str, Any]:
    """Check every input, then write the run; returns its record. ImportRefused / RunError / InvalidRunId
    (one line each) when anything is wrong; nothing is written then."""
    store = store or RunStore()
    run_id = validate_run_id(name)
    if group is not None:
        validate_run_id(group, "group name")
    if store.path(run_id).exists():
        raise RunError(f"run {run_id} already exists; choose another name")
    test = arrays.probabilities(arrays.read_array(predictions), N_TEST, logits, "test predictions")
    problem = arrays.order_problem(test, data.load().y_test)
    if problem and not force:
        raise arrays.ImportRefused(f"test predictions: {problem}")
    val = None
    if validation is not None:
        val = arrays.probabilities(arrays.read_array(validation, "validation"), N_VAL, logits, "validation predictions")
        _train, val_rows = data.split_indices(data.DEFAULT_SEED)
        problem = arrays.order_problem(val, data.load().y_train[val_rows], "validation photos")
        if problem and not force:
            raise arrays.ImportRefused(f"validation predictions: {problem}")
    rows = arrays.history_rows(history) if history is not None else []
    if model is not None:
        from core.tracking import keras_file

        keras_file.check(Path(model))
    if train_seconds is not None and not (0 < float(train_seconds) < 1e7):
        raise arrays.ImportRefused(f"training seconds must be a positive number, got {train_seconds}")
    with start_run(
        run_id,
        params=params,
        store=store,
        framework=framework,
        label=label or "Imported model",
        kind="import",
        n_train=n_train,
        force=force,
        group=group,
    ) as run:
        for row in rows:
            epoch = row.pop("epoch")
            run.log_epoch(epoch, **row)
        if val is not None:
            run.log_validation(val)
        run.log_predictions(test)
        run.train_seconds = None if train_seconds is None else float(train_seconds)
        if model is not None:
            run.attach_model(Path(model))
    return store.get(run_id)
