"""Keras models behind the zoo's Classifier interface: training with events, saving, loading.

Adam + sparse categorical cross-entropy (integer labels, cast to int32), batch 128 by default.
Progress goes out as events: throttled batch positions and one record per epoch. Early stopping
watches validation loss and restores the best epoch's weights.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from core.models.base import Classifier, Emit, no_emit

if TYPE_CHECKING:
    from core.models.config import TrainConfig

BATCH_EVENT_INTERVAL_S = 0.5
SMALL_BATCH = 256
_TRACE_LOCK = threading.Lock()


class KerasClassifier(Classifier):
    """A CNN / CNN + Dropout / ResNet with scikit-learn-style fit and predict_proba."""

    input_kind = "image"
    file_suffix = ".keras"

    def __init__(
        self,
        arch: str = "cnn",
        epochs: int = 15,
        batch_size: int = 128,
        learning_rate: float = 1e-3,
        dropout: float = 0.0,
        batchnorm: bool = False,
        augment: bool = False,
        early_stopping: int = 0,
        seed: int = 42,
        schedule: str = "constant",
        padding: str = "valid",
        width: int = 32,
        blocks: int = 1,
        optimizer: str = "adam",
        label_smoothing: float = 0.0,
        kernel_size: int = 3,
        shift: float = 0.1,
        erasing: float = 0.0,
        ema: float = 0.0,
        tta: bool = False,
        precision: str = "float32",
        teacher: str = "",
        distill_temperature: float = 4.0,
        distill_weight: float = 0.7,
    ):
        self.arch = arch
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.dropout = dropout
        self.batchnorm = batchnorm
        self.augment = augment
        self.early_stopping = early_stopping
        self.seed = seed
        self.schedule = schedule
        self.padding = padding
        self.width = width
        self.blocks = blocks
        self.optimizer = optimizer
        self.label_smoothing = label_smoothing
        self.kernel_size = kernel_size
        self.shift = shift
        self.erasing = erasing  # random erasing: share of training photos with one patch replaced by noise
        self.ema = ema  # momentum of an exponential moving average of the weights (0 = off)
        self.tta = tta  # predict = mean of the photo and its mirror image (test-time augmentation)
        self.precision = precision  # "float32" or "mixed_bfloat16" (Keras mixed precision, training and inference)
        self.teacher = teacher  # distillation: the teacher run (its probabilities come to `fit`)
        self.distill_temperature = distill_temperature
        self.distill_weight = distill_weight
        self.model_: Any = None

    def build_network(self) -> Any:
        """The untrained network, its layers under this model's precision policy."""
        with precision_policy(self.precision):
            return self._layers()

    def _layers(self) -> Any:
        from core.models import keras_nets

        if self.arch == "resnet":
            return keras_nets.build_resnet(
                self.width, self.blocks, self.batchnorm, self.dropout, self.augment, self.seed, self.shift, self.erasing
            )
        if self.arch == "mobilenet":
            return keras_nets.build_mobilenet(
                self.width, self.dropout, self.augment, self.seed, self.kernel_size, self.shift, self.erasing
            )
        return keras_nets.build_cnn(
            self.dropout,
            self.batchnorm,
            self.augment,
            self.seed,
            self.padding,
            self.width,
            self.kernel_size,
            self.shift,
            self.erasing,
        )

    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        x_val: np.ndarray | None,
        y_val: np.ndarray | None,
        emit: Emit = no_emit,
        logdir: Path | None = None,
        *,
        train_rows: np.ndarray | None = None,
        soft_targets: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> KerasClassifier:
        import keras

        keras.utils.set_random_seed(self.seed)
        model = self.build_network()
        steps = int(np.ceil(len(x) / self.batch_size))
        smoothing = self.label_smoothing > 0  # Keras smooths only one-hot (categorical) targets
        distilling = soft_targets is not None
        if distilling:
            from core.models import distill_loss

            model.compile(
                optimizer=self._optimizer(steps),
                loss=distill_loss.loss(self.distill_temperature, self.distill_weight),
                metrics=[distill_loss.accuracy],
            )
            soft = iter(soft_targets or ())

            def target(labels):  # [one-hot labels | the teacher's softened probabilities]
                return np.concatenate([keras.utils.to_categorical(labels, 10), next(soft)], axis=1)
        else:
            model.compile(
                optimizer=self._optimizer(steps),
                loss=keras.losses.CategoricalCrossentropy(label_smoothing=self.label_smoothing)
                if smoothing
                else "sparse_categorical_crossentropy",
                metrics=["accuracy"],
            )
            target = (lambda labels: keras.utils.to_categorical(labels, 10)) if smoothing else np.asarray
        events = _EventCallback(emit, self.epochs, steps)
        callbacks = [events]
        if self.early_stopping:
            callbacks.append(
                keras.callbacks.EarlyStopping(
                    monitor="val_loss", patience=self.early_stopping, restore_best_weights=True
                )
            )
        if logdir is not None:
            callbacks.append(
                keras.callbacks.TensorBoard(log_dir=str(logdir), histogram_freq=0, write_graph=False, profile_batch=0)
            )
        self.model_ = model  # readable while it trains (a benchmark can score it after each epoch)
        model.fit(
            x,
            target(np.asarray(y, dtype=np.int32)),
            batch_size=self.batch_size,
            epochs=self.epochs,
            validation_data=(x_val, target(np.asarray(y_val, dtype=np.int32))),
            callbacks=callbacks,
            shuffle=True,
            verbose=0,
        )
        if distilling:  # the saved file names a standard loss, not the training-time closure
            model.compile(loss="categorical_crossentropy")
        self.model_ = model
        self.best_epoch_ = events.best_epoch if self.early_stopping else None
        return self

    def _learning_rate(self, steps_per_epoch: int):
        """A constant rate; cosine decay from it to 0 over the planned epochs; or one-cycle: a
        linear warm-up from a tenth of it over the first 20 % of steps, then cosine decay to 0."""
        import keras

        total = self.epochs * steps_per_epoch
        if self.schedule == "cosine":
            return keras.optimizers.schedules.CosineDecay(self.learning_rate, total)
        if self.schedule == "onecycle":
            warmup = max(1, total // 5)
            return keras.optimizers.schedules.CosineDecay(
                self.learning_rate / 10, max(1, total - warmup), warmup_target=self.learning_rate, warmup_steps=warmup
            )
        return self.learning_rate

    def _optimizer(self, steps_per_epoch: int):
        """Adam; AdamW (decoupled weight decay 5e-4); or SGD with Nesterov momentum 0.9; each optionally
        with an exponential moving average of the weights (`ema` = its momentum)."""
        import keras

        rate = self._learning_rate(steps_per_epoch)
        # weight EMA: Keras keeps the average beside the weights and copies it into the model when
        # fit() ends, so the saved model is the averaged one (per-epoch validation sees the raw weights)
        ema = {"use_ema": True, "ema_momentum": self.ema} if self.ema > 0 else {}
        if self.optimizer == "adamw":
            return keras.optimizers.AdamW(learning_rate=rate, weight_decay=5e-4, **ema)
        if self.optimizer == "sgd":
            return keras.optimizers.SGD(learning_rate=rate, momentum=0.9, nesterov=True, **ema)
        return keras.optimizers.Adam(learning_rate=rate, **ema)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities; with `tta`, the mean over each photo and its mirror image."""
        if self.tta and 2 * len(x) <= SMALL_BATCH:  # a request's photos and their mirrors in one call
            both = self._predict(np.concatenate([x, x[:, :, ::-1]]))
            return (both[: len(x)] + both[len(x) :]) / 2
        proba = self._predict(x)
        if self.tta:
            proba = (proba + self._predict(np.ascontiguousarray(x[:, :, ::-1]))) / 2
        return proba

    def _predict(self, x: np.ndarray) -> np.ndarray:
        if len(x) <= SMALL_BATCH:  # a traced call skips predict()'s per-call set-up (~50 ms) and eager
            return np.asarray(self._small_batch_fn()(np.asarray(x, dtype=np.float32)), dtype=np.float32)
        return np.asarray(self.model_.predict(x, batch_size=1000, verbose=0), dtype=np.float32)

    def _small_batch_fn(self):
        """The model as one traced graph for small batches: about 1 ms a call instead of 6 ms eager
        (measured on the reference CNN), which is what a prediction request waits for."""
        fn = getattr(self, "_traced", None)
        if fn is None:
            import tensorflow as tf

            with _TRACE_LOCK:
                fn = getattr(self, "_traced", None)
                if fn is None:
                    model = self.model_
                    fn = tf.function(
                        lambda batch: model(batch, training=False),
                        input_signature=[tf.TensorSpec([None, *model.input_shape[1:]], tf.float32)],
                    )
                    self._traced = fn
        return fn

    def param_count(self) -> int:
        return int(self.model_.count_params())

    def save(self, path: Path) -> None:
        """Save architecture + weights only (no optimizer state: 3x smaller).

        `keras.models.clone_model` keeps the compiled optimizer, so rebuild from the config.
        """
        import keras

        plain = keras.Model.from_config(self.model_.get_config())
        plain.set_weights(self.model_.get_weights())
        plain.save(str(path))

    @classmethod
    def from_model(cls, model: Any, tta: bool = False) -> KerasClassifier:
        """Wrap an already trained (loaded) Keras model."""
        clf = cls(arch=model.name, tta=tta)
        clf.model_ = model
        return clf


class _EventCallback:
    """Keras callback turning training progress into zoo events (built lazily: Keras import)."""

    best_epoch: int | None  # set by the Keras callback class built in __new__

    def __new__(cls, emit: Emit, epochs: int, batches: int):
        import keras

        class EventCallback(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.epoch = 0
                self.started = time.monotonic()
                self.last_batch_event = 0.0
                self.best_epoch = None
                self.best_val_loss = np.inf

            def on_epoch_begin(self, epoch, logs=None):
                self.epoch = epoch + 1
                self.started = time.monotonic()
                emit({"type": "batch", "epoch": self.epoch, "epochs": epochs, "batch": 0, "batches": batches})

            def on_train_batch_end(self, batch, logs=None):
                now = time.monotonic()
                if now - self.last_batch_event >= BATCH_EVENT_INTERVAL_S:
                    self.last_batch_event = now
                    emit(
                        {"type": "batch", "epoch": self.epoch, "epochs": epochs, "batch": batch + 1, "batches": batches}
                    )

            def on_epoch_end(self, epoch, logs=None):
                logs = logs or {}
                val_loss = float(logs.get("val_loss", np.nan))
                if val_loss < self.best_val_loss:
                    self.best_val_loss, self.best_epoch = val_loss, epoch + 1
                emit(
                    {
                        "type": "epoch",
                        "epoch": epoch + 1,
                        "epochs": epochs,
                        "loss": float(logs["loss"]),
                        "accuracy": float(logs["accuracy"]),
                        "val_loss": val_loss,
                        "val_accuracy": float(logs.get("val_accuracy", np.nan)),
                        "lr": float(np.asarray(self.model.optimizer.learning_rate)),
                        "seconds": round(time.monotonic() - self.started, 3),
                    }
                )

        return EventCallback()


@contextlib.contextmanager
def precision_policy(name: str) -> Iterator[None]:
    """Build layers under a Keras dtype policy ("float32" or "mixed_bfloat16"), then restore the
    previous global policy. Each layer keeps its policy (saved in the model file), and the output
    layer is float32 whatever the policy (keras_nets), so the softmax and the loss stay float32."""
    import keras

    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def build_classifier(config: TrainConfig) -> KerasClassifier:
    """Factory used by the zoo registry for cnn, cnn_dropout and resnet."""
    if config.epochs is None or config.batch_size is None or config.learning_rate is None:
        raise ValueError("build_classifier needs a resolved TrainConfig (call .resolve() first)")
    return KerasClassifier(
        arch=config.model if config.model in ("resnet", "mobilenet") else "cnn",
        epochs=config.epochs,
        batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        dropout=config.dropout or 0.0,
        batchnorm=bool(config.batchnorm),
        augment=bool(config.augment),
        early_stopping=config.early_stopping or 0,
        seed=config.seed,
        **config.params,
    )


def load(path: Path, tta: bool = False) -> KerasClassifier:
    """Load a saved run model with Keras' safe mode on (no arbitrary code from the file).
    `tta`: predict as the run was evaluated (its record's config says whether it used TTA)."""
    import keras

    return KerasClassifier.from_model(keras.models.load_model(str(path), safe_mode=True, compile=False), tta=tta)
