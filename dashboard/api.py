"""REST API on the dashboard's Flask server: GET /api/runs, POST /api/predict."""

from __future__ import annotations

from flask import Flask, jsonify

from core.cli import summary
from dashboard import state


def register(server: Flask) -> None:
    """Attach the API routes to the Dash app's Flask server."""

    @server.get("/api/runs")
    def api_runs():
        return jsonify([summary(r) for r in state.store().list_runs()])
