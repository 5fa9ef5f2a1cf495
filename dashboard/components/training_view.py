"""The live view of one training run: progress bar, status line, curves, verdict, result."""

from __future__ import annotations

from urllib.parse import urlencode

import dash_bootstrap_components as dbc
from dash import dcc, html

from core.evaluation import analysis, leaderboard
from dashboard.figures.style import empty_figure
from dashboard.figures.training import training_curves


def render(snap: dict | None, curves: tuple | None = None) -> tuple:
    """The view outputs (VIEW_OUTPUTS order) for a progress snapshot.

    `curves` = (figure, verdict) when already built for this history (see CurveCache).
    """
    if snap is None:
        return (
            0,
            "",
            False,
            "primary",
            "Nothing is training. Start a run on the left.",
            training_curves([]),
            "Curves and a plain-language reading of them appear here.",
            "No training yet",
        )
    figure, verdict = curves or _shared_curves(snap.get("run_id"), snap.get("history") or [])
    if not snap.get("history") and snap["status"] == "completed":  # a model fitted in one go
        figure = empty_figure(
            "This model learns in one pass, not epoch by epoch, so it has no curves. Its scores are above.", height=360
        )
        verdict = "No curves to read: this model has no epochs."
    fraction = snap.get("fraction")
    active = snap["status"] in ("starting", "queued", "running")
    value = 100 if fraction is None and active else round(100 * (fraction or 0), 1)
    label = snap["position"] if fraction is not None else f"{snap['position']} (no step count for this model)"
    if fraction is not None and value < 35:  # too narrow for words: a cut "epo" helps nobody (the line below has it)
        label = f"{value:.0f} %" if value >= 8 else ""
    status = f"{snap['status']} · {snap['position']} · elapsed {snap['elapsed_text']}"
    if active and snap.get("eta_text") not in (None, "–"):
        status += f" · about {snap['eta_text']} left"
    if snap["status"] == "completed" and snap.get("metrics"):
        status = (
            f"completed in {snap['elapsed_text']} · test accuracy "
            f"{100 * snap['metrics']['test_accuracy']:.2f} % "
            f"({leaderboard.interval_text(snap['metrics'].get('test_accuracy_ci95')) or 'interval not known'}) "
            f"· macro-F1 {snap['metrics']['macro_f1']:.3f}"
        )
    if snap.get("n_train"):
        status += f" · {'training' if active else 'trained'} on {snap['n_train']:,} photos"
    settings = leaderboard.hyperparameter_summary(snap.get("config") or {})
    if settings:
        status += f" · its settings: {settings}"
    stopped = early_stop_text(snap)
    if stopped:
        status += f" · {stopped}"
    if snap.get("error") and snap["status"] in ("failed", "interrupted"):
        status += f" · {snap['error']}"
    title = [
        f"{snap.get('label') or snap.get('model') or ''} ",
        html.Code(snap["run_id"]),
        " ",
        dbc.Badge(
            snap["status"],
            color=_STATUS_COLORS.get(snap["status"], "secondary"),
            className="ms-1",
            id="train-status-badge",
        ),
    ]
    color = _STATUS_COLORS.get(snap["status"], "secondary")
    return (value, label, active, color, status, figure, verdict, title)


def render_curves(history: list[dict]) -> tuple:
    """(curves figure as a plain dict, plain-language verdict) for a history."""
    reading = analysis.overfitting(history)
    return training_curves(history, reading).to_plotly_json(), reading["verdict"]


_CURVES: dict[tuple, tuple] = {}


def _shared_curves(run_id: str | None, history: list[dict]) -> tuple:
    """render_curves, memoised per (run, epochs so far): every open tab polls once a second, and
    the history only grows, so a figure is built once per epoch, not once per poll and tab."""
    key = (run_id, len(history))
    if key not in _CURVES:
        if len(_CURVES) > 64:
            _CURVES.clear()
        _CURVES[key] = render_curves(history)
    return _CURVES[key]


class CurveCache:
    """Rebuilds the curves only when a new epoch arrives, not on every 0.5 s progress poll."""

    def __init__(self):
        self.key, self.curves = None, None

    def __call__(self, snap: dict) -> tuple:
        history = snap.get("history") or []
        key = (snap.get("run_id"), len(history))
        if key != self.key:
            self.key, self.curves = key, render_curves(history)
        return render(snap, self.curves)


_STATUS_COLORS = {
    "running": "primary",
    "starting": "primary",
    "completed": "success",
    "failed": "danger",
    "interrupted": "warning",
}


def early_stop_text(snap: dict) -> str | None:
    """ "stopped early at epoch 13 of 15; epoch 11's weights restored" when early stopping acted."""
    best, ran, planned = snap.get("best_epoch"), snap.get("epochs_run"), snap.get("epochs_planned")
    if snap.get("status") != "completed" or not best:
        return None
    if ran and planned and ran < planned:
        return f"stopped early at epoch {ran} of {planned}; epoch {best}'s weights restored"
    return f"best validation loss at epoch {best}; its weights restored"


def _leaderboard_href(snap: dict) -> str:
    """The leaderboard with this run highlighted (and listed, when a small subset would hide it)."""
    return f"/leaderboard?{urlencode({'highlight': snap['run_id']})}"


def result_panel(snap: dict) -> html.Div:
    metrics = snap.get("metrics") or {}
    if snap["status"] != "completed" or not metrics:
        return dbc.Alert(
            f"Run {snap['run_id']} ended {snap['status']}: {snap.get('error') or ''}", color="warning", className="mb-0"
        )
    return dbc.Alert(
        [
            html.Strong(f"Finished: test accuracy {100 * metrics['test_accuracy']:.2f} %"),
            f" (95 % interval {leaderboard.interval_text(metrics.get('test_accuracy_ci95')) or 'not known'})",
            f" · macro-F1 {metrics['macro_f1']:.3f} · {snap['elapsed_text']} of training"
            + (f" on {snap['n_train']:,} photos" if snap.get("n_train") else "")
            + (f" · {early_stop_text(snap)}" if early_stop_text(snap) else "")
            + ". ",
            dcc.Link("See it on the leaderboard", href=_leaderboard_href(snap)),
            " · ",
            dcc.Link("inspect its mistakes", href=f"/errors?run={snap['run_id']}"),
        ],
        color="success",
        className="mb-0",
        id="train-finished",
    )
