"""Sweeps through Hydra's launcher plugins land in the usual layout and the report reads them."""

import os
import subprocess
import sys

import pytest

from conftest import tiny_overrides
from inductive.evidence.tables import collect

pytestmark = pytest.mark.slow  # starts sweeps through the launcher plugins

pytest.importorskip("hydra_plugins.hydra_joblib_launcher")
pytest.importorskip("hydra_plugins.hydra_submitit_launcher")


@pytest.mark.parametrize("launcher", ["joblib", "submitit_local"])
def test_two_job_sweep_through_a_launcher_reaches_the_report(tiny_npz, tmp_path, launcher):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    args = [*tiny_overrides(tiny_npz, tmp_path / "out"), "trainer.epochs=1", "shift.enabled=false",
            "model=dense,gap", f"hydra/launcher={launcher}"]
    if launcher == "joblib":
        args.append("hydra.launcher.n_jobs=2")
    result = subprocess.run([sys.executable, "-m", "inductive.run", "-m", *args], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    tables = collect([tmp_path / "out" / "sweeps"])
    runs, epochs = tables.runs, tables.epochs
    assert sorted(runs["model"]) == ["dense", "gap"]
    assert (runs["status"] == "completed").all()
    assert set(epochs["run_id"]) == set(runs["run_id"])
    if launcher == "joblib":  # 2 cores / 2 parallel jobs: one TensorFlow thread each
        assert set(runs["trainer.threads"]) == {max(1, (os.cpu_count() or 1) // 2)}
