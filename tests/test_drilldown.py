"""Confusion matrix, report, cell selection and comparisons, checked against scikit-learn on real runs."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from core import data
from core.evaluation import drilldown, leaderboard
from dashboard.components import gallery as gal
from dashboard.figures.errors import accuracy_bars, confusion_heatmap, per_class_f1

RUN = "ref-cnn"


@pytest.fixture(scope="module")
def preds(reference_store):
    return reference_store.predictions(RUN)


def test_confusion_matrix_matches_sklearn_and_the_run_record(preds, reference_store):
    ours = drilldown.confusion_matrix(preds["y_true"], preds["y_pred"])
    np.testing.assert_array_equal(ours, confusion_matrix(preds["y_true"], preds["y_pred"], labels=range(10)))
    np.testing.assert_array_equal(ours, np.array(reference_store.get(RUN)["metrics"]["confusion_matrix"]))
    np.testing.assert_allclose(drilldown.row_normalised(ours).sum(axis=1), 1.0)


def test_classification_report_matches_sklearn(preds):
    rows = drilldown.classification_report(preds["y_true"], preds["y_pred"])
    p, r, f, s = precision_recall_fscore_support(preds["y_true"], preds["y_pred"], labels=range(10), zero_division=0)
    for i, name in enumerate(data.CLASS_NAMES):
        row = rows[i]
        assert row["class"] == name and row["support"] == s[i]
        assert (row["precision"], row["recall"], row["f1-score"]) == pytest.approx((p[i], r[i], f[i]))
    macro = next(r_ for r_ in rows if r_["class"] == "macro avg")
    assert macro["f1-score"] == pytest.approx(f.mean())
    weighted = next(r_ for r_ in rows if r_["class"] == "weighted avg")
    assert weighted["f1-score"] == pytest.approx(float((f * s).sum() / s.sum()))
    accuracy = next(r_ for r_ in rows if r_["class"] == "accuracy")
    assert accuracy["f1-score"] == pytest.approx(float((preds["y_true"] == preds["y_pred"]).mean()))


def test_cells_partition_the_test_set_and_are_sorted_by_confidence(preds):
    seen = []
    for t in range(10):
        for p in range(10):
            idx = drilldown.cell_indices(preds, t, p)
            expected = np.flatnonzero((preds["y_true"] == t) & (preds["y_pred"] == p))
            assert sorted(idx.tolist()) == expected.tolist()
            confidence = preds["proba"][idx, p]
            assert np.all(np.diff(confidence) <= 0)
            seen.extend(idx.tolist())
    assert sorted(seen) == list(range(10000))


def test_confident_mistakes_are_wrong_and_ordered(preds):
    idx = drilldown.confident_mistakes(preds, 20)
    assert len(idx) == 20 and np.all(preds["y_pred"][idx] != preds["y_true"][idx])
    conf = preds["proba"][idx, preds["y_pred"][idx]]
    wrong = preds["y_pred"] != preds["y_true"]
    assert conf[0] == pytest.approx(preds["proba"][wrong].max(axis=1).max())
    assert np.all(np.diff(conf) <= 0)


def test_disagreements_between_two_reference_runs(reference_store, preds):
    other = reference_store.predictions("ref-cnn_dropout")
    diff = drilldown.disagreements(preds, other)
    differ = preds["y_pred"] != other["y_pred"]
    assert diff["total"] == int(differ.sum()) == sum(diff["counts"].values())
    assert np.all(preds["y_pred"][diff["a_right"]] == preds["y_true"][diff["a_right"]])
    assert np.all(other["y_pred"][diff["b_right"]] == other["y_true"][diff["b_right"]])


def test_summary_names_the_biggest_confusion(preds):
    matrix = confusion_matrix(preds["y_true"], preds["y_pred"], labels=range(10))
    np.fill_diagonal(matrix, 0)
    t, p = np.unravel_index(matrix.argmax(), matrix.shape)
    sentences = drilldown.summary_sentences(preds)
    assert (
        f"{data.CLASS_NAMES[t]} is most often mistaken for {data.CLASS_NAMES[p]}: {matrix[t, p]} times" in sentences[1]
    )
    correct = int((preds["y_pred"] == preds["y_true"]).sum())
    assert f"{correct:,} of 10,000" in sentences[0]


def test_confusion_figure_counts_and_shares(preds):
    matrix = drilldown.confusion_matrix(preds["y_true"], preds["y_pred"])
    names = list(data.CLASS_NAMES)
    fig = confusion_heatmap(matrix, names)
    off, diag = (np.array(t.z, dtype=float) for t in fig.data)
    np.testing.assert_array_equal(np.diag(diag), np.diag(matrix))
    assert np.isnan(np.diag(off)).all() and np.nansum(off) == matrix.sum() - np.trace(matrix)
    shares = confusion_heatmap(matrix, names, normalised=True)
    total = np.nan_to_num(np.array(shares.data[0].z, dtype=float)) + np.nan_to_num(
        np.array(shares.data[1].z, dtype=float)
    )
    np.testing.assert_allclose(total.sum(axis=1), 1.0)


def test_leaderboard_rows_and_best_values(reference_store):
    table = leaderboard.rows(reference_store.list_runs())
    rows = leaderboard.completed(table)  # the reference studies' validation-only runs come after them
    assert table[: len(rows)] == rows and all(r["status"] == "validated" for r in table[len(rows) :])
    assert {r["run_id"] for r in rows} >= {"ref-cnn"}
    assert [r["test_accuracy"] for r in rows] == sorted((r["test_accuracy"] for r in rows), reverse=True)
    best = leaderboard.best_values(rows)
    assert best["test_accuracy"] == rows[0]["test_accuracy"]
    assert best["inference_ms"] == min(r["inference_ms"] for r in rows)
    record = reference_store.get("ref-cnn")
    row = next(r for r in rows if r["run_id"] == "ref-cnn")
    assert row["worst_f1"] == min(c["f1"] for c in record["metrics"]["per_class"])
    fig = accuracy_bars(rows)
    assert sum(len(t.x) for t in fig.data) == len(rows)
    assert fig.layout.xaxis.range[0] == 0  # bars start at zero: no exaggerated gaps
    assert row["n_train"] == record["data"]["n_train"] == 48000  # the training-set size is on the board
    assert len(per_class_f1({"a": record["metrics"]["per_class"]}, list(data.CLASS_NAMES)).data[0].y) == 10


def test_gallery_pages_and_links(preds):
    idx = drilldown.cell_indices(preds, 6, 0)
    first = gal.gallery(idx, preds, "ref-cnn", page=1)
    assert len(first.children) == min(gal.PER_PAGE, len(idx))
    last_page = gal.page_count(len(idx))
    last = gal.gallery(idx, preds, "ref-cnn", page=last_page)
    assert len(last.children) == len(idx) - gal.PER_PAGE * (last_page - 1)
    link = first.children[0].children[0]
    assert link.href == f"/gradcam?run=ref-cnn&index={idx[0]}"


def test_label_suspects_come_from_confident_learning_not_from_every_confident_mistake(preds):
    from cleanlab.filter import find_label_issues

    from core.evaluation import labels

    suspects = labels.label_suspects(preds)
    wrong = np.flatnonzero(preds["y_pred"] != preds["y_true"])
    assert 0 < len(suspects) < len(wrong)  # a selection of the mistakes, not all of them
    probs = preds["proba"] / preds["proba"].sum(axis=1, keepdims=True)
    expected = find_label_issues(
        preds["y_true"].astype(int), probs.astype(float), return_indices_ranked_by="self_confidence"
    )
    np.testing.assert_array_equal(suspects, expected)
    assert labels.label_suspects(preds) is suspects  # cached for the same predictions
