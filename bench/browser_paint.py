"""Browser-side timings: from navigation (or a click) to the result painted, in real Chromium.

The server-only benchmarks missed this: a gallery answered in 25-45 ms by the server could still
freeze the browser for seconds while it built thousands of components. Here a headless Chromium
(selenium, the same driver as the browser tests) loads each view from a real server process, and
in the page itself records when the awaited element exists (then one animation frame later, when
it has been painted) and the total time spent in long tasks (> 50 ms, PerformanceObserver).

    python -m bench.browser_paint [--project DIR] [--repeat 3]

`--project` serves another checkout (e.g. an older commit in a git worktree) with the same
reference runs, so before/after figures come from one run of one benchmark on one machine.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench.common import save
from core import paths

# the page script: resolve with {painted_ms, longtask_ms} once `selector` matches, measured from
# `since` (navigation start, or the click).
_WAIT = """
const [selector, since, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];
const started = since === 'click' ? window.__clickAt : 0;
function check() {
  if (document.querySelector(selector)) {
    requestAnimationFrame(() => setTimeout(() => {
      const painted = performance.now() - started;
      const tasks = (window.__longtasks || []).filter(t => t.startTime + t.duration >= started);
      done({painted_ms: painted, longtask_ms: tasks.reduce((s, t) => s + t.duration, 0),
            longest_task_ms: Math.max(0, ...tasks.map(t => t.duration))});
    }, 0));
  } else { setTimeout(check, 10); }
}
check();
"""
_OBSERVE = """
window.__longtasks = [];
new PerformanceObserver(list => window.__longtasks.push(...list.getEntries())).observe({type: 'longtask', buffered: true});
"""
# name -> (path, selector of the painted result, optional (graph id, x label, y label) to click first)
VIEWS = {
    "leaderboard": ("/leaderboard", ".ag-row .run-link, .ag-row [col-id='run_id']", None),
    "gradcam": ("/gradcam?run=ref-cnn&index=0", "#gradcam-overlay .main-svg", None),
    "errors": ("/errors?run=ref-cnn", "#errors-matrix .main-svg", None),
    "confusion_cell_gallery": (
        "/errors?run=ref-cnn",
        "#errors-gallery .thumb",
        ("errors-matrix", "T-shirt/top", "Shirt"),
    ),
    "disagreement_view": ("/errors?run=ref-cnn&compare=ref-svm", "#errors-disagree .thumb", None),
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(project: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "STUDIO_ARTIFACTS": str(paths.PROJECT_ROOT / "artifacts"), "PYTHONPATH": str(project)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboard", "--port", str(port)],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)
            time.sleep(15)  # let the start-up warm-up finish (embeddings, the default CNN)
            return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("the server did not start")


def _driver():
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1440,900"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options)
    driver.set_script_timeout(120)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _OBSERVE})
    return driver


def _click_cell(driver, graph: str, x: str, y: str) -> None:
    driver.execute_script(
        """
        const gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
        const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, box = gd.getBoundingClientRect();
        const px = box.left + xa._offset + xa.d2p(arguments[1]), py = box.top + ya._offset + ya.d2p(arguments[2]);
        const target = document.elementFromPoint(px, py);
        window.__clickAt = performance.now();
        for (const type of ['mousemove', 'mousedown', 'mouseup', 'click'])
          target.dispatchEvent(new MouseEvent(type, {bubbles: true, clientX: px, clientY: py}));""",
        graph,
        x,
        y,
    )


def measure(base: str, repeat: int) -> dict:
    driver = _driver()
    results = {}
    try:
        for name, (path, selector, click) in VIEWS.items():
            samples = []
            for _ in range(repeat):
                driver.get(base + path)
                if click:
                    driver.execute_async_script(_WAIT, f"#{click[0]} .main-svg", "navigation")
                    time.sleep(1.0)  # the matrix is drawn and idle
                    _click_cell(driver, *click)
                samples.append(driver.execute_async_script(_WAIT, selector, "click" if click else "navigation"))
            results[name] = {
                "from": "click" if click else "navigation start",
                "painted_ms_median": round(statistics.median(s["painted_ms"] for s in samples)),
                "longtask_ms_median": round(statistics.median(s["longtask_ms"] for s in samples)),
                "longest_task_ms_max": round(max(s["longest_task_ms"] for s in samples)),
                "samples": [{k: round(v) for k, v in s.items()} for s in samples],
            }
            print(name, results[name]["painted_ms_median"], "ms", flush=True)
    finally:
        driver.quit()
    return results


def main(project: Path | None = None, repeat: int = 3) -> dict:
    project = (project or paths.PROJECT_ROOT).resolve()
    port = _free_port()
    server = _serve(project, port)
    try:
        views = measure(f"http://127.0.0.1:{port}", repeat)
    finally:
        server.terminate()
        server.wait(timeout=30)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=project, capture_output=True, text=True)
    result = {"project_commit": commit.stdout.strip(), "repeat": repeat, "views": views}
    save(f"browser_paint_{result['project_commit'] or 'unknown'}", result)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, help="serve this checkout instead (same reference runs)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    main(args.project, args.repeat)
