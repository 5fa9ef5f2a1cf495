"""The story and the report are true of every kind of run they can be told of (issue 42): a ranked CNN,
a classic model, an ensemble, a study run, a user's 2 000-photo run and a validation-only run each get a
story, a report and a download about themselves, with no placeholder instead of numbers, the numbers of
their own facts, both accuracies named when both are shown (with or without the test-time mirror),
advice that fits their model and recipe, label flags only from an accurate enough model, and no
pronoun whose subject changed. A failed run gets a clear refusal."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess

import pytest

from core.ablation import claims, results
from core.evaluation import facts, labels
from core.store import RunError, RunStore, run_summary
from core.story import report, slides, summary

KINDS = {
    "ranked CNN": "ref-preset-best",
    "classic": "ref-svm",
    "ensemble": "ref-ensemble",
    "study run": "ref-ablation-fast-width-s1",
    "user run on 2 000 photos": "quick-resnet",
    "validation-only run": "user-validated",
}
PLACEHOLDERS = ("on the leaderboard", "None", "nan", "{", "}", "n/a")
OTHER_RUNS = ("The most accurate is", "The most accurate ranked run is", "differ by", "The best neural network")


@pytest.fixture(scope="module")
def store(reference_artifacts, quick_folder, tmp_path_factory):
    """The reference runs (hard links), a user's 2 000-photo ResNet, a validation-only run that belongs
    to no study, and a failed run, in a private store."""
    import os

    root = tmp_path_factory.mktemp("truth") / "artifacts"
    subprocess.run(["cp", "-al", str(reference_artifacts), str(root)], check=True)
    for stale in root.glob("index*"):
        stale.unlink()
    shutil.copytree(quick_folder / "runs" / "quick-resnet", root / "runs" / "quick-resnet")
    folder = root / "runs" / "user-validated"
    shutil.copytree(root / "runs" / "ref-ablation-fast-width-s2", folder, copy_function=shutil.copy)
    record = json.loads((folder / "run.json").read_text())
    record.pop("ablation", None)
    record["run_id"] = "user-validated"
    (folder / "run.json").unlink()
    (folder / "run.json").write_text(json.dumps(record))
    old = os.environ.get("STUDIO_ARTIFACTS")
    os.environ["STUDIO_ARTIFACTS"] = str(root)
    runs = RunStore(root / "runs")
    with runs.open_run("user-failed", {"model": "cnn", "label": "CNN", "family": "deep", "config": {"model": "cnn"}}):
        runs.update("user-failed", status="failed", error="a test run", finished_at="2026-01-01T00:00:00+00:00")
    yield runs
    if old is None:
        os.environ.pop("STUDIO_ARTIFACTS", None)
    else:
        os.environ["STUDIO_ARTIFACTS"] = old


def _percents(text: str) -> list[str]:
    return re.findall(r"\d+\.\d+ %", text)


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_story_and_the_report_are_true_of_the_run_on_screen(store, kind):
    run_id = KINDS[kind]
    record = store.get(run_id)
    story = slides.build(run_id, store, explain=False)
    ranked = slides.full_split_runs(store)
    told = summary.run_facts(store, record, ranked)
    texts = [story.summary] + [s for slide in story.slides for s in slide.sentences]
    everything = " ".join(texts + [g["caption"] for slide in story.slides for g in slide.gallery])

    # no placeholder in place of numbers
    for phrase in PLACEHOLDERS:
        assert phrase not in everything, (kind, phrase)

    # the report (what the button downloads) is about this run, with this run's headline number
    page = report.render(story, summary.appendix(store, story))
    assert story.run_id == run_id and story.headline["run_id"] == run_id
    shown = told.accuracy if told.accuracy is not None else told.validation_accuracy
    assert f'<b id="headline-accuracy">{100 * shown:.2f} %</b>' in page

    # its own numbers: the summary's score is its facts' score
    if told.accuracy is not None:
        assert f"{100 * told.accuracy:.2f} %" in story.summary
    else:
        assert f"{100 * told.validation_accuracy:.2f} %" in story.summary
        assert "not ranked" in story.summary

    # where both the per-epoch figures and the final score are shown, each says which it is
    learning = next((s for s in story.slides if s.key == "learning"), None)
    if told.tta:
        if told.accuracy is None:
            assert "(with the test-time mirror)" in story.summary
        if learning is not None and f"run {run_id}," in learning.source:  # its own curve, not a borrowed one
            assert any("without the test-time mirror" in s for s in learning.sentences if _percents(s))
    # one best epoch: slide 3 and the study slide name the same one
    epochs_said = {int(m) for t in texts for m in re.findall(r"best [\d.]+ % at epoch (\d+)", t)}
    assert len(epochs_said) <= 1, (kind, epochs_said)
    if epochs_said and told.curve is not None:
        assert epochs_said == {told.curve.best_epoch}
    assert "levelled off" not in everything or (told.curve is not None and told.curve.flat)

    # advice fits the model and the recipe
    cited = results.cited_study(store)
    studied = (cited.get("base") or {}).get("model") if cited else None
    if record.get("model") != studied:
        assert "worth keeping" not in everything and "worth trying" not in everything
    else:
        factors = {f["key"]: f for f in cited["factors"]}
        for e in claims.gains(cited):
            if (
                e.key in factors
                and e.key != "epochs"
                and not claims.has_setting(record.get("config") or {}, factors[e.key]["high"])
            ):
                assert f"already uses {e.short}" not in everything
    helps = next((s for s in story.slides if s.key == "helps"), None)
    if helps is not None and cited:
        assert claims.recipe_words(cited) in helps.title

    # label flags only from a model accurate enough to question labels
    best_val = run_summary(store.get(ranked[0]["run_id"])).get("val_accuracy")
    if not labels.may_flag(run_summary(record).get("val_accuracy"), best_val):
        assert "disagrees with the label" not in everything.replace("does not question", "")
        assert "label suspect" not in everything

    # no pronoun whose subject changed: a sentence about other runs is never followed by "It"/"Its"
    sentences = re.split(r"(?<=[.)])\s+(?=[A-Z])", story.summary)
    for before, after in itertools.pairwise(sentences):
        if any(words in before for words in OTHER_RUNS):
            assert not re.match(r"Its?\b", after), (kind, before, after)
    assert facts.display_name(record) in story.summary


def test_a_failed_run_gets_a_clear_refusal(store):
    with pytest.raises(RunError, match="failed"):
        slides.build("user-failed", store, explain=False)


def test_slide_two_names_the_runs_its_sentences_cite_with_numbers(store):
    story = slides.build("ref-svm", store, explain=False)
    models = next(s for s in story.slides if s.key == "models")
    said = " ".join(models.sentences)
    assert "95 % interval 9" in said and "on the leaderboard" not in said
    for run_id in re.findall(r"run (\S+), recorded", models.source):
        name = facts.display_name(store.get(run_id))
        assert name in said, (run_id, name)
    assert "trained " in said  # each compared model's training time


def test_what_helps_says_only_what_its_numbers_carry(store):
    cited = results.cited_study(store)
    found = claims.gains(cited)
    said = " ".join(claims.story_sentences(cited, [], 8)) + " " + claims.manager_sentence(cited, 8)
    plain = [e for e in found if not e.per_level]
    top = claims.leaders(plain)
    if len(top) > 1:  # a tie is never called "the largest"
        assert "gave the largest measured gain" not in said
        assert all(e.short in said for e in top)
    for e in claims.effects(cited):  # every measurable setting is named
        if e.measurable:
            assert e.short in said
    for e in found:  # a gain that depends on the budget is stated per budget, not as its average
        if e.per_level.get("other") == "epochs":
            assert f"{e.short} {claims.points(e.effect)}" not in said
            assert e.per_level["low_label"] in said and e.per_level["high_label"] in said
    # one colour per verdict on the page, the slide and the report (the same function)
    from core.ablation import wording

    for row in wording.forest_rows(cited):
        kind = claims.verdict(row["effect"], row["ci95"], row["measurable"])
        assert claims.colour(row) == claims.STYLE[kind][1]
        if row["key"] == "dropout":
            assert kind == "hint"


_TIME = re.compile(r"\d+(\.\d+)? ?(s|min|minutes|seconds)\b")


def _kinds_named(sentence: str) -> set[str]:
    from core.models import SPECS
    from core.race import plan

    names = {spec.label for spec in SPECS.values()} | {e.title for e in plan.ENTRANTS.values()}
    names |= {"CNN", "classic", "Ensemble", "ResNet", "MobileNet"}
    found = {n for n in names if n in sentence}
    return {n for n in found if not any(n != other and n in other for other in found)}  # "CNN" in "CNN + Dropout"


@pytest.mark.parametrize("run_id", ["ref-preset-best", "ref-svm", "ref-ensemble"])
def test_every_sentence_comparing_two_kinds_of_model_names_a_training_time_or_budget(store, run_id):
    """Issue 44: slide 2 and the managers' summary never compare two kinds of model without their
    training time (a run's seconds here) or the budget both had (the race's stated time)."""
    story = slides.build(run_id, store, explain=False)
    shown = [sentence for s in story.slides if s.key in ("models", "race") for sentence in s.sentences]
    assert any(s.key == "race" for s in story.slides)  # the committed race is cited on a slide of its own
    sentences = shown + re.split(r"(?<=[.)])\s+(?=[A-Z])", story.summary)
    compared = [s for s in sentences if len(_kinds_named(s)) >= 2 and ("better" in s or "leads" in s or "differ" in s
                                                                       or "reach" in s or "most accurate" in s)]  # fmt: skip
    assert compared, "no comparison of two kinds of model to check"
    for sentence in compared:
        assert _TIME.search(sentence), sentence
