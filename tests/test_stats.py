"""Effects, Holm's correction and the four verdicts on constructed numbers, checked against scipy and by hand."""

import math
from dataclasses import replace

import pandas as pd
import pytest
from scipy import stats as scipy_stats

from inductive.evidence import stats


def effect_of(differences):
    return stats.paired_effect(pd.Series(differences, dtype=float), pd.Series([0.0] * len(differences)))


def test_paired_effect_is_scipys_paired_t():
    a, b = pd.Series([0.90, 0.92, 0.91, 0.95, 0.93]), pd.Series([0.85, 0.90, 0.86, 0.90, 0.91])
    effect = stats.paired_effect(a, b)
    reference = scipy_stats.ttest_rel(a, b)
    interval = reference.confidence_interval(0.95)
    assert effect.p == pytest.approx(reference.pvalue)
    assert (effect.low, effect.high) == pytest.approx((interval.low, interval.high))
    assert effect.test == "paired t" and effect.n == 5


def test_unpaired_seeds_fall_back_to_welch():
    effect = stats.paired_effect(pd.Series([0.9, 0.91, 0.92], index=[0, 1, 2]), pd.Series([0.8, 0.82], index=[5, 6]))
    reference = scipy_stats.ttest_ind([0.9, 0.91, 0.92], [0.8, 0.82], equal_var=False)
    interval = reference.confidence_interval(0.95)
    assert effect.test == "Welch t" and effect.p == pytest.approx(reference.pvalue)
    assert (effect.low, effect.high) == pytest.approx((interval.low, interval.high))


def test_holm_by_hand():
    # sorted p: 0.01 (x3 = 0.03), 0.02 (x2 = 0.04), 0.04 (x1, but monotone: 0.04)
    assert stats.holm([0.04, 0.01, 0.02]) == pytest.approx([0.04, 0.03, 0.04])
    assert stats.holm([0.5, math.nan]) == [0.5, math.nan] or math.isnan(stats.holm([0.5, math.nan])[1])


def test_corrected_interval_excludes_zero_exactly_when_holm_rejects():
    effects = [effect_of(d) for d in ([0.02, 0.03, 0.025, 0.028, 0.022], [0.01, -0.01, 0.02, 0.0, 0.015],
                                      [0.05, 0.06, 0.04, 0.055, 0.05])]
    adjusted = stats.holm([e.p for e in effects])
    for effect, p_holm in zip(stats.corrected(effects), adjusted):
        assert (effect.low > 0 or effect.high < 0) == (p_holm < stats.ALPHA)
        assert effect.level >= 0.95


@pytest.mark.parametrize("alpha", [0.05, 0.025, 0.01])
def test_a_smaller_alpha_widens_every_corrected_interval_and_rejects_less(alpha):
    """The second look's alpha: intervals exclude 0 exactly when Holm rejects at that alpha."""
    effects = [effect_of(d) for d in ([0.02, 0.03, 0.025, 0.028, 0.022], [0.01, -0.01, 0.02, 0.0, 0.015],
                                      [0.012, 0.018, 0.0, 0.015, 0.01])]
    adjusted = stats.holm([e.p for e in effects])
    at_five = stats.corrected(effects)
    for effect, wider, p_holm in zip(at_five, stats.corrected(effects, alpha), adjusted):
        assert (wider.low > 0 or wider.high < 0) == (p_holm < alpha)
        assert wider.high - wider.low >= effect.high - effect.low - 1e-12
    assert any(0.025 <= p < 0.05 for p in adjusted)  # the case where the two alphas disagree is exercised


@pytest.mark.parametrize("differences, band, expected", [
    ([0.05, 0.06, 0.04, 0.055, 0.05], 0.01, stats.SUPPORTED),
    ([-0.05, -0.06, -0.04, -0.055, -0.05], 0.01, stats.CONTRADICTED),
    ([0.001, -0.001, 0.0005, 0.0, -0.0005], 0.01, stats.NEGLIGIBLE),   # equivalence: inside the band
    ([0.03, -0.02, 0.05, -0.04, 0.01], 0.01, stats.INCONCLUSIVE),
    ([0.05], 0.01, stats.INCONCLUSIVE),                                 # one seed: no interval
])
def test_four_verdicts(differences, band, expected):
    assert stats.verdict(effect_of(differences), band) == expected


def test_inconclusive_says_how_many_seeds_would_decide():
    effect = effect_of([0.03, -0.01, 0.05, 0.0, 0.02])
    needed = stats.seeds_needed(effect, 0.001)
    assert needed is not None and needed > 5
    sd = effect.se * (effect.n ** 0.5)
    wider = stats.Effect(effect.mean, sd / needed ** 0.5, needed, effect.p, "paired t", df=needed - 1).at_level(effect.level)
    assert wider.low > 0


def test_combine_needs_agreement():
    assert stats.combine([stats.SUPPORTED, stats.SUPPORTED]) == stats.SUPPORTED
    assert stats.combine([stats.SUPPORTED, stats.NEGLIGIBLE]) == stats.SUPPORTED
    assert stats.combine([stats.SUPPORTED, stats.CONTRADICTED]) == stats.INCONCLUSIVE
    assert stats.combine([stats.SUPPORTED, stats.INCONCLUSIVE]) == stats.INCONCLUSIVE
    assert stats.combine([stats.NEGLIGIBLE, stats.NEGLIGIBLE]) == stats.NEGLIGIBLE


def test_an_interval_past_its_measures_range_prints_clipped_and_marked():
    """Two seeds of a difference of fractions (it lies in [-1, 1]): the t interval reaches far past the range and
    prints at its bounds, marked; the bounds it was computed with stay, and the corrected effect keeps its span."""
    wide = stats.corrected([replace(effect_of([0.6, -0.4]), span=(-1, 1))])[0]
    assert wide.low < -1 and wide.high > 1 and wide.span == (-1, 1)
    assert str(wide) == f"{wide.mean:+.3f} [-1.000{stats.CLIPPED}, +1.000{stats.CLIPPED}]"
    narrow = replace(effect_of([0.05, 0.06, 0.04, 0.055, 0.05]), span=(-1, 1))
    assert str(narrow) == f"{narrow.mean:+.3f} [{narrow.low:+.3f}, {narrow.high:+.3f}]"
    assert stats.CLIPPED not in str(replace(wide, span=None))


@pytest.mark.parametrize("differences, verdict", [([0.6, -0.4], stats.INCONCLUSIVE), ([0.9, 0.95], stats.SUPPORTED),
                                                  ([-0.9, -0.95], stats.CONTRADICTED)])
def test_clipping_never_changes_what_a_verdict_reads(differences, verdict):
    """Verdicts read the unclipped interval; the printed one, clipped to a range wider than the band, reads alike."""
    effect = replace(effect_of(differences), span=(-1, 1))
    printed = replace(effect, low=max(effect.low, -1), high=min(effect.high, 1))
    assert printed != effect and stats.CLIPPED in str(effect)
    assert stats.verdict(printed, 0.01) == stats.verdict(effect, 0.01) == verdict
