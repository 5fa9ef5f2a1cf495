"""A prediction worker: a child process that turns upload bytes into a run's prediction.

Why a process. The server is one Python process: its page renders hold the one interpreter lock
most of the time under load, and an upload's many short numpy / PIL / TensorFlow steps each give the
lock up and wait to get it back (measured: a prediction that costs about 10 ms alone took 350 ms at
the median under 20 clients). In its own process the same work has its own lock; the request thread
that asked only waits on a pipe.

Contract (`PredictionWorker`):
- `predict_upload(raw, run_id)` returns what `predict_upload_here` returns in the server process,
  bit for bit (the same preprocessing and model code, the same model file), and raises the same
  errors (UploadError, RunError, ValueError) with the same messages.
- Until the worker has started (TensorFlow loads in a few seconds), after it died, or when it does not
  answer within `timeout_s`, the caller gets `WorkerUnavailable` and predicts in its own process: a
  killed worker never loses a request. A dead worker is started again in the background.
- The child exits when its parent goes away (its end of the pipe closes).
- Nothing but picklable bytes, strings and numpy arrays crosses the pipe, between this process and the
  child it started; no file's content is ever unpickled.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from core.store import RunError, RunStore

log = logging.getLogger(__name__)

THREADS = 3  # in the child: one per decode slot (core.data.upload.SLOTS) plus one, so small photos never wait behind two large ones
START_TIMEOUT_S = 180.0
RESTART_DELAY_S = 2.0


class WorkerUnavailable(RuntimeError):
    """The worker cannot answer now (starting, restarting, or too slow): predict in this process."""


def predict_upload_here(raw: bytes, run_id: str, store: RunStore | None = None) -> dict[str, Any]:
    """Preprocess upload bytes and predict them with a run's model, in this process:
    {"image": (28, 28) uint8, "probabilities": (10,) float32, "inverted", "familiarity", "warnings"}."""
    from core.data import upload
    from core.models import loading

    processed = upload.preprocess(raw)
    proba = loading.predict_images(run_id, processed["image"][None], store=store)[0]
    return {
        "image": processed["image"],
        "probabilities": proba,
        "inverted": processed["inverted"],
        "familiarity": processed["familiarity"],
        "warnings": processed["warnings"],
    }


def _child(conn, warm_run: str | None) -> None:
    """The worker process: answer (id, raw, run_id) requests with (id, ok, result or exception)."""
    import signal

    import numpy as np

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server; the worker then leaves by itself

    from core.data import upload  # noqa: F401  (imported before any request thread runs)
    from core.models import loading

    if warm_run:
        try:
            loading.predict_images(warm_run, np.zeros((1, 28, 28), dtype=np.uint8))
        except Exception:  # a damaged default run: its requests will say so
            log.exception("prediction worker: warming %s failed", warm_run)
    store = RunStore()
    send_lock = threading.Lock()

    def answer(request_id: int, raw: bytes, run_id: str) -> None:
        try:
            reply: tuple = (request_id, True, predict_upload_here(raw, run_id, store))
        except (RunError, ValueError) as exc:  # UploadError is a ValueError: the caller's clear 4xx
            reply = (request_id, False, exc)
        except Exception as exc:  # a genuine fault: its traceback goes to the server's log
            log.exception("prediction worker: request failed")
            reply = (request_id, False, RuntimeError(f"prediction failed ({exc.__class__.__name__})"))
        try:
            with send_lock:
                conn.send(reply)
        except Exception:  # an exception that does not pickle: send its message
            with send_lock:
                conn.send((request_id, False, RuntimeError(str(reply[2]))))

    with send_lock:
        conn.send(("ready", True, None))
    with ThreadPoolExecutor(THREADS, thread_name_prefix="predict") as pool:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):  # the server is gone
                break
            if message is None:  # asked to stop
                break
            request_id, raw, run_id = message
            pool.submit(answer, request_id, raw, run_id)


class PredictionWorker:
    """Owns one child process and routes requests to it (see the module's contract)."""

    def __init__(self, warm_run: Callable[[], str | None] | None = None, timeout_s: float = 60.0):
        self.warm_run = warm_run or (lambda: None)
        self.timeout_s = timeout_s
        self._ctx = multiprocessing.get_context("spawn")  # never fork a process that has TensorFlow loaded
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._ids = itertools.count()
        self._pending: dict[int, Future] = {}
        self._conn: Any = None  # multiprocessing.connection.Connection, while a child runs
        self._process: Any = None  # its SpawnProcess
        self._ready = threading.Event()
        self._closed = False
        self.starts = 0  # processes started, and requests answered by the child
        self.answered = 0

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> PredictionWorker:
        """Start the child in the background (returns at once; requests go in-process until it is ready)."""
        threading.Thread(target=self._run, name="prediction-worker", daemon=True).start()
        return self

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def wait_ready(self, timeout_s: float = START_TIMEOUT_S) -> bool:
        return self._ready.wait(timeout_s)

    def close(self) -> None:
        self._closed = True
        self._ready.clear()
        with self._lock:
            process, conn = self._process, self._conn
        if conn is not None:
            try:
                with self._send_lock:
                    conn.send(None)  # the child finishes what it holds and exits
            except (OSError, ValueError):
                pass
        if process is not None:
            process.join(5)
            if process.is_alive():
                process.kill()
                process.join(5)

    def _run(self) -> None:
        """Start the child, read its answers until it dies, and start it again (unless closed)."""
        while not self._closed:
            parent, child = self._ctx.Pipe()
            process = self._ctx.Process(
                target=_child, args=(child, self.warm_run()), name="studio-prediction-worker", daemon=True
            )
            process.start()
            child.close()
            with self._lock:
                self._process, self._conn = process, parent
                self.starts += 1
            self._read(parent)
            self._ready.clear()
            self._fail_pending()
            process.join(5)
            if process.is_alive():
                process.kill()
                process.join(5)
            if not self._closed:
                log.warning("prediction worker stopped (exit code %s); starting it again", process.exitcode)
                time.sleep(RESTART_DELAY_S)

    def _read(self, conn) -> None:
        while True:
            try:
                request_id, ok, payload = conn.recv()
            except (EOFError, OSError):
                return
            except Exception:  # an answer that does not unpickle: treat the worker as broken
                log.exception("prediction worker: unreadable answer")
                return
            if request_id == "ready":
                self._ready.set()
                continue
            with self._lock:
                future = self._pending.pop(request_id, None)
            if future is None:  # its caller gave up waiting
                continue
            if ok:
                self.answered += 1
                future.set_result(payload)
            else:
                future.set_exception(payload)

    def _fail_pending(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
        for future in pending.values():
            future.set_exception(WorkerUnavailable("the prediction worker stopped"))

    def _kill(self) -> None:
        with self._lock:
            process = self._process
        if process is not None and process.is_alive():
            process.kill()  # _run sees the pipe close, fails what is pending and starts a new one

    # -- requests ----------------------------------------------------------------------------------
    def predict_upload(self, raw: bytes, run_id: str) -> dict[str, Any]:
        """As `predict_upload_here(raw, run_id)`, computed by the child; WorkerUnavailable when it cannot."""
        if not self._ready.is_set():
            raise WorkerUnavailable("the prediction worker is not running")
        future: Future = Future()
        with self._lock:
            conn, request_id = self._conn, next(self._ids)
            self._pending[request_id] = future
        try:
            with self._send_lock:
                conn.send((request_id, raw, run_id))
        except (OSError, ValueError, AttributeError):
            with self._lock:
                self._pending.pop(request_id, None)
            raise WorkerUnavailable("the prediction worker is not reachable") from None
        try:
            return future.result(self.timeout_s)
        except FutureTimeout:
            with self._lock:
                self._pending.pop(request_id, None)
            log.warning("prediction worker did not answer within %.0f s; restarting it", self.timeout_s)
            self._kill()
            raise WorkerUnavailable("the prediction worker did not answer in time") from None
