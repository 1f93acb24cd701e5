"""A data-size study read size by size: the Holm family across sizes, per-size verdicts and gap slopes."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from inductive.evidence import size_figures, sizes, stats
from inductive.evidence.claims import judge_all
from inductive.evidence.tables import Tables, collect

FIT = [0.5, 0.7, 0.85, 0.95, 0.995]
SIZES = (1000, 4000, 16000)
PER_CONDITION = {3, 5, 7, 8}  # the claims judged per condition that these runs can test (9 needs matched runs)


@pytest.fixture(scope="module")
def one_size(fake_sweep) -> Tables:
    """Fashion-MNIST at 1,000 images: every deciding effect clear of 0 (where Holm's adjusted p is capped at 1,
    a larger family cannot widen an interval), with spread over seeds in every measure."""
    spec = {
        "dense": dict(train_eval=FIT, val=[0.5, 0.65, 0.75, 0.78, 0.80], test_accuracy=0.80, shift_kept=0.15),
        "conv_flatten": dict(train_eval=FIT, val=[0.5, 0.68, 0.82, 0.86, 0.88], test_accuracy=0.88, shift_kept=0.05),
        "gap": dict(train_eval=FIT, val=[0.5, 0.68, 0.80, 0.83, 0.84], test_accuracy=0.84, shift_kept=0.02),
        "local": dict(train_eval=FIT, val=[0.5, 0.66, 0.78, 0.82, 0.84], test_accuracy=0.84),
    }
    tables = collect([fake_sweep(spec, seeds=4, jitter=0.01)])
    rng = np.random.default_rng(0)  # the fake shifts are the same for every seed: give them spread to test against
    shifts = tables.shifts.assign(**{c: (tables.shifts[c] + rng.normal(0, 0.004, len(tables.shifts))).clip(0, 1)
                                     for c in ("accuracy", "consistency_correct")})
    return dataclasses.replace(tables, shifts=shifts)


def at_sizes(tables: Tables, sizes_run=SIZES, family: str = "condition") -> Tables:
    """The runs copied to each training-set size (its own condition, F1k / F4k / F16k), as a study has them; dense's
    test gap grows by 0.01 a size, so that each size has its own effects."""
    copies = {name: [] for name in ("runs", "epochs", "layers", "shifts")}
    for step, size in enumerate(sizes_run):
        rename = {rid: f"{size}/{rid}" for rid in tables.runs["run_id"]}
        condition = f"F{size // 1000}k"
        for name in copies:
            table = getattr(tables, name).assign(run_id=lambda t: t["run_id"].map(rename))
            if "condition" in table:
                table = table.assign(condition=condition)
            if name == "runs":
                dense = table["model"] == "dense"
                table = table.assign(train_size=size, test_gap=table["test_gap"] + 0.01 * step * dense)
            copies[name].append(table)
    return dataclasses.replace(tables, family=family, **{name: pd.concat(parts, ignore_index=True)
                                                        for name, parts in copies.items()})


@pytest.fixture(scope="module")
def judged_at_sizes(one_size) -> tuple[Tables, list]:
    """The runs at three sizes and their findings, judged once (half a minute of the module's time each judge):
    the tests below only read them."""
    tables = at_sizes(one_size)
    return tables, judge_all(tables, ["fashion_mnist"])


def deciding_widths(tables: Tables, found: list | None = None) -> pd.Series:
    found = judge_all(tables, ["fashion_mnist"]) if found is None else found
    effects = pd.DataFrame([row for f in found for row in f.effects])
    deciding = effects[effects["kind"] == "decides"].set_index(["claim", "condition", "comparison", "measure"])
    return deciding["high"] - deciding["low"]


def test_a_dataset_family_widens_intervals_across_sizes_and_changes_nothing_at_one(one_size, judged_at_sizes):
    by_condition = deciding_widths(*judged_at_sizes)
    by_dataset = deciding_widths(at_sizes(one_size, family="dataset"))
    assert set(by_condition.index.get_level_values("claim")) == PER_CONDITION
    assert (by_condition > 0).all()
    assert (by_dataset > by_condition * 1.1).all()  # Holm over 3 sizes x the tests of one size
    single = at_sizes(one_size, sizes_run=(1000,))
    pd.testing.assert_series_equal(deciding_widths(single),
                                   deciding_widths(dataclasses.replace(single, family="dataset")))


def test_an_unknown_family_is_refused(one_size):
    with pytest.raises(ValueError, match="family='size'.*condition, dataset"):
        judge_all(at_sizes(one_size, family="size"), ["fashion_mnist"])


def test_size_verdicts_give_one_row_per_claim_dataset_and_size(judged_at_sizes, tmp_path):
    tables, found = judged_at_sizes
    verdicts = sizes.size_verdicts(found, tables.runs)
    assert len(verdicts) == len(PER_CONDITION) * len(SIZES)
    assert not verdicts.duplicated(["claim", "dataset", "train_size"]).any()
    assert {int(c.split(".")[0]) for c in verdicts["claim"]} == PER_CONDITION
    assert all(list(part) == list(SIZES) for _, part in verdicts.groupby("claim")["train_size"])  # ascending
    assert (verdicts["condition"] == verdicts["train_size"].map(lambda s: f"F{s // 1000}k")).all()
    assert verdicts["verdict"].isin(stats.VERDICTS).all() and verdicts["effect"].str.len().gt(0).all()
    assert verdicts.loc[verdicts["claim"].str.startswith("3."), "effect"].nunique() == 3  # each size's own effect
    for f in found:  # the dataset's verdict is its sizes' verdicts combined
        if f.by_condition:
            assert f.cells["fashion_mnist"].verdict == stats.combine([c.verdict for c in f.by_condition.values()])
    effects = sizes.size_effects(found, tables.runs)
    assert len(effects) == len(verdicts) and (effects["low"] <= effects["mean"]).all()
    dense_gap = effects[effects["claim"].str.startswith("3.") & (effects["measure"] == "gap at stop")]
    assert dense_gap["mean"].diff().dropna().round(6).eq(0.01).all() and len(dense_gap) == 3  # each size its own
    drawn = size_figures.effect_vs_size(effects, "effect against size", tmp_path / "effect_vs_size")
    assert drawn[0].stat().st_size > 0


def test_the_reasons_of_a_dataset_name_each_size_they_come_from(one_size, judged_at_sizes):
    """A size study's reasons repeat the same pairs once per size: unlabelled, a reader cannot tell 1,000 images
    from 16,000. Each size's reasons come under its condition and verdict, smallest size first (condition ids sort
    as strings, F16k before F1k, as `collect` orders runs); a dataset at one size reads as before."""
    from inductive.evidence.report import conditions_by_size

    tables, found = judged_at_sizes
    order = conditions_by_size(tables.runs.sort_values("condition"))["fashion_mnist"]
    assert order == ["F1k", "F4k", "F16k"]
    for f in found:
        if f.spec.number in PER_CONDITION:
            reason = f.reason("fashion_mnist", order)
            starts = [reason.index(f"[{c}: {f.by_condition[('fashion_mnist', c)].verdict}] ") for c in order]
            assert starts == sorted(starts) and starts[0] == 0
    single = at_sizes(one_size, sizes_run=(1000,))
    alone = conditions_by_size(single.runs)["fashion_mnist"]
    assert all(f.reason("fashion_mnist", alone) == f.cells["fashion_mnist"].reason
               for f in judge_all(single, ["fashion_mnist"]))


def gap_runs(slope: float = -0.5, seeds: int = 8, noise: float = 0.05) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame([{"run_id": f"{model}{seed}_{n}", "status": "completed", "dataset": "mnist", "model": model,
                          "seed": seed, "train_size": n, "test_gap": scale * n ** slope * np.exp(rng.normal(0, noise))}
                         for model, scale in (("dense", 3.0), ("gap", 1.0)) for seed in range(seeds) for n in SIZES])


def test_gap_slopes_recover_a_known_slope():
    slopes = sizes.gap_slopes(gap_runs()).set_index("model")
    for model in ("dense", "gap"):
        row = slopes.loc[model]
        assert row["seeds"] == 8 and row["sizes"] == "1,000 / 4,000 / 16,000" and row["note"] == ""
        assert row["low"] < -0.5 < row["high"] and abs(row["slope"] + 0.5) < 0.05


def test_gap_slopes_name_the_seeds_they_leave_out():
    runs = gap_runs()
    runs.loc[(runs["model"] == "gap") & (runs["seed"] == 3) & (runs["train_size"] == 16000), "test_gap"] = -0.002
    runs = runs[~((runs["model"] == "gap") & (runs["seed"] == 5) & (runs["train_size"] > 1000))]
    slopes = sizes.gap_slopes(runs).set_index("model")
    assert slopes.loc["dense", "seeds"] == 8 and slopes.loc["dense", "note"] == ""
    assert slopes.loc["gap", "seeds"] == 6
    note = slopes.loc["gap", "note"]
    assert "1 seed(s) left out: test gap <= 0" in note and "(seed 3)" in note
    assert "1 seed(s) left out: fewer than 2 sizes (seed 5)" in note
    assert np.isfinite(slopes.loc["gap", "slope"])



def test_a_model_skipped_at_the_largest_size_leaves_its_claim_undecided_there_only(one_size, tmp_path):
    """A model skipped at the largest size, as data_size skips local at 9,000 images: control 8 (local vs conv_flatten) is then judged at the two smaller
    sizes, while the other claims keep all three. Would catch: the skipped size judged on
    nothing (a verdict from no runs), a claim dropped at every size, or the slopes and the figure failing on it."""
    tables = at_sizes(one_size, family="dataset")
    skipped = set(tables.runs.loc[(tables.runs["model"] == "local") & (tables.runs["train_size"] == 16000), "run_id"])
    tables = dataclasses.replace(tables, **{name: getattr(tables, name)[~getattr(tables, name)["run_id"].isin(skipped)]
                                            for name in ("runs", "epochs", "layers", "shifts")})
    found = judge_all(tables, ["fashion_mnist"])
    verdicts = sizes.size_verdicts(found, tables.runs)
    judged = verdicts.groupby(verdicts["claim"].str.split(".").str[0].astype(int))["train_size"].apply(list)
    assert judged[8] == [1000, 4000] and all(judged[c] == list(SIZES) for c in (3, 5, 7))
    effects = sizes.size_effects(found, tables.runs)
    assert set(effects.loc[effects["claim"].str.startswith("8."), "train_size"]) == {1000, 4000}
    slopes = sizes.gap_slopes(tables.runs).set_index("model")
    assert slopes.loc["local", "sizes"] == "1,000 / 4,000" and slopes.loc["dense", "sizes"] == "1,000 / 4,000 / 16,000"
    drawn = size_figures.effect_vs_size(effects, "effect against size", tmp_path / "effect_vs_size")
    svg = next(p for p in drawn if p.suffix == ".svg").read_text()  # matplotlib names each text in a comment
    assert svg.count("<!-- 16,000 -->") == 4 and svg.count("<!-- not judged -->") == 1  # every panel spans every size
    from inductive.study.reading import answer_by_size

    lines = answer_by_size("")(tables, found, tmp_path)  # the study report's table: a column per size
    control = next(line for line in "\n".join(lines).splitlines() if line.startswith("| 8."))
    assert control.endswith("| not judged |") and control.count("**") == 4 and "| Fashion-MNIST |" in control
    assert "![gap_vs_size](gap_vs_size.png)" in lines and (tmp_path / "gap_vs_size.svg").exists()


def test_the_effect_line_joins_only_one_comparison_and_measure_across_sizes(monkeypatch):
    """The headline effect of a claim can change comparison from one size to the next (data_size's claim 5 on
    Fashion-MNIST: deep_gap - deep_flatten at 1,000 and 3,000 images, gap - dense at 9,000). A line from one to the
    other would draw a change of comparison as a change with data, so only the two like points are joined."""
    row = {"claim": "5. Pooling", "dataset": "fashion_mnist", "measure": "kept correct, 1-3 px", "span_low": None,
           "span_high": None, "unit": "fraction"}
    effects = pd.DataFrame([row | {"train_size": n, "comparison": pair, "mean": mean, "low": mean - 0.03,
                                   "high": mean + 0.03, "verdict": verdict}
                            for n, pair, mean, verdict in ((1000, "deep_gap - deep_flatten", -0.01, "inconclusive"),
                                                           (3000, "deep_gap - deep_flatten", 0.02, "inconclusive"),
                                                           (9000, "gap - dense", 0.21, "supported"))])
    drawn = []
    monkeypatch.setattr(size_figures, "save_figure", lambda fig, stem: drawn.append(fig) or [])
    size_figures.effect_vs_size(effects, "effect against size", "unused")
    joins = [line.get_xydata() for line in drawn[0].axes[0].lines  # not the dashed zero line
             if len(line.get_xydata()) == 2 and line.get_linestyle() == "-"]
    assert len(joins) == 1 and list(joins[0][:, 1]) == [-0.01, 0.02]


def test_the_gap_axis_labels_every_tick_within_a_decade(tmp_path):
    """A size study's gaps often span less than a decade (Fashion-MNIST's: 0.06-0.2), where 1-2-5 labels leave a
    slide with one or two numbers on its y axis; within a decade every tick is labelled."""
    dense = gap_runs().query("model == 'dense'")  # 0.024-0.095
    drawn = size_figures.gap_vs_size(dense, "gap against size", tmp_path / "gap_vs_size")
    svg = next(p for p in drawn if p.suffix == ".svg").read_text()  # matplotlib names each text in a comment
    assert all(f"<!-- {v} -->" in svg for v in ("0.03", "0.04", "0.06", "0.07"))
