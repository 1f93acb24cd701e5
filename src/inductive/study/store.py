"""Where a study's runs and kept tables live, and what state each job is in.

Two roots, both relative to the working directory unless absolute:
- runs: `OUTPUT_ROOT/studies/NAME/DATASET_nSIZE_seedS/MODEL`, Hydra run folders (not committed; a cut run resumes
  from its backup there);
- kept: `RESULTS/kept/DATASET/nSIZE_seedS/MODEL/`, a finished job's four tidy tables (`evidence.tables.export`),
  committed, so that a study longer than one session goes on from them on another machine.
A job is `done` once its tables are kept, and is never trained again. Reading needs only the kept tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from inductive.study.spec import Job, Study
from inductive.training.record_schema import read_summary

FINISHED = ("completed", "diverged")  # outcomes a study keeps; a failed job is retried by the next `run`
STATES = ("done", "started", "failed", "missing")


@dataclass(frozen=True)
class Place:
    """A study's two roots."""

    runs: Path
    kept: Path
    results: Path

    @classmethod
    def of(cls, study: Study, output_root: str | Path = "outputs", results: str | Path | None = None) -> Place:
        results = Path(results or study.results or f"results/studies/{study.name}")
        return cls(Path(output_root) / "studies" / study.name, results / "kept", results)

    def sweep_dir(self, job: Job) -> Path:
        size = job.train_size if job.train_size is not None else "all"
        return self.runs / f"{job.dataset}_n{size}_seed{job.seed}"

    def run_dir(self, job: Job) -> Path:
        return self.sweep_dir(job) / job.model

    def kept_dir(self, job: Job) -> Path:
        return self.kept / job.key


@dataclass(frozen=True)
class JobState:
    job: Job
    state: str          # one of STATES
    error: str = ""     # a failed job's error line
    seconds: float | None = None  # a done job's measured time


def kept_seconds(kept_dir: Path) -> float | None:
    try:
        runs = pd.read_csv(kept_dir / "runs.csv", usecols=lambda c: c == "time_total_s")
        return float(runs["time_total_s"].iloc[0])
    except (OSError, ValueError, KeyError, IndexError):
        return None


def state_of(place: Place, job: Job) -> JobState:
    kept = place.kept_dir(job)
    if (kept / "runs.csv").is_file():
        return JobState(job, "done", seconds=kept_seconds(kept))
    run_dir = place.run_dir(job)
    summary, _ = read_summary(run_dir)  # None: none yet, or not a record (a cut write): started either way
    if summary is not None and summary.status == "failed":
        error = str(summary.error or "no error recorded").splitlines()[0]
        return JobState(job, "failed", error=error)
    if summary is not None or (run_dir / ".hydra").is_dir():
        return JobState(job, "started")  # running now, or cut: `run` resumes it from its backup
    return JobState(job, "missing")


def states(study: Study, place: Place) -> list[JobState]:
    return [state_of(place, job) for job in study.jobs]


def keep(place: Place, job: Job) -> bool:
    """Export a finished job's tables to its kept folder; False when it has not finished (or is kept already)."""
    from inductive.evidence.tables import export

    kept, run_dir = place.kept_dir(job), place.run_dir(job)
    if (kept / "runs.csv").is_file():
        return False
    summary, _ = read_summary(run_dir)
    if summary is None or summary.status not in FINISHED:
        return False
    kept.parent.mkdir(parents=True, exist_ok=True)
    export([run_dir], kept)
    return True
