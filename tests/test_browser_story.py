"""Story mode in a real browser at a laptop's 1280x720 and a projector's 1920x1080: every slide fits
(no scrollbar, no text cut), its picture is drawn, the arrow keys move between slides (each with its
own address), and the console stays clean."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from tests.conftest import click, wait_until

FITS = """
const vw = innerWidth, vh = innerHeight, root = document.documentElement;
const cut = [...document.querySelectorAll('.story-root h1, .story-root li, .story-root figcaption, .story-source,'
  + ' .story-terms, .story-foot .btn, #story-progress')]
  .filter(e => e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1
    || e.getBoundingClientRect().right > vw + 0.5 || e.getBoundingClientRect().bottom > vh + 0.5)
  .map(e => (e.id || e.tagName) + ': ' + e.textContent.slice(0, 40));
const column = document.querySelector('.story-text');
if (!column) return null;  // still loading
const box = column.getBoundingClientRect();  // it clips what runs past it
[...document.querySelectorAll('.story-text li, .story-text a, .story-terms')]
  .filter(e => e.getBoundingClientRect().bottom > box.bottom + 0.5)
  .forEach(e => cut.push('past the text column: ' + e.textContent.slice(0, 40)));
const drawn = document.querySelectorAll('#story-figure .main-svg').length > 0
  || ([...document.querySelectorAll('#story-gallery img')].length > 0
      && [...document.querySelectorAll('#story-gallery img')].every(i => i.complete && i.naturalWidth > 0));
const list = document.querySelector('.story-text ul'), item = document.querySelector('.story-text li');
if (list && item && parseFloat(getComputedStyle(list).paddingLeft) < 1.1 * parseFloat(getComputedStyle(item).fontSize))
  cut.push('bullets: the list leaves no room for its markers');
[...document.querySelectorAll('.story-foot .dash-dropdown *')]
  .filter(e => e.children.length === 0 && e.textContent.includes('·') && e.scrollWidth > e.clientWidth + 1)
  .forEach(e => cut.push('run picker: ' + e.textContent.slice(0, 40)));
const progress = document.querySelector('#story-progress');
return {scroll: root.scrollWidth > vw || root.scrollHeight > vh, cut: cut, drawn: drawn, path: location.pathname,
  progress: progress ? progress.textContent : '', sentences: document.querySelectorAll('#story-sentences li').length,
  source: (document.querySelector('#story-source') || {}).textContent || ''};
"""


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_every_slide_fits_and_the_arrow_keys_move_through_them(dash_duo, app_factory, with_reference_runs, size):
    dash_duo.start_server(app_factory())
    width, height = size
    dash_duo.driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )
    dash_duo.driver.get(dash_duo.server_url + "/story")
    first = wait_until(lambda: (lambda s: s if s and s["progress"] else None)(dash_duo.driver.execute_script(FITS)), 60)
    total = int(first["progress"].split("/")[1].split()[0])
    assert 7 <= total <= 9
    for number in range(1, total + 1):
        state = wait_until(
            lambda n=number: (lambda s: s if s and s["drawn"] and s["progress"].startswith(f"{n} / {total}") else None)(
                dash_duo.driver.execute_script(FITS)
            ),
            timeout=60,
        )
        assert not state["scroll"], (size, number)
        assert state["cut"] == [], (size, number, state["cut"])
        assert number == 1 or state["path"] == f"/story/{number}"
        assert 1 <= state["sentences"] <= 3 and state["source"].startswith("Source:")
        if number < total:
            ActionChains(dash_duo.driver).send_keys(Keys.ARROW_RIGHT).perform()
    ActionChains(dash_duo.driver).send_keys(Keys.ARROW_LEFT).perform()
    wait_until(lambda: dash_duo.driver.execute_script("return location.pathname") == f"/story/{total - 1}")
    assert dash_duo.get_logs() == []


def test_a_slide_that_does_not_exist_moves_the_address_to_the_nearest_one_and_a_study_run_is_told(
    dash_duo, app_factory, with_reference_runs
):
    dash_duo.start_server(app_factory())
    dash_duo.driver.get(dash_duo.server_url + "/story/99")
    first = wait_until(lambda: (lambda s: s if s and s["progress"] else None)(dash_duo.driver.execute_script(FITS)), 60)
    total = int(first["progress"].split("/")[1].split()[0])
    wait_until(lambda: dash_duo.driver.execute_script("return location.pathname") == f"/story/{total}", timeout=20)
    note = wait_until(lambda: dash_duo.find_element("#story-corrected").text, timeout=20)
    assert f"There is no slide 99: here is slide {total}" in note
    dash_duo.driver.get(dash_duo.server_url + "/story/abc?run=ref-svm")
    wait_until(
        lambda: (
            dash_duo.driver.execute_script("return location.pathname + location.search")
            == "/story/1?run=ref-svm&asked=abc"
        ),
        timeout=30,
    )
    assert "There is no slide “abc”" in wait_until(lambda: dash_duo.find_element("#story-corrected").text, timeout=20)
    # a study run's story is told on validation: its own slide says so, drawn and not cut
    dash_duo.driver.get(dash_duo.server_url + "/story/4?run=ref-ablation-width-s1")
    state = wait_until(
        lambda: (lambda s: s if s and s["drawn"] and s["progress"].startswith("4 / 5") else None)(
            dash_duo.driver.execute_script(FITS)
        ),
        timeout=60,
    )
    assert state["cut"] == [] and not state["scroll"]
    assert dash_duo.find_element("#story-title").text == "A study run: judged on validation only"
    said = dash_duo.find_element("#story-sentences").text
    assert "validation photos only" in said and "test mistakes" in said
    assert dash_duo.get_logs() == []


CLICKABLE = """
const out = {};
for (const id of ['story-download', 'story-pdf', 'story-exit', 'story-next']) {
  const e = document.getElementById(id);
  if (!e) { out[id] = 'missing'; continue; }
  const r = e.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  out[id] = hit && (hit === e || e.contains(hit)) ? 'ok' : 'covered by ' + (hit ? (hit.id || hit.className) : 'nothing');
}
const picker = document.querySelector('#story-run');
out.picker = picker ? picker.textContent : '';
return out;
"""


@pytest.fixture()
def with_a_user_run(reference_artifacts, quick_store, tmp_path, monkeypatch):
    """The reference runs (hard links) and a user's 2 000-photo ResNet run (quick-resnet), in a private store."""
    import shutil
    import subprocess

    root = tmp_path / "artifacts"
    subprocess.run(["cp", "-al", str(reference_artifacts), str(root)], check=True)
    for stale in root.glob("index*"):
        stale.unlink()
    shutil.copytree(quick_store.path("quick-resnet"), root / "runs" / "quick-resnet")
    monkeypatch.setenv("STUDIO_ARTIFACTS", str(root))
    return root


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_the_report_button_downloads_the_run_on_screen_and_nothing_covers_it(
    dash_duo, app_factory, with_a_user_run, size
):
    from pathlib import Path

    from core.store import RunStore

    record = RunStore(with_a_user_run / "runs").get("quick-resnet")
    dash_duo.start_server(app_factory())
    width, height = size
    dash_duo.driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )
    for slide in (2, 7):  # the slides whose long source lines pushed the picker over the buttons
        dash_duo.driver.get(f"{dash_duo.server_url}/story/{slide}?run=ref-preset-best")
        state = wait_until(
            lambda: (lambda s: s if s and s["drawn"] else None)(dash_duo.driver.execute_script(FITS)), 60
        )
        assert state["cut"] == [], (size, slide, state["cut"])
        found = dash_duo.driver.execute_script(CLICKABLE)
        assert {k: v for k, v in found.items() if k != "picker"} == dict.fromkeys(
            ("story-download", "story-pdf", "story-exit", "story-next"), "ok"
        ), (size, slide, found)
    if size != (1280, 720):
        assert dash_duo.get_logs() == []
        return  # the download itself is checked once, at the laptop's size
    dash_duo.driver.get(dash_duo.server_url + "/story/2?run=quick-resnet")
    wait_until(lambda: (lambda s: s if s and s["drawn"] else None)(dash_duo.driver.execute_script(FITS)), 60)
    found = wait_until(
        lambda: (lambda f: f if "quick-resnet" in f["picker"] else None)(dash_duo.driver.execute_script(CLICKABLE)), 30
    )
    assert found["story-download"] == "ok", found  # the picker shows the unranked run on screen
    click(dash_duo, "#story-download")
    path = Path(dash_duo.download_path) / "fashion-mnist-report-quick-resnet.html"
    wait_until(path.exists, timeout=60)
    wait_until(lambda: path.read_text(encoding="utf-8").rstrip().endswith("</html>"), timeout=20)
    page = path.read_text(encoding="utf-8")
    assert f'<b id="headline-accuracy">{100 * record["metrics"]["test_accuracy"]:.2f} %</b>' in page
    assert not list(Path(dash_duo.download_path).glob("fashion-mnist-report-ref-*"))  # not the best run's report
    assert dash_duo.get_logs() == []
