"""Command-line interface: `python -m core data|train|runs|reference|gradcam …`.

Errors are one line on stderr and a non-zero exit status; `--json` output is one JSON object
(or one JSON line per event for `train`) on stdout, nothing else.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from core import __version__, cli_evidence, cli_lab, cli_race, cli_track
from core.data import DataError
from core.explain.gradcam import METHODS as EXPLAIN_METHODS
from core.models.config import ConfigError, TrainConfig, parse_param
from core.store import DAMAGED, STATUSES, InvalidRunId, RunError, run_summary

EXIT_USAGE = 2
EXIT_FAILED = 1


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump)."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from core.models import MODEL_NAMES

    parser = _Parser(prog="python -m core", description="Fashion-MNIST Studio: data, training, runs.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    data_p = sub.add_parser("data", help="dataset checks and statistics")
    data_sub = data_p.add_subparsers(dest="data_command", required=True, parser_class=_Parser)
    stats = data_sub.add_parser("stats", help="pixel statistics and class counts of the real dataset")
    stats.add_argument("--json", action="store_true", help="print one JSON object")
    data_sub.add_parser("check", help="find and verify the four dataset files")
    data_sub.add_parser(
        "familiarity", help="measure the photo check's false alarms and detections (writes artifacts/familiarity.json)"
    )

    train = sub.add_parser("train", help="train one model into a new run")
    train.add_argument("model", nargs="?", help=f"one of: {', '.join(MODEL_NAMES)} (optional with --preset)")
    train.add_argument("--preset", help="start from a named recipe (python -m core presets list); flags override it")
    train.add_argument("--epochs", type=int)
    train.add_argument("--batch-size", type=int)
    train.add_argument("--lr", type=float, dest="learning_rate", help="learning rate")
    train.add_argument("--dropout", type=float)
    train.add_argument(
        "--augment",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="random small shifts and horizontal flips while training",
    )
    train.add_argument("--batchnorm", action=argparse.BooleanOptionalAction, default=None)
    train.add_argument(
        "--early-stopping",
        type=int,
        metavar="PATIENCE",
        help="stop after PATIENCE epochs without a better validation loss; restore the best",
    )
    train.add_argument("--subset", type=int, help="train on a stratified subset of this many images")
    train.add_argument("--seed", type=int, help="default 42")
    train.add_argument(
        "--seeds", type=int, default=1, help="repeat over this many consecutive seeds (a group of runs; default 1)"
    )
    train.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="model-specific parameter, e.g. --set C=10 (repeatable)",
    )
    train.add_argument("--run-id", help="name of the new run (letters, digits, - and _)")
    train.add_argument("--json", action="store_true", help="one JSON line per epoch, then the result")
    train.add_argument("--parent-pid", type=int, help=argparse.SUPPRESS)

    runs = sub.add_parser("runs", help="list and inspect runs")
    runs_sub = runs.add_subparsers(dest="runs_command", required=True, parser_class=_Parser)
    listing = runs_sub.add_parser("list", help="all runs, newest first")
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--status", choices=(*STATUSES, DAMAGED))
    show = runs_sub.add_parser("show", help="one run's record")
    show.add_argument("run_id")
    show.add_argument("--json", action="store_true")
    cancel = runs_sub.add_parser("cancel", help="stop a running training")
    cancel.add_argument("run_id")
    check = runs_sub.add_parser(
        "check", help="check every run against the run-store contract (exit status 1 when any is damaged)"
    )
    check.add_argument("--json", action="store_true", help="one JSON array of {run_id, status, ok, reason}")
    check.add_argument("--no-models", action="store_true", help="skip loading model files (faster)")
    timing = runs_sub.add_parser("time", help="measure a finished run's one-photo latency here and record it")
    timing.add_argument("run_ids", nargs="+", metavar="RUN_ID")
    rename = runs_sub.add_parser("rename", help="give a finished run a readable name ('' removes it)")
    rename.add_argument("run_id")
    rename.add_argument("name")
    runs_sub.add_parser("reindex", help="rebuild the run index (artifacts/index.sqlite) from the run folders")
    runs_sub.add_parser("reap", help="record runs whose training process died as interrupted")
    delete = runs_sub.add_parser("delete", help="remove a run (not a running one)")
    delete.add_argument("run_id")
    delete.add_argument("--force", action="store_true", help="also delete a committed reference run (ref-*)")

    cli_lab.add_parsers(sub, _Parser)
    cli_evidence.add_parsers(sub, _Parser)
    cli_race.add_parsers(sub, _Parser)
    cli_track.add_parsers(sub, _Parser)

    ref = sub.add_parser("reference", help="retrain the committed reference runs")
    ref.add_argument("--only", nargs="+", metavar="MODEL", help="just these models")

    cam = sub.add_parser("gradcam", help="Grad-CAM heatmap for one test image")
    cam.add_argument("run_id")
    cam.add_argument("--index", type=int, required=True, help="test-set index (0-9999)")
    cam.add_argument("--class", dest="target_class", help="class index or name (default: predicted)")
    cam.add_argument("--layer", help="conv layer name (default: the last one)")
    cam.add_argument(
        "--method", choices=EXPLAIN_METHODS, help="default: the method measured most faithful for this run"
    )
    cam.add_argument("--json", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = {
        "data": _cmd_data,
        "train": _cmd_train,
        "runs": _cmd_runs,
        "reference": _cmd_reference,
        **cli_lab.HANDLERS,
        **cli_evidence.HANDLERS,
        **cli_race.HANDLERS,
        **cli_track.HANDLERS,
        "gradcam": _cmd_gradcam,
    }[args.command]
    try:
        return handler(args)
    except (ConfigError, InvalidRunId) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (DataError, RunError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, indent=None, separators=(",", ":")), flush=True)


def _cmd_data(args) -> int:
    from core import data
    from core.data import explore

    if args.data_command == "familiarity":
        from core.data import familiar_rates

        result = familiar_rates.measure()
        familiar_rates.save(result)
        print(familiar_rates.words(result))
        return 0
    if args.data_command == "check":
        ds = data.load()
        print(f"ok: Fashion-MNIST verified in {ds.source} ({len(ds.x_train)} train, {len(ds.x_test)} test)")
        return 0
    stats = explore.dataset_stats()
    if args.json:
        _print_json(stats)
    else:
        print(f"{stats['n_train']} training / {stats['n_test']} test images from {stats['source']}")
        print(
            f"pixels (0-255): mean {stats['pixel_mean']:.2f}, median {stats['pixel_median']:.0f}, "
            f"std {stats['pixel_std']:.2f}"
        )
        for part, counts in stats["class_counts"].items():
            print(f"{part:>5}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    params = dict(parse_param(item) for item in args.set)
    given = {
        name: getattr(args, name)
        for name in (
            "epochs",
            "batch_size",
            "learning_rate",
            "dropout",
            "batchnorm",
            "augment",
            "early_stopping",
            "subset",
            "seed",
        )
    }
    if getattr(args, "preset", None):
        from core.training import presets

        return presets.apply(args.preset, {"model": args.model, "params": params, **given})
    if not args.model:
        raise ConfigError("name a model to train, or a --preset")
    return TrainConfig(
        model=args.model,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        dropout=args.dropout,
        batchnorm=args.batchnorm,
        augment=args.augment,
        early_stopping=args.early_stopping,
        subset=args.subset,
        seed=42 if args.seed is None else args.seed,
        params=params,
    )


def _cmd_train(args) -> int:
    from core import training
    from core.store import RunStore, validate_run_id
    from core.training.cli_progress import ProgressPrinter

    config = config_from_args(args).resolve()  # refuse bad settings before touching anything
    store = RunStore()
    if args.run_id:
        validate_run_id(args.run_id)
        if store.exists(args.run_id):
            raise RunError(f"run {args.run_id} already exists; choose another --run-id")
    printer = ProgressPrinter(json_lines=args.json)
    produced_by = {
        "command": "python -m core " + " ".join(sys.argv[1:]),
        **({"preset": args.preset} if args.preset else {}),
    }
    if args.seeds != 1:
        from core.training.seeds import train_seeds

        records = train_seeds(
            config,
            args.seeds,
            run_id=args.run_id,
            store=store,
            emit=printer,
            on_record=printer.result,
            parent_pid=args.parent_pid,
            produced_by=produced_by,
        )
        return 0 if all(r["status"] == "completed" for r in records) and len(records) == args.seeds else EXIT_FAILED
    record = training.train(
        config, run_id=args.run_id, store=store, emit=printer, parent_pid=args.parent_pid, produced_by=produced_by
    )
    printer.result(record)
    return 0 if record["status"] == "completed" else EXIT_FAILED


def _cmd_runs(args) -> int:
    from core.store import RunStore

    store = RunStore()
    if args.runs_command == "reindex":
        from core.store import index

        count = index.reindex(store)
        print(f"indexed {count} runs in {store.index.path}")
        return 0
    if args.runs_command == "reap":
        reaped = store.reap()
        print(f"recorded as interrupted: {', '.join(reaped)}" if reaped else "no dead run to record")
        return 0
    if args.runs_command == "list":
        runs = [run_summary(r) for r in store.list_runs(status=args.status)]
        if args.json:
            _print_json(runs)
        else:
            for r in runs:
                acc = "" if r["test_accuracy"] is None else f"{100 * r['test_accuracy']:.2f}%"
                extra = f"  ({r['damage']})" if r.get("damage") else ""
                print(f"{r['run_id']:<40} {r['model'] or '?'!s:<14} {r['status']:<12} {acc}{extra}")
        return 0
    if args.runs_command == "check":
        from core.models.check import check_all

        store.reap()
        results = check_all(store, load_models=not args.no_models)
        if args.json:
            _print_json(results)
        else:
            for r in results:
                print(f"{r['run_id']:<40} {'ok' if r['ok'] else 'DAMAGED: ' + r['reason']}")
        return 0 if all(r["ok"] for r in results) else EXIT_FAILED
    if args.runs_command == "delete":
        store.delete(args.run_id, force=args.force)
        print(f"deleted {args.run_id}")
        return 0
    if args.runs_command == "time":
        from core import data
        from core.evaluation.latency import single_image_ms
        from core.models.loading import load_classifier

        for run_id in args.run_ids:
            record = store.usable(run_id)
            clf = load_classifier(run_id, store)
            ms = single_image_ms(clf, clf.prepare(data.load().x_test[:100]))
            store.update(run_id, timings={**(record.get("timings") or {}), "single_image_ms": ms})
            print(f"{run_id}: {ms:.3f} ms for one photo")
        return 0
    if args.runs_command == "rename":
        record = store.rename(args.run_id, args.name)
        print(
            f"{args.run_id} is now named {record['name']!r}" if record.get("name") else f"{args.run_id}: name removed"
        )
        return 0
    if args.runs_command == "cancel":
        ok = store.request_cancel(args.run_id)
        print(f"cancel requested for {args.run_id}" if ok else f"{args.run_id} is not running")
        return 0 if ok else EXIT_FAILED
    record = store.get(args.run_id)
    if args.json:
        _print_json(record)
    else:
        print(json.dumps(record, indent=2))
    return 0


def _cmd_reference(args) -> int:
    from core.training import reference

    for record in reference.retrain(only=args.only, log=lambda line: print(line, flush=True)):
        print(f"{record['run_id']}: {record['status']} {100 * record['metrics']['test_accuracy']:.2f}%", flush=True)
    return 0


def _cmd_gradcam(args) -> int:
    from core import explain

    method, layer, reason = args.method, args.layer, "chosen with --method"
    if method is None:
        from core.explain import faithfulness
        from core.store import RunStore

        measured = faithfulness.default_view(args.run_id, RunStore()) if args.layer is None else None
        if measured:
            method, layer = measured["method"], measured["layer"]
            reason = (
                f"the method measured most faithful for this run on {measured['n']} validation photos: "
                + faithfulness.sentence(measured)
            )
        else:
            method = "gradcam"
            reason = (
                "no measured default for this run yet, so plain Grad-CAM (`python -m core explain-eval "
                f"{args.run_id} --ship` measures which method is faithful)"
            )
    result = explain.explain_test_image(args.run_id, args.index, target=args.target_class, layer=layer, method=method)
    result["method_reason"] = reason
    if args.json:
        result = {**result, "heatmap": [[round(float(v), 4) for v in row] for row in result["heatmap"]]}
        _print_json(result)
    else:
        print(
            f"run {result['run_id']}, test image {result['index']}: true {result['true_class']}, "
            f"predicted {result['predicted_class']} ({100 * max(result['probabilities'].values()):.1f}%)"
        )
        print(f"heatmap for {result['target_class']} at layer {result['layer']} ({result['method']})")
        print(f"method: {result['method']}, {reason}")
    return 0
