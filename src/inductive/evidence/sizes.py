"""A data-size study read size by size: each claim's verdict and deciding effect at every training-set size,
and how the generalization gap scales with the number of training images (pandas and scipy; no TensorFlow).

A size study runs the same grid at several training-set sizes; each size is its own condition (F1k, F4k,
F16k), so the claims already judge every size (`Finding.by_condition`). The tables here only lay those
judgements side by side against `train_size`, so that a reader sees whether a verdict holds as data grows,
and add one measure no single size has: the slope of the gap against the size on log-log axes.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from inductive.evidence import stats
from inductive.evidence.claims import Finding, headline_row
from inductive.evidence.roles import model_order

VERDICT_COLUMNS = ["claim", "dataset", "train_size", "condition", "verdict", "effect"]
EFFECT_COLUMNS = ["claim", "dataset", "train_size", "comparison", "measure", "mean", "low", "high", "span_low",
                  "span_high", "verdict", "unit"]
SLOPE_COLUMNS = ["dataset", "model", "sizes", "seeds", "slope", "low", "high", "note"]


def claim_name(finding: Finding) -> str:
    """'3. Conv architectures overfit less than fully connected ones', as the glance table names claims."""
    return f"{finding.spec.number}. {finding.spec.statement}" if finding.spec else ""


def condition_sizes(runs: pd.DataFrame) -> dict[str, float]:
    """condition -> the training-set size of its runs (a condition is defined with its size, so there is one)."""
    sizes = pd.to_numeric(runs["train_size"], errors="coerce").groupby(runs["condition"]).first()
    return sizes.to_dict()


def _by_size(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    """Claims and datasets in the order judged, sizes ascending within each."""
    table = pd.DataFrame(rows, columns=columns)
    if table.empty:
        return table
    order = {key: i for i, key in enumerate(dict.fromkeys(zip(table["claim"], table["dataset"])))}
    rank = pd.Series([order[key] for key in zip(table["claim"], table["dataset"])], index=table.index)
    return (table.assign(_rank=rank).sort_values(["_rank", "train_size"], kind="stable")
            .drop(columns="_rank").reset_index(drop=True))


def size_verdicts(findings: list[Finding], runs: pd.DataFrame) -> pd.DataFrame:
    """One row per claim x dataset x condition that the claim judged per condition: its verdict and headline effect."""
    sizes = condition_sizes(runs)
    rows = [{"claim": claim_name(f), "dataset": dataset, "train_size": sizes.get(condition, math.nan),
             "condition": condition, "verdict": cell.verdict, "effect": cell.effect}
            for f in findings for (dataset, condition), cell in f.by_condition.items()]
    return _by_size(rows, VERDICT_COLUMNS)


def size_effects(findings: list[Finding], runs: pd.DataFrame) -> pd.DataFrame:
    """Per claim x dataset x condition, the deciding effect its cell shows, with its corrected interval.

    The effect is `headline_row` over that condition's rows, given that condition's verdict; `verdict` is the
    effect's own (as in glance_effects), so that the colour always matches the interval drawn. Which comparison
    and measure is the headline may change from one size to the next: both are kept in every row.
    """
    sizes = condition_sizes(runs)
    rows = []
    for f in findings:
        for (dataset, condition), cell in f.by_condition.items():
            row = headline_row([r for r in f.effects if r["condition"] == condition], dataset, cell.verdict)
            if row is not None:
                rows.append({"claim": claim_name(f), "dataset": dataset, "train_size": sizes.get(condition, math.nan),
                             "comparison": row["comparison"], "measure": row["measure"], "mean": row["mean"],
                             "low": row["low"], "high": row["high"], "span_low": row.get("span_low"),
                             "span_high": row.get("span_high"), "verdict": row["verdict"], "unit": row["unit"]})
    return _by_size(rows, EFFECT_COLUMNS)


def gap_slopes(runs: pd.DataFrame) -> pd.DataFrame:
    """Per dataset x model: how the test gap scales with data, as the log-log slope of gap against train_size.

    Per seed, the least-squares slope of log(test_gap) on log(train_size) over the sizes that seed has (at
    least two); then the mean over seeds with its 95% t interval. Slope < 0: the gap shrinks as data grows
    (-0.5 would be the 1/sqrt(n) of many generalization bounds). A gap <= 0 has no logarithm, so a seed with
    one is left out of the slope, and `note` says how many seeds and why; so does a seed with fewer than two
    sizes. Several completed runs of one seed at one size (repeats, or conditions that differ beyond the size)
    are averaged, and `note` says so too.
    """
    done = runs[runs["status"] == "completed"].copy() if "status" in runs else runs.copy()
    done["train_size"] = pd.to_numeric(done["train_size"], errors="coerce")
    done["test_gap"] = pd.to_numeric(done["test_gap"], errors="coerce")
    rows = []
    for dataset, of_dataset in done.groupby("dataset", sort=False):
        for model in model_order(of_dataset):
            rows.append(_slope_row(dataset, model, of_dataset[of_dataset["model"] == model]))
    return pd.DataFrame(rows, columns=SLOPE_COLUMNS)


def _slope_row(dataset: str, model: str, runs: pd.DataFrame) -> dict:
    notes = []
    unusable = runs["train_size"].isna() | runs["test_gap"].isna()
    if unusable.any():
        notes.append(f"{int(unusable.sum())} run(s) without a train_size or test gap left out")
    cells = runs[~unusable].groupby(["seed", "train_size"])["test_gap"].agg(["mean", "size"]).reset_index()
    if (cells["size"] > 1).any():
        notes.append(f"{int((cells['size'] > 1).sum())} seed x size cell(s) average several runs")
    slopes, non_positive, too_few = [], [], []
    for seed, of_seed in cells.groupby("seed"):
        if (of_seed["mean"] <= 0).any():
            non_positive.append(seed)
        elif len(of_seed) < 2:
            too_few.append(seed)
        else:
            slopes.append(np.polyfit(np.log(of_seed["train_size"]), np.log(of_seed["mean"]), 1)[0])
    if non_positive:
        notes.append(f"{len(non_positive)} seed(s) left out: test gap <= 0 at some size, no logarithm "
                     f"(seed {', '.join(map(str, non_positive))})")
    if too_few:
        notes.append(f"{len(too_few)} seed(s) left out: fewer than 2 sizes (seed {', '.join(map(str, too_few))})")
    effect = stats.mean_effect(np.asarray(slopes, dtype=float))
    sizes = sorted(cells["train_size"].unique())
    return {"dataset": dataset, "model": model, "sizes": " / ".join(f"{s:,.0f}" for s in sizes), "seeds": len(slopes),
            "slope": effect.mean, "low": effect.low, "high": effect.high, "note": "; ".join(notes)}
