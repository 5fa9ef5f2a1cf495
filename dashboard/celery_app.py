"""Celery for background callbacks when REDIS_URL is set (broker and result backend both Redis)."""

from __future__ import annotations

import functools
import os


@functools.lru_cache(maxsize=4)
def make_celery(redis_url: str):
    from celery import Celery

    app = Celery("fashion_mnist_studio", broker=redis_url, backend=redis_url)
    app.conf.update(
        broker_connection_retry_on_startup=True,
        task_track_started=True,
        worker_prefetch_multiplier=1,
        result_expires=3600,
    )
    return app


def celery_manager():
    """A Dash CeleryManager on the Celery app for $REDIS_URL."""
    from dash import CeleryManager

    return CeleryManager(make_celery(os.environ["REDIS_URL"]), expire=3600)
