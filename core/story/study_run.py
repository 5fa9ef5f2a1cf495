"""The story's last slide for a run that was never scored on the test photos: a cell of an ablation
study, judged on its validation photos only. The slides about test mistakes and heatmaps cannot be
told of it; this slide says what the run is for, where it stands among the runs of its study (on
validation, the only photos they share) and where to see what its study measured.
"""

from __future__ import annotations

from typing import Any

from core.ablation import plan as plans
from core.data.dataset import N_VAL, spaced
from core.evaluation import wording
from core.evaluation.facts import RunFacts
from core.models.rules import ConfigError
from core.store import RunError, RunStore
from core.story import figures
from core.story.parts import Slide, recorded_date


def _variant_rows(store: RunStore, study: str) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Each variant's mean validation accuracy over its finished runs, and which variant each run is."""
    try:
        plan = plans.load(study)
    except (ConfigError, RunError, OSError, ValueError):
        return [], {}
    accuracies: dict[str, list[float]] = {}
    labels: dict[str, str] = {}
    of_run: dict[str, str] = {}
    for variant, index, _seed in plans.cells(plan):
        run_id = plans.variant_run_id(plan, variant, index)
        key = f"{variant['key']}@{plans.budget_of(plan, variant)}"
        of_run[run_id] = key
        labels[key] = str(variant.get("technique") or variant["key"])
        if len(plan.budgets) > 1 and plan.design != "factorial":
            labels[key] += f" ({plans.budget_of(plan, variant)})"
        try:
            record = store.get(run_id)
        except RunError:
            continue
        value = (record.get("validation") or {}).get("val_accuracy")
        if record.get("status") == "validated" and isinstance(value, (int, float)):
            accuracies.setdefault(key, []).append(float(value))
    rows = [
        {"run_id": key, "label": labels[key], "val_accuracy": sum(values) / len(values)}
        for key, values in accuracies.items()
    ]
    return rows, of_run


def slide(store: RunStore, record: dict[str, Any], told: RunFacts) -> Slide:
    """What this study run is for, and where it stands in its study, on validation."""
    study = told.study
    rows, of_run = _variant_rows(store, study) if study else ([], {})
    sentences = [
        wording.validation_score(told),
        (
            "Study runs never see the test photos, so this story shows no test mistakes or heatmaps for it: "
            "its study compares its runs with each other on the validation photos they share."
        ),
    ]
    curve = wording.curve(told.curve, told.tta)
    if curve:
        sentences.insert(1, curve)
    terms = {
        "validation": f"{spaced(N_VAL)} labelled photos kept out of training; studies judge their runs on them.",
        "study": "Training one recipe with one thing changed (or a designed mix of changes), over seeds.",
    }
    figure = figures.study_runs(rows, of_run.get(record["run_id"], "")) if rows else None
    return Slide(
        "study",
        "A study run: judged on validation only",
        sentences[:3],
        terms,
        figure,
        source=f"Source: run {record['run_id']}, recorded {recorded_date(record)}"
        + (f"; the finished runs of study {study} (mean over seeds)" if rows else ""),
        action=("Open What helps", f"/insights?study={study}" if study else "/insights"),
    )
