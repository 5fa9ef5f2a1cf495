"""The model registry: every trainable model, registered by name with its options and defaults.

Specs are plain data, so listing models (CLI help, the /train form) imports no TensorFlow. The
registry knows nothing of `TrainConfig`; the configuration (core.models.config) resolves itself
against the registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.models.rules import ConfigError, Range, RunRef


@dataclass(frozen=True)
class ModelSpec:
    """What the zoo knows about one model kind."""

    name: str
    label: str
    family: str  # "deep" (Keras) or "classic" (scikit-learn)
    description: str
    factory: str  # "module:function" building the Classifier from a resolved TrainConfig
    options: dict[str, Any] = field(default_factory=dict)  # applicable common options -> default
    params: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # extra: name -> (default, rule)

    @property
    def has_epochs(self) -> bool:
        return "epochs" in self.options


_KERAS = "core.models.keras_model:build_classifier"
_SKLEARN = "core.models.sklearn_models:build_classifier"
_KERAS_OPTIONS = {
    "epochs": 15,
    "batch_size": 128,
    "learning_rate": 1e-3,
    "batchnorm": False,
    "augment": False,
    "early_stopping": 0,
}
_SCHEDULES = ("constant", "cosine", "onecycle")  # learning-rate schedules
# what every Keras model can vary (the report's questions: optimizer, augmentation strength, TTA)
_KERAS_PARAMS: dict[str, tuple[Any, Any]] = {
    "schedule": ("constant", _SCHEDULES),
    "optimizer": ("adam", ("adam", "adamw", "sgd")),
    "label_smoothing": (0.0, Range(float, 0.0, 0.3)),
    "shift": (0.1, Range(float, 0.0, 0.3)),  # augmentation: largest random shift, share of the size
    "erasing": (0.0, Range(float, 0.0, 1.0)),  # augmentation: share of photos with a random patch erased
    "ema": (0.0, Range(float, 0.0, 0.9999)),  # momentum of a moving average of the weights (0 = off)
    "tta": (False, (False, True)),  # test-time augmentation: average with the mirror image
    # compute precision: mixed_bfloat16 computes in bfloat16 (weights, softmax and loss stay float32);
    # 2x faster here for wide convolutions (avx512_bf16), no gain for narrow ones (bench.epoch_cost)
    "precision": ("float32", ("float32", "mixed_bfloat16")),
    # knowledge distillation: learn from another run's probabilities too (core.training.distill)
    "teacher": ("", RunRef()),
    "distill_temperature": (4.0, Range(float, 1.0, 20.0)),
    "distill_weight": (0.7, Range(float, 0.0, 1.0)),
}
_CNN_PARAMS = {
    **_KERAS_PARAMS,
    "padding": ("same", ("same", "valid")),
    "width": (32, Range(int, 8, 128)),
    "kernel_size": (3, (3, 5)),
}

SPECS: dict[str, ModelSpec] = {
    s.name: s
    for s in [
        ModelSpec(
            "cnn",
            "CNN",
            "deep",
            "Baseline CNN: Conv 32-64-128 (3x3, ReLU), max-pooling, Dense 128, softmax.",
            _KERAS,
            dict(_KERAS_OPTIONS),
            dict(_CNN_PARAMS),
        ),
        ModelSpec(
            "cnn_dropout",
            "CNN + Dropout",
            "deep",
            "The baseline CNN with Dropout (rate/2) after the conv blocks and (rate) before the dense layers.",
            _KERAS,
            {**_KERAS_OPTIONS, "epochs": 30, "dropout": 0.4},
            {**_CNN_PARAMS, "schedule": ("cosine", _SCHEDULES)},
        ),
        ModelSpec(
            "resnet",
            "Small ResNet",
            "deep",
            "Residual blocks with BatchNorm and identity/projection shortcuts, global average pooling.",
            _KERAS,
            {**_KERAS_OPTIONS, "epochs": 20, "batchnorm": True, "dropout": 0.0},
            {
                **_KERAS_PARAMS,
                "schedule": ("cosine", _SCHEDULES),
                "width": (24, Range(int, 8, 128)),
                "blocks": (1, Range(int, 1, 4)),
            },
        ),
        ModelSpec(
            "mobilenet",
            "MobileNet-style",
            "deep",
            "Depthwise-separable convolution blocks (MobileNet) with BatchNorm, global average pooling.",
            _KERAS,
            {**_KERAS_OPTIONS, "epochs": 20, "batchnorm": True, "dropout": 0.2},
            {
                **_KERAS_PARAMS,
                "schedule": ("onecycle", _SCHEDULES),
                "width": (32, Range(int, 8, 128)),
                "kernel_size": (3, (3, 5)),
            },
        ),
        ModelSpec(
            "logreg",
            "Logistic Regression",
            "classic",
            "Multinomial logistic regression on the 784 pixels (L2-regularised, lbfgs).",
            _SKLEARN,
            {},
            {"C": (0.1, Range(float, 1e-6, 1e6)), "max_iter": (300, Range(int, 10, 5000))},
        ),
        ModelSpec(
            "svm",
            "SVM (RBF)",
            "classic",
            "RBF-kernel support vector machine on a PCA projection of the pixels.",
            _SKLEARN,
            {},
            {"C": (20.0, Range(float, 1e-4, 1e4)), "pca": (120, Range(int, 5, 784))},
        ),
        ModelSpec(
            "hog_svm",
            "HOG + SVM",
            "classic",
            "Histogram-of-oriented-gradients features (scikit-image), with the pixels beside them, "
            "fed to an RBF support vector machine.",
            _SKLEARN,
            {},
            {
                "C": (10.0, Range(float, 1e-4, 1e4)),
                "cell": (4, (4, 7)),
                # a second, coarser HOG grid beside the first (0 = none); chosen on validation (PCA 200,
                # C 10): 4 px + pixels 92.92 %, 4 and 7 px + pixels 93.07 %
                "coarse_cell": (7, (0, 7)),
                "pixel_weight": (1.0, Range(float, 0.0, 10.0)),
            },
        ),
        ModelSpec(
            "hist_gb",
            "Gradient boosting",
            "classic",
            "Histogram gradient-boosted trees (scikit-learn) on the pixels; stops when validation accuracy stalls.",
            _SKLEARN,
            {},
            {
                "max_iter": (100, Range(int, 10, 2000)),
                "learning_rate": (0.1, Range(float, 0.001, 1.0)),
                "max_leaf_nodes": (31, Range(int, 2, 512)),
            },
        ),
        ModelSpec(
            "random_forest",
            "Random Forest",
            "classic",
            "An ensemble of decision trees on the raw pixels.",
            _SKLEARN,
            {},
            {"n_estimators": (200, Range(int, 1, 2000)), "max_depth": (0, Range(int, 0, 200))},
        ),
        ModelSpec(
            "knn",
            "k-Nearest Neighbours",
            "classic",
            "Distance-weighted vote of the k closest training images in PCA space.",
            _SKLEARN,
            {},
            {"k": (8, Range(int, 1, 200)), "pca": (50, Range(int, 5, 784))},
        ),
        ModelSpec(
            "mlp",
            "MLP",
            "classic",
            "A fully connected network (scikit-learn) on the pixels, trained epoch by epoch with Adam.",
            _SKLEARN,
            {"epochs": 30, "batch_size": 256, "learning_rate": 5e-4, "early_stopping": 5},
            {
                "hidden": ("512,256", ("512,256", "256,128", "1024,512", "128", "256", "512")),
                "alpha": (1e-3, Range(float, 0.0, 10.0)),
            },
        ),
    ]
}

MODEL_NAMES = tuple(SPECS)


def get_spec(name: str) -> ModelSpec:
    """The spec of a model; ConfigError naming the choices when unknown."""
    if not isinstance(name, str) or name not in SPECS:
        raise ConfigError(f"unknown model {name!r}; choose one of: {', '.join(MODEL_NAMES)}")
    return SPECS[name]
