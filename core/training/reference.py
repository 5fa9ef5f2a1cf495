"""The committed reference runs: what each one is, and how to retrain the whole set.

`python -m core reference` trains every entry on the full 48 000-image training split and
replaces `artifacts/runs/ref-<model>`. Classic models whose files are large (SVM, Random Forest,
k-NN) keep only predictions and metrics in git; their model files stay local (see .gitignore).
"""

from __future__ import annotations

import platform
import secrets
from collections.abc import Callable, Iterator

from core.data.dataset import N_TRAIN, spaced
from core.models.config import TrainConfig
from core.store import RunStore
from core.training import presets

REFERENCE_CONFIGS: dict[str, TrainConfig] = {
    "cnn": TrainConfig("cnn", epochs=15),
    "cnn_dropout": TrainConfig("cnn_dropout", epochs=40, dropout=0.4),
    "resnet": TrainConfig("resnet", epochs=20, dropout=0.3),
    "logreg": TrainConfig("logreg"),
    "svm": TrainConfig("svm"),
    "random_forest": TrainConfig("random_forest"),
    # chosen on the validation split (k 4-10 x PCA 30-160 components): 86.98 % at k=8, PCA 70
    "knn": TrainConfig("knn", params={"k": 8, "pca": 70}),
    "mlp": TrainConfig(
        "mlp",
        epochs=40,
        batch_size=256,
        learning_rate=5e-4,
        early_stopping=5,
        params={"hidden": "512,256", "alpha": 1e-3},
    ),
    # the fast preset's float32 recipe of its time (width 32, 10 epochs) on depthwise-separable blocks: same
    # epochs, optimizer and augmentation, so the two differ only in architecture
    "mobilenet": TrainConfig(
        "mobilenet",
        epochs=10,
        learning_rate=2e-3,
        augment=True,
        params={"optimizer": "adamw", "label_smoothing": 0.1, "shift": 0.0, "tta": True},
    ),
    "hog_svm": TrainConfig("hog_svm"),
    "hist_gb": TrainConfig("hist_gb"),
    # the presets' measured results: `presets list` and the /train buttons read these runs
    **{f"preset-{name}": preset.config for name, preset in presets.PRESETS.items()},
}


def reference_run_id(model: str) -> str:
    return f"ref-{model}"


def retrain(
    only: list[str] | None = None, store: RunStore | None = None, log: Callable[[str], None] = print
) -> Iterator[dict]:
    """Train the reference set (or `only` some models); yields each final run record."""
    from core import training
    from core.training.cli_progress import ProgressPrinter

    store = store or RunStore()
    names = only or list(REFERENCE_CONFIGS)
    unknown = [n for n in names if n not in REFERENCE_CONFIGS]
    if unknown:
        raise ValueError(f"no reference run for {', '.join(unknown)}; choose from {', '.join(REFERENCE_CONFIGS)}")
    for name in names:
        final_id = reference_run_id(name)
        temp_id = f"{final_id}-new-{secrets.token_hex(2)}"
        config = REFERENCE_CONFIGS[name]
        log(f"== {final_id}: training {config.model} on {config.subset or 'the full'} training split")
        record = training.train(
            config,
            run_id=temp_id,
            store=store,
            emit=ProgressPrinter(),
            produced_by={
                "command": f"python -m core reference --only {name}",
                "reference": True,
                "host": platform.node(),
                "note": f"trained on {config.subset or 'the full ' + spaced(N_TRAIN)} photos of the training split",
                **({"preset": name.removeprefix("preset-")} if name.startswith("preset-") else {}),
            },
        )
        if record["status"] != "completed":
            raise RuntimeError(f"{final_id} did not complete: {record.get('error')}")
        store.replace_run(temp_id, final_id)
        yield store.get(final_id)
