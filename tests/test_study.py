"""`python -m inductive.study {plan,run,status,read} NAME`: a study file checked whole before anything trains,
run job by job (kept as each ends, resumed after a kill), and read only when its grid is whole.

Every command runs in an empty working folder, so "nothing is written" means that folder stays empty (results/
and outputs/ are made relative to it): in this process through `main` (as `sys.exit(main())` runs it), and once in
a fresh interpreter (`process=True`), so that the command line itself is exercised too.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import fake_run

NAME = "tiny"  # the study's name is its file's stem
QUESTION = "On the tests' tiny images, does dense overfit more than conv_flatten?"


def study_raw(npz: Path, **grid) -> dict:
    """The tiny study: fashion_mnist's config on the tests' 12x12 images, 2 models x 1 size x 2 seeds."""
    raw = {
        "question": QUESTION,
        "claims": [3, 7],
        "registered": dt.date(2026, 12, 6),
        "protocol": "evidence",
        "grid": {
            "datasets": ["fashion_mnist"],
            "models": ["dense", "conv_flatten"],
            "train_sizes": [200],
            "seeds": [0, 1],
            "overrides": {"debug": "tiny", "data.path": str(npz), "data.val_size": 100, "trainer.epochs": 3,
                          "shift.max_images": 50},
        },
        "alpha": 0.05,
        "family": "dataset",
    }
    raw["grid"].update(grid)
    return raw


def write_study(tmp_path: Path, raw: dict, name: str = NAME) -> Path:
    folder = tmp_path / "studies"
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """An empty working folder: results/ and outputs/ land here."""
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def study(*args: str, cwd: Path, timeout: int = 180, process: bool = False) -> subprocess.CompletedProcess:
    """`python -m inductive.study ARGS` in `cwd`, output captured: by default in this process (an interpreter
    start costs more than most commands), with warnings reaching its stderr as Python's last-resort handler would
    send them there; `process=True`: in a fresh interpreter."""
    if process:
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        return subprocess.run([sys.executable, "-m", "inductive.study", *map(str, args)], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=timeout)
    from inductive.study.__main__ import main

    out, err = io.StringIO(), io.StringIO()
    handler = logging.StreamHandler(err)
    handler.setLevel(logging.WARNING)
    logging.getLogger().addHandler(handler)
    try:
        with contextlib.chdir(cwd), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main([str(a) for a in args])
            except SystemExit as stop:  # argparse: --help exits 0, a bad argument 2
                code = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
    finally:
        logging.getLogger().removeHandler(handler)
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def assert_refused(result: subprocess.CompletedProcess, cwd: Path, *names: str) -> str:
    """Exit 2, one stderr line starting `error:` that names each of `names`, no traceback, nothing written."""
    assert result.returncode == 2, (result.returncode, result.stdout[-2000:], result.stderr[-2000:])
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    for name in names:
        assert name in lines[0], (name, lines[0])
    assert sorted(os.listdir(cwd)) == [], f"written in the working folder: {os.listdir(cwd)}"
    return lines[0]


# ---------------------------------------------------------------- help

@pytest.mark.parametrize("command", [None, "plan", "run", "status", "read"])
def test_help_exits_0_and_describes_the_command(command, work):
    result = study(*([command] if command else []), "--help", cwd=work)
    assert result.returncode == 0, result.stderr
    usage = result.stdout.splitlines()[0]
    assert usage.startswith("usage: python -m inductive.study" + (f" {command}" if command else ""))
    if command is None:
        assert "plan" in result.stdout and "read" in result.stdout
    else:
        assert "NAME" in result.stdout and "--results" in result.stdout and "--output-root" in result.stdout
    if command == "run":
        assert "--dataset" in result.stdout and "KEY=VALUE" in result.stdout
    if command == "read":
        assert "--peek" in result.stdout
    assert os.listdir(work) == []


# ---------------------------------------------------------------- a bad study file: exit 2, one line, nothing written

def _unknown_model(raw):
    raw["grid"]["models"] = ["dense", "resnet9000"]


def _unknown_claim(raw):
    raw["claims"] = [3, 42]


def _unknown_key(raw):
    raw["seedz"] = [0, 1]


def _unknown_grid_key(raw):
    raw["grid"]["modelz"] = ["dense"]


def _unknown_dataset(raw):
    raw["grid"]["datasets"] = ["fashion_mnist", "svhn"]


def _size_too_big(raw):
    raw["grid"]["train_sizes"] = [200, 70000]


def _override_key_refused(raw):
    del raw["grid"]["overrides"]["trainer.epochs"]
    raw["grid"]["overrides"]["trainer.epoch"] = 3


def _override_value_refused(raw):
    raw["grid"]["overrides"]["trainer.stop"] = "sometimes"


def _cost_key_misspelt(raw):
    raw["cost"] = {"pilot_s": {"fashion_mnist": {200: {"dense": 5}}}}


def _cost_size_quoted(raw):
    raw["cost"] = {"estimate_s": {"fashion_mnist": {"200": {"dense": 5}}}}


def _cost_estimate_not_a_mapping(raw):
    raw["cost"] = {"estimate_s": []}


def _cost_for_no_model(raw):
    raw["cost"] = {"estimate_s": {"fashion_mnist": {200: {"dense": 5, "resnet": 9}}}}


BAD = {  # id: (how the good file is spoiled, what the error line must name)
    "unknown_model": (_unknown_model, ["resnet9000"]),
    "unknown_claim": (_unknown_claim, ["claims", "42"]),
    "unknown_key": (_unknown_key, ["seedz"]),
    "unknown_grid_key": (_unknown_grid_key, ["modelz"]),
    "unknown_dataset": (_unknown_dataset, ["svhn"]),
    "size_too_big": (_size_too_big, ["70000", "fashion_mnist"]),
    "override_key_refused": (_override_key_refused, ["trainer.epoch"]),
    "override_value_refused": (_override_value_refused, ["trainer.stop", "sometimes"]),
    "cost_key_misspelt": (_cost_key_misspelt, ["cost.pilot_s", "estimate_s"]),
    "cost_size_quoted": (_cost_size_quoted, ["cost.estimate_s.fashion_mnist.'200'", "unquoted"]),
    "cost_estimate_not_a_mapping": (_cost_estimate_not_a_mapping, ["cost.estimate_s=[]", "mapping"]),
    "cost_for_no_model": (_cost_for_no_model, ["cost.estimate_s.fashion_mnist.200.resnet", "not a model", "gap"]),
}


@pytest.mark.parametrize("command", ["plan", "run"])
@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_study_file_exits_2_naming_the_key_and_writes_nothing(case, command, tiny_npz, tmp_path, work):
    spoil, names = BAD[case]
    raw = study_raw(tiny_npz)
    spoil(raw)
    path = write_study(tmp_path, raw)
    assert_refused(study(command, path, cwd=work, timeout=120), work, *names)


def test_the_good_file_behind_the_bad_ones_plans(tiny_npz, tmp_path, work):
    """The control for the cases above: unspoiled, the same file plans (exit 0, four jobs)."""
    result = study("plan", write_study(tmp_path, study_raw(tiny_npz)), cwd=work)
    assert result.returncode == 0, result.stderr
    assert "4 jobs (0 done, 4 to run)" in result.stdout


def test_the_docs_minimal_study_file_plans(tmp_path, work):
    """Would catch: the file a newcomer is told to write (docs/researchers/studies.md) going stale against the study
    format: it must plan as written, 3 models x 1 size x 5 seeds."""
    import textwrap

    page = (Path(__file__).parents[1] / "docs" / "researchers" / "studies.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(.*?)```", page, re.S).group(1)
    path = tmp_path / "studies" / "fashion_4k.yaml"
    path.parent.mkdir()
    path.write_text(textwrap.dedent(block))
    result = study("plan", path, cwd=work)
    assert result.returncode == 0, result.stderr
    assert "15 jobs (0 done, 15 to run)" in result.stdout


@pytest.mark.slow  # a fresh interpreter: the one test of `python -m inductive.study` as a command line
def test_a_study_that_is_not_there_exits_2(work):
    line = assert_refused(study("plan", "no_such_study_here", cwd=work, process=True), work, "no_such_study_here")
    assert "not found" in line


def test_an_impossible_registration_date_exits_2(tiny_npz, tmp_path, work):
    path = write_study(tmp_path, study_raw(tiny_npz))
    path.write_text(path.read_text().replace("registered: 2026-12-06", "registered: 2026-13-45"))
    assert "2026-13-45" in path.read_text()
    assert_refused(study("plan", path, cwd=work), work)


def test_a_too_large_size_names_the_dataset_file(tiny_npz, tmp_path, work):
    raw = study_raw(tiny_npz)
    _size_too_big(raw)
    line = assert_refused(study("plan", write_study(tmp_path, raw), cwd=work), work)
    assert "configs/data/fashion_mnist.yaml" in line and "{" not in line


# ---------------------------------------------------------------- run's own overrides

def test_run_checks_its_own_overrides_before_any_sweep(tiny_npz, tmp_path, work):
    """Catches `run` passing a bad allowed override (trainer.threads=-3) to the sweep unchecked: one line, no sweep."""
    path = write_study(tmp_path, study_raw(tiny_npz))
    line = assert_refused(study("run", path, "trainer.threads=-3", cwd=work), work, "trainer.threads")


def test_run_refuses_a_design_override(tiny_npz, tmp_path, work):
    path = write_study(tmp_path, study_raw(tiny_npz))
    line = assert_refused(study("run", path, "trainer.epochs=1", cwd=work), work, "trainer.epochs=1")
    assert "data.path" in line  # says which overrides a run takes


def test_run_refuses_a_data_path_for_two_datasets_without_dataset(tiny_npz, tmp_path, work):
    raw = study_raw(tiny_npz)
    raw["grid"]["datasets"] = ["fashion_mnist", "mnist"]
    path = write_study(tmp_path, raw)
    assert_refused(study("run", path, f"data.path={tiny_npz}", cwd=work), work, "data.path", "--dataset")


def test_run_takes_overrides_after_dataset_as_the_study_files_write_them(tiny_npz, tmp_path, work):
    """Would catch: argparse filling NAME and the overrides before `--dataset`, so `run NAME --dataset D
    data.path=DIR` (the commands in configs/study/) stopped at "unrecognized arguments" instead of reaching `run`."""
    path = write_study(tmp_path, study_raw(tiny_npz))
    assert_refused(study("run", path, "--dataset", "fashion_mnist", f"data.path={tiny_npz}", "trainer.epochs=1",
                         cwd=work), work, "trainer.epochs=1")  # both reached run's own check, in order
    assert study("plan", path, "--dataset", "fashion_mnist", cwd=work).returncode == 2  # plan takes no --dataset
    assert_refused(study("run", path, "--dataset", "fashion_mnist", "--", "trainer.epochs=1", cwd=work), work,
                   "trainer.epochs=1")  # after the usual `--` too


def test_run_refuses_a_dataset_not_in_the_study(tiny_npz, tmp_path, work):
    path = write_study(tmp_path, study_raw(tiny_npz))
    assert_refused(study("run", path, "--dataset", "mnist", cwd=work), work, "mnist", "fashion_mnist")


def test_run_checks_its_own_arguments_before_composing_any_job(tiny_npz, tmp_path, work, monkeypatch):
    """Catches `run` composing every job's config (a quarter of a second each, minutes for a large grid) before
    the mistyped `--dataset` it could name at once: the argument is refused and no config is composed."""
    from inductive.training import config_folder

    def composed(overrides):
        raise AssertionError(f"composed {overrides} before the arguments were checked")

    monkeypatch.setattr(config_folder, "composed", composed)
    path = write_study(tmp_path, study_raw(tiny_npz))
    assert_refused(study("run", path, "--dataset", "mnist", cwd=work), work, "--dataset mnist")
    assert_refused(study("run", path, "trainer.epochs=1", cwd=work), work, "trainer.epochs=1")


# ---------------------------------------------------------------- plan, status, read before anything ran

def test_before_anything_runs_plan_lists_status_counts_and_read_refuses(tiny_npz, tmp_path, work):
    path = write_study(tmp_path, study_raw(tiny_npz))

    planned = study("plan", path, cwd=work)
    assert planned.returncode == 0, planned.stderr
    assert planned.stdout.startswith(f"study {NAME}: {QUESTION}")
    assert "4 jobs (0 done, 4 to run)" in planned.stdout
    for seed in (0, 1):
        assert f"fashion_mnist n=200 seed {seed}: dense missing, conv_flatten missing" in planned.stdout
    assert not re.search(r"(dense|conv_flatten) done", planned.stdout)  # no job reported done

    status = study("status", path, cwd=work)
    assert status.returncode == 0, status.stderr
    assert f"study {NAME}: 0 of 4 jobs done" in status.stdout
    assert "fashion_mnist n=200: 0 done, 0 started, 0 failed, 4 missing" in status.stdout

    line = assert_refused(study("read", path, cwd=work), work, "fashion_mnist", "4 of 4 jobs not done")
    assert "run" in line  # says how to go on
    line = assert_refused(study("read", path, "--peek", cwd=work), work, "nothing is kept")
    assert os.listdir(work) == []


# ---------------------------------------------------------------- read from kept tables (fake runs, no training)

def keep_fake_jobs(tmp_path: Path, work: Path, sizes: list[int], seeds=(0, 1, 2)) -> None:
    """Kept tables for every job of the study, exported from fake run folders (dense overfits more)."""
    from inductive.evidence.tables import export

    fakes = tmp_path / "fakes"
    num = 0
    for size in sizes:
        for seed in seeds:
            for model, gap in (("dense", 0.10 + 0.01 * seed), ("conv_flatten", 0.03)):
                wiggle = 0.002 * seed
                run_dir = fake_run(fakes / f"n{size}", num, model, seed, train_eval=[0.7, 0.9, 0.995],
                                   val=[0.6, 0.8, 0.995 - gap + wiggle], test_accuracy=0.995 - gap + wiggle)
                summary = json.loads((run_dir / "summary.json").read_text())
                summary["data"]["train_size"] = size
                summary["config"]["data"]["train_size"] = size
                (run_dir / "summary.json").write_text(json.dumps(summary))
                kept = work / "results" / "studies" / NAME / "kept" / "fashion_mnist" / f"n{size}_seed{seed}" / model
                kept.parent.mkdir(parents=True, exist_ok=True)
                export([run_dir], kept)
                num += 1


def read_and_check_report(path: Path, work: Path) -> str:
    result = study("read", path, cwd=work)
    assert result.returncode == 0, result.stderr[-3000:]
    report = work / "results" / "studies" / NAME / "report" / "report.md"
    assert f"report: {report.relative_to(work)}" in result.stdout
    text = report.read_text()
    assert text.startswith(f"# {QUESTION}\n")
    judged = set(re.findall(r"^## (\d+)\. ", text, flags=re.M))
    assert judged == {"3", "7"}, judged  # only the declared claims
    assert "translation invariance" not in text  # claim 5's statement
    assert not re.search(r"^\| 5 \|", text, flags=re.M)
    return text


@pytest.mark.slow  # writes a whole report or study read: the end-to-end tier
def test_read_of_a_whole_grid_judges_only_the_declared_claims(tiny_npz, tmp_path, work, undrawn):
    path = write_study(tmp_path, study_raw(tiny_npz, seeds=[0, 1, 2]))
    keep_fake_jobs(tmp_path, work, sizes=[200])
    status = study("status", path, cwd=work)
    assert "6 of 6 jobs done" in status.stdout and "6 done, 0 started, 0 failed, 0 missing" in status.stdout
    planned = study("plan", path, cwd=work)
    assert "6 jobs (6 done, 0 to run)" in planned.stdout and "dense done" in planned.stdout
    text = read_and_check_report(path, work)
    assert "Study `tiny`" in text and "registered 2026-12-06" in text  # the preface


@pytest.mark.slow  # writes a whole report or study read: the end-to-end tier
def test_read_with_two_sizes_answers_size_by_size(tiny_npz, tmp_path, work, undrawn):
    path = write_study(tmp_path, study_raw(tiny_npz, seeds=[0, 1, 2], train_sizes=[200, 400]))
    keep_fake_jobs(tmp_path, work, sizes=[200, 400])
    text = read_and_check_report(path, work)
    assert "## The answer, size by size" in text
    assert (work / "results" / "studies" / NAME / "report" / "size_verdicts.csv").is_file()


# ---------------------------------------------------------------- slow: run, kill -9 mid-job, resume, read

EPOCHS = 25  # the kill lands after the cut job's first backup, so 24 epochs of margin


@pytest.mark.slow
def test_a_killed_study_keeps_what_finished_resumes_the_cut_job_and_reads(tiny_npz, tmp_path, work):
    from inductive.training import folders

    overrides = {"debug": "tiny", "data.path": str(tiny_npz), "data.val_size": 100, "trainer.stop": "epochs",
                 "trainer.epochs": EPOCHS, "shift.max_images": 50}
    path = write_study(tmp_path, study_raw(tiny_npz, overrides=overrides))
    kept = work / "results" / "studies" / NAME / "kept" / "fashion_mnist"
    runs = work / "outputs" / "studies" / NAME
    first_kept, others_kept = kept / "n200_seed0" / "dense", [kept / "n200_seed0" / "conv_flatten",
                                                             kept / "n200_seed1" / "dense",
                                                             kept / "n200_seed1" / "conv_flatten"]
    first_run, cut_run = runs / "fashion_mnist_n200_seed0" / "dense", runs / "fashion_mnist_n200_seed0" / "conv_flatten"

    planned = study("plan", path, cwd=work)
    assert planned.returncode == 0 and "4 jobs (0 done, 4 to run)" in planned.stdout, planned.stderr

    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    log = (tmp_path / "first_run.log").open("w")
    command = [sys.executable, "-m", "inductive.study", "run", str(path), "trainer.backup_every_s=0"]
    first = subprocess.Popen(command, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.time() + 150
        while not ((first_kept / "runs.csv").is_file() and folders.last_backup(cut_run / folders.BACKUP) is not None):
            assert first.poll() is None, (tmp_path / "first_run.log").read_text()[-3000:]
            assert time.time() < deadline, "the first job never got kept, or the second never backed up"
            time.sleep(0.02)
    finally:
        with contextlib.suppress(ProcessLookupError):  # kill -9 the runner, its sweep and the job, all at once
            os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=60)
        log.close()
    assert not any((k / "runs.csv").exists() for k in others_kept), "more than the first job was kept"
    cut_history = pd.read_csv(cut_run / "history.csv")
    assert len(cut_history) < EPOCHS, "the second job finished before the kill: make epochs longer"
    kept_bytes = (first_kept / "runs.csv").read_bytes()
    kept_mtime = (first_kept / "runs.csv").stat().st_mtime_ns
    first_summary_mtime = (first_run / "summary.json").stat().st_mtime_ns

    status = study("status", path, cwd=work)
    assert status.returncode == 0, status.stderr
    assert "1 of 4 jobs done" in status.stdout
    assert "fashion_mnist n=200: 1 done, 1 started, 0 failed, 2 missing" in status.stdout
    assert "started fashion_mnist/n200_seed0/conv_flatten" in status.stdout

    early = study("read", path, cwd=work)
    assert early.returncode == 2 and "3 of 4 jobs not done" in early.stderr, early.stderr
    assert not (work / "results" / "studies" / NAME / "report").exists()

    second = study("run", path, "trainer.backup_every_s=0", cwd=work, timeout=240)
    assert second.returncode == 0, (second.stdout[-3000:], second.stderr[-3000:])
    assert "1 done / 3 left (3 to run now)" in second.stdout

    # the kept job was neither trained again nor kept again
    assert (first_kept / "runs.csv").read_bytes() == kept_bytes
    assert (first_kept / "runs.csv").stat().st_mtime_ns == kept_mtime
    assert (first_run / "summary.json").stat().st_mtime_ns == first_summary_mtime

    # the cut job resumed from its backup, every epoch once
    resumed = json.loads((cut_run / "summary.json").read_text())
    assert resumed["status"] == "completed" and resumed["resumed"] and resumed["resumed_from"] == "interrupted"
    assert resumed["epochs_run"] == EPOCHS
    assert list(pd.read_csv(cut_run / "history.csv").epoch) == list(range(EPOCHS))
    assert "resuming from the backup" in (cut_run / "run.log").read_text()
    assert not (cut_run / folders.BACKUP).exists()
    for k in others_kept:
        row = pd.read_csv(k / "runs.csv").iloc[0]
        assert row["status"] == "completed" and row["epochs_run"] == EPOCHS, k

    status = study("status", path, cwd=work)
    assert "4 of 4 jobs done" in status.stdout
    assert "fashion_mnist n=200: 4 done, 0 started, 0 failed, 0 missing" in status.stdout

    read_and_check_report(path, work)


def test_a_copied_study_that_kept_its_results_line_is_refused(tmp_path, work):
    """Catches a copy of a reference study sharing its results folder: its plan would count the reference's kept
    jobs as its own done jobs."""
    copied = yaml.safe_load((Path(__file__).parents[1] / "configs" / "study" / "data_size.yaml").read_text())
    copied["grid"] |= {"datasets": ["fashion_mnist"], "seeds": [30]}  # the copy a user makes to try one corner
    copied.pop("notes")  # its notes are about CIFAR-10
    path = write_study(tmp_path, copied, name="my_question")
    line = assert_refused(study("plan", path, cwd=work), work, "data_size")
    assert "results" in line
    del copied["results"]
    assert study("plan", write_study(tmp_path, copied, name="my_question"), cwd=work).returncode == 0


def test_a_claims_table_with_a_clipped_interval_carries_the_footnote():
    """The record's tables are read without the report: a clipped interval's marker needs its footnote there too."""
    from inductive.evidence import stats
    from inductive.study import record

    cell = {"number": 5, "claim": "5. Pooling adds translation invariance", "dataset": "mnist", "train_size": None,
            "verdict": "inconclusive"}
    clipped = f"gap - dense kept correct +0.100 [-1.000{stats.CLIPPED}, +1.000{stats.CLIPPED}]"
    assert record.claims_table(pd.DataFrame([{**cell, "effect": clipped}])).endswith("\n\n" + stats.CLIPPED_NOTE)
    plain = record.claims_table(pd.DataFrame([{**cell, "effect": "gap - dense kept correct +0.100 [+0.050, +0.150]"}]))
    assert stats.CLIPPED_NOTE not in plain
