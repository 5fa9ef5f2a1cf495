"""What frames the slides: the summary paragraph for managers, and the appendix of how the numbers were
made (the data and its checksums, the split, which split chose what, each run's command, source version
and machine). Both read the same records and functions as the slides."""

from __future__ import annotations

import datetime as dt
import platform
from typing import Any

from core import data
from core.data.dataset import N_ALL_TRAIN, N_TEST, N_TRAIN, N_VAL, spaced
from core.evaluation import calibrated, comparison, drilldown, facts, wording
from core.store import RunError, RunStore
from core.story import race_words
from core.story.parts import Story, recorded_date, trained_words


def run_facts(store: RunStore, record: dict[str, Any], ranked: list[dict[str, Any]]) -> facts.RunFacts:
    """The facts of the run the story is about (core.evaluation.facts), with its most common mistake."""
    top = None
    if record.get("status") == "completed":
        preds = store.predictions(record["run_id"])
        pairs = drilldown.top_confusions(drilldown.confusion_matrix(preds["y_true"], preds["y_pred"]), 1)
        if pairs:
            t, p, n = pairs[0]
            top = (data.CLASS_NAMES[t], data.CLASS_NAMES[p], int(n))
    return facts.run_facts(record, ranked, top, store.history(record["run_id"]))


def manager_summary(store: RunStore, told: facts.RunFacts) -> str:
    """One paragraph for managers, from the same facts as the slides (wording: core.evaluation.wording)."""
    parts = [wording.models_trained(told), wording.standing(told), wording.most_common_mistake(told)]
    if told.accuracy is not None:  # a run scored on the test photos: how far its "how sure" can be taken
        parts.append(calibrated.promise_sentence(store.get(told.run_id), "the model"))
    versus = comparison.deep_vs_classic(store)
    if versus:  # each side with its training time on this machine: a comparison never leaves it out
        paired = facts.Paired.of(versus)
        said = wording.difference(paired, "the best neural network (CNN)", "the best classic method")
        parts.append(
            said.removesuffix(".")
            + f"; the CNN {trained_words(store, paired.a)} on this machine, the classic method "
            + f"{trained_words(store, paired.b).removeprefix('trained ')}."
        )
    parts.append(race_words.manager_sentence(store))
    from core.ablation import claims, results
    from core.training import presets

    parts.append(claims.manager_sentence(results.cited_study(store), int(presets.get("fast").config.epochs or 0)))
    return " ".join(p.strip() for p in parts if p.strip())


def appendix(store: RunStore, story: Story) -> dict[str, Any]:
    """How these numbers were made: the data, the split, which split chose what, each run's command and
    source version, and the machines."""
    from core.data.dataset import FILES

    runs = []
    for run_id in story.runs_used:
        try:
            r = store.get(run_id)
        except RunError:
            continue
        produced = r.get("produced_by") or {}
        runs.append(
            {
                "run_id": run_id,
                "model": r.get("label"),
                "command": produced.get("command") or "not recorded",
                "source_version": produced.get("source_version") or "not recorded",
                "machine": (r.get("environment") or {}).get("platform") or "not recorded",
                "recorded": recorded_date(r),
            }
        )
    return {
        "dataset": [{"file": name, "sha256": sha} for name, sha, _shape in FILES.values()],
        "split": f"{spaced(N_ALL_TRAIN)} training photos split 80/20 (stratified by class, seed 42) into "
        f"{spaced(N_TRAIN)} to train on and {spaced(N_VAL)} for validation; the {spaced(N_TEST)} test photos are "
        "scored once, at the end of a run.",
        "choices": [
            "Epochs, early stopping, presets and every setting: chosen on the validation photos.",
            "Ablation studies: validation photos only; the test set is never scored.",
            "Test photos: the final score, its 95 % interval and the paired tests between runs.",
        ],
        "runs": runs,
        "exported_on": f"{platform.platform()} ({platform.machine()}), "
        f"{dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}",
    }
