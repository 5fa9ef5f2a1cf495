"""Explanations measured: deletion/insertion against random regions of the same shape (real model)."""

from __future__ import annotations

import json

import numpy as np

from core.explain import INPUT_METHODS, METHODS, faithfulness
from core.models.loading import load_classifier
from core.store import RunStore
from tests.conftest import REFERENCE_ENV, run_cli


def test_the_maps_of_a_reference_cnn_beat_random_regions_of_the_same_shape(reference_store):
    result = faithfulness.evaluate_run(
        "ref-cnn_dropout", n=60, split="test", methods=("gradcam", "scorecam", "occlusion"), store=reference_store
    )
    assert {(r["method"], r["layer"]) for r in result["results"]} == {
        *((m, layer) for m in ("gradcam", "scorecam") for layer in ("conv2_relu", "conv3_relu")),
        ("occlusion", "input"),  # a pixel-level method is measured once, at the input
    }
    best = next(r for r in result["results"] if (r["method"], r["layer"]) == tuple(result["best"].values()))
    assert best["deletion_drop"] > best["deletion_drop_random"] and best["deletion_gain"] > 0.05
    assert best["insertion_kept"] > best["insertion_kept_random"]
    assert all(r["deletion_gain"] <= best["deletion_gain"] for r in result["results"])
    assert "drops the model's confidence" in faithfulness.sentence(best)


def test_random_noise_maps_score_near_chance(reference_store):
    clf = load_classifier("ref-cnn_dropout", reference_store)
    images, _ = faithfulness.photos("test", 80)
    classes = clf.predict(clf.prepare(images))
    noise = np.random.default_rng(1).random((len(images), 28, 28)).astype(np.float32)
    scores = faithfulness.evaluate_maps(clf, images, noise, classes)
    assert abs(scores["deletion_gain"]) < 0.05  # no better than its own random control


def test_the_default_method_is_chosen_on_validation_and_reproducible(reference_store, tmp_path):
    import shutil

    from core import paths

    # a copy without the default the reference run ships, so it is measured here
    shutil.copytree(
        reference_store.path("ref-cnn"),
        tmp_path / "runs" / "ref-cnn",
        ignore=shutil.ignore_patterns(faithfulness.SHIPPED_DEFAULT),
    )
    reference_store = RunStore(tmp_path / "runs")
    for cached in paths.cache_dir().glob("explain-default-ref-cnn-*.json"):
        cached.unlink()
    first = faithfulness.default_view("ref-cnn", reference_store, compute=True, n=30)
    assert first["split"] == "validation" and first["n"] == 30
    photo = first["photo"]  # the photo the page opens on: right, sure, and its map matters
    predictions = reference_store.predictions("ref-cnn")
    assert predictions["y_pred"][photo] == predictions["y_true"][photo] and predictions["proba"][photo].max() >= 0.9
    for cached in paths.cache_dir().glob("explain-default-ref-cnn-*.json"):
        cached.unlink()
    assert faithfulness.default_view("ref-cnn", reference_store) is None  # not computed on a page request
    again = faithfulness.default_view("ref-cnn", reference_store, compute=True, n=30)
    assert (again["method"], again["layer"], again["deletion_gain"], again["photo"]) == (
        first["method"],
        first["layer"],
        first["deletion_gain"],
        photo,
    )


def test_explain_eval_cli():
    bad = run_cli("explain-eval", "ref-cnn", "--n", "5", env=REFERENCE_ENV)
    assert bad.returncode != 0 and "from 10 to 10000" in bad.stderr
    done = run_cli("explain-eval", "ref-cnn", "--n", "20", "--json", env=REFERENCE_ENV)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    expected = {(m, layer) for m in METHODS for layer in ("conv2_relu", "conv3_relu") if m not in INPUT_METHODS}
    expected |= {(m, "input") for m in INPUT_METHODS}
    assert {(r["method"], r["layer"]) for r in result["results"]} == expected
    assert result["best"]["method"] in {r["method"] for r in result["results"]}


def test_the_upload_agreement_benchmark_runs_and_uploads_mostly_agree_with_the_originals(reference_store):
    from bench import upload_agreement

    result = upload_agreement.main("ref-cnn_dropout", n=3, store=reference_store, write=False)
    assert len(result["cells"]) == 36 and result["n_per_condition"] == 3  # background x noise x JPEG x light
    assert result["agreement"] >= 0.9  # camera-style photos: off-white, noisy, compressed, unevenly lit
    assert "| 240 | 5 |" in upload_agreement.table(result)


def test_an_enlarged_dataset_item_converts_back_onto_its_own_pixel_grid():
    """Items an odd number of pixels wide sit half a pixel off centre in the dataset; the upload
    conversion finds that grid again instead of resampling every pixel across its neighbour."""
    import io

    from PIL import Image

    from core import data
    from core.data import upload

    items = (data.load().x_test[:300].reshape(-1, 28, 28) * 255).round().astype(np.uint8)
    errors = []
    for item in items:
        mask = item > 10  # the item in the original 28x28 photo
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        if rows[-1] - rows[0] + 1 != 28 or (cols[0] + cols[-1] + 1) % 2 == 0:
            continue  # only tall items with an odd width: the half-pixel case
        big = Image.fromarray(255 - item).resize((28 * 6, 28 * 6), Image.Resampling.NEAREST)
        canvas = Image.new("L", (260, 230), 255)
        canvas.paste(big, (37, 21))
        out = io.BytesIO()
        canvas.save(out, format="PNG")
        converted = upload.preprocess(out.getvalue())["image"]
        errors.append(np.abs(converted.astype(float) - item).mean())
        if len(errors) == 12:
            break
    # measured: 3-10 grey levels on the grid (sharpening and contrast stretch remain), 12-29 half a pixel off
    assert len(errors) == 12 and np.mean(errors) < 9 and max(errors) < 12.5
