"""scikit-learn models on flattened pixels behind the zoo's Classifier interface.

Logistic Regression, an RBF SVM on a PCA projection, a Random Forest (grown in chunks so progress
is visible), k-NN on a PCA projection, and an MLP trained one epoch at a time with `partial_fit`
so it has real train/validation curves like the Keras models.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from core.models import row_reference
from core.models.base import Classifier, Emit, no_emit

if TYPE_CHECKING:
    from core.models.config import TrainConfig

RF_CHUNK = 20  # trees added per progress event
GB_CHUNK = 10  # boosting rounds per progress event (and validation check)
GB_PATIENCE = 3  # chunks without a better validation accuracy before boosting stops
HOG_CHUNK = 2500  # photos per parallel HOG job
HOG_PCA = 200  # HOG features (and pixels) are compressed to this many components before the SVM
MLP_TRAIN_PROBE = 5000  # training images scored after each MLP epoch (train accuracy/loss)


class SklearnClassifier(Classifier):
    """Wraps one fitted scikit-learn estimator (`estimator_`)."""

    input_kind = "flat"
    file_suffix = ".skops"

    def __init__(self, kind: str, seed: int = 42, **params: Any) -> None:
        self.kind = kind
        self.seed = seed
        self.params = params
        self.estimator_: Any = None
        # the dataset rows of the photos `fit` gets, when known (the training engine sets them):
        # SVM and k-NN files then name their stored photos by row (core.models.row_reference)

    # -- training -------------------------------------------------------------------------
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
    ) -> SklearnClassifier:
        fitter = getattr(self, f"_fit_{self.kind}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=UserWarning)
            warnings.filterwarnings("ignore", message=".*converge.*")
            fitter(x, np.asarray(y), x_val, np.asarray(y_val), emit)
        if train_rows is not None:  # store dataset rows, not copies of training photos
            row_reference.attach(self, x, train_rows)
        return self

    def _fit_logreg(self, x, y, x_val, y_val, emit):
        from sklearn.linear_model import LogisticRegression

        emit(_stage("fit", "Fitting logistic regression (lbfgs)", 0.0))
        self.estimator_ = LogisticRegression(
            C=self.params["C"], max_iter=self.params["max_iter"], random_state=self.seed
        ).fit(x, y)

    def _fit_svm(self, x, y, x_val, y_val, emit):
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.decomposition import PCA
        from sklearn.pipeline import make_pipeline
        from sklearn.svm import SVC

        emit(
            _stage(
                "fit",
                f"Fitting PCA-{self.params['pca']} + RBF SVM, with 5-fold Platt calibration "
                "of its scores into probabilities",
                0.0,
            )
        )
        self.estimator_ = make_pipeline(
            PCA(self.params["pca"], random_state=self.seed),
            CalibratedClassifierCV(SVC(C=self.params["C"], gamma="scale"), method="sigmoid", cv=5, ensemble=False),
        ).fit(x, y)

    def _fit_hog_svm(self, x, y, x_val, y_val, emit):
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.decomposition import PCA
        from sklearn.pipeline import make_pipeline
        from sklearn.svm import SVC

        grids = " and ".join(f"{c}-pixel" for c in (self.params["cell"], self.params.get("coarse_cell")) if c)
        emit(_stage("features", f"Computing HOG features ({grids} cells) of each photo", 0.0))
        features = self._features(x)
        hog_only = hog_size(int(self.params["cell"])) + hog_size(int(self.params.get("coarse_cell") or 0))
        what = "HOG features and pixels" if features.shape[1] > hog_only else "HOG features"
        emit(_stage("fit", f"Fitting PCA-{HOG_PCA} + RBF SVM on {features.shape[1]} {what}", 0.2))
        self.estimator_ = make_pipeline(
            PCA(min(HOG_PCA, features.shape[1], len(x)), random_state=self.seed),
            CalibratedClassifierCV(SVC(C=self.params["C"], gamma="scale"), method="sigmoid", cv=5, ensemble=False),
        ).fit(features, y)

    def _fit_hist_gb(self, x, y, x_val, y_val, emit):
        """Boosting in chunks of GB_CHUNK rounds (warm start), so progress is visible; it stops
        early when the validation accuracy has not improved for GB_PATIENCE chunks."""
        from sklearn.ensemble import HistGradientBoostingClassifier

        total = self.params["max_iter"]
        booster = HistGradientBoostingClassifier(
            max_iter=0,
            learning_rate=self.params["learning_rate"],
            max_leaf_nodes=self.params["max_leaf_nodes"],
            early_stopping=False,
            warm_start=True,
            random_state=self.seed,
        )
        rounds, best, stale = 0, -1.0, 0
        while rounds < total and stale < GB_PATIENCE:
            rounds = min(total, rounds + GB_CHUNK)
            booster.set_params(max_iter=rounds)
            booster.fit(x, y)
            message = f"Boosted {rounds}/{total} rounds of trees per class"
            if x_val is not None and len(x_val):
                accuracy = float((booster.predict(x_val) == y_val).mean())
                best, stale = (accuracy, 0) if accuracy > best else (best, stale + 1)
                message += f" · validation {100 * accuracy:.2f} %"
            emit(_stage("fit", message, rounds / total))
        self.estimator_ = booster

    def _features(self, x: np.ndarray) -> np.ndarray:
        """What the estimator sees: the pixels, or for `hog_svm` HOG features of them (at `cell`, then
        at `coarse_cell` when set), followed by the pixels times `pixel_weight` (0: HOG alone; a model
        saved before an option existed has none of it)."""
        if self.kind != "hog_svm":
            return x
        features = hog_features(x, int(self.params["cell"]))
        coarse = int(self.params.get("coarse_cell") or 0)
        if coarse:
            features = np.hstack([features, hog_features(x, coarse)])
        weight = float(self.params.get("pixel_weight", 0.0))
        if weight <= 0:
            return features
        return np.hstack([features, weight * np.asarray(x, dtype=np.float32).reshape(len(x), -1)])

    def _fit_knn(self, x, y, x_val, y_val, emit):
        from sklearn.decomposition import PCA
        from sklearn.neighbors import KNeighborsClassifier
        from sklearn.pipeline import make_pipeline

        emit(_stage("fit", f"Projecting onto {self.params['pca']} principal components", 0.0))
        self.estimator_ = make_pipeline(
            PCA(self.params["pca"], random_state=self.seed),
            KNeighborsClassifier(self.params["k"], weights="distance"),
        ).fit(x, y)

    def _fit_random_forest(self, x, y, x_val, y_val, emit):
        from sklearn.ensemble import RandomForestClassifier

        total = self.params["n_estimators"]
        forest = RandomForestClassifier(
            n_estimators=0,
            max_depth=self.params["max_depth"] or None,
            n_jobs=-1,
            random_state=self.seed,
            warm_start=True,
        )
        grown = 0
        while grown < total:
            grown = min(total, grown + RF_CHUNK)
            forest.set_params(n_estimators=grown)
            forest.fit(x, y)
            emit(_stage("fit", f"Grown {grown}/{total} trees", grown / total))
        self.estimator_ = forest

    def _fit_mlp(self, x, y, x_val, y_val, emit):
        from sklearn.metrics import log_loss
        from sklearn.neural_network import MLPClassifier

        epochs, patience = self.params["epochs"], self.params["early_stopping"]
        mlp = MLPClassifier(
            hidden_layer_sizes=tuple(int(h) for h in str(self.params["hidden"]).split(",")),
            alpha=self.params["alpha"],
            batch_size=self.params["batch_size"],
            learning_rate_init=self.params["learning_rate"],
            random_state=self.seed,
        )
        probe = np.random.default_rng(self.seed).choice(len(x), size=min(MLP_TRAIN_PROBE, len(x)), replace=False)
        best: tuple[float, Any, int] = (np.inf, None, 0)
        for epoch in range(1, epochs + 1):
            started = time.monotonic()
            mlp.partial_fit(x, y, classes=np.arange(10))
            p_train, p_val = mlp.predict_proba(x[probe]), mlp.predict_proba(x_val)
            val_loss = float(log_loss(y_val, p_val, labels=np.arange(10)))
            emit(
                {
                    "type": "epoch",
                    "epoch": epoch,
                    "epochs": epochs,
                    "loss": float(log_loss(y[probe], p_train, labels=np.arange(10))),
                    "accuracy": float((p_train.argmax(1) == y[probe]).mean()),
                    "val_loss": val_loss,
                    "val_accuracy": float((p_val.argmax(1) == y_val).mean()),
                    "lr": float(self.params["learning_rate"]),
                    "seconds": round(time.monotonic() - started, 3),
                }
            )
            if val_loss < best[0]:
                best = (val_loss, ([c.copy() for c in mlp.coefs_], [b.copy() for b in mlp.intercepts_]), epoch)
            elif patience and epoch - best[2] >= patience:
                break
        if patience and best[1] is not None:  # restore the best epoch, like Keras' EarlyStopping
            mlp.coefs_, mlp.intercepts_ = best[1]
            self.best_epoch_ = best[2]
        self.estimator_ = mlp

    # -- inference and storage ------------------------------------------------------------
    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.estimator_.predict_proba(self._features(x)), dtype=np.float32)

    def param_count(self) -> int:
        return int(sum(_count(step) for step in _steps(self.estimator_)))

    def save(self, path: Path) -> None:
        """skops format: loading it never runs code (only trusted types are rebuilt)."""
        import copy
        import zipfile

        import skops.io as sio

        estimator = self.estimator_
        if hasattr(estimator, "_optimizer"):  # MLP: drop Adam's moment estimates (2/3 of the file)
            estimator = copy.copy(estimator)
            estimator._optimizer = None
        with row_reference.stripped(self) as rows:
            sio.dump(
                {"kind": self.kind, "seed": self.seed, "params": self.params, "estimator": estimator, **rows},
                str(path),
                compression=zipfile.ZIP_DEFLATED,
                compresslevel=6,
            )


def hog_size(cell: int) -> int:
    """How many HOG features a 28x28 photo has: 9 orientations x 2x2 cells x overlapping blocks
    (0 for cell 0: no grid)."""
    if cell <= 0:
        return 0
    blocks = 28 // cell - 1
    return 9 * 4 * blocks * blocks


def hog_features(x: np.ndarray, cell: int) -> np.ndarray:
    """Histogram-of-oriented-gradients features (scikit-image) of flat (N, 784) photos in [0, 1]:
    9 orientations per `cell`-pixel cell, normalised over 2x2-cell blocks (L2-Hys). Large batches
    are split over every core (joblib processes: scikit-image's hog holds the GIL)."""
    images = np.asarray(x, dtype=np.float32).reshape(-1, 28, 28)
    if len(images) < 4 * HOG_CHUNK:
        return _hog(images, cell)
    from joblib import Parallel, delayed

    chunks = [images[i : i + HOG_CHUNK] for i in range(0, len(images), HOG_CHUNK)]
    return np.concatenate(Parallel(n_jobs=-1)(delayed(_hog)(chunk, cell) for chunk in chunks))


def _hog(images: np.ndarray, cell: int) -> np.ndarray:
    from skimage.feature import hog

    return np.stack(
        [
            hog(img, orientations=9, pixels_per_cell=(cell, cell), cells_per_block=(2, 2), block_norm="L2-Hys")
            for img in images
        ]
    ).astype(np.float32)


def _steps(estimator):
    return [s for _, s in estimator.steps] if hasattr(estimator, "steps") else [estimator]


def _count(est) -> int:
    """Learned numbers of one fitted estimator."""
    if hasattr(est, "components_"):  # PCA
        return est.components_.size + est.mean_.size
    if hasattr(est, "calibrated_classifiers_"):  # calibrated SVC: the SVM plus (a, b) per class
        calibrated = est.calibrated_classifiers_[0]
        return _count(calibrated.estimator) + 2 * len(calibrated.calibrators)
    if hasattr(est, "support_vectors_"):  # SVC
        return est.support_vectors_.size + est.dual_coef_.size + est.intercept_.size
    if hasattr(est, "_predictors"):  # gradient boosting: nodes of every tree
        return sum(len(p.nodes) for round_ in est._predictors for p in round_)
    if hasattr(est, "estimators_"):  # forest: split (feature, threshold) or leaf class counts
        trees = [t.tree_ for t in est.estimators_]
        return sum(2 * int((t.children_left >= 0).sum()) + 10 * int((t.children_left < 0).sum()) for t in trees)
    if hasattr(est, "coefs_"):  # MLP
        return sum(c.size for c in est.coefs_) + sum(b.size for b in est.intercepts_)
    if hasattr(est, "coef_"):  # logistic regression
        return est.coef_.size + est.intercept_.size
    if hasattr(est, "_fit_X"):  # k-NN stores its training points
        return int(est._fit_X.size)
    return 0


def _stage(stage: str, message: str, fraction: float) -> dict:
    return {"type": "stage", "stage": stage, "message": message, "fraction": fraction}


def build_classifier(config: TrainConfig) -> SklearnClassifier:
    """Factory used by the zoo registry for the scikit-learn models."""
    params = dict(config.params)
    if config.model == "mlp":
        params.update(
            epochs=config.epochs,
            batch_size=config.batch_size,
            learning_rate=config.learning_rate,
            early_stopping=config.early_stopping,
        )
    return SklearnClassifier(config.model, seed=config.seed, **params)


# Types beyond skops' own trusted defaults that the studio's models need: scikit-learn's private
# containers of a calibrated SVM (plain data holders) and the decision tree's array structure
# (rebuilt by skops' own Tree loader from arrays). Nothing else is ever trusted.
TRUSTED_EXTRA = frozenset(
    {
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._SigmoidCalibration",
        "sklearn.tree._tree.Tree",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",  # boosting's node arrays
    }
)


class UntrustedModel(ValueError):
    """A model file that would need code or types outside the trusted set to load."""


def load(path: Path, expected_sha256: str | None = None) -> SklearnClassifier:
    """Load a skops model file the run store wrote. Nothing in it is executed: skops rebuilds only
    trusted types (its scikit-learn/numpy defaults), and a file that names any other type is refused
    before anything is built. Pickle files (the old `model.joblib`) are never loaded.
    """
    import skops.io as sio

    from core.store.atomic import sha256_file

    if path.suffix != ".skops":
        raise UntrustedModel(
            f"{path.name} is a pickle, which can run code when loaded; this version only "
            "loads skops files: retrain the run"
        )
    if expected_sha256 and sha256_file(path) != expected_sha256:
        raise UntrustedModel(f"{path.name} does not match its recorded checksum; refusing to load it")
    try:
        untrusted = sio.get_untrusted_types(file=str(path))
    except Exception as exc:
        raise UntrustedModel(f"{path.name} is not a readable skops file ({exc.__class__.__name__})") from None
    refused = sorted(set(untrusted) - TRUSTED_EXTRA)
    if refused:
        shown = ", ".join(refused[:3]) + (" …" if len(refused) > 3 else "")
        raise UntrustedModel(f"{path.name} asks for types that are not trusted ({shown}); refusing to load it")
    saved = sio.load(str(path), trusted=sorted(untrusted))
    if not isinstance(saved, dict) or not {"kind", "seed", "params", "estimator"} <= set(saved):
        raise UntrustedModel(f"{path.name} is not a model file written by the studio")
    clf = SklearnClassifier(saved["kind"], seed=saved["seed"], **saved["params"])
    clf.estimator_ = saved["estimator"]
    if "rows" in saved:  # stored photos named by dataset row: project them again
        row_reference.restore(clf, saved["rows"])
    return clf
