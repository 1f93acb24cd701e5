"""The record schema: every reader of a run's records (report, tables, tune, the end-of-sweep table, `run`'s own
result and objective, the resume check) goes through it, so a malformed record makes that run `incomplete` with
its reason and never stops a command. Property tests feed it arbitrary JSON, history and kept-table cells."""

from __future__ import annotations

import json
import logging
import math
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import examples, whole_record
from inductive.errors import ConfigError
from inductive.evidence import kept
from inductive.evidence.tables import collect, export, layer_rows, run_row
from inductive.run import objective, result_table
from inductive.training import folders, record
from inductive.training.record_schema import (OBJECTIVES, STATUSES, Summary, read_history, read_summary, stand_in,
                                              summary_of)
from inductive.training.sweep import job_row
from test_claims import lecture_holds

JSON = st.recursive(st.none() | st.booleans() | st.integers(min_value=-2**64, max_value=2**64)
                    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=12)
FEW = settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])


def leaf_paths(value, prefix=()) -> list[tuple]:
    """Every path to a value inside a JSON document (mappings and lists), the containers' own paths included."""
    paths = [prefix] if prefix else []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    for key, inner in items:
        paths += leaf_paths(inner, (*prefix, key))
    return paths


PATHS = leaf_paths(whole_record())


@st.composite
def damaged_records(draw) -> dict:
    """A whole record with one value anywhere in it replaced by arbitrary JSON, or removed."""
    damaged = whole_record()
    path = draw(st.sampled_from(PATHS))
    *parents, last = path
    holder = damaged
    for key in parents:
        holder = holder[key]
    if isinstance(holder, dict) and draw(st.booleans()):
        del holder[last]
    else:
        holder[last] = draw(JSON)
    return damaged


def every_reader(summary: Summary) -> None:
    """What each command reads of a record: none may raise on a record the schema let through."""
    history = pd.DataFrame({"epoch": [1, 2], "loss": [0.5, 0.4], "val_loss": [0.6, 0.5]})
    row = run_row("sweep/0_run", summary, history, [])
    assert row["status"] in STATUSES
    for column in ("seed", "params_trainable", "final_epoch", "test_accuracy", "test_gap", "time_total_s"):
        assert row.get(column) is None or isinstance(row[column], (int, float))
    layer_rows("sweep/0_run", summary)
    result_table(summary)
    for key in OBJECTIVES:
        value = objective(summary, key, "maximize")
        assert isinstance(value, float)


def test_a_whole_record_passes_and_keeps_its_order():
    raw = whole_record()
    summary = summary_of(raw)
    assert summary.record() == raw and list(summary.record()) == list(raw)
    every_reader(summary)
    assert objective(summary, "best.val_accuracy") == 0.9 and objective(summary, "test.accuracy") == 0.89


def test_the_runs_table_says_which_cpu_ran_a_run_and_whether_it_was_resumed():
    """A long study's seeds can run on different machines and be cut and resumed: its cost benchmark sums a run's
    time by the CPU it ran on and counts the resumed runs, whose times cover the last process only."""
    history = pd.DataFrame({"epoch": [1, 2], "loss": [0.5, 0.4], "val_loss": [0.6, 0.5]})
    cpu = "AMD EPYC 7B13 (no native bfloat16)"
    row = run_row("s/0", summary_of(whole_record(device={"device": "CPU", "cpu": cpu}, resumed=True)), history, [])
    assert row["cpu"] == cpu and row["resumed"] is True
    row = run_row("s/0", summary_of(whole_record()), history, [])  # recorded before either was written
    assert row["cpu"] is None and row["resumed"] is None


def read_or_refuse(raw) -> None:
    """A record every reader can use, or one ValueError line: never a crash in a reader."""
    try:
        summary = summary_of(raw)
    except ValueError as err:
        assert str(err) and "\n" not in str(err)
    else:
        every_reader(summary)


@FEW
@given(JSON)
def test_any_json_is_a_record_or_one_reason(raw):
    read_or_refuse(raw)


@settings(max_examples=examples(150), deadline=None)
@given(damaged_records())
def test_a_record_damaged_anywhere_is_a_record_or_one_reason_naming_the_key(raw):
    read_or_refuse(raw)


@pytest.mark.parametrize("change, named", [
    ({"seed": "abc"}, "seed='abc'"),
    ({"seed": 2**32}, "seed=4294967296"),
    ({"final": {**whole_record()["final"], "epoch": "last"}}, "final.epoch='last'"),
    ({"params": {**whole_record()["params"], "layers": [{}]}}, "params.layers.0.name is missing"),
    ({"final": None}, "lacks final"),
    ({"test": {}}, "lacks test.accuracy"),
    ({"status": "finished"}, "status='finished'"),
    ({"config": {"data": {"image_shape": "28x28"}}}, "config.data.image_shape='28x28'"),
])
def test_each_malformed_field_is_named(change, named):
    with pytest.raises(ValueError, match=named.replace(".", r"\.").replace("(", r"\(")):
        summary_of(whole_record(**change))


def test_a_record_with_only_a_status_is_incomplete_naming_what_it_lacks():
    with pytest.raises(ValueError, match="lacks model, dataset, seed, final, best, test.accuracy, params.trainable"):
        summary_of({"status": "completed"})
    assert summary_of({"status": "failed"}).status == "failed"  # a job that failed before training


# ---------------------------------------------------------------- through every command that reads run folders

def write_run(sweep: Path, name: str, summary, history: str | None = None) -> Path:
    run_dir = sweep / name
    run_dir.mkdir(parents=True)
    (run_dir / record.SUMMARY).write_text(summary if isinstance(summary, str) else json.dumps(summary))
    if history is not None:
        (run_dir / record.HISTORY).write_text(history)
    return run_dir


GOOD_HISTORY = "epoch,loss,accuracy,val_loss,val_accuracy\n0,0.5,0.8,0.6,0.7\n1,0.4,0.9,0.5,0.8\n2,0.3,0.95,0.5,0.85\n"
BAD = {  # the records that crashed report, tables and tune
    "1_seed": whole_record(seed="abc"),
    "2_epoch": whole_record(final={**whole_record()["final"], "epoch": "last"}),
    "3_layers": whole_record(params={**whole_record()["params"], "layers": [{}]}),
    "4_status_only": {"status": "completed"},
    "5_no_final": {k: v for k, v in whole_record().items() if k != "final"},
    "6_text": "not json {",
}


@pytest.fixture
def bad_sweep(tmp_path) -> Path:
    sweep = tmp_path / "sweep"
    write_run(sweep, "0_good", whole_record(), GOOD_HISTORY)
    for name, summary in BAD.items():
        write_run(sweep, name, summary, GOOD_HISTORY)
    write_run(sweep, "7_inf_epoch", whole_record(seed=7), GOOD_HISTORY.replace("\n2,", "\ninf,"))
    return sweep


def test_the_tables_make_each_malformed_run_incomplete_with_its_reason(bad_sweep):
    runs = collect([bad_sweep]).runs.set_index("run_id")
    assert runs.loc["sweep/0_good", "status"] == "completed"
    for name in BAD:
        assert runs.loc[f"sweep/{name}", "status"] == "incomplete"
        assert "summary.json" in runs.loc[f"sweep/{name}", "error"]
    assert "seed='abc'" in runs.loc["sweep/1_seed", "error"]
    assert "final.epoch='last'" in runs.loc["sweep/2_epoch", "error"]
    inf = runs.loc["sweep/7_inf_epoch"]
    assert inf["status"] == "completed" and inf["epochs_run"] == 2 and "1 cut or malformed row" in inf["notes"]


def test_the_end_of_sweep_table_and_tune_read_through_the_schema(bad_sweep, tmp_path, caplog):
    from inductive.evidence import tuning
    from inductive.training.sweep import sweep_table

    table = sweep_table(bad_sweep).set_index("job")
    assert table.loc["0_good", "status"] == "completed" and table.loc["1_seed", "status"] == "incomplete"
    assert "seed='abc'" in table.loc["1_seed", "error"]
    with caplog.at_level(logging.WARNING):
        assert tuning.main([str(bad_sweep), f"out={tmp_path / 'rates.yaml'}"]) == 0
    assert "seed='abc'" in caplog.text and (tmp_path / "rates.yaml").is_file()


def test_tables_refuses_a_sweep_with_a_malformed_run_naming_it_and_writes_nothing(bad_sweep, tmp_path, capsys):
    from inductive import tables as tables_cli

    assert tables_cli.main([str(bad_sweep), f"out={tmp_path / 'kept'}"]) == 2
    err = capsys.readouterr().err
    assert "not finished" in err and "sweep/" in err and "Traceback" not in err
    assert not (tmp_path / "kept").exists()


@pytest.mark.slow  # writes a whole report or study read: the end-to-end tier
def test_the_report_over_many_runs_is_not_stopped_by_malformed_ones(fake_sweep, tmp_path, undrawn):
    from inductive.evidence import report

    sweep = fake_sweep(lecture_holds(), seeds=2)
    for name, summary in BAD.items():
        write_run(sweep, f"9{name}", summary)
    assert report.main([str(sweep), f"out={tmp_path / 'report'}"]) == 0
    text = (tmp_path / "report" / "report.md").read_text()
    assert "seed='abc'" in text and "final.epoch='last'" in text


def test_a_resume_refuses_a_folder_whose_record_is_malformed(tmp_path):
    write_run(tmp_path, "run", whole_record(final=None))
    with pytest.raises(ConfigError, match=r"summary\.json that is not a run record .*lacks final"):
        folders.resume_state(tmp_path / "run", {})
    summary, problem = read_summary(tmp_path / "run")
    assert summary is None and objective(summary, "best.val_accuracy", "minimize") == math.inf


def test_a_missing_record_stands_in_from_the_hydra_config(tmp_path):
    run_dir = tmp_path / "0_run"
    (run_dir / ".hydra").mkdir(parents=True)
    (run_dir / ".hydra" / "config.yaml").write_text("model: {name: gap}\ndata: {name: mnist}\nseed: abc\n")
    summary, problem = read_summary(run_dir)
    assert summary is None and "no summary.json" in problem
    standing = stand_in(run_dir, problem)
    assert (standing.status, standing.seed, standing.error) == ("incomplete", None, problem)
    assert job_row(run_dir)["status"] == "incomplete"


@FEW
@given(JSON)
def test_any_json_in_a_run_folder_is_a_row_of_the_runs_table(raw):
    with tempfile.TemporaryDirectory() as tmp:
        sweep = Path(tmp) / "sweep"
        write_run(sweep, "0_good", whole_record(), GOOD_HISTORY)
        write_run(sweep, "1_any", json.dumps(raw), GOOD_HISTORY)
        runs = collect([sweep]).runs.set_index("run_id")
        assert set(runs["status"]) <= set(STATUSES)
        if runs.loc["sweep/1_any", "status"] == "incomplete":
            assert "summary.json" in runs.loc["sweep/1_any", "error"]


@FEW
@given(st.text(max_size=200))
def test_any_history_text_reads_as_whole_epochs_or_a_note(text):
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / record.HISTORY).write_text(text)
        history, note = read_history(Path(tmp))
        assert history.empty or (history["epoch"].dtype.kind == "i" and (history["epoch"] >= 1).all())
        assert history[["loss", "val_loss"]].notna().all().all() and (note is None or "\n" not in note)


# ---------------------------------------------------------------- the kept tables (a report's tables folder)

@pytest.fixture(scope="module")
def kept_folder(fake_sweep, tmp_path_factory) -> Path:
    sweep = fake_sweep(lecture_holds(), seeds=1, name="kept_seed")
    out = tmp_path_factory.mktemp("kept") / "tables"
    export([sweep], out)
    return out


@pytest.mark.parametrize("table, column, value, says", [
    ("runs", "seed", "abc", "seed='abc': expected a seed"),
    ("runs", "seed", "-1", "seed=-1: expected a seed"),
    ("runs", "status", "finished", "status='finished'"),
    ("runs", "test_accuracy", "high", "test_accuracy='high': expected a number"),
    ("runs", "model.conv_filters", "[32,", "model.conv_filters='[32,': expected a JSON list"),
    ("runs", "model.kernel_size", "abc", "model.kernel_size='abc': expected a JSON list of ints or an int"),
    ("runs", "trainer.optimizer", "[adam", "trainer.optimizer='[adam': expected a JSON list"),
    ("layers", "output_shape", "[28, 28", "malformed row"),
    ("epochs", "epoch", "inf", "malformed row"),
    ("shifts", "accuracy", "x", "malformed row"),
    ("layers", "trainable", "-5", "malformed row"),
])
def test_a_malformed_kept_cell_makes_its_run_incomplete_or_its_row_left_out(kept_folder, tmp_path, table, column,
                                                                             value, says):
    folder = tmp_path / "tables"
    shutil.copytree(kept_folder, folder)
    path = kept.table_file(folder, table)
    frame = pd.read_csv(path).astype({column: object})
    frame.loc[0, column] = value
    frame.to_csv(path, index=False)
    runs = collect([folder]).runs.set_index("run_id")
    rid = frame.loc[0, "run_id"]
    said = " ".join(str(runs.loc[rid, c]) for c in ("error", "notes"))
    assert says in said and str(folder) in said
    if table == "runs":
        assert runs.loc[rid, "status"] == "incomplete"
    else:
        assert runs.loc[rid, "status"] == "completed"


@FEW
@given(st.data())
def test_any_text_in_any_kept_cell_never_stops_the_tables(kept_folder, data):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "tables"
        shutil.copytree(kept_folder, folder)
        table = data.draw(st.sampled_from(kept.TABLE_NAMES))
        path = kept.table_file(folder, table)
        frame = pd.read_csv(path)
        column = data.draw(st.sampled_from([c for c in frame.columns if c != "run_id"]))
        row = data.draw(st.integers(0, len(frame) - 1))
        frame = frame.astype({column: object})
        frame.loc[row, column] = data.draw(st.text(max_size=6) | st.floats(allow_nan=True, allow_infinity=True))
        frame.to_csv(path, index=False)
        tables = collect([folder])
        assert set(tables.runs["status"]) <= set(STATUSES)
        assert tables.epochs["epoch"].dtype.kind == "i"


def test_a_valid_kept_table_is_read_unchanged(kept_folder):
    raw = pd.read_csv(kept.table_file(kept_folder, "runs"))
    read, *_ = kept.read_tables(kept_folder)
    pd.testing.assert_frame_equal(read, raw)
