"""A study's cost: its measured job times beside its registered estimate and its compute floor, per dataset and
training-set size, and where a job's time goes outside training.

Never trains. Each done job's wall time comes from its kept tables (`results/.../kept/`, committed, so every job
counts on any machine: `time_total_s` of its runs.csv), and is summed per dataset, size and the CPU that ran it
(runs.csv's `cpu`; "not recorded" for jobs kept before 2026-12-08): a study's sessions can land on different
machines, and a sum across them would time none of them. Where its run folder is still there
(`outputs/studies/NAME/...`; `runs=DIR` for another output root), the job is also split into parts, from its own
records:
- `epochs_s`: the epochs' wall time as Keras ran them (training and the validation pass; history.csv epoch_time_s);
- `callbacks_s`: the rest of the training phase (time.train_s - epochs_s): the epoch-end callbacks, chiefly the
  eval-mode pass over the training set, then the backup;
- `after_s`: everything after training (time.total_s - train_s - load_s): the test set, the shifted test sets and
  writing the records;
- `load_s`: loading and splitting the data.
A job resumed after a cut is listed but not split: its records time only the last process (its kept wall time too,
so the sums under-count it; such jobs are named). The shares and the ratio to the floor are over the jobs split.
The registered estimate is the study file's `cost.estimate_s` for each finished job; a miss is (measured -
estimate) / estimate. The floor is the jobs' FLOPs at this machine's measured matrix-multiply peak in the jobs'
precision, for the jobs that ran on this machine's CPU (`evidence.py`'s count: training 3x forward, validation,
eval-mode train sample, test, shifted test).

    python benchmarks/study_cost.py NAME [runs=outputs/studies/NAME] [floor=true]

The jobs' times are as they ran (a study runs niced, often beside other work): say the load when quoting them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from inductive.study import runner, spec, store
from inductive.training.precision import cpu_name
from inductive.training.record import find_run_dirs
from inductive.training.record_schema import read_summary

PARTS = ("load_s", "epochs_s", "callbacks_s", "after_s")
NOT_RECORDED = "not recorded"


def job_times(run_dir: Path) -> dict | None:
    """One finished job's wall time, split into `PARTS` (None for a job that has not finished)."""
    summary, _ = read_summary(run_dir)
    if summary is None or summary.status not in store.FINISHED:
        return None
    history = pd.read_csv(run_dir / "history.csv")  # Keras's log: the epoch clock is there only
    time, epochs = summary.time, float(history["epoch_time_s"].sum())
    if summary.resumed:  # its times are the last process's, its history every process's epochs: not timed whole
        return {"dataset": summary.dataset, "train_size": summary.data.train_size, "model": summary.model,
                "seed": summary.seed, "precision": summary.device.precision, "epochs": len(history),
                "resumed": True, "run_dir": run_dir}
    return {"resumed": False, "dataset": summary.dataset, "train_size": summary.data.train_size, "model": summary.model,
            "seed": summary.seed, "precision": summary.device.precision, "cpu": summary.device.cpu,
            "epochs": len(history),
            "total_s": time["total_s"], "load_s": time["load_s"], "epochs_s": epochs,
            "callbacks_s": time["train_s"] - epochs, "after_s": time["total_s"] - time["train_s"] - time["load_s"],
            "run_dir": run_dir}


def kept_record(kept_dir: Path) -> tuple[str, bool]:
    """The CPU that ran a kept job and whether it was resumed (its time then covers the last process only), as its
    runs.csv records them: "not recorded" and False for jobs kept before runs recorded either."""
    try:
        runs = pd.read_csv(kept_dir / "runs.csv", usecols=lambda c: c in ("cpu", "resumed"))
    except (OSError, ValueError):
        return NOT_RECORDED, False
    cpu = runs["cpu"].dropna() if "cpu" in runs else pd.Series(dtype=object)
    return (cpu.iloc[0] if len(cpu) else NOT_RECORDED), bool("resumed" in runs and runs["resumed"].eq(True).any())


def kept_times(study: spec.Study) -> pd.DataFrame:
    """Every done job with its wall time, the CPU that ran it and whether it was resumed, from its kept runs.csv."""
    place, rows = store.Place.of(study), []
    for state in store.states(study, place):
        if state.state == "done":
            job = state.job
            cpu, resumed = kept_record(place.kept_dir(job))
            rows.append({"dataset": job.dataset, "train_size": job.train_size, "cpu": cpu, "model": job.model,
                         "seed": job.seed, "wall_s": state.seconds, "resumed": resumed})
    return pd.DataFrame(rows, columns=["dataset", "train_size", "cpu", "model", "seed", "wall_s", "resumed"])


def registered(study: spec.Study, row: pd.Series) -> float | None:
    size = None if pd.isna(row["train_size"]) else int(row["train_size"])
    return runner.registered_estimate(study, row["dataset"], size, row["model"])


def floors(jobs: pd.DataFrame) -> pd.Series:
    """Each job's compute floor in seconds (imports TensorFlow: the models are built to count their FLOPs)."""
    mine = cpu_name()  # the peak is this machine's: a job another CPU ran has no floor here
    here = jobs["cpu"].isna() if mine is None else jobs["cpu"] == mine  # None: no model name here, nor recorded
    if not here.any():
        return pd.Series(float("nan"), index=jobs.index)
    from inductive import quiet

    with quiet.start_up_lines():  # TensorFlow's C++ start-up notices stay off the terminal
        import tensorflow as tf

    from evidence import job_work  # benchmarks/ is on the path when run as a script
    from throughput import matmul_peak_gflops

    policy = jobs.loc[here, "precision"].mode().iloc[0]
    peak = matmul_peak_gflops(tf.bfloat16 if "bfloat16" in policy else tf.float32) * 1e9
    work = [job_work(d) if mine else None for d, mine in zip(jobs["run_dir"], here)]  # None: diverged, or not here
    return pd.Series([sum(v for k, v in w.items() if k not in ("job", "model", "precision", "time_s")) / peak
                      if w else float("nan") for w in work], index=jobs.index)


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    name, options = argv[0], dict(a.partition("=")[::2] for a in argv[1:])
    study = spec.load(name)
    runs = Path(options.get("runs") or store.Place.of(study).runs)
    kept = kept_times(study)
    if kept.empty:
        print(f"{name}: no job is kept yet")
        return 1
    kept["estimate_s"] = kept.apply(lambda row: registered(study, row), axis=1)
    keys = ["dataset", "train_size", "model", "seed"]
    done = {tuple(row) for row in kept[keys].itertuples(index=False)}
    run_dirs = find_run_dirs([runs]) if runs.is_dir() else []  # none on a machine the study has not run on
    jobs = pd.DataFrame([t for d in run_dirs if (t := job_times(d))
                         and (t["dataset"], t["train_size"], t["model"], t["seed"]) in done],  # this study's only
                        columns=[*keys, "resumed", "precision", "cpu", "epochs", "total_s", *PARTS, "run_dir"])
    resumed, jobs = jobs[jobs["resumed"].eq(True)], jobs[jobs["resumed"].eq(False)]
    if not jobs.empty and options.get("floor", "true") == "true":
        jobs["floor_s"] = floors(jobs)
    cells = kept.groupby(["dataset", "train_size", "cpu"])
    table = cells[["wall_s", "estimate_s"]].sum(min_count=1)
    table.insert(0, "jobs", cells.size())
    table.insert(1, "resumed", cells["resumed"].sum())  # their wall times cover the last process only
    table["miss"] = (table["wall_s"] - table["estimate_s"]) / table["estimate_s"]
    if not jobs.empty:
        jobs["cpu"] = jobs["cpu"].fillna(NOT_RECORDED)
        split = jobs.groupby(["dataset", "train_size", "cpu"])
        parts = split[["total_s", *PARTS, *(["floor_s"] if "floor_s" in jobs else [])]].sum(min_count=1)
        table["split"] = split.size()
        for part in ("callbacks_s", "after_s"):
            table[part.replace("_s", "_share")] = parts[part] / parts["total_s"]
        if "floor_s" in parts:
            table["over_floor"] = parts["total_s"] / parts["floor_s"]
    print(f"{name}: kept jobs' wall time summed per dataset, size and CPU (seconds as the jobs ran); shares and "
          f"ratio to the floor over the `split` jobs whose run folders are under {runs} (floor: jobs on this "
          f"machine's CPU, {cpu_name()})")
    print(table.to_string(float_format=lambda v: f"{v:.3g}"))
    if not resumed.empty:
        print("\nnot timed whole (resumed after a cut, so their times cover the last process only): "
              + ", ".join(f"{r.dataset} n{r.train_size} {r.model} seed {r.seed}" for r in resumed.itertuples()))
    if not jobs.empty:
        print("\nper job split")
        shown = ["dataset", "train_size", "model", "seed", "epochs", "total_s", *PARTS]
        print(jobs[shown].to_string(index=False, float_format=lambda v: f"{v:.1f}"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
