"""Statistics and verdicts of inductive.evidence.claims_old, on small hand-made tables."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from inductive import claims
from inductive.evidence.claims_old import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED

CONDITION = "toy, 1,000 train images, 4 epochs"


# ---------------------------------------------------------------- intervals

@pytest.mark.parametrize("df, expected", [(1, 12.7062), (2, 4.3027), (4, 2.7764), (10, 2.2281), (30, 2.0423)])
def test_t_critical_matches_published_quantiles(df, expected):
    assert claims.t_critical(df) == pytest.approx(expected, abs=1e-4)


def test_t_critical_takes_fractional_degrees_of_freedom_between_integer_neighbours():
    assert claims.t_critical(4) > claims.t_critical(4.5) > claims.t_critical(5)


def test_mean_interval_is_t_based_and_needs_two_values():
    interval = claims.mean_interval([1.0, 2.0, 3.0])
    half = claims.t_critical(2) * 1.0 / math.sqrt(3)
    assert (interval.mean, interval.low, interval.high, interval.n) == pytest.approx((2, 2 - half, 2 + half, 3))
    single = claims.mean_interval([5.0])
    assert single.mean == 5 and math.isnan(single.low) and claims.verdict(single) == INCONCLUSIVE


def test_difference_interval_pairs_by_seed_and_falls_back_to_welch():
    a = pd.Series([0.30, 0.20, 0.25], index=[0, 1, 2])
    b = pd.Series([0.10, 0.00, 0.06], index=[0, 1, 2])
    paired = claims.difference_interval(a, b)
    assert paired.test == "paired t" and paired.n == 3
    assert paired.mean == pytest.approx(np.mean([0.2, 0.2, 0.19]))
    assert claims.verdict(paired) == SUPPORTED  # tiny spread of the differences: the pairing pays off
    unpaired = claims.difference_interval(a, pd.Series([0.10, 0.00, 0.06], index=[3, 4, 5]))
    assert unpaired.test == "Welch t" and unpaired.high - unpaired.low > paired.high - paired.low


@pytest.mark.parametrize("low, high, n, expected", [
    (0.01, 0.2, 3, SUPPORTED), (-0.2, -0.01, 3, NOT_SUPPORTED), (-0.1, 0.1, 3, INCONCLUSIVE),
    (0.01, 0.2, 1, INCONCLUSIVE)])
def test_verdict_follows_the_interval(low, high, n, expected):
    assert claims.verdict(claims.Interval((low + high) / 2, low, high, n, "paired t")) == expected


def test_fair_verdict_needs_one_side_without_the_other():
    assert claims.fair_verdict([SUPPORTED, INCONCLUSIVE]) == SUPPORTED
    assert claims.fair_verdict([SUPPORTED, NOT_SUPPORTED]) == INCONCLUSIVE
    assert claims.fair_verdict([NOT_SUPPORTED, NOT_SUPPORTED]) == NOT_SUPPORTED
    assert claims.combine([SUPPORTED, SUPPORTED]) == SUPPORTED
    assert claims.combine([SUPPORTED, INCONCLUSIVE]) == INCONCLUSIVE


# ---------------------------------------------------------------- overfitting comparisons

def toy_tables(curves: dict[str, tuple[list[float], list[float], list[float], list[float]]],
               seeds=(0, 1, 2)) -> tuple[pd.DataFrame, pd.DataFrame]:
    """runs and epochs tables as the report builds them, from per-model (train acc, val acc, train loss,
    val loss) curves; each seed shifts the validation curves by a little."""
    runs, epochs = [], []
    for model, (acc, val_acc, loss, val_loss) in curves.items():
        for seed in seeds:
            run_id = f"toy/{model}_seed{seed}"
            jitter = 0.004 * (seed - 1)
            history = pd.DataFrame({"epoch": range(1, len(acc) + 1), "train_accuracy": acc,
                                    "val_accuracy": np.add(val_acc, jitter), "train_loss": loss,
                                    "val_loss": np.add(val_loss, jitter)})
            for column in ("train_accuracy", "val_accuracy", "train_loss", "val_loss"):
                split, metric = column.split("_")
                epochs += [{"run_id": run_id, "epoch": e, "split": split, "metric": metric, "value": v}
                           for e, v in zip(history["epoch"], history[column])]
            last = history.iloc[-1]
            runs.append({"run_id": run_id, "status": "completed", "model": model, "seed": seed,
                         "dataset": "toy", "train_size": 1000, "trainer.epochs": 4, "condition": CONDITION,
                         "budget": "toy, 4 epochs",
                         "params_trainable": 1000 * (len(run_id) % 7 + 1),
                         "final_train_accuracy": last["train_accuracy"], "final_val_accuracy": last["val_accuracy"],
                         "final_accuracy_gap": last["train_accuracy"] - last["val_accuracy"],
                         "final_loss_gap": last["val_loss"] - last["train_loss"],
                         "val_loss_rise": last["val_loss"] - history["val_loss"].min()})
    return pd.DataFrame(runs), pd.DataFrame(epochs)


OVERFITS = ([0.70, 0.85, 0.95, 0.99], [0.68, 0.78, 0.80, 0.79], [0.9, 0.5, 0.2, 0.05], [0.9, 0.7, 0.8, 1.0])
FITS_WELL = ([0.72, 0.86, 0.92, 0.95], [0.71, 0.84, 0.88, 0.89], [0.9, 0.5, 0.3, 0.2], [0.9, 0.5, 0.45, 0.46])
UNDERFITS = ([0.30, 0.45, 0.55, 0.60], [0.31, 0.45, 0.55, 0.59], [2.0, 1.6, 1.4, 1.3], [2.0, 1.6, 1.4, 1.3])


def test_matched_gap_reads_each_run_at_the_common_train_accuracy():
    _, epochs = toy_tables({"dense": OVERFITS, "gap": UNDERFITS}, seeds=(1,))
    matched = claims.matched_gaps(epochs, epochs["run_id"].unique().tolist()).set_index("run_id")
    assert matched["matched_target"].iloc[0] == pytest.approx(0.60)  # the most the weakest run reaches
    assert matched.loc["toy/dense_seed1", "matched_epoch"] == 1  # dense is past 0.60 after one epoch
    assert matched.loc["toy/dense_seed1", "matched_gap"] == pytest.approx(0.70 - 0.68)
    assert matched.loc["toy/gap_seed1", "matched_epoch"] == 4
    assert matched.loc["toy/gap_seed1", "matched_gap"] == pytest.approx(0.60 - 0.59)


def test_matched_gap_decides_only_when_every_run_reaches_the_target_in_small_steps():
    steady_more = ([0.80, 0.90, 0.93, 0.95, 0.960], [0.78, 0.84, 0.85, 0.85, 0.84], [0.5] * 5, [0.5] * 5)
    steady_less = ([0.80, 0.89, 0.92, 0.94, 0.955], [0.79, 0.87, 0.89, 0.90, 0.905], [0.5] * 5, [0.5] * 5)
    runs, epochs = toy_tables({"dense": steady_more, "conv_flatten": steady_less})
    tight = claims.compare(runs, epochs, "dense", "conv_flatten", CONDITION)
    assert tight.effect(claims.MATCHED)["mean"] == pytest.approx((0.96 - 0.84) - (0.955 - 0.905))
    assert tight.effect(claims.MATCHED)["verdict"] == SUPPORTED and tight.verdict == SUPPORTED
    assert not any("loose" in note for note in tight.notes)
    jumpy_more = ([0.96, 0.97, 0.98, 0.99, 0.995], *steady_more[1:])  # past the target in its first epoch
    runs, epochs = toy_tables({"dense": jumpy_more, "conv_flatten": steady_less})
    loose = claims.compare(runs, epochs, "dense", "conv_flatten", CONDITION)
    assert loose.effect(claims.MATCHED)["verdict"] == INCONCLUSIVE and loose.verdict == INCONCLUSIVE
    assert any("loose match" in note and "dense takes 1.0 epochs" in note for note in loose.notes)


def test_compare_supports_the_lecture_when_the_fair_measures_do():
    runs, epochs = toy_tables({"dense": OVERFITS, "conv_flatten": FITS_WELL})
    result = claims.compare(runs, epochs, "dense", "conv_flatten", CONDITION)
    assert result.verdict == SUPPORTED and result.seeds == 3
    rise = result.effect("val loss rise above its minimum")
    assert rise["mean"] == pytest.approx((1.0 - 0.7) - (0.46 - 0.45)) and rise["verdict"] == SUPPORTED
    assert list(result.evidence["model"]) == ["dense", "conv_flatten"]
    assert not any("contradict" in note for note in result.notes)


def test_compare_says_so_plainly_when_the_runs_contradict_the_lecture():
    runs, epochs = toy_tables({"conv_flatten": FITS_WELL, "gap": OVERFITS})
    result = claims.compare(runs, epochs, "conv_flatten", "gap", CONDITION)
    assert result.verdict == NOT_SUPPORTED
    assert any("contradict the lecture" in note for note in result.notes)


def test_a_small_gap_from_underfitting_is_named_and_does_not_decide_the_verdict():
    runs, epochs = toy_tables({"conv_flatten": FITS_WELL, "gap": UNDERFITS})
    result = claims.compare(runs, epochs, "conv_flatten", "gap", CONDITION)
    assert result.effect("final accuracy gap")["verdict"] == SUPPORTED  # the raw gap alone would say yes
    assert any(note.startswith(f"{CONDITION}: gap underfits") and "smaller final gap (0.010 vs 0.060) is no evidence"
               in note for note in result.notes)
    assert result.caveats == ["gap underfits", "loose train-accuracy match"]
    context = result.effect("final val accuracy (less - more)")
    assert context["mean"] < 0 and context["verdict"] == ""
    rise = result.effect("val loss rise above its minimum")
    assert rise["verdict"] == SUPPORTED and not rise["decides"]  # gap is still improving: no rise to show
    assert result.effect(claims.MATCHED)["decides"] and result.verdict == INCONCLUSIVE
    assert any("only the gap at matched train accuracy can decide" in note for note in result.notes)


def test_an_underfitting_model_expected_to_overfit_more_cannot_win_on_val_loss_rise_either():
    runs, epochs = toy_tables({"dense": UNDERFITS, "conv_flatten": OVERFITS})
    result = claims.compare(runs, epochs, "dense", "conv_flatten", CONDITION)
    rise = result.effect("val loss rise above its minimum")
    assert rise["verdict"] == NOT_SUPPORTED and not rise["decides"]  # dense is still improving, not better
    assert result.verdict == INCONCLUSIVE and result.caveats[0] == "dense underfits"


def test_overfitting_claim_mixes_comparisons_into_inconclusive_and_keeps_every_effect():
    runs, epochs = toy_tables({"dense": OVERFITS, "conv_flatten": FITS_WELL, "gap": OVERFITS})
    claim, effects = claims.overfitting_claim(2, runs, epochs)
    table = claim.tables["Verdict per comparison (from the measures marked 'decides')"]
    per_pair = table.set_index("comparison")["verdict"]
    assert per_pair["dense - conv_flatten"] == SUPPORTED and per_pair["dense - gap"] == INCONCLUSIVE
    assert claim.verdict == INCONCLUSIVE and "1 supported, 1 inconclusive of 2" in claim.headline
    assert len(effects) == 2 * len(claims.MEASURES) and {e["claim"] for e in effects} == {2}


def test_failed_runs_never_enter_the_statistics():
    runs, epochs = toy_tables({"dense": OVERFITS, "conv_flatten": FITS_WELL})
    runs.loc[runs["model"] == "conv_flatten", "status"] = "failed"
    claim, effects = claims.overfitting_claim(2, runs, epochs)
    assert claim.verdict == INCONCLUSIVE and effects == [] and "no condition has completed runs" in claim.headline


def test_add_conditions_separates_budgets_and_names_what_varies():
    runs = pd.DataFrame({"dataset": ["toy"] * 3, "train_size": [500, 500, 2000], "trainer.epochs": [4, 4, 4],
                         "trainer.learning_rate": [0.001, 0.01, 0.001]})
    labelled = claims.add_conditions(runs)
    assert labelled["condition"].tolist() == ["toy, 500 train images, 4 epochs, learning_rate=0.001",
                                              "toy, 500 train images, 4 epochs, learning_rate=0.01",
                                              "toy, 2,000 train images, 4 epochs, learning_rate=0.001"]
    assert labelled["budget"].nunique() == 2


# ---------------------------------------------------------------- parameter counts

def layer(run_id, position, name, cls, inp, out, trainable):
    return {"run_id": run_id, "position": position, "name": name, "class": cls, "input_shape": json.dumps(inp),
            "output_shape": json.dumps(out), "trainable": trainable, "non_trainable": 0}


def structural_tables(kernel_size=3, pool_weights=0):
    """The three models' layers on 8x8x1 images, as record.parameter_counts writes them."""
    runs = pd.DataFrame({"run_id": ["d", "c", "g"], "model": ["dense", "conv_flatten", "gap"],
                         "dataset": "toy", "model.kernel_size": kernel_size})
    conv = 3 * 3 * 1 * 4 + 4
    layers = pd.DataFrame([
        layer("d", 0, "flatten", "Flatten", [8, 8, 1], [64], 0),
        layer("d", 1, "dense", "Dense", [64], [16], 64 * 16 + 16),
        layer("d", 2, "dense_1", "Dense", [16], [10], 170),
        layer("c", 0, "conv2d", "Conv2D", [8, 8, 1], [8, 8, 4], conv),
        layer("c", 1, "max_pooling2d", "MaxPooling2D", [8, 8, 4], [4, 4, 4], pool_weights),
        layer("c", 2, "flatten", "Flatten", [4, 4, 4], [64], 0),
        layer("c", 3, "dense", "Dense", [64], [10], 650),
        layer("g", 0, "conv2d", "Conv2D", [8, 8, 1], [8, 8, 4], conv),
        layer("g", 1, "max_pooling2d", "MaxPooling2D", [8, 8, 4], [4, 4, 4], 0),
        layer("g", 2, "global_average_pooling2d", "GlobalAveragePooling2D", [4, 4, 4], [4], 0),
        layer("g", 3, "dense", "Dense", [4], [10], 50),
    ])
    return runs, layers


def test_conv_params_claim_compares_each_conv_with_a_dense_layer_on_the_same_input():
    runs, layers = structural_tables()
    claim = claims.conv_params_claim(runs, layers)
    table = claim.tables["Each conv layer against a dense layer on the same input"]
    assert (table["conv params"] == table["closed form"]).all()
    assert table["dense, same input and output"].iloc[0] == 64 * 256 + 256
    assert table["ratio dense / conv"].iloc[0] == pytest.approx((64 * 256 + 256) / 40)
    assert claim.verdict == SUPPORTED and "exact counts" in claim.headline


def test_conv_params_claim_flags_counts_that_do_not_match_the_closed_form():
    runs, layers = structural_tables(kernel_size=5)
    claim = claims.conv_params_claim(runs, layers)
    assert any("differ from the closed form" in note for note in claim.notes)


def test_head_params_claim_isolates_the_head_from_the_shared_trunk():
    runs, layers = structural_tables()
    claim = claims.head_params_claim(runs, layers)
    ratios = claim.tables["Ratios"].iloc[0]
    assert ratios["ratio, heads as built"] == pytest.approx(650 / 50)
    assert ratios["ratio, linear classifier on each"] == pytest.approx(650 / 50)
    assert ratios["same trunk"] and claim.verdict == SUPPORTED


def test_pooling_claim_fails_on_a_pooling_layer_with_weights():
    runs, layers = structural_tables()
    assert claims.pooling_claim(runs, layers).verdict == SUPPORTED
    runs, layers = structural_tables(pool_weights=8)
    claim = claims.pooling_claim(runs, layers)
    assert claim.verdict == NOT_SUPPORTED and "1 with any weights" in claim.headline
