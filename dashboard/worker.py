"""Celery worker entry point: `REDIS_URL=redis://127.0.0.1:6379/0 celery -A dashboard.worker worker`.

Importing this module builds the Dash app once, which registers every page's background callback
as a Celery task under the same name the web server uses.
"""

from __future__ import annotations

import os

os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")

from dashboard.app import create_app
from dashboard.celery_app import make_celery

celery_app = make_celery(os.environ["REDIS_URL"])
dash_app = create_app()  # registers the background callbacks as tasks of celery_app
