"""What a sweep prints when its last job ends: one table of every job (those that never started too), the
report command for it, and a non-zero exit when any job did not finish."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from inductive.training.record import find_run_dirs
from inductive.training.record_schema import read_summary

SWEEP_TABLE = "sweep_summary.csv"
MULTIRUN = "multirun.yaml"  # Hydra writes it when a sweep starts, before any job
FINISHED = ("completed", "diverged")


def basic_sweep_jobs(config: DictConfig) -> list[list[str]] | None:
    """Each job's overrides, in the order Hydra's basic sweeper runs them; None for other sweepers, which
    choose values as they go.

    As the basic sweeper does (with Hydra's public override parser): one list of `key=value` per key, in the
    order the keys first appear (sweeper params, then the command line; a later value of a key replaces an
    earlier one in its place), and the jobs are their product, the last key varying fastest."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    if "basic_sweeper" not in str(config.hydra.sweeper.get("_target_", "")):
        return None
    params = [f"{key}={value}" for key, value in (config.hydra.sweeper.get("params") or {}).items()]
    choices: dict[str, list[str]] = {}
    for override in OverridesParser.create().parse_overrides([*params, *config.hydra.overrides.task]):
        key = override.get_key_element()
        if not override.is_sweep_override():
            choices[key] = [f"{key}={override.get_value_element_as_str()}"]
        elif override.is_discrete_sweep():
            choices[key] = [f"{key}={value}" for value in override.sweep_string_iterator()]
        else:
            raise ValueError(f"{key}: the basic sweeper sweeps lists and ranges only, not {override.value_type.name}")
    return [list(job) for job in itertools.product(*choices.values())]


def planned_jobs(sweep_dir: Path) -> list[frozenset[str]] | None:
    """Each job's overrides as the sweep's multirun.yaml plans them; None when unknown."""
    try:
        jobs = basic_sweep_jobs(OmegaConf.load(sweep_dir / MULTIRUN))
    except Exception:  # no or unreadable multirun.yaml: the sweep's plan is not known
        return None
    return None if jobs is None else [frozenset(job) for job in jobs]


def job_overrides(run_dir: Path) -> frozenset[str] | None:
    try:
        return frozenset(yaml.safe_load((run_dir / ".hydra" / "overrides.yaml").read_text()) or [])
    except (OSError, yaml.YAMLError, TypeError):
        return None


def never_started(sweep_dir: Path, run_dirs: list[Path]) -> list[str]:
    """The planned jobs with no folder, each as its overrides (a sweep killed before reaching them)."""
    plan = planned_jobs(sweep_dir)
    if plan is None:
        return []
    seen = {job_overrides(d) for d in run_dirs}
    return [" ".join(sorted(job)) for job in plan if job not in seen]


def job_row(run_dir: Path) -> dict[str, Any]:
    summary, problem = read_summary(run_dir)
    if summary is None:
        return {"job": run_dir.name, "status": "incomplete", "error": problem}
    final, test = summary.final, summary.test.get("accuracy")
    train = final.train_accuracy if final is not None else None
    return {"job": run_dir.name, "status": summary.status, "model": summary.model, "seed": summary.seed,
            "params": summary.params.trainable, "stop": summary.stop.reason, "epochs": summary.epochs_run,
            "train_accuracy": train, "val_accuracy": final.val_accuracy if final is not None else None,
            "test_accuracy": test, "test_gap": None if train is None or test is None else train - test,
            "time_s": summary.time.get("total_s")}


def sweep_table(sweep_dir: Path) -> pd.DataFrame:
    """One row per job folder below `sweep_dir`; metrics named as everywhere (`metric_names`: train_accuracy is the
    eval-mode one, test_gap = train_accuracy - test_accuracy)."""
    run_dirs = [d for d in find_run_dirs([sweep_dir]) if d != sweep_dir]
    rows = [job_row(d) for d in run_dirs]
    rows += [{"job": f"({overrides})", "status": "not started"} for overrides in never_started(sweep_dir, run_dirs)]
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
        unfinished = table[~table["status"].isin(FINISHED)] if "status" in table else table
        if len(unfinished):
            print(f"\n{len(unfinished)} of {len(table)} jobs did not finish ({', '.join(sorted(set(unfinished.status)))}); "
                  "run the same command again to retry them", file=sys.stderr)
            sys.exit(1)
