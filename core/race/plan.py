"""A race of architectures at equal training time: who is most accurate after 150 s, 10 min, 30 min
of training on this machine (DAWNBench's and MLPerf Training's question, asked of the studio's nets).

Every entrant gets one shared recipe family (AdamW, one-cycle, mirror augmentation with its test-time
mirror, label smoothing 0.1) and its own architecture; bfloat16 where the quiet timing shows it pays.
A budget is training seconds (what a run records as `timings.train_seconds`: the epochs and their
per-epoch validation). Each entrant's epochs at a budget are planned from its measured seconds per
epoch (`core.race.timing`, a quiet machine, interleaved and repeated), so once planned the runs may
share the machine: accuracy after a fixed number of epochs does not depend on what else runs.

A race is a plan file, `artifacts/races/<name>.json`, written once and never changed (a resumed race
trains what it planned), and ordinary runs `<name>-<budget>s-<entrant>-s<i>`, judged on the
validation split only (status `validated`; the test set is never scored).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from typing import Any

from core.models.config import MAX_TRAIN_SIZE, TrainConfig
from core.models.registry import get_spec
from core.models.rules import ConfigError
from core.store import ACTIVE, RunStore
from core.store.studies import StudyFolder

FOLDER = StudyFolder("races")
REFERENCE = "ref-race"  # the committed reference race: what the story, the presets and /race cite first
MIN_BUDGET_S = 30
MAX_BUDGET_S = 4 * 3600
MAX_BUDGETS = 5
MAX_SEEDS = 10

# the shared recipe family: what every entrant trains with (the presets' recipe, chosen on validation)
SHARED = {"optimizer": "adamw", "schedule": "onecycle", "label_smoothing": 0.1, "shift": 0.0, "tta": True}


@dataclass(frozen=True)
class Entrant:
    key: str  # run-id safe
    title: str  # what a person reads
    config: TrainConfig  # epochs and precision are set by the plan
    why: str
    short: str = ""  # for sentences: "ResNet-20"

    def __post_init__(self) -> None:
        if not self.short:
            object.__setattr__(self, "short", self.title.split(" (")[0].split(",")[0])

    @property
    def kind(self) -> str:
        """The model family's name as the leaderboard shows it ("CNN + Dropout", "Small ResNet")."""
        return get_spec(self.config.model).label


def _net(model: str, **kw: Any) -> TrainConfig:
    params = {**SHARED, **kw.pop("params", {})}
    return TrainConfig(model, batch_size=128, learning_rate=2e-3, augment=True, params=params, **kw)


ENTRANTS: dict[str, Entrant] = {
    e.key: e
    for e in (
        Entrant(
            "cnn64",
            "CNN + Dropout, width 64",
            _net("cnn_dropout", dropout=0.3, batchnorm=False, params={"width": 64, "padding": "same"}),
            "the best preset's network: Conv 64-128-256, Dense 128, dropout 0.3",
        ),
        Entrant(
            "resnet20",
            "ResNet-20 (3 blocks a stage, width 16)",
            _net("resnet", dropout=0.0, batchnorm=True, params={"width": 16, "blocks": 3}),
            "He et al. 2016's CIFAR ResNet-20 (16-32-64 filters, BatchNorm): the net behind the published 95 %",
        ),
        Entrant(
            "resnet_wide",
            "Wide ResNet (2 blocks a stage, width 32)",
            _net("resnet", dropout=0.0, batchnorm=True, params={"width": 32, "blocks": 2}),
            "a wider, shallower residual net in the spirit of WRN-14-2 (32-64-128 filters)",
        ),
        Entrant(
            "mobilenet",
            "MobileNet-style, width 32",
            _net("mobilenet", dropout=0.2, batchnorm=True, params={"width": 32}),
            "depthwise-separable blocks: few multiply-adds a photo",
        ),
    )
}


def entrant(key: str) -> Entrant:
    if key not in ENTRANTS:
        raise ConfigError(f"unknown architecture {key!r}; choose from: {', '.join(ENTRANTS)}")
    return ENTRANTS[key]


def parse_budgets(text: str) -> list[int]:
    """ "150,600,1800" → seconds, smallest first (ConfigError on anything else)."""
    out: list[int] = []
    for part in str(text).split(","):
        part = part.strip().lower().removesuffix("s")
        if not part.isascii() or not part.isdigit():
            raise ConfigError(f"a budget is whole seconds of training, e.g. 150,600,1800; got {part!r}")
        seconds = int(part)
        if not MIN_BUDGET_S <= seconds <= MAX_BUDGET_S:
            raise ConfigError(f"a budget is between {MIN_BUDGET_S} and {MAX_BUDGET_S} seconds, got {seconds}")
        if seconds in out:
            raise ConfigError(f"budget {seconds} s is given twice")
        out.append(seconds)
    if not 1 <= len(out) <= MAX_BUDGETS:
        raise ConfigError(f"give between 1 and {MAX_BUDGETS} budgets")
    return sorted(out)


def plan_epochs(budget_s: float, epoch_s: float, overhead_s: float = 0.0) -> int:
    """The most whole epochs whose planned seconds (overhead + epochs x seconds per epoch) fit the
    budget; at least 1 (a budget too small for one epoch still trains one, and says so in its plan)."""
    if epoch_s <= 0 or not math.isfinite(epoch_s):
        raise ConfigError(f"seconds per epoch must be a positive number, got {epoch_s}")
    return max(1, math.floor((budget_s - overhead_s) / epoch_s + 1e-9))


def budget_words(seconds: float) -> str:
    """150 → "2.5 minutes", 1800 → "30 minutes", 45 → "45 seconds"."""
    if seconds < 90:
        return f"{seconds:.0f} seconds"
    minutes = seconds / 60
    return f"{minutes:.0f} minutes" if abs(minutes - round(minutes)) < 0.05 else f"{minutes:.1f} minutes"


def config_for(key: str, epochs: int, precision: str, seed: int) -> TrainConfig:
    base = entrant(key).config
    return replace(base, epochs=int(epochs), seed=int(seed), params={**base.params, "precision": precision}).resolve()


def run_id_of(name: str, budget_s: int, key: str, seed_index: int) -> str:
    return f"{name}-{int(budget_s)}s-{key}-s{seed_index}"


@dataclass(frozen=True)
class Race:
    """The plan as written when the race began (JSON in `artifacts/races/<name>.json`)."""

    raw: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.raw["name"])

    @property
    def budgets(self) -> list[int]:
        return [int(b) for b in self.raw["budgets"]]

    @property
    def seeds(self) -> list[int]:
        return [int(s) for s in self.raw["seeds"]]

    @property
    def entrants(self) -> list[str]:
        return list(self.raw["entrants"])

    def cell(self, budget_s: int, key: str) -> dict[str, Any]:
        """{epochs, precision, planned_seconds} of one entrant at one budget."""
        return self.raw["cells"][str(int(budget_s))][key]

    def cells(self) -> list[tuple[int, str, int, int]]:
        """(budget, entrant, seed index from 1, seed) in training order: the smallest budget first and
        every entrant of seed 1 before seed 2, so an unfinished race already has pairs to compare."""
        return [
            (b, key, i, seed)
            for b in self.budgets
            for i, seed in enumerate(self.seeds, start=1)
            for key in self.entrants
        ]

    def run_ids(self) -> list[str]:
        return [run_id_of(self.name, b, key, i) for b, key, i, _ in self.cells()]


def load(name: str) -> Race:
    try:
        raw = json.loads(FOLDER.plan(name).read_text())
    except FileNotFoundError:
        raise ConfigError(f"there is no race called {name}") from None
    except json.JSONDecodeError:
        raise ConfigError(f"the plan of race {name} is not valid JSON") from None
    needed = ("name", "budgets", "seeds", "entrants", "cells", "timing")
    if not isinstance(raw, dict) or any(k not in raw for k in needed):
        raise ConfigError(f"the plan of race {name} is incomplete")
    return Race(raw)


def state(store: RunStore, run_id: str) -> str:
    """done, running, pending (no run yet) or redo (a run that failed, was interrupted or is damaged)."""
    if not store.exists(run_id):
        return "pending"
    status = store.get(run_id).get("status")
    return "done" if status == "validated" else "running" if status in ACTIVE else "redo"


def photos_words() -> str:
    return f"all {MAX_TRAIN_SIZE:,} training photos".replace(",", " ")
