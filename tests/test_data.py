"""core.data and `python -m core data …` on the real Fashion-MNIST files."""

from __future__ import annotations

import gzip
import json
import shutil

import numpy as np
import pytest

from core import data
from core.data import explore
from core.models.config import MAX_TRAIN_SIZE
from tests.conftest import run_cli


def test_loads_the_real_dataset():
    ds = data.load()
    assert ds.x_train.shape == (60000, 28, 28) and ds.x_train.dtype == np.uint8
    assert ds.x_test.shape == (10000, 28, 28)
    assert np.bincount(ds.y_train).tolist() == [6000] * 10
    assert np.bincount(ds.y_test).tolist() == [1000] * 10
    assert data.load() is ds  # cached per process


def test_normalisation_and_reshape():
    ds = data.load()
    images = data.to_images(ds.x_train[:100])
    assert images.shape == (100, 28, 28, 1) and images.dtype == np.float32
    assert images.min() >= 0.0 and images.max() <= 1.0 and images.max() > 0.99
    flat = data.to_flat(ds.x_train[:100])
    assert flat.shape == (100, 784)
    np.testing.assert_allclose(flat[7].reshape(28, 28), ds.x_train[7] / 255.0, rtol=1e-6)


def test_split_is_stratified_disjoint_and_reproducible():
    train_idx, val_idx = data.split_indices(42)
    assert len(train_idx) == 48000 == MAX_TRAIN_SIZE and len(val_idx) == 12000
    assert not set(train_idx) & set(val_idx)
    labels = data.load().y_train
    assert np.bincount(labels[train_idx]).tolist() == [4800] * 10
    assert np.bincount(labels[val_idx]).tolist() == [1200] * 10
    again, _ = data.split_indices.__wrapped__(42)
    np.testing.assert_array_equal(train_idx, again)
    other, _ = data.split_indices.__wrapped__(7)
    assert not np.array_equal(train_idx, other)


def test_stratified_subset():
    train_idx, _ = data.split_indices(42)
    labels = data.load().y_train
    subset = data.subset_indices(train_idx, labels, 500, seed=3)
    assert len(subset) == 500 and set(subset) <= set(train_idx)
    assert np.bincount(labels[subset]).tolist() == [50] * 10


def test_stats_cli_reports_the_real_figures():
    result = run_cli("data", "stats", "--json")
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    pixels = data.load().x_train.astype(np.float64)
    assert stats["n_train"] == 60000 and stats["n_test"] == 10000
    assert stats["pixel_mean"] == pytest.approx(pixels.mean(), abs=1e-3)
    assert stats["pixel_std"] == pytest.approx(pixels.std(), abs=1e-3)
    assert stats["pixel_median"] == np.median(data.load().x_train)
    assert round(stats["pixel_mean"], 2) == 72.94 and round(stats["pixel_std"], 2) == 90.02
    counts = stats["class_counts"]
    assert set(counts) == {"train", "val", "test"}
    assert counts["train"]["Shirt"] == 4800 and counts["val"]["Bag"] == 1200 and counts["test"]["Coat"] == 1000
    assert sum(counts["train"].values()) + sum(counts["val"].values()) == 60000


def test_histogram_stats_match_numpy():
    sample = data.load().x_test
    got = explore.stats_from_counts(explore.histogram_counts(sample))
    assert got["mean"] == pytest.approx(sample.mean(), rel=1e-9)
    assert got["std"] == pytest.approx(sample.std(), rel=1e-9)
    assert got["median"] == np.median(sample)


def _copy_dataset(tmp_path):
    for name, _, _ in data.FILES.values():
        shutil.copy(data.find_data_dir() / name, tmp_path / name)
    return tmp_path


def test_missing_data_dir_gives_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("FASHION_MNIST_DIR", str(tmp_path))
    with pytest.raises(data.DataError, match="apt-get install dataset-fashion-mnist"):
        data.find_data_dir()
    result = run_cli("data", "stats", "--json", env={"FASHION_MNIST_DIR": str(tmp_path)})
    assert result.returncode != 0 and result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "dataset-fashion-mnist" in result.stderr


def test_truncated_file_is_refused(tmp_path, monkeypatch):
    folder = _copy_dataset(tmp_path)
    target = folder / data.FILES["train_images"][0]
    target.write_bytes(target.read_bytes()[:100000])
    monkeypatch.setenv("FASHION_MNIST_DIR", str(folder))
    with pytest.raises(data.DataError, match="damaged"):
        data._load_from.__wrapped__(folder)
    result = run_cli("data", "check", env={"FASHION_MNIST_DIR": str(folder)})
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "train-images-idx3-ubyte.gz" in result.stderr


def test_altered_content_fails_the_checksum(tmp_path):
    folder = _copy_dataset(tmp_path)
    target = folder / data.FILES["test_labels"][0]
    raw = bytearray(gzip.decompress(target.read_bytes()))
    raw[-1] = (raw[-1] + 1) % 10  # one label changed, still a valid gzip and IDX file
    target.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(data.DataError, match="sha256"):
        data._load_from.__wrapped__(folder)
