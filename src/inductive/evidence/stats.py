"""Effects over seeds, their intervals, Holm's correction and the four verdicts (scipy.stats; no TensorFlow).

An effect is a difference between two models, per seed, signed so that positive values favour the
lecture. Within one claim under one condition (a dataset and training setup; the evidence presets
have one per dataset), every deciding comparison x measure is one test; Holm's step-down correction
(our own few lines over scipy's p-values) keeps the chance of any false verdict in that family at alpha
(5% unless the report is asked for less, e.g. 2.5% for a second look at more seeds). A study that asks one
question at several conditions of a dataset (e.g. training-set sizes) may make the family all of them
(`corrected_by_family`), so that asking at three sizes does not triple the chance of a false verdict.
The interval shown for a test is the t interval at level 1 - alpha * p / p_Holm, which excludes 0 exactly
when the Holm-adjusted p is below alpha.

Verdict rules, in this order (`rules`, printed in every report):
- `negligible`: the corrected interval lies inside the measure's pre-declared band (an equivalence
  test: no effect worth the name, even if it excludes 0);
- `supported`: it excludes 0 on the lecture's side;  `contradicted`: on the other side;
- `inconclusive`: none of these, with the seeds the observed spread would need to decide.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats

ALPHA = 0.05
FAMILIES = ("condition", "dataset")  # what one Holm family holds: a claim's deciding effects per condition or dataset
SUPPORTED, CONTRADICTED, NEGLIGIBLE, INCONCLUSIVE = "supported", "contradicted", "negligible", "inconclusive"
VERDICTS = (SUPPORTED, CONTRADICTED, NEGLIGIBLE, INCONCLUSIVE)
CLIPPED = "†"  # marks an interval's end printed at its measure's bound
CLIPPED_NOTE = (f"{CLIPPED} Interval clipped to the measure's possible range (the bound shown): too few seeds to bound "
                "it. Verdicts read the unclipped interval; clipping never moves an end across 0 or a band edge.")


def rules(alpha: float = ALPHA, family: str = "condition") -> list[str]:
    """The verdict rules as every report prints them, before any number."""
    scope = ("under one condition" if family == "condition"
             else "across all conditions of one dataset (every training-set size)")
    return [
        "Each effect is a per-seed paired difference between two models trained alike, signed so that positive "
        "favours the lecture; runs of one seed share their training subset and validation split.",
        f"Intervals are paired t intervals over seeds, corrected by Holm across the deciding comparisons of a "
        f"claim {scope} (family-wise error {alpha * 100:g}%); context effects show their own 95% interval.",
        "`negligible`: the corrected interval lies inside the measure's negligible band (equivalence).",
        "`supported` / `contradicted`: it excludes 0 on the lecture's side / the other side.",
        "`inconclusive`: none of these; the report says how many seeds the observed spread would need.",
    ]


@dataclass(frozen=True)
class Effect:
    """A mean difference over seeds with its standard error, degrees of freedom and raw p-value;
    `level` and the bounds follow the correction. `span` is the range its measure lets it take: with few seeds a
    t interval can reach past it, and is printed clipped there (the bounds themselves stay as computed)."""

    mean: float
    se: float
    n: int
    p: float
    test: str
    low: float = math.nan
    high: float = math.nan
    level: float = 1 - ALPHA
    df: float = math.nan
    span: tuple[float, float] | None = None

    def __str__(self) -> str:
        if math.isnan(self.low):
            return f"{self.mean:+.3f} (no interval: {self.n} seed{'s' * (self.n != 1)})"
        lowest, highest = self.span or (-math.inf, math.inf)
        low = f"{lowest:+.3f}{CLIPPED}" if self.low < lowest else f"{self.low:+.3f}"
        high = f"{highest:+.3f}{CLIPPED}" if self.high > highest else f"{self.high:+.3f}"
        return f"{self.mean:+.3f} [{low}, {high}]"

    def at_level(self, level: float) -> Effect:
        """The same effect with its t interval at `level` (the test's own degrees of freedom)."""
        if self.n < 2 or math.isnan(self.se):
            return replace(self, low=math.nan, high=math.nan, level=level)
        half = stats.t.ppf((1 + level) / 2, self.df) * self.se
        return replace(self, low=self.mean - half, high=self.mean + half, level=level)


def paired_effect(a: pd.Series, b: pd.Series) -> Effect:
    """a - b over the seeds both have (Series indexed by seed): paired t; Welch's t when under two are shared."""
    a, b = a.dropna().astype(float), b.dropna().astype(float)
    shared = a.index.intersection(b.index)
    if len(shared) >= 2:
        diff = (a[shared] - b[shared]).to_numpy()
        return _one_sample(diff, "paired t").at_level(1 - ALPHA)
    if min(len(a), len(b)) < 2:
        mean = float(a.mean() - b.mean()) if len(a) and len(b) else math.nan
        return Effect(mean, math.nan, min(len(a), len(b)), math.nan, "none")
    result = stats.ttest_ind(a, b, equal_var=False)
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1)) if va + vb > 0 else math.nan
    return Effect(float(a.mean() - b.mean()), math.sqrt(va + vb), min(len(a), len(b)), float(result.pvalue),
                  "Welch t", df=df).at_level(1 - ALPHA)


def _one_sample(diff: np.ndarray, test: str, tested: bool = True) -> Effect:
    """The mean of `diff`, its standard error and the t test's p against 0 (NaN where not `tested`; identical
    differences get 0 or 1 either way)."""
    mean, sd, n = float(diff.mean()), float(diff.std(ddof=1)), len(diff)
    if sd <= 1e-12 * max(1.0, abs(mean)):  # identical differences: no spread to test against
        return Effect(mean, 0.0, n, 0.0 if mean != 0 else 1.0, test, df=n - 1)
    p = float(stats.ttest_1samp(diff, 0.0).pvalue) if tested else math.nan
    return Effect(mean, sd / math.sqrt(n), n, p, test, df=n - 1)


def mean_effect(values: pd.Series | np.ndarray, tested: bool = True) -> Effect:
    """Mean of one model's values over seeds with its 95% t interval (for tables and figures); `tested=False`
    leaves out the p-value against 0 (a table of means prints none, and the test costs more than the interval)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if len(values) < 2:
        return Effect(float(values.mean()) if len(values) else math.nan, math.nan, len(values), math.nan, "none")
    return _one_sample(values, "t", tested).at_level(1 - ALPHA)


def holm(pvalues: list[float]) -> list[float]:
    """Holm-adjusted p-values (step-down, monotone); NaN stays NaN and does not count as a test."""
    indexed = [(p, i) for i, p in enumerate(pvalues) if not math.isnan(p)]
    m, adjusted, running = len(indexed), [math.nan] * len(pvalues), 0.0
    for rank, (p, i) in enumerate(sorted(indexed)):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted


def corrected(effects: list[Effect], alpha: float = ALPHA) -> list[Effect]:
    """Each effect with its interval at the Holm level: excludes 0 exactly when its Holm-adjusted p < alpha."""
    out = []
    for effect, p_holm in zip(effects, holm([e.p for e in effects])):
        if math.isnan(p_holm) or p_holm == 0:
            level = 1 - alpha / max(1, sum(not math.isnan(e.p) for e in effects))
        else:
            level = 1 - alpha * effect.p / p_holm
        out.append(effect.at_level(level))
    return out


def corrected_by_family(effects: dict[tuple[str, str], list[Effect]], family: str,
                        alpha: float = ALPHA) -> dict[tuple[str, str], list[Effect]]:
    """(dataset, condition) -> its deciding effects, each corrected by Holm within its family: the condition's
    own effects (`condition`), or those of every condition of its dataset together (`dataset`)."""
    if family not in FAMILIES:
        raise ValueError(f"family={family!r}: use one of {', '.join(FAMILIES)}")
    families: dict[object, list[tuple[str, str]]] = {}
    for key in effects:
        families.setdefault(key if family == "condition" else key[0], []).append(key)
    out = {}
    for keys in families.values():
        fixed = iter(corrected([e for key in keys for e in effects[key]], alpha))
        out |= {key: [next(fixed) for _ in effects[key]] for key in keys}
    return out


def verdict(effect: Effect, band: float) -> str:
    """The four verdicts (module docstring), from the corrected interval and the measure's negligible band."""
    if effect.n < 2 or math.isnan(effect.low):
        return INCONCLUSIVE
    if -band < effect.low and effect.high < band:
        return NEGLIGIBLE
    if effect.low > 0:
        return SUPPORTED
    if effect.high < 0:
        return CONTRADICTED
    return INCONCLUSIVE


def seeds_needed(effect: Effect, band: float, most: int = 200) -> int | None:
    """Seeds at which the observed mean and spread would decide (exclude 0, or fit inside the band); None past `most`."""
    if effect.n < 2 or math.isnan(effect.se):
        return None
    sd = effect.se * math.sqrt(effect.n)
    for n in range(max(effect.n, 2), most + 1):
        half = stats.t.ppf((1 + effect.level) / 2, n - 1) * sd / math.sqrt(n)
        if half < abs(effect.mean) or half < band - abs(effect.mean):
            return n
    return None


def combine(verdicts: list[str]) -> str:
    """Several deciding verdicts into one: the one they share; `supported` (or `contradicted`) beside only
    `negligible` ones wins; anything beside an `inconclusive`, or both directions together, is inconclusive."""
    found = set(verdicts)
    if len(found) == 1:
        return verdicts[0]
    if SUPPORTED in found and CONTRADICTED not in found and INCONCLUSIVE not in found:
        return SUPPORTED
    if CONTRADICTED in found and SUPPORTED not in found and INCONCLUSIVE not in found:
        return CONTRADICTED
    return INCONCLUSIVE


def mean_pm(values: pd.Series) -> str:
    """'0.912 ±0.004': a mean and its 95% t half-width over seeds, for tables."""
    effect = mean_effect(values, tested=False)
    if math.isnan(effect.mean):
        return ""
    return f"{effect.mean:.3f}" + ("" if math.isnan(effect.low) else f" ±{(effect.high - effect.low) / 2:.3f}")
