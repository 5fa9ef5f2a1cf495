"""Server time to render each page (the Dash Pages routing callback), cold and warm.

"cold" is the first request in a fresh process (data loading, caches filled); with
`--clear-cache` the on-disk statistics cache is emptied first, as on a brand-new checkout; with
`--warm-up` the app's start-up warm-up (what `python -m dashboard` does) finishes first.
"""

from __future__ import annotations

import os
import shutil
import sys
import time

from bench.common import save, timings_ms
from core import paths
from dashboard.pagerequest import page_request

PAGES = ["/", "/data", "/train", "/leaderboard", "/errors", "/gradcam"]


def _wait_for_warm_up() -> float:
    import threading

    began = time.perf_counter()
    for thread in threading.enumerate():
        if thread.name == "warm-up":
            thread.join()
    return round(time.perf_counter() - began, 2)


def main(clear_cache: bool = False, warm: bool = False) -> dict:
    os.environ.setdefault("STUDIO_ARTIFACTS", str(paths.PROJECT_ROOT / "artifacts"))
    if clear_cache:
        shutil.rmtree(paths.cache_dir(), ignore_errors=True)
    started = time.perf_counter()
    from dashboard.app import create_app

    client = create_app(warm=warm).server.test_client()
    deps = client.get("/_dash-dependencies").get_json()
    results = {
        "app_start_s": round(time.perf_counter() - started, 2),
        "cache_cleared": clear_cache,
        "warm_up_s": _wait_for_warm_up() if warm else None,
    }

    def render(path):
        response = client.post("/_dash-update-component", json=page_request(deps, path))
        assert response.status_code == 200, response.data[:300]

    for path in PAGES:
        began = time.perf_counter()
        render(path)
        results[path] = {
            "cold_ms": round(1000 * (time.perf_counter() - began), 1),
            "warm": timings_ms(lambda p=path: render(p), repeat=10, warmup=1),
        }
    return save("page_load" + ("_cold_cache" if clear_cache else "") + ("_after_warm_up" if warm else ""), results)


if __name__ == "__main__":
    main(clear_cache="--clear-cache" in sys.argv, warm="--warm-up" in sys.argv)
