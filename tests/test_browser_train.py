"""Browser tests of /train: a real background-callback training, cancel, and inline validation."""

from __future__ import annotations

import time

from selenium.webdriver.support.ui import Select

from core.store import RunStore
from tests.conftest import click, graph_traces, wait_until


def _fill(dash_duo, field_id, value):
    element = dash_duo.find_element(f"#{field_id}")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", element)
    element.clear()
    element.send_keys(str(value))


def _open_train_page(dash_duo, app_factory, **fields):
    dash_duo.start_server(app_factory())
    dash_duo.driver.get(dash_duo.server_url + "/train")
    dash_duo.wait_for_element("#train-epochs", timeout=20)
    for name, value in fields.items():
        _fill(dash_duo, f"train-{name.replace('_', '-')}", value)


def _curve_points(dash_duo) -> int:
    traces = graph_traces(dash_duo, "train-curves") or []
    return max((t["n"] for t in traces if t["name"] == "training"), default=0)


def test_start_streams_progress_and_curves_until_completed(dash_duo, app_factory):
    _open_train_page(dash_duo, app_factory, epochs=2, subset=300)
    wait_until(lambda: dash_duo.find_element("#train-form-error").text == "")
    started = time.time()
    click(dash_duo, "#train-start")
    progress_seen = wait_until(
        lambda: float(dash_duo.find_element("#train-progress .progress-bar").get_attribute("aria-valuenow") or 0) > 0,
        timeout=90,
    )
    first_point = wait_until(lambda: _curve_points(dash_duo) >= 1, timeout=120)
    to_first_point = time.time() - started
    # once its bar runs, the "Starting <run>…" line under it is gone
    wait_until(lambda: not dash_duo.find_elements("#train-starting"), timeout=10)
    wait_until(lambda: _curve_points(dash_duo) >= 2, timeout=120)
    dash_duo.wait_for_element("#train-finished", timeout=120)
    assert progress_seen and first_point
    assert "completed" in dash_duo.find_element("#train-run-title").text
    runs = [r for r in RunStore().list_runs() if r["status"] == "completed" and r["model"] == "cnn"]
    assert runs and runs[0]["data"]["n_train"] == 300 and runs[0]["epochs_run"] == 2
    said = f"{100 * runs[0]['metrics']['test_accuracy']:.2f} %"
    wait_until(lambda: said in dash_duo.find_element("#train-finished").text)
    panel = dash_duo.find_element("#train-finished")
    time.sleep(2.5)  # two ticks of the monitor: the panel is sent once, not replaced under a person's pointer
    assert said in panel.text  # the same node (a replaced one would be stale)
    print(f"start -> first curve point: {to_first_point:.1f} s")
    # the form keeps the settings just used, editable again (it used to fall back to 15 epochs, 2 000 photos)
    wait_until(lambda: dash_duo.find_element("#train-epochs").get_attribute("disabled") is None, timeout=20)
    assert dash_duo.find_element("#train-epochs").get_attribute("value") == "2"
    assert dash_duo.find_element("#train-subset").get_attribute("value") == "300"
    assert "which has ended" in dash_duo.find_element("#train-model-help").text
    click(dash_duo, "#train-finished a[href^='/leaderboard']")  # the new run is listed without a restart
    dash_duo.wait_for_contains_text("#leaderboard-grid", runs[0]["run_id"], timeout=30)


def test_a_chosen_preset_is_highlighted(dash_duo, app_factory):
    dash_duo.start_server(app_factory())
    dash_duo.driver.get(dash_duo.server_url + "/train")
    button = dash_duo.wait_for_element("button[id*='demo']", timeout=20)
    assert "btn-outline-info" in button.get_attribute("class")
    click(dash_duo, "button[id*='demo']")
    wait_until(lambda: "btn-outline-info" not in dash_duo.find_element("button[id*='demo']").get_attribute("class"))
    assert dash_duo.find_element("#train-subset").get_attribute("value") == "12000"
    assert "btn-outline-info" in dash_duo.find_element("button[id*='fast']").get_attribute("class")


def test_invalid_values_show_a_message_and_disable_start(dash_duo, app_factory):
    dash_duo.start_server(app_factory())
    dash_duo.driver.get(dash_duo.server_url + "/train")
    dash_duo.wait_for_element("#train-learning-rate", timeout=20)
    _fill(dash_duo, "train-learning-rate", 50)
    dash_duo.wait_for_contains_text("#train-form-error", "learning rate must be between", timeout=10)
    assert dash_duo.find_element("#train-start").get_attribute("disabled") is not None
    assert "is-invalid" in dash_duo.find_element("#train-learning-rate").get_attribute("class")
    _fill(dash_duo, "train-learning-rate", 0.001)
    dash_duo.wait_for_text_to_equal("#train-form-error", "", timeout=10)
    assert dash_duo.find_element("#train-start").get_attribute("disabled") is None
    _fill(dash_duo, "train-epochs", 0)
    dash_duo.wait_for_contains_text("#train-form-error", "epochs must be between 1 and 500", timeout=10)
    assert dash_duo.find_element("#train-start").get_attribute("disabled") is not None


def test_classic_models_show_their_own_parameters_and_start_is_above_the_fold(dash_duo, app_factory):
    dash_duo.start_server(app_factory())
    dash_duo.driver.set_window_size(1280, 720)
    dash_duo.driver.get(dash_duo.server_url + "/train")
    dash_duo.wait_for_element("#train-epochs", timeout=20)
    bottom = dash_duo.driver.execute_script(
        "return document.querySelector('#train-start').getBoundingClientRect().bottom <= window.innerHeight;"
    )
    assert bottom, "Start must be visible at 1280x720 without scrolling"
    assert not dash_duo.find_element("#train-svm-C").is_displayed()  # another model's parameter
    Select(dash_duo.find_element("#train-model")).select_by_value("svm")
    wait_until(lambda: dash_duo.find_element("#train-svm-C").is_displayed(), timeout=10)
    assert dash_duo.find_element("#train-svm-pca").get_attribute("value") == "120"
    assert "0.0001–10,000" in dash_duo.find_element("#train-svm-C-wrap").text  # its range is on the form
    assert not dash_duo.find_element("#train-epochs").is_displayed()  # no epochs for an SVM
    _fill(dash_duo, "train-svm-C", 1000000)
    dash_duo.wait_for_contains_text("#train-form-error", "C must be between 0.0001 and 10,000, got 1,000,000", 10)
    assert "is-invalid" in dash_duo.find_element("#train-svm-C").get_attribute("class")
    assert dash_duo.find_element("#train-start").get_attribute("disabled") is not None
    _fill(dash_duo, "train-svm-C", 5)
    dash_duo.wait_for_text_to_equal("#train-form-error", "", timeout=10)
    Select(dash_duo.find_element("#train-model")).select_by_value("knn")
    wait_until(lambda: dash_duo.find_element("#train-knn-k").is_displayed(), timeout=10)
    _fill(dash_duo, "train-knn-k", 2.5)
    dash_duo.wait_for_contains_text("#train-form-error", "k must be a whole number, got 2.5", 10)
    assert dash_duo.get_logs() == []


def test_a_preset_button_fills_the_form_which_stays_editable(dash_duo, app_factory):
    from core.training import presets

    fast = presets.PRESETS["fast"].config
    dash_duo.start_server(app_factory())
    dash_duo.driver.get(dash_duo.server_url + "/train")
    dash_duo.wait_for_element("#train-epochs", timeout=20)
    click(dash_duo, "button[id*='train-preset'][id*='fast']")
    wait_until(lambda: dash_duo.find_element("#train-model").get_attribute("value") == fast.model, timeout=20)
    wait_until(lambda: dash_duo.find_element("#train-epochs").get_attribute("value") == str(fast.epochs), timeout=10)
    assert dash_duo.find_element("#train-batch-size").get_attribute("value") == str(fast.batch_size)
    assert dash_duo.find_element("#train-cnn-dropout-optimizer").get_attribute("value") == "adamw"
    assert dash_duo.find_element("#train-cnn-dropout-tta").get_attribute("value") == "True"
    erasing = dash_duo.find_element("#train-cnn-dropout-erasing").get_attribute("value")
    assert float(erasing or "nan") == fast.params.get("erasing", 0.0)  # shown, as every setting of the preset
    assert "Preset" in dash_duo.find_element("#train-model-help").text
    assert dash_duo.find_element("#train-epochs").get_attribute("disabled") is None  # still editable
    _fill(dash_duo, "train-epochs", 3)
    dash_duo.wait_for_text_to_equal("#train-form-error", "", timeout=10)
    assert dash_duo.get_logs() == []


def test_cancel_stops_the_run_and_marks_it_interrupted(dash_duo, app_factory):
    _open_train_page(dash_duo, app_factory, epochs=50, subset=2000)
    click(dash_duo, "#train-start")
    wait_until(lambda: "running" in dash_duo.find_element("#train-run-title").text, timeout=90)
    run_id = RunStore().active_run_id()
    assert run_id
    click(dash_duo, "#train-cancel")
    wait_until(lambda: RunStore().get(run_id)["status"] == "interrupted", timeout=20)
    dash_duo.wait_for_contains_text("#train-run-title", "interrupted", timeout=20)
    wait_until(lambda: dash_duo.find_element("#train-epochs").get_attribute("disabled") is None, timeout=20)
    assert RunStore().active_run_id() is None


def test_reload_keeps_showing_the_run_and_cancel_works_from_the_new_tab(dash_duo, app_factory):
    _open_train_page(dash_duo, app_factory, epochs=40, subset=1500, batch_size=64)
    click(dash_duo, "#train-start")
    wait_until(lambda: _curve_points(dash_duo) >= 1, timeout=120)
    run_id = wait_until(lambda: RunStore().active_run_id(), timeout=30)
    dash_duo.driver.refresh()  # the launching tab is gone; the run goes on
    dash_duo.wait_for_contains_text("#train-run-title", run_id, timeout=30)
    assert "running" in dash_duo.find_element("#train-run-title").text
    points = wait_until(lambda: _curve_points(dash_duo), timeout=30)
    wait_until(lambda: _curve_points(dash_duo) > points, timeout=90)  # still growing after the reload
    # a second start while one is active is impossible: Start is disabled, and the form names the run
    dash_duo.wait_for_contains_text("#train-form-error", run_id, timeout=30)
    assert dash_duo.find_element("#train-start").get_attribute("disabled") is not None
    # the form shows the running job's own settings, read-only, not the defaults
    wait_until(lambda: dash_duo.find_element("#train-epochs").get_attribute("value") == "40", timeout=20)
    assert dash_duo.find_element("#train-batch-size").get_attribute("value") == "64"
    assert dash_duo.find_element("#train-subset").get_attribute("value") == "1500"
    assert dash_duo.find_element("#train-epochs").get_attribute("disabled") is not None
    assert dash_duo.find_element("#train-model").get_attribute("disabled") is not None
    wait_until(lambda: dash_duo.find_element("#train-cancel").get_attribute("disabled") is None, timeout=10)
    click(dash_duo, "#train-cancel")
    wait_until(lambda: RunStore().get(run_id)["status"] == "interrupted", timeout=20)
    assert RunStore().get(run_id)["error"] == "cancelled by the user"
    dash_duo.wait_for_contains_text("#train-run-title", "interrupted", timeout=20)
    wait_until(lambda: dash_duo.find_element("#train-epochs").get_attribute("disabled") is None, timeout=20)


def test_a_preset_says_why_it_trains_its_model_from_the_reference_race(dash_duo, app_factory, with_reference_runs):
    """The Fast preset's help names what the reference race found at its budget (2.5 minutes), with the
    numbers of the committed race runs."""
    from core.race import results

    expected = results.preset_reasons()["fast"]["sentence"]
    dash_duo.start_server(app_factory())
    dash_duo.driver.get(dash_duo.server_url + "/train")
    dash_duo.wait_for_element("#train-epochs", timeout=20)
    click(dash_duo, "button[id*='train-preset'][id*='fast']")
    dash_duo.wait_for_contains_text("#train-model-help", "most accurate architecture in 2.5 minutes", timeout=20)
    help_text = dash_duo.find_element("#train-model-help").text
    assert expected in help_text and "Its reference run reached" in help_text
    assert dash_duo.get_logs() == []
