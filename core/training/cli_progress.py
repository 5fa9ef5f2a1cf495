"""Training progress for the terminal: a one-line bar on a TTY, JSON lines with --json."""

from __future__ import annotations

import json
import sys
import time
from typing import Any, TextIO

BAR_WIDTH = 24


class ProgressPrinter:
    """An `emit` sink for core.training.train that prints progress."""

    def __init__(self, json_lines: bool = False, stream: TextIO | None = None):
        self.json_lines = json_lines
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty() and not json_lines
        self.started = time.monotonic()

    def __call__(self, event: dict[str, Any]) -> None:
        if self.json_lines:
            if event["type"] == "epoch":
                self._write(json.dumps(event) + "\n")
            return
        if event["type"] == "batch" and self.tty:
            self._bar(event["epoch"], event["epochs"], event["batch"], event["batches"])
        elif event["type"] == "epoch":
            self._write(
                ("\r" if self.tty else "") + f"epoch {event['epoch']}/{event['epochs']}  loss {event['loss']:.4f}  "
                f"acc {event['accuracy']:.4f}  val_loss {event['val_loss']:.4f}  "
                f"val_acc {event['val_accuracy']:.4f}  ({event['seconds']:.1f}s)\n"
            )
        elif event["type"] == "stage":
            self._write(("\r" if self.tty else "") + f"[{event['stage']}] {event['message']}\n")

    def _bar(self, epoch: int, epochs: int, batch: int, batches: int) -> None:
        done = int(BAR_WIDTH * batch / max(batches, 1))
        elapsed = time.monotonic() - self.started
        self._write(
            f"\repoch {epoch}/{epochs} [{'#' * done}{'.' * (BAR_WIDTH - done)}] {batch}/{batches}  {elapsed:.0f}s"
        )

    def result(self, record: dict[str, Any]) -> None:
        metrics = record.get("metrics") or {}
        summary = {
            "type": "result",
            "run_id": record["run_id"],
            "status": record["status"],
            "test_accuracy": metrics.get("test_accuracy"),
            "macro_f1": metrics.get("macro_f1"),
            "train_seconds": (record.get("timings") or {}).get("train_seconds"),
        }
        if self.json_lines:
            self._write(json.dumps(summary) + "\n")
        elif summary["test_accuracy"] is not None:
            self._write(
                f"run {summary['run_id']} {summary['status']}: test accuracy "
                f"{100 * summary['test_accuracy']:.2f}%, macro-F1 {summary['macro_f1']:.4f}\n"
            )
        else:
            self._write(f"run {summary['run_id']} {summary['status']}\n")

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()
