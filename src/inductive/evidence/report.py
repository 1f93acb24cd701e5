"""`python -m inductive.report SWEEP_DIR [SWEEP_DIR ...] [out=DIR] [lecture=DIR] [note=FILE.md] [alpha=A]`.

Reads every run folder below the folders given (`tables`), judges every registered claim (`claims`),
and writes into `report/` inside the first folder (or `out=DIR`): the tidy tables (runs, epochs,
layers, shifts, effects) and each claim's own tables as CSV and Parquet, every figure as PNG and SVG,
and report.md (with report.html beside it: the same, one self-contained file with the figures inlined),
which opens with the claims x datasets verdicts. `lecture=DIR` is where
`python -m inductive.conv_questions` wrote its Keras checks (default results/conv_questions).
A folder an earlier report wrote (its runs.csv, epochs.csv, layers.csv, shifts.csv) may be given in place
of its sweep: its runs join the others. `alpha=A` is the family-wise error per claim and condition
(default 0.05; 0.025 for the pre-registered second look: configs/experiment/evidence_second_look.yaml).
No TensorFlow is imported.
"""

from __future__ import annotations

import logging
import math
import sys
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from inductive.arguments import output_path, read_input, split
from inductive.errors import ConfigError, ReportError
from inductive.evidence import figures, html, stats
from inductive.evidence.claims import REGISTRY, Finding, headline_row, judge_all, row_effect
from inductive.evidence.claims.structure import LECTURE_RESULTS
from inductive.evidence.kept import save_table
from inductive.evidence.style import DATASET_NAMES
from inductive.evidence.tables import Tables, collect

log = logging.getLogger("inductive.report")
TITLE = "The lecture's claims, tested"
Answer = Callable[[Tables, list[Finding], Path], list[str]]

USAGE = ("usage: python -m inductive.report SWEEP_DIR [SWEEP_DIR ...] [out=DIR] [lecture=DIR] [note=FILE.md] "
         "[alpha=A]")


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return f"{value:,.0f}" if value.is_integer() and abs(value) >= 1 else f"{value:.3f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(table: pd.DataFrame) -> str:
    lines = ["| " + " | ".join(map(str, table.columns)) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines)


def seed_list(seeds: pd.Series) -> str:
    """[0, 1, 2, 3, 4, 7] -> '0-4, 7'."""
    values, parts = sorted({int(s) for s in seeds.dropna()}), []
    for value in values:
        if parts and value == parts[-1][1] + 1:
            parts[-1][1] = value
        else:
            parts.append([value, value])
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in parts)


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def summary_table(findings: list[Finding], datasets: list[str]) -> pd.DataFrame:
    rows = []
    for f in findings:
        row = {"#": f.spec.number if f.spec.lecture else "control", "claim": f.spec.statement}
        for d in datasets:
            cell = f.cells[d]
            row[DATASET_NAMES.get(d, d)] = f"**{cell.verdict}**" + (f" {cell.effect}" if cell.effect else "")
        rows.append(row)
    return pd.DataFrame(rows)


def conditions_by_size(runs: pd.DataFrame) -> dict[str, list[str]]:
    """dataset -> its conditions, smallest training size first (condition ids sort as strings: F16k before F1k)."""
    sizes = pd.to_numeric(runs["train_size"], errors="coerce") if "train_size" in runs else pd.Series(index=runs.index)
    order = runs.assign(_size=sizes).sort_values("_size", kind="stable", na_position="last")
    return {d: list(dict.fromkeys(part["condition"])) for d, part in order.groupby("dataset", sort=False)}


def reasons(findings: list[Finding], datasets: list[str], conditions: dict[str, list[str]] | None = None) -> list[str]:
    """One line per claim and dataset that was judged: why the cell says what it says."""
    lines = []
    for f in findings:
        for d in datasets:
            cell = f.cells[d]
            if cell.verdict != "not run" and cell.reason:
                label = f.spec.number if f.spec.lecture else f"control {f.spec.number}"
                lines.append(f"- **{label}, {DATASET_NAMES.get(d, d)}**: {f.reason(d, (conditions or {}).get(d, ()))}")
    return lines


def contradictions(effects: pd.DataFrame) -> list[str]:
    """Every effect whose interval lies below 0 (against the lecture), deciding or context."""
    against = effects[effects["high"] < 0].to_dict("records")
    return [f"- Claim {r['claim']}, {r['dataset']} {r['condition']}: {r['comparison']}, {r['measure']} {row_effect(r)} "
            f"({r['kind']}" + (f"; {r['note']}" if isinstance(r["note"], str) and r["note"] else "") + ")"
            for r in against]


def conditions_table(tables: Tables) -> pd.DataFrame:
    runs = tables.runs
    return (runs.groupby(["condition", "condition_label"], sort=False)
            .agg(runs=("run_id", "size"), completed=("status", lambda s: int((s == "completed").sum())),
                 models=("model", lambda m: ", ".join(dict.fromkeys(m.dropna()))), seeds=("seed", seed_list))
            .reset_index().rename(columns={"condition_label": "what it is"}))


def claim_heading(spec) -> str:
    """'3. Conv architectures overfit ...' for a lecture claim; 'Control 8: weight sharing ...' for a control."""
    if spec.lecture:
        return f"{spec.number}. {spec.statement}"
    return f"Control {spec.number}: {spec.statement.removeprefix('Control: ')}"


def claim_section(finding: Finding, drawn: list[Path], datasets: list[str],
                  conditions: dict[str, list[str]] | None = None) -> list[str]:
    """A claim in the body: the lecture's words, how it is judged, the verdict per dataset and its slides."""
    spec = finding.spec
    heading = f"## {claim_heading(spec)}"
    lines = [heading, "", f"> {spec.quote}", "", spec.method, ""]
    for d in datasets:
        cell = finding.cells[d]
        reason = f". {finding.reason(d, (conditions or {}).get(d, ()))}" if cell.reason else ""
        lines.append(f"- **{DATASET_NAMES.get(d, d)}: {cell.verdict}**{reason}")
    lines += ["", *[f"![{p.stem}]({p.name})" for p in drawn if p.suffix == ".png"], ""]
    return lines + [f"- {note}" for note in finding.notes]


def appendix_section(finding: Finding) -> list[str]:
    """A claim's evidence tables, per condition: what the verdicts rest on, for whoever checks them."""
    spec, lines = finding.spec, []
    for name in ("verdicts", "per_model"):
        table = finding.tables.get(name)
        if table is not None and not table.empty:
            lines += ["", markdown_table(table)]
    others = [n for n in finding.tables if n not in ("verdicts", "per_model")]
    if others:
        lines += ["", "Tables: " + ", ".join(f"[claim{spec.number}_{n}.csv](claim{spec.number}_{n}.csv)" for n in others)]
    return [f"### {claim_heading(spec)}", *lines, ""] if lines else []


def render(command: str, tables: Tables, findings: list[Finding], effects: pd.DataFrame, drawn: dict[int, list[Path]],
           datasets: list[str], note: str = "", title: str = TITLE, answer: list[str] = (),
           exploratory: bool = False) -> str:
    runs = tables.runs
    counts = ", ".join([*(f"{n} {s}" for s, n in runs["status"].value_counts().items()),
                        *([f"{len(tables.not_started)} never started"] if tables.not_started else [])])
    verdicts = markdown_table(summary_table(findings, datasets))
    conditions = conditions_by_size(runs)
    if any(len(conditions.get(d, ())) > 1 for d in datasets):  # a size study: several conditions per dataset
        verdicts += ("\n\nEach cell is the claim's verdict over all of the dataset's conditions together, with the "
                     "effect it rests on; the verdict and effect at each condition, which can differ from it, are "
                     "below.")
    lines = [f"# {title}", "",
             *([note.strip(), ""] if note.strip() else []),
             *(exploratory_label() if exploratory else []),
             verdicts, "",
             *(protocol_lines(runs) if exploratory else []),
             *answer,
             "Why:", "", *reasons(findings, datasets, conditions), "",
             "![claims at a glance](glance.png)", "", "![effects at a glance](glance_effects.png)", "",
             "## How verdicts are made", "",
             *[f"{i}. {rule}" for i, rule in enumerate(stats.rules(tables.alpha, tables.family), start=1)], "",
             "## Where our runs contradict the lecture", "",
             *(contradictions(effects) or ["Nowhere: no effect's interval lies on the other side of 0."]), "",
             "## Conditions", "", markdown_table(conditions_table(tables)), ""]
    for finding in findings:
        lines += claim_section(finding, drawn.get(finding.spec.number, []), datasets, conditions) + [""]
    lines += ["## Appendix: the evidence per claim and condition", ""]
    for finding in findings:
        lines += appendix_section(finding)
    left_out = runs[runs["status"] != "completed"]
    lines += ["## Appendix: what was read", "",
              f"`{command}`: {plural(len(runs), 'run')} ({counts}), seeds {seed_list(runs['seed'])}.", ""]
    lines += ["## Appendix: runs left out of the statistics", "",
              markdown_table(left_out[["run_id", "status", "epochs_run", "error"]]) if not left_out.empty
              else "None: every run completed.", ""]
    if tables.not_started:
        lines += [f"Planned in the sweep's multirun.yaml but never started ({len(tables.not_started)}): run the "
                  "sweep's command again to finish it.", "", *[f"- `{job}`" for job in tables.not_started], ""]
    flagged = runs[runs["notes"].notna()] if "notes" in runs else runs.iloc[:0]
    if not flagged.empty:
        lines += ["Runs whose files disagree or are cut (used as read):", "",
                  markdown_table(flagged[["run_id", "status", "notes"]]), ""]
    if any(stats.CLIPPED in line for line in lines):  # one footnote, under the verdicts, for every clipped interval
        below = lines.index(verdicts) + 1
        lines[below:below] = ["", stats.CLIPPED_NOTE]
    return "\n".join(lines)


MIN_SEEDS = 5  # the evidence protocol's fewest seeds per look


def protocol_breaks(runs: pd.DataFrame) -> pd.DataFrame:
    """Per condition, which of the evidence protocol's conditions its completed runs break: what a verdict on runs
    read outside a study rests on. Empty when every condition keeps the protocol."""
    rows = []
    for condition, group in runs[runs["status"] == "completed"].groupby("condition", sort=False):
        breaks = []
        if (group.get("trainer.stop", pd.Series("fit", index=group.index)).astype(str) != "fit").any():
            breaks.append("not trained to fit (trainer.stop is not fit)")
        split = group.get("data.split_seed")
        if split is not None and group["seed"].nunique() > 1 and split.nunique() < group["seed"].nunique():
            breaks.append("seeds share one data split (data.split_seed does not follow the seed)")
        if (group.get("learning_rate_rule", pd.Series("", index=group.index)).astype(str) != "tuned").any():
            breaks.append("learning rate not tuned (configs/tuned/learning_rates.yaml)")
        seeds = group.groupby("model")["seed"].nunique().min()
        if seeds < MIN_SEEDS:
            breaks.append(f"too few seeds ({seeds} of a model; the protocol has at least {MIN_SEEDS})")
        if breaks:
            rows.append({"condition": condition, "breaks": "; ".join(breaks)})
    return pd.DataFrame(rows, columns=["condition", "breaks"])


def exploratory_label() -> list[str]:
    """The label a report of runs read outside a study carries, above its verdict table."""
    return ["**Exploratory**: these runs were read outside a study (`python -m inductive.study`), so no verdict "
            "here was registered before its runs; treat each as a lead to test in a study, not a finding.", ""]


def protocol_lines(runs: pd.DataFrame) -> list[str]:
    """Under the verdict table of an exploratory report: which protocol conditions its runs break."""
    breaks = protocol_breaks(runs)
    return [] if breaks.empty else ["Where these runs break the evidence protocol:", "", markdown_table(breaks), ""]


def headline_effects(findings: list[Finding]) -> pd.DataFrame:
    """Per statistical claim and dataset, the deciding effect its summary cell shows, coloured by its own verdict."""
    rows = []
    for f in findings:
        for dataset, cell in f.cells.items():
            row = headline_row(f.effects, dataset, cell.verdict)
            if row is not None:
                rows.append({"claim": f"{f.spec.number}. {f.spec.statement}", "dataset": DATASET_NAMES.get(dataset, dataset),
                             "measure": f"{row['comparison']}: {row['measure']}", "mean": row["mean"], "low": row["low"],
                             "high": row["high"], "span_low": row.get("span_low"), "span_high": row.get("span_high"),
                             "verdict": row["verdict"]})
    return pd.DataFrame(rows, columns=["claim", "dataset", "measure", "mean", "low", "high", "span_low", "span_high",
                                       "verdict"])


def slide_title(finding: Finding) -> str:
    """The claim and its verdict per dataset: what a slide of its evidence says in its title."""
    verdicts = "; ".join(f"{DATASET_NAMES.get(d, d)}: {c.verdict}" for d, c in finding.cells.items())
    return f"{finding.spec.number}. {finding.spec.statement} ({verdicts})"


def draw(findings: list[Finding], out: Path, stamp: str = "") -> dict[int, list[Path]]:
    drawn = {}
    for f in findings:
        n, paths = f.spec.number, []
        for kind, name in f.figures:
            table = f.tables.get(name)
            if table is not None and not table.empty:
                paths += figures.per_condition(kind, table, slide_title(f) + stamp, out / f"claim{n}_{kind}")
        drawn[n] = paths
    return drawn


def build_report(roots: list[Path], out: Path | None = None, lecture: Path = LECTURE_RESULTS,
                 command: str | None = None, note: Path | None = None, alpha: float = stats.ALPHA,
                 claims: list[int] | None = None, title: str = TITLE, preface: str = "", family: str = "condition",
                 answer: Answer | None = None, exploratory: bool = False, stamp: str = "") -> Path:
    """Collect, judge, write tables, figures and report.md; returns its path.

    `note`: a Markdown file printed under the title, for what the runs cannot say about themselves
    (e.g. that a dataset copy's test images were decoded from JPEG). A study's read also gives the `claims` it
    declared (the others are not judged), its question as `title`, `preface` text, the Holm `family`, and an
    `answer`: a function of the tables, findings and folder returning the Markdown lines (and drawing the
    figures) that answer the question, placed under the verdict table. `stamp` is appended to every figure's title
    (a peek's "(partial: not of record)")."""
    out = output_path("out", out or roots[0] / "report", "folder", may_hold="an earlier report's files",
                      example="a folder like outputs/report")
    if any(out.resolve() == root.resolve() for root in roots):
        raise ReportError(f"out={out} is one of the folders read: write the report elsewhere, so that what it "
                          "reads stays as it was")
    note_text = "\n\n".join(filter(None, (preface.strip(), read_note(note).strip())))
    equivalence = read_equivalence(lecture)
    tables = collect(roots)
    tables.alpha = alpha
    tables.family = family
    tables.equivalence = equivalence
    known = list(DATASET_NAMES)  # the usual order in every table and figure; other datasets after, as found
    datasets = sorted(dict.fromkeys(tables.runs["dataset"].dropna()),
                      key=lambda d: known.index(d) if d in known else len(known))
    out.mkdir(parents=True, exist_ok=True)
    findings = judge_all(tables, datasets, claims)
    effects = pd.DataFrame([row for f in findings for row in f.effects],
                           columns=["claim", "dataset", "condition", "comparison", "measure", "kind", "unit", "band",
                                    "span_low", "span_high", "mean", "low", "high", "level", "n", "p", "test",
                                    "verdict", "note"])
    for name, table in {"runs": tables.runs, "epochs": tables.epochs, "layers": tables.layers,
                        "shifts": tables.shifts, "effects": effects}.items():
        save_table(table, out, name)
    for f in findings:
        for name, table in f.tables.items():
            if not table.empty:
                save_table(table, out, f"claim{f.spec.number}_{name}")
        f.tables = {name: table for name, table in f.tables.items() if not table.empty}
    glance = pd.DataFrame([{"claim": f"{f.spec.number}. {f.spec.statement}", "dataset": DATASET_NAMES.get(d, d),
                            "verdict": c.verdict, "effect": c.effect} for f in findings for d, c in f.cells.items()])
    save_table(glance, out, "glance")
    figures.glance(glance, f"At a glance: {title}{stamp}", out / "glance")  # reads well before a question or not
    headline = headline_effects(findings)
    save_table(headline, out, "glance_effects")
    figures.glance_effects(headline, "Effects behind the statistical verdicts" + stamp, out / "glance_effects")
    drawn = draw(findings, out, stamp)
    answered = list(answer(tables, findings, out)) if answer else []
    path = out / "report.md"
    path.write_text(render(command or "python -m inductive.report " + " ".join(map(str, roots)), tables, findings,
                           effects, drawn, datasets, note_text, title, answered, exploratory))
    (out / "report.html").write_text(html.page(path.read_text(), out, title), encoding="utf-8")
    return path


def read_note(note: Path | None) -> str:
    if note is None:
        return ""
    return read_input(note, lambda path: path.read_text(encoding="utf-8"), "a UTF-8 Markdown file", f"note={note}")


EQUIVALENCE_COLUMNS = ("conv_params", "dense_params", "max_abs_diff")


def read_equivalence(lecture: Path) -> pd.DataFrame | None:
    """The Keras conv == dense check `python -m inductive.conv_questions` wrote into `lecture` (None: not there)."""
    path = lecture / "equivalence.csv"
    if not path.is_file():
        return None

    def read(csv: Path) -> pd.DataFrame:
        table = pd.read_csv(csv)
        missing = [c for c in EQUIVALENCE_COLUMNS if c not in table]
        numbers = table.reindex(columns=list(EQUIVALENCE_COLUMNS)).apply(pd.to_numeric, errors="coerce")
        if missing or numbers.isna().any().any():
            raise ValueError(f"needs numbers in the columns {', '.join(EQUIVALENCE_COLUMNS)}")
        return table

    return read_input(path, read, "the Keras check table conv_questions writes", f"lecture={lecture}")


def parse_alpha(value: str) -> float:
    try:
        alpha = float(value)
    except ValueError:
        alpha = math.nan
    if not 0 < alpha <= 0.2:
        raise ReportError(f"alpha={value}: expected a family-wise error between 0 and 0.2, e.g. alpha=0.05 "
                          "(the default) or alpha=0.025 (a second look)")
    return alpha


OPTIONS = {"out": "DIR", "lecture": "DIR", "note": "FILE.md", "alpha": "A"}


def parse_args(argv: list[str]) -> tuple[list[Path], Path | None, Path, Path | None, float]:
    folders, given = split(argv, OPTIONS, USAGE)
    if not folders:
        raise ReportError(f"no sweep folder given. {USAGE}")
    lecture = Path(given.get("lecture", LECTURE_RESULTS))
    if "lecture" in given and not lecture.is_dir():
        raise ReportError(f"lecture={lecture}: no such folder; give the folder `python -m inductive.conv_questions` "
                          f"wrote (default {LECTURE_RESULTS})")
    return ([Path(f) for f in folders], Path(given["out"]) if "out" in given else None, lecture,
            Path(given["note"]) if "note" in given else None, parse_alpha(given.get("alpha", str(stats.ALPHA))))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("-h", "--help"):
        print(USAGE + "\n\n" + __doc__.split("\n\n", 1)[1])
        print("Claims:\n" + "\n".join(f"  {s.number}. {s.statement}" for s in REGISTRY))
        return 0
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        roots, out, lecture, note, alpha = parse_args(argv)
        path = build_report(roots, out, lecture, "python -m inductive.report " + " ".join(argv), note, alpha,
                            exploratory=True)
    except ConfigError as err:  # ReportError is one
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"report: {path}\nreport: {path.with_name('report.html')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
