"""How pages and the API grow with the number of runs: `python -m bench.many_runs 1000 20000 100000`.

For each N, a temporary store of N runs (hard links to the committed reference runs' files under new
ids, so every run is real and valid) is built, the app is created on it, and each page (the Dash
Pages routing callback) and `GET /api/runs` are timed first and warm, with their payload sizes.
Targets at 20 000 runs: every page warm ≤ 1 s and ≤ 300 KB, `/api/runs` ≤ 300 ms; the figures should
stay flat from 1 000 to 100 000 runs.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.common import machine, save, timings_ms
from core import paths
from dashboard.pagerequest import page_request

PAGES = ["/", "/leaderboard", "/errors", "/gradcam", "/train", "/insights", "/story/2"]


def build_store(root: Path, count: int) -> int:
    """`count` runs under `root/runs`: hard links of the committed runs' files (`n<i>-<id>`)."""
    sources = sorted(p for p in (paths.PROJECT_ROOT / "artifacts" / "runs").glob("ref-*") if (p / "run.json").is_file())
    (root / "runs").mkdir(parents=True)
    made = 0
    while made < count:
        for source in sources:
            if made >= count:
                break
            folder = root / "runs" / f"n{made:06d}-{source.name}"[:80]
            folder.mkdir()
            for f in source.iterdir():
                if f.is_file():
                    os.link(f, folder / f.name)
            made += 1
    shutil.copytree(paths.PROJECT_ROOT / "artifacts" / "ablations", root / "ablations")
    return made


def measure(count: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="many-runs-") as tmp:
        root = Path(tmp)
        began = time.perf_counter()
        build_store(root, count)
        built = time.perf_counter() - began
        os.environ["STUDIO_ARTIFACTS"] = str(root)
        from dashboard.app import create_app

        client = create_app().server.test_client()
        deps = client.get("/_dash-dependencies").get_json()
        out: dict = {"runs": count, "build_s": round(built, 1)}

        def render(path: str) -> int:
            response = client.post("/_dash-update-component", json=page_request(deps, path))
            assert response.status_code == 200, response.data[:300]
            return len(response.data)

        for path in PAGES:
            began = time.perf_counter()
            size = render(path)
            out[path] = {
                "first_ms": round(1000 * (time.perf_counter() - began), 1),
                "warm": timings_ms(lambda p=path: render(p), repeat=3, warmup=0),
                "bytes": size,
            }

        def block(sort: list, filters: dict) -> int:
            """The leaderboard grid's request for its first block of rows (sorted and filtered on the server)."""
            request = {"startRow": 0, "endRow": 100, "sortModel": sort, "filterModel": filters}
            body = {
                "output": "..leaderboard-grid.getRowsResponse...leaderboard-count.children..",
                "outputs": [
                    {"id": "leaderboard-grid", "property": "getRowsResponse"},
                    {"id": "leaderboard-count", "property": "children"},
                ],
                "inputs": [{"id": "leaderboard-grid", "property": "getRowsRequest", "value": request}],
                "state": [
                    {"id": "leaderboard-show-all", "property": "value", "value": False},
                    {"id": "leaderboard-group-seeds", "property": "value", "value": False},
                ],
                "changedPropIds": ["leaderboard-grid.getRowsRequest"],
            }
            response = client.post("/_dash-update-component", json=body)
            assert response.status_code == 200, response.data[:300]
            return len(response.data)

        for name, sort, filters in (
            ("leaderboard rows", [{"colId": "test_accuracy", "sort": "desc"}], {}),
            (
                "rows sort+filter",
                [{"colId": "macro_f1", "sort": "asc"}],
                {"test_accuracy": {"filterType": "number", "type": "greaterThanOrEqual", "filter": 0.92}},
            ),
        ):
            began = time.perf_counter()
            size = block(sort, filters)
            out[name] = {
                "first_ms": round(1000 * (time.perf_counter() - began), 1),
                "warm": timings_ms(lambda s=sort, f=filters: block(s, f), repeat=3, warmup=0),
                "bytes": size,
            }
        began = time.perf_counter()
        api = client.get("/api/runs")
        out["/api/runs"] = {
            "first_ms": round(1000 * (time.perf_counter() - began), 1),
            "warm": timings_ms(lambda: client.get("/api/runs"), repeat=3, warmup=0),
            "bytes": len(api.data),
            "total": api.headers.get("X-Total-Count"),
        }
        return out


def main(counts: list[int] | None = None) -> dict:
    results = {"machine": machine(), "sizes": [measure(n) for n in counts or [1000]]}
    for size in results["sizes"]:
        print(f"{size['runs']} runs:")
        for key, value in size.items():
            if isinstance(value, dict):
                print(
                    f"  {key:<18} first {value['first_ms']:>8.0f} ms  warm p50 {value['warm']['p50_ms']:>8.0f} ms  "
                    f"{value['bytes'] / 1000:>8.0f} KB"
                )
    return save("many_runs", results)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or None)
