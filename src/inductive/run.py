"""`python -m inductive.run [overrides]`: train one configured model (or a sweep with -m)."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import hydra
import pandas as pd
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from inductive import quiet
from inductive.training import record
from inductive.training.before_run import CHECKED
from inductive.training.config import ConfigError, config_dir
from inductive.training.data import DataError
from inductive.training.folders import FinishedRun
from inductive.training.record_schema import Summary, read_summary

log = logging.getLogger("inductive")


def result_table(summary: Summary) -> str:
    final = summary.final.values() if summary.final else {}
    row = {"model": summary.model, "data": summary.dataset, "seed": summary.seed,
           "params": f"{summary.params.trainable or 0:,}", "train_accuracy": final.get("train_accuracy"),
           "val_accuracy": final.get("val_accuracy"), "accuracy_gap": final.get("accuracy_gap"),
           "test_accuracy": summary.test.get("accuracy"), "time_s": summary.time.get("total_s"), "status": summary.status}
    return pd.DataFrame([row]).to_string(index=False, float_format=lambda v: f"{v:.3f}")


def launcher_threads(launcher: DictConfig) -> int | None:
    """Threads per job so that parallel jobs x threads never exceed the cores they were given."""
    if "n_jobs" in launcher:  # joblib: jobs share this machine
        cores = os.cpu_count() or 1
        n_jobs = launcher.n_jobs if launcher.n_jobs > 0 else cores
        return max(1, cores // n_jobs)
    if "ray" in launcher:  # ray: the CPUs each remote job asks for (hydra.launcher.ray.remote.num_cpus)
        return (launcher.ray.get("remote") or {}).get("num_cpus")
    return launcher.get("cpus_per_task")  # submitit: the cores SLURM (or the local executor) gave the job


def objective(summary: Summary | None, key: str | None, direction: object = None) -> float | None:
    """The number a Hydra sweeper optimises: `objective=best.val_accuracy` reads summary.json's best.val_accuracy
    (the config check allows only the numbers a summary records: `record_schema.OBJECTIVES`).

    A run without that number (it failed) gets the worst value for the sweeper's `direction`: Optuna stops
    the whole study on NaN, and accepts -inf / +inf."""
    if key is None:
        return None
    worst = {"maximize": float("-inf"), "minimize": float("inf")}.get(str(direction).lower(), float("nan"))
    value = summary.number(key) if summary is not None else None
    return worst if value is None else value


def record_failure(run_dir: Path, cfg: DictConfig, err: Exception) -> None:
    """A sweep job that failed before training: `failed` with its error, over whatever summary it had."""
    from omegaconf import OmegaConf

    earlier, _ = read_summary(run_dir)
    summary = earlier.record() if earlier is not None else {
        "model": cfg.model.name, "dataset": cfg.data.name, "seed": cfg.seed,
        "config": OmegaConf.to_container(cfg, resolve=True)}
    summary.pop("traceback", None)
    summary.update(status="failed", error=f"{type(err).__name__}: {err}")
    try:
        record.write_failure(run_dir / "summary.json", summary)
    except OSError as write_err:  # e.g. a full disk: the sweep goes on, the log says why the folder has no record
        log.error("could not record the failure in %s: %s", run_dir / "summary.json", write_err)


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="config")
def main(cfg: DictConfig) -> float | None:
    with quiet.start_up_lines():  # TensorFlow loads only once the config has composed, and quietly
        from inductive.training.train import run

    hydra_cfg = HydraConfig.get()
    run_dir = Path(hydra_cfg.runtime.output_dir)
    in_sweep = hydra_cfg.mode == RunMode.MULTIRUN
    direction = hydra_cfg.sweeper.get("direction")  # an optimising sweeper's (Optuna); None for the basic one
    if cfg.trainer.threads == "auto":
        cfg.trainer.threads = launcher_threads(hydra_cfg.launcher)
    try:
        run(cfg, run_dir)
    except FinishedRun as done:
        if not in_sweep:
            log.error("%s", done)
            sys.exit(2)
        log.info("skipped %s: it already holds a %s run (re-running a sweep finishes only what is left)",
                 run_dir, done.summary.status)
        return objective(done.summary, cfg.objective, direction)
    except (ConfigError, DataError) as err:
        log.error("%s", err)
        if in_sweep:  # one bad job must not stop the others; its folder says why it did not run
            record_failure(run_dir, cfg, err)
            return objective(None, cfg.objective, direction)
        sys.exit(2)
    except Exception:
        earlier, _ = read_summary(run_dir)
        recorded = earlier is not None and earlier.status == "failed"
        log.exception("run failed%s", f"; the error is recorded in {run_dir / 'summary.json'}" if recorded else
                      " before its summary.json could record it")
        if in_sweep:
            return objective(None, cfg.objective, direction)
        sys.exit(1)
    written, problem = read_summary(run_dir)  # as every reader will see it
    if written is None:
        log.error("%s: %s", run_dir, problem)
        sys.exit(1)
    print("\n" + result_table(written) + f"\n\nrun folder: {run_dir}")
    return objective(written, cfg.objective, direction)


def cli() -> None:
    """`main` with the documented exit codes: Hydra's own config errors (model=nope, foo=1) exit 2, not 1."""
    try:
        main()
    except SystemExit as stop:
        if stop.code == 1 and not CHECKED:  # the launcher may run jobs elsewhere: the checks ran here
            sys.exit(2)
        raise


if __name__ == "__main__":
    cli()
