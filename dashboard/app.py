"""The Dash application factory: pages, theme, background-callback manager and REST API.

Background callbacks (training from the browser) use a DiskcacheManager with its cache under
`artifacts/background-cache/`, or a CeleryManager when REDIS_URL is set (see dashboard.worker).
"""

from __future__ import annotations

import os
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
    links = [dbc.NavItem(dbc.NavLink(page["name"], href=page["relative_path"], active="exact"))
             for page in dash.page_registry.values() if page.get("nav", True) and page["path"] != "/404"]
    return dbc.Navbar(
        dbc.Container([
            dbc.NavbarBrand([html.Img(src=dash.get_asset_url("logo.svg"), height="28px", className="me-2"),
                             "Fashion-MNIST Studio"], href="/"),
            dbc.Nav(links, navbar=True, className="ms-auto"),
        ], fluid=True),
        color="primary", dark=True, className="mb-3", id="navbar",
    )


def warm_up() -> None:
    """Fill the slow caches (dataset statistics, embeddings, the default CNN) in the background,
    so the first visitor of /data or /gradcam does not wait. TensorFlow is imported here, in the
    server process only; trainings always run in fresh child processes."""
    import logging
    import threading

    def work():
        from core import explore

        try:
            explore.dataset_stats()
            explore.training_histogram()
            explore.per_class_histograms()
            explore.class_mean_std_images()
            for method in explore.EMBEDDING_METHODS:
                explore.embedding(method)
            from core.inference import load_classifier
            from dashboard import runs_view, state

            run_id = runs_view.default_run("deep")
            if run_id:
                load_classifier(run_id, state.store())
        except Exception:  # noqa: BLE001 - warm-up is best effort; pages report real errors themselves
            logging.getLogger(__name__).exception("warm-up failed")

    threading.Thread(target=work, name="warm-up", daemon=True).start()


def create_app(warm: bool = False) -> dash.Dash:
    """Build the app. Pages are imported by Dash from dashboard/pages (use_pages=True).

    `warm=True` (what `python -m dashboard` uses) fills slow caches in a background thread.
    """
    app = dash.Dash(
        __name__,
        use_pages=True,
        pages_folder=str(DASHBOARD_DIR / "pages"),
        assets_folder=str(paths.PROJECT_ROOT / "assets"),
        background_callback_manager=background_manager(),
        suppress_callback_exceptions=True,
        title="Fashion-MNIST Studio",
        update_title=None,
    )
    app.layout = html.Div([navbar(), dbc.Container(dash.page_container, fluid=True, className="pb-5")])
    from dashboard import api

    api.register(app.server)
    if warm:
        warm_up()
    return app
