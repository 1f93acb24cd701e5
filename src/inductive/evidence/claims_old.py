"""The lecture's claims, judged from the tidy tables with effect sizes and 95% intervals over seeds.

The structural claims (1, 3, 5) are parameter counts read from the runs' layers and checked against
the closed forms in `inductive.arithmetic`; they are identical for every seed, so they need no
interval. The overfitting claims (2, 4) compare two models trained under the same condition (same
data, training-set size and trainer settings), pairing runs by seed. A small gap alone is not
evidence (an underfitting model has one too), so the verdict rests on two measures fair to models
of different capacity: the gap at matched training accuracy and how far validation loss climbs
above its minimum; on the first alone when either model underfits the other, since a model still
improving has no rise to show. Claim 7 reuses them to split weight sharing from locality (`local`).
Claim 6 compares how often each model keeps its prediction when the test images are shifted.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from inductive import arithmetic

SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE = "supported", "not supported", "inconclusive"
LEVEL = 0.95
FAR_FEWER = 10  # "far fewer" parameters: at least an order of magnitude
MATCHED = "gap at matched train accuracy"
LOOSE_MATCH = 0.05  # a run whose train accuracy moves more than this in the matched epoch is not matched

# What must be equal for two runs to count as trained under the same condition (matched budget).
CONDITION_KEYS = ("dataset", "train_size", "trainer.epochs", "trainer.batch_size", "trainer.optimizer",
                  "trainer.learning_rate", "trainer.early_stopping.enabled", "data.val_size", "data.normalize")

MODEL_ORDER = ("dense", "local", "conv_flatten", "gap")
# Claims 2, 4 and 7: (model expected to overfit more, model expected to overfit less).
# Claim 7 splits a conv layer's bias: local - conv_flatten is weight sharing, dense - local is locality.
OVERFITTING_COMPARISONS = {2: [("dense", "conv_flatten"), ("dense", "gap")], 4: [("conv_flatten", "gap")],
                           7: [("local", "conv_flatten"), ("dense", "local")]}
# The comparisons a claim's verdict rests on, where not all of them (the others are reported as context).
DECIDING = {7: [("local", "conv_flatten")]}
PRESETS = {2: "weight_sharing", 4: "pooling", 6: "locality", 7: "locality"}

# Measures of overfitting, each a difference "more - less" that is positive when the lecture is right.
# kind: raw measures are shown; fair ones decide the verdict; context is shown to expose underfitting.
MEASURES = {
    "final accuracy gap": ("final_accuracy_gap", "raw", "accuracy"),
    "final loss gap": ("final_loss_gap", "raw", "loss"),
    MATCHED: ("matched_gap", "fair", "accuracy"),
    "val loss rise above its minimum": ("val_loss_rise", "fair", "loss"),
    "final val accuracy (less - more)": ("final_val_accuracy", "context", "accuracy"),
}

QUOTES = {
    1: "Once we decrease the kernel size, we end up with spatial weight sharing, that is, we have fewer "
       "parameters than in the case where we flatten the feature maps and have a fully connected layer that "
       "takes the resulting vector as its input.",
    2: "From this perspective, convolutional layers introduce weight sharing that acts in a regularizing way. "
       "Indeed convolutional architectures lead to less overfitting than fully connected architectures.",
    3: "In convolutional architectures, global average pooling is preferred over flattening feature maps [...]. "
       "The reason is that the resulting dimensionality is much smaller and thus the fully connected layer "
       "will have fewer weights, leading to less overfitting.",
    4: "[...] the fully connected layer will have fewer weights, leading to less overfitting.",
    5: "Pooling layers do not have any trainable variables.",
    6: "Pooling layers do not have any trainable variables. They can however contribute to inductive biases "
       "such as increased translation invariance (that is the same object present in different places in a "
       "scene leads to the same representations).",
    7: "From this perspective, convolutional layers introduce weight sharing that acts in a regularizing way.",
}
STATEMENTS = {
    1: "Conv layers need far fewer parameters than dense layers for the same input",
    2: "Conv architectures overfit less than fully connected ones",
    3: "Global average pooling needs fewer weights than flattening before the classifier",
    4: "Global average pooling overfits less than flattening",
    5: "Pooling layers have no trainable variables",
    6: "Global pooling increases translation invariance",
    7: "Weight sharing, not only locality, reduces overfitting",
}

METHOD_NOTES = [
    "- **Condition**: runs count as trained at a matched budget when dataset, training-set size, epochs, "
    "batch size, optimizer, learning rate, early stopping, validation size and normalisation are equal. "
    "Only completed runs enter the statistics.",
    "- **Final accuracy gap** = train - validation accuracy at the last epoch; **final loss gap** = "
    "validation - train loss. Both also shrink when a model underfits, so they do not decide a verdict.",
    "- **Gap at matched train accuracy**: the highest train accuracy that every run of the two models "
    "reaches; each run's accuracy gap at the first epoch it reaches it. Keras logs train accuracy as a mean "
    "over the epoch, so the match is judged only when every run reached the target after its first epoch "
    f"with a step of at most {LOOSE_MATCH}; otherwise it is shown but `inconclusive`.",
    "- **Val loss rise** = last-epoch validation loss - lowest validation loss of the run: how far the "
    "model has trained past its best point.",
    "- **Effect** = mean over seeds of the per-seed difference (model expected to overfit more - model "
    "expected to overfit less), so positive values favour the lecture. **95% interval**: Student t on "
    "the per-seed paired differences; Welch's t interval when fewer than two seeds are shared.",
    "- **Verdict per measure**: `supported` when the interval excludes 0 on the lecture's side, `not "
    "supported` when it excludes 0 on the other side, `inconclusive` otherwise or with fewer than two "
    "seeds. **Per comparison**: `supported` when at least one fair measure is supported and none is not "
    "supported; `not supported` in the mirror case; else `inconclusive`. When either model underfits the "
    "other (lower train and validation accuracy, both intervals below 0), only the gap at matched train "
    "accuracy counts: a model still improving shows no val loss rise. **Per claim**: the verdict all "
    "comparisons share, else `inconclusive` (mixed).",
    f"- **Structural claims** are exact parameter counts (no seed varies them). 'Far fewer' means at "
    f"least {FAR_FEWER} times fewer.",
    "- **Translation invariance** (claim 6): each run's test images shifted by 1 to max_shift pixels along x, "
    "y and the diagonal (`shifts.csv`); **consistency** = fraction of images whose predicted class is the "
    "unshifted one. Per run, the mean over every shifted input; the effect is the paired per-seed difference "
    "gap - other model, decided on consistency with zero fill (uncovered pixels blank); accuracy under shift "
    "and the wrap fill are context.",
    "- **Weight sharing vs locality** (claim 7): `local` has conv_flatten's receptive fields and widths but a "
    "separate kernel at every position. local - conv_flatten isolates weight sharing and decides the verdict "
    "with the overfitting measures above; dense - local isolates locality and is context.",
    "- **Parameter-matched** conditions (`model.target_params` / `match_params_of`): every model's widths were "
    "scaled to one parameter count, so differences come from the architecture's bias rather than its "
    "capacity; the condition names the target and the notes give each model's achieved count.",
]


# ---------------------------------------------------------------- intervals and verdicts

@functools.lru_cache(maxsize=None)
def t_critical(df: float, level: float = LEVEL) -> float:
    """Two-sided Student t quantile, by bisection on the exact CDF.

    scipy is not a dependency; TensorFlow's regularized incomplete beta gives the t tail exactly:
    P(T > t) = I_{df / (df + t^2)}(df / 2, 1 / 2) / 2.
    """
    import tensorflow as tf

    if not df > 0:
        raise ValueError(f"degrees of freedom must be positive, got {df!r}")

    def upper_tail(t: float) -> float:
        x = tf.constant(df / (df + t * t), tf.float64)
        return 0.5 * float(tf.math.betainc(tf.constant(df / 2, tf.float64), tf.constant(0.5, tf.float64), x))

    target, low, high = (1 - level) / 2, 0.0, 1.0
    while upper_tail(high) > target:
        high *= 2
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if upper_tail(mid) > target else (low, mid)
    return (low + high) / 2


@dataclass(frozen=True)
class Interval:
    """A mean (or mean difference) with its 95% interval, the number of seeds and the test used."""

    mean: float
    low: float
    high: float
    n: int
    test: str

    def __str__(self) -> str:
        if math.isnan(self.low):
            return f"{self.mean:+.3f} (no interval: {self.n} seed{'s' * (self.n != 1)})"
        return f"{self.mean:+.3f} [{self.low:+.3f}, {self.high:+.3f}]"

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


def mean_interval(values: pd.Series | np.ndarray, test: str = "t") -> Interval:
    """Mean with a t interval; no interval below two values."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    n = len(values)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0, test)
    mean = float(values.mean())
    if n < 2:
        return Interval(mean, math.nan, math.nan, n, test)
    half = t_critical(n - 1) * float(values.std(ddof=1)) / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, n, test)


def welch_interval(a: pd.Series, b: pd.Series) -> Interval:
    """Mean of a - mean of b with Welch's t interval (unequal variances, unpaired)."""
    a, b = a.dropna().astype(float), b.dropna().astype(float)
    n = min(len(a), len(b))
    mean = float(a.mean() - b.mean()) if n else math.nan
    if n < 2:
        return Interval(mean, math.nan, math.nan, n, "Welch t")
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    if se == 0:
        return Interval(mean, mean, mean, n, "Welch t")
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    return Interval(mean, mean - t_critical(df) * se, mean + t_critical(df) * se, n, "Welch t")


def difference_interval(a: pd.Series, b: pd.Series) -> Interval:
    """a - b for series indexed by seed: paired t over shared seeds, Welch when fewer than two are shared."""
    a, b = a.dropna(), b.dropna()
    shared = a.index.intersection(b.index)
    if len(shared) >= 2:
        return mean_interval(a[shared] - b[shared], test="paired t")
    return welch_interval(a, b)


def verdict(interval: Interval) -> str:
    """Positive differences favour the lecture: supported when the interval lies above 0."""
    if interval.n < 2 or math.isnan(interval.low):
        return INCONCLUSIVE
    if interval.low > 0:
        return SUPPORTED
    if interval.high < 0:
        return NOT_SUPPORTED
    return INCONCLUSIVE


def combine(verdicts: list[str]) -> str:
    """The verdict every part shares; mixed or empty is inconclusive."""
    return verdicts[0] if verdicts and len(set(verdicts)) == 1 else INCONCLUSIVE


def fair_verdict(verdicts: list[str]) -> str:
    """At least one fair measure on one side and none on the other."""
    if SUPPORTED in verdicts and NOT_SUPPORTED not in verdicts:
        return SUPPORTED
    if NOT_SUPPORTED in verdicts and SUPPORTED not in verdicts:
        return NOT_SUPPORTED
    return INCONCLUSIVE


def tally(verdicts: list[str]) -> str:
    """E.g. '2 supported, 1 inconclusive of 3'."""
    counts = [f"{verdicts.count(v)} {v}" for v in (SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE) if v in verdicts]
    return ", ".join(counts) + f" of {len(verdicts)}"


# ---------------------------------------------------------------- conditions

def _format(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def add_conditions(runs: pd.DataFrame) -> pd.DataFrame:
    """Add `condition` (everything a matched budget holds equal) and `budget` (the same without the size).

    Parameter-matched runs (a `params_target`) form conditions of their own, named after the target.
    """
    keys = [k for k in CONDITION_KEYS if k in runs]
    varying = [k for k in keys[3:] if runs[k].astype(str).nunique() > 1]

    def label(row: pd.Series, with_size: bool) -> str:
        parts = [str(row.get("dataset"))]
        if with_size:
            parts.append(f"{_format(row.get('train_size'))} train images")
        parts.append(f"{_format(row.get('trainer.epochs'))} epochs")
        parts += [f"{k.rsplit('.', 1)[-1]}={row[k]}" for k in varying]
        if pd.notna(row.get("params_target")):  # matched models are compared with each other, not with the rest
            parts.append(f"matched at {_format(float(row['params_target']))} params")
        return ", ".join(parts)

    return runs.assign(condition=runs.apply(label, axis=1, with_size=True),
                       budget=runs.apply(label, axis=1, with_size=False))


def sort_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Runs by condition, then model (dense, local, conv_flatten, gap, others), then seed: the order of every table."""
    rank = runs["model"].map({model: i for i, model in enumerate(MODEL_ORDER)}).fillna(len(MODEL_ORDER))
    keys = [k for k in CONDITION_KEYS if k in runs]
    ordered = runs.assign(_rank=rank).sort_values([*keys, "_rank", "seed"], kind="stable", na_position="last")
    return ordered.drop(columns="_rank").reset_index(drop=True)


def completed(runs: pd.DataFrame) -> pd.DataFrame:
    return runs[runs["status"] == "completed"]


def per_seed(runs: pd.DataFrame, model: str, column: str) -> pd.Series:
    """A model's value per seed (duplicates of a seed, e.g. from two sweeps, are averaged)."""
    return runs[runs["model"] == model].groupby("seed")[column].mean()


# ---------------------------------------------------------------- claims 2 and 4: overfitting

def matched_gaps(epochs: pd.DataFrame, run_ids: list[str]) -> pd.DataFrame:
    """Per run: the accuracy gap at the first epoch its train accuracy reaches the common target.

    The target is the highest train accuracy every run reaches, so each run is read where it fits the
    training data equally well, whatever its capacity. `matched_step` is how much train accuracy moved
    during that epoch (unknown for epoch 1, which starts from chance): Keras logs train accuracy as a
    mean over the epoch, so a big step means both an overshoot of the target and an understated gap.
    """
    acc = epochs[(epochs["metric"] == "accuracy") & epochs["run_id"].isin(run_ids)]
    acc = acc.pivot_table(index=["run_id", "epoch"], columns="split", values="value").reset_index()
    acc = acc.dropna(subset=["train", "val"]).sort_values(["run_id", "epoch"])
    if acc.empty:
        return pd.DataFrame(columns=["run_id", "matched_target", "matched_epoch", "matched_train_accuracy",
                                     "matched_step", "matched_gap"])
    acc["step"] = acc.groupby("run_id")["train"].diff()
    target = acc.groupby("run_id")["train"].max().min()
    first = acc[acc["train"] >= target].groupby("run_id").head(1)
    return pd.DataFrame({"run_id": first["run_id"], "matched_target": target, "matched_epoch": first["epoch"],
                         "matched_train_accuracy": first["train"], "matched_step": first["step"],
                         "matched_gap": first["train"] - first["val"]})


def loose_match(pair: pd.DataFrame) -> bool:
    """Some run met the target in its first epoch or while its train accuracy moved by more than LOOSE_MATCH."""
    steps = pair["matched_step"]
    return bool(steps.isna().any() or (steps > LOOSE_MATCH).any())


def _mean_pm(values: pd.Series) -> str:
    interval = mean_interval(values)
    if math.isnan(interval.mean):
        return ""
    return f"{interval.mean:.3f}" + ("" if math.isnan(interval.low) else f" ±{interval.half_width:.3f}")


@dataclass
class Comparison:
    """Two models under one condition: per-model evidence, per-measure effects, a verdict and notes."""

    more: str
    less: str
    condition: str
    evidence: pd.DataFrame
    effects: list[dict]
    verdict: str
    seeds: int
    budget: tuple[float, float]  # training images and epochs: a headline prefers the biggest
    caveats: list[str]
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.more} - {self.less}"

    def effect(self, measure: str) -> dict:
        return next(e for e in self.effects if e["measure"] == measure)


def compare(runs: pd.DataFrame, epochs: pd.DataFrame, more: str, less: str, condition: str) -> Comparison:
    """Does `more` overfit more than `less` under `condition`? Effects are more - less per seed."""
    pair = completed(runs)
    pair = pair[(pair["condition"] == condition) & pair["model"].isin([more, less])]
    pair = pair.merge(matched_gaps(epochs, pair["run_id"].tolist()), on="run_id", how="left")
    name = f"{more} - {less}"
    effects, verdicts = [], {}
    loose = loose_match(pair)
    for measure, (column, kind, unit) in MEASURES.items():
        a, b = per_seed(pair, more, column), per_seed(pair, less, column)
        interval = difference_interval(b, a) if kind == "context" else difference_interval(a, b)
        verdicts[measure] = INCONCLUSIVE if measure == MATCHED and loose else verdict(interval)
        effects.append({"comparison": name, "condition": condition, "measure": measure, "kind": kind,
                        "unit": unit, "mean": interval.mean, "low": interval.low, "high": interval.high,
                        "n": interval.n, "test": interval.test,
                        "verdict": "" if kind == "context" else verdicts[measure],
                        "note": "loose match: not judged" if measure == MATCHED and loose else ""})
    # An underfitting model has not trained past its best point, so its flat val loss proves nothing.
    deciding = [m for m, (_, kind, _) in MEASURES.items() if kind == "fair"]
    caveats = [f"{model} underfits" for model, other in ((more, less), (less, more)) if underfits(pair, model, other)]
    if caveats:
        deciding = [MATCHED]
    caveats += ["loose train-accuracy match"] if loose else []
    for effect in effects:
        effect["decides"] = effect["measure"] in deciding
    evidence = (pair.groupby("model", sort=False)
                .agg(seeds=("seed", "nunique"), params=("params_trainable", "first"),
                     train_acc=("final_train_accuracy", _mean_pm), val_acc=("final_val_accuracy", _mean_pm),
                     acc_gap=("final_accuracy_gap", _mean_pm), loss_gap=("final_loss_gap", _mean_pm),
                     matched_epoch=("matched_epoch", "mean"), matched_train_acc=("matched_train_accuracy", _mean_pm),
                     matched_gap=("matched_gap", _mean_pm), val_loss_rise=("val_loss_rise", _mean_pm))
                .reindex([more, less]).dropna(how="all").reset_index())
    evidence.insert(0, "condition", condition)
    evidence.insert(0, "comparison", name)
    seeds = min(per_seed(pair, model, "seed").size for model in (more, less))
    result = Comparison(more, less, condition, evidence, effects, fair_verdict([verdicts[m] for m in deciding]),
                        seeds, (float(pair["train_size"].max()), float(pair["trainer.epochs"].max())), caveats)
    result.notes = comparison_notes(result, pair)
    return result


def underfits(pair: pd.DataFrame, model: str, other: str) -> tuple[Interval, Interval] | None:
    """`model` minus `other` in final train and validation accuracy, when both intervals lie below 0."""
    train, val = (difference_interval(per_seed(pair, model, column), per_seed(pair, other, column))
                  for column in ("final_train_accuracy", "final_val_accuracy"))
    return (train, val) if verdict(train) == NOT_SUPPORTED and verdict(val) == NOT_SUPPORTED else None


def comparison_notes(comparison: Comparison, pair: pd.DataFrame) -> list[str]:
    """Say when a model underfits (so its small gap is no evidence), when the match is loose, and when the
    runs contradict the lecture."""
    notes = []
    gaps = pair.groupby("model")["final_accuracy_gap"].mean()
    for model, other in ((comparison.more, comparison.less), (comparison.less, comparison.more)):
        lower = underfits(pair, model, other)
        if lower:
            train, val = lower
            smaller = (f"; its smaller final gap ({gaps[model]:.3f} vs {gaps[other]:.3f}) is no evidence that it "
                       "generalizes better" if gaps[model] < gaps[other] else "")
            notes.append(f"{comparison.condition}: {model} underfits: its train accuracy is {-train.mean:.3f} "
                         f"[{-train.high:.3f}, {-train.low:.3f}] and its validation accuracy {-val.mean:.3f} "
                         f"[{-val.high:.3f}, {-val.low:.3f}] below {other}'s{smaller}. A model still improving "
                         "shows no val loss rise either, so only the gap at matched train accuracy can decide.")
    if loose_match(pair):
        steps = pair.groupby("model").agg(matched_epoch=("matched_epoch", "mean"),
                                          matched_step=("matched_step", lambda s: s.max(skipna=False)))
        notes.append(f"{comparison.condition}: loose match, so the gap at matched train accuracy is not judged: "
                     f"to reach train accuracy {pair['matched_target'].iloc[0]:.3f}, "
                     + ", ".join(f"{model} takes {row.matched_epoch:.1f} epochs on average"
                                 + (" (one run in its first epoch)" if math.isnan(row.matched_step)
                                    else f" (last step up to {row.matched_step:+.3f})")
                                 for model, row in steps.iterrows())
                     + f"; judged only after the first epoch and with steps of at most {LOOSE_MATCH}.")
    if comparison.verdict == NOT_SUPPORTED:
        against = [e for e in comparison.effects if e["kind"] == "fair" and e["verdict"] == NOT_SUPPORTED]
        notes.append(f"**Our runs contradict the lecture** under {comparison.condition}: {comparison.more} "
                     f"overfits less than {comparison.less} by "
                     + "; ".join(f"{e['measure']} ({_effect(e)})" for e in against) + ".")
    return notes


def _effect(effect: dict) -> str:
    return str(Interval(effect["mean"], effect["low"], effect["high"], effect["n"], effect["test"]))


def overfitting_claim(number: int, runs: pd.DataFrame, epochs: pd.DataFrame) -> tuple[Claim, list[dict]]:
    """Claim 2, 4 or 7: every comparison pair under every condition that has both models.

    The verdict rests on the pairs in DECIDING[number] (all pairs when absent); the others are context.
    """
    done = completed(runs)
    comparisons = []
    for more, less in OVERFITTING_COMPARISONS[number]:
        for condition in done["condition"].unique():
            models = set(done.loc[done["condition"] == condition, "model"])
            if {more, less} <= models:
                comparisons.append(compare(runs, epochs, more, less, condition))
    if not comparisons:
        wanted = " or ".join(f"{m} and {l}" for m, l in OVERFITTING_COMPARISONS[number])
        return Claim(number, INCONCLUSIVE, f"no condition has completed runs of {wanted}",
                     {}, [f"Run the {PRESETS[number]} preset to test this claim."]), []
    verdicts = [c.verdict for c in comparisons]
    pairs = DECIDING.get(number, OVERFITTING_COMPARISONS[number])
    decides = [(c.more, c.less) in pairs for c in comparisons]
    effects = [e for c in comparisons for e in c.effects]
    main: dict[str, Comparison] = {}
    for c in comparisons:  # per pair, the condition with the most seeds (ties: most images, then epochs)
        if c.name not in main or (c.seeds, *c.budget) > (main[c.name].seeds, *main[c.name].budget):
            main[c.name] = c
    headline = "; ".join(
        f"{c.name} under {c.condition}: {MATCHED} {_effect(c.effect(MATCHED))}, "
        f"val loss rise {_effect(c.effect('val loss rise above its minimum'))} "
        f"({c.effect(MATCHED)['test']}, {c.seeds} seeds" + "".join(f"; {caveat}" for caveat in c.caveats) + ")"
        for c in main.values())
    headline += f". Verdicts over all comparisons: {tally(verdicts)}."
    if number in DECIDING:
        headline += f" The claim's verdict rests on {' and '.join(f'{m} - {l}' for m, l in pairs)} alone."
    tables = {"Per model (mean ±95% t half-width over seeds)":
              pd.concat([c.evidence for c in comparisons], ignore_index=True),
              "Effects (more - less overfitting model; positive favours the lecture)":
              pd.DataFrame([{"comparison": e["comparison"], "condition": e["condition"], "measure": e["measure"],
                             "kind": e["kind"], "effect [95% interval]": _effect(e), "test": e["test"],
                             "verdict": e["verdict"], "decides": "yes" if e["decides"] else "", "note": e["note"]}
                            for e in effects]),
              "Verdict per comparison (from the measures marked 'decides')":
              pd.DataFrame([{"comparison": c.name, "condition": c.condition, "verdict": c.verdict,
                             "caveats": ", ".join(c.caveats)} for c in comparisons])}
    if number in DECIDING:
        tables["Verdict per comparison (from the measures marked 'decides')"]["decides the claim"] = [
            "yes" if d else "no (context)" for d in decides]
    # A context comparison going the other way does not contradict the lecture; say what it shows instead.
    notes = [n if d else n.replace("**Our runs contradict the lecture** under", "Context, not judged: under")
             for c, d in zip(comparisons, decides) for n in c.notes]
    if not any(decides):
        notes.insert(0, "No condition has completed runs of " + " or ".join(f"{m} and {l}" for m, l in pairs)
                     + f", which the verdict rests on: run the {PRESETS[number]} preset.")
    notes += matching_notes(runs, list(dict.fromkeys(c.condition for c in comparisons)))
    claim = Claim(number, combine([c.verdict for c, d in zip(comparisons, decides) if d]), headline, tables, notes)
    return claim, [{"claim": number, **e} for e in effects]


# ---------------------------------------------------------------- claims 1, 3, 5: parameter counts

def _layers_of(runs: pd.DataFrame, layers: pd.DataFrame) -> pd.DataFrame:
    """One copy of each model's layers per dataset (counts do not depend on the seed or the status)."""
    merged = layers.merge(runs[["run_id", "model", "dataset", "model.kernel_size"]], on="run_id")
    return merged.drop_duplicates(["dataset", "model", "position"]).reset_index(drop=True)


def _shape(text: str) -> tuple[int, ...]:
    return tuple(json.loads(text))


def _kernel(value: object) -> int | tuple[int, int]:
    value = json.loads(value) if isinstance(value, str) else value
    return tuple(value) if isinstance(value, list) else int(value)


def conv_params_claim(runs: pd.DataFrame, layers: pd.DataFrame) -> Claim:
    """Claim 1: each Conv2D against a Dense layer joining the same input to the same output."""
    lay = _layers_of(runs, layers)
    convs = lay[lay["class"] == "Conv2D"].rename(columns={"model.kernel_size": "kernel_size"})
    if convs.empty:
        return Claim(1, INCONCLUSIVE, "no run has a Conv2D layer", {}, [])
    rows = []
    for conv in convs.itertuples():
        inp, out = _shape(conv.input_shape), _shape(conv.output_shape)
        closed = arithmetic.conv2d_params(inp[-1], out[-1], _kernel(conv.kernel_size)).total
        dense = arithmetic.dense_equivalent_params(inp, out).total
        rows.append({"dataset": conv.dataset, "model": conv.model, "layer": conv.name, "input": str(inp),
                     "output": str(out), "conv params": conv.trainable, "closed form": closed,
                     "dense, same input and output": dense, "ratio dense / conv": dense / conv.trainable})
    table = pd.DataFrame(rows)
    low = table["ratio dense / conv"].min()
    result = SUPPORTED if low >= FAR_FEWER else NOT_SUPPORTED if low < 1 else INCONCLUSIVE
    tables = {"Each conv layer against a dense layer on the same input": table,
              "First layer of each model on the same image": _first_layers(lay),
              "Whole models": _whole_models(lay)}
    notes = []
    mismatch = table[table["conv params"] != table["closed form"]]
    if not mismatch.empty:
        notes.append(f"Recorded counts differ from the closed form kh*kw*C_in*filters + filters for "
                     f"{', '.join(mismatch['model'] + '/' + mismatch['layer'])}: check model.kernel_size.")
    notes += _whole_model_notes(tables["Whole models"])
    headline = (f"a dense layer joining the same input to the same output needs {_span(table['ratio dense / conv'])} "
                f"the parameters of each conv layer ({len(table)} conv layers; exact counts, the same for every seed)")
    return Claim(1, result, headline, tables, notes)


def _span(ratios: pd.Series) -> str:
    low, high = ratios.min(), ratios.max()
    return f"{low:,.0f}x" if round(low) == round(high) else f"{low:,.0f}x to {high:,.0f}x"


def _first_layers(lay: pd.DataFrame) -> pd.DataFrame:
    first = lay[lay["trainable"] > 0].sort_values("position").groupby(["dataset", "model"], sort=False).head(1)
    return pd.DataFrame({"dataset": first["dataset"], "model": first["model"], "first layer": first["class"],
                         "input": first["input_shape"].map(lambda s: str(_shape(s))),
                         "output": first["output_shape"].map(lambda s: str(_shape(s))),
                         "params": first["trainable"]}).reset_index(drop=True)


def _whole_models(lay: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (dataset, model), group in lay.groupby(["dataset", "model"], sort=False):
        biggest = group.loc[group["trainable"].idxmax()]
        total = group["trainable"].sum()
        rows.append({"dataset": dataset, "model": model, "trainable params": total,
                     "largest layer": f"{biggest['class']} layer '{biggest['name']}'",
                     "its share": biggest["trainable"] / total if total else math.nan})
    return pd.DataFrame(rows)


def _whole_model_notes(whole: pd.DataFrame) -> list[str]:
    notes = []
    for dataset, group in whole.groupby("dataset"):
        counts = group.set_index("model")
        if {"dense", "conv_flatten"} <= set(counts.index):
            d, c = counts.loc["dense"], counts.loc["conv_flatten"]
            if c["trainable params"] > d["trainable params"]:
                notes.append(
                    f"{dataset}: weight sharing saves parameters inside each conv layer, but the conv_flatten "
                    f"model as a whole has {c['trainable params'] / d['trainable params']:.1f}x the dense model's "
                    f"parameters ({c['trainable params']:,} vs {d['trainable params']:,}): {c['its share']:.0%} "
                    f"of them sit in its {c['largest layer']}, after the flatten.")
    return notes


def head_params_claim(runs: pd.DataFrame, layers: pd.DataFrame) -> Claim:
    """Claim 3: what reaches the classifier after flattening vs after global average pooling."""
    lay = _layers_of(runs, layers)
    rows = []
    for dataset, group in lay.groupby("dataset", sort=False):
        heads = {}
        for model, head_class in (("conv_flatten", "Flatten"), ("gap", "GlobalAveragePooling2D")):
            layers_of = group[group["model"] == model].sort_values("position")
            found = layers_of[layers_of["class"] == head_class]
            if not found.empty:
                at = found.iloc[0]
                heads[model] = (at, layers_of[layers_of["position"] < at["position"]]["trainable"].sum(),
                                layers_of[layers_of["position"] > at["position"]]["trainable"].sum(),
                                _shape(layers_of.iloc[-1]["output_shape"])[-1])
        if len(heads) < 2:
            continue
        for model, (at, trunk, head, classes) in heads.items():
            inp = _shape(at["input_shape"])
            linear = arithmetic.dense_params(math.prod(inp) if model == "conv_flatten" else inp[-1], classes).total
            rows.append({"dataset": dataset, "model": model, "feature maps": str(inp),
                         "classifier input": math.prod(inp) if model == "conv_flatten" else inp[-1],
                         "trunk params": trunk, "params after the head": head,
                         "a linear classifier would need": linear})
    if not rows:
        return Claim(3, INCONCLUSIVE, "no dataset has runs of both conv_flatten and gap", {}, [])
    table = pd.DataFrame(rows)
    ratios = []
    for dataset, group in table.groupby("dataset", sort=False):
        g = group.set_index("model")
        ratios.append({"dataset": dataset,
                       "ratio, heads as built": g.loc["conv_flatten", "params after the head"]
                       / g.loc["gap", "params after the head"],
                       "ratio, linear classifier on each": g.loc["conv_flatten", "a linear classifier would need"]
                       / g.loc["gap", "a linear classifier would need"],
                       "same trunk": g.loc["conv_flatten", "trunk params"] == g.loc["gap", "trunk params"]})
    ratios = pd.DataFrame(ratios)
    built, linear = ratios["ratio, heads as built"], ratios["ratio, linear classifier on each"]
    fewer = (built > 1).all() and (linear > 1).all()
    result = SUPPORTED if fewer else NOT_SUPPORTED if (built < 1).any() else INCONCLUSIVE
    notes = [f"{r['dataset']}: the two models' conv trunks differ in size, so the head is not the only difference."
             for _, r in ratios.iterrows() if not r["same trunk"]]
    notes.append("As built, conv_flatten also has a hidden Dense layer after the flatten; the like-for-like "
                  "ratio (a linear classifier on the flattened vs the pooled features) isolates the head.")
    headline = (f"flattening needs {_span(built)} the weights after the head as built, {_span(linear)} for a "
                "linear classifier alone (exact counts)")
    return Claim(3, result, headline, {"Heads": table, "Ratios": ratios}, notes)


def pooling_claim(runs: pd.DataFrame, layers: pd.DataFrame) -> Claim:
    """Claim 5: every pooling layer of every model has zero trainable (and non-trainable) weights."""
    lay = _layers_of(runs, layers)
    pools = lay[lay["class"].str.contains("Pool")]
    if pools.empty:
        return Claim(5, INCONCLUSIVE, "no run has a pooling layer", {}, [])
    table = (pools.groupby("class")
             .agg(layers=("name", "size"), models=("model", lambda m: ", ".join(sorted(set(m)))),
                  max_trainable=("trainable", "max"), max_non_trainable=("non_trainable", "max"))
             .reset_index())
    with_weights = pools[(pools["trainable"] > 0) | (pools["non_trainable"] > 0)]
    result = SUPPORTED if with_weights.empty else NOT_SUPPORTED
    headline = (f"{len(pools)} pooling layers of {pools['class'].nunique()} kinds, "
                f"{len(with_weights)} with any weights (exact counts)")
    return Claim(5, result, headline, {"Pooling layers": table}, [])


# ---------------------------------------------------------------- claim 6: translation invariance

# (model expected to be more translation invariant, model expected to be less).
SHIFT_COMPARISONS = [("gap", "conv_flatten"), ("gap", "dense")]
CONSISTENCY = "consistency under shift (zero fill)"
# Per run, means over every shifted input; differences "more - less invariant" are positive when the lecture
# is right. Consistency with blank borders decides; accuracy shows whether the kept predictions are right.
SHIFT_MEASURES = {
    CONSISTENCY: ("consistency", "zero", "fair"),
    "accuracy under shift (zero fill)": ("accuracy", "zero", "context"),
    "consistency under shift (wrap fill)": ("consistency", "wrap", "context"),
    "accuracy under shift (wrap fill)": ("accuracy", "wrap", "context"),
}


def shifted_means(runs: pd.DataFrame, shifts: pd.DataFrame) -> pd.DataFrame:
    """Per completed run and fill: mean accuracy and consistency over its shifted inputs (shift > 0)."""
    shifted = shifts[(shifts["shift"] > 0) & shifts["run_id"].isin(completed(runs)["run_id"])]
    return (shifted.groupby(["run_id", "model", "seed", "condition", "fill"], sort=False)
            [["accuracy", "consistency"]].mean().reset_index())


def by_shift(runs: pd.DataFrame, shifts: pd.DataFrame, column: str, fill: str) -> pd.DataFrame:
    """Condition x model rows, a column per shift in pixels: the mean over directions, then over seeds."""
    rows = shifts[(shifts["fill"] == fill) & shifts["run_id"].isin(completed(runs)["run_id"])]
    per_run = rows.groupby(["condition", "model", "run_id", "shift"], sort=False)[column].mean().reset_index()
    table = per_run.pivot_table(index=["condition", "model"], columns="shift", values=column, sort=False)
    return table.rename(columns=lambda shift: f"{shift} px").reset_index().rename_axis(columns=None)


def invariance_claim(runs: pd.DataFrame, shifts: pd.DataFrame | None) -> tuple[Claim, list[dict]]:
    """Claim 6: gap keeps its predictions under shifted inputs more often than conv_flatten and dense."""
    means = shifted_means(runs, shifts) if shifts is not None and not shifts.empty else pd.DataFrame()
    if means.empty:
        return Claim(6, INCONCLUSIVE, "no completed run recorded shift.csv", {},
                     [f"Runs write shift.csv unless shift.enabled=false; run the {PRESETS[6]} preset."]), []
    effects, verdicts, main, caveats = [], [], {}, []
    for more, less in SHIFT_COMPARISONS:
        for condition, here in means.groupby("condition", sort=False):
            if not {more, less} <= set(here.loc[here["fill"] == "zero", "model"]):
                continue
            name = f"{more} - {less}"
            for measure, (column, fill, kind) in SHIFT_MEASURES.items():
                rows = here[here["fill"] == fill]
                if not {more, less} <= set(rows["model"]):
                    continue
                interval = difference_interval(per_seed(rows, more, column), per_seed(rows, less, column))
                effects.append({"comparison": name, "condition": condition, "measure": measure, "kind": kind,
                                "unit": column, "mean": interval.mean, "low": interval.low, "high": interval.high,
                                "n": interval.n, "test": interval.test,
                                "verdict": verdict(interval) if kind == "fair" else "", "decides": kind == "fair",
                                "note": ""})
            verdicts.append(_find(effects, name, condition, CONSISTENCY)["verdict"])
            caveats += shift_caveats(runs, shifts, condition, more, less, verdicts[-1])
            seeds = min(here.loc[here["model"] == m, "seed"].nunique() for m in (more, less))
            budget = runs.loc[runs["condition"] == condition, [k for k in CONDITION_KEYS[1:3] if k in runs]].max()
            size = tuple(float(v) for v in budget)
            if name not in main or (seeds, size) > main[name][1:]:  # most seeds, then images, then epochs
                main[name] = (condition, seeds, size)
    if not effects:
        wanted = " or ".join(f"{m} and {l}" for m, l in SHIFT_COMPARISONS)
        return Claim(6, INCONCLUSIVE, f"no condition has completed runs with shift.csv of {wanted}", {},
                     [f"Run the {PRESETS[6]} preset (every run writes shift.csv) to test this claim."]), []
    headline = "; ".join(
        f"{name} under {condition}: {CONSISTENCY} {_effect(_find(effects, name, condition, CONSISTENCY))}, "
        f"accuracy under shift {_effect(_find(effects, name, condition, 'accuracy under shift (zero fill)'))} "
        f"({_find(effects, name, condition, CONSISTENCY)['test']}, {seeds} seeds)"
        for name, (condition, seeds, _) in main.items())
    headline += f". Verdicts over all comparisons: {tally(verdicts)}."
    fills = [f for f in ("zero", "wrap") if f in set(means["fill"])]
    per_model = means.pivot_table(index=["condition", "model", "seed"], columns="fill",
                                  values=["accuracy", "consistency"], sort=False)
    per_model.columns = [f"{column} ({fill} fill)" for column, fill in per_model.columns]
    per_model = (per_model.reset_index().groupby(["condition", "model"], sort=False)
                 .agg(seeds=("seed", "nunique"), **{c: (c, _mean_pm) for c in per_model.columns})
                 .reset_index())
    tables = {"Per model: mean over shifted inputs (mean ±95% t half-width over seeds)": per_model,
              "Effects (more - less invariant model; positive favours the lecture)":
              pd.DataFrame([{"comparison": e["comparison"], "condition": e["condition"], "measure": e["measure"],
                             "kind": e["kind"], "effect [95% interval]": _effect(e), "test": e["test"],
                             "verdict": e["verdict"]} for e in effects])}
    for fill in fills:
        for column in ("consistency", "accuracy"):
            tables[f"Test {column} per shift ({fill} fill; mean over x, y, diagonal and seeds)"] = by_shift(
                runs, shifts, column, fill)
    notes = invariance_notes(effects) + caveats
    notes += matching_notes(runs, list(dict.fromkeys(e["condition"] for e in effects)))
    return Claim(6, combine(verdicts), headline, tables, notes), [{"claim": 6, **e} for e in effects]


def shift_caveats(runs: pd.DataFrame, shifts: pd.DataFrame, condition: str, more: str, less: str,
                  result: str) -> list[str]:
    """What the mean over shifts hides: `more` being the weaker classifier, or behind at some shifts."""
    notes = []
    rows = shifts[(shifts["condition"] == condition) & (shifts["fill"] == "zero")
                  & shifts["run_id"].isin(completed(runs)["run_id"])]
    unshifted = rows[rows["shift"] == 0].drop_duplicates("run_id")
    base = difference_interval(per_seed(unshifted, more, "accuracy"), per_seed(unshifted, less, "accuracy"))
    if verdict(base) == NOT_SUPPORTED:
        notes.append(f"{condition}: {more} is less accurate than {less} on the unshifted test images ({base}), "
                     "so its consistency is that of a weaker classifier.")
    curve = rows[rows["shift"] > 0].groupby(["model", "shift"])["consistency"].mean().unstack("model")
    behind = curve.index[curve[more] < curve[less]] if result == SUPPORTED else []
    if len(behind):
        notes.append(f"{condition}: per shift, {more} keeps its prediction less often than {less} at "
                     + ", ".join(f"{shift} px" for shift in behind) + "; only the mean over all shifts favours it "
                     "(see the per-shift table).")
    return notes


def _find(effects: list[dict], comparison: str, condition: str, measure: str) -> dict:
    key = (comparison, condition, measure)
    return next(e for e in effects if (e["comparison"], e["condition"], e["measure"]) == key)


def invariance_notes(effects: list[dict]) -> list[str]:
    """Say when gap's kept predictions are not the right ones, and when the runs contradict the lecture."""
    notes = []
    for e in effects:
        if e["measure"] != CONSISTENCY:
            continue
        accuracy = _find(effects, e["comparison"], e["condition"], "accuracy under shift (zero fill)")
        if e["verdict"] == SUPPORTED and accuracy["high"] < 0:
            notes.append(f"{e['condition']}: {e['comparison'].split(' - ')[0]} keeps its prediction more often but "
                         f"is less accurate on shifted images ({_effect(accuracy)}): part of its consistency is "
                         "predicting the same wrong class.")
        if e["verdict"] == NOT_SUPPORTED:
            more, less = e["comparison"].split(" - ")
            notes.append(f"**Our runs contradict the lecture** under {e['condition']}: {more} keeps its prediction "
                         f"under shift less often than {less} ({CONSISTENCY} {_effect(e)}).")
    return notes


def matching_notes(runs: pd.DataFrame, conditions: list[str]) -> list[str]:
    """For each parameter-matched condition: the target and what each model achieved."""
    if "params_target" not in runs:
        return []
    done = completed(runs)
    notes = []
    for condition in conditions:
        here = done[(done["condition"] == condition) & done["params_target"].notna()]
        if here.empty:
            continue
        counts = here.groupby("model", sort=False).agg(target=("params_target", "first"),
                                                       achieved=("params_trainable", "first"))
        notes.append(f"{condition}: parameter-matched, so differences come from each architecture's bias, not "
                     "its capacity. Trainable parameters achieved vs target: "
                     + ", ".join(f"{model} {row.achieved:,.0f} of {row.target:,.0f} "
                                 f"({row.achieved / row.target - 1:+.1%})" for model, row in counts.iterrows()) + ".")
    return notes


# ---------------------------------------------------------------- all claims

@dataclass
class Claim:
    """One claim's verdict, headline effect, evidence tables, notes and (once drawn) figure stems."""

    number: int
    verdict: str
    headline: str
    tables: dict[str, pd.DataFrame]
    notes: list[str]
    figures: list[str] = field(default_factory=list)

    @property
    def statement(self) -> str:
        return STATEMENTS[self.number]

    @property
    def quote(self) -> str:
        return QUOTES[self.number]

    @property
    def method(self) -> str:
        if self.number == 6:
            return ("Paired by seed within each condition: per run, the mean over every shifted test image (1 to "
                    "max_shift pixels along x, y and the diagonal); 95% t intervals on the per-seed differences "
                    "(Welch where seeds are not shared). The verdict rests on consistency with zero fill; accuracy "
                    "under shift and the wrap fill are context.")
        if self.number in OVERFITTING_COMPARISONS:
            return ("Paired by seed within each condition; per-measure 95% t intervals on the per-seed "
                    "differences (Welch where seeds are not shared). The verdict rests on the fair measures "
                    "(gap at matched train accuracy, val loss rise), on the first alone where either model "
                    "underfits the other."
                    + (" Only local - conv_flatten (weight sharing) decides; dense - local (locality) is context."
                       if self.number in DECIDING else ""))
        return "Exact parameter counts from the runs' layers, checked against the closed forms."


def judge(runs: pd.DataFrame, epochs: pd.DataFrame, layers: pd.DataFrame,
          shifts: pd.DataFrame | None = None) -> tuple[list[Claim], pd.DataFrame]:
    """All seven claims, and the tidy effects table behind claims 2, 4, 6 and 7."""
    claim2, effects2 = overfitting_claim(2, runs, epochs)
    claim4, effects4 = overfitting_claim(4, runs, epochs)
    claim6, effects6 = invariance_claim(runs, shifts)
    claim7, effects7 = overfitting_claim(7, runs, epochs)
    if layers.empty:
        structural = [Claim(n, INCONCLUSIVE, "no run recorded its layers", {}, []) for n in (1, 3, 5)]
    else:
        structural = [conv_params_claim(runs, layers), head_params_claim(runs, layers), pooling_claim(runs, layers)]
    found = sorted([*structural, claim2, claim4, claim6, claim7], key=lambda c: c.number)
    columns = ["claim", "comparison", "condition", "measure", "kind", "unit", "mean", "low", "high", "n", "test",
               "verdict", "decides", "note"]
    return found, pd.DataFrame(effects2 + effects4 + effects6 + effects7, columns=columns)


def data_efficiency_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Model x training-set size under each budget trained at two or more sizes."""
    done = completed(runs)
    if done.empty:
        return pd.DataFrame()
    sizes = done.groupby("budget")["train_size"].nunique()
    done = done[done["budget"].isin(sizes[sizes >= 2].index)]
    if done.empty:
        return pd.DataFrame()
    return (done.groupby(["budget", "model", "train_size"], sort=False)
            .agg(seeds=("seed", "nunique"), train_acc=("final_train_accuracy", _mean_pm),
                 val_acc=("final_val_accuracy", _mean_pm), acc_gap=("final_accuracy_gap", _mean_pm),
                 val_loss_rise=("val_loss_rise", _mean_pm))
            .reset_index())
