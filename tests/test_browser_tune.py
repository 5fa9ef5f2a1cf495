"""Browser test of /tune: a real study started from the page, followed live, found again after a reload."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from core.store import RunStore
from core.tuning import study as studies
from tests.conftest import click, graph_traces, wait_until


def _fill(dash_duo, selector: str, value) -> None:
    element = dash_duo.find_element(selector)
    element.clear()
    element.send_keys(str(value))


@pytest.fixture
def own_artifacts(tmp_path, monkeypatch):
    """A store of its own: studies other tests of this worker made must not be offered (the page opens
    the newest study, and "no study chosen yet" needs none)."""
    monkeypatch.setenv("STUDIO_ARTIFACTS", str(tmp_path))
    return tmp_path


def test_a_study_starts_from_the_page_and_is_followed_live(dash_duo, app_factory, own_artifacts):
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
    box = dash_duo.find_element("#tune-trials")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.BACKSPACE)
    click(dash_duo, "#tune-start")
    dash_duo.wait_for_contains_text("#tune-message", "give a trial budget", timeout=20)
    assert "None" not in dash_duo.find_element("#tune-message").text
    _fill(dash_duo, "#tune-trials", 3)
    _fill(dash_duo, "#tune-name", "../../etc")
    click(dash_duo, "#tune-start")
    dash_duo.wait_for_contains_text("#tune-message", "invalid study name", timeout=20)
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
    seen = dash_duo.driver.execute_script(
        "return [...document.querySelectorAll('[id^=tune-fig] .main-svg')].map(s => s.textContent).join(' ')"
    )
    assert "Objective Value" not in seen and "Best Value" not in seen  # plain words on every axis and legend
    ticks = dash_duo.driver.execute_script(
        "return [...document.querySelectorAll('#tune-fig-history .xtick text')].map(t => t.textContent)"
    )
    assert ticks and all(t.strip().lstrip("−-").isdigit() for t in ticks), ticks  # whole trials, never 0.5
    assert "Appears after 10 finished trials" in dash_duo.driver.execute_script(
        "return document.querySelector('#tune-fig-importance').textContent"
    )  # 3 trials: no importance bars, and the whole reason shown
    overlaps = dash_duo.driver.execute_script(
        "const b = [...document.querySelectorAll('#tune-fig-parallel .xtick text')].map(t => t.getBoundingClientRect());"
        "let n = 0; for (let i = 0; i < b.length; i++) for (let j = i + 1; j < b.length; j++)"
        "  if (b[i].left < b[j].right && b[j].left < b[i].right && b[i].top < b[j].bottom && b[j].top < b[i].bottom) n++;"
        "return [b.length, n];"
    )
    assert overlaps[0] >= 2 and overlaps[1] == 0, overlaps  # the parallel coordinates' labels do not overlap
    assert "Intermediate Value" not in seen and " Step " not in f" {seen} "  # Optuna's names, in words
    clipped = dash_duo.driver.execute_script(
        "return [...document.querySelectorAll('[id^=tune-fig]')].flatMap(f => {"
        "  const box = f.querySelector('.main-svg'); if (!box) return [];"
        "  const r = box.getBoundingClientRect();"
        "  return [...f.querySelectorAll('.annotation-text')].filter(t => { const b = t.getBoundingClientRect();"
        "    return b.left < r.left - 0.5 || b.right > r.right + 0.5; }).map(t => f.id + ': ' + t.textContent); });"
    )
    assert clipped == [], clipped  # no message or value runs past its figure
    stacked = dash_duo.driver.execute_script(
        "const b = [...document.querySelectorAll('#tune-fig-parallel .annotation')].map(t => t.getBoundingClientRect());"
        "let n = 0; for (let i = 0; i < b.length; i++) for (let j = i + 1; j < b.length; j++)"
        "  if (b[i].left < b[j].right - 1 && b[j].left < b[i].right - 1 && b[i].top < b[j].bottom - 1"
        "      && b[j].top < b[i].bottom - 1) n++;"
        "return [b.length, n];"
    )
    assert stacked[0] >= 4 and stacked[1] == 0, stacked  # the axes' values never run into each other
    dash_duo.driver.get(dash_duo.server_url + "/tune")  # a reload finds the study again
    dash_duo.wait_for_contains_text("#tune-best", "browser-study", timeout=30)
    click(dash_duo, f"#tune-table a[href='/train?run={best['run_id']}']")  # a trial links to its curves
    dash_duo.wait_for_contains_text("#train-run-title", best["run_id"], timeout=30)
    assert dash_duo.get_logs() == []
