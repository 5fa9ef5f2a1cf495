"""A run's live position for progress bars: fraction done, labels, elapsed time and ETA.

`snapshot(store, run_id)` combines run.json, progress.json and history.jsonl; the Train page,
its background callback and the CLI read the same thing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.store import ACTIVE, RunStore


def _seconds_since(iso: str | None, now: dt.datetime) -> float | None:
    if not iso:
        return None
    try:
        return max(0.0, (now - dt.datetime.fromisoformat(iso)).total_seconds())
    except ValueError:
        return None


def fraction_done(progress: dict[str, Any] | None, status: str) -> float | None:
    """0..1 of the planned work, or None when it cannot be known (a single long fit)."""
    if status == "completed":
        return 1.0
    if not progress:
        return 0.0
    if progress.get("epochs"):
        batch, batches = progress.get("batch"), progress.get("batches")
        within = (batch / batches) if batch is not None and batches else 1.0
        return min(1.0, ((progress["epoch"] - 1) + within) / progress["epochs"])
    return progress.get("fraction")


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def snapshot(store: RunStore, run_id: str, now: dt.datetime | None = None) -> dict[str, Any]:
    """Everything a progress display needs about one run, from the store alone."""
    now = now or dt.datetime.now(dt.UTC)
    record = store.get(run_id)
    progress = store.progress(run_id) or {}
    status = record.get("status", "unknown")
    fraction = fraction_done(progress, status)
    elapsed = _seconds_since(record.get("started_at") or record.get("created_at"), now)
    if status not in ACTIVE:
        elapsed = (record.get("timings") or {}).get("train_seconds", elapsed)
    history = store.history(run_id)
    eta = _eta(history, progress, fraction, elapsed) if status in ACTIVE else None
    return {
        "run_id": run_id,
        "status": status,
        "model": record.get("model"),
        "label": record.get("label"),
        "config": record.get("config"),
        "fraction": fraction,
        "position": _position(progress, status),
        "elapsed": elapsed,
        "eta": eta,
        "elapsed_text": format_duration(elapsed),
        "eta_text": format_duration(eta),
        "history": history,
        "metrics": record.get("metrics"),
        "error": record.get("error"),
        "n_train": (record.get("data") or {}).get("n_train"),
        "epochs_planned": (record.get("config") or {}).get("epochs"),
        "epochs_run": record.get("epochs_run"),
        "best_epoch": record.get("best_epoch"),
    }


MIN_FRACTION_FOR_ETA = 0.05  # before that, start-up and compilation dominate the elapsed time


def _eta(history: list[dict[str, Any]], progress: dict[str, Any], fraction: float | None, elapsed: float | None):
    """Seconds left: from the finished epochs' own times once there is one (the first epoch also pays
    for start-up and compilation, so it is left out when later ones exist), else from the elapsed time
    once 5 % is done; None before that (an estimate from the first seconds is mostly start-up)."""
    epochs = progress.get("epochs")
    times = [float(h["seconds"]) for h in history if isinstance(h.get("seconds"), (int, float))]
    if epochs and times and fraction is not None:
        per_epoch = sum(times[1:]) / len(times[1:]) if len(times) > 1 else times[0]
        return max(0.0, per_epoch * epochs * (1 - fraction))
    if fraction and elapsed and fraction >= MIN_FRACTION_FOR_ETA:
        return elapsed * (1 - fraction) / fraction
    return None


ENDED = {
    "interrupted": "stopped",
    "failed": "failed",
    "validated": "validated",
    "pruned": "pruned",
    "damaged": "damaged",
}


def _position(progress: dict[str, Any], status: str) -> str:
    if status == "completed":
        return "completed"
    if status in ENDED:  # an ended run never shows the phase it was in ("starting…", "epoch 2/8")
        where = f" at epoch {progress['epoch']}/{progress['epochs']}" if progress.get("epochs") else ""
        return f"{ENDED[status]}{where}"
    if progress.get("epochs"):
        text = f"epoch {progress['epoch']}/{progress['epochs']}"
        if progress.get("batch") is not None and progress.get("batches"):
            text += f" · batch {progress['batch']}/{progress['batches']}"
        return text
    return progress.get("message") or "starting…"
