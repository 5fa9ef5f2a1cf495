"""The training budget of a study: epochs × training photos (and the compute precision), written
into every conclusion drawn from it, because a technique's effect depends on it (a short budget
favours whatever converges fast; regularisers pay off only when training is long enough to overfit).

`parse("4x12000,8x48000")` reads the CLI's `--budgets`; `describe` gives the words every sentence
about an effect carries ("8 epochs on all 48 000 photos, bfloat16, about 2.5 min a run").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from core.models.config import COMMON_RANGES, MAX_TRAIN_SIZE
from core.models.rules import ConfigError

MAX_BUDGETS = 5
_BUDGET_RE = re.compile(r"^\s*(\d{1,3})\s*[x×]\s*(\d{3,5}|all)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Budget:
    epochs: int
    photos: int  # training photos per run; MAX_TRAIN_SIZE is the whole training split

    @property
    def key(self) -> str:
        """Run-id safe: "8x48000"."""
        return f"{self.epochs}x{self.photos}"

    @property
    def subset(self) -> int | None:
        """The TrainConfig subset: None (the whole split, in its usual order) for every photo."""
        return None if self.photos >= MAX_TRAIN_SIZE else self.photos

    @property
    def full(self) -> bool:
        return self.photos >= MAX_TRAIN_SIZE


def parse(text: str) -> list[Budget]:
    """ "4x12000,8x48000,24xall" → budgets, smallest first (ConfigError on anything else)."""
    out: list[Budget] = []
    for part in str(text).split(","):
        match = _BUDGET_RE.match(part)
        if not match:
            raise ConfigError(f"a budget looks like EPOCHSxPHOTOS, e.g. 8x48000 or 8xall; got {part.strip()!r}")
        epochs = COMMON_RANGES["epochs"].check("epochs", int(match.group(1)))
        photos = MAX_TRAIN_SIZE if match.group(2).lower() == "all" else int(match.group(2))
        COMMON_RANGES["subset"].check("training photos", photos)
        budget = Budget(epochs, photos)
        if budget in out:
            raise ConfigError(f"budget {budget.key} is given twice")
        out.append(budget)
    if not 1 <= len(out) <= MAX_BUDGETS:
        raise ConfigError(f"give between 1 and {MAX_BUDGETS} budgets")
    return sorted(out, key=lambda b: (b.epochs * b.photos, b.epochs))


def of_plan_entry(entry: dict[str, Any]) -> Budget:
    return Budget(int(entry["epochs"]), int(entry["photos"]))


def precision_words(precision: str | None) -> str:
    return "bfloat16" if precision == "mixed_bfloat16" else "float32"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 90:
        return f"about {seconds:.0f} s a run"
    return f"about {seconds / 60:.1f} min a run"


def describe(entry: dict[str, Any], seconds: float | None = None) -> str:
    """e.g. "8 epochs on all 48 000 photos (bfloat16, about 2.5 min a run)"."""
    photos = int(entry["photos"])
    where = f"all {photos:,} photos" if photos >= MAX_TRAIN_SIZE else f"{photos:,} photos"
    detail = ", ".join(p for p in (precision_words(entry.get("precision")), _duration(seconds)) if p)
    return f"{epochs_words(entry['epochs'])} on {where.replace(',', ' ')} ({detail})"


def epochs_words(epochs: int) -> str:
    return f"{epochs} epoch" + ("" if int(epochs) == 1 else "s")


def at_least_fast(entry: dict[str, Any], fast_epochs: int) -> bool:
    """Whether a budget is one the managers' summary may cite: every training photo and at least the
    fast preset's epochs."""
    return int(entry["photos"]) >= MAX_TRAIN_SIZE and int(entry["epochs"]) >= fast_epochs
