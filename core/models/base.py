"""The one interface every model in the zoo implements, and the training-event type.

Events are plain dicts sent to an `emit` callable while a model trains:
  {"type": "epoch", "epoch": 1, "epochs": 15, "loss": .., "accuracy": .., "val_loss": ..,
   "val_accuracy": .., "lr": .., "seconds": ..}
  {"type": "batch", "epoch": 1, "epochs": 15, "batch": 120, "batches": 375}
  {"type": "stage", "stage": "fit", "message": "Fitting trees 40/200", "fraction": 0.2}
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

Emit = Callable[[dict[str, Any]], None]


def no_emit(_event: dict[str, Any]) -> None:
    """The default event sink: drop everything."""


class Classifier(ABC):
    """Base class: hyperparameters in __init__, learned state in attributes ending in `_`."""

    input_kind = "flat"  # "image": (N, 28, 28, 1) float32 in [0, 1]; "flat": (N, 784)
    best_epoch_: int | None = None

    def prepare(self, images_uint8: np.ndarray) -> np.ndarray:
        """Turn uint8 (N, 28, 28) images into this model's input."""
        from core import data

        return data.to_images(images_uint8) if self.input_kind == "image" else data.to_flat(images_uint8)

    @abstractmethod
    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        x_val: np.ndarray,
        y_val: np.ndarray,
        emit: Emit = no_emit,
        logdir: Path | None = None,
        *,
        train_rows: np.ndarray | None = None,
        soft_targets: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> Classifier:
        """Train on (x, y), watching (x_val, y_val); report progress through `emit`; return self.

        `train_rows`: the dataset rows of `x` (a model that stores training photos keeps their rows
        instead of copies); `soft_targets`: a teacher's softened probabilities on (x, x_val), for
        distillation. A model ignores what it has no use for."""

    @abstractmethod
    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """(N, 10) class probabilities for inputs in this model's input format."""

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.argmax(self.predict_proba(x), axis=1)

    @abstractmethod
    def param_count(self) -> int:
        """Number of learned numbers (weights, split thresholds, stored samples...)."""

    @abstractmethod
    def save(self, path: Path) -> None:
        """Write the fitted model to `path` (the run store moves it into place atomically)."""

    file_suffix = ".skops"
