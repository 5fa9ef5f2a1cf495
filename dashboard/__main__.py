"""`python -m dashboard [--host 127.0.0.1] [--port 8050]`: start the dashboard (debug off)."""

from __future__ import annotations

import argparse


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m dashboard", description="Start Fashion-MNIST Studio.")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=8050)
    parser.add_argument("--debug", action="store_true", help="Dash debug mode (development only)")
    args = parser.parse_args(argv)

    from dashboard.app import create_app

    app = create_app(warm=True)
    print(f"Fashion-MNIST Studio on http://{args.host}:{args.port}/", flush=True)
    app.run(host=args.host, port=args.port, debug=args.debug)


if __name__ == "__main__":
    main()
