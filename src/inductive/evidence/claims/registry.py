"""The claims registry's parts: what a claim measures (`Measure`), what its judge returns (`Finding`, `Cell`), the
registration decorator and `judge_all`. The claim modules import these from here; the package imports the claim
modules, which register."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

import pandas as pd

from inductive.evidence.stats import Effect, paired_effect
from inductive.evidence.tables import Tables

NOT_RUN = "not run"  # no runs (or no measurement) that could test the claim on this dataset


@dataclass(frozen=True)
class Measure:
    """A per-run measure a claim compares between two models, and whether it decides.

    `values` is the range one run's value can take by the measure's definition: an accuracy (0, 1), a gap between
    two accuracies (-1, 1), math.inf where nothing bounds it. An effect, a difference of two runs' values, can then
    only lie in `span` (effects.csv's span_low, span_high), where its printed interval is clipped.
    """

    name: str
    column: str
    band: float    # pre-declared negligible band, in the measure's unit
    unit: str
    sign: int      # +1: more - less favours the lecture when positive; -1: less - more
    decides: bool  # False: context, shown but never deciding
    values: tuple[float, float]

    def __post_init__(self):
        low, high = self.values
        if not self.band < high - low:  # else clipping to `span` could move an interval's end across a band edge
            raise ValueError(f"measure {self.name!r}: band {self.band} must be narrower than its range {self.values}")

    @property
    def span(self) -> tuple[float, float]:
        low, high = self.values
        return low - high, high - low

    def effect(self, more: pd.Series, less: pd.Series) -> Effect:
        """The paired effect over seeds, signed by `sign` so that positive favours the lecture."""
        a, b = (more, less) if self.sign > 0 else (less, more)
        return replace(paired_effect(a, b), span=self.span)


@dataclass(frozen=True)
class Cell:
    """A claim on one dataset: the verdict word, the deciding effect with its interval, and why, in a line."""

    verdict: str
    effect: str = ""
    reason: str = ""


@dataclass
class Finding:
    """What one claim's judge found, over every dataset it had runs for."""

    cells: dict[str, Cell]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # name -> table (saved as claimN_name.csv)
    effects: list[dict] = field(default_factory=list)              # rows of effects.csv
    figures: list[tuple[str, str]] = field(default_factory=list)   # (figures.DRAWERS kind, table name)
    notes: list[str] = field(default_factory=list)
    spec: ClaimSpec | None = None
    # (dataset, condition) -> that condition's own cell; the dataset's cell combines them (empty: not judged so)
    by_condition: dict[tuple[str, str], Cell] = field(default_factory=dict)

    def reason(self, dataset: str, conditions: list[str] = ()) -> str:
        """Why the dataset's cell says what it says. Where the dataset has several conditions (a size study's
        sizes, given in the order to read them), each condition's reasons come under its name and verdict, since
        the same pairs recur once per condition; a condition the claim did not judge is left out."""
        if len(conditions) < 2:
            return self.cells[dataset].reason
        cells = [(c, self.by_condition[dataset, c]) for c in conditions if (dataset, c) in self.by_condition]
        return " ".join(f"[{condition}: {cell.verdict}] {cell.reason}" for condition, cell in cells if cell.reason)


@dataclass(frozen=True)
class ClaimSpec:
    """A registered claim: its number in the lecture's order, what it says, and how it is judged."""

    number: int
    key: str            # short name used in file names (claim3_curves_F1k.png)
    statement: str      # the claim as one sentence
    quote: str          # the lecture's words
    method: str         # how the verdict is reached, in two or three sentences
    presets: tuple[str, ...]
    lecture: bool       # False: one of the suite's own controls
    judge: Callable[[Tables], Finding]


REGISTRY: list[ClaimSpec] = []


def register(number: int, key: str, statement: str, quote: str, method: str, presets: tuple[str, ...] = (),
             lecture: bool = True) -> Callable[[Callable[[Tables], Finding]], Callable[[Tables], Finding]]:
    """Decorator: add the judge function to REGISTRY (kept in number order)."""
    def add(judge: Callable[[Tables], Finding]) -> Callable[[Tables], Finding]:
        if any(spec.number == number for spec in REGISTRY):
            raise ValueError(f"claim number {number} is registered twice")
        REGISTRY.append(ClaimSpec(number, key, statement, quote, method, presets, lecture, judge))
        REGISTRY.sort(key=lambda spec: spec.number)
        return judge
    return add


def judge_all(tables: Tables, datasets: list[str], numbers: list[int] | None = None) -> list[Finding]:
    """Every registered claim judged (or those `numbers` name: a study's declared claims); datasets without a
    cell get `not run`."""
    findings = []
    for spec in REGISTRY:
        if numbers is not None and spec.number not in numbers:
            continue
        finding = spec.judge(tables)
        finding.spec = spec
        finding.cells = {d: finding.cells.get(d, Cell(NOT_RUN, "", _not_run(spec))) for d in datasets}
        findings.append(finding)
    return findings


def headline_row(rows: list[dict], dataset: str, verdict: str) -> dict | None:
    """The deciding effect a dataset's cell shows: one whose own verdict is the cell's (the smallest p among
    them), else the deciding effect with the smallest p."""
    deciding = [r for r in rows if r["dataset"] == dataset and r["kind"] == "decides"]
    agreeing = [r for r in deciding if r["verdict"] == verdict] or deciding
    return min(agreeing, key=lambda r: (r["p"] if r["p"] == r["p"] else 2.0), default=None)


def row_effect(row: dict) -> Effect:
    """The effect a row of effects.csv holds, for printing: its interval clipped to its measure's span (a row without
    one, e.g. from a claim that declares no range, prints as computed)."""
    span = (row.get("span_low", float("-inf")), row.get("span_high", float("inf")))
    return Effect(row["mean"], 0.0, row["n"], row["p"], row["test"], row["low"], row["high"], span=span)


def effect_text(row: dict | None) -> str:
    """'dense - conv_flatten gap at stop +0.077 [+0.066, +0.087]'."""
    if row is None:
        return ""
    return f"{row['comparison']} {row['measure']} {row_effect(row)}"


def cell_of(rows: list[dict], dataset: str, verdict: str, reasons: list[str]) -> Cell:
    """A dataset's or a condition's cell: its verdict, the headline of the effect `rows` it rests on, its reasons."""
    return Cell(verdict, effect_text(headline_row(rows, dataset, verdict)), "; ".join(reasons))


def _not_run(spec: ClaimSpec) -> str:
    return f"no runs for it: run the {' or '.join(spec.presets)} preset" if spec.presets else "no runs for it"
