"""The sentences about runs and comparisons, built from facts only (core.evaluation.facts).

Each function takes typed facts and returns words; none reads a store, a record or another module's
prose. The overview, the leaderboard's and /errors' comparison panels, the CLI's `compare`, the story,
the managers' summary and the report all phrase a comparison or a run's standing here, so the same
fact is said the same way everywhere, with its sign and its scope.
"""

from __future__ import annotations

from core.data.dataset import N_TEST, N_VAL, spaced
from core.evaluation.facts import Curve, Explanation, Paired, RunFacts
from core.evaluation.ranking import FULL_SPLIT
from core.evaluation.stats import p_text


def pct(value: float) -> str:
    return f"{100 * value:.2f} %"


def points(value: float) -> str:
    """A signed difference in points, with a real minus sign: "+0.42", "−0.03"."""
    return f"{100 * value:+.2f}".replace("-", "−")


def verdict(c: Paired) -> str:
    """One sentence for engineers: which run is better beyond chance, or that the difference could be
    noise; with the signed difference, its interval, the photos that decide it and the p-value."""
    low, high = c.interval
    counts = f"{c.a_only} photos only {c.name_a} gets right, {c.b_only} only {c.name_b} gets right"
    span = f"95 % interval {points(low)} to {points(high)}"
    if c.a_only == 0 and c.b_only == 0:  # e.g. a deterministic retrain: nothing to weigh, so no "noise"
        photos = spaced(c.both_right + c.both_wrong)
        return (
            f"{c.name_a} and {c.name_b} are right on exactly the same {photos} test photos (no photo that only "
            f"one of them gets right): there is no difference to measure."
        )
    if c.better:
        better, worse = (c.name_a, c.name_b) if c.better == "a" else (c.name_b, c.name_a)
        return (
            f"{better} is better than {worse} beyond chance: {100 * abs(c.difference):.2f} points more accurate "
            f"({span} for {c.name_a} − {c.name_b}; {counts}; McNemar {p_text(c.p)})."
        )
    return (
        f"The difference between {c.name_a} and {c.name_b} could be noise: {c.name_a} − {c.name_b} = "
        f"{points(c.difference)} points ({span}; {counts}; McNemar {p_text(c.p)})."
    )


def gap(c: Paired, a_words: str, b_words: str) -> str:
    """Whether the gap between A and B is beyond chance, naming the better one: never "beats" when B
    is the more accurate."""
    if c.better is None:
        return f"That gap could be noise (McNemar {p_text(c.p)})."
    better = a_words if c.better == "a" else b_words
    return f"{better[0].upper() + better[1:]} is better beyond chance (McNemar {p_text(c.p)})."


def difference(c: Paired, a_words: str, b_words: str) -> str:
    """For managers: how far apart A and B are, who leads, and whether that is beyond chance."""
    leader = a_words if c.difference > 0 else b_words
    lead = (
        f"{a_words[0].upper() + a_words[1:]} and {b_words} differ by {100 * abs(c.difference):.1f} points"
        + (f" ({leader} leads)" if c.difference != 0 else "")
        + ": "
    )
    said = gap(c, a_words, b_words)
    return lead + said[0].lower() + said[1:]


def standing(f: RunFacts) -> str:
    """The sentence about the run on screen, true of its rank: "the most accurate" only for the first;
    otherwise its rank, with the most accurate run named beside it; an unranked run says why."""
    if f.accuracy is None:
        return judged_on_validation(f)
    interval = f"95 % interval {pct(f.interval[0])} to {pct(f.interval[1])}" if f.interval else "interval not known"
    n_test = spaced(f.n_test or N_TEST)
    scored = f"names {pct(f.accuracy)} of the {n_test} test photos it never saw correctly ({interval})"
    s = f.standing
    if s.rank is None:
        return f"{f.name} is not ranked (it was trained on {spaced(f.n_train)} of the {spaced(FULL_SPLIT)} training photos); it {scored}."
    if s.is_leader:
        return f"The most accurate, {f.name}, {scored}."
    return (
        f"{f.name} ranks {s.rank} of {s.ranked_runs}; it {scored}. The most accurate is {s.leader_name}, at "
        f"{pct(s.leader_accuracy or 0.0)}."
    )


MIRROR_ON = " (with the test-time mirror)"
MIRROR_OFF = " without the test-time mirror"


def validation_score(f: RunFacts) -> str:
    """What a run never scored on the test photos was judged on, and its score there (saying when that
    score averages each photo with its mirror, unlike its per-epoch figures)."""
    subject = f"{f.name} is a run of the study {f.study}: it" if f.study else f"{f.name}"
    epochs = f" for {f.epochs_run} {'epoch' if f.epochs_run == 1 else 'epochs'}" if f.epochs_run else ""
    return (
        f"{subject} trained on {spaced(f.n_train)} photos{epochs} and was judged on its {spaced(f.n_val or N_VAL)} validation photos only"
        + (
            f" and got {pct(f.validation_accuracy)} of them right{MIRROR_ON if f.tta else ''}."
            if f.validation_accuracy is not None
            else "."
        )
    )


def judged_on_validation(f: RunFacts) -> str:
    """A run never scored on the test photos (a study's cell): its validation score, named as such,
    and why it is not ranked; the most accurate ranked run beside it."""
    s = f.standing
    leader = (
        f" The most accurate ranked run is {s.leader_name}, which gets {pct(s.leader_accuracy)} of the test photos right."
        if s.leader_name is not None and s.leader_accuracy is not None
        else ""
    )
    return (
        f"{validation_score(f)} It has no test score, so it is not ranked beside the runs scored on the test "
        f"photos.{leader}"
    )


def curve(c: Curve | None, tta: bool = False) -> str:
    """How the run's validation accuracy ended, from its curve's facts (per epoch: without the
    test-time mirror when the run uses one, and then it says so)."""
    if c is None:
        return ""
    scope = f",{MIRROR_OFF}" if tta else ""
    if c.epochs == 1:
        return "It trained for one epoch: no curve to read."
    if c.flat:
        return (
            f"Its validation accuracy was flat for its last {c.flat_for} epochs{scope}: more epochs would probably "
            "not help."
        )
    if c.improving:
        over = f"the last {c.window} epochs" if c.window < c.epochs else f"its {c.epochs} epochs"
        return (
            f"Its validation accuracy was still rising at epoch {c.epochs} ({points(c.rise)} points over {over}"
            f"{scope}): more epochs would probably help."
        )
    return (
        f"Its validation accuracy went from {pct(c.first)} at epoch 1 to {pct(c.last)} at epoch {c.epochs} (best "
        f"{pct(c.best)} at epoch {c.best_epoch}{scope}); its last epochs neither clearly rose nor settled, so the "
        "curve cannot tell whether more epochs would help."
    )


def models_trained(f: RunFacts) -> str:
    s = f.standing
    models = "model" if s.ranked_runs == 1 else "models"
    kinds = "kind" if s.model_kinds == 1 else "kinds"
    return (
        f"We trained {s.ranked_runs} {models} of {s.model_kinds} {kinds} on all {spaced(FULL_SPLIT)} training "
        "photos to recognise ten kinds of clothing in small photos."
    )


def explanation_intro(e: Explanation, true_class: str, answer: str) -> str:
    """What the heatmap on screen is: never another model's map under this run's name."""
    if e.borrowed:
        return (
            f"{e.about} has no heatmap (it does not look at the photo through learned filters); here is the best "
            f"CNN's, {e.shown_name}, instead."
        )
    return f"The colours show which parts of this {true_class} photo made the model answer {answer}."


def explanation_method_meaning(e: Explanation) -> str:
    """The glossary line of the method: "measured most faithful" only when it was measured."""
    if e.measured:
        return (
            f"The explanation method measured most faithful for {e.shown_name} (hiding its top pixels hurts the "
            "answer most)."
        )
    return "An explanation method; how faithful it is for this model has not been measured."


UNMEASURED = "How faithful this map is has not been measured yet, so read it with care."


def most_common_mistake(f: RunFacts) -> str:
    if f.top_confusion is None:
        return ""
    true, said, n = f.top_confusion
    return (
        f"The most common mistake of {f.name} is calling a {true} a {said} ({n} {'photo' if n == 1 else 'photos'} "
        "of the test set)."
    )
