"""What frames the slides: the summary paragraph for managers, and the appendix of how the numbers were
made (the data and its checksums, the split, which split chose what, each run's command, source version
and machine). Both read the same records and functions as the slides."""

from __future__ import annotations

import datetime as dt
import platform
from typing import Any

from core import data
from core.evaluation import comparison, drilldown
from core.store import RunError, RunStore
from core.story.slides import Story, _date, _pct


def manager_summary(store: RunStore, record: dict[str, Any], headline: dict[str, Any], ranked: list) -> str:
    """One paragraph for managers, from the same numbers as the slides."""
    text = (
        f"We trained {len(ranked)} models to recognise ten kinds of clothing in small photos. The most accurate, "
        f"{headline['label']} ({headline['run_id']}), names {_pct(headline['test_accuracy'])} of 10,000 photos it "
        f"never saw correctly (95 % interval {headline['interval']}). "
    )
    versus = comparison.deep_vs_classic(store)
    if versus:
        verdict = "beyond chance" if versus["mcnemar_p"] < 0.05 else "within chance"
        text += (
            f"Neural networks (CNNs) beat the best classic method by {100 * versus['difference']:.1f} points, "
            f"{verdict}. "
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
                "recorded": _date(r),
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
