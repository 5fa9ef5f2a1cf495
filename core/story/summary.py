"""What frames the slides: the summary paragraph for managers, and the appendix of how the numbers were
made (the data and its checksums, the split, which split chose what, each run's command, source version
and machine). Both read the same records and functions as the slides."""

from __future__ import annotations

import datetime as dt
import platform
from typing import Any

from core import data
from core.data.dataset import N_TEST
from core.evaluation import comparison, drilldown, ranking
from core.evaluation.ranking import FULL_SPLIT
from core.store import RunError, RunStore
from core.story.parts import Story, pct, recorded_date


def display_name(record: dict[str, Any]) -> str:
    """A model's name for managers (never a run id): its label, and its preset when it came from one."""
    preset = record.get("preset") or (record.get("produced_by") or {}).get("preset")
    return f"{record.get('label')} ({preset} recipe)" if preset else str(record.get("label"))


def headline_sentence(record: dict[str, Any], headline: dict[str, Any], ranked: list[dict[str, Any]]) -> str:
    """The sentence about the run the story is about, true of its rank: "the most accurate" only for
    the first; otherwise its rank, with the most accurate named beside it."""
    name = display_name(record)
    scored = (
        f"names {pct(headline['test_accuracy'])} of the {N_TEST:,} test photos it never saw correctly (95 % "
        f"interval {headline['interval']})"
    ).replace(",", " ")
    place = ranking.rank_of(record["run_id"], ranked)
    if place is None:
        return (
            f"{name} is not ranked (it was not trained on all {FULL_SPLIT:,} training photos); it {scored}. ".replace(
                ",", " "
            )
        )
    rank, total = place
    if rank == 1:
        return f"The most accurate, {name}, {scored}. "
    top = ranked[0]
    return (
        f"{name} ranks {rank} of {total}; it {scored}. The most accurate is {display_name(top)}, at "
        f"{pct(top['metrics']['test_accuracy'])}. "
    )


def manager_summary(store: RunStore, record: dict[str, Any], headline: dict[str, Any], ranked: list) -> str:
    """One paragraph for managers, from the same numbers as the slides."""
    kinds = len({r.get("label") or r.get("model") for r in ranked})
    text = (
        f"We trained {len(ranked)} models of {kinds} kinds to recognise ten kinds of clothing in small photos. "
        + headline_sentence(record, headline, ranked)
    )
    versus = comparison.deep_vs_classic(store)
    if versus:
        lead = "lead" if versus["difference"] > 0 else "trail"
        text += (
            f"The best neural network (CNN) and the best classic method differ by "
            f"{100 * abs(versus['difference']):.1f} points (the CNN's {lead}): "
            + (lambda t: t[0].lower() + t[1:])(comparison.gap_words(versus, "the CNN", "the classic method"))
            + " "
        )
    preds = store.predictions(record["run_id"])
    pairs = drilldown.top_confusions(drilldown.confusion_matrix(preds["y_true"], preds["y_pred"]), 1)
    if pairs:
        t, p, n = pairs[0]
        text += f"Its most common mistake is calling a {data.CLASS_NAMES[t]} a {data.CLASS_NAMES[p]} ({n} photos). "
    from core.ablation import results, wording
    from core.training import presets

    text += wording.manager_sentence(results.cited_study(store), int(presets.get("fast").config.epochs or 0))
    return text.strip()


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
        "split": "60,000 training photos split 80/20 (stratified by class, seed 42) into 48,000 to train on and "
        "12,000 for validation; the 10,000 test photos are scored once, at the end of a run.",
        "choices": [
            "Epochs, early stopping, presets and every setting: chosen on the validation photos.",
            "Ablation studies: validation photos only; the test set is never scored.",
            "Test photos: the final score, its 95 % interval and the paired tests between runs.",
        ],
        "runs": runs,
        "exported_on": f"{platform.platform()} ({platform.machine()}), "
        f"{dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}",
    }
