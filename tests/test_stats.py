"""Intervals and paired tests (core.evaluation.stats) against statsmodels' and scipy's own
implementations, on constructed cases and on two committed reference runs."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.proportion import proportion_confint

from core.data.dataset import spaced
from core.evaluation import comparison, leaderboard, metrics, stats, wording
from core.evaluation.facts import Paired
from tests.conftest import completed_run, run_cli

REFERENCE_ENV_PAIRS = [("ref-ensemble", "ref-preset-best"), ("ref-hog_svm", "ref-resnet")]


@pytest.mark.parametrize(("k", "n"), [(0, 10), (1, 10), (9363, 10000), (999, 1000), (50, 50), (412, 1000)])
def test_wilson_interval_matches_statsmodels_and_scipy(k, n):
    assert stats.wilson(k, n) == pytest.approx(proportion_confint(k, n, alpha=0.05, method="wilson"), abs=1e-12)
    ci = sps.binomtest(k, n).proportion_ci(0.95, method="wilson")
    assert stats.wilson(k, n) == pytest.approx((ci.low, ci.high), abs=1e-12)


@pytest.mark.parametrize(("b", "c"), [(130, 114), (172, 149), (177, 132), (344, 330), (0, 7), (3, 0), (5, 5)])
def test_exact_mcnemar_matches_statsmodels(b, c):
    expected = mcnemar([[100, b], [c, 100]], exact=True).pvalue
    assert stats.mcnemar_exact(b, c) == pytest.approx(expected, rel=1e-12)


def test_newcombe_paired_interval_on_published_examples_and_against_wald():
    # the two worked examples of Newcombe's square-and-add paired interval in Fagerland, Lydersen &
    # Laake (2017), chapter 8 (the contingencytables R package): Bentur 2009 and Cavo 2012
    assert stats.paired_difference_ci(1, 1, 7, 12) == pytest.approx((-0.5069, -0.0256), abs=1e-4)
    assert stats.paired_difference_ci(59, 6, 16, 80) == pytest.approx((-0.1186, -0.0046), abs=1e-4)
    # with many photos it approaches the Wald interval of the paired difference
    both, a_only, b_only, neither = 9233, 130, 114, 523
    n = both + a_only + b_only + neither
    d = (a_only - b_only) / n
    se = np.sqrt(a_only + b_only - (a_only - b_only) ** 2 / n) / n
    assert stats.paired_difference_ci(both, a_only, b_only, neither) == pytest.approx(
        (d - 1.96 * se, d + 1.96 * se), abs=3e-5
    )


def test_paired_comparison_keys_counts_and_verdicts():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 2000)
    a = np.where(rng.random(2000) < 0.9, y, (y + 1) % 10)
    b = np.where(rng.random(2000) < 0.8, y, (y + 2) % 10)
    result = stats.paired(y, a, b, "good", "worse")
    assert set(result) >= {
        "a", "b", "n", "accuracy_a", "accuracy_b", "difference", "difference_ci95",
        "a_right_b_wrong", "b_right_a_wrong", "mcnemar_p",
    }  # fmt: skip
    assert result["a_right_b_wrong"] == int(((a == y) & (b != y)).sum())
    assert result["difference"] == pytest.approx((a == y).mean() - (b == y).mean())
    low, high = result["difference_ci95"]
    assert low < result["difference"] < high and low > 0
    assert wording.verdict(Paired.of(result)).startswith("good is better than worse beyond chance")
    assert wording.verdict(Paired.of(stats.paired(y, b, a, "worse", "good"))).startswith(
        "good is better than worse beyond chance"
    )  # the better one is named first whichever side it is on
    same = stats.paired(y, a, a.copy(), "x", "y")
    assert same["mcnemar_p"] == 1.0 and wording.verdict(Paired.of(same)) == (
        f"x and y are right on exactly the same {spaced(len(y))} test photos (no photo that only one of them gets "
        "right): there is no difference to measure."
    )
    near = b.copy()
    near[np.flatnonzero(near == y)[0]] = (y[np.flatnonzero(near == y)[0]] + 1) % 10  # one photo now differs
    assert "could be noise" in wording.verdict(Paired.of(stats.paired(y, b, near, "x", "y")))


@pytest.mark.parametrize(("a", "b"), REFERENCE_ENV_PAIRS)
def test_reference_runs_compare_like_statsmodels(reference_store, a, b):
    result = comparison.compare_runs(a, b, reference_store)
    pa, pb = reference_store.predictions(a), reference_store.predictions(b)
    ra, rb = pa["y_pred"] == pa["y_true"], pb["y_pred"] == pb["y_true"]
    table = [[int((ra & rb).sum()), int((ra & ~rb).sum())], [int((~ra & rb).sum()), int((~ra & ~rb).sum())]]
    assert (result["a_right_b_wrong"], result["b_right_a_wrong"]) == (table[0][1], table[1][0])
    assert result["mcnemar_p"] == pytest.approx(mcnemar(table, exact=True).pvalue, rel=1e-12)
    assert ("beyond chance" if result["mcnemar_p"] < 0.05 else "could be noise") in result["verdict"]
    record = reference_store.get(a)
    ci = record["metrics"]["test_accuracy_ci95"]  # backfilled on read: the committed record has none
    k = int(np.trace(record["metrics"]["confusion_matrix"]))
    assert ci == pytest.approx(proportion_confint(k, 10_000, method="wilson"), abs=1e-6)


def test_new_runs_store_intervals_and_old_records_get_them_on_read(store):
    record = completed_run(store, "fresh", accuracy=0.7)
    ci = record["metrics"]["test_accuracy_ci95"]
    assert ci[0] < record["metrics"]["test_accuracy"] < ci[1]
    matrix = np.array(record["metrics"]["confusion_matrix"])
    for i, row in enumerate(record["metrics"]["per_class"]):
        expected = proportion_confint(matrix[i, i], matrix[i].sum(), method="wilson")
        assert row["recall_ci95"] == pytest.approx(expected, abs=1e-6)
    # an older record without intervals: they are added when it is read, and the file is unchanged
    old = {k: v for k, v in record["metrics"].items() if k != "test_accuracy_ci95"}
    old["per_class"] = [{k: v for k, v in r.items() if k != "recall_ci95"} for r in old["per_class"]]
    store.update("fresh", metrics=old)
    raw = (store.path("fresh") / "run.json").read_text()
    assert "ci95" not in raw
    again = store.get("fresh")["metrics"]
    assert again["test_accuracy_ci95"] == pytest.approx(ci)
    assert all("recall_ci95" in r for r in again["per_class"])


def test_seed_effect_matches_scipy_t_interval():
    diffs = [0.004, 0.007, 0.001, 0.006]
    effect = stats.seed_effect(diffs)
    expected = sps.ttest_1samp(diffs, 0.0).confidence_interval(0.95)
    assert effect["ci95"] == pytest.approx((expected.low, expected.high))
    assert effect["mean"] == pytest.approx(np.mean(diffs)) and effect["seeds"] == 4
    assert stats.seed_effect([0.01])["ci95"] is None


def test_seeds_that_agree_exactly_are_not_called_measurable():
    """Accuracy moves in steps of one photo: two seeds can give the same difference (−2 of 12 000
    photos each, as weight averaging did in ref-ablation-fast). A t-test over no spread is undefined,
    not "p = 0": no p-value, no interval, and a sentence that says so."""
    from core.ablation import wording

    same = stats.seed_effect([-2 / 12000, -2 / 12000])
    assert same["p"] is None and same["ci95"] is None and same["sd"] == 0 and same["seeds"] == 2
    row = {
        "technique": "Weight averaging (EMA)",
        "change": "0 → 0.99",
        "kind": "add",
        "technique_effect": same["mean"],
        "technique_ci95": None,
        "seeds": 2,
        "measurable": False,
    }
    assert wording.verdict(row) == "no spread"
    sentence = wording.effect_sentence(row, "8 epochs on all 48 000 photos", 13, with_cost=False)
    assert sentence.startswith("At 8 epochs on all 48 000 photos") and "not tested" in sentence
    assert "measurable" not in sentence and "one seed" not in sentence


def test_leaderboard_groups_seed_repeats_as_mean_and_spread(store):
    for i, acc in enumerate((0.7, 0.72, 0.74)):
        completed_run(store, f"g-{i}", accuracy=acc, seed=i)
        store.update(f"g-{i}", group={"id": "g-0", "index": i + 1, "of": 3, "seed": 42 + i})
    completed_run(store, "single", accuracy=0.6, seed=9)
    table = leaderboard.rows(store.list_runs())
    assert all(r["ci_low"] < r["test_accuracy"] < r["ci_high"] for r in table)
    grouped = leaderboard.grouped(table)
    assert [r["run_id"] for r in grouped] == ["g-0", "single"]
    accs = [r["test_accuracy"] for r in table if r["run_id"].startswith("g-")]
    assert grouped[0]["seeds"] == 3
    assert grouped[0]["test_accuracy"] == pytest.approx(np.mean(accs))
    assert grouped[0]["seed_sd"] == pytest.approx(np.std(accs, ddof=1))


def test_compare_cli_json_and_refusals(reference_artifacts):
    env = {"STUDIO_ARTIFACTS": str(reference_artifacts)}
    done = run_cli("compare", "ref-cnn_dropout", "ref-logreg", "--json", env=env)
    assert done.returncode == 0, done.stderr
    import json

    result = json.loads(done.stdout)  # a CNN against logistic regression: far apart on the same photos
    assert result["mcnemar_p"] < 0.05 and result["verdict"].startswith("ref-cnn_dropout is better than ref-logreg")
    assert result["difference"] == pytest.approx(result["accuracy_a"] - result["accuracy_b"])
    missing = run_cli("compare", "ref-cnn", "nope", env=env)
    assert missing.returncode == 1 and "no run named nope" in missing.stderr
    bad = run_cli("compare", "ref-cnn", "../etc", env=env)
    assert bad.returncode == 2 and "invalid run id" in bad.stderr


def test_evaluate_writes_the_interval(store):
    y = np.arange(10_000) % 10
    proba = np.eye(10)[(y + (np.arange(10_000) % 4 == 0)) % 10]
    m = metrics.evaluate(y, proba)
    assert m["test_accuracy"] == pytest.approx(0.75)
    assert m["test_accuracy_ci95"] == pytest.approx(proportion_confint(7500, 10_000, method="wilson"), abs=1e-6)
