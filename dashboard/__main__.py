"""`python -m dashboard [--host 127.0.0.1] [--port 8050] [--dev]`: start the dashboard.

By default a production WSGI server (waitress: pure Python, threads in one process, so the
in-process model caches are shared and nothing forks after TensorFlow is loaded) with bounded
thread pools, one for pages and one for /api/predict (dashboard.lanes), and a prediction worker
process that answers /api/predict (core.predict.worker; started with spawn, never fork). `--dev` runs
Flask's development server with Dash's debug tools instead.
"""

from __future__ import annotations

import argparse
import contextlib
import sys

# Request threads per lane (dashboard.lanes). Page work is pure Python and holds the interpreter lock:
# on 2 cores, 8 page threads served no more requests than 4 but made every waiting request slower
# (bench.load, 20 clients: predict p95 380 -> 201 ms, render p95 476 -> 392 ms, 104 -> 101 req/s).
DEFAULT_THREADS = 4
PREDICT_THREADS = 4  # uploads mostly wait on the prediction worker


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m dashboard", description="Start Fashion-MNIST Studio.")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=8050)
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests whose Host is NAME (repeatable); loopback names and --host are always allowed",
    )
    parser.add_argument(
        "--threads", type=int, default=DEFAULT_THREADS, help="request threads for pages (default: %(default)s)"
    )
    parser.add_argument(
        "--no-predict-worker",
        dest="predict_worker",
        action="store_false",
        help="answer /api/predict in the server process instead of a prediction worker process",
    )
    parser.add_argument("--dev", action="store_true", help="Flask's development server with Dash debug tools")
    return parser


def main(argv=None) -> None:
    args = build_parser().parse_args(argv)
    if not 1 <= args.threads <= 64:
        sys.exit("error: --threads must be between 1 and 64")

    from dashboard import security, state
    from dashboard.app import create_app

    hosts = security.allowed_hosts(args.host, args.allow_host)
    app = create_app(warm=True, hosts=hosts)  # imports everything before the first request
    with contextlib.suppress(Exception):  # record runs whose training died while no server watched
        state.store().reap()
    print(f"Fashion-MNIST Studio on http://{args.host}:{args.port}/", flush=True)
    if args.dev:
        app.run(host=args.host, port=args.port, debug=True)
        return
    from waitress import serve

    if args.predict_worker:
        from core.predict.worker import PredictionWorker
        from dashboard import runs_view

        state.use_prediction_worker(PredictionWorker(warm_run=lambda: runs_view.default_run("deep")).start())

    from dashboard.lanes import LaneDispatcher

    serve(
        app.server,
        _dispatcher=LaneDispatcher({"pages": args.threads, "predict": PREDICT_THREADS}),
        host=args.host,
        port=args.port,
        ident=None,
        connection_limit=200,
        channel_timeout=60,
        cleanup_interval=30,
        # the app answers every over-limit body itself with the API's JSON 413 (16 MB, chunked or not);
        # waitress' own limit, which answers in plain text, only stops bodies far beyond that
        max_request_body_size=256 * 1024 * 1024,
        clear_untrusted_proxy_headers=True,
    )


if __name__ == "__main__":
    main()
