"""The sentence rules of core.evaluation.wording, tested on facts alone (core.evaluation.facts): a run's
standing, a comparison's sign and names, whose heatmap is shown; and no dataset size typed as a literal."""

from __future__ import annotations

import numpy as np

from core.evaluation import facts, ranking, stats, wording
from core.evaluation.facts import Paired


def _ranked_record(run_id: str, accuracy: float, label: str = "CNN", n_train: int = 48000) -> dict:
    return {
        "run_id": run_id,
        "status": "completed",
        "label": label,
        "model": label.lower(),
        "data": {"n_train": n_train, "n_test": 10000},
        "metrics": {"test_accuracy": accuracy, "test_accuracy_ci95": [accuracy - 0.005, accuracy + 0.005]},
    }


def test_the_standing_sentence_is_true_of_the_run_it_is_about():
    records = [
        _ranked_record("a", 0.93, "CNN"),
        _ranked_record("b", 0.90, "SVM (RBF)"),
        _ranked_record("c", 0.85, "Random forest"),
        _ranked_record("demo", 0.97, "MLP", n_train=2000),
    ]
    ranked = ranking.ranked(records)
    first, third, demo = (facts.run_facts(r, ranked) for r in (records[0], records[2], records[3]))
    assert wording.standing(first).startswith("The most accurate, CNN, names 93.00 % of the 10 000 test photos")
    said = wording.standing(third)
    assert said.startswith("Random forest ranks 3 of 3;") and "The most accurate is CNN, at 93.00 %." in said
    assert "most accurate, " not in said.lower().replace("the most accurate is", "")
    said = wording.standing(demo)  # the most accurate number on the page, but on 2 000 photos: never "the best"
    assert "is not ranked" in said and "2 000 of the 48 000 training photos" in said and "most accurate" not in said
    study = facts.run_facts({"run_id": "s", "status": "validated", "label": "CNN", "data": {"n_train": 48000}}, ranked)
    assert study.accuracy is None and "validation photos only" in wording.standing(study)
    assert wording.models_trained(first).startswith("We trained 3 models of 3 kinds on all 48 000 training photos")


def test_a_comparison_names_the_better_run_with_its_sign_and_two_runs_of_one_model_apart():
    y = np.arange(1000) % 10
    a, b = y.copy(), y.copy()
    a[:40] = (a[:40] + 1) % 10  # B gets 40 more photos right: B is better beyond chance
    duel = Paired.of(stats.paired(y, a, b, "run-a", "run-b"), "Random forest", "CNN")
    assert duel.better == "b" and duel.beyond_chance and duel.difference < 0
    assert wording.gap(duel, "the forest", "the CNN") == "The CNN is better beyond chance (McNemar p < 0.001)."
    assert wording.verdict(duel).startswith("CNN is better than Random forest beyond chance: 4.00 points")
    said = wording.difference(duel, "the forest", "the CNN")
    assert said.startswith("The forest and the CNN differ by 4.0 points (the CNN leads): the CNN is better")
    same = Paired.of(stats.paired(y, a, b, "run-a", "run-b"), "CNN", "CNN")
    assert (same.name_a, same.name_b) == ("CNN (run-a)", "CNN (run-b)")  # never "CNN is better than CNN"
    c, d = y.copy(), y.copy()
    c[0], d[1] = (y[0] + 1) % 10, (y[1] + 1) % 10  # one photo each that only the other gets right
    noise = Paired.of(stats.paired(y, c, d, "x", "y"))
    assert (
        noise.better is None and "could be noise" in wording.verdict(noise) and "+0.00 points" in wording.verdict(noise)
    )
    identical = Paired.of(stats.paired(y, y, y, "x", "y"))  # nothing to weigh: not called "noise"
    assert identical.better is None and wording.verdict(identical).endswith("there is no difference to measure.")


def test_no_sentence_types_a_dataset_size_as_a_literal():
    """Sizes come from core.data.dataset (N_TRAIN, N_VAL, N_TEST, N_ALL_TRAIN, `spaced`): a string
    shown to a person (docstrings aside) never types 60 000, 48 000, 12 000 or 10 000 itself."""
    import ast
    import re

    from tests.conftest import PROJECT_ROOT

    size = re.compile(r"\b(60|48|12|10)[ ,]000\b")
    typed = []
    for root in ("core", "dashboard"):
        for path in sorted((PROJECT_ROOT / root).rglob("*.py")):
            tree = ast.parse(path.read_text())
            docstrings = {
                id(node.body[0].value)
                for node in ast.walk(tree)
                if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                and node.body
                and isinstance(node.body[0], ast.Expr)
                and isinstance(node.body[0].value, ast.Constant)
            }
            typed += [
                f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}"
                for node in ast.walk(tree)
                if isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
                and size.search(node.value)
            ]
    assert typed == []


def test_an_explanation_says_whose_heatmap_it_is_and_calls_a_method_faithful_only_when_measured():
    from core.evaluation.facts import Explanation

    borrowed = Explanation("SVM (RBF)", "CNN (best recipe)", borrowed=True, method="occlusion", measured=False)
    said = wording.explanation_intro(borrowed, "Shirt", "T-shirt/top")
    assert said.startswith("SVM (RBF) has no heatmap") and "the best CNN's, CNN (best recipe), instead" in said
    assert "measured" not in wording.explanation_method_meaning(borrowed).replace("has not been measured", "")
    own = Explanation("CNN", "CNN", borrowed=False, method="gradcam", measured=True)
    assert wording.explanation_intro(own, "Shirt", "T-shirt/top") == (
        "The colours show which parts of this Shirt photo made the model answer T-shirt/top."
    )
    assert wording.explanation_method_meaning(own).startswith("The explanation method measured most faithful for CNN")


def test_a_study_run_is_told_by_its_validation_score_and_budget_never_ranked():
    ranked = ranking.ranked([_ranked_record("a", 0.93, "CNN")])
    record = {
        "run_id": "study-r01-s1",
        "status": "validated",
        "label": "CNN + Dropout",
        "data": {"n_train": 48000, "n_val": 12000},
        "epochs_run": 8,
        "validation": {"val_accuracy": 0.9342, "n_val": 12000},
        "ablation": {"study": "study"},
    }
    told = facts.run_facts(record, ranked)
    assert (told.accuracy, told.validation_accuracy, told.study) == (None, 0.9342, "study")
    said = wording.standing(told)
    assert said.startswith(
        "CNN + Dropout is a run of the study study: it trained on 48 000 photos for 8 epochs and was judged on its "
        "12 000 validation photos only and got 93.42 % of them right."
    )
    assert "not ranked" in said and "The most accurate ranked run is CNN, which gets 93.00 % of the test photos" in said
    assert "most accurate, " not in said


def test_the_curve_facts_decide_flat_rising_or_levelled_and_the_sentence_follows():
    def history(values):
        return [{"epoch": i + 1, "val_accuracy": v} for i, v in enumerate(values)]

    flat = facts.Curve.of(history([0.90, 0.92, 0.93, 0.9413, 0.9448, 0.944, 0.9443, 0.9445, 0.9444, 0.9445]))
    assert flat is not None and flat.flat and not flat.improving and flat.flat_for >= 5
    assert wording.curve(flat).startswith(f"Its validation accuracy was flat for its last {flat.flat_for} epochs")
    rising = facts.Curve.of(history([0.80, 0.84, 0.87, 0.89, 0.905, 0.915, 0.925, 0.933]))
    assert rising is not None and rising.improving and rising.best_epoch == 8
    assert "still rising at epoch 8" in wording.curve(rising) and "would probably help" in wording.curve(rising)
    assert facts.Curve.of([{"epoch": 1, "loss": 0.3}]) is None and wording.curve(None) == ""
    told = facts.run_facts(_ranked_record("a", 0.93), [], history=history([0.8, 0.85, 0.86]))
    assert told.curve is not None and told.curve.epochs == 3
