"""`run`: the study's missing jobs through `python -m inductive.run -m`, one Hydra sweep per dataset x size x seed.

Hydra does the running, so `hydra/launcher=joblib`, `submitit_slurm` or `ray` work as for any sweep. Each job's
folder is named by the job (never by a job number), so a cut job resumes from its backup whatever else has
finished since; `KeepJob`, a Hydra callback, keeps each finished job's tables the moment it ends and prints one
progress line. Only overrides of where data are and how jobs run are accepted: the design is the study file.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback

from inductive.errors import ConfigError
from inductive.study import spec, store
from inductive.study.spec import Job, Study
from inductive.training.record_schema import read_summary

# key=value overrides `run` passes on: where the data are and how jobs run, never what is trained
ALLOWED = ("data.path=", "data.tfds.", "data.cache_dir=", "hydra/launcher=", "hydra.launcher.", "trainer.verbose=",
           "trainer.threads=", "trainer.backup_every_s=")
PER_DATASET = ("data.path=", "data.tfds.")  # name one dataset's files: only with --dataset


def check_overrides(overrides: list[str], study: Study, dataset: str | None) -> None:
    for override in overrides:
        if not override.startswith(ALLOWED):
            raise ConfigError(f"{override}: a study run takes only overrides of where data are and how jobs run "
                              f"({', '.join(a.rstrip('=') for a in ALLOWED)}); its design is {study.path}")
        if override.startswith(PER_DATASET) and dataset is None and len(study.datasets) > 1:
            raise ConfigError(f"{override}: names one dataset's files, and {study.name} has {len(study.datasets)} "
                              f"datasets: add --dataset DATASET (one of {study.datasets})")


def registered_estimate(study: Study, dataset: str, train_size: int | None, model: str) -> float | None:
    """The seconds the study file registers for a job (cost.estimate_s[dataset][size][model]; `spec` checked its
    shape), else None."""
    value = (((study.cost.get("estimate_s") or {}).get(dataset) or {}).get(train_size) or {}).get(model)
    return None if value is None else float(value)


def estimates(study: Study, found: list[store.JobState]) -> dict[Job, float | None]:
    """Seconds per job: the median measured time of this study's done jobs alike (dataset, model, size), else the
    estimate registered in the file (cost.estimate_s[dataset][size][model]), else None (no estimate)."""
    measured: dict[tuple, list[float]] = defaultdict(list)
    for s in found:
        if s.state == "done" and s.seconds is not None:
            measured[(s.job.dataset, s.job.model, s.job.train_size)].append(s.seconds)
    out = {}
    for s in found:
        alike = measured.get((s.job.dataset, s.job.model, s.job.train_size))
        if alike:
            out[s.job] = statistics.median(alike)
            continue
        out[s.job] = registered_estimate(study, s.job.dataset, s.job.train_size, s.job.model)
    return out


def hours(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"


def time_left(study: Study, found: list[store.JobState]) -> str:
    guess = estimates(study, found)
    left = [s.job for s in found if s.state != "done"]
    known = [guess[j] for j in left if guess[j] is not None]
    unknown = len(left) - len(known)
    text = f"about {hours(sum(known))} left" if known else "time left unknown"
    return text + (f" ({unknown} jobs without an estimate)" if unknown and known else "")


def progress_line(study: Study, place: store.Place, job: Job, outcome: str, seconds: float | None) -> str:
    found = store.states(study, place)
    done = sum(s.state == "done" for s in found)
    took = f", {seconds:.0f} s" if seconds is not None else ""
    return (f"[{study.name}] {job.key} {outcome}{took}: {done} done / {len(found) - done} left, "
            f"{time_left(study, found)}")


class KeepJob(Callback):
    """Hydra callback, in the job's own process: keep the finished job's tables, print one progress line."""

    def __init__(self, study: str, results: str, output_root: str) -> None:
        self.study, self.results, self.output_root = study, results, output_root

    def on_job_end(self, config: Any, job_return: Any, **kwargs: Any) -> None:
        study = spec.load(self.study)
        place = store.Place.of(study, self.output_root, self.results)
        run_dir = Path(config.hydra.runtime.output_dir)
        job = next((j for j in study.jobs if place.run_dir(j).resolve() == run_dir.resolve()), None)
        if job is None:
            return
        summary, _ = read_summary(run_dir)
        kept = store.keep(place, job)
        seconds = summary.time.get("total_s") if summary is not None else None
        outcome = (summary.status if summary is not None else "ended without a record") + (", kept" if kept else "")
        print(progress_line(study, place, job, outcome, seconds), flush=True)


def groups(jobs: list[Job]) -> dict[tuple, list[Job]]:
    """Jobs by dataset x size x seed, in the study's order (datasets as listed, then seeds, then sizes)."""
    out: dict[tuple, list[Job]] = {}
    for job in jobs:
        out.setdefault((job.group, job.overrides), []).append(job)
    return out


def run(study: Study, place: store.Place, dataset: str | None, overrides: list[str], output_root: str) -> int:
    """Train every job not done (of one dataset, or all in order). Returns 0 when all of them are done."""
    found = store.states(study, place)
    todo = [s.job for s in found if s.state != "done" and (dataset is None or s.job.dataset == dataset)]
    done = len(found) - sum(s.state != "done" for s in found)
    print(f"[{study.name}] {done} done / {len(found) - done} left ({len(todo)} to run now), "
          f"{time_left(study, found)}", flush=True)
    for (group, fixed), jobs in groups(todo).items():
        for job in jobs:  # anything a killed job process left finished but not kept
            store.keep(place, job)
        jobs = [j for j in jobs if store.state_of(place, j).state != "done"]
        if not jobs:
            continue
        first = jobs[0]
        command = [sys.executable, "-m", "inductive.run", "-m",
                   *[o for o in spec.job_overrides(study, first) if not o.startswith("model=")],
                   "model=" + ",".join(j.model for j in jobs),
                   f"output_root={output_root}",
                   f"hydra.sweep.dir={place.sweep_dir(first)}", "hydra.sweep.subdir=${model.name}",
                   "+hydra.callbacks.study_keep._target_=inductive.study.runner.KeepJob",
                   f"+hydra.callbacks.study_keep.study={study.path.resolve()}",
                   f"+hydra.callbacks.study_keep.results={place.results.resolve()}",
                   f"+hydra.callbacks.study_keep.output_root={Path(output_root).resolve()}",
                   *overrides]
        result = subprocess.run(command, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        for job in jobs:
            store.keep(place, job)
        if result.returncode == 2:
            print(f"[{study.name}] the sweep for {first.dataset} n={first.train_size} seed {first.seed} refused its "
                  "input (above): stopping", file=sys.stderr)
            return 2
    after = store.states(study, place)
    left = [s for s in after if s.state != "done" and (dataset is None or s.job.dataset == dataset)]
    failed = [s for s in left if s.state == "failed"]
    if left:
        print(f"[{study.name}] {len(left)} jobs not done ({len(failed)} failed): "
              f"`python -m inductive.study status {study.name}` lists them; run again to retry", file=sys.stderr)
        return 1
    print(f"[{study.name}] every job{'' if dataset is None else ' of ' + dataset} done: "
          f"python -m inductive.study read {study.name}")
    return 0
