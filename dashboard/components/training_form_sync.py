"""/train: the form's behaviour. Choosing a model shows its fields and defaults; a preset fills them
(still editable); while a run trains the form shows its settings, read-only, and once it ends the same
settings, editable again; every change is validated at once (Start is disabled with the reason)."""

from __future__ import annotations

import dash
from dash import ALL, Input, Output, State, callback

from core.store import RunError
from core.training import presets
from dashboard import state, training_job
from dashboard.components import train_presets
from dashboard.components import training_form as form


def sync_form(model, active, _presets, watched):
    """The chosen model's fields and defaults, or a preset's settings (still editable); while a
    run trains, that run's own settings, read-only; once it ends (or is cancelled), the same settings,
    editable again, so "change one thing and train again" needs no retyping."""
    active = active if isinstance(active, str) else None  # anything else is a tampered request
    watched = watched if isinstance(watched, str) else None
    config = _active_config(active)
    picked = dash.ctx.triggered_id
    preset = presets.PRESETS.get(picked["name"]) if isinstance(picked, dict) and not config else None
    ended = _active_config(watched) if picked == "train-active" and not config else None
    if config:
        model = config["model"]
    elif preset:
        model, config = preset.config.model, preset.config.to_dict()
    elif ended:
        model, config = ended["model"], ended
    elif not isinstance(model, str) or model not in form.SPECS:
        model = form.DEFAULT_MODEL
    styles = [None if form.applies(model, n) else {"display": "none"} for n in form.FIELD_NAMES]
    locked = [bool(config) and not preset and not ended] * len(form.FIELD_NAMES)
    help_text = form.SPECS[model].description
    if preset:
        help_text = f"Preset “{preset.title}”: {preset.goal}. {train_presets.preset_measured(preset)} Every value can be changed."
    elif ended:
        help_text = f"The settings of {watched}, which has ended: change any of them and press Start to train again."
    elif config:
        help_text = f"Showing the settings of {active}, which is training (read-only until it ends)."
    chosen = presets.matching(config) if config else None
    outline = [name != chosen for name in presets.PRESETS]  # the preset these settings are: filled
    return (
        *styles,
        *form.values_of(model, config),
        *locked,
        model,
        bool(config) and not preset and not ended,
        help_text,
        outline,
    )


def _active_config(active: str | None) -> dict | None:
    if not active:
        return None
    try:
        config = state.store().get(active).get("config")
    except RunError:  # still starting: no folder yet
        config = training_job.launch_config(active)
    return config if isinstance(config, dict) and config.get("model") in form.SPECS else None


def check_form(model, active, *values):
    _, error = form.validate(model, dict(zip(form.FIELD_NAMES, values, strict=True)))
    invalid = [bool(error and error.field == n) for n in form.NUMERIC_FIELDS]
    message = f"Cannot start: {error}." if error else ""
    if active and not error:
        message = f"{active} is training; Start is available again when it ends (or after Cancel)."
    return (message, bool(error or active), *invalid)


def register() -> None:
    """Wire the form's callbacks (the page calls it each time Dash loads the page module)."""
    callback(
        *[Output(f"{form.field_id(n)}-wrap", "style") for n in form.FIELD_NAMES],
        *[Output(form.field_id(n), "value") for n in form.FIELD_NAMES],
        *[Output(form.field_id(n), "disabled") for n in form.FIELD_NAMES],
        Output("train-model", "value"),
        Output("train-model", "disabled"),
        Output("train-model-help", "children"),
        Output({"type": "train-preset", "name": ALL}, "outline"),
        Input("train-model", "value"),
        Input("train-active", "data"),
        Input({"type": "train-preset", "name": ALL}, "n_clicks"),
        State("train-watch", "data"),
    )(sync_form)
    callback(
        Output("train-form-error", "children"),
        Output("train-start", "disabled", allow_duplicate=True),
        *[Output(form.field_id(n), "invalid") for n in form.NUMERIC_FIELDS],
        Input("train-model", "value"),
        Input("train-active", "data"),
        *[Input(form.field_id(n), "value") for n in form.FIELD_NAMES],
        prevent_initial_call="initial_duplicate",
    )(check_form)
