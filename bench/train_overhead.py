"""Training throughput: the UI path (background-callback launcher) vs `python -m core train`.

Both train the same model with the same settings in a fresh child process; the UI path also polls
the run store every 0.5 s and builds the live figure like the Train page does. Throughput is
training images per second from the epochs' own timings (first epoch excluded: graph tracing),
plus wall time from launch to completion. Runs alternate to spread machine noise; the medians
are compared.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

from bench.common import save, timings_ms
from core.models.config import TrainConfig, to_cli_args
from core.paths import PROJECT_ROOT
from core.store import RunStore

CONFIG = TrainConfig("cnn", epochs=4, subset=8000)
ROUNDS = 4


def images_per_second(store: RunStore, run_id: str) -> float:
    history = store.history(run_id)[1:]
    n_train = store.get(run_id)["data"]["n_train"]
    return n_train * len(history) / sum(h["seconds"] for h in history)


def cli_run(store: RunStore, run_id: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "core", "train", *to_cli_args(CONFIG), "--run-id", run_id],
        cwd=PROJECT_ROOT,
        env=os.environ.copy(),
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def ui_run(store: RunStore, run_id: str) -> float:
    import pickle

    from dashboard import training_job
    from dashboard.components.training_view import CurveCache

    view = CurveCache()

    def on_update(snap):  # what the page's background callback does with every snapshot
        pickle.dumps(view(snap))  # DiskcacheManager pickles each set_progress value

    started = time.perf_counter()
    final = training_job.train_and_follow(CONFIG, store, on_update, run_id=run_id)
    assert final["status"] == "completed"
    return time.perf_counter() - started


def poll_cost(store: RunStore, run_id: str) -> dict:
    """CPU time of one follower poll (snapshot + view), steady and when a new epoch arrived."""
    import pickle

    from core.training import progress
    from dashboard.components.training_view import CurveCache

    view = CurveCache()
    view(progress.snapshot(store, run_id))
    steady = timings_ms(lambda: pickle.dumps(view(progress.snapshot(store, run_id))), repeat=200)

    def new_epoch():
        view.key = None
        pickle.dumps(view(progress.snapshot(store, run_id)))

    return {"steady_poll": steady, "poll_with_new_epoch": timings_ms(new_epoch, repeat=50)}


def main() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["STUDIO_ARTIFACTS"] = tmp
        store = RunStore()
        rows = {"cli": [], "ui": []}
        for i in range(ROUNDS):
            for path, runner in (("cli", cli_run), ("ui", ui_run)):
                wall = runner(store, f"{path}-{i}")
                rows[path].append(
                    {"wall_s": round(wall, 2), "images_per_s": round(images_per_second(store, f"{path}-{i}"), 1)}
                )
        poll = poll_cost(store, "ui-0")
    cli = statistics.median(r["images_per_s"] for r in rows["cli"])
    ui = statistics.median(r["images_per_s"] for r in rows["ui"])
    return save(
        "train_overhead",
        {
            "config": CONFIG.to_dict(),
            "runs": rows,
            "ui_vs_cli_throughput": round(ui / cli, 4),
            "follower_poll": poll,
            "follower_cpu_share_of_one_core_percent": round(100 * poll["steady_poll"]["p50_ms"] / 1000 / 0.5, 3),
            "ui_cost_percent": round(100 * (1 - ui / cli), 2),
        },
    )


if __name__ == "__main__":
    main()
