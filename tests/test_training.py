"""Every model kind trains on a small real subset into a complete run (real TF / scikit-learn)."""

from __future__ import annotations

import numpy as np
import pytest

from core import data
from core.models import loading
from core.models.config import TrainConfig
from tests.quick_runs import MODEL_OF, QUICK


@pytest.mark.parametrize("name", list(QUICK))
def test_model_trains_into_a_complete_run(name, quick_runs, quick_store):
    record = quick_runs["records"][name]
    assert record["status"] == "completed", record.get("error")
    assert record["model"] == MODEL_OF.get(name, name) and record["data"]["n_train"] == QUICK[name].subset
    assert record["data"]["n_val"] == 12000 and record["data"]["n_test"] == 10000

    preds = quick_store.predictions(record["run_id"])
    np.testing.assert_array_equal(preds["y_true"], data.load().y_test)
    assert preds["proba"].shape == (10000, 10)
    np.testing.assert_allclose(preds["proba"].sum(axis=1), 1.0, atol=1e-3)
    np.testing.assert_array_equal(preds["y_pred"], preds["proba"].argmax(axis=1))

    metrics = record["metrics"]
    assert metrics["test_accuracy"] == pytest.approx(float((preds["y_pred"] == preds["y_true"]).mean()))
    assert metrics["test_accuracy"] > 0.3  # ten balanced classes: chance is 0.1
    assert np.array(metrics["confusion_matrix"]).sum() == 10000
    assert len(metrics["per_class"]) == 10 and 0 < metrics["macro_f1"] <= 1

    artifact = record["artifact"]
    path = quick_store.path(record["run_id"]) / artifact["file"]
    assert path.stat().st_size == artifact["bytes"] and artifact["params"] > 0
    assert record["timings"]["train_seconds"] > 0 and record["timings"]["inference_ms_per_image"] > 0


@pytest.mark.parametrize("name", list(QUICK))
def test_saved_model_reproduces_the_recorded_predictions(name, quick_runs, quick_store):
    run_id = quick_runs["records"][name]["run_id"]
    proba = loading.predict_images(run_id, data.load().x_test, store=quick_store)
    stored = quick_store.predictions(run_id)
    assert (proba.argmax(axis=1) == stored["y_pred"]).mean() >= 0.999


@pytest.mark.parametrize("name", ["cnn", "cnn_dropout", "resnet", "mlp"])
def test_epoch_models_log_history_and_events(name, quick_runs, quick_store):
    record = quick_runs["records"][name]
    history = quick_store.history(record["run_id"])
    assert len(history) == record["epochs_run"] >= 1
    for row in history:
        assert {"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds"} <= set(row)
        assert 0 <= row["val_accuracy"] <= 1 and row["loss"] > 0
    epochs = [e for e in quick_runs["events"][name] if e["type"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [h["epoch"] for h in history]
    if name != "mlp":
        assert any(quick_store.logdir(record["run_id"]).rglob("events.out.tfevents*"))  # TensorBoard


def test_early_stopping_records_and_restores_the_best_epoch(quick_runs, quick_store):
    record = quick_runs["records"]["mlp"]
    history = quick_store.history(record["run_id"])
    best = min(history, key=lambda h: h["val_loss"])
    assert record["best_epoch"] == best["epoch"]
    assert record["metrics"]["val_accuracy"] == pytest.approx(best["val_accuracy"], abs=1e-9)


def test_recipe_options_reach_the_network_and_the_record(quick_runs, quick_store):
    from core.models.loading import load_classifier

    record = quick_runs["records"]["recipe"]
    assert record["config"]["params"]["optimizer"] == "sgd" and record["config"]["params"]["tta"] is True
    assert record["evaluation"]["test_time_augmentation"] == "mean of each photo and its mirror image"
    assert quick_runs["records"]["cnn"]["evaluation"]["test_time_augmentation"] == "none"
    clf = load_classifier(record["run_id"], quick_store)
    assert clf.tta and clf.model_.get_layer("conv1").kernel_size == (5, 5)
    assert clf.model_.get_layer("conv1").filters == 16
    x = clf.prepare(data.load().x_test[:50])
    plain = clf.model_.predict(x, verbose=0)
    mirrored = clf.model_.predict(x[:, :, ::-1], verbose=0)
    np.testing.assert_allclose(clf.predict_proba(x), (plain + mirrored) / 2, atol=1e-5)  # TTA = the mean
    lrs = [h["lr"] for h in quick_store.history(record["run_id"])]
    assert len(set(lrs)) == len(lrs)  # one-cycle: the rate changes every epoch


def test_random_erasing_replaces_a_patch_while_training_only():
    from core.models.keras_model import build_classifier

    config = TrainConfig("resnet", params={"erasing": 0.5, "width": 8}).resolve()
    assert config.params["erasing"] == 0.5
    network = build_classifier(config).build_network()
    x = build_classifier(config).prepare(data.load().x_test[:200])
    erase = network.get_layer("augment_erase")  # about half the photos get one patch of noise
    erased = np.asarray(erase(x, training=True))
    share = float((np.abs(erased - x).reshape(len(x), -1).max(axis=1) > 0).mean())
    assert 0.2 <= share <= 0.8 and erased.min() >= 0.0 and erased.max() <= 1.0
    np.testing.assert_array_equal(np.asarray(erase(x, training=False)), x)


def test_weight_ema_leaves_the_averaged_weights_in_the_model():
    from core.models.keras_model import build_classifier

    d = data.load()
    x, y = d.x_train[:256], d.y_train[:256]

    def trained(ema: float):
        clf = build_classifier(TrainConfig("cnn", epochs=2, batch_size=64, params={"ema": ema, "width": 8}).resolve())
        return clf.fit(clf.prepare(x), y, clf.prepare(x[:64]), y[:64])

    averaged, raw = trained(0.9), trained(0.0)
    optimizer = averaged.model_.optimizer
    assert optimizer.use_ema and not raw.model_.optimizer.use_ema
    pairs = zip(optimizer._trainable_variables, optimizer._model_variables_moving_average, strict=True)
    for weight, average in pairs:  # fit() copied the average into the model
        np.testing.assert_allclose(np.asarray(weight), np.asarray(average), atol=1e-6)
    assert any(  # same seed, same batches: only the averaging differs
        not np.allclose(np.asarray(a), np.asarray(b))
        for a, b in zip(averaged.model_.trainable_weights, raw.model_.trainable_weights, strict=True)
    )


def test_the_mobilenet_is_built_from_depthwise_separable_blocks(quick_runs, quick_store):
    from core.explain import layers_of_run
    from core.models.loading import load_classifier

    model = load_classifier(quick_runs["records"]["mobilenet"]["run_id"], quick_store).model_
    kinds = {layer.__class__.__name__ for layer in model.layers}
    assert "DepthwiseConv2D" in kinds
    assert layers_of_run(quick_runs["records"]["mobilenet"]["run_id"], quick_store)  # Grad-CAM can explain it


def test_classic_models_report_stages(quick_runs):
    stages = [e for e in quick_runs["events"]["random_forest"] if e["type"] == "stage"]
    assert any("30/30 trees" in e["message"] for e in stages)
    stages = [e["message"] for e in quick_runs["events"]["hist_gb"] if e["type"] == "stage"]
    boosting = [m for m in stages if m.startswith("Boosted")]
    assert [m.split(" rounds")[0] for m in boosting] == ["Boosted 10/15", "Boosted 15/15"]
    assert all("validation" in m and "%" in m for m in boosting)  # its progress says how it is doing
