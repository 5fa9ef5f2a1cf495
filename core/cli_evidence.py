"""The CLI's evidence commands: `compare A B` (paired test on the test photos) and `ablate` (which
techniques help, measured over seeds on validation). `core.cli` adds the parsers and dispatches."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from core.data.dataset import N_TRAIN, spaced

EXIT_FAILED = 1


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, indent=None, separators=(",", ":")), flush=True)


def add_parsers(sub, parser_class) -> None:
    cmp = sub.add_parser("compare", help="is run A better than run B beyond chance? (paired, same test photos)")
    cmp.add_argument("a", metavar="A")
    cmp.add_argument("b", metavar="B")
    cmp.add_argument("--json", action="store_true")

    again = sub.add_parser("reproduce", help="train a run again from its record here and compare the predictions")
    again.add_argument("run_id", metavar="RUN")
    again.add_argument("--keep", action="store_true", help="keep the retrained copy as a run of its own")
    again.add_argument("--json", action="store_true")

    build = sub.add_parser(
        "rebuild",
        help="retrain a run whose model file is missing (a large reference model) and check it against its predictions",
    )
    build.add_argument("run_id", metavar="RUN", nargs="?")
    build.add_argument("--missing", action="store_true", help="every reference run whose model file is missing")
    build.add_argument("--json", action="store_true")

    rep = sub.add_parser("report", help="the story of the evidence as one self-contained HTML file (and a PDF)")
    rep.add_argument("--run", help="the run the story is about (default: the most accurate)")
    rep.add_argument("--out", required=True, help="where to write the HTML report")
    rep.add_argument("--pdf", help="also print it to this PDF (needs Chromium)")

    abl = sub.add_parser(
        "ablate",
        help="train a base recipe and one-change variants over seeds, judged on validation (list, show, resume …)",
        description="Without a sub-command: start a study, e.g. `ablate --preset fast --seeds 3 --subset 12000 "
        "--epochs 4`. Its runs are judged on the validation split only.",
    )
    abl.add_argument("--preset", help="base recipe: a preset (fast, best, demo)")
    abl.add_argument("--from-run", metavar="RUN", help="base recipe: any run's recorded settings")
    abl.add_argument("--seeds", type=int, default=3, help="seeds per variant (default 3)")
    abl.add_argument(
        "--subset",
        type=_photos,
        default=12000,
        help=f"training photos per run (default 12000; 'all' for {spaced(N_TRAIN)})",
    )
    abl.add_argument(
        "--budgets",
        metavar="EPOCHSxPHOTOS,…",
        help="several budgets in one study, e.g. 4x12000,8xall,24xall (replaces --epochs and --subset)",
    )
    abl.add_argument("--epochs", type=int, help="epochs per run (default: the base's)")
    abl.add_argument("--only", nargs="+", metavar="TECHNIQUE", help="just these techniques")
    abl.add_argument(
        "--design",
        choices=["one-at-a-time", "factorial"],
        default="one-at-a-time",
        help="one change at a time against the base (default), or a two-level fractional-factorial design "
        "(resolution IV or better; with two --budgets, epochs is one of its factors)",
    )
    abl.add_argument("--name", help="study name (default: ablation-<date>)")
    abl.add_argument("--json", action="store_true")
    abl_sub = abl.add_subparsers(dest="ablate_command", parser_class=parser_class)
    listing = abl_sub.add_parser("list", help="every study: base, budget, runs done")
    listing.add_argument("--json", action="store_true")
    show = abl_sub.add_parser("show", help="each technique's effect on validation accuracy, with its interval")
    show.add_argument("study")
    show.add_argument("--json", action="store_true")
    resume = abl_sub.add_parser("resume", help="train the study's unfinished runs (finished ones are kept)")
    resume.add_argument("study")
    resume.add_argument("--json", action="store_true")
    stop = abl_sub.add_parser("stop", help="start no new run of a study (the current one finishes)")
    stop.add_argument("study")
    work = abl_sub.add_parser("work", help="train one unfinished run of a study (what a Celery worker does)")
    work.add_argument("study")
    work.add_argument("--parent-pid", type=int, help="stop (run interrupted) if this process dies")


def _photos(text: str) -> int | None:
    """`--subset`: a number of training photos, or 'all' (the whole 48 000-photo training split)."""
    if str(text).strip().lower() == "all":
        return None
    return int(text)


def _cmd_compare(args) -> int:
    from core.evaluation.comparison import compare_runs

    result = compare_runs(args.a, args.b)
    if args.json:
        _print_json(result)
        return 0
    low, high = (100 * v for v in result["difference_ci95"])
    print(f"{args.a}: {100 * result['accuracy_a']:.2f} %   {args.b}: {100 * result['accuracy_b']:.2f} %")
    print(f"difference A − B: {100 * result['difference']:+.2f} points (95 % interval {low:+.2f} to {high:+.2f})")
    print(
        f"only A right: {result['a_right_b_wrong']}, only B right: {result['b_right_a_wrong']}, "
        f"exact McNemar p = {result['mcnemar_p']:.4g}"
    )
    print(result["verdict"])
    return 0


def _cmd_ablate(args) -> int:
    import datetime as dt

    from core.ablation import study

    log = (lambda _line: None) if getattr(args, "json", False) else (lambda line: print(line, flush=True))
    command = args.ablate_command
    if command == "list":
        rows = study.list_studies()
        if args.json:
            _print_json(rows)
        for r in [] if args.json else rows:
            state = "running" if r["running"] else "idle"
            print(f"{r['study']:<36} {r['base_from']:<20} {r['runs_done']:>3}/{r['runs_total']:<3} runs  {state}")
        return 0
    if command == "stop":
        ok = study.request_stop(args.study)
        print(f"stop requested for {args.study}" if ok else f"{args.study} is not running")
        return 0 if ok else EXIT_FAILED
    if command == "work":
        print(f"study {args.study}: {study.work_one(args.study, log=log, parent_pid=args.parent_pid)}", flush=True)
        return 0
    if command is None:
        base, base_from = study.base_config(args.preset, args.from_run)
        name = args.name or f"ablation-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}"
        from core.ablation import budget

        budgets = budget.parse(args.budgets) if args.budgets else None
        plan = study.create(
            name, base, base_from, args.seeds, args.subset, args.epochs, args.only, budgets=budgets, design=args.design
        )
        n_budgets = len(study.budgets_of(plan))
        if plan.design == "factorial":
            log(f"study {name}: {len(plan.factors)} factors in {len(plan.variants)} runs, {len(plan.seeds)} seeds")
        else:
            log(
                f"study {name}: {len(plan.variants) - n_budgets} variants + the base at {n_budgets} budget(s), "
                f"{len(plan.seeds)} seeds"
            )
        result = study.run(name, log=log)
    elif command == "resume":
        result = study.run(args.study, log=log)
    else:
        result = study.summary(args.study)
    if args.json:
        _print_json(result)
        return 0
    _print_summary(result)
    return 0


def _print_factorial(result: dict[str, Any]) -> None:
    fit = result["fit"]
    print(
        f"study {result['study']} (factorial, {result['base_from']}, {len(result['factors'])} factors, resolution "
        f"{result['resolution'] or 'full'}): {result['runs_done']}/{result['runs_total']} runs"
    )
    print(result["scope"])
    if not fit.get("fitted"):
        print(f"not fitted yet: needs {fit.get('needed')} finished runs")
        return
    print(f"{'effect':<60} {'points':>8} {'95 % interval':>18} {'Holm p':>8}")
    for e in result["main_effects"] + result["interactions"]:
        ci = f"{100 * e['effect_ci95'][0]:+.2f} to {100 * e['effect_ci95'][1]:+.2f}"
        print(f"{e['name'][:60]:<60} {100 * e['effect']:>+8.2f} {ci:>18} {e['p_holm']:>8.3f}")
    for chain in result["aliases"]:
        print("aliased: " + " = ".join(chain))
    for e in result["main_effects"] + result["interactions"]:
        print("- " + e["sentence"])


def _print_summary(result: dict[str, Any]) -> None:
    if result.get("design") == "factorial":
        _print_factorial(result)
        return
    for note in filter(None, [result.get("recipe_note")]):
        print(note)
    base = result["base_accuracy"]
    mean = "–" if base["mean"] is None else f"{100 * base['mean']:.2f} %"
    print(
        f"study {result['study']} ({result['base_from']}, {result['subset'] or 'all'} photos, {result['epochs']} "
        f"epochs, {len(result['seeds'])} seeds): {result['runs_done']}/{result['runs_total']} runs; "
        f"base {mean} on validation"
    )
    print(
        f"{'budget':<9} {'technique':<40} {'change':<20} {'effect':>8} {'95 % interval':>18} {'Holm p':>7} "
        f"{'seeds':>5} {'s/run':>7}"
    )
    for v in result["variants"]:
        eff = "" if v["effect"] is None else f"{100 * v['effect']:+.2f}"
        ci = "" if not v["effect_ci95"] else f"{100 * v['effect_ci95'][0]:+.2f} to {100 * v['effect_ci95'][1]:+.2f}"
        holm = "" if v.get("p_holm") is None else f"{v['p_holm']:.3f}"
        secs = "" if v["seconds"] is None else f"{v['seconds']:.0f}"
        print(
            f"{v['budget']['key']:<9} {v['technique'][:40]:<40} {v['change'][:20]:<20} {eff:>8} {ci:>18} {holm:>7} "
            f"{v['seeds']:>5} {secs:>7}"
        )
    print(f"effect: variant − base on validation; Holm-adjusted for {result['comparisons']} comparisons")
    for line in result.get("across_budgets") or []:
        print("* " + line)
    for v in result["variants"]:
        print("- " + v["sentence"])


def _cmd_reproduce(args) -> int:
    from core.training.reproduce import reproduce

    result = reproduce(args.run_id, keep=args.keep)
    if args.json:
        _print_json(result)
        return 0
    print(
        f"{args.run_id} retrained here in {result['seconds']:.0f} s: {100 * result['agreement']:.2f} % of test photos get "
        f"the same answer, accuracy {100 * result['accuracy_delta']:+.2f} points"
    )
    if not result["same_source"]:
        print(
            f"note: it was recorded with source version {result['recorded_source_version'] or 'unknown'}; "
            f"this code is {result['source_version'] or 'unknown'}"
        )
    return 0


def _cmd_rebuild(args) -> int:
    from core.store import RunError, RunStore
    from core.training import rebuild

    store = RunStore()
    if args.missing == bool(args.run_id):
        print("error: name one run, or --missing for every reference run without its model file", file=sys.stderr)
        return 2
    targets = rebuild.missing(store) if args.missing else [args.run_id]
    if not targets and not args.json:
        print("every reference run has its model file")
    for run_id in targets:
        if not rebuild.needs_rebuild(run_id, store):  # check before announcing a time
            raise RunError(f"run {run_id} already has its model file, or is not a completed single-model run")
        if not args.json:
            estimate = rebuild.estimate_seconds(store.get(run_id))
            print(f"rebuilding {run_id} (about {estimate} s) …", flush=True)
        result = rebuild.rebuild(run_id, store)
        if args.json:
            _print_json({"run_id": run_id, **result})
            continue
        same = (
            "every test photo gets its committed answer"
            if result["agreement"] == 1.0
            else f"{100 * result['agreement']:.2f} % of test photos get their committed answer, accuracy "
            f"{100 * result['accuracy_delta']:+.2f} points"
        )
        print(f"{run_id}: rebuilt in {result['seconds']:.0f} s; {same}")
    return 0


def _cmd_report(args) -> int:
    import time
    from pathlib import Path

    from core.story import report

    problem = _report_targets(Path(args.out), Path(args.pdf) if args.pdf else None)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    story = report.write_html(Path(args.out), args.run)
    size = Path(args.out).stat().st_size
    head = story.headline
    if head.get("test_accuracy") is not None:
        score = f"{100 * head['test_accuracy']:.2f} % on test (95 % interval {head['interval']})"
    elif head.get("validation_accuracy") is not None:
        score = f"{100 * head['validation_accuracy']:.2f} % on validation (a study run, never scored on test)"
    else:
        score = "no score"
    print(
        f"wrote {args.out} ({size / 1e6:.1f} MB, {len(story.slides)} slides) in {time.perf_counter() - started:.1f} s: "
        f"{head['run_id']} {score}"
    )
    if args.pdf:
        try:
            report.write_pdf(Path(args.out), Path(args.pdf))
        except RuntimeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_FAILED
        print(f"wrote {args.pdf} ({Path(args.pdf).stat().st_size / 1e6:.1f} MB)")
    return 0


def _report_targets(out: Path, pdf: Path | None) -> str | None:
    """Why the report cannot be written where asked (None when it can): --out names an .html file in a
    folder that exists, --pdf a .pdf file; nothing is written before this check passes."""
    if out.suffix.lower() not in (".html", ".htm"):
        hint = (
            f" (for a PDF: --out {out.with_suffix('.html').name} --pdf {out.name})"
            if out.suffix.lower() == ".pdf"
            else ""
        )
        return f"--out writes an HTML file: give a name ending in .html, not {out.name!r}{hint}"
    if pdf is not None and pdf.suffix.lower() != ".pdf":
        return f"--pdf writes a PDF file: give a name ending in .pdf, not {pdf.name!r}"
    for target in filter(None, [out, pdf]):
        path = target.expanduser()
        if path.is_dir():
            return f"{target} is a folder: give a file name inside it, e.g. {target / ('report.pdf' if target == pdf else 'report.html')}"
        if not path.resolve().parent.is_dir():
            return f"the folder {path.resolve().parent} does not exist; create it first or choose another place"
    return None


HANDLERS = {
    "compare": _cmd_compare,
    "ablate": _cmd_ablate,
    "report": _cmd_report,
    "reproduce": _cmd_reproduce,
    "rebuild": _cmd_rebuild,
}
