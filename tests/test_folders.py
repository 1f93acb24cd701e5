"""Output folders: nothing finished is overwritten, a resume cannot change the experiment, a run killed
during evaluation keeps its trained weights, unwritable or full disks fail cleanly, sweeps say what failed."""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from omegaconf import OmegaConf

from conftest import compose_config, run_cli as cli, tiny_overrides, whole_record
from inductive.errors import ConfigError
from inductive.training import folders, record


# ------------------------------------------------------------------ TensorFlow-free rules

def test_only_keys_that_cannot_change_results_may_differ_on_resume():
    started = {"seed": 0, "trainer": {"learning_rate": 0.001, "verbose": 0, "threads": None}, "model": {"name": "gap"}}
    asked = {"seed": 0, "trainer": {"learning_rate": 0.01, "verbose": 2, "threads": 4}, "model": {"name": "dense"}}
    assert folders.differing_keys(started, asked) == ["model.name", "trainer.learning_rate"]
    assert folders.differing_keys(started, {**started, "extra": 1}) == ["extra"]


def test_an_interrupted_run_resumes_only_with_its_own_settings(tmp_path):
    started, other = {"seed": 0, "trainer": {"learning_rate": 0.001}}, {"seed": 0, "trainer": {"learning_rate": 0.01}}
    assert folders.resume_state(tmp_path, started) == "new"
    folders.start_fresh(tmp_path, started)
    assert folders.resume_state(tmp_path, other) == "new"  # killed before its first epoch: nothing to continue
    (tmp_path / folders.BACKUP).mkdir()
    (tmp_path / folders.BACKUP / "epoch2.weights.h5").write_bytes(folders.HDF5_SIGNATURE + b"an epoch's weights")
    assert folders.resume_state(tmp_path, started) == "new"  # killed before the record: not a whole backup
    record.write_json_atomic(tmp_path / folders.BACKUP / folders.BACKUP_RECORD, {"epoch": 2, "weights": "epoch2.weights.h5"})
    assert folders.resume_state(tmp_path, started) == "interrupted"
    with pytest.raises(ConfigError, match=r"interrupted run started with other settings: "
                                          r"trainer.learning_rate=0.001 there, 0.01 here"):
        folders.resume_state(tmp_path, other)
    assert folders.resume_state(tmp_path, other, resume=False) == "new"  # asked not to resume: trained afresh
    (tmp_path / folders.BACKUP / folders.TRAINED_WEIGHTS).write_bytes(folders.HDF5_SIGNATURE + b"the trained weights")
    folders.mark_trained(tmp_path, epochs=3)
    assert folders.resume_state(tmp_path, started) == "trained"
    record.write_json_atomic(tmp_path / record.SUMMARY, whole_record())
    with pytest.raises(folders.FinishedRun):
        folders.resume_state(tmp_path, started)
    with pytest.raises(ConfigError, match="completed run started with other settings") as refused:
        folders.resume_state(tmp_path, other)  # a sweep re-run with other settings must not skip it as done
    assert not isinstance(refused.value, folders.FinishedRun)
    folders.start_fresh(tmp_path, other)
    assert not (tmp_path / folders.BACKUP).exists()


def test_a_file_in_the_way_or_too_little_space_is_refused(tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ConfigError, match="is a file, not a folder"):
        folders.check_writable(tmp_path / "afile" / "run", "hydra.run.dir")
    free = shutil.disk_usage(tmp_path).free
    with pytest.raises(ConfigError, match="MiB free"):
        folders.check_writable(tmp_path / "new", "hydra.run.dir", need_bytes=free * 2)
    folders.check_writable(tmp_path / "new" / "deeper", "hydra.run.dir")  # missing parents are fine
    with pytest.raises(OSError, match="No space left"):
        folders.require_space(tmp_path, free * 2)


def test_a_failed_summary_is_written_in_place_when_the_disk_is_full(tmp_path, monkeypatch):
    path = tmp_path / record.SUMMARY
    record.write_json_atomic(path, {"status": "running", "config": {"x": "y" * 500}})

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(record, "write_json_atomic", full)
    record.write_failure(path, {"status": "failed", "error": "OSError: disk full", "traceback": "t" * 10_000})
    written = json.loads(path.read_text())
    assert written == {"status": "failed", "error": "OSError: disk full"}


def test_sweep_jobs_that_never_started_are_listed_from_multirun_yaml(tmp_path):
    from inductive.training.sweep import sweep_table

    sweep = tmp_path / "sweep"
    (sweep / "0_dense_x_seed0" / ".hydra").mkdir(parents=True)
    (sweep / "multirun.yaml").write_text(yaml.safe_dump({"hydra": {
        "sweeper": {"_target_": "hydra._internal.core_plugins.basic_sweeper.BasicSweeper", "params": {"seed": "0,1,2"}},
        "overrides": {"task": ["model=dense"]}}}))
    (sweep / "0_dense_x_seed0" / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(["seed=0", "model=dense"]))
    record.write_json_atomic(sweep / "0_dense_x_seed0" / record.SUMMARY, whole_record())
    table = sweep_table(sweep)
    assert list(table["status"]) == ["completed", "not started", "not started"]
    assert list(table["job"][1:]) == ["(model=dense seed=1)", "(model=dense seed=2)"]


# ------------------------------------------------------------------ real runs

@pytest.mark.slow
def test_a_run_killed_during_evaluation_resumes_its_evaluation_only(tiny_npz, tmp_path, monkeypatch):
    from inductive.training import shift, train

    cfg = compose_config(*tiny_overrides(tiny_npz, tmp_path), "trainer.epochs=4")
    unbroken = train.run(cfg, tmp_path / "unbroken")
    real = shift.shift_evaluation

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # like Ctrl-C or a kill: not recorded as a failure, the folder stays `running`

    monkeypatch.setattr(shift, "shift_evaluation", killed)
    run_dir = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train.run(compose_config(*tiny_overrides(tiny_npz, tmp_path), "trainer.epochs=4"), run_dir)
    assert json.loads((run_dir / record.SUMMARY).read_text())["status"] == "running"
    assert (run_dir / folders.BACKUP / folders.TRAINED).is_file()
    history = (run_dir / record.HISTORY).read_text()

    monkeypatch.setattr(shift, "shift_evaluation", real)
    resumed = train.run(compose_config(*tiny_overrides(tiny_npz, tmp_path), "trainer.epochs=4"), run_dir)
    assert resumed["status"] == "completed" and resumed["resumed_from"] == "trained"
    assert (run_dir / record.HISTORY).read_text() == history  # not one epoch trained again
    assert resumed["test"] == unbroken["test"] and resumed["shift"] == unbroken["shift"]
    assert not (run_dir / folders.BACKUP).exists()


@pytest.mark.slow
def test_a_resume_with_other_settings_is_refused_and_the_folder_kept(tiny_npz, tmp_path):
    run_dir = tmp_path / "run"
    args = [*tiny_overrides(tiny_npz, tmp_path), f"hydra.run.dir={run_dir}"]
    started = OmegaConf.to_container(compose_config(*args[:-1]), resolve=True)
    folders.start_fresh(run_dir, started)  # an interrupted run's folder, as far as resuming goes
    (run_dir / folders.BACKUP).mkdir()
    (run_dir / folders.BACKUP / folders.LEGACY_WEIGHTS).write_bytes(b"an epoch's weights")  # as backups before 2026-12-04
    record.write_json_atomic(run_dir / folders.BACKUP / folders.BACKUP_RECORD, {"epoch": 1, "batch": 0})
    (run_dir / ".hydra").mkdir()
    (run_dir / ".hydra" / "overrides.yaml").write_text("- as started\n")
    result = cli(*args, "trainer.learning_rate=0.01", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "trainer.learning_rate=0.001 there, 0.01 here" in result.stderr
    assert (run_dir / ".hydra" / "overrides.yaml").read_text() == "- as started\n"
    assert not (run_dir / record.SUMMARY).exists()


@pytest.mark.slow
def test_a_sweep_job_that_fails_before_training_is_recorded_and_the_sweep_exits_1(tiny_npz, tmp_path):
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a zip file")
    result = cli("-m", *tiny_overrides(tiny_npz, tmp_path), "trainer.epochs=1", "shift.enabled=false",
                 f"data.path={tiny_npz},{broken}", f"hydra.sweep.dir={tmp_path / 'sweep'}", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "1 of 2 jobs did not finish (failed)" in result.stderr
    (good,) = (tmp_path / "sweep").glob("0_*")
    (bad,) = (tmp_path / "sweep").glob("1_*")
    assert json.loads((good / record.SUMMARY).read_text())["status"] == "completed"
    failed = json.loads((bad / record.SUMMARY).read_text())
    assert failed["status"] == "failed" and "broken.npz" in failed["error"]


UNSHARE = shutil.which("unshare")


def in_own_mount(script: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """Run `script` in a private mount namespace (root inside it), where it may mount a small tmpfs."""
    probe = subprocess.run([UNSHARE, "-rm", "true"], capture_output=True) if UNSHARE else None
    if probe is None or probe.returncode != 0:
        pytest.skip("needs unshare -rm (user and mount namespaces) to mount a small tmpfs")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PY": sys.executable}
    return subprocess.run([UNSHARE, "-rm", "bash", "-c", textwrap.dedent(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_read_only_and_full_disks_are_refused_before_training(tiny_npz, tmp_path):
    overrides = " ".join(tiny_overrides(tiny_npz, tmp_path))
    result = in_own_mount(f"""
        mkdir -p ro small
        mount -t tmpfs -o ro,size=1m tmpfs ro
        mount -t tmpfs -o size=1m tmpfs small
        $PY -m inductive.run {overrides} hydra.run.dir=ro/run; echo "rc=$?"
        $PY -m inductive.run {overrides} hydra.run.dir=small/run; echo "rc=$?"
        ls -A small
    """, tmp_path)
    lines = result.stdout.split()
    assert lines[:2] == ["rc=2", "rc=2"] and lines[2:] == [], result.stdout + result.stderr
    assert "is not writable" in result.stderr and "MiB free" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_a_disk_that_fills_mid_run_ends_failed_with_its_error(tiny_npz, tmp_path):
    """Small widths, as the tiny config had until 2026-12-07: with gap's own widths the fresh-clone run of that day
    exited 1 but left summary.json `running`: on a disk this full even the failed status could not be written."""
    overrides = " ".join(tiny_overrides(tiny_npz, tmp_path, "model.conv_filters=[4,8]", "model.hidden_units=[16]"))
    result = in_own_mount(f"""
        mkdir -p disk
        mount -t tmpfs -o size=12m tmpfs disk
        $PY -m inductive.run {overrides} trainer.epochs=400 trainer.batch_size=8 hydra.run.dir=disk/run &
        until [ -f disk/run/history.csv ] && [ $(wc -l < disk/run/history.csv) -ge 3 ]; do sleep 0.05; done
        dd if=/dev/zero of=disk/filler bs=64k 2>/dev/null
        wait $!; echo "rc=$?"
        cat disk/run/summary.json
    """, tmp_path)
    code, _, written = result.stdout.partition("\n")
    assert code == "rc=1", result.stdout + result.stderr  # 139 would be a crash in h5py, status left running
    summary = json.loads(written)
    assert summary["status"] == "failed" and "No space left" in summary["error"]
