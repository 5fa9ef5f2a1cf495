"""The story of the studio's evidence, as slides: built from the run store through the functions every
page uses (metrics and intervals, paired comparisons, curve readings, the confusion drill-down, the
measured explanation default, the ablation study), so the story, the report and the pages agree.

`build(run_id)` returns a Story: eight slides (problem, models, learning, confusions, right and wrong,
trust, what helps, next steps), each with a title, at most three plain sentences, terms explained in
one line, one picture (a figure or a photo gallery), its source (runs and dates) and, for the live
page, an action; plus the headline numbers, a summary for managers and the appendix facts.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core import data
from core.data import images
from core.data.dataset import N_TEST, N_VAL, spaced
from core.evaluation import (
    analysis,
    calibrated,
    comparison,
    drilldown,
    facts,
    labels,
    leaderboard,
    ranking,
    recipes,
    wording,
)
from core.evaluation.facts import Explanation, Paired
from core.store import RunError, RunStore, listed_record, run_summary
from core.story import figures, helps, race_words, study_run
from core.story.parts import Slide, Story, pct, recorded_date, trained_words
from core.story.summary import manager_summary, run_facts

MAX_SENTENCES = 3
_ranked_memo: dict[str, Any] = {}  # the ranked runs, until any run of the store changes


def _source(store: RunStore, *run_ids: str, extra: str = "") -> str:
    parts = []
    for run_id in dict.fromkeys(r for r in run_ids if r):
        try:
            parts.append(f"run {run_id}, recorded {recorded_date(store.get(run_id))}")
        except RunError:
            parts.append(f"run {run_id}")
    return "Source: " + "; ".join(parts) + (f"; {extra}" if extra else "")


def full_split_runs(store: RunStore) -> list[dict[str, Any]]:
    """The ranked runs (core.evaluation.ranking): completed on the whole training split, most accurate
    first (ties by run id), from the run index: each a listed record (store.listed_record), so a store
    of any size is ranked without opening every run.json."""
    from core.store import index as run_index

    key = (str(store.root), run_index.version(store))
    if _ranked_memo.get("key") != key:
        rows, _total = store.page({"status": "completed", "full_split": True}, "-test_accuracy", None)
        _ranked_memo.update(key=key, ranked=ranking.ranked([listed_record(r) for r in rows]))
    return list(_ranked_memo["ranked"])


def build(run_id: str | None = None, store: RunStore | None = None, explain: bool = True) -> Story:
    """The story about `run_id` (default: the most accurate full-split run). RunError when there is no
    completed run to tell it about."""
    store = store or RunStore()
    ranked = full_split_runs(store)
    if run_id is None:
        if not ranked:
            raise RunError("no completed run to tell the story of yet: train one first")
        run_id = ranked[0]["run_id"]
    record = store.get(run_id)
    if record["status"] == "validated":  # a study run: told on validation, with no test slides
        return _study_run_story(store, record, ranked)
    record = store.usable(run_id)
    best_deep = comparison.best_of_family(ranked, "deep")
    deep = record if record.get("family") == "deep" else store.usable(best_deep["run_id"]) if best_deep else None
    metrics = record["metrics"]
    headline = {
        "run_id": run_id,
        "label": record.get("label"),
        "test_accuracy": metrics["test_accuracy"],
        "test_accuracy_ci95": metrics.get("test_accuracy_ci95"),
        "interval": leaderboard.interval_text(metrics.get("test_accuracy_ci95")),
        "recorded": recorded_date(record),
    }
    slides = [
        _problem(),
        _models(store, ranked, headline),
        race_words.slide(store),
        _learning(store, record, deep),
        _confusions(store, record),
        _right_and_wrong(store, record, ranked),
        _trust(store, record, deep, explain),
        helps.slide(store),
        helps.next_slide(store, record, _source(store, record["run_id"])),
    ]
    shown: list[Slide] = [s for s in slides if s is not None]
    for s in shown:
        s.sentences = s.sentences[:MAX_SENTENCES]
    used = [run_id] + ([deep["run_id"]] if deep else []) + [r["run_id"] for r in ranked[:2]]
    summary = manager_summary(store, run_facts(store, record, ranked))
    return Story(run_id, shown, headline, summary, list(dict.fromkeys(used)))


def _study_run_story(store: RunStore, record: dict[str, Any], ranked: list[dict[str, Any]]) -> Story:
    """The story of a run judged on validation only: the problem, the ranked models (it is not one of
    them), its own curve, what its study is for and what helps; no slide of test photos."""
    told = run_facts(store, record, ranked)
    headline = {
        "run_id": record["run_id"],
        "label": record.get("label"),
        "test_accuracy": None,
        "validation_accuracy": told.validation_accuracy,
        "test_accuracy_ci95": None,
        "interval": "not scored on the test photos",
        "recorded": recorded_date(record),
    }
    slides = [
        _problem(),
        _models(store, ranked, headline),
        _learning(store, record, None),
        study_run.slide(store, record, told),
        helps.slide(store),
    ]
    shown: list[Slide] = [s for s in slides if s is not None]
    for s in shown:
        s.sentences = s.sentences[:MAX_SENTENCES]
    used = [record["run_id"]] + [r["run_id"] for r in ranked[:2]]
    return Story(record["run_id"], shown, headline, manager_summary(store, told), list(dict.fromkeys(used)))


def _problem() -> Slide:
    from core.data import explore

    stats = explore.dataset_stats()
    ds = data.load()
    rng = np.random.default_rng(0)
    gallery = []
    for c, name in enumerate(data.CLASS_NAMES):
        for i in rng.choice(np.flatnonzero(ds.y_train == c), 2, replace=False):
            gallery.append({"src": images.data_uri(images.png_bytes(ds.x_train[int(i)], 3)), "caption": name})
    from core.data.dataset import N_TRAIN, N_VAL

    per_class_train, per_class_val = N_TRAIN // data.NUM_CLASSES, N_VAL // data.NUM_CLASSES
    return Slide(
        "problem",
        "The problem: name the item in a tiny photo",
        [
            (
                f"{len(ds.y_train) + len(ds.y_test):,} photos of clothes, 28 × 28 grey pixels each, in "
                f"{data.NUM_CLASSES} classes."
            ),
            (
                f"Every class is equally common: {per_class_train:,} photos each to learn from, "
                f"{per_class_val:,} each to check choices on, {len(ds.y_test) // data.NUM_CLASSES:,} each kept "
                "aside for the final test."
            ),
            f"Most pixels are dark background: the average brightness is {stats['pixel_mean']:.0f} of 255.",
        ],
        {
            "class": "One kind of item, such as Sneaker or Coat: what the model must name.",
            "test": "Photos never shown during training, used once at the end to score a model.",
        },
        gallery=gallery,
        source=f"Source: the Fashion-MNIST files in {ds.source.name}, checked against their published checksums",
    )


def _recipe(store: RunStore, run_id: str) -> str:
    """ "preset best, trained 17.7 min": how a compared run was made, and its training time here."""
    return f"{recipes.recipe_words(store.get(run_id))}, {trained_words(store, run_id)}"


def _models(store: RunStore, ranked: list[dict[str, Any]], headline: dict[str, Any]) -> Slide:
    best_per_kind: dict[str, dict[str, Any]] = {}
    for r in ranked:  # most accurate first: the first run of each kind is its best
        best_per_kind.setdefault(r.get("label") or r["model"], r)
    rows = [
        {
            "label": f"{label} · {_recipe(store, r['run_id']).replace('trained ', '')}",
            "run_id": r["run_id"],
            "family": r.get("family"),
            "accuracy": r["metrics"]["test_accuracy"],
            "ci": r["metrics"]["test_accuracy_ci95"],
        }
        for label, r in best_per_kind.items()
    ]
    sentences = []
    cited: list[str] = []
    found = comparison.deep_vs_classic(store)
    if found:
        versus = Paired.of(found)
        cited += [versus.a, versus.b]
        gap = wording.gap(versus, "the CNN", "the classic model")
        sentences.append(
            f"The best CNN ({versus.name_a}, {trained_words(store, versus.a)}) gets {pct(versus.accuracy_a)} of the "
            f"test photos right, the best classic model ({versus.name_b}, {trained_words(store, versus.b)}) "
            f"{pct(versus.accuracy_b)}: {gap[0].lower() + gap[1:]}"
        )
    found = comparison.top_two(store)
    if found:
        top = Paired.of(found)
        cited += [top.a, top.b]
        leader = next((r for r in ranked if r["run_id"] == top.a), None)
        interval = leaderboard.interval_text((leader or {}).get("metrics", {}).get("test_accuracy_ci95"))
        recipe_a, recipe_b = (recipes.recipe_words(store.get(r)) for r in (top.a, top.b))
        differ = "; another recipe" if recipe_a != recipe_b else ""
        sentences.append(
            f"The most accurate run, {top.name_a} ({pct(top.accuracy_a)}"
            + (f", 95 % interval {interval}" if interval else "")
            + f", {trained_words(store, top.a)}), leads the "
            f"runner-up, {top.name_b} ({trained_words(store, top.b)}{differ}), by {100 * top.difference:.2f} "
            "points: " + ("beyond chance." if top.beyond_chance else "that could be noise.")
        )
    return Slide(
        "models",
        "The models compared",
        sentences,
        {
            "CNN": "A convolutional neural network: it learns small patterns (edges, textures) and combines them.",
            "classic model": "Logistic regression, SVM, random forest, k-NN, boosting: no learned image features.",
            "95 % interval": f"The range the true accuracy lies in with 95 % confidence, given {spaced(N_TEST)} test photos.",
            "beyond chance": "An exact McNemar test on the photos only one of the two gets right gives p < 0.05.",
        },
        figures.model_bars(rows),
        source=_source(
            store,
            *cited,
            extra=f"the bars: the best of each of {len(rows)} kinds of model, from {len(ranked)} ranked runs, each "
            "with its recipe and training time here",
        ),
        action=("Open the leaderboard", "/leaderboard"),
    )


def _learning(store: RunStore, record: dict[str, Any], deep: dict[str, Any] | None) -> Slide | None:
    run = record if store.history(record["run_id"]) else deep
    if run is None:
        return None
    history = [h for h in store.history(run["run_id"]) if h.get("val_accuracy") is not None]
    if not history:
        return None
    reading = analysis.overfitting(history, facts.uses_tta(run))
    sentences = list(reading["sentences"][:2])
    if run is not record:
        sentences.insert(
            0,
            f"{record.get('label')} has no epochs to show, so here is how another model, {run.get('label')}, learned.",
        )
    return Slide(
        "learning",
        "How a model learns, and when it starts to memorise",
        sentences,
        {
            "epoch": "One pass over all the training photos.",
            "validation": f"{spaced(N_VAL)} labelled photos kept out of training, to watch for memorising.",
            "overfitting": "Learning the training photos by heart instead of what each item looks like.",
        },
        figures.learning_curves(history, reading.get("best_epoch")),
        source=_source(store, run["run_id"]),
        action=("Replay its training", f"/train?run={run['run_id']}"),
    )


def _confusions(store: RunStore, record: dict[str, Any]) -> Slide:
    preds = store.predictions(record["run_id"])
    matrix = drilldown.confusion_matrix(preds["y_true"], preds["y_pred"])
    return Slide(
        "confusions",
        "Where it goes wrong",
        drilldown.summary_sentences(preds)[:3],
        {"confusion matrix": "Rows: the true class; columns: the model's answer; the diagonal is right."},
        figures.confusion(matrix, list(data.CLASS_NAMES)),
        source=_source(store, record["run_id"]),
        action=("Click into any cell", f"/errors?run={record['run_id']}"),
    )


def _label_flags(store: RunStore, record: dict[str, Any], ranked: list[dict[str, Any]], preds) -> tuple[set, str]:
    """The photos this run's model disagrees with the label on (cleanlab), only when the model is
    accurate enough to question labels (core.evaluation.labels.may_flag); else none, and why."""
    best = ranked[0] if ranked else None
    best_val = run_summary(store.get(best["run_id"])).get("val_accuracy") if best else None
    own_val = run_summary(record).get("val_accuracy")
    if best is None or best_val is None:
        return set(), "No ranked run with a validation score yet, so no label is questioned."
    if not labels.may_flag(own_val, best_val):
        shown = f"{100 * own_val:.2f} %" if own_val is not None else "no validation score"
        return set(), (
            f"This model ({shown} on validation) does not question the dataset's labels: "
            + labels.flag_rule(facts.display_name(best), best_val)
            + "."
        )
    return set(labels.label_suspects(preds).tolist()), ""


def _right_and_wrong(store: RunStore, record: dict[str, Any], ranked: list[dict[str, Any]]) -> Slide:
    preds = calibrated.predictions(store, record)  # ranked and shown by calibrated confidence
    ds = data.load()
    right = np.flatnonzero(preds["y_pred"] == preds["y_true"])
    sure = right[np.argsort(-preds["proba"][right, preds["y_pred"][right]], kind="stable")]
    picks = [int(sure[k * len(sure) // 6]) for k in range(6)]  # right answers across the classes' confidence
    wrong = drilldown.confident_mistakes(preds, 6).tolist()
    suspects, why_none = _label_flags(store, record, ranked, preds)
    gallery = []
    for i in picks + wrong:  # "% sure" is the calibrated confidence, or says it is not
        true_c, said = int(preds["y_true"][i]), int(preds["y_pred"][i])
        mark = "✓" if true_c == said else "✗"
        p = float(preds["proba"][i, said])
        caption = f"{mark} {data.CLASS_NAMES[said]} ({calibrated.sure_words(p, preds['calibrated'])})"
        if true_c != said:
            caption += f"; label: {data.CLASS_NAMES[true_c]}" + (" (disagrees with the label)" if i in suspects else "")
        gallery.append({"src": images.data_uri(images.png_bytes(ds.x_test[i], 3)), "caption": caption})
    flagged = sum(i in suspects for i in wrong)
    if why_none:
        flags = why_none
    elif flagged:
        flags = (
            f"On {flagged} of those {len(wrong)} mistakes the model disagrees with the label (flagged by cleanlab "
            "from this model's probabilities; no person has checked which is right)."
        )
    else:
        flags = "On none of those mistakes does the model disagree with the label strongly enough to flag it."
    return Slide(
        "examples",
        "Right and wrong, photo by photo",
        [
            "Top: photos it gets right. Bottom: the mistakes it was most sure of.",
            flags,
            "Open the mistakes to see every one of them, by class.",
        ],
        {
            "% sure": "Calibrated on the run's validation photos: of the photos it is 90 % sure about, about 90 % "
            'are right (test photos). A run without a calibration shows its own score instead ("score 90 %"), '
            "which is not how often it is right.",
            "disagrees with the label": "Flagged by confident learning (cleanlab) from one model's predicted "
            "probabilities: the model confidently names another class than the dataset's label. A suspicion, not a "
            f"verdict: no person has checked it. Shown only for models within {100 * labels.FLAG_MARGIN:.0f} point "
            "of the best run's validation accuracy.",
        },
        gallery=gallery,
        source=_source(store, record["run_id"]),
        action=("See every mistake", f"/errors?run={record['run_id']}"),
    )


def _trust(store: RunStore, record: dict[str, Any], deep: dict[str, Any] | None, explain: bool) -> Slide | None:
    if deep is None or not explain:
        return None
    from core import explain as explainer
    from core.explain import faithfulness

    measured = faithfulness.default_view(deep["run_id"], store)
    method = measured["method"] if measured else "occlusion"
    layer = measured["layer"] if measured else None
    index = int(measured.get("photo", 0)) if measured else 0
    try:
        result = explainer.explain_test_image(deep["run_id"], index, layer=layer, method=method, store=store)
    except (RunError, ValueError, OSError):
        return None
    image = data.load().x_test[index]
    shown = Explanation(
        about=str(record.get("label")),
        shown_name=facts.display_name(deep),
        borrowed=deep["run_id"] != record["run_id"],
        method=method,
        measured=bool(measured),
    )
    sentences = [
        wording.explanation_intro(shown, result["true_class"], result["predicted_class"]),
        analysis.describe_heatmap(result["heatmap"], image, result["target_class"]),
        faithfulness.sentence(measured) if measured else wording.UNMEASURED,
    ]
    borrowed = shown.borrowed
    meaning = wording.explanation_method_meaning(shown)
    return Slide(
        "trust",
        f"Why trust it: where {'the best CNN' if borrowed else 'the model'} looks",
        sentences,
        {"heatmap": "Red: the pixels that pushed the answer most; blue: hardly at all.", method: meaning},
        figures.explanation(image, result["heatmap"], f"{method} heatmap"),
        source=_source(store, deep["run_id"], extra=f"test photo #{index}"),
        action=("Try your own photo", f"/gradcam?run={deep['run_id']}"),
    )
