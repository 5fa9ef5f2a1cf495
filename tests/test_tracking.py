"""Runs from anywhere (issue 45): `core import` of a model the test trains itself, the bad inputs that
write nothing, `start_run` from a script that dies, the Keras callback in a real subprocess, and the
README's numpy example run as written."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import binomtest

from core import data
from core.intervals import wilson
from core.store import RunError, RunStore
from tests.conftest import PROJECT_ROOT

TRAIN_LOGREG = textwrap.dedent(
    """
    import sys
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from core import data

    ds = data.load()
    train, val = data.split_indices(42)
    rows = train[:3000]
    model = LogisticRegression(max_iter=300).fit(ds.x_train[rows].reshape(-1, 784) / 255.0, ds.y_train[rows])
    np.save(sys.argv[1], model.predict_proba(ds.x_test.reshape(-1, 784) / 255.0))
    np.save(sys.argv[2], model.predict_proba(ds.x_train[val].reshape(-1, 784) / 255.0))
    """
)


@pytest.fixture(scope="module")
def studio(tmp_path_factory, reference_artifacts) -> Path:
    """A private artifacts root holding ref-logreg (to compare with) and nothing else."""
    root = tmp_path_factory.mktemp("byom")
    shutil.copytree(reference_artifacts / "runs" / "ref-logreg", root / "runs" / "ref-logreg")
    return root


def _cli(root: Path, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "STUDIO_ARTIFACTS": str(root)}
    return subprocess.run(
        [sys.executable, "-m", "core", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def trained(studio, tmp_path_factory) -> dict[str, Path]:
    """Test and validation probabilities of a logistic regression trained here, in a subprocess."""
    folder = tmp_path_factory.mktemp("trained")
    test, val = folder / "test.npy", folder / "val.npy"
    script = folder / "train.py"
    script.write_text(TRAIN_LOGREG)
    done = subprocess.run(
        [sys.executable, str(script), str(test), str(val)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return {"test": test, "val": val, "folder": folder}


def test_an_imported_run_is_judged_exactly_like_the_studios_own(studio, trained):
    got = _cli(studio, "import", "--name", "my-logreg", "--predictions", str(trained["test"]), "--validation",
               str(trained["val"]), "--framework", "scikit-learn", "--json")  # fmt: skip
    assert got.returncode == 0, got.stderr
    store = RunStore(studio / "runs")
    record = store.get("my-logreg")
    assert record["status"] == "completed" and record["source"]["kind"] == "import"
    assert record["source"]["framework"] == "scikit-learn" and record["family"] == "imported"
    proba = np.load(trained["test"])
    y = data.load().y_test
    right = int((proba.argmax(axis=1) == y).sum())
    assert record["metrics"]["test_accuracy"] == pytest.approx(right / len(y))
    assert record["metrics"]["test_accuracy_ci95"] == pytest.approx(list(wilson(right, len(y))))
    assert (record.get("timings") or {}).get("train_seconds") is None  # never given: none, not zero
    assert record["calibration"]["temperature"] > 0  # fitted on its validation photos
    val_y = data.load().y_train[data.split_indices(42)[1]]
    assert record["metrics"]["val_accuracy"] == pytest.approx((np.load(trained["val"]).argmax(1) == val_y).mean())
    # compare against ref-logreg: the exact McNemar test on the same photos, recomputed here
    cmp = _cli(studio, "compare", "my-logreg", "ref-logreg", "--json")
    assert cmp.returncode == 0, cmp.stderr
    result = json.loads(cmp.stdout)
    ref = store.predictions("ref-logreg")["y_pred"]
    mine = proba.argmax(axis=1)
    a_only = int(((mine == y) & (ref != y)).sum())
    b_only = int(((mine != y) & (ref == y)).sum())
    assert (result["a_right_b_wrong"], result["b_right_a_wrong"]) == (a_only, b_only)
    expected_p = binomtest(a_only, a_only + b_only, 0.5).pvalue
    assert result["mcnemar_p"] == pytest.approx(expected_p, rel=1e-9)
    # it is on the index with its source, as the leaderboard shows it
    from core.evaluation import leaderboard

    row = leaderboard.row(record, store.history("my-logreg"))
    assert row["recipe"] == "imported (scikit-learn)" and row["train_seconds"] is None
    # without a Keras model file it cannot answer an upload, and says why
    import io

    from PIL import Image

    from core.predict import answer
    from core.store import NoModel

    png = io.BytesIO()
    Image.fromarray(data.load().x_test[0]).save(png, format="PNG")
    with pytest.raises(NoModel, match="imported without a Keras model file"):
        answer.for_upload(png.getvalue(), "my-logreg", store)
    # a story and a report about it, true of it: its own number, no training time made up
    from core.story import report, slides, summary

    story = slides.build("my-logreg", store, explain=False)
    page = report.render(story, summary.appendix(store, story))
    assert f"{100 * record['metrics']['test_accuracy']:.2f} %" in page
    assert "training time not recorded" in page or "trained 0" not in page
    for placeholder in ("None", "nan", "{", "}"):
        assert placeholder not in story.summary, placeholder


def test_imported_seeds_form_one_group(studio, trained):
    """Two imports of one recipe (seeds) share a group: one leaderboard row with its seed spread."""
    from core.evaluation import leaderboard
    from core.tracking import importer

    store = RunStore(studio / "runs")
    proba = np.load(trained["test"])
    other = trained["folder"] / "seed2.npy"
    np.save(other, np.roll(proba, 1, axis=1) * 0.02 + proba * 0.98)  # another seed: a few answers differ
    for name, path in (("grp-s1", trained["test"]), ("grp-s2", other)):
        importer.import_run(name, path, group="my-logreg-seeds", store=store)
    rows = [leaderboard.row(store.get(r), []) for r in ("grp-s1", "grp-s2")]
    (folded,) = leaderboard.grouped(rows)
    accuracies = [store.get(r)["metrics"]["test_accuracy"] for r in ("grp-s1", "grp-s2")]
    assert folded["seeds"] == 2 and folded["test_accuracy"] == pytest.approx(np.mean(accuracies))


def _bad_inputs(folder: Path) -> list[tuple[list[str], str]]:
    y = data.load().y_test
    good = np.eye(10)[y] * 0.9 + 0.01
    cases: list[tuple[list[str], str]] = []

    def save(name: str, arr) -> str:
        path = folder / name
        np.save(path, arr)
        return str(path)

    nan = good.copy()
    nan[5, 3] = np.nan
    unsummed = good * 1.5
    shuffled = good[np.random.default_rng(0).permutation(len(good))]
    (folder / "empty.npy").write_bytes(b"")
    (folder / "text.npy").write_text("these are not probabilities\n")
    with open(folder / "huge.npy", "wb") as handle:  # a sparse file: large, but nothing to write
        handle.truncate(200 * 1024 * 1024)
    ok = save("good.npy", good)
    cases += [
        (["--name", "bad-shape", "--predictions", save("shape.npy", good[:, :9])], "10 000 rows x 10 classes"),
        (["--name", "bad-nan", "--predictions", save("nan.npy", nan)], "NaN"),
        (["--name", "bad-sum", "--predictions", save("sum.npy", unsummed)], "do not sum to 1"),
        (["--name", "bad-order", "--predictions", save("shuffled.npy", shuffled)], "not in the dataset's order"),
        (["--name", "my-logreg", "--predictions", ok], "already exists"),
        (["--name", "../escape", "--predictions", ok], "invalid run id"),
        (["--name", "bad-empty", "--predictions", str(folder / "empty.npy")], "is empty"),
        (["--name", "bad-huge", "--predictions", str(folder / "huge.npy")], "the limit is"),
        (["--name", "bad-text", "--predictions", str(folder / "text.npy")], "not a numeric array"),
        (["--name", "bad-1d", "--predictions", save("flat.npy", y.astype(float))], "got 10000"),
    ]
    return cases


def test_each_bad_input_gets_one_line_and_writes_nothing(studio, trained):
    from core.tracking import importer
    from core.tracking.arrays import ImportRefused

    store = RunStore(studio / "runs")
    before = sorted(p.name for p in (studio / "runs").iterdir())
    folder = trained["folder"]
    for args, words in _bad_inputs(folder):
        name, path = args[1], args[3]
        with pytest.raises((ImportRefused, RunError)) as caught:
            importer.import_run(name, path, store=store)
        message = str(caught.value)
        assert words in message and "\n" not in message, (args, message)
    # a Keras file that cannot be loaded safely: a Lambda layer would run code from the file
    lambda_model = folder / "lambda.keras"
    made = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(f"""
            import keras
            inputs = keras.Input((28, 28, 1))
            x = keras.layers.Lambda(lambda t: t * 2.0)(inputs)
            outputs = keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(x))
            keras.Model(inputs, outputs).save({str(lambda_model)!r})
            """)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    got = _cli(studio, "import", "--name", "bad-keras", "--predictions", str(folder / "good.npy"), "--model",
               str(lambda_model))  # fmt: skip
    assert got.returncode != 0 and "cannot be loaded safely" in got.stderr
    assert len(got.stderr.strip().splitlines()) == 1, got.stderr  # one line, no traceback
    # and through the CLI, a bad array is one line too, with a usage exit status
    got = _cli(studio, "import", "--name", "bad-cli", "--predictions", str(folder / "nan.npy"))
    assert got.returncode == 2 and got.stderr.count("\n") == 1 and "NaN" in got.stderr
    assert sorted(p.name for p in (studio / "runs").iterdir()) == before  # nothing written, by any of them
    assert not store.exists("bad-keras")


SCRIPT_THAT_DIES = textwrap.dedent(
    """
    import os, sys, time
    from core import tracking

    with tracking.start_run("dies-midway", params={"lr": 0.01}, framework="numpy") as run:
        run.log_epoch(1, loss=1.0, val_accuracy=0.5)
        run.log_epoch(2, loss=0.8, val_accuracy=0.6)
        print("logged", flush=True)
        time.sleep(600)
    """
)


def test_a_script_that_dies_leaves_an_interrupted_run_with_its_curves(studio, tmp_path):
    script = tmp_path / "dies.py"
    script.write_text(SCRIPT_THAT_DIES)
    env = {**os.environ, "STUDIO_ARTIFACTS": str(studio), "PYTHONPATH": str(PROJECT_ROOT)}
    proc = subprocess.Popen([sys.executable, str(script)], cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "logged"
        store = RunStore(studio / "runs")
        assert store.get("dies-midway")["status"] == "running"  # live while the script runs
        from core.training import progress

        live = progress.snapshot(store, "dies-midway")  # what /train's replay and the CLI show
        assert live["status"] == "running" and [r["epoch"] for r in live["history"]] == [1, 2]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proc.kill()
    record = store.get("dies-midway")
    assert record["status"] == "interrupted"
    assert [r["val_accuracy"] for r in store.history("dies-midway")] == [0.5, 0.6]
    assert record["source"]["versions"]["numpy"] == np.__version__
    # a script that raises ends its run failed, with the reason
    from core import tracking

    with pytest.raises(ZeroDivisionError), tracking.start_run("raises", store=store) as run:
        run.log_epoch(1, loss=1.0)
        _ = 1 / 0
    assert store.get("raises")["status"] == "failed" and "ZeroDivisionError" in store.get("raises")["error"]


KERAS_SCRIPT = textwrap.dedent(
    """
    import keras
    from core import data
    from core.tracking import KerasCallback

    ds = data.load()
    rows = data.split_indices(42)[0][:2000]
    x = ds.x_train[rows][..., None] / 255.0
    inputs = keras.Input((28, 28, 1))
    h = keras.layers.Conv2D(8, 3, activation="relu", name="my_conv")(inputs)
    h = keras.layers.MaxPooling2D()(h)
    outputs = keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(h))
    model = keras.Model(inputs, outputs, name="tiny")
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, ds.y_train[rows], validation_split=0.2, epochs=2, batch_size=64, verbose=0,
              callbacks=[KerasCallback("keras-tiny", params={"filters": 8}, n_train=1600)])
    """
)


def test_the_keras_callback_makes_a_run_with_curves_and_grad_cam(studio, tmp_path):
    script = tmp_path / "train_keras.py"
    script.write_text(KERAS_SCRIPT)
    env = {**os.environ, "STUDIO_ARTIFACTS": str(studio), "PYTHONPATH": str(PROJECT_ROOT)}
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    store = RunStore(studio / "runs")
    record = store.get("keras-tiny")
    assert record["status"] == "completed" and record["family"] == "deep"
    assert record["source"]["kind"] == "keras-callback" and record["artifact"]["file"] == "model.keras"
    history = store.history("keras-tiny")
    assert [r["epoch"] for r in history] == [1, 2] and all("val_accuracy" in r for r in history)
    assert record["timings"]["train_seconds"] > 0 and record["calibration"]["temperature"] > 0
    # the kept model answers exactly as the logged predictions, and Grad-CAM explains it
    from core import explain
    from core.models import loading

    preds = store.predictions("keras-tiny")
    again = loading.predict_images("keras-tiny", data.load().x_test[:50], store)
    assert np.array_equal(again.argmax(axis=1), preds["y_pred"][:50])
    result = explain.explain_image("keras-tiny", data.load().x_test[0], store=store)
    assert result["heatmap"].shape == (28, 28) and np.isfinite(result["heatmap"]).all()
    assert "my_conv" in result["layers"]


def _readme_example() -> str:
    text = (PROJECT_ROOT / "README.md").read_text()
    found = re.search(r"<!-- example: numpy-import -->\n```bash\n(.*?)```\n<!-- end example -->", text, re.S)
    assert found, "the README's numpy example is missing"
    return found.group(1)


def test_the_readme_numpy_example_runs_as_written(studio, tmp_path):
    script = _readme_example().replace(".venv/bin/python", sys.executable)
    (tmp_path / "example.sh").write_text(script)
    env = {**os.environ, "STUDIO_ARTIFACTS": str(studio), "PYTHONPATH": str(PROJECT_ROOT)}
    started = time.time()
    done = subprocess.run(["bash", "-e", str(tmp_path / "example.sh")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    record = RunStore(studio / "runs").get("numpy-centroids")
    assert record["status"] == "completed" and record["metrics"]["test_accuracy"] > 0.6
    assert "difference A − B" in done.stdout and time.time() - started < 600


def test_an_imported_run_is_on_the_leaderboard_and_its_mistakes_open(
    dash_duo, app_factory, studio, trained, monkeypatch
):
    from core.evaluation import calibrated, drilldown
    from core.tracking import importer
    from tests.conftest import click, wait_until

    store = RunStore(studio / "runs")
    importer.import_run("browser-import", trained["test"], validation=trained["val"], framework="scikit-learn",
                        label="My logistic regression", store=store)  # fmt: skip
    monkeypatch.setenv("STUDIO_ARTIFACTS", str(studio))
    dash_duo.start_server(app_factory())
    dash_duo.driver.set_window_size(1440, 900)
    dash_duo.driver.get(dash_duo.server_url + "/leaderboard")

    def row_of(run_id: str):
        for cell in dash_duo.find_elements(".ag-pinned-left-cols-container .ag-row [col-id='run_id']"):
            if cell.text == run_id:
                return cell.find_element("xpath", "./..").get_attribute("row-index")
        return None

    index = wait_until(lambda: row_of("browser-import"), timeout=40)
    recipe = dash_duo.find_element(f".ag-center-cols-container .ag-row[row-index='{index}'] [col-id='recipe']").text
    assert recipe == "imported (scikit-learn)"
    model = dash_duo.find_element(f".ag-center-cols-container .ag-row[row-index='{index}'] [col-id='model']").text
    assert model == "My logistic regression"
    click(dash_duo, f".ag-pinned-left-cols-container .ag-row[row-index='{index}'] [col-id='run_id']")
    wait_until(lambda: "/errors?run=browser-import" in dash_duo.driver.current_url, timeout=20)
    shown = calibrated.predictions(store, store.get("browser-import"))
    expected = drilldown.confident_mistakes(shown, 16).tolist()
    thumbs = wait_until(lambda: dash_duo.find_elements("#errors-mistakes .thumb"), timeout=30)
    assert [int(t.text.split(" ")[0][1:]) for t in thumbs] == expected
    # it has no Keras model file: /gradcam says why it cannot explain it
    dash_duo.driver.get(dash_duo.server_url + "/gradcam?run=browser-import&index=0")
    dash_duo.wait_for_contains_text("#gradcam-problem", "imported without a Keras model file", timeout=30)
    assert dash_duo.get_logs() == []
