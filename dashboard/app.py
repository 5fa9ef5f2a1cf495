"""The Dash application factory: pages, theme, background-callback manager and REST API.

Background callbacks (training from the browser) use a DiskcacheManager with its cache under
`artifacts/background-cache/`, or a CeleryManager when REDIS_URL is set (see dashboard.worker).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import dash
import dash_bootstrap_components as dbc
from dash import html

from core import paths

DASHBOARD_DIR = Path(__file__).resolve().parent


def background_manager():
    """Celery when REDIS_URL is set, else diskcache in artifacts/background-cache."""
    if os.environ.get("REDIS_URL"):
        from dashboard.celery_app import celery_manager

        return celery_manager()
    import diskcache
    from dash import DiskcacheManager

    cache_dir = paths.artifacts_dir() / "background-cache"
    cache_dir.mkdir(parents=True, exist_ok=True)
    return DiskcacheManager(diskcache.Cache(str(cache_dir)), expire=3600)


def navbar() -> dbc.Navbar:
    links = [
        dbc.NavItem(dbc.NavLink(page["name"], href=page["relative_path"], active="exact"))
        for page in dash.page_registry.values()
        if page.get("nav", True) and page["path"] != "/404"
    ]
    return dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand(
                    [
                        html.Img(src=dash.get_asset_url("logo.svg"), height="28px", className="me-2"),
                        "Fashion-MNIST Studio",
                    ],
                    href="/",
                ),
                dbc.Nav(links, navbar=True, className="ms-auto"),
            ],
            fluid=True,
        ),
        color="primary",
        dark=True,
        className="mb-3",
        id="navbar",
    )


# Every module a page, callback or API handler imports lazily. `preload()` imports them before the
# server accepts its first request, so no request thread ever races another on a half-imported
# module (seen: "partially initialized module 'pandas'" under concurrent first renders).
PRELOAD_MODULES = (
    "pandas",
    "PIL.Image",
    "PIL.ImageOps",
    "sklearn.metrics",
    "sklearn.decomposition",
    "sklearn.manifold",
    "sklearn.pipeline",
    "sklearn.linear_model",
    "sklearn.svm",
    "sklearn.neighbors",
    "sklearn.ensemble",
    "sklearn.neural_network",
    "sklearn.calibration",
    "sklearn.model_selection",
    "skops.io",
    "cleanlab.filter",
    "core.evaluation.labels",
    "core.data.explore",
    "core.evaluation.drilldown",
    "core.explain.gradcam",
    "core.models.loading",
    "core.data.upload",
    "core.training.progress",
    "core.evaluation.analysis",
    "core.data.images",
    "core.models.sklearn_models",
)
DEEP_MODULES = ("tensorflow", "keras", "core.models.keras_model", "core.models.keras_nets")


def preload(deep: bool = True) -> float:
    """Import everything requests may import (TensorFlow too when `deep`); returns seconds taken."""
    import importlib
    import time

    began = time.perf_counter()
    for name in PRELOAD_MODULES + (DEEP_MODULES if deep else ()):
        importlib.import_module(name)
    return time.perf_counter() - began


WARM_DONE = "warm-up finished"


def warm_up() -> None:
    """Fill the slow caches (dataset statistics, embeddings, the default CNN) in the background,
    so the first visitor of /data or /gradcam does not wait. Call `preload()` first: this thread
    then computes only, it imports nothing a request could be importing at the same moment.
    TensorFlow runs in the server process and its prediction worker (a spawned process, never a fork);
    trainings always run in fresh child processes."""
    import logging
    import threading
    import time

    def work():
        from core.data import explore

        began = time.perf_counter()
        try:
            explore.dataset_stats()
            explore.training_histogram()
            explore.per_class_histograms()
            explore.class_mean_std_images()
            for method in explore.EMBEDDING_METHODS:
                explore.embedding(method)
            from core.data import familiar

            familiar.warm()
            from core.models.loading import load_classifier
            from dashboard import runs_view, state

            run_id = runs_view.default_run("deep")
            if run_id:
                import numpy as np

                clf = load_classifier(run_id, state.store())
                clf.predict_proba(np.zeros((1, 28, 28, 1), dtype=np.float32))  # trace the fast path once
                from core.explain import faithfulness

                faithfulness.default_view(run_id, state.store(), compute=True)  # the most faithful map
        except Exception:
            logging.getLogger(__name__).exception("warm-up failed")
        # a line load tests (bench.load) wait for, so they measure the server as a later visitor finds it
        print(f"{WARM_DONE} in {time.perf_counter() - began:.1f} s", flush=True)

    threading.Thread(target=work, name="warm-up", daemon=True).start()


def _setup_once(app: dash.Dash) -> None:
    """Dash finishes its setup on the first request, in before-request hooks (`_setup_server`, and the
    pages router's `router_sync`) that mark themselves done before doing the work. Two first requests at
    once (a threaded server, a burst of uploads) could both start one ("dictionary changed size during
    iteration", a 500) or go on half set up (a callback list without the page router). Dash's hooks are
    replaced by one that runs them under a lock until they have all finished once."""
    dash_hooks = list(app.server.before_request_funcs.get(None, []))
    lock, done = threading.Lock(), threading.Event()

    def run_hooks():
        for hook in dash_hooks:
            answer = hook()
            if answer is not None:
                return answer
        return None

    def first_requests_wait_for_setup():
        if done.is_set():
            return run_hooks()  # each returns at once now
        with lock:
            answer = run_hooks()
            done.set()
            return answer

    app.server.before_request_funcs[None] = [first_requests_wait_for_setup]


def create_app(warm: bool = False, hosts: frozenset[str] | None = None) -> dash.Dash:
    """Build the app. Pages are imported by Dash from dashboard/pages (use_pages=True).

    `warm=True` (what `python -m dashboard` uses) fills slow caches in a background thread.
    `hosts`: the Host names the server answers to (default: loopback only; see dashboard.security).
    """
    app = dash.Dash(
        __name__,
        use_pages=True,
        pages_folder=str(DASHBOARD_DIR / "pages"),
        assets_folder=str(paths.PROJECT_ROOT / "assets"),
        background_callback_manager=background_manager(),
        suppress_callback_exceptions=True,
        title="Fashion-MNIST Studio",
        update_title=None,  # type: ignore[arg-type]  # documented: None keeps the title while updating
    )
    app.layout = html.Div([navbar(), dbc.Container(dash.page_container, fluid=True, className="pb-5")])
    _setup_once(app)
    from dashboard import api, callback_guard, security

    security.install(
        app.server, hosts or security.allowed_hosts(), lambda: security.content_security_policy(app.csp_hashes())
    )
    callback_guard.install(app.server, lambda: {**dash.get_app().callback_map, **app.callback_map})
    api.register(app.server)
    if warm:
        preload()
        warm_up()
    return app
