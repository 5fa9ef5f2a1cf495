"""The leaderboard table's columns: header, tooltip (what each number means) and formatting.

The screen shows formatted values ("93.24%", "1.2 MB"); CSV export writes the raw values
(fractions, seconds, milliseconds, bytes) under headers that name their unit (`CSV_HEADERS`).
"""

from __future__ import annotations

from typing import Any

from core.data.dataset import N_TEST, N_TRAIN, N_VAL, spaced


def _fmt(spec: str, scale: str = "") -> dict[str, str]:
    return {"function": f"params.value == null ? '' : d3.format('{spec}')(params.value{scale})"}


PCT = _fmt(".2%")
DEC3 = _fmt(".3f")
NUM = _fmt(",")
SECS = _fmt(",.1f")
MS3 = _fmt(".3f")
MB = {"function": "params.value == null ? '' : d3.format(',.2f')(params.value / 1e6) + ' MB'"}
NUMBER = {"filter": "agNumberColumnFilter"}
# accuracies are fractions; people type 92, 92 %, 0.92 or >92: all mean "at least 92 %" (assets/filters.js)
PERCENT_FILTER = {
    "numberParser": {"function": "parsePercent(params)"},
    "allowedCharPattern": "\\d\\.%>= ",
    "defaultOption": "greaterThanOrEqual",
}
PARAMS_HELP = (
    "How many numbers the model stores to make a prediction. Networks and logistic regression: their "
    "learned weights. k-NN: the stored training values it compares against (photos × PCA components). "
    "Random forest: the nodes of all its trees (split thresholds and leaves). SVM: its support vectors' values."
)
# field, header, the header's tooltip (what the number means), column options
COLUMNS: list[tuple[str, str, str, dict[str, Any]]] = [
    (
        "run_id",
        "Run",
        "The run's folder in artifacts/runs. Click it for its confusion matrix and mistakes.",
        {"pinned": "left", "minWidth": 200, "cellClass": "run-link"},
    ),
    (
        "name",
        "Name ✎",
        "A readable name for the run: double-click to edit (saved in its run.json; the folder keeps its id).",
        {"editable": True, "minWidth": 140, "cellClass": "editable-cell"},
    ),
    ("model", "Model", "The kind of model.", {"minWidth": 140}),
    (
        "recipe",
        "Recipe",
        (
            "Where its recipe came from: a preset, a race at a stated training time, the reference recipe, its "
            "own settings, or a model imported from elsewhere (with the framework that trained it). Compare kinds "
            "of model with their recipes in view."
        ),
        {"minWidth": 150},
    ),
    (
        "test_accuracy",
        "Test accuracy",
        f"Share of the {spaced(N_TEST)} test photos classified correctly (the test set is used once, at the end of a run).",
        {"valueFormatter": PCT, "sort": "desc", **NUMBER, "filterParams": PERCENT_FILTER},
    ),
    (
        "val_accuracy",
        "Validation accuracy",
        (
            f"Share of the {spaced(N_VAL)} validation photos classified correctly: what settings were chosen on "
            "(with test-time augmentation where the run uses it)."
        ),
        {"valueFormatter": PCT, **NUMBER, "filterParams": PERCENT_FILTER},
    ),
    (
        "ci_text",
        "95 % interval",
        (
            f"Where the true accuracy lies with 95 % confidence, given {spaced(N_TEST)} test photos (Wilson score interval). "
            "Overlapping intervals do not settle which run is better: tick two runs for a paired test below."
        ),
        {"minWidth": 150},
    ),
    (
        "ece",
        "Calibration error",
        (
            "How far its “how sure” is from how often it is right (expected calibration error over 15 confidence "
            f"bins, on the {spaced(N_TEST)} test photos), after calibrating on its validation photos: 1 % means a "
            "90 % answer is right 89-91 % of the time. Blank: not calibrated yet. Its reliability diagram is on "
            "/errors."
        ),
        {"valueFormatter": _fmt(".1%"), **NUMBER, "width": 130},
    ),
    ("ece_before", "ECE before", "The calibration error of the model's own scores (fraction).", {"hide": True}),
    (
        "set_coverage",
        "95 % set coverage",
        "Share of test photos whose 95 % prediction set (split conformal, fitted on validation) holds the true class.",
        {"valueFormatter": _fmt(".1%"), **NUMBER, "hide": True},
    ),
    (
        "set_size",
        "Mean set size",
        "Classes in a 95 % prediction set, on average (1.00: one answer for almost every photo).",
        {"valueFormatter": _fmt(".2f"), **NUMBER, "hide": True},
    ),
    ("ci_low", "95 % low", "Lower end of the 95 % interval (fraction).", {"hide": True}),
    ("ci_high", "95 % high", "Upper end of the 95 % interval (fraction).", {"hide": True}),
    ("seed_min", "Seed min", "A seed group's lowest test accuracy (fraction).", {"hide": True}),
    ("seed_max", "Seed max", "A seed group's highest test accuracy (fraction).", {"hide": True}),
    (
        "seeds",
        "Seeds",
        "With 'one row per seed group': how many seeds the row averages (blank for a single run).",
        {"valueFormatter": NUM, **NUMBER, "width": 90},
    ),
    (
        "seed_sd",
        "± over seeds",
        "The spread of test accuracy from seed to seed (sample standard deviation, in points).",
        {"valueFormatter": _fmt(".2f", " * 100"), **NUMBER, "width": 110},
    ),
    (
        "n_train",
        "Training photos",
        f"How many training photos this run learned from (the full split is {spaced(N_TRAIN)}; fewer = a quick demo run).",
        {"valueFormatter": NUM, **NUMBER},
    ),
    (
        "macro_f1",
        "Macro-F1",
        (
            "F1 (the balance of precision and recall, 0-1) computed per class, then averaged over the 10 classes "
            "so every class counts the same."
        ),
        {"valueFormatter": DEC3, **NUMBER},
    ),
    ("worst_class", "Hardest class", "The class this run gets wrong most often (lowest F1).", {}),
    ("worst_f1", "Its F1", "The F1 score of that hardest class (1 = perfect).", {"valueFormatter": DEC3, **NUMBER}),
    (
        "train_seconds",
        "Train s",
        "Seconds of training (fitting), on the machine that trained it.",
        {"valueFormatter": SECS, **NUMBER},
    ),
    (
        "time_to_93",
        "s to 93 %",
        (
            "Training seconds until validation accuracy first reached 93 % (the level of the original report, "
            "the slide deck this studio grew from); "
            "blank = never reached it."
        ),
        {"valueFormatter": SECS, **NUMBER},
    ),
    (
        "inference_ms",
        "Batch ms / photo",
        f"Throughput: time to score all {spaced(N_TEST)} test photos in one call, divided by {spaced(N_TEST)} (milliseconds).",
        {"valueFormatter": MS3, **NUMBER},
    ),
    (
        "single_ms",
        "1-photo ms",
        "Latency: what one photo alone waits for (an upload or an API request), median of 25 calls (ms).",
        {"valueFormatter": MS3, **NUMBER},
    ),
    ("params", "Parameters", PARAMS_HELP, {"valueFormatter": NUM, **NUMBER}),
    ("size_bytes", "File size", "Size of the saved model file.", {"valueFormatter": MB, **NUMBER}),
    (
        "reproduced",
        "Reproduced here",
        (
            "`python -m core reproduce RUN` trained it again from its record on this machine: 'exactly' when every "
            "test photo got the same answer, else the share that differed. Blank: not tried yet."
        ),
        {"minWidth": 140},
    ),
    ("settings", "Settings", "The run's hyperparameters.", {"minWidth": 240, "tooltipField": "settings"}),
    ("family", "Family", "deep: a Keras network; classic: a scikit-learn model.", {"width": 100}),
    ("status", "Status", "completed, or why the run has no trustworthy numbers.", {"width": 110}),
    ("date", "Finished (UTC)", "When the run finished.", {"minWidth": 150}),
]

# CSV export: field -> header naming the unit of the raw value written
CSV_HEADERS = {
    "run_id": "run_id",
    "name": "name",
    "model": "model",
    "recipe": "recipe",
    "test_accuracy": "test_accuracy_fraction",
    "val_accuracy": "validation_accuracy_fraction",
    "ci_text": "test_accuracy_95pct_interval",
    "ece": "calibration_error_ece_fraction",
    "ece_before": "ece_before_calibration_fraction",
    "set_coverage": "set_coverage_fraction",
    "set_size": "set_mean_size",
    "ci_low": "test_accuracy_ci95_low_fraction",
    "ci_high": "test_accuracy_ci95_high_fraction",
    "seed_min": "seed_group_min_fraction",
    "seed_max": "seed_group_max_fraction",
    "seeds": "seeds",
    "seed_sd": "seed_sd_points",
    "n_train": "training_photos",
    "macro_f1": "macro_f1_fraction",
    "worst_class": "hardest_class",
    "worst_f1": "hardest_class_f1_fraction",
    "train_seconds": "train_seconds",
    "time_to_93": "seconds_to_93pct_validation",
    "inference_ms": "batch_ms_per_photo",
    "single_ms": "single_photo_ms",
    "params": "parameters",
    "size_bytes": "model_file_bytes",
    "settings": "settings",
    "family": "family",
    "status": "status",
    "date": "finished_utc",
    "reproduced": "reproduced_here",
}


def _setting_names() -> list[str]:
    """Every setting any model has (common options and each model's own parameters), in a stable order."""
    from core.evaluation.leaderboard import COMMON_SETTINGS
    from core.models import SPECS

    names = list(COMMON_SETTINGS)
    for spec in SPECS.values():
        names += [n for n in spec.params if n not in names]
    return names


SETTINGS = _setting_names()
CSV_NAME = "fashion-mnist-leaderboard.csv"
CSV_FIELDS = [field for field, *_ in COLUMNS] + [f"set_{n}" for n in SETTINGS]  # hidden interval ends too


def csv_text(rows: list[dict[str, Any]]) -> str:
    """The rows as CSV, in the order given: raw values (fractions, seconds, bytes) under headers that
    name their unit, every setting in its own column; Excel-friendly (a byte-order mark)."""
    import csv
    import io

    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([CSV_HEADERS.get(f, f) for f in CSV_FIELDS])
    for row in rows:
        writer.writerow(["" if row.get(f) is None else row.get(f) for f in CSV_FIELDS])
    return out.getvalue()


def column_defs(best: dict[str, float], settings_columns: bool = False) -> list[dict]:
    """AG Grid column definitions; each column's best value (if any) is highlighted. With
    `settings_columns`, one column per setting follows (always in the CSV)."""
    defs = []
    for field, header, tooltip, extra in COLUMNS:
        col = {"field": field, "headerName": header, "headerTooltip": tooltip, **extra}
        if field in best:
            col["cellClassRules"] = {"best-cell": f"params.value === {best[field]!r}"}
        defs.append(col)
    for name in SETTINGS:
        defs.append(
            {
                "field": f"set_{name}",
                "headerName": name.replace("_", " "),
                "headerTooltip": f"The run's {name.replace('_', ' ')} setting (blank: does not apply to its model).",
                "hide": not settings_columns,
                "minWidth": 90,
            }
        )
    return defs
