"""`python -m inductive.report`: run folders on disk -> tables, figures, report.md; robust to broken folders."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import fake_run, unrendered
from inductive.evidence import figures, report, stats
from inductive.evidence.tables import collect
from test_claims import FIT, lecture_holds


NOTE = "Test images 1000-9999 were decoded from JPEG."


def build(fake_sweep, tmp_path_factory) -> Path:
    """The report of a sweep of three seeds, with a note file."""
    sweep = fake_sweep(lecture_holds(), seeds=3)
    note = tmp_path_factory.mktemp("note") / "note.md"
    note.write_text(NOTE + "\n")
    assert report.main([str(sweep), f"note={note}"]) == 0
    return sweep / "report"


@pytest.fixture(scope="module")
def built(fake_sweep, tmp_path_factory) -> Path:
    """One report serves every test that only reads its text and tables: figures built, not rendered (`undrawn`)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(figures, "save_figure", unrendered)
        return build(fake_sweep, tmp_path_factory)


@pytest.fixture(scope="module")
def drawn(fake_sweep, tmp_path_factory) -> Path:
    """The same report with every figure rendered, for the slow test that opens it in a browser."""
    return build(fake_sweep, tmp_path_factory)


def test_report_opens_with_the_claims_by_dataset_table(built):
    text = (built / "report.md").read_text()
    first_table = next(block for block in text.split("\n\n") if block.startswith("| # |"))
    assert first_table.startswith("| # | claim | Fashion-MNIST |")
    assert "| 3 | Conv architectures overfit less than fully connected ones | **supported**" in first_table
    assert text.index("## How verdicts are made") < text.index("## Where our runs contradict the lecture")
    assert "seeds 0-2" in text


def test_tables_are_tidy_and_saved_as_csv_and_parquet(built):
    runs = pd.read_csv(built / "runs.csv")
    assert len(runs) == 12 and set(runs["condition"]) == {"F1k"}
    epochs = pd.read_parquet(built / "epochs.parquet")
    assert set(epochs["split"]) == {"train", "train_running", "val"} and epochs["epoch"].min() == 1
    effects = pd.read_csv(built / "effects.csv")
    assert {"claim", "comparison", "measure", "kind", "mean", "low", "high", "p", "verdict"} <= set(effects.columns)


def test_every_figure_linked_exists_as_png_and_svg(built):
    text = (built / "report.md").read_text()
    linked = [line.split("(")[1].rstrip(")") for line in text.splitlines() if line.startswith("![")]
    assert "glance.png" in linked and any(name.startswith("claim3_effects") for name in linked)
    for name in linked:
        assert (built / name).is_file() and (built / name).with_suffix(".svg").is_file()


def test_figures_can_be_remade_from_the_saved_csvs(built, tmp_path):
    table = pd.read_csv(built / "claim3_effects.csv")
    paths = figures.DRAWERS["effects"](table, "again", tmp_path / "again")
    assert [p.suffix for p in paths] == [".png", ".svg"] and paths[0].stat().st_size > 10_000


@pytest.mark.slow
def test_the_report_never_imports_tensorflow(built, tmp_path):
    code = ("import sys; from inductive.evidence import report; "
            f"assert report.main([{str(built.parent)!r}, 'out={tmp_path}']) == 0; "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TensorFlow was imported'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.slow  # writes a whole report or study read: the end-to-end tier
def test_one_bad_folder_cannot_stop_the_report(fake_sweep, undrawn):
    sweep = fake_sweep(lecture_holds(), seeds=2)
    runs = sorted(p for p in sweep.iterdir() if p.is_dir())
    (runs[0] / "summary.json").write_text("null")
    (runs[1] / "summary.json").write_text("[1, 2]")
    (runs[2] / "shift.csv").write_text("direction,shift,fill,accuracy,consistency\nx,0,zero,0.9")
    history = runs[3] / "history.csv"
    history.write_text(history.read_text()[:-15])
    tables = collect([sweep])
    by_id = tables.runs.set_index("run_id")
    assert by_id.loc[f"{sweep.name}/{runs[0].name}", "status"] == "incomplete"
    assert "not a run record" in by_id.loc[f"{sweep.name}/{runs[1].name}", "error"]
    assert "shift.csv" in by_id.loc[f"{sweep.name}/{runs[2].name}", "notes"]
    assert "history.csv" in by_id.loc[f"{sweep.name}/{runs[3].name}", "notes"]
    assert report.main([str(sweep)]) == 0


@pytest.mark.slow  # writes a whole report or study read: the end-to-end tier
def test_a_saved_report_reads_back_as_its_runs(built, tmp_path, undrawn):
    """A report's tables folder stands in for its sweep: same runs, same conditions, same effects."""
    assert report.main([str(built), f"out={tmp_path}"]) == 0
    for name in ("runs", "effects", "glance"):
        again, first = pd.read_csv(tmp_path / f"{name}.csv"), pd.read_csv(built / f"{name}.csv")
        pd.testing.assert_frame_equal(again, first, check_exact=False, rtol=1e-9)


@pytest.mark.slow  # writes a whole report or study read: the end-to-end tier
def test_a_tables_folder_with_its_epochs_gzipped_reads_back_the_same(built, tmp_path, undrawn):
    """The reference keeps its largest epochs tables as epochs.csv.gz: read in place of epochs.csv."""
    import gzip
    import shutil

    kept = tmp_path / "kept"
    shutil.copytree(built, kept)
    plain = kept / "epochs.csv"
    with open(plain, "rb") as src, gzip.open(kept / "epochs.csv.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    plain.unlink()
    assert report.main([str(kept), f"out={tmp_path / 'out'}"]) == 0
    for name in ("epochs", "effects"):
        again, first = pd.read_csv(tmp_path / "out" / f"{name}.csv"), pd.read_csv(built / f"{name}.csv")
        pd.testing.assert_frame_equal(again, first, check_exact=False, rtol=1e-9)


@pytest.mark.slow  # writes a whole report or study read: the end-to-end tier
def test_seeds_kept_as_tables_without_verdicts_report_as_their_sweeps_do(fake_sweep, tmp_path, capsys, undrawn):
    """`python -m inductive.tables`, one folder per seed (the replication's kept seeds): no verdict written, and a
    report over the kept folders gives the effects a report over the sweeps gives. A kept folder is never rewritten."""
    from inductive import tables as tables_cli

    sweeps = [fake_sweep(lecture_holds(), seeds=1, first_seed=seed, name=f"seed{seed}") for seed in range(3)]
    kept = [tmp_path / "seeds" / sweep.name for sweep in sweeps]
    for sweep, folder in zip(sweeps, kept):
        assert tables_cli.main([str(sweep), f"out={folder}"]) == 0
        assert sorted(p.name for p in folder.iterdir()) == ["epochs.csv.gz", "layers.csv", "runs.csv", "shifts.csv"]
    assert report.main([*map(str, sweeps), f"out={tmp_path / 'from_sweeps'}"]) == 0
    assert report.main([*map(str, kept), f"out={tmp_path / 'from_kept'}"]) == 0
    for name in ("runs", "effects"):
        pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "from_kept" / f"{name}.csv"),
                                      pd.read_csv(tmp_path / "from_sweeps" / f"{name}.csv"), check_exact=False, rtol=1e-9)
    before = (kept[0] / "runs.csv").read_bytes()
    capsys.readouterr()
    assert tables_cli.main([str(sweeps[1]), f"out={kept[0]}"]) == 2
    assert "already exists" in capsys.readouterr().err and (kept[0] / "runs.csv").read_bytes() == before
    assert tables_cli.main([str(sweeps[1])]) == 2 and "out=DIR" in capsys.readouterr().err
    assert tables_cli.main([str(sweeps[1]), f"out={sweeps[1] / 'tables'}"]) == 2
    assert "inside the sweep" in capsys.readouterr().err and not (sweeps[1] / "tables").exists()


def test_only_a_finished_sweep_is_kept_as_tables(fake_sweep, tmp_path, capsys):
    """A seed killed mid-run must not pass for a finished one: nothing is written, and the run is named."""
    from inductive import tables as tables_cli

    sweep = fake_sweep(lecture_holds(), seeds=1)
    next(sweep.glob("*/summary.json")).unlink()
    assert tables_cli.main([str(sweep), f"out={tmp_path / 'kept'}"]) == 2
    assert "not finished" in capsys.readouterr().err
    assert not (tmp_path / "kept").exists() and not list(tmp_path.glob(".kept*"))


@pytest.mark.slow  # writes a whole report or study read: the end-to-end tier
def test_a_second_look_joins_the_first_looks_saved_tables(built, fake_sweep, tmp_path, undrawn):
    """Seeds 3-5 in a new sweep join seeds 0-2 read back from the first report: one condition, six seeds."""
    second = fake_sweep(lecture_holds(), seeds=3, first_seed=3, name="second_look")
    assert report.main([str(built), str(second), "alpha=0.025", f"out={tmp_path}"]) == 0
    runs = pd.read_csv(tmp_path / "runs.csv")
    assert len(runs) == 24 and set(runs["condition"]) == {"F1k"} and sorted(set(runs["seed"])) == list(range(6))
    effects = pd.read_csv(tmp_path / "effects.csv")
    assert set(effects["n"]) == {6}
    deciding = effects[effects["kind"] == "decides"]
    assert (deciding["level"] >= 1 - 0.025 - 1e-12).all() and (deciding["level"] < 1).all()
    assert "family-wise error 2.5%" in (tmp_path / "report.md").read_text()


def test_settings_read_back_from_csv_name_the_same_condition():
    """A column with gaps turns 1000 into 1000.0 and None into NaN in a saved runs.csv: same condition."""
    from inductive.evidence.tables import add_conditions

    runs = pd.DataFrame({"dataset": ["mnist"] * 3, "train_size": [1000, 1000.0, 1000],
                         "trainer.epochs": [150, 150.0, 150], "params_target": [None, float("nan"), None],
                         "trainer.batch_size": [32.0, 32, 64]})
    conditions = add_conditions(runs)
    assert list(conditions["condition"]) == ["M1ka", "M1ka", "M1kb"]
    assert conditions["condition_label"].iloc[0] == "mnist, 1k train images, batch_size=32"


def test_a_tables_folder_missing_a_table_is_named_not_skipped(built, fake_sweep, tmp_path, capsys):
    import shutil

    partial = tmp_path / "partial"
    shutil.copytree(built, partial)
    (partial / "shifts.csv").unlink()
    other = fake_sweep(lecture_holds(), seeds=2, first_seed=3, name="other")
    assert report.main([str(other), str(partial), f"out={tmp_path / 'out'}"]) == 2
    assert "shifts.csv" in capsys.readouterr().err and not (tmp_path / "out").exists()


def test_a_folder_without_runs_beside_one_with_runs_is_named(fake_sweep, tmp_path, capsys):
    sweep = fake_sweep(lecture_holds(), seeds=2)
    (tmp_path / "empty").mkdir()
    assert report.main([str(sweep), str(tmp_path / "empty"), f"out={tmp_path / 'out'}"]) == 2
    assert f"no runs below {tmp_path / 'empty'}" in capsys.readouterr().err


def test_the_report_never_writes_over_a_folder_it_reads(built, capsys):
    before = (built / "runs.csv").read_bytes()
    assert report.main([str(built), f"out={built}"]) == 2
    assert "is one of the folders read" in capsys.readouterr().err
    assert (built / "runs.csv").read_bytes() == before


def test_a_seed_run_twice_under_another_name_is_flagged(fake_sweep, undrawn):
    first = fake_sweep(lecture_holds(), seeds=2, name="first")
    again = fake_sweep(lecture_holds(), seeds=2, name="again")
    runs = collect([first, again]).runs
    flagged = runs[runs["notes"].fillna("").str.contains("repeats the condition, model and seed")]
    assert len(flagged) == len(runs) // 2 and flagged["sweep"].nunique() == 1  # one of each pair, named
    assert flagged["notes"].str.contains("averaged per seed").all()


def test_runs_given_twice_are_refused(built, tmp_path, capsys):
    assert report.main([str(built), str(built.parent), f"out={tmp_path}"]) == 2
    assert "two runs share the id" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [([], "no sweep folder"), (["nowhere"], "no such folder"),
                                           (["a", "bogus=1"], "unknown argument"),
                                           (["a", "note=/no/such/note.md"], "note=/no/such/note.md"),
                                           (["a", "alpha=0.5"], "alpha=0.5: expected"),
                                           (["a", "alpha=five"], "alpha=five: expected")])
def test_bad_arguments_give_one_clear_line_and_exit_2(tmp_path, capsys, args, message):
    assert report.main(args) == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_a_tiny_real_sweep_ends_up_in_the_tables(tiny_npz, tmp_path):
    from conftest import tiny_overrides

    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-m", "inductive.run", "-m", *tiny_overrides(tiny_npz, tmp_path),
                             "trainer.epochs=2", "model=dense,gap", f"hydra.sweep.dir={tmp_path}/sweep"],
                            capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    result = subprocess.run([sys.executable, "-m", "inductive.report", f"{tmp_path}/sweep"], capture_output=True,
                            text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    runs = pd.read_csv(tmp_path / "sweep" / "report" / "runs.csv")
    assert sorted(runs["model"]) == ["dense", "gap"] and set(runs["status"]) == {"completed"}
    summary = json.loads(next((tmp_path / "sweep").glob("0_*/summary.json")).read_text())
    assert runs.loc[runs["model"] == "dense", "test_accuracy"].iloc[0] == pytest.approx(summary["test"]["accuracy"])


@pytest.mark.slow
def test_report_html_opens_offline_with_every_figure_and_the_summary_first(drawn, browser):
    page = drawn / "report.html"
    text = page.read_text()
    assert "http://" not in text.replace("http://www.w3.org", "") and "https://" not in text
    browser.get(page.as_uri())
    first = browser.execute_script("return document.body.querySelector('table, img, h2').tagName")
    assert first == "TABLE"
    images = browser.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt])")
    assert len(images) >= 5 and all(done and width > 0 for done, width, _ in images), images
    assert "supported" in browser.find_element("css selector", "table").text


def test_the_sweep_summary_has_every_job_in_order(fake_sweep, capsys):
    from omegaconf import OmegaConf

    from inductive.training.sweep import SWEEP_TABLE, SweepSummary

    sweep = fake_sweep(lecture_holds(), seeds=2, name="summed")
    SweepSummary().on_multirun_end(OmegaConf.create({"hydra": {"sweep": {"dir": str(sweep)}}}))
    table = pd.read_csv(sweep / SWEEP_TABLE)
    assert list(table["job"].str.split("_").str[0].astype(int)) == list(range(8))
    assert set(table["status"]) == {"completed"} and table["test_gap"].notna().all()
    assert f"python -m inductive.report {sweep}" in capsys.readouterr().out


def test_a_note_file_is_printed_under_the_title(built):
    lines = (built / "report.md").read_text().splitlines()
    assert lines[2] == NOTE


def test_runs_read_outside_a_study_are_labelled_exploratory_with_what_they_break(built):
    """Catches a report judging non-protocol runs as protocol runs: three seeds sharing one split are named."""
    text = (built / "report.md").read_text()  # a sweep of three seeds, read by `python -m inductive.report`
    label = text.index("**Exploratory**")
    assert label < text.index("| # | claim |") < text.index("| condition | breaks |")
    assert "too few seeds (3 of a model" in text


@pytest.mark.slow  # writes a whole report or study read: the end-to-end tier
def test_an_interval_past_its_measures_range_is_printed_clipped_with_a_footnote(built, tmp_path, undrawn):
    """Two seeds whose shift measures disagree: kept correct, a fraction, has an interval far past [-1, 1] and prints
    at the bounds, marked, with the footnote; accuracy kept, a ratio nothing bounds above, prints as computed. The
    three-seed report clips nothing."""
    for num, (model, seed, kept) in enumerate([("gap", 0, 0.0), ("gap", 1, 0.2), ("dense", 0, 0.2), ("dense", 1, 0.0)]):
        fake_run(tmp_path / "sweep", num, model, seed, FIT, [0.5, 0.65, 0.75, 0.78, 0.80], 0.85, shift_kept=kept)
    text = (report.build_report([tmp_path / "sweep"])).read_text()
    effects = pd.read_csv(tmp_path / "sweep" / "report" / "effects.csv").set_index("measure")
    kept, ratio = effects.loc["kept correct, 1-3 px"], effects.loc["accuracy kept, 1-3 px"]
    assert kept["low"] < kept["span_low"] == -1 and kept["high"] > kept["span_high"] == 1  # the saved bounds stay
    assert f"kept correct, 1-3 px {kept['mean']:+.3f} [-1.000{stats.CLIPPED}, +1.000{stats.CLIPPED}]" in text
    assert f"accuracy kept, 1-3 px {ratio['mean']:+.3f} [{ratio['low']:+.3f}, {ratio['high']:+.3f}]" in text
    assert ratio["high"] > 1 and text.count(stats.CLIPPED_NOTE) == 1
    normal = (built / "report.md").read_text()
    assert stats.CLIPPED not in normal and stats.CLIPPED_NOTE not in normal


@pytest.mark.parametrize("drawer", ["effects", "glance_effects"])
def test_a_forest_plot_draws_an_interval_past_its_measures_range_clipped_with_an_arrowhead(drawer, monkeypatch):
    """As the report prints it: the bar stops at the measure's bound and an arrowhead marks the clipped end; an
    interval inside its range is drawn as computed. Would catch: a bar drawn to -2.4 on a measure bounded at -1
    (the figure then says more than the seeds can), or a clipped end left unmarked."""
    drawn = []
    monkeypatch.setattr(figures, "save_figure", lambda fig, stem: drawn.append(fig) or [])
    rows = pd.DataFrame([
        {"claim": "5. c", "dataset": "MNIST", "condition": "M1k", "comparison": "gap - dense", "measure": "kept",
         "kind": "decides", "unit": "fraction", "band": 0.01, "span_low": -1.0, "span_high": 1.0, "mean": 0.1,
         "low": -2.4, "high": 2.6, "verdict": stats.INCONCLUSIVE},
        {"claim": "5. c", "dataset": "Fashion-MNIST", "condition": "F1k", "comparison": "gap - dense",
         "measure": "kept", "kind": "decides", "unit": "fraction", "band": 0.01, "span_low": -1.0, "span_high": 1.0,
         "mean": 0.1, "low": 0.05, "high": 0.15, "verdict": "supported"}])
    getattr(figures, drawer)(rows, "title", "unused")
    lines = [line for line in drawn[0].axes[0].get_lines()
             if line.get_linewidth() == 4 and len(line.get_xdata()) == 2]  # the interval bars
    assert sorted(tuple(line.get_xdata()) for line in lines) == [(-1.0, 1.0), (0.05, 0.15)]
    arrows = [(line.get_marker(), line.get_xdata()[0]) for line in drawn[0].axes[0].get_lines()
              if line.get_marker() in ("<", ">")]
    assert sorted(arrows) == [("<", -1.0), (">", 1.0)]
    assert "clipped" in drawn[0].axes[0].get_xlabel()


def test_the_glance_of_few_claims_is_shorter_than_a_slide_and_of_many_a_slide(monkeypatch):
    """Would catch: one claim's cells stretched over a whole slide's height, the verdict word far from its
    effect (the matched study's glance before the figure was sized by its rows)."""
    drawn = []
    monkeypatch.setattr(figures, "save_figure", lambda fig, stem: drawn.append(fig) or [])
    cell = {"dataset": "MNIST", "verdict": "supported", "effect": "dense - gap gap at stop +0.047 [+0.031, +0.062]"}
    for claims in (1, 5):
        figures.glance(pd.DataFrame([{**cell, "claim": f"{n}. claim"} for n in range(claims)]), "title", "unused")
    one, five = (fig.get_size_inches()[1] for fig in drawn)
    assert one < 0.5 * five and five == pytest.approx(7.2)
