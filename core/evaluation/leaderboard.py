"""Leaderboard rows: one flat, comparable row per completed run, straight from run records."""

from __future__ import annotations

from typing import Any

from core.evaluation.metrics import worst_class
from core.evaluation.recipes import recipe_words

# column -> "max" or "min": which end is best (used to highlight the best cell per column)
BEST_DIRECTION = {
    "test_accuracy": "max",
    "macro_f1": "max",
    "worst_f1": "max",
    "val_accuracy": "max",
    "train_seconds": "min",
    "time_to_93": "min",
    "inference_ms": "min",
    "params": "min",
    "size_bytes": "min",
    "single_ms": "min",
}
VALIDATED_COLUMNS = ("val_accuracy", "train_seconds")  # the columns a validation-only (study) run fills


def hyperparameter_summary(config: dict[str, Any]) -> str:
    """A short human string of the settings that matter for this run."""
    parts = []
    if config.get("epochs"):
        parts.append(f"{config['epochs']} ep")
    if config.get("batch_size"):
        parts.append(f"bs {config['batch_size']}")
    if config.get("learning_rate"):
        parts.append(f"lr {config['learning_rate']:g}")
    if config.get("dropout"):
        parts.append(f"dropout {config['dropout']:g}")
    for flag in ("batchnorm", "augment"):
        if config.get(flag):
            parts.append(flag)
    if config.get("early_stopping"):
        parts.append(f"early stop {config['early_stopping']}")
    if config.get("members"):
        parts.append("members: " + ", ".join(map(str, config["members"])))
    params = dict(config.get("params") or {})
    if not params.get("teacher"):  # no distillation: its settings say nothing
        for key in ("teacher", "distill_temperature", "distill_weight"):
            params.pop(key, None)
    if params.get("precision") == "float32":  # the default, said only when it is not
        params.pop("precision")
    parts += [f"{k.replace('_', ' ')} {_setting(v)}" for k, v in params.items()]
    if config.get("subset"):
        parts.append(f"subset {config['subset']}")
    return " · ".join(parts)


def _setting(value: Any) -> str:
    """A setting for people: on/off for switches, 4 significant digits for fractions."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


FULL_SPLIT = 48_000  # training photos of the full 80 % split; fewer = a small-subset (demo) run
TARGET_ACCURACY = 0.93  # the "time to 93 %" column: the original report's level


def time_to_accuracy(record: dict[str, Any], history: list[dict[str, Any]], target: float = TARGET_ACCURACY):
    """Training seconds until the validation accuracy first reached `target` (summing the epochs'
    seconds), or None when it never did. A model fitted in one go counts its whole training time."""
    if history and any("seconds" in h for h in history):
        elapsed = 0.0
        for h in history:
            elapsed += float(h.get("seconds") or 0.0)
            if (h.get("val_accuracy") or 0.0) >= target:
                return round(elapsed, 1)
        return None
    val = (record.get("metrics") or {}).get("val_accuracy")
    seconds = (record.get("timings") or {}).get("train_seconds")
    return seconds if val is not None and seconds is not None and val >= target else None


COMMON_SETTINGS = ("epochs", "batch_size", "learning_rate", "dropout", "batchnorm", "augment", "early_stopping", "seed")


def setting_fields(config: dict[str, Any]) -> dict[str, Any]:
    """Each setting of a run as its own leaderboard field (`set_<name>`), so one setting's effect can
    be read off a column; switches read on/off."""
    values = {name: config.get(name) for name in COMMON_SETTINGS if config.get(name) is not None}
    values.update(config.get("params") or {})
    return {f"set_{k}": (_setting(v) if isinstance(v, bool) else v) for k, v in values.items()}


def reproduced_badge(reproduced: Any) -> str:
    """The leaderboard's words for a reproduction: "exactly", "within 0.4 %" or "" (never tried)."""
    if not isinstance(reproduced, dict) or reproduced.get("agreement") is None:
        return ""
    differ = 1 - float(reproduced["agreement"])
    text = "exactly" if differ == 0 else f"within {100 * differ:.1f} % of photos"
    return text + ("" if reproduced.get("same_source", True) else " (other source version)")


def interval_text(ci) -> str:
    """ "93.14–94.09 %" for a 95 % interval given as fractions (blank when unknown)."""
    if not ci or ci[0] is None or ci[1] is None:
        return ""
    return f"{100 * ci[0]:.2f}–{100 * ci[1]:.2f} %"


def grouped(table: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Runs repeated over seeds (the same `group`) become one row: completed ones by their mean test
    accuracy, a study's validation-only runs of one cell by their mean validation accuracy; with its
    spread over seeds (sample standard deviation), the interval of the mean, the range and the number of
    seeds; every other row is kept as it is. Best mean first."""
    out: list[dict[str, Any]] = []
    members: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in table:
        key = (str(r.get("status")), str(r.get("group")))
        if r.get("status") in ("completed", "validated") and r.get("group"):
            if key not in members:
                members[key] = []
                out.append({"_group": key})
            members[key].append(r)
        else:
            out.append(r)
    rows = [r if "_group" not in r else _group_row(members[r["_group"]]) for r in out]
    done = [r for r in rows if r.get("status") == "completed"]
    return sorted(done, key=lambda r: -r["test_accuracy"]) + [r for r in rows if r.get("status") != "completed"]


def _group_row(runs: list[dict[str, Any]]) -> dict[str, Any]:
    from core.evaluation.stats import spread

    first = min(runs, key=lambda x: x["run_id"])
    scored = "test_accuracy" if first.get("status") == "completed" else "val_accuracy"
    acc = spread([x[scored] for x in runs])
    ci = _mean_interval(acc)
    where = "" if scored == "test_accuracy" else "validation: "
    row = {
        **first,
        scored: acc["mean"],
        "seeds": acc["n"],
        "seed_sd": acc["sd"],
        "seed_min": acc["min"],
        "seed_max": acc["max"],
        "val_accuracy": _mean([x.get("val_accuracy") for x in runs]),
        "train_seconds": _mean([x.get("train_seconds") for x in runs]),
        "ece": _mean([x.get("ece") for x in runs]),
        "ece_before": _mean([x.get("ece_before") for x in runs]),
        "set_coverage": _mean([x.get("set_coverage") for x in runs]),
        "set_size": _mean([x.get("set_size") for x in runs]),
        "settings": f"mean of {acc['n']} seeds · " + first["settings"],
    }
    if scored == "val_accuracy":
        row["val_accuracy"] = acc["mean"]
    text = (f"{100 * ci[0]:.2f}–{100 * ci[1]:.2f} % (mean of {acc['n']} seeds); " if ci else "") + (
        f"range over seeds {100 * acc['min']:.2f}–{100 * acc['max']:.2f} %"
    )
    if scored == "test_accuracy":  # the 95 % interval of the mean over seeds (Student-t), not the seeds' range
        row |= {
            "ci_low": ci[0] if ci else None,
            "ci_high": ci[1] if ci else None,
            "ci_text": text,
            "macro_f1": _mean([x.get("macro_f1") for x in runs]),
        }
    else:
        row["settings"] = f"{where}{text} · " + row["settings"]
    return row


def _mean_interval(acc: dict[str, Any]) -> tuple[float, float] | None:
    """Student-t 95 % interval of a seed group's mean accuracy (None under two seeds)."""
    if acc["n"] < 2 or acc["sd"] is None:
        return None
    from scipy.stats import t

    half = float(t.ppf(0.975, acc["n"] - 1)) * acc["sd"] / acc["n"] ** 0.5
    return acc["mean"] - half, acc["mean"] + half


def _mean(values: list[Any]) -> float | None:
    numbers = [float(v) for v in values if v is not None]
    return sum(numbers) / len(numbers) if numbers else None


def pareto_front(table: list[dict[str, Any]]) -> set[str]:
    """Run ids no other run beats on both test accuracy (higher) and training time (lower)."""
    points = [r for r in table if r.get("test_accuracy") is not None and r.get("train_seconds") is not None]
    front = set()
    for r in points:
        dominated = any(
            o["test_accuracy"] >= r["test_accuracy"]
            and o["train_seconds"] <= r["train_seconds"]
            and (o["test_accuracy"] > r["test_accuracy"] or o["train_seconds"] < r["train_seconds"])
            for o in points
        )
        if not dominated:
            front.add(r["run_id"])
    return front


def row(record: dict[str, Any], history: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The leaderboard row of one completed run record (and its per-epoch history, if any)."""
    metrics = record["metrics"]
    worst_name, worst_f1 = worst_class(metrics)
    artifact = record.get("artifact") or {}
    timings = record.get("timings") or {}
    n_train = (record.get("data") or {}).get("n_train")
    ci = metrics.get("test_accuracy_ci95") or [None, None]
    group: dict[str, Any] = record["group"] if isinstance(record.get("group"), dict) else {}
    return {
        "run_id": record["run_id"],
        "name": record.get("name") or "",
        "small": bool(n_train and n_train < FULL_SPLIT),
        "model": record.get("label") or record.get("model"),
        "kind": record.get("model"),
        "family": record.get("family"),
        "reference": bool((record.get("produced_by") or {}).get("reference")),
        "status": "completed",
        "settings": hyperparameter_summary(record.get("config") or {}),
        "recipe": recipe_words(record),
        "test_accuracy": metrics["test_accuracy"],
        "ci_low": ci[0],
        "ci_high": ci[1],
        "ci_text": interval_text(ci),
        "group": group.get("id"),
        "seeds": None,
        "seed_sd": None,
        "macro_f1": metrics["macro_f1"],
        "val_accuracy": metrics.get("val_accuracy"),
        **calibration_fields(record),
        "worst_class": worst_name,
        "worst_f1": worst_f1,
        "train_seconds": timings.get("train_seconds"),
        "time_to_93": time_to_accuracy(record, history or []),
        "inference_ms": timings.get("inference_ms_per_image"),
        "single_ms": timings.get("single_image_ms"),
        "params": artifact.get("params") or (record.get("members") or {}).get("params"),
        "n_train": n_train,
        "size_bytes": artifact.get("bytes"),
        "date": (record.get("finished_at") or record.get("created_at") or "")[:16].replace("T", " "),
        "reproduced": reproduced_badge(record.get("reproduced")),
        **setting_fields(record.get("config") or {}),
    }


def calibration_fields(record: dict[str, Any]) -> dict[str, Any]:
    """The run's calibration on the test photos (core.evaluation.calibrated), blank where it has none:
    ECE after and before, and its prediction sets' coverage and mean size."""
    test = (record.get("calibration") or {}).get("test") if isinstance(record.get("calibration"), dict) else None
    if not isinstance(test, dict):
        return {"ece": None, "ece_before": None, "set_coverage": None, "set_size": None}
    return {
        "ece": (test.get("after") or {}).get("ece"),
        "ece_before": (test.get("before") or {}).get("ece"),
        "set_coverage": test.get("set_coverage"),
        "set_size": test.get("set_mean_size"),
    }


def damaged_row(record: dict[str, Any]) -> dict[str, Any]:
    """A damaged, failed or interrupted run's row: no numbers, the reason instead of settings."""
    status = record.get("status") or "damaged"
    reason = record.get("damage") if status == "damaged" else record.get("error")
    val = (record.get("validation") or {}).get("val_accuracy") if status == "validated" else None
    if status == "validated":
        what = study_run_words(record)
        reason = f"{what}, validation only ({100 * val:.2f} % right)" if val is not None else what
    return {
        "run_id": record["run_id"],
        "name": record.get("name") or "",
        "small": False,
        "model": record.get("label") or record.get("model") or "?",
        "kind": record.get("model"),
        "family": record.get("family"),
        "status": status,
        "reference": str(record["run_id"]).startswith("ref-"),
        "settings": f"{status}: {reason or 'no reason recorded'}",
        "recipe": recipe_words(record),
        "damage": record.get("damage"),
        "test_accuracy": None,
        "ci_low": None,
        "ci_high": None,
        "ci_text": "",
        "group": _study_cell(record) if status == "validated" else None,
        "seeds": None,
        "seed_sd": None,
        "macro_f1": None,
        "val_accuracy": val,
        "worst_class": None,
        "worst_f1": None,
        "ece": None,
        "ece_before": None,
        "set_coverage": None,
        "set_size": None,
        "train_seconds": (record.get("timings") or {}).get("train_seconds") if status == "validated" else None,
        "time_to_93": None,
        "inference_ms": None,
        "single_ms": None,
        "params": None,
        "size_bytes": None,
        "n_train": (record.get("data") or {}).get("n_train"),
        "date": (record.get("finished_at") or record.get("created_at") or "")[:16].replace("T", " "),
    }


def _study_cell(record: dict[str, Any]) -> str | None:
    """The seed group of a study's validation-only run: its study, cell (variant) and budget."""
    race = record.get("race") if isinstance(record.get("race"), dict) else None
    if race and race.get("study") and race.get("entrant"):  # a race cell: one architecture at one budget
        return f"{race['study']}/{race['entrant']}@{race.get('budget_seconds')}s"
    ablation = record.get("ablation") or {}
    if not isinstance(ablation, dict) or not ablation.get("study") or not ablation.get("variant"):
        return None
    return f"{ablation['study']}/{ablation['variant']}@{ablation.get('budget') or ''}"


def study_run_words(record: dict[str, Any]) -> str:
    """What a validation-only run is: a run of an ablation study or a tuning trial, with its study."""
    race = record.get("race") if isinstance(record.get("race"), dict) else None
    if race:
        return f"race {race.get('study', '?')} run ({race.get('entrant')}, {race.get('budget_seconds')} s budget)"
    ablation = record.get("ablation") or {}
    if ablation:
        return f"ablation study {ablation.get('study', '?')} run"
    study = record.get("study")
    return f"tuning trial of study {study}" if study else "tuning trial"


UNFINISHED = ("failed", "interrupted", "pruned", "validated")


def rows(records: list[dict[str, Any]], histories: dict[str, list] | None = None) -> list[dict[str, Any]]:
    """Rows of all completed runs, best test accuracy first, then damaged, failed and interrupted ones."""
    histories = histories or {}
    done = sorted(
        (row(r, histories.get(r["run_id"])) for r in records if r.get("status") == "completed"),
        key=lambda r: -r["test_accuracy"],
    )
    broken = sorted(
        (damaged_row(r) for r in records if r.get("status") in ("damaged", *UNFINISHED)),
        key=lambda r: (r["status"] != "damaged", r["run_id"]),
    )
    return done + broken


def shown(table: list[dict[str, Any]], show_all: bool = False) -> list[dict[str, Any]]:
    """What the leaderboard shows: by default completed full-split runs (and damaged ones, greyed,
    so they are noticed); `show_all` adds failed, interrupted and small-subset runs."""
    if show_all:
        return list(table)
    return [r for r in table if r.get("status") in ("completed", "damaged") and not r.get("small")]


def completed(table: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows whose numbers can be compared (completed, not damaged/failed/interrupted)."""
    return [r for r in table if r.get("status") == "completed"]


def best_values(table: list[dict[str, Any]]) -> dict[str, float]:
    """The best value of each comparable column (absent when no row has it)."""
    best = {}
    for column, direction in BEST_DIRECTION.items():
        values = [r[column] for r in table if r.get(column) is not None]
        if values:
            best[column] = max(values) if direction == "max" else min(values)
    return best
