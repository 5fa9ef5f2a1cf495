"""REST API on the dashboard's Flask server.

GET  /api/runs     -> [run summary, ...]
POST /api/predict  -> {run, predicted_class, probabilities: {class: p}} for a multipart `image`
                      (optional `run`, default: the best CNN run). Errors are JSON with a 4xx code.
"""

from __future__ import annotations

from flask import Flask, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from core import upload
from core.runs import InvalidRunId, NoModel, RunError, UnknownRun, run_summary
from dashboard import runs_view, state

MAX_REQUEST_BYTES = 64 * 1024 * 1024  # hard cap on any request body (the API itself allows 10 MB images)


def _error(status: int, message: str):
    return jsonify({"error": message}), status


def predict_upload(raw: bytes, run_id: str | None) -> dict:
    """Prediction for upload bytes with a run's model (raises UploadError / RunError / ValueError)."""
    from core import inference

    run_id = run_id or runs_view.default_run("deep")
    if run_id is None:
        raise UnknownRun("no completed CNN run to predict with; train one first")
    state.store().get(run_id)  # validates the id and that the run exists
    processed = upload.preprocess(raw)
    proba = inference.predict_images(run_id, processed["image"][None], store=state.store())[0]
    from core.data import CLASS_NAMES

    return {"run": run_id, "predicted_class": CLASS_NAMES[int(proba.argmax())],
            "probabilities": {name: round(float(p), 6) for name, p in zip(CLASS_NAMES, proba)},
            "inverted": processed["inverted"]}


def register(server: Flask) -> None:
    """Attach the API routes to the Dash app's Flask server."""
    server.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    server.json.sort_keys = False  # keep probabilities in class order

    @server.get("/api/runs")
    def api_runs():
        return jsonify([run_summary(r) for r in state.store().list_runs()])

    @server.post("/api/predict")
    def api_predict():
        if request.content_length and request.content_length > upload.MAX_BYTES + 64 * 1024:
            return _error(413, f"the upload is larger than {upload.MAX_BYTES // (1024 * 1024)} MB")
        file = request.files.get("image")
        if file is None:
            return _error(400, "send the photo as a multipart form field named 'image'")
        run_id = request.form.get("run") or request.args.get("run")
        try:
            return jsonify(predict_upload(file.read(upload.MAX_BYTES + 1), run_id))
        except upload.UploadError as exc:
            return _error(413 if exc.too_large else 400, str(exc))
        except InvalidRunId as exc:
            return _error(400, str(exc))
        except NoModel as exc:
            return _error(409, str(exc))
        except UnknownRun as exc:
            return _error(404, str(exc))
        except (RunError, ValueError) as exc:
            return _error(409, str(exc))

    @server.errorhandler(RequestEntityTooLarge)
    def too_large(_exc):
        if request.path.startswith("/api/"):
            return _error(413, f"the request is larger than {MAX_REQUEST_BYTES // (1024 * 1024)} MB")
        return "Request too large", 413
