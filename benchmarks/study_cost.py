"""A study's cost: its measured job times beside its registered estimate and its compute floor, per dataset and
training-set size, and where a job's time goes outside training.

Never trains. Each done job's wall time comes from its kept tables (`results/.../kept/`, committed, so every job
counts on any machine: `time_total_s` of its runs.csv). Where its run folder is still there
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
precision (`evidence.py`'s count: training 3x forward, validation, eval-mode train sample, test, shifted test).

    python benchmarks/study_cost.py NAME [runs=outputs/studies/NAME] [floor=true]

The jobs' times are as they ran (a study runs niced, often beside other work): say the load when quoting them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from inductive.study import runner, spec, store
from inductive.training.record import find_run_dirs
from inductive.training.record_schema import read_summary

PARTS = ("load_s", "epochs_s", "callbacks_s", "after_s")


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
            "seed": summary.seed, "precision": summary.device.precision, "epochs": len(history),
            "total_s": time["total_s"], "load_s": time["load_s"], "epochs_s": epochs,
            "callbacks_s": time["train_s"] - epochs, "after_s": time["total_s"] - time["train_s"] - time["load_s"],
            "run_dir": run_dir}


def kept_times(study: spec.Study) -> pd.DataFrame:
    """Every done job with its wall time as its kept runs.csv records it."""
    rows = [{"dataset": s.job.dataset, "train_size": s.job.train_size, "model": s.job.model, "seed": s.job.seed,
             "wall_s": s.seconds} for s in store.states(study, store.Place.of(study)) if s.state == "done"]
    return pd.DataFrame(rows, columns=["dataset", "train_size", "model", "seed", "wall_s"])


def registered(study: spec.Study, row: pd.Series) -> float | None:
    size = None if pd.isna(row["train_size"]) else int(row["train_size"])
    return runner.registered_estimate(study, row["dataset"], size, row["model"])


def floors(jobs: pd.DataFrame) -> pd.Series:
    """Each job's compute floor in seconds (imports TensorFlow: the models are built to count their FLOPs)."""
    from inductive import quiet

    with quiet.start_up_lines():  # TensorFlow's C++ start-up notices stay off the terminal
        import tensorflow as tf

    from evidence import job_work  # benchmarks/ is on the path when run as a script
    from throughput import matmul_peak_gflops

    policy = jobs["precision"].mode().iloc[0]
    peak = matmul_peak_gflops(tf.bfloat16 if "bfloat16" in policy else tf.float32) * 1e9
    work = [job_work(d) for d in jobs["run_dir"]]  # None for a diverged job: its work is not counted
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
    jobs = pd.DataFrame([t for d in find_run_dirs([runs]) if (t := job_times(d))
                         and (t["dataset"], t["train_size"], t["model"], t["seed"]) in done])  # this study's only
    resumed = jobs[jobs["resumed"].astype(bool)] if not jobs.empty else jobs
    jobs = jobs[~jobs["resumed"].astype(bool)] if not jobs.empty else jobs
    if not jobs.empty and options.get("floor", "true") == "true":
        jobs["floor_s"] = floors(jobs)
    cells = kept.groupby(["dataset", "train_size"])
    table = cells[["wall_s", "estimate_s"]].sum(min_count=1)
    table.insert(0, "jobs", cells.size())
    table["miss"] = (table["wall_s"] - table["estimate_s"]) / table["estimate_s"]
    if not jobs.empty:
        split = jobs.groupby(["dataset", "train_size"])
        parts = split[["total_s", *PARTS, *(["floor_s"] if "floor_s" in jobs else [])]].sum(min_count=1)
        table["split"] = split.size()
        for part in ("callbacks_s", "after_s"):
            table[part.replace("_s", "_share")] = parts[part] / parts["total_s"]
        if "floor_s" in parts:
            table["over_floor"] = parts["total_s"] / parts["floor_s"]
    print(f"{name}: kept jobs' wall time summed per dataset and size (seconds as the jobs ran); shares and ratio "
          f"to the floor over the `split` jobs whose run folders are under {runs}")
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
