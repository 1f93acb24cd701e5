"""`read`: the study's report at its registered alpha and family, over the datasets whose grid is whole.

A dataset is read only when every registered job of it is done (kept): a look is read whole or not at all.
`--peek` reads whatever is kept into a separate folder and stamps every output "partial: not of record".
The report opens with the study's question and judges only the claims the study declares; where the grid
has several training-set sizes, it answers per size (`evidence.sizes`).
"""

from __future__ import annotations

from pathlib import Path

from inductive.errors import ConfigError
from inductive.study import store
from inductive.study.spec import Study

PARTIAL = "partial: not of record"


def whole_datasets(study: Study, found: list[store.JobState]) -> tuple[list[str], dict[str, tuple[int, int]]]:
    """Datasets with every job done, and for the others (done, planned)."""
    whole, partial = [], {}
    for dataset in study.datasets:
        mine = [s for s in found if s.job.dataset == dataset]
        done = sum(s.state == "done" for s in mine)
        if done == len(mine):
            whole.append(dataset)
        else:
            partial[dataset] = (done, len(mine))
    return whole, partial


def preface(study: Study, read: list[str], partial: dict[str, tuple[int, int]], peek: bool) -> str:
    sizes = ", ".join("all" if s is None else f"{s:,}" for s in study.train_sizes)
    lines = []
    if peek:
        lines += [f"**{PARTIAL.upper()}.** A peek at a study still running: the registered read happens once each "
                  "dataset's grid is whole, and nothing here may be quoted as its verdict.", ""]
    lines += [f"Study `{study.name}` ({study.path.name}), registered {study.registered}"
              + (f", following {', '.join(study.follows)}" if study.follows else "") + ". "
              f"Claims {', '.join(map(str, study.claims))}; {len(study.jobs)} jobs: models "
              f"{', '.join(study.models)} x training sizes {sizes} x seeds {', '.join(map(str, study.seeds))} "
              f"on {', '.join(study.datasets)} (protocol `{study.protocol}`). One look at alpha {study.alpha:g}, "
              + ("Holm across sizes within each claim and dataset." if study.family == "dataset"
                 else "Holm within each claim and condition.")
              + (f" Read with the kept jobs of {', '.join(study.pools)}." if study.pools else "")
              + (f" Of record: {study.record.note}" if study.record.note else "")]
    if partial:
        lines += ["", "Not read yet: " + "; ".join(f"{d} ({done} of {planned} jobs done)"
                                                  for d, (done, planned) in partial.items()) + "."]
    for dataset in read:
        note = study.notes.get(dataset)
        if note:
            try:
                lines += ["", Path(note).read_text(encoding="utf-8").strip()]
            except (OSError, UnicodeDecodeError) as err:
                raise ConfigError(f"notes.{dataset}={note}: cannot read it as a UTF-8 Markdown file "
                                  f"({type(err).__name__})") from None
    return "\n".join(lines)


def _shown(table):
    """A table as the report shows it: datasets by their names (the CSVs keep the config names)."""
    from inductive.evidence.style import DATASET_NAMES

    return table.assign(dataset=table["dataset"].map(lambda d: DATASET_NAMES.get(d, d)))


def answer_by_size(stamp: str):
    """The per-size answer: verdicts at each size, the effect-versus-size figure, and the gap against size (figure,
    log-log) with its slopes."""
    def answer(tables, findings, out: Path) -> list[str]:
        from inductive.evidence import size_figures, sizes
        from inductive.evidence.report import markdown_table

        verdicts = sizes.size_verdicts(findings, tables.runs)
        effects = sizes.size_effects(findings, tables.runs)
        slopes = sizes.gap_slopes(tables.runs)
        for name, table in (("size_verdicts", verdicts), ("size_effects", effects), ("gap_slopes", slopes)):
            table.to_csv(out / f"{name}.csv", index=False)
        lines = ["## The answer, size by size", ""]
        if not verdicts.empty:
            wide = _shown(verdicts).assign(cell="**" + verdicts["verdict"] + "** " + verdicts["effect"].fillna(""))
            wide = wide.pivot_table(index=["claim", "dataset"], columns="train_size", values="cell", aggfunc="first",
                                    sort=False)
            wide = wide.fillna("not judged")  # a size the study skipped a model the claim needs at
            wide.columns = [f"{int(c):,} images" for c in wide.columns]
            lines += [markdown_table(wide.reset_index()), ""]
        if not effects.empty:
            drawn = size_figures.effect_vs_size(effects, f"Deciding effect against training-set size{stamp}",
                                           out / "effect_vs_size")
            lines += [f"![{p.stem}]({p.name})" for p in drawn if p.suffix == ".png"] + [""]
            lines += ["Each point is the effect its size's verdict rests on, the marker naming its comparison and "
                      "measure; a line joins two sizes only where it is the same one at both.", ""]
        if not slopes.empty:
            drawn = size_figures.gap_vs_size(tables.runs, f"Generalization gap against training-set size{stamp}",
                                        out / "gap_vs_size")
            lines += ["Generalization gap (eval-mode train accuracy at stop - test accuracy) against training-set "
                      "size, per model: the log-log slope per seed, its mean and 95% t interval over seeds "
                      "(below 0: the gap shrinks as data grows).", "", markdown_table(_shown(slopes)), ""]
            lines += [f"![{p.stem}]({p.name})" for p in drawn if p.suffix == ".png"] + [""]
        return lines
    return answer


def pooled(study: Study) -> list[tuple[Study, store.Place, list[store.JobState]]]:
    """This study and every study it pools (their own roots), each with its jobs' states."""
    from inductive.study import spec

    out = []
    for other in [study, *(spec.load(name) for name in study.pools)]:
        place = store.Place.of(other)
        out.append((other, place, store.states(other, place)))
    return out


def read(study: Study, place: store.Place, peek: bool = False) -> Path:
    from inductive.evidence.report import build_report

    found = store.states(study, place)
    others = pooled(study)[1:]
    whole, partial = whole_datasets(study, found)
    for other, _, other_found in others:  # a dataset is whole when the pooled studies' jobs of it are too
        other_whole, other_partial = whole_datasets(other, other_found)
        for dataset in list(whole):
            if dataset in other_partial:
                whole.remove(dataset)
                partial[dataset] = other_partial[dataset]
    datasets = study.datasets if peek else whole
    roots = [place.kept_dir(s.job) for s in found if s.state == "done" and s.job.dataset in datasets]
    roots += [other_place.kept_dir(s.job) for _, other_place, other_found in others for s in other_found
              if s.state == "done" and s.job.dataset in datasets]
    if not peek and not whole:
        missing = "; ".join(f"{d}: {planned - done} of {planned} jobs not done" for d, (done, planned) in partial.items())
        raise ConfigError(f"{study.name}: no dataset's grid is whole yet ({missing}); a study is read only whole: "
                          f"`python -m inductive.study run {study.name}` finishes it, `read --peek` looks early "
                          "(stamped not of record)")
    if not roots:
        raise ConfigError(f"{study.name}: nothing is kept yet: `python -m inductive.study run {study.name}` first")
    out = place.results / ("peek" if peek else "report")
    stamp = f" ({PARTIAL})" if peek else ""
    title = ("PARTIAL, NOT OF RECORD: " if peek else "") + study.question
    several_sizes = len(study.train_sizes) > 1
    path = build_report(roots, out, command=f"python -m inductive.study read {study.name}" + (" --peek" if peek else ""),
                        alpha=study.alpha, claims=study.claims, title=title,
                        preface=preface(study, datasets, {} if peek else partial, peek), family=study.family,
                        answer=answer_by_size(stamp) if several_sizes else None, stamp=stamp)
    if peek:
        (out / "PARTIAL_NOT_OF_RECORD.txt").write_text(
            f"Everything in this folder is a peek at {study.name} before its grid was whole: not of record.\n")
    return path
