"""The training form: fields per option, which apply to which model, and form -> TrainConfig."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from core.models import SPECS, get_spec
from core.models.config import MAX_TRAIN_SIZE, ConfigError, TrainConfig
from core.models.rules import Range, RunRef, show_number

# (option, label, help, input kwargs); numbers use dbc.Input(type="number")
NUMBER_FIELDS: list[tuple[str, str, str, dict]] = [
    ("epochs", "Epochs", "passes over the training photos", {"step": "any"}),
    ("batch_size", "Batch size", "photos per weight update", {"step": "any"}),
    ("learning_rate", "Learning rate", "step size of the optimiser's weight updates", {"step": "any"}),
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
# each model's own parameters (core.models SPECS[...].params): label and help for people
PARAM_TEXT: dict[str, tuple[str, str]] = {
    "schedule": (
        "Learning-rate schedule",
        "constant; cosine decay to 0; or one-cycle (warm up over the first 20 %, then cosine decay)",
    ),
    "optimizer": ("Optimizer", "Adam; AdamW (Adam with weight decay); SGD with Nesterov momentum"),
    "label_smoothing": ("Label smoothing", "aim at 90 % instead of 100 % confidence (0 = off)"),
    "shift": ("Augmentation: largest shift", "random shifts up to this share of the photo while training"),
    "erasing": (
        "Augmentation: random erasing",
        "share of training photos with a random patch replaced by noise (0 = off)",
    ),
    "ema": (
        "Weight averaging (EMA)",
        "keep a moving average of the weights with this momentum, e.g. 0.999, and save it (0 = off)",
    ),
    "tta": ("Test-time augmentation", "predict the mean of each photo and its mirror image"),
    "teacher": (
        "Teacher run (distillation)",
        "learn from this run's probabilities too (blank = off), e.g. ref-ensemble",
    ),
    "distill_temperature": ("Distillation temperature", "how much the teacher's probabilities are softened"),
    "distill_weight": ("Distillation weight", "share of the loss that follows the teacher (the rest: the labels)"),
    "precision": (
        "Compute precision",
        "float32, or mixed bfloat16: about 2x faster for wide networks on AVX-512 BF16 CPUs (check validation)",
    ),
    "kernel_size": ("Kernel size", "3x3 or 5x5 convolution filters"),
    "cell": ("HOG cell size", "pixels per cell of the gradient histograms"),
    "coarse_cell": ("Second HOG grid", "also compute HOG on a coarser grid of this cell size (0 = off)"),
    "pixel_weight": ("Pixels beside HOG", "weight of the raw pixels added to the HOG features (0 = HOG alone)"),
    "max_leaf_nodes": ("Leaves per tree", "how finely each boosting tree splits"),
    "learning_rate": ("Learning rate", "shrinkage of each boosting round"),
    "padding": (
        "Convolution padding",
        "same keeps the border pixels; valid drops them (as the original report's CNN did)",
    ),
    "width": ("Width", "filters in the first stage (doubled per stage)"),
    "blocks": ("Blocks per stage", "residual blocks in each of the three stages"),
    "C": ("C (inverse regularisation)", "larger = fits the training photos more closely"),
    "max_iter": ("Max iterations", "solver steps before it stops"),
    "pca": ("PCA components", "pixels compressed to this many numbers first"),
    "n_estimators": ("Trees", "number of decision trees"),
    "max_depth": ("Max depth", "levels per tree (0 = grow until pure)"),
    "k": ("k (neighbours)", "how many closest training photos vote"),
    "hidden": ("Hidden layers", "neurons per hidden layer"),
    "alpha": ("L2 penalty (alpha)", "weight decay; larger = simpler model"),
}
# (form name, model, parameter, default, Range or tuple of choices)
PARAM_FIELDS: list[tuple[str, str, str, Any, Any]] = [
    (f"param__{model}__{pname}", model, pname, default, rule)
    for model, spec in SPECS.items()
    for pname, (default, rule) in spec.params.items()
]
_PARAMS = {f[0]: f for f in PARAM_FIELDS}
FIELD_NAMES = [f[0] for f in NUMBER_FIELDS] + [f[0] for f in SWITCH_FIELDS] + [f[0] for f in PARAM_FIELDS]
NUMERIC_FIELDS = [f[0] for f in NUMBER_FIELDS] + [f[0] for f in PARAM_FIELDS if isinstance(f[4], Range)]
DEFAULT_MODEL = "cnn"
DEMO_SUBSET = 2000


def model_options() -> list[dict[str, str]]:
    return [
        {"label": f"{spec.label} ({'deep learning' if spec.family == 'deep' else 'classic'})", "value": name}
        for name, spec in SPECS.items()
    ]


def applies(model: str, option: str) -> bool:
    if option in _PARAMS:
        return _PARAMS[option][1] == model
    return option in ALWAYS or option in get_spec(model).options


def default_value(model: str, option: str) -> Any:
    if option in _PARAMS:
        return _PARAMS[option][3]
    if option == "seed":
        return 42
    if option == "subset":
        return DEMO_SUBSET
    return get_spec(model).options.get(option)


def values_of(model: str, config: dict[str, Any] | None = None) -> list[Any]:
    """The form's values (FIELD_NAMES order): a run's own settings when `config` is given (its
    record's config), else the model's defaults. Choices are sent as the strings the selects hold."""
    return [_shown(name, value) for name, value in zip(FIELD_NAMES, _values_of(model, config), strict=True)]


def _shown(name: str, value: Any) -> Any:
    return str(value) if name in _PARAMS and not isinstance(_PARAMS[name][4], Range) else value


def _values_of(model: str, config: dict[str, Any] | None) -> list[Any]:
    if not config:
        return [default_value(model, name) for name in FIELD_NAMES]
    values = []
    for name in FIELD_NAMES:
        if name in _PARAMS:
            values.append((config.get("params") or {}).get(_PARAMS[name][2], _PARAMS[name][3]))
        else:
            value = config.get(name)
            values.append(default_value(model, name) if value is None and name != "subset" else value)
    return values


def field_id(option: str) -> str:
    if option in _PARAMS:
        return f"train-{_PARAMS[option][1]}-{_PARAMS[option][2]}".replace("_", "-")
    return f"train-{option.replace('_', '-')}"


def _param_field(name: str, model: str, pname: str, default: Any, rule: Any) -> html.Div:
    label, help_text = PARAM_TEXT.get(pname, (pname, ""))
    if isinstance(rule, Range):
        control = dbc.Input(id=field_id(name), type="number", size="sm", value=default, step="any")
        help_text = f"{help_text} ({show_number(rule.low)}–{show_number(rule.high)})"
    elif isinstance(rule, RunRef):
        control = dbc.Input(id=field_id(name), type="text", size="sm", value=default, placeholder="run id")
    else:
        control = dbc.Select(  # option values are strings in the browser; _choice maps them back
            id=field_id(name), options=[{"label": str(c), "value": str(c)} for c in rule], value=str(default), size="sm"
        )
    return html.Div(
        [
            dbc.Label(label, html_for=field_id(name), className="mb-0 small fw-semibold"),
            control,
            dbc.FormText(help_text),
        ],
        id=f"{field_id(name)}-wrap",
        className="mb-2",
        style=None if model == DEFAULT_MODEL else {"display": "none"},
    )


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
    rows += [_param_field(*field) for field in PARAM_FIELDS]
    return rows


def form_config(model: str, values: dict[str, Any]) -> TrainConfig:
    """A TrainConfig from form values; options that do not apply to `model` are left out."""
    get_spec(model)  # ConfigError for an unknown model
    kwargs: dict[str, Any] = {}
    params: dict[str, Any] = {}
    for name in FIELD_NAMES:
        if not applies(model, name):
            continue
        value = values.get(name)
        if name in _PARAMS:
            _, _, pname, _, rule = _PARAMS[name]
            if isinstance(rule, RunRef):
                params[pname] = value or ""
                continue
            if value in (None, ""):
                raise ConfigError(f"{pname} is empty or not a number", field=name)
            params[pname] = value if isinstance(rule, Range) else _choice(value, rule)
            continue
        if value in (None, ""):
            if name in ("subset",):
                continue
            raise ConfigError(f"{name.replace('_', ' ')} is empty or not a number", field=name)
        kwargs[name] = bool(value) if name in ("batchnorm", "augment") else value
    return TrainConfig(model=model, params=params, **kwargs)


def _choice(value: Any, choices: tuple) -> Any:
    """A select's value (always a string in the browser) back as the choice it names."""
    return next((c for c in choices if str(c) == str(value)), value)


def validate(model: str, values: dict[str, Any]) -> tuple[TrainConfig | None, ConfigError | None]:
    """(resolved config, None) or (None, the error to show)."""
    try:
        return form_config(model, values).resolve(), None
    except ConfigError as exc:
        param = next((f[0] for f in PARAM_FIELDS if f[1] == model and f[2] == exc.field), None)
        exc.field = param or exc.field  # a model parameter's error points at its own field
        return None, exc


def seeds_value(value: Any) -> int:
    """The "Repeat over seeds" field as a count of runs, 1 to 10 (1 for anything unreadable)."""
    try:
        return max(1, min(int(value), 10))
    except (TypeError, ValueError):
        return 1
