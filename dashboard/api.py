"""REST API on the dashboard's Flask server.

GET  /api/runs/RUN -> one run's whole record (metrics with intervals, settings, timings, environment)
GET  /api/runs     -> [run summary, ...], one page from the run index (newest first, 100 by default;
                      ?limit=&offset=&sort=-test_accuracy&status=&model=&study=&group=&preset=&q=);
                      X-Total-Count and Link rel="next" headers; damaged runs included, with
                      "status": "damaged" and "damage"; completed runs with `test_accuracy_ci95`
GET  /api/compare?a=A&b=B -> the paired comparison of two runs on the same test photos (as
                      `python -m core compare A B --json`: counts, exact McNemar p, interval, verdict)
POST /api/predict  -> {run, predicted_class, probabilities: {class: p}, calibrated, raw_probabilities,
                      prediction_set, coverage} for a multipart `image` (optional `run`, default: the
                      best CNN run); probabilities are calibrated where the run has a calibration.

Every /api error is JSON {"error": "..."} with its status: 400 bad request, 403 cross-site, 404
unknown path or run, 405 wrong method (with Allow), 409 a run that cannot predict, 413 too large
(naming the real limit), 503 busy (with Retry-After). No message carries a path of this machine.
"""

from __future__ import annotations

import email.parser
import email.policy
import re
from urllib.parse import urlencode

from flask import Flask, jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from core.data import upload
from core.store import InvalidRunId, NoModel, RunError, UnknownRun
from dashboard import runs_view, state

MAX_REQUEST_BYTES = upload.MAX_BYTES + 256 * 1024  # /api/predict: one photo plus the multipart envelope
MAX_BODY_BYTES = 16 * 1024 * 1024  # any request (a 10 MB photo sent by the page as base64 JSON fits)
MAX_FIELD_BYTES = 256 * 1024  # a non-file form field (e.g. `run`); Werkzeug reads 64 KB at a time
ROUTES = {"/api/runs": ("GET",), "/api/predict": ("POST",), "/api/compare": ("GET",)}
_ONE_RUN_RE = re.compile(r"/api/runs/[^/]+")  # GET /api/runs/RUN: any other method is a 405, not a 404
_SAFE_PATH_RE = re.compile(r"[^A-Za-z0-9/_.~-]")  # the asked path, echoed back: plain characters only
_PATH_RE = re.compile(r"(?<![\w.])/(?:[\w.@+-]+/)+[\w.@+-]*")


def _error(status: int, message: str, headers: dict[str, str] | None = None, scrub: bool = True):
    """A JSON error; `scrub` hides anything that looks like a path of this machine (not the API's own
    routes, which a message may name on purpose)."""
    response = jsonify({"error": _PATH_RE.sub("<path>", message) if scrub else message})
    response.status_code = status
    response.headers.update(headers or {})
    return response


def _run_error(exc: RunError):
    """A run-store error as the API answers it: 400 a malformed id, 404 no such run, 409 a run that
    cannot do what was asked (damaged, unfinished, no model file)."""
    status = 400 if isinstance(exc, InvalidRunId) else 404 if isinstance(exc, UnknownRun) else 409
    return _error(status, str(exc))


def predict_upload(raw: bytes, run_id: str | None) -> dict:
    """Prediction for upload bytes with a run's model (raises UploadError / RunError / ValueError): one
    path (core.predict.answer), by the prediction worker when the server runs one and it is up."""
    from core.predict import answer

    run_id = run_id or runs_view.default_run("deep")
    if run_id is None:
        raise UnknownRun("no completed CNN run to predict with; train one first")
    return answer.for_upload(raw, run_id, state.store(), state.prediction_worker()).to_json()


def _image_bytes() -> bytes | None:
    """The `image` file of a multipart request. Werkzeug drops a part whose headers are not UTF-8
    (a file name in another encoding); those are read again with the standard email parser."""
    body = request.get_data(cache=True)  # kept, so the fallback below can read it again (size checked before)
    file = request.files.get("image")
    if file is not None:
        return file.read(upload.MAX_BYTES + 1)
    if not (request.content_type or "").startswith("multipart/form-data"):
        return None
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + request.content_type.encode("latin-1", "replace") + b"\r\n\r\n" + body
    )
    for part in message.iter_parts() if message.is_multipart() else []:
        if part.get_param("name", header="content-disposition") == "image":
            payload = part.get_payload(decode=True)
            return payload if isinstance(payload, bytes) else None
    return None


def register(server: Flask) -> None:
    """Attach the API routes and its JSON error handling to the Dash app's Flask server."""
    server.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    server.config["MAX_FORM_MEMORY_SIZE"] = MAX_FIELD_BYTES
    if isinstance(server.json, DefaultJSONProvider):
        server.json.sort_keys = False  # keep probabilities in class order

    @server.get("/api/runs")
    def api_runs():
        """One page of run summaries from the run index: `limit` (default 100, at most 1000), `offset`,
        `sort` (a column, `-` for descending; default newest first), filters `status`, `model`,
        `study`, `group`, `preset`, `family`, and `q` (text in the id, name or model). The body stays a
        list (as before paging); `X-Total-Count` and a `Link: <…>; rel="next"` header give the rest."""
        from core.store import listing

        try:
            asked = listing.parse(request.args.to_dict(flat=False))
        except listing.ListingError as exc:
            return _error(400, str(exc))
        try:
            rows, total = state.store().page(asked.filters, asked.sort, asked.limit, asked.offset, asked.search)
        except ValueError as exc:
            return _error(400, str(exc))
        response = jsonify(rows)
        response.headers["X-Total-Count"] = str(total)
        following = asked.following(total, len(rows))
        if following is not None:
            query = {**request.args.to_dict(), "limit": str(asked.limit), "offset": str(following)}
            response.headers["Link"] = f'</api/runs?{urlencode(query)}>; rel="next"'
        return response

    @server.get("/api/runs/<run_id>")
    def api_run(run_id: str):
        try:
            return jsonify(state.store().get(run_id))
        except RunError as exc:
            return _run_error(exc)

    @server.get("/api/compare")
    def api_compare():
        from core.evaluation.comparison import compare_runs

        a, b = request.args.get("a"), request.args.get("b")
        if not a or not b:
            return _error(400, "name the two runs to compare: ?a=RUN&b=RUN")
        if a == b:
            return _error(400, "choose two different runs to compare")
        try:
            return jsonify(compare_runs(a, b, state.store()))
        except RunError as exc:
            return _run_error(exc)

    @server.post("/api/predict")
    def api_predict():
        if request.content_length and request.content_length > MAX_REQUEST_BYTES:
            return _error(413, f"the upload is larger than the {upload.MAX_BYTES // (1024 * 1024)} MB limit")
        raw = _image_bytes()
        if raw is None:
            return _error(400, "send the photo as a multipart form field named 'image'")
        run_id = request.form.get("run") or request.args.get("run")
        try:
            return jsonify(predict_upload(raw, run_id))
        except upload.UploadBusy as exc:
            return _error(503, str(exc), {"Retry-After": str(exc.retry_after_s)})
        except upload.UploadError as exc:
            return _error(413 if exc.too_large else 400, str(exc))
        except InvalidRunId as exc:
            return _error(400, str(exc))
        except UnknownRun as exc:
            return _error(404, str(exc))
        except (NoModel, RunError, ValueError) as exc:
            return _error(409, str(exc))

    @server.route("/api/", defaults={"rest": ""}, methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"])
    @server.route("/api/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"])
    def api_unknown(rest: str):
        path = "/api/" + rest.rstrip("/")
        allowed = ROUTES.get(path) or (("GET",) if _ONE_RUN_RE.fullmatch(path) else None)
        if allowed:
            return _error(
                405, f"{request.method} is not allowed here; use {', '.join(allowed)}", {"Allow": ", ".join(allowed)}
            )
        asked = _SAFE_PATH_RE.sub("?", f"/api/{rest[:80]}") + ("…" if len(rest) > 80 else "")
        return _error(404, f"no API endpoint {asked}; there are {', '.join([*ROUTES, '/api/runs/RUN'])}", scrub=False)

    @server.errorhandler(RequestEntityTooLarge)
    def too_large(_exc):
        if request.content_length and request.content_length > MAX_BODY_BYTES:
            message = f"the request is larger than the {MAX_BODY_BYTES // (1024 * 1024)} MB limit"
        else:
            message = f"a form field is larger than the {MAX_FIELD_BYTES // 1024} KB limit"
        if request.path.startswith("/api/"):
            return _error(413, message)
        return message, 413

    @server.errorhandler(HTTPException)
    def api_http_error(exc: HTTPException):
        if request.path.startswith("/api/"):
            headers = {"Allow": exc.response.headers["Allow"]} if exc.response is not None and exc.code == 405 else {}
            return _error(exc.code or 500, exc.description or exc.name, headers)
        return exc
