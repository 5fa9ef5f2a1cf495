"""Where a run's recipe came from, in one short phrase for the leaderboard and the story, so that
"best of each kind of model" is read with its recipe: "preset best", "race 30 min", "reference recipe
(older: no mirror, Adam)", "own settings", "imported (pytorch 2.5)"."""

from __future__ import annotations

from typing import Any


def recipe_words(record: dict[str, Any]) -> str:
    """Where a run's recipe came from, in one short phrase, so "best of each kind" is read with it:
    "preset best", "race 30 minutes", "reference recipe", "own settings", "imported (pytorch 2.5)"."""
    source = record.get("source") if isinstance(record.get("source"), dict) else None
    if source:
        framework = f" ({source['framework']})" if source.get("framework") else ""
        kind = {"import": "imported", "keras-callback": "Keras callback", "script": "logged by a script"}
        return kind.get(str(source.get("kind")), "imported") + framework
    race = record.get("race") if isinstance(record.get("race"), dict) else None
    if race and race.get("budget_seconds"):
        seconds = float(race["budget_seconds"])
        return f"race {seconds:.0f} s" if seconds < 90 else f"race {seconds / 60:g} min"
    produced: dict[str, Any] = record["produced_by"] if isinstance(record.get("produced_by"), dict) else {}
    preset = record.get("preset") or produced.get("preset")
    if preset:
        return f"preset {preset}"
    if record.get("family") == "ensemble":
        return "average of runs"
    if record.get("ablation") or record.get("study"):
        return "study variant"
    if produced.get("reference"):
        return "reference recipe" + _older(record)
    return "own settings"


def _older(record: dict[str, Any]) -> str:
    """For a deep reference run: what its recipe lacks of the shared one the race and the presets use
    (mirror augmentation with TTA, label smoothing, AdamW, one-cycle), e.g. " (older: no mirror, Adam)"."""
    config = record.get("config") if isinstance(record.get("config"), dict) else {}
    if record.get("family") != "deep" or not config:
        return ""
    params = config.get("params") or {}
    missing = [
        text
        for text, ok in (
            ("no mirror", config.get("augment")),
            ("no test-time mirror", params.get("tta")),
            ("no smoothing", params.get("label_smoothing")),
            (str(params.get("optimizer") or "adam").replace("adam", "Adam"), params.get("optimizer") == "adamw"),
            (str(params.get("schedule") or "constant") + " rate", params.get("schedule") == "onecycle"),
        )
        if not ok
    ]
    return f" (older: {', '.join(missing)})" if missing else ""
