"""The story as one self-contained HTML file (and a PDF printed from it by headless Chromium).

The HTML inlines plotly.js once and embeds every photo as a data URI, so it opens anywhere and makes
no network request: a summary for managers first, then one section per slide (the same sentences and
figures as the live story), then "how these numbers were made".
"""

from __future__ import annotations

import html
import shutil
import subprocess
import tempfile
from pathlib import Path

from core.store import RunStore
from core.story import slides as story_slides
from core.story import summary
from core.story.parts import Slide, Story

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PDF_TIMEOUT_S = 120
STYLE = """
body { font-family: system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif; color: #2c3e50;
       max-width: 1100px; margin: 0 auto; padding: 24px; line-height: 1.45; }
h1 { font-size: 2rem; margin-bottom: .2rem; } h2 { font-size: 1.5rem; margin: 0 0 .6rem; }
.summary { font-size: 1.1rem; background: #eafaf5; border-left: 5px solid #18bc9c; padding: 12px 16px; }
section.slide { page-break-before: always; break-before: page; padding-top: 8px; }
.slide ul { font-size: 1.05rem; } .terms { color: #555; font-size: .9rem; }
.figure { height: 460px; } .source { color: #7b8a8b; font-size: .8rem; margin-top: 4px; }
.gallery { display: grid; grid-template-columns: repeat(6, 1fr); gap: 8px; }
.gallery figure { margin: 0; text-align: center; font-size: .75rem; }
.gallery img { width: 100%; image-rendering: pixelated; background: #000; }
table { border-collapse: collapse; font-size: .8rem; width: 100%; } td, th { border: 1px solid #ddd; padding: 3px 6px;
  text-align: left; vertical-align: top; } code { font-size: .75rem; word-break: break-all; }
@media print { body { max-width: none; } .figure { height: 420px; } .modebar-container { display: none !important; } }
"""


def _slide_html(index: int, slide: Slide) -> str:
    parts = [f'<section class="slide" id="slide-{index}"><h2>{index}. {html.escape(slide.title)}</h2>', "<ul>"]
    parts += [f"<li>{html.escape(s)}</li>" for s in slide.sentences]
    parts.append("</ul>")
    if slide.terms:
        terms = "; ".join(f"<b>{html.escape(t)}</b>: {html.escape(m)}" for t, m in slide.terms.items())
        parts.append(f'<p class="terms">{terms}</p>')
    if slide.figure is not None:
        import plotly.io as pio

        parts.append(
            '<div class="figure">'
            + pio.to_html(
                slide.figure,
                include_plotlyjs=False,
                full_html=False,
                default_height="100%",
                config={"displaylogo": False, "responsive": True},
            )
            + "</div>"
        )
    if slide.gallery:
        parts.append('<div class="gallery">')
        parts += [
            f'<figure><img src="{g["src"]}" alt="{html.escape(g["caption"])}"><figcaption>'
            f"{html.escape(g['caption'])}</figcaption></figure>"
            for g in slide.gallery
        ]
        parts.append("</div>")
    parts.append(f'<p class="source">{html.escape(slide.source)}</p></section>')
    return "\n".join(parts)


def _appendix_html(facts: dict) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(r['run_id'])}</td><td>{html.escape(str(r['model']))}</td>"
        f"<td><code>{html.escape(r['command'])}</code></td><td>{html.escape(r['source_version'])}</td>"
        f"<td>{html.escape(r['machine'])}</td><td>{html.escape(r['recorded'])}</td></tr>"
        for r in facts["runs"]
    )
    files = "".join(
        f"<tr><td>{html.escape(f['file'])}</td><td><code>{f['sha256']}</code></td></tr>" for f in facts["dataset"]
    )
    choices = "".join(f"<li>{html.escape(c)}</li>" for c in facts["choices"])
    return (
        '<section class="slide" id="appendix"><h2>How these numbers were made</h2>'
        f"<h3>Data</h3><p>{html.escape(facts['split'])}</p>"
        f"<table><tr><th>file</th><th>sha256 of the decompressed file</th></tr>{files}</table>"
        f"<h3>Which split chose what</h3><ul>{choices}</ul>"
        "<h3>Runs</h3><table><tr><th>run</th><th>model</th><th>command</th><th>source version</th>"
        f"<th>machine</th><th>recorded</th></tr>{rows}</table>"
        f'<p class="source">Exported on {html.escape(facts["exported_on"])}.</p></section>'
    )


def _headline(head: dict) -> str:
    """The test accuracy with its interval; for a run never scored on the test photos, its validation
    accuracy, named as such."""
    if head.get("test_accuracy") is None:
        value = head.get("validation_accuracy")
        shown = f"{100 * value:.2f} %" if value is not None else "not recorded"
        return (
            f'Headline: validation accuracy <b id="headline-accuracy">{shown}</b> (a study run: never scored '
            "on the test photos, so not ranked)."
        )
    return (
        f'Headline: test accuracy <b id="headline-accuracy">{100 * head["test_accuracy"]:.2f} %</b> (95 % interval '
        f"{html.escape(head['interval'])})."
    )


def render(story: Story, facts: dict) -> str:
    """The whole report as one HTML string."""
    from plotly.offline import get_plotlyjs

    head = story.headline
    slides_html = "\n".join(_slide_html(i, s) for i, s in enumerate(story.slides, start=1))
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Fashion-MNIST Studio report: {html.escape(head['run_id'])}</title>"
        f"<style>{STYLE}</style><script>{get_plotlyjs()}</script></head><body>"
        "<h1>Fashion-MNIST Studio: what the evidence says</h1>"
        f'<p class="source">About run {html.escape(head["run_id"])} ({html.escape(str(head["label"]))}), recorded '
        f"{html.escape(head['recorded'])}. {_headline(head)}</p>"
        f'<p class="summary" id="summary">{html.escape(story.summary)}</p>'
        f"{slides_html}{_appendix_html(facts)}</body></html>"
    )


def write_html(out: Path, run_id: str | None = None, store: RunStore | None = None) -> Story:
    """Build the story and write the report to `out` (atomically); returns the story."""
    from core.store import atomic

    store = store or RunStore()
    story = story_slides.build(run_id, store)
    text = render(story, summary.appendix(store, story))
    atomic.write_bytes(Path(out), text.encode("utf-8"))
    return story


def chromium() -> str | None:
    """The headless browser that prints the PDF, when one is installed."""
    return next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)


def write_pdf(html_path: Path, pdf_path: Path) -> None:
    """Print the HTML report to PDF with headless Chromium (RuntimeError when it is missing or fails)."""
    browser = chromium()
    if browser is None:
        raise RuntimeError(
            "no Chromium here to print the PDF: install it (Debian: apt-get install chromium), or open the HTML "
            "report in any browser and print it to PDF"
        )
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--no-first-run",
                f"--user-data-dir={profile}",
                "--no-pdf-header-footer",
                "--run-all-compositor-stages-before-draw",
                "--virtual-time-budget=20000",
                f"--print-to-pdf={Path(pdf_path).resolve()}",
                Path(html_path).resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=PDF_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
    if done.returncode != 0 or not Path(pdf_path).exists():
        raise RuntimeError(f"Chromium could not print the PDF: {done.stderr.strip()[-300:]}")
