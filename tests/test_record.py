"""`python -m inductive.study record`: the verdicts of record follow the studies' `record` and `replaces` keys."""

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from inductive.errors import ConfigError
from inductive.study import record, spec, store
from inductive.study.__main__ import main

COLUMNS = ["number", "claim", "dataset", "train_size", "verdict", "effect"]


def verdicts(word: str, claims=(3, 7), datasets=("mnist",)) -> pd.DataFrame:
    return pd.DataFrame([[n, f"{n}. claim {n}", d, 1000, word, f"{word} effect"] for n in claims for d in datasets],
                        columns=COLUMNS)


def read(study, table: pd.DataFrame) -> record.Read:
    return record.Read(study, None, [], sorted(set(table["dataset"])), table)


def test_a_study_replaces_what_its_replaces_key_names_and_keeps_the_rest():
    first, second = (spec.load(n) for n in ("evidence", "evidence_second_look"))
    third = spec.load("evidence_replication")
    reads = [read(first, verdicts("first", datasets=("mnist", "cifar10"))), read(second, verdicts("second")),
             read(third, verdicts("third", claims=(3,)))]
    out = record.of_record(reads).set_index(["number", "dataset"])["effect"].to_dict()
    assert out == {(3, "mnist"): "(replication) third effect", (7, "mnist"): "(second look) second effect",
                   (3, "cifar10"): "(evidence) first effect", (7, "cifar10"): "(evidence) first effect"}


def test_two_studies_of_record_that_do_not_replace_one_another_are_named():
    first, second = (spec.load(n) for n in ("evidence", "evidence_second_look"))
    rival = dataclasses.replace(second, replaces=[])
    with pytest.raises(ConfigError, match="evidence and evidence_second_look both give"):
        record.of_record([read(first, verdicts("first")), read(rival, verdicts("second"))])


def test_a_study_gives_of_record_only_the_claims_and_sizes_its_record_names():
    matched = spec.load("evidence_matched")
    out = record.of_record([read(matched, verdicts("sized", claims=(3, 9)))])
    assert list(out["number"]) == [9]
    sized = dataclasses.replace(matched, record=spec.Record((9,), (4000,)))
    assert record.of_record([read(sized, verdicts("sized", claims=(9,)))]).empty


def test_a_claim_of_record_at_a_size_its_study_read_but_did_not_judge_says_not_judged():
    """data_size gives control 8 of record at 3,000 and 9,000 images but skips local at 9,000: the README's
    9,000-image table must say so, not leave the claim out as if it were never registered there."""
    study = spec.load("data_size")
    judged = pd.DataFrame([[n, f"{n}. claim {n}", "fashion_mnist", size, "supported", "an effect"]
                           for n in (3, 5, 7, 8) for size in (1000, 3000, 9000) if not (n == 8 and size == 9000)],
                          columns=COLUMNS)
    out = record.of_record([read(study, judged)]).set_index(["number", "train_size"])
    assert out.loc[(8, 9000), "verdict"] == "not judged" and out.loc[(8, 9000), "effect"] == "(data size)"
    assert "| 8. claim 8 | not judged (data size) |" in record.size_tables(out.reset_index())  # no verdict: not bold
    assert out.loc[(8, 3000), "verdict"] == "supported" and 1000 not in out.index.get_level_values("train_size")
    assert (out.drop(index=(8, 9000))["verdict"] == "supported").all()


@pytest.mark.slow  # writes a whole report or study read: the end-to-end tier
def test_the_reference_readme_states_the_committed_verdicts_of_record(tmp_path):
    """Over results/reference: the replication's verdicts for claims 1-8, the matched study's for control 9."""
    folder = Path("results/reference")
    template = folder / "README.template.md"
    if not (folder / "evidence_replication" / "report" / "glance.csv").is_file():
        pytest.skip("no reference reports in this checkout")
    text = record.write(template, tmp_path / "README.md").read_text()
    expected = pd.concat([pd.read_csv(folder / f"{name}/report/glance.csv", keep_default_na=False)
                          for name in ("evidence_replication", "evidence_matched")])
    for row in expected.itertuples():
        label = "matched" if row.claim.startswith("9.") else "replication"
        cell = f"**{row.verdict}** ({label}) " + row.effect.replace("|", "\\|")
        assert cell in text, (row.claim, row.dataset)
    assert "<!--" not in text


def test_record_with_a_missing_template_exits_2_naming_it(tmp_path, capsys):
    assert main(["record", "--template", str(tmp_path / "nope.md")]) == 2
    assert "nope.md" in capsys.readouterr().err and not (tmp_path / "README.md").exists()


def test_a_study_over_several_sizes_is_of_record_at_the_sizes_its_record_names():
    """data_size's verdicts at its middle size are of record there; at 1,000 the replication's stand (no
    conflict)."""
    replication, sizes = (spec.load(n) for n in ("evidence_replication", "data_size"))
    middle = sizes.train_sizes[1]
    by_size = pd.concat([verdicts("small", claims=(3,)), verdicts("large", claims=(3,)).assign(train_size=float(middle))])
    reads = [read(replication, verdicts("replicated", claims=(3,))), read(sizes, by_size)]
    out = record.of_record(reads).set_index("train_size")["effect"].to_dict()
    largest = sizes.train_sizes[-1]  # of record there too, and read, but these verdicts stop at the middle size
    assert out == {1000: "(replication) replicated effect", middle: "(data size) large effect", largest: "(data size)"}
    tables = record.record_tables(reads)
    assert "At 1,000 training images:" in tables and f"At {middle:,} training images:" in tables


@pytest.fixture
def sizes_read(tmp_path) -> record.Read:
    """data_size with its tables in tmp_path: Fashion-MNIST kept whole and read (its report's size_verdicts.csv,
    claim 8 judged at the two smaller sizes only), 3 of MNIST's jobs kept, none of CIFAR-10's. The sizes are the
    study file's own, so an amendment of its sizes keeps these tests true."""
    study = dataclasses.replace(spec.load("data_size"), results=str(tmp_path / "data_size"))
    small, middle, large = study.train_sizes
    place = store.Place.of(study)
    for job in [*study.jobs_of("fashion_mnist"), *study.jobs_of("mnist")[:3]]:
        place.kept_dir(job).mkdir(parents=True)
        (place.kept_dir(job) / "runs.csv").write_text("time_total_s\n60\n")
    judged = [(3, small, "supported"), (3, middle, "inconclusive"), (3, large, "contradicted"), (8, small, "supported"),
              (8, middle, "contradicted")]
    (place.results / "report").mkdir()
    pd.DataFrame([{"claim": f"{n}. claim {n}", "dataset": "Fashion-MNIST", "train_size": float(size),
                   "condition": f"F{size // 1000}k", "verdict": word, "effect": f"{word} effect"}
                  for n, size, word in judged]).to_csv(place.results / "report" / "size_verdicts.csv", index=False)
    return record.read_state(study)


def by_size_rows(table: str) -> dict[tuple[str, str], list[str]]:
    """(claim number, dataset) -> the cells at each size."""
    rows = [line.strip("|").split(" | ") for line in table.splitlines()[2:]]
    return {(row[0].split(".")[0].strip(), row[1]): [cell.strip() for cell in row[2:]] for row in rows}


def test_the_by_size_table_states_each_claim_at_each_size_read_or_how_far_its_study_is(sizes_read):
    """Read verdicts where data_size has read a dataset whole, its kept jobs where not; the 1,000-image verdicts of
    record with data_size's own beside them as a check."""
    assert sizes_read.whole == ["fashion_mnist"]
    replication = spec.load("evidence_replication")
    replicated = read(replication, verdicts("supported", claims=(3, 8), datasets=("fashion_mnist", "mnist", "cifar10")))
    table = record.by_size_table([replicated, sizes_read])
    small, middle, large = sizes_read.study.train_sizes
    assert table.splitlines()[0] == f"| claim | dataset | {small:,} | {middle:,} | {large:,} |"
    rows = by_size_rows(table)
    assert {number for number, _ in rows} == {"3", "5", "7", "8"}  # the claims data_size gives of record
    assert rows["3", "Fashion-MNIST"] == ["**supported** (replication); check: **supported** (data size)",
                                          "**inconclusive** (data size)", "**contradicted** (data size)"]
    assert rows["8", "Fashion-MNIST"][2] == "not judged (data size)"
    assert rows["3", "MNIST"] == ["**supported** (replication); check: running, 3 of 30 jobs kept (data size)",
                                  "not run yet, 0 of 30 jobs kept (data size)",  # each size counts its own jobs
                                  "not run yet, 0 of 25 jobs kept (data size)"]  # local is not run at the largest size
    assert rows["3", "CIFAR-10"][1:] == ["not run yet, 0 of 30 jobs kept (data size)",
                                         "not run yet, 0 of 25 jobs kept (data size)"]
    assert rows["5", "MNIST"][0] == "not judged (replication); check: running, 3 of 30 jobs kept (data size)"


def test_record_writes_the_by_size_table_and_leaves_the_1000_image_table_as_it_was(sizes_read, tmp_path, monkeypatch):
    replication = spec.load("evidence_replication")
    replicated = read(replication, verdicts("supported", claims=(3, 8), datasets=("fashion_mnist", "mnist")))
    reads = {r.study.name: r for r in (replicated, sizes_read)}
    monkeypatch.setattr(record, "studies_in", lambda folder: [r.study for r in reads.values()])
    monkeypatch.setattr(record, "read_state", lambda study: reads[study.name])
    template = tmp_path / "README.template.md"
    template.write_text("# Verdicts\n\n<!-- record -->\n\n## By size\n\n<!-- by size -->\n")
    text = record.write(template).read_text()
    before = record.record_tables([replicated])  # the table of record before data_size read a dataset
    middle = sizes_read.study.train_sizes[1]
    assert f"At 1,000 training images:\n\n{before}\n\nAt {middle:,} training images:" in text
    assert text.endswith("## By size\n\n" + record.by_size_table(list(reads.values())) + "\n")
    assert "<!--" not in text


def test_without_a_claim_of_record_at_two_sizes_there_is_no_by_size_table():
    replication = spec.load("evidence_replication")
    assert record.by_size_table([read(replication, verdicts("supported"))]).startswith("No study gives")
