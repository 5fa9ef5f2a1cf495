"""Browser test of /tune: a real study started from the page, followed live, found again after a reload."""

from __future__ import annotations

from selenium.webdriver.support.ui import Select

from core.store import RunStore
from core.tuning import study as studies
from tests.conftest import click, graph_traces, wait_until


def _fill(dash_duo, selector: str, value) -> None:
    element = dash_duo.find_element(selector)
    element.clear()
    element.send_keys(str(value))


def test_a_study_starts_from_the_page_and_is_followed_live(dash_duo, app_factory):
    dash_duo.start_server(app_factory())
    dash_duo.driver.get(dash_duo.server_url + "/tune")
    dash_duo.wait_for_element("#tune-start", timeout=20)
    assert dash_duo.find_element("#tune-promote").get_attribute("disabled") is not None  # no study chosen yet
    Select(dash_duo.find_element("#tune-model")).select_by_value("logreg")
    # the range example and help follow the model, and a one-pass model has no epochs to set
    wait_until(lambda: dash_duo.find_element("#tune-space").get_attribute("placeholder").startswith("C="))
    assert "learning_rate" not in dash_duo.find_element("#tune-space-help").text
    assert dash_duo.find_element("#tune-epochs").get_attribute("disabled") is not None
    _fill(dash_duo, "#tune-trials", 0)
    click(dash_duo, "#tune-start")
    dash_duo.wait_for_contains_text("#tune-message", "from 1 to 500", timeout=20)  # refused, nothing started
    _fill(dash_duo, "#tune-trials", 3)
    _fill(dash_duo, "#tune-subset", 300)
    _fill(dash_duo, "#tune-space", "C=0.001:0.5")
    _fill(dash_duo, "#tune-name", "browser-study")
    click(dash_duo, "#tune-start")
    dash_duo.wait_for_contains_text("#tune-message", "Started browser-study", timeout=20)
    dash_duo.wait_for_contains_text("#tune-best", "best so far", timeout=180)
    wait_until(lambda: len(dash_duo.find_elements("#tune-table tbody tr")) == 3, timeout=180)
    wait_until(lambda: "not running" in dash_duo.find_element("#tune-best").text, timeout=120)
    # the study picker no longer says "starting" once the study has finished
    wait_until(lambda: "starting" not in dash_duo.find_element("#tune-study").text, timeout=20)
    assert dash_duo.find_element("#tune-promote").get_attribute("disabled") is None
    result = studies.summary("browser-study")
    best = result["best"]
    assert f"{100 * best['val_accuracy']:.2f} %" in dash_duo.find_element("#tune-best").text
    assert RunStore().get(best["run_id"])["status"] == "validated"
    wait_until(lambda: graph_traces(dash_duo, "tune-fig-history"), timeout=30)  # Optuna's own figures
    wait_until(lambda: graph_traces(dash_duo, "tune-fig-parallel"), timeout=30)
    dash_duo.driver.get(dash_duo.server_url + "/tune")  # a reload finds the study again
    dash_duo.wait_for_contains_text("#tune-best", "browser-study", timeout=30)
    click(dash_duo, f"#tune-table a[href='/train?run={best['run_id']}']")  # a trial links to its curves
    dash_duo.wait_for_contains_text("#train-run-title", best["run_id"], timeout=30)
    assert dash_duo.get_logs() == []
