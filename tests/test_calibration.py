"""Calibration arithmetic (core.evaluation.calibration) on constructed data: the temperature fit
recovers a known temperature, the ECE and reliability bins match a plain numpy recomputation, split
conformal sets reach their coverage on exchangeable synthetic scores, and a run's recorded
calibration is read back (and refused when malformed). Issue 43."""

from __future__ import annotations

import numpy as np
import pytest

from core.evaluation import calibrated, calibration


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _calibrated_logits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Logits whose softmax is calibrated: labels drawn from the softmax itself."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 2.5, (n, 10))
    proba = _softmax(logits)
    y = np.array([rng.choice(10, p=p) for p in proba])
    return logits, y


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0, 3.0])
def test_the_temperature_fit_recovers_a_known_temperature(temperature):
    logits, y = _calibrated_logits(20_000, seed=1)
    distorted = _softmax(logits / temperature)  # over-confident for T < 1, under-confident for T > 1
    found = calibration.fit_temperature(distorted, y)
    assert found == pytest.approx(1 / temperature, rel=0.05)
    fixed = calibration.scaled(distorted, found)
    assert calibration.ece(fixed, y) < 0.015 and calibration.log_loss(fixed, y) <= calibration.log_loss(distorted, y)
    assert (fixed.argmax(axis=1) == distorted.argmax(axis=1)).all()  # the answers never change


def test_ece_and_reliability_match_a_plain_recomputation():
    rng = np.random.default_rng(2)
    proba = _softmax(rng.normal(0, 2, (5000, 10)))
    y = rng.integers(0, 10, 5000)
    conf, pred = proba.max(axis=1), proba.argmax(axis=1)
    edges = np.linspace(0, 1, calibration.BINS + 1)
    total, bins = 0.0, []
    for b in range(calibration.BINS):
        mask = (conf >= edges[b]) & ((conf < edges[b + 1]) if b < calibration.BINS - 1 else (conf <= 1))
        if mask.any():
            bins.append((int(mask.sum()), conf[mask].mean(), (pred[mask] == y[mask]).mean()))
            total += mask.sum() * abs((pred[mask] == y[mask]).mean() - conf[mask].mean())
    found = calibration.reliability(proba, y)
    assert [b["count"] for b in found] == [b[0] for b in bins]
    assert [x for b in found for x in (b["confidence"], b["accuracy"])] == pytest.approx(
        [float(x) for b in bins for x in b[1:]]
    )
    assert calibration.ece(proba, y) == pytest.approx(total / len(y))
    low, high = calibration.ece_interval(proba, y, draws=200)
    assert low <= calibration.ece(proba, y) <= high
    onehot = np.eye(10)[y]
    assert calibration.brier(proba, y) == pytest.approx(((proba - onehot) ** 2).sum(axis=1).mean())


@pytest.mark.parametrize("coverage", [0.8, 0.9, 0.95])
def test_conformal_sets_reach_their_coverage_on_exchangeable_scores(coverage):
    logits, y = _calibrated_logits(12_000, seed=3)
    proba = _softmax(logits)
    cal, test = slice(0, 6000), slice(6000, None)
    threshold = calibration.conformal_threshold(proba[cal], y[cal], coverage)
    sets = calibration.prediction_sets(proba[test], threshold)
    covered = sets[np.arange(len(y[test])), y[test]].mean()
    assert coverage - 0.02 <= covered <= coverage + 0.03
    assert sets.any(axis=1).all() and sets[np.arange(6000), proba[test].argmax(axis=1)].all()


def test_a_fit_uses_each_validation_photo_once_and_is_read_back_from_a_record():
    logits, y = _calibrated_logits(4000, seed=4)
    fitted = calibration.fit(_softmax(logits / 0.5), y)
    assert fitted.temperature == pytest.approx(2.0, rel=0.1) and "2000 validation photos" in fitted.fitted_on
    assert calibrated.for_run({"calibration": fitted.to_json()}) == fitted
    assert calibrated.for_run({}) is None and calibrated.for_run({"calibration": {"temperature": "x"}}) is None


def test_hard_zeros_get_a_floor_that_a_temperature_alone_cannot_give():
    """k-NN-like vote shares (multiples of 1/8, zero on every class no neighbour voted for, sometimes
    the true one): the fit mixes in a uniform share and lowers the ECE on other photos; on calibrated
    logits it stays plain temperature scaling (λ = 0)."""
    rng = np.random.default_rng(7)
    logits, y = _calibrated_logits(12_000, seed=7)
    proba = _softmax(logits)
    votes = np.stack([np.bincount(rng.choice(10, 8, p=row), minlength=10) / 8 for row in proba])
    fit_half, check = slice(0, 6000), slice(6000, None)
    fitted = calibration.fit(votes[fit_half], y[fit_half])
    assert fitted.floor > 0
    after = fitted.apply(votes[check])
    assert np.array_equal(after.argmax(axis=1), votes[check].argmax(axis=1)) or (
        (after.argmax(axis=1) == y[check]).mean() == pytest.approx((votes[check].argmax(axis=1) == y[check]).mean())
    )
    assert calibration.ece(after, y[check]) < calibration.ece(votes[check], y[check])
    assert calibration.ece(after, y[check]) < calibration.ece(calibration.scaled(votes[check], 4.0), y[check])
    plain = calibration.fit(_softmax(logits / 0.5)[fit_half], y[fit_half])
    assert plain.floor == 0.0 and plain.temperature == pytest.approx(2.0, rel=0.15)
    assert calibrated.for_run({"calibration": fitted.to_json()}) == fitted
