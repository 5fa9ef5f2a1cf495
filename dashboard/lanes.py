"""Request lanes for the waitress server: uploads never queue behind page renders, and pages never
queue behind uploads.

Waitress hands every ready request to one FIFO queue served by one thread pool. Under load a
prediction (a person waiting on a photo's answer) then waits behind a dozen page renders, and a
burst of large uploads can take every thread while pages wait. `LaneDispatcher` keeps one bounded
pool per lane (the bulkhead pattern) and routes each request to its lane by path; everything else
about a request (parsing, limits, keep-alive, errors) stays waitress' own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from waitress.task import ThreadedTaskDispatcher

DEFAULT_LANE = "pages"


def lane_for_path(path: str) -> str:
    """The lane of a request path: photo predictions have their own; everything else is a page."""
    return "predict" if path.rstrip("/") == "/api/predict" else DEFAULT_LANE


class LaneDispatcher:
    """A waitress task dispatcher with one thread pool per lane (`threads`: lane -> thread count)."""

    def __init__(self, threads: Mapping[str, int], route: Callable[[str], str] = lane_for_path):
        if DEFAULT_LANE not in threads or any(n < 1 for n in threads.values()):
            raise ValueError(f"every lane needs at least one thread, and the '{DEFAULT_LANE}' lane must exist")
        self.route = route
        self.lanes: dict[str, ThreadedTaskDispatcher] = {}
        for lane, count in threads.items():
            pool = ThreadedTaskDispatcher()
            pool.set_thread_count(count)
            self.lanes[lane] = pool

    def lane_of(self, task) -> str:
        requests = getattr(task, "requests", None) or []
        request = requests[0] if requests else None
        if request is None or getattr(request, "error", None) is not None:
            return DEFAULT_LANE
        lane = self.route(getattr(request, "path", "") or "")
        return lane if lane in self.lanes else DEFAULT_LANE

    def add_task(self, task) -> None:
        self.lanes[self.lane_of(task)].add_task(task)

    def set_thread_count(self, count: int) -> None:
        """Waitress' interface: sets the page lane's size (the other lanes keep theirs)."""
        self.lanes[DEFAULT_LANE].set_thread_count(count)

    def shutdown(self, cancel_pending: bool = True, timeout: float = 5) -> bool:
        done = True
        for pool in self.lanes.values():
            done = pool.shutdown(cancel_pending, timeout) and done
        return done
