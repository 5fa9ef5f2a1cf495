"""The CLI's `race` command: architectures raced at equal training time on this machine
(core.race). `core.cli` adds the parser and dispatches.

    python -m core race time --out timing.json            # the quiet timing (nothing else running)
    python -m core race start --name ref-race --models cnn64,resnet20,mobilenet \
        --budgets 150,600,1800 --seeds 2 [--timing timing.json]
    python -m core race resume ref-race | show ref-race [--json] | stop ref-race | list
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

EXIT_FAILED = 1
BUSY_LOAD = 0.7  # a one-minute load average above this is not a quiet machine


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, indent=None, separators=(",", ":")), flush=True)


def add_parsers(sub, parser_class) -> None:
    from core.race import study

    race = sub.add_parser(
        "race",
        help="race architectures at equal training time on this machine (time, start, resume, show …)",
        description="Which architecture is most accurate after the same seconds of training here? Judged on "
        "the validation split only.",
    )
    race_sub = race.add_subparsers(dest="race_command", parser_class=parser_class, required=True)
    timing = race_sub.add_parser("time", help="measure each architecture's seconds per epoch (on a quiet machine)")
    timing.add_argument("--models", default=",".join(study.DEFAULT_ENTRANTS))
    timing.add_argument("--rounds", type=int, default=3)
    timing.add_argument("--steps", type=int, default=20)
    timing.add_argument("--out", required=True, help="where to write the timing (JSON)")
    start = race_sub.add_parser("start", help="plan the epochs from a timing and train every run")
    start.add_argument("--name", required=True)
    start.add_argument("--models", default=",".join(study.DEFAULT_ENTRANTS), help="architectures, comma-separated")
    start.add_argument("--budgets", default=",".join(map(str, study.DEFAULT_BUDGETS)), help="seconds, e.g. 150,600")
    start.add_argument("--seeds", type=int, default=2)
    start.add_argument("--timing", help="a timing file (race time --out); default: measure now")
    start.add_argument("--plan-only", action="store_true", help="write the plan and train nothing")
    start.add_argument("--queue", action="store_true", help="one Celery task per run (needs REDIS_URL and workers)")
    for verb, text in (
        ("resume", "train the race's unfinished runs (finished ones are kept)"),
        ("show", "validation accuracy per architecture and budget, with paired verdicts"),
        ("stop", "start no new run of a race (the current one finishes)"),
        ("work", "train one unfinished run (what a Celery worker does)"),
    ):
        p = race_sub.add_parser(verb, help=text)
        p.add_argument("race")
        if verb == "show":
            p.add_argument("--json", action="store_true")
        if verb == "work":
            p.add_argument("--parent-pid", type=int)
        if verb == "resume":
            p.add_argument("--queue", action="store_true", help="one Celery task per unfinished run (REDIS_URL)")
            p.add_argument("--only", help="only these architectures' runs, comma-separated (the contenders first)")
    listing = race_sub.add_parser("list", help="every race: architectures, budgets, runs done")
    listing.add_argument("--json", action="store_true")


def _models(text: str) -> list[str]:
    return [m.strip() for m in str(text).split(",") if m.strip()]


def _measure(models: list[str], rounds: int, steps: int, log) -> dict[str, Any]:
    from core.models.rules import ConfigError
    from core.race import timing

    if not 1 <= rounds <= 10 or not 5 <= steps <= 200:
        raise ConfigError("rounds are 1 to 10 and steps 5 to 200")
    load = os.getloadavg()[0]
    if load > BUSY_LOAD:
        log(f"warning: the load average is {load:.2f}; seconds measured beside other work are not quiet")
    return timing.measure(models, rounds=rounds, steps=steps, log=log)


def _train(name: str, queued: bool, log, only: list[str] | None = None) -> int:
    from core.models.rules import ConfigError
    from core.race import study

    if not queued:
        study.run(name, log=log, only=only)
        return 0
    if only:
        raise ConfigError("--only trains locally; leave out --queue")
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        raise ConfigError("--queue needs REDIS_URL (a Redis server) and Celery workers (see the README)")
    log(f"queued {study.queue(name, redis_url)} run(s) of race {name} for the Celery workers")
    return 0


def _cmd_race(args) -> int:
    from core.race import plan, results, study

    log = lambda line: print(line, flush=True)  # noqa: E731
    command = args.race_command
    if command == "time":
        measured = _measure(_models(args.models), args.rounds, args.steps, log)
        Path(args.out).write_text(json.dumps(measured, indent=1) + "\n")
        for key, row in measured["entrants"].items():
            log(f"{key}: {row[row['chosen']]['epoch_seconds']:.1f} s an epoch in {row['chosen']}")
        return 0
    if command == "start":
        budgets = plan.parse_budgets(args.budgets)
        models = _models(args.models)
        for key in models:
            plan.entrant(key)
        timing = study.read_timing(args.timing) if args.timing else _measure(models, 3, 20, log)
        race = study.create(args.name, models, budgets, args.seeds, timing, mode="queued" if args.queue else "local")
        for budget in race.budgets:
            cells = ", ".join(f"{k} {race.cell(budget, k)['epochs']} epochs" for k in race.entrants)
            log(f"{budget} s: {cells}")
        if args.plan_only:
            return 0
        return _train(race.name, args.queue, log)
    if command == "resume":
        return _train(args.race, args.queue, log, _models(args.only) if args.only else None)
    if command == "stop":
        ok = study.request_stop(args.race)
        print(f"stop requested for {args.race}" if ok else f"{args.race} is not running")
        return 0 if ok else EXIT_FAILED
    if command == "work":
        print(f"race {args.race}: {study.work_one(args.race, log=log, parent_pid=args.parent_pid)}", flush=True)
        return 0
    if command == "list":
        rows = study.list_races()
        if args.json:
            _print_json(rows)
            return 0
        for r in rows:
            state = "running" if r["running"] else "idle"
            print(f"{r['race']:<28} {','.join(r['entrants']):<36} {r['runs_done']:>3}/{r['runs_total']:<3} {state}")
        return 0
    result = results.summary(args.race)
    if args.json:
        _print_json(result)
        return 0
    results.print_table(result)
    return 0


HANDLERS = {"race": _cmd_race}
