"""Training configuration: one dataclass, the option table per model, and validation.

`TrainConfig.resolve()` fills each model's defaults and refuses anything invalid with a
`ConfigError` whose message is one plain line (the CLI prints it; the UI shows it inline).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from core.models.registry import get_spec
from core.models.rules import ConfigError, Range

__all__ = ["MAX_TRAIN_SIZE", "MIN_SUBSET", "ConfigError", "Range", "TrainConfig", "parse_param", "to_cli_args"]

MAX_TRAIN_SIZE = 48000  # the 80 % training split of the 60 000 images
MIN_SUBSET = 100


# The common options and their limits ("absurd" values are refused, not clamped).
COMMON_RANGES: dict[str, Range] = {
    "epochs": Range(int, 1, 500),
    "batch_size": Range(int, 1, 8192),
    "learning_rate": Range(float, 1e-6, 1.0),
    "dropout": Range(float, 0.0, 0.9),
    "early_stopping": Range(int, 0, 100),
    "subset": Range(int, MIN_SUBSET, MAX_TRAIN_SIZE),
    "seed": Range(int, 0, 2**31 - 1),
}
BOOL_OPTIONS = ("batchnorm", "augment")


@dataclass(frozen=True)
class TrainConfig:
    """What to train and how. `None` means "the model's default"; see `resolve()`."""

    model: str
    epochs: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    dropout: float | None = None
    batchnorm: bool | None = None
    augment: bool | None = None
    early_stopping: int | None = None  # patience in epochs; 0 = off; best epoch restored
    subset: int | None = None  # stratified training subset for quick demos
    seed: int = 42
    params: dict[str, Any] = field(default_factory=dict)  # model-specific extras (e.g. C, k)

    def resolve(self) -> TrainConfig:
        """A copy with every applicable option set and validated; ConfigError when invalid."""
        spec = get_spec(self.model)
        updates: dict[str, Any] = {}
        for opt in [f.name for f in fields(self) if f.name not in ("model", "params")]:
            try:
                self._resolve_option(spec, opt, updates)
            except ConfigError as exc:
                exc.field = exc.field or opt
                raise
        updates["params"] = _resolve_params(self.model, spec.params, self.params)
        return replace(self, **updates)

    def _resolve_option(self, spec, opt: str, updates: dict[str, Any]) -> None:
        """Validate one common option into `updates` (ConfigError when invalid)."""
        value = getattr(self, opt)
        if opt in ("seed", "subset"):
            updates[opt] = None if value is None else COMMON_RANGES[opt].check(opt, value)
            return
        if opt not in spec.options:
            if value is not None:
                raise ConfigError(f"{opt.replace('_', ' ')} does not apply to model {self.model}")
            return
        value = spec.options[opt] if value is None else value
        if opt in BOOL_OPTIONS:
            if not isinstance(value, bool):
                raise ConfigError(f"{opt} must be true or false, got {value!r}")
        else:
            value = COMMON_RANGES[opt].check(opt.replace("_", " "), value)
        updates[opt] = value

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(raw) - known
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        if "model" not in raw:
            raise ConfigError("a model is required")
        return cls(**raw)


def _resolve_params(model: str, schema: dict[str, tuple[Any, Range | tuple]], given: dict[str, Any]) -> dict:
    """Fill and check model-specific parameters: schema maps name -> (default, Range or choices)."""
    unknown = set(given) - set(schema)
    if unknown:
        allowed = ", ".join(sorted(schema)) or "none"
        raise ConfigError(f"unknown parameter(s) for {model}: {', '.join(sorted(unknown))} (allowed: {allowed})")
    resolved = {}
    for name, (default, rule) in schema.items():
        value = given.get(name, default)
        if hasattr(rule, "check"):  # a Range or a RunRef
            try:
                value = rule.check(name, value)
            except ConfigError as exc:
                exc.field = name
                raise
        elif value not in rule:
            raise ConfigError(f"{name} must be one of {', '.join(map(str, rule))}, got {value!r}", field=name)
        resolved[name] = value
    return resolved


def parse_param(text: str) -> tuple[str, Any]:
    """`name=value` from the command line -> (name, int/float/bool/str value)."""
    if "=" not in text:
        raise ConfigError(f"parameter {text!r} must look like name=value")
    name, raw = (part.strip() for part in text.split("=", 1))
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return name, lowered == "true"
    for cast in (int, float):
        try:
            return name, cast(raw)
        except ValueError:
            pass
    return name, raw


_CLI_FLAGS = (
    ("epochs", "--epochs"),
    ("batch_size", "--batch-size"),
    ("learning_rate", "--lr"),
    ("dropout", "--dropout"),
    ("early_stopping", "--early-stopping"),
    ("subset", "--subset"),
    ("seed", "--seed"),
)


def to_cli_args(config: TrainConfig) -> list[str]:
    """The `python -m core train …` arguments that reproduce `config` exactly."""
    args = [config.model]
    for name, flag in _CLI_FLAGS:
        value = getattr(config, name)
        if value is not None:
            args += [flag, repr(value) if isinstance(value, float) else str(value)]
    for name in BOOL_OPTIONS:
        value = getattr(config, name)
        if value is not None:
            args.append(f"--{name}" if value else f"--no-{name}")
    for key, value in config.params.items():
        args += ["--set", f"{key}={value}"]
    return args
