"""The training form: fields per option, which apply to which model, and form -> TrainConfig."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from core.models import SPECS, get_spec
from core.training.config import MAX_TRAIN_SIZE, ConfigError, TrainConfig

# (option, label, help, input kwargs); numbers use dbc.Input(type="number")
NUMBER_FIELDS: list[tuple[str, str, str, dict]] = [
    ("epochs", "Epochs", "passes over the training photos", {"step": "any"}),
    ("batch_size", "Batch size", "photos per weight update", {"step": "any"}),
    ("learning_rate", "Learning rate", "step size of the optimiser (Adam)", {"step": "any"}),
    ("dropout", "Dropout rate", "share of neurons switched off while training (0–0.9)", {"step": "any"}),
    (
        "early_stopping",
        "Early stopping patience",
        "stop after this many epochs without improvement (0 = off)",
        {"step": "any"},
    ),
    ("subset", "Training photos", f"blank = all {MAX_TRAIN_SIZE:,}; a few hundred for a quick demo", {"step": "any"}),
    ("seed", "Seed", "same seed, same result", {"step": "any"}),
]
SWITCH_FIELDS: list[tuple[str, str]] = [
    ("batchnorm", "BatchNorm (normalise activations between layers)"),
    ("augment", "Augmentation (random small shifts and mirror images while training)"),
]
ALWAYS = {"subset", "seed"}
FIELD_NAMES = [f[0] for f in NUMBER_FIELDS] + [f[0] for f in SWITCH_FIELDS]
DEFAULT_MODEL = "cnn"
DEMO_SUBSET = 2000


def model_options() -> list[dict[str, str]]:
    return [
        {"label": f"{spec.label} ({'deep learning' if spec.family == 'deep' else 'classic'})", "value": name}
        for name, spec in SPECS.items()
    ]


def applies(model: str, option: str) -> bool:
    return option in ALWAYS or option in get_spec(model).options


def default_value(model: str, option: str) -> Any:
    if option == "seed":
        return 42
    if option == "subset":
        return DEMO_SUBSET
    return get_spec(model).options.get(option)


def field_id(option: str) -> str:
    return f"train-{option.replace('_', '-')}"


def form_fields() -> list:
    """The inputs, each wrapped in a div whose visibility follows the chosen model."""
    rows = []
    for name, label, help_text, kwargs in NUMBER_FIELDS:
        rows.append(
            html.Div(
                [
                    dbc.Label(label, html_for=field_id(name), className="mb-0 small fw-semibold"),
                    dbc.Input(
                        id=field_id(name),
                        type="number",
                        size="sm",
                        value=default_value(DEFAULT_MODEL, name),
                        debounce=False,
                        **kwargs,
                    ),
                    dbc.FormText(help_text),
                ],
                id=f"{field_id(name)}-wrap",
                className="mb-2",
            )
        )
    for name, label in SWITCH_FIELDS:
        rows.append(
            html.Div(
                dbc.Switch(id=field_id(name), label=label, value=bool(default_value(DEFAULT_MODEL, name))),
                id=f"{field_id(name)}-wrap",
                className="mb-1",
            )
        )
    return rows


def form_config(model: str, values: dict[str, Any]) -> TrainConfig:
    """A TrainConfig from form values; options that do not apply to `model` are left out."""
    get_spec(model)  # ConfigError for an unknown model
    kwargs: dict[str, Any] = {}
    for name in FIELD_NAMES:
        if not applies(model, name):
            continue
        value = values.get(name)
        if value in (None, ""):
            if name in ("subset",):
                continue
            raise ConfigError(f"{name.replace('_', ' ')} is empty or not a number", field=name)
        kwargs[name] = bool(value) if name in ("batchnorm", "augment") else value
    return TrainConfig(model=model, **kwargs)


def validate(model: str, values: dict[str, Any]) -> tuple[TrainConfig | None, ConfigError | None]:
    """(resolved config, None) or (None, the error to show)."""
    try:
        return form_config(model, values).resolve(), None
    except ConfigError as exc:
        return None, exc
