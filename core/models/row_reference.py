"""Model files that name training photos instead of copying them: how the SVM, HOG + SVM and k-NN
reference models fit in git.

Most of these models' bytes are training photos: an SVM keeps its support vectors (PCA projections of
training photos, 8 MB for ref-svm), k-NN keeps every projected training photo (13 MB). Every
installation has the same dataset, so the file stores the dataset rows instead (a few kilobytes) and
loading projects those photos again with the model's own PCA.

So that the saved model is exactly the model that was evaluated, the stored points are replaced by
their recomputed projections right after fitting (`attach`), before any prediction is scored: a
recomputed projection can differ from the one fitting used in the last bits of a float, and the run's
predictions come from the model as it will load. Models fitted without known rows (direct use,
tests) are saved whole, as before.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

ROW_KINDS = frozenset({"svm", "hog_svm", "knn"})
N_TRAIN_PHOTOS = 60000  # rows of the dataset's training file


class BadRows(ValueError):
    """The file's rows do not fit its model (a damaged or edited file)."""


def _parts(clf) -> tuple[Any, Any]:
    """(the PCA step, the estimator that stores points: the SVC or the k-NN classifier)."""
    pca, last = clf.estimator_.steps[0][1], clf.estimator_.steps[-1][1]
    if clf.kind == "knn":
        return pca, last
    return pca, last.calibrated_classifiers_[0].estimator  # CalibratedClassifierCV(ensemble=False)


def _stored_positions(clf, keeper) -> np.ndarray:
    """Which of the fitted inputs the model stores: the SVM's support vectors, or all (k-NN)."""
    return np.asarray(keeper.support_) if clf.kind != "knn" else np.arange(len(keeper._y))


def _set_points(clf, keeper, pca, x: np.ndarray, labels: np.ndarray | None = None) -> None:
    points = pca.transform(clf._features(x))
    if clf.kind == "knn":
        keeper.fit(points, keeper.classes_[keeper._y] if labels is None else labels)
    else:
        keeper.support_vectors_ = np.ascontiguousarray(points, dtype=np.float64)


def attach(clf, x: np.ndarray, train_rows: np.ndarray) -> None:
    """After fitting on `x` (dataset rows `train_rows`): remember the rows of the stored points and
    replace those points by their projections as a load recomputes them."""
    if clf.kind not in ROW_KINDS or len(train_rows) != len(x):
        return
    pca, keeper = _parts(clf)
    positions = _stored_positions(clf, keeper)
    _set_points(clf, keeper, pca, x[positions])
    clf.rows_ = np.asarray(train_rows, dtype=np.int64)[positions].astype(np.int32)


@contextlib.contextmanager
def stripped(clf) -> Iterator[dict[str, Any]]:
    """While saving: the model without its stored points, plus the rows that rebuild them."""
    rows = getattr(clf, "rows_", None)
    if rows is None:
        yield {}
        return
    _, keeper = _parts(clf)
    names = ("support_vectors_",) if clf.kind != "knn" else ("_fit_X", "_tree")
    kept = {name: getattr(keeper, name) for name in names}
    try:
        for name in names:
            value = kept[name]
            setattr(keeper, name, None if value is None or name == "_tree" else value[:0])
        yield {"rows": rows}
    finally:
        for name, value in kept.items():
            setattr(keeper, name, value)


def restore(clf, rows: Any) -> None:
    """At load: rebuild the stored points from the dataset's training photos `rows`."""
    from core import data

    pca, keeper = _parts(clf)
    expected = len(keeper.support_) if clf.kind != "knn" else len(keeper._y)
    rows = np.asarray(rows)
    if rows.dtype.kind not in "iu" or rows.shape != (expected,) or rows.min() < 0 or rows.max() >= N_TRAIN_PHOTOS:
        raise BadRows(f"the stored training rows do not fit the model (expected {expected} rows of the training file)")
    dataset = data.load()
    labels = dataset.y_train[rows]
    stored_labels = keeper.classes_[keeper._y] if clf.kind == "knn" else np.repeat(keeper.classes_, keeper._n_support)
    if not np.array_equal(stored_labels, labels):  # the SVM keeps its support vectors grouped by class
        raise BadRows("the stored training rows do not match the model's labels")
    _set_points(clf, keeper, pca, clf.prepare(dataset.x_train[rows]), labels if clf.kind == "knn" else None)
    clf.rows_ = rows.astype(np.int32)
