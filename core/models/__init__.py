"""The model zoo: every trainable model, registered by name with its options and defaults.

All models share one scikit-learn-style interface (see `core.models.base.Classifier`):
hyperparameters in the constructor, `fit(...)` returns self, `predict_proba`, `predict`.
`registry` holds the specs (plain data, so listing models imports no TensorFlow), `rules` the
validation primitives, `config` the `TrainConfig` resolved against the registry, `loading` a run's
fitted model; `build(config)` makes a fresh, unfitted model.
"""

from __future__ import annotations

import importlib

from core.models.base import Classifier
from core.models.config import TrainConfig
from core.models.registry import MODEL_NAMES, SPECS, ModelSpec, get_spec

__all__ = ["MODEL_NAMES", "SPECS", "ModelSpec", "build", "get_spec"]


def build(config: TrainConfig) -> Classifier:
    """A fresh, unfitted Classifier for a resolved TrainConfig."""
    module_name, func = get_spec(config.model).factory.split(":")
    return getattr(importlib.import_module(module_name), func)(config)
