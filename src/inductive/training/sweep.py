"""What a sweep prints when its last job ends: one table of every job, and the report command for it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from inductive.training.record import find_run_dirs, read_summary

SWEEP_TABLE = "sweep_summary.csv"


def job_row(run_dir: Path) -> dict[str, Any]:
    try:
        summary = read_summary(run_dir)
    except (OSError, ValueError):
        summary = None
    if not isinstance(summary, dict):
        return {"job": run_dir.name, "status": "incomplete (no summary.json)"}
    final, test = summary.get("final") or {}, summary.get("test") or {}
    train = final.get("train_eval_accuracy", final.get("train_accuracy"))
    return {"job": run_dir.name, "status": summary.get("status"), "model": summary.get("model"),
            "seed": summary.get("seed"), "params": (summary.get("params") or {}).get("trainable"),
            "stop": (summary.get("stop") or {}).get("reason"), "epochs": summary.get("epochs_run"),
            "train_acc": train, "val_acc": final.get("val_accuracy"), "test_acc": test.get("accuracy"),
            "gap": None if train is None or test.get("accuracy") is None else train - test["accuracy"],
            "time_s": (summary.get("time") or {}).get("total_s")}


def sweep_table(sweep_dir: Path) -> pd.DataFrame:
    """One row per job folder below `sweep_dir` (train_acc is eval-mode where recorded; gap = train - test)."""
    rows = [job_row(d) for d in find_run_dirs([sweep_dir]) if d != sweep_dir]
    table = pd.DataFrame(rows)
    if "job" in table:
        order = table["job"].str.extract(r"^(\d+)_", expand=False).astype(float)
        table = table.assign(_n=order).sort_values("_n", kind="stable").drop(columns="_n").reset_index(drop=True)
    return table


class SweepSummary(Callback):
    """Hydra callback: at the end of a sweep, print every job's row, save it, and say how to build the report."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        if not sweep_dir.is_dir():
            return
        table = sweep_table(sweep_dir)
        table.to_csv(sweep_dir / SWEEP_TABLE, index=False)
        print("\n" + table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        print(f"\nevery job: {sweep_dir / SWEEP_TABLE}\nclaims report: python -m inductive.report {sweep_dir}")
