"""The self-contained report: `python -m core report` writes one HTML file with the story's figures and
photos that opens in headless Chromium with the network blocked and requests nothing; its headline
numbers are those of `core runs show`; where Chromium is installed, the PDF has a page per slide."""

from __future__ import annotations

import json
import time

import pytest

from core.story import report
from tests.conftest import run_cli, wait_until


@pytest.fixture(scope="module")
def exported(reference_artifacts, tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    env = {"STUDIO_ARTIFACTS": str(reference_artifacts)}
    pdf = ["--pdf", str(folder / "report.pdf")] if report.chromium() else []
    started = time.perf_counter()
    done = run_cli("report", "--out", str(folder / "report.html"), *pdf, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    print(f"report exported in {time.perf_counter() - started:.1f} s: {done.stdout.strip()}")
    listed = json.loads(run_cli("runs", "list", "--json", env=env).stdout)
    top = max((r for r in listed if r["status"] == "completed"), key=lambda r: r["test_accuracy"])["run_id"]
    shown = json.loads(run_cli("runs", "show", top, "--json", env=env).stdout)  # the report's default run
    return folder, shown, done.stdout


def test_the_report_headline_is_what_runs_show_says(exported):
    folder, shown, stdout = exported
    text = (folder / "report.html").read_text(encoding="utf-8")
    accuracy = f"{100 * shown['metrics']['test_accuracy']:.2f} %"
    low, high = shown["metrics"]["test_accuracy_ci95"]
    assert f'<b id="headline-accuracy">{accuracy}</b>' in text and accuracy in stdout
    assert f"{100 * low:.2f}–{100 * high:.2f} %" in text
    assert "How these numbers were made" in text and "c59f468a2f672dc8" in text  # dataset checksum
    assert shown["produced_by"]["command"] in text  # each run's command


def test_the_reports_technique_sentences_name_their_budget(exported, reference_artifacts, monkeypatch):
    """What the report says about techniques comes only from a finished full-budget study, and every such
    sentence names the budget; the 4-epoch study's verdicts never appear as claims."""
    import html

    from core.ablation import claims, results, study, wording

    monkeypatch.setenv("STUDIO_ARTIFACTS", str(reference_artifacts))
    folder, _shown, _stdout = exported
    text = html.unescape((folder / "report.html").read_text(encoding="utf-8"))
    short = study.summary("ref-ablation")
    for v in short["variants"]:
        assert v["claim"] not in text
    cited = results.cited_study()
    if cited is None:
        assert "No study at the budget people train at" in text
    else:
        scope = wording.scope_words(cited)  # a factorial study crosses epochs: "8 and 24 epochs on …"
        assert scope in text and f"ablation study {cited['study']}" in text
        assert f"In a controlled study of {claims.recipe_words(cited)} at {scope}" in text


def test_the_report_renders_offline_and_requests_nothing(exported, dash_duo):
    folder, _shown, _stdout = exported
    driver = dash_duo.driver
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["http://*", "https://*", "ws://*", "wss://*"]})
    driver.get((folder / "report.html").as_uri())
    state = wait_until(
        lambda: (lambda s: s if s["drawn"] == s["figures"] and s["figures"] else None)(
            driver.execute_script(
                "return {figures: document.querySelectorAll('.js-plotly-plot').length,"
                " drawn: [...document.querySelectorAll('.js-plotly-plot')].filter(p => p.querySelector('.main-svg')).length,"
                " images: [...document.images].map(i => i.complete && i.naturalWidth > 0),"
                " requests: performance.getEntriesByType('resource').map(e => e.name)}"
            )
        ),
        timeout=60,
    )
    assert state["figures"] >= 5 and all(state["images"]) and len(state["images"]) >= 20
    assert state["requests"] == []  # nothing leaves the file: plotly.js and photos are inside it
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    shown_bars = driver.execute_script(
        "return [...document.querySelectorAll('.modebar-container')].filter(m => getComputedStyle(m).display !== 'none')"
        ".length"
    )
    assert shown_bars == 0  # printed (and the PDF): no Plotly toolbar over the charts


@pytest.mark.skipif(report.chromium() is None, reason="no Chromium to print the PDF (make test installs it)")
def test_the_pdf_has_a_page_per_slide_and_the_headline_as_text(exported):
    import pypdf

    folder, shown, _stdout = exported
    reader = pypdf.PdfReader(folder / "report.pdf")
    text = "".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) >= 8  # the title, the slides (each starts a page) and the appendix
    assert f"{100 * shown['metrics']['test_accuracy']:.2f} %" in text
