"""Search spaces: which settings a study varies, over which ranges, checked against the model zoo.

A dimension is (kind, low, high, log) for numbers or ("choice", values) for categories. Every range
must lie inside the option's own allowed range (core.models / core.models.config), so a study can
never sample a setting that training would refuse.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.models import get_spec
from core.models.config import COMMON_RANGES
from core.models.rules import ConfigError, Range, show_number

MAX_TRIALS = 500


@dataclass(frozen=True)
class Dim:
    name: str
    kind: str  # "float", "int" or "choice"
    low: float = 0.0  # numeric dimensions only
    high: float = 0.0
    log: bool = False
    choices: tuple = ()

    def describe(self) -> str:
        if self.kind == "choice":
            return f"{self.name} in {{{', '.join(map(str, self.choices))}}}"
        scale = " (log scale)" if self.log else ""
        return f"{self.name} from {show_number(self.low)} to {show_number(self.high)}{scale}"


# Sensible starting spaces (what the report asks: learning rate, kernel size, width, augmentation…)
_KERAS = {
    "learning_rate": Dim("learning_rate", "float", 1e-4, 1e-2, log=True),
    "batch_size": Dim("batch_size", "choice", choices=(64, 128, 256)),
    "optimizer": Dim("optimizer", "choice", choices=("adam", "adamw", "sgd")),
    "shift": Dim("shift", "float", 0.0, 0.2),
}
DEFAULT_SPACES: dict[str, dict[str, Dim]] = {
    "cnn": {
        **_KERAS,
        "kernel_size": Dim("kernel_size", "choice", choices=(3, 5)),
        "width": Dim("width", "int", 16, 64),
    },
    "cnn_dropout": {
        **_KERAS,
        "dropout": Dim("dropout", "float", 0.0, 0.6),
        "kernel_size": Dim("kernel_size", "choice", choices=(3, 5)),
    },
    "resnet": {**_KERAS, "width": Dim("width", "int", 16, 48)},
    "mobilenet": {**_KERAS, "width": Dim("width", "int", 16, 64)},
    "logreg": {"C": Dim("C", "float", 1e-3, 10.0, log=True)},
    "svm": {"C": Dim("C", "float", 0.1, 100.0, log=True), "pca": Dim("pca", "int", 20, 200)},
    "hog_svm": {"C": Dim("C", "float", 0.1, 100.0, log=True)},
    "knn": {"k": Dim("k", "int", 1, 30), "pca": Dim("pca", "int", 10, 150)},
    "random_forest": {"n_estimators": Dim("n_estimators", "int", 50, 400), "max_depth": Dim("max_depth", "int", 0, 60)},
    "hist_gb": {
        "learning_rate": Dim("learning_rate", "float", 0.02, 0.5, log=True),
        "max_leaf_nodes": Dim("max_leaf_nodes", "int", 8, 128),
    },
    "mlp": {
        "learning_rate": Dim("learning_rate", "float", 1e-4, 1e-2, log=True),
        "alpha": Dim("alpha", "float", 1e-5, 1e-1, log=True),
    },
}
COMMON = ("learning_rate", "batch_size", "dropout")  # TrainConfig fields; the rest are model params


def allowed(model: str) -> dict[str, Range | tuple]:
    """Every setting of `model` a study may vary, with the range training accepts."""
    spec = get_spec(model)
    rules: dict[str, Range | tuple] = {name: COMMON_RANGES[name] for name in COMMON if name in spec.options}
    rules.update({name: rule for name, (_default, rule) in spec.params.items()})
    return rules


def parse(model: str, overrides: list[str]) -> dict[str, Dim]:
    """The model's default space with `name=low:high` (or `name=a,b,c`) overrides; ConfigError when
    a name is unknown for the model or a range is empty, inverted or outside what training accepts."""
    space = dict(DEFAULT_SPACES.get(model, {}))
    rules = allowed(model)
    for text in overrides:
        if "=" not in text:
            raise ConfigError(f"search range {text!r} must look like name=low:high or name=a,b,c")
        name, raw = (part.strip() for part in text.split("=", 1))
        if name not in rules:
            raise ConfigError(f"{model} has no setting {name!r} to search; choose from {', '.join(sorted(rules))}")
        space[name] = _dim(name, raw, rules[name])
    if not space:
        raise ConfigError(f"nothing to search for {model}; give --space name=low:high")
    return space


def _dim(name: str, raw: str, rule: Range | tuple) -> Dim:
    if isinstance(rule, Range):
        if ":" not in raw:
            raise ConfigError(f"{name} needs a range low:high, got {raw!r}")
        low_text, high_text = raw.split(":", 1)
        try:
            low, high = float(low_text), float(high_text)
        except ValueError:
            raise ConfigError(f"{name}: {raw!r} is not a range of numbers") from None
        if low >= high:
            raise ConfigError(f"{name}: the range {raw} is empty or inverted (low must be below high)")
        rule.check(name, rule.kind(low) if rule.kind is int and low.is_integer() else low)
        rule.check(name, rule.kind(high) if rule.kind is int and high.is_integer() else high)
        kind = "int" if rule.kind is int else "float"
        return Dim(name, kind, low, high, log=kind == "float" and low > 0 and high / low >= 100)
    values = tuple(_cast(v.strip(), rule) for v in raw.split(",") if v.strip())
    if not values:
        raise ConfigError(f"{name}: no values given")
    return Dim(name, "choice", choices=values)


def _cast(text: str, choices: tuple) -> Any:
    for choice in choices:
        if str(choice) == text:
            return choice
    raise ConfigError(f"{text!r} is not a choice of this setting; choose from {', '.join(map(str, choices))}")


def check_budget(trials: int) -> int:
    if isinstance(trials, bool) or not isinstance(trials, int) or not 1 <= trials <= MAX_TRIALS:
        raise ConfigError(f"the trial budget must be a whole number from 1 to {MAX_TRIALS}, got {trials!r}")
    return trials
