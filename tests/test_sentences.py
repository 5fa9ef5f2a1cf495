"""The rules that build the sentences a presenter reads out: each is true of the run on screen. The
rank ("the most accurate" only for the first), borrowed evidence, a flat curve, heat on the
background, label suspects, what every unranked run is, "most often", and the managers' words; and,
for every committed run, the story, the report summary and the overview agree with each other and
with `compare`."""

from __future__ import annotations

import html

import numpy as np
import pytest

from core.evaluation import analysis, board, comparison, drilldown, facts, leaderboard, ranking, stats, wording
from core.evaluation.facts import Paired
from core.store import RunStore
from core.story import figures, report, slides, summary


def _hist(values: list[float]) -> list[dict]:
    return [
        {"epoch": i + 1, "val_accuracy": v, "accuracy": v + 0.01, "loss": 1 - v, "val_loss": 1.2 - v + 0.001 * i}
        for i, v in enumerate(values)
    ]


def test_a_plateau_is_called_flat_and_a_rising_curve_improving():
    plateau = analysis.overfitting(_hist([0.90, 0.92, 0.93, 0.9413, 0.9448, 0.944, 0.9443, 0.9445, 0.9444, 0.9445]))
    assert plateau["shape"]["flat"] and "Flat for the last" in plateau["sentences"][0]
    assert "Still improving" not in plateau["verdict"]
    rising = analysis.overfitting(_hist([0.80, 0.84, 0.87, 0.89, 0.905, 0.915, 0.925, 0.933]))
    assert rising["shape"]["improving"] and rising["sentences"][0].startswith("Still improving at epoch 8")
    noisy = analysis.curve_shape(_hist([0.90, 0.91, 0.905, 0.912, 0.906, 0.911, 0.905, 0.912]))
    assert not noisy["improving"]  # up and down within its noise is not "still improving"


def test_the_committed_best_run_is_flat_not_still_improving(with_reference_runs):
    history = RunStore().history("ref-preset-best")
    reading = analysis.overfitting(history)
    assert reading["shape"]["flat"] and reading["shape"]["flat_for"] >= 5
    assert "more epochs would probably help" not in reading["verdict"]


def test_heat_mostly_on_the_background_is_said_and_no_part_is_named():
    image = np.zeros((28, 28), dtype=np.uint8)
    image[8:20, 10:18] = 200  # the item
    heat = np.zeros((28, 28))
    heat[0:4, :] = 1.0  # all of it on the background
    text = analysis.describe_heatmap(heat, image, "Ankle boot")
    assert text.startswith("Careful") and "100 % of its weight on the background" in text
    assert "shaft" not in text and "toe" not in text and "looked mostly" not in text
    heat_on_item = np.zeros((28, 28))
    heat_on_item[8:12, 10:18] = 1.0
    assert "looked mostly at the shaft" in analysis.describe_heatmap(heat_on_item, image, "Ankle boot")


def test_the_faithfulness_sentence_says_it_is_an_average():
    from core.explain import faithfulness

    measured = {
        "n": 200,
        "split": "validation",
        "confidence": 0.87,
        "at_headline": {"hidden": 0.2, "confidence_after": 0.29, "confidence_after_random": 0.7},
    }
    assert faithfulness.sentence(measured).startswith("On average over 200 validation photos")


def test_the_most_often_mistaken_sentence_is_only_for_a_class_s_top_confusion():
    y_true = np.array([6] * 100 + [0] * 100)
    y_pred = np.array([0] * 30 + [2] * 25 + [6] * 45 + [6] * 10 + [0] * 90)
    preds = {"y_true": y_true, "y_pred": y_pred}
    text = " ".join(drilldown.summary_sentences(preds))
    assert "Shirt is most often mistaken for T-shirt/top: 30 times" in text
    assert "Shirt is also mistaken for Pullover: 25 times" in text
    assert "most often mistaken for Pullover" not in text


def test_p_values_and_negative_differences_read_right():
    assert stats.p_text(0.0001) == "p < 0.001" and stats.p_text(0.0123) == "p = 0.012"
    y = np.arange(1000) % 10
    a = y.copy()
    b = y.copy()
    a[:3] = (a[:3] + 1) % 10  # A gets 3 more wrong: A − B = −0.30 points
    result = stats.paired(y, a, b, "A", "B")
    text = wording.verdict(Paired.of(result))
    assert "could be noise" in text and "A − B = −0.30 points" in text and "= <" not in text
    assert "could be noise" in wording.gap(Paired.of(result), "A", "B")


def test_unranked_runs_are_named_by_what_they_are():
    records = [
        {"status": "completed", "data": {"n_train": 48000}, "metrics": {"test_accuracy": 0.9}, "run_id": "a"},
        {"status": "completed", "data": {"n_train": 2000}, "metrics": {"test_accuracy": 0.95}, "run_id": "b"},
        *({"status": "validated", "run_id": f"s{i}"} for i in range(42)),
        {"status": "failed", "run_id": "f"},
    ]
    assert [r["run_id"] for r in ranking.ranked(records)] == ["a"]  # the 2 000-photo run is never "the best"
    assert ranking.rank_of("b", records) is None and ranking.rank_of("a", records) == (1, 1)
    assert ranking.unranked_words(records[1:]) == (
        "1 demo run on a small subset, 42 study runs judged on validation and 1 failed run"
    )


def test_the_overview_the_leaderboard_the_story_and_compare_agree_for_every_committed_run(with_reference_runs):
    """For every committed run (ranked, the ensemble, ref-svm, the 2 000-photo demo run and the
    validation-only study runs): the story's headline and rank sentence, the leaderboard's ranking,
    the overview's best run and `compare` of the top two say the same."""
    store = RunStore()
    records = store.list_runs()
    ranked = ranking.ranked(records)
    top = ranked[0]
    assert (
        top["run_id"]
        == leaderboard.completed([r for r in leaderboard.rows(records) if not r.get("small")])[0]["run_id"]
    )
    duel = comparison.top_two(store)
    assert (duel["a"], duel["b"]) == (ranked[0]["run_id"], ranked[1]["run_id"])
    told = studied = 0
    for record in records:
        kind = ranking.kind(record)
        if kind == "study":  # told on validation: never a test score, never ranked, never "the most accurate"
            story = slides.build(record["run_id"], store, explain=False)
            value = record["validation"]["val_accuracy"]
            assert story.headline["test_accuracy"] is None and story.headline["validation_accuracy"] == value
            assert f"got {100 * value:.2f} % of them right" in story.summary and "not ranked" in story.summary
            assert "The most accurate, " not in story.summary
            assert f"The most accurate ranked run is {facts.display_name(top)}" in story.summary
            assert {s.key for s in story.slides}.isdisjoint({"confusions", "examples", "trust", "next"})
            page = report.render(story, summary.appendix(store, story))
            assert f'validation accuracy <b id="headline-accuracy">{100 * value:.2f} %</b>' in page
            studied += 1
            continue
        if kind not in ("ranked", "demo"):
            continue
        story = slides.build(record["run_id"], store, explain=False)
        told += 1
        assert story.headline["test_accuracy"] == record["metrics"]["test_accuracy"]
        place = ranking.rank_of(record["run_id"], records)
        if place == (1, len(ranked)):
            assert f"The most accurate, {facts.display_name(record)}," in story.summary
        elif place:
            assert f"ranks {place[0]} of {place[1]}" in story.summary
            assert "The most accurate, " not in story.summary
            assert f"The most accurate is {facts.display_name(top)}" in story.summary
        else:
            assert "is not ranked" in story.summary and "The most accurate, " not in story.summary
        assert record["run_id"] not in story.summary  # managers read model names, not run ids
        page = report.render(story, summary.appendix(store, story))  # the exported report says the same
        assert html.escape(story.summary) in page and f"{100 * record['metrics']['test_accuracy']:.2f} %" in page
        models = next(s for s in story.slides if s.key == "models")
        said = " ".join(models.sentences)
        assert ("leads the runner-up" in said) and (
            ("beyond chance." in said.split("leads the runner-up")[1]) == stats.beyond_chance(duel)
        )
    assert told >= 14 and studied >= 42


def test_borrowed_evidence_is_labelled_and_an_unmeasured_method_is_not_called_faithful(with_reference_runs):
    store = RunStore()
    for run_id in ("ref-svm", "ref-ensemble"):
        story = slides.build(run_id, store, explain=True)
        trust = next(s for s in story.slides if s.key == "trust")
        label = store.get(run_id)["label"]
        assert trust.sentences[0].startswith(f"{label} has no heatmap") and "the best CNN" in trust.title
        assert not any("for this model" in t for t in trust.terms.values())
        learning = next(s for s in story.slides if s.key == "learning")
        assert learning.sentences[0].startswith(f"{label} has no epochs to show")


def test_label_suspects_are_a_models_suspicion_not_the_datasets_fault(with_reference_runs):
    story = slides.build(None, RunStore(), explain=False)
    examples = next(s for s in story.slides if s.key == "examples")
    text = " ".join(examples.sentences) + " ".join(examples.terms.values())
    assert "dataset's fault" not in text and "cleanlab" in text and "no person has checked" in text
    assert "disagrees with the label" in text and "confident the dataset's label is wrong" not in text


def test_the_first_slide_counts_the_photos_a_model_learns_from():
    story_problem = slides._problem()
    text = " ".join(story_problem.sentences)
    assert "4,800 photos each to learn from" in text and "1,200 each to check choices on" in text
    assert "6,000" not in text


def test_the_model_bars_start_at_zero_and_name_their_colours():
    rows = [
        {"label": "CNN", "run_id": "a", "family": "deep", "accuracy": 0.93, "ci": [0.925, 0.935]},
        {"label": "SVM", "run_id": "b", "family": "classic", "accuracy": 0.89, "ci": [0.884, 0.896]},
    ]
    fig = figures.model_bars(rows)
    assert fig.layout.xaxis.range[0] == 0 and "starts at 0" in fig.layout.xaxis.title.text
    assert fig.layout.showlegend and {t.name for t in fig.data} == {"neural network (CNN)", "classic model"}


def test_the_leaderboard_names_what_it_hides_and_shows_validation_runs_numbers(with_reference_runs):
    from dashboard import runs_view

    text = runs_view.leaderboard_intro(show_all=False)
    records = RunStore().list_runs()
    counts = ranking.counts(records)
    assert f"{counts['ranked']} finished runs ranked" in text
    assert (
        f"Hidden: {counts['demo']} demo run on a small subset and {counts['study']} study runs judged on validation"
        in text
    )
    assert "failed" not in text
    everything, _total = board.page(RunStore(), 0, 10_000, show_all=True)
    studies = [r for r in everything if r["status"] == "validated"]
    assert len(studies) == counts["study"]
    for r in studies:
        assert r["val_accuracy"] is not None and r["n_train"]
        assert r["settings"].startswith(("validated: ablation study", "validated: race"))


def test_study_runs_are_recorded_as_what_they_are(with_reference_runs):
    store = RunStore()
    record = store.get("ref-ablation-base-s1")
    assert record["evaluation"]["test_set"] == "not used (an ablation study run: validation only)"
    from core.store.record import run_summary as record_summary

    assert record_summary(record)["reference"] is True


def test_the_story_goes_to_the_nearest_real_slide():
    from dashboard.components.story_view import nearest_slide

    assert nearest_slide("3", 8) == (3, None)
    assert nearest_slide("99", 8) == (8, "There is no slide 99: here is slide 8, the last of 8.")
    assert nearest_slide("0", 8) == (1, "There is no slide 0: here is slide 1, the first of 8.")
    assert nearest_slide("abc", 8)[0] == 1 and "no slide “abc”" in nearest_slide("abc", 8)[1]
    assert nearest_slide(None, 8) == (1, None)


def test_api_errors_name_the_path_and_keep_the_run_ids_quote(with_reference_runs):
    from core.store import InvalidRunId, validate_run_id
    from dashboard.app import create_app

    client = create_app().server.test_client()
    answer = client.get("/api/nope/more")
    assert answer.status_code == 404 and answer.get_json()["error"].startswith("no API endpoint /api/nope/more;")
    with pytest.raises(InvalidRunId) as caught:
        validate_run_id("x" * 70 + "!")
    shown = str(caught.value).split("invalid run id ")[1].split(":")[0]
    assert shown.startswith("'") and shown.endswith("'") and "…" in shown
    listed = client.get("/api/runs?limit=1000").get_json()
    rows = listed if isinstance(listed, list) else listed.get("runs", [])
    assert all(r["reference"] for r in rows if r["run_id"].startswith("ref-ablation-"))


def test_errors_page_says_a_study_run_never_has_test_results(with_reference_runs):
    from dashboard import runs_view

    _found, problem = runs_view.predictions_for("ref-ablation-base-s1")
    assert "never scored on the test photos" in problem and "yet" not in problem


def test_cli_refuses_a_missing_folder_checks_before_announcing_and_stays_quiet(with_reference_runs, tmp_path):
    from tests.conftest import run_cli

    env = {"STUDIO_ARTIFACTS": str(with_reference_runs)}
    missing = tmp_path / "not-here" / "deeper"
    done = run_cli("report", "--out", str(missing / "r.html"), env=env)
    assert done.returncode == 2 and "does not exist" in done.stderr and not missing.parent.exists()
    done = run_cli("rebuild", "ref-cnn", env=env)
    assert done.returncode == 1 and "about" not in done.stdout and "already has its model file" in done.stderr
    done = run_cli("gradcam", "ref-cnn", "--index", "99999", env=env)  # loads TensorFlow, then refuses
    assert done.returncode != 0
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr  # one line: no oneDNN/CUDA start-up noise


def test_an_unfamiliar_upload_carries_its_warning_in_warnings(with_reference_runs):
    import io

    from PIL import Image

    from dashboard.app import create_app

    rng = np.random.default_rng(0)
    photo = Image.fromarray(rng.integers(0, 255, (120, 120, 3), dtype=np.uint8))
    out = io.BytesIO()
    photo.save(out, format="PNG")
    client = create_app().server.test_client()
    answer = client.post("/api/predict", data={"image": (io.BytesIO(out.getvalue()), "noise.png")})
    assert answer.status_code == 200, answer.data[:300]
    body = answer.get_json()
    assert body["looks_like_fashion_mnist"] is False
    assert any("does not look like the Fashion-MNIST photos" in w for w in body["warnings"])


def test_an_item_of_the_same_grey_as_its_background_is_found_by_colour_not_called_blank():
    from PIL import Image

    from core.data import upload

    photo = np.zeros((200, 200, 3), dtype=np.uint8)
    photo[:, :] = (0, 102, 0)  # green: grey level 59.9
    photo[50:170, 60:140] = (200, 0, 0)  # a red block: grey level 59.8
    photo[50:80, 30:170] = (200, 0, 0)  # with sleeves
    image = Image.fromarray(photo)
    assert float(np.asarray(image.convert("L"), dtype=np.float32).std()) < 1.0  # no contrast in grey at all
    warnings: list[str] = []
    small, _inverted = upload.to_fashion_mnist(image, warnings)
    assert small.shape == (28, 28) and small.max() > 200 and (small > 30).mean() > 0.2  # the item, light on black
    assert any("same brightness in grey" in w for w in warnings)
    blank = Image.fromarray(np.full((100, 100, 3), (0, 102, 0), dtype=np.uint8))
    with pytest.raises(upload.UploadError, match="blank: it is one even colour"):
        upload.to_fashion_mnist(blank, [])


def test_cancel_while_scoring_is_refused_with_a_reason_and_an_ended_run_shows_no_stale_phase(store, monkeypatch):
    import importlib

    from core.training import progress
    from dashboard import state
    from dashboard.app import create_app

    create_app()  # page modules are loaded by Dash Pages (as pages.NAME): never import them a second time
    train = importlib.import_module("pages.train")

    monkeypatch.setattr(state, "store", lambda: store)
    with store.open_run("scoring", {"model": "cnn", "label": "CNN"}):
        store.write_progress("scoring", {"stage": "evaluate", "message": "Evaluating on the 10 000 test images"})
        answer = train.cancel(1, "scoring")
        assert "being scored on the test photos" in answer and not store.cancel_requested("scoring")
    with store.open_run("stopped", {"model": "cnn", "label": "CNN"}):
        store.write_progress("stopped", {"stage": "starting"})
        store.mark_interrupted("stopped", "cancelled by the user")
    snap = progress.snapshot(store, "stopped")
    assert "starting" not in str(snap.get("position")) and str(snap.get("position")).startswith("stopped")


def _find(component, ident):
    if getattr(component, "id", None) == ident:
        return component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            found = _find(child, ident)
            if found is not None:
                return found
    return None


def _text(component) -> str:
    if component is None or isinstance(component, str | int | float):
        return "" if component is None else str(component)
    children = getattr(component, "children", None)
    return " ".join(_text(c) for c in (children if isinstance(children, list) else [children]))


def test_the_overview_counts_and_names_what_the_leaderboard_and_the_story_do(with_reference_runs):
    import importlib

    from dashboard import runs_view
    from dashboard.app import create_app

    create_app()
    home = importlib.import_module("pages.home")  # the module Dash Pages loaded (a second import would register twice)
    page = home.layout()
    records = RunStore().list_runs()
    ranked = ranking.ranked(records)
    assert _text(_find(page, "home-run-count")).strip() == str(len(ranked))
    everything = _text(page)
    assert "study runs judged on validation" in everything and "demo run on a small subset" in everything
    intro = runs_view.leaderboard_intro(show_all=False)
    assert intro.startswith(f"{len(ranked)} finished runs ranked")
    assert _text(_find(page, "home-best-accuracy")).strip() == f"{100 * ranked[0]['metrics']['test_accuracy']:.2f} %"
    assert f"{facts.display_name(ranked[0])}; 95 % interval" in everything
    story = slides.build(None, RunStore(), explain=False)
    assert story.run_id == ranked[0]["run_id"]


def test_an_unmeasured_explanation_is_never_called_the_most_faithful(quick_store, quick_runs):
    """A CNN whose explanation methods were never measured: the trust slide says so, and its glossary
    does not call the method "measured most faithful"."""
    record = quick_store.get("quick-cnn")
    slide = slides._trust(quick_store, record, record, explain=True)
    assert slide is not None
    assert "has not been measured" in slide.sentences[-1]
    assert not any("measured most faithful" in meaning for meaning in slide.terms.values())


def test_the_data_captions_claim_balance_and_background_only_when_the_numbers_say_so():
    from core.data import captions, explore

    counts = explore.dataset_stats()["class_counts"]
    text = captions.balance_caption(counts)
    assert all(len(set(c.values())) == 1 for c in counts.values())  # the real dataset is balanced
    assert "equally common" in text and f"{sum(counts['test'].values()):,} test photos (1,000 per class)" in text
    skewed = {**counts, "val": {**counts["val"], "T-shirt/top": counts["val"]["T-shirt/top"] - 1}}
    uneven = captions.balance_caption(skewed)
    assert "not equally common" in uneven and "unequal counts" in uneven and "Every class" not in uneven
    assert captions.pixel_caption({"median": 0, "mean": 72.9, "std": 90.0}).startswith("Most pixels are black")
    assert captions.pixel_caption({"median": 200, "mean": 180.0, "std": 20.0}).startswith("Most pixels are not black")
