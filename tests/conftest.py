"""Shared fixtures: a private artifacts folder per test session, the real dataset, helpers.

Tests never write into the project's artifacts/: STUDIO_ARTIFACTS points at a temporary folder
(the committed reference runs are read through `reference_store`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from core.store import RunStore  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def private_artifacts(tmp_path_factory) -> Path:
    """Every test session gets its own artifacts root (runs, caches)."""
    root = tmp_path_factory.mktemp("artifacts")
    os.environ["STUDIO_ARTIFACTS"] = str(root)
    os.environ.setdefault("FASHION_MNIST_NO_DOWNLOAD", "1")
    return root


def _in_progress(run: Path) -> bool:
    import json

    try:
        return json.loads((run / "run.json").read_text()).get("status") in ("queued", "running")
    except (OSError, ValueError):
        return False


@pytest.fixture(scope="session")
def reference_artifacts(tmp_path_factory) -> Path:
    """A private artifacts root holding a copy of the committed reference runs (for page tests)."""
    import shutil

    root = tmp_path_factory.mktemp("reference-artifacts")
    for run in (PROJECT_ROOT / "artifacts" / "runs").glob("ref-*"):
        if _in_progress(run):  # a reference study still training in this checkout: not a committed run yet
            continue
        shutil.copytree(run, root / "runs" / run.name, ignore=shutil.ignore_patterns("logs", ".lock"))
    (root / "ablations").mkdir()
    for plan in (PROJECT_ROOT / "artifacts" / "ablations").glob("ref-*.json"):  # the reference ablation study
        shutil.copy(plan, root / "ablations" / plan.name)
    (root / "races").mkdir()
    for plan in (PROJECT_ROOT / "artifacts" / "races").glob("ref-*.json"):  # the reference race
        shutil.copy(plan, root / "races" / plan.name)
    return root


def shared_folder(tmp_path_factory, name: str, build) -> Path:
    """A folder built once per test session and shared by its workers (pytest-xdist): the first to
    ask builds it, `build(folder)`, under a file lock; the others wait for it and reuse it. Tests read
    it; a test that changes what is inside copies it first."""
    import fcntl

    base = tmp_path_factory.getbasetemp()
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / f"shared-{name}"
    with open(root.with_suffix(".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        if not (root / ".built").exists():
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir(parents=True)
            build(root)
            (root / ".built").touch()
    return root


def _build_tiny_studies(root: Path) -> None:
    env = {"STUDIO_ARTIFACTS": str(root)}
    common = ["--preset", "demo", "--budgets", "1x300,2x300", "--seeds", "2", "--only", "batchnorm"]
    for extra in (["--name", "multi"], ["--name", "fact", "--design", "factorial"]):
        done = run_cli("ablate", *common, *extra, "--json", env=env, timeout=900)
        assert done.returncode == 0, done.stderr[-2000:]


@pytest.fixture(scope="session")
def tiny_studies(tmp_path_factory) -> Path:
    """An artifacts root with two small real ablation studies of the demo preset on 300 photos: `multi`
    (BatchNorm at two budgets, 1 and 2 epochs, 2 seeds: 8 runs) and `fact` (BatchNorm and the epochs in
    a full two-level factorial design, 2 seeds: 8 runs). Built once per session."""
    return shared_folder(tmp_path_factory, "tiny-studies", _build_tiny_studies)


# which worker builds which shared folder before its first test (pytest-xdist workers gw0, gw1)
BUILT_FIRST = {"gw0": "tiny_studies", "gw1": "quick_folder"}


@pytest.fixture(scope="session", autouse=True)
def shared_folders_built_first(request):
    """With two workers, each builds one of the two shared folders before its first test, side by
    side on the two cores, so that no worker later sits idle waiting for the other to finish one (a
    worker's TensorFlow uses one thread: see the Makefile). Only when some collected test uses it."""
    name = BUILT_FIRST.get(os.environ.get("PYTEST_XDIST_WORKER", ""))
    if name and any(name in item.fixturenames for item in request.session.items):
        request.getfixturevalue(name)


@pytest.fixture()
def with_reference_runs(reference_artifacts, monkeypatch) -> Path:
    """Point the app (STUDIO_ARTIFACTS) at the reference-run copy for this test."""
    monkeypatch.setenv("STUDIO_ARTIFACTS", str(reference_artifacts))
    return reference_artifacts


def _build_quick_runs(root: Path) -> None:
    import pickle

    from core import training
    from tests.quick_runs import QUICK

    store = RunStore(root / "runs")
    events: dict[str, list] = {}
    records = {}
    for name, config in QUICK.items():
        events[name] = []
        records[name] = training.train(config, run_id=f"quick-{name}", store=store, emit=events[name].append)
    (root / "quick.pickle").write_bytes(pickle.dumps({"records": records, "events": events}))


@pytest.fixture(scope="session")
def quick_folder(tmp_path_factory) -> Path:
    return shared_folder(tmp_path_factory, "quick", _build_quick_runs)


@pytest.fixture(scope="session")
def quick_store(quick_folder) -> RunStore:
    """The store of the quick runs (tests/quick_runs.py); tests that change a run copy it first."""
    return RunStore(quick_folder / "runs")


@pytest.fixture(scope="session")
def quick_runs(quick_folder) -> dict[str, dict]:
    """Every model kind trained once on a small real subset: {"records": {name: record}, "events":
    {name: [progress events]}}, run ids `quick-NAME`. Built once per session."""
    import pickle

    return pickle.loads((quick_folder / "quick.pickle").read_bytes())


@pytest.fixture()
def store(tmp_path) -> RunStore:
    """An empty run store of the test's own."""
    return RunStore(tmp_path / "runs")


@pytest.fixture(scope="session")
def reference_store(reference_artifacts) -> RunStore:
    """The committed reference runs only (a copy): never the user's own runs in artifacts/."""
    return RunStore(reference_artifacts / "runs")


def linked_store(root: Path, copies: int) -> RunStore:
    """A store of `copies` × the committed reference runs under `root`: hard links to their files under
    new ids (`c<k>-<id>`), so every run is real and valid and nothing is copied."""
    root.mkdir(parents=True)
    sources = sorted(
        p
        for p in (PROJECT_ROOT / "artifacts" / "runs").glob("ref-*")
        if (p / "run.json").is_file() and not _in_progress(p)
    )
    for k in range(copies):
        for source in sources:
            folder = root / f"c{k:02d}-{source.name}"
            folder.mkdir()
            for f in source.iterdir():
                if f.is_file():
                    os.link(f, folder / f.name)
    return RunStore(root)


def completed_run(
    store: RunStore, run_id: str, accuracy: float = 0.8, model: str = "logreg", family: str = "classic", seed: int = 0
) -> dict:
    """A schema-valid completed run whose predictions are on the real test labels (right on about
    `accuracy` of them), metrics computed by the real metrics code. No training involved."""
    from core import data
    from core.evaluation import metrics

    y_test = data.load().y_test
    rng = np.random.default_rng(seed)
    wrong = rng.random(len(y_test)) > accuracy
    y_pred = np.where(wrong, (y_test + rng.integers(1, 10, len(y_test))) % 10, y_test)
    proba = np.full((len(y_test), 10), 0.02, dtype=np.float32)
    proba[np.arange(len(y_test)), y_pred] = 0.82
    with store.open_run(run_id, {"model": model, "label": model.upper(), "family": family, "config": {}}):
        store.append_history(run_id, {"epoch": 1, "loss": 1.0})
        store.save_predictions(run_id, y_test, proba)
        return store.update(
            run_id, status="completed", metrics=metrics.evaluate(y_test, proba), timings={"train_seconds": 1.0}
        )


REFERENCE_ENV = {"STUDIO_ARTIFACTS": str(PROJECT_ROOT / "artifacts")}  # read the committed reference runs


def run_cli(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """`python -m core ARGS` in a child process (real CLI, real exit status)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "core", *args],
        cwd=PROJECT_ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def pytest_setup_options():
    """Chromium options for dash[testing]: Debian's chromium, headless-safe, no background traffic."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    if os.path.exists("/usr/bin/chromium"):
        options.binary_location = "/usr/bin/chromium"
    for flag in (
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    return options


@pytest.fixture()
def app_factory():
    """Build a fresh dashboard app (pages, callbacks, API) for a browser test."""
    from dashboard.app import create_app

    return create_app


def click(dash_duo, selector: str):
    """Scroll an element to the middle of the window, then click it like a user. An element Dash
    re-rendered between finding and clicking it (stale) is found again: a person clicks what is there."""
    import time

    from selenium.common.exceptions import StaleElementReferenceException

    deadline = time.time() + 20
    while True:
        element = dash_duo.wait_for_element(selector, timeout=20)
        try:
            dash_duo.driver.execute_script(
                "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", element
            )
            element.click()
            return element
        except StaleElementReferenceException:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def wait_until(predicate, timeout: float = 20.0, interval: float = 0.2):
    """Poll `predicate` until it returns something truthy; that value is returned. An element that
    Dash re-rendered between finding and reading it (stale) counts as "not yet"."""
    import time

    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            value = predicate()
        except (StaleElementReferenceException, NoSuchElementException):
            value = None
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


def graph_traces(dash_duo, graph_id: str):
    """Summary of the traces a dcc.Graph has drawn in the browser (None before it renders)."""
    return dash_duo.driver.execute_script(
        "const el = document.querySelector('#' + CSS.escape(arguments[0]) + ' .js-plotly-plot');"
        "return el && el.data ? el.data.map(t => ({type: t.type, name: t.name || null,"
        " n: (t.x || t.z || []).length, customdata: t.customdata ? JSON.stringify(t.customdata).slice(0, 4000)"
        " : null})) : null;",
        graph_id,
    )


def click_plot_point(dash_duo, graph_id: str, x, y) -> None:
    """A real mouse click at data coordinates (x, y) of a dcc.Graph's first axes (a heatmap cell, a dot)."""
    from selenium.webdriver.common.action_chains import ActionChains

    geometry = dash_duo.driver.execute_script(
        """
        const gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
        gd.scrollIntoView({block: 'center', behavior: 'instant'});
        const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
        const box = gd.getBoundingClientRect();
        return {x: box.left + xa._offset + xa.d2p(arguments[1]), y: box.top + ya._offset + ya.d2p(arguments[2])};""",
        graph_id,
        x,
        y,
    )
    ActionChains(dash_duo.driver).move_to_location(int(geometry["x"]), int(geometry["y"])).click().perform()


# -- running on several workers (pytest-xdist, `make test` runs two) --------------------------------
# Each test module runs whole on one worker (--dist loadfile); the expensive session folders (the
# quick runs, the tiny studies) are built once and shared (shared_folder).


def pytest_configure(config):
    """Browser tests' Dash servers get ports of their own on each worker (dash.testing counts up from
    one fixed port in every process)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if worker.startswith("gw") and worker[2:].isdigit():
        from dash.testing.application_runners import BaseDashRunner

        BaseDashRunner._next_port = 58050 + 1000 * int(worker[2:])
