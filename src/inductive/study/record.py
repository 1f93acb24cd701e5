"""`record`: a results folder's README (results/reference/README.md) from its template, the study files and reports.

The studies are every study file whose results folder lies in the README's folder. Each study that has read a
dataset whole offers, for that dataset, the verdicts its `record` names (claims, and training sizes); where several
offer a verdict for one claim x dataset x size, a study replaces those its `replaces` names (and what they replace),
and two studies that do not replace one another are an error: the files must say which is of record. Every number
comes from saved tables: each report's glance.csv (size_verdicts.csv for a study over several training sizes) and
the kept jobs' runs.csv.

Template placeholders: `<!-- record -->` the verdicts of record, `<!-- by size -->` the same for each claim that a
study gives of record at more than one training size, one column per size (with each study's check beside them and
each registered but unread dataset's progress), `<!-- claims NAME -->` study NAME's own verdicts, `<!-- studies -->`
one row per study: its design and, per dataset, its report and jobs.

The repository's README.md shows the verdicts of record too, in brief (the verdict and the study that gave it),
between its `<!-- verdicts -->` and `<!-- end verdicts -->` lines: `update_readme` rewrites only those lines.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from inductive.errors import ConfigError
from inductive.evidence.claims import REGISTRY
from inductive.evidence.stats import CLIPPED, CLIPPED_NOTE
from inductive.evidence.style import DATASET_NAMES
from inductive.study import reading, spec, store
from inductive.study.spec import Study

PLACEHOLDER = re.compile(r"<!-- (record|by size|studies|claims ([A-Za-z0-9_.-]+)) -->")
STUDY_MARK = re.compile(r"\([^)]*\)")  # "(replication)": how `of_record` marks the study a verdict is from
NOT_JUDGED = "not judged"


@dataclass
class Read:
    """A study, where its tables are, the datasets it has read whole, and its verdicts (one row per claim x dataset
    x size: claim number, claim text, dataset, train_size, verdict, effect)."""

    study: Study
    place: store.Place
    found: list[store.JobState]
    whole: list[str]
    verdicts: pd.DataFrame

    @property
    def report(self) -> Path:
        return self.place.results / "report" / "report.md"


def studies_in(folder: Path) -> list[Study]:
    """Every study whose results lie in `folder`, earliest registered first (a study after those it follows,
    replaces or pools)."""
    found = []
    for name in spec.study_names():
        study = spec.load(name)
        if store.Place.of(study).results.resolve().is_relative_to(folder.resolve()):
            found.append(study)
    by_name = {s.name: s for s in found}

    def depth(study: Study) -> int:
        before = [by_name[n] for n in (*study.follows, *study.replaces, *study.pools) if n in by_name]
        return 1 + max(map(depth, before), default=0)

    return sorted(found, key=lambda s: (s.registered, depth(s), s.name))


def _claim_number(text: object) -> int:
    return int(str(text).split(".", 1)[0])


def _dataset_key(text: str) -> str:
    keys = {name: key for key, name in DATASET_NAMES.items()}
    return keys.get(text, text)


def saved_verdicts(study: Study, place: store.Place) -> pd.DataFrame:
    """The report's verdicts per claim x dataset x training size, from the tables it saved (empty: no report)."""
    columns = ["number", "claim", "dataset", "train_size", "verdict", "effect"]
    out = place.results / "report"
    if len(study.train_sizes) == 1:
        source, size = out / "glance.csv", study.train_sizes[0]
    else:
        source, size = out / "size_verdicts.csv", None
    if not source.is_file():
        return pd.DataFrame(columns=columns)
    table = pd.read_csv(source, dtype={"verdict": str, "effect": str}, keep_default_na=False)
    missing = {"claim", "dataset", "verdict", "effect"} - set(table.columns) | (
        {"train_size"} - set(table.columns) if size is None else set())
    if missing:
        raise ConfigError(f"{source}: lacks the columns {sorted(missing)}: read the study again "
                          f"(python -m inductive.study read {study.name})")
    table = table.assign(number=table["claim"].map(_claim_number), dataset=table["dataset"].map(_dataset_key))
    if size is not None:
        table = table.assign(train_size=size)
    return table[columns]


def read_state(study: Study) -> Read:
    place = store.Place.of(study)
    found = store.states(study, place)
    whole, _ = reading.whole_datasets(study, found)
    for other, _, other_found in reading.pooled(study)[1:]:
        whole = [d for d in whole if d in reading.whole_datasets(other, other_found)[0]]
    verdicts = saved_verdicts(study, place)
    read = [d for d in whole if d in set(verdicts["dataset"])]  # whole, and its report has it
    return Read(study, place, found, read, verdicts[verdicts["dataset"].isin(read)])


def replaced_by(study: Study, studies: dict[str, Study]) -> set[str]:
    """Every study `study` replaces, directly or through those it replaces."""
    out, todo = set(), list(study.replaces)
    while todo:
        name = todo.pop()
        if name not in out:
            out.add(name)
            todo += studies[name].replaces if name in studies else []
    return out


def label(study: Study) -> str:
    """How a verdict of record names its study: the name less a first word it shares with a study it follows or
    replaces (evidence_replication, after evidence_second_look: "replication"), underscores as spaces."""
    words = study.name.split("_")
    if len(words) > 1 and any(other.split("_")[0] == words[0] for other in (*study.replaces, *study.follows)):
        words = words[1:]
    return " ".join(words)


def of_record(reads: list[Read]) -> pd.DataFrame:
    """The verdict of record per claim x dataset x training size, its effect marked with the study it comes from."""
    studies = {r.study.name: r.study for r in reads}
    offers: dict[tuple, list[tuple[Study, pd.Series]]] = {}
    for r in reads:
        record = r.study.record
        for _, row in r.verdicts.iterrows():
            sizes = record.train_sizes
            if row["number"] in record.claims and (sizes is None or row["train_size"] in sizes):
                offers.setdefault((row["number"], row["dataset"], row["train_size"]), []).append((r.study, row))
    rows = []
    for (number, dataset, size), offered in offers.items():
        gone = set().union(*(replaced_by(study, studies) for study, _ in offered))
        left = [(study, row) for study, row in offered if study.name not in gone]
        if len(left) > 1:
            names = [study.name for study, _ in left]
            raise ConfigError(f"claim {number} on {dataset} at {size} images: {' and '.join(names)} both give the "
                              f"verdict of record and neither replaces the other: add `replaces: [{names[0]}]` to "
                              f"configs/study/{names[1]}.yaml (or narrow one's `record`)")
        study, row = left[0]
        rows.append(row.to_dict() | {"effect": f"({label(study)}) {row['effect']}"})
    # A claim of record at a size its study ran and read the dataset at, judged at another of its sizes but not at
    # this one (data_size skips local at 9,000 images): "not judged", not left out as if never registered there.
    # A claim a read dataset judged at no size gets no row (the older studies judge every claim they register).
    seen = set(offers)
    for r in reads:
        judged = r.verdicts.groupby(["number", "dataset", "claim"], sort=False).groups if not r.verdicts.empty else {}
        for number, dataset, claim in judged:
            for size in sorted(set(sizes_of_record(r.study)) & set(r.study.train_sizes) - {None}):
                if number in r.study.record.claims and (number, dataset, size) not in seen:
                    seen.add((number, dataset, size))
                    rows.append({"number": number, "claim": claim, "dataset": dataset, "train_size": size,
                                 "verdict": NOT_JUDGED, "effect": f"({label(r.study)})"})
    return pd.DataFrame(rows, columns=["number", "claim", "dataset", "train_size", "verdict", "effect"])


def claims_table(verdicts: pd.DataFrame) -> str:
    """Claims x datasets, each cell the verdict and its deciding effect."""
    ordered = verdicts.sort_values("number", kind="stable")
    verdict = ordered["verdict"].where(ordered["verdict"] == NOT_JUDGED, "**" + ordered["verdict"] + "**")
    cells = ordered.assign(cell=verdict + " " + ordered["effect"].fillna(""))
    table = cells.pivot_table(index="claim", columns="dataset", values="cell", aggfunc="first", sort=False)
    table = table.reindex(columns=[*(d for d in DATASET_NAMES if d in table.columns),
                                   *(d for d in table.columns if d not in DATASET_NAMES)])
    lines = ["| claim | " + " | ".join(DATASET_NAMES.get(d, d) for d in table.columns) + " |",
             "|---|" + "---|" * len(table.columns)]
    lines += [f"| {claim} | " + " | ".join(str(v).replace("|", "\\|") for v in row.fillna("")) + " |"
              for claim, row in table.iterrows()]
    if cells["cell"].str.contains(CLIPPED, regex=False).any():
        lines += ["", CLIPPED_NOTE]
    return "\n".join(lines)


def _size(size: object) -> str:
    return "all" if size is None or pd.isna(size) else f"{int(size):,}"


def size_tables(verdicts: pd.DataFrame) -> str:
    """One claims table, or one per training size where the verdicts span several."""
    sizes = sorted(verdicts["train_size"].unique(), key=lambda s: (pd.isna(s), s))
    if len(sizes) == 1:
        return claims_table(verdicts)
    return "\n\n".join(f"At {_size(size)} training images:\n\n" + claims_table(verdicts[verdicts["train_size"] == size])
                       for size in sizes)


def record_tables(reads: list[Read]) -> str:
    record = of_record(reads)
    return size_tables(record) if not record.empty else "Not decided yet: no study has read a dataset whole."


def sizes_of_record(study: Study) -> list[int | None]:
    """The training sizes at which the claims of a study's `record` are of record: those it names, else all it ran."""
    return list(study.train_sizes if study.record.train_sizes is None else study.record.train_sizes)


def _at(table: pd.DataFrame, number: int, dataset: str, size: int | None) -> pd.DataFrame:
    same_size = table["train_size"].isna() if size is None else table["train_size"] == size
    return table[(table["number"] == number) & (table["dataset"] == dataset) & same_size]


def progress(r: Read, dataset: str, size: int | None = None) -> str:
    """How far a study is with a dataset it has not read (at one training size, where given): its jobs kept, since
    a dataset is read only whole."""
    mine = [s for s in r.found if s.job.dataset == dataset and (size is None or s.job.train_size == size)]
    done = sum(s.state == "done" for s in mine)
    if done == len(mine):
        return f"all {done} jobs kept, not read yet"
    return f"running, {done} of {len(mine)} jobs kept" if done else f"not run yet, 0 of {len(mine)} jobs kept"


def said(r: Read, number: int, dataset: str, size: int | None) -> str:
    """What one study says of a claim x dataset x size: its verdict once it has read the dataset, else its progress."""
    if dataset not in r.whole:
        return f"{progress(r, dataset, size)} ({label(r.study)})"
    found = _at(r.verdicts, number, dataset, size)
    verdict = f"**{found['verdict'].iloc[0]}**" if not found.empty else NOT_JUDGED
    return f"{verdict} ({label(r.study)})"


def size_cell(reads: list[Read], record: pd.DataFrame, number: int, dataset: str, size: int | None) -> str:
    """The verdict of record (or, until there is one, what each study registered to give it says), then each check:
    a study that decides the claim at this size without giving it of record here (data_size at 1,000 images)."""
    given = _at(record, number, dataset, size)
    given = given[given["verdict"] != NOT_JUDGED]  # said() names it, as for a study that is no verdict of record
    parts = [f"**{row.verdict}** {STUDY_MARK.match(row.effect).group(0)}" for row in given.itertuples()]
    for r in reads:
        study = r.study
        if number not in study.claims or dataset not in study.datasets or size not in study.train_sizes:
            continue
        if number not in study.record.claims or size not in sizes_of_record(study):
            parts.append("check: " + said(r, number, dataset, size))
        elif given.empty:
            parts.append(said(r, number, dataset, size))
    return "; ".join(parts)


def by_size_table(reads: list[Read]) -> str:
    """Claim x dataset rows, a column per training size, for the claims some study gives of record at more than
    one size: so that the README states each such claim at each size, decided or not yet."""
    sizes: dict[int, set] = {}
    datasets: dict[int, list[str]] = {}
    for r in reads:
        for number in r.study.record.claims:
            sizes.setdefault(number, set()).update(sizes_of_record(r.study))
            datasets.setdefault(number, []).extend(r.study.datasets)
    claims = sorted(number for number, found in sizes.items() if len(found) > 1)
    if not claims:
        return "No study gives a claim of record at more than one training size."
    columns = sorted(set().union(*(sizes[n] for n in claims)), key=lambda s: (s is None, s or 0))
    record = of_record(reads)
    names = {claim.number: f"{claim.number}. {claim.statement}" for claim in REGISTRY}
    lines = ["| claim | dataset | " + " | ".join(_size(s) for s in columns) + " |",
             "|---|---|" + "---|" * len(columns)]
    lines += [f"| {names[number]} | {DATASET_NAMES.get(dataset, dataset)} | "
              + " | ".join(size_cell(reads, record, number, dataset, size) for size in columns) + " |"
              for number in claims for dataset in _ordered(datasets[number])]
    return "\n".join(lines)


def study_table(r: Read) -> str:
    if r.verdicts.empty:
        done = sum(s.state == "done" for s in r.found)
        return (f"Not read yet: {done} of {len(r.found)} jobs kept "
                f"(`python -m inductive.study run {r.study.name}`, then `read {r.study.name}`).")
    return size_tables(r.verdicts)


def _seeds(seeds: list[int]) -> str:
    from inductive.evidence.report import seed_list

    return seed_list(pd.Series(seeds))


def design(study: Study) -> str:
    sizes = ", ".join(_size(s) for s in study.train_sizes)
    pooled = f" (read with {', '.join(f'`{p}`' for p in study.pools)}'s jobs)" if study.pools else ""
    claims = f"claim{'s' * (len(study.claims) > 1)} {_seeds(study.claims)}"
    return (f"{claims}; {len(study.models)} models x seeds {_seeds(study.seeds)}{pooled} at "
            f"{sizes} training images; alpha {study.alpha:g}; registered {study.registered}")


def job_cell(r: Read, dataset: str, folder: Path) -> str:
    mine = [s for s in r.found if s.job.dataset == dataset]
    if not mine:
        return ""
    done = [s for s in mine if s.state == "done"]
    hours = sum(s.seconds or 0.0 for s in done) / 3600
    jobs = f"{len(done)} of {len(mine)} jobs, {hours:.2f} h of job time"
    if dataset in r.whole:
        return f"[report]({_relative(r.report, folder)}): {jobs}"
    if len(done) == len(mine):
        return f"{jobs}; kept whole, not read yet"
    return f"under way: {jobs} kept, unread until all have run" if done else f"not run yet ({len(mine)} jobs)"


def _ordered(datasets: list[str]) -> list[str]:
    """Each dataset once, the known ones in their usual order first."""
    found = list(dict.fromkeys(datasets))
    return [*(d for d in DATASET_NAMES if d in found), *(d for d in found if d not in DATASET_NAMES)]


def studies_table(reads: list[Read], folder: Path) -> str:
    datasets = _ordered([d for r in reads for d in r.study.datasets])
    lines = ["| study | design | " + " | ".join(DATASET_NAMES.get(d, d) for d in datasets) + " |",
             "|---|---|" + "---|" * len(datasets)]
    for r in reads:
        lines.append(f"| [`{r.study.name}`]({_relative(r.study.path, folder)}) | {design(r.study)} | "
                     + " | ".join(job_cell(r, d, folder) for d in datasets) + " |")
    return "\n".join(lines)


def _relative(path: Path, folder: Path) -> str:
    """`path` as a link from a file in `folder`."""
    return Path(os.path.relpath(path.resolve(), folder.resolve())).as_posix()


def write(template: Path, out: Path | None = None) -> Path:
    """Fill `template`'s placeholders; write it beside the template as README.md (or to `out`)."""
    try:
        text = template.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"--template {template}: cannot read it ({type(err).__name__}): give the README's "
                          "template, e.g. results/reference/README.template.md") from None
    folder = template.parent
    reads = [read_state(study) for study in studies_in(folder)]
    by_name = {r.study.name: r for r in reads}

    def fill(match: re.Match) -> str:
        if match.group(1) == "record":
            return record_tables(reads)
        if match.group(1) == "by size":
            return by_size_table(reads)
        if match.group(1) == "studies":
            return studies_table(reads, folder)
        name = match.group(2)
        if name not in by_name:
            raise ConfigError(f"{template}: <!-- claims {name} -->: no study {name!r} keeps its results in {folder} "
                              f"(the studies there: {sorted(by_name)})")
        return study_table(by_name[name])

    out = out or folder / "README.md"
    out.write_text(PLACEHOLDER.sub(fill, text), encoding="utf-8")
    return out


README_SPAN = re.compile(r"(<!-- verdicts -->\n).*?(<!-- end verdicts -->)", re.S)


def brief_table(record: pd.DataFrame) -> str:
    """Claims x datasets x sizes, each cell the verdict word and the study that gave it: the README's glance."""
    brief = record.assign(effect=record["effect"].str.extract(r"^(\([^)]*\))", expand=False).fillna(""))
    return size_tables(brief)


def update_readme(readme: Path, template: Path) -> bool:
    """Rewrite the verdicts between README's markers from the studies kept beside `template`; False without markers."""
    try:
        text = readme.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    if not README_SPAN.search(text):
        return False
    record = of_record([read_state(study) for study in studies_in(template.parent)])
    table = brief_table(record) if not record.empty else "Not decided yet: no study has read a dataset whole."
    readme.write_text(README_SPAN.sub(lambda m: m.group(1) + table + "\n" + m.group(2), text), encoding="utf-8")
    return True
