"""How far a run's "how sure" can be taken at its word, and the fix: arrays in, arrays out.

- **Temperature scaling** (Guo et al. 2017): one number T per run, fitted on validation photos by
  minimising the log-loss of softmax(log p / T). It works on log-probabilities, so a run that keeps no
  logits (a mirror-averaged CNN, an ensemble's mean, a scikit-learn model) is calibrated the same way;
  T > 1 softens an over-confident model, T < 1 sharpens an under-confident one. The ranking of the
  classes, so every answer and the accuracy, is unchanged. scipy's bounded minimiser does the fit.
- **A floor for hard zeros**: a k-NN's vote shares and an SVM's pairwise-coupled scores put exactly 0
  on classes that are sometimes right, and no temperature can lift a log of 0 (on ref-knn the
  log-loss-optimal T alone was 4.7 and tripled the test ECE). So the probabilities are first mixed with
  a small uniform share λ, fitted with T (p' = (1 − λ) p + λ / 10, then softmax(log p' / T)); the fit
  finds λ = 0 for every network here, so for them it is plain temperature scaling. Mixing keeps the
  order of the classes too.
- **Split conformal prediction sets** (the "LAC" score 1 − p(true class)): on calibration photos not
  used for T, the threshold is the ⌈(n+1)(1−α)⌉-th smallest score; a photo's set holds every class whose
  score is at most the threshold, so it holds the true class for at least 1 − α of exchangeable photos.
- **Measures**: expected calibration error over equal-width confidence bins (with a bootstrap
  interval), the reliability bins themselves (confidence, accuracy, count), log-loss and Brier score.

Never fitted on the test photos: they only measure the result.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

BINS = 15
EPS = 1e-12
FLOORS = tuple(float(f) for f in np.geomspace(1e-4, 0.3, 24))  # the λ values tried


@dataclass(frozen=True)
class Calibration:
    temperature: float
    set_threshold: float  # conformal: a class is in the set when 1 − p(class) ≤ this
    coverage: float  # the level the sets were made for (e.g. 0.95)
    fitted_on: str  # what T and the threshold were fitted on, in words
    floor: float = 0.0  # λ: the uniform share mixed in before the temperature (0 = plain temperature scaling)

    def apply(self, proba: np.ndarray) -> np.ndarray:
        return scaled(floored(proba, self.floor), self.temperature)

    def sets(self, proba_calibrated: np.ndarray) -> np.ndarray:
        """(N, 10) booleans: the classes in each photo's prediction set (never empty: the top class is in)."""
        return prediction_sets(proba_calibrated, self.set_threshold)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def scaled(proba: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(log p / T), row by row."""
    logp = np.log(np.clip(np.asarray(proba, dtype=np.float64), EPS, 1.0)) / float(temperature)
    logp -= logp.max(axis=1, keepdims=True)
    out = np.exp(logp)
    return out / out.sum(axis=1, keepdims=True)


def floored(proba: np.ndarray, floor: float) -> np.ndarray:
    """(1 − λ) p + λ / K: a uniform share λ mixed in (the identity at λ = 0)."""
    proba = np.asarray(proba, dtype=np.float64)
    return proba if floor <= 0 else (1.0 - floor) * proba + floor / proba.shape[1]


def log_loss(proba: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(np.asarray(proba, dtype=np.float64)[np.arange(len(y)), np.asarray(y)], EPS, 1.0)
    return float(-np.log(p).mean())


def brier(proba: np.ndarray, y: np.ndarray) -> float:
    onehot = np.eye(proba.shape[1])[np.asarray(y)]
    return float(((np.asarray(proba, dtype=np.float64) - onehot) ** 2).sum(axis=1).mean())


def fit_temperature(proba: np.ndarray, y: np.ndarray, low: float = 0.05, high: float = 20.0) -> float:
    """The T minimising the log-loss of softmax(log p / T) on these (validation) photos."""
    from scipy.optimize import minimize_scalar

    logp = np.log(np.clip(np.asarray(proba, dtype=np.float64), EPS, 1.0))
    y = np.asarray(y)

    def loss(log_t: float) -> float:
        z = logp / np.exp(log_t)
        z -= z.max(axis=1, keepdims=True)
        return float(-(z[np.arange(len(y)), y] - np.log(np.exp(z).sum(axis=1))).mean())

    found = minimize_scalar(loss, bounds=(np.log(low), np.log(high)), method="bounded", options={"xatol": 1e-5})
    return float(np.exp(found.x))


def fit_map(proba: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(T, λ) minimising the log-loss of softmax(log((1 − λ) p + λ / K) / T) on these (validation)
    photos: for λ = 0 and each of FLOORS, the best T (a one-dimensional bounded fit); the lowest
    log-loss wins, so it is never worse than plain temperature scaling on these photos. (A joint
    gradient fit stalls here: at λ = 0 a hard zero's log-loss is a cliff, not a slope.)"""
    proba, y = np.asarray(proba, dtype=np.float64), np.asarray(y)
    best = (np.inf, 1.0, 0.0)
    for floor in (0.0, *FLOORS):
        mixed = floored(proba, floor)
        temperature = fit_temperature(mixed, y)
        loss = log_loss(scaled(mixed, temperature), y)
        if loss < best[0] - 1e-9:
            best = (loss, temperature, floor)
    return best[1], best[2]


def reliability(proba: np.ndarray, y: np.ndarray, bins: int = BINS) -> list[dict[str, float]]:
    """Equal-width bins of the top class's confidence: each bin's count, mean confidence and accuracy
    (empty bins left out)."""
    proba = np.asarray(proba, dtype=np.float64)
    confidence, answer = proba.max(axis=1), proba.argmax(axis=1)
    right = answer == np.asarray(y)
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    out = []
    for b in range(bins):
        mask = which == b
        if mask.any():
            out.append(
                {
                    "low": b / bins,
                    "high": (b + 1) / bins,
                    "count": int(mask.sum()),
                    "confidence": float(confidence[mask].mean()),
                    "accuracy": float(right[mask].mean()),
                }
            )
    return out


def ece(proba: np.ndarray, y: np.ndarray, bins: int = BINS) -> float:
    """Expected calibration error: the count-weighted mean |accuracy − confidence| over the bins."""
    found = reliability(proba, y, bins)
    n = sum(b["count"] for b in found)
    return float(sum(b["count"] * abs(b["accuracy"] - b["confidence"]) for b in found) / max(n, 1))


def ece_interval(proba: np.ndarray, y: np.ndarray, draws: int = 500, seed: int = 0) -> tuple[float, float]:
    """A 95 % percentile bootstrap interval of the ECE over the photos."""
    rng = np.random.default_rng(seed)
    n = len(y)
    values = [ece(proba[idx], np.asarray(y)[idx]) for idx in (rng.integers(0, n, n) for _ in range(draws))]
    return float(np.quantile(values, 0.025)), float(np.quantile(values, 0.975))


def conformal_threshold(proba_calibrated: np.ndarray, y: np.ndarray, coverage: float = 0.95) -> float:
    """The split-conformal threshold of the score 1 − p(true class) on calibration photos."""
    scores = 1.0 - np.asarray(proba_calibrated, dtype=np.float64)[np.arange(len(y)), np.asarray(y)]
    n = len(scores)
    rank = int(np.ceil((n + 1) * coverage))
    if rank > n:
        return 1.0  # too few photos for this level: every class
    return float(np.sort(scores)[rank - 1])


def prediction_sets(proba_calibrated: np.ndarray, threshold: float) -> np.ndarray:
    proba = np.asarray(proba_calibrated, dtype=np.float64)
    inside = (1.0 - proba) <= threshold + 1e-12
    inside[np.arange(len(proba)), proba.argmax(axis=1)] = True
    return inside


def fit(proba_val: np.ndarray, y_val: np.ndarray, coverage: float = 0.95) -> Calibration:
    """T on one half of the validation photos, the conformal threshold on the other half (each photo
    used once), both halves alternating so each keeps every class."""
    y_val = np.asarray(y_val)
    order = np.argsort(y_val, kind="stable")
    first, second = order[0::2], order[1::2]
    temperature, floor = fit_map(proba_val[first], y_val[first])
    fitted_on = f"{len(first)} validation photos (temperature) and {len(second)} others (prediction sets)"
    held_out = proba_val[second], y_val[second]
    # checked on the other half with the same proper score it was fitted with: a map that does not
    # lower that half's log-loss is not used
    if log_loss(scaled(floored(held_out[0], floor), temperature), held_out[1]) >= log_loss(*held_out):
        temperature, floor = 1.0, 0.0
        fitted_on += "; the fitted temperature did not lower the other half's log-loss, so none is applied"
    threshold = conformal_threshold(scaled(floored(held_out[0], floor), temperature), held_out[1], coverage)
    return Calibration(
        temperature=temperature, set_threshold=threshold, coverage=coverage, fitted_on=fitted_on, floor=floor
    )


def measure(proba_test: np.ndarray, y_test: np.ndarray, calibration: Calibration) -> dict[str, Any]:
    """Before and after on the test photos: ECE (with its bootstrap interval), log-loss, Brier score,
    mean confidence; and the prediction sets' coverage and mean size."""
    after = calibration.apply(proba_test)
    sets = calibration.sets(after)
    y_test = np.asarray(y_test)
    out: dict[str, Any] = {}
    for name, p in (("before", np.asarray(proba_test, dtype=np.float64)), ("after", after)):
        out[name] = {
            "ece": ece(p, y_test),
            "ece_ci95": list(ece_interval(p, y_test)),
            "log_loss": log_loss(p, y_test),
            "brier": brier(p, y_test),
            "mean_confidence": float(p.max(axis=1).mean()),
        }
    out["accuracy"] = float((after.argmax(axis=1) == y_test).mean())
    out["set_coverage"] = float(sets[np.arange(len(y_test)), y_test].mean())
    out["set_mean_size"] = float(sets.sum(axis=1).mean())
    out["set_sizes"] = {
        str(k): int((sets.sum(axis=1) == k).sum()) for k in range(1, 11) if (sets.sum(axis=1) == k).any()
    }
    out["reliability_after"] = reliability(after, y_test)
    out["reliability_before"] = reliability(proba_test, y_test)
    return out
