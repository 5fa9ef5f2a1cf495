"""Grad-CAM / Grad-CAM++ on a committed reference CNN: shape, range, determinism, focus, no side effects."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core import data, explain
from core.evaluation import analysis
from core.models import loading
from tests.conftest import PROJECT_ROOT, REFERENCE_ENV, run_cli

RUN = "ref-cnn_dropout"


@pytest.fixture(scope="module")
def model(reference_store):
    return loading.load_classifier(RUN, reference_store).model_


@pytest.fixture(scope="module")
def images():
    return data.to_images(data.load().x_test[:64])


def test_heatmaps_shape_range_and_determinism(model, images):
    first = explain.heatmaps(model, images[:8])
    again = explain.heatmaps(model, images[:8])
    assert first.shape == (8, 28, 28) and first.dtype == np.float32
    assert first.min() >= 0.0 and first.max() <= 1.0 and np.allclose(first.max(axis=(1, 2)), 1.0)
    np.testing.assert_array_equal(first, again)
    plus = explain.heatmaps(model, images[:8], method="gradcam++")
    assert plus.shape == first.shape and plus.min() >= 0 and plus.max() <= 1
    assert not np.allclose(plus, first)


def test_every_layer_and_every_target_class(model, images):
    layers = explain.explainable_layers(model)
    assert layers[-1] == "conv3_relu" and len(layers) == 3
    for layer in layers:
        heat = explain.heatmaps(model, images[:2], target=3, layer=layer)
        assert heat.shape == (2, 28, 28) and np.isfinite(heat).all()
    with pytest.raises(ValueError, match="cannot be explained"):
        explain.heatmaps(model, images[:1], layer="dense")
    with pytest.raises(ValueError, match="unknown method"):
        explain.heatmaps(model, images[:1], method="lime")


def test_blank_image_gives_a_finite_heatmap(model):
    heat = explain.heatmaps(model, np.zeros((1, 28, 28, 1), dtype=np.float32), target=0)
    assert np.isfinite(heat).all() and heat.min() >= 0 and heat.max() <= 1


def _inside_outside(heat, raw):
    mask = raw > analysis.OBJECT_THRESHOLD
    return (
        np.array([h[m].mean() for h, m in zip(heat, mask, strict=True)]),
        np.array([h[~m].mean() for h, m in zip(heat, mask, strict=True)]),
    )


def test_heat_is_on_the_item_more_than_on_the_background(model, images, reference_store):
    raw = data.load().x_test[:64]
    inside, outside = _inside_outside(explain.heatmaps(model, images, method="gradcam++"), raw)
    assert inside[0] > outside[0]  # test image 0, an ankle boot
    assert (inside > outside).mean() >= 0.75 and inside.mean() > 1.1 * outside.mean()
    baseline = loading.load_classifier("ref-cnn", reference_store).model_
    inside, outside = _inside_outside(explain.heatmaps(baseline, images[:1]), raw[:1])
    assert inside[0] > outside[0]  # plain Grad-CAM of the baseline CNN on the same ankle boot


def test_explaining_leaves_the_model_unchanged(model, images):
    before_pred = model.predict(images, verbose=0)
    before_weights = [w.copy() for w in model.get_weights()]
    before_layers = [layer.name for layer in model.layers]
    explain.heatmaps(model, images[:16], method="gradcam++")
    explain.heatmaps(model, images[:16], target=5, layer="conv1_relu")
    np.testing.assert_array_equal(model.predict(images, verbose=0), before_pred)
    for a, b in zip(before_weights, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert [layer.name for layer in model.layers] == before_layers
    assert model.layers[-1].activation.__name__ == "softmax"


def test_gradcam_cli_json(reference_store):
    result = run_cli(
        "gradcam", RUN, "--index", "0", "--class", "Sneaker", "--method", "gradcam++", "--json", env=REFERENCE_ENV
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["true_class"] == data.CLASS_NAMES[data.load().y_test[0]] and out["target_class"] == "Sneaker"
    assert sum(out["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)
    assert np.array(out["heatmap"]).shape == (28, 28)
    expected = reference_store.predictions(RUN)["y_pred"][0]
    assert out["predicted_class"] == data.CLASS_NAMES[expected]
    bad = run_cli("gradcam", RUN, "--index", "10000", "--json", env=REFERENCE_ENV)
    assert bad.returncode != 0 and "between 0 and 9999" in bad.stderr and "Traceback" not in bad.stderr
    classic = run_cli("gradcam", "../etc", "--index", "1")
    assert classic.returncode != 0 and "invalid run id" in classic.stderr


def test_heatmap_caption_is_computed():
    image = np.zeros((28, 28), dtype=np.uint8)
    image[4:24, 6:22] = 200
    heat = np.zeros((28, 28))
    heat[20:24, 16:22] = 1.0  # bottom-right of the item
    text = analysis.describe_heatmap(heat, image, "Sneaker")
    assert "sole (heel)" in text and "puts 100 % of its weight on the item" in text
    assert "empty" in analysis.describe_heatmap(np.zeros((28, 28)), image, "Bag")


@pytest.mark.parametrize("method", ["scorecam", "smoothgrad", "occlusion"])
def test_score_cam_smoothgrad_and_occlusion_maps(model, images, method):
    heat = explain.heatmaps(model, images[:6], method=method)
    assert heat.shape == (6, 28, 28) and heat.dtype == np.float32
    assert heat.min() >= 0.0 and np.allclose(heat.max(axis=(1, 2)), 1.0)
    np.testing.assert_array_equal(heat, explain.heatmaps(model, images[:6], method=method))  # reproducible
    raw = data.load().x_test[:6]
    inside, outside = _inside_outside(heat, raw)
    assert inside.mean() > outside.mean()  # on the item more than on the empty background
    other = explain.heatmaps(model, images[:6], target=(data.load().y_test[:6] + 1) % 10, method=method)
    assert not np.allclose(other, heat)  # another class, another map


def test_pixel_level_methods_explain_the_input_and_ignore_the_layer(reference_store):
    result = explain.explain_test_image(RUN, 0, method="occlusion", layer="conv1_relu", store=reference_store)
    assert result["layer"] == "input" and result["heatmap"].shape == (28, 28)
    assert explain.explain_test_image(RUN, 0, method="scorecam", store=reference_store)["layer"] == "conv3_relu"


def test_a_fresh_clone_explains_with_the_shipped_measured_default(tmp_path):
    """The committed Keras reference runs carry their measured default view: with no cache at all (a
    fresh clone), /gradcam and `core gradcam` open on it, and the CLI says which method and why."""
    import shutil

    from core.explain import faithfulness
    from core.store import RunStore

    root = tmp_path / "artifacts"
    shutil.copytree(
        PROJECT_ROOT / "artifacts" / "runs" / RUN, root / "runs" / RUN, ignore=shutil.ignore_patterns("logs")
    )
    shipped = json.loads((root / "runs" / RUN / faithfulness.SHIPPED_DEFAULT).read_text())
    assert faithfulness.default_view(RUN, RunStore(root / "runs")) == shipped  # no cache, no computing
    out = json.loads(run_cli("gradcam", RUN, "--index", "3", "--json", env={"STUDIO_ARTIFACTS": str(root)}).stdout)
    assert out["method"] == shipped["method"] and "measured most faithful" in out["method_reason"]
    forced = json.loads(
        run_cli(
            "gradcam", RUN, "--index", "3", "--method", "gradcam", "--json", env={"STUDIO_ARTIFACTS": str(root)}
        ).stdout
    )
    assert forced["method"] == "gradcam" and forced["method_reason"] == "chosen with --method"
