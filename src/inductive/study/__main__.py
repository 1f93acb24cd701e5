"""`python -m inductive.study {plan,run,status,read} NAME`: a pre-registered study, from its file to its report.

  plan NAME     the jobs (count and list), which are done, and the cost estimate (before anything runs)
  run NAME      train the missing jobs through Hydra (resumable: run it again after any stop)
  status NAME   done / started / failed / missing per dataset and training size; failed jobs with their error
  read NAME     the claims report at the registered alpha, over every dataset whose grid is whole (--peek: partial)
  record        results/reference/README.md from its template: the verdicts of record of the studies kept there

NAME is a file in configs/study/ (without .yaml) or a path to a study file. Bad input exits 2 with one line
naming the key or file, and nothing is written.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

from inductive.errors import ConfigError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m inductive.study", description=__doc__.split("\n\n")[0],
                                     epilog="Ask your own question: write configs/study/NAME.yaml (a 12-line example "
                                            "is in docs/researchers/studies.md), then plan, run, read.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{plan,run,status,read,record}")

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("study", metavar="NAME", help="configs/study/NAME.yaml, or a path to a study file")
        sub.add_argument("--results", default=None,
                         help="where kept tables and reports go (default: the file's `results`, else results/studies/NAME)")
        sub.add_argument("--output-root", default="outputs", help="where run folders go (default: outputs)")
        return sub

    add("plan", "List the study's jobs, which are done, and the cost estimate; trains nothing.")
    run = add("run", "Train the study's missing jobs through Hydra; run it again to resume after any stop.")
    run.add_argument("--dataset", default=None, help="run only this dataset's jobs (needed with data.path=)")
    run.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                     help="where data are and how jobs run only: data.path=, data.tfds.*, data.cache_dir=, "
                          "hydra/launcher=, hydra.launcher.*, trainer.verbose=, trainer.threads=, trainer.backup_every_s=")
    add("status", "Done / started / failed / missing jobs per dataset and training size.")
    read = add("read", "Write the study's claims report; refused until a dataset's grid is whole.")
    read.add_argument("--peek", action="store_true", help="read a partial study (every output stamped not of record)")
    record = commands.add_parser("record", help="Write a results folder's README from its template and the studies "
                                 "kept there.", description="Write a results folder's README from its template: the "
                                 "verdicts of record (by the studies' record and replaces keys), each study's verdicts "
                                 "and jobs, every number from the saved tables.")
    record.add_argument("--template", default="results/reference/README.template.md",
                        help="the template (default: results/reference/README.template.md); README.md is written "
                             "beside it")
    record.add_argument("--readme", default="README.md",
                        help="also rewrite the verdicts between this file's <!-- verdicts --> and <!-- end verdicts --> "
                             "lines (default: README.md; skipped where it has no such lines)")
    return parser


def _size(size: int | None) -> str:
    return "all" if size is None else f"{size:,}"


def plan(study, place) -> int:
    from inductive.study import runner, store

    found = store.states(study, place)
    guess = runner.estimates(study, found)
    done = [s for s in found if s.state == "done"]
    print(f"study {study.name}: {study.question}")
    print(f"{len(found)} jobs ({len(done)} done, {len(found) - len(done)} to run): {len(study.datasets)} datasets x "
          f"{len(study.train_sizes)} sizes x {len(study.seeds)} seeds x models {', '.join(study.models)}"
          + (" (some skipped: grid.skip)" if len(found) < len(study.datasets) * len(study.train_sizes)
             * len(study.seeds) * len(study.models) else ""))
    print(f"kept tables: {place.kept}\nrun folders: {place.runs}\n")
    groups = runner.groups([s.job for s in found])
    by_job = {s.job: s for s in found}
    for (group, _), jobs in groups.items():
        dataset, size, seed = group
        cells = []
        for job in jobs:
            s, est = by_job[job], guess[job]
            cells.append(f"{job.model} {s.state}" + (f" ({s.seconds:.0f} s)" if s.seconds is not None else
                                                      f" (~{est:.0f} s)" if est is not None else ""))
        print(f"  {dataset} n={_size(size)} seed {seed}: " + ", ".join(cells))
    print()
    for dataset in study.datasets:
        left = [s.job for s in found if s.job.dataset == dataset and s.state != "done"]
        known = [guess[j] for j in left if guess[j] is not None]
        unknown = len(left) - len(known)
        text = f"about {runner.hours(sum(known))} of job time" if known else "no estimate"
        print(f"cost left, {dataset}: {len(left)} jobs, {text}"
              + (f" ({unknown} jobs without a measured time: no finished job alike and no estimate in the file)"
                 if unknown else ""))
    print(f"in all: {runner.time_left(study, found)} (estimates: median measured time of this study's finished "
          "jobs alike, else the file's cost.estimate_s)")
    return 0


def status(study, place) -> int:
    from inductive.study import store

    found = store.states(study, place)
    print(f"study {study.name}: {sum(s.state == 'done' for s in found)} of {len(found)} jobs done")
    for dataset in study.datasets:
        for size in study.train_sizes:
            mine = [s for s in found if s.job.dataset == dataset and s.job.train_size == size]
            if not mine:
                continue
            counts = Counter(s.state for s in mine)
            print(f"  {dataset} n={_size(size)}: " + ", ".join(f"{counts.get(k, 0)} {k}" for k in store.STATES))
            for s in mine:
                if s.state == "failed":
                    print(f"    failed {s.job.key}: {s.error}")
                elif s.state == "started":
                    print(f"    started {s.job.key} (running, or cut: `run` resumes it)")
    return 0


def _parse(argv: list[str]) -> argparse.Namespace:
    """The arguments, with `run`'s KEY=VALUE overrides taken wherever they stand: argparse fills NAME and the
    overrides from the first run of positionals, so in `run NAME --dataset D data.path=DIR` (the order the study
    files' commands use) it would refuse `data.path=DIR` as unrecognized (intermixed parsing refuses subcommands)."""
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if args.command == "run":
        args.overrides += [item for item in extra if not item.startswith("-")]
        extra = [item for item in extra if item.startswith("-") and item != "--"]
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    from inductive.evidence.tables import ReportError
    from inductive.study import spec, store

    try:
        if args.command == "record":
            from pathlib import Path

            from inductive.study import record

            print(f"wrote {record.write(Path(args.template))}")
            if record.update_readme(Path(args.readme), Path(args.template)):
                print(f"wrote the verdicts of record in {args.readme}")
            return 0
        if args.command in ("run", "read"):  # the folders they write, checked before anything is read
            from inductive.arguments import output_path

            if args.results is not None:
                output_path("--results", args.results, "folder", may_hold="the study's kept tables and reports")
            if args.command == "run":
                output_path("--output-root", args.output_root, "folder", may_hold="run folders")
        study = spec.load(args.study)
        if args.command == "run":  # the run's own arguments first: they take no composing of configs
            from inductive.study import runner

            if args.dataset is not None and args.dataset not in study.datasets:
                raise ConfigError(f"--dataset {args.dataset}: not in the study: use one of {study.datasets}")
            runner.check_overrides(args.overrides, study, args.dataset)
        if args.command in ("plan", "run"):
            spec.check_jobs(study, [o for o in getattr(args, "overrides", None) or [] if not o.startswith("hydra")])
        place = store.Place.of(study, args.output_root, args.results)
        if args.command == "plan":
            return plan(study, place)
        if args.command == "status":
            return status(study, place)
        if args.command == "run":
            return runner.run(study, place, args.dataset, args.overrides, args.output_root)
        from inductive.study import reading

        path = reading.read(study, place, peek=args.peek)
        print(f"report: {path}\nreport: {path.with_name('report.html')}")
        return 0
    except (ConfigError, ReportError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
