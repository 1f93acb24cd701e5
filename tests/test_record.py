"""`python -m inductive.study record`: the verdicts of record follow the studies' `record` and `replaces` keys."""

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from inductive.errors import ConfigError
from inductive.study import record, spec
from inductive.study.__main__ import main

COLUMNS = ["number", "claim", "dataset", "train_size", "verdict", "effect"]


def verdicts(word: str, claims=(3, 7), datasets=("mnist",)) -> pd.DataFrame:
    return pd.DataFrame([[n, f"{n}. claim {n}", d, 1000, word, f"{word} effect"] for n in claims for d in datasets],
                        columns=COLUMNS)


def read(study, table: pd.DataFrame) -> record.Read:
    return record.Read(study, None, [], sorted(set(table["dataset"])), table)


def test_a_study_replaces_what_its_replaces_key_names_and_keeps_the_rest():
    first, second = (spec.load(n, check_configs=False) for n in ("evidence", "evidence_second_look"))
    third = spec.load("evidence_replication", check_configs=False)
    reads = [read(first, verdicts("first", datasets=("mnist", "cifar10"))), read(second, verdicts("second")),
             read(third, verdicts("third", claims=(3,)))]
    out = record.of_record(reads).set_index(["number", "dataset"])["effect"].to_dict()
    assert out == {(3, "mnist"): "(replication) third effect", (7, "mnist"): "(second look) second effect",
                   (3, "cifar10"): "(evidence) first effect", (7, "cifar10"): "(evidence) first effect"}


def test_two_studies_of_record_that_do_not_replace_one_another_are_named():
    first, second = (spec.load(n, check_configs=False) for n in ("evidence", "evidence_second_look"))
    rival = dataclasses.replace(second, replaces=[])
    with pytest.raises(ConfigError, match="evidence and evidence_second_look both give"):
        record.of_record([read(first, verdicts("first")), read(rival, verdicts("second"))])


def test_a_study_gives_of_record_only_the_claims_and_sizes_its_record_names():
    matched = spec.load("evidence_matched", check_configs=False)
    out = record.of_record([read(matched, verdicts("sized", claims=(3, 9)))])
    assert list(out["number"]) == [9]
    sized = dataclasses.replace(matched, record=spec.Record((9,), (4000,)))
    assert record.of_record([read(sized, verdicts("sized", claims=(9,)))]).empty


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
    """data_size's verdicts at 4,000 images are of record there; at 1,000 the replication's stand (no conflict)."""
    replication, sizes = (spec.load(n, check_configs=False) for n in ("evidence_replication", "data_size"))
    by_size = pd.concat([verdicts("small", claims=(3,)), verdicts("large", claims=(3,)).assign(train_size=4000.0)])
    reads = [read(replication, verdicts("replicated", claims=(3,))), read(sizes, by_size)]
    out = record.of_record(reads).set_index("train_size")["effect"].to_dict()
    assert out == {1000: "(replication) replicated effect", 4000: "(data size) large effect"}
    tables = record.record_tables(reads)
    assert "At 1,000 training images:" in tables and "At 4,000 training images:" in tables
