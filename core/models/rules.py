"""Validation primitives shared by the model zoo and the training configuration.

They live apart from both, so `core.models` (which declares each model's parameter ranges) and
`core.models.config` (which resolves a configuration against the registry) import them without importing
each other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


def show_number(value: float) -> str:
    """A number as people write it: 1,000,000 and 2,147,483,647, 0.001, 2.5."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:g}"


class ConfigError(ValueError):
    """An invalid training setting; str(error) is a one-line message for people.

    `field` names the offending option (e.g. "learning_rate") when there is one.
    """

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class RunRef:
    """A setting naming another run (e.g. a distillation teacher): "" for none, else a valid run id.
    Whether the run exists and is complete is checked when training starts."""

    def check(self, name: str, value: Any) -> str:
        import re

        if value is None or value == "":
            return ""
        if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,80}", value):
            raise ConfigError(f"{name} must name a run (letters, digits, - and _), got {str(value)[:60]!r}")
        return value


@dataclass(frozen=True)
class Range:
    """Allowed values of a numeric option."""

    kind: type
    low: float
    high: float

    def check(self, name: str, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{name} must be a number, got {value!r}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{name} must be a finite number, got {value!r}")
        if self.kind is int and (isinstance(value, float) and not value.is_integer()):
            raise ConfigError(f"{name} must be a whole number, got {show_number(value)}")
        value = self.kind(value)
        if not self.low <= value <= self.high:
            raise ConfigError(
                f"{name} must be between {show_number(self.low)} and {show_number(self.high)}, got {show_number(value)}"
            )
        return value
