"""Click -> gallery server time on /errors, with 100 runs in the store.

Builds a temporary store of 100 runs (copies of the reference runs' records and predictions),
then posts the exact Dash callback request a confusion-matrix click sends, through Flask's test
client: the measured time is everything the server does (callback, thumbnails, JSON). Cells are
chosen at random over all runs; the first pass is reported separately (cold thumbnail cache).
Target: p95 under 300 ms.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import tempfile
import time
from pathlib import Path

from bench.common import save, timings_ms
from core.data import CLASS_NAMES
from core.paths import PROJECT_ROOT
from core.store import RunStore

N_RUNS = 100


def build_store(root: Path) -> list[str]:
    reference = RunStore(PROJECT_ROOT / "artifacts" / "runs")
    sources = [reference.path(r["run_id"]) for r in reference.list_runs(status="completed")]
    ids = []
    for i in range(N_RUNS):
        src = sources[i % len(sources)]
        dst = root / "runs" / f"bench-{i:03d}-{src.name}"
        dst.mkdir(parents=True)
        for name in ("run.json", "history.jsonl", "predictions.npz"):
            shutil.copy(src / name, dst / name)
        ids.append(dst.name)
    return ids


def gallery_request(deps: list[dict], run_id: str, true_c: int, pred_c: int) -> dict:
    spec = next(d for d in deps if "errors-gallery.children" in d["output"])
    outputs = [dict(zip(("id", "property"), o.split("."), strict=True)) for o in spec["output"].strip(".").split("...")]
    click = {"points": [{"x": CLASS_NAMES[pred_c], "y": CLASS_NAMES[true_c], "curveNumber": 0}]}
    values = {"errors-matrix.clickData": click, "errors-pager.active_page": 1}
    return {
        "output": spec["output"],
        "outputs": outputs,
        "changedPropIds": ["errors-matrix.clickData"],
        "inputs": [{**i, "value": values.get(f"{i['id']}.{i['property']}")} for i in spec["inputs"]],
        "state": [{**s, "value": run_id} for s in spec["state"]],
    }


def main() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["STUDIO_ARTIFACTS"] = tmp
        ids = build_store(Path(tmp))
        from dashboard.app import create_app

        client = create_app().server.test_client()
        deps = client.get("/_dash-dependencies").get_json()
        rng = random.Random(0)

        def clicker(cells):
            queue = iter(cells)

            def one_click():
                run_id, t, p = next(queue)
                response = client.post("/_dash-update-component", json=gallery_request(deps, run_id, t, p))
                assert response.status_code == 200, response.data[:300]
                assert "errors-gallery" in json.loads(response.data)["response"]

            return one_click

        started = time.perf_counter()
        clicker([(ids[0], 6, 0)])()
        first_ms = round(1000 * (time.perf_counter() - started), 1)
        # a run's first click also loads its predictions.npz; 40 runs never clicked before
        cold = timings_ms(clicker([(ids[i], 6, 0) for i in range(1, 41)]), repeat=40, warmup=0)
        any_cell = timings_ms(
            clicker([(rng.choice(ids), rng.randrange(10), rng.randrange(10)) for _ in range(320)]),
            repeat=300,
            warmup=20,
        )
        full_pages = timings_ms(
            clicker([(rng.choice(ids), c, c) for c in [rng.randrange(10) for _ in range(320)]]), repeat=300, warmup=20
        )  # diagonal cells: always 30 thumbnails
        listing = timings_ms(lambda: client.get("/api/runs"), repeat=20)
    return save(
        "gallery_latency",
        {
            "runs_in_store": N_RUNS,
            "very_first_click_ms": first_ms,
            "first_click_per_run": cold,
            "random_cells": any_cell,
            "diagonal_cells_full_page": full_pages,
            "api_runs_listing": listing,
            "target_p95_ms": 300,
        },
    )


if __name__ == "__main__":
    main()
