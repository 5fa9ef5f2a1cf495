"""The facts a sentence about a run may state, decided once and typed.

Pages, the story, the managers' summary, the report and the CLI used to decide their facts each on
their own (four filters for "the most accurate", four tests of "beyond chance", sizes typed as
literals) and then phrase them. Here each fact is decided once:

- `Paired`: one paired comparison of two runs on the same test photos (from `stats.paired`), with
  the single definition of "beyond chance" (`stats.beyond_chance`) and of which run is the better;
- `RunFacts`: one run as a sentence may speak of it: its name for people, what kind of run it is
  (core.evaluation.ranking), its accuracy and interval, its rank among the ranked runs and the most
  accurate run beside it, its budget (photos, epochs, precision), the shape of its validation curve
  (`Curve`, from analysis.curve_shape), the study it belongs to and its most common mistake.

The sentences themselves live in `core.evaluation.wording`; its functions take only these facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.evaluation import analysis, ranking, stats


def display_name(record: dict[str, Any]) -> str:
    """A model's name for people (never a run id): its label, and its preset when it came from one."""
    preset = record.get("preset") or (record.get("produced_by") or {}).get("preset")
    label = record.get("label") or record.get("model") or record.get("run_id")
    return f"{label} ({preset} recipe)" if preset else str(label)


@dataclass(frozen=True)
class Paired:
    """Runs `a` and `b` on the same test photos: accuracies, A − B with Newcombe's 95 % interval, the
    photos only one gets right, and the exact McNemar p-value."""

    a: str
    b: str
    name_a: str
    name_b: str
    accuracy_a: float
    accuracy_b: float
    difference: float  # accuracy of A minus accuracy of B (a fraction)
    interval: tuple[float, float]
    p: float
    a_only: int  # photos only A gets right
    b_only: int
    both_right: int
    both_wrong: int

    @classmethod
    def of(cls, result: dict[str, Any], name_a: str | None = None, name_b: str | None = None) -> Paired:
        """From a `stats.paired` / `comparison.compare_runs` result (names default to its labels or ids)."""
        low, high = result["difference_ci95"]
        name_a = name_a or result.get("label_a") or result["a"]
        name_b = name_b or result.get("label_b") or result["b"]
        if name_a == name_b and result["a"] != result["b"]:  # two runs of one model: tell them apart
            name_a, name_b = f"{name_a} ({result['a']})", f"{name_b} ({result['b']})"
        return cls(
            a=result["a"],
            b=result["b"],
            name_a=name_a,
            name_b=name_b,
            accuracy_a=float(result["accuracy_a"]),
            accuracy_b=float(result["accuracy_b"]),
            difference=float(result["difference"]),
            interval=(float(low), float(high)),
            p=float(result["mcnemar_p"]),
            a_only=int(result["a_right_b_wrong"]),
            b_only=int(result["b_right_a_wrong"]),
            both_right=int(result["both_right"]),
            both_wrong=int(result["both_wrong"]),
        )

    @property
    def beyond_chance(self) -> bool:
        """The one definition (stats.beyond_chance): McNemar p < ALPHA, and the discordant counts differ."""
        return stats.beyond_chance(
            {"mcnemar_p": self.p, "a_right_b_wrong": self.a_only, "b_right_a_wrong": self.b_only}
        )

    @property
    def better(self) -> str | None:
        """ "a" or "b" when one is better beyond chance; None when the gap could be noise."""
        if not self.beyond_chance:
            return None
        return "a" if self.difference > 0 else "b"


@dataclass(frozen=True)
class Explanation:
    """A heatmap shown for a run: whose it is (`shown_name`; borrowed when the run on screen, `about`,
    has none of its own), the method, and whether that method's faithfulness was measured for it."""

    about: str
    shown_name: str
    borrowed: bool
    method: str
    measured: bool


@dataclass(frozen=True)
class Standing:
    """Where a run stands: its rank among the ranked runs (None when it is not ranked) and the most
    accurate run (None when nothing is ranked)."""

    rank: int | None
    ranked_runs: int
    model_kinds: int
    leader_id: str | None
    leader_name: str | None
    leader_accuracy: float | None

    @property
    def is_leader(self) -> bool:
        return self.rank == 1


@dataclass(frozen=True)
class Curve:
    """How a run's validation accuracy ended (core.evaluation.analysis.curve_shape): still rising beyond
    its epoch-to-epoch noise, or flat for its last `flat_for` epochs, or neither."""

    epochs: int
    best_epoch: int | None
    improving: bool
    flat: bool
    flat_for: int
    rise: float  # validation accuracy gained over the last `window` epochs (a fraction)
    window: int
    first: float = 0.0  # validation accuracy at the first epoch
    last: float = 0.0  # ... at the last epoch
    best: float = 0.0  # ... at its best epoch

    @classmethod
    def of(cls, history: list[dict[str, Any]]) -> Curve | None:
        """None when the run has no epochs with a validation accuracy (a classic model, say)."""
        rows = [h for h in history if isinstance(h.get("val_accuracy"), (int, float))]
        if not rows:
            return None
        shape = analysis.curve_shape(rows)
        best = max(rows, key=lambda h: h["val_accuracy"])
        return cls(
            epochs=len(rows),
            best_epoch=best.get("epoch"),
            improving=bool(shape["improving"]),
            flat=bool(shape["flat"]),
            flat_for=int(shape["flat_for"]),
            rise=float(shape["rise"]),
            window=int(shape["window"]),
            first=float(rows[0]["val_accuracy"]),
            last=float(rows[-1]["val_accuracy"]),
            best=float(best["val_accuracy"]),
        )


@dataclass(frozen=True)
class RunFacts:
    run_id: str
    name: str  # for people: label (and preset), never the run id
    family: str | None
    kind: str  # core.evaluation.ranking.kind: ranked, demo, study, …
    accuracy: float | None  # test accuracy; None for a run never scored on the test set
    interval: tuple[float, float] | None
    n_test: int | None
    n_train: int
    epochs_run: int | None
    precision: str
    standing: Standing
    top_confusion: tuple[str, str, int] | None  # (true class, answer, photos) of its most common mistake
    validation_accuracy: float | None = None  # on its validation photos (every run that trained has one)
    n_val: int | None = None
    study: str | None = None  # the ablation study it is a cell of
    curve: Curve | None = None
    tta: bool = False  # its validation (and test) score averages each photo with its mirror; its epochs' do not


def standing(run_id: str, ranked: list[dict[str, Any]]) -> Standing:
    """`ranked`: the ranked runs, most accurate first (ranking.ranked)."""
    place = ranking.rank_of(run_id, ranked)
    leader = ranked[0] if ranked else None
    return Standing(
        rank=place[0] if place else None,
        ranked_runs=len(ranked),
        model_kinds=len({r.get("label") or r.get("model") for r in ranked}),
        leader_id=leader["run_id"] if leader else None,
        leader_name=display_name(leader) if leader else None,
        leader_accuracy=float(leader["metrics"]["test_accuracy"]) if leader else None,
    )


def run_facts(
    record: dict[str, Any],
    ranked: list[dict[str, Any]],
    top_confusion: tuple[str, str, int] | None = None,
    history: list[dict[str, Any]] | None = None,
) -> RunFacts:
    """The facts of one run record, placed among `ranked` (the ranked runs, most accurate first);
    `history` (its epochs, store.history) gives the shape of its curve."""
    metrics = record.get("metrics") or {}
    validation = record.get("validation") or {}
    val_accuracy = validation.get("val_accuracy", metrics.get("val_accuracy"))
    ci = metrics.get("test_accuracy_ci95")
    config = record.get("config") or {}
    accuracy = metrics.get("test_accuracy")
    return RunFacts(
        run_id=record["run_id"],
        name=display_name(record),
        family=record.get("family"),
        kind=ranking.kind(record),
        accuracy=float(accuracy) if accuracy is not None else None,
        interval=(float(ci[0]), float(ci[1])) if ci else None,
        n_test=(record.get("data") or {}).get("n_test"),
        n_train=ranking.n_train(record),
        epochs_run=record.get("epochs_run"),
        precision=str((config.get("params") or {}).get("precision") or "float32"),
        standing=standing(record["run_id"], ranked),
        top_confusion=top_confusion,
        validation_accuracy=float(val_accuracy) if isinstance(val_accuracy, (int, float)) else None,
        n_val=validation.get("n_val") or (record.get("data") or {}).get("n_val"),
        study=(record.get("ablation") or {}).get("study"),
        curve=Curve.of(history) if history else None,
        tta=uses_tta(record),
    )


def uses_tta(record: dict[str, Any]) -> bool:
    """Whether a run's final scores average each photo with its mirror (test-time augmentation): then
    its per-epoch validation figures (measured without it) differ from its final validation score."""
    return bool(((record.get("config") or {}).get("params") or {}).get("tta"))
