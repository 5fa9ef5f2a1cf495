"""Wall time of one study's trials on 1 and on 2 Celery workers (real redis-server, real workers).

Each run starts a private redis-server and N workers (`--concurrency 1`, so one trial at a time
each), queues a study of `--trials` trials through the dashboard's own path (REDIS_URL set, as
/tune does) and times from the queueing until every trial has ended. Same study settings for both
N, in one process, one after the other; the ratio is the figure to quote.

    python -m bench.tune_workers [--model logreg] [--trials 6] [--subset 4000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import machine, save

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(predicate, timeout: float, interval: float = 0.5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError("gave up waiting")


def _one(workers: int, model: str, trials: int, subset: int, space: list[str]) -> dict:
    from core.tuning import study
    from dashboard import tuning_job

    folder = Path(tempfile.mkdtemp(prefix="tune-bench-"))
    port = _free_port()
    redis = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    os.environ.update({"STUDIO_ARTIFACTS": str(folder / "artifacts"), "REDIS_URL": url})
    os.environ.pop("OPTUNA_STORAGE", None)
    procs = []
    try:
        for i in range(workers):
            log = folder / f"w{i}.log"
            with open(log, "w") as out:
                procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "celery", "-A", "dashboard.worker:celery_app", "worker",
                         "--concurrency", "1", "--hostname", f"w{i}@%h", "--loglevel", "INFO", "--without-gossip",
                         "--without-mingle"],
                        cwd=ROOT, env=dict(os.environ), stdout=out, stderr=subprocess.STDOUT,
                    )
                )  # fmt: skip
            _wait(lambda log=log: "ready" in log.read_text(), timeout=120)
        began = time.monotonic()
        name = tuning_job.start_study(model, trials, subset, None, space, f"bench-{workers}w")
        result = _wait(lambda: (r := study.summary(name))["waiting"] == 0 and not r["running"] and r, 3600, 0.25)
        wall = time.monotonic() - began
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(30)
        redis.terminate()
        redis.wait(10)
        shutil.rmtree(folder, ignore_errors=True)
    states = [t["state"] for t in result["trials"]]
    return {
        "workers": workers,
        "wall_seconds": round(wall, 1),
        "complete": states.count("complete"),
        "best_val_accuracy": result["best"]["val_accuracy"] if result["best"] else None,
        "per_worker": {
            w: sum(t["worker"] == w for t in result["trials"]) for w in {t["worker"] for t in result["trials"]}
        },
    }


def main(model: str = "logreg", trials: int = 6, subset: int = 4000, space: list[str] | None = None) -> dict:
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is missing (make test installs it: Debian redis-server)")
    space = space if space is not None else ["C=0.01:1"]
    rows = [_one(n, model, trials, subset, space) for n in (1, 2)]
    result = {
        "benchmark": "tune_workers",
        "machine": machine(),
        "study": {"model": model, "trials": trials, "subset": subset, "space": space},
        "runs": rows,
        "speedup_2_workers": round(rows[0]["wall_seconds"] / rows[1]["wall_seconds"], 2),
    }
    for row in rows:
        print(
            f"{row['workers']} worker(s): {row['wall_seconds']:.1f} s for {row['complete']} trials {row['per_worker']}"
        )
    print(f"2 workers vs 1: {result['speedup_2_workers']:.2f}x faster")
    save("tune_workers", result)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="logreg")
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--subset", type=int, default=4000)
    parser.add_argument("--space", action="append")
    args = parser.parse_args()
    main(args.model, args.trials, args.subset, args.space)
