"""The CLI's `import` command: a model trained anywhere becomes a run (core.tracking.importer).
`core.cli` adds the parser and dispatches."""

from __future__ import annotations

import json

from core.data.dataset import N_TEST, N_VAL, spaced


def add_parsers(sub, parser_class) -> None:
    imp = sub.add_parser(
        "import",
        help="make a run of a model trained anywhere, from its saved test probabilities (.npy, .npz or .csv)",
        description=f"The test probabilities are {spaced(N_TEST)} rows (the test photos in the dataset's order) x 10 "
        "classes. Everything is checked before the run is written; a bad input writes nothing.",
    )
    imp.add_argument("--name", required=True, help="the new run's id (letters, digits, '-', '_')")
    imp.add_argument("--predictions", required=True, help="test probabilities (or logits with --logits)")
    imp.add_argument("--logits", action="store_true", help="the arrays are logits: softmax them")
    imp.add_argument(
        "--validation", help=f"its outputs on the studio's {spaced(N_VAL)} validation photos (for calibration)"
    )
    imp.add_argument("--history", help="a CSV with an 'epoch' column (loss, accuracy, val_loss, val_accuracy …)")
    imp.add_argument("--model", help="a .keras file taking 28x28x1 photos in [0, 1] (explanations and uploads)")
    imp.add_argument("--framework", help="what trained it, e.g. 'pytorch 2.5'")
    imp.add_argument("--label", help="what the leaderboard calls the model (default 'Imported model')")
    imp.add_argument("--train-seconds", type=float, help="how long it trained (left blank when not given)")
    imp.add_argument("--n-train", type=int, help="how many training photos it learnt from")
    imp.add_argument("--group", help="a seed group: runs of one recipe over seeds share it (one leaderboard row)")
    imp.add_argument("--force", action="store_true", help="import even when the accuracy is near chance")
    imp.add_argument("--json", action="store_true")


def _cmd_import(args) -> int:
    from core.tracking import importer

    record = importer.import_run(
        args.name,
        args.predictions,
        logits=args.logits,
        validation=args.validation,
        history=args.history,
        model=args.model,
        framework=args.framework,
        label=args.label,
        train_seconds=args.train_seconds,
        n_train=args.n_train,
        force=args.force,
        group=args.group,
    )
    metrics = record["metrics"]
    if args.json:
        print(json.dumps({"run_id": record["run_id"], "status": record["status"], "metrics": metrics}), flush=True)
        return 0
    low, high = metrics["test_accuracy_ci95"]
    print(
        f"imported {record['run_id']}: test accuracy {100 * metrics['test_accuracy']:.2f} % "
        f"(95 % interval {100 * low:.2f}-{100 * high:.2f} %)"
        + ("; calibrated on its validation photos" if record.get("calibration") else ""),
        flush=True,
    )
    return 0


HANDLERS = {"import": _cmd_import}
