"""Run lookups shared by pages: pickers, the default run, and clear messages for bad run ids."""

from __future__ import annotations

from typing import Any, NamedTuple

from core.evaluation import board, calibrated, leaderboard
from core.store import DAMAGED, InvalidRunId, RunError, UnknownRun
from dashboard import state

PICKER_RECENT = 20  # run pickers list the reference runs and this many recent runs; typing searches all
PICKER_FOUND = 50


def _option(r: dict[str, Any]) -> dict[str, str]:
    accuracy = r.get("test_accuracy")
    if accuracy is None and isinstance(r.get("metrics"), dict):
        accuracy = r["metrics"].get("test_accuracy")
    score = f" · {100 * accuracy:.2f}%" if accuracy is not None else ""
    return {"label": f"{r.get('label')} · {r['run_id']}{score}", "value": r["run_id"]}


def picker_options(
    runs: list[dict[str, Any]] | None = None,
    family: str | None = None,
    search: str | None = None,
    keep: Any = None,
) -> list[dict[str, str]]:
    """A run picker's options from the run index, never every run: the committed reference runs and
    the most recent ones (or, with `search`, the best matches for the typed text), plus `keep` (the
    chosen run) so it stays shown. With `runs`, just those runs."""
    if runs is not None:
        return [_option(r) for r in runs if family is None or r.get("family") == family]
    store = state.store()
    filters: dict[str, Any] = {"status": "completed", "family": family}
    if search:
        found, _total = store.page(filters, "-test_accuracy", PICKER_FOUND, 0, str(search)[:100])
    else:
        refs, _n = store.page({**filters, "reference": "1"}, "-test_accuracy", PICKER_FOUND)
        recent, _n = store.index.query({**filters, "reference": "0"}, "-created_at", PICKER_RECENT)
        found = recent + refs
    found = _with_kept(found, keep, lambda r: r.get("status") == "completed" and family in (None, r.get("family")))
    return [_option(r) for r in found]


def _with_kept(found: list[dict[str, Any]], keep: Any, accept) -> list[dict[str, Any]]:
    """`found`, with the chosen run `keep` first when it is missing and `accept(record)` holds."""
    if not isinstance(keep, str) or not keep or keep in {r["run_id"] for r in found}:
        return found
    try:
        record = state.store().get(keep)
    except RunError:
        return found
    return [record, *found] if accept(record) else found


STORYABLE = ("completed", "validated")  # a story is told of a run scored on test, or judged on validation


def story_options(search: str | None = None, keep: Any = None) -> list[dict[str, str]]:
    """The /story run picker: the ranked runs (completed on the whole training split), most accurate
    first, or, as you type, the best matches among every run a story can be told of (any completed
    run, a study's validated runs); plus `keep`, the run on screen, whatever it is. From the index."""
    store = state.store()
    if search:
        found, _n = store.page({"status": list(STORYABLE)}, "-test_accuracy", PICKER_FOUND, 0, str(search)[:100])
    else:
        found, _n = store.page({"status": "completed", "full_split": True}, "-test_accuracy", PICKER_FOUND)
    return [_option(r) for r in _with_kept(found, keep, lambda r: r.get("status") in STORYABLE)]


def story_search(text: Any, value: Any) -> list[dict[str, str]]:
    return story_options(text.strip()[:100] if isinstance(text, str) and text.strip() else None, value)


REPLAYABLE = ("completed", "validated", "interrupted", "failed", "running", "queued", "pruned")  # not damaged


def replay_options(search: str | None = None, keep: Any = None) -> list[dict[str, str]]:
    """The /train replay picker: runs with curves to show (any status but damaged), from the index:
    the newest and the reference runs, or the best matches for the typed text, plus `keep`."""
    store = state.store()
    filters: dict[str, Any] = {"status": list(REPLAYABLE)}
    if search:
        found, _n = store.page(filters, "-created_at", PICKER_FOUND, 0, str(search)[:100])
    else:
        recent, _n = store.page({**filters, "reference": "0"}, "-created_at", PICKER_RECENT)
        refs, _n = store.index.query({**filters, "reference": "1"}, "-created_at", PICKER_FOUND)
        found = recent + refs
    found = _with_kept(found, keep, lambda r: r.get("status") in REPLAYABLE)
    return [
        {"label": f"{r.get('label') or r.get('model')} · {r['run_id']} · {r['status']}", "value": r["run_id"]}
        for r in found
    ]


def replay_search(text: Any, value: Any) -> list[dict[str, str]]:
    return replay_options(text.strip()[:100] if isinstance(text, str) and text.strip() else None, value)


def search_io(picker: str) -> tuple:
    """A run picker's search callback (options as you type, from the index), for its page to register:
    `callback(*runs_view.search_io("errors-run"), prevent_initial_call=True)(runs_view.searcher())`."""
    from dash import Input, Output, State

    return Output(picker, "options"), Input(picker, "search_value"), State(picker, "value")


def searcher(family: str | None = None):
    def search(text: Any, value: Any) -> list[dict[str, str]]:
        query = text.strip()[:100] if isinstance(text, str) and text.strip() else None
        return picker_options(family=family, search=query, keep=value)

    return search


def default_run(family: str | None = None) -> str | None:
    """The most accurate completed run (of a family), from the run index."""
    rows, _total = state.store().page({"status": "completed", "family": family}, "-test_accuracy", 1)
    return rows[0]["run_id"] if rows else None


def resolve_run(run_id: Any, family: str | None = None) -> tuple[dict[str, Any] | None, str | None]:
    """(record, None) for a usable completed run, else (None, a message for people)."""
    if run_id in (None, ""):
        return None, "No run chosen."
    try:
        record = state.store().get(run_id)
    except InvalidRunId:
        return None, f"“{str(run_id)[:80]}” is not a valid run name (letters, digits, - and _ only)."
    except UnknownRun:
        return None, f"There is no run called “{run_id}”. Pick one from the list."
    except RunError as exc:
        return None, f"Run “{run_id}” cannot be read: {exc}."
    if record.get("status") == DAMAGED:
        return None, f"Run “{run_id}” is damaged and cannot be shown: {record.get('damage')}."
    if record.get("status") == "validated":
        return None, (
            f"Run “{run_id}” is a {leaderboard.study_run_words(record)}: it was judged on the validation photos "
            "only and never scored on the test photos, so it has no test results."
        )
    if record.get("status") != "completed":
        still = " yet" if record.get("status") in ("queued", "running") else ""
        return None, f"Run “{run_id}” is {record.get('status')}, so it has no test results{still}."
    if family and record.get("family") == "imported":
        return None, (
            f"Run “{run_id}” was imported without a Keras model file, so it cannot be explained or shown new "
            "photos here; its test predictions are on the leaderboard and on /errors."
        )
    if family and record.get("family") != family:
        return None, f"Run “{run_id}” is a {record.get('label')}; this view needs a CNN (a deep-learning run)."
    return record, None


def predictions_for(run_id: Any) -> tuple[dict[str, Any] | None, str | None]:
    """(predictions, None) of a usable run, else (None, a message): for callbacks that may be handed a
    run that was deleted or damaged since the page was drawn. Its probabilities are the calibrated ones
    (core.evaluation.calibrated.predictions), so every "how sure" and every ranking by confidence agree."""
    record, problem = resolve_run(run_id)
    if record is None:
        return None, problem
    try:
        return calibrated.predictions(state.store(), record), None
    except RunError as exc:
        return None, f"{exc}."


class Usable(NamedTuple):
    record: dict[str, Any]
    preds: dict[str, Any]


def usable(run_id: Any) -> Usable | str:
    """A completed, undamaged run with its predictions, or a message for people."""
    record, problem = resolve_run(run_id)
    if record is None:
        return problem or "No run chosen."
    try:
        return Usable(record, calibrated.predictions(state.store(), record))
    except RunError as exc:
        return f"{exc}."


def gradcam_run_for(record: dict[str, Any]) -> dict[str, str] | None:
    """Grad-CAM link parameters for this run's photos: itself for CNNs; else the best CNN run, with
    `from` naming this run so the Grad-CAM page says whose photos it explains with another model."""
    if record.get("family") == "deep":
        return {"run": record["run_id"]}
    best = default_run("deep")
    return {"run": best, "from": record["run_id"]} if best else None


def leaderboard_intro(show_all: bool, group: bool = False) -> str:
    """The sentence above the leaderboard: how many finished runs are ranked and, by default, what
    is hidden (from the board's counts: no run is read)."""
    ranked, others = board.counts(state.store(), show_all, group)
    text = f"{ranked} finished runs ranked by test accuracy; best value of each column in green. "
    if show_all:
        folded = " (one row per seed group)" if group else ""
        return text + (f"Also shown below them, not ranked{folded}: {others}. " if others else "")
    return text + (f"Hidden: {others}. " if others else "")


def latest_user_run(store) -> str | None:
    """The newest training of the user's own: not a reference run, a tuning trial or an ablation run
    (those belong to /tune and /insights, and a one-pass trial has no curves to show). From the index."""
    rows, _total = store.page({"reference": "0", "in_study": False}, "-created_at", 1)
    return rows[0]["run_id"] if rows else None
