"""Calibrating stored runs (core.evaluation.calibration on a run's own photos): its validation
probabilities, kept beside its predictions (`validation.npz`; computed from its model file when the run
did not keep them), one temperature and one prediction-set threshold fitted on them, and what they do on
the test photos, recorded in the run as `calibration`. `python -m core calibrate RUN|--all` runs it.

`for_run(record)` is the one place a page, the API or the story reads a run's calibration from; a run
without one has None, and the page says its confidences are not calibrated yet.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

import numpy as np

from core import data
from core.evaluation import calibration
from core.store import RunError, RunStore

COVERAGE = 0.95
MIN_PROMISE = 100  # photos a manager's sentence about one confidence level rests on, at least


def validation_probabilities(store: RunStore, run_id: str) -> dict[str, np.ndarray]:
    """{rows, y_true, proba} on the run's validation photos: kept ones, or computed now from its model
    file (the seed-42 split every run trains on) and kept. NoModel/RunError when it has no model file."""
    kept = store.validation(run_id)
    if kept is not None:
        return kept
    from core.models import loading

    _train_rows, rows = data.split_indices(data.DEFAULT_SEED)
    ds = data.load()
    proba = np.concatenate(
        [loading.predict_images(run_id, ds.x_train[rows[i : i + 2000]], store) for i in range(0, len(rows), 2000)]
    )
    store.save_validation(run_id, rows, ds.y_train[rows], proba)
    return {"rows": rows, "y_true": ds.y_train[rows], "proba": proba}


def calibrate_run(store: RunStore, run_id: str, coverage: float = COVERAGE) -> dict[str, Any]:
    """Fit on validation, measure on test, record in the run; returns what was recorded."""
    store.usable(run_id)
    val = validation_probabilities(store, run_id)
    fitted = calibration.fit(val["proba"], val["y_true"], coverage)
    preds = store.predictions(run_id)
    measured = calibration.measure(preds["proba"], preds["y_true"], fitted)
    recorded = {
        **fitted.to_json(),
        "test": {k: v for k, v in measured.items() if not k.startswith("reliability")},
        "reliability_test": measured["reliability_after"],
        "reliability_test_before": measured["reliability_before"],
    }
    store.update(run_id, calibration=recorded)
    return recorded


def calibrate_finished(store: RunStore, run_id: str) -> None:
    """Calibrate a run as it is completed (training, ensembles, imports). A failure leaves it completed
    and uncalibrated (pages then say its confidences are not calibrated), with the reason recorded."""
    try:
        calibrate_run(store, run_id)
    except (ValueError, FloatingPointError, RunError, OSError) as exc:
        store.update(run_id, calibration_error=f"{type(exc).__name__}: {exc}")


def for_run(record: dict[str, Any]) -> calibration.Calibration | None:
    """A run's recorded calibration, or None when it has none (or an unreadable one)."""
    found = record.get("calibration")
    if not isinstance(found, dict):
        return None
    try:
        return calibration.Calibration(
            temperature=float(found["temperature"]),
            set_threshold=float(found["set_threshold"]),
            coverage=float(found["coverage"]),
            fitted_on=str(found.get("fitted_on") or "validation photos"),
            floor=float(found.get("floor") or 0.0),
        )
    except (KeyError, TypeError, ValueError):
        return None


def calibrate_all(store: RunStore, only_missing: bool = True) -> list[tuple[str, str]]:
    """(run id, what happened) for every completed run: calibrated, or why not (no model file, …)."""
    out = []
    rows, _total = store.page({"status": "completed"}, "run_id", None)
    for row in rows:
        run_id = row["run_id"]
        try:
            record = store.get(run_id)
            if only_missing and for_run(record) is not None:
                out.append((run_id, "already calibrated"))
                continue
            found = calibrate_run(store, run_id)
        except (RunError, OSError, ValueError) as exc:
            out.append((run_id, f"not calibrated: {exc}"))
            continue
        test = found["test"]
        said = (
            f"T = {found['temperature']:.3f}"
            + (f", uniform share {found['floor']:.2g}" if found.get("floor") else "")
            + f"; test ECE {100 * test['before']['ece']:.1f} % -> "
            f"{100 * test['after']['ece']:.1f} %; 95 % sets cover {100 * test['set_coverage']:.1f} %, "
            f"mean size {test['set_mean_size']:.2f}"
        )
        out.append((run_id, said))
    return out


_lock = threading.Lock()
_cache: dict[tuple, tuple[Any, dict[str, Any]]] = {}


def predictions(store: RunStore, record: dict[str, Any]) -> dict[str, Any]:
    """A run's test predictions as every page should rank and show them: `proba` calibrated with the
    run's own calibration (`raw_proba` keeps the model's scores), `sets` (N × 10 booleans: each photo's
    prediction set) and `calibrated` (False for a run without one: `proba` is then its own score).
    Calibration never changes an answer (`y_pred`), only how sure it is. Remembered per stored array."""
    preds = store.predictions(record["run_id"])
    fitted = for_run(record)
    raw = preds["proba"]
    key = (id(raw), None if fitted is None else (fitted.temperature, fitted.floor, fitted.set_threshold))
    with _lock:
        hit = _cache.get(key)
        if hit is not None and hit[0]() is raw:
            return hit[1]
    out: dict[str, Any]
    if fitted is None:
        out = {**preds, "raw_proba": raw, "sets": None, "calibrated": False, "coverage": None}
    else:
        shown = fitted.apply(raw).astype(np.float32)
        shown.setflags(write=False)
        out = {**preds, "proba": shown, "raw_proba": raw, "sets": fitted.sets(shown), "calibrated": True}
        out["coverage"] = fitted.coverage
    with _lock:
        if len(_cache) > 32:
            _cache.clear()
        _cache[key] = (weakref.ref(raw), out)
    return out


def set_words(sets: np.ndarray | None, index: int, proba: np.ndarray, coverage: float | None) -> str | None:
    """ "95 % set: Shirt or T-shirt/top" for a photo whose prediction set holds more than one class."""
    from core.data import CLASS_NAMES

    if sets is None or coverage is None:
        return None
    inside = [int(c) for c in np.argsort(-proba[index]) if sets[index, c]]
    if len(inside) < 2:
        return None
    return f"{100 * coverage:.0f} % set: " + " or ".join(CLASS_NAMES[c] for c in inside)


def answer(record: dict[str, Any], proba: np.ndarray) -> dict[str, Any]:
    """One photo's probabilities as every page should show them: calibrated with the run's temperature
    and with its prediction set, or the raw ones marked as not calibrated (a run without a calibration)."""
    from core.data import CLASS_NAMES

    raw = np.asarray(proba, dtype=np.float64).reshape(1, -1)
    fitted = for_run(record)
    if fitted is None:
        return {"calibrated": False, "probabilities": raw[0], "raw": raw[0], "prediction_set": None, "coverage": None}
    shown = fitted.apply(raw)
    inside = fitted.sets(shown)[0]
    order = np.argsort(-shown[0])
    return {
        "calibrated": True,
        "probabilities": shown[0],
        "raw": raw[0],
        "prediction_set": [CLASS_NAMES[i] for i in order if inside[i]],
        "coverage": fitted.coverage,
    }


def shown(record: dict[str, Any], probabilities: dict[str, float]) -> tuple[dict[str, float], bool]:
    """A {class: p} answer as a page shows it: calibrated with the run's temperature when it has one
    (True), else the model's own scores (False: the page then says they are not calibrated)."""
    names = list(probabilities)
    said = answer(record, np.array([float(probabilities[n]) for n in names]))
    return dict(zip(names, (float(p) for p in said["probabilities"]), strict=True)), bool(said["calibrated"])


def sure_words(p: float, is_calibrated: bool) -> str:
    """ "87 % sure" for a calibrated confidence; "score 87 %, not calibrated" otherwise."""
    return f"{100 * p:.0f} % sure" if is_calibrated else f"score {100 * p:.0f} %, not calibrated"


def promise(record: dict[str, Any]) -> dict[str, Any] | None:
    """The reliability bin a manager's sentence cites: the bin holding 90 % confidence when at least
    MIN_PROMISE photos fall in it, else the fullest bin below certainty; None for an uncalibrated run."""
    found = record.get("calibration") if isinstance(record.get("calibration"), dict) else None
    bins = [b for b in (found or {}).get("reliability_test") or [] if isinstance(b, dict)]
    if not bins or for_run(record) is None:
        return None
    at_90 = [b for b in bins if b["low"] <= 0.9 < b["high"] and b["count"] >= MIN_PROMISE]
    if at_90:
        return at_90[0]
    below = [b for b in bins if b["high"] < 0.999 and b["count"] >= MIN_PROMISE]
    return max(below, key=lambda b: b["count"]) if below else None


def promise_sentence(record: dict[str, Any], who: str = "this model") -> str:
    """ "When this model says it is about 90 % sure, it is right 91 % of the time (412 test photos,
    after calibration on its validation photos)." — or why there is no such sentence."""
    if for_run(record) is None:
        return f"How sure {who} says it is has not been checked against how often it is right (no calibration yet)."
    b = promise(record)
    if b is None:
        return f"{who[0].upper() + who[1:]} is calibrated, but too few test photos share one level of confidence to say more."
    count = f"{b['count']:,}".replace(",", " ")
    return (
        f"When {who} says it is about {100 * b['confidence']:.0f} % sure, it is right {100 * b['accuracy']:.0f} % "
        f"of the time ({count} test photos with {100 * b['low']:.0f}–{100 * b['high']:.0f} % confidence, "
        "after calibration on its validation photos)."
    )
