"""Dash's first-request setup under concurrent first requests (dashboard.app._setup_once)."""

from __future__ import annotations

import concurrent.futures as futures
import json
import sys
import threading


def test_first_requests_at_once_all_wait_for_one_whole_setup(with_reference_runs):
    """Dash sets itself up on the first request; a burst of first requests (threads of the real server)
    used to race through that setup and get a 500 ("dictionary changed size during iteration")."""
    from dashboard.app import create_app

    switch = sys.getswitchinterval()
    failures = []
    for _attempt in range(3):
        client = create_app().server.test_client()
        gate = threading.Barrier(8)

        def first(path, client=client, gate=gate):
            gate.wait()
            response = client.get(path)
            return path, response.status_code, response.get_data()

        sys.setswitchinterval(1e-6)  # switch threads as often as possible: the race shows at once
        try:
            with futures.ThreadPoolExecutor(8) as pool:
                results = list(pool.map(first, ["/_dash-dependencies", "/_dash-layout"] * 4))
        finally:
            sys.setswitchinterval(switch)
        failures += [(path, status) for path, status, _body in results if status != 200]

        def outputs(body):
            return tuple(sorted(c["output"] for c in json.loads(body)))

        whole = outputs(client.get("/_dash-dependencies").get_data())
        seen = [outputs(body) for path, status, body in results if path == "/_dash-dependencies" and status == 200]
        assert all(s == whole for s in seen), "a first request went on before the setup had finished"
    assert failures == []
