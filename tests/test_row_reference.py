"""SVM, HOG + SVM and k-NN files name their stored training photos by dataset row: small files that
load into exactly the model that was evaluated, and a damaged row list is a clear error."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from core import data
from core.models import loading, sklearn_models
from core.store import DamagedRun, RunStore
from core.store.atomic import sha256_file

CASES = ("svm", "knn", "hog_svm")  # the quick runs of these kinds (tests/quick_runs.py)


@pytest.fixture()
def trained(quick_runs, quick_store) -> RunStore:
    for name in CASES:
        assert quick_runs["records"][name]["status"] == "completed"
    return quick_store


def _stored_points(path) -> int:
    """Bytes of the float arrays in a skops file (the stored photos would be most of them)."""
    with zipfile.ZipFile(path) as archive:
        return sum(i.file_size for i in archive.infolist() if i.filename.endswith(".npy"))


@pytest.mark.parametrize("name", CASES)
def test_a_row_referencing_file_loads_into_the_evaluated_model(trained, name, tmp_path):
    run_id = f"quick-{name}"
    record = trained.get(run_id)
    path, _ = trained.model_file(run_id)
    clf = sklearn_models.load(path, record["artifact"]["sha256"])
    rows = clf.rows_
    train_idx, _ = data.split_indices(record["data"]["split_seed"])
    chosen = data.subset_indices(train_idx, data.load().y_train, record["data"]["n_train"], record["config"]["seed"])
    assert set(rows.tolist()) <= set(chosen.tolist())  # rows of the photos it was trained on
    if name == "knn":
        assert len(rows) == len(chosen)
    else:  # the support vectors only, grouped by class as the SVM keeps them
        assert 0 < len(rows) < len(chosen)
        assert np.all(np.diff(data.load().y_train[rows]) >= 0)
    # the loaded model is the one whose test predictions were stored, to the last photo
    stored = trained.predictions(run_id)
    proba = clf.predict_proba(clf.prepare(data.load().x_test))
    np.testing.assert_array_equal(proba.argmax(axis=1), stored["y_pred"])
    np.testing.assert_allclose(proba, stored["proba"], atol=1e-6)
    # and the file holds row numbers, not the photos: saved whole, it would hold every point's numbers
    points = len(rows) * clf.estimator_.steps[0][1].n_components_ * 4  # float32 at least
    clf.rows_ = None
    clf.save(tmp_path / "whole.skops")
    assert _stored_points(tmp_path / "whole.skops") - _stored_points(path) >= 0.9 * points


def test_rows_that_do_not_fit_the_model_are_a_clear_error(trained, tmp_path):
    import shutil

    import skops.io as sio

    mine = RunStore(tmp_path / "runs")  # copies: the quick runs stay intact for other tests
    for name in ("svm", "knn"):
        shutil.copytree(trained.path(f"quick-{name}"), mine.path(f"quick-{name}"))
    trained = mine
    record = trained.get("quick-svm")
    path, _ = trained.model_file("quick-svm")
    saved = sio.load(str(path), trusted=sio.get_untrusted_types(file=str(path)))
    saved["rows"] = saved["rows"][::-1].copy()  # right count, wrong photos (classes out of order)
    sio.dump(saved, str(path))
    record["artifact"]["sha256"] = sha256_file(path)
    (trained.path("quick-svm") / "run.json").write_text(json.dumps(record))
    with pytest.raises(DamagedRun, match="rows do not match"):
        loading.load_classifier("quick-svm", trained)
    # the other runs still load
    assert loading.predict_images("quick-knn", data.load().x_test[:3], trained).shape == (3, 10)
