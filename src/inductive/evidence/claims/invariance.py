"""Translation invariance: does a model with global pooling keep its right answers when the image moves?

Decided on small shifts (1-3 px along x and along y, zero fill), where models differ; larger shifts
are context (the diagonal, about 1.4x as far, is left to the shift table and figure). Two deciding measures per run:
- `kept correct`: of the test images the model gets right unshifted, the fraction still right when
  shifted (`consistency_correct`), so predicting one class everywhere earns nothing;
- `accuracy kept`: accuracy under those shifts / unshifted accuracy.
A model whose unshifted accuracy is below twice chance is excluded from the verdict (`near chance`):
a constant predictor is perfectly "invariant".
"""

from __future__ import annotations

import math

import pandas as pd

from inductive.evidence import roles, stats
from inductive.evidence.claims.registry import Cell, Finding, Measure, cell_of, register
from inductive.evidence.tables import Tables, seeds_by_model

SMALL = (1, 2, 3)          # pixels: the shifts that decide
DIRECTIONS = ("x", "y")    # the diagonal moves sqrt(2) times as far: context
BAND = 0.01
COMPARISONS = [roles.POOLED_VS_FLATTEN, roles.POOLED_VS_FULLY_CONNECTED]  # every pair they relate decides
MEASURES = (Measure("kept correct, 1-3 px", "kept_correct", BAND, "fraction", +1, True, (0, 1)),
            # shifted / unshifted accuracy: a shift may help, so nothing bounds it above
            Measure("accuracy kept, 1-3 px", "accuracy_kept", BAND, "fraction", +1, True, (0, math.inf)),
            Measure("consistency, 1-3 px (all images)", "consistency_small", BAND, "fraction", +1, False, (0, 1)),
            Measure("kept correct, 4+ px", "kept_correct_large", BAND, "fraction", +1, False, (0, 1)))


def per_run(tables: Tables) -> pd.DataFrame:
    """One row per completed run with shift.csv: clean accuracy, chance, the deciding and context measures."""
    shifts = tables.shifts[(tables.shifts["fill"] == "zero")
                           & tables.shifts["run_id"].isin(tables.completed["run_id"])]
    if shifts.empty:
        return pd.DataFrame()
    classes = tables.completed.set_index("run_id").get("data.num_classes")
    rows = []
    for run_id, group in shifts.groupby("run_id", sort=False):
        if not (group["shift"] == 0).any():
            continue  # no unshifted row: nothing to measure against
        clean = group.loc[group["shift"] == 0, "accuracy"].iloc[0]
        small = group[group["shift"].isin(SMALL) & group["direction"].isin(DIRECTIONS)]
        large = group[(group["shift"] > max(SMALL)) & group["direction"].isin(DIRECTIONS)]
        # a run that recorded no number of classes has no known chance level, and is never called near it
        chance = 1 / float(classes[run_id]) if classes is not None and pd.notna(classes[run_id]) else float("nan")
        rows.append({"run_id": run_id, "model": group["model"].iloc[0], "seed": group["seed"].iloc[0],
                     "dataset": group["dataset"].iloc[0], "condition": group["condition"].iloc[0],
                     "clean_accuracy": clean, "chance": chance, "near_chance": clean < 2 * chance,
                     "kept_correct": small["consistency_correct"].mean(),
                     "accuracy_kept": small["accuracy"].mean() / clean if clean else float("nan"),
                     "consistency_small": small["consistency"].mean(),
                     "kept_correct_large": large["consistency_correct"].mean()})
    return pd.DataFrame(rows)


def by_shift(tables: Tables) -> pd.DataFrame:
    """Condition x model x shift: mean test accuracy and kept-correct over x and y and seeds (zero fill), and the
    dataset's number of classes (its chance level is 1 / num_classes)."""
    rows = tables.shifts[(tables.shifts["fill"] == "zero") & tables.shifts["direction"].isin(DIRECTIONS)
                         & tables.shifts["run_id"].isin(tables.completed["run_id"])]
    classes = tables.completed.set_index("run_id").get("data.num_classes", pd.Series(dtype=float))
    return (rows.assign(num_classes=rows["run_id"].map(classes))
            .groupby(["dataset", "condition", "model", "shift"], sort=False)
            .agg(accuracy=("accuracy", "mean"), kept_correct=("consistency_correct", "mean"),
                 seeds=("seed", "nunique"), num_classes=("num_classes", "first"))
            .reset_index())


def pair_effects(here: pd.DataFrame, pairs: list[tuple[str, str, bool]]
                 ) -> list[tuple[str, str, list[str], dict[Measure, stats.Effect]]]:
    """Under one condition: each pair both of whose models ran, its near-chance models and its uncorrected effects."""
    judged, seeds = [], {m: seeds_by_model(here, m.column) for m in MEASURES}
    for more, less, _ in pairs:
        if not {more, less} <= set(here["model"]):
            continue
        weak = [m for m in (more, less) if here.loc[here["model"] == m, "near_chance"].any()]
        effects = {m: m.effect(seeds[m][more], seeds[m][less]) for m in MEASURES}
        judged.append((more, less, weak, effects))
    return judged


def deciding(judged: list[tuple[str, str, list[str], dict[Measure, stats.Effect]]]) -> list[stats.Effect]:
    return [e for _, _, weak, effs in judged if not weak for m, e in effs.items() if m.decides]


def judge_condition(dataset: str, condition: str, judged: list, corrected: list[stats.Effect]
                    ) -> tuple[list[dict], list[tuple[str, str]]]:
    """Effects rows and (verdict, reason) per pair under one condition, its deciding effects already corrected."""
    rows, outcomes, fixed = [], [], iter(corrected)
    for more, less, weak, effects in judged:
        verdicts, texts = [], []
        for measure, effect in effects.items():
            decides = measure.decides and not weak
            shown = next(fixed) if decides else effect
            verdict = stats.verdict(shown, measure.band) if decides else ""
            if decides:
                verdicts.append(verdict)
                texts.append(f"{measure.name} {shown}")
            needed = stats.seeds_needed(shown, measure.band) if verdict == stats.INCONCLUSIVE else None
            notes = [f"{m} near chance: excluded" for m in weak] + ([f"about {needed} seeds would decide"] if needed else [])
            rows.append({"claim": 5, "dataset": dataset, "condition": condition, "comparison": f"{more} - {less}",
                         "measure": measure.name, "kind": "decides" if decides else "context", "unit": measure.unit,
                         "band": measure.band, "span_low": measure.span[0], "span_high": measure.span[1],
                         "mean": shown.mean, "low": shown.low, "high": shown.high, "level": shown.level,
                         "n": shown.n, "p": shown.p, "test": shown.test, "verdict": verdict,
                         "note": "; ".join(notes)})
        if weak:
            outcomes.append(("", f"{more} - {less} not judged ({', '.join(weak)} near chance)"))
        else:
            result = stats.combine(verdicts)
            outcomes.append((result, f"{more} - {less} {result}: " + ", ".join(texts)))
    return rows, outcomes


@register(5, "invariance", "Pooling adds translation invariance: global pooling keeps predictions under small shifts",
          "They can however contribute to inductive biases such as increased translation invariance (that is the "
          "same object present in different places in a scene leads to the same representations).",
          "Test images shifted 1-3 px along x and y (zero fill); per run, the fraction of its correct answers kept "
          "and the fraction of clean accuracy kept; paired by seed, Holm across pairs. Pairs, derived from the models "
          "run by their roles (`evidence.roles`): " + "; ".join(c.text for c in COMPARISONS) + ". Near-chance models "
          "(below 2x chance unshifted) are excluded.",
          ("evidence",))
def invariance(tables: Tables) -> Finding:
    runs = per_run(tables)
    if runs.empty:
        return Finding({})
    pairs = roles.pairs_by_condition(COMPARISONS, tables.completed)
    judged = {(dataset, condition): pair_effects(runs[runs["condition"] == condition], pairs.get(condition, []))
              for dataset, group in runs.groupby("dataset", sort=False) for condition in group["condition"].unique()}
    # every effect first, then Holm per family (a condition, or all of a dataset's), then the verdicts
    corrected = stats.corrected_by_family({key: deciding(found) for key, found in judged.items()},
                                          tables.family, tables.alpha)
    rows, outcomes, cells, by_condition = [], {}, {}, {}
    for (dataset, condition), found in judged.items():
        found_rows, outcomes[(dataset, condition)] = judge_condition(dataset, condition, found,
                                                                     corrected[(dataset, condition)])
        rows += found_rows
        if outcomes[(dataset, condition)]:
            by_condition[(dataset, condition)] = verdict_cell(found_rows, dataset, outcomes[(dataset, condition)])
    for dataset in dict.fromkeys(d for d, _ in judged):
        here = [o for (d, _), found in outcomes.items() if d == dataset for o in found]
        if here:
            cells[dataset] = verdict_cell(rows, dataset, here)
    return Finding(cells, {"effects": pd.DataFrame(rows), "per_run": runs, "by_shift": by_shift(tables)},
                   effects=rows, figures=[("effects", "effects"), ("shift", "by_shift")], by_condition=by_condition)


def verdict_cell(rows: list[dict], dataset: str, outcomes: list[tuple[str, str]]) -> Cell:
    """The pairs' verdicts combined (inconclusive when every pair was near chance), with every pair's reason."""
    results = [v for v, _ in outcomes if v]
    return cell_of(rows, dataset, stats.combine(results) if results else stats.INCONCLUSIVE,
                   [text for _, text in outcomes])
