"""Overfitting claims: does one model generalize worse than another trained alike, where each stopped?

A small train-test gap alone is no evidence: a model that never fits its training set has one too.
So each pair is read two ways (Zhang et al. 2017 compare at fit):
- `gap at stop`: eval-mode train accuracy where training stopped - test accuracy. It decides only
  when every run of both models fitted its training set (reached trainer.fit.accuracy); a model
  that did not fit is named and this measure is context.
- `gap at matched train accuracy`: the highest eval-mode train accuracy every run of the pair
  reaches; each run's train - validation accuracy at the first epoch it reaches it. Always decides.
Test accuracy at stop and the rise of validation loss above its minimum are context.
"""

from __future__ import annotations

import math

import pandas as pd

from inductive.evidence import roles, stats
from inductive.evidence.claims.registry import Finding, Measure, cell_of, register
from inductive.evidence.roles import Comparison
from inductive.evidence.tables import Tables, seeds_by_model


GAP_AT_STOP = Measure("gap at stop", "test_gap", 0.01, "accuracy", +1, True, (-1, 1))
MATCHED_GAP = Measure("gap at matched train accuracy", "matched_gap", 0.01, "accuracy", +1, True, (-1, 1))
MEASURES = (GAP_AT_STOP, MATCHED_GAP,
            Measure("test accuracy at stop (less - more)", "test_accuracy", 0.01, "accuracy", -1, False, (0, 1)),
            Measure("val loss rise above its minimum", "val_loss_rise", 0.02, "cross-entropy", +1, False,
                    (0, math.inf)))
DEFAULT_FIT = 0.99


def fitted(runs: pd.DataFrame) -> pd.Series:
    """Per run: did it fit its training set (eval-mode train accuracy at stop >= its trainer.fit.accuracy)?"""
    threshold = runs.get("trainer.fit.accuracy", pd.Series(DEFAULT_FIT, index=runs.index)).fillna(DEFAULT_FIT)
    train = runs.get("final_train_accuracy", pd.Series(float("nan"), index=runs.index))  # eval mode (NaN: none)
    return train.astype(float) >= threshold.astype(float)


def matched_gaps(accuracy: pd.DataFrame, run_ids: list[str]) -> pd.DataFrame:
    """Per run: train - val accuracy at the first epoch its eval-mode train accuracy reaches the common target.
    `accuracy`: `Tables.accuracy`, a column per split (splits with no value for these runs are dropped)."""
    acc = accuracy[accuracy["run_id"].isin(run_ids)].dropna(axis="columns", how="all")
    if acc.empty or "train" not in acc or "val" not in acc:  # runs before the eval-mode pass have no matched gap
        return pd.DataFrame(columns=["run_id", "matched_target", "matched_epoch", "matched_gap"])
    acc = acc.dropna(subset=["train", "val"]).sort_values(["run_id", "epoch"])
    target = acc.groupby("run_id")["train"].max().min()
    first = acc[acc["train"] >= target].groupby("run_id").head(1)
    return pd.DataFrame({"run_id": first["run_id"], "matched_target": target, "matched_epoch": first["epoch"],
                         "matched_gap": first["train"] - first["val"]})


# The runs-table columns a pair is judged and tabled on (the table itself has a column per config key).
PAIR_COLUMNS = ("run_id", "condition", "model", "seed", "params_trainable", "epochs_run", "final_train_accuracy",
                "trainer.fit.accuracy", *(m.column for m in MEASURES if m.column != "matched_gap"))


def pair_runs(tables: Tables, condition: str, more: str, less: str) -> pd.DataFrame:
    """The completed runs of two models under one condition, with whether each fitted and its matched gap."""
    done = tables.completed
    rows = (done["condition"] == condition) & done["model"].isin([more, less])
    pair = done.loc[rows, [c for c in dict.fromkeys(PAIR_COLUMNS) if c in done]]
    pair = pair.assign(fitted=fitted(pair))
    return pair.merge(matched_gaps(tables.accuracy, pair["run_id"].tolist()), on="run_id", how="left")


def effects_of(pair: pd.DataFrame, more: str, less: str) -> tuple[list[tuple[Measure, stats.Effect, bool]], list[str]]:
    """Each measure's effect for the pair, whether it decides here, and the flags (models that did not fit)."""
    fits = {m: pair.loc[pair["model"] == m, "fitted"] for m in (more, less)}
    unfit = [m for m, f in fits.items() if not f.all()]
    found = []
    for measure in MEASURES:
        seeds = seeds_by_model(pair, measure.column)
        effect = measure.effect(seeds[more], seeds[less])
        decides = measure.decides and not (measure is GAP_AT_STOP and unfit)
        found.append((measure, effect, decides))
    return found, [f"{m} does not fit ({int(fits[m].sum())} of {len(fits[m])} runs fitted)" for m in unfit]


# per_model_table's columns that print a mean over seeds with its interval, and the runs-table column of each
MEAN_PM = {"train_accuracy_at_stop": "final_train_accuracy", "test_accuracy": "test_accuracy",
           "gap_at_stop": "test_gap", "matched_gap": "matched_gap"}


def per_model_table(pair: pd.DataFrame, condition: str) -> pd.DataFrame:
    """A row per model of the pair: seeds, parameters, how many runs fitted, stop epoch and each measure's mean."""
    grouped = pair.groupby("model", sort=False)
    table = grouped.agg(seeds=("seed", "nunique"), params=("params_trainable", "first"),
                        stop_epoch=("epochs_run", "median"))
    table.insert(2, "fitted", [f"{int(f.sum())} of {len(f)}" for _, f in grouped["fitted"]])
    for name, column in MEAN_PM.items():  # means without the p-value they never print (`stats.mean_pm`)
        table[name] = [stats.mean_pm(values) for _, values in grouped[column]]
    return table.reset_index().assign(condition=condition)


def judge_pairs(tables: Tables, claim: int, comparisons: list[Comparison], matched_capacity: bool) -> Finding:
    """Every pair of models the `comparisons` relate, under every condition that ran both (`roles.pairs`). All
    effects are found first, then Holm corrects the deciding ones within each family (`tables.family`: one
    condition, or all conditions of a dataset), and only then are verdicts made: per condition, and per dataset
    combining its conditions."""
    done = tables.completed
    matched = done["params_target"].notna() if "params_target" in done else pd.Series(False, index=done.index)
    judged = {}  # (dataset, condition) -> [(more, less, deciding, [(measure, effect, decides)], flags)]
    for condition in done.loc[matched == matched_capacity, "condition"].unique():
        here = done[done["condition"] == condition]
        found = roles.pairs(comparisons, here)
        if found:
            judged[(here["dataset"].iloc[0], condition)] = [
                (m, l, d, pair, *effects_of(pair, m, l))
                for m, l, d in found for pair in [pair_runs(tables, condition, m, l)]]
    corrected = stats.corrected_by_family(
        {key: [e for m, l, deciding, _, effs, _ in found if deciding for _, e, d in effs if d]
         for key, found in judged.items()}, tables.family, tables.alpha)
    rows, per_model, verdict_rows, by_condition = [], [], [], {}
    for (dataset, condition), found in judged.items():
        fixed, verdicts_here = iter(corrected[(dataset, condition)]), []
        for more, less, is_deciding, pair, effs, flags in found:
            verdicts, texts = [], []
            for measure, effect, decides in effs:
                decides = decides and is_deciding
                shown = next(fixed) if decides else effect
                verdict = stats.verdict(shown, measure.band) if decides else ""
                if decides:
                    verdicts.append(verdict)
                    texts.append(f"{measure.name} {shown}")
                needed = stats.seeds_needed(shown, measure.band) if verdict == stats.INCONCLUSIVE else None
                rows.append({"claim": claim, "dataset": dataset, "condition": condition,
                             "comparison": f"{more} - {less}", "measure": measure.name,
                             "kind": "decides" if decides else "context", "unit": measure.unit, "band": measure.band,
                             "span_low": measure.span[0], "span_high": measure.span[1],
                             "mean": shown.mean, "low": shown.low, "high": shown.high, "level": shown.level,
                             "n": shown.n, "p": shown.p, "test": shown.test, "verdict": verdict,
                             "note": "; ".join([*flags, *([f"about {needed} seeds would decide"] if needed else [])])})
            if is_deciding:
                result = stats.combine(verdicts)
                verdicts_here.append(result)
                reason = f"{more} - {less} {result}: " + ", ".join(texts) + "".join(f" ({f})" for f in flags)
                verdict_rows.append({"dataset": dataset, "condition": condition, "comparison": f"{more} - {less}",
                                     "verdict": result, "reason": reason})
            per_model.append(per_model_table(pair, condition)
                             .assign(pair=f"{more} - {less}"))
        if verdicts_here:
            by_condition[(dataset, condition)] = cell_of(
                [r for r in rows if r["condition"] == condition], dataset, stats.combine(verdicts_here),
                [r["reason"] for r in verdict_rows if r["condition"] == condition])
    cells = {}
    for dataset in dict.fromkeys(d for d, _ in by_condition):
        verdict = stats.combine([c.verdict for (d, _), c in by_condition.items() if d == dataset])
        cells[dataset] = cell_of(rows, dataset, verdict, [r["reason"] for r in verdict_rows if r["dataset"] == dataset])
    model_table = pd.concat(per_model, ignore_index=True) if per_model else pd.DataFrame()
    return Finding(cells, {"effects": pd.DataFrame(rows), "verdicts": pd.DataFrame(verdict_rows),
                           "per_model": model_table, "curves": curves(tables, model_table)},
                   effects=rows, figures=[("effects", "effects"), ("curves", "curves")], by_condition=by_condition)


def curves(tables: Tables, model_table: pd.DataFrame) -> pd.DataFrame:
    """Eval-mode train and validation accuracy per run and epoch, for the models and conditions compared."""
    if model_table.empty:
        return pd.DataFrame(columns=["condition", "model", "seed", "run_id", "epoch", "split", "value"])
    keep = tables.completed.merge(model_table[["condition", "model"]].drop_duplicates(), on=["condition", "model"])
    acc = tables.epochs[(tables.epochs["metric"] == "accuracy") & tables.epochs["split"].isin(["train", "val"])]
    out = keep[["run_id", "condition", "model", "seed"]].merge(acc, on="run_id")
    order = {m: i for i, m in enumerate(roles.model_order(keep))}
    return out.sort_values(["condition", "model", "seed", "epoch"], key=lambda s: s.map(order) if s.name == "model"
                           else s).drop(columns="metric").reset_index(drop=True)


METHOD = ("Paired by seed within each condition. Decided on the gap at stop (only where both models fit their "
          "training set) and the gap at matched eval-mode train accuracy; test accuracy and val loss rise are context.")


def compares(*comparisons: Comparison) -> str:
    """The roles a claim compares, for its method text."""
    return " Pairs, derived from the models run by their roles (`evidence.roles`): " + "; ".join(
        c.text for c in comparisons) + "."


CONV_VS_DENSE = [roles.FULLY_CONNECTED_VS_CONV]
FLATTEN_VS_GAP = [roles.FLATTEN_VS_POOLED]
SHARING = [roles.LOCAL_VS_CONV, roles.FULLY_CONNECTED_VS_LOCAL]
MATCHED = [roles.FULLY_CONNECTED_VS_CONV, roles.FULLY_CONNECTED_VS_LOCAL]


@register(3, "conv_vs_dense", "Conv architectures overfit less than fully connected ones",
          "From this perspective, convolutional layers introduce weight sharing that acts in a regularizing way. "
          "Indeed convolutional architectures lead to less overfitting than fully connected architectures.",
          METHOD + compares(*CONV_VS_DENSE), ("evidence",))
def conv_vs_dense(tables: Tables) -> Finding:
    return judge_pairs(tables, 3, CONV_VS_DENSE, False)


@register(7, "gap_vs_flatten", "Global average pooling overfits less than flattening",
          "[...] the fully connected layer will have fewer weights, leading to less overfitting.",
          METHOD + compares(*FLATTEN_VS_GAP) + " Every such pair decides: the lecture's twins, and twins on a deeper "
          "trunk where both heads can fit.", ("evidence",))
def gap_vs_flatten(tables: Tables) -> Finding:
    return judge_pairs(tables, 7, FLATTEN_VS_GAP, False)


@register(8, "weight_sharing", "Control: weight sharing, not only locality, reduces overfitting",
          "From this perspective, convolutional layers introduce weight sharing that acts in a regularizing way.",
          METHOD + compares(*SHARING) + " A locally connected net has its conv twin's receptive fields and widths "
          "but its own kernel at every position, so the twins isolate weight sharing.", ("evidence",), lecture=False)
def weight_sharing(tables: Tables) -> Finding:
    return judge_pairs(tables, 8, SHARING, False)


@register(9, "matched_capacity", "Control: at equal parameter counts, conv architectures still overfit less than dense",
          "Indeed convolutional architectures lead to less overfitting than fully connected architectures.",
          METHOD + " Only conditions whose models were sized to one parameter count (model.target_params or "
          "match_params_of), so the difference is the architecture's bias, not its capacity." + compares(*MATCHED),
          ("evidence_matched", "matched_params"), lecture=False)
def matched_capacity(tables: Tables) -> Finding:
    return judge_pairs(tables, 9, MATCHED, True)
