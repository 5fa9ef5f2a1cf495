"""Training: the configuration (`config`, `rules`), the engine (`engine.train`), live progress
(`progress`, `cli_progress`) and the reference runs (`reference`).

`core.training.train(...)` is the engine's entry point (imported on first use, so the model zoo
can import the configuration rules without importing the engine).
"""

from typing import Any

_ENGINE = ("train",)


def __getattr__(name: str) -> Any:
    if name in _ENGINE:
        from core.training import engine

        return getattr(engine, name)
    raise AttributeError(f"module 'core.training' has no attribute {name!r}")
