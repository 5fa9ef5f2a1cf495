"""Browser tests (dash_duo on headless Chromium): the overview and the Data page."""

from __future__ import annotations

import pytest

from core import data
from tests.conftest import click, graph_traces, wait_until


def test_overview_and_data_pages_render_without_console_errors(dash_duo, app_factory):
    dash_duo.start_server(app_factory())
    dash_duo.wait_for_text_to_equal("h1", "Fashion-MNIST Studio", timeout=20)
    nav = dash_duo.find_element("#navbar").text
    for name in ("Overview", "Data", "Train", "Leaderboard", "Errors", "Grad-CAM"):
        assert name in nav

    dash_duo.driver.get(dash_duo.server_url + "/data")
    for graph_id in ("data-samples", "data-balance", "data-histogram", "data-meanstd", "data-embedding"):
        wait_until(lambda gid=graph_id: graph_traces(dash_duo, gid), timeout=40)
    balance = graph_traces(dash_duo, "data-balance")
    assert [t["n"] for t in balance] == [10, 10, 10]  # three splits x ten classes
    assert len(graph_traces(dash_duo, "data-meanstd")) == 2 * len(data.CLASS_NAMES)
    assert "60,000 training" in dash_duo.find_element("p.lead").text
    # the photo map is drawn as points a person sees (SVG), with or without a GPU, never a WebGL notice
    from core.data import explore

    shown = len(explore.embedding("pca")["index"])
    drawn = wait_until(
        lambda: dash_duo.driver.execute_script(
            "return document.querySelectorAll('#data-embedding .scatterlayer .point').length"
        ),
        timeout=30,
    )
    assert shown >= 1000 and drawn == shown
    assert "WebGL" not in dash_duo.find_element("#data-embedding").text
    assert dash_duo.get_logs() == []


def test_resample_draws_new_images(dash_duo, app_factory):
    dash_duo.start_server(app_factory())
    dash_duo.driver.get(dash_duo.server_url + "/data")
    before = wait_until(lambda: graph_traces(dash_duo, "data-samples"), timeout=40)[0]["customdata"]
    click(dash_duo, "#data-resample")
    after = wait_until(
        lambda: (lambda d: d and d[0]["customdata"] != before and d[0]["customdata"])(
            graph_traces(dash_duo, "data-samples")
        )
    )
    assert after != before
    assert dash_duo.get_logs() == []


def test_unknown_address_shows_the_404_page(dash_duo, app_factory):
    dash_duo.start_server(app_factory())
    dash_duo.driver.get(dash_duo.server_url + "/no-such-page")
    dash_duo.wait_for_text_to_equal("#not-found-title", "This page does not exist", timeout=20)


@pytest.mark.parametrize("mode", ["class"])
def test_histogram_per_class_toggle(dash_duo, app_factory, mode):
    dash_duo.start_server(app_factory())
    dash_duo.driver.get(dash_duo.server_url + "/data")
    wait_until(lambda: graph_traces(dash_duo, "data-histogram"), timeout=40)
    click(dash_duo, "#data-hist-mode input[value='class']")
    lines = wait_until(lambda: (lambda d: d if d and len(d) == 10 else None)(graph_traces(dash_duo, "data-histogram")))
    assert all(t["type"] == "scatter" for t in lines)


def test_the_log_axis_reads_in_powers_of_ten_and_buttons_look_clickable(dash_duo, app_factory):
    dash_duo.start_server(app_factory())
    dash_duo.driver.get(dash_duo.server_url + "/data")
    wait_until(lambda: graph_traces(dash_duo, "data-histogram"), timeout=40)
    ticks = wait_until(
        lambda: dash_duo.driver.execute_script(
            "return [...document.querySelectorAll('#data-histogram .ytick text')].map(t => t.textContent)"
        )
    )
    assert ticks and all(t.replace("\u2212", "-").startswith("10") for t in ticks), ticks  # not "2 5 1 2 5 10"
    assert "btn-primary" in dash_duo.find_element("#data-resample").get_attribute("class")
    sizes = dash_duo.driver.execute_script(
        "return [...document.querySelectorAll('#data-balance .bartext')].map(t => parseFloat(getComputedStyle(t).fontSize))"
    )
    assert sizes and min(sizes) >= 11.5


def test_curve_labels_stay_off_the_curves_and_optuna_axes_speak_plainly():
    from core.evaluation.analysis import overfitting
    from dashboard.figures.training import training_curves

    history = [
        {"epoch": e, "loss": 1 / e, "val_loss": v, "accuracy": 0.8, "val_accuracy": 0.8}
        for e, v in ((1, 0.5), (2, 0.4), (3, 0.45), (4, 0.5))
    ]
    fig = training_curves(history, overfitting(history))
    # the best epoch is named in the legend, never in a label over the curves or the panels' titles
    assert [t.name for t in fig.data if (t.name or "").startswith("best validation epoch")] == [
        "best validation epoch (2)"
    ]
    assert [a.text for a in fig.layout.annotations] == ["Loss (lower is better)", "Accuracy (higher is better)"]
    assert not any((t.text or "").startswith("best") for t in fig.data if t.text)
    assert fig.layout.margin.t >= 60  # room for the mode bar above the panel titles
