"""A Keras callback that makes any Keras training a studio run:

    from core.tracking import KerasCallback

    model.fit(x, y, validation_data=..., epochs=10, callbacks=[KerasCallback("my-net", params={...})])

Each epoch is logged as it ends (live on /train's replay and the leaderboard). When training ends it
predicts the 10 000 test photos and the studio's 12 000 validation photos with the studio's input
convention (28x28x1 grey in [0, 1]; the model must take that and give 10 probabilities, or logits with
`logits=True`), saves the model file (so Grad-CAM, occlusion and uploads work for the run), fits its
calibration and completes the run. A training that dies leaves the run `interrupted`.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from core import data
from core.store import RunStore
from core.tracking.run import TrackedRun, start_run


def _photos(images: np.ndarray) -> np.ndarray:
    return (np.asarray(images, dtype=np.float32) / 255.0)[..., None]


def KerasCallback(
    name: str,
    params: dict[str, Any] | None = None,
    store: RunStore | None = None,
    label: str | None = None,
    logits: bool = False,
    save_model: bool = True,
    n_train: int | None = None,
):
    import keras

    class StudioCallback(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.run: TrackedRun | None = None
            self._stack = contextlib.ExitStack()
            self._began = 0.0

        def on_train_begin(self, logs=None):
            self._began = time.perf_counter()
            self.run = self._stack.enter_context(
                start_run(
                    name,
                    params=params,
                    store=store,
                    framework=f"keras {keras.__version__}",
                    label=label or f"Keras model ({self.model.name})",
                    kind="keras-callback",
                    n_train=n_train,
                )
            )
            self.run.planned_epochs = (self.params or {}).get("epochs")

        def on_epoch_end(self, epoch, logs=None):
            assert self.run is not None
            values = {
                k: float(v)
                for k, v in (logs or {}).items()
                if isinstance(v, int | float | np.number) and not isinstance(v, bool) and np.isfinite(float(v))
            }
            values.pop("learning_rate", None)
            self.run.log_epoch(epoch + 1, seconds=round(time.perf_counter() - self._began, 3), **values)

        def on_train_end(self, logs=None):
            run = self.run
            assert run is not None
            with self._stack:  # leaving it finishes the run (or marks it failed)
                run.train_seconds = time.perf_counter() - self._began
                dataset = data.load()
                _train, rows = data.split_indices(data.DEFAULT_SEED)
                run.log_validation(self.model.predict(_photos(dataset.x_train[rows]), verbose=0), logits=logits)
                run.log_predictions(self.model.predict(_photos(dataset.x_test), verbose=0), logits=logits)
                if save_model:
                    with tempfile.TemporaryDirectory() as folder:
                        path = Path(folder) / "model.keras"
                        model = self.model
                        if logits:  # the kept file answers with probabilities, as every page expects
                            model = keras.Model(
                                model.inputs, keras.layers.Softmax(name="probabilities")(model.outputs[0])
                            )
                        model.save(str(path))
                        run.attach_model(path)

    return StudioCallback()
