"""Sweeps through Hydra's launcher plugins land in the usual layout and the report reads them."""

import importlib.util
import json
import os
import subprocess

import pytest
import yaml

from conftest import run_cli, tiny_overrides
from inductive.evidence.tables import collect

pytestmark = pytest.mark.slow  # starts sweeps through the launcher plugins

PLUGINS = {"joblib": "hydra_plugins.hydra_joblib_launcher", "submitit_local": "hydra_plugins.hydra_submitit_launcher",
           "ray": "hydra_plugins.hydra_ray_launcher", "optuna": "hydra_plugins.hydra_optuna_sweeper"}


def installed(plugin: str) -> bool:
    try:
        return importlib.util.find_spec(PLUGINS[plugin]) is not None
    except ModuleNotFoundError:
        return False


def sweep(*args: str, cwd) -> subprocess.CompletedProcess:
    return run_cli("-m", *args, cwd=cwd)


@pytest.mark.parametrize("launcher", ["joblib", "submitit_local", "ray"])
def test_two_job_sweep_through_a_launcher_reaches_the_report(tiny_npz, tmp_path, launcher):
    if not installed(launcher):
        pytest.skip(f"needs the {launcher} launcher plugin (pip install -e '.[dev]')")
    args = [*tiny_overrides(tiny_npz, tmp_path / "out"), "trainer.epochs=1", "shift.enabled=false",
            "model=dense,gap", f"hydra/launcher={launcher}"]
    if launcher == "joblib":
        args.append("hydra.launcher.n_jobs=2")
    if launcher == "ray":  # a local Ray instance, started and stopped by the launcher; one CPU per job
        args += ["+hydra.launcher.ray.init.num_cpus=2", "+hydra.launcher.ray.remote.num_cpus=1"]
    result = sweep(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    tables = collect([tmp_path / "out" / "sweeps"])
    runs, epochs = tables.runs, tables.epochs
    assert sorted(runs["model"]) == ["dense", "gap"]
    assert (runs["status"] == "completed").all()
    assert set(epochs["run_id"]) == set(runs["run_id"])
    if launcher == "joblib":  # 2 cores / 2 parallel jobs: one TensorFlow thread each
        assert set(runs["trainer.threads"]) == {max(1, (os.cpu_count() or 1) // 2)}
    if launcher == "ray":  # the CPUs Ray gives each job
        assert set(runs["trainer.threads"]) == {1}


def test_optuna_chooses_values_and_gets_each_runs_objective(tiny_npz, tmp_path):
    if not installed("optuna"):
        pytest.skip("needs hydra-optuna-sweeper (pip install -e '.[optuna]')")
    out = tmp_path / "optuna"
    result = sweep("+experiment=optuna_conv", *tiny_overrides(tiny_npz, tmp_path), "data.train_size=null",
                   "trainer.epochs=2", "hydra.sweeper.n_trials=3", f"hydra.sweep.dir={out}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    summaries = [json.loads(p.read_text()) for p in sorted(out.glob("*/summary.json"))]
    assert len(summaries) == 3 and all(s["status"] == "completed" for s in summaries)
    chosen = {(s["config"]["trainer"]["learning_rate"], tuple(s["config"]["model"]["conv_filters"])) for s in summaries}
    assert len(chosen) == 3  # the sweeper's values reached the runs
    best = yaml.safe_load((out / "optimization_results.yaml").read_text())
    assert best["best_value"] == max(s["best"]["val_accuracy"] for s in summaries)


def test_a_failed_job_under_a_launcher_makes_the_sweep_exit_1(tiny_npz, tmp_path):
    if not installed("joblib"):
        pytest.skip("needs the joblib launcher plugin (pip install -e '.[dev]')")
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a zip file")
    result = sweep(*tiny_overrides(tiny_npz, tmp_path / "out"), "trainer.epochs=1", "shift.enabled=false",
                   f"data.path={tiny_npz},{broken}", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", cwd=tmp_path)
    assert result.returncode == 1, result.stderr[-3000:]  # jobs ran in other processes: still 1, not 2
    assert "1 of 2 jobs did not finish (failed)" in result.stderr


def test_a_failed_optuna_trial_gets_the_worst_value_and_the_study_goes_on(tiny_npz, tmp_path):
    if not installed("optuna"):
        pytest.skip("needs hydra-optuna-sweeper (pip install -e '.[optuna]')")
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a zip file")
    out = tmp_path / "optuna"
    result = sweep("+experiment=optuna_conv", *tiny_overrides(broken, tmp_path), "data.train_size=null",
                   "hydra.sweeper.n_trials=2", f"hydra.sweep.dir={out}", cwd=tmp_path)
    assert result.returncode == 1, result.stderr[-3000:]
    assert len(list(out.glob("*/summary.json"))) == 2  # both trials ran and were recorded as failed
    assert yaml.safe_load((out / "optimization_results.yaml").read_text())["best_value"] == float("-inf")
