"""One vocabulary for a run's metrics: `train_accuracy` is the eval-mode pass, Keras's running mean is
`train_accuracy_running`, and gaps come from the eval-mode numbers, in every table a run ends up in. Records kept
under the old names (the running mean was `train_accuracy`) read the same as new ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import fake_run
from inductive.evidence import kept, tables
from inductive.training import record
from inductive.training.metric_names import GLOSSARY, ORDER, upgrade_epochs, upgrade_runs
from inductive.training.record_schema import read_summary, summary_of
from inductive.training.sweep import sweep_table

RETIRED = ("train_acc", "val_acc", "test_acc", "gap")  # the sweep table's names; `train_eval*`, `eval_gap` anywhere


@pytest.fixture
def one_run(tmp_path):
    """A run whose running mean (0.01 below) and eval-mode train accuracy differ, so a swap shows."""
    run_dir = fake_run(tmp_path / "sweep", 0, "dense", 0, train_eval=[0.6, 0.8, 0.97], val=[0.5, 0.7, 0.8],
                       test_accuracy=0.79)
    return run_dir, pd.read_csv(run_dir / record.HISTORY).iloc[-1]


def test_every_table_gives_train_accuracy_the_eval_mode_number(one_run, tmp_path):
    """Would catch a table that reads Keras's running mean as `train_accuracy` (the two differed per table until
    December 2026), or a gap taken from the running mean."""
    run_dir, last = one_run
    summary, _ = read_summary(run_dir)
    found = tables.collect([run_dir.parent])
    runs, epochs = found.runs.iloc[0], found.epochs
    at_end = epochs[(epochs["epoch"] == epochs["epoch"].max()) & (epochs["metric"] == "accuracy")]
    by_split = at_end.set_index("split")["value"]
    swept = sweep_table(run_dir.parent).iloc[0]
    for value in (summary.final.train_accuracy, runs["final_train_accuracy"], by_split["train"],
                  swept["train_accuracy"]):
        assert value == pytest.approx(last.train_eval_accuracy)
    for value in (summary.final.train_accuracy_running, runs["final_train_accuracy_running"],
                  by_split["train_running"]):
        assert value == pytest.approx(last.accuracy)
    assert runs["final_accuracy_gap"] == pytest.approx(last.train_eval_accuracy - last.val_accuracy)
    assert runs["final_loss_gap"] == pytest.approx(last.val_loss - last.train_eval_loss)
    assert runs["test_gap"] == swept["test_gap"] == pytest.approx(last.train_eval_accuracy - 0.79)


def test_no_table_column_means_two_things(one_run):
    """Every metric column of every table is a glossary name (with its final_/best_ place), so one name cannot
    hold two numbers; the names retired in December 2026 appear nowhere."""
    run_dir, _ = one_run
    found = tables.collect([run_dir.parent])
    metric_columns = [c.split("_", 1)[1] for c in found.runs.columns if c.startswith(("final_", "best_"))]
    assert set(metric_columns) <= set(ORDER) and set(ORDER) - {"epoch"} <= set(GLOSSARY)
    swept = sweep_table(run_dir.parent)
    every = [c for c in (*found.runs.columns, *swept.columns, *found.epochs["split"].unique()) if "." not in c]
    assert not [c for c in every if c in RETIRED or "train_eval" in c or "eval_gap" in c]  # settings (a.b) aside
    assert set(found.epochs["split"]) == {"train", "train_running", "val"}


def old_form(run_dir):
    """The run's kept tables as the code before the vocabulary wrote them."""
    found = tables.collect([run_dir.parent])
    runs = found.runs.copy()
    for place in ("final", "best"):
        runs = runs.rename(columns={f"{place}_train_accuracy": f"{place}_train_eval_accuracy",
                                    f"{place}_train_loss": f"{place}_train_eval_loss",
                                    f"{place}_accuracy_gap": f"{place}_eval_gap",
                                    f"{place}_train_accuracy_running": f"{place}_train_accuracy",
                                    f"{place}_train_loss_running": f"{place}_train_loss"})
        runs[f"{place}_accuracy_gap"] = runs[f"{place}_train_accuracy"] - runs[f"{place}_val_accuracy"]
        runs[f"{place}_loss_gap"] = runs[f"{place}_val_loss"] - runs[f"{place}_train_loss"]
    epochs = found.epochs.assign(split=found.epochs["split"].map({"train": "train_eval", "train_running": "train",
                                                                 "val": "val"}))
    return found, runs, epochs


def test_tables_kept_under_the_old_names_read_as_new_ones(one_run, tmp_path):
    """Would catch an upgrade that swaps the two train accuracies back, keeps a running-mean gap, or runs twice."""
    found, runs, epochs = old_form(one_run[0])
    upgraded = upgrade_runs(runs)
    assert list(upgraded.columns) == list(found.runs.columns)
    pd.testing.assert_frame_equal(upgraded, found.runs, check_dtype=False)
    assert upgrade_runs(upgraded) is upgraded
    assert upgrade_epochs(epochs).equals(found.epochs) and upgrade_epochs(found.epochs) is found.epochs
    folder = tmp_path / "kept"
    folder.mkdir()
    runs.to_csv(folder / "runs.csv", index=False)
    epochs.to_csv(folder / "epochs.csv", index=False)
    found.layers.to_csv(folder / "layers.csv", index=False)
    found.shifts.to_csv(folder / "shifts.csv", index=False)
    read_runs, read_epochs, _, _ = kept.read_tables(folder)
    assert np.allclose(read_runs["final_train_accuracy"], found.runs["final_train_accuracy"])
    assert set(read_epochs["split"]) == {"train", "train_running", "val"}


def test_an_old_summary_reads_with_the_new_names():
    """summary.json written before the vocabulary: `train_eval_*` become the train numbers, the old running-mean
    gaps give way to eval-mode ones, and a run older still (no eval-mode pass) keeps only its running means."""
    old = {"epoch": 4, "train_loss": 0.2, "train_accuracy": 0.93, "val_loss": 0.5, "val_accuracy": 0.85,
           "accuracy_gap": 0.08, "loss_gap": 0.3, "train_eval_loss": 0.1, "train_eval_accuracy": 0.97,
           "eval_gap": 0.12}
    from conftest import whole_record

    final = summary_of(whole_record(final=old, best=old)).final
    assert (final.train_accuracy, final.train_accuracy_running, final.accuracy_gap) == (0.97, 0.93, 0.12)
    assert final.loss_gap == pytest.approx(0.4)
    oldest = {k: old[k] for k in ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy")}
    final = summary_of(whole_record(final=oldest, best=oldest)).final
    assert final.train_accuracy is None and final.train_accuracy_running == 0.93 and final.accuracy_gap is None


def test_an_old_kept_table_with_a_text_cell_still_reads(one_run, tmp_path):
    """Would catch an upgrade that computes the new loss gap before the schema check and stops on a text cell."""
    found, runs, epochs = old_form(one_run[0])
    runs["final_val_loss"] = runs["final_val_loss"].astype(object)
    runs.loc[0, "final_val_loss"] = "oops"
    folder = tmp_path / "kept"
    folder.mkdir()
    for name, table in {"runs": runs, "epochs": epochs, "layers": found.layers, "shifts": found.shifts}.items():
        table.to_csv(folder / f"{name}.csv", index=False)
    read_runs, _, _, _ = kept.read_tables(folder)
    assert read_runs.loc[0, "status"] == "incomplete" and "final_val_loss='oops'" in read_runs.loc[0, "error"]
