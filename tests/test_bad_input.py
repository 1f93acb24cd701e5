"""Bad input at every entry point (run, report, tables, tune, explain, conv_questions, explorer, study): exit 2,
one line naming the key or file, the value and what is valid, no traceback, nothing written. One test group
per root cause: config ranges, launcher keys and interpolations; data readers; output paths and side inputs;
explain's memory budget. (Malformed run records: test_record_schema.py.)"""

from __future__ import annotations

import copy
import functools
import importlib
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from hypothesis import given, settings
from hypothesis import strategies as st
from omegaconf import DictConfig, OmegaConf

from conftest import compose_config, examples, make_images, whole_record
from inductive.errors import ConfigError
from inductive.training import data, folders, record, schema
from inductive.training.config_folder import config_dir
from inductive.training.record_schema import OBJECTIVES, SEED_MAX

RANGES = settings(max_examples=examples(60), deadline=None)


# ---------------------------------------------------------------- 1. every number has a finite, valid range

@functools.lru_cache(maxsize=None)
def _base(*overrides: str) -> DictConfig:
    return compose_config(*overrides)


def with_value(key: str, value, *overrides: str) -> DictConfig:
    cfg = copy.deepcopy(_base(*overrides))
    OmegaConf.update(cfg, key, value, force_add=False)
    return cfg


def accepted(cfg: DictConfig) -> bool:
    try:
        schema.check(cfg)
    except ConfigError:
        return False
    return True


@RANGES
@given(st.integers(min_value=-2**70, max_value=2**70))
def test_seeds_are_numpys(value):
    for key in ("seed", "data.split_seed"):
        assert accepted(with_value(key, value)) == (0 <= value <= SEED_MAX)


@RANGES
@given(st.floats(allow_nan=True, allow_infinity=True) | st.integers(min_value=-10, max_value=10))
def test_learning_rate_is_finite_and_positive(value):
    assert accepted(with_value("trainer.learning_rate", value)) == (math.isfinite(value) and value > 0)


@RANGES
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_min_delta_and_backup_interval_are_finite(value):
    for key in ("trainer.fit.min_delta", "trainer.backup_every_s"):
        assert accepted(with_value(key, value)) == (math.isfinite(value) and value >= 0)


@RANGES
@given(st.none() | st.integers(min_value=-3, max_value=100))
def test_a_shift_is_smaller_than_the_image(value):  # Fashion-MNIST: 28x28
    assert accepted(with_value("shift.max_shift", value)) == (value is None or 0 < value < 28)


@RANGES
@given(st.floats(min_value=0, max_value=1))
def test_a_validation_fraction_gives_at_least_one_image(value):  # 60,000 training images
    assert accepted(with_value("data.val_size", value)) == (0 < value < 1 and 1 <= round(value * 60_000) < 60_000)


@RANGES
@given(st.sampled_from(OBJECTIVES) | st.text(max_size=20))
def test_objective_is_a_number_the_summary_records(value):
    assert accepted(with_value("objective", value)) == (value in OBJECTIVES)


NUMERIC_KEYS = [key for key, value in schema.flatten(OmegaConf.to_container(compose_config(), resolve=True)).items()
                if isinstance(value, (int, float)) and not isinstance(value, bool) and key in schema.SCHEMA]


@pytest.mark.parametrize("key", NUMERIC_KEYS)
@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_no_number_is_infinite_or_nan(key, value):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        schema.check(with_value(key, value))


@pytest.mark.parametrize("key", ["trainer.epochs", "trainer.batch_size", "data.train_size", "model.target_params",
                                 "shift.max_images", "data.val_size"])
def test_counts_stay_within_tensorflows_int32(key):
    assert accepted(with_value(key, 1000 if key != "data.val_size" else 100))
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        schema.check(with_value(key, 2**40))


@pytest.mark.parametrize("override, says", [
    ("seed=4294967296", "seed=4294967296 is invalid: use an int in 0..4294967295"),
    ("trainer.learning_rate=inf", "trainer.learning_rate=inf is invalid"),
    ("trainer.fit.min_delta=inf", "trainer.fit.min_delta=inf is invalid"),
    ("shift.max_shift=100", "shift.max_shift=100 is invalid: use null (a quarter of the image) or a shift smaller"),
    ("objective=no.such.field", "objective='no.such.field' is invalid: use null (no sweeper reads one) or one of "
                                "final.epoch"),
    ("data.val_size=0.000001", "data.val_size=1e-06 is invalid: it gives 0 validation images"),
])
def test_the_issues_values_are_refused_naming_key_value_and_range(override, says):
    with pytest.raises(ConfigError) as err:
        schema.check(compose_config(override))
    assert says in str(err.value) and "\n" not in str(err.value)


def test_an_interpolation_that_cannot_resolve_names_its_key(monkeypatch):
    monkeypatch.delenv("INDUCTIVE_UNSET", raising=False)
    with pytest.raises(ConfigError, match=r"^seed does not resolve: .*INDUCTIVE_UNSET"):
        schema.check(compose_config("seed=${oc.env:INDUCTIVE_UNSET}"))
    with pytest.raises(ConfigError, match=r"^trainer\.learning_rate does not resolve"):
        schema.check(compose_config("trainer.learning_rate=${oc.env:INDUCTIVE_UNSET}"))


def with_hydra(*overrides: str) -> DictConfig:
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides), return_hydra_config=True)


@pytest.mark.parametrize("overrides, says", [
    (["hydra/launcher=joblib", "hydra.launcher.n_jobs=0"], "hydra.launcher.n_jobs=0 is invalid: use a nonzero int"),
    (["hydra/launcher=joblib", "hydra.launcher.timeout=-1"], "hydra.launcher.timeout=-1.0 is invalid"),
    (["hydra/launcher=slurm", "hydra.launcher.timeout_min=0"], "hydra.launcher.timeout_min=0 is invalid"),
    (["hydra/launcher=slurm", "hydra.launcher.cpus_per_task=0"], "hydra.launcher.cpus_per_task=0 is invalid"),
])
def test_launcher_keys_are_checked_before_hydra_writes_anything(tmp_path, capsys, overrides, says):
    from inductive.training.before_run import CheckBeforeRun

    cfg = with_hydra(*overrides, f"hydra.sweep.dir={tmp_path / 'sweep'}")
    with pytest.raises(SystemExit) as stop:
        CheckBeforeRun().on_multirun_start(cfg)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and says in err and err.count("\n") == 1
    assert not (tmp_path / "sweep").exists()


@RANGES
@given(st.integers(min_value=-2**40, max_value=2**40))
def test_n_jobs_is_any_nonzero_int(value):
    cfg = copy.deepcopy(_launcher("joblib"))
    cfg.hydra.launcher.n_jobs = value
    try:
        schema.check_launcher(cfg)
        ok = True
    except ConfigError:
        ok = False
    assert ok == (value != 0 and abs(value) <= schema.INT_MAX)


@functools.lru_cache(maxsize=None)
def _launcher(name: str) -> DictConfig:
    return with_hydra(f"hydra/launcher={name}")


def test_a_bad_value_is_refused_by_the_run_callback_before_any_folder(tmp_path, capsys):
    from inductive.training.before_run import CheckBeforeRun

    cfg = with_hydra("seed=4294967296", f"hydra.run.dir={tmp_path / 'run'}")
    with pytest.raises(SystemExit) as stop:
        CheckBeforeRun().on_run_start(cfg)
    assert stop.value.code == 2 and "seed=4294967296" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


@pytest.mark.slow  # starts `python -m inductive.run` (it exits before TensorFlow loads: about 3 s each)
@pytest.mark.parametrize("args, says", [
    (["seed=4294967296"], "seed=4294967296 is invalid"),
    (["trainer.learning_rate=inf"], "trainer.learning_rate=inf is invalid"),
    (["shift.max_shift=100"], "shift.max_shift=100 is invalid"),
    (["objective=no.such.field"], "objective='no.such.field' is invalid"),
    (["seed=${oc.env:INDUCTIVE_UNSET}"], "seed does not resolve"),
    (["-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=0", "model=dense,gap"], "hydra.launcher.n_jobs=0"),
])
def test_the_run_command_exits_2_with_one_line_and_writes_nothing(tmp_path, args, says):
    env = {k: v for k, v in os.environ.items() if k != "INDUCTIVE_UNSET"}
    result = subprocess.run([sys.executable, "-m", "inductive.run", *args, f"output_root={tmp_path}/out"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 2 and says in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and result.stderr.strip().count("\n") == 0
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- 3. data readers check before they reshape

def idx_header(ndim: int, dims: list[int]) -> bytes:
    return bytes([0, 0, 0x08, ndim]) + np.asarray(dims, dtype=">u4").tobytes()


@pytest.mark.parametrize("payload, says", [
    (idx_header(3, [60000]), "names 3 dimensions (16 bytes) but the file has 8 bytes"),
    (idx_header(3, [2**32 - 1] * 3) + b"\0" * 64, "the file is truncated or corrupt"),
    (b"\0\0\x08", "not an IDX file"),
])
def test_an_idx_header_that_does_not_fit_the_file_is_named(tmp_path, payload, says):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(payload)
    with pytest.raises(data.DataError) as err:
        data.read_idx(path)
    assert str(path) in str(err.value) and says in str(err.value)


def write_npz(path: Path, **changes) -> Path:
    (x_train, y_train), (x_test, y_test) = make_images(120, seed=1), make_images(40, seed=2)
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test} | changes
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize("labels, says", [
    (np.array(1, dtype=np.uint8), "train labels have shape (), expected (N,)"),
    (np.eye(3, dtype=np.uint8)[make_images(120, seed=1)[1]], "train labels have shape (120, 3), expected (N,)"),
    (np.array(["a"] * 120), "train labels are <U1, expected ints in 0..2"),
    (np.full(120, 0.5), "train labels are float64"),
])
def test_labels_of_the_wrong_shape_or_type_are_refused_naming_the_file(tmp_path, labels, says):
    path = write_npz(tmp_path / "d.npz", y_train=labels)
    cfg = compose_config("debug=tiny", f"data.path={path}", "data.val_size=10")
    with pytest.raises(data.DataError) as err:
        data.load(cfg.data)
    assert str(path) in str(err.value) and says in str(err.value)


def test_a_validation_fraction_that_rounds_to_no_image_is_refused_on_load(tmp_path):
    path = write_npz(tmp_path / "d.npz")
    with pytest.raises(data.DataError, match=r"data.val_size=0.001 gives no validation image out of 120"):
        data.load(compose_config("debug=tiny", f"data.path={path}", "data.val_size=0.001").data)


def test_a_backup_that_is_not_hdf5_is_named_with_the_fix(tmp_path):
    run_dir = tmp_path / "run"
    folders.start_fresh(run_dir, {"seed": 0})
    (run_dir / folders.BACKUP).mkdir()
    (run_dir / folders.BACKUP / "epoch2.weights.h5").write_text("not HDF5")
    record.write_json_atomic(run_dir / folders.BACKUP / folders.BACKUP_RECORD,
                             {"epoch": 2, "weights": "epoch2.weights.h5"})
    with pytest.raises(ConfigError) as err:
        folders.resume_state(run_dir, {"seed": 0})
    message = str(err.value)
    assert "epoch2.weights.h5" in message and "not an HDF5 file" in message
    assert "trainer.resume=false" in message and f"remove {run_dir}" in message
    assert folders.resume_state(run_dir, {"seed": 0}, resume=False) == "new"  # the fix it names works


def test_a_backup_keras_cannot_load_is_named_with_the_fix(tmp_path):
    class Model:
        def load_weights(self, path):
            raise OSError("Unable to synchronously open file (truncated file: eof = 96)")

    weights = tmp_path / "run" / folders.BACKUP / "epoch2.weights.h5"
    with pytest.raises(ConfigError, match=r"epoch2\.weights\.h5: .*truncated file.*trainer\.resume=false"):
        folders.load_backup(Model(), weights)


# ---------------------------------------------------------------- 5. every out= is checked before anything else

@pytest.fixture
def places(tmp_path) -> dict[str, str]:
    """Outputs no command can use; `unwritable` is made so by the test (root writes anywhere)."""
    (tmp_path / "a_file").write_text("keep me")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "kept.txt").write_text("keep me")
    (tmp_path / "locked").mkdir()
    return {"file": str(tmp_path / "a_file"), "under_file": str(tmp_path / "a_file" / "inside"), "empty": "",
            "proc": "/proc/inductive-test", "unwritable": str(tmp_path / "locked" / "new"),
            "folder": str(tmp_path / "full")}


def nothing_written(tmp_path: Path) -> None:
    assert (tmp_path / "a_file").read_text() == "keep me" and not any((tmp_path / "locked").iterdir())
    assert sorted(p.name for p in (tmp_path / "full").iterdir()) == ["kept.txt"]
    assert not Path("/proc/inductive-test").exists()


def lock(monkeypatch, tmp_path: Path) -> None:
    real = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != tmp_path / "locked" and real(path, mode))


MODULE_OF = {"report": "inductive.evidence.report", "tables": "inductive.tables", "tune": "inductive.evidence.tuning",
             "explorer": "inductive.lecture.explorer", "conv_questions": "inductive.lecture.conv_questions"}


def main_of(command: str):
    return importlib.import_module(MODULE_OF[command]).main


FOLDER_COMMANDS = {"report": "folder", "tables": "folder", "conv_questions": "folder", "tune": "file",
                   "explorer": "file"}
BAD_PLACES = {  # what each command refuses: a file where a folder goes (and the reverse), a path under a file, ...
    "folder": ["file", "under_file", "empty", "proc", "unwritable"],
    "file": ["folder", "under_file", "empty", "proc", "unwritable"],
}


@pytest.mark.parametrize("command, place", [(c, p) for c, kind in FOLDER_COMMANDS.items() for p in BAD_PLACES[kind]]
                         + [("tables", "folder")])
def test_every_out_is_refused_before_anything_is_read_or_written(tmp_path, capsys, monkeypatch, places, command, place):
    lock(monkeypatch, tmp_path)
    monkeypatch.chdir(tmp_path / "locked")  # were the check to let it through, what a command writes lands here
    folders_read = [str(tmp_path / "no_such_sweep")] if command in ("report", "tables", "tune") else []
    assert main_of(command)([*folders_read, f"out={places[place]}"]) == 2
    err = capsys.readouterr().err
    assert "out=" in err and places[place] in err and err.count("\n") == 1 and "Traceback" not in err
    assert "no_such_sweep" not in err  # refused before the runs were read
    nothing_written(tmp_path)


@pytest.mark.parametrize("args, place", [(["read", "evidence", "--results"], "file"),
                                         (["read", "evidence", "--results"], "under_file"),
                                         (["run", "evidence", "--results"], "proc"),
                                         (["run", "evidence", "--output-root"], "file"),
                                         (["run", "evidence", "--output-root"], "unwritable")])
def test_the_studys_output_folders_are_checked_before_anything_is_read(tmp_path, capsys, monkeypatch, places, args,
                                                                       place):
    from inductive.study import reading, runner
    from inductive.study.__main__ import main

    lock(monkeypatch, tmp_path)
    monkeypatch.setattr(runner, "run", lambda *a, **k: pytest.fail("the study started its jobs"))
    monkeypatch.setattr(reading, "read", lambda *a, **k: pytest.fail("the study was read"))
    assert main([*args, places[place]]) == 2
    err = capsys.readouterr().err
    assert f"{args[-1]}=" in err and places[place] in err and err.count("\n") == 1
    nothing_written(tmp_path)


def test_a_report_may_rewrite_its_own_folder_but_tables_never(tmp_path):
    from inductive.arguments import output_path

    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "report.md").write_text("an earlier report")
    rewritten = output_path("out", tmp_path / "report", "folder", may_hold="an earlier report's files")
    assert rewritten == tmp_path / "report"
    with pytest.raises(ConfigError, match="already exists and is not an empty folder"):
        output_path("out", tmp_path / "report", "folder")
    (tmp_path / "empty").mkdir()
    assert output_path("out", tmp_path / "empty", "folder") == tmp_path / "empty"


# ---------------------------------------------------------------- 5. side inputs are read through a guard

def test_a_corrupt_lecture_table_is_named(tmp_path, capsys):
    from inductive.evidence.report import main

    lecture = tmp_path / "lecture"
    lecture.mkdir()
    (lecture / "equivalence.csv").write_bytes(b"conv_params,dense_params\n\xff\xfe,\x00\n")
    assert main([str(tmp_path / "no_such_sweep"), f"lecture={lecture}", f"out={tmp_path / 'out'}"]) == 2
    err = capsys.readouterr().err
    assert f"lecture={lecture}: {lecture / 'equivalence.csv'}: cannot read it as the Keras check table" in err
    assert err.count("\n") == 1 and not (tmp_path / "out").exists()


@pytest.mark.parametrize("args, says", [(["lecture=/no/such/folder"], "lecture=/no/such/folder: no such folder"),
                                        (["out=x", "out=y"], "out= is given twice")])
def test_report_arguments_are_parsed_by_the_shared_parser(tmp_path, capsys, args, says):
    from inductive.evidence.report import main

    assert main([str(tmp_path), *args]) == 2 and says in capsys.readouterr().err


def test_a_note_that_is_not_utf8_is_named(tmp_path, capsys):
    from inductive.evidence.report import main

    (tmp_path / "note.md").write_bytes(b"\xff\xfe bad")
    assert main([str(tmp_path / "no_such_sweep"), f"note={tmp_path / 'note.md'}", f"out={tmp_path / 'out'}"]) == 2
    assert f"note={tmp_path / 'note.md'}: cannot read it as a UTF-8 Markdown file" in capsys.readouterr().err


@pytest.mark.parametrize("content", ["- just\n- a list\n", "learning_rate: [0.1]\n", "{unclosed: [\n"])
def test_tunes_existing_out_file_must_be_its_mapping(tmp_path, capsys, content):
    from inductive.evidence.tuning import main

    out = tmp_path / "rates.yaml"
    out.write_text(content)
    assert main([str(tmp_path / "no_such_sweep"), f"out={out}"]) == 2
    err = capsys.readouterr().err
    assert f"out={out}: cannot read it as the learning-rate file" in err and err.count("\n") == 1
    assert out.read_text() == content


def test_an_explorer_figures_readme_that_is_not_utf8_is_named(tmp_path, capsys):
    from inductive.lecture.explorer import main

    figures = tmp_path / "figures"
    figures.mkdir()
    (figures / "README.md").write_bytes(b"# title \xff\xfe")
    assert main([f"out={tmp_path / 'page.html'}", f"figures={figures}"]) == 2
    err = capsys.readouterr().err
    assert f"figures={figures}: {figures / 'README.md'}: cannot read it as UTF-8 Markdown" in err
    assert err.count("\n") == 1
    assert not (tmp_path / "page.html").exists()


# ---------------------------------------------------------------- 6. explain refuses what Keras cannot allocate

@pytest.mark.parametrize("argv, gib", [(["input=1x1000000x1000000x1"], "GiB"),
                                       (["layer=Dense", "input=1x10", "units=1000000000000"], "GiB"),
                                       (["input=100000x64x64x16", "filters=512"], "GiB")])
def test_explain_refuses_a_layer_over_its_memory_budget_before_building_it(capsys, monkeypatch, argv, gib):
    from inductive.lecture import explain

    monkeypatch.setattr(explain, "keras_arithmetic", lambda *a: pytest.fail("Keras was asked to build it"))
    assert explain.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and gib in captured.err and "over the 1 GiB explain builds" in captured.err
    assert captured.err.count("\n") == 1


def test_explain_builds_the_lectures_layer_within_its_budget():
    from inductive.arithmetic import layer_arithmetic
    from inductive.lecture import explain

    closed = layer_arithmetic("Conv2D", {"filters": 12, "kernel_size": 3, "padding": "same"}, (64, 64, 16))
    assert explain.tensor_bytes((32, 64, 64, 16), closed) < explain.MEMORY_BUDGET


def test_a_whole_record_is_what_a_finished_folder_holds(tmp_path):
    record.write_json_atomic(tmp_path / record.SUMMARY, whole_record())
    with pytest.raises(folders.FinishedRun):
        folders.resume_state(tmp_path, {})


@pytest.mark.slow  # a fresh interpreter per command: TensorFlow, once imported, stays
@pytest.mark.parametrize("command", FOLDER_COMMANDS)
def test_a_bad_out_is_refused_before_tensorflow_loads(tmp_path, command):
    """Would catch an entry point that imports TensorFlow (6 s or more here) before checking its arguments, as
    conv_questions did at module import until 2026-12."""
    bad = tmp_path / "a_file"
    bad.write_text("")
    folders_read = [str(tmp_path / "no_such_sweep")] if command in ("report", "tables", "tune") else []
    probe = (f"import sys; from {MODULE_OF[command]} import main; code = main({[*folders_read, f'out={bad}/x']!r}); "
             "print('tensorflow' in sys.modules); sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stdout.strip() == "False"
