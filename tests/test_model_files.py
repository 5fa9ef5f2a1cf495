"""No code from model files: scikit-learn models are skops files, loaded with trusted types only;
pickles are never loaded, whatever checksum sits beside them; Keras stays in safe mode."""

from __future__ import annotations

import json
import os
import pickle
import shutil

import pytest

from core.models import loading, sklearn_models
from core.store import DamagedRun, RunStore
from core.store.atomic import sha256_file
from tests.conftest import PROJECT_ROOT


class _Payload:
    """Unpickling this runs os.system: what a crafted model file would carry."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture()
def store(tmp_path) -> RunStore:
    root = tmp_path / "runs"
    shutil.copytree(
        PROJECT_ROOT / "artifacts" / "runs" / "ref-logreg",
        root / "ref-logreg",
        ignore=shutil.ignore_patterns("logs", ".lock"),
    )
    return RunStore(root)


def _point_record_at(store: RunStore, name: str) -> None:
    folder = store.path("ref-logreg")
    record = json.loads((folder / "run.json").read_text())
    record["artifact"].update(file=name, sha256=sha256_file(folder / name))  # a matching checksum
    (folder / "run.json").write_text(json.dumps(record))


def test_the_committed_classic_models_are_skops_files_that_load():
    for name in ("ref-logreg", "ref-mlp"):
        folder = PROJECT_ROOT / "artifacts" / "runs" / name
        assert (folder / "model.skops").is_file() and not (folder / "model.joblib").exists()
        assert json.loads((folder / "run.json").read_text())["artifact"]["file"] == "model.skops"
        assert sklearn_models.load(folder / "model.skops").estimator_ is not None


def test_a_crafted_pickle_with_a_matching_checksum_is_refused_and_runs_nothing(store, tmp_path):
    marker = tmp_path / "pwned"
    folder = store.path("ref-logreg")
    (folder / "model.skops").unlink()
    (folder / "model.joblib").write_bytes(pickle.dumps(_Payload(marker)))
    _point_record_at(store, "model.joblib")
    with pytest.raises(DamagedRun, match="pickle, which can run code"):
        loading.load_classifier("ref-logreg", store)
    assert not marker.exists()
    assert store.get("ref-logreg")["status"] == "damaged"  # and every later read says so


def test_a_skops_file_naming_untrusted_types_is_refused_and_runs_nothing(store, tmp_path):
    import skops.io as sio

    marker = tmp_path / "pwned"
    folder = store.path("ref-logreg")
    sio.dump(
        {"kind": "logreg", "seed": 0, "params": {}, "estimator": os.system, "payload": _Payload(marker)},
        str(folder / "model.skops"),
    )
    _point_record_at(store, "model.skops")
    with pytest.raises(DamagedRun, match="not trusted"):
        loading.load_classifier("ref-logreg", store)
    assert not marker.exists()


def test_garbage_in_a_skops_file_is_a_clear_error(store):
    (store.path("ref-logreg") / "model.skops").write_bytes(b"PK\x03\x04 not really a zip")
    _point_record_at(store, "model.skops")
    with pytest.raises(DamagedRun, match="not a readable skops file"):
        loading.load_classifier("ref-logreg", store)
