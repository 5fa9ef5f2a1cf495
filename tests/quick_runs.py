"""The quick runs: every model kind trained once on a small real subset, shared by the test modules
that check training (tests/test_training.py) and model files (tests/test_row_reference.py) through
the session fixtures `quick_store` and `quick_runs` (tests/conftest.py). Tests that change a run
copy it first."""

from __future__ import annotations

from core.models.config import TrainConfig

QUICK = {
    "cnn": TrainConfig("cnn", epochs=2, subset=600),
    "cnn_dropout": TrainConfig("cnn_dropout", epochs=2, subset=600, augment=True, early_stopping=1),
    "resnet": TrainConfig("resnet", epochs=2, subset=2000, batch_size=64, params={"width": 8}),
    "logreg": TrainConfig("logreg", subset=1000),
    "svm": TrainConfig("svm", subset=600, params={"pca": 30}),
    "random_forest": TrainConfig("random_forest", subset=1000, params={"n_estimators": 30}),
    "knn": TrainConfig("knn", subset=1000),
    "mlp": TrainConfig("mlp", epochs=3, subset=1000, early_stopping=1),
    "mobilenet": TrainConfig("mobilenet", epochs=3, subset=1500, batch_size=64, params={"width": 8}),
    "hog_svm": TrainConfig("hog_svm", subset=600),
    "hist_gb": TrainConfig("hist_gb", subset=600, params={"max_iter": 15}),
    # the accuracy recipe's options together: SGD + Nesterov, one-cycle, label smoothing, 5x5, TTA
    "recipe": TrainConfig(
        "cnn",
        epochs=2,
        subset=600,
        batchnorm=True,
        augment=True,
        params={
            "optimizer": "sgd",
            "schedule": "onecycle",
            "label_smoothing": 0.1,
            "kernel_size": 5,
            "width": 16,
            "shift": 0.05,
            "tta": True,
        },
    ),
}
MODEL_OF = {"recipe": "cnn"}
