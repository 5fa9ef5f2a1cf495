"""Setting errors read like a person writes numbers, and say what is wrong."""

from __future__ import annotations

import pytest

from core.models.config import TrainConfig
from core.models.rules import ConfigError, show_number


@pytest.mark.parametrize(
    "value, shown",
    [
        (1_000_000, "1,000,000"),
        (2**31 - 1, "2,147,483,647"),
        (0.001, "0.001"),
        (2.5, "2.5"),
        (48000.0, "48,000"),
        (1e-06, "1e-06"),
    ],
)
def test_numbers_are_shown_as_people_write_them(value, shown):
    assert show_number(value) == shown


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"epochs": 2.5}, "epochs must be a whole number, got 2.5"),
        ({"epochs": 1_000_000}, "epochs must be between 1 and 500, got 1,000,000"),
        ({"seed": 2**40}, "seed must be between 0 and 2,147,483,647, got 1,099,511,627,776"),
        ({"learning_rate": float("inf")}, "learning rate must be a finite number"),
        ({"subset": 5}, "subset must be between 100 and 48,000, got 5"),
    ],
)
def test_setting_errors_are_plain(settings, message):
    with pytest.raises(ConfigError) as err:
        TrainConfig("cnn", **settings).resolve()
    assert str(err.value) == message or str(err.value).startswith(message)


def test_the_model_zoo_and_the_config_do_not_import_each_other():
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "core"
    zoo = ast.parse((root / "models" / "registry.py").read_text())
    # imports that run (module level, or inside functions); `if TYPE_CHECKING:` blocks are annotations only
    typing_only = {id(n) for block in zoo.body if isinstance(block, ast.If) for n in ast.walk(block)}
    imported = {
        node.module for node in ast.walk(zoo) if isinstance(node, ast.ImportFrom) and id(node) not in typing_only
    }
    assert "core.models.config" not in imported and "core.models.rules" in imported
