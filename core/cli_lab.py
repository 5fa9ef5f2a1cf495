"""The CLI's experiment commands: presets, ensembles, hyperparameter search, explanation evaluation.

`core.cli` adds these parsers (`add_parsers`) and dispatches to `HANDLERS`; both share `_print_json`.
"""

from __future__ import annotations

import json
from typing import Any

from core.models import MODEL_NAMES
from core.store import run_summary

EXIT_FAILED = 1


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, indent=None, separators=(",", ":")), flush=True)


def add_parsers(sub, parser_class) -> None:
    ens = sub.add_parser("ensemble", help="an ensemble run: the average of chosen completed runs' probabilities")
    ens.add_argument(
        "run_ids", nargs="+", metavar="RUN_ID", help="2 to 20 completed runs (with --choose: the candidates)"
    )
    ens.add_argument(
        "--choose",
        action="store_true",
        help="choose the members among the runs on the validation split (every subset of 2 to --max runs)",
    )
    ens.add_argument("--max", type=int, default=5, help="with --choose: at most this many members (default 5)")
    ens.add_argument("--run-id", help="the new run's id (default: ensemble-<date>-<hex>)")
    ens.add_argument("--name", help="a readable name for the new run")
    ens.add_argument("--json", action="store_true")

    cal = sub.add_parser(
        "calibrate",
        help="fit a run's temperature and 95 %% prediction sets on its validation photos; measure them on test",
    )
    cal.add_argument("run_id", metavar="RUN", nargs="?")
    cal.add_argument("--all", action="store_true", help="every completed run without a calibration yet")
    cal.add_argument("--again", action="store_true", help="with --all: also the runs calibrated before")
    cal.add_argument("--json", action="store_true")

    presets = sub.add_parser("presets", help="named training recipes (fast, best, demo …)")
    presets_sub = presets.add_subparsers(dest="presets_command", required=True, parser_class=parser_class)
    presets_list = presets_sub.add_parser("list", help="every preset with its settings and measured result")
    presets_list.add_argument("--json", action="store_true")

    tune = sub.add_parser("tune", help="hyperparameter search (Optuna): trials are runs, scored on validation")
    tune.add_argument("model", help=f"one of: {', '.join(MODEL_NAMES)}")
    tune.add_argument("--trials", type=int, required=True, help="trial budget (1-500)")
    tune.add_argument("--subset", type=int, default=2000, help="training photos per trial (default 2000)")
    tune.add_argument("--epochs", type=int, help="epochs per trial (default: the model's)")
    tune.add_argument(
        "--space", action="append", default=[], metavar="NAME=LOW:HIGH", help="search range (or NAME=a,b,c)"
    )
    tune.add_argument("--study", help="study name (continue it if it exists)")
    tune.add_argument("--promote", action="store_true", help="then retrain the best on the full split")
    tune.add_argument("--json", action="store_true")

    trial = sub.add_parser("tune-trial", help="run one queued trial of a study (what a Celery worker does)")
    trial.add_argument("study")
    trial.add_argument("--parent-pid", type=int, help="stop (trial failed, run interrupted) if this process dies")

    ev = sub.add_parser("explain-eval", help="how faithful each heatmap method is (deletion/insertion vs random)")
    ev.add_argument("run_id")
    ev.add_argument("--n", type=int, default=300, help="photos to test (10-10000, default 300)")
    ev.add_argument("--split", choices=("test", "validation"), default="test")
    ev.add_argument("--json", action="store_true")
    ev.add_argument(
        "--ship",
        action="store_true",
        help="measure the run's default view (200 validation photos) and save it in its folder, for a fresh clone",
    )

    promote = sub.add_parser("promote", help="retrain a study's best configuration on the full split")
    promote.add_argument("study")
    promote.add_argument("--json", action="store_true")


def _cmd_ensemble(args) -> int:
    from core.training import ensemble

    members, note = args.run_ids, None
    if args.choose:
        from core.training import ensemble_select

        log = (lambda _line: None) if args.json else (lambda line: print(line, flush=True))
        chosen = ensemble_select.choose(args.run_ids, max_members=args.max, log=log)
        members = chosen["members"]
        note = (
            f"members chosen on the validation split: of every 2- to {args.max}-run subset of "
            f"{', '.join(args.run_ids)} ({chosen['tried']} tried), the one with the best averaged validation "
            f"accuracy ({100 * chosen['val_accuracy']:.2f} %; the best single run, "
            f"{chosen['best_single']['run_id']}: {100 * chosen['best_single']['val_accuracy']:.2f} %)"
        )
        log(note)
    record = ensemble.create(members, run_id=args.run_id, name=args.name, note=note)
    if args.json:
        _print_json(run_summary(record))
    else:
        print(
            f"run {record['run_id']} completed: ensemble of {len(record['config']['members'])} runs, "
            f"test accuracy {100 * record['metrics']['test_accuracy']:.2f}%"
        )
    return 0


def _cmd_tune(args) -> int:
    from core.tuning import study

    log = (lambda _line: None) if args.json else (lambda line: print(line, flush=True))
    result = study.run(args.model, args.trials, args.subset, args.epochs, args.space, name=args.study, log=log)
    if args.promote:
        promoted = study.promote(result["study"], log=log)
        result["promoted"] = run_summary(promoted)
    if args.json:
        _print_json(result)
        return 0
    best = result["best"]
    print(f"study {result['study']}: {len(result['trials'])} trials")
    for t in result["trials"]:
        val = "" if t["val_accuracy"] is None else f"{100 * t['val_accuracy']:.2f}%"
        print(f"  #{t['number']:<3} {t['state']:<9} {val:>7}  {t['run_id']}  {t['params']}")
    if best:
        print(f"best: trial {best['number']} ({best['run_id']}), validation {100 * best['val_accuracy']:.2f}%")
    if result.get("promoted"):
        p = result["promoted"]
        print(f"promoted: {p['run_id']}, test accuracy {100 * (p['test_accuracy'] or 0):.2f}%")
    return 0


def _cmd_tune_trial(args) -> int:
    from core.tuning import study

    state = study.run_queued_trial(args.study, parent_pid=args.parent_pid, log=lambda line: print(line, flush=True))
    print(f"study {args.study}: trial {state}", flush=True)
    return 0 if state in ("complete", "pruned", "skipped") else EXIT_FAILED


def _cmd_explain_eval(args) -> int:
    from core.explain import faithfulness

    if args.ship:
        chosen = faithfulness.ship_default(args.run_id)
        print(f"{args.run_id}: shipped {chosen['method']} at {chosen['layer']} ({chosen['n']} validation photos)")
        return 0
    result = faithfulness.evaluate_run(args.run_id, n=args.n, split=args.split)
    if args.json:
        _print_json(result)
        return 0
    print(f"{args.run_id}: {result['n']} {args.split} photos; probability lost when the top pixels are hidden")
    print(f"{'method':<10} {'layer':<16} {'map':>6} {'random':>7} {'gain':>6} {'insert gain':>11} {'on item':>8}")
    for r in result["results"]:
        print(
            f"{r['method']:<10} {r['layer']:<16} {r['deletion_drop']:>6.3f} {r['deletion_drop_random']:>7.3f} "
            f"{r['deletion_gain']:>6.3f} {r['insertion_gain']:>11.3f} {100 * r['heat_on_item']:>7.0f}%"
        )
    print(f"most faithful: {result['best']['method']} at {result['best']['layer']}")
    return 0


def _cmd_promote(args) -> int:
    from core.tuning import study

    record = study.promote(args.study, log=(lambda _line: None) if args.json else print)
    if args.json:
        _print_json(run_summary(record))
    else:
        print(
            f"run {record['run_id']} {record['status']}: test accuracy {100 * record['metrics']['test_accuracy']:.2f}%"
        )
    return 0 if record["status"] == "completed" else EXIT_FAILED


def _cmd_presets(args) -> int:
    from core.race import results
    from core.training import presets

    reasons = results.preset_reasons()
    listed = [{**preset.summary(), "race": reasons.get(preset.name)} for preset in presets.PRESETS.values()]
    if args.json:
        _print_json(listed)
        return 0
    for p in listed:
        m = p["measured"]
        result = f"measured {100 * m['test_accuracy']:.2f}% in {m['train_seconds']:.0f} s" if m else "not measured yet"
        print(f"{p['name']:<6} {p['config']['model']:<10} {result:<32} {p['goal']}")
        if p["race"]:
            print(f"{'':<6} {p['race']['sentence']}")
    return 0


def _cmd_calibrate(args) -> int:
    import sys

    from core.evaluation import calibrated
    from core.store import RunError, RunStore

    store = RunStore()
    if args.all == bool(args.run_id):
        print("error: name one run, or give --all", file=sys.stderr)
        return 2
    if args.all:
        done = calibrated.calibrate_all(store, only_missing=not args.again)
        if args.json:
            _print_json([{"run_id": r, "result": said} for r, said in done])
        else:
            for run_id, said in done:
                print(f"{run_id}: {said}")
        return 0
    try:
        found = calibrated.calibrate_run(store, args.run_id)
    except (RunError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        _print_json({"run_id": args.run_id, **found})
    else:
        test = found["test"]
        print(
            f"{args.run_id}: temperature {found['temperature']:.3f} (fitted on {found['fitted_on']}); test ECE "
            f"{100 * test['before']['ece']:.2f} % -> {100 * test['after']['ece']:.2f} %, log-loss "
            f"{test['before']['log_loss']:.3f} -> {test['after']['log_loss']:.3f}; 95 % prediction sets cover "
            f"{100 * test['set_coverage']:.2f} % of the test photos, {test['set_mean_size']:.2f} classes on average"
        )
    return 0


HANDLERS = {
    "calibrate": _cmd_calibrate,
    "ensemble": _cmd_ensemble,
    "presets": _cmd_presets,
    "tune": _cmd_tune,
    "tune-trial": _cmd_tune_trial,
    "promote": _cmd_promote,
    "explain-eval": _cmd_explain_eval,
}
