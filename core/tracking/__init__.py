"""Runs from anywhere: log a run from any script (`start_run`), from Keras training (`KerasCallback`),
or import a model's saved test probabilities (`core.tracking.importer`, `python -m core import`). Each
becomes an ordinary run folder written through core.store, so the leaderboard, the paired tests,
/errors, seed groups, the story and the report treat it like the studio's own runs."""

from core.tracking.run import TrackedRun, start_run


def KerasCallback(*args, **kwargs):
    from core.tracking.keras_callback import KerasCallback as make

    return make(*args, **kwargs)


__all__ = ["KerasCallback", "TrackedRun", "start_run"]
